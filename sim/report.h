/* report: the step's figures, derived from a pipeline result, as text or JSON.
 *
 * Definitions (also in the README):
 *   step time        first compute start -> last optimizer end
 *   makespan         first compute start -> last F/B/W end (the pipeline's span)
 *   busy (rank)      time in F, B and W ops; idle = makespan - busy
 *   bubble ratio     1 - sum(busy) / (pp * makespan)          (fraction of the pipeline idle)
 *   bubble overhead  (pp * makespan - sum(busy)) / sum(busy)  (Megatron's idle / ideal time;
 *                    (p-1)/m for uniform 1F1B); NAN when sum(busy) is 0: no ideal time to
 *                    divide by (n/a in the text and the page, null in the JSON)
 *   samples/s        samples per step / step time (explicit costs: microbatches * micro-batch;
 *                    with the cost model: the global batch); tokens/s = samples/s * seq
 *   peak in-flight   max (micro-batch, chunk) activations a rank held at once: F started,
 *                    backward (W, when split) not finished; an overlap-ep-comm F&B pair counts
 *                    one, its F taking the place its B frees (pipe_pair_defers) */
#ifndef STEPSIM_REPORT_H
#define STEPSIM_REPORT_H

#include <stdio.h>

#include "costmodel.h"
#include "layout.h"
#include "pipeline.h"
#include "scenario.h"

struct report_rank {
    double busy_s, idle_s;
    double opt_end_s;
    simtime_t busy, idle, opt_end; /* the same on the engine's clock, exact (the JSON's) */
    int peak_inflight;
};

/* Where the step's time goes: seconds, averaged over pipeline ranks; sums to the step time. */
struct report_breakdown {
    double compute;   /* F/B/W work */
    double recompute; /* forward work repeated in the backward */
    double tp, cp, ep; /* exposed tensor / context / expert-parallel communication */
    double pp;        /* pipeline P2P: how much longer the pipeline runs than with free links */
    double bubble;    /* the step less every other part: the rank's idle time until its last
                         F/B/W ends and its wait from its optimizer's end to the step's end,
                         less pp (not idle_s: the gap before the optimizer is dp's) */
    double dp;        /* exposed data-parallel gradient reduction (before the optimizer) */
    double optimizer; /* optimizer step and exposed parameter all-gather */
    double host;      /* exposed activation offload over the host link */
    double launch;    /* of compute and recompute: the gaps kernel launches leave (from the host
                         or a CUDA graph); not a part of its own, the parts above hold it */
    double ep_paired; /* of ep: what overlapped F&B pairs leave exposed (the overlap's
                         interference, an exchange longer than the partner's compute); the
                         rest is chunks run alone, as DualPipe's warm-up and cool-down */
};

struct report {
    double step_s, makespan_s;
    simtime_t step, makespan; /* the same on the engine's clock, exact (the JSON's) */
    double bubble_ratio, bubble_overhead; /* bubble_overhead NAN: undefined (no busy time) */
    double samples_per_s;
    double tokens_per_s; /* < 0 when seq is unknown */
    long samples, tokens;
    int pp;
    /* The step's stages (schedule type, pp, vp, layers per part) as its costs were built from
     * them (step_layout): borrowed, it outlives the report (struct step_output holds both). */
    const struct layout *layout;
    struct report_rank *ranks; /* [pp], owned */
    unsigned long long events;
    /* Cost-model runs only (modelled != 0). */
    int modelled;
    int gpus, dp;
    int edp; /* MoE models: expert data-parallel size, gpus / (pp x ep x etp); dense: 0 */
    char model[64], hardware[64]; /* the model's and the hardware's names */
    char sets_note[120]; /* the command line's --set values ("--set seq=8192"), which the text
                            report's scenario line gives after the name; "" for none */
    double power_cap_w;           /* the board power it is held to, not its rating; or 0 */
    int zero;                     /* ZeRO stage of the data parallelism */
    unsigned patterns;            /* the kinds of run it is (patterns.h) */
    int grad_accumulation;        /* enum scn_grad_accumulation, as resolved */
    int ep_dispatch_fp8;          /* the dispatch-direction EP exchanges in fp8, as resolved */
    int oom;                      /* some rank's memory exceeds the usable HBM */
    int oom_rank;                 /* the rank most over: HBM first, else host memory */
    int oom_host;                 /* out of the host's memory alone: no rank over its HBM */
    double tokens_per_s_per_gpu;
    double model_tflops_per_gpu; /* model FLOPs / step time / gpus, in TFLOP/s */
    double mfu, hfu;             /* model / hardware FLOPs utilisation against dense peak */
    double model_flops, hw_flops; /* per step: 3 x forward (full attention); + recompute */
    struct report_breakdown brk;
    /* The model's first layer of each kind (model_layer_kind: dense 0, MoE 1, + 2 with local
     * attention) as its stage costs it (layer -1: the model has no layer of that kind). */
    struct cm_layer_view layer_view[CM_LAYER_VIEWS];
    struct cm_rank_memory *mem; /* [pp], owned */
    double hbm_bytes;
    double hbm_usable_bytes; /* HBM less the reserve and the layout's communication buffers
                                (cm_usable_hbm) */
    double host_mem_bytes;   /* one GPU's share of the host's memory; 0 = not given */
    double hbm_reserved_bytes; /* all of it set aside: the parts below (cm_reserved_hbm) */
    double hbm_reserve_bytes;  /* the hardware's fixed reserve (CUDA context, fragmentation) */
    double nccl_buffers_bytes; /* of the reserve, NCCL's buffers per communicator */
    int communicators;         /* NCCL communicators a rank uses (cm_config.communicators) */
    double deepep_buffer_bytes; /* of the reserve, DeepEP's buffer (cm_config) */
    double userbuffer_bytes;    /* of the reserve, Transformer Engine's userbuffers */
    int tp_spans_nodes;
    int model_max_seq; /* the model's max-seq when seq is longer (a warning), else 0 */
    /* --tokens N: what training on N tokens takes at this step's throughput. */
    double train_tokens;   /* 0 = not asked */
    double train_s;        /* wall time */
    double train_gpu_hours;
    double train_cost;     /* < 0 when the hardware has no price */
    char currency[8];
};

/* The step's figures from its result; `lay` is the layout its costs were built from (kept, not
 * copied: it must outlive rep). */
enum sim_status report_compute(const struct scenario *scn, const struct layout *lay,
                               const struct pipe_result *res, struct report *rep,
                               struct sim_error *err);
/* Add the cost model's figures: throughput per GPU, MFU/HFU, the time breakdown and memory.
 * `free_links_makespan_s` is the makespan of the same step with free P2P links. */
enum sim_status report_add_costmodel(struct report *rep, const struct scenario *scn,
                                     const struct pipe_result *res, const struct costmodel *cm,
                                     double free_links_makespan_s, struct sim_error *err);
/* Add to *b where one simulated F/B/W record's time went (seconds): its work (compute,
 * recompute) first, scaled down when jitter made the op shorter than that; the rest as exposed
 * communication shared out as the op's own parts have it, or, for an op of an overlapped F&B
 * pair, as its `partner`'s (the pair's other op; NULL for an op alone), whose communication
 * this op's work covers.  Sums to the op's duration. */
void report_attribute_op(struct report_breakdown *b, const struct scenario *scn,
                         const struct costmodel *cm, const struct pipe_record *op,
                         const struct pipe_record *partner);
/* Fill the --tokens figures: time = tokens / (tokens/s), GPU-hours = time x gpus, cost =
 * GPU-hours x price per GPU-hour (when the hardware file gives one). */
void report_add_training(struct report *rep, const struct costmodel *cm, double tokens);
void report_release(struct report *rep);
/* What a rank's memory row says when it does not fit, against `usable` bytes of HBM: "OUT OF
 * MEMORY", "OUT OF HOST MEMORY" or "OUT OF MEMORY AND HOST MEMORY"; "" when it fits. */
const char *report_oom_word(const struct cm_rank_memory *mm, double usable);
/* The --tokens figures (rep->train_tokens > 0) as the text report's "training" line and the
 * page say them: "1e+12 tokens: 3.21 days, 2.68e+05 GPU-hours, 6.667e+05 USD", or " (no price
 * in the hardware file)" in place of the cost. */
void report_training_text(const struct report *rep, char *buf, size_t len);
/* The memory table's header after its unit, GiB: "HBM 80.0, 76.3 usable (reserve 3.7: CUDA
 * context and fragmentation 0.6, NCCL 0.6 x 4 communicators, DeepEP 0.69)" -- what is usable
 * and what is reserved, NCCL's share apart where the hardware file prices it per communicator;
 * "HBM 80.0" alone with no reserve.  Modelled reports only. */
#define REPORT_MEMORY_TEXT 320
void report_memory_text(const struct scenario *scn, const struct report *rep, char *buf,
                        size_t len);
/* A step a tenth or more of which is kernel launch gaps, run without CUDA graphs that its
 * framework offers: the framework's name, and the cuda-graphs values it offers in `offered`
 * ("full-iteration or modules"); NULL otherwise. */
const char *report_launch_hint(const struct scenario *scn, const struct report *rep,
                               char *offered, size_t len);
/* With an uneven split of the layers (first/last-stage-layers or pipeline-layout given), 1 and
 * every virtual stage's layers with the key that split them ("3, 14 x 4, 2
 * (first/last-stage-layers)"); else 0 and "". */
#define REPORT_STAGES_TEXT 1100
int report_stages_text(const struct scenario *scn, const struct layout *lay, char *buf,
                       size_t len);
/* What offload moves to the host, the most over the ranks, against the host's memory per GPU
 * where the hardware gives it: "85.9 GiB per GPU at most, of the 223.5 GiB the host has per
 * GPU".  0 (buf untouched) when nothing is offloaded. */
int report_host_text(const struct report *rep, char *buf, size_t len);

/* Write the report; return 0, or -1 on an I/O error. */
int report_write_text(FILE *out, const struct scenario *scn, const struct report *rep);
/* Do overlap-ep-comm's F&B pairs hand a micro-batch's activations over (pipe_pair_defers), so
 * that peak_inflight counts a pair once?  REPORT_HANDOVER_NOTE then says so beside its
 * definition. */
int report_pairs_hand_over(const struct scenario *scn);
#define REPORT_HANDOVER_NOTE "an overlapped F&B pair counts one: its F takes the place its B frees"
/* The per-layer table of a modelled report (report_layers.c): what one layer's F and B ops are
 * made of, per micro-batch and GPU; text, or a JSON member ("layers": [...],\n). */
/* One column of that table: its header, JSON key and a view's F and B seconds; a column is
 * shown when some layer of the report has a cost in it. */
struct report_layer_column {
    const char *header, *key;
    double fwd, bwd;
};
#define REPORT_LAYER_COLUMNS 8
void report_layer_columns(const struct cm_layer_view *v,
                          struct report_layer_column col[REPORT_LAYER_COLUMNS]);
void report_layer_shown(const struct report *rep, int shown[REPORT_LAYER_COLUMNS]);
/* The row name of a layer of `kind` (model_layer_kind): "dense", "MoE", "dense local",
 * "MoE local"; a hybrid model's "Mamba", "attention", "attention local", "MLP", "MoE". */
const char *report_layer_kind_name(int kind);
/* The kinds the report has a layer of, into order[], in the order of those layers (a row per
 * kind in the table); returns how many. */
int report_layer_kinds(const struct report *rep, int order[CM_LAYER_VIEWS]);
/* Does the table show a layer that attends over a local window? */
int report_has_local_layer(const struct report *rep);
/* Does it show a Mamba-2 layer (whose attention column is its SSD scan)? */
int report_has_mamba_layer(const struct report *rep);
int report_has_gdn_layer(const struct report *rep);
void report_write_layers_text(FILE *out, const struct report *rep);
void report_write_layers_json(FILE *out, const struct report *rep);
int report_write_json(FILE *out, const struct scenario *scn, const struct report *rep);
/* A time as the JSON report writes it: seconds in decimal to the picosecond, the engine's
 * resolution, without trailing zeros ("1239.792027"), so it reads back as the picoseconds
 * the text rounds.  report_json_time writes a time of the clock exactly; report_json_seconds
 * one computed in floating point (a mean, a cost), rounded to the picosecond, and to 17
 * significant digits from 10^5 s on (all a double holds). */
void report_json_time(FILE *out, simtime_t t);
void report_json_seconds(FILE *out, double s);

/* The resolved layout in one line (model, hardware, parallel sizes, schedule, dtype,
 * recompute, ZeRO stage, batch), for reports and plot titles; modelled reports only. */
void report_layout_line(const struct scenario *scn, const struct report *rep, char *buf,
                        size_t len);

/* The same layout as named fields, in the order of the JSON report's "layout" object (which
 * is written from them): model, hardware, power_cap_w, gpus, tp, cp, pp, vp, dp, ep, etp, edp,
 * dtype, fp8_recipe, recompute, zero, optimizer_algorithm, grad_accumulation,
 * moe_dispatch_dtype, moe_fused_grouped_mlp, bf16_modules, mxfp8_modules, bf16_first_layers,
 * bf16_last_layers, cuda_graphs, schedule, micro_batch, microbatches, global_batch, seq -- those
 * the layout line names only where they apply (a power cap, ep/etp/edp of a MoE model, the fp8
 * recipe, Muon, ...) only there too, so that a script reads from it all the line says.
 * Returns how many.  Modelled reports only. */
#define REPORT_LAYOUT_FIELDS 30
#define REPORT_FIELD_LEN 160
struct report_field {
    const char *key;              /* JSON key, snake_case */
    char value[REPORT_FIELD_LEN]; /* as text; model and hardware names as their files give them */
    int bare;                     /* a number or true/false: JSON writes it without quotes */
};
int report_layout_fields(const struct scenario *scn, const struct report *rep,
                         struct report_field fields[REPORT_LAYOUT_FIELDS]);
/* The pipeline configuration every report states (the JSON report's "config" object, written
 * from them): schedule, pp, vp, vp_group, microbatches, micro_batch, layers, seq,
 * split_backward -- the first three as rep->layout has them. */
#define REPORT_CONFIG_FIELDS 9
void report_config_fields(const struct scenario *scn, const struct report *rep,
                          struct report_field fields[REPORT_CONFIG_FIELDS]);

/* The time breakdown as named parts, in the order of the text report and the JSON report's
 * "breakdown_s" object; `optional` parts (host offload) are left out of the text report when
 * zero. */
#define REPORT_BREAKDOWN_PARTS 10
struct report_part {
    const char *key;   /* JSON key: compute, recompute, tp, cp, ep, pp, bubble, dp, ... */
    const char *label; /* as the text report prints it */
    double s;          /* seconds, mean over pipeline ranks */
    int optional;
};
void report_breakdown_parts(const struct report_breakdown *b,
                            struct report_part parts[REPORT_BREAKDOWN_PARTS]);

#endif
