/* html: the building blocks of stepsim's self-contained HTML pages (--report).
 *
 * A page is HTML5 that is also well-formed XML (every element closed, attributes quoted, the
 * inline stylesheet and script inside CDATA sections), so `xmllint --noout` checks it.  It
 * loads nothing: the stylesheet and script (plots/report.css, plots/report.js, compiled into
 * the binary) are inline and charts are inline SVG, so a page works offline and from a mail
 * attachment.  Invariant: every string that did not come from this program's own literals
 * goes out through html_put_text, which escapes markup and writes valid UTF-8 whatever the
 * bytes were.  Writers return 0, or -1 after a write error (ferror), like the other outputs. */
#ifndef STEPSIM_HTML_H
#define STEPSIM_HTML_H

#include <stdio.h>

/* s as HTML text or attribute value: & < > " ' escaped; bytes that are not valid UTF-8,
 * control characters other than tab and newline, and Unicode noncharacters (none of which
 * XML allows or HTML parses cleanly) become U+FFFD. */
void html_put_text(FILE *out, const char *s);

/* The document head (title escaped, the stylesheet inline) and the opening <body>. */
void html_page_begin(FILE *out, const char *title);
/* The inline script, </body> and </html>; returns -1 if any write of the page failed. */
int html_page_end(FILE *out);

/* A two-column table of named values. */
struct html_fact {
    const char *key;
    const char *value; /* escaped on output */
};
void html_facts(FILE *out, const char *cls, const struct html_fact *facts, int n);

/* A tick step of 1, 2 or 5 times a power of ten giving at most about `ticks` ticks over
 * `span` (> 0). */
double html_nice_step(double span, int ticks);

/* Horizontal stacked bars as inline SVG, with an HTML legend: bar b's part p is
 * values[b * nparts + p] in `unit`s; parts of zero are not drawn. */
struct html_bars {
    int nbars, nparts;
    const double *values;            /* [nbars * nparts] */
    const char *const *bar_labels;   /* [nbars], escaped */
    const char *const *part_names;   /* [nparts] */
    const char *const *part_colours; /* [nparts] "#rrggbb" */
    const char *unit;                /* of the axis: "GiB", "ms" */
    double limit;                    /* a dashed line at this value (HBM); <= 0: none */
    const char *limit_label;         /* beside that line */
};
void html_bars(FILE *out, const struct html_bars *bars);

/* Which columns a table shows first and which it may fold away (html_csv_table). */
struct html_columns {
    const char *const *first; /* NULL-terminated: these columns come first, in this order, the
                                 others after them in the CSV's order; names the CSV lacks are
                                 passed over.  NULL: the CSV's order */
    const char *const *fold;  /* NULL-terminated: of these, a column with the same value in every
                                 row written (two rows or more) is left out of the table and
                                 named with its value in a note above it.  NULL: none */
    const char *const *nowrap; /* NULL-terminated: text cells of these get class "nw" and
                                  do not wrap (plan's layout, "tp4 pp2 ..." read as one).
                                  NULL: none */
};

/* CSV (RFC 4180 quoting, as sweep and plan write it) read from `csv` as a sortable table: the
 * first record is the header; cells that are numbers get class "n" (sorted as numbers,
 * right-aligned) and show integers as written, others to 6 significant digits; a column
 * named "status" also classes its row "s-VALUE", and a non-empty cell of one named "error"
 * gets class "why" (one line, whole on hover) while the row's status links to its entry in a
 * list of the failed rows under the table, by their columns left of status ("pp=3") with the
 * reason.  `cols` (NULL: every column in the CSV's order) orders and folds the columns;
 * folding and the list read the rows twice, so `csv` must then be seekable (a tmpfile; when
 * it is not, nothing is folded or listed).  The script sorts on a header
 * click, first by column `sort_key` (NULL: keep the order) descending when `sort_desc`.  At
 * most `max_rows` rows (<= 0: all) are written, *total (may be NULL) counts them all; fields
 * longer than 4 KiB are cut, columns past 256 dropped.  Returns the rows written, or -1 on a
 * read or write error. */
long html_csv_table(FILE *out, FILE *csv, const struct html_columns *cols, const char *sort_key,
                    int sort_desc, long max_rows, long *total);

#endif
