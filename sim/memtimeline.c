/* memtimeline: activation memory per rank over time (format in memtimeline.h).
 *
 * O(records x ranks): each rank scans the records once; fine for the step sizes stepsim caps. */
#include "memtimeline.h"

#include "timeline.h"

/* Is `rec` rank r's op of `kind` that takes or frees activations?  An F&B pair whose B frees
 * its own hands the F's activations over as it frees (pipe_pair_defers): neither op moves the
 * count (the crossing's one layer is not drawn). */
static int is_op(const struct pipe_record *rec, int r, enum rec_kind kind, int split)
{
    if (rec->rank != r || rec->peer >= 0 || rec->kind != kind)
        return 0;
    return split || (rec->overlap != SCHED_PAIR_F && rec->overlap != SCHED_PAIR_B);
}

int memtl_walk(const struct scenario *scn, const struct pipe_result *res,
               const struct costmodel *cm, memtl_visit_fn visit, void *user)
{
    int split = scn_split_backward(scn);
    enum rec_kind frees = split ? REC_W : REC_B;
    for (int r = 0; r < res->pp; r++) {
        struct cm_rank_memory mem;
        cm_rank_memory(cm, scn, res, r, &mem);
        double fixed = mem.weights + mem.grads + mem.optimizer, act = 0;
        struct memtl_point p = {r, 0, 0, fixed};
        int rc = visit(&p, user);
        if (rc != 0)
            return rc;
        /* Records are in start order; a free happens at an op's end, so collect both kinds of
         * change and emit them merged by time (frees of one time before takes). */
        size_t n = res->nrecs;
        size_t take = 0, give = 0;
        for (;;) {
            while (take < n && !(is_op(&res->recs[take], r, REC_F, split)))
                take++;
            while (give < n && !(is_op(&res->recs[give], r, frees, split)))
                give++;
            if (take == n && give == n)
                break;
            /* Frees are in start order; their ends are too, since a rank runs one op at a
             * time. */
            int do_free = give < n && (take == n || res->recs[give].end <= res->recs[take].start);
            const struct pipe_record *rec = do_free ? &res->recs[give] : &res->recs[take];
            double bytes = cm->stages[rec->stage].act_bytes_mb;
            act += do_free ? -bytes : bytes;
            if (act < 0.5 && act > -0.5)
                act = 0;
            p.t = (do_free ? rec->end : rec->start) - res->first_start;
            p.activation_bytes = act;
            p.total_bytes = fixed + act;
            if ((rc = visit(&p, user)) != 0)
                return rc;
            if (do_free)
                give++;
            else
                take++;
        }
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
