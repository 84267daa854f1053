/* plot: --plot FILE.png|FILE.svg -- a Gantt chart of the step, drawn by gnuplot.
 *
 * C writes the data (the boxes gantt.c chose for the image's size: ops, runs of ops or busy
 * strips, to a temp file); gnuplot draws it with the script plots/gantt.gp, which is compiled into
 * the binary and written to a temp file for gnuplot to run.  gnuplot writes the image into the
 * output's temp file (outfile.h), which the command's commit puts in place only when everything
 * succeeded, so a failed plot never leaves a partial image behind. */
#ifndef STEPSIM_PLOT_H
#define STEPSIM_PLOT_H

#include <stdio.h>

#include "error.h"
#include "gantt.h"
#include "layout.h"
#include "pipeline.h"
#include "scenario.h"

struct outfile;
struct outset;

/* Check a plot path (`option` names it in messages: .png or .svg, no quote, backslash or
 * newline -- the path and the file a symlink there names go into gnuplot's single-quoted
 * strings) and add it to the command's outputs; *img is its record, drawn by the functions
 * below and put in place by the outset's commit.  SIM_EINPUT for a bad path. */
enum sim_status plot_add_output(struct outset *os, const char *option, const char *path,
                                struct outfile **img, struct sim_error *err);
/* The same for the companion image FILE-SUFFIX.png of --plot FILE.png. */
enum sim_status plot_add_companion(struct outset *os, const char *path, const char *suffix,
                                   struct outfile **img, struct sim_error *err);

/* What a Gantt chart says beside the boxes, for modelled scenarios (NULL fields: nothing). */
struct plot_labels {
    const double *rank_mem_bytes; /* each rank's peak memory (bytes), on its row label */
    const char *layout;           /* the report's layout line (report_layout_line), the title */
    const char *warning;          /* NULL, or what the title must say first of all (out of
                                     memory) */
    const char *given;            /* NULL, or what the command line changed ("--set pp=8"):
                                     after the name, which it may contradict */
};

/* Draw into img the Gantt chart of what `view` asks for (NULL: the whole step at the default
 * size), labelled with `labels` (NULL: the scenario's name and schedule only); `stages` is the
 * step's layout (step_layout: its schedule, pp and vp for the title and legend).  The boxes
 * come from gantt_build (see gantt.h).  SIM_EINPUT for a bad view, SIM_EFAIL when gnuplot is
 * missing or fails. */
enum sim_status plot_gantt(struct outfile *img, const struct scenario *scn,
                           const struct layout *stages, const struct pipe_result *res,
                           const struct plot_labels *labels, const struct gantt_view *view,
                           struct sim_error *err);

/* Helpers shared by the plotting commands (Gantt, sweeps). */
int plot_ends_with(const char *s, const char *suffix);
/* gnuplot string literals are single-quoted: refuse what would need escaping. */
int plot_gnuplot_safe(const char *s);
/* Copy s into buf (truncating at a character boundary, invalid UTF-8 replaced, at most 1023
 * bytes), blanking anything that could end a gnuplot string; an apostrophe becomes U+2019.  For
 * text gnuplot reads from a data file, splits into words or evals (legends, tic labels). */
void plot_sanitize(char *buf, size_t len, const char *s);
/* Copy s into buf as a title draws it, as typed: truncated at a character boundary, invalid
 * UTF-8 replaced, control characters blanked; quotes and backslashes kept (for
 * plot_vars_add_text). */
void plot_clean(char *buf, size_t len, const char *s);
/* Run `gnuplot -e VARS SCRIPT` with stdin from /dev/null, registered with cleanup (an
 * interrupted stepsim kills it), its messages (stderr) into msg (the first len - 1 bytes,
 * NUL-terminated): its exit status, 127 when gnuplot cannot be started, -1 on a local error. */
int plot_run_gnuplot(const char *vars, const char *script, char *msg, size_t len);

/* Append printf-style text (gnuplot variables) to vars at *n: 0, or -1 (and *n < 0 or >= len)
 * once it no longer fits; later calls then do nothing. */
int plot_vars_add(char *vars, size_t len, int *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Append NAME='TEXT' (after "; " unless vars is empty) as a gnuplot string that holds TEXT as
 * it is: its apostrophes doubled, nothing else escaped.  0, or -1 as plot_vars_add. */
int plot_vars_add_text(char *vars, size_t len, int *n, const char *name, const char *text);
/* Writes a plot's data file; returns the number of rows (0: nothing to draw), -1 on error. */
typedef int (*plot_data_fn)(FILE *out, const void *user);
/* The temp files of one gnuplot run (data files, the script) in TMPDIR, registered with
 * cleanup. */
#define PLOT_MAX_TEMPS 4
struct plot_temps {
    int n;
    char path[PLOT_MAX_TEMPS][1100];
    int slot[PLOT_MAX_TEMPS];
};
/* Write a new temp file with fn(out, user); its row count in *rows (may be NULL), its name
 * in *name. */
enum sim_status plot_temp_write(struct plot_temps *t, const char *tag, plot_data_fn fn,
                                const void *user, int *rows, const char **name,
                                struct sim_error *err);
void plot_temps_remove(struct plot_temps *t);
/* A text (a script) as a plot_data_fn: one "row". */
int plot_put_text(FILE *out, const void *text);
/* Run gnuplot with `vars` on `script`: errors name `path` (the plot asked for). */
enum sim_status plot_gnuplot(const char *path, const char *vars, const char *script,
                             struct sim_error *err);
/* Draw into img with gnuplot: the data from write_data and script_text both go to temp files,
 * gnuplot runs with "datafile=...; outfile=...; format=...; EXTRA_VARS" and writes img's temp
 * file (the format follows img's own name). */
enum sim_status plot_render(struct outfile *img, const char *script_text, const char *tag,
                            plot_data_fn write_data, const void *data_user, const char *extra_vars,
                            struct sim_error *err);
/* Memory per GPU of each pipeline rank as stacked bars (plots/memory.gp) under `title` and the
 * `layout` line (may be NULL); `parts` holds, per rank, weights, gradients, optimizer state and
 * peak activations in bytes; a dashed line marks the HBM capacity.  `size` (may be NULL) is the
 * run's --plot-size; its window is ignored. */
enum sim_status plot_memory(struct outfile *img, const char *title, const char *layout,
                            const double *parts, int pp, double hbm_bytes,
                            const struct gantt_view *size, struct sim_error *err);

#endif
