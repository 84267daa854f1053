/* costmodel: from model + hardware + parallel layout to op times, links and memory.
 *
 * Conventions (one micro-batch of b samples of s tokens, on one GPU of a stage):
 *   tokens      T  = b * s / cp             (context parallelism splits the sequence)
 *   sharded     Ts = T / tp with sequence parallelism, else T (norms, residuals, dropout)
 *   matmul work = layer FLOPs (flops.c) * b / (tp * cp)   (MoE experts: balanced over EP)
 * Activations and P2P tensors are 2 bytes per element (bf16/fp16; fp8 training keeps bf16
 * activations), gradients are kept and reduced in the parameters' 16-bit type unless
 * grad-reduce-fp32 (Megatron-Core's default; --accumulate-allreduce-grads-in-fp32 makes them
 * fp32), the optimizer is mixed-precision Adam.  Every constant below says where it comes from. */
#include "costmodel.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "collective.h"
#include "flops.h"

#define ACT_BYTES 2.0   /* bytes per activation element */
#define GRAD_BYTES 4.0  /* fp32 gradient buffers (Megatron main_grad) */
#define PARAM_BYTES 2.0 /* bf16/fp16 working weights */
/* Mixed-precision Adam keeps an fp32 master copy and two fp32 moments: 12 bytes/param
 * (Rajbhandari et al., ZeRO, 2020, sec. 3.1: with 2-byte weights and gradients, their
 * 16 bytes/param). */
#define OPT_STATE_BYTES 12.0
/* HBM traffic of one Adam update per parameter: read grad 4, master 4, m 4, v 4; write master
 * 4, m 4, v 4, bf16 weight 2 = 30 bytes (fused multi-tensor Adam). */
#define ADAM_TRAFFIC_BYTES 30.0

/* Element-wise HBM traffic per layer forward, in units of Ts*h elements: two norms (read +
 * write) 4, two residual adds (2 reads + 1 write) 6 = 10 (Korthikanti et al. 2022 count the
 * same tensors for memory; bias-add and dropout are fused into them in Megatron). */
#define ELEMWISE_FWD_UNITS 10.0
/* Backward element-wise work reads activations and gradients: about twice the forward. */
#define ELEMWISE_BWD_FACTOR 2.0
/* Flash-attention backward runs 5 matmuls of the forward's size where the forward runs 2
 * (it recomputes the scores): 2.5x (Dao, FlashAttention-2, 2023, sec. 3.1). */
#define FLASH_BWD_FACTOR 2.5
/* Fused scale-mask-softmax of unfused attention: read + write 2-byte scores = 4 bytes per
 * score forward, twice that backward (Megatron's fused_softmax kernels). */
#define SOFTMAX_FWD_BYTES 4.0

/* Kernels per transformer layer with Megatron-Core / Transformer Engine fusions: forward
 * norm, QKV, rotary or none, attention, projection, bias-dropout-add, norm, FC1, activation,
 * FC2, bias-dropout-add, plus TP collectives (4 with TP); backward input gradient about twice
 * the forward's, weight gradient one GEMM per weight matrix.  Unfused attention adds two
 * batched GEMMs and the softmax each way. */
#define KERNELS_FWD 11.0
#define KERNELS_BWD 20.0
#define KERNELS_WGT 4.0
#define KERNELS_TP 4.0
#define KERNELS_UNFUSED_ATTN 3.0
/* Megatron's gradient buckets hold max(40M, 1M x dp) parameters
 * (megatron/core/distributed/distributed_data_parallel.py, bucket_size). */
#define DP_BUCKET_PARAMS 40e6

struct cm_ctx {
    const struct scenario *scn;
    const struct model *m;
    const struct hardware *hw;
    const struct cm_config *cfg;
    double peak;                   /* FLOP/s for the dtype (matmuls) */
    double attn_peak;              /* attention runs in 16-bit even in fp8 training */
    struct coll_level nvlink, net; /* achievable levels */
    int flash;                     /* flash attention (else unfused softmax attention) */
};

/* ---- placement ------------------------------------------------------------------------ */

/* A group of n GPUs whose consecutive members are `stride` ranks apart (Megatron's rank
 * order tp-cp-ep-dp-pp makes every group such a strided set). */
static struct coll_group group_of(int n, int stride, int per_node_gpus)
{
    struct coll_group g = {n, 1};
    if (stride < per_node_gpus) {
        int fit = per_node_gpus / stride;
        g.per_node = fit < n ? fit : n;
        while (g.per_node > 1 && n % g.per_node != 0) /* keep the two-level split exact */
            g.per_node--;
    }
    return g;
}

/* NCCL's choice between its ring and tree algorithms (the cheaper closed form).  The two-level
 * hierarchical algorithm of collective.c is not a candidate: NCCL has no hierarchical
 * reduce-scatter / all-gather, its rings cross node boundaries at the network's per-GPU rate. */
static double coll_time(const struct cm_ctx *c, enum coll_op op, double bytes, struct coll_group g)
{
    double ring = coll_ring.time(op, bytes, &g, &c->nvlink, &c->net);
    double tree = coll_tree.time(op, bytes, &g, &c->nvlink, &c->net);
    return ring < tree ? ring : tree;
}

/* ---- time of work --------------------------------------------------------------------- */

static double matmul_s(const struct cm_ctx *c, double flops)
{
    if (flops <= 0)
        return 0.0;
    return flops /
           (c->peak * c->hw->gpu.training_eff * hw_curve_eval(&c->hw->gpu.matmul_eff, flops));
}

static double attention_s(const struct cm_ctx *c, double flops)
{
    if (flops <= 0)
        return 0.0;
    return flops /
           (c->attn_peak * c->hw->gpu.training_eff * hw_curve_eval(&c->hw->gpu.attn_eff, flops));
}

static double memory_s(const struct cm_ctx *c, double bytes)
{
    return bytes / (c->hw->gpu.hbm_bw_Bps * c->hw->gpu.mem_eff);
}

/* Matmul time of one dense MLP of `flops` total: SwiGLU runs a fused gate+up GEMM (2/3 of the
 * work) and a down GEMM (1/3); GELU-style MLPs two equal GEMMs. */
static double mlp_s(const struct cm_ctx *c, double flops, int n_gemms_split)
{
    if (flops <= 0)
        return 0.0;
    if (c->m->act == ACT_SWIGLU)
        return matmul_s(c, flops * 2.0 / 3.0 / n_gemms_split) * n_gemms_split +
               matmul_s(c, flops / 3.0 / n_gemms_split) * n_gemms_split;
    return 2.0 * n_gemms_split * matmul_s(c, flops / 2.0 / n_gemms_split);
}

/* ---- one transformer layer ------------------------------------------------------------- */

struct layer_cost {
    double gemm_fwd;           /* forward matmul time (also the weight-gradient time) */
    double core_fwd, core_bwd; /* attention core */
    double elem_fwd;           /* element-wise forward time */
    double tp_fwd, tp_bwd;     /* TP collective time per pass (before overlap) */
    double cp_fwd, cp_bwd;     /* CP ring exchange time per pass */
    double ep_fwd, ep_bwd;     /* EP all-to-all time per pass */
    double act_bytes;          /* activation memory kept for the backward, attention core aside */
    double core_act_bytes;     /* unfused attention's scores and softmax output */
    double input_bytes;        /* the layer input (what full recompute keeps) */
};

static void layer_cost(const struct cm_ctx *c, int layer, struct layer_cost *lc)
{
    const struct model *m = c->m;
    const struct cm_config *cfg = c->cfg;
    const struct scenario *scn = c->scn;
    double b = cfg->micro_batch, t = cfg->tp, cp = cfg->cp, h = m->hidden;
    double T = b * cfg->seq / cp;
    double Ts = scn->sp ? T / t : T;
    double share = b / (t * cp); /* of one sequence's layer FLOPs on this GPU */
    int moe = model_layer_is_moe(m, layer);
    struct layer_flops lf;
    flops_layer_fwd(m, layer, cfg->seq, c->flash, &lf);
    memset(lc, 0, sizeof *lc);

    /* Matmuls: fused QKV, output projection, MLP (or shared experts), router, experts. */
    lc->gemm_fwd = matmul_s(c, lf.qkv * share) + matmul_s(c, lf.attn_out * share) +
                   mlp_s(c, lf.mlp * share, 1) + matmul_s(c, lf.router * share);
    if (moe && lf.experts > 0) {
        /* Each GPU computes its share of the experts' work (balanced routing); its local
         * experts run as one grouped GEMM per matrix, sized by the tokens it receives. */
        double local_experts = (double)m->experts / cfg->ep;
        double work = lf.experts * share;
        lc->gemm_fwd += local_experts * mlp_s(c, work / local_experts, 1);
    }
    /* Attention core. */
    double core_flops = lf.attn_core * share;
    if (c->flash) {
        lc->core_fwd = attention_s(c, core_flops);
        lc->core_bwd = FLASH_BWD_FACTOR * lc->core_fwd;
    } else {
        /* Two strided-batched GEMMs over (sample, head) -- Q K^T and scores x V, each half the
         * core's FLOPs; one batched launch fills the GPU like a single GEMM of that size --
         * plus the fused scale-mask-softmax over every score. */
        double scores = b * (m->heads / t) * (double)cfg->seq * cfg->seq / cp;
        lc->core_fwd =
            2.0 * matmul_s(c, core_flops / 2.0) + memory_s(c, SOFTMAX_FWD_BYTES * scores);
        lc->core_bwd = 2.0 * lc->core_fwd;
    }
    /* Element-wise: norms and residuals on the (sequence-parallel) shard, the activation
     * function on the TP shard of the MLP, the token permutation of MoE layers. */
    double act_elems;
    int ffn = moe ? 0 : m->ffn;
    double mlp_inner =
        moe ? (double)m->top_k * m->expert_ffn + (double)m->shared_experts * m->shared_expert_ffn
            : ffn;
    act_elems = T * mlp_inner / t * (m->act == ACT_SWIGLU ? 3.0 : 2.0);
    double elem_bytes = ACT_BYTES * (ELEMWISE_FWD_UNITS * Ts * h + act_elems);
    if (moe)
        elem_bytes += ACT_BYTES * 4.0 * Ts * m->top_k * h; /* permute + unpermute, r + w */
    if (scn->dropout) /* two hidden dropouts write a 1-byte mask and the output; unfused
                       * attention's dropout reads and writes the scores once more */
        elem_bytes +=
            2.0 * (1.0 + ACT_BYTES) * Ts * h +
            (c->flash ? 0.0 : 5.0 * b * (m->heads / t) * (double)cfg->seq * cfg->seq / cp);
    if (scn->dtype == DT_FP8) /* FP8 GEMM inputs are cast from bf16: read 2 + write 1 byte
                               * each (Transformer Engine; weights cast once per step) */
        elem_bytes += 3.0 * (T * 2.0 * h + T * (h + mlp_inner) / t);
    lc->elem_fwd = memory_s(c, elem_bytes);

    /* Tensor parallelism: per layer two all-reduces (forward and backward), or with sequence
     * parallelism two all-gathers + two reduce-scatters each way, of the full [T, h]
     * activation (Korthikanti et al. 2022, fig. 5); with SP the backward re-gathers the two
     * inputs for the weight gradients. */
    if (cfg->tp > 1) {
        struct coll_group g = group_of(cfg->tp, 1, cfg->gpus_per_node);
        double bytes = ACT_BYTES * T * h;
        if (scn->sp) {
            double ag = coll_time(c, COLL_ALL_GATHER, bytes, g);
            double rs = coll_time(c, COLL_REDUCE_SCATTER, bytes, g);
            lc->tp_fwd = 2.0 * (ag + rs);
            lc->tp_bwd = 2.0 * (ag + rs) + 2.0 * ag;
        } else {
            double ar = coll_time(c, COLL_ALL_REDUCE, bytes, g);
            lc->tp_fwd = 2.0 * ar;
            lc->tp_bwd = 2.0 * ar;
        }
    }
    /* Context parallelism: a ring of cp-1 steps passing this rank's K and V (backward: K, V
     * and their gradients) around the CP group (Megatron / TE "p2p" context parallelism). */
    if (cfg->cp > 1) {
        struct coll_group g = group_of(cfg->cp, cfg->tp, cfg->gpus_per_node);
        const struct coll_level *lv = g.per_node >= g.n ? &c->nvlink : &c->net;
        double kv = 2.0 * ACT_BYTES * T * (double)m->kv_heads * m->head_dim / t;
        lc->cp_fwd = (cfg->cp - 1) * (lv->lat_s + kv / lv->bw_Bps);
        lc->cp_bwd = 2.0 * lc->cp_fwd;
    }
    /* Expert parallelism: dispatch and combine all-to-alls of the routed tokens' hidden
     * states, each way (Megatron-Core MoE token dispatcher). */
    if (moe && cfg->ep > 1) {
        struct coll_group g = group_of(cfg->ep, cfg->etp, cfg->gpus_per_node);
        double bytes = ACT_BYTES * Ts * m->top_k * h;
        lc->ep_fwd = 2.0 * coll_time(c, COLL_ALL_TO_ALL, bytes, g);
        lc->ep_bwd = lc->ep_fwd;
    }

    /* Activation memory kept for the backward (Korthikanti et al. 2022, sec. 4.1, generalised
     * to GQA and gated MLPs): replicated unless SP -- two norm inputs, QKV input, MLP input
     * (4 x Ts h x 2 bytes) and, with dropout, two 1-byte masks -- and TP-sharded -- Q, K, V,
     * attention output, MLP hidden and activation output.  Unfused attention adds the scores
     * and softmax output (4 bytes per score; 5 with the dropout mask); flash attention keeps
     * O(T) statistics only.  With dropout and ffn = 4h this is the paper's
     * s b h (10 + 24/t + 5 a s / (h t)). */
    double kv_dim = (double)m->kv_heads * m->head_dim, q_dim = (double)m->heads * m->head_dim;
    double shard = ACT_BYTES * T / t *
                   (q_dim + 2.0 * kv_dim + (double)m->heads * m->v_head_dim +
                    mlp_inner * (m->act == ACT_SWIGLU ? 3.0 : 2.0));
    double repl = (ACT_BYTES * 4.0 + (scn->dropout ? 2.0 : 0.0)) * Ts * h;
    if (moe)
        repl += ACT_BYTES * Ts * m->top_k * h; /* permuted tokens */
    double scores = b * (m->heads / t) * (double)cfg->seq * cfg->seq / cp;
    lc->core_act_bytes = c->flash ? 0.0 : (scn->dropout ? 5.0 : 4.0) * scores;
    lc->act_bytes = repl + shard;
    lc->input_bytes = ACT_BYTES * Ts * h;
}

/* Exposed time of a communication that may overlap `hide` seconds of compute: overlapped, the
 * pair takes max + interference x min (hardware.h), of which `hide` is already counted. */
static double exposed(const struct cm_ctx *c, double comm, double hide, int overlap)
{
    if (!overlap || comm <= 0)
        return comm;
    double hi = comm > hide ? comm : hide, lo = comm > hide ? hide : comm;
    return hi + c->hw->gpu.overlap_interference * lo - hide;
}

/* ---- one virtual stage ------------------------------------------------------------------ */

static void stage_cost(const struct cm_ctx *c, int stage, struct cm_stage *st)
{
    const struct cm_config *cfg = c->cfg;
    const struct scenario *scn = c->scn;
    const struct model *m = c->m;
    int part = scn_model_part(scn, stage); /* DualPipe: stages s and pp+s are one part */
    scn_stage_layers(scn, stage, &st->first_layer, &st->layers);
    st->has_embedding = part == 0;
    st->has_head = part == scn_model_parts(scn) - 1;
    memset(&st->fwd, 0, sizeof st->fwd);
    memset(&st->bwd, 0, sizeof st->bwd);
    memset(&st->wgt, 0, sizeof st->wgt);
    st->act_bytes_mb = 0;
    for (int l = st->first_layer; l < st->first_layer + st->layers; l++) {
        struct layer_cost lc;
        layer_cost(c, l, &lc);
        double k_fwd =
            KERNELS_FWD + (cfg->tp > 1 ? KERNELS_TP : 0) + (c->flash ? 0 : KERNELS_UNFUSED_ATTN);
        double k_bwd = KERNELS_BWD + (cfg->tp > 1 ? KERNELS_TP : 0) +
                       (c->flash ? 0 : 2 * KERNELS_UNFUSED_ATTN);
        double launch = c->hw->gpu.kernel_overhead_s;
        double f_compute = lc.gemm_fwd + lc.core_fwd + lc.elem_fwd + k_fwd * launch;
        st->fwd.compute += f_compute;
        st->fwd.tp += exposed(c, lc.tp_fwd, lc.gemm_fwd, scn->overlap_tp_comm);
        st->fwd.cp += exposed(c, lc.cp_fwd, lc.core_fwd, 1); /* the ring always overlaps */
        st->fwd.ep += lc.ep_fwd;
        /* Backward input gradient: matmuls 1x forward, attention core backward, element-wise
         * 2x; weight gradient: matmuls 1x forward. */
        st->bwd.compute +=
            lc.gemm_fwd + lc.core_bwd + ELEMWISE_BWD_FACTOR * lc.elem_fwd + k_bwd * launch;
        st->wgt.compute += lc.gemm_fwd + KERNELS_WGT * launch;
        st->bwd.tp += exposed(c, lc.tp_bwd, 2.0 * lc.gemm_fwd, scn->overlap_tp_comm);
        st->bwd.cp += exposed(c, lc.cp_bwd, lc.core_bwd, 1);
        st->bwd.ep += lc.ep_bwd;
        switch (scn->recompute) {
        case RECOMPUTE_FULL: /* the whole forward again, communication included */
            st->bwd.recompute += f_compute;
            st->bwd.tp += exposed(c, lc.tp_fwd, lc.gemm_fwd, scn->overlap_tp_comm);
            st->bwd.ep += lc.ep_fwd;
            st->act_bytes_mb += lc.input_bytes;
            break;
        case RECOMPUTE_SELECTIVE: /* the attention core only; flash attention already does */
            st->bwd.recompute += c->flash ? 0.0 : lc.core_fwd;
            st->act_bytes_mb += lc.act_bytes;
            break;
        case RECOMPUTE_NONE: st->act_bytes_mb += lc.act_bytes + lc.core_act_bytes; break;
        }
    }
    double b = cfg->micro_batch, t = cfg->tp, h = m->hidden;
    double T = b * cfg->seq / cfg->cp, Ts = scn->sp ? T / t : T;
    if (st->has_embedding) /* token + position lookup: write (and later read) Ts x h */
        st->fwd.compute += memory_s(c, 2.0 * ACT_BYTES * Ts * h);
    if (st->has_head) {
        /* Final norm, vocab-parallel logits GEMM, fused cross-entropy over fp32 logits
         * (read bf16, write fp32, read back: ~10 bytes per logit each way). */
        double head = flops_head_fwd(m, cfg->seq) * b / (t * cfg->cp);
        double logits = T * (double)m->vocab / t;
        double f = matmul_s(c, head) + memory_s(c, 10.0 * logits + 4.0 * ACT_BYTES * Ts * h);
        st->fwd.compute += f;
        st->bwd.compute += matmul_s(c, head) + memory_s(c, 10.0 * logits);
        st->wgt.compute += matmul_s(c, head);
        st->act_bytes_mb += 4.0 * logits; /* fp32 logits / softmax kept for the backward */
        if (cfg->tp > 1) { /* all-reduce of max, sum and target logit: 3 x T x 4 bytes */
            struct coll_group g = group_of(cfg->tp, 1, cfg->gpus_per_node);
            st->fwd.tp += 3.0 * coll_time(c, COLL_ALL_REDUCE, 4.0 * T, g);
        }
    }
}

/* ---- parameters and data parallelism --------------------------------------------------- */

static void stage_params(const struct cm_ctx *c, struct cm_stage *st)
{
    const struct model *m = c->m;
    const struct cm_config *cfg = c->cfg;
    double dense = 0, expert = 0;
    for (int l = st->first_layer; l < st->first_layer + st->layers; l++) {
        double all = model_params_layer(m, l);
        double routed = model_layer_is_moe(m, l)
                            ? (double)m->experts * model_weights_mlp(m, m->expert_ffn)
                            : 0.0;
        dense += (all - routed) / cfg->tp;
        expert += routed / ((double)cfg->ep * cfg->etp);
    }
    if (st->has_embedding)
        dense += model_params_embedding(m) / cfg->tp;
    if (st->has_head)
        dense += (model_params_head(m) + model_params_final_norm(m)) / cfg->tp;
    st->dense_params = dense;
    st->expert_params = expert;
    st->params = dense + expert;
}

static double grad_bytes(const struct scenario *scn)
{
    return scn->grad_reduce_fp32 || scn->dtype == DT_FP32 || scn->dtype == DT_TF32 ? 4.0 : 2.0;
}

/* Copies of each model part in one pipeline: 1, or 2 under DualPipe (scenario.h). */
static int part_copies(const struct scenario *scn)
{
    return scn_model_parts(scn) < scn->pp * scn->vp ? 2 : 1;
}

/* The group a chunk's gradients are reduced (and its parameters gathered) over: its
 * data-parallel replicas, and under DualPipe the other copy of the same part too (on the
 * mirror pipeline rank, so across nodes whenever the pipeline is): twice the ranks, the same
 * ranks per node. */
static struct coll_group replica_group(const struct cm_ctx *c, int n, int stride)
{
    struct coll_group g = group_of(n, stride, c->cfg->gpus_per_node);
    g.n *= part_copies(c->scn);
    return g;
}

/* Parameters whose optimizer state one GPU holds: all of its own, or with the distributed
 * optimizer its shard over the replica group (so DualPipe's second copy costs no optimizer
 * memory there: two parts over twice the ranks). */
static double optimizer_shard(const struct costmodel *cm, const struct scenario *scn, double dense,
                              double expert)
{
    if (!scn->dist_opt)
        return dense + expert;
    int copies = part_copies(scn);
    return dense / (copies * cm->cfg.dp) + expert / (copies * cm->cfg.edp);
}

static double dp_sync_s(const struct cm_ctx *c, const struct cm_stage *st)
{
    const struct cm_config *cfg = c->cfg;
    enum coll_op op = c->scn->dist_opt ? COLL_REDUCE_SCATTER : COLL_ALL_REDUCE;
    double t = 0;
    struct coll_group dense = replica_group(c, cfg->dp, cfg->tp * cfg->cp);
    struct coll_group expert = replica_group(c, cfg->edp, cfg->etp * cfg->ep);
    if (dense.n > 1)
        t += coll_time(c, op, grad_bytes(c->scn) * st->dense_params, dense);
    if (expert.n > 1 && st->expert_params > 0)
        t += coll_time(c, op, grad_bytes(c->scn) * st->expert_params, expert);
    return t;
}

/* ---- configuration rules ---------------------------------------------------------------- */

static const enum scn_key explicit_keys[] = {
    SCN_FORWARD,   SCN_BACKWARD_INPUT, SCN_BACKWARD_WEIGHT, SCN_ACTIVATION,
    SCN_OPTIMIZER, SCN_LINK_LATENCY,   SCN_LINK_BANDWIDTH};

static enum sim_status check_rules(struct scenario *scn, const struct model *m,
                                   const struct hardware *hw, struct cm_config *cfg,
                                   struct sim_error *err)
{
    for (size_t i = 0; i < sizeof explicit_keys / sizeof explicit_keys[0]; i++)
        if (scn_given(scn, explicit_keys[i]))
            return scn_rule_error(scn, explicit_keys[i], err,
                                  "%s is an explicit cost; with model= the cost model derives it "
                                  "(remove one of the two)",
                                  scn_key_name(explicit_keys[i]));
    if (hw->gpu.peak_flops[scn->dtype] <= 0)
        return scn_rule_error(scn, SCN_DTYPE, err, "dtype=%s: %s has no %s peak",
                              hw_dtype_name(scn->dtype), hw->gpu.name, hw_dtype_name(scn->dtype));
    if (!scn_given(scn, SCN_LAYERS))
        scn->layers = m->layers;
    else if (scn->layers != m->layers)
        return scn_rule_error(scn, SCN_LAYERS, err, "layers=%d differs from the model's %d layers",
                              scn->layers, m->layers);
    if (scn->seq <= 0)
        return scn_rule_error(scn, SCN_SEQ, err, "the cost model needs seq (tokens per sample)");

    int tp = scn->tp, pp = scn->pp, cp = scn->cp, ep = scn->ep, etp = scn->etp;
    long dense_ranks = (long)tp * cp * pp, expert_ranks = (long)ep * etp * pp;
    long least = dense_ranks > expert_ranks ? dense_ranks : expert_ranks;
    if (!scn->gpus && least > (1L << 24))
        return scn_rule_error(scn, SCN_PP, err,
                              "tp*cp*pp = %ld GPUs for one replica is above the limit of %ld",
                              least, 1L << 24);
    int gpus = scn->gpus ? scn->gpus : (int)least;
    long unit = pp * (long)(tp * cp > ep * etp ? tp * cp : ep * etp);
    /* The rule ties gpus to every parallel size: blame the value set last (--set pp=3 on a
     * scenario that gives gpus=), gpus itself when they all come from one file. */
    static const enum scn_key layout_keys[] = {SCN_GPUS, SCN_PP, SCN_TP, SCN_CP, SCN_EP, SCN_ETP};
    enum scn_key culprit = SCN_GPUS;
    for (size_t i = 1; i < sizeof layout_keys / sizeof layout_keys[0]; i++)
        culprit = scn_culprit(scn, culprit, layout_keys[i]);
    if (gpus % unit != 0 || gpus % dense_ranks != 0 || gpus % expert_ranks != 0)
        return scn_rule_error(
            scn, culprit, err,
            "gpus=%d is not a multiple of pp*max(tp*cp, ep*etp) = %d*max(%d*%d, %d*%d) "
            "= %ld with integral dp = gpus/(tp*cp*pp) and expert-dp = gpus/(pp*ep*etp)",
            gpus, pp, tp, cp, ep, etp, unit);
    if (m->heads % tp != 0)
        return scn_rule_error(scn, SCN_TP, err, "heads=%d of %s are not divisible by tp=%d",
                              m->heads, m->name, tp);
    if (m->kv_heads % tp != 0)
        return scn_rule_error(scn, SCN_TP, err, "kv-heads=%d of %s are not divisible by tp=%d",
                              m->kv_heads, m->name, tp);
    if (ep > 1 && m->experts == 0)
        return scn_rule_error(scn, SCN_EP, err,
                              "ep=%d but %s has no experts: expert parallelism needs MoE", ep,
                              m->name);
    if (m->experts > 0 && m->experts % ep != 0)
        return scn_rule_error(scn, SCN_EP, err, "experts=%d of %s are not divisible by ep=%d",
                              m->experts, m->name, ep);
    if (scn->sp && tp == 1)
        return scn_rule_error(scn, SCN_SP, err,
                              "sp=true needs tp > 1 (sequence parallelism splits along "
                              "the tensor-parallel group)");
    if (cp > 1 && scn->seq % (2 * cp) != 0)
        return scn_rule_error(scn, SCN_CP, err,
                              "seq=%d is not divisible by 2*cp=%d (context parallelism splits each "
                              "sequence into 2*cp chunks for load balance)",
                              scn->seq, 2 * cp);
    int dp = gpus / (int)dense_ranks, edp = gpus / (int)expert_ranks;
    long per_step = (long)scn->micro_batch * dp;
    if (scn->global_batch) {
        if (scn->global_batch % per_step != 0)
            return scn_rule_error(
                scn, SCN_GLOBAL_BATCH, err,
                "global-batch=%d is not divisible by micro-batch*dp = %d*%d = %ld",
                scn->global_batch, scn->micro_batch, dp, per_step);
        int mbs = (int)(scn->global_batch / per_step);
        if (scn_given(scn, SCN_MICROBATCHES) && scn->microbatches != mbs)
            return scn_rule_error(
                scn, SCN_MICROBATCHES, err,
                "microbatches=%d contradicts global-batch=%d / (micro-batch=%d * dp=%d) "
                "= %d",
                scn->microbatches, scn->global_batch, scn->micro_batch, dp, mbs);
        scn->microbatches = mbs;
    } else {
        long long global = (long long)scn->microbatches * per_step;
        if (global > (1 << 26))
            return scn_rule_error(scn, SCN_MICROBATCHES, err,
                                  "microbatches=%d x micro-batch=%d x dp=%d = %lld samples per "
                                  "step, above the limit of %d",
                                  scn->microbatches, scn->micro_batch, dp, global, 1 << 26);
        scn->global_batch = (int)global;
    }
    *cfg = (struct cm_config){gpus,
                              tp,
                              pp,
                              scn->vp,
                              cp,
                              ep,
                              etp,
                              dp,
                              edp,
                              scn->micro_batch,
                              scn->global_batch,
                              scn->microbatches,
                              scn->seq,
                              hw->node.gpus};
    return SIM_OK;
}

/* ---- assembly ---------------------------------------------------------------------------- */

static enum sim_status to_time(double s, simtime_t *out, struct sim_error *err)
{
    simtime_t t = simtime_from_s(s);
    if (t < 0)
        return err_set(err, SIM_EFAIL, NULL, 0, "a derived time of %g s does not fit the clock", s);
    *out = t;
    return SIM_OK;
}

static double parts_total(const struct cm_parts *p)
{
    return p->compute + p->recompute + p->tp + p->cp + p->ep;
}

/* Every op, reduction and optimizer step of the step run one after another, in seconds: no
 * schedule takes longer (P2P transfers aside). */
static double serial_s(const struct costmodel *cm, const struct scenario *scn,
                       const struct pipe_setup *setup)
{
    int stages = scn->pp * scn->vp;
    double m = sched_chunk_mbs(setup->schedule, &setup->sp), serial = 0;
    for (int s = 0; s < stages; s++) {
        const struct cm_stage *cs = &cm->stages[s];
        serial += m * (parts_total(&cs->fwd) + parts_total(&cs->bwd) + parts_total(&cs->wgt)) +
                  cs->dp_sync_s;
    }
    for (int r = 0; r < scn->pp; r++)
        serial += cm->rank_opt_s[r] + cm->rank_param_ag_s[r];
    return serial;
}

/* Refuse, as bad input, a step longer than the clock can sum (SCN_MAX_STEP_S), before any
 * duration is put on it: bounded by serial_s (the P2P transfers are checked once the links
 * are known, check_p2p_size).  A huge seq or batch makes it; blame whichever of them was set
 * last. */
static enum sim_status check_step_size(const struct costmodel *cm, const struct scenario *scn,
                                       const struct pipe_setup *setup, struct sim_error *err)
{
    double serial = serial_s(cm, scn, setup);
    if (serial <= SCN_MAX_STEP_S)
        return SIM_OK;
    enum scn_key key =
        scn_culprit(scn, scn_culprit(scn, SCN_SEQ, SCN_MICRO_BATCH), SCN_GLOBAL_BATCH);
    return scn_rule_error(scn, key, err,
                          "one step could take %.3g s of simulated time (seq=%d, micro-batch=%d, "
                          "global-batch=%d), above the limit of 10^6 s",
                          serial, scn->seq, scn->micro_batch, cm->cfg.global_batch);
}

/* The same limit with the pipeline's P2P transfers counted, each over the slowest link (a
 * hardware file with a network of a few bits per second makes them the whole step): 2 sends
 * per stage and micro-batch, as the explicit-cost check in scenario.c counts them.  The link
 * speed comes from the hardware file, the message size from seq and micro-batch: blame the
 * one set last (the hardware= line when they share a file). */
static enum sim_status check_p2p_size(const struct costmodel *cm, const struct scenario *scn,
                                      const struct pipe_setup *setup, struct sim_error *err)
{
    double slowest = 0, bw = 0;
    for (int l = 0; l < 2 * scn->pp; l++) {
        const struct pipe_link *k = &setup->links[l];
        double t = simtime_to_s(k->lat) + (k->bw_Bps > 0 ? setup->act_bytes / k->bw_Bps : 0);
        if (t > slowest) {
            slowest = t;
            bw = k->bw_Bps;
        }
    }
    double transfers = 2.0 * scn->pp * scn->vp * scn->microbatches;
    double total = serial_s(cm, scn, setup) + transfers * slowest;
    if (scn->pp < 2 || total <= SCN_MAX_STEP_S)
        return SIM_OK;
    enum scn_key key = scn_culprit(scn, SCN_HARDWARE, scn_culprit(scn, SCN_SEQ, SCN_MICRO_BATCH));
    return scn_rule_error(scn, key, err,
                          "%.0f P2P transfers of %.3g bytes over links of %.3g bytes/s (%s) "
                          "could take %.3g s of simulated time, above the limit of 10^6 s",
                          transfers, setup->act_bytes, bw, cm->hw->name, transfers * slowest);
}

/* Links between neighbouring pipeline ranks: rank r and r+1 are tp*cp*dp apart in Megatron's
 * order; they share a node when both fall in the same block of gpus_per_node ranks. */
static void fill_links(const struct cm_ctx *c, struct costmodel *cm, struct pipe_setup *setup)
{
    const struct cm_config *cfg = c->cfg;
    long stride = (long)cfg->tp * cfg->cp * cfg->dp;
    for (int r = 0; r < cfg->pp; r++) {
        for (int dir = 0; dir < 2; dir++) {
            int peer = dir == 0 ? (r + 1) % cfg->pp : (r + cfg->pp - 1) % cfg->pp;
            int same = (r * stride) / cfg->gpus_per_node == (peer * stride) / cfg->gpus_per_node;
            const struct coll_level *lv = same ? &c->nvlink : &c->net;
            setup->links[pipe_link_id(cfg->pp, r, peer)] =
                (struct pipe_link){simtime_from_s(lv->lat_s), lv->bw_Bps};
            if (r == 0 && dir == 0)
                cm->pp_link_intra[0] = same;
            if (r == cfg->pp - 1 && dir == 0)
                cm->pp_link_intra[1] = same;
        }
    }
}

static enum sim_status build(struct costmodel *cm, struct scenario *scn, struct pipe_setup *setup,
                             struct sim_error *err);

/* A referenced file that cannot be read at all is the referring line's problem: say which
 * scenario line named it.  Errors inside the file keep pointing into that file. */
static enum sim_status blame_ref(const struct scenario *scn, enum scn_key key,
                                 struct sim_error *err)
{
    if (err->line > 0 || err->status != SIM_EINPUT)
        return err->status;
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    return scn_rule_error(scn, key, err, "%s file %s: %s", scn_key_name(key),
                          key == SCN_MODEL ? scn->model_path : scn->hardware_path, msg);
}

enum sim_status cm_build(struct costmodel *cm, struct scenario *scn, struct pipe_setup *setup,
                         struct sim_error *err)
{
    memset(cm, 0, sizeof *cm);
    memset(setup, 0, sizeof *setup);
    enum sim_status st = model_load(&cm->model, scn->model_path, err);
    if (st != SIM_OK)
        return blame_ref(scn, SCN_MODEL, err);
    if (!scn->hardware_path[0])
        return scn_rule_error(scn, SCN_MODEL, err,
                              "model= needs hardware= (a hardware file) as well");
    st = hw_load(&cm->hw_owned, scn->hardware_path, err);
    if (st != SIM_OK)
        return blame_ref(scn, SCN_HARDWARE, err);
    cm->hw = &cm->hw_owned;
    cm->owns_hw = 1;
    return build(cm, scn, setup, err);
}

enum sim_status cm_build_preloaded(struct costmodel *cm, struct scenario *scn,
                                   const struct model *model, const struct hardware *hw,
                                   struct pipe_setup *setup, struct sim_error *err)
{
    memset(cm, 0, sizeof *cm);
    memset(setup, 0, sizeof *setup);
    cm->model = *model; /* plain data */
    cm->hw = hw;        /* shared, read-only */
    return build(cm, scn, setup, err);
}

static enum sim_status build(struct costmodel *cm, struct scenario *scn, struct pipe_setup *setup,
                             struct sim_error *err)
{
    enum sim_status st;
    if ((st = check_rules(scn, &cm->model, cm->hw, &cm->cfg, err)) != SIM_OK ||
        (st = scn_check(scn, err)) != SIM_OK)
        goto fail;

    struct cm_ctx c = {
        scn,
        &cm->model,
        cm->hw,
        &cm->cfg,
        cm->hw->gpu.peak_flops[scn->dtype],
        scn->dtype == DT_FP8 ? cm->hw->gpu.peak_flops[DT_BF16] : cm->hw->gpu.peak_flops[scn->dtype],
        {cm->hw->node.nvlink_bw_Bps * cm->hw->node.nvlink_eff, cm->hw->node.nvlink_lat_s},
        {cm->hw->net.nic_bw_Bps * cm->hw->net.eff / cm->hw->net.oversubscription,
         cm->hw->net.lat_s},
        scn->attention != ATTENTION_UNFUSED};
    cm->peak_flops = c.peak;
    cm->tp_spans_nodes = cm->cfg.tp > cm->cfg.gpus_per_node;

    struct sched_params sp = {scn->pp, scn->vp, scn->microbatches, scn->vp_group,
                              scn_split_backward(scn)};
    if ((st = pipe_setup_init(setup, sched_find(scn->schedule), &sp, err)) != SIM_OK)
        goto fail;
    int stages = scn->pp * scn->vp;
    cm->stages = mem_calloc((size_t)stages, sizeof *cm->stages);
    cm->rank_opt_s = mem_calloc((size_t)scn->pp, sizeof(double));
    cm->rank_param_ag_s = mem_calloc((size_t)scn->pp, sizeof(double));
    if (!cm->stages || !cm->rank_opt_s || !cm->rank_param_ag_s) {
        st = err_set(err, SIM_EFAIL, NULL, 0, "out of memory for %d stages", stages);
        goto fail;
    }
    for (int s = 0; s < stages; s++) {
        struct cm_stage *cs = &cm->stages[s];
        stage_cost(&c, s, cs);
        stage_params(&c, cs);
        cs->dp_sync_s = dp_sync_s(&c, cs);
    }
    /* Optimizer and parameter gather per rank: over the rank's chunks. */
    for (int r = 0; r < scn->pp; r++) {
        double dense = 0, expert = 0;
        for (int ch = 0; ch < scn->vp; ch++) {
            dense += cm->stages[scn_stage_of(scn, r, ch)].dense_params;
            expert += cm->stages[scn_stage_of(scn, r, ch)].expert_params;
        }
        cm->rank_opt_s[r] =
            memory_s(&c, ADAM_TRAFFIC_BYTES * optimizer_shard(cm, scn, dense, expert));
        struct coll_group dense_g = replica_group(&c, cm->cfg.dp, cm->cfg.tp * cm->cfg.cp);
        struct coll_group expert_g = replica_group(&c, cm->cfg.edp, cm->cfg.etp * cm->cfg.ep);
        if (scn->dist_opt && !scn->overlap_param_gather && dense_g.n > 1)
            cm->rank_param_ag_s[r] =
                coll_time(&c, COLL_ALL_GATHER, PARAM_BYTES * dense, dense_g) +
                (expert_g.n > 1 && expert > 0
                     ? coll_time(&c, COLL_ALL_GATHER, PARAM_BYTES * expert, expert_g)
                     : 0.0);
    }
    if ((st = check_step_size(cm, scn, setup, err)) != SIM_OK)
        goto fail;
    /* F = forward; B = input gradient (+ recompute, communication); W = weight gradient.
     * Unsplit, the pipeline runs B + W as one backward op. */
    for (int s = 0; s < stages; s++) {
        const struct cm_stage *cs = &cm->stages[s];
        /* The last gradient bucket's reduction cannot hide behind the chunk's backward. */
        double bucket = DP_BUCKET_PARAMS > 1e6 * cm->cfg.dp ? DP_BUCKET_PARAMS : 1e6 * cm->cfg.dp;
        double tail = cs->params > bucket ? cs->dp_sync_s * bucket / cs->params : cs->dp_sync_s;
        if ((st = to_time(tail, &setup->stage_dp_tail[s], err)) != SIM_OK ||
            (st = to_time(parts_total(&cs->fwd), &setup->stage_fwd[s], err)) != SIM_OK ||
            (st = to_time(parts_total(&cs->bwd), &setup->stage_bwd[s], err)) != SIM_OK ||
            (st = to_time(cs->fwd.tp + cs->fwd.cp + cs->fwd.ep, &setup->stage_fwd_comm[s], err)) !=
                SIM_OK ||
            (st = to_time(cs->bwd.tp + cs->bwd.cp + cs->bwd.ep, &setup->stage_bwd_comm[s], err)) !=
                SIM_OK ||
            (st = to_time(parts_total(&cs->wgt), &setup->stage_wgt[s], err)) != SIM_OK ||
            (st = to_time(cs->dp_sync_s, &setup->stage_dp[s], err)) != SIM_OK)
            goto fail;
    }
    for (int r = 0; r < scn->pp; r++)
        if ((st = to_time(cm->rank_opt_s[r], &setup->rank_opt[r], err)) != SIM_OK ||
            (st = to_time(cm->rank_param_ag_s[r], &setup->rank_param_ag[r], err)) != SIM_OK)
            goto fail;
    setup->overlap_interference = c.hw->gpu.overlap_interference;
    setup->overlap_grad_reduce = scn->overlap_grad_reduce;
    setup->blocking_p2p = !scn->overlap_p2p;
    /* P2P: the [s/cp, b, h] activation; each TP rank sends only its 1/tp slice with sequence
     * parallelism (Megatron-Core) or the scatter-gather optimisation (Narayanan et al. 2021,
     * sec. 4.1; the receiver's NVLink all-gather is not modelled). */
    double T = (double)cm->cfg.micro_batch * cm->cfg.seq / cm->cfg.cp;
    int sliced = scn->sp || scn->p2p_scatter_gather;
    cm->p2p_bytes = ACT_BYTES * T * cm->model.hidden / (sliced ? cm->cfg.tp : 1);
    setup->act_bytes = cm->p2p_bytes;
    fill_links(&c, cm, setup);
    if ((st = check_p2p_size(cm, scn, setup, err)) != SIM_OK)
        goto fail;
    setup->jitter_cv = scn->jitter;
    setup->seed = scn->seed;

    /* FLOPs for MFU (model FLOPs: 3 x forward, full attention, as Megatron and PaLM report)
     * and HFU (adds what recompute executes again). */
    double samples = cm->cfg.global_batch;
    cm->model_flops_step = flops_model_step(&cm->model, cm->cfg.seq, (long)samples, 0);
    double recompute = 0;
    if (scn->recompute == RECOMPUTE_FULL)
        recompute = samples * (flops_model_fwd(&cm->model, cm->cfg.seq, 0) -
                               flops_head_fwd(&cm->model, cm->cfg.seq));
    else if (scn->recompute == RECOMPUTE_SELECTIVE) {
        struct layer_flops lf;
        for (int l = 0; l < cm->model.layers; l++) {
            flops_layer_fwd(&cm->model, l, cm->cfg.seq, 0, &lf);
            recompute += samples * lf.attn_core;
        }
    }
    cm->hw_flops_step = cm->model_flops_step + recompute;
    return SIM_OK;
fail:
    pipe_setup_release(setup);
    cm_release(cm);
    return st;
}

void cm_release(struct costmodel *cm)
{
    mem_free(cm->stages);
    mem_free(cm->rank_opt_s);
    mem_free(cm->rank_param_ag_s);
    if (cm->owns_hw)
        hw_release(&cm->hw_owned);
    cm->hw = NULL;
    cm->owns_hw = 0;
    cm->stages = NULL;
    cm->rank_opt_s = cm->rank_param_ag_s = NULL;
}

void cm_rank_memory(const struct costmodel *cm, const struct scenario *scn,
                    const struct pipe_result *res, int rank, struct cm_rank_memory *out)
{
    double dense = 0, expert = 0, act = 0;
    for (int ch = 0; ch < scn->vp; ch++) {
        const struct cm_stage *cs = &cm->stages[scn_stage_of(scn, rank, ch)];
        dense += cs->dense_params;
        expert += cs->expert_params;
        act += cs->act_bytes_mb;
    }
    memset(out, 0, sizeof *out);
    out->weights = PARAM_BYTES * (dense + expert);
    out->grads = grad_bytes(scn) * (dense + expert);
    out->optimizer = OPT_STATE_BYTES * optimizer_shard(cm, scn, dense, expert);
    out->act_per_mb = act / scn->vp;
    out->activations = out->act_per_mb * res->peak_inflight[rank];
    out->total = out->weights + out->grads + out->optimizer + out->activations;
    out->oom = out->total > cm->hw->gpu.hbm_bytes;
}
