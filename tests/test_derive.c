/* test_derive: the precedence of given over implied values -- the batch triple global-batch =
 * microbatches x micro-batch x dp in each case of derive.h's table, vp and split-backward
 * following the schedule, first / last-stage-layers following the pipeline (and the split rule
 * of stagesplit.h by hand), the contradictions that stay errors, and the list of derived keys. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "derive.h"
#include "hardware.h"
#include "model.h"
#include "stagesplit.h"

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

static void derive_ok(void);
static void derived_are(const char *want);

/* Given these items, deriving succeeds and `derived` (keys in table order) followed. */
#define FOLLOWS(derived, ...) (G(__VA_ARGS__), derive_ok(), derived_are(derived))

static void derived_are(const char *want)
{
    char buf[256];
    derive_list(&scn, " ", buf, sizeof buf);
    cr_assert_str_eq(buf, want);
}

/* Derive without a batch relation (dp 0), which must succeed. */
static void derive_ok(void)
{
    cr_assert_eq(derive_apply(&scn, NULL, 0, &err), SIM_OK, "%s", err.msg);
}

/* The batch with dp data-parallel replicas succeeds: microbatches and global-batch as given. */
static void batch_is(int dp, int microbatches, int global, const char *derived)
{
    cr_assert_eq(derive_apply(&scn, NULL, dp, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(scn.microbatches, microbatches);
    cr_assert_eq(scn.global_batch, global);
    derived_are(derived);
    /* Deriving again changes nothing: a derived value is not given. */
    cr_assert_eq(derive_apply(&scn, NULL, dp, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(scn.microbatches, microbatches);
    cr_assert_eq(scn.global_batch, global);
    derived_are(derived);
}

static void batch_fails(int dp, const char *fragment)
{
    cr_assert_eq(derive_apply(&scn, NULL, dp, &err), SIM_EINPUT, "accepted; expected '%s'",
                 fragment);
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
    derive_ok();
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
    cr_assert_eq(derive_apply(&scn, NULL, 2, &err), SIM_OK, "%s", err.msg);
    char buf[64];
    cr_assert_eq(derive_list(&scn, ",", buf, sizeof buf), 2);
    cr_assert_str_eq(buf, "vp,microbatches");
    cr_assert_eq(derive_list(&scn, ",", buf, 5), 2, "counts past a short buffer");
    cr_assert_str_eq(buf, "vp,m");
}

/* ---- the ends' layers (stagesplit.h), by hand ---------------------------------------------- */

static void ends_are(int layers, int stages, int fa, int la, int first, int last)
{
    int f = -7, l = -7;
    cr_assert_eq(stage_split_ends(layers, stages, fa, la, &f, &l), 0, "%d on %d", layers, stages);
    cr_assert_eq(f, first, "%d layers on %d stages: first %d, want %d", layers, stages, f, first);
    cr_assert_eq(l, last, "%d layers on %d stages: last %d, want %d", layers, stages, l, last);
}

Test(stage_split, megatron_counts_each_end_set_apart_as_a_layer)
{
    ends_are(126, 32, 1, 1, 3, 3); /* 128 / 32 = 4: Llama 3.1 405B, pp 16 x vp 2 */
    ends_are(126, 16, 1, 1, 7, 7); /* 128 / 16 = 8 */
    ends_are(70, 12, 1, 1, 5, 5);  /* BLOOM: 72 / 12 = 6 */
    ends_are(126, 2, 1, 1, 63, 63);
    ends_are(127, 16, 0, 1, 0, 7); /* the loss alone: 128 / 16 = 8, the last 7 */
}

Test(stage_split, otherwise_ceil_on_the_middle_and_the_last_end_lighter)
{
    ends_are(61, 16, 1, 1, 3, 2); /* DeepSeek-V3: 14 x 4 = 56, 5 left: 3 and 2 */
    ends_are(61, 32, 1, 1, 1, 0); /* 30 x 2 = 60, 1 left */
    ends_are(61, 4, 1, 1, 15, 14); /* 2 x 16 = 32, 29 left */
    ends_are(125, 16, 1, 0, 5, 0); /* 15 x 8 = 120, 5 on the first */
    ends_are(61, 2, 1, 1, 31, 30); /* no middle stage */
}

Test(stage_split, no_split_without_two_stages_or_a_layer_per_middle_stage)
{
    int f, l;
    cr_assert_eq(stage_split_ends(10, 1, 1, 1, &f, &l), -1);
    cr_assert_eq(stage_split_ends(5, 8, 1, 1, &f, &l), -1, "6 middle stages, 5 layers");
    cr_assert_eq(stage_split_ends(10, 4, 0, 0, &f, &l), -1, "no end set apart");
    /* ceil 2 on 6 middle stages needs 12 of 10 layers; floor 1 each would leave the ends 2 */
    cr_assert_eq(stage_split_ends(10, 8, 1, 1, &f, &l), -1, "ends heavier than the middle");
    cr_assert_eq(stage_split_ends(80, 32, 1, 1, &f, &l), -1, "ceil 3 x 30 = 90 > 80");
}

/* ---- the ends following the pipeline ------------------------------------------------------- */

/* The ends after deriving with dp replicas (0: explicit costs), twice, and the rules pass. */
static void derived_ends_are(int dp, int first, int last, const char *derived)
{
    cr_assert_eq(derive_apply(&scn, NULL, dp, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(scn.first_stage_layers, first);
    cr_assert_eq(scn.last_stage_layers, last);
    derived_are(derived);
    cr_assert_eq(derive_apply(&scn, NULL, dp, &err), SIM_OK, "deriving again: %s", err.msg);
    cr_assert_eq(scn.first_stage_layers, first);
    cr_assert_eq(scn.last_stage_layers, last);
    cr_assert_eq(scn_check(&scn, &err), SIM_OK, "%s", err.msg);
}

static void stage_ends_are(int first, int last, const char *derived)
{
    derived_ends_are(0, first, last, derived);
}

#define L405 "layers=126", "schedule=interleaved", "microbatches=64"

/* The shipped 405B scenario's pp sweep: the file's 3 / 3 were made for pp 16 x vp 2. */
Test(stage_ends, follow_a_pipeline_given_later)
{
    G(L405, "pp=16", "vp=2", "first-stage-layers=3", "last-stage-layers=3", "--vary:pp=8");
    stage_ends_are(7, 7, "first-stage-layers last-stage-layers");
    /* restating the file's pp changes no pipeline: the file's ends stay given, as `run` has
     * them (they had been re-derived, which for DeepSeek-V3's 4 and 1 gave 3 and 2) */
    G(L405, "pp=16", "vp=2", "first-stage-layers=3", "last-stage-layers=3", "--vary:pp=16");
    stage_ends_are(3, 3, "");
    G(L405, "pp=16", "vp=2", "first-stage-layers=3", "last-stage-layers=3",
      "--set:schedule=interleaved", "--set:vp=2");
    stage_ends_are(3, 3, "");
    G(L405, "pp=16", "vp=2", "last-stage-layers=3", "--set:vp=4");
    stage_ends_are(0, 0, "last-stage-layers"); /* 127 / 64 does not divide: 63 x 2, 0 left */
    /* A file over its base: the later file's pp moves the base's ends. */
    scn_defaults(&scn);
    err_clear(&err);
    cr_assert_eq(scn_set(&scn, "layers", "61", "base.xml", 2, &err), SIM_OK);
    cr_assert_eq(scn_set(&scn, "first-stage-layers", "3", "base.xml", 3, &err), SIM_OK);
    cr_assert_eq(scn_set(&scn, "last-stage-layers", "2", "base.xml", 4, &err), SIM_OK);
    cr_assert_eq(scn_set(&scn, "pp", "16", "base.xml", 5, &err), SIM_OK);
    scn.files_applied++;
    cr_assert_eq(scn_set(&scn, "pp", "32", "f.xml", 2, &err), SIM_OK);
    stage_ends_are(1, 0, "first-stage-layers last-stage-layers");
}

Test(stage_ends, stay_when_given_with_or_after_the_pipeline)
{
    G(L405, "pp=16", "vp=2", "first-stage-layers=3", "last-stage-layers=3",
      "--vary:microbatches=32");
    stage_ends_are(3, 3, "");
    /* Both from the command line: the rules judge the given ends (120 over 14 stages fails). */
    G(L405, "vp=2", "--set:first-stage-layers=3", "--set:last-stage-layers=3", "--vary:pp=8");
    derive_ok();
    cr_assert_eq(scn.first_stage_layers, 3);
    cr_assert_eq(scn_check(&scn, &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "must split evenly") != NULL, "%s", err.msg);
}

Test(stage_ends, are_no_longer_apart_on_one_stage)
{
    G("layers=126", "pp=16", "first-stage-layers=3", "last-stage-layers=3", "--vary:pp=1");
    derive_ok();
    cr_assert_not(scn_given_or_derived(&scn, SCN_FIRST_STAGE_LAYERS));
    cr_assert_not(scn_given_or_derived(&scn, SCN_LAST_STAGE_LAYERS));
    cr_assert_eq(scn_check(&scn, &err), SIM_OK, "%s", err.msg);
}

/* A schedule given later picks the least vp whose stages the following ends can split. */
Test(stage_ends, follow_the_vp_an_interleaved_schedule_takes)
{
    G("layers=61", "pp=4", "microbatches=8", "first-stage-layers=16", "last-stage-layers=13",
      "--set:schedule=interleaved");
    stage_ends_are(7, 6, "vp first-stage-layers last-stage-layers"); /* 6 x 8 = 48, 13 left */
    cr_assert_eq(scn.vp, 2);
}

/* Ends not given in a modelled scenario (dp given): a pipeline given later that cannot split
 * the layers evenly sets both apart (Nemotron-H 56B's 118 layers: 120 / 4 -> 29, 30 x 2, 29;
 * 120 / 8 -> 14, 15 x 6, 14); one that can leaves them alone; one given with the layers, or
 * with explicit costs (dp 0), stays for the rules to judge. */
Test(stage_ends, uneven_pipeline_given_later_sets_both_ends_apart)
{
    G("layers=118", "pp=1", "microbatches=8", "--vary:pp=4");
    derived_ends_are(1, 29, 29, "global-batch first-stage-layers last-stage-layers");
    G("layers=118", "pp=1", "microbatches=8", "--vary:pp=8");
    derived_ends_are(1, 14, 14, "global-batch first-stage-layers last-stage-layers");
    G("layers=118", "pp=1", "microbatches=8", "--vary:pp=2");
    derived_ends_are(1, 0, 0, "global-batch");
    G("layers=118", "pp=4", "microbatches=8");
    cr_assert_eq(derive_apply(&scn, NULL, 1, &err), SIM_OK, "%s", err.msg);
    cr_assert_not(scn_given_or_derived(&scn, SCN_FIRST_STAGE_LAYERS));
    cr_assert_eq(scn_check(&scn, &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "not divisible by pp*vp=4") != NULL, "%s", err.msg);
    G("layers=118", "pp=1", "microbatches=8", "--vary:pp=4");
    derive_ok();
    cr_assert_not(scn_given_or_derived(&scn, SCN_FIRST_STAGE_LAYERS), "explicit costs");
}

/* No split of the ends no heavier than the middle (80 layers on 32 stages: ceil 3 on 30 middle
 * stages needs 90): a balanced pipeline-layout follows under interleaved (pplayout_balanced:
 * stages 15-30 of 3, the others of 2, 5 layers a rank), the ends given for another pipeline
 * dropped; in a modelled scenario without ends too; a schedule without layouts is refused,
 * naming what to change. */
Test(stage_ends, without_a_split_a_balanced_layout_follows)
{
    G("layers=80", "schedule=interleaved", "pp=8", "vp=2", "microbatches=64",
      "first-stage-layers=5", "last-stage-layers=5", "--vary:pp=16");
    derive_ok();
    derived_are("first-stage-layers last-stage-layers pipeline-layout");
    cr_assert_eq(scn_check(&scn, &err), SIM_OK, "%s", err.msg);
    for (int s = 0; s < 32; s++) {
        int first, n;
        scn_stage_layers(&scn, s, &first, &n);
        cr_assert_eq(n, s >= 15 && s <= 30 ? 3 : 2, "stage %d: %s", s, scn.pipeline_layout);
    }
    derive_ok(); /* deriving again keeps it */
    derived_are("first-stage-layers last-stage-layers pipeline-layout");
    G("layers=80", "schedule=interleaved", "pp=8", "vp=2", "microbatches=64", "--vary:pp=16");
    cr_assert_eq(derive_apply(&scn, NULL, 1, &err), SIM_OK, "%s", err.msg);
    derived_are("global-batch pipeline-layout");
    cr_assert_eq(scn_check(&scn, &err), SIM_OK, "%s", err.msg);
    G("layers=80", "schedule=zb-h1", "pp=8", "microbatches=64", "--vary:pp=32");
    cr_assert_eq(derive_apply(&scn, NULL, 1, &err), SIM_EINPUT, "accepted");
    cr_assert(strstr(err.msg, "schedule=zb-h1 takes no pipeline-layout") &&
                  strstr(err.msg, "change pp or vp, or give first-stage-layers / "
                                  "last-stage-layers (pp given by --vary)"),
              "%s", err.msg);
}

/* A model sharing its DSA top-k (GLM-5.2: layers 0, 1, 2 and every fourth from 6 compute it):
 * pp 2 splits 78 layers evenly, but chunk 1 would start on layer 39, which reuses; the stages
 * follow in whole groups with the MTP module (pplayout_grouped), and on 4 x 2 stages too. */
Test(stage_ends, a_shared_dsa_top_k_lays_whole_groups_out)
{
    struct model glm = {
        .layers = 78, .dsa_topk = 2048, .dsa_topk_freq = 4, .dsa_skip_offset = 3, .mtp_layers = 1};
    G("layers=78", "pp=1", "microbatches=8", "--vary:pp=2");
    cr_assert_eq(derive_apply(&scn, &glm, 1, &err), SIM_OK, "%s", err.msg);
    derived_are("global-batch pipeline-layout");
    cr_assert_str_eq(scn.pipeline_layout, "Etttttttttttttttttttttttttttttttttttttt|"
                                          "ttttttttttttttttttttttttttttttttttttttttmL");
    G("layers=78", "schedule=interleaved", "pp=13", "vp=2", "microbatches=26", "--vary:pp=4");
    cr_assert_eq(derive_apply(&scn, &glm, 1, &err), SIM_OK, "%s", err.msg);
    static const int want[8] = {10, 8, 8, 8, 8, 12, 12, 12};
    for (int s = 0; s < 8; s++) {
        int first, n;
        scn_stage_layers(&scn, s, &first, &n);
        cr_assert_eq(n, want[s], "stage %d: %s", s, scn.pipeline_layout);
        cr_assert(model_dsa_computes_topk(&glm, first), "stage %d starts at %d", s, first);
    }
    G("layers=78", "schedule=dualpipe", "pp=2", "microbatches=8", "--vary:pp=4");
    cr_assert_eq(derive_apply(&scn, &glm, 1, &err), SIM_EINPUT, "accepted");
    cr_assert(strstr(err.msg, "starts every chunk on a layer computing the DSA top-k"), "%s",
              err.msg);
}

/* sp=true follows a tp of 1 given later (Megatron-LM turns sequence parallelism off with tensor
 * parallelism off); given with it, or with a tp above 1, it stays. */
Test(sp, follows_a_tp_of_one_given_later)
{
    G("tp=8", "sp=true", "--vary:tp=1");
    derive_ok();
    cr_assert_eq(scn.sp, 0);
    derived_are("sp");
    G("tp=8", "sp=true", "--vary:tp=2");
    derive_ok();
    cr_assert_eq(scn.sp, 1);
    derived_are("");
    G("tp=1", "sp=true");
    derive_ok();
    cr_assert_eq(scn.sp, 1, "given together: the rules judge it");
}

/* A low-precision run's keys follow a dtype given later that they do not apply to, back to
 * their defaults and listed as derived; those that still apply, or were given with the dtype,
 * stay. */
Test(precision_keys, follow_a_dtype_given_later)
{
    G("dtype=fp8", "fp8-recipe=current", "quantized-params=true", "bf16-first-layers=1",
      "--vary:dtype=bf16");
    derive_ok();
    cr_assert_eq(scn.quantized_params, 0);
    cr_assert_eq(scn.bf16_first_layers, 0);
    derived_are("fp8-recipe bf16-first-layers quantized-params");
    G("dtype=fp8", "fp8-recipe=current", "quantized-params=true", "--vary:dtype=nvfp4");
    derive_ok();
    cr_assert_eq(scn.quantized_params, 1, "quantized weights apply to nvfp4 too");
    derived_are("fp8-recipe");
    FOLLOWS("", "dtype=bf16", "fp8-recipe=current");
    cr_assert(scn_given(&scn, SCN_FP8_RECIPE), "given with the dtype: the rules judge it");
    /* bf16 edge layers do not apply under delayed scaling (Megatron-Core refuses the pair) */
    G("dtype=fp8", "fp8-recipe=current", "bf16-first-layers=1", "bf16-last-layers=1",
      "--vary:fp8-recipe=delayed");
    derive_ok();
    cr_assert_eq(scn.bf16_first_layers + scn.bf16_last_layers, 0);
    derived_are("bf16-first-layers bf16-last-layers");
    G("dtype=fp8", "fp8-recipe=delayed", "bf16-first-layers=1");
    derive_ok();
    cr_assert_eq(scn.bf16_first_layers, 1, "given with the recipe: the rules judge it");
}

/* The dtype follows an fp8 recipe given later (or given while the dtype was not): fp8, listed
 * as derived, and another low precision's keys follow it in turn; a 16-bit dtype given with
 * the recipe stays for the rules to judge. */
Test(precision_keys, the_dtype_follows_an_fp8_recipe_given_later)
{
    G("dtype=bf16", "--vary:fp8-recipe=current");
    derive_ok();
    cr_assert_eq(scn.dtype, DT_FP8);
    derived_are("dtype");
    G("fp8-recipe=delayed");
    derive_ok();
    cr_assert_eq(scn.dtype, DT_FP8, "a dtype not given follows the file's recipe");
    derived_are("dtype");
    G("dtype=nvfp4", "mxfp8-modules=mlp", "--vary:fp8-recipe=mxfp8");
    derive_ok();
    cr_assert_eq(scn.dtype, DT_FP8);
    cr_assert_eq(scn.mxfp8_modules, 0, "nvfp4's per-module MXFP8 follows the dtype");
    derived_are("dtype mxfp8-modules");
    G("dtype=bf16", "fp8-recipe=current");
    derive_ok();
    cr_assert_eq(scn.dtype, DT_BF16, "given together: the rules judge it");
    derived_are("");
    G("fp8-recipe=current", "--vary:dtype=bf16");
    derive_ok();
    cr_assert_eq(scn.dtype, DT_BF16, "a dtype given later wins");
    derived_are("fp8-recipe");
}

/* distributed-optimizer and zero: the one given later wins and the other follows; then
 * quantized-params, grad-reduce-op=reduce-scatter, fsdp-group and fsdp-outer-shard follow a
 * sharding given later that shards nothing.  Given together, or agreeing, nothing follows. */
Test(sharding_keys, follow_the_sharding_given_later)
{
    G("distributed-optimizer=true", "quantized-params=true", "grad-reduce-op=reduce-scatter",
      "--vary:zero=0");
    derive_ok();
    cr_assert_eq(scn.dist_opt, 0);
    cr_assert_eq(scn.quantized_params, 0);
    cr_assert_eq(scn.grad_reduce_op, GRAD_REDUCE_AUTO);
    derived_are("distributed-optimizer quantized-params grad-reduce-op");
    G("zero=3", "fsdp-group=8", "fsdp-outer-shard=optim", "--vary:distributed-optimizer=false");
    derive_ok();
    cr_assert_eq(scn.zero, 0);
    cr_assert_eq(scn.fsdp_group, 0);
    cr_assert_eq(scn.fsdp_outer_shard, FSDP_OUTER_NONE);
    derived_are("zero fsdp-group fsdp-outer-shard");
    G("distributed-optimizer=true", "quantized-params=true", "--vary:zero=2");
    derive_ok();
    cr_assert_eq(scn.quantized_params, 1, "still sharded");
    derived_are("");
    G("distributed-optimizer=true", "zero=0");
    derive_ok();
    cr_assert_eq(scn.dist_opt, 1, "given together: the rules judge it");
    derived_are("");
    G("zero=1", "--vary:quantized-params=true", "--vary:distributed-optimizer=false");
    derive_ok();
    cr_assert_eq(scn.zero, 0);
    cr_assert_eq(scn.quantized_params, 1, "given with the sharding: the rules judge it");
    derived_are("zero");
}

/* zero and fsdp, when they disagree: the later wins and the other goes back to its default;
 * given together they stay for the rules.  What sums whole gradients follows a stage 2 or 3
 * given later (but under torchtitan's pipelined FSDP2). */
Test(sharding_keys, zero_and_fsdp_follow_each_other_and_whole_gradients_follow_the_stage)
{
    G("fsdp=full-shard", "--vary:zero=1");
    derive_ok();
    cr_assert_eq(scn.fsdp, FSDP_NONE);
    cr_assert_eq(scn.zero, 1);
    derived_are("fsdp");
    G("zero=1", "--vary:fsdp=hybrid-shard");
    derive_ok();
    cr_assert_eq(scn.zero, 0);
    cr_assert_eq(scn.fsdp, FSDP_HYBRID_SHARD);
    derived_are("zero");
    FOLLOWS("", "fsdp=full-shard", "--vary:zero=3");
    G("fsdp=full-shard", "zero=1");
    derive_ok();
    cr_assert_eq(scn.fsdp, FSDP_FULL_SHARD, "given together: the rules judge it");
    derived_are("");
    G("grad-accumulation=fp32-copy", "grad-reduce-op=all-reduce", "--vary:zero=2");
    derive_ok();
    cr_assert_eq(scn.grad_accumulation, GRAD_ACCUM_FUSED);
    cr_assert_eq(scn.grad_reduce_op, GRAD_REDUCE_AUTO);
    derived_are("grad-reduce-op grad-accumulation");
    G("framework=torchtitan", "pp=2", "grad-accumulation=main-grad", "--vary:fsdp=full-shard");
    derive_ok();
    cr_assert_eq(scn.grad_accumulation, GRAD_ACCUM_MAIN_GRAD, "pipelined FSDP2 defers it");
    derived_are("");
}

/* Flash attention's own keys follow an unfused attention given later. */
Test(mode_keys, flash_attention_keys_follow_unfused_attention_given_later)
{
    G("dtype=fp8", "attention-kernel=fa2", "fp8-attention=true", "--vary:attention=unfused");
    derive_ok();
    cr_assert_eq(scn.attention_kernel, ATTN_KERNEL_BEST);
    cr_assert_eq(scn.fp8_attention, 0);
    derived_are("attention-kernel fp8-attention");
    FOLLOWS("", "attention=unfused", "attention-kernel=fa2");
}

/* A padded routing map follows a 16-bit dtype, or the allgather dispatcher, given later
 * (Megatron-Core refuses it with either). */
Test(precision_keys, the_padded_routing_map_follows_bf16_and_allgather)
{
    FOLLOWS("moe-router-padding", "dtype=fp8", "moe-router-padding=true", "--vary:dtype=bf16");
    cr_assert_eq(scn.moe_router_padding, 0);
    FOLLOWS("moe-router-padding", "dtype=fp8", "moe-router-padding=true",
            "--vary:moe-dispatcher=allgather");
    FOLLOWS("", "dtype=fp8", "moe-router-padding=true", "--vary:moe-dispatcher=hybridep");
    cr_assert_eq(scn.moe_router_padding, 1, "the flex dispatcher takes it");
}

/* What leans on the fused grouped MLP follows it when it follows a dtype given later: a
 * per-module graph scope's whole MoE blocks become their router and preprocessing, and
 * offload-modules drops fused_group_mlp; with a capacity the experts stay graphed. */
Test(precision_keys, the_fused_grouped_mlps_dependants_follow_it)
{
    G("dtype=fp8", "fp8-recipe=mxfp8", "moe-fused-grouped-mlp=true", "cuda-graphs=modules",
      "cuda-graph-scope=attn,moe", "offload-modules=fused_group_mlp,moe_act", "--vary:dtype=bf16");
    derive_ok();
    cr_assert_eq(scn.cuda_graph_scope, GS_ATTN | GS_MOE_ROUTER | GS_MOE_PREPROCESS);
    cr_assert_eq(scn.offload_modules, OM_MOE_ACT);
    derived_are("fp8-recipe offload-modules moe-fused-grouped-mlp cuda-graph-scope");
    G("dtype=fp8", "fp8-recipe=mxfp8", "moe-fused-grouped-mlp=true", "moe-capacity-factor=1",
      "cuda-graphs=modules", "cuda-graph-scope=attn,moe", "--vary:dtype=bf16");
    derive_ok();
    cr_assert_eq(scn.cuda_graph_scope, GS_ATTN | GS_MOE, "padded experts stay graphed");
    G("dtype=fp8", "fp8-recipe=mxfp8", "moe-fused-grouped-mlp=true", "cuda-graphs=modules",
      "cuda-graph-scope=attn,moe", "--vary:dtype=nvfp4");
    derive_ok();
    cr_assert_eq(scn.cuda_graph_scope, GS_ATTN | GS_MOE, "still fused under nvfp4");
    derived_are("fp8-recipe");
    G("dtype=fp8", "fp8-recipe=mxfp8", "moe-fused-grouped-mlp=true", "cuda-graphs=modules",
      "cuda-graph-scope=attn,moe", "--vary:etp=2");
    derive_ok();
    cr_assert_eq(scn.cuda_graph_scope, GS_ATTN | GS_MOE_ROUTER | GS_MOE_PREPROCESS);
    derived_are("moe-fused-grouped-mlp cuda-graph-scope");
    FOLLOWS("cuda-graph-scope", "dtype=fp8", "fp8-recipe=mxfp8", "cuda-graphs=modules",
            "cuda-graph-scope=attn,moe", "--vary:moe-fused-grouped-mlp=false");
    G("dtype=fp8", "fp8-recipe=mxfp8", "moe-fused-grouped-mlp=true",
      "offload-modules=fused_group_mlp", "offload-min-elements=1000", "--vary:dtype=bf16");
    derive_ok();
    cr_assert_eq(scn.offload_modules, 0);
    derived_are("fp8-recipe offload-modules offload-min-elements moe-fused-grouped-mlp");
}

/* Keys read only under another key's value follow that key given later; given with it they
 * stay for the rules.  offload-modules and offload-activations follow each other, and the
 * modules' tuning follows them out. */
Test(feature_keys, follow_the_keys_they_apply_under)
{
    FOLLOWS("wgrad-deferral-limit", "defer-head-wgrad=true", "wgrad-deferral-limit=22",
            "--vary:defer-head-wgrad=false");
    FOLLOWS("mtp-repeated-layer", "mtp-repeated-layer=true", "--vary:mtp-layers=0");
    G("moe-dispatcher=deepep", "deepep-sms=24", "moe-shared-expert-overlap=true",
      "--vary:moe-dispatcher=allgather");
    derive_ok();
    cr_assert_eq(scn.moe_shared_expert_overlap, 0);
    derived_are("moe-shared-expert-overlap deepep-sms");
    /* an fp8 wire follows a dispatcher without one given later; bf16 stays anywhere */
    FOLLOWS("moe-dispatch-dtype", "moe-dispatcher=deepep", "moe-dispatch-dtype=fp8",
            "--vary:moe-dispatcher=alltoall");
    FOLLOWS("", "moe-dispatcher=deepep", "moe-dispatch-dtype=bf16",
            "--vary:moe-dispatcher=alltoall");
    FOLLOWS("", "moe-dispatch-dtype=fp8", "--vary:moe-dispatcher=hybridep");
    FOLLOWS("moe-shared-expert-overlap", "moe-shared-expert-overlap=true",
            "--vary:overlap-ep-comm=true");
    FOLLOWS("muon-ns-steps", "optimizer-algorithm=muon", "muon-ns-steps=6",
            "--vary:optimizer-algorithm=adam");
    FOLLOWS("lora-rank lora-modules", "peft=lora", "lora-rank=16", "lora-modules=linear_qkv",
            "--vary:peft=none");
    FOLLOWS("", "peft=none", "--vary:peft=lora", "--vary:lora-rank=8");
    G("offload-modules=moe_act", "offload-min-elements=1000", "--vary:offload-activations=0.5");
    derive_ok();
    cr_assert_eq(scn.offload_modules, 0);
    derived_are("offload-modules offload-min-elements");
    G("offload-activations=0.5", "--vary:offload-modules=moe_act");
    derive_ok();
    cr_assert_eq(scn.offload_activations, 0.0);
    derived_are("offload-activations");
    FOLLOWS("offload-modules", "offload-modules=moe_act", "--vary:recompute=full");
    FOLLOWS("", "defer-head-wgrad=false", "wgrad-deferral-limit=22",
            "moe-shared-expert-overlap=true", "overlap-ep-comm=true",
            "--vary:moe-dispatcher=deepep");
}

/* The fused grouped MLP quantizes in MXFP8 or NVFP4: it follows a dtype or an fp8 recipe given
 * later that is neither, and stays under nvfp4 or the mxfp8 recipe. */
Test(precision_keys, the_fused_grouped_mlp_follows_a_dtype_or_recipe_given_later)
{
    G("dtype=fp8", "fp8-recipe=mxfp8", "moe-fused-grouped-mlp=true", "--vary:dtype=bf16");
    derive_ok();
    cr_assert_eq(scn.moe_fused_grouped_mlp, 0);
    derived_are("fp8-recipe moe-fused-grouped-mlp");
    FOLLOWS("moe-fused-grouped-mlp", "dtype=fp8", "fp8-recipe=mxfp8", "moe-fused-grouped-mlp=true",
            "--vary:fp8-recipe=current");
    G("dtype=fp8", "fp8-recipe=mxfp8", "moe-fused-grouped-mlp=true", "--vary:dtype=nvfp4");
    derive_ok();
    cr_assert_eq(scn.moe_fused_grouped_mlp, 1, "NVFP4 is block-scaled too");
}

/* Recompute's own keys follow a granularity given later that they do not apply to, back to
 * their defaults and listed as derived: recompute-modules (selective's) under none or full,
 * recompute-method and recompute-num-layers (full's) under selective; those that still apply,
 * or were given with the granularity, stay for the rules to judge. */
Test(recompute_keys, follow_a_granularity_given_later)
{
    G("recompute=selective", "recompute-modules=moe_act,layernorm", "--vary:recompute=full");
    derive_ok();
    cr_assert_not(scn_given(&scn, SCN_RECOMPUTE_MODULES));
    derived_are("recompute-modules");
    G("recompute=full", "recompute-method=block", "recompute-num-layers=4",
      "--vary:recompute=selective");
    derive_ok();
    cr_assert_not(scn_given(&scn, SCN_RECOMPUTE_METHOD));
    cr_assert_not(scn_given(&scn, SCN_RECOMPUTE_NUM_LAYERS));
    derived_are("recompute-method recompute-num-layers");
    FOLLOWS("", "recompute=selective", "recompute-modules=moe_act", "--vary:recompute=selective");
    cr_assert(scn_given(&scn, SCN_RECOMPUTE_MODULES), "it still applies");
    FOLLOWS("", "recompute=full", "recompute-modules=moe_act");
    cr_assert(scn_given(&scn, SCN_RECOMPUTE_MODULES), "given with it: the rules judge it");
}

/* Keys of one mode follow the mode given later: a cuda-graph-scope under cuda-graphs other than
 * modules, overlap-ep-comm under a schedule without overlapped steady-state pairs; under their
 * own mode, or given with it, they stay. */
Test(mode_keys, follow_the_mode_given_later)
{
    G("cuda-graphs=modules", "cuda-graph-scope=attn,moe_router", "--vary:cuda-graphs=none");
    derive_ok();
    cr_assert_not(scn_given(&scn, SCN_CUDA_GRAPH_SCOPE));
    derived_are("cuda-graph-scope");
    FOLLOWS("", "cuda-graphs=modules", "cuda-graph-scope=attn", "--vary:cuda-graphs=modules");
    G("pp=4", "overlap-ep-comm=true", "--vary:schedule=zb-h1");
    derive_ok();
    cr_assert_eq(scn.overlap_ep_comm, 0);
    cr_assert(scn.origin[SCN_OVERLAP_EP_COMM].derived);
    G("pp=4", "overlap-ep-comm=true", "--vary:schedule=interleaved");
    derive_ok();
    cr_assert_eq(scn.overlap_ep_comm, 1, "interleaved pairs its steady state");
    FOLLOWS("", "cuda-graphs=none", "cuda-graph-scope=attn");
    cr_assert(scn_given(&scn, SCN_CUDA_GRAPH_SCOPE), "given together: the rules judge it");
}

/* A pipeline-layout follows a pipeline given later that it no longer describes (another stage
 * count, a schedule numbering stages otherwise) and stays where it still fits. */
Test(pipeline_layout, follows_a_pipeline_it_no_longer_describes)
{
    G("layers=32", "pp=2", "pipeline-layout=Et*16|t*16L", "--vary:pp=4");
    derive_ok();
    cr_assert_str_eq(scn.pipeline_layout, "");
    derived_are("pipeline-layout");
    G("layers=32", "pp=2", "pipeline-layout=Et*16|t*16L", "--vary:pp=2");
    derive_ok();
    cr_assert_neq(scn.pipeline_layout[0], '\0', "it still fits");
    derived_are("");
    G("layers=32", "pp=2", "pipeline-layout=Et*16|t*16L", "--vary:schedule=gpipe");
    derive_ok();
    cr_assert_str_eq(scn.pipeline_layout, "");
    G("layers=32", "pp=4", "pipeline-layout=Et*16|t*16L");
    derive_ok();
    cr_assert_neq(scn.pipeline_layout[0], '\0', "given together: the rules judge it");
}

/* Between Megatron-Core's schedules the schedule follows a vp given later -- 1f1b becomes
 * interleaved with vp above 1, interleaved becomes 1f1b with vp 1 -- where the framework
 * offers both; given together, or under DeepSpeed (1F1B only), it stays for the rules. */
Test(schedule_keys, the_schedule_follows_a_vp_given_later)
{
    G("schedule=1f1b", "pp=4", "--vary:vp=2");
    derive_ok();
    cr_assert_str_eq(scn.schedule, "interleaved");
    cr_assert_eq(scn_schedule(&scn), &sched_interleaved);
    derived_are("schedule");
    G("schedule=interleaved", "pp=4", "vp=2", "--vary:vp=1");
    derive_ok();
    cr_assert_str_eq(scn.schedule, "1f1b");
    derived_are("schedule");
    G("schedule=1f1b", "pp=4", "vp=2");
    derive_ok();
    cr_assert_str_eq(scn.schedule, "1f1b", "given together: the rules judge it");
    G("framework=deepspeed", "schedule=1f1b", "pp=4", "--vary:vp=2");
    derive_ok();
    cr_assert_str_eq(scn.schedule, "1f1b", "DeepSpeed has no interleaved schedule");
    derived_are("");
}

/* In a modelled scenario an interleaved schedule given later takes the least vp whose stages
 * split the layers with the ends set apart where needed: 118 layers on pp 2 take vp 2 (29, 30 x
 * 2, 29), not vp 59; with explicit costs, the least vp that splits them evenly. */
Test(schedule_keys, interleaved_vp_counts_the_ends_set_apart_in_a_modelled_scenario)
{
    G("layers=118", "pp=2", "microbatches=8", "--set:schedule=interleaved");
    derived_ends_are(1, 29, 29, "vp global-batch first-stage-layers last-stage-layers");
    cr_assert_eq(scn.vp, 2);
    G("layers=118", "pp=2", "microbatches=8", "--set:schedule=interleaved");
    derive_ok();
    cr_assert_eq(scn.vp, 59);
}
