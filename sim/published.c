/* published: a scenario's model against the published runs of it (see published.h).
 *
 * The tables are found where the library finds models (library.h: $STEPSIM_DATADIR, the source
 * tree, the installed share/stepsim), as scenarios/validation/<set>.tsv, or in --tables DIR;
 * their scenario paths are relative to --root, by default the tables folder's grandparent (the
 * top of the tree that holds scenarios/validation, as the shipped tables' paths start).  Every
 * row of every table is loaded, the rows of the scenario's model file (the same file, by its real
 * path) are simulated one by one. */
#include "published.h"

#include <dirent.h>
#include <stdarg.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cliutil.h"
#include "hardware.h"
#include "library.h"
#include "model.h"
#include "outfile.h"
#include "patterns.h"
#include "runtable.h"
#include "scenario.h"
#include "step.h"
#include "xmlload.h"

#define MAX_ROWS 1024
#define MAX_TABLES 32

const char published_usage[] =
    "usage: stepsim published SCENARIO.xml [--set KEY=VALUE]... [--tables DIR] [--root DIR]\n";

static const char published_help[] =
    "\n"
    "The published, measured runs of the scenario's model that stepsim is checked on (the\n"
    "tables of scenarios/validation, `make validate`), each simulated: measured and predicted\n"
    "step time and the error 100 (predicted - measured) / measured, the table's role\n"
    "(calibration, or held out: never fitted) and a summary -- how far a prediction for this\n"
    "model has been off on runs that really happened.  Rows on the scenario's GPU come first.\n"
    "With no published run of the model, the runs of other models on the scenario's GPU take\n"
    "their place, run by run and summed up.  Then every scored run of every table that shares\n"
    "a kind with the scenario (its GPU generation, fp8/fp4, MoE, TP, CP, pp>=32, 4096+GPUs,\n"
    "ZeRO-2/3, few-mb -- at most 16 micro-batches a replica on 64+ GPUs --, hybrid -- Mamba-2\n"
    "or Gated DeltaNet layers: the patterns `make validate` groups by), kind by kind and with\n"
    "all of its kinds at once, then every run on the scenario's very GPU whatever its model,\n"
    "calibration apart from held out.  Last, how well it compares the scenario's hardware with\n"
    "another: runs of one job (model, precision, GPUs, global batch, sequence) in one set on\n"
    "the two hardware files, the predicted speed-up's error per other file, as\n"
    "`make validate`'s hardware pairs; and what fp8 or fp4 buys over 16 bits on the\n"
    "scenario's hardware: runs of one job in one set in both, per low precision, as\n"
    "`make validate`'s precision pairs.\n"
    "  --set KEY=VALUE  override a value of the scenario: its model, hardware and kinds\n"
    "                   choose the runs shown; each run is simulated as its own table row\n"
    "                   gives it, so a value (hw.NAME, say) changes no prediction\n"
    "  --tables DIR     the folder of <set>.tsv tables (default: scenarios/validation where\n"
    "                   the model library is: $STEPSIM_DATADIR, the source tree, share/stepsim)\n"
    "  --root DIR       the folder the tables' scenario paths start from (default: the tables\n"
    "                   folder's grandparent, DIR/../.., the top of the tree that holds\n"
    "                   scenarios/validation, where the shipped tables' paths start)\n"
    "Exit status: 0 ok (also when no run matches), 1 a simulation failed, 2 bad input\n"
    "(a scenario that, as set, breaks a rule still prints its model's runs, then exits 2\n"
    "with the rule, as run would).\n";

/* The prose lines (headings and notes, not the tables' rows) wrap before column 100, as
 * --help's and keys' do; a continuation goes under 4 spaces, not the 2 of a table's rows. */
#define PROSE_WIDTH 99

static void say(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One prose line (printf's `fmt`, no newline), wrapped. */
static void say(FILE *out, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    out_put_wrapped(out, text, 0, 4, PROSE_WIDTH);
}

/* One simulated row. */
struct result {
    const struct run_row *row;
    double predicted_s;
    int oom, same_gpu;
    unsigned patterns; /* the kinds of run it is (patterns.h) */
    char hardware[64];
    /* what a run on other hardware must share to be its pair (make validate's "job"): model,
     * dtype, fp8 recipe, GPUs, global batch, sequence */
    char job[192];
    /* the same job but for its precision (its precision pair, make validate's precision table):
     * model, GPUs, global batch, sequence; and the precision, "bf16" or "fp8 delayed" */
    char shape[160], precision[48];
    int sixteen_bits; /* bf16 or fp16 */
};

struct tally {
    int n;
    double abs_sum, sum;
};

static void tally_add(struct tally *t, double error)
{
    t->n++;
    t->abs_sum += fabs(error);
    t->sum += error;
}

static void tally_print(FILE *out, const char *what, const struct tally *t)
{
    if (t->n == 0)
        return;
    fprintf(out, "%s: %d run%s, MAE %.1f%%, bias %+.1f%%\n", what, t->n, t->n == 1 ? "" : "s",
            100.0 * t->abs_sum / t->n, 100.0 * t->sum / t->n);
}

/* One line of pairs: what they compare, how many, the speed-up's mean absolute and signed
 * error (make validate's pair summaries). */
static void pair_line(FILE *out, const char *what, const struct tally *t)
{
    double bias = 100.0 * t->sum / t->n;
    if (fabs(bias) < 0.05) /* printed as +0.0, not -0.0 */
        bias = 0.0;
    fprintf(out, "  %-44s %2d pair%s speed-up error %4.1f%%, bias %+5.1f%%\n", what, t->n,
            t->n == 1 ? ", " : "s,", 100.0 * t->abs_sum / t->n, bias);
}

static double error_of(const struct result *r)
{
    return (r->predicted_s - r->row->measured_s) / r->row->measured_s;
}

/* The tables' folder: --tables, else scenarios/validation in the library. */
static int tables_dir(const char *given, char *dir, size_t len)
{
    if (given) {
        snprintf(dir, len, "%s", given);
        return 0;
    }
    char path[PATH_MAX];
    if (library_find("scenarios/validation", "dev.tsv", path, sizeof path) != 0)
        return -1;
    char *slash = strrchr(path, '/');
    *slash = '\0';
    snprintf(dir, len, "%s", path);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* The *.tsv names in `dir`, sorted, into names[0..*n): an error when the folder cannot be read
 * or holds none or more than MAX_TABLES (which were dropped unseen). */
static enum sim_status list_tables(const char *dir, char names[MAX_TABLES][256], int *n,
                                   struct sim_error *err)
{
    DIR *d;
    enum sim_status st = runtable_open_folder(dir, &d, err);
    if (st != SIM_OK)
        return st;
    *n = 0;
    int more = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL && !more;) {
        size_t len = strlen(de->d_name);
        if (len <= 4 || len >= 256 || strcmp(de->d_name + len - 4, ".tsv") != 0)
            continue;
        if (*n == MAX_TABLES)
            more = 1;
        else
            snprintf(names[(*n)++], 256, "%s", de->d_name);
    }
    closedir(d);
    if (more)
        return err_set(err, SIM_EINPUT, dir, 0, "more than %d tables (*.tsv) here", MAX_TABLES);
    if (*n == 0)
        return err_set(err, SIM_EINPUT, dir, 0, "no tables of measured runs (*.tsv) here");
    qsort(names, (size_t)*n, sizeof names[0], by_name);
    return SIM_OK;
}

/* Every row of every table in `dir`, scenario paths relative to `given_root` (NULL: the
 * folder's grandparent). */
static enum sim_status read_tables(const char *dir, const char *given_root, struct run_row *rows,
                                   int *n, struct sim_error *err)
{
    char names[MAX_TABLES][256], root[PATH_MAX], path[PATH_MAX];
    int ntables;
    enum sim_status st = list_tables(dir, names, &ntables, err);
    if (st == SIM_OK && given_root)
        st = runtable_check_folder(given_root, err);
    if (st != SIM_OK)
        return st;
    int w = given_root ? snprintf(root, sizeof root, "%s", given_root)
                       : snprintf(root, sizeof root, "%s/../..", dir);
    for (int t = 0; st == SIM_OK && t < ntables; t++) {
        int v = snprintf(path, sizeof path, "%s/%s", dir, names[t]);
        if (w < 0 || (size_t)w >= sizeof root || v < 0 || (size_t)v >= sizeof path)
            return err_set(err, SIM_EINPUT, dir, 0, "the folder's path is too long");
        st = runtable_read(path, root, rows, MAX_ROWS, n, err);
    }
    return st;
}

/* Simulate one row (a copy of its scenario) into r. */
static enum sim_status simulate(const struct run_row *row, const char *gpu, struct result *r,
                                struct sim_error *err)
{
    struct scenario scn = row->scn;
    struct step_output so;
    enum sim_status st = step_run(&scn, &so, err);
    if (st != SIM_OK)
        return st;
    *r = (struct result){.row = row, .predicted_s = so.rep.step_s, .oom = so.rep.oom,
                         .patterns = so.rep.patterns};
    r->same_gpu = strcmp(so.cm.hw->gpu.name, gpu) == 0;
    snprintf(r->hardware, sizeof r->hardware, "%s", so.rep.hardware);
    snprintf(r->job, sizeof r->job, "%s|%s|%s|%d|%ld|%d", so.rep.model,
             hw_dtype_name((enum dtype)scn.dtype),
             scn.dtype == DT_FP8 ? scn_choice_name(SCN_FP8_RECIPE, scn.fp8_recipe) : "-",
             so.rep.gpus, so.rep.samples, scn.seq);
    snprintf(r->shape, sizeof r->shape, "%s|%d|%ld|%d", so.rep.model, so.rep.gpus,
             so.rep.samples, scn.seq);
    snprintf(r->precision, sizeof r->precision, "%s%s%s", hw_dtype_name((enum dtype)scn.dtype),
             scn.dtype == DT_FP8 ? " " : "",
             scn.dtype == DT_FP8 ? scn_choice_name(SCN_FP8_RECIPE, scn.fp8_recipe) : "");
    r->sixteen_bits = scn.dtype == DT_BF16 || scn.dtype == DT_FP16;
    step_release(&so);
    return SIM_OK;
}

/* The widths of the table's text columns: each its longest value's or its heading's, so that
 * a long id (Z3-128-1f1b) or an OOM mark does not push a row past column 100, as the fixed
 * widths (6 for the id, 20 for the hardware) had done. */
struct widths {
    int id, set, role, source, hardware;
};

static int wider(int w, const char *s)
{
    int len = (int)strlen(s);
    return len > w ? len : w;
}

static struct widths column_widths(const struct result *res, int n)
{
    struct widths w = {2, 3, 4, 6, 8}; /* the headings: id, set, role, source, hardware */
    for (int i = 0; i < n; i++) {
        const struct run_row *r = res[i].row;
        w.id = wider(w.id, r->id);
        w.set = wider(w.set, r->set);
        w.role = wider(w.role, runtable_role_name(r->role));
        w.source = wider(w.source, r->source);
        w.hardware = wider(w.hardware, res[i].hardware);
    }
    return w;
}

static void print_row(FILE *out, const struct widths *w, const struct result *r)
{
    const struct run_row *row = r->row;
    fprintf(out, "%-*s %-*s %-*s %-*s %-*s %6d %11.3f %11.3f %+7.1f%%%s\n", w->id, row->id, w->set,
            row->set, w->role, runtable_role_name(row->role), w->source, row->source, w->hardware,
            r->hardware, row->scn.gpus, row->measured_s, r->predicted_s, 100.0 * error_of(r),
            r->oom ? "  OOM" : "");
}

/* The matching rows' table, the scenario's GPU first, and their summary (`of_model`: the rows
 * are the model's, else other models' on the GPU). */
static void report(FILE *out, const char *model, const char *gpu, int of_model,
                   const struct result *res, int n)
{
    if (n == 0) { /* no run of the model and none on its GPU: a bare header read as a bug */
        fprintf(out, "  none\n");
        return;
    }
    struct widths w = column_widths(res, n);
    fprintf(out, "%-*s %-*s %-*s %-*s %-*s %6s %11s %11s %8s\n", w.id, "id", w.set, "set", w.role,
            "role", w.source, "source", w.hardware, "hardware", "gpus", "measured_s", "predicted_s",
            "error");
    struct tally all = {0}, on_gpu = {0}, held = {0};
    for (int pass = 1; pass >= 0; pass--)
        for (int i = 0; i < n; i++)
            if (res[i].same_gpu == pass)
                print_row(out, &w, &res[i]);
    for (int i = 0; i < n; i++) {
        double e = error_of(&res[i]);
        tally_add(&all, e);
        if (res[i].same_gpu)
            tally_add(&on_gpu, e);
        if (res[i].row->role == ROLE_HELD_OUT)
            tally_add(&held, e);
    }
    char what[256];
    if (of_model) {
        snprintf(what, sizeof what, "%s", model);
        tally_print(out, what, &all);
        snprintf(what, sizeof what, "  on %s (the scenario's GPU)", gpu);
        tally_print(out, what, &on_gpu);
    } else {
        snprintf(what, sizeof what, "other models on %s", gpu);
        tally_print(out, what, &all);
    }
    tally_print(out, "  in held-out sets (never fitted)", &held);
}

/* One kind's line: its calibration runs' and its held-out runs' errors, as `make validate`
 * prints its patterns; with `gpu_only` only the runs on the scenario's GPU. */
static void kind_line(FILE *out, const char *what, const struct result *res, int n,
                      unsigned kinds, int gpu_only)
{
    struct tally side[2] = {{0}, {0}}; /* calibration, held out */
    for (int i = 0; i < n; i++)
        if ((res[i].patterns & kinds) == kinds && (!gpu_only || res[i].same_gpu) &&
            res[i].row->role != ROLE_UNSTATED)
            tally_add(&side[res[i].row->role == ROLE_HELD_OUT], error_of(&res[i]));
    fprintf(out, "  %-14s", what);
    for (int h = 0; h < 2; h++) {
        const struct tally *t = &side[h];
        if (t->n) /* "  1 run  MAE": the singular padded to the plural's width, as validate's */
            fprintf(out, " %3d %-4s MAE %5.1f%% bias %+5.1f%%%s", t->n, t->n == 1 ? "run" : "runs",
                    100.0 * t->abs_sum / t->n, 100.0 * t->sum / t->n, h ? "" : "  ");
        else /* "-" under the count, padded to the calibration cell's width */
            fprintf(out, " %3s%*s", "-", h ? 0 : 30, "");
    }
    fputc('\n', out);
}

/* How runs of the scenario's kinds fared, whatever their model: each kind, then all at once,
 * then the runs on its very GPU (the parts of a generation are not predicted alike: GB200's
 * and GB300's runs are off by different amounts, and not always the same way). */
static void report_kinds(FILE *out, unsigned kinds, const char *gpu, const struct result *res,
                         int n)
{
    char names[160], what[32];
    int count = 0;
    for (int k = 0; k < PATTERN_COUNT; k++)
        count += (kinds >> k) & 1u;
    if (!count) {
        fprintf(out, "the scenario is of none of the kinds the runs are grouped by\n");
        return;
    }
    patterns_text(kinds, ", ", names, sizeof names);
    say(out, "runs of the scenario's kinds (%s) and on its GPU (%s), whatever their model:", names,
        gpu);
    fprintf(out, "  %-14s %-33s %s\n", "kind", "calibration (fitted to them)",
            "held out (never fitted)");
    for (int k = 0; k < PATTERN_COUNT; k++)
        if (kinds & (1u << k))
            kind_line(out, pattern_name(k), res, n, 1u << k, 0);
    if (count > 1) {
        snprintf(what, sizeof what, count == 2 ? "both at once" : "all %d at once", count);
        kind_line(out, what, res, n, kinds, 0);
    }
    kind_line(out, "its GPU", res, n, 0, 1);
}

/* The pairs of runs of one job in one set, one on the scenario's hardware file, one on another
 * (make validate's hardware-pair table, tests/validate.sh): per other file, the predicted
 * speed-up's error, 100 (predicted / measured - 1), each pair read from the file whose runs
 * measured slower (the geometric mean over the pairs) to the faster, as validate reads it. */
static void report_pairs(FILE *out, const char *hardware, const struct result *res, int n)
{
    char other[MAX_TABLES * 4][64];
    int others = 0, shown = 0;
    for (int i = 0; i < n; i++) { /* the other files, in order of first appearance */
        int seen = strcmp(res[i].hardware, hardware) == 0;
        for (int k = 0; k < others && !seen; k++)
            seen = strcmp(other[k], res[i].hardware) == 0;
        if (!seen && others < MAX_TABLES * 4)
            snprintf(other[others++], sizeof other[0], "%s", res[i].hardware);
    }
    for (int k = 0; k < others; k++) {
        double logm = 0.0;
        struct tally pairs = {0};
        for (int pass = 0; pass < 2; pass++) /* 0: which way round; 1: the errors */
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) {
                    const struct result *a = &res[i], *b = &res[j]; /* a on ours, b on other */
                    if (strcmp(a->hardware, hardware) || strcmp(b->hardware, other[k]) ||
                        strcmp(a->row->set, b->row->set) || strcmp(a->job, b->job))
                        continue;
                    double m = a->row->measured_s / b->row->measured_s;
                    double p = a->predicted_s / b->predicted_s;
                    if (pass == 0) {
                        logm += log(m);
                        continue;
                    }
                    tally_add(&pairs, logm < 0 ? m / p - 1.0 : p / m - 1.0); /* from the slower */
                }
        if (!pairs.n)
            continue;
        if (!shown++)
            say(out,
                "its hardware against others (runs of one job, one set, on %s and another "
                "file; the speed-up from the slower to the faster):",
                hardware);
        char way[160];
        snprintf(way, sizeof way, "%.63s -> %.63s", logm < 0 ? other[k] : hardware,
                 logm < 0 ? hardware : other[k]);
        pair_line(out, way, &pairs);
    }
    if (!shown) /* said, not left out: the reader knows what was looked for */
        say(out,
            "its hardware against others: no two runs of one job in one set on %s and "
            "another file",
            hardware);
}

/* The pairs of runs of one job in one set on the scenario's hardware file, one in 16 bits and
 * one in fp8 or fp4 (make validate's precision table): per low precision, the error of the
 * predicted speed-up (the 16-bit step over the low-precision one), 100 (predicted / measured
 * - 1). */
static void report_precision(FILE *out, const char *hardware, const struct result *res, int n)
{
    int shown = 0;
    for (int k = 0; k < n; k++) { /* each low precision once, at its first pair */
        const struct result *low = &res[k];
        int first = !low->sixteen_bits && strcmp(low->hardware, hardware) == 0;
        for (int e = 0; e < k && first; e++)
            first = res[e].sixteen_bits || strcmp(res[e].hardware, hardware) ||
                    strcmp(res[e].precision, low->precision);
        if (!first)
            continue;
        struct tally pairs = {0};
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                const struct result *a = &res[i], *b = &res[j]; /* a in 16 bits, b low */
                if (!a->sixteen_bits || strcmp(a->hardware, hardware) ||
                    strcmp(b->hardware, hardware) || strcmp(b->precision, low->precision) ||
                    strcmp(a->row->set, b->row->set) || strcmp(a->shape, b->shape))
                    continue;
                double m = a->row->measured_s / b->row->measured_s;
                tally_add(&pairs, (a->predicted_s / b->predicted_s) / m - 1.0);
            }
        if (!pairs.n)
            continue;
        if (!shown++)
            say(out,
                "its hardware in 16 bits against fp8 / fp4 (runs of one job, one set, on "
                "%s; the speed-up of the low precision):",
                hardware);
        pair_line(out, low->precision, &pairs);
    }
    if (!shown)
        say(out,
            "its hardware in 16 bits against fp8 / fp4: no two runs of one job in one "
            "set on %s, one in 16 bits and one in fp8 or fp4",
            hardware);
}

/* The scenario's model (its file's bytes and its name), GPU and hardware file's name. */
struct identity {
    char *model_bytes;
    size_t model_len;
    char model[64], gpu[64], hardware[64];
};

static enum sim_status scenario_identity(const struct scenario *scn, struct identity *id,
                                         struct sim_error *err)
{
    enum sim_status st = xml_read_file(scn->model_path, &id->model_bytes, &id->model_len, err);
    if (st != SIM_OK)
        return st;
    /* the model's own name, as run's layout line gives it: a copy of a shipped model under
     * another file name is that model, and its runs are listed under the name they ran as */
    struct model m;
    if ((st = model_load(&m, scn->model_path, err)) != SIM_OK)
        return st;
    snprintf(id->model, sizeof id->model, "%s", m.name);
    struct hardware hw;
    if ((st = hw_load(&hw, scn->hardware_path, err)) == SIM_OK) {
        snprintf(id->gpu, sizeof id->gpu, "%s", hw.gpu.name);
        snprintf(id->hardware, sizeof id->hardware, "%s", hw.name);
        hw_release(&hw);
    }
    return st;
}

/* Does the row simulate the same model -- a file of the same bytes (the installed copy of a
 * shipped model matches its source)? */
static int same_model(const struct run_row *row, const struct identity *id)
{
    struct sim_error ignored;
    char *bytes = NULL;
    size_t len = 0;
    err_clear(&ignored);
    int same = xml_read_file(row->scn.model_path, &bytes, &len, &ignored) == SIM_OK &&
               len == id->model_len && memcmp(bytes, id->model_bytes, len) == 0;
    mem_free(bytes);
    return same;
}

/* The scenario's own kinds: it is simulated once to resolve its layout.  A scenario that does
 * not run (a --set model= whose layers its layout cannot split) still gets its model's runs:
 * *failure then says what stopped it, *kinds is 0, and the command exits as run would. */
static void scenario_kinds(const struct scenario *scn, unsigned *kinds, struct sim_error *failure)
{
    struct scenario copy = *scn;
    struct step_output so;
    *kinds = 0;
    if (step_run(&copy, &so, failure) != SIM_OK)
        return;
    *kinds = so.rep.patterns;
    step_release(&so);
}

/* Simulate every row of the tables (res[i] for rows[i]); match[i]: the row is the scenario's
 * model.  Returns whether any is. */
static enum sim_status simulate_all(const struct run_row *rows, int nrows,
                                    const struct identity *id, struct result *res, int *match,
                                    int *any, struct sim_error *err)
{
    *any = 0;
    for (int i = 0; i < nrows; i++) {
        enum sim_status st = simulate(&rows[i], id->gpu, &res[i], err);
        if (st != SIM_OK)
            return st;
        *any |= match[i] = same_model(&rows[i], id);
    }
    return SIM_OK;
}

static enum sim_status compare(const struct scenario *scn, const char *dir, const char *root,
                               FILE *out, struct sim_error *err)
{
    struct identity id = {0};
    unsigned kinds = 0;
    char why[1024] = "";
    struct sim_error failure;
    err_clear(&failure);
    enum sim_status st = scenario_identity(scn, &id, err);
    if (st == SIM_OK)
        scenario_kinds(scn, &kinds, &failure);
    if (failure.status != SIM_OK)
        err_format(&failure, why, sizeof why);
    struct run_row *rows = st == SIM_OK ? mem_calloc(MAX_ROWS, sizeof *rows) : NULL;
    struct result *res = rows ? mem_calloc(MAX_ROWS, sizeof *res) : NULL;
    struct result *picked = res ? mem_calloc(MAX_ROWS, sizeof *picked) : NULL;
    int *match = picked ? mem_calloc(MAX_ROWS, sizeof *match) : NULL;
    if (st == SIM_OK && !match)
        st = err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
    int nrows = 0, n = 0, any = 0;
    if (st == SIM_OK)
        st = read_tables(dir, root, rows, &nrows, err);
    if (st == SIM_OK)
        st = simulate_all(rows, nrows, &id, res, match, &any, err);
    if (st == SIM_OK) {
        /* the model's runs, else the other models' on the scenario's GPU */
        for (int i = 0; i < nrows; i++)
            if (any ? match[i] : res[i].same_gpu)
                picked[n++] = res[i];
        say(out,
            any ? "published runs of %s (the scenario's model), from %s:"
                : "no published run of %s in %s; the runs on the scenario's GPU:",
            id.model, dir);
        report(out, id.model, id.gpu, any, picked, n);
        if (why[0])
            say(out,
                "runs of the scenario's kinds: not known, the scenario does not run "
                "(%s)",
                why);
        else
            report_kinds(out, kinds, id.gpu, res, nrows);
        report_pairs(out, id.hardware, res, nrows);
        report_precision(out, id.hardware, res, nrows);
        int oom = 0;
        for (int i = 0; i < n; i++)
            oom |= picked[i].oom;
        say(out, "error: 100 (predicted - measured) / measured; MAE: the mean of |error|; "
                 "bias: the mean error, < 0: stepsim predicted the step too fast (in the "
                 "hardware and precision lines, > 0: it promised more speed-up than was "
                 "measured)");
        if (oom)
            say(out, "OOM: stepsim predicts that run over its GPUs' usable memory, though it "
                     "ran");
        say(out, "the sets and their sources are described in the tables folder's README.md "
                 "(scenarios/validation/README.md in the source tree)");
    }
    mem_free(match);
    mem_free(picked);
    mem_free(res);
    mem_free(rows);
    mem_free(id.model_bytes);
    if (st == SIM_OK && failure.status != SIM_OK) /* printed above; the exit status says it */
        st = err_set(err, failure.status, failure.file[0] ? failure.file : NULL, failure.line,
                     "%s", failure.msg);
    return st;
}

int published_main(int argc, char **argv, FILE *out, FILE *errout)
{
    const char *path = NULL, *tables = NULL, *root = NULL;
    struct cli_sets sets = {.n = 0};
    struct cli_once once = {.n = 0};
    const char *hint = "stepsim published --help";
    for (int i = 2; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(published_usage, out);
            fputs(published_help, out);
            return 0;
        } else if ((v = cli_opt_value(argc, argv, &i, "--set"))) {
            if (cli_spaced_value(errout, hint, "--set", v, argc, argv, i) != 0 ||
                cli_add_set(&sets, &once, v, errout, "stepsim published") != 0)
                return 2;
        } else if ((v = cli_opt_value(argc, argv, &i, "--tables"))) {
            if (!*v)
                return cli_bad_usage(errout, hint, "--tables needs DIR");
            if (cli_once(&once, NULL, "--tables", v, errout, hint) != 0)
                return 2;
            tables = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--root"))) {
            if (!*v)
                return cli_bad_usage(errout, hint, "--root needs DIR");
            if (cli_once(&once, NULL, "--root", v, errout, hint) != 0)
                return 2;
            root = v;
        } else if (argv[i][0] == '-') {
            return cli_bad_usage(errout, hint, "unknown option '%s'", argv[i]);
        } else if (path) {
            return cli_bad_usage(errout, hint, "unexpected argument '%s' (one scenario at a time)",
                                 argv[i]);
        } else {
            path = argv[i];
        }
    }
    if (!path)
        return cli_bad_usage(errout, "stepsim published --help", "published needs a scenario");
    struct sim_error err;
    err_clear(&err);
    struct scenario scn;
    enum sim_status st = scn_load_with_sets(&scn, path, sets.v, sets.n, &err);
    if (st == SIM_OK && !scn_is_modelled(&scn))
        st = err_set(&err, SIM_EINPUT, path, 0,
                     "published compares a modelled scenario (model= and hardware=)");
    char dir[PATH_MAX];
    if (st == SIM_OK && tables_dir(tables, dir, sizeof dir) != 0)
        st = err_set(&err, SIM_EINPUT, NULL, 0,
                     "no scenarios/validation folder where the library is (give --tables DIR)");
    if (st == SIM_OK)
        st = compare(&scn, dir, root, out, &err);
    return st == SIM_OK ? 0 : cli_fail(errout, &err);
}
