/* test_svg_gantt: the Gantt chart's boxes -- one per op when ops are wide, runs merged below
 * a pixel so the output stays bounded, colours and lanes as documented in svg_gantt.h. */
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
    cr_assert_eq(st.detail, 8);
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

/* A long step of short ops: the boxes stay bounded by the width, not the op count, and
 * merged boxes say what they hold. */
Test(svg_gantt, many_narrow_ops_merge_into_bounded_runs)
{
    const char *sets[] = {"pp=2",        "layers=2",           "microbatches=20000",
                          "forward=1ms", "backward-input=2ms", "schedule=gpipe",
                          NULL};
    struct sim_fixture f;
    struct svg_gantt_stats st;
    char *s = chart(&f, sets, &st);
    cr_assert_eq(st.ops, 80000);
    cr_assert_leq(st.boxes, (size_t)SVG_GANTT_MAX_BOXES);
    cr_assert_gt(st.merged, 0);
    cr_assert_eq(count_of(s, "<rect x="), st.boxes, "lane bands and pair outlines apart");
    cr_assert_eq(st.boxes, 4, "each rank: one run of 20000 F, one of 20000 B");
    /* GPipe: all forwards, then all backwards: runs of one kind keep the kind's colour */
    cr_assert(strstr(s, "class=\"k0c0 run\" data-run=\"F "), "same-kind runs keep their class");
    cr_assert_null(strstr(s, "class=\"run\" fill="), "no mixed runs in GPipe's phases");
    cr_assert_lt(strlen(s), (size_t)3 << 20);
    free(s);
    fixture_release(&f);
}

/* 1F1B's steady state alternates F and B below a pixel: they merge into mixed runs, at most
 * a few per pixel, each in the colour of what takes most of its time -- here B (2 ms against
 * F's 1 ms) -- never a blend (F's blue and B's orange averaged read as an idle grey). */
Test(svg_gantt, alternating_narrow_ops_take_the_longer_kinds_colour)
{
    const char *sets[] = {"pp=4",        "layers=4",           "microbatches=40000",
                          "forward=1ms", "backward-input=2ms", NULL};
    struct sim_fixture f;
    struct svg_gantt_stats st;
    char *s = chart(&f, sets, &st);
    cr_assert_lt(st.detail, 8, "320000 ops cannot all be drawn apart");
    cr_assert_leq(st.boxes, (size_t)SVG_GANTT_MAX_BOXES);
    cr_assert_null(strstr(s, " fill=\"#"), "no blended fills");
    int mixed = 0;
    for (const char *p = s; (p = strstr(p, "<rect ")) != NULL; p++) {
        const char *end = strchr(p, '>'), *run = strstr(p, "data-run=\"F ");
        if (!run || run > end || !strstr(run, ", B ") || strstr(run, ", B ") > end)
            continue;
        const char *cls = strstr(p, "class=\"");
        cr_assert(cls && cls < end && strncmp(cls, "class=\"k1c0 run\"", 16) == 0, "%.120s", p);
        mixed++;
    }
    cr_assert_gt(mixed, 100, "mixed runs of F and B");
    free(s);
    fixture_release(&f);
}

/* 1F1B with a 1 ms link latency: each rank is busy 3 ms (F 1 ms, B 2 ms) of every 4.5 ms, its
 * idle in gaps far under a pixel (a pixel is 167 ms of the 180 s step).  The merged runs span
 * those gaps, so they are drawn as tall as the share they are busy: the compute boxes cover
 * 2/3 of the lanes' area (heights in whole pixels of the 20-pixel lane: 13/20), not all of it,
 * which would show the ranks always busy and the bubble nowhere; the links' runs are as
 * faint as they are busy. */
Test(svg_gantt, merged_runs_show_the_idle_between_their_ops)
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
    double area = 0; /* of the F and B boxes, in lane-heights x pixels */
    for (const char *p = s; (p = strstr(p, "<rect x=\"")) != NULL; p++) {
        double x, w;
        int y, h, k;
        if (sscanf(p, "<rect x=\"%lf\" y=\"%d\" width=\"%lf\" height=\"%d\" class=\"k%d", &x, &y,
                   &w, &h, &k) == 5 &&
            k <= 1)
            area += w * h / 20.0;
    }
    cr_assert_float_eq(area / (4 * SVG_GANTT_PLOT_W), 13.0 / 20, 0.01, "drawn: %.4f of the lanes",
                       area / (4 * SVG_GANTT_PLOT_W));
    cr_assert_gt(count_of(s, "height=\"13\" class=\"k1c0 run\""), 1000, "runs 13 pixels tall");
    /* each link carries a transfer (1 ms in flight) per 4.5 ms each way: one run per lane,
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

/* vp 4 (interleaved, split backward): each kind's four chunk shades, as the page's styles give
 * them, step at least 20 apart in CIE76 -- a blend of one dark and one light shade had stepped
 * 12 to 17 (F's chunks 1 and 2, 0x4d8cc7 and 0x6eaddd, read as one) -- and plots/gantt.gp draws
 * the PNG's with the same four. */
Test(svg_gantt, chunk_shades_of_a_kind_stand_apart_at_vp_4)
{
    const char *sets[] = {"pp=4",
                          "vp=4",
                          "schedule=interleaved",
                          "layers=16",
                          "microbatches=8",
                          "forward=1ms",
                          "backward-input=1ms",
                          "backward-weight=1ms",
                          "split-backward=true",
                          NULL};
    struct sim_fixture f;
    struct svg_gantt_stats st;
    char *s = chart(&f, sets, &st);
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

/* Every allocation failing in turn: an error return, never a crash or a leak (ASan). */
Test(svg_gantt, allocation_failures_are_errors)
{
    const char *sets[] = {"pp=2", "layers=2", "microbatches=2", "forward=1ms", NULL};
    struct sim_fixture f;
    cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
    int failed = 0;
    for (long k = 1; k <= 4; k++) {
        FILE *fp = tmpfile();
        mem_fail_after(k);
        failed += svg_gantt_write(fp, &f.res, NULL, NULL) != 0;
        mem_fail_after(0);
        fclose(fp);
    }
    cr_assert_eq(failed, 4);
    fixture_release(&f);
}
