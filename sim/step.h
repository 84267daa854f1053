/* step: one scenario through the whole path -- costs, simulation, report.
 *
 * Explicit-cost scenarios go scn_check -> costs_build_setup -> pipe_run; modelled ones go
 * cm_build (which loads the model and hardware and checks the configuration rules) ->
 * pipe_run, plus a second run with free P2P links to measure how much the links add.  The CLI
 * and sweeps both use this, so a scenario means the same thing everywhere.  Everything is
 * owned by the step_output; no global state, so steps run in parallel threads safely. */
#ifndef STEPSIM_STEP_H
#define STEPSIM_STEP_H

#include "costmodel.h"
#include "layout.h"
#include "pipeline.h"
#include "report.h"
#include "scenario.h"

struct step_output {
    struct pipe_setup setup;
    struct pipe_result res;
    struct report rep;
    struct costmodel cm; /* valid when rep.modelled */
    struct layout layout; /* the stages of explicit costs (modelled: cm.layout); step_layout */
    int modelled;
};

/* The step's stages, resolved once: the cost model's layout, or the explicit costs' own.  What
 * reads the step after the run (report, plot, page) reads them here, not the scenario. */
static inline const struct layout *step_layout(const struct step_output *out)
{
    return out->modelled ? &out->cm.layout : &out->layout;
}

/* `scn` is completed in place (derived layers, micro-batch counts, global batch). */
enum sim_status step_run(struct scenario *scn, struct step_output *out, struct sim_error *err);
/* An explicit-cost scenario checked as step_run checks it before simulating (validate's check):
 * derived values completed, its rules, and some op, transfer or optimizer step taking time. */
enum sim_status step_check_explicit(struct scenario *scn, struct sim_error *err);
/* A scenario checked as step_run checks it before simulating, explicit (step_check_explicit)
 * or modelled (the whole cost-model build: model and hardware loaded, the parallel layout's
 * rules): what validate runs, and import on what it is about to write. */
enum sim_status step_check(struct scenario *scn, struct sim_error *err);
/* The same with the model and hardware already loaded (for a modelled scenario; both are only
 * read and must outlive `out`). */
enum sim_status step_run_preloaded(struct scenario *scn, const struct model *model,
                                   const struct hardware *hw, struct step_output *out,
                                   struct sim_error *err);
void step_release(struct step_output *out);

#endif
