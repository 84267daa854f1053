/* plot: --plot FILE.png|FILE.svg -- a Gantt chart of the step, drawn by gnuplot.
 *
 * C writes the data (the boxes gantt.c chose for the image's size: ops, runs of ops or busy
 * strips, to a temp file); gnuplot draws it with the script plots/gantt.gp, which is compiled into
 * the binary and written to a temp file for gnuplot to run.  gnuplot writes the image to a temp
 * file that is renamed over FILE only on success, so a failed plot never leaves a partial image
 * behind. */
#ifndef STEPSIM_PLOT_H
#define STEPSIM_PLOT_H

#include <stdio.h>

#include "error.h"
#include "gantt.h"
#include "pipeline.h"
#include "scenario.h"

/* Render `res` to `path` (.png or .svg) as a Gantt chart of what `view` asks for (NULL: the
 * whole step at the default size), with each rank's peak memory (bytes; NULL for none) on its
 * row label.  The boxes come from gantt_build (see gantt.h).  SIM_EINPUT for a bad path,
 * extension or view, SIM_EFAIL when gnuplot is missing or fails. */
enum sim_status plot_gantt(const char *path, const struct scenario *scn,
                           const struct pipe_result *res, const double *rank_mem_bytes,
                           const struct gantt_view *view, struct sim_error *err);

/* Helpers shared by the plotting commands (Gantt, sweeps). */
int plot_ends_with(const char *s, const char *suffix);
/* gnuplot string literals are single-quoted: refuse what would need escaping. */
int plot_gnuplot_safe(const char *s);
/* Copy s into buf (truncating), blanking anything that could end a gnuplot string. */
void plot_sanitize(char *buf, size_t len, const char *s);
/* Create "TMPDIR/stepsim-TAG-XXXXXX" (name in buf) for writing; NULL with errno on failure. */
FILE *plot_open_temp(char *buf, size_t len, const char *tmpdir, const char *tag);
/* Run `gnuplot -e VARS SCRIPT` with stdin from /dev/null: its exit status, 127 when gnuplot
 * cannot be started, -1 on a local error. */
int plot_run_gnuplot(const char *vars, const char *script);

/* Append printf-style text (gnuplot variables) to vars at *n: 0, or -1 (and *n < 0 or >= len)
 * once it no longer fits; later calls then do nothing. */
int plot_vars_add(char *vars, size_t len, int *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The error for plot_run_gnuplot's non-zero status rc (errno saved right after the call). */
enum sim_status plot_gnuplot_error(const char *path, int rc, int saved_errno,
                                   struct sim_error *err);
/* Writes a plot's data file; returns the number of rows (0: nothing to draw), -1 on error. */
typedef int (*plot_data_fn)(FILE *out, const void *user);
/* Render `path` (.png/.svg) with gnuplot: the data from write_data and script_text both go to
 * temp files, gnuplot runs with "datafile=...; outfile=...; format=...; EXTRA_VARS" and writes a
 * temp image renamed over `path` only on success. */
enum sim_status plot_render(const char *path, const char *script_text, const char *tag,
                            plot_data_fn write_data, const void *data_user, const char *extra_vars,
                            struct sim_error *err);
/* Memory per GPU of each pipeline rank as stacked bars (plots/memory.gp); `parts` holds, per
 * rank, weights, gradients, optimizer state and peak activations in bytes; a dashed line marks
 * the HBM capacity. */
enum sim_status plot_memory(const char *path, const char *title, const double *parts, int pp,
                            double hbm_bytes, struct sim_error *err);

#endif
