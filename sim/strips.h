/* strips: a timeline row's busy time by column, cut into spans of columns over which the work
 * is even -- how both Gantt charts draw ops too narrow to draw one by one (gantt.c for --plot,
 * svg_gantt.c for the --report page), so that they merge alike.
 *
 * A row has ncols columns `col` wide from t0 (in any unit: seconds, pixels) and nslot slots
 * (kinds of work; the last ones the row's totals); strips_add puts an op's busy time into the
 * columns it covers, strips_accumulate turns the columns into running sums, then
 * strips_span_end cuts the row into spans and strips_busy reads a span's busy time per slot.
 * Invariants of a span (at least one column): in each of its columns every slot from
 * tight_from on is within STRIPS_SHARE of a column of its mean and its columns are all idle or all
 * busy (a sliver of work at an idle stretch's edge, spread over it, would draw work where none
 * runs); every slot's running sum strays from an even spread by at most STRIPS_DRIFT columns
 * (tight slots; so a ramp stays a ramp) or one column (the others: how the total splits into
 * kinds may stray by one column).
 * Costs: strips_add is O(columns an op covers); cutting a row is O(ncols log ncols x nslot). */
#ifndef STEPSIM_STRIPS_H
#define STEPSIM_STRIPS_H

#include <stddef.h>

#include "pipeline.h"

#define STRIPS_SHARE 0.3
#define STRIPS_DRIFT 0.5

struct strips_row {
    double *cum; /* [(ncols + 1) * nslot]: cum[c * nslot + j] is slot j's busy time in columns
                  * [0, c); owned, sized at init for its most columns and slots */
    int ncols, nslot;
    int tight_from; /* slots from here on are held to STRIPS_SHARE and idle-or-busy columns */
    double col, t0; /* a column's width and where column 0 starts */
    size_t cap;     /* elements cum holds */
};

/* A row of at most max_cols columns of at most max_slots slots; 0, or -1 out of memory. */
int strips_init(struct strips_row *row, int max_cols, int max_slots);
void strips_release(struct strips_row *row);
/* Empty the row and set its columns (ncols <= max_cols) and slots (nslot <= max_slots). */
void strips_reset(struct strips_row *row, int ncols, double t0, double col, int nslot,
                  int tight_from);
/* [s, e) busy in `slot`, and in the last slot (the total) too when in_total. */
void strips_add(struct strips_row *row, int slot, int in_total, double s, double e);
/* Columns' amounts -> running sums, each slot of a column capped at the column's width (a
 * link's transfers may overlap while they wait out the latency; a rank's ops never do). */
void strips_accumulate(struct strips_row *row);
/* The end of the longest even span from column a (see above): a + 1 .. ncols. */
int strips_span_end(const struct strips_row *row, int a);
/* Slot j's busy time in columns [a, b). */
double strips_busy(const struct strips_row *row, int a, int b, int slot);

/* Record indices of `res` grouped by key (stable: record order within a group), so that rows
 * are filled one at a time: group k is order[first[k]] .. order[first[k + 1] - 1]; key() -1
 * leaves a record out.  Both arrays are the caller's to mem_free, also on failure.  Returns 0,
 * or -1 out of memory. */
int strips_group(const struct pipe_result *res, int nkeys,
                 int (*key)(const struct pipe_result *, size_t, int), size_t **order,
                 size_t **first);

#endif
