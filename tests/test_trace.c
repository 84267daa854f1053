/* test_trace: the Chrome trace writer (trace.c) and the strict checker that guards it
 * (trace_check.c).
 *
 * The writer's traces break no rule of the checker on every shipped scenario, plain and with
 * jitter, and on 64-rank steps of 512 micro-batches with queueing links; a tiny step is
 * checked event by event against hand-worked times; a modelled step's communication tracks
 * add up to the report's breakdown and its memory counters peak at the report's memory.  The
 * checker is shown to catch what it is there for, on hand-written bad traces. */
#include <criterion/criterion.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "step.h"
#include "trace.h"
#include "trace_check.h"

/* ---- helpers ---------------------------------------------------------------------------- */

struct text {
    char *buf;
    size_t len;
};

static struct text write_trace(const struct scenario *scn, const struct pipe_setup *setup,
                               const struct pipe_result *res, const struct costmodel *cm)
{
    struct text t = {0};
    FILE *fp = open_memstream(&t.buf, &t.len);
    cr_assert_not_null(fp);
    cr_assert_eq(trace_write_json(fp, scn, setup, res, cm, NULL), 0);
    cr_assert_eq(fclose(fp), 0);
    return t;
}

/* Run the checker and fail the test, with its first messages, on any violation. */
static struct tc_result assert_clean(const struct text *t, const char *what)
{
    struct tc_result r;
    int rc = tc_check_buffer(t->buf, t->len, &r);
    cr_assert_geq(rc, 0, "%s: checker out of memory", what);
    cr_assert_eq(r.violations, 0, "%s: %zu violations; first: %s | %s | %s", what, r.violations,
                 r.nmessages > 0 ? r.message[0] : "", r.nmessages > 1 ? r.message[1] : "",
                 r.nmessages > 2 ? r.message[2] : "");
    cr_assert_eq(rc, 0);
    return r;
}

/* A shipped scenario (path) with "KEY=VALUE" overrides, run through the whole step. */
static void run_scenario(const char *path, const char *const *sets, struct scenario *scn,
                         struct step_output *so)
{
    struct sim_error err;
    err_clear(&err);
    scn_defaults(scn);
    cr_assert_eq(scn_load(scn, path, &err), SIM_OK, "%s: %s", path, err.msg);
    for (const char *const *s = sets; s && *s; s++)
        cr_assert_eq(scn_set_arg(scn, *s, &err), SIM_OK, "%s: %s", *s, err.msg);
    cr_assert_eq(step_run(scn, so, &err), SIM_OK, "%s: %s", path, err.msg);
}

static struct text trace_of_step(const struct scenario *scn, const struct step_output *so)
{
    return write_trace(scn, &so->setup, &so->res, so->modelled ? &so->cm : NULL);
}

/* The next `needle` in `hay` from `from` on, or NULL.  A plain loop: sanitizers check all of
 * what is left of the haystack on each strstr, which makes counting in a 60 MB trace
 * quadratic. */
static const char *find(const char *from, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = from; *p; p++)
        if (*p == *needle && strncmp(p, needle, n) == 0)
            return p;
    return NULL;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = find(hay, needle); p; p = find(p + 1, needle))
        n++;
    return n;
}

/* Records a writer that ends a link slice at the arrival would draw partly overlapping: a
 * transfer that starts on its link before the previous one there has arrived. */
static size_t queued_transfers(const struct pipe_result *res)
{
    simtime_t *arrival = calloc(2 * (size_t)res->pp, sizeof *arrival);
    cr_assert_not_null(arrival);
    size_t n = 0;
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        if (r->peer < 0)
            continue;
        int id = pipe_link_id(res->pp, r->rank, r->peer);
        n += r->start < arrival[id];
        arrival[id] = r->end;
    }
    free(arrival);
    return n;
}

/* ---- the writer on real steps ----------------------------------------------------------- */

Test(trace, every_shipped_scenario_passes_the_checker_plain_and_with_jitter)
{
    glob_t g;
    cr_assert_eq(glob(TOP_SRCDIR "/scenarios/*.xml", 0, NULL, &g), 0);
    cr_assert_geq(g.gl_pathc, 8);
    const char *const jitter[] = {"jitter=0.2", "seed=7", NULL};
    for (size_t i = 0; i < g.gl_pathc; i++)
        for (int j = 0; j < 2; j++) {
            struct scenario scn;
            struct step_output so;
            run_scenario(g.gl_pathv[i], j ? jitter : NULL, &scn, &so);
            struct text t = trace_of_step(&scn, &so);
            char what[600];
            snprintf(what, sizeof what, "%s%s", g.gl_pathv[i], j ? " with jitter" : "");
            struct tc_result r = assert_clean(&t, what);
            cr_assert_gt(r.slices, 0, "%s", what);
            if (so.res.pp > 1)
                cr_assert_gt(r.flows, 0, "%s: dependency arrows", what);
            if (so.modelled)
                cr_assert_gt(r.counters, 0, "%s: memory counters", what);
            free(t.buf);
            step_release(&so);
        }
    globfree(&g);
}

/* otherData names the scenario's file as given, escaped, as the JSON report does (two files
 * may give one name; the trace had said the name only); null for a scenario built in code. */
Test(trace, other_data_names_the_scenario_file)
{
    struct scenario scn;
    struct step_output so;
    run_scenario(TOP_SRCDIR "/scenarios/unit.xml", NULL, &scn, &so);
    snprintf(scn.file, sizeof scn.file, "%s", "runs/a \"b\".xml");
    struct text t = trace_of_step(&scn, &so);
    cr_assert(strstr(t.buf, ",\"scenario_file\":\"runs/a \\\"b\\\".xml\",\"schedule\":"), "%.300s",
              t.buf);
    free(t.buf);
    scn.file[0] = '\0';
    t = trace_of_step(&scn, &so);
    cr_assert(strstr(t.buf, ",\"scenario_file\":null,"), "%.300s", t.buf);
    assert_clean(&t, "no file");
    free(t.buf);
    step_release(&so);
}

/* otherData holds what reproduces a jittered run: its jitter and seed (neither was there) */
Test(trace, other_data_holds_the_jitter_and_seed)
{
    struct scenario scn;
    struct step_output so;
    run_scenario(TOP_SRCDIR "/scenarios/unit.xml", NULL, &scn, &so);
    scn.jitter = 0.05;
    scn.seed = 7;
    struct text t = trace_of_step(&scn, &so);
    cr_assert(strstr(t.buf, ",\"jitter\":0.05,\"seed\":7},"), "%.400s", t.buf);
    free(t.buf);
    step_release(&so);
}

/* A modelled run's otherData says how its GPUs were cut as run: the scenario's name ("on 512
 * H100") does not follow a --set gpus=64, and pp alone did not say the rest of the layout. */
Test(trace, other_data_holds_the_layout_as_run)
{
    struct scenario scn;
    struct step_output so;
    const char *const sets[] = {"gpus=64", "pp=2", NULL};
    run_scenario(TOP_SRCDIR "/scenarios/llama3.1-70b-h100.xml", sets, &scn, &so);
    struct text t = trace_of_step(&scn, &so);
    cr_assert(strstr(t.buf, ",\"hardware\":\"dgx-h100\",\"gpus\":64,\"tp\":8,\"cp\":1,\"ep\":1,"
                            "\"dp\":4,"),
              "%.400s", t.buf);
    cr_assert(strstr(t.buf, ",\"pp\":2,"), "%.600s", t.buf);
    assert_clean(&t, "layout");
    free(t.buf);
    step_release(&so);
}

/* ... and the rest of what defines the run, as the text report's layout and scenario lines
 * say it: precision (with its fp8 recipe), recompute, ZeRO, the batch, and what the command
 * line changed, escaped (the trace had stopped at dp). */
Test(trace, other_data_holds_the_run_config_and_the_sets)
{
    struct scenario scn;
    struct step_output so;
    const char *const sets[] = {"dtype=fp8", "recompute=full", "zero=2", "micro-batch=2", NULL};
    run_scenario(TOP_SRCDIR "/scenarios/llama3.1-70b-h100.xml", sets, &scn, &so);
    struct text t = {0};
    FILE *fp = open_memstream(&t.buf, &t.len);
    cr_assert_not_null(fp);
    cr_assert_eq(
        trace_write_json(fp, &scn, &so.setup, &so.res, &so.cm, "--set dtype=fp8 name=a\"b"), 0);
    cr_assert_eq(fclose(fp), 0);
    cr_assert(strstr(t.buf, ",\"sets\":\"--set dtype=fp8 name=a\\\"b\","), "%.600s", t.buf);
    cr_assert(strstr(t.buf, ",\"dp\":16,\"dtype\":\"fp8\",\"fp8_recipe\":\"delayed\","
                            "\"recompute\":\"full\",\"zero\":2,\"micro_batch\":2,\"seq\":8192,"
                            "\"global_batch\":512,"),
              "%.600s", t.buf);
    assert_clean(&t, "config");
    free(t.buf);
    t = trace_of_step(&scn, &so); /* nothing changed on a command line */
    cr_assert(strstr(t.buf, ",\"sets\":null,"), "%.400s", t.buf);
    free(t.buf);
    step_release(&so);
}

/* 64 ranks x 2 chunks x 512 micro-batches with jitter and slow links: transfers queue on
 * their links (thousands would have partly overlapped the old way); none does now. */
Test(trace, a_64_rank_512_microbatch_step_with_queueing_links_passes, .timeout = 120)
{
    const char *const sets[] = {
        "pp=64", "layers=256", "microbatches=512", "jitter=0.1", "link-bandwidth=20GBps", NULL};
    struct scenario scn;
    struct step_output so;
    run_scenario(TOP_SRCDIR "/scenarios/default.xml", sets, &scn, &so);
    cr_assert_gt(queued_transfers(&so.res), 1000, "the links must queue for this to test much");
    struct text t = trace_of_step(&scn, &so);
    struct tc_result r = assert_clean(&t, "64 ranks, default.xml");
    cr_assert_eq(r.flows, 2 * (size_t)64 * 2 * 512 - 2 * 512, "one arrow per stage boundary");
    cr_assert_eq(r.async, 2 * (size_t)(64 * 2 - 1) * 512, "every transfer in flight once");
    free(t.buf);
    step_release(&so);
}

Test(trace, a_modelled_64_rank_512_microbatch_step_passes, .timeout = 120)
{
    const char *const sets[] = {"pp=64",
                                "vp=1",
                                "schedule=1f1b",
                                "global-batch=16384",
                                "first-stage-layers=1",
                                "last-stage-layers=1",
                                "jitter=0.05",
                                NULL};
    struct scenario scn;
    struct step_output so;
    run_scenario(TOP_SRCDIR "/scenarios/llama3.1-405b-16k-h100.xml", sets, &scn, &so);
    cr_assert_eq(so.res.pp, 64);
    cr_assert_eq(so.res.microbatches, 512);
    struct text t = trace_of_step(&scn, &so);
    struct tc_result r = assert_clean(&t, "64 ranks, llama3.1-405b");
    cr_assert_gt(count(t.buf, "\"cat\":\"TP\""), 64 * 512, "exposed TP of every op");
    cr_assert_gt(r.counters, 64 * 512, "memory of every rank");
    free(t.buf);
    step_release(&so);
}

/* ---- the writer, event by event --------------------------------------------------------- */

static void assert_named(const char *js, int pid, int tid, const char *what, const char *name)
{
    char want[200];
    snprintf(want, sizeof want,
             "{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"name\":\"%s\",\"args\":{\"name\":\"%s\"}}", pid,
             tid, what, name);
    cr_assert_not_null(strstr(js, want), "%s", want);
}

/* A complete slice's event up to its name; ts and dur in microseconds as written. */
static void assert_slice(const char *js, const char *ts, const char *dur, int pid, int tid,
                         const char *cat, const char *name)
{
    char want[200];
    snprintf(
        want, sizeof want,
        "{\"ph\":\"X\",\"ts\":%s,\"dur\":%s,\"pid\":%d,\"tid\":%d,\"cat\":\"%s\",\"name\":\"%s\"",
        ts, dur, pid, tid, cat, name);
    cr_assert_not_null(strstr(js, want), "%s", want);
}

/* Any other event up to its name or id: `head` is what stands between ph and ts. */
static void assert_event(const char *js, const char *head, const char *ts, int pid, int tid,
                         const char *tail)
{
    char want[200];
    snprintf(want, sizeof want, "{\"ph\":%s,\"ts\":%s,\"pid\":%d,\"tid\":%d,%s", head, ts, pid, tid,
             tail);
    cr_assert_not_null(strstr(js, want), "%s", want);
}

/* pp=2, one micro-batch, F = 1 ms, B = 2 ms, free optimizer, transfers of 1 ms on the link
 * (1 MB at 1 GB/s) and 0.5 ms of latency.  Rank 0 F [0, 1]; link 0->1 [1, 2], in flight
 * [2, 2.5]; rank 1 F [2.5, 3.5], B [3.5, 5.5]; link 1->0 [5.5, 6.5], in flight [6.5, 7];
 * rank 0 B [7, 9] (ms). */
Test(trace, tiny_step_event_by_event)
{
    static const char *const tiny[] = {"pp=2",
                                       "layers=2",
                                       "microbatches=1",
                                       "forward=1ms",
                                       "backward-input=2ms",
                                       "optimizer=0s",
                                       "activation=1MB",
                                       "link-bandwidth=1GBps",
                                       "link-latency=0.5ms",
                                       NULL};
    struct sim_fixture f;
    cr_assert_eq(fixture_run(&f, tiny), SIM_OK, "%s", f.err.msg);
    snprintf(f.scn.name, sizeof f.scn.name, "tiny \"quoted\"");
    struct text t = write_trace(&f.scn, &f.setup, &f.res, NULL);
    struct tc_result r = assert_clean(&t, "tiny");
    const char *js = t.buf;
    cr_assert_not_null(strstr(js, "\"scenario\":\"tiny \\\"quoted\\\"\""));
    /* Named tracks: ranks are tids 1-2, link directions 3 + pipe_link_id. */
    assert_named(js, 1, 1, "process_name", "pipeline ranks");
    assert_named(js, 1, 1, "thread_name", "rank 0");
    assert_named(js, 1, 2, "thread_name", "rank 1");
    assert_named(js, 2, 3, "process_name", "p2p links");
    assert_named(js, 2, 3, "thread_name", "link 0 -> 1");
    assert_named(js, 2, 5, "thread_name", "link 1 -> 0");
    cr_assert_null(strstr(js, "\"communication\""), "explicit costs: no communication parts");
    cr_assert_null(strstr(js, "\"ph\":\"C\""), "explicit costs: no memory model");
    /* Ops named by kind, micro-batch and chunk, the kind in cat; the free optimizer is not
     * drawn.  Serialisation on the link's track, the latency in flight beside it. */
    cr_assert_not_null(strstr(js, "\"name\":\"F mb0 c0\",\"args\":{\"microbatch\":0,\"chunk\":0,"
                                  "\"stage\":0}}"));
    assert_slice(js, "0.000", "1000.000", 1, 1, "F", "F mb0 c0");
    assert_slice(js, "2500.000", "1000.000", 1, 2, "F", "F mb0 c0");
    assert_slice(js, "3500.000", "2000.000", 1, 2, "B", "B mb0 c0");
    assert_slice(js, "7000.000", "2000.000", 1, 1, "B", "B mb0 c0");
    assert_slice(js, "1000.000", "1000.000", 2, 3, "SEND_F", "SEND_F mb0 c0");
    assert_slice(js, "5500.000", "1000.000", 2, 5, "SEND_B", "SEND_B mb0 c0");
    cr_assert_not_null(strstr(js, "\"name\":\"SEND_F mb0 c0\",\"args\":{\"to_stage\":1,"
                                  "\"bytes\":1000000}}"));
    cr_assert_eq(count(js, "\"ph\":\"X\""), 6);
    cr_assert_eq(r.slices, 6);
    assert_event(js, "\"b\"", "2000.000", 2, 3,
                 "\"cat\":\"latency\",\"name\":\"link 0 -> 1 in flight\",\"id\":1,"
                 "\"args\":{\"transfer\":\"SEND_F mb0 c0\"}}");
    assert_event(js, "\"e\"", "2500.000", 2, 3,
                 "\"cat\":\"latency\",\"name\":\"link 0 -> 1 in flight\",\"id\":1}");
    assert_event(js, "\"b\"", "6500.000", 2, 5,
                 "\"cat\":\"latency\",\"name\":\"link 1 -> 0 in flight\"");
    assert_event(js, "\"e\"", "7000.000", 2, 5,
                 "\"cat\":\"latency\",\"name\":\"link 1 -> 0 in flight\"");
    cr_assert_eq(r.async, 2);
    /* Dependency arrows from the middle of each op to the middle of the op it feeds. */
    const char *f_bound = "\"f\",\"bp\":\"e\"";
    assert_event(js, "\"s\"", "500.000", 1, 1,
                 "\"cat\":\"dependency\",\"name\":\"activation\",\"id\":1}");
    assert_event(js, f_bound, "3000.000", 1, 2,
                 "\"cat\":\"dependency\",\"name\":\"activation\",\"id\":1}");
    assert_event(js, "\"s\"", "4500.000", 1, 2,
                 "\"cat\":\"dependency\",\"name\":\"gradient\",\"id\":2}");
    assert_event(js, f_bound, "8000.000", 1, 1,
                 "\"cat\":\"dependency\",\"name\":\"gradient\",\"id\":2}");
    cr_assert_eq(r.flows, 2);
    free(t.buf);
    fixture_release(&f);
}

/* Transfers of 3 ms serialisation (+ 0.5 ms latency) leave every 1 ms: they queue.  Each
 * serialisation starts where the one before it ended, and the latency after it overlaps the
 * next serialisation, so it is an async slice and not part of the link's track. */
Test(trace, queued_transfers_sit_end_to_end_on_their_link)
{
    static const char *const q[] = {"pp=2",
                                    "layers=2",
                                    "microbatches=4",
                                    "forward=1ms",
                                    "backward-input=1ms",
                                    "optimizer=0s",
                                    "schedule=gpipe",
                                    "activation=3MB",
                                    "link-bandwidth=1GBps",
                                    "link-latency=0.5ms",
                                    NULL};
    struct sim_fixture f;
    cr_assert_eq(fixture_run(&f, q), SIM_OK, "%s", f.err.msg);
    cr_assert_gt(queued_transfers(&f.res), 2);
    struct text t = write_trace(&f.scn, &f.setup, &f.res, NULL);
    assert_clean(&t, "queued");
    for (int k = 0; k < 3; k++) {
        char ts[16], name[32];
        snprintf(ts, sizeof ts, "%d.000", 1000 + 3000 * k);
        snprintf(name, sizeof name, "SEND_F mb%d c0", k);
        assert_slice(t.buf, ts, "3000.000", 2, 3, "SEND_F", name);
    }
    const char *flight = "\"cat\":\"latency\",\"name\":\"link 0 -> 1 in flight\"";
    assert_event(t.buf, "\"b\"", "4000.000", 2, 3, flight);
    assert_event(t.buf, "\"e\"", "4500.000", 2, 3, flight);
    free(t.buf);
    fixture_release(&f);
}

/* Sum of the "dur" of every X event of category `cat`, in seconds (one event a line). */
static double sum_durations(const char *js, const char *cat)
{
    char needle[64];
    snprintf(needle, sizeof needle, "\"cat\":\"%s\"", cat);
    double sum = 0;
    for (const char *line = js; line && *line;) {
        const char *next = strchr(line, '\n');
        size_t len = next ? (size_t)(next - line) : strlen(line);
        char buf[512];
        if (len < sizeof buf) {
            memcpy(buf, line, len);
            buf[len] = '\0';
            const char *d = strstr(buf, "\"dur\":");
            if (strstr(buf, "\"ph\":\"X\"") && strstr(buf, needle) && d)
                sum += strtod(d + 6, NULL) * 1e-6;
        }
        line = next ? next + 1 : NULL;
    }
    return sum;
}

/* The slices of category `cat` add up, over ranks, to `want` per rank (a mean of the report's
 * breakdown) within the nanosecond rounding of each slice. */
static void assert_adds_up(const char *js, int pp, const char *cat, double want)
{
    char needle[32];
    snprintf(needle, sizeof needle, "\"cat\":\"%s\"", cat);
    size_t n = count(js, needle);
    double got = sum_durations(js, cat) / pp;
    cr_assert_leq(fabs(got - want), 1e-9 * (double)n + 1e-12,
                  "%s: trace %.9f s per rank, report %.9f s (%zu slices)", cat, got, want, n);
}

/* A shipped modelled scenario's trace, clean. */
static struct text modelled_trace(const char *file, struct scenario *scn, struct step_output *so)
{
    char path[512];
    snprintf(path, sizeof path, "%s/scenarios/%s", TOP_SRCDIR, file);
    run_scenario(path, NULL, scn, so);
    cr_assert(so->modelled);
    struct text t = trace_of_step(scn, so);
    assert_clean(&t, file);
    return t;
}

/* The exposed TP and EP slices add up to the report's breakdown; the memory counters peak at
 * the report's memory per GPU (1F1B: one chunk, so both count activations alike). */
Test(trace, communication_tracks_add_up_to_the_breakdown_and_memory_to_the_report)
{
    struct scenario scn;
    struct step_output so;
    struct text t = modelled_trace("mixtral-8x7b-h100.xml", &scn, &so);
    int pp = so.res.pp;
    cr_assert_gt(so.rep.brk.tp, 0);
    cr_assert_gt(so.rep.brk.ep, 0);
    assert_adds_up(t.buf, pp, "TP", so.rep.brk.tp);
    assert_adds_up(t.buf, pp, "EP", so.rep.brk.ep);
    assert_adds_up(t.buf, pp, "CP", so.rep.brk.cp);
    cr_assert_not_null(strstr(t.buf, "\"name\":\"rank 0 TP (exposed)\""));
    cr_assert_not_null(strstr(t.buf, "\"name\":\"rank 3 EP (exposed)\""));
    cr_assert_not_null(strstr(t.buf, "\"cat\":\"EP\",\"name\":\"EP B mb0 c0\""));
    cr_assert_null(strstr(t.buf, "CP (exposed)"), "no context parallelism, no CP track");
    for (int r = 0; r < pp; r++) {
        char needle[64];
        snprintf(needle, sizeof needle, "\"name\":\"rank %d memory\",\"args\":{\"bytes\":", r);
        double peak = 0;
        for (const char *p = find(t.buf, needle); p; p = find(p + 1, needle)) {
            double v = strtod(p + strlen(needle), NULL);
            peak = v > peak ? v : peak;
        }
        cr_assert_leq(fabs(peak - so.rep.mem[r].total), 1.0,
                      "rank %d: counter peak %.0f, report %.0f", r, peak, so.rep.mem[r].total);
    }
    free(t.buf);
    step_release(&so);
}

/* DualPipe's overlapped pairs: each op's exposed part is its partner's communication that its
 * work did not cover; the trace still adds up to the breakdown. */
Test(trace, dualpipe_pairs_add_up_to_the_breakdown)
{
    struct scenario scn;
    struct step_output so;
    struct text t = modelled_trace("mixtral-8x7b-h100-dualpipe.xml", &scn, &so);
    assert_adds_up(t.buf, so.res.pp, "EP", so.rep.brk.ep);
    assert_adds_up(t.buf, so.res.pp, "TP", so.rep.brk.tp);
    cr_assert_eq(count(t.buf, "\"overlapped_pair\":true"), 216);
    free(t.buf);
    step_release(&so);
}

/* The start and duration (us) of the n-th slice on rank `rank`'s track whose text after its
 * tid is `tail`; 0 when there is none. */
static int slice_of(const char *buf, int rank, const char *tail, int n, double *ts, double *dur)
{
    char want[96];
    snprintf(want, sizeof want, ",\"pid\":1,\"tid\":%d,%s", rank + 1, tail);
    const char *ev = buf;
    for (int i = 0; ev && i <= n; i++)
        ev = strstr(i ? ev + 1 : ev, want);
    if (!ev)
        return 0;
    while (ev > buf && *ev != '{')
        ev--;
    return sscanf(ev, "{\"ph\":\"X\",\"ts\":%lf,\"dur\":%lf", ts, dur) == 2;
}

/* defer-head-wgrad: the head's rank runs the deferred LM-head weight gradients after its last
 * op -- with overlap-grad-reduce beside its gradient reduction (pipe_result.opt_hidden), the
 * rest first in its OPT record -- and the trace shows them as W slices: the part under the
 * reduction before the OPT, the rest at the OPT's start, together as long as the cost model's
 * rank_deferred_s; no other rank holds one. */
static void check_deferred_head_wgrad(const char *overlap)
{
    const char *const sets[] = {"defer-head-wgrad=true", overlap, NULL};
    struct scenario scn;
    struct step_output so;
    run_scenario(TOP_SRCDIR "/scenarios/llama3.1-70b-h100.xml", sets, &scn, &so);
    int head = so.res.pp - 1;
    double deferred_us = so.cm.rank_deferred_s[head] * 1e6;
    double hidden_us = simtime_to_s(so.res.opt_hidden[head]) * 1e6;
    cr_assert_gt(deferred_us, 1e4, "%g us: the head's weight gradients of 32 micro-batches",
                 deferred_us);
    for (int r = 0; r < head; r++)
        cr_assert_eq(so.cm.rank_deferred_s[r], 0.0, "rank %d holds no head", r);
    struct text t = trace_of_step(&scn, &so);
    assert_clean(&t, "defer-head-wgrad");
    const char *w = "\"cat\":\"W\",\"name\":\"W head (deferred)\"";
    double opt_ts, opt_dur, ts[2], dur[2];
    cr_assert(slice_of(t.buf, head, "\"cat\":\"OPT\",\"name\":\"OPT\"", 0, &opt_ts, &opt_dur));
    int n = 0;
    while (n < 2 && slice_of(t.buf, head, w, n, &ts[n], &dur[n]))
        n++;
    cr_assert_eq(count(t.buf, "W head (deferred)"), (size_t)n);
    cr_assert_eq(n, (hidden_us > 0) + (hidden_us < deferred_us), "%d slices, hidden %g us", n,
                 hidden_us);
    double sum = 0;
    for (int i = 0; i < n; i++) {
        sum += dur[i];
        if (ts[i] != opt_ts) /* the part under the reduction, before the OPT */
            cr_assert_leq(ts[i] + dur[i], opt_ts + 0.001);
        else
            cr_assert_lt(dur[i], opt_dur, "the optimizer step itself follows inside the OPT");
    }
    cr_assert_leq(fabs(sum - deferred_us), 0.002, "%.3f us, want %.3f", sum, deferred_us);
    free(t.buf);
    step_release(&so);
}

Test(trace, deferred_head_wgrad_runs_beside_the_reduction_then_in_the_opt)
{
    check_deferred_head_wgrad("overlap-grad-reduce=true");
}

Test(trace, deferred_head_wgrad_without_overlap_is_a_slice_inside_the_opt)
{
    check_deferred_head_wgrad("overlap-grad-reduce=false");
}

/* The scenario name is user text (--set name=...): invalid bytes become U+FFFD, control
 * characters and quotes are escaped, valid multi-byte text is kept. */
Test(trace, invalid_utf8_in_the_scenario_name_is_replaced)
{
    static const char *const tiny[] = {"pp=2",        "layers=2",           "microbatches=2",
                                       "forward=1ms", "backward-input=1ms", NULL};
    struct sim_fixture f;
    cr_assert_eq(fixture_run(&f, tiny), SIM_OK, "%s", f.err.msg);
    snprintf(f.scn.name, sizeof f.scn.name, "%s",
             "a\xff"
             "b\xc0\xaf"
             "c\xed\xa0\x80"
             "d\xe2\x82"
             "\x01\"\xc2\xb5s \xf0\x9d\x84\x9e");
    struct text t = write_trace(&f.scn, &f.setup, &f.res, NULL);
    assert_clean(&t, "bad name");
    const char *want = "\"scenario\":\"a\xef\xbf\xbd"
                       "b\xef\xbf\xbd\xef\xbf\xbd"
                       "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                       "d\xef\xbf\xbd\xef\xbf\xbd\\u0001\\\"\xc2\xb5s \xf0\x9d\x84\x9e\"";
    cr_assert_not_null(strstr(t.buf, want), "%.200s", t.buf);
    free(t.buf);
    fixture_release(&f);
}

/* ---- the checker on bad traces ---------------------------------------------------------- */

#define META                                                                                       \
    "{\"ph\":\"M\",\"pid\":1,\"tid\":1,\"name\":\"process_name\",\"args\":{\"name\":\"p\"}},"      \
    "{\"ph\":\"M\",\"pid\":1,\"tid\":1,\"name\":\"thread_name\",\"args\":{\"name\":\"t1\"}},"      \
    "{\"ph\":\"M\",\"pid\":1,\"tid\":2,\"name\":\"thread_name\",\"args\":{\"name\":\"t2\"}}"
#define X(ts, dur, name)                                                                           \
    ",{\"ph\":\"X\",\"ts\":" #ts ",\"dur\":" #dur                                                  \
    ",\"pid\":1,\"tid\":1,\"cat\":\"c\",\"name\":\"" name "\"}"

static struct tc_result check(const char *text)
{
    struct tc_result r;
    cr_assert_geq(tc_check_buffer(text, strlen(text), &r), 0);
    return r;
}

/* Exactly one violation, of `rule`. */
static void assert_only(const char *events, enum tc_rule rule)
{
    size_t len = strlen(events) + 512;
    char *text = malloc(len);
    cr_assert_not_null(text);
    snprintf(text, len, "{\"traceEvents\":[" META "%s]}", events);
    struct tc_result r = check(text);
    cr_assert_eq(r.by_rule[rule], 1, "%s: want one %s violation, got %zu; %s", events,
                 tc_rule_name(rule), r.by_rule[rule], r.nmessages ? r.message[0] : "none");
    cr_assert_eq(r.violations, 1, "%s: %s", events, r.nmessages ? r.message[0] : "");
    free(text);
}

static void assert_passes(const char *events)
{
    size_t len = strlen(events) + 512;
    char *text = malloc(len);
    cr_assert_not_null(text);
    snprintf(text, len, "{\"traceEvents\":[" META "%s]}", events);
    struct tc_result r = check(text);
    cr_assert_eq(r.violations, 0, "%s: %s", events, r.nmessages ? r.message[0] : "");
    free(text);
}

Test(trace_check, nested_disjoint_and_adjacent_slices_pass)
{
    assert_passes(X(0, 10, "a") X(2, 3, "child") X(5, 5, "child2") X(10, 10, "next")
                      X(20, 0, "instant") X(20, 0, "instant2"));
    /* A child written before its parent at the same ts: Perfetto sorts the longer first. */
    assert_passes(X(0, 5, "child") X(0, 10, "parent"));
}

Test(trace_check, catches_a_partial_overlap)
{
    assert_only(X(0, 10, "a") X(5, 10, "b"), TC_OVERLAP);
    /* The old link track: a transfer drawn up to its arrival overlaps the next one's
     * serialisation by the latency. */
    assert_only(X(100, 12, "SEND_F mb0") X(110, 12, "SEND_F mb1"), TC_OVERLAP);
}

/* Disjoint in exact microseconds, but Perfetto rounds ts and dur to nanoseconds apart:
 * [0.5, 2.0) ns becomes [1, 3) and the next slice, from 2 ns, starts inside it. */
Test(trace_check, catches_an_overlap_made_by_perfettos_rounding)
{
    assert_only(X(0.0005, 0.0015, "a") X(0.002, 1, "b"), TC_OVERLAP);
    assert_passes(X(0.001, 0.001, "a") X(0.002, 1, "b"));
}

Test(trace_check, catches_a_missing_thread_or_process_name)
{
    assert_only(",{\"ph\":\"X\",\"ts\":0,\"dur\":1,\"pid\":1,\"tid\":3,\"name\":\"x\"}", TC_NAMES);
    assert_only(
        ",{\"ph\":\"M\",\"pid\":2,\"tid\":4,\"name\":\"thread_name\",\"args\":{\"name\":\"t\"}}"
        ",{\"ph\":\"X\",\"ts\":0,\"dur\":1,\"pid\":2,\"tid\":4,\"name\":\"x\"}",
        TC_NAMES);
    assert_only(
        ",{\"ph\":\"M\",\"pid\":1,\"tid\":3,\"name\":\"thread_name\",\"args\":{\"name\":\"\"}}"
        ",{\"ph\":\"M\",\"pid\":1,\"tid\":3,\"name\":\"thread_name\",\"args\":{\"name\":\"t3\"}}",
        TC_FIELD);
}

Test(trace_check, catches_invalid_utf8)
{
    assert_only(X(0, 1, "bad \xff byte"), TC_UTF8);
    assert_only(X(0, 1, "overlong \xc0\xaf"), TC_UTF8);
    assert_only(X(0, 1, "surrogate \xed\xa0\x80"), TC_UTF8);
    assert_only(X(0, 1, "cut \xe2\x82"), TC_UTF8);
    assert_only(X(0, 1, "beyond \xf4\x90\x80\x80"), TC_UTF8);
    assert_only(X(0, 1, "lone \\ud800 escape"), TC_UTF8);
    assert_only(",{\"ph\":\"X\",\"ts\":0,\"dur\":1,\"pid\":1,\"tid\":1,\"name\":\"k\",\"args\":{"
                "\"\xfe\":1}}",
                TC_UTF8);
    assert_passes(X(0, 1, "ok \xc2\xb5s \xe2\x9c\x93 \xf0\x9d\x84\x9e \\ud834\\udd1e \\u00b5"));
}

Test(trace_check, catches_bad_ids_and_fields)
{
    assert_only(",{\"ph\":\"X\",\"ts\":0,\"dur\":1,\"pid\":1,\"tid\":0,\"name\":\"x\"}", TC_ID);
    assert_only(
        X(0, 1, "x") ",{\"ph\":\"M\",\"pid\":2,\"tid\":1,\"name\":\"process_name\",\"args\":{"
                     "\"name\":\"q\"}}"
                     ",{\"ph\":\"M\",\"pid\":2,\"tid\":1,\"name\":\"thread_name\",\"args\":{"
                     "\"name\":\"q1\"}}"
                     ",{\"ph\":\"X\",\"ts\":0,\"dur\":1,\"pid\":2,\"tid\":1,\"name\":\"x\"}",
        TC_ID);
    assert_only(",{\"ph\":\"X\",\"ts\":0,\"pid\":1,\"tid\":1,\"name\":\"x\"}", TC_TIME);
    assert_only(",{\"ph\":\"X\",\"ts\":-1,\"dur\":1,\"pid\":1,\"tid\":1,\"name\":\"x\"}", TC_TIME);
    assert_only(",{\"ph\":\"X\",\"ts\":\"5\",\"dur\":1,\"pid\":1,\"tid\":1,\"name\":\"x\"}",
                TC_TIME);
    assert_only(",{\"ph\":\"X\",\"ts\":1e400,\"dur\":1,\"pid\":1,\"tid\":1,\"name\":\"x\"}",
                TC_TIME);
    assert_only(",{\"ph\":\"X\",\"ts\":0,\"dur\":1,\"pid\":1,\"tid\":1}", TC_FIELD);
    assert_only(",{\"ph\":\"X\",\"ts\":0,\"dur\":1,\"tid\":1,\"name\":\"x\"}", TC_FIELD);
    assert_only(",{\"ph\":\"Q\",\"ts\":0,\"pid\":1,\"tid\":1,\"name\":\"x\"}", TC_FIELD);
    assert_only(
        ",{\"ph\":\"C\",\"ts\":0,\"pid\":1,\"tid\":1,\"name\":\"m\",\"args\":{\"v\":\"1\"}}",
        TC_FIELD);
    assert_only(",{\"ph\":\"M\",\"pid\":1,\"tid\":1,\"name\":\"thread_sort_index\",\"args\":{"
                "\"sort_index\":0.5}}",
                TC_FIELD);
}

Test(trace_check, catches_unbalanced_begin_end_and_async)
{
    assert_passes(",{\"ph\":\"B\",\"ts\":0,\"pid\":1,\"tid\":1,\"name\":\"a\"}"
                  ",{\"ph\":\"E\",\"ts\":5,\"pid\":1,\"tid\":1}" X(1, 2, "inside"));
    assert_only(",{\"ph\":\"B\",\"ts\":0,\"pid\":1,\"tid\":1,\"name\":\"a\"}", TC_BEGIN_END);
    assert_only(",{\"ph\":\"E\",\"ts\":0,\"pid\":1,\"tid\":1,\"name\":\"a\"}", TC_BEGIN_END);
    assert_only(",{\"ph\":\"B\",\"ts\":0,\"pid\":1,\"tid\":1,\"name\":\"a\"}"
                ",{\"ph\":\"E\",\"ts\":5,\"pid\":1,\"tid\":1}" X(3, 5, "across the end"),
                TC_OVERLAP);
    const char *b =
        ",{\"ph\":\"b\",\"ts\":0,\"pid\":1,\"tid\":1,\"cat\":\"l\",\"name\":\"f\",\"id\":7}";
    char buf[512];
    snprintf(buf, sizeof buf,
             "%s,{\"ph\":\"e\",\"ts\":3,\"pid\":1,\"tid\":1,\"cat\":\"l\",\"name\":\"f\",\"id\":7}",
             b);
    assert_passes(buf);
    assert_only(b, TC_ASYNC);
    snprintf(buf, sizeof buf,
             "%s,{\"ph\":\"e\",\"ts\":3,\"pid\":1,\"tid\":1,\"cat\":\"l\",\"name\":\"f\",\"id\":8}",
             b);
    struct tc_result r;
    char text[1024];
    snprintf(text, sizeof text, "{\"traceEvents\":[" META "%s]}", buf);
    r = check(text);
    cr_assert_eq(r.by_rule[TC_ASYNC], 2, "an e of another id, and the b left open");
    assert_only(",{\"ph\":\"b\",\"ts\":0,\"pid\":1,\"tid\":1,\"cat\":\"l\",\"name\":\"f\"}",
                TC_FIELD);
}

#define FLOW(ph, ts, tid, extra)                                                                   \
    ",{\"ph\":\"" ph "\"" extra ",\"ts\":" #ts ",\"pid\":1,\"tid\":" #tid                          \
    ",\"cat\":\"d\",\"name\":\"act\",\"id\":1}"

Test(trace_check, catches_unpaired_or_misbound_flows)
{
    const char *slices = X(0, 10, "src") ",{\"ph\":\"X\",\"ts\":20,\"dur\":10,\"pid\":1,\"tid\":2,"
                                         "\"name\":\"dst\"}";
    char buf[1024];
    snprintf(buf, sizeof buf, "%s" FLOW("s", 5, 1, "") FLOW("f", 25, 2, ",\"bp\":\"e\""), slices);
    assert_passes(buf);
    snprintf(buf, sizeof buf, "%s" FLOW("s", 5, 1, "") FLOW("f", 15, 2, ""), slices);
    assert_passes(buf); /* no bp: binds to the next slice on its track */
    snprintf(buf, sizeof buf, "%s" FLOW("s", 5, 1, ""), slices);
    assert_only(buf, TC_FLOW);
    snprintf(buf, sizeof buf, "%s" FLOW("f", 25, 2, ",\"bp\":\"e\""), slices);
    assert_only(buf, TC_FLOW);
    /* An s after its slice ended: Perfetto binds it to that slice all the same. */
    snprintf(buf, sizeof buf, "%s" FLOW("s", 12, 1, "") FLOW("f", 25, 2, ",\"bp\":\"e\""), slices);
    assert_only(buf, TC_FLOW);
    snprintf(buf, sizeof buf, "%s" FLOW("s", 5, 1, "") FLOW("f", 35, 2, ""), slices);
    assert_only(buf, TC_FLOW); /* no later slice takes it */
    snprintf(buf, sizeof buf,
             "%s" FLOW("s", 5, 1, "") FLOW("s", 6, 1, "") FLOW("f", 25, 2, ",\"bp\":\"e\""),
             slices);
    assert_only(buf, TC_FLOW);
}

/* A message names a flow or async slice by its parts, labelled: the separators of the key they
 * are looked up by are control characters, which a terminal shows as nothing. */
Test(trace_check, names_an_unended_flow_and_an_unclosed_async_by_their_parts)
{
    const char *open_b = ",{\"ph\":\"b\",\"ts\":0,\"pid\":1,\"tid\":1,\"cat\":\"l\","
                         "\"name\":\"f\",\"id\":7}"
                         ",{\"ph\":\"b\",\"ts\":0,\"pid\":1,\"tid\":1,\"cat\":\"l\","
                         "\"name\":\"f\",\"id\":\"7\"}";
    char text[1024];
    snprintf(text, sizeof text, "{\"traceEvents\":[" META X(0, 10, "src") "%s%s]}",
             FLOW("s", 5, 1, ""), open_b);
    struct tc_result r = check(text);
    cr_assert_eq(r.nmessages, 3, "%d messages", r.nmessages);
    cr_assert_str_eq(r.message[0], "flow: flow \"cat d, name act, id 1\" has an s but no f");
    /* a number id and a string id: two keys, told apart by the quotes */
    cr_assert_str_eq(r.message[1], "async: 1 b of \"pid 1, cat l, id 7, name f\" never closed");
    cr_assert_str_eq(r.message[2], "async: 1 b of \"pid 1, cat l, id \"7\", name f\" never closed");
}

Test(trace_check, catches_bad_json_and_deep_nesting)
{
    const char *bad[] = {"",
                         "{",
                         "[{\"ph\":\"X\"}",
                         "{\"traceEvents\":[],}",
                         "{\"traceEvents\":[" META ",]}",
                         "{\"traceEvents\":[]} x",
                         "{\"other\":1}",
                         "{\"traceEvents\":[\"a\tb\"]}",
                         "{\"displayTimeUnit\":\"s\",\"traceEvents\":[]}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct tc_result r = check(bad[i]);
        cr_assert_geq(r.by_rule[TC_JSON], 1, "%s", bad[i]);
    }
    /* 513 nested slices: Perfetto keeps 512 levels. */
    size_t cap = 513 * 96 + 512;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    size_t n = (size_t)snprintf(text, cap, "{\"traceEvents\":[" META);
    for (int i = 0; i < 513; i++)
        n += (size_t)snprintf(
            text + n, cap - n,
            ",{\"ph\":\"X\",\"ts\":%d,\"dur\":%d,\"pid\":1,\"tid\":1,\"name\":\"n\"}", i,
            2000 - 2 * i);
    snprintf(text + n, cap - n, "]}");
    struct tc_result r = check(text);
    cr_assert_eq(r.by_rule[TC_DEPTH], 1);
    cr_assert_eq(r.violations, 1);
    free(text);
}
