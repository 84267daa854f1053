/* cm_stage: one virtual stage's F, B and W ops from its layers' costs (cm_work.c): each layer's
 * work and the communication it cannot hide, the embedding, the output layer and loss, the
 * MTP modules, sharded data parallelism's traffic and activation offload (see cm_internal.h).
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "cm_quant.h"
#include "cm_tp.h"
#include "flops.h"

/* Backward element-wise work reads activations and gradients: about twice the forward. */
#define ELEMWISE_BWD_FACTOR 2.0

/* ---- one virtual stage ------------------------------------------------------------------ */

/* PyTorch FSDP1's passes over one unit's whole gradient (`params` of them on this GPU) each
 * micro-batch, read in torch/distributed/fsdp (_runtime_utils.py, _post_backward_hook and
 * _reduce_grad; _flat_param.py): autograd concatenates the views' gradients (the parameters'
 * type, pb) into the flat gradient, on the compute stream (read and write, 2 pb); then, on
 * FSDP's post-backward stream beside the next unit's backward, the copy to the reduce type
 * when it is wider (pb read + 4 written) and the default hook's pre-divide in place (read and
 * write in the reduce type).  The shard's post-divide and accumulation, 1/N of that, are left
 * out. */
static double flat_grad_passes_s(const struct cm_ctx *c, double params, double bwd_work)
{
    double gb = cm_grad_bytes(c->scn), pb = c->cfg->param_bytes;
    double cast = gb > pb ? pb + gb : 0.0;
    double side = cm_memory_s(c, (cast + 2.0 * gb) * params);
    return cm_memory_s(c, 2.0 * pb * params) + cm_exposed(c, side, bwd_work, 1);
}

/* FSDP2's HBM passes around one unit's collectives, `params` of them on this GPU gathered at
 * `pb` bytes each, `gathers` all-gathers in the forward and `regathers` in the backward
 * (torch/distributed/fsdp/_fully_shard/_fsdp_collectives.py: foreach_all_gather,
 * foreach_all_gather_copy_out, foreach_reduce; PyTorch 2.5-2.6, as torchtitan ran it):
 *  - copy-in, on the all-gather copy-in stream beside the work: the fp32 shard cast to the
 *    gathered type (4 read, pb written; none when that is fp32 too: _fsdp_param.py,
 *    FSDPParam.all_gather_inputs, casts only to a param_dtype other than the shard's) and
 *    copied into the flat all-gather input (pb read, pb written), 1/shard of the unit;
 *  - copy-out, on the compute stream, which waits for it: split_with_sizes_copy of the whole
 *    gathered unit into its unsharded parameters, pb read and pb written;
 *  - the reduce-scatter's copy-in (chunk_cat) when each backward reduces: the unsharded
 *    gradients (the parameters' type) read and written in the reduce type, on the
 *    reduce-scatter stream beside the next unit's backward.  With an fp32 reduce type NCCL's
 *    AVG divides: no divide pass. */
static void fsdp2_copy_passes(const struct cm_ctx *c, double params, double pb, double gathers,
                              double regathers, double fwd_work, double bwd_work,
                              struct cm_stage *st)
{
    double cast = pb < FP32_BYTES ? FP32_BYTES + pb : 0.0;
    double copy_in = cm_memory_s(c, (cast + 2.0 * pb) * params / c->cfg->shard);
    double copy_out = cm_memory_s(c, 2.0 * pb * params);
    double rs_in = c->cfg->defer_grad_sync
                       ? 0.0
                       : cm_memory_s(c, (c->cfg->param_bytes + cm_grad_bytes(c->scn)) * params);
    st->fwd.compute += gathers * copy_out + cm_exposed(c, gathers * copy_in, fwd_work, 1);
    st->bwd.compute +=
        regathers * copy_out + cm_exposed(c, regathers * copy_in + rs_in, bwd_work, 1);
}

/* FSDP2 under pipelining keeps each backward's gradients unsharded, in the reduce type
 * (FSDPParam.to_accumulated_grad_if_needed, accumulate_unsharded_grad_if_needed): the first
 * micro-batch's 16-bit gradients are cast to fp32 (2 read, 4 written), each later one added in
 * (4 + 2 read, 4 written); with a reduce type the parameters' own (16-bit, or fp32 in an fp32
 * run) autograd adds into .grad from the second (3 x pb).  Per micro-batch on average, for
 * `params` of them on this GPU. */
static double unsharded_accumulation_s(const struct cm_ctx *c, double params)
{
    double m = c->cfg->microbatches, gb = cm_grad_bytes(c->scn), pb = c->cfg->param_bytes;
    double bytes = gb > pb ? (pb + gb + (m - 1.0) * (2.0 * gb + pb)) / m : 3.0 * pb * (m - 1.0) / m;
    return cm_memory_s(c, bytes * params);
}

/* ZeRO-2/3 traffic of one unit (a layer, the embedding or the head) inside the ops, as FSDP
 * and DeepSpeed run it: the gather of the unit's weights is prefetched during the previous
 * unit's forward, so it hides behind about one unit's work -- except the chunk's first unit,
 * which waits for it; the backward gathers again (when the forward resharded) and
 * reduce-scatters the unit's gradients behind its own backward work.  Under pipeline
 * parallelism (cfg->defer_grad_sync) the gather happens once a step and the reduction after
 * the last backward. */
static void add_shard_traffic(const struct cm_ctx *c, double dense, double expert,
                              double param_bytes, int first_unit, double fwd_work, double bwd_work,
                              struct cm_stage *st)
{
    double gather, reduce;
    cm_shard_comm(c, dense, expert, param_bytes, &gather, &reduce);
    double gathers = 1.0;
    if (c->cfg->defer_grad_sync) { /* one gather a step, kept to its end; the gradients are
                                    * reduced once, after the last backward (cm_dp_sync_s) */
        gather /= c->cfg->microbatches;
        gathers /= c->cfg->microbatches;
        reduce = 0.0;
        if (c->cfg->fsdp2)
            st->wgt.compute += unsharded_accumulation_s(c, dense + expert);
    }
    if (c->cfg->fsdp2)
        fsdp2_copy_passes(c, dense + expert, param_bytes, gathers,
                          c->cfg->reshard ? gathers : 0.0, fwd_work, bwd_work, st);
    if (gather + reduce <= 0)
        return;
    st->fwd.dp += first_unit ? gather : cm_exposed(c, gather, fwd_work, 1);
    st->bwd.dp += cm_exposed(c, (c->cfg->reshard ? gather : 0.0) + reduce, bwd_work, 1);
    if (c->cfg->flat_param_grads)
        st->bwd.compute += flat_grad_passes_s(c, dense + expert, bwd_work);
}

/* Activation offload of one layer: `bytes` of what it keeps go to host memory during the
 * layer's forward and come back during the backward, each transfer on its own stream behind
 * that pass's work; host memory holds them meanwhile.  Fine-grained offloading
 * (offload-modules) keeps one layer's groups on the GPU -- the last of the first backward
 * chunk, whose reload would stall it -- and reloads the next layer's while one's backward
 * runs (post_warmup_callback and bulk_reload_group in Megatron-Core's
 * fine_grained_activation_offload.py, d98e8a6): two layers' offloaded bytes are back at once. */
static void add_offload(const struct cm_ctx *c, double bytes, double fwd_work, double bwd_work,
                        struct cm_stage *st)
{
    if (bytes <= 0)
        return;
    /* over the host link, and into the host's memory: the slower of the two (GB200's Grace
     * takes 205 GB/s of a GPU's writes over a 225 GB/s NVLink-C2C) */
    const struct hw_node *n = &c->hw->node;
    double bw = n->host_mem_bw_Bps > 0 ? fmin(n->host_bw_Bps, n->host_mem_bw_Bps) : n->host_bw_Bps;
    double move = bytes / bw;
    st->fwd.host += cm_exposed(c, move, fwd_work, 1);
    st->bwd.host += cm_exposed(c, move, bwd_work, 1);
    st->act_bytes_mb -= bytes;
    if (c->cfg->offload_modules)
        st->reloaded_bytes = fmax(st->reloaded_bytes, 2.0 * bytes);
}

/* A layer's forward TP time left exposed: overlapped with its GEMMs (overlap-tp-comm) but what
 * the overlap leaves in line (tp_fwd_inline), else all of it. */
static double tp_fwd_exposed(const struct cm_ctx *c, const struct layer_cost *lc)
{
    return cm_exposed(c, lc->tp_fwd - lc->tp_fwd_inline, lc->gemm_fwd, c->scn->overlap_tp_comm) +
           lc->tp_fwd_inline;
}

/* Element-wise work of the backward: twice the forward's (each op reads its output's gradient
 * and what it saved, and writes its input's gradient), but the token permutations: the
 * backward of a permutation is the inverse permutation of the gradient, one read and one
 * write like the forward's (moe_utils.py permute / unpermute and sort_chunks_by_idxs, whose
 * backward calls the same gather or scatter, Megatron-Core core_v0.12.0 to core_v0.14.0). */
static double elem_bwd_s(const struct layer_cost *lc)
{
    return ELEMWISE_BWD_FACTOR * (lc->elem_fwd - lc->permute_fwd - lc->expert_bias_fwd) +
           lc->permute_fwd + lc->expert_bias_bwd + lc->grad_sum_bwd;
}

/* The model's first layer of each kind, as the report's per-layer table shows it (stages are
 * costed in model order). */
static void keep_view(int layer, const struct layer_cost *lc, struct cm_layer_view *v)
{
    *v = (struct cm_layer_view){.layer = layer,
                                .stage = -1, /* cm_stage_cost names it */
                                .gemm_fwd = lc->gemm_fwd,
                                .gemm_bwd = 2.0 * lc->gemm_fwd,
                                .attn_fwd = lc->core_fwd + lc->dsa_fwd, /* DSA's indexer */
                                .attn_bwd = lc->core_bwd + lc->dsa_bwd + lc->dsa_wgrad,
                                .elem_fwd = lc->elem_fwd + lc->mla_qkv + lc->cp_fwd,
                                .elem_bwd = elem_bwd_s(lc) + lc->mla_qkv + lc->cp_bwd,
                                .quant_fwd = lc->quant_fwd,
                                .quant_bwd = lc->quant_bwd,
                                .router_fwd = lc->router_fwd,
                                .router_bwd = lc->router_fwd,
                                .tp_fwd = lc->tp_fwd,
                                .tp_bwd = lc->tp_bwd,
                                .cp_fwd = lc->cp.ring_fwd + lc->cp.block_fwd,
                                .cp_bwd = lc->cp.ring_bwd + lc->cp.block_bwd,
                                .ep_fwd = lc->ep_fwd,
                                .ep_bwd = lc->ep_bwd};
}

/* A MoE layer's dispatch and combine (`ep` seconds, half each) as moe-shared-expert-overlap
 * runs them: Megatron-Core's SharedExpertMLP (megatron/core/transformer/moe/shared_experts.py,
 * NVIDIA/Megatron-LM d98e8a6) computes the shared experts' FC1 and activation on a side stream
 * while the dispatch moves the tokens and FC2 while the combine does; autograd runs their
 * backward on the same stream, beside the exchanges' backward.  `shared` is the shared
 * experts' matmul time of the pass; FC1 is 2/3 of a gated MLP's work, 1/2 of another's.
 * Under sequence parallelism their TP gather and reduce-scatter (`tp`, charged as TP time)
 * run on that stream too (pre_forward_comm / post_forward_comm), half beside each exchange.
 * What is left of each exchange after its half of the side stream's work is exposed. */
static double ep_beside_shared(const struct cm_ctx *c, double ep, double shared, double tp)
{
    if (!c->scn->moe_shared_expert_overlap)
        return ep;
    double fc1 = shared * (c->m->act == ACT_SWIGLU ? 2.0 / 3.0 : 0.5);
    double i = c->cfg->ep_overlap_interference;
    return cm_exposed_at(i, ep / 2.0, fc1 + tp / 2.0) +
           cm_exposed_at(i, ep / 2.0, shared - fc1 + tp / 2.0);
}

/* A layer's forward as its stage's F op runs it: work (with its launch gaps), of which the
 * gaps, and the communication it leaves exposed. */
struct layer_forward {
    double compute, launch, tp, cp, ep;
};

/* What a layer's recompute adds to the stage's backward, and what it keeps of the forward's
 * activations (`kept_acts`: their parts, which offload-modules reads unless the layer is
 * recomputed whole and keeps only its input).  Returns 1 when the layer is recomputed whole. */
static int add_layer_recompute(const struct cm_ctx *c, int i, const struct layer_parts *lp,
                               const struct layer_cost *lc, const struct layer_forward *f,
                               struct recompute_cost *r, const struct layer_acts **kept_acts,
                               struct cm_stage *st)
{
    const struct scenario *scn = c->scn;
    int n = scn->recompute_num_layers;
    *kept_acts = &lc->acts;
    if (scn->recompute == RECOMPUTE_FULL &&
        (scn->recompute_method == RECOMPUTE_UNIFORM || i < n)) {
        /* the whole forward again, communication included */
        st->bwd.recompute += f->compute;
        st->bwd.launch += f->launch;
        st->bwd.tp += f->tp;
        st->bwd.cp += f->cp;
        st->bwd.ep += f->ep;
        /* uniform: each group of n layers keeps its input; block: each layer its own */
        if (scn->recompute_method == RECOMPUTE_BLOCK || i % n == 0)
            st->act_bytes_mb += lc->input_bytes;
        return 1;
    }
    if (scn->recompute == RECOMPUTE_SELECTIVE) {
        *r = cm_selective_recompute(c, lp, lc);
        st->bwd.recompute += r->work;
        st->bwd.launch += r->launch;
        st->bwd.ep += r->ep;
        st->bwd.cp += r->cp;
        st->bwd.tp += cm_exposed(c, r->tp, r->work, scn->overlap_tp_comm);
        st->act_bytes_mb += r->kept;
        *kept_acts = &r->acts;
    } else {
        st->act_bytes_mb += cm_acts_total(&lc->acts);
    }
    return 0;
}

/* The layer's row of the chunk's offload bookkeeping (add_chunk_offload): the work its
 * transfers hide behind, and what each of its groups offloads. */
static void add_offload_row(const struct cm_ctx *c, int layer, int i, int full,
                            double fwd_work, double bwd_work, double kept_bytes,
                            const struct layer_acts *kept_acts)
{
    struct cm_offload_row *row = &c->offload_rows[i];
    row->fwd_work = fwd_work;
    row->bwd_work = bwd_work;
    if (c->cfg->offload_modules && !full) { /* a fully recomputed layer keeps no module input */
        struct layer_parts lp = layer_parts_of(c->m, layer);
        cm_offload_groups(c, &lp, kept_acts, row->group);
        return;
    }
    memset(row->group, 0, sizeof row->group);
    if (!c->cfg->offload_modules)
        row->group[0] = c->scn->offload_activations * kept_bytes;
}

/* Add transformer layer `layer` -- the i-th of its chunk -- to the chunk's ops: F = forward;
 * B = input gradient (+ recompute, communication); W = weight gradient.  What it would offload
 * waits in c->offload_rows[i] for the chunk's other layers (add_chunk_offload). */
static void add_layer(const struct cm_ctx *c, int layer, int i, int first_unit, int narrow,
                      struct layer_memo *memo, struct cm_stage *st)
{
    const struct scenario *scn = c->scn;
    double dense, expert;
    const struct layer_cost *lc = cm_layer_cost(c, layer, narrow, memo, &dense, &expert);
    /* The report's first layer of each kind (layer_cost just looked the kind up). */
    if (c->layer_view && c->layer_view[memo->kind].layer < 0)
        keep_view(layer, lc, &c->layer_view[memo->kind]);
    double eager = c->cfg->eager_launch_s, graphed = GRAPH_KERNEL_GAP_S;
    double f_launch = lc->eager.fwd * eager + lc->graphed.fwd * graphed;
    double f_compute = lc->gemm_fwd + lc->core_fwd + lc->elem_fwd + lc->mla_qkv + lc->cp_fwd +
                       lc->quant_fwd + lc->router_fwd + lc->lora_fwd + lc->dsa_fwd + f_launch;
    /* the weight gradient: every matmul's once more, or under LoRA the adapters' alone (the
     * base is frozen: no weight-gradient GEMM, nothing to sum or reduce) */
    int lora = scn_adapters(scn);
    double w_launch = lora ? 0.0 : lc->eager.wgt * eager + lc->graphed.wgt * graphed;
    double wgrad = lora ? lc->lora_gemm : lc->gemm_fwd; /* its GEMMs, what TP and DP hide behind */
    st->fwd.compute += f_compute;
    st->fwd.launch += f_launch;
    st->bwd.launch += lc->eager.bwd * eager + lc->graphed.bwd * graphed;
    st->wgt.launch += w_launch;
    struct layer_forward f = {
        .compute = f_compute,
        .launch = f_launch,
        .tp = tp_fwd_exposed(c, lc),
        .cp = cm_exposed(c, lc->cp.ring_fwd, lc->core_fwd, 1) + lc->cp.block_fwd,
        .ep = ep_beside_shared(c, lc->ep_fwd, lc->mlp_gemm, lc->tp_shared_fwd),
    };
    st->fwd.tp += f.tp;
    st->fwd.cp += f.cp;
    st->fwd.ep += f.ep;
    /* Backward input gradient: matmuls 1x forward, attention core backward, element-wise 2x;
     * weight gradient: matmuls 1x forward. */
    st->bwd.compute += lc->gemm_fwd + lc->core_bwd + elem_bwd_s(lc) + lc->mla_qkv + lc->cp_bwd +
                       lc->quant_bwd + lc->router_fwd + lc->lora_gemm + lc->dora_bwd + lc->dsa_bwd +
                       lc->eager.bwd * eager + lc->graphed.bwd * graphed;
    st->wgt.compute += wgrad + lc->dsa_wgrad + w_launch;
    if (scn->overlap_tp_comm)
        st->bwd.tp += cm_exposed(c, lc->tp_bwd - lc->tp_bwd_inline, lc->gemm_fwd + wgrad, 1) +
                      lc->tp_bwd_inline;
    else
        st->bwd.tp += lc->tp_bwd - (c->cfg->overlap_tp_backward ? lc->tp_bwd_hidden : 0.0);
    st->bwd.cp += cm_exposed(c, lc->cp.ring_bwd, lc->core_bwd, 1) + lc->cp.block_bwd;
    st->bwd.ep += ep_beside_shared(c, lc->ep_bwd, 2.0 * lc->mlp_gemm, lc->tp_shared_bwd);
    double kept_before = st->act_bytes_mb;
    const struct layer_acts *kept_acts;
    struct recompute_cost r;
    struct layer_parts lp = layer_parts_of(c->m, layer);
    int full = add_layer_recompute(c, i, &lp, lc, &f, &r, &kept_acts, st);
    double bwd_work = lc->gemm_fwd + wgrad + lc->core_bwd + (full ? f_compute : 0.0);
    add_shard_traffic(c, dense, expert, cm_param_gather_bytes(c, narrow), first_unit, f_compute,
                      bwd_work, st);
    if (c->offload_rows)
        add_offload_row(c, layer, i, full, f_compute, bwd_work, st->act_bytes_mb - kept_before,
                        kept_acts);
}

/* The chunk's offload once its layers are costed: offload-fraction leaves the chunk's last
 * groups in forward order on the GPU -- int(groups x (1 - fraction)) of them, as Megatron-Core
 * counts them (post_warmup_callback in fine_grained_activation_offload.py, d98e8a6) -- and each
 * layer's remaining bytes move behind its work. */
static void add_chunk_offload(const struct cm_ctx *c, int layers, struct cm_stage *st)
{
    struct cm_offload_row *rows = c->offload_rows;
    int kept = 0;
    if (c->scn->offload_fraction < 1.0) {
        int groups = 0;
        for (int l = 0; l < layers; l++)
            for (int g = 0; g < CM_OFFLOAD_GROUPS; g++)
                groups += rows[l].group[g] > 0.0;
        kept = (int)(groups * (1.0 - c->scn->offload_fraction));
    }
    for (int l = layers - 1; l >= 0 && kept > 0; l--)
        for (int g = CM_OFFLOAD_GROUPS - 1; g >= 0 && kept > 0; g--)
            if (rows[l].group[g] > 0.0) {
                rows[l].group[g] = 0.0;
                kept--;
            }
    for (int l = 0; l < layers; l++) {
        double bytes = 0.0;
        for (int g = 0; g < CM_OFFLOAD_GROUPS; g++)
            bytes += rows[l].group[g];
        add_offload(c, bytes, rows[l].fwd_work, rows[l].bwd_work, st);
        st->offloaded_bytes_mb += bytes;
    }
}

/* HBM bytes per logit of the loss (the `cross-entropy` key), counted pass by pass over the
 * logits the head's GEMM writes (16-bit: 2 bytes; an fp32 run's act_bytes, whose .float() makes
 * no copy and whose gradient needs no cast back: cm_fp32_cast_bytes): forward, backward, and
 * kept for the backward.
 *  - unfused, Megatron's VocabParallelCrossEntropy in PyTorch ops (tensor_parallel/
 *    cross_entropy.py, core_r0.8.0; Megatron-LM's mpu of 2021-22 runs the same passes): an
 *    fp32 copy (read 2, write 4), the max (4), the max subtracted (8), exp (8) and its sum (4)
 *    in place, the division (8): 38; backward the softmax times the loss gradient in place (8)
 *    and the cast back to 16 bits (6): 14; the fp32 softmax kept (4);
 *  - fused, cross_entropy_loss_fusion (fusions/fused_cross_entropy.py, core_v0.12.0): the same
 *    steps in three jit-fused kernels, the copy with the max (6; an fp32 run's max reads 4),
 *    the exp and sum (8), the division (8): 22; backward one kernel reading the softmax and
 *    writing the gradient in bf16 whatever the run (grad_input.to(torch.bfloat16)): 6, and in
 *    an fp32 run autograd's cast of it to the logits' fp32 (6 more; an fp16 run's bf16 -> fp16
 *    cast is not counted);
 *  - te, cross_entropy_fusion_impl te (Transformer Engine v2.4 triton/cross_entropy.py): an
 *    online-softmax pass (read 2), then a pass writing the gradient into the logits (read 2,
 *    write 2): 6; backward a scale in place: 4; the 16-bit logits kept (2);
 *  - torch, F.cross_entropy on an fp32 copy (torchtitan): the copy (6) and log-softmax (8): 14;
 *    backward the zeroed NLL gradient (4), log-softmax's backward (12) and the cast back (6):
 *    22; the fp32 log-softmax kept (4). */
struct loss_bytes {
    double fwd, bwd, kept;
};

static struct loss_bytes loss_bytes_of(const struct cm_config *cfg, enum scn_cross_entropy ce)
{
    double a = cfg->act_bytes, cast = cm_fp32_cast_bytes(cfg);
    switch (ce) {
    case CE_FUSED: {
        double copy = cast > 0 ? FP32_BYTES : 0.0; /* the fp32 copy the max's kernel writes */
        double back = a > BF16_BYTES ? BF16_BYTES + a : 0.0;
        return (struct loss_bytes){a + copy + 4.0 * FP32_BYTES, FP32_BYTES + BF16_BYTES + back,
                                   FP32_BYTES};
    }
    case CE_UNFUSED:
        return (struct loss_bytes){cast + 8.0 * FP32_BYTES, cast + 2.0 * FP32_BYTES, FP32_BYTES};
    case CE_TE: return (struct loss_bytes){3.0 * a, 2.0 * a, a};
    case CE_TORCH:
        return (struct loss_bytes){cast + 2.0 * FP32_BYTES, cast + 4.0 * FP32_BYTES, FP32_BYTES};
    }
    assert(0 && "cross-entropy: a value the key table does not have");
    return (struct loss_bytes){0.0, 0.0, 0.0};
}

/* Add the LM head to the chunk: final norm, vocab-parallel logits GEMM and the loss over the
 * logits (loss_bytes).  An MTP module computes logits and a loss of its own through the same
 * head. */
static void add_head(const struct cm_ctx *c, int shard_weights, struct cm_stage *st)
{
    const struct cm_config *cfg = c->cfg;
    const struct model *m = c->m;
    double b = cfg->micro_batch, t = cfg->tp, h = m->hidden;
    double T = b * cfg->seq / cfg->cp, Ts = c->scn->sp ? T / t : T;
    double head = flops_head_fwd(m, cfg->seq) * b / (t * cfg->cp);
    double logits = T * (double)m->vocab / t;
    int mx = c->scn->fp8_output_proj; /* MXFP8 output layer: the run's MXFP8 rate */
    double gemm = cm_gemm_s(c, mx ? &c->linear : &c->wide, head);
    double quant_f = 0.0, quant_b = 0.0;
    if (mx) /* its input (T x h, after the final norm) and the logits' gradient quantized */
        cm_head_quant_bytes(c, T * h, logits, &quant_f, &quant_b);
    struct loss_bytes loss = loss_bytes_of(cfg, (enum scn_cross_entropy)c->scn->cross_entropy);
    double f = gemm + cm_memory_s(c, loss.fwd * logits + 4.0 * cfg->act_bytes * Ts * h + quant_f);
    st->fwd.compute += f;
    st->bwd.compute += gemm + cm_memory_s(c, loss.bwd * logits + quant_b);
    /* Megatron-Core's defer_embedding_wgrad_compute: the head's weight-gradient GEMMs of up to
     * wgrad_deferral_limit micro-batches (0: all) wait for the pipeline flush, when the last
     * stage idles while the others finish.  Every micro-batch here costs the same, so the
     * deferred share is spread over them: a mean over the step. */
    double mbs = c->cfg->microbatches, limit = c->scn->wgrad_deferral_limit;
    double deferred =
        !c->scn->defer_head_wgrad ? 0.0 : limit > 0 && limit < mbs ? limit / mbs : 1.0;
    double head_wgrad = scn_adapters(c->scn) ? 0.0 : gemm; /* LoRA: the head is frozen */
    st->deferred_wgt += deferred * head_wgrad;
    st->wgt.compute += (1.0 - deferred) * head_wgrad;
    st->act_bytes_mb += loss.kept * logits;
    if (shard_weights)
        add_shard_traffic(c, (model_params_head(m) + model_params_final_norm(m)) / t, 0.0,
                          cfg->param_bytes, 0, f, 2.0 * gemm, st);
    if (cfg->tp > 1) { /* all-reduce of max, sum and target logit: 3 x T x 4 bytes */
        struct coll_group g = c->groups->tp.g;
        st->fwd.tp += 3.0 * cm_coll_time(c, COLL_ALL_REDUCE, 4.0 * T, g);
        cm_head_tp_comm(c, g, T, gemm, st);
    }
}

/* Add the multi-token-prediction modules (DeepSeek-V3 report sec. 2.2; Megatron-Core builds
 * them on the last pipeline stage): each normalises the hidden state and the next token's
 * embedding, projects the concatenation 2h -> h, runs one transformer layer like the model's
 * last (a hybrid model: the layers of its mtp-pattern) and computes logits and a loss through
 * the shared head.  With mtp-repeated-layer the modules are one module run mtp-layers times
 * (Megatron-Core's mtp_use_repeated_layer): the same work, its weights counted once
 * (costmodel.c). */
static void add_mtp(const struct cm_ctx *c, struct layer_memo *memo, struct cm_stage *st)
{
    const struct cm_config *cfg = c->cfg;
    const struct model *m = c->m;
    double b = cfg->micro_batch, t = cfg->tp, h = m->hidden;
    double T = b * cfg->seq / cfg->cp, Ts = c->scn->sp ? T / t : T;
    double tp_fwd, tp_bwd;
    cm_mtp_tp_comm(c, T, &tp_fwd, &tp_bwd);
    for (int k = 0; k < st->mtp_modules; k++) {
        /* eh_proj 2h -> h, or DeepSeek-V4's e_proj and per-stream h_proj (flops.c) */
        double proj = cm_module_matmul_s(c, LM_MTP, 2.0 * T * flops_mtp_proj_weights(m) / t);
        double norms = cm_memory_s(c, 2.0 * cfg->act_bytes * 2.0 * Ts * h);
        /* the shifted tokens' lookup, as the first stage's (its gradient: costmodel.c), and
         * the concatenation of the two normed inputs (read and written, 2h wide) */
        double lookup = cm_memory_s(c, 2.0 * cfg->act_bytes * Ts * h);
        double concat = cm_memory_s(c, 2.0 * cfg->act_bytes * 2.0 * Ts * h);
        st->fwd.compute += proj + norms + lookup + concat;
        st->fwd.tp += tp_fwd;
        st->bwd.tp += tp_bwd;
        cm_lookup_tp_comm(c, T, st);
        st->bwd.compute += proj + ELEMWISE_BWD_FACTOR * norms;
        /* the two normed inputs (kept for the projection's weight gradient: not under LoRA,
         * whose adapters leave eh_proj frozen) and the projection */
        int lora = scn_adapters(c->scn);
        st->wgt.compute += lora ? 0.0 : proj;
        st->act_bytes_mb += cfg->act_bytes * (lora ? 1.0 : 3.0) * Ts * h;
        add_shard_traffic(c, 2.0 * h * h / t, 0.0, cfg->param_bytes, 0, proj, 2.0 * proj, st);
        int n = model_mtp_module_layers(m);
        for (int j = 0; j < n; j++) { /* its layer as the model's, or bf16 (bf16-modules) */
            int l = model_mtp_layer(m, j);
            int narrow = cm_layer_is_narrow(c, l) && !(c->scn->bf16_modules & LM_MTP);
            add_layer(c, l, st->layers + k * n + j, 0, narrow, memo, st);
        }
        add_head(c, 0, st);
    }
}

int cm_stage_mtp_layers(const struct model *m, const struct cm_stage *st)
{
    return st->mtp_modules * model_mtp_module_layers(m);
}

int cm_stage_repeats(const struct cm_ctx *c, const struct cm_stage *prev, int stage)
{
    const struct layout_stage *ls = &c->layout->stage[stage];
    if (prev->has_embedding || prev->has_head || ls->has_embedding || ls->has_head ||
        ls->layers != prev->layers)
        return 0;
    for (int k = 0; k < ls->layers; k++) {
        int a = prev->first_layer + k, b = ls->first_layer + k;
        if (model_layer_kind(c->m, a, c->cfg->seq) != model_layer_kind(c->m, b, c->cfg->seq) ||
            cm_layer_is_narrow(c, a) != cm_layer_is_narrow(c, b))
            return 0;
    }
    return 1;
}

/* P2P scatter-gather without sequence parallelism: an activation or gradient crosses the
 * pipeline in 1/tp slices and the receiver all-gathers it over its TP group before using it,
 * on the compute stream (Megatron-LM's p2p_communication.py, gather_split_1d_tensor, since
 * 2021; DeepSpeed's pipeline engine, PartitionedTensor.full()).  Every stage but the model's
 * first receives activations, every stage but its last gradients: T tokens of h each.
 * DeepSpeed's engine also cuts a stage's own output to 1/tp after the forward, keeping only
 * the graph, and all-gathers it back before the backward so that autograd sees the whole
 * tensor (deepspeed/runtime/pipe/engine.py, _exec_forward_pass / _exec_backward_pass, with
 * is_pipe_partitioned = is_grad_partitioned = is_model_parallel; read at v0.5.4, bc7778ea5,
 * the release of MT-NLG's autumn-2021 runs): one more gather per backward on those stages. */
static void add_p2p_gather(const struct cm_ctx *c, double T, struct cm_stage *st)
{
    const struct cm_config *cfg = c->cfg;
    if (!c->scn->p2p_scatter_gather || c->scn->sp || cfg->tp < 2 || cfg->pp < 2)
        return;
    struct coll_group g = c->groups->tp.g;
    double gather = cm_coll_time(c, COLL_ALL_GATHER, cfg->act_bytes * T * c->m->hidden, g);
    if (!st->has_embedding)
        st->fwd.tp += gather;
    if (!st->has_head)
        st->bwd.tp += cfg->regather_own_output ? 2.0 * gather : gather;
}

void cm_stage_cost(const struct cm_ctx *c, int stage, struct cm_stage *st)
{
    const struct cm_config *cfg = c->cfg;
    const struct scenario *scn = c->scn;
    const struct model *m = c->m;
    const struct layout_stage *ls = &c->layout->stage[stage];
    st->first_layer = ls->first_layer;
    st->layers = ls->layers;
    st->has_embedding = ls->has_embedding;
    st->has_head = ls->has_head;
    st->mtp_modules = ls->mtp;
    memset(&st->fwd, 0, sizeof st->fwd);
    memset(&st->bwd, 0, sizeof st->bwd);
    memset(&st->wgt, 0, sizeof st->wgt);
    st->act_bytes_mb = 0;
    st->reloaded_bytes = 0;
    st->offloaded_bytes_mb = 0;
    st->deferred_wgt = 0;
    struct layer_memo memo = {0};
    for (int l = st->first_layer; l < st->first_layer + st->layers; l++)
        add_layer(c, l, l - st->first_layer, l == st->first_layer && !st->has_embedding,
                  cm_layer_is_narrow(c, l), &memo, st);
    for (int kind = 0; c->layer_view && kind < CM_LAYER_VIEWS; kind++) /* views just taken */
        if (c->layer_view[kind].layer >= st->first_layer && c->layer_view[kind].stage < 0)
            c->layer_view[kind].stage = stage;
    double t = cfg->tp, T = (double)cfg->micro_batch * cfg->seq / cfg->cp;
    double Ts = scn->sp ? T / t : T;
    if (st->has_embedding) { /* token + position lookup: write (and later read) Ts x h */
        st->fwd.compute += cm_memory_s(c, 2.0 * cfg->act_bytes * Ts * m->hidden);
        cm_lookup_tp_comm(c, T, st);
        add_shard_traffic(c, model_params_embedding(m) / t, 0.0, cfg->param_bytes, 1, 0.0, 0.0,
                          st);
    }
    if (st->has_head) {
        add_head(c, 1, st);
        add_mtp(c, &memo, st);
    }
    if (c->offload_rows) /* the chunk's layers, then the MTP modules' (add_mtp's rows) */
        add_chunk_offload(c, st->layers + cm_stage_mtp_layers(c->m, st), st);
    add_p2p_gather(c, T, st);
    /* delayed scaling's amax reductions over the stage's data-parallel ranks, in line */
    double amax_fwd, amax_bwd;
    cm_delayed_amax_reductions_s(c, st->layers, &amax_fwd, &amax_bwd);
    st->fwd.dp += amax_fwd;
    st->bwd.dp += amax_bwd;
}
