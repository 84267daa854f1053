/* cli: argument parsing and the run / validate commands. */
#include "cli.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "alloc.h"
#include "cliutil.h"
#include "config.h"
#include "costmodel.h"
#include "costs.h"
#include "hardware.h"
#include "model.h"
#include "memtimeline.h"
#include "plan.h"
#include "step.h"
#include "sweep.h"
#include "outfile.h"
#include "pipeline.h"
#include "plot.h"
#include "report.h"
#include "scenario.h"
#include "timeline.h"
#include "trace.h"
#include "units.h"
#include "xmlload.h"

#define MAX_SETS 256

static const char usage_text[] =
    "usage: stepsim run SCENARIO.xml [--set KEY=VALUE]... [--format text|json]\n"
    "                  [--timeline FILE.csv] [--trace FILE.json] [--plot FILE.png|FILE.svg]\n"
    "                  [--seed N] [--tokens N] [--memory-timeline FILE.csv]\n"
    "       stepsim sweep SCENARIO.xml --vary KEY=LIST [--vary ...] [-j N] [--out FILE.csv]\n"
    "                    [--plot FILE.png|svg]          (see 'stepsim sweep --help')\n"
    "       stepsim plan SCENARIO.xml --gpus N [--top K] [--out FILE.csv] [-j N]\n"
    "                                                   (see 'stepsim plan --help')\n"
    "       stepsim validate FILE.xml...\n"
    "       stepsim --help | --version\n";

static const char help_text[] =
    "\n"
    "Simulates one training step of a pipeline-parallel transformer on a discrete-event\n"
    "engine and reports where the time goes.\n"
    "\n"
    "run options:\n"
    "  --set KEY=VALUE   override a scenario value; keys: name schedule pp vp vp-group\n"
    "                    microbatches micro-batch seq layers forward backward-input\n"
    "                    backward-weight split-backward activation optimizer link-latency\n"
    "                    link-bandwidth seed jitter  (times like 1ms, sizes like 64MiB,\n"
    "                    bandwidths like 450GBps or 400Gbps, jitter like 5%)\n"
    "  --format F        report as text (default) or json\n"
    "  --timeline F.csv  one row per op and transfer:\n"
    "                    rank,op,microbatch,chunk,stage,start_s,end_s,peer,bytes\n"
    "  --trace F.json    Chrome trace-event file (open in Perfetto / chrome://tracing)\n"
    "  --plot F.png|svg  Gantt chart drawn with gnuplot\n"
    "  --seed N          RNG seed (same as --set seed=N)\n"
    "  --memory-timeline F.csv  memory per GPU over the step (modelled scenarios):\n"
    "                    rank,time_s,activation_bytes,total_bytes\n"
    "  --tokens N        also report the time, GPU-hours and cost (when the hardware\n"
    "                    file has a price) to train N tokens, e.g. --tokens 15e12\n"
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
    "  samples/s        microbatches * micro-batch / step time; tokens/s = samples/s * seq\n"
    "  peak_mb          most (micro-batch, chunk) activations a rank held at once\n"
    "\n"
    "outputs: checked before anything runs and put in place together at the end; an output\n"
    "  naming an input or another output, a directory or a block device is refused; devices\n"
    "  and FIFOs are written in place; symlinks are written through\n"
    "\n"
    "exit status: 0 ok, 1 simulation or I/O failure, 2 bad input; 129, 130, 143 interrupted\n"
    "  by SIGHUP, SIGINT, SIGTERM (temp files removed, gnuplot ended)\n";

struct run_opts {
    const char *scenario;
    const char *sets[MAX_SETS];
    int nsets;
    const char *seed;
    double tokens; /* --tokens N: also report the time and cost to train N tokens */
    int json;
    const char *timeline, *trace, *plot, *memory_timeline;
};

/* A command-line mistake: one line naming it, and where to look; exit status 2. */

static int parse_run(int argc, char **argv, struct run_opts *o, FILE *errout)
{
    memset(o, 0, sizeof *o);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v;
        if ((v = cli_opt_value(argc, argv, &i, "--set"))) {
            if (!*v)
                return cli_bad_usage(errout, "stepsim --help", "%s needs KEY=VALUE", "--set");
            if (o->nsets == MAX_SETS)
                return cli_bad_usage(errout, "stepsim --help", "too many --set options (max %d)",
                                     MAX_SETS);
            o->sets[o->nsets++] = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--format"))) {
            if (strcmp(v, "json") == 0)
                o->json = 1;
            else if (strcmp(v, "text") == 0)
                o->json = 0;
            else
                return cli_bad_usage(errout, "stepsim --help",
                                     "--format '%s': expected text or json", v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--timeline"))) {
            if (!*v)
                return cli_bad_usage(errout, "stepsim --help", "%s needs a file name",
                                     "--timeline");
            o->timeline = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--memory-timeline"))) {
            if (!*v)
                return cli_bad_usage(errout, "stepsim --help", "%s needs a file name",
                                     "--memory-timeline");
            o->memory_timeline = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--trace"))) {
            if (!*v)
                return cli_bad_usage(errout, "stepsim --help", "%s needs a file name", "--trace");
            o->trace = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--plot"))) {
            if (!*v)
                return cli_bad_usage(errout, "stepsim --help", "%s needs a file name", "--plot");
            o->plot = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--tokens"))) {
            char why[256];
            if (units_parse(v, UNIT_NUMBER, &o->tokens, why, sizeof why) != 0 || !(o->tokens > 0))
                return cli_bad_usage(errout, "stepsim --help",
                                     "--tokens: expected a positive number of tokens, got '%s'", v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--seed"))) {
            if (!*v)
                return cli_bad_usage(errout, "stepsim --help", "%s needs a number", "--seed");
            o->seed = v;
        } else if (a[0] == '-' && a[1] != '\0') {
            return cli_bad_usage(errout, "stepsim --help", "unknown option '%s'", a);
        } else if (!o->scenario) {
            o->scenario = a;
        } else {
            return cli_bad_usage(errout, "stepsim --help",
                                 "unexpected argument '%s' (one scenario per run)", a);
        }
    }
    if (!o->scenario)
        return cli_bad_usage(errout, "stepsim --help", "%s needs a scenario file", "run");
    return 0;
}

/* Every output of one run, named before anything runs (outfile.h): NULL where not asked for.
 * A modelled scenario's --plot FILE.png also draws FILE-memory.png. */
struct run_outputs {
    struct outset *set;
    struct outfile *timeline, *trace, *memory, *plot, *plot_memory;
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
    return st;
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
    return trace_write_json(out, t->scn, &t->so->res);
}

static int write_memory_timeline(FILE *out, const void *user)
{
    const struct trace_args *t = user;
    return memtl_write_csv(out, t->scn, &t->so->res, &t->so->cm);
}

/* The Gantt chart; for modelled scenarios each rank's peak memory is on its label and
 * FILE-memory.png|svg shows memory per stage as stacked bars. */
static enum sim_status plot_with_memory(const struct run_outputs *ro, const struct scenario *scn,
                                        const struct step_output *so, struct sim_error *err)
{
    if (!so->modelled)
        return plot_gantt(ro->plot, scn, &so->res, err);
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
    enum sim_status st = plot_gantt_memory(ro->plot, scn, &so->res, mem, err);
    if (st == SIM_OK)
        st = plot_memory(ro->plot_memory, scn->name, parts, pp, so->rep.hbm_bytes, err);
    mem_free(mem);
    return st;
}

/* Each asked-for output to its temp file, then all of them into place together. */
static enum sim_status write_outputs(const struct run_outputs *ro, const struct scenario *scn,
                                     const struct step_output *so, struct sim_error *err)
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
        st = plot_with_memory(ro, scn, so, err);
    return st == SIM_OK ? outset_commit(ro->set, err) : st;
}

static int cmd_run(int argc, char **argv, FILE *out, FILE *errout)
{
    struct run_opts o;
    int rc = parse_run(argc, argv, &o, errout);
    if (rc != 0)
        return rc;
    struct scenario scn;
    struct sim_error err;
    struct step_output so;
    struct run_outputs ro = {0};
    int ran = 0;
    err_clear(&err);
    scn_defaults(&scn);
    enum sim_status st = scn_load(&scn, o.scenario, &err);
    for (int i = 0; i < o.nsets && st == SIM_OK; i++)
        st = scn_set_arg(&scn, o.sets[i], &err);
    if (st == SIM_OK && o.seed)
        st = scn_set(&scn, "seed", o.seed, NULL, 0, &err);
    if (st == SIM_OK)
        st = plan_outputs(&o, &scn, &ro, &err);
    if (st == SIM_OK) {
        st = step_run(&scn, &so, &err);
        ran = st == SIM_OK;
    }
    if (ran && o.tokens > 0)
        report_add_training(&so.rep, &so.cm, o.tokens);
    if (ran && so.rep.tp_spans_nodes)
        fprintf(errout,
                "stepsim: warning: tp=%d spans nodes of %d GPUs: tensor-parallel "
                "traffic crosses the network\n",
                scn.tp, so.cm.cfg.gpus_per_node);
    if (st == SIM_OK)
        st = write_outputs(&ro, &scn, &so, &err);
    if (st == SIM_OK) {
        int w =
            o.json ? report_write_json(out, &scn, &so.rep) : report_write_text(out, &scn, &so.rep);
        if (w != 0 || fflush(out) != 0)
            st = err_set(&err, SIM_EFAIL, NULL, 0, "cannot write the report to stdout");
    }
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
    if (st != SIM_OK)
        return st;
    if (!scn_is_modelled(&scn))
        return scn_check(&scn, err);
    struct costmodel cm;
    struct pipe_setup setup;
    st = cm_build(&cm, &scn, &setup, err);
    if (st == SIM_OK) { /* cm_build releases both itself on failure */
        pipe_setup_release(&setup);
        cm_release(&cm);
    }
    return st;
}

static enum sim_status validate_file(const char *path, struct sim_error *err)
{
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
    if (argc < 3)
        return cli_bad_usage(errout, "stepsim --help", "%s needs at least one file", "validate");
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

int cli_main(int argc, char **argv, FILE *out, FILE *errout)
{
    if (argc < 2) {
        fputs(usage_text, errout);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, out);
        fputs(help_text, out);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        fprintf(out, "%s\n", PACKAGE_STRING);
        return 0;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc, argv, out, errout);
    if (strcmp(cmd, "sweep") == 0)
        return sweep_main(argc, argv, out, errout);
    if (strcmp(cmd, "plan") == 0)
        return plan_main(argc, argv, out, errout);
    if (strcmp(cmd, "validate") == 0)
        return cmd_validate(argc, argv, out, errout);
    return cli_bad_usage(errout, "stepsim --help", "unknown command '%s'", cmd);
}
