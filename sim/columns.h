/* columns: the result columns `sweep` and `plan` write to CSV -- one table of names and
 * meanings, one row record filled from a report, one writer -- so a quantity has the same
 * name, unit and number format in both files (and in both --help texts, printed from the
 * table).
 *
 * Invariant: col_write_header and col_write_row write the same columns in the same order,
 * each field preceded by a comma (the caller writes its own leading columns: the varied keys,
 * the layout); a value not known for a row (NaN, or tokens/s without seq) is an empty field. */
#ifndef STEPSIM_COLUMNS_H
#define STEPSIM_COLUMNS_H

#include <stdio.h>

#include "report.h"

/* What became of one config. */
enum col_status {
    COL_OK,     /* simulated, and it fits in the usable HBM (or has no memory model) */
    COL_OOM,    /* needs more than the usable HBM (simulated by sweep; plan does not simulate
                   it) */
    COL_ERROR,  /* broke a rule or failed (sweep) */
    COL_PRUNED, /* plan: not simulated, its step-time lower bound already too long */
};

/* One row's figures, in SI units; NaN where unknown. */
struct col_row {
    enum col_status status;
    double step_time_s, makespan_s, bubble_ratio;
    double tokens_per_s; /* NaN when seq is unknown */
    double samples_per_s;
    double tokens_per_s_per_gpu, model_tflops_per_gpu, mfu, hfu;
    struct report_breakdown brk; /* seconds */
    double memory_B;             /* peak over pipeline ranks */
    double hbm_B, hbm_usable_B;  /* capacity, and what the reserve leaves */
    int host_oom;                /* what offload moves does not fit the host's memory */
};

/* Every figure unknown (NaN), status `status`. */
void col_row_init(struct col_row *row, enum col_status status);
/* The figures of a simulated step; status ok or oom from its memory (modelled reports). */
void col_row_fill(struct col_row *row, const struct report *rep);
const char *col_status_name(enum col_status status);

/* ",status,step_time_s,...": the columns; `modelled` adds the cost model's (throughput per
 * GPU, MFU, the breakdown, memory against HBM). */
void col_write_header(FILE *out, int modelled);
void col_write_row(FILE *out, const struct col_row *row, int modelled);
/* A text field, quoted (doubled quotes inside) when asked or when it holds a comma, quote or
 * line break; control characters become spaces and invalid UTF-8 U+FFFD (a value from the
 * command line can hold any byte). */
void col_write_text(FILE *out, const char *s, int quote);
/* The columns and their meanings, one per column under `indent` spaces, each meaning wrapped
 * inside 100 columns, for --help. */
void col_write_doc(FILE *out, int indent, int modelled);

#endif
