/* plan_bound: a lower bound on a config's step and its peak in-flight activations, from the
 * pipeline setup alone (plan_bound.h). */
#include "plan_bound.h"

#include <assert.h>
#include <string.h>

#include "alloc.h"
#include "pipeline.h"
#include "schedule.h"

/* A growable list of count vectors (vp ints each). */
struct vec_list {
    int *v;
    size_t n, cap, vp;
};

/* Does a dominate b (at least as large in every chunk)? */
static int dominates(const int *a, const int *b, size_t vp)
{
    for (size_t k = 0; k < vp; k++)
        if (a[k] < b[k])
            return 0;
    return 1;
}

/* Add `cur` to the frontier `f` unless a member dominates it (the last one added first: in the
 * steady state the counts repeat); drop the members it dominates.  -1: out of memory. */
static int frontier_add(struct vec_list *f, const int *cur)
{
    for (size_t i = f->n; i-- > 0;)
        if (dominates(f->v + i * f->vp, cur, f->vp))
            return 0;
    size_t kept = 0;
    for (size_t i = 0; i < f->n; i++)
        if (!dominates(cur, f->v + i * f->vp, f->vp))
            memmove(f->v + kept++ * f->vp, f->v + i * f->vp, f->vp * sizeof *f->v);
    f->n = kept;
    while ((f->n + 1) * f->vp > f->cap) {
        int *grown = mem_grow(f->v, f->cap, &f->cap, sizeof *f->v);
        if (!grown)
            return -1;
        f->v = grown;
    }
    memcpy(f->v + f->n++ * f->vp, cur, f->vp * sizeof *cur);
    return 0;
}

/* One rank's walk of its order: the peak count, the pairs' peak and (when `f`) the frontier of
 * count vectors.  A rank runs its ops one at a time in this order and the simulator counts an
 * activation from its F's start to its B's end (W's, when split; a deferring pair's F from its
 * B's end, pipe_pair_defers), so what it holds after each op does not depend on timing; the
 * bytes held only grow along a run of forwards, so a run's end is the frontier's candidate. */
static int walk_rank(const struct sched_op *ops, size_t n, int split, int *cur, size_t vp,
                     int *max, int *pair, struct vec_list *f)
{
    int release = split ? OP_W : OP_B, held = 0, rising = 0;
    *max = *pair = 0;
    memset(cur, 0, vp * sizeof *cur);
    for (size_t i = 0; i < n; i++) {
        const struct sched_op *op = &ops[i];
        if (pipe_pair_defers(op, split)) {
            *pair = held > *pair ? held : *pair;
        } else if (op->kind == OP_F) {
            *max = ++held > *max ? held : *max;
            cur[op->chunk]++;
            rising = 1;
        } else if (op->kind == release && !(op->overlap == SCHED_PAIR_B && !split)) {
            if (rising && f && frontier_add(f, cur) != 0)
                return -1;
            rising = 0;
            held--;
            cur[op->chunk]--;
        }
    }
    return rising && f ? frontier_add(f, cur) : 0;
}

int plan_bound_peak_inflight(const struct pipe_setup *setup, int *peak)
{
    int pp = setup->sp.pp, split = setup->sp.split_backward;
    size_t vp = (size_t)setup->sp.vp, n = sched_ops_per_rank(setup->schedule, &setup->sp);
    struct sched_op *ops = mem_calloc(n, sizeof *ops);
    int *cur = mem_calloc(vp, sizeof *cur);
    int failed = !ops || !cur;
    for (int r = 0; r < pp && !failed; r++) {
        sched_build(setup->schedule, &setup->sp, r, ops);
        walk_rank(ops, n, split, cur, vp, &peak[r], &peak[pp + r], NULL);
    }
    mem_free(ops);
    mem_free(cur);
    return failed ? -1 : 0;
}

int *plan_bound_rank_frontier(const struct pipe_setup *setup, int rank)
{
    int split = setup->sp.split_backward, max, pair;
    size_t vp = (size_t)setup->sp.vp, n = sched_ops_per_rank(setup->schedule, &setup->sp);
    struct sched_op *ops = mem_calloc(n, sizeof *ops);
    int *cur = mem_calloc(vp, sizeof *cur), *block = NULL;
    struct vec_list f = {.vp = vp};
    if (ops && cur) {
        sched_build(setup->schedule, &setup->sp, rank, ops);
        if (walk_rank(ops, n, split, cur, vp, &max, &pair, &f) == 0 &&
            (block = mem_calloc(1 + f.n * vp, sizeof *block))) {
            block[0] = (int)f.n;
            if (f.n)
                memcpy(block + 1, f.v, f.n * vp * sizeof *block);
        }
    }
    mem_free(ops);
    mem_free(cur);
    mem_free(f.v);
    return block;
}

int plan_bound_chunks_even(const struct pipe_setup *setup, int rank)
{
    int pp = setup->sp.pp;
    double first = setup->stage_act[sched_stage_of(setup->schedule, pp, rank, 0)];
    for (int ch = 1; ch < setup->sp.vp; ch++)
        if (setup->stage_act[sched_stage_of(setup->schedule, pp, rank, ch)] != first)
            return 0;
    return 1;
}

double plan_bound_peak_act(const struct pipe_setup *setup, const int *block, int rank, int count)
{
    int vp = setup->sp.vp, pp = setup->sp.pp;
    if (!block) /* even chunks: the count times their bytes */
        return count * setup->stage_act[sched_stage_of(setup->schedule, pp, rank, 0)];
    double peak = 0.0;
    for (int i = 0; i < block[0]; i++) {
        const int *v = block + 1 + (size_t)i * (size_t)vp;
        double bytes = 0.0;
        for (int ch = 0; ch < vp; ch++)
            bytes += v[ch] * setup->stage_act[sched_stage_of(setup->schedule, pp, rank, ch)];
        peak = bytes > peak ? bytes : peak;
    }
    return peak;
}

static simtime_t time_min(simtime_t a, simtime_t b)
{
    return a < b ? a : b;
}

/* The least an op can take, alone (`total`, its communication exposed) or in an overlapped
 * F&B pair (the longer of its work and the partner communication it hides, at least
 * `partner_comm`: the pipeline's op_duration; own exchanges a pair leaves in line only add). */
static simtime_t pair_op_least(simtime_t total, simtime_t comm, simtime_t partner_comm)
{
    simtime_t work = total - comm, paired = work > partner_comm ? work : partner_comm;
    return time_min(paired, total);
}

/* The least partner communication an op of stage `st` hides: over the rank's two chunks, the
 * exchanges of as many of the partner's layers as the pair matches (the pipeline's
 * op_duration), rounded down. */
static simtime_t least_hidden(const simtime_t *comm, const int32_t *layers, int st, int st0,
                              int st1)
{
    simtime_t least = 0;
    for (int i = 0; i < 2; i++) {
        int q = i == 0 ? st0 : st1;
        int32_t matched = layers[st] < layers[q] ? layers[st] : layers[q];
        simtime_t h = layers[q] > 0 ? (simtime_t)((double)comm[q] * matched / layers[q]) : 0;
        least = i == 0 || h < least ? h : least;
    }
    return least;
}

/* The bound of the DualPipe family, whose overlapped pairs may take less than their ops'
 * durations -- never less than their work, nor than the communication of the partner they
 * hide (a forward's partner is a backward of one of the rank's two chunks, and the other way
 * round): rank r runs each micro-batch of each of its chunks (m, or m/2 when they take half
 * routes), each op at least pair_op_least of the least communication a partner brings, and no
 * op of it can start before some micro-batch has run the forwards in front of it -- down from
 * rank 0 or, with half routes, up from rank p-1 -- at least their work each; its optimizer
 * (and parameter gather) follow. */
static simtime_t step_bound_pairs(const struct pipe_setup *s)
{
    int p = s->sp.pp, mbs = sched_chunk_mbs(s->schedule, &s->sp);
    int both_ends = s->schedule->placement == SCHED_DUAL, split = s->sp.split_backward;
    simtime_t best = 0;
    for (int r = 0; r < p; r++) {
        simtime_t work = 0, down = 0, up = 0;
        int st0 = sched_stage_of(s->schedule, p, r, 0), st1 = sched_stage_of(s->schedule, p, r, 1);
        for (int c = 0; c < 2; c++) {
            int st = c == 0 ? st0 : st1;
            simtime_t b = s->stage_bwd[st] + (split ? 0 : s->stage_wgt[st]);
            simtime_t least_b = least_hidden(s->stage_bwd_comm, s->stage_layers, st, st0, st1);
            simtime_t least_f = least_hidden(s->stage_fwd_comm, s->stage_layers, st, st0, st1);
            work += pair_op_least(s->stage_fwd[st], s->stage_fwd_comm[st], least_b) +
                    pair_op_least(b, s->stage_bwd_comm[st], least_f) +
                    (split ? s->stage_wgt[st] : 0);
        }
        for (int q = 0; q < r; q++) /* the first stages, on ranks q < r */
            down += s->stage_fwd[q] - s->stage_fwd_comm[q];
        for (int q = p - 1; q > r && both_ends; q--) { /* the up-stages on ranks q > r */
            int st = sched_stage_of(s->schedule, p, q, 1);
            up += s->stage_fwd[st] - s->stage_fwd_comm[st];
        }
        simtime_t front = both_ends && up < down ? up : down;
        simtime_t a = front + mbs * work + s->rank_opt[r] + s->rank_param_ag[r];
        if (a > best)
            best = a;
    }
    return best;
}

/* A lower bound on the step time (first compute start -> last optimizer end), from the op
 * durations the simulator will use.  Sound because every term is work that must run in
 * sequence, and P2P transfers, DP reductions and waiting only add time:
 *  - no op of rank r can start before micro-batch data has passed the chunk-0 stages of ranks
 *    0..r-1 (every op of rank r needs some F of a stage >= r): front_r = sum F(s), s < r;
 *  - rank r then runs all its ops one at a time: work_r = m x sum over its chunks of F+B+W;
 *    its optimizer (and parameter gather) follow its last compute op;
 *  - all of rank r's ops except split-off W ops precede the chunk-0 B of some micro-batch
 *    (its last one), after which the gradient still walks back through the B ops of stages
 *    r-1..0 and then rank 0's optimizer runs.
 * For uniform stages without communication this is exactly the 1F1B / interleaved makespan
 * (m + (p-1)/v)(f+b), so the bound is tight where the pipeline is.  Under the expert-parallel
 * overlap (pair_steady) see steady_pair_rank_work. */

/* An F (b = 0) or B (b = 1; with its W unless split) of stage `st`: its duration alone, and
 * of it the exchanges a pair partner can hide. */
static simtime_t op_alone(const struct pipe_setup *s, int b, int st, simtime_t *comm)
{
    if (!b) {
        *comm = s->stage_fwd_comm[st];
        return s->stage_fwd[st];
    }
    *comm = s->stage_bwd_comm[st];
    return s->stage_bwd[st] + (s->sp.split_backward ? 0 : s->stage_wgt[st]);
}

/* The least an F (b = 0) or B (b = 1) of stage `st` on rank r takes as one op of a steady
 * pair: the pipeline's own pair duration (pipe_pair_duration) with the partner -- a B, or an
 * F, of any of the rank's chunks -- that makes it least. */
static simtime_t pair_least_op(const struct pipe_setup *s, int b, int r, int st)
{
    simtime_t comm, total = op_alone(s, b, st, &comm), least = 0;
    for (int c = 0; c < s->sp.vp; c++) {
        int q = sched_stage_of(s->schedule, s->sp.pp, r, c);
        simtime_t partner_comm;
        (void)op_alone(s, !b, q, &partner_comm);
        simtime_t d = pipe_pair_duration(total, comm, partner_comm, s->stage_layers[st],
                                         s->stage_layers[q], s->overlap_interference);
        least = c == 0 || d < least ? d : least;
    }
    return least;
}

/* Rank r's work under Megatron-Core's expert-parallel overlap (pair_steady, 1F1B and
 * interleaved), for the same three terms, each op counted at what the pipeline will make it
 * take.  Rank r's
 * order holds, per chunk, m F's and m B's: its first w_r F's (the warm-up) and last w_r B's
 * (the cool-down) run alone, at their whole duration; the other m v - w_r of each run in
 * pairs, an op of stage st at least pair_least_op (the pair's duration is the longer of its
 * compute and the partner's hidden exchanges, plus interference and the exchanges left in
 * line: each term grows with the op's compute, its exchanges and its partner's, so the least
 * over the partners the rank has is a floor, and no knob the bound is shared across shortens
 * any of them).  With l = min(alone, paired) per chunk:
 *   work_r >= m sum_c (lF_c + lB_c + W_c if split) + w_r (min_c (F_c - lF_c) + min_c (B_c - lB_c)).
 * The front and tail are alone ops: every rank's first op is F(mb 0, chunk 0), a warm-up F
 * (w_r >= 1), so rank r starts no earlier than F(0) of stages 0..r-1 have run in turn, each
 * alone; every rank's last op is the B of the same (micro-batch, chunk 0) -- the table does
 * not depend on the rank -- a cool-down B, alone. */
static simtime_t steady_pair_rank_work(const struct pipe_setup *s, int r, simtime_t *wsplit)
{
    int p = s->sp.pp, v = s->sp.vp, m = s->sp.microbatches, split = s->sp.split_backward;
    simtime_t work = 0, extra_f = 0, extra_b = 0;
    /* the two schedules with steady pairs; a third must say its warm-up here, or the bound
     * counts the wrong ops alone */
    assert(s->schedule == &sched_1f1b || s->schedule == &sched_interleaved);
    int warmup = s->schedule == &sched_1f1b ? sched_1f1b_warmup(&s->sp, r)
                                            : sched_interleaved_warmup(&s->sp, r);
    *wsplit = 0;
    for (int c = 0; c < v; c++) {
        int st = sched_stage_of(s->schedule, p, r, c);
        simtime_t comm, af = op_alone(s, 0, st, &comm), ab = op_alone(s, 1, st, &comm);
        simtime_t lf = time_min(af, pair_least_op(s, 0, r, st));
        simtime_t lb = time_min(ab, pair_least_op(s, 1, r, st));
        work += lf + lb + (split ? s->stage_wgt[st] : 0);
        *wsplit += split ? s->stage_wgt[st] : 0;
        extra_f = c == 0 || af - lf < extra_f ? af - lf : extra_f;
        extra_b = c == 0 || ab - lb < extra_b ? ab - lb : extra_b;
    }
    *wsplit *= m;
    return m * work + warmup * (extra_f + extra_b);
}

/* Rank r's F, B and W ops over the step, each at its whole duration. */
static simtime_t plain_rank_work(const struct pipe_setup *s, int r, simtime_t *wsplit)
{
    int p = s->sp.pp, v = s->sp.vp, m = s->sp.microbatches, split = s->sp.split_backward;
    simtime_t work = 0;
    *wsplit = 0;
    for (int c = 0; c < v; c++) {
        int st = sched_stage_of(s->schedule, p, r, c);
        work += s->stage_fwd[st] + s->stage_bwd[st] + s->stage_wgt[st];
        *wsplit += split ? s->stage_wgt[st] : 0;
    }
    *wsplit *= m;
    return m * work;
}

/* The three terms above, over every rank, with each rank's work as rank_work counts it (of it,
 * *wsplit the split W ops, which rank 0's tail does not wait for). */
typedef simtime_t rank_work_fn(const struct pipe_setup *s, int r, simtime_t *wsplit);

static simtime_t step_bound_ranks(const struct pipe_setup *s, rank_work_fn *rank_work)
{
    int split = s->sp.split_backward;
    simtime_t best = 0, front = 0, tail = 0;
    for (int r = 0; r < s->sp.pp; r++) {
        simtime_t wsplit, work = rank_work(s, r, &wsplit);
        simtime_t a = front + work + s->rank_opt[r] + s->rank_param_ag[r];
        simtime_t b = front + work - wsplit + tail + s->rank_opt[0] + s->rank_param_ag[0];
        if (a > best)
            best = a;
        if (b > best)
            best = b;
        front += s->stage_fwd[r];
        tail += s->stage_bwd[r] + (split ? 0 : s->stage_wgt[r]);
    }
    return best;
}

simtime_t plan_bound_step(const struct pipe_setup *s)
{
    if (s->schedule->pairs)
        return step_bound_pairs(s);
    if (s->sp.pair_steady && s->schedule->steady_pairs)
        return step_bound_ranks(s, steady_pair_rank_work);
    return step_bound_ranks(s, plain_rank_work);
}
