/* sweep_chart: the charts of `stepsim sweep --plot` -- throughput and bubble ratio against the
 * last varied key, one line per combination of the other keys (configs out of memory and
 * failed ones marked), and for modelled scenarios a stacked-bar breakdown of each config's
 * step time; the data go to gnuplot on the embedded plots/sweep.gp through plot.c. */
#include "sweep_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "plot.h"
#include "units.h"

/* A number as a whole string (finite); the x axis is numeric only when every value is. */
static int is_number(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return end != s && *end == '\0' && errno == 0 && isfinite(*v);
}

/* How an axis's values read as numbers, found once per chart (O(values)): kind -1 plain
 * numbers, a unit_kind when every value is a quantity of that kind ("25GB/s" .. "400GB/s",
 * "1ms" .. "8ms": a scale, not categories), -2 names; a quantity's positions are in the power of
 * 1000 of its SI unit that puts the largest in [1, 1000) (25GB/s .. 400GB/s: 25 .. 400), so
 * they stay plain numbers (gnuplot 5.4 refuses a tic position like 2.5e+10 inside a loop) and
 * the tics are labelled with the values as given. */
struct axis_num {
    int kind;
    int exp3; /* the power of 1000 a quantity is divided by */
};

static struct axis_num axis_num_of(const struct sweep_axis *ax)
{
    static const enum unit_kind kinds[] = {UNIT_TIME, UNIT_BANDWIDTH, UNIT_BYTES, UNIT_POWER,
                                           UNIT_FLOP_RATE};
    struct axis_num an = {-1, 0};
    double v, top = 0;
    char why[64];
    for (int j = 0; j < ax->nvalues && an.kind == -1; j++)
        an.kind = is_number(ax->values[j], &v) ? -1 : -2;
    for (size_t k = 0; an.kind == -2 && k < sizeof kinds / sizeof kinds[0]; k++) {
        int all = 1;
        top = 0;
        for (int j = 0; j < ax->nvalues && all; j++) {
            all = units_parse(ax->values[j], kinds[k], &v, why, sizeof why) == 0;
            top = v > top ? v : top;
        }
        if (all)
            an.kind = (int)kinds[k];
    }
    if (an.kind >= 0 && top > 0)
        an.exp3 = (int)floor(log10(top) / 3.0);
    return an;
}

/* The unit a quantity axis's positions are in ("GB/s", "ms"): the x label says it where the
 * tics are not labelled with the values as given; 0 for plain numbers and names. */
static int axis_unit(const struct sweep_axis *ax, char *buf, size_t len)
{
    struct axis_num an = axis_num_of(ax);
    const char *si = an.kind == UNIT_TIME        ? "s"
                     : an.kind == UNIT_BANDWIDTH ? "B/s"
                     : an.kind == UNIT_BYTES     ? "B"
                     : an.kind == UNIT_POWER     ? "W"
                     : an.kind == UNIT_FLOP_RATE ? "FLOP/s"
                                                 : NULL;
    static const char *const prefix[] = {"p", "n", "\xc2\xb5", "m", "", "k", "M", "G", "T", "P"};
    int e = an.exp3 + 4; /* 10^-12 is prefix[0] */
    if (!si || e < 0 || e > 9)
        return 0;
    snprintf(buf, len, "%s%s", prefix[e], si);
    return 1;
}

/* Value j of the axis as a number (struct axis_num); 0 when the axis has names. */
static int axis_value(const struct sweep_axis *ax, const struct axis_num *an, int j, double *v)
{
    char why[64];
    if (an->kind == -1)
        return is_number(ax->values[j], v);
    if (an->kind < 0 ||
        units_parse(ax->values[j], (enum unit_kind)an->kind, v, why, sizeof why) != 0)
        return 0;
    *v /= pow(1000.0, an->exp3);
    return 1;
}

/* Numeric, positive, ascending by a constant factor of at least 1.5 over a span of 8x or more:
 * such values read best on a log axis. */
static int looks_geometric(const struct sweep_axis *ax)
{
    if (ax->geometric)
        return ax->nvalues >= 2;
    double first, prev, v, ratio = 0;
    struct axis_num an = axis_num_of(ax);
    if (ax->nvalues < 3 || !axis_value(ax, &an, 0, &first) || first <= 0)
        return 0;
    prev = first;
    for (int i = 1; i < ax->nvalues; i++) {
        if (!axis_value(ax, &an, i, &v) || v <= prev)
            return 0;
        double r = v / prev;
        if (i == 1)
            ratio = r;
        if (r < 1.5 || fabs(r - ratio) > 0.01 * ratio)
            return 0;
        prev = v;
    }
    return prev / first >= 8;
}

/* What the throughput panel shows. */
enum sweep_metric { METRIC_TOKENS_PER_GPU, METRIC_TOKENS, METRIC_SAMPLES };

static double metric_value(const struct sweep_row *row, enum sweep_metric m)
{
    switch (m) {
    case METRIC_TOKENS_PER_GPU: return row->c.tokens_per_s_per_gpu;
    case METRIC_TOKENS: return row->c.tokens_per_s;
    case METRIC_SAMPLES: break;
    }
    return row->c.samples_per_s;
}

/* The metric's name, as the throughput panel's y axis reads. */
static const char *metric_label(enum sweep_metric m)
{
    static const char *const labels[] = {"tokens/s per GPU", "tokens/s", "samples/s"};
    return labels[m];
}

/* The title of series s (the configs s * nx .. s * nx + nx - 1): the values of every axis but
 * the last. */
static void series_title(char *buf, size_t len, const struct sweep *sw, size_t s)
{
    size_t nx = (size_t)sw->axes[sw->naxes - 1].nvalues;
    if (sw->naxes > 1)
        sweep_config_label(buf, len, sw, s * nx, 0, sw->naxes - 1, ", ");
    else
        snprintf(buf, len, "throughput");
}

/* Series s's values alone, in the order the legend's title names their keys: the axes but the
 * last, ", " between axes, "," between a linked axis's keys as its name has them ("1, 0, 4"). */
static void series_values(char *buf, size_t len, const struct sweep *sw, size_t s)
{
    int idx[SWEEP_MAX_AXES];
    sweep_config_index(sw->axes, sw->naxes, s * (size_t)sw->axes[sw->naxes - 1].nvalues, idx);
    char raw[256];
    size_t n = 0;
    raw[0] = '\0';
    for (int a = 0; a + 1 < sw->naxes && n < sizeof raw; a++) {
        const struct sweep_axis *ax = &sw->axes[a];
        for (int j = 0; j < ax->nkeys && n < sizeof raw; j++)
            n += (size_t)snprintf(raw + n, sizeof raw - n, "%s%s", j ? "," : (a ? ", " : ""),
                                  ax->fields[idx[a] * ax->nkeys + j]);
    }
    plot_sanitize(buf, len, raw);
}

/* Its line's legend entry, which sweep.gp draws as it is: with one axis, the one line is the
 * metric (m); with one axis of one key besides the last, which the legend's title names, the
 * value alone (a long key repeated on every entry pushed the legend off the image); else the
 * series' title.  The entry never depends on how many lines ran: the one left when every
 * config of the others failed is still named by its value. */
static void series_legend(char *buf, size_t len, const struct sweep *sw, size_t s,
                          enum sweep_metric m)
{
    if (sw->naxes == 1)
        snprintf(buf, len, "%s", metric_label(m));
    else if (sw->naxes != 2 || sw->axes[0].nkeys != 1)
        series_title(buf, len, sw, s);
    else
        series_values(buf, len, sw, s);
}

/* Does series s have a config that ran? */
static int series_ran(const struct sweep *sw, size_t s)
{
    size_t nx = (size_t)sw->axes[sw->naxes - 1].nvalues;
    for (size_t j = 0; j < nx; j++)
        if (sw->rows[s * nx + j].ok)
            return 1;
    return 0;
}

/* Where config j of the last axis sits on the x axis (`an`: the axis's, axis_num_of). */
static double x_of(const struct sweep_axis *xa, const struct axis_num *an, int j, int xcat)
{
    double x;
    if (xcat || !axis_value(xa, an, j, &x))
        x = (double)j;
    return x;
}

/* How many characters, not bytes, `text` has: how wide the legend draws it. */
static size_t chars_of(const char *text)
{
    size_t k = 0;
    for (const char *c = text; *c; c++)
        k += ((unsigned char)*c & 0xc0) != 0x80;
    return k;
}

/* What the main panels show, found while writing their data. */
struct sweep_lines {
    int nseries;                 /* blocks of configs that ran */
    size_t nfailed;              /* configs that failed: the block after the series */
    size_t noom;                 /* configs that ran but do not fit in memory */
    double tput_lo, tput_hi;     /* throughput of the configs that ran */
    double bubble_lo, bubble_hi; /* their bubble ratio, % */
};

/* The main panels' data: one block per line of the chart (index i in gnuplot) that has a config
 * that ran, headed by its legend entry and then (sixth) its values alone, for a legend too wide
 * for the entries; rows "x  xlabel  throughput  bubble%  oom" (oom 1: ran but does not fit in
 * memory), one blank line where configs that failed break it.  Then, when
 * configs failed, one block "x  line" of them (line: the block of their series, -1 for none).
 * Returns the number of line blocks, -1 on a write error. */
static int write_lines_tsv(FILE *out, const struct sweep *sw, enum sweep_metric m, int xcat,
                           struct sweep_lines *lines)
{
    const struct sweep_axis *xa = &sw->axes[sw->naxes - 1];
    const struct axis_num an = axis_num_of(xa);
    size_t nx = (size_t)xa->nvalues, nseries = sw->n / nx;
    memset(lines, 0, sizeof *lines);
    lines->tput_lo = lines->bubble_lo = INFINITY;
    lines->tput_hi = lines->bubble_hi = -INFINITY;
    for (size_t s = 0; s < nseries; s++) {
        if (!series_ran(sw, s))
            continue;
        char title[256], values[256];
        series_legend(title, sizeof title, sw, s, m);
        series_values(values, sizeof values, sw, s);
        fprintf(out, "%sx\tvalue\t%s\tbubble\toom\t%s\n", lines->nseries ? "\n\n" : "", title,
                values);
        int after_point = 0; /* the last line written is a config's row */
        for (size_t j = 0; j < nx; j++) {
            const struct sweep_row *row = &sw->rows[s * nx + j];
            if (!row->ok) {
                /* One blank line breaks the line; two in a row would end gnuplot's data block,
                 * and the rest of the line would become the next block: its own legend entry
                 * (its first throughput for a title), every later line's colour one off. */
                if (after_point)
                    fputc('\n', out);
                after_point = 0;
                continue;
            }
            after_point = 1;
            char label[128];
            plot_sanitize(label, sizeof label, xa->values[j]);
            double v = metric_value(row, m), b = 100.0 * row->c.bubble_ratio;
            fprintf(out, "%.9g\t%s\t%.9g\t%.9g\t%d\n", x_of(xa, &an, (int)j, xcat), label, v, b,
                    sweep_row_oom(row));
            lines->noom += (size_t)sweep_row_oom(row);
            lines->tput_lo = fmin(lines->tput_lo, v);
            lines->tput_hi = fmax(lines->tput_hi, v);
            lines->bubble_lo = fmin(lines->bubble_lo, b);
            lines->bubble_hi = fmax(lines->bubble_hi, b);
        }
        lines->nseries++;
    }
    /* The failed configs, each with its line's block (its colour), -1 when its series has
     * none. */
    for (size_t s = 0, block = 0; s < nseries; s++) {
        int ran = series_ran(sw, s);
        for (size_t j = 0; j < nx; j++) {
            if (sw->rows[s * nx + j].ok)
                continue;
            if (lines->nfailed++ == 0)
                fputs("\n\nx\tline\n", out);
            fprintf(out, "%.9g\t%d\n", x_of(xa, &an, (int)j, xcat), ran ? (int)block : -1);
        }
        block += (size_t)ran;
    }
    return ferror(out) ? -1 : lines->nseries;
}

void sweep_panel_range(double lo, double hi, double *from, double *to)
{
    if (hi > 0 && lo >= 0.5 * hi) {
        /* Around the data, but never narrower than 10% of the top value: a 0.5% difference
         * drawn across the whole panel would look like a large one. */
        double mid = 0.5 * (lo + hi), half = fmax(0.5 * (hi - lo) * 1.3, 0.05 * hi);
        *from = fmax(mid - half, 0.0);
        *to = mid + half;
        return;
    }
    *from = lo < 0 ? lo * 1.08 : 0;
    *to = hi > 0 ? hi * 1.08 : 1;
}

/* The breakdown bars' data, one row per config: "label  compute ... host  step_s  state" with
 * the parts in % of the config's own step time (configs of different batches compare), the
 * step time in seconds, state 0 ran, 1 ran but out of memory (label ends "(OOM)"), 2 failed
 * (no parts; label ends "(failed)").  Returns the number of bars; *longest gets the longest
 * label's length. */
static int write_breakdown_tsv(FILE *out, const struct sweep *sw, size_t *longest)
{
    int bars = 0;
    *longest = 0;
    fputs("# config\tcompute\trecompute\ttp\tcp\tep\tpp\tbubble\tdp\toptimizer\thost (% of the "
          "step)\tstep_s\tstate\n",
          out);
    for (size_t i = 0; i < sw->n; i++) {
        const struct sweep_row *row = &sw->rows[i];
        if (row->ok && !row->modelled)
            continue;
        char label[256];
        sweep_config_label(label, sizeof label, sw, i, 0, sw->naxes, " ");
        int state = !row->ok ? 2 : sweep_row_oom(row);
        static const char *const suffix[] = {"", " (OOM)", " (failed)"};
        fprintf(out, "%s%s", label, suffix[state]);
        *longest = strlen(label) + strlen(suffix[state]) > *longest
                       ? strlen(label) + strlen(suffix[state])
                       : *longest;
        const struct report_breakdown *b = &row->c.brk;
        const double part[] = {b->compute, b->recompute, b->tp, b->cp,        b->ep,
                               b->pp,      b->bubble,    b->dp, b->optimizer, b->host};
        for (size_t k = 0; k < sizeof part / sizeof part[0]; k++)
            fprintf(out, "\t%.6g",
                    row->ok && row->c.step_time_s > 0 ? 100.0 * part[k] / row->c.step_time_s : 0);
        fprintf(out, "\t%.6g\t%d\n", row->ok ? row->c.step_time_s : 0, state);
        bars++;
    }
    return ferror(out) ? -1 : bars;
}

/* What a chart's data writer needs and finds. */
struct sweep_chart_data {
    const struct sweep *sw;
    enum sweep_metric metric;
    int xcat;
    struct sweep_lines lines; /* found by fill_lines */
    size_t longest_label;     /* found by fill_breakdown */
};

/* Most series named in the legend as having no result. */
#define SWEEP_MAX_EMPTY_NAMED 12

/* The charts' variables beyond the files and titles: the panels' y ranges, how many configs
 * failed, the series where nothing ran (empty1, empty2, ... named, nemptytotal counted), the
 * breakdown's longest label, the longest legend entry and the longest of their values alone
 * (keychars, valchars: at least 24). */
static void chart_vars(char *vars, size_t len, int *n, const struct sweep_chart_data *cd)
{
    const struct sweep_lines *l = &cd->lines;
    double ylo, yhi, blo, bhi;
    sweep_panel_range(l->tput_lo, l->tput_hi, &ylo, &yhi);
    sweep_panel_range(l->bubble_lo, l->bubble_hi, &blo, &bhi);
    plot_vars_add(vars, len, n,
                  "; ylo=%.9g; yhi=%.9g; blo=%.9g; bhi=%.9g; nfailed=%zu; noom=%zu; maxlabel=%zu",
                  ylo, yhi, blo, bhi, l->nfailed, l->noom, cd->longest_label);
    /* No config has a bubble (pp=1, or work that hides it): the panel's 0-1% range is no
     * measurement, and its line lies on the axis -- the panel says so in words. */
    if (l->bubble_lo == 0 && l->bubble_hi == 0)
        plot_vars_add(vars, len, n, "; bzero=1");
    const struct sweep *sw = cd->sw;
    size_t nseries = sw->n / (size_t)sw->axes[sw->naxes - 1].nvalues;
    int nempty = 0, more = 0;
    for (size_t s = 0; s < nseries; s++) {
        if (series_ran(sw, s))
            continue;
        if (nempty == SWEEP_MAX_EMPTY_NAMED) {
            more++;
            continue;
        }
        char title[256];
        series_title(title, sizeof title, sw, s);
        plot_vars_add(vars, len, n, "; empty%d='%s'", ++nempty, title);
    }
    plot_vars_add(vars, len, n, "; nempty=%d; nemptytotal=%d", nempty, nempty + more);
    size_t keychars = 0, valchars = 0; /* the longest line entry, and its values alone */
    for (size_t s = 0; s < nseries; s++) {
        char entry[256];
        series_legend(entry, sizeof entry, sw, s, cd->metric);
        keychars = chars_of(entry) > keychars ? chars_of(entry) : keychars;
        series_values(entry, sizeof entry, sw, s);
        valchars = chars_of(entry) > valchars ? chars_of(entry) : valchars;
    }
    plot_vars_add(vars, len, n, "; keychars=%zu; valchars=%zu",
                  keychars < 24 ? (size_t)24 : keychars, valchars < 24 ? (size_t)24 : valchars);
}

/* What the plot's data writers get: the chart data they fill in. */
struct plot_args {
    struct sweep_chart_data *cd;
};

static int fill_lines(FILE *fp, const void *user)
{
    struct sweep_chart_data *cd = ((const struct plot_args *)user)->cd;
    return write_lines_tsv(fp, cd->sw, cd->metric, cd->xcat, &cd->lines);
}

static int fill_breakdown(FILE *fp, const void *user)
{
    struct sweep_chart_data *cd = ((const struct plot_args *)user)->cd;
    return write_breakdown_tsv(fp, cd->sw, &cd->longest_label);
}

/* `v` as a word the sweep script turns back into a number with "word + 0": gnuplot reads a word
 * without a decimal point as an integer, so "2e+09" (%.9g of a seed of 2000000000, or of
 * 50GB/s on an axis in EB/s) stops it with "Trailing characters"; "2.0e+09" reads whole. */
static void gnuplot_number(char *buf, size_t len, double v)
{
    char g[32];
    snprintf(g, sizeof g, "%.9g", v);
    char *e = strchr(g, 'e');
    if (e && !strchr(g, '.'))
        snprintf(buf, len, "%.*s.0%s", (int)(e - g), g, e);
    else
        snprintf(buf, len, "%s", g);
}

/* The x axis' tics at the swept values themselves ("4 8 16") when they are a few plain
 * numbers on a linear axis, so a discrete key (tp, pp) shows no 4.5 or 7.5; empty otherwise. */
static void sweep_xtics(const struct sweep_axis *xa, int xcat, int xlog, char *buf, size_t len)
{
    buf[0] = '\0';
    struct axis_num an = axis_num_of(xa);
    if (xcat || (xlog && an.kind == -1) || xa->nvalues > 16)
        return;
    size_t used = 0;
    for (int j = 0; j < xa->nvalues && used < len; j++) {
        double v;
        if (!axis_value(xa, &an, j, &v))
            return (void)(buf[0] = '\0');
        char word[40];
        gnuplot_number(word, sizeof word, v);
        used += (size_t)snprintf(buf + used, len - used, "%s%s", j ? " " : "", word);
    }
    if (used >= len)
        buf[0] = '\0';
}

/* With quantities (kind >= 0), the tics' labels: the values as given ("25GB/s"), as words. */
static void sweep_xticlabels(const struct sweep_axis *xa, char *buf, size_t len)
{
    buf[0] = '\0';
    if (xa->nvalues > 16 || axis_num_of(xa).kind < 0)
        return;
    size_t used = 0;
    for (int j = 0; j < xa->nvalues && used < len; j++) {
        char word[64];
        plot_sanitize(word, sizeof word, xa->values[j]);
        for (char *p = word; *p; p++)
            if (*p == ' ')
                *p = '_';
        used += (size_t)snprintf(buf + used, len - used, "%s%s", j ? " " : "", word);
    }
    if (used >= len)
        buf[0] = '\0';
}

/* Most tics decade_tics puts on a log axis: a label of up to 5 characters each (1e-12) keeps
 * clear of its neighbours on the narrowest plot the legend leaves (about 640 px). */
#define SWEEP_MAX_DECADE_TICS 8

/* A log axis over many decades (xmin..xmax, > 0) gets its tics at powers of ten, every k-th
 * decade so that at most SWEEP_MAX_DECADE_TICS stand on it, labelled 0.01 .. 1000 and 1e4,
 * 1e-5 past them: gnuplot's own tics of a log-2 axis fell every tenth power of 2, labelled
 * 1.04858e+06, and overprinted each other on a plot narrowed by its legend.  `at` gets the
 * positions as words, `labels` their labels; both empty when fewer than 4 decades are
 * spanned (gnuplot's powers of 2 read better there) or the words do not fit. */
static void decade_tics(double xmin, double xmax, char *at, size_t atlen, char *labels,
                        size_t lablen)
{
    at[0] = labels[0] = '\0';
    if (!(xmin > 0) || !isfinite(xmax))
        return;
    int first = (int)ceil(log10(xmin) - 1e-9), last = (int)floor(log10(xmax) + 1e-9);
    if (last - first < 3)
        return;
    int k = (last - first + SWEEP_MAX_DECADE_TICS - 1) / SWEEP_MAX_DECADE_TICS;
    int e0 = first >= 0 ? (first + k - 1) / k * k : -(-first / k * k); /* a multiple of k */
    size_t used = 0, lused = 0;
    for (int e = e0; e <= last && used < atlen && lused < lablen; e += k) {
        char word[32], label[16];
        gnuplot_number(word, sizeof word, pow(10.0, e));
        if (e >= -2 && e <= 3)
            snprintf(label, sizeof label, "%g", pow(10.0, e));
        else
            snprintf(label, sizeof label, "1e%d", e);
        used += (size_t)snprintf(at + used, atlen - used, "%s%s", used ? " " : "", word);
        lused += (size_t)snprintf(labels + lused, lablen - lused, "%s%s", lused ? " " : "", label);
    }
    if (used >= atlen || lused >= lablen)
        at[0] = labels[0] = '\0';
}

/* The x axis: categories when a value is no number (placed at 0, 1, ...), else numbers on a
 * log scale when they grow geometrically; xmin / xmax span the values (or the positions). */
static void x_axis_of(const struct sweep_axis *xa, int *xcat, int *xlog, double *xmin,
                      double *xmax)
{
    double v;
    struct axis_num an = axis_num_of(xa);
    *xcat = an.kind == -2;
    *xlog = !*xcat && looks_geometric(xa);
    *xmin = 0;
    *xmax = xa->nvalues - 1; /* the categories' positions */
    for (int j = 0; j < xa->nvalues && !*xcat; j++) {
        axis_value(xa, &an, j, &v);
        *xmin = j == 0 || v < *xmin ? v : *xmin;
        *xmax = j == 0 || v > *xmax ? v : *xmax;
    }
}

/* Append the category names to the gnuplot variables at vars + *n: "; xcats='a b c'", the
 * names as words of one string (blanks inside a name become '_'). */
static void category_vars(const struct sweep_axis *xa, char *vars, size_t size, int *n)
{
    if (*n > 0 && (size_t)*n < size)
        *n += snprintf(vars + *n, size - (size_t)*n, "; xcats='");
    for (int j = 0; j < xa->nvalues && *n > 0 && (size_t)*n < size; j++) {
        char word[64];
        plot_sanitize(word, sizeof word, xa->values[j]);
        for (char *p = word; *p; p++)
            if (*p == ' ')
                *p = '_';
        *n += snprintf(vars + *n, size - (size_t)*n, "%s%s", j ? " " : "", word);
    }
    if (*n > 0 && (size_t)*n < size)
        *n += snprintf(vars + *n, size - (size_t)*n, "'");
}

/* Rows that ran, and what the chart plots for them (into *m): tokens/s per GPU when modelled,
 * else tokens/s when every row has them, else samples/s.  Returns the rows that ran. */
static size_t plotted_metric(const struct sweep *sw, enum sweep_metric *m)
{
    size_t ok = 0;
    int all_tokens = 1;
    for (size_t i = 0; i < sw->n; i++)
        if (sw->rows[i].ok) {
            ok++;
            all_tokens &= !isnan(sw->rows[i].c.tokens_per_s);
        }
    *m = sw->modelled ? METRIC_TOKENS_PER_GPU : all_tokens ? METRIC_TOKENS : METRIC_SAMPLES;
    return ok;
}

/* The chart's words as drawn (plot_clean; plot_vars_add_text quotes them): its subject
 * (sweep_subject: the scenario's name, or what varied of the model and hardware), the x axis's
 * name, the key's title (the other axes' names) and the subtitle (the values every config ran
 * with). */
struct sweep_titles {
    char name[96], xlabel[96], keytitle[256], subtitle[192];
};

static void titles_of(const struct sweep *sw, const struct sweep_axis *xa, struct sweep_titles *tt)
{
    tt->keytitle[0] = tt->subtitle[0] = '\0';
    char subject[192];
    sweep_subject(sw, subject, sizeof subject);
    plot_clean(tt->name, sizeof tt->name, subject);
    plot_clean(tt->xlabel, sizeof tt->xlabel, xa->name);
    char unit[16], tics[1024], at[256]; /* the tics labelled as given, as the chart draws them */
    sweep_xticlabels(xa, tics, sizeof tics);
    sweep_xtics(xa, 0, looks_geometric(xa), at, sizeof at);
    size_t n = strlen(tt->xlabel);
    if (axis_unit(xa, unit, sizeof unit) && !(tics[0] && at[0]) && n < sizeof tt->xlabel)
        snprintf(tt->xlabel + n, sizeof tt->xlabel - n, " (%s)", unit);
    for (int a = 0, used = 0;
         a + 1 < sw->naxes && used >= 0 && (size_t)used < sizeof tt->keytitle; a++)
        used += snprintf(tt->keytitle + used, sizeof tt->keytitle - (size_t)used, "%s%s",
                         a ? ", " : "", sw->axes[a].name);
    char as_run[160];
    sweep_as_run(sw, as_run, sizeof as_run);
    if (as_run[0]) {
        char line[sizeof tt->subtitle];
        snprintf(line, sizeof line, "as run: %s", as_run);
        plot_clean(tt->subtitle, sizeof tt->subtitle, line);
    }
}

/* One chart being drawn: the data its writers fill in, the x axis, the temp files sweep.gp
 * reads (the lines' data with nseries series, the breakdown's with nbars bars, the script) and
 * the images gnuplot writes. */
struct sweep_chart_job {
    struct sweep_chart_data cd; /* cd.xcat: the x axis has categories */
    const struct sweep_axis *xa;
    int xlog;
    double xmin, xmax;
    struct plot_temps t;
    const char *data, *brk, *script;
    int nseries, nbars;
    struct outfile *img, *brkimg; /* brkimg NULL: no breakdown drawn */
};

/* Write the job's temp files and start its images' outputs (gnuplot writes their temp files
 * itself).  The breakdown is skipped when no modelled row ran: there is nothing to break down.
 * On failure the temp files are removed. */
static enum sim_status write_chart_files(struct sweep_chart_job *j, struct sim_error *err)
{
    struct plot_args args = {&j->cd};
    enum sim_status st =
        plot_temp_write(&j->t, "sweep", fill_lines, &args, &j->nseries, &j->data, err);
    if (st == SIM_OK && j->brkimg)
        st = plot_temp_write(&j->t, "sweep-brk", fill_breakdown, &args, &j->nbars, &j->brk, err);
    if (st == SIM_OK && j->brkimg && j->nbars == 0) {
        outfile_skip(j->brkimg);
        j->brkimg = NULL;
    }
    if (st == SIM_OK)
        st = plot_temp_write(&j->t, "sweep-gp", plot_put_text, sweep_gp, NULL, &j->script, err);
    if (st == SIM_OK)
        st = outfile_begin_named(j->img, err);
    if (st == SIM_OK && j->brkimg)
        st = outfile_begin_named(j->brkimg, err);
    if (st != SIM_OK)
        plot_temps_remove(&j->t);
    return st;
}

/* sweep.gp's variables for the job into vars: the files, the x axis, the titles, the
 * breakdown's when it is drawn, and chart_vars'.  Returns what snprintf counted: negative or at
 * least `size` when they did not fit. */
static int chart_command(const struct sweep_chart_job *j, char *vars, size_t size)
{
    const struct sweep *sw = j->cd.sw;
    const struct sweep_axis *xa = j->xa;
    struct sweep_titles tt;
    titles_of(sw, xa, &tt);
    char xtics[256], xticlabels[1024], title[sizeof tt.name + sizeof tt.xlabel + 48];
    sweep_xtics(xa, j->cd.xcat, j->xlog, xtics, sizeof xtics);
    sweep_xticlabels(xa, xticlabels, sizeof xticlabels);
    if (!xtics[0] && j->xlog && !j->cd.xcat)
        decade_tics(j->xmin, j->xmax, xtics, sizeof xtics, xticlabels, sizeof xticlabels);
    int n = snprintf(vars, size,
                     "datafile='%s'; outfile='%s'; format='%s'; nseries=%d; xcat=%d; xlog=%d; "
                     "xmin=%.9g; xmax=%.9g; xtics='%s'; ylabel='%s'",
                     j->data, j->img->tmp, plot_ends_with(j->img->path, ".svg") ? "svg" : "png",
                     j->nseries, j->cd.xcat, j->xlog, j->xmin, j->xmax, xtics,
                     metric_label(j->cd.metric));
    plot_vars_add_text(vars, size, &n, "subtitle", tt.subtitle);
    plot_vars_add_text(vars, size, &n, "xlabel", tt.xlabel);
    plot_vars_add_text(vars, size, &n, "keytitle", tt.keytitle);
    snprintf(title, sizeof title, "%s: throughput and bubble ratio vs %s", tt.name, tt.xlabel);
    plot_vars_add_text(vars, size, &n, "plottitle", title);
    if (j->brkimg) {
        plot_vars_add(vars, size, &n, "; brkfile='%s'; brkout='%s'; nbars=%d", j->brk,
                      j->brkimg->tmp, j->nbars);
        snprintf(title, sizeof title, "%s: where the step time goes, per config", tt.name);
        plot_vars_add_text(vars, size, &n, "brktitle", title);
    }
    if (j->cd.xcat)
        category_vars(xa, vars, size, &n);
    if (xticlabels[0] && xtics[0] && n > 0 && (size_t)n < size)
        n += snprintf(vars + n, size - (size_t)n, "; xticlabels='%s'", xticlabels);
    chart_vars(vars, size, &n, &j->cd);
    return n;
}

/* The images: `img` (throughput and bubble) and, for modelled sweeps, `brkimg` (the
 * breakdown); both were named up front and are put in place by the caller's commit. */
enum sim_status sweep_chart_draw(const struct sweep *sw, struct outfile *img,
                                 struct outfile *brkimg, struct sim_error *err)
{
    enum sweep_metric m;
    if (plotted_metric(sw, &m) == 0) { /* the CSV says why each failed: keep it, draw nothing */
        outfile_skip(img);
        if (brkimg)
            outfile_skip(brkimg);
        return SIM_OK;
    }
    struct sweep_chart_job j = {.cd = {sw, m, 0, {0}, 0}, .img = img, .brkimg = brkimg};
    j.xa = &sw->axes[sw->naxes - 1];
    x_axis_of(j.xa, &j.cd.xcat, &j.xlog, &j.xmin, &j.xmax);
    enum sim_status st = write_chart_files(&j, err);
    if (st != SIM_OK)
        return st;
    char vars[16384];
    int n = chart_command(&j, vars, sizeof vars);
    if (n < 0 || (size_t)n >= sizeof vars)
        st = err_set(err, SIM_EINPUT, NULL, 0,
                     "--plot %s: the gnuplot command line is too long (paths or the swept "
                     "values' names)",
                     img->path);
    else
        st = plot_gnuplot(img->path, vars, j.script, err);
    plot_temps_remove(&j.t);
    return st;
}
