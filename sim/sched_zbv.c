/* sched_zbv: ZB-V, the zero-bubble schedule on a V (Qi et al., "Zero Bubble (Almost) Pipeline
 * Parallelism", ICLR 2024, sec. 6 and fig. 8).  The order is the static one of PyTorch's
 * ScheduleZBVZeroBubble (torch/distributed/pipelining/schedules.py).
 *
 * The model is cut into 2p stages placed in a V: rank r holds stage r (chunk 0) and stage
 * 2p-1-r (chunk 1), so a micro-batch goes down the ranks and back up, and its loss -- and so
 * its backward -- starts on rank 0, where it began.  Rank r:
 *  - warm-up: 2(p-r)-1 chunk-0 forwards; r pairs (chunk-1 F, chunk-0 F); p-r triples
 *    (chunk-1 F, B, W);
 *  - steady state, while forwards remain: chunk-0 F (if any left), B, W, then chunk-1 F, B, W;
 *  - cool-down: r pairs (chunk-0 B, chunk-1 B) with their W's held back, p-r pairs (chunk-0 B,
 *    the oldest held chunk-0 W), then the held chunk-1 W's, then the chunk-0 ones.
 * The order is laid out for max(2p-1, m) micro-batches and the ops of micro-batches past m
 * are dropped (as PyTorch does), so any m >= 1 runs.  With F = B = W and free links it keeps
 * every rank busy from its first op to the end of the steady state. */
#include "schedule.h"

static enum sim_status zbv_check(const struct sched_params *sp, struct sched_blame *blame,
                                 struct sim_error *err)
{
    *blame = (struct sched_blame){SP_VP, 0};
    if (sp->vp != 2)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "schedule=zb-v places exactly two model chunks per rank (a V) but vp=%d",
                       sp->vp);
    return SIM_OK;
}

/* Emits ops in order, dropping those of micro-batches past the real count. */
struct zbv_out {
    struct sched_op *ops;
    int k, m;
};

static void emit(struct zbv_out *o, enum op_kind kind, int chunk, int mb)
{
    if (mb < o->m)
        o->ops[o->k++] = (struct sched_op){(uint8_t)kind, mb, chunk, SCHED_ALONE};
}

static void zbv_build(const struct sched_params *sp, int rank, struct sched_op *out)
{
    int p = sp->pp, r = rank;
    int n = sp->microbatches > 2 * p - 1 ? sp->microbatches : 2 * p - 1;
    struct zbv_out o = {out, 0, sp->microbatches};
    int f0 = 0, f1 = 0, b0 = 0, b1 = 0;
    for (int i = 0; i < 2 * (p - r) - 1; i++)
        emit(&o, OP_F, 0, f0++);
    for (int i = 0; i < r; i++) {
        emit(&o, OP_F, 1, f1++);
        emit(&o, OP_F, 0, f0++);
    }
    for (int i = 0; i < p - r; i++) {
        emit(&o, OP_F, 1, f1++);
        emit(&o, OP_B, 1, b1);
        emit(&o, OP_W, 1, b1++);
    }
    while (f1 < f0 || f0 < n) {
        if (f0 < n)
            emit(&o, OP_F, 0, f0++);
        emit(&o, OP_B, 0, b0);
        emit(&o, OP_W, 0, b0++);
        emit(&o, OP_F, 1, f1++);
        emit(&o, OP_B, 1, b1);
        emit(&o, OP_W, 1, b1++);
    }
    int w0 = b0, w1 = b1;
    for (int i = 0; i < r; i++) {
        emit(&o, OP_B, 0, b0++);
        emit(&o, OP_B, 1, b1++);
    }
    for (int i = 0; i < p - r; i++) {
        emit(&o, OP_B, 0, b0++);
        emit(&o, OP_W, 0, w0++);
    }
    while (w1 < b1)
        emit(&o, OP_W, 1, w1++);
    while (w0 < b0)
        emit(&o, OP_W, 0, w0++);
}

const struct sched_type sched_zbv = {
    .name = "zb-v",
    .summary = "zero bubble V: two chunks per rank in a V, weight gradients fill the bubbles",
    .check = zbv_check,
    .build = zbv_build,
    .builds_w = 1,
    .placement = SCHED_V,
};
