/* timeline: the step's ops as CSV, one row per op and per transfer.
 *
 * Columns: rank,op,microbatch,chunk,stage,start_s,end_s,peer,bytes
 *   op      F, B, W, OPT for compute; SEND_F (activation) / SEND_B (gradient) for transfers
 *   rank    the rank running the op; for a transfer, the sender (peer = the receiver)
 *   start_s, end_s  seconds from the step's first op, printed exactly (12 decimals = 1 ps);
 *           a transfer ends when its data arrives
 * Rows are ordered by start time, ties in the order the simulation started them. */
#ifndef STEPSIM_TIMELINE_H
#define STEPSIM_TIMELINE_H

#include <stdio.h>

#include "pipeline.h"

/* Exact decimal seconds of a picosecond count (no floating-point rounding). */
void timeline_put_seconds(FILE *out, simtime_t t);
int timeline_write_csv(FILE *out, const struct pipe_result *res);

#endif
