/* report_html: the step page and the table pages (see report_html.h). */
#include "report_html.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "alloc.h"
#include "derive.h"
#include "patterns.h"
#include "schedule.h"
#include "svg_gantt.h"

#define GIB 1073741824.0

/* Values of a fact table, formatted into one buffer each. */
enum { MAX_FACTS = 24, FACT_LEN = 160 };
struct facts {
    struct html_fact f[MAX_FACTS];
    char buf[MAX_FACTS][FACT_LEN];
    int n;
};

static void fact(struct facts *fs, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fact(struct facts *fs, const char *key, const char *fmt, ...)
{
    if (fs->n == MAX_FACTS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fs->buf[fs->n], FACT_LEN, fmt, ap);
    va_end(ap);
    fs->f[fs->n].key = key;
    fs->f[fs->n].value = fs->buf[fs->n];
    fs->n++;
}

static double peak_memory(const struct report *rep, int *rank)
{
    double peak = 0;
    for (int r = 0; r < rep->pp; r++)
        if (rep->mem[r].total > peak) {
            peak = rep->mem[r].total;
            *rank = r;
        }
    return peak;
}

/* The figures a reviewer looks for first, as the text report states them. */
static void put_summary(FILE *out, const struct scenario *scn, const struct report *rep)
{
    struct facts fs = {.n = 0};
    fact(&fs, "step time", "%.6f s", rep->step_s);
    fact(&fs, "pipeline makespan", "%.6f s", rep->makespan_s);
    fact(&fs, "bubble ratio", "%.4f (idle share of pp \xc3\x97 makespan)", rep->bubble_ratio);
    if (isnan(rep->bubble_overhead))
        fact(&fs, "bubble overhead", "n/a (Megatron: idle / ideal time; no busy time)");
    else
        fact(&fs, "bubble overhead", "%.4f (Megatron: idle / ideal time)", rep->bubble_overhead);
    fact(&fs, "samples/s", "%.3f (%ld samples per step)", rep->samples_per_s, rep->samples);
    if (rep->tokens_per_s >= 0)
        fact(&fs, "tokens/s", "%.1f (%ld tokens per step)", rep->tokens_per_s, rep->tokens);
    else
        fact(&fs, "tokens/s", "n/a (set seq to get tokens)");
    if (rep->modelled) {
        int rank = 0;
        double peak = peak_memory(rep, &rank);
        fact(&fs, "tokens/s per GPU", "%.1f", rep->tokens_per_s_per_gpu);
        fact(&fs, "model TFLOP/s per GPU", "%.1f", rep->model_tflops_per_gpu);
        fact(&fs, "MFU", "%.2f%% (model FLOPs, no recompute, vs dense peak)", 100.0 * rep->mfu);
        fact(&fs, "HFU", "%.2f%% (with recompute)", 100.0 * rep->hfu);
        fact(&fs, "peak memory per GPU", "%.2f GiB on rank %d, of %.1f GiB usable (HBM %.1f GiB)",
             peak / GIB, rank, rep->hbm_usable_bytes / GIB, rep->hbm_bytes / GIB);
        if (rep->oom && rep->oom_host)
            fact(&fs, "fits in memory", "NO: rank %d offloads %.1f GiB per GPU, the host has %.1f",
                 rep->oom_rank, rep->mem[rep->oom_rank].host / GIB, rep->host_mem_bytes / GIB);
        else if (rep->oom)
            fact(&fs, "fits in memory", "NO: rank %d needs %.1f GiB of %.1f usable", rep->oom_rank,
                 rep->mem[rep->oom_rank].total / GIB, rep->hbm_usable_bytes / GIB);
        else
            fact(&fs, "fits in memory", "yes");
        char text[FACT_LEN];
        if (report_host_text(rep, text, sizeof text))
            fact(&fs, "offloaded to the host", "%s", text);
        if (rep->train_tokens > 0) {
            report_training_text(rep, text, sizeof text);
            fact(&fs, "training", "%s", text);
        }
    }
    char derived[512];
    if (derive_list(scn, " ", derived, sizeof derived) > 0)
        fact(&fs, "derived", "%s (not given: computed from the values given)", derived);
    /* as the text report's lines of these names; the stages by reference, longer than a fact */
    if (rep->modelled && rep->patterns) {
        char kinds[FACT_LEN];
        patterns_text(rep->patterns, ", ", kinds, sizeof kinds);
        fact(&fs, "kinds", "%s (how published runs of these kinds were predicted: stepsim "
                           "published)", kinds);
    }
    char stages[REPORT_STAGES_TEXT];
    if (report_stages_text(scn, rep->layout, stages, sizeof stages) && fs.n < MAX_FACTS)
        fs.f[fs.n++] = (struct html_fact){"layers per virtual stage", stages};
    fputs("<section id=\"summary\"><h2>Summary</h2>\n", out);
    html_facts(out, "facts", fs.f, fs.n);
    fputs("</section>\n", out);
}

/* Does `shown` (snake_case, as the JSON report's) name scenario key `name` (kebab-case)? */
static int same_key(const char *shown, const char *name)
{
    for (; *shown && *name; shown++, name++)
        if (*shown != (*name == '-' ? '_' : *name))
            return 0;
    return *shown == *name;
}

/* A field by the name --set takes (the key table's, "micro-batch"), as the "also given"
 * facts and `stepsim keys` name it: the JSON report's snake_case ("micro_batch") read as a
 * different key.  A field no key sets (dp, edp) keeps its JSON name. */
static const char *typed_name(const char *field)
{
    for (int k = 0; k < SCN_KEY_COUNT; k++)
        if (same_key(field, scn_key_name(k)))
            return scn_key_name(k);
    return field;
}

/* The values given by the scenario files or the command line that the fields above do not
 * state, as `stepsim keys` names them: every key of the key table that was given (the name is
 * the page's title) and every hardware knob.  Returns -1 out of memory. */
enum { GIVEN_LEN = 256 };
struct given {
    struct html_fact facts[SCN_KEY_COUNT + SCN_MAX_HW_KNOBS];
    char value[SCN_KEY_COUNT][GIVEN_LEN];
    char knob[SCN_MAX_HW_KNOBS][sizeof ((struct scn_hw_knob *)0)->name + 3]; /* "hw.NAME" */
};

static int put_given(FILE *out, const struct scenario *scn, const struct report_field *f, int n)
{
    struct given *g = mem_calloc(1, sizeof *g);
    int ng = 0;
    if (!g)
        return -1;
    for (int k = 0; k < SCN_KEY_COUNT; k++) {
        int shown = k == SCN_NAME || !scn_given(scn, k);
        for (int i = 0; i < n && !shown; i++)
            shown = same_key(f[i].key, scn_key_name(k));
        if (shown)
            continue;
        char *v = g->value[ng];
        scn_value_text(scn, k, v, GIVEN_LEN);
        if (strlen(v) == GIVEN_LEN - 1) /* cut: say so */
            memcpy(v + GIVEN_LEN - 4, "...", 4);
        g->facts[ng++] = (struct html_fact){scn_key_name(k), v};
    }
    for (int i = 0; i < scn->n_hw_knobs && i < SCN_MAX_HW_KNOBS; i++) {
        snprintf(g->knob[i], sizeof g->knob[i], "hw.%s", scn->hw_knobs[i].name);
        g->facts[ng++] = (struct html_fact){g->knob[i], scn->hw_knobs[i].value};
    }
    if (ng > 0) {
        fputs("<p>Also given by the scenario or --set, as <code>stepsim keys</code> names "
              "them:</p>\n",
              out);
        html_facts(out, "facts cols", g->facts, ng);
    }
    mem_free(g);
    return 0;
}

/* The layout fields (modelled scenarios), then the pipeline fields they do not repeat, then
 * whatever else was given. */
static int put_configuration(FILE *out, const struct scenario *scn, const struct report *rep)
{
    struct report_field f[REPORT_LAYOUT_FIELDS + REPORT_CONFIG_FIELDS];
    struct html_fact facts[REPORT_LAYOUT_FIELDS + REPORT_CONFIG_FIELDS];
    int n = 0;
    if (rep->modelled)
        n = report_layout_fields(scn, rep, f);
    int nlayout = n;
    report_config_fields(scn, rep, f + n);
    for (int i = 0; i < REPORT_CONFIG_FIELDS; i++) {
        int repeated = 0;
        for (int j = 0; j < nlayout && !repeated; j++)
            repeated = strcmp(f[j].key, f[nlayout + i].key) == 0;
        if (!repeated)
            f[n++] = f[nlayout + i];
    }
    for (int i = 0; i < n; i++)
        facts[i] = (struct html_fact){typed_name(f[i].key), f[i].value};
    fputs("<section id=\"configuration\"><h2>Configuration</h2>\n", out);
    html_facts(out, "facts cols", facts, n);
    int rc = put_given(out, scn, f, n);
    fputs("</section>\n", out);
    return rc;
}

static const char *const part_colours[REPORT_BREAKDOWN_PARTS] = {
    "#4e79a7", "#a0cbe8", "#f28e2b", "#ffbe7d", "#b07aa1",
    "#59a14f", "#d3d3d3", "#e15759", "#76b7b2", "#9c755f"}; /* plots/sweep.gp's */

static void put_breakdown(FILE *out, const struct scenario *scn, const struct report *rep)
{
    struct report_part parts[REPORT_BREAKDOWN_PARTS];
    report_breakdown_parts(&rep->brk, parts);
    const char *names[REPORT_BREAKDOWN_PARTS];
    double bar[REPORT_BREAKDOWN_PARTS];
    /* the bar's axis in seconds from a 10 s step on ("10000 20000 ms" reads worse) */
    int in_s = rep->step_s >= 10.0;
    fputs("<section id=\"breakdown\"><h2>Where the time goes</h2>\n"
          "<p>Mean over pipeline ranks; the parts add up to the step time.</p>\n"
          "<table class=\"data\"><thead><tr><th>part</th><th class=\"n\">seconds</th>"
          "<th class=\"n\">share</th>"
          "</tr></thead><tbody>\n",
          out);
    for (int i = 0; i < REPORT_BREAKDOWN_PARTS; i++) {
        names[i] = parts[i].label;
        bar[i] = parts[i].s * (in_s ? 1.0 : 1e3);
        if (parts[i].optional && !(parts[i].s > 0))
            continue;
        fprintf(out,
                "<tr><td><i class=\"sw\" style=\"background:%s\"></i>%s</td>"
                "<td class=\"n\">%.6f</td><td class=\"n\">%.2f%%</td></tr>\n",
                part_colours[i], parts[i].label, parts[i].s,
                rep->step_s > 0 ? 100.0 * parts[i].s / rep->step_s : 0.0);
    }
    fputs("</tbody></table>\n", out);
    fprintf(out,
            "<p>Of compute and recompute, %.6f s (%.2f%% of the step) are the gaps kernel "
            "launches leave: from the host at its launch cost, from a CUDA graph at the GPU's "
            "0.9 us.</p>\n",
            rep->brk.launch, rep->step_s > 0 ? 100.0 * rep->brk.launch / rep->step_s : 0.0);
    char offered[64];
    const char *fw = report_launch_hint(scn, rep, offered, sizeof offered);
    if (fw) { /* as the text report's hint */
        fputs("<p class=\"note\">Launch-bound, run without CUDA graphs; ", out);
        html_put_text(out, fw);
        fputs(" offers them: cuda-graphs=", out);
        html_put_text(out, offered);
        fputs(" (what each covers and needs: <code>stepsim keys cuda-graphs</code>).</p>\n", out);
    }
    if (rep->brk.ep_paired > 0) /* as the text report: what the pairs leave, what runs alone */
        fprintf(out,
                "<p>Of the exposed EP communication, %.6f s are in overlapped F&amp;B pairs (the "
                "overlap's interference and exchanges longer than the partner's compute) and "
                "%.6f s in ops run alone, as in warm-up and cool-down.</p>\n",
                rep->brk.ep_paired, rep->brk.ep - rep->brk.ep_paired);
    const char *label[1] = {"step"};
    struct html_bars bars = {
        1, REPORT_BREAKDOWN_PARTS, bar, label, names, part_colours, in_s ? "s" : "ms", 0, NULL};
    html_bars(out, &bars);
    fputs("</section>\n", out);
}

/* One layer's F and B ops by component (report_layers.c), as the text report's table. */
static void put_layers(FILE *out, const struct report *rep)
{
    int shown[REPORT_LAYER_COLUMNS];
    struct report_layer_column col[REPORT_LAYER_COLUMNS];
    report_layer_shown(rep, shown);
    report_layer_columns(&rep->layer_view[0], col);
    int order[CM_LAYER_VIEWS];
    int n = report_layer_kinds(rep, order);
    fprintf(out,
            "<section id=\"layers\"><h2>One layer</h2>\n"
            "<p>One micro-batch on one GPU, in milliseconds; communication before any overlap "
            "with compute; the backward's GEMMs are the input and the weight gradients%s%s%s."
            "</p>\n"
            "<div class=\"table-wrap\"><table class=\"data\"><thead><tr><th>layer</th>"
            "<th>pass</th>",
            report_has_local_layer(rep) ? "; a local layer attends over a window" : "",
            report_has_mamba_layer(rep) ? "; a Mamba layer's attention column is its SSD scan"
                                        : "",
            report_has_gdn_layer(rep) ? "; a GDN (Gated DeltaNet) layer's attention column is "
                                        "its chunked delta rule"
                                      : "");
    for (int i = 0; i < REPORT_LAYER_COLUMNS; i++)
        if (shown[i])
            fprintf(out, "<th class=\"n\">%s</th>", col[i].header);
    fputs("</tr></thead><tbody>\n", out);
    for (int r = 0; r < n; r++) {
        int kind = order[r];
        report_layer_columns(&rep->layer_view[kind], col);
        for (int pass = 0; pass < 2; pass++) {
            fprintf(out, "<tr><td>%s %d</td><td>%s</td>", report_layer_kind_name(kind),
                    rep->layer_view[kind].layer, pass ? "backward" : "forward");
            for (int i = 0; i < REPORT_LAYER_COLUMNS; i++)
                if (shown[i])
                    fprintf(out, "<td class=\"n\">%.3f</td>",
                            1e3 * (pass ? col[i].bwd : col[i].fwd));
            fputs("</tr>\n", out);
        }
    }
    fputs("</tbody></table></div>\n</section>\n", out);
}

/* What the chart left out or merged; the sentences that do not apply are not written (an
 * explicit-cost step has no gradient reductions, a small one merges nothing). */
static void put_gantt_note(FILE *out, const struct svg_gantt_stats *st)
{
    /* a deep pipeline's chart leaves the transfers out (the last sentence): ops alone */
    const char *what = st->transfers_left_out > 0 ? "ops" : "ops and transfers";
    fputs("<p class=\"note\">", out);
    if (st->merged == 0) {
        fprintf(out, "%zu %s, each drawn as a box of its own.", st->ops, what);
    } else {
        char col[32];
        if (st->col_px < 1)
            snprintf(col, sizeof col, "1/%ld pixel", lround(1 / st->col_px));
        else if (st->col_px == 1)
            snprintf(col, sizeof col, "one pixel");
        else
            snprintf(col, sizeof col, "%.3g pixels", st->col_px);
        fprintf(out,
                "%zu %s drawn as %zu boxes.  %zu ops narrower than %s at "
                "full view, side by side, are merged by column of that width into %zu: each "
                "lane's columns are cut into spans of even work, each drawn as a stack of one "
                "box per kind and chunk, as tall as its share of the span's time, so that idle "
                "time stays empty lane (hover over a box for its share).",
                st->ops, what, st->boxes, st->merged_ops, col, st->merged);
    }
    if (st->reductions > 0)
        fprintf(out,
                "  The %zu data-parallel gradient reduction%s, on each rank's communication "
                "stream, %s not drawn: the --trace file has them.",
                st->reductions, st->reductions == 1 ? "" : "s", st->reductions == 1 ? "is" : "are");
    if (st->transfers_left_out > 0)
        fprintf(out,
                "  Each rank's lane is %d pixel%s tall at this depth, and the %zu P2P transfers "
                "are not drawn, their link lanes left out: the --timeline and --trace files "
                "have them.",
                st->lane_px, st->lane_px == 1 ? "" : "s", st->transfers_left_out);
}

static int put_gantt(FILE *out, const struct pipe_result *res, const struct report *rep)
{
    const struct sched_type *type = rep->layout->type;
    double *mem = NULL;
    if (rep->modelled) {
        mem = mem_calloc((size_t)rep->pp, sizeof *mem);
        if (!mem)
            return -1;
        for (int r = 0; r < rep->pp; r++)
            mem[r] = rep->mem[r].total;
    }
    /* The V placements' chunks are the two directions: the legend says so (sched_chunk_names). */
    struct svg_gantt_opts opts = {mem, type ? sched_chunk_names(type) : NULL};
    struct svg_gantt_stats st;
    fputs("<section id=\"timeline\"><h2>Timeline</h2>\n", out);
    int rc = svg_gantt_write(out, res, &opts, &st);
    mem_free(mem);
    if (rc != 0)
        return rc;
    put_gantt_note(out, &st);
    fputs("</p>\n</section>\n", out);
    return ferror(out) ? -1 : 0;
}

/* A memory chart row's label, "rank N": room for any int. */
#define RANK_LABEL 24

static const char *const mem_names[4] = {"weights", "gradients", "optimizer state",
                                         "activations (peak)"};
static const char *const mem_colours[4] = {"#2b6cb0", "#dd6b20", "#6b46c1", "#2f855a"};

static void put_ranks(FILE *out, const struct scenario *scn, const struct report *rep,
                      double *mem_gib, const char **labels, char (*label_buf)[RANK_LABEL])
{
    fputs("<section id=\"ranks\"><h2>Per pipeline rank</h2>\n"
          "<div class=\"table-wrap\"><table class=\"data\"><thead><tr><th class=\"n\">rank</th>"
          "<th class=\"n\">busy s</th><th class=\"n\">idle s</th><th class=\"n\">busy</th>"
          "<th class=\"n\">peak in-flight</th>",
          out);
    if (rep->modelled)
        fputs("<th class=\"n\">weights GiB</th><th class=\"n\">gradients GiB</th>"
              "<th class=\"n\">optimizer GiB</th><th class=\"n\">activations GiB</th>"
              "<th class=\"n\">total GiB</th><th>fits</th>",
              out);
    fputs("</tr></thead><tbody>\n", out);
    for (int r = 0; r < rep->pp; r++) {
        const struct report_rank *rr = &rep->ranks[r];
        fprintf(out,
                "<tr><td class=\"n\">%d</td><td class=\"n\">%.6f</td><td class=\"n\">%.6f</td>"
                "<td class=\"n\">%.2f%%</td><td class=\"n\">%d</td>",
                r, rr->busy_s, rr->idle_s,
                rep->makespan_s > 0 ? 100.0 * rr->busy_s / rep->makespan_s : 0.0,
                rr->peak_inflight);
        if (rep->modelled) {
            const struct cm_rank_memory *m = &rep->mem[r];
            const double v[5] = {m->weights, m->grads, m->optimizer, m->activations, m->total};
            for (int i = 0; i < 5; i++)
                fprintf(out, "<td class=\"n\">%.2f</td>", v[i] / GIB);
            const char *oom = report_oom_word(m, rep->hbm_usable_bytes);
            fprintf(out, "<td%s>%s</td>", *oom ? " class=\"bad\"" : "", *oom ? oom : "yes");
            for (int i = 0; i < 4; i++)
                mem_gib[4 * r + i] = v[i] / GIB;
        }
        fputs("</tr>\n", out);
        snprintf(label_buf[r], sizeof label_buf[r], "rank %d", r);
        labels[r] = label_buf[r];
    }
    fprintf(out,
            "</tbody></table></div>\n<p class=\"note\">busy: share of the pipeline makespan in "
            "F, B and W ops; peak in-flight: most (micro-batch, chunk) activations held at "
            "once%s.</p>\n",
            report_pairs_hand_over(scn) ? " (" REPORT_HANDOVER_NOTE ")" : "");
    if (rep->modelled) {
        char hbm[64];
        snprintf(hbm, sizeof hbm, "usable HBM %.1f GiB", rep->hbm_usable_bytes / GIB);
        char memory[REPORT_MEMORY_TEXT];
        report_memory_text(scn, rep, memory, sizeof memory);
        fputs("<h3>Memory per GPU</h3>\n<p class=\"note\">In GiB: ", out);
        html_put_text(out, memory);
        fputs(".</p>\n", out);
        struct html_bars bars = {rep->pp,   4,           mem_gib, labels,
                                 mem_names, mem_colours, "GiB",   rep->hbm_usable_bytes / GIB,
                                 hbm};
        html_bars(out, &bars);
    }
    fputs("</section>\n", out);
}

/* The definitions of what the page shows: MFU, HFU, memory and data-parallel communication
 * only with the cost model (an explicit-cost page has none of them). */
static void put_definitions(FILE *out, const struct report *rep)
{
    fprintf(out,
            "<section id=\"definitions\"><h2>Definitions</h2><dl>\n"
            "<dt>step time</dt><dd>first op start to the last optimizer end%s</dd>\n"
            "<dt>pipeline makespan</dt><dd>first op start to the last F/B/W end</dd>\n"
            "<dt>bubble ratio</dt><dd>1 \xe2\x88\x92 (sum over pipeline ranks of busy time) / "
            "(pp \xc3\x97 makespan)</dd>\n"
            "<dt>bubble overhead</dt><dd>(pp \xc3\x97 makespan \xe2\x88\x92 sum of busy) / sum of "
            "busy: Megatron's (p\xe2\x88\x92"
            "1)/m figure; n/a when nothing was busy (no ideal time to divide by)</dd>\n"
            "<dt>samples/s, tokens/s</dt><dd>global batch / step time; \xc3\x97 seq</dd>\n",
            rep->modelled ? ", exposed data-parallel communication included" : "");
    if (rep->modelled)
        fputs("<dt>MFU, HFU</dt><dd>model FLOPs (no recompute) and hardware FLOPs (with "
              "recompute) per second per GPU, against the hardware's dense peak for the "
              "dtype</dd>\n"
              "<dt>memory</dt><dd>per GPU of each pipeline rank: weights, gradients, optimizer "
              "state and the peak of in-flight activations in the simulated schedule; out of "
              "memory when over the HBM less the hardware file's reserve, out of host memory "
              "when what offload moves to the host is over the host's memory per GPU</dd>\n",
              out);
    fprintf(out,
            "</dl><p>The README's section <em>Report: how each number is defined</em> gives the "
            "formulas%s.</p></section>\n",
            rep->modelled ? " and the FLOPs count" : "");
}

/* The text report's headline when a rank does not fit: the HBM, or the host's memory alone
 * (what offload moves there; the rank fits its HBM). */
static void put_oom_banner(FILE *out, const struct report *rep)
{
    const struct cm_rank_memory *om = &rep->mem[rep->oom_rank];
    if (rep->oom_host)
        fprintf(out,
                "<p class=\"oom\">OUT OF HOST MEMORY: rank %d offloads %.1f GiB per GPU of the "
                "%.1f GiB the host has</p>\n",
                rep->oom_rank, om->host / GIB, rep->host_mem_bytes / GIB);
    else
        fprintf(out,
                "<p class=\"oom\">OUT OF MEMORY: rank %d needs %.1f GiB of %.1f GiB usable</p>\n",
                rep->oom_rank, om->total / GIB, rep->hbm_usable_bytes / GIB);
}

int report_html_step(FILE *out, const struct scenario *scn, const struct pipe_result *res,
                     const struct report *rep)
{
    double *mem_gib = mem_calloc((size_t)rep->pp * 4, sizeof *mem_gib);
    const char **labels = mem_calloc((size_t)rep->pp, sizeof *labels);
    char(*label_buf)[RANK_LABEL] = mem_calloc((size_t)rep->pp, sizeof *label_buf);
    int rc = -1;
    if (!mem_gib || !labels || !label_buf)
        goto done;
    /* the name and the file it came from (two files may give one name), then what the command
     * line changed, as the text report's first line and the charts' titles say it */
    char title[1400];
    snprintf(title, sizeof title, "stepsim: %s%s%s%s%s%s%s", scn->name, scn->file[0] ? " (" : "",
             scn->file, scn->file[0] ? ")" : "", rep->sets_note[0] ? " (" : "", rep->sets_note,
             rep->sets_note[0] ? ")" : "");
    html_page_begin(out, title);
    fputs("<header><h1>", out);
    html_put_text(out, scn->name);
    if (scn->file[0]) {
        fputs(" <span class=\"file\">", out);
        html_put_text(out, scn->file);
        fputs("</span>", out);
    }
    if (rep->sets_note[0]) {
        fputs(" <span class=\"file\">(", out);
        html_put_text(out, rep->sets_note);
        fputs(")</span>", out);
    }
    fputs("</h1>\n<p class=\"layout\">", out);
    if (rep->modelled) {
        char layout[512];
        report_layout_line(scn, rep, layout, sizeof layout);
        html_put_text(out, layout);
    } else {
        fprintf(out, "explicit costs: %d pipeline ranks, ", rep->layout->pp);
        html_put_text(out, rep->layout->type->name);
        fprintf(out, ", vp %d, %d micro-batches of %d, %d layers", rep->layout->vp,
                scn->microbatches, scn->micro_batch, scn->layers);
    }
    fputs("</p>\n", out);
    if (rep->modelled && rep->oom)
        put_oom_banner(out, rep);
    fputs("</header>\n<main>\n", out);
    put_summary(out, scn, rep);
    if (put_configuration(out, scn, rep) != 0)
        goto done;
    if (rep->modelled) {
        put_breakdown(out, scn, rep);
        put_layers(out, rep);
    }
    if (put_gantt(out, res, rep) != 0)
        goto done;
    put_ranks(out, scn, rep, mem_gib, labels, label_buf);
    put_definitions(out, rep);
    fputs("</main>\n", out);
    rc = html_page_end(out);
done:
    mem_free(mem_gib);
    mem_free(labels);
    mem_free(label_buf);
    return rc;
}

int report_html_table(FILE *out, const struct report_html_table *page)
{
    FILE *csv = tmpfile();
    if (!csv)
        return -1;
    int rc = page->write_csv(csv, page->user);
    if (rc == 0 && (fflush(csv) != 0 || fseek(csv, 0, SEEK_SET) != 0))
        rc = -1;
    if (rc == 0) {
        char title[160];
        snprintf(title, sizeof title, "stepsim %s: %s", page->command, page->scenario);
        html_page_begin(out, title);
        fprintf(out, "<header><h1>stepsim %s: ", page->command);
        html_put_text(out, page->scenario);
        fputs("</h1></header>\n<main>\n<section id=\"about\">\n", out);
        html_facts(out, "facts", page->facts, page->nfacts);
        fprintf(out,
                "<p>%s  Click a column header to sort by it; click again to reverse.</p>\n"
                "</section>\n<section id=\"table\">\n",
                page->about);
        long total = 0, rows = html_csv_table(out, csv, page->columns, page->sort_key,
                                              page->sort_desc, REPORT_HTML_MAX_ROWS, &total);
        if (page->rows_total > total)
            total = page->rows_total;
        if (rows < 0)
            rc = -1;
        else if (rows < total) /* "which --out has" when no --out was given sent the reader
                                  to a file that is not there */
            fprintf(out, "<p class=\"note\">The first %ld of %ld rows; %ld left out, %s.</p>\n",
                    rows, total, total - rows,
                    page->csv_given ? "which the command's --out CSV has"
                                    : "which <code>--out FILE.csv</code> writes with the rest");
        fputs("</section>\n</main>\n", out);
        if (html_page_end(out) != 0)
            rc = -1;
    }
    fclose(csv);
    return rc;
}

int report_html_table_fn(FILE *out, const void *page)
{
    return report_html_table(out, page);
}
