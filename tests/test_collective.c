/* test_collective: the ring, tree and hierarchical algorithms held to their alpha-beta closed
 * forms (collective.h), to 1e-12 relative: ring all-reduce 2(n-1) lat + 2(n-1)/n bytes/bw,
 * reduce-scatter / all-gather / all-to-all (n-1) lat + (n-1)/n bytes/bw; tree all-reduce
 * 2 ceil(log2 n) lat + 2 bytes/bw; hierarchical = per-node and cross-node rings composed, with
 * the numbers worked out by hand; the choice of level; coll_best and coll_find; and NCCL's
 * own tuner (nccl_model.h) by algorithm and protocol, worked by hand from its constants. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "collective.h"
#include "nccl_model.h"

/* Levels with round numbers so the hand-worked values below are exact in decimal. */
static const struct coll_level NVL = {100e9, 1e-6}; /* intra: 100 GB/s, 1 us */
static const struct coll_level NET = {25e9, 10e-6}; /* inter: 25 GB/s, 10 us */

static const enum coll_op all_ops[] = {COLL_ALL_REDUCE, COLL_REDUCE_SCATTER, COLL_ALL_GATHER,
                                       COLL_ALL_TO_ALL};
#define NOPS (sizeof all_ops / sizeof all_ops[0])
static const struct coll_algo *const algos[] = {&coll_ring, &coll_tree, &coll_hierarchical};
#define NALGOS (sizeof algos / sizeof algos[0])

static void assert_rel(double got, double want, const char *what)
{
    cr_assert(isfinite(got), "%s: got %.17g", what, got);
    cr_assert(fabs(got - want) <= 1e-12 * fabs(want), "%s: got %.17g, want %.17g", what, got, want);
}

static double t_of(const struct coll_algo *a, enum coll_op op, double bytes, int n, int per_node)
{
    struct coll_group g = {n, per_node};
    return a->time(op, bytes, &g, &NVL, &NET);
}

/* The textbook forms, written independently of collective.c. */
static double ring_ar(double bytes, int n, const struct coll_level *lv)
{
    return 2.0 * (n - 1) * lv->lat_s + 2.0 * (n - 1) / n * bytes / lv->bw_Bps;
}

static double ring_rs(double bytes, int n, const struct coll_level *lv)
{
    return (n - 1) * lv->lat_s + (double)(n - 1) / n * bytes / lv->bw_Bps;
}

/* A ring or tree across nodes with k of its GPUs in each: every GPU sends (k-1)/k of its ring
 * traffic over NVLink and 1/k through its own NIC, at once; the network's latency.  k = 8 on
 * the levels above: 7/8 per 100 GB/s is slower than 1/8 per 25 GB/s, so 800/7 GB/s
 * (114.2857 GB/s); k = 2: 1/2 per 25 GB/s is the slower, 50 GB/s. */
static struct coll_level spanning(int k)
{
    double intra = (k - 1.0) / (k * NVL.bw_Bps), net = 1.0 / (k * NET.bw_Bps);
    return (struct coll_level){1.0 / (intra > net ? intra : net), NET.lat_s};
}

Test(collective, ring_flat_closed_forms)
{
    static const int ns[] = {2, 3, 7, 8, 64, 1000, 4096};
    static const double sizes[] = {1.0, 4096.0, 3.3e6, 1e9, 7.5e10};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
        for (size_t j = 0; j < sizeof sizes / sizeof sizes[0]; j++) {
            int n = ns[i];
            double b = sizes[j];
            assert_rel(coll_ring_flat(COLL_ALL_REDUCE, b, n, &NET), ring_ar(b, n, &NET), "AR");
            assert_rel(coll_ring_flat(COLL_REDUCE_SCATTER, b, n, &NET), ring_rs(b, n, &NET), "RS");
            assert_rel(coll_ring_flat(COLL_ALL_GATHER, b, n, &NET), ring_rs(b, n, &NET), "AG");
            assert_rel(coll_ring_flat(COLL_ALL_TO_ALL, b, n, &NET), ring_rs(b, n, &NET),
                       "all-to-all = RS");
        }
}

/* n = 8 on NVLink, 1 GB: AR = 14 x 1us + 1.75 x 1e9 / 100e9 = 14e-6 + 17.5e-3;
 * RS = AG = 7e-6 + 8.75e-3. */
Test(collective, ring_worked_numbers)
{
    assert_rel(coll_ring_flat(COLL_ALL_REDUCE, 1e9, 8, &NVL), 0.017514, "AR n=8");
    assert_rel(coll_ring_flat(COLL_REDUCE_SCATTER, 1e9, 8, &NVL), 0.008757, "RS n=8");
    assert_rel(coll_ring_flat(COLL_ALL_GATHER, 1e9, 8, &NVL), 0.008757, "AG n=8");
    /* n = 2: one step each way, half the buffer: AR = 2 x 10us + 1e9 / 25e9 = 0.04002 */
    assert_rel(coll_ring_flat(COLL_ALL_REDUCE, 1e9, 2, &NET), 0.04002, "AR n=2");
    /* all-reduce = reduce-scatter + all-gather */
    assert_rel(coll_ring_flat(COLL_ALL_REDUCE, 5e8, 24, &NET),
               coll_ring_flat(COLL_REDUCE_SCATTER, 5e8, 24, &NET) +
                   coll_ring_flat(COLL_ALL_GATHER, 5e8, 24, &NET),
               "AR = RS + AG");
}

/* Nothing to do: one GPU, or an empty buffer, costs nothing in every algorithm and op (not
 * even latency). */
Test(collective, trivial_cases_are_free)
{
    for (size_t a = 0; a < NALGOS; a++)
        for (size_t o = 0; o < NOPS; o++) {
            cr_assert_eq(t_of(algos[a], all_ops[o], 1e9, 1, 1), 0.0, "%s n=1", algos[a]->name);
            cr_assert_eq(t_of(algos[a], all_ops[o], 0.0, 64, 8), 0.0, "%s bytes=0 spanning",
                         algos[a]->name);
            cr_assert_eq(t_of(algos[a], all_ops[o], 0.0, 8, 8), 0.0, "%s bytes=0 in node",
                         algos[a]->name);
            cr_assert_eq(coll_ring_flat(all_ops[o], 1e9, 1, &NET), 0.0);
            cr_assert_eq(coll_ring_flat(all_ops[o], 0.0, 16, &NET), 0.0);
            const char *name = NULL;
            cr_assert_eq(coll_best(all_ops[o], 0.0, &(struct coll_group){16, 8}, &NVL, &NET, &name),
                         0.0);
            cr_assert_not_null(name);
        }
}

/* A group inside one node runs on NVLink; one GPU per node runs the flat algorithms on the
 * network; k GPUs in each of several nodes share the ring out over their k NICs and NVLink
 * (spanning above) -- but an all-to-all has no ring: each GPU's cross-node share leaves by
 * its own NIC. */
Test(collective, level_choice)
{
    for (size_t o = 0; o < NOPS; o++) {
        enum coll_op op = all_ops[o];
        assert_rel(t_of(&coll_ring, op, 1e8, 8, 8), coll_ring_flat(op, 1e8, 8, &NVL),
                   "8 of 8 in a node: intra");
        assert_rel(t_of(&coll_ring, op, 1e8, 4, 4), coll_ring_flat(op, 1e8, 4, &NVL),
                   "4 in a node: intra");
        struct coll_level two_nodes = spanning(8);
        assert_rel(t_of(&coll_ring, op, 1e8, 16, 8),
                   coll_ring_flat(op, 1e8, 16, op == COLL_ALL_TO_ALL ? &NET : &two_nodes),
                   "two nodes");
        assert_rel(t_of(&coll_ring, op, 1e8, 8, 1), coll_ring_flat(op, 1e8, 8, &NET),
                   "one per node: inter");
    }
    /* the same call, different answers: NVLink is faster */
    cr_assert_lt(t_of(&coll_ring, COLL_ALL_REDUCE, 1e8, 8, 8),
                 t_of(&coll_ring, COLL_ALL_REDUCE, 1e8, 8, 1));
    /* tree too */
    assert_rel(t_of(&coll_tree, COLL_ALL_REDUCE, 1e8, 8, 8), 6 * 1e-6 + 2e8 / 100e9, "tree intra");
    assert_rel(t_of(&coll_tree, COLL_ALL_REDUCE, 1e8, 8, 2), 6 * 10e-6 + 2e8 / 50e9, "tree inter");
    assert_rel(spanning(8).bw_Bps, 800e9 / 7, "8 a node: NVLink-bound");
    assert_rel(spanning(2).bw_Bps, 50e9, "2 a node: network-bound");
}

/* Tree all-reduce: 2 ceil(log2 n) steps, 2 x bytes on the wire whatever n. */
Test(collective, tree_all_reduce)
{
    static const struct {
        int n, depth;
    } cases[] = {{2, 1}, {3, 2},     {4, 2},     {5, 3},    {8, 3},
                 {9, 4}, {1000, 10}, {1024, 10}, {1025, 11}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = cases[i].n;
        double want = 2.0 * cases[i].depth * NET.lat_s + 2.0 * 3e7 / NET.bw_Bps;
        assert_rel(t_of(&coll_tree, COLL_ALL_REDUCE, 3e7, n, 1), want, "tree AR");
    }
    /* n = 16 across nodes, 8 a node, 1 GB: 8 x 10us + 2e9 x 7 / 800e9 = 80e-6 + 0.0175 */
    assert_rel(t_of(&coll_tree, COLL_ALL_REDUCE, 1e9, 16, 8), 0.01758, "tree AR n=16");
}

/* NCCL has no tree reduce-scatter, all-gather or all-to-all: the ring runs instead. */
Test(collective, tree_falls_back_to_ring)
{
    static const int placements[][2] = {{8, 8}, {16, 8}, {64, 1}, {3, 3}};
    for (size_t p = 0; p < sizeof placements / sizeof placements[0]; p++)
        for (size_t o = 1; o < NOPS; o++) {
            int n = placements[p][0], k = placements[p][1];
            cr_assert_eq(t_of(&coll_tree, all_ops[o], 2.5e8, n, k),
                         t_of(&coll_ring, all_ops[o], 2.5e8, n, k), "op %zu n=%d per_node=%d", o, n,
                         k);
        }
}

/* Hierarchical over n = 32 = 4 nodes x 8 GPUs, 1 GB, levels NVL (100 GB/s, 1 us) and NET
 * (25 GB/s, 10 us).  The cross-node rings carry the per-GPU shard 1e9 / 8 = 1.25e8 B.
 *   RS(intra, 8, 1e9)     = 7 x 1e-6  + 7/8 x 1e9 / 100e9      = 7e-6  + 8.75e-3 = 0.008757
 *   AR(inter, 4, 1.25e8)  = 6 x 10e-6 + 6/4 x 1.25e8 / 25e9    = 60e-6 + 7.5e-3  = 0.00756
 *   AG(intra, 8, 1e9)     = as RS                                                = 0.008757
 *   all-reduce            = 0.008757 + 0.00756 + 0.008757                        = 0.025074
 *   RS(inter, 4, 1.25e8)  = 3 x 10e-6 + 3/4 x 1.25e8 / 25e9    = 30e-6 + 3.75e-3 = 0.00378
 *   reduce-scatter        = 0.008757 + 0.00378                                   = 0.012537
 *   all-gather            = AG(inter, 4, 1.25e8) + AG(intra)                     = 0.012537
 *   all-to-all: inside the node 7/32 of the buffer, 7 steps: 7e-6 + 2.1875e-3 = 0.0021945;
 *               across nodes 24/32 of it, 3 steps: 30e-6 + 0.03 = 0.03003; in parallel, the
 *               slower one                                                       = 0.03003 */
Test(collective, hierarchical_worked_numbers)
{
    assert_rel(t_of(&coll_hierarchical, COLL_ALL_REDUCE, 1e9, 32, 8), 0.025074, "hier AR");
    assert_rel(t_of(&coll_hierarchical, COLL_ALL_REDUCE, 1e9, 32, 8),
               ring_rs(1e9, 8, &NVL) + ring_ar(1e9 / 8, 4, &NET) + ring_rs(1e9, 8, &NVL),
               "hier AR = RS(intra) + AR(inter, bytes/k) + AG(intra)");
    assert_rel(t_of(&coll_hierarchical, COLL_REDUCE_SCATTER, 1e9, 32, 8), 0.012537, "hier RS");
    assert_rel(t_of(&coll_hierarchical, COLL_ALL_GATHER, 1e9, 32, 8), 0.012537, "hier AG");
    assert_rel(t_of(&coll_hierarchical, COLL_ALL_TO_ALL, 1e9, 32, 8), 0.03003, "hier A2A");
    /* the same group flat: ring AR = 62 x 10us + 62/32 x 1e9 x 7 / 800e9 = 620e-6 + 0.016953125 */
    assert_rel(t_of(&coll_ring, COLL_ALL_REDUCE, 1e9, 32, 8), 0.017573125, "ring AR n=32");
    /* 2 nodes x 4: RS(intra,4) = 3e-6 + 0.75 x 1e9/100e9 = 0.007503;
     * AR(inter, 2, 2.5e8) = 2 x 10e-6 + 2.5e8 / 25e9 = 0.01002; total 2 x 0.007503 + 0.01002 */
    assert_rel(t_of(&coll_hierarchical, COLL_ALL_REDUCE, 1e9, 8, 4), 0.025026, "hier AR 2x4");
}

/* With one node, or one GPU per node, there is only one level: the flat ring. */
Test(collective, hierarchical_degenerates_to_ring)
{
    static const int placements[][2] = {{8, 8}, {4, 4}, {16, 1}, {2, 1}, {72, 72}};
    for (size_t p = 0; p < sizeof placements / sizeof placements[0]; p++)
        for (size_t o = 0; o < NOPS; o++) {
            int n = placements[p][0], k = placements[p][1];
            cr_assert_eq(t_of(&coll_hierarchical, all_ops[o], 6e8, n, k),
                         t_of(&coll_ring, all_ops[o], 6e8, n, k), "op %zu n=%d per_node=%d", o, n,
                         k);
        }
}

/* coll_best returns the minimum over the registry and names the algorithm that reached it. */
Test(collective, best_is_the_minimum)
{
    static const int placements[][2] = {{2, 2}, {8, 8}, {16, 8}, {64, 8}, {1024, 8}, {32, 1}};
    static const double sizes[] = {8.0, 1024.0, 65536.0, 1e6, 1e8, 1e10};
    for (size_t p = 0; p < sizeof placements / sizeof placements[0]; p++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (size_t o = 0; o < NOPS; o++) {
                struct coll_group g = {placements[p][0], placements[p][1]};
                double min = INFINITY;
                for (size_t a = 0; a < NALGOS; a++) {
                    double t = algos[a]->time(all_ops[o], sizes[s], &g, &NVL, &NET);
                    min = t < min ? t : min;
                }
                const char *name = NULL;
                double best = coll_best(all_ops[o], sizes[s], &g, &NVL, &NET, &name);
                cr_assert_eq(best, min, "n=%d k=%d bytes=%g op=%zu", g.n, g.per_node, sizes[s], o);
                cr_assert_not_null(name);
                const struct coll_algo *a = coll_find(name);
                cr_assert_not_null(a, "chosen '%s' is registered", name);
                cr_assert_eq(a->time(all_ops[o], sizes[s], &g, &NVL, &NET), best, "%s", name);
                cr_assert_eq(coll_best(all_ops[o], sizes[s], &g, &NVL, &NET, NULL), best);
            }
}

/* Small messages at large n are latency-bound: the tree's 2 log2(n) steps beat the ring's
 * 2(n-1) and the hierarchical cross-node ring's 2(nodes-1).  1 KiB over 1024 GPUs (128 nodes):
 *   tree = 20 x 10us + 2048 x 7 / 800e9  ~ 2.0e-4 s
 *   hier ~ 2 x 7 x 1us + 254 x 10us      ~ 2.55e-3 s
 *   ring ~ 2046 x 10us                   ~ 2.05e-2 s */
Test(collective, best_small_messages_tree)
{
    const char *name = NULL;
    struct coll_group g = {1024, 8};
    double t = coll_best(COLL_ALL_REDUCE, 1024.0, &g, &NVL, &NET, &name);
    cr_assert_str_eq(name, "tree");
    assert_rel(t, 20 * 10e-6 + 2048.0 * 7 / 800e9, "tree AR 1 KiB n=1024");
}

/* Large messages are bandwidth-bound: across nodes NCCL's multi-NIC ring (0.017573 s) beats
 * the two-level form (0.025074 s) and the tree (0.01758 s, see above); inside one node the
 * ring's 2(n-1)/n < 2 beats the tree (hierarchical there is the ring itself; a tie keeps the
 * first registered, the ring).  The two-level form still wins latency-bound reduce-scatters. */
Test(collective, best_large_messages_ring_or_hierarchical)
{
    const char *name = NULL;
    struct coll_group span = {32, 8}, node = {8, 8}, rails = {32, 1};
    assert_rel(coll_best(COLL_ALL_REDUCE, 1e9, &span, &NVL, &NET, &name), 0.017573125, "best");
    cr_assert_str_eq(name, "ring");
    assert_rel(coll_best(COLL_ALL_REDUCE, 1e9, &node, &NVL, &NET, &name), 0.017514, "best");
    cr_assert_str_eq(name, "ring");
    coll_best(COLL_ALL_REDUCE, 1e9, &rails, &NVL, &NET, &name);
    cr_assert_str_eq(name, "ring");
    /* reduce-scatter has no tree: 1 MB over 128 nodes of 8, latency-bound, the two-level form
     * crosses the network in 127 steps where the ring takes 1023 */
    struct coll_group big = {1024, 8};
    coll_best(COLL_REDUCE_SCATTER, 1e6, &big, &NVL, &NET, &name);
    cr_assert_str_eq(name, "hierarchical");
    coll_best(COLL_REDUCE_SCATTER, 1e9, &span, &NVL, &NET, &name);
    cr_assert_str_eq(name, "ring");
}

/* Even when no algorithm gives a finite time (a zero-bandwidth level), the caller gets a name
 * rather than whatever its pointer held. */
Test(collective, best_always_names_one)
{
    static const struct coll_level dead = {0.0, 1e-6};
    struct coll_group g = {16, 8};
    const char *name = NULL;
    double t = coll_best(COLL_ALL_REDUCE, 1e6, &g, &dead, &dead, &name);
    cr_assert(isinf(t));
    cr_assert_not_null(name);
    cr_assert_not_null(coll_find(name));
}

Test(collective, find_by_name)
{
    cr_assert_eq(coll_find("ring"), &coll_ring);
    cr_assert_eq(coll_find("tree"), &coll_tree);
    cr_assert_eq(coll_find("hierarchical"), &coll_hierarchical);
    cr_assert_str_eq(coll_ring.name, "ring");
    cr_assert_str_eq(coll_tree.name, "tree");
    cr_assert_str_eq(coll_hierarchical.name, "hierarchical");
    cr_assert_null(coll_find("Ring"));
    cr_assert_null(coll_find("rin"));
    cr_assert_null(coll_find("ring "));
    cr_assert_null(coll_find(""));
    cr_assert_null(coll_find("nvls"));
}

/* ---- NCCL's tuner (nccl_model.h) ------------------------------------------------------------ */

/* The levels as dgx-h100.xml gives them: NVLink 450 x 0.8 = 360 GB/s and 3.4 us a step, the
 * network 50 x 0.9 = 45 GB/s and 14 us a step, 8.4 us a collective (Simple's).  NCCL's other
 * protocols in its proportions: LL ring 6.6 us base, 0.6 an NVLink step, 2.7 a network step,
 * half the bandwidth; LL tree 6.8, 0.6 and 5.0, 1/3.8 of it; LL128 ring 14, 1.9 and 4.0, 0.92
 * of it. */
static const struct nccl_levels DGX = {{360e9, 3.4e-6}, {45e9, 14e-6}, 8.4e-6};

static double nccl_of(enum coll_op op, double bytes, int n, int per_node, enum nccl_proto_id *p)
{
    struct coll_group g = {n, per_node};
    return nccl_time(op, bytes, &g, &DGX, p);
}

/* An fp32 amax all-reduced over a node's 8 GPUs runs LL's ring: 6.6 + 14 steps x 0.6 us =
 * 15.0 us, plus 2 x 7/8 x 4 bytes at 180 GB/s.  Over 64 such nodes LL's tree wins: 6.8 +
 * 2 x (7 x 0.6 + log2(64) x 5.0) = 75.2 us, plus 2 x 4 bytes at 360 / 3.8 GB/s (the ring's
 * 1,022 steps, 126 of them across nodes, would take 884 us). */
Test(nccl, a_few_bytes_run_ll_at_its_latency)
{
    enum nccl_proto_id p = NCCL_SIMPLE;
    assert_rel(nccl_of(COLL_ALL_REDUCE, 4.0, 8, 8, &p), 15.0e-6 + 2.0 * 7.0 / 8.0 * 4.0 / 180e9,
               "8 GPUs");
    cr_assert_eq(p, NCCL_LL, "%s", nccl_proto_name(p));
    assert_rel(nccl_of(COLL_ALL_REDUCE, 4.0, 512, 8, &p), 75.2e-6 + 8.0 * 3.8 / 360e9,
               "64 nodes");
    cr_assert_eq(p, NCCL_LL, "%s", nccl_proto_name(p));
}

/* A large buffer runs at bandwidth: 1 GB reduce-scattered over a node's 8 GPUs on Simple,
 * 8.4 + 7 x 3.4 us and 7/8 GB at 360 GB/s (LL128 would take 27.3 us and 0.92 of the rate).  16
 * MB over two nodes of 8 on LL128: 14 + 14 x 1.9 + 1 x 4.0 us and 15/16 x 16 MB at 0.92 x 360
 * GB/s, 89.9 us, where Simple takes 8.4 + 14 x 3.4 + 14 us and the rest at 360 GB/s, 111.7 us:
 * only the step that enters the next node pays the network's latency. */
Test(nccl, large_buffers_run_at_bandwidth_and_pay_the_network_once_a_node)
{
    enum nccl_proto_id p = NCCL_LL;
    assert_rel(nccl_of(COLL_REDUCE_SCATTER, 1e9, 8, 8, &p), 32.2e-6 + 7.0 / 8.0 * 1e9 / 360e9,
               "1 GB in a node");
    cr_assert_eq(p, NCCL_SIMPLE, "%s", nccl_proto_name(p));
    assert_rel(nccl_of(COLL_REDUCE_SCATTER, 16e6, 16, 8, &p),
               44.6e-6 + 15.0 / 16.0 * 16e6 / (0.92 * 360e9), "16 MB over two nodes");
    cr_assert_eq(p, NCCL_LL128, "%s", nccl_proto_name(p));
}

/* With one GPU of the group in each node every step of the ring crosses the network, each at
 * the tree's network latency (NCCL: "with ppn=1 latencies are fully exposed"): 16 MB
 * all-gathered over 4 nodes on Simple, 8.4 + 3 x 14 us and 3/4 of it at 45 GB/s; 1 MB on LL,
 * 6.6 + 3 x 5.0 us and 3/4 MB at half the rate (Simple would take 67.1 us). */
Test(nccl, one_gpu_a_node_pays_the_network_at_every_step)
{
    enum nccl_proto_id p = NCCL_LL;
    assert_rel(nccl_of(COLL_ALL_GATHER, 16e6, 4, 1, &p), 50.4e-6 + 12e6 / 45e9, "Simple");
    cr_assert_eq(p, NCCL_SIMPLE, "%s", nccl_proto_name(p));
    assert_rel(nccl_of(COLL_ALL_GATHER, 1e6, 4, 1, &p), 21.6e-6 + 0.75e6 / 22.5e9, "LL");
    cr_assert_eq(p, NCCL_LL, "%s", nccl_proto_name(p));
}

/* Without a base latency, on latency-free links, Simple's ring is the textbook ring at the
 * level's bandwidth, and nothing, and no protocol, costs anything for an empty buffer. */
Test(nccl, without_latencies_simple_is_the_plain_ring)
{
    static const struct nccl_levels bare = {{100e9, 0.0}, {25e9, 0.0}, 0.0};
    struct coll_group g = {8, 8};
    static const struct coll_level nvl0 = {100e9, 0.0};
    enum nccl_proto_id p = NCCL_LL;
    for (size_t o = 0; o < NOPS; o++) {
        if (all_ops[o] == COLL_ALL_TO_ALL)
            continue; /* not a ring collective of NCCL's tuner */
        assert_rel(nccl_time(all_ops[o], 3e8, &g, &bare, &p),
                   coll_ring_flat(all_ops[o], 3e8, 8, &nvl0), "plain ring");
        cr_assert_eq(p, NCCL_SIMPLE);
        cr_assert_eq(nccl_time(all_ops[o], 0.0, &g, &DGX, NULL), 0.0);
    }
    cr_assert_str_eq(nccl_proto_name(NCCL_LL128), "LL128");
}
