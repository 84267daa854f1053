/* costs: turn a scenario into the pipeline's durations, transfer sizes and links.
 *
 * Today costs are explicit in the scenario: per-layer forward, backward-input and
 * backward-weight times, scaled by the layers each model chunk holds, one activation size for
 * every P2P transfer, and one latency/bandwidth for every link direction.  The model + hardware
 * cost model plugs in here, filling the same pipe_setup. */
#ifndef STEPSIM_COSTS_H
#define STEPSIM_COSTS_H

#include "error.h"
#include "layout.h"
#include "pipeline.h"
#include "scenario.h"

/* scn must have passed scn_check(); `lay` is its layout (layout_init with no MTP modules: an
 * explicit-cost scenario has no model), which the caller keeps for what reads the step's
 * stages afterwards (the report).  On success setup owns its arrays. */
enum sim_status costs_build_setup(const struct scenario *scn, const struct layout *lay,
                                  struct pipe_setup *setup, struct sim_error *err);

#endif
