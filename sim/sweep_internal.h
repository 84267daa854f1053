/* sweep_internal: what the sweep command's modules share -- one config's outcome, the sweep
 * itself, and the helpers both the command (sweep.c) and its charts (sweep_chart.c) use.
 * Private to sim/sweep*.c. */
#ifndef STEPSIM_SWEEP_INTERNAL_H
#define STEPSIM_SWEEP_INTERNAL_H

#include <stddef.h>

#include "columns.h"
#include "error.h"
#include "hardware.h"
#include "model.h"
#include "outfile.h"
#include "scenario.h"
#include "sweep.h"

/* One config's outcome: what the CSV row and the plots need, nothing that must be freed but
 * `error`. */
struct sweep_row {
    int ok, modelled;
    enum sim_status status; /* why it failed when !ok: SIM_EINPUT a rule or value, else SIM_EFAIL */
    char *error;            /* owned; the one-line reason when !ok */
    struct col_row c;       /* the figures and the status column (columns.h) */
    char derived[160];      /* keys the config did not give, computed from those it did */
    int tp_spans_nodes;     /* run's warning: the TP group leaves the node */
    int seq_past_max;       /* run's warning: seq is longer than the model's max-seq */
};

struct sweep {
    struct sweep_axis axes[SWEEP_MAX_AXES];
    int naxes;
    size_t n;                  /* configs */
    struct scenario base;      /* the file plus --set */
    int modelled;              /* rows carry the cost model's columns */
    const struct model *model; /* loaded once, read-only, when every config shares it (the */
    const struct hardware *hw; /* configs run on them when both are shared), else NULL */
    struct sweep_row *rows; /* [n]; job i writes rows[i] only */
};

/* Ran, but needs more memory than the GPU may use (status oom). */
static inline int sweep_row_oom(const struct sweep_row *row)
{
    return row->ok && row->c.status == COL_OOM;
}

/* "pp=2 micro-batch=4" for config i, with the keys of axes [from, to), separated by `sep`,
 * sanitized for gnuplot. */
void sweep_config_label(char *buf, size_t len, const struct sweep *sw, size_t i, int from,
                        int to, const char *sep);

/* Does one of the first n axes vary the key named `name`?  Does an axis vary `key`? */
int sweep_axes_vary(const struct sweep_axis *axes, int n, const char *name);
int sweep_varies_key(const struct sweep *sw, enum scn_key key);

/* What every config shares as it ran: "MODEL on HARDWARE · N GPUs", without what an axis
 * varies (sweep.c says more); empty when the scenario gives explicit costs. */
void sweep_as_run(const struct sweep *sw, char *buf, size_t len);
/* The charts' and the page's subject: the scenario's name, or, when an axis varies the model
 * or the hardware, what varied ("hardware varied"). */
void sweep_subject(const struct sweep *sw, char *buf, size_t len);

/* The sweep's charts (--plot), titled with sweep_subject: throughput and bubble ratio against
 * the last varied key into `img`, and for modelled scenarios the step-time breakdown per config
 * into `brkimg`.  When every config failed both are skipped (outfile_skip): nothing to draw,
 * not an error. */
enum sim_status sweep_chart_draw(const struct sweep *sw, struct outfile *img,
                                 struct outfile *brkimg, struct sim_error *err);

#endif
