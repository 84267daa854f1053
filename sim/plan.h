/* plan: `stepsim plan` -- the best valid configurations of a model on a GPU budget.
 *
 * Enumerates parallel layouts (tp, pp with even or uneven end stages, vp, cp, ep/etp,
 * micro-batch, schedule, recompute, distributed optimizer) for a fixed GPU count and global
 * batch, keeps the ones the cost model's rules accept and whose memory fits, and simulates
 * them in order of a sound lower bound on the step time, stopping once the K-th best
 * simulated step beats the next bound (branch and bound).  Results never depend on -j. */
#ifndef STEPSIM_PLAN_H
#define STEPSIM_PLAN_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "scenario.h"
#include "simtime.h"

/* One candidate layout.  dp and the micro-batch count follow from gpus and global-batch. */
struct plan_config {
    int tp, pp, vp, cp, ep, etp;
    int micro_batch;
    int edge_layers; /* first- and last-stage layers; 0 = an even split */
    int recompute;   /* enum scn_recompute */
    int dist_opt;
    int family;      /* enum plan_family */
};

/* Which schedule a layout runs: Megatron's (1F1B for one chunk per rank, interleaved for more),
 * its zero-bubble counterpart (ZB-H1, or ZB-V for two chunks), DualPipe (two chunks, even pp)
 * or DualPipeV (two chunks). */
enum plan_family { PLAN_MEGATRON, PLAN_ZERO_BUBBLE, PLAN_DUALPIPE, PLAN_DUALPIPE_V };
#define PLAN_FAMILIES 4

enum plan_state {
    PLAN_SIMULATED, /* simulated; figures below are the report's */
    PLAN_OOM,       /* memory (exact, from the schedule's order) exceeds HBM: not simulated */
    PLAN_PRUNED,    /* its step-time lower bound exceeds the K-th best simulated step */
};

struct plan_entry {
    struct plan_config cfg;
    int dp, microbatches;
    enum plan_state state;
    simtime_t bound;  /* lower bound on the step time */
    double mem_bytes; /* peak memory per GPU over pipeline ranks (predicted before simulating) */
    double hbm_bytes;
    /* PLAN_SIMULATED only: */
    simtime_t step;
    double step_s, tokens_per_s, tokens_per_s_per_gpu, mfu;
    double bubble, comm, recompute_share; /* shares of the step time */
};

struct plan_opts {
    int gpus;       /* fixed world size */
    int top;        /* K best to keep */
    int jobs;       /* threads; <= 0: online CPUs */
    int exhaustive; /* simulate every config that fits (no bound pruning) */
};

struct plan_result {
    struct plan_entry *entries; /* [n] rule-valid configs in enumeration order; owned */
    size_t n;
    size_t *top; /* [ntop] indices into entries, best first (throughput, then order) */
    size_t ntop;
    size_t enumerated, valid, oom, simulated, pruned;
    size_t orders; /* schedule orders built to find the rule-valid configs' peak memory */
    double wall_s;
};

/* Plan for `base` (a modelled scenario with global-batch and seq).  Errors: SIM_EINPUT for a
 * scenario that cannot be planned or a budget no configuration fits; SIM_EFAIL otherwise. */
enum sim_status plan_run(const struct scenario *base, const struct plan_opts *opts,
                         struct plan_result *res, struct sim_error *err);
void plan_result_release(struct plan_result *res);

/* The scenario of one config: `base` with the layout's keys set (as --set values). */
enum sim_status plan_config_apply(const struct scenario *base, int gpus,
                                  const struct plan_config *cfg, struct scenario *out,
                                  struct sim_error *err);

/* The plan command: argv[0] is "stepsim", argv[1] "plan".  Returns the exit status. */
int plan_main(int argc, char **argv, FILE *out, FILE *errout);

#endif
