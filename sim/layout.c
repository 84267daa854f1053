/* layout: a scenario's pipeline resolved once (see layout.h). */
#include "layout.h"

#include <assert.h>

#include "alloc.h"
#include "pplayout.h"

/* Each part's layers and MTP modules from the pipeline-layout string, in one walk: parts in
 * order (the string numbers Megatron-Core's stages, which are the parts: scn_check allows it
 * only for 1f1b and interleaved, one copy of each). */
static void parts_of_string(struct layout *lay, const char *at)
{
    for (int p = 0, first = 0; p < lay->parts; p++) {
        struct layout_stage *st = &lay->stage[p];
        at = pplayout_next_stage(at, &st->layers, &st->mtp);
        st->first_layer = first;
        first += st->layers;
    }
}

/* Each part's layers split evenly or with the ends set apart (scn_stage_layers: stage p < parts
 * holds part p under every placement), the MTP modules beside the head. */
static void parts_of_split(struct layout *lay, const struct scenario *scn, int mtp_modules)
{
    for (int p = 0; p < lay->parts; p++)
        scn_stage_layers(scn, p, &lay->stage[p].first_layer, &lay->stage[p].layers);
    lay->stage[lay->parts - 1].mtp = mtp_modules;
}

enum sim_status layout_init(struct layout *lay, const struct scenario *scn, int mtp_modules,
                            struct sim_error *err)
{
    *lay = (struct layout){.type = scn_schedule(scn), .pp = scn->pp, .vp = scn->vp};
    lay->stages = scn->pp * scn->vp;
    lay->parts = lay->type ? sched_model_parts(lay->type, lay->pp, lay->vp) : lay->stages;
    assert(lay->parts >= 1 && lay->parts <= lay->stages); /* pp, vp >= 1 (the key table) */
    if (!(lay->stage = mem_calloc((size_t)lay->stages, sizeof *lay->stage)))
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory for %d stages' layout", lay->stages);
    if (scn->pipeline_layout[0])
        parts_of_string(lay, scn->pipeline_layout);
    else
        parts_of_split(lay, scn, mtp_modules);
    /* from the last stage down: a second copy's part (DualPipe's s - pp) is below it, and
     * filled before it is overwritten */
    for (int s = lay->stages - 1; s >= 0; s--) {
        int part = lay->type ? sched_model_part(lay->type, lay->pp, s) : s;
        struct layout_stage *st = &lay->stage[s];
        *st = lay->stage[part];
        st->part = part;
        st->has_embedding = part == 0;
        st->has_head = part == lay->parts - 1;
    }
    return SIM_OK;
}

void layout_release(struct layout *lay)
{
    mem_free(lay->stage);
    lay->stage = NULL;
}
