/* test_pipeline: the step on the engine -- closed forms, a hand-worked link case, link
 * contention, memory in flight, determinism, golden timelines and deadlock detection. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "timeline.h"

static char kv[16][64];

/* Uniform unit costs: every layer 1 ms F, 1 ms B-input, 1 ms B-weight; free links. */
static const char *const *unit_sets(const char *sched, int p, int v, int m, int layers)
{
    static const char *list[17];
    snprintf(kv[0], sizeof kv[0], "schedule=%s", sched);
    snprintf(kv[1], sizeof kv[1], "pp=%d", p);
    snprintf(kv[2], sizeof kv[2], "vp=%d", v);
    snprintf(kv[3], sizeof kv[3], "microbatches=%d", m);
    snprintf(kv[4], sizeof kv[4], "layers=%d", layers);
    snprintf(kv[5], sizeof kv[5], "forward=1ms");
    snprintf(kv[6], sizeof kv[6], "backward-input=1ms");
    snprintf(kv[7], sizeof kv[7], "backward-weight=1ms");
    for (int i = 0; i < 8; i++)
        list[i] = kv[i];
    list[8] = NULL;
    return list;
}

static simtime_t makespan(const struct pipe_result *res)
{
    return res->compute_end - res->first_start;
}

Test(closed_form, one_f_one_b_and_gpipe_makespan_is_m_plus_p_minus_1_times_f_plus_b)
{
    const char *scheds[] = {"1f1b", "gpipe"};
    for (int s = 0; s < 2; s++)
        for (int p = 1; p <= 8; p++)
            for (int m = 1; m <= 17; m++) {
                struct sim_fixture f;
                int layers = 2 * p; /* f = 2 ms, b = 4 ms per stage */
                cr_assert_eq(fixture_run(&f, unit_sets(scheds[s], p, 1, m, layers)), SIM_OK, "%s",
                             f.err.msg);
                simtime_t fb = MS(2) + MS(4);
                cr_assert_eq(makespan(&f.res), (simtime_t)(m + p - 1) * fb, "%s p=%d m=%d: %lld ps",
                             scheds[s], p, m, (long long)makespan(&f.res));
                assert_sane_step(&f.setup, &f.res);
                fixture_release(&f);
            }
}

Test(closed_form, one_f_one_b_bubble_ratio_is_p_minus_1_over_m_plus_p_minus_1)
{
    for (int p = 1; p <= 8; p++)
        for (int m = 1; m <= 17; m++) {
            struct sim_fixture f;
            cr_assert_eq(fixture_run(&f, unit_sets("1f1b", p, 1, m, p)), SIM_OK);
            simtime_t busy = 0;
            for (int r = 0; r < p; r++)
                busy += f.res.busy[r];
            double ratio = 1.0 - (double)busy / ((double)p * (double)makespan(&f.res));
            double expect = (double)(p - 1) / (double)(m + p - 1);
            cr_assert_float_eq(ratio, expect, 1e-12, "p=%d m=%d", p, m);
            fixture_release(&f);
        }
}

Test(closed_form, interleaved_makespan_is_m_f_plus_b_plus_bubble_over_v)
{
    /* With g = p and m a multiple of p: m(f+b) + (p-1)(f+b)/v (Narayanan et al. 2021). */
    for (int p = 2; p <= 8; p *= 2)
        for (int v = 2; v <= 4; v++)
            for (int m = p; m <= 4 * p; m += p) {
                struct sim_fixture f;
                int layers = 2 * p * v; /* chunk: 2 layers, F = 2 ms, B = 4 ms */
                cr_assert_eq(fixture_run(&f, unit_sets("interleaved", p, v, m, layers)), SIM_OK,
                             "%s", f.err.msg);
                simtime_t stage_fb = (simtime_t)v * (MS(2) + MS(4)); /* f + b of a whole rank */
                simtime_t expect = (simtime_t)m * stage_fb + (simtime_t)(p - 1) * stage_fb / v;
                cr_assert_eq(makespan(&f.res), expect, "p=%d v=%d m=%d: got %lld expected %lld", p,
                             v, m, (long long)makespan(&f.res), (long long)expect);
                assert_sane_step(&f.setup, &f.res);
                fixture_release(&f);
            }
}

/* ZB-H1 with free links: m(F+B+W) + (p-1)(F+B-W) per stage (Qi et al. 2024, sec. 3.1), for
 * m >= p and W no longer than F or B (a longer W delays the neighbours' B's too); 1F1B on the
 * same costs takes (m+p-1)(F+B+W). */
Test(closed_form, zb_h1_makespan_is_m_f_b_w_plus_p_minus_1_times_f_plus_b_minus_w)
{
    static const struct {
        const char *f, *b, *w;
        int fi, bi, wi; /* in 0.5 ms units */
    } costs[] = {
        {"1ms", "1ms", "1ms", 2, 2, 2}, {"1ms", "2ms", "1ms", 2, 4, 2},
        {"2ms", "1ms", "1ms", 4, 2, 2}, {"1ms", "1ms", "0.5ms", 2, 2, 1},
        {"3ms", "2ms", "1ms", 6, 4, 2}, {"1ms", "1.5ms", "0.5ms", 2, 3, 1},
    };
    for (size_t c = 0; c < sizeof costs / sizeof costs[0]; c++)
        for (int p = 1; p <= 8; p++)
            for (int m = p; m <= 3 * p + 1; m++) {
                char sp[32], sm[32], sl[32], sf[32], sb[32], sw[32];
                snprintf(sp, sizeof sp, "pp=%d", p);
                snprintf(sm, sizeof sm, "microbatches=%d", m);
                snprintf(sl, sizeof sl, "layers=%d", p);
                snprintf(sf, sizeof sf, "forward=%s", costs[c].f);
                snprintf(sb, sizeof sb, "backward-input=%s", costs[c].b);
                snprintf(sw, sizeof sw, "backward-weight=%s", costs[c].w);
                const char *sets[] = {"schedule=zb-h1", sp, sm, sl, sf, sb, sw, NULL};
                struct sim_fixture f;
                cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
                simtime_t half = MS(0.5);
                simtime_t fbw = (costs[c].fi + costs[c].bi + costs[c].wi) * half;
                simtime_t bubble = (costs[c].fi + costs[c].bi - costs[c].wi) * half;
                simtime_t expect = (simtime_t)m * fbw + (simtime_t)(p - 1) * bubble;
                cr_assert_eq(makespan(&f.res), expect, "F=%s B=%s W=%s p=%d m=%d: %lld ps",
                             costs[c].f, costs[c].b, costs[c].w, p, m, (long long)makespan(&f.res));
                assert_sane_step(&f.setup, &f.res);
                fixture_release(&f);
            }
}

Test(closed_form, zb_h1_cuts_the_equal_cost_bubble_to_a_third_of_1f1b)
{
    struct sim_fixture a, b;
    cr_assert_eq(fixture_run(&a, unit_sets("1f1b", 4, 1, 8, 4)), SIM_OK);
    cr_assert_eq(fixture_run(&b, unit_sets("zb-h1", 4, 1, 8, 4)), SIM_OK);
    simtime_t ideal = 8 * MS(3);
    cr_assert_eq(makespan(&a.res), ideal + 3 * MS(3), "1F1B: (p-1)(F+B+W) of bubble");
    cr_assert_eq(makespan(&b.res), ideal + 3 * MS(1), "ZB-H1: (p-1)(F+B-W) of bubble");
    cr_assert_eq(a.res.busy[0], b.res.busy[0], "same work, only moved");
    fixture_release(&a);
    fixture_release(&b);
}

/* ZB-V with one layer per chunk, F = B = W = t and free links: once m >= 2p-1 every rank is
 * busy from its first op to its last, and rank r starts r forwards late, so the step is
 * 6mt + (p-1)t -- against 1F1B's (m+p-1) x 6t on the same layers. */
Test(closed_form, zb_v_makespan_is_6mt_plus_p_minus_1_t)
{
    for (int p = 1; p <= 8; p++)
        for (int m = 2 * p - 1; m <= 3 * p + 1; m++) {
            struct sim_fixture f;
            cr_assert_eq(fixture_run(&f, unit_sets("zb-v", p, 2, m, 2 * p)), SIM_OK, "%s",
                         f.err.msg);
            cr_assert_eq(makespan(&f.res), (simtime_t)(6 * m + p - 1) * MS(1), "p=%d m=%d: %lld", p,
                         m, (long long)makespan(&f.res));
            for (int r = 0; r < p; r++)
                cr_assert_eq(f.res.peak_inflight[r], 2 * p, "balanced: every rank holds 2p");
            assert_sane_step(&f.setup, &f.res);
            fixture_release(&f);
        }
    /* Fewer micro-batches still run (the order drops the missing ones). */
    for (int p = 2; p <= 8; p++)
        for (int m = 1; m < 2 * p - 1; m++) {
            struct sim_fixture f;
            cr_assert_eq(fixture_run(&f, unit_sets("zb-v", p, 2, m, 2 * p)), SIM_OK, "%s",
                         f.err.msg);
            assert_sane_step(&f.setup, &f.res);
            cr_assert_geq(makespan(&f.res), (simtime_t)(6 * m + p - 1) * MS(1));
            fixture_release(&f);
        }
}

/* DualPipe with F = B = W = t per chunk and free links: every rank works 3mt (m/2 micro-batches
 * through each of its two chunks) and idles (p/2-1)t, less than the (p/2-1)(F&B + B - 3W) =
 * (p/2-1)2t the DeepSeek-V3 report gives (its Table 2); every rank holds p+1 activations at
 * peak (the report's "PP+1"), and rank r's busy time mirrors rank p-1-r's. */
Test(closed_form, dualpipe_makespan_is_3mt_plus_half_p_minus_1_t)
{
    for (int p = 2; p <= 12; p += 2)
        for (int m = 2 * p; m <= 5 * p; m += 2) {
            struct sim_fixture f;
            cr_assert_eq(fixture_run(&f, unit_sets("dualpipe", p, 2, m, p)), SIM_OK, "%s",
                         f.err.msg);
            cr_assert_eq(makespan(&f.res), (simtime_t)(3 * m + p / 2 - 1) * MS(1),
                         "p=%d m=%d: %lld", p, m, (long long)makespan(&f.res));
            for (int r = 0; r < p; r++) {
                cr_assert_eq(f.res.peak_inflight[r], p + 1, "p=%d m=%d rank %d", p, m, r);
                cr_assert_eq(f.res.busy[r], (simtime_t)(3 * m) * MS(1));
                cr_assert_eq(f.res.compute_end_rank[r], f.res.compute_end_rank[p - 1 - r]);
            }
            assert_sane_step(&f.setup, &f.res);
            fixture_release(&f);
        }
}

/* DualPipeV with F = B = W = t per chunk and free links: 6mt + (p-1)t -- the bubble of the
 * 2p-rank DualPipe it is half of, and ZB-V's -- with 2p+1 chunk activations at peak. */
Test(closed_form, dualpipe_v_makespan_is_6mt_plus_p_minus_1_t)
{
    for (int p = 1; p <= 8; p++)
        for (int m = 2 * p; m <= 4 * p + 1; m++) {
            struct sim_fixture f;
            cr_assert_eq(fixture_run(&f, unit_sets("dualpipe-v", p, 2, m, 2 * p)), SIM_OK, "%s",
                         f.err.msg);
            cr_assert_eq(makespan(&f.res), (simtime_t)(6 * m + p - 1) * MS(1), "p=%d m=%d: %lld", p,
                         m, (long long)makespan(&f.res));
            for (int r = 0; r < p; r++)
                cr_assert_eq(f.res.peak_inflight[r], 2 * p + 1);
            assert_sane_step(&f.setup, &f.res);
            fixture_release(&f);
        }
}

/* Other cost ratios: never above the report's bubble, and the two halves still mirror. */
Test(closed_form, dualpipe_bubble_within_the_published_bound)
{
    static const char *const costs[][3] = {
        {"1ms", "2ms", "1ms"}, {"2ms", "2ms", "1ms"}, {"1ms", "1ms", "0.5ms"},
        {"1ms", "2ms", "2ms"}, {"3ms", "2ms", "1ms"}, {"1ms", "3ms", "1ms"},
    };
    for (size_t k = 0; k < sizeof costs / sizeof costs[0]; k++)
        for (int p = 4; p <= 10; p += 2)
            for (int m = 2 * p; m <= 4 * p; m += 2 * p) {
                const char *const *sets = unit_sets("dualpipe", p, 2, m, p);
                snprintf(kv[5], sizeof kv[5], "forward=%s", costs[k][0]);
                snprintf(kv[6], sizeof kv[6], "backward-input=%s", costs[k][1]);
                snprintf(kv[7], sizeof kv[7], "backward-weight=%s", costs[k][2]);
                struct sim_fixture f;
                cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
                simtime_t F = f.setup.stage_fwd[0], B = f.setup.stage_bwd[0],
                          W = f.setup.stage_wgt[0];
                simtime_t work = (simtime_t)m * (F + B + W), bubble = makespan(&f.res) - work;
                simtime_t full_b = B + W, f_and_b = F + full_b; /* no communication to hide */
                cr_assert_geq(bubble, 0);
                cr_assert_leq(bubble, (simtime_t)(p / 2 - 1) * (f_and_b + full_b - 3 * W),
                              "F %s B %s W %s p=%d m=%d: bubble %lld", costs[k][0], costs[k][1],
                              costs[k][2], p, m, (long long)bubble);
                for (int r = 0; r < p; r++)
                    cr_assert_eq(f.res.compute_end_rank[r], f.res.compute_end_rank[p - 1 - r]);
                assert_sane_step(&f.setup, &f.res);
                fixture_release(&f);
            }
}

/* An overlapped F&B pair: each op's communication hides behind the other's compute.  F = 3 ms
 * of which 1 ms is communication, B = 2 ms of which 1 ms: paired, F takes max(2, 1) and B
 * max(1, 1), plus the interference share of the shorter; the F's activation leaves with the
 * pair's end, not the F's. */
Test(overlap, dualpipe_pairs_hide_each_others_communication)
{
    struct sim_fixture f;
    const char *const *sets = unit_sets("dualpipe", 4, 2, 8, 4);
    snprintf(kv[5], sizeof kv[5], "forward=3ms");
    snprintf(kv[6], sizeof kv[6], "backward-input=2ms");
    cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
    pipe_result_release(&f.res);
    for (int s = 0; s < 8; s++) {
        f.setup.stage_fwd_comm[s] = MS(1);
        f.setup.stage_bwd_comm[s] = MS(1);
        f.setup.stage_layers[s] = 1; /* a layer each: pairs match them all */
    }
    f.setup.overlap_interference = 0.25;
    cr_assert_eq(pipe_run(&f.setup, &f.res, &f.err), SIM_OK, "%s", f.err.msg);
    int pairs = 0;
    for (size_t i = 0; i + 1 < f.res.nrecs; i++) {
        const struct pipe_record *r = &f.res.recs[i];
        if (r->kind != REC_F || r->peer >= 0)
            continue;
        simtime_t d = r->end - r->start;
        if (d == MS(3))
            continue; /* alone */
        cr_assert_eq(d, MS(2) + MS(1) / 4, "paired F: max(2, 1) + 0.25 x 1 ms");
        pairs++;
        /* its B follows at once and takes max(1, 1) + 0.25 x 1 ms */
        const struct pipe_record *b = NULL;
        for (size_t j = i + 1; j < f.res.nrecs && !b; j++)
            if (f.res.recs[j].rank == r->rank && f.res.recs[j].peer < 0)
                b = &f.res.recs[j];
        cr_assert(b && b->kind == REC_B && b->start == r->end);
        cr_assert_eq(b->end - b->start, MS(1) + MS(1) / 4);
        /* the F's activation is sent when the pair ends */
        for (size_t j = 0; j < f.res.nrecs; j++) {
            const struct pipe_record *x = &f.res.recs[j];
            if (x->kind == REC_SEND_ACT && x->rank == r->rank && x->mb == r->mb &&
                x->stage == r->stage + 1)
                cr_assert_eq(x->start, b->end, "activation leaves with the pair");
        }
    }
    cr_assert_gt(pairs, 0);
    assert_sane_step(&f.setup, &f.res);
    fixture_release(&f);
}

/* A pair's time against DualPipe's overlap (DeepSeek-V3 report sec. 3.2.1, fig. 4): the F's
 * compute runs beside the B's all-to-all and the B's beside the F's.  F = 10 ms compute + 6 ms
 * exchange, B = 20 + 6: each exchange is shorter than the compute beside it, so the pair takes
 * its 30 ms of compute, nothing exposed.  With the B's exchange 14 ms, 4 ms longer than the F's
 * compute, the F takes 14: exposed = the difference.  Interference 0.25 then charges a quarter
 * of the shorter of each op's compute and its partner's exchange. */
Test(overlap, pair_exposes_only_what_an_exchange_outlasts_the_compute_beside_it)
{
    simtime_t f = MS(16), fc = MS(6), b = MS(26), bc = MS(6), b_long = MS(34), bc_long = MS(14);
    cr_assert_eq(pipe_pair_duration(f, fc, bc, 1, 1, 0) + pipe_pair_duration(b, bc, fc, 1, 1, 0),
                 MS(30), "hidden: the pair is its compute");
    cr_assert_eq(pipe_pair_duration(f, fc, bc_long, 1, 1, 0), MS(14), "max(10, 14)");
    cr_assert_eq(pipe_pair_duration(b_long, bc_long, fc, 1, 1, 0), MS(20), "max(20, 6)");
    cr_assert_eq(pipe_pair_duration(f, fc, bc, 1, 1, 0.25), MS(10) + MS(6) / 4);
    cr_assert_eq(pipe_pair_duration(f, fc, bc_long, 1, 1, 0.25), MS(14) + MS(10) / 4);
    cr_assert_eq(pipe_pair_duration(b_long, bc_long, fc, 1, 1, 0.25), MS(20) + MS(6) / 4);
}

Test(closed_form, readme_example_interleaved_p4_v2_m8)
{
    struct sim_fixture f;
    cr_assert_eq(fixture_run(&f, unit_sets("interleaved", 4, 2, 8, 8)), SIM_OK);
    /* chunk = 1 layer: f + b per rank = 2 * (1 + 2) ms = 6 ms; 8*6 + 3*6/2 = 57 ms. */
    cr_assert_eq(makespan(&f.res), MS(57));
    fixture_release(&f);
}

Test(memory, peak_in_flight_follows_the_schedule)
{
    struct sim_fixture f;
    cr_assert_eq(fixture_run(&f, unit_sets("1f1b", 4, 1, 8, 4)), SIM_OK);
    for (int r = 0; r < 4; r++)
        cr_assert_eq(f.res.peak_inflight[r], 4 - r, "1F1B rank %d holds p - r", r);
    fixture_release(&f);
    cr_assert_eq(fixture_run(&f, unit_sets("gpipe", 4, 1, 8, 4)), SIM_OK);
    for (int r = 0; r < 4; r++)
        cr_assert_eq(f.res.peak_inflight[r], 8, "GPipe holds all m");
    fixture_release(&f);
    cr_assert_eq(fixture_run(&f, unit_sets("1f1b", 4, 1, 2, 4)), SIM_OK);
    cr_assert_eq(f.res.peak_inflight[0], 2, "m < p: at most m");
    fixture_release(&f);
    /* Interleaved rank 0: warm-up 2(p-1) + (v-1)p = 10 forwards, then one more before the
     * first backward frees one. */
    cr_assert_eq(fixture_run(&f, unit_sets("interleaved", 4, 2, 8, 8)), SIM_OK);
    cr_assert_eq(f.res.peak_inflight[0], 11);
    cr_assert_eq(f.res.peak_inflight[3], 5);
    fixture_release(&f);
    /* ZB-H1: an activation is held until its W; rank r holds r more W's back than 1F1B, so
     * every rank reaches p -- 1F1B's rank-0 peak. */
    cr_assert_eq(fixture_run(&f, unit_sets("zb-h1", 4, 1, 8, 4)), SIM_OK);
    for (int r = 0; r < 4; r++)
        cr_assert_eq(f.res.peak_inflight[r], 4, "ZB-H1 rank %d holds p", r);
    fixture_release(&f);
}

/* scenarios/two_stage_link.xml worked by hand.  F = 2 ms, B = 4 ms per stage; every transfer
 * is 1 MB / 1 GBps = 1 ms on the wire + 0.5 ms latency = 1.5 ms; optimizer 1 ms.
 *   rank 0: F0 0-2   F1 2-4   (wait)  B0 11-15  F2 15-17  B1 17-21  (wait)  B2 26-30  OPT 30-31
 *   rank 1: F0 3.5-5.5  B0 5.5-9.5  F1 9.5-11.5  B1 11.5-15.5  F2 18.5-20.5  B2 20.5-24.5
 * B0 on rank 0 waits for the gradient sent at 9.5 (arrives 11); F2 on rank 1 waits for the
 * activation sent at 17 (arrives 18.5); B2 on rank 0 waits for 24.5 + 1.5 = 26.  Without the
 * link the step would be (m+p-1)(f+b) + opt = 25 ms; the transfers add 6 ms on the critical
 * path: 4 hand-offs of 1.5 ms. */
Test(hand_worked, two_stages_with_a_real_link)
{
    struct sim_fixture f;
    const char *sets[] = {"schedule=1f1b",        "pp=2",
                          "microbatches=3",       "layers=4",
                          "forward=1ms",          "backward-input=1ms",
                          "backward-weight=1ms",  "activation=1MB",
                          "optimizer=1ms",        "link-latency=0.5ms",
                          "link-bandwidth=1GBps", NULL};
    cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
    assert_sane_step(&f.setup, &f.res);
    struct {
        int rank;
        const char *op;
        int mb;
        double start_ms, end_ms;
    } expect[] = {
        {0, "F", 0, 0, 2},       {0, "F", 1, 2, 4},       {1, "F", 0, 3.5, 5.5},
        {1, "B", 0, 5.5, 9.5},   {1, "F", 1, 9.5, 11.5},  {0, "B", 0, 11, 15},
        {1, "B", 1, 11.5, 15.5}, {0, "F", 2, 15, 17},     {0, "B", 1, 17, 21},
        {1, "F", 2, 18.5, 20.5}, {1, "B", 2, 20.5, 24.5}, {1, "OPT", -1, 24.5, 25.5},
        {0, "B", 2, 26, 30},     {0, "OPT", -1, 30, 31},
    };
    size_t k = 0;
    for (size_t i = 0; i < f.res.nrecs; i++) {
        const struct pipe_record *r = &f.res.recs[i];
        if (r->peer >= 0)
            continue;
        cr_assert_lt(k, sizeof expect / sizeof expect[0]);
        cr_assert_eq(r->rank, expect[k].rank, "op %zu rank", k);
        cr_assert_str_eq(rec_kind_name(r->kind), expect[k].op, "op %zu kind", k);
        cr_assert_eq(r->mb, expect[k].mb, "op %zu mb", k);
        cr_assert_eq(r->start, MS(expect[k].start_ms), "op %zu start", k);
        cr_assert_eq(r->end, MS(expect[k].end_ms), "op %zu end", k);
        k++;
    }
    cr_assert_eq(k, sizeof expect / sizeof expect[0]);
    cr_assert_eq(f.res.step_end, MS(31));
    cr_assert_eq(makespan(&f.res), MS(30));
    /* 14 op ends, and per transfer (6) its link's free and its arrival: link-frees the engine
     * never queued (pipeline.c, link_start) still count. */
    cr_assert_eq(f.res.events, 14 + 6 * 2);
    fixture_release(&f);
}

/* One link direction carries one transfer at a time: GPipe on 2 ranks, F = 1 ms, each
 * activation takes 2 ms on the wire.  Sends are ready at 1, 2, 3 ms but leave at 1, 3, 5 ms. */
Test(links, transfers_on_one_direction_queue)
{
    struct sim_fixture f;
    const char *sets[] = {
        "schedule=gpipe",     "pp=2",           "microbatches=3",       "layers=2", "forward=1ms",
        "backward-input=1ms", "activation=2MB", "link-bandwidth=1GBps", NULL};
    cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
    assert_sane_step(&f.setup, &f.res);
    simtime_t send_start[3] = {0}, f1_start[3] = {0};
    for (size_t i = 0; i < f.res.nrecs; i++) {
        const struct pipe_record *r = &f.res.recs[i];
        if (r->kind == REC_SEND_ACT)
            send_start[r->mb] = r->start;
        if (r->kind == REC_F && r->rank == 1)
            f1_start[r->mb] = r->start;
    }
    cr_assert_eq(send_start[0], MS(1));
    cr_assert_eq(send_start[1], MS(3), "second send waits for the first");
    cr_assert_eq(send_start[2], MS(5));
    cr_assert_eq(f1_start[0], MS(3));
    cr_assert_eq(f1_start[1], MS(5));
    cr_assert_eq(f1_start[2], MS(7));
    fixture_release(&f);
}

Test(links, opposite_directions_do_not_contend)
{
    /* Activations 0->1 and gradients 1->0 use different directions: with 1F1B on two ranks
     * a gradient send never waits for an activation send. */
    struct sim_fixture f;
    const char *sets[] = {
        "schedule=1f1b",      "pp=2",           "microbatches=8",       "layers=2", "forward=1ms",
        "backward-input=1ms", "activation=1MB", "link-bandwidth=1GBps", NULL};
    cr_assert_eq(fixture_run(&f, sets), SIM_OK);
    assert_sane_step(&f.setup, &f.res);
    for (size_t i = 0; i < f.res.nrecs; i++) {
        const struct pipe_record *r = &f.res.recs[i];
        if (r->kind == REC_SEND_GRAD) {
            /* the B it follows ended exactly at the send's start */
            int found = 0;
            for (size_t j = 0; j < i; j++)
                found |= f.res.recs[j].kind == REC_B && f.res.recs[j].rank == r->rank &&
                         f.res.recs[j].mb == r->mb && f.res.recs[j].end == r->start;
            cr_assert(found, "gradient send of mb %d left late", r->mb);
        }
    }
    fixture_release(&f);
}

Test(split, w_ops_take_the_weight_time_and_send_gradients_earlier)
{
    struct sim_fixture a, b;
    const char *const *s = unit_sets("1f1b", 4, 1, 8, 8);
    cr_assert_eq(fixture_run(&a, s), SIM_OK);
    const char *split[10];
    for (int i = 0; s[i]; i++) {
        split[i] = s[i];
        split[i + 1] = NULL;
    }
    int n = 0;
    while (split[n])
        n++;
    split[n] = "split-backward=true";
    split[n + 1] = NULL;
    cr_assert_eq(fixture_run(&b, split), SIM_OK);
    assert_sane_step(&b.setup, &b.res);
    /* The gradient leaves after B-input instead of after the whole backward, so upstream
     * ranks can only start earlier; the work itself is unchanged. */
    cr_assert_leq(makespan(&b.res), makespan(&a.res));
    for (int r = 0; r < 4; r++)
        cr_assert_eq(a.res.busy[r], b.res.busy[r]);
    size_t nw = 0;
    for (size_t i = 0; i < b.res.nrecs; i++)
        if (b.res.recs[i].kind == REC_W) {
            nw++;
            cr_assert_eq(b.res.recs[i].end - b.res.recs[i].start, MS(2), "W = 2 layers x 1 ms");
        }
    cr_assert_eq(nw, 4u * 8u);
    fixture_release(&a);
    fixture_release(&b);
}

Test(determinism, identical_inputs_give_identical_records)
{
    struct sim_fixture a, b;
    const char *sets[] = {"schedule=interleaved",
                          "pp=4",
                          "vp=3",
                          "microbatches=12",
                          "layers=24",
                          "forward=0.7ms",
                          "backward-input=1.3ms",
                          "backward-weight=0.9ms",
                          "activation=48MiB",
                          "link-bandwidth=25GBps",
                          "link-latency=3us",
                          "optimizer=5ms",
                          NULL};
    cr_assert_eq(fixture_run(&a, sets), SIM_OK, "%s", a.err.msg);
    cr_assert_eq(fixture_run(&b, sets), SIM_OK);
    assert_sane_step(&a.setup, &a.res);
    cr_assert_eq(a.res.nrecs, b.res.nrecs);
    cr_assert_eq(memcmp(a.res.recs, b.res.recs, a.res.nrecs * sizeof a.res.recs[0]), 0);
    fixture_release(&a);
    fixture_release(&b);
}

/* The layout values the link sanity sweeps vary, as --set strings. */
struct sweep_sets {
    char pp[32], mb[32], layers[32], latency[32];
};

static void sweep_sets_fill(struct sweep_sets *v, int p, int m, int layers, const char *latency)
{
    snprintf(v->pp, sizeof v->pp, "pp=%d", p);
    snprintf(v->mb, sizeof v->mb, "microbatches=%d", m);
    snprintf(v->layers, sizeof v->layers, "layers=%d", layers);
    snprintf(v->latency, sizeof v->latency, "link-latency=%s", latency);
}

Test(sanity, many_configs_with_links_pass_the_rule_checks)
{
    const char *lat[] = {"0s", "2us", "1ms"};
    for (int p = 1; p <= 6; p++)
        for (int m = 1; m <= 13; m += 3)
            for (int l = 0; l < 3; l++) {
                struct sweep_sets v;
                sweep_sets_fill(&v, p, m, 12 * p, lat[l]);
                const char *sp = v.pp, *sm = v.mb, *sl = v.layers, *slat = v.latency;
                const char *sets[] = {"schedule=1f1b",
                                      sp,
                                      sm,
                                      sl,
                                      "forward=0.3ms",
                                      "backward-input=0.6ms",
                                      "activation=8MB",
                                      "link-bandwidth=10GBps",
                                      slat,
                                      NULL};
                struct sim_fixture f;
                cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
                assert_sane_step(&f.setup, &f.res);
                fixture_release(&f);
                const char *zsets[] = {"schedule=zb-h1",
                                       sp,
                                       sm,
                                       sl,
                                       "forward=0.3ms",
                                       "backward-input=0.4ms",
                                       "backward-weight=0.2ms",
                                       "activation=8MB",
                                       "link-bandwidth=10GBps",
                                       slat,
                                       NULL};
                cr_assert_eq(fixture_run(&f, zsets), SIM_OK, "%s", f.err.msg);
                assert_sane_step(&f.setup, &f.res);
                fixture_release(&f);
                /* ZB-V on a V: the second half's activations travel up the ranks. */
                zsets[0] = "schedule=zb-v";
                const char *vsets[] = {"vp=2", NULL};
                const char *all[16];
                int n = 0;
                for (int i = 0; zsets[i]; i++)
                    all[n++] = zsets[i];
                all[n++] = vsets[0];
                all[n] = NULL;
                cr_assert_eq(fixture_run(&f, all), SIM_OK, "%s", f.err.msg);
                assert_sane_step(&f.setup, &f.res);
                fixture_release(&f);
                if (p >= 2 && m >= p) {
                    const char *isets[] = {"schedule=interleaved",
                                           sp,
                                           sm,
                                           sl,
                                           "vp=2",
                                           "forward=0.3ms",
                                           "backward-input=0.6ms",
                                           "activation=8MB",
                                           "link-bandwidth=10GBps",
                                           slat,
                                           NULL};
                    enum sim_status st = fixture_run(&f, isets);
                    if (st == SIM_OK)
                        assert_sane_step(&f.setup, &f.res);
                    else
                        cr_assert_eq(st, SIM_EINPUT, "%s", f.err.msg);
                    fixture_release(&f);
                }
            }
}

/* DualPipe with real links (latency, bandwidth, contention between the two directions'
 * traffic), blocking P2P and jitter: every order runs to the end and passes the step rules. */
Test(sanity, dualpipe_with_links_blocking_and_jitter)
{
    const char *lat[] = {"0s", "2us", "1ms"};
    for (int p = 2; p <= 10; p += 2)
        for (int m = 2 * p; m <= 4 * p + 2; m += p + 2)
            for (int l = 0; l < 3; l++)
                for (int variant = 0; variant < 2; variant++) {
                    char sp[32], sm[32], sl[32], slat[32];
                    snprintf(sp, sizeof sp, "pp=%d", p);
                    snprintf(sm, sizeof sm, "microbatches=%d", m + (m % 2));
                    snprintf(sl, sizeof sl, "layers=%d", 3 * p);
                    snprintf(slat, sizeof slat, "link-latency=%s", lat[l]);
                    const char *sets[] = {"schedule=dualpipe",
                                          "vp=2",
                                          sp,
                                          sm,
                                          sl,
                                          "forward=0.3ms",
                                          "backward-input=0.4ms",
                                          "backward-weight=0.2ms",
                                          "activation=8MB",
                                          "link-bandwidth=10GBps",
                                          slat,
                                          variant ? "jitter=0.2" : "seed=7",
                                          NULL};
                    struct sim_fixture f;
                    cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
                    assert_sane_step(&f.setup, &f.res);
                    pipe_result_release(&f.res);
                    f.setup.blocking_p2p = 1;
                    cr_assert_eq(pipe_run(&f.setup, &f.res, &f.err), SIM_OK, "%s", f.err.msg);
                    assert_sane_step(&f.setup, &f.res);
                    fixture_release(&f);
                }
}

/* A schedule whose order cannot run: the last rank runs a backward before its forward. */
static enum sim_status bad_check(const struct sched_params *sp, struct sched_blame *blame,
                                 struct sim_error *err)
{
    (void)sp;
    (void)blame;
    (void)err;
    return SIM_OK;
}
static void bad_build(const struct sched_params *sp, int rank, struct sched_op *out)
{
    (void)sp;
    (void)rank;
    out[0] = (struct sched_op){OP_B, 0, 0, SCHED_ALONE};
    out[1] = (struct sched_op){OP_F, 0, 0, SCHED_ALONE};
}
static const struct sched_type bad_type = {
    .name = "bad", .summary = "B before F", .check = bad_check, .build = bad_build};

Test(deadlock, an_unexecutable_order_is_reported_not_hung)
{
    struct sched_params sp = {2, 1, 1, 0, 0, 0};
    struct pipe_setup setup;
    struct pipe_result res;
    struct sim_error err;
    cr_assert_eq(pipe_setup_init(&setup, &bad_type, &sp, &err), SIM_OK);
    cr_assert_eq(pipe_run(&setup, &res, &err), SIM_EFAIL);
    cr_assert(strstr(err.msg, "deadlock") != NULL, "%s", err.msg);
    pipe_setup_release(&setup);
}

static void check_golden(const char *name, const char *const *sets)
{
    struct sim_fixture f;
    cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    timeline_write_csv(mem, &f.res);
    fclose(mem);
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/golden/%s.csv", TOP_SRCDIR, name);
    FILE *g = fopen(path, "r");
    if (!g && getenv("STEPSIM_UPDATE_GOLDEN")) {
        g = fopen(path, "w");
        fwrite(buf, 1, len, g);
        fclose(g);
        g = fopen(path, "r");
    }
    cr_assert_not_null(g, "missing golden file %s", path);
    char *want = calloc(1, len + 2);
    size_t got = fread(want, 1, len + 1, g);
    fclose(g);
    cr_assert_eq(got, len, "%s: golden has %zu bytes, simulation wrote %zu", name, got, len);
    cr_assert_eq(memcmp(want, buf, len), 0, "%s differs from its golden timeline", name);
    free(want);
    free(buf);
    fixture_release(&f);
}

Test(golden, two_stage_link_timeline)
{
    const char *sets[] = {"schedule=1f1b",        "pp=2",
                          "microbatches=3",       "layers=4",
                          "forward=1ms",          "backward-input=1ms",
                          "backward-weight=1ms",  "activation=1MB",
                          "optimizer=1ms",        "link-latency=0.5ms",
                          "link-bandwidth=1GBps", NULL};
    check_golden("two_stage_link", sets);
}

Test(golden, interleaved_p2_v2_m4_timeline)
{
    const char *sets[] = {"schedule=interleaved",
                          "pp=2",
                          "vp=2",
                          "microbatches=4",
                          "layers=4",
                          "forward=1ms",
                          "backward-input=1ms",
                          "backward-weight=1ms",
                          "activation=1MB",
                          "link-bandwidth=4GBps",
                          NULL};
    check_golden("interleaved_p2_v2_m4", sets);
}

/* Jitter: log-normal factors of mean 1 drawn from the step's own seeded GSL RNG. */
Test(jitter, same_seed_same_step_other_seed_other_step_mean_preserved)
{
    const char *base[] = {"schedule=1f1b", "pp=4",        "microbatches=64",
                          "layers=4",      "forward=1ms", "backward-input=2ms",
                          "jitter=0.1",    "seed=7",      NULL};
    struct sim_fixture a, b, c, exact;
    cr_assert_eq(fixture_run(&a, base), SIM_OK, "%s", a.err.msg);
    cr_assert_eq(fixture_run(&b, base), SIM_OK);
    assert_sane_step(&a.setup, &a.res);
    cr_assert_eq(a.res.nrecs, b.res.nrecs);
    cr_assert_eq(memcmp(a.res.recs, b.res.recs, a.res.nrecs * sizeof a.res.recs[0]), 0);
    const char *other[] = {"schedule=1f1b", "pp=4",        "microbatches=64",
                           "layers=4",      "forward=1ms", "backward-input=2ms",
                           "jitter=0.1",    "seed=8",      NULL};
    cr_assert_eq(fixture_run(&c, other), SIM_OK);
    cr_assert_neq(a.res.compute_end, c.res.compute_end, "another seed, another step");
    const char *none[] = {
        "schedule=1f1b",      "pp=4", "microbatches=64", "layers=4", "forward=1ms",
        "backward-input=2ms", NULL};
    cr_assert_eq(fixture_run(&exact, none), SIM_OK);
    /* 4 x 128 ops with CV 0.1: the total busy time stays within ~2% of the exact one, and the
     * slowest op on the critical path makes the jittered step longer, never shorter on average. */
    simtime_t busy_a = 0, busy_x = 0;
    for (int r = 0; r < 4; r++) {
        busy_a += a.res.busy[r];
        busy_x += exact.res.busy[r];
    }
    cr_assert_float_eq((double)busy_a / (double)busy_x, 1.0, 0.02);
    cr_assert_gt(a.res.compute_end, exact.res.compute_end);
    fixture_release(&a);
    fixture_release(&b);
    fixture_release(&c);
    fixture_release(&exact);
}

/* Every seed its own stream: GSL's mt19937 maps seed 0 to its default 4357, so stepsim shifts
 * seeds by one -- 0 must differ from 4357 and from 1, and the largest seed must run. */
static simtime_t jittered_end(const char *seed)
{
    const char *sets[] = {"schedule=1f1b",      "pp=4",       "microbatches=16", "layers=4",
                          "forward=1ms",        "jitter=0.1", seed,              NULL};
    struct sim_fixture f;
    cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s: %s", seed, f.err.msg);
    simtime_t end = f.res.compute_end;
    fixture_release(&f);
    return end;
}

Test(jitter, every_seed_is_its_own_stream)
{
    simtime_t s0 = jittered_end("seed=0"), s1 = jittered_end("seed=1");
    simtime_t s4356 = jittered_end("seed=4356"), s4357 = jittered_end("seed=4357");
    simtime_t top = jittered_end("seed=2147483647");
    cr_expect_neq(s0, s4357, "seed 0 runs GSL's default seed 4357");
    cr_expect_neq(s0, s1);
    cr_expect_neq(s4356, s4357);
    cr_expect_neq(top, s0);
}

/* Data-parallel gradient reduction on each rank's comm stream.  Interleaved p=2 v=2 m=2 with
 * 1 ms F / 2 ms B per chunk: each chunk's reduction takes 3 ms, its last bucket 1 ms.  Without
 * overlap both run after the rank's last backward (6 ms on the critical path); with overlap
 * each runs during its chunk's last backward, so only part of it stays exposed. */
static void one_two_ms_setup(struct pipe_setup *setup, const struct sched_type *type,
                             struct sched_params sp)
{
    struct sim_error err;
    cr_assert_eq(pipe_setup_init(setup, type, &sp, &err), SIM_OK);
    for (int s = 0; s < sp.pp * sp.vp; s++) {
        setup->stage_fwd[s] = MS(1);
        setup->stage_bwd[s] = MS(2);
    }
}

static simtime_t dp_step(int overlap, simtime_t *compute_end)
{
    struct pipe_setup setup;
    struct pipe_result res;
    struct sim_error err;
    one_two_ms_setup(&setup, &sched_interleaved, (struct sched_params){2, 2, 2, 0, 0, 0});
    for (int s = 0; s < 4; s++) {
        setup.stage_dp[s] = MS(3);
        setup.stage_dp_tail[s] = MS(1);
    }
    setup.rank_opt[0] = setup.rank_opt[1] = MS(1);
    setup.rank_param_ag[0] = setup.rank_param_ag[1] = MS(2);
    setup.overlap_grad_reduce = overlap;
    cr_assert_eq(pipe_run(&setup, &res, &err), SIM_OK, "%s", err.msg);
    simtime_t step = res.step_end - res.first_start;
    *compute_end = res.compute_end;
    int nsync = 0, nag = 0;
    for (size_t i = 0; i < res.nrecs; i++) {
        const struct pipe_record *r = &res.recs[i];
        if (r->kind == REC_DP_SYNC) {
            nsync++;
            cr_assert_geq(r->end - r->start, MS(3));
            /* Without overlap it starts after its chunk's backwards; with overlap during the
             * last one, ending no earlier than that backward's end + the last bucket (1 ms). */
            for (size_t j = 0; j < res.nrecs; j++)
                if (res.recs[j].kind == REC_B && res.recs[j].rank == r->rank &&
                    res.recs[j].chunk == r->chunk) {
                    if (overlap)
                        cr_assert_leq(res.recs[j].start, r->start);
                    else
                        cr_assert_leq(res.recs[j].end, r->start);
                    cr_assert_geq(r->end, res.recs[j].end + (overlap ? MS(1) : MS(3)));
                }
        }
        if (r->kind == REC_OPT) /* after all of its rank's reductions */
            for (size_t j = 0; j < res.nrecs; j++)
                if (res.recs[j].kind == REC_DP_SYNC && res.recs[j].rank == r->rank)
                    cr_assert_leq(res.recs[j].end, r->start);
        nag += r->kind == REC_PARAM_AG;
    }
    cr_assert_eq(nsync, 4);
    cr_assert_eq(nag, 2);
    pipe_result_release(&res);
    pipe_setup_release(&setup);
    return step;
}

Test(data_parallel, reductions_after_backwards_then_optimizer_then_gather)
{
    simtime_t end_plain, end_overlap;
    simtime_t plain = dp_step(0, &end_plain), overlapped = dp_step(1, &end_overlap);
    cr_assert_eq(end_plain, end_overlap, "the pipeline itself is unchanged");
    /* Rank 0 finishes last; without overlap: compute end + 2 x 3 ms + 1 ms opt + 2 ms gather. */
    cr_assert_eq(plain, end_plain + MS(6) + MS(1) + MS(2));
    cr_assert_lt(overlapped, plain, "overlap hides part of the reduction");
    cr_assert_geq(overlapped, end_overlap + MS(1) + MS(1) + MS(2),
                  "the last bucket's reduction cannot be hidden");
}

/* defer-head-wgrad: 1F1B p=2 m=1 with 1 ms F / 2 ms B, the head's rank 1 ending its backward
 * at 4 ms; its optimizer op holds 3 ms of deferred head weight gradients and 2 ms more.
 * Megatron-Core launches the rank's reduction during that backward (the deferred layer's hook
 * fires too) and runs the deferred GEMMs beside it, before finalize_model_grads waits for it;
 * without overlap the reduction runs after them.  Returns rank 1's OPT record's start and end,
 * and its opt_hidden. */
static void deferred_head(int overlap, simtime_t dp, simtime_t *start, simtime_t *end,
                          simtime_t *hidden)
{
    struct pipe_setup setup;
    struct pipe_result res;
    struct sim_error err;
    one_two_ms_setup(&setup, &sched_1f1b, (struct sched_params){2, 1, 1, 0, 0, 0});
    setup.stage_dp[1] = setup.stage_dp_tail[1] = dp; /* one bucket: all after the backward */
    setup.rank_opt[0] = MS(1);
    setup.rank_opt[1] = MS(5);
    setup.rank_deferred[1] = MS(3);
    setup.overlap_grad_reduce = overlap;
    cr_assert_eq(pipe_run(&setup, &res, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(res.compute_end_rank[1] - res.first_start, MS(4));
    *start = *end = -1;
    for (size_t i = 0; i < res.nrecs; i++)
        if (res.recs[i].kind == REC_OPT && res.recs[i].rank == 1) {
            *start = res.recs[i].start - res.first_start;
            *end = res.recs[i].end - res.first_start;
        }
    *hidden = res.opt_hidden[1];
    cr_assert_eq(res.opt_hidden[0], 0);
    pipe_result_release(&res);
    pipe_setup_release(&setup);
}

Test(data_parallel, deferred_head_wgrad_runs_beside_the_reduction)
{
    simtime_t start, end, hidden;
    /* reduction 4 ms, to 8 ms: the deferred 3 ms ran within it; 2 ms of optimizer after */
    deferred_head(1, MS(4), &start, &end, &hidden);
    cr_assert_eq(hidden, MS(3));
    cr_assert_eq(start, MS(8));
    cr_assert_eq(end, MS(10));
    /* reduction 2 ms, to 6 ms: 2 of the 3 ms ran under it, the last 1 ms then 2 ms: 4+3+2 */
    deferred_head(1, MS(2), &start, &end, &hidden);
    cr_assert_eq(hidden, MS(2));
    cr_assert_eq(start, MS(6));
    cr_assert_eq(end, MS(9));
    /* no overlap: the reduction starts after the last backward, all in series: 4+3+4+2 */
    deferred_head(0, MS(4), &start, &end, &hidden);
    cr_assert_eq(hidden, 0);
    cr_assert_eq(start, MS(8));
    cr_assert_eq(end, MS(13));
}

/* Two ranks with blocking P2P over 1 GB/s links without latency: F and B times per stage,
 * `bytes` per transfer. */
static void two_blocking_ranks(struct pipe_setup *setup, const struct sched_type *type,
                               int microbatches, simtime_t f, simtime_t b, double bytes)
{
    struct sched_params sp = {2, 1, microbatches, 0, 0, 0};
    struct sim_error err;
    cr_assert_eq(pipe_setup_init(setup, type, &sp, &err), SIM_OK, "%s", err.msg);
    setup->stage_fwd[0] = setup->stage_fwd[1] = f;
    setup->stage_bwd[0] = setup->stage_bwd[1] = b;
    setup->act_bytes = bytes;
    for (int l = 0; l < 4; l++)
        setup->links[l] = (struct pipe_link){0, 1e9};
    setup->blocking_p2p = 1;
}

/* Blocking P2P (Megatron without P2P overlap): the sender waits for its transfer to land.
 * GPipe on two ranks, F = 1 ms, transfers 2 ms: rank 0's forwards start 0, 3, 6 ms instead
 * of 0, 1, 2 ms. */
Test(links, blocking_p2p_holds_the_sender)
{
    struct pipe_setup setup;
    struct pipe_result res;
    struct sim_error err;
    two_blocking_ranks(&setup, &sched_gpipe, 3, MS(1), MS(1), 2e6);
    cr_assert_eq(pipe_run(&setup, &res, &err), SIM_OK, "%s", err.msg);
    simtime_t f0[3] = {0};
    for (size_t i = 0; i < res.nrecs; i++)
        if (res.recs[i].kind == REC_F && res.recs[i].rank == 0)
            f0[res.recs[i].mb] = res.recs[i].start;
    cr_assert_eq(f0[0], 0);
    cr_assert_eq(f0[1], MS(3));
    cr_assert_eq(f0[2], MS(6));
    pipe_result_release(&res);
    pipe_setup_release(&setup);
}

/* Rendezvous P2P (DeepSpeed's pipeline engine): a transfer starts only when its receiver has
 * posted the receive, and a B's gradient leaves only after the next F's activation is in.
 * 1F1B on two ranks, two micro-batches, F = 1 ms, B = 2 ms, transfers 0.5 ms.  Blocking
 * alone: rank 0 F0 0-1, act0 1-1.5, F1 1.5-2.5, act1 2.5-3; rank 1 F0 1.5-2.5, B0 2.5-4.5,
 * grad0 4.5-5, F1 5-6, B1 6-8, grad1 8-8.5; rank 0 B0 5-7, B1 8.5-10.5.  With rendezvous
 * act1 waits until rank 1 is free with F1 next (4.5): act1 4.5-5; rank 1 holds grad0 until
 * act1 is in: grad0 5-5.5, F1 5.5-6.5, B1 6.5-8.5, grad1 8.5-9; rank 0 B0 5.5-7.5, B1 9-11. */
Test(links, rendezvous_p2p_waits_for_the_receive)
{
    struct pipe_setup setup;
    struct pipe_result res;
    struct sim_error err;
    two_blocking_ranks(&setup, &sched_1f1b, 2, MS(1), MS(2), 5e5);
    for (int rv = 0; rv < 2; rv++) {
        setup.rendezvous_p2p = rv;
        cr_assert_eq(pipe_run(&setup, &res, &err), SIM_OK, "%s", err.msg);
        simtime_t b0[2] = {0}, f1 = 0;
        for (size_t i = 0; i < res.nrecs; i++) {
            const struct pipe_record *r = &res.recs[i];
            if (r->kind == REC_B && r->rank == 0)
                b0[r->mb] = r->start;
            if (r->kind == REC_F && r->rank == 1 && r->mb == 1)
                f1 = r->start;
        }
        cr_assert_eq(f1, rv ? MS(5.5) : MS(5), "rank 1's F1 (rendezvous %d)", rv);
        cr_assert_eq(b0[0], rv ? MS(5.5) : MS(5), "rank 0's B0 (rendezvous %d)", rv);
        cr_assert_eq(b0[1], rv ? MS(9) : MS(8.5), "rank 0's B1 (rendezvous %d)", rv);
        cr_assert_eq(makespan(&res), rv ? MS(11) : MS(10.5));
        pipe_result_release(&res);
    }
    pipe_setup_release(&setup);
}

/* Rendezvous over many 1F1B layouts with real links and latency: every step runs to its end,
 * passes the step rules and is never faster than with the transfers free to start. */
Test(sanity, one_f_one_b_with_rendezvous_p2p)
{
    const char *lat[] = {"0s", "2us", "1ms"};
    for (int p = 2; p <= 8; p += 3)
        for (int m = p; m <= 3 * p + 1; m += p + 1)
            for (int l = 0; l < 3; l++) {
                struct sweep_sets v;
                sweep_sets_fill(&v, p, m, 2 * p, lat[l]);
                const char *sp = v.pp, *sm = v.mb, *sl = v.layers, *slat = v.latency;
                const char *sets[] = {"schedule=1f1b", sp, sm, sl, "forward=0.3ms",
                                      "backward-input=0.6ms", "activation=8MB",
                                      "link-bandwidth=10GBps", slat, NULL};
                struct sim_fixture f;
                cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
                pipe_result_release(&f.res);
                f.setup.blocking_p2p = 1;
                cr_assert_eq(pipe_run(&f.setup, &f.res, &f.err), SIM_OK, "%s", f.err.msg);
                simtime_t plain = makespan(&f.res);
                pipe_result_release(&f.res);
                f.setup.rendezvous_p2p = 1;
                cr_assert_eq(pipe_run(&f.setup, &f.res, &f.err), SIM_OK, "%s", f.err.msg);
                assert_sane_step(&f.setup, &f.res);
                cr_assert_geq(makespan(&f.res), plain, "p %d m %d: rendezvous is never faster",
                              p, m);
                fixture_release(&f);
            }
}

Test(uneven, first_and_last_stage_layers_with_explicit_costs)
{
    /* 10 layers on 4 ranks: 1 + 3 + 3 + 3. */
    struct sim_fixture f;
    const char *sets[] = {"pp=4",        "microbatches=4",       "layers=10",
                          "forward=1ms", "first-stage-layers=1", "last-stage-layers=3",
                          NULL};
    cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
    cr_assert_eq(f.setup.stage_fwd[0], MS(1));
    cr_assert_eq(f.setup.stage_fwd[1], MS(3));
    cr_assert_eq(f.setup.stage_fwd[3], MS(3));
    assert_sane_step(&f.setup, &f.res);
    fixture_release(&f);
    const char *bad[] = {"pp=4", "layers=10", "first-stage-layers=2", NULL};
    cr_assert_eq(fixture_run(&f, bad), SIM_EINPUT);
    cr_assert(strstr(f.err.msg, "must split evenly") != NULL, "%s", f.err.msg);
}
