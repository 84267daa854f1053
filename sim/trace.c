/* trace: Chrome trace-event format writer (layout in trace.h). */
#include "trace.h"

#include <inttypes.h>

#include "alloc.h"
#include "outfile.h"

enum { PID_RANKS = 1, PID_LINKS = 2 };

/* Exact microseconds with 6 decimals (picosecond resolution). */
static void put_us(FILE *out, simtime_t t)
{
    uint64_t a = (uint64_t)t;
    fprintf(out, "%" PRIu64 ".%06" PRIu64, a / 1000000u, a % 1000000u);
}

static void put_meta(FILE *out, int pid, int tid, const char *what, const char *name, int *first)
{
    fprintf(out, "%s\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"name\":\"%s\",\"args\":{\"name\":",
            *first ? "" : ",", pid, tid, what);
    json_put_string(out, name);
    fprintf(out, "}}");
    *first = 0;
}

int trace_write_json(FILE *out, const struct scenario *scn, const struct pipe_result *res)
{
    int first = 1;
    char name[128];
    fprintf(out, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"scenario\":");
    json_put_string(out, scn->name);
    fprintf(out, ",\"schedule\":\"%s\",\"pp\":%d,\"vp\":%d,\"microbatches\":%d},", scn->schedule,
            scn->pp, scn->vp, scn->microbatches);
    fprintf(out, "\"traceEvents\":[");
    put_meta(out, PID_RANKS, 0, "process_name", "pipeline ranks", &first);
    put_meta(out, PID_LINKS, 0, "process_name", "p2p links", &first);
    for (int r = 0; r < res->pp; r++) {
        snprintf(name, sizeof name, "rank %d", r);
        put_meta(out, PID_RANKS, r, "thread_name", name, &first);
    }
    /* Link tracks: tid = the link direction's id, named at first use. */
    unsigned char *named = mem_calloc(2 * (size_t)res->pp, 1);
    if (!named)
        return -1;
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        if (r->peer < 0)
            continue;
        int tid = pipe_link_id(res->pp, r->rank, r->peer);
        if (!named[tid]) {
            named[tid] = 1;
            snprintf(name, sizeof name, "rank %d -> rank %d", r->rank, r->peer);
            put_meta(out, PID_LINKS, tid, "thread_name", name, &first);
        }
    }
    mem_free(named);
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        int is_xfer = r->peer >= 0;
        fprintf(out, ",\n{\"ph\":\"X\",\"name\":\"%s\",\"cat\":\"%s\",\"pid\":%d,\"tid\":%d,\"ts\":",
                rec_kind_name(r->kind), is_xfer ? "p2p" : "compute",
                is_xfer ? PID_LINKS : PID_RANKS, is_xfer ? pipe_link_id(res->pp, r->rank, r->peer) : r->rank);
        put_us(out, r->start - res->first_start);
        fprintf(out, ",\"dur\":");
        put_us(out, r->end - r->start);
        if (r->kind == REC_OPT)
            fprintf(out, ",\"args\":{}}");
        else if (is_xfer)
            fprintf(out,
                    ",\"args\":{\"microbatch\":%d,\"to_stage\":%d,\"from_rank\":%d,\"to_rank\":%d,"
                    "\"bytes\":%.0f}}",
                    r->mb, r->stage, r->rank, r->peer, r->bytes);
        else
            fprintf(out, ",\"args\":{\"microbatch\":%d,\"chunk\":%d,\"stage\":%d}}", r->mb,
                    r->chunk, r->stage);
    }
    fprintf(out, "\n]}\n");
    return ferror(out) ? -1 : 0;
}
