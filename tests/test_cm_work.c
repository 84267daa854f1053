/* test_cm_work: the time of a virtual stage's ops against hand-computed values on a toy GPU
 * (tests/helpers.c toy_hardware: bf16 and fp32 1000 TFLOPS at a flat 50%, fp8 2000 TFLOPS at
 * 40%, nvfp4 4000 TFLOPS at 30%, attention at 25%, element-wise work free unless a test sets the
 * HBM bandwidth): which GEMMs run in fp8 or nvfp4, their quantization, selective recompute of
 * modules, multi-token prediction, context parallelism's ring overlapping attention, what an
 * fp32 run's element-wise passes move. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "step.h"

#define MODEL(name) TOP_SRCDIR "/models/" name ".xml"

static struct scenario scn;
static struct step_output out;

static void run_ok(const char *model, int node_gpus, const char *const *sets)
{
    toy_step(model, node_gpus, sets, &scn, &out);
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define near(a, b) (fabs((a) - (b)) <= 1e-9 + 1e-6 * fabs(b))

/* The last run's text report followed by its JSON (the caller frees it). */
static char *report_text_and_json(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    report_write_text(f, &scn, &out.rep);
    report_write_json(f, &scn, &out.rep);
    fclose(f);
    return text;
}

/* The JSON report names every term of the usable HBM -- the fixed reserve and NCCL's buffer
 * per communicator beside the count and the libraries' buffers -- as the text report's memory
 * header does, so that a script can redo hbm_usable_bytes from it (the JSON had left out the
 * reserve and the buffer's size).  tp 2 x dp 4: tensor and data groups, 2 communicators. */
Test(report, the_json_names_each_term_of_the_usable_hbm)
{
    const double gib = 1073741824.0;
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "tp=2", "gpus=8", "global-batch=8", "hw.nccl-buffers=256MiB",
             "hw.hbm-reserve=3GiB"));
    cr_assert_eq(out.cm.cfg.communicators, 2);
    FILE *fp = tmpfile();
    cr_assert_not_null(fp);
    report_write_json(fp, &scn, &out.rep);
    char *json = capture(fp);
    double hbm = json_number(json, "hbm_bytes");
    cr_expect_eq(json_number(json, "hbm_reserve_bytes"), 3.0 * gib, "%s", json);
    cr_expect_eq(json_number(json, "nccl_buffer_bytes"), 0.25 * gib);
    cr_expect_eq(json_number(json, "nccl_communicators"), 2.0);
    cr_expect_eq(json_number(json, "deepep_buffer_bytes"), 0.0);
    cr_expect_eq(json_number(json, "userbuffer_bytes"), 0.0);
    cr_expect_eq(json_number(json, "hbm_usable_bytes"), hbm - 3.5 * gib);
    free(json);
    step_release(&out);
}

/* Llama-3.1-8B, seq 4096, one GPU: FLOPs of one layer's forward for one sequence. */
static const double S = 4096, H = 4096, FFN = 14336, KV = 1024, VOCAB = 128256;
static double linear_flops(double s) /* QKV (GQA), projection, SwiGLU MLP */
{
    return 2.0 * s * (H * H + 2.0 * H * KV + H * H + 3.0 * H * FFN);
}
static double causal_core_flops(double s) /* Q K^T and scores x V, masked half */
{
    return 2.0 * s * s * 32 * (128 + 128) * 0.5;
}
static double head_flops(double s)
{
    return 2.0 * s * H * VOCAB;
}

/* Forward and weight-gradient compute of one micro-batch at dtype `dtype_set`, whose linear
 * GEMMs run at `linear_rate`: attention and the LM head stay at the 16-bit rates. */
static void check_linear_gemms_at(const char *dtype_set, double linear_rate)
{
    double bf16 = 1000e12 * 0.5, attn = 1000e12 * 0.25;
    double layer_attn = causal_core_flops(S) / attn, head = head_flops(S) / bf16;
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=4096", "microbatches=1", dtype_set));
    cr_assert(near(out.cm.stages[0].fwd.compute,
                   32 * (linear_flops(S) / linear_rate + layer_attn) + head),
              "%s forward %.9g", dtype_set, out.cm.stages[0].fwd.compute);
    cr_assert(near(out.cm.stages[0].wgt.compute, 32 * linear_flops(S) / linear_rate + head),
              "%s weight gradient %.9g", dtype_set, out.cm.stages[0].wgt.compute);
    step_release(&out);
}

Test(fp8, only_the_linear_layers_run_in_fp8)
{
    check_linear_gemms_at("dtype=bf16", 1000e12 * 0.5);
    check_linear_gemms_at("dtype=fp8", 2000e12 * 0.4);
}

Test(nvfp4, only_the_linear_layers_run_in_nvfp4)
{
    check_linear_gemms_at("dtype=nvfp4", 4000e12 * 0.3);
}

/* One layer's quantization time, forward and backward, on a toy GPU with 1 TB/s of HBM (so
 * a byte costs 1e-12 s) whose <gpu> carries `gpu_attrs`: the report's layer view. */
static void quant_per_layer(const char *gpu_attrs, const char *const *sets, double *fwd,
                            double *bwd)
{
    toy_step_on(MODEL("llama3.1-8b"), 8, gpu_attrs, sets, &scn, &out);
    *fwd = out.rep.layer_view[0].quant_fwd;
    *bwd = out.rep.layer_view[0].quant_bwd;
    step_release(&out);
}

#define QUANT(...)                                                                            \
    L("seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps", "hw.memory-efficiency=1",     \
      __VA_ARGS__)

/* Llama-3.1-8B's GEMM operands per token: the two norm outputs feeding QKV and FC1 (h each),
 * the projection input (32 heads x 128) and FC2's (ffn); backward, the output gradients of
 * QKV (h + 2 x 1024), FC1 (2 ffn, SwiGLU), the projection and FC2 (h each). */
static const double NORM_FED = 2 * H, OTHER_IN = 32 * 128 + FFN,
                    COL_GRADS = H + 2 * KV + 2 * FFN, ROW_GRADS = 2 * H;

Test(quantization, each_recipe_moves_its_bytes_per_operand)
{
    /* One GPU, Hopper-style TN-only fp8 GEMMs, 4096 tokens.  Per element:
     * delayed: the norm writes fp8 itself (1 byte instead of 2: -1) and the backward
     *   transposes it (1 read + 1 written); other operands one cast-transpose, 2 read + 1 + 1
     *   written = 4;
     * current: the norm hands over its amax, so one pass reads 2 and writes 1 + 1 = 4; other
     *   operands read once more for the amax = 6;
     * NVFP4: nothing fuses: an amax read 2, a read 2, two 4-bit copies with an E4M3 scale per
     *   16 values 2 x (0.5 + 1/16): 5.125. */
    const double n = 4096.0, B = 1e-12;
    double f, b;
    quant_per_layer("", QUANT("dtype=fp8", "fp8-recipe=delayed"), &f, &b);
    cr_assert(near(f, n * (-1.0 * NORM_FED + 4.0 * OTHER_IN) * B), "delayed forward %.9g", f);
    cr_assert(near(b, n * (2.0 * NORM_FED + 4.0 * (COL_GRADS + ROW_GRADS)) * B),
              "delayed backward %.9g", b);
    quant_per_layer("", QUANT("dtype=fp8", "fp8-recipe=current"), &f, &b);
    cr_assert(near(f, n * (4.0 * NORM_FED + 6.0 * OTHER_IN) * B), "current forward %.9g", f);
    cr_assert(near(b, n * 6.0 * (COL_GRADS + ROW_GRADS) * B), "current backward %.9g", b);
    quant_per_layer("", QUANT("dtype=nvfp4"), &f, &b);
    cr_assert(near(f, n * 5.125 * (NORM_FED + OTHER_IN) * B), "nvfp4 forward %.9g", f);
    cr_assert(near(b, n * 5.125 * (COL_GRADS + ROW_GRADS) * B), "nvfp4 backward %.9g", b);
}

Test(quantization, any_layout_fp8_gemms_keep_one_copy)
{
    /* Blackwell (fp8-gemm-layouts="any"): no transposed copy.  delayed: the norm's -1 and
     * nothing in the backward for it, 2 read + 1 written = 3 elsewhere; current: 2 + 1 = 3
     * after the norm, 2 + 2 + 1 = 5 elsewhere; MXFP8's block scales run along the other axis
     * for the weight gradient, so it makes both copies though the GEMMs take any layout:
     * 2 + 2 x (1 + 1/32). */
    const char *any = "fp8-gemm-layouts=\"any\"";
    const double n = 4096.0, B = 1e-12, mx = 2.0 + 2.0 * (1.0 + 1.0 / 32.0);
    double f, b;
    quant_per_layer(any, QUANT("dtype=fp8", "fp8-recipe=delayed"), &f, &b);
    cr_assert(near(f, n * (-1.0 * NORM_FED + 3.0 * OTHER_IN) * B), "delayed forward %.9g", f);
    cr_assert(near(b, n * 3.0 * (COL_GRADS + ROW_GRADS) * B), "delayed backward %.9g", b);
    quant_per_layer(any, QUANT("dtype=fp8", "fp8-recipe=current"), &f, &b);
    cr_assert(near(f, n * (3.0 * NORM_FED + 5.0 * OTHER_IN) * B), "current forward %.9g", f);
    cr_assert(near(b, n * 5.0 * (COL_GRADS + ROW_GRADS) * B), "current backward %.9g", b);
    quant_per_layer(any, QUANT("dtype=fp8", "fp8-recipe=mxfp8"), &f, &b);
    cr_assert(near(f, n * mx * (NORM_FED + OTHER_IN) * B), "mxfp8 forward %.9g", f);
    cr_assert(near(b, n * mx * (COL_GRADS + ROW_GRADS) * B), "mxfp8 backward %.9g", b);
}

Test(quantization, sequence_parallel_quantizes_before_the_gather)
{
    /* TP 2 with sequence parallelism, delayed scaling on TN-only GEMMs: the norm output is
     * quantized on this GPU's 2048 tokens and gathered in fp8, and the output gradients of
     * the projection and FC2 are cast there too (2 read + 1 written = 3); the backward
     * transposes all four gathered tensors at full length, 4096 tokens x (1 + 1).  The
     * column-parallel output gradients stay local at half width: 4 bytes.  The row-parallel
     * GEMMs' inputs (projection, FC2) are cast only, 3 bytes, and transposed in the backward,
     * 2 bytes: TE 1.x's Linear under sequence parallelism (linear.py at v1.11). */
    const double n = 4096.0, local = n / 2, B = 1e-12;
    double f, b;
    quant_per_layer("",
                    QUANT("dtype=fp8", "fp8-recipe=delayed", "tp=2", "gpus=2", "sp=true"), &f,
                    &b);
    cr_assert(near(f, (-1.0 * local * NORM_FED + 3.0 * n * OTHER_IN / 2) * B), "forward %.9g",
              f);
    cr_assert(near(b, (3.0 * local * ROW_GRADS + 2.0 * n * (NORM_FED + ROW_GRADS) +
                       4.0 * n * COL_GRADS / 2 + 2.0 * n * OTHER_IN / 2) *
                          B),
              "backward %.9g", b);
    /* Current scaling (TE 2.x) casts and transposes the row-parallel inputs at once: after
     * the amax read, 2 + 2 + 1 + 1 = 6 bytes; the norm hands over its amax: 2 + 1 = 3 before
     * the gather; gathered output gradients 2 + 2 + 1 = 5; local ones 6. */
    quant_per_layer("",
                    QUANT("dtype=fp8", "fp8-recipe=current", "tp=2", "gpus=2", "sp=true"), &f,
                    &b);
    cr_assert(near(f, (3.0 * local * NORM_FED + 6.0 * n * OTHER_IN / 2) * B),
              "current forward %.9g", f);
    cr_assert(near(b, (5.0 * local * ROW_GRADS + 2.0 * n * (NORM_FED + ROW_GRADS) +
                       6.0 * n * COL_GRADS / 2) *
                          B),
              "current backward %.9g", b);
}

/* torchao's row-wise Float8 (fp8-recipe=rowwise) quantizes every operand twice from 16 bits:
 * forward the row-wise copy of each input (read 2, write 1: 3 bytes), backward the input's
 * column-wise copy (a column amax read 2, the cast 2 + 1: 5) and both copies of each output
 * gradient (8).  It keeps no weight cache: each weight is cast every micro-batch, 3 bytes
 * forward and 5 backward; and the backward GEMMs run unit-scaled with the scaling after, 2 + 2
 * bytes an output element of every weight gradient and of the projection's input gradient
 * (the others fused into point-wise ops).  One GPU, 4096 tokens; the layer's weights
 * W = h (h + 2 kv + 32 x 128) + 3 h ffn. */
Test(quantization, rowwise_casts_each_copy_from_16_bits_and_keeps_no_weight_cache)
{
    const double n = 4096.0, B = 1e-12;
    const double W = H * (H + 2 * KV + 32 * 128) + 3 * H * FFN;
    double f, b;
    quant_per_layer("", QUANT("dtype=fp8", "fp8-recipe=rowwise"), &f, &b);
    double want_f = n * 3.0 * (NORM_FED + OTHER_IN) + 3.0 * W;
    double want_b = n * (5.0 * (NORM_FED + OTHER_IN) + 8.0 * (COL_GRADS + ROW_GRADS)) + 5.0 * W +
                    4.0 * (W + n * 32 * 128);
    cr_assert(near(f, want_f * B), "rowwise forward %.9g vs %.9g", f, want_f * B);
    cr_assert(near(b, want_b * B), "rowwise backward %.9g vs %.9g", b, want_b * B);
}

/* ... keeps the 16-bit inputs its backward quantizes again: one byte an element more
 * than the tensor-wise recipe's fp8 copies of QKV's, FC1's, the projection's and FC2's inputs
 * (32 layers of 4096 x (2 h + 32 x 128 + ffn)); under TP it gathers in 16 bits, as bf16 does. */
Test(quantization, rowwise_keeps_and_gathers_16_bit_inputs)
{
    double act[2], weights[2], tp[3];
    const char *recipe[] = {"fp8-recipe=current", "fp8-recipe=rowwise"};
    for (int i = 0; i < 2; i++) {
        run_ok(MODEL("llama3.1-8b"), 8, QUANT("dtype=fp8", recipe[i]));
        act[i] = out.cm.stages[0].act_bytes_mb;
        weights[i] = out.rep.mem[0].weights;
        step_release(&out);
    }
    double more = 32 * 4096.0 * (2 * H + 32 * 128 + FFN);
    cr_assert(near(act[1] - act[0], more), "%.9g vs %.9g", act[1] - act[0], more);
    /* no fp8 weight cache: 2 bytes less for each of the 32 layers' 218,112,000 weights */
    cr_assert(near(weights[0] - weights[1], 2.0 * 32 * 218112000.0), "cache %.9g",
              weights[0] - weights[1]);
    const char *const *sets[] = {L("seq=4096", "microbatches=1", "tp=2", "gpus=2", "sp=true",
                                   "dtype=bf16"),
                                 L("seq=4096", "microbatches=1", "tp=2", "gpus=2", "sp=true",
                                   "dtype=fp8", "fp8-recipe=current"),
                                 L("seq=4096", "microbatches=1", "tp=2", "gpus=2", "sp=true",
                                   "dtype=fp8", "fp8-recipe=rowwise")};
    for (int i = 0; i < 3; i++) {
        run_ok(MODEL("llama3.1-8b"), 8, sets[i]);
        tp[i] = out.rep.layer_view[0].tp_fwd;
        step_release(&out);
    }
    cr_assert(near(tp[2], tp[0]), "rowwise %.9g vs bf16 %.9g", tp[2], tp[0]);
    cr_assert_lt(tp[1], tp[0], "tensor-wise gathers fp8");
}

/* Row-wise Float8 is torchao's: no fp8 all-gather, no routed experts, not Megatron-Core's. */
Test(quantization, rowwise_is_refused_where_torchao_does_not_run_it)
{
    toy_rule_error(MODEL("llama3.1-8b"), "",
                   L("seq=4096", "microbatches=1", "dtype=fp8", "fp8-recipe=rowwise",
                     "quantized-params=true", "distributed-optimizer=true", "gpus=2"),
                   "gathers weights in 16 bits", &scn, &out);
    toy_rule_error(MODEL("qwen3-30b-a3b"), "",
                   L("seq=4096", "microbatches=1", "dtype=fp8", "fp8-recipe=rowwise"),
                   "routed experts", &scn, &out);
    toy_rule_error(MODEL("llama3.1-8b"), "",
                   L("seq=4096", "microbatches=1", "dtype=fp8", "fp8-recipe=rowwise",
                     "framework=megatron-core"),
                   "no row-wise Float8", &scn, &out);
}

Test(quantization, narrow_layers_gather_their_quantized_inputs)
{
    /* TP 2 with sequence parallelism on one toy node (100 GB/s NVLink, no latency): an
     * all-gather or reduce-scatter of B bytes in all moves B / 2 per GPU.  bf16: two of each
     * forward of 4096 x 4096 x 2 bytes; fp8: the two gathers carry 1 byte per element. */
    const double elems = 4096.0 * H, bw = 100e9;
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=4096", "microbatches=1", "tp=2", "gpus=2", "sp=true"));
    double bf16_fwd = out.rep.layer_view[0].tp_fwd, bf16_bwd = out.rep.layer_view[0].tp_bwd;
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "tp=2", "gpus=2", "sp=true", "dtype=fp8"));
    double fp8_fwd = out.rep.layer_view[0].tp_fwd, fp8_bwd = out.rep.layer_view[0].tp_bwd;
    step_release(&out);
    cr_assert(near(bf16_fwd, 4.0 * (2.0 * elems / 2) / bw), "bf16 forward %.9g", bf16_fwd);
    cr_assert(near(fp8_fwd, 2.0 * (1.0 * elems / 2) / bw + 2.0 * (2.0 * elems / 2) / bw),
              "fp8 forward %.9g", fp8_fwd);
    /* backward: four gathers (two re-gathered inputs, two output gradients) and two
     * reduce-scatters */
    cr_assert(near(bf16_bwd, 6.0 * (2.0 * elems / 2) / bw), "bf16 backward %.9g", bf16_bwd);
    cr_assert(near(fp8_bwd, 4.0 * (1.0 * elems / 2) / bw + 2.0 * (2.0 * elems / 2) / bw),
              "fp8 backward %.9g", fp8_bwd);
}

/* Transformer Engine's amax reductions, each a tiny all-reduce in line, on the toy node with
 * a collective latency of 10 us (NCCL's proportions: LL 6.6 / 8.4 of it, a 4-byte all-reduce
 * over 2 GPUs on LL's ring 7.857 us and 2 x 1/2 x 4 bytes at 50 GB/s; without the latency
 * Simple's 4 bytes at 100 GB/s).  Current scaling under sequence parallelism all-reduces the
 * amax of each gathered input forward and of each gathered output gradient backward over TP,
 * two and two a dense layer; each of the layer's activation collectives (four forward, six
 * backward) gains the 10 us on Simple.  Delayed scaling reduces nothing over TP; it
 * all-reduces the chunk's amaxes once forward and once backward over its TP x CP x DP ranks:
 * 32 layers x 4 linears x 3 fp32 amaxes forward (1,536 bytes) and x 2 backward. */
Test(quantization, amax_reductions_run_in_line_by_recipe)
{
    const double ll = 10e-6 * 6.6 / 8.4, amax = ll + 2.0 * 0.5 * 4.0 / 50e9 - 4.0 / 100e9;
    const char *const *cur_base = L("seq=4096", "microbatches=1", "tp=2", "gpus=2", "sp=true",
                                    "dtype=fp8", "fp8-recipe=current");
    const char *const *cur = L("seq=4096", "microbatches=1", "tp=2", "gpus=2", "sp=true",
                               "dtype=fp8", "fp8-recipe=current", "hw.collective-latency=10us");
    run_ok(MODEL("llama3.1-8b"), 8, cur_base);
    struct cm_layer_view b = out.rep.layer_view[0];
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8, cur);
    const struct cm_layer_view *v = &out.rep.layer_view[0];
    cr_assert(near(v->tp_fwd - b.tp_fwd, 4.0 * 10e-6 + 2.0 * amax), "current forward %.9g",
              v->tp_fwd - b.tp_fwd);
    cr_assert(near(v->tp_bwd - b.tp_bwd, 6.0 * 10e-6 + 2.0 * amax), "current backward %.9g",
              v->tp_bwd - b.tp_bwd);
    cr_assert_eq(out.cm.stages[0].fwd.dp, 0.0, "no chunk reduction under current scaling");
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "tp=2", "gpus=2", "sp=true", "dtype=fp8"));
    b = out.rep.layer_view[0];
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "tp=2", "gpus=2", "sp=true", "dtype=fp8",
             "hw.collective-latency=10us"));
    v = &out.rep.layer_view[0];
    cr_assert(near(v->tp_fwd - b.tp_fwd, 4.0 * 10e-6), "delayed forward %.9g",
              v->tp_fwd - b.tp_fwd);
    cr_assert(near(out.cm.stages[0].fwd.dp, ll + 1536.0 / 50e9), "delayed chunk forward %.9g",
              out.cm.stages[0].fwd.dp);
    cr_assert(near(out.cm.stages[0].bwd.dp, ll + 1024.0 / 50e9), "delayed chunk backward %.9g",
              out.cm.stages[0].bwd.dp);
    step_release(&out);
}

/* One micro-batch's kept activations on the first stage and rank 0's weight bytes. */
static void kept_and_weights(const char *const *sets, double *acts, double *weights)
{
    run_ok(MODEL("llama3.1-8b"), 8, sets);
    *acts = out.cm.stages[0].act_bytes_mb;
    *weights = out.rep.mem[0].weights;
    step_release(&out);
}

Test(nvfp4, keeps_four_bit_inputs_and_caches_four_bit_weights)
{
    /* Activations: each kept GEMM input (QKV and FC1 inputs, projection input, FC2 input:
     * 26,624 elements per token) is 1 byte in fp8 and 0.5 + 1/16 in nvfp4 (its column-wise
     * copy and scales), for 4096 tokens and 32 layers. */
    double elements = 4096.0 * (H + H + 32 * 128 + FFN);
    double bf16_acts, bf16_weights, fp8_acts, fp8_weights, fp4_acts, fp4_weights;
    kept_and_weights(L("seq=4096", "microbatches=1", "dtype=bf16"), &bf16_acts, &bf16_weights);
    kept_and_weights(L("seq=4096", "microbatches=1", "dtype=fp8"), &fp8_acts, &fp8_weights);
    kept_and_weights(L("seq=4096", "microbatches=1", "dtype=nvfp4"), &fp4_acts, &fp4_weights);
    cr_assert(near(fp8_acts - fp4_acts, 32 * (1.0 - 0.5625) * elements), "kept inputs %.9g",
              fp8_acts - fp4_acts);
    /* Weight caches: fp8 1 + 1 bytes per layer parameter, nvfp4 two 4-bit copies with an E4M3
     * scale per 16 x 16 block, 2 x (0.5 + 1/256). */
    cr_assert(near((fp8_weights - bf16_weights) / (fp4_weights - bf16_weights),
                   2.0 / (2.0 * (0.5 + 1.0 / 256.0))),
              "weight caches %.9g / %.9g", fp8_weights - bf16_weights, fp4_weights - bf16_weights);
}

Test(fp8, bf16_edge_layers_keep_16_bit_gemms_inputs_and_no_weight_cache)
{
    /* Llama-3.1-8B's 32 layers in fp8 (current scaling) with the first layer and the last two
     * in bf16: 29 layers' linear GEMMs at the fp8 rate, 3 at the bf16 one. */
    double bf16 = 1000e12 * 0.5, fp8 = 2000e12 * 0.4, attn = 1000e12 * 0.25;
    double elements = 4096.0 * (H + H + 32 * 128 + FFN); /* kept GEMM inputs per layer */
    double bf16_acts, bf16_weights, all_acts, all_weights;
    kept_and_weights(L("seq=4096", "microbatches=1", "dtype=bf16"), &bf16_acts, &bf16_weights);
    kept_and_weights(L("seq=4096", "microbatches=1", "dtype=fp8"), &all_acts, &all_weights);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "dtype=fp8", "fp8-recipe=current",
             "bf16-first-layers=1", "bf16-last-layers=2"));
    double want = 29 * linear_flops(S) / fp8 + 3 * linear_flops(S) / bf16 +
                  32 * causal_core_flops(S) / attn + head_flops(S) / bf16;
    cr_assert(near(out.cm.stages[0].fwd.compute, want), "forward %.9g, want %.9g",
              out.cm.stages[0].fwd.compute, want);
    /* The three bf16 layers keep 2-byte GEMM inputs (fp8 layers 1 byte) ... */
    cr_assert(near(out.cm.stages[0].act_bytes_mb - all_acts, 3 * (2.0 - 1.0) * elements),
              "kept inputs %.9g", out.cm.stages[0].act_bytes_mb - all_acts);
    /* ... and cache no fp8 weights: 29 of the 32 layers' caches remain. */
    cr_assert(near((out.rep.mem[0].weights - bf16_weights) / (all_weights - bf16_weights),
                   29.0 / 32.0),
              "weight caches %.9g of %.9g", out.rep.mem[0].weights - bf16_weights,
              all_weights - bf16_weights);
    step_release(&out);
}

Test(report, the_layer_table_holds_one_layers_components)
{
    /* Llama-3.1-8B in fp8 on the toy GPU: one layer's forward GEMMs at the fp8 rate, its
     * backward's twice that, the attention core at the attention rate (backward 2.5x), and no
     * MoE layer to show. */
    double fp8 = 2000e12 * 0.4, attn = 1000e12 * 0.25;
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=4096", "microbatches=1", "dtype=fp8"));
    const struct cm_layer_view *v = &out.rep.layer_view[0];
    cr_assert_eq(v->layer, 0);
    cr_assert_eq(v->stage, 0, "the first stage holds layer 0");
    cr_assert_eq(out.rep.layer_view[1].layer, -1, "a dense model has no MoE layer");
    cr_assert(near(v->gemm_fwd, linear_flops(S) / fp8), "GEMMs %.9g", v->gemm_fwd);
    cr_assert(near(v->gemm_bwd, 2.0 * linear_flops(S) / fp8));
    cr_assert(near(v->attn_fwd, causal_core_flops(S) / attn), "attention %.9g", v->attn_fwd);
    /* 2.5x the FLOPs at 0.86 of the forward's rate (FlashAttention-2 / -3, cuDNN) */
    cr_assert(near(v->attn_bwd, 2.5 / 0.86 * v->attn_fwd));
    cr_assert(near(v->quant_fwd, 0.0), "quantization is free on the toy's infinite HBM");
    char *text = report_text_and_json();
    const char *table = strstr(text, "one layer, one micro-batch, one GPU");
    cr_assert_not_null(table, "%s", text);
    const char *header = strchr(table, '\n') + 1, *end = strchr(header, '\n');
    cr_assert(strstr(header, "GEMMs") && strstr(header, "attention") < end, "%s", header);
    cr_assert(strstr(header, "EP comm") == NULL || strstr(header, "EP comm") > end,
              "no column without a cost: %s", header);
    cr_assert(strstr(table, "dense, layer 0"), "%s", table);
    cr_assert_null(strstr(table, "MoE, layer"), "no MoE row");
    free(text);
    step_release(&out);
}

Test(report, the_layer_table_shows_a_local_and_a_global_layer_of_a_windowed_model)
{
    /* gpt-oss-20b at 4096 tokens: layers 0, 2, ... attend over a 128-token sliding window,
     * layers 1, 3, ... to the whole sequence.  The table shows the first of each, in layer
     * order: the same GEMMs, and attention in the ratio of the keys each query sees, causal
     * (the toy's attention rate is flat): s w - w (w - 1) / 2 = 516160 against s^2 / 2. */
    run_ok(MODEL("gpt-oss-20b"), 8, L("seq=4096", "microbatches=1"));
    const struct cm_layer_view *local = &out.rep.layer_view[3], *global = &out.rep.layer_view[1];
    cr_assert_eq(local->layer, 0, "the first local MoE layer");
    cr_assert_eq(global->layer, 1, "the first global MoE layer");
    cr_assert_eq(out.rep.layer_view[0].layer, -1, "no dense layer");
    cr_assert_eq(out.rep.layer_view[2].layer, -1, "no dense local layer");
    cr_assert(near(local->gemm_fwd, global->gemm_fwd), "same GEMMs");
    cr_assert(near(local->attn_fwd / global->attn_fwd, 516160.0 / (0.5 * 4096.0 * 4096.0)),
              "attention %.9g vs %.9g", local->attn_fwd, global->attn_fwd);
    char *text = report_text_and_json();
    const char *first = strstr(text, "MoE local, layer 0 ");
    const char *second = strstr(text, "MoE, layer 1 ");
    cr_assert(first && second && first < second, "rows in layer order:\n%s", text);
    cr_assert_not_null(strstr(text, "local: the layer attends over a window"), "%s", text);
    cr_assert_not_null(strstr(text, "{\"kind\": \"moe\", \"attention\": \"local\", \"layer\": 0,"),
                       "%s", text);
    cr_assert_not_null(strstr(text, "{\"kind\": \"moe\", \"attention\": \"global\", \"layer\": 1,"),
                       "%s", text);
    free(text);
    step_release(&out);
}

Test(recompute, selective_mlp_runs_the_mlp_again_and_drops_its_activations)
{
    double bf16 = 1000e12 * 0.5;
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=4096", "microbatches=1"));
    double keep = out.cm.stages[0].act_bytes_mb;
    cr_assert_eq(out.cm.stages[0].bwd.recompute, 0.0);
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "recompute=selective", "recompute-modules=mlp"));
    double mlp = 2.0 * S * 3.0 * H * FFN / bf16;
    cr_assert(near(out.cm.stages[0].bwd.recompute, 32 * mlp), "recompute %.9g",
              out.cm.stages[0].bwd.recompute);
    /* Per layer the MLP kept gate and up outputs (2 x 2 bytes) and the SwiGLU output (2 bytes)
     * per inner element and token. */
    cr_assert(near(keep - out.cm.stages[0].act_bytes_mb, 32 * 6.0 * S * FFN), "dropped %.9g",
              keep - out.cm.stages[0].act_bytes_mb);
    step_release(&out);
}

/* The recompute FLOPs HFU adds for the last run, per sample. */
static double hfu_recompute_per_sample(void)
{
    return (out.cm.hw_flops_step - out.cm.model_flops_step) / out.cm.cfg.global_batch;
}

#define CORE_ATTN L("seq=4096", "microbatches=1", "recompute=selective", "recompute-modules=core_attn")

Test(recompute, core_attn_runs_the_flash_kernel_again_where_megatron_core_checkpoints_it)
{
    /* Megatron-Core checkpoints the core attention whatever its kernel: the flash forward runs
     * again in the backward, 32 causal cores at the toy's attention rate; it keeps nothing
     * less than without recompute (flash saves no scores).  HFU counts the core as the model
     * FLOPs do (the full square). */
    double attn = 1000e12 * 0.25;
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=4096", "microbatches=1"));
    double keep = out.cm.stages[0].act_bytes_mb;
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8, CORE_ATTN);
    cr_assert(near(out.cm.stages[0].bwd.recompute, 32 * causal_core_flops(S) / attn),
              "recompute %.9g", out.cm.stages[0].bwd.recompute);
    cr_assert(near(out.cm.stages[0].act_bytes_mb, keep));
    cr_assert(near(hfu_recompute_per_sample(), 32 * 2.0 * causal_core_flops(S)), "HFU %.9g",
              hfu_recompute_per_sample());
    step_release(&out);
    /* Legacy Megatron-LM's flash branch (Megatron-DeepSpeed's) calls the kernel unchecked. */
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "framework=deepspeed", "recompute=selective",
             "recompute-modules=core_attn"));
    cr_assert_eq(out.cm.stages[0].bwd.recompute, 0.0);
    cr_assert_eq(hfu_recompute_per_sample(), 0.0);
    step_release(&out);
}

Test(recompute, a_recomputed_core_exchanges_its_ring_again)
{
    /* The ring of cp, the_ring_hides_behind_attention_and_exposes_only_the_rest: its forward
     * leaves 32 (kv - core) exposed, and recomputing the core -- selectively, or with the whole
     * layer -- leaves it exposed once more in the backward. */
    const char *base[] = {"seq=1024", "cp=2", "gpus=2", "microbatches=1"};
    run_ok(MODEL("llama3.1-8b"), 1, L(base[0], base[1], base[2], base[3]));
    double fwd = out.cm.stages[0].fwd.cp, bwd = out.cm.stages[0].bwd.cp;
    double core = causal_core_flops(1024) / 2 / (1000e12 * 0.25);
    cr_assert_gt(fwd, 0.0);
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 1,
           L(base[0], base[1], base[2], base[3], "recompute=selective",
             "recompute-modules=core_attn"));
    cr_assert(near(out.cm.stages[0].bwd.cp, bwd + fwd), "selective %.9g", out.cm.stages[0].bwd.cp);
    cr_assert(near(out.cm.stages[0].bwd.recompute, 32 * core), "recompute %.9g",
              out.cm.stages[0].bwd.recompute);
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 1, L(base[0], base[1], base[2], base[3], "recompute=full"));
    cr_assert(near(out.cm.stages[0].bwd.cp, bwd + fwd), "full %.9g", out.cm.stages[0].bwd.cp);
    step_release(&out);
}

Test(recompute, hfu_counts_what_each_policy_runs_again)
{
    double mlp = 2.0 * S * 3.0 * H * FFN, layer = linear_flops(S) + 2.0 * causal_core_flops(S);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "recompute=selective", "recompute-modules=mlp"));
    cr_assert(near(hfu_recompute_per_sample(), 32 * mlp), "mlp %.9g", hfu_recompute_per_sample());
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "recompute=full", "recompute-method=block",
             "recompute-num-layers=8"));
    cr_assert(near(hfu_recompute_per_sample(), 8 * layer), "block %.9g",
              hfu_recompute_per_sample());
    step_release(&out);
    /* torchtitan's per-op policy: K (1024 of QKV's 6144 columns), the projection and the
     * up-projection, not the attention core it keeps. */
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "framework=torchtitan", "recompute=selective",
             "recompute-modules=op"));
    double op = 2.0 * S * (H * KV + H * H + H * FFN);
    cr_assert(near(hfu_recompute_per_sample(), 32 * op), "op %.9g", hfu_recompute_per_sample());
    step_release(&out);
    /* Full recompute runs an MTP module's layer again too (Megatron-Core checkpoints it), as
     * the step's time already charged: 33 layers. */
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "mtp-layers=1", "recompute=full"));
    cr_assert(near(hfu_recompute_per_sample(), 33 * layer), "mtp %.9g", hfu_recompute_per_sample());
    step_release(&out);
}

/* Selective recompute of `layernorm` on a toy with 1 TB/s of HBM: the backward's recompute and
 * the kept activations, against the same run without recompute. */
static void layernorm_recompute(const char *model, const char *const *extra, double *rerun,
                                double *dropped)
{
    const char *base[16] = {"seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps",
                            "hw.memory-efficiency=1"};
    int n = 4;
    for (int i = 0; extra && extra[i]; i++)
        base[n++] = extra[i];
    base[n] = NULL;
    toy_step(model, 8, base, &scn, &out);
    double keep = out.cm.stages[0].act_bytes_mb;
    step_release(&out);
    base[n++] = "recompute=selective";
    base[n++] = "recompute-modules=layernorm";
    base[n] = NULL;
    toy_step(model, 8, base, &scn, &out);
    *rerun = out.cm.stages[0].bwd.recompute;
    *dropped = keep - out.cm.stages[0].act_bytes_mb;
    step_release(&out);
}

Test(recompute, layernorm_runs_again_only_the_norms_megatron_core_keeps_apart)
{
    /* A norm over 4096 tokens x 2048 reads and writes 2 bytes an element (4e-12 s a byte-pair
     * at 1 TB/s); recomputed, its bf16 output (2 bytes) is not kept. */
    const double norm = 4.0 * 4096 * 2048 * 1e-12, output = 2.0 * 4096 * 2048;
    double rerun, dropped;
    /* OLMoE (16 MoE layers, MHA): the input norm is fused into linear_qkv, the pre-MLP norm,
     * the router's input, is a module of its own. */
    layernorm_recompute(MODEL("olmoe-1b-7b"), NULL, &rerun, &dropped);
    cr_assert(near(rerun, 16 * norm), "olmoe %.9g", rerun);
    cr_assert(near(dropped, 16 * output), "olmoe dropped %.9g", dropped);
    /* Moonlight (MLA, its first layer dense): MLA's input norm stands apart too, the dense
     * layer's pre-MLP norm is fused into linear_fc1: 1 + 2 x 26 norms. */
    layernorm_recompute(MODEL("moonlight-16b-a3b"), NULL, &rerun, &dropped);
    cr_assert(near(rerun, 53 * norm), "moonlight %.9g", rerun);
    cr_assert(near(dropped, 53 * output), "moonlight dropped %.9g", dropped);
    /* The router's CUDA graph returns the norm's output into its static buffer: kept. */
    layernorm_recompute(MODEL("olmoe-1b-7b"),
                        L("cuda-graphs=modules", "cuda-graph-scope=moe_router"), &rerun, &dropped);
    cr_assert_eq(rerun, 0.0);
    cr_assert_eq(dropped, 0.0);
    /* A dense GQA model's two norms are both fused: nothing to recompute. */
    layernorm_recompute(MODEL("llama3.1-8b"), NULL, &rerun, &dropped);
    cr_assert_eq(rerun, 0.0);
    cr_assert_eq(dropped, 0.0);
}

Test(recompute, a_recomputed_mlp_gathers_and_reduces_again)
{
    /* TP 2 with sequence parallelism and its collectives in line: a dense layer's forward
     * gathers and reduce-scatters once per block, the MLP's half of it; recomputing the MLP
     * runs that half again in the backward, in line too. */
    const char *base[] = {"seq=4096", "microbatches=1", "tp=2", "gpus=2", "sp=true",
                          "overlap-tp-comm=false"};
    run_ok(MODEL("llama3.1-8b"), 8, L(base[0], base[1], base[2], base[3], base[4], base[5]));
    double bwd = out.cm.stages[0].bwd.tp, layer = out.rep.layer_view[0].tp_fwd;
    cr_assert_gt(layer, 0.0);
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8,
           L(base[0], base[1], base[2], base[3], base[4], base[5], "recompute=selective",
             "recompute-modules=mlp"));
    cr_assert(near(out.cm.stages[0].bwd.tp, bwd + 32 * layer / 2), "%.9g vs %.9g",
              out.cm.stages[0].bwd.tp, bwd + 32 * layer / 2);
    step_release(&out);
}

Test(recompute, block_method_recomputes_only_the_first_layers_of_a_chunk)
{
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=4096", "microbatches=1"));
    double fwd = out.cm.stages[0].fwd.compute, keep = out.cm.stages[0].act_bytes_mb;
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "recompute=full", "recompute-method=block",
             "recompute-num-layers=8"));
    double layer = linear_flops(S) / (1000e12 * 0.5) + causal_core_flops(S) / (1000e12 * 0.25);
    cr_assert(near(out.cm.stages[0].bwd.recompute, 8 * layer), "recompute %.9g vs %.9g",
              out.cm.stages[0].bwd.recompute, 8 * layer);
    cr_assert_lt(out.cm.stages[0].act_bytes_mb, keep);
    cr_assert_gt(out.cm.stages[0].act_bytes_mb, keep * 24 / 32, "24 of 32 layers keep all");
    cr_assert(near(out.cm.stages[0].fwd.compute, fwd));
    step_release(&out);
}

Test(mtp, one_module_adds_a_layer_a_projection_and_a_second_head)
{
    double bf16 = 1000e12 * 0.5, attn = 1000e12 * 0.25;
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=4096", "microbatches=1"));
    double f0 = out.cm.stages[0].fwd.compute, p0 = out.cm.stages[0].params;
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=4096", "microbatches=1", "mtp-layers=1"));
    double proj = 2.0 * S * 2.0 * H * H / bf16; /* [h; embedding] 2h -> h */
    double layer = linear_flops(S) / bf16 + causal_core_flops(S) / attn;
    cr_assert(near(out.cm.stages[0].fwd.compute - f0, proj + layer + head_flops(S) / bf16),
              "MTP forward %.9g", out.cm.stages[0].fwd.compute - f0);
    /* One more layer (218,112,000 parameters with its two RMSNorm scales) and the projection. */
    cr_assert(near(out.cm.stages[0].params - p0, 218112000.0 + 2.0 * H * H), "params %.0f",
              out.cm.stages[0].params - p0);
    step_release(&out);
}

/* An MTP module's TP collectives on two GPUs with sequence parallelism (NVLink 100 GB/s, each
 * gather or reduce-scatter of B bytes moving B / 2): its projection gathers its 2h-wide input
 * and its output forward (4 + 2 bytes x T h), backward gathers the input again,
 * reduce-scatters its gradient and gathers the output's (4 + 4 + 2); its transformer layer
 * (2 x T h bytes a collective) gathers twice and reduce-scatters twice forward, gathers four
 * times and reduce-scatters twice backward (layer_tp_comm), and its head gathers its input
 * forward, gathers it again and reduce-scatters its gradient backward, and all-reduces the
 * loss's max, sum and target logit forward (3 x 4T bytes, an all-reduce of B moving B); its
 * lookup reduce-scatters forward and gathers backward.  T = h = 4096, every collective in
 * line. */
Test(mtp, its_projection_gathers_and_scatters_over_tp)
{
    const double T = 4096, Hd = 4096, bw = 100e9;
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "gpus=2", "tp=2", "sp=true", "overlap-tp-comm=false",
             "overlap-tp-backward=false"));
    double f0 = out.cm.stages[0].fwd.tp, b0 = out.cm.stages[0].bwd.tp;
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "gpus=2", "tp=2", "sp=true", "overlap-tp-comm=false",
             "overlap-tp-backward=false", "mtp-layers=1"));
    double proj_f = 0.5 * (4 + 2) * T * Hd / bw, proj_b = 0.5 * (4 + 4 + 2) * T * Hd / bw;
    double one = 0.5 * 2 * T * Hd / bw, head = 3 * 4 * T / bw;
    cr_assert(near(out.cm.stages[0].fwd.tp - f0, one + proj_f + 4 * one + one + head),
              "forward %.9g", out.cm.stages[0].fwd.tp - f0);
    cr_assert(near(out.cm.stages[0].bwd.tp - b0, one + proj_b + 6 * one + 2 * one),
              "backward %.9g", out.cm.stages[0].bwd.tp - b0);
    step_release(&out);
}

/* The embedding's and the output layer's TP collectives on two GPUs (NVLink 100 GB/s),
 * Llama-3.1-8B's 32 layers, lookup and head, one micro-batch of T = 4096, h = 4096,
 * everything in line.  With sequence parallelism (a gather or reduce-scatter of B bytes moves
 * B / 2; one = 2 T h bytes of it): the lookup reduce-scatters its partial embeddings forward
 * and gathers their gradient backward; each layer gathers twice and reduce-scatters twice
 * forward, four and two backward; the head gathers its input forward and again backward and
 * reduce-scatters its input gradient; the loss all-reduces 3 x 4T bytes.  Without it (an
 * all-reduce of B moving B): the lookup all-reduces forward, each layer twice each way, the
 * head its input gradient once. */
Test(head, the_lookup_and_the_output_layer_reduce_over_tp)
{
    const double T = 4096, Hd = 4096, bw = 100e9, loss = 3 * 4 * T / bw;
    double one = 0.5 * 2 * T * Hd / bw, ar = 2 * T * Hd / bw;
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "gpus=2", "tp=2", "sp=true", "overlap-tp-comm=false",
             "overlap-tp-backward=false"));
    cr_assert(near(out.cm.stages[0].fwd.tp, one + 32 * 4 * one + one + loss), "SP forward %.9g",
              out.cm.stages[0].fwd.tp);
    cr_assert(near(out.cm.stages[0].bwd.tp, one + 32 * 6 * one + 2 * one), "SP backward %.9g",
              out.cm.stages[0].bwd.tp);
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "gpus=2", "tp=2", "sp=false", "overlap-tp-comm=false",
             "overlap-tp-backward=false"));
    cr_assert(near(out.cm.stages[0].fwd.tp, ar + 32 * 2 * ar + loss), "forward %.9g",
              out.cm.stages[0].fwd.tp);
    cr_assert(near(out.cm.stages[0].bwd.tp, 32 * 2 * ar + ar), "backward %.9g",
              out.cm.stages[0].bwd.tp);
    step_release(&out);
}

Test(cp, the_ring_hides_behind_attention_and_exposes_only_the_rest)
{
    /* seq 1024 over cp 2 on one-GPU nodes: each rank holds 512 tokens and passes its K and V
     * (2 x 2 bytes x 512 x 8 heads x 128) over the 50 GB/s network, once per layer forward,
     * K, V and their gradients backward; attention per rank is half the causal core. */
    run_ok(MODEL("llama3.1-8b"), 1, L("seq=1024", "cp=2", "gpus=2", "microbatches=1"));
    double kv = 2.0 * 2.0 * 512 * 8 * 128 / 50e9;
    double core = causal_core_flops(1024) / 2 / (1000e12 * 0.25);
    cr_assert_gt(kv, core, "the test needs the ring slower than attention");
    cr_assert(near(out.cm.stages[0].fwd.cp, 32 * (kv - core)), "forward exposed %.9g vs %.9g",
              out.cm.stages[0].fwd.cp, 32 * (kv - core));
    cr_assert(near(out.cm.stages[0].bwd.cp, 32 * (2 * kv - 2.5 / 0.86 * core)), "backward %.9g",
              out.cm.stages[0].bwd.cp);
    step_release(&out);
    /* Inside an 8-GPU node at 100 GB/s and with 4096 tokens the ring hides entirely. */
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=8192", "cp=2", "gpus=2", "microbatches=1"));
    cr_assert_eq(out.cm.stages[0].fwd.cp, 0.0);
    step_release(&out);
}

Test(cp, allgather_and_all_to_all_block_what_the_ring_would_hide)
{
    /* cp 4 inside an 8-GPU node (100 GB/s), seq 8192: 2048 tokens per rank, whose K and V
     * are 2 x 2 bytes x 2048 x 8 heads x 128 = 8,388,608 bytes. */
    double kv = 2.0 * 2.0 * 2048 * 8 * 128;
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=8192", "cp=4", "gpus=4", "microbatches=1", "cp-comm-type=allgather"));
    double ag = 3.0 / 4 * 4 * kv / 100e9; /* ring all-gather of the 4 ranks' K and V */
    cr_assert(near(out.cm.stages[0].fwd.cp, 32 * ag), "all-gather %.9g vs %.9g",
              out.cm.stages[0].fwd.cp, 32 * ag);
    cr_assert(near(out.cm.stages[0].bwd.cp, 32 * 2 * ag), "+ reduce-scatter of dK, dV");
    step_release(&out);
    /* Ulysses: Q, K, V (4096 + 2 x 1024 columns) all-to-all'ed before attention and the
     * output (4096) after, 3/4 of each leaving the GPU. */
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=8192", "cp=4", "gpus=4", "microbatches=1", "cp-comm-type=a2a"));
    double a2a = 3.0 / 4 * 2.0 * 2048 * (4096 + 2048 + 4096) / 100e9;
    cr_assert(near(out.cm.stages[0].fwd.cp, 32 * a2a), "a2a %.9g vs %.9g",
              out.cm.stages[0].fwd.cp, 32 * a2a);
    step_release(&out);
}

Test(defer, head_weight_gradients_move_to_the_flush)
{
    double head = head_flops(S) / (1000e12 * 0.5);
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=4096", "microbatches=4"));
    double wgt = out.cm.stages[0].wgt.compute;
    cr_assert_eq(out.cm.rank_deferred_s[0], 0.0);
    step_release(&out);
    /* One of four micro-batches deferred: a quarter of the head's W leaves every W op, and the
     * flush runs one whole head W before the optimizer. */
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=4", "defer-head-wgrad=true", "wgrad-deferral-limit=1"));
    cr_assert(near(wgt - out.cm.stages[0].wgt.compute, head / 4));
    cr_assert(near(out.cm.rank_deferred_s[0], head), "deferred %.9g vs %.9g",
              out.cm.rank_deferred_s[0], head);
    step_release(&out);
}

/* The deferred weight gradients run inside the optimizer op and count as compute: the
 * breakdown still sums to the step (the bubble had counted them again: sum = step + their
 * mean over ranks). */
Test(defer, the_breakdown_still_sums_to_the_step)
{
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "pp=2", "gpus=2", "microbatches=4", "defer-head-wgrad=true"));
    cr_assert_gt(out.cm.rank_deferred_s[1], 0.0);
    const struct report_breakdown *b = &out.rep.brk;
    double sum = b->compute + b->recompute + b->tp + b->cp + b->ep + b->pp + b->bubble + b->dp +
                 b->optimizer + b->host;
    cr_assert(near(sum, out.rep.step_s), "breakdown %.9g vs step %.9g", sum, out.rep.step_s);
    step_release(&out);
}

/* The bubble is the step less every other part: per rank, its idle time until its last F/B/W
 * ends and its wait from its optimizer's end to the step's end, less its exposed PP -- not the
 * rank's idle_s (makespan - busy), which counts the gap before the optimizer (dp's) and leaves
 * out the wait after it.  An uneven pipeline (the head on the last stage) has both. */
Test(breakdown, bubble_is_the_step_less_every_other_part)
{
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "pp=4", "gpus=8", "microbatches=8"));
    const struct report *rep = &out.rep;
    const struct pipe_result *res = &out.res;
    const struct report_breakdown *b = &rep->brk;
    double others = b->compute + b->recompute + b->tp + b->cp + b->ep + b->pp + b->dp +
                    b->optimizer + b->host;
    cr_assert(near(b->bubble, rep->step_s - others), "bubble %.9g, step less the rest %.9g",
              b->bubble, rep->step_s - others);
    double waits = 0, idle = 0;
    for (int r = 0; r < res->pp; r++) {
        waits += simtime_to_s(res->compute_end_rank[r] - res->first_start - res->busy[r]) +
                 simtime_to_s(res->step_end - res->opt_end[r]);
        idle += rep->ranks[r].idle_s;
    }
    cr_assert(near(b->bubble, waits / res->pp - b->pp), "bubble %.9g vs %.9g", b->bubble,
              waits / res->pp - b->pp);
    cr_assert_gt(fabs(b->bubble - (idle / res->pp - b->pp)), 1e-6,
                 "not the mean idle_s less pp: %.9g", idle / res->pp - b->pp);
    step_release(&out);
}

/* peak_inflight's legend says what overlap-ep-comm's pairs do to the count: a pair's F takes the
 * place its B frees, so the pair counts one (here, on one rank, peak_inflight 1 where the F started
 * and backward not finished of the definition would be 2); without pairs it says nothing. */
Test(report, peak_inflight_legend_says_an_overlapped_pair_counts_one)
{
    const char *note = "an overlapped F&B pair counts one";
    run_ok(MODEL("mixtral-8x7b"), 8,
           L("seq=4096", "ep=8", "gpus=8", "global-batch=64", "overlap-ep-comm=true"));
    cr_assert_eq(out.res.peak_inflight[0], 1);
    char *text = report_text_and_json();
    cr_assert(strstr(text, note), "%s", text);
    free(text);
    step_release(&out);
    run_ok(MODEL("mixtral-8x7b"), 8, L("seq=4096", "ep=8", "gpus=8", "global-batch=64"));
    text = report_text_and_json();
    cr_assert(strstr(text, "peak_inflight: most") && !strstr(text, note), "%s", text);
    free(text);
    step_release(&out);
}

Test(offload, activations_travel_to_the_host_behind_each_pass)
{
    /* Llama-3.1-8B at seq 512 keeps per layer: norm inputs 2 x 2 x 512 x 4096, QKV and MLP
     * inputs 2 x 2 x 512 x 4096, Q K V 2 x 512 x 6144, attention output 2 x 512 x 4096 and the
     * SwiGLU hidden (2 x 2 + 2) x 512 x 14336 bytes: 71,303,168 bytes, moved at 10 GB/s. */
    double kept = 71303168.0, move = kept / 10e9;
    double layer_f = 2.0 * 512 * (2 * H * H + 2 * H * KV + 3 * H * FFN) / (1000e12 * 0.5) +
                     causal_core_flops(512) / (1000e12 * 0.25);
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=512", "microbatches=1"));
    double act = out.cm.stages[0].act_bytes_mb;
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=512", "microbatches=1", "offload-activations=1"));
    cr_assert(near(out.cm.stages[0].fwd.host, 32 * (move - layer_f)), "%.9g vs %.9g",
              out.cm.stages[0].fwd.host, 32 * (move - layer_f));
    cr_assert(near(act - out.cm.stages[0].act_bytes_mb, 32 * kept));
    cr_assert_gt(out.rep.brk.host, 0.0, "reported as host offload");
    step_release(&out);
    /* a host whose memory takes less than its link carries (Grace: 205 of 225 GB/s): the
     * memory's rate, 5 GB/s here */
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=512", "microbatches=1", "offload-activations=1",
             "hw.host-memory-bandwidth=5GBps"));
    double slow = kept / 5e9;
    cr_assert(near(out.cm.stages[0].fwd.host, 32 * (slow - layer_f)), "%.9g vs %.9g",
              out.cm.stages[0].fwd.host, 32 * (slow - layer_f));
    step_release(&out);
}

Test(offload, the_host_updates_its_share_of_the_optimizer)
{
    /* All of it on the host: gradients down (2 bytes) and weights back (2) at 10 GB/s, and the
     * update's 28 bytes (gradient 2, state read and written 2 x 12, weight 2) at 20 GB/s. */
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=512", "microbatches=1", "offload-optimizer=1"));
    double p = out.cm.stages[0].params;
    double want = p * 4.0 / 10e9 + p * 28.0 / 20e9;
    cr_assert(near(out.cm.rank_opt_s[0], want), "%.9g vs %.9g", out.cm.rank_opt_s[0], want);
    cr_assert_eq(out.rep.mem[0].optimizer, 0.0, "the state lives on the host");
    step_release(&out);
}

/* What offload moves fills the host: the optimizer state it takes (what the GPU held without
 * it) and the offloaded activations of each micro-batch in flight (one here: 32 layers of
 * 71,303,168 bytes, the test above); past the hardware's host-memory the config does not fit. */
Test(offload, what_is_offloaded_fills_the_host)
{
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=512", "microbatches=1"));
    double state = out.rep.mem[0].optimizer;
    cr_assert_eq(out.rep.mem[0].host, 0.0, "nothing offloaded");
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=512", "microbatches=1", "offload-optimizer=1", "offload-activations=1",
             "hw.host-memory=150GB"));
    cr_assert(near(out.rep.mem[0].host, state + 32 * 71303168.0), "%.9g vs %.9g",
              out.rep.mem[0].host, state + 32 * 71303168.0);
    cr_assert_not(out.rep.mem[0].host_oom);
    cr_assert_not(out.rep.oom);
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=512", "microbatches=1", "offload-optimizer=1", "offload-activations=1",
             "hw.host-memory=50GB"));
    cr_assert(out.rep.mem[0].host > 50e9, "the test needs more than 50 GB offloaded");
    cr_assert(out.rep.mem[0].host_oom && out.rep.oom, "past the host's memory: does not fit");
    step_release(&out);
}

/* A pipeline layout and first/last-stage-layers describing the same split cost the same: the
 * embedding alone, two stages of 15 layers, the loss with the last 2 (Llama-3.1-8B, 32 layers,
 * pp 2 x vp 2). */
Test(layout, a_layout_costs_what_the_same_split_costs)
{
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "gpus=2", "pp=2", "vp=2", "schedule=interleaved", "microbatches=4",
             "first-stage-layers=0", "last-stage-layers=2"));
    double split[4], split_step = out.rep.step_s;
    for (int s = 0; s < 4; s++)
        split[s] = out.cm.stages[s].fwd.compute + out.cm.stages[s].bwd.compute;
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "gpus=2", "pp=2", "vp=2", "schedule=interleaved", "microbatches=4",
             "pipeline-layout=E|t*15|t*15|ttL"));
    for (int s = 0; s < 4; s++)
        cr_assert(near(out.cm.stages[s].fwd.compute + out.cm.stages[s].bwd.compute, split[s]),
                  "stage %d", s);
    cr_assert(near(out.rep.step_s, split_step), "%.9g vs %.9g", out.rep.step_s,
              split_step);
    cr_assert_eq(out.cm.stages[1].layers, 15);
    cr_assert_eq(out.cm.stages[3].layers, 2);
    /* The reports say how the layers were split. */
    char *text = NULL, *json = NULL;
    size_t len = 0, jlen = 0;
    FILE *f = open_memstream(&text, &len), *j = open_memstream(&json, &jlen);
    cr_assert(f && j);
    report_write_text(f, &scn, &out.rep);
    report_write_json(j, &scn, &out.rep);
    fclose(f);
    fclose(j);
    cr_assert(strstr(text, "\nstages        layers per virtual stage: 0, 2 x 15, 2 "
                           "(pipeline-layout)\n"),
              "%s", text);
    cr_assert(strstr(json, "\"stage_layers\": [0, 15, 15, 2],"), "%s", json);
    free(text);
    free(json);
    step_release(&out);
}

/* ---- hybrid models ------------------------------------------------------------------------ */

/* Nemotron 3 Nano at 8192 tokens on the toy GPU: a Mamba-2 layer's GEMMs are its in_proj
 * (2 s 2688 x 10304) and out_proj (2 s 4096 x 2688) at the bf16 rate, its SSD scan's matmuls
 * (s x 3,407,872, test_flops) at the bf16 rate too (HBM traffic free on the toy), backward as
 * mamba_ssm's kernels count it (s x 9,175,040);
 * an attention layer's GEMMs are only QKV and the projection; a MoE layer has no mixer. */
Test(hybrid, each_layer_costs_only_the_block_it_holds)
{
    double s = 8192, bf16 = 1000e12 * 0.5, attn = 1000e12 * 0.25;
    run_ok(MODEL("nemotron-3-nano-30b-a3b"), 8, L("seq=8192", "microbatches=1"));
    const struct cm_layer_view *mamba = &out.rep.layer_view[MODEL_KIND_MAMBA];
    const struct cm_layer_view *att = &out.rep.layer_view[MODEL_KIND_ATTENTION];
    const struct cm_layer_view *moe = &out.rep.layer_view[MODEL_KIND_MOE];
    cr_assert_eq(mamba->layer, 0);
    cr_assert_eq(moe->layer, 1);
    cr_assert_eq(att->layer, 5);
    cr_assert_eq(out.rep.layer_view[0].layer, -1, "no transformer layer");
    cr_assert(near(mamba->gemm_fwd, 2 * s * (2688.0 * 10304 + 4096.0 * 2688) / bf16), "%.9g",
              mamba->gemm_fwd);
    cr_assert(near(mamba->attn_fwd, s * 3407872.0 / bf16), "scan %.9g", mamba->attn_fwd);
    /* backward: mamba_ssm's kernels' count, recomputation included (test_flops) */
    cr_assert(near(mamba->attn_bwd, 9175040.0 / 3407872.0 * mamba->attn_fwd), "%.9g",
              mamba->attn_bwd);
    cr_assert(near(att->gemm_fwd, 2 * s * (2688.0 * 4608 + 4096.0 * 2688) / bf16));
    cr_assert(near(att->attn_fwd, 2 * 0.5 * s * s * 32 * 256 / attn));
    cr_assert(near(moe->attn_fwd, 0.0) && moe->ep_fwd == 0.0, "ep 1: no dispatch");
    char *text = report_text_and_json();
    const char *m0 = strstr(text, "Mamba, layer 0 "), *e1 = strstr(text, "MoE, layer 1 ");
    const char *a5 = strstr(text, "attention, layer 5 ");
    cr_assert(m0 && e1 && a5 && m0 < e1 && e1 < a5, "rows in layer order:\n%s", text);
    cr_assert_not_null(strstr(text, "Mamba: its attention column is the SSD scan"), "%s", text);
    cr_assert_not_null(strstr(text, "{\"kind\": \"mamba\", \"attention\": \"none\", \"layer\": 0,"),
                       "%s", text);
    free(text);
    step_release(&out);
}

/* With tp 2 and sequence parallelism each hybrid block gathers its input once and
 * reduce-scatters its output once, as one block of a transformer layer does: the Mamba, the
 * attention and the MoE layer (all 16-bit) move the same bytes. */
Test(hybrid, a_block_has_one_gather_and_one_reduce_scatter)
{
    run_ok(MODEL("nemotron-3-nano-30b-a3b"), 8,
           L("seq=8192", "microbatches=1", "tp=2", "sp=true"));
    const struct cm_layer_view *v = out.rep.layer_view;
    double mamba = v[MODEL_KIND_MAMBA].tp_fwd;
    cr_assert_gt(mamba, 0.0);
    cr_assert(near(v[MODEL_KIND_ATTENTION].tp_fwd, mamba));
    cr_assert(near(v[MODEL_KIND_MOE].tp_fwd, mamba));
    cr_assert_gt(v[MODEL_KIND_MAMBA].tp_bwd, mamba, "the backward gathers again");
    cr_assert(near(v[MODEL_KIND_ATTENTION].tp_bwd, v[MODEL_KIND_MAMBA].tp_bwd));
    step_release(&out);
    /* A Llama layer (two blocks, h 4096) on the toy's latency-free links moves 2 x 4096 /
     * 2688 times the bytes of one Nano block. */
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=8192", "microbatches=1", "tp=2", "sp=true"));
    cr_assert(near(out.rep.layer_view[0].tp_fwd, mamba * 2.0 * 4096 / 2688), "%.9g vs %.9g",
              out.rep.layer_view[0].tp_fwd, mamba);
    step_release(&out);
}

/* A rule refuses the scenario that `sets` make of `model` on the toy GPU carrying `gpu_attrs`,
 * with a message holding `want`. */
static void rule_error_on(const char *model, const char *gpu_attrs, const char *const *sets,
                          const char *want)
{
    toy_rule_error(model, gpu_attrs, sets, want, &scn, &out);
}

/* The same on the plain toy GPU. */
static void rule_error(const char *model, const char *const *sets, const char *want)
{
    rule_error_on(model, "", sets, want);
}

/* A rule refusing a scenario on Nemotron 3 Nano. */
static void hybrid_rule_error(const char *const *sets, const char *want)
{
    rule_error(MODEL("nemotron-3-nano-30b-a3b"), sets, want);
}

/* Megatron-Core shards a TP rank's Mamba heads over the CP ranks: Nano's 64 heads and 8 groups
 * take cp 2, 4, 8, 16 (groups repeated), not 3. */
Test(hybrid, mamba_context_parallelism_needs_cp_to_split_heads_and_groups)
{
    hybrid_rule_error(L("seq=8192", "cp=3", "gpus=3"),
                      "Mamba layers hold 64 heads and 8 groups per TP rank");
}

/* Nano at cp 2 inside the toy's 8-GPU node (100 GB/s), seq 8192: 4096 tokens a rank.  Each of
 * its 23 Mamba layers trades them for half the heads and back, all-to-all: z and x (4096 wide
 * each, 2 bytes), B and C (8 groups x state 128 each), dt (64 heads), then y (4096): 2 x 4096
 * tokens x (3 x 4096 + 2 x 1024 + 64) = 117,964,800 bytes, half of them leaving the GPU, in
 * line each way; the attention layers' small K/V ring hides behind their kernels. */
Test(hybrid, mamba_context_parallelism_trades_the_sequence_for_heads)
{
    run_ok(MODEL("nemotron-3-nano-30b-a3b"), 8,
           L("seq=8192", "cp=2", "gpus=2", "microbatches=1"));
    double a2a = 0.5 * 2.0 * 4096 * (3.0 * 4096 + 2.0 * 1024 + 64) / 100e9;
    cr_assert(near(out.cm.stages[0].fwd.cp, 23 * a2a), "forward %.9g vs %.9g",
              out.cm.stages[0].fwd.cp, 23 * a2a);
    cr_assert(near(out.cm.stages[0].bwd.cp, 23 * a2a), "backward %.9g vs %.9g",
              out.cm.stages[0].bwd.cp, 23 * a2a);
    /* Around them a pass copies the pieces three times and y twice, each read and written:
     * 2 x 2 bytes x 4096 tokens x (3 x (2 x 4096 + 2 x 1024 + 64) + 2 x 4096), at the HBM rate,
     * on top of what the same 4096 tokens cost a Mamba layer without context parallelism --
     * on a toy with 1 TB/s of HBM, so that they cost microseconds, not the plain toy's
     * picoseconds, which the comparison's 1 ns floor would pass whatever they were. */
    step_release(&out);
    run_ok(MODEL("nemotron-3-nano-30b-a3b"), 8,
           L("seq=8192", "cp=2", "gpus=2", "microbatches=1", "hw.hbm-bandwidth=1TBps"));
    double with_cp = out.cm.layer_view[MODEL_KIND_MAMBA].elem_fwd;
    step_release(&out);
    run_ok(MODEL("nemotron-3-nano-30b-a3b"), 8,
           L("seq=4096", "gpus=1", "microbatches=1", "hw.hbm-bandwidth=1TBps"));
    double copies = 2.0 * 2.0 * 4096 * (3.0 * (2 * 4096 + 2 * 1024 + 64) + 2.0 * 4096);
    double hbm = out.cm.hw->gpu.hbm_bw_Bps * out.cm.hw->gpu.mem_eff;
    cr_assert_eq(hbm, 1e12, "the copies cost what a toy with 1 TB/s of HBM moves");
    cr_assert(near(with_cp - out.cm.layer_view[MODEL_KIND_MAMBA].elem_fwd, copies / hbm),
              "copies %.9g vs %.9g", with_cp - out.cm.layer_view[MODEL_KIND_MAMBA].elem_fwd,
              copies / hbm);
    step_release(&out);
}

/* Qwen3-Next at 4096 tokens on the toy GPU: a Gated DeltaNet layer's GEMMs are its in_proj
 * (2 s 2048 x 12352) and out_proj (2 s 4096 x 2048) at the bf16 rate, its chunked delta rule's
 * matmuls (s x 32 x 182,954.67, test_flops) at the bf16 rate too (HBM traffic free on the
 * toy), the backward 1.9x; the gated attention layer's QKV carries the gate (2048 x 9216);
 * the report names the row and what its attention column holds. */
Test(hybrid, a_gated_deltanet_costs_its_projections_and_its_chunked_rule)
{
    double s = 4096, bf16 = 1000e12 * 0.5;
    run_ok(MODEL("qwen3-next-80b-a3b"), 8, L("seq=4096", "microbatches=1"));
    const struct cm_layer_view *gdn = &out.rep.layer_view[MODEL_KIND_GDN];
    const struct cm_layer_view *att = &out.rep.layer_view[MODEL_KIND_ATTENTION];
    cr_assert_eq(gdn->layer, 0);
    cr_assert_eq(att->layer, 6);
    cr_assert(near(gdn->gemm_fwd, 2 * s * (2048.0 * 12352 + 4096.0 * 2048) / bf16), "%.9g",
              gdn->gemm_fwd);
    double rule = s * 32 * (49152 + 32768 + 98304 + 2.0 * 4096 / 3);
    cr_assert(near(gdn->attn_fwd, rule / bf16), "rule %.9g", gdn->attn_fwd);
    cr_assert(near(gdn->attn_bwd, 1.9 * gdn->attn_fwd), "%.9g", gdn->attn_bwd);
    cr_assert(near(att->gemm_fwd, 2 * s * (2048.0 * 9216 + 4096.0 * 2048) / bf16), "%.9g",
              att->gemm_fwd);
    char *text = report_text_and_json();
    cr_assert_not_null(strstr(text, "GDN, layer 0 "), "%s", text);
    cr_assert_not_null(strstr(text, "GDN (Gated DeltaNet): its attention column is the chunked "
                                    "delta rule"),
                       "%s", text);
    cr_assert_not_null(strstr(text, "{\"kind\": \"gdn\", \"attention\": \"none\", \"layer\": 0,"),
                       "%s", text);
    free(text);
    step_release(&out);
    /* With 1 TB/s of HBM the rule's kernels move, per token and value head, 14 x 128 + 12 x
     * 128 bytes of operands, 12 x 64 of the chunk's triangles, the chunk states' 2 x 128 x 128 x
     * 2 / 64 and 40 of fp32 gates: 5,160 bytes. */
    run_ok(MODEL("qwen3-next-80b-a3b"), 8,
           L("seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps", "hw.memory-efficiency=1"));
    double moved = s * 32 * (14.0 * 128 + 12.0 * 128 + 12.0 * 64 + 4.0 * 128 * 128 / 64 + 40);
    cr_assert_eq(moved, s * 32 * 5160.0);
    gdn = &out.rep.layer_view[MODEL_KIND_GDN];
    cr_assert(near(gdn->attn_fwd, rule / bf16 + moved / 1e12), "%.9g vs %.9g", gdn->attn_fwd,
              rule / bf16 + moved / 1e12);
    step_release(&out);
    /* An fp32 run (the toy's fp32 rate is its bf16 one): the operands, the inverted triangles
     * and the states twice as wide, the fp32 triangles and gates as they were: 28 x 128 + 24 x
     * 128 + (8 + 8) x 64 + 2,048 + 40 = 9,768 bytes. */
    run_ok(MODEL("qwen3-next-80b-a3b"), 8,
           L("seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps", "hw.memory-efficiency=1",
             "dtype=fp32"));
    moved = s * 32 * (28.0 * 128 + 24.0 * 128 + 16.0 * 64 + 8.0 * 128 * 128 / 64 + 40);
    cr_assert_eq(moved, s * 32 * 9768.0);
    gdn = &out.rep.layer_view[MODEL_KIND_GDN];
    cr_assert(near(gdn->attn_fwd, rule / bf16 + moved / 1e12), "fp32 %.9g vs %.9g",
              gdn->attn_fwd, rule / bf16 + moved / 1e12);
    step_release(&out);
}

/* Megatron-Core shards each TP rank's key and value heads over the CP ranks: Qwen3-Next's 16
 * and 32 take cp 2, not 3. */
Test(hybrid, gated_deltanet_context_parallelism_needs_cp_to_split_its_heads)
{
    rule_error(MODEL("qwen3-next-80b-a3b"), L("seq=8196", "cp=3", "gpus=3"),
               "Gated DeltaNet layers hold 16 key heads and 32 value heads per TP rank");
}

/* Qwen3-Next at cp 2 inside the toy's 8-GPU node (100 GB/s), seq 8192: 4096 tokens a rank.
 * Each of its 36 Gated DeltaNet layers trades them for half the heads and back, all-to-all:
 * in_proj's output (12352 wide, 2 bytes) before, the gated norm's (4096) after: 2 x 4096
 * tokens x (12352 + 4096) bytes, half of them leaving the GPU, in line each way (the attention
 * layers' K/V ring hides behind their kernels).  Around them a pass copies the input three
 * times and the output twice, each read and written. */
Test(hybrid, gated_deltanet_context_parallelism_trades_the_sequence_for_heads)
{
    run_ok(MODEL("qwen3-next-80b-a3b"), 8, L("seq=8192", "cp=2", "gpus=2", "microbatches=1"));
    double a2a = 0.5 * 2.0 * 4096 * (12352.0 + 4096) / 100e9;
    cr_assert(near(out.cm.stages[0].fwd.cp, 36 * a2a), "forward %.9g vs %.9g",
              out.cm.stages[0].fwd.cp, 36 * a2a);
    cr_assert(near(out.cm.stages[0].bwd.cp, 36 * a2a), "backward %.9g vs %.9g",
              out.cm.stages[0].bwd.cp, 36 * a2a);
    step_release(&out);
    run_ok(MODEL("qwen3-next-80b-a3b"), 8,
           L("seq=8192", "cp=2", "gpus=2", "microbatches=1", "hw.hbm-bandwidth=1TBps"));
    double with_cp = out.cm.layer_view[MODEL_KIND_GDN].elem_fwd;
    step_release(&out);
    run_ok(MODEL("qwen3-next-80b-a3b"), 8,
           L("seq=4096", "gpus=1", "microbatches=1", "hw.hbm-bandwidth=1TBps"));
    double copies = 2.0 * 2.0 * 4096 * (3.0 * 12352 + 2.0 * 4096);
    double hbm = out.cm.hw->gpu.hbm_bw_Bps * out.cm.hw->gpu.mem_eff;
    cr_assert_eq(hbm, 1e12, "the copies cost what a toy with 1 TB/s of HBM moves");
    cr_assert(near(with_cp - out.cm.layer_view[MODEL_KIND_GDN].elem_fwd, copies / hbm),
              "copies %.9g vs %.9g", with_cp - out.cm.layer_view[MODEL_KIND_GDN].elem_fwd,
              copies / hbm);
    step_release(&out);
}

/* ---- stages ------------------------------------------------------------------------------- */

/* Llama-3.1-8B in fp8 with bf16 edge layers on six stages, the first holding only the
 * embedding and the last only the head: stages 2 and 3 (layers 8-15, 16-23) cost the same,
 * while stage 1 (layer 0 in bf16) and stage 4 (layer 31 in bf16) cost more -- a stage is
 * only reused for the next when its layers are of the same kind and precision. */
Test(stages, identical_middle_stages_cost_the_same_and_edge_layers_do_not)
{
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=8", "pp=6", "first-stage-layers=0", "last-stage-layers=0",
             "dtype=fp8", "fp8-recipe=current", "bf16-first-layers=1", "bf16-last-layers=1"));
    const struct cm_stage *st = out.cm.stages;
    cr_assert_eq(st[2].first_layer, 8);
    cr_assert_eq(st[3].first_layer, 16);
    cr_assert_eq(st[4].first_layer, 24);
    cr_assert_eq(st[3].layers, 8);
    cr_assert_eq(st[2].fwd.compute, st[3].fwd.compute);
    cr_assert_eq(st[2].bwd.compute, st[3].bwd.compute);
    cr_assert_eq(st[2].act_bytes_mb, st[3].act_bytes_mb);
    cr_assert_gt(st[1].fwd.compute, st[2].fwd.compute, "layer 0's GEMMs in bf16");
    cr_assert_gt(st[4].fwd.compute, st[3].fwd.compute, "layer 31's GEMMs in bf16");
    cr_assert(near(st[1].fwd.compute, st[4].fwd.compute), "one bf16 layer each");
    step_release(&out);
}

/* Nemotron 3 Nano's pattern has attention and MoE layers but no dense MLP ('-'). */
Test(hybrid, recompute_modules_must_name_a_block_the_pattern_has)
{
    hybrid_rule_error(L("seq=8192", "recompute=selective", "recompute-modules=mlp"),
                      "recompute-modules names mlp (no dense MLP layer)");
}

/* Launch overhead of each stage pass when every kernel costs 1 us more, micro-batch 1 (the
 * difference of two runs, so the work itself cancels), with `ep` and `extra` (or NULL) set. */
static void launch_seconds_with(const char *model, const char *ep, const char *extra, double *fwd,
                                double *bwd, double *wgt)
{
    const char *const base[] = {"seq=4096", "microbatches=1", ep, extra, NULL};
    const char *const slow[] = {"seq=4096", "microbatches=1", "hw.kernel-overhead=1us", ep, extra,
                                NULL};
    run_ok(model, 8, base);
    struct cm_parts f0 = out.cm.stages[0].fwd, b0 = out.cm.stages[0].bwd;
    struct cm_parts w0 = out.cm.stages[0].wgt;
    step_release(&out);
    run_ok(model, 8, slow);
    *fwd = out.cm.stages[0].fwd.compute - f0.compute;
    *bwd = out.cm.stages[0].bwd.compute - b0.compute;
    *wgt = out.cm.stages[0].wgt.compute - w0.compute;
    step_release(&out);
}

static void launch_seconds(const char *model, const char *ep, double *fwd, double *bwd, double *wgt)
{
    launch_seconds_with(model, ep, NULL, fwd, bwd, wgt);
}

/* Launch seconds of the first stage's forward when every kernel costs 1 us more, for OLMoE
 * at EP 8 (8 local experts) in `dtype` and `recipe` on the toy GPU with `gpu_attrs`. */
static double olmoe_forward_launches(const char *gpu_attrs, const char *dtype, const char *recipe)
{
    const char *const base[] = {"seq=4096", "microbatches=1", "ep=8", dtype, recipe, NULL};
    const char *const slow[] = {"seq=4096",          "microbatches=1", "ep=8", dtype, recipe,
                                "hw.kernel-overhead=1us", NULL};
    toy_step_on(MODEL("olmoe-1b-7b"), 8, gpu_attrs, base, &scn, &out);
    double f0 = out.cm.stages[0].fwd.compute;
    step_release(&out);
    toy_step_on(MODEL("olmoe-1b-7b"), 8, gpu_attrs, slow, &scn, &out);
    double f1 = out.cm.stages[0].fwd.compute;
    step_release(&out);
    return f1 - f0;
}

/* Transformer Engine's GroupedLinear quantizes FC1's and FC2's inputs split by split: with
 * current scaling 3 kernels (amax, scale, cast) per local expert and operand, 2 x 8 x 3 = 48
 * more a layer than bf16; MXFP8 one per split, 16; delayed scaling's fused multi-tensor
 * cast-transpose one per operand, 2.  The attention block's two inputs add theirs (the dense
 * linears' quantizers): current scaling 2 for the QKV input, whose norm gives the amax, and 3
 * for the projection's; MXFP8 1 each; delayed scaling none for the QKV input, which the norm
 * writes in fp8, and 1 for the projection's.  Every fp8 run also pads the experts' tokens (3
 * kernels: fp8_experts_pad_their_tokens_unless_they_come_aligned).  OLMoE's 16 layers. */
Test(launches, experts_quantize_split_by_split)
{
    const char *blackwell = "fp8-gemm-layouts=\"any\""; /* MXFP8 runs on Blackwell only */
    double bf16 = olmoe_forward_launches("", "dtype=bf16", "seq=4096"); /* no recipe: seq again */
    double cs = olmoe_forward_launches("", "dtype=fp8", "fp8-recipe=current");
    double mx = olmoe_forward_launches(blackwell, "dtype=fp8", "fp8-recipe=mxfp8");
    double delayed = olmoe_forward_launches("", "dtype=fp8", "fp8-recipe=delayed");
    cr_assert(near(cs - bf16, 16 * (48 + 2 + 3 + 3) * 1e-6), "current %.9g", cs - bf16);
    cr_assert(near(mx - bf16, 16 * (16 + 1 + 1 + 3) * 1e-6), "mxfp8 %.9g", mx - bf16);
    cr_assert(near(delayed - bf16, 16 * (2 + 0 + 1 + 3) * 1e-6), "delayed %.9g", delayed - bf16);
}

/* OLMoE with biases on its linear layers, written next to the shipped model (the same shape). */
static const char *olmoe_with_biases(char *path, size_t len)
{
    snprintf(path, len, "/tmp/stepsim-olmoe-bias-%ld.xml", (long)getpid());
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "<?xml version=\"1.0\"?>\n<model name=\"olmoe-bias\">\n"
               "  <transformer layers=\"16\" hidden=\"2048\" ffn=\"1024\" heads=\"16\" "
               "kv-heads=\"16\" vocab=\"50304\" max-seq=\"4096\" activation=\"swiglu\" "
               "norm=\"rmsnorm\" position=\"rope\" tied-embeddings=\"false\" bias=\"true\"/>\n"
               "  <moe experts=\"64\" top-k=\"8\" expert-ffn=\"1024\"/>\n</model>\n");
    cr_assert_eq(fclose(f), 0);
    return path;
}

/* Experts with biases (OLMoE's shape, 4096 tokens, top-8 of 64 experts, 2048 wide, HBM at
 * 1 TB/s): Megatron-Core adds each local expert's FC2 bias times the routing probability in
 * PyTorch ops over the 4096 x 8 x 2048 = 67,108,864 elements of the experts' output: with the
 * router's bf16 probabilities 12 bytes an element each way (0.805306368 ms); under DeepEP,
 * whose probabilities are fp32, 28 forward and 36 backward; in an fp32 run, its output and
 * probabilities 4 bytes and nothing to cast back, 24 each way: twice bf16's.  The fused grouped
 * MLP adds it in its epilogue: nothing. */
Test(moe, expert_biases_added_in_pytorch_ops)
{
    char path[128];
    const char *biased = olmoe_with_biases(path, sizeof path);
    static const struct {
        const char *dispatcher, *dtype;
        double fwd, bwd;
    } cases[] = {{"moe-dispatcher=alltoall", "dtype=bf16", 12, 12},
                 {"moe-dispatcher=deepep", "dtype=bf16", 28, 36},
                 {"moe-dispatcher=alltoall", "dtype=fp32", 24, 24}};
    double elems = 4096.0 * 8 * 2048;
    for (size_t i = 0; i < 3; i++) {
        const char *const *sets = L("seq=4096", "microbatches=1", "ep=8", "gpus=8",
                                    "hw.hbm-bandwidth=1TBps", cases[i].dispatcher, cases[i].dtype);
        run_ok(MODEL("olmoe-1b-7b"), 8, sets);
        struct cm_layer_view plain = out.rep.layer_view[1];
        step_release(&out);
        run_ok(biased, 8, sets);
        struct cm_layer_view b = out.rep.layer_view[1];
        step_release(&out);
        cr_assert(near(b.elem_fwd - plain.elem_fwd, cases[i].fwd * elems / 1e12), "%s %s %.9g",
                  cases[i].dispatcher, cases[i].dtype, b.elem_fwd - plain.elem_fwd);
        cr_assert(near(b.elem_bwd - plain.elem_bwd, cases[i].bwd * elems / 1e12), "%s %s %.9g",
                  cases[i].dispatcher, cases[i].dtype, b.elem_bwd - plain.elem_bwd);
    }
    /* and launches, per layer: two per local expert (8) and two more forward, five per
     * expert and one more backward */
    double f0, b0, w0, f1, b1, w1;
    launch_seconds(MODEL("olmoe-1b-7b"), "ep=8", &f0, &b0, &w0);
    launch_seconds(biased, "ep=8", &f1, &b1, &w1);
    cr_assert(near(f1 - f0, 16 * (2 * 8 + 2) * 1e-6), "forward %.9g", f1 - f0);
    cr_assert(near(b1 - b0, 16 * (5 * 8 + 1) * 1e-6), "backward %.9g", b1 - b0);
    cr_assert(near(w1, w0));
    /* an fp32 run's output is fp32 already: no cast after the cat */
    launch_seconds_with(MODEL("olmoe-1b-7b"), "ep=8", "dtype=fp32", &f0, &b0, &w0);
    launch_seconds_with(biased, "ep=8", "dtype=fp32", &f1, &b1, &w1);
    cr_assert(near(f1 - f0, 16 * (2 * 8 + 1) * 1e-6), "fp32 forward %.9g", f1 - f0);
    cr_assert(near(b1 - b0, 16 * (5 * 8 + 1) * 1e-6), "fp32 backward %.9g", b1 - b0);
    unlink(path);
}

/* The MoE layer's element-wise forward and backward, and the first stage's launch seconds at
 * 1 us a kernel (beyond those at the default overhead), of OLMoE at EP 8 in fp8 with the
 * settings `a` and `b`. */
static void olmoe_fp8_moe(const char *a, const char *b, struct cm_layer_view *layer,
                          double *fwd_launch, double *bwd_launch)
{
    const char *const base[] = {"seq=4096", "microbatches=1", "ep=8", "gpus=8", "dtype=fp8",
                                "fp8-recipe=current", "hw.hbm-bandwidth=1TBps", a, b, NULL};
    const char *const slow[] = {"seq=4096",           "microbatches=1",
                                "ep=8",               "gpus=8",
                                "dtype=fp8",          "fp8-recipe=current",
                                "hw.hbm-bandwidth=1TBps", a,
                                b,                    "hw.kernel-overhead=1us",
                                NULL};
    run_ok(MODEL("olmoe-1b-7b"), 8, base);
    *layer = out.rep.layer_view[1];
    double f0 = out.cm.stages[0].fwd.compute, b0 = out.cm.stages[0].bwd.compute;
    step_release(&out);
    run_ok(MODEL("olmoe-1b-7b"), 8, slow);
    *fwd_launch = out.cm.stages[0].fwd.compute - f0;
    *bwd_launch = out.cm.stages[0].bwd.compute - b0;
    step_release(&out);
}

/* fp8 experts copy their token copies into segments aligned for the quantized GEMMs and FC2's
 * output out of them (Megatron-Core's Fp8Padding / Fp8Unpadding): on OLMoE at EP 8, 4096 x 8
 * copies of 2048 elements a GPU, each copy a 2-byte read and a 2-byte write of every element,
 * twice forward and twice backward, and three kernels each way in each of the 16 MoE layers --
 * none when the router pads the counts (moe-router-padding), HybridEP's dispatch does, or a
 * capacity makes them a multiple of 16. */
Test(moe, fp8_experts_pad_their_tokens_unless_they_come_aligned)
{
    double elems = 4096.0 * 8 * 2048;
    struct cm_layer_view padded, aligned, hybridep;
    double fp, bp, fa, ba, fh, bh;
    olmoe_fp8_moe("moe-dispatcher=alltoall", "gpus=8", &padded, &fp, &bp);
    olmoe_fp8_moe("moe-router-padding=true", "gpus=8", &aligned, &fa, &ba);
    olmoe_fp8_moe("moe-dispatcher=hybridep", "gpus=8", &hybridep, &fh, &bh);
    cr_assert(near(padded.elem_fwd - aligned.elem_fwd, 2 * 4 * elems / 1e12), "forward %.9g",
              padded.elem_fwd - aligned.elem_fwd);
    cr_assert(near(padded.elem_bwd - aligned.elem_bwd, 2 * 4 * elems / 1e12), "backward %.9g",
              padded.elem_bwd - aligned.elem_bwd);
    cr_assert(near(fp - fa, 16 * 3 * 1e-6), "forward launches %.9g", fp - fa);
    cr_assert(near(bp - ba, 16 * 3 * 1e-6), "backward launches %.9g", bp - ba);
    /* with a capacity the count is capacity x EP: ceil(4096 x 8 / 64 x 1.001) = 513, x 8 = 4104,
     * not a multiple of 16, so it pads; at a factor of 1, 512 x 8 = 4096, aligned, it does not */
    struct cm_layer_view cap_pad, cap_router;
    olmoe_fp8_moe("moe-capacity-factor=1.001", "gpus=8", &cap_pad, &fp, &bp);
    olmoe_fp8_moe("moe-capacity-factor=1.001", "moe-router-padding=true", &cap_router, &fa, &ba);
    cr_assert(near(cap_pad.elem_fwd - cap_router.elem_fwd, 2 * 4 * elems / 1e12),
              "unaligned capacity %.9g", cap_pad.elem_fwd - cap_router.elem_fwd);
    olmoe_fp8_moe("moe-capacity-factor=1", "gpus=8", &cap_pad, &fp, &bp);
    olmoe_fp8_moe("moe-capacity-factor=1", "moe-router-padding=true", &cap_router, &fa, &ba);
    cr_assert(near(cap_pad.elem_fwd, cap_router.elem_fwd), "aligned capacity %.9g",
              cap_pad.elem_fwd - cap_router.elem_fwd);
    /* HybridEP's permutation is DeepEP's, one pass each way fewer than the all-to-all's */
    olmoe_fp8_moe("moe-dispatcher=deepep", "gpus=8", &padded, &fp, &bp);
    cr_assert(near(padded.elem_fwd - hybridep.elem_fwd, 2 * 4 * elems / 1e12), "deepep %.9g",
              padded.elem_fwd - hybridep.elem_fwd);
    cr_assert(near(fp - fh, 16 * 3 * 1e-6), "deepep launches %.9g", fp - fh);
    /* Megatron-Core pads whenever the run is fp8 (config.fp8), its experts' GEMMs in 16 bits
     * or not; a bf16 run pads nothing */
    olmoe_fp8_moe("bf16-modules=experts", "gpus=8", &padded, &fp, &bp);
    olmoe_fp8_moe("bf16-modules=experts", "moe-router-padding=true", &aligned, &fa, &ba);
    cr_assert(near(fp - fa, 16 * 3 * 1e-6), "bf16 experts' launches %.9g", fp - fa);
    const char *const bf16[] = {"seq=4096", "microbatches=1", "ep=8", "gpus=8",
                                "hw.hbm-bandwidth=1TBps", NULL};
    const char *const bf16_hybridep[] = {"seq=4096", "microbatches=1", "ep=8", "gpus=8",
                                         "hw.hbm-bandwidth=1TBps", "moe-dispatcher=hybridep",
                                         NULL};
    run_ok(MODEL("olmoe-1b-7b"), 8, bf16);
    double deepep_like = out.rep.layer_view[1].elem_fwd;
    step_release(&out);
    run_ok(MODEL("olmoe-1b-7b"), 8, bf16_hybridep);
    cr_assert(near(out.rep.layer_view[1].elem_fwd, deepep_like - 2 * 4 * elems / 1e12),
              "bf16: hybridep as deepep, the all-to-all's second sort apart %.9g",
              out.rep.layer_view[1].elem_fwd);
    step_release(&out);
}

/* OLMoE's shape with non-gated experts of `activation`, written next to the shipped model. */
static const char *olmoe_with_activation(char *path, size_t len, const char *activation)
{
    snprintf(path, len, "/tmp/stepsim-olmoe-%s-%ld.xml", activation, (long)getpid());
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "<?xml version=\"1.0\"?>\n<model name=\"olmoe-%s\">\n"
               "  <transformer layers=\"16\" hidden=\"2048\" ffn=\"1024\" heads=\"16\" "
               "kv-heads=\"16\" vocab=\"50304\" max-seq=\"4096\" activation=\"%s\" "
               "norm=\"rmsnorm\" position=\"rope\" tied-embeddings=\"false\" bias=\"false\"/>\n"
               "  <moe experts=\"64\" top-k=\"8\" expert-ffn=\"1024\"/>\n</model>\n",
            activation, activation);
    cr_assert_eq(fclose(f), 0);
    return path;
}

/* GELU experts run their weighted activation as PyTorch ops in Megatron-Core (TEGroupedMLP
 * fuses only SwiGLU, quick-GeGLU and squared ReLU): per element of FC1's output (4096 x 8 x
 * 1024 on each GPU at EP 8) the activation's 4 bytes, the product with the probabilities 2 + q
 * and, with fp32 probabilities, the cast back 6 -- 8 or 16 bytes where squared ReLU's fused
 * kernel moves 4, twice that backward, and one or two kernels more each way.  An fp32 run: 12
 * + 4 = 16 bytes against the fused kernel's 8, twice bf16's extra. */
Test(moe, gelu_experts_weight_their_activation_in_pytorch_ops)
{
    char gelu_path[128], relu_path[128];
    const char *gelu = olmoe_with_activation(gelu_path, sizeof gelu_path, "gelu");
    const char *relu = olmoe_with_activation(relu_path, sizeof relu_path, "squared-relu");
    double elems = 4096.0 * 8 * 1024;
    static const struct {
        const char *router, *dtype;
        double bytes, fused;
    } cases[] = {{"moe-router-dtype=bf16", "dtype=bf16", 8, 4},
                 {"moe-router-dtype=fp32", "dtype=bf16", 16, 4},
                 {"moe-router-dtype=bf16", "dtype=fp32", 16, 8}};
    for (size_t i = 0; i < 3; i++) {
        const char *const sets[] = {"seq=4096", "microbatches=1", "ep=8", "gpus=8",
                                    "hw.hbm-bandwidth=1TBps", cases[i].router, cases[i].dtype,
                                    NULL};
        run_ok(relu, 8, sets);
        struct cm_layer_view fused = out.rep.layer_view[1];
        step_release(&out);
        run_ok(gelu, 8, sets);
        struct cm_layer_view ops = out.rep.layer_view[1];
        step_release(&out);
        double extra = (cases[i].bytes - cases[i].fused) * elems / 1e12;
        cr_assert(near(ops.elem_fwd - fused.elem_fwd, extra), "%s %s forward %.9g",
                  cases[i].router, cases[i].dtype, ops.elem_fwd - fused.elem_fwd);
        cr_assert(near(ops.elem_bwd - fused.elem_bwd, 2 * extra), "%s %s backward %.9g",
                  cases[i].router, cases[i].dtype, ops.elem_bwd - fused.elem_bwd);
    }
    double f0, b0, w0, f1, b1, w1;
    launch_seconds(relu, "ep=8", &f0, &b0, &w0);
    launch_seconds(gelu, "ep=8", &f1, &b1, &w1);
    cr_assert(near(f1 - f0, 16 * 1 * 1e-6), "forward launches %.9g", f1 - f0);
    cr_assert(near(b1 - b0, 16 * 1 * 1e-6), "backward launches %.9g", b1 - b0);
    /* fp32 probabilities: the cast back is one more kernel each way, none in an fp32 run */
    static const struct {
        const char *dtype;
        double kernels;
    } fp32_router[] = {{"dtype=bf16", 2}, {"dtype=fp32", 1}};
    for (size_t i = 0; i < 2; i++) {
        launch_seconds_with(relu, "moe-router-dtype=fp32", fp32_router[i].dtype, &f0, &b0, &w0);
        launch_seconds_with(gelu, "moe-router-dtype=fp32", fp32_router[i].dtype, &f1, &b1, &w1);
        double want = 16 * fp32_router[i].kernels * 1e-6;
        cr_assert(near(f1 - f0, want), "%s forward launches %.9g", fp32_router[i].dtype, f1 - f0);
        cr_assert(near(b1 - b0, want), "%s backward launches %.9g", fp32_router[i].dtype, b1 - b0);
    }
    unlink(gelu);
    unlink(relu);
}

/* A MoE layer launches its router and dispatch kernels (23 forward, 14 backward) and FC1 and
 * FC2 once per local expert where a dense MLP launches them once: OLMoE's 16 layers of 64
 * experts, attention 6 / 11, the MLP block's 5 / 9 / 2 weight-gradient GEMMs, the layer's
 * attention weight-gradient GEMMs 2. */
Test(launches, a_moe_layer_launches_its_routing_and_one_gemm_per_local_expert)
{
    double f, b, w;
    for (int ep = 1; ep <= 8; ep *= 8) {
        char set[16];
        snprintf(set, sizeof set, "ep=%d", ep);
        launch_seconds(MODEL("olmoe-1b-7b"), set, &f, &b, &w);
        double extra = 2.0 * (64 / ep - 1);
        cr_assert(near(f, 16 * (6 + 5 + 23 + extra) * 1e-6), "ep %d forward %.9g", ep, f);
        cr_assert(near(b, 16 * (11 + 9 + 14 + extra) * 1e-6), "ep %d backward %.9g", ep, b);
        cr_assert(near(w, 16 * (4 + extra) * 1e-6), "ep %d weight gradient %.9g", ep, w);
    }
    /* an fp32 run: the router's input is fp32 already, no cast to it nor its gradient back */
    launch_seconds_with(MODEL("olmoe-1b-7b"), "ep=8", "dtype=fp32", &f, &b, &w);
    cr_assert(near(f, 16 * (6 + 5 + 23 - 1 + 14) * 1e-6), "fp32 forward %.9g", f);
    cr_assert(near(b, 16 * (11 + 9 + 14 - 1 + 14) * 1e-6), "fp32 backward %.9g", b);
    cr_assert(near(w, 16 * (4 + 14) * 1e-6), "fp32 weight gradient %.9g", w);
    /* Moonlight: a dense first layer, then 26 MoE layers of 64 experts with shared experts
     * (one more FC1, activation and FC2 each way, and their two weight gradients); every layer
     * is MLA, whose fused Q/K/V assembly is one more kernel each way. */
    launch_seconds(MODEL("moonlight-16b-a3b"), "ep=8", &f, &b, &w);
    double extra = 2.0 * (64 / 8 - 1);
    cr_assert(near(f, (12 + 26 * (12 + 23 + extra + 3)) * 1e-6), "forward %.9g", f);
    cr_assert(near(b, (21 + 26 * (21 + 14 + extra + 3)) * 1e-6), "backward %.9g", b);
    cr_assert(near(w, (4 + 26 * (4 + extra + 2)) * 1e-6), "weight gradient %.9g", w);
}

/* torchtitan's per-op policy on Llama-3.1-8B (one GPU, bf16): the backward runs the K,
 * projection and up-projection matmuls again (the norms and SwiGLU are free on the toy GPU);
 * per token a layer keeps its input, Q and V (4096 + 1024), the attention output, the gate's
 * output and the down-projection's output -- 2 x 31,744 bytes -- where it kept 139,264
 * without recompute (two norm inputs and outputs, Q K V, attention output, gate, up and
 * SwiGLU outputs). */
Test(recompute, torchtitans_op_policy_runs_every_second_matmul_again)
{
    double bf16 = 1000e12 * 0.5;
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=4096", "microbatches=1"));
    double keep = out.cm.stages[0].act_bytes_mb;
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "framework=torchtitan", "recompute=selective",
             "recompute-modules=op"));
    double again = 2.0 * S * H * (KV + H + FFN) / bf16;
    cr_assert(near(out.cm.stages[0].bwd.recompute, 32 * again), "recompute %.9g",
              out.cm.stages[0].bwd.recompute);
    cr_assert(near(keep - out.cm.stages[0].act_bytes_mb, 32 * S * (139264.0 - 63488.0)),
              "dropped %.9g", keep - out.cm.stages[0].act_bytes_mb);
    step_release(&out);
}

/* With TP 2 and sequence parallelism the re-run K and up-projection gather their inputs
 * again: the backward's TP time grows by the forward's two all-gathers a layer, with no
 * overlap; on the toy (100 GB/s, no latency) an all-gather and a reduce-scatter of the same
 * bytes take the same time, so they are half the layer table's forward TP time. */
Test(recompute, the_op_policy_gathers_the_rerun_matmuls_inputs_again)
{
    const char *const base[] = {"seq=4096",  "microbatches=1",      "tp=2",
                                "sp=true",   "framework=torchtitan", "recompute=selective",
                                "overlap-tp-comm=false", NULL};
    run_ok(MODEL("llama3.1-8b"), 8, base);
    double tp = out.cm.stages[0].bwd.tp;
    const struct cm_layer_view *v = &out.rep.layer_view[0];
    double gathers = v->tp_fwd / 2.0;
    cr_assert_gt(gathers, 0.0);
    step_release(&out);
    const char *const op[] = {"seq=4096",  "microbatches=1",      "tp=2",
                              "sp=true",   "framework=torchtitan", "recompute=selective",
                              "overlap-tp-comm=false", "recompute-modules=op", NULL};
    run_ok(MODEL("llama3.1-8b"), 8, op);
    cr_assert(near(out.cm.stages[0].bwd.tp - tp, 32 * gathers), "%.9g vs %.9g",
              out.cm.stages[0].bwd.tp - tp, 32 * gathers);
    step_release(&out);
}

Test(recompute, the_op_policy_is_refused_where_it_is_not_modelled)
{
    rule_error(MODEL("olmoe-1b-7b"), L("seq=4096", "recompute=selective", "recompute-modules=op"),
               "recompute-modules names op (modelled for dense models without MLA or a hybrid "
               "pattern), which olmoe-1b-7b does not have");
    rule_error(MODEL("llama3.1-8b"),
               L("seq=4096", "recompute=selective", "recompute-modules=op,layernorm"),
               "op is a whole policy");
    rule_error(MODEL("llama3.1-8b"),
               L("seq=4096", "recompute=selective", "recompute-modules=op", "attention=unfused"),
               "recompute-modules=op is modelled with attention=flash");
}

/* Forward and backward compute of one micro-batch (seq 4096, HBM 1 TB/s, 1 us per launch) at
 * `dtype` with `extra` set, less the same without it. */
static void delta_at(const char *model, const char *dtype, const char *extra, double *fwd,
                     double *bwd)
{
    const char *const base[] = {"seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps",
                                "hw.kernel-overhead=1us", dtype, NULL};
    const char *const with[] = {base[0], base[1], base[2], base[3], dtype, extra, NULL};
    run_ok(model, 8, base);
    double f = out.cm.stages[0].fwd.compute, b = out.cm.stages[0].bwd.compute;
    step_release(&out);
    run_ok(model, 8, with);
    *fwd = out.cm.stages[0].fwd.compute - f;
    *bwd = out.cm.stages[0].bwd.compute - b;
    step_release(&out);
}

/* The same in bf16. */
static void delta_with(const char *model, const char *extra, double *fwd, double *bwd)
{
    delta_at(model, "dtype=bf16", extra, fwd, bwd);
}

/* Eager PyTorch's element-wise ops on Llama-3.1-8B (HBM at 1 TB/s, 1 us a launch): per layer
 * and token the two RMSNorms move 72 x 4096 bytes instead of 8 x 4096, SwiGLU 10 instead of 6
 * bytes per inner element (14,336), RoPE 20 bytes per element of Q and K (32 + 8 heads of
 * 128): 421,888 bytes more; 20 more launches forward (7 a norm, 1, 5) and 29 backward (11 a
 * norm, 2, 5); the backward's element-wise work is twice the forward's.  An fp32 run casts
 * nothing: a norm moves 8 + 4 + 8 fp32 bytes and the weight's product 8 (28 against a fused
 * norm's 8), SwiGLU 20 against 12, RoPE only its complex multiply's 8: 319,488 bytes more; and
 * launches no cast, two fewer kernels each way in each norm and in RoPE: 14 more forward (5 a
 * norm, 1, 3) and 23 backward (9 a norm, 2, 3) -- 12 fewer a layer than bf16's, 384 us over the
 * 32 layers in the report's launch gaps. */
Test(elementwise, eager_pytorch_moves_more_bytes_in_more_kernels)
{
    const char *const fused[] = {"seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps",
                                 "hw.kernel-overhead=1us", NULL};
    const char *const eager[] = {"seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps",
                                 "hw.kernel-overhead=1us", "elementwise=eager", NULL};
    run_ok(MODEL("llama3.1-8b"), 8, fused);
    double f = out.cm.stages[0].fwd.compute, b = out.cm.stages[0].bwd.compute;
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8, eager);
    double bytes = 4096.0 * 421888;
    cr_assert(near(out.cm.stages[0].fwd.compute - f, 32 * (bytes / 1e12 + 20e-6)), "forward %.9g",
              out.cm.stages[0].fwd.compute - f);
    cr_assert(near(out.cm.stages[0].bwd.compute - b, 32 * (2 * bytes / 1e12 + 29e-6)),
              "backward %.9g", out.cm.stages[0].bwd.compute - b);
    double bf16_gaps = out.rep.brk.launch;
    step_release(&out);
    double df, db, fp32_bytes = 4096.0 * 319488;
    delta_at(MODEL("llama3.1-8b"), "dtype=fp32", "elementwise=eager", &df, &db);
    cr_assert(near(df, 32 * (fp32_bytes / 1e12 + 14e-6)), "fp32 forward %.9g", df);
    cr_assert(near(db, 32 * (2 * fp32_bytes / 1e12 + 23e-6)), "fp32 backward %.9g", db);
    const char *const eager_fp32[] = {"seq=4096",
                                      "microbatches=1",
                                      "hw.hbm-bandwidth=1TBps",
                                      "hw.kernel-overhead=1us",
                                      "elementwise=eager",
                                      "dtype=fp32",
                                      NULL};
    run_ok(MODEL("llama3.1-8b"), 8, eager_fp32);
    cr_assert(near(bf16_gaps - out.rep.brk.launch, 32 * 12e-6), "fp32 launch gaps %.9g vs %.9g",
              out.rep.brk.launch, bf16_gaps);
    step_release(&out);
    /* Under torchtitan's per-op policy the backward runs every element-wise op again: the
     * recompute grows by the same bytes. */
    const char *const fused_op[] = {"seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps",
                                    "framework=torchtitan", "recompute=selective",
                                    "recompute-modules=op", NULL};
    const char *const eager_op[] = {"seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps",
                                    "framework=torchtitan", "recompute=selective",
                                    "recompute-modules=op", "elementwise=eager", NULL};
    run_ok(MODEL("llama3.1-8b"), 8, fused_op);
    double r = out.cm.stages[0].bwd.recompute;
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8, eager_op);
    cr_assert(near(out.cm.stages[0].bwd.recompute - r, 32 * bytes / 1e12), "recompute %.9g",
              out.cm.stages[0].bwd.recompute - r);
    step_release(&out);
    /* GPT-3's LayerNorm and GELU are single PyTorch kernels, its positions learned: no change */
    run_ok(MODEL("gpt-sc21-1.7b"), 8, fused);
    f = out.cm.stages[0].fwd.compute;
    step_release(&out);
    run_ok(MODEL("gpt-sc21-1.7b"), 8, eager);
    cr_assert_eq(out.cm.stages[0].fwd.compute, f);
    step_release(&out);
}

/* The loss over Llama-3.1-8B's logits (4096 tokens x 128,256 on one GPU, HBM at 1 TB/s): per
 * logit the fused loss moves 22 bytes forward and 6 backward and keeps a 4-byte softmax;
 * Megatron's unfused one 38 and 14; Transformer Engine's 6 and 4, keeping the 2-byte logits;
 * F.cross_entropy on an fp32 copy 14 and 22.  An fp32 run's logits are fp32 and copied to fp32
 * by no one: fused 4 + 16 (its first kernel only reads them for the max) and, backward, its
 * bf16 gradient (4 + 2) cast to fp32 by autograd (6); unfused 32 and 8; te 12 and 8, keeping
 * the 4-byte logits; torch 8 and 16. */
Test(loss, each_cross_entropy_moves_its_bytes_per_logit)
{
    static const struct {
        const char *kind;
        double fwd, bwd, kept;
    } ce[2][4] = {
        {{"fused", 22, 6, 4}, {"unfused", 38, 14, 4}, {"te", 6, 4, 2}, {"torch", 14, 22, 4}},
        {{"fused", 20, 12, 4}, {"unfused", 32, 8, 4}, {"te", 12, 8, 4}, {"torch", 8, 16, 4}}};
    const char *dtypes[] = {"dtype=bf16", "dtype=fp32"};
    double logits = 4096.0 * 128256, f0 = 0, b0 = 0, a0 = 0;
    for (int d = 0; d < 2; d++)
        for (size_t i = 0; i < 4; i++) {
            char set[64];
            snprintf(set, sizeof set, "cross-entropy=%s", ce[d][i].kind);
            run_ok(MODEL("llama3.1-8b"), 8,
                   L("seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps", dtypes[d], set));
            const struct cm_stage *st = &out.cm.stages[0];
            if (i == 0) {
                f0 = st->fwd.compute, b0 = st->bwd.compute, a0 = st->act_bytes_mb;
            } else {
                double df = (ce[d][i].fwd - ce[d][0].fwd) * logits / 1e12;
                double db = (ce[d][i].bwd - ce[d][0].bwd) * logits / 1e12;
                cr_assert(near(st->fwd.compute - f0, df), "%s %s forward %.9g", dtypes[d],
                          ce[d][i].kind, st->fwd.compute - f0);
                cr_assert(near(st->bwd.compute - b0, db), "%s %s backward %.9g", dtypes[d],
                          ce[d][i].kind, st->bwd.compute - b0);
                cr_assert(near(st->act_bytes_mb - a0, (ce[d][i].kept - ce[d][0].kept) * logits),
                          "%s %s kept %.9g", dtypes[d], ce[d][i].kind, st->act_bytes_mb - a0);
            }
            step_release(&out);
        }
}

/* Llama-3.1-8B's word embedding (128,256 x 4096 on one GPU): every micro-batch its lookup's
 * backward writes a dense gradient of the whole table (2 bytes an element) and, with
 * Megatron's fused accumulation, the hook adds it into a 16-bit main_grad (2 + 2 x 2): 8 bytes
 * an element of weight-gradient time per micro-batch, the only HBM traffic of the W pass, so
 * halving the bandwidth adds it once more.  Without the fusion (main-grad) the pass over every
 * parameter covers the embedding's add, and only its dense write is left. */
Test(embedding, its_dense_gradient_is_written_and_added_every_micro_batch)
{
    double elements = 128256.0 * 4096;
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=4096", "microbatches=1", "hw.hbm-bandwidth=2TBps"));
    double w_fast = out.cm.stages[0].wgt.compute;
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps"));
    double w_fused = out.cm.stages[0].wgt.compute, params = out.cm.stages[0].params;
    cr_assert(near(w_fused - w_fast, 8 * elements / 2e12), "fused %.9g", w_fused - w_fast);
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps", "grad-accumulation=main-grad"));
    cr_assert(near(out.cm.stages[0].wgt.compute - w_fused, 6 * (params - elements) / 1e12),
              "main-grad %.9g", out.cm.stages[0].wgt.compute - w_fused);
    step_release(&out);
    /* An MTP module looks its shifted tokens up in the same embedding: a second dense gradient
     * (2), autograd adding it into the first (6), one hook add (6): 16 bytes an element. */
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "hw.hbm-bandwidth=2TBps", "mtp-layers=1"));
    w_fast = out.cm.stages[0].wgt.compute;
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps", "mtp-layers=1"));
    cr_assert(near(out.cm.stages[0].wgt.compute - w_fast, 16 * elements / 2e12), "mtp %.9g",
              out.cm.stages[0].wgt.compute - w_fast);
    step_release(&out);
}

/* Muon's Newton-Schulz work (cm_muon.c) on the toy GPU's 16-bit GEMMs (500 TFLOP/s): five
 * steps of X X^T, A^2 and B X on every weight matrix as one GPU holds it, m <= n its sides:
 * 5 x (4 m^2 n + 2 m^3) FLOPs, shared out over the ranks the optimizer state is sharded on. */
static double ns_flops(double rows, double cols)
{
    double m = fmin(rows, cols), n = fmax(rows, cols);
    return 5.0 * (4.0 * m * m * n + 2.0 * m * m * m);
}

Test(muon, newton_schulz_work_per_matrix_shard_and_rank)
{
    /* Llama-3.1-8B, TP 2, DP 4: Q, K, V apart, the projection, SwiGLU's fused fc1 and fc2. */
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "tp=2", "gpus=8", "global-batch=4", "distributed-optimizer=true",
             "optimizer-algorithm=muon"));
    double layer = ns_flops(2048, 4096) + 2 * ns_flops(512, 4096) + ns_flops(4096, 2048) +
                   ns_flops(14336, 4096) + ns_flops(4096, 7168);
    cr_assert(near(out.cm.rank_opt_s[0], 32 * layer / 4 / 5e14), "dense %.9g",
              out.cm.rank_opt_s[0]);
    /* One fp32 momentum per matrix parameter (8 bytes of state with the fp32 master), Adam's
     * two for the embedding, the LM head and the final norm (12), over DP 4. */
    double p = out.cm.stages[0].params, edge = (2.0 * 128256 * 4096 + 4096) / 2;
    cr_assert(near(out.rep.mem[0].optimizer, (12 * edge + 8 * (p - edge)) / 4), "state %.9g",
              out.rep.mem[0].optimizer);
    char *text = report_text_and_json();
    cr_assert(strstr(text, "zero 1, muon;"), "the layout line names the optimizer");
    free(text);
    step_release(&out);
    /* OLMoE over EP 8 on 8 GPUs: attention and router matrices shared over DP 8, each GPU's 8
     * experts (expert-DP 1) all its own; muon-ns-steps scales the work. */
    run_ok(MODEL("olmoe-1b-7b"), 8,
           L("seq=4096", "ep=8", "gpus=8", "global-batch=8", "distributed-optimizer=true",
             "optimizer-algorithm=muon", "muon-ns-steps=10"));
    double dense = 4 * ns_flops(2048, 2048) + ns_flops(64, 2048);
    double experts = 8 * (ns_flops(2048, 2048) + ns_flops(2048, 1024));
    cr_assert(near(out.cm.rank_opt_s[0], 2 * 16 * (dense / 8 + experts) / 5e14), "moe %.9g",
              out.cm.rank_opt_s[0]);
    step_release(&out);
    rule_error(MODEL("llama3.1-8b"),
               L("seq=4096", "optimizer-algorithm=muon", "offload-optimizer=0.5"),
               "optimizer-algorithm=muon is not offloaded");
    rule_error(MODEL("llama3.1-8b"), L("seq=4096", "muon-ns-steps=6"),
               "muon-ns-steps applies with optimizer-algorithm=muon");
}

/* Selective recompute of "moe" runs the whole MoE layer's forward again (Megatron-Core
 * moe_layer.py: its checkpointed custom_forward computes the shared experts, routes, dispatches,
 * runs the experts and combines), so Moonlight's 26 MoE layers at ep 8 recompute their shared
 * experts (2 x 4096 x 3 x 2048 x 2816 FLOPs), routed experts (2 x 4096 x 6 x 3 x 2048 x 1408)
 * and router (2 x 4096 x 2048 x 64) at 500 TFLOP/s (memory traffic free on the toy), once even
 * when shared_experts is named too, and repeat their two exchanges. */
Test(moe, recomputing_moe_recomputes_the_whole_layer)
{
    double shared = 2.0 * 4096 * 3 * 2048 * 2816, routed = 2.0 * 4096 * 6 * 3 * 2048 * 1408;
    double router = 2.0 * 4096 * 2048 * 64, layer = (shared + routed + router) / 5e14;
    run_ok(MODEL("moonlight-16b-a3b"), 8,
           L("seq=4096", "ep=8", "gpus=8", "microbatches=1", "recompute=selective",
             "recompute-modules=moe"));
    double moe = out.cm.stages[0].bwd.recompute, ep = out.cm.stages[0].bwd.ep;
    cr_assert(near(moe, 26 * layer), "recompute %.9g vs %.9g", moe, 26 * layer);
    step_release(&out);
    run_ok(MODEL("moonlight-16b-a3b"), 8,
           L("seq=4096", "ep=8", "gpus=8", "microbatches=1", "recompute=selective",
             "recompute-modules=moe,shared_experts"));
    cr_assert(near(out.cm.stages[0].bwd.recompute, moe), "shared experts counted once");
    step_release(&out);
    run_ok(MODEL("moonlight-16b-a3b"), 8, L("seq=4096", "ep=8", "gpus=8", "microbatches=1"));
    double exchange = 7.0 / 8 * 4096 * 6 * 2048 * 2 / 100e9; /* NVLink 100 GB/s */
    cr_assert(near(ep - out.cm.stages[0].bwd.ep, 26 * 2 * exchange), "the exchanges again: %.9g",
              ep - out.cm.stages[0].bwd.ep);
    step_release(&out);
}

/* Nemotron 3 Super's LatentMoE on 8 toy GPUs (ep 8, NVLink 100 GB/s): the dispatch and the
 * combine each move 7/8 of 8192 tokens x 22 copies x the 1024-wide latent x 2 bytes, not the
 * 4096-wide hidden state; the MoE layer's GEMMs are its router (4096 x 512), the two latent
 * projections (4096 x 1024 each, on all 8192 tokens: duplicated, not expert-parallel), its
 * shared expert (2 x 4096 x 5376) and 22 routed copies of an expert on the latent width (2 x
 * 1024 x 2688), all at 500 TFLOP/s.  Its weights on each GPU: the latent projections whole,
 * 64 of the 512 experts. */
Test(hybrid, latent_moe_moves_and_computes_on_the_latent_width)
{
    double s = 8192, bf16 = 1000e12 * 0.5;
    run_ok(MODEL("nemotron-3-super-120b-a12b"), 8,
           L("seq=8192", "microbatches=1", "ep=8", "gpus=8", "mtp-layers=0"));
    const struct cm_layer_view *moe = &out.rep.layer_view[MODEL_KIND_MOE];
    double exchange = 7.0 / 8.0 * s * 22 * 1024 * 2 / 100e9;
    cr_assert(near(moe->ep_fwd, 2.0 * exchange), "dispatch + combine %.9g vs %.9g", moe->ep_fwd,
              2.0 * exchange);
    double gemm = 2.0 * s * (4096.0 * 512 + 2.0 * 4096 * 1024 + 2.0 * 4096 * 5376 +
                             22.0 * 2 * 1024 * 2688) / bf16;
    cr_assert(near(moe->gemm_fwd, gemm), "GEMMs %.9g vs %.9g", moe->gemm_fwd, gemm);
    step_release(&out);
}

/* Megatron-Core's mtp_use_repeated_layer: the MTP module (Super: an attention and a MoE layer
 * after the 2h -> h projection) runs mtp-layers times, its weights held once. */
Test(hybrid, a_repeated_mtp_module_runs_twice_and_is_held_once)
{
    const char *const one[] = {"seq=8192", "microbatches=1", "ep=8", "gpus=8", NULL};
    const char *const twice[] = {"seq=8192", "microbatches=1", "ep=8", "gpus=8",
                                 "mtp-layers=2", "mtp-repeated-layer=true", NULL};
    const char *const none[] = {"seq=8192", "microbatches=1", "ep=8", "gpus=8", "mtp-layers=0",
                                NULL};
    run_ok(MODEL("nemotron-3-super-120b-a12b"), 8, none);
    double f0 = out.cm.stages[0].fwd.compute, p0 = out.cm.stages[0].params;
    step_release(&out);
    run_ok(MODEL("nemotron-3-super-120b-a12b"), 8, one);
    double f1 = out.cm.stages[0].fwd.compute, p1 = out.cm.stages[0].params;
    step_release(&out);
    run_ok(MODEL("nemotron-3-super-120b-a12b"), 8, twice);
    cr_assert(near(out.cm.stages[0].fwd.compute - f0, 2.0 * (f1 - f0)), "twice the work");
    cr_assert(near(out.cm.stages[0].params, p1), "held once: %.0f vs %.0f",
              out.cm.stages[0].params, p1);
    cr_assert_gt(p1, p0);
    step_release(&out);
    rule_error(MODEL("llama3.1-8b"), L("seq=4096", "mtp-repeated-layer=true"),
               "mtp-repeated-layer: llama3.1-8b trains no MTP module");
    rule_error(MODEL("nemotron-3-super-120b-a12b"),
               L("seq=8192", "ep=8", "gpus=8", "moe-shared-expert-overlap=true"),
               "does not overlap the shared experts of a LatentMoE model");
}

/* moe-shared-expert-overlap on Moonlight (2 shared experts run as one MLP of 2 x 1408), EP 8
 * in one toy node (NVLink 100 GB/s, no interference): each exchange moves 7/8 of 4096 x 6
 * copies x 2048 x 2 bytes, 0.88 ms, longer than the shared experts' FC1 or FC2, so the
 * forward's exposed exchanges shrink by all of their matmul time, 2 x 4096 x 3 x 2048 x 2816
 * FLOPs at 500 TFLOP/s, and the backward's by twice that (input and weight gradients), in
 * each of the 26 MoE layers. */
Test(moe, shared_experts_beside_the_dispatch_and_combine)
{
    const char *const apart[] = {"seq=4096", "ep=8", "gpus=8", "microbatches=1", NULL};
    const char *const beside[] = {"seq=4096", "ep=8", "gpus=8", "microbatches=1",
                                  "moe-shared-expert-overlap=true", NULL};
    run_ok(MODEL("moonlight-16b-a3b"), 8, apart);
    double f = out.cm.stages[0].fwd.ep, b = out.cm.stages[0].bwd.ep;
    step_release(&out);
    run_ok(MODEL("moonlight-16b-a3b"), 8, beside);
    double shared = 2.0 * 4096 * 3 * 2048 * 2816 / 5e14;
    cr_assert(f > 26 * 2 * 0.88e-3, "the exchanges outlast the shared work (%.6g)", f);
    cr_assert(near(f - out.cm.stages[0].fwd.ep, 26 * shared), "forward %.9g",
              f - out.cm.stages[0].fwd.ep);
    cr_assert(near(b - out.cm.stages[0].bwd.ep, 26 * 2 * shared), "backward %.9g",
              b - out.cm.stages[0].bwd.ep);
    step_release(&out);
    /* Under TP 2 with sequence parallelism the side stream also gathers the shared experts'
     * input and reduce-scatters their output (4096 x 2048 bf16 values, half over the link,
     * each way): the forward's exposed exchanges shrink by those too, and by half the matmul
     * time (each GPU computes half the shared experts). */
    run_ok(MODEL("moonlight-16b-a3b"), 8, L("seq=4096", "ep=8", "gpus=8", "microbatches=1",
                                            "tp=2", "sp=true", "overlap-tp-comm=false"));
    f = out.cm.stages[0].fwd.ep;
    step_release(&out);
    run_ok(MODEL("moonlight-16b-a3b"), 8,
           L("seq=4096", "ep=8", "gpus=8", "microbatches=1", "tp=2", "sp=true",
             "overlap-tp-comm=false", "moe-shared-expert-overlap=true"));
    double comm = 2.0 * 0.5 * 2.0 * 4096 * 2048 / 100e9;
    cr_assert(near(f - out.cm.stages[0].fwd.ep, 26 * (shared / 2.0 + comm)),
              "forward under TP %.9g", f - out.cm.stages[0].fwd.ep);
    step_release(&out);
    rule_error(MODEL("olmoe-1b-7b"),
               L("seq=4096", "ep=8", "gpus=8", "moe-shared-expert-overlap=true"),
               "applies to models with shared experts; olmoe-1b-7b has none");
    rule_error(MODEL("moonlight-16b-a3b"),
               L("seq=4096", "ep=8", "gpus=8", "moe-shared-expert-overlap=true",
                 "moe-dispatcher=allgather"),
               "needs moe-dispatcher=alltoall or deepep");
    rule_error(MODEL("moonlight-16b-a3b"),
               L("seq=4096", "ep=8", "gpus=8", "pp=2", "moe-shared-expert-overlap=true",
                 "overlap-ep-comm=true"),
               "exclude each other");
    rule_error(MODEL("llama3.1-8b"), L("seq=4096", "moe-shared-expert-overlap=true"),
               "applies to MoE models");
    rule_error(MODEL("llama3.1-8b"), L("seq=4096", "moe-router-fusion=false"),
               "moe-router-fusion applies to MoE models");
    rule_error(MODEL("olmoe-1b-7b"), L("seq=4096", "mla-down-proj=column"),
               "mla-down-proj applies to MLA models; olmoe-1b-7b has none");
}

/* A small GELU model written with parallel-block `kind` (none, shared-norm, two-norms). */
static const char *parallel_model(char *path, size_t len, const char *kind)
{
    snprintf(path, len, "/tmp/stepsim-test-parallel-%ld-%s.xml", (long)getpid(), kind);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f,
            "<?xml version=\"1.0\"?>\n<model name=\"par\">\n"
            "  <transformer layers=\"2\" hidden=\"1024\" ffn=\"4096\" heads=\"8\" "
            "vocab=\"1000\" max-seq=\"4096\" activation=\"gelu\" norm=\"layernorm\" "
            "position=\"rope\" tied-embeddings=\"false\" bias=\"false\" "
            "parallel-block=\"%s\"/>\n</model>\n",
            kind);
    fclose(f);
    return path;
}

/* Parallel blocks under TP 2 without SP (2 layers of 1024 tokens x 1024), collectives in line
 * (overlap-tp-backward false): summing attention's and the MLP's outputs before one all-reduce
 * halves the forward's; on a shared norm the
 * backward's too, and the block keeps one norm input and one norm output (2 + 2 bytes a token
 * and width) where a sequential layer keeps two of each; GPT-NeoX's two norms keep both and
 * reduce their inputs' gradients apart. */
Test(parallel_block, one_reduction_of_the_summed_outputs)
{
    static const char *const kinds[] = {"none", "shared-norm", "two-norms"};
    double fwd[3], bwd[3], act[3], params[3];
    for (int k = 0; k < 3; k++) {
        char path[256];
        run_ok(parallel_model(path, sizeof path, kinds[k]), 8,
               L("seq=1024", "tp=2", "gpus=2", "microbatches=1", "sp=false",
                 "overlap-tp-backward=false"));
        unlink(path);
        fwd[k] = out.cm.stages[0].fwd.tp;
        bwd[k] = out.cm.stages[0].bwd.tp;
        act[k] = out.cm.stages[0].act_bytes_mb;
        params[k] = out.cm.stages[0].params;
        step_release(&out);
    }
    /* one all-reduce of 1024 x 1024 bf16 between 2 GPUs over the toy's 100 GB/s NVLink; the
     * forward also holds the LM head's three small logit reductions, the backward the head's
     * input-gradient all-reduce, the same in all three */
    double ar = 2.0 * 1024 * 1024 / 1e11;
    cr_assert(near(bwd[0], 5 * ar) && near(bwd[1], 3 * ar) && near(bwd[2], 5 * ar),
              "backward %g %g %g", bwd[0], bwd[1], bwd[2]);
    cr_assert(near(fwd[0] - fwd[1], 2 * ar) && near(fwd[2], fwd[1]), "forward %g %g %g", fwd[0],
              fwd[1], fwd[2]);
    cr_assert(near(act[0] - act[1], 2 * 4.0 * 1024 * 1024), "kept %g", act[0] - act[1]);
    cr_assert_eq(act[2], act[0]);
    /* a LayerNorm (scale and shift) is held whole on each TP rank, not split */
    cr_assert(near(params[0] - params[1], 2 * 2.0 * 1024), "one layernorm fewer a layer");
}

/* Summing micro-batch gradients (grad-accumulation) on Llama-3.1-8B on one GPU, HBM at 1 TB/s
 * streamed whole: its 8,030,261,248 parameters (32 layers of 218,112,000, embedding and head
 * 2 x 128,256 x 4,096, final norm 4,096).  fp32-copy casts each bf16 gradient to fp32 and adds
 * it into the fp32 copy after every backward: 2 + 4 + 3 x 4 = 18 bytes a parameter; autograd
 * adds into the bf16 .grad (3 x 2 bytes) on 3 of 4 micro-batches: 4.5 bytes on average;
 * main-grad adds the bf16 .grad into a bf16 main_grad (16-bit reduction, the default): 2 + 2
 * x 2 = 6 bytes; the weight-gradient op carries it, the other ops do not change.  Fused has no
 * pass but the word embedding's add into main_grad (6 bytes an element of its 128,256 x 4,096;
 * every mode writes the embedding's dense gradient), which the others' pass includes. */
Test(grad_accumulation, a_pass_over_the_gradients_per_micro_batch)
{
    static const char *const kinds[] = {"fused", "fp32-copy", "autograd", "main-grad"};
    static const double bytes_per_param[] = {0.0, 18.0, 4.5, 6.0};
    const double params = 8030261248.0, embedding = 128256.0 * 4096;
    double wgt[4], fwd[4];
    for (int k = 0; k < 4; k++) {
        char set[64];
        snprintf(set, sizeof set, "grad-accumulation=%s", kinds[k]);
        run_ok(MODEL("llama3.1-8b"), 8,
               L("seq=4096", "microbatches=4", "hw.hbm-bandwidth=1TBps",
                 "hw.memory-efficiency=1", set));
        cr_assert(near(out.cm.stages[0].params, params), "params %.12g",
                  out.cm.stages[0].params);
        wgt[k] = out.cm.stages[0].wgt.compute;
        fwd[k] = out.cm.stages[0].fwd.compute;
        step_release(&out);
    }
    for (int k = 1; k < 4; k++) {
        cr_assert(near(wgt[k] - wgt[0], (bytes_per_param[k] * params - 6.0 * embedding) / 1e12),
                  "%s: %.9g s", kinds[k], wgt[k] - wgt[0]);
        cr_assert_eq(fwd[k], fwd[0]);
    }
    /* fp32-copy holds the fp32 gradients and the bf16 ones the last backward wrote: 6 bytes a
     * parameter where the others hold 2 */
    for (int k = 0; k < 4; k++) {
        char set[64];
        snprintf(set, sizeof set, "grad-accumulation=%s", kinds[k]);
        run_ok(MODEL("llama3.1-8b"), 8, L("seq=4096", "microbatches=4", set));
        struct cm_rank_memory mem;
        cm_rank_memory(&out.cm, &scn, &out.res, 0, &mem);
        cr_assert(near(mem.grads, (k == 1 ? 6.0 : 2.0) * params), "%s: %.12g B", kinds[k],
                  mem.grads);
        step_release(&out);
    }
}

Test(grad_accumulation, refused_where_gradients_are_sharded_every_micro_batch)
{
    rule_error(MODEL("llama3.1-8b"),
               L("seq=4096", "gpus=2", "zero=2", "grad-accumulation=fp32-copy"),
               "grad-accumulation=fp32-copy sums whole gradients, but ZeRO stage 2");
}

/* framework=deepspeed sums gradients as DeepSpeed's engines do when the scenario does not say:
 * bf16 through its BF16_Optimizer's fp32 copy, fp16 through autograd; a given value wins. */
Test(grad_accumulation, deepspeed_s_way_by_default)
{
    static const struct {
        const char *dtype, *given;
        int want;
    } cases[] = {
        {"dtype=bf16", NULL, GRAD_ACCUM_FP32_COPY},
        {"dtype=fp16", NULL, GRAD_ACCUM_AUTOGRAD},
        {"dtype=bf16", "grad-accumulation=fused", GRAD_ACCUM_FUSED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *sets[] = {"seq=4096", "microbatches=4", "framework=deepspeed",
                              "hardware=dgx-a100-80gb", cases[i].dtype, cases[i].given, NULL};
        run_ok(MODEL("llama3.1-8b"), 8, sets);
        cr_assert_eq(out.cm.cfg.grad_accumulation, cases[i].want, "case %zu", i);
        /* the report's layout line names a pass the fusion does not hide */
        char *text = report_text_and_json();
        char *named = strstr(text, "gradients summed ");
        if (cases[i].want == GRAD_ACCUM_FUSED)
            cr_assert_null(named, "case %zu", i);
        else
            cr_assert(named && strncmp(named + 17,
                                       cases[i].want == GRAD_ACCUM_AUTOGRAD ? "autograd;"
                                                                            : "fp32-copy;",
                                       9) == 0,
                      "case %zu: %s", i, text);
        free(text);
        step_release(&out);
    }
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=4096", "microbatches=4", "dtype=bf16"));
    cr_assert_eq(out.cm.cfg.grad_accumulation, GRAD_ACCUM_FUSED);
    step_release(&out);
}

/* Rotary embedding without Megatron's fusion (rope-fusion=false): 20 bytes per rotated element
 * of Q and K beyond a fused kernel, 26 more kernels forward and 14 backward.  Llama 3.1 8B,
 * seq 4096 on one GPU: Q and K rotate 4096 x (32 + 8) x 128 elements a layer.  Its passes are
 * all in the activations' type: an fp32 run moves twice the bytes in the same kernels. */
Test(rope, unfused_rope_moves_its_bytes_in_its_kernels)
{
    double df, db, bytes = 20.0 * 4096 * 40 * 128; /* 419,430,400 */
    delta_with(MODEL("llama3.1-8b"), "rope-fusion=false", &df, &db);
    cr_assert(near(df, 32 * (bytes / 1e12 + 26e-6)), "forward %.9g", df);
    cr_assert(near(db, 32 * (2 * bytes / 1e12 + 14e-6)), "backward %.9g", db);
    delta_at(MODEL("llama3.1-8b"), "dtype=fp32", "rope-fusion=false", &df, &db);
    cr_assert(near(df, 32 * (2 * bytes / 1e12 + 26e-6)), "fp32 forward %.9g", df);
    cr_assert(near(db, 32 * (4 * bytes / 1e12 + 14e-6)), "fp32 backward %.9g", db);
}

/* MLA's Q/K/V assembly (Moonlight-16B-A3B: 27 MLA layers, 16 heads, no-rope 128, rope 64,
 * value 128; seq 4096 on one GPU, 4096 x 16 = 65,536 token-heads), each way:
 *   fused (Megatron-Core's MLA kernels): 2 x 128 + 64 + 2 x 128 = 576 elements a token-head,
 *     75,497,472 bytes, one kernel; recomputing the up-projections runs it again;
 *   unfused: 4 x 128 + 3 x 64 + 2 x 128 = 960 elements, 125,829,120 bytes, three kernels, and
 *     the rotary parts (Q's 16 heads and K's shared one, 4096 x 64 x 17 elements) at 24 bytes:
 *     106,954,752 bytes forward, twice that backward, with 26 and 14 kernels. */
Test(rope, mla_assembles_q_k_and_v_by_copies_or_in_fused_kernels)
{
    double fused_asm = 2.0 * 576 * 65536, unfused_asm = 2.0 * 960 * 65536;
    double rope = 24.0 * 4096 * 64 * 17, df, db;
    delta_with(MODEL("moonlight-16b-a3b"), "rope-fusion=false", &df, &db);
    cr_assert_eq(scn.layers, 27);
    double want_f = 27 * ((unfused_asm - fused_asm + rope) / 1e12 + (3 + 26 - 1) * 1e-6);
    double want_b = 27 * ((unfused_asm - fused_asm + 2 * rope) / 1e12 + (3 + 14 - 1) * 1e-6);
    cr_assert(near(df, want_f), "forward %.9g vs %.9g", df, want_f);
    cr_assert(near(db, want_b), "backward %.9g vs %.9g", db, want_b);
    /* The recompute: the KV up-projection (512 x 16 x 256 weights, no Q LoRA) at the toy's
     * 500 TFLOP/s, and the fused assembly. */
    run_ok(MODEL("moonlight-16b-a3b"), 8,
           L("seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps", "recompute=selective",
             "recompute-modules=mla_up_proj"));
    double up = 2.0 * 4096 * (512.0 * 16 * 256) / 500e12;
    double want_r = 27 * (up + fused_asm / 1e12);
    cr_assert(near(out.cm.stages[0].bwd.recompute, want_r), "recompute %.9g vs %.9g",
              out.cm.stages[0].bwd.recompute, want_r);
    step_release(&out);
}

/* Backward TP time of Llama 3.1 8B at seq 4096, tp 2 inside a node (100 GB/s, no latency, no
 * interference) with `extra` set, and the same with overlap-tp-backward=false. */
static void tp_backward(const char *sp, const char *extra, double *with, double *without)
{
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "tp=2", "gpus=2", sp, extra));
    *with = out.cm.stages[0].bwd.tp;
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "tp=2", "gpus=2", sp, extra,
             "overlap-tp-backward=false"));
    *without = out.cm.stages[0].bwd.tp;
    step_release(&out);
}

/* A column-parallel linear's backward collectives beside its own GEMMs (Megatron-Core, TE).
 * Per GPU the QKV GEMM is 2 x 4096 x 4096 x 6144 / 2 FLOPs = 206.158 us at the toy's
 * 500 TFLOP/s, the MLP's gate + up GEMM 2 x 4096 x 4096 x 28672 / 2 = 962.07 us; the layer's
 * activation is 2 x 4096 x 4096 = 33,554,432 bytes.
 *  - without SP, each block's input-gradient all-reduce (2 x 1/2 x 33.55 MB at 100 GB/s =
 *    335.544 us) runs beside its weight-gradient GEMM: the QKV GEMM hides 206.158 us of it,
 *    the MLP's the whole;
 *  - with SP, each block's re-gather of its input (1/2 x 33.55 MB = 167.772 us) runs beside
 *    the input-gradient GEMM and its reduce-scatter (the same) beside the weight-gradient
 *    GEMM, all four hidden; the output gradient's all-gathers before the row-parallel GEMMs
 *    (2 x 167.772 us) still wait.
 * The LM head (column-parallel, 4.3 ms a GEMM) adds the same collectives as a block's first
 * linear, all hidden behind its own GEMMs: one all-reduce, or a re-gather and a
 * reduce-scatter; under SP the embedding lookup's gradient is gathered in line. */
Test(tp_backward, column_parallel_gemms_hide_their_own_collectives)
{
    double with, without, ar = 33554432.0 / 100e9, qkv = 2.0 * 4096 * 4096 * 6144 / 2 / 500e12;
    tp_backward("sp=false", "schedule=1f1b", &with, &without);
    cr_assert(near(without, 32 * 2 * ar + ar), "in line %.9g", without);
    cr_assert(near(without - with, 32 * (qkv + ar) + ar), "hidden %.9g vs %.9g", without - with,
              32 * (qkv + ar) + ar);
    double ag = ar / 2;
    tp_backward("sp=true", "schedule=1f1b", &with, &without);
    cr_assert(near(without, 32 * 6 * ag + 2 * ag + ag), "in line %.9g", without);
    cr_assert(near(with, 32 * 2 * ag + ag), "exposed %.9g vs %.9g", with, 32 * 2 * ag + ag);
    /* overlap-tp-comm overlaps all of it; the key then changes nothing */
    tp_backward("sp=true", "overlap-tp-comm=true", &with, &without);
    cr_assert(near(with, without));
}

/* Weight gradients run later as W ops (split-backward): the reduction launched beside them
 * has nothing to hide behind any more (TE's delay_wgrad_compute waits for it at once); the
 * sequence-parallel re-gathers still hide behind the input-gradient GEMMs.  Same toy as above:
 * without SP nothing is hidden; with SP both re-gathers (2 x 167.772 us a layer, each under
 * its GEMM) and the head's, and no reduce-scatter. */
Test(tp_backward, a_split_backward_leaves_the_reduction_exposed)
{
    double with, without, ag = 33554432.0 / 100e9 / 2;
    tp_backward("sp=false", "split-backward=true", &with, &without);
    cr_assert(near(with, without), "%.9g vs %.9g", with, without);
    tp_backward("sp=true", "split-backward=true", &with, &without);
    cr_assert(near(without - with, 32 * 2 * ag + ag), "hidden %.9g vs %.9g", without - with,
              32 * 2 * ag + ag);
}

/* torchtitan's DTensor linears keep the input their forward gathered, so the backward gathers
 * only the output gradients and reduces the input gradients: per layer 2 x (ag + rs), where
 * Megatron-Core's gather the input again, 2 x (2 ag + rs); the LM head reduces only.  Same toy
 * as above (all in line, ag = rs = 167.772 us): 32 x 4 + 1 + 1 (the embedding's gradient
 * gather) against 32 x 6 + 2 + 1. */
Test(tp_backward, torchtitan_keeps_the_gathered_input_for_the_weight_gradient)
{
    double ag = 33554432.0 / 100e9 / 2;
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "tp=2", "gpus=2", "sp=true", "framework=torchtitan"));
    double titan = out.cm.stages[0].bwd.tp;
    step_release(&out);
    cr_assert(near(titan, (32 * 4 + 1 + 1) * ag), "%.9g vs %.9g", titan, (32 * 4 + 1 + 1) * ag);
}

/* torch's async TP (torchtitan with overlap-tp-comm) fuses every collective with a matmul but
 * the backward reduce-scatters whose input sums several matmuls' gradients: Llama's attention
 * (wq, wk, wv) and gated MLP (w1, w3), two a layer, stay in line (async_tp_inline_reductions).
 * Same toy as above, whose GEMMs hide all the rest: 32 x 2 x 167.772 us more than
 * Megatron-Core's overlap exposes; the forward no different. */
Test(tp_backward, torch_async_tp_leaves_the_summed_input_gradients_reductions_in_line)
{
    double rs = 33554432.0 / 100e9 / 2, bwd[2], fwd[2];
    const char *fw[] = {"framework=megatron-core", "framework=torchtitan"};
    for (int i = 0; i < 2; i++) {
        run_ok(MODEL("llama3.1-8b"), 8,
               L("seq=4096", "microbatches=1", "tp=2", "gpus=2", "sp=true",
                 "overlap-tp-comm=true", fw[i]));
        bwd[i] = out.cm.stages[0].bwd.tp;
        fwd[i] = out.cm.stages[0].fwd.tp;
        step_release(&out);
    }
    cr_assert(near(bwd[1] - bwd[0], 32 * 2 * rs), "in line %.9g vs %.9g", bwd[1] - bwd[0],
              32 * 2 * rs);
    cr_assert(near(fwd[1], fwd[0]), "forward %.9g vs %.9g", fwd[1], fwd[0]);
}

/* torchtitan's Llama runs wq, wk, wv and w1, w3 as linears of their own: the backward sums
 * their input gradients, one fused pass of 3 reads and a write (8 bytes) per element of the
 * attention's input and one add (6 bytes) of the MLP's.  Llama 3.1 8B at seq 4096 on one GPU,
 * HBM at 1 TB/s, the toy's flat GEMM curve (so the split GEMMs take the fused one's time):
 * 32 x (8 + 6) x 4096 x 4096 / 1e12 s = 7.516 ms more backward, the forward no different. */
Test(separate_projections, torchtitan_sums_the_input_gradients_of_its_separate_linears)
{
    double fwd[2], bwd[2];
    const char *fw[] = {"framework=megatron-core", "framework=torchtitan"};
    for (int i = 0; i < 2; i++) {
        run_ok(MODEL("llama3.1-8b"), 8,
               L("seq=4096", "microbatches=1", "gpus=1", "hw.hbm-bandwidth=1TBps", fw[i]));
        fwd[i] = out.cm.stages[0].fwd.compute;
        bwd[i] = out.cm.stages[0].bwd.compute;
        step_release(&out);
    }
    double sums = 32.0 * (8.0 + 6.0) * 4096.0 * 4096.0 / 1e12;
    cr_assert(near(bwd[1] - bwd[0], sums), "%.9g vs %.9g", bwd[1] - bwd[0], sums);
    cr_assert(near(fwd[1], fwd[0]), "forward %.9g vs %.9g", fwd[1], fwd[0]);
}

/* On a GPU whose GEMMs slow down as they shrink (H100's measured curve), the separate
 * linears' smaller GEMMs take longer than the fused ones. */
Test(separate_projections, smaller_separate_gemms_run_slower_on_a_real_curve)
{
    double fwd[2];
    const char *fw[] = {"framework=megatron-core", "framework=torchtitan"};
    for (int i = 0; i < 2; i++) {
        struct sim_error err;
        scn_defaults(&scn);
        err_clear(&err);
        cr_assert_eq(scn_set(&scn, "model", MODEL("llama3.1-8b"), NULL, 0, &err), SIM_OK);
        cr_assert_eq(scn_set(&scn, "hardware", TOP_SRCDIR "/hardware/dgx-h100.xml", NULL, 0,
                             &err), SIM_OK, "%s", err.msg);
        const char *const *sets = L("seq=4096", "microbatches=1", "gpus=1", fw[i]);
        for (const char *const *a = sets; *a; a++)
            cr_assert_eq(scn_set_arg(&scn, *a, &err), SIM_OK, "%s: %s", *a, err.msg);
        cr_assert_eq(step_run(&scn, &out, &err), SIM_OK, "%s", err.msg);
        fwd[i] = out.cm.stages[0].fwd.compute;
        step_release(&out);
    }
    cr_assert_gt(fwd[1], fwd[0] * 1.001, "%.9g vs %.9g", fwd[1], fwd[0]);
}

/* A skinny GEMM is no faster than HBM moves its operands: under TP 8, torchtitan's K and V
 * projections of Llama 3.1 8B each read the whole gathered input [4096 x 4096] for 128 output
 * columns.  Toy: 500 TFLOPS of bf16 GEMM at any size, HBM at 2 TB/s.  K (and V): 2 x 4096 x
 * 4096 x 128 FLOPs = 8.59 us of compute, but 2 x (4096 x 4096 + 4096 x 128) + 2 x 4096 x 128
 * bytes = 17.83 us of HBM; Q (512 columns): 34.36 us of compute against 20.97 us of HBM.
 * Megatron-Core's fused QKV (768 columns): 51.54 us of compute, HBM 23.07 us. */
Test(separate_projections, a_skinny_projection_takes_its_hbm_time)
{
    double gemm[2];
    const char *fw[] = {"framework=megatron-core", "framework=torchtitan"};
    for (int i = 0; i < 2; i++) {
        run_ok(MODEL("llama3.1-8b"), 8,
               L("seq=4096", "microbatches=1", "tp=8", "gpus=8", "sp=true",
                 "hw.hbm-bandwidth=2TBps", fw[i]));
        gemm[i] = out.rep.layer_view[0].gemm_fwd;
        step_release(&out);
    }
    double M = 4096, K = 4096, rate = 500e12, bw = 2e12;
    double k_proj = 2 * (M * K + K * 128) / bw + 2 * M * 128 / bw;
    double q_proj = 2 * M * K * 512 / rate, fused = 2 * M * K * 768 / rate;
    cr_assert(k_proj > 2 * M * K * 128 / rate, "the K projection is HBM-bound here");
    cr_assert(near(gemm[1] - gemm[0], q_proj + 2 * k_proj - fused), "%.9g vs %.9g",
              gemm[1] - gemm[0], q_proj + 2 * k_proj - fused);
}

/* torch's async TP fuses an all-gather only with matmuls reading its output directly; row-wise
 * Float8 quantizes the gathered 16-bit input first, so each block's gather (two a layer, 16
 * bits, 33,554,432 bytes gathered over TP 2) runs in line, where tensor-wise Float8's fp8
 * gathers hide behind the toy's GEMMs: 32 x 2 gathers more in line. */
Test(tp_backward, torch_async_tp_leaves_row_wise_float8_gathers_in_line)
{
    double ag = 33554432.0 / 100e9 / 2, fwd[2];
    const char *recipe[] = {"fp8-recipe=current", "fp8-recipe=rowwise"};
    for (int i = 0; i < 2; i++) {
        run_ok(MODEL("llama3.1-8b"), 8,
               L("seq=4096", "microbatches=1", "tp=2", "gpus=2", "sp=true", "dtype=fp8",
                 recipe[i], "overlap-tp-comm=true", "framework=torchtitan"));
        fwd[i] = out.cm.stages[0].fwd.tp;
        step_release(&out);
    }
    /* (both leave the LM head's own 16-bit gather in line) */
    cr_assert(near(fwd[1] - fwd[0], 32 * 2 * ag), "row-wise %.9g more, want %.9g",
              fwd[1] - fwd[0], 32 * 2 * ag);
}

/* torchtitan's DTensor layers reduce the input gradient in line: its default is false. */
Test(tp_backward, torchtitan_runs_them_in_line_unless_given)
{
    double with, without;
    tp_backward("sp=false", "framework=torchtitan", &with, &without);
    cr_assert(near(with, without), "%.9g vs %.9g", with, without);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "tp=2", "gpus=2", "framework=torchtitan",
             "overlap-tp-backward=true"));
    cr_assert_lt(out.cm.stages[0].bwd.tp, without);
    step_release(&out);
}

/* Compute of one micro-batch of Llama 3.1 8B at seq 8192 over cp 2 (4096 tokens a GPU) in a
 * node, HBM at 1 TB/s, 1 us a launch, with the ring (p2p) or the all-gather. */
static void cp_compute(const char *type, double *fwd, double *bwd)
{
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=8192", "cp=2", "gpus=2", "microbatches=1", "hw.hbm-bandwidth=1TBps",
             "hw.kernel-overhead=1us", type));
    *fwd = out.cm.stages[0].fwd.compute;
    *bwd = out.cm.stages[0].bwd.compute;
    step_release(&out);
}

/* Transformer Engine's ring runs copies and corrections the all-gather does not.  Per GPU:
 * output and Q 4096 x 32 x 128 x 2 bytes = 33,554,432 (U), K with V 4096 x 8 x 256 x 2 =
 * 16,777,216 (KV); 2 ring steps.
 *  - forward: the send buffer 2 KV, the zeroed output U, two corrections 2 x 3 U:
 *    268,435,456 bytes, and 1 + 2 x 2 + 2 = 7 launches;
 *  - backward: the packed buffer 2 KV, the diagonal step 3 U + 5 KV, the other step
 *    max(1.5 U + 5 KV, 3 U + 2.5 KV) = 3 U + 2.5 KV: 360,710,144 bytes, 1 + 2 x 3 + 1 = 8
 *    launches. */
Test(cp, the_ring_copies_and_corrects_beside_its_kernels)
{
    double ag_f, ag_b, ring_f, ring_b;
    cp_compute("cp-comm-type=allgather", &ag_f, &ag_b);
    cp_compute("cp-comm-type=p2p", &ring_f, &ring_b);
    cr_assert(near(ring_f - ag_f, 32 * (268435456.0 / 1e12 + 7e-6)), "forward %.9g",
              ring_f - ag_f);
    cr_assert(near(ring_b - ag_b, 32 * (360710144.0 / 1e12 + 8e-6)), "backward %.9g",
              ring_b - ag_b);
}

/* attention-kernel="fa2" runs the attention core at the hardware's fa2-attention-share of its
 * curve (0.5 on this toy GPU: twice the time, forward and backward); nothing else changes.  A
 * GPU that gives no FlashAttention-2 rate refuses it, and so does unfused attention. */
Test(attention, fa2_runs_at_the_hardware_files_share_of_the_curve)
{
    const char *const *best = L("seq=4096", "microbatches=1");
    const char *const *fa2 = L("seq=4096", "microbatches=1", "attention-kernel=fa2");
    toy_step_on(MODEL("llama3.1-8b"), 8, "fa2-attention-share=\"0.5\"", best, &scn, &out);
    struct cm_layer_view b = out.rep.layer_view[0];
    step_release(&out);
    toy_step_on(MODEL("llama3.1-8b"), 8, "fa2-attention-share=\"0.5\"", fa2, &scn, &out);
    const struct cm_layer_view *f = &out.rep.layer_view[0];
    cr_assert(near(f->attn_fwd, 2.0 * b.attn_fwd), "forward %.9g vs %.9g", f->attn_fwd,
              b.attn_fwd);
    cr_assert(near(f->attn_bwd, 2.0 * b.attn_bwd), "backward");
    cr_assert(near(f->gemm_fwd, b.gemm_fwd), "GEMMs unchanged");
    step_release(&out);
    rule_error(MODEL("llama3.1-8b"), fa2, "gives no FlashAttention-2 rate");
    rule_error(MODEL("llama3.1-8b"),
               L("seq=4096", "microbatches=1", "attention=unfused", "attention-kernel=fa2"),
               "attention-kernel applies to attention=flash");
}

/* attention-step-share is what a step keeps of the attention kernel's rate, forward and
 * backward: at 0.5 the core takes twice as long -- on the toy GPU 0.25 x 0.5 of 1000 TFLOPS,
 * by hand -- and nothing else moves.  calibrate refits it (hw.attention-step-share). */
Test(attention, a_step_keeps_the_shared_share_of_the_kernels_rate)
{
    const char *const *sets = L("seq=4096", "microbatches=1");
    toy_step(MODEL("llama3.1-8b"), 8, sets, &scn, &out);
    struct cm_layer_view whole = out.rep.layer_view[0];
    double step = out.rep.step_s;
    step_release(&out);
    toy_step_on(MODEL("llama3.1-8b"), 8, "attention-step-share=\"0.5\"", sets, &scn, &out);
    const struct cm_layer_view *half = &out.rep.layer_view[0];
    cr_assert(near(half->attn_fwd, causal_core_flops(S) / (1000e12 * 0.25 * 0.5)), "forward %.9g",
              half->attn_fwd);
    cr_assert(near(half->attn_bwd, 2.0 * whole.attn_bwd), "backward %.9g", half->attn_bwd);
    cr_assert(near(half->gemm_fwd, whole.gemm_fwd), "GEMMs unchanged");
    cr_assert(near(out.rep.step_s - step, 32 * (whole.attn_fwd + whole.attn_bwd)),
              "the step grows by the attention time again: %.9g", out.rep.step_s - step);
    step_release(&out);
}

/* A model with latent attention (Moonlight, DeepSeek-V3's MLA) takes the hardware file's
 * mla-attention-backward-ratio where one is given: 0.25 on this toy GPU, 10x the forward's
 * time, where Llama takes the attention-backward-ratio, 0.5: 5x. */
Test(attention, latent_attention_backward_at_its_own_ratio)
{
    const char *gpu = "attention-backward-ratio=\"0.5\" mla-attention-backward-ratio=\"0.25\"";
    const char *const *sets = L("seq=4096", "microbatches=1");
    toy_step_on(MODEL("moonlight-16b-a3b"), 8, gpu, sets, &scn, &out);
    const struct cm_layer_view *v = &out.rep.layer_view[0];
    cr_assert(v->attn_fwd > 0.0);
    cr_assert(near(v->attn_bwd, 10.0 * v->attn_fwd), "MLA backward %.9g", v->attn_bwd);
    step_release(&out);
    toy_step_on(MODEL("llama3.1-8b"), 8, gpu, sets, &scn, &out);
    v = &out.rep.layer_view[0];
    cr_assert(near(v->attn_bwd, 5.0 * v->attn_fwd), "GQA backward %.9g", v->attn_bwd);
    step_release(&out);
}

/* The attention backward runs 2.5x the forward's FLOPs at the hardware file's
 * attention-backward-ratio of its rate: 0.5 on this toy GPU, 5x the forward's time; 2.5 / 0.86
 * when the file does not say.  The forward is the same either way. */
Test(attention, backward_at_the_hardware_files_ratio_of_the_forward)
{
    const char *const *sets = L("seq=4096", "microbatches=1");
    toy_step_on(MODEL("llama3.1-8b"), 8, "", sets, &scn, &out);
    struct cm_layer_view plain = out.rep.layer_view[0];
    step_release(&out);
    toy_step_on(MODEL("llama3.1-8b"), 8, "attention-backward-ratio=\"0.5\"", sets, &scn, &out);
    const struct cm_layer_view *half = &out.rep.layer_view[0];
    cr_assert(near(plain.attn_bwd, 2.5 / 0.86 * plain.attn_fwd), "default %.9g", plain.attn_bwd);
    cr_assert(near(half->attn_fwd, plain.attn_fwd), "forward unchanged");
    cr_assert(near(half->attn_bwd, 5.0 * half->attn_fwd), "backward %.9g", half->attn_bwd);
    cr_assert(near(half->gemm_bwd, plain.gemm_bwd), "GEMMs unchanged");
    step_release(&out);
}

#define FP8_ATTN_GPU                                                                           \
    "fp8-attention-gain=\"2\" fp8-attention-backward-gain=\"0.5\" "                           \
    "mxfp8-attention-gain=\"4\" mxfp8-attention-backward-gain=\"1\" "                         \
    "fp8-gemm-layouts=\"any\"" /* a Blackwell GPU: MXFP8 runs */

/* The first layer's view of Llama 3.1 8B on the fp8-attention toy GPU, one run per set list. */
static void fp8_attn_views(const char *const *const *runs, int n, struct cm_layer_view *v)
{
    for (int i = 0; i < n; i++) {
        toy_step_on(MODEL("llama3.1-8b"), 8, FP8_ATTN_GPU, runs[i], &scn, &out);
        v[i] = out.rep.layer_view[0];
        step_release(&out);
    }
}

/* fp8-attention runs the attention core at the hardware file's fp8 gains over the 16-bit
 * curve: on this toy GPU per-tensor fp8 twice as fast forward and half as fast backward, MXFP8
 * four times as fast forward and as fast backward; the GEMMs do not move. */
Test(attention, fp8_attention_at_the_hardware_files_gains)
{
    const char *const *base = L("seq=4096", "microbatches=1", "dtype=fp8");
    const char *const *fp8 = L("seq=4096", "microbatches=1", "dtype=fp8", "fp8-attention=true");
    const char *const *mx = L("seq=4096", "microbatches=1", "dtype=fp8", "fp8-recipe=mxfp8",
                              "fp8-attention=true");
    const char *const *mx_base = L("seq=4096", "microbatches=1", "dtype=fp8", "fp8-recipe=mxfp8");
    struct cm_layer_view v[4];
    const char *const *const runs[] = {base, fp8, mx_base, mx};
    fp8_attn_views(runs, 4, v);
    cr_assert(near(v[1].attn_fwd, v[0].attn_fwd / 2.0), "fp8 forward %.9g", v[1].attn_fwd);
    cr_assert(near(v[1].attn_bwd, v[0].attn_bwd / 0.5), "fp8 backward %.9g", v[1].attn_bwd);
    cr_assert(near(v[1].gemm_fwd, v[0].gemm_fwd), "GEMMs unchanged");
    cr_assert(near(v[3].attn_fwd, v[2].attn_fwd / 4.0), "MXFP8 forward %.9g", v[3].attn_fwd);
    cr_assert(near(v[3].attn_bwd, v[2].attn_bwd), "MXFP8 backward %.9g", v[3].attn_bwd);
}

/* NVFP4 training runs fp8 attention per-tensor scaled (Transformer Engine's current scaling
 * beside its NVFP4 recipe), at the per-tensor gains: twice as fast forward and half as fast
 * backward on the toy GPU (not MXFP8's four and one); the GEMMs stay NVFP4. */
Test(attention, fp8_attention_under_nvfp4_at_the_per_tensor_gains)
{
    const char *const *base = L("seq=4096", "microbatches=1", "dtype=nvfp4");
    const char *const *fp8 = L("seq=4096", "microbatches=1", "dtype=nvfp4", "fp8-attention=true");
    struct cm_layer_view v[2];
    const char *const *const runs[] = {base, fp8};
    fp8_attn_views(runs, 2, v);
    cr_assert(near(v[1].attn_fwd, v[0].attn_fwd / 2.0), "forward %.9g", v[1].attn_fwd);
    cr_assert(near(v[1].attn_bwd, v[0].attn_bwd / 0.5), "backward %.9g", v[1].attn_bwd);
    cr_assert(near(v[1].gemm_fwd, v[0].gemm_fwd), "GEMMs unchanged");
}

/* fp8 attention's casts (Llama 3.1 8B, seq 4096, one GPU, HBM at 1 TB/s): Q, K and V (32 + 2 x 8
 * heads of 128) cast to fp8 and the output (32 x 128) cast back, 3 bytes an element, in each
 * pass: 3 x 4096 x 10240 bytes = 0.12582912 ms forward and backward alike. */
Test(attention, fp8_attention_casts)
{
    const char *const *base =
        L("seq=4096", "microbatches=1", "dtype=fp8", "hw.hbm-bandwidth=1TBps");
    const char *const *fp8 = L("seq=4096", "microbatches=1", "dtype=fp8", "hw.hbm-bandwidth=1TBps",
                               "fp8-attention=true");
    toy_step_on(MODEL("llama3.1-8b"), 8, FP8_ATTN_GPU, base, &scn, &out);
    struct cm_layer_view b = out.rep.layer_view[0];
    step_release(&out);
    toy_step_on(MODEL("llama3.1-8b"), 8, FP8_ATTN_GPU, fp8, &scn, &out);
    const struct cm_layer_view *f = &out.rep.layer_view[0];
    double casts = 3.0 * 4096 * 10240 / 1e12;
    cr_assert(near(f->quant_fwd - b.quant_fwd, casts), "forward %.9g", f->quant_fwd - b.quant_fwd);
    cr_assert(near(f->quant_bwd - b.quant_bwd, casts), "backward %.9g", f->quant_bwd - b.quant_bwd);
    step_release(&out);
}

/* Under fp8 attention cuDNN's backward of a sliding-window layer runs the whole causal core
 * (flash_bwd_core_flops): gpt-oss-20b at 4096 tokens on the toy GPU, whose attention rate is
 * flat, so a local layer's backward takes a global layer's time exactly, while its forward
 * keeps the window's share of the keys, (s w - w (w - 1) / 2) / (s^2 / 2) = 516160 / 8388608,
 * as both passes do without fp8 attention.  A chunked window (Llama 4 Scout, 8192-token chunks
 * at 16384 tokens: half the causal pairs) keeps its share in the backward too. */
Test(attention, fp8_attention_backward_of_a_sliding_window_runs_the_whole_causal_core)
{
    const double window_share = 516160.0 / (0.5 * 4096.0 * 4096.0);
    const char *const *sets[] = {
        L("seq=4096", "microbatches=1", "dtype=fp8"),
        L("seq=4096", "microbatches=1", "dtype=fp8", "fp8-attention=true")};
    for (int fp8 = 0; fp8 < 2; fp8++) {
        toy_step_on(MODEL("gpt-oss-20b"), 8, FP8_ATTN_GPU, sets[fp8], &scn, &out);
        const struct cm_layer_view *local = &out.rep.layer_view[3];
        const struct cm_layer_view *global = &out.rep.layer_view[1];
        cr_assert_eq(local->layer, 0, "the first local layer");
        double bwd_share = fp8 ? 1.0 : window_share;
        cr_assert(near(local->attn_fwd / global->attn_fwd, window_share), "forward, fp8 %d", fp8);
        cr_assert(near(local->attn_bwd / global->attn_bwd, bwd_share), "backward %.9g, fp8 %d",
                  local->attn_bwd / global->attn_bwd, fp8);
        step_release(&out);
    }
    toy_step_on(MODEL("llama4-scout-17b-16e"), 8, FP8_ATTN_GPU,
                L("seq=16384", "microbatches=1", "dtype=fp8", "fp8-attention=true"), &scn, &out);
    const struct cm_layer_view *local = &out.rep.layer_view[3];
    const struct cm_layer_view *global = &out.rep.layer_view[1];
    cr_assert(local->layer >= 0 && global->layer >= 0, "a local and a global MoE layer");
    cr_assert(near(local->attn_bwd / global->attn_bwd, 0.5), "chunked backward %.9g",
              local->attn_bwd / global->attn_bwd);
    step_release(&out);
}

/* fp8-attention's rules: fp8 training, flash attention by Transformer Engine's kernel, and a
 * GPU whose file gives the recipe's rates. */
Test(attention, fp8_attention_rules)
{
    const char *m = MODEL("llama3.1-8b");
    rule_error_on(m, FP8_ATTN_GPU, L("seq=4096", "microbatches=1", "fp8-attention=true"),
                  "fp8-attention applies to dtype=fp8 or nvfp4");
    rule_error_on(m, FP8_ATTN_GPU,
                  L("seq=4096", "microbatches=1", "dtype=fp8", "attention=unfused",
                    "fp8-attention=true"),
                  "fp8-attention applies to attention=flash");
    rule_error_on(m, FP8_ATTN_GPU " fa2-attention-share=\"0.5\"",
                  L("seq=4096", "microbatches=1", "dtype=fp8", "attention-kernel=fa2",
                    "fp8-attention=true"),
                  "not attention-kernel=fa2");
    rule_error_on(m, "", L("seq=4096", "microbatches=1", "dtype=fp8", "fp8-attention=true"),
                  "toy gives no fp8 attention rate (gpu fp8-attention-gain)");
    rule_error_on(m,
                  "fp8-attention-gain=\"2\" fp8-attention-backward-gain=\"0.5\" "
                  "fp8-gemm-layouts=\"any\"",
                  L("seq=4096", "microbatches=1", "dtype=fp8", "fp8-recipe=mxfp8",
                    "fp8-attention=true"),
                  "toy gives no MXFP8 attention rate (gpu mxfp8-attention-gain)");
}

/* Unfused attention (Llama 3.1 8B, seq 4096, one GPU, HBM at 1 TB/s): Q K^T writes the
 * 32 x 4096 x 4096 = 536,870,912 16-bit scores and scores x V reads them back, each with two
 * 4096 x 32 x 128 operands: 1,140,850,688 bytes, 1.141 ms at 1 TB/s against 0.275 ms of
 * FLOPs (2 x 4096^2 x 32 x 128 at the toy's 500 TFLOP/s), so the traffic sets each; the
 * softmax reads and writes every score (2.147 ms).  Flash attention: the causal core at
 * 250 TFLOP/s. */
Test(attention, unfused_attention_is_bound_by_its_score_traffic)
{
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps", "attention=unfused"));
    double unfused = out.cm.stages[0].fwd.compute;
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps"));
    double flash = out.cm.stages[0].fwd.compute;
    step_release(&out);
    double gemm = 1140850688.0 / 1e12, softmax = 4.0 * 536870912.0 / 1e12;
    double want = 32 * (2 * gemm + softmax - causal_core_flops(4096) / 250e12);
    cr_assert(near(unfused - flash, want), "%.9g vs %.9g", unfused - flash, want);
}

/* Without moe_router_fusion (Megatron-Core before 0.13, or a launch line without
 * --moe-router-fusion) the router's top-k and aux loss run as PyTorch ops: a softmax router
 * 13 more launches a MoE layer forward and 8 backward (OLMoE: 16 MoE layers), a group-limited
 * one 43 and 22 (DeepSeek-V3: 58 MoE layers after 3 dense ones, and its MTP module's). */
Test(launches, an_unfused_router_launches_its_pytorch_ops)
{
    double f0, b0, w0, f, b, w;
    launch_seconds(MODEL("olmoe-1b-7b"), "ep=8", &f0, &b0, &w0);
    launch_seconds(MODEL("olmoe-1b-7b"), "moe-router-fusion=false", &f, &b, &w);
    double extra = 2.0 * (64 - 1); /* ep 1 here: one FC1 and FC2 more per expert but one */
    cr_assert(near(f, 16 * (6 + 5 + 23 + 13 + extra) * 1e-6), "forward %.9g", f);
    cr_assert(near(b, 16 * (11 + 9 + 14 + 8 + extra) * 1e-6), "backward %.9g", b);
    cr_assert(near(w, w0 + 16 * (64 / 1 - 64 / 8) * 2 * 1e-6), "weight gradient %.9g", w);
    launch_seconds(MODEL("deepseek-v3"), "ep=256", &f0, &b0, &w0);
    launch_seconds(MODEL("deepseek-v3"), "moe-router-fusion=false", &f, &b, &w);
    double ep1 = 59 * 2.0 * (256 - 1); /* ep 1 against 256: the experts' FC1 and FC2 */
    cr_assert(near(f - f0, (59 * 43 + ep1) * 1e-6), "DeepSeek-V3 forward %.9g", f - f0);
    cr_assert(near(b - b0, (59 * 22 + ep1) * 1e-6), "DeepSeek-V3 backward %.9g", b - b0);
}

/* The backward of a token permutation is the inverse permutation of the gradient, one read
 * and one write like the forward; the rest of the element-wise work runs twice the forward's.
 * OLMoE at seq 4096 on one GPU, HBM 1 TB/s, the alltoall dispatcher with 64 experts on the
 * GPU: four passes over 4096 x 8 routed copies of 2048 bf16 values, read and written:
 * 2 x 2 x 4 x 4096 x 8 x 2048 = 1,073,741,824 bytes a layer. */
Test(elementwise, a_permutation_backward_moves_what_its_forward_moved)
{
    run_ok(MODEL("olmoe-1b-7b"), 8, L("seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps"));
    const struct cm_layer_view *v = &out.rep.layer_view[1];
    cr_assert_eq(v->layer, 0, "OLMoE's first layer is MoE");
    double permute = 1073741824.0 / 1e12;
    cr_assert(near(v->elem_bwd, 2.0 * v->elem_fwd - permute), "backward %.9g, forward %.9g",
              v->elem_bwd, v->elem_fwd);
    step_release(&out);
}

/* moe-router-dtype=fp32: the gating GEMM's input cast to fp32 and its gradient cast back (6
 * bytes per element of the 4096 x 2048 input each way: 50,331,648 bytes at 1 TB/s); the toy
 * GPU's fp32 peak and curve are its bf16 ones (and it has no TF32 peak), so the GEMM takes the
 * same time. */
Test(router, an_fp32_router_casts_its_input)
{
    run_ok(MODEL("olmoe-1b-7b"), 8, L("seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps"));
    double r16 = out.rep.layer_view[1].router_fwd, g16 = out.rep.layer_view[1].gemm_fwd;
    step_release(&out);
    run_ok(MODEL("olmoe-1b-7b"), 8,
           L("seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps", "moe-router-dtype=fp32"));
    cr_assert(near(out.rep.layer_view[1].router_fwd - r16, 6.0 * 4096 * 2048 / 1e12),
              "router %.9g vs %.9g", out.rep.layer_view[1].router_fwd, r16);
    cr_assert(near(out.rep.layer_view[1].gemm_fwd, g16));
    step_release(&out);
    /* an fp32 run's router input is fp32 already: nothing cast */
    run_ok(MODEL("olmoe-1b-7b"), 8,
           L("seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps", "dtype=fp32"));
    double r32 = out.rep.layer_view[1].router_fwd;
    step_release(&out);
    run_ok(MODEL("olmoe-1b-7b"), 8,
           L("seq=4096", "microbatches=1", "hw.hbm-bandwidth=1TBps", "dtype=fp32",
             "moe-router-dtype=fp32"));
    cr_assert(near(out.rep.layer_view[1].router_fwd, r32), "fp32 run's router %.9g vs %.9g",
              out.rep.layer_view[1].router_fwd, r32);
    step_release(&out);
}

/* MLA's down-projections under TP 2 with sequence parallelism (Moonlight: hidden 2048, KV
 * LoRA 512, rotary 64, no Q LoRA; seq 4096; NVLink 100 GB/s, no latency: an all-gather of B
 * bytes over 2 GPUs takes B / 2 / 100 GB/s).  Column-parallel (Megatron-Core <= 0.13) each
 * gathers the layer's input where the standard block gathers it once, and the KV one's output
 * (512 + 64 values a token) is gathered over TP; duplicated (0.14+) no input gather at all,
 * only the shared rotary key part (64).  Forward difference:
 * 2 x [4096 x 2048] + [4096 x 576] - [4096 x 64] bf16 values gathered. */
Test(mla, column_parallel_down_projections_gather_the_layer_input)
{
    const char *const base[] = {"seq=4096", "microbatches=1", "tp=2", "sp=true",
                                "overlap-tp-comm=false", NULL};
    run_ok(MODEL("moonlight-16b-a3b"), 8, base);
    double dup = out.rep.layer_view[0].tp_fwd;
    step_release(&out);
    run_ok(MODEL("moonlight-16b-a3b"), 8,
           L(base[0], base[1], base[2], base[3], base[4], "mla-down-proj=column"));
    double gather = 2.0 / 2.0 / 100e9; /* seconds per gathered value */
    double want = gather * 4096 * (2.0 * 2048 + 576 - 64);
    cr_assert(near(out.rep.layer_view[0].tp_fwd - dup, want), "column %.9g duplicated %.9g",
              out.rep.layer_view[0].tp_fwd, dup);
    step_release(&out);
}

/* A MoE layer's routed experts are reached through the dispatcher from the GPU's own sequence
 * shard: under TP 2 with sequence parallelism only its attention block gathers and
 * reduce-scatters.  OLMoE (no shared experts) at seq 4096 on the toy node (100 GB/s, no
 * latency): 4096 x 2048 bf16 values each way, half of them over the link. */
Test(moe, routed_experts_add_no_tp_collective)
{
    run_ok(MODEL("olmoe-1b-7b"), 8,
           L("seq=4096", "microbatches=1", "tp=2", "sp=true", "overlap-tp-comm=false"));
    const struct cm_layer_view *v = &out.rep.layer_view[1];
    double one = 0.5 * 2.0 * 4096 * 2048 / 100e9;
    cr_assert(near(v->tp_fwd, 2.0 * one), "forward: one gather, one reduce-scatter %.9g",
              v->tp_fwd);
    cr_assert(near(v->tp_bwd, 3.0 * one), "backward: two gathers, one reduce-scatter %.9g",
              v->tp_bwd);
    step_release(&out);
}

/* framework=deepseek with fp8 GEMMs keeps what DeepSeek-V3's training caches (DeepSeek-V3
 * report, arXiv:2412.19437, sec. 3.3.3): the routed experts' dispatched tokens (FC1's input)
 * and SwiGLU input (FC1's output) in its fp8 of 1x128 tiles, 1 + 4/128 bytes an element, not
 * 16-bit; the attention output (the projection's input) in E5M6, 1.5 bytes, not the 1 + 4/128 of
 * a blockwise fp8 input.  DeepSeek-V3 at 512 tokens, tp 1, moe-load 1: a MoE layer keeps 0.96875
 * bytes less of 512 x 8 x 7168 dispatched and 512 x 8 x 2 x 2048 FC1 outputs, and every layer
 * 0.46875 bytes more of 512 x 128 x 128 attention outputs, than without a framework. */
Test(cm_work, deepseek_caches_the_moe_in_fp8_and_the_attention_output_in_e5m6)
{
    const char *const base[] = {"framework=auto", "schedule=dualpipe", "pp=2", "ep=4",
                                "seq=512", "microbatches=4", "first-stage-layers=31", "dtype=fp8",
                                "fp8-recipe=blockwise", NULL};
    const char *ds[sizeof base / sizeof *base];
    memcpy(ds, base, sizeof base);
    ds[0] = "framework=deepseek";
    run_ok(MODEL("deepseek-v3"), 8, base);
    double layers = out.cm.stages[0].layers, other = out.cm.stages[0].act_bytes_mb;
    step_release(&out);
    run_ok(MODEL("deepseek-v3"), 8, ds);
    cr_assert_eq(out.cm.stages[0].layers, layers);
    double moe_layers = layers - 3.0; /* first_k_dense_replace = 3 */
    double fp8 = 1.0 + 4.0 / 128.0;
    double less = (2.0 - fp8) * 512.0 * 8.0 * (7168.0 + 2.0 * 2048.0);
    double more = (1.5 - fp8) * 512.0 * 128.0 * 128.0;
    double want = moe_layers * less - layers * more;
    cr_assert(near(other - out.cm.stages[0].act_bytes_mb, want), "%.12g vs %.12g (%g layers)",
              other - out.cm.stages[0].act_bytes_mb, want, layers);
    step_release(&out);
}
