/* html: escaping, the page frame, fact tables, bar charts and CSV tables (see html.h). */
#include "html.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "config.h"
#include "embedded.h"
#include "outfile.h"


/* May the character appear in the page as it is? */
static int char_allowed(unsigned long cp)
{
    if (cp < 0x20)
        return cp == '\t' || cp == '\n';
    if (cp >= 0x7f && cp <= 0x9f)
        return 0;
    return !((cp & 0xfffe) == 0xfffe || (cp >= 0xfdd0 && cp <= 0xfdef)); /* noncharacters */
}

void html_put_text(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned long cp;
        size_t n = utf8_decode((const char *)p, &cp);
        if (n == 0 || !char_allowed(cp)) {
            fputs(UTF8_REPLACEMENT, out);
            p += n ? n : 1;
            continue;
        }
        switch (cp) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fwrite(p, 1, n, out);
        }
        p += n;
    }
}

void html_page_begin(FILE *out, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
          "<meta name=\"generator\" content=\"" PACKAGE_STRING "\"/>\n<title>",
          out);
    html_put_text(out, title);
    /* CDATA inside a CSS comment: raw text to an HTML parser, character data to XML. */
    fprintf(out, "</title>\n<style>/*<![CDATA[*/\n%s/*]]>*/</style>\n</head>\n<body>\n",
            report_css);
}

int html_page_end(FILE *out)
{
    fprintf(out, "<script>//<![CDATA[\n%s//]]>\n</script>\n</body>\n</html>\n", report_js);
    return ferror(out) ? -1 : 0;
}

void html_facts(FILE *out, const char *cls, const struct html_fact *facts, int n)
{
    fprintf(out, "<table class=\"%s\"><tbody>\n", cls);
    for (int i = 0; i < n; i++) {
        fputs("<tr><th>", out);
        html_put_text(out, facts[i].key);
        fputs("</th><td>", out);
        html_put_text(out, facts[i].value);
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

double html_nice_step(double span, int ticks)
{
    double raw = span / (ticks > 0 ? ticks : 1);
    double p = pow(10.0, floor(log10(raw)));
    double m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/* ---- bar charts ---- */

enum { BARS_W = 860, BARS_LABEL_W = 96, BARS_RIGHT = 110, BARS_BAR = 18, BARS_GAP = 7 };

/* Past BARS_FULL bars (a deep pipeline's ranks) the bars thin, a pixel apart, so that the
 * chart stays about BARS_TALL pixels tall (at least BARS_MIN a bar), their labels at least
 * LABEL_PITCH apart (every 2nd, 4th ... bar): 96 ranks had drawn 2,436 pixels. */
enum { BARS_FULL = 32, BARS_TALL = 800, BARS_MIN = 3, LABEL_PITCH = 14 };

/* A bar's height and its pitch (with the gap under it), pixels. */
static void bar_size(int nbars, int *bar, int *pitch)
{
    *bar = BARS_BAR;
    *pitch = BARS_BAR + BARS_GAP;
    if (nbars <= BARS_FULL)
        return;
    int h = BARS_TALL / nbars - 1;
    *bar = h < BARS_MIN ? BARS_MIN : h > BARS_BAR ? BARS_BAR : h;
    *pitch = *bar + 1;
}

/* Where a chart's parts go: xmax at the plot's right edge, plot_w pixels wide, the bars from
 * y=top down to the axis at axis_y, each bar pixels tall and pitch apart, every every-th one
 * labelled. */
struct bars_geom {
    double xmax;
    int plot_w, top, axis_y, bar, pitch, every;
};

/* The legend: a swatch and name for each part some bar has. */
static void put_bars_legend(FILE *out, const struct html_bars *b)
{
    fputs("<div class=\"bars\"><div class=\"legend\">", out);
    for (int p = 0; p < b->nparts; p++) {
        int shown = 0;
        for (int i = 0; i < b->nbars && !shown; i++)
            shown = b->values[i * b->nparts + p] > 0;
        if (shown)
            fprintf(out, "<span><i class=\"sw\" style=\"background:%s\"></i>%s</span>",
                    b->part_colours[p], b->part_names[p]);
    }
    fputs("</div>\n", out);
}

/* The x axis spans the longest bar and the limit, with 4% to spare (1 when both are 0). */
static double bars_xmax(const struct html_bars *b)
{
    double xmax = b->limit > 0 ? b->limit : 0;
    for (int i = 0; i < b->nbars; i++) {
        double total = 0;
        for (int p = 0; p < b->nparts; p++)
            total += b->values[i * b->nparts + p] > 0 ? b->values[i * b->nparts + p] : 0;
        if (total > xmax)
            xmax = total;
    }
    return xmax > 0 ? xmax * 1.04 : 1;
}

/* The chart's geometry: bars thin past BARS_FULL and are labelled at least LABEL_PITCH apart. */
static struct bars_geom bars_geom_of(const struct html_bars *b)
{
    struct bars_geom g = {.xmax = bars_xmax(b),
                          .plot_w = BARS_W - BARS_LABEL_W - BARS_RIGHT,
                          .top = 6,
                          .every = 1};
    bar_size(b->nbars, &g.bar, &g.pitch);
    while (g.every * g.pitch < LABEL_PITCH)
        g.every *= 2;
    g.axis_y = g.top + b->nbars * g.pitch;
    return g;
}

/* The grid lines at round values with their ticks, and the unit right of the last. */
static void put_bars_axis(FILE *out, const struct html_bars *b, const struct bars_geom *g)
{
    double step = html_nice_step(g->xmax, 6);
    for (int k = 0; k * step <= g->xmax; k++) {
        double x = BARS_LABEL_W + k * step / g->xmax * g->plot_w;
        fprintf(out,
                "<line class=\"grid\" x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\"/>"
                "<text class=\"tick\" x=\"%.2f\" y=\"%d\">%g</text>\n",
                x, g->top - 2, x, g->axis_y, x, g->axis_y + 14, k * step);
    }
    fprintf(out, "<text class=\"unit\" x=\"%d\" y=\"%d\">", BARS_LABEL_W + g->plot_w + 24,
            g->axis_y + 14);
    html_put_text(out, b->unit);
    fputs("</text>\n", out);
}

/* Bar i: its label (on every every-th bar), then its positive parts stacked left to right,
 * each titled with its value. */
static void put_bar(FILE *out, const struct html_bars *b, const struct bars_geom *g, int i)
{
    int y = g->top + i * g->pitch;
    if (i % g->every == 0) {
        fprintf(out, "<text class=\"bl\" x=\"%d\" y=\"%d\">", BARS_LABEL_W - 8,
                y + g->bar / 2 + 4);
        html_put_text(out, b->bar_labels[i]);
        fputs("</text>", out);
    }
    double x = 0;
    for (int p = 0; p < b->nparts; p++) {
        double v = b->values[i * b->nparts + p];
        if (!(v > 0))
            continue;
        fprintf(out,
                "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\">"
                "<title>",
                BARS_LABEL_W + x / g->xmax * g->plot_w, y, v / g->xmax * g->plot_w, g->bar,
                b->part_colours[p]);
        if (g->every > 1) { /* (not every bar is labelled: the tooltip names it) */
            html_put_text(out, b->bar_labels[i]);
            fputs(" \xc2\xb7 ", out);
        }
        fprintf(out, "%s: %.4g ", b->part_names[p], v);
        html_put_text(out, b->unit);
        fputs("</title></rect>", out);
        x += v;
    }
    fputc('\n', out);
}

/* The limit: a vertical line across the bars, labelled at the top. */
static void put_bars_limit(FILE *out, const struct html_bars *b, const struct bars_geom *g)
{
    double x = BARS_LABEL_W + b->limit / g->xmax * g->plot_w;
    fprintf(out,
            "<line class=\"limit\" x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\"/>"
            "<text class=\"limit\" x=\"%.2f\" y=\"%d\">",
            x, g->top - 4, x, g->axis_y, x + 5, g->top + 10);
    html_put_text(out, b->limit_label ? b->limit_label : "");
    fputs("</text>\n", out);
}

void html_bars(FILE *out, const struct html_bars *b)
{
    put_bars_legend(out, b);
    const struct bars_geom g = bars_geom_of(b);
    const int height = g.axis_y + 30;
    fprintf(out, "<svg class=\"bars-svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
            BARS_W, height, BARS_W, height);
    put_bars_axis(out, b, &g);
    for (int i = 0; i < b->nbars; i++)
        put_bar(out, b, &g, i);
    if (b->limit > 0)
        put_bars_limit(out, b, &g);
    fputs("</svg></div>\n", out);
}

/* ---- CSV tables ---- */

enum { CSV_MAX_COLS = 256, CSV_FIELD_MAX = 4096 };

/* Read one field into buf (cut at CSV_FIELD_MAX - 1 bytes); *eor tells whether it ended its
 * record.  EOF when the input has no more fields. */
static int csv_field(FILE *in, char *buf, int *eor)
{
    size_t n = 0;
    int quoted = 0, c = getc(in);
    if (c == EOF)
        return EOF;
    if (c == '"') {
        quoted = 1;
        c = getc(in);
    }
    for (;; c = getc(in)) {
        if (c == EOF) {
            *eor = 1;
            break;
        }
        if (quoted && c == '"') {
            c = getc(in);
            if (c != '"')
                quoted = 0; /* that was the closing quote; c follows it */
            else {
                if (n + 1 < CSV_FIELD_MAX)
                    buf[n++] = '"';
                continue;
            }
        }
        if (!quoted && (c == ',' || c == '\n' || c == EOF)) {
            *eor = c != ',';
            break;
        }
        if (!quoted && c == '\r')
            continue;
        if (n + 1 < CSV_FIELD_MAX)
            buf[n++] = (char)c;
    }
    buf[n] = '\0';
    return 0;
}

/* Read one record: its fields into cells, CSV_FIELD_MAX bytes each, of which there are
 * CSV_MAX_COLS + 1: fields past CSV_MAX_COLS are read into the last and dropped.  Returns the
 * number kept, 0 at the end of the input. */
static int csv_record(FILE *in, char *cells)
{
    int n = 0, eor = 0;
    while (!eor) {
        char *dst = cells + (size_t)(n < CSV_MAX_COLS ? n : CSV_MAX_COLS) * CSV_FIELD_MAX;
        if (csv_field(in, dst, &eor) == EOF)
            break;
        n += n < CSV_MAX_COLS;
    }
    return n;
}

static int is_number(const char *s, double *v)
{
    if (!*s || isspace((unsigned char)*s))
        return 0;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *end == '\0' && isfinite(*v);
}

/* A number as a reader takes it in, into buf: integers as written, others to 6 significant
 * digits without trailing zeros, and without an exponent between 1e-4 and 1e15 (the CSV keeps
 * 9). */
static void format_number(char *buf, size_t len, const char *text, double v)
{
    double a = fabs(v);
    if (strspn(text, "-0123456789") == strlen(text))
        snprintf(buf, len, "%s", text);
    else if (a == 0)
        snprintf(buf, len, "0");
    else if (a < 1e-4 || a >= 1e15)
        snprintf(buf, len, "%.6g", v);
    else { /* without the trailing zeros of the fixed notation */
        int decimals = 5 - (int)floor(log10(a));
        int n = snprintf(buf, len, "%.*f", decimals > 0 ? decimals : 0, v);
        if (decimals > 0 && n > 0 && (size_t)n < len) {
            while (buf[n - 1] == '0')
                buf[--n] = '\0';
            if (buf[n - 1] == '.')
                buf[n - 1] = '\0';
        }
    }
}

/* The digits after the point of a number's mantissa as format_number writes it ("1.5": 1, "2"
 * and "1e-07": 0; it writes no "2."), its length left in *mantissa (before any exponent). */
static int mantissa_digits(const char *num, size_t *mantissa)
{
    const char *exp = strpbrk(num, "eE");
    *mantissa = exp ? (size_t)(exp - num) : strlen(num);
    const char *point = memchr(num, '.', *mantissa);
    return point ? (int)(*mantissa - (size_t)(point + 1 - num)) : 0;
}

/* Places right of the point a number takes: its mantissa's digits after the point, and with an
 * exponent as many more as the exponent has characters and one, for a "+" wider than a digit
 * ("1e-07": 5, as wide as "1.00000"). */
static int places_right_of_point(const char *num)
{
    size_t mantissa;
    int digits = mantissa_digits(num, &mantissa);
    return num[mantissa] ? digits + (int)strlen(num + mantissa) + 1 : digits;
}

/* A number with its point under its column's others (report.css span.pad, span.e): after its
 * mantissa, hidden zeros (and the point, for a whole number) up to the column's most places
 * right of the point, an exponent drawn over them.  Right-aligned as written, "1069.73" stood a
 * place left of "1037.4" and "986.404" two places right, their points apart; and "1e-07"
 * stood its exponent under the others' decimals, "07" where they have digits after a point. */
static void put_number(FILE *out, const char *num, int column_places)
{
    size_t mantissa;
    int have = mantissa_digits(num, &mantissa);
    fwrite(num, 1, mantissa, out);
    if (num[mantissa])
        fprintf(out, "<span class=\"e\">%s</span>", num + mantissa);
    if (have >= column_places)
        return;
    fputs("<span class=\"pad\">", out);
    if (have == 0)
        fputc('.', out);
    for (; have < column_places; have++)
        fputc('0', out);
    fputs("</span>", out);
}

static int in_list(const char *const *list, const char *name)
{
    for (; list && *list; list++)
        if (strcmp(*list, name) == 0)
            return 1;
    return 0;
}

/* order[k]: the CSV's column shown k-th -- those named in `first` in its order, then the
 * others in the CSV's.  `header` holds the ncols names. */
static void column_order(const char *header, int ncols, const struct html_columns *cols,
                         int *order)
{
    unsigned char placed[CSV_MAX_COLS] = {0};
    int k = 0;
    for (const char *const *f = cols ? cols->first : NULL; f && *f; f++)
        for (int c = 0; c < ncols; c++)
            if (!placed[c] && strcmp(header + (size_t)c * CSV_FIELD_MAX, *f) == 0) {
                order[k++] = c;
                placed[c] = 1;
            }
    for (int c = 0; c < ncols; c++)
        if (!placed[c])
            order[k++] = c;
}

/* A data record, or 0 at the end: blank lines are passed over. */
static int csv_row(FILE *csv, char *cells)
{
    int n;
    while ((n = csv_record(csv, cells)) == 1 && !cells[0])
        ;
    return n;
}

/* folded[c] = 1 for the columns of cols->fold with one value in all of the first max_rows
 * rows (two or more), that value left in ref (the first row).  Reads the rows and seeks back:
 * a stream that cannot seek folds nothing.  Returns 0, or -1 out of memory. */
static int constant_columns(FILE *csv, const char *header, int ncols,
                            const struct html_columns *cols, long max_rows, char *ref,
                            unsigned char *folded)
{
    long start = cols && cols->fold ? ftell(csv) : -1;
    if (start < 0)
        return 0;
    char *row = mem_calloc(CSV_MAX_COLS + 1, CSV_FIELD_MAX);
    if (!row)
        return -1;
    for (int c = 0; c < ncols; c++)
        folded[c] = in_list(cols->fold, header + (size_t)c * CSV_FIELD_MAX);
    int nref = csv_row(csv, ref), n;
    long rows = nref > 0;
    while ((max_rows <= 0 || rows < max_rows) && (n = csv_row(csv, row)) > 0) {
        rows++;
        for (int c = 0; c < ncols; c++) {
            const char *a = c < nref ? ref + (size_t)c * CSV_FIELD_MAX : "";
            const char *b = c < n ? row + (size_t)c * CSV_FIELD_MAX : "";
            folded[c] = folded[c] && strcmp(a, b) == 0;
        }
    }
    mem_free(row);
    for (int c = 0; c < ncols; c++) /* one row is no pattern; a short one lacks the value */
        folded[c] = folded[c] && rows >= 2 && c < nref;
    return fseek(csv, start, SEEK_SET) == 0 ? 0 : -1;
}

/* For column c in the first max_rows rows: places[c], the most places right of the point of
 * its numbers (as format_number writes them); numeric[c] = 1 when it holds numbers and no other
 * text, its header then right-aligned over them.  Reads the rows and seeks back: a stream that
 * cannot seek pads and aligns nothing.  Returns 0, or -1 out of memory or when it cannot seek
 * back. */
static int number_columns(FILE *csv, long max_rows, unsigned char *places, unsigned char *numeric)
{
    long start = ftell(csv);
    if (start < 0)
        return 0;
    char *row = mem_calloc(CSV_MAX_COLS + 1, CSV_FIELD_MAX);
    if (!row)
        return -1;
    unsigned char text[CSV_MAX_COLS] = {0};
    char num[64];
    double v;
    int n;
    for (long rows = 0; (max_rows <= 0 || rows < max_rows) && (n = csv_row(csv, row)) > 0;
         rows++)
        for (int c = 0; c < n; c++) {
            const char *cell = row + (size_t)c * CSV_FIELD_MAX;
            if (!*cell)
                continue;
            if (!is_number(cell, &v)) {
                text[c] = 1;
                continue;
            }
            numeric[c] = 1;
            if (strlen(cell) >= sizeof num)
                continue;
            format_number(num, sizeof num, cell, v);
            int p = places_right_of_point(num);
            places[c] = p > places[c] ? (unsigned char)p : places[c];
        }
    mem_free(row);
    for (int c = 0; c < CSV_MAX_COLS; c++)
        numeric[c] = numeric[c] && !text[c];
    return fseek(csv, start, SEEK_SET) == 0 ? 0 : -1;
}

/* The note naming the folded columns with their value, above the table. */
static void put_folded(FILE *out, const char *header, int ncols, const int *order,
                       const unsigned char *folded, const char *ref)
{
    int any = 0;
    for (int k = 0; k < ncols; k++) {
        int c = order[k];
        if (!folded[c])
            continue;
        fputs(any ? ", " : "<p class=\"note folded\">The same in every row, so not a column: ",
              out);
        html_put_text(out, header + (size_t)c * CSV_FIELD_MAX);
        fputc('=', out);
        html_put_text(out, ref + (size_t)c * CSV_FIELD_MAX);
        any = 1;
    }
    if (any)
        fputs(".</p>\n", out);
}

/* A failed row's config as its columns left of status name it ("pp=3 vp=2": sweep's --vary
 * axes), or its row number when none stands there. */
static void put_config(FILE *out, const char *header, const char *cells, int n, int status_col,
                       long row)
{
    for (int c = 0; c < status_col && c < n; c++) {
        fputs(c ? " " : "", out);
        html_put_text(out, header + (size_t)c * CSV_FIELD_MAX);
        fputc('=', out);
        html_put_text(out, cells + (size_t)c * CSV_FIELD_MAX);
    }
    if (status_col <= 0 || n <= 0)
        fprintf(out, "row %ld", row);
}

/* Under the table, each failed row (a non-empty "error" cell) of the first max_rows, by its
 * config with its status and reason, at the anchor its status cell links to: the reason, in
 * the last of some 30 columns, stood off-screen at 800 and 1920 px wide.  Reads the CSV from
 * `start` (its header) again; a stream that cannot seek lists nothing.  Returns 0, or -1 on a
 * read error or out of memory. */
static int put_failures(FILE *out, FILE *csv, long start, int status_col, int error_col,
                        long max_rows)
{
    if (error_col < 0 || start < 0 || fseek(csv, start, SEEK_SET) != 0)
        return 0;
    char *header = mem_calloc(CSV_MAX_COLS + 1, CSV_FIELD_MAX);
    char *cells = header ? mem_calloc(CSV_MAX_COLS + 1, CSV_FIELD_MAX) : NULL;
    if (!cells) {
        mem_free(header);
        return -1;
    }
    long row = 0, failed = 0;
    int n = csv_record(csv, header);
    while ((max_rows <= 0 || row < max_rows) && (n = csv_row(csv, cells)) > 0) {
        row++;
        const char *why = error_col < n ? cells + (size_t)error_col * CSV_FIELD_MAX : "";
        if (!*why)
            continue;
        if (failed++ == 0)
            fputs("<h3 id=\"failed\">Failed configs</h3>\n<ul class=\"fails\">\n", out);
        fprintf(out, "<li id=\"fail-%ld\"><b>", failed);
        put_config(out, header, cells, n, status_col, row);
        fputs("</b> ", out);
        if (status_col >= 0 && status_col < n)
            html_put_text(out, cells + (size_t)status_col * CSV_FIELD_MAX);
        fputs(": ", out);
        html_put_text(out, why);
        fputs("</li>\n", out);
    }
    if (failed)
        fputs("</ul>\n", out);
    int bad = ferror(csv);
    mem_free(cells);
    mem_free(header);
    return bad ? -1 : 0;
}

/* What the header row says about the CSV's columns, for the rows under it: kept in one place so
 * that the header, the rows and the cells each fit a screen. */
struct table_cols {
    int ncols;
    int order[CSV_MAX_COLS]; /* the CSV's column shown k-th */
    unsigned char folded[CSV_MAX_COLS], nowrap[CSV_MAX_COLS], why[CSV_MAX_COLS];
    unsigned char places[CSV_MAX_COLS];  /* most places right of the point (number_columns) */
    unsigned char numeric[CSV_MAX_COLS]; /* numbers only: the header right-aligned too */
    int status_col, error_col; /* -1: none */
};

/* The table's opening and header row; finds the status and error columns and which columns
 * keep to one line, from the header's names in `cells`. */
static void put_table_head(FILE *out, const char *cells, const struct html_columns *cols,
                           const char *sort_key, int sort_desc, struct table_cols *t)
{
    fputs("<div class=\"table-wrap\"><table class=\"sortable\"", out);
    if (sort_key) {
        fputs(" data-sort=\"", out);
        html_put_text(out, sort_key);
        fprintf(out, "\" data-desc=\"%d\"", sort_desc != 0);
    }
    fputs(">\n<thead><tr>", out);
    for (int k = 0; k < t->ncols; k++) {
        int c = t->order[k];
        const char *name = cells + (size_t)c * CSV_FIELD_MAX;
        if (strcmp(name, "status") == 0)
            t->status_col = c;
        t->nowrap[c] = cols && in_list(cols->nowrap, name);
        t->why[c] = strcmp(name, "error") == 0;
        if (t->why[c])
            t->error_col = c;
        if (t->folded[c])
            continue;
        fputs(t->numeric[c] ? "<th class=\"n\">" : "<th>", out);
        html_put_text(out, name);
        fputs("</th>", out);
    }
    fputs("</tr></thead>\n<tbody>\n", out);
}

/* One cell of column c: numbers right-aligned, a failed row's status linked to its reason
 * (`failed` numbers the reason in put_failures' list), error text cut to one line. */
static void put_cell(FILE *out, const char *text, int c, const struct table_cols *t,
                     const char *reason, long failed)
{
    double v;
    if (is_number(text, &v)) {
        char num[CSV_FIELD_MAX];
        format_number(num, sizeof num, text, v);
        fputs("<td class=\"n\">", out);
        put_number(out, num, t->places[c]);
    } else if (c == t->status_col && *reason) {
        /* the status links to the reason, listed under the table (put_failures) */
        fprintf(out, "<td><a href=\"#fail-%ld\" title=\"", failed);
        html_put_text(out, reason);
        fputs("\">", out);
        html_put_text(out, text);
        fputs("</a>", out);
    } else if (t->why[c] && *text) {
        /* one line, cut with an ellipsis (report.css td.why), the whole on hover: it
         * had wrapped into some 9 lines and stood each failed row as tall */
        fputs("<td class=\"why\" title=\"", out);
        html_put_text(out, text);
        fputs("\">", out);
        html_put_text(out, text);
    } else {
        fputs(t->nowrap[c] ? "<td class=\"nw\">" : "<td>", out);
        html_put_text(out, text);
    }
    fputs("</td>", out);
}

/* One row of n cells, classed by its status; counts it in *failed when it has an error. */
static void put_row(FILE *out, const char *cells, int n, const struct table_cols *t, long *failed)
{
    const char *reason =
        t->error_col >= 0 && t->error_col < n ? cells + (size_t)t->error_col * CSV_FIELD_MAX : "";
    *failed += *reason != '\0';
    fputs("<tr", out);
    if (t->status_col >= 0 && t->status_col < n) {
        fputs(" class=\"s-", out);
        for (const char *s = cells + (size_t)t->status_col * CSV_FIELD_MAX; *s; s++)
            if (isalnum((unsigned char)*s))
                fputc(tolower((unsigned char)*s), out);
        fputc('"', out);
    }
    fputc('>', out);
    for (int k = 0; k < t->ncols; k++) {
        int c = t->order[k];
        if (!t->folded[c])
            put_cell(out, c < n ? cells + (size_t)c * CSV_FIELD_MAX : "", c, t, reason, *failed);
    }
    fputs("</tr>\n", out);
}

long html_csv_table(FILE *out, FILE *csv, const struct html_columns *cols, const char *sort_key,
                    int sort_desc, long max_rows, long *total)
{
    char *cells = mem_calloc(CSV_MAX_COLS + 1, CSV_FIELD_MAX);
    char *ref = cols && cols->fold ? mem_calloc(CSV_MAX_COLS + 1, CSV_FIELD_MAX) : NULL;
    struct table_cols t = {.status_col = -1, .error_col = -1};
    if (!cells || (cols && cols->fold && !ref)) {
        mem_free(cells);
        mem_free(ref);
        return -1;
    }
    long start = ftell(csv); /* the header, read again for the failures' list */
    t.ncols = csv_record(csv, cells);
    column_order(cells, t.ncols, cols, t.order);
    if ((ref && constant_columns(csv, cells, t.ncols, cols, max_rows, ref, t.folded) != 0) ||
        number_columns(csv, max_rows, t.places, t.numeric) != 0) {
        mem_free(cells);
        mem_free(ref);
        return -1;
    }
    if (ref)
        put_folded(out, cells, t.ncols, t.order, t.folded, ref);
    mem_free(ref);
    put_table_head(out, cells, cols, sort_key, sort_desc, &t);
    long rows = 0, all = 0, failed = 0;
    int n;
    while ((n = csv_record(csv, cells)) > 0) {
        if (n == 1 && !cells[0]) /* a blank line */
            continue;
        if (all++ >= max_rows && max_rows > 0)
            continue;
        put_row(out, cells, n, &t, &failed);
        rows++;
    }
    fputs("</tbody></table></div>\n", out);
    if (total)
        *total = all;
    int bad = ferror(csv) || ferror(out);
    if (!bad && failed && put_failures(out, csv, start, t.status_col, t.error_col, max_rows))
        bad = 1;
    mem_free(cells);
    return bad ? -1 : rows;
}
