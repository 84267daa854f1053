/* test_schedule: per-rank op orders equal Megatron-LM's, for many (p, v, m, g).
 *
 * Orders are written as "F0 F1 B0 ..." (micro-batch numbers) or "F0.1" (micro-batch 0, chunk 1)
 * when vp > 1.  The hand-written expectations follow Megatron-LM's loops in
 * megatron/core/pipeline_parallel/schedules.py: warm-up forwards, then (forward k+warmup,
 * backward k) pairs, then the remaining backwards, with the interleaved schedule table. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "schedule.h"

static void order_string(const char *sched, int p, int v, int m, int g, int split, int rank,
                         char *buf, size_t len)
{
    struct sched_params sp = {p, v, m, g, split, 0};
    const struct sched_type *t = sched_find(sched);
    cr_assert_not_null(t);
    struct sim_error err;
    struct sched_blame blame;
    cr_assert_eq(t->check(&sp, &blame, &err), SIM_OK, "%s", err.msg);
    size_t n = sched_ops_per_rank(t, &sp);
    struct sched_op ops[4096];
    cr_assert_leq(n, 4096u);
    sched_build(t, &sp, rank, ops);
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (ops[i].kind == OP_OPT) {
            cr_assert_eq(i, n - 1, "the optimizer op comes last");
            break;
        }
        if (v > 1) /* "*" marks the two ops of an overlapped pair */
            used += (size_t)snprintf(buf + used, len - used, "%s%s%d.%d%s", used ? " " : "",
                                     op_kind_name(ops[i].kind), ops[i].mb, ops[i].chunk,
                                     ops[i].overlap != SCHED_ALONE ? "*" : "");
        else
            used += (size_t)snprintf(buf + used, len - used, "%s%s%d", used ? " " : "",
                                     op_kind_name(ops[i].kind), ops[i].mb);
    }
}

#define ORDER(sched, p, v, m, g, rank)                                                             \
    ({                                                                                             \
        static char b_[16384];                                                                     \
        order_string(sched, p, v, m, g, 0, rank, b_, sizeof b_);                                   \
        b_;                                                                                        \
    })

/* The same, with the backward split into B and W (zero-bubble schedules always split it). */
#define ORDER_SPLIT(sched, p, m, rank)                                                             \
    ({                                                                                             \
        static char b_[16384];                                                                     \
        order_string(sched, p, 1, m, 0, 1, rank, b_, sizeof b_);                                   \
        b_;                                                                                        \
    })
#define ORDER_V(p, m, rank)                                                                        \
    ({                                                                                             \
        static char b_[16384];                                                                     \
        order_string("zb-v", p, 2, m, 0, 1, rank, b_, sizeof b_);                                  \
        b_;                                                                                        \
    })
#define ORDER_DUAL(p, m, rank)                                                                     \
    ({                                                                                             \
        static char b_[16384];                                                                     \
        order_string("dualpipe", p, 2, m, 0, 1, rank, b_, sizeof b_);                              \
        b_;                                                                                        \
    })

Test(sched_1f1b, paper_example_p4_m8)
{
    cr_assert_str_eq(ORDER("1f1b", 4, 1, 8, 0, 0),
                     "F0 F1 F2 F3 B0 F4 B1 F5 B2 F6 B3 F7 B4 B5 B6 B7");
    cr_assert_str_eq(ORDER("1f1b", 4, 1, 8, 0, 1),
                     "F0 F1 F2 B0 F3 B1 F4 B2 F5 B3 F6 B4 F7 B5 B6 B7");
    cr_assert_str_eq(ORDER("1f1b", 4, 1, 8, 0, 3),
                     "F0 B0 F1 B1 F2 B2 F3 B3 F4 B4 F5 B5 F6 B6 F7 B7");
}

Test(sched_1f1b, fewer_microbatches_than_stages)
{
    /* warm-up min(p-r-1, m): rank 0 of 4 with m=2 runs both forwards first. */
    cr_assert_str_eq(ORDER("1f1b", 4, 1, 2, 0, 0), "F0 F1 B0 B1");
    cr_assert_str_eq(ORDER("1f1b", 4, 1, 2, 0, 2), "F0 F1 B0 B1"); /* warm-up 1 */
    cr_assert_str_eq(ORDER("1f1b", 4, 1, 2, 0, 3), "F0 B0 F1 B1");
    cr_assert_str_eq(ORDER("1f1b", 4, 1, 1, 0, 0), "F0 B0");
}

Test(sched_1f1b, m_not_a_multiple_of_p)
{
    cr_assert_str_eq(ORDER("1f1b", 3, 1, 5, 0, 0), "F0 F1 F2 B0 F3 B1 F4 B2 B3 B4");
    cr_assert_str_eq(ORDER("1f1b", 3, 1, 5, 0, 1), "F0 F1 B0 F2 B1 F3 B2 F4 B3 B4");
}

/* DeepSpeed's pipeline engine (GPT-NeoX, BLOOM, MT-NLG) runs the same order: its TrainSchedule,
 * run as is and recorded in tests/golden/deepspeed_train_orders.txt, alternates forward and
 * backward steps so that each stage runs p - r - 1 forwards ahead, like Megatron's 1F1B.  (Its
 * sends go out one step later; that shifts transfers, not the order.) */
Test(sched_1f1b, equals_deepspeeds_recorded_train_schedule)
{
    FILE *f = fopen(TOP_SRCDIR "/tests/golden/deepspeed_train_orders.txt", "r");
    cr_assert_not_null(f);
    char line[4096];
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        int p, m, rank, used;
        cr_assert_eq(sscanf(line, "%d %d %d %n", &p, &m, &rank, &used), 3, "bad row: %s", line);
        line[strcspn(line, "\n")] = '\0';
        cr_assert_str_eq(ORDER("1f1b", p, 1, m, 0, rank), line + used, "p=%d m=%d rank %d", p, m,
                         rank);
        rows++;
    }
    fclose(f);
    cr_assert_eq(rows, 24, "every recorded stage was compared");
}

Test(sched_gpipe, all_forwards_then_all_backwards)
{
    cr_assert_str_eq(ORDER("gpipe", 3, 1, 4, 0, 0), "F0 F1 F2 F3 B0 B1 B2 B3");
    cr_assert_str_eq(ORDER("gpipe", 3, 1, 4, 0, 2), "F0 F1 F2 F3 B0 B1 B2 B3");
}

Test(sched_interleaved, p2_v2_m4)
{
    /* Table (g=2): (0,c0) (1,c0) (0,c1) (1,c1) | (2,c0) (3,c0) (2,c1) (3,c1).
     * Rank 0 warm-up 2*(2-0-1) + (2-1)*2 = 4; rank 1 warm-up 2. */
    cr_assert_str_eq(ORDER("interleaved", 2, 2, 4, 0, 0),
                     "F0.0 F1.0 F0.1 F1.1 F2.0 B0.1 F3.0 B1.1 F2.1 B0.0 F3.1 B1.0 "
                     "B2.1 B3.1 B2.0 B3.0");
    cr_assert_str_eq(ORDER("interleaved", 2, 2, 4, 0, 1),
                     "F0.0 F1.0 F0.1 B0.1 F1.1 B1.1 F2.0 B0.0 F3.0 B1.0 F2.1 B2.1 F3.1 B3.1 "
                     "B2.0 B3.0");
}

Test(sched_interleaved, m_equals_p_runs_all_forwards_first)
{
    /* p=4 v=2 m=4: warm-up on rank 0 is 2*3 + 4 = 10 >= m*v = 8, so all forwards run first. */
    cr_assert_str_eq(ORDER("interleaved", 4, 2, 4, 0, 0),
                     "F0.0 F1.0 F2.0 F3.0 F0.1 F1.1 F2.1 F3.1 "
                     "B0.1 B1.1 B2.1 B3.1 B0.0 B1.0 B2.0 B3.0");
    /* Rank 3: warm-up 4. */
    cr_assert_str_eq(ORDER("interleaved", 4, 2, 4, 0, 3),
                     "F0.0 F1.0 F2.0 F3.0 F0.1 B0.1 F1.1 B1.1 F2.1 B2.1 F3.1 B3.1 "
                     "B0.0 B1.0 B2.0 B3.0");
}

Test(sched_interleaved, group_larger_than_p)
{
    /* p=2 v=2 m=6 g=3: table (0,0)(1,0)(2,0)(0,1)(1,1)(2,1) | (3,0)(4,0)(5,0)(3,1)(4,1)(5,1);
     * rank 0 warm-up 2 + 3 = 5. */
    cr_assert_str_eq(ORDER("interleaved", 2, 2, 6, 3, 0),
                     "F0.0 F1.0 F2.0 F0.1 F1.1 F2.1 B0.1 F3.0 B1.1 F4.0 B2.1 F5.0 B0.0 F3.1 B1.0 "
                     "F4.1 B2.0 F5.1 B3.1 B4.1 B5.1 B3.0 B4.0 B5.0");
}

Test(sched_interleaved, last_group_takes_the_remainder)
{
    /* p=2 v=2 m=8 g=3: groups {0,1,2} {3,4,5} {6,7}; 8 % 3 = 2 >= p is allowed. */
    cr_assert_str_eq(ORDER("interleaved", 2, 2, 8, 3, 1),
                     "F0.0 F1.0 F2.0 F0.1 B0.1 F1.1 B1.1 F2.1 B2.1 F3.0 B0.0 F4.0 B1.0 F5.0 "
                     "B2.0 F3.1 B3.1 F4.1 B4.1 F5.1 B5.1 F6.0 B3.0 F7.0 B4.0 F6.1 B5.0 F7.1 "
                     "B6.1 B7.1 B6.0 B7.0");
}

Test(sched_interleaved, paper_figure_p4_v2_m8_rank0_prefix)
{
    /* SC'21 Fig. 4: rank 0 runs micro-batches 1-4 on chunk 0, then 1-4 on chunk 1, then 5-6
     * on chunk 0 before its first backward (warm-up 10). */
    char *s = ORDER("interleaved", 4, 2, 8, 0, 0);
    const char *prefix = "F0.0 F1.0 F2.0 F3.0 F0.1 F1.1 F2.1 F3.1 F4.0 F5.0 F6.0 B0.1 ";
    cr_assert(strncmp(s, prefix, strlen(prefix)) == 0, "got %s", s);
}

/* Property checks over many (p, v, m, g): every (mb, chunk) F and B once; forwards on each
 * chunk take micro-batches in increasing order; backwards too; each B after its F. */
static void check_properties(const char *name, int p, int v, int m, int g)
{
    struct sched_params sp = {p, v, m, g, 0, 0};
    const struct sched_type *t = sched_find(name);
    struct sim_error err;
    struct sched_blame blame;
    if (t->check(&sp, &blame, &err) != SIM_OK)
        return;
    size_t n = sched_ops_per_rank(t, &sp);
    struct sched_op *ops = calloc(n, sizeof *ops);
    int *fseen = calloc((size_t)(m * v), sizeof(int)),
        *bseen = calloc((size_t)(m * v), sizeof(int));
    for (int r = 0; r < p; r++) {
        memset(fseen, 0, sizeof(int) * (size_t)(m * v));
        memset(bseen, 0, sizeof(int) * (size_t)(m * v));
        int next_f[64] = {0}, next_b[64] = {0};
        sched_build(t, &sp, r, ops);
        int warm = 0;
        while (ops[warm].kind == OP_F)
            warm++;
        int expect = name[0] == 'i' ? 2 * (p - r - 1) + (v - 1) * (g ? g : p)
                                    : (name[0] == 'g' ? m : p - r - 1);
        if (expect > m * v)
            expect = m * v;
        /* The op after warm-up is a forward in steady state; count warm-up up to the first B
         * minus the steady-state forward that precedes it. */
        int warm_expected = expect < m * v ? expect + 1 : m * v;
        cr_assert_eq(warm, warm_expected, "%s p=%d v=%d m=%d g=%d rank %d: warm-up", name, p, v, m,
                     g, r);
        for (size_t i = 0; i + 1 < n; i++) {
            int idx = ops[i].mb * v + ops[i].chunk;
            if (ops[i].kind == OP_F) {
                cr_assert_eq(fseen[idx]++, 0);
                cr_assert_eq(ops[i].mb, next_f[ops[i].chunk]++, "forwards in mb order per chunk");
            } else {
                cr_assert_eq(fseen[idx], 1, "B after its F");
                cr_assert_eq(bseen[idx]++, 0);
                cr_assert_eq(ops[i].mb, next_b[ops[i].chunk]++, "backwards in mb order per chunk");
            }
        }
        for (int i = 0; i < m * v; i++)
            cr_assert(fseen[i] == 1 && bseen[i] == 1);
    }
    free(ops);
    free(fseen);
    free(bseen);
}

Test(sched_properties, many_shapes)
{
    for (int p = 1; p <= 8; p++)
        for (int m = 1; m <= 24; m++) {
            check_properties("1f1b", p, 1, m, 0);
            check_properties("gpipe", p, 1, m, 0);
            for (int v = 2; v <= 4; v++)
                for (int g = p; g <= m; g++)
                    check_properties("interleaved", p, v, m, g);
        }
}

Test(sched_rules, interleaved_rejections_match_megatron)
{
    struct sim_error err;
    struct sched_blame blame;
    struct sched_params g_lt_p = {4, 2, 8, 2, 0, 0}, g_gt_m = {4, 2, 8, 9, 0, 0},
                        bad_rem = {4, 2, 10, 4, 0, 0}, ok_rem = {4, 2, 12, 8, 0, 0},
                        ok = {4, 2, 8, 0, 0, 0}, vp1 = {4, 1, 8, 0, 0, 0};
    cr_assert_eq(sched_interleaved.check(&g_lt_p, &blame, &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "vp-group=2") && strstr(err.msg, "pp=4"), "%s", err.msg);
    cr_assert_eq(blame.first, SP_VP_GROUP);
    cr_assert_eq(blame.also, SP_BIT(SP_PP), "vp-group against pp: pp is read too");
    cr_assert_eq(sched_interleaved.check(&g_gt_m, &blame, &err), SIM_EINPUT);
    cr_assert_eq(blame.first, SP_VP_GROUP);
    cr_assert_eq(blame.also, SP_BIT(SP_MICROBATCHES));
    cr_assert(strstr(err.msg, "microbatches=8"), "%s", err.msg);
    cr_assert_eq(sched_interleaved.check(&bad_rem, &blame, &err), SIM_EINPUT, "10 %% 4 = 2 < 4");
    cr_assert(strstr(err.msg, "last group of 2"), "%s", err.msg);
    cr_assert_eq(blame.first, SP_MICROBATCHES);
    cr_assert_eq(blame.also, SP_BIT(SP_VP_GROUP) | SP_BIT(SP_PP));
    struct sched_params few = {4, 2, 3, 0, 0, 0};
    cr_assert_eq(sched_interleaved.check(&few, &blame, &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "fewer than pp=4"), "%s", err.msg);
    cr_assert_eq(blame.first, SP_MICROBATCHES, "default vp-group: blame the micro-batch count");
    cr_assert_eq(blame.also, SP_BIT(SP_PP));
    cr_assert_eq(sched_interleaved.check(&ok_rem, &blame, &err), SIM_OK, "12 %% 8 = 4 >= 4");
    cr_assert_eq(sched_interleaved.check(&ok, &blame, &err), SIM_OK);
    cr_assert_eq(sched_interleaved.check(&vp1, &blame, &err), SIM_EINPUT);
    struct sched_params vp2 = {4, 2, 8, 0, 0, 0};
    cr_assert_eq(sched_1f1b.check(&vp2, &blame, &err), SIM_EINPUT);
    cr_assert_eq(sched_gpipe.check(&vp2, &blame, &err), SIM_EINPUT);
    struct sched_params any_m = {8, 1, 3, 0, 0, 0};
    cr_assert_eq(sched_1f1b.check(&any_m, &blame, &err), SIM_OK, "1f1b accepts any m >= 1");
    cr_assert_eq(sched_gpipe.check(&any_m, &blame, &err), SIM_OK);
}

Test(sched_split, w_follows_each_b_and_optimizer_is_last)
{
    struct sched_params sp = {2, 1, 2, 0, 1, 0};
    struct sched_op ops[16];
    size_t n = sched_ops_per_rank(&sched_1f1b, &sp);
    cr_assert_eq(n, 7u);
    sched_build(&sched_1f1b, &sp, 0, ops);
    const char *expect[] = {"F", "F", "B", "W", "B", "W", "OPT"};
    int mbs[] = {0, 1, 0, 0, 1, 1, -1};
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(op_kind_name(ops[i].kind), expect[i]);
        cr_assert_eq(ops[i].mb, mbs[i]);
    }
}

Test(sched_registry, lookup)
{
    cr_assert_eq(sched_find("1f1b"), &sched_1f1b);
    cr_assert_eq(sched_find("interleaved"), &sched_interleaved);
    cr_assert_eq(sched_find("gpipe"), &sched_gpipe);
    cr_assert_eq(sched_find("zb-h1"), &sched_zbh1);
    cr_assert_eq(sched_find("dualpipe"), &sched_dualpipe);
    cr_assert_null(sched_find("zb-h2"));
    cr_assert_null(sched_find(""));
    /* Every name the messages list can be looked up. */
    char names[256];
    snprintf(names, sizeof names, "%s", sched_names());
    int listed = 0;
    for (char *tok = strtok(names, ", "); tok; tok = strtok(NULL, ", "), listed++)
        cr_assert_not_null(sched_find(tok), "'%s' listed but unknown", tok);
    cr_assert_eq(listed, 7);
}

/* ZB-H1 (Qi et al. 2024, fig. 3; sail-sg/zero-bubble-pipeline-parallelism): F and B exactly as
 * 1F1B; rank r holds back the W's of its first r steady-state backwards to the end, and runs
 * every later W right behind a B, oldest first. */
Test(sched_zbh1, hand_derived_p4_m8)
{
    cr_assert_str_eq(ORDER_SPLIT("zb-h1", 4, 8, 0),
                     "F0 F1 F2 F3 B0 W0 F4 B1 W1 F5 B2 W2 F6 B3 W3 F7 B4 W4 B5 W5 B6 W6 B7 W7");
    cr_assert_str_eq(ORDER_SPLIT("zb-h1", 4, 8, 1),
                     "F0 F1 F2 B0 F3 B1 W0 F4 B2 W1 F5 B3 W2 F6 B4 W3 F7 B5 W4 B6 W5 B7 W6 W7");
    cr_assert_str_eq(ORDER_SPLIT("zb-h1", 4, 8, 2),
                     "F0 F1 B0 F2 B1 F3 B2 W0 F4 B3 W1 F5 B4 W2 F6 B5 W3 F7 B6 W4 B7 W5 W6 W7");
    cr_assert_str_eq(ORDER_SPLIT("zb-h1", 4, 8, 3),
                     "F0 B0 F1 B1 F2 B2 F3 B3 W0 F4 B4 W1 F5 B5 W2 F6 B6 W3 F7 B7 W4 W5 W6 W7");
}

Test(sched_zbh1, fewer_microbatches_than_stages)
{
    /* Rank 0 of 4 with m=2: both forwards are warm-up, nothing to hold back. */
    cr_assert_str_eq(ORDER_SPLIT("zb-h1", 4, 2, 0), "F0 F1 B0 W0 B1 W1");
    /* The last rank would hold back 3 but has only 2 steady-state backwards. */
    cr_assert_str_eq(ORDER_SPLIT("zb-h1", 4, 2, 3), "F0 B0 F1 B1 W0 W1");
    cr_assert_str_eq(ORDER_SPLIT("zb-h1", 4, 2, 2), "F0 F1 B0 B1 W0 W1");
    cr_assert_str_eq(ORDER_SPLIT("zb-h1", 1, 3, 0), "F0 B0 W0 F1 B1 W1 F2 B2 W2");
}

/* Over many (p, m): the F/B subsequence is 1F1B's order; each W once, after its B, in
 * micro-batch order; after its last B rank r runs the min(r, m - warm-up) held-back W's and
 * the one that follows that B; and the
 * activations held (F start to W end) never exceed p, 1F1B's peak. */
Test(sched_zbh1, properties_over_many_shapes)
{
    struct sched_op zb[3 * 40 + 1], ref[2 * 40 + 1];
    for (int p = 1; p <= 8; p++)
        for (int m = 1; m <= 40; m++) {
            struct sched_params split = {p, 1, m, 0, 1, 0}, plain = {p, 1, m, 0, 0, 0};
            cr_assert_eq(sched_ops_per_rank(&sched_zbh1, &split), (size_t)(3 * m + 1));
            for (int r = 0; r < p; r++) {
                sched_build(&sched_zbh1, &split, r, zb);
                sched_build(&sched_1f1b, &plain, r, ref);
                cr_assert_eq(zb[3 * m].kind, OP_OPT);
                int k = 0, nw = 0, held = 0, peak = 0, last_b = -1;
                char seen_b[40] = {0};
                for (int i = 0; i < 3 * m; i++) {
                    if (zb[i].kind == OP_W) {
                        cr_assert(seen_b[zb[i].mb], "p=%d m=%d r=%d: W%d before its B", p, m, r,
                                  zb[i].mb);
                        cr_assert_eq(zb[i].mb, nw++, "W's in micro-batch order");
                        held--;
                        continue;
                    }
                    cr_assert_eq(zb[i].kind, ref[k].kind, "p=%d m=%d r=%d: op %d", p, m, r, i);
                    cr_assert_eq(zb[i].mb, ref[k].mb);
                    k++;
                    if (zb[i].kind == OP_F && ++held > peak)
                        peak = held;
                    if (zb[i].kind == OP_B) {
                        seen_b[zb[i].mb] = 1;
                        last_b = i;
                    }
                }
                cr_assert_eq(nw, m);
                int warmup = p - r - 1 < m ? p - r - 1 : m;
                int held_back = r < m - warmup ? r : m - warmup;
                /* The held-back W's, plus the one run right behind the last B (none when every
                 * W was held back). */
                int expect_tail = held_back == m ? m : held_back + 1;
                cr_assert_eq(3 * m - 1 - last_b, expect_tail,
                             "p=%d m=%d r=%d: W's after the last B", p, m, r);
                cr_assert_leq(peak, p, "p=%d m=%d r=%d: at most p activations held", p, m, r);
            }
        }
}

Test(sched_zbh1, one_chunk_per_rank)
{
    struct sim_error err;
    struct sched_blame blame;
    struct sched_params vp2 = {4, 2, 8, 0, 1, 0}, ok = {4, 1, 3, 0, 1, 0};
    cr_assert_eq(sched_zbh1.check(&vp2, &blame, &err), SIM_EINPUT);
    cr_assert_eq(blame.first, SP_VP);
    cr_assert(strstr(err.msg, "vp=2"), "%s", err.msg);
    cr_assert_eq(sched_zbh1.check(&ok, &blame, &err), SIM_OK, "any m >= 1, like 1F1B");
}

/* Placement: Megatron's loop (chunk c on rank r is stage c*pp + r) and the V of ZB-V (rank r
 * holds stages r and 2pp-1-r); stage -> (rank, chunk) -> stage round-trips for both. */
Test(sched_placement, loop_and_v_round_trip)
{
    cr_assert_eq(sched_stage_of(&sched_interleaved, 4, 1, 1), 5);
    cr_assert_eq(sched_stage_of(&sched_zbv, 4, 1, 0), 1);
    cr_assert_eq(sched_stage_of(&sched_zbv, 4, 1, 1), 6);
    cr_assert_eq(sched_stage_of(&sched_zbv, 4, 0, 1), 7, "the last stage is on rank 0");
    cr_assert_eq(sched_stage_of(&sched_zbv, 4, 3, 1), 4, "the turn: stages 3 and 4 on rank 3");
    const struct sched_type *types[] = {&sched_interleaved, &sched_zbv};
    for (int t = 0; t < 2; t++)
        for (int p = 1; p <= 8; p++)
            for (int st = 0; st < 2 * p; st++) {
                int r = sched_rank_of(types[t], p, st), c = sched_chunk_of(types[t], p, st);
                cr_assert(r >= 0 && r < p && c >= 0 && c < 2);
                cr_assert_eq(sched_stage_of(types[t], p, r, c), st, "%s p=%d stage %d",
                             types[t]->name, p, st);
            }
}

/* ZB-V (Qi et al. 2024, sec. 6; PyTorch's ScheduleZBVZeroBubble order), worked by hand from
 * the phases in sched_zbv.c for p=2, m=4.  "F1.0" is micro-batch 1 on chunk 0; rank 0 holds
 * stages 0 and 3, rank 1 stages 1 and 2. */
Test(sched_zbv, hand_derived_p2_m4)
{
    cr_assert_str_eq(ORDER_V(2, 4, 0), "F0.0 F1.0 F2.0 F0.1 B0.1 W0.1 F1.1 B1.1 W1.1 F3.0 B0.0 "
                                       "W0.0 F2.1 B2.1 W2.1 B1.0 W1.0 F3.1 B3.1 W3.1 B2.0 W2.0 "
                                       "B3.0 W3.0");
    cr_assert_str_eq(ORDER_V(2, 4, 1), "F0.0 F0.1 F1.0 F1.1 B0.1 W0.1 F2.0 B0.0 W0.0 F2.1 B1.1 "
                                       "W1.1 F3.0 B1.0 W1.0 F3.1 B2.1 W2.1 B2.0 B3.1 B3.0 W2.0 "
                                       "W3.1 W3.0");
}

/* The split-backward order of a rank with two chunks: only F, B and W; chunk c's micro-batches
 * base[c], base[c]+1, ... each kind in that order, `per_chunk` of each; every B after its F and
 * every W after its B.  Returns the peak of activations held (F started, W not yet run). */
static int assert_two_chunk_fbw(const struct sched_op *ops, int n, const int base[2], int per_chunk,
                                const char *what)
{
    int next[3][2] = {{0}}, held = 0, peak = 0;
    for (int i = 0; i < n; i++) {
        int k = ops[i].kind, c = ops[i].chunk;
        cr_assert(k == OP_F || k == OP_B || k == OP_W, "%s op %d", what, i);
        cr_assert(c == 0 || c == 1, "%s op %d", what, i);
        int mb = ops[i].mb - base[c];
        cr_assert_eq(mb, next[k][c]++, "%s op %d: %s%d.%d out of order", what, i, op_kind_name(k),
                     ops[i].mb, c);
        if (k == OP_B)
            cr_assert_lt(mb, next[OP_F][c], "%s op %d: B before its F", what, i);
        if (k == OP_W)
            cr_assert_lt(mb, next[OP_B][c], "%s op %d: W before its B", what, i);
        held += k == OP_F ? 1 : k == OP_W ? -1 : 0;
        if (held > peak)
            peak = held;
    }
    for (int k = 0; k < 3; k++)
        cr_assert(next[k][0] == per_chunk && next[k][1] == per_chunk, "%s: %d per chunk", what,
                  per_chunk);
    return peak;
}

/* Over many (p, m), fewer micro-batches than the 2p-1 the order is laid out for included:
 * every (mb, chunk) has one F, one B and one W, in that order, each kind in micro-batch order
 * per chunk; at most 2p chunk activations (p whole stages, 1F1B's rank-0 peak) are held. */
Test(sched_zbv, properties_over_many_shapes)
{
    struct sched_op ops[6 * 40 + 1];
    for (int p = 1; p <= 8; p++)
        for (int m = 1; m <= 40; m++) {
            struct sched_params sp = {p, 2, m, 0, 1, 0};
            cr_assert_eq(sched_ops_per_rank(&sched_zbv, &sp), (size_t)(6 * m + 1));
            for (int r = 0; r < p; r++) {
                sched_build(&sched_zbv, &sp, r, ops);
                cr_assert_eq(ops[6 * m].kind, OP_OPT);
                char what[64];
                snprintf(what, sizeof what, "zb-v p=%d m=%d r=%d", p, m, r);
                int peak = assert_two_chunk_fbw(ops, 6 * m, (const int[2]){0, 0}, m, what);
                cr_assert_leq(peak, 2 * p, "p=%d m=%d r=%d holds %d", p, m, r, peak);
            }
        }
}

Test(sched_zbv, two_chunks_per_rank)
{
    struct sim_error err;
    struct sched_blame blame;
    struct sched_params vp1 = {4, 1, 8, 0, 1, 0}, vp3 = {4, 3, 8, 0, 1, 0}, ok = {4, 2, 1, 0, 1, 0};
    cr_assert_eq(sched_zbv.check(&vp1, &blame, &err), SIM_EINPUT);
    cr_assert_eq(blame.first, SP_VP);
    cr_assert(strstr(err.msg, "exactly two model chunks per rank"), "%s", err.msg);
    cr_assert_eq(sched_zbv.check(&vp3, &blame, &err), SIM_EINPUT);
    cr_assert_eq(sched_zbv.check(&ok, &blame, &err), SIM_OK, "any m >= 1");
}

/* DualPipe (DeepSeek-V3 report, sec. 3.2.1; deepseek-ai/DualPipe): over many (p, m), every
 * rank runs 3m ops -- chunk 0 the down-running micro-batches 0..m/2-1, chunk 1 the up-running
 * m/2..m-1 -- each (mb, chunk) one F, B and W in that order and each kind in micro-batch order;
 * overlapped pairs are an F right before a B of the other chunk; p+1 activations at most. */
Test(sched_dualpipe, properties_over_many_shapes)
{
    static struct sched_op ops[3 * 120 + 1];
    for (int p = 2; p <= 24; p += 2)
        for (int m = 2 * p; m <= 5 * p && m <= 120; m += 2) {
            struct sched_params sp = {p, 2, m, 0, 1, 0};
            struct sim_error err;
            struct sched_blame blame;
            cr_assert_eq(sched_dualpipe.check(&sp, &blame, &err), SIM_OK, "%s", err.msg);
            cr_assert_eq(sched_ops_per_rank(&sched_dualpipe, &sp), (size_t)(3 * m + 1));
            for (int r = 0; r < p; r++) {
                sched_build(&sched_dualpipe, &sp, r, ops);
                cr_assert_eq(ops[3 * m].kind, OP_OPT);
                char what[64];
                snprintf(what, sizeof what, "dualpipe p=%d m=%d r=%d", p, m, r);
                int peak = assert_two_chunk_fbw(ops, 3 * m, (const int[2]){0, m / 2}, m / 2, what);
                int pairs = 0;
                for (int i = 0; i < 3 * m; i++) {
                    if (ops[i].overlap == SCHED_PAIR_F) {
                        cr_assert(ops[i].kind == OP_F && ops[i + 1].overlap == SCHED_PAIR_B &&
                                  ops[i + 1].kind == OP_B && ops[i + 1].chunk != ops[i].chunk);
                        pairs++;
                    } else if (ops[i].overlap == SCHED_PAIR_B) {
                        cr_assert(i > 0 && ops[i - 1].overlap == SCHED_PAIR_F);
                    }
                }
                cr_assert_eq(peak, p + 1, "p=%d m=%d r=%d holds %d", p, m, r, peak);
                /* step 4's 2(m/2-p+h+1) and step 5's p/2-h-1 pairs, less the middle ranks'
                 * unpaired first one */
                int h = r < p - 1 - r ? r : p - 1 - r;
                int expect = 2 * (m / 2 - p + h + 1) + (p / 2 - h - 1) - (h == p / 2 - 1);
                cr_assert_eq(pairs, expect, "p=%d m=%d r=%d: %d pairs", p, m, r, pairs);
            }
        }
}

/* Rank r's order is rank p-1-r's with the chunks (directions) swapped. */
Test(sched_dualpipe, the_two_halves_mirror)
{
    static struct sched_op a[3 * 64 + 1], b[3 * 64 + 1];
    for (int p = 2; p <= 16; p += 2) {
        int m = 4 * p;
        struct sched_params sp = {p, 2, m, 0, 1, 0};
        for (int r = 0; r < p / 2; r++) {
            sched_build(&sched_dualpipe, &sp, r, a);
            sched_build(&sched_dualpipe, &sp, p - 1 - r, b);
            for (int i = 0; i < 3 * m; i++) {
                cr_assert_eq(a[i].kind, b[i].kind);
                cr_assert_eq(a[i].chunk, 1 - b[i].chunk);
                cr_assert_eq(b[i].mb, (a[i].mb + m / 2) % m, "p=%d r=%d op %d", p, r, i);
                cr_assert_eq(a[i].overlap, b[i].overlap);
            }
        }
    }
}

Test(sched_dualpipe, rejects_what_dualpipe_asserts)
{
    struct sim_error err;
    struct sched_blame blame;
    struct sched_params vp1 = {4, 1, 8, 0, 1, 0}, odd_p = {3, 2, 8, 0, 1, 0},
                        odd_m = {4, 2, 9, 0, 1, 0}, few_m = {4, 2, 6, 0, 1, 0},
                        ok = {4, 2, 8, 0, 1, 0};
    cr_assert_eq(sched_dualpipe.check(&vp1, &blame, &err), SIM_EINPUT);
    cr_assert_eq(blame.first, SP_VP);
    cr_assert_eq(sched_dualpipe.check(&odd_p, &blame, &err), SIM_EINPUT);
    cr_assert_eq(blame.first, SP_PP);
    cr_assert(strstr(err.msg, "even pp"), "%s", err.msg);
    cr_assert_eq(sched_dualpipe.check(&odd_m, &blame, &err), SIM_EINPUT);
    cr_assert_eq(blame.first, SP_MICROBATCHES);
    cr_assert_eq(blame.also, SP_BIT(SP_PP), "at least 2*pp: pp is read too");
    cr_assert_eq(sched_dualpipe.check(&few_m, &blame, &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "at least 2*pp=8"), "%s", err.msg);
    cr_assert_eq(sched_dualpipe.check(&ok, &blame, &err), SIM_OK);
}

/* The hand-derived order of the smallest even case, p = 2, m = 4 (h = 0 on both ranks, both
 * middle ranks): rank 0 runs down-micro-batches 0, 1 on chunk 0 and up-micro-batches 2, 3 on
 * chunk 1. */
Test(sched_dualpipe, order_p2_m4)
{
    cr_assert_str_eq(ORDER_DUAL(2, 4, 0), "F0.0 F2.1 F1.0 B2.1 W2.1 F3.1* B0.0* W0.0 B3.1 W3.1 "
                                          "B1.0 W1.0");
}

/* DualPipeV is DualPipe cut in half: rank r of pp runs exactly what rank r of a 2pp-rank
 * DualPipe with twice the micro-batches runs, its up-running micro-batches m..2m-1 being the
 * V's second pass (chunk 1) over the same m. */
Test(sched_dualpipev, is_the_first_half_of_a_dualpipe_twice_as_deep)
{
    static struct sched_op v[3 * 2 * 60 + 1], d[3 * 2 * 120 + 1];
    for (int p = 1; p <= 12; p++)
        for (int m = 2 * p; m <= 5 * p; m++) {
            struct sched_params vp = {p, 2, m, 0, 1, 0}, dp = {2 * p, 2, 2 * m, 0, 1, 0};
            struct sim_error err;
            struct sched_blame blame;
            cr_assert_eq(sched_dualpipev.check(&vp, &blame, &err), SIM_OK, "%s", err.msg);
            cr_assert_eq(sched_ops_per_rank(&sched_dualpipev, &vp), (size_t)(6 * m + 1));
            for (int r = 0; r < p; r++) {
                sched_build(&sched_dualpipev, &vp, r, v);
                sched_build(&sched_dualpipe, &dp, r, d);
                for (int i = 0; i < 6 * m; i++) {
                    cr_assert_eq(v[i].kind, d[i].kind, "p=%d m=%d r=%d op %d", p, m, r, i);
                    cr_assert_eq(v[i].chunk, d[i].chunk);
                    cr_assert_eq(v[i].mb + (v[i].chunk ? m : 0), d[i].mb);
                    cr_assert_eq(v[i].overlap, d[i].overlap);
                }
            }
        }
}

/* Every (mb, chunk) one F, B and W in order, each kind in micro-batch order per chunk; at most
 * 2pp+1 chunk activations (DualPipe's pp+1 stages, cut in half). */
Test(sched_dualpipev, properties_over_many_shapes)
{
    static struct sched_op ops[6 * 60 + 1];
    for (int p = 1; p <= 12; p++)
        for (int m = 2 * p; m <= 5 * p; m++) {
            struct sched_params sp = {p, 2, m, 0, 1, 0};
            for (int r = 0; r < p; r++) {
                sched_build(&sched_dualpipev, &sp, r, ops);
                cr_assert_eq(ops[6 * m].kind, OP_OPT);
                char what[64];
                snprintf(what, sizeof what, "dualpipe-v p=%d m=%d r=%d", p, m, r);
                int peak = assert_two_chunk_fbw(ops, 6 * m, (const int[2]){0, 0}, m, what);
                cr_assert_eq(peak, 2 * p + 1, "p=%d m=%d r=%d holds %d", p, m, r, peak);
            }
        }
}

Test(sched_dualpipev, needs_a_v_and_a_micro_batch_per_stage)
{
    struct sim_error err;
    struct sched_blame blame;
    struct sched_params vp1 = {4, 1, 8, 0, 1, 0}, few = {4, 2, 7, 0, 1, 0},
                        odd = {3, 2, 7, 0, 1, 0};
    cr_assert_eq(sched_dualpipev.check(&vp1, &blame, &err), SIM_EINPUT);
    cr_assert_eq(blame.first, SP_VP);
    cr_assert_eq(sched_dualpipev.check(&few, &blame, &err), SIM_EINPUT);
    cr_assert_eq(blame.first, SP_MICROBATCHES);
    cr_assert(strstr(err.msg, "at least 2*pp=8 micro-batches"), "%s", err.msg);
    cr_assert_eq(sched_dualpipev.check(&odd, &blame, &err), SIM_OK, "any pp, any m >= 2pp");
}

/* Megatron-Core's placement of stages (rank r holds r, r + pp, ...), which pipeline-layout
 * strings describe: 1f1b and interleaved only. */
Test(sched_types, megatron_stage_placement_flag)
{
    const struct sched_type *const all[] = {&sched_gpipe, &sched_1f1b,     &sched_interleaved,
                                            &sched_zbh1,  &sched_zbv,      &sched_dualpipe,
                                            &sched_dualpipev};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        cr_assert_eq(all[i]->megatron_stages,
                     all[i] == &sched_1f1b || all[i] == &sched_interleaved, "%s", all[i]->name);
}
