/* cm_muon: the Muon optimizer's Newton-Schulz orthogonalization time (cm_muon.c). */
#ifndef STEPSIM_CM_MUON_H
#define STEPSIM_CM_MUON_H

#include "cm_internal.h"

/* Seconds of Newton-Schulz work for transformer layer `layer`'s weight matrices as one GPU
 * holds them (after TP and EP sharding), before the data-parallel ranks share it: the
 * matrices replicated over data parallelism (dense_s) and the routed experts' (expert_s). */
void cm_muon_layer_s(const struct cm_ctx *c, int layer, double *dense_s, double *expert_s);

#endif
