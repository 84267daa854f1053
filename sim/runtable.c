/* runtable: tables of measured runs read into rows (see runtable.h). */
#include "runtable.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Split `line` at tabs into at most `max` fields (in place); returns the count. */
static int split_tabs(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        fields[n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    return n;
}

enum col { COL_ID, COL_SET, COL_SOURCE, COL_SCENARIO, COL_OVERRIDES, COL_MEASURED, COL_SCORED,
           COL_COUNT };
static const char *const col_names[COL_COUNT] = {"id",        "set",           "source",
                                                 "scenario",  "set_overrides", "measured_step_s",
                                                 "scored"};

/* Map header names to columns; the optional ones (set, scored) may be missing (-1). */
static enum sim_status read_header(char *line, const char *path, int lineno, int *col,
                                   struct sim_error *err)
{
    char *f[64];
    int n = split_tabs(line + (line[0] == '#' ? 1 + (line[1] == ' ') : 0), f, 64);
    for (int k = 0; k < COL_COUNT; k++) {
        col[k] = -1;
        for (int i = 0; i < n; i++)
            if (strcmp(f[i], col_names[k]) == 0)
                col[k] = i;
        if (col[k] < 0 && k != COL_SET && k != COL_SCORED)
            return err_set(err, SIM_EINPUT, path, lineno, "the header has no '%s' column",
                           col_names[k]);
    }
    return SIM_OK;
}

/* One row: its scenario with the overrides (comma-separated KEY=VALUE). */
static enum sim_status load_row(struct run_row *r, char **f, const int *col, const char *root,
                                const char *path, int lineno, struct sim_error *err)
{
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", f[col[COL_ID]]);
    snprintf(r->set, sizeof r->set, "%s", col[COL_SET] >= 0 ? f[col[COL_SET]] : "-");
    snprintf(r->source, sizeof r->source, "%s", f[col[COL_SOURCE]]);
    char *end;
    r->measured_s = strtod(f[col[COL_MEASURED]], &end);
    if (end == f[col[COL_MEASURED]] || *end || !(r->measured_s > 0) || !isfinite(r->measured_s))
        return err_set(err, SIM_EINPUT, path, lineno,
                       "measured_step_s '%s' is not a positive number", f[col[COL_MEASURED]]);
    char scn_path[2048];
    snprintf(scn_path, sizeof scn_path, "%s/%s", root, f[col[COL_SCENARIO]]);
    scn_defaults(&r->scn);
    enum sim_status st = scn_load(&r->scn, scn_path, err);
    char *over = f[col[COL_OVERRIDES]], *save = NULL;
    for (char *kv = strtok_r(over, ",", &save); st == SIM_OK && kv;
         kv = strtok_r(NULL, ",", &save))
        if (strcmp(kv, "-") != 0 && (st = scn_set_arg(&r->scn, kv, err)) != SIM_OK) {
            char why[sizeof err->msg]; /* the override's own message, placed at the row */
            snprintf(why, sizeof why, "%s", err->msg);
            st = err_set(err, st, path, lineno, "row %s: %s", r->id, why);
        }
    if (st == SIM_OK && !scn_is_modelled(&r->scn))
        st = err_set(err, SIM_EINPUT, scn_path, 0, "row %s: not a modelled scenario", r->id);
    return st;
}

/* "# role: calibration" / "# role: held-out" */
static enum runtable_role role_of(const char *line)
{
    const char *p = line + 1;
    while (*p == ' ')
        p++;
    if (strncmp(p, "role:", 5) != 0)
        return ROLE_UNSTATED;
    for (p += 5; *p == ' '; p++)
        ;
    if (strncmp(p, "calibration", 11) == 0)
        return ROLE_CALIBRATION;
    if (strncmp(p, "held-out", 8) == 0)
        return ROLE_HELD_OUT;
    return ROLE_UNSTATED;
}

/* Columns needed: one past the highest named. */
static int columns_needed(const int *col)
{
    int need = 0;
    for (int k = 0; k < COL_COUNT; k++)
        if (col[k] + 1 > need)
            need = col[k] + 1;
    return need;
}

enum sim_status runtable_read(const char *path, const char *root, struct run_row *rows, int cap,
                              int *n, struct sim_error *err)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return err_set(err, SIM_EINPUT, path, 0, "cannot open the table");
    char line[8192];
    int col[COL_COUNT], have_header = 0, lineno = 0, first = *n;
    enum runtable_role role = ROLE_UNSTATED;
    enum sim_status st = SIM_OK;
    while (st == SIM_OK && fgets(line, sizeof line, fp)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!have_header) {
            if (strncmp(line, "id\t", 3) == 0 || strncmp(line, "# id\t", 5) == 0 ||
                strncmp(line, "#id\t", 4) == 0) {
                st = read_header(line, path, lineno, col, err);
                have_header = 1;
            } else if (line[0] == '#' && role == ROLE_UNSTATED) {
                role = role_of(line);
            }
            continue;
        }
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *f[64];
        if (split_tabs(line, f, 64) < columns_needed(col)) {
            st = err_set(err, SIM_EINPUT, path, lineno, "fewer columns than the header names");
            break;
        }
        if (strcmp(f[col[COL_SCENARIO]], "-") == 0 ||
            (col[COL_SCORED] >= 0 && strcmp(f[col[COL_SCORED]], "no") == 0))
            continue;
        if (*n == cap)
            st = err_set(err, SIM_EINPUT, path, lineno, "more than %d rows", cap);
        else if ((st = load_row(&rows[*n], f, col, root, path, lineno, err)) == SIM_OK)
            (*n)++;
    }
    fclose(fp);
    if (st == SIM_OK && !have_header)
        st = err_set(err, SIM_EINPUT, path, 0, "no header line starting with 'id'");
    for (int i = first; i < *n; i++)
        rows[i].role = role;
    return st;
}

const char *runtable_role_name(enum runtable_role role)
{
    return role == ROLE_CALIBRATION ? "calibration" : role == ROLE_HELD_OUT ? "held-out" : "-";
}
