/* test_report: derived figures (bubble ratio, Megatron bubble overhead, throughput) and the
 * text / JSON renderings. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "report.h"

static void run_report(struct sim_fixture *f, struct report *rep, const char *const *sets)
{
    cr_assert_eq(fixture_run(f, sets), SIM_OK, "%s", f->err.msg);
    cr_assert_eq(report_compute(&f->scn, &f->layout, &f->res, rep, &f->err), SIM_OK);
}

/* run_report, and its JSON rendering as a heap string the caller frees. */
static char *run_report_json(struct sim_fixture *f, struct report *rep, const char *const *sets)
{
    run_report(f, rep, sets);
    FILE *fp = tmpfile();
    cr_assert(fp);
    cr_assert_eq(report_write_json(fp, &f->scn, rep), 0);
    return capture(fp);
}

Test(report, megatron_bubble_overhead_is_p_minus_1_over_m_for_uniform_1f1b)
{
    for (int p = 1; p <= 8; p++)
        for (int m = 1; m <= 16; m++) {
            char sp[32], sm[32], sl[32];
            snprintf(sp, sizeof sp, "pp=%d", p);
            snprintf(sm, sizeof sm, "microbatches=%d", m);
            snprintf(sl, sizeof sl, "layers=%d", p);
            const char *sets[] = {sp, sm, sl, "forward=1ms", "backward-input=2ms", NULL};
            struct sim_fixture f;
            struct report rep;
            run_report(&f, &rep, sets);
            cr_assert_float_eq(rep.bubble_overhead, (double)(p - 1) / m, 1e-12, "p=%d m=%d", p, m);
            cr_assert_float_eq(rep.bubble_ratio, (double)(p - 1) / (m + p - 1), 1e-12);
            double busy = 0;
            for (int r = 0; r < p; r++) {
                busy += rep.ranks[r].busy_s;
                cr_assert_float_eq(rep.ranks[r].busy_s + rep.ranks[r].idle_s, rep.makespan_s,
                                   1e-12);
            }
            cr_assert_float_eq(busy, 3e-3 * m * p, 1e-12, "each of p ranks is busy m * (f + b)");
            report_release(&rep);
            fixture_release(&f);
        }
}

/* With no busy time (every compute op free) the pipeline is all idle: the bubble ratio is 1,
 * and Megatron's overhead, idle over ideal time, has no ideal time to divide by -- n/a in the
 * text and null in the JSON, not the 0 (no idle at all) it had printed. */
Test(report, bubble_overhead_is_undefined_without_busy_time)
{
    const char *sets[] = {"pp=2",         "layers=2",          "microbatches=4",
                          "forward=0s",   "backward-input=0s", "backward-weight=0s",
                          "activation=1MB", "link-bandwidth=1GBps", NULL};
    struct sim_fixture f;
    struct report rep;
    char *json = run_report_json(&f, &rep, sets);
    cr_assert(rep.makespan_s > 0, "the transfers take time");
    cr_assert_float_eq(rep.bubble_ratio, 1.0, 1e-12);
    cr_assert(isnan(rep.bubble_overhead));
    cr_assert(strstr(json, "\"bubble_overhead\": null,\n"), "%s", json);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    cr_assert_eq(report_write_text(mem, &f.scn, &rep), 0);
    fclose(mem);
    cr_assert(strstr(buf, "bubble overhead    n/a      (Megatron: idle / ideal time; no busy "
                          "time)\n"),
              "%s", buf);
    free(buf);
    free(json);
    report_release(&rep);
    fixture_release(&f);
}

Test(report, throughput_counts_samples_and_tokens)
{
    const char *sets[] = {"pp=2", "microbatches=4", "micro-batch=8", "seq=2048", "layers=2",
                          "forward=1ms", "backward-input=2ms", "optimizer=5ms", NULL};
    struct sim_fixture f;
    struct report rep;
    run_report(&f, &rep, sets);
    /* makespan (4+1)*3 ms = 15 ms, step 20 ms with the optimizer. */
    cr_assert_float_eq(rep.makespan_s, 0.015, 1e-15);
    cr_assert_float_eq(rep.step_s, 0.020, 1e-15);
    cr_assert_eq(rep.samples, 32);
    cr_assert_eq(rep.tokens, 32 * 2048);
    cr_assert_float_eq(rep.samples_per_s, 32 / 0.020, 1e-9);
    cr_assert_float_eq(rep.tokens_per_s, 32 * 2048 / 0.020, 1e-6);
    report_release(&rep);
    fixture_release(&f);
}

Test(report, unknown_seq_gives_no_tokens)
{
    const char *sets[] = {"forward=1ms", NULL};
    struct sim_fixture f;
    struct report rep;
    char *buf = run_report_json(&f, &rep, sets);
    cr_assert_lt(rep.tokens_per_s, 0);
    cr_assert(strstr(buf, "\"tokens_per_s\": null") != NULL, "%s", buf);
    free(buf);
    report_release(&rep);
    fixture_release(&f);
}

Test(report, json_has_every_figure_and_escapes_the_name)
{
    const char *sets[] = {"name=a\"b\\c", "pp=2", "layers=2", "microbatches=3", "seq=16",
                          "forward=1ms", NULL};
    struct sim_fixture f;
    struct report rep;
    char *buf = run_report_json(&f, &rep, sets);
    const char *keys[] = {"\"step_time_s\"", "\"makespan_s\"", "\"bubble_ratio\"",
                          "\"bubble_overhead\"", "\"samples_per_s\"", "\"tokens_per_s\": 1",
                          "\"peak_inflight\"", "\"idle_s\"", "\"a\\\"b\\\\c\""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_assert(strstr(buf, keys[i]) != NULL, "missing %s in %s", keys[i], buf);
    free(buf);
    report_release(&rep);
    fixture_release(&f);
}

/* A step of over 1000 s: every time the JSON prints reads back as the engine's picoseconds
 * (%.9g had printed 1239.79203 for 1239.7920268822). */
Test(report, json_times_read_back_to_the_picosecond)
{
    const char *sets[] = {"pp=2", "layers=4", "microbatches=500", "forward=1.2345678911s",
                          "activation=1MB", "link-bandwidth=1GBps", "optimizer=1ms", NULL};
    struct sim_fixture f;
    struct report rep;
    char *buf = run_report_json(&f, &rep, sets);
    cr_assert_gt(rep.step_s, 1000.0);
    cr_assert_eq(simtime_from_s(json_number(buf, "step_time_s")), rep.step, "%s", buf);
    cr_assert_eq(simtime_from_s(json_number(buf, "makespan_s")), rep.makespan, "%s", buf);
    const char *rank1 = strstr(buf, "\"rank\": 1");
    cr_assert(rank1 != NULL, "%s", buf);
    cr_assert_eq(simtime_from_s(json_number(rank1, "busy_s")), rep.ranks[1].busy);
    cr_assert_eq(simtime_from_s(json_number(rank1, "idle_s")), rep.ranks[1].idle);
    cr_assert_eq(simtime_from_s(json_number(rank1, "optimizer_end_s")), rep.ranks[1].opt_end);
    free(buf);
    report_release(&rep);
    fixture_release(&f);
}

/* The JSON's times: exact decimals of the clock (exact); computed ones to the picosecond, at
 * most 17 significant digits; no trailing zeros, never "-0". */
Test(report, json_time_formats)
{
    const struct {
        int exact; /* report_json_time(t), else report_json_seconds(s) */
        simtime_t t;
        double s;
        const char *want;
    } cases[] = {
        {1, 0, 0, "0"},
        {1, INT64_C(2000000000000), 0, "2"},
        {1, INT64_C(1239792026882200), 0, "1239.7920268822"},
        {1, 1, 0, "0.000000000001"},
        {1, -1, 0, "-0.000000000001"},
        {1, INT64_MAX, 0, "9223372.036854775807"},
        {0, 0, 0.0, "0"},
        {0, 0, -1e-17, "0"},
        {0, 0, 0.397540638705123, "0.397540638705"},
        {0, 0, 0.25, "0.25"},
        {0, 0, 1882713.4597661495, "1882713.4597661495"},
        {0, 0, 1e20, "100000000000000000000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *fp = tmpfile();
        cr_assert(fp);
        if (cases[i].exact)
            report_json_time(fp, cases[i].t);
        else
            report_json_seconds(fp, cases[i].s);
        char *got = capture(fp);
        cr_assert_str_eq(got, cases[i].want, "case %zu", i);
        free(got);
    }
}

Test(report, text_names_each_rank)
{
    const char *sets[] = {"pp=3", "layers=3", "microbatches=3", "forward=1ms", NULL};
    struct sim_fixture f;
    struct report rep;
    run_report(&f, &rep, sets);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    cr_assert_eq(report_write_text(mem, &f.scn, &rep), 0);
    fclose(mem);
    cr_assert(strstr(buf, "bubble ratio       0.4000") != NULL, "%s", buf);
    cr_assert(strstr(buf, "bubble overhead    0.6667") != NULL, "%s", buf);
    cr_assert(strstr(buf, "\n   2  ") != NULL, "rank 2 row: %s", buf);
    free(buf);
    report_release(&rep);
    fixture_release(&f);
}

/* The schedule line and an uneven split are the step's layout (rep.layout, the one its costs
 * were built from): under DualPipe its 4 model parts, each held twice, not its 8 stages --
 * ends 1 and 3 of 10 layers leave 3 for each of the 2 middle parts. */
Test(report, pipeline_lines_are_the_layouts)
{
    const char *sets[] = {"schedule=dualpipe",   "vp=2",           "pp=4",
                          "layers=10",           "microbatches=8", "first-stage-layers=1",
                          "last-stage-layers=3", "forward=1ms",    NULL};
    struct sim_fixture f;
    struct report rep;
    run_report(&f, &rep, sets);
    cr_assert_eq(rep.layout, &f.layout);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    cr_assert_eq(report_write_text(mem, &f.scn, &rep), 0);
    fclose(mem);
    cr_assert(strstr(buf, "\nschedule      dualpipe  pp=4 vp=2 microbatches=8 ") != NULL, "%s",
              buf);
    cr_assert(strstr(buf, "\nstages        layers per virtual stage: 1, 3 x 3 "
                          "(first/last-stage-layers)\n") != NULL,
              "%s", buf);
    free(buf);
    report_release(&rep);
    fixture_release(&f);
    char *json = run_report_json(&f, &rep, sets);
    cr_assert(strstr(json, "\"config\": {\"schedule\": \"dualpipe\", \"pp\": 4, \"vp\": 2, ") !=
                  NULL,
              "%s", json);
    cr_assert(strstr(json, "\n  \"stage_layers\": [1, 3, 3, 3],\n") != NULL, "%s", json);
    free(json);
    report_release(&rep);
    fixture_release(&f);
}

/* The scenario line gives the command line's --set values after the name, as the chart title
 * does, cleaned as the name is (a byte that is no UTF-8 becomes U+FFFD). */
Test(report, text_scenario_line_names_the_overrides)
{
    const char *sets[] = {"pp=2", "layers=2", "microbatches=2", "forward=1ms", NULL};
    struct sim_fixture f;
    struct report rep;
    run_report(&f, &rep, sets);
    snprintf(rep.sets_note, sizeof rep.sets_note, "--set pp=2 name=x\xff");
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    cr_assert_eq(report_write_text(mem, &f.scn, &rep), 0);
    fclose(mem);
    cr_assert(strncmp(buf, "scenario      ", 14) == 0, "%s", buf);
    cr_assert(strstr(buf, " (--set pp=2 name=x\xef\xbf\xbd)\n"), "%.100s", buf);
    free(buf);
    report_release(&rep);
    fixture_release(&f);
}

/* The JSON's one-layer table tells apart every row the text does: each kind of layer a model
 * can have writes its own (kind, attention) pair (a DSA layer sharing another's top-k had
 * read "moe", "global" like the layers with their own indexer). */
Test(report, json_layer_kinds_are_all_distinct)
{
    struct report rep = {0};
    for (int kind = 0; kind < CM_LAYER_VIEWS; kind++)
        rep.layer_view[kind].layer = kind;
    FILE *fp = tmpfile();
    cr_assert(fp);
    report_write_layers_json(fp, &rep);
    char *json = capture(fp);
    char pairs[CM_LAYER_VIEWS][64];
    int n = 0;
    for (const char *at = json; (at = strstr(at, "{\"kind\": ")) != NULL; at++) {
        cr_assert_lt(n, CM_LAYER_VIEWS, "%s", json);
        const char *end = strstr(at, ", \"layer\"");
        cr_assert(end && end - at < (long)sizeof pairs[0], "%s", at);
        snprintf(pairs[n], sizeof pairs[n], "%.*s", (int)(end - at), at);
        for (int i = 0; i < n; i++)
            cr_assert_str_neq(pairs[i], pairs[n], "rows %d and %d alike: %s", i, n, pairs[n]);
        n++;
    }
    cr_assert_eq(n, CM_LAYER_VIEWS, "%s", json);
    free(json);
}
