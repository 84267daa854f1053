/* plan: `stepsim plan` -- the best valid configurations of a model on a GPU budget.
 *
 * Enumerates parallel layouts (tp, pp with even or uneven end stages, vp, cp, ep/etp,
 * micro-batch, schedule) and, for each, the memory-saving knobs its framework offers (ZeRO
 * stage / FSDP, selective or full recompute, optimizer and activation offload) for a fixed GPU
 * count and global batch; keeps the configs the cost model's rules accept and whose memory
 * fits in the usable HBM (HBM less the reserve), and simulates them in order of a sound lower
 * bound on the step time, only those that can still change the list (branch and bound: a
 * layout slower by bound than the K-th best cannot be listed, and one whose simplest config
 * within 1% of its fastest is known needs no other).  Among configs within 1% of each other
 * the simpler is listed first (plan_simpler).  Results never depend on -j. */
#ifndef STEPSIM_PLAN_H
#define STEPSIM_PLAN_H

#include <stddef.h>
#include <stdio.h>

#include "columns.h"
#include "error.h"
#include "framework.h"
#include "scenario.h"
#include "schedule.h"
#include "simtime.h"

/* Offload of a config: the whole share of each (bits). */
enum plan_offload { PLAN_OFFLOAD_OPTIMIZER = 1, PLAN_OFFLOAD_ACTIVATIONS = 2 };

/* One candidate config.  dp and the micro-batch count follow from gpus and global-batch. */
struct plan_config {
    /* the layout */
    int tp, pp, vp, cp, ep, etp;
    int micro_batch;
    int first_layers, last_layers; /* the first and last stages' layers; 0, 0 = an even split */
    /* a model of dsa_layers layers sharing its DSA top-k every dsa_freq layers from dsa_offset:
     * the stages laid out in whole groups (pplayout_grouped), dsa_mtp MTP modules with the
     * loss; 0 = not */
    int dsa_freq, dsa_offset, dsa_mtp, dsa_layers;
    const struct sched_type *schedule;
    /* the MoE token dispatcher, as moe-dispatcher's enum scn_moe_dispatcher + 1; 0: the
       scenario's (a dense model, ep 1, or one --set fixes) */
    int dispatcher;
    /* the memory knobs */
    int zero;              /* ZeRO stage 0-3 (1 = Megatron's distributed optimizer) */
    int keep_gathered;     /* ZeRO-3 keeps parameters gathered from forward to backward
                              (reshard-after-forward=false; FSDP's shard-grad-op) */
    int recompute;         /* enum scn_recompute */
    int recompute_modules; /* enum scn_recompute_module bits, with selective recompute */
    int offload;           /* enum plan_offload bits */
};

enum plan_state {
    PLAN_SIMULATED, /* simulated; its figures are in plan_result.rows */
    PLAN_OOM,       /* memory (exact, from the schedule's order; or, not built, its memory
                       floor) exceeds the usable HBM */
    PLAN_PRUNED,    /* not simulated: its step-time lower bound (and its layout's other
                       steps) showed it cannot change the list (plan.c) */
};

/* The keys that apply to a flex dispatcher alone (deepep-sms, moe-dispatch-dtype): a config
 * choosing another dispatcher drops them from its scenario where given, which
 * plan_config_drops_flex says from the config alone -- what --out needs per row, without
 * building each row's scenario as plan_config_dropped does. */
enum { PLAN_NFLEX_KEYS = 2 };
extern const enum scn_key plan_flex_keys[PLAN_NFLEX_KEYS];
int plan_config_drops_flex(const struct plan_config *c);

struct plan_entry {
    struct plan_config cfg;
    int layout;  /* index of its layout in plan_result.layouts */
    int built;   /* 1: its costs were derived (exact memory and bound); 0: not (the bound is
                    the search's bound on it, the memory unknown); -1: it broke a rule */
    int dp, microbatches;
    enum plan_state state;
    simtime_t bound;  /* lower bound on the step time: the largest the search had (its own
                         when built, the key of the search item holding it) */
    /* When built: the bound with what configs differing only in offload could shrink taken
     * away (the optimizer step, when the optimizer may be offloaded), and with what configs
     * differing in sharding could shrink taken away too (the parameter all-gather). */
    simtime_t bound_offload, bound_sharding;
    double mem_bytes; /* peak memory per GPU over pipeline ranks (predicted before simulating);
                         NaN when not built */
    double mem_floor; /* when built: the least any config differing only in offload can need */
    double hbm_bytes; /* usable HBM per GPU */
    double host_bytes; /* when built: the most a pipeline rank offloads to the host, per GPU */
    int host_oom;      /* when built: some rank offloads more than the host's memory holds */
    int row;          /* PLAN_SIMULATED: its index in plan_result.rows; else -1 */
    simtime_t step;   /* PLAN_SIMULATED: the simulated step */
};

/* The configs that share a layout and differ only in their memory knobs, enumerated
 * recompute-major: config (r, s, o) -- recompute option r, sharding option s, offload option
 * o -- is entry first + (r * nshard + s) * noffload + o. */
struct plan_layout {
    size_t first, n;  /* entries [first, first + n) */
    int nrecompute, nshard, noffload;
    int zero1;        /* the sharding option that is ZeRO-1, or -1 (the framework has none) */
    int offload_opt, offload_act; /* some offload option moves the optimizer / activations */
    int valid;        /* the layout passes the rules (checked once, on its fastest config) */
    simtime_t bound;  /* lower bound on the step of every config of the layout */
    int *peak;        /* [2 pp] in-flight activations per rank, then its pair peaks (the
                         schedule's, so every config's; plan_bound_peak_inflight); owned */
    int **front;      /* [pp] per rank, the in-flight count vectors its byte peak falls at
                         (plan_bound_rank_frontier) where its chunks keep different bytes,
                         else NULL; owned */
    int pp;           /* ranks of `peak` and `front` */
};

#define PLAN_MAX_DISPATCHERS 4
#define PLAN_ALL_DISPATCHERS (-1)
#define PLAN_MAX_GPUS (1 << 24) /* the largest budget (the scenario's gpus key allows no more) */

struct plan_opts {
    int gpus;       /* fixed world size, 1 to PLAN_MAX_GPUS */
    int top;        /* K best to keep */
    int jobs;       /* threads; <= 0: online CPUs */
    int exhaustive; /* simulate every config that fits (no bound pruning) */
    /* Schedules to consider: NULL-terminated, or all NULL for the framework's set. */
    const struct sched_type *schedules[FW_MAX_SCHEDULES];
    /* MoE dispatchers to consider where experts are spread (--dispatchers): moe-dispatcher + 1
     * each, 0-terminated; PLAN_ALL_DISPATCHERS first: alltoall, allgather and a flex backend
     * the hardware runs; all 0: the scenario's alone */
    int dispatchers[PLAN_MAX_DISPATCHERS + 1];
};

struct plan_result {
    struct plan_entry *entries; /* [n] the configs of rule-valid layouts in enumeration order
                                   (built = -1: the config itself broke a rule); owned */
    size_t n;
    struct plan_layout *layouts; /* [nlayouts]; owned */
    size_t nlayouts;
    struct col_row *rows; /* [nrows] figures of the simulated entries; owned */
    size_t nrows;
    size_t *top; /* [ntop] indices into entries, best first: one config per layout, within
                    1% simpler first (plan.c, "The list") */
    size_t ntop;
    size_t *nearest; /* [nnearest] when nothing fits: the configs nearest to fitting, one
                        per layout */
    size_t nnearest;
    const struct fw_type *framework; /* whose offers were explored */
    int base_offload_modules;        /* the scenario's offload-modules, which a config that
                                        does not offload by module keeps */
    char base_grad_reduce_op[24];    /* the scenario's grad-reduce-op, which ZeRO-1 configs keep,
                                        and its full-recompute method and layers, which full
                                        recompute keeps; "" where not given */
    char base_recompute_method[16], base_recompute_num_layers[16];
    int base_no_sp; /* the scenario turns sequence parallelism off (sp="false" given) */
    char base_split_backward[8];   /* the scenario's split-backward, which the schedules that
                                      do not split it themselves keep; "" where not given */
    char base_hierarchical_cp[16]; /* the scenario's hierarchical-cp, unless the planned
                                      cp-comm-type dropped it; "" where not given */
    char base_moe_dispatcher[16];  /* the scenario's moe-dispatcher, which configs that do not
                                      choose one keep; "" where not given */
    /* the scenario's plan_flex_keys, which configs keep beside a flex dispatcher and drop
     * beside another; "" where not given */
    char base_flex[PLAN_NFLEX_KEYS][16];
    int moe; /* the model has experts */
    /* the dispatchers its layouts with ep > 1 try (plan_config.dispatcher values); none: the
     * scenario's */
    int dispatchers[PLAN_MAX_DISPATCHERS], ndispatchers;
    int framework_inferred;          /* `auto`: resolved from the scenario */
    int cp_comm;                     /* cp-comm-type of the configs with cp > 1 (the
                                        scenario's, or the first the framework offers);
                                        -1: the framework offers no context parallelism */
    const struct sched_type *schedules[FW_MAX_SCHEDULES]; /* considered, NULL-terminated */
    double hbm_bytes, hbm_usable_bytes; /* per GPU, the scenario's hw.* knobs applied; usable:
                                           less the fixed reserve, before NCCL's buffers */
    double host_mem_bytes; /* one GPU's share of the host's memory, what offload may fill
                              (configs past it are out of memory); 0 = not given */
    double nccl_buffers_bytes; /* per communicator a layout's rank uses (its entries' usable
                                  HBM, plan_entry.hbm_bytes, is less by them) */
    char model[64], hardware[64];       /* the names of the files planned for (after --set) */
    int model_max_seq; /* the model's max-seq when the scenario's seq is longer (a warning,
                          as run's), else 0 */
    size_t enumerated, valid, oom, simulated, pruned;
    size_t built; /* cost-model builds in the search (phase 3; one more per layout before) */
    size_t orders; /* schedule orders built to find the layouts' peak in-flight activations
                      (one per group of layouts running the same order) */
    double wall_s;
};

/* Plan for `base` (a modelled scenario with global-batch and seq).  No layout fitting is a
 * result (ntop = 0, `nearest` set), not an error.  Errors: SIM_EINPUT for a scenario that
 * cannot be planned (or a schedule its framework does not offer); SIM_EFAIL otherwise. */
enum sim_status plan_run(const struct scenario *base, const struct plan_opts *opts,
                         struct plan_result *res, struct sim_error *err);
void plan_result_release(struct plan_result *res);

/* The scenario of one config: `base` with the config's keys set (as --set values), its memory
 * knobs as framework `fw` (the plan's, plan_result.framework) runs them. */
/* A config's pipeline layout, into out: the grouped layout of a model sharing its DSA top-k
 * (dsa_freq), else "".  0, or -1 when it does not fit in cap bytes. */
int plan_config_layout(const struct plan_config *c, char *out, size_t cap);
enum sim_status plan_config_apply(const struct scenario *base, const struct fw_type *fw, int gpus,
                                  const struct plan_config *cfg, struct scenario *out,
                                  struct sim_error *err);

/* The command line's keys (given by --set) that plan chooses per config itself -- gpus,
 * schedule, zero, recompute, offload, the stage split -- are input errors naming the option to
 * use instead, rather than values silently dropped.  (tp, pp, vp, cp, ep, etp and micro-batch
 * given by --set fix that dimension of the search.) */
enum sim_status plan_check_set_keys(const struct scenario *base, struct sim_error *err);

/* The keys config c's scenario (plan_config_apply) drops where they do not apply -- given in
 * `base`, unset in the config's (deepep-sms and moe-dispatch-dtype beside an all-to-all or
 * all-gather dispatcher, a stage split the config does not make, ...): dropped[k] = 1 for
 * each, in dropped[SCN_KEY_COUNT].  What the config ran is the one source of what `run` must
 * be told to reproduce it. */
enum sim_status plan_config_dropped(const struct scenario *base, const struct fw_type *fw,
                                    int gpus, const struct plan_config *c,
                                    unsigned char *dropped, struct sim_error *err);

/* Whether a config runs sequence parallelism: with tp > 1 unless the scenario turns it off. */
int plan_config_sp(const struct plan_result *res, const struct plan_config *c);
/* Whether framework `fw` runs the activation-offload option as Megatron-Core's fine-grained
 * offloading (offload-modules=all) rather than as a share of the activations. */
int plan_offload_by_module(const struct fw_type *fw);

/* Is `a` simpler than `b`?  <0 simpler, >0 less simple, 0 as simple (see plan.c). */
int plan_simpler(const struct plan_config *a, const struct plan_config *b);
/* The order plan lists `n` entries in (indices into e, `n` of them, all simulated): the fastest
 * remaining one's window -- configs within 1% of its step -- gives its simplest, then the
 * next; writes at most k indices to `out` and returns how many. */
size_t plan_rank(const struct plan_entry *e, const size_t *cand, size_t n, size_t k,
                 size_t *out);

/* The plan command: argv[0] is "stepsim", argv[1] "plan".  Returns the exit status. */
int plan_main(int argc, char **argv, FILE *out, FILE *errout);
extern const char plan_usage[]; /* its synopsis, for `stepsim --help` too */

#endif
