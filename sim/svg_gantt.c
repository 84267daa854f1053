/* svg_gantt: lanes, boxes merged below a pixel, axis and legend (see svg_gantt.h). */
#include "svg_gantt.h"

#include <math.h>
#include <string.h>

#include "alloc.h"
#include "html.h"
#include "schedule.h"

/* Box kinds: the compute kinds (enum rec_kind's F, B, W, OPT) then the two transfers. */
enum { K_F, K_B, K_W, K_OPT, K_ACT, K_GRAD, K_COUNT };
static const char *const kind_short[K_COUNT] = {"F", "B", "W", "opt", "act", "grad"};

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

/* Ops waiting on one lane to be drawn as one box (see svg_gantt.h). */
enum { RUN_PAIRS = 8 }; /* (kind, chunk) pairs a run weighs for its colour; later ones are not */
struct run {
    simtime_t t0, t1;
    simtime_t busy;      /* the time its ops take: less than t1 - t0 by the gaps it spans */
    size_t n;            /* ops in it; 0 = none open */
    int kind, chunk, mb; /* of its first op */
    int mixed;           /* holds more than one (kind, chunk) */
    size_t count[K_COUNT];
    /* the (kind, chunk) pairs in it, up to RUN_PAIRS, and the time each takes: the box takes
     * the colour of the longest */
    int npairs;
    int pair_kind[RUN_PAIRS], pair_chunk[RUN_PAIRS];
    double pair_busy[RUN_PAIRS];
};

struct chart {
    FILE *out; /* NULL: count the boxes only */
    const struct pipe_result *res;
    int vp;
    simtime_t t0; /* the step's first op */
    double px_per_ps;
    simtime_t thr;    /* ops narrower than this merge (a pixel at the default zoom / detail) */
    int *lane_y;      /* [nlanes] top of each lane's boxes */
    int *lane_h;      /* [nlanes] their height */
    struct run *runs; /* [nlanes] */
    struct svg_gantt_stats st;
};

/* A box's opening tag, its attributes to follow: from t0 to t1, y and height in pixels. */
static void put_rect(struct chart *c, simtime_t t0, simtime_t t1, int y, int h)
{
    fprintf(c->out, "<rect x=\"%.7g\" y=\"%d\" width=\"%.7g\" height=\"%d\"",
            (double)(t0 - c->t0) * c->px_per_ps, y, (double)(t1 - t0) * c->px_per_ps, h);
}

static void put_box(struct chart *c, int lane, simtime_t t0, simtime_t t1)
{
    put_rect(c, t0, t1, c->lane_y[lane], c->lane_h[lane]);
}

/* A merged run spans the gaps between its ops, which can add up to much of it (a rank 71%
 * busy in 1F1B's steady state, a link that sends a sixth of the time): drawn at its full
 * extent it would read as 100% busy.  So it keeps its busy share visible, as gantt.gp's strips
 * do: on a rank's lane it is as tall as that share of the lane, from the lane's bottom (whole
 * pixels, at least one); on a link's, which is too thin for that, its colour is as strong
 * (opacity in tenths, at least one: a few fixed shades, not a blend per box). */
static void put_run_box(struct chart *c, int lane, const struct run *r)
{
    double share = r->t1 > r->t0 ? (double)r->busy / (double)(r->t1 - r->t0) : 1.0;
    share = share > 1.0 ? 1.0 : share;
    if (lane >= c->res->pp) {
        int tenths = (int)lround(share * 10.0);
        put_box(c, lane, r->t0, r->t1);
        if (tenths < 10)
            fprintf(c->out, " fill-opacity=\"0.%d\"", tenths < 1 ? 1 : tenths);
        return;
    }
    int h = (int)lround(share * c->lane_h[lane]);
    h = h < 1 ? 1 : h;
    put_rect(c, r->t0, r->t1, c->lane_y[lane] + c->lane_h[lane] - h, h);
}

static void flush(struct chart *c, int lane)
{
    struct run *r = &c->runs[lane];
    if (r->n == 0)
        return;
    c->st.boxes++;
    c->st.merged += r->n > 1;
    if (!c->out) {
        r->n = 0;
        return;
    }
    if (r->n == 1) {
        put_box(c, lane, r->t0, r->t1);
        fprintf(c->out, " class=\"k%dc%d\" data-m=\"%d\"/>\n", r->kind, r->chunk, r->mb);
    } else {
        int top = 0;
        for (int i = 1; i < r->npairs; i++)
            if (r->pair_busy[i] > r->pair_busy[top])
                top = i;
        put_run_box(c, lane, r);
        fprintf(c->out, " class=\"k%dc%d run\"", r->pair_kind[top], r->pair_chunk[top]);
        fputs(" data-run=\"", c->out);
        const char *sep = "";
        for (int k = 0; k < K_COUNT; k++)
            if (r->count[k]) {
                fprintf(c->out, "%s%s %zu", sep, kind_short[k], r->count[k]);
                sep = ", ";
            }
        fputs("\"/>\n", c->out);
    }
    r->n = 0;
}

/* One op or transfer onto its lane: a box of its own, or into the lane's open run. */
static void add_op(struct chart *c, int lane, int kind, int chunk, int mb, simtime_t t0,
                   simtime_t t1)
{
    struct run *r = &c->runs[lane];
    int narrow = t1 - t0 < c->thr;
    int same = r->n && !r->mixed && r->kind == kind && r->chunk == chunk;
    if (r->n && !(narrow && t0 - r->t1 < c->thr && (same || r->t1 - r->t0 < c->thr)))
        flush(c, lane);
    c->st.ops++;
    if (r->n == 0) {
        memset(r, 0, sizeof *r);
        r->t0 = t0;
        r->kind = kind;
        r->chunk = chunk;
        r->mb = mb;
    } else if (!same) {
        r->mixed = 1;
    }
    r->t1 = t1;
    r->busy += t1 - t0;
    r->n++;
    r->count[kind]++;
    int p = 0;
    while (p < r->npairs && (r->pair_kind[p] != kind || r->pair_chunk[p] != chunk))
        p++;
    if (p == r->npairs && p < RUN_PAIRS) {
        r->pair_kind[p] = kind;
        r->pair_chunk[p] = chunk;
        r->npairs++;
    }
    if (p < r->npairs)
        r->pair_busy[p] += (double)(t1 - t0);
    if (!narrow)
        flush(c, lane);
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

static void put_legend(FILE *out, const struct scan *s, int vp, const char *const *chunk_names)
{
    static const char *const kind_names[3] = {"F forward", "B backward", "W weight gradient"};
    fputs("<div class=\"legend\">", out);
    for (int k = K_F; k <= K_W; k++) {
        if (!s->present[k])
            continue;
        for (int ch = 0; ch < (vp > 1 ? vp : 1); ch++) {
            char extra[80] = "";
            if (vp > 1 && chunk_names)
                snprintf(extra, sizeof extra, ", %s", chunk_names[ch]);
            else if (vp > 1)
                snprintf(extra, sizeof extra, ", chunk %d", ch);
            put_legend_entry(
                out, colour_of(k, ch, vp),
                k == K_B && s->present[K_W] ? "B backward (input gradient)" : kind_names[k], extra);
        }
    }
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
    int pp = c->res->pp;
    for (int r = 0; r < pp; r++) {
        int mid = c->lane_y[r] + BOX_H / 2;
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
    int pp = c->res->pp, y = TOP;
    for (int r = 0; r < pp; r++) {
        c->lane_y[r] = y + (RANK_H - BOX_H) / 2;
        c->lane_h[r] = BOX_H;
        y += RANK_H;
        if (s->links && (r < pp - 1 || (s->wrap && pp > 2))) {
            c->lane_y[pp + 2 * r] = y + 1;
            c->lane_y[pp + 2 * r + 1] = y + 1 + HALF_H;
            c->lane_h[pp + 2 * r] = c->lane_h[pp + 2 * r + 1] = HALF_H;
            y += LINK_H;
        }
    }
    return y + (RANK_H - BOX_H) / 2;
}

static void put_lane_bands(FILE *out, const struct chart *c, int nlanes)
{
    for (int l = 0; l < nlanes; l++) {
        if (c->lane_h[l] == 0 || (l >= c->res->pp && (l - c->res->pp) % 2))
            continue;
        int link = l >= c->res->pp;
        fprintf(out, "<rect class=\"%s\" x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n",
                link ? "band-link" : "band", link ? c->lane_y[l] - 1 : c->lane_y[l] - 2,
                SVG_GANTT_PLOT_W, link ? 2 * HALF_H + 2 : BOX_H + 4);
    }
}

/* Outlines of overlapped F&B pairs wide enough to see (3 pixels), over their boxes. */
static void put_pairs(struct chart *c, simtime_t *pair_start)
{
    for (size_t i = 0; i < c->res->nrecs; i++) {
        const struct pipe_record *r = &c->res->recs[i];
        if (r->peer >= 0 || kind_of(r) > K_W)
            continue;
        if (r->overlap == SCHED_PAIR_F)
            pair_start[r->rank] = r->start;
        else if (r->overlap == SCHED_PAIR_B && r->end - pair_start[r->rank] >= 3 * c->thr) {
            put_box(c, r->rank, pair_start[r->rank], r->end);
            fputs(" class=\"pair\"/>\n", c->out);
        }
    }
}

/* Every op and transfer onto its lane, then what is left open. */
static void put_ops(struct chart *c, int nlanes)
{
    const struct pipe_result *res = c->res;
    memset(c->runs, 0, (size_t)nlanes * sizeof *c->runs);
    memset(&c->st, 0, sizeof c->st);
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        int k = kind_of(r);
        if (k < 0 || r->end <= r->start)
            continue;
        add_op(c, lane_of(r, k, res->pp), k, k < K_OPT && r->chunk > 0 ? r->chunk : 0, r->mb,
               r->start, r->end);
    }
    for (int l = 0; l < nlanes; l++)
        flush(c, l);
}

/* The finest merging whose boxes stay within SVG_GANTT_MAX_BOXES: ops down to 1/8 pixel of
 * the default zoom drawn apart (each op shows when zoomed in 8 times), else 1/4, 1/2, 1. */
static int choose_detail(struct chart *c, simtime_t span, int nlanes)
{
    int detail = 8;
    FILE *out = c->out;
    c->out = NULL;
    for (; detail > 1; detail /= 2) {
        c->thr = span / ((simtime_t)SVG_GANTT_PLOT_W * detail);
        put_ops(c, nlanes);
        if (c->st.boxes <= SVG_GANTT_MAX_BOXES)
            break;
    }
    c->out = out;
    c->thr = span / ((simtime_t)SVG_GANTT_PLOT_W * detail);
    return detail;
}

int svg_gantt_write(FILE *out, const struct pipe_result *res, const struct svg_gantt_opts *opts,
                    struct svg_gantt_stats *stats)
{
    struct chart c = {.out = out, .res = res, .vp = res->vp > 0 ? res->vp : 1};
    int pp = res->pp, nlanes = 3 * pp; /* ranks, then two halves per link */
    c.lane_y = mem_calloc((size_t)nlanes, sizeof *c.lane_y);
    c.lane_h = mem_calloc((size_t)nlanes, sizeof *c.lane_h);
    c.runs = mem_calloc((size_t)nlanes, sizeof *c.runs);
    simtime_t *pair_start = mem_calloc((size_t)pp, sizeof *pair_start);
    int rc = -1;
    if (!c.lane_y || !c.lane_h || !c.runs || !pair_start)
        goto done;
    struct scan s;
    scan_records(res, &s);
    c.t0 = res->first_start;
    simtime_t span = res->step_end - res->first_start;
    if (span <= 0)
        span = 1;
    c.px_per_ps = (double)SVG_GANTT_PLOT_W / (double)span;
    int detail = choose_detail(&c, span, nlanes);
    int plot_h = place_lanes(&c, &s), height = plot_h + AXIS_H;
    double span_s = simtime_to_s(span);

    fputs("<div class=\"gantt\">\n", out);
    put_legend(out, &s, c.vp, opts ? opts->chunk_names : NULL);
    fputs("<div class=\"tools\"><button type=\"button\" data-zoom=\"in\">+</button>"
          "<button type=\"button\" data-zoom=\"out\">\xe2\x88\x92</button>"
          "<button type=\"button\" data-zoom=\"reset\">reset</button>"
          "<span class=\"hint\">wheel or +/\xe2\x88\x92: zoom \xc2\xb7 drag: pan \xc2\xb7 "
          "double-click: whole step \xc2\xb7 box label: micro-batch</span></div>\n",
          out);
    fprintf(out,
            "<svg class=\"gantt-svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "data-span=\"%.9g\" data-lm=\"%d\" data-pw=\"%d\" role=\"img\" "
            "aria-label=\"Gantt chart of the step\">\n",
            SVG_GANTT_WIDTH, height, SVG_GANTT_WIDTH, height, span_s, LEFT, SVG_GANTT_PLOT_W);
    put_styles(out, &s, c.vp);
    put_lane_labels(out, &c, s.links, opts ? opts->rank_mem_bytes : NULL);
    put_axis(out, span_s, plot_h);
    fprintf(out,
            "<svg class=\"plot\" x=\"%d\" y=\"0\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" preserveAspectRatio=\"none\">\n",
            LEFT, SVG_GANTT_PLOT_W, plot_h, SVG_GANTT_PLOT_W, plot_h);
    put_lane_bands(out, &c, nlanes);
    put_ops(&c, nlanes);
    if (s.pairs)
        put_pairs(&c, pair_start);
    fputs("</svg>\n<g class=\"labels\"></g>\n</svg>\n<div class=\"tip\" hidden=\"hidden\"></div>\n"
          "</div>\n",
          out);
    if (stats) {
        *stats = c.st;
        stats->detail = detail;
        stats->reductions = s.reductions;
    }
    rc = ferror(out) ? -1 : 0;
done:
    mem_free(c.lane_y);
    mem_free(c.lane_h);
    mem_free(c.runs);
    mem_free(pair_start);
    return rc;
}
