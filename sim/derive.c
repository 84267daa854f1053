/* derive: values that follow the given ones (see derive.h for the precedence). */
#include "derive.h"
#include "derive_internal.h"

#include <stdio.h>
#include <string.h>

#include "framework.h"
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
    if (!scn_given(scn, SCN_VP) || !derive_earlier(scn, SCN_SCHEDULE, SCN_VP))
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
    if (!sched_vp_fits(type, scn->vp) && derive_earlier(scn, SCN_VP, SCN_SCHEDULE)) {
        scn->vp = type->vp_any ? interleaved_vp(scn, modelled) : sched_vp_of(type);
        scn_mark_derived(scn, SCN_VP);
    }
    if (type->builds_w && !scn->split_backward && scn_given(scn, SCN_SPLIT_BACKWARD) &&
        derive_earlier(scn, SCN_SPLIT_BACKWARD, SCN_SCHEDULE)) {
        scn->split_backward = 1;
        scn_mark_derived(scn, SCN_SPLIT_BACKWARD);
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
    int model = derive_earlier(scn, k, SCN_MODEL) || derive_earlier(scn, k, SCN_LAYERS);
    int pipe = derive_earlier(scn, k, SCN_PP) || derive_earlier(scn, k, SCN_VP) ||
               derive_earlier(scn, k, SCN_SCHEDULE);
    const struct sched_type *type = scn_schedule(scn);
    int megatron = type && type->megatron_stages;
    int fits = megatron && (long)pplayout_stages(lay) == (long)scn->pp * scn->vp;
    if (!model && (!pipe || fits))
        return;
    scn_unset(scn, SCN_PIPELINE_LAYOUT);
    scn_mark_derived(scn, SCN_PIPELINE_LAYOUT);
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
