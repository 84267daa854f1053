/* test_runtable: reading the tables of measured runs (runtable.h) -- the role line, the columns
 * found by their header names, the rows skipped (not expressible, not scored), the overrides
 * applied, and each malformed table refused with its file and line. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtable.h"

#define MAX 8

static char path[64];
static struct run_row rows[MAX];
static struct sim_error err;

/* Write `text` to a fresh temporary table; the test removes it. */
static void table(const char *text)
{
    snprintf(path, sizeof path, "/tmp/stepsim-runtable-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    err_clear(&err);
}

/* Read the table at TOP_SRCDIR into rows; returns the status, the row count in *n. */
static enum sim_status read_rows(int cap, int *n)
{
    *n = 0;
    enum sim_status st = runtable_read(path, TOP_SRCDIR, rows, cap, n, &err);
    unlink(path);
    return st;
}

#define HEADER "id\tset\tsource\tscenario\tset_overrides\tmeasured_step_s\tscored\n"
#define L70 "scenarios/llama3.1-70b-h100.xml"

Test(runtable, reads_rows_skips_the_unscored_and_applies_overrides)
{
    table("# role: held-out\n# a comment\n" HEADER "A1\tx\tSRC\t" L70 "\tpp=4,micro-batch=2\t1.5\tyes\n"
          "# a comment between rows\n"
          "A2\tx\tSRC\t-\t-\t2.0\tyes\n"
          "A3\tx\tSRC\t" L70 "\t-\t3.0\tno\n"
          "A4\tx\tOTHER\t" L70 "\t-\t4.25\tyes\n");
    int n;
    cr_assert_eq(read_rows(MAX, &n), SIM_OK, "%s", err.msg);
    cr_assert_eq(n, 2, "A2 (not expressible) and A3 (not scored) are skipped");
    cr_assert_str_eq(rows[0].id, "A1");
    cr_assert_str_eq(rows[0].set, "x");
    cr_assert_str_eq(rows[0].source, "SRC");
    cr_assert_eq(rows[0].measured_s, 1.5);
    cr_assert_eq(rows[0].scn.pp, 4);
    cr_assert_eq(rows[0].scn.micro_batch, 2);
    cr_assert_str_eq(rows[1].id, "A4");
    cr_assert_eq(rows[1].measured_s, 4.25);
    cr_assert_eq(rows[0].role, ROLE_HELD_OUT);
    cr_assert_eq(rows[1].role, ROLE_HELD_OUT);
    cr_assert_str_eq(runtable_role_name(ROLE_HELD_OUT), "held-out");
}

/* An override's origin is the table's set_overrides: a rule it breaks later (at a fit's
 * constants, say) is blamed on it, where "pp given by --set" had named an option nobody gave. */
Test(runtable, overrides_are_given_by_the_table)
{
    table(HEADER "A1\tx\tSRC\t" L70 "\tpp=4\t1.5\tyes\n");
    int n;
    cr_assert_eq(read_rows(MAX, &n), SIM_OK, "%s", err.msg);
    const struct scenario *scn = &rows[0].scn;
    cr_assert_str_eq(scn_origin_text(scn, &scn->origin[SCN_PP]), "the table's set_overrides");
}

/* Columns are found by name, in any order; set and scored may be missing; no role line. */
Test(runtable, columns_by_name_and_the_optional_ones)
{
    table("measured_step_s\tscenario\tid\tsource\tset_overrides\n"
          "not a header: the header starts with id\n");
    int n;
    cr_assert_eq(read_rows(MAX, &n), SIM_EINPUT);
    cr_assert(strstr(err.msg, "the header's first column is not id; a table's header starts "
                              "with id"),
              "%s", err.msg);
    cr_assert_eq(err.line, 1);
    table("# role: calibration\nid\tmeasured_step_s\tscenario\tsource\tset_overrides\n"
          "B1\t7\t" L70 "\tS\t-\n");
    cr_assert_eq(read_rows(MAX, &n), SIM_OK, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_assert_eq(rows[0].measured_s, 7.0);
    cr_assert_str_eq(rows[0].set, "-");
    cr_assert_eq(rows[0].role, ROLE_CALIBRATION);
    table(HEADER "C1\tx\tS\t" L70 "\t-\t1\tyes\n");
    cr_assert_eq(read_rows(MAX, &n), SIM_OK, "%s", err.msg);
    cr_assert_eq(rows[0].role, ROLE_UNSTATED);
    cr_assert_str_eq(runtable_role_name(ROLE_UNSTATED), "-");
}

/* A refused table: `text` fails with a message holding `fragment` at line `line`. */
static void refused(const char *text, int cap, const char *fragment, int line)
{
    table(text);
    int n;
    cr_assert_eq(read_rows(cap, &n), SIM_EINPUT, "accepted: %s", text);
    cr_assert(strstr(err.msg, fragment), "message '%s' lacks '%s'", err.msg, fragment);
    cr_assert_eq(err.line, line, "line %d, expected %d (%s)", err.line, line, err.msg);
}

Test(runtable, malformed_tables_are_refused_with_their_line)
{
    refused("id\tsource\tscenario\tset_overrides\n", MAX, "no 'measured_step_s' column", 1);
    refused(HEADER "D1\tx\tS\t" L70 "\t-\tfast\tyes\n", MAX, "'fast' is not a positive number",
            2);
    refused(HEADER "D1\tx\tS\t" L70 "\t-\t-1\tyes\n", MAX, "not a positive number", 2);
    /* what strtod alone took: a hex float (16 s here), nan, inf */
    refused(HEADER "D1\tx\tS\t" L70 "\t-\t0x10\tyes\n", MAX, "'0x10' is not a positive number", 2);
    refused(HEADER "D1\tx\tS\t" L70 "\t-\tinf\tyes\n", MAX, "not a positive number", 2);
    refused(HEADER "D1\tx\tS\t" L70 "\t-\t0\tyes\n", MAX, "not a positive number", 2);
    refused(HEADER "D1\tx\tS\n", MAX, "row D1: 3 fields, fewer than the header's 7", 2);
    refused(HEADER "D1\n", MAX, "row D1: 1 field, fewer than the header's 7", 2);
    refused(HEADER "D1\tx\tS\t" L70 "\t-\t1\tyes\nD2\tx\tS\t" L70 "\t-\t1\tyes\n", 1,
            "more than 1 rows", 3);
    /* a misspelt optional column would be a note, and every row scored */
    refused("id\tsource\tscenario\tset_overrides\tmeasured_step_s\tscore\n", MAX,
            "the header has 'score' but no 'scored' column: did you mean 'scored'?", 1);
    refused("id\tsource\tscenaro\tset_overrides\tmeasured_step_s\n", MAX,
            "'scenaro' but no 'scenario' column", 1);
    refused(HEADER "D1\tx\tS\t" L70 "\tnosuchkey=1\t1\tyes\n", MAX, "row D1: ", 2);
    cr_assert(strstr(err.msg, "nosuchkey"), "%s", err.msg);
}

/* A row must be a modelled scenario (model and hardware), and the table must exist. */
Test(runtable, explicit_cost_rows_and_missing_tables)
{
    table(HEADER "E1\tx\tS\tscenarios/unit.xml\t-\t1\tyes\n");
    int n;
    cr_assert_eq(read_rows(MAX, &n), SIM_EINPUT);
    cr_assert(strstr(err.msg, "row E1: not a modelled scenario"), "%s", err.msg);
    cr_assert_eq(err.line, 2, "placed at the row: %s:%d", err.file, err.line);
    err_clear(&err);
    n = 0;
    cr_assert_eq(runtable_read("/nonexistent/table.tsv", TOP_SRCDIR, rows, MAX, &n, &err),
                 SIM_EINPUT);
    cr_assert(strstr(err.msg, "cannot open the table"), "%s", err.msg);
    err_clear(&err);
    n = 0;
    cr_assert_eq(runtable_read(TOP_SRCDIR "/scenarios", TOP_SRCDIR, rows, MAX, &n, &err),
                 SIM_EINPUT);
    cr_assert(strstr(err.msg, "a directory, not a table"), "%s", err.msg);
}

/* A row's scenario that does not load is placed at the table's line and row; a relative path
 * that does not exist under the root says where it was looked for (--root). */
Test(runtable, a_missing_scenario_names_the_table_row_and_root)
{
    table(HEADER "M1\tx\tS\t" L70 "\t-\t1\tyes\n"
                 "M2\tx\tS\tscenarios/no-such.xml\t-\t1\tyes\n");
    int n;
    cr_assert_eq(read_rows(MAX, &n), SIM_EINPUT);
    cr_assert_str_eq(err.file, path);
    cr_assert_eq(err.line, 3);
    cr_assert(strstr(err.msg, "row M2: scenario " TOP_SRCDIR "/scenarios/no-such.xml: cannot open"),
              "%s", err.msg);
    cr_assert(strstr(err.msg, "start from --root, here '" TOP_SRCDIR "'"), "%s", err.msg);
    /* an absolute path is taken as it is, and gets no hint about the root */
    table(HEADER "M3\tx\tS\t/nonexistent/s.xml\t-\t1\tyes\n");
    cr_assert_eq(read_rows(MAX, &n), SIM_EINPUT);
    cr_assert(strstr(err.msg, "row M3: scenario /nonexistent/s.xml: cannot open"), "%s", err.msg);
    cr_assert_null(strstr(err.msg, "--root"), "%s", err.msg);
    table(HEADER "M4\tx\tS\t" TOP_SRCDIR "/" L70 "\t-\t1\tyes\n");
    cr_assert_eq(read_rows(MAX, &n), SIM_OK, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_assert_eq(rows[0].line, 2);
    cr_assert_str_eq(rows[0].table, path);
}

/* Each malformed row is refused at its line with its id, the skipped rows too (A2 and A3 kinds:
 * not expressible, not scored): it would otherwise be read some other way than meant, or
 * dropped unseen. */
Test(runtable, malformed_rows_are_refused_with_their_line_and_id)
{
    refused(HEADER "R1\tx\tS\t" L70 "\t-\t1\tmaybe\n", MAX,
            "row R1: scored 'maybe': expected yes or no", 2);
    refused(HEADER "R1\tx\tS\t" L70 "\t-\t1\tyes\textra\n", MAX,
            "row R1: 8 fields, more than the header's 7", 2);
    refused(HEADER "R1\tx\t\t" L70 "\t-\t1\tyes\n", MAX,
            "row R1: empty source ('-' where there is nothing)", 2);
    refused(HEADER "\tx\tS\t" L70 "\t-\t1\tyes\n", MAX, "a row with an empty id", 2);
    refused(HEADER "R1\tx\tS\t" L70 "\tpp=2,,tp=1\t1\tyes\n", MAX,
            "row R1: set_overrides 'pp=2,,tp=1': an empty element", 2);
    refused(HEADER "R1\tx\tS\t" L70 "\tpp=2,\t1\tyes\n", MAX, "an empty element", 2);
    refused(HEADER "R1\tx\tS\t" L70 "\tpp=2,-\t1\tyes\n", MAX, "'-' (none) stands alone", 2);
    refused(HEADER "R1\tx\tS\t-\tpp\t1\tno\n", MAX, "'pp': an element that is not KEY=VALUE",
            2);
    refused(HEADER "R1\tx\tS\t-\t=4\t1\tno\n", MAX, "'=4': an element with no KEY before its '='",
            2);
    refused(HEADER "R1\tx\tS\t-\t-\tfast\tno\n", MAX,
            "row R1: measured_step_s 'fast' is not a positive number", 2);
    refused(HEADER "R1\tx\tS\t-\t-\t1\tyes\nR2\tx\tS\t-\t-\t1\tyes\n"
                   "R1\tx\tS\t" L70 "\t-\t1\tno\n",
            MAX, "row R1: line 2 has the same id", 4);
    refused(HEADER "R123456789012345678901234567890123\tx\tS\t-\t-\t1\tyes\n", MAX,
            "is longer than 31 characters", 2);
    refused("id\tsource\tscenario\tset_overrides\tmeasured_step_s\tsource\n", MAX,
            "the header names 'source' twice", 1);
}

/* The role: calibration or held-out, stated once, before the header. */
Test(runtable, the_role_line_is_checked)
{
    refused("# role: banana\n" HEADER, MAX, "role 'banana': expected calibration or held-out", 1);
    refused("# role: held out\n" HEADER, MAX, "role 'held out'", 1);
    refused("# role: calibrationx\n" HEADER, MAX, "role 'calibrationx'", 1);
    refused("# role: held-out\n#role: calibration\n" HEADER, MAX,
            "a second role line (the first is line 1)", 2);
    refused(HEADER "# role: held-out\n", MAX, "a role line after the header", 2);
    table("#  role: held-out  \n" HEADER "A1\tx\tS\t" L70 "\t-\t1\tyes\n");
    int n;
    cr_assert_eq(read_rows(MAX, &n), SIM_OK, "%s", err.msg);
    cr_assert_eq(rows[0].role, ROLE_HELD_OUT);
}

/* Tables read into one array share their ids: a report names a row by its id alone. */
Test(runtable, ids_are_unique_across_the_tables_read_together)
{
    char first[64];
    table(HEADER "U1\tx\tS\t" L70 "\t-\t1\tyes\n");
    snprintf(first, sizeof first, "%s", path);
    int n = 0;
    cr_assert_eq(runtable_read(first, TOP_SRCDIR, rows, MAX, &n, &err), SIM_OK, "%s", err.msg);
    table(HEADER "U2\tx\tS\t" L70 "\t-\t1\tyes\nU1\tx\tS\t" L70 "\t-\t2\tyes\n");
    enum sim_status st = runtable_read(path, TOP_SRCDIR, rows, MAX, &n, &err);
    unlink(path);
    unlink(first);
    cr_assert_eq(st, SIM_EINPUT);
    cr_assert_eq(err.line, 3);
    char want[128];
    snprintf(want, sizeof want, "row U1: %s:2 has the same id", first);
    cr_assert(strstr(err.msg, want), "%s", err.msg);
}

/* One table given twice (calibrate T.tsv T.tsv) is said as such: its first row had been told
 * it has the same id as itself ("T.tsv:2: row U1: T.tsv:2 has the same id"). */
Test(runtable, a_table_read_twice_is_named)
{
    table(HEADER "U1\tx\tS\t" L70 "\t-\t1\tyes\n");
    int n = 0;
    cr_assert_eq(runtable_read(path, TOP_SRCDIR, rows, MAX, &n, &err), SIM_OK, "%s", err.msg);
    enum sim_status st = runtable_read(path, TOP_SRCDIR, rows, MAX, &n, &err);
    unlink(path);
    cr_assert_eq(st, SIM_EINPUT);
    cr_assert_str_eq(err.file, path);
    cr_assert_eq(err.line, 0);
    cr_assert_str_eq(err.msg, "the table is given twice");
}

/* A line longer than the reader's buffer is refused, not read as two. */
Test(runtable, a_line_too_long_is_refused)
{
    char text[9000];
    int w = snprintf(text, sizeof text, HEADER "L1\tx\tS\t-\t-\t1\tno\t");
    memset(text + w, 'x', sizeof text - (size_t)w - 2);
    text[sizeof text - 2] = '\n';
    text[sizeof text - 1] = '\0';
    refused(text, MAX, "a line longer than 8190 characters", 2);
}

/* What a spreadsheet or an editor makes of a table: a UTF-8 byte-order mark before the first
 * line is skipped, and a header whose tabs became spaces is named as such -- it had read "no
 * header line starting with 'id'" of a file whose first line starts with id. */
Test(runtable, a_bom_is_skipped_and_a_header_of_spaces_named)
{
    table("\xEF\xBB\xBF" HEADER "B1\tx\tS\t" L70 "\t-\t2.5\tyes\n");
    int n;
    cr_assert_eq(read_rows(MAX, &n), SIM_OK, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_assert_eq(rows[0].measured_s, 2.5);
    table("\xEF\xBB\xBF# role: held-out\n" HEADER "B1\tx\tS\t" L70 "\t-\t2.5\tyes\n");
    cr_assert_eq(read_rows(MAX, &n), SIM_OK, "%s", err.msg);
    cr_assert_eq(rows[0].role, ROLE_HELD_OUT);
    refused("# a comment\nid  source  scenario  set_overrides  measured_step_s\n"
            "B1  S  " L70 "  -  2.5\n",
            MAX, "the header's columns are separated by spaces; a table's are by tabs", 2);
}
