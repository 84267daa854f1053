/* test_outputs: plot_gantt's input checks and its PNG (what the Gantt chart draws:
 * test_gantt.c; the Chrome trace: test_trace.c), and the command-line helpers (cliutil) that
 * name a chart and read a thread count.  The step is tiny and exact: pp=2, one micro-batch,
 * F = 1 ms, B = 2 ms, links with 1 ms latency, a free optimizer. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calibrate.h"
#include "cliutil.h"
#include "config.h"
#include "helpers.h"
#include "outfile.h"
#include "plan.h"
#include "plot.h"
#include "sweep.h"

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

/* The Gantt chart of f's step into dir/NAME (dir: a fresh "/tmp/stepsim-test-XXXXXX"), whose
 * path lands in `path`. */
static void draw_gantt(const struct sim_fixture *f, char *dir, const char *name, char *path,
                       size_t len)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, len, "%s/%s", dir, name);
    struct sim_error err;
    err_clear(&err);
    struct outset *os = outset_create();
    struct outfile *img = NULL;
    cr_assert_eq(plot_add_output(os, "--plot", path, &img, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(plot_gantt(img, &f->scn, &f->layout, &f->res, NULL, NULL, &err), SIM_OK, "%s",
                 err.msg);
    cr_assert_eq(outset_commit(os, &err), SIM_OK, "%s", err.msg);
    outset_destroy(os);
}

/* The text of f's Gantt chart as an SVG, drawn into a fresh directory removed after. */
static char *gantt_svg(const struct sim_fixture *f)
{
    char dir[] = "/tmp/stepsim-test-XXXXXX", path[64];
    draw_gantt(f, dir, "g.svg", path, sizeof path);
    FILE *fp = fopen(path, "r");
    cr_assert_not_null(fp);
    cr_assert_eq(fseek(fp, 0, SEEK_END), 0);
    char *svg = capture(fp);
    cr_assert_eq(unlink(path), 0);
    cr_assert_eq(rmdir(dir), 0);
    return svg;
}

Test(outputs, plot_renders_a_png_when_gnuplot_is_there)
{
    if (access(GNUPLOT_PATH, X_OK) != 0)
        cr_skip_test("gnuplot (%s) is not installed", GNUPLOT_PATH);
    struct sim_fixture f;
    run_tiny(&f);
    char dir[] = "/tmp/stepsim-test-XXXXXX", path[64];
    draw_gantt(&f, dir, "g.png", path, sizeof path);
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

/* Words wrapped for a --help table: a word that would pass the width starts the next line under
 * the indent, the first word of a line takes no space before it, runs of blanks read as one. */
Test(outputs, wrapped_text_breaks_before_a_word_past_the_width)
{
    FILE *fp = tmpfile();
    cr_assert_not_null(fp);
    fputs("ab  ", fp);
    out_put_wrapped(fp, " one two  three four", 4, 4, 14);
    char *got = capture(fp);
    cr_assert_str_eq(got, "ab  one two\n    three four\n");
    free(got);
}

/* Text for a gnuplot string: an apostrophe is drawn as the typographic one (it reads the same
 * and cannot end the string), backslashes, double quotes and control characters are blanked,
 * anything else kept as typed (the scripts draw without gnuplot's enhanced-text markup, so
 * `_`, `^`, `{}`, `@` and `&` stay themselves); truncation keeps whole characters, and
 * sanitizing twice changes nothing. */
Test(outputs, plot_text_keeps_what_was_typed)
{
    char buf[64], again[64];
    plot_sanitize(buf, sizeof buf, "Bob's llama3_70b {a} ^b @c &d \"q\" \\ \t");
    cr_assert_str_eq(buf, "Bob\xe2\x80\x99s llama3_70b {a} ^b @c &d  q     ");
    plot_sanitize(again, sizeof again, buf);
    cr_assert_str_eq(again, buf);
    plot_sanitize(buf, 5, "ab'c"); /* "ab" and the 3-byte apostrophe do not fit in 4 */
    cr_assert_str_eq(buf, "ab");
    plot_sanitize(buf, 4, "a\xc3\xa9\xc3\xa9"); /* room for "a" and one é */
    cr_assert_str_eq(buf, "a\xc3\xa9");
}

/* A title is drawn as typed: plot_clean keeps double quotes, backslashes and apostrophes (it
 * blanks control characters and cuts at a character's start), and plot_vars_add_text hands
 * them to gnuplot in a single-quoted string, where only the apostrophe is written twice.  They
 * had been blanked, so `"q"` was drawn as ` q `. */
Test(outputs, titles_keep_quotes_and_backslashes)
{
    char buf[64], vars[128];
    plot_clean(buf, sizeof buf, "my_run^2 {t} & <b> \"q\" \\ Bob's\n\t");
    cr_assert_str_eq(buf, "my_run^2 {t} & <b> \"q\" \\ Bob's  ");
    plot_clean(buf, 4, "a\xc3\xa9\xc3\xa9"); /* room for "a" and one é */
    cr_assert_str_eq(buf, "a\xc3\xa9");
    int n = 0;
    cr_assert_eq(plot_vars_add_text(vars, sizeof vars, &n, "plottitle", "\"q\" \\ it's"), 0);
    cr_assert_eq(plot_vars_add_text(vars, sizeof vars, &n, "note", "''"), 0);
    cr_assert_str_eq(vars, "plottitle='\"q\" \\ it''s'; note=''''''");
    n = 0;
    cr_assert_eq(plot_vars_add_text(vars, 12, &n, "plottitle", "x"), -1, "too long: -1");
}

/* ... and so gnuplot draws it, in the title of the SVG. */
Test(outputs, svg_title_shows_the_name_as_typed)
{
    if (access(GNUPLOT_PATH, X_OK) != 0)
        cr_skip_test("gnuplot (%s) is not installed", GNUPLOT_PATH);
    const char *sets[16];
    size_t k = 0;
    for (; tiny[k]; k++)
        sets[k] = tiny[k];
    sets[k++] = "name=my_run^2 {t} & <b> \"q\" \\ Bob's";
    sets[k] = NULL;
    struct sim_fixture f;
    cr_assert_eq(fixture_run(&f, sets), SIM_OK, "%s", f.err.msg);
    char *svg = gantt_svg(&f);
    cr_assert(strstr(svg, ">my_run^2 {t} &amp; &lt;b> \"q\" \\ Bob's · 1f1b · pp=2 · "),
              "the title is not the name as typed");
    free(svg);
    fixture_release(&f);
}

/* The V placements' chunks carry their direction in the legend: chunk 0 runs down the ranks,
 * chunk 1 back up, under dualpipe, dualpipe-v and zb-v alike (dualpipe-v's and zb-v's said
 * "chunk 0" and "chunk 1" where dualpipe's said "down" and "up" for the same placement). */
Test(outputs, the_v_placements_name_their_chunks_by_direction)
{
    if (access(GNUPLOT_PATH, X_OK) != 0)
        cr_skip_test("gnuplot (%s) is not installed", GNUPLOT_PATH);
    const char *const schedules[] = {"schedule=dualpipe", "schedule=dualpipe-v", "schedule=zb-v"};
    for (size_t i = 0; i < sizeof schedules / sizeof *schedules; i++) {
        const char *const more[] = {"optimizer=0s", schedules[i], NULL};
        struct sim_fixture f;
        cr_assert_eq(fixture_run_with(&f, v_step, more), SIM_OK, "%s: %s", schedules[i], f.err.msg);
        char *svg = gantt_svg(&f);
        cr_expect(strstr(svg, ">F  down<") && strstr(svg, ">B  up<"), "%s: no down/up",
                  schedules[i]);
        cr_expect(!strstr(svg, "chunk 0") && !strstr(svg, "chunk 1"), "%s: chunk 0/1",
                  schedules[i]);
        free(svg);
        fixture_release(&f);
    }
}

/* The command line's values for a chart title: "--set" and each KEY=VALUE in order; cut to fit
 * at a character's start, ending on "..." (never half an é). */
Test(outputs, command_line_values_for_a_title)
{
    const char *sets[] = {"pp=8", "gpus=768", "name=\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"};
    char buf[64];
    cli_sets_note(sets, 2, buf, sizeof buf);
    cr_assert_str_eq(buf, "--set pp=8 gpus=768");
    cli_sets_note(sets, 0, buf, sizeof buf);
    cr_assert_str_eq(buf, "");
    char small[30]; /* "--set pp=8 gpus=768 name=" is 25 bytes, an é 2: the cut is at 26 */
    cli_sets_note(sets, 3, small, sizeof small);
    cr_assert_str_eq(small, "--set pp=8 gpus=768 name=...");
    char odd[31];
    cli_sets_note(sets, 3, odd, sizeof odd);
    cr_assert_str_eq(odd, "--set pp=8 gpus=768 name=\xc3\xa9...");
}

/* A bad thread count's message names the option as it was typed (cli_jobs_value): --jobs
 * written as --jobs (it had been named -j whatever the spelling), -j as -j; in every command
 * that takes it.  Each message is exit 2 and one line. */
Test(outputs, a_bad_thread_count_names_the_option_as_typed)
{
    const char *scn = TOP_SRCDIR "/scenarios/llama3.1-70b-h100.xml";
    const char *table = TOP_SRCDIR "/scenarios/validation/dev.tsv";
    const struct {
        command_fn fn;
        const char *cmd, *args[6], *want;
    } cases[] = {
        {plan_main, "plan", {scn, "--gpus", "64", "--jobs=x"}, "stepsim: plan: --jobs: "},
        {plan_main, "plan", {scn, "--gpus", "64", "--jobs", "x"}, "stepsim: plan: --jobs: "},
        {plan_main, "plan", {scn, "--gpus", "64", "-jx"}, "stepsim: plan: -j: "},
        {plan_main, "plan", {scn, "--gpus", "64", "-j", "x"}, "stepsim: plan: -j: "},
        {sweep_main, "sweep", {scn, "--vary", "pp=1", "--jobs=x"}, "stepsim: --jobs 'x': "},
        {sweep_main, "sweep", {scn, "--vary", "pp=1", "-j=x"}, "stepsim: -j 'x': "},
        {calib_main, "calibrate", {table, "--jobs", "x"}, "stepsim: --jobs 'x': "},
        {calib_main, "calibrate", {table, "-jx"}, "stepsim: -j 'x': "},
        /* one range in every command: 0 (the CPUs) to 1024 */
        {sweep_main, "sweep", {scn, "--vary", "pp=1", "-j1025"},
         "stepsim: -j '1025': expected a thread count from 0 (the CPUs) to 1024"},
        {plan_main, "plan", {scn, "--gpus", "64", "-j1025"},
         "stepsim: plan: -j: expected a thread count from 0 (the CPUs) to 1024"},
        {calib_main, "calibrate", {table, "-j1025"},
         "stepsim: -j '1025': expected a thread count from 0 (the CPUs) to 1024"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out, *err;
        int rc = run_command(cases[i].fn, cases[i].cmd, cases[i].args, &out, &err);
        cr_expect_eq(rc, 2, "case %zu: exit %d: %s", i, rc, err);
        cr_expect(strncmp(err, cases[i].want, strlen(cases[i].want)) == 0, "case %zu: %s", i, err);
        cr_expect_eq(count_of(err, "\n"), 1, "case %zu: %s", i, err);
        free(out);
        free(err);
    }
}
