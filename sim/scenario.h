/* scenario: one simulation's inputs -- schedule, pipeline shape, batch and costs.
 *
 * Every value has a key (its XML attribute name and its --set name, the same word), one parser
 * per value type, and the file:line it came from, so semantic errors found later can still
 * point at the line that set the value.  Costs are explicit for now (per-layer times, activation
 * size, link latency and bandwidth); the model + hardware cost model will fill the same fields.
 * Units: seconds, bytes, bytes/s. */
#ifndef STEPSIM_SCENARIO_H
#define STEPSIM_SCENARIO_H

#include <sys/types.h>

#include "error.h"

enum scn_key {
    SCN_NAME,
    SCN_SCHEDULE,
    SCN_PP,
    SCN_VP,
    SCN_VP_GROUP,
    SCN_MICROBATCHES,
    SCN_MICRO_BATCH,
    SCN_SEQ,
    SCN_LAYERS,
    SCN_FORWARD,
    SCN_BACKWARD_INPUT,
    SCN_BACKWARD_WEIGHT,
    SCN_SPLIT_BACKWARD,
    SCN_ACTIVATION,
    SCN_OPTIMIZER,
    SCN_LINK_LATENCY,
    SCN_LINK_BANDWIDTH,
    SCN_SEED,
    SCN_JITTER,
    /* The cost model: model and hardware files, parallel layout, training options. */
    SCN_MODEL,
    SCN_HARDWARE,
    SCN_GPUS,
    SCN_TP,
    SCN_CP,
    SCN_EP,
    SCN_ETP,
    SCN_SP,
    SCN_GLOBAL_BATCH,
    SCN_DTYPE,
    SCN_RECOMPUTE,
    SCN_DIST_OPT,
    SCN_OVERLAP_GRAD_REDUCE,
    SCN_OVERLAP_PARAM_GATHER,
    SCN_OVERLAP_TP_COMM,
    SCN_OVERLAP_P2P,
    SCN_ATTENTION,
    SCN_P2P_SCATTER_GATHER,
    SCN_GRAD_REDUCE_FP32,
    SCN_DROPOUT,
    SCN_FIRST_STAGE_LAYERS,
    SCN_LAST_STAGE_LAYERS,
    SCN_MAX_OPS_KEY,
    SCN_KEY_COUNT,
};

enum scn_recompute { RECOMPUTE_NONE, RECOMPUTE_SELECTIVE, RECOMPUTE_FULL };
/* Attention kernels: flash (fused, causal-aware, O(s) memory) or unfused (batched GEMMs over
 * the full s x s scores and a fused softmax, as Megatron ran before flash attention). */
enum scn_attention { ATTENTION_FLASH, ATTENTION_UNFUSED };

struct scn_origin {
    char file[256]; /* file that set the value, or "--set" */
    int line;       /* its line; 0 for defaults and --set */
    int order;      /* which input set it last: 0 none (a default), 1.. the files in the order
                       they were applied (a base before the file naming it), SCN_ORDER_SET for
                       --set; a rule broken by two values blames the later one */
};
#define SCN_ORDER_SET 1000000
/* Most scenario files in one chain of <scenario base="..."> references, the first included. */
#define SCN_MAX_BASE_FILES 8

/* A scenario file that was loaded: its identity, so that no output overwrites it. */
struct scn_file {
    dev_t dev;
    ino_t ino;
    char path[256]; /* for messages; cut to fit */
};

struct scenario {
    char name[64];
    char schedule[32];
    int pp;              /* pipeline ranks */
    int vp;              /* model chunks per rank */
    int vp_group;        /* micro-batches per chunk group (interleaved); 0 = pp */
    int microbatches;    /* per pipeline per step */
    int micro_batch;     /* samples per micro-batch */
    int seq;             /* tokens per sample; 0 = unknown */
    int layers;          /* transformer layers */
    int first_stage_layers; /* layers of virtual stage 0 when given (0: the embedding alone);
                               not given: an even split */
    int last_stage_layers;  /* layers of the last virtual stage when given (0: the LM head and
                               loss alone); not given: an even split */
    int max_ops;            /* resource cap: compute ops one step may have (--set max-ops=N) */
    double forward_s;    /* per layer per micro-batch */
    double bwd_input_s;  /* per layer per micro-batch: input gradient */
    double bwd_weight_s; /* per layer per micro-batch: weight gradient */
    int split_backward;  /* run the weight gradient as its own W op */
    double activation_B; /* bytes sent between adjacent stages per micro-batch (each way) */
    double optimizer_s;  /* optimizer step per rank */
    double link_lat_s;   /* P2P link latency */
    double link_bw_Bps;  /* P2P link bandwidth; 0 = unlimited */
    unsigned long seed;  /* GSL RNG seed */
    double jitter;       /* coefficient of variation of op durations (0 = exact) */
    int link_given;      /* a <link> element or link-* key was given */
    /* Cost model inputs (used when `model` is set; then explicit costs must not be). */
    char model_path[1024];    /* model file; relative refs resolved against the scenario */
    char hardware_path[1024]; /* hardware file, likewise */
    int gpus;                 /* world size; 0 = tp * cp * pp (one data-parallel replica) */
    int tp, cp, ep, etp;      /* tensor, context, expert, expert-tensor parallel sizes */
    int sp;                   /* sequence parallelism (needs tp > 1) */
    int global_batch;         /* samples per step; 0 = microbatches * micro-batch * dp */
    int dtype;                /* enum dtype (hardware.h): compute precision */
    int recompute;            /* enum scn_recompute */
    int dist_opt;             /* distributed optimizer: optimizer state sharded over DP */
    int overlap_grad_reduce, overlap_param_gather, overlap_tp_comm, overlap_p2p;
    int attention;            /* enum scn_attention */
    int p2p_scatter_gather;   /* P2P sends 1/tp slices (implied by sp) */
    int grad_reduce_fp32;     /* gradients kept and reduced in fp32 (else the 16-bit type) */
    int dropout;              /* hidden and attention dropout (masks kept for the backward) */
    struct scn_origin origin[SCN_KEY_COUNT];
    int files_applied; /* scenario files loaded so far (bases count): gives origin.order */
    struct scn_file loaded[SCN_MAX_BASE_FILES]; /* the files loaded: this one, then its bases */
    int nloaded;
};

/* Defaults: schedule 1f1b, pp=vp=1, microbatches=1, micro-batch=1, free links, zero costs. */
void scn_defaults(struct scenario *scn);
/* Key name -> key; -1 when unknown. */
int scn_key_find(const char *name);
const char *scn_key_name(enum scn_key key);
/* Set one value from text; errors cite file:line (or "--set KEY=VALUE" when file is NULL). */
enum sim_status scn_set(struct scenario *scn, const char *key, const char *value, const char *file,
                        int line, struct sim_error *err);
/* Parse "KEY=VALUE" from the command line. */
enum sim_status scn_set_arg(struct scenario *scn, const char *arg, struct sim_error *err);
/* Cross-field rules: pp <= layers, pp*vp <= layers and divides it, the schedule's chunk rules
 * (Megatron's interleaved group rules included), and size limits (compute ops, simulated step
 * length) that keep the engine's memory and picosecond clock in range.  An error cites the
 * file:line of the value at fault -- a --set override when one made the conflict. */
enum sim_status scn_check(const struct scenario *scn, struct sim_error *err);
/* A rule broken by `key`'s value: an SIM_EINPUT error citing where that value came from (the
 * file:line that set it, or the --set option). */
/* Which of two conflicting values to blame: the one set later (a --set override over a file,
 * a file over the base it names, either over a default), else `a`. */
enum scn_key scn_culprit(const struct scenario *scn, enum scn_key a, enum scn_key b);
/* The longest step, in simulated seconds, a scenario may ask for: every sum on the
 * picosecond clock (int64, about 9.2e6 s) then fits. */
#define SCN_MAX_STEP_S 1e6
enum sim_status scn_rule_error(const struct scenario *scn, enum scn_key key,
                               struct sim_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The model is cut into scn_model_parts() parts -- pp*vp, or pp for DualPipe, whose stages s
 * and pp+s hold two copies of part s -- and virtual stage `stage` holds part
 * scn_model_part(). */
int scn_model_parts(const struct scenario *scn);
int scn_model_part(const struct scenario *scn, int stage);
/* Layers of virtual stage `stage` (of pp*vp) and the index of its first layer.  Parts take
 * layers in order; the first and last may be set apart (Megatron-Core's
 * --decoder-first/last-pipeline-num-layers), the others split the rest evenly.  Valid after
 * scn_check(). */
void scn_stage_layers(const struct scenario *scn, int stage, int *first_layer, int *count);
/* Was `key` given (by the file or --set), as opposed to left at its default? */
int scn_given(const struct scenario *scn, enum scn_key key);
/* The virtual stage of `chunk` on `rank` under the scenario's schedule's placement (see
 * schedule.h).  Valid after scn_check(). */
int scn_stage_of(const struct scenario *scn, int rank, int chunk);
/* Does the backward run as separate B and W ops?  Asked for with split-backward, or implied by
 * a schedule that places the W ops itself (the zero-bubble family). */
int scn_split_backward(const struct scenario *scn);
/* Does the scenario use the model + hardware cost model (rather than explicit costs)? */
int scn_is_modelled(const struct scenario *scn);
/* Load a scenario file (XML, validated against the shipped schema) on top of what `scn` holds
 * (defaults, usually): its base first, if it names one, then its own values over the base's. */
enum sim_status scn_load(struct scenario *scn, const char *path, struct sim_error *err);

#endif
