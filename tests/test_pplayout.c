/* test_pplayout: the layouts stepsim writes itself (pplayout_balanced, pplayout_grouped), by
 * hand: each stage's layers, each rank's total (rank r holds stages r, r + pp, ...), the ends
 * among the lightest, whole DSA top-k groups. */
#include <criterion/criterion.h>
#include <string.h>

#include "model.h"
#include "pplayout.h"

/* Each rank's layers into tot[pp]; every stage's count into per[] when given. */
static void rank_totals(const char *lay, int pp, int *tot, int *per)
{
    memset(tot, 0, sizeof *tot * (size_t)pp);
    for (int s = 0; s < pplayout_stages(lay); s++) {
        int first, n;
        pplayout_stage_layers(lay, s, &first, &n);
        tot[s % pp] += n;
        if (per)
            per[s] = n;
    }
}

/* pplayout_balanced(layers, pp, vp): stages `from` to `to` hold per + 1 layers, the others per,
 * and every rank `rank` in all; out gets the layout. */
static void balanced_is(int layers, int pp, int vp, int from, int to, int per, int rank, char *out,
                        size_t cap)
{
    int tot[16], n[64];
    cr_assert_eq(pplayout_balanced(layers, pp, vp, 0, out, cap), 0);
    cr_assert_eq(pplayout_stages(out), pp * vp);
    rank_totals(out, pp, tot, n);
    for (int s = 0; s < pp * vp; s++)
        cr_assert_eq(n[s], per + (s >= from && s <= to), "stage %d: %s", s, out);
    for (int r = 0; r < pp; r++)
        cr_assert_eq(tot[r], rank, "rank %d: %s", r, out);
}

/* 80 layers on pp 16 x vp 2: 32 stages of 2 or 3 -- 80 - 64 = 16 of 3, the run of stages 15 to
 * 30 just before the last -- so rank 15 holds 3 + 2 (stages 15, 31), ranks 0-14 2 + 3 (stages
 * r, 16 + r): 5 each; the embedding's stage 0 and the loss's 31 hold 2. */
Test(pplayout, balanced_80_layers_on_pp16_vp2)
{
    char out[512], want[512], why[128];
    balanced_is(80, 16, 2, 15, 30, 2, 5, out, sizeof out);
    cr_assert_eq(pplayout_unroll("Et*2|(t*2|)*14(t*3|)*16t*2L", want, sizeof want, why, sizeof why),
                 0, "%s", why);
    cr_assert_str_eq(out, want);
}

/* 80 layers on pp 8 x vp 6: 48 stages of 1 or 2 -- 32 of 2, stages 15 to 46 -- so each rank
 * holds 4 stages of 2 and 2 of 1: 10 (rank 0: stages 0, 8 of 1; rank 7: 15 of 2 and 47 of 1
 * with 23, 31, 39 of 2 and 7 of 1). */
Test(pplayout, balanced_80_layers_on_pp8_vp6)
{
    char out[512];
    balanced_is(80, 8, 6, 15, 46, 1, 10, out, sizeof out);
}

/* A run shorter than pp falls on the ranks before the last (62 layers on pp 4 x vp 3: 12
 * stages of 5, the 2 extra on stages 9 and 10, ranks 1 and 2), the MTP modules with the loss. */
Test(pplayout, balanced_odd_layers_on_the_ranks_before_the_last_mtp_with_the_loss)
{
    char out[256];
    int tot[4];
    cr_assert_eq(pplayout_balanced(62, 4, 3, 1, out, sizeof out), 0);
    rank_totals(out, 4, tot, NULL);
    cr_assert_eq(tot[0], 15);
    cr_assert_eq(tot[1], 16);
    cr_assert_eq(tot[2], 16);
    cr_assert_eq(tot[3], 15);
    cr_assert_eq(pplayout_count(out, 11, 'm'), 1, "%s", out);
    cr_assert_eq(out[strlen(out) - 1], 'L');
    cr_assert_eq(pplayout_balanced(62, 4, 3, 1, out, 20), -1, "too long for 20 bytes");
}

static int glm52_starts(int layer, const void *arg)
{
    (void)arg;
    return model_dsa_rule_computes(layer, 4, 3);
}

/* GLM-5.2's 78 layers -- groups of one at layers 0 and 1, then 19 of four -- on pp 4 x vp 2:
 * 19 groups over 8 stages are 2 each and 3 on stages 5-7, the two single layers on stage 0
 * (10, 8, 8, 8, 8, 12, 12, 12): ranks 18, 20, 20, 20.  The old nearest-share cut gave ranks
 * 16 to 24 (stages 10, 8, 12, 8, 12, 8, 12, 8). */
Test(pplayout, grouped_glm52_on_pp4_vp2_balances_the_ranks)
{
    char out[512];
    int tot[4], per[8];
    static const int want[8] = {10, 8, 8, 8, 8, 12, 12, 12};
    cr_assert_eq(pplayout_grouped(78, 4, 2, 1, glm52_starts, NULL, out, sizeof out), 0);
    rank_totals(out, 4, tot, per);
    for (int s = 0; s < 8; s++)
        cr_assert_eq(per[s], want[s], "stage %d: %s", s, out);
    cr_assert_eq(tot[0], 18);
    for (int r = 1; r < 4; r++)
        cr_assert_eq(tot[r], 20, "rank %d", r);
}

/* Whole groups on every pp x vp up to 64 stages: each chunk starts on a computing layer and
 * the ranks differ by one group of four at most. */
Test(pplayout, grouped_glm52_keeps_groups_whole_and_ranks_within_a_group)
{
    char out[1024];
    for (int pp = 2; pp <= 16; pp++)
        for (int vp = 1; vp <= 4 && pp * vp <= 64; vp++) {
            int tot[16], lo = 1 << 30, hi = 0;
            cr_assert_eq(pplayout_grouped(78, pp, vp, 1, glm52_starts, NULL, out, sizeof out), 0);
            cr_assert_eq(pplayout_count(out, -1, 't'), 78);
            for (int s = 0; s < pp * vp; s++) {
                int first, n;
                pplayout_stage_layers(out, s, &first, &n);
                cr_assert(n == 0 || glm52_starts(first, NULL), "pp %d vp %d stage %d", pp, vp, s);
            }
            rank_totals(out, pp, tot, NULL);
            for (int r = 0; r < pp; r++) {
                lo = tot[r] < lo ? tot[r] : lo;
                hi = tot[r] > hi ? tot[r] : hi;
            }
            cr_assert(hi - lo <= 4, "pp %d vp %d: ranks %d to %d: %s", pp, vp, lo, hi, out);
        }
}
