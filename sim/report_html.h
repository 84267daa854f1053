/* report_html: the --report pages -- one self-contained HTML file per command.
 *
 * run: the resolved configuration (the layout fields of the JSON report), the summary (step
 * time, bubble, throughput, MFU, memory, out-of-memory flag), where the time goes (table and
 * bar), the Gantt chart (svg_gantt: zoomable inline SVG) and per pipeline rank busy time and
 * memory (table and bars).  sweep and plan: the command's CSV as a table sorted by a click on
 * a column header.  Every figure is the text and JSON reports' (report.h has the
 * definitions); the pages are built from html.h's pieces and load nothing. */
#ifndef STEPSIM_REPORT_HTML_H
#define STEPSIM_REPORT_HTML_H

#include <stdio.h>

#include "html.h"
#include "pipeline.h"
#include "report.h"
#include "scenario.h"

/* The page of one step.  Returns 0, or -1 on a write error or out of memory. */
int report_html_step(FILE *out, const struct scenario *scn, const struct pipe_result *res,
                     const struct report *rep);

/* The page of a command that writes a CSV (sweep, plan). */
struct report_html_table {
    const char *command;           /* "sweep" or "plan" */
    const char *scenario;          /* the scenario's name */
    const struct html_fact *facts; /* what was asked: axes, budget, counts */
    int nfacts;
    int (*write_csv)(FILE *out, const void *user); /* the command's own CSV writer */
    const void *user;
    const char *sort_key; /* column to sort by first; NULL: the CSV's order */
    int sort_desc;
    const char *about; /* HTML (a literal of the command's, not escaped): what a row is and
                          where the columns are defined */
    long rows_total;   /* the command's rows when write_csv writes only its first ones (the page
                          says how many were left out); 0: write_csv writes them all */
    const struct html_columns *columns; /* the columns shown first and those folded when
                                           constant (plan's: the rank, layout and headline
                                           results first, its ~30 key columns mostly "default"
                                           put the step time 3500 px in); NULL: the CSV's */
    int csv_given; /* the command was given --out (its CSV has every row): the note on rows
                      left out sends the reader there, or else says --out would write them */
};
/* The CSV goes through an unnamed temp file (tmpfile) and comes out as the table, of at most
 * REPORT_HTML_MAX_ROWS rows (about 2 MB): the page says how many rows were left out.  Returns
 * 0, or -1 on a write error or when no temp file can be made. */
#define REPORT_HTML_MAX_ROWS 5000
int report_html_table(FILE *out, const struct report_html_table *page);
/* The same in the shape of an output writer (cli_write_file): `page` is the struct above. */
int report_html_table_fn(FILE *out, const void *page);

#endif
