/* groups: where a step's parallel groups sit -- TP, CP (and the all-to-all and ring parts of its
 * communication), EP, ETP, the dense replicas (DP with CP) and the expert ones (EDP) with their
 * shard and outer groups, the amax reduction group, the pipeline and its neighbour links --
 * resolved once per cost-model build from struct cm_config and read by the cost model's
 * collectives rather than placed again on every call.  It holds no memory of its own: the
 * pipeline's links are answered from its stride in O(1) (groups_pp_next_in_node) rather than
 * kept per rank, which would cost the planner an allocation per config it builds.
 *
 * Placement follows Megatron-Core's RankGenerator: ranks are numbered tp fastest, then cp, ep
 * (the expert side: etp, ep), dp and pp (rank-order tp-cp-ep-dp-pp, the default), or with the
 * pipeline inside each replica (tp-cp-ep-pp-dp); node k holds ranks [k gpn, (k + 1) gpn).  So
 * a group is n ranks `stride` apart, and under tp-cp-ep-pp-dp a replica group is two such sets
 * (its CP block, then its data-parallel peers pp times further apart).  Invariant of every
 * entry: 1 <= g.per_node <= g.n, g.per_node divides g.n, nodes = g.n / g.per_node.  Read-only
 * once made. */
#ifndef STEPSIM_GROUPS_H
#define STEPSIM_GROUPS_H

#include "collective.h"

struct cm_config;
struct scenario;

/* One parallel group: what its collectives are priced on, and how it lies. */
struct rank_group {
    struct coll_group g; /* n members, per_node of them in each node */
    int stride;          /* ranks between consecutive members (of a replica group split by
                            rank-order: between those of its inner CP block) */
    int nodes;           /* nodes the members span: g.n / g.per_node */
};

/* The groups a chunk's replicas (dense, or expert) reduce gradients and gather parameters on. */
struct replica_groups {
    /* every replica, and under DualPipe the other copy of the same part too (on the mirror
     * pipeline rank): twice the ranks, in the same nodes when the pipeline fits in one (twice
     * the ranks a node), else on their own (twice the nodes; groups.c, copies_of) -- the
     * end-of-step all-reduce, the distributed optimizer's all-gather */
    struct rank_group all;
    struct rank_group shard; /* the replicas one copy of the state is sharded over (with
                                DualPipe's copies): the end-of-step reduce-scatter */
    struct rank_group outer; /* one replica of each shard group, shard x stride apart (split
                                by rank-order as a replica group is): hybrid shards'
                                all-reduce (one member without hybrid sharding) */
    /* ZeRO-2/3's per-micro-batch gathers and reduce-scatters (cm_comm.c, shard_comm): the
     * shard group itself, rank-order's split and DualPipe's copies included -- the same ranks
     * hold the shards whenever they are gathered, and the two copies of a part run in the same
     * slots on the mirror ranks (groups.c, replica_groups_of) */
    struct rank_group step_shard;
};

struct groups {
    struct rank_group tp;         /* tp consecutive ranks */
    struct rank_group cp;         /* cp ranks, tp apart */
    struct rank_group cp_a2a;     /* CP's all-to-all part: all of cp under cp-comm-type a2a,
                                     hierarchical-cp ranks under a2a+p2p, else one member */
    struct rank_group cp_ring;    /* CP's ring part: all of cp under p2p, the cp / hierarchical-cp
                                     a2a groups (tp x hierarchical-cp apart) under a2a+p2p, else
                                     one member */
    struct rank_group ep;         /* ep ranks, etp apart */
    struct rank_group etp;        /* etp consecutive ranks */
    struct replica_groups dense;  /* dp x cp replicas of the dense weights, tp apart */
    struct replica_groups expert; /* edp replicas of the experts, etp x ep apart */
    struct rank_group amax;       /* a stage's TP, CP and DP ranks (Megatron-Core's amax reduction
                                     group): the dense replicas, each with its TP group */
    struct rank_group pp;         /* pp ranks, tp x cp (x dp in the default order) apart */
    int gpus_per_node;
};

/* Resolve cfg's degrees, rank order and GPUs per node, `scn`'s CP communication (cp-comm-type,
 * hierarchical-cp) and the model parts' `part_copies` (layout_part_copies) into *gr, for a
 * configuration the rules have accepted (cm_check_rules).  Nothing to release. */
void groups_init(struct groups *gr, const struct cm_config *cfg, const struct scenario *scn,
                 int part_copies);

/* n ranks `stride` apart on nodes of per_node_gpus: as many consecutive members in a node as
 * fit, kept a divisor of n.  For a group that is not one of the table's. */
struct rank_group groups_strided(int n, int stride, int per_node_gpus);

/* Do pipeline ranks a and b of one replica share a node? */
static inline int groups_pp_same_node(const struct groups *gr, int a, int b)
{
    long stride = gr->pp.stride;
    return a * stride / gr->gpus_per_node == b * stride / gr->gpus_per_node;
}

/* Does pipeline rank r's link to r + 1 (the last rank's: the wrap to 0) stay inside a node?
 * Rank r + 1's link back to r is the same pair. */
static inline int groups_pp_next_in_node(const struct groups *gr, int r)
{
    return groups_pp_same_node(gr, r, (r + 1) % gr->pp.g.n);
}

#endif
