/* cli: argument parsing and the run / validate commands. */
#include "cli.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "calibrate.h"
#include "published.h"
#include "cliutil.h"
#include "config.h"
#include "costmodel.h"
#include "costs.h"
#include "hardware.h"
#include "import.h"
#include "model.h"
#include "memtimeline.h"
#include "outfile.h"
#include "plan.h"
#include "step.h"
#include "sweep.h"
#include "pipeline.h"
#include "plot.h"
#include "report.h"
#include "report_html.h"
#include "scenario.h"
#include "timeline.h"
#include "trace.h"
#include "units.h"
#include "xmlload.h"

static const char run_usage[] =
    "usage: stepsim run SCENARIO.xml [--set KEY=VALUE]... [--format text|json]\n"
    "                  [--timeline FILE.csv] [--trace FILE.json] [--plot FILE.png|FILE.svg]\n"
    "                  [--plot-window T0:T1] [--plot-size WxH]\n"
    "                  [--seed N] [--tokens N] [--memory-timeline FILE.csv] [--report FILE.html]\n"
    "                  [--fail-on-oom]\n";

static const char overview_text[] =
    "\n"
    "Simulates one training step of a pipeline-parallel transformer on a discrete-event\n"
    "engine and reports where the time goes.  Commands: run (one step), sweep (a grid of\n"
    "configs), plan (the best layouts for a GPU budget), validate (check files), keys (what\n"
    "every scenario key means), import (a Megatron-LM launch line as a scenario), published\n"
    "(stepsim against the published runs of a scenario's model and of its kinds), calibrate\n"
    "(fit the shared constants to tables of measured runs); 'stepsim COMMAND --help' says\n"
    "more.\n";

static const char run_help[] =
    "\n"
    "run options:\n"
    "  --set KEY=VALUE   override a scenario value (times like 1ms or 1.5 ms, sizes like\n"
    "                    64MiB, bandwidths like 450GB/s or 400Gb/s, jitter like 5%, board\n"
    "                    power like 500W for hw.power-cap); a value given here wins over\n"
    "                    one the file only implied: global-batch and microbatches follow\n"
    "                    each other (the one set last wins), vp follows a schedule set here\n"
    "                    and 1f1b / interleaved a vp set here;\n"
    "                    the report's 'derived' line names what followed;\n"
    "                    KEY=default puts a key back as if the file had not set it\n"
    "  --format F        report as text (default) or json\n"
    "  --timeline F.csv  one row per op and transfer:\n"
    "                    rank,op,microbatch,chunk,stage,start_s,end_s,peer,bytes\n"
    "  --trace F.json    Chrome trace-event file (open in Perfetto / chrome://tracing)\n"
    "  --plot F.png|svg  Gantt chart drawn with gnuplot: a box per op while ops are wide\n"
    "                    enough to see, else runs of ops, else each rank's busy fraction\n"
    "                    (the title says which)\n"
    "  --plot-window T0:T1  draw only that part of the step, times since the first op\n"
    "                    (12ms:40ms, 1.5:2 in seconds; an end may be left out: 2s:)\n"
    "  --plot-size WxH   image size in pixels (default 1600 wide, height from the ranks);\n"
    "                    width 800 to 16384, height 360 to 16384; the memory companion\n"
    "                    too\n"
    "  --report F.html   one self-contained HTML page (no gnuplot, loads nothing): the\n"
    "                    layout, the summary, where the time goes, a zoomable Gantt chart\n"
    "                    and busy time and memory per pipeline rank\n"
    "  --seed N          RNG seed (--set seed=N)\n"
    "  --memory-timeline F.csv  memory per GPU over the step (modelled scenarios):\n"
    "                    rank,time_s,activation_bytes,total_bytes, a row per change,\n"
    "                    grouped by rank, in time order from 0 (the first op)\n"
    "  --tokens N        also report the time, GPU-hours and cost (when the hardware\n"
    "                    file has a price) to train N tokens, e.g. --tokens 15e12\n"
    "  --fail-on-oom     exit 2 when a rank needs more than the usable HBM (HBM less the\n"
    "                    hardware's hbm-reserve, its nccl-buffers per parallel group of more\n"
    "                    than one GPU, DeepEP's buffer and TP-overlap userbuffers); the\n"
    "                    report and files are written first\n"
    "A file named - is stdout: that output then has it alone, the text report going to\n"
    "stderr (--format json cannot share it).\n"
    "\n"
    "schedules: gpipe, 1f1b, interleaved (Megatron-LM orders; interleaved needs vp >= 2 and\n"
    "  pp <= vp-group <= microbatches with microbatches % vp-group = 0 or >= pp), zb-h1\n"
    "  (zero bubble H1: 1F1B with the weight gradients held back into the cool-down), zb-v\n"
    "  (zero bubble V: vp=2, chunks placed down the ranks and back up) and dualpipe\n"
    "  (DeepSeek-V3's bidirectional pipeline: vp=2, half the micro-batches fed in at each\n"
    "  end, overlapped forward-backward pairs; even pp, even microbatches >= 2*pp) and\n"
    "  dualpipe-v (DualPipe cut in half onto zb-v's V: vp=2, microbatches >= 2*pp); the\n"
    "  last four always split the backward\n"
    "\n"
    "report definitions:\n"
    "  step time        first op start -> last optimizer end\n"
    "  makespan         first op start -> last F/B/W end\n"
    "  bubble ratio     1 - sum(rank busy) / (pp * makespan)\n"
    "  bubble overhead  (pp * makespan - sum(busy)) / sum(busy)   [Megatron's (p-1)/m]\n"
    "  samples/s        microbatches * micro-batch * dp (the global batch) / step time;\n"
    "                   tokens/s = samples/s * seq\n"
    "  peak_inflight    most (micro-batch, chunk) activations a rank held at once\n"
    "                   (F started, backward not finished; an overlap-ep-comm F&B pair\n"
    "                   counts one: its F takes the place its B frees)\n";

static const char validate_help[] =
    "usage: stepsim validate FILE.xml...\n"
    "\n"
    "Checks each file by the kind its root element names: a scenario as 'run' would before\n"
    "simulating (its schema, values and rules; a modelled one with its model and hardware\n"
    "loaded and the layout checked against them), a model or a hardware file against its\n"
    "schema and value rules.  Prints 'FILE: ok' for each good file and one line per bad one.\n"
    "A file is read twice (its kind, then its checks): a pipe is refused, a regular file\n"
    "redirected to /dev/stdin is read.  The files are checked as written: validate takes no\n"
    "options but --help (a file whose name starts with '-' is given as ./-NAME).\n"
    "\n"
    "exit status: 0 every file is good, 2 a file is bad, missing or unreadable, 1 an\n"
    "internal failure (out of memory)\n";

static const char keys_help[] =
    "usage: stepsim keys [KEY...]\n"
    "\n"
    "Prints every scenario key (or the ones named) with what its value looks like, its\n"
    "default and its meaning -- the table the parser uses.  Keys are XML attributes of a\n"
    "scenario file (those of <link> with a link- prefix) and the names for --set and --vary.\n"
    "Cost-model keys apply only with model= (and hardware=), explicit costs only without.\n"
    "Then the hardware knobs, hw.NAME: a value of the scenario's hardware file overridden for\n"
    "one run (`keys hw.NAME` names the element and attribute it replaces).\n"
    "\n"
    "exit status: 0 ok, 2 an unknown key or option\n";

static const char exit_text[] =
    "\noptions: one that takes a value is given once, and --set once per key (--seed N is\n"
    "  --set seed=N): a second is exit 2, naming both values\n"
    "\noutputs: checked before anything runs and put in place together at the end; an output\n"
    "  naming an input or another output, a directory or a block device is refused; devices\n"
    "  and FIFOs are written in place; symlinks are written through\n"
    "\n"
    "exit status: 0 ok, 1 simulation or I/O failure, 2 bad input (with --fail-on-oom also: out\n"
    "  of memory); 129, 130, 143 interrupted by SIGHUP, SIGINT, SIGTERM (temp files removed,\n"
    "  gnuplot ended)\n";

/* The key names from the key table, wrapped after `width` columns under `indent` spaces. */
static void write_key_names(FILE *out, int indent, int width)
{
    int col = indent;
    fprintf(out, "%*s", indent, "");
    for (int k = 0; k < SCN_KEY_COUNT; k++) {
        const char *name = scn_key_name((enum scn_key)k);
        int len = (int)strlen(name) + (k + 1 < SCN_KEY_COUNT);
        if (col > indent && col + 1 + len > width) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        }
        col +=
            fprintf(out, "%s%s%s", col > indent ? " " : "", name, k + 1 < SCN_KEY_COUNT ? "," : "");
    }
    fputc('\n', out);
}

static void write_keys_section(FILE *out)
{
    fputs("\nscenario keys (for --set and --vary; 'stepsim keys' gives meaning, unit and "
          "default):\n",
          out);
    write_key_names(out, 2, 92);
}

struct run_opts {
    const char *scenario;
    struct cli_sets sets; /* --set values, and --seed N as seed=N, in command-line order */
    struct cli_once once;
    char seed[48]; /* "seed=N" */
    double tokens; /* --tokens N: also report the time and cost to train N tokens */
    int json;
    const char *timeline, *trace, *plot, *memory_timeline, *report;
    const char *plot_window, *plot_size; /* as given, for the "needs --plot" error */
    struct gantt_view view;
    int help;
    int fail_on_oom; /* out of memory is a failure (exit 2), after the outputs */
};

/* argv[*i] as an option naming one output file (--timeline FILE, --plot=FILE, ...): where its
 * value goes in o, with the value and the option's name; NULL when it is none of them. */
static const char **output_option(struct run_opts *o, int argc, char **argv, int *i,
                                  const char **value, const char **name)
{
    const struct {
        const char *name;
        const char **slot;
    } outputs[] = {{"--timeline", &o->timeline},
                   {"--memory-timeline", &o->memory_timeline},
                   {"--trace", &o->trace},
                   {"--plot", &o->plot},
                   {"--report", &o->report}};
    for (size_t k = 0; k < sizeof outputs / sizeof *outputs; k++)
        if ((*value = cli_opt_value(argc, argv, i, outputs[k].name))) {
            *name = outputs[k].name;
            return outputs[k].slot;
        }
    return NULL;
}

/* The option parsers below take one option's value: each checks it, says what is wrong through
 * cli_bad_usage, and returns its status (0, or 2 for a usage error) for parse_run to return, so
 * that parse_run's loop reads as the list of options. */

/* --format text|json */
static int parse_format(struct run_opts *o, const char *v, FILE *errout)
{
    if (strcmp(v, "json") == 0)
        o->json = 1;
    else if (strcmp(v, "text") == 0)
        o->json = 0;
    else
        return cli_bad_usage(errout, "stepsim --help", "--format '%s': expected text or json", v);
    if (cli_once(&o->once, NULL, "--format", v, errout, "stepsim --help") != 0)
        return 2;
    return 0;
}

/* --plot-window or --plot-size (`opt`), read into o->view by `parse`; *given keeps the text for
 * the error when --plot is missing. */
static int parse_view_option(struct run_opts *o, const char *opt, const char *v,
                             enum sim_status (*parse)(const char *, struct gantt_view *,
                                                      struct sim_error *),
                             const char **given, FILE *errout)
{
    struct sim_error e;
    if (parse(v, &o->view, &e) != SIM_OK)
        return cli_bad_usage(errout, "stepsim run --help", "%s", e.msg);
    if (cli_once(&o->once, NULL, opt, v, errout, "stepsim run --help") != 0)
        return 2;
    *given = v;
    return 0;
}

/* --tokens N: at least one token */
static int parse_tokens(struct run_opts *o, const char *v, FILE *errout)
{
    char why[256];
    if (units_parse(v, UNIT_NUMBER, &o->tokens, why, sizeof why) != 0)
        return cli_bad_usage(errout, "stepsim --help", "--tokens '%.40s': %s", v, why);
    if (!(o->tokens >= 1))
        return cli_bad_usage(errout, "stepsim --help",
                             "--tokens: expected at least 1 token, got '%s'", v);
    if (cli_once(&o->once, NULL, "--tokens", v, errout, "stepsim --help") != 0)
        return 2;
    return 0;
}

/* --seed N: kept as the set seed=N in o->seed, in its place among the --set values */
static int parse_seed(struct run_opts *o, const char *v, FILE *errout)
{
    long seed;
    char why[128];
    if (!*v)
        return cli_bad_usage(errout, "stepsim --help", "%s needs a number", "--seed");
    if (units_parse_int(v, 0, 2147483647L, &seed, why, sizeof why) != 0)
        return cli_bad_usage(errout, "stepsim --help", "--seed: %s", why);
    /* --set seed=N where it stands: the key seed, given once */
    if (cli_once(&o->once, "seed", "--seed", v, errout, "stepsim --help") != 0)
        return 2;
    if (o->sets.n == CLI_MAX_SETS ||
        snprintf(o->seed, sizeof o->seed, "seed=%s", v) >= (int)sizeof o->seed)
        return cli_bad_usage(errout, "stepsim --help", "--seed '%.20s': too long or too many",
                             v);
    o->sets.v[o->sets.n++] = o->seed;
    return 0;
}

static int parse_run(int argc, char **argv, struct run_opts *o, FILE *errout)
{
    memset(o, 0, sizeof *o);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v, *name, **slot;
        int rc = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = 1;
            return 0;
        } else if ((v = cli_opt_value(argc, argv, &i, "--set"))) {
            if (cli_spaced_value(errout, "stepsim --help", "--set", v, argc, argv, i) != 0 ||
                cli_add_set(&o->sets, &o->once, v, errout, "stepsim") != 0)
                return 2;
        } else if ((v = cli_opt_value(argc, argv, &i, "--format"))) {
            rc = parse_format(o, v, errout);
        } else if ((slot = output_option(o, argc, argv, &i, &v, &name))) {
            if (!*v)
                return cli_bad_usage(errout, "stepsim --help", "%s needs a file name", name);
            if (cli_once(&o->once, NULL, name, v, errout, "stepsim --help") != 0)
                return 2;
            *slot = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--plot-window"))) {
            rc = parse_view_option(o, "--plot-window", v, gantt_parse_window, &o->plot_window,
                                   errout);
        } else if ((v = cli_opt_value(argc, argv, &i, "--plot-size"))) {
            rc = parse_view_option(o, "--plot-size", v, gantt_parse_size, &o->plot_size, errout);
        } else if ((v = cli_opt_value(argc, argv, &i, "--tokens"))) {
            rc = parse_tokens(o, v, errout);
        } else if ((v = cli_opt_value(argc, argv, &i, "--seed"))) {
            rc = parse_seed(o, v, errout);
        } else if (strcmp(a, "--fail-on-oom") == 0) {
            o->fail_on_oom = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            return cli_bad_usage(errout, "stepsim --help", "unknown option '%s'", a);
        } else if (!o->scenario) {
            o->scenario = a;
        } else {
            return cli_bad_usage(errout, "stepsim --help",
                                 "unexpected argument '%s' (one scenario per run)", a);
        }
        if (rc != 0)
            return rc;
    }
    if (!o->scenario)
        return cli_bad_usage(errout, "stepsim --help", "%s needs a scenario file", "run");
    if (!o->plot && (o->plot_window || o->plot_size))
        return cli_bad_usage(errout, "stepsim run --help", "%s %s: needs --plot FILE.png|svg",
                             o->plot_window ? "--plot-window" : "--plot-size",
                             o->plot_window ? o->plot_window : o->plot_size);
    return 0;
}

/* Every output of one run, named before anything runs (outfile.h): NULL where not asked for.
 * A modelled scenario's --plot FILE.png also draws FILE-memory.png. */
struct run_outputs {
    struct outset *set;
    struct outfile *timeline, *trace, *memory, *plot, *plot_memory, *report;
};

/* Check every output option against the loaded scenario, before anything is simulated or
 * written. */
static enum sim_status plan_outputs(const struct run_opts *o, const struct scenario *scn,
                                    struct run_outputs *ro, struct sim_error *err)
{
    int modelled = scn_is_modelled(scn);
    if (o->memory_timeline && !modelled)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "--memory-timeline needs a modelled scenario (model= and hardware=)");
    if (o->tokens > 0 && !modelled)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "--tokens needs a modelled scenario (model= and hardware=)");
    ro->set = outset_create();
    if (!ro->set)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
    enum sim_status st = cli_add_inputs(ro->set, scn, err);
    if (st == SIM_OK && o->timeline)
        st = outset_add(ro->set, "--timeline", o->timeline, &ro->timeline, err);
    if (st == SIM_OK && o->memory_timeline)
        st = outset_add(ro->set, "--memory-timeline", o->memory_timeline, &ro->memory, err);
    if (st == SIM_OK && o->trace)
        st = outset_add(ro->set, "--trace", o->trace, &ro->trace, err);
    if (st == SIM_OK && o->plot)
        st = plot_add_output(ro->set, "--plot", o->plot, &ro->plot, err);
    if (st == SIM_OK && o->plot && modelled)
        st = plot_add_companion(ro->set, o->plot, "memory", &ro->plot_memory, err);
    if (st == SIM_OK && o->report)
        st = outset_add(ro->set, "--report", o->report, &ro->report, err);
    return st;
}

/* stdout carries one thing.  An output written there (--timeline -, --trace /dev/stdout)
 * takes it: the text report, for a person, goes to stderr instead; a JSON report, which a
 * script reads from stdout, cannot share it. */
static enum sim_status report_stream(const struct run_opts *o, const struct run_outputs *ro,
                                     FILE *out, FILE *errout, FILE **report,
                                     struct sim_error *err)
{
    const char *taker = outset_option_on(ro->set, fileno(out));
    *report = taker ? errout : out;
    if (taker && o->json)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "%s and --format json would both write to stdout; give %s a file",
                       taker, taker);
    return SIM_OK;
}

static int write_timeline(FILE *out, const void *so)
{
    return timeline_write_csv(out, &((const struct step_output *)so)->res);
}

struct trace_args {
    const struct scenario *scn;
    const struct step_output *so;
};

static int write_trace(FILE *out, const void *user)
{
    const struct trace_args *t = user;
    return trace_write_json(out, t->scn, &t->so->setup, &t->so->res,
                            t->so->modelled ? &t->so->cm : NULL, t->so->rep.sets_note);
}

static int write_memory_timeline(FILE *out, const void *user)
{
    const struct trace_args *t = user;
    return memtl_write_csv(out, t->scn, &t->so->res, &t->so->cm);
}

static int write_step_page(FILE *out, const void *user)
{
    const struct trace_args *t = user;
    return report_html_step(out, t->scn, &t->so->res, &t->so->rep);
}

/* The Gantt chart; for modelled scenarios each rank's peak memory is on its label and
 * FILE-memory.png|svg shows memory per rank as stacked bars.  `given`: the command line's
 * values for the titles (cli_sets_note). */
static enum sim_status plot_with_memory(const struct run_outputs *ro, const struct gantt_view *view,
                                        const struct scenario *scn, const struct step_output *so,
                                        const char *given, struct sim_error *err)
{
    if (!so->modelled) {
        const struct plot_labels labels = {NULL, NULL, NULL, given};
        return plot_gantt(ro->plot, scn, step_layout(so), &so->res, &labels, view, err);
    }
    int pp = so->res.pp;
    double *mem = mem_calloc((size_t)pp * 5, sizeof *mem);
    if (!mem)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
    double *parts = mem + pp;
    for (int r = 0; r < pp; r++) {
        const struct cm_rank_memory *m = &so->rep.mem[r];
        mem[r] = m->total;
        parts[4 * r] = m->weights;
        parts[4 * r + 1] = m->grads;
        parts[4 * r + 2] = m->optimizer;
        parts[4 * r + 3] = m->activations;
    }
    char layout[512], warning[160] = "", title[448];
    report_layout_line(scn, &so->rep, layout, sizeof layout);
    double peak = 0;
    for (int r = 0; r < pp; r++)
        peak = mem[r] > peak ? mem[r] : peak;
    const struct cm_rank_memory *om = so->rep.oom ? &so->rep.mem[so->rep.oom_rank] : NULL;
    if (om && so->rep.oom_host)
        snprintf(warning, sizeof warning,
                 "OUT OF HOST MEMORY: %.1f GiB offloaded, %.1f the host has",
                 om->host / 1073741824.0, so->rep.host_mem_bytes / 1073741824.0);
    else if (om)
        snprintf(warning, sizeof warning, "OUT OF MEMORY: %.1f GiB peak, %.1f usable",
                 peak / 1073741824.0, so->rep.hbm_usable_bytes / 1073741824.0);
    const struct plot_labels labels = {mem, layout, warning[0] ? warning : NULL, given};
    enum sim_status st = plot_gantt(ro->plot, scn, step_layout(so), &so->res, &labels, view, err);
    char own[64];
    plot_clean(own, sizeof own, scn->name); /* cut at a character's start, as the Gantt's */
    /* The bars are where out of memory shows: their title says so first, as the Gantt's. */
    snprintf(title, sizeof title, "%s%s%s%s%s%s", warning, warning[0] ? " · " : "", own,
             given[0] ? " (" : "", given, given[0] ? ")" : "");
    if (st == SIM_OK)
        st = plot_memory(ro->plot_memory, title, layout, parts, pp, so->rep.hbm_usable_bytes,
                         view, err);
    mem_free(mem);
    return st;
}

/* Each asked-for output to its temp file, then all of them into place together. */
static enum sim_status write_outputs(const struct run_outputs *ro, const struct gantt_view *view,
                                     const struct scenario *scn, const struct step_output *so,
                                     const char *given, struct sim_error *err)
{
    struct trace_args args = {scn, so};
    enum sim_status st = SIM_OK;
    if (ro->timeline)
        st = outfile_write(ro->timeline, write_timeline, so, err);
    if (st == SIM_OK && ro->memory)
        st = outfile_write(ro->memory, write_memory_timeline, &args, err);
    if (st == SIM_OK && ro->trace)
        st = outfile_write(ro->trace, write_trace, &args, err);
    if (st == SIM_OK && ro->plot)
        st = plot_with_memory(ro, view, scn, so, given, err);
    if (st == SIM_OK && ro->report)
        st = outfile_write(ro->report, write_step_page, &args, err);
    return st == SIM_OK ? outset_commit(ro->set, err) : st;
}

/* The warnings of a step that ran: a TP group spanning nodes (the group table's TP group, whose
 * nodes > 1 said so) and a sequence longer than the model's. */
static void warn_about_step(FILE *errout, const struct scenario *scn,
                            const struct step_output *so)
{
    if (so->rep.tp_spans_nodes)
        fprintf(errout,
                "stepsim: warning: tp=%d spans nodes of %d GPUs: tensor-parallel "
                "traffic crosses the network\n",
                so->cm.groups.tp.g.n, so->cm.groups.gpus_per_node);
    cli_warn_seq_past_max(errout, so->cm.cfg.seq, so->rep.model_max_seq, scn->model_path);
}

/* --fail-on-oom's error for a report that ran out of memory: the host's when the rank's offload
 * did not fit, else the GPU's. */
static enum sim_status oom_error(const struct report *rep, const char *path,
                                 struct sim_error *err)
{
    const struct cm_rank_memory *om = &rep->mem[rep->oom_rank];
    if (rep->oom_host)
        return err_set(err, SIM_EINPUT, path, 0,
                       "out of host memory: rank %d offloads %.1f GiB per GPU of the %.1f GiB "
                       "the host has (--fail-on-oom)",
                       rep->oom_rank, om->host / 1073741824.0, rep->host_mem_bytes / 1073741824.0);
    return err_set(err, SIM_EINPUT, path, 0,
                   "out of memory: rank %d needs %.1f GiB of %.1f GiB usable (--fail-on-oom)",
                   rep->oom_rank, om->total / 1073741824.0, rep->hbm_usable_bytes / 1073741824.0);
}

static int cmd_run(int argc, char **argv, FILE *out, FILE *errout)
{
    struct run_opts o;
    int rc = parse_run(argc, argv, &o, errout);
    if (rc != 0)
        return rc;
    if (o.help) {
        fputs(run_usage, out);
        fputs(run_help, out);
        write_keys_section(out);
        fputs(exit_text, out);
        return 0;
    }
    struct scenario scn;
    struct sim_error err;
    struct step_output so;
    struct run_outputs ro = {0};
    FILE *report = out;
    int ran = 0;
    err_clear(&err);
    enum sim_status st = scn_load_with_sets(&scn, o.scenario, o.sets.v, o.sets.n, &err);
    if (st == SIM_OK)
        st = plan_outputs(&o, &scn, &ro, &err);
    if (st == SIM_OK)
        st = report_stream(&o, &ro, out, errout, &report, &err);
    if (st == SIM_OK) {
        st = step_run(&scn, &so, &err);
        ran = st == SIM_OK;
    }
    if (ran && o.tokens > 0)
        report_add_training(&so.rep, &so.cm, o.tokens);
    if (ran)
        warn_about_step(errout, &scn, &so);
    if (st == SIM_OK) {
        /* what the command line changed, as the chart titles and the text report's scenario
         * line say it */
        cli_sets_note(o.sets.v, o.sets.n, so.rep.sets_note, sizeof so.rep.sets_note);
        st = write_outputs(&ro, &o.view, &scn, &so, so.rep.sets_note, &err);
    }
    if (st == SIM_OK) {
        int w = o.json ? report_write_json(report, &scn, &so.rep)
                       : report_write_text(report, &scn, &so.rep);
        if (w != 0 || fflush(report) != 0)
            st = err_set(&err, SIM_EFAIL, NULL, 0, "cannot write the report to stdout");
    }
    if (st == SIM_OK && o.fail_on_oom && so.modelled && so.rep.oom)
        st = oom_error(&so.rep, o.scenario, &err);
    outset_destroy(ro.set);
    if (ran)
        step_release(&so);
    return st == SIM_OK ? 0 : cli_fail(errout, &err);
}

/* The kinds of file validate accepts, by root element. */
enum file_kind { KIND_SCENARIO, KIND_MODEL, KIND_HARDWARE };
static const char *const kind_roots[] = {"scenario", "model", "hardware"};

/* A scenario is checked as `run` would before simulating: its own rules, or, when it uses the
 * cost model, the whole cost-model build (which loads the model and hardware it refers to and
 * checks the parallel layout against them) -- so validate fails exactly where run would. */
static enum sim_status validate_scenario(const char *path, struct sim_error *err)
{
    struct scenario scn;
    scn_defaults(&scn);
    enum sim_status st = scn_load(&scn, path, err);
    return st == SIM_OK ? step_check(&scn, err) : st;
}

static enum sim_status validate_file(const char *path, struct sim_error *err)
{
    /* validate reads a file twice -- its root element names its kind, then that kind's loader
     * checks it -- and a pipe gives its bytes once: say so rather than "file is empty" */
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISFIFO(sb.st_mode))
        return err_set(err, SIM_EINPUT, path, 0,
                       "a pipe: validate reads a file twice (its kind, then its checks), so it "
                       "needs a regular file (stepsim run reads a pipe)");
    int kind = -1;
    enum sim_status st = xml_peek_root(path, kind_roots,
                                       (int)(sizeof kind_roots / sizeof kind_roots[0]), &kind, err);
    if (st != SIM_OK)
        return st;
    switch ((enum file_kind)kind) {
    case KIND_SCENARIO: return validate_scenario(path, err);
    case KIND_MODEL: {
        struct model m;
        return model_load(&m, path, err);
    }
    case KIND_HARDWARE: {
        struct hardware hw;
        st = hw_load(&hw, path, err);
        if (st == SIM_OK)
            hw_release(&hw);
        return st;
    }
    }
    return err_set(err, SIM_EFAIL, path, 0, "internal error: file kind %d", kind);
}

/* Check each file by the kind its root element names (scenario, model or hardware); print
 * "FILE: ok" or the one-line problem for each, and exit 2 if any file is bad. */
static int cmd_validate(int argc, char **argv, FILE *out, FILE *errout)
{
    /* Options first, as the other commands take them: --help anywhere, and no option read as a
     * file ("validate --set pp=2 s.xml" had said "--set: cannot open") */
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(validate_help, out);
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_bad_usage(errout, "stepsim validate --help",
                                 "unknown option '%s'; a file of that name is ./%s", argv[i],
                                 argv[i]);
    }
    if (argc < 3)
        return cli_bad_usage(errout, "stepsim validate --help", "%s needs at least one file",
                             "validate");
    int worst = 0;
    for (int i = 2; i < argc; i++) {
        struct sim_error err;
        err_clear(&err);
        if (validate_file(argv[i], &err) != SIM_OK) {
            int rc = cli_fail(errout, &err);
            if (rc > worst)
                worst = rc;
        } else {
            fprintf(out, "%s: ok\n", argv[i]);
        }
    }
    return worst;
}

/* The columns of `keys`: the meaning under the value, and no line past a terminal's 80. */
enum { KEY_INDENT = 23, KEY_WIDTH = 80 };

/* One entry: the name, what it takes (its value, default and scope), then what it means. */
static void write_entry(FILE *out, const char *name, const char *takes, const char *meaning)
{
    out_put_wrapped(out, takes, fprintf(out, "%-*s ", KEY_INDENT - 1, name), KEY_INDENT,
                    KEY_WIDTH);
    out_put_wrapped(out, meaning, fprintf(out, "%*s", KEY_INDENT, ""), KEY_INDENT, KEY_WIDTH);
}

/* One key: name and value, then the meaning wrapped under it. */
static void write_key_doc(FILE *out, enum scn_key key)
{
    struct scn_key_doc d;
    scn_key_describe(key, &d);
    char takes[sizeof d.value + sizeof d.def + 64];
    snprintf(takes, sizeof takes, "%s; default %s%s%s%s", d.value, d.def,
             d.applies[0] ? "; " : "", d.applies, d.applies[0] ? " only" : "");
    write_entry(out, d.name, takes, d.doc);
}

/* One hardware knob, `hw.NAME`: what it overrides and its value; -1 for a name that is none. */
static int write_knob_doc(FILE *out, const char *name)
{
    const char *element, *value;
    if (hw_knob_describe(name, &element, &value) != 0)
        return -1;
    char key[64], takes[256], meaning[160];
    snprintf(key, sizeof key, "hw.%s", name);
    snprintf(takes, sizeof takes, "%s; default the file's; cost model only", value);
    snprintf(meaning, sizeof meaning, "the hardware file's <%s %s>, for this run only", element,
             name);
    write_entry(out, key, takes, meaning);
    return 0;
}

/* Every hardware knob, after the scenario keys. */
static void write_knobs(FILE *out)
{
    char known[HW_KNOB_LIST_MAX];
    hw_knob_list(known, sizeof known);
    for (char *save = NULL, *name = strtok_r(known, ", ", &save); name;
         name = strtok_r(NULL, ", ", &save))
        write_knob_doc(out, name);
    int col = fprintf(out, "%*s", KEY_INDENT, "");
    out_put_wrapped(out,
                    "a collective the file gives as measured inside the node (its <collective>) "
                    "scales its bus bandwidth with hw.nvlink-bandwidth and hw.nvlink-efficiency; "
                    "hw.nvlink-latency leaves it alone",
                    col, KEY_INDENT, KEY_WIDTH);
}

/* argv[i] as `keys` takes it: a scenario key or hw.NAME; 0, or -1 for neither. */
static int key_known(const char *name)
{
    if (strncmp(name, "hw.", 3) == 0) {
        const char *element, *value;
        return hw_knob_describe(name + 3, &element, &value);
    }
    return scn_key_find(name) < 0 ? -1 : 0;
}

/* `stepsim keys [KEY...]`: the key table as text. */
static int cmd_keys(int argc, char **argv, FILE *out, FILE *errout)
{
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(keys_help, out);
            return 0;
        }
        if (key_known(argv[i]) != 0 && strncmp(argv[i], "hw.", 3) == 0) {
            char known[HW_KNOB_LIST_MAX];
            hw_knob_list(known, sizeof known);
            return cli_bad_usage(errout, "stepsim keys --help",
                                 "keys: unknown hardware knob '%s' (known: hw. + %s)", argv[i],
                                 known);
        }
        if (key_known(argv[i]) != 0 && scn_key_hint(argv[i]))
            return cli_bad_usage(errout, "stepsim keys --help", "keys: '%s' is not a key: %s",
                                 argv[i], scn_key_hint(argv[i]));
        if (key_known(argv[i]) != 0) {
            const char *near = scn_key_suggest(argv[i]);
            return cli_bad_usage(errout, "stepsim keys --help", "keys: unknown key '%s'%s%s%s",
                                 argv[i], near ? " (did you mean '" : "", near ? near : "",
                                 near ? "'?)" : "");
        }
    }
    if (argc == 2) {
        for (int k = 0; k < SCN_KEY_COUNT; k++)
            write_key_doc(out, (enum scn_key)k);
        write_knobs(out);
    }
    for (int i = 2; i < argc; i++)
        if (strncmp(argv[i], "hw.", 3) == 0)
            write_knob_doc(out, argv[i] + 3);
        else
            write_key_doc(out, (enum scn_key)scn_key_find(argv[i]));
    if (fflush(out) != 0 || ferror(out)) {
        cli_error_line(errout, "cannot write the keys to stdout");
        return 1;
    }
    return 0;
}

/* The commands, in the order `stepsim --help` shows them, each with the text that opens with
 * its synopsis (its own --help's). */
static const struct {
    const char *name;
    int (*main)(int argc, char **argv, FILE *out, FILE *errout);
    const char *usage;
} commands[] = {
    {"run", cmd_run, run_usage},
    {"sweep", sweep_main, sweep_usage},
    {"plan", plan_main, plan_usage},
    {"validate", cmd_validate, validate_help},
    {"keys", cmd_keys, keys_help},
    {"import", import_main, import_help},
    {"published", published_main, published_usage},
    {"calibrate", calib_main, calib_usage},
};

/* Every command's synopsis, as its own --help opens: the lines up to the first empty one,
 * under one "usage:". */
static void write_synopsis(FILE *out)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        const char *t = commands[i].usage, *end = strstr(t, "\n\n");
        size_t len = end ? (size_t)(end - t) + 1 : strlen(t);
        if (i > 0 && strncmp(t, "usage: ", 7) == 0) {
            fputs("       ", out);
            t += 7;
            len -= 7;
        }
        fwrite(t, 1, len, out);
    }
    fputs("       stepsim COMMAND --help | stepsim --help | --version\n", out);
}

/* Run the command argv[1] names; its exit status. */
static int dispatch(int argc, char **argv, FILE *out, FILE *errout)
{
    if (argc < 2) {
        write_synopsis(errout);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        write_synopsis(out);
        fputs(overview_text, out);
        fputs(run_help, out);
        write_keys_section(out);
        fputs(exit_text, out);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        fprintf(out, "%s\n", PACKAGE_STRING);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].main(argc, argv, out, errout);
    return cli_bad_usage(errout, "stepsim --help", "unknown command '%s'", cmd);
}

int cli_main(int argc, char **argv, FILE *out, FILE *errout)
{
    int rc = dispatch(argc, argv, out, errout);
    /* Whatever the command, output that never reached stdout (a full disk, a closed pipe or
     * descriptor) is a failure, not a success with nothing printed. */
    if (fflush(out) != 0 || ferror(out)) {
        if (rc == 0)
            cli_error_line(errout, "cannot write to stdout");
        if (rc < 1)
            rc = 1;
    }
    return rc;
}
