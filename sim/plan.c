/* plan: the planner -- enumerate configs, bound them, simulate the promising ones.
 *
 * Configs come in layouts: a layout fixes tp (divisors of heads and kv heads within a node),
 * cp (1, 2, 4, 8 as seq allows), pp (with, when layers do not split evenly over the schedule's
 * model parts, one uneven split whose first and last stages hold fewer layers), vp, ep and
 * etp (1 or tp) for MoE models, micro-batch 1, 2, 4, ... and the schedule; its configs differ
 * only in the memory knobs the framework offers (framework.h): recompute (none, a light and a
 * heavy selective set -- see recompute_sets -- and full), sharding (ZeRO 0-3, and ZeRO-3
 * keeping parameters gathered where offered) and offload (optimizer, activations, both; where
 * the hardware has a host link).  Sequence parallelism follows tp (on when tp > 1, unless the
 * scenario sets sp=false).  The schedules are the framework's (GPipe left out: 1F1B has its
 * bubble with less memory) or --schedules'.  The gpus / global-batch divisibility rules are
 * checked by arithmetic first (cm_build would reject those configs just the same).
 * plan_space.c enumerates them; plan_bound.c bounds a built config's step and counts its
 * in-flight activations; this file builds, prunes and simulates.
 *
 * The bounds.  Every knob only adds to the op durations the step bound sums (recompute adds
 * work, offload host traffic, ZeRO-2/3 gathers and reduce-scatters inside the ops; ZeRO-0's
 * ops are ZeRO-1's); only the optimizer step and the parameter all-gather after it can shrink
 * (offloading the optimizer; ZeRO-0 and ZeRO-3 have no all-gather there).  So one build of a
 * config bounds all configs that differ from it only in knobs set to their fastest there,
 * counted without what those knobs could shrink (measure: bound_offload, bound_sharding).
 * Memory: offload only removes optimizer state and saved activations, so a config's weights
 * and gradients (plus what no offload option of its layout removes) bound from below every
 * config differing only in offload (mem_floor).
 *
 * Phases (each phase's jobs run on a thread pool and write only their own entries or requests, and
 * batches are of fixed sizes, so the result is the same for any thread count):
 *  1. enumerate layouts and their configs;
 *  2. build each layout's fastest config -- recompute none, ZeRO-1, no offload: the rules,
 *     checked once for the layout, the schedule's in-flight activations and the layout's bound.
 *     The in-flight activations take building the schedule's whole order -- millions of ops
 *     for a huge global batch; layouts are checked in groups that run the same order
 *     (group_orders), so each order is built once, not once per tp/cp/ep/micro-batch variant;
 *  3. best-first search over items, in order of their bounds: a layout; its configs of one
 *     recompute option; of one recompute and one sharding option; one config.  Expanding an
 *     item builds its children's representatives (the child's knobs fixed, the rest at their
 *     fastest), whose bounds key the children; a sharding option whose memory floor is above
 *     the usable HBM is dropped whole, a config over it alone; fitting configs are simulated
 *     in batches of PLAN_BATCH.  An item is taken only while it can help decide its layout's
 *     listed config (take, layout_verdict): a layout whose bound is over the candidates' cut
 *     -- 1% over the K-th smallest known bound on a layout's listed step -- cannot be listed;
 *     one whose listed config is decided (its simplest config surely within 1% of its
 *     fastest, nothing as simple left that could beat it) needs no more; an item that cannot
 *     decide its open layout now waits aside (parked) until the layout changes.  So a layout
 *     typically costs one or two simulations, not one per knob variant within the noise.
 *     The search stops when no item is needed and the rest are above the reach, 1% over the
 *     cut; configs never simulated stay pruned, keyed by the last bound the search had.
 * Invariant: the list equals the one simulating every config that fits gives (same order,
 * ties broken by enumeration order): make_list says why.
 *
 * The list ("simpler first"): each layout is represented by its simplest config within 1% of
 * its fastest; then, repeatedly, among the representatives within 1% of the fastest one not
 * yet listed (noise, for a model of this accuracy), the simplest (plan_simpler) is listed. */
#include "plan.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "costmodel.h"
#include "hardware.h"
#include "model.h"
#include "parallel.h"
#include "pipeline.h"
#include "plan_bound.h"
#include "plan_space.h"
#include "pplayout.h"
#include "step.h"

#define PLAN_BATCH 8 /* simulations between pruning decisions (independent of -j) */
#define PLAN_NOISE 0.01      /* steps within 1% are a tie, broken by simplicity */
#define MAX_CHILDREN PLAN_MAX_OPTIONS /* of one search item: recompute, sharding or offload
                                        options */

/* ---- scenarios of configs ---------------------------------------------------------------- */

static enum sim_status set_int(struct scenario *scn, enum scn_key key, int v,
                               struct sim_error *err)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%d", v);
    return scn_set_key(scn, key, buf, err);
}

/* Sequence parallelism goes with tp > 1 unless the scenario turns it off. */
static int turns_sp_off(const struct scenario *base)
{
    return scn_given(base, SCN_SP) && !base->sp;
}

int plan_config_sp(const struct plan_result *res, const struct plan_config *c)
{
    return c->tp > 1 && !res->base_no_sp;
}

int plan_offload_by_module(const struct fw_type *fw)
{
    return fw->id == FW_MEGATRON_CORE;
}

/* The activation-offload option as the framework runs it: Megatron-Core's fine-grained
 * offloading of every module the layout can offload (its layer-level cpu_offloading runs only
 * without pipelining or recompute, and never for every layer: framework.c), else a share of
 * all the saved activations, here all of them. */
static enum sim_status apply_activation_offload(struct scenario *out, const struct fw_type *fw,
                                                int offload, struct sim_error *err)
{
    int modules = offload && plan_offload_by_module(fw);
    enum sim_status st = scn_set_key(out, SCN_OFFLOAD_ACTIVATIONS,
                                     offload && !modules ? "1" : "0", err);
    if (st == SIM_OK && modules)
        return scn_set_key(out, SCN_OFFLOAD_MODULES, "all", err);
    return st;
}

static enum sim_status apply_knobs(struct scenario *out, const struct plan_config *c,
                                   const struct fw_type *fw, struct sim_error *err)
{
    static const char *const recompute_names[] = {"none", "selective", "full"};
    enum sim_status st;
    if ((st = set_int(out, SCN_ZERO, c->zero, err)) != SIM_OK ||
        (st = scn_set_key(out, SCN_DIST_OPT, c->zero >= 1 ? "true" : "false", err)) != SIM_OK ||
        (st = scn_set_key(out, SCN_RECOMPUTE, recompute_names[c->recompute], err)) != SIM_OK)
        return st;
    scn_unset(out, SCN_FSDP); /* the planner shards whole data-parallel groups: no hybrid */
    scn_unset(out, SCN_FSDP_GROUP);
    scn_unset(out, SCN_FSDP_OUTER_SHARD);
    if (c->zero != 1) /* the scenario's all-reduce (or reduce-scatter) needs ZeRO 1 */
        scn_unset(out, SCN_GRAD_REDUCE_OP);
    if (c->zero == 3 && c->keep_gathered)
        st = scn_set_key(out, SCN_RESHARD_AFTER_FORWARD, "false", err);
    else
        scn_unset(out, SCN_RESHARD_AFTER_FORWARD);
    if (st == SIM_OK && c->recompute == RECOMPUTE_SELECTIVE) {
        char names[160];
        scn_flag_names(SCN_RECOMPUTE_MODULES, c->recompute_modules, names, sizeof names);
        st = scn_set_key(out, SCN_RECOMPUTE_MODULES, names, err);
    } else {
        scn_unset(out, SCN_RECOMPUTE_MODULES);
    }
    if (c->recompute != RECOMPUTE_FULL) {
        scn_unset(out, SCN_RECOMPUTE_METHOD);
        scn_unset(out, SCN_RECOMPUTE_NUM_LAYERS);
    }
    if (st == SIM_OK)
        st = scn_set_key(out, SCN_OFFLOAD_OPTIMIZER,
                         c->offload & PLAN_OFFLOAD_OPTIMIZER ? "1" : "0", err);
    if (st == SIM_OK)
        st = apply_activation_offload(out, fw, c->offload & PLAN_OFFLOAD_ACTIVATIONS, err);
    return st;
}

struct dsa_rule {
    int freq, offset;
};

static int dsa_group_starts(int layer, const void *arg)
{
    const struct dsa_rule *r = arg;
    return model_dsa_rule_computes(layer, r->freq, r->offset);
}

int plan_config_layout(const struct plan_config *c, char *out, size_t cap)
{
    struct dsa_rule rule = {c->dsa_freq, c->dsa_offset};
    if (cap > 0)
        out[0] = '\0';
    if (c->dsa_freq <= 1)
        return 0;
    return pplayout_grouped(c->dsa_layers, c->pp, c->vp, c->dsa_mtp, dsa_group_starts, &rule, out,
                            cap);
}

/* A model sharing its DSA top-k: the stages as a pipeline layout of whole groups. */
static enum sim_status apply_dsa_groups(struct scenario *out, const struct plan_config *c,
                                        struct sim_error *err)
{
    char layout[sizeof out->pipeline_layout];
    if (plan_config_layout(c, layout, sizeof layout) != 0)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "plan: %d layers over %d stages make a pipeline layout too long",
                       c->dsa_layers, c->pp * c->vp);
    return scn_set_key(out, SCN_PIPELINE_LAYOUT, layout, err);
}

/* The config's dispatcher, where it chooses one: the flex backends' SM count and an fp8 wire
 * stay only with a flex backend (the rules refuse them otherwise). */
static enum sim_status apply_dispatcher(struct scenario *out, const struct plan_config *c,
                                        struct sim_error *err)
{
    if (!c->dispatcher)
        return SIM_OK;
    enum sim_status st = scn_set_key(
        out, SCN_MOE_DISPATCHER, scn_choice_name(SCN_MOE_DISPATCHER, c->dispatcher - 1), err);
    for (int k = 0; st == SIM_OK && k < PLAN_NFLEX_KEYS && plan_config_drops_flex(c); k++)
        scn_unset(out, plan_flex_keys[k]);
    return st;
}

const enum scn_key plan_flex_keys[PLAN_NFLEX_KEYS] = {SCN_DEEPEP_SMS, SCN_MOE_DISPATCH_DTYPE};

int plan_config_drops_flex(const struct plan_config *c)
{
    return c->dispatcher && !scn_dispatcher_flex(c->dispatcher - 1);
}

enum sim_status plan_config_apply(const struct scenario *base, const struct fw_type *fw, int gpus,
                                  const struct plan_config *c, struct scenario *out,
                                  struct sim_error *err)
{
    *out = *base;
    int sp = c->tp > 1 && !turns_sp_off(base);
    enum sim_status st;
    if ((st = set_int(out, SCN_GPUS, gpus, err)) != SIM_OK ||
        (st = set_int(out, SCN_TP, c->tp, err)) != SIM_OK ||
        (st = set_int(out, SCN_PP, c->pp, err)) != SIM_OK ||
        (st = set_int(out, SCN_VP, c->vp, err)) != SIM_OK ||
        (st = set_int(out, SCN_CP, c->cp, err)) != SIM_OK ||
        (st = set_int(out, SCN_EP, c->ep, err)) != SIM_OK ||
        (st = set_int(out, SCN_ETP, c->etp, err)) != SIM_OK ||
        (st = set_int(out, SCN_MICRO_BATCH, c->micro_batch, err)) != SIM_OK ||
        (st = scn_set_key(out, SCN_SCHEDULE, c->schedule->name, err)) != SIM_OK ||
        (st = scn_set_key(out, SCN_SP, sp ? "true" : "false", err)) != SIM_OK ||
        (st = apply_knobs(out, c, fw, err)) != SIM_OK ||
        (st = apply_dispatcher(out, c, err)) != SIM_OK)
        return st;
    if (c->first_layers > 0) {
        if ((st = set_int(out, SCN_FIRST_STAGE_LAYERS, c->first_layers, err)) != SIM_OK ||
            (st = set_int(out, SCN_LAST_STAGE_LAYERS, c->last_layers, err)) != SIM_OK)
            return st;
    } else {
        scn_unset(out, SCN_FIRST_STAGE_LAYERS);
        scn_unset(out, SCN_LAST_STAGE_LAYERS);
    }
    if (scn_given(out, SCN_PIPELINE_LAYOUT)) /* the planner lays the stages out itself */
        scn_unset(out, SCN_PIPELINE_LAYOUT);
    if (c->dsa_freq > 1 && (st = apply_dsa_groups(out, c, err)) != SIM_OK)
        return st;
    scn_unset(out, SCN_VP_GROUP); /* Megatron's default group: pp */
    /* The zero-bubble family and DualPipe split the backward whatever the base says. */
    if (c->schedule->builds_w)
        memset(&out->origin[SCN_SPLIT_BACKWARD], 0, sizeof out->origin[SCN_SPLIT_BACKWARD]);
    memset(&out->origin[SCN_MICROBATCHES], 0, sizeof out->origin[SCN_MICROBATCHES]);
    return SIM_OK;
}

enum sim_status plan_config_dropped(const struct scenario *base, const struct fw_type *fw,
                                    int gpus, const struct plan_config *c,
                                    unsigned char *dropped, struct sim_error *err)
{
    memset(dropped, 0, SCN_KEY_COUNT);
    struct scenario *scn = mem_calloc(1, sizeof *scn);
    if (!scn)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory for a config's scenario");
    enum sim_status st = plan_config_apply(base, fw, gpus, c, scn, err);
    for (int k = 0; st == SIM_OK && k < SCN_KEY_COUNT; k++)
        dropped[k] = scn_given(base, (enum scn_key)k) && !scn_given(scn, (enum scn_key)k);
    mem_free(scn);
    return st;
}

/* ---- simpler ----------------------------------------------------------------------------- */

/* How unusual a schedule is to run: the Megatron orders first (1f1b, and interleaved, whose
 * extra chunks vp already counts), then GPipe, the zero-bubble ones, the DualPipe ones. */
static int schedule_rank(const struct sched_type *t)
{
    static const struct sched_type *const order[] = {&sched_1f1b,     &sched_interleaved,
                                                     &sched_gpipe,    &sched_zbh1,
                                                     &sched_zbv,      &sched_dualpipev,
                                                     &sched_dualpipe};
    for (int i = 0; i < (int)(sizeof order / sizeof order[0]); i++)
        if (order[i] == t)
            return i < 2 ? 0 : i - 1;
    return 99;
}

/* "Simpler" (README, "The planner"): compared in this order, the first difference decides --
 *  1. fewer parallel dimensions in use (tp, cp, pp and ep above 1 count one each, vp above 1
 *     another): each is a communication pattern and a code path to get right;
 *  2. a smaller tp, then a smaller vp;
 *  3. less recompute: none, then selective (fewer modules first), then full;
 *  4. less offload: none, optimizer, activations, both;
 *  5. less sharding: ZeRO 0 or 1 (plain or Megatron's distributed optimizer: no traffic inside
 *     the step), then 2, then 3, then 3 keeping parameters gathered;
 *  6. a standard schedule: 1f1b / interleaved, then gpipe, zb-h1, zb-v, dualpipe-v, dualpipe;
 *  7. an even split of the layers;
 *  8. the MoE dispatcher: alltoall, then allgather, then a flex backend (DeepEP, HybridEP). */
static void simplicity(const struct plan_config *c, int key[10])
{
    int rc_modules = 0;
    for (int b = c->recompute_modules; b; b &= b - 1)
        rc_modules++;
    key[0] = (c->tp > 1) + (c->cp > 1) + (c->pp > 1) + (c->ep > 1) + (c->vp > 1);
    key[1] = c->tp;
    key[2] = c->vp;
    key[3] = c->recompute == RECOMPUTE_NONE ? 0 : c->recompute == RECOMPUTE_SELECTIVE ? 1 : 100;
    key[4] = c->recompute == RECOMPUTE_SELECTIVE ? rc_modules : 0;
    key[5] = c->offload == 0 ? 0 : c->offload == PLAN_OFFLOAD_OPTIMIZER ? 1
                               : c->offload == PLAN_OFFLOAD_ACTIVATIONS ? 2 : 3;
    key[6] = (c->zero <= 1 ? 0 : c->zero - 1) + c->keep_gathered;
    key[7] = schedule_rank(c->schedule);
    key[8] = c->first_layers > 0;
    /* Megatron-Core's default dispatcher, then its allgather one, then a flex backend (a
     * library of its own to build and tune) */
    key[9] = c->dispatcher <= DISPATCH_ALLTOALL + 1    ? 0
             : c->dispatcher == DISPATCH_ALLGATHER + 1 ? 1
                                                       : 2;
}

int plan_simpler(const struct plan_config *a, const struct plan_config *b)
{
    int ka[10], kb[10];
    simplicity(a, ka);
    simplicity(b, kb);
    for (int i = 0; i < 10; i++)
        if (ka[i] != kb[i])
            return ka[i] < kb[i] ? -1 : 1;
    return 0;
}

size_t plan_rank(const struct plan_entry *e, const size_t *cand, size_t n, size_t k, size_t *out)
{
    char *taken = mem_calloc(n ? n : 1, 1);
    if (!taken)
        return 0;
    size_t m = 0;
    for (; m < k && m < n; m++) {
        size_t fastest = n;
        for (size_t i = 0; i < n; i++)
            if (!taken[i] &&
                (fastest == n || e[cand[i]].step < e[cand[fastest]].step ||
                 (e[cand[i]].step == e[cand[fastest]].step && cand[i] < cand[fastest])))
                fastest = i;
        double window = (double)e[cand[fastest]].step * (1.0 + PLAN_NOISE);
        size_t pick = fastest;
        for (size_t i = 0; i < n; i++) {
            if (taken[i] || (double)e[cand[i]].step > window || i == pick)
                continue;
            int s = plan_simpler(&e[cand[i]].cfg, &e[cand[pick]].cfg);
            if (s < 0 || (s == 0 && (e[cand[i]].step < e[cand[pick]].step ||
                                     (e[cand[i]].step == e[cand[pick]].step &&
                                      cand[i] < cand[pick]))))
                pick = i;
        }
        taken[pick] = 1;
        out[m] = cand[pick];
    }
    mem_free(taken);
    return m;
}

/* ---- building configs -------------------------------------------------------------------- */

struct plan_ctx {
    const struct scenario *base;
    const struct fw_type *fw; /* the plan's framework (plan_result.framework) */
    const struct model *model;
    const struct hardware *hw;
    int gpus;
    struct plan_entry *e;
    struct plan_layout *lay;
    struct col_row *rows;
    const size_t *batch;     /* entry indices of this batch (simulations) */
    struct build_req *reqs;  /* this batch's builds */
    struct par_pool *pool;   /* the plan's threads */
    enum sim_status *status; /* per job: SIM_EFAIL stops the plan */
    struct sim_error *errs;  /* per job */
    const size_t *grouped;     /* phase 2: layout indices, those of one order together */
    const size_t *group_start; /* phase 2: [ngroups + 1] offsets into grouped */
    size_t *built;             /* phase 2: [ngroups] orders group g built */
};

/* One config to build: an entry, or a config that is none (ZeRO-1 where the framework has no
 * ZeRO-1: the least sharding for the ops, used only for bounds). */
struct build_req {
    size_t entry;             /* or NO_ENTRY: `scratch` */
    struct plan_entry scratch;
};
#define NO_ENTRY ((size_t)-1)

static struct plan_entry *req_entry(struct plan_ctx *c, struct build_req *r)
{
    return r->entry == NO_ENTRY ? &r->scratch : &c->e[r->entry];
}

/* Build config `cfg`: its rules, costs and setup.  A rule it breaks is SIM_EINPUT. */
static enum sim_status build(const struct plan_ctx *c, const struct plan_config *cfg, int any_fw,
                             struct scenario *scn, struct costmodel *cm, struct pipe_setup *setup,
                             struct sim_error *err)
{
    enum sim_status st = plan_config_apply(c->base, c->fw, c->gpus, cfg, scn, err);
    if (st == SIM_OK && any_fw) /* a config used for bounds only, perhaps not the framework's */
        st = scn_set_key(scn, SCN_FRAMEWORK, "any", err);
    if (st == SIM_OK)
        st = cm_build_preloaded(cm, scn, c->model, c->hw, setup, err);
    return st;
}

/* Memory and bounds of a built config of layout `L` (the setup's optimizer and all-gather
 * times are changed). */
static void measure(struct plan_entry *e, const struct plan_layout *L, const struct costmodel *cm,
                    const struct scenario *scn, struct pipe_setup *setup)
{
    /* cm_rank_memory reads only the peaks from it: the simulated ones, from the order */
    int pp = cm->layout.pp; /* the built config's, as its setup and peaks have it */
    struct pipe_result res;
    memset(&res, 0, sizeof res);
    res.peak_inflight = L->peak;
    res.pair_peak = L->peak + pp;
    res.peak_act = mem_calloc((size_t)pp, sizeof *res.peak_act); /* NULL: the mean */
    for (int r = 0; res.peak_act && r < pp; r++)
        res.peak_act[r] = plan_bound_peak_act(setup, L->front[r], r, L->peak[r]);
    e->mem_bytes = e->mem_floor = e->host_bytes = 0;
    e->host_oom = 0; /* offload past the host's memory: as out of memory as HBM */
    for (int r = 0; r < pp; r++) {
        struct cm_rank_memory mem;
        cm_rank_memory(cm, scn, &res, r, &mem);
        e->host_oom |= mem.host_oom;
        e->host_bytes = mem.host > e->host_bytes ? mem.host : e->host_bytes;
        double floor = mem.weights + mem.grads + (L->offload_opt ? 0 : mem.optimizer) +
                       (L->offload_act ? 0 : mem.activations);
        e->mem_bytes = mem.total > e->mem_bytes ? mem.total : e->mem_bytes;
        e->mem_floor = floor > e->mem_floor ? floor : e->mem_floor;
    }
    mem_free(res.peak_act);
    e->hbm_bytes = cm_usable_hbm(cm);
    e->dp = cm->cfg.dp;
    e->microbatches = cm->cfg.microbatches;
    e->built = 1;
    e->state = e->mem_bytes > e->hbm_bytes || e->host_oom ? PLAN_OOM : PLAN_PRUNED;
    e->bound = plan_bound_step(setup);
    /* What configs differing in offload can shorten: the optimizer step, to what it takes
     * with the whole optimizer on the host (the planner's one optimizer offload) when that is
     * less; in sharding too: the parameter all-gather after it (ZeRO-3 gathers inside the
     * ops; ZeRO-0 has none). */
    for (int r = 0; r < pp && L->offload_opt; r++) {
        simtime_t offloaded = simtime_from_s(cm->rank_opt_offloaded_s[r]);
        if (offloaded < setup->rank_opt[r])
            setup->rank_opt[r] = offloaded;
    }
    e->bound_offload = plan_bound_step(setup);
    for (int r = 0; r < pp; r++)
        setup->rank_param_ag[r] = 0;
    e->bound_sharding = plan_bound_step(setup);
}

/* A job's failure that is not a rule (out of memory): it stops the plan. */
static void job_failed(struct plan_ctx *c, size_t j, enum sim_status st,
                       const struct sim_error *err)
{
    c->status[j] = st;
    c->errs[j] = *err;
}

/* The fastest config of a layout: recompute none, ZeRO-1 (ZeRO-0's ops, a smaller optimizer
 * step), no offload -- every other config's ops take at least as long. */
static struct plan_config fastest(const struct plan_config *any)
{
    struct plan_config f = *any;
    f.recompute = RECOMPUTE_NONE;
    f.recompute_modules = 0;
    f.zero = 1;
    f.keep_gathered = 0;
    f.offload = 0;
    return f;
}

/* The entry of layout `L`'s config (r, s, o). */
static size_t entry_of(const struct plan_layout *L, int r, int s, int o)
{
    return L->first + ((size_t)r * L->nshard + s) * L->noffload + o;
}

/* The schedule order a layout runs, for grouping: schedule, pp, vp and micro-batches
 * (global-batch / (micro-batch x dp)).  Layouts differing only in tp, cp, ep or the
 * micro-batch size with the same micro-batch count run the same order. */
struct order_key {
    int sched, pp, vp, microbatches;
    size_t index;
};

static int cmp_long(long a, long b)
{
    return (a > b) - (a < b);
}

/* The orders of two keys, their indices aside. */
static int order_cmp(const struct order_key *x, const struct order_key *y)
{
    int d = cmp_long(x->sched, y->sched);
    d = d ? d : cmp_long(x->pp, y->pp);
    d = d ? d : cmp_long(x->vp, y->vp);
    return d ? d : cmp_long(x->microbatches, y->microbatches);
}

static int by_order(const void *a, const void *b)
{
    const struct order_key *x = a, *y = b;
    int d = order_cmp(x, y);
    return d ? d : cmp_long((long)x->index, (long)y->index);
}

/* Layouts grouped by the order they run: grouped[] lists layout indices, group g being
 * grouped[starts[g] .. starts[g + 1]).  Only a grouping: each layout's job still checks that
 * its setup's order is the one cached (same_order).  Returns -1 when out of memory. */
static int group_orders(const struct plan_result *res, const struct plan_space *sp,
                        size_t **grouped, size_t **starts, size_t *ngroups)
{
    size_t n = res->nlayouts;
    struct order_key *keys = mem_calloc(n ? n : 1, sizeof *keys);
    *grouped = mem_calloc(n ? n : 1, sizeof **grouped);
    *starts = mem_calloc(n + 1, sizeof **starts);
    if (!keys || !*grouped || !*starts) {
        mem_free(keys);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct plan_config *c = &res->entries[res->layouts[i].first].cfg;
        /* plan_space kept only the layouts whose parallel sizes divide the GPUs */
        long dp = sp->gpus / ((long)c->tp * c->cp * c->pp);
        int sched = 0;
        while (sp->schedules[sched] && sp->schedules[sched] != c->schedule)
            sched++;
        keys[i] = (struct order_key){sched, c->pp, c->vp,
                                     (int)(sp->global_batch / (c->micro_batch * dp)), i};
    }
    qsort(keys, n, sizeof *keys, by_order);
    size_t g = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || order_cmp(&keys[i], &keys[i - 1]) != 0)
            (*starts)[g++] = i;
        (*grouped)[i] = keys[i].index;
    }
    (*starts)[g] = n;
    *ngroups = g;
    mem_free(keys);
    return 0;
}

/* Peak in-flight activations per rank of one schedule order, kept for the layouts after it:
 * they depend only on the schedule and its parameters, which layouts differing in tp, cp, ep
 * or micro-batch size (with the same micro-batch count) share -- building the order is the
 * cost (millions of ops for a huge global batch). */
struct peak_cache {
    const struct sched_type *type;
    struct sched_params sp;
    int *peak;        /* [2 sp.pp] (plan_bound_peak_inflight's); owned; NULL when none yet */
    int **front;      /* [sp.pp] each rank's frontier (plan_bound_rank_frontier), built when a
                         layout's chunks on that rank keep different bytes; owned */
};

static void free_fronts(int **front, int pp)
{
    for (int r = 0; front && r < pp; r++)
        mem_free(front[r]);
    mem_free(front);
}

static int same_order(const struct peak_cache *pc, const struct pipe_setup *s)
{
    const struct sched_params *a = &pc->sp, *b = &s->sp;
    return pc->peak && pc->type == s->schedule && a->pp == b->pp && a->vp == b->vp &&
           a->microbatches == b->microbatches && a->vp_group == b->vp_group &&
           a->split_backward == b->split_backward && a->pair_steady == b->pair_steady;
}

/* The peaks of `setup`'s order, built only when the cache holds another order's; NULL when
 * out of memory. */
static const int *cached_peaks(struct peak_cache *pc, const struct pipe_setup *setup, size_t *built)
{
    if (same_order(pc, setup))
        return pc->peak;
    ++*built;
    mem_free(pc->peak);
    free_fronts(pc->front, pc->sp.pp);
    pc->peak = mem_calloc(2 * (size_t)setup->sp.pp, sizeof *pc->peak);
    pc->front = mem_calloc((size_t)setup->sp.pp, sizeof *pc->front);
    if (pc->peak && (!pc->front || plan_bound_peak_inflight(setup, pc->peak) != 0)) {
        mem_free(pc->peak);
        pc->peak = NULL;
    }
    pc->type = setup->schedule;
    pc->sp = setup->sp;
    return pc->peak;
}

/* The frontiers of layout `L`'s ranks whose chunks keep different bytes (its fastest
 * config's), from the order's cache, built there on first use.  -1: out of memory. */
static int layout_fronts(struct peak_cache *pc, const struct pipe_setup *setup,
                         struct plan_layout *L)
{
    for (int r = 0; r < setup->sp.pp; r++) {
        if (plan_bound_chunks_even(setup, r))
            continue;
        if (!pc->front[r] && !(pc->front[r] = plan_bound_rank_frontier(setup, r)))
            return -1;
        size_t n = 1 + (size_t)pc->front[r][0] * (size_t)setup->sp.vp;
        if (!(L->front[r] = mem_calloc(n, sizeof *L->front[r])))
            return -1;
        memcpy(L->front[r], pc->front[r], n * sizeof *L->front[r]);
    }
    return 0;
}

/* Phase 2: layout i's rules, in-flight activations and bound, from its fastest config (which
 * is its config (0, zero1, 0) when the framework has ZeRO-1). */
static void check_layout(struct plan_ctx *c, size_t i, struct peak_cache *pc, size_t *built)
{
    struct plan_layout *L = &c->lay[i];
    struct build_req req;
    memset(&req, 0, sizeof req);
    req.entry = L->zero1 >= 0 ? entry_of(L, 0, L->zero1, 0) : NO_ENTRY;
    req.scratch.layout = (int)i;
    req.scratch.cfg = fastest(&c->e[L->first].cfg);
    struct plan_entry *e = req_entry(c, &req);
    struct scenario scn;
    struct costmodel cm;
    struct pipe_setup setup;
    struct sim_error err;
    err_clear(&err);
    c->status[i] = SIM_OK;
    L->valid = 0;
    enum sim_status st = build(c, &e->cfg, req.entry == NO_ENTRY, &scn, &cm, &setup, &err);
    if (st != SIM_OK) {
        if (st == SIM_EFAIL) /* out of memory, not a rule */
            job_failed(c, i, st, &err);
        else /* the rule it broke, for a plan that finds no valid layout */
            c->errs[i] = err;
        return;
    }
    const int *peak = cached_peaks(pc, &setup, built);
    L->pp = cm.layout.pp;
    L->peak = mem_calloc(2 * (size_t)L->pp, sizeof *L->peak);
    L->front = mem_calloc((size_t)L->pp, sizeof *L->front);
    if (!peak || !L->peak || !L->front || layout_fronts(pc, &setup, L) != 0) {
        c->status[i] = err_set(&c->errs[i], SIM_EFAIL, NULL, 0, "out of memory");
    } else {
        memcpy(L->peak, peak, 2 * (size_t)L->pp * sizeof *L->peak);
        measure(e, L, &cm, &scn, &setup);
        for (size_t k = 0; k < L->n; k++) {
            c->e[L->first + k].dp = e->dp;
            c->e[L->first + k].microbatches = e->microbatches;
        }
        L->bound = e->bound_sharding;
        L->valid = 1;
    }
    pipe_setup_release(&setup);
    cm_release(&cm);
}

/* Phase 2 job g: the layouts of group g (those of one schedule order, see group_orders), so
 * that the order's peaks are built once. */
static void check_group(size_t g, void *user)
{
    struct plan_ctx *c = user;
    struct peak_cache pc = {0};
    for (size_t k = c->group_start[g]; k < c->group_start[g + 1]; k++)
        check_layout(c, c->grouped[k], &pc, &c->built[g]);
    mem_free(pc.peak);
    free_fronts(pc.front, pc.sp.pp);
}

/* Phase 3: the batch's j-th build. */
static void build_job(size_t j, void *user)
{
    struct plan_ctx *c = user;
    struct build_req *r = &c->reqs[j];
    struct plan_entry *e = req_entry(c, r);
    struct scenario scn;
    struct costmodel cm;
    struct pipe_setup setup;
    struct sim_error err;
    err_clear(&err);
    c->status[j] = SIM_OK;
    enum sim_status st = build(c, &e->cfg, r->entry == NO_ENTRY, &scn, &cm, &setup, &err);
    if (st == SIM_EINPUT) { /* a knob this layout cannot take */
        e->built = -1;
        return;
    }
    if (st != SIM_OK) {
        job_failed(c, j, st, &err);
        return;
    }
    simtime_t held = e->bound; /* the search's bound on it so far: bounds only rise */
    measure(e, &c->lay[e->layout], &cm, &scn, &setup);
    if (e->bound < held)
        e->bound = held;
    pipe_setup_release(&setup);
    cm_release(&cm);
}

/* Phase 3: simulate the batch's j-th entry. */
static void sim_job(size_t j, void *user)
{
    struct plan_ctx *c = user;
    struct plan_entry *e = &c->e[c->batch[j]];
    struct scenario scn;
    struct step_output so;
    struct sim_error err;
    err_clear(&err);
    c->status[j] = SIM_OK;
    enum sim_status st = plan_config_apply(c->base, c->fw, c->gpus, &e->cfg, &scn, &err);
    if (st == SIM_OK)
        st = step_run_preloaded(&scn, c->model, c->hw, &so, &err);
    if (st != SIM_OK) {
        job_failed(c, j, st, &err);
        return;
    }
    e->state = PLAN_SIMULATED;
    e->step = so.res.step_end - so.res.first_start;
    col_row_fill(&c->rows[e->row], &so.rep);
    e->mem_bytes = c->rows[e->row].memory_B;
    step_release(&so);
}

/* ---- branch and bound -------------------------------------------------------------------- */

/* What the search holds: a set of configs sharing a layout and the knobs fixed so far, with a
 * lower bound on all their steps.  Level 0: a layout (nothing fixed); 1: its recompute fixed;
 * 2: its sharding too; 3: one config, built and fitting, to simulate. */
struct item {
    simtime_t key;
    int level, layout, r, s, o;
};

/* (key, level, layout, r, s, o) order: deterministic. */
static int item_less(const struct item *a, const struct item *b)
{
    if (a->key != b->key)
        return a->key < b->key;
    const int x[] = {a->level, a->layout, a->r, a->s, a->o};
    const int y[] = {b->level, b->layout, b->r, b->s, b->o};
    for (int i = 0; i < 5; i++)
        if (x[i] != y[i])
            return x[i] < y[i];
    return 0;
}

/* A binary heap of items. */
struct heap {
    struct item *v;
    size_t n, cap;
};

static int heap_push(struct heap *h, struct item it)
{
    struct item *v = mem_grow(h->v, h->n, &h->cap, sizeof *v);
    if (!v)
        return -1;
    h->v = v;
    size_t k = h->n++;
    while (k > 0 && item_less(&it, &h->v[(k - 1) / 2])) {
        h->v[k] = h->v[(k - 1) / 2];
        k = (k - 1) / 2;
    }
    h->v[k] = it;
    return 0;
}

static struct item heap_pop(struct heap *h)
{
    struct item top = h->v[0], last = h->v[--h->n];
    size_t k = 0;
    for (;;) {
        size_t c = 2 * k + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && item_less(&h->v[c + 1], &h->v[c]))
            c++;
        if (!item_less(&h->v[c], &last))
            break;
        h->v[k] = h->v[c];
        k = c;
    }
    if (h->n)
        h->v[k] = last;
    return top;
}

/* Layout l's value fell to `v` (values only fall): the K layouts with the smallest values
 * (then the lower index), smallest first, kept up to date. */
static void smallest_update(double *value, size_t *fast, size_t *nfast, size_t k, int l, double v)
{
    if (v >= value[l])
        return;
    value[l] = v;
    for (size_t i = 0; i < *nfast; i++)
        if (fast[i] == (size_t)l) {
            memmove(&fast[i], &fast[i + 1], (*nfast - i - 1) * sizeof *fast);
            (*nfast)--;
            break;
        }
    size_t pos = *nfast;
    while (pos > 0 &&
           (v < value[fast[pos - 1]] || (v == value[fast[pos - 1]] && (size_t)l < fast[pos - 1])))
        pos--;
    if (pos >= k)
        return;
    size_t last = *nfast < k ? *nfast : k - 1;
    memmove(&fast[pos + 1], &fast[pos], (last - pos) * sizeof *fast);
    fast[pos] = (size_t)l;
    if (*nfast < k)
        (*nfast)++;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static enum sim_status first_failure(const enum sim_status *st, const struct sim_error *errs,
                                     size_t n, struct sim_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (st[i] != SIM_OK) {
            *err = errs[i];
            err->status = SIM_EFAIL;
            return SIM_EFAIL;
        }
    return SIM_OK;
}

/* Jobs' status and error records, for batches of up to `n`. */
static enum sim_status ctx_jobs(struct plan_ctx *c, size_t n, struct sim_error *err)
{
    mem_free(c->status);
    mem_free(c->errs);
    c->status = mem_calloc(n ? n : 1, sizeof *c->status);
    c->errs = mem_calloc(n ? n : 1, sizeof *c->errs);
    if (!c->status || !c->errs)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory for %zu jobs", n);
    return SIM_OK;
}

/* Items taken for expansion between pruning decisions (independent of -j, so the work and
 * the result are too). */
#define EXPAND_BATCH 32

/* A sharding option of a layout's recompute option whose configs cannot fit even with all
 * offload (its memory floor is above the usable HBM). */
struct floored {
    double floor;
    int layout, r, s;
};

/* An item put aside: not needed to decide its layout's listed config for now (take). */
struct parked {
    struct item it;
    size_t next; /* the layout's next parked item, or NO_ENTRY */
};

/* The search's state between batches. */
struct search {
    struct plan_ctx *c;
    const struct plan_opts *o;
    struct plan_result *res;
    simtime_t *fastest;  /* [layouts] the best simulated step of each; SIMTIME_MAX: none */
    double *listed_max;  /* [layouts] an upper bound on the step of each one's listed config
                            (INFINITY: none yet; see update_layout) */
    size_t *fast, nfast; /* the K layouts with the smallest listed_max, smallest first */
    struct heap items;
    struct parked *parked;                  /* the pool of parked items; owned */
    size_t nparked, capparked, free_parked; /* free_parked: a free list through `next` */
    size_t *park_head;                      /* [layouts] each one's parked items, or NO_ENTRY */
    int touched[EXPAND_BATCH];              /* layouts whose configs the batch changed */
    size_t ntouched;
    size_t batch[PLAN_BATCH];
    struct build_req reqs[EXPAND_BATCH * MAX_CHILDREN];
    struct item kids[EXPAND_BATCH * MAX_CHILDREN]; /* the children of the items expanded */
    int kid_req[EXPAND_BATCH * MAX_CHILDREN];      /* the build giving each child's bound */
    struct floored *floored; /* [nfloored], for the nearest configs when nothing fits */
    size_t nfloored, capfloored;
};

/* Is x within the noise of `base` (1% over it at most)?  The one test of the list's windows. */
static int within(simtime_t x, simtime_t base)
{
    return (double)x <= (double)base * (1.0 + PLAN_NOISE);
}

/* The candidates' cut: no layout whose listed config is slower than this can be listed
 * (make_list says why); INFINITY before K layouts have a listed_max. */
static double candidate_cut(const struct search *s)
{
    if (s->o->exhaustive || s->nfast < (size_t)s->o->top)
        return INFINITY;
    return s->listed_max[s->fast[s->nfast - 1]] * (1.0 + PLAN_NOISE);
}

/* How far the search reaches: a config slower than this is within 1% of no candidate's
 * fastest config, so it can change no listed config. */
static double reach(const struct search *s)
{
    return candidate_cut(s) * (1.0 + PLAN_NOISE);
}

/* Does item `it` hold config `entry` (an entry of its layout)? */
static int item_holds(const struct search *s, const struct item *it, size_t entry)
{
    const struct plan_layout *L = &s->c->lay[it->layout];
    if (entry < L->first || entry >= L->first + L->n)
        return 0;
    size_t k = entry - L->first, no = (size_t)L->noffload, ns = (size_t)L->nshard;
    return (it->level < 1 || (int)(k / no / ns) == it->r) &&
           (it->level < 2 || (int)(k / no % ns) == it->s) &&
           (it->level < 3 || (int)(k % no) == it->o);
}

/* Mark the configs of item `it`: unbuilt ones broke a rule (`invalid`) or cannot fit (memory
 * floor above the usable HBM). */
static void mark(struct search *s, const struct item *it, int invalid)
{
    const struct plan_layout *L = &s->c->lay[it->layout];
    for (size_t i = L->first; i < L->first + L->n; i++) {
        struct plan_entry *e = &s->c->e[i];
        if (e->built || !item_holds(s, it, i))
            continue;
        if (invalid)
            e->built = -1;
        else
            e->state = PLAN_OOM;
    }
}

/* Neither simulated nor known to break a rule or not to fit: its bound is all that is known. */
static int unresolved(const struct plan_entry *e)
{
    return e->built >= 0 && e->state == PLAN_PRUNED;
}

/* Item `it` is queued: its key bounds each of its configs from below.  A config keeps the
 * largest bound it was given, so what the search knows of a layout (layout_verdict) only
 * firms up. */
static void raise_bounds(struct search *s, const struct item *it)
{
    const struct plan_layout *L = &s->c->lay[it->layout];
    for (size_t i = L->first; i < L->first + L->n; i++)
        if (unresolved(&s->c->e[i]) && s->c->e[i].bound < it->key && item_holds(s, it, i))
            s->c->e[i].bound = it->key;
}

/* What the search knows of a layout's listed config (make_list: its simplest config within 1%
 * of its fastest). */
enum lay_state {
    LAY_OUT,     /* it cannot be listed (nor change the list) */
    LAY_SETTLED, /* `pick` is its listed config */
    LAY_OPEN,    /* undecided: `need` must be resolved, or configs bounded below `doubt` */
};

struct verdict {
    enum lay_state state;
    size_t pick;     /* LAY_SETTLED */
    size_t need;     /* LAY_OPEN: a config not simulated that may be listed, or NO_ENTRY */
    simtime_t doubt; /* LAY_OPEN: the step of a simulated config that may be listed but may
                        not be within 1% of the fastest (0: none) -- resolving the configs
                        whose bound is more than 1% under it decides */
};

/* What layout_verdict sees in one group of equally simple configs.  "Under the cut": a step
 * (or, not simulated, a bound) at most the candidates' cut -- only such a config can be the
 * listed config of a layout that may be listed. */
struct group_view {
    int low;              /* some config under the cut may be within 1% of the fastest */
    size_t pick;          /* the fastest config under the cut surely within 1%, or NO_ENTRY */
    size_t need;          /* a config under the cut, not simulated, that may beat it */
    simtime_t doubt;      /* the largest step under the cut that may be within 1% and beat it */
    int high_in;          /* a config over the cut is surely within 1% */
    size_t high_need;     /* a config over the cut, not simulated, that may be within 1% */
    simtime_t high_doubt; /* the largest step over the cut that may be within 1% */
};

/* Layout l's group (r, sh, o), sh in [from, to), with `lb` a lower bound on every step of the
 * layout.  A config is surely within 1% of the layout's fastest when its step is within 1% of
 * lb, surely not when its step (or bound) is more than 1% over the fastest simulated step. */
static struct group_view view_group(const struct search *s, int l, int r, int o, int from, int to,
                                    simtime_t lb)
{
    const struct plan_layout *L = &s->c->lay[l];
    const struct plan_entry *e = s->c->e;
    simtime_t fastest = s->fastest[l];
    double cut = candidate_cut(s), far = reach(s);
    struct group_view g = {0, NO_ENTRY, NO_ENTRY, 0, 0, NO_ENTRY, 0};
    for (int sh = from; sh < to; sh++) {
        size_t i = entry_of(L, r, sh, o);
        if (e[i].state == PLAN_SIMULATED && (double)e[i].step <= cut && within(e[i].step, lb) &&
            (g.pick == NO_ENTRY || e[i].step < e[g.pick].step))
            g.pick = i;
    }
    for (int sh = from; sh < to; sh++) {
        size_t i = entry_of(L, r, sh, o);
        int simulated = e[i].state == PLAN_SIMULATED;
        simtime_t low = simulated ? e[i].step : e[i].bound;
        if (e[i].built < 0 || e[i].state == PLAN_OOM ||
            (fastest != SIMTIME_MAX && !within(low, fastest)) || (double)low > far)
            continue; /* not to be listed, or surely not within 1% */
        if ((double)low > cut) {
            g.high_in |= simulated && within(low, lb);
            if (!simulated && g.high_need == NO_ENTRY)
                g.high_need = i;
            if (simulated && !within(low, lb) && low > g.high_doubt)
                g.high_doubt = low;
            continue;
        }
        g.low = 1;
        if (i == g.pick ||
            (g.pick != NO_ENTRY && (low > e[g.pick].step || (low == e[g.pick].step && i > g.pick))))
            continue; /* it, or it cannot beat it */
        if (!simulated && g.need == NO_ENTRY)
            g.need = i;
        if (simulated && low > g.doubt)
            g.doubt = low;
    }
    return g;
}

/* The verdict on layout `l`, from its simulated steps and the bounds of the rest.  Its configs
 * are walked from the simplest (recompute, then offload, then sharding options, each from the
 * simplest: the simplicity order, with equally simple ZeRO-0 and ZeRO-1 as one group); the
 * first group with a config under the cut that may be within 1% of the fastest holds the
 * listed config, if the layout can be listed at all.  A simpler group with only configs over
 * the cut puts the layout out when one of them is surely within 1% (its listed config would
 * be over the cut); while that is unknown, it must be decided once the rest is.  A verdict
 * other than LAY_OPEN never changes back: bounds only rise, simulated steps only add, the cut
 * only falls. */
static struct verdict layout_verdict(const struct search *s, int l)
{
    const struct plan_layout *L = &s->c->lay[l];
    const struct plan_entry *e = s->c->e;
    struct verdict v = {LAY_OUT, NO_ENTRY, NO_ENTRY, 0};
    simtime_t lb = s->fastest[l];
    for (size_t i = L->first; i < L->first + L->n; i++)
        if (unresolved(&e[i]) && e[i].bound < lb)
            lb = e[i].bound;
    if ((double)lb > candidate_cut(s)) /* every step of it is over the cut */
        return v;
    struct verdict later = {LAY_OPEN, NO_ENTRY, NO_ENTRY, 0}; /* the simpler groups over the cut */
    for (int r = 0; r < L->nrecompute; r++)
        for (int o = 0; o < L->noffload; o++)
            for (int sh = 0, to; sh < L->nshard; sh = to) {
                for (to = sh + 1;
                     to < L->nshard && plan_simpler(&e[entry_of(L, r, sh, o)].cfg,
                                                    &e[entry_of(L, r, to, o)].cfg) == 0;)
                    to++;
                struct group_view g = view_group(s, l, r, o, sh, to, lb);
                if (g.low) {
                    /* A simpler config over the cut whose bound is within 1% of lb will most
                     * likely be within 1% of the fastest and put the layout out: it first. */
                    if ((g.need != NO_ENTRY || g.doubt) && later.need != NO_ENTRY &&
                        within(e[later.need].bound, lb))
                        return later;
                    if (g.need != NO_ENTRY || g.doubt)
                        return (struct verdict){LAY_OPEN, NO_ENTRY, g.need, g.doubt};
                    if (later.need != NO_ENTRY || later.doubt)
                        return later;
                    return (struct verdict){LAY_SETTLED, g.pick, NO_ENTRY, 0};
                }
                if (g.high_in)
                    return v;
                if (later.need == NO_ENTRY)
                    later.need = g.high_need;
                if (g.high_doubt > later.doubt)
                    later.doubt = g.high_doubt;
            }
    return v;
}

/* Would resolving item `it` help decide its open layout? */
static int needed(const struct search *s, const struct verdict *v, const struct item *it)
{
    return v->state == LAY_OPEN && ((v->need != NO_ENTRY && item_holds(s, it, v->need)) ||
                                    (double)it->key * (1.0 + PLAN_NOISE) < (double)v->doubt);
}

static int park(struct search *s, const struct item *it)
{
    size_t k = s->free_parked;
    if (k != NO_ENTRY) {
        s->free_parked = s->parked[k].next;
    } else {
        struct parked *v = mem_grow(s->parked, s->nparked, &s->capparked, sizeof *v);
        if (!v)
            return -1;
        s->parked = v;
        k = s->nparked++;
    }
    s->parked[k].it = *it;
    s->parked[k].next = s->park_head[it->layout];
    s->park_head[it->layout] = k;
    return 0;
}

/* Item `it`, just popped: 1 to expand or simulate it now; 0 when its layout is decided (the
 * item is dropped: its configs stay pruned, bounded by its key) or when it cannot help decide
 * it now (it is parked until the layout changes); -1 when out of memory.  Exhaustive: 1. */
static int take(struct search *s, const struct item *it)
{
    if (s->o->exhaustive)
        return 1;
    struct verdict v = layout_verdict(s, it->layout);
    if (v.state != LAY_OPEN)
        return 0;
    if (needed(s, &v, it))
        return 1;
    return park(s, it) == 0 ? 0 : -1;
}

static void touch(struct search *s, int l)
{
    for (size_t i = 0; i < s->ntouched; i++)
        if (s->touched[i] == l)
            return;
    assert(s->ntouched < sizeof s->touched / sizeof s->touched[0]);
    s->touched[s->ntouched++] = l;
}

/* Layout `l` changed (configs built, simulated): its listed_max, and its parked items that are
 * needed now back into the queue (counted in *pushed) -- all of them dropped once it is
 * decided.  listed_max is the listed config's step once settled, else 1% over the fastest
 * simulated step (the listed config is within 1% of the fastest); it only falls. */
static int update_layout(struct search *s, int l, size_t *pushed)
{
    struct verdict v = layout_verdict(s, l);
    double max = v.state == LAY_SETTLED         ? (double)s->c->e[v.pick].step
                 : s->fastest[l] != SIMTIME_MAX ? (double)s->fastest[l] * (1.0 + PLAN_NOISE)
                                                : INFINITY;
    smallest_update(s->listed_max, s->fast, &s->nfast, (size_t)s->o->top, l, max);
    size_t *link = &s->park_head[l];
    while (*link != NO_ENTRY) {
        size_t k = *link;
        struct item it = s->parked[k].it;
        if (v.state == LAY_OPEN && !needed(s, &v, &it)) {
            link = &s->parked[k].next;
            continue;
        }
        *link = s->parked[k].next;
        s->parked[k].next = s->free_parked;
        s->free_parked = k;
        if (v.state == LAY_OPEN) {
            if (heap_push(&s->items, it) != 0)
                return -1;
            ++*pushed;
        }
    }
    return 0;
}

/* The layouts the batch changed, updated. */
static enum sim_status update_touched(struct search *s, struct sim_error *err)
{
    size_t pushed = 0;
    for (size_t i = 0; i < s->ntouched; i++)
        if (update_layout(s, s->touched[i], &pushed) != 0)
            return err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
    s->ntouched = 0;
    return SIM_OK;
}

/* A child's build, requested once per batch (an entry already built needs none). */
static int request(struct search *s, size_t *nreq, size_t entry, const struct plan_config *cfg,
                   int layout)
{
    if (entry != NO_ENTRY && s->c->e[entry].built)
        return -1;
    for (size_t q = 0; q < *nreq; q++)
        if (entry != NO_ENTRY && s->reqs[q].entry == entry)
            return (int)q;
    struct build_req *r = &s->reqs[(*nreq)++];
    memset(r, 0, sizeof *r);
    r->entry = entry;
    if (entry == NO_ENTRY) {
        r->scratch.cfg = *cfg;
        r->scratch.layout = layout;
    }
    return (int)(*nreq - 1);
}

/* The children of item `it` (pushed into s->kids, their builds requested). */
static void children(struct search *s, const struct item *it, size_t *nkids, size_t *nreq)
{
    const struct plan_layout *L = &s->c->lay[it->layout];
    int n = it->level == 0 ? L->nrecompute : it->level == 1 ? L->nshard : L->noffload;
    for (int v = 0; v < n; v++) {
        struct item k = *it;
        k.level = it->level + 1;
        if (it->level == 0)
            k.r = v;
        else if (it->level == 1)
            k.s = v;
        else
            k.o = v;
        /* The child's representative: its knobs fixed, the others at their fastest. */
        size_t entry;
        struct plan_config cfg;
        if (k.level == 1 && L->zero1 < 0) {
            entry = NO_ENTRY;
            cfg = fastest(&s->c->e[entry_of(L, k.r, 0, 0)].cfg);
            cfg.recompute = s->c->e[entry_of(L, k.r, 0, 0)].cfg.recompute;
            cfg.recompute_modules = s->c->e[entry_of(L, k.r, 0, 0)].cfg.recompute_modules;
        } else {
            entry = entry_of(L, k.r, k.level == 1 ? L->zero1 : k.s, k.level == 3 ? k.o : 0);
            cfg = s->c->e[entry].cfg;
        }
        s->kid_req[*nkids] = request(s, nreq, entry, &cfg, it->layout);
        if (s->kid_req[*nkids] < 0) /* built already: its entry */
            s->kid_req[*nkids] = -2 - (int)(entry - L->first);
        s->kids[(*nkids)++] = k;
    }
}

/* A child's representative, built. */
static const struct plan_entry *kid_rep(struct search *s, size_t k)
{
    int q = s->kid_req[k];
    if (q >= 0)
        return req_entry(s->c, &s->reqs[q]);
    return &s->c->e[s->c->lay[s->kids[k].layout].first + (size_t)(-2 - q)];
}

/* Builds the batch's requests (s->reqs[0, nreq)) on the pool and counts them. */
static enum sim_status build_requested(struct search *s, size_t nreq, struct sim_error *err)
{
    s->c->reqs = s->reqs;
    par_pool_run(s->c->pool, nreq, build_job, s->c);
    enum sim_status st = first_failure(s->c->status, s->c->errs, nreq, err);
    if (st == SIM_OK)
        s->res->built += nreq;
    return st;
}

/* Expand up to EXPAND_BATCH items (the heap's smallest, none above `limit`, those take()
 * accepts): build their children's representatives, then queue the children worth keeping. */
static enum sim_status expand(struct search *s, double limit, struct sim_error *err)
{
    size_t nitems = 0, nkids = 0, nreq = 0;
    while (nitems < EXPAND_BATCH && s->items.n && s->items.v[0].level < 3 &&
           (double)s->items.v[0].key <= limit) {
        struct item it = heap_pop(&s->items);
        int t = take(s, &it);
        if (t < 0)
            return err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
        if (t == 0)
            continue;
        children(s, &it, &nkids, &nreq);
        touch(s, it.layout);
        nitems++;
    }
    enum sim_status st = build_requested(s, nreq, err);
    if (st != SIM_OK)
        return st;
    for (size_t k = 0; k < nkids; k++) {
        struct item it = s->kids[k];
        const struct plan_entry *rep = kid_rep(s, k);
        if (rep->built < 0) { /* the representative broke a rule: so do its configs */
            mark(s, &it, 1);
            continue;
        }
        if (it.level == 2 && rep->mem_floor > rep->hbm_bytes) {
            mark(s, &it, 0); /* no offload makes these fit */
            struct floored *v = mem_grow(s->floored, s->nfloored, &s->capfloored, sizeof *v);
            if (!v)
                return err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
            s->floored = v;
            s->floored[s->nfloored++] = (struct floored){rep->mem_floor, it.layout, it.r, it.s};
            continue;
        }
        if (it.level == 3 && rep->state == PLAN_OOM)
            continue;
        /* The child's bound, and no less than its parent's (kept in it.key). */
        simtime_t key = it.level == 1   ? rep->bound_sharding
                        : it.level == 2 ? rep->bound_offload
                                        : rep->bound;
        it.key = key > it.key ? key : it.key;
        raise_bounds(s, &it);
        if (heap_push(&s->items, it) != 0)
            return err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
    }
    return update_touched(s, err);
}

/* Simulate the waiting configs with the smallest bounds that take() accepts, up to PLAN_BATCH
 * of them and none above `limit`. */
static enum sim_status simulate(struct search *s, double limit, struct sim_error *err)
{
    struct plan_result *res = s->res;
    size_t nb = 0;
    while (nb < PLAN_BATCH && s->items.n && s->items.v[0].level == 3 &&
           (double)s->items.v[0].key <= limit) {
        struct item it = heap_pop(&s->items);
        int t = take(s, &it);
        if (t < 0)
            return err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
        if (t > 0)
            s->batch[nb++] = entry_of(&s->c->lay[it.layout], it.r, it.s, it.o);
    }
    struct col_row *rows = mem_realloc(res->rows, res->nrows + nb, sizeof *rows);
    if (!rows)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
    res->rows = s->c->rows = rows;
    for (size_t j = 0; j < nb; j++)
        s->c->e[s->batch[j]].row = (int)(res->nrows + j);
    res->nrows += nb;
    s->c->batch = s->batch;
    par_pool_run(s->c->pool, nb, sim_job, s->c);
    enum sim_status st = first_failure(s->c->status, s->c->errs, nb, err);
    if (st != SIM_OK)
        return st;
    for (size_t j = 0; j < nb; j++) {
        const struct plan_entry *e = &s->c->e[s->batch[j]];
        res->simulated++;
        if (e->step < s->fastest[e->layout])
            s->fastest[e->layout] = e->step;
        touch(s, e->layout);
    }
    return update_touched(s, err);
}

static int by_floor(const void *a, const void *b)
{
    const struct floored *x = a, *y = b;
    if (x->floor != y->floor)
        return x->floor < y->floor ? -1 : 1;
    return x->layout != y->layout ? (x->layout < y->layout ? -1 : 1)
           : x->r != y->r         ? (x->r < y->r ? -1 : 1)
                                  : (x->s > y->s) - (x->s < y->s);
}

/* How far a built config is from fitting: its bytes over the usable HBM plus its bytes over
 * the host's memory (host_cap, 0 = unbounded), per GPU. */
static double shortfall(const struct plan_entry *e, double host_cap)
{
    double hbm = e->mem_bytes - e->hbm_bytes, host = e->host_bytes - host_cap;
    return (hbm > 0 ? hbm : 0) + (host_cap > 0 && host > 0 ? host : 0);
}

/* Nearer to fitting: a smaller shortfall, then less HBM, then simpler, then earlier. */
static int nearer(const struct plan_entry *e, double host_cap, size_t a, size_t b)
{
    double sa = shortfall(&e[a], host_cap), sb = shortfall(&e[b], host_cap);
    if (sa != sb)
        return sa < sb;
    if (e[a].mem_bytes != e[b].mem_bytes)
        return e[a].mem_bytes < e[b].mem_bytes;
    int d = plan_simpler(&e[a].cfg, &e[b].cfg);
    return d != 0 ? d < 0 : a < b;
}

/* The same parallel layout but perhaps for the dispatcher (which moves HBM by DeepEP's buffer
 * alone): the nearest list shows one of them, not the same layout once per dispatcher. */
static int same_but_dispatcher(const struct plan_config *a, const struct plan_config *b)
{
    return a->tp == b->tp && a->pp == b->pp && a->vp == b->vp && a->cp == b->cp &&
           a->ep == b->ep && a->etp == b->etp && a->micro_batch == b->micro_batch &&
           a->schedule == b->schedule && a->first_layers == b->first_layers &&
           a->last_layers == b->last_layers && a->dsa_freq == b->dsa_freq;
}

/* Sift v[i] down the heap v[0, n) whose root is the nearest to fitting. */
static void sift_nearer(const struct plan_entry *e, double host_cap, size_t *v, size_t n,
                        size_t i)
{
    size_t x = v[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && nearer(e, host_cap, v[c + 1], v[c]))
            c++;
        if (!nearer(e, host_cap, v[c], x))
            break;
        v[i] = v[c];
        i = c;
    }
    v[i] = x;
}

/* Entry i, if built, as its layout's nearest to fitting so far (best: [layouts], NO_ENTRY
 * where none is built). */
static void note_nearer(const struct search *s, size_t *best, size_t i)
{
    const struct plan_entry *e = s->c->e;
    size_t *b = &best[e[i].layout];
    if (e[i].built == 1 && (*b == NO_ENTRY || nearer(e, s->res->host_mem_bytes, i, *b)))
        *b = i;
}

/* Into res->nearest: the K built configs nearest to fitting, one per layout (best: each
 * layout's, from note_nearer; heap: room for the layouts).  The layouts' are taken in order
 * of `nearer` from a heap, skipping one that differs from a listed one only in its
 * dispatcher: the list the order of every built config would give, without sorting them --
 * `nearer` is a total order, and a layout's configs all share its tp ... dsa_freq, so the
 * first of a layout in the whole order is its best, and same_but_dispatcher holds between
 * two configs exactly when it holds between their layouts' bests. */
static void nearest_list(struct search *s, const size_t *best, size_t *heap)
{
    const struct plan_entry *e = s->c->e;
    struct plan_result *res = s->res;
    double host = res->host_mem_bytes;
    size_t nb = 0, k = (size_t)s->o->top;
    for (size_t l = 0; l < res->nlayouts; l++)
        if (best[l] != NO_ENTRY)
            heap[nb++] = best[l];
    for (size_t i = nb / 2; i-- > 0;)
        sift_nearer(e, host, heap, nb, i);
    res->nnearest = 0;
    while (nb > 0 && res->nnearest < k) {
        size_t x = heap[0];
        heap[0] = heap[--nb];
        sift_nearer(e, host, heap, nb, 0);
        int dup = 0;
        for (size_t j = 0; j < res->nnearest; j++)
            dup |= same_but_dispatcher(&e[res->nearest[j]].cfg, &e[x].cfg);
        if (!dup)
            res->nearest[res->nnearest++] = x;
    }
}

/* Builds the offload options of the floored sharding options from *next on, as many as one
 * batch holds, advancing *next past them, and notes each built one in `best`. */
static enum sim_status build_floored(struct search *s, size_t *next, size_t *best,
                                     struct sim_error *err)
{
    size_t from = *next, nreq = 0, cap = EXPAND_BATCH * MAX_CHILDREN;
    for (; *next < s->nfloored &&
           nreq + (size_t)s->c->lay[s->floored[*next].layout].noffload <= cap;
         (*next)++) {
        const struct floored *f = &s->floored[*next];
        const struct plan_layout *L = &s->c->lay[f->layout];
        for (int o = 0; o < L->noffload; o++)
            (void)request(s, &nreq, entry_of(L, f->r, f->s, o), NULL, f->layout);
    }
    enum sim_status st = build_requested(s, nreq, err);
    if (st != SIM_OK)
        return st;
    for (size_t t = from; t < *next; t++) {
        const struct floored *f = &s->floored[t];
        const struct plan_layout *L = &s->c->lay[f->layout];
        for (int o = 0; o < L->noffload; o++)
            note_nearer(s, best, entry_of(L, f->r, f->s, o));
    }
    return SIM_OK;
}

/* Nothing fits: the K configs nearest to fitting (nearer: HBM and host memory short).  Every
 * built config's memory is known; a sharding option cut off by its memory floor needs at
 * least the floor in HBM whatever it offloads, so it is short by at least the floor less the
 * usable HBM before NCCL's buffers (no layout's is more) -- its offload options are built (the
 * one offloading most may break a rule, or run out of host memory) in order of their floors
 * until the K-th shortfall is below the next one's least.  cand: room for the layouts twice. */
static enum sim_status nearest(struct search *s, size_t *cand, struct sim_error *err)
{
    struct plan_result *res = s->res;
    size_t k = (size_t)s->o->top, *best = cand, *heap = cand + res->nlayouts;
    qsort(s->floored, s->nfloored, sizeof *s->floored, by_floor);
    for (size_t l = 0; l < res->nlayouts; l++)
        best[l] = NO_ENTRY;
    for (size_t i = 0; i < res->n; i++)
        note_nearer(s, best, i);
    nearest_list(s, best, heap);
    size_t next = 0;
    while (next < s->nfloored) {
        if (res->nnearest == k &&
            shortfall(&s->c->e[res->nearest[k - 1]], res->host_mem_bytes) <=
                s->floored[next].floor - res->hbm_usable_bytes)
            break;
        enum sim_status st = build_floored(s, &next, best, err);
        if (st != SIM_OK)
            return st;
        nearest_list(s, best, heap);
    }
    return SIM_OK;
}

/* The list.  Each layout is represented by its simplest config among those within 1% of its
 * fastest (a knob that buys no more than noise is not worth running), and the
 * representatives are ranked by plan_rank.  The search simulated enough for this to equal the
 * exhaustive list.  With R the K-th smallest step of the representatives, plan_rank's first K
 * picks are within 1% of a representative at most R, so a layout whose representative is
 * more than 1% over R is never listed, and its representative need not be known: the cut,
 * 1% over an upper bound on R (the K-th smallest listed_max), leaves out every layout whose
 * bound is above it.  A layout under the cut needs its representative exactly, and only
 * configs within 1% of its fastest -- under 1% over the cut, the reach -- can be it; of those,
 * only the ones as simple as the simplest surely within 1% (layout_verdict).  A config above
 * the reach that would be within 1% of its layout's fastest puts that layout over the cut, so
 * no layout is listed wrongly for leaving it out.  When nothing fits: the configs needing
 * nearest to fitting (every layout was expanded: nothing bounded the search). */
static enum sim_status make_list(struct search *s, struct sim_error *err)
{
    struct plan_result *res = s->res;
    size_t k = (size_t)s->o->top, nc = 0;
    size_t room = res->n > 2 * res->nlayouts ? res->n : 2 * res->nlayouts;
    size_t *cand = mem_calloc(room ? room : 1, sizeof *cand);
    res->top = mem_calloc(k, sizeof *res->top);
    res->nearest = mem_calloc(k, sizeof *res->nearest);
    if (!cand || !res->top || !res->nearest) {
        mem_free(cand);
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory for %zu configs", res->n);
    }
    for (size_t l = 0; l < res->nlayouts; l++) {
        struct verdict v = layout_verdict(s, (int)l);
        assert(v.state != LAY_OPEN); /* the search ends with every needed item resolved */
        if (v.state == LAY_SETTLED)
            cand[nc++] = v.pick;
    }
    res->ntop = plan_rank(s->c->e, cand, nc, k, res->top);
    enum sim_status st = res->ntop == 0 ? nearest(s, cand, err) : SIM_OK;
    mem_free(cand);
    return st;
}

/* Best-first over the items in order of their keys, each taken only while it may decide a
 * layout's listed config (take), until every item left is above the reach; then the parked
 * items are looked at again (the cut may have moved what a layout needs) -- the search ends
 * when none of them is needed and the cut stays where it is. */
static enum sim_status run_items(struct search *s, struct sim_error *err)
{
    enum sim_status st = SIM_OK;
    while (st == SIM_OK) {
        double limit = reach(s);
        if (s->items.n && (double)s->items.v[0].key <= limit) {
            st = s->items.v[0].level < 3 ? expand(s, limit, err) : simulate(s, limit, err);
            continue;
        }
        size_t pushed = 0;
        double cut = candidate_cut(s);
        for (size_t l = 0; l < s->res->nlayouts; l++)
            if (s->park_head[l] != NO_ENTRY && update_layout(s, (int)l, &pushed) != 0)
                return err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
        if (pushed == 0 && candidate_cut(s) == cut)
            break;
    }
    return st;
}

static enum sim_status search(struct plan_ctx *c, const struct plan_opts *o,
                              struct plan_result *res, struct sim_error *err)
{
    struct search *s = mem_calloc(1, sizeof *s);
    size_t nl = res->nlayouts ? res->nlayouts : 1;
    size_t *fast = mem_calloc((size_t)o->top, sizeof *fast);
    simtime_t *fastest = mem_calloc(nl, sizeof *fastest);
    double *listed_max = mem_calloc(nl, sizeof *listed_max);
    size_t *park_head = mem_calloc(nl, sizeof *park_head);
    enum sim_status st = SIM_OK;
    if (!s || !fast || !fastest || !listed_max || !park_head ||
        ctx_jobs(c, EXPAND_BATCH * MAX_CHILDREN, err) != SIM_OK) {
        st = err_set(err, SIM_EFAIL, NULL, 0, "out of memory for %zu configs", res->n);
        goto done;
    }
    s->c = c;
    s->o = o;
    s->res = res;
    s->fast = fast;
    s->fastest = fastest;
    s->listed_max = listed_max;
    s->park_head = park_head;
    s->free_parked = NO_ENTRY;
    for (size_t l = 0; l < res->nlayouts && st == SIM_OK; l++) {
        fastest[l] = SIMTIME_MAX;
        listed_max[l] = INFINITY;
        park_head[l] = NO_ENTRY;
        struct item it = {res->layouts[l].bound, 0, (int)l, 0, 0, 0};
        raise_bounds(s, &it);
        if (heap_push(&s->items, it) != 0)
            st = err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
    }
    if (st == SIM_OK)
        st = run_items(s, err);
    if (st == SIM_OK)
        st = make_list(s, err);
done:
    if (s) {
        mem_free(s->items.v);
        mem_free(s->floored);
        mem_free(s->parked);
    }
    mem_free(s);
    mem_free(fast);
    mem_free(fastest);
    mem_free(listed_max);
    mem_free(park_head);
    return st;
}

/* ---- the plan ---------------------------------------------------------------------------- */

/* Keys the planner chooses for each config, which a --set could only be dropped for: the
 * option that says it instead, or none (the search itself).  The parallel layout's keys given
 * by --set (tp, pp, vp, cp, ep, etp, micro-batch) are not among them: they fix that dimension
 * of the search (plan_space_of). */
static const struct {
    enum scn_key key;
    const char *instead;
} chosen_keys[] = {
    {SCN_GPUS, "--gpus N"},
    {SCN_SCHEDULE, "--schedules LIST"},
    {SCN_MICROBATCHES, "global-batch (micro-batches follow it)"},
    {SCN_ZERO, NULL},
    {SCN_DIST_OPT, NULL},
    {SCN_FSDP, NULL},
    {SCN_FSDP_GROUP, NULL},
    {SCN_FSDP_OUTER_SHARD, NULL},
    {SCN_RESHARD_AFTER_FORWARD, NULL},
    {SCN_RECOMPUTE, NULL},
    {SCN_RECOMPUTE_MODULES, NULL},
    {SCN_OFFLOAD_OPTIMIZER, NULL},
    {SCN_OFFLOAD_ACTIVATIONS, NULL},
    {SCN_FIRST_STAGE_LAYERS, NULL},
    {SCN_LAST_STAGE_LAYERS, NULL},
    {SCN_PIPELINE_LAYOUT, NULL},
    {SCN_VP_GROUP, NULL},
};

enum sim_status plan_check_set_keys(const struct scenario *base, struct sim_error *err)
{
    for (size_t i = 0; i < sizeof chosen_keys / sizeof chosen_keys[0]; i++) {
        enum scn_key k = chosen_keys[i].key;
        if (base->origin[k].order != SCN_ORDER_SET)
            continue;
        if (chosen_keys[i].instead)
            return scn_rule_error(base, k, err,
                                  "plan chooses %s for each config: give %s instead",
                                  scn_key_name(k), chosen_keys[i].instead);
        return scn_rule_error(base, k, err,
                              "plan chooses %s for each config (tp, pp, vp, cp, ep, etp and "
                              "micro-batch given by --set fix the search; this key cannot)",
                              scn_key_name(k));
    }
    return SIM_OK;
}

static enum sim_status check_base(const struct scenario *base, const struct plan_opts *o,
                                  struct sim_error *err)
{
    if (!scn_is_modelled(base))
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "plan needs a modelled scenario: model= and hardware= (the planner "
                       "derives every layout's costs from them)");
    if (!base->hardware_path[0])
        return scn_rule_error(base, SCN_MODEL, err,
                              "model= needs hardware= (a hardware file) as well");
    if (!scn_given(base, SCN_GLOBAL_BATCH) || base->global_batch <= 0)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "plan needs global-batch (samples per step: <batch global-batch=...> or "
                       "--set global-batch=N): the batch is fixed while the layout varies");
    if (base->seq <= 0)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "plan needs seq (tokens per sample: <batch seq=...> or --set seq=N)");
    if (o->gpus <= 0 || o->top <= 0)
        return err_set(err, SIM_EINPUT, NULL, 0, "plan needs --gpus N and --top K above 0");
    return SIM_OK;
}

/* The schedules to consider: --schedules' (each offered by a framework the scenario names),
 * else the framework's without GPipe. */
static enum sim_status choose_schedules(const struct scenario *base, const struct plan_opts *o,
                                        struct plan_result *res, struct sim_error *err)
{
    const struct fw_type *fw = res->framework;
    int n = 0;
    if (o->schedules[0]) {
        for (int i = 0; i < FW_MAX_SCHEDULES && o->schedules[i]; i++) {
            if (!res->framework_inferred && !fw_offers_schedule(fw, o->schedules[i])) {
                char names[128];
                fw_schedule_names(fw, names, sizeof names);
                return scn_rule_error(base, SCN_FRAMEWORK, err,
                                      "--schedules: %s is not offered by framework=%s (its "
                                      "schedules: %s; framework=any lifts the limit)",
                                      o->schedules[i]->name, fw->name, names);
            }
            res->schedules[n++] = o->schedules[i];
        }
    } else {
        for (int i = 0; fw->schedules[i]; i++)
            if (fw->schedules[i] != &sched_gpipe)
                res->schedules[n++] = fw->schedules[i];
    }
    res->schedules[n] = NULL;
    if (n == 0)
        return err_set(err, SIM_EINPUT, NULL, 0, "plan: no schedule to consider");
    return SIM_OK;
}

/* The base's hw.* knobs on the loaded hardware (so a bad value is one error here, not one per
 * config), checked as the cost model applies them. */
static enum sim_status apply_hw_knobs(const struct scenario *base, struct hardware *hw,
                                      struct sim_error *err)
{
    for (int i = 0; i < base->n_hw_knobs; i++) {
        const struct scn_hw_knob *k = &base->hw_knobs[i];
        char why[256];
        if (hw_knob_set(hw, k->name, k->value, why, sizeof why) != 0)
            return scn_hw_knob_error(base, k, why, err);
    }
    return SIM_OK;
}

/* Context parallelism the way the framework runs it: the scenario's cp-comm-type when
 * offered, else the framework's first (DeepSpeed's is Ulysses' a2a).  Sets res->cp_comm and
 * rewrites *planned's cp-comm-type when it differs. */
static enum sim_status plan_cp_comm(struct scenario *planned, struct plan_result *res,
                                    struct sim_error *err)
{
    res->cp_comm = fw_cp_comm(res->framework, planned->cp_comm_type);
    if (res->cp_comm < 0 || res->cp_comm == planned->cp_comm_type)
        return SIM_OK;
    scn_unset(planned, SCN_HIERARCHICAL_CP);
    return scn_set_key(planned, SCN_CP_COMM_TYPE, scn_choice_name(SCN_CP_COMM_TYPE, res->cp_comm),
                       err);
}

/* Keep the configs of rule-valid layouts, in enumeration order; res->valid counts them. */
static void keep_valid_layouts(struct plan_result *res)
{
    size_t n = 0, nl = 0;
    for (size_t l = 0; l < res->nlayouts; l++) {
        struct plan_layout L = res->layouts[l];
        if (!L.valid)
            continue;
        for (size_t k = 0; k < L.n; k++) {
            res->entries[n + k] = res->entries[L.first + k];
            res->entries[n + k].layout = (int)nl;
        }
        L.first = n;
        n += L.n;
        res->layouts[nl++] = L;
    }
    res->n = res->valid = n;
    res->nlayouts = nl;
}

/* After the search: configs that failed to build leave the valid count; out of memory and
 * pruned ones are counted. */
static void count_outcomes(struct plan_result *res)
{
    for (size_t i = 0; i < res->n; i++) {
        const struct plan_entry *e = &res->entries[i];
        res->valid -= e->built < 0;
        res->oom += e->built >= 0 && e->state == PLAN_OOM;
        res->pruned += e->built >= 0 && e->state == PLAN_PRUNED;
    }
}

/* Phase 2: check every layout's rules and build its pipeline order, the layouts of one order
 * together (each order is built once, by the first of its group); res->orders counts the
 * orders built.  Fails with the first job's failure. */
static enum sim_status check_layouts(struct plan_ctx *c, struct plan_result *res,
                                     const struct plan_space *space, struct sim_error *err)
{
    size_t *grouped = NULL, *group_start = NULL, *built = NULL, ngroups = 0;
    enum sim_status st = SIM_OK;
    if (group_orders(res, space, &grouped, &group_start, &ngroups) != 0 ||
        !(built = mem_calloc(ngroups ? ngroups : 1, sizeof *built))) {
        st = err_set(err, SIM_EFAIL, NULL, 0, "out of memory for %zu layouts", res->nlayouts);
    } else {
        c->grouped = grouped;
        c->group_start = group_start;
        c->built = built;
        par_pool_run(c->pool, ngroups, check_group, c);
        for (size_t g = 0; g < ngroups; g++)
            res->orders += built[g];
        st = first_failure(c->status, c->errs, res->nlayouts, err);
    }
    c->grouped = c->group_start = NULL;
    c->built = NULL;
    mem_free(grouped);
    mem_free(group_start);
    mem_free(built);
    return st;
}

/* The rule the layouts checked broke, for the message of a plan with none valid: NULL when no
 * layout was checked (the arithmetic kept none); *all_same when every layout that broke a rule
 * broke this one (a base value no layout can change, such as layers=40), else the last's. */
static const char *broken_rule(const struct plan_ctx *c, const struct plan_result *res,
                               int *all_same)
{
    const char *last = NULL;
    *all_same = 1;
    for (size_t i = res->nlayouts; i-- > 0;) {
        const char *msg = c->errs[i].msg;
        if (!msg[0])
            continue;
        if (!last)
            last = msg;
        else if (strcmp(msg, last) != 0)
            *all_same = 0;
    }
    return last;
}

/* --dispatchers against the scenario and the system: a MoE model's, not beside --set
 * moe-dispatcher (which fixes it), each flex backend named one the hardware runs. */
static enum sim_status check_dispatchers(const struct plan_opts *o, const struct scenario *base,
                                         const struct model *m, const struct hardware *hw,
                                         struct sim_error *err)
{
    if (!o->dispatchers[0])
        return SIM_OK;
    if (m->experts == 0)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "plan: --dispatchers applies to MoE models; %s has no experts", m->name);
    if (base->origin[SCN_MOE_DISPATCHER].order == SCN_ORDER_SET)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "plan: --dispatchers and --set moe-dispatcher both choose the dispatcher: "
                       "give one");
    for (int i = 0; o->dispatchers[i] > 0 && i < PLAN_MAX_DISPATCHERS; i++) {
        int d = o->dispatchers[i] - 1;
        unsigned need = d == DISPATCH_DEEPEP     ? HW_FLEX_DEEPEP
                        : d == DISPATCH_HYBRIDEP ? HW_FLEX_HYBRIDEP
                                                 : 0;
        if (need && !(hw->node.flex_dispatchers & need))
            return err_set(err, SIM_EINPUT, NULL, 0,
                           "plan: --dispatchers %s: it does not run on %s (its file's node "
                           "flex-dispatchers)",
                           scn_choice_name(SCN_MOE_DISPATCHER, d), hw->gpu.name);
    }
    return SIM_OK;
}

/* What configs keep of the scenario where they choose nothing (res->base_*): its offload
 * modules and sequence parallelism, ZeRO-1's reduce op, full recompute's method and layers,
 * the split backward, hierarchical CP, the MoE dispatcher and the flex dispatchers' keys, as
 * given. */
static void keep_base_values(const struct scenario *base, struct plan_result *res)
{
    res->base_offload_modules = base->offload_modules;
    res->base_no_sp = turns_sp_off(base);
    if (scn_given(base, SCN_GRAD_REDUCE_OP))
        snprintf(res->base_grad_reduce_op, sizeof res->base_grad_reduce_op, "%s",
                 scn_choice_name(SCN_GRAD_REDUCE_OP, base->grad_reduce_op));
    if (scn_given(base, SCN_RECOMPUTE_METHOD))
        snprintf(res->base_recompute_method, sizeof res->base_recompute_method, "%s",
                 scn_choice_name(SCN_RECOMPUTE_METHOD, base->recompute_method));
    if (scn_given(base, SCN_RECOMPUTE_NUM_LAYERS))
        snprintf(res->base_recompute_num_layers, sizeof res->base_recompute_num_layers, "%d",
                 base->recompute_num_layers);
    if (scn_given(base, SCN_SPLIT_BACKWARD))
        snprintf(res->base_split_backward, sizeof res->base_split_backward, "%s",
                 base->split_backward ? "true" : "false");
    if (scn_given(base, SCN_HIERARCHICAL_CP))
        snprintf(res->base_hierarchical_cp, sizeof res->base_hierarchical_cp, "%d",
                 base->hierarchical_cp);
    if (scn_given(base, SCN_MOE_DISPATCHER))
        snprintf(res->base_moe_dispatcher, sizeof res->base_moe_dispatcher, "%s",
                 scn_choice_name(SCN_MOE_DISPATCHER, base->moe_dispatcher));
    if (scn_given(base, SCN_DEEPEP_SMS))
        snprintf(res->base_flex[0], sizeof res->base_flex[0], "%d", base->deepep_sms);
    if (scn_given(base, SCN_MOE_DISPATCH_DTYPE))
        snprintf(res->base_flex[1], sizeof res->base_flex[1], "%s",
                 scn_choice_name(SCN_MOE_DISPATCH_DTYPE, base->moe_dispatch_dtype));
}

/* The space's configs and layouts into res (cands: emptied into it); a space past the cap is
 * the user's to narrow. */
static enum sim_status enumerate(struct plan_space *space, struct plan_cands *cands,
                                 struct plan_result *res, struct sim_error *err)
{
    res->ndispatchers = space->ndispatchers;
    memcpy(res->dispatchers, space->dispatchers, sizeof res->dispatchers);
    int rc = plan_space_enumerate(space, cands);
    if (rc == PLAN_SPACE_TOO_LARGE)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "plan: the space holds more than %d configs, the planner's cap: fix a "
                       "dimension with --set (tp or ep, say), or try fewer --schedules or "
                       "--dispatchers",
                       PLAN_MAX_CANDIDATES);
    if (rc != 0)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory enumerating configs");
    res->enumerated = space->enumerated;
    res->entries = cands->v;
    res->n = cands->n;
    res->layouts = cands->lay;
    res->nlayouts = cands->nlay;
    cands->v = NULL;
    cands->lay = NULL;
    return SIM_OK;
}

/* How far either way plan looks for a budget that has a layout when the one asked for has
 * none: the budget itself (down to 1, up to twice it), at least 64 and at most 4096 GPUs away
 * -- one probe a budget, a walk of the layouts (well under a millisecond with tp and pp fixed,
 * a few for the largest shipped models with nothing fixed). */
#define PLAN_BUDGET_NEAR 64
#define PLAN_BUDGET_FAR 4096

static int budget_reach(int gpus)
{
    return gpus < PLAN_BUDGET_NEAR ? PLAN_BUDGET_NEAR
           : gpus > PLAN_BUDGET_FAR ? PLAN_BUDGET_FAR
                                    : gpus;
}

/* The nearest budgets that have a layout, into buf: both, or the one found with the span the
 * other side was searched over named -- else the one found reads as the only one -- or the
 * span searched when neither was found. */
static void nearest_budgets_text(char *buf, size_t len, int gpus, const struct plan_budgets *b)
{
    if (b->below && b->above) {
        snprintf(buf, len, "the nearest budgets that have one: %d and %d GPUs", b->below,
                 b->above);
        return;
    }
    if (!b->below && !b->above) {
        snprintf(buf, len, "no budget from %d to %d GPUs has one", b->lowest, b->highest);
        return;
    }
    int one = b->below + b->above;
    int n =
        snprintf(buf, len, "the nearest budget that has one: %d GPU%s", one, one == 1 ? "" : "s");
    int lo = b->below ? gpus + 1 : b->lowest, hi = b->below ? b->highest : gpus - 1;
    if (lo <= hi && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " (none from %d to %d)", lo, hi);
}

/* Where the only layouts the budget divides into run none of the schedules considered (one GPU
 * and DualPipe, say), their pipeline depths and what each schedule needs into buf; 0 when
 * there are no such layouts. */
static int unscheduled_text(const struct plan_space *sp, char *buf, size_t len)
{
    if (sp->nunscheduled_pp == 0)
        return 0;
    size_t used = (size_t)snprintf(buf, len, "the pipeline depths the budget allows (pp=");
    for (int i = 0; i < sp->nunscheduled_pp && used < len; i++)
        used +=
            (size_t)snprintf(buf + used, len - used, "%s%d", i ? ", " : "", sp->unscheduled_pp[i]);
    const char *more = sp->unscheduled_more ? ", ..." : "";
    if (used < len)
        used += (size_t)snprintf(buf + used, len - used,
                                 "%s) run none of the schedules considered:", more);
    for (int s = 0, n = 0; sp->schedules[s] && used < len; s++) {
        const char *needs = plan_schedule_needs(sp->schedules[s], sp->fixed.vp);
        if (needs)
            used += (size_t)snprintf(buf + used, len - used, "%s %s needs %s", n++ ? "," : "",
                                     sp->schedules[s]->name, needs);
    }
    return 1;
}

/* Why no layout is valid: the layers split over none of the pipelines tried (every layout
 * failed there); the arithmetic kept none (rule NULL), with the nearest budgets that keep one;
 * else the rule every layout broke, or the last layout's. */
static enum sim_status no_valid_layout(const struct plan_space *space, const struct plan_opts *o,
                                       const struct scenario *base, const struct model *model,
                                       const char *rule, int all_same, struct sim_error *err)
{
    char fixed[160];
    plan_fixed_text(&space->fixed, fixed, sizeof fixed);
    if (space->split == 0 && space->unsplit > 0)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "no valid layout of %s on gpus=%d%s%s: its %d layers do not split over "
                       "%d pipeline stages (pp x vp) with a layer on the first and the ends no "
                       "heavier than the other stages",
                       model->name, o->gpus, fixed[0] ? " with " : "", fixed, model->layers,
                       space->unsplit_stages);
    if (rule)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "no valid layout of %s on gpus=%d with global-batch=%d%s%s: every layout "
                       "breaks %s: %s",
                       model->name, o->gpus, base->global_batch, fixed[0] ? " and " : "", fixed,
                       all_same ? "this rule" : "a rule, the last one checked", rule);
    int mb = space->fixed.micro_batch;
    if (mb && base->global_batch % mb != 0) /* no budget has one: say why, not the budgets */
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "no valid layout of %s on gpus=%d with global-batch=%d%s%s: "
                       "micro-batch=%d does not divide global-batch=%d, so no data-parallel "
                       "size can (give a micro-batch that divides the global batch)",
                       model->name, o->gpus, base->global_batch, fixed[0] ? " and " : "", fixed,
                       mb, base->global_batch);
    char nearest[128], why[512];
    int fixed_rule = plan_space_fixed_rule(space, why, sizeof why);
    if (fixed_rule == PLAN_FIXED_NO_BUDGET) /* the nearest budgets are none */
        return err_set(err, SIM_EINPUT, NULL, 0, "no valid layout of %s on gpus=%d with %s: %s",
                       model->name, o->gpus, fixed, why);
    struct plan_budgets budgets;
    plan_space_nearest_budgets(space, budget_reach(o->gpus), &budgets);
    nearest_budgets_text(nearest, sizeof nearest, o->gpus, &budgets);
    if (!fixed_rule && !unscheduled_text(space, why, sizeof why))
        snprintf(why, sizeof why,
                 "no tp x cp x pp the planner tries (tp within a node and dividing the heads, pp "
                 "up to the %d layers) divides the GPUs into data-parallel replicas that divide "
                 "the global batch",
                 model->layers);
    return err_set(err, SIM_EINPUT, NULL, 0,
                   "no valid layout of %s on gpus=%d with global-batch=%d%s%s: %s; %s",
                   model->name, o->gpus, base->global_batch, fixed[0] ? " and " : "", fixed, why,
                   nearest);
}

/* What the plan's report says of the model and the hardware: their names, the HBM (usable and
 * NCCL's share), the host memory, and the model's longest sequence when the scenario's is
 * longer. */
static void note_model_and_hardware(struct plan_result *res, const struct scenario *base,
                                    const struct model *model, const struct hardware *hw)
{
    res->hbm_bytes = hw->gpu.hbm_bytes;
    res->hbm_usable_bytes = hw_usable_hbm(&hw->gpu);
    res->nccl_buffers_bytes = hw->gpu.nccl_buffers_bytes;
    res->host_mem_bytes = hw->node.host_mem_B;
    snprintf(res->model, sizeof res->model, "%s", model->name);
    res->model_max_seq = base->seq > model->max_seq ? model->max_seq : 0; /* as costmodel.c */
    snprintf(res->hardware, sizeof res->hardware, "%s", hw->name);
}

/* The enumerated layouts checked against the rules (on c's threads, started here; the caller
 * ends them), the invalid ones dropped, and the rest searched.  No valid layout is an error
 * naming the rule that broke, found before the invalid layouts are dropped. */
static enum sim_status check_and_search(struct plan_ctx *c, const struct plan_opts *o,
                                        struct plan_result *res, const struct plan_space *space,
                                        struct sim_error *err)
{
    c->pool = par_pool_create(o->jobs);
    if (!c->pool)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory for the threads");
    enum sim_status st;
    if ((st = ctx_jobs(c, res->nlayouts, err)) != SIM_OK ||
        (st = check_layouts(c, res, space, err)) != SIM_OK)
        return st;
    int all_same;
    const char *rule = broken_rule(c, res, &all_same);
    keep_valid_layouts(res);
    if (res->valid == 0)
        return no_valid_layout(space, o, c->base, c->model, rule, all_same, err);
    return search(c, o, res, err);
}

enum sim_status plan_run(const struct scenario *base, const struct plan_opts *o,
                         struct plan_result *res, struct sim_error *err)
{
    double t0 = wall_now();
    memset(res, 0, sizeof *res);
    enum sim_status st = check_base(base, o, err);
    if (st != SIM_OK)
        return st;
    res->framework = fw_resolve(base);
    res->framework_inferred = base->framework == FW_AUTO;
    if ((st = choose_schedules(base, o, res, err)) != SIM_OK)
        return st;
    struct scenario planned = *base;
    if ((st = plan_cp_comm(&planned, res, err)) != SIM_OK)
        return st;
    base = &planned;
    keep_base_values(base, res);
    struct model model;
    struct hardware hw;
    memset(&hw, 0, sizeof hw);
    if ((st = model_load(&model, base->model_path, err)) != SIM_OK)
        return st;
    if ((st = hw_load(&hw, base->hardware_path, err)) != SIM_OK)
        return st;
    /* DeepSeek Sparse Attention gathers its keys: each config's cp-comm-type, left to the
     * default, becomes allgather (cm_rules.c) */
    if (model.dsa_topk > 0 && res->cp_comm >= 0 && !scn_given(base, SCN_CP_COMM_TYPE))
        res->cp_comm = CP_ALLGATHER;
    struct plan_cands cands = {0};
    struct plan_ctx c = {
        .base = base, .fw = res->framework, .model = &model, .hw = &hw, .gpus = o->gpus};
    if ((st = apply_hw_knobs(base, &hw, err)) != SIM_OK ||
        (st = check_dispatchers(o, base, &model, &hw, err)) != SIM_OK)
        goto done;
    note_model_and_hardware(res, base, &model, &hw);
    struct plan_space space = plan_space_of(base, o, res, &model, &hw);
    res->moe = model.experts > 0;
    if ((st = enumerate(&space, &cands, res, err)) != SIM_OK)
        goto done;
    c.e = res->entries;
    c.lay = res->layouts;
    if ((st = check_and_search(&c, o, res, &space, err)) != SIM_OK)
        goto done;
    count_outcomes(res);
done:
    plan_space_cands_release(&cands);
    mem_free(c.status);
    mem_free(c.errs);
    par_pool_destroy(c.pool);
    hw_release(&hw);
    if (st != SIM_OK)
        plan_result_release(res);
    res->wall_s = wall_now() - t0;
    return st;
}

void plan_result_release(struct plan_result *res)
{
    if (!res)
        return;
    for (size_t l = 0; res->layouts && l < res->nlayouts; l++) {
        mem_free(res->layouts[l].peak);
        free_fronts(res->layouts[l].front, res->layouts[l].pp);
    }
    mem_free(res->entries);
    mem_free(res->layouts);
    mem_free(res->rows);
    mem_free(res->top);
    mem_free(res->nearest);
    res->entries = NULL;
    res->layouts = NULL;
    res->rows = NULL;
    res->top = res->nearest = NULL;
    res->n = res->nlayouts = res->nrows = res->ntop = res->nnearest = 0;
}
