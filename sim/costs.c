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

/* Every stage's F, B and W: the per-layer times times the layers it holds. */
static enum sim_status stage_times(const struct scenario *scn, const struct layout *lay,
                                   struct pipe_setup *setup, struct sim_error *err)
{
    enum sim_status st = SIM_OK;
    simtime_t f = 0, b = 0, w = 0;
    for (int s = 0; s < lay->stages && st == SIM_OK; s++) {
        int n = lay->stage[s].layers;
        if ((st = to_time(scn->forward_s * n, "chunk forward", &f, err)) ||
            (st = to_time(scn->bwd_input_s * n, "chunk backward-input", &b, err)) ||
            (st = to_time(scn->bwd_weight_s * n, "chunk backward-weight", &w, err)))
            break;
        setup->stage_fwd[s] = f;
        setup->stage_bwd[s] = b;
        setup->stage_wgt[s] = w;
    }
    return st;
}

enum sim_status costs_build_setup(const struct scenario *scn, const struct layout *lay,
                                  struct pipe_setup *setup, struct sim_error *err)
{
    struct sched_params sp = scn_sched_params(scn);
    enum sim_status st = pipe_setup_init(setup, lay->type, &sp, err);
    if (st != SIM_OK)
        return st;
    simtime_t opt = 0, lat = 0;
    if ((st = to_time(scn->optimizer_s, "optimizer", &opt, err)) ||
        (st = to_time(scn->link_lat_s, "link latency", &lat, err)) ||
        (st = stage_times(scn, lay, setup, err))) {
        pipe_setup_release(setup);
        return st;
    }
    for (int r = 0; r < scn->pp; r++)
        setup->rank_opt[r] = opt;
    for (int l = 0; l < 2 * scn->pp; l++)
        setup->links[l] = (struct pipe_link){lat, scn->link_bw_Bps};
    setup->act_bytes = scn->activation_B;
    setup->jitter_cv = scn->jitter;
    setup->seed = scn->seed;
    return SIM_OK;
}
