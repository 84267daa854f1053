/* test_gantt: what the Gantt chart draws.  Small exact steps keep every op as its own labelled
 * box; at 16 and 64 ranks x 512 micro-batches the boxes are aggregated, and the drawn busy time
 * must match the simulated one per rank and per pixel column (a busy rank is never drawn
 * empty), within a bounded number of boxes. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gantt.h"
#include "helpers.h"
#include "strips.h"

static const struct gantt_view whole = {0, 0, 0, 0};

static void build(struct gantt *g, const struct sim_fixture *f, const struct gantt_view *v)
{
    struct sim_error err;
    err_clear(&err);
    cr_assert_eq(gantt_build(g, &f->res, v, &err), SIM_OK, "%s", err.msg);
}

static char *tsv_of(const struct gantt *g)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    cr_assert_not_null(fp);
    cr_assert_eq(gantt_write_tsv(fp, g), (int)g->nboxes);
    cr_assert_eq(fclose(fp), 0);
    return buf;
}

/* ---- small steps: every op a box, every box its label ---- */

/* pp=2, one micro-batch, F = 1 ms, B = 3 ms, links with 0.5 ms latency, a free optimizer. */
Test(gantt, tiny_step_draws_every_op_with_its_label)
{
    const char *const sets[] = {"pp=2",
                                "layers=2",
                                "microbatches=1",
                                "forward=1ms",
                                "backward-input=3ms",
                                "optimizer=0s",
                                "link-latency=0.5ms",
                                NULL};
    struct sim_fixture f;
    cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
    struct gantt g;
    build(&g, &f, &whole);
    cr_assert_eq(g.mode, GANTT_OPS);
    char *tsv = tsv_of(&g);
    /* In start order; the zero-length optimizer ops are left out (nothing to draw). */
    const char *want = "# rank\tstart_s\tend_s\tkind\tchunk\tpeer\tlo\thi\tshade\tborder\tlabel\n"
                       "0\t0.000000000000\t0.001000000000\t0\t0\t-1\t0.0000\t1.0000\t1.000\t1\t0\n"
                       "0\t0.001000000000\t0.001500000000\t4\t0\t1\t0.0000\t1.0000\t1.000\t1\t-\n"
                       "1\t0.001500000000\t0.002500000000\t0\t0\t-1\t0.0000\t1.0000\t1.000\t1\t0\n"
                       "1\t0.002500000000\t0.005500000000\t1\t0\t-1\t0.0000\t1.0000\t1.000\t1\t0\n"
                       "1\t0.005500000000\t0.006000000000\t5\t0\t0\t0.0000\t1.0000\t1.000\t1\t-\n"
                       "0\t0.006000000000\t0.009000000000\t1\t0\t-1\t0.0000\t1.0000\t1.000\t1\t0\n";
    cr_assert_str_eq(tsv, want);
    cr_assert_eq(g.lay.width_px, GANTT_DEFAULT_WIDTH);
    cr_assert_float_eq(g.busy_s[0], 4e-3, 1e-12);
    cr_assert_float_eq(g.span_s[0], 9e-3, 1e-12);
    free(tsv);
    gantt_release(&g);
    fixture_release(&f);
}

/* The interleaved 4-rank, 8-micro-batch step of the README: 64 ops, each its own box, labelled
 * with its micro-batch, one per (rank, chunk, micro-batch, kind). */
Test(gantt, small_interleaved_step_labels_each_op_by_micro_batch)
{
    const char *const sets[] = {
        "schedule=interleaved", "pp=4", "vp=2", "layers=8", "microbatches=8", "forward=1ms",
        "backward-input=2ms",   NULL};
    struct sim_fixture f;
    cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
    struct gantt g;
    build(&g, &f, &whole);
    cr_assert_eq(g.mode, GANTT_OPS);
    cr_assert_eq(g.nboxes, 4 * 2 * 8 * 2);
    int seen[4][2][8][2] = {{{{0}}}};
    for (size_t i = 0; i < g.nboxes; i++) {
        const struct gantt_box *b = &g.boxes[i];
        cr_assert(b->kind == 0 || b->kind == 1);
        cr_assert(b->lo == 0 && b->hi == 1 && b->border);
        char *end;
        long mb = strtol(b->label, &end, 10);
        cr_assert(b->label[0] && *end == '\0' && mb >= 0 && mb < 8, "box %zu label '%s'", i,
                  b->label);
        seen[b->rank][b->chunk][mb][b->kind]++;
    }
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 2; c++)
            for (int m = 0; m < 8; m++)
                for (int k = 0; k < 2; k++)
                    cr_assert_eq(seen[r][c][m][k], 1, "rank %d chunk %d mb %d kind %d", r, c, m, k);
    gantt_release(&g);
    fixture_release(&f);
}

/* DualPipe's overlapped pairs get an outline box right after the pair's B, from the F's start
 * to the B's end on the same rank; p = 2, m = 4 has one pair per rank. */
Test(gantt, overlapped_pairs_are_outlined)
{
    const char *const sets[] = {"schedule=dualpipe",
                                "pp=2",
                                "vp=2",
                                "layers=2",
                                "microbatches=4",
                                "forward=1ms",
                                "backward-input=1ms",
                                "backward-weight=1ms",
                                NULL};
    struct sim_fixture f;
    cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
    struct gantt g;
    build(&g, &f, &whole);
    cr_assert_eq(g.nboxes, 2 * 12 + 2, "12 ops per rank and one pair outline each");
    cr_assert(g.has_pairs);
    int pairs = 0;
    const struct gantt_box *last[2][2] = {{NULL, NULL}, {NULL, NULL}}; /* [rank]: before, last */
    for (size_t i = 0; i < g.nboxes; i++) {
        const struct gantt_box *b = &g.boxes[i];
        if (b->kind > REC_OPT && b->kind != GANTT_PAIR)
            continue;
        if (b->kind != GANTT_PAIR) {
            last[b->rank][0] = last[b->rank][1];
            last[b->rank][1] = b;
            continue;
        }
        pairs++;
        const struct gantt_box *fw = last[b->rank][0], *bw = last[b->rank][1];
        cr_assert(fw && bw && fw->kind == 0 && bw->kind == 1, "the pair's F and B come first");
        cr_assert_float_eq(b->start_s, fw->start_s, 1e-12, "outline starts at the pair's F");
        cr_assert_float_eq(b->end_s, bw->end_s, 1e-12, "and ends with its B");
        cr_assert_float_eq(b->end_s - b->start_s, 2e-3, 1e-12);
    }
    cr_assert_eq(pairs, 2);
    gantt_release(&g);
    fixture_release(&f);
}

/* Labels are all or nothing across boxes of one width: judged at the longest label, never
 * "0" to "9" and then blank.  pp=2, 14 micro-batches of 1 ms ops: 30 ms over the plot width. */
Test(gantt, labels_are_judged_at_the_longest_micro_batch_number)
{
    const char *const sets[] = {"pp=2",        "layers=2",           "microbatches=14",
                                "forward=1ms", "backward-input=1ms", NULL};
    struct sim_fixture f;
    cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
    /* 17 px an op: "13" fits only at 8 pt (15.2 px), so every op is labelled at 8 pt. */
    struct gantt_view v = {0, 0, 510 + 366, 0}; /* plus 366 px of margins: under 1200 px */
    struct gantt g;                              /* the legend is narrower */
    build(&g, &f, &v);
    cr_assert_float_eq(g.lay.plot_w_px, 510, 1e-9);
    cr_assert_eq(g.lay.key_pt, 9);
    cr_assert_eq(g.label_pt, 8);
    cr_assert_eq(g.nboxes, 56);
    for (size_t i = 0; i < g.nboxes; i++)
        cr_assert_neq(g.boxes[i].label[0], '\0', "box %zu", i);
    gantt_release(&g);
    /* 12 px an op: "7" would fit, "13" would not -- so none is labelled. */
    v.width_px = 360 + 366;
    build(&g, &f, &v);
    for (size_t i = 0; i < g.nboxes; i++)
        cr_assert_str_empty(g.boxes[i].label, "box %zu", i);
    gantt_release(&g);
    fixture_release(&f);
}

/* The QA repro's shape: an interleaved pp=2, vp=2 step of 4 micro-batches whose 10 and 20 ms
 * ops are 40 and 80 px wide, and whose 50 us optimizer step, under a pixel, is the only narrow
 * op.  Counted among all 34 ops it was past the 2% that sends a chart to strips, and the step
 * lost its labelled boxes; only the F/B/W ops, which carry the labels, decide. */
Test(gantt, one_narrow_optimizer_step_keeps_labelled_boxes)
{
    const char *const sets[] = {"schedule=interleaved",
                                "pp=2",
                                "vp=2",
                                "layers=4",
                                "microbatches=4",
                                "forward=10ms",
                                "backward-input=20ms",
                                "optimizer=50us",
                                NULL};
    struct sim_fixture f;
    cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
    struct gantt g;
    build(&g, &f, &whole);
    cr_assert_eq(g.mode, GANTT_OPS);
    cr_assert_eq(g.chunks, 2, "the chunks shaded apart");
    int labelled = 0, opt = 0;
    for (size_t i = 0; i < g.nboxes; i++) {
        const struct gantt_box *b = &g.boxes[i];
        labelled += b->kind <= REC_W && b->label[0];
        opt += b->kind == REC_OPT;
    }
    cr_assert_eq(labelled, 2 * 2 * 4 * 2, "every F and B a labelled box");
    cr_assert_eq(opt, 2, "the optimizer steps drawn a pixel wide");
    gantt_release(&g);
    fixture_release(&f);
}

/* ---- at scale: drawn busy time against simulated busy time ---- */

#define MAXCOLS 20000

/* Busy share of `rank` per column of width col_s from t0: simulated (from the records, F/B/W)
 * and drawn (from the boxes, lane fraction x overlap). */
static void column_shares(const struct sim_fixture *f, const struct gantt *g, int rank, double t0,
                          double col_s, int ncols, double *sim, double *drawn)
{
    memset(sim, 0, (size_t)ncols * sizeof *sim);
    memset(drawn, 0, (size_t)ncols * sizeof *drawn);
    for (size_t i = 0; i < f->res.nrecs; i++) {
        const struct pipe_record *r = &f->res.recs[i];
        if (r->rank != rank || r->kind > REC_W)
            continue;
        double s = simtime_to_s(r->start - f->res.first_start);
        double e = simtime_to_s(r->end - f->res.first_start);
        for (int c = (int)fmax(0, floor((s - t0) / col_s)); c < ncols; c++) {
            double cs = t0 + c * col_s, part = fmin(e, cs + col_s) - fmax(s, cs);
            if (cs >= e)
                break;
            if (part > 0)
                sim[c] += part / col_s;
        }
    }
    for (size_t i = 0; i < g->nboxes; i++) {
        const struct gantt_box *b = &g->boxes[i];
        if (b->rank != rank || b->kind > REC_W)
            continue;
        for (int c = (int)fmax(0, floor((b->start_s - t0) / col_s)); c < ncols; c++) {
            double cs = t0 + c * col_s, part = fmin(b->end_s, cs + col_s) - fmax(b->start_s, cs);
            if (cs >= b->end_s)
                break;
            if (part > 0)
                drawn[c] += part / col_s * (b->hi - b->lo);
        }
    }
}

/* The invariants of gantt.h on a step: boxes in the window and bounded in number; per rank the
 * drawn F/B/W area is the simulated busy time (within `area_tol`, relative); no pixel column
 * more than half busy is drawn below a fifth full (in OPS and RUNS, and in STRIPS when a column
 * is one pixel); in STRIPS each column is drawn within STRIPS_SHARE of its simulated
 * share.  Lane fractions stay inside the lane. */
static void assert_drawn_matches(const struct sim_fixture *f, const struct gantt *g,
                                 double area_tol)
{
    const struct gantt_layout *l = &g->lay;
    cr_assert_leq(g->nboxes, gantt_max_boxes(g->lay.plot_w_px));
    for (size_t i = 0; i < g->nboxes; i++) {
        const struct gantt_box *b = &g->boxes[i];
        cr_assert(b->start_s >= l->t0_s - 1e-12 && b->end_s <= l->t1_s + 1e-12 &&
                      b->end_s > b->start_s,
                  "box %zu [%g, %g] outside the window", i, b->start_s, b->end_s);
        cr_assert(b->lo >= 0 && b->hi <= 1 + 1e-9 && b->hi > b->lo, "box %zu lane %g..%g", i, b->lo,
                  b->hi);
    }
    int npx = (int)l->plot_w_px;
    cr_assert_lt(npx, MAXCOLS);
    double px = (l->t1_s - l->t0_s) / l->plot_w_px;
    static double sim[MAXCOLS], drawn[MAXCOLS];
    for (int r = 0; r < f->res.pp; r++) {
        double area = 0;
        for (size_t i = 0; i < g->nboxes; i++)
            if (g->boxes[i].rank == r && g->boxes[i].kind <= REC_W)
                area +=
                    (g->boxes[i].end_s - g->boxes[i].start_s) * (g->boxes[i].hi - g->boxes[i].lo);
        /* OPS widens sub-pixel ops to a pixel: at most a pixel more per such op. */
        double widened = 0;
        for (size_t i = 0; i < g->nboxes && g->mode == GANTT_OPS; i++)
            if (g->boxes[i].rank == r && g->boxes[i].kind <= REC_W &&
                g->boxes[i].end_s - g->boxes[i].start_s <= px * (1 + 1e-9))
                widened += px;
        cr_assert(area >= g->busy_s[r] * (1 - area_tol) - 1e-12 &&
                      area <= g->busy_s[r] * (1 + area_tol) + widened + 1e-12,
                  "rank %d: drawn busy %.6f s, simulated %.6f s", r, area, g->busy_s[r]);
        column_shares(f, g, r, l->t0_s, px, npx, sim, drawn);
        int pixel_strips = g->mode != GANTT_STRIPS || g->col_s <= px * (1 + 1e-9);
        for (int c = 0; c < npx && pixel_strips; c++)
            cr_assert(sim[c] <= 0.5 || drawn[c] >= 0.2,
                      "rank %d, pixel column %d: %.0f%% busy but drawn %.0f%% full", r, c,
                      100 * sim[c], 100 * drawn[c]);
        if (g->mode != GANTT_STRIPS)
            continue;
        int ncols = (int)llround((l->t1_s - l->t0_s) / g->col_s);
        cr_assert_lt(ncols, MAXCOLS);
        column_shares(f, g, r, l->t0_s, g->col_s, ncols, sim, drawn);
        for (int c = 0; c < ncols; c++)
            cr_assert_leq(fabs(sim[c] - drawn[c]), STRIPS_SHARE + 1e-6,
                          "rank %d, strip column %d: simulated %.3f, drawn %.3f", r, c, sim[c],
                          drawn[c]);
    }
}

/* scenarios/default.xml's costs (a 7B-class layer: F = B = W = 1.2 ms, 64 MiB activations over
 * 50 GB/s links, a 15 ms optimizer) at pp ranks and 512 micro-batches. */
static void run_large(struct sim_fixture *f, const char *pp, const char *layers,
                      const char *schedule, const char *vp)
{
    const char *const sets[] = {schedule, pp, vp, layers, "microbatches=512", NULL};
    cr_assert_eq(fixture_run_with(f, sets, default_costs), SIM_OK, "%s", f->err.msg);
}

/* run_large, then its chart for `view` at the level of detail `mode`, checked against the
 * invariants. */
static void large_chart(struct sim_fixture *f, struct gantt *g, const char *pp, const char *layers,
                        const char *schedule, const char *vp, const struct gantt_view *view,
                        enum gantt_mode mode)
{
    run_large(f, pp, layers, schedule, vp);
    build(g, f, view);
    cr_assert_eq(g->mode, mode, "level of detail %d, expected %d", g->mode, mode);
    assert_drawn_matches(f, g, 1e-6);
}

static void release_both(struct sim_fixture *f, struct gantt *g)
{
    gantt_release(g);
    fixture_release(f);
}

/* The chart: 2048 ops a rank in 1160 pixels, ranks over 80% busy. */
Test(gantt, pp16_mb512_busy_ranks_are_drawn_busy)
{
    struct sim_fixture f;
    struct gantt g;
    large_chart(&f, &g, "pp=16", "layers=32", "schedule=interleaved", "vp=2", &whole, GANTT_STRIPS);
    for (int r = 0; r < 16; r++) {
        double busy = simtime_to_s(f.res.busy[r]);
        cr_assert_gt(busy / g.span_s[r], 0.8, "rank %d", r);
        cr_assert_float_eq(g.busy_s[r], busy, 1e-9);
    }
    char note[256];
    gantt_describe(&g, note, sizeof note);
    cr_assert(strstr(note, "busy fraction per "), "%s", note);
    release_both(&f, &g);
}

Test(gantt, pp64_mb512_busy_ranks_are_drawn_busy)
{
    struct sim_fixture f;
    struct gantt g;
    large_chart(&f, &g, "pp=64", "layers=128", "schedule=interleaved", "vp=2", &whole,
                GANTT_STRIPS);
    cr_assert_eq(g.lay.height_px, 1800, "rows shrink past the default height cap");
    release_both(&f, &g);
}

/* 1F1B's steady F,B,F,B stream on 16 ranks, each rank about 60% busy while it waits for
 * transfers: a band filled to that share all along, not bursts separated by gaps. */
Test(gantt, pp16_mb512_1f1b_steady_stream_is_a_steady_band)
{
    struct sim_fixture f;
    struct gantt g;
    large_chart(&f, &g, "pp=16", "layers=16", "schedule=1f1b", "vp=1", &whole, GANTT_STRIPS);
    /* The middle of the step: no column of any rank drawn more than 0.15 below the rank's mean
     * share there, which is more than half (a column may be drawn fuller: there are real
     * bursts). */
    int a = (int)ceil(0.2 * g.span_s[0] / g.col_s), b = (int)floor(0.8 * g.span_s[0] / g.col_s);
    static double sim[MAXCOLS], drawn[MAXCOLS];
    int ncols = (int)llround(g.lay.t1_s / g.col_s);
    for (int r = 0; r < 16; r++) {
        column_shares(&f, &g, r, 0, g.col_s, ncols, sim, drawn);
        double mean = 0;
        for (int c = a; c < b; c++)
            mean += sim[c] / (b - a);
        cr_assert_gt(mean, 0.5, "rank %d: %.2f busy in the middle of the step", r, mean);
        for (int c = a; c < b; c++)
            cr_assert_geq(drawn[c], mean - 0.15, "rank %d column %d: drawn %.2f, mean %.2f", r, c,
                          drawn[c], mean);
    }
    release_both(&f, &g);
}

/* GPipe: all forwards, then all backwards -- two runs a rank, labelled with their range. */
Test(gantt, pp16_mb512_gpipe_merges_ops_into_runs)
{
    struct sim_fixture f;
    struct gantt g;
    large_chart(&f, &g, "pp=16", "layers=16", "schedule=gpipe", "vp=1", &whole, GANTT_RUNS);
    int labelled = 0;
    for (size_t i = 0; i < g.nboxes; i++)
        labelled += strcmp(g.boxes[i].label, "0-511") == 0;
    cr_assert_eq(labelled, 2 * 16, "an F run and a B run on each rank");
    char note[256];
    gantt_describe(&g, note, sizeof note);
    cr_assert(strstr(note, "merged into runs"), "%s", note);
    release_both(&f, &g);
}

/* Every label fits its box (about 7 px a character and 6 px of room at 10 pt, 5.6 and 4 at
 * 8 pt), judged at the longest micro-batch label's length, and only boxes of 6 px or more have
 * a white edge; returns how many labels have `digits` characters. */
static int assert_labels_fit(const struct gantt *g, size_t digits)
{
    int n = 0;
    double px = (g->lay.t1_s - g->lay.t0_s) / g->lay.plot_w_px;
    double char_px = g->label_pt == 10 ? 7.0 : 5.6, pad = g->label_pt == 10 ? 6 : 4;
    size_t longest = 0;
    for (size_t i = 0; i < g->nboxes; i++)
        if (g->boxes[i].kind != REC_OPT && strlen(g->boxes[i].label) > longest)
            longest = strlen(g->boxes[i].label);
    for (size_t i = 0; i < g->nboxes; i++) {
        const struct gantt_box *b = &g->boxes[i];
        double w = (b->end_s - b->start_s) / px;
        n += strlen(b->label) == digits;
        cr_assert(!b->label[0] || w >= char_px * longest + pad, "label '%s' on %.1f px", b->label,
                  w);
        cr_assert_eq(b->border, w >= 6, "box %zu, %.1f px", i, w);
    }
    return n;
}

/* Zoomed in, the same 16-rank step shows single ops again, with three-digit labels where they
 * fit (and only there). */
Test(gantt, window_shows_single_ops_with_long_labels)
{
    struct sim_fixture f;
    struct gantt g;
    struct gantt_view v = {1.0, 1.06, 0, 0};
    large_chart(&f, &g, "pp=16", "layers=32", "schedule=interleaved", "vp=2", &v, GANTT_OPS);
    cr_assert_float_eq(g.lay.t0_s, 1.0, 1e-12);
    cr_assert_float_eq(g.lay.t1_s, 1.06, 1e-12);
    cr_assert_gt(assert_labels_fit(&g, 3), 100, "micro-batch numbers past 99 are labelled");
    release_both(&f, &g);
}

/* The same window squeezed into the narrowest image: 7 and 14 px boxes, too narrow for any
 * label. */
Test(gantt, labels_only_where_they_fit)
{
    struct sim_fixture f;
    struct gantt g;
    struct gantt_view v = {1.0, 1.06, GANTT_MIN_WIDTH, 2000};
    large_chart(&f, &g, "pp=16", "layers=32", "schedule=interleaved", "vp=2", &v, GANTT_OPS);
    cr_assert_eq(assert_labels_fit(&g, 0), (int)g.nboxes, "no labels at all");
    release_both(&f, &g);
}

/* ---- the options ---- */

Test(gantt, window_and_size_parse_units_and_refuse_nonsense)
{
    struct gantt_view v = whole;
    struct sim_error err;
    cr_assert_eq(gantt_parse_window("12ms:40ms", &v, &err), SIM_OK);
    cr_assert_float_eq(v.t0_s, 0.012, 1e-15);
    cr_assert_float_eq(v.t1_s, 0.040, 1e-15);
    cr_assert_eq(gantt_parse_window("1.5:2", &v, &err), SIM_OK, "bare numbers are seconds");
    cr_assert_float_eq(v.t1_s, 2, 1e-15);
    cr_assert_eq(gantt_parse_window("2s:", &v, &err), SIM_OK);
    cr_assert(isinf(v.t1_s));
    cr_assert_eq(gantt_parse_window(":300 us", &v, &err), SIM_OK);
    cr_assert_float_eq(v.t0_s, 0, 1e-15);
    cr_assert_float_eq(v.t1_s, 3e-4, 1e-15);
    const char *bad[][2] = {{"40ms", "expected START:END"},
                            {":", "expected START:END"},
                            {"1:2:3", "expected START:END"},
                            {"40ms:12ms", "the end must come after the start"},
                            {"5ms:5ms", "the end must come after the start"},
                            {"-1ms:2ms", "negative"},
                            {"1mss:2ms", "unknown unit"},
                            {"nan:1", "'--plot-window 'nan:1'"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err_clear(&err);
        cr_assert_eq(gantt_parse_window(bad[i][0], &v, &err), SIM_EINPUT, "%s", bad[i][0]);
        cr_assert(strstr(err.msg, "--plot-window '") && strstr(err.msg, bad[i][0]), "%s", err.msg);
    }
    cr_assert_eq(gantt_parse_size("1600x900", &v, &err), SIM_OK);
    cr_assert_eq(v.width_px, 1600);
    cr_assert_eq(v.height_px, 900);
    const char *badsize[] = {"1600",      "x900",    "1600x",      "100x900",  "1600x100",
                             "99999x900", "1.5x900", "1600x900px", "-1600x900"};
    for (size_t i = 0; i < sizeof badsize / sizeof badsize[0]; i++) {
        err_clear(&err);
        cr_assert_eq(gantt_parse_size(badsize[i], &v, &err), SIM_EINPUT, "%s", badsize[i]);
        cr_assert(strstr(err.msg, "--plot-size '"), "%s", err.msg);
    }
}

/* A bare number of seconds keeps a time's limits: below the clock's 1 ps it drew an empty
 * window "showing 0 ps to 1e-288 ps", and above 1e18 s it was refused for having no unit. */
Test(gantt, window_bare_seconds_keep_the_time_limits)
{
    struct gantt_view v = whole;
    struct sim_error err;
    cr_assert_eq(gantt_parse_window("0:1e-12", &v, &err), SIM_OK, "1 ps is the clock's step");
    cr_assert_float_eq(v.t1_s, 1e-12, 1e-24);
    cr_assert_eq(gantt_parse_window("0:+5", &v, &err), SIM_OK);
    cr_assert_float_eq(v.t1_s, 5, 1e-15);
    const char *bad[][2] = {
        {"0:1e-300", "'1e-300' seconds is below the clock's resolution of 1 ps"},
        {"0:1e-999", "'1e-999' seconds is below the clock's resolution of 1 ps"},
        {"0:1e300", "'1e300' seconds is above the limit of 1e18 s"},
        {"1e999:", "'1e999' seconds is above the limit of 1e18 s"},
        {"0:-0", "'-0' is negative"},
        {"0:1 e5", "'1 e5' has unknown unit 'e5'"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err_clear(&err);
        cr_assert_eq(gantt_parse_window(bad[i][0], &v, &err), SIM_EINPUT, "%s", bad[i][0]);
        cr_assert(strstr(err.msg, bad[i][1]), "%s: %s", bad[i][0], err.msg);
    }
}

Test(gantt, view_outside_the_step_or_too_short_for_the_ranks_is_refused)
{
    struct sim_fixture f;
    run_large(&f, "pp=64", "layers=128", "schedule=interleaved", "vp=2");
    struct gantt g;
    struct sim_error err;
    struct gantt_view late = {100, 200, 0, 0};
    err_clear(&err);
    cr_assert_eq(gantt_build(&g, &f.res, &late, &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "after the step ends"), "%s", err.msg);
    struct gantt_view flat = {0, 0, 1600, 360};
    err_clear(&err);
    cr_assert_eq(gantt_build(&g, &f.res, &flat, &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "--plot-size 1600x360: 64 ranks need a height of at least"), "%s",
              err.msg);
    /* A window past the end is clipped to the step. */
    struct gantt_view tail = {4.0, 100, 0, 0};
    build(&g, &f, &tail);
    cr_assert_float_eq(g.lay.t1_s, simtime_to_s(f.res.step_end - f.res.first_start), 1e-12);
    release_both(&f, &g);
}

/* A window where nothing runs is refused, naming it (a hand-made step: one rank, F ops at 0-1
 * and 3-4 ms). */
Test(gantt, window_where_nothing_runs_is_refused)
{
    struct pipe_record recs[2] = {
        {.start = MS(0), .end = MS(1), .rank = 0, .peer = -1, .mb = 0, .kind = REC_F},
        {.start = MS(3), .end = MS(4), .rank = 0, .peer = -1, .mb = 1, .kind = REC_F}};
    simtime_t busy = MS(2);
    struct pipe_result res = {.pp = 1,
                              .vp = 1,
                              .microbatches = 2,
                              .recs = recs,
                              .nrecs = 2,
                              .busy = &busy,
                              .first_start = 0,
                              .compute_end = MS(4),
                              .step_end = MS(4)};
    struct gantt g;
    struct sim_error err;
    struct gantt_view gap = {1.5e-3, 2.5e-3, 0, 0};
    err_clear(&err);
    cr_assert_eq(gantt_build(&g, &res, &gap, &err), SIM_EINPUT);
    cr_assert_str_eq(err.msg, "--plot-window: nothing runs from 1.5 ms to 2.5 ms; pick another "
                              "part of the step");
    struct gantt_view both = {0.5e-3, 3.5e-3, 0, 0};
    cr_assert_eq(gantt_build(&g, &res, &both, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(g.nboxes, 2);
    cr_assert_float_eq(g.busy_s[0], 1e-3, 1e-12, "half of each op is in the window");
    cr_assert_float_eq(g.span_s[0], 3e-3, 1e-12);
    gantt_release(&g);
}

/* ---- the detail follows the image, not the window's edges ---- */

/* The chart of a hand-made step for `v`, which must build. */
static void build_step(struct gantt *g, const struct pipe_result *res, const struct gantt_view *v)
{
    struct sim_error err;
    err_clear(&err);
    cr_assert_eq(gantt_build(g, res, v, &err), SIM_OK, "%s", err.msg);
}

/* The result of a hand-made step: `n` records on `ranks` ranks, all over by `end`. */
static struct pipe_result hand_result(struct pipe_record *recs, size_t n, simtime_t *busy,
                                      int ranks, int microbatches, simtime_t end)
{
    return (struct pipe_result){.pp = ranks,
                                .vp = 1,
                                .microbatches = microbatches,
                                .recs = recs,
                                .nrecs = n,
                                .busy = busy,
                                .first_start = 0,
                                .compute_end = end,
                                .step_end = end};
}

/* A hand-made step: `ranks` ranks, each running `per_rank` forwards of 1 ms back to back. */
static void steady_step(struct pipe_result *res, struct pipe_record *recs, simtime_t *busy,
                        int ranks, int per_rank)
{
    for (int r = 0; r < ranks; r++) {
        busy[r] = MS(per_rank);
        for (int k = 0; k < per_rank; k++)
            recs[r * per_rank + k] = (struct pipe_record){
                .start = MS(k), .end = MS(k + 1), .rank = r, .peer = -1, .mb = k, .kind = REC_F};
    }
    *res = hand_result(recs, (size_t)ranks * per_rank, busy, ranks, per_rank, MS(per_rank));
}

/* A window whose edges cut two ops to slivers (2 us of 1 ms, under a pixel) still draws the ops one by one:
 * an op is narrow by its own length, not by the part the window shows.  Counted on the cut
 * parts, the two slivers are 2 of 6 ops, past the 2% that sends a chart to merged boxes. */
Test(gantt, window_edges_cutting_ops_keep_one_box_per_op)
{
    static struct pipe_record recs[20];
    simtime_t busy[1];
    struct pipe_result res;
    steady_step(&res, recs, busy, 1, 20);
    struct gantt g;
    struct gantt_view v = {4.998e-3, 9.002e-3, 0, 0};
    build_step(&g, &res, &v);
    cr_assert_eq(g.mode, GANTT_OPS);
    cr_assert_eq(g.nboxes, 6, "four whole ops and the two cut ones");
    gantt_release(&g);
}

/* The box budget grows with the image: 9 ranks of 700 ops of 1.66 px each at the default width
 * are 6,300 boxes, over the default budget, so they are merged; on an 8000-pixel image the same
 * ops are 10.8 px wide and drawn one by one.  A larger image never shows less. */
Test(gantt, a_wider_image_draws_finer_detail)
{
    cr_assert_eq(gantt_max_boxes(GANTT_DEFAULT_WIDTH - 440), GANTT_MAX_BOXES);
    cr_assert_eq(gantt_max_boxes(8000 - 440), (size_t)GANTT_BOXES_PER_PX * 7560);
    cr_assert_eq(gantt_max_boxes(GANTT_MAX_SIDE - 440), GANTT_MAX_BOXES_CAP);
    static struct pipe_record recs[9 * 700];
    simtime_t busy[9];
    struct pipe_result res;
    steady_step(&res, recs, busy, 9, 700);
    struct gantt narrow, wide;
    build_step(&narrow, &res, &whole);
    cr_assert_neq(narrow.mode, GANTT_OPS, "6,300 boxes exceed the default budget");
    struct gantt_view big = {0, 0, 8000, 4000};
    build_step(&wide, &res, &big);
    cr_assert_eq(wide.mode, GANTT_OPS);
    cr_assert_eq(wide.nboxes, 9 * 700);
    gantt_release(&narrow);
    gantt_release(&wide);
}

/* Strips never spread work over idle time: one rank busy for 0.3 s in 3,000 alternating F and B
 * ops, idle for 0.3 s but for one 10 us op in its middle, busy again.  Merged with the idle
 * columns around it, that op had been drawn as a hairline of work along the idle stretch; it
 * keeps its own column, and the rest of the stretch stays empty. */
Test(gantt, strips_leave_idle_stretches_empty)
{
    static struct pipe_record recs[6001];
    for (int k = 0; k < 6000; k++) {
        double s = k < 3000 ? 1e-4 * k : 0.6 + 1e-4 * (k - 3000);
        recs[k] = (struct pipe_record){.start = simtime_from_s(s),
                                       .end = simtime_from_s(s + 1e-4),
                                       .rank = 0,
                                       .peer = -1,
                                       .mb = k / 2,
                                       .kind = k % 2 ? REC_B : REC_F}; /* no runs to merge */
    }
    recs[6000] = (struct pipe_record){.start = simtime_from_s(0.45),
                                      .end = simtime_from_s(0.45001),
                                      .rank = 0, .peer = -1, .mb = 0, .kind = REC_F};
    simtime_t busy[1] = {simtime_from_s(0.60001)};
    struct pipe_result res = hand_result(recs, 6001, busy, 1, 3000, simtime_from_s(0.9));
    struct gantt g;
    build_step(&g, &res, &whole);
    cr_assert_eq(g.mode, GANTT_STRIPS);
    int lone = 0;
    for (size_t i = 0; i < g.nboxes; i++) {
        const struct gantt_box *b = &g.boxes[i];
        if (b->end_s <= 0.3 + g.col_s || b->start_s >= 0.6 - g.col_s)
            continue;
        cr_assert_leq(b->end_s - b->start_s, 1.5 * g.col_s, "a box [%g, %g] s (columns of %g s)",
                      b->start_s, b->end_s, g.col_s);
        lone += b->start_s <= 0.45 && b->end_s >= 0.45001;
    }
    cr_assert_eq(lone, 1, "the lone op is drawn, in its own column");
    cr_assert_float_eq(g.busy_s[0], 0.60001, 1e-9);
    gantt_release(&g);
}

/* Without --plot-size the height follows the ranks up to 1800 pixels, and past some 330 ranks
 * grows to what a 3-pixel lane each needs: 512 ranks had been refused, the message naming a
 * "--plot-size 1600x1800" nobody gave.  Ranks no image can hold are refused naming --plot. */
Test(gantt, many_ranks_grow_the_default_height_to_a_lane_each)
{
    static struct pipe_record recs[8192];
    static simtime_t busy[8192];
    struct pipe_result res;
    steady_step(&res, recs, busy, 512, 1);
    struct gantt g;
    build_step(&g, &res, &whole);
    cr_assert_gt(g.lay.height_px, 1800);
    cr_assert_geq(g.lay.lane_px, 3.0);
    cr_assert_lt(g.lay.lane_px, 3.01, "no taller than the lanes need: %g", g.lay.lane_px);
    gantt_release(&g);
    steady_step(&res, recs, busy, 8192, 1);
    struct sim_error err;
    err_clear(&err);
    cr_assert_eq(gantt_build(&g, &res, &whole, &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "--plot: 8192 ranks need an image at least "), "%s", err.msg);
    cr_assert(strstr(err.msg, " pixels high, more than the largest (16384)"), "%s", err.msg);
}

/* Text grows with a large image, so that fitted to a screen it stays legible: 1 up to 2000
 * pixels wide, then the width over 2000, at most 3 -- the legend's font and the margins with
 * it, the plot area taking the rest; a micro-batch label needs as many more pixels. */
Test(gantt, a_large_image_scales_its_text)
{
    cr_assert_float_eq(gantt_text_scale(1600, 0), 1.0, 1e-12);
    cr_assert_float_eq(gantt_text_scale(2000, 0), 1.0, 1e-12);
    cr_assert_float_eq(gantt_text_scale(4000, 0), 2.0, 1e-12);
    cr_assert_float_eq(gantt_text_scale(16384, 0), 3.0, 1e-12);
    static struct pipe_record recs[4 * 50];
    simtime_t busy[4];
    struct pipe_result res;
    steady_step(&res, recs, busy, 4, 50);
    struct gantt small, large;
    build_step(&small, &res, &whole);
    struct gantt_view big = {0, 0, 4000, 0};
    build_step(&large, &res, &big);
    cr_assert_eq(large.lay.key_pt, 2 * small.lay.key_pt);
    cr_assert_eq(large.lay.left_px, 2 * small.lay.left_px);
    cr_assert_eq(large.lay.right_px, 2 * small.lay.right_px);
    cr_assert_float_eq(large.lay.plot_w_px, 4000 - 2 * (small.lay.left_px + small.lay.right_px),
                       1e-9);
    cr_assert_eq(large.label_pt, 2 * small.label_pt, "%d against %d", large.label_pt,
                 small.label_pt);
    gantt_release(&small);
    gantt_release(&large);
}

/* ... but a short image given its height keeps half of it for the chart: at 4000x360 text twice
 * as large had left the four ranks a sliver under a title and an axis as tall as the
 * image (margins 84 + 64 pixels at scale 1) and broken the legend into columns off the image. */
Test(gantt, a_short_wide_image_keeps_its_text_small_enough)
{
    cr_assert_float_eq(gantt_text_scale(4000, 360), 0.5 * 360 / 148, 1e-12, "2 by the width");
    cr_assert_float_eq(gantt_text_scale(4000, 800), 2.0, 1e-12, "the width's, 2.7 allowed");
    cr_assert_float_eq(gantt_text_scale(8000, 600), 0.5 * 600 / 148, 1e-12);
    cr_assert_float_eq(gantt_text_scale(1600, 360), 1.0, 1e-12, "never under 1");
    static struct pipe_record recs[4 * 50];
    simtime_t busy[4];
    struct pipe_result res;
    steady_step(&res, recs, busy, 4, 50);
    struct gantt g;
    struct gantt_view wide_short = {0, 0, 4000, 360};
    build_step(&g, &res, &wide_short);
    /* half the height, less the lines of the note under the axis */
    cr_assert_geq(g.lay.plot_h_px, 0.4 * 360, "the chart's height: %g", g.lay.plot_h_px);
    gantt_release(&g);
}

/* A window's title gives both ends in one unit, the larger end's, down to ps: 0 to 1 ps had
 * read "0 µs to 0.001 ns" (each end in a unit of its own, and none under ns). */
Test(gantt, a_window_names_both_ends_in_one_unit)
{
    static const struct {
        double t0, t1;
        const char *from, *to;
    } cases[] = {
        {0, 1e-12, "0 ps", "1 ps"},
        {10e-12, 11e-12, "10 ps", "11 ps"},
        {0, 10e-3, "0 ms", "10 ms"},
        {0.5e-3, 3e-3, "0.5 ms", "3 ms"},
        {2, 2.0005, "2 s", "2.0005 s"},
        {1, 1.06, "1 s", "1.06 s"},
        {999e-9, 2e-6, "0.999 µs", "2 µs"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char from[32], to[32];
        gantt_format_window(from, to, sizeof from, cases[i].t0, cases[i].t1);
        cr_expect_str_eq(from, cases[i].from, "window %zu", i);
        cr_expect_str_eq(to, cases[i].to, "window %zu", i);
    }
    char one[32];
    gantt_format_time(one, sizeof one, 0.066);
    cr_expect_str_eq(one, "66 ms");
    gantt_format_time(one, sizeof one, 5e-13);
    cr_expect_str_eq(one, "0.5 ps");
    gantt_format_time(one, sizeof one, 0);
    cr_expect_str_eq(one, "0 µs", "a lone 0 as before");
}

/* Two ranks of 6000 ops of 0.1 ms back to back, F and B in turn (0.6 s: no runs to merge, busy
 * strips), and an activation send from rank 0 to rank 1 every 10 ms taking `send_s`. */
static void sparse_sends_step(struct pipe_result *res, struct pipe_record *recs, simtime_t *busy,
                              double send_s)
{
    for (int k = 0; k < 12000; k++)
        recs[k] = (struct pipe_record){.start = simtime_from_s(1e-4 * (k / 2)),
                                       .end = simtime_from_s(1e-4 * (k / 2 + 1)),
                                       .rank = k % 2,
                                       .peer = -1,
                                       .mb = k / 4,
                                       .kind = k / 2 % 2 ? REC_B : REC_F};
    for (int k = 0; k < 60; k++)
        recs[12000 + k] = (struct pipe_record){.start = simtime_from_s(0.01 * k + 0.005),
                                               .end = simtime_from_s(0.01 * k + 0.005 + send_s),
                                               .rank = 0,
                                               .peer = 1,
                                               .mb = k,
                                               .kind = REC_SEND_ACT};
    busy[0] = busy[1] = simtime_from_s(0.6);
    *res = hand_result(recs, 12060, busy, 2, 6000, simtime_from_s(0.6));
}

/* Strips fade a link's sends to its row's background with their busy share: 10 us sends every
 * 10 ms are at most 10 us of a 0.517 ms column (0.6 s on 1160 pixels), 1.9%, which cannot be
 * seen.  They are left out, with their legend entry and the link row (the lanes take its room,
 * the image is shorter), and the note says so; 200 us sends (39% of a column) are drawn. */
Test(gantt, strips_leave_out_sends_too_faint_to_see)
{
    static struct pipe_record recs[12060];
    simtime_t busy[2];
    struct pipe_result res;
    sparse_sends_step(&res, recs, busy, 10e-6);
    struct gantt g;
    build_step(&g, &res, &whole);
    cr_assert_eq(g.mode, GANTT_STRIPS);
    cr_assert_float_eq(g.col_s, 0.6 / 1160, 1e-12, "columns of a pixel");
    for (size_t i = 0; i < g.nboxes; i++)
        cr_assert_leq(g.boxes[i].kind, REC_B, "box %zu of kind %d", i, g.boxes[i].kind);
    cr_assert(!g.lay.has_links && !g.has_sends[0] && !g.has_sends[1]);
    cr_assert_float_eq(g.lay.rank_half, 0.38, 1e-12, "lanes as tall as without links");
    cr_assert_float_eq(g.faint_share, 10e-6 / (0.6 / 1160), 1e-9);
    char note[256];
    gantt_describe(&g, note, sizeof note);
    cr_assert(strstr(note, " · P2P sends not drawn (at most 1.9% of a link's time)"), "%s", note);
    int faint_h = g.lay.height_px;
    gantt_release(&g);

    sparse_sends_step(&res, recs, busy, 200e-6);
    build_step(&g, &res, &whole);
    size_t sends = 0;
    for (size_t i = 0; i < g.nboxes; i++)
        sends += g.boxes[i].kind == REC_SEND_ACT;
    cr_assert_geq(sends, 60, "each send drawn, in its own span");
    cr_assert(g.lay.has_links && g.has_sends[0] && !g.has_sends[1] && g.faint_share == 0);
    cr_assert_gt(g.lay.height_px, faint_h, "the link row takes room");
    gantt_describe(&g, note, sizeof note);
    cr_assert_null(strstr(note, "P2P"), "%s", note);
    gantt_release(&g);
}

/* The drawing note sits under the time axis in lines that fit the image (9 points, 0.7 of that a
 * character: 241 characters at 1600 pixels, 120 at 800), one piece to a line where two do not
 * fit, and the bottom margin grows 14 pixels a line.  At 800 pixels the note had been one line
 * of about 160 characters after the axis label: past both edges of the image. */
static void faint_sends_chart(struct gantt *g, const struct gantt_view *v)
{
    static struct pipe_record recs[12060];
    static simtime_t busy[2];
    static struct pipe_result res;
    sparse_sends_step(&res, recs, busy, 10e-6);
    build_step(g, &res, v);
}

Test(gantt, note_wraps_into_lines_that_fit_the_width)
{
    struct gantt g;
    faint_sends_chart(&g, &whole);
    char note[256];
    gantt_describe(&g, note, sizeof note);
    cr_assert_eq(g.note_lines, 1, "%s", note);
    cr_assert_str_eq(g.note_line[0], note);
    cr_assert_eq(g.lay.bottom_px, 64 + 14);
    gantt_release(&g);

    const struct gantt_view narrow = {0, 0, 800, 600};
    faint_sends_chart(&g, &narrow);
    cr_assert_eq(g.mode, GANTT_STRIPS);
    cr_assert_eq(g.note_lines, 2);
    cr_assert(strncmp(g.note_line[0], "ops too narrow", 14) == 0, "%s", g.note_line[0]);
    cr_assert(strncmp(g.note_line[1], "P2P sends not drawn", 19) == 0, "%s", g.note_line[1]);
    cr_assert_leq(strlen(g.note_line[0]), 120);
    cr_assert_eq(g.lay.bottom_px, 64 + 2 * 14);
    gantt_release(&g);
}

/* A zoomed window lists in its legend the kinds and chunks it draws: the first 3 ms of the
 * README's interleaved step (with an optimizer and sends) show forwards of chunk 0 and
 * activation sends, so the legend is those and idle.  It had listed the whole step's: F and B
 * of both chunks and the optimizer (8 entries), most of them nowhere in the picture. */
Test(gantt, a_window_lists_only_the_kinds_it_draws)
{
    const char *const sets[] = {"schedule=interleaved", "pp=4", "vp=2", "layers=8",
                                "microbatches=8", "forward=1ms", "backward-input=2ms",
                                "optimizer=2ms", "link-latency=0.5ms", NULL};
    struct sim_fixture f;
    cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
    struct gantt g;
    struct gantt_view v = {0, 3e-3, 0, 0};
    build(&g, &f, &v);
    cr_expect_eq(g.lay.nkey, 3, "%d legend entries", g.lay.nkey);
    cr_expect(!g.has_opt && !g.has_sends[1], "the optimizer or gradient sends listed");
    const unsigned char want[6] = {1, 0, 0, 0, 0, 0}; /* F, B, W of chunks 0 and 1 */
    cr_expect_arr_eq(g.key_drawn, want, sizeof want, "not F of chunk 0 alone");
    gantt_release(&g);
    build(&g, &f, &whole);
    cr_expect_eq(g.lay.nkey, 2 * 2 + 1 + 2 + 1, "the whole step: %d entries", g.lay.nkey);
    gantt_release(&g);
    fixture_release(&f);
}
