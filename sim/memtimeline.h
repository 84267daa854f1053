/* memtimeline: memory per GPU over the simulated step, as CSV (--memory-timeline FILE.csv).
 *
 * Per pipeline rank the static part (weights, gradients, optimizer state) is constant; the
 * activations of one micro-batch on a chunk are taken when its forward starts and freed when
 * its backward (its weight gradient, when split) ends.  Columns:
 *   rank,time_s,activation_bytes,total_bytes
 * one row per change, rows grouped by rank in time order; the first row of a rank is at 0. */
#ifndef STEPSIM_MEMTIMELINE_H
#define STEPSIM_MEMTIMELINE_H

#include <stdio.h>

#include "costmodel.h"
#include "pipeline.h"
#include "scenario.h"

int memtl_write_csv(FILE *out, const struct scenario *scn, const struct pipe_result *res,
                    const struct costmodel *cm);

#endif
