/* collective: closed-form times of the collectives a training step uses.
 *
 * A collective runs over a group of n GPUs.  The cost of one algorithm is the classic
 * alpha-beta form: steps x latency + bytes moved per GPU / bandwidth.  Algorithms are a const
 * table with a name (ring, tree, hierarchical), looked up by name; `bytes` is always the size of
 * the full buffer on one GPU (the all-reduced tensor, the gathered result, or the local input
 * of an all-to-all).  Sources: Thakur, Rabenseifner and Gropp, "Optimization of collective
 * communication operations in MPICH" (2005) for ring and tree; NCCL's performance notes
 * (nccl-tests doc/PERFORMANCE.md: bus bandwidth = algorithm bandwidth x 2(n-1)/n for
 * all-reduce, (n-1)/n for reduce-scatter / all-gather). */
#ifndef STEPSIM_COLLECTIVE_H
#define STEPSIM_COLLECTIVE_H

enum coll_op {
    COLL_ALL_REDUCE,
    COLL_REDUCE_SCATTER,
    COLL_ALL_GATHER,
    COLL_ALL_TO_ALL,
};

/* One level of the machine as a collective sees it. */
struct coll_level {
    double bw_Bps; /* achievable per-GPU, per-direction bandwidth (efficiency applied) */
    double lat_s;  /* per-step latency */
};

/* Where a group's members sit: n in all, `per_node` of them inside each NVLink domain. */
struct coll_group {
    int n;
    int per_node; /* 1 <= per_node <= n, divides n */
};

struct coll_algo {
    const char *name;
    /* Time of `op` on `bytes` over the group; intra = NVLink level, inter = network level. */
    double (*time)(enum coll_op op, double bytes, const struct coll_group *g,
                   const struct coll_level *intra, const struct coll_level *inter);
};

extern const struct coll_algo coll_ring;
extern const struct coll_algo coll_tree;
extern const struct coll_algo coll_hierarchical;

const struct coll_algo *coll_find(const char *name);

/* Single-level ring time of `op` among n GPUs on one level (exposed for tests and callers
 * that know the level). */
double coll_ring_flat(enum coll_op op, double bytes, int n, const struct coll_level *lv);

/* The level a flat ring or tree over g sees: NVLink inside one node; across nodes the network's
 * latency and, with k of the group's GPUs in a node, k NICs' bandwidth while NVLink keeps up. */
struct coll_level coll_span_level(const struct coll_group *g, const struct coll_level *intra,
                                  const struct coll_level *inter);

/* The cheapest of the registered algorithms for this op and placement; *chosen gets its name
 * (may be NULL).  What NCCL's tuner does, with the same closed forms. */
double coll_best(enum coll_op op, double bytes, const struct coll_group *g,
                 const struct coll_level *intra, const struct coll_level *inter,
                 const char **chosen);

#endif
