/* plan_bound: the planner's step bound and in-flight peaks against the pipeline they bound. */
#include <criterion/criterion.h>
#include <gsl/gsl_rng.h>

#include "alloc.h"
#include "helpers.h"
#include "pipeline.h"
#include "plan_bound.h"
#include "schedule.h"

/* A setup of `type` with every stage's F, B and W and every rank's optimizer as given. */
static void uniform_setup(struct pipe_setup *setup, const struct sched_type *type, int pp, int vp,
                          int m, int split, simtime_t f, simtime_t b, simtime_t w, simtime_t opt)
{
    struct sched_params sp = {pp, vp, m, 0, split, 0};
    struct sim_error err;
    cr_assert_eq(pipe_setup_init(setup, type, &sp, &err), SIM_OK, "%s", err.msg);
    for (int s = 0; s < pp * vp; s++) {
        setup->stage_fwd[s] = f;
        setup->stage_bwd[s] = b;
        setup->stage_wgt[s] = w;
    }
    for (int r = 0; r < pp; r++)
        setup->rank_opt[r] = opt;
}

static simtime_t simulated_step(const struct pipe_setup *setup, struct pipe_result *res)
{
    struct sim_error err;
    cr_assert_eq(pipe_run(setup, res, &err), SIM_OK, "%s", err.msg);
    return res->step_end - res->first_start;
}

/* 1F1B over 4 ranks, 8 micro-batches, F 1 ms and B 2 ms a stage, optimizer 0.5 ms: without
 * communication the step is exactly (m + p - 1)(f + b) + opt = 11 x 3 + 0.5 = 33.5 ms, and the
 * bound is tight there. */
Test(plan_bound, uniform_1f1b_is_exact)
{
    struct pipe_setup setup;
    struct pipe_result res;
    uniform_setup(&setup, &sched_1f1b, 4, 1, 8, 0, MS(1), MS(2), 0, MS(0.5));
    cr_assert_eq(plan_bound_step(&setup), MS(33.5));
    cr_assert_eq(simulated_step(&setup, &res), MS(33.5));
    pipe_result_release(&res);
    pipe_setup_release(&setup);
}

/* Interleaved over 2 ranks of 2 chunks, 4 micro-batches, F 1 ms and B 2 ms a chunk: each rank
 * runs m v (f + b) = 24 ms and the first rank's last backward waits for the forward to cross
 * the other rank's first chunk (1 ms) and the gradient to come back through its backward
 * (2 ms): 27 ms, what the simulator gives. */
Test(plan_bound, uniform_interleaved_is_exact)
{
    struct pipe_setup setup;
    struct pipe_result res;
    uniform_setup(&setup, &sched_interleaved, 2, 2, 4, 0, MS(1), MS(2), 0, 0);
    cr_assert_eq(plan_bound_step(&setup), MS(27));
    cr_assert_eq(simulated_step(&setup, &res), MS(27));
    pipe_result_release(&res);
    pipe_setup_release(&setup);
}

/* The bound of `setup` is positive and at most its simulated step; releases the setup. */
static void assert_bound_under_step(struct pipe_setup *setup, int trial)
{
    struct pipe_result res;
    simtime_t bound = plan_bound_step(setup), step = simulated_step(setup, &res);
    cr_assert_leq(bound, step, "%s pp=%d vp=%d trial %d: bound %lld > step %lld",
                  setup->schedule->name, setup->sp.pp, setup->sp.vp, trial, (long long)bound,
                  (long long)step);
    cr_assert_gt(bound, 0);
    pipe_result_release(&res);
    pipe_setup_release(setup);
}

/* Soundness: with stage durations drawn at random (1-10 ms, a fixed seed), the bound never
 * exceeds the simulated step, for every schedule family. */
Test(plan_bound, never_above_the_simulated_step)
{
    static const struct {
        const struct sched_type *type;
        int pp, vp, m, split;
    } cases[] = {
        {&sched_gpipe, 4, 1, 8, 0},       {&sched_1f1b, 4, 1, 8, 0},
        {&sched_1f1b, 3, 1, 5, 0},        {&sched_interleaved, 4, 2, 8, 0},
        {&sched_interleaved, 2, 3, 6, 0}, {&sched_zbh1, 4, 1, 8, 1},
        {&sched_zbv, 4, 2, 8, 1},         {&sched_dualpipe, 4, 2, 8, 1},
        {&sched_dualpipev, 4, 2, 8, 1},
    };
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 20261205);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        for (int trial = 0; trial < 5; trial++) {
            struct pipe_setup setup;
            uniform_setup(&setup, cases[k].type, cases[k].pp, cases[k].vp, cases[k].m,
                          cases[k].split, 0, 0, 0, 0);
            int stages = cases[k].pp * cases[k].vp;
            for (int s = 0; s < stages; s++) {
                setup.stage_fwd[s] = MS(1 + 9 * gsl_rng_uniform(rng));
                setup.stage_bwd[s] = MS(1 + 9 * gsl_rng_uniform(rng));
                setup.stage_wgt[s] = cases[k].split ? MS(1 + 4 * gsl_rng_uniform(rng)) : 0;
            }
            for (int r = 0; r < cases[k].pp; r++)
                setup.rank_opt[r] = MS(gsl_rng_uniform(rng));
            assert_bound_under_step(&setup, trial);
        }
    gsl_rng_free(rng);
}

/* Soundness under Megatron-Core's expert-parallel overlap (pair_steady): a steady-state F and
 * the B after it run as one pair, each hiding the other's exchanges, so an op may take less
 * than its duration -- never less than its compute.  With random exchanges inside the ops
 * (up to all of each), the bound stays at or under the simulated step for 1F1B and the
 * interleaved schedule.  (It had summed whole ops and stood up to 1.56x over real steps, so
 * the planner pruned configs faster than the ones it listed.) */
Test(plan_bound, never_above_the_step_with_overlapped_steady_pairs)
{
    static const struct {
        const struct sched_type *type;
        int pp, vp, m;
    } cases[] = {{&sched_1f1b, 4, 1, 8}, {&sched_1f1b, 1, 1, 6}, {&sched_interleaved, 4, 2, 8},
                 {&sched_interleaved, 2, 3, 6}};
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 20261206);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        for (int trial = 0; trial < 5; trial++) {
            struct pipe_setup setup;
            struct sched_params sp = {cases[k].pp, cases[k].vp, cases[k].m, 0, 0, 1};
            struct sim_error err;
            cr_assert_eq(pipe_setup_init(&setup, cases[k].type, &sp, &err), SIM_OK, "%s",
                         err.msg);
            for (int s = 0; s < cases[k].pp * cases[k].vp; s++) {
                setup.stage_fwd[s] = MS(1 + 9 * gsl_rng_uniform(rng));
                setup.stage_bwd[s] = MS(1 + 9 * gsl_rng_uniform(rng));
                setup.stage_fwd_comm[s] = (simtime_t)(setup.stage_fwd[s] * gsl_rng_uniform(rng));
                setup.stage_bwd_comm[s] = (simtime_t)(setup.stage_bwd[s] * gsl_rng_uniform(rng));
                setup.stage_layers[s] = 1 + (int32_t)gsl_rng_uniform_int(rng, 3);
            }
            assert_bound_under_step(&setup, trial);
        }
    gsl_rng_free(rng);
}

/* The in-flight peaks read from the order alone: 1F1B's rank r holds pp - r micro-batches
 * (its warm-up forwards and one more), and the simulator counts the same. */
Test(plan_bound, peak_inflight_matches_the_simulation)
{
    struct pipe_setup setup;
    struct pipe_result res;
    uniform_setup(&setup, &sched_1f1b, 4, 1, 8, 0, MS(1), MS(2), 0, 0);
    int peak[8];
    cr_assert_eq(plan_bound_peak_inflight(&setup, peak), 0);
    simulated_step(&setup, &res);
    for (int r = 0; r < 4; r++) {
        cr_assert_eq(peak[r], 4 - r, "rank %d: %d", r, peak[r]);
        cr_assert_eq(peak[r], res.peak_inflight[r]);
        cr_assert_eq(peak[4 + r], 0, "1F1B has no overlapped pairs");
    }
    pipe_result_release(&res);
    pipe_setup_release(&setup);

    uniform_setup(&setup, &sched_interleaved, 2, 2, 4, 0, MS(1), MS(2), 0, 0);
    cr_assert_eq(plan_bound_peak_inflight(&setup, peak), 0);
    simulated_step(&setup, &res);
    for (int r = 0; r < 2; r++)
        cr_assert_eq(peak[r], res.peak_inflight[r], "interleaved rank %d", r);
    pipe_result_release(&res);
    pipe_setup_release(&setup);
}

/* The byte-weighted peak read from the order (plan_bound_rank_frontier) equals the simulated one,
 * whatever the chunks weigh: interleaved, ZB-V and DualPipeV over 4 ranks and 8 micro-batches
 * with every stage keeping its own number of bytes.  And by hand for interleaved on 2 ranks of
 * 2 chunks, 4 micro-batches, the first stage keeping 1 byte a micro-batch and the rest 10:
 * rank 0 runs F F (chunk 0), F F (chunk 1), F (chunk 0) before its first backward, holding 3
 * of chunk 0 and 2 of chunk 1 -- 3 + 20 = 23 bytes, its most -- where the chunks' mean (5.5)
 * times its peak of 5 in flight would say 27.5. */
Test(plan_bound, peak_act_matches_the_simulation)
{
    const struct sched_type *types[] = {&sched_interleaved, &sched_zbv, &sched_dualpipev};
    const int split[] = {0, 1, 1};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        struct pipe_setup setup;
        struct pipe_result res;
        uniform_setup(&setup, types[t], 4, 2, 8, split[t], MS(1), MS(2), MS(1), 0);
        for (int s = 0; s < 8; s++)
            setup.stage_act[s] = 1.0 + 3.0 * s + (s % 3) * 7.0;
        simulated_step(&setup, &res);
        for (int r = 0; r < 4; r++) {
            int *front = plan_bound_rank_frontier(&setup, r);
            cr_assert_not_null(front);
            double peak = plan_bound_peak_act(&setup, front, r, res.peak_inflight[r]);
            cr_assert_eq(peak, res.peak_act[r], "%s rank %d: %g vs %g", types[t]->name, r, peak,
                         res.peak_act[r]);
            mem_free(front);
        }
        pipe_result_release(&res);
        pipe_setup_release(&setup);
    }
    struct pipe_setup setup;
    struct pipe_result res;
    uniform_setup(&setup, &sched_interleaved, 2, 2, 4, 0, MS(1), MS(2), 0, 0);
    setup.stage_act[0] = 1.0;
    setup.stage_act[1] = setup.stage_act[2] = setup.stage_act[3] = 10.0;
    simulated_step(&setup, &res);
    cr_assert_eq(res.peak_act[0], 23.0, "%g", res.peak_act[0]);
    cr_assert_eq(res.peak_inflight[0], 5);
    pipe_result_release(&res);
    pipe_setup_release(&setup);
}

/* The pair bound counts each op at what the pipeline makes it take (warm-up and cool-down
 * alone, steady ops at their least pair duration): with random compute, exchanges up to 3x
 * the compute (exchange-bound experts), interference, uneven layer counts, split backwards
 * and group sizes, it stays at or under the simulated step -- and is never below the old
 * compute-only bound. */
Test(plan_bound, steady_pair_bound_is_sound_when_exchanges_dominate)
{
    static const struct {
        const struct sched_type *type;
        int pp, vp, m, group, split;
    } cases[] = {{&sched_1f1b, 1, 1, 1, 0, 0},         {&sched_1f1b, 1, 1, 7, 0, 0},
                 {&sched_1f1b, 4, 1, 8, 0, 0},         {&sched_1f1b, 4, 1, 3, 0, 1},
                 {&sched_1f1b, 8, 1, 32, 0, 0},        {&sched_interleaved, 4, 2, 8, 0, 0},
                 {&sched_interleaved, 2, 3, 6, 0, 1},  {&sched_interleaved, 4, 4, 16, 0, 0},
                 {&sched_interleaved, 4, 2, 12, 6, 0}, {&sched_interleaved, 3, 2, 7, 3, 0},
                 {&sched_interleaved, 8, 2, 64, 0, 0}};
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 20261207);
    double tightest = 0.0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        for (int trial = 0; trial < 200; trial++) {
            struct pipe_setup setup;
            struct pipe_result res;
            struct sched_params sp = {cases[k].pp,    cases[k].vp,    cases[k].m,
                                      cases[k].group, cases[k].split, 1};
            struct sim_error err;
            cr_assert_eq(pipe_setup_init(&setup, cases[k].type, &sp, &err), SIM_OK, "%s",
                         err.msg);
            setup.overlap_interference = trial % 3 == 0 ? 0.0 : gsl_rng_uniform(rng) * 0.5;
            int uneven = trial % 2;
            for (int s = 0; s < cases[k].pp * cases[k].vp; s++) {
                simtime_t cf = MS(1 + 9 * gsl_rng_uniform(rng)), cb = MS(1 + 9 * gsl_rng_uniform(rng));
                setup.stage_fwd_comm[s] = (simtime_t)(cf * 3 * gsl_rng_uniform(rng));
                setup.stage_bwd_comm[s] = (simtime_t)(cb * 3 * gsl_rng_uniform(rng));
                setup.stage_fwd[s] = cf + setup.stage_fwd_comm[s];
                setup.stage_bwd[s] = cb + setup.stage_bwd_comm[s];
                setup.stage_wgt[s] = MS(4 * gsl_rng_uniform(rng));
                setup.stage_layers[s] = uneven ? 1 + (int32_t)gsl_rng_uniform_int(rng, 4) : 4;
            }
            for (int r = 0; r < cases[k].pp; r++)
                setup.rank_opt[r] = MS(gsl_rng_uniform(rng));
            simtime_t bound = plan_bound_step(&setup), step = simulated_step(&setup, &res);
            cr_assert_leq(bound, step, "%s pp=%d vp=%d m=%d trial %d: bound %lld > step %lld",
                          setup.schedule->name, sp.pp, sp.vp, sp.microbatches, trial,
                          (long long)bound, (long long)step);
            /* the compute-only bound, for comparison */
            for (int s = 0; s < cases[k].pp * cases[k].vp; s++) {
                setup.stage_fwd[s] -= setup.stage_fwd_comm[s];
                setup.stage_bwd[s] -= setup.stage_bwd_comm[s];
                setup.stage_fwd_comm[s] = setup.stage_bwd_comm[s] = 0;
            }
            setup.sp.pair_steady = 0;
            simtime_t old = plan_bound_step(&setup);
            cr_assert_geq(bound, old, "trial %d: %lld < compute-only %lld", trial,
                          (long long)bound, (long long)old);
            tightest = (double)bound / step > tightest ? (double)bound / step : tightest;
            pipe_result_release(&res);
            pipe_setup_release(&setup);
        }
    cr_expect_gt(tightest, 0.99);
    gsl_rng_free(rng);
}
