/* test_outputs: the picture and trace writers -- the Chrome trace JSON (trace) and
 * plot_gantt's input checks (what the Gantt chart draws: test_gantt.c).  The step is tiny and
 * exact: pp=2, one micro-batch, F = 1 ms, B = 2 ms, links with 1 ms latency, a free optimizer. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "helpers.h"
#include "plot.h"
#include "trace.h"

static const char *const tiny[] = {"pp=2",
                                   "layers=2",
                                   "microbatches=1",
                                   "forward=1ms",
                                   "backward-input=2ms",
                                   "optimizer=0s",
                                   "link-latency=1ms",
                                   NULL};

static void run_tiny(struct sim_fixture *f)
{
    cr_assert_eq(fixture_run(f, tiny), SIM_OK, "%s", f->err.msg);
}

/* Everything `write` puts in a tmpfile(), as a NUL-terminated heap string. */
static char *capture(FILE *fp)
{
    cr_assert_eq(fflush(fp), 0);
    long len = ftell(fp);
    cr_assert_geq(len, 0);
    rewind(fp);
    char *buf = malloc((size_t)len + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)len, fp), (size_t)len);
    buf[len] = '\0';
    fclose(fp);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Brackets balance outside string literals and never go negative; strings are closed. */
static void assert_balanced_json(const char *s)
{
    int depth = 0, in_str = 0;
    for (const char *p = s; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                in_str = 0;
            continue;
        }
        if (*p == '"')
            in_str = 1;
        else if (*p == '{' || *p == '[')
            depth++;
        else if (*p == '}' || *p == ']') {
            depth--;
            cr_assert_geq(depth, 0, "closing bracket without an opener at offset %ld",
                          (long)(p - s));
        }
    }
    cr_assert_eq(in_str, 0, "unterminated string");
    cr_assert_eq(depth, 0, "unbalanced brackets");
}

Test(outputs, trace_is_balanced_json_with_rank_and_link_tracks)
{
    struct sim_fixture f;
    run_tiny(&f);
    snprintf(f.scn.name, sizeof f.scn.name, "tiny \"quoted\"");
    FILE *fp = tmpfile();
    cr_assert_not_null(fp);
    cr_assert_eq(trace_write_json(fp, &f.scn, &f.res), 0);
    char *js = capture(fp);
    assert_balanced_json(js);
    cr_assert_eq(js[0], '{');
    cr_assert_not_null(strstr(js, "\"traceEvents\":["));
    cr_assert_not_null(strstr(js, "\"scenario\":\"tiny \\\"quoted\\\"\""));
    const char *tracks[] = {"\"pipeline ranks\"", "\"p2p links\"",   "\"rank 0\"",
                            "\"rank 1\"",         "\"link 0 -> 1\"", "\"link 1 -> 0\""};
    for (size_t i = 0; i < sizeof tracks / sizeof *tracks; i++)
        cr_assert_eq(count(js, tracks[i]), 1, "track %s", tracks[i]);
    cr_assert_eq(count(js, "\"thread_sort_index\""), 6,
                 "2 ranks, their 2 gradient-sync streams, 2 link directions");
    cr_assert_eq(count(js, "\"rank 1 grad sync\""), 1);
    /* One complete event per record, named by kind. */
    cr_assert_eq(count(js, "\"ph\":\"X\""), f.res.nrecs);
    cr_assert_eq(count(js, "\"name\":\"F\""), 2);
    cr_assert_eq(count(js, "\"name\":\"B\""), 2);
    cr_assert_eq(count(js, "\"name\":\"OPT\""), 2);
    cr_assert_eq(count(js, "\"name\":\"SEND_F\""), 1);
    cr_assert_eq(count(js, "\"name\":\"SEND_B\""), 1);
    /* Microseconds: rank 0's B starts at 6 ms and lasts 2 ms. */
    cr_assert_not_null(strstr(js, "\"name\":\"B\",\"cat\":\"compute\",\"pid\":1,\"tid\":0,"
                                  "\"ts\":6000.000000,\"dur\":2000.000000,"
                                  "\"args\":{\"microbatch\":0,\"chunk\":0,\"stage\":0}"));
    free(js);
    fixture_release(&f);
}

Test(outputs, plot_rejects_other_extensions_and_unsafe_paths)
{
    struct sim_fixture f;
    run_tiny(&f);
    const char *bad[] = {"/tmp/stepsim-test-x.jpg", "/tmp/stepsim-test-x", "/tmp/x.png.gif",
                         "/tmp/it's.png", ".png"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct sim_error err;
        err_clear(&err);
        cr_assert_eq(plot_gantt(bad[i], &f.scn, &f.res, NULL, NULL, &err), SIM_EINPUT, "%s", bad[i]);
        cr_assert_neq(err.msg[0], '\0');
        cr_assert_not_null(strstr(err.msg, bad[i]), "the message names the path: %s", err.msg);
        cr_assert_neq(access(bad[i], F_OK), 0, "nothing is written for %s", bad[i]);
    }
    fixture_release(&f);
}

Test(outputs, plot_renders_a_png_when_gnuplot_is_there)
{
    if (access(GNUPLOT_PATH, X_OK) != 0)
        cr_skip_test("gnuplot (%s) is not installed", GNUPLOT_PATH);
    struct sim_fixture f;
    run_tiny(&f);
    char dir[] = "/tmp/stepsim-test-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/g.png", dir);
    struct sim_error err;
    err_clear(&err);
    cr_assert_eq(plot_gantt(path, &f.scn, &f.res, NULL, NULL, &err), SIM_OK, "%s", err.msg);
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp);
    unsigned char magic[8] = {0};
    cr_assert_eq(fread(magic, 1, 8, fp), 8u);
    fclose(fp);
    cr_assert_eq(memcmp(magic, "\x89PNG\r\n\x1a\n", 8), 0, "not a PNG");
    cr_assert_eq(unlink(path), 0);
    cr_assert_eq(rmdir(dir), 0, "no temp files left beside the image");
    fixture_release(&f);
}
