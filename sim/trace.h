/* trace: the step as a Chrome trace-event JSON file (opens in Perfetto and chrome://tracing).
 *
 * Process 1 "pipeline ranks" has one track (thread) per rank with its F/B/W/OPT slices;
 * process 2 "p2p links" has one track per link direction "rank a -> rank b" with its transfers.
 * Slice names are the op kind (so each kind gets one colour); args carry micro-batch, chunk,
 * virtual stage and, for transfers, bytes.  Times are microseconds from the first op. */
#ifndef STEPSIM_TRACE_H
#define STEPSIM_TRACE_H

#include <stdio.h>

#include "pipeline.h"
#include "scenario.h"

int trace_write_json(FILE *out, const struct scenario *scn, const struct pipe_result *res);

#endif
