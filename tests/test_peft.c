/* test_peft: LoRA (peft=lora) against hand-computed work and memory on the toy GPU
 * (tests/helpers.c toy_hardware: bf16 1000 TFLOPS, GEMMs at 50%, memory and launches free),
 * and the rules that refuse it. */
#include <criterion/criterion.h>
#include <math.h>

#include "flops.h"
#include "helpers.h"
#include "report.h"
#include "step.h"

#define MODEL(name) TOP_SRCDIR "/models/" name ".xml"
#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define near(a, b) (fabs((a) - (b)) <= 1e-12 + 1e-9 * fabs(b))

static struct scenario scn;
static struct step_output out;

/* Llama-3.1-8B (32 layers, hidden 4096, Q 4096, K + V 2048, SwiGLU FFN 14336) at 512 tokens,
 * rank 16 on all four linears: each layer's adapters are 16 x (in + out) over QKV (4096 +
 * 6144), the projection (4096 + 4096), FC1 (4096 + 28672) and FC2 (14336 + 4096): 16 x 69,632
 * = 1,114,112 parameters; their forward 2 x 512 x 1,114,112 FLOPs = 1.1409 GFLOP, 2.2817 us at
 * 500 TFLOPS.  The base is frozen: the weight gradient is the adapters' alone, the input
 * gradient runs the adapters again, and the weights' gradients and optimizer state shrink to
 * the adapters'. */
static const double ADAPTER = 16.0 * 69632.0, LAYERS = 32.0;

Test(peft, lora_trains_the_adapters_alone)
{
    const char *llama = MODEL("llama3.1-8b");
    double lora_gemm = 2.0 * 512 * ADAPTER / 500e12;
    /* the sum into each linear's output: read two, write one 16-bit [512, out] tensor, over
     * outputs of 6144 + 4096 + 28672 + 4096, at the toy GPU's 1e18 bytes/s */
    double lora_add = 3.0 * 2.0 * 512 * 43008.0 / 1e18;
    toy_step(llama, 8, L("seq=512", "microbatches=1"), &scn, &out);
    struct cm_stage full = out.cm.stages[0];
    struct cm_rank_memory full_mem = out.rep.mem[0];
    step_release(&out);
    toy_step(llama, 8, L("seq=512", "microbatches=1", "peft=lora", "lora-rank=16"), &scn, &out);
    const struct cm_stage *st = &out.cm.stages[0];
    cr_assert(near(st->wgt.compute, LAYERS * lora_gemm), "%.12g vs %.12g", st->wgt.compute,
              LAYERS * lora_gemm);
    cr_assert(near(st->fwd.compute - full.fwd.compute, LAYERS * (lora_gemm + lora_add)));
    cr_assert(near(st->bwd.compute - full.bwd.compute, LAYERS * lora_gemm));
    cr_assert(near(st->params, LAYERS * ADAPTER), "%.12g", st->params);
    cr_assert(near(st->frozen_params, full.params));
    const struct cm_rank_memory *mem = &out.rep.mem[0];
    cr_assert(near(mem->weights - full_mem.weights, 2.0 * LAYERS * ADAPTER));
    cr_assert(near(mem->grads, full_mem.grads * LAYERS * ADAPTER / full.params));
    cr_assert(near(mem->optimizer, full_mem.optimizer * LAYERS * ADAPTER / full.params));
    step_release(&out);
}

/* lora-modules picks the linears: linear_qkv alone, 16 x (4096 + 6144) a layer. */
Test(peft, lora_modules_pick_the_linears)
{
    toy_step(MODEL("llama3.1-8b"), 8,
             L("seq=512", "microbatches=1", "peft=lora", "lora-rank=16", "lora-modules=linear_qkv"),
             &scn, &out);
    cr_assert(near(out.cm.stages[0].params, LAYERS * 16.0 * 10240.0), "%.12g",
              out.cm.stages[0].params);
    cr_assert(near(out.cm.stages[0].wgt.compute, LAYERS * 2.0 * 512 * 16.0 * 10240.0 / 500e12));
    step_release(&out);
}

/* DoRA (peft=dora) beside the same adapters, on a toy with 1 TB/s of HBM: each micro-batch
 * the row norms of W + BA over every adapted linear's weight -- the rank-16 product, 2 x 16
 * FLOPs an element at 500 TFLOPS, and 14 bytes an element moved (B A written, scaled, added to
 * W, its norm read) over the layer's 218,103,808 weight elements (4096 x (6144 + 4096 + 28672)
 * + 14336 x 4096) -- and the adapted outputs (43,008 a token) rescaled, read and written once;
 * backward, four 2-byte passes over those outputs; the outputs before rescaling kept (2 bytes
 * each); a magnitude per output row trained. */
Test(peft, dora_recomputes_the_weight_norms_and_rescales_the_outputs)
{
    const char *llama = MODEL("llama3.1-8b");
    const double weight = 218103808.0, outputs = 512.0 * 43008.0, B = 1e-12;
#define DORA_RUN(peft)                                                                         \
    L("seq=512", "microbatches=1", "lora-rank=16", "hw.hbm-bandwidth=1TBps",                  \
      "hw.memory-efficiency=1", peft)
    toy_step(llama, 8, DORA_RUN("peft=lora"), &scn, &out);
    struct cm_stage lora = out.cm.stages[0];
    step_release(&out);
    toy_step(llama, 8, DORA_RUN("peft=dora"), &scn, &out);
    const struct cm_stage *st = &out.cm.stages[0];
    double fwd = 2.0 * 16 * weight / 500e12 + (14.0 * weight + 4.0 * outputs) * B;
    cr_assert(near(st->fwd.compute - lora.fwd.compute, LAYERS * fwd), "forward %.12g vs %.12g",
              st->fwd.compute - lora.fwd.compute, LAYERS * fwd);
    cr_assert(near(st->bwd.compute - lora.bwd.compute, LAYERS * 8.0 * outputs * B),
              "backward %.12g", st->bwd.compute - lora.bwd.compute);
    cr_assert(near(st->wgt.compute, lora.wgt.compute));
    cr_assert(near(st->act_bytes_mb - lora.act_bytes_mb, LAYERS * 2.0 * outputs), "kept %.12g",
              st->act_bytes_mb - lora.act_bytes_mb);
    cr_assert(near(st->params - lora.params, LAYERS * 43008.0), "params %.12g",
              st->params - lora.params);
    step_release(&out);
#undef DORA_RUN
}

Test(peft, rules)
{
    const char *llama = MODEL("llama3.1-8b");
    toy_rule_error(llama, "", L("seq=512", "lora-rank=8"), "lora-rank applies to peft=lora", &scn,
                   &out);
    /* DoRA needs the adapted linear's one weight: a MoE layer's FC1 and FC2 wrap the routed
     * experts' grouped linear too; its attention linears take it */
    toy_rule_error(MODEL("qwen3-30b-a3b"), "", L("seq=512", "peft=dora"),
                   "grouped linear has no single weight", &scn, &out);
    toy_step(MODEL("qwen3-30b-a3b"), 8,
             L("seq=512", "microbatches=1", "peft=dora", "lora-modules=linear_qkv,linear_proj"),
             &scn, &out);
    step_release(&out);
    toy_rule_error(MODEL("deepseek-v2"), "", L("seq=512", "peft=lora", "lora-modules=linear_qkv"),
                   "latent attention has no linear_qkv", &scn, &out);
    toy_rule_error(llama, "", L("seq=512", "peft=lora", "zero=3"), "LoRA with ZeRO-2/3", &scn,
                   &out);
    toy_rule_error(llama, "", L("seq=512", "peft=lora", "lora-modules=none"),
                   "lora-modules names no linear", &scn, &out);
}

/* LoRA on a MoE model (Megatron-Bridge's default share_expert_adapters: one adapter per
 * expert-parallel rank beside the routed experts' grouped FC1 and FC2, run on the routed copies).
 * Qwen3-30B-A3B (48 layers, hidden 2048, Q 4096, K + V 1024, 128 experts of 768, top 8, SwiGLU,
 * no shared expert) at 512 tokens, rank 16: a layer's attention adapters 16 x ((2048 + 5120) +
 * (4096 + 2048)) = 212,992 parameters, its experts' 16 x ((2048 + 1536) + (768 + 2048)) =
 * 102,400 (on each of ep 2's ranks whole); the weight gradient runs their GEMMs alone, 2 x 512 x
 * 16 x (13,312 + 8 x 6,400) FLOPs a layer (8 routed copies a token) at 500 TFLOPS; the frozen
 * router and experts keep no input for a weight gradient when FC1 and FC2 are not adapted. */
Test(peft, lora_on_experts_trains_one_adapter_per_expert_rank)
{
    const char *qwen = MODEL("qwen3-30b-a3b");
    const double layers = 48.0, attention = 16.0 * 13312.0, experts = 16.0 * 6400.0;
    toy_step(qwen, 8, L("seq=512", "microbatches=1", "ep=2", "peft=lora", "lora-rank=16"), &scn,
             &out);
    const struct cm_stage *st = &out.cm.stages[0];
    cr_assert(near(st->dense_params, layers * attention), "%.12g", st->dense_params);
    cr_assert(near(st->expert_params, layers * experts), "%.12g", st->expert_params);
    double wgrad = layers * 2.0 * 512 * 16.0 * (13312.0 + 8.0 * 6400.0) / 500e12;
    cr_assert(near(st->wgt.compute, wgrad), "%.12g vs %.12g", st->wgt.compute, wgrad);
    double acts = st->act_bytes_mb;
    step_release(&out);
    toy_step(qwen, 8,
             L("seq=512", "microbatches=1", "ep=2", "peft=lora", "lora-rank=16",
               "lora-modules=linear_qkv,linear_proj"),
             &scn, &out);
    st = &out.cm.stages[0];
    cr_assert(near(st->expert_params, 0.0));
    /* each layer drops the MLP block's input (the frozen router's), the permuted copies (the
     * experts' FC1 input) and the activation's output (their FC2's): 2 bytes x 512 x (2048 +
     * 8 x (2048 + 768)) */
    cr_assert(near(acts - st->act_bytes_mb, layers * 2.0 * 512 * (2048.0 + 8 * (2048.0 + 768.0))),
              "%.12g", acts - st->act_bytes_mb);
    step_release(&out);
}

/* LoRA on a hybrid (Megatron-Bridge's Nemotron-H recipes: the four linears and the mixers'
 * in_proj and out_proj).  Nemotron 3 Nano (hidden 2688; 23 Mamba-2 layers, in_proj to 2 x 4096
 * + 2 x 8 x 128 + 64 = 10,304, out_proj from 4096; 6 attention layers, Q 4096, K + V 512; 23
 * MoE layers, one squared-ReLU shared expert of 3712, routed experts of 1856, top 6) at 512
 * tokens, rank 16: adapters of 16 x (12,992 + 6,784) a Mamba layer, 16 x (7,296 + 6,784) an
 * attention layer and 16 x (6,400 + 6,400) a MoE layer's shared expert, replicated; 16 x (4,544
 * + 4,544) its routed experts', on each of ep 2's ranks; their weight gradient runs their GEMMs
 * alone, the routed experts' on 6 copies a token. */
Test(peft, lora_on_a_hybrid_adapts_the_mixers_projections)
{
    const double mamba = 16.0 * 19776, attention = 16.0 * 14080, shared = 16.0 * 12800,
                 routed = 16.0 * 9088;
    toy_step(MODEL("nemotron-3-nano-30b-a3b"), 8,
             L("seq=512", "microbatches=1", "ep=2", "peft=lora", "lora-rank=16",
               "lora-modules=linear_qkv,linear_proj,linear_fc1,linear_fc2,in_proj,out_proj"),
             &scn, &out);
    const struct cm_stage *st = &out.cm.stages[0];
    cr_assert(near(st->dense_params, 23 * mamba + 6 * attention + 23 * shared), "%.12g",
              st->dense_params);
    cr_assert(near(st->expert_params, 23 * routed), "%.12g", st->expert_params);
    double flops = 2.0 * 512 * (23 * mamba + 6 * attention + 23 * shared + 23 * 6 * routed);
    cr_assert(near(st->wgt.compute, flops / 500e12), "%.12g vs %.12g", st->wgt.compute,
              flops / 500e12);
    double acts = st->act_bytes_mb;
    step_release(&out);
    /* without adapters on in_proj and out_proj a Mamba layer keeps neither's input: 2 bytes x
     * 512 x (2688 + 4096) */
    toy_step(MODEL("nemotron-3-nano-30b-a3b"), 8,
             L("seq=512", "microbatches=1", "ep=2", "peft=lora", "lora-rank=16"), &scn, &out);
    cr_assert(near(acts - out.cm.stages[0].act_bytes_mb, 23 * 2.0 * 512 * (2688 + 4096)),
              "%.12g", acts - out.cm.stages[0].act_bytes_mb);
    step_release(&out);
    toy_rule_error(MODEL("llama3.1-8b"), "", L("seq=512", "peft=lora", "lora-modules=in_proj"),
                   "lora-modules names no linear the model has", &scn, &out);
}

/* Latent attention has no linear_qkv (Megatron-Bridge adapts what the names match): DeepSeek-V2
 * (60 layers, 128 heads of value width 128, hidden 5120) adapts its attention's linear_proj
 * alone, 16 x (16,384 + 5,120) a layer.  An MTP module's layer takes adapters as the model's
 * do while its eh_proj stays frozen: GLM-4.5-Air (46 layers and one MTP layer, 96 heads of 128,
 * hidden 4096) holds 47 x 16 x (12,288 + 4,096) on linear_proj, and its weight gradient runs
 * those adapters alone, 2 x 512 x that many FLOPs at 500 TFLOPS.  And LatentMoE's routed
 * experts take adapters in the latent width. */
Test(peft, lora_on_latent_attention_mtp_modules_and_latent_experts)
{
    toy_step(MODEL("deepseek-v2"), 8,
             L("seq=512", "microbatches=1", "peft=lora", "lora-rank=16",
               "lora-modules=linear_proj"),
             &scn, &out);
    cr_assert(near(out.cm.stages[0].params, 60 * 16.0 * (16384 + 5120)), "%.12g",
              out.cm.stages[0].params);
    step_release(&out);
    toy_step(MODEL("glm-4.5-air"), 8,
             L("seq=512", "microbatches=1", "peft=lora", "lora-rank=16",
               "lora-modules=linear_proj"),
             &scn, &out);
    double adapters = 47 * 16.0 * (12288 + 4096);
    cr_assert(near(out.cm.stages[0].params, adapters), "%.12g", out.cm.stages[0].params);
    cr_assert(near(out.cm.stages[0].wgt.compute, 2.0 * 512 * adapters / 500e12), "%.12g",
              out.cm.stages[0].wgt.compute);
    step_release(&out);
    /* LatentMoE's experts work in the latent width: Nemotron 3 Super (40 MoE layers and its MTP
     * module's one; latent 1024, routed experts of 2688, squared ReLU) holds 41 x 16 x ((1024 +
     * 2688) + (2688 + 1024)) expert adapters, its latent projections frozen */
    toy_step(MODEL("nemotron-3-super-120b-a12b"), 8,
             L("seq=512", "microbatches=1", "ep=2", "peft=lora", "lora-rank=16",
               "lora-modules=linear_fc1,linear_fc2"),
             &scn, &out);
    cr_assert(near(out.cm.stages[0].expert_params, 41 * 16.0 * 7424), "%.12g",
              out.cm.stages[0].expert_params);
    step_release(&out);
}

/* The model FLOPs behind MFU under LoRA leave out the frozen linears' weight gradient: 3 x the
 * forward less one forward of every matmul but the attention cores (which hold no weights). */
Test(peft, lora_model_flops_leave_out_the_frozen_weight_gradient)
{
    toy_step(MODEL("llama3.1-8b"), 8, L("seq=512", "microbatches=1"), &scn, &out);
    double full = out.cm.model_flops_step, samples = out.cm.cfg.global_batch;
    double linears = flops_model_fwd(&out.cm.model, 512, 0) -
                     flops_model_attn_core(&out.cm.model, 512, 0);
    step_release(&out);
    toy_step(MODEL("llama3.1-8b"), 8, L("seq=512", "microbatches=1", "peft=lora"), &scn, &out);
    cr_assert(near(out.cm.model_flops_step, full - samples * linears), "%.12g vs %.12g",
              out.cm.model_flops_step, full - samples * linears);
    cr_assert_gt(linears, 0.9 * flops_model_fwd(&out.cm.model, 512, 0));
    step_release(&out);
}

/* Packed sequences (packed-doc-tokens): documents of d tokens packed into a sequence attend
 * within themselves, d / s of the sequence's attention.  Llama-3.1-8B at 4096 tokens in
 * documents of 512: each layer's causal core, 2 x 4096^2 x 32 x 256 x 0.5 FLOPs at the toy
 * GPU's 250 TFLOPS, keeps 1/8 of its forward; the model FLOPs drop by 7/8 of the attention. */
Test(peft, packed_documents_attend_within_themselves)
{
    const char *llama = MODEL("llama3.1-8b");
    double core = 2.0 * 4096.0 * 4096.0 * 32 * 256 * 0.5 / 250e12;
    toy_step(llama, 8, L("seq=4096", "microbatches=1"), &scn, &out);
    double fwd = out.cm.stages[0].fwd.compute, flops = out.cm.model_flops_step;
    double samples = out.cm.cfg.global_batch;
    double attention = flops_model_attn_core(&out.cm.model, 4096, 0);
    step_release(&out);
    toy_step(llama, 8, L("seq=4096", "microbatches=1", "packed-doc-tokens=512"), &scn, &out);
    cr_assert(near(fwd - out.cm.stages[0].fwd.compute, LAYERS * core * 7.0 / 8.0), "%.12g",
              fwd - out.cm.stages[0].fwd.compute);
    cr_assert(near(flops - out.cm.model_flops_step, 3.0 * samples * attention * 7.0 / 8.0));
    step_release(&out);
    toy_rule_error(llama, "", L("seq=4096", "packed-doc-tokens=8192"),
                   "longer than the sequence", &scn, &out);
}

/* Packed documents under context parallelism (Transformer Engine's THD format, each document
 * in 2 x cp load-balanced chunks): each rank's attention core keeps d / s of its share, as
 * without CP, and the K/V ring passes what it passed unpacked, now behind less attention.
 * Llama-3.1-8B at 4096 tokens on cp 2: a rank's causal core, 2 x 4096^2 x 32 x 256 x 0.5 / 2
 * FLOPs at 250 TFLOPS, keeps 1/8 of its forward with documents of 512; the ring's one step
 * moves the rank's K and V, 2 x 2 x 2048 x 8 x 128 bytes at the toy's 100 GB/s NVLink, 0.168 ms,
 * hidden behind the core of 0.55 ms unpacked and exposed past the 0.069 ms packed. */
Test(peft, packed_documents_under_context_parallelism)
{
    const char *llama = MODEL("llama3.1-8b");
    double core = 2.0 * 4096.0 * 4096.0 * 32 * 256 * 0.5 / 2.0 / 250e12;
    double ring = 2.0 * 2.0 * 2048 * 8 * 128 / 100e9;
    toy_step(llama, 8, L("seq=4096", "microbatches=1", "cp=2"), &scn, &out);
    double fwd = out.cm.stages[0].fwd.compute, cp_fwd = out.cm.stages[0].fwd.cp;
    step_release(&out);
    toy_step(llama, 8, L("seq=4096", "microbatches=1", "cp=2", "packed-doc-tokens=512"), &scn,
             &out);
    cr_assert(near(fwd - out.cm.stages[0].fwd.compute, LAYERS * core * 7.0 / 8.0), "%.12g",
              fwd - out.cm.stages[0].fwd.compute);
    cr_assert(near(cp_fwd, 0.0), "%.12g", cp_fwd);
    cr_assert(near(out.cm.stages[0].fwd.cp, LAYERS * (ring - core / 8.0)), "%.12g vs %.12g",
              out.cm.stages[0].fwd.cp, LAYERS * (ring - core / 8.0));
    step_release(&out);
    toy_rule_error(llama, "", L("seq=4096", "cp=4", "packed-doc-tokens=6"),
                   "shorter than the 2 x cp chunks", &scn, &out);
    toy_rule_error(llama, "fp8-attention-gain=\"2\" fp8-attention-backward-gain=\"1\"",
                   L("seq=4096", "cp=2", "dtype=fp8", "fp8-attention=true",
                                "packed-doc-tokens=512"),
                   "runs no fp8 attention with context parallelism", &scn, &out);
}

/* A frozen linear keeps no input for a weight gradient (Transformer Engine's
 * backward_needs_input): with adapters on linear_qkv alone, Llama-3.1-8B at 512 tokens stops
 * keeping FC1's input (2 x 512 x 4096 bytes) and FC2's (2 x 512 x 14336) in each of its 32
 * layers; with adapters on all four linears every input is kept, for the adapters. */
Test(peft, frozen_linears_keep_no_inputs)
{
    const char *llama = MODEL("llama3.1-8b");
    toy_step(llama, 8, L("seq=512", "microbatches=1"), &scn, &out);
    double full = out.cm.stages[0].act_bytes_mb;
    step_release(&out);
    toy_step(llama, 8, L("seq=512", "microbatches=1", "peft=lora", "lora-modules=linear_qkv"),
             &scn, &out);
    cr_assert(near(full - out.cm.stages[0].act_bytes_mb, LAYERS * 2.0 * 512 * (4096 + 14336)),
              "%.12g", full - out.cm.stages[0].act_bytes_mb);
    step_release(&out);
    toy_step(llama, 8, L("seq=512", "microbatches=1", "peft=lora"), &scn, &out);
    cr_assert(near(out.cm.stages[0].act_bytes_mb, full));
    step_release(&out);
}
