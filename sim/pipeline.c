/* pipeline: simulate one step on the engine (semantics in pipeline.h).
 *
 * State per (virtual stage, micro-batch) is a byte of flags; ranks are small state machines
 * driven by the engine's events, and the links between them are link.c's.  Invariant: a rank is
 * busy with at most one op at any time. */
#include "pipeline.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "alloc.h"
#include "engine.h"
#include "link.h"

enum { EV_OP_DONE, EV_LINK_FREE, EV_ARRIVE, EV_DP_DONE, EV_AG_DONE };

enum {
    FL_ACT_IN = 1,  /* activation from stage s-1 has arrived */
    FL_GRAD_IN = 2, /* gradient from stage s+1 has arrived */
    FL_F_DONE = 4,
    FL_B_DONE = 8,
    FL_ACT_POSTED = 16,  /* rendezvous: the receive of the activation is posted */
    FL_GRAD_POSTED = 32, /* rendezvous: the receive of the gradient is posted */
};

struct rank_state {
    struct sched_op *ops; /* owned; this rank's order */
    size_t nops, next;    /* ops[next] runs next */
    int busy;
    size_t cur_rec; /* record of the running op */
    int inflight;   /* activations held: F started, backward not finished */
    double held;    /* their bytes (pipe_setup.stage_act) */
    /* Data-parallel comm stream: chunks whose gradients wait for / are in reduction. */
    int dp_queue[64]; /* chunks waiting, FIFO (vp <= 64 when DP sync is used) */
    int dp_head, dp_len;
    int dp_busy;
    int dp_left;                 /* reductions not yet finished (the optimizer waits for 0) */
    int *bwd_done;               /* [vp] backwards finished per chunk */
    int *bwd_started;            /* [vp] backwards started per chunk */
    simtime_t *dp_not_before;    /* [vp] earliest end of the chunk's reduction (last bucket) */
    int32_t blocked_on;          /* transfer this rank waits for (blocking P2P); -1 = none */
    int compute_left;            /* F/B/W ops not yet finished */
    simtime_t free_at;           /* when the optimizer op became next and the rank free; -1 */
    int32_t pair_stage, pair_mb; /* an overlapped pair's F output, sent when the pair ends */
    int32_t held_stage, held_mb; /* rendezvous: a B's gradient held until the next F's
                                    activation has arrived; -1 = none */
};

struct transfer {
    int32_t src, dst, stage, mb; /* stage: the receiving virtual stage */
    uint8_t grad;                /* 0 activation, 1 gradient */
};

/* The end of a link's serialisation whose event is not queued (link_start says why). */
struct link_end {
    simtime_t at;    /* when the link is free again */
    uint64_t ticket; /* the event's place in the order at that time (eng_reserve) */
    int owed;        /* reserved, and neither queued nor applied yet */
};

struct stage_place {
    int rank, chunk;
};

struct step_ctx {
    const struct pipe_setup *setup;
    struct pipe_result *res;
    struct engine eng;
    int pp, vp, stages, m;
    int chunk_mbs;   /* micro-batches through each chunk (sched_chunk_mbs) */
    int half_routes; /* micro-batches do not all pass every stage (SCHED_DUAL) */
    int *stage_at;   /* [pp*vp] sched_stage_of(rank, chunk) at rank * vp + chunk: asked on
                        every readiness check, so looked up, not recomputed */
    struct stage_place *place_of; /* [stages] sched_rank_of / sched_chunk_of, asked on every
                                     transfer: looked up likewise */
    struct rank_state *ranks;
    struct link_net net; /* the links' queues, indexed by pipe_link_id */
    struct link_end *link_end; /* [2*pp] by pipe_link_id */
    uint64_t owed_events;      /* link-free events reserved and never queued */
    struct transfer *xfers;
    size_t nxfers, xfer_cap, rec_cap;
    uint8_t *flags;                 /* [stages * m] */
    int32_t *unposted;              /* rendezvous: [stages * m * 2] the transfer (activation,
                                       gradient) of a (stage, mb) waiting for its receive to be
                                       posted; -1 = none; NULL without rendezvous */
    gsl_rng *rng;                   /* owned; NULL unless jitter_cv > 0 */
    double jitter_sigma, jitter_mu; /* log-normal parameters for a mean-1 factor */
};

int pipe_link_id(int pp, int src, int dst)
{
    /* Direction 0 goes to the next rank (ring order: the last rank's next is rank 0, which
     * interleaving uses), direction 1 to the previous.  With two ranks both are one link. */
    return 2 * src + (dst == (src + 1) % pp ? 0 : 1);
}

const char *rec_kind_name(enum rec_kind kind)
{
    switch (kind) {
    case REC_F: return "F";
    case REC_B: return "B";
    case REC_W: return "W";
    case REC_OPT: return "OPT";
    case REC_SEND_ACT: return "SEND_F";
    case REC_SEND_GRAD: return "SEND_B";
    case REC_DP_SYNC: return "DP_SYNC";
    case REC_PARAM_AG: return "PARAM_AG";
    }
    return "?";
}

static inline int stage_of(const struct step_ctx *c, int rank, int chunk)
{
    return c->stage_at[rank * c->vp + chunk];
}

static inline uint8_t *flag(struct step_ctx *c, int stage, int mb)
{
    return &c->flags[(size_t)stage * (size_t)c->m + (size_t)mb];
}

/* First and last virtual stage micro-batch `mb` passes through (sched_route; all stages
 * unless the micro-batches take half routes -- asked on every readiness check, so the common
 * case does not call out). */
static inline int route_first(const struct step_ctx *c, int mb)
{
    int first = 0, last;
    if (c->half_routes)
        sched_route(c->setup->schedule, &c->setup->sp, mb, &first, &last);
    return first;
}

static inline int route_last(const struct step_ctx *c, int mb)
{
    int first, last = c->stages - 1;
    if (c->half_routes)
        sched_route(c->setup->schedule, &c->setup->sp, mb, &first, &last);
    return last;
}

static struct pipe_record *new_record(struct step_ctx *c)
{
    assert(c->res->nrecs < c->rec_cap);
    struct pipe_record *r = &c->res->recs[c->res->nrecs++];
    memset(r, 0, sizeof *r);
    return r;
}

/* The op's own duration, and the part of it that is exposed communication (0 without the
 * cost model's split). */
static simtime_t plain_duration(const struct step_ctx *c, int rank, const struct sched_op *op,
                                simtime_t *comm)
{
    const struct pipe_setup *s = c->setup;
    *comm = 0;
    if (op->kind == OP_OPT)
        return s->rank_opt[rank];
    int stage = stage_of(c, rank, op->chunk);
    switch (op->kind) {
    case OP_F: *comm = s->stage_fwd_comm[stage]; return s->stage_fwd[stage];
    case OP_B:
        *comm = s->stage_bwd_comm[stage];
        return s->stage_bwd[stage] + (s->sp.split_backward ? 0 : s->stage_wgt[stage]);
    case OP_W: return s->stage_wgt[stage];
    default: return 0;
    }
}

/* An op of an overlapped F&B pair: its compute runs while its partner's communication does,
 * so it takes the longer of the two, plus the interference share of the shorter (the
 * communication kernels' SMs and memory traffic).  The pair overlaps as many layers as the
 * smaller chunk has: of each op's own communication, what its matched layers exchange is gone
 * from its duration (the partner's compute covers it), the rest stays in line. */
static simtime_t op_duration(const struct step_ctx *c, int rank, const struct rank_state *rs,
                             const struct sched_op *op)
{
    simtime_t comm, total = plain_duration(c, rank, op, &comm);
    if (op->overlap == SCHED_ALONE)
        return total;
    const struct sched_op *partner = op->overlap == SCHED_PAIR_F ? op + 1 : op - 1;
    assert(partner >= rs->ops && partner < rs->ops + rs->nops);
    simtime_t partner_comm;
    (void)plain_duration(c, rank, partner, &partner_comm);
    return pipe_pair_duration(total, comm, partner_comm,
                              c->setup->stage_layers[stage_of(c, rank, op->chunk)],
                              c->setup->stage_layers[stage_of(c, rank, partner->chunk)],
                              c->setup->overlap_interference);
}

simtime_t pipe_pair_duration(simtime_t total, simtime_t comm, simtime_t partner_comm, double own,
                             double other, double interference)
{
    double matched = own < other ? own : other;
    double in_line = own > 0 ? (double)comm * (1.0 - matched / own) : (double)comm;
    double hidden = other > 0 ? (double)partner_comm * matched / other : 0.0;
    double compute = (double)(total - comm);
    double longer = compute > hidden ? compute : hidden, shorter = compute + hidden - longer;
    return (simtime_t)llround(longer + interference * shorter + in_line);
}

/* Are the op's inputs in? */
static int inputs_in(struct step_ctx *c, int rank, const struct sched_op *op)
{
    if (op->kind == OP_OPT)
        return c->ranks[rank].dp_left == 0;
    int stage = stage_of(c, rank, op->chunk);
    uint8_t f = *flag(c, stage, op->mb);
    switch (op->kind) {
    case OP_F: return stage == route_first(c, op->mb) || (f & FL_ACT_IN);
    case OP_B: return (f & FL_F_DONE) && (stage == route_last(c, op->mb) || (f & FL_GRAD_IN));
    case OP_W: return (f & FL_B_DONE) != 0;
    default: return 0;
    }
}

/* An overlapped pair starts when both its ops' inputs are in (the B's F ran long before). */
static int op_ready(struct step_ctx *c, int rank, const struct sched_op *op)
{
    if (!inputs_in(c, rank, op))
        return 0;
    return op->overlap != SCHED_PAIR_F || inputs_in(c, rank, op + 1);
}

static enum sim_status dp_enqueue(struct step_ctx *c, int rank, int chunk, struct sim_error *err);
static enum sim_status send(struct step_ctx *c, int from, int to, int mb, struct sim_error *err);
static enum sim_status enqueue(struct step_ctx *c, int32_t xi, int id, struct sim_error *err);

/* Rendezvous: where the transfer of (stage, mb)'s activation or gradient waits for its
 * receive. */
static inline int32_t *unposted_slot(struct step_ctx *c, int stage, int mb, int grad)
{
    return &c->unposted[((size_t)stage * (size_t)c->m + (size_t)mb) * 2 + (size_t)grad];
}

/* Rendezvous: the free rank posts the receive its next op waits for; a transfer already sent
 * to it starts on its link. */
static enum sim_status post_receive(struct step_ctx *c, int rank, const struct sched_op *op,
                                    struct sim_error *err)
{
    if (op->kind != OP_F && op->kind != OP_B)
        return SIM_OK;
    int stage = stage_of(c, rank, op->chunk), grad = op->kind == OP_B;
    uint8_t *f = flag(c, stage, op->mb);
    uint8_t in = grad ? FL_GRAD_IN : FL_ACT_IN, posted = grad ? FL_GRAD_POSTED : FL_ACT_POSTED;
    int fed = grad ? stage != route_last(c, op->mb) : stage != route_first(c, op->mb);
    if (!fed || (*f & (in | posted)))
        return SIM_OK;
    *f |= posted;
    int32_t *slot = unposted_slot(c, stage, op->mb, grad);
    if (*slot < 0)
        return SIM_OK; /* not sent yet: send() will find the receive posted */
    int32_t xi = *slot;
    *slot = -1;
    return enqueue(c, xi, pipe_link_id(c->pp, c->xfers[xi].src, c->xfers[xi].dst), err);
}

/* Rendezvous: send the gradient held back after a B once the rank's next op, an F fed by
 * another stage, has its activation (DeepSpeed's forward step receives, then sends). */
static enum sim_status release_held(struct step_ctx *c, int rank, struct sim_error *err)
{
    struct rank_state *rs = &c->ranks[rank];
    if (rs->held_stage < 0)
        return SIM_OK;
    if (rs->next < rs->nops) {
        const struct sched_op *op = &rs->ops[rs->next];
        int stage = stage_of(c, rank, op->chunk);
        if (op->kind == OP_F && stage != route_first(c, op->mb) &&
            !(*flag(c, stage, op->mb) & FL_ACT_IN))
            return SIM_OK;
    }
    int from = rs->held_stage, mb = rs->held_mb;
    rs->held_stage = -1;
    enum sim_status st = send(c, from, from - 1, mb, err);
    if (st == SIM_OK && rs->blocked_on >= 0)
        rs->busy = 1; /* blocking P2P: the arrival frees it */
    return st;
}

/* How long `op` runs when rank starts it now: its cost, less what an overlapped optimizer hid
 * (the deferred GEMMs ran from free_at, beside the reductions it waited for), times the jitter
 * of any other op. */
static enum sim_status started_duration(struct step_ctx *c, int rank, const struct sched_op *op,
                                        simtime_t now, simtime_t *dur, struct sim_error *err)
{
    const struct rank_state *rs = &c->ranks[rank];
    *dur = op_duration(c, rank, rs, op);
    if (op->kind == OP_OPT && c->setup->overlap_grad_reduce) {
        simtime_t hidden = now - rs->free_at, deferred = c->setup->rank_deferred[rank];
        c->res->opt_hidden[rank] = hidden < deferred ? hidden : deferred;
        *dur -= c->res->opt_hidden[rank];
    }
    if (c->rng && op->kind != OP_OPT && *dur > 0) {
        double factor = gsl_ran_lognormal(c->rng, c->jitter_mu, c->jitter_sigma);
        simtime_t jittered = simtime_from_s(simtime_to_s(*dur) * factor);
        if (jittered < 0)
            return err_set(err, SIM_EFAIL, NULL, 0, "jittered op time overflows the clock");
        *dur = jittered;
    }
    if (*dur > SIMTIME_MAX - now)
        return err_set(err, SIM_EFAIL, NULL, 0, "simulated time overflows at rank %d", rank);
    return SIM_OK;
}

/* The record of `op` running on rank from now to end, which the rank is now busy with. */
static void record_start(struct step_ctx *c, int rank, const struct sched_op *op, simtime_t now,
                         simtime_t end)
{
    struct rank_state *rs = &c->ranks[rank];
    struct pipe_record *r = new_record(c);
    *r = (struct pipe_record){
        .start = now,
        .end = end,
        .rank = rank,
        .peer = -1,
        .mb = op->mb,
        .chunk = op->chunk,
        .stage = op->kind == OP_OPT ? -1 : stage_of(c, rank, op->chunk),
        .kind = op->kind,
        .overlap = op->overlap,
    };
    rs->busy = 1;
    rs->cur_rec = (size_t)(r - c->res->recs);
    if (op->kind == OP_OPT)
        c->res->opt_start[rank] = now;
}

/* With overlap-grad-reduce, the chunk's last gradient-producing op (ending at end) starts its
 * buckets' reduction: they reduce while it runs. */
static enum sim_status start_grad_reduce(struct step_ctx *c, int rank, const struct sched_op *op,
                                         simtime_t end, struct sim_error *err)
{
    struct rank_state *rs = &c->ranks[rank];
    int grad_op = op->kind == (c->setup->sp.split_backward ? OP_W : OP_B);
    if (grad_op && ++rs->bwd_started[op->chunk] == c->chunk_mbs && c->setup->overlap_grad_reduce) {
        int stage = stage_of(c, rank, op->chunk);
        rs->dp_not_before[op->chunk] = end + c->setup->stage_dp_tail[stage];
        return dp_enqueue(c, rank, op->chunk, err);
    }
    return SIM_OK;
}

/* The activations rank holds once `op` starts, and their peaks: a forward adds its stage's; an
 * overlapped forward-backward pair frees as much as it adds, and counts only for its own peak. */
static void count_activations(struct step_ctx *c, int rank, const struct sched_op *op)
{
    struct rank_state *rs = &c->ranks[rank];
    if (pipe_pair_defers(op, c->setup->sp.split_backward)) {
        if (rs->inflight > c->res->pair_peak[rank])
            c->res->pair_peak[rank] = rs->inflight;
    } else if (op->kind == OP_F) {
        if (++rs->inflight > c->res->peak_inflight[rank])
            c->res->peak_inflight[rank] = rs->inflight;
        rs->held += c->setup->stage_act[stage_of(c, rank, op->chunk)];
        if (rs->held > c->res->peak_act[rank])
            c->res->peak_act[rank] = rs->held;
    }
}

/* Start rank's next op if it can run now. */
static enum sim_status try_start(struct step_ctx *c, int rank, struct sim_error *err)
{
    struct rank_state *rs = &c->ranks[rank];
    if (rs->busy || rs->next == rs->nops)
        return SIM_OK;
    const struct sched_op *op = &rs->ops[rs->next];
    if (c->unposted) {
        enum sim_status st = post_receive(c, rank, op, err);
        if (st == SIM_OK)
            st = release_held(c, rank, err);
        if (st != SIM_OK || rs->busy)
            return st;
    }
    simtime_t now = eng_now(&c->eng);
    if (op->kind == OP_OPT && rs->free_at < 0)
        rs->free_at = now;
    if (!op_ready(c, rank, op))
        return SIM_OK;
    simtime_t dur;
    enum sim_status st = started_duration(c, rank, op, now, &dur, err);
    if (st != SIM_OK)
        return st;
    simtime_t end = now + dur;
    record_start(c, rank, op, now, end);
    if ((st = start_grad_reduce(c, rank, op, end, err)) != SIM_OK)
        return st;
    count_activations(c, rank, op);
    return eng_schedule(&c->eng, end, EV_OP_DONE, rank, 0, err);
}

/* Begin serialising the head of link `id`'s queue, if the link is free.
 *
 * Most transfers find their link idle and nothing queued behind them, so the event that frees
 * the link would only clear its busy flag.  Instead of scheduling it, link_start reserves its
 * place in the event order (eng_reserve) and owes it; the next link_start on the link -- called
 * once a transfer is queued -- settles the debt: if the run has passed that place, the link
 * went idle then with nothing waiting (all the event would have done), so it is idle now;
 * else the event is scheduled in its reserved place, to start the queued transfer exactly
 * when and in the order it did when every link-free was an event.  Invariant: a link with
 * transfers waiting never owes its free event. */
static enum sim_status link_start(struct step_ctx *c, int id, struct sim_error *err)
{
    struct link_end *e = &c->link_end[id];
    if (e->owed) {
        e->owed = 0;
        if (!eng_passed(&c->eng, e->at, e->ticket)) {
            c->owed_events--;
            return eng_schedule_reserved(&c->eng, e->at, e->ticket, EV_LINK_FREE, id, 0, err);
        }
        link_done(&c->net, id);
    }
    int32_t xi = link_take(&c->net, id);
    if (xi < 0)
        return SIM_OK;
    const struct transfer *x = &c->xfers[xi];
    double bytes = c->setup->act_bytes;
    simtime_t now = eng_now(&c->eng), free_at, arrive_at;
    enum sim_status st =
        link_net_timing(&c->net, id, bytes, now, &free_at, &arrive_at, err);
    if (st != SIM_OK)
        return st;
    struct pipe_record *r = new_record(c);
    *r = (struct pipe_record){
        .start = now,
        .end = arrive_at,
        .rank = x->src,
        .peer = x->dst,
        .mb = x->mb,
        .chunk = c->place_of[x->stage].chunk,
        .stage = x->stage,
        .kind = x->grad ? REC_SEND_GRAD : REC_SEND_ACT,
        .bytes = bytes,
    };
    uint64_t ticket = eng_reserve(&c->eng);
    if (link_has_waiting(&c->net, id)) { /* the invariant: the event frees the link */
        st = eng_schedule_reserved(&c->eng, free_at, ticket, EV_LINK_FREE, id, 0, err);
    } else {
        *e = (struct link_end){.at = free_at, .ticket = ticket, .owed = 1};
        c->owed_events++;
    }
    if (st == SIM_OK)
        st = eng_schedule(&c->eng, arrive_at, EV_ARRIVE, x->dst, xi, err);
    return st;
}

/* Send stage `from`'s output for `mb` to stage `to` (adjacent). */
static enum sim_status send(struct step_ctx *c, int from, int to, int mb, struct sim_error *err)
{
    int src = c->place_of[from].rank;
    int dst = c->place_of[to].rank;
    int grad = to < from;
    assert(c->nxfers < c->xfer_cap);
    int32_t xi = (int32_t)c->nxfers++;
    c->xfers[xi] = (struct transfer){src, dst, to, mb, (uint8_t)grad};
    int id = pipe_link_id(c->pp, src, dst);
    /* the same rank, or a link that costs nothing: it arrives now and takes no link time */
    if (src == dst || link_costs_nothing(&c->setup->links[id], c->setup->act_bytes))
        return eng_schedule(&c->eng, eng_now(&c->eng), EV_ARRIVE, dst, xi, err);
    if (c->setup->blocking_p2p)
        c->ranks[src].blocked_on = xi; /* on_op_done keeps the rank busy until arrival */
    uint8_t posted = grad ? FL_GRAD_POSTED : FL_ACT_POSTED;
    if (c->unposted && !(*flag(c, to, mb) & posted)) { /* waits for its receive */
        *unposted_slot(c, to, mb, grad) = xi;
        return SIM_OK;
    }
    return enqueue(c, xi, id, err);
}

/* Queue transfer xi on link `id` and start the link if it is free. */
static enum sim_status enqueue(struct step_ctx *c, int32_t xi, int id, struct sim_error *err)
{
    link_enqueue(&c->net, id, xi);
    return link_start(c, id, err);
}

/* Start the next queued gradient reduction on rank's comm stream. */
static enum sim_status dp_start(struct step_ctx *c, int rank, struct sim_error *err)
{
    struct rank_state *rs = &c->ranks[rank];
    if (rs->dp_busy || rs->dp_len == 0)
        return SIM_OK;
    int chunk = rs->dp_queue[rs->dp_head];
    rs->dp_head = (rs->dp_head + 1) % 64;
    rs->dp_len--;
    simtime_t now = eng_now(&c->eng), dur = c->setup->stage_dp[stage_of(c, rank, chunk)];
    if (dur > SIMTIME_MAX - now)
        return err_set(err, SIM_EFAIL, NULL, 0, "simulated time overflows at rank %d", rank);
    simtime_t end = now + dur;
    if (end < rs->dp_not_before[chunk])
        end = rs->dp_not_before[chunk];
    struct pipe_record *r = new_record(c);
    *r = (struct pipe_record){.start = now,
                              .end = end,
                              .rank = rank,
                              .peer = -1,
                              .mb = -1,
                              .chunk = chunk,
                              .stage = stage_of(c, rank, chunk),
                              .kind = REC_DP_SYNC};
    rs->dp_busy = 1;
    return eng_schedule(&c->eng, end, EV_DP_DONE, rank, 0, err);
}

static enum sim_status dp_enqueue(struct step_ctx *c, int rank, int chunk, struct sim_error *err)
{
    /* (declared above try_start) */
    struct rank_state *rs = &c->ranks[rank];
    if (c->setup->stage_dp[stage_of(c, rank, chunk)] <= 0)
        return SIM_OK;
    assert(rs->dp_len < 64);
    rs->dp_queue[(rs->dp_head + rs->dp_len) % 64] = chunk;
    rs->dp_len++;
    return dp_start(c, rank, err);
}

/* A backward-type op (B, or W when split) of `chunk` finished: maybe its gradients are final. */
static enum sim_status grads_progress(struct step_ctx *c, int rank, int chunk,
                                      struct sim_error *err)
{
    (void)err;
    c->ranks[rank].bwd_done[chunk]++;
    return SIM_OK;
}

static enum sim_status on_dp_done(struct engine *eng, const struct evq_event *ev, void *user,
                                  struct sim_error *err)
{
    (void)eng;
    struct step_ctx *c = user;
    struct rank_state *rs = &c->ranks[ev->target];
    rs->dp_busy = 0;
    rs->dp_left--;
    enum sim_status st = dp_start(c, ev->target, err);
    if (st == SIM_OK)
        st = try_start(c, ev->target, err);
    return st;
}

static enum sim_status on_ag_done(struct engine *eng, const struct evq_event *ev, void *user,
                                  struct sim_error *err)
{
    (void)eng;
    (void)err;
    struct step_ctx *c = user;
    c->res->opt_end[ev->target] = eng_now(&c->eng);
    return SIM_OK;
}

/* The optimizer step has ended on `rank`: the parameters' all-gather follows where it does not
 * hide behind the next step's forward. */
static enum sim_status on_opt_done(struct step_ctx *c, int rank, const struct pipe_record *r,
                                   struct sim_error *err)
{
    c->res->opt_end[rank] = r->end;
    simtime_t ag = c->setup->rank_param_ag[rank];
    if (ag <= 0)
        return SIM_OK;
    struct pipe_record *a = new_record(c);
    *a = (struct pipe_record){.start = r->end,
                              .end = r->end + ag,
                              .rank = rank,
                              .peer = -1,
                              .mb = -1,
                              .chunk = -1,
                              .stage = -1,
                              .kind = REC_PARAM_AG};
    return eng_schedule(&c->eng, a->end, EV_AG_DONE, rank, 0, err);
}

/* A backward op has ended: its activations go (unless a W op still reads them), its gradients
 * progress, and the input gradient travels to the previous stage -- an overlapped pair's F
 * output with it. */
static enum sim_status on_b_done(struct step_ctx *c, int rank, const struct sched_op *op,
                                 int stage, struct sim_error *err)
{
    struct rank_state *rs = &c->ranks[rank];
    enum sim_status st = SIM_OK;
    if (!c->setup->sp.split_backward) {
        if (op->overlap != SCHED_PAIR_B) { /* else the pair's F's take this one's place */
            rs->inflight--;
            rs->held -= c->setup->stage_act[stage];
        }
        st = grads_progress(c, rank, op->chunk, err);
    }
    if (op->overlap == SCHED_PAIR_B && st == SIM_OK && rs->pair_stage >= 0) {
        if (rs->pair_stage < route_last(c, rs->pair_mb))
            st = send(c, rs->pair_stage, rs->pair_stage + 1, rs->pair_mb, err);
        rs->pair_stage = -1;
    }
    if (stage > route_first(c, op->mb) && st == SIM_OK) {
        if (c->unposted) { /* rendezvous: sent when try_start releases it */
            rs->held_stage = stage;
            rs->held_mb = op->mb;
        } else {
            st = send(c, stage, stage - 1, op->mb, err);
        }
    }
    return st;
}

static enum sim_status on_op_done(struct engine *eng, const struct evq_event *ev, void *user,
                                  struct sim_error *err)
{
    (void)eng;
    struct step_ctx *c = user;
    int rank = ev->target;
    struct rank_state *rs = &c->ranks[rank];
    const struct sched_op *op = &rs->ops[rs->next];
    struct pipe_record *r = &c->res->recs[rs->cur_rec];
    rs->busy = 0;
    rs->next++;
    if (op->kind == OP_OPT)
        return on_opt_done(c, rank, r, err);
    enum sim_status st = SIM_OK;
    c->res->busy[rank] += r->end - r->start;
    c->res->compute_end_rank[rank] = r->end;
    int stage = stage_of(c, rank, op->chunk);
    uint8_t *f = flag(c, stage, op->mb);
    switch (op->kind) {
    case OP_F:
        *f |= FL_F_DONE;
        if (op->overlap == SCHED_PAIR_F) { /* leaves with the pair's B output */
            rs->pair_stage = stage;
            rs->pair_mb = op->mb;
        } else if (stage < route_last(c, op->mb)) {
            st = send(c, stage, stage + 1, op->mb, err);
        }
        break;
    case OP_B:
        *f |= FL_B_DONE;
        st = on_b_done(c, rank, op, stage, err);
        break;
    case OP_W:
        rs->inflight--; /* W still reads the saved inputs: activations live until it ends */
        rs->held -= c->setup->stage_act[stage];
        st = grads_progress(c, rank, op->chunk, err);
        break;
    }
    /* Without overlap, every chunk's reduction starts after the rank's last compute op. */
    if (st == SIM_OK && --rs->compute_left == 0 && !c->setup->overlap_grad_reduce)
        for (int ch = 0; ch < c->vp && st == SIM_OK; ch++)
            st = dp_enqueue(c, rank, ch, err);
    if (st != SIM_OK)
        return st;
    if (rs->blocked_on >= 0) { /* blocking P2P: wait for the send to land */
        rs->busy = 1;
        return SIM_OK;
    }
    return try_start(c, rank, err);
}

static enum sim_status on_link_free(struct engine *eng, const struct evq_event *ev, void *user,
                                    struct sim_error *err)
{
    (void)eng;
    struct step_ctx *c = user;
    link_done(&c->net, (int)ev->target);
    return link_start(c, ev->target, err);
}

static enum sim_status on_arrive(struct engine *eng, const struct evq_event *ev, void *user,
                                 struct sim_error *err)
{
    (void)eng;
    struct step_ctx *c = user;
    const struct transfer *x = &c->xfers[ev->data];
    *flag(c, x->stage, x->mb) |= x->grad ? FL_GRAD_IN : FL_ACT_IN;
    struct rank_state *sender = &c->ranks[x->src];
    if (sender->blocked_on == (int32_t)ev->data) {
        sender->blocked_on = -1;
        sender->busy = 0;
        enum sim_status st = try_start(c, x->src, err);
        if (st != SIM_OK)
            return st;
    }
    return try_start(c, x->dst, err);
}

enum sim_status pipe_setup_init(struct pipe_setup *setup, const struct sched_type *schedule,
                                const struct sched_params *sp, struct sim_error *err)
{
    memset(setup, 0, sizeof *setup);
    /* Refuse up front what would exhaust memory or overflow int counters in the schedules. */
    double cells = (double)sp->pp * (double)sp->vp * (double)sp->microbatches;
    if (cells > PIPE_MAX_CELLS)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "pp*vp*microbatches = %.0f exceeds the simulation cap of %d "
                       "(stage, micro-batch) pairs",
                       cells, PIPE_MAX_CELLS);
    setup->schedule = schedule;
    setup->sp = *sp;
    size_t stages = (size_t)sp->pp * (size_t)sp->vp;
    setup->stage_fwd = mem_calloc(stages, sizeof(simtime_t));
    setup->stage_bwd = mem_calloc(stages, sizeof(simtime_t));
    setup->stage_wgt = mem_calloc(stages, sizeof(simtime_t));
    setup->rank_opt = mem_calloc((size_t)sp->pp, sizeof(simtime_t));
    setup->rank_deferred = mem_calloc((size_t)sp->pp, sizeof(simtime_t));
    setup->links = mem_calloc(2 * (size_t)sp->pp, sizeof(struct pipe_link));
    setup->stage_dp = mem_calloc(stages, sizeof(simtime_t));
    setup->rank_param_ag = mem_calloc((size_t)sp->pp, sizeof(simtime_t));
    setup->stage_dp_tail = mem_calloc(stages, sizeof(simtime_t));
    setup->stage_fwd_comm = mem_calloc(stages, sizeof(simtime_t));
    setup->stage_bwd_comm = mem_calloc(stages, sizeof(simtime_t));
    setup->stage_layers = mem_calloc(stages, sizeof(int32_t));
    setup->stage_act = mem_calloc(stages, sizeof(double));
    if (!setup->stage_dp_tail || !setup->stage_fwd_comm || !setup->stage_bwd_comm ||
        !setup->stage_layers || !setup->stage_act ||
        !setup->stage_fwd || !setup->stage_bwd || !setup->stage_wgt || !setup->rank_opt ||
        !setup->rank_deferred ||
        !setup->links || !setup->stage_dp || !setup->rank_param_ag) {
        pipe_setup_release(setup);
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory for %zu pipeline stages", stages);
    }
    return SIM_OK;
}

void pipe_setup_release(struct pipe_setup *setup)
{
    mem_free(setup->stage_fwd);
    mem_free(setup->stage_bwd);
    mem_free(setup->stage_wgt);
    mem_free(setup->rank_opt);
    mem_free(setup->rank_deferred);
    mem_free(setup->links);
    mem_free(setup->stage_dp);
    mem_free(setup->rank_param_ag);
    mem_free(setup->stage_dp_tail);
    mem_free(setup->stage_fwd_comm);
    mem_free(setup->stage_bwd_comm);
    mem_free(setup->stage_layers);
    mem_free(setup->stage_act);
    memset(setup, 0, sizeof *setup);
}

void pipe_result_release(struct pipe_result *res)
{
    mem_free(res->recs);
    mem_free(res->busy);
    mem_free(res->opt_end);
    mem_free(res->peak_inflight);
    mem_free(res->pair_peak);
    mem_free(res->peak_act);
    mem_free(res->opt_start);
    mem_free(res->compute_end_rank);
    mem_free(res->opt_hidden);
    memset(res, 0, sizeof *res);
}

static void ctx_release(struct step_ctx *c)
{
    if (c->ranks)
        for (int r = 0; r < c->pp; r++) {
            mem_free(c->ranks[r].ops);
            mem_free(c->ranks[r].bwd_done);
            mem_free(c->ranks[r].bwd_started);
            mem_free(c->ranks[r].dp_not_before);
        }
    mem_free(c->ranks);
    link_net_release(&c->net);
    mem_free(c->link_end);
    mem_free(c->xfers);
    mem_free(c->flags);
    mem_free(c->unposted);
    mem_free(c->stage_at);
    mem_free(c->place_of);
    if (c->rng)
        gsl_rng_free(c->rng);
    eng_release(&c->eng);
}

/* The step's arrays: ranks, links, transfers, (stage, micro-batch) flags, the stage each
 * rank's chunk holds, and the result's records and per-rank figures.  -1 when out of memory
 * (what was allocated is released with the context and the result). */
static int alloc_step(struct step_ctx *c, struct pipe_result *res, size_t cells)
{
    c->ranks = mem_calloc((size_t)c->pp, sizeof *c->ranks);
    int net_ok = link_net_init(&c->net, c->setup->links, 2 * c->pp, c->xfer_cap) == 0;
    c->link_end = mem_calloc(2 * (size_t)c->pp, sizeof *c->link_end);
    c->xfers = mem_array(c->xfer_cap, sizeof *c->xfers); /* each set when created */
    c->flags = mem_calloc(cells, 1);
    if (c->setup->rendezvous_p2p) {
        c->unposted = mem_calloc(2 * cells, sizeof *c->unposted);
        for (size_t i = 0; c->unposted && i < 2 * cells; i++)
            c->unposted[i] = -1;
    }
    c->stage_at = mem_calloc((size_t)c->stages, sizeof *c->stage_at);
    c->place_of = mem_calloc((size_t)c->stages, sizeof *c->place_of);
    res->recs = mem_array(c->rec_cap, sizeof *res->recs); /* zeroed by new_record */
    res->busy = mem_calloc((size_t)c->pp, sizeof *res->busy);
    res->opt_end = mem_calloc((size_t)c->pp, sizeof *res->opt_end);
    res->peak_inflight = mem_calloc((size_t)c->pp, sizeof *res->peak_inflight);
    res->pair_peak = mem_calloc((size_t)c->pp, sizeof *res->pair_peak);
    res->peak_act = mem_calloc((size_t)c->pp, sizeof *res->peak_act);
    res->opt_start = mem_calloc((size_t)c->pp, sizeof *res->opt_start);
    res->compute_end_rank = mem_calloc((size_t)c->pp, sizeof *res->compute_end_rank);
    res->opt_hidden = mem_calloc((size_t)c->pp, sizeof *res->opt_hidden);
    return c->ranks && net_ok && c->link_end && c->xfers && c->flags && c->stage_at &&
                   c->place_of && res->recs &&
                   (c->unposted || !c->setup->rendezvous_p2p) &&
                   res->busy && res->opt_end && res->peak_inflight && res->pair_peak &&
                   res->peak_act &&
                   res->opt_start &&
                   res->compute_end_rank && res->opt_hidden
               ? 0
               : -1;
}

/* Jitter's random stream and lognormal parameters, when the scenario asks for jitter; -1 when
 * out of memory. */
static int init_jitter(struct step_ctx *c, const struct pipe_setup *setup)
{
    if (setup->jitter_cv <= 0)
        return 0;
    c->rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!c->rng)
        return -1;
    /* GSL's mt19937 takes seed 0 as its default seed 4357: user seed s seeds s + 1
     * (1 .. 2^31, never 0), so every seed a scenario can give is its own stream. */
    gsl_rng_set(c->rng, setup->seed + 1);
    /* mean of lognormal = exp(mu + sigma^2/2) = 1; cv^2 = exp(sigma^2) - 1 */
    c->jitter_sigma = sqrt(log1p(setup->jitter_cv * setup->jitter_cv));
    c->jitter_mu = -0.5 * c->jitter_sigma * c->jitter_sigma;
    return 0;
}

/* Each rank's op order (the schedule's, per_rank ops) and its counters; -1 when out of
 * memory. */
static int init_ranks(struct step_ctx *c, size_t per_rank)
{
    const struct pipe_setup *setup = c->setup;
    for (int r = 0; r < c->pp; r++) {
        struct rank_state *rs = &c->ranks[r];
        rs->ops = mem_calloc(per_rank, sizeof(struct sched_op));
        if (!rs->ops)
            return -1;
        rs->nops = per_rank;
        sched_build(setup->schedule, &setup->sp, r, rs->ops);
        rs->bwd_done = mem_calloc((size_t)c->vp, sizeof(int));
        rs->bwd_started = mem_calloc((size_t)c->vp, sizeof(int));
        rs->dp_not_before = mem_calloc((size_t)c->vp, sizeof(simtime_t));
        if (!rs->bwd_done || !rs->bwd_started || !rs->dp_not_before)
            return -1;
        rs->blocked_on = -1;
        rs->pair_stage = -1;
        rs->held_stage = -1;
        rs->compute_left = (int)per_rank - 1;
        rs->free_at = -1;
        for (int ch = 0; ch < c->vp; ch++)
            rs->dp_left += setup->stage_dp[stage_of(c, r, ch)] > 0;
    }
    return 0;
}

static enum sim_status ctx_init(struct step_ctx *c, const struct pipe_setup *setup,
                                struct pipe_result *res, struct sim_error *err)
{
    const struct sched_params *sp = &setup->sp;
    memset(c, 0, sizeof *c);
    memset(res, 0, sizeof *res);
    c->setup = setup;
    c->res = res;
    c->pp = sp->pp;
    c->vp = sp->vp;
    c->m = sp->microbatches;
    c->stages = sp->pp * sp->vp;
    c->chunk_mbs = sched_chunk_mbs(setup->schedule, sp);
    c->half_routes = setup->schedule->placement == SCHED_DUAL;
    size_t per_rank = sched_ops_per_rank(setup->schedule, sp);
    size_t cells = (size_t)c->stages * (size_t)c->m;
    c->xfer_cap = 2 * cells; /* at most one activation and one gradient per (stage, mb) */
    /* Records: ops, transfers, one reduction per chunk and one parameter gather per rank. */
    c->rec_cap = per_rank * (size_t)c->pp + c->xfer_cap + (size_t)c->stages + (size_t)c->pp;
    /* Pending events never exceed a few per rank, one per link and one per transfer. */
    eng_init(&c->eng, (size_t)c->pp * 6 + c->xfer_cap + 16);

    res->pp = c->pp;
    res->vp = c->vp;
    res->microbatches = c->m;
    if (alloc_step(c, res, cells) != 0)
        goto fail;
    for (int r = 0; r < c->pp; r++)
        for (int ch = 0; ch < c->vp; ch++)
            c->stage_at[r * c->vp + ch] = sched_stage_of(setup->schedule, c->pp, r, ch);
    for (int s = 0; s < c->stages; s++)
        c->place_of[s] = (struct stage_place){sched_rank_of(setup->schedule, c->pp, s),
                                              sched_chunk_of(setup->schedule, c->pp, s)};
    if (c->vp > 64) {
        for (int s = 0; s < c->stages; s++)
            if (setup->stage_dp[s] > 0) {
                ctx_release(c);
                pipe_result_release(res);
                return err_set(err, SIM_EINPUT, NULL, 0,
                               "vp=%d: data-parallel reduction is modelled for vp <= 64", c->vp);
            }
    }
    if (init_jitter(c, setup) != 0 || init_ranks(c, per_rank) != 0)
        goto fail;
    eng_register(&c->eng, EV_OP_DONE, "op-done", on_op_done, c);
    eng_register(&c->eng, EV_LINK_FREE, "link-free", on_link_free, c);
    eng_register(&c->eng, EV_ARRIVE, "arrive", on_arrive, c);
    eng_register(&c->eng, EV_DP_DONE, "dp-done", on_dp_done, c);
    eng_register(&c->eng, EV_AG_DONE, "ag-done", on_ag_done, c);
    return SIM_OK;
fail:
    ctx_release(c);
    pipe_result_release(res);
    return err_set(err, SIM_EFAIL, NULL, 0,
                   "out of memory simulating pp=%d vp=%d microbatches=%d (%zu records)", c->pp,
                   c->vp, c->m, c->rec_cap);
}

/* Records are appended in start order already, except that an op started inside a handler
 * is appended when it starts, which is also its start time: the array is sorted by start. */
static void summarise(struct step_ctx *c)
{
    struct pipe_result *res = c->res;
    res->first_start = SIMTIME_MAX;
    res->compute_end = 0;
    res->step_end = 0;
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        if (r->kind == REC_F || r->kind == REC_B || r->kind == REC_W) {
            if (r->start < res->first_start)
                res->first_start = r->start;
            if (r->end > res->compute_end)
                res->compute_end = r->end;
        }
        if (r->end > res->step_end)
            res->step_end = r->end;
    }
    if (res->first_start == SIMTIME_MAX)
        res->first_start = 0;
    /* The events a step takes are the same however many link-free events were owed and
     * settled without being queued (link_start): count those too. */
    res->events = c->eng.processed + c->owed_events;
}

enum sim_status pipe_run(const struct pipe_setup *setup, struct pipe_result *res,
                         struct sim_error *err)
{
    struct step_ctx c;
    enum sim_status st = ctx_init(&c, setup, res, err);
    if (st != SIM_OK)
        return st;
    for (int r = 0; r < c.pp && st == SIM_OK; r++)
        st = try_start(&c, r, err);
    if (st == SIM_OK)
        st = eng_run(&c.eng, err);
    for (int r = 0; r < c.pp && st == SIM_OK; r++) {
        const struct rank_state *rs = &c.ranks[r];
        if (rs->next < rs->nops) {
            const struct sched_op *op = &rs->ops[rs->next];
            st = err_set(err, SIM_EFAIL, NULL, 0,
                         "deadlock: rank %d waits forever at op %zu (%s micro-batch %d chunk %d); "
                         "the schedule's order cannot be executed",
                         r, rs->next, op_kind_name(op->kind), op->mb, op->chunk);
        }
    }
    if (st == SIM_OK)
        summarise(&c);
    ctx_release(&c);
    if (st != SIM_OK)
        pipe_result_release(res);
    return st;
}
