/* cm_comm: what the collectives of the parallel groups cost (see cm_internal.h); where the
 * groups sit is resolved once per build (groups.h) and read here from the context. */
#include <math.h>
#include <string.h>

#include "cm_internal.h"
#include "nccl_model.h"

/* A switch (NVSwitch, NVL72) gives any group of GPUs in the node each GPU's full bandwidth.  A
 * point-to-point mesh (AMD's xGMI: a link from each GPU to each other one) gives a GPU only
 * the links to the group's other members: two GPUs share one link, eight reach all seven.
 * RCCL's rings spread over the links it has (S. Bekman, ml-engineering, network/README.md:
 * MI300X all-reduce bus bandwidth 47.7 GB/s on 2 GPUs, 312.9 GB/s on 8, of 64 and 448 GB/s per
 * direction). */
struct coll_level cm_intra_level(const struct cm_ctx *c, int members)
{
    const struct hw_node *node = &c->hw->node;
    struct coll_level lv = c->nvlink;
    if (node->peer_bw_Bps > 0 && members >= 2) {
        double bw = (members - 1) * node->peer_bw_Bps;
        lv.bw_Bps = (bw < node->nvlink_bw_Bps ? bw : node->nvlink_bw_Bps) * node->nvlink_eff;
    }
    return lv;
}

/* A collective whose group lies inside one node, as the hardware file's measurements have it
 * (struct hw_coll_fit: overhead + bus bytes / bus bandwidth, the busiest GPU's bus bytes
 * `imbalance` times the mean); < 0 when the node has no measurement for this op and group
 * size. */
static double measured_in_node(const struct cm_ctx *c, enum coll_op op, double bytes,
                               struct coll_group g, double imbalance)
{
    static const enum hw_coll_op hw_op[] = {
        [COLL_ALL_REDUCE] = HW_ALL_REDUCE,
        [COLL_REDUCE_SCATTER] = HW_REDUCE_SCATTER,
        [COLL_ALL_GATHER] = HW_ALL_GATHER,
        [COLL_ALL_TO_ALL] = HW_ALL_TO_ALL,
    };
    if (g.n < 2 || g.per_node < g.n || !(bytes > 0))
        return -1.0;
    const struct hw_coll_fit *fit = hw_node_coll_fit(&c->hw->node, hw_op[op], g.n);
    if (!fit)
        return -1.0;
    double share = (double)(g.n - 1) / g.n * (op == COLL_ALL_REDUCE ? 2.0 : 1.0);
    return fit->overhead_s + imbalance * share * bytes / fit->bus_bw_Bps;
}

/* The node's measured collectives were fitted from 16 MiB up (hardware.xsd): below, their
 * overhead is a large message's intercept, several times what NCCL's LL protocol takes for a
 * few bytes, so there the cheaper of the two serves. */
#define MEASURED_FROM_BYTES (16.0 * 1048576.0)

/* A collective as NCCL's tuner prices it (nccl_model.h: ring or tree, LL, LL128 or Simple, the
 * cheapest), or the node's measurement where one covers the group and the size.  The two-level
 * hierarchical algorithm of collective.c is not a candidate: NCCL has no hierarchical
 * reduce-scatter / all-gather; its rings cross node boundaries once per channel, the channels
 * spread over the node's NICs (collective.c, coll_span_level). */
double cm_coll_time(const struct cm_ctx *c, enum coll_op op, double bytes, struct coll_group g)
{
    double measured = measured_in_node(c, op, bytes, g, 1.0);
    if (measured >= 0.0 && bytes >= MEASURED_FROM_BYTES)
        return measured;
    struct nccl_levels lv = {cm_intra_level(c, g.per_node), c->net, c->hw->node.coll_base_s};
    double model = nccl_time(op, bytes, &g, &lv, NULL);
    return measured >= 0.0 && measured < model ? measured : model;
}

/* Exposed time of a communication that may overlap `hide` seconds of compute: overlapped, the
 * pair takes max + interference x min (hardware.h), of which `hide` is already counted. */
double cm_exposed(const struct cm_ctx *c, double comm, double hide, int overlap)
{
    return overlap ? cm_exposed_at(c->hw->gpu.overlap_interference, comm, hide) : comm;
}

/* cm_exposed of an overlapped communication whose interference is given. */
double cm_exposed_at(double interference, double comm, double hide)
{
    if (comm <= 0)
        return comm;
    double hi = comm > hide ? comm : hide, lo = comm > hide ? hide : comm;
    return hi + interference * lo - hide;
}

/* An all-to-all of `bytes` per GPU over group g, each GPU keeping 1/n: (k-1)/n of it to the
 * other GPUs of its node over NVLink and (n-k)/n over the network, at once (NCCL all-to-all =
 * grouped send/recv); the busiest GPU carries `imbalance` times the mean.  Inside one node,
 * the node's measurement when it has one. */
static double all_to_all_s(const struct cm_ctx *c, double bytes, struct coll_group g,
                           double imbalance)
{
    double measured = measured_in_node(c, COLL_ALL_TO_ALL, bytes, g, imbalance);
    if (measured >= 0.0)
        return measured;
    double n = g.n, k = g.per_node;
    double intra = bytes * (k - 1.0) / n, inter = bytes * (n - k) / n;
    struct coll_level lv = cm_intra_level(c, g.per_node);
    double t_intra = intra > 0 ? lv.lat_s + imbalance * intra / lv.bw_Bps : 0.0;
    double t_inter = inter > 0 ? c->net.lat_s + imbalance * inter / c->net.bw_Bps : 0.0;
    return t_intra > t_inter ? t_intra : t_inter;
}

/* Context parallelism (Megatron-Core / Transformer Engine cp_comm_type):
 *  - p2p: a ring of cp-1 steps passing this rank's K and V (backward: K, V and their
 *    gradients), each step behind the attention of the previous one;
 *  - allgather: the whole sequence's K and V gathered before attention, which waits for it
 *    (backward: gathered again, their gradients reduce-scattered) -- Llama 3 (Dubey et al.
 *    2024, sec. 3.3.2) chose it because GQA's K and V are small;
 *  - a2a (DeepSpeed-Ulysses, Jacobs et al. 2023): Q, K and V all-to-all'ed so each rank holds
 *    the whole sequence for cp-th of the heads, and the output back, each blocking;
 *  - a2a+p2p: the all-to-all inside groups of hierarchical-cp ranks (a node), then the ring
 *    across the groups, whose steps move the same K/V bytes as p2p's. */
void cm_cp_traffic(const struct cm_ctx *c, double tokens, struct cp_traffic *out)
{
    const struct model *m = c->m;
    const struct cm_config *cfg = c->cfg;
    double t = cfg->tp;
    double kv = 2.0 * cfg->act_bytes * tokens * (double)m->kv_heads * m->head_dim / t;
    double qkv = cfg->act_bytes * tokens *
                 ((double)m->heads * m->head_dim + 2.0 * m->kv_heads * m->head_dim) / t;
    double o = cfg->act_bytes * tokens * (double)m->heads * m->v_head_dim / t;
    int cp = cfg->cp;
    memset(out, 0, sizeof *out);
    if (cp <= 1)
        return;
    if (c->scn->cp_comm_type == CP_ALLGATHER) {
        struct coll_group g = c->groups->cp.g;
        double ag = cm_coll_time(c, COLL_ALL_GATHER, cp * kv, g);
        out->block_fwd = ag;
        out->block_bwd = ag + cm_coll_time(c, COLL_REDUCE_SCATTER, cp * kv, g);
        return;
    }
    /* the all-to-all part and the ring part as cp-comm-type splits the group (groups.h) */
    if (c->groups->cp_a2a.g.n > 1) {
        struct coll_group g = c->groups->cp_a2a.g;
        out->block_fwd = all_to_all_s(c, qkv, g, 1.0) + all_to_all_s(c, o, g, 1.0);
        out->block_bwd = out->block_fwd;
    }
    int ring = c->groups->cp_ring.g.n;
    if (ring > 1) {
        struct coll_group g = c->groups->cp_ring.g;
        /* each step passes K and V to one neighbour: one link of a mesh */
        struct coll_level in_node = cm_intra_level(c, 2);
        const struct coll_level *lv = g.per_node >= g.n ? &in_node : &c->net;
        out->ring_fwd = (ring - 1) * (lv->lat_s + kv / lv->bw_Bps);
        out->ring_bwd = 2.0 * out->ring_fwd;
    }
}

/* Context parallelism of DSA (Megatron-Core dsa.py, DSAttention: all-gather only): each rank
 * keeps its queries and gathers every key the sparse attention may select -- absorbed MLA's
 * one key head, the latent and rotary channels, the same on every TP rank -- and, on a layer
 * computing the top-k, the indexer's keys; the backward reduce-scatters their gradients (the
 * gathered keys stay from the forward).  `tokens` on this GPU. */
void cm_dsa_cp_traffic(const struct cm_ctx *c, double tokens, int indexer,
                       struct cp_traffic *out)
{
    const struct model *m = c->m;
    const struct cm_config *cfg = c->cfg;
    memset(out, 0, sizeof *out);
    if (cfg->cp <= 1)
        return;
    double width = (double)m->kv_lora_rank + m->qk_rope_dim + (indexer ? m->dsa_index_dim : 0);
    double bytes = cfg->act_bytes * cfg->cp * tokens * width;
    struct coll_group g = c->groups->cp.g;
    out->block_fwd = cm_coll_time(c, COLL_ALL_GATHER, bytes, g);
    out->block_bwd = cm_coll_time(c, COLL_REDUCE_SCATTER, bytes, g);
}

/* Megatron-Core's context parallelism of a Mamba-2 mixer (ssm/mamba_context_parallel.py,
 * MambaContextParallel, and ssm/mamba_mixer.py's training path, at d98e8a6): the conv1d and the
 * scan need whole sequences, so around them the mixer trades its sequence shard for a head
 * shard, Ulysses-style.  Before: five all-to-alls over the CP group, of in_proj's z and x
 * (d_inner each), B and C (groups x state each, every group repeated cp / groups times when a
 * TP rank holds fewer groups than cp) and dt (heads); after: one of the scan's output y
 * (d_inner).  The backward runs the six again, transposed.  Around them each pass copies (reads
 * and writes) the five pieces three times -- each all-to-all's split and concatenation, their
 * concatenation again, the attention load balancing undone (2 x cp chunks put back in order)
 * -- and y twice: the balancing redone, its all-to-all's concatenation. */
double cm_mamba_cp_traffic(const struct cm_ctx *c, double tokens, struct cp_traffic *out)
{
    const struct model *m = c->m;
    const struct cm_config *cfg = c->cfg;
    int cp = cfg->cp, groups = m->mamba_groups / cfg->tp;
    memset(out, 0, sizeof *out);
    if (cp <= 1)
        return 0.0;
    double per = cfg->act_bytes * tokens / cfg->tp, inner = model_ssm_inner(m);
    double repeat = groups < cp ? (double)cp / groups : 1.0;
    double z = per * inner, bc = per * m->mamba_groups * repeat * m->mamba_state,
           dt = per * m->mamba_heads;
    struct coll_group g = c->groups->cp.g;
    out->block_fwd = 2.0 * all_to_all_s(c, z, g, 1.0) + 2.0 * all_to_all_s(c, bc, g, 1.0) +
                     all_to_all_s(c, dt, g, 1.0) + all_to_all_s(c, z, g, 1.0);
    out->block_bwd = out->block_fwd;
    double before = 2.0 * z + 2.0 * bc + dt;
    return 2.0 * (3.0 * before + 2.0 * z);
}

/* Megatron-Core's context parallelism of a Gated DeltaNet (ssm/gated_delta_net/gdn.py and
 * common.py at d98e8a6): as for Mamba-2, the conv1d and the rule need whole sequences, so the
 * mixer trades its sequence shard for a head shard around them -- one all-to-all of in_proj's
 * whole output (q, k, v, z, beta, alpha: a2a_cp_to_hp) before, one of the gated norm's output
 * (v: a2a_hp_to_cp, in _gated_norm_and_a2a) after, the two again in the backward, transposed.
 * Each pass copies the input three times and the output twice, as the Mamba-2 path does. */
double cm_gdn_cp_traffic(const struct cm_ctx *c, double tokens, struct cp_traffic *out)
{
    const struct cm_config *cfg = c->cfg;
    memset(out, 0, sizeof *out);
    if (cfg->cp <= 1)
        return 0.0;
    double per = cfg->act_bytes * tokens / cfg->tp;
    double in = per * model_ssm_in_width(c->m), y = per * model_ssm_inner(c->m);
    struct coll_group g = c->groups->cp.g;
    out->block_fwd = all_to_all_s(c, in, g, 1.0) + all_to_all_s(c, y, g, 1.0);
    out->block_bwd = out->block_fwd;
    return 2.0 * (3.0 * in + 2.0 * y);
}

/* One expert-parallel exchange (the dispatch, or the combine) of the routed tokens' hidden
 * states, `elem_bytes` an element, for the `tokens` this GPU holds, under the scenario's
 * dispatcher.  The expert group
 * has n GPUs, k in each node (Megatron's rank order packs it into as few nodes as it can);
 * uniform routing sends a routed copy to each GPU alike.
 *  - alltoall: every (token, expert) copy is sent; (k-1)/n of them over NVLink and (n-k)/n
 *    over the network, concurrently on the two links (NCCL all-to-all = grouped send/recv).
 *  - allgather: every GPU gathers all the group's tokens and reduce-scatters the results back
 *    (Megatron's allgather dispatcher), the cost of an all-gather of n x tokens.
 *  - deepep: a token crosses the network once per remote node holding one of its experts and
 *    fans out over NVLink there (DeepEP; DeepSeek-V3 report sec. 3.2.2) -- the expected number
 *    of distinct nodes among top_k picks (units_visited: uniform, or from the model's expert
 *    groups), and with node-limited routing (route-nodes) at most that many.
 * The busiest GPU receives moe-imbalance times the mean.  With expert tensor parallelism
 * (etp > 1) the dispatcher then gathers what the etp GPUs of an expert received, so that each
 * computes its slice of every one of them, and the combine reduce-scatters the results back
 * (Megatron-Core's MoEAlltoAllTokenDispatcher, gather_from_sequence_parallel_region over the
 * expert-tensor-parallel group, core_v0.12.0 to core_v0.14.0): etp x the copies received. */
static double etp_exchange_s(const struct cm_ctx *c, double copies, double token_bytes)
{
    const struct cm_config *cfg = c->cfg;
    if (cfg->etp <= 1 || c->scn->moe_dispatcher == DISPATCH_ALLGATHER)
        return 0.0;
    struct coll_group g = c->groups->etp.g;
    double received = c->cfg->moe_load * copies * token_bytes;
    return cm_coll_time(c, COLL_ALL_GATHER, cfg->etp * received, g);
}

/* The chance that none of `mine` experts of a pool of `pool` is among `picks` drawn from it
 * without replacement: C(pool - mine, picks) / C(pool, picks) (a fractional last pick at its
 * share). */
static double none_drawn(double pool, double mine, double picks)
{
    double none = 1.0;
    int whole = (int)picks;
    for (int i = 0; i < whole; i++)
        none *= pool - mine - i > 0 ? (pool - mine - i) / (pool - i) : 0.0;
    double rest = picks - whole;
    if (rest > 0 && pool - whole > 0)
        none *= 1.0 - rest * mine / (pool - whole);
    return none;
}

/* Distinct units (the GPUs of an expert group, or its nodes) a token's experts sit on, the
 * experts spread evenly over the `units`: under uniform routing n (1 - C(E - E/n, k) / C(E, k));
 * under group-limited routing (the model's expert_groups G, of which a token uses M =
 * route_nodes) a token takes its k experts from M of the G groups, k / M from each -- the
 * router ranks the groups by their best experts, so each chosen group gives its share (Megatron-
 * Core's group_limited_topk; DeepSeek-V3 report sec. 2.1.2) -- so a unit holding h >= 1 whole
 * groups is visited when one of its groups is chosen, 1 - C(G - h, M) / C(G, M), and a unit
 * holding e experts of one group when the group is chosen and one of its k / M picks lands on
 * it, (M / G) (1 - C(E/G - e, k/M) / C(E/G, k/M)). */
static double units_visited(const struct model *m, double units)
{
    double experts = m->experts, per = experts / units;
    int groups = m->expert_groups, chosen = m->route_nodes;
    if (groups <= 0 || chosen >= groups)
        return units * (1.0 - none_drawn(experts, per, m->top_k));
    double group = experts / groups, picks = (double)m->top_k / chosen;
    if (per >= group) /* whole groups on each unit */
        return units * (1.0 - none_drawn(groups, per / group, chosen));
    return units * ((double)chosen / groups) * (1.0 - none_drawn(group, per, picks));
}

static double ep_exchange_s(const struct cm_ctx *c, double tokens, double elem_bytes)
{
    const struct model *m = c->m;
    struct coll_group g = c->groups->ep.g;
    double n = g.n, k = g.per_node, nodes = c->groups->ep.nodes;
    double token_bytes = elem_bytes * model_moe_width(m), copies = tokens * m->top_k;
    double imb = c->cfg->moe_load;
    if (c->scn->moe_dispatcher == DISPATCH_ALLGATHER)
        return cm_coll_time(c, COLL_ALL_GATHER, n * tokens * token_bytes, g);
    double etp = etp_exchange_s(c, copies, token_bytes);
    if (!scn_flex_dispatch(c->scn) || nodes <= 1)
        return all_to_all_s(c, copies * token_bytes, g, imb) + etp;
    double visited = units_visited(m, nodes);
    if (m->route_nodes > 0 && m->route_nodes < visited)
        visited = m->route_nodes;
    double inter = tokens * visited * (nodes - 1.0) / nodes * token_bytes;
    double intra = copies * (k - 1.0) / k * token_bytes;
    struct coll_level lv = cm_intra_level(c, g.per_node);
    double t_intra = lv.lat_s + imb * intra / lv.bw_Bps;
    double t_inter = c->net.lat_s + imb * inter / c->net.bw_Bps;
    return (t_intra > t_inter ? t_intra : t_inter) + etp;
}

/* DeepEP's dispatch and combine inside one NVLink domain, where the node has them measured
 * (hardware <collective op="ep-dispatch"> and "ep-combine", their bandwidth counted as DeepEP's
 * tests count it: bytes of the tokens a GPU receives, one copy per GPU holding any of a token's
 * experts): each GPU receives tokens x (GPUs a token visits) token copies, the busiest
 * moe-imbalance times the mean, the dispatch's at ep_dispatch_bytes an element (DeepEP's tests
 * count an fp8 dispatch's bytes as sent: fp8 and its scales), the combine's at act_bytes.  A
 * group larger than any measured takes the largest measured group's figures.  < 0 where nothing
 * applies. */
static double ep_kernels_s(const struct cm_ctx *c, double tokens)
{
    const struct cm_config *cfg = c->cfg;
    const struct model *m = c->m;
    struct coll_group g = c->groups->ep.g;
    if (!scn_flex_dispatch(c->scn) || g.n < 2 || g.per_node < g.n || cfg->etp > 1)
        return -1.0;
    const struct hw_coll_fit *d = hw_node_coll_fit_upto(&c->hw->node, HW_EP_DISPATCH, g.n);
    const struct hw_coll_fit *k = hw_node_coll_fit_upto(&c->hw->node, HW_EP_COMBINE, g.n);
    if (!d || !k)
        return -1.0;
    double received = c->cfg->moe_load * tokens * units_visited(m, g.n) * model_moe_width(m);
    return d->overhead_s + received * cfg->ep_dispatch_bytes / d->bus_bw_Bps + k->overhead_s +
           received * cfg->act_bytes / k->bus_bw_Bps;
}

/* A dispatch and a combine: the forward's, or the backward's combine gradient (dispatch-wise,
 * at ep_dispatch_bytes: fp8 where the wire is quantized) and dispatch gradient (combine-wise,
 * 16-bit), as DeepSeek-V3 keeps both combines in BF16 (report sec. 3.3.2). */
double cm_ep_round_trip_s(const struct cm_ctx *c, double tokens)
{
    double measured = ep_kernels_s(c, tokens);
    if (measured >= 0.0)
        return measured;
    return ep_exchange_s(c, tokens, c->cfg->ep_dispatch_bytes) +
           ep_exchange_s(c, tokens, c->cfg->act_bytes);
}

/* ---- data parallelism ---- */

/* Megatron's gradient buffers: fp32 with grad-reduce-fp32, else the parameters' own type --
 * fp32 in an fp32 run (megatron/core/distributed/param_and_grad_buffer.py,
 * group_params_for_buffers: grad_dtype torch.float if grad_reduce_in_fp32, else param.dtype). */
double cm_grad_bytes(const struct scenario *scn)
{
    return scn->grad_reduce_fp32 ? FP32_BYTES : cm_dtype_bytes(scn->dtype);
}

/* The all-reduce of a hybrid shard's `grad` bytes (of the whole group's) across the replicas of
 * each of its `shard` ranks (d->outer). */
static double outer_reduce_s(const struct cm_ctx *c, double grad, int shard,
                             const struct replica_groups *d)
{
    return cm_coll_time(c, COLL_ALL_REDUCE, grad / shard, d->outer.g);
}

/* The end-of-step reduction of `bytes` of gradients over n data-parallel GPUs: an all-reduce
 * (zero 0, or a framework that all-reduces before its sharded optimizer takes its shard:
 * DeepSpeed's pipeline engine reduces a BF16_Optimizer's fp32 gradients with
 * buffered_allreduce_fallback, deepspeed/runtime/pipe/engine.py _bf16_reduce_grads), or a
 * reduce-scatter over the shard group (zero 1, the distributed optimizer) and, with replicated
 * shards, an all-reduce of the shard across replicas (Megatron's
 * --num-distributed-optimizer-instances).  DualPipe reduces over both copies of a part. */
static double dp_reduce_s(const struct cm_ctx *c, int allreduce, double bytes, int n, int shard,
                          const struct replica_groups *d)
{
    if (allreduce)
        return cm_coll_time(c, COLL_ALL_REDUCE, bytes, d->all.g);
    struct coll_group g = d->shard.g;
    double t = g.n > 1 ? cm_coll_time(c, COLL_REDUCE_SCATTER, bytes, g) : 0.0;
    if (n > shard)
        t += cm_coll_time(c, COLL_ALL_REDUCE, bytes / g.n, d->outer.g);
    return t;
}

double cm_dp_sync_s(const struct cm_ctx *c, const struct cm_stage *st)
{
    const struct cm_config *cfg = c->cfg;
    double gb = cm_grad_bytes(c->scn);
    if (cfg->zero >= 2 && !cfg->defer_grad_sync) { /* reduce-scattered per micro-batch, inside
                                                       the backward ops; Megatron-FSDP's hybrid
                                                       shards reduce across their replicas once,
                                                       at the step's last backward (megatron_fsdp
                                                       .py at d98e8a6: outer_fsdp_group_grad_reduce
                                                       only on is_last_microbatch) */
        if (!cfg->outer_reduce_once)
            return 0.0;
        double t = cfg->replicas > cfg->shard
                       ? outer_reduce_s(c, gb * st->dense_params, cfg->shard, &c->groups->dense)
                       : 0.0;
        if (st->expert_params > 0 && cfg->edp > cfg->eshard)
            t += outer_reduce_s(c, gb * st->expert_params, cfg->eshard, &c->groups->expert);
        return t;
    }
    /* FSDP2 under pipelining: each unit's accumulated unsharded gradients copied (chunk_cat)
     * into its reduce-scatter input, in line before the unit's reduce-scatter
     * (FSDPParamGroup.post_backward, torch/distributed/fsdp/_fully_shard). */
    double copy_in = cfg->defer_grad_sync && cfg->fsdp2
                         ? cm_memory_s(c, 2.0 * gb * (st->dense_params + st->expert_params))
                         : 0.0;
    return copy_in +
           dp_reduce_s(c, cfg->grad_allreduce, gb * st->dense_params, cfg->replicas, cfg->shard,
                       &c->groups->dense) +
           (st->expert_params > 0 ? dp_reduce_s(c, cfg->grad_allreduce, gb * st->expert_params,
                                                cfg->edp, cfg->eshard, &c->groups->expert)
                                  : 0.0);
}

/* One micro-batch's ZeRO-2/3 traffic for `bytes` of working weights and `grad` bytes of
 * gradients over n data-parallel GPUs sharded `shard` ways (PyTorch FSDP and DeepSpeed ZeRO
 * reduce-scatter every micro-batch's gradients rather than accumulate full ones; Rajbhandari
 * et al., ZeRO, SC'20, sec. 5; Zhao et al., PyTorch FSDP, VLDB'23, sec. 3). */
static void shard_comm(const struct cm_ctx *c, double bytes, double grad, int n, int shard,
                       const struct replica_groups *d, double *gather, double *reduce)
{
    struct coll_group g = d->step_shard.g;
    if (c->cfg->zero >= 3)
        *gather += cm_coll_time(c, COLL_ALL_GATHER, bytes, g);
    *reduce += cm_coll_time(c, COLL_REDUCE_SCATTER, grad, g);
    if (n > shard && !c->cfg->outer_reduce_once) /* hybrid: the shard's gradients all-reduced
                                                   * across the replicas (cm_dp_sync_s when
                                                   * that waits for the step's end) */
        *reduce += outer_reduce_s(c, grad, shard, d);
}

void cm_shard_comm(const struct cm_ctx *c, double dense, double expert, double param_bytes,
                   double *gather, double *reduce)
{
    const struct cm_config *cfg = c->cfg;
    double gb = cm_grad_bytes(c->scn);
    *gather = *reduce = 0.0;
    if (cfg->zero < 2)
        return;
    if (dense > 0 && cfg->replicas > 1)
        shard_comm(c, param_bytes * dense, gb * dense, cfg->replicas, cfg->shard, &c->groups->dense,
                   gather, reduce);
    if (expert > 0 && cfg->edp > 1)
        shard_comm(c, param_bytes * expert, gb * expert, cfg->edp, cfg->eshard, &c->groups->expert,
                   gather, reduce);
}
