/* flops: FLOP counts of a transformer's forward pass, per layer and per model.
 *
 * Matmuls only: a matmul with W weights applied to s tokens costs 2*s*W FLOPs (one multiply-add
 * = 2 FLOPs), and the weight counts come from model.c so parameters and FLOPs cannot drift
 * apart.  Softmax, norms, activations, biases and residual adds are O(s*h) and left out, as in
 * the papers below.
 *
 * Sources of the formulas:
 * - Narayanan et al., "Efficient Large-Scale Language Model Training on GPU Clusters Using
 *   Megatron-LM", SC'21, sec. 5.1 / appendix: per layer forward 24*s*h^2 + 4*s^2*h (QKV 6sh^2,
 *   attention scores 2s^2h, attention over values 2s^2h, output projection 2sh^2, MLP with
 *   ffn=4h 16sh^2) and the logit layer 2*s*h*V; a training step without recompute is 3x forward,
 *   giving 72*B*s*L*h^2*(1 + s/(6h) + V/(12*L*h)).
 * - Korthikanti et al., "Reducing Activation Recomputation in Large Transformer Models", 2022
 *   (arXiv:2205.05198), sec. 6: the same counts, model FLOPs vs hardware FLOPs (recompute).
 * - GQA (Ainslie et al. 2023) shrinks K and V to kv_heads*head_dim columns; SwiGLU (Shazeer
 *   2020, used by Llama: Touvron et al. 2023; Llama 3 Herd of Models 2024) has three h x ffn
 *   matrices; MoE (Fedus et al. 2021; Jiang et al. 2024, Mixtral) computes a router and the
 *   top_k selected experts per token; MLA's projections follow DeepSeek-V2 (arXiv:2405.04434).
 * - Causal attention: flash-attention skips the masked upper triangle, so the attention core
 *   is halved when `causal` (Dao 2023); reported-FLOPs conventions above do not halve.
 * - Hybrid models: a Mamba-2 mixer's projections and SSD scan (flops_mamba_scan), a Gated
 *   DeltaNet's projections and chunked delta rule (flops_gdn_scan); a hybrid layer holds one
 *   of a mixer or an MLP (model.h). */
#include "flops.h"

#include <string.h>

double flops_mamba_chunk(int seq)
{
    return seq < MAMBA_CHUNK ? seq : MAMBA_CHUNK;
}

/* Mamba-2's SSD algorithm (Dao & Gu, 2024, arXiv:2405.21060, sec. 6) over chunks of Q tokens,
 * per token: inside a chunk C B^T (2QN per group) and its masked product with X (2QP per
 * head); the chunk's state B^T X (2NP per head) and the output from the incoming state C h
 * (2NP per head); passing states between chunks is O(NP) per chunk and left out.  P = head
 * dim, N = state size.  Megatron's reported-FLOPs formula uses 7 d_inner N per token instead;
 * this is what the kernels execute. */
double flops_mamba_scan(const struct model *m, int seq)
{
    double q = flops_mamba_chunk(seq);
    double n = m->mamba_state, p = m->mamba_head_dim;
    double per_token = m->mamba_groups * 2.0 * q * n + m->mamba_heads * (2.0 * q * p + 4.0 * n * p);
    return (double)seq * per_token;
}

/* The chunked gated delta rule (Yang, Wang, Zhang, Shen and Kim, "Parallelizing Linear
 * Transformers with the Delta Rule over Sequence Length", NeurIPS 2024, sec. 3.2-3.3: the WY
 * representation; Yang, Kautz and Hatamizadeh, "Gated Delta Networks", ICLR 2025, sec. 3.3:
 * the same with the decay) over chunks of C tokens, per token and value head, K = key dim, V =
 * value dim, in the order FLA's forward runs it: the chunk's beta K K^T (2CK) and the inverse of
 * its unit lower-triangular I + A (a C x C solve, 2C^2/3), W and U from it (2C(K + V)); the
 * state passing, U - W S and S += K^T (U - W S) (4KV); the output Q S and (Q K^T masked) times
 * U - W S (2KV + 2CK + 2CV).  Megatron-LM's reported-FLOPs formula counts the recurrent form
 * instead, 8 V^2 per token and value head (megatron/training/training.py, gdn_layer_flops, at
 * d98e8a6): this is what the kernels execute. */
double flops_gdn_chunk(int seq)
{
    return seq < GDN_CHUNK ? seq : GDN_CHUNK;
}

double flops_gdn_scan(const struct model *m, int seq)
{
    double c = flops_gdn_chunk(seq);
    double k = m->gdn_key_dim, v = m->gdn_value_dim;
    double per_head = 6.0 * c * k + 4.0 * c * v + 6.0 * k * v + 2.0 * c * c / 3.0;
    return (double)seq * m->gdn_value_heads * per_head;
}

/* The SSD scan's backward, as mamba_ssm runs it (github.com/state-spaces/mamba at e9594ce,
 * mamba_ssm/ops/triton/ssd_combined.py, _mamba_chunk_scan_combined_bwd): it first recomputes
 * C B^T and the chunk states, which the forward did not keep (2QN a group, 2NP a head, per
 * token), then takes dstates (2NP), dx (2QP + 2NP), dB and dC from the states (2NP each), dCB
 * (2QP), ddA (2QP) and dB, dC from dCB (2QN each per group): per token 6QN a group and
 * 10NP + 6QP a head, against the forward's 2QN and 4NP + 2QP (2.6-2.7x for the shipped
 * models' shapes). */
double flops_mamba_scan_bwd(const struct model *m, int seq)
{
    double q = flops_mamba_chunk(seq);
    double n = m->mamba_state, p = m->mamba_head_dim;
    double per_token =
        m->mamba_groups * 6.0 * q * n + m->mamba_heads * (10.0 * n * p + 6.0 * q * p);
    return (double)seq * per_token;
}

/* DSA's attention on layer `layer` (model.h): the core on the selected pairs alone, in MLA's
 * absorbed form -- Q K^T over the latent and rotary channels, scores x V over the latent --
 * whether or not the count is causal (a top-k has no dense form); on a layer computing the
 * top-k, its indexer's work (layer_flops). */
static void dsa_layer_fwd(const struct model *m, int layer, int seq, struct layer_flops *out)
{
    double s = seq, heads = m->heads, latent = m->kv_lora_rank, rope = m->qk_rope_dim;
    double pairs = model_dsa_pairs(m, seq);
    out->attn_core = out->attn_core_unwindowed = 2.0 * heads * (2.0 * latent + rope) * pairs;
    if (!model_dsa_computes_topk(m, layer))
        return;
    double score = m->dsa_index_heads * ((double)m->dsa_index_dim + 1.0);
    out->dsa_index = 2.0 * score * 0.5 * s * s;
    out->dsa_index_bwd = 4.0 * score * pairs;
    out->dsa_teacher = 2.0 * heads * (latent + rope) * pairs;
    out->dsa_index_proj = 2.0 * s * (model_weights_dsa_indexer_proj(m));
}

/* DeepSeek-V4's compressed sparse attention on layer `layer` (csa.py and dsa_kernels.py at
 * 9d46c924): the core over the window's keys and the compressed entries the query sees, each
 * pair a QK over the head width and a PV over the value width (one shared key-value head,
 * whether or not the count is causal: the kernels take index lists, FlashMLA's sparse forward
 * and cuDNN's backward).  Counted: the valid slots.  Training hands the kernels the whole
 * list, padded to a multiple of 64 with -1 (dsa_kernels.py; only inference compacts it), and
 * whether they skip the padding is not in the source: were they to compute it, an indexed
 * layer's core would run 640 keys a query where it averages 510 at 4096 tokens (+2.4% on the
 * 26.08 GB300 preset's step).  The compressor's two projections; on a ratio-4 layer the indexer --
 * its scores over every causal entry (one key head, index_dim wide, and the per-head weight),
 * its gradient on the topk chosen (computed in the forward by the fused kernel), the loss's
 * target over those (a QK of every query head against the entry, sparse_attn_score_recompute)
 * and its projections. */
static void csa_layer_fwd(const struct model *m, int layer, int seq, struct layer_flops *out)
{
    double s = seq, heads = m->heads;
    double chosen = model_csa_compressed_pairs(m, layer, seq);
    double pairs = model_csa_window_pairs(m, seq) + chosen;
    out->attn_core = out->attn_core_unwindowed =
        2.0 * heads * ((double)m->head_dim + m->v_head_dim) * pairs;
    out->csa_compress = 2.0 * s * model_weights_csa_compressor(m, layer);
    if (!model_csa_indexed(m, layer))
        return;
    double score = m->csa_index_heads * ((double)m->csa_index_dim + 1.0);
    out->dsa_index = 2.0 * score * model_csa_index_pairs(m, seq);
    out->dsa_index_bwd = 4.0 * score * chosen;
    out->dsa_teacher = 2.0 * heads * (double)m->head_dim * chosen;
    out->dsa_index_proj = 2.0 * s * model_weights_csa_indexer_proj(m);
    out->csa_index_bwd_in_fwd = 1;
}

void flops_layer_fwd(const struct model *m, int layer, int seq, int causal, struct layer_flops *out)
{
    double s = seq;
    memset(out, 0, sizeof *out);
    enum layer_mixer mixer = model_layer_mixer(m, layer);
    if (mixer == MIXER_ATTENTION) {
        out->qkv = 2.0 * s * model_weights_qkv(m);
        /* Q K^T: s x s scores per head over head_dim; scores x V: over v_head_dim.  Both 2
         * FLOPs per MAC; with head_dim == v_head_dim this is 4 * s^2 * heads * head_dim. */
        double per_pair = 2.0 * m->heads * ((double)m->head_dim + m->v_head_dim);
        out->attn_core = per_pair * model_attention_pairs(m, layer, seq, causal);
        out->attn_core_unwindowed = per_pair * (causal ? 0.5 * s * s : s * s);
        out->attn_out = 2.0 * s * model_weights_attn_out(m);
        out->o_group = 2.0 * s * model_weights_o_group(m);
        if (m->dsa_topk > 0)
            dsa_layer_fwd(m, layer, seq, out);
        if (m->csa_layers > 0)
            csa_layer_fwd(m, layer, seq, out);
    } else if (model_mixer_is_ssm(mixer)) {
        out->ssm_in = 2.0 * s * model_weights_ssm_in(m);
        out->ssm_out = 2.0 * s * model_weights_ssm_out(m);
        out->ssm_scan = mixer == MIXER_GDN ? flops_gdn_scan(m, seq) : flops_mamba_scan(m, seq);
    }
    enum layer_mlp mlp = model_layer_mlp(m, layer);
    if (mlp == MLP_MOE) {
        out->mlp = 2.0 * s * m->shared_experts * model_weights_mlp(m, m->shared_expert_ffn);
        out->router = 2.0 * s * m->hidden * (double)m->experts;
        out->experts = 2.0 * s * m->top_k * model_weights_expert(m);
        out->latent_proj = 2.0 * s * model_weights_latent_proj(m);
    } else if (mlp == MLP_DENSE) {
        out->mlp = 2.0 * s * model_weights_mlp(m, m->ffn);
    }
    out->hc_map = 2.0 * s * model_layer_blocks(m) * model_weights_hc(m);
    out->total = out->qkv + out->attn_core + out->attn_out + out->mlp + out->router +
                 out->experts + out->latent_proj + out->ssm_in + out->ssm_out + out->ssm_scan +
                 out->csa_compress + out->hc_map;
}

double flops_head_fwd(const struct model *m, int seq)
{
    return 2.0 * seq * (double)m->hidden * m->vocab;
}

double flops_mtp_proj_weights(const struct model *m)
{
    double h = m->hidden;
    /* DeepSeek-V4 (multi_token_prediction.py at 9d46c924): e_proj on the embedding, h_proj on
     * each of the hc_streams streams, h -> h each; else eh_proj 2h -> h */
    return m->hc_streams > 0 ? (1.0 + m->hc_streams) * h * h : 2.0 * h * h;
}

/* The MTP modules' forward: each depth runs its module's layers (shaped like the model layers
 * of its pattern), the 2h -> h projection of the next token's embedding beside the hidden
 * state, and its own output head -- Megatron-LM's model-FLOPs count has the same terms (MTP
 * layers among the layers, the projection, logits x (1 + mtp_num_layers):
 * num_floating_point_operations in megatron/training/training.py at d98e8a6).  `core_only`
 * counts only the layers' attention cores. */
static double mtp_fwd(const struct model *m, int seq, int causal, int core_only)
{
    if (m->mtp_layers <= 0)
        return 0.0;
    double module =
        core_only ? 0.0 : 2.0 * seq * flops_mtp_proj_weights(m) + flops_head_fwd(m, seq);
    struct layer_flops lf;
    for (int j = 0; j < model_mtp_module_layers(m); j++) {
        flops_layer_fwd(m, model_mtp_layer(m, j), seq, causal, &lf);
        module += core_only ? lf.attn_core : lf.total;
    }
    return m->mtp_layers * module;
}

double flops_mtp_fwd(const struct model *m, int seq, int causal)
{
    return mtp_fwd(m, seq, causal, 0);
}

/* O(layers): MoE and dense layers may interleave; fine for any real depth. */
double flops_model_fwd(const struct model *m, int seq, int causal)
{
    double sum = flops_head_fwd(m, seq) + flops_mtp_fwd(m, seq, causal);
    struct layer_flops lf;
    for (int l = 0, kind = -1; l < m->layers; l++) {
        int k = model_layer_kind(m, l, seq); /* one kind, one count (model.h) */
        if (k != kind)
            flops_layer_fwd(m, l, seq, causal, &lf);
        kind = k;
        sum += lf.total;
    }
    return sum;
}

double flops_model_attn_core(const struct model *m, int seq, int causal)
{
    double sum = mtp_fwd(m, seq, causal, 1);
    struct layer_flops lf;
    for (int l = 0, kind = -1; l < m->layers; l++) {
        int k = model_layer_kind(m, l, seq);
        if (k != kind)
            flops_layer_fwd(m, l, seq, causal, &lf);
        kind = k;
        sum += lf.attn_core;
    }
    return sum;
}

/* One DSA layer's indexer FLOPs beyond 3x its forward total. */
static double dsa_extra(const struct layer_flops *lf)
{
    return lf->dsa_index + lf->dsa_index_bwd + lf->dsa_teacher + 2.0 * lf->dsa_index_proj;
}

double flops_dsa_step_extra(const struct model *m, int seq)
{
    if (m->dsa_topk <= 0 && m->csa_layers == 0)
        return 0.0;
    double sum = 0.0;
    struct layer_flops lf;
    for (int l = 0, kind = -1; l < m->layers; l++) {
        int k = model_layer_kind(m, l, seq);
        if (k != kind)
            flops_layer_fwd(m, l, seq, 0, &lf);
        kind = k;
        sum += dsa_extra(&lf);
    }
    for (int j = 0; j < model_mtp_module_layers(m); j++) {
        flops_layer_fwd(m, model_mtp_layer(m, j), seq, 0, &lf);
        sum += m->mtp_layers * dsa_extra(&lf);
    }
    return sum;
}

double flops_model_step(const struct model *m, int seq, long samples, int causal)
{
    return (double)samples * (3.0 * flops_model_fwd(m, seq, causal) + flops_dsa_step_extra(m, seq));
}
