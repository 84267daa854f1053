/* svg_gantt: the step's Gantt chart as inline SVG for the HTML report (--report), drawn by
 * stepsim itself, so the report needs no gnuplot.
 *
 * One lane per pipeline rank, rank 0 on top, on a light band so idle time reads as empty
 * band; when a P2P transfer takes time, a thin lane per link between neighbouring ranks
 * (activations in its upper half, gradients in its lower half) and one below the last rank
 * for the interleaved wrap back to rank 0 (past 64 ranks, thinner rank lanes, the plot about
 * 2400 pixels tall, and no link lanes).  Colours by op kind, shaded by model chunk, as
 * plots/gantt.gp draws them.  Time runs along x over the whole step (first op to the last
 * optimizer end): SVG_GANTT_PLOT_W user units (pixels) at the default zoom, inside a nested
 * <svg class="plot"> whose viewBox the page's script narrows to zoom and pan.
 *
 * Bounded output, as gantt.c's strips for --plot: the step is cut into columns, 8 a pixel at
 * the default zoom.  An op at least a column wide is a box of its own, and so is a narrower
 * one with no narrow neighbour within a column (an optimizer step between wide ops).  The
 * other ops merge by column (strips.h): each lane's columns are cut into spans over which the
 * work is even, and a span is drawn as a stack of boxes from the lane's bottom, one per (kind,
 * chunk), each as tall as its share of the span's time -- so the stack is as tall as the
 * rank's busy share, idle time shows as empty lane above it, and the forwards of a 1F1B steady
 * state show under its backwards (one box in the colour of the longest kind had hidden them);
 * a link's half lane, too thin to stack, takes one box as opaque as the link is busy.  When
 * that draws more than SVG_GANTT_MAX_BOXES boxes (with the lanes' bands and the pairs'
 * outlines), the columns are taken twice as wide, then again, down to one for the whole step:
 * the count is bounded by the lanes and the columns, whatever the number of ops.  Boxes of
 * single ops carry their micro-batch (data-m) for the script's labels and tooltips; merged
 * boxes their busy share in percent (data-run). */
#ifndef STEPSIM_SVG_GANTT_H
#define STEPSIM_SVG_GANTT_H

#include <stddef.h>
#include <stdio.h>

#include "pipeline.h"

#define SVG_GANTT_WIDTH 1200      /* the whole SVG, pixels */
#define SVG_GANTT_PLOT_W 1080     /* the time axis at the default zoom, pixels */
#define SVG_GANTT_MAX_BOXES 30000 /* the plot's boxes, bands and outlines (about 2.5 MB) */

struct svg_gantt_opts {
    const double *rank_mem_bytes;   /* [pp] peak memory per rank, under its label; NULL: none */
    const char *const *chunk_names; /* [vp] legend names of the chunks (each named, however
                                       many); NULL: "chunk 0", ..., up to 4 chunks, one entry
                                       per kind beyond */
};

struct svg_gantt_stats {
    size_t ops;        /* ops and transfers that take time */
    size_t boxes;      /* boxes drawn for them */
    size_t merged;     /* of the boxes, those of merged ops */
    size_t merged_ops; /* ops merged by column */
    double col_px;     /* a column's width at the default zoom, pixels (1/8 .. the plot's) */
    size_t reductions; /* DP gradient reductions that take time: not drawn (the trace has them) */
    size_t transfers_left_out; /* P2P transfers not drawn: a deep pipeline's link lanes */
    int lane_px;               /* a rank lane's height, pixels */
    /* columns of the lanes' strip rows cut into spans, over every try of choose_columns: what
     * the merging cost (O(columns log columns) a row) */
    size_t cut_columns;
};

/* The chart with its legend and zoom buttons, as an HTML fragment (<div class="gantt">).
 * Returns 0, or -1 on a write error or out of memory. */
int svg_gantt_write(FILE *out, const struct pipe_result *res, const struct svg_gantt_opts *opts,
                    struct svg_gantt_stats *stats);

#endif
