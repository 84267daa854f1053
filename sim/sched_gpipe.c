/* sched_gpipe: GPipe (Huang et al. 2019) -- every forward, then every backward.
 *
 * Micro-batches run in ascending order in both phases (as PyTorch's ScheduleGPipe does); the
 * makespan with uniform costs is (m + p - 1)(f + b), like 1F1B, but all m activations are held
 * at the peak.  One model chunk per rank. */
#include "schedule.h"

static enum sim_status gpipe_check(const struct sched_params *sp, struct sched_blame *blame,
                                   struct sim_error *err)
{
    return sched_check_one_chunk("gpipe", sp, blame, err);
}

static void gpipe_build(const struct sched_params *sp, int rank, struct sched_op *out)
{
    (void)rank;
    int m = sp->microbatches, k = 0;
    for (int mb = 0; mb < m; mb++)
        out[k++] = (struct sched_op){OP_F, mb, 0, SCHED_ALONE};
    for (int mb = 0; mb < m; mb++)
        out[k++] = (struct sched_op){OP_B, mb, 0, SCHED_ALONE};
}

const struct sched_type sched_gpipe = {
    .name = "gpipe",
    .summary = "all forwards, then all backwards",
    .check = gpipe_check,
    .build = gpipe_build,
};
