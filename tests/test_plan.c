/* test_plan: the planner -- branch and bound gives the exhaustive search's top K, the result
 * does not depend on the thread count, the step-time bounds and the memory prediction are
 * sound on every simulated config, reported configs pass the rules and fit in the usable HBM,
 * the memory knobs (ZeRO / FSDP, recompute, offload) are found when nothing else fits, the
 * framework and --schedules decide the schedules, the HBM reserve decides what fits, the
 * simpler of two configs within 1% is listed first, plan's CSV shares sweep's columns, and
 * scenarios that cannot be planned are input errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <gsl/gsl_errno.h>
#include <libxml/parser.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "columns.h"
#include "helpers.h"
#include "plan.h"
#include "scenario.h"
#include "step.h"
#include "sweep.h"

#define UNIT TOP_SRCDIR "/scenarios/unit.xml"
#define LLAMA TOP_SRCDIR "/scenarios/llama3.1-70b-h100.xml"
#define LLAMA405 TOP_SRCDIR "/scenarios/llama3.1-405b-16k-h100.xml"
#define MIXTRAL TOP_SRCDIR "/scenarios/mixtral-8x7b-h100.xml"

static void setup(void)
{
    gsl_set_error_handler_off(); /* as main does */
    xmlInitParser();
}

TestSuite(plan, .init = setup);

/* The Llama-3.1-70B scenario with the NULL-terminated KEY=VALUE list set on top. */
static void base_with(struct scenario *scn, const char *path, const char *const *sets)
{
    struct sim_error err;
    err_clear(&err);
    scn_defaults(scn);
    cr_assert_eq(scn_load(scn, path, &err), SIM_OK, "%s", err.msg);
    for (; sets && *sets; sets++)
        cr_assert_eq(scn_set_arg(scn, *sets, &err), SIM_OK, "%s: %s", *sets, err.msg);
}

/* Llama-3.1-8B with a 64-sample batch: a space of a few thousand configs. */
static void small_base(struct scenario *scn)
{
    const char *sets[] = {"model=" TOP_SRCDIR "/models/llama3.1-8b.xml", "global-batch=64", NULL};
    base_with(scn, LLAMA, sets);
}

/* Llama-3.1-8B with an 8-sample batch and every framework's knobs: a space small enough to
 * simulate all of it on 8 GPUs (a few seconds). */
static void tiny_base(struct scenario *scn)
{
    const char *sets[] = {"model=" TOP_SRCDIR "/models/llama3.1-8b.xml", "global-batch=8",
                          "framework=any", NULL};
    base_with(scn, LLAMA, sets);
}

static void plan_ok(const struct scenario *base, int gpus, int top, int jobs, int exhaustive,
                    struct plan_result *res)
{
    struct plan_opts o = {.gpus = gpus, .top = top, .jobs = jobs, .exhaustive = exhaustive};
    struct sim_error err;
    err_clear(&err);
    cr_assert_eq(plan_run(base, &o, res, &err), SIM_OK, "plan: %s", err.msg);
    cr_assert_eq(res->ntop, (size_t)top);
    cr_assert_leq(res->valid, res->n);
    cr_assert_eq(res->oom + res->simulated + res->pruned, res->valid);
}

/* `path` with `sets` planned for `gpus` GPUs, top 3 on 2 threads, pruned: *base and *res. */
static void plan_base(const char *path, const char *const *sets, int gpus, struct scenario *base,
                      struct plan_result *res)
{
    base_with(base, path, sets);
    plan_ok(base, gpus, 3, 2, 0, res);
}

/* Every simulated config: the bound is a lower bound, the memory predicted before simulating
 * is the simulated report's, and it fits. */
static void expect_sound(const struct plan_result *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct plan_entry *e = &r->entries[i];
        if (e->state != PLAN_SIMULATED)
            continue;
        cr_expect_leq(e->bound, e->step, "config %zu: bound %lld > step %lld", i,
                      (long long)e->bound, (long long)e->step);
        cr_expect_leq(e->mem_bytes, e->hbm_bytes, "config %zu simulated but over HBM", i);
        cr_expect_float_eq(r->rows[e->row].memory_B, e->mem_bytes, 1e-9 * e->mem_bytes);
    }
}

/* Field by field (struct padding is not compared). */
static int same_config(const struct plan_config *a, const struct plan_config *b)
{
    return a->tp == b->tp && a->pp == b->pp && a->vp == b->vp && a->cp == b->cp &&
           a->ep == b->ep && a->etp == b->etp && a->micro_batch == b->micro_batch &&
           a->first_layers == b->first_layers && a->last_layers == b->last_layers &&
           a->schedule == b->schedule &&
           a->zero == b->zero && a->keep_gathered == b->keep_gathered &&
           a->recompute == b->recompute && a->recompute_modules == b->recompute_modules &&
           a->offload == b->offload;
}

/* bb's list is the first of ex's (the same configs, steps and order). */
static void expect_top_prefix(const struct plan_result *bb, const struct plan_result *ex)
{
    cr_assert_leq(bb->ntop, ex->ntop);
    for (size_t t = 0; t < bb->ntop; t++) {
        const struct plan_entry *a = &bb->entries[bb->top[t]], *b = &ex->entries[ex->top[t]];
        cr_expect_eq(bb->top[t], ex->top[t], "rank %zu differs", t + 1);
        cr_expect(same_config(&a->cfg, &b->cfg), "rank %zu config", t + 1);
        cr_expect_eq(a->step, b->step, "rank %zu step", t + 1);
    }
}

static void expect_same_top(const struct plan_result *bb, const struct plan_result *ex)
{
    cr_assert_eq(bb->ntop, ex->ntop);
    expect_top_prefix(bb, ex);
}

/* Layouts with a simulated config; with `tied`, only those with two or more simulated configs
 * within 1% of the layout's fastest (knob variants the list calls a tie). */
static size_t layouts_simulated(const struct plan_result *r, int tied)
{
    size_t n = 0;
    for (size_t l = 0; l < r->nlayouts; l++) {
        const struct plan_layout *L = &r->layouts[l];
        simtime_t fastest = SIMTIME_MAX;
        size_t near = 0;
        for (size_t i = L->first; i < L->first + L->n; i++)
            if (r->entries[i].state == PLAN_SIMULATED && r->entries[i].step < fastest)
                fastest = r->entries[i].step;
        for (size_t i = L->first; i < L->first + L->n; i++)
            near += r->entries[i].state == PLAN_SIMULATED &&
                    (double)r->entries[i].step <= 1.01 * (double)fastest;
        n += tied ? near >= 2 : near >= 1;
    }
    return n;
}

Test(plan, pruned_top_equals_exhaustive)
{
    struct scenario base;
    tiny_base(&base);
    struct plan_result bb, ex;
    plan_ok(&base, 8, 5, 2, 0, &bb);
    plan_ok(&base, 8, 5, 2, 1, &ex);
    cr_expect_eq(ex.pruned, 0);
    cr_expect_gt(bb.pruned, 0, "the bound pruned nothing on %zu configs", bb.valid);
    cr_expect_lt(bb.simulated, ex.simulated / 10, "%zu of %zu simulated", bb.simulated,
                 ex.simulated);
    cr_expect_lt(bb.built, ex.built / 4, "%zu of %zu built", bb.built, ex.built);
    /* The knobs cost little here: a third of the layouts or more have several configs within
     * 1% of their fastest, which the list treats as a tie (over half while overlapped
     * communication cost 12% of the shorter side, not the measured 18.9%).  The search
     * simulates one or two configs of a layout it opens, not each of them (it used to simulate
     * every variant under its threshold: 9 per layout here, thousands of slow ones on a huge
     * batch). */
    size_t tied = layouts_simulated(&ex, 1), opened = layouts_simulated(&bb, 0);
    cr_expect_gt(tied, ex.nlayouts / 3, "%zu of %zu layouts with ties", tied, ex.nlayouts);
    cr_expect_leq(bb.simulated, 2 * opened, "%zu simulated in %zu layouts", bb.simulated, opened);
    expect_same_top(&bb, &ex);
    expect_sound(&ex);
    /* Offloading the optimizer to the host is slower than the GPU's update on a DGX H100 (55
     * GB/s to the host against HBM), so it cannot shorten a step: a config's bound for the
     * configs differing from it only in offload is its own (the search may have raised the
     * latter by a few picoseconds of rounding from a sibling's; without the host's time the
     * optimizer step, some milliseconds, came off). */
    size_t offload_bounds = 0;
    for (size_t i = 0; i < ex.n; i++) {
        const struct plan_entry *e = &ex.entries[i];
        if (e->built == 1 && e->cfg.offload == 0 && ex.layouts[e->layout].offload_opt) {
            cr_expect_leq(e->bound - e->bound_offload, 1000, "config %zu: %lld vs %lld", i,
                          (long long)e->bound_offload, (long long)e->bound);
            offload_bounds++;
        }
    }
    cr_expect_gt(offload_bounds, 100);
    /* A DualPipe pair hides its partner's communication but takes at least as long as it: a
     * config whose activations go to the host (transfers a partner must cover) is bounded no
     * lower than the same config without offload, and above it where the transfers outgrow
     * the work that could hide them. */
    size_t dual_offload = 0, dual_above = 0;
    for (size_t i = 0; i < ex.n; i++) {
        const struct plan_entry *e = &ex.entries[i];
        if (e->built != 1 || e->cfg.schedule != &sched_dualpipe ||
            e->cfg.offload != PLAN_OFFLOAD_ACTIVATIONS)
            continue;
        for (size_t j = ex.layouts[e->layout].first; j < i; j++) {
            const struct plan_entry *f = &ex.entries[j];
            const struct plan_config *a = &e->cfg, *b = &f->cfg;
            if (f->built == 1 && b->offload == 0 && b->zero == a->zero &&
                b->recompute == a->recompute && b->keep_gathered == a->keep_gathered &&
                b->recompute_modules == a->recompute_modules) {
                cr_expect_geq(e->bound, f->bound, "config %zu vs %zu", i, j);
                dual_above += e->bound > f->bound;
                dual_offload++;
            }
        }
    }
    cr_expect_gt(dual_offload, 10);
    /* 62 of 152 here; 43 when the pair bound counted each op's work alone */
    cr_expect_gt(dual_above, dual_offload / 3, "%zu of %zu", dual_above, dual_offload);
    /* Every schedule family and memory knob was simulated, so their bounds are checked. */
    size_t dual = 0, dual_v = 0, zero3 = 0, offload = 0, full = 0, selective = 0;
    for (size_t i = 0; i < ex.n; i++) {
        const struct plan_entry *e = &ex.entries[i];
        if (e->state != PLAN_SIMULATED)
            continue;
        dual += e->cfg.schedule == &sched_dualpipe;
        dual_v += e->cfg.schedule == &sched_dualpipev;
        zero3 += e->cfg.zero == 3;
        offload += e->cfg.offload != 0;
        full += e->cfg.recompute == RECOMPUTE_FULL;
        selective += e->cfg.recompute == RECOMPUTE_SELECTIVE;
    }
    cr_expect_gt(dual, 100, "DualPipe configs simulated: %zu", dual);
    cr_expect_gt(dual_v, 100, "DualPipeV configs simulated: %zu", dual_v);
    cr_expect_gt(zero3, 100, "ZeRO-3 configs simulated: %zu", zero3);
    cr_expect_gt(offload, 100, "offload configs simulated: %zu", offload);
    cr_expect_gt(full, 100, "full recompute configs simulated: %zu", full);
    cr_expect_gt(selective, 100, "selective recompute configs simulated: %zu", selective);
    plan_result_release(&bb);
    plan_result_release(&ex);
}

/* The cut that leaves layouts out moves with K (1% over the K-th best listed step): for each K
 * the list is the first K of the exhaustive one (plan_rank lists greedily, so a longer list
 * only adds), in two spaces of ties -- every framework's knobs on 8 GPUs, torchtitan's on
 * 16. */
Test(plan, pruned_top_is_the_exhaustive_one_for_any_k)
{
    struct scenario tiny, titan;
    tiny_base(&tiny);
    const char *sets[] = {"model=" TOP_SRCDIR "/models/llama3.1-8b.xml", "global-batch=32",
                          "framework=torchtitan", NULL};
    base_with(&titan, LLAMA, sets);
    const struct {
        const struct scenario *base;
        int gpus;
    } spaces[] = {{&tiny, 8}, {&titan, 16}};
    static const int ks[] = {1, 3, 12, 40};
    for (size_t sp = 0; sp < sizeof spaces / sizeof spaces[0]; sp++) {
        struct plan_result ex;
        plan_ok(spaces[sp].base, spaces[sp].gpus, 40, 2, 1, &ex);
        for (size_t k = 0; k < sizeof ks / sizeof ks[0]; k++) {
            struct plan_result bb;
            plan_ok(spaces[sp].base, spaces[sp].gpus, ks[k], 2, 0, &bb);
            expect_top_prefix(&bb, &ex);
            expect_sound(&bb);
            plan_result_release(&bb);
        }
        plan_result_release(&ex);
    }
}

/* The peak memory needs each layout's whole schedule order built; layouts that run the same
 * order (schedule, pp, vp and micro-batch count: tp, cp, ep and micro-batch size variants)
 * share one build -- what keeps a huge global batch (millions of ops per order) from taking
 * minutes.  (The memory-knob configs of a layout share its build whatever the grouping.) */
Test(plan, each_schedule_order_is_built_once)
{
    struct scenario base;
    small_base(&base);
    struct plan_result res;
    plan_ok(&base, 32, 5, 2, 0, &res);
    cr_expect_gt(res.orders, 0);
    cr_expect_lt(res.orders * 2, res.nlayouts, "%zu orders built for %zu rule-valid layouts",
                 res.orders, res.nlayouts);
    plan_result_release(&res);
}

/* The config of `i` with another schedule, in the same plan (the same knobs), or NULL. */
static const struct plan_entry *twin(const struct plan_result *r, size_t i,
                                     const struct sched_type *t)
{
    struct plan_config c = r->entries[i].cfg;
    c.schedule = t;
    for (size_t j = i; j-- > 0 && j + 4000 > i;)
        if (same_config(&r->entries[j].cfg, &c))
            return &r->entries[j];
    return NULL;
}

/* With framework=any the planner tries ZB-H1 beside 1F1B (one chunk per rank, pp > 1) and ZB-V
 * beside interleaved (two chunks): ZB-H1 needs at least 1F1B's memory (every rank holds p
 * activations until their W's); simulated, a zero-bubble schedule leaves less pipeline bubble
 * than its twin (ZB-V from 2p-1 micro-batches on). */
Test(plan, zero_bubble_beside_1f1b)
{
    struct scenario base;
    tiny_base(&base);
    struct plan_result ex;
    plan_ok(&base, 8, 5, 2, 1, &ex);
    size_t zb = 0, zbv = 0, both = 0, shorter = 0;
    for (size_t i = 0; i < ex.n; i++) {
        const struct plan_entry *e = &ex.entries[i];
        int h1 = e->cfg.schedule == &sched_zbh1, v = e->cfg.schedule == &sched_zbv;
        if (!h1 && !v)
            continue;
        zb++;
        zbv += v;
        cr_assert(e->cfg.pp > 1 && e->cfg.vp == (v ? 2 : 1), "entry %zu", i);
        const struct plan_entry *tw = twin(&ex, i, h1 ? &sched_1f1b : &sched_interleaved);
        if (!tw) {
            /* Interleaved rejects micro-batch counts ZB-V runs; 1F1B rejects none. */
            cr_assert(v, "entry %zu: no 1F1B twin", i);
            continue;
        }
        if (h1 && e->built == 1 && tw->built == 1)
            cr_expect_geq(e->mem_bytes, tw->mem_bytes, "entry %zu", i);
        /* ZB-V's order is laid out for at least 2p-1 micro-batches; below that it drops ops
         * and can leave more bubble than interleaving (pp2 vp2 m2 does here). */
        int zb_regime = h1 || e->microbatches >= 2 * e->cfg.pp - 1;
        /* Compared without ZeRO-2/3 and offload: their traffic is heaviest on ZB-V's rank 0,
         * which holds both the embedding and the LM head, and the waits it causes are not
         * the schedule's bubble. */
        zb_regime &= e->cfg.zero <= 1 && e->cfg.offload == 0;
        if (zb_regime && e->state == PLAN_SIMULATED && tw->state == PLAN_SIMULATED) {
            const struct col_row *a = &ex.rows[e->row], *b = &ex.rows[tw->row];
            both++;
            /* Within 0.5% of the step: where an unoverlapped DP all-reduce over many ranks
             * dominates the idle time, deferring W shifts it by a hair either way. */
            cr_expect_lt(a->brk.bubble, b->brk.bubble + 0.005 * b->step_time_s,
                         "entry %zu (pp%d vp%d m%d zero%d rc%d off%d): zero-bubble %.4f s of "
                         "bubble, its twin %.4f s",
                         i, e->cfg.pp, e->cfg.vp, e->microbatches, e->cfg.zero, e->cfg.recompute,
                         e->cfg.offload, a->brk.bubble, b->brk.bubble);
            shorter += e->step < tw->step;
        }
    }
    cr_expect_gt(zb, 0);
    cr_expect_gt(zbv, 0);
    cr_expect_gt(both, 0);
    cr_expect_gt(shorter, both / 2, "ZB shorter in only %zu of %zu layouts", shorter, both);
    plan_result_release(&ex);
}

static void expect_same(const struct plan_result *a, const struct plan_result *b)
{
    cr_assert_eq(a->n, b->n);
    cr_expect_eq(a->simulated, b->simulated);
    cr_expect_eq(a->pruned, b->pruned);
    cr_expect_eq(a->oom, b->oom);
    cr_expect_eq(a->built, b->built);
    for (size_t t = 0; t < a->ntop; t++)
        cr_expect_eq(a->top[t], b->top[t]);
    for (size_t i = 0; i < a->n; i++) {
        const struct plan_entry *x = &a->entries[i], *y = &b->entries[i];
        cr_expect(same_config(&x->cfg, &y->cfg), "config %zu", i);
        cr_expect_eq(x->state, y->state, "config %zu state", i);
        cr_expect_eq(x->bound, y->bound, "config %zu bound", i);
        cr_expect_eq(x->step, y->step, "config %zu step", i);
        cr_expect(x->mem_bytes == y->mem_bytes || (isnan(x->mem_bytes) && isnan(y->mem_bytes)),
                  "config %zu memory", i);
    }
}

Test(plan, independent_of_threads)
{
    struct scenario base;
    small_base(&base);
    struct plan_result a, b;
    plan_ok(&base, 64, 3, 1, 0, &a);
    plan_ok(&base, 64, 3, 2, 0, &b);
    expect_same(&a, &b);
    plan_result_release(&a);
    plan_result_release(&b);
}

/* Every reported config, rebuilt as a scenario and run the ordinary way, passes the rules,
 * fits in the usable HBM and takes the reported time. */
static void check_top(const struct scenario *base, int gpus, const struct plan_result *res)
{
    for (size_t t = 0; t < res->ntop; t++) {
        const struct plan_entry *e = &res->entries[res->top[t]];
        struct scenario scn;
        struct step_output so;
        struct sim_error err;
        err_clear(&err);
        cr_assert_eq(plan_config_apply(base, res->framework, gpus, &e->cfg, &scn, &err), SIM_OK,
                     "%s", err.msg);
        cr_assert_eq(step_run(&scn, &so, &err), SIM_OK, "top %zu: %s", t + 1, err.msg);
        cr_expect_eq(so.res.step_end - so.res.first_start, e->step, "top %zu step", t + 1);
        cr_expect_eq(so.cm.cfg.tp * so.cm.cfg.cp * so.cm.cfg.pp * so.cm.cfg.dp, gpus);
        cr_expect_leq(so.cm.cfg.tp, so.cm.cfg.gpus_per_node, "tp stays in the node");
        cr_expect_eq(so.cm.cfg.zero, e->cfg.zero, "top %zu ZeRO stage", t + 1);
        for (int r = 0; r < so.rep.pp; r++)
            cr_expect(!so.rep.mem[r].oom, "top %zu rank %d over HBM", t + 1, r);
        step_release(&so);
    }
}

/* Configs ruled out by memory before simulating (up to 8) really are out of memory, by the
 * memory the planner predicted; how many were checked. */
static int expect_oom_as_simulated(const struct scenario *base, int gpus,
                                   const struct plan_result *res)
{
    int checked = 0;
    for (size_t i = 0; i < res->n && checked < 8; i++) {
        const struct plan_entry *e = &res->entries[i];
        if (e->state != PLAN_OOM || e->built != 1)
            continue;
        struct scenario scn;
        struct step_output so;
        struct sim_error err;
        err_clear(&err);
        cr_assert_eq(plan_config_apply(base, res->framework, gpus, &e->cfg, &scn, &err), SIM_OK,
                     "%s", err.msg);
        cr_assert_eq(step_run(&scn, &so, &err), SIM_OK, "%s", err.msg);
        int oom = 0;
        double peak = 0;
        for (int r = 0; r < so.rep.pp; r++) {
            oom |= so.rep.mem[r].oom;
            peak = so.rep.mem[r].total > peak ? so.rep.mem[r].total : peak;
        }
        cr_expect(oom, "config %zu predicted over HBM but fits", i);
        cr_expect_float_eq(peak, e->mem_bytes, 1e-9 * peak, "config %zu memory", i);
        step_release(&so);
        checked++;
    }
    return checked;
}

Test(plan, top_configs_pass_rules_and_fit)
{
    struct scenario base;
    small_base(&base);
    struct plan_result res;
    plan_ok(&base, 32, 5, 0, 0, &res);
    check_top(&base, 32, &res);
    cr_expect_gt(expect_oom_as_simulated(&base, 32, &res), 0);
    plan_result_release(&res);
}

Test(plan, moe_uses_expert_parallelism)
{
    struct scenario base;
    base_with(&base, MIXTRAL, NULL);
    struct plan_result res;
    plan_ok(&base, 64, 3, 2, 0, &res);
    check_top(&base, 64, &res);
    int ep = 0, moe_act = 0;
    for (size_t i = 0; i < res.n; i++) {
        ep |= res.entries[i].cfg.ep > 1;
        moe_act |= (res.entries[i].cfg.recompute_modules & RC_MOE_ACT) != 0;
    }
    cr_expect(ep, "no config with ep > 1 was enumerated");
    cr_expect(moe_act, "no selective recompute of the experts' activation was enumerated");
    plan_result_release(&res);
}

/* --dispatchers all: where experts are spread (ep > 1) each layout runs under alltoall,
 * allgather and DeepEP on a DGX H100 (HybridEP on GB200, which does not run DeepEP), each
 * config built and bounded under its own; the pruned list is still the exhaustive one, and
 * no slower at its head than the scenario's dispatcher alone (the space holds that plan). */
Test(plan, dispatchers_searched_keep_the_exhaustive_list)
{
    struct scenario base;
    const char *sets[] = {"global-batch=64", NULL};
    base_with(&base, MIXTRAL, sets);
    struct plan_opts o = {.gpus = 16, .top = 5, .jobs = 2};
    o.dispatchers[0] = PLAN_ALL_DISPATCHERS;
    struct plan_result bb, ex, one;
    struct sim_error err;
    cr_assert_eq(plan_run(&base, &o, &bb, &err), SIM_OK, "%s", err.msg);
    o.exhaustive = 1;
    cr_assert_eq(plan_run(&base, &o, &ex, &err), SIM_OK, "%s", err.msg);
    expect_same_top(&bb, &ex);
    expect_sound(&ex);
    cr_expect_eq(bb.ndispatchers, 3);
    int seen[4] = {0}, spread_without = 0;
    for (size_t i = 0; i < ex.n; i++) {
        const struct plan_config *c = &ex.entries[i].cfg;
        if (c->dispatcher > 0 && ex.entries[i].state == PLAN_SIMULATED)
            seen[c->dispatcher - 1]++;
        spread_without += c->ep > 1 && c->dispatcher == 0;
    }
    cr_expect(seen[DISPATCH_ALLTOALL] && seen[DISPATCH_ALLGATHER] && seen[DISPATCH_DEEPEP],
              "simulated: %d alltoall, %d allgather, %d deepep", seen[0], seen[1], seen[2]);
    cr_expect_eq(seen[DISPATCH_HYBRIDEP], 0);
    cr_expect_eq(spread_without, 0, "every ep > 1 config names its dispatcher");
    struct plan_opts plain = {.gpus = 16, .top = 5, .jobs = 2};
    cr_assert_eq(plan_run(&base, &plain, &one, &err), SIM_OK, "%s", err.msg);
    cr_expect_leq(bb.entries[bb.top[0]].step, one.entries[one.top[0]].step);
    plan_result_release(&bb);
    plan_result_release(&ex);
    plan_result_release(&one);
    const char *gb[] = {"global-batch=64", "hardware=gb200-nvl72", NULL};
    base_with(&base, MIXTRAL, gb);
    o.exhaustive = 0;
    cr_assert_eq(plan_run(&base, &o, &bb, &err), SIM_OK, "%s", err.msg);
    cr_expect_eq(bb.dispatchers[2], DISPATCH_HYBRIDEP + 1, "GB200's flex backend");
    plan_result_release(&bb);
}

/* deepep-sms and an fp8 wire given: the all-to-all configs' scenarios drop both (run refuses
 * them beside a non-flex dispatcher), the DeepEP ones keep both, and neither drops a key it
 * sets itself. */
Test(plan, configs_drop_the_flex_keys_beside_an_all_to_all_dispatcher)
{
    struct scenario base;
    const char *sets[] = {"global-batch=64", "deepep-sms=24", "moe-dispatch-dtype=fp8", NULL};
    base_with(&base, MIXTRAL, sets);
    struct plan_opts o = {.gpus = 16, .top = 5, .jobs = 2};
    o.dispatchers[0] = DISPATCH_ALLTOALL + 1;
    o.dispatchers[1] = DISPATCH_DEEPEP + 1;
    struct plan_result res;
    struct sim_error err;
    cr_assert_eq(plan_run(&base, &o, &res, &err), SIM_OK, "%s", err.msg);
    int seen[4] = {0};
    unsigned char dropped[SCN_KEY_COUNT];
    for (size_t i = 0; i < res.n; i++) {
        const struct plan_config *c = &res.entries[i].cfg;
        if (c->dispatcher == 0 || seen[c->dispatcher - 1]++)
            continue;
        cr_assert_eq(plan_config_dropped(&base, res.framework, 16, c, dropped, &err), SIM_OK,
                     "%s", err.msg);
        int a2a = c->dispatcher == DISPATCH_ALLTOALL + 1;
        cr_expect_eq(dropped[SCN_DEEPEP_SMS], a2a, "dispatcher %d", c->dispatcher);
        cr_expect_eq(dropped[SCN_MOE_DISPATCH_DTYPE], a2a, "dispatcher %d", c->dispatcher);
        /* --out's per-row answer, from the config alone, agrees with its scenario's */
        cr_expect_eq(plan_config_drops_flex(c), a2a, "dispatcher %d", c->dispatcher);
        cr_expect_eq(dropped[SCN_GLOBAL_BATCH] + dropped[SCN_TP] + dropped[SCN_EP] +
                         dropped[SCN_MOE_DISPATCHER],
                     0);
    }
    cr_expect(seen[DISPATCH_ALLTOALL] && seen[DISPATCH_DEEPEP], "%d alltoall, %d deepep",
              seen[DISPATCH_ALLTOALL], seen[DISPATCH_DEEPEP]);
    plan_result_release(&res);
}

/* DeepSeek-V3 on 512 H100 (the guide's scenario): the configs it lists fit the host too.  Its
 * first pick had been ZeRO-3 with the optimizer and every module's activations offloaded --
 * 456 GiB a GPU on a host of 256 GiB a GPU (a DGX H100's 2 TiB over 8); check_top runs each
 * and finds neither HBM nor host memory exceeded. */
Test(plan, listed_configs_fit_the_hosts_memory)
{
    struct scenario base;
    base_with(&base, TOP_SRCDIR "/scenarios/moe-guide/deepseek-v3.xml", NULL);
    struct plan_result res;
    plan_ok(&base, 512, 3, 2, 0, &res);
    check_top(&base, 512, &res);
    plan_result_release(&res);
}

/* With Megatron-Core's expert-parallel overlap the memory the planner predicts before
 * simulating, from the schedule's order alone, is the simulated one: a pair's F takes its B's
 * place (pipeline.h pair_peak).  Checked on the configs it rules out of memory unsimulated. */
Test(plan, ep_overlap_memory_as_simulated)
{
    struct scenario base;
    struct plan_result res;
    const char *sets[] = {"overlap-ep-comm=true", "global-batch=512", NULL};
    plan_base(MIXTRAL, sets, 64, &base, &res);
    check_top(&base, 64, &res);
    cr_expect_gt(expect_oom_as_simulated(&base, 64, &res), 0);
    plan_result_release(&res);
}

/* Llama-3.1-70B on one node of 8 H100: 70B parameters x 16 bytes of weights, gradients and
 * Adam state is 140 GB per GPU unsharded -- no layout fits with plain data parallelism or
 * the distributed optimizer (ZeRO-1: one replica per tp x pp = 8 shards nothing, or the
 * weights alone fill the GPU).  Only ZeRO-2/3 or offloading the optimizer makes room, and
 * the planner, which explores them, finds such layouts; every config without them is out
 * of memory. */
Test(plan, memory_knobs_found_when_nothing_else_fits)
{
    struct scenario base;
    const char *sets[] = {"global-batch=16", NULL};
    base_with(&base, LLAMA, sets);
    struct plan_result bb, ex;
    plan_ok(&base, 8, 3, 2, 0, &bb);
    plan_ok(&base, 8, 3, 2, 1, &ex);
    expect_same_top(&bb, &ex);
    expect_sound(&ex);
    check_top(&base, 8, &bb);
    for (size_t t = 0; t < bb.ntop; t++) {
        const struct plan_config *c = &bb.entries[bb.top[t]].cfg;
        cr_expect(c->zero >= 2 || (c->offload & PLAN_OFFLOAD_OPTIMIZER),
                  "top %zu fits without ZeRO-2/3 or optimizer offload", t + 1);
    }
    size_t plain = 0;
    for (size_t i = 0; i < ex.n; i++) {
        const struct plan_entry *e = &ex.entries[i];
        if (e->built < 0 || e->cfg.zero >= 2 || (e->cfg.offload & PLAN_OFFLOAD_OPTIMIZER))
            continue;
        plain++;
        cr_expect_eq(e->state, PLAN_OOM, "config %zu (ZeRO-%d, offload %d) fits", i, e->cfg.zero,
                     e->cfg.offload);
    }
    cr_expect_gt(plain, 1000);
    plan_result_release(&bb);
    plan_result_release(&ex);
    /* A framework offering neither (DeepSeek's: ZeRO-1, no offload) finds nothing. */
    scn_set_arg(&base, "framework=deepseek", NULL);
    struct plan_opts o = {.gpus = 8, .top = 3, .jobs = 2};
    struct plan_result none;
    struct sim_error err;
    err_clear(&err);
    cr_assert_eq(plan_run(&base, &o, &none, &err), SIM_OK, "%s", err.msg);
    cr_expect_eq(none.ntop, 0);
    cr_expect_gt(none.nnearest, 0);
    plan_result_release(&none);
}

/* The schedules considered: the framework's (megatron-core, inferred for the shipped Llama
 * scenario: 1f1b and interleaved -- never DualPipe), any's (DualPipe among them), or
 * --schedules'. */
Test(plan, framework_and_schedules_decide_the_schedules)
{
    struct scenario base;
    small_base(&base);
    struct plan_result r;
    plan_ok(&base, 32, 3, 2, 0, &r);
    cr_expect_eq(r.framework->id, FW_MEGATRON_CORE);
    cr_expect(r.framework_inferred);
    for (size_t i = 0; i < r.n; i++)
        cr_expect(r.entries[i].cfg.schedule == &sched_1f1b ||
                      r.entries[i].cfg.schedule == &sched_interleaved,
                  "config %zu: schedule %s under megatron-core", i,
                  r.entries[i].cfg.schedule->name);
    plan_result_release(&r);

    scn_set_arg(&base, "framework=any", NULL);
    plan_ok(&base, 32, 3, 2, 0, &r);
    size_t dual = 0;
    for (size_t i = 0; i < r.n; i++)
        dual += r.entries[i].cfg.schedule == &sched_dualpipe;
    cr_expect_gt(dual, 0, "framework=any enumerates DualPipe");
    plan_result_release(&r);

    struct plan_opts o = {.gpus = 32, .top = 3, .jobs = 2, .schedules = {&sched_zbh1, &sched_zbv}};
    struct sim_error err;
    err_clear(&err);
    cr_assert_eq(plan_run(&base, &o, &r, &err), SIM_OK, "%s", err.msg);
    for (size_t i = 0; i < r.n; i++)
        cr_expect(r.entries[i].cfg.schedule == &sched_zbh1 ||
                      r.entries[i].cfg.schedule == &sched_zbv,
                  "config %zu: schedule %s not asked for", i, r.entries[i].cfg.schedule->name);
    cr_expect_gt(r.n, 0);
    plan_result_release(&r);

    /* A framework the scenario names refuses a schedule it does not offer. */
    scn_set_arg(&base, "framework=megatron-core", NULL);
    struct plan_opts dp = {.gpus = 32, .top = 3, .jobs = 2, .schedules = {&sched_dualpipe}};
    cr_expect_eq(plan_run(&base, &dp, &r, &err), SIM_EINPUT);
    cr_expect(strstr(err.msg, "--schedules: dualpipe is not offered by framework=megatron-core"),
              "%s", err.msg);
}

/* framework=deepspeed: its pipeline engine's 1F1B only, ZeRO 0-1 once pp > 1, context
 * parallelism as Ulysses (a2a) -- and each config it lists passes that framework's check;
 * framework=deepseek runs no context parallelism at all. */
Test(plan, deepspeed_and_deepseek_keep_to_their_offers)
{
    struct scenario base;
    small_base(&base);
    scn_set_arg(&base, "framework=deepspeed", NULL);
    struct plan_result r;
    plan_ok(&base, 32, 3, 2, 0, &r);
    cr_expect_eq(r.cp_comm, CP_A2A, "the scenario's p2p becomes DeepSpeed-Ulysses");
    size_t cp = 0;
    for (size_t i = 0; i < r.n; i++) {
        const struct plan_config *c = &r.entries[i].cfg;
        cr_expect(c->schedule == &sched_1f1b, "config %zu: %s", i, c->schedule->name);
        cr_expect(c->pp == 1 || c->zero <= 1, "config %zu: zero %d with pp %d", i, c->zero, c->pp);
        cp += c->cp > 1;
    }
    cr_expect_gt(cp, 0, "Ulysses layouts are explored");
    for (size_t k = 0; k < r.ntop; k++) {
        struct scenario s;
        struct sim_error err;
        err_clear(&err);
        cr_assert_eq(plan_config_apply(&base, r.framework, 32, &r.entries[r.top[k]].cfg, &s, &err),
                     SIM_OK);
        if (r.entries[r.top[k]].cfg.cp > 1)
            cr_assert_eq(scn_set_key(&s, SCN_CP_COMM_TYPE, "a2a", &err), SIM_OK);
        cr_expect_eq(fw_check(fw_get(FW_DEEPSPEED), &s, &err), SIM_OK, "top %zu: %s", k, err.msg);
    }
    plan_result_release(&r);

    scn_set_arg(&base, "framework=deepseek", NULL);
    scn_set_arg(&base, "recompute=none", NULL);
    plan_ok(&base, 32, 3, 2, 0, &r);
    cr_expect_eq(r.cp_comm, -1);
    for (size_t i = 0; i < r.n; i++)
        cr_expect_eq(r.entries[i].cfg.cp, 1, "config %zu: cp %d under deepseek", i,
                     r.entries[i].cfg.cp);
    plan_result_release(&r);
}

/* Plan Llama-3.1-8B (global batch 32) on 16 GPUs under framework setting `fw`, with one more
 * KEY=VALUE (or NULL). */
static void plan_llama8b(const char *fw, const char *extra, struct plan_result *r)
{
    struct scenario base;
    const char *sets[] = {"model=" TOP_SRCDIR "/models/llama3.1-8b.xml", "global-batch=32", fw,
                          extra, NULL};
    base_with(&base, LLAMA, sets);
    plan_ok(&base, 16, 3, 2, 0, r);
}

/* torchtitan's selective mode is its per-op policy: on a dense model every selective config
 * the planner tries for torchtitan recomputes op, and none under Megatron-Core does; nor does
 * Megatron-Core's name layernorm, whose norms a dense model without MLA fuses into the next
 * linear (nothing to recompute: the config would be the no-recompute one again). */
Test(plan, torchtitan_recomputes_selectively_with_its_op_policy)
{
    static const char *const fws[] = {"framework=torchtitan", "framework=megatron-core"};
    for (int f = 0; f < 2; f++) {
        struct plan_result r;
        plan_llama8b(fws[f], NULL, &r);
        size_t selective = 0;
        for (size_t i = 0; i < r.n; i++) {
            const struct plan_config *c = &r.entries[i].cfg;
            if (c->recompute != RECOMPUTE_SELECTIVE)
                continue;
            selective++;
            cr_expect_eq(c->recompute_modules == RC_OP, f == 0, "%s config %zu: modules %#x",
                         fws[f], i, (unsigned)c->recompute_modules);
            cr_expect_eq(c->recompute_modules & RC_LAYERNORM, 0, "%s config %zu: layernorm",
                         fws[f], i);
        }
        cr_expect_gt(selective, 0, "%s: selective configs explored", fws[f]);
        plan_result_release(&r);
    }
}

/* A Megatron-FSDP recipe with hybrid sharding (Nemotron 3 Ultra's: fsdp-group, the optimizer
 * split again over the groups): the planner shards whole data-parallel groups, so it drops the
 * recipe's grouping -- and the outer sharding that needs it, which had failed every config
 * with a rule -- and still plans. */
Test(plan, a_hybrid_sharded_recipe_plans_without_its_groups)
{
    struct scenario base;
    struct plan_result r;
    const char *sets[] = {"model=" TOP_SRCDIR "/models/llama3.1-8b.xml", "global-batch=32",
                          "zero=3", "fsdp-group=8", "fsdp-outer-shard=optim", NULL};
    base_with(&base, LLAMA, sets);
    plan_ok(&base, 16, 3, 2, 0, &r);
    cr_assert_gt(r.valid, 0);
    plan_result_release(&r);
}

/* Muon under Megatron-Core: the planner explores its state replicated or sharded layer-wise
 * (ZeRO 0 or 1), never on the host; torchtitan's DistMuon over FSDP2 keeps ZeRO 3. */
Test(plan, muon_keeps_to_the_stages_its_framework_shards_it_over)
{
    static const char *const fws[] = {"framework=megatron-core", "framework=torchtitan"};
    static const unsigned stages[] = {(1u << 0) | (1u << 1), (1u << 0) | (1u << 3)};
    for (int f = 0; f < 2; f++) {
        struct plan_result r;
        plan_llama8b(fws[f], "optimizer-algorithm=muon", &r);
        unsigned seen = 0;
        for (size_t i = 0; i < r.n; i++) {
            const struct plan_config *c = &r.entries[i].cfg;
            seen |= 1u << c->zero;
            cr_expect_eq(c->offload & PLAN_OFFLOAD_OPTIMIZER, 0, "%s config %zu offloads",
                         fws[f], i);
        }
        cr_expect_eq(seen & ~stages[f], 0, "%s: stages %#x explored", fws[f], seen);
        cr_expect(seen & ~1u, "%s: a sharded stage explored (%#x)", fws[f], seen);
        plan_result_release(&r);
    }
}

/* The planner counts the usable HBM: a config 1 GiB under the capacity fits with no reserve
 * and is out of memory behind a 3 GiB one, as on a GPU whose CUDA context and NCCL buffers
 * take their share ("79 of 80 GiB" is rejected); so it is behind 1.5 GiB of NCCL buffers per
 * communicator (8 GPUs: at least one parallel group).  The shipped files reserve 0.6 GiB and
 * 0.6 GiB per communicator. */
Test(plan, reserve_reduces_what_fits)
{
    struct scenario base;
    small_base(&base);
    struct plan_result r;
    plan_ok(&base, 8, 1, 2, 0, &r);
    size_t i = r.top[0];
    double need = r.entries[i].mem_bytes;
    cr_expect_float_eq(r.hbm_bytes - r.hbm_usable_bytes, 0.6 * 1073741824.0, 1.0);
    cr_expect_float_eq(r.nccl_buffers_bytes, 0.6 * 1073741824.0, 1.0);
    plan_result_release(&r);
    char hbm[64];
    snprintf(hbm, sizeof hbm, "hw.hbm=%.0fB", need + 1073741824.0);
    scn_set_arg(&base, hbm, NULL);
    scn_set_arg(&base, "hw.hbm-reserve=0B", NULL);
    scn_set_arg(&base, "hw.nccl-buffers=0B", NULL);
    plan_ok(&base, 8, 1, 2, 0, &r);
    cr_expect_neq(r.entries[i].state, PLAN_OOM, "no reserve: %.2f GiB fits in %.2f GiB",
                  need / 1073741824.0, r.hbm_usable_bytes / 1073741824.0);
    plan_result_release(&r);
    scn_set_arg(&base, "hw.hbm-reserve=3GiB", NULL);
    plan_ok(&base, 8, 1, 2, 0, &r);
    cr_expect_eq(r.entries[i].state, PLAN_OOM, "a 3 GiB reserve: %.2f GiB in %.2f GiB usable",
                 need / 1073741824.0, r.hbm_usable_bytes / 1073741824.0);
    for (size_t k = 0; k < r.n; k++)
        if (r.entries[k].state == PLAN_SIMULATED)
            cr_expect_leq(r.entries[k].mem_bytes, r.hbm_usable_bytes, "config %zu", k);
    plan_result_release(&r);
    scn_set_arg(&base, "hw.hbm-reserve=0B", NULL);
    scn_set_arg(&base, "hw.nccl-buffers=1.5GiB", NULL);
    plan_ok(&base, 8, 1, 2, 0, &r);
    cr_expect_eq(r.entries[i].state, PLAN_OOM, "1.5 GiB of NCCL buffers: %.2f GiB in %.2f GiB",
                 need / 1073741824.0, r.entries[i].hbm_bytes / 1073741824.0);
    cr_expect_leq(r.entries[i].hbm_bytes, r.hbm_usable_bytes - 1.5 * 1073741824.0);
    plan_result_release(&r);
}

/* "Simpler": fewer parallel dimensions, smaller tp and vp, less recompute, offload and
 * sharding, a standard schedule.  Within 1% the simpler config is listed first; beyond, the
 * faster. */
Test(plan, tie_break_lists_the_simpler_within_one_percent)
{
    struct plan_config interleaved = {.tp = 8, .pp = 2, .vp = 5, .cp = 1, .ep = 1, .etp = 1,
                                      .micro_batch = 1, .schedule = &sched_interleaved, .zero = 1};
    struct plan_config flat = {.tp = 8, .pp = 1, .vp = 1, .cp = 1, .ep = 1, .etp = 1,
                               .micro_batch = 1, .schedule = &sched_1f1b, .zero = 1};
    cr_expect_lt(plan_simpler(&flat, &interleaved), 0);
    cr_expect_gt(plan_simpler(&interleaved, &flat), 0);
    cr_expect_eq(plan_simpler(&flat, &flat), 0);
    struct plan_config recompute = flat, offload = flat, zero3 = flat, dual = flat;
    recompute.recompute = RECOMPUTE_FULL;
    offload.offload = PLAN_OFFLOAD_OPTIMIZER;
    zero3.zero = 3;
    dual.schedule = &sched_dualpipev;
    cr_expect_lt(plan_simpler(&flat, &recompute), 0);
    cr_expect_lt(plan_simpler(&offload, &recompute), 0, "recompute counts before offload");
    cr_expect_lt(plan_simpler(&zero3, &offload), 0, "offload counts before sharding");
    cr_expect_lt(plan_simpler(&dual, &zero3), 0, "sharding counts before the schedule");
    struct plan_config zero0 = flat;
    zero0.zero = 0;
    cr_expect_eq(plan_simpler(&zero0, &flat), 0, "ZeRO-0 and ZeRO-1 alike");

    struct plan_entry e[2];
    memset(e, 0, sizeof e);
    e[0].cfg = interleaved;
    e[0].step = 10000; /* the faster */
    e[1].cfg = flat;
    e[1].step = 10090; /* 0.9% slower, simpler */
    size_t cand[2] = {0, 1}, out[2];
    cr_assert_eq(plan_rank(e, cand, 2, 2, out), 2);
    cr_expect_eq(out[0], 1, "within 1%: the simpler first");
    cr_expect_eq(out[1], 0);
    e[1].step = 10200; /* 2% slower */
    cr_assert_eq(plan_rank(e, cand, 2, 2, out), 2);
    cr_expect_eq(out[0], 0, "beyond 1%: the faster first");
    cr_expect_eq(plan_rank(e, cand, 2, 1, out), 1);
}

/* Run `stepsim COMMAND ARGS...`; its exit status, stdout and stderr (freed by the caller). */
static int run_plan(const char *const *args, char **out, char **errtext)
{
    return run_command(plan_main, "plan", args, out, errtext);
}

Test(plan, scenario_without_model_is_input_error)
{
    char *out, *err;
    const char *args[] = {UNIT, "--gpus", "8", NULL};
    cr_expect_eq(run_plan(args, &out, &err), 2);
    cr_expect(strstr(err, "plan needs a modelled scenario"), "stderr: %s", err);
    cr_expect_eq(out[0], '\0');
    free(out);
    free(err);
}

Test(plan, bad_options_and_budgets)
{
    char *out, *err;
    const char *no_gpus[] = {LLAMA, NULL};
    cr_expect_eq(run_plan(no_gpus, &out, &err), 2);
    cr_expect(strstr(err, "--gpus"), "stderr: %s", err);
    free(out);
    free(err);
    const char *bad_top[] = {LLAMA, "--gpus", "64", "--top", "zero", NULL};
    cr_expect_eq(run_plan(bad_top, &out, &err), 2);
    free(out);
    free(err);
    /* the range, as --top says its own (it had read "expected a GPU count" alone) */
    const char *too_many[] = {LLAMA, "--gpus", "99999999", NULL};
    cr_expect_eq(run_plan(too_many, &out, &err), 2);
    cr_expect(strstr(err, "--gpus: expected a GPU count from 1 to 16777216, got '99999999'"),
              "stderr: %s", err);
    free(out);
    free(err);
    /* all is the whole set, not one of a list (it had read "unknown dispatcher 'all' (known:
     * all, or ...)") */
    const char *all_listed[] = {MIXTRAL, "--gpus", "64", "--dispatchers", "alltoall,all", NULL};
    cr_expect_eq(run_plan(all_listed, &out, &err), 2);
    cr_expect_str_eq(err, "stepsim: plan: --dispatchers: all stands alone (it names alltoall, "
                          "allgather and a flex backend); give it or a list, got 'alltoall,all' "
                          "(see 'stepsim plan --help')\n");
    free(out);
    free(err);
    const char *bad_sched[] = {LLAMA, "--gpus", "64", "--schedules", "1f1b,zigzag", NULL};
    cr_expect_eq(run_plan(bad_sched, &out, &err), 2);
    cr_expect(strstr(err, "unknown schedule 'zigzag'"), "stderr: %s", err);
    free(out);
    free(err);
    /* A modelled base without global-batch: */
    struct scenario scn;
    struct sim_error e;
    err_clear(&e);
    scn_defaults(&scn);
    cr_assert_eq(scn_set_arg(&scn, "model=" TOP_SRCDIR "/models/llama3.1-8b.xml", &e), SIM_OK);
    cr_assert_eq(scn_set_arg(&scn, "hardware=" TOP_SRCDIR "/hardware/dgx-h100.xml", &e), SIM_OK);
    cr_assert_eq(scn_set_arg(&scn, "seq=4096", &e), SIM_OK);
    struct plan_opts o = {.gpus = 64, .top = 5, .jobs = 1};
    struct plan_result res;
    cr_expect_eq(plan_run(&scn, &o, &res, &e), SIM_EINPUT);
    cr_expect(strstr(e.msg, "plan needs global-batch (samples per step: <batch global-batch=...> "
                            "or --set global-batch=N)"),
              "message: %s", e.msg);
    /* and without seq: each message says where to give it (they had named the key alone) */
    cr_assert_eq(scn_set_arg(&scn, "global-batch=64", &e), SIM_OK);
    cr_assert_eq(scn_set_arg(&scn, "seq=default", &e), SIM_OK, "%s", e.msg);
    cr_expect_eq(plan_run(&scn, &o, &res, &e), SIM_EINPUT);
    cr_expect(strstr(e.msg, "plan needs seq (tokens per sample: <batch seq=...> or --set seq=N)"),
              "message: %s", e.msg);
}

/* --hbm-reserve is --set hw.hbm-reserve: the two together give the key twice, an error naming
 * both in either order (the later had won, so one value was dropped without a word). */
Test(plan, hbm_reserve_option_and_set_together_are_refused)
{
    static const char *const orders[][5] = {
        {"--hbm-reserve", "2GiB", "--set", "hw.hbm-reserve=5GiB",
         "stepsim: hw.hbm-reserve given twice (--hbm-reserve 2GiB, then --set "
         "hw.hbm-reserve=5GiB); give each key once (see 'stepsim plan --help')\n"},
        {"--set", "hw.hbm-reserve=5GiB", "--hbm-reserve", "2GiB",
         "stepsim: hw.hbm-reserve given twice (--set hw.hbm-reserve=5GiB, then --hbm-reserve "
         "2GiB); give each key once (see 'stepsim plan --help')\n"}};
    for (size_t i = 0; i < 2; i++) {
        char *out, *err;
        const char *args[] = {LLAMA,        "--gpus",     "64",         "--top",      "1",
                              orders[i][0], orders[i][1], orders[i][2], orders[i][3], NULL};
        cr_expect_eq(run_plan(args, &out, &err), 2, "order %zu", i);
        cr_expect_str_eq(err, orders[i][4]);
        cr_expect_str_empty(out);
        free(out);
        free(err);
    }
}

/* A --top past the layouts that fit lists them all and says so under the list, which the
 * header had promised K long: Llama-3.1-8B on one GPU at 8,192 tokens fits at micro-batch 1,
 * 2, 4 and 8 (16 needs 124.5 GiB with full recompute and the optimizer offloaded, the least of
 * its configs: module offload does not run beside full recompute). */
Test(plan, fewer_layouts_than_the_top_asked_for_are_said_to_be_all)
{
    char *out, *err;
    const char *args[] = {LLAMA, "--gpus",   "1", "--set", "model=llama3.1-8b",
                          "--top", "20", NULL};
    cr_assert_eq(run_plan(args, &out, &err), 0, "stderr: %s", err);
    cr_expect(strstr(out, " mbs8 ") && !strstr(out, " mbs16 "), "%s", out);
    cr_expect(strstr(out, "\n4    tp1 ") && !strstr(out, "\n5    tp1 "), "%s", out);
    cr_expect(strstr(out, "\nonly 4 of the 10 rule-valid layouts fit; all 4 are listed\n"), "%s",
              out);
    free(out);
    free(err);
    /* every rule-valid layout fits: said so, not "only 1 of the 1 ... all 1 are listed" */
    const char *one[] = {LLAMA, "--gpus", "64", "--set", "tp=8", "--set", "pp=8", "--set", "cp=1",
                         "--set", "vp=1", "--set", "micro-batch=1", "--set", "global-batch=16",
                         NULL};
    cr_assert_eq(run_plan(one, &out, &err), 0, "stderr: %s", err);
    cr_expect(strstr(out, "\nthe one rule-valid layout fits; it is listed\n"), "%s", out);
    /* counts of one are singular: not "(in 1 layouts), ... (1 schedule orders)" */
    cr_expect(strstr(out, "\nconfigs: 12 enumerated, 10 not found to break a rule (in 1 layout), "
                          "8 built (1 schedule order), 0 over HBM or host memory, "),
              "%s", out);
    free(out);
    free(err);
    /* one of several fits: "only 1 of the 10 ... fits; it is listed", not "fit; all 1 are" */
    const char *one_of[] = {LLAMA, "--gpus", "1", "--set", "model=llama3.1-8b", "--set",
                            "hw.hbm=40GiB", "--top", "20", NULL};
    cr_assert_eq(run_plan(one_of, &out, &err), 0, "stderr: %s", err);
    cr_expect(strstr(out, "\nonly 1 of the 10 rule-valid layouts fits; it is listed\n"), "%s",
              out);
    free(out);
    free(err);
    const char *four[] = {LLAMA, "--gpus", "64", "--set", "tp=8", "--set", "pp=8", "--set",
                          "cp=1", "--set", "vp=1", "--set", "global-batch=8", NULL};
    cr_assert_eq(run_plan(four, &out, &err), 0, "stderr: %s", err);
    cr_expect(strstr(out, "\nall 4 rule-valid layouts fit; all are listed\n"), "%s", out);
    free(out);
    free(err);
}

/* An inferred framework lets --schedules name a schedule it does not run, planned with its
 * knobs; the header and the page say which (the header had read "framework megatron-core ...;
 * schedules 1f1b, dualpipe", a schedule run refuses under framework=megatron-core). */
Test(plan, schedules_the_inferred_framework_does_not_run_are_named_so)
{
    char *out, *err;
    const char *args[] = {LLAMA, "--gpus", "64", "--top", "1", "--schedules", "1f1b,dualpipe",
                          NULL};
    cr_assert_eq(run_plan(args, &out, &err), 0, "stderr: %s", err);
    cr_expect(strstr(out, "; schedules 1f1b, dualpipe (not megatron-core's: --schedules); "
                          "context parallelism p2p\n"),
              "%s", out);
    free(out);
    free(err);
}

/* The header names the model and hardware planned for: --set hardware=... does not rename
 * the scenario, whose name says H100. */
Test(plan, header_names_the_hardware_planned_for)
{
    char *out, *err;
    const char *args[] = {LLAMA, "--gpus", "64", "--top", "1", "--set", "hardware=dgx-b200",
                          "-j", "2", NULL};
    cr_expect_eq(run_plan(args, &out, &err), 0, "stderr: %s", err);
    cr_expect(strstr(out, " (llama3.1-70b on dgx-b200): 64 GPUs, "), "%s", out);
    free(out);
    free(err);
}

/* One GPU is "1 GPU" in the header and in the nearest budget (both had read "1 GPUs"). */
Test(plan, one_gpu_is_said_in_the_singular)
{
    char *out, *err;
    const char *one[] = {LLAMA, "--set", "model=llama2-7b", "--set", "seq=4096", "--gpus", "1",
                         "--top", "1", "-j", "1", NULL};
    cr_expect_eq(run_plan(one, &out, &err), 0, "stderr: %s", err);
    cr_expect(strstr(out, " (llama2-7b on dgx-h100): 1 GPU, global batch "), "%s", out);
    free(out);
    free(err);
    /* dp 2 cannot split one sample: 1 GPU has a layout, nothing above 2 within 64 does */
    const char *two[] = {LLAMA, "--gpus", "2", "--set", "global-batch=1", "--set", "tp=1",
                         "--set", "cp=1", "--set", "pp=1", NULL};
    cr_expect_eq(run_plan(two, &out, &err), 2);
    cr_expect(strstr(err, "; the nearest budget that has one: 1 GPU (none from 3 to 66)\n"), "%s",
              err);
    free(out);
    free(err);
}

/* The scenario's offload-modules holds in every layout (the header says so) and stands in for
 * the planner's own activation-offload option: the two offload the same activations. */
Test(plan, offload_by_module_replaces_the_share_option)
{
    struct scenario base;
    struct plan_result res;
    const char *sets[] = {"global-batch=16", "offload-modules=core_attn,attn_proj", NULL};
    plan_base(LLAMA, sets, 8, &base, &res);
    for (size_t i = 0; i < res.n; i++)
        cr_expect(!(res.entries[i].cfg.offload & PLAN_OFFLOAD_ACTIVATIONS), "config %zu", i);
    plan_result_release(&res);
    char *out, *err;
    const char *args[] = {LLAMA, "--gpus", "8", "--top", "1", "--set", "global-batch=16",
                          "--set", "offload-modules=core_attn,attn_proj", "-j", "2", NULL};
    cr_expect_eq(run_plan(args, &out, &err), 0, "stderr: %s", err);
    cr_expect(strstr(out, "in every layout: offload-modules=core_attn,attn_proj"), "%s", out);
    free(out);
    free(err);
}

/* The activation-offload option as the framework runs it: Megatron-Core's (inferred for the
 * Llama scenario) is offload-modules=all, which runs with pipelining and recompute; framework
 * any's a share of every saved activation. */
static void check_activation_offload(const char *framework, int want_modules)
{
    struct scenario base;
    struct plan_result res;
    const char *sets[] = {"global-batch=16", framework, NULL};
    plan_base(LLAMA, sets, 8, &base, &res);
    size_t checked = 0;
    for (size_t i = 0; i < res.n && checked < 3; i++) {
        const struct plan_entry *e = &res.entries[i];
        if (!(e->cfg.offload & PLAN_OFFLOAD_ACTIVATIONS) || e->cfg.pp < 2 ||
            e->cfg.recompute != RECOMPUTE_SELECTIVE)
            continue;
        struct scenario scn;
        struct step_output so;
        struct sim_error err;
        err_clear(&err);
        cr_assert_eq(plan_config_apply(&base, res.framework, 8, &e->cfg, &scn, &err), SIM_OK, "%s",
                     err.msg);
        cr_expect_eq(scn.offload_modules, want_modules ? OM_ALL : 0, "config %zu", i);
        cr_expect_eq(scn.offload_activations, want_modules ? 0.0 : 1.0, "config %zu", i);
        cr_assert_eq(step_run(&scn, &so, &err), SIM_OK, "config %zu: %s", i, err.msg);
        cr_expect_gt(so.cm.cfg.offload_modules, want_modules ? 0 : -1);
        step_release(&so);
        checked++;
    }
    cr_expect_eq(checked, 3, "configs with pp > 1, selective recompute and activation offload");
    plan_result_release(&res);
}

Test(plan, activation_offload_as_the_framework_runs_it)
{
    check_activation_offload("framework=megatron-core", 1);
    check_activation_offload("framework=any", 0);
}

/* Llama-3.1-405B on 8 GPUs: 101 GB of bf16 weights per GPU at best -- nothing fits.  That is
 * a result (exit 0, the layouts needing least memory listed) unless --fail-on-oom makes it
 * exit 2 (DESIGN: bad input). */
Test(plan, nothing_fits_and_fail_on_oom)
{
    char *out, *err;
    const char *args[] = {LLAMA405, "--gpus", "8", "--top", "2", "-j", "2", NULL};
    cr_expect_eq(run_plan(args, &out, &err), 0, "stderr: %s", err);
    /* every config is over its usable HBM, so only that is named: some are over the host's
     * memory too, but none in HBM is */
    cr_expect(strstr(out, "no layout fits in its usable HBM; the 2 nearest to fitting (least HBM "
                          "short plus host memory short, then least HBM):"),
              "%s", out);
    cr_expect(strstr(out, "\n1    tp8 pp1 "), "%s", out);
    /* of_GiB: tp 8 alone is one communicator, 80 - 0.6 - 0.6 GiB less 3 GiB of TP-overlap
     * userbuffers (12 of 8192 x 16384 in bf16): 75.8 usable */
    const char *first = strstr(out, "\n1    tp8 pp1 ");
    cr_expect(first && strstr(first + 1, " 75.8\n") == strchr(first + 1, '\n') - 5, "%s", out);
    free(out);
    free(err);
    const char *fail[] = {LLAMA405, "--gpus", "8", "--top", "2", "--fail-on-oom", "-j", "2", NULL};
    cr_expect_eq(run_plan(fail, &out, &err), 2);
    /* tp 8 alone: 80 GiB less 0.6, one communicator's 0.6 and 3 GiB of userbuffers */
    cr_expect(strstr(err, "no layout of the model on gpus=8 fits in its usable HBM (the nearest "
                          "needs "),
              "stderr: %s", err);
    /* ... and its optimizer, offloaded, needs more than the host's 256 GiB per GPU: 405.85e9
     * parameters x 12 bytes (fp32 master, two moments) / 8 GPUs = 567.0 GiB */
    cr_expect(strstr(err, " GiB of 75.8 GiB usable, and offloads 567.0 GiB to the host's 256.0 "
                          "GiB) (--fail-on-oom)"),
              "stderr: %s", err);
    cr_expect(strstr(out, "no layout fits"), "the plan is printed first: %s", out);
    free(out);
    free(err);
    const char *fits[] = {LLAMA, "--gpus", "256", "--top", "1", "--fail-on-oom", "-j", "2", NULL};
    cr_expect_eq(run_plan(fits, &out, &err), 0, "stderr: %s", err);
    free(out);
    free(err);
}

Test(plan, table_and_summary)
{
    char *out, *err;
    const char *args[] = {
        LLAMA, "--gpus", "64", "--top", "3", "--set", "model=" TOP_SRCDIR "/models/llama3.1-8b.xml",
        "--set", "global-batch=64", "-j", "1", NULL};
    cr_assert_eq(run_plan(args, &out, &err), 0, "stderr: %s", err);
    cr_expect(strstr(out, "\nframework megatron-core (inferred from the scenario"), "%s", out);
    cr_expect(strstr(out, "; schedules 1f1b, interleaved; context parallelism p2p\n"), "%s", out);
    cr_expect(strstr(out, "\nHBM 80.0 GiB per GPU less 0.6 GiB reserved (CUDA context, "
                          "fragmentation; --hbm-reserve SIZE), 0.6 GiB of NCCL buffers per "
                          "parallel group of more than one GPU (hw.nccl-buffers), with "
                          "DeepEP's buffer and Transformer Engine's TP-overlap userbuffers where "
                          "they run: what is left for each layout is of_GiB; offload may fill "
                          "256.0 GiB of host memory per GPU\n"),
              "%s", out);
    cr_expect(strstr(out, "\n1    tp"), "%s", out);
    cr_expect(strstr(out, "\n3    tp"), "%s", out);
    cr_expect(!strstr(out, "\n4    tp"), "%s", out);
    cr_expect(strstr(out, " enumerated, "), "%s", out);
    cr_expect(strstr(out, "pruned by the step-time bound"), "%s", out);
    /* the list is no plain sort by tokens/s: the header and the legend say so */
    cr_expect(strstr(out, ", top 3 by tokens/s, the simpler first within 1%\n"), "%s", out);
    cr_expect(strstr(out, "; each row is a layout's simplest config within 1% of its fastest, "
                          "and of the layouts within 1% of the fastest one not yet listed the "
                          "simplest comes next: a row may be up to 1% slower than one below "
                          "it, or than a layout left out of the list (--top K lists more); "),
              "%s", out);
    free(out);
    free(err);
    /* --hbm-reserve is --set hw.hbm-reserve */
    const char *reserve[] = {LLAMA, "--gpus", "64",    "--top", "1", "--hbm-reserve", "10GiB",
                             "--set", "global-batch=64", "-j", "1", NULL};
    cr_assert_eq(run_plan(reserve, &out, &err), 0, "stderr: %s", err);
    cr_expect(strstr(out, "less 10.0 GiB reserved"), "%s", out);
    char *out2, *err2;
    const char *set[] = {LLAMA,   "--gpus",          "64", "--top", "1", "--set",
                         "hw.hbm-reserve=10GiB", "--set", "global-batch=64", "-j", "1", NULL};
    cr_assert_eq(run_plan(set, &out2, &err2), 0, "stderr: %s", err2);
    const char *a = strstr(out, "\n1 "), *b = strstr(out2, "\n1 ");
    cr_assert(a && b);
    cr_expect(strncmp(a, b, strcspn(a + 1, "\n")) == 0, "%s\nvs\n%s", a, b);
    free(out);
    free(err);
    free(out2);
    free(err2);
    /* a reserve just under the HBM does not read as all of it ("80.0") */
    const char *most[] = {LLAMA, "--gpus", "8", "--top", "1", "--hbm-reserve", "79.97GiB", NULL};
    cr_assert_eq(run_plan(most, &out, &err), 0, "stderr: %s", err);
    cr_expect(strstr(out, "\nHBM 80.0 GiB per GPU less 79.97 GiB reserved (CUDA context, "),
              "%s", out);
    free(out);
    free(err);
    const char *bad[] = {LLAMA, "--gpus", "64", "--hbm-reserve", "90GiB", NULL};
    cr_expect_eq(run_plan(bad, &out, &err), 2);
    /* named once, as typed: not "--hbm-reserve hw.hbm-reserve=90GiB" */
    cr_expect_str_eq(err, "stepsim: --hbm-reserve 90GiB: '90GiB' is not below the HBM "
                          "capacity\n");
    free(out);
    free(err);
    char long_size[80];
    snprintf(long_size, sizeof long_size, "%070dB", 1);
    const char *too_long[] = {LLAMA, "--gpus", "64", "--hbm-reserve", long_size, NULL};
    cr_expect_eq(run_plan(too_long, &out, &err), 2);
    cr_expect_str_eq(err, "stepsim: --hbm-reserve: value too long\n");
    free(out);
    free(err);
}

/* The "configs:" line's numbers from a plan's output: rule-valid, oom, simulated, pruned and
 * the pruned never built (0 when the line names none). */
static void config_counts_of(const char *out, size_t n[5])
{
    const char *line = strstr(out, "\nconfigs: ");
    cr_assert(line, "%s", out);
    cr_assert_eq(sscanf(line, "\nconfigs: %*u enumerated, %zu not found to break a rule (in "
                              "%*u layouts), %*u built (%*u schedule orders), %zu "
                              "over HBM or host memory, %zu simulated, %zu pruned",
                        &n[0], &n[1], &n[2], &n[3]),
                 4, "%s", line);
    const char *u = strstr(line, "pruned by the step-time bound (");
    n[4] = 0;
    if (u)
        cr_assert_eq(sscanf(u, "pruned by the step-time bound (%zu of them not built: their "
                               "rules and memory unchecked)",
                            &n[4]),
                     1, "%s", line);
}

/* Only a built config's rules are checked: the pruned configs never built are not called
 * rule-valid without saying so.  Llama-3 70B LoRA on 8 GPUs: --exhaustive builds them all and
 * finds thousands breaking a rule (ZeRO-2/3 with LoRA's frozen base, ...), which the pruned
 * plan counts among its configs -- each counted once, as out of memory, simulated or pruned. */
Test(plan, counts_say_the_pruned_configs_not_built_are_unchecked)
{
    char *out, *err, *xout, *xerr;
    const char *plain[] = {TOP_SRCDIR "/scenarios/llama3-70b-lora-h100.xml", "--gpus", "8",
                           "-j", "1", NULL};
    const char *exh[] = {TOP_SRCDIR "/scenarios/llama3-70b-lora-h100.xml", "--gpus", "8",
                         "--exhaustive", "-j", "1", NULL};
    cr_assert_eq(run_plan(plain, &out, &err), 0, "%s", err);
    cr_assert_eq(run_plan(exh, &xout, &xerr), 0, "%s", xerr);
    size_t p[5], x[5];
    config_counts_of(out, p);
    config_counts_of(xout, x);
    cr_expect_eq(p[1] + p[2] + p[3], p[0]);
    cr_expect_eq(x[1] + x[2] + x[3], x[0]);
    cr_expect_eq(x[3], 0, "--exhaustive prunes nothing");
    cr_expect_eq(x[4], 0, "%s", xout);
    cr_expect_null(strstr(xout, "not built: their rules"), "%s", xout);
    cr_expect_gt(p[0], x[0], "the plan counts configs --exhaustive finds breaking a rule");
    cr_expect_geq(p[4], p[0] - x[0], "each of them among the unchecked: %zu, %zu", p[4],
                  p[0] - x[0]);
    cr_expect_leq(p[4], p[3]);
    free(out);
    free(err);
    free(xout);
    free(xerr);
}

/* plan sets distributed-optimizer with zero; a file giving distributed-optimizer=true and no
 * zero runs ZeRO-1, so a listed zero0 config's run-it line must say zero=0 (the value of the
 * zero key alone, 0 in both, said nothing).  Qwen3-30B-A3B LoRA on 64 GPUs lists zero0
 * first; run without zero=0 gave its step but 12.76 GiB for the row's 12.82. */
Test(plan, run_line_says_zero_0_over_the_files_distributed_optimizer)
{
    char *out, *err;
    const char *args[] = {TOP_SRCDIR "/scenarios/qwen3-30b-a3b-lora-h100.xml", "--gpus", "64",
                          "--top", "1", "-j", "1", NULL};
    cr_assert_eq(run_plan(args, &out, &err), 0, "%s", err);
    cr_expect(strstr(out, "\n1    tp1 pp1 vp1 cp2 ep8/1 dp32 mbs1 1f1b zero0 "), "%s", out);
    cr_expect(strstr(out, "/scenarios/qwen3-30b-a3b-lora-h100.xml --set gpus=64 --set tp=1 "
                          "--set cp=2 --set ep=8 --set sp=false --set zero=0\n"),
              "%s", out);
    free(out);
    free(err);
}

/* A selective config under torchtitan's per-op policy shows as rc:op, and the legend says so:
 * Llama-3.1-70B on 32 GPUs, where FSDP alone does not fit at every width. */
Test(plan, the_table_names_torchtitans_op_policy)
{
    char path[128];
    snprintf(path, sizeof path, "/tmp/stepsim-plan-tt70-%ld.xml", (long)getpid());
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<scenario name=\"tt70\">\n"
               "  <model ref=\"%s/models/llama3.1-70b.xml\"/>\n"
               "  <hardware ref=\"%s/hardware/dgx-h100.xml\"/>\n  <parallel gpus=\"32\"/>\n"
               "  <batch micro-batch=\"1\" global-batch=\"64\" seq=\"8192\"/>\n"
               "  <training framework=\"torchtitan\" dtype=\"bf16\"/>\n</scenario>\n",
            TOP_SRCDIR, TOP_SRCDIR);
    fclose(f);
    char *out, *err;
    const char *args[] = {path, "--gpus", "32", "--top", "40", "-j", "1", NULL};
    cr_assert_eq(run_plan(args, &out, &err), 0, "stderr: %s", err);
    unlink(path);
    cr_expect(strstr(out, " rc:op "), "%s", out);
    cr_expect(strstr(out, "op: torchtitan's per-op policy"), "%s", out);
    free(out);
    free(err);
}

/* The first line of a file. */
static void first_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    cr_assert(f, "%s", path);
    cr_assert(fgets(buf, (int)len, f));
    fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
}

/* A whole file as a heap string (freed by the caller). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert(f, "%s", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0); /* capture reads up to the position */
    return capture(f);
}

/* Llama-3.1-70B on 8 GPUs of 40 GiB whose host holds 32 GiB a GPU: what fits in HBM offloads
 * the optimizer, 70.6e9 x 12 bytes / 8 = 98.6 GiB a GPU, three times the host's.  So nothing
 * fits, and the nearest are ranked by what they lack in both (a layout in HBM but 66.6 GiB
 * over the host is not nearer than one 1 GiB over HBM and 60 over the host); the --out rows
 * over the host's memory say fits=no even where the planner built them but did not simulate
 * them (it had said yes: the flag was not kept). */
Test(plan, nothing_fits_ranks_the_nearest_by_hbm_and_host_memory_short)
{
    char csv[] = "/tmp/stepsim-test-plan-host-XXXXXX";
    int fd = mkstemp(csv);
    cr_assert(fd >= 0);
    close(fd);
    char *out, *err;
    const char *args[] = {LLAMA, "--gpus", "8", "--set", "global-batch=16", "--set",
                          "hw.hbm=40GiB", "--set", "hw.host-memory=32GiB", "--top", "3",
                          "--out", csv, "-j", "2", NULL};
    cr_assert_eq(run_plan(args, &out, &err), 0, "stderr: %s", err);
    cr_expect(strstr(out, "no layout fits in its usable HBM and the host's memory; the 3 nearest "
                          "to fitting (least HBM short plus host memory short, then least HBM):"),
              "%s", out);
    cr_expect(strstr(out, "host 98.6 GiB of 32.0: over the host's memory"), "%s", out);
    /* the listed order is by shortfall: each line's (mem - of)+ + (98.6 - 32)+ never falls */
    double last = 0;
    int listed = 0;
    for (const char *l = strstr(out, "\n1    "); l; l = strstr(l + 1, "\n")) {
        double mem, of;
        char lay[256];
        int rank;
        if (sscanf(l + 1, "%d %255[^-]- - - - %lf %lf", &rank, lay, &mem, &of) != 4)
            continue;
        double shortfall = (mem > of ? mem - of : 0) + (98.6 - 32.0);
        cr_expect_geq(shortfall, last - 1e-9, "rank %d: %s", rank, out);
        last = shortfall;
        listed++;
    }
    cr_expect_eq(listed, 3, "%s", out);
    free(out);
    free(err);
    char *rows = slurp(csv);
    int oom = 0;
    for (char *save = NULL, *line = strtok_r(rows, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
        if (strstr(line, ",oom,")) {
            oom++;
            cr_expect(!strstr(line, ",yes,"), "an out-of-memory row says it fits: %s", line);
        }
    cr_expect_gt(oom, 100);
    cr_expect(!strstr(rows, ",ok,"), "nothing ran:\n%.2000s", rows);
    free(rows);
    unlink(csv);
}

/* plan --out and sweep write the result columns under the same names in the same order,
 * from status to fits; plan's rows carry pruned and oom configs too. */
Test(plan, csv_shares_sweep_columns)
{
    char plan_csv[] = "/tmp/stepsim-test-plan-XXXXXX";
    int fd = mkstemp(plan_csv);
    cr_assert(fd >= 0);
    close(fd);
    char *out, *err;
    const char *args[] = {LLAMA,    "--gpus", "64", "--top", "2", "--set",
                          "model=" TOP_SRCDIR "/models/llama3.1-8b.xml", "--out", plan_csv,
                          "-j",     "2",      NULL};
    cr_assert_eq(run_plan(args, &out, &err), 0, "stderr: %s", err);
    free(out);
    free(err);
    char pline[2048], sline[2048];
    first_line(plan_csv, pline, sizeof pline);
    const char *sargs[] = {LLAMA, "--vary", "pp=2,4", NULL};
    cr_assert_eq(run_command(sweep_main, "sweep", sargs, &out, &err), 0, "stderr: %s", err);
    snprintf(sline, sizeof sline, "%.*s", (int)strcspn(out, "\n"), out);
    free(out);
    free(err);
    const char *ps = strstr(pline, ",status,"), *ss = strstr(sline, ",status,");
    const char *pe = strstr(pline, ",fits"), *se = strstr(sline, ",fits");
    cr_assert(ps && ss && pe && se, "plan: %s\nsweep: %s", pline, sline);
    cr_expect_eq(pe - ps, se - ss, "plan: %s\nsweep: %s", pline, sline);
    cr_expect(strncmp(ps, ss, (size_t)(pe - ps)) == 0, "plan: %s\nsweep: %s", pline, sline);
    cr_expect(strstr(pline, ",step_time_s,") && strstr(pline, ",tokens_per_s,") &&
                  strstr(pline, ",mfu,") && strstr(pline, ",memory_gib,") &&
                  strstr(pline, ",bubble_ratio,") && strstr(pline, ",hbm_reserve_gib,"),
              "%s", pline);
    cr_expect(strncmp(pline, "dp,gpus,tp,pp,vp,cp,ep,etp,moe-dispatcher,micro-batch,microbatches,",
                      67) == 0,
              "%s",
              pline);
    /* status values */
    FILE *f = fopen(plan_csv, "r");
    cr_assert(f);
    char line[4096];
    int ok = 0, pruned = 0, oom = 0;
    while (fgets(line, sizeof line, f)) {
        ok += strstr(line, ",ok,") != NULL;
        pruned += strstr(line, ",pruned,") != NULL;
        oom += strstr(line, ",oom,") != NULL;
    }
    fclose(f);
    unlink(plan_csv);
    cr_expect(ok > 0 && pruned > 0 && oom > 0, "ok %d pruned %d oom %d", ok, pruned, oom);
}

/* Split one CSV line into at most `max` fields, in place: a field in double quotes may hold
 * commas, and "" within it is one quote.  How many fields. */
static int csv_fields(char *line, char **field, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    char *p = line;
    while (n < max) {
        char *w = p;
        field[n++] = w;
        if (*p == '"') {
            for (p++; *p && !(p[0] == '"' && p[1] != '"'); p++)
                *w++ = *p == '"' ? *++p : *p; /* "" -> " */
            if (*p == '"')
                p++;
        } else {
            while (*p && *p != ',')
                *w++ = *p++;
        }
        char end = *p;
        *w = '\0';
        if (end != ',')
            break;
        p++;
    }
    return n;
}

/* A CSV field as a finite number; the test fails on anything else. */
static double csv_number(const char *field)
{
    char *end;
    errno = 0;
    double v = strtod(field, &end);
    cr_assert(end != field && *end == '\0' && errno == 0 && isfinite(v), "not a number: '%s'",
              field);
    return v;
}

/* A --out row's `listed` place is the printed list's line of that number, at the row's step
 * (the list prints it to 4 decimals): 1 for a row found there. */
static int expect_listed_as_printed(const char *out, const char *place, const char *step_s)
{
    char tag[16], step[32];
    snprintf(tag, sizeof tag, "\n%s ", place);
    snprintf(step, sizeof step, " %.4f ", csv_number(step_s));
    const char *l = strstr(out, tag);
    cr_assert(l, "listed %s: no such line in\n%s", place, out);
    const char *end = strchr(l + 1, '\n');
    size_t len = end ? (size_t)(end - l) : strlen(l);
    char text[512];
    snprintf(text, sizeof text, "%.*s", (int)len, l);
    cr_expect(strstr(text, step), "listed %s at %s s, but the list's line is%s", place, step_s,
              text);
    return 1;
}

/* Every simulated row of `path` planned for `gpus` (with `sets`) runs again, from its CSV
 * columns given as --set values on the same scenario, to the same step time and memory: the
 * layout columns say what was simulated ("default" where a config leaves a key the scenario
 * sets unset).  How many rows were run. */
static int expect_csv_rows_rerun(const char *path, const char *gpus, const char *const *sets,
                                 const char *const *opts)
{
    char csv[] = "/tmp/stepsim-test-plan-rerun-XXXXXX";
    int fd = mkstemp(csv);
    cr_assert(fd >= 0);
    close(fd);
    const char *args[32] = {path, "--gpus", gpus, "--out", csv, "-j", "2"};
    int na = 7;
    for (int i = 0; sets && sets[i]; i++) {
        args[na++] = "--set";
        args[na++] = sets[i];
    }
    for (int i = 0; opts && opts[i]; i++)
        args[na++] = opts[i];
    args[na] = NULL;
    char *out, *err;
    cr_assert_eq(run_plan(args, &out, &err), 0, "stderr: %s", err);
    free(err);
    FILE *f = fopen(csv, "r");
    cr_assert(f);
    static char header[8192], line[8192];
    char *name[128], *value[128];
    cr_assert(fgets(header, sizeof header, f));
    int nh = csv_fields(header, name, 128), status = -1, step = -1, mem = -1, listed = -1;
    int usable = -1, fits = -1;
    for (int i = 0; i < nh; i++) {
        usable = strcmp(name[i], "hbm_usable_gib") == 0 ? i : usable;
        fits = strcmp(name[i], "fits") == 0 ? i : fits;
        status = strcmp(name[i], "status") == 0 ? i : status;
        step = strcmp(name[i], "step_time_s") == 0 ? i : step;
        mem = strcmp(name[i], "memory_gib") == 0 ? i : mem;
        listed = strcmp(name[i], "listed") == 0 ? i : listed;
    }
    cr_assert(status > 1 && step > status && mem > status && listed == nh - 1, "%s", header);
    int rerun = 0, places = 0;
    while (fgets(line, sizeof line, f)) {
        int nv = csv_fields(line, value, 128);
        cr_assert_eq(nv, nh);
        if (value[listed][0])
            places += expect_listed_as_printed(out, value[listed], value[step]);
        /* out of memory fits nowhere; a memory not derived leaves its usable HBM unknown too
         * (its buffers are the layout's) */
        if (strcmp(value[status], "oom") == 0)
            cr_expect_str_eq(value[fits], "no", "%s", line);
        if (!value[mem][0])
            cr_expect(!value[usable][0] && (!value[fits][0] || !strcmp(value[fits], "no")),
                      "memory not derived: usable '%s', fits '%s'", value[usable], value[fits]);
        if (strcmp(value[status], "ok") != 0)
            continue;
        struct scenario scn;
        struct sim_error e;
        err_clear(&e);
        char kv[128][256];
        const char *kvs[160];
        int nkv = 0;
        for (int i = 0; sets && sets[i]; i++)
            kvs[nkv++] = sets[i];
        for (int i = 1; i < status; i++) { /* column 0 is dp, not a scenario key */
            snprintf(kv[i], sizeof kv[i], "%s=%s", name[i], value[i]);
            kvs[nkv++] = kv[i];
        }
        cr_assert_eq(scn_load_with_sets(&scn, path, kvs, nkv, &e), SIM_OK, "%s", e.msg);
        struct step_output so;
        cr_assert_eq(step_run(&scn, &so, &e), SIM_OK, "row %d: %s", rerun + 1, e.msg);
        struct col_row row;
        col_row_fill(&row, &so.rep);
        double want = csv_number(value[step]), got = row.step_time_s;
        cr_expect(fabs(got - want) <= 1e-8 * want, "row %d: run %.9g s, plan %.9g s", rerun + 1,
                  got, want);
        double want_mem = csv_number(value[mem]), got_mem = row.memory_B / 1073741824.0;
        cr_expect(fabs(got_mem - want_mem) <= 1e-7 * want_mem, "row %d: run %.9g GiB, plan %.9g",
                  rerun + 1, got_mem, want_mem);
        step_release(&so);
        rerun++;
    }
    cr_expect_eq(places, 5, "%d rows listed of the top 5:\n%s", places, out);
    free(out);
    fclose(f);
    unlink(csv);
    return rerun;
}

/* plan --out rows run again as planned: an even split where the scenario's interleaving
 * would take 0 end layers for "the embedding alone", and Megatron-Core's module offload
 * (offload-modules=all), not a share of the activations. */
Test(plan, csv_rows_rerun_as_planned)
{
    cr_expect_geq(expect_csv_rows_rerun(LLAMA, "256", NULL, NULL), 10);
    cr_expect_geq(expect_csv_rows_rerun(TOP_SRCDIR "/scenarios/moe-guide/deepseek-v3.xml", "64",
                                        NULL, NULL),
                  5);
    const char *method[] = {"recompute-method=block", "recompute-num-layers=2", NULL};
    cr_expect_geq(expect_csv_rows_rerun(LLAMA, "128", method, NULL), 5);
    /* a file that sets its end stages apart: the even-split rows unset them */
    cr_expect_geq(expect_csv_rows_rerun(LLAMA405, "512", NULL, NULL), 10);
    /* a file keeping the backward whole, with hierarchical context parallelism: the
     * zero-bubble rows split it, and the cp-comm-type every framework runs keeps the groups */
    char path[256];
    write_temp_text(path, sizeof path,
                    "<scenario name=\"zb\" base=\"" LLAMA "\">\n"
                    "  <parallel gpus=\"64\" tp=\"4\" cp=\"2\" sp=\"true\" "
                    "cp-comm-type=\"a2a+p2p\" hierarchical-cp=\"2\"/>\n"
                    "  <pipeline schedule=\"1f1b\" pp=\"2\" vp=\"1\" split-backward=\"false\"/>\n"
                    "</scenario>\n");
    const char *any[] = {"framework=any", "model=" TOP_SRCDIR "/models/llama3.1-8b.xml",
                         "global-batch=32", NULL};
    cr_expect_geq(expect_csv_rows_rerun(path, "64", any, NULL), 3);
    unlink(path);
    /* rows with the dispatcher each chose, its moe-dispatcher column given back */
    const char *dispatchers[] = {"--dispatchers", "all", NULL};
    cr_expect_geq(expect_csv_rows_rerun(MIXTRAL, "64", NULL, dispatchers), 5);
    /* the flex dispatchers' keys given: a column each, 'default' in the rows whose all-to-all
     * dropped them (run refuses them there), the value in the DeepEP ones */
    const char *a2a[] = {"--dispatchers", "alltoall", NULL};
    const char *sms[] = {"deepep-sms=24", NULL}, *fp8[] = {"moe-dispatch-dtype=fp8", NULL};
    cr_expect_geq(expect_csv_rows_rerun(MIXTRAL, "64", sms, a2a), 5);
    cr_expect_geq(expect_csv_rows_rerun(MIXTRAL, "64", fp8, a2a), 5);
    const char *both[] = {"deepep-sms=24", "moe-dispatch-dtype=fp8", NULL};
    const char *a2a_deepep[] = {"--dispatchers", "alltoall,deepep", NULL};
    cr_expect_geq(expect_csv_rows_rerun(MIXTRAL, "64", both, a2a_deepep), 5);
}

/* The table's layout column widens to its longest listed layout, so that the figures stay
 * in their columns. */
Test(plan, table_columns_stay_aligned_for_long_layouts)
{
    char *out, *err;
    const char *args[] = {TOP_SRCDIR "/scenarios/moe-guide/deepseek-v3.xml", "--gpus", "64",
                          "--top", "3", NULL};
    cr_assert_eq(run_plan(args, &out, &err), 0, "stderr: %s", err);
    const char *head = strstr(out, "\n#    layout");
    cr_assert(head, "%s", out);
    size_t step_col = (size_t)(strstr(head, "step_s") - (head + 1)) + strlen("step_s");
    for (const char *line = strstr(head + 1, "\n1 "); line; line = strstr(line + 1, "\n")) {
        if (line[1] < '1' || line[1] > '3')
            break;
        /* the step time ends where the step_s header ends */
        cr_expect(line[1 + step_col] == ' ' && line[step_col] >= '0' && line[step_col] <= '9',
                  "misaligned: %.160s", line + 1);
    }
    free(out);
    free(err);
}

/* --set tp / pp / ... fixes that dimension of the search (and the header says so); a key
 * plan chooses per config itself is refused, naming what to give instead, not dropped. */
Test(plan, set_fixes_a_dimension_and_refuses_what_plan_chooses)
{
    char *out, *err;
    const char *fixed[] = {LLAMA, "--gpus", "64", "--set", "tp=2", "--set", "pp=8", "--top",
                           "3", NULL};
    cr_assert_eq(run_plan(fixed, &out, &err), 0, "stderr: %s", err);
    cr_expect(strstr(out, "\nfixed by --set in every layout: tp=2 pp=8\n"), "%s", out);
    cr_expect_eq(count_of(out, "\n1    tp2 pp8 ") + count_of(out, "\n2    tp2 pp8 ") +
                     count_of(out, "\n3    tp2 pp8 "),
                 3, "%s", out);
    free(out);
    free(err);
    static const char *const refused[][2] = {{"recompute=full", "plan chooses recompute"},
                                             {"gpus=128", "give --gpus N instead"},
                                             {"schedule=1f1b", "give --schedules LIST instead"},
                                             {"zero=3", "plan chooses zero"},
                                             {"fsdp=full-shard", "plan chooses fsdp"}};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        const char *args[] = {LLAMA, "--gpus", "64", "--set", refused[i][0], NULL};
        cr_expect_eq(run_plan(args, &out, &err), 2, "%s", refused[i][0]);
        cr_expect(strstr(err, refused[i][1]) && strstr(err, "given by --set"), "%s: %s",
                  refused[i][0], err);
        free(out);
        free(err);
    }
    /* a fixed value the search would not try (micro-batches are powers of 2) is planned */
    const char *three[] = {LLAMA, "--gpus", "64", "--set", "global-batch=96", "--set",
                           "micro-batch=3", "--top", "2", NULL};
    cr_assert_eq(run_plan(three, &out, &err), 0, "stderr: %s", err);
    cr_expect(strstr(out, " mbs3 ") && !strstr(out, " mbs1 ") && !strstr(out, " mbs2 "), "%s",
              out);
    free(out);
    free(err);
    /* tp 3 splits none of the 64 heads: no budget has a layout with it, and the rule says so
     * (it had read "no tp x cp x pp the planner tries ...; no budget from 1 to 128 GPUs has
     * one") */
    const char *none[] = {LLAMA, "--gpus", "64", "--set", "tp=3", NULL};
    cr_expect_eq(run_plan(none, &out, &err), 2);
    cr_expect_str_eq(err, "stepsim: no valid layout of llama3.1-70b on gpus=64 with tp=3: "
                          "heads=64 of llama3.1-70b are not divisible by tp=3\n");
    free(out);
    free(err);
}

/* A budget no layout fits names the nearest that have one: Llama-3.1-70B's 512-sample batch on
 * 1000 GPUs -- 1000 = 2^3 x 125 leaves 125 (and more) to tp x cp x pp with pp at most 80 --
 * has none; 960 does (dp 64, pp 15: 1 | 6 x 13 | 1 layers) and 1024, and nothing between
 * (checked by brute force over the same tp, cp, pp and vp).  A base value no layout can
 * change is the rule every layout breaks, said as such (it had read "the last layout
 * checked", after a misleading hint about gpus multiples, and "none recorded" when no layout
 * was checked at all). */
Test(plan, no_valid_layout_says_why_and_names_the_nearest_budgets)
{
    char *out, *err;
    const char *odd[] = {LLAMA, "--gpus", "1000", NULL};
    cr_expect_eq(run_plan(odd, &out, &err), 2);
    cr_expect(strstr(err, "stepsim: no valid layout of llama3.1-70b on gpus=1000 with "
                          "global-batch=512: no tp x cp x pp the planner tries"),
              "%s", err);
    cr_expect(strstr(err, "; the nearest budgets that have one: 960 and 1024 GPUs\n"), "%s", err);
    cr_expect_null(strstr(err, "none recorded"), "%s", err);
    free(out);
    free(err);
    /* the side without one within 64 GPUs is searched on: Mixtral's nearest below 1000 is
     * 896, 104 away (it had read "1024 GPUs" alone, then "(none from 936 to 999)") */
    const char *far[] = {MIXTRAL, "--gpus", "1000", NULL};
    cr_expect_eq(run_plan(far, &out, &err), 2);
    cr_expect(strstr(err, "; the nearest budgets that have one: 896 and 1024 GPUs\n"), "%s", err);
    free(out);
    free(err);
    /* tp 8 x pp 8 fixed: only multiples of 64 that leave dp a power of 2 dividing 512 have a
     * layout, 2048 and 4096 about 3000 (nothing within 64 GPUs either way had said none) */
    const char *fixed[] = {LLAMA, "--gpus", "3000", "--set", "tp=8", "--set", "pp=8",
                           "--set", "cp=1", NULL};
    cr_expect_eq(run_plan(fixed, &out, &err), 2);
    cr_expect(strstr(err, "; the nearest budgets that have one: 2048 and 4096 GPUs\n"), "%s",
              err);
    free(out);
    free(err);
    /* one side only: the other side's span is named (below 5 GPUs none has tp 8) */
    const char *one[] = {LLAMA, "--gpus", "5", "--set", "tp=8", NULL};
    cr_expect_eq(run_plan(one, &out, &err), 2);
    cr_expect(strstr(err, "; the nearest budget that has one: 8 GPUs (none from 1 to 4)\n"),
              "%s", err);
    free(out);
    free(err);
    /* a fixed micro-batch that does not divide the batch: no budget can have one, and the
     * message says why (it had read "no budget from 1 to 128 GPUs has one") */
    const char *mb3[] = {LLAMA, "--gpus", "64", "--set", "micro-batch=3", NULL};
    cr_expect_eq(run_plan(mb3, &out, &err), 2);
    cr_expect_str_eq(err, "stepsim: no valid layout of llama3.1-70b on gpus=64 with "
                          "global-batch=512 and micro-batch=3: micro-batch=3 does not divide "
                          "global-batch=512, so no data-parallel size can (give a micro-batch "
                          "that divides the global batch)\n");
    free(out);
    free(err);
    const char *layers[] = {LLAMA, "--gpus", "64", "--set", "layers=40", NULL};
    cr_expect_eq(run_plan(layers, &out, &err), 2);
    cr_expect(strstr(err, "global-batch=512: every layout breaks this rule: layers=40 differs "
                          "from the model's 80 layers"),
              "%s", err);
    cr_expect_null(strstr(err, "multiple of"), "%s", err);
    free(out);
    free(err);
}

/* run_plan on args: exit 2 and exactly the line `want` on stderr. */
static void expect_plan_error(const char *const *args, const char *want)
{
    char *out, *err;
    cr_expect_eq(run_plan(args, &out, &err), 2, "stderr: %s", err);
    cr_expect_str_eq(err, want);
    free(out);
    free(err);
}

/* The reason a budget has no layout is the rule that rules them out, in the user's terms: on one
 * GPU, DeepSeek's schedules each need a pipeline; a fixed pp past the layers, or not dividing
 * the GPUs (each had read "no tp x cp x pp the planner tries ... divides the GPUs", which one
 * GPU or pp=81 on 648 do). */
Test(plan, no_valid_layout_names_the_rule_the_budget_or_fixed_pp_breaks)
{
    const char *one_gpu[] = {TOP_SRCDIR "/scenarios/deepseek-v3-h800.xml", "--gpus", "1", NULL};
    expect_plan_error(one_gpu, "stepsim: no valid layout of deepseek-v3 on gpus=1 with "
                               "global-batch=15360: the pipeline depths the budget allows (pp=1) "
                               "run none of the schedules considered: dualpipe needs an even pp, "
                               "dualpipe-v needs pp >= 2 (its model chunks on two or more ranks); "
                               "the nearest budget that has one: 2 GPUs\n");
    /* a vp fixed by --set: what each schedule needs of it, where that rules the layouts out */
    const char *vp2[] = {LLAMA, "--gpus", "2", "--set", "vp=2", "--schedules", "1f1b", NULL};
    expect_plan_error(vp2, "stepsim: no valid layout of llama3.1-70b on gpus=2 with "
                           "global-batch=512 and vp=2: the pipeline depths the budget allows "
                           "(pp=1, 2) run none of the schedules considered: 1f1b needs vp=1 (one "
                           "model chunk a rank); no budget from 1 to 66 GPUs has one\n");
    /* exactly the four depths the message keeps: no "..." after them; five: "..." */
    const char *four[] = {LLAMA, "--gpus", "8", "--set", "vp=2", "--schedules", "1f1b", NULL};
    expect_plan_error(four, "stepsim: no valid layout of llama3.1-70b on gpus=8 with "
                            "global-batch=512 and vp=2: the pipeline depths the budget allows "
                            "(pp=1, 2, 4, 8) run none of the schedules considered: 1f1b needs "
                            "vp=1 (one model chunk a rank); no budget from 1 to 72 GPUs has one\n");
    const char *five[] = {LLAMA, "--gpus", "16", "--set", "vp=2", "--schedules", "1f1b", NULL};
    expect_plan_error(five, "stepsim: no valid layout of llama3.1-70b on gpus=16 with "
                            "global-batch=512 and vp=2: the pipeline depths the budget allows "
                            "(pp=1, 2, 4, 8, ...) run none of the schedules considered: 1f1b "
                            "needs vp=1 (one model chunk a rank); no budget from 1 to 80 GPUs "
                            "has one\n");
    const char *pp81[] = {LLAMA, "--gpus", "648", "--set", "pp=81", NULL};
    expect_plan_error(pp81, "stepsim: no valid layout of llama3.1-70b on gpus=648 with pp=81: "
                            "pp=81 exceeds layers=80: every pipeline rank needs a layer\n");
    const char *pp3[] = {LLAMA, "--gpus", "64", "--set", "pp=3", NULL};
    expect_plan_error(pp3, "stepsim: no valid layout of llama3.1-70b on gpus=64 with "
                           "global-batch=512 and pp=3: pp=3 does not divide gpus=64 (tp x cp x "
                           "pp x dp makes the GPUs); the nearest budgets that have one: 48 and "
                           "96 GPUs\n");
    const char *ep3[] = {MIXTRAL, "--gpus", "64", "--set", "ep=3", NULL};
    expect_plan_error(ep3, "stepsim: no valid layout of mixtral-8x7b on gpus=64 with ep=3: "
                           "experts=8 of mixtral-8x7b are not divisible by ep=3\n");
    /* tp, cp and pp fixed fix dp: 8 x 128 samples a step are more than the batch */
    const char *mb128[] = {LLAMA, "--gpus", "64", "--set", "tp=8", "--set", "cp=1", "--set", "pp=1",
                           "--set", "micro-batch=128", NULL};
    expect_plan_error(mb128, "stepsim: no valid layout of llama3.1-70b on gpus=64 with "
                             "global-batch=512 and tp=8 pp=1 cp=1 micro-batch=128: dp=8 (gpus / "
                             "tp x cp x pp) x micro-batch=128 does not divide global-batch=512; "
                             "the nearest budget that has one: 32 GPUs (none from 65 to 128)\n");
    const char *tp8pp3[] = {LLAMA, "--gpus", "64", "--set", "tp=8", "--set", "pp=3", NULL};
    expect_plan_error(tp8pp3, "stepsim: no valid layout of llama3.1-70b on gpus=64 with "
                              "global-batch=512 and tp=8 pp=3: tp=8 x pp=3 = 24 does not divide "
                              "gpus=64 (tp x cp x pp x dp makes the GPUs); the nearest budgets "
                              "that have one: 48 and 96 GPUs\n");
}

/* A count is digits alone and a list holds no empty name: "+8" and "1f1b," were taken (as 8 and
 * as 1f1b alone), so a typo ran a plan the user did not ask for. */
Test(plan, signed_counts_and_empty_list_items_are_refused)
{
    static const struct {
        const char *scenario, *opt, *value, *want;
    } cases[] = {
        {LLAMA, "--gpus", "+8", "--gpus: expected a GPU count from 1 to 16777216, got '+8'"},
        {LLAMA, "--top", "+2", "--top: expected a count from 1 to 10000, got '+2'"},
        {LLAMA, "--schedules", "1f1b,", "--schedules: an empty name in the list '1f1b,'"},
        {LLAMA, "--schedules", "1f1b,,interleaved",
         "--schedules: an empty name in the list '1f1b,,interleaved'"},
        {MIXTRAL, "--dispatchers", ",alltoall",
         "--dispatchers: an empty name in the list ',alltoall'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[] = {cases[i].scenario, cases[i].opt, cases[i].value, "--gpus", "8",
                              NULL};
        char want[256];
        snprintf(want, sizeof want, "stepsim: plan: %s (see 'stepsim plan --help')\n",
                 cases[i].want);
        expect_plan_error(args, want);
    }
}

/* A memory figure below 0.05 GiB reads "<0.1", not "0.0", and a layout whose buffers take all
 * the HBM the reserve leaves has "none" usable: both had printed 0.0, the first as if nothing
 * were left, the second as if a rounding of something. */
Test(plan, small_memory_figures_are_not_printed_as_zero)
{
    char *out, *err;
    const char *one[] = {LLAMA, "--set", "model=llama2-7b", "--set", "seq=4096", "--gpus", "1",
                         "--hbm-reserve", "79.97GiB", "--set", "hw.nccl-buffers=0B", "--top", "1",
                         "-j", "1", NULL};
    cr_expect_eq(run_plan(one, &out, &err), 0, "stderr: %s", err);
    cr_expect(strstr(out, "--hbm-reserve SIZE): <0.1 GiB usable;"), "%s", out);
    const char *first = strstr(out, "\n1    tp1 pp1 ");
    cr_expect(first && strstr(first, "    <0.1\n"), "%s", out);
    cr_expect_null(strstr(out, " 0.0\n"), "%s", out);
    cr_expect_null(strstr(out, " 0.0 GiB"), "%s", out);
    free(out);
    free(err);
    const char *eight[] = {LLAMA, "--set", "model=llama2-7b", "--set", "seq=4096", "--gpus", "8",
                           "--hbm-reserve", "79.97GiB", "--top", "1", "-j", "1", NULL};
    cr_expect_eq(run_plan(eight, &out, &err), 0, "stderr: %s", err);
    first = strstr(out, "\n1    tp8 pp1 ");
    cr_expect(first && strstr(first, "    none\n"), "%s", out);
    cr_expect_null(strstr(out, " 0.0\n"), "%s", out);
    cr_expect_null(strstr(out, " 0.0 GiB"), "%s", out);
    free(out);
    free(err);
    /* --fail-on-oom says the same (it had read "needs 3.3 GiB of 0.0 GiB usable") */
    const char *fail[] = {LLAMA, "--set", "model=llama2-7b", "--set", "seq=4096", "--gpus", "8",
                          "--hbm-reserve", "79.97GiB", "--top", "1", "-j", "1", "--fail-on-oom",
                          NULL};
    cr_expect_eq(run_plan(fail, &out, &err), 2);
    cr_expect(strstr(err, "(the nearest needs 3.3 GiB, and the reserve and buffers leave it no "
                          "HBM) (--fail-on-oom)\n"),
              "%s", err);
    free(out);
    free(err);
}

/* A budget far past what the batch can use has no layout within 4,096 GPUs either way: each of
 * the 8,192 budgets probed checks tp x cp x pp against the budget before walking vp, ep and the
 * schedules (GLM-5.1 at 128K, cp to 32 and 256 experts, had walked them all: 71 s on a loaded
 * 2-core machine for one error line; now well under a second). */
Test(plan, a_budget_far_past_the_batch_is_refused_quickly, .timeout = 10)
{
    char *out, *err;
    const char *args[] = {TOP_SRCDIR "/scenarios/glm-5.1-sft-128k-h100.xml", "--gpus", "1048576",
                          "-j", "1", NULL};
    cr_expect_eq(run_plan(args, &out, &err), 2);
    cr_expect(strstr(err, "stepsim: no valid layout of glm-5-744b-a40b on gpus=1048576 with "
                          "global-batch=520: no tp x cp x pp the planner tries"),
              "%s", err);
    cr_expect(strstr(err, "; no budget from 1044480 to 1052672 GPUs has one\n"), "%s", err);
    free(out);
    free(err);
}

/* Make the files of two mkstemp templates (for --out and --report), closed. */
static void make_temps(char *a, char *b)
{
    int fa = mkstemp(a), fb = mkstemp(b);
    cr_assert(fa >= 0 && fb >= 0);
    close(fa);
    close(fb);
}

/* --report's table holds the first 2000 rows in plan order, whatever the space (writing and
 * reading every row of a big one cost more than the plan), and says how many it left out;
 * --out keeps them all. */
Test(plan, report_page_caps_its_rows_and_says_how_many_are_left_out)
{
    char csv[] = "/tmp/stepsim-test-plan-csv-XXXXXX", page[] = "/tmp/stepsim-test-plan-html-XXXXXX";
    make_temps(csv, page);
    char *out, *err;
    const char *args[] = {LLAMA,
                          "--gpus",
                          "32",
                          "--set",
                          "model=" TOP_SRCDIR "/models/llama3.1-8b.xml",
                          "--set",
                          "global-batch=64",
                          "--out",
                          csv,
                          "--report",
                          page,
                          "-j",
                          "2",
                          NULL};
    cr_assert_eq(run_plan(args, &out, &err), 0, "stderr: %s", err);
    char *rows = slurp(csv), *html = slurp(page);
    unlink(csv);
    unlink(page);
    size_t all = count_of(rows, "\n") - 1; /* less the header */
    cr_assert_gt(all, 10000, "a space of %zu configs is too small for the test", all);
    char note[160];
    snprintf(note, sizeof note,
             "The first 2000 of %zu rows; %zu left out, which the command's "
             "--out CSV has.",
             all, all - 2000);
    cr_expect(strstr(html, note), "no '%s' in the page", note);
    cr_expect_eq(count_of(html, "<tr class=\"s-"), 2000);
    cr_expect(strstr(html, "<tr class=\"s-ok\">"), "the listed configs come first");
    cr_expect(strstr(html, "as run</th><td>llama3.1-8b on dgx-h100</td>"),
              "the page names the model planned for (--set model=), not only the scenario's "
              "name");
    cr_expect(strstr(html, "context parallelism</th><td>p2p</td>"),
              "the page names the context parallelism explored");
    free(rows);
    free(html);
    free(out);
    free(err);
}

/* The page shows each config's place in the list (listed) first, where a reader looks for the
 * ranking (last, as the CSV has it, it was off screen at any width); --out keeps it last, as
 * the scripts that read it expect. */
/* The page says what was planned as the table's header does: the --set values as given, the
 * schedules, the dimensions fixed and, when nothing fits, that the list is the nearest (the
 * page had shown neither, so a plan at fp8 read as one at bf16, and the nearest configs as if
 * they fit). */
Test(plan, report_page_states_the_sets_and_when_nothing_fits)
{
    char page[] = "/tmp/stepsim-test-plan-html-XXXXXX", unused[] = "/tmp/stepsim-test-XXXXXX";
    make_temps(page, unused);
    unlink(unused);
    char *out, *err;
    const char *fixed[] = {LLAMA, "--gpus", "64", "--top", "1", "--set", "tp=8", "--set",
                           "dtype=fp8", "--report", page, NULL};
    cr_assert_eq(run_plan(fixed, &out, &err), 0, "stderr: %s", err);
    char *html = slurp(page);
    cr_expect(strstr(html, "<tr><th>--set</th><td>tp=8</td></tr>\n"
                           "<tr><th>--set</th><td>dtype=fp8</td></tr>\n"),
              "%.3000s", html);
    cr_expect(strstr(html, "<tr><th>schedules</th><td>1f1b, interleaved</td></tr>"));
    cr_expect(strstr(html, "<tr><th>fixed by --set</th><td>tp=8</td></tr>"));
    cr_expect_null(strstr(html, "<th>nothing fits</th>"));
    free(html);
    free(out);
    free(err);
    /* a --set value the listed all-to-all configs drop (it applies to flex dispatchers):
     * the page says so, and the run-it line leaves it out, as run would refuse it */
    const char *flex[] = {MIXTRAL, "--gpus", "64", "--top", "2", "--set", "deepep-sms=24",
                          "--dispatchers", "alltoall", "--report", page, NULL};
    cr_assert_eq(run_plan(flex, &out, &err), 0, "stderr: %s", err);
    html = slurp(page);
    cr_expect(strstr(html, "<tr><th>--set</th><td>deepep-sms=24 (dropped where it does not "
                           "apply: listed #1, #2)</td></tr>\n"),
              "%.3000s", html);
    cr_expect(strstr(out, "\nrun it: stepsim run " MIXTRAL " --set tp=1 --set pp=1 --set "
                          "sp=false --set zero=1 --set recompute=none\n"),
              "%s", out);
    free(html);
    free(out);
    free(err);
    const char *none[] = {LLAMA405, "--gpus", "8", "--top", "2", "--report", page, NULL};
    cr_assert_eq(run_plan(none, &out, &err), 0, "stderr: %s", err);
    html = slurp(page);
    unlink(page);
    cr_expect(strstr(html, "<tr><th>nothing fits</th><td>no layout fits in its usable HBM; the 2 "
                           "nearest to fitting "),
              "%.3000s", html);
    cr_expect(strstr(out, "\nno layout fits in its usable HBM; the 2 nearest to fitting (least "
                          "HBM short plus host memory short, then least HBM):\n"),
              "%s", out);
    free(html);
    free(out);
    free(err);
}

Test(plan, report_page_shows_the_listed_place_first_the_csv_keeps_it_last)
{
    char csv[] = "/tmp/stepsim-test-plan-csv-XXXXXX", page[] = "/tmp/stepsim-test-plan-html-XXXXXX";
    make_temps(csv, page);
    char *out, *err;
    const char *args[] = {LLAMA, "--gpus",   "64", "--top", "3", "--out",
                          csv,   "--report", page, "-j",    "2", NULL};
    cr_assert_eq(run_plan(args, &out, &err), 0, "stderr: %s", err);
    char *rows = slurp(csv), *html = slurp(page);
    unlink(csv);
    unlink(page);
    cr_expect(strncmp(rows, "dp,gpus,tp,", 11) == 0 && strstr(rows, ",bound_s,listed\n"),
              "the CSV's columns moved: %.200s", rows);
    cr_expect(strstr(html, "<thead><tr><th class=\"n\">listed</th><th>layout</th>"
                           "<th class=\"n\">step_time_s</th>"),
              "listed, the layout and the step time are not the page's first columns");
    cr_expect(!strstr(html, "bound_s</th><th class=\"n\">listed</th>"), "listed is still last");
    const char *first = strstr(html, "<tbody>\n");
    cr_assert(first, "no table body");
    for (int place = 1; place <= 3; place++) { /* the listed rows first, in their order */
        char cell[64];
        snprintf(cell, sizeof cell, "<tr class=\"s-ok\"><td class=\"n\">%d</td>", place);
        first = strstr(first, cell);
        cr_expect(first, "no row listed %d in order", place);
        if (!first)
            break;
    }
    free(rows);
    free(html);
    free(out);
    free(err);
}

/* The nearest list, by its definition: every built config ordered by HBM and host memory
 * short, then HBM, then simpler, then enumeration order; the first of each layout taken,
 * dispatchers aside.  (The planner keeps each layout's nearest as batches are built.) */
static double nearest_host_cap;
static const struct plan_entry *nearest_entries;

static double short_of(const struct plan_entry *e)
{
    double hbm = e->mem_bytes - e->hbm_bytes, host = e->host_bytes - nearest_host_cap;
    return (hbm > 0 ? hbm : 0) + (nearest_host_cap > 0 && host > 0 ? host : 0);
}

static int by_nearness(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    const struct plan_entry *ea = &nearest_entries[a], *eb = &nearest_entries[b];
    double sa = short_of(ea), sb = short_of(eb);
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (ea->mem_bytes != eb->mem_bytes)
        return ea->mem_bytes < eb->mem_bytes ? -1 : 1;
    int d = plan_simpler(&ea->cfg, &eb->cfg);
    return d != 0 ? d : (a < b ? -1 : 1);
}

static int same_layout_any_dispatcher(const struct plan_config *a, const struct plan_config *b)
{
    return a->tp == b->tp && a->pp == b->pp && a->vp == b->vp && a->cp == b->cp &&
           a->ep == b->ep && a->etp == b->etp && a->micro_batch == b->micro_batch &&
           a->schedule == b->schedule && a->first_layers == b->first_layers &&
           a->last_layers == b->last_layers && a->dsa_freq == b->dsa_freq;
}

/* The nearest list of Mixtral on 8 GPUs with `sets`, against its definition; returns how
 * many listed configs offload nothing. */
static int expect_nearest_as_defined(const char *const *sets)
{
    struct scenario base;
    base_with(&base, MIXTRAL, sets);
    struct plan_opts o = {.gpus = 8, .top = 7, .jobs = 2,
                          .dispatchers = {PLAN_ALL_DISPATCHERS}};
    struct plan_result r;
    struct sim_error err;
    err_clear(&err);
    cr_assert_eq(plan_run(&base, &o, &r, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(r.ntop, 0);
    cr_assert_eq(r.nnearest, 7);
    size_t *order = malloc(r.n * sizeof *order), nbuilt = 0;
    cr_assert(order);
    for (size_t i = 0; i < r.n; i++)
        if (r.entries[i].built == 1)
            order[nbuilt++] = i;
    nearest_host_cap = r.host_mem_bytes;
    nearest_entries = r.entries;
    qsort(order, nbuilt, sizeof *order, by_nearness);
    size_t listed = 0;
    int plain = 0;
    for (size_t t = 0; t < nbuilt && listed < r.nnearest; t++) {
        int dup = 0;
        for (size_t j = 0; j < t && !dup; j++)
            dup = same_layout_any_dispatcher(&r.entries[order[j]].cfg,
                                             &r.entries[order[t]].cfg);
        if (dup)
            continue;
        cr_expect_eq(r.nearest[listed], order[t], "nearest %zu: config %zu, by definition %zu",
                     listed, r.nearest[listed], order[t]);
        plain += r.entries[order[t]].cfg.offload == 0;
        listed++;
    }
    cr_expect_eq(listed, r.nnearest);
    free(order);
    plan_result_release(&r);
    return plain;
}

/* Offloading configs nearest (offload moves bytes from HBM to the host, so it is never
 * further), and a framework without offload (DeepSeek's), whose configs offload nothing. */
Test(plan, nearest_list_is_the_order_of_every_built_config)
{
    const char *offload[] = {"hw.hbm=8GiB", NULL};
    cr_expect_eq(expect_nearest_as_defined(offload), 0, "a listed config offloads nothing");
    const char *none[] = {"hw.hbm=8GiB", "framework=deepseek", NULL};
    cr_expect_eq(expect_nearest_as_defined(none), 7, "a listed config offloads");
}

/* Configs known to break a rule are never listed or written, and the nearest list shows a
 * layout once, not once per dispatcher:
 * - Megatron-Core's activation offload by module under uniform full recompute (which keeps
 *   no module's input) was enumerated and, cut by its memory floor unbuilt, written to --out
 *   as `oom` rows that run refuses -- 17% of Mixtral's rows on 64 GPUs;
 * - a space past the planner's cap is an input error (exit 2), not "out of memory". */
Test(plan, rule_broken_configs_stay_out_and_the_cap_is_an_input_error)
{
    char csv[] = "/tmp/stepsim-test-plan-full-XXXXXX";
    int fd = mkstemp(csv);
    cr_assert(fd >= 0);
    close(fd);
    char *out, *err;
    const char *args[] = {MIXTRAL, "--gpus", "64", "--out", csv, "-j", "2", NULL};
    cr_assert_eq(run_plan(args, &out, &err), 0, "stderr: %s", err);
    free(out);
    free(err);
    char *rows = slurp(csv);
    size_t full = 0, full_modules = 0;
    for (char *save = NULL, *line = strtok_r(rows, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        full += strstr(line, ",full,") != NULL;
        full_modules += strstr(line, ",full,") && strstr(line, ",all,");
    }
    cr_expect_gt(full, 1000);
    cr_expect_eq(full_modules, 0, "rows run refuses: %zu", full_modules);
    free(rows);
    unlink(csv);
    const char *nothing[] = {MIXTRAL, "--gpus", "8", "--set", "hw.hbm=8GiB", "--dispatchers",
                             "all", "--top", "3", "-j", "2", NULL};
    cr_assert_eq(run_plan(nothing, &out, &err), 0, "stderr: %s", err);
    const char *list = strstr(out, "nearest to fitting");
    cr_assert(list, "%s", out);
    char first[3][64];
    for (int t = 0; t < 3; t++) {
        char tag[8];
        snprintf(tag, sizeof tag, "\n%d    ", t + 1);
        const char *l = strstr(list, tag);
        cr_assert(l, "%s", out);
        /* the layout up to its dp: tp pp vp cp ep[/etp] [dispatcher] */
        snprintf(first[t], sizeof first[t], "%.*s", (int)(strstr(l, " dp") - l - 6), l + 6);
        for (char *d = strstr(first[t], " alltoall"); d; d = NULL)
            *d = '\0';
        for (char *d = strstr(first[t], " allgather"); d; d = NULL)
            *d = '\0';
        for (char *d = strstr(first[t], " deepep"); d; d = NULL)
            *d = '\0';
    }
    cr_expect(strcmp(first[0], first[1]) != 0 && strcmp(first[1], first[2]) != 0 &&
                  strcmp(first[0], first[2]) != 0,
              "a layout listed twice: %s", out);
    free(out);
    free(err);
    const char *huge[] = {TOP_SRCDIR "/scenarios/moe-guide/kimi-k2.xml", "--gpus", "512",
                          "--dispatchers", "all", "-j", "2", NULL};
    cr_expect_eq(run_plan(huge, &out, &err), 2);
    cr_expect(strstr(err, "the planner's cap: fix a dimension with --set"), "%s", err);
    free(out);
    free(err);
}

/* A hardware file without host memory: the header says offload is not checked against it, as
 * run's report does, rather than leaving the host's clause out. */
Test(plan, header_says_when_host_memory_is_unchecked)
{
    const char *args[] = {LLAMA, "--gpus", "8", "--top", "1", "--set",
                          "model=" TOP_SRCDIR "/models/llama3.1-8b.xml", "--set",
                          "hardware=amd-mi300x", "-j", "2", NULL};
    char *out, *err;
    cr_assert_eq(run_plan(args, &out, &err), 0, "stderr: %s", err);
    cr_expect(strstr(out, "the hardware file gives no host memory, so what offload moves there "
                          "is not checked (hw.host-memory)"),
              "%s", out);
    free(out);
    free(err);
}
