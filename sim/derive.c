/* derive: values that follow the given ones (see derive.h for the precedence). */
#include "derive.h"
#include "derive_internal.h"

#include <stdio.h>
#include <string.h>

#include "framework.h"
#include "model.h"
#include "pplayout.h"
#include "schedule.h"
#include "stagesplit.h"

#define MAX_GLOBAL_BATCH (1 << 26) /* the global-batch key's upper bound */

static int order_of(const struct scenario *scn, enum scn_key key)
{
    return scn->origin[key].order;
}

/* When the key's value last changed: an option restating a file's value is not a change (the
 * pipeline a file split stays split as the file says under `--set pp=16` on a pp-16 file). */
static int changed_at(const struct scenario *scn, enum scn_key key)
{
    return scn->origin[key].value_order;
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
        return scn_rule_error_keys(
            scn, SCN_KEYS(SCN_MICROBATCHES, SCN_MICRO_BATCH, SCN_PP, SCN_TP, SCN_CP, SCN_GPUS), err,
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
        return scn_rule_error_keys(
            scn, keys, (int)(N_PER_STEP + 1), err,
            "global-batch=%d is not divisible by micro-batch*dp = %d*%d = %ld", scn->global_batch,
            scn->micro_batch, dp, per_step);
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
        ends = changed_at(scn, SCN_FIRST_STAGE_LAYERS);
    if (la && changed_at(scn, SCN_LAST_STAGE_LAYERS) > ends)
        ends = changed_at(scn, SCN_LAST_STAGE_LAYERS);
    for (size_t i = 0; i < N_SPLIT; i++)
        if (changed_at(scn, split_keys[i]) > ends)
            return 1;
    return 0;
}

/* Does the model share its DSA top-k between layers (every chunk must then start on a layer
 * computing it: cm_rules.c, check_dsa_stages)? */
static int shares_topk(const struct model *m)
{
    return m && m->dsa_topk > 0 && m->dsa_topk_freq > 1;
}

static int dsa_starts(int layer, const void *arg)
{
    return model_dsa_computes_topk(arg, layer);
}

/* Does every chunk of the scenario's split start on a layer computing the top-k? */
static int chunks_compute(const struct scenario *scn, const struct model *m)
{
    for (int s = 0; shares_topk(m) && s < scn->pp * scn->vp; s++) {
        int first, count;
        scn_stage_layers(scn, s, &first, &count);
        if (count > 0 && !model_dsa_computes_topk(m, first))
            return 0;
    }
    return 1;
}

/* The pipeline keys: a split that cannot be made blames the one given last. */
static const enum scn_key pipeline_keys[] = {SCN_PP, SCN_VP, SCN_SCHEDULE};
#define N_PIPELINE_KEYS ((int)(sizeof pipeline_keys / sizeof pipeline_keys[0]))

/* The pipeline key given last. */
static enum scn_key pipeline_key(const struct scenario *scn)
{
    return latest(scn, pipeline_keys, N_PIPELINE_KEYS);
}

/* No split of the ends, and a schedule a pipeline layout does not describe: say what to change. */
static enum sim_status no_split(const struct scenario *scn, const struct model *m,
                                struct sim_error *err)
{
    return scn_rule_error_keys(scn, pipeline_keys, N_PIPELINE_KEYS, err,
                               "layers=%d have no split over %d model parts (pp=%d, vp=%d) %s, and "
                               "schedule=%s takes no pipeline-layout (1f1b and interleaved do): "
                               "change pp or vp, or give first-stage-layers / last-stage-layers",
                               scn->layers, scn_model_parts(scn), scn->pp, scn->vp,
                               shares_topk(m)
                                   ? "that starts every chunk on a layer computing the DSA "
                                     "top-k"
                                   : "whose first and last stages are no heavier than the "
                                     "others",
                               scn->schedule);
}

/* The stages laid out as a Megatron-Core user would write --pipeline-model-parallel-layout
 * (pplayout.h): balanced per stage and per rank, in whole top-k groups for a model sharing its
 * top-k (as Megatron-Bridge's GLM-5.2 recipes), the MTP modules with the loss.  Ends given for
 * another pipeline are dropped: the layout sets every stage. */
static enum sim_status derive_layout(struct scenario *scn, const struct model *m,
                                     struct sim_error *err)
{
    const struct sched_type *type = scn_schedule(scn);
    if (!type || !type->megatron_stages)
        return no_split(scn, m, err);
    char lay[sizeof scn->pipeline_layout];
    int mtp = m ? m->mtp_layers : 0;
    int rc =
        shares_topk(m)
            ? pplayout_grouped(scn->layers, scn->pp, scn->vp, mtp, dsa_starts, m, lay, sizeof lay)
            : pplayout_balanced(scn->layers, scn->pp, scn->vp, mtp, lay, sizeof lay);
    if (rc != 0)
        return scn_rule_error_keys(
            scn, pipeline_keys, N_PIPELINE_KEYS, err,
            "layers=%d over pp*vp=%d*%d stages need a pipeline-layout longer "
            "than %zu characters",
            scn->layers, scn->pp, scn->vp, sizeof lay - 1);
    static const enum scn_key ends[] = {SCN_FIRST_STAGE_LAYERS, SCN_LAST_STAGE_LAYERS};
    for (size_t i = 0; i < 2; i++)
        if (scn_given_or_derived(scn, ends[i])) {
            scn_unset(scn, ends[i]);
            scn_mark_derived(scn, ends[i]);
        }
    memcpy(scn->pipeline_layout, lay, sizeof lay);
    scn_mark_derived(scn, SCN_PIPELINE_LAYOUT);
    return SIM_OK;
}

/* Re-split the layers over a pipeline that changed: the ends set apart (fa, la) by stagesplit.h's
 * rule when it has a split -- for a model sharing its DSA top-k, one starting every chunk on a
 * computing layer -- else a pipeline layout.  Fewer layers than model parts stay for the rules,
 * which say every chunk needs one. */
static enum sim_status resplit(struct scenario *scn, const struct model *m, int fa, int la,
                               struct sim_error *err)
{
    int first, last, stages = scn_model_parts(scn);
    if (scn->layers < stages)
        return SIM_OK;
    if (stage_split_ends(scn->layers, stages, fa, la, &first, &last) == 0) {
        struct scenario trial = *scn;
        trial.first_stage_layers = fa ? first : 0;
        trial.last_stage_layers = la ? last : 0;
        if (fa)
            scn_mark_derived(&trial, SCN_FIRST_STAGE_LAYERS);
        if (la)
            scn_mark_derived(&trial, SCN_LAST_STAGE_LAYERS);
        if (chunks_compute(&trial, m)) {
            *scn = trial;
            return SIM_OK;
        }
    }
    return derive_layout(scn, m, err);
}

/* The ends follow the pipeline (resplit); on one stage they are no longer set apart. */
static enum sim_status derive_stage_ends(struct scenario *scn, const struct model *m,
                                         struct sim_error *err)
{
    if (!ends_follow(scn))
        return SIM_OK;
    if (scn_model_parts(scn) < 2) {
        scn_unset(scn, SCN_FIRST_STAGE_LAYERS);
        scn_unset(scn, SCN_LAST_STAGE_LAYERS);
        return SIM_OK;
    }
    return resplit(scn, m, scn_given(scn, SCN_FIRST_STAGE_LAYERS),
                   scn_given(scn, SCN_LAST_STAGE_LAYERS), err);
}

/* Ends not given, and a pipeline given later than the model that cannot split its layers
 * evenly (`--vary pp=4` on a 118-layer model) or, for a model sharing its DSA top-k, not with
 * every chunk starting on a computing layer: re-split (resplit), both ends set apart as a
 * Megatron-Core user would set them, else a layout.  A pipeline given with the model stays, for
 * the rules to judge; so does every pipeline of explicit costs, whose layers are the
 * scenario's own. */
static enum sim_status derive_uneven_ends(struct scenario *scn, const struct model *m,
                                          struct sim_error *err)
{
    if (scn_given_or_derived(scn, SCN_FIRST_STAGE_LAYERS) ||
        scn_given_or_derived(scn, SCN_LAST_STAGE_LAYERS) || scn->pipeline_layout[0])
        return SIM_OK;
    int stages = scn_model_parts(scn);
    if (stages < 2 || scn->layers <= 0 || (scn->layers % stages == 0 && chunks_compute(scn, m)))
        return SIM_OK;
    int model = changed_at(scn, SCN_MODEL);
    if (changed_at(scn, SCN_LAYERS) > model)
        model = changed_at(scn, SCN_LAYERS);
    if (changed_at(scn, pipeline_key(scn)) <= model)
        return SIM_OK;
    return resplit(scn, m, 1, 1, err);
}

/* Interleaved: the least vp >= 2 that passes every rule, else 2 (the rules then say why).  At
 * most 63 trial checks of a scenario copy, its ends following each vp tried -- in a modelled
 * scenario re-split where the layers do not split (derive_uneven_ends), so that 118 layers on
 * pp 2 take vp 2 with ends of 29, not vp 59 of one layer a chunk. */
static int interleaved_vp(const struct scenario *scn, const struct model *m, int modelled)
{
    int limit = scn->pp > 0 ? scn->layers / scn->pp : 0;
    if (limit > 64)
        limit = 64;
    for (int v = 2; v <= limit; v++) {
        struct scenario trial = *scn;
        trial.vp = v;
        if (derive_stage_ends(&trial, m, NULL) == SIM_OK &&
            (!modelled || derive_uneven_ends(&trial, m, NULL) == SIM_OK) &&
            scn_check(&trial, NULL) == SIM_OK)
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

static void derive_schedule_keys(struct scenario *scn, const struct model *m, int modelled)
{
    const struct sched_type *type = scn_schedule(scn);
    if (!type)
        return; /* scn_check names the unknown schedule */
    type = schedule_follows_vp(scn, type);
    if (!sched_vp_fits(type, scn->vp) && derive_earlier(scn, SCN_VP, SCN_SCHEDULE)) {
        scn->vp = type->vp_any ? interleaved_vp(scn, m, modelled) : sched_vp_of(type);
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

enum sim_status derive_apply(struct scenario *scn, const struct model *m, int dp,
                             struct sim_error *err)
{
    derive_followers(scn);
    if (dp > 0) {
        enum sim_status st = derive_batch(scn, dp, err);
        if (st != SIM_OK)
            return st;
    }
    derive_schedule_keys(scn, m, dp > 0); /* after the batch: interleaved's rules read it */
    derive_pipeline_layout(scn);          /* after vp, which the schedule may have set */
    enum sim_status st = derive_stage_ends(scn, m, err); /* after vp, whose stages they split */
    if (st == SIM_OK && dp > 0)
        st = derive_uneven_ends(scn, m, err);
    return st;
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
