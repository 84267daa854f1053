/* report: derived figures and their text / JSON rendering (definitions in report.h). */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "alloc.h"
#include "derive.h"
#include "framework.h"
#include "outfile.h"
#include "patterns.h"
#include "schedule.h"

enum sim_status report_compute(const struct scenario *scn, const struct layout *lay,
                               const struct pipe_result *res, struct report *rep,
                               struct sim_error *err)
{
    *rep = (struct report){0};
    rep->pp = res->pp;
    rep->layout = lay;
    rep->ranks = mem_calloc((size_t)res->pp, sizeof *rep->ranks);
    if (!rep->ranks)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory for the report");
    simtime_t makespan = res->compute_end - res->first_start;
    rep->step = res->step_end - res->first_start;
    rep->makespan = makespan;
    rep->step_s = simtime_to_s(rep->step);
    rep->makespan_s = simtime_to_s(makespan);
    simtime_t total_busy = 0;
    for (int r = 0; r < res->pp; r++) {
        struct report_rank *rr = &rep->ranks[r];
        total_busy += res->busy[r];
        rr->busy = res->busy[r];
        rr->idle = makespan - res->busy[r];
        rr->opt_end = res->opt_end[r] - res->first_start;
        rr->busy_s = simtime_to_s(rr->busy);
        rr->idle_s = simtime_to_s(rr->idle);
        rr->opt_end_s = simtime_to_s(rr->opt_end);
        rr->peak_inflight = res->peak_inflight[r];
    }
    double capacity = (double)res->pp * (double)makespan;
    rep->bubble_ratio = capacity > 0 ? 1.0 - (double)total_busy / capacity : 0.0;
    /* idle over ideal time: with no busy time there is no ideal time to divide by, and 0 would
     * read as no idle time when all of it is idle -- NAN, which the reports print n/a / null */
    rep->bubble_overhead =
        total_busy > 0 ? (capacity - (double)total_busy) / (double)total_busy : NAN;
    rep->samples = (long)scn->microbatches * scn->micro_batch;
    rep->tokens = scn->seq > 0 ? rep->samples * scn->seq : -1;
    rep->samples_per_s = rep->step_s > 0 ? (double)rep->samples / rep->step_s : 0.0;
    rep->tokens_per_s = scn->seq > 0 ? rep->samples_per_s * scn->seq : -1.0;
    rep->events = (unsigned long long)res->events;
    return SIM_OK;
}

/* The cost-model parts of one op record: F, B (with W when unsplit) or W. */
static struct cm_parts record_parts(const struct scenario *scn, const struct costmodel *cm,
                                    const struct pipe_record *r)
{
    const struct cm_stage *cs = &cm->stages[r->stage];
    struct cm_parts p = r->kind == REC_F ? cs->fwd : r->kind == REC_W ? cs->wgt : cs->bwd;
    if (r->kind == REC_B && !scn_split_backward(scn)) {
        p.compute += cs->wgt.compute;
        p.recompute += cs->wgt.recompute;
        p.tp += cs->wgt.tp;
        p.cp += cs->wgt.cp;
        p.ep += cs->wgt.ep;
        p.dp += cs->wgt.dp;
        p.host += cs->wgt.host;
        p.launch += cs->wgt.launch;
    }
    return p;
}

static double comm_of(const struct cm_parts *p)
{
    return p->tp + p->cp + p->ep + p->dp + p->host;
}

/* Add `d` seconds of an op to b: its work first, the rest as exposed communication shared
 * out as `comm` has it (all to compute when there is none: jitter). */
static void attribute(struct report_breakdown *b, double d, const struct cm_parts *own,
                      const struct cm_parts *comm)
{
    double work = own->compute + own->recompute;
    double k = work > d && work > 0 ? d / work : 1.0; /* jitter made it shorter */
    b->compute += own->compute * k;
    b->recompute += own->recompute * k;
    b->launch += own->launch * k;
    double rest = d - work * k, c = comm_of(comm);
    if (c <= 0) {
        b->compute += rest;
        return;
    }
    b->tp += rest * comm->tp / c;
    b->cp += rest * comm->cp / c;
    b->ep += rest * comm->ep / c;
    b->dp += rest * comm->dp / c;
    b->host += rest * comm->host / c;
}

void report_attribute_op(struct report_breakdown *b, const struct scenario *scn,
                         const struct costmodel *cm, const struct pipe_record *op,
                         const struct pipe_record *partner)
{
    struct cm_parts own = record_parts(scn, cm, op);
    struct cm_parts comm = partner ? record_parts(scn, cm, partner) : own;
    double ep = b->ep;
    attribute(b, simtime_to_s(op->end - op->start), &own, &comm);
    if (partner)
        b->ep_paired += b->ep - ep;
}

/* Where each rank's busy time went, op by op as simulated (report_attribute_op).  pending[pp]
 * holds each rank's pair F until its B. */
static void attribute_ops(const struct scenario *scn, const struct pipe_result *res,
                          const struct costmodel *cm, struct report_breakdown *per_rank,
                          const struct pipe_record **pending)
{
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        if (r->peer >= 0 || (r->kind != REC_F && r->kind != REC_B && r->kind != REC_W))
            continue;
        struct report_breakdown *b = &per_rank[r->rank];
        const struct pipe_record **f_of_pair = &pending[r->rank];
        if (r->overlap == SCHED_PAIR_F) {
            *f_of_pair = r; /* its B is the rank's next op */
        } else if (r->overlap == SCHED_PAIR_B && *f_of_pair) {
            report_attribute_op(b, scn, cm, *f_of_pair, r);
            report_attribute_op(b, scn, cm, r, *f_of_pair);
            *f_of_pair = NULL;
        } else {
            report_attribute_op(b, scn, cm, r, NULL);
        }
    }
}

/* The kinds of run the step is, as the validation sets group them. */
static unsigned run_patterns(const struct scenario *scn, const struct costmodel *cm)
{
    const struct cm_config *cfg = &cm->cfg;
    struct pattern_inputs in = {
        .gpu_name = cm->hw->gpu.name,
        .low_precision = scn->dtype == DT_FP8 || scn->dtype == DT_NVFP4,
        .moe = cm->model.experts > 0,
        .tp = cfg->tp,
        .cp = cfg->cp,
        .pp = cfg->pp,
        .gpus = cfg->gpus,
        .zero = cfg->zero,
        .microbatches = cfg->microbatches,
        .hybrid = model_mamba_layers(&cm->model) + model_gdn_layers(&cm->model) > 0,
    };
    return patterns_of(&in);
}

/* The cost model's figures of the step: cluster, throughput per GPU, FLOPs and utilisation,
 * and the one-layer views. */
static void add_figures(struct report *rep, const struct costmodel *cm)
{
    const struct cm_config *cfg = &cm->cfg;
    rep->modelled = 1;
    rep->gpus = cfg->gpus;
    rep->dp = cfg->dp;
    rep->edp = cm->model.experts > 0 ? cfg->edp : 0;
    rep->zero = cfg->zero;
    rep->grad_accumulation = cfg->grad_accumulation;
    rep->ep_dispatch_fp8 = cfg->ep_dispatch_bytes != cfg->act_bytes;
    snprintf(rep->model, sizeof rep->model, "%s", cm->model.name);
    snprintf(rep->hardware, sizeof rep->hardware, "%s", cm->hw->name);
    const struct hw_power *power = &cm->hw->gpu.power;
    rep->power_cap_w = power->cap_w != power->rated_w ? power->cap_w : 0.0;
    rep->hbm_bytes = cm->hw->gpu.hbm_bytes;
    rep->hbm_usable_bytes = cm_usable_hbm(cm);
    rep->host_mem_bytes = cm->hw->node.host_mem_B;
    rep->hbm_reserved_bytes = cm_reserved_hbm(cm);
    rep->hbm_reserve_bytes = cm->hw->gpu.hbm_reserve_bytes;
    rep->nccl_buffers_bytes = cm->hw->gpu.nccl_buffers_bytes;
    rep->communicators = cfg->communicators;
    rep->deepep_buffer_bytes = cfg->deepep_buffer_bytes;
    rep->userbuffer_bytes = cfg->userbuffer_bytes;
    rep->tp_spans_nodes = cm->tp_spans_nodes;
    rep->model_max_seq = cm->seq_past_max ? cm->model.max_seq : 0;
    /* Every data-parallel replica runs the same pipeline: the step covers the global batch. */
    rep->samples = cfg->global_batch;
    rep->tokens = (long)cfg->global_batch * cfg->seq;
    rep->samples_per_s = rep->step_s > 0 ? rep->samples / rep->step_s : 0;
    rep->tokens_per_s = rep->step_s > 0 ? rep->tokens / rep->step_s : 0;
    rep->tokens_per_s_per_gpu = rep->tokens_per_s / cfg->gpus;
    double denom = rep->step_s * cfg->gpus;
    rep->model_tflops_per_gpu = denom > 0 ? cm->model_flops_step / denom / 1e12 : 0;
    rep->mfu = denom > 0 ? cm->model_flops_step / denom / cm->peak_flops : 0;
    rep->hfu = denom > 0 ? cm->hw_flops_step / denom / cm->peak_flops : 0;
    rep->model_flops = cm->model_flops_step;
    rep->hw_flops = cm->hw_flops_step;
    for (int kind = 0; kind < CM_LAYER_VIEWS; kind++)
        rep->layer_view[kind] = cm->layer_view[kind];
}

/* Rank r's breakdown, completed from what its ops did (b): the gradient reduction after its
 * last op, its optimizer, and the rest of the step -- its idle time until its last op ends and
 * its wait from its optimizer's end to the step's end -- as the makespan the links added (up
 * to pp_exposed) and bubble, which is so the step less every other part. */
static struct report_breakdown finish_rank(const struct report *rep, const struct pipe_result *res,
                                           const struct costmodel *cm, int r,
                                           struct report_breakdown b, double pp_exposed)
{
    double busy = rep->ranks[r].busy_s;
    double first = simtime_to_s(res->first_start);
    double opt_start = simtime_to_s(res->opt_start[r]) - first;
    double compute_end = simtime_to_s(res->compute_end_rank[r]) - first;
    double tail = opt_start - compute_end; /* gradient reduction after the last op */
    /* deferred weight gradients: compute, run last -- some under that reduction, the rest
     * first in the optimizer op */
    double hidden = simtime_to_s(res->opt_hidden[r]);
    b.dp += tail - hidden; /* on top of the sharded traffic inside the ops */
    double opt = rep->ranks[r].opt_end_s - opt_start;
    b.optimizer = opt - (cm->rank_deferred_s[r] - hidden);
    b.compute += cm->rank_deferred_s[r];
    double idle = rep->step_s - busy - tail - opt;
    b.pp = pp_exposed < idle ? pp_exposed : idle;
    b.bubble = idle - b.pp;
    return b;
}

/* sum += b, part by part. */
static void breakdown_add(struct report_breakdown *sum, const struct report_breakdown *b)
{
    sum->compute += b->compute;
    sum->recompute += b->recompute;
    sum->tp += b->tp;
    sum->cp += b->cp;
    sum->ep += b->ep;
    sum->pp += b->pp;
    sum->bubble += b->bubble;
    sum->dp += b->dp;
    sum->host += b->host;
    sum->optimizer += b->optimizer;
    sum->launch += b->launch;
    sum->ep_paired += b->ep_paired;
}
/* The rank that is out of memory by most (rep->oom, rep->oom_rank): the most over the usable
 * HBM, else (every rank fits in HBM) the most over the host's memory -- the figure a user
 * must find room for, not merely the first rank short of it. */
static void worst_oom_rank(struct report *rep, int pp, double usable_hbm)
{
    double worst = 0;
    int worst_hbm = 0;
    rep->oom = 0;
    for (int r = 0; r < pp; r++) {
        const struct cm_rank_memory *m = &rep->mem[r];
        if (!m->oom)
            continue;
        int hbm = m->total > usable_hbm;
        double over = hbm ? m->total - usable_hbm : m->host - rep->host_mem_bytes;
        if (!rep->oom || hbm > worst_hbm || (hbm == worst_hbm && over > worst)) {
            rep->oom = 1;
            rep->oom_rank = r;
            worst = over;
            worst_hbm = hbm;
        }
    }
    rep->oom_host = rep->oom && !worst_hbm;
}


enum sim_status report_add_costmodel(struct report *rep, const struct scenario *scn,
                                     const struct pipe_result *res, const struct costmodel *cm,
                                     double free_links_makespan_s, struct sim_error *err)
{
    int pp = res->pp;
    add_figures(rep, cm);
    rep->patterns = run_patterns(scn, cm);
    rep->mem = mem_calloc((size_t)pp, sizeof *rep->mem);
    if (!rep->mem)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory for the report");
    /* Breakdown per rank from its simulated ops (attribute_ops), then the mean over ranks. */
    struct report_breakdown sum = {0};
    struct report_breakdown *per_rank = mem_calloc((size_t)pp, sizeof *per_rank);
    const struct pipe_record **pending = mem_calloc((size_t)pp, sizeof *pending);
    if (!per_rank || !pending) {
        mem_free(per_rank);
        mem_free(pending);
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory for the report");
    }
    attribute_ops(scn, res, cm, per_rank, pending);
    mem_free(pending);
    double pp_exposed = rep->makespan_s - free_links_makespan_s;
    if (pp_exposed < 0)
        pp_exposed = 0;
    for (int r = 0; r < pp; r++) {
        struct report_breakdown b = finish_rank(rep, res, cm, r, per_rank[r], pp_exposed);
        breakdown_add(&sum, &b);
        cm_rank_memory(cm, scn, res, r, &rep->mem[r]);
    }
    mem_free(per_rank);
    worst_oom_rank(rep, pp, cm_usable_hbm(cm));
    rep->brk = (struct report_breakdown){sum.compute / pp, sum.recompute / pp, sum.tp / pp,
                                         sum.cp / pp,      sum.ep / pp,        sum.pp / pp,
                                         sum.bubble / pp,  sum.dp / pp,        sum.optimizer / pp,
                                         sum.host / pp,    sum.launch / pp,    sum.ep_paired / pp};
    return SIM_OK;
}

void report_add_training(struct report *rep, const struct costmodel *cm, double tokens)
{
    rep->train_tokens = tokens;
    rep->train_s = rep->tokens_per_s > 0 ? tokens / rep->tokens_per_s : 0;
    rep->train_gpu_hours = rep->train_s / 3600.0 * rep->gpus;
    rep->train_cost =
        cm->hw->price_gpu_hour > 0 ? rep->train_gpu_hours * cm->hw->price_gpu_hour : -1;
    snprintf(rep->currency, sizeof rep->currency, "%s", cm->hw->currency);
}

void report_release(struct report *rep)
{
    mem_free(rep->ranks);
    mem_free(rep->mem);
    rep->ranks = NULL;
    rep->mem = NULL;
}

static const char *group_label(const struct scenario *scn, char *buf, size_t len)
{
    if (scn->vp_group > 0)
        snprintf(buf, len, "%d", scn->vp_group);
    else
        snprintf(buf, len, "%d (=pp)", scn->pp);
    return buf;
}

/* snprintf at buf + *used, *used advanced; nothing once the buffer is full. */
static void appendf(char *buf, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void appendf(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
    if (*used >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, len - *used, fmt, ap);
    va_end(ap);
    *used += n > 0 ? (size_t)n : 0;
}

void report_memory_text(const struct scenario *scn, const struct report *rep, char *buf, size_t len)
{
    const double gib = 1073741824.0;
    double reserve = rep->hbm_reserved_bytes;
    size_t used = 0;
    buf[0] = '\0';
    appendf(buf, len, &used, "HBM %.1f", rep->hbm_bytes / gib);
    if (!(reserve > 0.0))
        return;
    appendf(buf, len, &used, ", %.1f usable (reserve %.1f: ", rep->hbm_usable_bytes / gib,
            reserve / gib);
    if (rep->nccl_buffers_bytes > 0.0)
        appendf(buf, len, &used,
                "CUDA context and fragmentation %.1f, NCCL %.1f x %d communicator%s",
                rep->hbm_reserve_bytes / gib, rep->nccl_buffers_bytes / gib, rep->communicators,
                rep->communicators == 1 ? "" : "s");
    else
        appendf(buf, len, &used, "CUDA context, NCCL, fragmentation");
    /* HybridEP's buffer is priced as DeepEP's (cm_buffers.c): say so, not "DeepEP" under a
     * hybridep run. */
    if (rep->deepep_buffer_bytes > 0.0)
        appendf(buf, len, &used, ", %s %.2f",
                scn->moe_dispatcher == DISPATCH_HYBRIDEP ? "HybridEP (DeepEP's size)" : "DeepEP",
                rep->deepep_buffer_bytes / gib);
    if (rep->userbuffer_bytes > 0.0)
        appendf(buf, len, &used, ", TP-overlap userbuffers %.2f", rep->userbuffer_bytes / gib);
    appendf(buf, len, &used, ")");
}

/* A step a tenth or more of which is kernel launch gaps, run without CUDA graphs: say which
 * graphs its framework offers (a Qwen3-235B recipe written without them had come out 25% slow,
 * 18% of its step in gaps, and nothing in the report pointed at the key).  Whether the model
 * and layout allow one is the rules' to say when it is set. */
#define LAUNCH_HINT_SHARE 0.10
const char *report_launch_hint(const struct scenario *scn, const struct report *rep,
                               char *offered, size_t len)
{
    offered[0] = '\0';
    if (scn->cuda_graphs != CUDA_GRAPHS_NONE || rep->brk.launch < LAUNCH_HINT_SHARE * rep->step_s)
        return NULL;
    const struct fw_type *fw = fw_resolve(scn);
    if (!fw || !fw->cuda_graphs)
        return NULL;
    size_t n = 0;
    for (int g = CUDA_GRAPHS_FULL_ITERATION; g <= CUDA_GRAPHS_MODULES; g++)
        if (fw->cuda_graphs & (1u << g) && n < len)
            n += (size_t)snprintf(offered + n, len - n, "%s%s", n ? " or " : "",
                                  scn_choice_name(SCN_CUDA_GRAPHS, g));
    return fw->name;
}

static void print_launch_hint(FILE *out, const struct scenario *scn, const struct report *rep)
{
    char offered[64];
    const char *fw = report_launch_hint(scn, rep, offered, sizeof offered);
    if (fw)
        fprintf(out,
                "  (launch-bound, run without CUDA graphs; %s offers them:\n"
                "   cuda-graphs=%s -- what each covers and needs: stepsim keys cuda-graphs)\n",
                fw, offered);
}

/* Names of the scenario's enum values as reports print them. */
static const char *const recompute_names[] = {"none", "selective", "full"};

void report_breakdown_parts(const struct report_breakdown *b,
                            struct report_part parts[REPORT_BREAKDOWN_PARTS])
{
    const struct report_part all[REPORT_BREAKDOWN_PARTS] = {
        {"compute", "compute", b->compute, 0},
        {"recompute", "recompute", b->recompute, 0},
        {"tp", "TP communication (exposed)", b->tp, 0},
        {"cp", "CP communication (exposed)", b->cp, 0},
        {"ep", "EP communication (exposed)", b->ep, 0},
        {"pp", "PP communication (exposed)", b->pp, 0},
        {"bubble", "pipeline bubble", b->bubble, 0},
        {"dp", "DP communication (exposed)", b->dp, 0},
        {"optimizer", "optimizer", b->optimizer, 0},
        {"host", "host offload (exposed)", b->host, 1}, /* only where something is offloaded */
    };
    memcpy(parts, all, sizeof all);
}

const char *report_oom_word(const struct cm_rank_memory *mm, double usable)
{
    int hbm = mm->total > usable;
    return hbm && mm->host_oom ? "OUT OF MEMORY AND HOST MEMORY"
           : mm->host_oom      ? "OUT OF HOST MEMORY"
           : mm->oom           ? "OUT OF MEMORY"
                               : "";
}

static void write_costmodel_text(FILE *out, const struct scenario *scn, const struct report *rep)
{
    const double gib = 1073741824.0;
    fprintf(out, "\ncluster            %d GPUs = tp %d x cp %d x pp %d x dp %d", rep->gpus, scn->tp,
            scn->cp, scn->pp, rep->dp);
    if (rep->edp > 0)
        fprintf(out, "  (ep %d, etp %d, edp %d)", scn->ep, scn->etp, rep->edp);
    fprintf(out, "\nglobal batch       %ld samples = %d micro-batches x %d x dp %d\n", rep->samples,
            scn->microbatches, scn->micro_batch, rep->dp);
    fprintf(out, "tokens/s per GPU   %.1f\n", rep->tokens_per_s_per_gpu);
    fprintf(out, "model TFLOP/s/GPU  %.1f\n", rep->model_tflops_per_gpu);
    fprintf(out, "MFU                %.2f%%   (model FLOPs, no recompute, vs dense peak)\n",
            100.0 * rep->mfu);
    fprintf(out, "HFU                %.2f%%   (with recompute)\n", 100.0 * rep->hfu);
    if (rep->tp_spans_nodes)
        fprintf(out, "warning            tp=%d spans nodes: TP traffic crosses the network\n",
                scn->tp);
    if (rep->model_max_seq)
        fprintf(out, "warning            seq=%d is longer than %s's max-seq=%d\n", scn->seq,
                rep->model, rep->model_max_seq);
    fprintf(out, "\ntime breakdown (mean over pipeline ranks)\n");
    struct report_part parts[REPORT_BREAKDOWN_PARTS];
    report_breakdown_parts(&rep->brk, parts);
    for (int i = 0; i < REPORT_BREAKDOWN_PARTS; i++)
        if (!parts[i].optional || parts[i].s > 0)
            fprintf(out, "  %-28s %12.6f s  %6.2f%%\n", parts[i].label, parts[i].s,
                    rep->step_s > 0 ? 100.0 * parts[i].s / rep->step_s : 0.0);
    fprintf(out, "  (kernel launch gaps %.6f s, %.2f%% of the step, in compute and recompute)\n",
            rep->brk.launch, rep->step_s > 0 ? 100.0 * rep->brk.launch / rep->step_s : 0.0);
    print_launch_hint(out, scn, rep);
    /* Pairs hide the all-to-all, so a large exposed EP under a pairing schedule reads as if
     * they did not: say how much of it the pairs leave and how much the chunks run alone. */
    if (rep->brk.ep_paired > 0)
        fprintf(out,
                "  (exposed EP: %.6f s in overlapped F&B pairs, the overlap's interference and\n"
                "   exchanges longer than the partner's compute; %.6f s in ops run alone, as in\n"
                "   warm-up and cool-down)\n",
                rep->brk.ep_paired, rep->brk.ep - rep->brk.ep_paired);
    if (rep->train_tokens > 0) {
        char training[160];
        report_training_text(rep, training, sizeof training);
        fprintf(out, "\ntraining %s\n", training);
    }
    report_write_layers_text(out, rep);
    char memory[REPORT_MEMORY_TEXT];
    report_memory_text(scn, rep, memory, sizeof memory);
    fprintf(out, "\nmemory per GPU (GiB)  %s\n", memory);
    fprintf(out, "%4s  %9s  %9s  %9s  %11s  %9s\n", "rank", "weights", "grads", "optimizer",
            "activations", "total");
    for (int r = 0; r < rep->pp; r++) {
        const struct cm_rank_memory *mm = &rep->mem[r];
        const char *oom = report_oom_word(mm, rep->hbm_usable_bytes);
        fprintf(out, "%4d  %9.2f  %9.2f  %9.2f  %11.2f  %9.2f%s%s\n", r, mm->weights / gib,
                mm->grads / gib, mm->optimizer / gib, mm->activations / gib, mm->total / gib,
                *oom ? "  " : "", oom);
    }
    char host[160];
    if (report_host_text(rep, host, sizeof host))
        fprintf(out, "offloaded to the host: %s\n", host);
}

void report_training_text(const struct report *rep, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%.4g tokens: %.2f days, %.4g GPU-hours", rep->train_tokens,
                     rep->train_s / 86400.0, rep->train_gpu_hours);
    if (n < 0 || (size_t)n >= len)
        return;
    if (rep->train_cost >= 0)
        snprintf(buf + n, len - (size_t)n, ", %.4g %s", rep->train_cost, rep->currency);
    else
        snprintf(buf + n, len - (size_t)n, " (no price in the hardware file)");
}

int report_host_text(const struct report *rep, char *buf, size_t len)
{
    const double gib = 1073741824.0;
    double host = 0;
    for (int r = 0; r < rep->pp; r++)
        host = rep->mem[r].host > host ? rep->mem[r].host : host;
    if (!(host > 0))
        return 0;
    if (rep->host_mem_bytes > 0)
        snprintf(buf, len, "%.1f GiB per GPU at most, of the %.1f GiB the host has per GPU",
                 host / gib, rep->host_mem_bytes / gib);
    else
        snprintf(buf, len,
                 "%.1f GiB per GPU at most (the hardware file gives no host memory to check it "
                 "against)",
                 host / gib);
    return 1;
}

/* The modules `key` (bf16-modules, mxfp8-modules) keeps out of the narrow type, as names in
 * `buf`; 0 when it names none. */
static int kept_modules(const struct scenario *scn, enum scn_key key, char *buf, size_t len)
{
    int bits = key == SCN_BF16_MODULES ? scn->bf16_modules : scn->mxfp8_modules;
    buf[0] = '\0';
    if (bits)
        scn_flag_names(key, bits, buf, len);
    return bits != 0;
}

/* What CUDA graphs capture, in `buf` (full-iteration, or cuda-graph-scope's modules); 0
 * without graphs. */
static int graph_scope(const struct scenario *scn, char *buf, size_t len)
{
    snprintf(buf, len, "%s", scn->cuda_graphs == CUDA_GRAPHS_NONE ? "" : "full-iteration");
    if (scn->cuda_graphs == CUDA_GRAPHS_MODULES)
        scn_flag_names(SCN_CUDA_GRAPH_SCOPE, scn->cuda_graph_scope, buf, len);
    return scn->cuda_graphs != CUDA_GRAPHS_NONE;
}

/* The whole resolved layout on one line, for the text report and plot titles: what ran, on
 * what, how it was cut and in which precision. */
void report_layout_line(const struct scenario *scn, const struct report *rep, char *buf,
                        size_t len)
{
    char cap[32] = ""; /* a GPU held to a power other than its rating says so */
    if (rep->power_cap_w > 0)
        snprintf(cap, sizeof cap, " at %.0f W", rep->power_cap_w);
    size_t used = (size_t)snprintf(
        buf, len, "%s on %s%s: %d GPUs = tp %d x cp %d x pp %d (vp %d) x dp %d", rep->model,
        rep->hardware, cap, rep->gpus, scn->tp, scn->cp, rep->layout->pp, rep->layout->vp, rep->dp);
    if (scn->ep > 1 && used < len)
        used += (size_t)snprintf(buf + used, len - used, ", ep %d etp %d edp %d", scn->ep,
                                 scn->etp, rep->edp);
    char recipe[32] = ""; /* fp8 GEMMs name their scaling recipe */
    if (scn->dtype == DT_FP8)
        snprintf(recipe, sizeof recipe, " (%s)", scn_choice_name(SCN_FP8_RECIPE, scn->fp8_recipe));
    if (used < len)
        used += (size_t)snprintf(buf + used, len - used, "; %s %s%s, recompute %s, zero %d%s",
                                 rep->layout->type->name, hw_dtype_name((enum dtype)scn->dtype),
                                 recipe, recompute_names[scn->recompute], rep->zero,
                                 scn->optimizer_algorithm == OPTALG_MUON ? ", muon" : "");
    if (rep->grad_accumulation != GRAD_ACCUM_FUSED && used < len) /* a pass of its own */
        used += (size_t)snprintf(buf + used, len - used, ", gradients summed %s",
                                 scn_choice_name(SCN_GRAD_ACCUMULATION, rep->grad_accumulation));
    if (rep->ep_dispatch_fp8 && used < len) /* resolved: framework=deepseek implies it */
        used += (size_t)snprintf(buf + used, len - used, ", fp8 dispatch");
    if (scn->moe_fused_grouped_mlp && used < len)
        used += (size_t)snprintf(buf + used, len - used, ", fused grouped MLP");
    /* the modules whose GEMMs leave the narrow type, and the edge layers that do */
    char names[REPORT_FIELD_LEN];
    if (kept_modules(scn, SCN_BF16_MODULES, names, sizeof names) && used < len)
        used += (size_t)snprintf(buf + used, len - used, ", %s in bf16", names);
    if (kept_modules(scn, SCN_MXFP8_MODULES, names, sizeof names) && used < len)
        used += (size_t)snprintf(buf + used, len - used, ", %s in MXFP8", names);
    if ((scn->bf16_first_layers || scn->bf16_last_layers) && used < len)
        used += (size_t)snprintf(buf + used, len - used, ", bf16 layers first %d last %d",
                                 scn->bf16_first_layers, scn->bf16_last_layers);
    if (graph_scope(scn, names, sizeof names) && used < len)
        used += (size_t)snprintf(buf + used, len - used, ", CUDA graphs %s", names);
    if (used < len)
        snprintf(buf + used, len - used, "; %d x %d samples x %d tokens per replica",
                 scn->microbatches, scn->micro_batch, scn->seq);
}

/* One field of a table of them: text, or a number (bare in JSON). */
struct field_src {
    const char *key;
    const char *text; /* NULL: `num` */
    long num;
    int omit; /* not in this report: the layout line does not name it either */
    int bare; /* `text` is a number already written out */
};

static void fill_fields(const struct field_src *v, int n, struct report_field *f)
{
    for (int i = 0; i < n; i++) {
        f[i].key = v[i].key;
        f[i].bare = v[i].text == NULL || v[i].bare;
        if (v[i].text)
            snprintf(f[i].value, sizeof f[i].value, "%s", v[i].text);
        else
            snprintf(f[i].value, sizeof f[i].value, "%ld", v[i].num);
    }
}

int report_layout_fields(const struct scenario *scn, const struct report *rep,
                         struct report_field f[REPORT_LAYOUT_FIELDS])
{
    char cap[32], bf16[REPORT_FIELD_LEN], mxfp8[REPORT_FIELD_LEN], graphs[REPORT_FIELD_LEN];
    snprintf(cap, sizeof cap, "%.9g", rep->power_cap_w);
    int moe = rep->edp > 0, edge = scn->bf16_first_layers || scn->bf16_last_layers;
    /* what the text report's layout line names only where it applies, named only there too:
     * ep, etp and edp for MoE models (edp 0 otherwise), as the top-level edp; the fp8 recipe
     * with fp8 GEMMs; a power cap, Muon, an fp8 dispatch, the fused grouped MLP, the modules
     * and edge layers kept out of the narrow type and CUDA graphs where they are set */
    const struct field_src v[REPORT_LAYOUT_FIELDS] = {
        {"model", rep->model, 0, 0, 0},
        {"hardware", rep->hardware, 0, 0, 0},
        {"power_cap_w", cap, 0, rep->power_cap_w <= 0, 1},
        {"gpus", NULL, rep->gpus, 0, 0},
        {"tp", NULL, scn->tp, 0, 0},
        {"cp", NULL, scn->cp, 0, 0},
        {"pp", NULL, rep->layout->pp, 0, 0},
        {"vp", NULL, rep->layout->vp, 0, 0},
        {"dp", NULL, rep->dp, 0, 0},
        {"ep", NULL, scn->ep, !moe, 0},
        {"etp", NULL, scn->etp, !moe, 0},
        {"edp", NULL, rep->edp, !moe, 0},
        {"dtype", hw_dtype_name((enum dtype)scn->dtype), 0, 0, 0},
        {"fp8_recipe", scn_choice_name(SCN_FP8_RECIPE, scn->fp8_recipe), 0,
         scn->dtype != DT_FP8, 0},
        {"recompute", recompute_names[scn->recompute], 0, 0, 0},
        {"zero", NULL, rep->zero, 0, 0},
        {"optimizer_algorithm", "muon", 0, scn->optimizer_algorithm != OPTALG_MUON, 0},
        {"grad_accumulation", scn_choice_name(SCN_GRAD_ACCUMULATION, rep->grad_accumulation), 0,
         0, 0},
        {"moe_dispatch_dtype", "fp8", 0, !rep->ep_dispatch_fp8, 0},
        {"moe_fused_grouped_mlp", "true", 0, !scn->moe_fused_grouped_mlp, 1},
        {"bf16_modules", bf16, 0, !kept_modules(scn, SCN_BF16_MODULES, bf16, sizeof bf16), 0},
        {"mxfp8_modules", mxfp8, 0, !kept_modules(scn, SCN_MXFP8_MODULES, mxfp8, sizeof mxfp8),
         0},
        {"bf16_first_layers", NULL, scn->bf16_first_layers, !edge, 0},
        {"bf16_last_layers", NULL, scn->bf16_last_layers, !edge, 0},
        {"cuda_graphs", graphs, 0, !graph_scope(scn, graphs, sizeof graphs), 0},
        {"schedule", rep->layout->type->name, 0, 0, 0},
        {"micro_batch", NULL, scn->micro_batch, 0, 0},
        {"microbatches", NULL, scn->microbatches, 0, 0},
        {"global_batch", NULL, rep->samples, 0, 0},
        {"seq", NULL, scn->seq, 0, 0},
    };
    int n = 0;
    for (int i = 0; i < REPORT_LAYOUT_FIELDS; i++)
        if (!v[i].omit)
            fill_fields(&v[i], 1, &f[n++]);
    return n;
}

void report_config_fields(const struct scenario *scn, const struct report *rep,
                          struct report_field f[REPORT_CONFIG_FIELDS])
{
    const struct layout *lay = rep->layout;
    const struct field_src v[REPORT_CONFIG_FIELDS] = {
        {"schedule", lay->type->name, 0, 0, 0},
        {"pp", NULL, lay->pp, 0, 0},
        {"vp", NULL, lay->vp, 0, 0},
        {"vp_group", NULL, scn->vp_group > 0 ? scn->vp_group : lay->pp, 0, 0},
        {"microbatches", NULL, scn->microbatches, 0, 0},
        {"micro_batch", NULL, scn->micro_batch, 0, 0},
        {"layers", NULL, scn->layers, 0, 0},
        {"seq", NULL, scn->seq, 0, 0},
        {"split_backward", scn_split_backward(scn) ? "true" : "false", 0, 0, 1},
    };
    fill_fields(v, REPORT_CONFIG_FIELDS, f);
}

/* Fields as the members of a JSON object, on one line. */
static void json_put_fields(FILE *out, const struct report_field *f, int n)
{
    fputc('{', out);
    for (int i = 0; i < n; i++) {
        fprintf(out, "%s\"%s\": ", i ? ", " : "", f[i].key);
        if (f[i].bare)
            fputs(f[i].value, out);
        else
            json_put_string(out, f[i].value);
    }
    fputc('}', out);
}

/* Were the layers split unevenly (first/last-stage-layers or pipeline-layout given)?  Asked of
 * the scenario, not the layout: whether a key was given (or derived) is the input's fact, and
 * an even split given as a string is still the user's string. */
static int uneven_split(const struct scenario *scn)
{
    return scn->pipeline_layout[0] || scn_given_or_derived(scn, SCN_FIRST_STAGE_LAYERS) ||
           scn_given_or_derived(scn, SCN_LAST_STAGE_LAYERS);
}

/* The layers of every virtual stage in order, runs of equal counts written "n x k" ("1, 30 x 2,
 * 0"). */
static void stage_split(const struct layout *lay, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int s = 0, run; s < lay->parts && used < len; s += run) {
        int count = layout_part(lay, s)->layers;
        for (run = 1; s + run < lay->parts; run++)
            if (layout_part(lay, s + run)->layers != count)
                break;
        int w = run > 1 ? snprintf(buf + used, len - used, "%s%d x %d", s ? ", " : "", run, count)
                        : snprintf(buf + used, len - used, "%s%d", s ? ", " : "", count);
        used += w > 0 ? (size_t)w : 0;
    }
}

int report_pairs_hand_over(const struct scenario *scn)
{
    return scn->overlap_ep_comm && !scn_split_backward(scn);
}

int report_stages_text(const struct scenario *scn, const struct layout *lay, char *buf,
                       size_t len)
{
    buf[0] = '\0';
    if (!uneven_split(scn))
        return 0;
    char split[1024];
    stage_split(lay, split, sizeof split);
    /* the key the user gave for the split: the scenario's (uneven_split) */
    snprintf(buf, len, "%s (%s)", split,
             scn->pipeline_layout[0] ? "pipeline-layout" : "first/last-stage-layers");
    return 1;
}

/* The text report's schedule line and, for an uneven split, its layers per stage. */
static void write_pipeline_text(FILE *out, const struct scenario *scn, const struct layout *lay)
{
    char g[32];
    fprintf(out, "schedule      %s  pp=%d vp=%d", lay->type->name, lay->pp, lay->vp);
    if (lay->vp > 1 && lay->type == &sched_interleaved) /* the only one with groups */
        fprintf(out, " vp-group=%s", group_label(scn, g, sizeof g));
    fprintf(out, " microbatches=%d micro-batch=%d layers=%d%s\n", scn->microbatches,
            scn->micro_batch, scn->layers, scn_split_backward(scn) ? " split-backward" : "");
    char stages[REPORT_STAGES_TEXT];
    if (report_stages_text(scn, lay, stages, sizeof stages))
        fprintf(out, "stages        layers per virtual stage: %s\n", stages);
}

/* The text report's first line: the scenario's name and what the command changed.  Apart
 * because both are user text, cleaned to UTF-8 before printing. */
static void write_name_text(FILE *out, const struct scenario *scn, const struct report *rep)
{
    char name[3 * sizeof scn->name]; /* each invalid byte may become 3 */
    utf8_clean(name, sizeof name, scn->name);
    fprintf(out, "scenario      %s", name);
    if (rep->sets_note[0]) { /* what the command changed, as the chart's title says it */
        char sets[3 * sizeof rep->sets_note];
        utf8_clean(sets, sizeof sets, rep->sets_note);
        fprintf(out, " (%s)", sets);
    }
    fputc('\n', out);
}

/* The cost model's lines above the schedule: the layout, the run's kinds and an
 * out-of-memory verdict.  Apart because only a modelled run (rep->modelled) has them. */
static void write_layout_text(FILE *out, const struct scenario *scn, const struct report *rep)
{
    char layout[512];
    report_layout_line(scn, rep, layout, sizeof layout);
    fprintf(out, "layout        %s\n", layout);
    if (rep->patterns) {
        char kinds[160];
        patterns_text(rep->patterns, ", ", kinds, sizeof kinds);
        fprintf(out, "kinds         %s  (how published runs of these kinds were predicted: "
                     "stepsim published)\n", kinds);
    }
    const struct cm_rank_memory *om = rep->oom ? &rep->mem[rep->oom_rank] : NULL;
    if (om && rep->oom_host)
        fprintf(out, "OUT OF HOST MEMORY rank %d offloads %.1f GiB per GPU of the %.1f GiB "
                     "the host has\n",
                rep->oom_rank, om->host / 1073741824.0, rep->host_mem_bytes / 1073741824.0);
    else if (om)
        fprintf(out, "OUT OF MEMORY rank %d needs %.1f GiB of %.1f usable\n", rep->oom_rank,
                om->total / 1073741824.0, rep->hbm_usable_bytes / 1073741824.0);
}

/* The step's headline figures: time, makespan, bubble and throughput.  Apart because they
 * are the report's answer, read from the report alone (no scenario). */
static void write_step_text(FILE *out, const struct report *rep)
{
    fprintf(out, "step time          %.6f s\n", rep->step_s);
    fprintf(out, "pipeline makespan  %.6f s\n", rep->makespan_s);
    fprintf(out, "bubble ratio       %.4f   (idle share of pp x makespan)\n", rep->bubble_ratio);
    if (isnan(rep->bubble_overhead))
        fprintf(out, "bubble overhead    n/a      (Megatron: idle / ideal time; no busy time)\n");
    else
        fprintf(out, "bubble overhead    %.4f   (Megatron: idle / ideal time)\n",
                rep->bubble_overhead);
    fprintf(out, "samples/s          %.3f   (%ld samples per step)\n", rep->samples_per_s,
            rep->samples);
    if (rep->tokens_per_s >= 0)
        fprintf(out, "tokens/s           %.1f   (%ld tokens per step)\n", rep->tokens_per_s,
                rep->tokens);
    else
        fprintf(out, "tokens/s           n/a    (set seq to get tokens)\n");
}

/* The per-rank table (busy, idle, peak in-flight activations) and the note saying what
 * peak_inflight counts.  Apart because it is the report's one table, a row per stage rank. */
static void write_ranks_text(FILE *out, const struct scenario *scn, const struct report *rep)
{
    fprintf(out, "\n%4s  %12s  %12s  %7s  %13s\n", "rank", "busy_s", "idle_s", "busy%",
            "peak_inflight");
    for (int r = 0; r < rep->pp; r++) {
        const struct report_rank *rr = &rep->ranks[r];
        double pct = rep->makespan_s > 0 ? 100.0 * rr->busy_s / rep->makespan_s : 0.0;
        fprintf(out, "%4d  %12.6f  %12.6f  %6.2f%%  %13d\n", r, rr->busy_s, rr->idle_s, pct,
                rr->peak_inflight);
    }
    fprintf(out, "\npeak_inflight: most (micro-batch, chunk) activations held at once on the "
                 "rank%s%s%s\n",
            report_pairs_hand_over(scn) ? "\n               (" : "",
            report_pairs_hand_over(scn) ? REPORT_HANDOVER_NOTE : "",
            report_pairs_hand_over(scn) ? ")" : "");
}

int report_write_text(FILE *out, const struct scenario *scn, const struct report *rep)
{
    write_name_text(out, scn, rep);
    if (rep->modelled)
        write_layout_text(out, scn, rep);
    write_pipeline_text(out, scn, rep->layout);
    char derived[512];
    if (derive_list(scn, " ", derived, sizeof derived) > 0)
        fprintf(out, "derived       %s  (not given: computed from the values given)\n", derived);
    fprintf(out, "\n");
    write_step_text(out, rep);
    write_ranks_text(out, scn, rep);
    if (rep->modelled)
        write_costmodel_text(out, scn, rep);
    return ferror(out) ? -1 : 0;
}

void report_json_time(FILE *out, simtime_t t)
{
    uint64_t a = t < 0 ? (uint64_t)(-(t + 1)) + 1 : (uint64_t)t;
    uint64_t ps = a % (uint64_t)SIMTIME_PER_S;
    fprintf(out, "%s%" PRIu64, t < 0 ? "-" : "", a / (uint64_t)SIMTIME_PER_S);
    if (ps == 0)
        return;
    int digits = 12;
    for (; ps % 10 == 0; ps /= 10)
        digits--;
    fprintf(out, ".%0*" PRIu64, digits, ps);
}

void report_json_seconds(FILE *out, double s)
{
    if (!isfinite(s)) { /* JSON has no infinity: no time the report computes is one */
        fputs("null", out);
        return;
    }
    double mag = fabs(s);
    int decimals = mag < 1e5 ? 12 : 16 - (int)floor(log10(mag));
    char buf[400]; /* 17 significant digits past 1e5 s; a double stays below 1e309 */
    int n = snprintf(buf, sizeof buf, "%.*f", decimals < 0 ? 0 : decimals, s);
    if (n <= 0 || (size_t)n >= sizeof buf) { /* cannot happen: the bound above */
        fprintf(out, "%.17g", s);
        return;
    }
    if (strchr(buf, '.')) {
        while (buf[n - 1] == '0')
            buf[--n] = '\0';
        if (buf[n - 1] == '.')
            buf[--n] = '\0';
    }
    fputs(strcmp(buf, "-0") ? buf : "0", out); /* a tiny negative rounds to plain 0 */
}

/* Names in the JSON are the same words as the text report, snake_case. */
/* The JSON report's head: what was run -- scenario, config, derived keys, an uneven split's
 * layers per stage and, modelled, the resolved layout and whether it fits. */
static void json_head(FILE *out, const struct scenario *scn, const struct report *rep)
{
    fprintf(out, "  \"scenario\": ");
    json_put_string(out, scn->name);
    /* the file too: two files may give one name (scenario keeps its meaning, the name) */
    fprintf(out, ",\n  \"scenario_file\": ");
    if (scn->file[0])
        json_put_string(out, scn->file);
    else
        fputs("null", out);
    fprintf(out, ",\n");
    struct report_field cfg[REPORT_CONFIG_FIELDS];
    report_config_fields(scn, rep, cfg);
    fprintf(out, "  \"config\": ");
    json_put_fields(out, cfg, REPORT_CONFIG_FIELDS);
    /* what reproduces a jittered run: its spread and seed (the seed means nothing at 0) */
    fprintf(out, ",\n  \"jitter\": %.15g, \"seed\": %lu,\n", scn->jitter, scn->seed);
    char derived[512]; /* key names: plain ASCII words, nothing to escape */
    int nderived = derive_list(scn, "\", \"", derived, sizeof derived);
    fprintf(out, "  \"derived\": [%s%s%s],\n", nderived ? "\"" : "", derived, nderived ? "\"" : "");
    if (uneven_split(scn)) { /* every stage's layers */
        fprintf(out, "  \"stage_layers\": [");
        for (int p = 0; p < rep->layout->parts; p++)
            fprintf(out, "%s%d", p ? ", " : "", layout_part(rep->layout, p)->layers);
        fprintf(out, "],\n");
    }
    if (rep->modelled) {
        struct report_field f[REPORT_LAYOUT_FIELDS];
        int n = report_layout_fields(scn, rep, f);
        fprintf(out, "  \"layout\": ");
        json_put_fields(out, f, n);
        fprintf(out, ",\n");
        char kinds[160];
        patterns_text(rep->patterns, ",", kinds, sizeof kinds);
        fprintf(out, "  \"patterns\": \"%s\",\n", kinds); /* plain ASCII names */
        fprintf(out, "  \"oom\": %s,\n", rep->oom ? "true" : "false");
    }
}

/* The simulated step: its times, throughput and each pipeline rank's busy and idle time. */
static void json_step(FILE *out, const struct report *rep)
{
    fprintf(out, "  \"step_time_s\": ");
    report_json_time(out, rep->step);
    fprintf(out, ",\n  \"makespan_s\": ");
    report_json_time(out, rep->makespan);
    fprintf(out, ",\n");
    fprintf(out, "  \"bubble_ratio\": %.9g,\n", rep->bubble_ratio);
    if (isnan(rep->bubble_overhead))
        fprintf(out, "  \"bubble_overhead\": null,\n");
    else
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
        fprintf(out, "    {\"rank\": %d, \"busy_s\": ", r);
        report_json_time(out, rr->busy);
        fprintf(out, ", \"idle_s\": ");
        report_json_time(out, rr->idle);
        fprintf(out, ", \"optimizer_end_s\": ");
        report_json_time(out, rr->opt_end);
        fprintf(out, ", \"peak_inflight\": %d}%s\n", rr->peak_inflight,
                r + 1 < rep->pp ? "," : "");
    }
    fprintf(out, "  ]%s\n", rep->modelled ? "," : "");
}

/* A --tokens training run's totals: tokens, seconds, GPU-hours and cost (null without a
 * price). */
static void json_training(FILE *out, const struct report *rep)
{
    fprintf(out, "  \"training\": {\"tokens\": %.9g, \"seconds\": ", rep->train_tokens);
    report_json_seconds(out, rep->train_s);
    fprintf(out, ", \"gpu_hours\": %.9g, \"cost\": ", rep->train_gpu_hours);
    if (rep->train_cost >= 0) {
        fprintf(out, "%.9g, \"currency\": ", rep->train_cost);
        json_put_string(out, rep->currency);
    } else {
        fprintf(out, "null");
    }
    fprintf(out, "},\n");
}

/* What the cost model adds: the cluster, FLOPs figures, where the time goes, a training run's
 * totals, the one-layer table and memory per pipeline rank. */
static void json_costmodel(FILE *out, const struct report *rep)
{
    fprintf(out, "  \"gpus\": %d,\n  \"dp\": %d,\n", rep->gpus, rep->dp);
    if (rep->edp > 0) /* MoE models only */
        fprintf(out, "  \"edp\": %d,\n", rep->edp);
    fprintf(out, "  \"global_batch\": %ld,\n", rep->samples);
    fprintf(out, "  \"tokens_per_s_per_gpu\": %.9g,\n", rep->tokens_per_s_per_gpu);
    fprintf(out, "  \"model_tflops_per_gpu\": %.9g,\n", rep->model_tflops_per_gpu);
    fprintf(out, "  \"mfu\": %.9g,\n  \"hfu\": %.9g,\n", rep->mfu, rep->hfu);
    fprintf(out, "  \"model_flops_per_step\": %.9g,\n", rep->model_flops);
    fprintf(out, "  \"hw_flops_per_step\": %.9g,\n", rep->hw_flops);
    struct report_part parts[REPORT_BREAKDOWN_PARTS];
    report_breakdown_parts(&rep->brk, parts);
    fprintf(out, "  \"breakdown_s\": {");
    for (int i = 0; i < REPORT_BREAKDOWN_PARTS; i++) {
        fprintf(out, "%s\"%s\": ", i ? ", " : "", parts[i].key);
        report_json_seconds(out, parts[i].s);
    }
    fprintf(out, "},\n  \"launch_gaps_s\": ");
    report_json_seconds(out, rep->brk.launch);
    fprintf(out, ",\n  \"ep_in_pairs_s\": ");
    report_json_seconds(out, rep->brk.ep_paired);
    fprintf(out, ",\n");
    if (rep->train_tokens > 0)
        json_training(out, rep);
    report_write_layers_json(out, rep);
    fprintf(out,
            "  \"hbm_bytes\": %.0f,\n  \"hbm_usable_bytes\": %.0f,\n"
            "  \"host_memory_bytes\": %.0f,\n  \"hbm_reserve_bytes\": %.0f,\n"
            "  \"nccl_buffer_bytes\": %.0f,\n"
            "  \"nccl_communicators\": %d,\n  \"deepep_buffer_bytes\": %.0f,\n"
            "  \"userbuffer_bytes\": %.0f,\n  \"memory\": [\n",
            rep->hbm_bytes, rep->hbm_usable_bytes, rep->host_mem_bytes, rep->hbm_reserve_bytes,
            rep->nccl_buffers_bytes, rep->communicators, rep->deepep_buffer_bytes,
            rep->userbuffer_bytes);
    for (int r = 0; r < rep->pp; r++) {
        const struct cm_rank_memory *mm = &rep->mem[r];
        fprintf(out,
                "    {\"rank\": %d, \"weights\": %.0f, \"grads\": %.0f, \"optimizer\": %.0f, "
                "\"activations\": %.0f, \"total\": %.0f, \"host\": %.0f, \"oom\": %s, "
                "\"host_oom\": %s}%s\n",
                r, mm->weights, mm->grads, mm->optimizer, mm->activations, mm->total, mm->host,
                mm->oom ? "true" : "false", mm->host_oom ? "true" : "false",
                r + 1 < rep->pp ? "," : "");
    }
    fprintf(out, "  ]\n");
}

int report_write_json(FILE *out, const struct scenario *scn, const struct report *rep)
{
    fprintf(out, "{\n");
    json_head(out, scn, rep);
    json_step(out, rep);
    if (rep->modelled)
        json_costmodel(out, rep);
    fprintf(out, "}\n");
    return ferror(out) ? -1 : 0;
}
