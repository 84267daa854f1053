/* plan: the planner -- enumerate layouts, bound them, simulate the promising ones.
 *
 * Phases (each phase's jobs run on par_run and write only their own entry, so the result is
 * the same for any thread count):
 *  1. enumerate: tp (divisors of heads and kv heads within a node), cp (1, 2, 4, 8 as seq
 *     allows), pp (with, when layers do not split evenly over pp*vp, one uneven split whose
 *     first and last stages hold fewer layers), 1F1B or ZB-H1 (vp 1; ZB-H1 only for pp > 1,
 *     where it differs), interleaved (vp 2..16) or ZB-V (vp 2), ep and
 *     etp (1 or tp) for MoE models, micro-batch 1, 2, 4, ..., recompute none / selective /
 *     full (selective only with unfused attention: the cost model's selective recompute is the
 *     attention core, which flash attention already recomputes, so it would duplicate none),
 *     distributed optimizer on / off.  GPipe is left out: 1F1B has the same bubble with
 *     less memory.  Sequence parallelism follows tp (on when tp > 1, unless the scenario sets
 *     sp=false).  The gpus / global-batch divisibility rules are checked by arithmetic first
 *     (cm_build would reject those configs just the same).
 *  2. check and bound: cm_build_preloaded applies every rule and gives the op durations; the
 *     memory and a lower bound on the step time follow without simulating (see
 *     bound_and_memory).  Configs over HBM are dropped.  The memory needs each rank's peak
 *     in-flight activations, which takes building the schedule's whole order -- millions of
 *     ops for a huge global batch; candidates are checked in groups that run the same order
 *     (group_orders), so each order is built once, not once per tp/cp/recompute/optimizer
 *     variant (a 2^26-sample batch of the 405B scenario: 105 s of CPU before, 20 s after).
 *  3. branch and bound: configs in order of (bound, enumeration index) are simulated in batches
 *     of PLAN_BATCH; between batches, when the K-th best simulated step is shorter than the
 *     next bound, every remaining config is pruned: none of them can enter the top K.
 * Invariant: the top K equal those of simulating every config that fits (same order, ties
 * broken by enumeration order), because pruning only drops configs whose bound -- and so
 * whose step -- is strictly longer than K simulated ones. */
#include "plan.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "cliutil.h"
#include "costmodel.h"
#include "hardware.h"
#include "model.h"
#include "outfile.h"
#include "parallel.h"
#include "pipeline.h"
#include "report_html.h"
#include "schedule.h"
#include "step.h"
#include "units.h"

#define PLAN_BATCH 8 /* simulations between pruning decisions (independent of -j) */
#define PLAN_MAX_CANDIDATES (1 << 22) /* cap on the enumeration (about 400 MB of entries) */
#define PLAN_MAX_VP 16
#define PLAN_MAX_SETS 256

static const char plan_usage[] =
    "usage: stepsim plan SCENARIO.xml --gpus N [--top K] [--out FILE.csv] [-j N]\n"
    "                    [--set KEY=VALUE]... [--exhaustive] [--report FILE.html]\n";

/* ---- scenarios of configs ---------------------------------------------------------------- */

static enum sim_status set_int(struct scenario *scn, const char *key, int v, struct sim_error *err)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%d", v);
    return scn_set(scn, key, buf, NULL, 0, err);
}

static const char *schedule_of(const struct plan_config *c)
{
    if (c->family == PLAN_DUALPIPE)
        return "dualpipe";
    if (c->family == PLAN_DUALPIPE_V)
        return "dualpipe-v";
    if (c->vp > 1)
        return c->family == PLAN_ZERO_BUBBLE ? "zb-v" : "interleaved";
    return c->family == PLAN_ZERO_BUBBLE ? "zb-h1" : "1f1b";
}

/* A derived or default value: clear it and forget where it came from. */
static void unset(struct scenario *scn, enum scn_key key, int *field)
{
    *field = 0;
    memset(&scn->origin[key], 0, sizeof scn->origin[key]);
}

enum sim_status plan_config_apply(const struct scenario *base, int gpus,
                                  const struct plan_config *c, struct scenario *out,
                                  struct sim_error *err)
{
    static const char *const recompute_names[] = {"none", "selective", "full"};
    *out = *base;
    int sp = c->tp > 1 && !(scn_given(base, SCN_SP) && !base->sp);
    enum sim_status st;
    if ((st = set_int(out, "gpus", gpus, err)) != SIM_OK ||
        (st = set_int(out, "tp", c->tp, err)) != SIM_OK ||
        (st = set_int(out, "pp", c->pp, err)) != SIM_OK ||
        (st = set_int(out, "vp", c->vp, err)) != SIM_OK ||
        (st = set_int(out, "cp", c->cp, err)) != SIM_OK ||
        (st = set_int(out, "ep", c->ep, err)) != SIM_OK ||
        (st = set_int(out, "etp", c->etp, err)) != SIM_OK ||
        (st = set_int(out, "micro-batch", c->micro_batch, err)) != SIM_OK ||
        (st = scn_set(out, "schedule", schedule_of(c), NULL, 0, err)) != SIM_OK ||
        (st = scn_set(out, "recompute", recompute_names[c->recompute], NULL, 0, err)) != SIM_OK ||
        (st = scn_set(out, "distributed-optimizer", c->dist_opt ? "true" : "false", NULL, 0,
                      err)) != SIM_OK ||
        (st = scn_set(out, "sp", sp ? "true" : "false", NULL, 0, err)) != SIM_OK)
        return st;
    if (c->edge_layers > 0) {
        if ((st = set_int(out, "first-stage-layers", c->edge_layers, err)) != SIM_OK ||
            (st = set_int(out, "last-stage-layers", c->edge_layers, err)) != SIM_OK)
            return st;
    } else {
        unset(out, SCN_FIRST_STAGE_LAYERS, &out->first_stage_layers);
        unset(out, SCN_LAST_STAGE_LAYERS, &out->last_stage_layers);
    }
    unset(out, SCN_VP_GROUP, &out->vp_group); /* Megatron's default group: pp */
    /* The zero-bubble family and DualPipe split the backward whatever the base says. */
    if (c->family != PLAN_MEGATRON)
        memset(&out->origin[SCN_SPLIT_BACKWARD], 0, sizeof out->origin[SCN_SPLIT_BACKWARD]);
    memset(&out->origin[SCN_MICROBATCHES], 0, sizeof out->origin[SCN_MICROBATCHES]);
    return SIM_OK;
}

/* ---- enumeration ------------------------------------------------------------------------- */

struct cand_list {
    struct plan_entry *v;
    size_t n, cap;
};

static int cand_push(struct cand_list *l, const struct plan_config *c)
{
    if (l->n == l->cap) {
        if (l->cap >= PLAN_MAX_CANDIDATES)
            return -1;
        size_t cap = l->cap ? 2 * l->cap : 256;
        struct plan_entry *v = mem_realloc(l->v, cap, sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    memset(&l->v[l->n], 0, sizeof l->v[l->n]);
    l->v[l->n++].cfg = *c;
    return 0;
}

/* First/last-stage layers for `stages` virtual stages: 0 for an even split; else the most
 * balanced split with lighter ends (f <= the middle stages' L, f = (layers - L(S-2)) / 2);
 * -1 when none exists. */
static int edge_layers(int layers, int stages)
{
    if (layers % stages == 0)
        return 0;
    if (stages < 3)
        return -1;
    for (int L = (layers + stages - 1) / stages; (long)L * (stages - 2) <= layers - 2; L++) {
        int rest = layers - L * (stages - 2);
        if (rest % 2 == 0 && rest / 2 >= 1 && rest / 2 <= L)
            return rest / 2;
    }
    return -1;
}

struct plan_space {
    const struct model *m;
    int gpus, gpus_per_node, global_batch, seq;
    int flash; /* flash attention: selective recompute is recompute none (see below) */
    size_t enumerated;
};

/* Does schedule family `fam` apply to pp ranks with vp chunks each?  1F1B and ZB-H1 differ
 * only for pp > 1; interleaving takes any vp > 1; ZB-V, DualPipeV and (for an even pp)
 * DualPipe take vp = 2. */
static int family_runs(int fam, int pp, int vp)
{
    switch ((enum plan_family)fam) {
    case PLAN_MEGATRON: return 1;
    case PLAN_ZERO_BUBBLE: return (vp == 1 && pp > 1) || vp == 2;
    case PLAN_DUALPIPE: return vp == 2 && pp % 2 == 0;
    case PLAN_DUALPIPE_V: return vp == 2;
    }
    return 0;
}

static int enumerate(struct plan_space *sp, struct cand_list *out)
{
    const struct model *m = sp->m;
    static const int cps[] = {1, 2, 4, 8};
    for (int tp = 1; tp <= sp->gpus_per_node && tp <= sp->gpus; tp++) {
        if (m->heads % tp || m->kv_heads % tp)
            continue;
        for (size_t ci = 0; ci < sizeof cps / sizeof cps[0]; ci++) {
            int cp = cps[ci];
            if (cp > 1 && sp->seq % (2 * cp) != 0)
                continue;
            for (int pp = 1; pp <= m->layers; pp++) {
                for (int vp = 1; vp <= PLAN_MAX_VP && (long)pp * vp <= m->layers; vp++) {
                    if (vp > 1 && pp == 1)
                        break;
                    int edge = edge_layers(m->layers, pp * vp);
                    /* DualPipe cuts the model into pp parts (two copies), not pp * vp */
                    int dual = vp == 2 && pp % 2 == 0;
                    int edge_dual = dual ? edge_layers(m->layers, pp) : -1;
                    if (edge < 0 && edge_dual < 0)
                        continue;
                    for (int ep = 1; ep <= (m->experts ? m->experts : 1); ep++) {
                        if (m->experts ? m->experts % ep != 0 : ep != 1)
                            continue;
                        for (int ei = 0; ei < (m->experts && tp > 1 ? 2 : 1); ei++) {
                            int etp = ei ? tp : 1;
                            long dense = (long)tp * cp * pp, expert = (long)ep * etp * pp;
                            int schedules = 0;
                            for (int fam = 0; fam < PLAN_FAMILIES; fam++)
                                schedules += family_runs(fam, pp, vp);
                            for (int mb = 1; mb <= sp->global_batch; mb *= 2) {
                                /* recompute x distributed optimizer x schedule */
                                sp->enumerated += 6 * (size_t)schedules;
                                if (sp->gpus % dense || sp->gpus % expert)
                                    continue;
                                long dp = sp->gpus / dense;
                                if (sp->global_batch % (mb * dp))
                                    continue;
                                for (int rc = 0; rc < 3; rc++)
                                    for (int d = 0; d < 2; d++)
                                        for (int fam = 0; fam < PLAN_FAMILIES; fam++) {
                                            int e = fam == PLAN_DUALPIPE ? edge_dual : edge;
                                            if ((rc == RECOMPUTE_SELECTIVE && sp->flash) || e < 0 ||
                                                !family_runs(fam, pp, vp))
                                                continue;
                                            struct plan_config c = {tp, pp, vp, cp, ep, etp,
                                                                    mb, e,  rc, d,  fam};
                                            if (cand_push(out, &c) != 0)
                                                return -1;
                                        }
                            }
                        }
                    }
                }
            }
        }
    }
    return 0;
}

/* The schedule order a candidate runs, for grouping: schedule, pp, vp and micro-batches
 * (global-batch / (micro-batch x dp)); the group and the split follow from these and the
 * base scenario. */
struct order_key {
    int sched, pp, vp, microbatches;
    size_t index;
};

static int cmp_int(long a, long b)
{
    return (a > b) - (a < b);
}

/* The orders of two keys, their indices aside. */
static int order_cmp(const struct order_key *x, const struct order_key *y)
{
    int d = cmp_int(x->sched, y->sched);
    d = d ? d : cmp_int(x->pp, y->pp);
    d = d ? d : cmp_int(x->vp, y->vp);
    return d ? d : cmp_int(x->microbatches, y->microbatches);
}

static int by_order(const void *a, const void *b)
{
    const struct order_key *x = a, *y = b;
    int d = order_cmp(x, y);
    return d ? d : cmp_int((long)x->index, (long)y->index);
}

/* Candidates grouped by the order they run: grouped[] lists candidate indices, group g being
 * grouped[starts[g] .. starts[g + 1]).  Returns -1 when out of memory. */
static int group_orders(const struct plan_space *sp, const struct cand_list *cands,
                        size_t **grouped, size_t **starts, size_t *ngroups)
{
    size_t n = cands->n;
    struct order_key *keys = mem_calloc(n ? n : 1, sizeof *keys);
    *grouped = mem_calloc(n ? n : 1, sizeof **grouped);
    *starts = mem_calloc(n + 1, sizeof **starts);
    if (!keys || !*grouped || !*starts) {
        mem_free(keys);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct plan_config *c = &cands->v[i].cfg;
        long dp = sp->gpus / ((long)c->tp * c->cp * c->pp); /* enumerate checked both */
        keys[i] = (struct order_key){c->family * 2 + (c->vp > 1), c->pp, c->vp,
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

/* ---- bounds ------------------------------------------------------------------------------ */

/* Peak in-flight (micro-batch, chunk) activations of each rank, from the schedule's order
 * alone.  A rank runs its ops one at a time in this order and the simulator counts an
 * activation from its F's start to its B's end (W's, when split), so the count after each
 * op -- and its maximum -- does not depend on timing: this equals the simulated peak. */
static int peak_inflight(const struct pipe_setup *setup, int *peak)
{
    size_t n = sched_ops_per_rank(setup->schedule, &setup->sp);
    struct sched_op *ops = mem_calloc(n, sizeof *ops);
    if (!ops)
        return -1;
    int release = setup->sp.split_backward ? OP_W : OP_B;
    for (int r = 0; r < setup->sp.pp; r++) {
        sched_build(setup->schedule, &setup->sp, r, ops);
        int cur = 0, max = 0;
        for (size_t i = 0; i < n; i++) {
            if (ops[i].kind == OP_F && ++cur > max)
                max = cur;
            else if (ops[i].kind == release)
                cur--;
        }
        peak[r] = max;
    }
    mem_free(ops);
    return 0;
}

/* A lower bound on the step time (first compute start -> last optimizer end), from the op
 * durations the simulator will use.  Sound because every term is work that must run in
 * sequence, and P2P transfers, DP reductions and waiting only add time:
 *  - no op of rank r can start before micro-batch data has passed the chunk-0 stages of ranks
 *    0..r-1 (every op of rank r needs some F of a stage >= r): front_r = sum F(s), s < r;
 *  - rank r then runs all its ops one at a time: work_r = m x sum over its chunks of F+B+W;
 *    its optimizer (and parameter gather) follow its last compute op;
 *  - all of rank r's ops except split-off W ops precede the chunk-0 B of some micro-batch
 *    (its last one), after which the gradient still walks back through the B ops of stages
 *    r-1..0 and then rank 0's optimizer runs.
 * For uniform stages without communication this is exactly the 1F1B / interleaved makespan
 * (m + (p-1)/v)(f+b), so the bound is tight where the pipeline is. */
/* The bound of the DualPipe family, whose overlapped pairs may take less than their ops'
 * durations -- never less than their work: rank r runs each micro-batch of each of its chunks
 * (m, or m/2 when they take half routes), each op at least its work (its duration less its
 * exposed communication), and no op of it can start before some micro-batch has run the
 * forwards in front of it -- down from rank 0 or, with half routes, up from rank p-1 -- at
 * least their work each; its optimizer (and parameter gather) follow. */
static simtime_t step_bound_pairs(const struct pipe_setup *s)
{
    int p = s->sp.pp, mbs = sched_chunk_mbs(s->schedule, &s->sp);
    int both_ends = s->schedule->placement == SCHED_DUAL;
    simtime_t best = 0;
    for (int r = 0; r < p; r++) {
        simtime_t work = 0, down = 0, up = 0;
        for (int c = 0; c < 2; c++) {
            int st = sched_stage_of(s->schedule, p, r, c);
            work += s->stage_fwd[st] - s->stage_fwd_comm[st] + s->stage_bwd[st] -
                    s->stage_bwd_comm[st] + s->stage_wgt[st];
        }
        for (int q = 0; q < r; q++) /* the first stages, on ranks q < r */
            down += s->stage_fwd[q] - s->stage_fwd_comm[q];
        for (int q = p - 1; q > r && both_ends; q--) { /* the up-stages on ranks q > r */
            int st = sched_stage_of(s->schedule, p, q, 1);
            up += s->stage_fwd[st] - s->stage_fwd_comm[st];
        }
        simtime_t front = both_ends && up < down ? up : down;
        simtime_t a = front + mbs * work + s->rank_opt[r] + s->rank_param_ag[r];
        if (a > best)
            best = a;
    }
    return best;
}

static simtime_t step_bound(const struct pipe_setup *s)
{
    if (s->schedule->pairs)
        return step_bound_pairs(s);
    int p = s->sp.pp, v = s->sp.vp, m = s->sp.microbatches, split = s->sp.split_backward;
    simtime_t best = 0, front = 0, tail = 0;
    for (int r = 0; r < p; r++) {
        simtime_t work = 0, wsplit = 0;
        for (int c = 0; c < v; c++) {
            int st = sched_stage_of(s->schedule, p, r, c);
            work += s->stage_fwd[st] + s->stage_bwd[st] + s->stage_wgt[st];
            wsplit += split ? s->stage_wgt[st] : 0;
        }
        work *= m;
        wsplit *= m;
        simtime_t a = front + work + s->rank_opt[r] + s->rank_param_ag[r];
        simtime_t b = front + work - wsplit + tail + s->rank_opt[0] + s->rank_param_ag[0];
        if (a > best)
            best = a;
        if (b > best)
            best = b;
        front += s->stage_fwd[r];
        tail += s->stage_bwd[r] + (split ? 0 : s->stage_wgt[r]);
    }
    return best;
}

/* ---- jobs -------------------------------------------------------------------------------- */

struct plan_ctx {
    const struct scenario *base;
    const struct model *model;
    const struct hardware *hw;
    int gpus;
    struct plan_entry *e;      /* phase 1: candidates; phase 2: valid entries */
    char *valid;               /* phase 1: [n] rule-valid */
    const size_t *batch;       /* phase 2: entry indices of this batch */
    enum sim_status *status;   /* per job: SIM_EFAIL stops the plan */
    struct sim_error *errs;    /* per job */
    const size_t *grouped;     /* phase 1: candidate indices, those of one order together */
    const size_t *group_start; /* phase 1: [ngroups + 1] offsets into grouped */
    size_t *built;             /* phase 1: [ngroups] orders group g built */
};

/* Peak in-flight activations per rank of one schedule order, kept for the configs after it:
 * they depend only on the schedule and its parameters (pp, vp, micro-batches, group, split),
 * which the tp/cp/ep, recompute and optimizer variants of a layout share. */
struct peak_cache {
    const struct sched_type *type;
    struct sched_params sp;
    int *peak; /* [sp.pp]; owned; NULL when none yet */
};

static int same_order(const struct peak_cache *pc, const struct pipe_setup *s)
{
    const struct sched_params *a = &pc->sp, *b = &s->sp;
    return pc->peak && pc->type == s->schedule && a->pp == b->pp && a->vp == b->vp &&
           a->microbatches == b->microbatches && a->vp_group == b->vp_group &&
           a->split_backward == b->split_backward;
}

/* The peaks of `setup`'s order, built only when the cache holds another order's. */
static const int *cached_peaks(struct peak_cache *pc, const struct pipe_setup *setup, size_t *built)
{
    if (same_order(pc, setup))
        return pc->peak;
    ++*built;
    mem_free(pc->peak);
    pc->peak = mem_calloc((size_t)setup->sp.pp, sizeof *pc->peak);
    if (pc->peak && peak_inflight(setup, pc->peak) != 0) {
        mem_free(pc->peak);
        pc->peak = NULL;
    }
    pc->type = setup->schedule;
    pc->sp = setup->sp;
    return pc->peak;
}

/* Phase 1: rules, memory and bound of candidate i. */
static void check_one(struct plan_ctx *c, size_t i, struct peak_cache *pc, size_t *built)
{
    struct plan_entry *e = &c->e[i];
    struct scenario scn;
    struct costmodel cm;
    struct pipe_setup setup;
    struct sim_error err;
    err_clear(&err);
    c->valid[i] = 0;
    c->status[i] = SIM_OK;
    enum sim_status st = plan_config_apply(c->base, c->gpus, &e->cfg, &scn, &err);
    if (st == SIM_OK)
        st = cm_build_preloaded(&cm, &scn, c->model, c->hw, &setup, &err);
    if (st != SIM_OK) {
        if (st == SIM_EFAIL) { /* out of memory, not a rule */
            c->status[i] = st;
            c->errs[i] = err;
        }
        return;
    }
    const int *peak = cached_peaks(pc, &setup, built);
    if (!peak) {
        c->status[i] = err_set(&c->errs[i], SIM_EFAIL, NULL, 0, "out of memory");
    } else {
        /* cm_rank_memory reads only the peak in-flight count from the result. */
        struct pipe_result res;
        memset(&res, 0, sizeof res);
        res.peak_inflight = (int *)peak; /* only read */
        e->mem_bytes = 0;
        for (int r = 0; r < scn.pp; r++) {
            struct cm_rank_memory mem;
            cm_rank_memory(&cm, &scn, &res, r, &mem);
            if (mem.total > e->mem_bytes)
                e->mem_bytes = mem.total;
        }
        e->hbm_bytes = hw_usable_hbm(&c->hw->gpu);
        e->bound = step_bound(&setup);
        e->dp = cm.cfg.dp;
        e->microbatches = cm.cfg.microbatches;
        e->state = e->mem_bytes > e->hbm_bytes ? PLAN_OOM : PLAN_PRUNED;
        c->valid[i] = 1;
    }
    pipe_setup_release(&setup);
    cm_release(&cm);
}

/* Phase 1 job g: the candidates of group g (those of one schedule order, see group_orders),
 * so that the order's peaks are built once. */
static void check_group(size_t g, void *user)
{
    struct plan_ctx *c = user;
    struct peak_cache pc = {0};
    for (size_t k = c->group_start[g]; k < c->group_start[g + 1]; k++)
        check_one(c, c->grouped[k], &pc, &c->built[g]);
    mem_free(pc.peak);
}

/* Phase 2: simulate the batch's j-th entry. */
static void sim_job(size_t j, void *user)
{
    struct plan_ctx *c = user;
    struct plan_entry *e = &c->e[c->batch[j]];
    struct scenario scn;
    struct step_output so;
    struct sim_error err;
    err_clear(&err);
    c->status[j] = SIM_OK;
    enum sim_status st = plan_config_apply(c->base, c->gpus, &e->cfg, &scn, &err);
    if (st == SIM_OK)
        st = step_run_preloaded(&scn, c->model, c->hw, &so, &err);
    if (st != SIM_OK) {
        c->status[j] = st;
        c->errs[j] = err;
        return;
    }
    const struct report *rep = &so.rep;
    const struct report_breakdown *b = &rep->brk;
    e->state = PLAN_SIMULATED;
    e->step = so.res.step_end - so.res.first_start;
    e->step_s = rep->step_s;
    e->tokens_per_s = rep->tokens_per_s;
    e->tokens_per_s_per_gpu = rep->tokens_per_s_per_gpu;
    e->mfu = rep->mfu;
    double step = rep->step_s > 0 ? rep->step_s : 1;
    e->bubble = b->bubble / step;
    e->comm = (b->tp + b->cp + b->ep + b->pp + b->dp) / step;
    e->recompute_share = b->recompute / step;
    double mem = 0;
    for (int r = 0; r < rep->pp; r++)
        if (rep->mem[r].total > mem)
            mem = rep->mem[r].total;
    e->mem_bytes = mem;
    step_release(&so);
}

/* ---- branch and bound -------------------------------------------------------------------- */

struct bound_key {
    simtime_t bound;
    size_t index;
};

/* Ordering by (bound, index): deterministic. */
static int by_bound(const void *a, const void *b)
{
    const struct bound_key *x = a, *y = b;
    if (x->bound != y->bound)
        return x->bound < y->bound ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Better = shorter step (the same global batch, so more tokens/s), then enumeration order. */
static int better(const struct plan_entry *e, size_t i, size_t j)
{
    if (e[i].step != e[j].step)
        return e[i].step < e[j].step;
    return i < j;
}

static void top_insert(const struct plan_entry *e, size_t *top, size_t *ntop, size_t k, size_t i)
{
    size_t pos = *ntop;
    while (pos > 0 && better(e, i, top[pos - 1]))
        pos--;
    if (pos >= k)
        return;
    size_t last = *ntop < k ? *ntop : k - 1;
    memmove(&top[pos + 1], &top[pos], (last - pos) * sizeof *top);
    top[pos] = i;
    if (*ntop < k)
        (*ntop)++;
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
                       "plan needs global-batch (samples per step): the batch is fixed while "
                       "the layout varies");
    if (base->seq <= 0)
        return err_set(err, SIM_EINPUT, NULL, 0, "plan needs seq (tokens per sample)");
    if (o->gpus <= 0 || o->top <= 0)
        return err_set(err, SIM_EINPUT, NULL, 0, "plan needs --gpus N and --top K above 0");
    return SIM_OK;
}

static enum sim_status search(struct plan_ctx *c, const struct plan_opts *o,
                              struct plan_result *res, struct sim_error *err)
{
    size_t n = res->n, nfit = 0;
    size_t *order = mem_calloc(n ? n : 1, sizeof *order);
    size_t k = (size_t)o->top;
    res->top = mem_calloc(k, sizeof *res->top);
    enum sim_status *status = mem_calloc(PLAN_BATCH, sizeof *status);
    struct sim_error *errs = mem_calloc(PLAN_BATCH, sizeof *errs);
    enum sim_status st = SIM_OK;
    if (!order || !res->top || !status || !errs) {
        st = err_set(err, SIM_EFAIL, NULL, 0, "out of memory for %zu configs", n);
        goto done;
    }
    struct bound_key *keys = mem_calloc(n ? n : 1, sizeof *keys);
    if (!keys) {
        st = err_set(err, SIM_EFAIL, NULL, 0, "out of memory for %zu configs", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if (res->entries[i].state != PLAN_OOM)
            keys[nfit++] = (struct bound_key){res->entries[i].bound, i};
    qsort(keys, nfit, sizeof *keys, by_bound);
    for (size_t i = 0; i < nfit; i++)
        order[i] = keys[i].index;
    mem_free(keys);
    c->e = res->entries;
    c->status = status;
    c->errs = errs;
    size_t next = 0;
    while (next < nfit) {
        /* Prune: sorted by bound, so once the next bound exceeds the K-th best step, so do
         * all later ones, and their steps are at least their bounds. */
        if (!o->exhaustive && res->ntop == k &&
            res->entries[order[next]].bound > res->entries[res->top[k - 1]].step)
            break;
        size_t nb = nfit - next < PLAN_BATCH ? nfit - next : PLAN_BATCH;
        c->batch = &order[next];
        par_run(nb, o->jobs, sim_job, c, NULL, NULL);
        if ((st = first_failure(status, errs, nb, err)) != SIM_OK)
            goto done;
        for (size_t j = 0; j < nb; j++) {
            res->simulated++;
            top_insert(res->entries, res->top, &res->ntop, k, order[next + j]);
        }
        next += nb;
    }
    res->pruned = nfit - next;
done:
    mem_free(order);
    mem_free(status);
    mem_free(errs);
    return st;
}

enum sim_status plan_run(const struct scenario *base, const struct plan_opts *o,
                         struct plan_result *res, struct sim_error *err)
{
    double t0 = wall_now();
    memset(res, 0, sizeof *res);
    enum sim_status st = check_base(base, o, err);
    if (st != SIM_OK)
        return st;
    struct model model;
    struct hardware hw;
    memset(&hw, 0, sizeof hw);
    if ((st = model_load(&model, base->model_path, err)) != SIM_OK)
        return st;
    if ((st = hw_load(&hw, base->hardware_path, err)) != SIM_OK)
        return st;

    struct cand_list cands = {0};
    char *valid = NULL;
    size_t *grouped = NULL, *group_start = NULL, *built = NULL;
    enum sim_status *status = NULL;
    struct sim_error *errs = NULL;
    struct plan_space space = {&model,
                               o->gpus,
                               hw.node.gpus,
                               base->global_batch,
                               base->seq,
                               base->attention == ATTENTION_FLASH,
                               0};
    if (enumerate(&space, &cands) != 0) {
        st = err_set(err, SIM_EFAIL, NULL, 0, "out of memory enumerating configs (cap %d)",
                     PLAN_MAX_CANDIDATES);
        goto done;
    }
    res->enumerated = space.enumerated;
    size_t nc = cands.n ? cands.n : 1;
    valid = mem_calloc(nc, 1);
    status = mem_calloc(nc, sizeof *status);
    errs = mem_calloc(nc, sizeof *errs);
    if (!valid || !status || !errs) {
        st = err_set(err, SIM_EFAIL, NULL, 0, "out of memory for %zu configs", cands.n);
        goto done;
    }
    size_t ngroups = 0;
    if (group_orders(&space, &cands, &grouped, &group_start, &ngroups) != 0 ||
        !(built = mem_calloc(ngroups ? ngroups : 1, sizeof *built))) {
        st = err_set(err, SIM_EFAIL, NULL, 0, "out of memory for %zu configs", cands.n);
        goto done;
    }
    struct plan_ctx c = {base, &model, &hw,  o->gpus, cands.v,     valid,
                         NULL, status, errs, grouped, group_start, built};
    par_run(ngroups, o->jobs, check_group, &c, NULL, NULL);
    for (size_t g = 0; g < ngroups; g++)
        res->orders += built[g];
    if ((st = first_failure(status, errs, cands.n, err)) != SIM_OK)
        goto done;
    /* Compact the rule-valid configs in enumeration order; the list keeps ownership. */
    for (size_t i = 0; i < cands.n; i++)
        if (valid[i]) {
            cands.v[res->n++] = cands.v[i];
            res->oom += cands.v[i].state == PLAN_OOM;
        }
    res->entries = cands.v;
    cands.v = NULL;
    res->valid = res->n;
    if (res->valid == 0) {
        st = err_set(err, SIM_EINPUT, NULL, 0,
                     "no valid layout of %s on gpus=%d with global-batch=%d: every config "
                     "breaks a rule (gpus must be a multiple of tp*cp*pp with global-batch "
                     "divisible by micro-batch*dp)",
                     model.name, o->gpus, base->global_batch);
        goto done;
    }
    if (res->oom == res->valid) {
        st = err_set(err, SIM_EINPUT, NULL, 0,
                     "no layout of %s on gpus=%d fits in %.1f GiB of HBM (%zu valid configs)",
                     model.name, o->gpus, hw_usable_hbm(&hw.gpu) / 1073741824.0, res->valid);
        goto done;
    }
    st = search(&c, o, res, err);
done:
    mem_free(cands.v);
    mem_free(valid);
    mem_free(grouped);
    mem_free(group_start);
    mem_free(built);
    mem_free(status);
    mem_free(errs);
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
    mem_free(res->entries);
    mem_free(res->top);
    res->entries = NULL;
    res->top = NULL;
    res->n = res->ntop = 0;
}

/* ---- output ------------------------------------------------------------------------------ */

static const char *const recompute_short[] = {"none", "sel", "full"};
static const char *const state_names[] = {"simulated", "oom", "pruned"};

static void layout_text(const struct plan_entry *e, char *buf, size_t len)
{
    const struct plan_config *c = &e->cfg;
    char edge[32] = "";
    if (c->edge_layers)
        snprintf(edge, sizeof edge, " ends=%d", c->edge_layers);
    snprintf(buf, len, "tp%d pp%d vp%d cp%d ep%d/%d dp%d mbs%d %s %s%s%s", c->tp, c->pp, c->vp,
             c->cp, c->ep, c->etp, e->dp, c->micro_batch, schedule_of(c),
             recompute_short[c->recompute], c->dist_opt ? " distopt" : "", edge);
}

static int write_table(FILE *out, const struct scenario *base, const struct plan_opts *o,
                       const struct plan_result *res)
{
    char name[3 * sizeof base->name]; /* each invalid byte may become 3 */
    utf8_clean(name, sizeof name, base->name);
    fprintf(out, "plan for %s: %d GPUs, global batch %d x seq %d, top %d by tokens/s\n\n", name,
            o->gpus, base->global_batch, base->seq, o->top);
    fprintf(out, "%-4s %-66s %9s %11s %8s %7s %8s %7s %6s %7s\n", "#", "layout", "step_s",
            "tokens/s", "tok/s/GPU", "MFU", "mem_GiB", "bubble", "comm", "recomp");
    for (size_t t = 0; t < res->ntop; t++) {
        const struct plan_entry *e = &res->entries[res->top[t]];
        char lay[160];
        layout_text(e, lay, sizeof lay);
        fprintf(out, "%-4zu %-66s %9.4f %11.0f %8.1f %6.2f%% %8.2f %6.1f%% %5.1f%% %6.1f%%\n",
                t + 1, lay, e->step_s, e->tokens_per_s, e->tokens_per_s_per_gpu, 100 * e->mfu,
                e->mem_bytes / 1073741824.0, 100 * e->bubble, 100 * e->comm,
                100 * e->recompute_share);
    }
    fprintf(out,
            "\nbubble, comm (exposed TP+CP+EP+PP+DP) and recomp are shares of the step time;"
            " mem is the peak over pipeline ranks (HBM %.1f GiB)\n",
            res->n ? res->entries[0].hbm_bytes / 1073741824.0 : 0.0);
    fprintf(out,
            "configs: %zu enumerated, %zu rule-valid, %zu over HBM, %zu simulated, %zu pruned "
            "by the step-time bound; %zu schedule orders built; %.2f s wall\n",
            res->enumerated, res->valid, res->oom, res->simulated, res->pruned, res->orders,
            res->wall_s);
    return ferror(out) ? -1 : 0;
}

static void write_csv_row(FILE *out, const struct plan_entry *e)
{
    static const char *const rc[] = {"none", "selective", "full"};
    const struct plan_config *c = &e->cfg;
    fprintf(out, "%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%s,%s,%s,%s,%.9g,%.4f", c->tp, c->pp, c->vp,
            c->cp, c->ep, c->etp, e->dp, c->micro_batch, e->microbatches, c->edge_layers,
            c->edge_layers, schedule_of(c), rc[c->recompute], c->dist_opt ? "true" : "false",
            state_names[e->state], simtime_to_s(e->bound), e->mem_bytes / 1073741824.0);
    if (e->state == PLAN_SIMULATED)
        fprintf(out, ",%.9g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", e->step_s, e->tokens_per_s,
                e->tokens_per_s_per_gpu, e->mfu, e->bubble, e->comm, e->recompute_share);
    else
        fputs(",,,,,,,\n", out);
}

static const char csv_header[] =
    "tp,pp,vp,cp,ep,etp,dp,micro_batch,microbatches,first_stage_layers,last_stage_layers,"
    "schedule,recompute,distributed_optimizer,status,bound_s,memory_GiB,step_s,"
    "tokens_per_s,tokens_per_s_per_gpu,mfu,bubble_share,comm_share,recompute_share\n";

/* --out: every rule-valid config in enumeration order. */
static int write_csv(FILE *out, const struct plan_result *res)
{
    fputs(csv_header, out);
    for (size_t i = 0; i < res->n; i++)
        write_csv_row(out, &res->entries[i]);
    return ferror(out) ? -1 : 0;
}

/* The same rows for --report's page, which shows only its first REPORT_HTML_MAX_ROWS: the
 * top K (best first), the other simulated configs, the pruned ones, those over HBM. */
static int write_csv_ranked(FILE *out, const void *user)
{
    const struct plan_result *res = user;
    unsigned char *in_top = mem_calloc(res->n ? res->n : 1, 1);
    if (!in_top)
        return -1;
    fputs(csv_header, out);
    for (size_t t = 0; t < res->ntop; t++) {
        write_csv_row(out, &res->entries[res->top[t]]);
        in_top[res->top[t]] = 1;
    }
    /* then the other simulated ones, the pruned ones, the ones over HBM */
    static const enum plan_state order[] = {PLAN_SIMULATED, PLAN_PRUNED, PLAN_OOM};
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
        for (size_t i = 0; i < res->n; i++)
            if (!in_top[i] && res->entries[i].state == order[k])
                write_csv_row(out, &res->entries[i]);
    mem_free(in_top);
    return ferror(out) ? -1 : 0;
}

/* --report FILE.html: every rule-valid config as a table, best tokens/s first. */
static enum sim_status plan_report(struct outfile *of, const char *scenario_file,
                                   const struct scenario *base, const struct plan_opts *o,
                                   const struct plan_result *res, struct sim_error *err)
{
    char budget[128], counts[256];
    snprintf(budget, sizeof budget, "%d GPUs, global batch %d x seq %d, top %d by tokens/s",
             o->gpus, base->global_batch, base->seq, o->top);
    snprintf(counts, sizeof counts,
             "%zu enumerated, %zu rule-valid, %zu over HBM, %zu simulated, %zu pruned by the "
             "step-time bound; %.2f s wall",
             res->enumerated, res->valid, res->oom, res->simulated, res->pruned, res->wall_s);
    const struct html_fact facts[] = {
        {"scenario file", scenario_file}, {"budget", budget}, {"configs", counts}};
    struct report_html_table page = {
        "plan",
        base->name,
        facts,
        3,
        write_csv_ranked,
        res,
        "tokens_per_s",
        1,
        "One row per rule-valid config: <em>simulated</em> ones with their step time and "
        "throughput, <em>oom</em> ones over HBM (not simulated), <em>pruned</em> ones whose "
        "lower bound on the step time (bound_s) was above the K-th best simulated step.  The "
        "columns are those of <code>--out</code>, defined in the README's planner section; "
        "bubble, comm and recompute shares are of the step time."};
    return outfile_write(of, report_html_table_fn, &page, err);
}

static int csv_writer(FILE *out, const void *res)
{
    return write_csv(out, res);
}

/* ---- command line ------------------------------------------------------------------------ */

static int usage_error(FILE *errout, const char *what, const char *value)
{
    return cli_bad_usage(errout, "stepsim plan --help", "plan: %s%s%s%s", what, value ? " '" : "",
                         value ? value : "", value ? "'" : "");
}

static int parse_int_opt(const char *v, long min, long max, int *out)
{
    long x;
    char why[128];
    if (units_parse_int(v, min, max, &x, why, sizeof why) != 0)
        return -1;
    *out = (int)x;
    return 0;
}

int plan_main(int argc, char **argv, FILE *out, FILE *errout)
{
    const char *path = NULL, *csv = NULL, *report = NULL;
    const char *sets[PLAN_MAX_SETS];
    int nsets = 0;
    struct plan_opts o = {0, 5, 0, 0};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(plan_usage, out);
            fputs("\nEnumerates tp, pp (uneven end stages when layers need them), vp, cp, ep/etp,\n"
                  "micro-batch, schedule, recompute and distributed optimizer for N GPUs and the\n"
                  "scenario's global batch; drops layouts that break a rule or do not fit in HBM;\n"
                  "simulates the rest in order of a lower bound on the step time and stops once\n"
                  "the K-th best beats the next bound.  --out writes every valid config (status\n"
                  "simulated, oom or pruned); --exhaustive simulates every config that fits;\n"
                  "--report writes the same rows as one self-contained HTML page, a table\n"
                  "sorted by tokens/s that a click on a column header sorts again.\n"
                  "The work grows with the micro-batches per step: --set max-ops=N bounds the\n"
                  "ops (and the memory) of each config checked or simulated.\n",
                  out);
            return 0;
        } else if ((v = cli_opt_value(argc, argv, &i, "--gpus"))) {
            if (parse_int_opt(v, 1, 1L << 24, &o.gpus) != 0)
                return usage_error(errout, "--gpus: expected a GPU count, got", v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--top"))) {
            if (parse_int_opt(v, 1, 10000, &o.top) != 0)
                return usage_error(errout, "--top: expected a count from 1 to 10000, got", v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--out"))) {
            if (!*v)
                return usage_error(errout, "--out needs a file name", NULL);
            csv = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "-j"))) {
            if (parse_int_opt(v, 0, 1024, &o.jobs) != 0)
                return usage_error(errout, "-j: expected a thread count from 0 to 1024, got", v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--set"))) {
            if (!*v)
                return usage_error(errout, "--set needs KEY=VALUE", NULL);
            if (nsets == PLAN_MAX_SETS)
                return usage_error(errout, "too many --set options", NULL);
            sets[nsets++] = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--report"))) {
            if (!*v)
                return usage_error(errout, "--report needs a file name", NULL);
            report = v;
        } else if (strcmp(a, "--exhaustive") == 0) {
            o.exhaustive = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error(errout, "unknown option", a);
        } else if (!path) {
            path = a;
        } else {
            return usage_error(errout, "unexpected argument (one scenario per plan)", a);
        }
    }
    if (!path)
        return usage_error(errout, "needs a scenario file", NULL);
    if (o.gpus == 0)
        return usage_error(errout, "needs --gpus N (the GPU budget)", NULL);

    struct scenario scn;
    struct sim_error err;
    struct plan_result res;
    struct outfile *csv_out = NULL, *report_out = NULL;
    struct outset *outs = NULL;
    err_clear(&err);
    scn_defaults(&scn);
    enum sim_status st = scn_load(&scn, path, &err);
    for (int i = 0; i < nsets && st == SIM_OK; i++)
        st = scn_set_arg(&scn, sets[i], &err);
    if (st == SIM_OK && !scn_is_modelled(&scn))
        st = err_set(&err, SIM_EINPUT, path, 0,
                     "plan needs a modelled scenario (model= and hardware=); this one gives "
                     "explicit costs");
    /* --out is checked (outfile.h) before the search runs, and replaced only at the end. */
    if (st == SIM_OK && !(outs = outset_create()))
        st = err_set(&err, SIM_EFAIL, NULL, 0, "out of memory");
    if (st == SIM_OK)
        st = cli_add_inputs(outs, &scn, &err);
    if (st == SIM_OK && csv)
        st = outset_add(outs, "--out", csv, &csv_out, &err);
    if (st == SIM_OK && report)
        st = outset_add(outs, "--report", report, &report_out, &err);
    int planned = 0;
    if (st == SIM_OK)
        planned = (st = plan_run(&scn, &o, &res, &err)) == SIM_OK;
    if (st == SIM_OK && csv_out)
        st = outfile_write(csv_out, csv_writer, &res, &err);
    if (st == SIM_OK && report_out)
        st = plan_report(report_out, path, &scn, &o, &res, &err);
    if (st == SIM_OK)
        st = outset_commit(outs, &err);
    if (st == SIM_OK && (write_table(out, &scn, &o, &res) != 0 || fflush(out) != 0))
        st = err_set(&err, SIM_EFAIL, NULL, 0, "cannot write the plan to stdout");
    if (planned)
        plan_result_release(&res);
    outset_destroy(outs);
    return st == SIM_OK ? 0 : cli_fail(errout, &err);
}
