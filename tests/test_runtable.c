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

/* Columns are found by name, in any order; set and scored may be missing; no role line. */
Test(runtable, columns_by_name_and_the_optional_ones)
{
    table("measured_step_s\tscenario\tid\tsource\tset_overrides\n"
          "not a header: the header starts with id\n");
    int n;
    cr_assert_eq(read_rows(MAX, &n), SIM_EINPUT);
    cr_assert(strstr(err.msg, "no header line starting with 'id'"), "%s", err.msg);
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
    refused(HEADER "D1\tx\tS\n", MAX, "fewer columns than the header names", 2);
    refused(HEADER "D1\tx\tS\t" L70 "\t-\t1\tyes\nD2\tx\tS\t" L70 "\t-\t1\tyes\n", 1,
            "more than 1 rows", 3);
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
    err_clear(&err);
    n = 0;
    cr_assert_eq(runtable_read("/nonexistent/table.tsv", TOP_SRCDIR, rows, MAX, &n, &err),
                 SIM_EINPUT);
    cr_assert(strstr(err.msg, "cannot open the table"), "%s", err.msg);
}
