/* collective: ring, tree and hierarchical closed forms (see collective.h). */
#include "collective.h"

#include <math.h>
#include <string.h>

/* Fraction of the buffer each GPU sends per ring pass, and the number of passes. */
static double ring_factor(enum coll_op op, int n)
{
    double f = (double)(n - 1) / (double)n;
    return op == COLL_ALL_REDUCE ? 2.0 * f : f;
}

static int ring_steps(enum coll_op op, int n)
{
    return op == COLL_ALL_REDUCE ? 2 * (n - 1) : n - 1;
}

double coll_ring_flat(enum coll_op op, double bytes, int n, const struct coll_level *lv)
{
    if (n <= 1 || bytes <= 0)
        return 0.0;
    return ring_steps(op, n) * lv->lat_s + ring_factor(op, n) * bytes / lv->bw_Bps;
}

/* The level a flat ring or tree sees: NVLink inside a node; across nodes, the network's
 * latency and a bandwidth shared out over the node.  NCCL runs a collective on several
 * channels, each a ring (or tree) that enters and leaves every node once, on a different
 * NIC ("Ring Allreduce requires data to go through each GPU and enter/exit the node once",
 * S. Jeaugey, NCCL, github.com/NVIDIA/nccl/issues/687): with k GPUs of the group in a node,
 * each GPU sends 1/k of its ring traffic out through its own NIC and (k-1)/k of it over
 * NVLink, both at once.  So the group runs at k times a GPU's network bandwidth while NVLink
 * keeps up (its 8-NIC DGX A100 all-reduce: about 8 x 20 GB/s per NIC, capped by NVLink, same
 * thread's issue #320 and issue #1168: bus bandwidth doubling from 4 to 8 GPUs per node). */
struct coll_level coll_span_level(const struct coll_group *g, const struct coll_level *intra,
                                  const struct coll_level *inter)
{
    if (g->per_node >= g->n)
        return *intra;
    double k = g->per_node;
    double per_byte_intra = (k - 1.0) / (k * intra->bw_Bps);
    double per_byte_net = 1.0 / (k * inter->bw_Bps);
    double slower = per_byte_intra > per_byte_net ? per_byte_intra : per_byte_net;
    return (struct coll_level){.bw_Bps = 1.0 / slower, .lat_s = inter->lat_s};
}

static double ring_time(enum coll_op op, double bytes, const struct coll_group *g,
                        const struct coll_level *intra, const struct coll_level *inter)
{
    /* no ring: each GPU's cross-node share leaves by its own NIC ("Alltoall cannot aggregate
     * the bandwidth of multiple NICs", S. Jeaugey, github.com/NVIDIA/nccl-tests/issues/267) */
    if (op == COLL_ALL_TO_ALL)
        return coll_ring_flat(op, bytes, g->n, g->per_node >= g->n ? intra : inter);
    struct coll_level lv = coll_span_level(g, intra, inter);
    return coll_ring_flat(op, bytes, g->n, &lv);
}

/* Double binary tree (NCCL): all-reduce moves the buffer up and down the tree, pipelined in
 * chunks, so bandwidth cost ~ 2 x bytes / bw regardless of n, and latency 2 log2(n) steps.
 * Other ops fall back to the ring (NCCL has no tree reduce-scatter / all-gather). */
static double tree_time(enum coll_op op, double bytes, const struct coll_group *g,
                        const struct coll_level *intra, const struct coll_level *inter)
{
    if (g->n <= 1 || bytes <= 0)
        return 0.0;
    if (op != COLL_ALL_REDUCE)
        return ring_time(op, bytes, g, intra, inter);
    struct coll_level lv = coll_span_level(g, intra, inter);
    return 2.0 * ceil(log2((double)g->n)) * lv.lat_s + 2.0 * bytes / lv.bw_Bps;
}

/* Two levels: inside each node over NVLink, across nodes over the network between the GPUs
 * that hold the same shard (one per node per shard, on parallel rails).
 *   all-reduce     = RS(intra) + AR(inter, bytes/k) + AG(intra)
 *   reduce-scatter = RS(intra) + RS(inter, bytes/k)
 *   all-gather     = AG(inter, bytes/k) + AG(intra)
 *   all-to-all     = intra exchange of the node-local share + inter exchange of the rest */
static double hier_time(enum coll_op op, double bytes, const struct coll_group *g,
                        const struct coll_level *intra, const struct coll_level *inter)
{
    int k = g->per_node, nodes = g->n / g->per_node;
    if (g->n <= 1 || bytes <= 0)
        return 0.0;
    if (k <= 1 || nodes <= 1)
        return ring_time(op, bytes, g, intra, inter);
    double shard = bytes / k;
    switch (op) {
    case COLL_ALL_REDUCE:
        return coll_ring_flat(COLL_REDUCE_SCATTER, bytes, k, intra) +
               coll_ring_flat(COLL_ALL_REDUCE, shard, nodes, inter) +
               coll_ring_flat(COLL_ALL_GATHER, bytes, k, intra);
    case COLL_REDUCE_SCATTER:
        return coll_ring_flat(COLL_REDUCE_SCATTER, bytes, k, intra) +
               coll_ring_flat(COLL_REDUCE_SCATTER, shard, nodes, inter);
    case COLL_ALL_GATHER:
        return coll_ring_flat(COLL_ALL_GATHER, shard, nodes, inter) +
               coll_ring_flat(COLL_ALL_GATHER, bytes, k, intra);
    case COLL_ALL_TO_ALL: {
        /* Each GPU keeps 1/n, sends (k-1)/n of its buffer inside the node and (n-k)/n across;
         * the two proceed in parallel on different links. */
        double t_in = (k - 1) * intra->lat_s + bytes * (double)(k - 1) / g->n / intra->bw_Bps;
        double t_out =
            (nodes - 1) * inter->lat_s + bytes * (double)(g->n - k) / g->n / inter->bw_Bps;
        return t_in > t_out ? t_in : t_out;
    }
    }
    return 0.0;
}

const struct coll_algo coll_ring = {"ring", ring_time};
const struct coll_algo coll_tree = {"tree", tree_time};
const struct coll_algo coll_hierarchical = {"hierarchical", hier_time};

static const struct coll_algo *const registry[] = {&coll_ring, &coll_tree, &coll_hierarchical};
#define REGISTRY_LEN (sizeof registry / sizeof registry[0])

const struct coll_algo *coll_find(const char *name)
{
    for (size_t i = 0; i < REGISTRY_LEN; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

double coll_best(enum coll_op op, double bytes, const struct coll_group *g,
                 const struct coll_level *intra, const struct coll_level *inter,
                 const char **chosen)
{
    /* *chosen always names an algorithm, even when no time is below INFINITY (a zero
     * bandwidth): then the first registered.  Ties keep the earlier entry. */
    double best = INFINITY;
    const char *name = registry[0]->name;
    for (size_t i = 0; i < REGISTRY_LEN; i++) {
        double t = registry[i]->time(op, bytes, g, intra, inter);
        if (t < best) {
            best = t;
            name = registry[i]->name;
        }
    }
    if (chosen)
        *chosen = name;
    return best;
}
