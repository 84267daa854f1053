/* sweep: `stepsim sweep` -- run one scenario over the cartesian product of --vary lists.
 *
 * The base scenario is loaded once (the file, then --set); each config is a copy of it with the
 * varied values set on top (their errors cite "--vary"), run through step_run -- or
 * step_run_preloaded sharing one read-only model and hardware when the scenario is modelled and
 * neither `model` nor `hardware` is varied -- on par_run's threads.
 *
 * Invariants: job i writes only rows[i] and owns its scenario copy and step_output; rows are
 * written in config order with fixed number formats, so the CSV is byte-identical whatever -j
 * is.  The result columns are plan's too (columns.h).  A config that is invalid or fails is a
 * row with status `error` and its one-line reason, one that runs but needs more than the usable
 * HBM a row with status `oom` and its figures; neither stops the sweep (exit 0, or 2 for `oom`
 * with --fail-on-oom, after the outputs are written).  Bad options or a bad base scenario:
 * exit 2; output failures: exit 1.
 *
 * --plot FILE.png|svg runs gnuplot on the embedded plots/sweep.gp: throughput (tokens/s per GPU
 * for modelled scenarios, else tokens/s, else samples/s) and bubble ratio against the LAST
 * varied key, one line per combination of the other keys, configs out of memory and failed
 * ones marked; for modelled scenarios also a stacked-bar step-time breakdown per config (in %
 * of its step time) in FILE-breakdown.png|svg.  The charts are drawn in sweep_chart.c; this
 * file parses the axes, runs the configs and writes the CSV, the report and the summary. */
#include "sweep.h"

#include "plot.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "cliutil.h"
#include "columns.h"
#include "derive.h"
#include "config.h"
#include "embedded.h"
#include "hardware.h"
#include "model.h"
#include "outfile.h"
#include "parallel.h"
#include "report_html.h"
#include "scenario.h"
#include "step.h"
#include "sweep_internal.h"

const char sweep_usage[] =
    "usage: stepsim sweep SCENARIO.xml --vary KEY=LIST [--vary KEY=LIST]...\n"
    "                    [--set KEY=VALUE]... [-j N] [--out FILE.csv] [--plot FILE.png|svg]\n"
    "                    [--report FILE.html] [--fail-on-oom]\n";

static const char sweep_help[] =
    "\n"
    "Runs the scenario once per combination of the --vary values and writes one CSV row per\n"
    "config (to --out, or stdout).\n"
    "\n"
    "  --vary KEY=LIST  KEY is any scenario key or hardware knob hw.NAME ('stepsim keys');\n"
    "                   LIST is values separated by commas (1,2,4,8 or 1f1b,gpipe or\n"
    "                   25GB/s,50GB/s), a geometric range 8:128:x2\n"
    "                   (8,16,...,128) or an arithmetic range 1:16:+1; ranges are integers,\n"
    "                   ascending, and stop at the last value <= the end\n"
    "  --vary K1,K2=TUPLES  a linked axis: keys varied together, tuples separated by commas,\n"
    "                   one field per key separated by ':', e.g.\n"
    "                   --vary schedule,vp=1f1b:1,interleaved:4,zb-v:2 (no ranges)\n"
    "  --set KEY=VALUE  override a scenario value for every config\n"
    "  -j N             threads (default and 0: the CPUs); the output does not depend on N\n"
    "  --out FILE.csv   write the CSV there (atomically) instead of stdout\n"
    "  --plot FILE      gnuplot chart (.png or .svg): throughput and bubble ratio vs the last\n"
    "                   varied key, one line per value of the others (hollow markers: out of\n"
    "                   memory; crosses: failed); modelled scenarios also get\n"
    "                   FILE-breakdown.png|svg, each config's step time by part, in %\n"
    "  --report FILE.html  the CSV as one self-contained HTML page: a table sorted by a\n"
    "                   click on a column header (no gnuplot, loads nothing)\n"
    "  --fail-on-oom    exit 2 (after writing the outputs) when a config needs more than the\n"
    "                   usable HBM, or offloads more than the host's memory (status oom)\n"
    "\n"
    "What is varied wins over what the file only implied (--vary and --set rank alike, above\n"
    "the file): varying microbatches moves the global batch (microbatches x micro-batch x dp)\n"
    "unless global-batch is on the command line too (then they must agree); varying pp, tp,\n"
    "cp, gpus or micro-batch keeps the file's global batch and microbatches follows; vp follows\n"
    "a varied schedule unless given with it (1; 2 for zb-v, dualpipe, dualpipe-v; interleaved:\n"
    "the least vp >= 2 that splits the layers); the ends of an uneven split follow a varied\n"
    "pp or vp (first-stage-layers / last-stage-layers; where no ends lighter than the middle\n"
    "exist, a balanced pipeline-layout under 1f1b and interleaved).  The derived column names\n"
    "what followed.\n"
    "\n"
    "Rows come in row-major order: the first --vary varies slowest.  Columns: the varied keys,\n"
    "then (the same names as plan's CSV; from tokens_per_s_per_gpu on, modelled scenarios\n"
    "only):\n";

static const char sweep_help_tail[] =
    "  derived               keys not given but computed, separated by spaces\n"
    "  error                 why a config failed\n"
    "\n"
    "When configs fail (or do not fit in memory), one line on stderr counts them.\n"
    "\n"
    "exit status: 0 the sweep ran (even if some configs failed), 1 output failure, 2 bad input\n"
    "(and with --fail-on-oom, a config out of memory)\n";

/* ---- axes: parsing KEY=LIST and numbering the product ---- */

void sweep_axis_release(struct sweep_axis *ax)
{
    if (!ax)
        return;
    mem_free(ax->values);
    mem_free(ax->fields);
    mem_free(ax->buf);
    memset(ax, 0, sizeof *ax);
}

/* A whole decimal number in [s, end); 0, or -1 when it is not one. */
static int parse_ll(const char *s, const char *end, long long *out)
{
    if (s == end || end - s > 18)
        return -1;
    long long v = 0;
    for (const char *c = s; c < end; c++) {
        if (!isdigit((unsigned char)*c))
            return -1;
        v = v * 10 + (*c - '0');
    }
    *out = v;
    return 0;
}

/* Room for n values of ax->nkeys fields and `bytes` of text. */
static enum sim_status axis_alloc(struct sweep_axis *ax, size_t n, size_t bytes,
                                  struct sim_error *err)
{
    ax->values = mem_calloc(n, sizeof *ax->values);
    ax->fields = mem_calloc(n * (size_t)ax->nkeys, sizeof *ax->fields);
    ax->buf = mem_calloc(bytes, 1);
    if (!ax->values || !ax->fields || !ax->buf) {
        sweep_axis_release(ax);
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
    }
    return SIM_OK;
}

/* "A:B:xK" (geometric) or "A:B:+K" (arithmetic): integers, ascending, stopping at the last
 * value <= B. */
static enum sim_status parse_range(struct sweep_axis *ax, const char *arg, const char *list,
                                   struct sim_error *err)
{
    const char *c1 = strchr(list, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    long long a, b, k;
    if (!c1 || !c2 || strchr(c2 + 1, ':') || (c2[1] != 'x' && c2[1] != '+') ||
        parse_ll(list, c1, &a) != 0 || parse_ll(c1 + 1, c2, &b) != 0 ||
        parse_ll(c2 + 2, c2 + 2 + strlen(c2 + 2), &k) != 0)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "--vary %s: bad range (expected START:END:xFACTOR or START:END:+STEP with "
                       "whole numbers)",
                       arg);
    int geometric = c2[1] == 'x';
    /* No scenario value is above INT_MAX (the seed's range ends there too); with every number
     * at most that, no value or step below can overflow a long long. */
    if (a > INT_MAX || b > INT_MAX || k > INT_MAX)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "--vary %s: numbers above %d are not scenario values", arg, INT_MAX);
    if (geometric && k < 2)
        return err_set(err, SIM_EINPUT, NULL, 0, "--vary %s: the factor must be at least 2", arg);
    if (geometric && a < 1)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "--vary %s: a geometric range must start at 1 "
                       "or more",
                       arg);
    if (!geometric && k < 1)
        return err_set(err, SIM_EINPUT, NULL, 0, "--vary %s: the step must be at least 1", arg);
    if (b < a)
        return err_set(err, SIM_EINPUT, NULL, 0, "--vary %s: empty range (END below START)", arg);
    size_t n = 0;
    for (long long v = a; v <= b; v = geometric ? v * k : v + k) {
        if (++n > SWEEP_MAX_CONFIGS)
            return err_set(err, SIM_EINPUT, NULL, 0, "--vary %s: more than %d values", arg,
                           SWEEP_MAX_CONFIGS);
        if (geometric && v > LLONG_MAX / k)
            break;
    }
    enum sim_status st = axis_alloc(ax, n, n * 21, err);
    if (st != SIM_OK)
        return st;
    char *at = ax->buf;
    long long v = a;
    for (size_t i = 0; i < n; i++, v = geometric ? v * k : v + k) {
        ax->values[i] = ax->fields[i] = at;
        at += snprintf(at, 21, "%lld", v) + 1;
    }
    ax->nvalues = (int)n;
    ax->geometric = geometric;
    return SIM_OK;
}

/* Split `text` in place at each `sep` into at most `max` pieces, each without the blanks around
 * it ("pp=1, 2, 4" as typed: a number read past them, but a name did not -- ' interleaved' was
 * an unknown schedule -- and the CSV and chart carried ' 2'); the count, or -1 when there are
 * more pieces than `max` or one is empty. */
static int split(char *text, char sep, char **pieces, size_t max)
{
    size_t n = 0;
    for (char *start = text;;) {
        char *end = strchr(start, sep);
        if (end)
            *end = '\0';
        while (*start == ' ' || *start == '\t')
            start++;
        for (size_t len = strlen(start); len && (start[len - 1] == ' ' || start[len - 1] == '\t');)
            start[--len] = '\0';
        if (!*start || n == max)
            return -1;
        pieces[n++] = start;
        if (!end)
            return (int)n;
        start = end + 1;
    }
}

/* "v1,v2,..." (one key) or "a1:b1,a2:b2,..." (a linked axis of nkeys keys): texts, none
 * empty.  A linked axis keeps the text twice: whole tuples (labels) and their fields. */
static enum sim_status parse_list(struct sweep_axis *ax, const char *arg, const char *list,
                                  struct sim_error *err)
{
    size_t n = 1, len = strlen(list);
    for (const char *c = list; *c; c++)
        n += *c == ',';
    if (n > SWEEP_MAX_CONFIGS)
        return err_set(err, SIM_EINPUT, NULL, 0, "--vary %s: more than %d values", arg,
                       SWEEP_MAX_CONFIGS);
    enum sim_status st = axis_alloc(ax, n, 2 * (len + 1), err);
    if (st != SIM_OK)
        return st;
    char *whole = ax->buf, *parts = ax->buf + len + 1;
    memcpy(whole, list, len + 1);
    memcpy(parts, list, len + 1);
    if (split(whole, ',', ax->values, n) != (int)n) {
        sweep_axis_release(ax);
        return err_set(err, SIM_EINPUT, NULL, 0, "--vary %s: empty value in the list", arg);
    }
    if (ax->nkeys == 1) {
        memcpy(ax->fields, ax->values, n * sizeof *ax->values);
        ax->nvalues = (int)n;
        return SIM_OK;
    }
    char **tuples = mem_calloc(n, sizeof *tuples);
    if (!tuples) {
        sweep_axis_release(ax);
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
    }
    split(parts, ',', tuples, n);
    size_t nk = (size_t)ax->nkeys;
    for (size_t i = 0; i < n && st == SIM_OK; i++)
        if (split(tuples[i], ':', ax->fields + i * nk, nk) != ax->nkeys)
            st = err_set(err, SIM_EINPUT, NULL, 0,
                         "--vary %s: '%s' is not %d values separated by ':' (one per key of %s)",
                         arg, ax->values[i], ax->nkeys, ax->name);
    mem_free(tuples);
    if (st != SIM_OK) {
        sweep_axis_release(ax);
        return st;
    }
    ax->nvalues = (int)n;
    return SIM_OK;
}

/* A --vary key: its scenario key, SWEEP_HW_KNOB for a known hw.NAME, or below that with
 * `err` set. */
static int axis_key_find(const char *key, struct sim_error *err)
{
    if (strncmp(key, "hw.", 3) == 0) {
        if (hw_knob_known(key + 3))
            return SWEEP_HW_KNOB;
        char known[HW_KNOB_LIST_MAX];
        hw_knob_list(known, sizeof known);
        err_set(err, SIM_EINPUT, NULL, 0, "--vary: unknown hardware knob '%s' (known: hw. + %s)",
                key, known);
        return SWEEP_HW_KNOB - 1;
    }
    int k = scn_key_find(key);
    if (k < 0) { /* as --set says it: where the keys are listed, too */
        scn_unknown_key(key, "--vary", err);
        return SWEEP_HW_KNOB - 1;
    }
    return k;
}

/* "KEY" or "KEY1,KEY2,...": known keys, none twice. */
static enum sim_status parse_keys(struct sweep_axis *ax, const char *arg, size_t klen,
                                  struct sim_error *err)
{
    if (klen >= sizeof ax->name)
        return err_set(err, SIM_EINPUT, NULL, 0, "--vary: key '%.20s...' too long", arg);
    memcpy(ax->name, arg, klen);
    ax->name[klen] = '\0';
    char names[sizeof ax->name], *key[SWEEP_MAX_LINKED];
    memcpy(names, ax->name, klen + 1);
    int n = split(names, ',', key, SWEEP_MAX_LINKED);
    if (n < 0)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "--vary %s: expected KEY=LIST or up to %d keys KEY1,KEY2=TUPLES", arg,
                       SWEEP_MAX_LINKED);
    for (int j = 0; j < n; j++) {
        int k = axis_key_find(key[j], err);
        if (k < SWEEP_HW_KNOB)
            return SIM_EINPUT;
        for (int i = 0; i < j; i++)
            if (strcmp(ax->key_names[i], key[j]) == 0)
                return err_set(err, SIM_EINPUT, NULL, 0, "--vary %s: key %s given twice", arg,
                               key[j]);
        ax->keys[j] = k;
        snprintf(ax->key_names[j], sizeof ax->key_names[j], "%s", key[j]);
    }
    ax->nkeys = n;
    return SIM_OK;
}

/* One value of an axis as its config reads it: per key, the number the key stores where it
 * stores one (scn_value_number, hw_knob_number), else the text. */
struct axis_value {
    int index; /* in the list as given */
    int nkeys;
    const char *text[SWEEP_MAX_LINKED];
    double num[SWEEP_MAX_LINKED];
    int is_num[SWEEP_MAX_LINKED];
};

static void read_value(const struct sweep_axis *ax, int i, struct axis_value *av)
{
    av->index = i;
    av->nkeys = ax->nkeys;
    for (int j = 0; j < ax->nkeys; j++) {
        const char *f = ax->fields[i * ax->nkeys + j];
        av->text[j] = f;
        av->is_num[j] = ax->keys[j] == SWEEP_HW_KNOB
                            ? hw_knob_number(ax->key_names[j] + 3, f, &av->num[j])
                            : scn_value_number((enum scn_key)ax->keys[j], f, &av->num[j]);
    }
}

/* Values in the order of what they set (numbers before texts), ties in the order given. */
static int setting_order(const void *pa, const void *pb)
{
    const struct axis_value *a = pa, *b = pb;
    for (int j = 0; j < a->nkeys; j++) {
        int c = a->is_num[j] && b->is_num[j]   ? (a->num[j] > b->num[j]) - (a->num[j] < b->num[j])
                : a->is_num[j] != b->is_num[j] ? b->is_num[j] - a->is_num[j]
                                               : strcmp(a->text[j], b->text[j]);
        if (c)
            return c;
    }
    return (a->index > b->index) - (a->index < b->index);
}

/* Do two values set the same?  Numbers a rounding apart count as one: 1.1GB/s and 1100MB/s
 * are products of different decimal fractions. */
static int same_setting(const struct axis_value *a, const struct axis_value *b)
{
    for (int j = 0; j < a->nkeys; j++)
        if (a->is_num[j] != b->is_num[j] ||
            (a->is_num[j] ? fabs(a->num[j] - b->num[j]) > 1e-12 * fabs(a->num[j])
                          : strcmp(a->text[j], b->text[j]) != 0))
            return 0;
    return 1;
}

/* A value listed twice would run its configs twice, and give each line a repeated point: say
 * which instead -- also when the two spellings differ but set the same (400Gb/s and 50GB/s,
 * 5% and 0.05: one config, and one x on the chart).  (A range never repeats.)  Sorted, equal
 * settings are neighbours.  SIM_EFAIL without memory to sort. */
static enum sim_status check_repeats(const struct sweep_axis *ax, const char *arg,
                                     struct sim_error *err)
{
    struct axis_value *sorted = mem_calloc((size_t)ax->nvalues, sizeof *sorted);
    if (!sorted)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory (%d values)", ax->nvalues);
    for (int i = 0; i < ax->nvalues; i++)
        read_value(ax, i, &sorted[i]);
    qsort(sorted, (size_t)ax->nvalues, sizeof *sorted, setting_order);
    enum sim_status st = SIM_OK;
    for (int i = 1; i < ax->nvalues && st == SIM_OK; i++) {
        if (!same_setting(&sorted[i - 1], &sorted[i]))
            continue;
        const char *first = ax->values[sorted[i - 1].index], *again = ax->values[sorted[i].index];
        if (strcmp(first, again) == 0)
            st = err_set(err, SIM_EINPUT, NULL, 0, "--vary %.200s: '%.80s' is listed twice", arg,
                         again);
        else
            st = err_set(err, SIM_EINPUT, NULL, 0,
                         "--vary %.200s: '%.80s' and '%.80s' are one value, listed twice", arg,
                         first, again);
    }
    mem_free(sorted);
    return st;
}

enum sim_status sweep_axis_parse(struct sweep_axis *ax, const char *arg, struct sim_error *err)
{
    memset(ax, 0, sizeof *ax);
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return err_set(err, SIM_EINPUT, NULL, 0, "--vary '%s': expected KEY=LIST", arg);
    enum sim_status st = parse_keys(ax, arg, (size_t)(eq - arg), err);
    if (st != SIM_OK) {
        memset(ax, 0, sizeof *ax);
        return st;
    }
    const char *list = eq + 1;
    if (!*list) {
        memset(ax, 0, sizeof *ax);
        return err_set(err, SIM_EINPUT, NULL, 0, "--vary %s: empty list", arg);
    }
    /* Colons: a range for one key, the fields of tuples for a linked axis. */
    if (ax->nkeys == 1 && strchr(list, ':'))
        st = parse_range(ax, arg, list, err);
    else if ((st = parse_list(ax, arg, list, err)) == SIM_OK &&
             (st = check_repeats(ax, arg, err)) != SIM_OK)
        sweep_axis_release(ax);
    if (st != SIM_OK)
        memset(ax, 0, sizeof *ax);
    return st;
}

enum sim_status sweep_count(const struct sweep_axis *axes, int naxes, size_t *count,
                            struct sim_error *err)
{
    /* The whole product, so the message says how far over the cap the lists are (a double:
     * 16 axes of 100000 values overflow a size_t). */
    double all = 1;
    char sizes[16 * SWEEP_MAX_AXES] = "";
    for (int a = 0, len = 0; a < naxes; a++) {
        all *= axes[a].nvalues;
        if (len >= 0 && (size_t)len < sizeof sizes)
            len += snprintf(sizes + len, sizeof sizes - (size_t)len, "%s%d", a ? " x " : "",
                            axes[a].nvalues);
    }
    if (all > SWEEP_MAX_CONFIGS)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "the --vary lists give %.15g configs (%s), more than %d; sweep in parts",
                       all, sizes, SWEEP_MAX_CONFIGS);
    *count = (size_t)all;
    return SIM_OK;
}

void sweep_config_index(const struct sweep_axis *axes, int naxes, size_t config, int *idx)
{
    for (int a = naxes - 1; a >= 0; a--) { /* the last axis varies fastest */
        idx[a] = (int)(config % (size_t)axes[a].nvalues);
        config /= (size_t)axes[a].nvalues;
    }
}

/* ---- running the configs ---- */

static void fill_row(struct sweep_row *row, const struct step_output *so)
{
    row->ok = 1;
    row->modelled = so->modelled;
    row->tp_spans_nodes = so->rep.tp_spans_nodes;
    row->seq_past_max = so->rep.model_max_seq > 0;
    col_row_fill(&row->c, &so->rep);
}

static void set_row_error(struct sweep_row *row, const struct sim_error *err)
{
    char buf[1200];
    err_format(err, buf, sizeof buf);
    size_t n = strlen(buf);
    row->ok = 0;
    row->status = err->status;
    col_row_init(&row->c, COL_ERROR);
    row->error = mem_calloc(n + 1, 1);
    if (row->error)
        memcpy(row->error, buf, n + 1);
}

static void sweep_job(size_t i, void *user)
{
    struct sweep *sw = user;
    struct sweep_row *row = &sw->rows[i];
    struct scenario scn = sw->base; /* plain data: each job its own copy */
    struct sim_error err;
    err_clear(&err);
    int idx[SWEEP_MAX_AXES];
    sweep_config_index(sw->axes, sw->naxes, i, idx);
    enum sim_status st = SIM_OK;
    for (int a = 0; a < sw->naxes && st == SIM_OK; a++) {
        const struct sweep_axis *ax = &sw->axes[a];
        for (int j = 0; j < ax->nkeys && st == SIM_OK; j++)
            st = scn_set_option(&scn, "--vary", ax->key_names[j],
                                ax->fields[idx[a] * ax->nkeys + j], &err);
    }
    struct step_output so;
    if (st == SIM_OK)
        st = sw->model && sw->hw ? step_run_preloaded(&scn, sw->model, sw->hw, &so, &err)
                                 : step_run(&scn, &so, &err);
    if (st != SIM_OK) {
        set_row_error(row, &err);
        return;
    }
    fill_row(row, &so);
    derive_list(&scn, " ", row->derived, sizeof row->derived);
    step_release(&so);
}

/* A progress bar on a terminal: "[#####.....] 50/100 configs, about 12 s left", then "100/100
 * configs in 24.1 s".  The estimate is wall time (never the simulated clock): the rate so far,
 * once a second has gone by, as configs differ in cost (pp=16 runs longer than pp=2). */
struct sweep_progress {
    FILE *errout;
    int finished;
    struct timespec start; /* CLOCK_MONOTONIC when the configs started */
};

static void show_progress(size_t done, size_t total, void *user)
{
    struct sweep_progress *p = user;
    if (p->finished)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double spent_s =
        (double)(now.tv_sec - p->start.tv_sec) + 1e-9 * (double)(now.tv_nsec - p->start.tv_nsec);
    const int width = 40;
    int filled = total ? (int)(width * done / total) : width;
    fprintf(p->errout, "\r[");
    for (int k = 0; k < width; k++)
        fputc(k < filled ? '#' : '.', p->errout);
    fprintf(p->errout, "] %zu/%zu configs", done, total);
    if (done == total) {
        fprintf(p->errout, " in %.1f s%20s\n", spent_s, "");
        p->finished = 1;
    } else if (done > 0 && spent_s >= 1) {
        double left_s = spent_s * (double)(total - done) / (double)done;
        fprintf(p->errout, ", about %.0f s left   ", ceil(left_s));
    }
    fflush(p->errout);
}

/* ---- the CSV ---- */

static int write_csv(FILE *out, const struct sweep *sw)
{
    for (int a = 0; a < sw->naxes; a++)
        for (int j = 0; j < sw->axes[a].nkeys; j++)
            fprintf(out, "%s%s", a + j ? "," : "", sw->axes[a].key_names[j]);
    col_write_header(out, sw->modelled);
    fputs(",derived,error\n", out);
    int idx[SWEEP_MAX_AXES];
    for (size_t i = 0; i < sw->n; i++) {
        const struct sweep_row *row = &sw->rows[i];
        sweep_config_index(sw->axes, sw->naxes, i, idx);
        for (int a = 0; a < sw->naxes; a++) {
            const struct sweep_axis *ax = &sw->axes[a];
            for (int j = 0; j < ax->nkeys; j++) {
                if (a + j)
                    fputc(',', out);
                col_write_text(out, ax->fields[idx[a] * ax->nkeys + j], 0);
            }
        }
        col_write_row(out, &row->c, sw->modelled);
        fputc(',', out);
        col_write_text(out, row->derived, 0); /* empty for a failed config: none known */
        fputc(',', out);
        if (!row->ok)
            col_write_text(out, row->error ? row->error : "out of memory", 1);
        fputc('\n', out);
    }
    return ferror(out) ? -1 : 0;
}

/* Does one of the first n axes vary the key named `name`? */
int sweep_axes_vary(const struct sweep_axis *axes, int n, const char *name)
{
    for (int a = 0; a < n; a++)
        for (int j = 0; j < axes[a].nkeys; j++)
            if (strcmp(axes[a].key_names[j], name) == 0)
                return 1;
    return 0;
}

/* Does an axis vary `key`? */
int sweep_varies_key(const struct sweep *sw, enum scn_key key)
{
    return sweep_axes_vary(sw->axes, sw->naxes, scn_key_name(key));
}

/* What every config shares as it ran: "MODEL on HARDWARE · N GPUs" after --set (the
 * scenario's name may say otherwise: --set hardware=gb200-nvl72 does not rename it), leaving
 * out what an axis varies: "MODEL · N GPUs" when the hardware varies, "HARDWARE · N GPUs" when
 * the model does.  Empty when the scenario gives explicit costs.  The charts' second title
 * line and the report page's. */
void sweep_as_run(const struct sweep *sw, char *buf, size_t len)
{
    buf[0] = '\0';
    if (!sw->modelled)
        return;
    const char *model = sw->model ? sw->model->name : "", *hw = sw->hw ? sw->hw->name : "";
    int n = snprintf(buf, len, "%s%s%s", model, model[0] && hw[0] ? " on " : "", hw);
    if (n >= 0 && (size_t)n < len && sw->base.gpus > 0 && !sweep_varies_key(sw, SCN_GPUS))
        snprintf(buf + n, len - (size_t)n, "%s%d GPUs", n > 0 ? " · " : "", sw->base.gpus);
}

/* The subject of the charts' titles and the page's heading: the scenario's name, unless an
 * axis varies the model or the hardware, which the name may claim one of ("Llama-3.1-70B on
 * 512 H100" over a dgx-h200 line); then what varied ("hardware varied"), the as-run line
 * under it saying what did not. */
void sweep_subject(const struct sweep *sw, char *buf, size_t len)
{
    int model = sweep_varies_key(sw, SCN_MODEL), hw = sweep_varies_key(sw, SCN_HARDWARE);
    if (model || hw)
        snprintf(buf, len, "%s varied", !hw ? "model" : model ? "model and hardware" : "hardware");
    else
        snprintf(buf, len, "%s", sw->base.name);
}

/* "pp=2 micro-batch=4" for config i, with the keys of axes [from, to). */
void sweep_config_label(char *buf, size_t len, const struct sweep *sw, size_t i, int from,
                        int to, const char *sep)
{
    int idx[SWEEP_MAX_AXES];
    sweep_config_index(sw->axes, sw->naxes, i, idx);
    size_t n = 0;
    buf[0] = '\0';
    for (int a = from; a < to && n < len; a++) {
        const struct sweep_axis *ax = &sw->axes[a];
        for (int j = 0; j < ax->nkeys && n < len; j++)
            n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", a > from || j ? sep : "",
                                  ax->key_names[j],
                                  ax->fields[idx[a] * ax->nkeys + j]);
    }
    char clean[256];
    plot_sanitize(clean, sizeof clean, buf);
    snprintf(buf, len, "%s", clean);
}

/* ---- the command ---- */

/* When every config failed, the first one's error: a user who swept pp on a scenario whose
 * gpus only some pp divide learns why (and what fits) without opening the CSV. */
static void write_first_error(FILE *errout, const struct sweep *sw)
{
    char label[256];
    sweep_config_label(label, sizeof label, sw, 0, 0, sw->naxes, " ");
    fprintf(errout, "stepsim: sweep: the first, %s: %s\n", label,
            sw->rows[0].error ? sw->rows[0].error : "(no message)");
}

/* One line on stderr when configs failed: "stepsim: sweep: 3 of 9 configs failed (2 rule
 * errors, 1 out of memory)" -- a config that ran but needs more memory than the GPU may use
 * counts as failed here (its CSV row has status oom). */
static void write_failure_summary(FILE *errout, const struct sweep *sw, const char *plot)
{
    size_t rule = 0, sim = 0, oom = 0;
    for (size_t i = 0; i < sw->n; i++) {
        const struct sweep_row *row = &sw->rows[i];
        rule += !row->ok && row->status == SIM_EINPUT;
        sim += !row->ok && row->status != SIM_EINPUT;
        oom += sweep_row_oom(row);
    }
    if (rule + sim + oom == 0)
        return;
    if (plot && rule + sim == sw->n) {
        char note[PATH_MAX + 64];
        snprintf(note, sizeof note, "--plot %s: not drawn: every config failed", plot);
        cli_error_line(errout, note);
    }
    char buf[256];
    int n =
        snprintf(buf, sizeof buf, "sweep: %zu of %zu configs failed (", rule + sim + oom, sw->n);
    const size_t count[] = {rule, sim, oom};
    static const char *const what[] = {"rule error", "simulation error", "out of memory"};
    const char *sep = "";
    for (int k = 0; k < 3 && n > 0 && (size_t)n < sizeof buf; k++) {
        if (!count[k])
            continue;
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%zu %s%s", sep, count[k], what[k],
                      count[k] > 1 && k < 2 ? "s" : "");
        sep = ", ";
    }
    if (n > 0 && (size_t)n < sizeof buf)
        snprintf(buf + n, sizeof buf - (size_t)n, ")");
    cli_error_line(errout, buf);
    if (rule + sim == sw->n) /* nothing ran: the first reason here, not only in the CSV */
        write_first_error(errout, sw);
}

/* run's warnings, counted: configs that ran, but with their TP group spanning nodes (over the
 * network) or with seq longer than the model's max-seq (positions it never trained). */
static void write_warnings(FILE *errout, const struct sweep *sw)
{
    size_t spans = 0, past = 0;
    for (size_t i = 0; i < sw->n; i++) {
        spans += sw->rows[i].ok && sw->rows[i].tp_spans_nodes;
        past += sw->rows[i].ok && sw->rows[i].seq_past_max;
    }
    if (spans)
        fprintf(errout,
                "stepsim: warning: sweep: in %zu of %zu configs tp spans nodes: "
                "tensor-parallel traffic crosses the network\n",
                spans, sw->n);
    if (past && sw->model) /* one model file for every config: name it */
        fprintf(errout,
                "stepsim: warning: sweep: in %zu of %zu configs seq is longer than max-seq=%d "
                "in %s: positions past it were never trained\n",
                past, sw->n, sw->model->max_seq, sw->base.model_path);
    else if (past)
        fprintf(errout,
                "stepsim: warning: sweep: in %zu of %zu configs seq is longer than their "
                "model's max-seq: positions past it were never trained\n",
                past, sw->n);
}

struct sweep_opts {
    const char *scenario;
    struct cli_sets sets;
    struct cli_once once; /* options taking one value, and --set keys: each once */
    const char *varies[SWEEP_MAX_AXES];
    int nvaries;
    int jobs; /* 0 = the number of CPUs */
    const char *out, *plot, *report;
    int help;
    int fail_on_oom; /* a config over the usable HBM fails the sweep (exit 2) */
};

/* argv[*i] as an option naming one output file (--out FILE, --plot=FILE, ...): where its value
 * goes in o, with the value and the option's name; NULL when it is none of them.  The files are
 * checked together once the scenario is loaded (plan_outputs). */
static const char **output_option(struct sweep_opts *o, int argc, char **argv, int *i,
                                  const char **value, const char **name)
{
    const struct {
        const char *name;
        const char **slot;
    } outputs[] = {{"--out", &o->out}, {"--plot", &o->plot}, {"--report", &o->report}};
    for (size_t k = 0; k < sizeof outputs / sizeof *outputs; k++)
        if ((*value = cli_opt_value(argc, argv, i, outputs[k].name))) {
            *name = outputs[k].name;
            return outputs[k].slot;
        }
    return NULL;
}

static int parse_sweep(int argc, char **argv, struct sweep_opts *o, FILE *errout)
{
    const char *hint = "stepsim sweep --help";
    memset(o, 0, sizeof *o);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v, *opt, *name, **slot;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = 1;
            return 0;
        } else if ((v = cli_opt_value(argc, argv, &i, "--vary"))) {
            if (!*v)
                return cli_bad_usage(errout, "stepsim sweep --help", "%s needs KEY=LIST", "--vary");
            if (cli_spaced_value(errout, hint, "--vary", v, argc, argv, i) != 0)
                return 2;
            if (o->nvaries == SWEEP_MAX_AXES)
                return cli_bad_usage(errout, "stepsim sweep --help",
                                     "too many --vary options (max %d)", SWEEP_MAX_AXES);
            o->varies[o->nvaries++] = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--set"))) {
            if (cli_spaced_value(errout, hint, "--set", v, argc, argv, i) != 0 ||
                cli_add_set(&o->sets, &o->once, v, errout, "stepsim sweep") != 0)
                return 2;
        } else if ((v = cli_jobs_value(argc, argv, &i, &opt))) {
            if (cli_parse_jobs(v, &o->jobs) != 0)
                return cli_bad_usage(errout, "stepsim sweep --help", "%s '%s': " CLI_JOBS_EXPECTED,
                                     opt, v);
            if (cli_once(&o->once, "--jobs", opt, v, errout, hint) != 0)
                return 2;
        } else if ((slot = output_option(o, argc, argv, &i, &v, &name))) {
            if (!*v)
                return cli_bad_usage(errout, hint, "%s needs a file name", name);
            if (cli_once(&o->once, NULL, name, v, errout, hint) != 0)
                return 2;
            *slot = v;
        } else if (strcmp(a, "--fail-on-oom") == 0) {
            o->fail_on_oom = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            return cli_bad_usage(errout, "stepsim sweep --help", "unknown option '%s'", a);
        } else if (!o->scenario) {
            o->scenario = a;
        } else {
            return cli_bad_usage(errout, "stepsim sweep --help",
                                 "unexpected argument '%s' (one scenario per sweep)", a);
        }
    }
    if (!o->scenario)
        return cli_bad_usage(errout, "stepsim sweep --help", "%s needs a scenario file", "sweep");
    if (o->nvaries == 0)
        return cli_bad_usage(errout, "stepsim sweep --help",
                             "sweep needs at least one --vary KEY=LIST");
    return 0;
}

/* A value its key cannot take (pp=two, schedule=zbv) fails the whole sweep up front, as
 * `--set` fails `run`: a key's value is read alone, so it would fail every config it is in. */
static enum sim_status check_values_parse(const struct sweep *sw, struct sim_error *err)
{
    for (int a = 0; a < sw->naxes; a++) {
        const struct sweep_axis *ax = &sw->axes[a];
        for (int i = 0; i < ax->nvalues; i++)
            for (int j = 0; j < ax->nkeys; j++) {
                struct scenario trial = sw->base;
                enum sim_status st = scn_set_option(&trial, "--vary", ax->key_names[j],
                                                    ax->fields[i * ax->nkeys + j], err);
                if (st != SIM_OK)
                    return st;
            }
    }
    return SIM_OK;
}

/* A key that means nothing for the scenario (tp without model=, forward with it) fails the
 * whole sweep up front, as it fails `run`: every row would say the same.  Unless the model is
 * varied -- then a config may change kinds. */
static enum sim_status check_keys_apply(const struct sweep *sw, struct sim_error *err)
{
    enum sim_status st = check_values_parse(sw, err);
    if (st != SIM_OK || sweep_varies_key(sw, SCN_MODEL))
        return st;
    struct scenario trial = sw->base;
    struct sim_error ignored; /* every value parses (check_values_parse) */
    for (int a = 0; a < sw->naxes; a++)
        for (int j = 0; j < sw->axes[a].nkeys; j++)
            (void)scn_set_option(&trial, "--vary", sw->axes[a].key_names[j],
                                 sw->axes[a].fields[j], &ignored);
    return scn_check_applies(&trial, err);
}

static int csv_writer(FILE *out, const void *sw)
{
    return write_csv(out, sw);
}

/* Every output of the sweep, named before anything runs (outfile.h): NULL where not asked
 * for.  A modelled sweep's --plot FILE.png also draws FILE-breakdown.png. */
struct sweep_outputs {
    struct outset *set;
    struct outfile *csv, *img, *brkimg, *report;
};

static enum sim_status plan_outputs(const struct sweep_opts *o, const struct sweep *sw,
                                    struct sweep_outputs *so, struct sim_error *err)
{
    so->set = outset_create();
    if (!so->set)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
    enum sim_status st = cli_add_inputs(so->set, &sw->base, err);
    for (int a = 0; a < sw->naxes; a++) /* varied model and hardware files are inputs too */
        for (int k = 0; k < sw->axes[a].nkeys; k++)
            if (sw->axes[a].keys[k] == SCN_MODEL || sw->axes[a].keys[k] == SCN_HARDWARE)
                for (int j = 0; j < sw->axes[a].nvalues && st == SIM_OK; j++)
                    st = outset_add_input(so->set, sw->axes[a].key_names[k],
                                          sw->axes[a].fields[j * sw->axes[a].nkeys + k], err);
    if (st == SIM_OK && o->out)
        st = outset_add(so->set, "--out", o->out, &so->csv, err);
    if (st == SIM_OK && o->plot)
        st = plot_add_output(so->set, "--plot", o->plot, &so->img, err);
    if (st == SIM_OK && o->plot && sw->modelled)
        st = plot_add_companion(so->set, o->plot, "breakdown", &so->brkimg, err);
    if (st == SIM_OK && o->report)
        st = outset_add(so->set, "--report", o->report, &so->report, err);
    return st;
}

/* --report FILE.html: the CSV as a sortable table, under what was varied. */
static enum sim_status sweep_report(const struct sweep *sw, const struct sweep_opts *o,
                                    struct outfile *of, struct sim_error *err)
{
    size_t ok = 0, oom = 0;
    for (size_t i = 0; i < sw->n; i++) {
        ok += sw->rows[i].ok != 0;
        oom += (size_t)sweep_row_oom(&sw->rows[i]);
    }
    char configs[128];
    snprintf(configs, sizeof configs, "%zu: %zu ok, %zu out of memory (ran), %zu failed", sw->n,
             ok - oom, oom, sw->n - ok);
    char as_run[160], subject[192];
    sweep_as_run(sw, as_run, sizeof as_run);
    sweep_subject(sw, subject, sizeof subject);
    struct html_fact facts[3 + CLI_MAX_SETS + SWEEP_MAX_AXES];
    int n = 0;
    facts[n++] = (struct html_fact){"scenario file", o->scenario};
    if (as_run[0])
        facts[n++] = (struct html_fact){"as run", as_run};
    for (int i = 0; i < o->sets.n; i++)
        facts[n++] = (struct html_fact){"--set", o->sets.v[i]};
    for (int a = 0; a < o->nvaries; a++)
        facts[n++] = (struct html_fact){"--vary", o->varies[a]};
    facts[n++] = (struct html_fact){"configs", configs};
    struct report_html_table page = {
        "sweep",
        subject,
        facts,
        n,
        csv_writer,
        sw,
        NULL,
        0,
        "One row per config, in the order the configs were run (the first --vary varies "
        "slowest); status <em>ok</em>, <em>oom</em> (ran, but needs more than the usable HBM) "
        "or <em>error</em> (a link to its reason, listed under the table).  The columns are the "
        "CSV's, defined in <code>stepsim sweep --help</code> and the README's result columns.",
        0,
        NULL,
        o->out != NULL};
    return outfile_write(of, report_html_table_fn, &page, err);
}

/* --fail-on-oom: configs over the usable HBM fail the sweep as bad input (exit 2). */
static enum sim_status check_oom(const struct sweep *sw, struct sim_error *err)
{
    size_t oom = 0, first = 0;
    for (size_t i = sw->n; i-- > 0;)
        if (sweep_row_oom(&sw->rows[i])) {
            oom++;
            first = i;
        }
    if (oom == 0)
        return SIM_OK;
    char label[256];
    sweep_config_label(label, sizeof label, sw, first, 0, sw->naxes, " ");
    const struct col_row *c = &sw->rows[first].c;
    if (c->memory_B <= c->hbm_usable_B && c->host_oom)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "%zu of %zu configs need more memory than they have, the first %s (what "
                       "it offloads does not fit the host's memory) (--fail-on-oom)",
                       oom, sw->n, label);
    return err_set(err, SIM_EINPUT, NULL, 0,
                   "%zu of %zu configs need more than the usable HBM, the first %s (%.1f GiB of "
                   "%.1f GiB usable) (--fail-on-oom)",
                   oom, sw->n, label, c->memory_B / 1073741824.0, c->hbm_usable_B / 1073741824.0);
}

/* stdout carries one thing: without --out it is the CSV's, so another output there
 * (--report -) would end up mixed into it. */
static enum sim_status check_stdout(const struct sweep_outputs *so, FILE *out,
                                    struct sim_error *err)
{
    const char *taker = so->csv ? NULL : outset_option_on(so->set, fileno(out));
    if (taker)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "%s and the CSV would both write to stdout; give %s a file, or the CSV "
                       "one with --out",
                       taker, taker);
    return SIM_OK;
}

/* The CSV and the plots to their temp files, all into place together, then the CSV to stdout
 * when no --out was given. */
static enum sim_status write_outputs(const struct sweep *sw, const struct sweep_opts *o,
                                     const struct sweep_outputs *so, FILE *out,
                                     struct sim_error *err)
{
    enum sim_status st = SIM_OK;
    if (so->csv)
        st = outfile_write(so->csv, csv_writer, sw, err);
    if (st == SIM_OK && so->img)
        st = sweep_chart_draw(sw, so->img, so->brkimg, err);
    if (st == SIM_OK && so->report)
        st = sweep_report(sw, o, so->report, err);
    if (st == SIM_OK)
        st = outset_commit(so->set, err);
    if (st == SIM_OK && !so->csv && (write_csv(out, sw) != 0 || fflush(out) != 0))
        st = err_set(err, SIM_EFAIL, NULL, 0, "cannot write the sweep to stdout");
    return st;
}

/* The --vary axes, each key varied once, and the number of configs they make. */
static enum sim_status parse_axes(struct sweep *sw, const struct sweep_opts *o,
                                  struct sim_error *err)
{
    enum sim_status st = SIM_OK;
    for (int a = 0; a < o->nvaries && st == SIM_OK; a++) {
        st = sweep_axis_parse(&sw->axes[a], o->varies[a], err);
        if (st == SIM_OK) {
            sw->naxes = a + 1;
            for (int j = 0; j < sw->axes[a].nkeys && st == SIM_OK; j++)
                if (sweep_axes_vary(sw->axes, a, sw->axes[a].key_names[j]))
                    st = err_set(err, SIM_EINPUT, NULL, 0, "--vary %s: key varied twice",
                                 sw->axes[a].key_names[j]);
        }
    }
    /* a key both set and varied would have two values at one level (the command line), one
     * silently dropped: name both instead */
    for (int i = 0; i < o->sets.n && st == SIM_OK; i++) {
        char key[64];
        size_t klen = strcspn(o->sets.v[i], "=");
        snprintf(key, sizeof key, "%.*s", (int)(klen < sizeof key ? klen : sizeof key - 1),
                 o->sets.v[i]);
        if (sweep_axes_vary(sw->axes, sw->naxes, key))
            st = err_set(err, SIM_EINPUT, NULL, 0,
                         "--set %s and --vary %s: the key is given twice on the command line "
                         "(drop the --set, or the key from --vary)",
                         o->sets.v[i], key);
    }
    return st == SIM_OK ? sweep_count(sw->axes, sw->naxes, &sw->n, err) : st;
}

/* The base scenario: the file, its --set values, and the axes' keys checked against it. */
static enum sim_status load_base(struct sweep *sw, const struct sweep_opts *o,
                                 struct sim_error *err)
{
    enum sim_status st = scn_load_with_sets(&sw->base, o->scenario, o->sets.v, o->sets.n, err);
    if (st == SIM_OK)
        st = check_keys_apply(sw, err);
    if (st == SIM_OK)
        sw->modelled = scn_is_modelled(&sw->base) || sweep_varies_key(sw, SCN_MODEL);
    return st;
}

/* Do all configs run on the base's model (key SCN_MODEL) or hardware (SCN_HARDWARE) file,
 * loaded once, or may one name another? */
static int shares_file(const struct sweep *sw, enum scn_key key)
{
    const char *path = key == SCN_MODEL ? sw->base.model_path : sw->base.hardware_path;
    return scn_is_modelled(&sw->base) && path[0] && !sweep_varies_key(sw, key);
}

/* One shared file alone only names what the configs shared (sweep_as_run); a broken one
 * fails the sweep here, as it would fail every config.  sw->model and sw->hw point at the ones
 * loaded (into *model and *hw), and stay NULL otherwise. */
static enum sim_status load_shared_files(struct sweep *sw, struct model *model,
                                         struct hardware *hw, struct sim_error *err)
{
    enum sim_status st = SIM_OK;
    if (shares_file(sw, SCN_MODEL)) {
        st = model_load(model, sw->base.model_path, err);
        sw->model = st == SIM_OK ? model : NULL;
    }
    if (st == SIM_OK && shares_file(sw, SCN_HARDWARE)) {
        st = hw_load(hw, sw->base.hardware_path, err);
        sw->hw = st == SIM_OK ? hw : NULL;
    }
    return st;
}

/* Every config on `jobs` threads, the progress shown on errout when it is a terminal. */
static void run_configs(struct sweep *sw, int jobs, FILE *errout)
{
    struct sweep_progress prog = {errout, 0, {0, 0}};
    clock_gettime(CLOCK_MONOTONIC, &prog.start);
    int tty = isatty(fileno(errout));
    par_run(sw->n, jobs, sweep_job, sw, tty ? show_progress : NULL, &prog);
}

/* What sweep_main allocated for sw: the rows' errors and the rows, the axes, sw itself. */
static void sweep_free(struct sweep *sw)
{
    if (sw->rows)
        for (size_t i = 0; i < sw->n; i++)
            mem_free(sw->rows[i].error);
    mem_free(sw->rows);
    for (int a = 0; a < sw->naxes; a++)
        sweep_axis_release(&sw->axes[a]);
    mem_free(sw);
}

int sweep_main(int argc, char **argv, FILE *out, FILE *errout)
{
    struct sweep_opts o;
    int rc = parse_sweep(argc, argv, &o, errout);
    if (rc != 0)
        return rc;
    if (o.help) {
        fputs(sweep_usage, out);
        fputs(sweep_help, out);
        col_write_doc(out, 2, 1);
        fputs(sweep_help_tail, out);
        return 0;
    }
    struct sweep *sw = mem_calloc(1, sizeof *sw);
    if (!sw) {
        cli_error_line(errout, "out of memory");
        return 1;
    }
    struct sim_error err;
    err_clear(&err);
    struct model model;
    struct hardware hw;
    enum sim_status st = parse_axes(sw, &o, &err);
    if (st == SIM_OK)
        st = load_base(sw, &o, &err);
    if (st == SIM_OK)
        st = load_shared_files(sw, &model, &hw, &err);
    struct sweep_outputs outs = {0};
    if (st == SIM_OK)
        st = plan_outputs(&o, sw, &outs, &err);
    if (st == SIM_OK)
        st = check_stdout(&outs, out, &err);
    if (st == SIM_OK) {
        sw->rows = mem_calloc(sw->n, sizeof *sw->rows);
        if (!sw->rows)
            st = err_set(&err, SIM_EFAIL, NULL, 0, "out of memory (%zu configs)", sw->n);
    }
    if (st == SIM_OK) {
        run_configs(sw, o.jobs, errout);
        st = write_outputs(sw, &o, &outs, out, &err);
        write_failure_summary(errout, sw, outs.img && st == SIM_OK ? outs.img->path : NULL);
        write_warnings(errout, sw);
        if (st == SIM_OK && o.fail_on_oom)
            st = check_oom(sw, &err);
    }
    rc = st == SIM_OK ? 0 : cli_fail(errout, &err);
    outset_destroy(outs.set);
    if (sw->hw)
        hw_release(&hw);
    sweep_free(sw);
    return rc;
}
