/* trace: the step as a Chrome trace-event JSON file (opens in Perfetto and chrome://tracing).
 *
 * Process 1 "pipeline ranks" has one track (thread, tid = rank) per rank with its F/B/W/OPT
 * slices; process 2 "p2p links" has one track per link direction that carried data, named
 * "link a -> b" (tid = pipe_link_id), with its SEND_F (activation) and SEND_B (gradient)
 * slices.  Sort-index metadata keeps ranks in order and each link's two directions together.
 * Slice names are the op kind (rec_kind_name), so each kind gets one colour; args carry
 * microbatch, chunk and virtual stage; a transfer's carry microbatch, to_chunk and to_stage
 * (the op that receives it), from_rank, to_rank and bytes.  ts and dur are microseconds from
 * the first op, exact to the picosecond.
 * otherData records the config (scenario, schedule, pp, vp, vp_group, microbatches, step_us). */
#ifndef STEPSIM_TRACE_H
#define STEPSIM_TRACE_H

#include <stdio.h>

#include "pipeline.h"
#include "scenario.h"

/* Returns 0, or -1 on a write error or when out of memory (nothing useful is written then). */
int trace_write_json(FILE *out, const struct scenario *scn, const struct pipe_result *res);

#endif
