/* sched_1f1b: Megatron-LM's non-interleaved one-forward-one-backward (PipeDream-Flush).
 *
 * Rank r of p runs min(p - r - 1, m) warm-up forwards, then alternates one forward and one
 * backward until forwards run out, then cools down with the remaining backwards.  This is the
 * order of forward_backward_pipelining_without_interleaving in Megatron-LM
 * (megatron/core/pipeline_parallel/schedules.py).
 *
 * With pair_steady (expert-parallel overlap) every steady-state F runs with the B after it as
 * one overlapped pair, whose all-to-alls hide behind each other's compute (Megatron-Core's
 * --overlap-moe-expert-parallel-comm merges the two steps the same way).  A pair's F and B must
 * be different micro-batches and a pair's output leaves only when the pair ends, so warm-up
 * is min(2 (p - r - 1) + 1, m), the interleaved schedule's with one chunk, plus one. */
#include "schedule.h"

static enum sim_status f1b1_check(const struct sched_params *sp, struct sched_blame *blame,
                                  struct sim_error *err)
{
    return sched_check_one_chunk("1f1b", sp, blame, err);
}

int sched_1f1b_warmup(const struct sched_params *sp, int rank)
{
    /* Pairs send their F's output only when the pair ends, so a pair on rank r + 1 waits for
     * the pair on rank r that made its input: neighbours' warm-ups must differ by two for
     * their pairs to run side by side (as the interleaved schedule's do), and the last rank
     * needs one forward ahead of its first backward. */
    int warmup = sp->pair_steady ? 2 * (sp->pp - rank - 1) + 1 : sp->pp - rank - 1;
    return warmup < sp->microbatches ? warmup : sp->microbatches;
}

static void f1b1_build(const struct sched_params *sp, int rank, struct sched_op *out)
{
    int m = sp->microbatches;
    int warmup = sched_1f1b_warmup(sp, rank);
    int remaining = m - warmup, k = 0;
    for (int i = 0; i < warmup; i++)
        out[k++] = (struct sched_op){OP_F, i, 0, SCHED_ALONE};
    int pair = sp->pair_steady;
    for (int i = 0; i < remaining; i++) {
        out[k++] = (struct sched_op){OP_F, warmup + i, 0, pair ? SCHED_PAIR_F : SCHED_ALONE};
        out[k++] = (struct sched_op){OP_B, i, 0, pair ? SCHED_PAIR_B : SCHED_ALONE};
    }
    for (int i = remaining; i < m; i++)
        out[k++] = (struct sched_op){OP_B, i, 0, SCHED_ALONE};
}

const struct sched_type sched_1f1b = {
    .name = "1f1b",
    .summary = "Megatron 1F1B: warm-up forwards, alternate, cool-down backwards",
    .check = f1b1_check,
    .build = f1b1_build,
    .steady_pairs = 1,
    .megatron_stages = 1,
};
