/* memtimeline: activation memory per rank over time (format in memtimeline.h).
 *
 * Invariant: a rank's peak is its cm_rank_memory activations and total to the byte -- the same
 * terms, added in the same order, each drawn only while it holds.
 * O(records x ranks): each rank scans the records once; fine for the step sizes stepsim caps. */
#include "memtimeline.h"

#include "timeline.h"

/* Where a rank's activations stand between two of its changes. */
struct held {
    double bytes;    /* the in-flight (micro-batch, chunk)s', as the engine weighs them */
    int count;       /* how many */
    int in_pair;     /* an overlapped F&B pair runs: one layer more at its crossing */
    int in_backward; /* a backward runs: what offload-modules reloads is back */
};

/* Does `rec` belong to an overlapped pair whose F defers its activations to the B's end
 * (pipe_pair_defers)?  The B hands them over as it frees its own: neither op moves the count,
 * and the pair holds one layer more while it runs. */
static int deferring_pair(const struct pipe_record *rec, int split)
{
    return !split && (rec->overlap == SCHED_PAIR_F || rec->overlap == SCHED_PAIR_B);
}

/* The activations `h` holds, summed as rank_activations sums them at the peak. */
static double activations(const struct held *h, const struct cm_rank_memory *m)
{
    double act = h->bytes + (h->in_pair ? m->pair_layer : 0.0);
    act += h->in_backward ? m->reloaded : 0.0;
    act += cm_offload_kept(m, h->count);
    return act < 0.5 && act > -0.5 ? 0.0 : act; /* rounding left of a freed rank: 0, not -0 */
}

/* Rank r's compute op `rec` starts (`starts`) or ends: what it changes in `h`, which weighs
 * `stage_bytes` a micro-batch there.  Nonzero when that moves the activations (a row). */
static int change(struct held *h, const struct pipe_record *rec, int starts, int split,
                  double stage_bytes, const struct cm_rank_memory *m)
{
    int pair = deferring_pair(rec, split), moved = 0;
    enum rec_kind frees = split ? REC_W : REC_B;
    if (!pair && rec->kind == (starts ? REC_F : frees)) {
        h->bytes += starts ? stage_bytes : -stage_bytes;
        h->count += starts ? 1 : -1;
        moved = 1;
    }
    if (pair && rec->overlap == (starts ? SCHED_PAIR_F : SCHED_PAIR_B)) {
        h->in_pair = starts;
        moved |= m->pair_layer != 0.0;
    }
    if (rec->kind == REC_B) {
        h->in_backward = starts;
        moved |= m->reloaded != 0.0;
    }
    return moved;
}

int memtl_walk(const struct scenario *scn, const struct pipe_result *res,
               const struct costmodel *cm, memtl_visit_fn visit, void *user)
{
    int split = scn_split_backward(scn);
    for (int r = 0; r < res->pp; r++) {
        struct cm_rank_memory mem;
        cm_rank_memory(cm, scn, res, r, &mem);
        double fixed = mem.weights + mem.grads + mem.optimizer;
        struct memtl_point p = {r, 0, 0, fixed};
        struct held h = {0};
        int rc = visit(&p, user);
        /* A rank runs one op at a time and records are in start order: its ops' starts and
         * ends alternate in time, an end before the start that shares its time. */
        for (size_t i = 0; i < res->nrecs && rc == 0; i++) {
            const struct pipe_record *rec = &res->recs[i];
            /* the rank's F, B and W only: its optimizer, and the reductions and gathers on its
             * communication stream (no stage of their own), move no activations */
            int compute = rec->kind == REC_F || rec->kind == REC_B || rec->kind == REC_W;
            if (rec->rank != r || rec->peer >= 0 || !compute)
                continue;
            double bytes = cm->stages[rec->stage].act_bytes_mb;
            for (int starts = 1; starts >= 0 && rc == 0; starts--) {
                if (!change(&h, rec, starts, split, bytes, &mem))
                    continue;
                p.t = (starts ? rec->start : rec->end) - res->first_start;
                p.activation_bytes = activations(&h, &mem);
                p.total_bytes = fixed + p.activation_bytes;
                rc = visit(&p, user);
            }
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int put_csv_row(const struct memtl_point *p, void *user)
{
    FILE *out = user;
    fprintf(out, "%d,", p->rank);
    timeline_put_seconds(out, p->t);
    fprintf(out, ",%.0f,%.0f\n", p->activation_bytes, p->total_bytes);
    return 0;
}

int memtl_write_csv(FILE *out, const struct scenario *scn, const struct pipe_result *res,
                    const struct costmodel *cm)
{
    fprintf(out, "rank,time_s,activation_bytes,total_bytes\n");
    memtl_walk(scn, res, cm, put_csv_row, out);
    return ferror(out) ? -1 : 0;
}
