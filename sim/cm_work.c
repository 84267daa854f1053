/* cm_work: how long one virtual stage's ops take (see cm_internal.h).
 *
 * Conventions (one micro-batch of b samples of s tokens, on one GPU of a stage):
 *   tokens      T  = b * s / cp             (context parallelism splits the sequence)
 *   sharded     Ts = T / tp with sequence parallelism, else T (norms, residuals, dropout)
 *   matmul work = layer FLOPs (flops.c) * b / (tp * cp)   (MoE experts: balanced over EP)
 * Activations are cm_config's act_bytes per element: 2 (bf16/fp16; fp8 training keeps bf16
 * activations), 4 in an fp32 or tf32 run.  The byte counts below, read in 16-bit runs' code,
 * are written as act_bytes per element of a tensor in the activations' type, FP32_BYTES per
 * element of one a kernel keeps in fp32 whatever the run, and cm_fp32_cast_bytes per cast
 * between the two, which an fp32 run does not make -- nor launch: each such cast's kernel is
 * counted by cm_fp32_cast_kernels, none in an fp32 run.
 * Time of work: matmuls at peak x the hardware's matmul-efficiency curve for their size,
 * attention at peak x the attention curve, element-wise work at HBM bandwidth x memory
 * efficiency.  Every constant below says where it comes from. */
#include <math.h>
#include <string.h>

#include "cm_layer.h"
#include "cm_quant.h"
#include "cm_tp.h"
#include "flops.h"
#include "framework.h"

/* Element-wise HBM traffic per layer forward, in units of Ts*h elements: two norms (read +
 * write) 4, two residual adds (2 reads + 1 write) 6 = 10 (Korthikanti et al. 2022 count the
 * same tensors for memory; bias-add and dropout are fused into them in Megatron). */
#define ELEMWISE_FWD_UNITS 10.0
/* Flash-attention backward runs 5 matmuls of the forward's size where the forward runs 2
 * (it recomputes the scores): 2.5x the FLOPs (Dao, FlashAttention-2, 2023, sec. 3.1) -- and
 * at a lower rate, the hardware file's attention-backward-ratio of the forward's (0.86 on
 * A100 and Hopper, HW_ATTN_BWD_RATIO; less on Blackwell, and less again for latent attention's
 * wider heads: cm_config's attention_bwd_ratio).  The hardware files' attention curves give
 * the forward's rate. */
#define FLASH_BWD_FLOPS 2.5
/* Fused scale-mask-softmax of unfused attention: reads and writes every score (act_bytes each)
 * forward, twice that backward (Megatron's fused_softmax kernels). */
#define SOFTMAX_FWD_PASSES 2.0
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
/* Of those, per block (pre-norm + mixer or MLP + residual): attention 6 forward / 11
 * backward, an MLP 5 / 9; each block 2 weight-gradient GEMMs and 2 TP collectives.  A Mamba-2
 * block: norm + in_proj, conv1d, the SSD scan's five kernels (chunk cumsum, chunk state, state
 * passing, C B^T, chunk scan: mamba_ssm ssd_combined.py), gated norm, out_proj, residual = 10
 * forward, about twice that backward. */
#define KERNELS_ATTN_FWD 6.0
#define KERNELS_ATTN_BWD 11.0
#define KERNELS_MAMBA_FWD 10.0
#define KERNELS_MAMBA_BWD 20.0
/* A MoE block launches far more than a dense MLP's five / nine, as read in Megatron-Core
 * (megatron/core/transformer/moe/ router.py, token_dispatcher.py, moe_utils.py and experts.py,
 * NVIDIA/Megatron-LM commit d98e8a64dd) with router and permute fusion on:
 *   forward, about 23 beside the experts' GEMMs: the router's cast to fp32 (an fp32 run's input
 *   is fp32 already: no kernel either way), gating GEMM, fused top-k and the aux-loss score
 *   and loss kernels, the expert-bias token count (6); the
 *   dispatcher's tokens-per-expert count, its gather over the EP group, the reshapes and sums
 *   into split sizes and their copy to the host (6); the fused permute's row map and the
 *   permutation of tokens and probabilities (3); two all-to-alls and two chunk sorts (4); the
 *   combine's chunk sort, all-to-all and fused unpermute with the probabilities (4);
 *   backward, about 14: each of those with a gradient, in reverse (the counts and copies have
 *   none; the gating GEMM has two), of them about 5 the router's.
 * Of those, CUDA graphs of Megatron-Core's scopes capture: moe_router the router's (6 / 5),
 * moe_preprocess the dispatcher's counts and split sizes (6 / 0), moe all of them.
 * The experts: Transformer Engine's GroupedLinear runs one cuBLAS GEMM per local expert
 * (transformer_engine/common/gemm/cublaslt_gemm.cu, multi_stream_cublas_gemm, spread over its
 * compute streams): FC1 and FC2 each once per local expert in the forward, in the input
 * gradient and in the weight gradient, where a dense MLP runs them once.  Its fused grouped
 * MLP (moe-fused-grouped-mlp) runs each once for all the local experts, the activation in
 * their epilogues.  Shared experts are a dense MLP's FC1, activation and FC2 beside them. */
#define KERNELS_MOE_ROUTE_FWD 23.0
#define KERNELS_MOE_ROUTE_BWD 14.0
#define KERNELS_ROUTER_FWD 6.0
#define KERNELS_ROUTER_BWD 5.0
#define KERNELS_MOE_PREPROCESS_FWD 6.0
/* Without moe_router_fusion (Megatron-Core before 0.13) the router is PyTorch ops, read in
 * megatron/core/transformer/moe/router.py and moe_utils.py at core_v0.12.0 for a sigmoid
 * router with expert bias, group-limited top-k, capacity and the sequence aux loss:
 * topk_softmax_with_capacity about 29 kernels (sigmoid, bias add, group_limited_topk's 10,
 * gather, the normalisation's 3, scaling, the two scatters into [T, E] and their casts, the
 * count, the capacity top-k and mask, the final product), the aux-loss scores and
 * sequence_load_balancing_loss_func about 15 (with a gather over TP), the expert-bias count
 * 2, the casts 2: about 49 where the fused router's 6 are counted above, +43; backward, about
 * 28 autograd kernels where 6 are counted, +22.  A softmax router without groups (the same
 * function's softmax branch: top-k, softmax, the two scatters and their casts, the count, 9;
 * switch_load_balancing_loss_func's scores and sums with the loss tracker's copies, about 10)
 * runs about 19, +13 forward, and about +8 backward.  Models with group-limited routing
 * (route_nodes) take the first count. */
#define KERNELS_UNFUSED_ROUTER_FWD 43.0
#define KERNELS_UNFUSED_ROUTER_BWD 22.0
#define KERNELS_UNFUSED_SOFTMAX_ROUTER_FWD 13.0
#define KERNELS_UNFUSED_SOFTMAX_ROUTER_BWD 8.0
#define KERNELS_SHARED_FWD 3.0
#define KERNELS_SHARED_BWD 3.0
#define KERNELS_SHARED_WGT 2.0
/* Transformer Engine's Fp8Padding of the tokens and of their probabilities and Fp8Unpadding of
 * FC2's output: one fused_multi_row_padding / unpadding kernel each, each way
 * (cm_expert_pad_copies). */
#define KERNELS_EXPERT_PADDING 3.0
/* Eager PyTorch (elementwise=eager: torchtitan without torch.compile) runs each element-wise
 * op of its model code as a kernel of its own (torchtitan/models/norms.py RMSNorm and
 * models/llama/model.py at 9dec370, the code of its December 2024 benchmarks):
 *   RMSNorm x.float(), pow(2), mean, rsqrt(+eps), x * rsqrt, type_as, * weight: bytes moved per
 *   element 6 + 8 + 4 + 8 + 6 + 4 = 36 where a fused norm moves 4 (read and write bf16), 7 more
 *   launches forward and about 11 more backward (autograd's kernel per op) -- the two casts
 *   (EAGER_CASTS; none in an fp32 run), the fp32 passes (EAGER_RMSNORM_FP32_BYTES) and the
 *   weight's product, 2 act_bytes;
 *   SwiGLU silu(a) * b: 2 + 2 and 4 + 2 = 10 bytes per inner element where fused moves 6, one
 *   more launch forward, two backward;
 *   RoPE on Q and K: .float(), the complex multiply and type_as, 6 + 8 + 6 = 20 bytes per
 *   element (a fused rotary kernel's own 4 are not counted either way), five more launches
 *   each way -- the two casts and the complex64 multiply (EAGER_ROPE_FP32_BYTES).  LayerNorm and
 *   GELU are single PyTorch kernels eager or not. */
/* Megatron-Core's unfused RoPE (apply_rope_fusion off: rope_utils.py _apply_rotary_pos_emb_bshd
 * at 23e6471569^, the code of NeMo's DeepSeek config of April 2025): t * cos, rotate_half's
 * negation and cat, * sin, the sum and the final cat with the unrotated part, 6.5 reads and 5.5
 * writes per rotated element, 24 bytes, of which a fused kernel's own 4 are not counted; MLA
 * first de-interleaves the rotary part with one more cat (28 - 4 = 24).  Every pass is in t's
 * type (the tables are cast to it), so 10 and 12 elements of act_bytes.  Seven kernels each for
 * Q and K, and six more each on the cos / sin tables. */
/* Are the routing probabilities the experts see fp32: an fp32 router, or DeepEP / HybridEP, which
 * carry them in fp32 (token_dispatcher.py: "DeepEP only supports float32 probs"; HybridEP
 * likewise)?  Else the router's bf16. */
static int routed_probs_fp32(const struct cm_ctx *c)
{
    return c->scn->moe_router_fp32 || scn_flex_dispatch(c->scn);
}

/* Bytes of a routing probability as the experts see it: fp32 (routed_probs_fp32), else the
 * router's logits' type, the activations'. */
static double routed_prob_bytes(const struct cm_ctx *c)
{
    return routed_probs_fp32(c) ? FP32_BYTES : c->cfg->act_bytes;
}

/* Experts with biases (GPT-OSS): Megatron-Core's TEGroupedMLP adds each local expert's FC2
 * bias, scaled by the tokens' routing probabilities, in PyTorch ops after the grouped GEMM
 * (moe/experts.py, _apply_bias, at 2edffadb5, the Megatron-Core of Megatron-Bridge v0.4.2 and
 * the 26.04.01 container: t + b * p per expert slice, torch.cat, .to(the output's dtype)).  Per
 * element of the experts' output, with probabilities of q bytes -- 4 under DeepEP / HybridEP
 * or an fp32 router (token_dispatcher.py: "DeepEP only supports float32 probs"), else the
 * router's type (router.py: softmax(...).type_as(logits)), the activations' --: b * p written
 * (q), t + that read 2 + q and written q, the cat read q and written q, and with fp32 q a cast
 * back read 4 and written 2: 2 + 5q (+ 6) bytes, 12 or 28; the backward forms the bias's and
 * the probabilities' gradients as products reduced (3q each), and with fp32 q casts the
 * gradient in and t's copy out (6 + 6): 12 or 36.  (An fp32 run: t and q 4 bytes, no cast, 24
 * each way.)  Kernels: two per local expert and the cat and cast forward (an fp32 run: no cast);
 * about five per expert and one backward.  The fused grouped MLP applies the bias in its
 * epilogue. */
static double expert_bias_bytes(const struct cm_ctx *c, int backward)
{
    double a = c->cfg->act_bytes, q = routed_prob_bytes(c);
    double cast = q > a ? cm_fp32_cast_bytes(c->cfg) : 0.0;
    if (backward)
        return 6.0 * q + 2.0 * cast;
    return a + 5.0 * q + cast;
}
/* Routed experts whose weighted activation Megatron-Core's TEGroupedMLP cannot fuse.  Its fused
 * kernels cover SwiGLU and quick-GeGLU (bias_activation_fusion; any other activation raises
 * "Only support fusion of swiglu and quick_gelu") and squared ReLU
 * (use_fused_weighted_squared_relu); a GELU expert runs PyTorch ops instead (moe/experts.py,
 * TEGroupedMLP.bias_act_func, at cf39a4ddcf and d98e8a6): the activation (read and write 2
 * bytes an element of FC1's output), the product with the routing probabilities, which
 * promotes to their dtype (read 2, write q), and with fp32 probabilities the cast back (read 4,
 * write 2) -- 6 + q (+ 6) bytes, 8 or 16 (an fp32 run's 16, no cast), where a fused kernel
 * reads and writes 4 -- in two or three kernels where a fused one launches one; autograd
 * mirrors them in the backward (ELEMWISE_BWD_FACTOR).  0 where the activation is fused. */
static double unfused_routed_act_bytes(const struct cm_ctx *c)
{
    if (c->m->act != ACT_GELU || !fw_megatron_core(c->scn) || c->scn->moe_fused_grouped_mlp)
        return 0.0;
    double a = c->cfg->act_bytes, q = routed_prob_bytes(c);
    return 3.0 * a + q + (q > a ? cm_fp32_cast_bytes(c->cfg) : 0.0);
}

/* Kernels beyond the fused activation's one, each way, of unfused_routed_act_bytes. */
static double unfused_routed_act_kernels(const struct cm_ctx *c)
{
    if (unfused_routed_act_bytes(c) <= 0.0)
        return 0.0;
    return 1.0 + (routed_probs_fp32(c) ? cm_fp32_cast_kernels(c->cfg) : 0.0); /* the cast back */
}

#define UNFUSED_ROPE_ELEMENTS 10.0
#define UNFUSED_MLA_ROPE_ELEMENTS 12.0
#define KERNELS_UNFUSED_ROPE 26.0
#define KERNELS_UNFUSED_ROPE_BWD 14.0
/* MLA's Q, K and V for the attention kernel, per token and local head, in elements, with dn /
 * dp / dv the no-rope, rope and value head sizes (multi_latent_attention.py,
 * get_query_key_value_tensors):
 *  - unfused (before Megatron-Core's MLA RoPE fusion of June 2025, 23e6471569, or without
 *    apply_rope_fusion): Q = cat(q_nope, q_rope) reads dn + dp, writes dn + dp; K =
 *    cat(k_nope, k_rope expanded to every head) reads dn, writes dn + dp; V.contiguous() reads
 *    and writes dv: 4 dn + 3 dp + 2 dv.  The backward assembles the up-projection's gradients
 *    the same way (Q's gradient through the split, K's and V's into one KV gradient, k_rope's
 *    summed over the heads): 4 dn + 3 dp + 2 dv again;
 *  - fused (fused_mla_yarn_rope_apply.py: Q's rope in place, one kernel writing K and V from
 *    the up-projection's output): 2 dn + dp + 2 dv each way, the in-place rope not counted. */
#define KERNELS_MLA_UNFUSED 3.0
#define KERNELS_MLA_FUSED 1.0
#define EAGER_RMSNORM_FP32_BYTES 20.0 /* pow, mean, x * rsqrt: 8 + 4 + 8 per element */
#define EAGER_SWIGLU_UNITS 5.0        /* act_bytes units per inner element (fused: 3) */
#define EAGER_ROPE_FP32_BYTES 8.0     /* the complex64 multiply, per element of Q and K */
/* Of the eager norm's and RoPE's kernels, each way, the cast to fp32 and the one back: an fp32
 * run launches neither (cm_fp32_cast_kernels). */
#define EAGER_CASTS 2.0
#define KERNELS_EAGER_NORM_FWD 7.0
#define KERNELS_EAGER_NORM_BWD 11.0
#define KERNELS_EAGER_SWIGLU_FWD 1.0
#define KERNELS_EAGER_SWIGLU_BWD 2.0
#define KERNELS_EAGER_ROPE 5.0

/* An eager op's `n` kernels, its EAGER_CASTS among them, less the casts an fp32 run does not
 * launch. */
static double eager_kernels(const struct cm_ctx *c, double n)
{
    return n - EAGER_CASTS * (1.0 - cm_fp32_cast_kernels(c->cfg));
}

/* The gated delta rule's backward: FLA's chunk_gated_delta_rule_bwd recomputes what its
 * forward did not keep (W and U from the kept inverted triangles, the chunk states), then takes
 * two input gradients per matmul.  As measured for FLA's kernels of the ungated delta rule, the
 * same chunked algorithm and recomputation (tile-ai/TileOPs pull request 633, March 2026: on an
 * A100, batch 2 x 4 heads, backward against forward 1.70x at 8K tokens and 1.91x at 16K, the
 * largest and least launch-bound size): 1.9x the forward.  No measurement of the gated kernels
 * on a Hopper or Blackwell GPU was at hand. */
#define GDN_SCAN_BWD_FACTOR 1.9
/* A Gated DeltaNet block's kernels (Megatron-Core gdn.py and FLA's chunk_gated_delta_rule):
 * forward the norm and in_proj, the conv1d, the input preparation (split, L2 norms, gates), the
 * rule's six (the decay's chunk cumulative sum, beta K K^T, the triangular solve, W and U, the
 * chunk states, the output), the gated norm, out_proj and the residual: 12; the backward about
 * twice that. */
#define KERNELS_GDN_FWD 12.0
#define KERNELS_GDN_BWD 24.0

/* ---- time of work --------------------------------------------------------------------- */

/* One GEMM of `flops` at rate r (cm_layer.h). */
double cm_gemm_s(const struct cm_ctx *c, const struct gemm_rate *r, double flops)
{
    if (flops <= 0)
        return 0.0;
    return flops / (r->peak * r->gain * c->hw->gpu.training_eff * hw_curve_eval(r->eff, flops));
}

/* A GEMM of the transformer's linear layers (fp8 in fp8 training). */
static double matmul_s(const struct cm_ctx *c, double flops)
{
    return cm_gemm_s(c, &c->linear, flops);
}

double cm_gemm16_s(const struct cm_ctx *c, double flops)
{
    return cm_gemm_s(c, &c->wide, flops);
}

static double attention_s(const struct cm_ctx *c, double flops)
{
    if (flops <= 0)
        return 0.0;
    return flops / (c->attn_peak * c->hw->gpu.training_eff * c->hw->gpu.attention_step_share *
                    c->cfg->attention_share *
                    hw_curve_eval(&c->hw->gpu.attn_eff, flops));
}

double cm_memory_s(const struct cm_ctx *c, double bytes)
{
    return bytes / (c->hw->gpu.hbm_bw_Bps * c->hw->gpu.mem_eff);
}

/* Matmul time of one dense MLP of `flops` total: SwiGLU runs a fused gate+up GEMM (2/3 of the
 * work) and a down GEMM (1/3); GELU-style MLPs two equal GEMMs. */
/* The rate a linear module's GEMMs (enum scn_linear_module) run at: the run's narrow type,
 * unless bf16-modules keeps the module 16-bit or mxfp8-modules runs it in MXFP8 (a bf16 edge
 * layer's context runs every module wide already). */
static const struct gemm_rate *module_rate(const struct cm_ctx *c, int module)
{
    if (!c->narrow)
        return &c->linear;
    if (c->scn->bf16_modules & module)
        return &c->wide;
    if (c->scn->mxfp8_modules & module)
        return &c->mxfp8;
    return &c->linear;
}

double cm_module_matmul_s(const struct cm_ctx *c, int module, double flops)
{
    return cm_gemm_s(c, module_rate(c, module), flops);
}

/* A GEMM of `flops` reading an [rows x width] input, no faster than HBM moves its operands
 * and output: a skinny one (few output columns: a K or V projection under TP) reads its whole
 * input for little work, and the FLOP-indexed curve alone would price it as compute-bound.
 * Inputs and weight in the module's type (the quantized copy in a narrow run), output in 16
 * bits (nvfp4 taken as fp8: an upper bound).  rows 0: the curve alone. */
static double roofline_matmul_s(const struct cm_ctx *c, int module, double flops, double rows,
                                double width)
{
    double t = cm_module_matmul_s(c, module, flops);
    if (!(rows > 0 && width > 0 && flops > 0))
        return t;
    int narrow = c->narrow && module_rate(c, module) != &c->wide; /* fp8 copies (scales aside) */
    double in = narrow ? 1.0 : c->cfg->act_bytes, cols = flops / (2.0 * rows * width);
    double bytes = in * (rows * width + width * cols) + c->cfg->act_bytes * rows * cols;
    double floor = cm_memory_s(c, bytes);
    return floor > t ? floor : t;
}

/* A group of `parts` linears that read one [rows x width] input, `flops` in all, the part-th
 * taking `share` of them: one GEMM of the whole where the framework fuses them (Megatron-Core's
 * linear_qkv and gated linear_fc1), else a GEMM each, smaller and slower (torchtitan's Llama,
 * model.py at 9dec370 and 820504e: wq, wk, wv and w1, w3 are nn.Linear of their own); each at
 * least its HBM time where the shape is known (rows > 0). */
static double fused_gemm_s(const struct cm_ctx *c, int module, double flops, int parts,
                           const double *share, double rows, double width)
{
    if (!c->cfg->separate_projections)
        return roofline_matmul_s(c, module, flops, rows, width);
    double t = 0.0;
    for (int i = 0; i < parts; i++)
        t += roofline_matmul_s(c, module, flops * share[i], rows, width);
    return t;
}

/* A gated MLP's gate and up-projection, `flops` for the two. */
static double gate_up_s(const struct cm_ctx *c, int module, double flops)
{
    static const double halves[] = {0.5, 0.5};
    return fused_gemm_s(c, module, flops, 2, halves, 0.0, 0.0);
}

static double mlp_s(const struct cm_ctx *c, int module, double flops, int n_gemms_split)
{
    if (flops <= 0)
        return 0.0;
    if (c->m->act == ACT_SWIGLU)
        return gate_up_s(c, module, flops * 2.0 / 3.0 / n_gemms_split) * n_gemms_split +
               cm_module_matmul_s(c, module, flops / 3.0 / n_gemms_split) * n_gemms_split;
    return 2.0 * n_gemms_split * cm_module_matmul_s(c, module, flops / 2.0 / n_gemms_split);
}

/* ---- one transformer layer ------------------------------------------------------------- */

/* Count a module's kernels into the layer's launches (cm_layer.h). */
void cm_count_kernels(const struct cm_ctx *c, int scope, double fwd, double bwd, double wgt,
                      struct layer_cost *lc)
{
    struct kernel_counts *k = c->cfg->graph_scope & scope ? &lc->graphed : &lc->eager;
    k->fwd += fwd;
    k->bwd += bwd;
    k->wgt += wgt;
}

/* The launch cost of one kernel of a module of `scope`. */
static double launch_s(const struct cm_ctx *c, int scope)
{
    return c->cfg->graph_scope & scope ? GRAPH_KERNEL_GAP_S : c->cfg->eager_launch_s;
}

/* DeepSeek-V3's fp8 training caches what the backward reads of the MoE in its fine-grained fp8
 * (1x128 tiles), and the attention output in E5M6 (DeepSeek-V3 report, arXiv:2412.19437, sec.
 * 3.3.3, "Low-Precision Storage and Communication"): framework=deepseek with fp8 GEMMs. */
static int deepseek_fp8_cache(const struct cm_ctx *c)
{
    return c->scn->framework == FW_DEEPSEEK && c->narrow;
}

/* E5M6: 1 sign, 5 exponent and 6 mantissa bits, 12 bits an element (sec. 3.3.3, "Inputs of the
 * Linear after the attention operator"; the report names no scales for it). */
#define E5M6_BYTES 1.5

/* What DSA's absorbed attention keeps (Megatron-Core absorbed_mla.py and dsa.py): per head the
 * absorbed query (latent and rotary channels), the query's non-rotary part the absorption read
 * and the core's latent output the value up-projection reads (`per` tokens: TP-sharded heads);
 * the one key head, every key of the sequence when context parallelism gathered them; on a
 * layer computing the top-k, its indices (4 bytes each) and what the indexer's loss reads
 * back -- its query and keys (16-bit) and head weights (fp32). */
static void dsa_acts(const struct cm_ctx *c, int computes, double T, double per,
                     struct layer_acts *a)
{
    const struct model *m = c->m;
    double latent = m->kv_lora_rank, rope = m->qk_rope_dim, keys = T * c->cfg->cp;
    a->qkv = c->cfg->act_bytes * per * m->heads * (2.0 * latent + rope + m->qk_nope_dim);
    a->dsa = c->cfg->act_bytes * keys * (latent + rope);
    if (computes)
        a->dsa += 4.0 * T * m->dsa_topk +
                  T * m->dsa_index_heads * (c->cfg->act_bytes * m->dsa_index_dim + 4.0) +
                  c->cfg->act_bytes * keys * m->dsa_index_dim;
}

/* What DeepSeek-V4's compressed attention keeps beyond latent attention's (csa.py and
 * dsa_kernels.py at 9d46c924), for T tokens of this GPU (TP 1): the chosen keys' index list the
 * sparse kernels save (int32: the window and, on a compressed layer, its entries -- topk on an
 * indexed one, every one of the sequence's on another); a compressor's two linears' inputs,
 * its projected kv (16-bit) and fp32 softmax, and the key-value entries with the compressed
 * ones appended (kv_full, a copy the attention saves); on an indexed layer the indexer's
 * linears' inputs (its compressor's two and its head weights' the layer input, its query's the
 * query latent), its compressor's tensors, and the gradients of its query, keys and head
 * weights (fp32), which the fused kernel computes in the forward and the backward applies --
 * its query and keys themselves are not kept. */
static void csa_acts(const struct cm_ctx *c, const struct layer_parts *lp, double T,
                     struct layer_acts *a)
{
    const struct model *m = c->m;
    double width = m->v_head_dim, r = lp->csa_ratio, h = m->hidden; /* the entry's width */
    double x_in = cm_kept_input_bytes(c, LM_ATTN_QKV), s = c->cfg->seq;
    double entries = r == 4.0 ? m->csa_topk : r >= 2.0 ? floor(s / r) : 0.0;
    a->csa = 4.0 * T * (m->csa_window + entries);
    if (r >= 2.0) {
        double coff = model_csa_coff(lp->csa_ratio);
        a->csa += 2.0 * x_in * T * h + (c->cfg->act_bytes + 4.0) * T * coff * width +
                  c->cfg->act_bytes * (T + T / r) * width;
    }
    if (lp->indexer) {
        double heads = m->csa_index_heads, dim = m->csa_index_dim;
        a->csa += x_in * T * (3.0 * h + m->q_lora_rank) +
                  (c->cfg->act_bytes + 4.0) * T * 2.0 * dim +
                  c->cfg->act_bytes * (T * heads * dim + T / 4.0 * dim) + 4.0 * T * heads;
    }
}

/* DeepSeek-V4's output projection keeps its 16-bit input in an fp8 run of a recipe other than
 * delayed scaling, or an fp4 run (deepseek_v4_hybrid_attention.py at 9d46c924,
 * set_save_original_input on linear_proj), else the quantized copy. */
static double v4_proj_kept_bytes(const struct cm_ctx *c)
{
    const struct scenario *scn = c->scn;
    int original = c->narrow && (scn->dtype == DT_NVFP4 || scn->fp8_recipe != FP8_DELAYED);
    return original ? c->cfg->act_bytes : cm_kept_input_bytes(c, LM_ATTN_PROJ);
}

/* Hyper-connections (hyper_connection.py, fused_mhc_kernels.py at 9d46c924): per block the n
 * streams, which the fused mixing keeps once for its three uses, the block's output, which the
 * post-mixing keeps, and per token the fp32 gates, mixing logits, Sinkhorn's input and the
 * projection's outputs -- about 65 floats. */
static double hc_acts(const struct cm_ctx *c, const struct layer_parts *lp, double Ts)
{
    double n = c->m->hc_streams, h = c->m->hidden;
    if (c->m->hc_streams == 0)
        return 0.0;
    return lp->blocks * Ts *
           (c->cfg->act_bytes * (n + 1.0) * h + 4.0 * (3.0 * n * n + 3.0 * n + 1.0));
}

struct lora_adapter;
static int lora_adapters(const struct cm_ctx *c, const struct layer_parts *lp,
                         struct lora_adapter *a);
static double dora_kept_bytes(const struct cm_ctx *c, const struct layer_parts *lp, double T);

/* A Mamba or Gated DeltaNet mixer's kept tensors (per: this rank's tokens). */
static double ssm_acts(const struct cm_ctx *c, const struct layer_parts *lp, double per)
{
    const struct model *m = c->m;
    double inner = model_ssm_inner(m), out_in = cm_kept_input_bytes(c, LM_MAMBA_OUT) * inner;
    if (lp->mixer == MIXER_MAMBA)
        return per * (c->cfg->act_bytes * (model_ssm_in_width(m) + 2.0 * inner) + out_in);
    /* GDN: in_proj's output (the conv1d's input, z, beta, alpha); the rule's inputs -- q and k
     * L2-normed and repeated for each value head, v, the decay and beta in fp32 -- and its
     * inverted triangles (C per token and head); its output (the gated norm's input) and
     * out_proj's input */
    double vh = m->gdn_value_heads;
    return per * (c->cfg->act_bytes * (model_ssm_in_width(m) + 2.0 * vh * m->gdn_key_dim +
                                       2.0 * inner + flops_gdn_chunk(c->cfg->seq) * vh) +
                  2.0 * 4.0 * vh + out_in);
}

/* An attention mixer's kept tensors: Q, K and V (or DSA's), MLA's latents, the core's output
 * as its projection keeps it, the compressed attention's. */
static void attention_acts(const struct cm_ctx *c, const struct layer_parts *lp, double T,
                           double Ts, double per, struct layer_acts *a)
{
    const struct model *m = c->m;
    if (m->dsa_topk > 0)
        dsa_acts(c, lp->indexer, T, per, a);
    else
        a->qkv = c->cfg->act_bytes * per * (model_q_width(m) + 2.0 * m->kv_heads * m->head_dim);
    /* what the up-projections' recompute keeps: the latents (DeepSeek-V4's checkpoint keeps
     * the query latent and the layer input itself, its key-value projection's) */
    if (m->kv_lora_rank > 0)
        a->latent =
            c->cfg->act_bytes * Ts *
            (m->q_lora_rank +
             (m->mla_shared_kv ? (double)m->hidden : (double)m->kv_lora_rank + m->qk_rope_dim));
    double out = per * m->heads * m->v_head_dim;
    /* DeepSeek-V3 keeps the projection's input, which the attention's backward reads too, in
     * E5M6 rather than fp8 */
    int e5m6 = deepseek_fp8_cache(c) && !(c->scn->bf16_modules & LM_ATTN_PROJ);
    a->attn_out =
        m->o_groups > 0 /* wo_a, a 16-bit einsum, keeps its input as is */
            ? c->cfg->act_bytes * out + v4_proj_kept_bytes(c) * per * m->o_groups * m->o_lora_rank
            : (e5m6 ? E5M6_BYTES : cm_kept_input_bytes(c, LM_ATTN_PROJ)) * out;
    if (m->csa_layers > 0)
        csa_acts(c, lp, T, a);
}

/* The MLP's kept tensors: FC1's output and the activation's output (FC2's input), the routed
 * experts' for the tokens routed here, their permuted copies, LatentMoE's projection input. */
static void mlp_acts(const struct cm_ctx *c, const struct layer_parts *lp, double Ts,
                     double per, double dense_in, double routed_in, struct layer_acts *a)
{
    const struct model *m = c->m;
    double gate = m->act == ACT_SWIGLU ? 2.0 : 1.0; /* FC1 outputs per inner element */
    /* DeepSeek-V3 keeps the routed experts' SwiGLU input (FC1's output) and their FC1 input --
     * the dispatched tokens -- in its fp8, as their quantized GEMM inputs are (sec. 3.3.3,
     * "Inputs of the SwiGLU operator in MoE"; "cache the activations in FP8 for the Linear
     * operator's backward"), not a 16-bit copy; routed_in is act_bytes where they run 16-bit */
    double routed_out = deepseek_fp8_cache(c) ? routed_in : c->cfg->act_bytes;
    double dense_hidden = c->cfg->act_bytes * gate + dense_in,
           routed_hidden = routed_out * gate + routed_in;
    if (lp->mlp == MLP_MOE) {
        double routed = (double)m->top_k * m->expert_ffn;
        a->shared_hidden = dense_hidden * per * m->shared_experts * m->shared_expert_ffn;
        a->moe_hidden = routed_hidden * per * routed * c->cfg->moe_load;
        a->moe_act_out = routed_in * per * routed * c->cfg->moe_load;
        a->permuted = routed_out * Ts * m->top_k * model_moe_width(m) * c->cfg->moe_load;
        a->latent_out =
            c->cfg->act_bytes * Ts * m->moe_latent; /* fc2_latent_proj's input; 0 without */
    } else if (lp->mlp == MLP_DENSE) {
        a->dense_hidden = dense_hidden * per * m->ffn;
    }
}

/* Under adapters, a frozen linear keeps no input for a weight gradient (Transformer Engine
 * v2.10, module/linear.py backward_needs_input, layernorm_mlp.py); an adapter beside it keeps
 * the same tensor for its own (the projection's input is the attention core's output, which
 * the core keeps). */
static void frozen_keep_less(const struct cm_ctx *c, const struct layer_parts *lp, double per,
                             double dense_in, struct layer_acts *a)
{
    const struct model *m = c->m;
    int lora = c->scn->lora_modules, moe = lp->mlp == MLP_MOE;
    int mixer_in = lp->mixer != MIXER_ATTENTION ? LORA_IN_PROJ
                   : m->kv_lora_rank > 0        ? 0 /* MLA's down projections: frozen */
                                                : LORA_QKV;
    if (!(lora & mixer_in))
        a->qkv_in = 0.0;
    int ssm = lp->mixer == MIXER_MAMBA || lp->mixer == MIXER_GDN;
    if (!(lora & LORA_OUT_PROJ) && ssm) /* out_proj's input (the gated norm's output) is kept
                                         * for its weight alone */
        a->ssm -= per * cm_kept_input_bytes(c, LM_MAMBA_OUT) * model_ssm_inner(m);
    if (!(lora & LORA_FC1))
        a->mlp_in = a->permuted = 0.0; /* the routed experts' FC1 reads the permuted copies */
    if (!(lora & LORA_FC2) && lp->mlp == MLP_DENSE)
        a->dense_hidden -= dense_in * per * m->ffn;
    a->latent_out = 0.0; /* LatentMoE's projections take no adapter: frozen */
    if (!(lora & LORA_FC2) && moe) {
        a->shared_hidden -= dense_in * per * m->shared_experts * m->shared_expert_ffn;
        a->moe_hidden -= a->moe_act_out;
        a->moe_act_out = 0.0;
    }
}

/* Activation memory of one layer (struct layer_acts): replicated unless SP -- two norm
 * inputs, QKV input, MLP input (4 x Ts h x act_bytes) and, with dropout, two 1-byte masks --
 * and TP-sharded -- Q, K, V, attention output, MLP hidden and activation output.  Unfused
 * attention adds the scores and softmax output (act_bytes each per score; a 1-byte dropout mask
 * more); flash attention keeps O(T) statistics only.  With dropout, ffn = 4h and 2-byte
 * activations this is Korthikanti et al.'s s b h (10 + 24/t + 5 a s / (h t)); fp32 doubles all
 * but the masks.  fp8: Transformer Engine keeps the inputs of its fp8
 * GEMMs (QKV, FC1, projection, FC2) as the fp8 copies it made, 1 byte instead of 2 (TE docs on
 * fp8 memory: the saved input of a Linear is its fp8 cast). */
static void layer_acts(const struct cm_ctx *c, const struct layer_parts *lp, double T, double Ts,
                       struct layer_acts *a)
{
    const struct model *m = c->m;
    const struct scenario *scn = c->scn;
    double t = c->cfg->tp, h = m->hidden, per = T / t;
    /* a kept GEMM input: bf16, or the one quantized copy the backward needs (NVFP4: the
     * column-wise one), by the module that reads it (cm_kept_input_bytes) */
    int attn = lp->mixer == MIXER_ATTENTION, moe = lp->mlp == MLP_MOE;
    double mix_in = cm_kept_input_bytes(c, attn ? LM_ATTN_QKV : LM_MAMBA_IN);
    double dense_in = cm_kept_input_bytes(c, moe ? LM_SHARED_EXPERTS : LM_MLP);
    double routed_in = cm_kept_input_bytes(c, LM_EXPERTS);
    /* the column-parallel linears' kept input: the sequence-parallel shard, or the gathered
     * whole where autograd keeps what the forward gathered (tp_keeps_gathered_input) */
    double gathered = c->cfg->tp_keeps_gathered_input ? T : Ts;
    memset(a, 0, sizeof *a);
    a->norm_in = c->cfg->act_bytes * lp->blocks * Ts * h;
    a->qkv_in = lp->mixer != MIXER_NONE ? mix_in * gathered * h : 0.0;
    /* a shared-norm parallel block's QKV and FC1 read the same norm output, kept once */
    int shared_in = m->parallel_block == PARALLEL_SHARED_NORM;
    a->mlp_in = lp->mlp != MLP_NONE && !shared_in ? dense_in * gathered * h : 0.0;
    a->masks = scn->dropout ? lp->blocks * Ts * h : 0.0;
    if (lp->mixer == MIXER_MAMBA || lp->mixer == MIXER_GDN)
        a->ssm = ssm_acts(c, lp, per);
    if (attn)
        attention_acts(c, lp, T, Ts, per, a);
    a->hc = hc_acts(c, lp, Ts);
    mlp_acts(c, lp, Ts, per, dense_in, routed_in, a);
    if (scn_adapters(scn))
        frozen_keep_less(c, lp, per, dense_in, a);
    if (!c->flash && attn)
        a->scores = (2.0 * c->cfg->act_bytes + (scn->dropout ? 1.0 : 0.0)) *
                    c->cfg->micro_batch * (m->heads / t) *
                    (double)c->cfg->seq * c->cfg->seq / c->cfg->cp;
    if (scn->peft == PEFT_DORA)
        a->dora = dora_kept_bytes(c, lp, T);
}

double cm_acts_total(const struct layer_acts *a)
{
    return a->norm_in + a->qkv_in + a->mlp_in + a->masks + a->qkv + a->attn_out +
           a->dense_hidden + a->shared_hidden + a->moe_hidden + a->permuted + a->latent_out +
           a->scores + a->ssm + a->dora + a->dsa + a->csa + a->hc;
}

/* Of the per-op policy's re-run matmuls: K's share of the QKV projection, and a gated MLP's
 * up-projection (a third of its three). */
static double op_k_proj_flops(const struct model *m, const struct layer_flops *lf)
{
    double q = model_q_width(m), kv = (double)m->kv_heads * m->head_dim;
    return lf->qkv * kv / (q + 2.0 * kv);
}

static double op_up_proj_flops(const struct model *m, const struct layer_parts *lp,
                               const struct layer_flops *lf)
{
    return lp->mlp == MLP_DENSE && m->act == ACT_SWIGLU ? lf->mlp / 3.0 : 0.0;
}

double cm_op_policy_flops(const struct model *m, const struct layer_parts *lp,
                          const struct layer_flops *lf)
{
    if (lp->mixer != MIXER_ATTENTION)
        return 0.0;
    return op_k_proj_flops(m, lf) + lf->attn_out + op_up_proj_flops(m, lp, lf);
}

/* torchtitan's per-op selective checkpointing (torchtitan/distributed/activation_checkpoint.py;
 * the same policy in its 2024 parallelisms/parallelize_llama.py) keeps the output of every
 * matmul but the second, fourth, ... of a layer, counted in the order the layer runs them: Q
 * (kept), K (run again), V (kept), the projection (again), the gate (kept), the up-projection
 * (again), the down-projection (kept).  Without a gate the sixth matmul is the last op and the
 * recompute stops before it (torch.utils.checkpoint's early stop).  torchao's Float8 linears
 * count the same: the policy, a dispatch mode, sees their aten.mm before the Float8 tensor
 * turns it into a scaled matmul.  The time of those matmuls. */
static double op_policy_gemms(const struct cm_ctx *c, const struct layer_parts *lp,
                              const struct layer_flops *lf, double share)
{
    const struct model *m = c->m;
    if (lp->mixer != MIXER_ATTENTION)
        return 0.0;
    return cm_module_matmul_s(c, LM_ATTN_QKV, op_k_proj_flops(m, lf) * share) +
           cm_module_matmul_s(c, LM_ATTN_PROJ, lf->attn_out * share) +
           cm_module_matmul_s(c, LM_MLP, op_up_proj_flops(m, lp, lf) * share);
}

/* The QKV projection, `flops` for Q, K and V on T tokens: split by their widths where they
 * are linears of their own (fused_gemm_s). */
static double qkv_s(const struct cm_ctx *c, double flops, double T)
{
    const struct model *m = c->m;
    if (m->kv_lora_rank > 0) /* MLA's down-projections: one GEMM as stepsim counts them */
        return cm_module_matmul_s(c, LM_ATTN_QKV, flops);
    double q = model_q_width(m), kv = (double)m->kv_heads * m->head_dim;
    double all = q + 2.0 * kv;
    const double share[] = {all > 0 ? q / all : 1.0, all > 0 ? kv / all : 0.0,
                            all > 0 ? kv / all : 0.0};
    return fused_gemm_s(c, LM_ATTN_QKV, flops, 3, share, T, m->hidden);
}

/* Matmul times of one layer's forward on this GPU, into lc: the attention projections (MLA's
 * up-projections apart), the dense MLP or shared experts, the router and the routed experts. */
static void layer_gemms(const struct cm_ctx *c, const struct layer_parts *lp,
                        const struct layer_flops *lf, double share, struct layer_cost *lc)
{
    const struct model *m = c->m;
    lc->mla_up = m->kv_lora_rank > 0 && lp->mixer == MIXER_ATTENTION
                     ? matmul_s(c, 2.0 * c->cfg->seq * model_weights_mla_up(m) * share)
                     : 0.0;
    int mlp_module = lp->mlp == MLP_MOE ? LM_SHARED_EXPERTS : LM_MLP;
    lc->mlp_gemm = mlp_s(c, mlp_module, lf->mlp * share, 1);
    /* LatentMoE's projections run on this GPU's (sequence-parallel) tokens, duplicated over
     * TP like the router, one before the dispatch and one after the combine */
    lc->latent_gemm = 2.0 * cm_module_matmul_s(c, LM_LATENT_PROJ, lf->latent_proj / 2.0 * share);
    lc->router_gemm = cm_gemm_s(c, &c->wide, lf->router * share);
    if (lf->router > 0 && c->scn->moe_router_fp32) {
        /* moe_router_dtype fp32: the gating GEMM on fp32 copies of its input and weight
         * (router.py TopKRouter.gating, Megatron-Core core_v0.12.0: F.linear(input.to(fp32),
         * weight.to(fp32))), at the TF32 rate -- NGC containers let cuBLAS use TF32 for fp32;
         * without it, the fp32 (SIMT) peak would apply: not modelled */
        enum dtype d32 = c->hw->gpu.peak_flops[DT_TF32] > 0 ? DT_TF32 : DT_FP32;
        struct gemm_rate r32 = {c->hw->gpu.peak_flops[d32], hw_matmul_curve(&c->hw->gpu, d32),
                                1.0};
        if (r32.peak > 0) /* a file with neither peak: the 16-bit rate */
            lc->router_gemm = cm_gemm_s(c, &r32, lf->router * share);
    }
    lc->col_mixer = qkv_s(c, lf->qkv * share, c->cfg->micro_batch * c->cfg->seq / c->cfg->cp) +
                    cm_module_matmul_s(c, LM_MAMBA_IN, lf->ssm_in * share);
    lc->col_mlp = lp->mlp != MLP_DENSE ? 0.0
                  : m->act == ACT_SWIGLU
                      ? gate_up_s(c, LM_MLP, lf->mlp * share * 2.0 / 3.0)
                      : cm_module_matmul_s(c, LM_MLP, lf->mlp * share * 0.5);
    /* DeepSeek-V4's grouped wo_a is a 16-bit einsum; its compressors are linears like QKV */
    double o_group = cm_gemm_s(c, &c->wide, lf->o_group * share);
    lc->gemm_fwd = lc->col_mixer +
                   cm_module_matmul_s(c, LM_ATTN_PROJ, (lf->attn_out - lf->o_group) * share) +
                   o_group + cm_module_matmul_s(c, LM_ATTN_QKV, lf->csa_compress * share) +
                   cm_module_matmul_s(c, LM_MAMBA_OUT, lf->ssm_out * share) + lc->mlp_gemm +
                   lc->router_gemm + lc->latent_gemm;
    lc->op_gemm = op_policy_gemms(c, lp, lf, share);
    if (lp->mlp == MLP_MOE && lf->experts > 0) {
        /* Each GPU computes its share of the experts' work -- the busiest GPU, which the
         * others wait for, moe-imbalance times the mean; its local experts run one GEMM each
         * per matrix, each sized by the tokens its expert receives -- or, fused, one
         * persistent grouped GEMM per matrix whose tiles from every expert fill the GPU as one
         * GEMM of their total would. */
        double local_experts = (double)m->experts / c->cfg->ep;
        double work = lf->experts * share * c->cfg->moe_load;
        lc->expert_gemm = c->scn->moe_fused_grouped_mlp
                              ? mlp_s(c, LM_EXPERTS, work, 1)
                              : local_experts * mlp_s(c, LM_EXPERTS, work / local_experts, 1);
        lc->gemm_fwd += lc->expert_gemm;
    }
}

/* LoRA's adapters (peft=lora): beside each adapted linear, x A (in -> rank) then (x A) B
 * (rank -> out), the product added into the linear's output (Hu et al., LoRA,
 * arXiv:2106.09685, sec. 4.1; Megatron-Bridge peft/lora.py, "performant" LoRA: one adapter
 * for the fused QKV and one for the fused gate-and-up FC1).  On a MoE layer linear_fc1 and
 * linear_fc2 name the shared experts' linears (one adapter each) and the routed experts'
 * grouped linears, which by default share one adapter per expert-parallel rank across its
 * local experts (share_expert_adapters, at Megatron-Bridge 067f987): it runs on the routed
 * token copies that rank computes and trains beside the experts, so it counts as an expert
 * parameter (LatentMoE's experts work in the latent width, their latent projections stay
 * frozen).  One adapter: its widths, the tokens it runs on per token of the layer, and whether
 * it is a routed experts'. */
struct lora_adapter {
    double in, out, copies;
    int routed;
};

/* The adapters of layer `lp` (at most 6: two of its mixer's, four of its MLP's), into a;
 * returns how many.  A Mamba-2 or Gated DeltaNet mixer's in_proj and out_proj take theirs when
 * named (Megatron-Bridge's Nemotron-H recipes add them to the four). */
static int lora_adapters(const struct cm_ctx *c, const struct layer_parts *lp,
                         struct lora_adapter *a)
{
    const struct model *m = c->m;
    int mods = c->scn->lora_modules, n = 0;
    double q = model_q_width(m), kv = 2.0 * m->kv_heads * m->head_dim; /* Q with any gate */
    double gate = m->act == ACT_SWIGLU ? 2.0 : 1.0, h = m->hidden;
    int attention = lp->mixer == MIXER_ATTENTION, mla = m->kv_lora_rank > 0;
    int ssm = lp->mixer == MIXER_MAMBA || lp->mixer == MIXER_GDN;
    if (attention && !mla && (mods & LORA_QKV)) /* MLA has no linear_qkv: its down and up */
        a[n++] = (struct lora_adapter){h, q + kv, 1.0, 0}; /* projections stay frozen */
    if (attention && (mods & LORA_PROJ))
        a[n++] = (struct lora_adapter){(double)m->heads * m->v_head_dim, h, 1.0, 0};
    if (ssm && (mods & LORA_IN_PROJ))
        a[n++] = (struct lora_adapter){h, model_ssm_in_width(m), 1.0, 0};
    if (ssm && (mods & LORA_OUT_PROJ))
        a[n++] = (struct lora_adapter){model_ssm_inner(m), h, 1.0, 0};
    double dense_ffn = lp->mlp == MLP_DENSE ? m->ffn
                       : lp->mlp == MLP_MOE ? (double)m->shared_experts * m->shared_expert_ffn
                                            : 0.0;
    double routed_copies = m->top_k * c->cfg->moe_load;
    if (dense_ffn > 0 && (mods & LORA_FC1))
        a[n++] = (struct lora_adapter){h, gate * dense_ffn, 1.0, 0};
    if (dense_ffn > 0 && (mods & LORA_FC2))
        a[n++] = (struct lora_adapter){dense_ffn, h, 1.0, 0};
    double width = model_moe_width(m); /* a routed copy's: LatentMoE's latent, else hidden */
    if (lp->mlp == MLP_MOE && (mods & LORA_FC1))
        a[n++] = (struct lora_adapter){width, gate * m->expert_ffn, routed_copies, 1};
    if (lp->mlp == MLP_MOE && (mods & LORA_FC2))
        a[n++] = (struct lora_adapter){m->expert_ffn, width, routed_copies, 1};
    return n;
}

void cm_lora_layer_params(const struct cm_ctx *c, int layer, double *dense, double *expert)
{
    struct lora_adapter a[6];
    struct layer_parts lp = layer_parts_of(c->m, layer);
    int n = lora_adapters(c, &lp, a);
    *dense = *expert = 0.0;
    /* shared over TP (experts: expert TP) like their linears; DoRA adds a magnitude per
     * output row (ParallelLinearDoRAAdapter.weight_magnitude, sharded as the linear's output) */
    double magnitude = c->scn->peft == PEFT_DORA ? 1.0 : 0.0;
    for (int i = 0; i < n; i++)
        if (a[i].routed)
            *expert += c->scn->lora_rank * (a[i].in + a[i].out) / c->cfg->etp;
        else
            *dense += (c->scn->lora_rank * (a[i].in + a[i].out) + magnitude * a[i].out) /
                      c->cfg->tp;
}

/* DoRA beside each adapter, per micro-batch (Megatron-Bridge's peft/dora_layers.py,
 * DoRALinear.forward): the row norms of W + BA again -- the rank-r product B A over the
 * linear's local weight (2 r FLOPs an element), scaled, added to W and its norm taken,
 * DORA_NORM_ELEMENTS an element over five kernels; detached, so nothing flows back through it --
 * then the adapted output (base + adapter) times magnitude / norm, read and written once.
 * Backward, the output gradient scaled and the magnitude's gradient reduced over the kept
 * output (reading both: 4 passes of 2 bytes).  The gather of the adapter's sharded factor over
 * TP before the product (r x a width, under a MB at the shipped shapes) is not counted.  A
 * routed experts' adapter has no DoRA (check_peft refuses it). */
/* elements of the weight's type (param_bytes) an element: B A written 1, scaled 1 + 1, W + it
 * 2 + 1, its norm read 1 (14 bytes in 16 bits) */
#define DORA_NORM_ELEMENTS 7.0
#define DORA_NORM_KERNELS 5.0
static void dora_cost(const struct cm_ctx *c, const struct lora_adapter *a, int n, double T,
                      struct layer_cost *lc)
{
    double t = c->cfg->tp, r = c->scn->lora_rank, launch = c->cfg->eager_launch_s;
    lc->dora_bwd = 0.0;
    for (int i = 0; i < n; i++) {
        double weight = a[i].in * a[i].out / t, outputs = T * a[i].out / t;
        lc->lora_fwd += cm_gemm_s(c, &c->wide, 2.0 * r * weight) +
                        cm_memory_s(c, DORA_NORM_ELEMENTS * c->cfg->param_bytes * weight) +
                        cm_memory_s(c, 2.0 * c->cfg->act_bytes * outputs) +
                        (DORA_NORM_KERNELS + 1.0) * launch;
        lc->dora_bwd += cm_memory_s(c, 4.0 * c->cfg->act_bytes * outputs) + 2.0 * launch;
    }
}

/* What DoRA keeps of a layer: each adapted linear's output before its rescaling, 16-bit. */
static double dora_kept_bytes(const struct cm_ctx *c, const struct layer_parts *lp, double T)
{
    struct lora_adapter a[6];
    int n = lora_adapters(c, lp, a);
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += c->cfg->act_bytes * T * a[i].copies * a[i].out / c->cfg->tp;
    return sum;
}

/* The adapters' forward on this GPU for T tokens into lc: two 16-bit GEMMs each (their work
 * shared over TP like their linear's; a routed experts' adapter on the layer's routed copies,
 * T / tp x top-k on average, the busiest GPU's share as for the experts) with their launches,
 * and the sum into the linear's output (read both, write one; its backward passes the
 * gradient through). */
static void lora_cost(const struct cm_ctx *c, const struct layer_parts *lp, double T,
                      struct layer_cost *lc)
{
    struct lora_adapter a[6];
    int n = lora_adapters(c, lp, a);
    double t = c->cfg->tp, r = c->scn->lora_rank, add = 0.0;
    lc->lora_gemm = 0.0;
    for (int i = 0; i < n; i++) {
        double tokens = T * a[i].copies / t;
        lc->lora_gemm += cm_gemm_s(c, &c->wide, 2.0 * tokens * a[i].in * r) +
                         cm_gemm_s(c, &c->wide, 2.0 * tokens * r * a[i].out) +
                         2.0 * c->cfg->eager_launch_s;
        add += cm_memory_s(c, 3.0 * c->cfg->act_bytes * tokens * a[i].out) + c->cfg->eager_launch_s;
    }
    lc->lora_fwd = lc->lora_gemm + add;
    if (c->scn->peft == PEFT_DORA)
        dora_cost(c, a, n, T, lc);
}

/* With a capacity (drop-and-pad), is each local expert's token count a multiple of the quantized
 * GEMMs' alignment, 16 (MXFP8 / NVFP4: 32; fp8_utils.py get_fp8_align_size)?  Megatron-Core's
 * all-to-all dispatcher gives every local expert capacity x expert-TP x EP tokens, the
 * capacity being ceil(tokens routed here x top-k / experts x factor) (token_dispatcher.py,
 * MoEAlltoAllTokenDispatcher.preprocess, and moe_utils.py get_capacity, at 2edffadb5), the
 * tokens those of this GPU's sequence shard. */
static int capacity_count_aligned(const struct cm_ctx *c)
{
    const struct cm_config *cfg = c->cfg;
    const struct scenario *scn = c->scn;
    double tokens = (double)cfg->micro_batch * cfg->seq / cfg->cp / (scn->sp ? cfg->tp : 1);
    double capacity = ceil(tokens * c->m->top_k / c->m->experts * scn->moe_capacity_factor);
    double align = scn->dtype == DT_NVFP4 || scn->fp8_recipe == FP8_MXFP8 ? 32.0 : 16.0;
    return fmod(capacity * cfg->etp * cfg->ep, align) == 0.0;
}

/* Do the routed experts copy their tokens into segments aligned for quantized GEMMs, and FC2's
 * output out of them?  In an fp8 / fp4 run Megatron-Core's TEGroupedMLP pads each local
 * expert's tokens to a multiple of 16 (MXFP8 / NVFP4: 32) with Transformer Engine's Fp8Padding
 * and strips FC2's output with Fp8Unpadding (moe/experts.py, TEGroupedMLP.forward, at
 * cf39a4ddcf and d98e8a6; TE's module/fp8_padding.py): a copy each way, and one of each
 * gradient in the backward, whenever a count is unaligned -- always, for a dropless router's
 * counts.  None where the counts come aligned: a padded routing map (moe-router-padding),
 * HybridEP's dispatch, which pads as it permutes (token_dispatcher.py, _HybridEPManager, with
 * pad_multiple; skip_routed_expert_padding at d98e8a6), or a capacity whose count is a
 * multiple (capacity_count_aligned).  (DeepEP's fused permutation pads too at d98e8a6, but only
 * for Transformer Engine's grouped-tensor input, moe_use_grouped_tensor, which stepsim does not
 * model.)  Like Megatron-Core, it asks the run's precision (config.fp8 / fp4), not the
 * experts' own. */
int cm_expert_pad_copies(const struct cm_ctx *c)
{
    const struct scenario *scn = c->scn;
    if (!cm_narrow_gemms(scn) || !fw_megatron_core(scn) || scn->moe_router_padding ||
        scn->moe_dispatcher == DISPATCH_HYBRIDEP)
        return 0;
    return !(scn->moe_capacity_factor > 0.0) || !capacity_count_aligned(c);
}

/* Passes over the routed token copies a MoE layer's forward makes to reorder them, each a
 * read and a write: the dispatcher sorts the copies by expert before sending and restores
 * the token order after the combine; Megatron-Core's alltoall dispatcher also sorts what it
 * received by local expert when a GPU holds more than one, and unsorts it before the combine
 * (token_dispatcher.py, MoEAlltoAllTokenDispatcher: "Permutation 2", sort_chunks_by_idxs).
 * DeepEP's dispatch hands each GPU its tokens to permute once.  The experts' padding copies
 * (cm_expert_pad_copies) are two more. */
static double permute_passes(const struct cm_ctx *c)
{
    int sorted_again = c->scn->moe_dispatcher == DISPATCH_ALLTOALL && c->m->experts > c->cfg->ep;
    return (sorted_again ? 4.0 : 2.0) + (cm_expert_pad_copies(c) ? 2.0 : 0.0);
}

/* Rotary elements of one forward on this GPU: Q and K over the whole head, or MLA's rotary
 * parts (Q's per head, K's one shared by the heads). */
static double rope_elements(const struct model *m, double T, double t)
{
    if (m->kv_lora_rank > 0)
        return T * m->qk_rope_dim * ((double)m->heads / t + 1.0);
    return T / t * ((double)m->heads + m->kv_heads) * m->head_dim;
}

/* Unfused rotary embedding's forward time: eager PyTorch's (torchtitan) or Megatron-Core's
 * without apply_rope_fusion; a fused kernel's is not counted. */
static double rope_s(const struct cm_ctx *c, const struct layer_parts *lp, double T)
{
    const struct model *m = c->m;
    if (lp->mixer != MIXER_ATTENTION || m->pos != POS_ROPE)
        return 0.0;
    double a = c->cfg->act_bytes;
    double bytes = c->scn->elementwise == ELEMENTWISE_EAGER
                       ? 2.0 * cm_fp32_cast_bytes(c->cfg) + EAGER_ROPE_FP32_BYTES
                   : c->scn->rope_fusion ? 0.0
                   : m->kv_lora_rank > 0 ? UNFUSED_MLA_ROPE_ELEMENTS * a
                                         : UNFUSED_ROPE_ELEMENTS * a;
    return cm_memory_s(c, bytes * rope_elements(m, T, c->cfg->tp));
}

/* Does MLA build Q, K and V in Megatron-Core's fused kernels (else by copies)? */
static int mla_assembly_fused(const struct cm_ctx *c)
{
    return c->scn->rope_fusion && c->scn->elementwise != ELEMENTWISE_EAGER;
}

/* Kernels of MLA's Q/K/V assembly, each way. */
static double mla_assembly_kernels(const struct cm_ctx *c)
{
    return mla_assembly_fused(c) ? KERNELS_MLA_FUSED : KERNELS_MLA_UNFUSED;
}

/* Kernels of one forward's rotary embedding beyond a fused kernel: Megatron's unfused RoPE, or
 * eager PyTorch's ops. */
static double rope_kernels_fwd(const struct cm_ctx *c)
{
    if (c->m->pos != POS_ROPE)
        return 0.0;
    if (c->scn->elementwise == ELEMENTWISE_EAGER)
        return eager_kernels(c, KERNELS_EAGER_ROPE);
    return c->scn->rope_fusion ? 0.0 : KERNELS_UNFUSED_ROPE;
}

/* MLA's Q/K/V assembly, one way (the backward's equals it), for the T tokens' local heads.
 * DeepSeek-V4 (shared-kv) assembles nothing -- Q comes whole from its up-projection, the one
 * key-value entry is K and V -- but normalises each query head and the entry (read and
 * written), inside the step its mla_up_proj recompute runs again
 * (deepseek_v4_hybrid_attention.py at 9d46c924). */
static double mla_assembly_s(const struct cm_ctx *c, const struct layer_parts *lp, double T)
{
    const struct model *m = c->m;
    if (m->kv_lora_rank <= 0 || lp->mixer != MIXER_ATTENTION)
        return 0.0;
    if (m->mla_shared_kv)
        return cm_memory_s(c, c->cfg->act_bytes * 2.0 * T / c->cfg->tp *
                                  ((double)m->heads * m->head_dim + m->v_head_dim));
    double dn = m->qk_nope_dim, dp = m->qk_rope_dim, dv = m->v_head_dim;
    double per_head =
        mla_assembly_fused(c) ? 2.0 * dn + dp + 2.0 * dv : 4.0 * dn + 3.0 * dp + 2.0 * dv;
    return cm_memory_s(c, c->cfg->act_bytes * per_head * T * m->heads / c->cfg->tp);
}

/* What Transformer Engine's ring attention (cp-comm-type p2p, and the ring of a2a+p2p) runs
 * besides the attention kernels, read in transformer_engine/pytorch/attention.py at v1.12,
 * AttnFuncWithCPAndKVP2P; all of it on the compute stream, where nothing hides it.  With U_o,
 * U_q and U_kv this GPU's attention output, Q, and K with V (16-bit), and r ring steps:
 *  - forward: K and V concatenated into the first send buffer (read and write U_kv), the output
 *    zeroed (U_o), and after each step's kernel the output and its softmax LSE corrected by
 *    that step's (read the step's output, read and write the sum: 3 U_o; at every step on the
 *    last rank, whose query chunks see every key chunk): 2 U_kv + U_o + 3 r U_o;
 *  - backward: K and V copied into the packed buffer the ring passes with their gradients (2
 *    U_kv); at each step dQ accumulated (3 U_q, half of it where the step holds half the
 *    queries), the kernel's interleaved dK and dV concatenated (2 U_kv) and added into the
 *    passed dK/dV (3 U_kv; both halved where the step holds half the keys): the diagonal step
 *    3 U_q + 5 U_kv, each other max(1.5 U_q + 5 U_kv, 3 U_q + 2.5 U_kv) on the slowest rank;
 *  - launches: per step the attention kernel (one is counted already) and, forward, the two
 *    corrections, backward, the three passes; the concatenations and the zeroing once.
 * PyTorch's ring attention (torchtitan's p2p) merges each step's output too; it is charged the
 * same, not read. */
static void cp_ring_passes(const struct cm_ctx *c, const struct layer_parts *lp, double T,
                           struct layer_cost *lc)
{
    const struct model *m = c->m;
    const struct cm_config *cfg = c->cfg;
    double r = c->groups->cp_ring.g.n; /* the ring's ranks: 1 under allgather or a2a */
    if (lp->mixer != MIXER_ATTENTION || !c->flash || r <= 1.0)
        return;
    double per = c->cfg->act_bytes * T / cfg->tp;
    double uo = per * m->heads * m->v_head_dim, uq = per * m->heads * m->head_dim;
    double ukv = per * m->kv_heads * ((double)m->head_dim + m->v_head_dim);
    double other_step = fmax(1.5 * uq + 5.0 * ukv, 3.0 * uq + 2.5 * ukv);
    lc->cp_fwd = cm_memory_s(c, 2.0 * ukv + uo + 3.0 * r * uo);
    lc->cp_bwd = cm_memory_s(c, 2.0 * ukv + 3.0 * uq + 5.0 * ukv + (r - 1.0) * other_step);
    double fwd_kernels = (r - 1.0) + 2.0 * r + 2.0;
    cm_count_kernels(c, GS_ATTN, fwd_kernels, (r - 1.0) + 3.0 * r + 1.0, 0.0, lc);
    lc->core_kernels_fwd += fwd_kernels;
}

/* Elements of the routed experts' output on this GPU that their FC2 bias is added to in
 * PyTorch ops (expert_bias_bytes): a MoE layer of a model with biases, without the fused grouped
 * MLP. */
static double expert_bias_elements(const struct cm_ctx *c, const struct layer_parts *lp,
                                   double Ts)
{
    if (lp->mlp != MLP_MOE || !c->m->bias || c->scn->moe_fused_grouped_mlp)
        return 0.0;
    return Ts * c->m->top_k * model_moe_width(c->m) * c->cfg->moe_load;
}

/* Separate linears that read one input (separate_projections) each give it a gradient, which
 * autograd sums: Q's, K's and V's in one fused pass under torch.compile (three 2-byte reads
 * and a write per element of the gathered input, 8 bytes; eager, two adds, 12), the gate's
 * and the up-projection's in one add (6).  Fused linears (Megatron-Core) write one input
 * gradient and sum nothing.  `T` tokens on this GPU, after any sequence-parallel gather.
 * (Routed experts' gate and up-projection sums are not counted: no torchtitan MoE run is
 * validated.) */
static double separate_grad_sums_s(const struct cm_ctx *c, const struct layer_parts *lp,
                                   double T)
{
    const struct model *m = c->m;
    if (!c->cfg->separate_projections)
        return 0.0;
    int eager = c->scn->elementwise == ELEMENTWISE_EAGER;
    int gated_mlp = m->act == ACT_SWIGLU && (lp->mlp == MLP_DENSE ||
                                             (lp->mlp == MLP_MOE && m->shared_experts > 0));
    double qkv = lp->mixer == MIXER_ATTENTION && m->kv_lora_rank == 0 ? (eager ? 6.0 : 4.0)
                                                                       : 0.0;
    double gate_up = gated_mlp ? 3.0 : 0.0;
    return cm_memory_s(c, c->cfg->act_bytes * (qkv + gate_up) * T * m->hidden);
}

/* GEMM launches a pass adds where a fused group's linears run apart (separate_projections):
 * K and V beside Q (`mixer`), or the up-projection beside the gate. */
static double separate_launches(const struct cm_ctx *c, const struct layer_parts *lp, int mixer)
{
    const struct model *m = c->m;
    if (!c->cfg->separate_projections)
        return 0.0;
    if (mixer)
        return lp->mixer == MIXER_ATTENTION && m->kv_lora_rank == 0 ? 2.0 : 0.0;
    int shared = lp->mlp == MLP_MOE && m->shared_experts > 0;
    return m->act == ACT_SWIGLU && (lp->mlp == MLP_DENSE || shared) ? 1.0 : 0.0;
}

/* The forward's bytes of the layer's elementwise ops that have no cost of their own: the
 * ELEMWISE_FWD_UNITS beyond the norms, dropout, and the mixers' extra passes (Mamba's and
 * Gated DeltaNet's convolutions and norms, an attention output gate). */
static double other_elementwise_bytes(const struct cm_ctx *c, const struct layer_parts *lp,
                                      double T, double Ts)
{
    const struct model *m = c->m;
    double t = c->cfg->tp, h = m->hidden;
    double per_block = lp->blocks / 2.0; /* the units count a transformer layer's two */
    double other = c->cfg->act_bytes * (ELEMWISE_FWD_UNITS - 4.0) * per_block * Ts * h;
    if (c->scn->dropout) /* each hidden dropout writes a 1-byte mask and the output; unfused
                          * attention's dropout reads and writes the scores once more, and its
                          * mask */
        other += 2.0 * per_block * (1.0 + c->cfg->act_bytes) * Ts * h +
                 (c->flash || lp->mixer != MIXER_ATTENTION
                      ? 0.0
                      : (2.0 * c->cfg->act_bytes + 1.0) * c->cfg->micro_batch * (m->heads / t) *
                            (double)c->cfg->seq * c->cfg->seq / c->cfg->cp);
    if (lp->mixer == MIXER_MAMBA) /* the conv1d reads and writes x, B, C (its SiLU fused); the
                                   * scan applies the z gate; the RMSNorm reads and writes y */
        other += c->cfg->act_bytes * T / t *
                 (2.0 * model_ssm_conv_channels(m) + 2.0 * model_ssm_inner(m));
    if (lp->mixer == MIXER_GDN) /* the conv1d reads and writes q, k, v (its SiLU fused); the
                                 * preparation reads them and writes q and k repeated per value
                                 * head and v (gdn.py _prepare_input_for_gated_delta_rule); the
                                 * gated norm reads the output and z and writes y */
        other += c->cfg->act_bytes * T / t *
                 (3.0 * model_ssm_conv_channels(m) +
                  2.0 * (double)m->gdn_value_heads * m->gdn_key_dim + 4.0 * model_ssm_inner(m));
    if (lp->mixer == MIXER_ATTENTION && m->attention_gate) /* sigmoid(gate) x output: the gate
                                                             * and the output read, the output
                                                             * written */
        other += c->cfg->act_bytes * T / t * 3.0 * m->heads * m->v_head_dim;
    return other;
}

/* Element-wise forward work on this GPU, into lc: norms and residuals on the
 * (sequence-parallel) shard -- two norms (read + write) 4 and two residual adds (2 reads + 1
 * write) 6 = 10 units of Ts h elements, bias-add and dropout fused into them as in Megatron --
 * the activation functions on the TP shard of the MLPs, MoE's token permutation and dropout. */
static void layer_elementwise(const struct cm_ctx *c, const struct layer_parts *lp, double T,
                              double Ts, struct layer_cost *lc)
{
    const struct model *m = c->m;
    const struct scenario *scn = c->scn;
    int moe = lp->mlp == MLP_MOE;
    int eager = scn->elementwise == ELEMENTWISE_EAGER, gated = m->act == ACT_SWIGLU;
    double t = c->cfg->tp, h = m->hidden;
    double act_units = gated ? (eager ? EAGER_SWIGLU_UNITS : 3.0) : 2.0;
    /* a norm's bytes per element: read and write, or eager RMSNorm's passes (above) */
    double norm_bytes =
        eager && m->norm == NORM_RMSNORM
            ? 2.0 * cm_fp32_cast_bytes(c->cfg) + EAGER_RMSNORM_FP32_BYTES + 2.0 * c->cfg->act_bytes
            : 2.0 * c->cfg->act_bytes;
    double dense_inner = 0.0; /* the dense MLP's, or the shared experts' */
    if (moe)
        dense_inner = (double)m->shared_experts * m->shared_expert_ffn;
    else if (lp->mlp == MLP_DENSE)
        dense_inner = m->ffn;
    double routed_inner = moe ? (double)m->top_k * m->expert_ffn * c->cfg->moe_load : 0.0;
    /* the fused grouped MLP applies the routed experts' activation, and quantizes its output
     * for FC2 (and FC1's output gradient in the backward), in its GEMMs' epilogues */
    double unfused_routed = scn->moe_fused_grouped_mlp ? 0.0 : routed_inner;
    double per_block = lp->blocks / 2.0; /* the units below count a transformer layer's two */
    lc->norm_fwd = cm_memory_s(c, norm_bytes * 2.0 * per_block * Ts * h);
    lc->act_dense = cm_memory_s(c, c->cfg->act_bytes * act_units * T * dense_inner / t);
    double routed_bytes = unfused_routed_act_bytes(c); /* GELU experts: PyTorch ops */
    if (!(routed_bytes > 0.0))
        routed_bytes = c->cfg->act_bytes * act_units;
    lc->act_moe = cm_memory_s(c, routed_bytes * T * unfused_routed / t);
    lc->permute_fwd = moe ? cm_memory_s(c, c->cfg->act_bytes * 2.0 * permute_passes(c) * Ts *
                                               m->top_k * model_moe_width(m))
                          : 0.0;
    lc->rope_fwd = rope_s(c, lp, T);
    lc->mla_qkv = mla_assembly_s(c, lp, T);
    double bias_elems = expert_bias_elements(c, lp, Ts);
    lc->expert_bias_fwd = cm_memory_s(c, expert_bias_bytes(c, 0) * bias_elems);
    lc->expert_bias_bwd = cm_memory_s(c, expert_bias_bytes(c, 1) * bias_elems);
    lc->grad_sum_bwd = separate_grad_sums_s(c, lp, T);
    lc->elem_fwd = lc->norm_fwd + lc->rope_fwd + lc->act_dense + lc->act_moe + lc->permute_fwd +
                   lc->expert_bias_fwd + cm_memory_s(c, other_elementwise_bytes(c, lp, T, Ts));
    if (c->narrow)
        cm_narrow_quantize_s(c, lp, T, Ts, dense_inner, unfused_routed, lc);
}

static void layer_cost_of(const struct cm_ctx *c, const struct layer_parts *lp,
                          const struct layer_flops *lfp, struct layer_cost *lc);

const struct layer_cost *cm_layer_cost(const struct cm_ctx *c, int layer, int narrow,
                                       struct layer_memo *memo, double *dense, double *expert)
{
    int kind = model_layer_kind(c->m, layer, c->cfg->seq);
    if (!memo->valid || memo->kind != kind || memo->narrow != narrow) {
        struct layer_flops lf;
        struct cm_ctx wide;
        const struct cm_ctx *lc_ctx = c;
        if (c->narrow && !narrow) { /* a bf16 edge layer: its linear GEMMs at the 16-bit rate */
            wide = *c;
            wide.linear = c->wide;
            wide.narrow = 0;
            lc_ctx = &wide;
        }
        flops_layer_fwd(c->m, layer, c->cfg->seq, c->flash, &lf);
        double docs = cm_packed_attention_share(c->scn, c->cfg->seq);
        lf.total -= (1.0 - docs) * lf.attn_core;
        lf.attn_core *= docs;
        lf.attn_core_unwindowed *= docs;
        memo->valid = 1;
        memo->kind = kind;
        memo->narrow = narrow;
        struct layer_parts lp = layer_parts_of(c->m, layer);
        layer_cost_of(lc_ctx, &lp, &lf, &memo->lc);
        cm_layer_params(c, layer, &memo->dense, &memo->expert);
    }
    *dense = memo->dense;
    *expert = memo->expert;
    return &memo->lc;
}

/* A Mamba-2 mixer's SSD scan on this GPU, forward: its matmuls (flops.c) on tensor cores at
 * the 16-bit rate (Triton kernels; fp8 recipes leave them in bf16), plus what its kernels move:
 * x, B, C and dt read, y written, and the fp32 chunk states written, read and rewritten by
 * state passing and read by the chunk scan (4 passes of heads x head_dim x state per chunk). */
static double mamba_scan_s(const struct cm_ctx *c, double scan_flops, double T)
{
    const struct model *m = c->m;
    double t = c->cfg->tp, chunk = flops_mamba_chunk(c->cfg->seq);
    double io =
        c->cfg->act_bytes * (model_ssm_conv_channels(m) + m->mamba_heads + model_ssm_inner(m));
    double states = 4.0 * 4.0 * model_ssm_inner(m) * m->mamba_state / chunk;
    return cm_gemm_s(c, &c->wide, scan_flops) + cm_memory_s(c, T / t * (io + states));
}

/* A Gated DeltaNet's chunked delta rule on this GPU, forward: its matmuls (flops.c) at the
 * 16-bit rate (FLA's Triton kernels; fp8 recipes leave them in bf16), plus what its kernels
 * move per token and value head, in the order flops_gdn_scan gives them: beta K K^T reads k
 * and writes its fp32 triangle (4C bytes); the solve reads it and writes the inverse (2C);
 * W and U read k, v and the inverse and write W and U; the state pass reads k, W and U and
 * writes U - W S and the chunk states (K V / C per token); the output reads q, k, U - W S and
 * the states and writes o: 14 K + 12 V + 12 C bytes, 4 K V / C for the states, and the fp32
 * decay and beta read five times (40).  Of those, all but the fp32 triangle (8 C) are in the
 * activations' type: 7 K + 6 V + 2 C elements and 2 K V / C of act_bytes. */
static double gdn_scan_s(const struct cm_ctx *c, double scan_flops, double T)
{
    const struct model *m = c->m;
    double k = m->gdn_key_dim, v = m->gdn_value_dim;
    double chunk = flops_gdn_chunk(c->cfg->seq);
    double a = c->cfg->act_bytes;
    double per_head = a * (7.0 * k + 6.0 * v + 2.0 * chunk) + 2.0 * FP32_BYTES * chunk +
                      a * 2.0 * k * v / chunk + 40.0;
    return cm_gemm_s(c, &c->wide, scan_flops) +
           cm_memory_s(c, T / c->cfg->tp * m->gdn_value_heads * per_head);
}

/* Kernels of one block beside its module's own (each way): with TP its two collectives, with
 * eager element-wise ops its norm's. */
static double block_kernels(const struct cm_ctx *c, int backward)
{
    double n = c->cfg->tp > 1 ? KERNELS_TP / 2.0 : 0.0;
    if (c->scn->elementwise == ELEMENTWISE_EAGER && c->m->norm == NORM_RMSNORM)
        n += eager_kernels(c, backward ? KERNELS_EAGER_NORM_BWD : KERNELS_EAGER_NORM_FWD);
    return n;
}

/* The token mixer's block: attention with what runs beside its kernel, or a Mamba-2 mixer. */
static void mixer_kernels(const struct cm_ctx *c, const struct layer_parts *lp,
                          struct layer_cost *lc)
{
    const struct model *m = c->m;
    double fwd = block_kernels(c, 0), bwd = block_kernels(c, 1);
    if (lp->mixer == MIXER_MAMBA) {
        cm_count_kernels(c, GS_MAMBA, fwd + KERNELS_MAMBA_FWD, bwd + KERNELS_MAMBA_BWD,
                         KERNELS_WGT / 2.0, lc);
        return;
    }
    if (lp->mixer == MIXER_GDN) { /* Megatron-Core's self-attention module: the attn scope */
        cm_count_kernels(c, GS_ATTN, fwd + KERNELS_GDN_FWD, bwd + KERNELS_GDN_BWD,
                         KERNELS_WGT / 2.0, lc);
        return;
    }
    double unfused = c->flash ? 0.0 : KERNELS_UNFUSED_ATTN;
    fwd += KERNELS_ATTN_FWD + unfused;
    bwd += KERNELS_ATTN_BWD + 2.0 * unfused;
    if (m->kv_lora_rank > 0) {
        fwd += mla_assembly_kernels(c);
        bwd += mla_assembly_kernels(c);
    }
    if (m->pos == POS_ROPE && c->scn->elementwise == ELEMENTWISE_EAGER) {
        fwd += eager_kernels(c, KERNELS_EAGER_ROPE);
        bwd += eager_kernels(c, KERNELS_EAGER_ROPE);
    } else if (m->pos == POS_ROPE && !c->scn->rope_fusion) {
        fwd += KERNELS_UNFUSED_ROPE;
        bwd += KERNELS_UNFUSED_ROPE_BWD;
    }
    double split = separate_launches(c, lp, 1); /* K's and V's GEMMs and their gradients' sum */
    cm_count_kernels(c, GS_ATTN, fwd + split, bwd + split + (split > 0),
                     KERNELS_WGT / 2.0 + split, lc);
}


/* A MoE block's kernels beyond a dense MLP's, by the graph scope that captures them. */
static void moe_kernels(const struct cm_ctx *c, struct layer_cost *lc)
{
    const struct model *m = c->m;
    /* of the router's kernels, its input's cast to fp32 and its gradient's back: an fp32 run's
     * input is fp32 already */
    double no_cast = 1.0 - cm_fp32_cast_kernels(c->cfg);
    double router_fwd = KERNELS_ROUTER_FWD - no_cast, router_bwd = KERNELS_ROUTER_BWD - no_cast;
    if (!c->scn->moe_router_fusion) {
        int grouped = m->route_nodes > 0;
        router_fwd += grouped ? KERNELS_UNFUSED_ROUTER_FWD : KERNELS_UNFUSED_SOFTMAX_ROUTER_FWD;
        router_bwd += grouped ? KERNELS_UNFUSED_ROUTER_BWD : KERNELS_UNFUSED_SOFTMAX_ROUTER_BWD;
    }
    cm_count_kernels(c, GS_MOE | GS_MOE_ROUTER, router_fwd, router_bwd, 0.0, lc);
    cm_count_kernels(c, GS_MOE | GS_MOE_PREPROCESS, KERNELS_MOE_PREPROCESS_FWD, 0.0, 0.0, lc);
    double fwd = KERNELS_MOE_ROUTE_FWD - KERNELS_ROUTER_FWD - KERNELS_MOE_PREPROCESS_FWD;
    double bwd = KERNELS_MOE_ROUTE_BWD - KERNELS_ROUTER_BWD, wgt = 0.0;
    if (cm_expert_pad_copies(c)) { /* the tokens' and the probabilities' padding and FC2's
                                    * unpadding, each way */
        fwd += KERNELS_EXPERT_PADDING;
        bwd += KERNELS_EXPERT_PADDING;
    }
    fwd += cm_expert_quantize_kernels(c) + unfused_routed_act_kernels(c);
    bwd += cm_expert_quantize_kernels(c) + unfused_routed_act_kernels(c);
    if (c->scn->moe_fused_grouped_mlp) { /* the activation in the GEMMs' epilogues */
        fwd -= 1.0;
        bwd -= 1.0;
    } else { /* FC1 and FC2 once per local expert instead of once */
        double extra_gemms = 2.0 * ((double)m->experts / c->cfg->ep - 1.0);
        fwd += extra_gemms;
        bwd += extra_gemms;
        wgt += extra_gemms;
    }
    if (m->bias && !c->scn->moe_fused_grouped_mlp) { /* expert_bias_bytes */
        double local_experts = (double)m->experts / c->cfg->ep;
        fwd += 2.0 * local_experts + 1.0 + cm_fp32_cast_kernels(c->cfg); /* the cat, the cast */
        bwd += 5.0 * local_experts + 1.0;
    }
    if (m->moe_latent > 0) { /* the two latent projections' GEMMs each way */
        fwd += 2.0;
        bwd += 2.0;
        wgt += 2.0;
    }
    if (m->shared_experts > 0) {
        fwd += KERNELS_SHARED_FWD;
        bwd += KERNELS_SHARED_BWD;
        wgt += KERNELS_SHARED_WGT;
    }
    cm_count_kernels(c, GS_MOE, fwd, bwd, wgt, lc);
}

/* Kernel launches of one layer per pass (KERNELS_* above), each block's counted eager or
 * graphed by the graphs' scope: a transformer layer's two blocks, or a hybrid layer's one. */
static void layer_kernels(const struct cm_ctx *c, const struct layer_parts *lp,
                          struct layer_cost *lc)
{
    if (lp->mixer != MIXER_NONE)
        mixer_kernels(c, lp, lc);
    if (lp->mlp == MLP_NONE)
        return;
    int swiglu = c->scn->elementwise == ELEMENTWISE_EAGER && c->m->act == ACT_SWIGLU;
    double fwd = block_kernels(c, 0) + KERNELS_FWD - KERNELS_ATTN_FWD +
                 swiglu * KERNELS_EAGER_SWIGLU_FWD;
    double bwd = block_kernels(c, 1) + KERNELS_BWD - KERNELS_ATTN_BWD +
                 swiglu * KERNELS_EAGER_SWIGLU_BWD;
    int moe = lp->mlp == MLP_MOE;
    double split = separate_launches(c, lp, 0); /* the up-projection's GEMMs and the sum */
    cm_count_kernels(c, moe ? GS_MOE : GS_MLP, fwd + split, bwd + split + (split > 0),
                     KERNELS_WGT / 2.0 + split, lc);
    if (moe)
        moe_kernels(c, lc);
}

/* The FLOPs a flash backward runs for one sequence: the core's, except under fp8 attention
 * with a sliding window, whose backward cuDNN computes as if the layer attended causally to
 * the whole sequence.  NVIDIA's measurements at GPT-OSS's shape (128-token window, head dim
 * 64, causal; github.com/NVIDIA/cudnn-frontend at 3929da2, benchmark/sdpa_benchmark_training/
 * results/gpt_oss/gb200 and gb300, cuDNN 9.22, April 2026): from 2K to 32K tokens the bf16
 * backward's time grows with the length (GB200 0.24 -> 3.69 ms) and so does every forward,
 * while the fp8 and MXFP8 backward's grows with its square (GB200 per-tensor fp8 1.73 / 6.18 /
 * 23.2 / 90.3 ms at 4K / 8K / 16K / 32K, MXFP8 2.08 / 7.43 / 27.9 / 108; GB300 alike), 4.5x
 * the bf16 backward already at 4K.  Chunked windows (Llama 4) are not in that benchmark and
 * keep their own count.  Applied on every GPU: on Hopper (H200, cuDNN 9.19) the fp8 runs at
 * that shape failed, so no other measurement exists. */
static double flash_bwd_core_flops(const struct cm_ctx *c, const struct layer_flops *lf)
{
    int sliding = c->m->window > 0 && !c->m->window_chunked;
    return c->scn->fp8_attention && sliding ? lf->attn_core_unwindowed : lf->attn_core;
}

/* The scan's backward against its forward: the Gated DeltaNet's as FLA's kernels measure, the
 * SSD scan's as mamba_ssm's kernels count it, recomputation included (flops_mamba_scan_bwd;
 * until 2026-12-05, session 49, 2x: the input gradients alone). */
static double mixer_scan_bwd_factor(const struct cm_ctx *c, enum layer_mixer mixer)
{
    if (mixer == MIXER_GDN)
        return GDN_SCAN_BWD_FACTOR;
    double fwd = flops_mamba_scan(c->m, c->cfg->seq);
    return fwd > 0 ? flops_mamba_scan_bwd(c->m, c->cfg->seq) / fwd : 2.0;
}

/* The token mixer's core on this GPU, forward and backward, into lc: flash or unfused
 * attention, or a Mamba-2 mixer's SSD scan; `share` of one sequence's FLOPs, T tokens. */
static void layer_core(const struct cm_ctx *c, const struct layer_parts *lp,
                       const struct layer_flops *lf, double share, double T,
                       struct layer_cost *lc)
{
    const struct model *m = c->m;
    const struct cm_config *cfg = c->cfg;
    double core_flops = lf->attn_core * share;
    if (model_mixer_is_ssm(lp->mixer)) {
        int gdn = lp->mixer == MIXER_GDN;
        lc->core_fwd = gdn ? gdn_scan_s(c, lf->ssm_scan * share, T)
                           : mamba_scan_s(c, lf->ssm_scan * share, T);
        /* the backward runs the conv1d again first (its output was not kept) */
        double conv =
            cm_memory_s(c, c->cfg->act_bytes * T / cfg->tp * 2.0 * model_ssm_conv_channels(m));
        lc->core_bwd = mixer_scan_bwd_factor(c, lp->mixer) * lc->core_fwd + conv;
    } else if (lp->mixer != MIXER_ATTENTION) {
        lc->core_fwd = lc->core_bwd = 0.0;
    } else if (c->flash) {
        /* the curve's 16-bit rate, scaled by fp8 attention's measured gains when it runs */
        double at_16bit = attention_s(c, core_flops);
        double bwd_flops = flash_bwd_core_flops(c, lf) * share;
        double bwd_16bit = bwd_flops == core_flops ? at_16bit : attention_s(c, bwd_flops);
        lc->core_fwd = at_16bit / cfg->attention_fp8_fwd;
        lc->core_kernels_fwd = 1.0;
        lc->core_bwd =
            FLASH_BWD_FLOPS / cfg->attention_bwd_ratio * bwd_16bit / cfg->attention_fp8_bwd;
    } else {
        /* Two strided-batched GEMMs over (sample, head) -- Q K^T and scores x V, each half the
         * core's FLOPs; one batched launch fills the GPU like a single GEMM of that size --
         * plus the fused scale-mask-softmax over every score.  Q K^T writes every score
         * and scores x V reads it back: with a head dim of 96-160 that traffic, not the FLOPs,
         * bounds them on A100 and H100 (the memory-bound standard attention FlashAttention
         * removed: Dao et al. 2022, sec. 2.2 and fig. 2), so each takes the longer of its
         * FLOPs and its HBM bytes (the scores and its two s x head_dim operands). */
        double heads = (double)cfg->micro_batch * m->heads / cfg->tp, s = cfg->seq;
        double scores = heads * s * s / cfg->cp;
        double operands = c->cfg->act_bytes * 2.0 * heads * s / cfg->cp * m->head_dim;
        double gemm = cm_gemm_s(c, &c->wide, core_flops / 2.0);
        double traffic = cm_memory_s(c, c->cfg->act_bytes * scores + operands);
        double softmax = cm_memory_s(c, SOFTMAX_FWD_PASSES * c->cfg->act_bytes * scores);
        lc->core_fwd = 2.0 * fmax(gemm, traffic) + softmax;
        lc->core_bwd = 2.0 * lc->core_fwd;
        lc->core_kernels_fwd = KERNELS_UNFUSED_ATTN;
    }
}

/* DSA's indexer on a layer computing the top-k, into lc (Megatron-Core dsa.py, DSAIndexer and
 * the fused DSA kernels): its projections, 16-bit GEMMs on the micro-batch's tokens, and its
 * scoring and top-k over every causal pair, at the attention kernels' rate; both duplicated on
 * every TP rank (sequence parallelism gathers the indexer's inputs first), so they take the
 * context-parallel share `cp_share` alone.  The sparse KL loss that trains the indexer adds the
 * target's Q K^T on the selected pairs (the layer's heads: `share`) and, backward, the scores'
 * gradient there; the projections run their weight gradient and no input gradient. */
static void layer_dsa(const struct cm_ctx *c, const struct layer_flops *lf, double share,
                      double cp_share, struct layer_cost *lc)
{
    /* DeepSeek-V4's indexer (a CSA layer): its projections are Transformer Engine linears, at
     * the QKV linears' rate; the fused kernel computes its scores' gradient in the forward and
     * the backward only applies it (csa.py and dsa_kernels.py at 9d46c924) */
    int csa = lf->csa_index_bwd_in_fwd;
    double proj = csa ? cm_module_matmul_s(c, LM_ATTN_QKV, lf->dsa_index_proj * cp_share)
                      : cm_gemm_s(c, &c->wide, lf->dsa_index_proj * cp_share);
    double index_bwd = attention_s(c, lf->dsa_index_bwd * cp_share);
    lc->dsa_fwd = proj + attention_s(c, lf->dsa_index * cp_share) +
                  attention_s(c, lf->dsa_teacher * share) + (csa ? index_bwd : 0.0);
    lc->dsa_bwd = csa ? 0.0 : index_bwd;
    lc->dsa_wgrad = proj;
}

/* Bytes a compressor's PyTorch ops move per element of a projection's output (csa.py at
 * 9d46c924, Compressor.forward): the position bias added to the scores in fp32 (read 2, write
 * 4), with overlap (ratio 4) both tensors copied into windows twice as long (kv 2 written as
 * fill, 2 read and 2 written; the fp32 scores 4 + 4 + 4), the softmax (read 4, write 4), its
 * product with kv (read 2 + 4, write 4) and the sum over the window (read 4): 46, or 28
 * without overlap -- of them 5 or 2 elements in the activations' type `a`, the rest fp32. */
static double compressor_bytes(double ratio, double a)
{
    return ratio == 4.0 ? 5.0 * a + 36.0 : 2.0 * a + 24.0;
}

/* DeepSeek-V4's element-wise work beyond a latent-attention layer's, forward (the backward
 * twice it, as every element-wise pass here: cm_stage.c), for T tokens of this GPU at TP 1:
 *  - its attention (deepseek_v4_hybrid_attention.py): the rotary part of each head's output
 *    rotated back (its norms of Q and the entry: mla_assembly_s);
 *  - a compressor (csa.py, Compressor): its PyTorch ops (compressor_bytes), the entries
 *    written, and in the backward the layer input's gradient from its two linears added to the
 *    others (two adds: read 2, write 1 element each);
 *  - the indexer: its query rotated and Hadamard-transformed (read and written twice), its own
 *    compressor's ops, its scores read by the top-k (fp32);
 *  - hyper-connections (fused_mhc_kernels.py), per block: the projection reads the n streams,
 *    the aggregation reads them and writes the block's input, the post-mixing reads them and
 *    the block's output and writes the n new streams -- (4n + 2) h elements a token against the
 *    residual add's 3 h already counted -- and in the backward each block's three uses of the
 *    streams have their gradients summed (three read, one written: 4n h elements, grad_sum_bwd).
 * Launches: hyper-connections 4 kernels a block forward (projection with its norm, Sinkhorn,
 * aggregation, post-mixing) and 5 backward; the attention's back-rotation and grouped einsum
 * 2 each way; a compressor's ops 8 with overlap, 5 without; the indexer's rotation,
 * transforms, scale, its compressor, scoring, top-k and loss 13. */
static void csa_hc_elementwise(const struct cm_ctx *c, const struct layer_parts *lp, double T,
                               double Ts, struct layer_cost *lc)
{
    const struct model *m = c->m;
    double h = m->hidden, bytes = 0.0, kernels = 0.0, bwd_sum = 0.0;
    if (m->hc_streams > 0) {
        double n = m->hc_streams;
        bytes += lp->blocks * c->cfg->act_bytes * (4.0 * n + 2.0 - 3.0) * Ts * h;
        bwd_sum += lp->blocks * 4.0 * n * Ts * h; /* elements: three read, one written */
        kernels += lp->blocks * 4.0;
    }
    if (lp->mixer == MIXER_ATTENTION && m->csa_layers > 0) {
        double width = m->v_head_dim, r = lp->csa_ratio; /* the key-value entry's width */
        bytes += c->cfg->act_bytes * T * 2.0 * m->heads * m->qk_rope_dim;
        kernels += 2.0;
        if (r >= 2.0) {
            double coff = model_csa_coff(lp->csa_ratio);
            bytes += compressor_bytes(r, c->cfg->act_bytes) * T * coff * width +
                     c->cfg->act_bytes * T / r * width;
            bwd_sum += 2.0 * 3.0 * T * h; /* x's gradient from its two linears, added */
            kernels += r == 4.0 ? 8.0 : 5.0;
        }
        if (lp->indexer) {
            double q = T * m->csa_index_heads * m->csa_index_dim, dim = m->csa_index_dim;
            bytes += c->cfg->act_bytes * 4.0 * q +
                     compressor_bytes(4.0, c->cfg->act_bytes) * T * 2.0 * dim +
                     4.0 * model_csa_index_pairs(m, c->cfg->seq) * c->cfg->micro_batch;
            kernels += 13.0;
        }
    }
    double fwd = cm_memory_s(c, bytes);
    lc->elem_fwd += fwd;
    lc->grad_sum_bwd += cm_memory_s(c, c->cfg->act_bytes * bwd_sum);
    if (kernels > 0)
        cm_count_kernels(c, GS_ATTN, kernels, kernels + (m->hc_streams > 0 ? lp->blocks : 0.0),
                         0.0, lc);
}

static void layer_cost_of(const struct cm_ctx *c, const struct layer_parts *lp,
                          const struct layer_flops *lfp, struct layer_cost *lc)
{
    const struct model *m = c->m;
    const struct cm_config *cfg = c->cfg;
    double b = cfg->micro_batch, t = cfg->tp, cp = cfg->cp;
    double T = b * cfg->seq / cp;
    double Ts = c->scn->sp ? T / t : T;
    double share = b / (t * cp); /* of one sequence's layer FLOPs on this GPU */
    int moe = lp->mlp == MLP_MOE;
    memset(lc, 0, sizeof *lc);

    layer_gemms(c, lp, lfp, share, lc);
    layer_kernels(c, lp, lc);
    if (scn_adapters(c->scn))
        lora_cost(c, lp, T, lc);
    if (moe) /* router: softmax / sigmoid and top-k over T x experts fp32 scores (read and
              * write, three passes) */
        lc->router_fwd =
            cm_memory_s(c, 3.0 * 2.0 * 4.0 * Ts * m->experts) +
            /* fp32 router: the input cast to fp32 (read 2, write 4 bytes), and
             * in the backward its fp32 gradient cast back (read 4, write 2); an
             * fp32 run's input is fp32 already */
            (c->scn->moe_router_fp32 ? cm_memory_s(c, cm_fp32_cast_bytes(cfg) * Ts * m->hidden)
                                     : 0.0);
    layer_core(c, lp, lfp, share, T, lc);
    if (lp->indexer)
        layer_dsa(c, lfp, share, b / cp, lc);
    layer_elementwise(c, lp, T, Ts, lc);
    csa_hc_elementwise(c, lp, T, Ts, lc);
    cm_layer_tp_comm(c, lp, T, lc);
    if (lp->mixer == MIXER_ATTENTION && m->dsa_topk > 0) { /* DSA gathers its keys */
        cm_dsa_cp_traffic(c, T, lp->indexer, &lc->cp);
    } else if (lp->mixer == MIXER_ATTENTION) {
        cm_cp_traffic(c, T, &lc->cp); /* context parallelism's K/V exchange */
    } else if (lp->mixer == MIXER_MAMBA && cfg->cp > 1) { /* its sequence traded for heads */
        lc->cp_fwd = lc->cp_bwd = cm_memory_s(c, cm_mamba_cp_traffic(c, T, &lc->cp));
        /* six all-to-alls, each after a split-and-concatenate; the pieces' concatenation and
         * the load balancing undone and redone: 15 launches each way */
        cm_count_kernels(c, GS_MAMBA, 15.0, 15.0, 0.0, lc);
    } else if (lp->mixer == MIXER_GDN && cfg->cp > 1) {
        lc->cp_fwd = lc->cp_bwd = cm_memory_s(c, cm_gdn_cp_traffic(c, T, &lc->cp));
        /* two all-to-alls, each after a split-and-concatenate, the load balancing undone and
         * redone: 6 launches each way */
        cm_count_kernels(c, GS_ATTN, 6.0, 6.0, 0.0, lc);
    }
    cp_ring_passes(c, lp, T, lc);
    /* Expert parallelism: dispatch and combine of the routed tokens' hidden states, each way
     * (Megatron-Core MoE token dispatcher). */
    if (moe && cfg->ep > 1) {
        lc->ep_fwd = cm_ep_round_trip_s(c, Ts);
        lc->ep_bwd = lc->ep_fwd;
    }
    layer_acts(c, lp, T, Ts, &lc->acts);
    lc->input_bytes = c->cfg->act_bytes * Ts * m->hidden;
}

/* torchtitan's per-op policy (op_policy_gemms) on one dense attention layer: it runs again the
 * K, projection and up-projection matmuls, the norms and the activation (every element-wise op
 * is recomputed), the fp8 casts of those matmuls' inputs and, with TP, the collectives they
 * need; it keeps the layer input, Q and V, the flash kernel's output (bf16), the gate's output,
 * the down-projection's output (kept although no backward reads it) and, with sequence
 * parallelism, the two reduce-scatters' outputs.  The 2024 policy also kept aten.abs outputs
 * of fp8 scaling, dropped since (memory only: not modelled). */
static struct recompute_cost op_policy_recompute(const struct cm_ctx *c,
                                                 const struct layer_cost *lc)
{
    const struct model *m = c->m;
    const struct cm_config *cfg = c->cfg;
    double T = (double)cfg->micro_batch * cfg->seq / cfg->cp, per = T / cfg->tp;
    double Ts = c->scn->sp ? per : T, h = m->hidden;
    int gated = m->act == ACT_SWIGLU;
    double q = (double)m->heads * m->head_dim, kv = (double)m->kv_heads * m->head_dim;
    struct recompute_cost r = {
        .work = lc->op_gemm + lc->norm_fwd + lc->rope_fwd + lc->mla_qkv + lc->act_dense +
                (lc->gemm_fwd > 0 ? lc->quant_fwd * lc->op_gemm / lc->gemm_fwd : 0.0),
        .tp = lc->tp_regather,
    };
    double input = Ts * h, q_and_v = per * (q + kv), attention = per * m->heads * m->v_head_dim;
    double gate = per * m->ffn, down = gated ? T * h : 0.0;
    double scattered = cfg->tp > 1 && c->scn->sp ? 2.0 * Ts * h : 0.0;
    r.kept = c->cfg->act_bytes * (input + q_and_v + attention + gate + down + scattered) +
             lc->acts.masks;
    return r;
}

/* Selective recompute of core_attn, into r: where the framework checkpoints the core attention
 * (cm_config.core_attn_rerun), its forward runs again in the backward -- the kernel with what
 * runs beside it under context parallelism (the ring's copies and corrections, the K/V
 * exchange, exposed as in the forward) and, on a DSA layer computing its top-k, the indexer,
 * which sits inside the checkpointed core (Megatron-Core's DSAttention).  Flash attention keeps
 * no scores, so nothing is dropped beyond unfused attention's. */
static void core_attn_recompute(const struct cm_ctx *c, const struct layer_cost *lc,
                                struct recompute_cost *r)
{
    if (!c->cfg->core_attn_rerun || lc->core_kernels_fwd <= 0.0)
        return;
    double gaps = lc->core_kernels_fwd * launch_s(c, GS_ATTN);
    r->work += lc->core_fwd + lc->cp_fwd + lc->dsa_fwd + gaps;
    r->launch += gaps;
    r->cp += cm_exposed(c, lc->cp.ring_fwd, lc->core_fwd, 1) + lc->cp.block_fwd;
}

/* Would Megatron-Core's pre-MLP norm of a MoE layer stay out of its recompute for the router's
 * CUDA graph, which returns the norm's output into a static buffer unless the graph also holds
 * the preprocessing of an all-to-all or latent MoE layer, and which a shared expert overlapped
 * outside it reads (transformer_layer.py at d98e8a6, can_recompute_pre_mlp_layernorm_for_
 * cudagraph; "local", the full-iteration graph, does not hold it back)? */
static int router_graph_keeps_norm(const struct cm_ctx *c)
{
    const struct scenario *scn = c->scn;
    if (scn->cuda_graphs != CUDA_GRAPHS_MODULES || !(c->cfg->graph_scope & GS_MOE_ROUTER))
        return 0;
    if (c->m->shared_experts > 0 && scn->moe_shared_expert_overlap)
        return 1;
    return !((c->cfg->graph_scope & GS_MOE_PREPROCESS) &&
             (scn->moe_dispatcher == DISPATCH_ALLTOALL || c->m->moe_latent > 0));
}

/* The norms selective recompute of `layernorm` runs again in a layer, of its `blocks` (bit 0
 * the mixer's input norm, bit 1 the pre-MLP norm).  Megatron-Core recomputes a norm only
 * where it is a module of its own (transformer_layer.py: not an IdentityOp): its Transformer
 * Engine specs fuse the input norm into linear_qkv -- or a Mamba mixer's in_proj -- and a
 * dense MLP's into linear_fc1 (TELayerNormColumnParallelLinear, which keeps the norm's output
 * for its weight gradient whatever the recompute), and leave apart MLA's input norm and a MoE
 * layer's pre-MLP norm, the router's input (gpt_layer_specs.py).  Other frameworks both:
 * DeepSeek's recomputes every RMSNorm (DeepSeek-V3 report, sec. 3.2.3), and layernorm stands in
 * for torchtitan's policies. */
static int recomputed_norms(const struct cm_ctx *c, const struct layer_parts *lp)
{
    if (!c->cfg->megatron_core)
        return (lp->mixer != MIXER_NONE ? 1 : 0) | (lp->mlp != MLP_NONE ? 2 : 0);
    int input = lp->mixer == MIXER_ATTENTION && c->m->kv_lora_rank > 0;
    int pre_mlp = lp->mlp == MLP_MOE && !router_graph_keeps_norm(c);
    return (input ? 1 : 0) | (pre_mlp ? 2 : 0);
}

/* Selective recompute's parts below add what they re-run to r and drop what they no longer
 * keep from a (the activations kept). */

/* The recomputed norms (recomputed_norms: the mixer's input norm, the pre-MLP norm): each costs
 * its share of the norms' forward again, and the input it read is no longer kept. */
static void norms_recompute(const struct cm_ctx *c, const struct layer_parts *lp,
                            const struct layer_cost *lc, struct recompute_cost *r,
                            struct layer_acts *a)
{
    int norms = recomputed_norms(c, lp);
    double per_norm = lp->blocks > 0 ? lc->norm_fwd / lp->blocks : 0.0;
    if (norms & 1) {
        r->work += per_norm;
        a->qkv_in = 0.0;
    }
    if (norms & 2) {
        r->work += per_norm;
        a->mlp_in = 0.0;
    }
}

/* MLA's up-projections and Q/K/V's assembly: CheckpointWithoutOutput re-runs
 * qkv_up_proj_and_rope_apply whole (multi_latent_attention.py,
 * MLASelfAttention.get_query_key_value_tensors, core_v0.12.0 to core_v0.14.0): the two
 * up-projections with their input gathers over TP, the rotary embedding of q_pos_emb and
 * k_pos_emb, and Q/K/V's assembly -- each kernel launched again.  Q/K/V are kept as the
 * latent. */
static void mla_up_recompute(const struct cm_ctx *c, const struct layer_cost *lc,
                             struct recompute_cost *r, struct layer_acts *a)
{
    double gaps = (2.0 + mla_assembly_kernels(c) + rope_kernels_fwd(c)) * launch_s(c, GS_ATTN);
    r->work += lc->mla_up + lc->mla_qkv + lc->rope_fwd + gaps;
    r->launch += gaps;
    r->tp += lc->mla_regather; /* their inputs gathered over TP again */
    a->qkv = a->latent;
}

/* The MLP's modules in rc (recompute-modules): a recomputed MLP -- dense, the shared experts,
 * or the whole MoE layer -- runs its TP collectives again: the input's gather and the output's
 * reduction (transformer_layer.py, the checkpointed self.mlp); moe_act the experts' activation
 * function alone. */
static void mlp_recompute(int rc, int moe, const struct layer_cost *lc, struct recompute_cost *r,
                          struct layer_acts *a)
{
    if ((rc & RC_MLP) && !moe) {
        r->work += lc->mlp_gemm + lc->act_dense;
        r->tp += lc->tp_mlp_fwd;
        a->dense_hidden = 0.0;
    }
    if ((rc & RC_SHARED_EXPERTS) && moe && !(rc & RC_MOE)) {
        r->work += lc->mlp_gemm + lc->act_dense;
        r->tp += lc->tp_shared_fwd;
        a->shared_hidden = 0.0;
    }
    if ((rc & RC_MOE) && moe) { /* the whole MoE layer (moe_layer.py, custom_forward): shared
                                  experts, router, latent projections, dispatch, experts and
                                  combine */
        r->work += lc->mlp_gemm + lc->act_dense + lc->router_gemm + lc->latent_gemm +
                   lc->expert_gemm + lc->act_moe + lc->permute_fwd + lc->router_fwd +
                   lc->expert_bias_fwd;
        r->ep += lc->ep_fwd;
        r->tp += lc->tp_shared_fwd;
        a->shared_hidden = a->moe_hidden = a->permuted = a->latent_out = 0.0;
    } else if ((rc & RC_MOE_ACT) && moe) {
        r->work += lc->act_moe;
        a->moe_hidden -= a->moe_act_out;
    }
    if (rc & RC_MOE || rc & RC_MOE_ACT) /* moe_hidden holds FC1's output alone now */
        a->moe_act_out = 0.0;
}

/* Selective recompute of the scenario's modules in one layer. */
struct recompute_cost cm_selective_recompute(const struct cm_ctx *c, const struct layer_parts *lp,
                                             const struct layer_cost *lc)
{
    int rc = c->scn->recompute_modules;
    if (rc & RC_OP)
        return op_policy_recompute(c, lc);
    struct layer_acts a = lc->acts;
    struct recompute_cost r = {0};
    if (rc & RC_CORE_ATTN) {
        core_attn_recompute(c, lc, &r);
        a.scores = 0.0;
    }
    if (rc & RC_LAYERNORM)
        norms_recompute(c, lp, lc, &r, &a);
    if ((rc & RC_MLA_UP_PROJ) && a.latent > 0)
        mla_up_recompute(c, lc, &r, &a);
    mlp_recompute(rc, lp->mlp == MLP_MOE, lc, &r, &a);
    r.kept = cm_acts_total(&a);
    r.acts = a;
    return r;
}

/* One saved tensor of `bytes` (elem_bytes an element) into group `g` (a module's bit index),
 * when its module is offloaded and it is not under the size limit. */
static void offload_tensor(const struct cm_ctx *c, int g, double bytes, double elem_bytes,
                           double group_bytes[CM_OFFLOAD_GROUPS])
{
    if ((c->cfg->offload_modules & (1 << g)) && bytes > 0.0 &&
        bytes / elem_bytes >= c->scn->offload_min_elements)
        group_bytes[g] += bytes;
}

/* The bit index of an offload module's bit. */
static int om_index(int bit)
{
    int g = 0;
    while ((1 << g) != bit)
        g++;
    return g;
}

/* Megatron-Core's fine-grained activation offloading (pipeline_parallel/
 * fine_grained_activation_offload.py and the feature's guide, NVIDIA/Megatron-LM d98e8a6):
 * each named module's tensors saved for the backward -- its input -- go to pinned host memory
 * after its forward and come back before its backward; a tensor under offload-min-elements
 * elements (min_offloaded_tensor_size, 1,048,576 by default; tensor_need_offloading_checker
 * compares numel(), the logical element count whatever the bytes per element) stays.  The
 * tensors of `a` each module saves: the norms their block's residual input (a hybrid layer has
 * one block, its norm the mixer's or the MLP's), the QKV projection the norm's output, the
 * core Q, K and V (split in proportion to their heads: exact but for MLA, whose V is narrower)
 * and unfused attention's scores, the projection the core's output, the routed experts' FC1
 * the dispatched tokens, their activation FC1's output, and the fused grouped MLP all three of
 * its tensors (the dispatched tokens, FC1's output, the activation's output). */
double cm_offload_groups(const struct cm_ctx *c, const struct layer_parts *lp,
                         const struct layer_acts *a, double group_bytes[CM_OFFLOAD_GROUPS])
{
    const struct model *m = c->m;
    int om = c->cfg->offload_modules;
    for (int g = 0; g < CM_OFFLOAD_GROUPS; g++)
        group_bytes[g] = 0.0;
    double block_in = lp->blocks > 0 ? a->norm_in / lp->blocks : 0.0;
    if (lp->mixer == MIXER_ATTENTION) {
        offload_tensor(c, om_index(OM_ATTN_NORM), block_in, c->cfg->act_bytes, group_bytes);
        if (om & OM_QKV_LINEAR)
            offload_tensor(c, om_index(OM_QKV_LINEAR), a->qkv_in,
                           cm_kept_input_bytes(c, LM_ATTN_QKV), group_bytes);
    }
    /* with MLA's up-projections recomputed, `qkv` holds the latents their checkpoint keeps: the
     * core's Q, K and V are dropped after its forward and made again, nothing to offload */
    int qkv_recomputed = c->scn->recompute == RECOMPUTE_SELECTIVE &&
                         (c->scn->recompute_modules & RC_MLA_UP_PROJ) && a->latent > 0;
    if ((om & OM_CORE_ATTN) && !qkv_recomputed) {
        int g = om_index(OM_CORE_ATTN);
        double heads = m->heads + 2.0 * m->kv_heads;
        offload_tensor(c, g, a->qkv * m->heads / heads, c->cfg->act_bytes, group_bytes);
        offload_tensor(c, g, a->qkv * m->kv_heads / heads, c->cfg->act_bytes, group_bytes); /* K */
        offload_tensor(c, g, a->qkv * m->kv_heads / heads, c->cfg->act_bytes, group_bytes); /* V */
        offload_tensor(c, g, a->scores, c->cfg->act_bytes, group_bytes);
    }
    if (om & OM_ATTN_PROJ)
        offload_tensor(c, om_index(OM_ATTN_PROJ), a->attn_out,
                       cm_kept_input_bytes(c, LM_ATTN_PROJ), group_bytes);
    if (lp->mlp != MLP_NONE)
        offload_tensor(c, om_index(OM_MLP_NORM), block_in, c->cfg->act_bytes, group_bytes);
    int fused = om & OM_FUSED_GROUP_MLP;
    double fc1_out = a->moe_hidden - a->moe_act_out;
    offload_tensor(c, om_index(fused ? OM_FUSED_GROUP_MLP : OM_EXPERT_FC1), a->permuted,
                   c->cfg->act_bytes, group_bytes);
    offload_tensor(c, om_index(fused ? OM_FUSED_GROUP_MLP : OM_MOE_ACT), fc1_out, c->cfg->act_bytes,
                   group_bytes);
    if (fused)
        offload_tensor(c, om_index(OM_FUSED_GROUP_MLP), a->moe_act_out,
                       cm_kept_input_bytes(c, LM_EXPERTS), group_bytes);
    double bytes = 0.0;
    for (int g = 0; g < CM_OFFLOAD_GROUPS; g++)
        bytes += group_bytes[g];
    return bytes;
}
