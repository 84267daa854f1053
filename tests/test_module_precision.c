/* test_module_precision: bf16-modules and mxfp8-modules (Megatron-Core's per-module
 * quant_recipe) against hand-computed values on the toy GPU (tests/helpers.c toy_hardware:
 * bf16 1000 TFLOPS at a flat 50%, fp8 2000 at 40%, nvfp4 4000 at 30%, training-efficiency 1,
 * HBM free unless a test sets its bandwidth), and the rules that refuse them.  Llama-3.1-8B's
 * layers are all of kind 0 (its report's layer_view[0]); a hybrid model's Mamba layers are of
 * kind MODEL_KIND_MAMBA.  The toy HBM is not quite free (10^6 TB/s): what it charges, well under a
 * nanosecond here, is left to the 10^-6 tolerance. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "helpers.h"
#include "report.h"
#include "step.h"

#define MODEL(name) TOP_SRCDIR "/models/" name ".xml"
#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define near(a, b) (fabs((a) - (b)) <= 1e-12 + 1e-6 * fabs(b))

/* Blackwell's marker in a hardware file: its fp8 GEMMs take any layout (MXFP8 runs there). */
#define BLACKWELL "fp8-gemm-layouts=\"any\""

/* The toy GPU's seconds per FLOP at each rate. */
static const double BF16 = 1.0 / 500e12, FP8 = 1.0 / 800e12, NVFP4 = 1.0 / 1200e12;

/* Llama-3.1-8B at 4096 tokens, one micro-batch on one GPU: hidden 4096, Q 32 x 128, K and V
 * 8 x 128 each, FFN 14336 (SwiGLU: three h x ffn matrices). */
static const double T = 4096, H = 4096, QKV_OUT = 4096 + 2 * 1024, FFN = 14336;

static struct scenario scn;
static struct step_output out;

static struct cm_layer_view layer_of(const char *model, int kind, const char *const *sets)
{
    toy_step_on(model, 8, BLACKWELL, sets, &scn, &out);
    struct cm_layer_view v = out.rep.layer_view[kind];
    step_release(&out);
    return v;
}

/* Pipeline stage 0's forward and backward compute, and rank 0's weight memory. */
static struct stage0 {
    double fwd, bwd, weights;
} stage0_of(const char *model, const char *const *sets)
{
    toy_step_on(model, 8, BLACKWELL, sets, &scn, &out);
    struct stage0 s = {out.cm.stages[0].fwd.compute, out.cm.stages[0].bwd.compute,
                       out.rep.mem[0].weights};
    step_release(&out);
    return s;
}

/* Attention's QKV and output projections kept in bf16 inside an NVFP4 run take their FLOPs at
 * the 16-bit rate: 2 T h (q + 2 kv) and 2 T h h more forward at 1/500 instead of 1/1200 TFLOPS;
 * the MLP stays NVFP4. */
Test(module_precision, bf16_attention_projections_run_at_the_16_bit_rate)
{
    const char *const *base = L("seq=4096", "microbatches=1", "dtype=nvfp4");
    const char *const *kept =
        L("seq=4096", "microbatches=1", "dtype=nvfp4", "bf16-modules=attn_qkv,attn_proj");
    struct cm_layer_view a = layer_of(MODEL("llama3.1-8b"), 0, base);
    struct cm_layer_view b = layer_of(MODEL("llama3.1-8b"), 0, kept);
    double flops = 2 * T * H * QKV_OUT + 2 * T * H * H;
    cr_assert(near(b.gemm_fwd - a.gemm_fwd, flops * (BF16 - NVFP4)), "%.12g",
              b.gemm_fwd - a.gemm_fwd);
    double mlp = 3 * 2 * T * H * FFN;
    cr_assert(near(b.gemm_fwd, flops * BF16 + mlp * NVFP4), "%.12g", b.gemm_fwd);
}

/* A bf16 module quantizes nothing: with HBM at 1 TB/s, dropping the QKV projection takes its
 * input's NVFP4 quantization out of the forward -- read 2 bytes, the amax read 2, two copies
 * of 0.5 + 1/16 bytes: 5.125 bytes per element of T x h -- and its output gradient's out of
 * the backward (T x (q + 2 kv) elements alike). */
Test(module_precision, a_bf16_module_drops_its_operands_quantization)
{
    const char *const *base =
        L("seq=4096", "microbatches=1", "dtype=nvfp4", "hw.hbm-bandwidth=1TBps");
    const char *const *kept = L("seq=4096", "microbatches=1", "dtype=nvfp4",
                                "hw.hbm-bandwidth=1TBps", "bf16-modules=attn_qkv");
    struct cm_layer_view a = layer_of(MODEL("llama3.1-8b"), 0, base);
    struct cm_layer_view b = layer_of(MODEL("llama3.1-8b"), 0, kept);
    double per_element = 2.0 + 2.0 + 2 * (0.5 + 1.0 / 16);
    cr_assert(near(a.quant_fwd - b.quant_fwd, per_element * T * H / 1e12), "%.12g",
              a.quant_fwd - b.quant_fwd);
    cr_assert(near(a.quant_bwd - b.quant_bwd, per_element * T * QKV_OUT / 1e12), "%.12g",
              a.quant_bwd - b.quant_bwd);
}

/* Nemotron 3 Nano's Mamba out_proj (d_inner 64 x 64 = 4096 -> hidden 2688) in MXFP8 inside an
 * NVFP4 run: its 2 T d_inner h FLOPs at 1/800 instead of 1/1200 TFLOPS, and its input quantized
 * as MXFP8 (2 bytes read, two copies of 1 + 1/32) where NVFP4 read 4 and wrote 1.125. */
Test(module_precision, mxfp8_mamba_out_proj_runs_at_the_fp8_rate)
{
    const char *const *base =
        L("seq=4096", "microbatches=1", "dtype=nvfp4", "ep=8", "hw.hbm-bandwidth=1TBps");
    const char *const *mx = L("seq=4096", "microbatches=1", "dtype=nvfp4", "ep=8",
                              "hw.hbm-bandwidth=1TBps", "mxfp8-modules=mamba_out");
    struct cm_layer_view a = layer_of(MODEL("nemotron-3-nano-30b-a3b"), MODEL_KIND_MAMBA, base);
    struct cm_layer_view b = layer_of(MODEL("nemotron-3-nano-30b-a3b"), MODEL_KIND_MAMBA, mx);
    double inner = 64 * 64, h = 2688, flops = 2 * T * inner * h;
    cr_assert(near(b.gemm_fwd - a.gemm_fwd, flops * (FP8 - NVFP4)), "%.12g",
              b.gemm_fwd - a.gemm_fwd);
    double nvfp4 = 2.0 + 2.0 + 2 * (0.5 + 1.0 / 16), mxfp8 = 2.0 + 2 * (1.0 + 1.0 / 32);
    cr_assert(near(b.quant_fwd - a.quant_fwd, (mxfp8 - nvfp4) * T * inner / 1e12), "%.12g",
              b.quant_fwd - a.quant_fwd);
}

/* The MTP module in bf16 (te_quant.cfg's mtp.*): Llama-3.1-8B with one MTP depth, whose module
 * is an eh_proj (2h -> h) and one layer like the last -- all of its linear FLOPs move from the
 * NVFP4 rate to the 16-bit one, on the last stage's forward. */
Test(module_precision, a_bf16_mtp_module_runs_its_layer_and_projection_in_bf16)
{
    const char *const *base = L("seq=4096", "microbatches=1", "dtype=nvfp4", "mtp-layers=1");
    const char *const *kept =
        L("seq=4096", "microbatches=1", "dtype=nvfp4", "mtp-layers=1", "bf16-modules=mtp");
    double a = stage0_of(MODEL("llama3.1-8b"), base).fwd;
    double b = stage0_of(MODEL("llama3.1-8b"), kept).fwd;
    double layer = 2 * T * H * QKV_OUT + 2 * T * H * H + 3 * 2 * T * H * FFN;
    double eh_proj = 2 * T * 2 * H * H;
    cr_assert(near(b - a, (layer + eh_proj) * (BF16 - NVFP4)), "%.12g", b - a);
}

/* NVFP4 caches each weight's two 4-bit copies (2 x (0.5 + 1/256) bytes a parameter); a bf16
 * module caches none, an MXFP8 one its two 8-bit copies (2 x (1 + 1/32)).  Llama-3.1-8B's 32
 * QKV projections of h x (q + 2 kv) weights. */
Test(module_precision, weight_caches_follow_each_modules_precision)
{
    const char *const *base = L("seq=4096", "microbatches=1", "dtype=nvfp4");
    const char *const *kept =
        L("seq=4096", "microbatches=1", "dtype=nvfp4", "bf16-modules=attn_qkv");
    const char *const *mx =
        L("seq=4096", "microbatches=1", "dtype=nvfp4", "mxfp8-modules=attn_qkv");
    struct stage0 a = stage0_of(MODEL("llama3.1-8b"), base);
    struct stage0 b = stage0_of(MODEL("llama3.1-8b"), kept);
    struct stage0 c = stage0_of(MODEL("llama3.1-8b"), mx);
    double qkv = 32 * H * QKV_OUT;
    cr_assert(near(a.weights - b.weights, 2 * (0.5 + 1.0 / 256) * qkv), "%.9g",
              a.weights - b.weights);
    cr_assert(near(c.weights - b.weights, 2 * (1 + 1.0 / 32) * qkv), "%.9g",
              c.weights - b.weights);
}

/* fp8-output-proj: the LM head's GEMMs (2 T h V forward, Llama-3.1-8B's vocabulary of 128,256)
 * at the MXFP8 rate instead of the 16-bit one, forward and backward, and its weight's two MXFP8
 * copies cached (2 x (1 + 1/32) bytes a parameter). */
Test(module_precision, an_fp8_output_projection_runs_the_lm_head_at_the_mxfp8_rate)
{
    const char *const *base = L("seq=4096", "microbatches=1", "dtype=fp8", "fp8-recipe=mxfp8");
    const char *const *mx =
        L("seq=4096", "microbatches=1", "dtype=fp8", "fp8-recipe=mxfp8", "fp8-output-proj=true");
    struct stage0 a = stage0_of(MODEL("llama3.1-8b"), base);
    struct stage0 b = stage0_of(MODEL("llama3.1-8b"), mx);
    double vocab = 128256, head = 2 * T * H * vocab;
    cr_assert(near(a.fwd - b.fwd, head * (BF16 - FP8)), "forward %.12g", a.fwd - b.fwd);
    cr_assert(near(a.bwd - b.bwd, head * (BF16 - FP8)), "backward %.12g", a.bwd - b.bwd);
    cr_assert(near(b.weights - a.weights, 2 * (1 + 1.0 / 32) * H * vocab), "cache %.9g",
              b.weights - a.weights);
}

/* fp8-block-gemm-gain: a block-scaled fp8 recipe's linear GEMMs at that share of the fp8
 * curve's rate (Hopper's cuBLAS, hardware/dgx-h100.xml), the per-tensor recipes at the curve's
 * own; a file that does not say runs blockwise at the curve's rate.  Llama-3.1-8B's layer:
 * 2 T h (q + 2 kv) + 2 T h h + 3 x 2 T h ffn FLOPs forward at 1/800 TFLOPS, twice as long at
 * a gain of 0.5; the LM head stays at the 16-bit rate either way. */
Test(module_precision, block_scaled_fp8_gemms_run_at_the_files_share_of_the_fp8_rate)
{
    const char *half = "fp8-block-gemm-gain=\"0.5\"";
    const char *const *current = L("seq=4096", "microbatches=1", "dtype=fp8", "fp8-recipe=current");
    const char *const *block = L("seq=4096", "microbatches=1", "dtype=fp8", "fp8-recipe=blockwise");
    double linear = 2 * T * H * QKV_OUT + 2 * T * H * H + 3 * 2 * T * H * FFN;
    toy_step_on(MODEL("llama3.1-8b"), 8, half, current, &scn, &out);
    double per_tensor = out.rep.layer_view[0].gemm_fwd, head_a = out.cm.stages[0].fwd.compute;
    step_release(&out);
    cr_assert(near(per_tensor, linear * FP8), "%.12g", per_tensor);
    toy_step_on(MODEL("llama3.1-8b"), 8, half, block, &scn, &out);
    double blockwise = out.rep.layer_view[0].gemm_fwd, head_b = out.cm.stages[0].fwd.compute;
    step_release(&out);
    cr_assert(near(blockwise, linear * FP8 / 0.5), "%.12g", blockwise);
    /* the stage's forward grows by the 32 layers' GEMMs and what the recipes' quantization
     * differs by, never by the LM head: at least the GEMMs' difference */
    cr_assert_geq(head_b - head_a, 32 * linear * FP8 * 0.999);
    toy_step_on(MODEL("llama3.1-8b"), 8, "", block, &scn, &out);
    cr_assert(near(out.rep.layer_view[0].gemm_fwd, linear * FP8), "no gain given: the curve's");
    step_release(&out);
}

/* The dense linears' quantize launches (cm_narrow_quantize_s), 10 us each here: under current
 * scaling Llama-3.1-8B's layer adds, forward, 2 for the QKV input and 2 for FC1's (their norms
 * give the amax) and 3 each for the projection's and FC2's inputs; backward 3 for each of the
 * four output gradients (a Blackwell file: no transposes).  Kept in bf16, the QKV projection
 * drops its 2 and 3. */
Test(module_precision, dense_quantize_launches_by_recipe_and_module)
{
    const char *const *bf16 = L("seq=4096", "microbatches=1", "hw.kernel-overhead=10us");
    const char *const *cs = L("seq=4096", "microbatches=1", "hw.kernel-overhead=10us",
                              "dtype=fp8", "fp8-recipe=current");
    const char *const *kept = L("seq=4096", "microbatches=1", "hw.kernel-overhead=10us",
                                "dtype=fp8", "fp8-recipe=current", "bf16-modules=attn_qkv");
    double f[3], b[3];
    const char *const *runs[] = {bf16, cs, kept};
    for (int i = 0; i < 3; i++) {
        toy_step_on(MODEL("llama3.1-8b"), 8, BLACKWELL, runs[i], &scn, &out);
        f[i] = out.cm.stages[0].fwd.compute - out.rep.layer_view[0].gemm_fwd * 32;
        b[i] = out.cm.stages[0].bwd.compute - out.rep.layer_view[0].gemm_bwd / 2 * 32;
        f[i] -= out.rep.layer_view[0].quant_fwd * 32;
        b[i] -= out.rep.layer_view[0].quant_bwd * 32;
        step_release(&out);
    }
    /* what the GEMMs and the quantization bytes leave: the launches (and the head, alike) */
    cr_assert(near(f[1] - f[0], 32 * 10 * 10e-6), "forward %.9g", f[1] - f[0]);
    cr_assert(near(b[1] - b[0], 32 * 12 * 10e-6), "backward %.9g", b[1] - b[0]);
    cr_assert(near(f[1] - f[2], 32 * 2 * 10e-6), "kept forward %.9g", f[1] - f[2]);
    cr_assert(near(b[1] - b[2], 32 * 3 * 10e-6), "kept backward %.9g", b[1] - b[2]);
}

static void refused(const char *model, const char *gpu_attrs, const char *const *sets,
                    const char *want)
{
    toy_rule_error(model, gpu_attrs, sets, want, &scn, &out);
}

/* bf16 modules in an all-bf16 run are refused rather than ignored; so are the other misuses. */
Test(module_precision, rules)
{
    const char *m8b = MODEL("llama3.1-8b"), *nano = MODEL("nemotron-3-nano-30b-a3b");
    refused(m8b, BLACKWELL, L("seq=4096", "bf16-modules=attn_qkv"),
                   "bf16-modules applies to dtype=fp8 or nvfp4");
    refused(m8b, BLACKWELL, L("seq=4096", "dtype=fp8", "mxfp8-modules=mlp"),
                   "mxfp8-modules applies to dtype=nvfp4");
    refused(m8b, "", L("seq=4096", "dtype=nvfp4", "mxfp8-modules=mlp"),
                   "MXFP8 GEMMs run on Blackwell");
    refused(m8b, BLACKWELL,
                   L("seq=4096", "dtype=nvfp4", "bf16-modules=mlp", "mxfp8-modules=mlp"),
                   "mlp named in both bf16-modules and mxfp8-modules");
    refused(m8b, BLACKWELL, L("seq=4096", "dtype=nvfp4", "bf16-modules=mamba_out"),
                   "bf16-modules names mamba_out, which llama3.1-8b has not");
    refused(MODEL("deepseek-v3"), BLACKWELL,
                   L("seq=4096", "dtype=nvfp4", "ep=8", "bf16-modules=attn_qkv"),
                   "latent attention has no linear_qkv");
    refused(nano, BLACKWELL, L("seq=4096", "dtype=nvfp4", "ep=8", "bf16-modules=mlp"),
                   "bf16-modules names mlp, which");
    refused(m8b, BLACKWELL,
                   L("seq=4096", "dtype=nvfp4", "mtp-layers=1", "mxfp8-modules=mtp"),
                   "an MXFP8 MTP module inside an NVFP4 run is not modelled");
    refused(nano, BLACKWELL,
                   L("seq=4096", "dtype=nvfp4", "ep=8", "moe-fused-grouped-mlp=true",
                     "bf16-modules=experts"),
                   "the fused grouped MLP quantizes its experts");
    refused(m8b, BLACKWELL,
                   L("seq=4096", "dtype=nvfp4", "framework=torchtitan", "bf16-modules=mlp"),
                   "no per-module quantization recipe");
    refused(m8b, BLACKWELL,
            L("seq=4096", "dtype=fp8", "fp8-recipe=current", "fp8-output-proj=true"),
            "fp8-output-proj needs dtype=fp8 with fp8-recipe=mxfp8");
    refused(MODEL("gpt-sc21-1.7b"), BLACKWELL,
            L("seq=2048", "dtype=fp8", "fp8-recipe=mxfp8", "fp8-output-proj=true"),
            "cannot use gpt-sc21-1.7b's tied embedding weight");
}
