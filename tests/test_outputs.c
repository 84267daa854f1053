/* test_outputs: plot_gantt's input checks and its PNG (what the Gantt chart draws:
 * test_gantt.c; the Chrome trace: test_trace.c).  The step is tiny and exact: pp=2, one
 * micro-batch, F = 1 ms, B = 2 ms, links with 1 ms latency, a free optimizer. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cliutil.h"
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
    cr_assert_eq(plot_gantt(img, &f.scn, &f.res, NULL, NULL, &err), SIM_OK, "%s", err.msg);
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
