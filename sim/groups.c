/* groups: a step's parallel groups resolved once (see groups.h). */
#include "groups.h"

#include <assert.h>

#include "costmodel.h"
#include "scenario.h"

/* Consecutive members `stride` ranks apart fill a node of per_node_gpus with per_node_gpus /
 * stride of them (when that divides n; else the largest divisor below). */
struct rank_group groups_strided(int n, int stride, int per_node_gpus)
{
    struct rank_group r = {{n, 1}, stride, n};
    if (stride < per_node_gpus) {
        int fit = per_node_gpus / stride;
        r.g.per_node = fit < n ? fit : n;
        while (r.g.per_node > 1 && n % r.g.per_node != 0) /* keep the two-level split exact */
            r.g.per_node--;
    }
    r.nodes = n / r.g.per_node;
    return r;
}

/* n replicas `stride` apart, times the parts' `copies` (copies.per_node of them in a node).
 * Under rank-order tp-cp-ep-pp-dp with a pipeline, of the n ranks the first `block` (the
 * context-parallel ranks of a dense group) stay neighbours and the data-parallel peers beyond
 * them sit pp times further apart (Megatron-Core's RankGenerator, order tp-cp-ep-pp-dp; its
 * expert ranks tp-ep-pp-dp); n ranks inside one block (a hybrid shard smaller than the CP group)
 * are all neighbours. */
static struct rank_group replicas_of(const struct cm_config *cfg, struct coll_group copies, int n,
                                     int stride, int block)
{
    int gpn = cfg->gpus_per_node;
    struct rank_group r = groups_strided(n, stride, gpn);
    if (cfg->pp_dp_order && cfg->pp > 1 && block % n != 0) {
        int inner = block > 1 && n % block == 0 ? block : 1;
        struct coll_group in = groups_strided(inner, stride, gpn).g;
        struct coll_group out = groups_strided(n / inner, stride * inner * cfg->pp, gpn).g;
        r.g.per_node = in.per_node == inner ? inner * out.per_node : in.per_node;
    }
    r.g.n *= copies.n;
    r.g.per_node *= copies.per_node;
    r.nodes = r.g.n / r.g.per_node;
    return r;
}

/* DualPipe's copies of each part (sched_dualpipe.c): pipeline ranks r and pp-1-r, (pp-1-2r) x
 * pp_stride ranks apart, as a group -- `copies` of them, and how many share a node.  One entry
 * prices every rank's reduction, so it is the pair farthest apart, ranks 0 and pp-1: the step
 * waits for its slowest rank's reduction, and that pair spans at least the nodes any other
 * does.  Its copies share a node only when every pipeline's pp x pp_stride ranks (the whole job
 * in the default order, a replica's tp x cp x pp under tp-cp-ep-pp-dp, pipelines starting at
 * multiples of that span) lie in one node: the span divides the node, or the job is one node.
 * With power-of-two degrees no other pair shares one either then, the middle of a pipeline
 * being a node boundary.  Otherwise each copy keeps its own nodes, as many ranks a node. */
static struct coll_group copies_of(const struct cm_config *cfg, int pp_stride, int copies)
{
    long span = (long)pp_stride * cfg->pp, gpn = cfg->gpus_per_node;
    int in_node = span <= gpn && (gpn % span == 0 || cfg->gpus <= gpn);
    return (struct coll_group){copies, in_node ? copies : 1};
}

/* The groups of n replicas `stride` apart whose state is sharded over `shard` of them. */
static void replica_groups_of(struct replica_groups *d, const struct cm_config *cfg,
                              struct coll_group copies, int n, int shard, int stride, int block)
{
    assert(shard >= 1 && n % shard == 0); /* cm_rules.c, check_sharding */
    d->all = replicas_of(cfg, copies, n, stride, block);
    d->shard = shard == n ? d->all : replicas_of(cfg, copies, shard, stride, block);
    /* the same rank of each shard group: shard replicas apart, so under rank-order split like
     * a replica group -- shard x stride apart inside a CP block the shards divide, and the
     * data-parallel peers beyond pp times further */
    int outer_block = shard < block && block % shard == 0 ? block / shard : 1;
    d->outer = replicas_of(cfg, (struct coll_group){1, 1}, n / shard, stride * shard, outer_block);
    /* A micro-batch's gathers and reduce-scatters run on the shard group itself, only at other
     * times: the same ranks as the step's (Megatron-FSDP shards over the intra-partial dp-cp
     * group, a slice of RankGenerator's dp-cp ranks: mcore_fsdp_adapter.py and parallel_state.py
     * at d98e8a6), so rank-order's split applies.  DualPipe's copies too: a rank holds
     * 1 / (copies x shard) of each part (costmodel.c, shard_of), so restoring a part takes both
     * copies' shards, and the mirror ranks r and pp-1-r run the same part in the same slots
     * (sched_dualpipe.c: the same h, and part r is near for both), one gather serving both. */
    d->step_shard = d->shard;
}

/* The amax reduction group: each dense replica's TP group beside it (the TP ranks stay in the
 * replicas' nodes), or tp x replicas consecutive ranks where that would overfill a node. */
static struct rank_group amax_of(const struct cm_config *cfg, struct coll_group replicas)
{
    struct rank_group r = {{replicas.n * cfg->tp, replicas.per_node * cfg->tp}, 1, 0};
    if (r.g.per_node > cfg->gpus_per_node || r.g.per_node > r.g.n)
        return groups_strided(r.g.n, 1, cfg->gpus_per_node);
    r.nodes = r.g.n / r.g.per_node;
    return r;
}

/* CP's all-to-all and ring parts under the scenario's cp-comm-type (cm_comm.c, cm_cp_traffic):
 * a2a+p2p all-to-alls inside groups of hierarchical-cp ranks and rings across them. */
static void cp_parts(struct groups *gr, const struct cm_config *cfg, const struct scenario *scn)
{
    int gpn = cfg->gpus_per_node, cp = cfg->cp, a2a = 1, ring = 1;
    switch ((enum scn_cp_comm)scn->cp_comm_type) {
    case CP_ALLGATHER: break;
    case CP_A2A: a2a = cp; break;
    case CP_P2P: ring = cp; break;
    case CP_A2A_P2P:
        a2a = scn->hierarchical_cp;
        assert(a2a >= 1 && cp % a2a == 0); /* cm_rules.c, check_cp */
        ring = cp / a2a;
        break;
    }
    gr->cp_a2a = groups_strided(a2a, cfg->tp, gpn);
    gr->cp_ring = groups_strided(ring, cfg->tp * a2a, gpn);
}

void groups_init(struct groups *gr, const struct cm_config *cfg, const struct scenario *scn,
                 int part_copies)
{
    int gpn = cfg->gpus_per_node;
    gr->gpus_per_node = gpn;
    gr->tp = groups_strided(cfg->tp, 1, gpn);
    gr->cp = groups_strided(cfg->cp, cfg->tp, gpn);
    cp_parts(gr, cfg, scn);
    gr->ep = groups_strided(cfg->ep, cfg->etp, gpn);
    gr->etp = groups_strided(cfg->etp, 1, gpn);
    /* neighbouring pipeline ranks: a whole replica's tp x cp x dp ranks apart in the default
     * order, one CP group's tp x cp with the pipeline inside the replica; the expert side's
     * pipeline groups are the same (Megatron-Core asserts so: parallel_state.py,
     * initialize_model_parallel), so its copies are as far apart */
    gr->pp = groups_strided(cfg->pp, cfg->tp * cfg->cp * (cfg->pp_dp_order ? 1 : cfg->dp), gpn);
    struct coll_group copies = copies_of(cfg, gr->pp.stride, part_copies);
    replica_groups_of(&gr->dense, cfg, copies, cfg->replicas, cfg->shard, cfg->tp, cfg->cp);
    replica_groups_of(&gr->expert, cfg, copies, cfg->edp, cfg->eshard, cfg->etp * cfg->ep, 1);
    gr->amax = amax_of(cfg, gr->dense.all.g);
}
