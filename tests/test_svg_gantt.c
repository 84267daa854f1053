/* test_svg_gantt: the Gantt chart's boxes -- one per op when ops are wide, narrow ones merged
 * by column into stacks of their kinds' shares so the output stays bounded, colours and lanes
 * as documented in svg_gantt.h. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "embedded.h"
#include "helpers.h"
#include "svg_gantt.h"

/* Run the step `sets` describes into *f and draw it. */
static char *chart(struct sim_fixture *f, const char *const *sets, struct svg_gantt_stats *st)
{
    cr_assert_eq(fixture_run(f, sets), SIM_OK, "%s", f->err.msg);
    FILE *fp = tmpfile();
    cr_assert_not_null(fp);
    cr_assert_eq(svg_gantt_write(fp, &f->res, NULL, st), 0);
    return capture(fp);
}

/* unit.xml's step: 4 ranks x 8 micro-batches of 1 ms layers, free links: every op is many
 * pixels wide, so each is a box with its micro-batch. */
Test(svg_gantt, small_step_draws_every_op)
{
    const char *sets[] = {"pp=4",        "layers=8",           "microbatches=8",
                          "forward=1ms", "backward-input=1ms", "backward-weight=1ms",
                          NULL};
    struct sim_fixture f;
    struct svg_gantt_stats st;
    char *s = chart(&f, sets, &st);
    cr_assert_eq(st.ops, 64); /* 4 ranks x 8 x (F, B); optimizer and links take no time */
    cr_assert_eq(st.boxes, 64);
    cr_assert_eq(st.merged, 0);
    cr_assert_float_eq(st.col_px, 0.125, 1e-12, "the finest columns: 1/8 pixel");
    cr_assert_eq(count_of(s, "class=\"k0c0\" data-m="), 32);
    cr_assert_eq(count_of(s, "class=\"k1c0\" data-m="), 32);
    cr_assert_eq(count_of(s, "data-m=\"7\""), 8, "micro-batch 7: F and B on each rank");
    cr_assert_eq(count_of(s, ">rank "), 4);
    cr_assert_null(strstr(s, "band-link"), "no link lanes: links are free");
    /* rank 0's first F spans 2 ms of the 66 ms step: 1080 * 2 / 66 pixels from x = 0 */
    cr_assert(strstr(s, "<rect x=\"0\" y=\"11\" width=\"32.72727\" height=\"20\" class=\"k0c0\" "
                        "data-m=\"0\"/>"),
              "%.400s", strstr(s, "<rect x=\"0\""));
    free(s);
    fixture_release(&f);
}

/* Area of the rank lanes' boxes of each compute kind (F, B, W), in lane-heights x pixels; the
 * links' boxes (thinner, or faded) are left out. */
static void rank_areas(const char *s, double area[3])
{
    area[0] = area[1] = area[2] = 0;
    for (const char *p = s; (p = strstr(p, "<rect x=\"")) != NULL; p++) {
        double x, w;
        int y, h, k;
        if (sscanf(p, "<rect x=\"%lf\" y=\"%d\" width=\"%lf\" height=\"%d\" class=\"k%d", &x, &y,
                   &w, &h, &k) == 5 &&
            k <= 2)
            area[k] += w * h / 20.0;
    }
}

/* A long step of short ops: the boxes stay bounded by the width, not the op count.  GPipe's
 * phases merge into one box each, of their kind, as tall as the lane (each rank busy all
 * through its phase) and saying so. */
Test(svg_gantt, many_narrow_ops_merge_into_bounded_boxes)
{
    const char *sets[] = {"pp=2",        "layers=2",           "microbatches=20000",
                          "forward=1ms", "backward-input=2ms", "schedule=gpipe",
                          NULL};
    struct sim_fixture f;
    struct svg_gantt_stats st;
    char *s = chart(&f, sets, &st);
    cr_assert_eq(st.ops, 80000);
    cr_assert_eq(st.merged_ops, 80000);
    cr_assert_eq(count_of(s, "<rect x="), st.boxes, "lane bands and pair outlines apart");
    cr_assert_leq(st.boxes, 8, "each rank: its forwards, its backwards, and their edges");
    cr_assert_geq(count_of(s, "height=\"20\" class=\"k0c0 run\" data-run=\"100\""), 2);
    cr_assert_geq(count_of(s, "height=\"20\" class=\"k1c0 run\" data-run=\"100\""), 2);
    double area[3];
    rank_areas(s, area);
    /* 20000 F of 1 ms and 20000 B of 2 ms on each of 2 ranks, a pixel being span / 1080 */
    double px_s = simtime_to_s(f.res.step_end - f.res.first_start) / SVG_GANTT_PLOT_W;
    cr_assert_float_eq(area[0] * px_s, 2 * 20.0, 0.02 * 40, "F drawn: %.2f s", area[0] * px_s);
    cr_assert_float_eq(area[1] * px_s, 2 * 40.0, 0.02 * 80, "B drawn: %.2f s", area[1] * px_s);
    cr_assert_lt(strlen(s), (size_t)3 << 20);
    free(s);
    fixture_release(&f);
}

/* 1F1B's steady state alternates F and B below a pixel: merged, each span is a stack of an F
 * box and a B box, each as tall as its share of the time -- here F a third of the busy time
 * (1 ms against B's 2 ms) -- so the forwards show.  One box in the colour of the longest kind
 * had drawn the lanes all B, the forwards nowhere. */
Test(svg_gantt, alternating_narrow_ops_show_each_kinds_share)
{
    const char *sets[] = {"pp=4",        "layers=4",           "microbatches=40000",
                          "forward=1ms", "backward-input=2ms", NULL};
    struct sim_fixture f;
    struct svg_gantt_stats st;
    char *s = chart(&f, sets, &st);
    cr_assert_lt(st.col_px, 1.0, "320000 ops, yet columns under a pixel: the spans are long");
    cr_assert_leq(st.boxes, (size_t)SVG_GANTT_MAX_BOXES);
    cr_assert_null(strstr(s, " fill=\"#"), "no blended fills");
    double area[3];
    rank_areas(s, area);
    cr_assert_float_eq(area[0] / (area[0] + area[1]), 1.0 / 3, 0.02, "F's share drawn: %.3f",
                       area[0] / (area[0] + area[1]));
    /* the steady state of rank 0 (lane 11..31): one stack, F's 7 pixels on the lane's bottom
     * (a third of 20) and B's 13 on them */
    double x = -1, w = 0, xb = -2, wb = 0;
    for (const char *p = s; (p = strstr(p, "<rect x=\"")) != NULL; p++) {
        double px, pw;
        int y, h, k;
        if (sscanf(p, "<rect x=\"%lf\" y=\"%d\" width=\"%lf\" height=\"%d\" class=\"k%dc0 run\"",
                   &px, &y, &pw, &h, &k) != 5 ||
            pw < 1000)
            continue;
        if (k == 0 && y == 24 && h == 7)
            x = px, w = pw;
        if (k == 1 && y == 11 && h == 13)
            xb = px, wb = pw;
    }
    cr_assert(x == xb && w == wb && w > 1000, "one stack: %g+%g, %g+%g", x, w, xb, wb);
    free(s);
    fixture_release(&f);
}

/* scenarios/default.xml's costs at the size of the report that drew 63,866 boxes in 6.1 MB:
 * 64 ranks, 1F1B, 2048 micro-batches.  The whole plot -- boxes, lane bands, outlines -- stays
 * under the README's 30,000 elements; here far under, since the steady state merges into one
 * stack a rank. */
Test(svg_gantt, a_64_rank_step_of_2048_micro_batches_stays_bounded)
{
    const char *sets[] = {"pp=64",         "layers=128",    "microbatches=2048",
                          "micro-batch=2", "schedule=1f1b", NULL};
    struct sim_fixture f;
    cr_assert_eq(fixture_run_with(&f, sets, default_costs), SIM_OK, "%s", f.err.msg);
    FILE *fp = tmpfile();
    struct svg_gantt_stats st;
    cr_assert_eq(svg_gantt_write(fp, &f.res, NULL, &st), 0);
    char *s = capture(fp);
    cr_assert_eq(st.ops, 520256, "64 x 2048 x (F, B), 2 x 63 x 2048 transfers, 64 optimizers");
    size_t rects = count_of(s, "<rect ");
    cr_assert_leq(rects, (size_t)SVG_GANTT_MAX_BOXES, "%zu elements", rects);
    cr_assert_leq(rects, 2000, "%zu elements", rects);
    cr_assert_lt(strlen(s), (size_t)300000, "%zu bytes", strlen(s));
    double area[3];
    rank_areas(s, area);
    cr_assert_float_eq(area[0] / (area[0] + area[1]), 1.0 / 3, 0.02, "F's share drawn: %.3f",
                       area[0] / (area[0] + area[1]));
    free(s);
    fixture_release(&f);
}

/* 1F1B with a 1 ms link latency: each rank is busy 3 ms (F 1 ms, B 2 ms) of every 4.5 ms, its
 * idle in gaps far under a pixel (a pixel is 167 ms of the 180 s step).  The merged boxes span
 * those gaps, so they are drawn as tall as the share they are busy: F's 2/9 of the lane (4 of
 * 20 pixels) under B's 4/9 (9), the stack 13 pixels tall, and the compute boxes cover 2/3 of
 * the lanes' area, not all of it, which would show the ranks always busy and the bubble
 * nowhere; the links' boxes are as faint as they are busy. */
Test(svg_gantt, merged_boxes_show_the_idle_between_their_ops)
{
    const char *sets[] = {"pp=4",
                          "layers=4",
                          "microbatches=40000",
                          "forward=1ms",
                          "backward-input=2ms",
                          "backward-weight=0s",
                          "link-latency=1ms",
                          NULL};
    struct sim_fixture f;
    struct svg_gantt_stats st;
    char *s = chart(&f, sets, &st);
    double busy = 0;
    for (int r = 0; r < 4; r++)
        busy += simtime_to_s(f.res.busy[r]);
    double span = simtime_to_s(f.res.step_end - f.res.first_start);
    cr_assert_float_eq(busy / (4 * span), 2.0 / 3, 1e-3, "the step: ranks busy 2/3 of it");
    double area[3];
    rank_areas(s, area);
    cr_assert_float_eq((area[0] + area[1]) / (4 * SVG_GANTT_PLOT_W), 13.0 / 20, 0.01,
                       "drawn: %.4f of the lanes", (area[0] + area[1]) / (4 * SVG_GANTT_PLOT_W));
    cr_assert_eq(count_of(s, "height=\"4\" class=\"k0c0 run\" data-run=\"22.2\""), 4);
    cr_assert_eq(count_of(s, "height=\"9\" class=\"k1c0 run\" data-run=\"44.4\""), 4);
    /* each link carries a transfer (1 ms in flight) per 4.5 ms each way: one box per lane,
     * at 0.2 of the colour's strength */
    cr_assert_eq(count_of(s, "fill-opacity=\"0.2\" class=\"k4c0 run\""), 3);
    cr_assert_eq(count_of(s, "fill-opacity=\"0.2\" class=\"k5c0 run\""), 3);
    free(s);
    fixture_release(&f);
}

/* Transfers that take time get link lanes; the interleaved wrap its own below the last rank. */
Test(svg_gantt, transfers_draw_on_link_lanes)
{
    const char *sets[] = {"pp=4",
                          "vp=2",
                          "schedule=interleaved",
                          "layers=8",
                          "microbatches=8",
                          "forward=1ms",
                          "backward-input=2ms",
                          "activation=1MB",
                          "link-bandwidth=1GBps",
                          NULL};
    struct sim_fixture f;
    struct svg_gantt_stats st;
    char *s = chart(&f, sets, &st);
    cr_assert_eq(count_of(s, "class=\"band-link\""), 4, "links 0-1, 1-2, 2-3 and the wrap 3-0");
    cr_assert(strstr(s, ">3\xe2\x87\x84"
                        "0<"),
              "the wrap lane is labelled");
    cr_assert_gt(count_of(s, "class=\"k4c0\" data-m="), 0, "activation sends");
    cr_assert_gt(count_of(s, "class=\"k5c0\" data-m="), 0, "gradient sends");
    cr_assert(strstr(s, ".k0c1{fill:#86d7f4}"), "chunk 1 of 2 takes the lightest shade");
    free(s);
    fixture_release(&f);
}

/* CIE L*a*b* (D65) of an sRGB colour 0xRRGGBB. */
static void lab_of(unsigned long c, double lab[3])
{
    double lin[3], xyz[3], f[3];
    for (int i = 0; i < 3; i++) {
        double v = (double)((c >> (16 - 8 * i)) & 0xff) / 255;
        lin[i] = v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
    }
    xyz[0] = (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047;
    xyz[1] = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
    xyz[2] = (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883;
    for (int i = 0; i < 3; i++)
        f[i] = xyz[i] > 0.008856 ? cbrt(xyz[i]) : 7.787 * xyz[i] + 16.0 / 116;
    lab[0] = 116 * f[1] - 16;
    lab[1] = 500 * (f[0] - f[1]);
    lab[2] = 200 * (f[1] - f[2]);
}

/* CIE76 colour difference: about 2 is just noticeable, 20 a different colour at a glance. */
static double delta_e(unsigned long a, unsigned long b)
{
    double p[3], q[3];
    lab_of(a, p);
    lab_of(b, q);
    return sqrt((p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]) +
                (p[2] - q[2]) * (p[2] - q[2]));
}

/* An interleaved step of 4 ranks, F, B and W of 1 ms each, with `vp` and `layers` ("vp=4",
 * "layers=16"), drawn. */
static char *interleaved_chart(struct sim_fixture *f, const char *vp, const char *layers)
{
    const char *sets[] = {"pp=4",
                          vp,
                          "schedule=interleaved",
                          layers,
                          "microbatches=8",
                          "forward=1ms",
                          "backward-input=1ms",
                          "backward-weight=1ms",
                          "split-backward=true",
                          NULL};
    return chart(f, sets, NULL);
}

/* vp 4 (interleaved, split backward): each kind's four chunk shades, as the page's styles give
 * them, step at least 20 apart in CIE76 -- a blend of one dark and one light shade had stepped
 * 12 to 17 (F's chunks 1 and 2, 0x4d8cc7 and 0x6eaddd, read as one) -- and plots/gantt.gp draws
 * the PNG's with the same four. */
Test(svg_gantt, chunk_shades_of_a_kind_stand_apart_at_vp_4)
{
    struct sim_fixture f;
    char *s = interleaved_chart(&f, "vp=4", "layers=16");
    for (int k = 0; k < 3; k++) {
        unsigned long c[4];
        for (int ch = 0; ch < 4; ch++) {
            char cls[32];
            snprintf(cls, sizeof cls, ".k%dc%d{fill:#", k, ch);
            const char *at = strstr(s, cls);
            cr_assert(at && sscanf(at + strlen(cls), "%6lx", &c[ch]) == 1, "%s", cls);
        }
        for (int ch = 0; ch < 3; ch++)
            cr_assert_geq(delta_e(c[ch], c[ch + 1]), 20.0, "kind %d: chunks %d and %d %.1f apart",
                          k, ch, ch + 1, delta_e(c[ch], c[ch + 1]));
        char line[128];
        snprintf(line, sizeof line,
                 "(i == 0 ? 0x%06lx : i == 1 ? 0x%06lx : i == 2 ? 0x%06lx : 0x%06lx)", c[0], c[1],
                 c[2], c[3]);
        cr_assert(strstr(gantt_gp, line), "gantt.gp's ramp for kind %d: %s", k, line);
    }
    free(s);
    fixture_release(&f);
}

/* The fill of class `cls` ("k0c7") in the chart's styles. */
static unsigned long fill_of(const char *s, const char *cls)
{
    char at_text[32];
    snprintf(at_text, sizeof at_text, ".%s{fill:#", cls);
    const char *at = strstr(s, at_text);
    unsigned long c = 0;
    cr_assert(at && sscanf(at + strlen(at_text), "%6lx", &c) == 1, "%s", at_text);
    return c;
}

/* Past 4 chunks the legend has one entry per kind, its swatch running from chunk 0's shade to
 * the last's, and says how chunks are shaded: vp 20 had named 40 (kind, chunk) shades in ten
 * rows at 800 px.  Up to 4 it names each. */
Test(svg_gantt, many_chunks_take_one_legend_entry_per_kind)
{
    struct sim_fixture f;
    char *s = interleaved_chart(&f, "vp=8", "layers=32");
    const char *legend = strstr(s, "<div class=\"legend\">");
    cr_assert_not_null(legend);
    const char *end = strstr(legend, "</div>");
    cr_assert_eq(count_of(legend, "<i class=\"sw ramp\""), 3, "F, B and W: one each");
    cr_assert(!strstr(legend, ", chunk ") || strstr(legend, ", chunk ") > end, "%.600s", legend);
    cr_assert(strstr(legend, "shade: the model chunk, 0 darkest to 7 lightest</span>"));
    char want[64];
    snprintf(want, sizeof want, "linear-gradient(90deg,#%06lx,", fill_of(s, "k0c0"));
    cr_assert(strstr(legend, want), "F's swatch starts at chunk 0's shade: %s", want);
    snprintf(want, sizeof want, ",#%06lx)\"></i>F forward</span>", fill_of(s, "k0c7"));
    cr_assert(strstr(legend, want), "and ends at chunk 7's: %s", want);
    free(s);
    fixture_release(&f);
    s = interleaved_chart(&f, "vp=4", "layers=32");
    legend = strstr(s, "<div class=\"legend\">");
    cr_assert(legend && strstr(legend, "F forward, chunk 3") && !strstr(legend, "sw ramp"));
    free(s);
    fixture_release(&f);
}

/* Every allocation failing in turn: an error return, never a crash or a leak (ASan). */
Test(svg_gantt, allocation_failures_are_errors)
{
    const char *sets[] = {"pp=2", "layers=2", "microbatches=2", "forward=1ms", NULL};
    struct sim_fixture f;
    cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
    int failed = 0;
    for (long k = 1; k <= 9; k++) { /* 8: lanes, pairs, strip row, grouping, items */
        FILE *fp = tmpfile();
        mem_fail_after(k);
        failed += svg_gantt_write(fp, &f.res, NULL, NULL) != 0;
        mem_fail_after(0);
        fclose(fp);
    }
    cr_assert_eq(failed, 8, "each of the 8 allocations fails the chart, none past them");
    fixture_release(&f);
}

/* A deep pipeline's page cuts each lane's row into spans once per try of the column width,
 * over the columns from its first op to its last: rank r of 1024 runs from its first forward,
 * r ms into the fill, to its last backward, some 2r ms before the drain ends, and is left out
 * of the columns before and after.  Here the tries at 8, 4 and 2 columns a pixel count past
 * the budget a few hundred lanes in, and one a pixel is taken: 2.6 of the 1024 lanes' full
 * rows are cut in all.  Every row had been cut whole, and the taken width's twice (counted,
 * then drawn): 4.5 rows' worth, most of the page's time (2.5 G instructions of 3.3 G at 64
 * micro-batches). */
Test(svg_gantt, a_deep_pipeline_cuts_its_lanes_where_they_run)
{
    const char *sets[] = {"pp=1024", "layers=1024", "microbatches=64", "schedule=1f1b", NULL};
    struct sim_fixture f;
    cr_assert_eq(fixture_run_with(&f, sets, default_costs), SIM_OK, "%s", f.err.msg);
    FILE *fp = tmpfile();
    struct svg_gantt_stats st;
    cr_assert_eq(svg_gantt_write(fp, &f.res, NULL, &st), 0);
    fclose(fp);
    double rows = 1024 * SVG_GANTT_PLOT_W / st.col_px; /* the lanes' columns, as drawn */
    cr_assert_gt(st.merged, 0, "nothing merged");
    cr_expect_leq(st.cut_columns, 3 * rows, "%.2f lanes' rows cut", st.cut_columns / rows);
    fixture_release(&f);
}
