/* memtimeline: memory per GPU over the simulated step, as CSV (--memory-timeline FILE.csv) and
 * as points for other writers (the trace's memory counters).
 *
 * Per pipeline rank the static part (weights, gradients, optimizer state) is constant; the
 * activations of one micro-batch on a chunk are taken when its forward starts and freed when
 * its backward (its weight gradient, when split) ends; an overlapped F&B pair holds one layer
 * more while it runs, a backward what offload-modules reloads, and offload-pp-delta keeps its
 * share of the in-flight micro-batches' offload -- the terms of cm_rank_memory's activations,
 * so that a rank's peak is the report's.  Columns:
 *   rank,time_s,activation_bytes,total_bytes
 * one row per change, rows grouped by rank in time order; the first row of a rank is at 0. */
#ifndef STEPSIM_MEMTIMELINE_H
#define STEPSIM_MEMTIMELINE_H

#include <stdio.h>

#include "costmodel.h"
#include "pipeline.h"
#include "scenario.h"

/* One change of a rank's memory: from `t` (picoseconds after the first op) on it holds
 * `activation_bytes` of activations and `total_bytes` in all. */
struct memtl_point {
    int rank;
    simtime_t t;
    double activation_bytes, total_bytes;
};

/* Called once per change; a nonzero return stops the walk and is returned by memtl_walk. */
typedef int (*memtl_visit_fn)(const struct memtl_point *p, void *user);

/* Every change, rank by rank and in time order within a rank (a rank's first point is at 0,
 * the static part alone).  Several changes may share a time; the last one holds. */
int memtl_walk(const struct scenario *scn, const struct pipe_result *res,
               const struct costmodel *cm, memtl_visit_fn visit, void *user);

int memtl_write_csv(FILE *out, const struct scenario *scn, const struct pipe_result *res,
                    const struct costmodel *cm);

#endif
