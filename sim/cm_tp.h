/* cm_tp: tensor parallelism's collectives -- a layer's gathers and reductions and what hides
 * them (Megatron-Core's and Transformer Engine's overlaps, torch's async TP), and those at the
 * model's ends (the token lookup, the output layer, the MTP modules' projections).  Internal
 * to the cost model. */
#ifndef STEPSIM_CM_TP_H
#define STEPSIM_CM_TP_H

#include "cm_layer.h"

/* One layer's TP collectives per pass before overlap (lc->tp_fwd, tp_bwd and the parts of
 * them struct layer_cost names), T tokens on this GPU; reads the layer's GEMM times. */
void cm_layer_tp_comm(const struct cm_ctx *c, const struct layer_parts *lp, double T,
                      struct layer_cost *lc);

/* The output layer's own collectives into the stage, beside its GEMM of `gemm` seconds. */
void cm_head_tp_comm(const struct cm_ctx *c, struct coll_group g, double T, double gemm,
                     struct cm_stage *st);

/* A token lookup's collective into the stage (embedding, MTP), in line. */
void cm_lookup_tp_comm(const struct cm_ctx *c, double T, struct cm_stage *st);

/* One MTP module's projection's collectives, forward and backward, in line. */
void cm_mtp_tp_comm(const struct cm_ctx *c, double T, double *fwd, double *bwd);

#endif
