/* costs: explicit per-layer costs -> per-virtual-stage durations (see costs.h). */
#include "costs.h"

static enum sim_status to_time(double s, const char *what, simtime_t *out, struct sim_error *err)
{
    simtime_t t = simtime_from_s(s);
    if (t < 0)
        return err_set(err, SIM_EINPUT, NULL, 0, "%s of %g s does not fit the simulated clock",
                       what, s);
    *out = t;
    return SIM_OK;
}

enum sim_status costs_build_setup(const struct scenario *scn, struct pipe_setup *setup,
                                  struct sim_error *err)
{
    struct sched_params sp = scn_sched_params(scn);
    enum sim_status st = pipe_setup_init(setup, scn_schedule(scn), &sp, err);
    if (st != SIM_OK)
        return st;
    int stages = scn->pp * scn->vp;
    simtime_t f = 0, b = 0, w = 0, opt = 0, lat = 0;
    if ((st = to_time(scn->optimizer_s, "optimizer", &opt, err)) ||
        (st = to_time(scn->link_lat_s, "link latency", &lat, err)))
        goto fail;
    for (int s = 0; s < stages; s++) {
        int first, n;
        scn_stage_layers(scn, s, &first, &n);
        if ((st = to_time(scn->forward_s * n, "chunk forward", &f, err)) ||
            (st = to_time(scn->bwd_input_s * n, "chunk backward-input", &b, err)) ||
            (st = to_time(scn->bwd_weight_s * n, "chunk backward-weight", &w, err)))
            goto fail;
        setup->stage_fwd[s] = f;
        setup->stage_bwd[s] = b;
        setup->stage_wgt[s] = w;
    }
    for (int r = 0; r < scn->pp; r++)
        setup->rank_opt[r] = opt;
    for (int l = 0; l < 2 * scn->pp; l++)
        setup->links[l] = (struct pipe_link){lat, scn->link_bw_Bps};
    setup->act_bytes = scn->activation_B;
    setup->jitter_cv = scn->jitter;
    setup->seed = scn->seed;
    return SIM_OK;
fail:
    pipe_setup_release(setup);
    return st;
}
