/* test_groups: the parallel groups resolved from a configuration -- each entry's size, GPUs per
 * node, stride and nodes spanned, and the pipeline's neighbour links -- against placements
 * worked out by hand from Megatron-Core's rank order (tp fastest, then cp, ep, dp, pp; or
 * tp-cp-ep-pp-dp), node k holding ranks [k gpn, (k + 1) gpn). */
#include <criterion/criterion.h>

#include "costmodel.h"
#include "groups.h"

/* A configuration of `gpus` GPUs on nodes of `gpn`: every other degree 1, dp and edp what the
 * degrees leave, no hybrid sharding (shards of all the replicas). */
static struct cm_config config(int gpus, int gpn, int tp, int cp, int pp, int ep, int etp)
{
    struct cm_config cfg = {
        .gpus = gpus, .tp = tp, .cp = cp, .pp = pp, .ep = ep, .etp = etp, .gpus_per_node = gpn};
    cfg.dp = gpus / (tp * cp * pp);
    cfg.edp = gpus / (ep * etp * pp);
    cfg.replicas = cfg.dp * cp;
    cfg.shard = cfg.replicas;
    cfg.eshard = cfg.edp;
    return cfg;
}

/* A dense configuration (ep, etp 1) under rank-order tp-cp-ep-pp-dp, sharded over `shard`
 * replicas (0: all of them). */
static struct cm_config pp_dp_config(int gpus, int gpn, int tp, int cp, int pp, int shard)
{
    struct cm_config cfg = config(gpus, gpn, tp, cp, pp, 1, 1);
    cfg.pp_dp_order = 1;
    if (shard > 0)
        cfg.shard = shard;
    return cfg;
}

/* The table of cfg under the scenario's defaults (cp-comm-type p2p) but for `cp_comm`, with
 * `copies` copies of each model part. */
static struct groups table(const struct cm_config *cfg, int cp_comm, int hierarchical, int copies)
{
    struct scenario scn;
    scn_defaults(&scn);
    scn.cp_comm_type = cp_comm;
    scn.hierarchical_cp = hierarchical;
    struct groups gr;
    groups_init(&gr, cfg, &scn, copies);
    return gr;
}

/* Entry `name` is n GPUs, per_node in a node, `stride` apart, over `nodes` nodes -- and keeps the
 * table's invariant (groups.h). */
static void assert_group(const char *name, struct rank_group r, int n, int per_node, int stride,
                         int nodes)
{
    cr_assert(r.g.per_node >= 1 && r.g.per_node <= r.g.n && r.g.n % r.g.per_node == 0 &&
                  r.nodes == r.g.n / r.g.per_node,
              "%s: %d GPUs, %d a node, over %d nodes", name, r.g.n, r.g.per_node, r.nodes);
    cr_assert(r.g.n == n && r.g.per_node == per_node && r.stride == stride && r.nodes == nodes,
              "%s: %d GPUs %d apart, %d a node, over %d nodes; want %d, %d apart, %d, over %d",
              name, r.g.n, r.stride, r.g.per_node, r.nodes, n, stride, per_node, nodes);
}

/* 512 GPUs, tp 8, cp 2, pp 4 on 8-GPU nodes: dp 8.  TP fills a node; the two CP ranks are a TP
 * group apart (stride 8: two nodes); the 16 dense replicas (dp x cp) one node each; the
 * pipeline's ranks a whole replica (tp x cp x dp = 128) apart, every link across nodes. */
Test(groups, dense_70b_layout_on_512_gpus)
{
    struct cm_config cfg = config(512, 8, 8, 2, 4, 1, 1);
    struct groups gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("tp", gr.tp, 8, 8, 1, 1);
    assert_group("cp", gr.cp, 2, 1, 8, 2);
    assert_group("cp ring", gr.cp_ring, 2, 1, 8, 2);
    assert_group("cp a2a", gr.cp_a2a, 1, 1, 8, 1);
    assert_group("dp", gr.dense.all, 16, 1, 8, 16);
    assert_group("dp shard", gr.dense.shard, 16, 1, 8, 16);
    assert_group("dp outer", gr.dense.outer, 1, 1, 128, 1);
    assert_group("amax", gr.amax, 128, 8, 1, 16);
    assert_group("pp", gr.pp, 4, 1, 128, 4);
    for (int r = 0; r < 4; r++)
        cr_assert(!groups_pp_next_in_node(&gr, r), "link %d -> %d across nodes", r, (r + 1) % 4);
}

/* 16 GPUs, tp 2, pp 2, dp 4 on 8-GPU nodes.  Default order: a stage's four replicas are
 * neighbours (stride 2, all in one node) and the next stage 8 ranks on (the other node).
 * tp-cp-ep-pp-dp: each replica's two stages are neighbours (stride 2, one node) and the replicas
 * 4 apart, two in a node -- the pipeline's link moves into the node, the reduction onto the
 * network. */
Test(groups, rank_order_moves_pipeline_neighbours_into_a_node)
{
    struct cm_config cfg = config(16, 8, 2, 1, 2, 1, 1);
    struct groups gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("dp", gr.dense.all, 4, 4, 2, 1);
    assert_group("pp", gr.pp, 2, 1, 8, 2);
    cr_assert(!groups_pp_next_in_node(&gr, 0) && !groups_pp_next_in_node(&gr, 1));
    cfg.pp_dp_order = 1;
    gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("dp", gr.dense.all, 4, 2, 2, 2);
    assert_group("pp", gr.pp, 2, 2, 2, 1);
    cr_assert(groups_pp_next_in_node(&gr, 0) && groups_pp_next_in_node(&gr, 1));
    cr_assert(groups_pp_same_node(&gr, 0, 1));
}

/* tp 4, pp 4 under tp-cp-ep-pp-dp on 8-GPU nodes: pipeline ranks 0, 4, 8, 12 apart lie two in a
 * node, so links 0 -> 1 and 2 -> 3 stay inside and 1 -> 2 and the wrap 3 -> 0 cross. */
Test(groups, pipeline_links_alternate_when_two_stages_share_a_node)
{
    struct cm_config cfg = config(64, 8, 4, 1, 4, 1, 1);
    cfg.pp_dp_order = 1;
    struct groups gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("pp", gr.pp, 4, 2, 4, 2);
    int want[] = {1, 0, 1, 0};
    for (int r = 0; r < 4; r++)
        cr_assert_eq(groups_pp_next_in_node(&gr, r), want[r], "link %d -> %d", r, (r + 1) % 4);
    cr_assert(!groups_pp_same_node(&gr, 0, 3), "the first and last stage: two nodes");
    /* tp 2: stages 0, 2, 4, 6 all in the first node, the wrap 3 -> 0 too */
    cfg = config(32, 8, 2, 1, 4, 1, 1);
    cfg.pp_dp_order = 1;
    gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("pp, tp 2", gr.pp, 4, 4, 2, 1);
    for (int r = 0; r < 4; r++)
        cr_assert(groups_pp_next_in_node(&gr, r), "link %d -> %d inside", r, (r + 1) % 4);
}

/* Mixtral's 64 GPUs, tp 2, pp 4 on 8-GPU nodes.  ep 8 with etp 1: the expert ranks are
 * consecutive, one node; with etp 2 they are 2 apart, four a node over two nodes, and each
 * expert's two ETP ranks neighbours; ep 16 fills two nodes.  The expert replicas (edp) are a
 * whole expert group apart. */
Test(groups, expert_groups_inside_and_across_nodes)
{
    struct cm_config cfg = config(64, 8, 2, 1, 4, 8, 1);
    struct groups gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("ep", gr.ep, 8, 8, 1, 1);
    assert_group("etp", gr.etp, 1, 1, 1, 1);
    assert_group("edp", gr.expert.all, 2, 1, 8, 2);
    cfg = config(64, 8, 2, 1, 4, 8, 2);
    gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("ep", gr.ep, 8, 4, 2, 2);
    assert_group("etp", gr.etp, 2, 2, 1, 1);
    cfg = config(128, 8, 2, 1, 4, 16, 1);
    gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("ep", gr.ep, 16, 8, 1, 2);
    assert_group("edp", gr.expert.all, 2, 1, 16, 2);
}

/* A group whose members do not split evenly over its nodes is priced as one that does: ep 96 on
 * 72-GPU NVLink domains (72 in the first, 24 in the second) as 48 and 48, the largest count a
 * node that divides the group. */
Test(groups, uneven_groups_keep_an_even_split)
{
    struct cm_config cfg = config(96, 72, 1, 1, 1, 96, 1);
    struct groups gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("ep", gr.ep, 96, 48, 1, 2);
}

/* cp 8 on tp 2 and 8-GPU nodes (four CP ranks a node): a2a+p2p with hierarchical-cp 4 runs its
 * all-to-alls inside each node and its ring across the two (ranks 8 apart); a2a is all
 * all-to-all, p2p all ring, allgather neither. */
Test(groups, context_parallel_parts_follow_the_comm_type)
{
    struct cm_config cfg = config(64, 8, 2, 8, 1, 1, 1);
    struct groups gr = table(&cfg, CP_A2A_P2P, 4, 1);
    assert_group("cp", gr.cp, 8, 4, 2, 2);
    assert_group("a2a+p2p a2a", gr.cp_a2a, 4, 4, 2, 1);
    assert_group("a2a+p2p ring", gr.cp_ring, 2, 1, 8, 2);
    gr = table(&cfg, CP_A2A, 1, 1);
    assert_group("a2a a2a", gr.cp_a2a, 8, 4, 2, 2);
    cr_assert_eq(gr.cp_ring.g.n, 1);
    gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("p2p ring", gr.cp_ring, 8, 4, 2, 2);
    cr_assert_eq(gr.cp_a2a.g.n, 1);
    gr = table(&cfg, CP_ALLGATHER, 1, 1);
    cr_assert(gr.cp_a2a.g.n == 1 && gr.cp_ring.g.n == 1);
}

/* tp 2, dp 16 on 8-GPU nodes (32 GPUs, pp 1) with shards of 4 replicas: a shard group is one
 * node (stride 2), its outer all-reduce joins the four nodes (stride 8); the per-micro-batch
 * shard group is the shard's ranks.  Under DualPipe (two copies of each part) the replica and
 * shard groups, the per-micro-batch one too, take the other copy's ranks, as many a node. */
Test(groups, hybrid_shards_and_dualpipe_copies)
{
    struct cm_config cfg = config(32, 8, 2, 1, 1, 1, 1);
    cfg.shard = 4;
    struct groups gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("dp", gr.dense.all, 16, 4, 2, 4);
    assert_group("dp shard", gr.dense.shard, 4, 4, 2, 1);
    assert_group("dp outer", gr.dense.outer, 4, 1, 8, 4);
    assert_group("dp step shard", gr.dense.step_shard, 4, 4, 2, 1);
    gr = table(&cfg, CP_P2P, 1, 2);
    assert_group("dp, two copies", gr.dense.all, 32, 4, 2, 8);
    assert_group("dp shard, two copies", gr.dense.shard, 8, 4, 2, 2);
    assert_group("dp outer, two copies", gr.dense.outer, 4, 1, 8, 4);
    assert_group("dp step shard, two copies", gr.dense.step_shard, 8, 4, 2, 2);
}

/* ZeRO-3 on 64 GPUs, tp 2, pp 4, dp 8 on 8-GPU nodes under tp-cp-ep-pp-dp: rank = tp_rank +
 * 2 pp_rank + 8 dp_rank, so a stage's eight replicas are ranks 0, 8, ..., 56, one a node.  The
 * per-micro-batch gathers and reduce-scatters run on those ranks: eight nodes, one GPU each
 * (they had been priced at the plain stride 2, four a node over two nodes); shards of 4: four
 * nodes.  In the default order (rank = tp_rank + 2 dp_rank + 16 pp_rank) the replicas are
 * ranks 0, 2, ..., 14, four a node; under DualPipe the mirror stage's replicas, ranks 48 to 62,
 * join them: sixteen GPUs on four nodes (they had been the eight on two). */
Test(groups, rank_order_places_the_per_microbatch_shard_group)
{
    struct cm_config cfg = pp_dp_config(64, 8, 2, 1, 4, 0);
    cfg.zero = 3;
    struct groups gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("dp shard", gr.dense.shard, 8, 1, 2, 8);
    assert_group("dp step shard", gr.dense.step_shard, 8, 1, 2, 8);
    cfg.shard = 4;
    gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("dp step shard, shards of 4", gr.dense.step_shard, 4, 1, 2, 4);
    cfg.shard = 8;
    cfg.pp_dp_order = 0;
    gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("dp step shard, default order", gr.dense.step_shard, 8, 4, 2, 2);
    gr = table(&cfg, CP_P2P, 1, 2);
    assert_group("dp step shard, two copies", gr.dense.step_shard, 16, 4, 2, 4);
}

/* tp 1, cp 2, pp 2, dp 4 under tp-cp-ep-pp-dp on 8-GPU nodes: each replica group's CP pair is
 * neighbours and its data-parallel peers cp x pp = 4 ranks apart, two a node: the pair twice,
 * four of the eight in a node. */
Test(groups, rank_order_splits_a_replica_group)
{
    struct cm_config cfg = config(16, 8, 1, 2, 2, 1, 1);
    cfg.pp_dp_order = 1;
    struct groups gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("dp", gr.dense.all, 8, 4, 1, 2);
    assert_group("amax", gr.amax, 8, 4, 1, 2);
    assert_group("pp", gr.pp, 2, 2, 2, 1);
    /* dp 3: ranks {0, 1, 4, 5} of the replica group in the first node, {8, 9} in the second:
     * priced as its CP pairs whole, one pair a node (the even split of 6) */
    cfg = config(12, 8, 1, 2, 2, 1, 1);
    cfg.pp_dp_order = 1;
    gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("dp, dp 3", gr.dense.all, 6, 2, 1, 3);
}

/* Hybrid shards under tp-cp-ep-pp-dp.  tp 1, pp 4, dp 8 on 8-GPU nodes with shards of 2: rank =
 * pp_rank + 4 dp_rank, so a shard's two replicas are ranks 0 and 4 (one node) and the outer
 * all-reduce joins the same rank of each shard, replicas 0, 2, 4, 6: ranks 0, 8, 16, 24, one a
 * node (it had been priced 2 ranks apart, all four in a node).  tp 2, cp 4, pp 2, dp 2 on
 * 4-GPU nodes with shards of 2: rank = tp_rank + 2 cp_rank + 8 pp_rank + 16 dp_rank; a shard is
 * two CP ranks of one replica, ranks 0 and 2, one node (it had been priced as data-parallel
 * peers, pp x 2 apart: two nodes). */
Test(groups, rank_order_places_hybrid_shards_and_their_outer_group)
{
    struct cm_config cfg = pp_dp_config(32, 8, 1, 1, 4, 2);
    struct groups gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("dp shard", gr.dense.shard, 2, 2, 1, 1);
    assert_group("dp outer", gr.dense.outer, 4, 1, 2, 4);
    cfg = pp_dp_config(32, 4, 2, 4, 2, 2);
    gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("dp shard, inside the CP group", gr.dense.shard, 2, 2, 2, 1);
    assert_group("dp step shard, inside the CP group", gr.dense.step_shard, 2, 2, 2, 1);
    /* the outer group: CP ranks 0, 2 of replicas 0 and 1, ranks 0, 4, 16, 20: one a node */
    assert_group("dp outer, inside the CP group", gr.dense.outer, 4, 1, 4, 4);
}

/* DualPipe's copies of a part sit on pipeline ranks r and pp-1-r, (pp-1-2r) pipeline strides
 * apart.  tp 1, pp 4, dp 2 on one 8-GPU node (default order: rank = dp_rank + 2 pp_rank): stage
 * 0's replicas are ranks 0, 1 and stage 3's, its mirror, ranks 6, 7 -- all four in the node, the
 * gradients reduced on NVLink alone (they had been priced as two a node over two nodes). */
Test(groups, dualpipe_copies_share_the_node_a_pipeline_fits_in)
{
    struct cm_config cfg = config(8, 8, 1, 1, 4, 1, 1);
    struct groups gr = table(&cfg, CP_P2P, 1, 2);
    assert_group("pp", gr.pp, 4, 4, 2, 1);
    assert_group("dp, two copies", gr.dense.all, 4, 4, 1, 1);
    assert_group("dp shard, two copies", gr.dense.shard, 4, 4, 1, 1);
    assert_group("dp step shard, two copies", gr.dense.step_shard, 4, 4, 1, 1);
    assert_group("dp outer", gr.dense.outer, 1, 1, 2, 1);
    assert_group("edp, two copies", gr.expert.all, 4, 4, 1, 1);
    assert_group("amax, two copies", gr.amax, 4, 4, 1, 1);
    /* one copy (1F1B on the same ranks): the stage's two replicas alone */
    gr = table(&cfg, CP_P2P, 1, 1);
    assert_group("dp, one copy", gr.dense.all, 2, 2, 1, 1);
}

/* ... and keep their own nodes when the pipeline does not fit.  tp 8, pp 4 (32 GPUs, dp 1):
 * stage 0 is node 0, its mirror stage 3 node 3.  tp 2, pp 4, dp 2 (16 GPUs): stage 0's replicas
 * are ranks 0, 2 (node 0), stage 3's 12, 14 (node 1); the inner pair, stages 1 and 2 (ranks 4-7
 * and 8-11), straddles the node boundary at the pipeline's middle too. */
Test(groups, dualpipe_copies_keep_their_own_nodes_past_one)
{
    struct cm_config cfg = config(32, 8, 8, 1, 4, 1, 1);
    struct groups gr = table(&cfg, CP_P2P, 1, 2);
    assert_group("dp, tp 8", gr.dense.all, 2, 1, 8, 2);
    assert_group("dp shard, tp 8", gr.dense.shard, 2, 1, 8, 2);
    cfg = config(16, 8, 2, 1, 4, 1, 1);
    gr = table(&cfg, CP_P2P, 1, 2);
    assert_group("dp, tp 2 dp 2", gr.dense.all, 4, 2, 2, 2);
    cr_assert(!groups_pp_same_node(&gr, 0, 3) && !groups_pp_same_node(&gr, 1, 2));
}

/* Under tp-cp-ep-pp-dp each replica's pipeline is tp x cp x pp consecutive ranks: tp 2, pp 4,
 * dp 4 on 8-GPU nodes (rank = tp_rank + 2 pp_rank + 8 dp_rank) puts a pipeline in each node.  A
 * stage's replicas are ranks 0, 8, 16, 24 (one a node) and their mirrors 6, 14, 22, 30: two a
 * node over the same four nodes (they had been priced one a node over eight); shards of 2, ranks
 * 0 and 8 with 6 and 14, likewise; the outer group has one copy.  In the default order (rank =
 * tp_rank + 2 dp_rank + 8 pp_rank) the same degrees put stages 0 and 3 on nodes 0 and 3: four a
 * node over two.  tp 4 under tp-cp-ep-pp-dp: a pipeline is 16 ranks, stages 0 and 3 in two
 * nodes. */
Test(groups, dualpipe_copies_under_rank_order_pp_dp)
{
    struct cm_config cfg = pp_dp_config(32, 8, 2, 1, 4, 0);
    struct groups gr = table(&cfg, CP_P2P, 1, 2);
    assert_group("pp", gr.pp, 4, 4, 2, 1);
    assert_group("dp, two copies", gr.dense.all, 8, 2, 2, 4);
    cfg.shard = 2;
    gr = table(&cfg, CP_P2P, 1, 2);
    assert_group("dp shard of 2, two copies", gr.dense.shard, 4, 2, 2, 2);
    assert_group("dp step shard of 2, two copies", gr.dense.step_shard, 4, 2, 2, 2);
    assert_group("dp outer", gr.dense.outer, 2, 1, 4, 2);
    cfg = config(32, 8, 2, 1, 4, 1, 1);
    gr = table(&cfg, CP_P2P, 1, 2);
    assert_group("dp, default order", gr.dense.all, 8, 4, 2, 2);
    cfg = pp_dp_config(64, 8, 4, 1, 4, 0);
    gr = table(&cfg, CP_P2P, 1, 2);
    assert_group("dp, tp 4", gr.dense.all, 8, 1, 4, 8);
}
