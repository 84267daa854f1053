/* plan_space: the configs the planner considers (plan_space.h). */
#include "plan_space.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "costmodel.h"
#include "hardware.h"
#include "model.h"

#define PLAN_MAX_VP 16
#define PLAN_MAX_VARIANTS 80 /* memory-knob configs of one layout: 4 recompute x 5 sharding x 4
                                offload options at most (layout_variants) */

static int push_schedules(struct plan_space *sp, struct plan_cands *out, int tp, int cp, int pp,
                          int vp, int ep, int etp, int mb);

static int cand_push(struct plan_cands *l, const struct plan_config *c)
{
    if (l->n >= PLAN_MAX_CANDIDATES)
        return PLAN_SPACE_TOO_LARGE;
    struct plan_entry *v = mem_grow(l->v, l->n, &l->cap, sizeof *v);
    if (!v)
        return -1;
    l->v = v;
    struct plan_entry *e = &l->v[l->n++];
    memset(e, 0, sizeof *e);
    e->cfg = *c;
    e->layout = (int)l->nlay;
    e->row = -1;
    e->mem_bytes = NAN;
    e->state = PLAN_PRUNED;
    return 0;
}

static int layout_push(struct plan_cands *l, const struct plan_layout *lay)
{
    struct plan_layout *v = mem_grow(l->lay, l->nlay, &l->laycap, sizeof *v);
    if (!v)
        return -1;
    l->lay = v;
    l->lay[l->nlay++] = *lay;
    return 0;
}

/* The first and last stages' layers for `stages` model parts: 0 and 0 for an even split; else
 * the most balanced split with ends no heavier than the middle: the middle stages L layers
 * each, the least L that can hold the layers, the rest on the ends, the last the smaller half
 * (it holds the LM head and the loss; stagesplit.c does the same).  Megatron-Core sets the two
 * ends apart, so an odd rest is split, not rounded to a coarser L: 61 layers on 16 stages are
 * 3, 4 x 14, 2.  The last stage may hold the LM head and the loss alone (Megatron-Bridge's
 * DeepSeek-V3 layouts end on "|L"): 61 layers on 32 stages are 1, 2 x 30, 0.  (In Megatron-Core
 * such ends are a --pipeline-model-parallel-layout: its --decoder-first/last-pipeline-num-layers
 * count a rank's layers over all its chunks and refuse a last of 0; stepsim's
 * first-stage-layers / last-stage-layers, which plan's --out writes, count one virtual stage and
 * take 0.)  Two stages are the two ends.  -1 when the first stage would be left no layer (the
 * least L already leaves the ends least). */
static int edge_split(int layers, int stages, int *first, int *last)
{
    *first = *last = 0;
    if (layers % stages == 0)
        return 0;
    int L = (layers + stages - 1) / stages;
    long rest = layers - (long)L * (stages - 2);
    if (rest < 1)
        return -1;
    *last = (int)(rest / 2);
    *first = (int)(rest - rest / 2);
    return 0;
}

/* Does the planner lay `stages` virtual stages out in whole DSA top-k groups?  For a model
 * sharing its top-k (every pipeline chunk must start on a layer computing one, cm_rules.c),
 * under the schedules a pipeline layout describes (1F1B and the interleaved one). */
static int dsa_grouped(const struct model *m, const struct sched_type *t, int stages)
{
    return m->dsa_topk > 0 && m->dsa_topk_freq > 1 && stages > 1 && t->megatron_stages;
}

/* The selective recompute sets the planner tries, each cut to what the framework offers and
 * the model has: light -- the element-wise work Megatron's recipes recompute first (the norms,
 * the experts' activation; the attention core when it is unfused, where it holds the s x s
 * scores), cheap to run again; heavy -- light plus the matmul modules (dense MLPs, shared
 * experts, MLA's up-projections).  torchtitan's selective mode is its per-op policy (op), where
 * stepsim models it (dense attention models with flash attention).  Megatron-Core recomputes
 * only the norms that are modules of their own -- MLA's input norm, a MoE layer's pre-MLP norm
 * (cm_work.c, recomputed_norms) -- so on a dense model without MLA `layernorm` would be the
 * no-recompute config again, and is not tried. */
static void recompute_sets(struct plan_space *sp, int flash)
{
    int can = sp->fw->recompute_modules & cm_model_recompute_modules(sp->m);
    int megatron = sp->fw->id == FW_MEGATRON_CORE || sp->fw->id == FW_ANY;
    if (megatron && sp->m->experts == 0 && sp->m->kv_lora_rank == 0)
        can &= ~RC_LAYERNORM;
    if (sp->fw->id == FW_TORCHTITAN && (can & RC_OP) && flash) {
        sp->rc_light = RC_OP;
        sp->rc_heavy = 0;
        return;
    }
    can &= ~RC_OP;
    int light = (flash ? 0 : RC_CORE_ATTN) | RC_LAYERNORM | RC_MOE_ACT;
    int heavy = light | RC_MLP | RC_SHARED_EXPERTS | RC_MLA_UP_PROJ;
    sp->rc_light = light & can;
    sp->rc_heavy = heavy & can;
    if (sp->rc_light == 0) {
        sp->rc_light = sp->rc_heavy;
        sp->rc_heavy = 0;
    }
    if (sp->rc_heavy == sp->rc_light)
        sp->rc_heavy = 0;
}

/* Does the schedule run pp ranks with vp chunks each, as a distinct config?  1F1B, GPipe and
 * ZB-H1 hold one chunk (ZB-H1 differs from 1F1B only for pp > 1); interleaving takes any vp
 * above 1; ZB-V, DualPipeV and (for an even pp) DualPipe two.  Every chunked schedule needs
 * more than one rank. */
static int schedule_runs(const struct sched_type *t, int pp, int vp)
{
    if (!sched_vp_fits(t, vp) || (vp > 1 && pp == 1))
        return 0;
    if (t == &sched_zbh1)
        return pp > 1;
    if (t == &sched_dualpipe)
        return pp % 2 == 0;
    return 1;
}

/* The memory-knob configs of layout `L` (its knob fields are overwritten) into `out`,
 * recompute-major (struct plan_layout): recompute none, the light and heavy selective sets,
 * full; then sharding, ZeRO 0 to 3; then offload none, optimizer, activations, both -- each
 * from the least to the most saving.  The option counts go to `lay`. */
static size_t layout_variants(const struct plan_space *sp, const struct plan_config *L, long dp,
                              long edp, struct plan_config *out, struct plan_layout *lay)
{
    int shards[5][2], ns = 0;
    int shardable = dp * L->cp > 1 || (sp->m->experts && edp > 1);
    lay->zero1 = -1;
    for (int z = 0; z < 4; z++) {
        unsigned offered = fw_zero_stages(sp->fw, L->pp) & sp->optimizer_zero;
        if (!(offered & (1u << z)) || (z > 0 && !shardable))
            continue;
        if (z == 1)
            lay->zero1 = ns;
        shards[ns][0] = z;
        shards[ns++][1] = 0;
        if (z == 3 && sp->fw->keep_gathered) {
            shards[ns][0] = 3;
            shards[ns++][1] = 1;
        }
    }
    int rcs[4][2] = {{RECOMPUTE_NONE, 0}}, nr = 1;
    if (sp->rc_light)
        rcs[nr][0] = RECOMPUTE_SELECTIVE, rcs[nr++][1] = sp->rc_light;
    if (sp->rc_heavy)
        rcs[nr][0] = RECOMPUTE_SELECTIVE, rcs[nr++][1] = sp->rc_heavy;
    if (sp->fw->full_recompute)
        rcs[nr][0] = RECOMPUTE_FULL, rcs[nr++][1] = 0;
    int offs[4], no = 0;
    for (int o = 0; o < 4; o++)
        if (!((o & PLAN_OFFLOAD_OPTIMIZER) && !sp->offload_opt) &&
            !((o & PLAN_OFFLOAD_ACTIVATIONS) && !sp->offload_act))
            offs[no++] = o;
    size_t n = 0;
    assert((size_t)nr * ns * no <= PLAN_MAX_VARIANTS && nr <= PLAN_MAX_OPTIONS &&
           ns <= PLAN_MAX_OPTIONS);
    for (int r = 0; r < nr; r++)
        for (int s = 0; s < ns; s++)
            for (int o = 0; o < no; o++) {
                struct plan_config c = *L;
                c.recompute = rcs[r][0];
                c.recompute_modules = rcs[r][1];
                c.zero = shards[s][0];
                c.keep_gathered = shards[s][1];
                c.offload = offs[o];
                out[n++] = c;
            }
    lay->nrecompute = nr;
    lay->nshard = ns;
    lay->noffload = no;
    lay->offload_opt = sp->offload_opt;
    lay->offload_act = sp->offload_act;
    return n;
}

/* The divisibility rules: do the layout's replicas (tp x cp x pp, and ep x etp x pp for the
 * experts) divide the budget, and its data-parallel size x micro-batch the global batch? */
static int layout_divides(const struct plan_space *sp, const struct plan_config *L)
{
    long dense = (long)L->tp * L->cp * L->pp, expert = (long)L->ep * L->etp * L->pp;
    return !(sp->gpus % dense || sp->gpus % expert ||
             sp->global_batch % (L->micro_batch * (sp->gpus / dense)));
}

/* One layout (tp, cp, pp, vp, ep, etp, micro-batch, schedule) and its configs, when the
 * arithmetic rules allow it. */
static int push_layout(struct plan_space *sp, struct plan_cands *out, const struct plan_config *L)
{
    struct plan_config v[PLAN_MAX_VARIANTS];
    struct plan_layout lay;
    memset(&lay, 0, sizeof lay);
    long dense = (long)L->tp * L->cp * L->pp, expert = (long)L->ep * L->etp * L->pp;
    long dp = sp->gpus / dense, edp = sp->gpus / expert;
    int kept = layout_divides(sp, L);
    if (!out) /* a probe (plan_space_nearest_budgets) */
        return kept ? PLAN_SPACE_FOUND : 0;
    size_t n = layout_variants(sp, L, dp, edp, v, &lay);
    sp->enumerated += n;
    if (!kept)
        return 0;
    lay.first = out->n;
    lay.n = n;
    for (size_t i = 0; i < n; i++) {
        int rc = cand_push(out, &v[i]);
        if (rc != 0)
            return rc;
        /* known to break a rule without building it: never built, listed or written */
        if (sp->full_keeps_no_input && v[i].recompute == RECOMPUTE_FULL &&
            (v[i].offload & PLAN_OFFLOAD_ACTIVATIONS))
            out->v[out->n - 1].built = -1;
    }
    return layout_push(out, &lay);
}

/* The values of one dimension: the fixed one alone where --set fixed it (so that a value
 * the search would skip -- micro-batch 3, cp 16 -- is planned, or a rule says why it fails),
 * else every one from `lo` to `hi` (step x2 when `doubling`) that `keep` accepts. */
typedef int (*dim_keep_fn)(const struct plan_space *sp, int value, int arg);

static int dim_values(int fixed, int lo, int hi, int doubling, dim_keep_fn keep,
                      const struct plan_space *sp, int arg, int *out, int cap)
{
    if (fixed)
        return out[0] = fixed, 1;
    int n = 0;
    for (int v = lo; v <= hi && n < cap; v = doubling ? 2 * v : v + 1)
        if (!keep || keep(sp, v, arg))
            out[n++] = v;
    return n;
}

/* tp: the model's heads, key-value heads and state-space groups split evenly. */
static int tp_fits(const struct plan_space *sp, int tp, int unused)
{
    (void)unused;
    const struct model *m = sp->m;
    return m->heads % tp == 0 && m->kv_heads % tp == 0 && model_ssm_shards(m, tp, 1);
}

/* cp: offered by the framework, the sequence split in 2 cp chunks, the state-space layers'
 * groups too. */
static int cp_fits(const struct plan_space *sp, int cp, int tp)
{
    return cp == 1 ||
           (sp->cp_offered && model_ssm_shards(sp->m, tp, cp) && sp->seq % (2 * cp) == 0);
}

/* The largest cp the search tries: 8, and beyond it while each rank keeps at least
 * PLAN_CP_MIN_TOKENS of the sequence, as long-context recipes do: Llama 3's 128K tokens at
 * cp 16, 8,192 a rank (arXiv 2407.21783 Table 4, scenarios/validation/l3.xml), Megatron-Bridge's
 * GLM-5.1 128K at cp 32, 4,096 a rank (scenarios/glm-5.1-sft-128k-h100.xml).  Capped at 8, a
 * 128K plan missed layouts twice as fast; shorter sequences keep 1-8. */
#define PLAN_CP_MIN_TOKENS 4096
static int cp_max(const struct plan_space *sp)
{
    int hi = 8;
    while (hi < 1024 && sp->seq / (2 * hi) >= PLAN_CP_MIN_TOKENS)
        hi *= 2;
    return hi;
}

/* ep: a divisor of the expert count (1 for a dense model). */
static int ep_fits(const struct plan_space *sp, int ep, int unused)
{
    (void)unused;
    return sp->m->experts ? sp->m->experts % ep == 0 : ep == 1;
}

/* Do `dense` GPUs a replica (tp x cp x pp) divide the budget into replicas that divide the
 * global batch at micro-batch `mb`?  What every layout of that tp, cp and pp needs, whatever
 * its vp, ep and schedule: a probe checks it first, else a budget with no layout walked the
 * whole space (over a minute for GLM-5 on a million GPUs, 8,192 budgets probed). */
static int dense_divides(const struct plan_space *sp, long dense, int mb)
{
    return sp->gpus % dense == 0 && sp->global_batch % (mb * (sp->gpus / dense)) == 0;
}

#define PLAN_MAX_DIM 1024 /* values of one dimension (pp up to the layers, micro-batch 2^k) */

int plan_space_enumerate(struct plan_space *sp, struct plan_cands *out)
{
    const struct model *m = sp->m;
    const struct plan_fixed *f = &sp->fixed;
    int tps[PLAN_MAX_DIM], cps[11], pps[PLAN_MAX_DIM], vps[PLAN_MAX_VP + 1], eps[PLAN_MAX_DIM];
    int mbs[32], etps[2];
    int rc;
    /* a probe finds a layout the rules can keep: a fixed tp or ep that splits nothing is none,
     * and the least micro-batch divides the batch where any does */
    if (!out && ((f->tp && !tp_fits(sp, f->tp, 0)) || (f->ep && !ep_fits(sp, f->ep, 0))))
        return 0;
    int top = sp->gpus_per_node < sp->gpus ? sp->gpus_per_node : sp->gpus;
    int ntp = dim_values(f->tp, 1, top, 0, tp_fits, sp, 0, tps, PLAN_MAX_DIM);
    int npp = dim_values(f->pp, 1, m->layers, 0, NULL, sp, 0, pps, PLAN_MAX_DIM);
    int nep = dim_values(f->ep, 1, m->experts ? m->experts : 1, 0, ep_fits, sp, 0, eps,
                         PLAN_MAX_DIM);
    int nmb = dim_values(f->micro_batch, 1, out ? sp->global_batch : 1, 1, NULL, sp, 0, mbs, 32);
    for (int ti = 0; ti < ntp; ti++) {
        int tp = tps[ti];
        if (!out && f->cp && !cp_fits(sp, f->cp, tp))
            continue;
        int ncp = dim_values(f->cp, 1, cp_max(sp), 1, cp_fits, sp, tp, cps, 11);
        int netp = f->etp ? (etps[0] = f->etp, 1)
                          : (etps[0] = 1, etps[1] = tp, m->experts && tp > 1 ? 2 : 1);
        for (int ci = 0; ci < ncp; ci++)
            for (int pi = 0; pi < npp; pi++) {
                int pp = pps[pi];
                if (!out && !dense_divides(sp, (long)tp * cps[ci] * pp, mbs[0]))
                    continue;
                int nvp = dim_values(f->vp, 1, PLAN_MAX_VP < m->layers / pp ? PLAN_MAX_VP
                                                                            : m->layers / pp,
                                     0, NULL, sp, 0, vps, PLAN_MAX_VP + 1);
                for (int vi = 0; vi < nvp; vi++)
                    for (int ei = 0; ei < nep; ei++)
                        for (int xi = 0; xi < netp; xi++)
                            for (int bi = 0; bi < nmb; bi++)
                                if ((rc = push_schedules(sp, out, tp, cps[ci], pp, vps[vi],
                                                         eps[ei], etps[xi], mbs[bi])) != 0)
                                    return rc;
            }
    }
    return 0;
}

/* "tp=8 x pp=3 = 24": the fixed factors of a replica (values[i] 0: not fixed) into buf; their
 * product. */
static long fixed_factors(const char *const *names, const int *values, int n, char *buf, size_t len)
{
    long product = 1;
    int nfixed = 0;
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && used < len; i++)
        if (values[i]) {
            product *= values[i];
            used += (size_t)snprintf(buf + used, len - used, "%s%s=%d", nfixed++ ? " x " : "",
                                     names[i], values[i]);
        }
    if (nfixed > 1 && used < len)
        snprintf(buf + used, len - used, " = %ld", product);
    return product;
}

/* A replica of the fixed dimensions (tp x cp x pp, or ep x etp x pp for the experts) that does
 * not divide the GPUs, or, with tp, cp and pp all fixed, a data-parallel size whose
 * micro-batches (the least: 1, where not fixed) do not divide the global batch, into buf; 0 when
 * none. */
static int fixed_replica_rule(const struct plan_space *sp, char *buf, size_t len)
{
    static const char *const dense_names[] = {"tp", "cp", "pp"};
    static const char *const expert_names[] = {"ep", "etp", "pp"};
    const struct plan_fixed *f = &sp->fixed;
    const int dense[] = {f->tp, f->cp, f->pp}, expert[] = {f->ep, f->etp, f->pp};
    char factors[96];
    if (sp->gpus % fixed_factors(dense_names, dense, 3, factors, sizeof factors) != 0)
        return snprintf(buf, len, "%s does not divide gpus=%d (tp x cp x pp x dp makes the GPUs)",
                        factors, sp->gpus) > 0;
    if (sp->gpus % fixed_factors(expert_names, expert, 3, factors, sizeof factors) != 0)
        return snprintf(buf, len,
                        "%s does not divide gpus=%d (ep x etp x pp x expert-dp makes the GPUs)",
                        factors, sp->gpus) > 0;
    if (!f->tp || !f->cp || !f->pp) /* dp is not fixed: another tp, cp or pp may suit */
        return 0;
    long dp = sp->gpus / ((long)f->tp * f->cp * f->pp), mb = f->micro_batch ? f->micro_batch : 1;
    char mbs[32] = "";
    if (f->micro_batch)
        snprintf(mbs, sizeof mbs, " x micro-batch=%d", f->micro_batch);
    if (sp->global_batch % (dp * mb) != 0)
        return snprintf(buf, len, "dp=%ld (gpus / tp x cp x pp)%s does not divide global-batch=%d",
                        dp, mbs, sp->global_batch) > 0;
    return 0;
}

int plan_space_fixed_rule(const struct plan_space *sp, char *buf, size_t len)
{
    const struct plan_fixed *f = &sp->fixed;
    const struct model *m = sp->m;
    if (f->pp > m->layers)
        snprintf(buf, len, "pp=%d exceeds layers=%d: every pipeline rank needs a layer", f->pp,
                 m->layers);
    else if (f->tp && m->heads % f->tp != 0)
        snprintf(buf, len, "heads=%d of %s are not divisible by tp=%d", m->heads, m->name, f->tp);
    else if (f->tp && m->kv_heads % f->tp != 0)
        snprintf(buf, len, "kv-heads=%d of %s are not divisible by tp=%d", m->kv_heads, m->name,
                 f->tp);
    else if (f->ep > 1 && !m->experts)
        snprintf(buf, len, "ep=%d but %s has no experts: expert parallelism needs MoE", f->ep,
                 m->name);
    else if (f->ep && !ep_fits(sp, f->ep, 0))
        snprintf(buf, len, "experts=%d of %s are not divisible by ep=%d", m->experts, m->name,
                 f->ep);
    else
        return fixed_replica_rule(sp, buf, len) ? PLAN_FIXED_THIS_BUDGET : 0;
    return PLAN_FIXED_NO_BUDGET;
}

/* Probe budget `gpus`: does its space hold a layout? */
static int budget_has_layout(const struct plan_space *sp, int gpus)
{
    struct plan_space probe = *sp;
    probe.gpus = gpus;
    return plan_space_enumerate(&probe, NULL) == PLAN_SPACE_FOUND;
}

void plan_space_nearest_budgets(const struct plan_space *sp, int most, struct plan_budgets *b)
{
    memset(b, 0, sizeof *b);
    b->lowest = b->highest = sp->gpus;
    for (int d = 1; d <= most && !(b->below && b->above); d++) {
        int g = sp->gpus - d;
        if (!b->below && g >= 1) {
            b->lowest = g;
            b->below = budget_has_layout(sp, g) ? g : 0;
        }
        g = sp->gpus + d;
        if (!b->above && g <= PLAN_MAX_GPUS) {
            b->highest = g;
            b->above = budget_has_layout(sp, g) ? g : 0;
        }
    }
}

const char *plan_schedule_needs(const struct sched_type *t, int vp)
{
    if (vp && !sched_vp_fits(t, vp))
        return t->vp_any             ? "vp >= 2"
               : sched_vp_of(t) == 1 ? "vp=1 (one model chunk a rank)"
                                     : "vp=2 (two model chunks a rank)";
    if (t == &sched_dualpipe) /* schedule_runs: two chunks a rank, over an even pp */
        return "an even pp";
    if (t == &sched_zbh1)
        return "pp >= 2 (on one rank it is 1f1b)";
    if (t->vp_any || sched_vp_of(t) > 1)
        return "pp >= 2 (its model chunks on two or more ranks)";
    return NULL;
}

/* A layout the divisibility rules keep that no schedule runs: its pp into the ascending
 * unscheduled_pp, once (past PLAN_MAX_UNSCHEDULED values, the deepest are dropped and
 * unscheduled_more says so). */
static void note_unscheduled(struct plan_space *sp, int pp)
{
    int n = sp->nunscheduled_pp, i = 0;
    while (i < n && sp->unscheduled_pp[i] < pp)
        i++;
    if (i < n && sp->unscheduled_pp[i] == pp)
        return;
    if (n == PLAN_MAX_UNSCHEDULED) /* pp, or else the deepest kept, is one depth too many */
        sp->unscheduled_more = 1;
    if (i == PLAN_MAX_UNSCHEDULED)
        return;
    if (n == PLAN_MAX_UNSCHEDULED)
        n--;
    memmove(&sp->unscheduled_pp[i + 1], &sp->unscheduled_pp[i], (size_t)(n - i) * sizeof pp);
    sp->unscheduled_pp[i] = pp;
    sp->nunscheduled_pp = n + 1;
}

/* One layout's configs under each schedule that runs it. */
static int push_schedules(struct plan_space *sp, struct plan_cands *out, int tp, int cp, int pp,
                          int vp, int ep, int etp, int mb)
{
    const struct model *m = sp->m;
    int runs = 0;
    for (int s = 0; sp->schedules[s]; s++) {
        const struct sched_type *t = sp->schedules[s];
        if (!schedule_runs(t, pp, vp))
            continue;
        runs = 1;
        int grouped = dsa_grouped(m, t, pp * vp);
        int first = 0, last = 0, stages = sched_model_parts(t, pp, vp);
        if (!grouped && edge_split(m->layers, stages, &first, &last) != 0) {
            sp->unsplit++;
            sp->unsplit_stages = stages;
            continue;
        }
        sp->split++;
        struct plan_config c = {.tp = tp, .pp = pp, .vp = vp, .cp = cp, .ep = ep, .etp = etp,
                                .micro_batch = mb, .first_layers = first, .last_layers = last,
                                .schedule = t};
        if (grouped) {
            c.dsa_freq = m->dsa_topk_freq;
            c.dsa_offset = m->dsa_skip_offset;
            c.dsa_mtp = m->mtp_layers;
            c.dsa_layers = m->layers;
        }
        /* the dispatcher matters where tokens cross expert-parallel ranks */
        int nd = ep > 1 ? sp->ndispatchers : 0;
        for (int d = 0; d < (nd ? nd : 1); d++) {
            c.dispatcher = nd ? sp->dispatchers[d] : 0;
            int rc = push_layout(sp, out, &c);
            if (rc != 0)
                return rc;
        }
    }
    struct plan_config L = {.tp = tp, .cp = cp, .pp = pp, .ep = ep, .etp = etp, .micro_batch = mb};
    if (!runs && out && layout_divides(sp, &L))
        note_unscheduled(sp, pp);
    return 0;
}

/* The dispatchers a MoE model's layouts try (--dispatchers): the ones named, or with `all`
 * Megatron-Core's alltoall and allgather and one flex backend the hardware runs -- the
 * scenario's if it names one, else DeepEP, else HybridEP (priced alike but for HybridEP's
 * padding for narrow GEMMs).  None (the scenario's) when the model is dense or none are asked
 * for. */
static void dispatchers_of(struct plan_space *sp, const struct scenario *base,
                           const struct hardware *hw, const int *asked)
{
    sp->ndispatchers = 0;
    if (sp->m->experts == 0 || !asked[0])
        return;
    if (asked[0] != PLAN_ALL_DISPATCHERS) {
        for (int i = 0; asked[i] && i < PLAN_MAX_DISPATCHERS; i++)
            sp->dispatchers[sp->ndispatchers++] = asked[i];
        return;
    }
    sp->dispatchers[sp->ndispatchers++] = DISPATCH_ALLTOALL + 1;
    sp->dispatchers[sp->ndispatchers++] = DISPATCH_ALLGATHER + 1;
    unsigned runs = hw->node.flex_dispatchers;
    int own = scn_flex_dispatch(base) &&
              (runs & (base->moe_dispatcher == DISPATCH_DEEPEP ? HW_FLEX_DEEPEP
                                                               : HW_FLEX_HYBRIDEP));
    if (own)
        sp->dispatchers[sp->ndispatchers++] = (int)base->moe_dispatcher + 1;
    else if (runs & HW_FLEX_DEEPEP)
        sp->dispatchers[sp->ndispatchers++] = DISPATCH_DEEPEP + 1;
    else if (runs & HW_FLEX_HYBRIDEP)
        sp->dispatchers[sp->ndispatchers++] = DISPATCH_HYBRIDEP + 1;
}

/* The space the planner enumerates: the model, the framework's schedules and offers, the GPU
 * budget and node size, the batch, and the recompute settings worth trying. */
struct plan_space plan_space_of(const struct scenario *base, const struct plan_opts *o,
                                const struct plan_result *res, const struct model *model,
                                const struct hardware *hw)
{
    struct plan_space space = {.m = model,
                               .fw = res->framework,
                               .schedules = res->schedules,
                               .gpus = o->gpus,
                               .gpus_per_node = hw->node.gpus,
                               .global_batch = base->global_batch,
                               .seq = base->seq};
    /* Muon: the stages its framework shards it over, and never on the host (costmodel.c). */
    int muon = base->optimizer_algorithm == OPTALG_MUON;
    space.optimizer_zero = muon ? res->framework->muon_zero : 0xfu;
    space.offload_opt = !muon && res->framework->offload_optimizer &&
                        hw->node.host_bw_Bps > 0 && hw->node.host_mem_bw_Bps > 0;
    /* offloading by module (the scenario's offload-modules, kept in every config) and by share
     * are two ways of moving the same activations: the rules take one */
    space.offload_act = res->framework->offload_activations && hw->node.host_bw_Bps > 0 &&
                        !base->offload_modules;
    space.cp_offered = res->cp_comm >= 0;
    space.full_keeps_no_input = plan_offload_by_module(res->framework) &&
                                base->recompute_method == RECOMPUTE_UNIFORM;
    recompute_sets(&space, base->attention == ATTENTION_FLASH);
    space.fixed = plan_fixed_of(base);
    dispatchers_of(&space, base, hw, o->dispatchers);
    return space;
}

struct plan_fixed plan_fixed_of(const struct scenario *base)
{
#define FIXED(key, field) (base->origin[key].order == SCN_ORDER_SET ? base->field : 0)
    struct plan_fixed f = {FIXED(SCN_TP, tp), FIXED(SCN_PP, pp), FIXED(SCN_VP, vp),
                           FIXED(SCN_CP, cp), FIXED(SCN_EP, ep), FIXED(SCN_ETP, etp),
                           FIXED(SCN_MICRO_BATCH, micro_batch),
                           FIXED(SCN_MOE_DISPATCHER, moe_dispatcher + 1)};
#undef FIXED
    return f;
}

size_t plan_fixed_text(const struct plan_fixed *f, char *buf, size_t len)
{
    const struct {
        const char *name;
        int v;
    } dims[] = {{"tp", f->tp}, {"pp", f->pp}, {"vp", f->vp}, {"cp", f->cp},
                {"ep", f->ep}, {"etp", f->etp}, {"micro-batch", f->micro_batch}};
    size_t used = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < sizeof dims / sizeof dims[0] && used < len; i++)
        if (dims[i].v)
            used += (size_t)snprintf(buf + used, len - used, "%s%s=%d", used ? " " : "",
                                     dims[i].name, dims[i].v);
    if (f->dispatcher && used < len)
        used += (size_t)snprintf(buf + used, len - used, "%smoe-dispatcher=%s", used ? " " : "",
                                 scn_choice_name(SCN_MOE_DISPATCHER, f->dispatcher - 1));
    return used;
}


void plan_space_cands_release(struct plan_cands *c)
{
    mem_free(c->v);
    for (size_t l = 0; c->lay && l < c->nlay; l++)
        mem_free(c->lay[l].peak);
    mem_free(c->lay);
    memset(c, 0, sizeof *c);
}
