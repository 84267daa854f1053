/* costmodel: from model + hardware + parallel layout to op times, links and memory.
 *
 * Each stage's parameters, the optimizer and memory, and the assembly of the engine's setup
 * live here; the configuration rules are cm_rules.c's, op times cm_stage.c's (from cm_work.c's
 * layers), collectives cm_comm.c's.
 * Activations, P2P tensors and working weights are cm_config's act_bytes / param_bytes per
 * element: 2 (bf16/fp16; fp8 training keeps bf16 activations), 4 in an fp32 or tf32 run.
 * Gradients are kept and reduced in the parameters' type unless grad-reduce-fp32 (Megatron-
 * Core's default; --accumulate-allreduce-grads-in-fp32 makes them fp32); the optimizer is
 * mixed-precision Adam, or plain Adam on the fp32 weights themselves in an fp32 run.  Every
 * constant below says where it comes from. */
#include "costmodel.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "cm_internal.h"
#include "cm_layer.h"
#include "cm_muon.h"
#include "flops.h"
#include "framework.h"


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
    if (model_mixer_is_ssm(mixer))
        d += ((mods & LM_MAMBA_IN) ? model_weights_ssm_in(m) : 0.0) +
             ((mods & LM_MAMBA_OUT) ? model_weights_ssm_out(m) : 0.0);
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

/* The parameters of the word embedding that a stage needs on a pipeline rank that does not
 * hold the embedding's own stage: a copy of its own (0 where the rank holds it).
 * - A tied model's head: Megatron-Core's output layer allocates its weight unless its chunk
 *   also embeds (gpt_model.py, skip_weight_param_allocation=pre_process and
 *   share_embeddings_and_output_weights, at d98e8a6); DeepSpeed's pipeline keeps a TiedLayerSpec
 *   module on every stage that uses it.
 * - MTP modules look their shifted tokens up in an embedding built on their stage
 *   (gpt_model.py: `if self.pre_process or self.mtp_process`), positions included.
 * The copies' gradients are the ones embedding_allreduce_s sums with the first stage's. */
static double embedding_copy_params(const struct cm_ctx *c, const struct cm_stage *st,
                                    int rank_embeds)
{
    const struct model *m = c->m;
    if (rank_embeds)
        return 0.0;
    if (st->mtp_modules > 0)
        return model_params_embedding(m) / c->cfg->tp;
    if (st->has_head && m->tied_embeddings)
        return (double)m->vocab * m->hidden / c->cfg->tp;
    return 0.0;
}

/* The sums stage_params builds from the stage's layers, its MTP modules and its embedding and
 * head, in parameters per GPU: the helpers add to them in the order of the layers, as one loop
 * did, so the floating-point sums come out the same. */
struct param_sums {
    double dense, expert;           /* all the stage's weights */
    double largest;                 /* the largest layer, embedding or head (max_unit_params) */
    double lora_dense, lora_expert; /* peft=lora: the adapters' */
};

/* The stage's transformer layers: their weights, and what the stage records per layer beside
 * them -- narrow (quantized) and MXFP8 weights, Muon's optimizer time. A layer of the kind of
 * the one before has its numbers (model_layer_kind), so only a new kind is costed again. */
static void add_stage_layers(const struct cm_ctx *c, struct cm_stage *st, struct param_sums *p)
{
    const struct model *m = c->m;
    double d = 0, e = 0, nd = 0, ne = 0;
    double bd = 0, be = 0, xd = 0, xe = 0; /* of d and e, in bf16 and in MXFP8 modules */
    double ld = 0, le = 0;                 /* peft=lora: the adapters' */
    int muon = c->scn->optimizer_algorithm == OPTALG_MUON;
    for (int l = st->first_layer, kind = -1; l < st->first_layer + st->layers; l++) {
        int k = model_layer_kind(m, l, c->cfg->seq); /* one kind, one count (model.h) */
        if (k != kind) {
            cm_layer_params(c, l, &d, &e);
            module_params(c, l, c->scn->bf16_modules, &bd, &be);
            module_params(c, l, c->scn->mxfp8_modules, &xd, &xe);
            if (muon)
                cm_muon_layer_s(c, l, &nd, &ne);
            if (scn_adapters(c->scn))
                cm_lora_layer_params(c, l, &ld, &le);
        }
        kind = k;
        p->dense += d;
        p->expert += e;
        p->lora_dense += ld;
        p->lora_expert += le;
        st->muon_dense_s += nd;
        st->muon_expert_s += ne;
        if (cm_layer_is_narrow(c, l)) { /* DeepSeek-V4's einsum and mixing weights: none */
            st->narrow_dense_params += d - bd - xd - model_params_16bit(m, l) / c->cfg->tp;
            st->narrow_expert_params += e - be - xe;
            st->mxfp8_params += xd + xe;
        }
        p->largest = d + e > p->largest ? d + e : p->largest;
    }
}

/* The multi-token-prediction modules, on the last stage: each module's projection and layer,
 * held once when the layer is repeated (mtp-repeated-layer), with their adapters and Muon. */
static void add_mtp_modules(const struct cm_ctx *c, struct cm_stage *st, struct param_sums *p)
{
    if (st->mtp_modules <= 0)
        return;
    double h = c->m->hidden, d, e, ld, le, nd, ne;
    int muon = c->scn->optimizer_algorithm == OPTALG_MUON;
    int copies = c->scn->mtp_repeated_layer ? 1 : st->mtp_modules; /* weights held */
    p->dense += copies * 2.0 * h * h / c->cfg->tp;
    for (int j = 0; j < model_mtp_module_layers(c->m); j++) {
        int l = model_mtp_layer(c->m, j);
        cm_layer_params(c, l, &d, &e);
        p->dense += copies * d;
        p->expert += copies * e;
        if (scn_adapters(c->scn)) { /* its layer's adapters; eh_proj stays frozen */
            cm_lora_layer_params(c, l, &ld, &le);
            p->lora_dense += copies * ld;
            p->lora_expert += copies * le;
        }
        p->largest = d + e > p->largest ? d + e : p->largest;
        if (muon) { /* the module's layers; its 2h -> h projection is left out (small) */
            cm_muon_layer_s(c, l, &nd, &ne);
            st->muon_dense_s += copies * nd;
            st->muon_expert_s += copies * ne;
        }
    }
}

static void stage_params(const struct cm_ctx *c, struct cm_stage *st, int rank_embeds)
{
    const struct model *m = c->m;
    struct param_sums p = {0};
    st->narrow_dense_params = st->narrow_expert_params = st->mxfp8_params = 0.0;
    st->muon_dense_s = st->muon_expert_s = 0.0;
    add_stage_layers(c, st, &p);
    double embedding = st->has_embedding ? model_params_embedding(m) / c->cfg->tp
                                         : embedding_copy_params(c, st, rank_embeds);
    double head =
        st->has_head ? (model_params_head(m) + model_params_final_norm(m)) / c->cfg->tp : 0.0;
    add_mtp_modules(c, st, &p);
    if (c->scn->fp8_output_proj && st->has_head) /* the MXFP8 output layer's weight copies */
        st->mxfp8_params += model_params_head(m) / c->cfg->tp;
    p.dense += embedding + head;
    p.largest = embedding > p.largest ? embedding : p.largest;
    p.largest = head > p.largest ? head : p.largest;
    st->frozen_params = 0.0;
    if (scn_adapters(c->scn)) { /* the base model frozen: the adapters train */
        st->frozen_params = p.dense + p.expert;
        p.dense = p.lora_dense;
        p.expert = p.lora_expert;
        embedding = head = 0.0;
    }
    st->dense_params = p.dense;
    st->expert_params = p.expert;
    st->params = p.dense + p.expert;
    st->edge_params = embedding + head;
    st->max_unit_params = p.largest;
}

/* The word embedding's gradient, every micro-batch on a stage that looks tokens up: the
 * first, and the last when it holds multi-token-prediction modules (each embeds its shifted
 * tokens with the model's embedding: multi_token_prediction.py, gpt_model.py builds the
 * embedding where mtp_process, core_v0.14.0).  Each lookup's backward (F.embedding, or
 * indexing in deterministic mode: Megatron's VocabParallelEmbedding, tensor_parallel/
 * layers.py) writes a dense gradient of the whole vocabulary shard, zeroed and then scattered
 * into (pb, the parameters' bytes, an element), autograd sums a second lookup's into the
 * first's (3 x pb), and with Megatron's fused accumulation -- which only the linear layers'
 * GEMMs do -- the data-parallel hook then adds the sum into main_grad (pb + 2 x (4 or pb)
 * bytes; distributed_data_parallel.py,
 * param.main_grad.add_(param.grad.data), core_r0.8.0).  The other accumulation modes' pass
 * already covers every parameter, the embedding's too, and sharded data parallelism (ZeRO-2/3)
 * hands each micro-batch's gradients to its own reduce-scatter passes. */
static double embedding_grad_s(const struct cm_ctx *c, const struct cm_stage *cs)
{
    double lookups = (cs->has_embedding ? 1.0 : 0.0) + cs->mtp_modules;
    if (lookups <= 0 || scn_adapters(c->scn)) /* LoRA: the embedding is frozen */
        return 0.0;
    double elements = model_params_embedding(c->m) / c->cfg->tp;
    double pb = c->cfg->param_bytes;
    double bytes = pb * lookups + 3.0 * pb * (lookups - 1.0);
    if (c->cfg->grad_accumulation == GRAD_ACCUM_FUSED && c->cfg->zero < 2)
        bytes += pb + 2.0 * cm_grad_bytes(c->scn);
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
 * - autograd's AccumulateGrad reads .grad and the new gradient and writes .grad, 3 x 2 bytes
 *   (3 x 4 in an fp32 run), from the second micro-batch on (the first is assigned);
 * - main-grad: Megatron without its fusion (--no-gradient-accumulation-fusion): the
 *   distributed-data-parallel hook adds each micro-batch's 16-bit .grad into main_grad, in the
 *   reduce type (megatron/core/distributed/distributed_data_parallel.py,
 *   _make_backward_post_hook: param.main_grad.add_(param.grad.data)): 2 + 2 x (4 or 2) bytes
 *   (4 + 2 x 4 in an fp32 run), every micro-batch;
 * - fused: Megatron's weight-gradient GEMM adds into its buffer as it writes (no pass).
 * The pass's launches, one or two per parameter tensor, are not counted. */
static double grad_accumulation_s(const struct cm_ctx *c, const struct cm_stage *cs)
{
    double m = c->cfg->microbatches > 0 ? c->cfg->microbatches : 1.0;
    double bytes_per_param = 0.0, pb = c->cfg->param_bytes; /* .grad: the parameters' type */
    if (c->cfg->grad_accumulation == GRAD_ACCUM_FP32_COPY)
        bytes_per_param = pb + FP32_BYTES + 3.0 * FP32_BYTES;
    else if (c->cfg->grad_accumulation == GRAD_ACCUM_AUTOGRAD)
        bytes_per_param = 3.0 * pb * (m - 1.0) / m;
    else if (c->cfg->grad_accumulation == GRAD_ACCUM_MAIN_GRAD)
        bytes_per_param = pb + 2.0 * cm_grad_bytes(c->scn);
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

/* Is the run fp32 (or tf32, fp32 storage): its parameters fp32 themselves (cm_dtype_bytes)? */
static int fp32_weights(const struct scenario *scn)
{
    return cm_dtype_bytes(scn->dtype) == FP32_BYTES;
}

/* Does the optimizer keep an fp32 master copy of the weights?  Not with optimizer-state=bf16,
 * nor in an fp32 run, whose fp32 parameters the optimizer updates in place: Megatron's
 * DistributedOptimizer takes an fp32 parameter's shard as a view of the parameter itself, where
 * it clones a 16-bit one's into an fp32 main_param (megatron/core/optimizer/distrib_optimizer.py,
 * _build_model_and_main_param_groups: 'torch.cuda.FloatTensor' -> shard_fp32_groups, no
 * clone), and without it a run with neither --fp16 nor --bf16 gets FP32Optimizer, which wraps
 * the torch optimizer with no copy (megatron/core/optimizer/__init__.py,
 * _get_megatron_optimizer_based_on_param_groups; optimizer.py, FP32Optimizer). */
static int keeps_master(const struct scenario *scn)
{
    return scn->optimizer_state != OPTSTATE_BF16 && !fp32_weights(scn);
}

/* Bytes of optimizer state per parameter keeping `moments` moments: an fp32 master copy
 * where the optimizer keeps one (keeps_master), and its moments in fp32 or bf16.
 * Mixed-precision Adam: 4 + 2 x 4 = 12 (Rajbhandari et al., ZeRO, SC'20, sec. 3.1: with 2-byte
 * weights and gradients, their 16 bytes/param); Megatron's precision-aware optimizer with bf16
 * moments: 4 + 2 x 2 = 8; a Muon matrix's one momentum: 4 + 4 = 8; Adam in an fp32 run, its
 * exp_avg and exp_avg_sq: 2 x 4 = 8 beside the 4-byte weights and 4-byte gradients (16 in all,
 * as mixed precision's 2 + 2 + 12). */
static double state_bytes(const struct scenario *scn, int moments)
{
    double master = keeps_master(scn) ? FP32_BYTES : 0.0;
    double moment = scn->optimizer_state == OPTSTATE_FP32 ? FP32_BYTES : BF16_BYTES;
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
 * (fused multi-tensor Adam, fp32 state: 4 + 24 + 2 = 30 per parameter); an fp32 run reads and
 * writes the weights themselves, its master (4 + 2 x 4 + 16 = 28). */
static double optimizer_traffic_bytes(const struct cm_ctx *c, double params, double edge)
{
    const struct scenario *scn = c->scn;
    double weights = fp32_weights(scn) ? 2.0 * c->cfg->param_bytes : c->cfg->param_bytes;
    return (cm_grad_bytes(scn) + weights) * params +
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
    double traffic = optimizer_traffic_bytes(c, params, edge);
    double gpu = cm_memory_s(c, traffic * (1.0 - g));
    if (g <= 0)
        return gpu;
    const struct hw_node *n = &c->hw->node;
    double host = g * params * (cm_grad_bytes(c->scn) + c->cfg->param_bytes) / n->host_bw_Bps +
                  g * traffic / n->host_mem_bw_Bps;
    return gpu > host ? gpu : host;
}

/* The same with the scenario's offload-optimizer share. */
static double optimizer_s(const struct cm_ctx *c, double params, double edge)
{
    return optimizer_at_s(c, params, edge, c->scn->offload_optimizer);
}

/* Parameters of its own whose sharded state one GPU holds: all of them, or from ZeRO-1 on its
 * shard of them (so DualPipe's second copy costs no optimizer memory there: two parts over
 * twice the ranks); `outer`: a hybrid shard's replicas split it again. */
static double shard_of(const struct costmodel *cm, const struct scenario *scn, double dense,
                       double expert, int outer)
{
    if (cm->cfg.zero == 0)
        return dense + expert;
    int copies = layout_part_copies(&cm->layout);
    int shard = outer ? cm->cfg.replicas : cm->cfg.shard;
    int eshard = outer ? cm->cfg.edp : cm->cfg.eshard;
    return dense / (copies * shard) + expert / (copies * eshard);
}

/* ... of its optimizer state: split over the replicas too with fsdp-outer-shard=optim. */
static double optimizer_shard(const struct costmodel *cm, const struct scenario *scn, double dense,
                              double expert)
{
    return shard_of(cm, scn, dense, expert, cm->cfg.outer_optim);
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

static double parts_comm(const struct cm_parts *p)
{
    return p->tp + p->cp + p->ep + p->dp;
}

/* Every op, reduction and optimizer step of the step run one after another, in seconds: no
 * schedule takes longer (P2P transfers aside); *comm_s: its collectives' share. */
static double serial_s(const struct costmodel *cm, const struct scenario *scn,
                       const struct pipe_setup *setup, double *comm_s)
{
    int stages = scn->pp * scn->vp;
    double m = sched_chunk_mbs(setup->schedule, &setup->sp), serial = 0, comm = 0;
    for (int s = 0; s < stages; s++) {
        const struct cm_stage *cs = &cm->stages[s];
        serial += m * (parts_total(&cs->fwd) + parts_total(&cs->bwd) + parts_total(&cs->wgt)) +
                  cs->dp_sync_s;
        if (comm_s)
            comm += m * (parts_comm(&cs->fwd) + parts_comm(&cs->bwd) + parts_comm(&cs->wgt)) +
                    cs->dp_sync_s;
    }
    for (int r = 0; r < scn->pp; r++) {
        serial += cm->rank_opt_s[r] + cm->rank_param_ag_s[r];
        comm += cm->rank_param_ag_s[r];
    }
    if (comm_s)
        *comm_s = comm;
    return serial;
}

/* The last --set hw. knob that changes what a collective takes, or NULL: one of the file's
 * <network>, or of its <node> but the host's (whose links carry offload, not collectives). */
static const struct scn_hw_knob *last_network_knob(const struct scenario *scn)
{
    for (int k = scn->n_hw_knobs - 1; k >= 0; k--) {
        const char *name = scn->hw_knobs[k].name, *element, *value;
        if (hw_knob_describe(name, &element, &value) != 0)
            continue;
        if (strcmp(element, "network") == 0 ||
            (strcmp(element, "node") == 0 && strncmp(name, "host-", 5) != 0))
            return &scn->hw_knobs[k];
    }
    return NULL;
}

/* Refuse, as bad input, a step longer than the clock can sum (SCN_MAX_STEP_S), before any
 * duration is put on it: bounded by serial_s (the P2P transfers are checked once the links
 * are known, check_p2p_size).  A huge seq or batch makes it -- blame whichever of them was set
 * last -- or a network of a few bits per second: when the collectives are most of it and a
 * --set hw. knob slowed the network, blame that knob. */
static enum sim_status check_step_size(const struct costmodel *cm, const struct scenario *scn,
                                       const struct pipe_setup *setup, struct sim_error *err)
{
    double comm, serial = serial_s(cm, scn, setup, NULL); /* once a build: no share asked */
    if (serial <= SCN_MAX_STEP_S)
        return SIM_OK;
    serial_s(cm, scn, setup, &comm);
    char why[320];
    snprintf(why, sizeof why,
             "one step could take %.3g s of simulated time, %.3g s of it in collectives over "
             "%s's links (seq=%d, micro-batch=%d, global-batch=%d), above the limit of 10^6 s",
             serial, comm, cm->hw->name, scn->seq, scn->micro_batch, cm->cfg.global_batch);
    const struct scn_hw_knob *knob = comm > serial / 2 ? last_network_knob(scn) : NULL;
    if (knob)
        return scn_hw_knob_error(scn, knob, why, err);
    return scn_rule_error_keys(scn, SCN_KEYS(SCN_SEQ, SCN_MICRO_BATCH, SCN_GLOBAL_BATCH), err, "%s",
                               why);
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
    double total = serial_s(cm, scn, setup, NULL) + transfers * slowest;
    if (scn->pp < 2 || total <= SCN_MAX_STEP_S)
        return SIM_OK;
    return scn_rule_error_keys(scn, SCN_KEYS(SCN_HARDWARE, SCN_SEQ, SCN_MICRO_BATCH), err,
                               "%.0f P2P transfers of %.3g bytes over links of %.3g bytes/s (%s) "
                               "could take %.3g s of simulated time, above the limit of 10^6 s",
                               transfers, setup->act_bytes, bw, cm->hw->name, transfers * slowest);
}

/* Links between neighbouring pipeline ranks, each way: over NVLink where the two share a node
 * (groups.h; rank r's link to r + 1 is the pair r + 1 takes back), else the network. */
static void fill_links(const struct cm_ctx *c, struct pipe_setup *setup)
{
    int pp = c->cfg->pp;
    struct coll_level pair = cm_intra_level(c, 2); /* two GPUs of a node: one link of a mesh */
    for (int r = 0; r < pp; r++) {
        for (int dir = 0; dir < 2; dir++) {
            int peer = dir == 0 ? (r + 1) % pp : (r + pp - 1) % pp;
            int same = groups_pp_next_in_node(c->groups, dir == 0 ? r : peer);
            const struct coll_level *lv = same ? &pair : &c->net;
            setup->links[pipe_link_id(pp, r, peer)] =
                (struct pipe_link){simtime_from_s(lv->lat_s), lv->bw_Bps};
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
    return c->cfg->param_bytes * (params - narrow) +
           cm_param_gather_bytes(c, 1 /* narrow */) * narrow;
}

/* The cost context every stage is costed with: the linear layers' rate (block-scaled fp8 at
 * the file's share of the fp8 curve) and the 16-bit one, the achievable link levels, flash
 * attention, narrow GEMMs. */
static struct cm_ctx make_ctx(struct costmodel *cm, const struct scenario *scn)
{
    const struct hw_gpu *gpu = &cm->hw->gpu;
    enum dtype wide_dt = cm_narrow_gemms(scn) ? DT_BF16 : (enum dtype)scn->dtype;
    double block = scn->dtype == DT_FP8 && scn->fp8_recipe == FP8_BLOCKWISE
                       ? gpu->fp8_block_gemm_gain
                       : 1.0;
    struct cm_ctx c = {
        scn,
        &cm->model,
        cm->hw,
        &cm->cfg,
        {gpu->peak_flops[scn->dtype], hw_matmul_curve(gpu, (enum dtype)scn->dtype), block},
        {gpu->peak_flops[wide_dt], hw_matmul_curve(gpu, wide_dt), 1.0},
        gpu->peak_flops[wide_dt],
        {cm->hw->node.nvlink_bw_Bps * cm->hw->node.nvlink_eff, cm->hw->node.nvlink_lat_s},
        {cm->hw->net.nic_bw_Bps * cm->hw->net.eff / cm->hw->net.oversubscription,
         cm->hw->net.lat_s},
        scn->attention != ATTENTION_UNFUSED,
        cm_narrow_gemms(scn),
        cm->layer_view,
        {gpu->peak_flops[DT_FP8], hw_matmul_curve(gpu, DT_FP8), 1.0},
        NULL,
        &cm->layout,
        &cm->groups};
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

/* The pipeline rank holding the head (the first, when two ranks hold copies), or -1. */
static int head_rank(const struct costmodel *cm, const struct scenario *scn)
{
    for (int r = 0; r < scn->pp; r++)
        for (int ch = 0; ch < scn->vp; ch++)
            if (cm->stages[scn_stage_of(scn, r, ch)].has_head)
                return r;
    return -1;
}

/* The word embedding's gradient all-reduced between the first pipeline rank and the head's,
 * when both hold the embedding -- tied to the output layer, or looked up again by the MTP
 * modules -- after the data-parallel reduction and before the optimizer step, in line on
 * both (Megatron-Core's finalize_model_grads.py, _allreduce_word_embedding_grads, at d98e8a6;
 * DeepSpeed's pipeline engine reduces its tied modules the same way, _exec_reduce_tied_grads).
 * Its vocabulary shard in the gradients' type, between two ranks as far apart as the first and
 * the last stage.  0 on one rank, with LoRA (a frozen embedding has no gradient) or with both
 * ends on one rank. */
static double embedding_allreduce_s(const struct cm_ctx *c, const struct scenario *scn,
                                    int last)
{
    const struct model *m = c->m;
    if (last <= 0 || scn_adapters(scn) || !(m->tied_embeddings || m->mtp_layers > 0))
        return 0.0;
    double bytes = cm_grad_bytes(scn) * (double)m->vocab * m->hidden / c->cfg->tp;
    /* a pair of pipeline ranks, one node or two: not a group of the table's, which holds the
     * pipeline's neighbours, since the head's rank is known only once the stages are costed */
    struct coll_group pair = {2, groups_pp_same_node(c->groups, 0, last) ? 2 : 1};
    return cm_coll_time(c, COLL_ALL_REDUCE, bytes, pair);
}

/* Each pipeline rank's optimizer step (with the weight gradients deferred to the flush) and,
 * without overlap, its parameter all-gather: over the rank's chunks. */
static void cost_ranks(const struct cm_ctx *c, struct costmodel *cm, const struct scenario *scn,
                       const struct pipe_setup *setup)
{
    double chunk_mbs = sched_chunk_mbs(setup->schedule, &setup->sp);
    struct coll_group dense_g = c->groups->dense.all.g, expert_g = c->groups->expert.all.g;
    int gathers = cm->cfg.zero == 1 || cm->cfg.zero == 2; /* ZeRO-3 gathers per layer */
    int last = head_rank(cm, scn);
    double embedding_ar = embedding_allreduce_s(c, scn, last);
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
        if (scn_adapters(scn)) /* the quantized weights are the frozen base's: the
                                     * adapters that train, and are gathered, are 16-bit */
            narrow_dense = narrow_expert = 0.0;
        /* Muon's matrices are shared out whole over the ranks that shard the state
         * (LayerWiseDistributedOptimizer, cm_muon.c): each does its share of the work. */
        double shard = optimizer_shard(cm, scn, dense, expert);
        double edge_shard = optimizer_shard(cm, scn, edge, 0.0);
        double ns = optimizer_shard(cm, scn, ns_dense, ns_expert);
        double tied = r == 0 || r == last ? embedding_ar : 0.0;
        cm->rank_opt_s[r] = cm->rank_deferred_s[r] + optimizer_s(c, shard, edge_shard) + ns + tied;
        if (cm->cfg.fsdp2) {
            double narrow = optimizer_shard(cm, scn, narrow_dense, narrow_expert);
            cm->rank_opt_s[r] += fsdp2_step_passes_s(c, shard, narrow);
        }
        int host_link = c->hw->node.host_bw_Bps > 0 && c->hw->node.host_mem_bw_Bps > 0;
        cm->rank_opt_offloaded_s[r] =
            host_link
                ? cm->rank_deferred_s[r] + optimizer_at_s(c, shard, edge_shard, 1.0) + ns + tied
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

/* Is virtual stage `s` -- chunk `chunk` of pipeline rank `rank` -- reduced as one bucket?
 * Megatron-Core's DDP buckets the gradients (40M parameters or 1M a data-parallel rank, so
 * that the first buckets reduce while the chunk's last backward still runs) only on the first
 * pipeline rank's first chunk: a later rank's reductions are off the critical path, and the
 * interleaved schedule's later chunks are wrapped with disable_bucketing
 * (distributed_data_parallel.py, "Turn off bucketing if we are on a pipeline stage that is
 * not the first", and training.py's per-chunk flags, at d98e8a6).  PyTorch's pipelining issues
 * a stage's deferred reduce-scatters only after its last backward has returned
 * (torch/distributed/pipelining/stage.py, backward_maybe_with_nosync then run_post_backward):
 * one bucket as well. */
static int reduced_whole(const struct costmodel *cm, int rank, int chunk)
{
    if (cm->cfg.defer_grad_sync)
        return 1;
    return cm->cfg.megatron_core && cm->cfg.zero <= 1 && (rank > 0 || chunk > 0);
}

/* What of a chunk's gradient reduction waits for its last backward to end: the last bucket's
 * share, or all of it when reduced as one bucket. */
static double dp_tail_s(const struct costmodel *cm, const struct cm_stage *cs, int whole)
{
    double bucket = DP_BUCKET_PARAMS > 1e6 * cm->cfg.dp ? DP_BUCKET_PARAMS : 1e6 * cm->cfg.dp;
    if (whole || cs->params <= bucket)
        return cs->dp_sync_s;
    return cs->dp_sync_s * bucket / cs->params;
}

/* The engine's per-stage and per-rank times: F = forward; B = input gradient (+ recompute,
 * communication); W = weight gradient.  Unsplit, the pipeline runs B + W as one backward op. */
static enum sim_status fill_times(const struct costmodel *cm, const struct scenario *scn,
                                  struct pipe_setup *setup, struct sim_error *err)
{
    enum sim_status st = SIM_OK;
    for (int r = 0; r < scn->pp && st == SIM_OK; r++)
        for (int ch = 0; ch < scn->vp; ch++) {
            int s = scn_stage_of(scn, r, ch);
            double tail = dp_tail_s(cm, &cm->stages[s], reduced_whole(cm, r, ch));
            if ((st = to_time(tail, &setup->stage_dp_tail[s], err)) != SIM_OK)
                break;
        }
    for (int s = 0; s < scn->pp * scn->vp && st == SIM_OK; s++) {
        const struct cm_stage *cs = &cm->stages[s];
        /* What an overlapped F&B pair's partner can hide of an op: its expert-parallel
         * exchanges, which run on their own stream (Megatron-Core's A2A overlap: dispatch and
         * combine on comm_stream, model_chunk_schedule_plan.py; DualPipe likewise).  TP
         * collectives block the compute stream both micro-batches share, and the rest is what
         * the op's own work already left exposed: they stay in line. */
        double fwd_comm = cs->fwd.ep, bwd_comm = cs->bwd.ep;
        setup->stage_layers[s] = cs->layers + cm_stage_mtp_layers(&cm->model, cs);
        setup->stage_act[s] = cs->act_bytes_mb;
        if ((st = to_time(parts_total(&cs->fwd), &setup->stage_fwd[s], err)) != SIM_OK ||
            (st = to_time(parts_total(&cs->bwd), &setup->stage_bwd[s], err)) != SIM_OK ||
            (st = to_time(fwd_comm, &setup->stage_fwd_comm[s], err)) != SIM_OK ||
            (st = to_time(bwd_comm, &setup->stage_bwd_comm[s], err)) != SIM_OK ||
            (st = to_time(parts_total(&cs->wgt), &setup->stage_wgt[s], err)) != SIM_OK)
            break;
        st = to_time(cs->dp_sync_s, &setup->stage_dp[s], err);
    }
    for (int r = 0; r < scn->pp && st == SIM_OK; r++)
        if ((st = to_time(cm->rank_opt_s[r], &setup->rank_opt[r], err)) == SIM_OK &&
            (st = to_time(cm->rank_deferred_s[r], &setup->rank_deferred[r], err)) == SIM_OK)
            st = to_time(cm->rank_param_ag_s[r], &setup->rank_param_ag[r], err);
    return st;
}

/* The forward FLOPs recompute runs again in decoder layer `layer`, the i-th of its chunk, for
 * one sample -- what the cost model charges again (cm_stage.c add_layer_recompute): a whole
 * layer under full recompute (the first recompute-num-layers of each chunk with the block
 * method), DSA's indexer with it; under selective recompute each module's matmuls and
 * attention core, the core where the framework re-runs it (cm_config.core_attn_rerun) and
 * the indexer inside it; torchtitan's per-op policy its re-run matmuls.  Norms and
 * activations count no FLOPs.  `docs`: the packed documents' share of the attention core. */
static double layer_recompute_flops(const struct costmodel *cm, const struct scenario *scn,
                                    int layer, int i, const struct layer_flops *lf, double docs)
{
    const struct model *m = &cm->model;
    double core = docs * lf->attn_core + lf->dsa_index + lf->dsa_index_proj + lf->dsa_teacher;
    if (scn->recompute == RECOMPUTE_FULL) {
        int whole = scn->recompute_method == RECOMPUTE_UNIFORM || i < scn->recompute_num_layers;
        return whole ? lf->total - lf->attn_core + core : 0.0;
    }
    struct layer_parts lp = layer_parts_of(m, layer);
    int rc = scn->recompute_modules, moe = lp.mlp == MLP_MOE;
    if (rc & RC_OP)
        return cm_op_policy_flops(m, &lp, lf);
    double f = 0.0;
    if ((rc & RC_CORE_ATTN) && cm->cfg.core_attn_rerun)
        f += core;
    if ((rc & RC_MLA_UP_PROJ) && lp.mixer == MIXER_ATTENTION)
        f += 2.0 * cm->cfg.seq * model_weights_mla_up(m);
    if ((rc & RC_MLP) && !moe)
        f += lf->mlp;
    if ((rc & RC_MOE) && moe)
        f += lf->mlp + lf->router + lf->experts + lf->latent_proj;
    else if ((rc & RC_SHARED_EXPERTS) && moe)
        f += lf->mlp;
    return f;
}

/* Recompute's forward FLOPs for one sample, over the decoder's layers chunk by chunk (each
 * model part once: DualPipe's second copy of a part runs other micro-batches) and the MTP
 * modules' layers after the last chunk's, which Megatron-Core recomputes alike
 * (multi_token_prediction.py, _checkpointed_forward under full recompute) and cm_stage.c
 * counts as that chunk's next layers. */
static double recompute_flops(const struct costmodel *cm, const struct scenario *scn,
                              double docs)
{
    if (scn->recompute == RECOMPUTE_NONE)
        return 0.0;
    const struct model *m = &cm->model;
    double sum = 0.0;
    struct layer_flops lf;
    for (int s = 0, kind = -1; s < cm->layout.stages; s++) {
        const struct layout_stage *ls = &cm->layout.stage[s];
        if (ls->part != s)
            continue;
        int first = ls->first_layer, count = ls->layers;
        for (int i = 0; i < count; i++) {
            int k = model_layer_kind(m, first + i, cm->cfg.seq); /* one kind, one count */
            if (k != kind)
                flops_layer_fwd(m, first + i, cm->cfg.seq, 0, &lf);
            kind = k;
            sum += layer_recompute_flops(cm, scn, first + i, i, &lf, docs);
        }
        int n = model_mtp_module_layers(m);
        for (int k = 0; k < ls->mtp; k++)
            for (int j = 0; j < n; j++) {
                flops_layer_fwd(m, model_mtp_layer(m, j), cm->cfg.seq, 0, &lf);
                kind = -1;
                sum += layer_recompute_flops(cm, scn, model_mtp_layer(m, j), count + k * n + j,
                                             &lf, docs);
            }
    }
    return sum;
}

/* FLOPs for MFU (model FLOPs: 3 x forward, full attention, as Megatron and PaLM report) and
 * HFU (adds what recompute executes again). */
static void step_flops(struct costmodel *cm, const struct scenario *scn)
{
    double samples = cm->cfg.global_batch;
    cm->model_flops_step = flops_model_step(&cm->model, cm->cfg.seq, (long)samples, 0);
    if (scn_adapters(scn)) /* the frozen base runs no weight-gradient matmul: its linears
                                 * count twice their forward, as Megatron-Bridge's LoRA count has
                                 * it (training/utils/flop_utils.py, v0.5.0: frozen x 2/3) */
        cm->model_flops_step -= samples * (flops_model_fwd(&cm->model, cm->cfg.seq, 0) -
                                           flops_model_attn_core(&cm->model, cm->cfg.seq, 0));
    double docs = cm_packed_attention_share(scn, cm->cfg.seq); /* packed documents */
    if (docs < 1.0)
        cm->model_flops_step -=
            3.0 * samples * (1.0 - docs) * flops_model_attn_core(&cm->model, cm->cfg.seq, 0);
    cm->hw_flops_step = cm->model_flops_step + samples * recompute_flops(cm, scn, docs);
}

/* The per-stage and per-rank arrays the cost model fills. */
static enum sim_status alloc_stages(struct costmodel *cm, const struct scenario *scn,
                                    struct sim_error *err)
{
    int stages = scn->pp * scn->vp;
    cm->stages = mem_calloc((size_t)stages, sizeof *cm->stages);
    cm->rank_opt_s = mem_calloc((size_t)scn->pp, sizeof(double));
    cm->rank_param_ag_s = mem_calloc((size_t)scn->pp, sizeof(double));
    cm->rank_deferred_s = mem_calloc((size_t)scn->pp, sizeof(double));
    cm->rank_opt_offloaded_s = mem_calloc((size_t)scn->pp, sizeof(double));
    if (!cm->stages || !cm->rank_opt_s || !cm->rank_param_ag_s || !cm->rank_deferred_s ||
        !cm->rank_opt_offloaded_s)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory for %d stages", stages);
    return SIM_OK;
}

/* The rows of a chunk's offload bookkeeping, when anything is offloaded: a chunk's offload
 * waits for all its layers (cm_stage.c add_chunk_offload; add_layer writes each row whole
 * before it is read), the MTP modules' after the head's. */
static enum sim_status alloc_offload_rows(struct cm_ctx *c, const struct costmodel *cm,
                                          const struct scenario *scn, struct sim_error *err)
{
    if (!cm->cfg.offload_modules && !(scn->offload_activations > 0))
        return SIM_OK;
    int most_layers = 0;
    for (int s = 0; s < cm->layout.stages; s++)
        most_layers = cm->layout.stage[s].layers > most_layers ? cm->layout.stage[s].layers
                                                               : most_layers;
    most_layers += cm->model.mtp_layers * model_mtp_module_layers(&cm->model);
    if (most_layers > 0 &&
        !(c->offload_rows = mem_realloc(NULL, (size_t)most_layers, sizeof *c->offload_rows)))
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory for %d layers' offload",
                       most_layers);
    return SIM_OK;
}

/* Does the pipeline rank that holds stage s also hold a stage with the embedding? */
static int rank_embeds(const struct costmodel *cm, const struct scenario *scn, int s)
{
    for (int r = 0; r < scn->pp; r++) {
        int holds = 0, embeds = 0;
        for (int ch = 0; ch < scn->vp; ch++) {
            int t = scn_stage_of(scn, r, ch);
            holds |= t == s;
            embeds |= cm->layout.stage[t].has_embedding;
        }
        if (holds)
            return embeds;
    }
    return 0;
}

/* Every stage's costs, a stage like the one before it copied rather than costed again. */
static void cost_stages(struct cm_ctx *c, struct costmodel *cm, const struct scenario *scn)
{
    for (int s = 0; s < scn->pp * scn->vp; s++) {
        struct cm_stage *cs = &cm->stages[s];
        if (s > 0 && cm_stage_repeats(c, cs - 1, s)) {
            *cs = cs[-1]; /* but its layers: neither holds the embedding, head or MTP */
            cs->first_layer = cm->layout.stage[s].first_layer;
            continue;
        }
        cm_stage_cost(c, s, cs);
        /* only the head's stage can need a copy: the other stages skip the walk of the ranks */
        const struct layout_stage *ls = &cm->layout.stage[s];
        stage_params(c, cs, ls->has_head || ls->mtp > 0 ? rank_embeds(cm, scn, s) : 1);
        cs->wgt.compute += grad_accumulation_s(c, cs);
        cs->dp_sync_s = cm_dp_sync_s(c, cs);
    }
}

/* What the engine reads beside the op times: overlap and blocking of its transfers, the
 * point-to-point activation and its links, jitter. */
static void fill_engine_setup(const struct cm_ctx *c, struct costmodel *cm,
                              const struct scenario *scn, struct pipe_setup *setup)
{
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
    cm->p2p_bytes = cm->cfg.act_bytes * T * cm->model.hidden / (sliced ? cm->cfg.tp : 1);
    setup->act_bytes = cm->p2p_bytes;
    fill_links(c, setup);
    setup->jitter_cv = scn->jitter;
    setup->seed = scn->seed;
}

static enum sim_status build(struct costmodel *cm, struct scenario *scn, struct pipe_setup *setup,
                             struct sim_error *err)
{
    enum sim_status st;
    if ((st = apply_hw_knobs(cm, scn, err)) != SIM_OK)
        goto fail;
    if (scn_given(scn, SCN_MTP_LAYERS)) /* the recipe trains more or fewer MTP modules */
        cm->model.mtp_layers = scn->mtp_layers;
    /* the layout and its groups once the rules and derivation have completed the scenario and
     * it is checked: from here on the stages and the groups' placement are read from them */
    if ((st = cm_check_rules(scn, &cm->model, cm->hw, &cm->cfg, err)) != SIM_OK ||
        (st = scn_check(scn, err)) != SIM_OK ||
        (st = layout_init(&cm->layout, scn, cm->model.mtp_layers, err)) != SIM_OK)
        goto fail;
    groups_init(&cm->groups, &cm->cfg, scn, layout_part_copies(&cm->layout));

    struct cm_ctx c = make_ctx(cm, scn);
    for (int kind = 0; kind < CM_LAYER_VIEWS; kind++)
        cm->layer_view[kind].layer = cm->layer_view[kind].stage = -1;
    cm->peak_flops = c.linear.peak;
    cm->tp_spans_nodes = cm->groups.tp.nodes > 1;
    /* Megatron-LM asserts max_position_embeddings >= seq_length for every position type
     * (megatron/training/arguments.py, validate_args), but the number only sizes a learned
     * position table; RoPE computes its angles for the sequence at hand.  A user extrapolating
     * context (a RoPE model trained past its native length, or a learned table extended) has a
     * step worth timing, so this is a warning naming the file and both lengths, not an error.
     * The learned table stays counted at max-seq rows: an extended one would add (seq -
     * max-seq) x hidden parameters (GPT-3 175B at 4 x its 2048 tokens: 75 M, 0.04%). */
    cm->seq_past_max = scn->seq > cm->model.max_seq;

    struct sched_params sp = scn_sched_params(scn);
    if ((st = pipe_setup_init(setup, cm->layout.type, &sp, err)) != SIM_OK ||
        (st = alloc_stages(cm, scn, err)) != SIM_OK ||
        (st = alloc_offload_rows(&c, cm, scn, err)) != SIM_OK)
        goto fail;
    cost_stages(&c, cm, scn);
    mem_free(c.offload_rows);
    cost_ranks(&c, cm, scn, setup);
    if ((st = check_step_size(cm, scn, setup, err)) != SIM_OK ||
        (st = fill_times(cm, scn, setup, err)) != SIM_OK)
        goto fail;
    fill_engine_setup(&c, cm, scn, setup);
    if ((st = check_p2p_size(cm, scn, setup, err)) != SIM_OK)
        goto fail;
    step_flops(cm, scn);
    return SIM_OK;
fail:
    pipe_setup_release(setup);
    cm_release(cm);
    return st;
}

void cm_release(struct costmodel *cm)
{
    layout_release(&cm->layout);
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

double cm_reserved_hbm(const struct costmodel *cm)
{
    const struct hw_gpu *gpu = &cm->hw->gpu;
    return gpu->hbm_reserve_bytes + cm->cfg.communicators * gpu->nccl_buffers_bytes +
           cm->cfg.deepep_buffer_bytes + cm->cfg.userbuffer_bytes;
}

double cm_usable_hbm(const struct costmodel *cm)
{
    double usable = cm->hw->gpu.hbm_bytes - cm_reserved_hbm(cm);
    return usable > 0.0 ? usable : 0.0; /* buffers beyond the HBM: nothing fits, not less */
}

/* What a pipeline rank's chunks hold, summed over them (cm_rank_memory). */
struct rank_holdings {
    double dense, expert;  /* trained parameters, replicated over DP / expert-DP */
    double frozen;         /* held but not trained (LoRA's base) */
    double narrow, mxfp8;  /* run in fp8 / fp4, and kept as MXFP8 copies */
    double edge;           /* the embedding and head's (their own optimizer) */
    double largest;        /* the largest unit gathered at once under ZeRO-3 */
    double layers, act;    /* layers, and activation bytes one micro-batch keeps */
    double reloaded, offloaded; /* activation offload: reloaded at once, offloaded per mb */
};

static struct rank_holdings rank_holdings(const struct costmodel *cm, const struct scenario *scn,
                                          int rank)
{
    struct rank_holdings h = {0};
    for (int ch = 0; ch < scn->vp; ch++) {
        const struct cm_stage *cs = &cm->stages[scn_stage_of(scn, rank, ch)];
        h.layers += cs->layers;
        h.frozen += cs->frozen_params;
        h.narrow += cs->narrow_dense_params + cs->narrow_expert_params;
        h.mxfp8 += cs->mxfp8_params;
        h.edge += cs->edge_params;
        h.dense += cs->dense_params;
        h.expert += cs->expert_params;
        h.act += cs->act_bytes_mb;
        h.reloaded = fmax(h.reloaded, cs->reloaded_bytes);
        h.offloaded += cs->offloaded_bytes_mb;
        h.largest = fmax(h.largest, cs->max_unit_params);
    }
    return h;
}

/* The weights a rank holds.  Sharded stages hold their shard, plus what is gathered at once:
 * ZeRO-3 the layer being computed and the one prefetched (all of the rank's when parameters
 * stay gathered from forward to backward). */
static double rank_weights(const struct costmodel *cm, const struct scenario *scn,
                           const struct rank_holdings *h)
{
    double own = h->dense + h->expert, shard = shard_of(cm, scn, h->dense, h->expert, 0);
    double gathered = cm->cfg.reshard ? 2.0 * h->largest : own;
    /* With quantized-params the narrow layers keep no 16-bit weights: their quantized copies
     * below are the parameters (and a ZeRO-3 shard holds them in their gathered form). */
    double held = own + h->frozen; /* LoRA's frozen base is held whole (ZeRO-3 is refused) */
    double narrow_share = scn->quantized_params && held > 0 ? h->narrow / held : 0.0;
    double pb = cm->cfg.param_bytes; /* the working weights: 16-bit, or an fp32 run's fp32 */
    double sharded_bytes = pb * (1.0 - narrow_share) + cm_quantized_param_bytes(scn) * narrow_share;
    double weights = cm->cfg.zero >= 3
                         ? sharded_bytes * shard + pb * (1.0 - narrow_share) * gathered
                         : pb * held * (1.0 - narrow_share);
    if (cm->cfg.fsdp2) /* the shard is the fp32 master the optimizer state counts: the 16-bit
                        * copies exist only gathered (_fsdp_param.py: the cast is the
                        * all-gather's copy-in); the narrow layers' gathered fp8 weights are
                        * the cache below.  In an fp32 run the shard is the parameter itself,
                        * which the state does not count (keeps_master) */
        weights = pb * (1.0 - narrow_share) * gathered + (fp32_weights(scn) ? pb * shard : 0.0);
    /* TE's cached fp8 / nvfp4 weights and their transposes, kept across a step's micro-batches;
     * ZeRO-3 holds them for the layers gathered at once (all of the rank's when kept gathered) */
    int resharded = cm->cfg.zero >= 3 && cm->cfg.reshard;
    return weights + narrow_weight_cache_bytes(scn) * (resharded ? 2.0 * h->largest : h->narrow) +
           MXFP8_WEIGHT_CACHE_BYTES * h->mxfp8;
}

/* The gradients a rank holds: ZeRO-2/3 its shard and one layer's full gradients before their
 * reduce-scatter (all of the rank's under pipeline parallelism, accumulated until the last
 * backward), else all of its own. */
static double rank_grads(const struct costmodel *cm, const struct scenario *scn,
                         const struct rank_holdings *h)
{
    double own = h->dense + h->expert, shard = shard_of(cm, scn, h->dense, h->expert, 0);
    int per_microbatch = cm->cfg.zero >= 2 && !cm->cfg.defer_grad_sync;
    /* DeepSpeed's BF16_Optimizer keeps an fp32 gradient for every parameter beside the bf16
     * .grad each backward writes (freed only when the next backward starts) */
    double pb = cm->cfg.param_bytes; /* .grad as autograd writes it: the parameters' type */
    double grad_bytes =
        cm->cfg.grad_accumulation == GRAD_ACCUM_FP32_COPY ? FP32_BYTES + pb : cm_grad_bytes(scn);
    if (cm->cfg.fsdp2) /* beside the activations' peak, at the first backward unit: its 16-bit
                        * gradients and, each micro-batch reducing, their reduce-scatter input
                        * in the reduce type (chunk_cat; FSDPParamGroup keeps a second one only
                        * once the next unit's activations are freed); under pipelining the
                        * stage's accumulated gradients and the unit's 16-bit ones */
        return per_microbatch ? grad_bytes * shard + (pb + grad_bytes) * h->largest
                              : grad_bytes * own + pb * h->largest;
    return grad_bytes * (per_microbatch ? shard + h->largest : own);
}

/* The activations a rank holds at its peak: the micro-batches in flight, a layer more where an
 * overlapped F&B pair crosses, what offload reloads and what offload-pp-delta keeps (the terms
 * in `m`, which the memory timeline adds up in this order where they occur). */
static double rank_activations(const struct pipe_result *res, int rank,
                               const struct cm_rank_memory *m)
{
    /* each in-flight (micro-batch, chunk) weighed by its chunk's bytes (the engine's byte
     * peak, or the planner's from its order's frontier); the chunks' mean when a result has
     * only the count (the planner out of memory for its byte peaks) */
    double acts = res->peak_act ? res->peak_act[rank] : m->act_per_mb * res->peak_inflight[rank];
    /* an overlapped F&B pair at the peak holds one layer more at its crossing (pipeline.h) */
    int pair = res->pair_peak ? res->pair_peak[rank] : 0;
    if (pair > 0 && pair >= res->peak_inflight[rank])
        acts += m->pair_layer;
    if (res->peak_inflight[rank] > 0) { /* offloaded layers reloaded for the backward */
        acts += m->reloaded;
        acts += cm_offload_kept(m, res->peak_inflight[rank]);
    }
    return acts;
}

/* offload-pp-delta: pipeline rank r keeps r x that many bytes of its offload on the GPU, taken
 * from the chunks whose backward comes first, all in flight at the peak (post_warmup_callback,
 * fine_grained_activation_offload.py at d98e8a6) -- at most what it offloads there.  (The
 * transfers it saves, once a step, are not counted.) */
double cm_offload_kept(const struct cm_rank_memory *m, int inflight)
{
    return fmin(m->kept_cap, m->offloaded_mb * inflight);
}

void cm_rank_memory(const struct costmodel *cm, const struct scenario *scn,
                    const struct pipe_result *res, int rank, struct cm_rank_memory *out)
{
    struct rank_holdings h = rank_holdings(cm, scn, rank);
    memset(out, 0, sizeof *out);
    out->weights = rank_weights(cm, scn, &h);
    out->grads = rank_grads(cm, scn, &h);
    double opt_shard = optimizer_shard(cm, scn, h.dense, h.expert);
    double edge_shard = optimizer_shard(cm, scn, h.edge, 0.0);
    double state = optimizer_state_bytes(scn, opt_shard, edge_shard);
    out->optimizer = state * (1.0 - scn->offload_optimizer);
    out->act_per_mb = h.act / scn->vp;
    out->pair_layer = h.layers > 0 ? h.act / h.layers : 0.0;
    out->reloaded = h.reloaded;
    out->offloaded_mb = h.offloaded / scn->vp;
    out->kept_cap = rank * scn->offload_pp_delta_B;
    out->activations = rank_activations(res, rank, out);
    out->total = out->weights + out->grads + out->optimizer + out->activations;
    /* offloaded: the optimizer's share and each in-flight micro-batch's offloaded layers (the
     * one reloaded at a time counted on the GPU too: a bound from above, by a layer) */
    double offloaded = out->offloaded_mb * res->peak_inflight[rank];
    out->host = state * scn->offload_optimizer + offloaded -
                cm_offload_kept(out, res->peak_inflight[rank]); /* offload-pp-delta keeps it */
    double host_cap = cm->hw->node.host_mem_B;
    out->host_oom = host_cap > 0 && out->host > host_cap;
    out->oom = out->total > cm_usable_hbm(cm) || out->host_oom;
}
