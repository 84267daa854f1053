/* test_graphs: what CUDA graphs and the experts' fused grouped MLP change in a stage's time,
 * against hand-computed values on the toy GPU (tests/helpers.c toy_hardware: bf16 1000 TFLOPS
 * at a flat 50%, fp8 2000 TFLOPS at 40%, HBM free unless a test sets its bandwidth), and the
 * rules that refuse them.  OLMoE's layers are all of the MoE kind: its report's layer_view[1]. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "helpers.h"
#include "report.h"
#include "step.h"

#define MODEL(name) TOP_SRCDIR "/models/" name ".xml"
#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define near(a, b) (fabs((a) - (b)) <= 1e-9 + 1e-6 * fabs(b))

static struct scenario scn;
static struct step_output out;

/* Blackwell's marker in a hardware file: its fp8 GEMMs take any layout. */
#define BLACKWELL "fp8-gemm-layouts=\"any\""
/* A launch from Python costs 10 us here; one from a graph 0.9 us (GRAPH_KERNEL_GAP_S). */
#define SLOW_LAUNCH "hw.kernel-overhead=10us"
static const double SAVED = 10e-6 - 0.9e-6;

/* Stage 0's compute per pass of `model` on the toy (Blackwell-marked) GPU. */
static struct pass_times {
    double fwd, bwd, wgt;
} stage_compute(const char *model, const char *const *sets)
{
    toy_step_on(model, 8, BLACKWELL, sets, &scn, &out);
    struct pass_times c = {out.cm.stages[0].fwd.compute, out.cm.stages[0].bwd.compute,
                          out.cm.stages[0].wgt.compute};
    step_release(&out);
    return c;
}

/* A full-iteration graph launches every kernel of Llama-3.1-8B's 32 layers from the graph: 11
 * forward, 20 backward and 4 weight-gradient GEMMs a layer, each 9.1 us cheaper. */
Test(graphs, a_full_iteration_graph_launches_every_layer_kernel_at_the_gpus_gap)
{
    struct pass_times eager = stage_compute(MODEL("llama3.1-8b"),
                                           L("seq=4096", "microbatches=1", SLOW_LAUNCH));
    struct pass_times graph = stage_compute(
        MODEL("llama3.1-8b"),
        L("seq=4096", "microbatches=1", SLOW_LAUNCH, "cuda-graphs=full-iteration"));
    cr_assert(near(eager.fwd - graph.fwd, 32 * 11 * SAVED), "forward %.9g", eager.fwd - graph.fwd);
    cr_assert(near(eager.bwd - graph.bwd, 32 * 20 * SAVED), "backward %.9g", eager.bwd - graph.bwd);
    cr_assert(near(eager.wgt - graph.wgt, 32 * 4 * SAVED), "wgrad %.9g", eager.wgt - graph.wgt);
}

/* A host that costs 2.5x the x86 one per launch (host-launch-ratio; Grace's is 1.91) lengthens
 * each eagerly launched kernel's 10 us gap to 25 us: Llama-3.1-8B's 32 layers, 11 forward, 20
 * backward and 4 weight-gradient kernels each, 15 us more apiece.  Graphed kernels keep the
 * GPU's 0.9 us gap whatever the host, so a full-iteration graph takes the host out. */
Test(graphs, a_slower_host_lengthens_eager_launches_not_graphed_ones)
{
#define SLOW_HOST "hw.host-launch-ratio=2.5"
    const char *const *x86 = L("seq=4096", "microbatches=1", SLOW_LAUNCH);
    const char *const *slow = L("seq=4096", "microbatches=1", SLOW_LAUNCH, SLOW_HOST);
    struct pass_times e = stage_compute(MODEL("llama3.1-8b"), x86);
    struct pass_times s = stage_compute(MODEL("llama3.1-8b"), slow);
    cr_assert(near(s.fwd - e.fwd, 32 * 11 * 15e-6), "forward %.9g", s.fwd - e.fwd);
    cr_assert(near(s.bwd - e.bwd, 32 * 20 * 15e-6), "backward %.9g", s.bwd - e.bwd);
    cr_assert(near(s.wgt - e.wgt, 32 * 4 * 15e-6), "wgrad %.9g", s.wgt - e.wgt);
    struct pass_times eg = stage_compute(
        MODEL("llama3.1-8b"),
        L("seq=4096", "microbatches=1", SLOW_LAUNCH, "cuda-graphs=full-iteration"));
    struct pass_times sg = stage_compute(MODEL("llama3.1-8b"),
                                         L("seq=4096", "microbatches=1", SLOW_LAUNCH, SLOW_HOST,
                                           "cuda-graphs=full-iteration"));
#undef SLOW_HOST
    cr_assert(near(sg.fwd, eg.fwd) && near(sg.bwd, eg.bwd) && near(sg.wgt, eg.wgt));
}

/* The report names the launch gaps inside compute: Llama-3.1-8B's 32 layers x 35 kernels of one
 * micro-batch (11 forward, 20 backward, 4 weight-gradient) at 10 us from the host, or 0.9 us
 * each from a full-iteration graph; with full recompute the forward's 11 again. */
Test(graphs, the_report_gives_the_launch_gaps_inside_compute)
{
    const char *const *eager = L("seq=4096", "microbatches=1", SLOW_LAUNCH);
    toy_step_on(MODEL("llama3.1-8b"), 8, BLACKWELL, eager, &scn, &out);
    cr_assert(near(out.rep.brk.launch, 32 * 35 * 10e-6), "eager %.9g", out.rep.brk.launch);
    cr_assert(out.rep.brk.launch < out.rep.brk.compute);
    step_release(&out);
    toy_step_on(MODEL("llama3.1-8b"), 8, BLACKWELL,
                L("seq=4096", "microbatches=1", SLOW_LAUNCH, "cuda-graphs=full-iteration"), &scn,
                &out);
    cr_assert(near(out.rep.brk.launch, 32 * 35 * 0.9e-6), "graphed %.9g", out.rep.brk.launch);
    step_release(&out);
    toy_step_on(MODEL("llama3.1-8b"), 8, BLACKWELL,
                L("seq=4096", "microbatches=1", SLOW_LAUNCH, "recompute=full"), &scn, &out);
    cr_assert(near(out.rep.brk.launch, 32 * (35 + 11) * 10e-6), "recompute %.9g",
              out.rep.brk.launch);
    step_release(&out);
}

/* Transformer Engine's per-layer graphs of the attention block (cuda-graph-scope attn, the
 * default) take its 6 forward, 11 backward and 2 weight-gradient kernels, and with TP 2 its
 * two collectives each way; the MLP block's stay launched from Python. */
Test(graphs, module_graphs_take_only_their_scopes_kernels)
{
    const char *const *plain = L("seq=4096", "microbatches=1", SLOW_LAUNCH, "tp=2");
    const char *const *attn =
        L("seq=4096", "microbatches=1", SLOW_LAUNCH, "tp=2", "cuda-graphs=modules");
    const char *const *both = L("seq=4096", "microbatches=1", SLOW_LAUNCH, "tp=2",
                                "cuda-graphs=modules", "cuda-graph-scope=attn,mlp");
    const char *const *full =
        L("seq=4096", "microbatches=1", SLOW_LAUNCH, "tp=2", "cuda-graphs=full-iteration");
    struct pass_times e = stage_compute(MODEL("llama3.1-8b"), plain);
    struct pass_times a = stage_compute(MODEL("llama3.1-8b"), attn);
    struct pass_times b = stage_compute(MODEL("llama3.1-8b"), both);
    struct pass_times f = stage_compute(MODEL("llama3.1-8b"), full);
    cr_assert(near(e.fwd - a.fwd, 32 * (6 + 2) * SAVED), "attn forward %.9g", e.fwd - a.fwd);
    cr_assert(near(e.bwd - a.bwd, 32 * (11 + 2) * SAVED), "attn backward %.9g", e.bwd - a.bwd);
    cr_assert(near(e.wgt - a.wgt, 32 * 2 * SAVED), "attn wgrad %.9g", e.wgt - a.wgt);
    /* attention and MLP together are the whole layer, as a full-iteration graph */
    cr_assert(near(b.fwd, f.fwd) && near(b.bwd, f.bwd) && near(b.wgt, f.wgt));
    cr_assert(near(e.fwd - f.fwd, 32 * (11 + 4) * SAVED), "full forward %.9g", e.fwd - f.fwd);
}

/* A MoE layer's router (6 forward, 5 backward) and the dispatcher's preprocessing (6 forward,
 * none backward) graphed on their own: OLMoE's 16 layers with 8 experts a GPU. */
Test(graphs, moe_router_and_preprocess_scopes)
{
    struct pass_times e =
        stage_compute(MODEL("olmoe-1b-7b"), L("seq=4096", "microbatches=1", SLOW_LAUNCH, "ep=8"));
    struct pass_times r = stage_compute(MODEL("olmoe-1b-7b"),
                                       L("seq=4096", "microbatches=1", SLOW_LAUNCH, "ep=8",
                                         "cuda-graphs=modules", "cuda-graph-scope=moe_router"));
    struct pass_times p =
        stage_compute(MODEL("olmoe-1b-7b"),
                      L("seq=4096", "microbatches=1", SLOW_LAUNCH, "ep=8", "cuda-graphs=modules",
                        "cuda-graph-scope=moe_router,moe_preprocess"));
    cr_assert(near(e.fwd - r.fwd, 16 * 6 * SAVED), "router forward %.9g", e.fwd - r.fwd);
    cr_assert(near(e.bwd - r.bwd, 16 * 5 * SAVED), "router backward %.9g", e.bwd - r.bwd);
    cr_assert(near(r.fwd - p.fwd, 16 * 6 * SAVED), "preprocess forward %.9g", r.fwd - p.fwd);
    cr_assert(near(r.bwd, p.bwd), "preprocessing has no backward");
    cr_assert(near(e.wgt, p.wgt), "no weight gradient there");
}

/* The layout line says what the graphs capture and whether the experts' MLP is fused. */
Test(graphs, the_layout_line_names_them)
{
    char line[512];
    toy_step_on(MODEL("olmoe-1b-7b"), 8, BLACKWELL,
                L("seq=4096", "microbatches=1", "ep=8", "dtype=fp8", "fp8-recipe=mxfp8",
                  "moe-fused-grouped-mlp=true", "cuda-graphs=full-iteration"),
                &scn, &out);
    report_layout_line(&scn, &out.rep, line, sizeof line);
    cr_assert_not_null(strstr(line, ", fused grouped MLP, CUDA graphs full-iteration;"), "%s",
                       line);
    step_release(&out);
    toy_step_on(MODEL("olmoe-1b-7b"), 8, BLACKWELL,
                L("seq=4096", "microbatches=1", "ep=8", "cuda-graphs=modules",
                  "cuda-graph-scope=moe_router,attn"),
                &scn, &out);
    report_layout_line(&scn, &out.rep, line, sizeof line);
    cr_assert_not_null(strstr(line, ", CUDA graphs attn,moe_router;"), "%s", line);
    cr_assert_null(strstr(line, "fused"), "%s", line);
    step_release(&out);
}

/* The fused grouped MLP (OLMoE, 8 local experts a GPU, MXFP8, 1 us a launch): FC1 and FC2
 * once for all experts instead of once each, no activation kernel, and one grouped quantize
 * where GroupedLinear runs one per expert for each of two operands: 2 x 7 + 1 + (2 x 8 - 1) =
 * 30 fewer launches forward and backward, 14 fewer weight-gradient GEMMs, in each of 16
 * layers. */
static struct pass_times launch_times(const char *fused)
{
    const char *const *free_launch = L("seq=4096", "microbatches=1", "ep=8", "dtype=fp8",
                                       "fp8-recipe=mxfp8", fused);
    const char *const *one_us = L("seq=4096", "microbatches=1", "ep=8", "dtype=fp8",
                                  "fp8-recipe=mxfp8", fused, "hw.kernel-overhead=1us");
    struct pass_times a = stage_compute(MODEL("olmoe-1b-7b"), free_launch);
    struct pass_times b = stage_compute(MODEL("olmoe-1b-7b"), one_us);
    return (struct pass_times){b.fwd - a.fwd, b.bwd - a.bwd, b.wgt - a.wgt};
}

Test(fused_grouped_mlp, launches_two_grouped_gemms_a_pass)
{
    struct pass_times e = launch_times("moe-fused-grouped-mlp=false");
    struct pass_times f = launch_times("moe-fused-grouped-mlp=true");
    cr_assert(near(e.fwd - f.fwd, 16 * 30e-6), "forward %.9g", e.fwd - f.fwd);
    cr_assert(near(e.bwd - f.bwd, 16 * 30e-6), "backward %.9g", e.bwd - f.bwd);
    cr_assert(near(e.wgt - f.wgt, 16 * 14e-6), "wgrad %.9g", e.wgt - f.wgt);
}

/* ... and its epilogues apply SwiGLU and quantize its output (OLMoE at 4096 tokens, top-8 of
 * experts with an FFN of 1024, HBM at 1 TB/s): the activation's 3 x 2 bytes per routed inner
 * element go (4096 x 8 x 1024 = 33,554,432 elements: 0.201326592 ms forward), and so does
 * MXFP8's quantization of FC2's input (2 bytes read, two copies of 1 + 1/32 written: 4.0625
 * bytes an element, 0.136314880 ms) and in the backward of FC1's output gradient (twice the
 * elements, 0.272629760 ms). */
Test(fused_grouped_mlp, applies_and_quantizes_the_activation_in_its_epilogues)
{
    const char *const *base = L("seq=4096", "microbatches=1", "ep=8", "dtype=fp8",
                                "fp8-recipe=mxfp8", "hw.hbm-bandwidth=1TBps");
    const char *const *fused =
        L("seq=4096", "microbatches=1", "ep=8", "dtype=fp8", "fp8-recipe=mxfp8",
          "hw.hbm-bandwidth=1TBps", "moe-fused-grouped-mlp=true");
    toy_step_on(MODEL("olmoe-1b-7b"), 8, BLACKWELL, base, &scn, &out);
    struct cm_layer_view e = out.rep.layer_view[1];
    step_release(&out);
    toy_step_on(MODEL("olmoe-1b-7b"), 8, BLACKWELL, fused, &scn, &out);
    struct cm_layer_view f = out.rep.layer_view[1];
    step_release(&out);
    double inner = 4096.0 * 8 * 1024;
    cr_assert(near(e.elem_fwd - f.elem_fwd, 6.0 * inner / 1e12), "act %.9g",
              e.elem_fwd - f.elem_fwd);
    cr_assert(near(e.quant_fwd - f.quant_fwd, 4.0625 * inner / 1e12), "quant forward %.9g",
              e.quant_fwd - f.quant_fwd);
    cr_assert(near(e.quant_bwd - f.quant_bwd, 4.0625 * 2 * inner / 1e12), "quant backward %.9g",
              e.quant_bwd - f.quant_bwd);
}

/* On a real curve (GB200's MXFP8 GEMMs), one grouped GEMM of all the local experts' work runs
 * at the rate of its total: faster than one GEMM per expert, the same with one expert a GPU. */
Test(fused_grouped_mlp, one_grouped_gemm_runs_at_its_totals_rate)
{
    double gemm[2][2];
    for (int ep = 0; ep < 2; ep++)
        for (int fused = 0; fused < 2; fused++) {
            struct sim_error err;
            scn_defaults(&scn);
            err_clear(&err);
            cr_assert_eq(scn_set(&scn, "model", MODEL("olmoe-1b-7b"), NULL, 0, &err), SIM_OK);
            cr_assert_eq(scn_set(&scn, "hardware", TOP_SRCDIR "/hardware/gb200-nvl72.xml", NULL,
                                 0, &err),
                         SIM_OK, "%s", err.msg);
            const char *const *sets = L("seq=4096", "microbatches=1", "dtype=fp8",
                                        "fp8-recipe=mxfp8", ep ? "ep=64" : "ep=8",
                                        fused ? "moe-fused-grouped-mlp=true" : "gpus=8");
            for (const char *const *s = sets; *s; s++)
                cr_assert_eq(scn_set_arg(&scn, *s, &err), SIM_OK, "%s: %s", *s, err.msg);
            if (ep)
                cr_assert_eq(scn_set_arg(&scn, "gpus=64", &err), SIM_OK, "%s", err.msg);
            cr_assert_eq(step_run(&scn, &out, &err), SIM_OK, "%s", err.msg);
            gemm[ep][fused] = out.rep.layer_view[1].gemm_fwd;
            step_release(&out);
        }
    cr_assert_lt(gemm[0][1], 0.95 * gemm[0][0], "8 experts a GPU: fused %.9g, one each %.9g",
                 gemm[0][1], gemm[0][0]);
    cr_assert(near(gemm[1][1], gemm[1][0]), "one expert a GPU: %.9g vs %.9g", gemm[1][1],
              gemm[1][0]);
}

/* A rule refuses what `sets` make of `model` on the toy GPU with `gpu_attrs`, saying `want`. */
static void refused(const char *model, const char *gpu_attrs, const char *const *sets,
                    const char *want)
{
    toy_rule_error(model, gpu_attrs, sets, want, &scn, &out);
}

Test(rules, cuda_graphs)
{
    const char *llama = MODEL("llama3.1-8b"), *olmoe = MODEL("olmoe-1b-7b");
    refused(llama, "", L("seq=4096", "microbatches=1", "cuda-graph-scope=mlp"),
            "cuda-graph-scope applies to cuda-graphs=modules");
    refused(llama, "",
            L("seq=4096", "microbatches=1", "cuda-graphs=modules", "cuda-graph-scope=moe_router"),
            "names MoE modules; llama3.1-8b has no experts");
    refused(llama, "",
            L("seq=4096", "microbatches=1", "cuda-graphs=modules", "cuda-graph-scope=mamba"),
            "names mamba; llama3.1-8b has no Mamba layers");
    refused(olmoe, "", L("seq=4096", "microbatches=1", "cuda-graphs=full-iteration"),
            "needs grouped GEMMs that read the token counts on the GPU");
    refused(olmoe, "",
            L("seq=4096", "microbatches=1", "cuda-graphs=modules", "cuda-graph-scope=moe"),
            "moe-fused-grouped-mlp=true) or inputs padded to a capacity (moe-capacity-factor)");
    refused(llama, "",
            L("seq=4096", "microbatches=1", "framework=torchtitan", "cuda-graphs=full-iteration"),
            "no CUDA graphs of training steps");
}

/* Drop-and-pad: with moe-capacity-factor f every expert computes and exchanges f times the
 * balanced count, which is what moe-imbalance=f charges its busiest rank, so the stage times
 * match exactly; and with the shapes fixed, a graph may hold the experts without the fused
 * grouped MLP, each of their launches 9.1 us cheaper than from Python. */
Test(capacity, padded_experts_cost_the_capacity_and_may_be_graphed)
{
    const char *olmoe = MODEL("olmoe-1b-7b");
    struct pass_times padded =
        stage_compute(olmoe, L("seq=4096", "microbatches=1", "ep=8", "moe-capacity-factor=1.25"));
    struct pass_times busiest =
        stage_compute(olmoe, L("seq=4096", "microbatches=1", "ep=8", "moe-imbalance=1.25"));
    struct pass_times even = stage_compute(olmoe, L("seq=4096", "microbatches=1", "ep=8"));
    cr_assert(near(padded.fwd, busiest.fwd) && near(padded.bwd, busiest.bwd) &&
                  near(padded.wgt, busiest.wgt),
              "capacity 1.25 %g/%g/%g vs imbalance 1.25 %g/%g/%g", padded.fwd, padded.bwd,
              padded.wgt, busiest.fwd, busiest.bwd, busiest.wgt);
    cr_assert_gt(padded.fwd, even.fwd, "padding adds the empty slots' work");
    struct pass_times eager = stage_compute(
        olmoe, L("seq=4096", "microbatches=1", "ep=8", "moe-capacity-factor=1", SLOW_LAUNCH));
    struct pass_times graphed =
        stage_compute(olmoe, L("seq=4096", "microbatches=1", "ep=8", "moe-capacity-factor=1",
                               SLOW_LAUNCH, "cuda-graphs=modules", "cuda-graph-scope=moe"));
    cr_assert_lt(graphed.fwd, eager.fwd, "the experts' launches come from the graph");
    double launches = (eager.fwd - graphed.fwd) / SAVED;
    cr_assert(fabs(launches - round(launches)) < 1e-6 && launches >= 8,
              "a whole number of launches saved, at least one per local expert: %g", launches);
}

Test(rules, moe_capacity_factor)
{
    refused(MODEL("olmoe-1b-7b"), "",
            L("seq=4096", "microbatches=1", "moe-capacity-factor=1", "moe-imbalance=1.2"),
            "moe-imbalance does not apply with moe-capacity-factor");
    refused(MODEL("llama3.1-8b"), "", L("seq=4096", "microbatches=1", "moe-capacity-factor=1"),
            "moe-capacity-factor applies to MoE models");
}

Test(rules, fused_grouped_mlp)
{
    const char *olmoe = MODEL("olmoe-1b-7b");
    refused(MODEL("llama3.1-8b"), BLACKWELL,
            L("seq=4096", "microbatches=1", "dtype=fp8", "fp8-recipe=mxfp8",
              "moe-fused-grouped-mlp=true"),
            "moe-fused-grouped-mlp applies to MoE models");
    refused(olmoe, BLACKWELL, L("seq=4096", "microbatches=1", "moe-fused-grouped-mlp=true"),
            "quantizes in MXFP8 or NVFP4");
    refused(olmoe, BLACKWELL,
            L("seq=4096", "microbatches=1", "dtype=fp8", "fp8-recipe=current",
              "moe-fused-grouped-mlp=true"),
            "quantizes in MXFP8 or NVFP4");
    refused(olmoe, "", L("seq=4096", "microbatches=1", "dtype=nvfp4", "moe-fused-grouped-mlp=true"),
            "runs Blackwell's (sm100) kernels; toy is not one");
    refused(olmoe, BLACKWELL,
            L("seq=4096", "microbatches=1", "gpus=16", "ep=8", "etp=2", "dtype=fp8",
              "fp8-recipe=mxfp8", "moe-fused-grouped-mlp=true"),
            "fuses experts without tensor parallelism only (etp=2)");
    refused(olmoe, BLACKWELL,
            L("seq=4096", "microbatches=1", "dtype=fp8", "fp8-recipe=mxfp8",
              "framework=torchtitan", "moe-fused-grouped-mlp=true"),
            "no fused grouped MLP");
}
