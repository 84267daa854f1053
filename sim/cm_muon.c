/* cm_muon.c: the Newton-Schulz work of the Muon optimizer, per layer and GPU.
 *
 * Muon (K. Jordan et al., 2024; J. Liu et al., "Muon is Scalable for LLM Training",
 * arXiv:2502.16982, Algorithm 1) replaces each hidden weight matrix's update by its
 * orthogonalized momentum, computed by a quintic Newton-Schulz iteration
 * X <- aX + (bA + cA^2) X with A = X X^T, `muon-ns-steps` times (5 by default).  On an m x n
 * matrix with m <= n (the iteration runs on the wide orientation) a step is three GEMMs:
 * A = X X^T (2 m^2 n FLOPs), A^2 (2 m^3) and (bA + cA^2) X (2 m^2 n).
 *
 * As Megatron-Core runs it (NVIDIA/Megatron-LM at d98e8a64dd): TensorParallelMuon
 * (megatron/core/optimizer/emerging_optimizers.py) computes in fp32 at torch's "medium" matmul
 * precision, i.e. on the 16-bit tensor cores, and orthogonalizes Q, K and V apart
 * (muon_split_qkv, default true); Megatron-Bridge's distributed_muon recipes
 * (recipes/utils/optimizer_utils.py at 039635e8c) orthogonalize each tensor-parallel shard on
 * its own (tp_mode blockwise), so every shape below is the shard one GPU holds.  Its
 * LayerWiseDistributedOptimizer (megatron/core/optimizer/layer_wise_optimizer.py) gives whole
 * matrices to the data-parallel ranks, balanced by this cost, so each rank does its share of
 * the sum (the caller divides).  Embeddings, the LM head, norms and biases stay element-wise
 * (is_managed_by_layer_wise_optimizer: 2-D, not embedding or output). */
#include "cm_muon.h"

#include "model.h"

/* Newton-Schulz time of one rows x cols matrix: `steps` x (two m^2 n GEMMs and one m^3). */
static double ns_matrix_s(const struct cm_ctx *c, double rows, double cols)
{
    if (rows <= 0 || cols <= 0)
        return 0.0;
    double m = rows < cols ? rows : cols, n = rows < cols ? cols : rows;
    double step = 2.0 * cm_gemm16_s(c, 2.0 * m * m * n) + cm_gemm16_s(c, 2.0 * m * m * m);
    return c->scn->muon_ns_steps * step;
}

/* An MLP of inner size `ffn` split `ways` on width h (the hidden size, or a LatentMoE's
 * latent width for its routed experts): fc1 (gate and up fused in one matrix when gated, as
 * Megatron-Core's linear_fc1 holds them) and fc2. */
static double ns_mlp_s(const struct cm_ctx *c, double ffn, double ways, double h)
{
    double gated = c->m->act == ACT_SWIGLU ? 2.0 : 1.0;
    return ns_matrix_s(c, gated * ffn / ways, h) + ns_matrix_s(c, h, ffn / ways);
}

/* The attention block: Q, K, V apart and the projection, column / row split over TP; MLA's
 * down-projections are not split (Megatron-Core's MLA runs them duplicated on every TP rank),
 * its up-projections are. */
static double ns_attention_s(const struct cm_ctx *c)
{
    const struct model *m = c->m;
    double t = c->cfg->tp, h = m->hidden, heads = m->heads;
    if (m->kv_lora_rank > 0) {
        double qk = m->qk_nope_dim + m->qk_rope_dim;
        double q = m->q_lora_rank > 0 ? ns_matrix_s(c, m->q_lora_rank, h) +
                                            ns_matrix_s(c, heads * qk / t, m->q_lora_rank)
                                      : ns_matrix_s(c, heads * qk / t, h);
        return q + ns_matrix_s(c, m->kv_lora_rank + m->qk_rope_dim, h) +
               ns_matrix_s(c, heads * (m->qk_nope_dim + m->v_head_dim) / t, m->kv_lora_rank) +
               ns_matrix_s(c, h, heads * m->v_head_dim / t);
    }
    double kv = (double)m->kv_heads * m->head_dim / t;
    return ns_matrix_s(c, model_q_width(m) / t, h) + 2.0 * ns_matrix_s(c, kv, h) +
           ns_matrix_s(c, h, heads * m->v_head_dim / t);
}

/* A linear-time mixer's in_proj (Mamba-2: z, x, B, C, dt; Gated DeltaNet: q, k, v, z, beta,
 * alpha) and out_proj, split over TP. */
static double ns_ssm_s(const struct cm_ctx *c)
{
    const struct model *m = c->m;
    double t = c->cfg->tp;
    return ns_matrix_s(c, model_ssm_in_width(m) / t, m->hidden) +
           ns_matrix_s(c, m->hidden, model_ssm_inner(m) / t);
}

void cm_muon_layer_s(const struct cm_ctx *c, int layer, double *dense_s, double *expert_s)
{
    const struct model *m = c->m;
    double dense = 0.0, expert = 0.0;
    enum layer_mixer mixer = model_layer_mixer(m, layer);
    if (mixer == MIXER_ATTENTION)
        dense += ns_attention_s(c);
    else if (model_mixer_is_ssm(mixer))
        dense += ns_ssm_s(c);
    switch (model_layer_mlp(m, layer)) {
    case MLP_DENSE:
        dense += ns_mlp_s(c, m->ffn, c->cfg->tp, m->hidden);
        break;
    case MLP_MOE: /* router (replicated), shared experts as one MLP, local routed experts */
        dense += ns_matrix_s(c, m->experts, m->hidden);
        if (m->shared_experts > 0)
            dense += ns_mlp_s(c, (double)m->shared_experts * m->shared_expert_ffn, c->cfg->tp,
                              m->hidden);
        if (m->moe_latent > 0) /* the two latent projections, duplicated over TP */
            dense += 2.0 * ns_matrix_s(c, m->moe_latent, m->hidden);
        expert += (double)m->experts / c->cfg->ep *
                  ns_mlp_s(c, m->expert_ffn, c->cfg->etp, model_moe_width(m));
        break;
    case MLP_NONE:
        break;
    }
    *dense_s = dense;
    *expert_s = expert;
}
