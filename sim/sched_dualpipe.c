/* sched_dualpipe: DualPipe, the bidirectional pipeline of DeepSeek-V3 (DeepSeek-AI, "DeepSeek-V3
 * Technical Report", arXiv:2412.19437, sec. 3.2.1 and fig. 5), and DualPipeV, its V-shaped
 * "cut-in-half" form.  The order is the one of DualPipe.step in github.com/deepseek-ai/DualPipe
 * (dualpipe/dualpipe.py), step by step; DualPipeV runs the same steps on one half.
 *
 * DualPipe cuts the model into pp parts and every rank holds two of them: part r (chunk 0) for
 * the micro-batches that run down the ranks and part pp-1-r (chunk 1) for those that run up,
 * so rank 0 and rank pp-1 each feed half of the micro-batches in (two copies of the
 * parameters).  For rank r the "near" direction is the one in which it is among the first half
 * of the stages (down for r < pp/2, up otherwise), the "far" one the other.  Rank r, with
 * h = min(r, pp-1-r) its place in its half, H = pp/2 ranks per half and n = m/2 micro-batches
 * per direction, runs
 *   1. 2(H-h-1) near forwards;
 *   2. h+1 pairs (near F, far F);
 *   3. H-h-1 triples (far B with its W at once, far F);
 *   4. n-2H+h+1 rounds of two overlapped pairs: (near F & far B), (far F & near B) -- on the
 *      middle ranks (h = H-1) the first round's first pair runs as plain F then B;
 *   5. H-h-1 rounds (far B, then the pair far F & near B);
 *   6. h+1 pairs of backwards (far B, near B); from the middle of this step on, the
 *      backwards leave their weight gradients (W) for later, zero-bubble style;
 *   7. H-h-1 rounds (the oldest held W, near B holding its W);
 *   8. the h+1 W's still held, oldest first.
 * A backward that does not hold its W runs the W right behind it (one full backward), so
 * every B has its W.  DualPipe needs an even pp, an even m and m >= 2pp; its bubble is
 * (pp/2-1)(F&B + B - 3W).
 *
 * DualPipeV (Sea AI Lab's cut-in-half procedure, adopted in deepseek-ai/DualPipe) folds the
 * two halves of a 2pp-rank DualPipe onto pp ranks: the V placement of ZB-V (rank r holds stages
 * r and 2pp-1-r of a 2pp-part model), every micro-batch down and back up, chunk 0 near and
 * chunk 1 far on every rank, and the same eight steps with h = r, H = pp and n = m (m >= 2pp).
 *
 * An overlapped pair (F&B) is marked SCHED_PAIR_F / SCHED_PAIR_B: it starts when both its
 * inputs are in, the two ops' communication hides behind each other's compute, and both
 * outputs leave when the pair ends (pipeline.c). */
#include "schedule.h"

static enum sim_status dualpipe_check(const struct sched_params *sp, struct sched_blame *blame,
                                      struct sim_error *err)
{
    *blame = (struct sched_blame){SP_VP, 0};
    if (sp->vp != 2)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "schedule=dualpipe holds two model chunks per rank (one per direction) "
                       "but vp=%d",
                       sp->vp);
    *blame = (struct sched_blame){SP_PP, 0};
    if (sp->pp % 2 != 0)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "schedule=dualpipe needs an even pp (its two halves mirror each other) "
                       "but pp=%d",
                       sp->pp);
    *blame = (struct sched_blame){SP_MICROBATCHES, SP_BIT(SP_PP)};
    if (sp->microbatches % 2 != 0 || sp->microbatches < 2 * sp->pp)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "schedule=dualpipe needs an even number of micro-batches, at least "
                       "2*pp=%d (half run each way), but microbatches=%d",
                       2 * sp->pp, sp->microbatches);
    return SIM_OK;
}

struct dual_rank {
    struct sched_op *out;
    int k;            /* ops emitted */
    int n;            /* micro-batches through each chunk */
    int chunk[2];     /* [near, far] -> chunk */
    int mb_base[2];   /* by chunk: the first micro-batch id (DualPipe's up-runners: n) */
    int nf[2], nb[2]; /* forwards / backwards emitted per chunk */
    int held;         /* index in out[] from which every B holds its W (-1 = none yet) */
    int next_w;       /* where the search for the oldest held W resumes */
};

enum { NEAR, FAR };

static void emit(struct dual_rank *d, enum op_kind kind, int chunk, int mb, int overlap)
{
    d->out[d->k++] = (struct sched_op){(uint8_t)kind, mb, chunk, (uint8_t)overlap};
}

static void forward(struct dual_rank *d, int phase, int overlap)
{
    int c = d->chunk[phase];
    emit(d, OP_F, c, d->mb_base[c] + d->nf[c]++, overlap);
}

/* A backward; unless it holds its weight gradient, the W runs right behind it. */
static void backward(struct dual_rank *d, int phase, int hold, int overlap)
{
    int c = d->chunk[phase], mb = d->mb_base[c] + d->nb[c]++;
    if (hold && d->held < 0)
        d->held = d->next_w = d->k;
    emit(d, OP_B, c, mb, overlap);
    if (!hold)
        emit(d, OP_W, c, mb, SCHED_ALONE);
}

/* The oldest held W.  Every B from the first held one on holds its W, and W's are released
 * in the order their B's ran, so the next one is at the next B from where the last was. */
static void release_w(struct dual_rank *d)
{
    while (d->out[d->next_w].kind != OP_B)
        d->next_w++;
    const struct sched_op *b = &d->out[d->next_w++];
    emit(d, OP_W, b->chunk, b->mb, SCHED_ALONE);
}

/* Overlapped F&B: the forward of `fphase` and the backward of `bphase`. */
static void pair(struct dual_rank *d, int fphase, int bphase)
{
    forward(d, fphase, SCHED_PAIR_F);
    backward(d, bphase, 0, SCHED_PAIR_B);
}

/* The eight steps for the rank at place h of a half of `half` ranks (see the top). */
static void dual_steps(struct dual_rank *d, int h, int half)
{
    int middle = h == half - 1;
    for (int i = 0; i < 2 * (half - h - 1); i++) /* 1 */
        forward(d, NEAR, SCHED_ALONE);
    for (int i = 0; i < h + 1; i++) { /* 2 */
        forward(d, NEAR, SCHED_ALONE);
        forward(d, FAR, SCHED_ALONE);
    }
    for (int i = 0; i < half - h - 1; i++) { /* 3: the W is taken back at once */
        backward(d, FAR, 0, SCHED_ALONE);
        forward(d, FAR, SCHED_ALONE);
    }
    for (int i = 0; i < d->n - 2 * half + h + 1; i++) { /* 4 */
        if (i == 0 && middle) { /* not overlapped, to shorten the bubble (DualPipe's note) */
            forward(d, NEAR, SCHED_ALONE);
            backward(d, FAR, 0, SCHED_ALONE);
        } else {
            pair(d, NEAR, FAR);
        }
        pair(d, FAR, NEAR);
    }
    for (int i = 0; i < half - h - 1; i++) { /* 5 */
        backward(d, FAR, 0, SCHED_ALONE);
        pair(d, FAR, NEAR);
    }
    int hold = 0; /* 6: the later half of these backwards hold their W's */
    for (int i = 0; i < h + 1; i++) {
        if (i == (h + 1) / 2 && h % 2 == 1)
            hold = 1;
        backward(d, FAR, hold, SCHED_ALONE);
        if (i == (h + 1) / 2 && h % 2 == 0)
            hold = 1;
        backward(d, NEAR, hold, SCHED_ALONE);
    }
    for (int i = 0; i < half - h - 1; i++) { /* 7 */
        release_w(d);
        backward(d, NEAR, 1, SCHED_ALONE);
    }
    for (int i = 0; i < h + 1; i++) /* 8 */
        release_w(d);
}

static void dualpipe_build(const struct sched_params *sp, int rank, struct sched_op *out)
{
    int p = sp->pp, n = sp->microbatches / 2;
    struct dual_rank d = {.out = out, .n = n, .held = -1, .mb_base = {0, n}};
    d.chunk[NEAR] = rank < p / 2 ? 0 : 1;
    d.chunk[FAR] = 1 - d.chunk[NEAR];
    dual_steps(&d, rank < p - 1 - rank ? rank : p - 1 - rank, p / 2);
}

static void dualpipev_build(const struct sched_params *sp, int rank, struct sched_op *out)
{
    struct dual_rank d = {.out = out, .n = sp->microbatches, .held = -1, .chunk = {0, 1}};
    dual_steps(&d, rank, sp->pp);
}

static enum sim_status dualpipev_check(const struct sched_params *sp, struct sched_blame *blame,
                                       struct sim_error *err)
{
    *blame = (struct sched_blame){SP_VP, 0};
    if (sp->vp != 2)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "schedule=dualpipe-v places exactly two model chunks per rank (a V) but "
                       "vp=%d",
                       sp->vp);
    *blame = (struct sched_blame){SP_MICROBATCHES, SP_BIT(SP_PP)};
    if (sp->microbatches < 2 * sp->pp)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "schedule=dualpipe-v needs at least 2*pp=%d micro-batches (one per "
                       "stage of the V), but microbatches=%d",
                       2 * sp->pp, sp->microbatches);
    return SIM_OK;
}

const struct sched_type sched_dualpipe = {
    .name = "dualpipe",
    .summary = "DualPipe: micro-batches fed from both ends, overlapped forward-backward pairs",
    .check = dualpipe_check,
    .build = dualpipe_build,
    .builds_w = 1,
    .placement = SCHED_DUAL,
    .pairs = 1,
};

const struct sched_type sched_dualpipev = {
    .name = "dualpipe-v",
    .summary = "DualPipeV: DualPipe cut in half onto a V, overlapped forward-backward pairs",
    .check = dualpipev_check,
    .build = dualpipev_build,
    .builds_w = 1,
    .placement = SCHED_V,
    .pairs = 1,
};
