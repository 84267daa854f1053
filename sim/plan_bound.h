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

/* Each rank's in-flight count vectors -- one count per chunk, as the schedule's order holds
 * them after each F (the simulator's rule: plan_bound_peak_inflight) -- that no other moment
 * exceeds in every chunk: where the byte-weighted peak falls, whatever the chunks' sizes.
 * Flat: per rank the vectors' number, then the vectors (vp ints each); its length in *len.
 * NULL: out of memory. */
int *plan_bound_frontier(const struct pipe_setup *setup, size_t *len);
/* Rank `rank`'s peak activation bytes: the most, over its frontier vectors, of each chunk's
 * count times its stage's stage_act -- the simulated pipe_result.peak_act. */
double plan_bound_peak_act(const struct pipe_setup *setup, const int *front, int rank);

/* A lower bound on the step time (first compute start -> last optimizer end). */
simtime_t plan_bound_step(const struct pipe_setup *setup);

#endif
