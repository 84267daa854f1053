/* runtable: the tables of measured runs (scenarios/validation/<set>.tsv, described in that
 * folder's README.md) read into rows, for `stepsim calibrate` and `stepsim published`.
 *
 * A table is TSV with a header line naming (at least) the columns id, source, scenario (path
 * relative to a root folder, or absolute; '-' = not expressible), set_overrides (KEY=VALUE,...
 * or -) and measured_step_s, and optionally set and scored (yes or no); '#' lines are comments.
 * One comment line before the header, "# role: calibration" or "# role: held-out", says what the
 * set is used for.  Every row has the header's fields, none of the named ones empty.  Rows that
 * are not expressible or not scored are skipped; every other row's scenario is loaded with its
 * overrides and must be modelled.  Ids are unique in a table, and the rows read are unique
 * across the tables read into one array: the reports name a row by its id alone. */
#ifndef STEPSIM_RUNTABLE_H
#define STEPSIM_RUNTABLE_H

#include <dirent.h>

#include "error.h"
#include "scenario.h"

enum runtable_role { ROLE_UNSTATED, ROLE_CALIBRATION, ROLE_HELD_OUT };

struct run_row {
    char id[32], set[32], source[64];
    char table[256]; /* the table's path as given, and the row's line in it: for messages */
    int line;
    struct scenario scn; /* as loaded, overrides applied */
    double measured_s;
    enum runtable_role role; /* the table's */
};

/* Append the rows of table `path` (scenarios relative to `root`) to rows[*n..cap).  Errors:
 * SIM_EINPUT naming the table and line, and the row where there is one (a missing column, a
 * malformed field, a duplicate id -- rows[0..*n) included --, a scenario that does not load,
 * too many rows); a relative scenario path that does not exist under `root` says so, since
 * the root is what was probably wrong. */
enum sim_status runtable_read(const char *path, const char *root, struct run_row *rows, int cap,
                              int *n, struct sim_error *err);
/* Open the folder `dir` (a --tables or --root) into *d, or say up front why not: a missing root
 * had been blamed on the first table row's scenario, as if that file were missing. */
enum sim_status runtable_open_folder(const char *dir, DIR **d, struct sim_error *err);
/* The same for a folder only checked (a --root): opened and closed again. */
enum sim_status runtable_check_folder(const char *dir, struct sim_error *err);
/* "calibration", "held-out" or "-". */
const char *runtable_role_name(enum runtable_role role);

#endif
