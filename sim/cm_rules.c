/* cm_rules: the configuration rules a scenario must keep before it is costed -- what the
 * model, the hardware, the framework and the layout allow together -- and the settings they
 * resolve into struct cm_config (see cm_check_rules in cm_internal.h). */
#include <stdio.h>
#include <string.h>

#include "cm_buffers.h"
#include "cm_internal.h"
#include "derive.h"
#include "framework.h"
#include "layout.h"
#include "pplayout.h"

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
            return scn_rule_error_keys(scn, SCN_KEYS(keys[i], SCN_DTYPE), err,
                                       "%s applies to dtype=fp8 or nvfp4", scn_key_name(keys[i]));
        if (n > 0 && scn->dtype == DT_FP8 && scn->fp8_recipe == FP8_DELAYED)
            return scn_rule_error_keys(
                scn, SCN_KEYS(keys[i], SCN_FP8_RECIPE), err,
                "%s=%d: delayed scaling keeps no layers in bf16 "
                "(Megatron-Core refuses it; use fp8-recipe current, blockwise "
                "or mxfp8)",
                scn_key_name(keys[i]), n);
        if (n > per_stage)
            return scn_rule_error_keys(scn, SCN_KEYS(keys[i], SCN_PP), err,
                                       "%s=%d exceeds the %d layers of one pipeline stage "
                                       "(Megatron-Core's bound)",
                                       scn_key_name(keys[i]), n, per_stage);
    }
    return SIM_OK;
}

/* Does fp8 attention run MXFP8 (the mxfp8 recipe of fp8 training)?  Delayed, current and
 * blockwise scaling hand attention per-tensor scaled fp8, and so does NVFP4 training, whose
 * attention Transformer Engine runs with current scaling (NVTE_DPA_FP8_RECIPE
 * Float8CurrentScaling beside the NVFP4BlockScaling recipe: MLPerf Training v5.1, NVIDIA's
 * llama31_8b config_common_fp4.sh). */
static int mxfp8_attention(const struct scenario *scn)
{
    return scn->dtype == DT_FP8 && scn->fp8_recipe == FP8_MXFP8;
}

/* fp8 attention's rates for the scenario: the hardware's MXFP8 pair or its per-tensor pair;
 * 1 and 1 without fp8-attention. */
static struct hw_fp8_attention fp8_attention_rates(const struct scenario *scn,
                                                   const struct hardware *hw)
{
    struct hw_fp8_attention off = {1.0, 1.0};
    if (!scn->fp8_attention)
        return off;
    return mxfp8_attention(scn) ? hw->gpu.mxfp8_attn : hw->gpu.fp8_attn;
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
 * knows, so a graph holding them needs grouped GEMMs that read their sizes on the device, or
 * inputs padded to a fixed capacity (Megatron-Bridge's MoE guide: full graphs take
 * drop-and-pad MoE or device-initiated grouped GEMMs); a scope names modules the model has. */
static enum sim_status check_cuda_graphs(const struct scenario *scn, const struct model *m,
                                         struct sim_error *err)
{
    int scope = graph_scope(scn);
    if (scn_given(scn, SCN_CUDA_GRAPH_SCOPE) && scn->cuda_graphs != CUDA_GRAPHS_MODULES)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_CUDA_GRAPH_SCOPE, SCN_CUDA_GRAPHS), err,
                                   "cuda-graph-scope applies to cuda-graphs=modules");
    if (scn->cuda_graphs == CUDA_GRAPHS_MODULES && m->experts == 0 &&
        (scope & (GS_MOE | GS_MOE_ROUTER | GS_MOE_PREPROCESS)))
        return scn_rule_error(scn, SCN_CUDA_GRAPH_SCOPE, err,
                              "cuda-graph-scope names MoE modules; %s has no experts", m->name);
    if (scn->cuda_graphs == CUDA_GRAPHS_MODULES && (scope & GS_MAMBA) &&
        model_mamba_layers(m) == 0)
        return scn_rule_error(scn, SCN_CUDA_GRAPH_SCOPE, err,
                              "cuda-graph-scope names mamba; %s has no Mamba layers", m->name);
    if (m->experts > 0 && (scope & GS_MOE) && !scn->moe_fused_grouped_mlp &&
        !(scn->moe_capacity_factor > 0.0))
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_CUDA_GRAPHS, SCN_MOE_FUSED_GROUPED_MLP), err,
                                   "a CUDA graph of %s's experts needs grouped GEMMs that read the "
                                   "token counts on the GPU (moe-fused-grouped-mlp=true) or inputs "
                                   "padded to a capacity (moe-capacity-factor)",
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
        return scn_rule_error_keys(
            scn, SCN_KEYS(SCN_QUANTIZED_PARAMS, SCN_FP8_RECIPE), err,
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
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_MOE_FUSED_GROUPED_MLP, SCN_ETP), err,
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
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_MOE_FUSED_GROUPED_MLP, SCN_DTYPE), err,
                                   "moe-fused-grouped-mlp quantizes in MXFP8 or NVFP4: it needs "
                                   "dtype=fp8 with fp8-recipe=mxfp8, or dtype=nvfp4");
    if (!hw->gpu.fp8_any_layout)
        return scn_rule_error(scn, SCN_MOE_FUSED_GROUPED_MLP, err,
                              "moe-fused-grouped-mlp runs Blackwell's (sm100) kernels; %s is "
                              "not one (its file gives no fp8-gemm-layouts=\"any\")",
                              hw->gpu.name);
    return SIM_OK;
}

/* The flex dispatcher's backend runs on the hardware (its node's flex-dispatchers):
 * Megatron-Bridge refuses DeepEP outside Ampere, Hopper, B200 and B300 -- GB200 and GB300 run
 * HybridEP -- and neither runs on AMD's GPUs (flex_dispatcher_backend.py at 067f987df;
 * DeepEP's intranode kernels also need NVLink between every GPU pair of the node). */
static enum sim_status check_flex_backend(const struct scenario *scn, const struct hardware *hw,
                                          struct sim_error *err)
{
    int deepep = scn->moe_dispatcher == DISPATCH_DEEPEP;
    unsigned need = deepep ? HW_FLEX_DEEPEP : HW_FLEX_HYBRIDEP;
    if (hw->node.flex_dispatchers & need)
        return SIM_OK;
    unsigned other = deepep ? HW_FLEX_HYBRIDEP : HW_FLEX_DEEPEP;
    return scn_rule_error_keys(
        scn, SCN_KEYS(SCN_MOE_DISPATCHER, SCN_HARDWARE), err,
        "moe-dispatcher=%s: %s does not run on %s (its file's node "
        "flex-dispatchers%s)",
        deepep ? "deepep" : "hybridep", deepep ? "DeepEP" : "HybridEP", hw->gpu.name,
        hw->node.flex_dispatchers & other ? (deepep ? " gives hybridep" : " gives deepep")
                                          : " gives none: alltoall or allgather");
}

/* The linear modules `m` has (enum scn_linear_module bits), as Megatron-Core names them:
 * linear_qkv only outside latent attention (MLA's projections are named otherwise). */
static int model_linear_modules(const struct model *m)
{
    int mods = 0, dense = 0, attention = 0, mamba = 0;
    for (int l = 0; l < m->layers; l++) {
        enum layer_mixer mix = model_layer_mixer(m, l);
        attention |= mix == MIXER_ATTENTION;
        mamba |= model_mixer_is_ssm(mix);
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
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_BF16_MODULES, SCN_DTYPE), err,
                                   "bf16-modules applies to dtype=fp8 or nvfp4");
    if (scn->mxfp8_modules && scn->dtype != DT_NVFP4)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_MXFP8_MODULES, SCN_DTYPE), err,
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
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_BF16_MODULES, SCN_MOE_FUSED_GROUPED_MLP), err,
                                   "bf16-modules=experts: the fused grouped MLP quantizes its "
                                   "experts (moe-fused-grouped-mlp=false to keep them bf16)");
    return SIM_OK;
}

/* fp8-attention: Transformer Engine runs fp8 dot-product attention inside fp8 or NVFP4
 * training only, with its fused (flash) attention; the GPU's file must say how fast it runs. */
static enum sim_status check_fp8_attention(const struct scenario *scn, const struct hardware *hw,
                                           struct sim_error *err)
{
    if (scn->dtype != DT_FP8 && scn->dtype != DT_NVFP4)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_FP8_ATTENTION, SCN_DTYPE), err,
                                   "fp8-attention applies to dtype=fp8 or nvfp4");
    if (scn->attention != ATTENTION_FLASH)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_FP8_ATTENTION, SCN_ATTENTION), err,
                                   "fp8-attention applies to attention=flash");
    if (scn->attention_kernel != ATTN_KERNEL_BEST)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_FP8_ATTENTION, SCN_ATTENTION_KERNEL), err,
                                   "fp8-attention runs Transformer Engine's fused attention, not "
                                   "attention-kernel=fa2");
    int mx = mxfp8_attention(scn);
    if (!(fp8_attention_rates(scn, hw).fwd > 0.0))
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_FP8_ATTENTION, SCN_FP8_RECIPE), err,
                                   "fp8-attention: %s gives no %s attention rate (gpu %s)",
                                   hw->gpu.name, mx ? "MXFP8" : "fp8",
                                   mx ? "mxfp8-attention-gain" : "fp8-attention-gain");
    return SIM_OK;
}

/* Megatron-Core's rules for overlapping the shared experts (transformer_config.py and
 * moe_layer.py, NVIDIA/Megatron-LM d98e8a6). */
static enum sim_status check_shared_expert_overlap(const struct scenario *scn,
                                                   const struct model *m, struct sim_error *err)
{
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
        return scn_rule_error_keys(
            scn, SCN_KEYS(SCN_MOE_SHARED_EXPERT_OVERLAP, SCN_MOE_DISPATCHER), err,
            "moe-shared-expert-overlap needs moe-dispatcher=alltoall or deepep (Megatron-Core)");
    if (scn->overlap_ep_comm)
        return scn_rule_error_keys(
            scn, SCN_KEYS(SCN_MOE_SHARED_EXPERT_OVERLAP, SCN_OVERLAP_EP_COMM), err,
            "moe-shared-expert-overlap and overlap-ep-comm exclude each other (Megatron-Core)");
    return SIM_OK;
}

/* The MoE keys: meaningless without experts; Megatron-Core's rules for padding the routing
 * map, for DeepEP's keys and the dispatch's wire format, and for the shared experts' overlap
 * (check_shared_expert_overlap). */
static enum sim_status check_moe_keys(const struct scenario *scn, const struct model *m,
                                      struct sim_error *err)
{
    static const enum scn_key moe_keys[] = {SCN_MOE_DISPATCHER, SCN_OVERLAP_EP_COMM,
                                            SCN_MOE_IMBALANCE, SCN_MOE_SHARED_EXPERT_OVERLAP,
                                            SCN_DEEPEP_SMS, SCN_MOE_ROUTER_DTYPE,
                                            SCN_MOE_ROUTER_FUSION, SCN_MOE_FUSED_GROUPED_MLP,
                                            SCN_MOE_CAPACITY_FACTOR, SCN_MOE_ROUTER_PADDING,
                                            SCN_MOE_DISPATCH_DTYPE};
    for (size_t i = 0; m->experts == 0 && i < sizeof moe_keys / sizeof moe_keys[0]; i++)
        if (scn_given(scn, moe_keys[i]))
            return scn_rule_error(scn, moe_keys[i], err,
                                  "%s applies to MoE models; %s has no experts",
                                  scn_key_name(moe_keys[i]), m->name);
    /* padded to a capacity, every expert computes the same count: no busiest rank */
    if (scn->moe_capacity_factor > 0.0 && scn_given(scn, SCN_MOE_IMBALANCE))
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_MOE_IMBALANCE, SCN_MOE_CAPACITY_FACTOR), err,
                                   "moe-imbalance does not apply with moe-capacity-factor: every "
                                   "expert's input is padded to the capacity");
    if (scn_given(scn, SCN_MLA_DOWN_PROJ) && m->kv_lora_rank <= 0)
        return scn_rule_error(scn, SCN_MLA_DOWN_PROJ, err,
                              "mla-down-proj applies to MLA models; %s has none", m->name);
    /* Megatron-Core (transformer_config.py at d98e8a6) refuses a padded routing map without
     * fp8 / fp4, and with the allgather dispatcher */
    if (scn->moe_router_padding && !cm_narrow_gemms(scn))
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_MOE_ROUTER_PADDING, SCN_DTYPE), err,
                                   "moe-router-padding applies to dtype=fp8 or nvfp4");
    if (scn->moe_router_padding && scn->moe_dispatcher == DISPATCH_ALLGATHER)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_MOE_ROUTER_PADDING, SCN_MOE_DISPATCHER), err,
                                   "moe-router-padding: Megatron-Core's allgather dispatcher "
                                   "does not pad the routing map");
    if (scn_given(scn, SCN_DEEPEP_SMS) && !scn_flex_dispatch(scn))
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_DEEPEP_SMS, SCN_MOE_DISPATCHER), err,
                                   "deepep-sms applies to moe-dispatcher=deepep or hybridep");
    /* Megatron-Core quantizes the wire only in its flex dispatcher (transformer_config.py at
     * d98e8a6, moe_dispatch_fwd_dtype: "require the 'ncclep' flex dispatcher backend", which
     * stepsim prices as deepep); DeepEP's kernels take the fp8 payload with its scales. */
    if (scn->moe_dispatch_dtype == EP_WIRE_FP8 && !scn_flex_dispatch(scn))
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_MOE_DISPATCH_DTYPE, SCN_MOE_DISPATCHER),
                                   err,
                                   "moe-dispatch-dtype=fp8 needs moe-dispatcher=deepep or "
                                   "hybridep: Megatron-Core quantizes the dispatch only in its "
                                   "flex dispatcher");
    if (scn->moe_shared_expert_overlap)
        return check_shared_expert_overlap(scn, m, err);
    return SIM_OK;
}

/* Megatron-Core's rules for the expert-parallel overlap of paired micro-batches
 * (overlap_moe_expert_parallel_comm; transformer_config.py, NVIDIA/Megatron-LM d98e8a6): expert
 * parallelism to overlap, the alltoall or flex dispatcher, a virtual pipeline when pp > 1, no
 * full recompute and no recompute of whole MoE layers, at most one MTP module.  Only the
 * schedules that pair steady-state ops are held to them (DualPipe pairs its own; the others
 * are refused the key by the schedule rule). */
static enum sim_status check_ep_overlap(const struct scenario *scn, const struct model *m,
                                        struct sim_error *err)
{
    const struct sched_type *type = scn_schedule(scn);
    if (!scn->overlap_ep_comm || m->experts == 0 || !type || !type->steady_pairs)
        return SIM_OK;
    enum scn_key k = SCN_OVERLAP_EP_COMM;
    if (scn->ep <= 1)
        return scn_rule_error_keys(scn, SCN_KEYS(k, SCN_EP), err,
                                   "overlap-ep-comm overlaps expert-parallel exchanges: it needs "
                                   "ep > 1 (Megatron-Core)");
    if (scn->moe_dispatcher == DISPATCH_ALLGATHER)
        return scn_rule_error_keys(
            scn, SCN_KEYS(k, SCN_MOE_DISPATCHER), err,
            "overlap-ep-comm needs moe-dispatcher=alltoall, deepep or hybridep "
            "(Megatron-Core)");
    if (scn->pp > 1 && scn->vp <= 1)
        return scn_rule_error_keys(
            scn, SCN_KEYS(k, SCN_PP, SCN_VP), err,
            "overlap-ep-comm with pp=%d needs the interleaved schedule (vp >= "
            "2): Megatron-Core asks for a virtual pipeline when pp > 1",
            scn->pp);
    if (scn->recompute == RECOMPUTE_FULL)
        return scn_rule_error_keys(
            scn, SCN_KEYS(k, SCN_RECOMPUTE), err,
            "overlap-ep-comm excludes recompute=full (Megatron-Core); recompute "
            "selected modules instead");
    if (scn->recompute == RECOMPUTE_SELECTIVE && (scn->recompute_modules & RC_MOE))
        return scn_rule_error_keys(scn, SCN_KEYS(k, SCN_RECOMPUTE_MODULES), err,
                                   "overlap-ep-comm excludes recomputing whole MoE layers "
                                   "(recompute-modules moe; Megatron-Core): moe_act is allowed");
    if (m->mtp_layers > 1)
        return scn_rule_error_keys(
            scn, SCN_KEYS(k, SCN_MTP_LAYERS), err,
            "overlap-ep-comm takes at most one MTP module (Megatron-Core); %s "
            "has %d",
            m->name, m->mtp_layers);
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
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_RECOMPUTE_MODULES, SCN_ATTENTION), err,
                                   "recompute-modules=op is modelled with attention=flash (the "
                                   "policy keeps the flash kernel's output)");
    return SIM_OK;
}

int cm_offload_modules(const struct scenario *scn, const struct model *m)
{
    int om = scn->offload_modules;
    if (!(om & OM_ALL))
        return om;
    int rc = scn->recompute == RECOMPUTE_SELECTIVE ? scn->recompute_modules : 0;
    int attention = cm_model_recompute_modules(m) & RC_CORE_ATTN;
    int norms = scn->cuda_graphs == CUDA_GRAPHS_NONE ? OM_ATTN_NORM | OM_MLP_NORM : 0;
    int experts = scn->moe_fused_grouped_mlp ? OM_FUSED_GROUP_MLP : OM_EXPERT_FC1 | OM_MOE_ACT;
    return (attention ? OM_QKV_LINEAR | OM_CORE_ATTN | OM_ATTN_PROJ | (norms & OM_ATTN_NORM) : 0) |
           (norms & OM_MLP_NORM) | (m->experts > 0 && !(rc & RC_MOE) ? experts : 0);
}

/* The modules offload-modules names one by one, as Megatron-Core checks them
 * (megatron/core/transformer/transformer_config.py and the feature's guide,
 * docs/user-guide/features/fine_grained_activation_offloading.md, at d98e8a6): attn_proj only
 * with core_attn (the two hold one tensor), the norms not under CUDA graphs (they cross the
 * graphs' boundaries), the fused grouped MLP whole; and what stepsim refuses rather than run
 * as a silent no-op: modules the model lacks, expert inputs a recompute of whole MoE layers
 * drops.  (`all` keeps these rules by construction: cm_offload_modules.) */
static enum sim_status check_named_offload_modules(const struct scenario *scn,
                                                   const struct model *m, int named,
                                                   struct sim_error *err)
{
    int attention = cm_model_recompute_modules(m) & RC_CORE_ATTN;
    int moe_modules = OM_EXPERT_FC1 | OM_MOE_ACT | OM_FUSED_GROUP_MLP;
    int rc = scn->recompute == RECOMPUTE_SELECTIVE ? scn->recompute_modules : 0;
    const char *why =
        (named & (OM_ATTN_NORM | OM_QKV_LINEAR | OM_CORE_ATTN | OM_ATTN_PROJ)) && !attention
            ? "names an attention module, which the model does not have"
        : (named & moe_modules) && m->experts == 0 ? "names an expert module: the model has none"
        : (named & OM_FUSED_GROUP_MLP) && (named & (OM_EXPERT_FC1 | OM_MOE_ACT))
            ? "fused_group_mlp offloads the whole grouped MLP; it is not combined with "
              "expert_fc1 or moe_act"
        : (named & OM_ATTN_PROJ) && !(named & OM_CORE_ATTN)
            ? "attn_proj is offloaded together with core_attn (the core's output is the "
              "projection's input)"
            : NULL;
    if (why)
        return scn_rule_error(scn, SCN_OFFLOAD_MODULES, err, "offload-modules %s (%s)", why,
                              m->name);
    if ((named & OM_FUSED_GROUP_MLP) && !scn->moe_fused_grouped_mlp)
        return scn_rule_error_keys(
            scn, SCN_KEYS(SCN_OFFLOAD_MODULES, SCN_MOE_FUSED_GROUPED_MLP), err,
            "offload-modules: fused_group_mlp needs moe-fused-grouped-mlp=true");
    if ((named & (OM_ATTN_NORM | OM_MLP_NORM)) && scn->cuda_graphs != CUDA_GRAPHS_NONE)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_OFFLOAD_MODULES, SCN_CUDA_GRAPHS), err,
                                   "offload-modules: attn_norm and mlp_norm are not offloaded with "
                                   "CUDA graphs (they cross the graphs' boundaries)");
    if ((rc & RC_MOE) && (named & moe_modules))
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_OFFLOAD_MODULES, SCN_RECOMPUTE), err,
                                   "offload-modules: recompute-modules=moe keeps no expert input");
    return SIM_OK;
}

/* Does lora-modules name a linear of the model?  Megatron-Bridge adapts what the names match
 * and skips the rest: latent attention (MLA) has no linear_qkv, only a Mamba-2 or Gated
 * DeltaNet mixer has in_proj and out_proj. */
static int lora_adapts_a_linear(const struct scenario *scn, const struct model *m)
{
    int has = 0;
    for (int l = 0; l < m->layers; l++) {
        enum layer_mixer mixer = model_layer_mixer(m, l);
        has |= model_layer_mlp(m, l) != MLP_NONE ? LORA_FC1 | LORA_FC2 : 0;
        has |= mixer == MIXER_MAMBA || mixer == MIXER_GDN ? LORA_IN_PROJ | LORA_OUT_PROJ : 0;
        has |= mixer == MIXER_ATTENTION ? LORA_PROJ | (m->kv_lora_rank > 0 ? 0 : LORA_QKV) : 0;
    }
    return (scn->lora_modules & has) != 0;
}

/* LoRA (peft=lora) as modelled: adapters on a model's linears, a MoE layer's shared and routed
 * experts', a Mamba-2 or Gated DeltaNet mixer's projections and the MTP modules' layers among
 * them (the embedding, the head, MTP's eh_proj and LatentMoE's projections frozen), replicated
 * or optimizer-sharded data
 * parallelism (ZeRO-2/3 would shard frozen weights and gradients that do not exist: not
 * modelled), Adam, Megatron-Bridge's framework. */
static enum sim_status check_peft(const struct scenario *scn, const struct model *m,
                                  struct sim_error *err)
{
    int lora = scn_adapters(scn);
    static const enum scn_key lora_keys[] = {SCN_LORA_RANK, SCN_LORA_MODULES};
    for (size_t i = 0; !lora && i < sizeof lora_keys / sizeof lora_keys[0]; i++)
        if (scn_given(scn, lora_keys[i]))
            return scn_rule_error(scn, lora_keys[i], err, "%s applies to peft=lora or dora",
                                  scn_key_name(lora_keys[i]));
    if (!lora)
        return SIM_OK;
    struct scn_sharding sh;
    enum sim_status st = scn_resolve_sharding(scn, &sh, err);
    if (st != SIM_OK)
        return st;
    const char *why = scn->lora_modules == 0 ? "lora-modules names no linear"
                      : !lora_adapts_a_linear(scn, m)
                          ? "lora-modules names no linear the model has (latent attention has no "
                            "linear_qkv; in_proj and out_proj are Mamba-2 and Gated DeltaNet "
                            "mixers')"
                      : sh.stage >= 2     ? "LoRA with ZeRO-2/3 (sharded gradients or weights) "
                                            "is not modelled"
                      : scn->optimizer_algorithm == OPTALG_MUON ? "LoRA with Muon is not modelled"
                      : scn->framework != FW_AUTO && scn->framework != FW_ANY &&
                              scn->framework != FW_MEGATRON_CORE
                          ? "LoRA is modelled as Megatron-Bridge runs it (framework megatron-core)"
                      : scn->peft == PEFT_DORA && m->experts > 0 &&
                              (scn->lora_modules & (LORA_FC1 | LORA_FC2))
                          ? "DoRA on a MoE layer's linear_fc1 or linear_fc2 wraps its routed "
                            "experts too, whose grouped linear has no single weight for the norm "
                            "of W + BA (Megatron-Bridge's peft/dora_layers.py reads "
                            "to_wrap.weight); adapt the attention linears alone"
                          : NULL;
    return why ? scn_rule_error(scn, SCN_PEFT, err, "peft=%s: %s (%s)",
                                scn->peft == PEFT_DORA ? "dora" : "lora", why, m->name)
               : SIM_OK;
}

/* Packed sequences (packed-doc-tokens) as modelled: documents no longer than the sequence, with
 * full (not windowed) attention.  Packed, attention runs Transformer Engine's THD format
 * (NVIDIA/TransformerEngine at d0067d0): its context parallelism, of every cp-comm-type, takes
 * each document in 2 x cp load-balanced chunks (thd_get_partitioned_indices, the dual-chunk
 * split), and its fused attention refuses fp8 attention on THD with context parallelism and
 * MXFP8 attention on THD at all (dot_product_attention/utils.py, get_attention_backend). */
static enum sim_status check_packed_docs(const struct scenario *scn, const struct model *m,
                                         struct sim_error *err)
{
    int d = scn->packed_doc_tokens;
    if (d <= 0)
        return SIM_OK;
    enum scn_key rule[] = {SCN_PACKED_DOC_TOKENS, SCN_SEQ}; /* the keys of the rule broken */
    const char *why = NULL;
    if (d > scn->seq) {
        why = "is longer than the sequence";
    } else if (m->window > 0) {
        rule[1] = SCN_MODEL;
        why = "with local attention windows is not modelled";
    } else if (scn->cp > 1 && d < 2 * scn->cp) {
        rule[1] = SCN_CP;
        why = "is shorter than the 2 x cp chunks context parallelism splits each document into";
    } else if (scn->fp8_attention && (scn->cp > 1 || mxfp8_attention(scn))) {
        rule[1] = SCN_FP8_ATTENTION;
        why = scn->cp > 1 ? "runs no fp8 attention with context parallelism (Transformer "
                            "Engine's THD format)"
                          : "runs no MXFP8 attention (Transformer Engine's THD format)";
    }
    return why ? scn_rule_error_keys(scn, rule, 2, err, "packed-doc-tokens=%d %s", d, why) : SIM_OK;
}

/* Fine-grained activation offloading (offload-modules) beside the other keys: not with the
 * share-based offload (two ways of moving the same activations), not where recompute keeps no
 * module's input (full recompute of every layer) or follows torchtitan's per-op policy. */
static enum sim_status check_offload_modules(const struct scenario *scn, const struct model *m,
                                             struct sim_error *err)
{
    int named = scn->offload_modules;
    static const enum scn_key tuning[] = {SCN_OFFLOAD_MIN_ELEMENTS, SCN_OFFLOAD_FRACTION,
                                          SCN_OFFLOAD_PP_DELTA};
    for (size_t i = 0; !named && i < sizeof tuning / sizeof tuning[0]; i++)
        if (scn_given(scn, tuning[i]))
            return scn_rule_error(scn, tuning[i], err,
                                  "%s applies to offload-modules, which names no module here",
                                  scn_key_name(tuning[i]));
    if (!named)
        return SIM_OK;
    if (scn->offload_activations > 0)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_OFFLOAD_MODULES, SCN_OFFLOAD_ACTIVATIONS), err,
                                   "offload-modules and offload-activations are two ways of "
                                   "offloading the same activations: give one");
    if (scn->recompute == RECOMPUTE_FULL && scn->recompute_method == RECOMPUTE_UNIFORM)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_OFFLOAD_MODULES, SCN_RECOMPUTE), err,
                                   "offload-modules: recompute=full keeps no module's input");
    if (scn->recompute == RECOMPUTE_SELECTIVE && (scn->recompute_modules & RC_OP))
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_OFFLOAD_MODULES, SCN_RECOMPUTE), err,
                                   "offload-modules: recompute-modules=op is torchtitan's policy");
    return named & OM_ALL ? SIM_OK : check_named_offload_modules(scn, m, named, err);
}

/* Keys that only mean something for some models or alongside another key: given where they
 * cannot apply, they are refused (a silent no-op would hide a mistaken scenario). */
static enum sim_status check_feature_keys(const struct scenario *scn, const struct model *m,
                                          struct sim_error *err)
{
    enum sim_status st = check_moe_keys(scn, m, err);
    if (st == SIM_OK)
        st = check_ep_overlap(scn, m, err);
    if (st != SIM_OK)
        return st;
    if (scn_given(scn, SCN_MUON_NS_STEPS) && scn->optimizer_algorithm != OPTALG_MUON)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_MUON_NS_STEPS, SCN_OPTIMIZER_ALGORITHM), err,
                                   "muon-ns-steps applies with optimizer-algorithm=muon");
    /* Muon's update runs on the GPU: Megatron-Core's host-offloaded optimizer
     * (HybridDeviceOptimizer, megatron/core/optimizer/__init__.py at d98e8a6) is Adam or SGD. */
    if (scn->optimizer_algorithm == OPTALG_MUON && scn->offload_optimizer > 0)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_OFFLOAD_OPTIMIZER, SCN_OPTIMIZER_ALGORITHM),
                                   err,
                                   "offload-optimizer keeps an element-wise optimizer on the host; "
                                   "optimizer-algorithm=muon is not offloaded");
    if (scn_given(scn, SCN_FP8_RECIPE) && scn->dtype != DT_FP8)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_FP8_RECIPE, SCN_DTYPE), err,
                                   "fp8-recipe applies to dtype=fp8");
    if ((st = check_rowwise(scn, m, err)) != SIM_OK)
        return st;
    if ((st = check_bf16_edge_layers(scn, m, err)) != SIM_OK)
        return st;
    if (scn_given(scn, SCN_WGRAD_DEFERRAL_LIMIT) && !scn->defer_head_wgrad)
        return scn_rule_error(scn, SCN_WGRAD_DEFERRAL_LIMIT, err,
                              "wgrad-deferral-limit applies with defer-head-wgrad=true");
    if ((st = check_offload_modules(scn, m, err)) != SIM_OK)
        return st;
    if ((st = check_peft(scn, m, err)) != SIM_OK)
        return st;
    if ((st = check_packed_docs(scn, m, err)) != SIM_OK)
        return st;
    return check_recompute_modules(scn, m, err);
}

/* The basics: no explicit costs beside a model, a peak for the dtype, the model's layer count
 * (filled in when not given), a sequence length. */
static enum sim_status check_basics(struct scenario *scn, const struct model *m,
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
    /* Transformer Engine runs MXFP8 on compute capability 10.0 (Blackwell) only
     * (transformer_engine/pytorch/quantization.py at d0067d0, _compute_mxfp8_support) */
    if (scn->dtype == DT_FP8 && scn->fp8_recipe == FP8_MXFP8 && !hw->gpu.fp8_any_layout)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_FP8_RECIPE, SCN_DTYPE), err,
                                   "fp8-recipe=mxfp8: MXFP8 GEMMs run on Blackwell (sm100); %s is "
                                   "not one (its file gives no fp8-gemm-layouts=\"any\")",
                                   hw->gpu.name);
    if (!scn_given(scn, SCN_LAYERS))
        scn->layers = m->layers;
    else if (scn->layers != m->layers)
        return scn_rule_error(scn, SCN_LAYERS, err, "layers=%d differs from the model's %d layers",
                              scn->layers, m->layers);
    if (scn->seq <= 0)
        return scn_rule_error(scn, SCN_SEQ, err, "the cost model needs seq (tokens per sample)");
    return SIM_OK;
}

/* The kernels and precisions asked for: an attention kernel the hardware rates, fp8
 * attention, the fused grouped MLP, CUDA graphs, per-module precision, the MXFP8 output layer. */
static enum sim_status check_kernels(const struct scenario *scn, const struct model *m,
                                     const struct hardware *hw, struct sim_error *err)
{
    enum sim_status st = SIM_OK;
    if (scn_given(scn, SCN_ATTENTION_KERNEL) && scn->attention != ATTENTION_FLASH)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_ATTENTION_KERNEL, SCN_ATTENTION), err,
                                   "attention-kernel applies to attention=flash");
    if (scn->attention_kernel == ATTN_KERNEL_FA2 && !(hw->gpu.fa2_attention_share > 0))
        return scn_rule_error(scn, SCN_ATTENTION_KERNEL, err,
                              "attention-kernel=fa2: %s gives no FlashAttention-2 rate "
                              "(gpu fa2-attention-share)",
                              hw->gpu.name);
    if (scn->fp8_attention && (st = check_fp8_attention(scn, hw, err)) != SIM_OK)
        return st;
    if (scn->moe_fused_grouped_mlp && m->experts > 0 &&
        (st = check_fused_grouped_mlp(scn, m, hw, err)) != SIM_OK)
        return st;
    if (m->experts > 0 && scn_flex_dispatch(scn) && (st = check_flex_backend(scn, hw, err)))
        return st;
    if ((scn->cuda_graphs != CUDA_GRAPHS_NONE || scn_given(scn, SCN_CUDA_GRAPH_SCOPE)) &&
        (st = check_cuda_graphs(scn, m, err)) != SIM_OK)
        return st;
    if ((scn->bf16_modules || scn->mxfp8_modules) &&
        (st = check_module_precision(scn, m, hw, err)) != SIM_OK)
        return st;
    /* Megatron-Core builds the MXFP8 output layer only in MXFP8 training
     * (fp8_utils.py is_mxfp8_output_proj_active, d98e8a6) */
    if (scn->fp8_output_proj && !(scn->dtype == DT_FP8 && scn->fp8_recipe == FP8_MXFP8))
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_FP8_OUTPUT_PROJ, SCN_DTYPE), err,
                                   "fp8-output-proj needs dtype=fp8 with fp8-recipe=mxfp8");
    /* ... and not as the embedding's own weight (TELMHeadColumnParallelLinear refuses
     * skip_weight_param_allocation: tied embeddings with the two on one stage) */
    if (scn->fp8_output_proj && m->tied_embeddings && scn->pp * scn->vp == 1)
        return scn_rule_error(scn, SCN_FP8_OUTPUT_PROJ, err,
                              "fp8-output-proj: the MXFP8 output layer cannot use %s's tied "
                              "embedding weight on the stage that holds the embedding",
                              m->name);
    return SIM_OK;
}

/* What the hardware must have for what the scenario takes from it: SMs left beside DeepEP's,
 * a host link (and host memory bandwidth for the optimizer) for offload, and one NVLink domain
 * for a TP group whose communication Transformer Engine's userbuffers overlap -- they map each
 * TP rank's buffers into the others' memory, one "NVLink domain" per TP group
 * (transformer_engine/pytorch/module/base.py, initialize_ub, at d0067d0), which a network
 * between nodes cannot do (torch's async TP, torchtitan's, has no such buffers). */
static enum sim_status check_hardware_resources(const struct scenario *scn,
                                                const struct hardware *hw, struct sim_error *err)
{
    if (scn->overlap_tp_comm && fw_megatron_core(scn) && scn->tp > hw->node.gpus)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_OVERLAP_TP_COMM, SCN_TP, SCN_HARDWARE), err,
                                   "overlap-tp-comm with tp=%d: Transformer Engine's userbuffers "
                                   "need the TP group inside one NVLink domain, and %s's holds %d "
                                   "GPUs (set overlap-tp-comm=false, or a tp that fits)",
                                   scn->tp, hw->name, hw->node.gpus);
    if (scn_flex_dispatch(scn) && hw->gpu.sms > 0 &&
        scn->deepep_sms >= hw->gpu.sms)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_DEEPEP_SMS, SCN_MOE_DISPATCHER, SCN_HARDWARE),
                                   err, "deepep-sms=%d leaves no SMs for compute: %s has %d",
                                   scn->deepep_sms, hw->gpu.name, hw->gpu.sms);
    int offload_acts = scn->offload_activations > 0 || scn->offload_modules;
    if ((offload_acts && !(hw->node.host_bw_Bps > 0)) ||
        (scn->offload_optimizer > 0 && !(hw->node.host_bw_Bps > 0 && hw->node.host_mem_bw_Bps > 0)))
        return scn_rule_error(scn,
                              scn->offload_optimizer > 0 ? SCN_OFFLOAD_OPTIMIZER
                              : scn->offload_modules     ? SCN_OFFLOAD_MODULES
                                                         : SCN_OFFLOAD_ACTIVATIONS,
                              err,
                              "offload needs the hardware file's host-bandwidth%s (%s gives none)",
                              scn->offload_optimizer > 0 ? " and host-memory-bandwidth" : "",
                              hw->name);
    return SIM_OK;
}

/* The keys that apply to one mode only: recompute's, and MTP's beside the model's module. */
static enum sim_status check_mode_keys(const struct scenario *scn, const struct model *m,
                                       struct sim_error *err)
{
    if (scn_given(scn, SCN_RECOMPUTE_MODULES) && scn->recompute != RECOMPUTE_SELECTIVE)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_RECOMPUTE_MODULES, SCN_RECOMPUTE), err,
                                   "recompute-modules applies to recompute=selective (Megatron's "
                                   "--recompute-granularity selective)");
    if (check_feature_keys(scn, m, err) != SIM_OK)
        return err->status;
    if (scn->mtp_repeated_layer && m->mtp_layers == 0)
        return scn_rule_error(scn, SCN_MTP_REPEATED_LAYER, err,
                              "mtp-repeated-layer: %s trains no MTP module (mtp-layers)", m->name);
    int layout_mtp = pplayout_count(scn->pipeline_layout, -1, 'm');
    if (scn->pipeline_layout[0] && layout_mtp != m->mtp_layers)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_PIPELINE_LAYOUT, SCN_MTP_LAYERS), err,
                                   "pipeline-layout places %d MTP modules, but %s trains %d "
                                   "(mtp-layers)",
                                   layout_mtp, m->name, m->mtp_layers);
    for (enum scn_key k = SCN_RECOMPUTE_METHOD; k <= SCN_RECOMPUTE_NUM_LAYERS; k++)
        if (scn_given(scn, k) && scn->recompute != RECOMPUTE_FULL)
            return scn_rule_error_keys(scn, SCN_KEYS(k, SCN_RECOMPUTE), err,
                                       "%s applies to recompute=full (Megatron's "
                                       "--recompute-granularity full)",
                                       scn_key_name(k));
    return SIM_OK;
}

/* What the cost model needs from the scenario and refuses in it, before any layout, in the
 * order the checks above are written. */
static enum sim_status check_cost_inputs(struct scenario *scn, const struct model *m,
                                         const struct hardware *hw, struct sim_error *err)
{
    enum sim_status st = check_basics(scn, m, hw, err);
    if (st == SIM_OK)
        st = check_kernels(scn, m, hw, err);
    if (st == SIM_OK)
        st = check_hardware_resources(scn, hw, err);
    if (st == SIM_OK)
        st = check_mode_keys(scn, m, err);
    return st;
}

/* The parallel layout: gpus a multiple of every parallel size, heads and experts divisible by
 * their splits, sequence parallelism only with TP.  Sets *gpus (given, or one replica). */
static long gcd_l(long a, long b)
{
    while (b) {
        long r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* What would fit, for the layout rule's message: the pp values that give an integral dp and
 * expert-dp at this gpus, tp, cp, ep and etp, and the GPU counts nearest gpus at this pp.  A
 * sweep over pp at a fixed gpus breaks this rule most, and the message alone did not say
 * which pp it could take ("pp=1 or 13 fits gpus=416; pp=8 needs a multiple of 256: 256 or
 * 512"). */
static void layout_fit_hint(char *buf, size_t len, int gpus, int pp, long dense_w, long expert_w)
{
    long per_pp = dense_w / gcd_l(dense_w, expert_w) * expert_w; /* lcm: both dp integral */
    long step = per_pp * pp;
    size_t n = 0;
    buf[0] = '\0';
    if (gpus % per_pp == 0) {
        long stages = gpus / per_pp;
        enum { SHOWN = 8 };
        long fit[SHOWN];
        int nfit = 0, more = 0;
        for (long p = 1; p <= stages; p++)
            if (stages % p == 0 && p != pp) {
                if (nfit < SHOWN)
                    fit[nfit++] = p;
                else
                    more = 1;
            }
        for (int i = 0; i < nfit && n < len; i++)
            n += (size_t)snprintf(buf + n, len - n, "%s%ld", i == 0 ? "; pp=" : i == nfit - 1 &&
                                  !more ? " or " : ", ", fit[i]);
        if (nfit && n < len)
            n += (size_t)snprintf(buf + n, len - n, "%s fit%s gpus=%d", more ? ", ..." : "",
                                  nfit > 1 ? "" : "s", gpus);
    } else {
        n += (size_t)snprintf(buf, len, "; no pp fits gpus=%d at these tp, cp, ep and etp", gpus);
    }
    long below = gpus / step * step, above = below + step;
    if (n < len && below > 0)
        snprintf(buf + n, len - n, "; pp=%d needs gpus a multiple of %ld: %ld or %ld", pp, step,
                 below, above);
    else if (n < len)
        snprintf(buf + n, len - n, "; pp=%d needs gpus a multiple of %ld: %ld", pp, step, step);
}

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
    if (gpus % unit != 0 || gpus % dense_ranks != 0 || gpus % expert_ranks != 0) {
        char hint[160];
        layout_fit_hint(hint, sizeof hint, gpus, pp, (long)tp * cp, (long)ep * etp);
        return scn_rule_error_keys(
            scn, layout_keys, (int)(sizeof layout_keys / sizeof layout_keys[0]), err,
            "gpus=%d is not a multiple of pp*max(tp*cp, ep*etp) = %d*max(%d*%d, %d*%d) "
            "= %ld with integral dp = gpus/(tp*cp*pp) and expert-dp = gpus/(pp*ep*etp)%s",
            gpus, pp, tp, cp, ep, etp, unit, hint);
    }
    /* a model's shape against tp: blamed on whichever was given last (--set model= over a
     * file's tp) */
    const enum scn_key tp_or_model[] = {SCN_TP, SCN_MODEL};
    if (m->heads % tp != 0)
        return scn_rule_error_keys(scn, tp_or_model, 2, err,
                                   "heads=%d of %s are not divisible by tp=%d", m->heads, m->name,
                                   tp);
    if (m->kv_heads % tp != 0)
        return scn_rule_error_keys(scn, tp_or_model, 2, err,
                                   "kv-heads=%d of %s are not divisible by tp=%d", m->kv_heads,
                                   m->name, tp);
    if (model_mamba_layers(m) > 0 && m->mamba_groups % tp != 0)
        return scn_rule_error_keys(
            scn, tp_or_model, 2, err,
            "mamba-groups=%d of %s are not divisible by tp=%d (Megatron-Core "
            "splits a Mamba mixer's groups and heads over TP)",
            m->mamba_groups, m->name, tp);
    if (model_gdn_layers(m) > 0 && !model_ssm_shards(m, tp, 1))
        return scn_rule_error_keys(
            scn, tp_or_model, 2, err,
            "gdn-key-heads=%d / gdn-value-heads=%d of %s are not both divisible "
            "by tp=%d (Megatron-Core splits a Gated DeltaNet's heads over TP)",
            m->gdn_key_heads, m->gdn_value_heads, m->name, tp);
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
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_HIERARCHICAL_CP, SCN_CP), err,
                                   "cp-comm-type=a2a+p2p needs hierarchical-cp, a divisor of cp=%d "
                                   "(the ranks of each all-to-all group)",
                                   cp);
    if (a2a_ranks > 1 && (m->heads / tp) % a2a_ranks != 0)
        return scn_rule_error_keys(
            scn, SCN_KEYS(SCN_CP_COMM_TYPE, SCN_CP), err,
            "cp-comm-type=%s spreads the %d heads per TP rank over %d ranks, "
            "which must divide them",
            scn->cp_comm_type == CP_A2A ? "a2a" : "a2a+p2p", m->heads / tp, a2a_ranks);
    /* Megatron-Core's Mamba context parallelism shards each TP rank's heads, and its groups or
     * the ranks of each group, over the CP ranks (MambaContextParallel's checks) */
    int mamba_heads = m->mamba_heads / tp, mamba_groups = m->mamba_groups / tp;
    if (cp > 1 && model_mamba_layers(m) > 0 &&
        (mamba_heads % cp != 0 ||
         (mamba_groups < cp ? cp % mamba_groups : mamba_groups % cp) != 0))
        return scn_rule_error(scn, SCN_CP, err,
                              "cp=%d: %s's Mamba layers hold %d heads and %d groups per TP rank; "
                              "context parallelism needs cp to divide the heads, and to divide "
                              "the groups or be a multiple of them",
                              cp, m->name, mamba_heads, mamba_groups);
    if (cp > 1 && model_gdn_layers(m) > 0 && !model_ssm_shards(m, tp, cp))
        return scn_rule_error(scn, SCN_CP, err,
                              "cp=%d: %s's Gated DeltaNet layers hold %d key heads and %d value "
                              "heads per TP rank; context parallelism needs cp to divide both",
                              cp, m->name, m->gdn_key_heads / tp, m->gdn_value_heads / tp);
    if (cp > 1 && scn->seq % (2 * cp) != 0)
        return scn_rule_error(scn, SCN_CP, err,
                              "seq=%d is not divisible by 2*cp=%d (context parallelism splits each "
                              "sequence into 2*cp chunks for load balance)",
                              scn->seq, 2 * cp);
    /* Megatron's sequence parallelism scatters each CP rank's tokens over the TP ranks along
     * the sequence and asserts that they divide (megatron/core/tensor_parallel/mappings.py,
     * _split_along_first_dim); torchtitan's DTensor shards may be uneven. */
    if (scn->sp && tp > 1 && scn->framework != FW_TORCHTITAN && (scn->seq / cp) % tp != 0)
        return scn_rule_error_keys(
            scn, SCN_KEYS(SCN_SEQ, SCN_TP), err,
            "seq=%d over cp=%d leaves %d tokens per rank, not divisible by "
            "tp=%d: sequence parallelism splits them over the TP ranks (sp=false "
            "or a seq that tp divides)",
            scn->seq, cp, scn->seq / cp, tp);
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
    if (!scn_flex_dispatch(scn) || hw->gpu.sms == 0)
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
        return scn_rule_error_keys(
            scn, SCN_KEYS(scn_given(scn, SCN_FSDP) ? SCN_FSDP : SCN_ZERO, SCN_GPUS), err,
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
        return scn_rule_error_keys(
            scn, SCN_KEYS(SCN_GRAD_ACCUMULATION, SCN_ZERO), err,
            "grad-accumulation=%s sums whole gradients, but ZeRO stage %d "
            "reduce-scatters every micro-batch's gradients onto their shards",
            scn_choice_name(SCN_GRAD_ACCUMULATION, scn->grad_accumulation), sh.stage);
    if (scn->quantized_params && !cm_narrow_gemms(scn))
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_QUANTIZED_PARAMS, SCN_DTYPE), err,
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
        /* Megatron orders ranks TP, then DP (EP, then expert-DP, on the expert side): a shard
         * group of `shard` DP ranks spans shard x tp GPUs, holding that many over etp x ep
         * expert-DP ranks -- one where the expert-parallel group fills the shard group. */
        long group_gpus = (long)shard * scn->tp, expert_span = (long)scn->etp * scn->ep;
        eshard = group_gpus % expert_span == 0 ? (int)(group_gpus / expert_span) : 1;
        if (eshard < 1 || edp % eshard != 0)
            eshard = 1;
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

/* Whether the dispatch-direction expert exchanges travel in fp8 (moe-dispatch-dtype): as
 * given, else as the framework does it -- DeepSeek-V3's fp8 training quantizes the activations
 * before the MoE up-projection to FP8 before the dispatch, and the activation gradient before
 * the down-projection before its all-to-all (report sec. 3.3.2, "Low-Precision
 * Communication"), on DeepEP; Megatron-Core keeps bf16 unless told (moe_dispatch_fwd_dtype,
 * transformer_config.py at d98e8a6).  Only a flex dispatcher carries it (check_moe_keys). */
static int resolve_dispatch_fp8(const struct scenario *scn)
{
    if (scn_given(scn, SCN_MOE_DISPATCH_DTYPE))
        return scn->moe_dispatch_dtype == EP_WIRE_FP8;
    return scn->framework == FW_DEEPSEEK && scn->dtype == DT_FP8 && scn_flex_dispatch(scn);
}

/* E4M3 elements with one fp32 scale per 128 (DeepEP's fp8 dispatch takes [tokens, hidden / 128]
 * float scales beside the fp8 tensor; DeepSeek-V3's 1x128 activation tiles); MXFP8's one E8M0
 * byte per 32 elements (Megatron-Core's mxfp8 wire) is as many bytes. */
#define FP8_WIRE_BYTES (1.0 + 4.0 / 128.0)

/* A model's feature that refuses a setting: the key to blame and why. */
struct refusal {
    enum scn_key key;
    const char *why;
};

/* The first of `n` refusals whose setting is on (`on[i]`), as "NAME[what] why", or SIM_OK. */
static enum sim_status first_refusal(const struct scenario *scn, const struct refusal *refused,
                                     const int *on, size_t n, const char *name, const char *what,
                                     struct sim_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (on[i])
            return scn_rule_error(scn, refused[i].key, err, "%s%s %s", name, what,
                                  refused[i].why);
    return SIM_OK;
}

/* Every rule in turn, then the layout resolved once into *cfg (what the cost model reads). */
/* DeepSeek Sparse Attention (model.h) as Megatron-Core runs it (experimental_attention_variant/
 * dsa.py, DSAttention): context parallelism by an all-gather of the keys alone -- what a file
 * leaves to the default becomes it, derived --, its own flash kernels (no unfused attention, no
 * fp8 attention); modelled without packed documents and without LoRA. */
static enum sim_status check_dsa_keys(struct scenario *scn, const struct model *m,
                                      struct sim_error *err)
{
    if (m->dsa_topk <= 0)
        return SIM_OK;
    if (scn->cp > 1 && scn->cp_comm_type != CP_ALLGATHER) {
        if (scn_given(scn, SCN_CP_COMM_TYPE))
            return scn_rule_error_keys(
                scn, SCN_KEYS(SCN_CP_COMM_TYPE, SCN_CP), err,
                "%s's sparse attention runs context parallelism by gathering "
                "its keys: cp-comm-type=allgather",
                m->name);
        scn->cp_comm_type = CP_ALLGATHER;
        scn_mark_derived(scn, SCN_CP_COMM_TYPE);
    }
    static const struct refusal refused[] = {
        {SCN_ATTENTION, "runs its own flash kernels (attention=flash)"},
        {SCN_ATTENTION_KERNEL, "runs its own kernels (attention-kernel=best)"},
        {SCN_FP8_ATTENTION, "with fp8 attention is not modelled"},
        {SCN_PACKED_DOC_TOKENS, "over packed documents is not modelled"},
        {SCN_PEFT, "with LoRA is not modelled"},
    };
    int off[] = {scn->attention != ATTENTION_FLASH, scn->attention_kernel != ATTN_KERNEL_BEST,
                 scn->fp8_attention, scn->packed_doc_tokens > 0, scn->peft != PEFT_NONE};
    return first_refusal(scn, refused, off, sizeof off / sizeof off[0], m->name,
                         "'s sparse attention", err);
}

/* DeepSeek-V4's layers as Megatron-Core's dev branch runs them (deepseek_v4_hybrid_attention.py
 * at 9d46c924 asserts tensor parallelism 1 and refuses a checkpointed core and an offloaded QKV
 * projection): its attention at tp=1 without those, its own sparse kernels (flash, no fp8
 * attention); not modelled -- context parallelism, hyper-connections under tensor parallelism,
 * packed documents, LoRA. */
static enum sim_status check_deepseek_v4(const struct scenario *scn, const struct model *m,
                                         struct sim_error *err)
{
    int csa = m->csa_layers > 0;
    if (!csa && m->hc_streams == 0)
        return SIM_OK;
    static const struct refusal refused[] = {
        {SCN_TP, "runs its attention at tp=1 only (Megatron-Core's DeepSeek-V4 attention)"},
        {SCN_TP, "with hyper-connections under tensor parallelism is not modelled"},
        {SCN_CP, "with context parallelism is not modelled"},
        {SCN_RECOMPUTE_MODULES, "checkpoints no core attention (recompute-modules core_attn)"},
        {SCN_OFFLOAD_MODULES, "offloads no QKV projection's input (offload-modules qkv_linear)"},
        {SCN_ATTENTION, "runs its own sparse kernels (attention=flash)"},
        {SCN_ATTENTION_KERNEL, "runs its own kernels (attention-kernel=best)"},
        {SCN_FP8_ATTENTION, "with fp8 attention is not modelled"},
        {SCN_PACKED_DOC_TOKENS, "over packed documents is not modelled"},
        {SCN_PEFT, "with LoRA is not modelled"},
    };
    int off[] = {csa && scn->tp > 1,
                 scn->tp > 1,
                 scn->cp > 1,
                 csa && scn->recompute == RECOMPUTE_SELECTIVE &&
                     (scn->recompute_modules & RC_CORE_ATTN),
                 csa && (scn->offload_modules & OM_QKV_LINEAR),
                 csa && scn->attention != ATTENTION_FLASH,
                 csa && scn->attention_kernel != ATTN_KERNEL_BEST,
                 csa && scn->fp8_attention,
                 scn->packed_doc_tokens > 0,
                 scn->peft != PEFT_NONE};
    return first_refusal(scn, refused, off, sizeof off / sizeof off[0], m->name, "", err);
}

/* What set the first layers of the chunks check_dsa_stages judges: a pipeline-layout string,
 * the end stages' layers, or pp and vp splitting the layers evenly.  Its words go in `buf`,
 * its keys in keys[] (of two from one input, the first named is blamed); returns their
 * number. */
static int split_cause(const struct scenario *scn, char *buf, size_t len, enum scn_key *keys)
{
    int fa = scn_given_or_derived(scn, SCN_FIRST_STAGE_LAYERS);
    int la = scn_given_or_derived(scn, SCN_LAST_STAGE_LAYERS);
    if (scn->pipeline_layout[0]) {
        snprintf(buf, len, "as pipeline-layout sets it");
        keys[0] = SCN_PIPELINE_LAYOUT;
        return 1;
    }
    if (fa && la) {
        snprintf(buf, len, "as first-stage-layers=%d and last-stage-layers=%d set it",
                 scn->first_stage_layers, scn->last_stage_layers);
        keys[0] = SCN_FIRST_STAGE_LAYERS;
        keys[1] = SCN_LAST_STAGE_LAYERS;
        return 2;
    }
    if (fa || la) {
        snprintf(buf, len, "as %s=%d sets it", fa ? "first-stage-layers" : "last-stage-layers",
                 fa ? scn->first_stage_layers : scn->last_stage_layers);
        keys[0] = fa ? SCN_FIRST_STAGE_LAYERS : SCN_LAST_STAGE_LAYERS;
        return 1;
    }
    snprintf(buf, len, "as pp=%d x vp=%d split layers=%d evenly", scn->pp, scn->vp, scn->layers);
    keys[0] = SCN_PP;
    keys[1] = SCN_VP;
    return 2;
}

/* With index sharing a layer reuses the top-k of a computing layer before it, which must run
 * on the same pipeline chunk: every chunk starts on a computing layer (Megatron-Core
 * experimental_attention_variant_module_specs.py, _validate_dsa_index_share_pipeline_split).
 * The split is read from a layout of its own, resolved before scn_check (layout.h says what
 * that leaves open): one walk of a pipeline-layout string, not one a stage.  The error blames
 * the key that set the split (split_cause). */
static enum sim_status check_dsa_stages(const struct scenario *scn, const struct model *m,
                                        struct sim_error *err)
{
    if (m->dsa_topk <= 0 || m->dsa_topk_freq <= 1)
        return SIM_OK;
    struct layout lay;
    enum sim_status st = layout_init(&lay, scn, m->mtp_layers, err);
    for (int stage = 0; st == SIM_OK && stage < lay.stages; stage++) {
        const struct layout_stage *ls = &lay.stage[stage];
        if (ls->layers <= 0 || model_dsa_computes_topk(m, ls->first_layer))
            continue;
        char cause[96];
        enum scn_key keys[2];
        int n = split_cause(scn, cause, sizeof cause, keys);
        st = scn_rule_error_keys(
            scn, keys, n, err,
            "pipeline chunk %d starts on layer %d (%s), which reuses an earlier "
            "layer's DSA top-k (a layer in %d computes it): the chunks must "
            "start on computing layers (give a pipeline-layout of whole "
            "groups, or pp / vp given after the model, which lay one out)",
            stage, ls->first_layer, cause, m->dsa_topk_freq);
    }
    layout_release(&lay);
    return st;
}

/* The layout's resolved values: the cost model reads these, not the scenario's keys again. */
struct rules_layout {
    int gpus, dp, edp, replicas, shard, eshard;
    struct scn_sharding sh;
};

static struct cm_config resolve_config(const struct scenario *scn, const struct model *m,
                                       const struct hardware *hw, const struct rules_layout *l)
{
    const struct scn_sharding *sh = &l->sh;
    int deferred = pipelined_fsdp2(scn, sh);
    int megatron_core = fw_megatron_core(scn);
    int titan = scn->framework == FW_TORCHTITAN;
    struct hw_fp8_attention fp8_attn = fp8_attention_rates(scn, hw);
    struct cm_config cfg = {
        .gpus = l->gpus,
        .tp = scn->tp,
        .pp = scn->pp,
        .vp = scn->vp,
        .cp = scn->cp,
        .ep = scn->ep,
        .etp = scn->etp,
        .dp = l->dp,
        .edp = l->edp,
        .replicas = l->replicas,
        .zero = sh->stage,
        .reshard = sh->reshard_after_forward && !deferred,
        .defer_grad_sync = deferred,
        .grad_accumulation = resolve_grad_accumulation(scn, sh->stage),
        .overlap_tp_backward = resolve_overlap_tp_backward(scn),
        .tp_keeps_gathered_input = titan,
        .async_tp_torch = titan && scn->overlap_tp_comm,
        .separate_projections = titan,
        .split_backward = scn_split_backward(scn),
        .flat_param_grads = flat_param_grads(scn, sh, deferred),
        .fsdp2 = titan && sh->stage >= 3,
        .megatron_core = megatron_core,
        .core_attn_rerun = scn->attention == ATTENTION_UNFUSED || megatron_core,
        .regather_own_output = scn->framework == FW_DEEPSPEED,
        .ep_overlap_interference = ep_overlap_interference(scn, hw),
        .attention_share =
            scn->attention_kernel == ATTN_KERNEL_FA2 ? hw->gpu.fa2_attention_share : 1.0,
        .attention_bwd_ratio = attention_bwd_ratio(m, hw),
        .attention_fp8_fwd = fp8_attn.fwd,
        .attention_fp8_bwd = fp8_attn.bwd,
        .graph_scope = graph_scope(scn),
        .eager_launch_s = hw->gpu.kernel_overhead_s * hw->gpu.host_launch_ratio,
        .moe_load =
            scn->moe_capacity_factor > 0.0 ? scn->moe_capacity_factor : scn->moe_imbalance,
        .grad_allreduce = sh->stage == 0 || scn->grad_reduce_op == GRAD_REDUCE_ALL_REDUCE,
        .shard = l->shard,
        .eshard = l->eshard,
        .outer_optim = sh->outer_optim,
        .outer_reduce_once = sh->hybrid && scn->fsdp == FSDP_NONE,
        .micro_batch = scn->micro_batch,
        .global_batch = scn->global_batch,
        .microbatches = scn->microbatches,
        .seq = scn->seq,
        .gpus_per_node = hw->node.gpus,
        .offload_modules = cm_offload_modules(scn, m),
        .pp_dp_order = scn->rank_order == RANK_ORDER_PP_DP,
        .act_bytes = cm_dtype_bytes(scn->dtype),
        .param_bytes = cm_dtype_bytes(scn->dtype)};
    cfg.ep_dispatch_bytes = resolve_dispatch_fp8(scn) ? FP8_WIRE_BYTES : cfg.act_bytes;
    cfg.communicators = cm_communicators(scn, &cfg, m);
    cfg.deepep_buffer_bytes = cm_deepep_buffer_bytes(scn, m, &cfg);
    cfg.userbuffer_bytes = cm_userbuffer_bytes(scn, m, &cfg);
    return cfg;
}

/* The checks that need only the scenario's own keys, the model and the hardware; `gpus` is
 * the layout's GPU count (check_layout). */
static enum sim_status check_keys(struct scenario *scn, const struct model *m,
                                  const struct hardware *hw, int *gpus, struct sim_error *err)
{
    enum sim_status st = check_cost_inputs(scn, m, hw, err);
    if (st == SIM_OK) /* before the layout's: its one key-value head would refuse tp first */
        st = check_deepseek_v4(scn, m, err);
    if (st == SIM_OK)
        st = check_layout(scn, m, gpus, err);
    if (st == SIM_OK)
        st = check_dsa_keys(scn, m, err);
    if (st == SIM_OK)
        st = check_cp(scn, m, err);
    return st;
}

enum sim_status cm_check_rules(struct scenario *scn, const struct model *m,
                               const struct hardware *hw, struct cm_config *cfg,
                               struct sim_error *err)
{
    struct rules_layout l = {0};
    derive_followers(scn); /* sp after tp, a low-precision run's keys after dtype */
    enum sim_status st = check_keys(scn, m, hw, &l.gpus, err);
    if (st != SIM_OK)
        return st;
    l.dp = (int)(l.gpus / ((long)scn->tp * scn->cp * scn->pp));
    l.edp = (int)(l.gpus / ((long)scn->ep * scn->etp * scn->pp));
    l.replicas = l.dp * scn->cp;
    /* The batch follows the given values (derive.h); so may vp, after the schedule. */
    st = derive_apply(scn, m, l.dp, err);
    if (st == SIM_OK)
        st = check_dsa_stages(scn, m, err);
    if (st == SIM_OK)
        st = check_sharding(scn, m, l.replicas, l.edp, &l.sh, &l.shard, &l.eshard, err);
    if (st == SIM_OK)
        *cfg = resolve_config(scn, m, hw, &l);
    return st;
}
