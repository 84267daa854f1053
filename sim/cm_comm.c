/* cm_comm: where groups of GPUs sit and what their collectives cost (see cm_internal.h). */
#include <math.h>

#include "cm_internal.h"

/* Consecutive members `stride` ranks apart fill a node of per_node_gpus with per_node_gpus /
 * stride of them (when that divides n; else the largest divisor below). */
struct coll_group cm_group_of(int n, int stride, int per_node_gpus)
{
    struct coll_group g = {n, 1};
    if (stride < per_node_gpus) {
        int fit = per_node_gpus / stride;
        g.per_node = fit < n ? fit : n;
        while (g.per_node > 1 && n % g.per_node != 0) /* keep the two-level split exact */
            g.per_node--;
    }
    return g;
}

/* NCCL's choice between its ring and tree algorithms (the cheaper closed form).  The two-level
 * hierarchical algorithm of collective.c is not a candidate: NCCL has no hierarchical
 * reduce-scatter / all-gather, its rings cross node boundaries at the network's per-GPU rate. */
double cm_coll_time(const struct cm_ctx *c, enum coll_op op, double bytes, struct coll_group g)
{
    double ring = coll_ring.time(op, bytes, &g, &c->nvlink, &c->net);
    double tree = coll_tree.time(op, bytes, &g, &c->nvlink, &c->net);
    return ring < tree ? ring : tree;
}

/* Exposed time of a communication that may overlap `hide` seconds of compute: overlapped, the
 * pair takes max + interference x min (hardware.h), of which `hide` is already counted. */
double cm_exposed(const struct cm_ctx *c, double comm, double hide, int overlap)
{
    if (!overlap || comm <= 0)
        return comm;
    double hi = comm > hide ? comm : hide, lo = comm > hide ? hide : comm;
    return hi + c->hw->gpu.overlap_interference * lo - hide;
}

/* One expert-parallel exchange (the dispatch, or the combine) of the routed tokens' hidden
 * states for the `tokens` this GPU holds, under the scenario's dispatcher.  The expert group
 * has n GPUs, k in each node (Megatron's rank order packs it into as few nodes as it can);
 * uniform routing sends a routed copy to each GPU alike.
 *  - alltoall: every (token, expert) copy is sent; (k-1)/n of them over NVLink and (n-k)/n
 *    over the network, concurrently on the two links (NCCL all-to-all = grouped send/recv).
 *  - allgather: every GPU gathers all the group's tokens and reduce-scatters the results back
 *    (Megatron's allgather dispatcher), the cost of an all-gather of n x tokens.
 *  - deepep: a token crosses the network once per remote node holding one of its experts and
 *    fans out over NVLink there (DeepEP; DeepSeek-V3 report sec. 3.2.2) -- with node-limited
 *    routing (the model's group-top-k) at most that many nodes, else the expected number of
 *    distinct nodes among top_k uniform picks.
 * The busiest GPU receives moe-imbalance times the mean. */
double cm_ep_dispatch_s(const struct cm_ctx *c, double tokens)
{
    const struct model *m = c->m;
    const struct cm_config *cfg = c->cfg;
    struct coll_group g = cm_group_of(cfg->ep, cfg->etp, cfg->gpus_per_node);
    double n = g.n, k = g.per_node, nodes = n / k;
    double token_bytes = ACT_BYTES * m->hidden, copies = tokens * m->top_k;
    double imb = c->scn->moe_imbalance;
    if (c->scn->moe_dispatcher == DISPATCH_ALLGATHER)
        return cm_coll_time(c, COLL_ALL_GATHER, n * tokens * token_bytes, g);
    double intra, inter;
    if (c->scn->moe_dispatcher == DISPATCH_DEEPEP && nodes > 1) {
        double visited = nodes * (1.0 - pow(1.0 - 1.0 / nodes, m->top_k));
        if (m->route_nodes > 0 && m->route_nodes < visited)
            visited = m->route_nodes;
        inter = tokens * visited * (nodes - 1.0) / nodes * token_bytes;
        intra = copies * (k - 1.0) / k * token_bytes;
    } else {
        inter = copies * (n - k) / n * token_bytes;
        intra = copies * (k - 1.0) / n * token_bytes;
    }
    double t_intra = intra > 0 ? c->nvlink.lat_s + imb * intra / c->nvlink.bw_Bps : 0.0;
    double t_inter = inter > 0 ? c->net.lat_s + imb * inter / c->net.bw_Bps : 0.0;
    return t_intra > t_inter ? t_intra : t_inter;
}

/* ---- data parallelism ---- */

double cm_grad_bytes(const struct scenario *scn)
{
    return scn->grad_reduce_fp32 || scn->dtype == DT_FP32 || scn->dtype == DT_TF32 ? 4.0 : 2.0;
}

/* Copies of each model part in one pipeline: 1, or 2 under DualPipe (scenario.h). */
int cm_part_copies(const struct scenario *scn)
{
    return scn_model_parts(scn) < scn->pp * scn->vp ? 2 : 1;
}

/* The group a chunk's gradients are reduced (and its parameters gathered) over: its
 * data-parallel replicas, and under DualPipe the other copy of the same part too (on the
 * mirror pipeline rank, so across nodes whenever the pipeline is): twice the ranks, the same
 * ranks per node. */
struct coll_group cm_replica_group(const struct cm_ctx *c, int n, int stride)
{
    struct coll_group g = cm_group_of(n, stride, c->cfg->gpus_per_node);
    g.n *= cm_part_copies(c->scn);
    return g;
}

double cm_dp_sync_s(const struct cm_ctx *c, const struct cm_stage *st)
{
    const struct cm_config *cfg = c->cfg;
    enum coll_op op = c->scn->dist_opt ? COLL_REDUCE_SCATTER : COLL_ALL_REDUCE;
    double t = 0;
    struct coll_group dense = cm_replica_group(c, cfg->dp, cfg->tp * cfg->cp);
    struct coll_group expert = cm_replica_group(c, cfg->edp, cfg->etp * cfg->ep);
    if (dense.n > 1)
        t += cm_coll_time(c, op, cm_grad_bytes(c->scn) * st->dense_params, dense);
    if (expert.n > 1 && st->expert_params > 0)
        t += cm_coll_time(c, op, cm_grad_bytes(c->scn) * st->expert_params, expert);
    return t;
}
