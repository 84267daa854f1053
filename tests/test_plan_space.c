/* plan_space: the planner's enumeration -- which layouts are kept, how their configs are laid
 * out, and the uneven end-stage split where the layers do not divide. */
#include <criterion/criterion.h>
#include <libxml/parser.h>

#include "framework.h"
#include "helpers.h"
#include "model.h"
#include "plan_space.h"
#include "schedule.h"

static const struct sched_type *const megatron_orders[] = {&sched_1f1b, &sched_interleaved, NULL};

/* Llama-3.1-8B (32 layers, 32 heads, 8 KV heads, no experts) under Megatron-Core on `gpus`
 * GPUs of 8 per node, 1F1B and interleaved, sequences of 8192, no recompute sets or offload
 * (the knob variants are then the framework's sharding and full recompute). */
static struct plan_space llama8b_space(struct model *m, int gpus, int global_batch)
{
    struct sim_error err;
    xmlInitParser();
    cr_assert_eq(model_load(m, TOP_SRCDIR "/models/llama3.1-8b.xml", &err), SIM_OK, "%s", err.msg);
    return (struct plan_space){.m = m,
                               .fw = fw_get(FW_MEGATRON_CORE),
                               .schedules = megatron_orders,
                               .gpus = gpus,
                               .gpus_per_node = 8,
                               .global_batch = global_batch,
                               .seq = 8192,
                               .optimizer_zero = 0xfu,
                               .cp_offered = 1};
}

static int same_layout(const struct plan_config *a, const struct plan_config *b)
{
    return a->tp == b->tp && a->pp == b->pp && a->vp == b->vp && a->cp == b->cp && a->ep == b->ep &&
           a->etp == b->etp && a->micro_batch == b->micro_batch &&
           a->first_layers == b->first_layers && a->last_layers == b->last_layers &&
           a->schedule == b->schedule;
}

/* Every kept layout obeys the divisibility rules, its configs are contiguous, share its
 * layout, and number its recompute x sharding x offload options; no layout appears twice. */
Test(plan_space, layouts_are_rule_valid_contiguous_and_unique)
{
    struct model m;
    struct plan_space sp = llama8b_space(&m, 24, 48);
    struct plan_cands c = {0};
    cr_assert_eq(plan_space_enumerate(&sp, &c), 0);
    cr_assert_gt(c.nlay, 0);
    cr_assert_geq(sp.enumerated, c.n, "dropped layouts' configs count as enumerated");
    size_t next = 0;
    for (size_t l = 0; l < c.nlay; l++) {
        const struct plan_layout *L = &c.lay[l];
        const struct plan_config *first = &c.v[L->first].cfg;
        cr_assert_eq(L->first, next, "layout %zu starts where the last ended", l);
        cr_assert_eq(L->n, (size_t)L->nrecompute * L->nshard * L->noffload);
        next = L->first + L->n;
        long dense = (long)first->tp * first->cp * first->pp, dp = 24 / dense;
        cr_assert_eq(24 % dense, 0);
        cr_assert_eq(48 % (first->micro_batch * dp), 0);
        cr_assert_eq(32 % first->tp, 0);
        cr_assert_eq(8 % first->tp, 0);
        cr_assert(first->schedule == &sched_interleaved ? first->vp > 1 && first->pp > 1
                                                        : first->vp == 1);
        for (size_t k = 0; k < L->n; k++) {
            cr_assert_eq(c.v[L->first + k].layout, (int)l);
            cr_assert(same_layout(&c.v[L->first + k].cfg, first));
        }
        for (size_t q = 0; q < l; q++)
            cr_assert_not(same_layout(&c.v[c.lay[q].first].cfg, first), "layout %zu twice", l);
    }
    cr_assert_eq(next, c.n);
    plan_space_cands_release(&c);
    cr_assert_null(c.v);
}

/* 32 layers on 3 stages do not divide: the most balanced split with ends no heavier than the
 * middle is 11, 11, 10 (the last the lighter); a coarser middle (10, 12, 10) or an end heavier
 * than it would be worse.  4 stages split evenly. */
Test(plan_space, uneven_end_stages_where_layers_do_not_divide)
{
    struct model m;
    struct plan_space sp = llama8b_space(&m, 24, 48);
    struct plan_cands c = {0};
    cr_assert_eq(plan_space_enumerate(&sp, &c), 0);
    int seen3 = 0, seen4 = 0;
    for (size_t l = 0; l < c.nlay; l++) {
        const struct plan_config *cfg = &c.v[c.lay[l].first].cfg;
        if (cfg->schedule != &sched_1f1b)
            continue;
        if (cfg->pp == 3) {
            cr_assert_eq(cfg->first_layers, 11);
            cr_assert_eq(cfg->last_layers, 10);
            seen3 = 1;
        }
        if (cfg->pp == 4) {
            cr_assert_eq(cfg->first_layers, 0);
            cr_assert_eq(cfg->last_layers, 0);
            seen4 = 1;
        }
    }
    cr_assert(seen3 && seen4);
    plan_space_cands_release(&c);
}

/* A layer count no even stage count divides (61, DeepSeek-V3's): every pipeline depth is
 * planned, the odd rest split between the ends -- 31 | 30 on two stages, 3 | 4 x 14 | 2 on
 * sixteen, 15 | 16 x 2 | 14 on four, 7 | 8 x 6 | 6 on eight, 1 | 2 x 30 | 0 (the LM head and
 * the loss alone) on thirty-two -- where equal ends had left only odd depths. */
Test(plan_space, odd_layer_counts_split_their_ends_unequally)
{
    struct model m;
    struct plan_space sp = llama8b_space(&m, 64, 64);
    m.layers = 61;
    struct plan_cands c = {0};
    cr_assert_eq(plan_space_enumerate(&sp, &c), 0);
    static const int want[][3] = {{2, 31, 30}, {4, 15, 14}, {16, 3, 2}, {8, 7, 6}, {32, 1, 0}};
    int seen[5] = {0};
    for (size_t l = 0; l < c.nlay; l++) {
        const struct plan_config *cfg = &c.v[c.lay[l].first].cfg;
        if (cfg->schedule != &sched_1f1b)
            continue;
        for (int k = 0; k < 5; k++)
            if (cfg->pp == want[k][0]) {
                cr_assert_eq(cfg->first_layers, want[k][1], "pp %d", cfg->pp);
                cr_assert_eq(cfg->last_layers, want[k][2], "pp %d", cfg->pp);
                int inner = 61 - cfg->first_layers - cfg->last_layers, mids = cfg->pp - 2;
                if (mids > 0) {
                    cr_assert_eq(inner % mids, 0);
                    cr_assert_leq(cfg->first_layers, inner / mids, "ends no heavier");
                }
                seen[k] = 1;
            }
    }
    cr_assert(seen[0] && seen[1] && seen[2] && seen[3] && seen[4]);
    plan_space_cands_release(&c);
}

/* Enumerate `sp` and mark the cp of every config in seen[0..ncp) (each below ncp); the
 * layouts' count. */
static size_t cp_values(struct plan_space *sp, int *seen, int ncp)
{
    struct plan_cands c = {0};
    cr_assert_eq(plan_space_enumerate(sp, &c), 0);
    for (size_t i = 0; i < c.n; i++) {
        cr_assert_lt(c.v[i].cfg.cp, ncp);
        seen[c.v[i].cfg.cp] = 1;
    }
    size_t nlay = c.nlay;
    plan_space_cands_release(&c);
    return nlay;
}

/* Context parallelism only where the framework runs it and the sequence splits in 2 cp
 * chunks; with it off every layout has cp 1 and the layouts are fewer. */
Test(plan_space, context_parallel_only_where_offered)
{
    struct model m;
    struct plan_space with = llama8b_space(&m, 16, 32), without = with;
    without.cp_offered = 0;
    int on[9] = {0}, off[9] = {0};
    size_t nlay_on = cp_values(&with, on, 9), nlay_off = cp_values(&without, off, 9);
    cr_assert(on[2] && on[4] && on[8]);
    cr_assert(off[1] && !off[2] && !off[4] && !off[8]);
    cr_assert_lt(nlay_off, nlay_on);
}

/* cp is tried up to 8, and past 8 while each rank keeps 4,096 tokens or more: 131,072-token
 * sequences on 64 GPUs take cp 16 and 32 (4,096 a rank) but not 64; 8,192-token ones stop at
 * 8 (cp 16 would leave each rank 512). */
Test(plan_space, long_sequences_try_context_parallelism_past_8)
{
    struct model m;
    struct plan_space long_seq = llama8b_space(&m, 64, 64), short_seq = long_seq;
    long_seq.seq = 131072;
    int seen_long[65] = {0}, seen_short[65] = {0};
    cp_values(&long_seq, seen_long, 65);
    cp_values(&short_seq, seen_short, 65);
    cr_assert(seen_long[8] && seen_long[16] && seen_long[32]);
    cr_assert_not(seen_long[64]);
    cr_assert(seen_short[8] && !seen_short[16]);
}

/* A Mamba layer's context parallelism shards each TP rank's heads: with 12 heads in 4 groups
 * (a toy Nano), cp 8 never appears at tp 1 (12 / 8) nor cp 4 at tp 2 (6 / 4), while cp 2 and
 * cp 4 do at tp 1. */
Test(plan_space, mamba_layers_take_only_the_cp_that_splits_their_heads)
{
    struct model m;
    struct sim_error err;
    struct plan_space sp = llama8b_space(&m, 64, 64);
    cr_assert_eq(model_load(&m, TOP_SRCDIR "/models/nemotron-3-nano-30b-a3b.xml", &err), SIM_OK,
                 "%s", err.msg);
    m.mamba_heads = 12;
    m.mamba_groups = 4;
    struct plan_cands c = {0};
    cr_assert_eq(plan_space_enumerate(&sp, &c), 0);
    int seen[9] = {0};
    for (size_t i = 0; i < c.n; i++) {
        const struct plan_config *p = &c.v[i].cfg;
        cr_assert((12 / p->tp) % p->cp == 0, "tp %d cp %d", p->tp, p->cp);
        if (p->tp == 1)
            seen[p->cp] = 1;
    }
    cr_assert(seen[2] && seen[4] && !seen[8]);
    plan_space_cands_release(&c);
}

/* A Gated DeltaNet's context parallelism shards each TP rank's key and value heads: with 12
 * key and 24 value heads (a toy Qwen3-Next), cp 8 never appears at tp 1 (12 / 8) nor cp 4 at
 * tp 2 (6 / 4), while cp 2 and cp 4 do at tp 1. */
Test(plan_space, gated_deltanet_layers_take_only_the_cp_that_splits_their_heads)
{
    struct model m;
    struct sim_error err;
    struct plan_space sp = llama8b_space(&m, 64, 64);
    cr_assert_eq(model_load(&m, TOP_SRCDIR "/models/qwen3-next-80b-a3b.xml", &err), SIM_OK, "%s",
                 err.msg);
    m.gdn_key_heads = 12;
    m.gdn_value_heads = 24;
    struct plan_cands c = {0};
    cr_assert_eq(plan_space_enumerate(&sp, &c), 0);
    int seen[3][9] = {{0}};
    for (size_t i = 0; i < c.n; i++) {
        const struct plan_config *p = &c.v[i].cfg;
        cr_assert((12 / p->tp) % p->cp == 0, "tp %d cp %d", p->tp, p->cp);
        if (p->tp <= 2)
            seen[p->tp][p->cp] = 1;
    }
    cr_assert(seen[1][2] && seen[1][4] && !seen[1][8]);
    cr_assert(seen[2][2] && !seen[2][4]);
    plan_space_cands_release(&c);
}
