/* derive: values that follow the given ones (see derive.h for the precedence). */
#include "derive.h"

#include <stdio.h>
#include <string.h>

#include "framework.h"
#include "hardware.h"
#include "pplayout.h"
#include "schedule.h"
#include "stagesplit.h"

#define MAX_GLOBAL_BATCH (1 << 26) /* the global-batch key's upper bound */

static int order_of(const struct scenario *scn, enum scn_key key)
{
    return scn->origin[key].order;
}

/* The latest of `keys` to be given (the first of those given last): the one a rule they break
 * together blames. */
static enum scn_key latest(const struct scenario *scn, const enum scn_key *keys, size_t n)
{
    enum scn_key k = keys[0];
    for (size_t i = 1; i < n; i++)
        k = scn_culprit(scn, k, keys[i]);
    return k;
}

/* What sets the samples one micro-batch round takes over the whole cluster (micro-batch x dp). */
static const enum scn_key per_step_keys[] = {SCN_MICRO_BATCH, SCN_PP, SCN_TP, SCN_CP, SCN_GPUS};
#define N_PER_STEP (sizeof per_step_keys / sizeof per_step_keys[0])

static enum sim_status global_follows(struct scenario *scn, int dp, struct sim_error *err)
{
    long long global = (long long)scn->microbatches * scn->micro_batch * dp;
    if (global > MAX_GLOBAL_BATCH)
        return scn_rule_error(
            scn, scn_culprit(scn, SCN_MICROBATCHES, latest(scn, per_step_keys, N_PER_STEP)), err,
            "microbatches=%d x micro-batch=%d x dp=%d = %lld samples per "
            "step, above the limit of %d",
            scn->microbatches, scn->micro_batch, dp, global, MAX_GLOBAL_BATCH);
    scn->global_batch = (int)global;
    scn_mark_derived(scn, SCN_GLOBAL_BATCH);
    return SIM_OK;
}

static enum sim_status microbatches_follow(struct scenario *scn, int dp, struct sim_error *err)
{
    long per_step = (long)scn->micro_batch * dp;
    if (scn->global_batch % per_step != 0) {
        /* Blame the value given last; on a tie the global batch (it is what must divide). */
        enum scn_key keys[N_PER_STEP + 1] = {SCN_GLOBAL_BATCH};
        memcpy(keys + 1, per_step_keys, sizeof per_step_keys);
        return scn_rule_error(scn, latest(scn, keys, N_PER_STEP + 1), err,
                              "global-batch=%d is not divisible by micro-batch*dp = %d*%d = %ld",
                              scn->global_batch, scn->micro_batch, dp, per_step);
    }
    scn->microbatches = (int)(scn->global_batch / per_step);
    scn_mark_derived(scn, SCN_MICROBATCHES);
    return SIM_OK;
}

/* Both given at one level and disagreeing, with nothing later to say which should move. */
static enum sim_status contradiction(const struct scenario *scn, int dp, struct sim_error *err)
{
    long per_step = (long)scn->micro_batch * dp;
    const struct scn_origin *om = &scn->origin[SCN_MICROBATCHES];
    const struct scn_origin *og = &scn->origin[SCN_GLOBAL_BATCH];
    char mbs[64];
    if (scn->global_batch % per_step == 0)
        snprintf(mbs, sizeof mbs, "%ld", scn->global_batch / per_step);
    else
        snprintf(mbs, sizeof mbs, "%.4g", (double)scn->global_batch / per_step);
    if (om->line == 0 && og->line == 0) /* both from the command line: name both options */
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "%s microbatches=%d contradicts %s global-batch=%d: global-batch / "
                       "(micro-batch=%d * dp=%d) = %s micro-batches; give one of the two and "
                       "the other follows",
                       scn_origin_text(scn, om), scn->microbatches, scn_origin_text(scn, og),
                       scn->global_batch, scn->micro_batch, dp, mbs);
    return scn_rule_error(scn, SCN_MICROBATCHES, err,
                          "microbatches=%d contradicts global-batch=%d / (micro-batch=%d * "
                          "dp=%d) = %s",
                          scn->microbatches, scn->global_batch, scn->micro_batch, dp, mbs);
}

static enum sim_status derive_batch(struct scenario *scn, int dp, struct sim_error *err)
{
    int g_given = scn_given(scn, SCN_GLOBAL_BATCH), m_given = scn_given(scn, SCN_MICROBATCHES);
    if (!g_given)
        return global_follows(scn, dp, err);
    if (!m_given)
        return microbatches_follow(scn, dp, err);
    int og = order_of(scn, SCN_GLOBAL_BATCH), om = order_of(scn, SCN_MICROBATCHES);
    if (om > og)
        return global_follows(scn, dp, err);
    if (og > om)
        return microbatches_follow(scn, dp, err);
    if ((long long)scn->microbatches * scn->micro_batch * dp == scn->global_batch)
        return SIM_OK;
    if (order_of(scn, latest(scn, per_step_keys, N_PER_STEP)) > og)
        return microbatches_follow(scn, dp, err);
    return contradiction(scn, dp, err);
}

/* Was `a` given before `b` (or not at all while b was)?  Then a follows b. */
static int earlier(const struct scenario *scn, enum scn_key a, enum scn_key b)
{
    return order_of(scn, a) < order_of(scn, b);
}

/* What sets the stages the first / last-stage-layers were given for. */
static const enum scn_key split_keys[] = {SCN_PP, SCN_VP, SCN_SCHEDULE, SCN_MODEL, SCN_LAYERS};
#define N_SPLIT (sizeof split_keys / sizeof split_keys[0])

/* Were the ends given (and no pipeline-layout), and the pipeline they split given later? */
static int ends_follow(const struct scenario *scn)
{
    int fa = scn_given(scn, SCN_FIRST_STAGE_LAYERS), la = scn_given(scn, SCN_LAST_STAGE_LAYERS);
    if ((!fa && !la) || scn->pipeline_layout[0])
        return 0;
    int ends = 0;
    if (fa)
        ends = order_of(scn, SCN_FIRST_STAGE_LAYERS);
    if (la && order_of(scn, SCN_LAST_STAGE_LAYERS) > ends)
        ends = order_of(scn, SCN_LAST_STAGE_LAYERS);
    for (size_t i = 0; i < N_SPLIT; i++)
        if (order_of(scn, split_keys[i]) > ends)
            return 1;
    return 0;
}

/* The ends follow the pipeline (stagesplit.h); on one stage they are no longer set apart.
 * Where no split exists they stay as given, for the rules to say why. */
static void derive_stage_ends(struct scenario *scn)
{
    if (!ends_follow(scn))
        return;
    int fa = scn_given(scn, SCN_FIRST_STAGE_LAYERS), la = scn_given(scn, SCN_LAST_STAGE_LAYERS);
    int first, last, stages = scn_model_parts(scn);
    if (stages < 2) {
        scn_unset(scn, SCN_FIRST_STAGE_LAYERS);
        scn_unset(scn, SCN_LAST_STAGE_LAYERS);
        return;
    }
    if (stage_split_ends(scn->layers, stages, fa, la, &first, &last) != 0)
        return;
    if (fa) {
        scn->first_stage_layers = first;
        scn_mark_derived(scn, SCN_FIRST_STAGE_LAYERS);
    }
    if (la) {
        scn->last_stage_layers = last;
        scn_mark_derived(scn, SCN_LAST_STAGE_LAYERS);
    }
}

/* Ends not given, and a pipeline given later than the model that cannot split its layers
 * evenly (`--vary pp=4` on a 118-layer model): both ends are set apart by the same rule, as a
 * Megatron-Core user would set them (account-for-embedding / loss, or the first / last
 * pipeline-stage layer counts).  A pipeline given with the model stays, for the rules to judge;
 * so does every pipeline of explicit costs, whose layers are the scenario's own. */
static void derive_uneven_ends(struct scenario *scn)
{
    if (scn_given_or_derived(scn, SCN_FIRST_STAGE_LAYERS) ||
        scn_given_or_derived(scn, SCN_LAST_STAGE_LAYERS) || scn->pipeline_layout[0])
        return;
    int stages = scn_model_parts(scn), first, last;
    if (stages < 2 || scn->layers <= 0 || scn->layers % stages == 0)
        return;
    static const enum scn_key pipeline[] = {SCN_PP, SCN_VP, SCN_SCHEDULE};
    int pipe = 0, model = order_of(scn, SCN_MODEL);
    for (size_t i = 0; i < sizeof pipeline / sizeof pipeline[0]; i++)
        if (order_of(scn, pipeline[i]) > pipe)
            pipe = order_of(scn, pipeline[i]);
    if (order_of(scn, SCN_LAYERS) > model)
        model = order_of(scn, SCN_LAYERS);
    if (pipe <= model || stage_split_ends(scn->layers, stages, 1, 1, &first, &last) != 0)
        return;
    scn->first_stage_layers = first;
    scn->last_stage_layers = last;
    scn_mark_derived(scn, SCN_FIRST_STAGE_LAYERS);
    scn_mark_derived(scn, SCN_LAST_STAGE_LAYERS);
}

/* Interleaved: the least vp >= 2 that passes every rule, else 2 (the rules then say why).  At
 * most 63 trial checks of a scenario copy, its ends following each vp tried -- in a modelled
 * scenario set apart where the layers do not split (derive_uneven_ends), so that 118 layers on
 * pp 2 take vp 2 with ends of 29, not vp 59 of one layer a chunk. */
static int interleaved_vp(const struct scenario *scn, int modelled)
{
    int limit = scn->pp > 0 ? scn->layers / scn->pp : 0;
    if (limit > 64)
        limit = 64;
    for (int v = 2; v <= limit; v++) {
        struct scenario trial = *scn;
        trial.vp = v;
        derive_stage_ends(&trial);
        if (modelled)
            derive_uneven_ends(&trial);
        if (scn_check(&trial, NULL) == SIM_OK)
            return v;
    }
    return 2;
}

/* Between Megatron-Core's two schedules the schedule follows a vp given later: Megatron-LM runs
 * the interleaved 1F1B exactly when virtual stages are given (--num-layers-per-virtual-
 * pipeline-stage or --virtual-pipeline-model-parallel-size), else the plain one; so `--vary
 * vp=1,2,4` on a 1f1b or interleaved file runs each vp where the framework offers both.  Other
 * schedules stay, for the rules. */
static const struct sched_type *schedule_follows_vp(struct scenario *scn,
                                                    const struct sched_type *type)
{
    const struct sched_type *to = NULL;
    if (!scn_given(scn, SCN_VP) || !earlier(scn, SCN_SCHEDULE, SCN_VP))
        return type;
    if (type == &sched_1f1b && scn->vp > 1)
        to = &sched_interleaved;
    else if (type == &sched_interleaved && scn->vp == 1)
        to = &sched_1f1b;
    if (!to || !fw_offers_schedule(fw_resolve(scn), to)) /* DeepSpeed: 1F1B only */
        return type;
    snprintf(scn->schedule, sizeof scn->schedule, "%s", to->name);
    scn->sched = to;
    scn_mark_derived(scn, SCN_SCHEDULE);
    return to;
}

static void derive_schedule_keys(struct scenario *scn, int modelled)
{
    const struct sched_type *type = scn_schedule(scn);
    if (!type)
        return; /* scn_check names the unknown schedule */
    type = schedule_follows_vp(scn, type);
    if (!sched_vp_fits(type, scn->vp) && earlier(scn, SCN_VP, SCN_SCHEDULE)) {
        scn->vp = type->vp_any ? interleaved_vp(scn, modelled) : sched_vp_of(type);
        scn_mark_derived(scn, SCN_VP);
    }
    if (type->builds_w && !scn->split_backward && scn_given(scn, SCN_SPLIT_BACKWARD) &&
        earlier(scn, SCN_SPLIT_BACKWARD, SCN_SCHEDULE)) {
        scn->split_backward = 1;
        scn_mark_derived(scn, SCN_SPLIT_BACKWARD);
    }
}

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
 * its bf16 config without the fp8 recipe, quantized weights, bf16 edge layers and the like, as
 * the same launch line without its fp8 flags would; the fused grouped MLP, which quantizes in
 * MXFP8 or NVFP4, follows a recipe given later too. */
static void derive_precision_keys(struct scenario *scn)
{
    static const struct {
        enum scn_key key;
        int (*applies)(const struct scenario *);
    } keys[] = {
        {SCN_FP8_RECIPE, dtype_fp8},          {SCN_FP8_OUTPUT_PROJ, dtype_fp8},
        {SCN_QUANTIZED_PARAMS, dtype_narrow}, {SCN_BF16_FIRST_LAYERS, edge_layers_apply},
        {SCN_BF16_LAST_LAYERS, edge_layers_apply}, {SCN_FP8_ATTENTION, dtype_narrow},
        {SCN_BF16_MODULES, dtype_narrow},     {SCN_MXFP8_MODULES, dtype_nvfp4},
        {SCN_MOE_FUSED_GROUPED_MLP, dtype_block_scaled},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (scn_given(scn, keys[i].key) && !keys[i].applies(scn) &&
            (earlier(scn, keys[i].key, SCN_DTYPE) || earlier(scn, keys[i].key, SCN_FP8_RECIPE))) {
            scn_unset(scn, keys[i].key);
            scn_mark_derived(scn, keys[i].key);
        }
}

/* Unset `key` and mark it derived: it followed a value given later. */
static void follow(struct scenario *scn, enum scn_key key)
{
    scn_unset(scn, key);
    scn_mark_derived(scn, key);
}

/* offload-modules' tuning keys follow it when it names no module any more. */
static void derive_offload_tuning(struct scenario *scn)
{
    static const enum scn_key tuning[] = {SCN_OFFLOAD_MIN_ELEMENTS, SCN_OFFLOAD_FRACTION,
                                          SCN_OFFLOAD_PP_DELTA};
    for (size_t i = 0; !scn->offload_modules && i < sizeof tuning / sizeof tuning[0]; i++)
        if (scn_given(scn, tuning[i]))
            follow(scn, tuning[i]);
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
        earlier(scn, fused, SCN_ETP))
        follow(scn, fused);
    if (scn->moe_fused_grouped_mlp)
        return;
    int followed = scn->origin[fused].derived;
    if (scn_given(scn, SCN_CUDA_GRAPH_SCOPE) && (scn->cuda_graph_scope & GS_MOE) &&
        !(scn->moe_capacity_factor > 0.0) &&
        (followed || earlier(scn, SCN_CUDA_GRAPH_SCOPE, fused))) {
        scn->cuda_graph_scope =
            (scn->cuda_graph_scope & ~GS_MOE) | GS_MOE_ROUTER | GS_MOE_PREPROCESS;
        scn_mark_derived(scn, SCN_CUDA_GRAPH_SCOPE);
    }
    if (scn_given(scn, SCN_OFFLOAD_MODULES) && (scn->offload_modules & OM_FUSED_GROUP_MLP) &&
        (followed || earlier(scn, SCN_OFFLOAD_MODULES, fused))) {
        scn->offload_modules &= ~OM_FUSED_GROUP_MLP;
        scn_mark_derived(scn, SCN_OFFLOAD_MODULES);
        derive_offload_tuning(scn);
    }
}

/* Keys that apply under other keys' values follow those given later (Megatron-Core reads or
 * allows each only there): wgrad-deferral-limit with defer-head-wgrad, mtp-repeated-layer with
 * MTP modules, deepep-sms with the DeepEP dispatcher, the shared experts' overlap with an
 * all-to-all or DeepEP dispatcher and without overlap-ep-comm, muon-ns-steps with Muon;
 * offload-modules and offload-activations, two ways of moving the same activations, follow each
 * other, and offload-modules a full recompute of every layer (no module input kept). */
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
         scn->moe_dispatcher == DISPATCH_DEEPEP},
        {SCN_MOE_SHARED_EXPERT_OVERLAP, SCN_MOE_DISPATCHER, SCN_MOE_DISPATCHER,
         scn->moe_dispatcher != DISPATCH_ALLGATHER},
        {SCN_MOE_SHARED_EXPERT_OVERLAP, SCN_OVERLAP_EP_COMM, SCN_OVERLAP_EP_COMM,
         !scn->overlap_ep_comm},
        {SCN_MUON_NS_STEPS, SCN_OPTIMIZER_ALGORITHM, SCN_OPTIMIZER_ALGORITHM,
         scn->optimizer_algorithm == OPTALG_MUON},
        {SCN_OFFLOAD_MODULES, SCN_OFFLOAD_ACTIVATIONS, SCN_OFFLOAD_ACTIVATIONS,
         !(scn->offload_activations > 0)},
        {SCN_OFFLOAD_MODULES, SCN_RECOMPUTE, SCN_RECOMPUTE_METHOD, !full_uniform},
        {SCN_OFFLOAD_ACTIVATIONS, SCN_OFFLOAD_MODULES, SCN_OFFLOAD_MODULES,
         !scn->offload_modules},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        enum scn_key k = keys[i].key;
        if (!keys[i].applies && scn_given(scn, k) &&
            (earlier(scn, k, keys[i].cause) || earlier(scn, k, keys[i].cause2))) {
            follow(scn, k);
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
        earlier(scn, SCN_DTYPE, SCN_FP8_RECIPE)) {
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
    enum scn_key follows = earlier(scn, SCN_FSDP, SCN_ZERO)   ? SCN_FSDP
                           : earlier(scn, SCN_ZERO, SCN_FSDP) ? SCN_ZERO
                                                              : SCN_KEY_COUNT;
    if (follows == SCN_KEY_COUNT) /* given together: the rules judge them */
        return;
    scn_unset(scn, follows);
    scn_mark_derived(scn, follows);
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
        earlier(scn, SCN_DIST_OPT, SCN_ZERO)) {
        scn->dist_opt = 0;
        scn_mark_derived(scn, SCN_DIST_OPT);
    }
    if (!scn->dist_opt && scn->zero >= 1 && scn_given(scn, SCN_DIST_OPT) &&
        earlier(scn, SCN_ZERO, SCN_DIST_OPT)) {
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
            (earlier(scn, k, SCN_ZERO) || earlier(scn, k, SCN_DIST_OPT) ||
             earlier(scn, k, SCN_FSDP))) {
            scn_unset(scn, k);
            scn_mark_derived(scn, k);
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
            (earlier(scn, k, SCN_ZERO) || earlier(scn, k, SCN_FSDP))) {
            scn_unset(scn, k);
            scn_mark_derived(scn, k);
        }
    }
}

/* Sequence parallelism follows a tp of 1 given later: Megatron-LM turns it off itself when
 * tensor parallelism is (megatron/training/arguments.py at d98e8a6, "Disabling sequence
 * parallelism because tensor model parallelism is disabled"), so `--vary tp=1,2,4` on a file
 * with sp=true runs its tp 1. */
static void derive_sp(struct scenario *scn)
{
    if (scn->sp && scn->tp == 1 && scn_given(scn, SCN_SP) && earlier(scn, SCN_SP, SCN_TP)) {
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
            earlier(scn, keys[i].key, SCN_RECOMPUTE)) {
            scn_unset(scn, keys[i].key);
            scn_mark_derived(scn, keys[i].key);
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
            earlier(scn, flash_keys[i], SCN_ATTENTION)) {
            scn_unset(scn, flash_keys[i]);
            scn_mark_derived(scn, flash_keys[i]);
        }
    if (scn_given(scn, SCN_CUDA_GRAPH_SCOPE) && scn->cuda_graphs != CUDA_GRAPHS_MODULES &&
        earlier(scn, SCN_CUDA_GRAPH_SCOPE, SCN_CUDA_GRAPHS)) {
        scn_unset(scn, SCN_CUDA_GRAPH_SCOPE);
        scn_mark_derived(scn, SCN_CUDA_GRAPH_SCOPE);
    }
    const struct sched_type *type = scn_schedule(scn);
    if (scn->overlap_ep_comm && type && !type->steady_pairs && !type->pairs &&
        scn_given(scn, SCN_OVERLAP_EP_COMM) && earlier(scn, SCN_OVERLAP_EP_COMM, SCN_SCHEDULE)) {
        scn_unset(scn, SCN_OVERLAP_EP_COMM);
        scn_mark_derived(scn, SCN_OVERLAP_EP_COMM);
    }
}

/* A pipeline-layout follows a pipeline given later that it no longer describes: its stages
 * were written for the file's model and pp x vp under a Megatron-Core schedule, so a model or
 * layer count given later drops it, and so do pp, vp or a schedule given later that leave it
 * with another stage count or a schedule numbering stages otherwise than 1f1b and interleaved;
 * the split then falls to the ends' rule (derive_uneven_ends) -- `--vary pp=2,4,8` on a recipe
 * with a layout runs every pp.  A layout that still fits stays. */
static void derive_pipeline_layout(struct scenario *scn)
{
    const char *lay = scn->pipeline_layout;
    if (!lay[0] || !scn_given(scn, SCN_PIPELINE_LAYOUT))
        return;
    enum scn_key k = SCN_PIPELINE_LAYOUT;
    int model = earlier(scn, k, SCN_MODEL) || earlier(scn, k, SCN_LAYERS);
    int pipe = earlier(scn, k, SCN_PP) || earlier(scn, k, SCN_VP) || earlier(scn, k, SCN_SCHEDULE);
    int megatron = strcmp(scn->schedule, "1f1b") == 0 || strcmp(scn->schedule, "interleaved") == 0;
    int fits = megatron && (long)pplayout_stages(lay) == (long)scn->pp * scn->vp;
    if (!model && (!pipe || fits))
        return;
    scn_unset(scn, SCN_PIPELINE_LAYOUT);
    scn_mark_derived(scn, SCN_PIPELINE_LAYOUT);
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

enum sim_status derive_apply(struct scenario *scn, int dp, struct sim_error *err)
{
    derive_followers(scn);
    if (dp > 0) {
        enum sim_status st = derive_batch(scn, dp, err);
        if (st != SIM_OK)
            return st;
    }
    derive_schedule_keys(scn, dp > 0); /* after the batch: interleaved's rules read it */
    derive_pipeline_layout(scn); /* after vp, which the schedule may have set */
    derive_stage_ends(scn);    /* after vp, whose stages they split */
    if (dp > 0)
        derive_uneven_ends(scn);
    return SIM_OK;
}

int derive_list(const struct scenario *scn, const char *sep, char *buf, size_t len)
{
    int n = 0;
    size_t used = 0;
    if (len)
        buf[0] = '\0';
    for (int k = 0; k < SCN_KEY_COUNT; k++) {
        if (!scn->origin[k].derived)
            continue;
        if (used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", n ? sep : "",
                                     scn_key_name((enum scn_key)k));
        n++;
    }
    return n;
}
