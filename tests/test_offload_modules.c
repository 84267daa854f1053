/* test_offload_modules: fine-grained activation offloading (offload-modules, Megatron-Core's
 * --offload-modules) against hand-computed bytes and seconds on the toy GPU (tests/helpers.c
 * toy_hardware: bf16 1000 TFLOPS, GEMMs at 50%, attention at 25%, no launch cost, no
 * overlap interference, a 10 GB/s host link), and the rules that refuse it. */
#include <criterion/criterion.h>
#include <math.h>

#include "helpers.h"
#include "report.h"
#include "step.h"

#define MODEL(name) TOP_SRCDIR "/models/" name ".xml"
#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define near(a, b) (fabs((a) - (b)) <= 1e-9 + 1e-6 * fabs(b))

static struct scenario scn;
static struct step_output out;

/* Llama-3.1-8B: 32 layers, hidden 4096, Q 32 x 128, K and V 8 x 128 each, FFN 14336. */
static const double H = 4096, KV = 1024, FFN = 14336, LAYERS = 32;

/* One Llama-3.1-8B layer's forward on the toy GPU at `s` tokens: its GEMMs at 500 TFLOPS and
 * the causal attention core (half of Q K^T and scores x V) at 250. */
static double layer_forward_s(double s)
{
    double gemms = 2.0 * s * (2 * H * H + 2 * H * KV + 3 * H * FFN);
    double core = 2.0 * s * s * 32 * (128 + 128) * 0.5;
    return gemms / (1000e12 * 0.5) + core / (1000e12 * 0.25);
}

/* Stage 0's activation bytes per micro-batch and the rank's peak activations with `sets`. */
static void kept_on(const char *gpu_attrs, const char *model, const char *const *sets,
                    double *per_mb, double *peak)
{
    toy_step_on(model, 8, gpu_attrs, sets, &scn, &out);
    *per_mb = out.cm.stages[0].act_bytes_mb;
    *peak = out.rep.mem[0].activations;
    step_release(&out);
}

static void kept(const char *model, const char *const *sets, double *per_mb, double *peak)
{
    kept_on("", model, sets, per_mb, peak);
}

/* core_attn and attn_proj at 512 tokens: Q (2 bytes x 512 x 4096 = 4,194,304) and the core's
 * output (as much) leave every layer -- K and V, 512 x 1024 = 524,288 elements each, are under
 * the 1,048,576-element limit and stay; each layer's bytes go down in 0.839 ms behind its
 * 0.455 ms forward.  Two layers' bytes are back at the backward. */
Test(offload_modules, attention_inputs_leave_each_layer)
{
    double bytes = 4194304.0 + 4194304.0, move = bytes / 10e9;
    double base_mb, base_peak, mb, peak;
    kept(MODEL("llama3.1-8b"), L("seq=512", "microbatches=1"), &base_mb, &base_peak);
    toy_step(MODEL("llama3.1-8b"), 8,
             L("seq=512", "microbatches=1", "offload-modules=core_attn,attn_proj"), &scn, &out);
    mb = out.cm.stages[0].act_bytes_mb;
    peak = out.rep.mem[0].activations;
    double exposed = LAYERS * (move - layer_forward_s(512));
    cr_assert(near(out.cm.stages[0].fwd.host, exposed), "%.9g vs %.9g",
              out.cm.stages[0].fwd.host, exposed);
    cr_assert_gt(out.rep.brk.host, 0.0, "reported as host offload");
    step_release(&out);
    cr_assert(near(base_mb - mb, LAYERS * bytes), "%.9g vs %.9g", base_mb - mb, LAYERS * bytes);
    cr_assert(near(base_peak - peak, (LAYERS - 2) * bytes), "%.9g vs %.9g", base_peak - peak,
              (LAYERS - 2) * bytes);
}

/* What `offload` (an offload-modules value) takes off stage 0's bytes per micro-batch and off
 * the rank's peak, for `model` at `seq` tokens (a "seq=N" setting), one micro-batch. */
static void moved(const char *model, const char *seq, const char *offload, double *per_mb,
                  double *peak)
{
    double base_mb, base_peak, mb, pk;
    kept(model, L(seq, "microbatches=1"), &base_mb, &base_peak);
    kept(model, L(seq, "microbatches=1", offload), &mb, &pk);
    *per_mb = base_mb - mb;
    *peak = base_peak - pk;
}

/* Megatron-Core leaves tensors under 1,048,576 elements on the GPU: the QKV projection's input
 * (the norm's output, 2 bytes x s x 4096) stays at 128 tokens (524,288 elements) and goes
 * from 256 (exactly 1,048,576). */
Test(offload_modules, small_inputs_stay)
{
    double mb, peak;
    moved(MODEL("llama3.1-8b"), "seq=128", "offload-modules=qkv_linear", &mb, &peak);
    cr_assert_eq(mb, 0.0);
    cr_assert_eq(peak, 0.0);
    moved(MODEL("llama3.1-8b"), "seq=256", "offload-modules=qkv_linear", &mb, &peak);
    cr_assert(near(mb, LAYERS * 2.0 * 256 * H));
}

/* "none", the key's default, can be given (a sweep varies from it) and moves nothing. */
Test(offload_modules, none_is_the_default)
{
    double mb, peak;
    moved(MODEL("llama3.1-8b"), "seq=512", "offload-modules=none", &mb, &peak);
    cr_assert_eq(mb, 0.0);
    cr_assert_eq(peak, 0.0);
    cr_assert_eq(scn.offload_modules, 0);
}

/* OLMoE (16 MoE layers, hidden 2048, 8 of 64 experts of FFN 1024, SwiGLU) at 512 tokens:
 * expert_fc1 moves the dispatched tokens (2 bytes x 512 x 8 x 2048), moe_act FC1's output (2 x
 * 2 x 512 x 8 x 1024) -- 16,777,216 bytes a layer each, whether the activation is recomputed
 * (its output dropped) or not. */
Test(offload_modules, expert_inputs_leave_each_moe_layer)
{
    const char *olmoe = MODEL("olmoe-1b-7b");
    double per_layer = 16777216.0, mb, peak;
    moved(olmoe, "seq=512", "offload-modules=expert_fc1", &mb, &peak);
    cr_assert(near(mb, 16 * per_layer), "%.9g vs %.9g", mb, 16 * per_layer);
    moved(olmoe, "seq=512", "offload-modules=moe_act", &mb, &peak);
    cr_assert(near(mb, 16 * per_layer), "%.9g vs %.9g", mb, 16 * per_layer);
    double base_mb, base_peak, recomputed_mb;
    kept(olmoe, L("seq=512", "microbatches=1", "recompute=selective", "recompute-modules=moe_act"),
         &base_mb, &base_peak);
    kept(olmoe,
         L("seq=512", "microbatches=1", "recompute=selective", "recompute-modules=moe_act",
           "offload-modules=moe_act"),
         &recomputed_mb, &peak);
    cr_assert(near(base_mb - recomputed_mb, 16 * per_layer), "%.9g vs %.9g",
              base_mb - recomputed_mb, 16 * per_layer);
}

/* Full recompute of blocks of layers keeps the other layers' inputs, which offloading moves:
 * the two layers not recomputed move their Q (K and V are under the size limit at 512 tokens). */
Test(offload_modules, only_layers_not_recomputed_offload)
{
    double base_mb, base_peak, mb, peak;
    const char *const *block = L("seq=512", "microbatches=1", "recompute=full",
                                 "recompute-method=block", "recompute-num-layers=30");
    kept(MODEL("llama3.1-8b"), block, &base_mb, &base_peak);
    kept(MODEL("llama3.1-8b"),
         L("seq=512", "microbatches=1", "recompute=full", "recompute-method=block",
           "recompute-num-layers=30", "offload-modules=core_attn"),
         &mb, &peak);
    cr_assert(near(base_mb - mb, 2 * 4194304.0), "%.9g vs %.9g", base_mb - mb, 2 * 4194304.0);
}

static void refused(const char *model, const char *const *sets, const char *want)
{
    toy_rule_error(model, "", sets, want, &scn, &out);
}

Test(offload_modules, rules)
{
    const char *llama = MODEL("llama3.1-8b"), *olmoe = MODEL("olmoe-1b-7b");
    refused(llama, L("seq=512", "offload-modules=attn_proj"),
            "attn_proj is offloaded together with core_attn");
    refused(llama, L("seq=512", "offload-modules=moe_act"),
            "names an expert module: the model has none (llama3.1-8b)");
    refused(llama, L("seq=512", "offload-modules=mlp_norm", "cuda-graphs=modules"),
            "attn_norm and mlp_norm are not offloaded with CUDA graphs");
    refused(llama, L("seq=512", "offload-modules=core_attn", "offload-activations=0.5"),
            "two ways of offloading");
    refused(llama, L("seq=512", "offload-modules=core_attn", "recompute=full"),
            "recompute=full keeps no module's input");
    refused(olmoe,
            L("seq=512", "offload-modules=expert_fc1", "recompute=selective",
              "recompute-modules=moe"),
            "recompute-modules=moe keeps no expert input");
    refused(llama, L("seq=512", "offload-modules=core_attn", "framework=torchtitan"),
            "offload-modules is not offered by framework=torchtitan");
}

/* MLA with its up-projections recomputed (Moonlight-16B-A3B at 4096 tokens, whose kept latents,
 * 4096 x 576 elements, are over the size limit): the core's Q, K and V are dropped after its
 * forward and made again for the backward, so core_attn has nothing to move; without that
 * recompute it moves them. */
Test(offload_modules, recomputed_mla_inputs_are_not_offloaded)
{
    const char *moonlight = MODEL("moonlight-16b-a3b");
    double mb, peak;
    moved(moonlight, "seq=4096", "offload-modules=core_attn", &mb, &peak);
    cr_assert_gt(mb, 0.0);
    double base_mb, base_peak, with_mb, with_peak;
    const char *const *rc = L("seq=4096", "microbatches=1", "recompute=selective",
                              "recompute-modules=mla_up_proj");
    kept(moonlight, rc, &base_mb, &base_peak);
    kept(moonlight,
         L("seq=4096", "microbatches=1", "recompute=selective", "recompute-modules=mla_up_proj",
           "offload-modules=core_attn"),
         &with_mb, &with_peak);
    cr_assert_eq(with_mb, base_mb);
}

/* `all`: every module the layout can offload.  On Llama-3.1-8B at 512 tokens a layer's two norm
 * inputs (2 x 2 bytes x 512 x 4096), the QKV input (2 x 512 x 4096), Q (2 x 512 x 4096) and
 * the core's output (2 x 512 x 4096): 20,971,520 bytes (K and V are under the size limit);
 * under CUDA graphs the norms stay (12,582,912).  The dense MLP's hidden activations are no
 * module's input: they stay. */
Test(offload_modules, all_is_every_module_the_layout_can_offload)
{
    double mb, peak;
    moved(MODEL("llama3.1-8b"), "seq=512", "offload-modules=all", &mb, &peak);
    cr_assert(near(mb, LAYERS * 20971520.0), "%.9g vs %.9g", mb, LAYERS * 20971520.0);
    double base_mb, base_peak, graphed_mb;
    kept(MODEL("llama3.1-8b"), L("seq=512", "microbatches=1", "cuda-graphs=modules"), &base_mb,
         &base_peak);
    kept(MODEL("llama3.1-8b"),
         L("seq=512", "microbatches=1", "cuda-graphs=modules", "offload-modules=all"),
         &graphed_mb, &peak);
    cr_assert(near(base_mb - graphed_mb, LAYERS * 12582912.0), "%.9g vs %.9g",
              base_mb - graphed_mb, LAYERS * 12582912.0);
}

/* The fused grouped MLP (Blackwell's, MXFP8) is one module: fused_group_mlp moves all it
 * keeps -- what expert_fc1 and moe_act move, and the activation's output besides, which is
 * what recomputing moe_act drops (OLMoE, 16 MoE layers, 512 tokens); `all` takes it. */
Test(offload_modules, the_fused_grouped_mlp_offloads_whole)
{
    const char *olmoe = MODEL("olmoe-1b-7b"), *blackwell = "fp8-gemm-layouts=\"any\"";
#define FUSED "seq=512", "microbatches=1", "dtype=fp8", "fp8-recipe=mxfp8", \
              "moe-fused-grouped-mlp=true"
    double base, fc1, act, fused, recomputed, peak;
    kept_on(blackwell, olmoe, L(FUSED), &base, &peak);
    kept_on(blackwell, olmoe, L(FUSED, "offload-modules=expert_fc1"), &fc1, &peak);
    kept_on(blackwell, olmoe, L(FUSED, "offload-modules=moe_act"), &act, &peak);
    kept_on(blackwell, olmoe, L(FUSED, "offload-modules=fused_group_mlp"), &fused, &peak);
    kept_on(blackwell, olmoe,
            L(FUSED, "recompute=selective", "recompute-modules=moe_act"), &recomputed, &peak);
    double want = (base - fc1) + (base - act) + (base - recomputed);
    cr_assert(near(base - fused, want), "%.9g vs %.9g", base - fused, want);
    cr_assert_gt(base - recomputed, 0.0);
    /* `all` takes the fused module where the MLP is fused */
    double all, listed;
    kept_on(blackwell, olmoe, L(FUSED, "offload-modules=all"), &all, &peak);
    kept_on(blackwell, olmoe,
            L(FUSED, "offload-modules=attn_norm,qkv_linear,core_attn,attn_proj,mlp_norm,"
                     "fused_group_mlp"),
            &listed, &peak);
    cr_assert_eq(all, listed);
    toy_rule_error(olmoe, blackwell, L(FUSED, "offload-modules=fused_group_mlp,moe_act"),
                   "not combined with expert_fc1 or moe_act", &scn, &out);
    toy_rule_error(olmoe, "", L("seq=512", "offload-modules=fused_group_mlp"),
                   "fused_group_mlp needs moe-fused-grouped-mlp=true", &scn, &out);
#undef FUSED
}

/* offload-min-elements (Megatron-Core's --min-offloaded-tensor-size) is compared with each saved
 * tensor's element count, whatever its bytes per element.  Qwen3-30B-A3B's fused grouped MLP
 * (48 MoE layers of 8 of 128 experts, FFN 768, SwiGLU) at 512 tokens keeps the dispatched
 * tokens (512 x 8 x 2048 = 8,388,608 elements, 16,777,216 bytes), FC1's output (512 x 8 x 1536
 * = 6,291,456, 12,582,912 bytes) and the activation's output (3,145,728 elements, in MXFP8):
 * above 5,000,000 elements the first two move, above 7,000,000 the first alone, above
 * 8,388,608 none -- the way Megatron-Bridge's Nemotron 3 Ultra recipes pick FC1's output. */
Test(offload_modules, the_size_limit_is_per_tensor_and_set_by_the_scenario)
{
    const char *qwen = MODEL("qwen3-30b-a3b"), *blackwell = "fp8-gemm-layouts=\"any\"";
#define QWEN_FUSED "seq=512", "microbatches=1", "dtype=fp8", "fp8-recipe=mxfp8", \
                   "moe-fused-grouped-mlp=true", "offload-modules=fused_group_mlp"
    double base, two, one, none, peak;
    kept_on(blackwell, qwen,
            L("seq=512", "microbatches=1", "dtype=fp8", "fp8-recipe=mxfp8",
              "moe-fused-grouped-mlp=true"),
            &base, &peak);
    kept_on(blackwell, qwen, L(QWEN_FUSED, "offload-min-elements=5000000"), &two, &peak);
    kept_on(blackwell, qwen, L(QWEN_FUSED, "offload-min-elements=7000000"), &one, &peak);
    kept_on(blackwell, qwen, L(QWEN_FUSED, "offload-min-elements=8388609"), &none, &peak);
    cr_assert(near(base - two, 48 * (16777216.0 + 12582912.0)), "%.9g", base - two);
    cr_assert(near(base - one, 48 * 16777216.0), "%.9g", base - one);
    cr_assert_eq(none, base);
    kept_on(blackwell, qwen, L(QWEN_FUSED, "offload-min-elements=8388608"), &one, &peak);
    cr_assert(near(base - one, 48 * 16777216.0), "exactly the limit moves: %.9g", base - one);
    toy_rule_error(qwen, "", L("seq=512", "offload-min-elements=5000000"),
                   "offload-min-elements applies to offload-modules", &scn, &out);
#undef QWEN_FUSED
}

/* offload-fraction (Megatron-Core's --activation-offload-fraction) offloads the first share of
 * each chunk's groups -- a module of a layer -- in forward order, leaving int(groups x (1 -
 * fraction)) on the GPU.  Llama-3.1-8B at 512 tokens with core_attn and attn_proj: 32 layers
 * of two groups of 4,194,304 bytes (Q; the core's output), 64 groups: at 0.75 the last 16
 * stay (the last 8 layers), at 0.6 the last int(25.6) = 25 (12 layers and layer 19's
 * attn_proj): 48 and 39 groups move. */
Test(offload_modules, a_fraction_of_the_groups_moves_the_first_in_forward_order)
{
    const double group = 4194304.0;
    double mb, peak;
    moved(MODEL("llama3.1-8b"), "seq=512", "offload-modules=core_attn,attn_proj", &mb, &peak);
    cr_assert(near(mb, 64 * group), "%.9g", mb);
    double base_mb, base_peak, frac_mb;
    kept(MODEL("llama3.1-8b"), L("seq=512", "microbatches=1"), &base_mb, &base_peak);
    kept(MODEL("llama3.1-8b"),
         L("seq=512", "microbatches=1", "offload-modules=core_attn,attn_proj",
           "offload-fraction=0.75"),
         &frac_mb, &peak);
    cr_assert(near(base_mb - frac_mb, 48 * group), "%.9g", base_mb - frac_mb);
    kept(MODEL("llama3.1-8b"),
         L("seq=512", "microbatches=1", "offload-modules=core_attn,attn_proj",
           "offload-fraction=0.6"),
         &frac_mb, &peak);
    cr_assert(near(base_mb - frac_mb, 39 * group), "%.9g", base_mb - frac_mb);
    kept(MODEL("llama3.1-8b"),
         L("seq=512", "microbatches=1", "offload-modules=core_attn,attn_proj",
           "offload-fraction=0"),
         &frac_mb, &peak);
    cr_assert_eq(frac_mb, base_mb);
}

/* offload-pp-delta (--delta-offload-bytes-across-pp-ranks): pipeline rank r keeps r x the
 * delta of its offload on the GPU at its peak, at most what it offloads there.  Llama-3.1-8B
 * over pp 2 at 512 tokens, core_attn: rank 0 is unchanged, rank 1 holds 10 MiB more; with a
 * delta beyond its offload it holds all of it (16 layers' Q for each micro-batch in flight). */
Test(offload_modules, later_pipeline_ranks_keep_the_delta)
{
    const char *llama = MODEL("llama3.1-8b");
#define PP2 "seq=512", "pp=2", "microbatches=4", "offload-modules=core_attn"
    double base[2], delta[2], all1;
    toy_step(llama, 8, L(PP2), &scn, &out);
    base[0] = out.rep.mem[0].activations;
    base[1] = out.rep.mem[1].activations;
    int inflight1 = out.res.peak_inflight[1];
    step_release(&out);
    toy_step(llama, 8, L(PP2, "offload-pp-delta=10MiB"), &scn, &out);
    delta[0] = out.rep.mem[0].activations;
    delta[1] = out.rep.mem[1].activations;
    step_release(&out);
    cr_assert_eq(delta[0], base[0]);
    cr_assert(near(delta[1] - base[1], 10485760.0), "%.9g", delta[1] - base[1]);
    toy_step(llama, 8, L(PP2, "offload-pp-delta=100GiB"), &scn, &out);
    all1 = out.rep.mem[1].activations;
    step_release(&out);
    cr_assert(near(all1 - base[1], inflight1 * 16 * 4194304.0), "%.9g vs %d in flight",
              all1 - base[1], inflight1);
    toy_rule_error(llama, "", L("seq=512", "offload-fraction=0.5"),
                   "offload-fraction applies to offload-modules", &scn, &out);
#undef PP2
}
