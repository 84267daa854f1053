/* flops: floating-point work of a transformer, per layer and per micro-batch.
 *
 * One multiply-add counts as 2 FLOPs.  Counts are for ONE sequence of `seq` tokens through
 * the whole (unsharded) layer; callers divide by tensor/context parallel degrees and multiply
 * by the micro-batch size.  Backward = 2 x forward for matmuls (input and weight gradient, 1x
 * each); the attention core's backward is 2x its forward as well.
 *
 * Attention core (Q K^T and scores x V): 4 * seq^2 * heads * head_dim FLOPs without masking;
 * `causal` halves it (what flash-attention kernels execute; Megatron's reported-FLOPs formula
 * does not halve). */
#ifndef STEPSIM_FLOPS_H
#define STEPSIM_FLOPS_H

#include "model.h"

struct layer_flops {
    double qkv;       /* Q, K, V projections (GQA: K and V are kv_heads wide) */
    double attn_core; /* Q K^T and attention x V */
    double attn_core_unwindowed; /* attn_core were the layer's window lifted (attn_core itself
                                  * for a global layer); not part of total */
    double attn_out;  /* output projection */
    double mlp;       /* dense MLP / gated MLP, or the shared experts of an MoE layer */
    double router;    /* MoE gate: hidden x experts */
    double experts;   /* routed experts actually computed: top_k per token */
    double latent_proj; /* LatentMoE's projections to and from the experts' width */
    double ssm_in;    /* a linear-time mixer's in_proj (Mamba-2 or Gated DeltaNet) */
    double ssm_out;   /* its out_proj */
    double ssm_scan;  /* its chunked scan (flops_mamba_scan, flops_gdn_scan) */
    double csa_compress; /* DeepSeek-V4: the layer's compressor projections (0 without one) */
    double hc_map;    /* DeepSeek-V4: the hyper-connection modules' per-token mappings */
    double total;     /* sum of the above */
    double o_group;   /* of attn_out, DeepSeek-V4's grouped low-rank part (a 16-bit einsum) */
    /* DSA's indexer on a layer computing the top-k (flops_dsa_*), not in total: its forward
     * scores every causal pair, its projections run forward and weight gradient (their inputs
     * are detached), and the sparse KL loss that trains it adds a forward QK of the selected
     * pairs (the target) and the scores' gradient there */
    double dsa_index;      /* the index scores, forward: 2 H_I (d_I + 1) per causal pair */
    double dsa_index_bwd;  /* their gradient on the selected pairs: 4 H_I (d_I + 1) each */
    double dsa_teacher;    /* the loss's target, QK of the selected pairs: 2 heads (c + r) */
    double dsa_index_proj; /* the indexer's projections, forward */
    /* DeepSeek-V4's indexer (a ratio-4 CSA layer) fills the same four, over the compressed
     * entries: its scores over every causal entry, its gradient on the chosen ones -- which
     * Megatron-Core's fused kernel computes in the forward (csa_index_bwd_in_fwd) -- the loss's
     * target over them and its projections. */
    int csa_index_bwd_in_fwd;
};

/* Weights one token multiplies in an MTP module's input projection (per token of the
 * sequence; DeepSeek-V4's h_proj multiplies each residual stream). */
double flops_mtp_proj_weights(const struct model *m);
/* Forward FLOPs of layer `layer` for one sequence. */
void flops_layer_fwd(const struct model *m, int layer, int seq, int causal,
                     struct layer_flops *out);
/* The SSD scan's chunk length: Megatron-Core's MambaMixer default (chunk_size=128,
 * megatron/core/ssm/mamba_mixer.py). */
#define MAMBA_CHUNK 128.0
/* The scan's chunk length for sequences of `seq` tokens: MAMBA_CHUNK, or one shorter chunk. */
double flops_mamba_chunk(int seq);
/* Forward FLOPs of a Mamba-2 mixer's SSD scan over one sequence of `seq` tokens, as its
 * chunked algorithm runs them (flops.c). */
double flops_mamba_scan(const struct model *m, int seq);
/* Backward FLOPs of the same scan as mamba_ssm's kernels run them, recomputation included
 * (flops.c). */
double flops_mamba_scan_bwd(const struct model *m, int seq);
/* The gated delta rule's chunk length: FLA's chunk_gated_delta_rule, which Megatron-Core's
 * GatedDeltaNet calls (ssm/gated_delta_net/gdn.py, chunk_size = 64). */
#define GDN_CHUNK 64.0
/* The rule's chunk length for sequences of `seq` tokens: GDN_CHUNK, or one shorter chunk. */
double flops_gdn_chunk(int seq);
/* Forward FLOPs of a Gated DeltaNet's chunked gated delta rule over one sequence of `seq`
 * tokens, as its chunked algorithm runs them (flops.c). */
double flops_gdn_scan(const struct model *m, int seq);
/* FLOPs of one sequence's DSA indexers beyond 3x their layers' forward, over the model and
 * its MTP modules: scores forward and their gradient, the loss's target, projections forward
 * and weight gradient (MegatronBridge's training/utils/flop_utils.py counts the same terms). */
double flops_dsa_step_extra(const struct model *m, int seq);
/* Forward FLOPs of the LM head (logits) for one sequence: 2 * seq * hidden * vocab. */
double flops_head_fwd(const struct model *m, int seq);
/* The MTP modules' forward (m->mtp_layers depths): their layers, projections and heads. */
double flops_mtp_fwd(const struct model *m, int seq, int causal);
/* Forward FLOPs of one whole model pass (all layers, head and MTP modules), one sequence. */
double flops_model_fwd(const struct model *m, int seq, int causal);

/* "Model FLOPs" of one training step per the convention used for MFU: forward + backward
 * = 3 x forward, no recompute, for `samples` sequences.  `causal` as above. */
double flops_model_step(const struct model *m, int seq, long samples, int causal);
/* Of flops_model_fwd, the attention cores' (Q K^T and scores x V): matmuls without weights. */
double flops_model_attn_core(const struct model *m, int seq, int causal);

#endif
