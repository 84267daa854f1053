/* pipeline: one training step of a pipeline-parallel model, run on the discrete-event engine.
 *
 * Inputs (struct pipe_setup): a schedule, per-virtual-stage op durations, the bytes sent between
 * adjacent stages, the P2P links and the optimizer time per rank.  Semantics:
 *  - each rank runs its compute ops strictly in schedule order, one at a time;
 *  - an op starts when the rank is free, it is next, and its inputs have arrived: F of virtual
 *    stage s needs the activation from s-1 (s > the micro-batch's first stage), B needs its
 *    own F and the gradient from s+1 (s < its last stage), W needs its B.  A micro-batch's
 *    route is every stage, or half of them for the bidirectional schedule (schedule.h);
 *  - an overlapped F&B pair (schedule.h) starts when the inputs of both its ops are in; each
 *    op's exposed communication hides behind the other's compute (stage_*_comm), and the F's
 *    activation leaves with the B's gradient when the pair ends;
 *  - when F (or B) of stage s ends, the activation (gradient) goes to stage s+1 (s-1).  On
 *    another rank it is a transfer on the directed link src->dst: the link serialises
 *    bytes/bandwidth seconds, one transfer at a time in FIFO order, and the data arrives a
 *    latency after the serialisation ends.  Transfers that cost zero time arrive at once;
 *  - data parallelism (stage_dp[s] > 0): once chunk s has run its last backward (B, or W when
 *    split), the chunk's gradients are reduced across data-parallel replicas on the rank's
 *    communication stream, one chunk at a time.  With overlap_grad_reduce the reduction runs
 *    bucket by bucket while the chunk's last backward computes them: it starts with that
 *    backward and ends no earlier than its end plus the last bucket's reduction; without
 *    overlap it starts after the rank's last compute op.  The optimizer waits for all of its
 *    rank's reductions;
 *  - with blocking_p2p the sending rank stays blocked until its transfer has arrived;
 *  - with rendezvous_p2p (DeepSpeed's TrainSchedule: each step receives and sends before it
 *    computes, deepspeed/runtime/pipe/schedule.py) a transfer waits on its link until the
 *    receiving rank is free and its next op is the one that needs it (it has posted the
 *    receive); after a B whose next op is an F fed by another stage, the B's gradient is sent
 *    only once that F's activation has arrived (a forward step receives, then sends);
 *  - each rank ends with its optimizer op, then the parameter all-gather (rank_param_ag > 0,
 *    the distributed optimizer without overlapped gathering);
 *  - with jitter_cv > 0 every F/B/W duration is multiplied by a log-normal factor of mean 1 and
 *    that coefficient of variation (stragglers, clock and kernel-time noise), drawn from a GSL
 *    RNG owned by the step and seeded from `seed`: the same seed gives the same step.
 * Output (struct pipe_result): one record per op and transfer, per-rank busy time, peak
 * in-flight micro-batches and the step's key times. */
#ifndef STEPSIM_PIPELINE_H
#define STEPSIM_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "link.h"
#include "schedule.h"
#include "simtime.h"

enum rec_kind {
    REC_F = OP_F,
    REC_B = OP_B,
    REC_W = OP_W,
    REC_OPT = OP_OPT,
    REC_SEND_ACT,  /* activation transfer to the next virtual stage */
    REC_SEND_GRAD, /* gradient transfer to the previous virtual stage */
    REC_DP_SYNC,   /* data-parallel gradient reduction of one chunk (rank's comm stream) */
    REC_PARAM_AG,  /* distributed optimizer: all-gather of updated parameters */
};

/* Most (virtual stage, micro-batch) pairs one step may have: about 3 ops and 2 transfers each,
 * so about 4 GB of records at the cap. */
#define PIPE_MAX_CELLS (1 << 24)

struct pipe_setup {
    const struct sched_type *schedule;
    struct sched_params sp;
    simtime_t *stage_fwd; /* [pp*vp] F duration per virtual stage */
    simtime_t *stage_bwd; /* [pp*vp] B duration (input gradient only) */
    simtime_t *stage_wgt; /* [pp*vp] W duration (weight gradient) */
    simtime_t *rank_opt;  /* [pp] optimizer duration */
    /* [pp] of rank_opt, the weight-gradient GEMMs deferred to the flush, run first.  With
     * overlap_grad_reduce they start when the rank's last op has ended, while its gradient
     * reductions run: Megatron-Core launches those from the backward hooks, which the
     * deferred layer fires too (tensor_parallel/layers.py returns a dummy grad_weight), and
     * runs finish_embedding_wgrad_compute before finalize_model_grads waits for them
     * (pipeline_parallel/schedules.py; NVIDIA/Megatron-LM issue #1012).  0 = none. */
    simtime_t *rank_deferred;
    simtime_t *stage_dp;  /* [pp*vp] DP gradient reduction of the chunk; 0 = none */
    simtime_t *rank_param_ag; /* [pp] parameter all-gather after the optimizer; 0 = none */
    int overlap_grad_reduce;  /* reduce a chunk's gradients during its last backward */
    simtime_t *stage_dp_tail; /* [pp*vp] reduction of the chunk's last gradient bucket: with
                                 overlap the chunk's reduction starts when its last backward
                                 starts and ends no earlier than that backward's end + this */
    int blocking_p2p;         /* a rank waits until the activation / gradient it sent has
                                 arrived before its next op (Megatron without P2P overlap) */
    int rendezvous_p2p;       /* DeepSpeed's pipeline engine (with blocking_p2p): a transfer
                                 starts only once its receiver has posted the receive, and a
                                 gradient is sent only after the activation the rank's next
                                 forward needs has arrived */
    double act_bytes;     /* bytes per activation or gradient transfer */
    double jitter_cv;     /* coefficient of variation of F/B/W durations; 0 = exact */
    unsigned long seed;   /* seeds the step's GSL RNG (used only when jitter_cv > 0) */
    struct pipe_link *links; /* [2*pp]: link pipe_link_id(src, dst) */
    /* For overlapped F&B pairs (DualPipe): the exposed communication inside stage_fwd and
     * stage_bwd, which the partner op's compute can hide, and the share of the shorter of
     * compute and hidden communication that overlapping still costs.  Zero: none. */
    simtime_t *stage_fwd_comm; /* [pp*vp] */
    simtime_t *stage_bwd_comm; /* [pp*vp] */
    /* The layers (transformer and MTP) of each stage: a pair overlaps layer by layer, as many
     * as the smaller of its two chunks has, and the rest of each op runs alone with its
     * exchanges in line (Megatron-Core's model_chunk_schedule_plan.py).  Zeros where a stage
     * has no layers, or the costs are explicit (then there is no communication to hide). */
    int32_t *stage_layers; /* [pp*vp] */
    /* The activation bytes one micro-batch keeps in each stage, from its forward to the end
     * of its backward (the weight gradient's, when split): the engine's byte-weighted peak
     * (pipe_result.peak_act).  Zeros when the costs are explicit. */
    double *stage_act; /* [pp*vp] */
    double overlap_interference;
};

struct pipe_record {
    simtime_t start, end;
    int32_t rank;  /* compute: the rank; transfer: the sender */
    int32_t peer;  /* transfer: the receiver; -1 for compute */
    int32_t mb;    /* micro-batch; -1 for OPT */
    int32_t chunk; /* model chunk on `rank` (transfer: of the receiving op); -1 for OPT */
    int32_t stage; /* virtual stage of the op (transfer: of the receiving op) */
    uint8_t kind;    /* enum rec_kind */
    uint8_t overlap; /* compute: enum sched_overlap (part of an overlapped F&B pair?) */
    double bytes;    /* transfer size; 0 for compute */
};

struct pipe_result {
    int pp, vp, microbatches;
    struct pipe_record *recs; /* owned; in order of start (ties: order of starting) */
    size_t nrecs;
    simtime_t *busy;    /* [pp] time spent in F/B/W */
    simtime_t *opt_end; /* [pp] end of the rank's optimizer op (and parameter gather) */
    simtime_t *opt_start; /* [pp] start of the rank's optimizer op */
    simtime_t *compute_end_rank; /* [pp] end of the rank's last F/B/W */
    /* [pp] of rank_deferred, what ran before the optimizer op started, under the rank's
     * gradient reduction */
    simtime_t *opt_hidden;
    int *peak_inflight; /* [pp] max (micro-batch, chunk) activations held at once; an
                           overlapped pair's F takes its B's place (pipe_pair_defers) */
    /* [pp] the most activations held when an overlapped F&B pair whose B frees its own began,
     * counting the B's micro-batch, not the F's: the pair runs layer by layer, the F's layers
     * filling as the B's empty, so it holds one layer more than that at its crossing; 0
     * without such pairs (pipe_pair_holds). */
    int *pair_peak;
    /* [pp] the most activation bytes held at once: each (micro-batch, chunk) held weighed by
     * its stage's stage_act, taken at its F and given back at its B (W when split); an
     * overlapped pair's F and B hand over in place, as in peak_inflight */
    double *peak_act;
    simtime_t first_start;  /* earliest compute start */
    simtime_t compute_end;  /* latest F/B/W end: the pipeline makespan's end */
    simtime_t step_end;     /* latest optimizer end */
    uint64_t events;        /* events the engine processed */
};

/* Which of rank src's two outgoing link directions reaches dst (a neighbour). */
int pipe_link_id(int pp, int src, int dst);

/* Allocate setup arrays for pp ranks and vp chunks (all durations zero, free links). */
enum sim_status pipe_setup_init(struct pipe_setup *setup, const struct sched_type *schedule,
                                const struct sched_params *sp, struct sim_error *err);
void pipe_setup_release(struct pipe_setup *setup);

/* Run one step.  `res` is filled and owned by the caller (release with pipe_result_release). */
enum sim_status pipe_run(const struct pipe_setup *setup, struct pipe_result *res,
                         struct sim_error *err);
void pipe_result_release(struct pipe_result *res);

const char *rec_kind_name(enum rec_kind kind);

/* Does `op` defer its activations to the end of its pair's B (the B frees its own micro-batch's
 * as the F fills its): a pair's F, the backward not split.  Megatron-Core's merged F&B step runs
 * the F's layers front to back beside the B's back to front (models/common/
 * model_chunk_schedule_plan.py, TransformerModelChunkSchedulePlan.run: get_layer(i) with
 * pop_layer()), and each layer's backward frees what it kept.  Inline: asked for every op of
 * the simulation and of the planner's order-only peaks. */
static inline int pipe_pair_defers(const struct sched_op *op, int split_backward)
{
    return op->kind == OP_F && op->overlap == SCHED_PAIR_F && !split_backward;
}

/* The duration of one op of an overlapped F&B pair: `total` of which `comm` is its own
 * exchanges over `own` layers, beside a partner exchanging `partner_comm` over `other` layers
 * (the pipeline's op_duration, and the planner's bound, which must agree to the tick). */
simtime_t pipe_pair_duration(simtime_t total, simtime_t comm, simtime_t partner_comm, double own,
                             double other, double interference);

#endif
