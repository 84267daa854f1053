/* report: derived figures and their text / JSON rendering (definitions in report.h). */
#include "report.h"

#include "alloc.h"
#include "outfile.h"

enum sim_status report_compute(const struct scenario *scn, const struct pipe_result *res,
                               struct report *rep, struct sim_error *err)
{
    *rep = (struct report){0};
    rep->pp = res->pp;
    rep->ranks = mem_calloc((size_t)res->pp, sizeof *rep->ranks);
    if (!rep->ranks)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory for the report");
    simtime_t makespan = res->compute_end - res->first_start;
    rep->step_s = simtime_to_s(res->step_end - res->first_start);
    rep->makespan_s = simtime_to_s(makespan);
    simtime_t total_busy = 0;
    for (int r = 0; r < res->pp; r++) {
        total_busy += res->busy[r];
        rep->ranks[r].busy_s = simtime_to_s(res->busy[r]);
        rep->ranks[r].idle_s = simtime_to_s(makespan - res->busy[r]);
        rep->ranks[r].opt_end_s = simtime_to_s(res->opt_end[r] - res->first_start);
        rep->ranks[r].peak_inflight = res->peak_inflight[r];
    }
    double capacity = (double)res->pp * (double)makespan;
    rep->bubble_ratio = capacity > 0 ? 1.0 - (double)total_busy / capacity : 0.0;
    rep->bubble_overhead = total_busy > 0 ? (capacity - (double)total_busy) / (double)total_busy
                                          : 0.0;
    rep->samples = (long)scn->microbatches * scn->micro_batch;
    rep->tokens = scn->seq > 0 ? rep->samples * scn->seq : -1;
    rep->samples_per_s = rep->step_s > 0 ? (double)rep->samples / rep->step_s : 0.0;
    rep->tokens_per_s = scn->seq > 0 ? rep->samples_per_s * scn->seq : -1.0;
    rep->events = (unsigned long long)res->events;
    return SIM_OK;
}

void report_release(struct report *rep)
{
    mem_free(rep->ranks);
    rep->ranks = NULL;
}

static const char *group_label(const struct scenario *scn, char *buf, size_t len)
{
    if (scn->vp_group > 0)
        snprintf(buf, len, "%d", scn->vp_group);
    else
        snprintf(buf, len, "%d (=pp)", scn->pp);
    return buf;
}

int report_write_text(FILE *out, const struct scenario *scn, const struct report *rep)
{
    char g[32];
    fprintf(out, "scenario      %s\n", scn->name);
    fprintf(out, "schedule      %s  pp=%d vp=%d", scn->schedule, scn->pp, scn->vp);
    if (scn->vp > 1)
        fprintf(out, " vp-group=%s", group_label(scn, g, sizeof g));
    fprintf(out, " microbatches=%d micro-batch=%d layers=%d%s\n", scn->microbatches,
            scn->micro_batch, scn->layers, scn->split_backward ? " split-backward" : "");
    fprintf(out, "\n");
    fprintf(out, "step time          %.6f s\n", rep->step_s);
    fprintf(out, "pipeline makespan  %.6f s\n", rep->makespan_s);
    fprintf(out, "bubble ratio       %.4f   (idle share of pp x makespan)\n", rep->bubble_ratio);
    fprintf(out, "bubble overhead    %.4f   (Megatron: idle / ideal time)\n",
            rep->bubble_overhead);
    fprintf(out, "samples/s          %.3f   (%ld samples per step)\n", rep->samples_per_s,
            rep->samples);
    if (rep->tokens_per_s >= 0)
        fprintf(out, "tokens/s           %.1f   (%ld tokens per step)\n", rep->tokens_per_s,
                rep->tokens);
    else
        fprintf(out, "tokens/s           n/a    (set seq to get tokens)\n");
    fprintf(out, "\n%4s  %12s  %12s  %7s  %9s\n", "rank", "busy_s", "idle_s", "busy%",
            "peak_mb");
    for (int r = 0; r < rep->pp; r++) {
        const struct report_rank *rr = &rep->ranks[r];
        double pct = rep->makespan_s > 0 ? 100.0 * rr->busy_s / rep->makespan_s : 0.0;
        fprintf(out, "%4d  %12.6f  %12.6f  %6.2f%%  %9d\n", r, rr->busy_s, rr->idle_s, pct,
                rr->peak_inflight);
    }
    fprintf(out, "\npeak_mb: most (micro-batch, chunk) activations held at once on the rank\n");
    return ferror(out) ? -1 : 0;
}

/* Names in the JSON are the same words as the text report, snake_case. */
int report_write_json(FILE *out, const struct scenario *scn, const struct report *rep)
{
    fprintf(out, "{\n");
    fprintf(out, "  \"scenario\": ");
    json_put_string(out, scn->name);
    fprintf(out, ",\n");
    fprintf(out,
            "  \"config\": {\"schedule\": \"%s\", \"pp\": %d, \"vp\": %d, \"vp_group\": %d, "
            "\"microbatches\": %d, \"micro_batch\": %d, \"layers\": %d, \"seq\": %d, "
            "\"split_backward\": %s},\n",
            scn->schedule, scn->pp, scn->vp, scn->vp_group > 0 ? scn->vp_group : scn->pp,
            scn->microbatches, scn->micro_batch, scn->layers, scn->seq,
            scn->split_backward ? "true" : "false");
    fprintf(out, "  \"step_time_s\": %.9g,\n", rep->step_s);
    fprintf(out, "  \"makespan_s\": %.9g,\n", rep->makespan_s);
    fprintf(out, "  \"bubble_ratio\": %.9g,\n", rep->bubble_ratio);
    fprintf(out, "  \"bubble_overhead\": %.9g,\n", rep->bubble_overhead);
    fprintf(out, "  \"samples_per_step\": %ld,\n", rep->samples);
    fprintf(out, "  \"samples_per_s\": %.9g,\n", rep->samples_per_s);
    if (rep->tokens_per_s >= 0)
        fprintf(out, "  \"tokens_per_s\": %.9g,\n", rep->tokens_per_s);
    else
        fprintf(out, "  \"tokens_per_s\": null,\n");
    fprintf(out, "  \"events\": %llu,\n", rep->events);
    fprintf(out, "  \"ranks\": [\n");
    for (int r = 0; r < rep->pp; r++) {
        const struct report_rank *rr = &rep->ranks[r];
        fprintf(out,
                "    {\"rank\": %d, \"busy_s\": %.9g, \"idle_s\": %.9g, \"optimizer_end_s\": %.9g, "
                "\"peak_inflight\": %d}%s\n",
                r, rr->busy_s, rr->idle_s, rr->opt_end_s, rr->peak_inflight,
                r + 1 < rep->pp ? "," : "");
    }
    fprintf(out, "  ]\n}\n");
    return ferror(out) ? -1 : 0;
}
