/* gantt: what the Gantt chart draws -- the step's ops as boxes, at the detail the image can show.
 *
 * The chart's geometry (image size, margins, rows) is fixed here, so the data handed to gnuplot
 * is the picture: every box is written with the extent it is drawn with.  Three levels of
 * detail, picked per chart from the ops in the window at its pixel width:
 *   GANTT_OPS     one box per op and transfer, used while at most GANTT_NARROW_SHARE of the
 *                 F/B/W ops (those carrying micro-batch labels: a short optimizer step does not
 *                 count) are narrower than GANTT_NARROW_PX (those are widened to one pixel);
 *   GANTT_RUNS    consecutive ops of one kind and chunk on a rank, less than a pixel apart,
 *                 merged into one box filled to its busy fraction (the gaps merged in are
 *                 idle), used while the runs are wide enough; links as in STRIPS;
 *   GANTT_STRIPS  each rank's lane filled to its busy fraction, stacked by kind (F, B, W, OPT),
 *                 per span of columns (`col_s`, at least a pixel) over which the work is even;
 *                 a half link row coloured at its busy share (left out when too faint to see:
 *                 GANTT_MIN_SEND_SHADE).
 * Invariants: boxes lie inside the window and inside their lane; a rank's F/B/W area (width x
 * lane fraction) is its simulated busy time in the window (exactly in RUNS and STRIPS; in OPS
 * plus at most a pixel per widened op); in STRIPS every column is drawn within
 * STRIPS_SHARE of its simulated busy share, so a column more than half busy is never drawn
 * empty.  At most gantt_max_boxes(plot width) boxes (STRIPS widens its columns when needed): an
 * SVG of the default size stays under a few MB whatever the step, and a wider image may draw
 * more detail, never less. */
#ifndef STEPSIM_GANTT_H
#define STEPSIM_GANTT_H

#include <stdio.h>

#include "error.h"
#include "pipeline.h"

/* Box kinds: enum rec_kind's F, B, W, OPT (the parameter all-gather is drawn as OPT), the two
 * transfers, and the outline of an overlapped F&B pair (DualPipe; OPS only). */
#define GANTT_PAIR 6

#define GANTT_DEFAULT_WIDTH 1600
#define GANTT_MIN_WIDTH 800 /* the legend takes 310 of them */
#define GANTT_MIN_HEIGHT 360
#define GANTT_MAX_SIDE 16384
/* The drawing note's pieces: the detail, the sends left out, the reductions not drawn. */
#define GANTT_NOTE_LINES 3
/* Boxes narrower than this many pixels cannot show their colour beside their neighbours'. */
#define GANTT_NARROW_PX 1.5
/* Share of the ops (or runs) that may be narrow for a level of detail to be used. */
#define GANTT_NARROW_SHARE 0.02
/* Link strips fade to the link row's background with their busy share: sends of a kind whose
 * strips are all fainter than this cannot be seen (the 405B at 256 micro-batches: 0.5%), so
 * they are left out with their legend entry, and their rows when no send is left, and the note
 * says so. */
#define GANTT_MIN_SEND_SHADE 0.1
/* The box budget: GANTT_MAX_BOXES, or GANTT_BOXES_PER_PX per pixel of the plot area's width
 * when that is more (an 8000-pixel image shows ops one by one that a 1600-pixel one merges),
 * up to GANTT_MAX_BOXES_CAP (about 6 MB of SVG). */
#define GANTT_MAX_BOXES 6000
#define GANTT_BOXES_PER_PX 5
#define GANTT_MAX_BOXES_CAP 40000
size_t gantt_max_boxes(int plot_w_px);
/* Text and the room it takes on an image `width_px` wide, over their default size: 1 up to
 * 2000 pixels, growing with the width past that (at most 3), so that a large image fitted to a
 * screen or a slide stays legible; for a given `height_px` (0: not given) no larger than
 * leaves half the height to the chart.  The memory chart takes the Gantt chart's. */
double gantt_text_scale(int width_px, int height_px);
/* Strips: a span of columns is drawn at its mean busy fraction when every column's fraction is
 * within STRIPS_SHARE of it and the busy time never strays from an even spread by more than
 * STRIPS_DRIFT columns (strips.h). */

enum gantt_mode { GANTT_OPS, GANTT_RUNS, GANTT_STRIPS };

/* What the user asked for; zeros mean "the whole step" and "the default size". */
struct gantt_view {
    double t0_s, t1_s;       /* window, seconds since the first op; t1_s <= t0_s: whole step */
    int width_px, height_px; /* image size; 0: default (height from the rows) */
};

/* The image's geometry.  y is in row units: rank r's lane is centred on r, the link row between
 * ranks r and r+1 on r + 0.5; gnuplot's y axis runs from ymax + ybottom down to -0.45. */
struct gantt_layout {
    int width_px, height_px;
    int left_px, right_px, top_px, bottom_px; /* margins around the plot area */
    int key_pt;                               /* the legend's font size, points */
    double text_scale; /* text and margins over their default size (1 up to 2000 px wide) */
    double plot_w_px, plot_h_px;
    double t0_s, t1_s; /* the window, clipped to the step */
    double rank_half;  /* half a rank lane's height, row units */
    double row_px;     /* pixels per row unit */
    double lane_px;    /* a rank lane's height in pixels */
    int nranks, has_links, has_wrap, nkey;
};

struct gantt_box {
    double start_s, end_s; /* as drawn, seconds since the first op */
    double lo, hi;         /* lane fraction covered, 0 = the lane's bottom, 1 = its top */
    double shade;          /* 1: full colour; less: faded toward the lane (a link's busy share) */
    int rank, peer;        /* compute: the rank, peer -1; transfer: sender and receiver */
    int kind, chunk;       /* rec_kind F/B/W/OPT/SEND_*, or GANTT_PAIR; chunk 0 for OPT */
    int border;            /* wide enough for a white edge between neighbours */
    char label[24];        /* micro-batch(es) ("7", "0-511") or "opt" when the text fits, else "" */
};

struct gantt {
    struct gantt_layout lay;
    enum gantt_mode mode;
    double col_s;            /* STRIPS: the column width, seconds */
    struct gantt_box *boxes; /* owned */
    size_t nboxes, cap;
    double *busy_s; /* [nranks] F/B/W time in the window */
    double *span_s; /* [nranks] the window's part of the pipeline time (first op .. last F/B/W) */
    int has_w, has_opt, has_pairs;
    int has_sends[2];   /* activation, gradient sends drawn (not all too faint to see) */
    double faint_share; /* sends left out as too faint: the largest busy share they had, or 0 */
    int has_reductions; /* DP gradient reductions take time: not drawn, the note says so */
    int chunks;         /* chunks told apart by shade: vp, or 1 in STRIPS */
    /* [3 * chunks], owned: 1 where a box of F, B or W (kind) of chunk c is drawn, at
     * kind * chunks + c; the legend lists those alone */
    unsigned char *key_drawn;
    int label_pt;       /* the labels' font size, points */
    /* gantt_describe's note in lines that fit the image's width, set under the time axis
     * label (the bottom margin holds them); at most one line a piece */
    char note_line[GANTT_NOTE_LINES][256];
    int note_lines;
};

/* Check a view against the step (window inside it, room for the rows); SIM_EINPUT naming the
 * option at fault.  Then lay out and build the boxes.  `g` is released on failure. */
enum sim_status gantt_build(struct gantt *g, const struct pipe_result *res,
                            const struct gantt_view *view, struct sim_error *err);
void gantt_release(struct gantt *g);

/* "12ms:40ms" -> seconds; SIM_EINPUT "--plot-window ...: ..." when malformed or empty. */
enum sim_status gantt_parse_window(const char *text, struct gantt_view *view,
                                   struct sim_error *err);
/* "1600x900" -> pixels, each side in [GANTT_MIN_*, GANTT_MAX_SIDE]. */
enum sim_status gantt_parse_size(const char *text, struct gantt_view *view, struct sim_error *err);

/* The TSV plots/gantt.gp reads: a '#' header, then one row per box:
 *   rank  start_s  end_s  kind  chunk  peer  lo  hi  shade  border  label
 * (label "-" when none).  Returns the number of rows, -1 on a write error. */
int gantt_write_tsv(FILE *out, const struct gantt *g);

/* A duration a reader takes in at once: "66.0 ms", "1.24 s", "850 µs" (s down to ps). */
void gantt_format_time(char *buf, size_t len, double s);
/* A window's two ends in one unit, the larger end's, each with as many digits (3 or more) as
 * it takes for them to differ: a 0.5 ms window at 2 s reads "2 s" to "2.0005 s", not "2 s" to
 * "2 s"; 0 to 1 ps reads "0 ps" to "1 ps", 0.5 ms to 3 ms "0.5 ms" to "3 ms". */
void gantt_format_window(char *from, char *to, size_t len, double t0_s, double t1_s);

/* What the level of detail is, for the chart's title ("" for GANTT_OPS), and that the DP
 * gradient reductions, when the step has any, are not drawn. */
void gantt_describe(const struct gantt *g, char *buf, size_t len);

#endif
