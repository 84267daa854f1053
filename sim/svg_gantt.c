/* svg_gantt: lanes, boxes merged below a pixel, axis and legend (see svg_gantt.h). */
#include "svg_gantt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "html.h"
#include "schedule.h"
#include "strips.h"

/* Box kinds: the compute kinds (enum rec_kind's F, B, W, OPT) then the two transfers. */
enum { K_F, K_B, K_W, K_OPT, K_ACT, K_GRAD, K_COUNT };

/* Geometry, in pixels. */
enum {
    LEFT = SVG_GANTT_WIDTH - SVG_GANTT_PLOT_W - 16, /* rank labels */
    TOP = 8,
    RANK_H = 26, /* a rank lane; its boxes are BOX_H tall in the middle */
    BOX_H = 20,
    LINK_H = 12, /* a link lane: two halves of HALF_H */
    HALF_H = 5,
    AXIS_H = 40,
};

/* A deeper pipeline than FULL_RANKS ranks takes thinner lanes, the plot about COMPACT_H pixels
 * tall (a lane at least MIN_BOX_H, a pixel apart), and leaves its link lanes out: 1024 ranks
 * had drawn a chart 39,000 pixels tall, its time axis as far below its first rank.  Rank
 * labels stand LABEL_PITCH pixels apart at least (every 2nd, 4th, ... rank). */
enum { FULL_RANKS = 64, COMPACT_H = 2400, MIN_BOX_H = 3, LABEL_PITCH = 14 };

/* plots/gantt.gp's colours: one per compute kind, the two transfers. */
static const unsigned long dark[4] = {0x2b6cb0, 0xc05621, 0x2f855a, 0x6b46c1};
static const unsigned long send_colour[2] = {0x319795, 0xb83280};
/* With several chunks, F, B and W take their shades along four of the kind, darkest first, as
 * gantt.gp's ramp(k, i): about 18 apart in CIEDE2000, where a blend of dark and light had left
 * chunks 1 and 2 of 4 under 11 apart. */
static const unsigned long ramp[3][4] = {{0x1c3a7f, 0x056bb2, 0x02a0df, 0x86d7f4},
                                         {0x7d2c1b, 0xc45521, 0xe79241, 0xfcd278},
                                         {0x014937, 0x187a4d, 0x62ab64, 0xb8dd95}};

/* a + (b - a) t per channel, rounded (gantt.gp's mix) */
static unsigned long blend(unsigned long a, unsigned long b, double t)
{
    unsigned long c = 0;
    for (int shift = 16; shift >= 0; shift -= 8) {
        double x = (double)((a >> shift) & 0xff), y = (double)((b >> shift) & 0xff);
        c |= (unsigned long)(x + (y - x) * t + 0.5) << shift;
    }
    return c;
}

/* Chunk c of vp sits at c / (vp - 1) along its kind's four shades (gantt.gp's shade). */
static unsigned long colour_of(int kind, int chunk, int vp)
{
    if (kind >= K_ACT)
        return send_colour[kind - K_ACT];
    if (kind == K_OPT || vp <= 1)
        return dark[kind];
    double t = 3.0 * chunk / (vp - 1);
    int i = t >= 2 ? 2 : (int)t;
    return blend(ramp[kind][i], ramp[kind][i + 1], t - i);
}

/* Label ink: black on light fills, white on dark ones (ITU-R BT.601 luma), as gantt.gp. */
static int is_light(unsigned long c)
{
    return 0.299 * (double)(c >> 16 & 0xff) + 0.587 * (double)(c >> 8 & 0xff) +
               0.114 * (double)(c & 0xff) >
           150;
}

/* An op or transfer to draw: what its box needs, read in lane order at every try of
 * choose_columns (the records themselves, a lane's spread over all of them, cost a cache miss
 * each: 1M ops took 0.5 s a try). */
struct item {
    simtime_t start, end;
    int mb;
    short kind, chunk;
};

/* The chart being drawn, or counted (out NULL) while choose_columns tries column widths. */
struct chart {
    FILE *out; /* NULL: count the boxes only */
    const struct pipe_result *res;
    int vp;
    simtime_t t0; /* the step's first op */
    double px_per_ps;
    int ncols;             /* the step's columns at the default zoom: ops narrower than one merge */
    simtime_t thr;         /* a column's time */
    int *lane_y;           /* [nlanes] top of each lane's boxes */
    int *lane_h;           /* [nlanes] their height */
    int compact;           /* past FULL_RANKS: thin rank lanes, no link lanes */
    int pitch;             /* a rank lane's height with its margins, pixels */
    struct item *items;    /* the drawn ops, lane by lane ... */
    size_t *first;         /* [nlanes + 1] ... lane l's from items[first[l]] */
    size_t budget;         /* counting: boxes past this are too many (no need to count on) */
    int counting;          /* put_ops stops past the budget (its boxes go to a trial's buffer) */
    size_t cut_columns;    /* svg_gantt_stats', over every put_ops */
    struct strips_row row; /* the merged ops of the lane being drawn, in pixels */
    struct svg_gantt_stats st;
};

/* A box's opening tag, its attributes to follow: from x0 to x1 pixels, y and height. */
static void put_rect_px(struct chart *c, double x0, double x1, int y, int h)
{
    fprintf(c->out, "<rect x=\"%.7g\" y=\"%d\" width=\"%.7g\" height=\"%d\"", x0, y, x1 - x0, h);
}

static double x_of(const struct chart *c, simtime_t t)
{
    return (double)(t - c->t0) * c->px_per_ps;
}

static void put_box(struct chart *c, int lane, simtime_t t0, simtime_t t1)
{
    put_rect_px(c, x_of(c, t0), x_of(c, t1), c->lane_y[lane], c->lane_h[lane]);
}

/* The box kind of a record; -1 for what is not drawn (gradient reductions run on a
 * communication stream beside compute and are in the trace instead). */
static int kind_of(const struct pipe_record *r)
{
    switch ((enum rec_kind)r->kind) {
    case REC_F: return K_F;
    case REC_B: return K_B;
    case REC_W: return K_W;
    case REC_OPT:
    case REC_PARAM_AG: return K_OPT; /* the all-gather finishes the optimizer step */
    case REC_SEND_ACT: return K_ACT;
    case REC_SEND_GRAD: return K_GRAD;
    case REC_DP_SYNC: return -1;
    }
    return -1;
}

/* Link lane k joins ranks k and k+1; the last (k = pp-1) the last rank and rank 0. */
static int link_of(int pp, int src, int dst)
{
    return src + 1 == dst ? src : dst + 1 == src ? dst : pp - 1;
}

static int lane_of(const struct pipe_record *r, int kind, int pp)
{
    if (kind < K_ACT)
        return r->rank;
    return pp + 2 * link_of(pp, r->rank, r->peer) + (kind == K_GRAD);
}

/* What the step shows: kinds present, transfers that take time, the wrap link. */
struct scan {
    int present[K_COUNT];
    int links, wrap, pairs;
    size_t reductions; /* gradient reductions that take time, left off the chart */
};

static void scan_records(const struct pipe_result *res, struct scan *s)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        int k = kind_of(r);
        if (r->end <= r->start)
            continue;
        if (k < 0) {
            s->reductions += r->kind == REC_DP_SYNC;
            continue;
        }
        s->present[k] = 1;
        if (k >= K_ACT) {
            s->links = 1;
            s->wrap |= link_of(res->pp, r->rank, r->peer) == res->pp - 1;
        }
        s->pairs |= r->overlap == SCHED_PAIR_B;
    }
}

static void put_legend_entry(FILE *out, unsigned long colour, const char *name, const char *extra)
{
    fprintf(out, "<span><i class=\"sw\" style=\"background:#%06lx\"></i>", colour);
    html_put_text(out, name);
    if (extra)
        html_put_text(out, extra);
    fputs("</span>", out);
}

/* A kind's entry when the chunks are too many to name one by one: one swatch running through
 * the kind's four shades, which the chunks take in order (colour_of), darkest first. */
static void put_legend_ramp(FILE *out, int kind, const char *name)
{
    fputs("<span><i class=\"sw ramp\" style=\"background:linear-gradient(90deg", out);
    for (int i = 0; i < 4; i++)
        fprintf(out, ",#%06lx", ramp[kind][i]);
    fputs(")\"></i>", out);
    html_put_text(out, name);
    fputs("</span>", out);
}

/* Up to this many chunks the legend names each (kind, chunk) shade; beyond, one entry per kind
 * and a note on the shading: vp 20 gave 40 entries in ten rows at 800 px, over the chart. */
enum { LEGEND_CHUNKS = 4 };

static void put_legend(FILE *out, const struct scan *s, int vp, const char *const *chunk_names)
{
    static const char *const kind_names[3] = {"F forward", "B backward", "W weight gradient"};
    int by_kind = vp > LEGEND_CHUNKS && !chunk_names;
    fputs("<div class=\"legend\">", out);
    for (int k = K_F; k <= K_W; k++) {
        if (!s->present[k])
            continue;
        const char *name =
            k == K_B && s->present[K_W] ? "B backward (input gradient)" : kind_names[k];
        if (by_kind) {
            put_legend_ramp(out, k, name);
            continue;
        }
        for (int ch = 0; ch < (vp > 1 ? vp : 1); ch++) {
            char extra[80] = "";
            if (vp > 1 && chunk_names)
                snprintf(extra, sizeof extra, ", %s", chunk_names[ch]);
            else if (vp > 1)
                snprintf(extra, sizeof extra, ", chunk %d", ch);
            put_legend_entry(out, colour_of(k, ch, vp), name, extra);
        }
    }
    if (by_kind)
        fprintf(out,
                "<span class=\"shade\">shade: the model chunk, 0 darkest to %d lightest</span>",
                vp - 1);
    if (s->present[K_OPT])
        put_legend_entry(out, dark[K_OPT], "optimizer", NULL);
    if (s->present[K_ACT])
        put_legend_entry(out, send_colour[0], "activation send", NULL);
    if (s->present[K_GRAD])
        put_legend_entry(out, send_colour[1], "gradient send", NULL);
    put_legend_entry(out, 0xe2e8f0, "idle (bubble)", NULL);
    if (s->pairs)
        fputs("<span><i class=\"sw pair\"></i>F&amp;B overlapped pair</span>", out);
    fputs("</div>\n", out);
}

/* CSS for every (kind, chunk) class: the fill, and the ink of labels on it. */
static void put_styles(FILE *out, const struct scan *s, int vp)
{
    fputs("<style>", out);
    for (int k = 0; k < K_COUNT; k++) {
        if (!s->present[k])
            continue;
        for (int ch = 0; ch < (k <= K_W && vp > 1 ? vp : 1); ch++) {
            unsigned long col = colour_of(k, ch, vp);
            fprintf(out, ".k%dc%d{fill:#%06lx}text.k%dc%d{fill:#%s}", k, ch, col, k, ch,
                    is_light(col) ? "1a202c" : "fff");
        }
    }
    fputs("</style>\n", out);
}

/* Ticks along the time axis (the script redraws them on zoom). */
static void put_axis(FILE *out, double span_s, int plot_bottom)
{
    double scale = span_s < 2e-3 ? 1e6 : span_s < 2 ? 1e3 : 1;
    const char *unit = span_s < 2e-3 ? "\xc2\xb5s" : span_s < 2 ? "ms" : "s";
    double step = html_nice_step(span_s * scale, 10);
    fprintf(out, "<g class=\"axis\" data-y0=\"%d\" data-y1=\"%d\">", TOP, plot_bottom);
    for (int k = 0; k * step <= span_s * scale * (1 + 1e-9); k++) {
        double x = LEFT + k * step / scale / span_s * SVG_GANTT_PLOT_W;
        fprintf(out,
                "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\"/>"
                "<text x=\"%.2f\" y=\"%d\">%g</text>",
                x, TOP, x, plot_bottom + 4, x, plot_bottom + 17, k * step);
    }
    fprintf(out, "<text class=\"title\" x=\"%d\" y=\"%d\">time since the first op (%s)</text>",
            LEFT + SVG_GANTT_PLOT_W / 2, plot_bottom + 34, unit);
    fputs("</g>\n", out);
}

static void put_lane_labels(FILE *out, const struct chart *c, int links,
                            const double *rank_mem_bytes)
{
    int pp = c->res->pp, every = 1;
    while (every * c->pitch < LABEL_PITCH)
        every *= 2;
    if (c->compact)
        rank_mem_bytes = NULL; /* no room under the label: the per-rank table has it */
    for (int r = 0; r < pp; r += every) {
        int mid = c->lane_y[r] + c->lane_h[r] / 2;
        fprintf(out, "<text class=\"rl\" x=\"%d\" y=\"%d\">rank %d</text>", LEFT - 8,
                rank_mem_bytes ? mid - 1 : mid + 4, r);
        if (rank_mem_bytes)
            fprintf(out, "<text class=\"rm\" x=\"%d\" y=\"%d\">%.1f GiB</text>", LEFT - 8, mid + 10,
                    rank_mem_bytes[r] / 1073741824.0);
        if (links && c->lane_h[pp + 2 * r] > 0)
            fprintf(out, "<text class=\"ll\" x=\"%d\" y=\"%d\">%d\xe2\x87\x84%d</text>", LEFT - 8,
                    c->lane_y[pp + 2 * r] + HALF_H + 3, r, (r + 1) % pp);
        fputc('\n', out);
    }
}

/* Lane positions: rank r, then the link below it when drawn.  Returns the plot's height. */
static int place_lanes(struct chart *c, const struct scan *s)
{
    int pp = c->res->pp, y = TOP, box = BOX_H;
    c->pitch = RANK_H;
    if (c->compact) {
        box = COMPACT_H / pp - 1;
        box = box < MIN_BOX_H ? MIN_BOX_H : box > BOX_H ? BOX_H : box;
        c->pitch = box + 1;
    }
    for (int r = 0; r < pp; r++) {
        c->lane_y[r] = y + (c->pitch - box) / 2;
        c->lane_h[r] = box;
        y += c->pitch;
        if (s->links && !c->compact && (r < pp - 1 || (s->wrap && pp > 2))) {
            c->lane_y[pp + 2 * r] = y + 1;
            c->lane_y[pp + 2 * r + 1] = y + 1 + HALF_H;
            c->lane_h[pp + 2 * r] = c->lane_h[pp + 2 * r + 1] = HALF_H;
            y += LINK_H;
        }
    }
    return y + (c->pitch - box) / 2;
}

/* A light band per rank and per link; what no box covers is idle.  Returns how many. */
static size_t put_lane_bands(struct chart *c, int nlanes)
{
    size_t n = 0;
    for (int l = 0; l < nlanes; l++) {
        if (c->lane_h[l] == 0 || (l >= c->res->pp && (l - c->res->pp) % 2))
            continue;
        int link = l >= c->res->pp, margin = c->compact ? 0 : 2;
        n++;
        if (c->out)
            fprintf(c->out, "<rect class=\"%s\" x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n",
                    link ? "band-link" : "band", link ? c->lane_y[l] - 1 : c->lane_y[l] - margin,
                    SVG_GANTT_PLOT_W, link ? 2 * HALF_H + 2 : c->lane_h[l] + 2 * margin);
    }
    return n;
}

/* Outlines of overlapped F&B pairs wide enough to see (3 columns), over their boxes.  Returns
 * how many. */
static size_t put_pairs(struct chart *c, simtime_t *pair_start)
{
    size_t n = 0;
    for (size_t i = 0; i < c->res->nrecs; i++) {
        const struct pipe_record *r = &c->res->recs[i];
        if (r->peer >= 0 || kind_of(r) > K_W)
            continue;
        if (r->overlap == SCHED_PAIR_F)
            pair_start[r->rank] = r->start;
        else if (r->overlap == SCHED_PAIR_B && r->end - pair_start[r->rank] >= 3 * c->thr) {
            n++;
            if (!c->out)
                continue;
            put_box(c, r->rank, pair_start[r->rank], r->end);
            fputs(" class=\"pair\"/>\n", c->out);
        }
    }
    return n;
}

/* ---- ops, one lane at a time ---- */

static int narrow(const struct chart *c, const struct item *it)
{
    return it->end - it->start < c->thr;
}

/* Does op j of its lane's [from, to) merge: narrower than a column, with a narrow neighbour
 * less than a column away?  A lone narrow op (an optimizer step between wide ops) keeps a box
 * of its own. */
static int merges(const struct chart *c, size_t from, size_t to, size_t j)
{
    const struct item *it = &c->items[j];
    if (!narrow(c, it))
        return 0;
    if (j > from && narrow(c, it - 1) && it->start - it[-1].end < c->thr)
        return 1;
    return j + 1 < to && narrow(c, it + 1) && it[1].start - it->end < c->thr;
}

/* A rank lane's strip slots: F, B and W per chunk, then OPT, then the F/B/W total. */
static int slot_of(const struct chart *c, int kind, int chunk)
{
    return kind == K_OPT ? 3 * c->vp : kind * c->vp + chunk;
}

/* An op's own box, with its micro-batch for the script's labels and tooltips. */
static void put_op(struct chart *c, int lane, const struct item *it)
{
    c->st.boxes++;
    if (!c->out)
        return;
    put_box(c, lane, it->start, it->end);
    fprintf(c->out, " class=\"k%dc%d\" data-m=\"%d\"/>\n", it->kind, it->chunk, it->mb);
}

/* A box of merged ops from column a to b, y and height in pixels: `kind` and `chunk` busy
 * `share` of its time (the tooltip's percentage); `extra` attributes. */
static void put_merged(struct chart *c, int a, int b, int y, int h, int kind, int chunk,
                       double share, const char *extra)
{
    c->st.boxes++;
    c->st.merged++;
    if (!c->out)
        return;
    put_rect_px(c, c->row.t0 + a * c->row.col, c->row.t0 + b * c->row.col, y, h);
    fprintf(c->out, "%s class=\"k%dc%d run\" data-run=\"%.3g\"/>\n", extra, kind, chunk,
            100 * share);
}

/* Span [a, b) of a rank lane: each (kind, chunk) as tall as its share of the span's time,
 * stacked from the lane's bottom in slot order, as gantt.gp's strips stack the kinds, so that
 * the stack is as tall as the rank's busy share and the idle rest is empty lane.  On whole
 * pixels (boundaries rounded; at least one when anything runs). */
static void put_rank_span(struct chart *c, int lane, int a, int b)
{
    const struct strips_row *row = &c->row;
    double width = (b - a) * row->col, total = 0, cum = 0;
    int h = c->lane_h[lane], last = -1, lo = 0;
    for (int j = 0; j < row->nslot - 1; j++)
        if (strips_busy(row, a, b, j) > 0) {
            total += strips_busy(row, a, b, j);
            last = j;
        }
    int top = (int)lround(fmin(1.0, total / width) * h);
    top = top < 1 ? 1 : top;
    for (int j = 0; j <= last; j++) {
        double busy = strips_busy(row, a, b, j);
        if (busy <= 0)
            continue;
        cum += busy;
        int hi = j == last ? top : (int)fmin(top, lround(cum / width * h));
        if (hi <= lo)
            continue;
        int kind = j == 3 * c->vp ? K_OPT : j / c->vp;
        put_merged(c, a, b, c->lane_y[lane] + h - hi, hi - lo, kind, kind == K_OPT ? 0 : j % c->vp,
                   busy / width, "");
        lo = hi;
    }
}

/* Span [a, b) of a half link lane, too thin to stack: one box, as opaque as the link is busy
 * (tenths, at least one: a few fixed shades). */
static void put_link_span(struct chart *c, int lane, int a, int b)
{
    double share = fmin(1.0, strips_busy(&c->row, a, b, 1) / ((b - a) * c->row.col));
    if (share <= 0)
        return;
    int tenths = (int)lround(share * 10);
    char extra[32] = "";
    if (tenths < 10)
        snprintf(extra, sizeof extra, " fill-opacity=\"0.%d\"", tenths < 1 ? 1 : tenths);
    int kind = (lane - c->res->pp) % 2 ? K_GRAD : K_ACT;
    put_merged(c, a, b, c->lane_y[lane], c->lane_h[lane], kind, 0, share, extra);
}

/* Empty the strip row for a lane's ops [from, to): its columns (of the step's ncols) are the
 * ones from its first op's to its last op's, where the rest of the step would be empty lane,
 * and cutting that into spans had cost most of a deep pipeline's page (1024 ranks, each busy a
 * few % of the step: 2.5 G instructions of the page's 3.1 G). */
static void reset_lane_row(struct chart *c, size_t from, size_t to, int nslot, int tight_from)
{
    double col = (double)SVG_GANTT_PLOT_W / c->ncols, lo = INFINITY, hi = 0;
    for (size_t j = from; j < to; j++) {
        lo = fmin(lo, x_of(c, c->items[j].start));
        hi = fmax(hi, x_of(c, c->items[j].end));
    }
    int first = (int)fmin(fmax(floor(lo / col), 0), c->ncols - 1);
    int end = (int)fmin(fmax(floor(hi / col) + 1, first + 1), c->ncols);
    strips_reset(&c->row, end - first, first * col, col, nslot, tight_from);
}

/* One lane: wide and lone ops as boxes of their own, the others into the strip row (in
 * pixels), which is then cut into spans of even work, each drawn as one stack. */
static void put_lane(struct chart *c, int lane)
{
    int link = lane >= c->res->pp, nslot = link ? 2 : 3 * c->vp + 2;
    size_t from = c->first[lane], to = c->first[lane + 1], merged = 0;
    for (size_t j = from; j < to; j++) {
        const struct item *it = &c->items[j];
        c->st.ops++;
        if (!merges(c, from, to, j)) {
            put_op(c, lane, it);
            continue;
        }
        if (merged++ == 0)
            reset_lane_row(c, from, to, nslot, link ? 0 : 3 * c->vp);
        strips_add(&c->row, link ? 0 : slot_of(c, it->kind, it->chunk), link || it->kind <= K_W,
                   x_of(c, it->start), x_of(c, it->end));
    }
    c->st.merged_ops += merged;
    if (merged == 0)
        return;
    strips_accumulate(&c->row);
    c->cut_columns += (size_t)c->row.ncols;
    for (int a = 0, b; a < c->row.ncols; a = b) {
        b = strips_span_end(&c->row, a);
        if (link)
            put_link_span(c, lane, a, b);
        else
            put_rank_span(c, lane, a, b);
    }
}

/* Every lane; when counting, only until the boxes are past the budget. */
static void put_ops(struct chart *c, int nlanes)
{
    memset(&c->st, 0, sizeof c->st);
    for (int l = 0; l < nlanes && (!c->counting || c->st.boxes <= c->budget); l++)
        if (c->lane_h[l] > 0) /* (a link lane left out of a deep pipeline's chart: 0) */
            put_lane(c, l);
}

/* The finest columns whose boxes, with the lanes' bands and the pairs' outlines, stay within
 * SVG_GANTT_MAX_BOXES: 8 a pixel of the default zoom (each op at least 1/8 pixel wide drawn
 * apart shows when zoomed in 8 times), then half as many at each try, down to one for the
 * whole step (a box per (kind, chunk) and lane at most).  Each try draws its ops into a buffer,
 * and the one taken is the chart's (*ops, *len; the caller frees it): drawing them again had
 * cut every lane into spans twice, half a deep pipeline's page.  Returns 0, or -1 out of
 * memory. */
static int choose_columns(struct chart *c, simtime_t span, int nlanes, int pairs,
                          simtime_t *pair_start, char **ops, size_t *len)
{
    FILE *out = c->out;
    c->out = NULL;
    size_t bands = put_lane_bands(c, nlanes), boxes;
    c->budget = SVG_GANTT_MAX_BOXES - bands;
    for (c->ncols = 8 * SVG_GANTT_PLOT_W;; c->ncols /= 2) {
        c->counting = c->ncols > 1; /* the last try is drawn whole, whatever it counts */
        free(*ops);
        *ops = NULL;
        if (!(c->out = open_memstream(ops, len)))
            break;
        c->thr = span / c->ncols;
        put_ops(c, nlanes);
        if (fclose(c->out) != 0)
            break;
        c->out = NULL;
        boxes = c->st.boxes + (c->st.boxes <= c->budget && pairs ? put_pairs(c, pair_start) : 0);
        if (boxes <= c->budget || c->ncols == 1) {
            c->out = out;
            c->counting = 0;
            return 0;
        }
    }
    c->out = out;
    return -1;
}

/* The legend, the buttons and the opening of the chart's SVG (with the lanes' labels, the
 * styles and the axis) and of its plot area. */
static void put_head(struct chart *c, const struct scan *s, const struct svg_gantt_opts *opts,
                     simtime_t span, int plot_h)
{
    FILE *out = c->out;
    int height = plot_h + AXIS_H;
    double span_s = simtime_to_s(span);
    fputs("<div class=\"gantt\">\n", out);
    put_legend(out, s, c->vp, opts ? opts->chunk_names : NULL);
    fputs("<div class=\"tools\"><button type=\"button\" data-zoom=\"in\">+</button>"
          "<button type=\"button\" data-zoom=\"out\">\xe2\x88\x92</button>"
          "<button type=\"button\" data-zoom=\"reset\">reset</button>"
          "<span class=\"hint\">wheel or +/\xe2\x88\x92: zoom \xc2\xb7 drag: pan \xc2\xb7 "
          "double-click: whole step \xc2\xb7 box label: micro-batch",
          out);
    /* what the small lane labels are, which the chart does not say itself */
    if (opts && opts->rank_mem_bytes && !c->compact)
        fputs(" \xc2\xb7 GiB under a rank: its peak memory per GPU", out);
    if (s->links)
        fputs(" \xc2\xb7 lane i\xe2\x87\x84j: the P2P link between ranks i and j", out);
    fputs("</span></div>\n", out);
    fprintf(out,
            "<svg class=\"gantt-svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "data-span=\"%.9g\" data-lm=\"%d\" data-pw=\"%d\" ",
            SVG_GANTT_WIDTH, height, SVG_GANTT_WIDTH, height, span_s, LEFT, SVG_GANTT_PLOT_W);
    /* the tooltip names a chunk as the legend does (report.js) */
    if (opts && opts->chunk_names) {
        fputs("data-chunks=\"", out);
        for (int ch = 0; ch < c->vp; ch++)
            fprintf(out, "%s%s", ch ? " " : "", opts->chunk_names[ch]);
        fputs("\" ", out);
    }
    fputs("role=\"img\" aria-label=\"Gantt chart of the step\">\n", out);
    put_styles(out, s, c->vp);
    put_lane_labels(out, c, s->links, opts ? opts->rank_mem_bytes : NULL);
    put_axis(out, span_s, plot_h);
    fprintf(out,
            "<svg class=\"plot\" x=\"%d\" y=\"0\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" preserveAspectRatio=\"none\">\n",
            LEFT, SVG_GANTT_PLOT_W, plot_h, SVG_GANTT_PLOT_W, plot_h);
}

static int lane_key(const struct pipe_result *res, size_t i, int pp)
{
    const struct pipe_record *r = &res->recs[i];
    int k = kind_of(r);
    return k < 0 || r->end <= r->start ? -1 : lane_of(r, k, pp);
}

/* The drawn records as items, lane by lane.  Returns 0, or -1 out of memory. */
static int gather(struct chart *c, int nlanes)
{
    size_t *order = NULL;
    int rc = -1;
    if (strips_group(c->res, nlanes, lane_key, &order, &c->first) != 0)
        goto done;
    size_t n = c->first[nlanes];
    c->items = mem_calloc(n ? n : 1, sizeof *c->items);
    if (!c->items)
        goto done;
    for (size_t j = 0; j < n; j++) {
        const struct pipe_record *r = &c->res->recs[order[j]];
        int k = kind_of(r);
        c->items[j] = (struct item){r->start, r->end, r->mb, (short)k,
                                    (short)(k < K_OPT && r->chunk > 0 ? r->chunk : 0)};
    }
    rc = 0;
done:
    mem_free(order);
    return rc;
}

int svg_gantt_write(FILE *out, const struct pipe_result *res, const struct svg_gantt_opts *opts,
                    struct svg_gantt_stats *stats)
{
    struct chart c = {.out = out, .res = res, .vp = res->vp > 0 ? res->vp : 1};
    int pp = res->pp, nlanes = 3 * pp; /* ranks, then two halves per link */
    c.lane_y = mem_calloc((size_t)nlanes, sizeof *c.lane_y);
    c.lane_h = mem_calloc((size_t)nlanes, sizeof *c.lane_h);
    simtime_t *pair_start = mem_calloc((size_t)pp, sizeof *pair_start);
    char *ops = NULL; /* the ops' boxes, drawn by choose_columns */
    size_t ops_len = 0;
    int rc = -1;
    if (!c.lane_y || !c.lane_h || !pair_start ||
        strips_init(&c.row, 8 * SVG_GANTT_PLOT_W, 3 * c.vp + 2) != 0 || gather(&c, nlanes) != 0)
        goto done;
    struct scan s;
    scan_records(res, &s);
    c.t0 = res->first_start;
    simtime_t span = res->step_end > res->first_start ? res->step_end - res->first_start : 1;
    c.px_per_ps = (double)SVG_GANTT_PLOT_W / (double)span;
    c.compact = pp > FULL_RANKS;
    size_t transfers = c.first[nlanes] - c.first[pp];
    if (c.compact) /* the legend and hint drop the sends with their lanes */
        s.links = s.present[K_ACT] = s.present[K_GRAD] = 0;
    int plot_h = place_lanes(&c, &s);
    if (choose_columns(&c, span, nlanes, s.pairs, pair_start, &ops, &ops_len) != 0)
        goto done;
    put_head(&c, &s, opts, span, plot_h);
    put_lane_bands(&c, nlanes);
    fwrite(ops, 1, ops_len, out);
    if (s.pairs)
        put_pairs(&c, pair_start);
    fputs("</svg>\n<g class=\"labels\"></g>\n</svg>\n<div class=\"tip\" hidden=\"hidden\"></div>\n"
          "</div>\n",
          out);
    if (stats) {
        *stats = c.st;
        stats->col_px = (double)SVG_GANTT_PLOT_W / c.ncols;
        stats->reductions = s.reductions;
        stats->transfers_left_out = c.compact ? transfers : 0;
        stats->lane_px = pp > 0 ? c.lane_h[0] : 0;
        stats->cut_columns = c.cut_columns;
    }
    rc = ferror(out) ? -1 : 0;
done:
    mem_free(c.lane_y);
    mem_free(c.lane_h);
    mem_free(pair_start);
    mem_free(c.items);
    mem_free(c.first);
    free(ops);
    strips_release(&c.row);
    return rc;
}
