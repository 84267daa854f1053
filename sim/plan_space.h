/* plan_space: the configs the planner considers -- the layouts of a model on a GPU budget
 * (tp, cp, pp, vp, ep/etp, micro-batch, schedule, and an uneven end-stage split where the
 * layers do not divide) and, for each, the memory-knob configs its framework offers
 * (recompute, sharding, offload), in enumeration order (plan.c's phase 1).
 *
 * Invariant: a layout's configs are contiguous in `v`, recompute-major, each knob from the
 * least to the most saving (struct plan_layout), and only layouts the gpus / global-batch
 * divisibility rules allow are kept (their configs still count in `enumerated`). */
#ifndef STEPSIM_PLAN_SPACE_H
#define STEPSIM_PLAN_SPACE_H

#include <stddef.h>

#include "hardware.h"
#include "model.h"
#include "plan.h"

#define PLAN_MAX_CANDIDATES (1 << 22) /* cap on the enumeration (about 600 MB of entries) */
#define PLAN_MAX_OPTIONS 8 /* options of one knob at most: recompute, sharding or offload */
#define PLAN_MAX_UNSCHEDULED 4 /* pipeline depths plan_space.unscheduled_pp keeps */

/* What is enumerated: the model, the framework's schedules and offers, the GPU budget and
 * node size, the batch, and the recompute settings worth trying. */
struct plan_space {
    const struct model *m;
    const struct fw_type *fw;
    const struct sched_type *const *schedules; /* considered, NULL-terminated */
    int gpus, gpus_per_node, global_batch, seq;
    int rc_light, rc_heavy;       /* selective recompute module sets; 0 = none */
    int offload_opt, offload_act; /* offered by the framework and possible on the hardware */
    unsigned optimizer_zero;      /* ZeRO stages the scenario's optimizer shards over (bit z) */
    int cp_offered;               /* the framework runs context parallelism */
    int full_keeps_no_input;      /* full recompute with the activations offloaded by module is
                                     refused (cm_rules.c: uniform full recompute keeps no
                                     module's input to offload): such configs break a rule */
    struct plan_fixed {           /* dimensions --set fixes (0: searched) */
        int tp, pp, vp, cp, ep, etp, micro_batch;
        int dispatcher; /* moe-dispatcher + 1 */
    } fixed;
    /* the MoE dispatchers tried where experts are spread (ep > 1), as plan_config.dispatcher:
       none for a dense model or a dispatcher --set fixes */
    int dispatchers[PLAN_MAX_DISPATCHERS], ndispatchers;
    size_t enumerated;            /* configs enumerated, rule-valid or not */
    size_t unsplit;               /* layouts skipped: the layers do not split over their stages */
    int unsplit_stages;           /* the stages of the last such layout */
    size_t split;                 /* layouts whose layers split (kept or not by the rules) */
    /* the pipeline depths of layouts the divisibility rules keep that no schedule considered
       runs (its pp or vp), ascending, the PLAN_MAX_UNSCHEDULED smallest: the message of a
       budget whose only such layouts are these says which pp the budget allows */
    int unscheduled_pp[PLAN_MAX_UNSCHEDULED], nunscheduled_pp;
    int unscheduled_more; /* there were more such depths than unscheduled_pp keeps */
};

/* The enumerated configs and their layouts; owned (plan_space_cands_release). */
struct plan_cands {
    struct plan_entry *v;
    size_t n, cap;
    struct plan_layout *lay;
    size_t nlay, laycap;
};

/* The space of `base` on o->gpus GPUs, for the framework and schedules res names. */
struct plan_space plan_space_of(const struct scenario *base, const struct plan_opts *o,
                                const struct plan_result *res, const struct model *model,
                                const struct hardware *hw);

/* What schedule t needs of the pipeline that plan_space_enumerate does not try it without:
 * of the chunks a rank where --set fixes them (vp; 0 when searched), "vp=1 (...)", else of the
 * depth, "an even pp", ...; NULL when it runs on any pp. */
const char *plan_schedule_needs(const struct sched_type *t, int vp);

/* The parallel dimensions the command line fixes: tp, pp, vp, cp, ep, etp, micro-batch and
 * moe-dispatcher given by --set (0 where the plan searches). */
struct plan_fixed plan_fixed_of(const struct scenario *base);
/* "tp=8 pp=4" for the fixed dimensions ("" when none); the length written. */
size_t plan_fixed_text(const struct plan_fixed *f, char *buf, size_t len);

/* plan_space_fixed_rule's answers, beside 0 (the fixed dimensions break none of its rules) */
#define PLAN_FIXED_NO_BUDGET 1   /* a rule no budget can keep: pp past the layers, say */
#define PLAN_FIXED_THIS_BUDGET 2 /* the fixed dimensions' replica does not divide the budget */
/* The rule the dimensions --set fixes break whatever the rest of the layout, into buf: a fixed
 * pp past the model's layers, a tp or ep splitting its heads or experts unevenly (as
 * cm_rules.c says them), or a replica of the fixed tp x cp x pp (ep x etp x pp) not dividing
 * the GPUs. */
int plan_space_fixed_rule(const struct plan_space *sp, char *buf, size_t len);

#define PLAN_SPACE_TOO_LARGE (-2) /* plan_space_enumerate: more than PLAN_MAX_CANDIDATES */
#define PLAN_SPACE_FOUND 1        /* plan_space_enumerate's probe: the space holds a layout */
/* Append every config of the space to `out`.  -1: out of memory; PLAN_SPACE_TOO_LARGE.  With
 * `out` NULL, a probe: PLAN_SPACE_FOUND at the first layout the divisibility rules keep, else 0
 * (nothing appended, the counts not kept). */
int plan_space_enumerate(struct plan_space *sp, struct plan_cands *out);

/* The budgets nearest a budget that has no layout, whose space holds one (the same model,
 * batch, framework and fixed dimensions): below and above (0: none found), and the lowest and
 * highest budget probed. */
struct plan_budgets {
    int below, above;
    int lowest, highest;
};

/* Each side a GPU at a time, up to `most` GPUs away, until each has one.  One probe a budget,
 * a walk of the layouts without their configs. */
void plan_space_nearest_budgets(const struct plan_space *sp, int most, struct plan_budgets *b);

/* Free the configs and layouts (and the layouts' peaks); accepts an emptied list. */
void plan_space_cands_release(struct plan_cands *c);

#endif
