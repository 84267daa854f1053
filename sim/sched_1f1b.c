/* sched_1f1b: Megatron-LM's non-interleaved one-forward-one-backward (PipeDream-Flush).
 *
 * Rank r of p runs min(p - r - 1, m) warm-up forwards, then alternates one forward and one
 * backward until forwards run out, then cools down with the remaining backwards.  This is the
 * order of forward_backward_pipelining_without_interleaving in Megatron-LM
 * (megatron/core/pipeline_parallel/schedules.py). */
#include "schedule.h"

static enum sim_status f1b1_check(const struct sched_params *sp, enum sched_param *culprit,
                                  struct sim_error *err)
{
    return sched_check_one_chunk("1f1b", sp, culprit, err);
}

int sched_1f1b_warmup(const struct sched_params *sp, int rank)
{
    int warmup = sp->pp - rank - 1;
    return warmup < sp->microbatches ? warmup : sp->microbatches;
}

static void f1b1_build(const struct sched_params *sp, int rank, struct sched_op *out)
{
    int m = sp->microbatches;
    int warmup = sched_1f1b_warmup(sp, rank);
    int remaining = m - warmup, k = 0;
    for (int i = 0; i < warmup; i++)
        out[k++] = (struct sched_op){OP_F, i, 0, SCHED_ALONE};
    for (int i = 0; i < remaining; i++) {
        out[k++] = (struct sched_op){OP_F, warmup + i, 0, SCHED_ALONE};
        out[k++] = (struct sched_op){OP_B, i, 0, SCHED_ALONE};
    }
    for (int i = remaining; i < m; i++)
        out[k++] = (struct sched_op){OP_B, i, 0, SCHED_ALONE};
}

const struct sched_type sched_1f1b = {
    .name = "1f1b",
    .summary = "Megatron 1F1B: warm-up forwards, alternate, cool-down backwards",
    .check = f1b1_check,
    .build = f1b1_build,
};
