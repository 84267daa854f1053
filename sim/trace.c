/* trace: Chrome trace-event format writer (layout in trace.h).
 *
 * Written for Perfetto's JSON importer, which drops (or spills to an overflow track) a
 * complete slice that starts inside another on its thread track and ends after it, reads tid
 * 0 as "no tid" and binds a flow event to whatever slice is on top of its track's stack.  So:
 *  - each track holds slices that are disjoint in time (ops of one rank, serialisations of
 *    one link direction, reductions of one rank's stream) or, on the communication tracks,
 *    parts of disjoint ops inside each op's interval; the one nesting is a rank's OPT, which
 *    holds its deferred head weight gradients as a child at its start (no flow ends there);
 *  - times are whole nanoseconds: both ends of a slice are rounded alone (round half up, a
 *    monotone map), so disjoint or nested records stay so, and Perfetto's own conversion
 *    (llround(us x 1000)) is exact on them;
 *  - flow ends sit in the middle of an op of at least 2 ns, where that op is on top;
 *  - thread ids run from 1 and are unique over the file; every pid and tid used is named.
 * Records, links and metadata are written in two passes: the first only finds which
 * communication tracks and links carry something, so that only those are named. */
#include "trace.h"

#include <inttypes.h>
#include <string.h>

#include "alloc.h"
#include "memtimeline.h"
#include "outfile.h"
#include "report.h"

enum { PID_RANKS = 1, PID_LINKS, PID_COMM, PID_MEMORY };

/* A rank's communication tracks (process PID_COMM), in display order. */
enum comm_track { CT_TP, CT_CP, CT_EP, CT_DP, CT_HOST, CT_SYNC, CT_COUNT };
static const char *const comm_cat[CT_COUNT] = {"TP", "CP", "EP", "DP", "host", "DP_SYNC"};
static const char *const comm_track_name[CT_COUNT] = {
    "TP (exposed)",       "CP (exposed)",           "EP (exposed)",
    "DP in op (exposed)", "host offload (exposed)", "DP grad sync"};

struct trace_ctx {
    FILE *out;
    const struct scenario *scn;
    const struct pipe_setup *setup;
    const struct pipe_result *res;
    const struct costmodel *cm; /* NULL: explicit costs */
    const char *sets;           /* the command line's --set list as the report says it, or "" */
    int pp;
    int writing;        /* 0: the first pass, which only marks what is used */
    uint8_t *comm_used; /* [pp * CT_COUNT] the (rank, track) carries a slice */
    uint8_t *link_used; /* [2 * pp] by pipe_link_id */
    int *link_peer;     /* [2 * pp] the receiving rank of each used link direction */
    uint32_t *op_at;    /* [2 * stages * microbatches] record index + 1 of F (then B) of
                           (stage, micro-batch); 0 = none */
    const struct pipe_record **pair_f; /* [pp] each rank's overlapped pair F until its B */
    uint64_t flows;                    /* flow ids handed out */
    int mem_rank;                      /* memory counter point held back until its time is passed */
    uint64_t mem_ns;
    double mem_bytes;
};

/* Track (thread) ids: rank tracks, then link directions, then communication tracks, then the
 * memory process's one thread; all >= 1 (Perfetto reads tid 0 as "no tid") and distinct. */
static int64_t tid_rank(int rank)
{
    return 1 + (int64_t)rank;
}

static int64_t tid_link(const struct trace_ctx *c, int id)
{
    return 1 + (int64_t)c->pp + id;
}

static int64_t tid_comm(const struct trace_ctx *c, int rank, int track)
{
    return 1 + 3 * (int64_t)c->pp + (int64_t)rank * CT_COUNT + track;
}

static int64_t tid_memory(const struct trace_ctx *c)
{
    return 1 + 3 * (int64_t)c->pp + (int64_t)c->pp * CT_COUNT;
}

/* Whole nanoseconds since the first op, rounded half up. */
static uint64_t ns_of(const struct trace_ctx *c, simtime_t t)
{
    return ((uint64_t)(t - c->res->first_start) + 500u) / 1000u;
}

/* Nanoseconds as microseconds with 3 decimals, exact. */
static void put_us(FILE *out, uint64_t ns)
{
    fprintf(out, "%" PRIu64 ".%03" PRIu64, ns / 1000u, ns % 1000u);
}

static void put_name_meta(struct trace_ctx *c, int pid, int64_t tid, const char *what,
                          const char *name)
{
    fprintf(c->out,
            ",\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%" PRId64 ",\"name\":\"%s\",\"args\":{\"name\":",
            pid, tid, what);
    json_put_string(c->out, name);
    fprintf(c->out, "}}");
}

static void put_sort_meta(struct trace_ctx *c, int pid, int64_t tid, const char *what,
                          int64_t index)
{
    fprintf(c->out,
            ",\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%" PRId64
            ",\"name\":\"%s\",\"args\":{\"sort_index\":%" PRId64 "}}",
            pid, tid, what, index);
}

static void put_process(struct trace_ctx *c, int pid, int64_t tid, const char *name)
{
    put_name_meta(c, pid, tid, "process_name", name);
    put_sort_meta(c, pid, tid, "process_sort_index", pid);
}

static void put_thread(struct trace_ctx *c, int pid, int64_t tid, const char *name, int64_t index)
{
    put_name_meta(c, pid, tid, "thread_name", name);
    put_sort_meta(c, pid, tid, "thread_sort_index", index);
}

/* The head of a complete slice [ts, ts + dur); the caller adds args and closes it.  ts comes
 * first: older Perfetto importers read every value before it with a stricter string reader. */
static void put_slice(struct trace_ctx *c, int pid, int64_t tid, const char *cat, const char *name,
                      uint64_t ts, uint64_t dur)
{
    fprintf(c->out, ",\n{\"ph\":\"X\",\"ts\":");
    put_us(c->out, ts);
    fprintf(c->out, ",\"dur\":");
    put_us(c->out, dur);
    fprintf(c->out, ",\"pid\":%d,\"tid\":%" PRId64 ",\"cat\":\"%s\",\"name\":\"%s\"", pid, tid, cat,
            name);
}

/* "F mb12 c1": an op's kind, micro-batch and model chunk. */
static void op_name(char *buf, size_t len, const struct pipe_record *r)
{
    snprintf(buf, len, "%s mb%" PRId32 " c%" PRId32, rec_kind_name((enum rec_kind)r->kind), r->mb,
             r->chunk);
}

/* The op's exposed communication parts (report_attribute_op) after its work, one slice per
 * part on the rank's track of that part.  The parts are placed by their running sum in
 * picoseconds, so rounding never moves one past the op's end. */
static void comm_parts(struct trace_ctx *c, const struct pipe_record *op,
                       const struct pipe_record *partner)
{
    struct report_breakdown b = {0};
    report_attribute_op(&b, c->scn, c->cm, op, partner);
    const double part[CT_SYNC] = {b.tp, b.cp, b.ep, b.dp, b.host};
    double upto = b.compute + b.recompute;
    simtime_t from = op->start + simtime_from_s(upto);
    char name[64], opn[48];
    op_name(opn, sizeof opn, op);
    for (int k = 0; k < CT_SYNC; k++) {
        if (part[k] <= 0)
            continue;
        upto += part[k];
        simtime_t at = from < op->end ? from : op->end, to = op->start + simtime_from_s(upto);
        if (to > op->end)
            to = op->end;
        from = to;
        uint64_t ts = ns_of(c, at), te = ns_of(c, to);
        if (to <= at || te <= ts)
            continue;
        if (!c->writing) {
            c->comm_used[(size_t)op->rank * CT_COUNT + k] = 1;
            continue;
        }
        snprintf(name, sizeof name, "%s %s", comm_cat[k], opn);
        put_slice(c, PID_COMM, tid_comm(c, op->rank, k), comm_cat[k], name, ts, te - ts);
        fprintf(c->out, "}");
    }
}

/* Exposed communication of an F/B/W op; an overlapped pair's F waits for its B, whose
 * communication its work covers (and the other way round). */
static void op_comm(struct trace_ctx *c, const struct pipe_record *r)
{
    if (!c->cm || (r->kind != REC_F && r->kind != REC_B && r->kind != REC_W))
        return;
    const struct pipe_record **f = &c->pair_f[r->rank];
    if (r->overlap == SCHED_PAIR_F) {
        *f = r;
    } else if (r->overlap == SCHED_PAIR_B && *f) {
        comm_parts(c, *f, r);
        comm_parts(c, r, *f);
        *f = NULL;
    } else {
        comm_parts(c, r, NULL);
    }
}

static size_t op_slot(const struct trace_ctx *c, int is_b, int stage, int mb)
{
    size_t stages = (size_t)c->res->pp * (size_t)c->res->vp;
    return ((size_t)is_b * stages + (size_t)stage) * (size_t)c->res->microbatches + (size_t)mb;
}

/* Middle of a drawn op, or 0 when it is too short to hold a flow end (< 2 ns). */
static uint64_t op_mid(const struct trace_ctx *c, const struct pipe_record *r)
{
    uint64_t ts = ns_of(c, r->start), te = ns_of(c, r->end);
    return te - ts >= 2 ? ts + (te - ts) / 2 : 0;
}

/* One end of a dependency arrow, in the middle of an op of `rank` (phase: "s", or "f" bound
 * to the enclosing slice). */
static void put_flow_end(struct trace_ctx *c, const char *phase, uint64_t ts, int rank,
                         const char *what, uint64_t id)
{
    fprintf(c->out, ",\n{\"ph\":%s,\"ts\":", phase);
    put_us(c->out, ts);
    fprintf(c->out,
            ",\"pid\":%d,\"tid\":%" PRId64 ",\"cat\":\"dependency\",\"name\":\"%s\",\"id\":%" PRIu64
            "}",
            PID_RANKS, tid_rank(rank), what, id);
}

/* A flow arrow from F (B) r to the F of the next (B of the previous) virtual stage of its
 * micro-batch, when that op runs on another rank: it cannot start before r's output arrives. */
static void dependency_flow(struct trace_ctx *c, const struct pipe_record *r)
{
    int is_b = r->kind == REC_B;
    if ((r->kind != REC_F && !is_b) || r->mb < 0)
        return;
    int next = is_b ? r->stage - 1 : r->stage + 1;
    if (next < 0 || next >= c->res->pp * c->res->vp)
        return;
    uint32_t at = c->op_at[op_slot(c, is_b, next, r->mb)];
    if (at == 0)
        return;
    const struct pipe_record *d = &c->res->recs[at - 1];
    uint64_t from = op_mid(c, r), to = op_mid(c, d);
    if (d->rank == r->rank || from == 0 || to == 0)
        return;
    const char *what = is_b ? "gradient" : "activation";
    uint64_t id = ++c->flows;
    put_flow_end(c, "\"s\"", from, r->rank, what, id);
    put_flow_end(c, "\"f\",\"bp\":\"e\"", to, d->rank, what, id);
}

/* The LM head's weight gradients that defer-head-wgrad moves into the flush (costmodel.h:
 * rank_deferred_s, of rank_opt_s) run from the rank's last op on, under its gradient
 * reduction (pipe_result.opt_hidden), and what is left first in its OPT record: a slice
 * after the last op and a child slice at the OPT's start, so that their boxes are not read
 * as a slow optimizer step (the report counts them as compute). */
static void put_deferred_wgrad(struct trace_ctx *c, const struct pipe_record *opt, uint64_t ts)
{
    double s = c->cm ? c->cm->rank_deferred_s[opt->rank] : 0.0;
    simtime_t hidden = c->res->opt_hidden[opt->rank];
    simtime_t from[2] = {c->res->compute_end_rank[opt->rank], opt->start};
    simtime_t end[2] = {from[0] + hidden, opt->start + simtime_from_s(s) - hidden};
    for (int i = 0; i < 2 && s > 0; i++) {
        uint64_t t0 = i ? ts : ns_of(c, from[0]);
        uint64_t te = ns_of(c, end[i] < opt->end ? end[i] : opt->end);
        if (te <= t0)
            continue;
        put_slice(c, PID_RANKS, tid_rank(opt->rank), "W", "W head (deferred)", t0, te - t0);
        fprintf(c->out, ",\"args\":{\"rank\":%" PRId32 "}}", opt->rank);
    }
}

static void put_op(struct trace_ctx *c, const struct pipe_record *r)
{
    uint64_t ts = ns_of(c, r->start), te = ns_of(c, r->end);
    if (te > ts) {
        char name[48];
        const char *kind = rec_kind_name((enum rec_kind)r->kind);
        if (r->kind == REC_OPT)
            snprintf(name, sizeof name, "%s", kind);
        else
            op_name(name, sizeof name, r);
        put_slice(c, PID_RANKS, tid_rank(r->rank), kind, name, ts, te - ts);
        if (r->kind == REC_OPT) {
            fprintf(c->out, ",\"args\":{\"rank\":%" PRId32 "}}", r->rank);
            put_deferred_wgrad(c, r, ts);
        } else { /* an op of an overlapped F&B pair (DualPipe) says so */
            fprintf(c->out,
                    ",\"args\":{\"microbatch\":%" PRId32 ",\"chunk\":%" PRId32 ",\"stage\":%" PRId32
                    "%s}}",
                    r->mb, r->chunk, r->stage,
                    r->overlap != SCHED_ALONE ? ",\"overlapped_pair\":true" : "");
        }
        dependency_flow(c, r);
    }
    op_comm(c, r);
}

/* The rank's gradient reductions and parameter all-gather, on its "DP grad sync" track. */
static void put_sync(struct trace_ctx *c, const struct pipe_record *r)
{
    uint64_t ts = ns_of(c, r->start), te = ns_of(c, r->end);
    if (te <= ts)
        return;
    if (!c->writing) {
        c->comm_used[(size_t)r->rank * CT_COUNT + CT_SYNC] = 1;
        return;
    }
    char name[48];
    const char *kind = rec_kind_name((enum rec_kind)r->kind);
    if (r->kind == REC_DP_SYNC)
        snprintf(name, sizeof name, "%s c%" PRId32, kind, r->chunk);
    else
        snprintf(name, sizeof name, "%s", kind);
    put_slice(c, PID_COMM, tid_comm(c, r->rank, CT_SYNC), kind, name, ts, te - ts);
    if (r->kind == REC_DP_SYNC)
        fprintf(c->out, ",\"args\":{\"chunk\":%" PRId32 ",\"stage\":%" PRId32 "}}", r->chunk,
                r->stage);
    else
        fprintf(c->out, "}");
}

/* A transfer: its serialisation on the link's track, then its latency in flight as an async
 * slice (id = the record's index, unique).  A transfer with no serialisation time shows only
 * the async slice; one with neither (under half a nanosecond) shows as an empty async slice,
 * so every transfer is somewhere. */
static void put_transfer(struct trace_ctx *c, const struct pipe_record *r, size_t index)
{
    int id = pipe_link_id(c->pp, r->rank, r->peer);
    if (!c->writing) {
        c->link_used[id] = 1;
        c->link_peer[id] = r->peer;
        return;
    }
    simtime_t lat = c->setup->links[id].lat;
    simtime_t ser_end = r->end - lat >= r->start ? r->end - lat : r->start;
    uint64_t ts = ns_of(c, r->start), ts_arrive = ns_of(c, ser_end), te = ns_of(c, r->end);
    char name[48];
    const char *kind = rec_kind_name((enum rec_kind)r->kind);
    snprintf(name, sizeof name, "%s mb%" PRId32 " c%" PRId32, kind, r->mb, r->chunk);
    if (ts_arrive > ts) {
        put_slice(c, PID_LINKS, tid_link(c, id), kind, name, ts, ts_arrive - ts);
        fprintf(c->out, ",\"args\":{\"to_stage\":%" PRId32 ",\"bytes\":%.0f}}", r->stage, r->bytes);
    }
    if (te == ts_arrive && ts_arrive > ts)
        return;
    char flight[64];
    snprintf(flight, sizeof flight, "link %" PRId32 " -> %" PRId32 " in flight", r->rank, r->peer);
    for (int end = 0; end < 2; end++) {
        fprintf(c->out, ",\n{\"ph\":\"%s\",\"ts\":", end ? "e" : "b");
        put_us(c->out, end ? te : ts_arrive);
        fprintf(c->out,
                ",\"pid\":%d,\"tid\":%" PRId64 ",\"cat\":\"latency\",\"name\":\"%s\",\"id\":%zu",
                PID_LINKS, tid_link(c, id), flight, index);
        if (end)
            fprintf(c->out, "}");
        else
            fprintf(c->out, ",\"args\":{\"transfer\":\"%s\"}}", name);
    }
}

static void put_records(struct trace_ctx *c)
{
    const struct pipe_result *res = c->res;
    memset(c->pair_f, 0, (size_t)c->pp * sizeof *c->pair_f);
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        if (r->peer >= 0)
            put_transfer(c, r, i);
        else if (r->kind == REC_DP_SYNC || r->kind == REC_PARAM_AG)
            put_sync(c, r);
        else if (c->writing)
            put_op(c, r);
        else
            op_comm(c, r);
    }
}

static void flush_memory(struct trace_ctx *c)
{
    if (c->mem_rank < 0)
        return;
    fprintf(c->out, ",\n{\"ph\":\"C\",\"ts\":");
    put_us(c->out, c->mem_ns);
    fprintf(c->out,
            ",\"pid\":%d,\"tid\":%" PRId64
            ",\"name\":\"rank %d memory\",\"args\":{\"bytes\":%.0f}}",
            PID_MEMORY, tid_memory(c), c->mem_rank, c->mem_bytes);
    c->mem_rank = -1;
}

/* One counter event per rank and nanosecond: of changes at one time the last holds. */
static int put_memory_point(const struct memtl_point *p, void *user)
{
    struct trace_ctx *c = user;
    uint64_t ns = ((uint64_t)p->t + 500u) / 1000u;
    if (c->mem_rank != p->rank || c->mem_ns != ns)
        flush_memory(c);
    c->mem_rank = p->rank;
    c->mem_ns = ns;
    c->mem_bytes = p->total_bytes;
    return 0;
}

/* A modelled run's config in otherData: what the text report's layout line says of it (model,
 * hardware, how the GPUs were cut, precision, recompute, ZeRO and the batch) as the cost
 * model resolved it -- the name may say "on 512 H100" of a --set gpus=64. */
static void put_modelled_config(FILE *out, const struct scenario *scn, const struct costmodel *cm)
{
    const struct cm_config *g = &cm->cfg;
    fprintf(out, ",\"model\":");
    json_put_string(out, cm->model.name);
    fprintf(out, ",\"hardware\":");
    json_put_string(out, cm->hw->name);
    fprintf(out, ",\"gpus\":%d,\"tp\":%d,\"cp\":%d,\"ep\":%d,\"dp\":%d", g->gpus, g->tp, g->cp,
            g->ep, g->dp);
    fprintf(out, ",\"dtype\":");
    json_put_string(out, hw_dtype_name((enum dtype)scn->dtype));
    if (scn->dtype == DT_FP8) { /* fp8 GEMMs name their scaling recipe, as the layout line */
        fprintf(out, ",\"fp8_recipe\":");
        json_put_string(out, scn_choice_name(SCN_FP8_RECIPE, scn->fp8_recipe));
    }
    fprintf(out, ",\"recompute\":");
    json_put_string(out, scn_choice_name(SCN_RECOMPUTE, scn->recompute));
    fprintf(out, ",\"zero\":%d,\"micro_batch\":%d,\"seq\":%d,\"global_batch\":%d", g->zero,
            g->micro_batch, g->seq, g->global_batch);
}

/* The file's head: the scenario's name and file, then the pipeline as the engine ran it (the
 * setup's resolved schedule and parameters, not the scenario's keys again). */
static void put_header(struct trace_ctx *c)
{
    const struct sched_params *sp = &c->setup->sp;
    FILE *out = c->out;
    fprintf(out, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"scenario\":");
    json_put_string(out, c->scn->name);
    /* the file as given too, as the JSON report says it: two files may give one name */
    fprintf(out, ",\"scenario_file\":");
    if (c->scn->file[0])
        json_put_string(out, c->scn->file);
    else
        fputs("null", out);
    fprintf(out, ",\"schedule\":");
    json_put_string(out, c->setup->schedule->name);
    /* what the command line changed, as the text report's scenario line says it ("--set
     * tp=4 pp=2"; null: nothing) */
    fprintf(out, ",\"sets\":");
    if (c->sets && c->sets[0])
        json_put_string(out, c->sets);
    else
        fputs("null", out);
    if (c->cm)
        put_modelled_config(out, c->scn, c->cm);
    fprintf(out, ",\"pp\":%d,\"vp\":%d,\"vp_group\":%d,\"microbatches\":%d,\"step_us\":", sp->pp,
            sp->vp, sp->vp_group > 0 ? sp->vp_group : sp->pp, sp->microbatches);
    simtime_t step = c->res->step_end - c->res->first_start;
    fprintf(out, "%" PRId64 ".%06" PRId64, step / 1000000, step % 1000000);
    fprintf(out, ",\"jitter\":%.15g,\"seed\":%lu", c->scn->jitter, c->scn->seed);
    fprintf(out, "},\n\"traceEvents\":[");
    /* The first event has no leading comma; every later one starts with ",\n". */
    fprintf(out,
            "\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%" PRId64 ",\"name\":\"process_name\","
            "\"args\":{\"name\":\"pipeline ranks\"}}",
            PID_RANKS, tid_rank(0));
}

/* Names and display order of every process and track that carries an event. */
static void put_metadata(struct trace_ctx *c)
{
    char name[96];
    int pp = c->pp, any_link = 0, any_comm = 0;
    put_sort_meta(c, PID_RANKS, tid_rank(0), "process_sort_index", PID_RANKS);
    for (int r = 0; r < pp; r++) {
        snprintf(name, sizeof name, "rank %d", r);
        put_thread(c, PID_RANKS, tid_rank(r), name, r);
    }
    for (int id = 0; id < 2 * pp; id++) {
        if (!c->link_used[id])
            continue;
        if (!any_link++)
            put_process(c, PID_LINKS, tid_link(c, id), "p2p links");
        int src = id / 2, dst = c->link_peer[id];
        snprintf(name, sizeof name, "link %d -> %d", src, dst);
        /* Each link's two directions together: the pair (k, k+1) at 2k, forward first; the
         * interleaved wrap (last rank <-> rank 0) after all neighbour pairs. */
        int index = src + 1 == dst   ? 2 * src
                    : dst + 1 == src ? 2 * dst + 1
                                     : 2 * (pp - 1) + (src == pp - 1 ? 0 : 1);
        put_thread(c, PID_LINKS, tid_link(c, id), name, index);
    }
    for (int r = 0; r < pp; r++)
        for (int k = 0; k < CT_COUNT; k++) {
            if (!c->comm_used[(size_t)r * CT_COUNT + k])
                continue;
            if (!any_comm++)
                put_process(c, PID_COMM, tid_comm(c, r, k), "communication");
            snprintf(name, sizeof name, "rank %d %s", r, comm_track_name[k]);
            put_thread(c, PID_COMM, tid_comm(c, r, k), name, (int64_t)r * CT_COUNT + k);
        }
    if (c->cm) {
        put_process(c, PID_MEMORY, tid_memory(c), "memory");
        put_thread(c, PID_MEMORY, tid_memory(c), "memory per GPU", 0);
    }
}

int trace_write_json(FILE *out, const struct scenario *scn, const struct pipe_setup *setup,
                     const struct pipe_result *res, const struct costmodel *cm, const char *sets)
{
    struct trace_ctx c = {.out = out,
                          .scn = scn,
                          .setup = setup,
                          .res = res,
                          .cm = cm,
                          .sets = sets,
                          .pp = res->pp,
                          .mem_rank = -1};
    size_t pp = (size_t)res->pp, stages = pp * (size_t)res->vp;
    size_t cells = 2 * stages * (size_t)res->microbatches;
    int rc = -1;
    c.comm_used = mem_calloc(pp * CT_COUNT, sizeof *c.comm_used);
    c.link_used = mem_calloc(2 * pp, sizeof *c.link_used);
    c.link_peer = mem_calloc(2 * pp, sizeof *c.link_peer);
    c.pair_f = mem_calloc(pp, sizeof *c.pair_f);
    c.op_at = mem_calloc(cells, sizeof *c.op_at);
    if (!c.comm_used || !c.link_used || !c.link_peer || !c.pair_f || !c.op_at ||
        res->nrecs >= UINT32_MAX)
        goto done;
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        if (r->peer < 0 && (r->kind == REC_F || r->kind == REC_B) && r->mb >= 0)
            c.op_at[op_slot(&c, r->kind == REC_B, r->stage, r->mb)] = (uint32_t)i + 1;
    }
    put_records(&c); /* marks the links and communication tracks used */
    c.writing = 1;
    put_header(&c);
    put_metadata(&c);
    put_records(&c);
    if (cm) {
        memtl_walk(scn, res, cm, put_memory_point, &c);
        flush_memory(&c);
    }
    fprintf(out, "\n]}\n");
    rc = ferror(out) ? -1 : 0;
done:
    mem_free(c.comm_used);
    mem_free(c.link_used);
    mem_free(c.link_peer);
    mem_free(c.pair_f);
    mem_free(c.op_at);
    return rc;
}
