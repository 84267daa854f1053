/* schedule: named, pluggable pipeline schedules producing each rank's compute-op order.
 *
 * A schedule type is a const table with a name (the shape of GSL's gsl_rng_type): `check`
 * rejects configurations the real framework rejects, `count` and `build` emit one rank's
 * op order.  Most schedules emit only F and B; sched_build() splits B into B + W when asked
 * (each W right behind its B) and appends the optimizer op, so every schedule gets those for
 * free.  Zero-bubble schedules place the W ops themselves (`builds_w`): for them the backward
 * is always split.
 *
 * Placement: model chunk c on pipeline rank r is virtual stage c*pp + r (Megatron-LM's loop:
 * down the ranks, then round again), or -- for V-shaped schedules, two chunks per rank -- stage
 * r for chunk 0 and 2*pp-1-r for chunk 1 (down the ranks and back up: the first and last
 * stages share rank 0).  sched_stage_of / sched_rank_of / sched_chunk_of are the only places
 * that know.
 *
 * Routes: under every placement but one, each micro-batch passes through all pp*vp virtual
 * stages, and virtual stage s holds model part s.  The bidirectional one (DualPipe) places two
 * copies of a pp-part model as the V does, and sends half the micro-batches down the ranks
 * through stages 0..pp-1 and the other half up through stages pp..2pp-1: virtual stages s and
 * pp+s hold the same model part s, and each chunk sees half the micro-batches.
 * sched_route / sched_chunk_mbs / sched_model_part say so. */
#ifndef STEPSIM_SCHEDULE_H
#define STEPSIM_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum sched_placement {
    SCHED_LOOP, /* stage = chunk * pp + rank */
    SCHED_V,    /* vp = 2: stage = rank (chunk 0) or 2 * pp - 1 - rank (chunk 1) */
    SCHED_DUAL, /* as SCHED_V, but micro-batches 0..m/2-1 run down through stages 0..pp-1 and
                   m/2..m-1 up through stages pp..2pp-1 (see "Routes" above) */
};

/* Ops that run overlapped as one pair (DualPipe's F&B): the forward of one micro-batch and
 * the backward of another, whose communication hides behind each other's compute. */
enum sched_overlap {
    SCHED_ALONE = 0,
    SCHED_PAIR_F, /* this F and the B right after it run as one overlapped pair */
    SCHED_PAIR_B, /* the B of that pair */
};

enum op_kind {
    OP_F,   /* forward of one micro-batch through one chunk */
    OP_B,   /* backward (input gradient; the whole backward unless split) */
    OP_W,   /* backward weight gradient, when the backward is split */
    OP_OPT, /* optimizer step, once per rank at the end */
    OP_KIND_COUNT,
};

struct sched_op {
    uint8_t kind;    /* enum op_kind */
    int32_t mb;      /* micro-batch, 0-based; -1 for OP_OPT */
    int32_t chunk;   /* model chunk on this rank, 0-based; -1 for OP_OPT */
    uint8_t overlap; /* enum sched_overlap */
};

struct sched_params {
    int pp;             /* pipeline ranks */
    int vp;             /* model chunks per rank (virtual stages per rank) */
    int microbatches;   /* per step, per pipeline */
    int vp_group;       /* micro-batches per group on a chunk (interleaved); 0 = pp */
    int split_backward; /* emit W after each B */
    int pair_steady;    /* 1F1B / interleaved: run each steady-state F with the B after it as an
                           overlapped pair (Megatron-Core's expert-parallel overlap; the
                           non-interleaved warm-up grows by one so the two are different
                           micro-batches) */
};

/* Which parameter a rejected configuration should be blamed on (for the error's location). */
enum sched_param { SP_SCHEDULE, SP_PP, SP_VP, SP_MICROBATCHES, SP_VP_GROUP };
#define SP_BIT(p) (1u << (p))
/* The parameters a broken rule reads besides the schedule: `first` is blamed when they all
 * came from one place, and `also` (SP_BIT()s) are the others -- "microbatches=10 leaves a last
 * group of 2 smaller than pp=4" reads microbatches first, vp-group and pp also. */
struct sched_blame {
    enum sched_param first;
    unsigned also;
};

struct sched_type {
    const char *name;
    const char *summary;
    /* Reject parameters the framework rejects; the message names values and the rule, and
     * *blame the parameters it reads. */
    enum sim_status (*check)(const struct sched_params *sp, struct sched_blame *blame,
                             struct sim_error *err);
    /* Fill out[] with rank's F/B order: exactly 2 * sched_chunk_mbs() * vp entries; with
     * builds_w, its F/B/W order: exactly 3 * sched_chunk_mbs() * vp entries. */
    void (*build)(const struct sched_params *sp, int rank, struct sched_op *out);
    int builds_w;  /* places its own W ops; callers must set split_backward (see above) */
    int placement; /* enum sched_placement; SCHED_LOOP unless said */
    int pairs;     /* emits overlapped F&B pairs (enum sched_overlap) */
    int steady_pairs; /* honours sched_params.pair_steady */
    int vp_any;    /* takes any vp >= 2 (interleaved); the others hold sched_vp_of() chunks */
    /* places stages as Megatron-Core does (rank r holds stages r, r + pp, ...), so that its
     * --pipeline-model-parallel-layout strings describe them: 1f1b and interleaved */
    int megatron_stages;
};

extern const struct sched_type sched_gpipe;
extern const struct sched_type sched_1f1b;
extern const struct sched_type sched_interleaved;
extern const struct sched_type sched_zbh1;
extern const struct sched_type sched_zbv;
extern const struct sched_type sched_dualpipe;
extern const struct sched_type sched_dualpipev;

/* The check shared by schedules with one model chunk per rank: vp must be 1 (the message
 * names `name` and points to the interleaved schedule). */
enum sim_status sched_check_one_chunk(const char *name, const struct sched_params *sp,
                                      struct sched_blame *blame, struct sim_error *err);

/* The virtual stage of `chunk` on `rank`, and back. */
int sched_stage_of(const struct sched_type *type, int pp, int rank, int chunk);
int sched_rank_of(const struct sched_type *type, int pp, int stage);
int sched_chunk_of(const struct sched_type *type, int pp, int stage);

/* The virtual stages micro-batch `mb` passes through, first to last (its F's run down them,
 * its B's back up). */
void sched_route(const struct sched_type *type, const struct sched_params *sp, int mb,
                 int *first, int *last);
/* Micro-batches that pass through each model chunk of a rank: microbatches, or half of them
 * for the bidirectional placement. */
int sched_chunk_mbs(const struct sched_type *type, const struct sched_params *sp);
/* The model part virtual stage `stage` holds (its layers, embedding, head), and how many parts
 * the model is cut into: pp*vp, or pp for the bidirectional placement (two copies). */
int sched_model_part(const struct sched_type *type, int pp, int stage);
int sched_model_parts(const struct sched_type *type, int pp, int vp);

/* 1F1B's warm-up on `rank`: min(pp - rank - 1, microbatches) forwards (ZB-H1 shares it). */
int sched_1f1b_warmup(const struct sched_params *sp, int rank);
/* The interleaved schedule's warm-up forwards on `rank` (all its ops: min(2 (pp - rank - 1) +
 * (vp - 1) g + pair_steady, m vp)). */
int sched_interleaved_warmup(const struct sched_params *sp, int rank);

/* Model chunks per rank a schedule without vp_any holds: 2 for the V placements, else 1. */
int sched_vp_of(const struct sched_type *type);
/* The legend names of a rank's chunks, by chunk: {"down", "up"} for the V placements (chunk 0
 * holds stage rank, on the way down the ranks; chunk 1 stage 2pp-1-rank, on the way back up),
 * NULL for the loop ("chunk 0", "chunk 1", ...). */
const char *const *sched_chunk_names(const struct sched_type *type);
/* Does the schedule take `vp` chunks per rank? */
int sched_vp_fits(const struct sched_type *type, int vp);

/* Lookup by name; NULL when unknown. */
const struct sched_type *sched_find(const char *name);
/* Comma-separated list of names, for messages. */
const char *sched_names(void);

/* Number of ops sched_build() emits per rank (F, B, W if split, and the optimizer).  For a
 * builds_w type sp->split_backward must be set. */
size_t sched_ops_per_rank(const struct sched_type *type, const struct sched_params *sp);
/* Build rank's full op list into out (sched_ops_per_rank() entries). */
void sched_build(const struct sched_type *type, const struct sched_params *sp, int rank,
                 struct sched_op *out);

const char *op_kind_name(enum op_kind kind);

#endif
