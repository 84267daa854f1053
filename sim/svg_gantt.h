/* svg_gantt: the step's Gantt chart as inline SVG for the HTML report (--report), drawn by
 * stepsim itself, so the report needs no gnuplot.
 *
 * One lane per pipeline rank, rank 0 on top, on a light band so idle time reads as empty
 * band; when a P2P transfer takes time, a thin lane per link between neighbouring ranks
 * (activations in its upper half, gradients in its lower half) and one below the last rank
 * for the interleaved wrap back to rank 0.  Colours by op kind, shaded by model chunk, as
 * plots/gantt.gp draws them.  Time runs along x over the whole step (first op to the last
 * optimizer end): SVG_GANTT_PLOT_W user units (pixels) at the default zoom, inside a nested
 * <svg class="plot"> whose viewBox the page's script narrows to zoom and pan.
 *
 * Bounded output: an op at least 1/detail pixel wide at the default zoom is a box of its
 * own.  Narrower ops that follow one another on a lane (gaps under 1/detail pixel) merge into
 * one box -- of their kind's colour while they are all one kind and chunk, else of the colour
 * of the (kind, chunk) that takes most of their time and closed once 1/detail pixel wide (a mix
 * of the colours would blend light fills into a grey that reads as idle), as tall as the share
 * of its span the ops keep the rank busy (on a link lane: as opaque), so that idle time in the
 * gaps it spans still shows -- so a lane
 * holds at most a few boxes per 1/detail pixel whatever the number of ops (each box is a wide
 * op, or ends at a wide op, a gap, or a stretch of mixed ops).  detail is 8 (every op still
 * shows as a box when zoomed in 8 times) unless that draws more than SVG_GANTT_MAX_BOXES
 * boxes, then 4, 2, or 1 (about a pixel at the default zoom; bounded by the lanes and the
 * width alone).  Boxes of single ops carry their micro-batch (data-m) for the script's labels
 * and tooltips; merged boxes say what they hold (data-run). */
#ifndef STEPSIM_SVG_GANTT_H
#define STEPSIM_SVG_GANTT_H

#include <stddef.h>
#include <stdio.h>

#include "pipeline.h"

#define SVG_GANTT_WIDTH 1200      /* the whole SVG, pixels */
#define SVG_GANTT_PLOT_W 1080     /* the time axis at the default zoom, pixels */
#define SVG_GANTT_MAX_BOXES 30000 /* finer merging is chosen only below this (about 2.5 MB) */

struct svg_gantt_opts {
    const double *rank_mem_bytes;   /* [pp] peak memory per rank, under its label; NULL: none */
    const char *const *chunk_names; /* [vp] legend names of the chunks; NULL: "chunk 0", ... */
};

struct svg_gantt_stats {
    size_t ops;        /* ops and transfers that take time */
    size_t boxes;      /* boxes drawn for them */
    size_t merged;     /* boxes that hold more than one op */
    int detail;        /* ops narrower than 1/detail pixel at the default zoom were merged */
    size_t reductions; /* DP gradient reductions that take time: not drawn (the trace has them) */
};

/* The chart with its legend and zoom buttons, as an HTML fragment (<div class="gantt">).
 * Returns 0, or -1 on a write error or out of memory. */
int svg_gantt_write(FILE *out, const struct pipe_result *res, const struct svg_gantt_opts *opts,
                    struct svg_gantt_stats *stats);

#endif
