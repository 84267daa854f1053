/* calibrate: fit the few shared constants of the cost model to measured runs, and measure how
 * well the fit carries over to runs it did not see.
 *
 * The hardware files hold datasheet and microbenchmark physics; a handful of constants that no
 * datasheet gives -- how much of a benchmark's efficiency a full training step keeps, the
 * launch gap between dependent kernels, what overlapped communication still costs -- are the
 * same for every GPU and are set from published runs.  `stepsim calibrate` does that fit in
 * the open: it reads tables of measured runs (TSV with a header naming the columns id, source,
 * scenario, overrides, measured_step_s and, optionally, set and scored), simulates every row
 * with trial values of the named constants, and minimises the mean absolute step-time error
 * with GSL's Nelder-Mead simplex.  With --loso it refits once per source with that source's
 * rows left out and predicts them: the leave-one-source-out error, which is what a user with a
 * run from a source nobody has seen can expect.
 *
 * Every constant applies to every loaded hardware file at once (one value for all GPUs), so a
 * fit can never become a per-row or per-GPU factor. */
#ifndef STEPSIM_CALIBRATE_H
#define STEPSIM_CALIBRATE_H

#include <stdio.h>

/* `stepsim calibrate ...`: returns the exit status (0 ok, 1 failure, 2 bad input). */
int calib_main(int argc, char **argv, FILE *out, FILE *errout);
extern const char calib_usage[]; /* its synopsis, for `stepsim --help` too */

#endif
