/* trace: Chrome trace-event format writer (layout in trace.h).
 *
 * Only "X" (complete) events and "M" (metadata) events are written: no flow events, since a
 * transfer's track and args already say where the data went.  Track order is fixed with
 * process_sort_index / thread_sort_index, so viewers show rank 0 first and each link's two
 * directions together, whatever order the events come in. */
#include "trace.h"

#include <inttypes.h>

#include "alloc.h"
#include "outfile.h"

enum { PID_RANKS = 1, PID_LINKS = 2 };

/* Exact microseconds with 6 decimals (simtime is integer picoseconds, never negative here). */
static void put_us(FILE *out, simtime_t t)
{
    uint64_t a = (uint64_t)t;
    fprintf(out, "%" PRIu64 ".%06" PRIu64, a / 1000000u, a % 1000000u);
}

static void put_name_meta(FILE *out, int pid, int tid, const char *what, const char *name)
{
    fprintf(out, ",\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"name\":\"%s\",\"args\":{\"name\":", pid,
            tid, what);
    json_put_string(out, name);
    fprintf(out, "}}");
}

static void put_sort_meta(FILE *out, int pid, int tid, const char *what, int index)
{
    fprintf(out,
            ",\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"name\":\"%s\",\"args\":{\"sort_index\":%d}}",
            pid, tid, what, index);
}

/* Where link src->dst sorts: the pair (k, k+1) at 2k, its forward direction first; the
 * interleaved wrap (last rank <-> rank 0) after all neighbour pairs. */
static int link_sort_index(int pp, int src, int dst)
{
    if (src + 1 == dst)
        return 2 * src;
    if (dst + 1 == src)
        return 2 * dst + 1;
    return 2 * (pp - 1) + (src == pp - 1 ? 0 : 1);
}

int trace_write_json(FILE *out, const struct scenario *scn, const struct pipe_result *res)
{
    /* Which link directions carried a transfer, so only those get a track. */
    size_t nlinks = 2 * (size_t)res->pp;
    int *peer_of = mem_calloc(nlinks, sizeof *peer_of);
    if (!peer_of)
        return -1;
    for (size_t i = 0; i < nlinks; i++)
        peer_of[i] = -1;
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        if (r->peer >= 0)
            peer_of[pipe_link_id(res->pp, r->rank, r->peer)] = r->peer;
    }

    fprintf(out, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"scenario\":");
    json_put_string(out, scn->name);
    fprintf(out, ",\"schedule\":");
    json_put_string(out, scn->schedule);
    fprintf(out, ",\"pp\":%d,\"vp\":%d,\"vp_group\":%d,\"microbatches\":%d,\"step_us\":", scn->pp,
            scn->vp, scn->vp_group > 0 ? scn->vp_group : scn->pp, scn->microbatches);
    put_us(out, res->step_end - res->first_start);
    fprintf(out, "},\n\"traceEvents\":[");
    /* The first event has no leading comma; the rest are written by the put_* helpers. */
    fprintf(out,
            "\n{\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"name\":\"process_name\","
            "\"args\":{\"name\":\"pipeline ranks\"}}",
            PID_RANKS);
    put_sort_meta(out, PID_RANKS, 0, "process_sort_index", 0);
    put_name_meta(out, PID_LINKS, 0, "process_name", "p2p links");
    put_sort_meta(out, PID_LINKS, 0, "process_sort_index", 1);
    char name[64];
    /* Each rank's compute track, and below it its gradient-reduction stream (thread
     * pp + rank), which runs beside compute and so needs a track of its own. */
    for (int r = 0; r < res->pp; r++) {
        snprintf(name, sizeof name, "rank %d", r);
        put_name_meta(out, PID_RANKS, r, "thread_name", name);
        put_sort_meta(out, PID_RANKS, r, "thread_sort_index", 2 * r);
        snprintf(name, sizeof name, "rank %d grad sync", r);
        put_name_meta(out, PID_RANKS, res->pp + r, "thread_name", name);
        put_sort_meta(out, PID_RANKS, res->pp + r, "thread_sort_index", 2 * r + 1);
    }
    for (size_t id = 0; id < nlinks; id++) {
        if (peer_of[id] < 0)
            continue;
        int src = (int)(id / 2), dst = peer_of[id];
        snprintf(name, sizeof name, "link %d -> %d", src, dst);
        put_name_meta(out, PID_LINKS, (int)id, "thread_name", name);
        put_sort_meta(out, PID_LINKS, (int)id, "thread_sort_index",
                      link_sort_index(res->pp, src, dst));
    }
    mem_free(peer_of);

    /* One complete event per op and transfer; the name is the kind, so a viewer gives each
     * kind one colour, and the args say which micro-batch, chunk and stage it was. */
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        int is_xfer = r->peer >= 0, is_sync = r->kind == REC_DP_SYNC;
        int tid = is_xfer   ? pipe_link_id(res->pp, r->rank, r->peer)
                  : is_sync ? res->pp + r->rank
                            : r->rank;
        fprintf(out,
                ",\n{\"ph\":\"X\",\"name\":\"%s\",\"cat\":\"%s\",\"pid\":%d,\"tid\":%d,\"ts\":",
                rec_kind_name(r->kind),
                is_xfer   ? "p2p"
                : is_sync ? "dp"
                          : "compute",
                is_xfer ? PID_LINKS : PID_RANKS, tid);
        put_us(out, r->start - res->first_start);
        fprintf(out, ",\"dur\":");
        put_us(out, r->end - r->start);
        if (r->kind == REC_OPT || r->kind == REC_PARAM_AG)
            fprintf(out, ",\"args\":{\"rank\":%d}}", r->rank);
        else if (is_sync)
            fprintf(out, ",\"args\":{\"rank\":%d,\"chunk\":%d,\"stage\":%d}}", r->rank, r->chunk,
                    r->stage);
        else if (is_xfer)
            fprintf(out,
                    ",\"args\":{\"microbatch\":%d,\"to_chunk\":%d,\"to_stage\":%d,\"from_rank\":%d,"
                    "\"to_rank\":%d,\"bytes\":%.0f}}",
                    r->mb, r->chunk, r->stage, r->rank, r->peer, r->bytes);
        else /* an op of an overlapped F&B pair (DualPipe) says so */
            fprintf(out, ",\"args\":{\"microbatch\":%d,\"chunk\":%d,\"stage\":%d%s}}", r->mb,
                    r->chunk, r->stage,
                    r->overlap != SCHED_ALONE ? ",\"overlapped_pair\":true" : "");
    }
    fprintf(out, "\n]}\n");
    return ferror(out) ? -1 : 0;
}
