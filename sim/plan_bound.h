/* plan_bound: what the planner knows of a built config before simulating it -- a lower bound
 * on its step time and each rank's peak in-flight activations, both read from the pipeline
 * setup (the op durations and the schedule's order) without running the engine.
 *
 * Invariants: plan_bound_step never exceeds the step pipe_run simulates for the same setup
 * (tests/test_plan_bound.c checks it against simulated steps); plan_bound_peak_inflight equals
 * the simulated peak, which does not depend on timing. */
#ifndef STEPSIM_PLAN_BOUND_H
#define STEPSIM_PLAN_BOUND_H

#include "pipeline.h"
#include "simtime.h"

/* Peak in-flight (micro-batch, chunk) activations of each rank into peak[0, pp), and the
 * overlapped pairs' peaks (pipe_result's pair_peak) into peak[pp, 2 pp).  -1: out of memory. */
int plan_bound_peak_inflight(const struct pipe_setup *setup, int *peak);
/* Rank `rank`'s in-flight count vectors -- one count per chunk, as its order holds them at the
 * end of each run of forwards (the simulator's rule) -- that no other moment exceeds in every
 * chunk: where its byte-weighted peak falls, whatever its chunks weigh.  Owned by the caller:
 * the vectors' number, then the vectors (vp ints each).  NULL: out of memory. */
int *plan_bound_rank_frontier(const struct pipe_setup *setup, int rank);
/* Do all of rank `rank`'s chunks keep the same bytes (stage_act)? */
int plan_bound_chunks_even(const struct pipe_setup *setup, int rank);
/* Rank `rank`'s peak activation bytes -- the simulated pipe_result.peak_act: the most, over
 * its frontier `block`, of each chunk's count times its stage_act; with even chunks (`block`
 * NULL) its peak in-flight `count` times their bytes (its first chunk's). */
double plan_bound_peak_act(const struct pipe_setup *setup, const int *block, int rank, int count);

/* A lower bound on the step time (first compute start -> last optimizer end). */
simtime_t plan_bound_step(const struct pipe_setup *setup);

#endif
