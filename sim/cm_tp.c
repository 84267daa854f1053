/* cm_tp: tensor parallelism's collectives inside a layer and at the model's ends (see
 * cm_tp.h). */
#include "cm_quant.h"
#include "cm_tp.h"

/* Output reductions of a layer's forward: one per block, but one for a parallel block of
 * either kind, whose attention and MLP outputs are summed before it. */
static double reductions_fwd(const struct cm_ctx *c, const struct layer_parts *lp)
{
    return c->m->parallel_block != PARALLEL_NONE ? 1.0 : lp->blocks;
}

/* What of a collective of `comm` seconds a GEMM of `gemm` seconds beside it hides. */
static double hidden_behind(const struct cm_ctx *c, double comm, double gemm)
{
    return comm - cm_exposed(c, comm, gemm, 1);
}

/* Of a layer's backward TP collectives, what its column-parallel linears hide behind their own
 * GEMMs (overlap-tp-backward).  Megatron-Core (tensor_parallel/layers.py,
 * LinearWithGradAccumulationAndAsyncCommunication.backward; Megatron-LM since September 2021
 * without SP, March 2022 with it) and Transformer Engine (module/linear.py and
 * layernorm_linear.py backward) launch the sequence-parallel re-gather of the linear's input
 * before the input-gradient GEMM and wait for it after, and launch the input gradient's
 * all-reduce (SP: reduce-scatter) before the weight-gradient GEMM.  So each block's first
 * column-parallel GEMM hides one re-gather and one reduction, each at the forward GEMM's time;
 * the output gradient gathered before a row-parallel GEMM waits in line, and a MoE layer's
 * experts, reached through the dispatcher, hide nothing here.  A block sharing one norm (and so
 * one gather and one reduction) hides them behind the mixer's GEMM.  A schedule that runs the
 * weight gradients later, as W ops (zero-bubble, DualPipe), leaves the reduction nothing to
 * hide behind: Transformer Engine then queues the weight-gradient GEMM and waits for the
 * reduction at once (module/linear.py, delay_wgrad_compute, v2.5). */
static double tp_bwd_hidden(const struct cm_ctx *c, const struct layer_parts *lp,
                            double gather_mix, double gather_mlp, double reduce,
                            const struct layer_cost *lc)
{
    /* (LoRA's frozen linears run no weight-gradient GEMM to hide the reduction behind) */
    int no_wgrad = c->cfg->split_backward || scn_adapters(c->scn);
    double hidden = 0.0, beside_wgrad = no_wgrad ? 0.0 : reduce;
    int reductions = lp->blocks;
    if (lp->mixer != MIXER_NONE) {
        hidden += hidden_behind(c, gather_mix, lc->col_mixer) +
                  hidden_behind(c, beside_wgrad, lc->col_mixer);
        reductions--;
    }
    if (lp->mlp == MLP_DENSE && reductions > 0)
        hidden += hidden_behind(c, gather_mlp, lc->col_mlp) +
                  hidden_behind(c, beside_wgrad, lc->col_mlp);
    return hidden;
}

/* torch's async TP (torchtitan's enable_async_tensor_parallel: Inductor's micro-pipeline TP
 * pass, torch/_inductor/fx_passes/micro_pipeline_tp.py) fuses each all-gather with the matmuls
 * that read its result, and each reduce-scatter with the one matmul that produces its input;
 * fuse_matmul_reduce_scatter gives up when that input is not a matmul's output.  In the
 * backward of a block whose gathered input feeds several linears -- torchtitan's attention
 * (wq, wk and wv apart) and gated MLP (w1 and w3) -- the input gradient is the sum of their
 * matmuls', so that reduce-scatter runs in line.  How many of a layer's backward reductions. */
static double async_tp_inline_reductions(const struct cm_ctx *c, const struct layer_parts *lp)
{
    if (!c->cfg->async_tp_torch)
        return 0.0;
    double attention = lp->mixer == MIXER_ATTENTION ? 1.0 : 0.0;
    double gated_mlp = lp->mlp == MLP_DENSE && c->m->act == ACT_SWIGLU ? 1.0 : 0.0;
    return attention + gated_mlp;
}

/* Tensor parallelism: per layer two all-reduces (forward and backward), or with sequence
 * parallelism two all-gathers + two reduce-scatters each way, of the full [T, h] activation
 * (Korthikanti et al. 2022, fig. 5); with SP Megatron-Core's backward re-gathers the two inputs
 * for the weight gradients (DTensor's keeps the gathered ones: tp_keeps_gathered_input).  A
 * hybrid layer's one block has one of each (a Mamba block like attention);
 * a parallel block reduces its summed outputs once, and on a shared norm gathers once and
 * reduces its input gradient once too (model.h, parallel_block).
 * Of a narrow layer, Transformer Engine quantizes a column-parallel GEMM's input before
 * gathering it, and a row-parallel GEMM's output gradient before gathering that
 * (layernorm_linear.py, base.py grad_output_preprocess): those all-gathers move the quantized
 * copy; reduce-scatters stay 16-bit.  A MoE layer's routed tokens reach the experts through
 * the dispatcher from the GPU's own sequence shard and come back to it, so its MLP side has
 * no TP collective of its own (Megatron-Core's MoELayer and MoEAlltoAllTokenDispatcher,
 * core_v0.12.0 to core_v0.14.0: the dispatcher gathers over the expert-tensor-parallel group
 * only, and with etp 1 not at all); its shared experts, a column- and a row-parallel linear
 * on the whole sequence, gather their bf16 input and reduce-scatter their output like a dense
 * MLP (shared_experts.py, pre_forward_comm / post_forward_comm). */
/* MLA under TP with sequence parallelism, read in Megatron-Core's multi_latent_attention.py
 * (MLASelfAttention.get_query_key_value_tensors) and gpt_layer_specs.py: the up-projections are
 * column-parallel, so each gathers its input (T x q_lora, T x kv_lora; fp8: quantized first)
 * and reduce-scatters its input gradient.  The down-projections are
 *  - column-parallel up to 0.13 (TEColumnParallelLinear, core_v0.12.0/core_v0.13.0
 *    gpt_layer_specs.py): each gathers the layer's [T, h] input (two gathers where the
 *    standard block counts one), and their outputs are gathered over TP on the last dim
 *    (gather_from_tensor_model_parallel_region: T x q_lora, T x (kv_lora + rope)) and split
 *    back onto the sequence shard (scatter_to_sequence_parallel_region, whose backward
 *    gathers T x q_lora and T x kv_lora);
 *  - duplicated on the sequence shard from 0.14 (TELinear; 720c8b40d8, "MLA down proj switch
 *    back to TELinear"): no [T, h] gather at all; only the shared rotary key part is gathered
 *    (T x rope; its backward reduce-scatters).
 * Applied as the difference to the standard block's one [T, h] gather forward and gather +
 * reduce-scatter backward (layer_tp_comm); the recompute of the up-projections repeats their
 * input gathers. */
static void mla_tp_comm(const struct cm_ctx *c, const struct layer_parts *lp, double T,
                        struct coll_group g, double ag_h, double rs_h, struct layer_cost *lc)
{
    const struct model *m = c->m;
    if (m->kv_lora_rank <= 0 || lp->mixer != MIXER_ATTENTION)
        return;
    double ql = m->q_lora_rank, kl = m->kv_lora_rank, rp = m->qk_rope_dim;
    double in_bytes = cm_tp_gather_bytes(c), act = c->cfg->act_bytes; /* unquantized */
    double ag_ql = ql > 0 ? cm_coll_time(c, COLL_ALL_GATHER, in_bytes * T * ql, g) : 0.0;
    double ag_kl = cm_coll_time(c, COLL_ALL_GATHER, in_bytes * T * kl, g);
    double rs_ql = ql > 0 ? cm_coll_time(c, COLL_REDUCE_SCATTER, act * T * ql, g) : 0.0;
    double rs_kl = cm_coll_time(c, COLL_REDUCE_SCATTER, act * T * kl, g);
    double up_ag = ag_ql + ag_kl, up_rs = rs_ql + rs_kl;
    lc->mla_regather = up_ag;
    if (c->scn->mla_down_column) {
        double ag16_ql = ql > 0 ? cm_coll_time(c, COLL_ALL_GATHER, act * T * ql, g) : 0.0;
        double ag16_kl = cm_coll_time(c, COLL_ALL_GATHER, act * T * kl, g);
        double ag16_kv = cm_coll_time(c, COLL_ALL_GATHER, act * T * (kl + rp), g);
        lc->tp_fwd += ag_h + ag16_ql + ag16_kv + up_ag;
        lc->tp_bwd += ag_h + rs_h + ag16_ql + ag16_kl + up_ag + up_rs;
        return;
    }
    double ag_rp = cm_coll_time(c, COLL_ALL_GATHER, act * T * rp, g);
    double rs_rp = cm_coll_time(c, COLL_REDUCE_SCATTER, act * T * rp, g);
    lc->tp_fwd += up_ag + ag_rp - ag_h;
    lc->tp_bwd += up_ag + up_rs + rs_rp - ag_h - rs_h;
    /* the up-projections hide their own gathers and reductions, not the [T, h] ones */
    double wgrad_rs = c->cfg->split_backward ? 0.0 : 1.0;
    lc->tp_bwd_hidden += hidden_behind(c, up_ag, lc->col_mixer) +
                         hidden_behind(c, wgrad_rs * up_rs, lc->col_mixer) -
                         hidden_behind(c, ag_h, lc->col_mixer) -
                         hidden_behind(c, wgrad_rs * rs_h, lc->col_mixer);
}

/* Current scaling's amax reductions, in line: one per gathered input forward, one per gathered
 * output gradient backward (cm_amax_tp_reduction_s). */
static void add_amax_reductions(const struct cm_ctx *c, struct coll_group g, double gathers,
                                double reductions, struct layer_cost *lc)
{
    double amax = cm_amax_tp_reduction_s(c, g);
    lc->tp_fwd += gathers * amax;
    lc->tp_fwd_inline += gathers * amax;
    lc->tp_bwd += reductions * amax;
    lc->tp_bwd_inline += reductions * amax;
}

/* A layer's TP collectives under sequence parallelism: all-gathers before the column-parallel
 * GEMMs, reduce-scatters after the row-parallel ones. */
static void sp_layer_tp_comm(const struct cm_ctx *c, const struct layer_parts *lp, double T,
                             struct layer_cost *lc)
{
    const struct cm_config *cfg = c->cfg;
    struct coll_group g = c->groups->tp.g;
    double bytes = cfg->act_bytes * T * c->m->hidden;
    double narrow = cm_tp_gather_bytes(c) * T * c->m->hidden;
    double ag_mix = cm_coll_time(c, COLL_ALL_GATHER, narrow, g);
    int moe = lp->mlp == MLP_MOE, shared = moe && c->m->shared_experts > 0;
    double ag_mlp = moe ? cm_coll_time(c, COLL_ALL_GATHER, bytes, g) : ag_mix;
    int mlp_comm = lp->mlp == MLP_DENSE || shared; /* routed experts: none */
    /* the layer's gathered inputs: the mixer's and the MLP's, or under a shared norm one
     * gathered norm output feeding both */
    int one_norm = c->m->parallel_block == PARALLEL_SHARED_NORM && lp->mlp == MLP_DENSE;
    double gather_mix = one_norm || lp->mixer != MIXER_NONE ? 1.0 : 0.0;
    double gather_mlp = mlp_comm && !one_norm ? 1.0 : 0.0;
    double ag = gather_mix * ag_mix + gather_mlp * ag_mlp;
    double rs = cm_coll_time(c, COLL_REDUCE_SCATTER, bytes, g);
    double silent = moe && !shared ? 1.0 : 0.0; /* a block without a TP reduction */
    /* the backward gathers the output gradient, and the input again for the weight gradient
     * unless autograd kept the gathered one (tp_keeps_gathered_input) */
    double regather = cfg->tp_keeps_gathered_input ? 0.0 : 1.0;
    lc->tp_fwd = ag + (reductions_fwd(c, lp) - silent) * rs;
    lc->tp_bwd = (1.0 + regather) * ag + (lp->blocks - silent) * rs;
    if (lp->mlp == MLP_DENSE && c->m->parallel_block == PARALLEL_NONE)
        lc->tp_mlp_fwd = ag_mlp + rs;
    if (shared) {
        lc->tp_shared_fwd = ag_mlp + rs;
        lc->tp_shared_bwd = (1.0 + regather) * ag_mlp + rs;
    }
    lc->tp_regather = ag; /* the re-run K and up-projection need their gathered inputs */
    lc->tp_bwd_hidden = tp_bwd_hidden(c, lp, regather * ag_mix, regather * ag_mlp, rs, lc);
    lc->tp_bwd_inline = async_tp_inline_reductions(c, lp) * rs;
    /* torch's async TP fuses an all-gather only with matmuls that read its output directly
     * (micro_pipeline_tp.py, _find_consumer_matmuls: an mm, a _scaled_mm or a reshape into
     * one); row-wise Float8 quantizes the gathered 16-bit tensor before its _scaled_mm, so its
     * gathers -- the inputs' forward, the output gradients' backward -- run in line */
    if (cfg->async_tp_torch && cm_gathers_wide(c)) {
        lc->tp_fwd_inline = ag;
        lc->tp_bwd_inline += (1.0 + regather) * ag;
    }
    mla_tp_comm(c, lp, T, g, ag_mix, rs, lc);
    add_amax_reductions(c, g, gather_mix + gather_mlp, lp->blocks - silent, lc);
}

/* A layer's TP collectives without sequence parallelism: an all-reduce after each row-parallel
 * GEMM. */
static void allreduce_layer_tp_comm(const struct cm_ctx *c, const struct layer_parts *lp,
                                    double T, struct layer_cost *lc)
{
    double bytes = c->cfg->act_bytes * T * c->m->hidden;
    double ar = cm_coll_time(c, COLL_ALL_REDUCE, bytes, c->groups->tp.g);
    lc->tp_fwd = reductions_fwd(c, lp) * ar;
    lc->tp_bwd = lp->blocks * ar;
    if (lp->mlp == MLP_DENSE && c->m->parallel_block == PARALLEL_NONE)
        lc->tp_mlp_fwd = ar;
    lc->tp_regather = ar; /* the re-run projection's all-reduce */
    lc->tp_bwd_hidden = tp_bwd_hidden(c, lp, 0.0, 0.0, ar, lc);
}

void cm_layer_tp_comm(const struct cm_ctx *c, const struct layer_parts *lp, double T,
                      struct layer_cost *lc)
{
    if (c->cfg->tp <= 1)
        return;
    if (c->scn->sp)
        sp_layer_tp_comm(c, lp, T, lc);
    else
        allreduce_layer_tp_comm(c, lp, T, lc);
}

/* The output layer's own TP collectives: it is column-parallel over the vocabulary (Megatron's
 * ColumnParallelLinear, LinearWithGradAccumulationAndAsyncCommunication): under sequence
 * parallelism its input is gathered forward and, backward, gathered again for the weight
 * gradient beside the input-gradient GEMM and that gradient reduce-scattered beside the
 * weight-gradient GEMM; without it the input gradient is all-reduced beside the weight
 * gradient.  Hidden as a layer's column-parallel collectives are: all of it under
 * overlap-tp-comm, else with overlap-tp-backward each behind one of the head's GEMMs, the
 * reduction not when the weight gradient runs later (split-backward; tp_bwd_hidden). */
void cm_head_tp_comm(const struct cm_ctx *c, struct coll_group g, double T, double gemm,
                     struct cm_stage *st)
{
    double bytes = c->cfg->act_bytes * T * c->m->hidden;
    int sp = c->scn->sp;
    double gather = sp ? cm_coll_time(c, COLL_ALL_GATHER, bytes, g) : 0.0;
    double reduce = cm_coll_time(c, sp ? COLL_REDUCE_SCATTER : COLL_ALL_REDUCE, bytes, g);
    st->fwd.tp += cm_exposed(c, gather, gemm, c->scn->overlap_tp_comm);
    /* the backward's gather of the input again, unless autograd kept the gathered one */
    double regather = c->cfg->tp_keeps_gathered_input ? 0.0 : gather;
    if (c->scn->overlap_tp_comm) {
        st->bwd.tp += cm_exposed(c, regather + reduce, 2.0 * gemm, 1);
        return;
    }
    double hidden = !c->cfg->overlap_tp_backward
                        ? 0.0
                        : hidden_behind(c, regather, gemm) +
                              hidden_behind(c, c->cfg->split_backward ? 0.0 : reduce, gemm);
    st->bwd.tp += regather + reduce - hidden;
}

/* A token lookup's TP collective: each GPU looks up its shard of the vocabulary (zeros for the
 * rest), and the partial embeddings are summed over TP -- reduce-scattered onto the sequence
 * shard under sequence parallelism (its backward an all-gather), else all-reduced (its backward
 * none): VocabParallelEmbedding.forward and LanguageModelEmbedding's reduce_scatter_embeddings
 * (core_v0.14.0; learned positions take the all-reduce and a split).  In line. */
void cm_lookup_tp_comm(const struct cm_ctx *c, double T, struct cm_stage *st)
{
    if (c->cfg->tp <= 1)
        return;
    struct coll_group g = c->groups->tp.g;
    double bytes = c->cfg->act_bytes * T * c->m->hidden;
    if (c->scn->sp && c->m->pos != POS_LEARNED) {
        st->fwd.tp += cm_coll_time(c, COLL_REDUCE_SCATTER, bytes, g);
        st->bwd.tp += cm_coll_time(c, COLL_ALL_GATHER, bytes, g);
    } else {
        st->fwd.tp += cm_coll_time(c, COLL_ALL_REDUCE, bytes, g);
        if (c->scn->sp) /* the split onto the sequence shard, gathered back backward */
            st->bwd.tp += cm_coll_time(c, COLL_ALL_GATHER, bytes, g);
    }
}

/* The TP collectives of one MTP module's projection, in line (multi_token_prediction.py,
 * _concat_embeddings, core_v0.14.0): eh_proj is column-parallel without gathering its output,
 * which gather_from_tensor_model_parallel_region then gathers over TP (its backward a split),
 * and under sequence parallelism scatter_to_sequence_parallel_region splits again (its backward
 * an all-gather); with sequence parallelism the projection's 2h-wide input is gathered first
 * and, backward, gathered again for the weight gradient and its gradient reduce-scattered,
 * without it the input gradient is all-reduced. */
void cm_mtp_tp_comm(const struct cm_ctx *c, double T, double *fwd, double *bwd)
{
    *fwd = *bwd = 0.0;
    if (c->cfg->tp <= 1)
        return;
    struct coll_group g = c->groups->tp.g;
    double out = c->cfg->act_bytes * T * c->m->hidden, in = 2.0 * out;
    double gather_out = cm_coll_time(c, COLL_ALL_GATHER, out, g);
    if (c->scn->sp) {
        double gather_in = cm_coll_time(c, COLL_ALL_GATHER, in, g);
        *fwd = gather_in + gather_out;
        *bwd = gather_in + cm_coll_time(c, COLL_REDUCE_SCATTER, in, g) + gather_out;
    } else {
        *fwd = gather_out;
        *bwd = cm_coll_time(c, COLL_ALL_REDUCE, in, g);
    }
}
