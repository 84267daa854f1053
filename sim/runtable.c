/* runtable: tables of measured runs read into rows (see runtable.h).
 *
 * Every data line is checked, the skipped rows (not expressible, not scored) too: a malformed
 * table is an input error naming its file, line and row, never a row read some other way than
 * its author meant.  The duplicate check keeps the table's ids in one array: O(rows^2) string
 * compares, fine at the shipped tables' < 100 rows and capped at MAX_TABLE_ROWS. */
#include "runtable.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "nearest.h"
#include "units.h"

#define MAX_FIELDS 64
#define MAX_TABLE_ROWS 65536
#define LINE_MAX_CHARS 8192 /* with the newline and the terminating NUL */

enum col {
    COL_ID,
    COL_SET,
    COL_SOURCE,
    COL_SCENARIO,
    COL_OVERRIDES,
    COL_MEASURED,
    COL_SCORED,
    COL_COUNT
};
static const char *const col_names[COL_COUNT] = {
    "id", "set", "source", "scenario", "set_overrides", "measured_step_s", "scored"};

/* An id seen in the table being read, and its line. */
struct seen_id {
    char id[sizeof((struct run_row *)0)->id];
    int line;
};

/* The state of one table's read. */
struct reader {
    const char *path, *root;
    int lineno;
    int have_header, nfields; /* the header's field count */
    int col[COL_COUNT];       /* field index of each column, -1 for a missing optional one */
    int role_line;            /* where the role was stated, 0 if not */
    int spaced_header;        /* the first line before a header like one but for its tabs */
    int late_id_header;       /* the first line before a header naming id after other columns */
    enum runtable_role role;
    struct seen_id *seen; /* every data row's id so far */
    size_t nseen, seen_cap;
};

/* A data row's fields, checked (check_row). */
struct fields {
    const char *id, *set, *source, *scenario;
    char *overrides; /* in the line's buffer: apply_overrides splits it */
    double measured_s;
    int scored;
};

/* Fields of a tab-separated line: one more than its tabs. */
static int count_fields(const char *line)
{
    int n = 1;
    for (const char *p = strchr(line, '\t'); p; p = strchr(p + 1, '\t'))
        n++;
    return n;
}

/* Split `line` at tabs into at most `max` fields (in place; the last keeps any further tabs). */
static void split_tabs(char *line, char **fields, int max)
{
    char *p = line;
    for (int n = 0; n < max; n++) {
        fields[n] = p;
        char *tab = strchr(p, '\t');
        if (!tab)
            return;
        *tab = '\0';
        p = tab + 1;
    }
}

/* Map header names to columns; the optional ones (set, scored) may be missing (-1). */
static enum sim_status read_header(struct reader *rd, char *line, struct sim_error *err)
{
    char *f[MAX_FIELDS];
    char *names = line + (line[0] == '#' ? 1 + (line[1] == ' ') : 0);
    int n = count_fields(names);
    if (n > MAX_FIELDS)
        return err_set(err, SIM_EINPUT, rd->path, rd->lineno,
                       "the header has %d columns; at most %d", n, MAX_FIELDS);
    split_tabs(names, f, n);
    for (int k = 0; k < COL_COUNT; k++) {
        rd->col[k] = -1;
        for (int i = 0; i < n; i++) {
            if (strcmp(f[i], col_names[k]) != 0)
                continue;
            if (rd->col[k] >= 0) /* else the later one would win unseen */
                return err_set(err, SIM_EINPUT, rd->path, rd->lineno, "the header names '%s' twice",
                               col_names[k]);
            rd->col[k] = i;
        }
    }
    /* Other columns are notes, read by no one: a misspelt optional one would be dropped
     * unseen ('score' for 'scored' scores every row), so a name near a missing one is refused */
    for (int i = 0; i < n; i++) {
        int k = nearest_word(f[i], col_names, COL_COUNT);
        if (k >= 0 && rd->col[k] < 0)
            return err_set(err, SIM_EINPUT, rd->path, rd->lineno,
                           "the header has '%s' but no '%s' column: did you mean '%s'?", f[i],
                           col_names[k], col_names[k]);
    }
    for (int k = 0; k < COL_COUNT; k++)
        if (rd->col[k] < 0 && k != COL_SET && k != COL_SCORED)
            return err_set(err, SIM_EINPUT, rd->path, rd->lineno, "the header has no '%s' column",
                           col_names[k]);
    rd->nfields = n;
    rd->have_header = 1;
    return SIM_OK;
}

/* The value of a "# role: VALUE" comment (trailing blanks cut, in place), NULL for another
 * comment. */
static char *role_value(char *line)
{
    char *p = line + 1;
    p += strspn(p, " ");
    if (strncmp(p, "role:", 5) != 0)
        return NULL;
    p += 5;
    p += strspn(p, " \t");
    size_t len = strlen(p);
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        p[--len] = '\0';
    return p;
}

/* A comment: before the header, one "# role:" line may state the role, calibration or
 * held-out (a misspelt role would leave the set's runs unsorted in the reports, unseen). */
static enum sim_status read_comment(struct reader *rd, char *line, struct sim_error *err)
{
    const char *value = role_value(line);
    if (!value)
        return SIM_OK;
    if (rd->have_header)
        return err_set(err, SIM_EINPUT, rd->path, rd->lineno,
                       "a role line after the header (it goes before it)");
    if (rd->role_line)
        return err_set(err, SIM_EINPUT, rd->path, rd->lineno,
                       "a second role line (the first is line %d)", rd->role_line);
    if (strcmp(value, "calibration") == 0)
        rd->role = ROLE_CALIBRATION;
    else if (strcmp(value, "held-out") == 0)
        rd->role = ROLE_HELD_OUT;
    else
        return err_set(err, SIM_EINPUT, rd->path, rd->lineno,
                       "role '%s': expected calibration or held-out", value);
    rd->role_line = rd->lineno;
    return SIM_OK;
}

/* set_overrides: '-' alone, or KEY=VALUE elements joined by single commas. */
static enum sim_status check_overrides(const struct reader *rd, const struct fields *fs,
                                       struct sim_error *err)
{
    const char *s = fs->overrides;
    if (strcmp(s, "-") == 0)
        return SIM_OK;
    for (const char *p = s;; p++) {
        size_t len = strcspn(p, ",");
        const char *why = len == 0                ? "an empty element (a stray comma)"
                          : len == 1 && *p == '-' ? "'-' (none) stands alone"
                          : !memchr(p, '=', len)  ? "an element that is not KEY=VALUE"
                          : *p == '='             ? "an element with no KEY before its '='"
                                                  : NULL;
        if (why)
            return err_set(err, SIM_EINPUT, rd->path, rd->lineno, "row %s: set_overrides '%s': %s",
                           fs->id, s, why);
        p += len;
        if (!*p)
            return SIM_OK;
    }
}

/* A text field that must fit its buffer (`size` with the NUL). */
static enum sim_status check_length(const struct reader *rd, const struct fields *fs,
                                    const char *what, const char *value, size_t size,
                                    struct sim_error *err)
{
    if (strlen(value) < size)
        return SIM_OK;
    return err_set(err, SIM_EINPUT, rd->path, rd->lineno,
                   "row %.40s: %s '%.40s...' is longer than %zu characters", fs->id, what, value,
                   size - 1);
}

/* Whether another row of this table has the id; remembers it.  Skipped rows count: validate
 * lists them by id too. */
static enum sim_status check_unique(struct reader *rd, const struct fields *fs,
                                    struct sim_error *err)
{
    for (size_t i = 0; i < rd->nseen; i++)
        if (strcmp(rd->seen[i].id, fs->id) == 0)
            return err_set(err, SIM_EINPUT, rd->path, rd->lineno,
                           "row %s: line %d has the same id (a report names a row by its id "
                           "alone)",
                           fs->id, rd->seen[i].line);
    if (rd->nseen == MAX_TABLE_ROWS)
        return err_set(err, SIM_EINPUT, rd->path, rd->lineno, "more than %d rows in one table",
                       MAX_TABLE_ROWS);
    struct seen_id *grown = mem_grow(rd->seen, rd->nseen, &rd->seen_cap, sizeof *rd->seen);
    if (!grown)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
    rd->seen = grown;
    snprintf(rd->seen[rd->nseen].id, sizeof rd->seen[0].id, "%s", fs->id);
    rd->seen[rd->nseen++].line = rd->lineno;
    return SIM_OK;
}

/* The named fields of a data line, none empty ('-' says "nothing"). */
static enum sim_status pick_fields(const struct reader *rd, char **f, struct fields *fs,
                                   struct sim_error *err)
{
    fs->id = f[rd->col[COL_ID]];
    if (!*fs->id)
        return err_set(err, SIM_EINPUT, rd->path, rd->lineno, "a row with an empty id");
    for (int k = 0; k < COL_COUNT; k++)
        if (rd->col[k] >= 0 && !*f[rd->col[k]])
            return err_set(err, SIM_EINPUT, rd->path, rd->lineno,
                           "row %s: empty %s ('-' where there is nothing)", fs->id, col_names[k]);
    fs->set = rd->col[COL_SET] >= 0 ? f[rd->col[COL_SET]] : "-";
    fs->source = f[rd->col[COL_SOURCE]];
    fs->scenario = f[rd->col[COL_SCENARIO]];
    fs->overrides = f[rd->col[COL_OVERRIDES]];
    return SIM_OK;
}

/* The values of a data line that every row needs, checked whether or not it is read on. */
static enum sim_status check_values(struct reader *rd, char **f, struct fields *fs,
                                    struct sim_error *err)
{
    const char *scored = rd->col[COL_SCORED] >= 0 ? f[rd->col[COL_SCORED]] : "yes";
    if (strcmp(scored, "yes") != 0 && strcmp(scored, "no") != 0)
        return err_set(err, SIM_EINPUT, rd->path, rd->lineno,
                       "row %s: scored '%s': expected yes or no", fs->id, scored);
    fs->scored = strcmp(scored, "yes") == 0;
    const char *text = f[rd->col[COL_MEASURED]];
    char why[128]; /* units_parse, not strtod: that took "0x10" as 16 seconds */
    if (units_parse(text, UNIT_NUMBER, &fs->measured_s, why, sizeof why) != 0 ||
        !(fs->measured_s > 0))
        return err_set(err, SIM_EINPUT, rd->path, rd->lineno,
                       "row %s: measured_step_s '%s' is not a positive number", fs->id, text);
    enum sim_status st = check_length(rd, fs, "id", fs->id, sizeof((struct run_row *)0)->id, err);
    if (st == SIM_OK)
        st = check_length(rd, fs, "set", fs->set, sizeof((struct run_row *)0)->set, err);
    if (st == SIM_OK)
        st = check_length(rd, fs, "source", fs->source, sizeof((struct run_row *)0)->source, err);
    if (st == SIM_OK)
        st = check_overrides(rd, fs, err);
    return st == SIM_OK ? check_unique(rd, fs, err) : st;
}

/* A data line split into fields and checked: as many as the header has, the named ones
 * well-formed. */
static enum sim_status check_row(struct reader *rd, char *line, char **f, struct fields *fs,
                                 struct sim_error *err)
{
    int n = count_fields(line);
    split_tabs(line, f, n < MAX_FIELDS ? n : MAX_FIELDS);
    if (n != rd->nfields) { /* a missing or extra tab shifts the columns after it */
        const char *id = n > rd->col[COL_ID] ? f[rd->col[COL_ID]] : f[0];
        return err_set(err, SIM_EINPUT, rd->path, rd->lineno,
                       "row %.40s: %d field%s, %s than the header's %d", id, n,
                       n == 1 ? "" : "s", n < rd->nfields ? "fewer" : "more", rd->nfields);
    }
    enum sim_status st = pick_fields(rd, f, fs, err);
    return st == SIM_OK ? check_values(rd, f, fs, err) : st;
}

/* rows[0..n) holding the id (the tables read before this one). */
static const struct run_row *row_with_id(const struct run_row *rows, int n, const char *id)
{
    for (int i = 0; i < n; i++)
        if (strcmp(rows[i].id, id) == 0)
            return &rows[i];
    return NULL;
}

/* The row's scenario, from `root` unless absolute: a failure is placed at the row, with a hint
 * when a relative path does not exist under the root (the root, not the table, is then the
 * likely mistake). */
static enum sim_status load_scenario(const struct reader *rd, struct run_row *r, const char *rel,
                                     struct sim_error *err)
{
    char scn_path[2048];
    int w = rel[0] == '/' ? snprintf(scn_path, sizeof scn_path, "%s", rel)
                          : snprintf(scn_path, sizeof scn_path, "%s/%s", rd->root, rel);
    if (w < 0 || (size_t)w >= sizeof scn_path)
        return err_set(err, SIM_EINPUT, rd->path, rd->lineno,
                       "row %s: the scenario's path is too long", r->id);
    scn_defaults(&r->scn);
    enum sim_status st = scn_load(&r->scn, scn_path, err);
    if (st == SIM_OK)
        return st;
    char why[sizeof err->msg + sizeof err->file + 16];
    err_format(err, why, sizeof why);
    struct stat sb;
    int missing = rel[0] != '/' && stat(scn_path, &sb) != 0 && errno == ENOENT;
    return err_set(err, st, rd->path, rd->lineno, "row %s: scenario %s%s%s%s", r->id, why,
                   missing ? " (a table's scenario paths start from --root, here '" : "",
                   missing ? rd->root : "", missing ? "')" : "");
}

/* What a row's overrides are given by, for the scenario's messages ("seq given by ..."): they
 * are set as the command line's are (above every file), but no --set gave them. */
#define OVERRIDES_ORIGIN "the table's set_overrides"

/* The overrides (checked by check_overrides: each KEY=VALUE) applied to the row's scenario. */
static enum sim_status apply_overrides(const struct reader *rd, struct run_row *r, char *over,
                                       struct sim_error *err)
{
    if (strcmp(over, "-") == 0)
        return SIM_OK;
    char *save = NULL;
    for (char *kv = strtok_r(over, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        *eq = '\0';
        enum sim_status st = scn_set_option(&r->scn, OVERRIDES_ORIGIN, kv, eq + 1, err);
        if (st != SIM_OK) {
            char why[sizeof err->msg]; /* the override's own message, placed at the row */
            snprintf(why, sizeof why, "%s", err->msg);
            return err_set(err, st, rd->path, rd->lineno, "row %s: %s", r->id, why);
        }
    }
    return SIM_OK;
}

/* One checked row read into r: its scenario with the overrides, which must be modelled; its id
 * unique among rows[0..nrows) too. */
static enum sim_status load_row(const struct reader *rd, const struct fields *fs,
                                const struct run_row *rows, int nrows, struct run_row *r,
                                struct sim_error *err)
{
    const struct run_row *other = row_with_id(rows, nrows, fs->id);
    if (other && other->line == rd->lineno && strcmp(other->table, rd->path) == 0)
        return err_set(err, SIM_EINPUT, rd->path, 0, "the table is given twice");
    if (other)
        return err_set(err, SIM_EINPUT, rd->path, rd->lineno,
                       "row %s: %s:%d has the same id (tables read together share their ids: "
                       "a report names a row by its id alone)",
                       fs->id, other->table, other->line);
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", fs->id);
    snprintf(r->set, sizeof r->set, "%s", fs->set);
    snprintf(r->source, sizeof r->source, "%s", fs->source);
    snprintf(r->table, sizeof r->table, "%s", rd->path);
    r->line = rd->lineno;
    r->measured_s = fs->measured_s;
    enum sim_status st = load_scenario(rd, r, fs->scenario, err);
    if (st == SIM_OK)
        st = apply_overrides(rd, r, fs->overrides, err);
    if (st == SIM_OK && !scn_is_modelled(&r->scn))
        st = err_set(err, SIM_EINPUT, rd->path, rd->lineno,
                     "row %s: not a modelled scenario (%s names no model and hardware)", r->id,
                     fs->scenario);
    return st;
}

/* "id\t...", "# id\t..." or "#id\t...": the header line. */
static int is_header(const char *line)
{
    return strncmp(line, "id\t", 3) == 0 || strncmp(line, "# id\t", 5) == 0 ||
           strncmp(line, "#id\t", 4) == 0;
}

/* "measured_step_s\tid\t...": a line with an id column, but not first, as a header in another
 * column order would be; no data row of a table has a field that is id alone. */
static int names_id_late(const char *line)
{
    const char *at = strstr(line, "\tid");
    for (; at; at = strstr(at + 1, "\tid"))
        if (at[3] == '\t' || at[3] == '\0')
            return 1;
    return 0;
}

/* One line of the table, its newline cut.  Lines before the header that are neither comments
 * nor the header are left alone, as they always were. */
static enum sim_status read_line(struct reader *rd, char *line, struct run_row *rows, int cap,
                                 int *n, struct sim_error *err)
{
    if (rd->lineno == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 BOM (Excel's) */
        memmove(line, line + 3, strlen(line + 3) + 1);
    if (!rd->have_header && is_header(line))
        return read_header(rd, line, err);
    if (line[0] == '#')
        return read_comment(rd, line, err);
    if (!rd->have_header && !rd->spaced_header && strncmp(line, "id ", 3) == 0)
        rd->spaced_header = rd->lineno; /* for the message if no header follows */
    if (!rd->have_header && !rd->late_id_header && names_id_late(line))
        rd->late_id_header = rd->lineno; /* likewise: a header written in another order */
    if (!rd->have_header || line[0] == '\0')
        return SIM_OK;
    char *f[MAX_FIELDS];
    struct fields fs = {0};
    enum sim_status st = check_row(rd, line, f, &fs, err);
    if (st != SIM_OK || strcmp(fs.scenario, "-") == 0 || !fs.scored)
        return st;
    if (*n == cap)
        return err_set(err, SIM_EINPUT, rd->path, rd->lineno, "more than %d rows", cap);
    if ((st = load_row(rd, &fs, rows, *n, &rows[*n], err)) == SIM_OK)
        (*n)++;
    return st;
}

/* The open table, line by line, into rows[*n..cap). */
static enum sim_status read_lines(struct reader *rd, FILE *fp, struct run_row *rows, int cap,
                                  int *n, struct sim_error *err)
{
    char line[LINE_MAX_CHARS];
    enum sim_status st = SIM_OK;
    while (st == SIM_OK && fgets(line, sizeof line, fp)) {
        rd->lineno++;
        size_t len = strcspn(line, "\r\n");
        if (!line[len] && !feof(fp)) /* else its rest would be read as the next line */
            return err_set(err, SIM_EINPUT, rd->path, rd->lineno,
                           "a line longer than %d characters", LINE_MAX_CHARS - 2);
        line[len] = '\0';
        st = read_line(rd, line, rows, cap, n, err);
    }
    if (st == SIM_OK && ferror(fp))
        st = err_set(err, SIM_EINPUT, rd->path, 0, "cannot read the table: %s", strerror(errno));
    if (st == SIM_OK && !rd->have_header && rd->spaced_header)
        st = err_set(err, SIM_EINPUT, rd->path, rd->spaced_header,
                     "the header's columns are separated by spaces; a table's are by tabs");
    else if (st == SIM_OK && !rd->have_header && rd->late_id_header)
        st = err_set(err, SIM_EINPUT, rd->path, rd->late_id_header,
                     "the header's first column is not id; a table's header starts with id, "
                     "the other columns in any order");
    else if (st == SIM_OK && !rd->have_header)
        st = err_set(err, SIM_EINPUT, rd->path, 0, "no header line starting with 'id'");
    return st;
}

/* The table opened for reading: a folder is named as one (fopen opens it, and its read fails). */
static enum sim_status open_table(const char *path, FILE **fp, struct sim_error *err)
{
    *fp = fopen(path, "r");
    if (!*fp)
        return err_set(err, SIM_EINPUT, path, 0, "cannot open the table: %s", strerror(errno));
    struct stat sb;
    if (fstat(fileno(*fp), &sb) != 0 || !S_ISDIR(sb.st_mode))
        return SIM_OK;
    fclose(*fp);
    *fp = NULL;
    return err_set(err, SIM_EINPUT, path, 0,
                   "a directory, not a table (give the tables in it: DIR/*.tsv)");
}

enum sim_status runtable_read(const char *path, const char *root, struct run_row *rows, int cap,
                              int *n, struct sim_error *err)
{
    FILE *fp;
    enum sim_status st = open_table(path, &fp, err);
    if (st != SIM_OK)
        return st;
    struct reader rd = {.path = path, .root = root, .role = ROLE_UNSTATED};
    int first = *n;
    st = read_lines(&rd, fp, rows, cap, n, err);
    fclose(fp);
    mem_free(rd.seen);
    for (int i = first; i < *n; i++)
        rows[i].role = rd.role;
    return st;
}

enum sim_status runtable_open_folder(const char *dir, DIR **d, struct sim_error *err)
{
    *d = opendir(dir);
    if (!*d && errno == ENOENT)
        return err_set(err, SIM_EINPUT, dir, 0, "no such folder");
    if (!*d)
        return err_set(err, SIM_EINPUT, dir, 0, "cannot read the folder: %s", strerror(errno));
    return SIM_OK;
}

enum sim_status runtable_check_folder(const char *dir, struct sim_error *err)
{
    DIR *d;
    enum sim_status st = runtable_open_folder(dir, &d, err);
    if (st == SIM_OK)
        closedir(d);
    return st;
}

const char *runtable_role_name(enum runtable_role role)
{
    return role == ROLE_CALIBRATION ? "calibration" : role == ROLE_HELD_OUT ? "held-out" : "-";
}
