/* sched_zbh1: ZB-H1, the zero-bubble schedule with 1F1B's memory (Qi et al., "Zero Bubble
 * (Almost) Pipeline Parallelism", ICLR 2024, sec. 3.1 and fig. 3; the handcrafted schedule of
 * github.com/sail-sg/zero-bubble-pipeline-parallelism).
 *
 * The backward is split into B (input gradient, on the critical path: the previous stage
 * waits for it) and W (weight gradient, needed by no one until the optimizer).  The forwards
 * and the B's run in exactly 1F1B's order; only the W's move.  Rank r of p holds back the W's
 * of its first r steady-state backwards and runs each later W right behind its B, oldest
 * pending first; the r held-back W's run after the last B, in the cool-down bubble 1F1B
 * leaves on the later ranks.  Rank 0 holds none back (it has no cool-down bubble), the last
 * rank p-1.  With F = B = W and free links the step shrinks from 1F1B's (m+p-1)(F+B+W) to
 * m(F+B+W) + (p-1)(F+B-W): a third of the bubble.  The in-flight activations stay at most p,
 * 1F1B's peak. */
#include "schedule.h"

static enum sim_status zbh1_check(const struct sched_params *sp, struct sched_blame *blame,
                                  struct sim_error *err)
{
    return sched_check_one_chunk("zb-h1", sp, blame, err);
}

static void zbh1_build(const struct sched_params *sp, int rank, struct sched_op *out)
{
    int m = sp->microbatches;
    int warmup = sched_1f1b_warmup(sp, rank);
    int held_back = rank < m - warmup ? rank : m - warmup;
    int nf = 0, nb = 0, nw = 0, k = 0;
    while (nf < warmup)
        out[k++] = (struct sched_op){OP_F, nf++, 0, SCHED_ALONE};
    while (nf < m) {
        out[k++] = (struct sched_op){OP_F, nf++, 0, SCHED_ALONE};
        out[k++] = (struct sched_op){OP_B, nb++, 0, SCHED_ALONE};
        if (nb > held_back)
            out[k++] = (struct sched_op){OP_W, nw++, 0, SCHED_ALONE};
    }
    while (nb < m) {
        out[k++] = (struct sched_op){OP_B, nb++, 0, SCHED_ALONE};
        out[k++] = (struct sched_op){OP_W, nw++, 0, SCHED_ALONE};
    }
    while (nw < m)
        out[k++] = (struct sched_op){OP_W, nw++, 0, SCHED_ALONE};
}

const struct sched_type sched_zbh1 = {
    .name = "zb-h1",
    .summary = "zero bubble H1: 1F1B order, weight gradients held back into the cool-down",
    .check = zbh1_check,
    .build = zbh1_build,
    .builds_w = 1,
};
