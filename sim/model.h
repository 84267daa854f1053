/* model: a transformer's architecture, loaded from models/<name>.xml (schema models/model.xsd).
 *
 * Dense decoder-only transformers, mixture-of-experts variants, DeepSeek's multi-head latent
 * attention (MLA) and hybrid models whose layers each hold one block (a Mamba-2 mixer, a Gated
 * DeltaNet, attention, a dense MLP or a MoE).  Everything here is shape, not cost: FLOPs, bytes and
 * times are derived in flops.c and the cost model.  Units: counts.
 * Invariant after model_load(): every field is in range and consistent (heads divisible by
 * kv_heads, head_dim and v_head_dim set, MoE fields zero for dense models, MLA fields zero
 * without MLA, at least one MoE layer when experts > 0; a hybrid pattern as long as layers,
 * with an 'E' exactly when experts > 0, mamba_groups dividing mamba_heads, the shape of each
 * linear-time mixer the pattern holds given and of no other). */
#ifndef STEPSIM_MODEL_H
#define STEPSIM_MODEL_H

#include "error.h"

enum model_act {
    ACT_GELU,        /* MLP: h -> ffn -> h, two matmuls */
    ACT_SWIGLU,      /* gated MLP: h -> 2*ffn (gate, up) -> h, three matmuls' worth */
    ACT_SQUARED_RELU /* MLP like GELU with relu(x)^2 (Nemotron-4) */
};

enum model_norm { NORM_LAYERNORM, NORM_RMSNORM };
#define MODEL_MAX_PATTERN 1024 /* hybrid layers at most (model.xsd's pattern) */
#define MODEL_PATTERN_LETTERS "M*-EG" /* a hybrid pattern's layers (struct model's pattern) */
#define MODEL_MAX_MTP_PATTERN 16 /* layers of one hybrid MTP module at most (model.xsd) */
#define MODEL_MAX_MTP_LAYERS 16  /* MTP modules at most (model.c's mtp-layers range) */
/* Compressed-attention ratios a model may give (its layers and MTP layers; DeepSeek-V4-Flash
 * 44): a small cap keeps struct model, which every planned layout copies, small. */
#define MODEL_MAX_CSA 256
enum model_pos { POS_LEARNED, POS_ROPE };
/* Attention and MLP side by side, both reading the layer input, their outputs added to the
 * residual together (GPT-J; Chowdhery et al., PaLM, 2022, sec. 2 "parallel layers"), so
 * tensor parallelism reduces their outputs once: on one shared pre-norm (GPT-J, PaLM,
 * Falcon-7B: one norm, one gather of its output, one input-gradient reduction), or on two norms
 * of the same input (GPT-NeoX's gpt_j_residual, Falcon-40B's: the backward still reduces each
 * GEMM input's gradient apart). */
enum model_parallel_block { PARALLEL_NONE, PARALLEL_SHARED_NORM, PARALLEL_TWO_NORMS };

struct model {
    char name[64];
    int layers;     /* transformer layers (hybrid: the pattern's layers) */
    int hidden;     /* h: model width */
    int ffn;        /* dense MLP inner size (also MoE models' dense layers; experts: expert_ffn) */
    int heads;      /* attention (query) heads */
    int kv_heads;   /* key/value heads (GQA); == heads for MHA */
    int head_dim;   /* per-head size of Q and K; hidden / heads unless given (MLA: nope + rope) */
    int v_head_dim; /* per-head size of V and of the attention output; head_dim except MLA */
    int vocab;      /* V: vocabulary size */
    int max_seq;    /* context length the model was trained with (learned positions size) */
    enum model_act act;
    enum model_norm norm;
    enum model_pos pos;
    int tied_embeddings; /* LM head shares the input embedding matrix */
    int parallel_block;  /* enum model_parallel_block */
    int bias;            /* linear layers carry biases (GPT-2/3 style) */
    int attention_gate;  /* attention's output gated per element by sigmoid(x W_g), W_g produced
                            by the QKV projection beside Q (Megatron-Core's
                            attention_output_gate; Qwen3-Next): Q's width twice over */
    /* Local attention (0: every layer attends to the whole sequence): layers attend within a
     * window of `window` tokens -- sliding (each query to the `window` keys before it, GPT-OSS,
     * Mistral) or chunked (to the keys of its own chunk, Llama 4) -- except every
     * global_every-th layer (1-based; 0: none), which attends globally. */
    int window;
    int window_chunked;
    int global_every;
    int mtp_layers;      /* multi-token-prediction modules after the last layer (DeepSeek-V3:
                            1); each one transformer layer like the last, a 2h -> h projection
                            and norms, sharing the embedding and the LM head */
    /* Mixture of experts (experts == 0: dense). */
    int experts;           /* routed experts per MoE layer */
    int top_k;             /* experts each token is routed to */
    int expert_ffn;        /* inner size of one routed expert */
    int shared_experts;    /* always-on experts per MoE layer (DeepSeek) */
    int shared_expert_ffn; /* inner size of one shared expert; expert_ffn if not given */
    int dense_layers;      /* leading layers that are dense, not MoE (DeepSeek: 3) */
    int moe_every;         /* after the leading dense layers, every k-th layer is MoE (1 = all) */
    int moe_latent;        /* LatentMoE (Megatron-Core moe_latent_size; Nemotron 3 Super): the
                              routed experts read and write this width instead of hidden --
                              a duplicated (not TP-split) h -> latent projection before the
                              dispatch and latent -> h after the combine, both on the latent
                              width; router and shared experts stay on hidden.  0 = none */
    int route_nodes;       /* node-limited routing: a token's experts lie in at most this many
                              expert groups, which DeepEP places one per node (DeepSeek-V3:
                              topk_group 4 of n_group 8); 0 = not limited */
    int expert_groups;     /* the router's expert groups (n_group: runs of experts /
                              expert_groups consecutive experts), of which a token's experts
                              use route_nodes; 0 = not given, and route_nodes bounds the nodes
                              a token visits */
    /* Multi-head latent attention, DeepSeek-V2/V3 (kv_lora_rank == 0: ordinary attention).
     * Q = W_qb norm(W_qa x) (or W_q x when q_lora_rank == 0); [c_kv, k_rope] = W_kva x;
     * [K_nope, V] = W_kvb norm(c_kv), per head.  kv_heads == heads. */
    int q_lora_rank;  /* query down-projection rank; 0 = no query compression */
    int kv_lora_rank; /* compressed KV latent size */
    int qk_nope_dim;  /* per-head Q/K part without rotary embedding */
    int qk_rope_dim;  /* per-head Q/K rotary part (K's is shared by all heads) */
    /* DeepSeek Sparse Attention on top of MLA (DeepSeek-V3.2, arXiv:2512.02556, eqs. 1-2;
     * GLM-5; Megatron-Core experimental_attention_variant/dsa.py): a lightning indexer scores
     * every causal key of each query -- sum over dsa_index_heads of w ReLU(q . k) over
     * dsa_index_dim -- and the attention runs on the dsa_topk best keys, in MLA's absorbed
     * form (QK over kv_lora_rank + rope channels, AV over kv_lora_rank, one key head).  With
     * dsa_topk_freq > 1 only every dsa_topk_freq-th layer from dsa_skip_offset computes the
     * top-k, the others reuse it (GLM-5.2's index sharing).  dsa_topk == 0: no DSA. */
    int dsa_index_heads; /* the indexer's query heads (its key has one head) */
    int dsa_index_dim;   /* their width */
    int dsa_topk;        /* keys each query attends to */
    int dsa_topk_freq;   /* a layer in this many computes the top-k (1: every layer) */
    int dsa_skip_offset; /* the first computing layer's number, 1-based (0 means 1) */
    /* DeepSeek-V4's attention (Megatron-Core's dev branch at 9d46c924, experimental_attention_
     * variant/deepseek_v4_hybrid_attention.py and csa.py; DeepSeek-AI, DeepSeek-V4, 2026).
     * mla_shared_kv: latent attention without a KV up-projection -- one key-value head, the
     * latent and its rotary part themselves (K = V, kv_lora_rank + qk_rope_dim wide), that every
     * query head attends to (v_head_dim = that width).  o_groups > 0: the output projection is
     * grouped and low-rank, each group of heads / o_groups heads projected to o_lora_rank (a
     * plain 16-bit einsum, not a Transformer Engine linear), then all groups to hidden.
     * Compressed sparse attention (csa_layers > 0: one ratio per layer, then per MTP layer):
     * every layer attends over a sliding window of csa_window keys, and a layer of ratio r > 1
     * also over the sequence's keys pooled r to one by a learned gated compressor -- r == 4
     * overlapping (each entry pools 2r tokens: twice the projection width) with an indexer of
     * csa_index_heads x csa_index_dim choosing csa_topk of the entries for each query; any
     * other r, all the causal entries.  As Megatron-Core builds them (csa.py, Compressor and
     * CompressedSparseAttention). */
    int mla_shared_kv;
    int o_groups;
    int o_lora_rank;
    int csa_layers; /* ratios given: layers + mtp_layers, or 0 without compressed attention */
    int csa_window;
    int csa_index_heads;
    int csa_index_dim;
    int csa_topk;
    unsigned char csa_ratio[MODEL_MAX_CSA]; /* 0, 4 or 128 */
    /* Manifold-constrained hyper-connections (DeepSeek-V4; Megatron-Core hyper_connection.py
     * and fusions/fused_mhc_kernels.py at 9d46c924): hc_streams copies of the residual stream,
     * read into each block as a per-token weighted sum and written back as a per-token 4x4
     * mixing of the streams plus the block's output, the weights from one small projection of
     * all streams; the mixing matrix made doubly stochastic by hc_sinkhorn iterations.  0: an
     * ordinary residual. */
    int hc_streams;
    int hc_sinkhorn;
    /* Hybrid models (pattern[0] == '\0': every layer is attention + an MLP).  Megatron-Core's
     * hybrid layer pattern gives each layer one block behind its own pre-norm and residual:
     * 'M' a Mamba-2 mixer, 'G' a Gated DeltaNet, '*' attention, '-' a dense MLP, 'E' a MoE
     * MLP (layers == strlen(pattern); MoE layers are exactly the 'E's).  A Mamba-2 mixer (Dao &
     * Gu, 2024, arXiv:2405.21060; Megatron-Core mamba_mixer.py): in_proj h -> [z, x, B, C, dt] of
     * 2 d_inner + 2 groups state + heads, a causal depthwise conv1d of conv_width over
     * [x, B, C], the chunked SSD scan, a gated RMSNorm of d_inner, out_proj d_inner -> h,
     * with d_inner = mamba_heads * mamba_head_dim.  A Gated DeltaNet (Yang, Kautz and
     * Hatamizadeh, "Gated Delta Networks", ICLR 2025, arXiv:2412.06464; Megatron-Core
     * ssm/gated_delta_net, its Qwen3-Next layers): in_proj h -> [q, k, v, z, beta, alpha] of
     * 2 key heads x key dim + 2 value heads x value dim + 2 value heads, a causal depthwise
     * conv1d of conv_width over [q, k, v], the chunked gated delta rule (each key head's q
     * and k serving value heads / key heads value heads), a gated RMSNorm of the value dim,
     * out_proj value heads x value dim -> h.  A pattern holds one kind of linear-time mixer. */
    char pattern[MODEL_MAX_PATTERN + 1];
    /* A hybrid model's MTP module (Megatron-Core's mtp_hybrid_override_pattern, e.g. "*E":
     * one attention and one MoE layer after the 2h -> h projection); each letter's layer is
     * shaped like the pattern's layers of that letter.  Empty without MTP. */
    char mtp_pattern[MODEL_MAX_MTP_PATTERN + 1];
    int mamba_heads;
    int mamba_head_dim;
    int mamba_state;
    int mamba_groups;
    int mamba_conv; /* the causal conv1d's width, Mamba-2's or the Gated DeltaNet's */
    int gdn_key_heads;
    int gdn_value_heads;
    int gdn_key_dim;
    int gdn_value_dim;
};

/* Load and validate `path`; errors carry file:line. */
enum sim_status model_load(struct model *m, const char *path, struct sim_error *err);

/* Keys each query of layer `layer` attends to, summed over a sequence of `seq` tokens: s^2
 * without a causal mask, about half with one, less for local-attention layers. */
double model_attention_pairs(const struct model *m, int layer, int seq, int causal);

/* Is layer `layer` (0-based) a mixture-of-experts layer? */
int model_layer_is_moe(const struct model *m, int layer);
/* What one layer holds: a token mixer and an MLP, either of which a hybrid layer lacks. */
enum layer_mixer { MIXER_NONE, MIXER_ATTENTION, MIXER_MAMBA, MIXER_GDN };
enum layer_mlp { MLP_NONE, MLP_DENSE, MLP_MOE };
enum layer_mixer model_layer_mixer(const struct model *m, int layer);
enum layer_mlp model_layer_mlp(const struct model *m, int layer);
/* Blocks (pre-norm + residual) in a layer: 2 in a transformer layer, 1 in a hybrid one or a
 * shared-norm parallel block. */
int model_layer_blocks(const struct model *m);
/* Layers holding a Mamba-2 mixer; a Gated DeltaNet. */
int model_mamba_layers(const struct model *m);
int model_gdn_layers(const struct model *m);
/* A linear-time mixer (Mamba-2 or Gated DeltaNet): in_proj, a causal conv1d, a chunked scan,
 * a gated norm and out_proj, in the code paths the two share. */
int model_mixer_is_ssm(enum layer_mixer mixer);
/* Do tp ranks, and cp ranks inside each, share out the linear-time mixer's heads as Megatron-
 * Core shards them (Mamba-2: TP its groups and heads, CP each TP rank's heads and its groups
 * or the ranks of each group; Gated DeltaNet: TP and then CP its key heads and value heads)?
 * Always, for a model without one. */
int model_ssm_shards(const struct model *m, int tp, int cp);
/* Layers of one kind -- MoE or dense, local or global attention over sequences of `seq`
 * tokens -- have the same shape, FLOPs and parameters: costs computed for one hold for all.
 * A transformer layer's kind is 0 (dense) or 1 (MoE), plus 2 when it attends over a local
 * window; a hybrid layer's is one of the MODEL_KIND_* below. */
enum {
    MODEL_KIND_MAMBA = 4,      /* hybrid 'M' */
    MODEL_KIND_ATTENTION,      /* hybrid '*' */
    MODEL_KIND_ATTENTION_LOCAL,/* hybrid '*' over a local window */
    MODEL_KIND_MLP,            /* hybrid '-' */
    MODEL_KIND_MOE,            /* hybrid 'E' */
    MODEL_KIND_GDN,            /* hybrid 'G' */
    MODEL_KIND_DSA_SHARED,     /* DSA: a dense layer reusing another layer's top-k */
    MODEL_KIND_DSA_SHARED_MOE, /* DSA: a MoE layer reusing another layer's top-k */
    MODEL_KIND_CSA_WINDOW,     /* CSA: the window alone (ratio 0), dense; + 1 MoE */
    MODEL_KIND_CSA_WINDOW_MOE,
    MODEL_KIND_CSA_INDEXED,    /* CSA: ratio 4, the indexer's top-k; + 1 MoE */
    MODEL_KIND_CSA_INDEXED_MOE,
    MODEL_KIND_CSA_ALL,        /* CSA: another ratio, every causal entry; + 1 MoE */
    MODEL_KIND_CSA_ALL_MOE,
    MODEL_KINDS
};
int model_layer_kind(const struct model *m, int layer, int seq);
/* Does layer `layer` compute its DSA top-k (and hold an indexer)?  Megatron-Core numbers the
 * layers from 1 and computes where max(number - max(offset, 1), 0) % freq == 0
 * (experimental_attention_variant/dsa.py, is_dsa_skip_topk_layer).  0 without DSA. */
int model_dsa_computes_topk(const struct model *m, int layer);
/* The same rule for a top-k shared every `freq` layers from layer number `offset`. */
int model_dsa_rule_computes(int layer, int freq, int offset);
/* The (query, key) pairs of one sequence's sparse attention: each query's min(position + 1,
 * dsa_topk) keys, s k - k (k - 1) / 2 past the first k (MegatronBridge's flop_utils.py counts
 * the same, per token); s^2 / 2 when the sequence is no longer than k. */
double model_dsa_pairs(const struct model *m, int seq);
/* Weights of one layer's indexer: W_q from the query latent (q_lora_rank, or hidden without
 * one) to dsa_index_heads x dsa_index_dim, W_k and the head weights from hidden, and its key's
 * LayerNorm; every TP rank holds them whole ("duplicated"). */
double model_weights_dsa_indexer(const struct model *m);
/* The same without the LayerNorm: the weights its tokens multiply (FLOPs). */
double model_weights_dsa_indexer_proj(const struct model *m);

/* DeepSeek-V4's attention (struct model).  Layer `layer`'s compression ratio (layers + j: the
 * j-th MTP layer's; 0 without CSA); whether it runs the indexer (ratio 4).  The (query, key)
 * pairs of one sequence of `seq` tokens: the window's (query i sees min(i + 1, window)
 * keys), the compressed entries' of layer `layer` (query i sees floor((i + 1) / ratio) of
 * them, at most topk on an indexed layer) and the indexer's scores (every causal entry of a
 * ratio-4 compression). */
int model_csa_ratio(const struct model *m, int layer);
int model_csa_indexed(const struct model *m, int layer);
double model_csa_window_pairs(const struct model *m, int seq);
double model_csa_compressed_pairs(const struct model *m, int layer, int seq);
double model_csa_index_pairs(const struct model *m, int seq);
/* Weights a token multiplies: layer `layer`'s compressor (0 without one), a ratio-4 layer's
 * indexer, one hyper-connection module's mapping, and the grouped output projection's two
 * parts (wo_a: 0 without o_groups; wo_b, or the plain W_o). */
/* A compressor's projections per entry width: 2 when its compression overlaps (ratio 4: each
 * entry pools twice the ratio's tokens), else 1 (csa.py, Compressor's coff). */
double model_csa_coff(int ratio);
double model_weights_csa_compressor(const struct model *m, int layer);
double model_weights_csa_indexer_proj(const struct model *m);
double model_weights_hc(const struct model *m);
double model_weights_o_group(const struct model *m);
double model_weights_o_proj(const struct model *m);
/* Parameters of layer `layer` no Transformer Engine module holds, so no fp8 run caches them
 * in fp8: DeepSeek-V4's grouped wo_a (an einsum), hyper-connection mappings, attention sinks and
 * compressors' position biases. */
double model_params_16bit(const struct model *m, int layer);

/* Parameters (counts, not bytes): weights, biases and norm scales/shifts.
 * total = embedding + sum of layers + final norm + head.  Not counted: DeepSeek-V3's
 * multi-token-prediction module (published separately, 14B) and the per-expert routing bias
 * of aux-loss-free balancing (a buffer, not trained by the optimizer). */
double model_params_layer(const struct model *m, int layer); /* one transformer layer */
double model_params_embedding(const struct model *m);        /* token (+ learned pos) embedding */
double model_params_head(const struct model *m);             /* LM head; 0 when tied */
double model_params_final_norm(const struct model *m);       /* norm before the LM head */
/* Of one layer's parameters, those each tensor-parallel rank holds whole (not split over TP). */
double model_params_tp_replicated(const struct model *m, int layer);
double model_params_total(const struct model *m);
/* Parameters of the MTP modules (not in the total, as published counts leave them out). */
double model_params_mtp(const struct model *m);
/* Weight-matrix sizes (no biases or norms) shared with flops.c: a matmul with W weights costs
 * 2 * W FLOPs per token.  qkv: Q, K and V projections (GQA: K and V kv_heads wide; MLA: the
 * down- and up-projections of Q and of the KV latent); attn_out: output projection; mlp: one
 * (gated) MLP of inner size `ffn` with the model's activation. */
double model_weights_qkv(const struct model *m);
/* The QKV projection's query-side outputs: heads x head_dim, twice that with attention_gate. */
double model_q_width(const struct model *m);
double model_weights_attn_out(const struct model *m);
double model_weights_mlp(const struct model *m, int ffn);
/* One routed expert's weights (on the latent width with LatentMoE), the latent projections
 * of one MoE layer (0 without LatentMoE), and the width the dispatch and combine move per
 * routed token copy (moe_latent, else hidden). */
double model_weights_expert(const struct model *m);
double model_weights_latent_proj(const struct model *m);
int model_moe_width(const struct model *m);
/* Layers in one MTP module (a hybrid model's mtp_pattern, else the one transformer layer),
 * and the model layer whose shape the j-th of them has. */
int model_mtp_module_layers(const struct model *m);
int model_mtp_layer(const struct model *m, int j);
/* MLA's up-projections (Q from its latent when compressed, K_nope and V from the KV latent;
 * with shared-kv, Q's and the key-value projection, which DeepSeek-V4 checkpoints with it);
 * 0 without MLA. */
double model_weights_mla_up(const struct model *m);
/* The model's linear-time mixer's projections: in_proj (h -> its in width) and out_proj
 * (inner -> h); the inner width (out_proj's input, the gated norm's), the conv1d's channels
 * and the heads with a decay of their own.  Mamba-2: in width 2 d_inner + 2 groups state +
 * heads (z, x, B, C, dt), inner d_inner, conv x, B, C.  Gated DeltaNet: in width 2 qk + 2 v
 * + 2 value heads (q, k, v, z, beta, alpha), inner v, conv q, k, v; qk = key heads x key
 * dim, v = value heads x value dim.  A model holds one kind (check_hybrid). */
double model_weights_ssm_in(const struct model *m);
double model_ssm_in_width(const struct model *m);
double model_weights_ssm_out(const struct model *m);
double model_ssm_inner(const struct model *m);
double model_ssm_conv_channels(const struct model *m);
double model_ssm_heads(const struct model *m);

/* Parameters touched per token (MoE: router, top_k routed and the shared experts only);
 * includes the embedding and head, as the published "active" counts do. */
double model_params_active(const struct model *m);

#endif
