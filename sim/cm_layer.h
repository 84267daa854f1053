/* cm_layer: one transformer layer as the cost model's work modules see it (cm_work.c, which
 * prices it, cm_quant.c and cm_tp.c, which add its quantization and its TP collectives, and
 * cm_stage.c, which builds a stage's ops from it): what the layer holds, what it keeps for its
 * backward, and what it costs.  Internal to the cost model. */
#ifndef STEPSIM_CM_LAYER_H
#define STEPSIM_CM_LAYER_H

#include "cm_internal.h"
#include "flops.h"

/* Activation tensors one layer keeps for its backward: bytes per micro-batch on one GPU.
 * Korthikanti et al. 2022, sec. 4.1, generalised to GQA, MLA, gated MLPs and MoE; the parts
 * are apart so selective recompute can drop the ones it recomputes. */
struct layer_acts {
    double norm_in;        /* the two norms' inputs (residual stream; SP-sharded) */
    double qkv_in, mlp_in; /* the norms' outputs: inputs of QKV and of FC1 / the router */
    double masks;          /* hidden-dropout masks, 1 byte per element */
    double qkv;            /* Q, K and V (MLA: after the up-projections) */
    double latent;         /* MLA's compressed Q and KV latents (needed when the up-projections
                              are recomputed; otherwise kept inside qkv's inputs) */
    double attn_out;       /* the attention output: the projection's input */
    double dense_hidden;   /* dense MLP: FC1 output and activation output */
    double shared_hidden;  /* the shared experts', likewise */
    double moe_hidden;     /* the routed experts', likewise */
    double moe_act_out;    /* of which their activation outputs (FC2 inputs) */
    double permuted;       /* tokens as dispatched to the experts */
    double latent_out;     /* LatentMoE: the combined latent output, fc2_latent_proj's input */
    double scores;         /* unfused attention's scores and softmax output (+ dropout mask) */
    double dora;           /* peft=dora: each adapted linear's output before the magnitude
                              rescales it, which the magnitude's gradient reads */
    double dsa;            /* DSA: the keys its absorbed attention reads, gathered under CP;
                              on a layer computing the top-k, the selected indices (int32) and
                              the indexer's query, head weights and keys for its loss */
    double csa;            /* DeepSeek-V4's compressed attention: the compressor's projected
                              entries and softmax, the compressed keys, and on an indexed layer
                              the indexer's query, keys, weights, chosen indices and the
                              gradients its fused kernel computed in the forward (cm_work.c) */
    double hc;             /* hyper-connections: per block the streams (n x hidden) and the
                              block's output, kept for the mixing's backward, and the per-token
                              weights */
    double ssm;            /* a linear-time mixer's: a Mamba-2 mixer's (mamba_ssm's
                              MambaSplitConv1dScanCombinedFn, Megatron-Core's training path) the
                              in_proj output, the scan's output before the z gate, the norm's
                              input and out_proj's input; a Gated DeltaNet's (cm_work.c,
                              layer_acts); the conv1d output is recomputed in the backward */
};

/* What a layer holds (model.h): a token mixer, an MLP, and the blocks they sit in. */
struct layer_parts {
    enum layer_mixer mixer;
    enum layer_mlp mlp;
    int blocks; /* pre-norm + residual pairs: 2 in a transformer layer, 1 in a hybrid one */
    int indexer; /* DSA: the layer's attention computes its top-k (model_dsa_computes_topk);
                    CSA: a ratio-4 layer runs the indexer (model_csa_indexed) */
    int csa_ratio; /* CSA: the layer's compression ratio (model_csa_ratio; 0 without) */
};

static inline struct layer_parts layer_parts_of(const struct model *m, int layer)
{
    enum layer_mixer mixer = model_layer_mixer(m, layer);
    int ratio = m->csa_layers > 0 ? model_csa_ratio(m, layer) : 0; /* ratio 4: the indexer */
    int indexer = ratio == 4 || (m->dsa_topk > 0 && model_dsa_computes_topk(m, layer));
    return (struct layer_parts){mixer, model_layer_mlp(m, layer), model_layer_blocks(m),
                                mixer == MIXER_ATTENTION && indexer, ratio};
}

/* Kernel launches of one layer, per pass. */
struct kernel_counts {
    double fwd, bwd, wgt;
};

/* One layer's cost on one GPU for one micro-batch: seconds of each part of its work, each
 * pass's communication before any overlap, its kept activations and its kernel launches. */
struct layer_cost {
    double gemm_fwd;           /* forward matmul time (also the weight-gradient time) */
    double mla_up;             /* of which MLA's up-projections */
    double mlp_gemm;           /* of which the dense MLP (MoE layers: the shared experts) */
    double expert_gemm;        /* of which the routed experts */
    double latent_gemm;        /* of which LatentMoE's two projections */
    double router_gemm;        /* of which the MoE router's gating GEMM */
    double col_mixer, col_mlp; /* of which the GEMMs of the column-parallel linears, which run
                                  on their gathered input: the mixer's (QKV, or Mamba's
                                  in_proj) and a dense MLP's first (SwiGLU's fused gate and up,
                                  else fc1); each runs again as an input- and a weight-gradient
                                  GEMM in the backward */
    double op_gemm;            /* of which the matmuls torchtitan's per-op policy runs again */
    double lora_fwd;           /* peft=lora: the adapters' forward (GEMMs, the sum into the base
                                  output, launches), not in gemm_fwd */
    double lora_gemm;          /* of which their GEMMs and launches: the backward runs them again
                                  as input gradient and again as the weight gradient */
    double dora_bwd;           /* peft=dora: the rescaling's backward (the output gradient
                                  scaled, the magnitude's gradient reduced over the tokens) */
    double core_fwd, core_bwd; /* attention core, or a Mamba-2 mixer's SSD scan */
    double core_kernels_fwd;   /* an attention core's forward kernels: the attention kernel (an
                                  unfused core's three) and a CP ring's steps and corrections --
                                  what recomputing core_attn launches again; 0 for a mixer that
                                  is not attention */
    double dsa_fwd;            /* DSA's indexer, forward: projections, scores and top-k, and the
                                  loss's target (layer_dsa); not in core_fwd */
    double dsa_bwd;            /* its scores' gradient, in the backward */
    double dsa_wgrad;          /* its projections' weight gradient (no input gradient: their
                                  inputs are detached) */
    double elem_fwd;           /* element-wise forward time */
    double norm_fwd;           /* of which the two norms */
    double rope_fwd;           /* of which unfused rotary embedding of Q and K */
    double mla_qkv;            /* MLA's Q/K/V assembly, each way (not in elem_fwd) */
    double cp_fwd, cp_bwd;     /* the CP ring's own copies and corrections (not in elem_fwd) */
    double act_dense, act_moe; /* of which the activation functions: dense MLP or shared
                                  experts, routed experts */
    double permute_fwd;        /* of which the token permutation of MoE layers */
    double expert_bias_fwd, expert_bias_bwd; /* of elem_fwd: the experts' FC2 bias added in
                                                PyTorch ops, and its backward (not 2x) */
    double grad_sum_bwd; /* the backward's sums of the input gradients of separate linears
                            that read one input (separate_grad_sums_s) */
    double tp_fwd, tp_bwd;     /* TP collective time per pass (before overlap) */
    double tp_regather;        /* of tp_fwd, what recomputing the per-op policy's matmuls repeats */
    double tp_bwd_hidden;      /* of tp_bwd, what column-parallel GEMMs hide of their own */
    double tp_fwd_inline;      /* of tp_fwd, what torch's async TP leaves in line */
    double tp_bwd_inline;      /* of tp_bwd, what torch's async TP leaves in line */
    double tp_shared_fwd, tp_shared_bwd; /* of tp_fwd / tp_bwd, the shared experts' gather and
                                            reduce-scatter (a MoE layer under SP) */
    double tp_mlp_fwd;         /* of tp_fwd, a dense MLP block's own: its input's gather and its
                                  output's reduce-scatter, or its all-reduce (what recomputing
                                  the MLP runs again; 0 in a parallel block, whose reduction
                                  the mixer shares) */
    double mla_regather;       /* TP gathers recomputing MLA's up-projections repeats */
    struct cp_traffic cp;      /* CP K/V exchange per pass: behind attention and blocking */
    double ep_fwd, ep_bwd;     /* EP dispatch + combine time per pass */
    double quant_fwd, quant_bwd; /* fp8 quantization of GEMM inputs / output gradients */
    double router_fwd;         /* MoE router's softmax and top-k (backward: the same again) */
    struct layer_acts acts;    /* activation memory kept for the backward without recompute */
    double input_bytes;        /* the layer input (what full recompute keeps) */
    struct kernel_counts eager, graphed; /* launches per pass, from Python / from a graph */
};

/* Count kernels of a module into the layer's launches: from a graph when the scenario's
 * graphs capture any of `scope` (enum scn_graph_scope bits), else from Python. */
void cm_count_kernels(const struct cm_ctx *c, int scope, double fwd, double bwd, double wgt,
                      struct layer_cost *lc);

/* A kernel launched from a CUDA graph costs the GPU's own gap between dependent kernels, not
 * the host's launch: an upper bound, 0.9 us a kernel with the kernels' own work, from CUDA.jl's
 * documentation ("Graphs": an RK4 step's 80 broadcast kernels take 70 us launched as one
 * graph, 260 us launched one by one). */
#define GRAPH_KERNEL_GAP_S 0.9e-6

/* A layer's cost and parameters depend on the layer only through its kind (model.h):
 * consecutive layers of one kind -- all of them in most models -- share one computation.  A
 * memo lives for one stage. */
struct layer_memo {
    int valid, kind, narrow;
    struct layer_cost lc;
    double dense, expert; /* cm_layer_params */
};

/* Layer `layer`'s cost on this GPU (its linear GEMMs narrow or not: cm_layer_is_narrow), and
 * its dense and expert parameters, through `memo`. */
const struct layer_cost *cm_layer_cost(const struct cm_ctx *c, int layer, int narrow,
                                       struct layer_memo *memo, double *dense, double *expert);

/* What selective recompute costs one layer in its backward. */
struct recompute_cost {
    double work; /* forward work run again */
    double ep;   /* EP communication with it (a recomputed MoE layer dispatches again) */
    double tp;   /* TP communication with it (before overlap) */
    double kept; /* activation bytes still kept */
    double cp;   /* CP communication with it, exposed (a recomputed attention core exchanges
                    its K/V again) */
    double launch; /* of work: the gaps its kernels' launches leave */
    struct layer_acts acts; /* what is kept, part by part (zero under the per-op policy, which
                               keeps whole op outputs instead) */
};

/* The matmul FLOPs torchtitan's per-op policy runs again in one layer, of `lf` (its K
 * projection, the attention projection and a gated MLP's up-projection; none outside
 * attention layers). */
double cm_op_policy_flops(const struct model *m, const struct layer_parts *lp,
                          const struct layer_flops *lf);

/* Selective recompute of the scenario's modules in layer `lp`. */
struct recompute_cost cm_selective_recompute(const struct cm_ctx *c, const struct layer_parts *lp,
                                             const struct layer_cost *lc);

/* Of a layer's kept activations `a`, the bytes fine-grained activation offloading moves to host
 * memory, group by group: the saved inputs of the scenario's offload-modules (0 for a module not
 * offloaded or holding nothing); returns their sum. */
double cm_offload_groups(const struct cm_ctx *c, const struct layer_parts *lp,
                         const struct layer_acts *a, double group_bytes[CM_OFFLOAD_GROUPS]);

/* The bytes of a layer's kept activations, all parts summed. */
double cm_acts_total(const struct layer_acts *a);

/* One GEMM of `flops` at rate r; a GEMM of linear module `module` (enum scn_linear_module bit)
 * at its module's rate (bf16, MXFP8 or the run's narrow type). */
double cm_gemm_s(const struct cm_ctx *c, const struct gemm_rate *r, double flops);
double cm_module_matmul_s(const struct cm_ctx *c, int module, double flops);

#endif
