/* test_plan: the planner -- branch and bound gives the exhaustive search's top K, the result
 * does not depend on the thread count, the step-time bound and the memory prediction are
 * sound on every simulated config, reported configs pass the rules and fit, and scenarios
 * that cannot be planned are input errors. */
#include <criterion/criterion.h>
#include <gsl/gsl_errno.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <string.h>

#include "plan.h"
#include "scenario.h"
#include "step.h"

#define UNIT TOP_SRCDIR "/scenarios/unit.xml"
#define LLAMA TOP_SRCDIR "/scenarios/llama3.1-70b-h100.xml"
#define MIXTRAL TOP_SRCDIR "/scenarios/mixtral-8x7b-h100.xml"

static void setup(void)
{
    gsl_set_error_handler_off(); /* as main does */
    xmlInitParser();
}

TestSuite(plan, .init = setup);

/* Llama-3.1-8B with a 64-sample batch: a space of a few thousand configs. */
static void small_base(struct scenario *scn)
{
    struct sim_error err;
    err_clear(&err);
    scn_defaults(scn);
    cr_assert_eq(scn_load(scn, LLAMA, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(scn_set_arg(scn, "model=" TOP_SRCDIR "/models/llama3.1-8b.xml", &err), SIM_OK,
                 "%s", err.msg);
    cr_assert_eq(scn_set_arg(scn, "global-batch=64", &err), SIM_OK, "%s", err.msg);
}

static void plan_ok(const struct scenario *base, int gpus, int top, int jobs, int exhaustive,
                    struct plan_result *res)
{
    struct plan_opts o = {gpus, top, jobs, exhaustive};
    struct sim_error err;
    err_clear(&err);
    cr_assert_eq(plan_run(base, &o, res, &err), SIM_OK, "plan: %s", err.msg);
    cr_assert_eq(res->ntop, (size_t)top);
    cr_assert_eq(res->valid, res->n);
    cr_assert_eq(res->oom + res->simulated + res->pruned, res->valid);
}

Test(plan, pruned_top_equals_exhaustive)
{
    struct scenario base;
    small_base(&base);
    struct plan_result bb, ex;
    plan_ok(&base, 32, 5, 2, 0, &bb);
    plan_ok(&base, 32, 5, 2, 1, &ex);
    cr_expect_eq(ex.pruned, 0);
    cr_expect_gt(bb.pruned, 0, "the bound pruned nothing on %zu configs", bb.valid);
    cr_expect_lt(bb.simulated, ex.simulated / 10, "%zu of %zu simulated", bb.simulated,
                 ex.simulated);
    for (size_t t = 0; t < 5; t++) {
        const struct plan_entry *a = &bb.entries[bb.top[t]], *b = &ex.entries[ex.top[t]];
        cr_expect_eq(bb.top[t], ex.top[t], "rank %zu differs", t + 1);
        cr_expect_eq(memcmp(&a->cfg, &b->cfg, sizeof a->cfg), 0, "rank %zu config", t + 1);
        cr_expect_eq(a->step, b->step, "rank %zu step", t + 1);
        if (t > 0)
            cr_expect_geq(a->step, bb.entries[bb.top[t - 1]].step, "top is ordered");
    }
    /* The bound is a lower bound, and the memory predicted before simulating is what the
     * simulated report says, on every simulated config. */
    size_t dual = 0, dual_v = 0;
    for (size_t i = 0; i < ex.n; i++) {
        const struct plan_entry *e = &ex.entries[i];
        if (e->state != PLAN_SIMULATED)
            continue;
        cr_expect_leq(e->bound, e->step, "config %zu: bound %lld > step %lld", i,
                      (long long)e->bound, (long long)e->step);
        cr_expect_leq(e->mem_bytes, e->hbm_bytes, "config %zu simulated but over HBM", i);
        dual += e->cfg.family == PLAN_DUALPIPE;
        dual_v += e->cfg.family == PLAN_DUALPIPE_V;
    }
    cr_expect_gt(dual, 100, "DualPipe layouts simulated: %zu (its bound is checked too)", dual);
    cr_expect_gt(dual_v, 100, "DualPipeV layouts simulated: %zu", dual_v);
    plan_result_release(&bb);
    plan_result_release(&ex);
}

/* The peak memory needs each config's whole schedule order built; configs that run the same
 * order (tp, cp, recompute and optimizer variants of one pipeline) share one build -- what
 * keeps a huge global batch (millions of ops per order) from taking minutes. */
Test(plan, each_schedule_order_is_built_once)
{
    struct scenario base;
    small_base(&base);
    struct plan_result res;
    plan_ok(&base, 32, 5, 2, 0, &res);
    cr_expect_gt(res.orders, 0);
    cr_expect_lt(res.orders * 4, res.valid, "%zu orders built for %zu rule-valid configs",
                 res.orders, res.valid);
    plan_result_release(&res);
}

/* The planner tries ZB-H1 beside 1F1B (one chunk per rank, pp > 1) and ZB-V beside interleaved
 * (two chunks): each zero-bubble entry follows its twin (same layout); ZB-H1 needs at least
 * 1F1B's memory (every rank holds p activations until their W's); simulated, a zero-bubble
 * schedule leaves less pipeline bubble than its twin (ZB-V from 2p-1 micro-batches on). */
Test(plan, zero_bubble_beside_1f1b)
{
    struct scenario base;
    small_base(&base);
    struct plan_result ex;
    plan_ok(&base, 32, 5, 2, 1, &ex);
    size_t zb = 0, zbv = 0, both = 0, shorter = 0;
    for (size_t i = 0; i < ex.n; i++) {
        const struct plan_entry *e = &ex.entries[i];
        if (e->cfg.family != PLAN_ZERO_BUBBLE)
            continue;
        zb++;
        zbv += e->cfg.vp == 2;
        cr_assert(i > 0 && e->cfg.pp > 1 && e->cfg.vp <= 2, "entry %zu", i);
        const struct plan_entry *twin = &ex.entries[i - 1];
        struct plan_config c = e->cfg;
        c.family = PLAN_MEGATRON;
        if (memcmp(&c, &twin->cfg, sizeof c) != 0) {
            /* Interleaved rejects micro-batch counts ZB-V runs; 1F1B rejects none. */
            cr_assert_eq(e->cfg.vp, 2, "entry %zu: no 1F1B twin before it", i);
            continue;
        }
        if (e->cfg.vp == 1)
            cr_expect_geq(e->mem_bytes, twin->mem_bytes, "entry %zu", i);
        /* ZB-V's order is laid out for at least 2p-1 micro-batches; below that it drops ops
         * and can leave more bubble than interleaving (pp2 vp2 m2 does here). */
        int zb_regime = e->cfg.vp == 1 || e->microbatches >= 2 * e->cfg.pp - 1;
        if (zb_regime && e->state == PLAN_SIMULATED && twin->state == PLAN_SIMULATED) {
            both++;
            /* Within 0.5% of the step: where an unoverlapped DP all-reduce over many ranks
             * dominates the idle time, deferring W shifts it by a hair either way. */
            cr_expect_lt(e->bubble * e->step_s, twin->bubble * twin->step_s + 0.005 * twin->step_s,
                         "entry %zu (pp%d vp%d m%d): zero-bubble %.4f s of bubble, its twin %.4f s",
                         i, e->cfg.pp, e->cfg.vp, e->microbatches, e->bubble * e->step_s,
                         twin->bubble * twin->step_s);
            shorter += e->step < twin->step;
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
    for (size_t t = 0; t < a->ntop; t++)
        cr_expect_eq(a->top[t], b->top[t]);
    for (size_t i = 0; i < a->n; i++) {
        const struct plan_entry *x = &a->entries[i], *y = &b->entries[i];
        cr_expect_eq(memcmp(&x->cfg, &y->cfg, sizeof x->cfg), 0, "config %zu", i);
        cr_expect_eq(x->state, y->state, "config %zu state", i);
        cr_expect_eq(x->bound, y->bound, "config %zu bound", i);
        cr_expect_eq(x->step, y->step, "config %zu step", i);
        cr_expect_eq(x->mem_bytes, y->mem_bytes, "config %zu memory", i);
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
 * fits in HBM and takes the reported time. */
static void check_top(const struct scenario *base, int gpus, const struct plan_result *res)
{
    for (size_t t = 0; t < res->ntop; t++) {
        const struct plan_entry *e = &res->entries[res->top[t]];
        struct scenario scn;
        struct step_output so;
        struct sim_error err;
        err_clear(&err);
        cr_assert_eq(plan_config_apply(base, gpus, &e->cfg, &scn, &err), SIM_OK, "%s", err.msg);
        cr_assert_eq(step_run(&scn, &so, &err), SIM_OK, "top %zu: %s", t + 1, err.msg);
        cr_expect_eq(so.res.step_end - so.res.first_start, e->step, "top %zu step", t + 1);
        cr_expect_eq(so.cm.cfg.tp * so.cm.cfg.cp * so.cm.cfg.pp * so.cm.cfg.dp, gpus);
        cr_expect_leq(so.cm.cfg.tp, so.cm.cfg.gpus_per_node, "tp stays in the node");
        for (int r = 0; r < so.rep.pp; r++)
            cr_expect(!so.rep.mem[r].oom, "top %zu rank %d over HBM", t + 1, r);
        step_release(&so);
    }
}

Test(plan, top_configs_pass_rules_and_fit)
{
    struct scenario base;
    small_base(&base);
    struct plan_result res;
    plan_ok(&base, 32, 5, 0, 0, &res);
    check_top(&base, 32, &res);
    /* Configs ruled out by memory before simulating really are out of memory. */
    int checked = 0;
    for (size_t i = 0; i < res.n && checked < 8; i++) {
        const struct plan_entry *e = &res.entries[i];
        if (e->state != PLAN_OOM)
            continue;
        struct scenario scn;
        struct step_output so;
        struct sim_error err;
        err_clear(&err);
        cr_assert_eq(plan_config_apply(&base, 32, &e->cfg, &scn, &err), SIM_OK, "%s", err.msg);
        cr_assert_eq(step_run(&scn, &so, &err), SIM_OK, "%s", err.msg);
        int oom = 0;
        double peak = 0;
        for (int r = 0; r < so.rep.pp; r++) {
            oom |= so.rep.mem[r].oom;
            if (so.rep.mem[r].total > peak)
                peak = so.rep.mem[r].total;
        }
        cr_expect(oom, "config %zu predicted over HBM but fits", i);
        cr_expect_float_eq(peak, e->mem_bytes, 1e-9 * peak, "config %zu memory", i);
        step_release(&so);
        checked++;
    }
    cr_expect_gt(checked, 0);
    plan_result_release(&res);
}

Test(plan, moe_uses_expert_parallelism)
{
    struct scenario base;
    struct sim_error err;
    err_clear(&err);
    scn_defaults(&base);
    cr_assert_eq(scn_load(&base, MIXTRAL, &err), SIM_OK, "%s", err.msg);
    struct plan_result res;
    plan_ok(&base, 64, 3, 2, 0, &res);
    check_top(&base, 64, &res);
    int ep = 0;
    for (size_t i = 0; i < res.n; i++)
        ep |= res.entries[i].cfg.ep > 1;
    cr_expect(ep, "no config with ep > 1 was enumerated");
    plan_result_release(&res);
}

/* Run plan_main on argv; return its status with stdout and stderr captured. */
static int run_plan(const char *const *args, char *out, size_t outlen, char *errb, size_t errlen)
{
    char *argv[16];
    int argc = 0;
    argv[argc++] = "stepsim";
    argv[argc++] = "plan";
    for (; *args && argc < 15; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    FILE *o = tmpfile(), *e = tmpfile();
    cr_assert(o && e);
    int rc = plan_main(argc, argv, o, e);
    rewind(o);
    rewind(e);
    size_t n = fread(out, 1, outlen - 1, o);
    out[n] = '\0';
    n = fread(errb, 1, errlen - 1, e);
    errb[n] = '\0';
    fclose(o);
    fclose(e);
    return rc;
}

Test(plan, scenario_without_model_is_input_error)
{
    char out[4096], err[4096];
    const char *args[] = {UNIT, "--gpus", "8", NULL};
    cr_expect_eq(run_plan(args, out, sizeof out, err, sizeof err), 2);
    cr_expect(strstr(err, "plan needs a modelled scenario"), "stderr: %s", err);
    cr_expect_eq(out[0], '\0');
}

Test(plan, bad_options_and_budgets)
{
    char out[4096], err[4096];
    const char *no_gpus[] = {LLAMA, NULL};
    cr_expect_eq(run_plan(no_gpus, out, sizeof out, err, sizeof err), 2);
    cr_expect(strstr(err, "--gpus"), "stderr: %s", err);
    const char *bad_top[] = {LLAMA, "--gpus", "64", "--top", "zero", NULL};
    cr_expect_eq(run_plan(bad_top, out, sizeof out, err, sizeof err), 2);
    const char *too_few[] = {LLAMA, "--gpus", "8", NULL};
    cr_expect_eq(run_plan(too_few, out, sizeof out, err, sizeof err), 2);
    cr_expect(strstr(err, "fits in"), "stderr: %s", err);
    /* A modelled base without global-batch: */
    struct scenario scn;
    struct sim_error e;
    err_clear(&e);
    scn_defaults(&scn);
    cr_assert_eq(scn_set_arg(&scn, "model=" TOP_SRCDIR "/models/llama3.1-8b.xml", &e), SIM_OK);
    cr_assert_eq(scn_set_arg(&scn, "hardware=" TOP_SRCDIR "/hardware/dgx-h100.xml", &e), SIM_OK);
    cr_assert_eq(scn_set_arg(&scn, "seq=4096", &e), SIM_OK);
    struct plan_opts o = {64, 5, 1, 0};
    struct plan_result res;
    cr_expect_eq(plan_run(&scn, &o, &res, &e), SIM_EINPUT);
    cr_expect(strstr(e.msg, "global-batch"), "message: %s", e.msg);
}

Test(plan, table_and_summary)
{
    char out[16384], err[4096];
    const char *args[] = {
        LLAMA, "--gpus", "64", "--top", "3", "--set", "model=" TOP_SRCDIR "/models/llama3.1-8b.xml",
        "-j",  "1",      NULL};
    cr_assert_eq(run_plan(args, out, sizeof out, err, sizeof err), 0, "stderr: %s", err);
    cr_expect(strstr(out, "\n1    tp"), "%s", out);
    cr_expect(strstr(out, "\n3    tp"), "%s", out);
    cr_expect(!strstr(out, "\n4    tp"), "%s", out);
    cr_expect(strstr(out, " enumerated, "), "%s", out);
    cr_expect(strstr(out, "pruned by the step-time bound"), "%s", out);
}
