/* costmodel: from model + hardware + parallel layout to op times, links and memory.
 *
 * The rules, each stage's parameters, the optimizer and memory, and the assembly of the
 * engine's setup live here; op times are cm_stage.c's (from cm_work.c's layers), collectives
 * cm_comm.c's.
 * Activations and P2P tensors are 2 bytes per element (bf16/fp16; fp8 training keeps bf16
 * activations), gradients are kept and reduced in the parameters' 16-bit type unless
 * grad-reduce-fp32 (Megatron-Core's default; --accumulate-allreduce-grads-in-fp32 makes them
 * fp32), the optimizer is mixed-precision Adam.  Every constant below says where it comes from. */
#include "costmodel.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "cm_internal.h"
#include "cm_muon.h"
#include "derive.h"
#include "flops.h"
#include "framework.h"
#include "pplayout.h"


/* ---- parameters and data parallelism --------------------------------------------------- */

void cm_layer_params(const struct cm_ctx *c, int layer, double *dense, double *expert)
{
    const struct model *m = c->m;
    double all = model_params_layer(m, layer);
    int moe = model_layer_is_moe(m, layer);
    double routed = moe ? (double)m->experts * model_weights_expert(m) : 0.0;
    double whole = model_params_tp_replicated(m, layer); /* norms, router, MLA down, ... */
    *dense = (all - routed - whole) / c->cfg->tp + whole;
    *expert = routed / ((double)c->cfg->ep * c->cfg->etp);
}

/* Weight matrices of layer `layer` on this GPU in the linear modules `mods` (enum
 * scn_linear_module bits), split as cm_layer_params splits a layer: dense (TP-sharded; the
 * LatentMoE projections whole on every rank) and routed experts. */
static void module_params(const struct cm_ctx *c, int layer, int mods, double *dense,
                          double *expert)
{
    const struct model *m = c->m;
    double t = c->cfg->tp, d = 0.0;
    enum layer_mixer mixer = model_layer_mixer(m, layer);
    enum layer_mlp mlp = model_layer_mlp(m, layer);
    if (mixer == MIXER_ATTENTION)
        d += ((mods & LM_ATTN_QKV) ? model_weights_qkv(m) : 0.0) +
             ((mods & LM_ATTN_PROJ) ? model_weights_attn_out(m) : 0.0);
    if (mixer == MIXER_MAMBA)
        d += ((mods & LM_MAMBA_IN) ? model_weights_mamba_in(m) : 0.0) +
             ((mods & LM_MAMBA_OUT) ? model_weights_mamba_out(m) : 0.0);
    if (mlp == MLP_DENSE && (mods & LM_MLP))
        d += model_weights_mlp(m, m->ffn);
    if (mlp == MLP_MOE && (mods & LM_SHARED_EXPERTS))
        d += m->shared_experts * model_weights_mlp(m, m->shared_expert_ffn);
    *dense = d / t + (mlp == MLP_MOE && (mods & LM_LATENT_PROJ) ? model_weights_latent_proj(m)
                                                                 : 0.0);
    double expert_gpus = (double)c->cfg->ep * c->cfg->etp;
    *expert = mlp == MLP_MOE && (mods & LM_EXPERTS)
                  ? (double)m->experts * model_weights_expert(m) / expert_gpus
                  : 0.0;
}

static void stage_params(const struct cm_ctx *c, struct cm_stage *st)
{
    const struct model *m = c->m;
    double dense = 0, expert = 0, largest = 0, d = 0, e = 0, nd = 0, ne = 0;
    double bd = 0, be = 0, xd = 0, xe = 0; /* of d and e, in bf16 and in MXFP8 modules */
    int muon = c->scn->optimizer_algorithm == OPTALG_MUON;
    st->narrow_dense_params = st->narrow_expert_params = st->mxfp8_params = 0.0;
    st->muon_dense_s = st->muon_expert_s = 0.0;
    for (int l = st->first_layer, kind = -1; l < st->first_layer + st->layers; l++) {
        int k = model_layer_kind(m, l, c->cfg->seq); /* one kind, one count (model.h) */
        if (k != kind) {
            cm_layer_params(c, l, &d, &e);
            module_params(c, l, c->scn->bf16_modules, &bd, &be);
            module_params(c, l, c->scn->mxfp8_modules, &xd, &xe);
            if (muon)
                cm_muon_layer_s(c, l, &nd, &ne);
        }
        kind = k;
        dense += d;
        expert += e;
        st->muon_dense_s += nd;
        st->muon_expert_s += ne;
        if (cm_layer_is_narrow(c, l)) {
            st->narrow_dense_params += d - bd - xd;
            st->narrow_expert_params += e - be - xe;
            st->mxfp8_params += xd + xe;
        }
        largest = d + e > largest ? d + e : largest;
    }
    double embedding = st->has_embedding ? model_params_embedding(m) / c->cfg->tp : 0.0;
    double head =
        st->has_head ? (model_params_head(m) + model_params_final_norm(m)) / c->cfg->tp : 0.0;
    if (st->has_head && m->mtp_layers > 0) { /* MTP modules: on the last stage */
        double h = m->hidden;
        int copies = c->scn->mtp_repeated_layer ? 1 : m->mtp_layers; /* weights held */
        dense += copies * 2.0 * h * h / c->cfg->tp;
        for (int j = 0; j < model_mtp_module_layers(m); j++) {
            int l = model_mtp_layer(m, j);
            cm_layer_params(c, l, &d, &e);
            dense += copies * d;
            expert += copies * e;
            largest = d + e > largest ? d + e : largest;
            if (muon) { /* the module's layers; its 2h -> h projection is left out (small) */
                cm_muon_layer_s(c, l, &nd, &ne);
                st->muon_dense_s += copies * nd;
                st->muon_expert_s += copies * ne;
            }
        }
    }
    if (c->scn->fp8_output_proj && st->has_head) /* the MXFP8 output layer's weight copies */
        st->mxfp8_params += model_params_head(m) / c->cfg->tp;
    dense += embedding + head;
    largest = embedding > largest ? embedding : largest;
    largest = head > largest ? head : largest;
    st->dense_params = dense;
    st->expert_params = expert;
    st->params = dense + expert;
    st->edge_params = embedding + head;
    st->max_unit_params = largest;
}

/* The word embedding's gradient, every micro-batch on a stage that looks tokens up: the
 * first, and the last when it holds multi-token-prediction modules (each embeds its shifted
 * tokens with the model's embedding: multi_token_prediction.py, gpt_model.py builds the
 * embedding where mtp_process, core_v0.14.0).  Each lookup's backward (F.embedding, or
 * indexing in deterministic mode: Megatron's VocabParallelEmbedding, tensor_parallel/
 * layers.py) writes a dense gradient of the whole vocabulary shard, zeroed and then scattered
 * into (2 bytes an element), autograd sums a second lookup's into the first's (3 x 2), and with
 * Megatron's fused accumulation -- which only the linear layers' GEMMs do -- the data-parallel
 * hook then adds the sum into main_grad (2 + 2 x (4 or 2) bytes; distributed_data_parallel.py,
 * param.main_grad.add_(param.grad.data), core_r0.8.0).  The other accumulation modes' pass
 * already covers every parameter, the embedding's too, and sharded data parallelism (ZeRO-2/3)
 * hands each micro-batch's gradients to its own reduce-scatter passes. */
static double embedding_grad_s(const struct cm_ctx *c, const struct cm_stage *cs)
{
    double lookups = (cs->has_embedding ? 1.0 : 0.0) + (cs->has_head ? c->m->mtp_layers : 0.0);
    if (lookups <= 0)
        return 0.0;
    double elements = model_params_embedding(c->m) / c->cfg->tp;
    double bytes = PARAM_BYTES * lookups + 3.0 * PARAM_BYTES * (lookups - 1.0);
    if (c->cfg->grad_accumulation == GRAD_ACCUM_FUSED && c->cfg->zero < 2)
        bytes += PARAM_BYTES + 2.0 * cm_grad_bytes(c->scn);
    return cm_memory_s(c, bytes * elements);
}

/* The pass that adds one micro-batch's weight gradients into the step's sum, run after each
 * backward over the chunk's parameters on this GPU (scenario.h, enum scn_grad_accumulation):
 * - fp32-copy reads the 16-bit gradient and writes its fp32 cast (2 + 4 bytes), then reads the
 *   cast and the fp32 sum and writes the sum (4 + 4 + 4): 18 bytes a parameter, every
 *   micro-batch (DeepSpeed's deepspeed/runtime/bf16_optimizer.py, update_hp_grads:
 *   hp_grad.add_(lp.grad.to(fp32)), which the pipeline engine calls after each backward pass;
 *   read at commit 56c522386, "bf16+pipeline parallelism", April 2022, the code BLOOM trained
 *   with, and unchanged at 38327e07f);
 * - autograd's AccumulateGrad reads .grad and the new gradient and writes .grad, 3 x 2 bytes,
 *   from the second micro-batch on (the first is assigned);
 * - main-grad: Megatron without its fusion (--no-gradient-accumulation-fusion): the
 *   distributed-data-parallel hook adds each micro-batch's 16-bit .grad into main_grad, in the
 *   reduce type (megatron/core/distributed/distributed_data_parallel.py,
 *   _make_backward_post_hook: param.main_grad.add_(param.grad.data)): 2 + 2 x (4 or 2) bytes,
 *   every micro-batch;
 * - fused: Megatron's weight-gradient GEMM adds into its buffer as it writes (no pass).
 * The pass's launches, one or two per parameter tensor, are not counted. */
static double grad_accumulation_s(const struct cm_ctx *c, const struct cm_stage *cs)
{
    double m = c->cfg->microbatches > 0 ? c->cfg->microbatches : 1.0;
    double bytes_per_param = 0.0;
    if (c->cfg->grad_accumulation == GRAD_ACCUM_FP32_COPY)
        bytes_per_param = PARAM_BYTES + 4.0 + 3.0 * 4.0;
    else if (c->cfg->grad_accumulation == GRAD_ACCUM_AUTOGRAD)
        bytes_per_param = 3.0 * PARAM_BYTES * (m - 1.0) / m;
    else if (c->cfg->grad_accumulation == GRAD_ACCUM_MAIN_GRAD)
        bytes_per_param = PARAM_BYTES + 2.0 * cm_grad_bytes(c->scn);
    return cm_memory_s(c, bytes_per_param * cs->params) + embedding_grad_s(c, cs);
}

/* An MXFP8 weight's cached row- and column-wise copies, an E8M0 scale per 32 values each: the
 * modules mxfp8-modules names in an NVFP4 run, and the LM head with fp8-output-proj. */
#define MXFP8_WEIGHT_CACHE_BYTES (2.0 * (1.0 + 1.0 / 32.0))

/* Transformer Engine caches each fp8 GEMM weight as an fp8 copy and, on Hopper, its fp8
 * transpose between the micro-batches of a step (is_first_microbatch; TE docs on fp8 memory):
 * 2 bytes per layer parameter (Blackwell's MXFP8 row- and column-wise copies, about the same).
 * NVFP4 caches the two 4-bit copies, each with one E4M3 scale per 16 x 16 block of weights (TE's
 * NVFP4BlockScaling recipe: 2D block scaling for weights): 2 x (0.5 + 1/256) bytes. */
static double narrow_weight_cache_bytes(const struct scenario *scn)
{
    if (scn->dtype == DT_NVFP4)
        return 2.0 * (0.5 + 1.0 / 256.0);
    /* torchao's row-wise Float8 casts the weights every micro-batch: no cache */
    return scn->dtype == DT_FP8 && scn->fp8_recipe != FP8_ROWWISE ? 2.0 : 0.0;
}

/* Bytes of optimizer state per parameter keeping `moments` moments: an fp32 master copy
 * unless the optimizer keeps none, and its moments in fp32 or bf16.  Mixed-precision Adam:
 * 4 + 2 x 4 = 12 (Rajbhandari et al., ZeRO, SC'20, sec. 3.1: with 2-byte weights and
 * gradients, their 16 bytes/param); Megatron's precision-aware optimizer with bf16 moments:
 * 4 + 2 x 2 = 8; a Muon matrix's one momentum: 4 + 4 = 8. */
static double state_bytes(const struct scenario *scn, int moments)
{
    double master = scn->optimizer_state == OPTSTATE_BF16 ? 0.0 : 4.0;
    double moment = scn->optimizer_state == OPTSTATE_FP32 ? 4.0 : 2.0;
    return master + moments * moment;
}

/* Moments the update of the weight matrices keeps: Muon's one momentum, else
 * optimizer-moments (the embedding, the head, norms and biases always keep optimizer-moments). */
static int matrix_moments(const struct scenario *scn)
{
    return scn->optimizer_algorithm == OPTALG_MUON ? 1 : scn->optimizer_moments;
}

/* Optimizer state of `params` parameters, `edge` of them the embedding / LM head. */
static double optimizer_state_bytes(const struct scenario *scn, double params, double edge)
{
    return state_bytes(scn, scn->optimizer_moments) * edge +
           state_bytes(scn, matrix_moments(scn)) * (params - edge);
}

/* HBM traffic of one fused optimizer update of `params` parameters (`edge` of them the
 * embedding / head): read the gradient, read and write the state, write the 16-bit weight
 * (fused multi-tensor Adam, fp32 state: 4 + 24 + 2 = 30 per parameter). */
static double optimizer_traffic_bytes(const struct scenario *scn, double params, double edge)
{
    return (cm_grad_bytes(scn) + PARAM_BYTES) * params +
           2.0 * optimizer_state_bytes(scn, params, edge);
}

/* One optimizer step over `params` parameters (`edge` of them the embedding / head), a share
 * `g` of them updated on the host.  On the GPU it streams its traffic through HBM; the host
 * updates its share (offload-optimizer, Megatron's HybridDeviceOptimizer): the gradients go
 * down and the new 16-bit weights come back over the host link, and the CPU's update streams
 * through host memory, while the GPU updates the rest.  Muon's Newton-Schulz work is added by
 * the caller. */
static double optimizer_at_s(const struct cm_ctx *c, double params, double edge, double g)
{
    double traffic = optimizer_traffic_bytes(c->scn, params, edge);
    double gpu = cm_memory_s(c, traffic * (1.0 - g));
    if (g <= 0)
        return gpu;
    const struct hw_node *n = &c->hw->node;
    double host = g * params * (cm_grad_bytes(c->scn) + PARAM_BYTES) / n->host_bw_Bps +
                  g * traffic / n->host_mem_bw_Bps;
    return gpu > host ? gpu : host;
}

/* The same with the scenario's offload-optimizer share. */
static double optimizer_s(const struct cm_ctx *c, double params, double edge)
{
    return optimizer_at_s(c, params, edge, c->scn->offload_optimizer);
}

/* Parameters whose optimizer state one GPU holds: all of its own, or from ZeRO-1 on its shard
 * of them (so DualPipe's second copy costs no optimizer memory there: two parts over twice the
 * ranks). */
static double optimizer_shard(const struct costmodel *cm, const struct scenario *scn, double dense,
                              double expert)
{
    if (cm->cfg.zero == 0)
        return dense + expert;
    int copies = cm_part_copies(scn);
    return dense / (copies * cm->cfg.shard) + expert / (copies * cm->cfg.eshard);
}

/* ---- configuration rules ---------------------------------------------------------------- */

static const enum scn_key explicit_keys[] = {
    SCN_FORWARD,   SCN_BACKWARD_INPUT, SCN_BACKWARD_WEIGHT, SCN_ACTIVATION,
    SCN_OPTIMIZER, SCN_LINK_LATENCY,   SCN_LINK_BANDWIDTH};

int cm_model_recompute_modules(const struct model *m)
{
    /* a hybrid model has what its pattern names: attention '*', dense MLPs '-' */
    int hybrid = m->pattern[0] != '\0';
    int attention = !hybrid || strchr(m->pattern, '*') != NULL;
    int dense_layers = hybrid ? strchr(m->pattern, '-') != NULL
                              : m->experts == 0 || m->dense_layers > 0 || m->moe_every > 1;
    /* torchtitan's per-op policy is modelled for the layer it counts matmuls in: Q, K, V, the
     * projection and a dense MLP */
    int op = !hybrid && m->experts == 0 && m->kv_lora_rank == 0;
    return (attention ? RC_CORE_ATTN : 0) | RC_LAYERNORM | (dense_layers ? RC_MLP : 0) |
           (m->experts ? RC_MOE | RC_MOE_ACT : 0) | (m->kv_lora_rank ? RC_MLA_UP_PROJ : 0) |
           (m->shared_experts ? RC_SHARED_EXPERTS : 0) | (op ? RC_OP : 0);
}

/* bf16 edge layers (Megatron-Core's first_last_layers_bf16; megatron/core/transformer/
 * transformer_config.py checks them): only in fp8 / nvfp4 training, not with delayed scaling,
 * and at most one pipeline stage's layers at each end. */
static enum sim_status check_bf16_edge_layers(const struct scenario *scn, const struct model *m,
                                              struct sim_error *err)
{
    static const enum scn_key keys[] = {SCN_BF16_FIRST_LAYERS, SCN_BF16_LAST_LAYERS};
    for (int i = 0; i < 2; i++) {
        int n = keys[i] == SCN_BF16_FIRST_LAYERS ? scn->bf16_first_layers : scn->bf16_last_layers;
        int per_stage = m->layers / (scn->pp > 0 ? scn->pp : 1);
        if (!scn_given(scn, keys[i]))
            continue;
        if (!cm_narrow_gemms(scn))
            return scn_rule_error(scn, scn_culprit(scn, keys[i], SCN_DTYPE), err,
                                  "%s applies to dtype=fp8 or nvfp4", scn_key_name(keys[i]));
        if (n > 0 && scn->dtype == DT_FP8 && scn->fp8_recipe == FP8_DELAYED)
            return scn_rule_error(scn, scn_culprit(scn, keys[i], SCN_FP8_RECIPE), err,
                                  "%s=%d: delayed scaling keeps no layers in bf16 "
                                  "(Megatron-Core refuses it; use fp8-recipe current, blockwise "
                                  "or mxfp8)",
                                  scn_key_name(keys[i]), n);
        if (n > per_stage)
            return scn_rule_error(scn, scn_culprit(scn, keys[i], SCN_PP), err,
                                  "%s=%d exceeds the %d layers of one pipeline stage "
                                  "(Megatron-Core's bound)",
                                  scn_key_name(keys[i]), n, per_stage);
    }
    return SIM_OK;
}

/* fp8 attention's rates for the scenario: the hardware's MXFP8 pair under the mxfp8 recipe,
 * else its per-tensor pair (delayed, current and blockwise scaling hand attention per-tensor
 * scaled fp8); 1 and 1 without fp8-attention. */
static struct hw_fp8_attention fp8_attention_rates(const struct scenario *scn,
                                                   const struct hardware *hw)
{
    struct hw_fp8_attention off = {1.0, 1.0};
    if (!scn->fp8_attention)
        return off;
    return scn->fp8_recipe == FP8_MXFP8 ? hw->gpu.mxfp8_attn : hw->gpu.fp8_attn;
}

/* The flash-attention backward's rate over its forward's for this model on this GPU: latent
 * attention's own figure where the file gives one, else the GPU's. */
static double attention_bwd_ratio(const struct model *m, const struct hardware *hw)
{
    if (m->kv_lora_rank > 0 && hw->gpu.mla_attn_bwd_ratio > 0.0)
        return hw->gpu.mla_attn_bwd_ratio;
    return hw->gpu.attn_bwd_ratio;
}

/* The modules CUDA graphs capture (struct cm_config's graph_scope). */
static int graph_scope(const struct scenario *scn)
{
    switch (scn->cuda_graphs) {
    case CUDA_GRAPHS_FULL_ITERATION:
        return GS_ATTN | GS_MLP | GS_MOE | GS_MOE_ROUTER | GS_MOE_PREPROCESS | GS_MAMBA;
    case CUDA_GRAPHS_MODULES:
        return scn->cuda_graph_scope;
    default:
        return 0;
    }
}

/* CUDA graphs replay fixed shapes: a dropless MoE's experts get token counts only the GPU
 * knows, so a graph holding them needs grouped GEMMs that read their sizes on the device
 * (Megatron-Bridge's MoE guide: full graphs take drop-and-pad MoE or device-initiated grouped
 * GEMMs); a scope names modules the model has. */
static enum sim_status check_cuda_graphs(const struct scenario *scn, const struct model *m,
                                         struct sim_error *err)
{
    int scope = graph_scope(scn);
    if (scn_given(scn, SCN_CUDA_GRAPH_SCOPE) && scn->cuda_graphs != CUDA_GRAPHS_MODULES)
        return scn_rule_error(scn, scn_culprit(scn, SCN_CUDA_GRAPH_SCOPE, SCN_CUDA_GRAPHS), err,
                              "cuda-graph-scope applies to cuda-graphs=modules");
    if (scn->cuda_graphs == CUDA_GRAPHS_MODULES && m->experts == 0 &&
        (scope & (GS_MOE | GS_MOE_ROUTER | GS_MOE_PREPROCESS)))
        return scn_rule_error(scn, SCN_CUDA_GRAPH_SCOPE, err,
                              "cuda-graph-scope names MoE modules; %s has no experts", m->name);
    if (scn->cuda_graphs == CUDA_GRAPHS_MODULES && (scope & GS_MAMBA) &&
        model_mamba_layers(m) == 0)
        return scn_rule_error(scn, SCN_CUDA_GRAPH_SCOPE, err,
                              "cuda-graph-scope names mamba; %s has no Mamba layers", m->name);
    if (m->experts > 0 && (scope & GS_MOE) && !scn->moe_fused_grouped_mlp)
        return scn_rule_error(scn, scn_culprit(scn, SCN_CUDA_GRAPHS, SCN_MOE_FUSED_GROUPED_MLP),
                              err,
                              "a CUDA graph of %s's experts needs grouped GEMMs that read the "
                              "token counts on the GPU (moe-fused-grouped-mlp=true)",
                              m->name);
    return SIM_OK;
}

/* fp8-recipe=rowwise is torchao's Float8Linear with row-wise scales: its weights are gathered
 * in 16 bits (torchtitan's float8 converter asserts enable_fsdp_float8_all_gather off with a
 * recipe name, components/quantization/float8.py at 820504e), and it converts nn.Linear
 * modules only, which routed experts are not (stepsim models no 16-bit experts in an fp8 run
 * of that kind). */
static enum sim_status check_rowwise(const struct scenario *scn, const struct model *m,
                                     struct sim_error *err)
{
    if (scn->dtype != DT_FP8 || scn->fp8_recipe != FP8_ROWWISE)
        return SIM_OK;
    if (scn->quantized_params)
        return scn_rule_error(scn, scn_culprit(scn, SCN_QUANTIZED_PARAMS, SCN_FP8_RECIPE), err,
                              "fp8-recipe=rowwise gathers weights in 16 bits (torchao's float8 "
                              "all-gather is tensor-wise only): quantized-params must be false");
    if (m->experts > 0)
        return scn_rule_error(scn, SCN_FP8_RECIPE, err,
                              "fp8-recipe=rowwise (torchao's Float8Linear) is not modelled for "
                              "%s's routed experts", m->name);
    return SIM_OK;
}

/* moe-fused-grouped-mlp: Transformer Engine's fused grouped MLP runs cuDNN's sm100 grouped
 * GEMM kernels with MXFP8 or NVFP4 quantization in their epilogues (transformer_engine/
 * pytorch/ops/fused/grouped_mlp.py, grouped_gemm_glu_wrapper_sm100): block-scaled narrow
 * training on a Blackwell GPU, which the hardware file marks by its fp8 GEMMs taking any
 * layout.  Megatron-Core uses it for experts without tensor parallelism whose activation it
 * fuses: SwiGLU or squared ReLU (moe/experts.py, _is_fused_impl_supported, at d98e8a6). */
static enum sim_status check_fused_grouped_mlp(const struct scenario *scn, const struct model *m,
                                               const struct hardware *hw, struct sim_error *err)
{
    if (scn->etp > 1)
        return scn_rule_error(scn, scn_culprit(scn, SCN_MOE_FUSED_GROUPED_MLP, SCN_ETP), err,
                              "moe-fused-grouped-mlp: Megatron-Core fuses experts without "
                              "tensor parallelism only (etp=%d)",
                              scn->etp);
    if (m->act == ACT_GELU)
        return scn_rule_error(scn, SCN_MOE_FUSED_GROUPED_MLP, err,
                              "moe-fused-grouped-mlp fuses SwiGLU or squared ReLU, not %s's GELU",
                              m->name);
    int block_scaled = scn->dtype == DT_NVFP4 ||
                       (scn->dtype == DT_FP8 && scn->fp8_recipe == FP8_MXFP8);
    if (!block_scaled)
        return scn_rule_error(scn, scn_culprit(scn, SCN_MOE_FUSED_GROUPED_MLP, SCN_DTYPE), err,
                              "moe-fused-grouped-mlp quantizes in MXFP8 or NVFP4: it needs "
                              "dtype=fp8 with fp8-recipe=mxfp8, or dtype=nvfp4");
    if (!hw->gpu.fp8_any_layout)
        return scn_rule_error(scn, SCN_MOE_FUSED_GROUPED_MLP, err,
                              "moe-fused-grouped-mlp runs Blackwell's (sm100) kernels; %s is "
                              "not one (its file gives no fp8-gemm-layouts=\"any\")",
                              hw->gpu.name);
    return SIM_OK;
}

/* The linear modules `m` has (enum scn_linear_module bits), as Megatron-Core names them:
 * linear_qkv only outside latent attention (MLA's projections are named otherwise). */
static int model_linear_modules(const struct model *m)
{
    int mods = 0, dense = 0, attention = 0, mamba = 0;
    for (int l = 0; l < m->layers; l++) {
        enum layer_mixer mix = model_layer_mixer(m, l);
        attention |= mix == MIXER_ATTENTION;
        mamba |= mix == MIXER_MAMBA;
        dense |= model_layer_mlp(m, l) == MLP_DENSE;
    }
    if (attention)
        mods |= (m->kv_lora_rank > 0 ? 0 : LM_ATTN_QKV) | LM_ATTN_PROJ;
    if (mamba)
        mods |= LM_MAMBA_IN | LM_MAMBA_OUT;
    if (dense)
        mods |= LM_MLP;
    if (m->experts > 0)
        mods |= LM_EXPERTS | (m->shared_experts > 0 ? LM_SHARED_EXPERTS : 0) |
                (m->moe_latent > 0 ? LM_LATENT_PROJ : 0);
    if (m->mtp_layers > 0)
        mods |= LM_MTP;
    return mods;
}

/* bf16-modules / mxfp8-modules (Megatron-Core's per-module quant_recipe: a matched module runs
 * under its own Transformer Engine recipe, or none, whatever the run's is --
 * megatron/core/extensions/transformer_engine.py, _get_fp8_autocast_for_quant_recipe, at
 * 2edffadb5): only in a narrow run, MXFP8 inside an NVFP4 one, on modules the model has, one
 * precision a module. */
static enum sim_status check_module_precision(const struct scenario *scn, const struct model *m,
                                              const struct hardware *hw, struct sim_error *err)
{
    if (scn->bf16_modules && !cm_narrow_gemms(scn))
        return scn_rule_error(scn, scn_culprit(scn, SCN_BF16_MODULES, SCN_DTYPE), err,
                              "bf16-modules applies to dtype=fp8 or nvfp4");
    if (scn->mxfp8_modules && scn->dtype != DT_NVFP4)
        return scn_rule_error(scn, scn_culprit(scn, SCN_MXFP8_MODULES, SCN_DTYPE), err,
                              "mxfp8-modules applies to dtype=nvfp4 (an fp8 run names its "
                              "recipe with fp8-recipe)");
    if (scn->mxfp8_modules && !(hw->gpu.peak_flops[DT_FP8] > 0 && hw->gpu.fp8_any_layout))
        return scn_rule_error(scn, SCN_MXFP8_MODULES, err,
                              "mxfp8-modules: MXFP8 GEMMs run on Blackwell (sm100); %s is not "
                              "one (its file gives no fp8-gemm-layouts=\"any\")",
                              hw->gpu.name);
    int both = scn->bf16_modules & scn->mxfp8_modules;
    int absent = (scn->bf16_modules | scn->mxfp8_modules) & ~model_linear_modules(m);
    char names[160];
    if (both) {
        scn_flag_names(SCN_BF16_MODULES, both, names, sizeof names);
        return scn_rule_error(scn, SCN_MXFP8_MODULES, err,
                              "%s named in both bf16-modules and mxfp8-modules", names);
    }
    if (absent) {
        enum scn_key k = scn->bf16_modules & absent ? SCN_BF16_MODULES : SCN_MXFP8_MODULES;
        scn_flag_names(k, absent, names, sizeof names);
        return scn_rule_error(scn, k, err, "%s names %s, which %s has not%s", scn_key_name(k),
                              names, m->name,
                              (absent & LM_ATTN_QKV) && m->kv_lora_rank > 0
                                  ? " (latent attention has no linear_qkv)"
                                  : "");
    }
    if (scn->mxfp8_modules & LM_MTP)
        return scn_rule_error(scn, SCN_MXFP8_MODULES, err,
                              "mxfp8-modules=mtp: an MXFP8 MTP module inside an NVFP4 run is "
                              "not modelled (bf16-modules=mtp is)");
    if ((scn->bf16_modules & LM_EXPERTS) && scn->moe_fused_grouped_mlp)
        return scn_rule_error(scn, scn_culprit(scn, SCN_BF16_MODULES, SCN_MOE_FUSED_GROUPED_MLP),
                              err,
                              "bf16-modules=experts: the fused grouped MLP quantizes its "
                              "experts (moe-fused-grouped-mlp=false to keep them bf16)");
    return SIM_OK;
}

/* fp8-attention: Transformer Engine runs fp8 dot-product attention inside fp8 training only,
 * with its fused (flash) attention; the GPU's file must say how fast it runs. */
static enum sim_status check_fp8_attention(const struct scenario *scn, const struct hardware *hw,
                                           struct sim_error *err)
{
    if (scn->dtype != DT_FP8)
        return scn_rule_error(scn, scn_culprit(scn, SCN_FP8_ATTENTION, SCN_DTYPE), err,
                              "fp8-attention applies to dtype=fp8");
    if (scn->attention != ATTENTION_FLASH)
        return scn_rule_error(scn, scn_culprit(scn, SCN_FP8_ATTENTION, SCN_ATTENTION), err,
                              "fp8-attention applies to attention=flash");
    if (scn->attention_kernel != ATTN_KERNEL_BEST)
        return scn_rule_error(scn, scn_culprit(scn, SCN_FP8_ATTENTION, SCN_ATTENTION_KERNEL), err,
                              "fp8-attention runs Transformer Engine's fused attention, not "
                              "attention-kernel=fa2");
    int mx = scn->fp8_recipe == FP8_MXFP8;
    if (!(fp8_attention_rates(scn, hw).fwd > 0.0))
        return scn_rule_error(scn, scn_culprit(scn, SCN_FP8_ATTENTION, SCN_FP8_RECIPE), err,
                              "fp8-attention: %s gives no %s attention rate (gpu %s)",
                              hw->gpu.name, mx ? "MXFP8" : "fp8",
                              mx ? "mxfp8-attention-gain" : "fp8-attention-gain");
    return SIM_OK;
}

/* The MoE keys: meaningless without experts; Megatron-Core's rules for the shared experts'
 * overlap (transformer_config.py, NVIDIA/Megatron-LM d98e8a6): shared experts to overlap, the
 * alltoall or flex dispatcher, and not with the EP overlap of paired micro-batches. */
static enum sim_status check_moe_keys(const struct scenario *scn, const struct model *m,
                                      struct sim_error *err)
{
    static const enum scn_key moe_keys[] = {SCN_MOE_DISPATCHER, SCN_OVERLAP_EP_COMM,
                                            SCN_MOE_IMBALANCE, SCN_MOE_SHARED_EXPERT_OVERLAP,
                                            SCN_DEEPEP_SMS, SCN_MOE_ROUTER_DTYPE,
                                            SCN_MOE_ROUTER_FUSION, SCN_MOE_FUSED_GROUPED_MLP};
    for (size_t i = 0; m->experts == 0 && i < sizeof moe_keys / sizeof moe_keys[0]; i++)
        if (scn_given(scn, moe_keys[i]))
            return scn_rule_error(scn, moe_keys[i], err,
                                  "%s applies to MoE models; %s has no experts",
                                  scn_key_name(moe_keys[i]), m->name);
    if (scn_given(scn, SCN_MLA_DOWN_PROJ) && m->kv_lora_rank <= 0)
        return scn_rule_error(scn, SCN_MLA_DOWN_PROJ, err,
                              "mla-down-proj applies to MLA models; %s has none", m->name);
    if (scn_given(scn, SCN_DEEPEP_SMS) && scn->moe_dispatcher != DISPATCH_DEEPEP)
        return scn_rule_error(scn, scn_culprit(scn, SCN_DEEPEP_SMS, SCN_MOE_DISPATCHER), err,
                              "deepep-sms applies to moe-dispatcher=deepep");
    if (!scn->moe_shared_expert_overlap)
        return SIM_OK;
    if (m->moe_latent > 0) /* moe_layer.py raises it for training */
        return scn_rule_error(scn, SCN_MOE_SHARED_EXPERT_OVERLAP, err,
                              "moe-shared-expert-overlap: Megatron-Core does not overlap the "
                              "shared experts of a LatentMoE model (%s) in training",
                              m->name);
    if (m->shared_experts == 0)
        return scn_rule_error(scn, SCN_MOE_SHARED_EXPERT_OVERLAP, err,
                              "moe-shared-expert-overlap applies to models with shared "
                              "experts; %s has none",
                              m->name);
    if (scn->moe_dispatcher == DISPATCH_ALLGATHER)
        return scn_rule_error(
            scn, scn_culprit(scn, SCN_MOE_SHARED_EXPERT_OVERLAP, SCN_MOE_DISPATCHER), err,
            "moe-shared-expert-overlap needs moe-dispatcher=alltoall or deepep (Megatron-Core)");
    if (scn->overlap_ep_comm)
        return scn_rule_error(
            scn, scn_culprit(scn, SCN_MOE_SHARED_EXPERT_OVERLAP, SCN_OVERLAP_EP_COMM), err,
            "moe-shared-expert-overlap and overlap-ep-comm exclude each other (Megatron-Core)");
    return SIM_OK;
}

/* Recompute modules the model has no instance of, and torchtitan's per-op policy alone and
 * with flash attention. */
static enum sim_status check_recompute_modules(const struct scenario *scn, const struct model *m,
                                               struct sim_error *err)
{
    int rc = scn_given(scn, SCN_RECOMPUTE_MODULES) ? scn->recompute_modules : 0;
    int lack = rc & ~cm_model_recompute_modules(m);
    const char *lacks = (lack & RC_MLA_UP_PROJ)           ? "mla_up_proj (no MLA)"
                        : (lack & (RC_MOE | RC_MOE_ACT))  ? "moe / moe_act (no experts)"
                        : (lack & RC_SHARED_EXPERTS)      ? "shared_experts (no shared experts)"
                        : (lack & RC_MLP)                 ? "mlp (no dense MLP layer)"
                        : (lack & RC_CORE_ATTN)           ? "core_attn (no attention layer)"
                        : (lack & RC_OP) ? "op (modelled for dense models without MLA or a "
                                           "hybrid pattern)"
                                         : NULL;
    if (lacks)
        return scn_rule_error(scn, SCN_RECOMPUTE_MODULES, err,
                              "recompute-modules names %s, which %s does not have", lacks,
                              m->name);
    if ((rc & RC_OP) && rc != RC_OP)
        return scn_rule_error(scn, SCN_RECOMPUTE_MODULES, err,
                              "recompute-modules: op is a whole policy (torchtitan's "
                              "selective_ac_option \"op\") and takes no other module");
    if ((rc & RC_OP) && scn->attention != ATTENTION_FLASH)
        return scn_rule_error(scn, scn_culprit(scn, SCN_RECOMPUTE_MODULES, SCN_ATTENTION), err,
                              "recompute-modules=op is modelled with attention=flash (the "
                              "policy keeps the flash kernel's output)");
    return SIM_OK;
}

/* Keys that only mean something for some models or alongside another key: given where they
 * cannot apply, they are refused (a silent no-op would hide a mistaken scenario). */
static enum sim_status check_feature_keys(const struct scenario *scn, const struct model *m,
                                          struct sim_error *err)
{
    enum sim_status st = check_moe_keys(scn, m, err);
    if (st != SIM_OK)
        return st;
    if (scn_given(scn, SCN_MUON_NS_STEPS) && scn->optimizer_algorithm != OPTALG_MUON)
        return scn_rule_error(scn, scn_culprit(scn, SCN_MUON_NS_STEPS, SCN_OPTIMIZER_ALGORITHM),
                              err, "muon-ns-steps applies with optimizer-algorithm=muon");
    /* Muon's update runs on the GPU: Megatron-Core's host-offloaded optimizer
     * (HybridDeviceOptimizer, megatron/core/optimizer/__init__.py at d98e8a6) is Adam or SGD. */
    if (scn->optimizer_algorithm == OPTALG_MUON && scn->offload_optimizer > 0)
        return scn_rule_error(
            scn, scn_culprit(scn, SCN_OFFLOAD_OPTIMIZER, SCN_OPTIMIZER_ALGORITHM), err,
            "offload-optimizer keeps an element-wise optimizer on the host; "
            "optimizer-algorithm=muon is not offloaded");
    if (scn_given(scn, SCN_FP8_RECIPE) && scn->dtype != DT_FP8)
        return scn_rule_error(scn, scn_culprit(scn, SCN_FP8_RECIPE, SCN_DTYPE), err,
                              "fp8-recipe applies to dtype=fp8");
    if ((st = check_rowwise(scn, m, err)) != SIM_OK)
        return st;
    if ((st = check_bf16_edge_layers(scn, m, err)) != SIM_OK)
        return st;
    if (scn_given(scn, SCN_WGRAD_DEFERRAL_LIMIT) && !scn->defer_head_wgrad)
        return scn_rule_error(scn, SCN_WGRAD_DEFERRAL_LIMIT, err,
                              "wgrad-deferral-limit applies with defer-head-wgrad=true");
    return check_recompute_modules(scn, m, err);
}

/* What the cost model needs from the scenario and refuses in it, before any layout: no
 * explicit costs beside a model, a peak for the dtype, the model's layer count, a sequence
 * length, a host link for offload, recompute keys that fit the recompute mode. */
static enum sim_status check_cost_inputs(struct scenario *scn, const struct model *m,
                                         const struct hardware *hw, struct sim_error *err)
{
    for (size_t i = 0; i < sizeof explicit_keys / sizeof explicit_keys[0]; i++)
        if (scn_given(scn, explicit_keys[i]))
            return scn_rule_error(scn, explicit_keys[i], err,
                                  "%s is an explicit cost; with model= the cost model derives it "
                                  "(remove one of the two)",
                                  scn_key_name(explicit_keys[i]));
    if (hw->gpu.peak_flops[scn->dtype] <= 0)
        return scn_rule_error(scn, SCN_DTYPE, err, "dtype=%s: %s has no %s peak",
                              hw_dtype_name(scn->dtype), hw->gpu.name, hw_dtype_name(scn->dtype));
    if (!scn_given(scn, SCN_LAYERS))
        scn->layers = m->layers;
    else if (scn->layers != m->layers)
        return scn_rule_error(scn, SCN_LAYERS, err, "layers=%d differs from the model's %d layers",
                              scn->layers, m->layers);
    if (scn->seq <= 0)
        return scn_rule_error(scn, SCN_SEQ, err, "the cost model needs seq (tokens per sample)");
    if (scn_given(scn, SCN_ATTENTION_KERNEL) && scn->attention != ATTENTION_FLASH)
        return scn_rule_error(scn, scn_culprit(scn, SCN_ATTENTION_KERNEL, SCN_ATTENTION), err,
                              "attention-kernel applies to attention=flash");
    if (scn->attention_kernel == ATTN_KERNEL_FA2 && !(hw->gpu.fa2_attention_share > 0))
        return scn_rule_error(scn, SCN_ATTENTION_KERNEL, err,
                              "attention-kernel=fa2: %s gives no FlashAttention-2 rate "
                              "(gpu fa2-attention-share)",
                              hw->gpu.name);
    if (scn->fp8_attention) {
        enum sim_status st = check_fp8_attention(scn, hw, err);
        if (st != SIM_OK)
            return st;
    }
    if (scn->moe_fused_grouped_mlp && m->experts > 0) {
        enum sim_status st = check_fused_grouped_mlp(scn, m, hw, err);
        if (st != SIM_OK)
            return st;
    }
    if (scn->cuda_graphs != CUDA_GRAPHS_NONE || scn_given(scn, SCN_CUDA_GRAPH_SCOPE)) {
        enum sim_status st = check_cuda_graphs(scn, m, err);
        if (st != SIM_OK)
            return st;
    }
    if (scn->bf16_modules || scn->mxfp8_modules) {
        enum sim_status st = check_module_precision(scn, m, hw, err);
        if (st != SIM_OK)
            return st;
    }
    /* Megatron-Core builds the MXFP8 output layer only in MXFP8 training
     * (fp8_utils.py is_mxfp8_output_proj_active, d98e8a6) */
    if (scn->fp8_output_proj && !(scn->dtype == DT_FP8 && scn->fp8_recipe == FP8_MXFP8))
        return scn_rule_error(scn, scn_culprit(scn, SCN_FP8_OUTPUT_PROJ, SCN_DTYPE), err,
                              "fp8-output-proj needs dtype=fp8 with fp8-recipe=mxfp8");
    /* ... and not as the embedding's own weight (TELMHeadColumnParallelLinear refuses
     * skip_weight_param_allocation: tied embeddings with the two on one stage) */
    if (scn->fp8_output_proj && m->tied_embeddings && scn->pp * scn->vp == 1)
        return scn_rule_error(scn, SCN_FP8_OUTPUT_PROJ, err,
                              "fp8-output-proj: the MXFP8 output layer cannot use %s's tied "
                              "embedding weight on the stage that holds the embedding",
                              m->name);
    if (scn->moe_dispatcher == DISPATCH_DEEPEP && hw->gpu.sms > 0 &&
        scn->deepep_sms >= hw->gpu.sms)
        return scn_rule_error(scn, SCN_DEEPEP_SMS, err,
                              "deepep-sms=%d leaves no SMs for compute: %s has %d",
                              scn->deepep_sms, hw->gpu.name, hw->gpu.sms);
    if ((scn->offload_activations > 0 && !(hw->node.host_bw_Bps > 0)) ||
        (scn->offload_optimizer > 0 && !(hw->node.host_bw_Bps > 0 && hw->node.host_mem_bw_Bps > 0)))
        return scn_rule_error(scn,
                              scn->offload_optimizer > 0 ? SCN_OFFLOAD_OPTIMIZER
                                                         : SCN_OFFLOAD_ACTIVATIONS,
                              err,
                              "offload needs the hardware file's host-bandwidth%s (%s gives none)",
                              scn->offload_optimizer > 0 ? " and host-memory-bandwidth" : "",
                              hw->name);
    if (scn_given(scn, SCN_RECOMPUTE_MODULES) && scn->recompute != RECOMPUTE_SELECTIVE)
        return scn_rule_error(scn, scn_culprit(scn, SCN_RECOMPUTE_MODULES, SCN_RECOMPUTE), err,
                              "recompute-modules applies to recompute=selective (Megatron's "
                              "--recompute-granularity selective)");
    if (check_feature_keys(scn, m, err) != SIM_OK)
        return err->status;
    if (scn->mtp_repeated_layer && m->mtp_layers == 0)
        return scn_rule_error(scn, SCN_MTP_REPEATED_LAYER, err,
                              "mtp-repeated-layer: %s trains no MTP module (mtp-layers)", m->name);
    int layout_mtp = pplayout_count(scn->pipeline_layout, -1, 'm');
    if (scn->pipeline_layout[0] && layout_mtp != m->mtp_layers)
        return scn_rule_error(scn, scn_culprit(scn, SCN_PIPELINE_LAYOUT, SCN_MTP_LAYERS), err,
                              "pipeline-layout places %d MTP modules, but %s trains %d "
                              "(mtp-layers)",
                              layout_mtp, m->name, m->mtp_layers);
    for (enum scn_key k = SCN_RECOMPUTE_METHOD; k <= SCN_RECOMPUTE_NUM_LAYERS; k++)
        if (scn_given(scn, k) && scn->recompute != RECOMPUTE_FULL)
            return scn_rule_error(scn, scn_culprit(scn, k, SCN_RECOMPUTE), err,
                                  "%s applies to recompute=full (Megatron's "
                                  "--recompute-granularity full)",
                                  scn_key_name(k));

    return SIM_OK;
}

/* The parallel layout: gpus a multiple of every parallel size, heads and experts divisible by
 * their splits, sequence parallelism only with TP.  Sets *gpus (given, or one replica). */
static enum sim_status check_layout(const struct scenario *scn, const struct model *m,
                                    int *gpus_out, struct sim_error *err)
{
    int tp = scn->tp, pp = scn->pp, cp = scn->cp, ep = scn->ep, etp = scn->etp;
    long dense_ranks = (long)tp * cp * pp, expert_ranks = (long)ep * etp * pp;
    long least = dense_ranks > expert_ranks ? dense_ranks : expert_ranks;
    if (!scn->gpus && least > (1L << 24))
        return scn_rule_error(scn, SCN_PP, err,
                              "tp*cp*pp = %ld GPUs for one replica is above the limit of %ld",
                              least, 1L << 24);
    int gpus = scn->gpus ? scn->gpus : (int)least;
    *gpus_out = gpus;
    long unit = pp * (long)(tp * cp > ep * etp ? tp * cp : ep * etp);
    /* The rule ties gpus to every parallel size: blame the value set last (--set pp=3 on a
     * scenario that gives gpus=), gpus itself when they all come from one file. */
    static const enum scn_key layout_keys[] = {SCN_GPUS, SCN_PP, SCN_TP, SCN_CP, SCN_EP, SCN_ETP};
    enum scn_key culprit = SCN_GPUS;
    for (size_t i = 1; i < sizeof layout_keys / sizeof layout_keys[0]; i++)
        culprit = scn_culprit(scn, culprit, layout_keys[i]);
    if (gpus % unit != 0 || gpus % dense_ranks != 0 || gpus % expert_ranks != 0)
        return scn_rule_error(
            scn, culprit, err,
            "gpus=%d is not a multiple of pp*max(tp*cp, ep*etp) = %d*max(%d*%d, %d*%d) "
            "= %ld with integral dp = gpus/(tp*cp*pp) and expert-dp = gpus/(pp*ep*etp)",
            gpus, pp, tp, cp, ep, etp, unit);
    if (m->heads % tp != 0)
        return scn_rule_error(scn, SCN_TP, err, "heads=%d of %s are not divisible by tp=%d",
                              m->heads, m->name, tp);
    if (m->kv_heads % tp != 0)
        return scn_rule_error(scn, SCN_TP, err, "kv-heads=%d of %s are not divisible by tp=%d",
                              m->kv_heads, m->name, tp);
    if (model_mamba_layers(m) > 0 && m->mamba_groups % tp != 0)
        return scn_rule_error(scn, SCN_TP, err,
                              "mamba-groups=%d of %s are not divisible by tp=%d (Megatron-Core "
                              "splits a Mamba mixer's groups and heads over TP)",
                              m->mamba_groups, m->name, tp);
    if (ep > 1 && m->experts == 0)
        return scn_rule_error(scn, SCN_EP, err,
                              "ep=%d but %s has no experts: expert parallelism needs MoE", ep,
                              m->name);
    if (m->experts > 0 && m->experts % ep != 0)
        return scn_rule_error(scn, SCN_EP, err, "experts=%d of %s are not divisible by ep=%d",
                              m->experts, m->name, ep);
    if (scn->sp && tp == 1)
        return scn_rule_error(scn, SCN_SP, err,
                              "sp=true needs tp > 1 (sequence parallelism splits along "
                              "the tensor-parallel group)");
    return SIM_OK;
}

/* Context parallelism: the all-to-all variants' group sizes, and sequences that split into
 * 2*cp load-balanced chunks. */
static enum sim_status check_cp(const struct scenario *scn, const struct model *m,
                                struct sim_error *err)
{
    int tp = scn->tp, cp = scn->cp;
    int a2a_ranks = scn->cp_comm_type == CP_A2A       ? cp
                    : scn->cp_comm_type == CP_A2A_P2P ? scn->hierarchical_cp
                                                      : 1;
    if (scn_given(scn, SCN_HIERARCHICAL_CP) && scn->cp_comm_type != CP_A2A_P2P)
        return scn_rule_error(scn, SCN_HIERARCHICAL_CP, err,
                              "hierarchical-cp applies to cp-comm-type=a2a+p2p");
    if (scn->cp_comm_type == CP_A2A_P2P &&
        (!scn_given(scn, SCN_HIERARCHICAL_CP) || cp % scn->hierarchical_cp != 0))
        return scn_rule_error(scn, scn_culprit(scn, SCN_HIERARCHICAL_CP, SCN_CP), err,
                              "cp-comm-type=a2a+p2p needs hierarchical-cp, a divisor of cp=%d "
                              "(the ranks of each all-to-all group)",
                              cp);
    if (a2a_ranks > 1 && (m->heads / tp) % a2a_ranks != 0)
        return scn_rule_error(scn, scn_culprit(scn, SCN_CP_COMM_TYPE, SCN_CP), err,
                              "cp-comm-type=%s spreads the %d heads per TP rank over %d ranks, "
                              "which must divide them",
                              scn->cp_comm_type == CP_A2A ? "a2a" : "a2a+p2p", m->heads / tp,
                              a2a_ranks);
    if (cp > 1 && model_mamba_layers(m) > 0)
        return scn_rule_error(scn, SCN_CP, err,
                              "cp=%d: context parallelism of %s's Mamba layers is not modelled",
                              cp, m->name);
    if (cp > 1 && scn->seq % (2 * cp) != 0)
        return scn_rule_error(scn, SCN_CP, err,
                              "seq=%d is not divisible by 2*cp=%d (context parallelism splits each "
                              "sequence into 2*cp chunks for load balance)",
                              scn->seq, 2 * cp);
    return SIM_OK;
}

/* FSDP under pipeline parallelism as torchtitan runs it: PyTorch's pipelining turns off
 * FSDP2's gradient sync and resharding for every backward but the last
 * (torch/distributed/pipelining/stage.py, backward_maybe_with_nosync).  Megatron-FSDP and
 * DeepSpeed reduce-scatter every micro-batch's gradients whatever the pipeline
 * (megatron_fsdp.py: "For grads shard mode there will actually always be gradient sync"). */
static int pipelined_fsdp2(const struct scenario *scn, const struct scn_sharding *sh)
{
    return sh->stage >= 2 && scn->pp > 1 && scn->framework == FW_TORCHTITAN;
}

/* PyTorch FSDP (FSDP1: FlatParameter, as Composer and Accelerate wrap it) -- the fsdp key
 * without a framework that shards its own way (torchtitan's FSDP2, Megatron-FSDP) -- reducing
 * every micro-batch's gradients.  Its flat parameter's gradient is built from the views'
 * gradients and handled whole before the reduce-scatter (cm_stage.c, add_shard_traffic). */
static int flat_param_grads(const struct scenario *scn, const struct scn_sharding *sh,
                            int deferred)
{
    return scn->fsdp != FSDP_NONE && sh->stage >= 2 && !deferred &&
           scn->framework != FW_TORCHTITAN && scn->framework != FW_MEGATRON_CORE;
}

/* Overlapped with compute, DeepEP's dispatch and combine hold deepep-sms of the GPU's SMs
 * for as long as they run (DeepEP's Buffer.set_num_sms; Megatron-Core sets 20 unless told,
 * megatron/core/transformer/moe/token_dispatcher.py, NVIDIA/Megatron-LM d98e8a6; DeepSeek-V3
 * gives its cross-node all-to-all 20 of H800's 132 SMs, DeepSeek-AI, arXiv:2412.19437, sec.
 * 3.2.2), so the compute beside them runs on the rest: overlapping costs at least that share of
 * the exchange.  NCCL's all-to-all takes SMs too, which the shared overlap-interference covers. */
static double ep_overlap_interference(const struct scenario *scn, const struct hardware *hw)
{
    double shared = hw->gpu.overlap_interference;
    if (scn->moe_dispatcher != DISPATCH_DEEPEP || hw->gpu.sms == 0)
        return shared;
    double held = (double)scn->deepep_sms / hw->gpu.sms;
    return held > shared ? held : shared;
}

/* Sharded data parallelism and what depends on it (grad-reduce-op, quantized-params,
 * fsdp-group): *sh resolved, and the shard sizes of dense and expert parameters. */
static enum sim_status check_sharding(const struct scenario *scn, const struct model *m,
                                      int replicas, int edp, struct scn_sharding *sh_out,
                                      int *shard_out, int *eshard_out, struct sim_error *err)
{
    int shard = replicas, eshard = edp;
    struct scn_sharding sh;
    enum sim_status st = scn_resolve_sharding(scn, &sh, err);
    if (st != SIM_OK)
        return st;
    if (sh.stage >= 2 && replicas == 1 && (m->experts == 0 || edp == 1))
        return scn_rule_error(scn, scn_culprit(scn, scn_given(scn, SCN_FSDP) ? SCN_FSDP : SCN_ZERO,
                                               SCN_GPUS),
                              err,
                              "ZeRO stage %d shards over data parallelism, but dp*cp = 1%s: "
                              "nothing to shard over",
                              sh.stage, m->experts ? " and expert-dp = 1" : "");
    if (scn->grad_reduce_op == GRAD_REDUCE_ALL_REDUCE && sh.stage >= 2)
        return scn_rule_error(scn, SCN_GRAD_REDUCE_OP, err,
                              "grad-reduce-op=all-reduce with ZeRO stage %d: stages 2 and 3 "
                              "reduce-scatter every micro-batch's gradients onto their shards",
                              sh.stage);
    if (scn->grad_reduce_op == GRAD_REDUCE_SCATTER && sh.stage == 0)
        return scn_rule_error(scn, SCN_GRAD_REDUCE_OP, err,
                              "grad-reduce-op=reduce-scatter needs a sharded optimizer "
                              "(distributed-optimizer=true or zero >= 1) to scatter onto");
    if (scn->grad_accumulation != GRAD_ACCUM_FUSED && sh.stage >= 2 && !pipelined_fsdp2(scn, &sh))
        return scn_rule_error(scn, scn_culprit(scn, SCN_GRAD_ACCUMULATION, SCN_ZERO), err,
                              "grad-accumulation=%s sums whole gradients, but ZeRO stage %d "
                              "reduce-scatters every micro-batch's gradients onto their shards",
                              scn_choice_name(SCN_GRAD_ACCUMULATION, scn->grad_accumulation),
                              sh.stage);
    if (scn->quantized_params && !cm_narrow_gemms(scn))
        return scn_rule_error(scn, scn_culprit(scn, SCN_QUANTIZED_PARAMS, SCN_DTYPE), err,
                              "quantized-params applies to dtype=fp8 or nvfp4");
    if (scn->quantized_params && sh.stage == 0) /* megatron/training/arguments.py asserts it */
        return scn_rule_error(scn, SCN_QUANTIZED_PARAMS, err,
                              "quantized-params needs a sharded optimizer (distributed-optimizer="
                              "true, zero >= 1 or fsdp): Megatron gathers the quantized weights "
                              "from the optimizer's shards");
    if (sh.hybrid && scn->fsdp_group) {
        if (replicas % scn->fsdp_group != 0)
            return scn_rule_error(scn, SCN_FSDP_GROUP, err,
                                  "fsdp-group=%d does not divide dp*cp=%d (shards must tile the "
                                  "data-parallel group)",
                                  scn->fsdp_group, replicas);
        shard = scn->fsdp_group;
        eshard = edp % shard == 0 ? shard : edp;
    }
    *sh_out = sh;
    *shard_out = shard;
    *eshard_out = eshard;
    return SIM_OK;
}

/* How micro-batch gradients are summed (enum scn_grad_accumulation): as given, else as the
 * framework does it -- DeepSpeed's pipeline engine with bf16 runs its BF16_Optimizer (ZeRO 0-1
 * only), which adds into an fp32 copy after every backward; with fp16 autograd adds into
 * .grad; everything else Megatron's fused way. */
static int resolve_grad_accumulation(const struct scenario *scn, int zero)
{
    if (scn_given(scn, SCN_GRAD_ACCUMULATION) || scn->framework != FW_DEEPSPEED || zero >= 2)
        return scn->grad_accumulation;
    if (scn->dtype == DT_BF16)
        return GRAD_ACCUM_FP32_COPY;
    return scn->dtype == DT_FP16 ? GRAD_ACCUM_AUTOGRAD : GRAD_ACCUM_FUSED;
}

/* Whether a column-parallel layer's backward collectives run beside its own GEMMs
 * (overlap-tp-backward): as given, else as the framework's tensor-parallel layers do it.
 * Megatron-Core's (tensor_parallel/layers.py, LinearWithGradAccumulationAndAsyncCommunication)
 * and Transformer Engine's (module/linear.py and layernorm_linear.py backward, "Overlap
 * dgrad-RS/AR with wgrad") do; torchtitan's DTensor layers (ColwiseParallel) run the input
 * gradient's collective in line, in autograd's order. */
static int resolve_overlap_tp_backward(const struct scenario *scn)
{
    if (scn_given(scn, SCN_OVERLAP_TP_BACKWARD) || scn->framework != FW_TORCHTITAN)
        return scn->overlap_tp_backward;
    return 0;
}

/* Every rule in turn, then the layout resolved once into *cfg (what the cost model reads). */
static enum sim_status check_rules(struct scenario *scn, const struct model *m,
                                   const struct hardware *hw, struct cm_config *cfg,
                                   struct sim_error *err)
{
    int gpus = 0;
    enum sim_status st = check_cost_inputs(scn, m, hw, err);
    if (st == SIM_OK)
        st = check_layout(scn, m, &gpus, err);
    if (st == SIM_OK)
        st = check_cp(scn, m, err);
    if (st != SIM_OK)
        return st;
    int tp = scn->tp, pp = scn->pp, cp = scn->cp, ep = scn->ep, etp = scn->etp;
    int dp = (int)(gpus / ((long)tp * cp * pp)), edp = (int)(gpus / ((long)ep * etp * pp));
    /* The batch follows the given values (derive.h); so may vp, after the schedule. */
    st = derive_apply(scn, dp, err);
    if (st != SIM_OK)
        return st;
    struct scn_sharding sh = {0};
    int replicas = dp * cp, shard = 0, eshard = 0;
    st = check_sharding(scn, m, replicas, edp, &sh, &shard, &eshard, err);
    if (st != SIM_OK)
        return st;
    int deferred = pipelined_fsdp2(scn, &sh);
    struct hw_fp8_attention fp8_attn = fp8_attention_rates(scn, hw);
    *cfg = (struct cm_config){.gpus = gpus,
                              .tp = tp,
                              .pp = pp,
                              .vp = scn->vp,
                              .cp = cp,
                              .ep = ep,
                              .etp = etp,
                              .dp = dp,
                              .edp = edp,
                              .replicas = replicas,
                              .zero = sh.stage,
                              .reshard = sh.reshard_after_forward && !deferred,
                              .defer_grad_sync = deferred,
                              .grad_accumulation = resolve_grad_accumulation(scn, sh.stage),
                              .overlap_tp_backward = resolve_overlap_tp_backward(scn),
                              .tp_keeps_gathered_input = scn->framework == FW_TORCHTITAN,
                              .async_tp_torch =
                                  scn->framework == FW_TORCHTITAN && scn->overlap_tp_comm,
                              .separate_projections = scn->framework == FW_TORCHTITAN,
                              .split_backward = scn_split_backward(scn),
                              .flat_param_grads = flat_param_grads(scn, &sh, deferred),
                              .fsdp2 = scn->framework == FW_TORCHTITAN && sh.stage >= 3,
                              .regather_own_output = scn->framework == FW_DEEPSPEED,
                              .ep_overlap_interference = ep_overlap_interference(scn, hw),
                              .attention_share = scn->attention_kernel == ATTN_KERNEL_FA2
                                                     ? hw->gpu.fa2_attention_share
                                                     : 1.0,
                              .attention_bwd_ratio = attention_bwd_ratio(m, hw),
                              .attention_fp8_fwd = fp8_attn.fwd,
                              .attention_fp8_bwd = fp8_attn.bwd,
                              .graph_scope = graph_scope(scn),
                              .grad_allreduce =
                                  sh.stage == 0 || scn->grad_reduce_op == GRAD_REDUCE_ALL_REDUCE,
                              .shard = shard,
                              .eshard = eshard,
                              .micro_batch = scn->micro_batch,
                              .global_batch = scn->global_batch,
                              .microbatches = scn->microbatches,
                              .seq = scn->seq,
                              .gpus_per_node = hw->node.gpus};
    return SIM_OK;
}

/* ---- assembly ---------------------------------------------------------------------------- */

static enum sim_status to_time(double s, simtime_t *out, struct sim_error *err)
{
    simtime_t t = simtime_from_s(s);
    if (t < 0)
        return err_set(err, SIM_EFAIL, NULL, 0, "a derived time of %g s does not fit the clock", s);
    *out = t;
    return SIM_OK;
}

static double parts_total(const struct cm_parts *p)
{
    return p->compute + p->recompute + p->tp + p->cp + p->ep + p->dp + p->host;
}

/* Every op, reduction and optimizer step of the step run one after another, in seconds: no
 * schedule takes longer (P2P transfers aside). */
static double serial_s(const struct costmodel *cm, const struct scenario *scn,
                       const struct pipe_setup *setup)
{
    int stages = scn->pp * scn->vp;
    double m = sched_chunk_mbs(setup->schedule, &setup->sp), serial = 0;
    for (int s = 0; s < stages; s++) {
        const struct cm_stage *cs = &cm->stages[s];
        serial += m * (parts_total(&cs->fwd) + parts_total(&cs->bwd) + parts_total(&cs->wgt)) +
                  cs->dp_sync_s;
    }
    for (int r = 0; r < scn->pp; r++)
        serial += cm->rank_opt_s[r] + cm->rank_param_ag_s[r];
    return serial;
}

/* Refuse, as bad input, a step longer than the clock can sum (SCN_MAX_STEP_S), before any
 * duration is put on it: bounded by serial_s (the P2P transfers are checked once the links
 * are known, check_p2p_size).  A huge seq or batch makes it; blame whichever of them was set
 * last. */
static enum sim_status check_step_size(const struct costmodel *cm, const struct scenario *scn,
                                       const struct pipe_setup *setup, struct sim_error *err)
{
    double serial = serial_s(cm, scn, setup);
    if (serial <= SCN_MAX_STEP_S)
        return SIM_OK;
    enum scn_key key =
        scn_culprit(scn, scn_culprit(scn, SCN_SEQ, SCN_MICRO_BATCH), SCN_GLOBAL_BATCH);
    return scn_rule_error(scn, key, err,
                          "one step could take %.3g s of simulated time (seq=%d, micro-batch=%d, "
                          "global-batch=%d), above the limit of 10^6 s",
                          serial, scn->seq, scn->micro_batch, cm->cfg.global_batch);
}

/* The same limit with the pipeline's P2P transfers counted, each over the slowest link (a
 * hardware file with a network of a few bits per second makes them the whole step): 2 sends
 * per stage and micro-batch, as the explicit-cost check in scenario.c counts them.  The link
 * speed comes from the hardware file, the message size from seq and micro-batch: blame the
 * one set last (the hardware= line when they share a file). */
static enum sim_status check_p2p_size(const struct costmodel *cm, const struct scenario *scn,
                                      const struct pipe_setup *setup, struct sim_error *err)
{
    double slowest = 0, bw = 0;
    for (int l = 0; l < 2 * scn->pp; l++) {
        const struct pipe_link *k = &setup->links[l];
        double t = simtime_to_s(k->lat) + (k->bw_Bps > 0 ? setup->act_bytes / k->bw_Bps : 0);
        if (t > slowest) {
            slowest = t;
            bw = k->bw_Bps;
        }
    }
    double transfers = 2.0 * scn->pp * scn->vp * scn->microbatches;
    double total = serial_s(cm, scn, setup) + transfers * slowest;
    if (scn->pp < 2 || total <= SCN_MAX_STEP_S)
        return SIM_OK;
    enum scn_key key = scn_culprit(scn, SCN_HARDWARE, scn_culprit(scn, SCN_SEQ, SCN_MICRO_BATCH));
    return scn_rule_error(scn, key, err,
                          "%.0f P2P transfers of %.3g bytes over links of %.3g bytes/s (%s) "
                          "could take %.3g s of simulated time, above the limit of 10^6 s",
                          transfers, setup->act_bytes, bw, cm->hw->name, transfers * slowest);
}

/* Links between neighbouring pipeline ranks: rank r and r+1 are tp*cp*dp apart in Megatron's
 * order; they share a node when both fall in the same block of gpus_per_node ranks. */
static void fill_links(const struct cm_ctx *c, struct costmodel *cm, struct pipe_setup *setup)
{
    const struct cm_config *cfg = c->cfg;
    long stride = (long)cfg->tp * cfg->cp * cfg->dp;
    struct coll_level pair = cm_intra_level(c, 2); /* two GPUs of a node: one link of a mesh */
    for (int r = 0; r < cfg->pp; r++) {
        for (int dir = 0; dir < 2; dir++) {
            int peer = dir == 0 ? (r + 1) % cfg->pp : (r + cfg->pp - 1) % cfg->pp;
            int same = (r * stride) / cfg->gpus_per_node == (peer * stride) / cfg->gpus_per_node;
            const struct coll_level *lv = same ? &pair : &c->net;
            setup->links[pipe_link_id(cfg->pp, r, peer)] =
                (struct pipe_link){simtime_from_s(lv->lat_s), lv->bw_Bps};
            if (r == 0 && dir == 0)
                cm->pp_link_intra[0] = same;
            if (r == cfg->pp - 1 && dir == 0)
                cm->pp_link_intra[1] = same;
        }
    }
}

static enum sim_status build(struct costmodel *cm, struct scenario *scn, struct pipe_setup *setup,
                             struct sim_error *err);

/* A referenced file that cannot be read at all is the referring line's problem: say which
 * scenario line named it.  Errors inside the file keep pointing into that file. */
static enum sim_status blame_ref(const struct scenario *scn, enum scn_key key,
                                 struct sim_error *err)
{
    if (err->line > 0 || err->status != SIM_EINPUT)
        return err->status;
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    return scn_rule_error(scn, key, err, "%s file %s: %s", scn_key_name(key),
                          key == SCN_MODEL ? scn->model_path : scn->hardware_path, msg);
}

enum sim_status cm_build(struct costmodel *cm, struct scenario *scn, struct pipe_setup *setup,
                         struct sim_error *err)
{
    memset(cm, 0, sizeof *cm);
    memset(setup, 0, sizeof *setup);
    enum sim_status st = model_load(&cm->model, scn->model_path, err);
    if (st != SIM_OK)
        return blame_ref(scn, SCN_MODEL, err);
    if (!scn->hardware_path[0])
        return scn_rule_error(scn, SCN_MODEL, err,
                              "model= needs hardware= (a hardware file) as well");
    if (!(cm->hw_own = mem_calloc(1, sizeof *cm->hw_own)))
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory for the hardware");
    st = hw_load(cm->hw_own, scn->hardware_path, err);
    if (st != SIM_OK) {
        cm_release(cm);
        return blame_ref(scn, SCN_HARDWARE, err);
    }
    cm->hw = cm->hw_own;
    cm->own_curves = 1;
    return build(cm, scn, setup, err);
}

enum sim_status cm_build_preloaded(struct costmodel *cm, struct scenario *scn,
                                   const struct model *model, const struct hardware *hw,
                                   struct pipe_setup *setup, struct sim_error *err)
{
    memset(cm, 0, sizeof *cm);
    memset(setup, 0, sizeof *setup);
    cm->model = *model; /* plain data */
    cm->hw = hw;        /* shared, read-only */
    return build(cm, scn, setup, err);
}

/* The scenario's hw.* knobs over the loaded hardware: in place on a copy of our own, else on a
 * shallow copy of the shared one (only scalars change; the curves stay borrowed). */
static enum sim_status apply_hw_knobs(struct costmodel *cm, const struct scenario *scn,
                                      struct sim_error *err)
{
    if (scn->n_hw_knobs == 0)
        return SIM_OK;
    if (!cm->hw_own) {
        if (!(cm->hw_own = mem_calloc(1, sizeof *cm->hw_own)))
            return err_set(err, SIM_EFAIL, NULL, 0, "out of memory for the hardware");
        *cm->hw_own = *cm->hw; /* the curves stay borrowed (own_curves 0) */
    }
    struct hardware *hw = cm->hw_own;
    for (int i = 0; i < scn->n_hw_knobs; i++) {
        const struct scn_hw_knob *k = &scn->hw_knobs[i];
        char why[256];
        if (hw_knob_set(hw, k->name, k->value, why, sizeof why) != 0)
            return scn_hw_knob_error(scn, k, why, err);
    }
    cm->hw = hw;
    return SIM_OK;
}

/* Bytes a data-parallel all-gather moves for `params` parameters of which `narrow` sit in
 * layers with fp8 / nvfp4 GEMMs (quantized-params: gathered in their stored form). */
static double gather_bytes(const struct cm_ctx *c, double params, double narrow)
{
    return PARAM_BYTES * (params - narrow) + cm_param_gather_bytes(c, 1 /* narrow */) * narrow;
}

/* The cost context every stage is costed with: the linear layers' rate and the 16-bit one,
 * the achievable link levels, flash attention, narrow GEMMs. */
static struct cm_ctx make_ctx(struct costmodel *cm, const struct scenario *scn)
{
    const struct hw_gpu *gpu = &cm->hw->gpu;
    enum dtype wide_dt = cm_narrow_gemms(scn) ? DT_BF16 : (enum dtype)scn->dtype;
    struct cm_ctx c = {
        scn,
        &cm->model,
        cm->hw,
        &cm->cfg,
        {gpu->peak_flops[scn->dtype], hw_matmul_curve(gpu, (enum dtype)scn->dtype)},
        {gpu->peak_flops[wide_dt], hw_matmul_curve(gpu, wide_dt)},
        gpu->peak_flops[wide_dt],
        {cm->hw->node.nvlink_bw_Bps * cm->hw->node.nvlink_eff, cm->hw->node.nvlink_lat_s},
        {cm->hw->net.nic_bw_Bps * cm->hw->net.eff / cm->hw->net.oversubscription,
         cm->hw->net.lat_s},
        scn->attention != ATTENTION_UNFUSED,
        cm_narrow_gemms(scn),
        cm->layer_view,
        {gpu->peak_flops[DT_FP8], hw_matmul_curve(gpu, DT_FP8)}};
    return c;
}

/* torchtitan's passes over the gradient shards before the optimizer (train.py, 9dec370 and
 * later): clip_grad_norm_ (max_norm 1.0) reads the fp32 gradient shards for the norm and
 * multiplies them by the clipped coefficient, which PyTorch does unconditionally (read and
 * write): 12 bytes a parameter; with fp8 all-gathers (quantized-params) the fp8 weights'
 * amax over their fp32 shards, 4 bytes (float8 precompute_float8_dynamic_scale_for_fsdp, or
 * the same at the gathers).  `shard`, `narrow` parameters of this GPU's shard. */
static double fsdp2_step_passes_s(const struct cm_ctx *c, double shard, double narrow)
{
    return cm_memory_s(c, 12.0 * shard + (c->scn->quantized_params ? 4.0 * narrow : 0.0));
}

/* Each pipeline rank's optimizer step (with the weight gradients deferred to the flush) and,
 * without overlap, its parameter all-gather: over the rank's chunks. */
static void cost_ranks(const struct cm_ctx *c, struct costmodel *cm, const struct scenario *scn,
                       const struct pipe_setup *setup)
{
    double chunk_mbs = sched_chunk_mbs(setup->schedule, &setup->sp);
    struct coll_group dense_g = cm_replica_group(c, cm->cfg.replicas, cm->cfg.tp);
    struct coll_group expert_g = cm_replica_group(c, cm->cfg.edp, cm->cfg.etp * cm->cfg.ep);
    int gathers = cm->cfg.zero == 1 || cm->cfg.zero == 2; /* ZeRO-3 gathers per layer */
    for (int r = 0; r < scn->pp; r++) {
        double dense = 0, expert = 0, narrow_dense = 0, narrow_expert = 0, edge = 0;
        double ns_dense = 0, ns_expert = 0;
        for (int ch = 0; ch < scn->vp; ch++) {
            const struct cm_stage *cs = &cm->stages[scn_stage_of(scn, r, ch)];
            dense += cs->dense_params;
            expert += cs->expert_params;
            edge += cs->edge_params;
            narrow_dense += cs->narrow_dense_params;
            narrow_expert += cs->narrow_expert_params;
            ns_dense += cs->muon_dense_s;
            ns_expert += cs->muon_expert_s;
            cm->rank_deferred_s[r] += chunk_mbs * cs->deferred_wgt;
        }
        /* Muon's matrices are shared out whole over the ranks that shard the state
         * (LayerWiseDistributedOptimizer, cm_muon.c): each does its share of the work. */
        double shard = optimizer_shard(cm, scn, dense, expert);
        double edge_shard = optimizer_shard(cm, scn, edge, 0.0);
        double ns = optimizer_shard(cm, scn, ns_dense, ns_expert);
        cm->rank_opt_s[r] = cm->rank_deferred_s[r] + optimizer_s(c, shard, edge_shard) + ns;
        if (cm->cfg.fsdp2)
            cm->rank_opt_s[r] += fsdp2_step_passes_s(c, shard, optimizer_shard(cm, scn, narrow_dense,
                                                                              narrow_expert));
        int host_link = c->hw->node.host_bw_Bps > 0 && c->hw->node.host_mem_bw_Bps > 0;
        cm->rank_opt_offloaded_s[r] =
            host_link ? cm->rank_deferred_s[r] + optimizer_at_s(c, shard, edge_shard, 1.0) + ns
                      : cm->rank_opt_s[r];
        if (gathers && !scn->overlap_param_gather && dense_g.n > 1)
            cm->rank_param_ag_s[r] =
                cm_coll_time(c, COLL_ALL_GATHER, gather_bytes(c, dense, narrow_dense), dense_g) +
                (expert_g.n > 1 && expert > 0
                     ? cm_coll_time(c, COLL_ALL_GATHER, gather_bytes(c, expert, narrow_expert),
                                    expert_g)
                     : 0.0);
    }
}

/* The engine's per-stage and per-rank times: F = forward; B = input gradient (+ recompute,
 * communication); W = weight gradient.  Unsplit, the pipeline runs B + W as one backward op. */
static enum sim_status fill_times(const struct costmodel *cm, const struct scenario *scn,
                                  struct pipe_setup *setup, struct sim_error *err)
{
    enum sim_status st = SIM_OK;
    for (int s = 0; s < scn->pp * scn->vp && st == SIM_OK; s++) {
        const struct cm_stage *cs = &cm->stages[s];
        /* The last gradient bucket's reduction cannot hide behind the chunk's backward. */
        double bucket = DP_BUCKET_PARAMS > 1e6 * cm->cfg.dp ? DP_BUCKET_PARAMS : 1e6 * cm->cfg.dp;
        double tail = cs->params > bucket ? cs->dp_sync_s * bucket / cs->params : cs->dp_sync_s;
        /* PyTorch's pipelining issues a stage's deferred reduce-scatters only after its last
         * backward has returned (torch/distributed/pipelining/stage.py,
         * backward_maybe_with_nosync then run_post_backward), so none hides behind it. */
        if (cm->cfg.defer_grad_sync)
            tail = cs->dp_sync_s;
        /* What an overlapped F&B pair's partner can hide of an op: its expert-parallel
         * exchanges, which run on their own stream (Megatron-Core's A2A overlap: dispatch and
         * combine on comm_stream, model_chunk_schedule_plan.py; DualPipe likewise).  TP
         * collectives block the compute stream both micro-batches share, and the rest is what
         * the op's own work already left exposed: they stay in line. */
        double fwd_comm = cs->fwd.ep, bwd_comm = cs->bwd.ep;
        setup->stage_layers[s] =
            cs->layers + (cs->has_head ? cm->model.mtp_layers * model_mtp_module_layers(&cm->model)
                                       : 0);
        if ((st = to_time(tail, &setup->stage_dp_tail[s], err)) != SIM_OK ||
            (st = to_time(parts_total(&cs->fwd), &setup->stage_fwd[s], err)) != SIM_OK ||
            (st = to_time(parts_total(&cs->bwd), &setup->stage_bwd[s], err)) != SIM_OK ||
            (st = to_time(fwd_comm, &setup->stage_fwd_comm[s], err)) != SIM_OK ||
            (st = to_time(bwd_comm, &setup->stage_bwd_comm[s], err)) != SIM_OK ||
            (st = to_time(parts_total(&cs->wgt), &setup->stage_wgt[s], err)) != SIM_OK)
            break;
        st = to_time(cs->dp_sync_s, &setup->stage_dp[s], err);
    }
    for (int r = 0; r < scn->pp && st == SIM_OK; r++)
        if ((st = to_time(cm->rank_opt_s[r], &setup->rank_opt[r], err)) == SIM_OK)
            st = to_time(cm->rank_param_ag_s[r], &setup->rank_param_ag[r], err);
    return st;
}

/* FLOPs for MFU (model FLOPs: 3 x forward, full attention, as Megatron and PaLM report) and
 * HFU (adds what recompute executes again). */
static void step_flops(struct costmodel *cm, const struct scenario *scn)
{
    double samples = cm->cfg.global_batch;
    cm->model_flops_step = flops_model_step(&cm->model, cm->cfg.seq, (long)samples, 0);
    double recompute = 0;
    if (scn->recompute == RECOMPUTE_FULL)
        recompute = samples * (flops_model_fwd(&cm->model, cm->cfg.seq, 0) -
                               flops_head_fwd(&cm->model, cm->cfg.seq));
    else if (scn->recompute == RECOMPUTE_SELECTIVE) {
        struct layer_flops lf;
        for (int l = 0; l < cm->model.layers; l++) {
            flops_layer_fwd(&cm->model, l, cm->cfg.seq, 0, &lf);
            recompute += samples * lf.attn_core;
        }
    }
    cm->hw_flops_step = cm->model_flops_step + recompute;
}

static enum sim_status build(struct costmodel *cm, struct scenario *scn, struct pipe_setup *setup,
                             struct sim_error *err)
{
    enum sim_status st;
    if ((st = apply_hw_knobs(cm, scn, err)) != SIM_OK)
        goto fail;
    if (scn_given(scn, SCN_MTP_LAYERS)) /* the recipe trains more or fewer MTP modules */
        cm->model.mtp_layers = scn->mtp_layers;
    if ((st = check_rules(scn, &cm->model, cm->hw, &cm->cfg, err)) != SIM_OK ||
        (st = scn_check(scn, err)) != SIM_OK)
        goto fail;

    struct cm_ctx c = make_ctx(cm, scn);
    for (int kind = 0; kind < CM_LAYER_VIEWS; kind++)
        cm->layer_view[kind].layer = cm->layer_view[kind].stage = -1;
    cm->peak_flops = c.linear.peak;
    cm->tp_spans_nodes = cm->cfg.tp > cm->cfg.gpus_per_node;

    struct sched_params sp = scn_sched_params(scn);
    if ((st = pipe_setup_init(setup, scn_schedule(scn), &sp, err)) != SIM_OK)
        goto fail;
    int stages = scn->pp * scn->vp;
    cm->stages = mem_calloc((size_t)stages, sizeof *cm->stages);
    cm->rank_opt_s = mem_calloc((size_t)scn->pp, sizeof(double));
    cm->rank_param_ag_s = mem_calloc((size_t)scn->pp, sizeof(double));
    cm->rank_deferred_s = mem_calloc((size_t)scn->pp, sizeof(double));
    cm->rank_opt_offloaded_s = mem_calloc((size_t)scn->pp, sizeof(double));
    if (!cm->stages || !cm->rank_opt_s || !cm->rank_param_ag_s || !cm->rank_deferred_s ||
        !cm->rank_opt_offloaded_s) {
        st = err_set(err, SIM_EFAIL, NULL, 0, "out of memory for %d stages", stages);
        goto fail;
    }
    for (int s = 0; s < stages; s++) {
        struct cm_stage *cs = &cm->stages[s];
        if (s > 0 && cm_stage_repeats(&c, cs - 1, s)) {
            *cs = cs[-1];
            scn_stage_layers(scn, s, &cs->first_layer, &cs->layers);
            continue;
        }
        cm_stage_cost(&c, s, cs);
        stage_params(&c, cs);
        cs->wgt.compute += grad_accumulation_s(&c, cs);
        cs->dp_sync_s = cm_dp_sync_s(&c, cs);
    }
    cost_ranks(&c, cm, scn, setup);
    if ((st = check_step_size(cm, scn, setup, err)) != SIM_OK ||
        (st = fill_times(cm, scn, setup, err)) != SIM_OK)
        goto fail;
    setup->overlap_interference = cm->cfg.ep_overlap_interference; /* pairs hide EP only */
    setup->overlap_grad_reduce = scn->overlap_grad_reduce;
    setup->blocking_p2p = !scn->overlap_p2p;
    /* DeepSpeed's pipeline engine sends and receives with blocking NCCL calls inside its
     * TrainSchedule steps (deepspeed/runtime/pipe/engine.py, p2p.py; schedule.py, v0.5.4) */
    setup->rendezvous_p2p = setup->blocking_p2p && scn->framework == FW_DEEPSPEED;
    /* P2P: the [s/cp, b, h] activation; each TP rank sends only its 1/tp slice with sequence
     * parallelism (Megatron-Core) or the scatter-gather optimisation (Narayanan et al. 2021,
     * sec. 4.1; the receiver then all-gathers it over TP: cm_stage.c, add_p2p_gather). */
    double T = (double)cm->cfg.micro_batch * cm->cfg.seq / cm->cfg.cp;
    int sliced = scn->sp || scn->p2p_scatter_gather;
    cm->p2p_bytes = ACT_BYTES * T * cm->model.hidden / (sliced ? cm->cfg.tp : 1);
    setup->act_bytes = cm->p2p_bytes;
    fill_links(&c, cm, setup);
    if ((st = check_p2p_size(cm, scn, setup, err)) != SIM_OK)
        goto fail;
    setup->jitter_cv = scn->jitter;
    setup->seed = scn->seed;
    step_flops(cm, scn);
    return SIM_OK;
fail:
    pipe_setup_release(setup);
    cm_release(cm);
    return st;
}

void cm_release(struct costmodel *cm)
{
    mem_free(cm->stages);
    mem_free(cm->rank_opt_s);
    mem_free(cm->rank_param_ag_s);
    mem_free(cm->rank_deferred_s);
    mem_free(cm->rank_opt_offloaded_s);
    if (cm->hw_own && cm->own_curves)
        hw_release(cm->hw_own);
    mem_free(cm->hw_own);
    cm->hw = NULL;
    cm->hw_own = NULL;
    cm->own_curves = 0;
    cm->stages = NULL;
    cm->rank_opt_s = cm->rank_param_ag_s = cm->rank_deferred_s = cm->rank_opt_offloaded_s = NULL;
}

void cm_rank_memory(const struct costmodel *cm, const struct scenario *scn,
                    const struct pipe_result *res, int rank, struct cm_rank_memory *out)
{
    double dense = 0, expert = 0, act = 0, largest = 0, narrow = 0, edge = 0, layers = 0;
    double mxfp8 = 0;
    for (int ch = 0; ch < scn->vp; ch++) {
        const struct cm_stage *cs = &cm->stages[scn_stage_of(scn, rank, ch)];
        layers += cs->layers;
        narrow += cs->narrow_dense_params + cs->narrow_expert_params;
        mxfp8 += cs->mxfp8_params;
        edge += cs->edge_params;
        dense += cs->dense_params;
        expert += cs->expert_params;
        act += cs->act_bytes_mb;
        largest = cs->max_unit_params > largest ? cs->max_unit_params : largest;
    }
    memset(out, 0, sizeof *out);
    /* Sharded stages hold their shard, plus what is gathered at once: ZeRO-3 the layer being
     * computed and the one prefetched (all of the rank's when parameters stay gathered from
     * forward to backward), ZeRO-2/3 one layer's full gradients before their reduce-scatter
     * (all of the rank's under pipeline parallelism, accumulated until the last backward). */
    double own = dense + expert, shard = optimizer_shard(cm, scn, dense, expert);
    double edge_shard = optimizer_shard(cm, scn, edge, 0.0);
    double gathered = cm->cfg.reshard ? 2.0 * largest : own;
    /* With quantized-params the narrow layers keep no 16-bit weights: their quantized copies
     * below are the parameters (and a ZeRO-3 shard holds them in their gathered form). */
    double narrow_share = scn->quantized_params && own > 0 ? narrow / own : 0.0;
    double sharded_bytes = PARAM_BYTES * (1.0 - narrow_share) +
                           cm_quantized_param_bytes(scn) * narrow_share;
    out->weights = cm->cfg.zero >= 3 ? sharded_bytes * shard +
                                           PARAM_BYTES * (1.0 - narrow_share) * gathered
                                     : PARAM_BYTES * own * (1.0 - narrow_share);
    if (cm->cfg.fsdp2) /* the shard is the fp32 master the optimizer state counts: the 16-bit
                        * copies exist only gathered (_fsdp_param.py: the cast is the
                        * all-gather's copy-in); the narrow layers' gathered fp8 weights are
                        * the cache below */
        out->weights = PARAM_BYTES * (1.0 - narrow_share) * gathered;
    /* TE's cached fp8 / nvfp4 weights and their transposes, kept across a step's micro-batches;
     * ZeRO-3 holds them for the layers gathered at once (all of the rank's when kept gathered) */
    int resharded = cm->cfg.zero >= 3 && cm->cfg.reshard;
    out->weights += narrow_weight_cache_bytes(scn) * (resharded ? 2.0 * largest : narrow) +
                    MXFP8_WEIGHT_CACHE_BYTES * mxfp8;
    int per_microbatch = cm->cfg.zero >= 2 && !cm->cfg.defer_grad_sync;
    /* DeepSpeed's BF16_Optimizer keeps an fp32 gradient for every parameter beside the bf16
     * .grad each backward writes (freed only when the next backward starts) */
    double grad_bytes = cm->cfg.grad_accumulation == GRAD_ACCUM_FP32_COPY ? 4.0 + PARAM_BYTES
                                                                          : cm_grad_bytes(scn);
    out->grads = grad_bytes * (per_microbatch ? shard + largest : own);
    if (cm->cfg.fsdp2) /* beside the activations' peak, at the first backward unit: its 16-bit
                        * gradients and, each micro-batch reducing, their reduce-scatter input
                        * in the reduce type (chunk_cat; FSDPParamGroup keeps a second one only
                        * once the next unit's activations are freed); under pipelining the
                        * stage's accumulated gradients and the unit's 16-bit ones */
        out->grads = per_microbatch ? grad_bytes * shard + (PARAM_BYTES + grad_bytes) * largest
                                    : grad_bytes * own + PARAM_BYTES * largest;
    out->optimizer =
        optimizer_state_bytes(scn, shard, edge_shard) * (1.0 - scn->offload_optimizer);
    out->act_per_mb = act / scn->vp;
    out->activations = out->act_per_mb * res->peak_inflight[rank];
    /* an overlapped F&B pair at the peak holds one layer more at its crossing (pipeline.h) */
    int pair = res->pair_peak ? res->pair_peak[rank] : 0;
    if (pair > 0 && pair >= res->peak_inflight[rank] && layers > 0)
        out->activations += act / layers;
    out->total = out->weights + out->grads + out->optimizer + out->activations;
    out->oom = out->total > hw_usable_hbm(&cm->hw->gpu);
}
