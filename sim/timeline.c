/* timeline: CSV rows of the simulated step (format in timeline.h). */
#include "timeline.h"

#include <inttypes.h>

void timeline_put_seconds(FILE *out, simtime_t t)
{
    const char *sign = t < 0 ? "-" : "";
    uint64_t a = t < 0 ? (uint64_t)(-(t + 1)) + 1 : (uint64_t)t;
    fprintf(out, "%s%" PRIu64 ".%012" PRIu64, sign, a / (uint64_t)SIMTIME_PER_S,
            a % (uint64_t)SIMTIME_PER_S);
}

int timeline_write_csv(FILE *out, const struct pipe_result *res)
{
    fprintf(out, "rank,op,microbatch,chunk,stage,start_s,end_s,peer,bytes\n");
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        fprintf(out, "%d,%s,", r->rank, rec_kind_name(r->kind));
        if (r->mb >= 0) /* ops of one micro-batch */
            fprintf(out, "%d,%d,%d,", r->mb, r->chunk, r->stage);
        else if (r->chunk >= 0) /* a chunk's gradient reduction */
            fprintf(out, ",%d,%d,", r->chunk, r->stage);
        else /* optimizer, parameter gather */
            fprintf(out, ",,,");
        timeline_put_seconds(out, r->start - res->first_start);
        fputc(',', out);
        timeline_put_seconds(out, r->end - res->first_start);
        if (r->peer >= 0)
            fprintf(out, ",%d,%.0f\n", r->peer, r->bytes);
        else
            fprintf(out, ",,\n");
    }
    return ferror(out) ? -1 : 0;
}
