/* costs: turn a scenario into the pipeline's durations, transfer sizes and links.
 *
 * Today costs are explicit in the scenario: per-layer forward, backward-input and
 * backward-weight times, scaled by the layers each model chunk holds, one activation size for
 * every P2P transfer, and one latency/bandwidth for every link direction.  The model + hardware
 * cost model plugs in here, filling the same pipe_setup. */
#ifndef STEPSIM_COSTS_H
#define STEPSIM_COSTS_H

#include "error.h"
#include "pipeline.h"
#include "scenario.h"

/* scn must have passed scn_check().  On success setup owns its arrays. */
enum sim_status costs_build_setup(const struct scenario *scn, struct pipe_setup *setup,
                                  struct sim_error *err);

#endif
