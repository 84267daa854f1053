/* step: the scenario -> report path shared by run and sweep (see step.h). */
#include "step.h"

#include <string.h>

#include "alloc.h"
#include "costs.h"
#include "derive.h"

/* Makespan of the same step with every P2P link free (zero latency, unlimited bandwidth). */
static enum sim_status free_links_makespan(const struct pipe_setup *setup, double *out,
                                           struct sim_error *err)
{
    struct pipe_setup copy = *setup;
    struct pipe_link *links = mem_calloc(2 * (size_t)setup->sp.pp, sizeof *links);
    if (!links)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
    copy.links = links; /* zeroed: free links */
    struct pipe_result res;
    enum sim_status st = pipe_run(&copy, &res, err);
    if (st == SIM_OK) {
        *out = simtime_to_s(res.compute_end - res.first_start);
        pipe_result_release(&res);
    }
    mem_free(links);
    return st;
}

/* An explicit-cost step in which nothing takes time (as scn_defaults has it) has no rate to
 * report: samples/s would divide by a zero step. */
static enum sim_status check_takes_time(const struct scenario *scn, struct sim_error *err)
{
    double xfer = scn->pp < 2 ? 0.0 /* no stage boundary: no transfer */
                  : scn->link_lat_s + (scn->link_bw_Bps > 0 ? scn->activation_B / scn->link_bw_Bps
                                                            : 0.0);
    if (scn->forward_s + scn->bwd_input_s + scn->bwd_weight_s + scn->optimizer_s + xfer > 0)
        return SIM_OK;
    return scn_rule_error_keys(scn, SCN_KEYS(SCN_FORWARD, SCN_BACKWARD_INPUT), err,
                               "every op, transfer and optimizer step takes 0 s: a step of no time "
                               "has no rate to report (give forward a duration)");
}

enum sim_status step_check_explicit(struct scenario *scn, struct sim_error *err)
{
    enum sim_status st = derive_apply(scn, NULL, 0, err);
    if (st == SIM_OK)
        st = scn_check(scn, err);
    return st == SIM_OK ? check_takes_time(scn, err) : st;
}

enum sim_status step_check(struct scenario *scn, struct sim_error *err)
{
    if (!scn_is_modelled(scn))
        return step_check_explicit(scn, err);
    struct costmodel cm;
    struct pipe_setup setup;
    enum sim_status st = cm_build(&cm, scn, &setup, err);
    if (st == SIM_OK) { /* cm_build releases both itself on failure */
        pipe_setup_release(&setup);
        cm_release(&cm);
    }
    return st;
}

static enum sim_status run(struct scenario *scn, const struct model *model,
                           const struct hardware *hw, struct step_output *out,
                           struct sim_error *err)
{
    memset(out, 0, sizeof *out);
    enum sim_status st;
    out->modelled = scn_is_modelled(scn) || (model && hw);
    if (out->modelled && model && hw) {
        st = cm_build_preloaded(&out->cm, scn, model, hw, &out->setup, err);
    } else if (out->modelled) {
        st = cm_build(&out->cm, scn, &out->setup, err);
    } else {
        st = step_check_explicit(scn, err);
        if (st == SIM_OK) /* no model: no MTP modules */
            st = layout_init(&out->layout, scn, 0, err);
        if (st == SIM_OK)
            st = costs_build_setup(scn, &out->layout, &out->setup, err);
    }
    if (st == SIM_OK)
        st = pipe_run(&out->setup, &out->res, err);
    if (st == SIM_OK)
        st = report_compute(scn, step_layout(out), &out->res, &out->rep, err);
    if (st == SIM_OK && out->modelled) {
        double free_makespan = 0;
        st = free_links_makespan(&out->setup, &free_makespan, err);
        if (st == SIM_OK)
            st = report_add_costmodel(&out->rep, scn, &out->res, &out->cm, free_makespan, err);
    }
    if (st != SIM_OK)
        step_release(out);
    return st;
}

enum sim_status step_run(struct scenario *scn, struct step_output *out, struct sim_error *err)
{
    return run(scn, NULL, NULL, out, err);
}

enum sim_status step_run_preloaded(struct scenario *scn, const struct model *model,
                                   const struct hardware *hw, struct step_output *out,
                                   struct sim_error *err)
{
    return run(scn, model, hw, out, err);
}

void step_release(struct step_output *out)
{
    report_release(&out->rep);
    pipe_result_release(&out->res);
    pipe_setup_release(&out->setup);
    if (out->modelled)
        cm_release(&out->cm);
    layout_release(&out->layout);
    out->modelled = 0;
}
