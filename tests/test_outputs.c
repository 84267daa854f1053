/* test_outputs: the picture writer -- the Gantt TSV (plot) and plot_gantt's input checks (the
 * Chrome trace has tests/test_trace.c).  The step is tiny and exact: pp=2, one micro-batch,
 * F = 1 ms, B = 2 ms, links with 1 ms latency, a free optimizer. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "helpers.h"
#include "outfile.h"
#include "plot.h"

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

Test(outputs, gantt_tsv_has_one_row_per_timed_op_and_transfer)
{
    struct sim_fixture f;
    run_tiny(&f);
    FILE *fp = tmpfile();
    cr_assert_not_null(fp);
    int rows = plot_write_gantt_tsv(fp, &f.res);
    char *tsv = capture(fp);
    /* In start order; the zero-length optimizer ops are left out (nothing to draw). */
    const char *want = "# rank\tstart_s\tend_s\tkind\tmicrobatch\tchunk\tpeer\n"
                       "0\t0.000000000000\t0.001000000000\t0\t0\t0\t-1\n"
                       "0\t0.001000000000\t0.002000000000\t4\t0\t0\t1\n"
                       "1\t0.002000000000\t0.003000000000\t0\t0\t0\t-1\n"
                       "1\t0.003000000000\t0.005000000000\t1\t0\t0\t-1\n"
                       "1\t0.005000000000\t0.006000000000\t5\t0\t0\t0\n"
                       "0\t0.006000000000\t0.008000000000\t1\t0\t0\t-1\n";
    cr_assert_str_eq(tsv, want);
    cr_assert_eq(rows, 6);
    free(tsv);
    fixture_release(&f);
}

/* One data row of the Gantt TSV; advances *line past it. */
struct gantt_row {
    int rank, kind, mb, chunk, peer;
    double s, e;
};

static struct gantt_row next_row(const char **line, int i)
{
    struct gantt_row r;
    cr_assert_eq(sscanf(*line, "%d\t%lf\t%lf\t%d\t%d\t%d\t%d", &r.rank, &r.s, &r.e, &r.kind, &r.mb,
                        &r.chunk, &r.peer),
                 7, "row %d: %.40s", i, *line);
    *line = strchr(*line, '\n') + 1;
    return r;
}

/* Run `sets` and write its Gantt TSV; *rows gets the row count.  The caller frees the text and
 * releases f. */
static char *gantt_tsv_of(const char *const *sets, struct sim_fixture *f, int *rows)
{
    cr_assert_eq(fixture_run(f, sets), SIM_OK, "%s", f->err.msg);
    FILE *fp = tmpfile();
    cr_assert_not_null(fp);
    *rows = plot_write_gantt_tsv(fp, &f->res);
    return capture(fp);
}

/* DualPipe's overlapped pairs get an outline row (kind 6) right after the pair's B, from the
 * F's start to the B's end on the same rank; p = 2, m = 4 has one pair per rank. */
Test(outputs, gantt_tsv_outlines_overlapped_pairs)
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
    int rows;
    char *tsv = gantt_tsv_of(sets, &f, &rows);
    cr_assert_eq(rows, 2 * 12 + 2, "12 ops per rank and one pair outline each");
    int pairs = 0;
    double prev_start[2] = {-1, -1}, prev_end[2] = {-1, -1}, before[2] = {-1, -1};
    const char *line = strchr(tsv, '\n') + 1;
    for (int i = 0; i < rows; i++) {
        struct gantt_row g = next_row(&line, i);
        int rank = g.rank;
        double s = g.s, e = g.e;
        if (g.kind == PLOT_PAIR) {
            pairs++;
            cr_assert_float_eq(s, before[rank], 1e-12, "outline starts at the pair's F");
            cr_assert_float_eq(e, prev_end[rank], 1e-12, "and ends with its B");
            cr_assert_float_eq(e - s, 2e-3, 1e-12);
        } else {
            before[rank] = prev_start[rank];
            prev_start[rank] = s;
            prev_end[rank] = e;
        }
    }
    cr_assert_eq(pairs, 2);
    free(tsv);
    fixture_release(&f);
}

Test(outputs, gantt_tsv_numbers_microbatches_and_chunks)
{
    const char *const sets[] = {
        "schedule=interleaved", "pp=2", "vp=2", "layers=4", "microbatches=4", "forward=1ms",
        "backward-input=1ms",   NULL};
    struct sim_fixture f;
    int rows;
    char *tsv = gantt_tsv_of(sets, &f, &rows);
    /* Free links and a free optimizer: only F and B, one per (chunk, micro-batch) per rank. */
    cr_assert_eq(rows, 2 * 2 * 2 * 4);
    int seen[2][2][4][2] = {{{{0}}}}; /* [rank][chunk][mb][F/B] */
    const char *line = strchr(tsv, '\n') + 1;
    for (int i = 0; i < rows; i++) {
        struct gantt_row g = next_row(&line, i);
        cr_assert(g.rank >= 0 && g.rank < 2 && g.chunk >= 0 && g.chunk < 2 && g.mb >= 0 &&
                  g.mb < 4);
        cr_assert(g.kind == 0 || g.kind == 1);
        cr_assert_eq(g.peer, -1);
        cr_assert_lt(g.s, g.e);
        seen[g.rank][g.chunk][g.mb][g.kind]++;
    }
    cr_assert_eq(*line, '\0');
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 2; c++)
            for (int m = 0; m < 4; m++)
                for (int k = 0; k < 2; k++)
                    cr_assert_eq(seen[r][c][m][k], 1, "rank %d chunk %d mb %d kind %d", r, c, m, k);
    free(tsv);
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
        struct outset *os = outset_create();
        struct outfile *img = NULL;
        cr_assert_eq(plot_add_output(os, "--plot", bad[i], &img, &err), SIM_EINPUT, "%s", bad[i]);
        outset_destroy(os);
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
    struct outset *os = outset_create();
    struct outfile *img = NULL;
    cr_assert_eq(plot_add_output(os, "--plot", path, &img, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(plot_gantt(img, &f.scn, &f.res, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(outset_commit(os, &err), SIM_OK, "%s", err.msg);
    outset_destroy(os);
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

/* One test of UTF-8 for every writer: valid characters pass whole, every byte that does not
 * begin one becomes U+FFFD, and a cut never splits a character. */
Test(outputs, utf8_invalid_bytes_become_replacement_characters)
{
    cr_assert_eq(utf8_char_len("a"), 1u);
    cr_assert_eq(utf8_char_len("\xc3\xa9"), 2u);         /* é */
    cr_assert_eq(utf8_char_len("\xe2\x82\xac"), 3u);     /* € */
    cr_assert_eq(utf8_char_len("\xf0\x9f\x98\x80"), 4u); /* U+1F600 */
    const char *bad[] = {"\x80", "\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                         "\xf4\x90\x80\x80", "\xe2\x82", "\xc3"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(utf8_char_len(bad[i]), 0u, "case %zu", i);
    char buf[64];
    utf8_clean(buf, sizeof buf, "a\xff" "b\xe2\x82");
    cr_assert_str_eq(buf, "a" UTF8_REPLACEMENT "b" UTF8_REPLACEMENT UTF8_REPLACEMENT);
    utf8_clean(buf, 4, "a\xe2\x82\xac"); /* room for "a" and 2 bytes: the euro does not fit */
    cr_assert_str_eq(buf, "a");
    FILE *fp = tmpfile();
    cr_assert_not_null(fp);
    json_put_string(fp, "q\"\\\n\xc3\xa9\xfe");
    char *js = capture(fp);
    cr_assert_str_eq(js, "\"q\\\"\\\\\\u000a\xc3\xa9" UTF8_REPLACEMENT "\"");
    free(js);
}
