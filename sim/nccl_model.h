/* nccl_model: the time of a collective as NCCL's own tuner predicts it, per algorithm (ring;
 * tree for all-reduce) and protocol (LL, LL128, Simple), the cheapest taken as NCCL takes it:
 * latency = the protocol's base + its per-step latencies (NVLink steps and network steps
 * apart), bandwidth = the protocol's share of the group's Simple bandwidth
 * (coll_span_level).  Small messages run LL at a fraction of Simple's latency; large ones
 * Simple.  Constants: NCCL src/graph/tuning.cc (cited in nccl_model.c). */
#ifndef STEPSIM_NCCL_MODEL_H
#define STEPSIM_NCCL_MODEL_H

#include "collective.h"

enum nccl_proto_id { NCCL_LL, NCCL_LL128, NCCL_SIMPLE, NCCL_PROTOS };

/* What the model reads of the machine, each for the Simple protocol (the others' in NCCL's
 * proportions): NVLink's and the network's bandwidth and per-step latency, and the fixed cost
 * of a collective (the hardware file's collective-latency; 0 leaves it out). */
struct nccl_levels {
    struct coll_level intra, inter;
    double base_s;
};

const char *nccl_proto_name(enum nccl_proto_id p);

/* Time of `op` on `bytes` (the full buffer on one GPU) over group g; *chosen (may be NULL)
 * the protocol. */
double nccl_time(enum coll_op op, double bytes, const struct coll_group *g,
                 const struct nccl_levels *lv, enum nccl_proto_id *chosen);

#endif
