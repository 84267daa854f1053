/* test_layout: a scenario resolved into its layout -- each virtual stage's part, layers,
 * embedding, head and MTP modules -- against values worked out by hand, and against
 * scn_stage_layers, which the checks before the layout still ask. */
#include <criterion/criterion.h>
#include <stddef.h>

#include "layout.h"

/* Defaults, then each "KEY=VALUE" of `sets`, resolved into *lay (the caller releases it) whose
 * stages must be want[s] = {part, first layer, layers, mtp, embedding, head} and agree with
 * scn_stage_layers, which the checks before the layout still ask: one definition of the split.
 * `check`: scn_check must pass first (a string placing MTP modules is refused without a model
 * file, so that test resolves the unchecked scenario). */
static void assert_layout(const char *const *sets, int check, int mtp_modules, const int (*want)[6],
                          int n, struct layout *lay)
{
    struct scenario scn;
    struct sim_error err;
    err_clear(&err);
    scn_defaults(&scn);
    for (; *sets; sets++)
        cr_assert_eq(scn_set_arg(&scn, *sets, &err), SIM_OK, "%s: %s", *sets, err.msg);
    if (check)
        cr_assert_eq(scn_check(&scn, &err), SIM_OK, "rejected: %s", err.msg);
    cr_assert_eq(layout_init(lay, &scn, mtp_modules, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(lay->stages, n);
    for (int s = 0; s < n; s++) {
        const struct layout_stage *st = &lay->stage[s];
        int got[6] = {st->part, st->first_layer,   st->layers,
                      st->mtp,  st->has_embedding, st->has_head};
        for (int i = 0; i < 6; i++)
            cr_assert_eq(got[i], want[s][i],
                         "stage %d: part %d, layers %d from %d, mtp %d, embedding %d, head %d", s,
                         got[0], got[2], got[1], got[3], got[4], got[5]);
        int first, count;
        scn_stage_layers(&scn, s, &first, &count);
        cr_assert(first == st->first_layer && count == st->layers,
                  "stage %d: the scenario says %d layers from %d", s, count, first);
    }
}

/* 16 layers over pp 4 x vp 2 interleaved: two a stage, in stage order; one MTP module given
 * by the model goes with the head, on the last stage. */
Test(layout, uniform_split)
{
    static const int want[8][6] = {{0, 0, 2, 0, 1, 0},  {1, 2, 2, 0, 0, 0}, {2, 4, 2, 0, 0, 0},
                                   {3, 6, 2, 0, 0, 0},  {4, 8, 2, 0, 0, 0}, {5, 10, 2, 0, 0, 0},
                                   {6, 12, 2, 0, 0, 0}, {7, 14, 2, 1, 0, 1}};
    struct layout lay;
    assert_layout((const char *const[]){"schedule=interleaved", "pp=4", "vp=2", "layers=16",
                                        "microbatches=8", NULL},
                  1, 1, want, 8, &lay);
    cr_assert_eq(lay.type, &sched_interleaved);
    cr_assert(lay.pp == 4 && lay.vp == 2 && lay.parts == 8 && layout_part_copies(&lay) == 1);
    layout_release(&lay);
    cr_assert_null(lay.stage);
    layout_release(&lay); /* a released layout may be released again */
}

/* 10 layers over 4 stages, the first holding 1 and the last 3: the middle two split the other
 * 6, 3 each (layers 1-3 and 4-6), the last 7-9. */
Test(layout, first_and_last_stage_layers_apart)
{
    static const int want[4][6] = {
        {0, 0, 1, 0, 1, 0}, {1, 1, 3, 0, 0, 0}, {2, 4, 3, 0, 0, 0}, {3, 7, 3, 0, 0, 1}};
    struct layout lay;
    assert_layout((const char *const[]){"pp=4", "layers=10", "first-stage-layers=1",
                                        "last-stage-layers=3", NULL},
                  1, 0, want, 4, &lay);
    cr_assert_eq(lay.type, &sched_1f1b);
    layout_release(&lay);
}

/* "Et|ttt||tmmL" on pp 2 x vp 2: the embedding and layer 0, layers 1-3, an empty stage that
 * starts where the next does (layer 4), then layer 4 with two MTP modules and the loss.  The
 * string's MTP modules count, not the 5 passed for the model's; checked without them, the
 * split is what scn_check accepted. */
Test(layout, pipeline_layout_with_an_empty_stage_and_mtp)
{
    static const int want[4][6] = {
        {0, 0, 1, 0, 1, 0}, {1, 1, 3, 0, 0, 0}, {2, 4, 0, 0, 0, 0}, {3, 4, 1, 2, 0, 1}};
    struct layout lay;
    assert_layout((const char *const[]){"schedule=interleaved", "pp=2", "vp=2", "layers=5",
                                        "pipeline-layout=Et|ttt||tmmL", NULL},
                  0, 5, want, 4, &lay);
    layout_release(&lay);
    static const int checked[4][6] = {
        {0, 0, 1, 0, 1, 0}, {1, 1, 3, 0, 0, 0}, {2, 4, 0, 0, 0, 0}, {3, 4, 1, 0, 0, 1}};
    assert_layout((const char *const[]){"schedule=interleaved", "pp=2", "vp=2", "layers=5",
                                        "microbatches=4", "pipeline-layout=Et|ttt||tL", NULL},
                  1, 0, checked, 4, &lay);
    layout_release(&lay);
}

/* Before scn_check (cm_rules.c's DSA split check), a string of fewer stages than pp*vp: the
 * stages past its end hold nothing, starting after its last layer. */
Test(layout, short_string_before_the_check)
{
    static const int want[4][6] = {
        {0, 0, 1, 0, 1, 0}, {1, 1, 2, 0, 0, 0}, {2, 3, 0, 0, 0, 0}, {3, 3, 0, 0, 0, 1}};
    struct layout lay;
    assert_layout((const char *const[]){"pp=4", "layers=3", "pipeline-layout=Et|ttL", NULL}, 0, 0,
                  want, 4, &lay);
    layout_release(&lay);
}

/* DualPipe on pp 4: 8 layers in 4 parts of 2, held twice -- stages 0-3 down the ranks and 4-7
 * back up, stage 4 + s holding part s -- so the embedding is on stages 0 and 4, the head and
 * its MTP module on 3 and 7. */
Test(layout, dualpipe_holds_each_part_on_two_stages)
{
    static const int want[8][6] = {{0, 0, 2, 0, 1, 0}, {1, 2, 2, 0, 0, 0}, {2, 4, 2, 0, 0, 0},
                                   {3, 6, 2, 1, 0, 1}, {0, 0, 2, 0, 1, 0}, {1, 2, 2, 0, 0, 0},
                                   {2, 4, 2, 0, 0, 0}, {3, 6, 2, 1, 0, 1}};
    struct layout lay;
    assert_layout((const char *const[]){"schedule=dualpipe", "pp=4", "vp=2", "layers=8",
                                        "microbatches=8", NULL},
                  1, 1, want, 8, &lay);
    cr_assert_eq(lay.type, &sched_dualpipe);
    cr_assert(lay.parts == 4 && layout_part_copies(&lay) == 2);
    layout_release(&lay);
}
