/* nccl_model: a collective's time as NCCL's own tuner predicts it (see nccl_model.h). */
#include "nccl_model.h"

#include <math.h>

/* NCCL's tuning constants and refinements, read in src/graph/tuning.cc (github.com/NVIDIA/nccl
 * at 5067397, ncclTunerConstantsDefaults and ncclTopoTuneModel), each protocol's against
 * Simple's, whose latencies the hardware files hold (collective-latency 8.4 us: the base;
 * nvlink-latency 3.4 us: an NVLink step of the ring; the network's 14 us: a network step):
 *   baseLatencies (us)          ring LL 6.6, LL128 14.0, Simple 8.4; tree 6.8, 14.0, 8.4
 *   hwLatencies NVLink (us)     ring 0.6, 1.9, 3.4;  tree 0.6, 1.25, 4.0
 *   hwLatencies NET (us)        ring 2.7, 4.0, 14.0; tree 5.0, 8.5, 14.0
 *   bus bandwidth over Simple's ring LL 0.5, LL128 0.92 (120/128);
 *                               tree LL 1/3.8, LL128 7/9 in one node, 120/128 across nodes.
 * Left out: the per-channel caps (llMaxBws, perChMax*Bws: stepsim does not know the channels),
 * the tree's 0.92 of the ring's bandwidth and its per-size correction factors, the ring's
 * "plateau" (its Simple all-reduce latency x 1.4 across nodes on large buffers), NVLS and
 * CollNet (SHARP), PAT, and the host's network overhead per step. */
struct nccl_proto {
    const char *name;
    double base_ring, base_tree;  /* over Simple's base latency */
    double ring_nvlink, ring_net; /* per-step latency over Simple's ring latency on the level */
    double tree_nvlink, tree_net;
    double ring_bw, tree_bw_one_node, tree_bw_nodes;
};

static const struct nccl_proto protos[NCCL_PROTOS] = {
    [NCCL_LL] = {"LL", 6.6 / 8.4, 6.8 / 8.4, 0.6 / 3.4, 2.7 / 14.0, 0.6 / 3.4, 5.0 / 14.0, 0.5,
                 1.0 / 3.8, 1.0 / 3.8},
    [NCCL_LL128] = {"LL128", 14.0 / 8.4, 14.0 / 8.4, 1.9 / 3.4, 4.0 / 14.0, 1.25 / 3.4, 8.5 / 14.0,
                    0.92, 7.0 / 9.0, 120.0 / 128.0},
    [NCCL_SIMPLE] = {"Simple", 1.0, 1.0, 1.0, 1.0, 4.0 / 3.4, 1.0, 1.0, 1.0, 1.0},
};

const char *nccl_proto_name(enum nccl_proto_id p)
{
    return p >= 0 && p < NCCL_PROTOS ? protos[p].name : "?";
}

static int ring_steps(enum coll_op op, int n)
{
    return op == COLL_ALL_REDUCE ? 2 * (n - 1) : n - 1;
}

/* floor(log2(n)), NCCL's log2i */
static int log2i(int n)
{
    int l = 0;
    while (n >>= 1)
        l++;
    return l;
}

/* The ring: the base, then every step's latency in turn, the steps that cross into the next
 * node at the network's, the rest at NVLink's; the bytes at the protocol's share of the level's
 * bandwidth.  A group of one GPU per node crosses the network at every step, at the tree's
 * network latency (NCCL: "with ppn=1 latencies are fully exposed").  (NCCL also keeps an
 * inter-node ring's NVLink steps at no less than the host's network overhead, 1-3 us:
 * not modelled.) */
static double ring_s(enum nccl_proto_id p, enum coll_op op, double bytes,
                     const struct coll_group *g, const struct nccl_levels *lv, double bw_Bps)
{
    const struct coll_level *intra = &lv->intra, *inter = &lv->inter;
    const struct nccl_proto *pr = &protos[p];
    int nodes = g->per_node >= g->n ? 1 : g->n / g->per_node;
    int steps = ring_steps(op, g->n);
    int inter_steps = nodes == 1 ? 0 : (op == COLL_ALL_REDUCE ? 2 : 1) * (nodes - 1);
    double intra_lat = intra->lat_s * pr->ring_nvlink;
    double inter_lat = inter->lat_s * (g->per_node == 1 ? pr->tree_net : pr->ring_net);
    double share = (double)(g->n - 1) / g->n * (op == COLL_ALL_REDUCE ? 2.0 : 1.0);
    return lv->base_s * pr->base_ring + (steps - inter_steps) * intra_lat +
           inter_steps * inter_lat + share * bytes / (bw_Bps * pr->ring_bw);
}

/* The tree (all-reduce only): up and down a chain inside each node and a binary tree across the
 * nodes; twice the buffer on the wire. */
static double tree_s(enum nccl_proto_id p, double bytes, const struct coll_group *g,
                     const struct nccl_levels *lv, double bw_Bps)
{
    const struct coll_level *intra = &lv->intra, *inter = &lv->inter;
    const struct nccl_proto *pr = &protos[p];
    int nodes = g->per_node >= g->n ? 1 : g->n / g->per_node;
    int ppn = g->per_node >= g->n ? g->n : g->per_node;
    double bw = bw_Bps * (nodes == 1 ? pr->tree_bw_one_node : pr->tree_bw_nodes);
    return lv->base_s * pr->base_tree +
           2.0 * ((ppn - 1) * intra->lat_s * pr->tree_nvlink +
                  log2i(nodes) * inter->lat_s * pr->tree_net) +
           2.0 * bytes / bw;
}

double nccl_time(enum coll_op op, double bytes, const struct coll_group *g,
                 const struct nccl_levels *lv, enum nccl_proto_id *chosen)
{
    if (g->n <= 1 || !(bytes > 0)) {
        if (chosen)
            *chosen = NCCL_SIMPLE;
        return 0.0;
    }
    double bw_Bps = coll_span_level(g, &lv->intra, &lv->inter).bw_Bps;
    double best = INFINITY;
    enum nccl_proto_id which = NCCL_SIMPLE;
    for (int p = 0; p < NCCL_PROTOS; p++) {
        double t = ring_s((enum nccl_proto_id)p, op, bytes, g, lv, bw_Bps);
        if (op == COLL_ALL_REDUCE) {
            double tree = tree_s((enum nccl_proto_id)p, bytes, g, lv, bw_Bps);
            t = tree < t ? tree : t;
        }
        if (t < best) {
            best = t;
            which = (enum nccl_proto_id)p;
        }
    }
    if (chosen)
        *chosen = which;
    return best;
}
