/* cm_buffers: HBM a rank's communication libraries hold for themselves, outside the step's
 * tensors -- NCCL's buffers per communicator, DeepEP's dispatch / combine buffer, Transformer
 * Engine's userbuffers -- as the resolved layout (struct cm_config) determines them. */
#ifndef STEPSIM_CM_BUFFERS_H
#define STEPSIM_CM_BUFFERS_H

#include "costmodel.h"
#include "model.h"
#include "scenario.h"

/* The NCCL communicators a rank uses: one per parallel group of more than one GPU. */
int cm_communicators(const struct scenario *scn, const struct cm_config *cfg,
                     const struct model *m);

/* Bytes of DeepEP's buffer on each rank (0 without moe-dispatcher=deepep or with ep 1). */
double cm_deepep_buffer_bytes(const struct scenario *scn, const struct model *m,
                              const struct cm_config *cfg);

/* Bytes of Transformer Engine's userbuffers on each rank (0 unless TP communication overlap
 * runs through them). */
double cm_userbuffer_bytes(const struct scenario *scn, const struct model *m,
                           const struct cm_config *cfg);

#endif
