/* cm_quant: the fp8 / nvfp4 quantization of one layer's GEMM operands -- what each recipe
 * casts, keeps and gathers, in bytes and kernel launches (see cm_quant.h). */
#include "cm_quant.h"

/* ---- fp8 / nvfp4 quantization of GEMM operands ----
 *
 * Only fp8 and nvfp4 runs quantize, and they keep bf16 beside their GEMMs: the tensors a
 * recipe reads and keeps unquantized are BF16_BYTES an element, not the run's act_bytes.
 *
 * What a narrow GEMM operand costs beyond the bf16 step depends on the recipe, on the kernel
 * that wrote it and on whether tensor parallelism gathers it.  The rules are Transformer
 * Engine's (read in TE 1.11 and 2.8): module/layernorm_linear.py, module/base.py
 * (grad_output_preprocess), csrc/extensions/normalization.cpp and activation.cpp, and
 * tensor/float8_tensor.py (supports_only_rowwise_all_gather). */

/* Who writes a GEMM operand before it is quantized. */
enum quant_producer {
    QP_NONE,          /* a quantize kernel reads the bf16 tensor (its own amax read first
                         where the recipe needs one) */
    QP_GIVES_AMAX,    /* the norm writes bf16 and the amax; one quantize pass follows
                         (TE's FUSED_NORM_AMAX_FP8, current scaling) */
    QP_WRITES_NARROW, /* the norm writes the quantized row-wise copy itself, not bf16
                         (TE's FULLY_FUSED norm, delayed scaling) */
};

/* One recipe's quantization, per element. */
struct quant_recipe {
    double q;         /* bytes of one quantized copy, scales included */
    double amax_read; /* bytes a separate amax pass reads (current scaling, NVFP4) */
    int per_tensor;   /* one scale per tensor: the column-wise copy the weight gradient
                         needs is the row-wise one transposed (otherwise both are quantized
                         from bf16, with scales along different axes) */
    enum quant_producer norm; /* how a LayerNormLinear's norm output gets quantized */
    int sp_row_cast_only;     /* TE 1.x (delayed scaling): a row-parallel Linear under
                                 sequence parallelism casts its input row-wise only and
                                 transposes it in the backward (linear.py at v1.11: forward
                                 fp8_cast_transpose_fused only if not sequence_parallel, else
                                 cast_to_fp8; backward fp8_transpose); TE 2.x casts both */
    double kernels;           /* kernels that quantize an operand a kernel of its own reads
                                 (Transformer Engine 2.x, csrc/extensions/cast.cpp and
                                 quantizer.cpp): delayed 1 (cast-transpose), current 3 (amax,
                                 scale, cast), blockwise and MXFP8 1, NVFP4 2 (the tensor amax
                                 after the Hadamard transform, the cast) */
    double kernels_after_norm; /* ... the norm wrote it (`norm`): delayed none, current 2 */
    double kept;              /* bytes an element of a GEMM input the backward keeps: its
                                 quantized copy, or the 16-bit tensor where the backward
                                 quantizes it again along the other axis (cols_in_backward) */
    int gathers_narrow;       /* TP all-gathers the quantized copy (TE's, torchao's
                                 tensor-wise Float8ColwiseParallel), else the 16-bit tensor */
    int cols_in_backward;     /* torchao's row-wise Float8Linear: the copy scaled along the
                                 other axis is quantized in the backward from the kept 16-bit
                                 tensor, after any TP gather, by a pass for its column amax and
                                 one for the cast (`amax_read` counts the first) */
    double weight_casts[2];   /* bytes a weight element costs each micro-batch, forward and
                                 backward, where the recipe keeps no quantized weight cache */
    double rescaled;          /* bytes an output element of a backward GEMM costs to scale
                                 after the GEMM (torchao's row-wise slow-accumulation path) */
};

/* torchao's row-wise Float8 (Float8LinearConfig.from_recipe_name("rowwise"), torchao at
 * 624304080 of June 2025, the version of torchtitan's benchmarks then): inputs, weights and
 * output gradients each get a scale per row for one GEMM and a scale per column for another,
 * both from the 16-bit tensor, which the backward keeps (float8_linear.py saves the
 * high-precision input).  Per element (torchao's own roofline, testing/float8/roofline_utils.py,
 * counts the same 8 bytes): the row-wise cast reads 2 and writes 1, its row amax in the same
 * pass; the column-wise copy needs the amax over a whole column first (a read of 2) and then
 * the cast (2 + 1), three kernels in all.  TP and FSDP gather in 16 bits (torchtitan asserts
 * float8 all-gather off with a recipe name).  Weights are cast each micro-batch, 3 bytes
 * forward and 5 backward, with no cache.  The two backward GEMMs run with slow accumulation,
 * for which torchao calls the tensor-wise cuBLAS kernel with unit scales and scales the
 * output after ("the rowwise CUTLASS-based kernel is so slow without fast-accum",
 * float8_ops.py addmm_float8_unwrapped): an in-place multiply, 2 + 2 bytes an output element,
 * which Inductor fuses where a point-wise op reads the output but not before a kernel of its
 * own (uncached_weight_bytes).  The forward GEMM, CUTLASS's row-wise kernel with
 * fast accumulation, is taken at the tensor-wise rate: "most shapes are within 90-100% of
 * tensor-wise efficiency" (pytorch/pytorch issue 147971, February 2025). */
static void rowwise_recipe(struct quant_recipe *r)
{
    r->amax_read = 2.0;
    r->kernels = r->kernels_after_norm = 1.0;
    r->gathers_narrow = 0;
    r->cols_in_backward = 1;
    r->weight_casts[0] = BF16_BYTES + r->q;
    r->weight_casts[1] = BF16_BYTES + r->amax_read + r->q;
    r->rescaled = 2.0 * BF16_BYTES;
}

/* One quantized copy: fp8 1 byte per element; blockwise and MXFP8 add a scale per 128 / 32;
 * NVFP4 (TE's NVFP4BlockScaling recipe; Abecassis et al., "Pretraining Large Language Models
 * with NVFP4", arXiv:2509.25149) half a byte plus an E4M3 scale per 16.
 * delayed: the scale comes from the amax history, so the norm kernel writes fp8 directly;
 * current: the tensor's own amax first (the norm computes it as it writes bf16); blockwise
 * (DeepSeek-V3's 1x128 tiles, an fp32 scale each) and MXFP8 (an E8M0 scale per 32) compute
 * their block scales in the quantize pass, after a bf16 norm; NVFP4: an E4M3 scale per 16
 * values and a tensor amax taken after the random Hadamard transform, so nothing fuses into
 * the norm (normalization.cpp: UNFUSED with post-RHT amax). */
static struct quant_recipe recipe_of(int dtype, int fp8_recipe)
{
    struct quant_recipe r = {.q = 1.0, .norm = QP_NONE, .kernels = 1.0, .gathers_narrow = 1};
    if (dtype == DT_NVFP4) {
        r.q = 0.5 + 1.0 / 16.0;
        r.amax_read = 2.0;
        r.kernels = r.kernels_after_norm = 2.0;
    } else if (fp8_recipe == FP8_CURRENT) {
        r.amax_read = 2.0;
        r.per_tensor = 1;
        r.norm = QP_GIVES_AMAX;
        r.kernels = 3.0;
        r.kernels_after_norm = 2.0;
    } else if (fp8_recipe == FP8_BLOCKWISE || fp8_recipe == FP8_MXFP8) {
        r.q = fp8_recipe == FP8_MXFP8 ? 1.0 + 1.0 / 32.0 : 1.0 + 4.0 / 128.0;
        r.kernels_after_norm = 1.0;
    } else if (fp8_recipe == FP8_ROWWISE) {
        rowwise_recipe(&r);
    } else { /* delayed */
        r.per_tensor = 1;
        r.norm = QP_WRITES_NARROW;
        r.sp_row_cast_only = 1;
    }
    r.kept = r.cols_in_backward ? BF16_BYTES : r.q;
    return r;
}

static struct quant_recipe quant_recipe_of(const struct scenario *scn)
{
    return recipe_of(scn->dtype, scn->fp8_recipe);
}

/* The recipe linear module `module` quantizes its operands with (module_rate's choice), or
 * NULL when bf16-modules keeps it 16-bit. */
static const struct quant_recipe *module_recipe(const struct cm_ctx *c, int module,
                                                struct quant_recipe *buf)
{
    if (c->scn->bf16_modules & module)
        return NULL;
    *buf = c->scn->mxfp8_modules & module ? recipe_of(DT_FP8, FP8_MXFP8)
                                          : quant_recipe_of(c->scn);
    return buf;
}

/* One GEMM operand to quantize: who wrote it, and its size on this GPU -- `local` elements,
 * `full` after the sequence-parallel gather when TP gathers it (else `full` = `local`). */
struct quant_operand {
    int module;   /* the linear module whose GEMM reads it (enum scn_linear_module) */
    int normed;   /* written by the norm of a LayerNormLinear (else by other kernels) */
    int gathered;
    double local, full;
    int backward; /* an output gradient, quantized in the backward */
    int sp_row;   /* a row-parallel Linear's input under sequence parallelism */
    enum quant_producer producer; /* who writes it, under the module's recipe */
};

/* Net HBM bytes to quantize one operand, into *now (the pass that makes it, in its own
 * pass's direction) and *later (a transpose the backward makes).
 *   - A quantize pass reads the bf16 tensor (2 bytes, plus the amax read) and writes its
 *     copies; a norm that writes fp8 itself saves its 2-byte bf16 write instead.
 *   - Per-tensor fp8 on a GPU whose fp8 GEMMs take only the TN layout (Hopper) needs a
 *     transposed copy for the weight gradient.  One cast-transpose kernel writes both when
 *     the operand is local and quantized by a kernel of its own; when the norm wrote it or
 *     TP gathers it (TE gathers only the row-wise fp8 copy), the backward transposes the
 *     full tensor: 1 byte read, 1 written.  Blackwell's fp8 GEMMs take any layout
 *     (hardware fp8-gemm-layouts="any"; TE's is_non_tn_fp8_gemm_supported): one copy.
 *     TE 1.x's Linear under sequence parallelism (the row-parallel GEMMs' inputs) casts
 *     row-wise only and transposes in the backward too (quant_recipe sp_row_cast_only).
 *   - Block-scaled recipes quantize both copies from bf16 before any gather, and gather
 *     whichever copy the GEMM needs: no pass after the gather. */
static int operand_quant_bytes(const struct quant_recipe *r, const struct quant_operand *o,
                               int any_layout, double *now, double *later)
{
    if (r->cols_in_backward) { /* rowwise_recipe: after the gather, each copy from 16 bits */
        double n = o->gathered ? o->full : o->local;
        double rows = BF16_BYTES + r->q, cols = r->amax_read + BF16_BYTES + r->q;
        *now += (o->backward ? rows + cols : rows) * n;
        *later += o->backward ? 0.0 : cols * n;
        return 2; /* the column amax and cast kernels, in the backward */
    }
    int transposed_later =
        r->per_tensor && !any_layout &&
        (o->gathered || o->producer == QP_WRITES_NARROW || (o->sp_row && r->sp_row_cast_only));
    int copies = r->per_tensor && (any_layout || transposed_later) ? 1 : 2;
    double read = o->producer == QP_NONE         ? BF16_BYTES + r->amax_read
                  : o->producer == QP_GIVES_AMAX ? BF16_BYTES
                                                 : 0.0;
    double unwritten = o->producer == QP_WRITES_NARROW ? BF16_BYTES : 0.0;
    *now += (read + copies * r->q - unwritten) * o->local;
    if (transposed_later)
        *later += 2.0 * r->q * o->full;
    return transposed_later;
}

/* The graph scope a linear module's kernels belong to (cuda-graph-scope): its block's. */
static int module_scope(const struct layer_parts *lp, int module)
{
    switch (module) {
    case LM_ATTN_QKV:
    case LM_ATTN_PROJ:
        return GS_ATTN;
    case LM_MAMBA_IN:
    case LM_MAMBA_OUT:
        return GS_MAMBA;
    default: /* the dense MLP, or a MoE layer's shared experts and projections */
        return lp->mlp == MLP_MOE ? GS_MOE : GS_MLP;
    }
}

/* What a recipe without a weight cache (rowwise_recipe) adds to one layer's quantization on
 * this GPU, forward and backward (now[0], now[1]): each weight of a narrow module cast every
 * micro-batch, and the backward GEMM outputs scaled after the GEMM -- every weight gradient
 * (the graph's output: nothing fuses with it) and the attention projection's input gradient,
 * which goes to the attention kernel's backward; the others go to point-wise ops (the
 * activation's backward, the sums of separate linears, the norm's) that Inductor fuses the
 * scaling into.  `qkv_out`, `proj_in`: the mixer's projection widths; `dense_inner`: the dense
 * MLP's (or shared experts') inner width; T tokens on this GPU. */
static void uncached_weight_bytes(const struct cm_ctx *c, const struct layer_parts *lp,
                                  double qkv_out, double proj_in, double dense_inner, double T,
                                  double now[2])
{
    struct quant_recipe rb;
    const struct quant_recipe *r = module_recipe(c, LM_MLP, &rb);
    if (!r || !(r->weight_casts[0] > 0 || r->rescaled > 0))
        return;
    const struct model *m = c->m;
    double t = c->cfg->tp, h = m->hidden, gate = m->act == ACT_SWIGLU ? 2.0 : 1.0;
    double w = (lp->mixer != MIXER_NONE ? h * (qkv_out + proj_in) / t : 0.0) +
               h * dense_inner * (gate + 1.0) / t;
    now[0] += r->weight_casts[0] * w;
    now[1] += r->weight_casts[1] * w + r->rescaled * (w + T * proj_in / t);
}

/* DeepSeek-V4's Transformer Engine linears beside the down-projections stepsim's QKV operand
 * stands for, per token at TP 1 (deepseek_v4_hybrid_attention.py and csa.py at 9d46c924): each
 * quantizes its own input -- the key-value projection the layer input; a compressor's two
 * linears it again; the indexer's compressor's two and its head weights it again, its query
 * projection the query latent -- and its output gradient for the weight gradient. */
static void v4_linear_operands(const struct model *m, const struct layer_parts *lp, int attn,
                               double *in, double *grad)
{
    if (!attn || !m->mla_shared_kv)
        return;
    double h = m->hidden, width = m->v_head_dim; /* the key-value entry (shared-kv) */
    double r = lp->csa_ratio;
    *in = h;
    if (r >= 2.0) {
        *in += 2.0 * h;
        *grad += 2.0 * model_csa_coff((int)r) * width;
    }
    if (lp->indexer && m->csa_layers > 0) {
        double heads = m->csa_index_heads, dim = m->csa_index_dim;
        *in += 3.0 * h + m->q_lora_rank;
        *grad += 2.0 * 2.0 * dim + heads + heads * dim;
    }
}

/* The widths of a layer's mixer projections, per token at TP 1: `qkv_out` out of the input
 * projection (QKV, or a linear-time mixer's in_proj), `proj_in` into the output projection
 * (0 without a mixer).  Apart because the operand table, the fp8 attention casts and the
 * uncached weights all size from them. */
static void mixer_widths(const struct model *m, const struct layer_parts *lp, double *qkv_out,
                         double *proj_in)
{
    int attn = lp->mixer == MIXER_ATTENTION, ssm = model_mixer_is_ssm(lp->mixer);
    *qkv_out = attn  ? model_q_width(m) + 2.0 * m->kv_heads * m->head_dim
               : ssm ? model_ssm_in_width(m)
                     : 0.0;
    *proj_in = attn && m->o_groups > 0 ? (double)m->o_groups * m->o_lora_rank /* wo_b */
               : attn                  ? (double)m->heads * m->v_head_dim
               : ssm                   ? model_ssm_inner(m)
                                       : 0.0;
}

/* The GEMM operands one layer quantizes, forward inputs then output gradients, each sized on
 * this GPU (an operand a layer lacks has local = 0). */
enum { LAYER_OPERANDS = 14 };
struct layer_operands {
    struct quant_operand op[LAYER_OPERANDS];
};

/* One layer's operand table: which module reads each operand, who writes it and how large it
 * is.  Apart from its pricing (quantize_operands) because the table is a model of the layer's
 * dataflow and the pricing a model of the recipe; T tokens, Ts sharded. */
static struct layer_operands layer_operands(const struct cm_ctx *c, const struct layer_parts *lp,
                                            double T, double Ts, double dense_inner,
                                            double routed_inner, double qkv_out, double proj_in)
{
    const struct model *m = c->m;
    int sp = c->scn->sp && c->cfg->tp > 1, moe = lp->mlp == MLP_MOE;
    int attn = lp->mixer == MIXER_ATTENTION;
    double t = c->cfg->tp, h = m->hidden, rows = sp ? Ts * h : T * h;
    double v4_in = 0.0, v4_grad = 0.0;
    v4_linear_operands(m, lp, attn, &v4_in, &v4_grad);
    double mixer_rows = lp->mixer != MIXER_NONE ? rows : 0.0;
    double gate = m->act == ACT_SWIGLU ? 2.0 : 1.0; /* FC1 outputs per inner element */
    double routed = Ts * m->top_k * model_moe_width(m) * c->cfg->moe_load; /* experts' input */
    /* an MLP fed by the pre-MLP norm */
    int dense_mlp = lp->mlp == MLP_DENSE || (moe && m->shared_experts > 0);
    int mix_in = attn ? LM_ATTN_QKV : LM_MAMBA_IN, mix_out = attn ? LM_ATTN_PROJ : LM_MAMBA_OUT;
    int dense_mod = moe ? LM_SHARED_EXPERTS : LM_MLP;
    /* MLA's down-projections take a separate norm's output (TELinear, not LayerNormLinear);
     * a MoE layer's pre-MLP norm feeds the router too, so its shared experts' input is
     * unfused; Megatron-Core's own bias-activation kernel writes FC2's input in bf16. */
    int qkv_normed = !(m->kv_lora_rank > 0 && attn);
    return (struct layer_operands){{
        {mix_in, qkv_normed, sp, mixer_rows, T * h, 0, 0, QP_NONE},   /* QKV (in_proj) input */
        {mix_out, 0, 0, T * proj_in / t, 0, 0, sp, QP_NONE},         /* projection input */
        {dense_mod, !moe, sp, dense_mlp ? rows : 0, T * h, 0, 0, QP_NONE}, /* FC1 input */
        {LM_EXPERTS, 0, 0, moe ? routed : 0, 0, 0, 0, QP_NONE}, /* routed experts' FC1 input */
        {dense_mod, 0, 0, T * dense_inner / t, 0, 0, sp, QP_NONE},   /* FC2 input */
        {LM_EXPERTS, 0, 0, T * routed_inner / t, 0, 0, sp, QP_NONE}, /* ... of the routed */
        {mix_in, 0, 0, T * qkv_out / t, 0, 1, 0, QP_NONE},           /* QKV out-gradient */
        {dense_mod, 0, 0, T * dense_inner * gate / t, 0, 1, 0, QP_NONE}, /* FC1 out-gradient */
        {LM_EXPERTS, 0, 0, T * routed_inner * gate / t, 0, 1, 0, QP_NONE}, /* ... routed */
        {mix_out, 0, sp, mixer_rows, T * h, 1, 0, QP_NONE},          /* projection out-grad */
        {dense_mod, 0, sp, dense_mlp ? rows : 0, T * h, 1, 0, QP_NONE}, /* FC2 out-gradient */
        {LM_EXPERTS, 0, 0, moe ? routed : 0, 0, 1, 0, QP_NONE},      /* ... of the routed */
        {mix_in, 0, 0, T * v4_in, 0, 0, 0, QP_NONE},   /* DeepSeek-V4's other linears' inputs */
        {mix_in, 0, 0, T * v4_grad, 0, 1, 0, QP_NONE}, /* ... and output gradients */
    }};
}

/* Prices the operand table under each operand's module recipe: bytes into now[] (by
 * direction) and *later (the backward's transposes), launches counted into lc.  Apart so the
 * per-operand rules read in one place; operands are added in table order (the sums' order). */
static void quantize_operands(const struct cm_ctx *c, const struct layer_parts *lp,
                              const struct layer_operands *ops, double now[2], double *later,
                              struct layer_cost *lc)
{
    for (size_t i = 0; i < LAYER_OPERANDS; i++) {
        struct quant_operand o = ops->op[i];
        struct quant_recipe buf;
        const struct quant_recipe *r = module_recipe(c, o.module, &buf);
        if (!r || !(o.local > 0.0))
            continue;
        if (!o.gathered)
            o.full = o.local;
        o.producer = o.normed ? r->norm : QP_NONE;
        double transpose =
            operand_quant_bytes(r, &o, c->hw->gpu.fp8_any_layout, &now[o.backward], later);
        if (o.module != LM_EXPERTS) { /* the experts' launches: cm_expert_quantize_kernels */
            double k = o.producer != QP_NONE ? r->kernels_after_norm : r->kernels;
            cm_count_kernels(c, module_scope(lp, o.module), o.backward ? 0.0 : k,
                             (o.backward ? k : 0.0) + transpose, 0.0, lc);
        }
    }
}

/* fp8 / nvfp4 quantization time of one layer's GEMM operands on this GPU (struct
 * layer_cost's quant_fwd / quant_bwd; net of the bf16 writes a fused norm saves), each operand
 * under its module's recipe (module_recipe; a bf16 module quantizes nothing).
 * Weights are cast once per step and cached (TE's is_first_microbatch): nothing here.
 * `dense_inner` is the dense MLP's or the shared experts' inner width, `routed_inner` the
 * routed experts' (top_k of them) where their activation runs unfused. */
void cm_narrow_quantize_s(const struct cm_ctx *c, const struct layer_parts *lp, double T,
                          double Ts, double dense_inner, double routed_inner,
                          struct layer_cost *lc)
{
    double qkv_out, proj_in;
    mixer_widths(c->m, lp, &qkv_out, &proj_in);
    struct layer_operands ops =
        layer_operands(c, lp, T, Ts, dense_inner, routed_inner, qkv_out, proj_in);
    double now[2] = {0.0, 0.0}, later = 0.0;
    quantize_operands(c, lp, &ops, now, &later, lc);
    if (lp->mixer == MIXER_ATTENTION && c->scn->fp8_attention) {
        /* fp8 attention (Transformer Engine's fp8 dot-product attention, its input and output
         * projections left in 16 bits): Q, K and V cast to fp8 before the kernel and its
         * output cast back (2 bytes read and 1 written, or 1 and 2, an element); the backward
         * casts the output gradient in and Q's, K's and V's gradients out. */
        double casts = 3.0 * T / c->cfg->tp * (qkv_out + proj_in);
        now[0] += casts;
        now[1] += casts;
    }
    uncached_weight_bytes(c, lp, qkv_out, proj_in, dense_inner, T, now);
    lc->quant_fwd = cm_memory_s(c, now[0]);
    lc->quant_bwd = cm_memory_s(c, now[1] + later);
}

double cm_tp_gather_bytes(const struct cm_ctx *c)
{
    struct quant_recipe r = quant_recipe_of(c->scn);
    return c->narrow && r.gathers_narrow ? r.q : c->cfg->act_bytes;
}

int cm_gathers_wide(const struct cm_ctx *c)
{
    return c->narrow && !quant_recipe_of(c->scn).gathers_narrow;
}

void cm_head_quant_bytes(const struct cm_ctx *c, double in_elems, double grad_elems,
                         double *fwd, double *bwd)
{
    struct quant_recipe r = quant_recipe_of(c->scn);
    struct quant_operand in = {.local = in_elems, .full = in_elems, .producer = QP_NONE};
    struct quant_operand grad = {.local = grad_elems, .full = grad_elems, .backward = 1,
                                 .producer = QP_NONE};
    double later = 0.0;
    *fwd = *bwd = 0.0;
    operand_quant_bytes(&r, &in, c->hw->gpu.fp8_any_layout, fwd, &later);
    operand_quant_bytes(&r, &grad, c->hw->gpu.fp8_any_layout, bwd, &later);
    *bwd += later;
}

/* Bytes an element of a kept input of module `module`'s GEMM takes: the one quantized copy
 * its backward needs in a narrow run (module_recipe's recipe), else act_bytes. */
double cm_kept_input_bytes(const struct cm_ctx *c, int module)
{
    struct quant_recipe buf;
    const struct quant_recipe *r = c->narrow ? module_recipe(c, module, &buf) : NULL;
    return r ? r->kept : c->cfg->act_bytes;
}

/* Quantize kernels of the routed experts' GEMM inputs, per operand (FC1's and FC2's inputs
 * forward, their output gradients backward): Transformer Engine's GroupedLinear quantizes an
 * operand split by split (tex.split_quantize; only delayed scaling has a fused multi-tensor
 * cast-transpose, and NVFP4 a fused split kernel: transformer_engine/pytorch/csrc/extensions/
 * cast.cpp, multi_tensor_quantize_impl, at v2.14), so each local expert's split runs its own
 * quantizer: current scaling's amax, scale and cast (3 kernels), a block-scaled recipe's one
 * cast (MXFP8, blockwise).  The fused grouped MLP quantizes FC2's input and FC1's output
 * gradient in its epilogues and the other two in one grouped kernel each.  (The dense
 * linears' quantize launches are counted per operand in cm_narrow_quantize_s.) */
double cm_expert_quantize_kernels(const struct cm_ctx *c)
{
    const struct scenario *scn = c->scn;
    if (!c->narrow || (scn->bf16_modules & LM_EXPERTS))
        return 0.0;
    if (scn->moe_fused_grouped_mlp)
        return 1.0;
    int mx = scn->mxfp8_modules & LM_EXPERTS; /* MXFP8 inside an NVFP4 run */
    if (!mx && (scn->dtype == DT_NVFP4 || scn->fp8_recipe == FP8_DELAYED))
        return 2.0;
    double local_experts = (double)c->m->experts / c->cfg->ep;
    return 2.0 * local_experts * (!mx && scn->fp8_recipe == FP8_CURRENT ? 3.0 : 1.0);
}

/* Current scaling quantizes a tensor at its own amax, so a sequence-parallel operand -- the
 * shard a column-parallel linear quantizes before gathering it, the output gradient a
 * row-parallel one quantizes before gathering it -- needs the amax of the whole: its quantizer
 * all-reduces it over the TP group first, in line (Transformer Engine's linear.py and
 * layernorm_linear.py, set_quantizer_amax_reduction_group for column-parallel inputs and
 * row-parallel output gradients under sequence parallelism; Float8CurrentScalingQuantizer and
 * NVFP4Quantizer honour it, block-scaled recipes have no tensor amax).  One float. */
double cm_amax_tp_reduction_s(const struct cm_ctx *c, struct coll_group tp_group)
{
    const struct scenario *scn = c->scn;
    int tensor_amax = (scn->dtype == DT_FP8 && scn->fp8_recipe == FP8_CURRENT) ||
                      scn->dtype == DT_NVFP4;
    if (!c->narrow || !scn->sp || !c->cfg->megatron_core || !tensor_amax)
        return 0.0;
    return cm_coll_time(c, COLL_ALL_REDUCE, 4.0, tp_group);
}

/* Delayed scaling takes each tensor's scale from its amax history, which every rank of the
 * reduction group must share: when the forward leaves an fp8_autocast region, and again when
 * its backward ends, Transformer Engine all-reduces the region's current amaxes in one buffer,
 * in line (quantization.py, reduce_and_update_fp8_tensors, async_op=False), over
 * Megatron-Core's amax reduction group -- the tensor-, context- and data-parallel ranks of the
 * stage (parallel_state.get_amax_reduction_group) -- and Megatron-Core wraps a chunk in one
 * region.  The buffer: per linear three fp32 amaxes forward (input, weight, output) and two
 * backward, four linears a layer. */
#define DELAYED_AMAX_LINEARS_PER_LAYER 4.0
void cm_delayed_amax_reductions_s(const struct cm_ctx *c, int layers, double *fwd_s,
                                  double *bwd_s)
{
    const struct scenario *scn = c->scn;
    const struct cm_config *cfg = c->cfg;
    *fwd_s = *bwd_s = 0.0;
    if (!c->narrow || scn->dtype != DT_FP8 || scn->fp8_recipe != FP8_DELAYED ||
        !cfg->megatron_core || layers <= 0)
        return;
    /* the stage's data-parallel replicas (with the CP ranks, where the rank order puts them),
     * each its TP group (groups.h) */
    struct coll_group g = c->groups->amax.g;
    double linears = DELAYED_AMAX_LINEARS_PER_LAYER * layers;
    *fwd_s = cm_coll_time(c, COLL_ALL_REDUCE, 4.0 * 3.0 * linears, g);
    *bwd_s = cm_coll_time(c, COLL_ALL_REDUCE, 4.0 * 2.0 * linears, g);
}
