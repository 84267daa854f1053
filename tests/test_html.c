/* test_html: escaping and UTF-8 repair, the page frame, bar charts and CSV tables. */
#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "embedded.h"
#include "html.h"

static char *escaped(const char *s)
{
    FILE *fp = tmpfile();
    cr_assert_not_null(fp);
    html_put_text(fp, s);
    return capture(fp);
}

static void assert_escapes(const char *in, const char *want)
{
    char *got = escaped(in);
    cr_assert_str_eq(got, want, "escaping \"%s\"", in);
    free(got);
}

Test(html, markup_characters_are_escaped)
{
    assert_escapes("<script>alert('x')</script> & \"q\"",
                   "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
    assert_escapes("plain ascii 1-2_3", "plain ascii 1-2_3");
    assert_escapes("", "");
}

Test(html, valid_utf8_passes_and_invalid_bytes_become_U_FFFD)
{
    assert_escapes("Llama \xc3\xa9 \xe2\x87\x84 \xf0\x9f\x9a\x80",
                   "Llama \xc3\xa9 \xe2\x87\x84 \xf0\x9f\x9a\x80");
    const char *fffd = "\xef\xbf\xbd";
    char want[64];
    /* a stray byte, an overlong '/', a surrogate, past U+10FFFF, a cut-short sequence */
    const char *bad[] = {"a\xff"
                         "b",
                         "a\xc0\xaf"
                         "b",
                         "a\xed\xa0\x80"
                         "b",
                         "a\xf4\x90\x80\x80"
                         "b",
                         "a\xe2\x82"
                         "b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *got = escaped(bad[i]);
        cr_assert(strncmp(got, "a", 1) == 0 && strstr(got, fffd) && got[strlen(got) - 1] == 'b',
                  "case %zu: %s", i, got);
        for (const unsigned char *p = (const unsigned char *)got; *p; p++)
            cr_assert(*p < 0x80 || strstr(got, fffd), "raw byte left in case %zu", i);
        free(got);
    }
    /* control characters (but tab and newline) and noncharacters: not allowed in XML */
    snprintf(want, sizeof want, "a%sb\tc\n%s%s", fffd, fffd, fffd);
    assert_escapes("a\x01"
                   "b\tc\n\x7f\xef\xbf\xbe",
                   want);
}

/* The page frame parses as XML (the polyglot promise) and loads nothing. */
Test(html, empty_page_is_well_formed_and_self_contained)
{
    FILE *fp = tmpfile();
    html_page_begin(fp, "t<i>tle & \xff");
    html_facts(fp, "facts", (const struct html_fact[]){{"k<", "v&"}}, 1);
    cr_assert_eq(html_page_end(fp), 0);
    char *page = capture(fp);
    xmlDocPtr doc = xmlReadMemory(page, (int)strlen(page), "page.html", "UTF-8", XML_PARSE_NONET);
    cr_assert_not_null(doc, "the page is not well-formed XML");
    xmlFreeDoc(doc);
    cr_assert_null(strstr(page, "http://"));
    cr_assert_null(strstr(page, "https://"));
    cr_assert_null(strstr(page, "src="), "nothing to load");
    cr_assert(strstr(page, "<title>t&lt;i&gt;tle &amp; \xef\xbf\xbd</title>"), "%s", page);
    cr_assert(strstr(page, "<th>k&lt;</th><td>v&amp;</td>"));
    cr_assert(strstr(page, "data-report"), "the script is inline");
    free(page);
}

Test(html, nice_steps)
{
    cr_assert_float_eq(html_nice_step(66, 10), 10, 1e-12);
    cr_assert_float_eq(html_nice_step(3.9, 10), 0.5, 1e-12);
    cr_assert_float_eq(html_nice_step(7.7, 6), 2, 1e-12);
    cr_assert_float_eq(html_nice_step(0.0003, 10), 5e-5, 1e-18);
    cr_assert_float_eq(html_nice_step(100, 10), 10, 1e-12);
}

static char *table_of(const char *csv_text, const char *sort, long max_rows, long *rows,
                      long *total)
{
    FILE *csv = tmpfile(), *out = tmpfile();
    cr_assert(csv && out);
    fputs(csv_text, csv);
    rewind(csv);
    *rows = html_csv_table(out, csv, NULL, sort, 1, max_rows, total);
    fclose(csv);
    return capture(out);
}

Test(html, csv_quoting_numbers_and_status)
{
    long rows, total;
    char *t = table_of("pp,status,step_s,error\n"
                       "2,ok,7.49851673,\n"
                       "4,error,,\"bad \"\"pp\"\", at <x>\nsecond line\"\n"
                       "8,ok,1072184.2,\n"
                       "16,ok,0.0960000001,\n",
                       "step_s", 0, &rows, &total);
    cr_assert_eq(rows, 4);
    cr_assert_eq(total, 4);
    cr_assert(strstr(t, "data-sort=\"step_s\" data-desc=\"1\""), "%s", t);
    cr_assert(strstr(t, "<th class=\"n\">pp</th><th>status</th><th class=\"n\">step_s</th>"
                        "<th>error</th>"),
              "%s", t);
    cr_assert(strstr(t, "<tr class=\"s-ok\"><td class=\"n\">2</td><td>ok</td>"
                        "<td class=\"n\">7.49852</td><td></td></tr>"),
              "%s", t);
    /* a reason gets its class (one line, cut by report.css) and the whole as its title; the
     * status links to it in the list under the table; an empty one gets neither */
    cr_assert(strstr(t, "<td class=\"why\" title=\"bad &quot;pp&quot;, at &lt;x&gt;\nsecond "
                        "line\">bad &quot;pp&quot;, at &lt;x&gt;\nsecond line</td>"),
              "%s", t);
    cr_assert(strstr(t, "<td><a href=\"#fail-1\" title=\"bad &quot;pp&quot;"), "%s", t);
    cr_assert(strstr(t, "<tr class=\"s-error\">"), "%s", t);
    /* (the hidden zeros line the points up: html, decimal_points_line_up) */
    cr_assert(strstr(t, "<td class=\"n\">1072184<span class=\"pad\">"), "no exponent: %s", t);
    cr_assert(strstr(t, "<td class=\"n\">0.096<span class=\"pad\">"), "no trailing zeros: %s",
              t);
    free(t);
}

Test(html, csv_rows_are_capped)
{
    char csv[4096] = "a,b\n";
    for (int i = 0; i < 100; i++)
        snprintf(csv + strlen(csv), sizeof csv - strlen(csv), "%d,x\n", i);
    long rows, total;
    char *t = table_of(csv, NULL, 10, &rows, &total);
    cr_assert_eq(rows, 10);
    cr_assert_eq(total, 100);
    cr_assert(strstr(t, "<td class=\"n\">9</td>") && !strstr(t, "<td class=\"n\">10</td>"));
    cr_assert_null(strstr(t, "data-sort"));
    free(t);
}

/* A lead column comes first, header and cells alike, the others in the CSV's order (a row
 * shorter than the header too); a lead the CSV lacks leaves the order as it is. */
Test(html, a_lead_column_comes_first)
{
    const char *csv_text = "a,b,listed\n1,x,2\n3,y\n";
    const char *lead[] = {"listed", "nonesuch"};
    const char *want[][2] = {
        {"<th class=\"n\">listed</th><th class=\"n\">a</th><th>b</th>",
         "<tr><td class=\"n\">2</td><td class=\"n\">1</td><td>x</td></tr>\n"
         "<tr><td></td><td class=\"n\">3</td><td>y</td></tr>"},
        {"<th class=\"n\">a</th><th>b</th><th class=\"n\">listed</th>",
         "<tr><td class=\"n\">1</td><td>x</td><td class=\"n\">2</td></tr>"},
    };
    for (int k = 0; k < 2; k++) {
        FILE *csv = tmpfile(), *out = tmpfile();
        cr_assert(csv && out);
        fputs(csv_text, csv);
        rewind(csv);
        const char *const first[] = {lead[k], NULL};
        const struct html_columns cols = {first, NULL, NULL};
        cr_assert_eq(html_csv_table(out, csv, &cols, NULL, 0, 0, NULL), 2);
        fclose(csv);
        char *t = capture(out);
        cr_expect(strstr(t, want[k][0]) && strstr(t, want[k][1]), "lead %s: %s", lead[k], t);
        free(t);
    }
}

/* Columns shown first come in the order given; of the foldable ones, a column with one value
 * in every row written is named with it in a note above the table, not repeated per row
 * (plan's page had ~30 such key columns before its step time); one that varies in a row past
 * max_rows still folds (only the rows shown count), a single row folds nothing. */
Test(html, constant_columns_fold_into_a_note)
{
    const char *const first[] = {"rank", "step", NULL};
    const char *const fold[] = {"tp", "pp", "zero", NULL};
    const char *const nowrap[] = {"layout", NULL};
    const struct html_columns cols = {first, fold, nowrap};
    const char *csv_text = "tp,pp,zero,layout,step,rank\n"
                           "4,2,default,tp4 pp2,1.5,1\n"
                           "4,4,default,tp4 pp4,1.75,2\n"
                           "4,8,default,tp4 pp8,2,\n"
                           "8,8,1,tp8 pp8,3,\n";
    for (int k = 0; k < 2; k++) {
        FILE *csv = tmpfile(), *out = tmpfile();
        cr_assert(csv && out);
        fputs(csv_text, csv);
        rewind(csv);
        long max_rows = k == 0 ? 3 : 1;
        cr_assert_eq(html_csv_table(out, csv, &cols, NULL, 0, max_rows, NULL), max_rows);
        fclose(csv);
        char *t = capture(out);
        if (k == 0) {
            cr_expect(strstr(t, "<p class=\"note folded\">The same in every row, so not a "
                                "column: tp=4, zero=default.</p>\n<div"),
                      "%s", t);
            cr_expect(strstr(t, "<th class=\"n\">rank</th><th class=\"n\">step</th>"
                                "<th class=\"n\">pp</th><th>layout</th></tr>"),
                      "%s", t);
            cr_expect(strstr(t, "<tr><td class=\"n\">1</td><td class=\"n\">1.5<span "
                                "class=\"pad\">0</span></td><td class=\"n\">2</td>"
                                "<td class=\"nw\">tp4 pp2</td></tr>"),
                      "%s", t);
        } else {
            cr_expect(!strstr(t, "folded"), "one row folds nothing: %s", t);
            cr_expect(strstr(t, "<th class=\"n\">rank</th><th class=\"n\">step</th>"
                                "<th class=\"n\">tp</th><th class=\"n\">pp</th><th>zero</th>"
                                "<th>layout</th></tr>"),
                      "%s", t);
        }
        free(t);
    }
}

Test(html, bars_scale_to_the_largest_and_mark_the_limit)
{
    const double v[] = {1, 2, 0, 4};
    const char *labels[] = {"rank 0", "rank <1>"};
    const char *names[] = {"weights", "activations"};
    const char *colours[] = {"#111111", "#222222"};
    struct html_bars b = {2, 2, v, labels, names, colours, "GiB", 5.0, "HBM 5"};
    FILE *fp = tmpfile();
    html_bars(fp, &b);
    char *s = capture(fp);
    cr_assert(strstr(s, "rank &lt;1&gt;"), "bar labels are escaped");
    cr_assert_eq(strstr(s, "fill=\"#222222\"") != NULL, 1);
    /* three non-zero parts, drawn; the zero one is not */
    size_t n = 0;
    for (const char *p = strstr(s, "<rect"); p; p = strstr(p + 1, "<rect"))
        n++;
    cr_assert_eq(n, 3);
    cr_assert(strstr(s, "class=\"limit\""));
    free(s);
}

/* A deep pipeline's memory chart stays about 800 pixels tall: 96 ranks take 7-pixel bars a
 * pixel apart (they had drawn 2,436 pixels), every 2nd labelled (16 pixels apart), and a bar's
 * tooltip names its rank. */
Test(html, many_bars_thin_and_label_every_other)
{
    enum { N = 96 };
    static double v[N];
    static char names_buf[N][16];
    const char *labels[N];
    for (int i = 0; i < N; i++) {
        v[i] = 1 + i;
        snprintf(names_buf[i], sizeof names_buf[i], "rank %d", i);
        labels[i] = names_buf[i];
    }
    const char *names[] = {"activations"};
    const char *colours[] = {"#222222"};
    struct html_bars b = {N, 1, v, labels, names, colours, "GiB", 0, NULL};
    FILE *fp = tmpfile();
    html_bars(fp, &b);
    char *s = capture(fp);
    cr_assert(strstr(s, "<svg class=\"bars-svg\" width=\"860\" height=\"804\""), "%.200s", s);
    cr_assert(strstr(s, "height=\"7\" fill=\"#222222\"><title>rank 1 \xc2\xb7 activations: 2 GiB"));
    const char *label = "<text class=\"bl\"";
    size_t n = 0;
    for (const char *p = strstr(s, label); p; p = strstr(p + 1, label))
        n++;
    cr_assert_eq(n, N / 2);
    cr_assert(strstr(s, ">rank 94</text>"));
    cr_assert_null(strstr(s, ">rank 95</text>"));
    free(s);
}

/* A result table scrolls sideways, so its cells keep to one line -- "global-batch" in the
 * derived column broke at its hyphen and stood every sweep row two lines tall at 800 and
 * 1920 px -- a failed row's reason too, cut with an ellipsis (the whole is listed under the
 * table): wrapped, it had stood each failed row some 9 lines tall. */
Test(html, result_table_cells_keep_to_one_line)
{
    cr_assert(strstr(report_css, "table.sortable td { white-space: nowrap; }"));
    cr_assert(strstr(report_css, "table.sortable td.why { max-width: 32em; overflow: hidden; "
                                 "text-overflow: ellipsis; }"));
    cr_assert_null(strstr(report_css, "td.why { white-space: normal; }"));
}

/* In a column of numbers their points line up, right-aligned: each is followed by hidden zeros
 * (and its point, for a whole number) up to the column's most digits after the point, the
 * rows shown counted alone.  Right-aligned as written, 1069.73 had stood a place left of
 * 1037.4 and 986.404 two places right.  A number with an exponent lines up its mantissa's
 * point, the exponent drawn over hidden places the column keeps for it (one more than its
 * characters): "1e-07" had stood its "07" under the others' digits after the point. */
Test(html, decimal_points_line_up)
{
    long rows, total;
    char *t = table_of("tput,step,n\n"
                       "1069.73,7.5,3\n"
                       "1037.4,1e-07,4\n"
                       "986.404,2,5\n"
                       "1,0.123456789,6\n",
                       NULL, 3, &rows, &total);
    const char *want[] = {
        "<td class=\"n\">1069.73<span class=\"pad\">0</span></td>",
        "<td class=\"n\">1037.4<span class=\"pad\">00</span></td>",
        "<td class=\"n\">986.404</td>",
        "<td class=\"n\">7.5<span class=\"pad\">0000</span></td>", /* 4th row not shown */
        "<td class=\"n\">1<span class=\"e\">e-07</span><span class=\"pad\">.00000</span></td>",
        "<td class=\"n\">2<span class=\"pad\">.00000</span></td>",
        "<td class=\"n\">3</td>",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_expect(strstr(t, want[i]), "no %s in %s", want[i], t);
    free(t);
}

/* A column of numbers has its header right-aligned over them (report.css th.n), a column
 * with any other text left-aligned; empty cells count for neither.  Every header had stood
 * left-aligned, over the left of a column whose numbers stand at its right. */
Test(html, headers_of_number_columns_align_with_their_numbers)
{
    long rows, total;
    char *t = table_of("pp,status,step_s,mixed\n4,ok,1.5,3\n8,ok,,n/a\n", NULL, 0, &rows, &total);
    cr_expect(strstr(t, "<tr><th class=\"n\">pp</th><th>status</th><th class=\"n\">step_s</th>"
                        "<th>mixed</th></tr>"),
              "%s", t);
    cr_expect(strstr(report_css, "table.data th.n, table.sortable th.n { text-align: right; }"));
    free(t);
}
