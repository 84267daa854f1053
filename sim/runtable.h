/* runtable: the tables of measured runs (scenarios/validation/<set>.tsv, described in that
 * folder's README.md) read into rows, for `stepsim calibrate` and `stepsim published`.
 *
 * A table is TSV with a header line naming (at least) the columns id, source, scenario (path
 * relative to a root folder; '-' = not expressible), set_overrides (KEY=VALUE,... or -) and
 * measured_step_s, and optionally set and scored ('no' = not scored); '#' lines are comments.
 * One comment line "# role: calibration" or "# role: held-out" says what the set is used for.
 * Rows that are not expressible or not scored are skipped; every other row's scenario is
 * loaded with its overrides and must be modelled. */
#ifndef STEPSIM_RUNTABLE_H
#define STEPSIM_RUNTABLE_H

#include "error.h"
#include "scenario.h"

enum runtable_role { ROLE_UNSTATED, ROLE_CALIBRATION, ROLE_HELD_OUT };

struct run_row {
    char id[32], set[32], source[64];
    struct scenario scn; /* as loaded, overrides applied */
    double measured_s;
    enum runtable_role role; /* the table's */
};

/* Append the rows of table `path` (scenarios relative to `root`) to rows[*n..cap).  Errors:
 * SIM_EINPUT naming the table and line (a missing column, a bad number, a scenario that does not
 * load, too many rows). */
enum sim_status runtable_read(const char *path, const char *root, struct run_row *rows, int cap,
                              int *n, struct sim_error *err);
/* "calibration", "held-out" or "-". */
const char *runtable_role_name(enum runtable_role role);

#endif
