/* test_derive: the precedence of given over implied values -- the batch triple global-batch =
 * microbatches x micro-batch x dp in each case of derive.h's table, vp and split-backward
 * following the schedule, the contradictions that stay errors, and the list of derived keys. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "derive.h"

/* A scenario: defaults, then "KEY=VALUE" items from the file f.xml (line = position), then
 * items from options; "--set" and "--vary" prefixes pick the option, e.g. "--vary:pp=2". */
static struct scenario scn;
static struct sim_error err;

static void given(const char *const *items)
{
    scn_defaults(&scn);
    err_clear(&err);
    int line = 1;
    for (; *items; items++, line++) {
        char key[64];
        const char *item = *items, *option = NULL;
        if (strncmp(item, "--set:", 6) == 0 || strncmp(item, "--vary:", 7) == 0) {
            option = item[2] == 's' ? "--set" : "--vary";
            item = strchr(item, ':') + 1;
        }
        const char *eq = strchr(item, '=');
        cr_assert(eq);
        snprintf(key, sizeof key, "%.*s", (int)(eq - item), item);
        enum sim_status st = option ? scn_set_option(&scn, option, key, eq + 1, &err)
                                    : scn_set(&scn, key, eq + 1, "f.xml", line, &err);
        cr_assert_eq(st, SIM_OK, "%s: %s", *items, err.msg);
    }
}

#define G(...) given((const char *const[]){__VA_ARGS__, NULL})

static void derived_are(const char *want)
{
    char buf[256];
    derive_list(&scn, " ", buf, sizeof buf);
    cr_assert_str_eq(buf, want);
}

/* The batch with dp data-parallel replicas succeeds: microbatches and global-batch as given. */
static void batch_is(int dp, int microbatches, int global, const char *derived)
{
    cr_assert_eq(derive_apply(&scn, dp, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(scn.microbatches, microbatches);
    cr_assert_eq(scn.global_batch, global);
    derived_are(derived);
    /* Deriving again changes nothing: a derived value is not given. */
    cr_assert_eq(derive_apply(&scn, dp, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(scn.microbatches, microbatches);
    cr_assert_eq(scn.global_batch, global);
    derived_are(derived);
}

static void batch_fails(int dp, const char *fragment)
{
    cr_assert_eq(derive_apply(&scn, dp, &err), SIM_EINPUT, "accepted; expected '%s'", fragment);
    cr_assert(strstr(err.msg, fragment) != NULL, "message '%s' lacks '%s'", err.msg, fragment);
}

Test(batch, neither_given_global_follows_the_default_microbatch_count)
{
    G("micro-batch=2");
    batch_is(8, 1, 16, "global-batch");
}

Test(batch, one_given_the_other_follows)
{
    G("global-batch=512");
    batch_is(16, 32, 512, "microbatches");
    G("microbatches=8", "micro-batch=2");
    batch_is(16, 8, 256, "global-batch");
}

/* The sweep: --vary microbatches over a file's global batch moves the global batch. */
Test(batch, varied_microbatches_win_over_the_files_global_batch)
{
    G("global-batch=512", "micro-batch=1", "--vary:pp=8", "--vary:microbatches=8");
    batch_is(8, 8, 64, "global-batch");
    G("global-batch=512", "microbatches=32", "--set:microbatches=16");
    batch_is(16, 16, 256, "global-batch");
}

/* Varying the layout (pp, tp, gpus, micro-batch) keeps the file's global batch. */
Test(batch, varied_layout_keeps_the_global_batch_and_microbatches_follow)
{
    G("global-batch=512", "--vary:pp=8");
    batch_is(8, 64, 512, "microbatches");
    /* The file gives both, consistent for its own dp=16 (32 x 1 x 16); pp, gpus or micro-batch
     * from the command line change dp or b: the global batch stays. */
    G("global-batch=512", "microbatches=32", "--vary:pp=8");
    batch_is(8, 64, 512, "microbatches");
    G("global-batch=512", "microbatches=32", "--set:gpus=1024");
    batch_is(32, 16, 512, "microbatches");
    G("global-batch=512", "microbatches=32", "--vary:micro-batch=2");
    batch_is(16, 16, 512, "microbatches");
}

Test(batch, global_batch_given_later_wins)
{
    G("microbatches=32", "--set:global-batch=256");
    batch_is(16, 16, 256, "microbatches");
    /* A file over its base. */
    scn_defaults(&scn);
    err_clear(&err);
    cr_assert_eq(scn_set(&scn, "microbatches", "32", "base.xml", 4, &err), SIM_OK);
    scn.files_applied++;
    cr_assert_eq(scn_set(&scn, "global-batch", "128", "f.xml", 2, &err), SIM_OK);
    batch_is(16, 8, 128, "microbatches");
}

Test(batch, agreeing_values_at_one_level_derive_nothing)
{
    G("global-batch=512", "microbatches=32");
    batch_is(16, 32, 512, "");
    G("--set:global-batch=128", "--vary:microbatches=8");
    batch_is(16, 8, 128, "");
}

Test(batch, contradictions_at_one_level_are_errors_naming_both)
{
    /* One file, nothing later: the file contradicts itself; its microbatches line is cited. */
    G("global-batch=512", "microbatches=8");
    batch_fails(16, "microbatches=8 contradicts global-batch=512 / (micro-batch=1 * dp=16) = 32");
    cr_assert_str_eq(err.file, "f.xml");
    cr_assert_eq(err.line, 2);
    /* Both on the command line: both options named, no file. */
    G("global-batch=512", "--set:global-batch=512", "--vary:microbatches=8");
    batch_fails(16, "--vary microbatches=8 contradicts --set global-batch=512: global-batch / "
                    "(micro-batch=1 * dp=16) = 32 micro-batches");
    cr_assert_eq(err.file[0], '\0');
    /* --set pp changes dp, but the global batch and microbatches were also given there: the
     * user asked for all three, so they must agree. */
    G("--set:pp=2", "--set:global-batch=512", "--set:microbatches=8");
    batch_fails(16, "--set microbatches=8 contradicts --set global-batch=512");
}

Test(batch, global_batch_must_split_over_micro_batch_times_dp)
{
    /* The fault is blamed on the value given last: the varied pp. */
    G("global-batch=512", "--vary:pp=3");
    batch_fails(24, "global-batch=512 is not divisible by micro-batch*dp = 1*24 = 24");
    cr_assert(strstr(err.msg, "(pp given by --vary)") != NULL, "%s", err.msg);
    G("microbatches=16777216", "micro-batch=1024");
    batch_fails(8, "above the limit of 67108864");
}

Test(batch, explicit_scenarios_have_no_batch_relation)
{
    G("microbatches=8");
    batch_is(0, 8, 0, "");
}

/* ---- vp and split-backward follow the schedule ------------------------------------------ */

static void vp_is(int vp, const char *derived)
{
    cr_assert_eq(derive_apply(&scn, 0, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(scn.vp, vp);
    derived_are(derived);
}

Test(schedule_keys, vp_follows_a_schedule_given_later)
{
    G("layers=8", "pp=4", "vp=1", "--set:schedule=interleaved");
    vp_is(2, "vp");
    G("layers=8", "pp=4", "--vary:schedule=zb-v");
    vp_is(2, "vp");
    G("layers=8", "pp=4", "--vary:schedule=dualpipe-v");
    vp_is(2, "vp");
    G("layers=16", "pp=4", "schedule=interleaved", "vp=4", "--vary:schedule=1f1b");
    vp_is(1, "vp");
    G("layers=16", "pp=4", "schedule=zb-v", "vp=2", "--vary:schedule=zb-h1");
    vp_is(1, "vp");
}

Test(schedule_keys, interleaved_takes_the_least_vp_that_splits_the_layers)
{
    G("layers=12", "pp=2", "microbatches=4", "--set:schedule=interleaved");
    vp_is(2, "vp");
    G("layers=18", "pp=2", "microbatches=4", "--set:schedule=interleaved");
    vp_is(3, "vp");
    /* Interleaved rules count too: microbatches=3 < pp=4 fails every vp; 2 stands and the rule
     * reports the problem. */
    G("layers=64", "pp=4", "microbatches=3", "--set:schedule=interleaved");
    vp_is(2, "vp");
}

Test(schedule_keys, a_fitting_or_equally_given_vp_stays)
{
    G("layers=80", "pp=4", "schedule=interleaved", "vp=5", "--vary:pp=2");
    vp_is(5, "");
    /* vp from the command line with the schedule: the rules judge them (vp=4 for 1f1b fails). */
    G("layers=16", "pp=4", "--set:vp=4", "--vary:schedule=1f1b");
    vp_is(4, "");
    /* One file gives both: its own contradiction, left to the rules. */
    G("layers=8", "pp=4", "schedule=1f1b", "vp=2");
    vp_is(2, "");
}

Test(schedule_keys, split_backward_follows_a_zero_bubble_schedule_given_later)
{
    G("layers=8", "pp=4", "split-backward=false", "--set:schedule=zb-h1");
    vp_is(1, "split-backward");
    cr_assert_eq(scn.split_backward, 1);
    G("layers=8", "pp=4", "--set:split-backward=false", "--set:schedule=zb-h1");
    vp_is(1, "");
    cr_assert_eq(scn.split_backward, 0, "left to the rule that names both");
}

Test(derived_list, keys_in_table_order_with_a_separator)
{
    G("layers=8", "pp=4", "global-batch=64", "--set:schedule=zb-v");
    cr_assert_eq(derive_apply(&scn, 2, &err), SIM_OK, "%s", err.msg);
    char buf[64];
    cr_assert_eq(derive_list(&scn, ",", buf, sizeof buf), 2);
    cr_assert_str_eq(buf, "vp,microbatches");
    cr_assert_eq(derive_list(&scn, ",", buf, 5), 2, "counts past a short buffer");
    cr_assert_str_eq(buf, "vp,m");
}
