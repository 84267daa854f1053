/* plot: --plot FILE.png|FILE.svg -- a Gantt chart of the step, drawn by gnuplot.
 *
 * C writes the data (a TSV of compute ops to a temp file); gnuplot draws it with the script
 * plots/gantt.gp, which is compiled into the binary and fed on gnuplot's stdin.  gnuplot writes
 * to a temp file that is renamed over FILE only on success. */
#ifndef STEPSIM_PLOT_H
#define STEPSIM_PLOT_H

#include <stdio.h>

#include "error.h"
#include "pipeline.h"
#include "scenario.h"

/* The TSV the Gantt script reads: rank, start_s, end_s, kind, microbatch, chunk. */
int plot_write_gantt_tsv(FILE *out, const struct pipe_result *res);

/* Render `res` to `path` (.png or .svg).  SIM_EINPUT for a bad path or extension, SIM_EFAIL
 * when gnuplot is missing or fails. */
enum sim_status plot_gantt(const char *path, const struct scenario *scn,
                           const struct pipe_result *res, struct sim_error *err);

#endif
