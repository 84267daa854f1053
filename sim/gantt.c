/* gantt: the boxes of the Gantt chart at a detail the image can show (see gantt.h).
 *
 * Costs: OPS and RUNS are one pass over the records; STRIPS is one pass plus, per rank and
 * link row, O(columns log columns) to cut the row into spans (strips.c), and is redone with columns
 * twice as wide while the boxes exceed the budget (gantt_max_boxes; a few rounds at most). */
#include "gantt.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "strips.h"
#include "units.h"

/* Margins around the plot area (pixels): rank names and busy shares on the left, the legend on
 * the right, a two-line title above, the time axis below. */
enum { LEFT_PX = 130, RIGHT_PX = 310, TOP_PX = 84, BOTTOM_PX = 64 };
/* Below NARROW_WIDTH_PX the legend takes a smaller font and less room (310 of 800 pixels would
 * leave the chart little more than half the image). */
enum { NARROW_WIDTH_PX = 1200, RIGHT_PX_NARROW = 236, KEY_PT = 11, KEY_PT_NARROW = 9 };
/* Past TEXT_SCALE_FROM_PX wide, text and the room it takes grow with the image (up to
 * TEXT_SCALE_MAX times), so that a large image fitted to a screen or a slide stays legible. */
#define TEXT_SCALE_FROM_PX 2000.0
#define TEXT_SCALE_MAX 3.0
/* Default heights: pixels per row unit with and without link rows; the cap past which rows
 * shrink instead of the image growing. */
enum { ROW_PX_LINKS = 72, ROW_PX_PLAIN = 56, AUTO_HEIGHT_CAP = 1800 };
/* The drawing note (gantt_describe) sits under the time axis label in lines of NOTE_PT points,
 * each NOTE_LINE_PX of bottom margin (at text scale 1). */
enum { NOTE_PT = 9, NOTE_LINE_PX = 14 };
/* A rank lane thinner than this cannot show a busy fraction. */
#define MIN_LANE_PX 3.0
/* Label fonts, tried largest first: points, pixels a character (digits, about), room beside
 * the text, and the lane height the text needs. */
static const struct label_font {
    int pt;
    double char_px, pad_px, lane_px;
} label_fonts[] = {{10, 7.0, 6.0, 14.0}, {8, 5.6, 4.0, 11.0}};
/* A box this wide keeps a white edge between it and its neighbour. */
#define BORDER_MIN_PX 6.0

/* ---- parsing the options ---- */

/* One end of a window: a time with a unit, or a bare number of seconds.  A bare number is read
 * as that many seconds with the unit written, so that the time's limits (at most 1e18 s, at least
 * the clock's 1 ps) hold for it too and its error says which, rather than "has no unit". */
static int parse_time(const char *text, double *s, char *why, size_t whylen)
{
    if (units_parse(text, UNIT_TIME, s, why, whylen) == 0)
        return 0;
    char *end;
    double value = strtod(text, &end);
    while (isspace((unsigned char)*end))
        end++;
    int bare = end != text && !*end && !signbit(value) && !text[strspn(text, "0123456789.eE+- ")];
    if (!bare)
        return -1; /* a unit, a sign, or no number: the time's reason stands */
    char seconds[160], ignored[256];
    snprintf(seconds, sizeof seconds, "%.128ss", text);
    if (units_parse(seconds, UNIT_TIME, s, ignored, sizeof ignored) == 0)
        return 0;
    snprintf(why, whylen, "'%.128s' seconds is %s", text,
             value > 1 ? "above the limit of 1e18 s"
                       : "below the clock's resolution of 1 ps");
    return -1;
}

enum sim_status gantt_parse_window(const char *text, struct gantt_view *view, struct sim_error *err)
{
    const char *colon = strchr(text, ':');
    if (!colon || strchr(colon + 1, ':') || (colon == text && !colon[1]))
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "--plot-window '%s': expected START:END in seconds or with units, e.g. "
                       "12ms:40ms (either end may be left out)",
                       text);
    char part[2][128], why[256];
    size_t n0 = (size_t)(colon - text);
    if (n0 >= sizeof part[0] || strlen(colon + 1) >= sizeof part[1])
        return err_set(err, SIM_EINPUT, NULL, 0, "--plot-window '%.40s...': too long", text);
    memcpy(part[0], text, n0);
    part[0][n0] = '\0';
    snprintf(part[1], sizeof part[1], "%s", colon + 1);
    double t[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        if (!part[k][0])
            continue;
        if (parse_time(part[k], &t[k], why, sizeof why) != 0)
            return err_set(err, SIM_EINPUT, NULL, 0, "--plot-window '%s': %s", text, why);
    }
    if (part[1][0] && !(t[1] > t[0]))
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "--plot-window '%s': the end must come after the start", text);
    view->t0_s = t[0];
    view->t1_s = part[1][0] ? t[1] : INFINITY;
    return SIM_OK;
}

enum sim_status gantt_parse_size(const char *text, struct gantt_view *view, struct sim_error *err)
{
    const char *x = strpbrk(text, "xX");
    char num[2][16], why[128];
    long v[2];
    size_t n0 = x ? (size_t)(x - text) : 0;
    if (!x || n0 == 0 || n0 >= sizeof num[0] || !x[1] || strlen(x + 1) >= sizeof num[1])
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "--plot-size '%s': expected WIDTHxHEIGHT in pixels, e.g. 1600x900", text);
    memcpy(num[0], text, n0);
    num[0][n0] = '\0';
    snprintf(num[1], sizeof num[1], "%s", x + 1);
    static const char *const side[] = {"width", "height"};
    const long min[] = {GANTT_MIN_WIDTH, GANTT_MIN_HEIGHT};
    for (int k = 0; k < 2; k++)
        if (units_parse_int(num[k], min[k], GANTT_MAX_SIDE, &v[k], why, sizeof why) != 0)
            return err_set(err, SIM_EINPUT, NULL, 0, "--plot-size '%s': the %s %s", text, side[k],
                           why);
    view->width_px = (int)v[0];
    view->height_px = (int)v[1];
    return SIM_OK;
}

/* ---- layout ---- */

static double rel_s(const struct pipe_result *res, simtime_t t)
{
    return simtime_to_s(t - res->first_start);
}

/* What a record is drawn as: its kind, or -1 for what the chart leaves out (gradient
 * reductions run beside compute on a comm stream: they are in the trace instead). */
static int draw_kind(const struct pipe_record *r)
{
    if (r->kind == REC_DP_SYNC)
        return -1;
    return r->kind == REC_PARAM_AG ? REC_OPT : r->kind;
}

static int is_transfer(int kind)
{
    return kind == REC_SEND_ACT || kind == REC_SEND_GRAD;
}

/* The link row a transfer is drawn on: row k joins ranks k and k+1; the interleaved wrap from
 * the last rank to rank 0 has row nranks - 1, below the last rank (as plots/gantt.gp). */
static int link_row(int nranks, int src, int dst)
{
    if (src + 1 == dst)
        return src;
    if (dst + 1 == src)
        return dst;
    return nranks - 1;
}

/* What the step draws (kinds, links, the wrap), the window, and the widths: all but the rows. */
static enum sim_status layout(struct gantt *g, const struct pipe_result *res,
                              const struct gantt_view *view, struct sim_error *err)
{
    struct gantt_layout *l = &g->lay;
    l->nranks = res->pp;
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        int k = draw_kind(r);
        g->has_reductions |= r->kind == REC_DP_SYNC && r->end > r->start;
        if (k < 0 || r->end <= r->start)
            continue;
        if (is_transfer(k)) {
            l->has_links = 1;
            l->has_wrap |= abs(r->rank - r->peer) > 1 && res->pp > 2;
            g->has_sends[k == REC_SEND_GRAD] = 1;
        }
        g->has_w |= k == REC_W;
        g->has_opt |= k == REC_OPT;
        g->has_pairs |= r->overlap == SCHED_PAIR_F;
    }
    double step_s = rel_s(res, res->step_end);
    double t1 = view->t1_s > view->t0_s ? fmin(view->t1_s, step_s) : step_s;
    if (view->t1_s > view->t0_s && view->t0_s >= step_s) {
        char t0[32], end[32];
        gantt_format_time(t0, sizeof t0, view->t0_s);
        gantt_format_time(end, sizeof end, step_s);
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "--plot-window: starts at %s, after the step ends (%s)", t0, end);
    }
    l->t0_s = view->t1_s > view->t0_s ? view->t0_s : 0;
    l->t1_s = t1 > l->t0_s ? t1 : l->t0_s + 1e-12;
    l->width_px = view->width_px > 0 ? view->width_px : GANTT_DEFAULT_WIDTH;
    int narrow = l->width_px < NARROW_WIDTH_PX;
    double k = gantt_text_scale(l->width_px, view->height_px);
    l->text_scale = k;
    l->left_px = (int)lround(LEFT_PX * k);
    l->right_px = (int)lround((narrow ? RIGHT_PX_NARROW : RIGHT_PX) * k);
    l->key_pt = (int)lround((narrow ? KEY_PT_NARROW : KEY_PT) * k);
    l->top_px = (int)lround(TOP_PX * k);
    l->bottom_px = (int)lround(BOTTOM_PX * k);
    l->plot_w_px = l->width_px - l->left_px - l->right_px;
    return SIM_OK;
}

/* Characters (not bytes) in the first n bytes of UTF-8 text. */
static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* The note broken at its " · " into lines that fit the image's width at NOTE_PT (a character
 * takes about 0.7 of the font size in pixels, as plots/gantt.gp assumes), pieces joined while
 * they fit.  As one line after the axis label it had run past both edges of an 800-pixel image,
 * at gnuplot's smallest size. */
static void wrap_note(struct gantt *g)
{
    static const char sep[] = " · ";
    char note[768];
    gantt_describe(g, note, sizeof note);
    double k = g->lay.text_scale;
    size_t room = (size_t)(0.95 * g->lay.width_px / (0.7 * NOTE_PT * k));
    size_t used = 0; /* characters in the current line */
    g->note_lines = 0;
    for (const char *p = note; *p;) {
        const char *end = strstr(p, sep);
        size_t bytes = end ? (size_t)(end - p) : strlen(p), chars = utf8_chars(p, bytes);
        int join = used > 0 && used + utf8_chars(sep, strlen(sep)) + chars <= room;
        if (!join && g->note_lines < GANTT_NOTE_LINES) {
            g->note_line[g->note_lines++][0] = '\0';
            used = 0;
        }
        char *line = g->note_line[g->note_lines - 1];
        size_t at = strlen(line);
        snprintf(line + at, sizeof g->note_line[0] - at, "%s%.*s", used ? sep : "", (int)bytes, p);
        used += (used ? utf8_chars(sep, strlen(sep)) : 0) + chars;
        p += bytes + (end ? strlen(sep) : 0);
    }
    g->lay.bottom_px += (int)lround(g->note_lines * NOTE_LINE_PX * k);
}

/* The rows: heights from the ranks and links drawn (known once the boxes are: sends too faint
 * to see take no row) and the legend's entries; the bottom margin grows by the note's lines. */
static enum sim_status layout_rows(struct gantt *g, const struct pipe_result *res,
                                   const struct gantt_view *view, struct sim_error *err)
{
    struct gantt_layout *l = &g->lay;
    double k = l->text_scale;
    wrap_note(g);
    l->nkey = g->has_opt + g->has_sends[0] + g->has_sends[1] + g->has_pairs + 1;
    for (int i = 0; i < 3 * g->chunks; i++)
        l->nkey += g->key_drawn[i];
    double ymax = l->nranks - 1 + (l->has_wrap ? 0.5 : 0);
    double yspan = ymax + (l->has_wrap ? 0.25 : 0.45) + 0.45;
    l->rank_half = l->has_links ? 0.30 : 0.38;
    int key_px = (int)lround((200 + 27 * (l->nkey + 2)) * k); /* a two-line title, the entries */
    /* the least height that gives every rank a lane it can show */
    int need = l->top_px + l->bottom_px + (int)ceil(MIN_LANE_PX / (2 * l->rank_half) * yspan);
    if (view->height_px > 0) {
        l->height_px = view->height_px;
    } else {
        double h =
            l->top_px + l->bottom_px + (l->has_links ? ROW_PX_LINKS : ROW_PX_PLAIN) * k * yspan;
        /* The cap keeps a tall chart on a screen; past some 330 ranks it would leave lanes too
         * thin to show, and the image grows to `need` instead (the user asked for no size). */
        if (h > AUTO_HEIGHT_CAP * k)
            h = fmax(AUTO_HEIGHT_CAP * k, need);
        if (h > GANTT_MAX_SIDE)
            h = GANTT_MAX_SIDE;
        l->height_px = h > key_px ? (int)ceil(h) : key_px;
    }
    l->plot_h_px = l->height_px - l->top_px - l->bottom_px;
    l->row_px = l->plot_h_px / yspan;
    l->lane_px = 2 * l->rank_half * l->row_px;
    if (l->lane_px < MIN_LANE_PX) {
        if (view->height_px > 0)
            return err_set(err, SIM_EINPUT, NULL, 0,
                           "--plot-size %dx%d: %d ranks need a height of at least %d pixels",
                           l->width_px, l->height_px, l->nranks, need);
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "--plot: %d ranks need an image at least %d pixels high, more than the "
                       "largest (%d)",
                       l->nranks, need, GANTT_MAX_SIDE);
    }
    return SIM_OK;
}

/* ---- boxes ---- */

static struct gantt_box *add_box(struct gantt *g)
{
    if (g->nboxes == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 256;
        struct gantt_box *b = mem_realloc(g->boxes, cap, sizeof *b);
        if (!b)
            return NULL;
        g->boxes = b;
        g->cap = cap;
    }
    struct gantt_box *b = &g->boxes[g->nboxes++];
    memset(b, 0, sizeof *b);
    b->hi = 1;
    b->shade = 1;
    return b;
}

static double px_s(const struct gantt *g)
{
    return (g->lay.t1_s - g->lay.t0_s) / g->lay.plot_w_px;
}

/* A record's part inside the window; 0 when nothing of it is there or it takes no time. */
static int clip(const struct gantt *g, const struct pipe_result *res, const struct pipe_record *r,
                double *s, double *e)
{
    if (r->end <= r->start)
        return 0;
    *s = fmax(rel_s(res, r->start), g->lay.t0_s);
    *e = fmin(rel_s(res, r->end), g->lay.t1_s);
    return *e > *s;
}

/* The text a box holding mb_first..mb_last (contiguous or not) would carry; whether it does
 * is settled by fit_labels once all boxes are known. */
static void set_label(struct gantt_box *b, int kind, int mb_first, int mb_last, int contiguous)
{
    if (kind == REC_OPT)
        snprintf(b->label, sizeof b->label, "opt");
    else if (kind > REC_OPT || (mb_first != mb_last && !contiguous))
        b->label[0] = '\0';
    else if (mb_first == mb_last)
        snprintf(b->label, sizeof b->label, "%d", mb_first);
    else
        snprintf(b->label, sizeof b->label, "%d-%d", mb_first, mb_last);
}

/* Does a label of `chars` characters fit box b in `font`? */
static int label_fits(const struct gantt *g, const struct gantt_box *b, size_t chars,
                      const struct label_font *font)
{
    double width_px = (b->end_s - b->start_s) / px_s(g), k = g->lay.text_scale;
    return g->lay.lane_px >= font->lane_px * k &&
           width_px >= (font->char_px * (double)chars + font->pad_px) * k;
}

/* Keep the labels that fit.  Every micro-batch label is judged at the length of the longest
 * one, so that boxes of one width are all labelled or none is (not 0 to 9 and then nothing);
 * the smaller font is taken when it labels clearly more boxes. */
static void fit_labels(struct gantt *g)
{
    size_t longest = 0;
    for (size_t i = 0; i < g->nboxes; i++)
        if (g->boxes[i].kind != REC_OPT && strlen(g->boxes[i].label) > longest)
            longest = strlen(g->boxes[i].label);
    size_t fit[2] = {0, 0};
    for (int f = 0; f < 2; f++)
        for (size_t i = 0; i < g->nboxes; i++)
            fit[f] += g->boxes[i].label[0] && label_fits(g, &g->boxes[i], longest, &label_fonts[f]);
    const struct label_font *font = &label_fonts[4 * fit[1] > 5 * fit[0]];
    g->label_pt = (int)lround(font->pt * g->lay.text_scale);
    for (size_t i = 0; i < g->nboxes; i++) {
        struct gantt_box *b = &g->boxes[i];
        size_t chars = b->kind == REC_OPT ? strlen(b->label) : longest;
        if (b->label[0] && !label_fits(g, b, chars, font))
            b->label[0] = '\0';
    }
}

/* A box for [s, e) on `rank` (peer for transfers), widened to one pixel when narrower (kept in
 * the window); its label and border follow its drawn width. */
static struct gantt_box *put_box(struct gantt *g, double s, double e, int rank, int peer, int kind,
                                 int chunk)
{
    struct gantt_box *b = add_box(g);
    if (!b)
        return NULL;
    double px = px_s(g);
    if (e - s < px) {
        double c = (s + e) / 2;
        s = fmax(g->lay.t0_s, c - px / 2);
        e = s + px;
        if (e > g->lay.t1_s) {
            e = g->lay.t1_s;
            s = e - px;
        }
    }
    b->start_s = s;
    b->end_s = e;
    b->rank = rank;
    b->peer = peer;
    b->kind = kind;
    b->chunk = chunk < 0 ? 0 : chunk;
    b->border = (e - s) / px >= BORDER_MIN_PX;
    return b;
}

/* Every op and transfer its own box; an overlapped pair's outline after its B. */
static enum sim_status build_ops(struct gantt *g, const struct pipe_result *res)
{
    double *pair_start = mem_calloc((size_t)res->pp, sizeof *pair_start);
    if (!pair_start)
        return SIM_EFAIL;
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        int k = draw_kind(r);
        double s, e;
        if (r->peer < 0 && r->overlap == SCHED_PAIR_F)
            pair_start[r->rank] = rel_s(res, r->start);
        if (k < 0 || !clip(g, res, r, &s, &e))
            continue;
        struct gantt_box *b = put_box(g, s, e, r->rank, r->peer, k, r->chunk);
        if (!b)
            goto fail;
        set_label(b, k, r->mb, r->mb, 1);
        if (r->peer < 0 && r->overlap == SCHED_PAIR_B) {
            s = fmax(pair_start[r->rank], g->lay.t0_s);
            if (!(b = put_box(g, s, e, r->rank, -1, GANTT_PAIR, r->chunk)))
                goto fail;
            b->border = 0;
        }
    }
    mem_free(pair_start);
    return SIM_OK;
fail:
    mem_free(pair_start);
    return SIM_EFAIL;
}

/* A run being merged: ops of one kind and chunk back to back on a rank. */
struct run {
    int open, kind, chunk, rank;
    int mb_first, mb_last, contiguous;
    double s, e;
    double busy; /* time its ops take */
};

static enum sim_status close_run(struct gantt *g, struct run *run)
{
    if (!run->open)
        return SIM_OK;
    run->open = 0;
    struct gantt_box *b = put_box(g, run->s, run->e, run->rank, -1, run->kind, run->chunk);
    if (!b)
        return SIM_EFAIL;
    /* The gaps merged in are not busy: a run fills its lane to its busy fraction. */
    b->hi = fmin(1.0, run->busy / (b->end_s - b->start_s));
    set_label(b, run->kind, run->mb_first, run->mb_last, run->contiguous);
    return SIM_OK;
}

static int link_key(int nranks, const struct pipe_record *r, int kind)
{
    return 2 * link_row(nranks, r->rank, r->peer) + (kind == REC_SEND_GRAD);
}

/* Runs: per rank, consecutive ops of one kind and chunk with less than a pixel between them.
 * (Transfers are drawn as strips: build_strips.) */
static enum sim_status build_runs(struct gantt *g, const struct pipe_result *res)
{
    double px = px_s(g);
    struct run *runs = mem_calloc((size_t)res->pp, sizeof *runs);
    if (!runs)
        return SIM_EFAIL;
    enum sim_status st = SIM_OK;
    for (size_t i = 0; i < res->nrecs && st == SIM_OK; i++) {
        const struct pipe_record *r = &res->recs[i];
        int k = draw_kind(r);
        double s, e;
        if (k < 0 || is_transfer(k) || !clip(g, res, r, &s, &e))
            continue;
        struct run *run = &runs[r->rank];
        int chunk = r->chunk < 0 ? 0 : r->chunk;
        if (run->open && run->kind == k && run->chunk == chunk && s - run->e < px) {
            run->e = fmax(run->e, e);
            run->busy += e - s;
            run->contiguous &= r->mb == run->mb_last + 1;
            run->mb_last = r->mb;
            continue;
        }
        st = close_run(g, run);
        *run = (struct run){1, k, chunk, r->rank, r->mb, r->mb, 1, s, e, e - s};
    }
    for (int j = 0; j < res->pp && st == SIM_OK; j++)
        st = close_run(g, &runs[j]);
    mem_free(runs);
    return st;
}

/* ---- strips ---- */

/* A rank's slots are F, B, W and OPT (chunks are not told apart: at this scale their shades
 * would only make noise), then the F/B/W total; a link row's are its transfers and their
 * total (the same, capped). */
enum { STRIP_SLOTS = REC_OPT + 2 };

/* Cut a row into spans and draw each: a rank's slots (F, B, W, OPT) stacked from the lane's
 * bottom, each to its busy fraction; a half link row (src -> dst, transfers of `kind`) as one
 * box coloured at the link's busy share. */
static enum sim_status strip_emit(struct gantt *g, const struct strips_row *row, int src, int dst,
                                  int kind)
{
    int ns = row->nslot, link = dst >= 0;
    for (int a = 0; a < row->ncols;) {
        int b = strips_span_end(row, a);
        double s = row->t0 + a * row->col, e = row->t0 + b * row->col, lo = 0;
        for (int j = link ? ns - 1 : 0; j < ns - (link ? 0 : 1); j++) {
            double busy = strips_busy(row, a, b, j);
            if (busy <= 0)
                continue;
            struct gantt_box *box = add_box(g);
            if (!box)
                return SIM_EFAIL;
            box->start_s = s;
            box->end_s = e;
            box->rank = src;
            box->peer = dst;
            box->kind = link ? kind : j; /* a rank's slots are F, B, W, OPT */
            if (link) {
                box->shade = fmin(1.0, busy / (e - s));
                continue;
            }
            box->lo = lo;
            lo = fmin(1.0, lo + busy / (e - s));
            box->hi = lo;
        }
        a = b;
    }
    return SIM_OK;
}

/* Compute records by rank, transfers by half link row (after the pp rank keys). */
static int record_key(const struct pipe_result *res, size_t i, int pp)
{
    const struct pipe_record *r = &res->recs[i];
    int k = draw_kind(r);
    if (k < 0 || r->end <= r->start)
        return -1;
    return is_transfer(k) ? pp + link_key(pp, r, k) : r->rank;
}

/* Strips of columns col_px pixels wide for the rows of keys key_from.. (record_key: ranks, then
 * half link rows). */
static enum sim_status build_strips(struct gantt *g, const struct pipe_result *res,
                                    const size_t *order, const size_t *first, int col_px,
                                    int key_from)
{
    int pp = res->pp;
    int ncols = (int)(g->lay.plot_w_px / col_px);
    if (ncols < 1)
        ncols = 1;
    struct strips_row row;
    if (strips_init(&row, ncols, STRIP_SLOTS) != 0)
        return SIM_EFAIL;
    g->col_s = (g->lay.t1_s - g->lay.t0_s) / ncols;
    enum sim_status st = SIM_OK;
    for (int key = key_from; key < 3 * pp && st == SIM_OK; key++) {
        int link = key >= pp;
        strips_reset(&row, ncols, g->lay.t0_s, g->col_s, link ? 2 : STRIP_SLOTS,
                     link ? 0 : REC_OPT);
        const struct pipe_record *rep = NULL;
        for (size_t j = first[key]; j < first[key + 1]; j++) {
            const struct pipe_record *r = &res->recs[order[j]];
            double s, e;
            if (!clip(g, res, r, &s, &e))
                continue;
            int k = draw_kind(r);
            strips_add(&row, link ? 0 : k, link || k <= REC_W, s, e);
            rep = rep ? rep : r;
        }
        if (!rep)
            continue;
        strips_accumulate(&row);
        st = link ? strip_emit(g, &row, rep->rank, rep->peer, draw_kind(rep))
                  : strip_emit(g, &row, key, -1, 0);
    }
    strips_release(&row);
    return st;
}

double gantt_text_scale(int width_px, int height_px)
{
    double k = fmin(fmax(width_px / TEXT_SCALE_FROM_PX, 1.0), TEXT_SCALE_MAX);
    /* A short image keeps at least half its height for the chart: at 4000x360 text twice as
     * large had left the ranks a sliver under a title and an axis as tall as the image, and
     * broken the legend into columns past the right edge. */
    if (height_px > 0)
        k = fmin(k, fmax(1.0, 0.5 * height_px / (TOP_PX + BOTTOM_PX)));
    return k;
}

/* ---- choosing the detail ---- */

size_t gantt_max_boxes(int plot_w_px)
{
    long per_width = (long)GANTT_BOXES_PER_PX * (plot_w_px > 0 ? plot_w_px : 0);
    long n = per_width > GANTT_MAX_BOXES ? per_width : GANTT_MAX_BOXES;
    return (size_t)(n < GANTT_MAX_BOXES_CAP ? n : GANTT_MAX_BOXES_CAP);
}

/* Does the level of detail hang on ops of this kind?  Only the F/B/W ops carry micro-batch
 * numbers and chunk shades; one short optimizer step (1.4 ms of a 2 s step) drawn a pixel wide
 * must not turn a few micro-batches' labelled boxes into strips. */
static int judged_kind(int kind)
{
    return kind <= REC_W;
}

/* Too many boxes, or too many of the F/B/W boxes narrow (those put_box widened to a pixel
 * included): the runs cannot be drawn as boxes either. */
static int too_fine(const struct gantt *g)
{
    size_t ops = 0, narrow = 0;
    double px = px_s(g);
    for (size_t i = 0; i < g->nboxes; i++) {
        const struct gantt_box *b = &g->boxes[i];
        if (!judged_kind(b->kind))
            continue;
        ops++;
        narrow += (b->end_s - b->start_s) < GANTT_NARROW_PX * px;
    }
    return g->nboxes > gantt_max_boxes(g->lay.plot_w_px) ||
           (double)narrow > GANTT_NARROW_SHARE * (double)ops;
}

/* Narrow F/B/W ops before widening: put_box widens them to one pixel, so count on the
 * records.  An op is narrow by its whole length: one the window's edge cuts to a sliver is
 * drawn as wide as the sliver, and must not push a zoomed-in window into merged boxes. */
static size_t count_narrow(const struct gantt *g, const struct pipe_result *res, size_t *ops)
{
    double px = px_s(g);
    size_t narrow = 0;
    *ops = 0;
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        int k = draw_kind(r);
        double s, e;
        if (k < 0 || !judged_kind(k) || !clip(g, res, r, &s, &e))
            continue;
        (*ops)++;
        narrow += rel_s(res, r->end) - rel_s(res, r->start) < GANTT_NARROW_PX * px;
    }
    return narrow;
}

/* Busy F/B/W time per rank in the window, and the window's share of the pipeline time. */
static void measure_busy(struct gantt *g, const struct pipe_result *res)
{
    double end = fmin(g->lay.t1_s, rel_s(res, res->compute_end));
    for (int r = 0; r < res->pp; r++)
        g->span_s[r] = fmax(0.0, end - g->lay.t0_s);
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        double s, e;
        if (r->kind <= REC_W && clip(g, res, r, &s, &e))
            g->busy_s[r->rank] += e - s;
    }
}

static enum sim_status build_boxes(struct gantt *g, const struct pipe_result *res)
{
    size_t ops;
    size_t narrow = count_narrow(g, res, &ops);
    size_t boxes = 0; /* ops, transfers and pair outlines */
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        double s, e;
        if (draw_kind(r) >= 0 && clip(g, res, r, &s, &e))
            boxes += 1 + (r->peer < 0 && r->overlap == SCHED_PAIR_B);
    }
    if ((double)narrow <= GANTT_NARROW_SHARE * (double)ops &&
        boxes <= gantt_max_boxes(g->lay.plot_w_px)) {
        g->mode = GANTT_OPS;
        return build_ops(g, res);
    }
    size_t *order = NULL, *first = NULL;
    enum sim_status st =
        strips_group(res, 3 * res->pp, record_key, &order, &first) ? SIM_EFAIL : SIM_OK;
    /* Runs of ops; the links, whose transfers rarely run back to back, as strips.  Pairs are
     * outlined only op by op. */
    g->mode = GANTT_RUNS;
    g->has_pairs = 0;
    if (st == SIM_OK)
        st = build_runs(g, res);
    if (st == SIM_OK)
        st = build_strips(g, res, order, first, 1, res->pp);
    if (st == SIM_OK && too_fine(g)) {
        g->mode = GANTT_STRIPS;
        g->chunks = 1;
        for (int col_px = 1; st == SIM_OK; col_px *= 2) {
            g->nboxes = 0;
            st = build_strips(g, res, order, first, col_px, 0);
            if (g->nboxes <= gantt_max_boxes(g->lay.plot_w_px) || col_px >= g->lay.plot_w_px)
                break;
        }
    }
    mem_free(order);
    mem_free(first);
    return st;
}

/* Sends of a kind drawn only fainter than GANTT_MIN_SEND_SHADE are left out, and the link rows
 * when no send is left (or none runs in the window): rows of empty lane and a legend entry for
 * nothing to be seen had read as sends gone missing.  Widening them to be seen would draw a
 * link 0.5% busy as a tenth or more. */
static void drop_faint_sends(struct gantt *g)
{
    double top[2] = {0, 0};
    for (size_t i = 0; i < g->nboxes; i++) {
        const struct gantt_box *b = &g->boxes[i];
        if (is_transfer(b->kind))
            top[b->kind == REC_SEND_GRAD] = fmax(top[b->kind == REC_SEND_GRAD], b->shade);
    }
    int drop[2];
    for (int k = 0; k < 2; k++) {
        drop[k] = top[k] < GANTT_MIN_SEND_SHADE;
        g->has_sends[k] &= !drop[k];
        if (drop[k])
            g->faint_share = fmax(g->faint_share, top[k]);
    }
    size_t n = 0;
    for (size_t i = 0; i < g->nboxes; i++)
        if (!is_transfer(g->boxes[i].kind) || !drop[g->boxes[i].kind == REC_SEND_GRAD])
            g->boxes[n++] = g->boxes[i];
    g->nboxes = n;
    if (!g->has_sends[0] && !g->has_sends[1])
        g->lay.has_links = g->lay.has_wrap = 0;
}

/* The legend lists what the boxes draw, found from them once the faint sends are gone: a
 * zoomed window of forwards alone had listed every kind and chunk of the step, backwards and
 * the optimizer too.  Sets key_drawn, has_opt and has_pairs. */
static enum sim_status find_drawn_kinds(struct gantt *g)
{
    g->key_drawn = mem_calloc((size_t)3 * (size_t)g->chunks, 1);
    if (!g->key_drawn)
        return SIM_EFAIL;
    g->has_opt = g->has_pairs = 0;
    for (size_t i = 0; i < g->nboxes; i++) {
        const struct gantt_box *b = &g->boxes[i];
        if (b->kind >= REC_F && b->kind <= REC_W && b->chunk < g->chunks)
            g->key_drawn[b->kind * g->chunks + b->chunk] = 1;
        g->has_opt |= b->kind == REC_OPT;
        g->has_pairs |= b->kind == GANTT_PAIR;
    }
    return SIM_OK;
}

void gantt_release(struct gantt *g)
{
    if (!g)
        return;
    mem_free(g->key_drawn);
    mem_free(g->boxes);
    mem_free(g->busy_s);
    mem_free(g->span_s);
    memset(g, 0, sizeof *g);
}

enum sim_status gantt_build(struct gantt *g, const struct pipe_result *res,
                            const struct gantt_view *view, struct sim_error *err)
{
    memset(g, 0, sizeof *g);
    g->chunks = res->vp > 1 ? res->vp : 1;
    enum sim_status st = layout(g, res, view, err);
    if (st != SIM_OK)
        goto fail;
    g->busy_s = mem_calloc((size_t)res->pp, sizeof *g->busy_s);
    g->span_s = mem_calloc((size_t)res->pp, sizeof *g->span_s);
    if (!g->busy_s || !g->span_s || build_boxes(g, res) != SIM_OK) {
        st = err_set(err, SIM_EFAIL, NULL, 0, "--plot: out of memory");
        goto fail;
    }
    /* A window where nothing runs (nothing at all: plot_render's "zero time" case). */
    double step_s = rel_s(res, res->step_end);
    if (g->nboxes == 0 && (g->lay.t0_s > 0 || g->lay.t1_s < step_s) && step_s > 0) {
        char t0[32], t1[32];
        gantt_format_time(t0, sizeof t0, g->lay.t0_s);
        gantt_format_time(t1, sizeof t1, g->lay.t1_s);
        st = err_set(err, SIM_EINPUT, NULL, 0,
                     "--plot-window: nothing runs from %s to %s; pick another part of the step", t0,
                     t1);
        goto fail;
    }
    drop_faint_sends(g);
    if (find_drawn_kinds(g) != SIM_OK) {
        st = err_set(err, SIM_EFAIL, NULL, 0, "--plot: out of memory");
        goto fail;
    }
    if ((st = layout_rows(g, res, view, err)) != SIM_OK)
        goto fail;
    fit_labels(g);
    measure_busy(g, res);
    return SIM_OK;
fail:
    gantt_release(g);
    return st;
}

/* ---- output ---- */

int gantt_write_tsv(FILE *out, const struct gantt *g)
{
    fprintf(out, "# rank\tstart_s\tend_s\tkind\tchunk\tpeer\tlo\thi\tshade\tborder\tlabel\n");
    for (size_t i = 0; i < g->nboxes; i++) {
        const struct gantt_box *b = &g->boxes[i];
        fprintf(out, "%d\t%.12f\t%.12f\t%d\t%d\t%d\t%.4f\t%.4f\t%.3f\t%d\t%s\n", b->rank,
                b->start_s, b->end_s, b->kind, b->chunk, b->peer, b->lo, b->hi, b->shade, b->border,
                b->label[0] ? b->label : "-");
    }
    return ferror(out) ? -1 : (int)g->nboxes;
}

/* A unit of time: what a value in seconds is multiplied by, and its name. */
struct time_unit {
    double scale;
    const char *name;
};

/* The unit that writes s with 1 to 999 before the point (a lone 0 in µs). */
static struct time_unit time_unit_of(double s)
{
    static const struct time_unit units[] = {
        {1, "s"}, {1e3, "ms"}, {1e6, "µs"}, {1e9, "ns"}, {1e12, "ps"}};
    if (s == 0)
        return units[2];
    size_t i = 0;
    while (i + 1 < sizeof units / sizeof units[0] && fabs(s) * units[i].scale < 1)
        i++;
    return units[i];
}

/* s in unit u to `digits` significant digits. */
static void format_time_digits(char *buf, size_t len, double s, int digits, struct time_unit u)
{
    snprintf(buf, len, "%.*g %s", digits, s * u.scale, u.name);
}

void gantt_format_time(char *buf, size_t len, double s)
{
    format_time_digits(buf, len, s, 3, time_unit_of(s));
}

void gantt_format_window(char *from, char *to, size_t len, double t0_s, double t1_s)
{
    /* enough digits to resolve a tenth of the span at the larger end, both ends in its unit
     * (0 to 1 ps had read "0 µs to 0.001 ns") */
    double span = t1_s - t0_s, top = fabs(t1_s) > fabs(t0_s) ? fabs(t1_s) : fabs(t0_s);
    struct time_unit u = time_unit_of(top);
    int need = span > 0 && top > 0 ? (int)ceil(log10(top / span)) + 2 : 3;
    for (int digits = need < 3 ? 3 : need > 15 ? 15 : need; digits <= 15; digits++) {
        format_time_digits(from, len, t0_s, digits, u);
        format_time_digits(to, len, t1_s, digits, u);
        if (strcmp(from, to) != 0)
            return;
    }
}

void gantt_describe(const struct gantt *g, char *buf, size_t len)
{
    char col[32];
    int n = 0;
    switch (g->mode) {
    case GANTT_OPS: n = snprintf(buf, len, "%s", ""); break;
    case GANTT_RUNS:
        n = snprintf(buf, len,
                     "ops too narrow to draw one by one: consecutive ops of a kind merged "
                     "into runs");
        break;
    case GANTT_STRIPS:
        gantt_format_time(col, sizeof col, g->col_s);
        n = snprintf(buf, len,
                     "ops too narrow to draw one by one: lanes filled to the busy fraction per "
                     "%s, stacked by kind",
                     col);
        break;
    }
    if (g->faint_share > 0 && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n,
                      "%sP2P sends not drawn (at most %.2g%% of a link's time)", n > 0 ? " · " : "",
                      100 * g->faint_share);
    /* They run on each rank's communication stream, beside its compute: the lane does not
     * show them, and a rank waiting on its last reduction before the optimizer step looks
     * idle there -- the note says why, as the HTML page's does. */
    if (g->has_reductions && n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, "%sDP gradient reductions not drawn (see --trace)",
                 n > 0 ? " · " : "");
}
