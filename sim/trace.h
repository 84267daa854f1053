/* trace: the step as a Chrome trace-event JSON file (opens whole in Perfetto and
 * chrome://tracing).
 *
 * Processes and their tracks (one track = one thread id, unique over the file and never 0):
 *  1 "pipeline ranks"  one track per rank, "rank r": its F, B, W and OPT ops, named
 *                      "F mb12 c1" (kind, micro-batch, model chunk; cat = the kind, so a
 *                      viewer that colours by name without digits, or by category, groups
 *                      kinds); args: microbatch, chunk, virtual stage, and
 *                      "overlapped_pair": true on DualPipe's F&B pairs;
 *  2 "p2p links"       one track per link direction that carried data, "link a -> b": each
 *                      transfer's serialisation (bytes / bandwidth) as a complete slice
 *                      "SEND_F mb12 c1" (SEND_B for a gradient; chunk of the receiving op),
 *                      args to_stage and bytes; the link serialises one transfer at a time, so
 *                      these never overlap.  The latency after it, up to the arrival, is an
 *                      async slice "link a -> b in flight" (cat "latency", id = the record's
 *                      index), since it overlaps the next transfer's serialisation;
 *  3 "communication"   per rank, only where something happened: the exposed TP, CP, EP,
 *                      in-op DP (ZeRO gathers and reduce-scatters) and host-offload parts of
 *                      each op ("rank r TP (exposed)", slices "TP F mb12 c1", ...) laid out
 *                      after the op's work inside the op's interval, as the report's
 *                      breakdown attributes them (report_attribute_op; modelled runs); and
 *                      "rank r DP grad sync": the gradient reductions "DP_SYNC c1" and the
 *                      parameter all-gather "PARAM_AG";
 *  4 "memory"          modelled runs: a counter "rank r memory" (bytes per GPU: weights,
 *                      gradients, optimizer state and in-flight activations) at every change
 *                      of the memory timeline (memtimeline.h).
 * Flow arrows (cat "dependency", named "activation" or "gradient") join each F to the F of the
 * next virtual stage and each B to the B of the previous one when they run on different ranks,
 * bound to the middle of both ops.
 *
 * Times are microseconds from the first op, rounded to whole nanoseconds (3 decimals):
 * Perfetto stores integer nanoseconds, so rounding here keeps every slice exactly where the
 * writer put it and every nesting or adjacency of records intact.  A slice shorter than half a
 * nanosecond is left out (it would stack on its neighbour); a transfer without serialisation
 * time shows only in flight.
 * otherData records the config (scenario, scenario_file, schedule, sets: the command line's
 * --set list as the text report's scenario line gives it or null, pp, vp, vp_group,
 * microbatches, step_us, jitter, seed; and for modelled runs model, hardware, gpus, tp, cp, ep,
 * dp, dtype, fp8_recipe (fp8 only), recompute, zero, micro_batch, seq and global_batch).
 * Strings are valid UTF-8 always: invalid bytes in user text (the scenario name, the --set
 * values) become U+FFFD. */
#ifndef STEPSIM_TRACE_H
#define STEPSIM_TRACE_H

#include <stdio.h>

#include "costmodel.h"
#include "pipeline.h"
#include "scenario.h"

/* `setup` is what the step ran with (for link latencies); `cm` the cost model of a modelled
 * run, or NULL (no exposed-communication tracks, no memory counters); `sets` what the command
 * line changed (cli_sets_note's text), or NULL or "" for nothing.  Returns 0, or -1 on a write
 * error or when out of memory (nothing useful is written then). */
int trace_write_json(FILE *out, const struct scenario *scn, const struct pipe_setup *setup,
                     const struct pipe_result *res, const struct costmodel *cm, const char *sets);

#endif
