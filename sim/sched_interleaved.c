/* sched_interleaved: Megatron-LM's interleaved 1F1B (Narayanan et al., SC'21, section 2.2).
 *
 * Each rank holds vp model chunks.  The k-th "virtual micro-batch" of a rank is looked up in a
 * table built the way Megatron-LM's get_schedule_table builds it: micro-batches are taken in
 * groups of g (microbatch_group_size_per_vp_stage, default pp); within a group every chunk
 * 0..vp-1 runs the whole group before the next chunk, and the last group takes whatever
 * micro-batches remain.  Forward k uses entry k; backward k uses entry k with the chunk
 * mirrored (vp-1-c), so backwards walk chunks in reverse.  Warm-up is
 * 2(p - r - 1) + (vp - 1) g forwards, capped at m*vp; then one forward, one backward; then the
 * remaining backwards (megatron/core/pipeline_parallel/schedules.py).  With pair_steady each
 * steady-state F and the B after it run as one overlapped pair (expert-parallel overlap); the
 * warm-up grows by one forward so that the two are never the same (micro-batch, chunk) -- on
 * the last rank they would be at the first steady step. */
#include "schedule.h"

static int group_size(const struct sched_params *sp)
{
    return sp->vp_group > 0 ? sp->vp_group : sp->pp;
}

static enum sim_status interleaved_check(const struct sched_params *sp, struct sched_blame *blame,
                                         struct sim_error *err)
{
    int p = sp->pp, m = sp->microbatches, g = group_size(sp);
    *blame = (struct sched_blame){SP_VP, 0};
    if (sp->vp < 2)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "schedule=interleaved needs vp >= 2 model chunks per rank, got vp=%d; "
                       "use schedule=1f1b for one chunk",
                       sp->vp);
    *blame = (struct sched_blame){SP_PP, 0};
    if (p < 2) /* megatron/core/parallel_state.py, initialize_model_parallel */
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "schedule=interleaved needs pp >= 2: Megatron-Core refuses "
                       "interleaving on one pipeline stage; use schedule=1f1b (vp=1) for pp=1");
    /* The three rules Megatron-LM enforces in forward_backward_pipelining_with_interleaving. */
    *blame = (struct sched_blame){SP_VP_GROUP, SP_BIT(SP_PP)};
    if (g < p)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "vp-group=%d is smaller than pp=%d: micro-batches per chunk group must "
                       "be in [pp, microbatches] (Megatron rule)",
                       g, p);
    if (g > m && sp->vp_group == 0) {
        *blame = (struct sched_blame){SP_MICROBATCHES, SP_BIT(SP_PP)};
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "microbatches=%d is fewer than pp=%d: the interleaved schedule needs at "
                       "least pp micro-batches (Megatron rule)",
                       m, p);
    }
    *blame = (struct sched_blame){SP_VP_GROUP, SP_BIT(SP_MICROBATCHES)};
    if (g > m)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "vp-group=%d exceeds microbatches=%d: micro-batches per chunk group "
                       "must be in [pp, microbatches] (Megatron rule)",
                       g, m);
    *blame = (struct sched_blame){SP_MICROBATCHES, SP_BIT(SP_VP_GROUP) | SP_BIT(SP_PP)};
    if (m % g != 0 && m % g < p)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "microbatches=%d leaves a last group of %d (mod vp-group=%d) smaller "
                       "than pp=%d, which stalls the pipeline (Megatron rule: m %% g must be 0 "
                       "or >= pp)",
                       m, m % g, g, p);
    return SIM_OK;
}

/* Entry k of the schedule table: which micro-batch and (forward) chunk. */
static void table_entry(const struct sched_params *sp, int k, int *mb, int *chunk)
{
    int m = sp->microbatches, v = sp->vp, g = group_size(sp);
    int group_start = (k / (g * v)) * g; /* full groups before this one: g*v entries each */
    int size = g;
    if (group_start + g >= m) /* the last group absorbs the remainder */
        size = m - group_start;
    int offset = k - group_start * v;
    *chunk = offset / size;
    *mb = group_start + offset % size;
}

int sched_interleaved_warmup(const struct sched_params *sp, int rank)
{
    int p = sp->pp, v = sp->vp, g = group_size(sp), total = sp->microbatches * v;
    int warmup = 2 * (p - rank - 1) + (v - 1) * g + (sp->pair_steady ? 1 : 0);
    return warmup < total ? warmup : total;
}

static void interleaved_build(const struct sched_params *sp, int rank, struct sched_op *out)
{
    int v = sp->vp, m = sp->microbatches;
    int total = m * v;
    int warmup = sched_interleaved_warmup(sp, rank);
    int remaining = total - warmup, n = 0, mb, chunk;

    for (int k = 0; k < warmup; k++) {
        table_entry(sp, k, &mb, &chunk);
        out[n++] = (struct sched_op){OP_F, mb, chunk, SCHED_ALONE};
    }
    int pair = sp->pair_steady; /* steady-state F&B pairs (expert-parallel overlap) */
    for (int i = 0; i < remaining; i++) {
        table_entry(sp, warmup + i, &mb, &chunk);
        out[n++] = (struct sched_op){OP_F, mb, chunk, pair ? SCHED_PAIR_F : SCHED_ALONE};
        table_entry(sp, i, &mb, &chunk);
        out[n++] = (struct sched_op){OP_B, mb, v - 1 - chunk, pair ? SCHED_PAIR_B : SCHED_ALONE};
    }
    for (int k = remaining; k < total; k++) {
        table_entry(sp, k, &mb, &chunk);
        out[n++] = (struct sched_op){OP_B, mb, v - 1 - chunk, SCHED_ALONE};
    }
}

const struct sched_type sched_interleaved = {
    .name = "interleaved",
    .summary = "Megatron interleaved 1F1B over vp model chunks per rank",
    .check = interleaved_check,
    .build = interleaved_build,
    .steady_pairs = 1,
    .vp_any = 1,
    .megatron_stages = 1,
};
