/* layout: a scenario's pipeline resolved once into what the cost model reads -- the schedule
 * type, pp and vp, the model parts, and per virtual stage its part, its transformer layers, and
 * whether it holds the embedding, the LM head and the MTP modules.
 *
 * The scenario stays the input (and where errors are blamed); the layout is read-only once
 * made, so the cost model asks it in O(1) rather than the scenario again on every call: with a
 * pipeline-layout string (pplayout.h) each of those calls walked the string.  Invariant: the
 * stages hold the model's layers in order, each part once -- stage[s].first_layer is the sum of
 * the parts' layers before its part -- and DualPipe's stages s and pp + s hold one part
 * (schedule.h, "Routes"): their entries are the same.
 *
 * Not pplayout.c's strings, which are one way a scenario gives the layers: this is the result
 * of every way. */
#ifndef STEPSIM_LAYOUT_H
#define STEPSIM_LAYOUT_H

#include "error.h"
#include "scenario.h"

/* What one virtual stage (a model chunk on a pipeline rank) holds. */
struct layout_stage {
    int part;          /* the model part: the stage, or under DualPipe stage mod pp */
    int first_layer;   /* its first transformer layer */
    int layers;        /* transformer layers; 0 for a stage of the embedding or loss alone */
    int mtp;           /* multi-token-prediction modules run after its layers: the head's */
    int has_embedding; /* part 0 */
    int has_head;      /* the last part: the LM head and the loss */
};

struct layout {
    const struct sched_type *type; /* NULL only before scn_check for an unknown name */
    int pp, vp;
    int stages;                 /* virtual stages: pp * vp */
    int parts;                  /* model parts: stages, or pp under DualPipe (two copies) */
    struct layout_stage *stage; /* [stages], owned */
};

/* Resolve `scn` into *lay: the layers of every part as scn_stage_layers() gives them (one walk
 * of a pipeline-layout string for all the stages), `mtp_modules` MTP modules on the head's
 * part unless the string places them.  Meant for a checked scenario (scn_check); before that
 * (a rule checking the split) a string with fewer stages than pp*vp leaves the rest empty.
 * SIM_OK, or SIM_EFAIL out of memory with *lay empty.  layout_release frees it. */
enum sim_status layout_init(struct layout *lay, const struct scenario *scn, int mtp_modules,
                            struct sim_error *err);
/* Free what layout_init allocated; a zeroed or released layout is left as it is. */
void layout_release(struct layout *lay);

/* What model part p (0 <= p < parts) holds: stage p's entry, as stage p holds part p under
 * every placement (schedule.h, "Routes"). */
static inline const struct layout_stage *layout_part(const struct layout *lay, int p)
{
    return &lay->stage[p];
}

/* Copies of each model part in one pipeline: 1, or 2 under DualPipe. */
static inline int layout_part_copies(const struct layout *lay)
{
    return lay->stages / lay->parts;
}

#endif
