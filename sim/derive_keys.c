/* derive_keys: the keys that follow other keys without the layout (see derive.h): a
 * low-precision run's keys and the dtype, the fused grouped MLP and what leans on it, the
 * sharding keys, gradient handling, sequence parallelism, recompute's keys, the modes' keys
 * (attention, CUDA graphs, EP overlap) and the keys read only under another key's value.
 * Each follows by one rule: a value given later wins, and a key given earlier that no longer
 * applies goes back to its default, marked derived (derive_follow). */
#include "derive.h"
#include "derive_internal.h"

#include "framework.h"
#include "hardware.h"
#include "schedule.h"

static int dtype_fp8(const struct scenario *scn)
{
    return scn->dtype == DT_FP8;
}

static int dtype_narrow(const struct scenario *scn)
{
    return scn->dtype == DT_FP8 || scn->dtype == DT_NVFP4;
}

static int dtype_nvfp4(const struct scenario *scn)
{
    return scn->dtype == DT_NVFP4;
}

/* Layers kept in bf16 at the ends: fp8 or nvfp4 training, except fp8 under delayed scaling
 * (Megatron-Core refuses first_last_layers_bf16 with it: transformer_config.py at d98e8a6). */
static int edge_layers_apply(const struct scenario *scn)
{
    return dtype_narrow(scn) && !(scn->dtype == DT_FP8 && scn->fp8_recipe == FP8_DELAYED);
}

/* Block-scaled 4- or 8-bit GEMMs: NVFP4, or fp8 under the MXFP8 recipe. */
static int dtype_block_scaled(const struct scenario *scn)
{
    return scn->dtype == DT_NVFP4 || (scn->dtype == DT_FP8 && scn->fp8_recipe == FP8_MXFP8);
}

/* A low-precision run's keys follow a dtype (or fp8 recipe) given later that they do not apply
 * to: back to their defaults, listed as derived.  So `--vary dtype=bf16,fp8` on an fp8 file runs
 * its bf16 config without the fp8 recipe, quantized weights, bf16 edge layers, the padded
 * routing map and the like, as the same launch line without its fp8 flags would; the fused
 * grouped MLP, which quantizes in MXFP8 or NVFP4, follows a recipe given later too. */
static void derive_precision_keys(struct scenario *scn)
{
    static const struct {
        enum scn_key key;
        int (*applies)(const struct scenario *);
    } keys[] = {
        {SCN_FP8_RECIPE, dtype_fp8},
        {SCN_FP8_OUTPUT_PROJ, dtype_fp8},
        {SCN_QUANTIZED_PARAMS, dtype_narrow},
        {SCN_BF16_FIRST_LAYERS, edge_layers_apply},
        {SCN_BF16_LAST_LAYERS, edge_layers_apply},
        {SCN_FP8_ATTENTION, dtype_narrow},
        {SCN_BF16_MODULES, dtype_narrow},
        {SCN_MXFP8_MODULES, dtype_nvfp4},
        {SCN_MOE_FUSED_GROUPED_MLP, dtype_block_scaled},
        {SCN_MOE_ROUTER_PADDING, dtype_narrow},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (scn_given(scn, keys[i].key) && !keys[i].applies(scn) &&
            (derive_earlier(scn, keys[i].key, SCN_DTYPE) ||
             derive_earlier(scn, keys[i].key, SCN_FP8_RECIPE))) {
            derive_follow(scn, keys[i].key);
        }
}

/* offload-modules' tuning keys follow it when it names no module any more. */
static void derive_offload_tuning(struct scenario *scn)
{
    static const enum scn_key tuning[] = {SCN_OFFLOAD_MIN_ELEMENTS, SCN_OFFLOAD_FRACTION,
                                          SCN_OFFLOAD_PP_DELTA};
    for (size_t i = 0; !scn->offload_modules && i < sizeof tuning / sizeof tuning[0]; i++)
        if (scn_given(scn, tuning[i]))
            derive_follow(scn, tuning[i]);
}

/* The fused grouped MLP follows an etp above 1 given later (Megatron-Core fuses experts without
 * tensor parallelism only), and what leans on it follows it out -- when it followed a dtype,
 * recipe or etp given later, or was turned off after them: a per-module CUDA graph scope holding
 * whole MoE blocks keeps their router and preprocessing only, as the recipes without those
 * grouped GEMMs name it (a dropless MoE's experts are graphed only through them: cm_rules.c,
 * check_cuda_graphs), and offload-modules drops fused_group_mlp (and, naming nothing then, its
 * tuning keys go too).  A whole-iteration graph stays for the rules, whose message names the
 * ways out. */
static void derive_fused_mlp_dependants(struct scenario *scn)
{
    enum scn_key fused = SCN_MOE_FUSED_GROUPED_MLP;
    if (scn->moe_fused_grouped_mlp && scn->etp > 1 && scn_given(scn, fused) &&
        derive_earlier(scn, fused, SCN_ETP))
        derive_follow(scn, fused);
    if (scn->moe_fused_grouped_mlp)
        return;
    int followed = scn->origin[fused].derived;
    if (scn_given(scn, SCN_CUDA_GRAPH_SCOPE) && (scn->cuda_graph_scope & GS_MOE) &&
        !(scn->moe_capacity_factor > 0.0) &&
        (followed || derive_earlier(scn, SCN_CUDA_GRAPH_SCOPE, fused))) {
        scn->cuda_graph_scope =
            (scn->cuda_graph_scope & ~GS_MOE) | GS_MOE_ROUTER | GS_MOE_PREPROCESS;
        scn_mark_derived(scn, SCN_CUDA_GRAPH_SCOPE);
    }
    if (scn_given(scn, SCN_OFFLOAD_MODULES) && (scn->offload_modules & OM_FUSED_GROUP_MLP) &&
        (followed || derive_earlier(scn, SCN_OFFLOAD_MODULES, fused))) {
        scn->offload_modules &= ~OM_FUSED_GROUP_MLP;
        scn_mark_derived(scn, SCN_OFFLOAD_MODULES);
        derive_offload_tuning(scn);
    }
}

/* Keys that apply under other keys' values follow those given later (Megatron-Core reads or
 * allows each only there): wgrad-deferral-limit with defer-head-wgrad, mtp-repeated-layer with
 * MTP modules, deepep-sms and an fp8 moe-dispatch-dtype with the DeepEP or HybridEP
 * dispatcher, the shared experts' overlap and the padded routing map with an all-to-all or
 * flex dispatcher, the overlap without
 * overlap-ep-comm, muon-ns-steps with Muon, lora-rank and lora-modules with peft=lora (a
 * fine-tune compared with no adapters at all); offload-modules and offload-activations, two ways
 * of moving the same activations, follow each other, and offload-modules a full recompute of
 * every layer (no module input kept). */
static void derive_feature_keys(struct scenario *scn)
{
    int full_uniform =
        scn->recompute == RECOMPUTE_FULL && scn->recompute_method == RECOMPUTE_UNIFORM;
    const struct {
        enum scn_key key, cause, cause2;
        int applies;
    } keys[] = {
        {SCN_WGRAD_DEFERRAL_LIMIT, SCN_DEFER_HEAD_WGRAD, SCN_DEFER_HEAD_WGRAD,
         scn->defer_head_wgrad},
        {SCN_MTP_REPEATED_LAYER, SCN_MTP_LAYERS, SCN_MTP_LAYERS,
         !scn_given(scn, SCN_MTP_LAYERS) || scn->mtp_layers > 0},
        {SCN_DEEPEP_SMS, SCN_MOE_DISPATCHER, SCN_MOE_DISPATCHER,
         scn_flex_dispatch(scn)},
        {SCN_MOE_DISPATCH_DTYPE, SCN_MOE_DISPATCHER, SCN_MOE_DISPATCHER,
         scn->moe_dispatch_dtype != EP_WIRE_FP8 || scn_flex_dispatch(scn)},
        {SCN_MOE_SHARED_EXPERT_OVERLAP, SCN_MOE_DISPATCHER, SCN_MOE_DISPATCHER,
         scn->moe_dispatcher != DISPATCH_ALLGATHER},
        {SCN_MOE_ROUTER_PADDING, SCN_MOE_DISPATCHER, SCN_MOE_DISPATCHER,
         scn->moe_dispatcher != DISPATCH_ALLGATHER},
        {SCN_MOE_SHARED_EXPERT_OVERLAP, SCN_OVERLAP_EP_COMM, SCN_OVERLAP_EP_COMM,
         !scn->overlap_ep_comm},
        {SCN_MUON_NS_STEPS, SCN_OPTIMIZER_ALGORITHM, SCN_OPTIMIZER_ALGORITHM,
         scn->optimizer_algorithm == OPTALG_MUON},
        {SCN_LORA_RANK, SCN_PEFT, SCN_PEFT, scn_adapters(scn)},
        {SCN_LORA_MODULES, SCN_PEFT, SCN_PEFT, scn_adapters(scn)},
        {SCN_OFFLOAD_MODULES, SCN_OFFLOAD_ACTIVATIONS, SCN_OFFLOAD_ACTIVATIONS,
         !(scn->offload_activations > 0)},
        {SCN_OFFLOAD_MODULES, SCN_RECOMPUTE, SCN_RECOMPUTE_METHOD, !full_uniform},
        {SCN_OFFLOAD_ACTIVATIONS, SCN_OFFLOAD_MODULES, SCN_OFFLOAD_MODULES, !scn->offload_modules},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        enum scn_key k = keys[i].key;
        if (!keys[i].applies && scn_given(scn, k) &&
            (derive_earlier(scn, k, keys[i].cause) || derive_earlier(scn, k, keys[i].cause2))) {
            derive_follow(scn, k);
            if (k == SCN_OFFLOAD_MODULES)
                derive_offload_tuning(scn);
        }
    }
}

/* The dtype follows an fp8 recipe given later: naming a recipe asks for fp8 GEMMs (as
 * Transformer Engine's recipes are fp8 ones), so `--vary fp8-recipe=delayed,current` on a bf16
 * file compares the recipes, where it had refused every config; the keys of another low
 * precision (nvfp4's) then follow the recipe too (derive_precision_keys runs after this).  A
 * 16-bit dtype given with the recipe, or later, stays for the rules to judge. */
static void derive_dtype(struct scenario *scn)
{
    if (scn->dtype != DT_FP8 && scn_given(scn, SCN_FP8_RECIPE) &&
        derive_earlier(scn, SCN_DTYPE, SCN_FP8_RECIPE)) {
        scn->dtype = DT_FP8;
        scn_mark_derived(scn, SCN_DTYPE);
    }
}

/* Is the optimizer state sharded over data parallelism: a ZeRO stage, the distributed
 * optimizer or an FSDP strategy that shards (scn_resolve_sharding maps them onto a stage)? */
static int optimizer_sharded(const struct scenario *scn)
{
    return scn->zero >= 1 || scn->dist_opt ||
           (scn->fsdp != FSDP_NONE && scn->fsdp != FSDP_NO_SHARD);
}

/* zero and fsdp say one thing twice too (an FSDP strategy is a ZeRO stage): when they
 * disagree, the one given later wins and the other goes back to its default, so `--vary
 * zero=1,2,3` on a torchtitan file with fsdp=full-shard runs each stage (it had refused them
 * all but 3). */
static void derive_zero_or_fsdp(struct scenario *scn)
{
    if (scn->fsdp == FSDP_NONE || !scn_given(scn, SCN_ZERO) ||
        scn->zero == scn_fsdp_stage(scn->fsdp))
        return;
    if (derive_earlier(scn, SCN_FSDP, SCN_ZERO))
        derive_follow(scn, SCN_FSDP);
    else if (derive_earlier(scn, SCN_ZERO, SCN_FSDP))
        derive_follow(scn, SCN_ZERO);
    /* given together: the rules judge them */
}

/* distributed-optimizer and zero say one thing twice (Megatron's distributed optimizer is ZeRO
 * stage 1): the one given later wins and the other follows, so `--vary zero=0,1,2,3` on a file
 * with distributed-optimizer=true runs stage 0 unsharded, and `--vary distributed-optimizer=
 * true,false` on a file with zero=1 runs its false config at stage 0 (it had run stage 1 twice).
 * Then what needs a sharded optimizer follows a sharding given later that has none, back to
 * its default: quantized-params (Megatron gathers quantized weights from the optimizer's
 * shards), grad-reduce-op=reduce-scatter (nothing to scatter onto), and a hybrid shard's
 * fsdp-group and fsdp-outer-shard (no shard to group). */
static void derive_sharding_keys(struct scenario *scn)
{
    derive_zero_or_fsdp(scn);
    if (scn->dist_opt && scn->zero == 0 && scn_given(scn, SCN_ZERO) &&
        derive_earlier(scn, SCN_DIST_OPT, SCN_ZERO)) {
        scn->dist_opt = 0;
        scn_mark_derived(scn, SCN_DIST_OPT);
    }
    if (!scn->dist_opt && scn->zero >= 1 && scn_given(scn, SCN_DIST_OPT) &&
        derive_earlier(scn, SCN_ZERO, SCN_DIST_OPT)) {
        scn->zero = 0;
        scn_mark_derived(scn, SCN_ZERO);
    }
    if (optimizer_sharded(scn))
        return;
    const struct {
        enum scn_key key;
        int asks; /* the value given needs shards */
    } needs_shards[] = {
        {SCN_QUANTIZED_PARAMS, scn->quantized_params},
        {SCN_GRAD_REDUCE_OP, scn->grad_reduce_op == GRAD_REDUCE_SCATTER},
        {SCN_FSDP_GROUP, scn->fsdp_group > 0},
        {SCN_FSDP_OUTER_SHARD, scn->fsdp_outer_shard == FSDP_OUTER_OPTIM},
    };
    for (size_t i = 0; i < sizeof needs_shards / sizeof needs_shards[0]; i++) {
        enum scn_key k = needs_shards[i].key;
        if (needs_shards[i].asks && scn_given(scn, k) &&
            (derive_earlier(scn, k, SCN_ZERO) || derive_earlier(scn, k, SCN_DIST_OPT) ||
             derive_earlier(scn, k, SCN_FSDP))) {
            derive_follow(scn, k);
        }
    }
}

/* What sums whole gradients follows a ZeRO stage 2 or 3 given later, which reduce-scatters each
 * micro-batch's: grad-accumulation's autograd / fp32-copy / main-grad modes (but under
 * torchtitan's pipelined FSDP2, which defers the reduction: cm_rules.c, pipelined_fsdp2) and
 * grad-reduce-op=all-reduce, back to their defaults. */
static void derive_gradient_keys(struct scenario *scn)
{
    int stage = scn->fsdp != FSDP_NONE ? scn_fsdp_stage(scn->fsdp) : scn->zero;
    if (stage < 2)
        return;
    int deferred = scn->pp > 1 && scn->framework == FW_TORCHTITAN;
    const struct {
        enum scn_key key;
        int sums_whole;
    } keys[] = {
        {SCN_GRAD_ACCUMULATION, scn->grad_accumulation != GRAD_ACCUM_FUSED && !deferred},
        {SCN_GRAD_REDUCE_OP, scn->grad_reduce_op == GRAD_REDUCE_ALL_REDUCE},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        enum scn_key k = keys[i].key;
        if (keys[i].sums_whole && scn_given(scn, k) &&
            (derive_earlier(scn, k, SCN_ZERO) || derive_earlier(scn, k, SCN_FSDP))) {
            derive_follow(scn, k);
        }
    }
}

/* Sequence parallelism follows a tp of 1 given later: Megatron-LM turns it off itself when
 * tensor parallelism is (megatron/training/arguments.py at d98e8a6, "Disabling sequence
 * parallelism because tensor model parallelism is disabled"), so `--vary tp=1,2,4` on a file
 * with sp=true runs its tp 1. */
static void derive_sp(struct scenario *scn)
{
    if (scn->sp && scn->tp == 1 && scn_given(scn, SCN_SP) && derive_earlier(scn, SCN_SP, SCN_TP)) {
        scn->sp = 0;
        scn_mark_derived(scn, SCN_SP);
    }
}

/* Recompute's own keys follow a granularity given later that they do not apply to: a recipe's
 * recompute-modules name what selective recompute runs again, its recompute-method and
 * recompute-num-layers how full recompute does (Megatron-LM reads each only under its
 * --recompute-granularity), so `--vary recompute=none,full,selective` on a file with
 * recompute-modules runs none and full as the launch line without that flag would. */
static void derive_recompute_keys(struct scenario *scn)
{
    static const struct {
        enum scn_key key;
        int granularity;
    } keys[] = {
        {SCN_RECOMPUTE_MODULES, RECOMPUTE_SELECTIVE},
        {SCN_RECOMPUTE_METHOD, RECOMPUTE_FULL},
        {SCN_RECOMPUTE_NUM_LAYERS, RECOMPUTE_FULL},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (scn_given(scn, keys[i].key) && scn->recompute != keys[i].granularity &&
            derive_earlier(scn, keys[i].key, SCN_RECOMPUTE)) {
            derive_follow(scn, keys[i].key);
        }
}

/* Keys that apply under one value of another follow that value given later: attention-kernel
 * and fp8-attention name flash attention's kernel and precision (`--vary attention=unfused`),
 * cuda-graph-scope names what cuda-graphs=modules captures (Megatron-LM reads
 * --cuda-graph-scope only with per-module graphs), overlap-ep-comm pairs the F and B of a 1f1b
 * or interleaved steady state (a DualPipe schedule overlaps its pairs by itself), so `--vary
 * cuda-graphs=none,...` or `--vary schedule=...` on a recipe with them runs every value. */
static void derive_mode_keys(struct scenario *scn)
{
    static const enum scn_key flash_keys[] = {SCN_ATTENTION_KERNEL, SCN_FP8_ATTENTION};
    for (size_t i = 0; i < sizeof flash_keys / sizeof flash_keys[0]; i++)
        if (scn->attention != ATTENTION_FLASH && scn_given(scn, flash_keys[i]) &&
            derive_earlier(scn, flash_keys[i], SCN_ATTENTION)) {
            derive_follow(scn, flash_keys[i]);
        }
    if (scn_given(scn, SCN_CUDA_GRAPH_SCOPE) && scn->cuda_graphs != CUDA_GRAPHS_MODULES &&
        derive_earlier(scn, SCN_CUDA_GRAPH_SCOPE, SCN_CUDA_GRAPHS)) {
        scn_unset(scn, SCN_CUDA_GRAPH_SCOPE);
        scn_mark_derived(scn, SCN_CUDA_GRAPH_SCOPE);
    }
    const struct sched_type *type = scn_schedule(scn);
    if (scn->overlap_ep_comm && type && !type->steady_pairs && !type->pairs &&
        scn_given(scn, SCN_OVERLAP_EP_COMM) &&
        derive_earlier(scn, SCN_OVERLAP_EP_COMM, SCN_SCHEDULE)) {
        scn_unset(scn, SCN_OVERLAP_EP_COMM);
        scn_mark_derived(scn, SCN_OVERLAP_EP_COMM);
    }
}

void derive_followers(struct scenario *scn)
{
    derive_sp(scn);
    derive_dtype(scn); /* before the precision keys, which follow it */
    derive_precision_keys(scn);
    derive_fused_mlp_dependants(scn);
    derive_sharding_keys(scn);
    derive_gradient_keys(scn);
    derive_feature_keys(scn);
    derive_recompute_keys(scn);
    derive_mode_keys(scn);
}
