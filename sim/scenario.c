/* scenario: the key table, value parsing and cross-field rules for scenario inputs.
 *
 * One table maps each key to its type and field; XML attributes and --set overrides both go
 * through scn_set(), so a value is parsed and range-checked in exactly one place.  Files are
 * read in scenario_load.c. */
#include "scenario.h"

#include <assert.h>
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "library.h"
#include "nearest.h"
#include "schedule.h"
#include "pplayout.h"
#include "stagesplit.h"
#include "units.h"
#include "framework.h"
#include "hardware.h"

enum value_type {
    VT_NAME,
    VT_INT,
    VT_TIME,
    VT_BYTES,
    VT_BANDWIDTH,
    VT_BOOL,
    VT_SEED,
    VT_FRACTION,
    VT_PATH,   /* a file; in a scenario file, relative to that file's folder */
    VT_CHOICE, /* one word of `choices`, stored as its index */
    VT_FACTOR, /* a plain number in [1, 16] */
    VT_FLAGS,  /* comma-separated words of `choices`, stored as bits (word i = 1 << i) */
    VT_LAYOUT, /* a Megatron-Core pipeline layout, stored unrolled (pplayout.h) */
};

/* In enum dtype order (hardware.h). */
static const char *const dtype_choices[] = {"fp32", "tf32", "bf16", "fp16", "fp8", "nvfp4", NULL};
static const char *const recompute_choices[] = {"none", "selective", "full", NULL};
static const char *const attention_choices[] = {"flash", "unfused", NULL};
static const char *const elementwise_choices[] = {"fused", "eager", NULL};
static const char *const attention_kernel_choices[] = {"best", "fa2", NULL};
static const char *const grad_accumulation_choices[] = {"fused", "autograd", "fp32-copy",
                                                         "main-grad", NULL};
static const char *const fp8_recipe_choices[] = {"delayed", "current", "blockwise", "mxfp8",
                                                  "rowwise", NULL};
static const char *const router_dtype_choices[] = {"bf16", "fp32", NULL};
static const char *const mla_down_proj_choices[] = {"duplicated", "column", NULL};
/* In enum scn_cross_entropy order (scenario.h). */
static const char *const cross_entropy_choices[] = {"fused", "unfused", "te", "torch", NULL};
static const char *const dispatcher_choices[] = {"alltoall", "allgather", "deepep", "hybridep",
                                                  NULL};
static const char *const ep_wire_choices[] = {"bf16", "fp8", NULL};
static const char *const fsdp_choices[] = {"none",         "full-shard", "shard-grad-op",
                                           "hybrid-shard", "no-shard",   NULL};
static const char *const fsdp_outer_choices[] = {"none", "optim", NULL};
static const char *const peft_choices[] = {"none", "lora", "dora", NULL};
static const char *const lora_module_choices[] = {"linear_qkv", "linear_proj", "linear_fc1",
                                                  "linear_fc2", "in_proj",     "out_proj",
                                                  NULL};
static const char *const optimizer_state_choices[] = {"fp32", "bf16-moments", "bf16", NULL};
static const char *const optimizer_algorithm_choices[] = {"adam", "muon", NULL};
/* Megatron-Core's --recompute-modules names, and torchtitan's per-op policy ("op"), in enum
 * scn_recompute_module bit order. */
static const char *const recompute_module_choices[] = {
    "core_attn", "mlp", "moe", "moe_act", "layernorm", "mla_up_proj", "shared_experts", "op",
    NULL};
/* Megatron-Core's --offload-modules names, in enum scn_offload_module bit order. */
static const char *const offload_module_choices[] = {
    "attn_norm", "qkv_linear", "core_attn", "attn_proj", "mlp_norm", "expert_fc1", "moe_act",
    "fused_group_mlp", "all", NULL};
/* In enum scn_cuda_graphs order, and Megatron-Core's --cuda-graph-scope names in enum
 * scn_graph_scope bit order (scenario.h). */
static const char *const cuda_graphs_choices[] = {"none", "full-iteration", "modules", NULL};
static const char *const graph_scope_choices[] = {"attn",           "mlp",   "moe", "moe_router",
                                                  "moe_preprocess", "mamba", NULL};
/* In enum scn_linear_module bit order (scenario.h). */
static const char *const linear_module_choices[] = {
    "attn_qkv", "attn_proj", "mamba_in", "mamba_out", "mlp", "shared_experts", "experts",
    "latent_proj", "mtp", NULL};
static const char *const recompute_method_choices[] = {"uniform", "block", NULL};
static const char *const cp_comm_choices[] = {"p2p", "allgather", "a2a", "a2a+p2p", NULL};
/* In enum scn_rank_order order. */
static const char *const rank_order_choices[] = {"tp-cp-ep-dp-pp", "tp-cp-ep-pp-dp", NULL};
/* In enum scn_grad_reduce_op order. */
static const char *const grad_reduce_op_choices[] = {"auto", "all-reduce", "reduce-scatter", NULL};
/* In enum fw_id order (framework.h). */
static const char *const framework_choices[] = {"auto",       "any",      "megatron-core",
                                                "torchtitan", "deepseek", "deepspeed",
                                                NULL};

/* Where a key means something (scn_key_applies): every scenario, or one kind only. */
enum key_scope {
    KS_ANY,      /* both kinds */
    KS_MODEL,    /* the cost model's inputs: only with model= */
    KS_EXPLICIT, /* explicit costs: only without model= (the cost model derives them) */
};

/* One key: how its text is parsed and where it goes, its default, and what it means -- the
 * one source for the parser, scn_defaults, `stepsim keys` and --help. */
struct key_spec {
    const char *name;
    enum value_type type;
    size_t offset;
    long min, max;              /* VT_INT range */
    const char *const *choices; /* VT_CHOICE words */
    size_t cap;                 /* VT_NAME / VT_PATH buffer size */
    enum key_scope scope;
    const char *def;     /* default, parsed like any value by scn_defaults; NULL: the field is 0 */
    const char *zero;    /* with def NULL: what the zero value means ("tp*cp*pp"), for the docs */
    const char *doc;     /* meaning, one sentence without the unit (the type says it) */
    const char *library; /* VT_PATH: the shipped folder a bare name is found in (library.h) */
};

/* Upper bound for one time value; the step bound in scn_check() keeps sums on the picosecond
 * clock (int64, ~9.2e6 s) from overflowing. */
#define SCN_MAX_TIME_S 1e6
/* Compute ops across all ranks: 10^7 ops take ~0.4 GB and ~2 s, so this caps a run near 1 GB;
 * real configurations are far below (pp=64, vp=8, 2048 micro-batches, split B/W: 3.1M). */
#define SCN_MAX_OPS 20000000.0 /* default of the max-ops key */

#define FIELD(f) offsetof(struct scenario, f)
/* Indexed by enum scn_key. */
static const struct key_spec keys[SCN_KEY_COUNT] = {
    [SCN_NAME] = {"name", VT_NAME, FIELD(name), 0, 0, NULL, sizeof((struct scenario *)0)->name,
                  .scope = KS_ANY, .def = "unnamed",
                  .doc = "scenario name, shown in reports and plot titles"},
    [SCN_SCHEDULE] = {"schedule", VT_NAME, FIELD(schedule), 0, 0, NULL,
                      sizeof((struct scenario *)0)->schedule, .scope = KS_ANY, .def = "1f1b",
                      .doc = "pipeline schedule"},
    [SCN_PP] = {"pp", VT_INT, FIELD(pp), 1, 1 << 16, .scope = KS_ANY, .def = "1",
                .doc = "pipeline-parallel ranks"},
    [SCN_VP] =
        {"vp", VT_INT, FIELD(vp), 1, 1 << 10, .scope = KS_ANY, .def = "1",
         .doc =
             "model chunks per pipeline rank; when only implied it follows the schedule (1; 2 for "
             "zb-v, dualpipe, dualpipe-v; interleaved: the least >= 2 that splits the layers)"},
    [SCN_VP_GROUP] = {"vp-group", VT_INT, FIELD(vp_group), 1, 1 << 24, .scope = KS_ANY,
                      .zero = "pp",
                      .doc = "micro-batches per chunk group of the interleaved schedule (Megatron "
                             "microbatch_group_size_per_vp_stage)"},
    [SCN_MICROBATCHES] = {"microbatches", VT_INT, FIELD(microbatches), 1, 1 << 24, .scope = KS_ANY,
                          .def = "1",
                          .doc = "micro-batches per step and pipeline; with the cost model "
                                 "global-batch / (micro-batch x dp) unless given"},
    [SCN_MICRO_BATCH] = {"micro-batch", VT_INT, FIELD(micro_batch), 1, 1 << 20, .scope = KS_ANY,
                         .def = "1", .doc = "samples per micro-batch"},
    [SCN_SEQ] = {"seq", VT_INT, FIELD(seq), 1, 1 << 28, .scope = KS_ANY, .zero = "unknown",
                 .doc = "tokens per sample (gives tokens/s; the cost model needs it)"},
    [SCN_LAYERS] = {"layers", VT_INT, FIELD(layers), 1, 1 << 20, .scope = KS_ANY, .def = "1",
                    .doc = "transformer layers (with the cost model: the model's)"},
    [SCN_FIRST_STAGE_LAYERS] = {"first-stage-layers", VT_INT, FIELD(first_stage_layers), 0, 1 << 20,
                                .scope = KS_ANY, .zero = "even split",
                                .doc = "layers of the first virtual stage (0: the embedding "
                                       "alone); the other stages split the rest evenly"},
    [SCN_MAX_OPS_KEY] = {"max-ops", VT_INT, FIELD(max_ops), 1, 1 << 30, .scope = KS_ANY,
                         .def = "20000000",
                         .doc = "most compute ops one step may have (a resource cap)"},
    [SCN_LAST_STAGE_LAYERS] =
        {"last-stage-layers", VT_INT, FIELD(last_stage_layers), 0, 1 << 20, .scope = KS_ANY,
         .zero = "even split",
         .doc = "layers of the last virtual stage (0: the LM head and loss alone)"},
    [SCN_PIPELINE_LAYOUT] =
        {"pipeline-layout", VT_LAYOUT, FIELD(pipeline_layout), 0, 0, NULL,
         sizeof((struct scenario *)0)->pipeline_layout, .scope = KS_ANY, .zero = "even split",
         .doc = "every virtual stage's layers, as Megatron-Core's "
                "--pipeline-model-parallel-layout writes them: stages split at '|', E the "
                "embedding, t a layer, m an MTP module, L the loss, (..)*n and x*n repeat "
                "(\"Et|(tt|)*30mL\")"},
    [SCN_FORWARD] = {"forward", VT_TIME, FIELD(forward_s), 0, 0, .scope = KS_EXPLICIT, .def = "0s",
                     .doc = "forward time per layer per micro-batch"},
    [SCN_BACKWARD_INPUT] = {"backward-input", VT_TIME, FIELD(bwd_input_s), 0, 0,
                            .scope = KS_EXPLICIT, .def = "0s",
                            .doc = "backward (input-gradient) time per layer per micro-batch"},
    [SCN_BACKWARD_WEIGHT] = {"backward-weight", VT_TIME, FIELD(bwd_weight_s), 0, 0,
                             .scope = KS_EXPLICIT, .def = "0s",
                             .doc = "weight-gradient time per layer per micro-batch"},
    [SCN_SPLIT_BACKWARD] = {"split-backward", VT_BOOL, FIELD(split_backward), 0, 0, .scope = KS_ANY,
                            .def = "false",
                            .doc = "run the weight gradient as its own W op after each B (always "
                                   "on for zb-h1, zb-v, dualpipe, dualpipe-v)"},
    [SCN_ACTIVATION] = {"activation", VT_BYTES, FIELD(activation_B), 0, 0, .scope = KS_EXPLICIT,
                        .def = "0B",
                        .doc = "bytes of each activation or gradient sent between stages"},
    [SCN_OPTIMIZER] = {"optimizer", VT_TIME, FIELD(optimizer_s), 0, 0, .scope = KS_EXPLICIT,
                       .def = "0s", .doc = "optimizer step per pipeline rank"},
    [SCN_LINK_LATENCY] = {"link-latency", VT_TIME, FIELD(link_lat_s), 0, 0, .scope = KS_EXPLICIT,
                          .def = "0s", .doc = "latency of every P2P link direction"},
    [SCN_LINK_BANDWIDTH] = {"link-bandwidth", VT_BANDWIDTH, FIELD(link_bw_Bps), 0, 0,
                            .scope = KS_EXPLICIT, .zero = "unlimited",
                            .doc = "bandwidth of every P2P link direction"},
    [SCN_SEED] = {"seed", VT_SEED, FIELD(seed), 0, 0, .scope = KS_ANY, .def = "1",
                  .doc = "seed of the run's random numbers (jitter)"},
    [SCN_JITTER] = {"jitter", VT_FRACTION, FIELD(jitter), 0, 0, .scope = KS_ANY, .def = "0",
                    .doc = "coefficient of variation of every F/B/W time (log-normal)"},
    [SCN_MODEL] =
        {"model", VT_PATH, FIELD(model_path), 0, 0, NULL, sizeof((struct scenario *)0)->model_path,
         .scope = KS_ANY, .zero = "none: explicit costs", .library = "models",
         .doc =
             "model file, or the name of a shipped model (llama3.1-70b); turns the cost model on"},
    [SCN_HARDWARE] = {"hardware", VT_PATH, FIELD(hardware_path), 0, 0, NULL,
                      sizeof((struct scenario *)0)->hardware_path, .scope = KS_MODEL,
                      .zero = "none", .library = "hardware",
                      .doc = "hardware file, or the name of a shipped one (dgx-h100)"},
    [SCN_GPUS] = {"gpus", VT_INT, FIELD(gpus), 1, 1 << 24, .scope = KS_MODEL, .zero = "tp*cp*pp",
                  .doc = "world size (GPUs)"},
    [SCN_TP] = {"tp", VT_INT, FIELD(tp), 1, 1 << 10, .scope = KS_MODEL, .def = "1",
                .doc = "tensor-parallel size"},
    [SCN_CP] = {"cp", VT_INT, FIELD(cp), 1, 1 << 10, .scope = KS_MODEL, .def = "1",
                .doc = "context-parallel size"},
    [SCN_EP] = {"ep", VT_INT, FIELD(ep), 1, 1 << 12, .scope = KS_MODEL, .def = "1",
                .doc = "expert-parallel size"},
    [SCN_ETP] = {"etp", VT_INT, FIELD(etp), 1, 1 << 10, .scope = KS_MODEL, .def = "1",
                 .doc = "expert tensor-parallel size"},
    [SCN_SP] = {"sp", VT_BOOL, FIELD(sp), 0, 0, .scope = KS_MODEL, .def = "false",
                .doc = "sequence parallelism (needs tp > 1)"},
    [SCN_GLOBAL_BATCH] =
        {"global-batch", VT_INT, FIELD(global_batch), 1, 1 << 26, .scope = KS_MODEL,
         .zero = "microbatches*micro-batch*dp",
         .doc = "samples per step; microbatches = global-batch / (micro-batch x dp) unless given"},
    [SCN_DTYPE] = {"dtype", VT_CHOICE, FIELD(dtype), 0, 0, dtype_choices, 0, .scope = KS_MODEL,
                   .def = "bf16",
                   .doc = "compute precision of the linear layers' matmuls (fp8, nvfp4: the "
                          "attention core and the LM head stay bf16)"},
    [SCN_RECOMPUTE] =
        {"recompute", VT_CHOICE, FIELD(recompute), 0, 0, recompute_choices, 0, .scope = KS_MODEL,
         .def = "none",
         .doc = "activation recompute: selective runs recompute-modules again, full whole layers"},
    [SCN_DIST_OPT] = {"distributed-optimizer", VT_BOOL, FIELD(dist_opt), 0, 0, .scope = KS_MODEL,
                      .def = "false",
                      .doc = "distributed optimizer: optimizer state sharded over data "
                             "parallelism (ZeRO stage 1; a zero given earlier follows it)"},
    [SCN_OVERLAP_GRAD_REDUCE] = {"overlap-grad-reduce", VT_BOOL, FIELD(overlap_grad_reduce), 0, 0,
                                 .scope = KS_MODEL, .def = "false",
                                 .doc = "overlap the gradient reduction with the backward"},
    [SCN_OVERLAP_PARAM_GATHER] =
        {"overlap-param-gather", VT_BOOL, FIELD(overlap_param_gather), 0, 0, .scope = KS_MODEL,
         .def = "false",
         .doc = "overlap the parameter all-gather (distributed optimizer) with the forward"},
    [SCN_OVERLAP_TP_COMM] = {"overlap-tp-comm", VT_BOOL, FIELD(overlap_tp_comm), 0, 0,
                             .scope = KS_MODEL, .def = "false",
                             .doc = "overlap tensor-parallel communication with matmuls"},
    [SCN_OVERLAP_P2P] = {"overlap-p2p", VT_BOOL, FIELD(overlap_p2p), 0, 0, .scope = KS_MODEL,
                         .def = "false", .doc = "P2P sends do not block the sender"},
    [SCN_P2P_SCATTER_GATHER] = {"p2p-scatter-gather", VT_BOOL, FIELD(p2p_scatter_gather), 0, 0,
                                .scope = KS_MODEL, .def = "false",
                                .doc =
                                    "each TP rank sends 1/tp of a P2P activation (implied by sp)"},
    [SCN_GRAD_REDUCE_FP32] = {"grad-reduce-fp32", VT_BOOL, FIELD(grad_reduce_fp32), 0, 0,
                              .scope = KS_MODEL, .def = "false",
                              .doc =
                                  "keep and reduce gradients in fp32 instead of the 16-bit type"},
    [SCN_DROPOUT] = {"dropout", VT_BOOL, FIELD(dropout), 0, 0, .scope = KS_MODEL, .def = "false",
                     .doc = "hidden and attention dropout (masks kept for the backward)"},
    [SCN_ATTENTION] =
        {"attention", VT_CHOICE, FIELD(attention), 0, 0, attention_choices, 0, .scope = KS_MODEL,
         .def = "flash",
         .doc = "attention kernels: flash (fused) or unfused (GEMMs and softmax over s x s)"},
    [SCN_ATTENTION_KERNEL] = {"attention-kernel", VT_CHOICE, FIELD(attention_kernel), 0, 0,
                              attention_kernel_choices, 0, .scope = KS_MODEL, .def = "best",
                              .doc = "with flash attention: best (the kernel the hardware file's "
                                     "curve describes: cuDNN on Hopper and Blackwell) or fa2 "
                                     "(FlashAttention-2, PyTorch SDPA's flash backend: what "
                                     "torchtitan ran on Hopper before October 2025, cuDNN "
                                     "since; framework=torchtitan does not imply either)"},
    [SCN_ELEMENTWISE] = {"elementwise", VT_CHOICE, FIELD(elementwise), 0, 0, elementwise_choices,
                         0, .scope = KS_MODEL, .def = "fused",
                         .doc = "element-wise ops: fused (Transformer Engine, torch.compile) or "
                                "eager (PyTorch without compile: one kernel per op)"},
    [SCN_ROPE_FUSION] = {"rope-fusion", VT_BOOL, FIELD(rope_fusion), 0, 0, .scope = KS_MODEL,
                         .def = "true",
                         .doc = "rotary embedding in fused kernels (Megatron's apply_rope_fusion); "
                                "false: PyTorch ops, and MLA's Q/K/V assembled by copies"},
    [SCN_FP8_ATTENTION] = {"fp8-attention", VT_BOOL, FIELD(fp8_attention), 0, 0,
                           .scope = KS_MODEL, .def = "false",
                           .doc = "with dtype=fp8 or nvfp4 and flash attention: the attention "
                                  "core in fp8 (Transformer Engine's fp8 dot-product attention, "
                                  "fp8_dpa; per-tensor scaled under nvfp4), at the hardware "
                                  "file's measured fp8 / bf16 rates"},
    [SCN_FP8_OUTPUT_PROJ] = {"fp8-output-proj", VT_BOOL, FIELD(fp8_output_proj), 0, 0,
                             .scope = KS_MODEL, .def = "false",
                             .doc = "with dtype=fp8 and fp8-recipe=mxfp8: the LM head's GEMMs in "
                                    "MXFP8 (Megatron-Core fp8_output_proj: Transformer Engine's "
                                    "linear for the output layer)"},
    [SCN_OVERLAP_TP_BACKWARD] = {"overlap-tp-backward", VT_BOOL, FIELD(overlap_tp_backward), 0, 0,
                                 .scope = KS_MODEL, .def = "true",
                                 .doc = "a column-parallel layer's backward collectives run beside "
                                        "its own GEMMs (Megatron-LM since 2021, Transformer "
                                        "Engine); torchtitan: false unless given"},
    [SCN_GRAD_ACCUMULATION] = {"grad-accumulation", VT_CHOICE, FIELD(grad_accumulation), 0, 0,
                               grad_accumulation_choices, 0, .scope = KS_MODEL, .def = "fused",
                               .doc = "how micro-batch gradients are summed: fused into the "
                                      "weight-gradient GEMM (Megatron), autograd (.grad += new "
                                      "in 16 bits), fp32-copy (cast and add into fp32 after "
                                      "each backward: DeepSpeed's BF16_Optimizer), main-grad "
                                      "(Megatron unfused: .grad added into main_grad); unset, "
                                      "framework=deepspeed means fp32-copy with bf16, autograd "
                                      "with fp16"},
    [SCN_FP8_RECIPE] = {"fp8-recipe", VT_CHOICE, FIELD(fp8_recipe), 0, 0, fp8_recipe_choices, 0,
                        .scope = KS_MODEL, .def = "delayed",
                        .doc = "how fp8 GEMM inputs get their scales: Transformer Engine's "
                               "recipes (mxfp8 on Blackwell only), or rowwise (torchao's "
                               "row-wise Float8, communicating in 16 bits); given later than "
                               "the dtype, the dtype follows it (fp8)"},
    [SCN_BF16_FIRST_LAYERS] =
        {"bf16-first-layers", VT_INT, FIELD(bf16_first_layers), 0, 1 << 20, .scope = KS_MODEL,
         .def = "0",
         .doc = "with dtype fp8 / nvfp4: the first N transformer layers keep bf16 GEMMs "
                "(Megatron-Core --first-last-layers-bf16, --num-layers-at-start-in-bf16)"},
    [SCN_BF16_LAST_LAYERS] =
        {"bf16-last-layers", VT_INT, FIELD(bf16_last_layers), 0, 1 << 20, .scope = KS_MODEL,
         .def = "0",
         .doc = "with dtype fp8 / nvfp4: the last N transformer layers keep bf16 GEMMs "
                "(--num-layers-at-end-in-bf16)"},
    [SCN_BF16_MODULES] =
        {"bf16-modules", VT_FLAGS, FIELD(bf16_modules), 0, 0, linear_module_choices, 0,
         .scope = KS_MODEL, .zero = "none",
         .doc = "with dtype fp8 / nvfp4: linear modules whose GEMMs stay bf16 in every layer "
                "(Megatron-Core's quant_recipe with an empty training recipe for them)"},
    [SCN_MXFP8_MODULES] =
        {"mxfp8-modules", VT_FLAGS, FIELD(mxfp8_modules), 0, 0, linear_module_choices, 0,
         .scope = KS_MODEL, .zero = "none",
         .doc = "with dtype nvfp4: linear modules whose GEMMs run in MXFP8 instead "
                "(Megatron-Core's quant_recipe with fp8_quantization_recipe mxfp8 for them)"},
    [SCN_QUANTIZED_PARAMS] =
        {"quantized-params", VT_BOOL, FIELD(quantized_params), 0, 0, .scope = KS_MODEL,
         .def = "false",
         .doc = "with dtype fp8 / nvfp4: the linear layers' weights are kept and all-gathered "
                "quantized, with no 16-bit copy (Megatron --fp8-param-gather / "
                "--fp4-param-gather)"},
    [SCN_MOE_DISPATCHER] = {"moe-dispatcher", VT_CHOICE, FIELD(moe_dispatcher), 0, 0,
                            dispatcher_choices, 0, .scope = KS_MODEL, .def = "alltoall",
                            .doc = "how MoE tokens reach their experts (deepep: once per node; "
                                   "hybridep: priced as deepep, and its dispatch pads each "
                                   "expert's tokens for quantized GEMMs)"},
    [SCN_MOE_DISPATCH_DTYPE] = {"moe-dispatch-dtype", VT_CHOICE, FIELD(moe_dispatch_dtype), 0, 0,
                                ep_wire_choices, 0, .scope = KS_MODEL, .def = "bf16",
                                .doc = "with moe-dispatcher=deepep or hybridep: what the forward "
                                       "dispatch and the backward's combine gradient carry -- "
                                       "fp8: 1 byte an element and an fp32 scale per 128 "
                                       "(DeepSeek-V3's low-precision communication; Megatron-"
                                       "Core moe_dispatch_fwd_dtype and moe_combine_bwd_dtype "
                                       "mxfp8, as many bytes); the combines stay 16-bit; unset, "
                                       "framework=deepseek with dtype=fp8 means fp8"},
    [SCN_OVERLAP_EP_COMM] = {"overlap-ep-comm", VT_BOOL, FIELD(overlap_ep_comm), 0, 0,
                             .scope = KS_MODEL, .def = "false",
                             .doc = "steady-state F and B run as pairs hiding each other's "
                                    "expert all-to-alls (1f1b, interleaved)"},
    [SCN_MOE_SHARED_EXPERT_OVERLAP] = {"moe-shared-expert-overlap", VT_BOOL,
                                       FIELD(moe_shared_expert_overlap), 0, 0,
                                       .scope = KS_MODEL, .def = "false",
                                       .doc = "shared experts run on a side stream beside the "
                                              "dispatch (FC1) and the combine (FC2)"},
    [SCN_MOE_IMBALANCE] = {"moe-imbalance", VT_FACTOR, FIELD(moe_imbalance), 0, 0,
                           .scope = KS_MODEL, .def = "1",
                           .doc = "busiest expert rank's routed tokens over the mean"},
    [SCN_MOE_CAPACITY_FACTOR] = {"moe-capacity-factor", VT_FACTOR, FIELD(moe_capacity_factor), 0,
                                 0, .scope = KS_MODEL, .zero = "dropless",
                                 .doc = "every expert's input padded to this multiple of the "
                                        "mean token count and the excess dropped "
                                        "(Megatron-Core --moe-expert-capacity-factor with "
                                        "--moe-pad-expert-input-to-capacity): each rank computes "
                                        "and exchanges the padded count, and the shapes are "
                                        "fixed, so a CUDA graph may hold the experts"},
    [SCN_DEEPEP_SMS] = {"deepep-sms", VT_INT, FIELD(deepep_sms), 1, 1 << 16, .scope = KS_MODEL,
                        .def = "20",
                        .doc = "with moe-dispatcher=deepep or hybridep: the SMs its dispatch "
                               "and combine kernels hold, taken from the compute they overlap "
                               "(Megatron-Core --moe-deepep-num-sms)"},
    [SCN_ZERO] = {"zero", VT_INT, FIELD(zero), 0, 3, .scope = KS_MODEL, .def = "0",
                  .doc = "ZeRO stage: 1 shards optimizer state, 2 gradients too, 3 parameters; "
                         "distributed-optimizer and fsdp given earlier follow it"},
    [SCN_FSDP] = {"fsdp", VT_CHOICE, FIELD(fsdp), 0, 0, fsdp_choices, 0, .scope = KS_MODEL,
                  .def = "none",
                  .doc = "PyTorch FSDP sharding strategy (a ZeRO stage; a zero given earlier "
                         "that disagrees follows it)"},
    [SCN_FSDP_GROUP] = {"fsdp-group", VT_INT, FIELD(fsdp_group), 1, 1 << 24, .scope = KS_MODEL,
                        .zero = "dp*cp (one shard group)",
                        .doc = "data-parallel ranks one shard spans (hybrid-shard, or copies of a "
                               "sharded optimizer), replicated across the rest"},
    [SCN_FSDP_OUTER_SHARD] = {"fsdp-outer-shard", VT_CHOICE, FIELD(fsdp_outer_shard), 0, 0,
                              fsdp_outer_choices, 0, .scope = KS_MODEL, .def = "none",
                              .doc = "hybrid sharding: optim splits each shard's optimizer state "
                                     "over its replicas too (Megatron-FSDP's "
                                     "outer_dp_sharding_strategy)"},
    [SCN_RESHARD_AFTER_FORWARD] = {"reshard-after-forward", VT_BOOL, FIELD(reshard_after_forward),
                                   0, 0, .scope = KS_MODEL, .def = "true",
                                   .doc = "ZeRO-3 frees gathered parameters after the forward"},
    [SCN_OPTIMIZER_STATE] = {"optimizer-state", VT_CHOICE, FIELD(optimizer_state), 0, 0,
                             optimizer_state_choices, 0, .scope = KS_MODEL, .def = "fp32",
                             .doc = "precision of the optimizer's master weights and moments"},
    [SCN_OPTIMIZER_MOMENTS] = {"optimizer-moments", VT_INT, FIELD(optimizer_moments), 0, 2,
                               .scope = KS_MODEL, .def = "2",
                               .doc = "moments per parameter: 2 Adam, 1 Lion or momentum SGD"},
    [SCN_OPTIMIZER_ALGORITHM] = {"optimizer-algorithm", VT_CHOICE, FIELD(optimizer_algorithm), 0,
                                 0, optimizer_algorithm_choices, 0, .scope = KS_MODEL,
                                 .def = "adam",
                                 .doc = "update rule: adam (element-wise, optimizer-moments "
                                        "moments) or muon (weight matrices: one momentum, "
                                        "Newton-Schulz orthogonalized update)"},
    [SCN_MUON_NS_STEPS] = {"muon-ns-steps", VT_INT, FIELD(muon_ns_steps), 1, 100,
                           .scope = KS_MODEL, .def = "5",
                           .doc = "Newton-Schulz iterations per Muon update"},
    [SCN_RECOMPUTE_MODULES] = {"recompute-modules", VT_FLAGS, FIELD(recompute_modules), 0, 0,
                               recompute_module_choices, 0, .scope = KS_MODEL,
                               .def = "core_attn",
                               .doc = "modules selective recompute runs again (Megatron "
                                      "names; op: torchtitan's per-op policy)"},
    [SCN_RECOMPUTE_METHOD] = {"recompute-method", VT_CHOICE, FIELD(recompute_method), 0, 0,
                              recompute_method_choices, 0, .scope = KS_MODEL, .def = "uniform",
                              .doc = "full recompute: groups of num-layers (uniform) or the "
                                     "first num-layers of each chunk (block)"},
    [SCN_RECOMPUTE_NUM_LAYERS] = {"recompute-num-layers", VT_INT, FIELD(recompute_num_layers), 1,
                                  1 << 20, .scope = KS_MODEL, .def = "1",
                                  .doc = "layers per recompute group or per chunk"},
    [SCN_MTP_LAYERS] = {"mtp-layers", VT_INT, FIELD(mtp_layers), 0, 16, .scope = KS_MODEL,
                        .zero = "the model file's",
                        .doc = "multi-token-prediction modules trained"},
    [SCN_MTP_REPEATED_LAYER] = {"mtp-repeated-layer", VT_BOOL, FIELD(mtp_repeated_layer), 0, 0,
                                .scope = KS_MODEL, .def = "false",
                                .doc = "one MTP module's weights run mtp-layers times "
                                       "(Megatron --mtp-use-repeated-layer)"},
    [SCN_CP_COMM_TYPE] = {"cp-comm-type", VT_CHOICE, FIELD(cp_comm_type), 0, 0, cp_comm_choices,
                          0, .scope = KS_MODEL, .def = "p2p",
                          .doc = "how context-parallel ranks share K and V"},
    [SCN_RANK_ORDER] = {"rank-order", VT_CHOICE, FIELD(rank_order), 0, 0, rank_order_choices, 0,
                        .scope = KS_MODEL, .def = "tp-cp-ep-dp-pp",
                        .doc = "how ranks are numbered, fastest dimension first: data-parallel "
                               "peers inside a pipeline stage (Megatron-Core's default) or "
                               "tp-cp-ep-pp-dp, a replica's pipeline stages on neighbouring GPUs "
                               "(--use-tp-pp-dp-mapping): which groups share a node"},
    [SCN_DEFER_HEAD_WGRAD] = {"defer-head-wgrad", VT_BOOL, FIELD(defer_head_wgrad), 0, 0,
                              .scope = KS_MODEL, .def = "false",
                              .doc = "the LM head's weight gradients run in the pipeline flush "
                                     "(Megatron's defer_embedding_wgrad_compute)"},
    [SCN_WGRAD_DEFERRAL_LIMIT] = {"wgrad-deferral-limit", VT_INT, FIELD(wgrad_deferral_limit), 0,
                                  1 << 24, .scope = KS_MODEL, .def = "0",
                                  .doc = "with defer-head-wgrad, the most micro-batches deferred "
                                         "(0: all)"},
    [SCN_OFFLOAD_ACTIVATIONS] = {"offload-activations", VT_FRACTION, FIELD(offload_activations), 0,
                                 0, .scope = KS_MODEL, .def = "0",
                                 .doc = "share of the activations saved for the backward that "
                                        "wait in host memory"},
    [SCN_OFFLOAD_MODULES] = {"offload-modules", VT_FLAGS, FIELD(offload_modules), 0, 0,
                             offload_module_choices, 0, .scope = KS_MODEL, .zero = "none",
                             .doc = "modules whose saved inputs wait in host memory (Megatron-"
                                    "Core's fine-grained activation offloading, its names; all: "
                                    "every one the layout can offload)"},
    [SCN_OFFLOAD_MIN_ELEMENTS] = {"offload-min-elements", VT_INT, FIELD(offload_min_elements), 0,
                                  2000000000, .scope = KS_MODEL, .def = "1048576",
                                  .doc = "offload-modules: saved tensors with fewer elements stay "
                                         "on the GPU (Megatron-Core's "
                                         "--min-offloaded-tensor-size)"},
    [SCN_OFFLOAD_FRACTION] = {"offload-fraction", VT_FRACTION, FIELD(offload_fraction), 0, 0,
                              .scope = KS_MODEL, .def = "1",
                              .doc = "offload-modules: the share of each chunk's offload groups "
                                     "(a module of a layer) offloaded, the first in forward order; "
                                     "the later stay (Megatron-Core's "
                                     "--activation-offload-fraction)"},
    [SCN_OFFLOAD_PP_DELTA] = {"offload-pp-delta", VT_BYTES, FIELD(offload_pp_delta_B), 0, 0,
                              .scope = KS_MODEL, .def = "0B",
                              .doc = "offload-modules: pipeline rank r keeps r times this many "
                                     "bytes of its offload on the GPU (Megatron-Core's "
                                     "--delta-offload-bytes-across-pp-ranks)"},
    [SCN_PEFT] = {"peft", VT_CHOICE, FIELD(peft), 0, 0, peft_choices, 0, .scope = KS_MODEL,
                  .def = "none",
                  .doc = "lora: the base model frozen, low-rank adapters trained beside the "
                         "lora-modules linears (Megatron-Bridge's LoRA); dora: the same adapters "
                         "and a trained magnitude rescaling each adapted linear's output by the "
                         "row norms of W + BA, computed every micro-batch (Megatron-Bridge's "
                         "DoRA)"},
    [SCN_LORA_RANK] = {"lora-rank", VT_INT, FIELD(lora_rank), 1, 1 << 16, .scope = KS_MODEL,
                       .def = "32",
                       .doc = "peft=lora or dora: the adapters' rank (Megatron-Bridge's dim)"},
    [SCN_LORA_MODULES] = {"lora-modules", VT_FLAGS, FIELD(lora_modules), 0, 0,
                          lora_module_choices, 0, .scope = KS_MODEL, .zero = "none",
                          .def = "linear_qkv,linear_proj,linear_fc1,linear_fc2",
                          .doc = "peft=lora or dora: the linears adapted (Megatron-Bridge's "
                                 "target_modules)"},
    [SCN_PACKED_DOC_TOKENS] = {"packed-doc-tokens", VT_INT, FIELD(packed_doc_tokens), 0,
                               1 << 24, .scope = KS_MODEL, .def = "0",
                               .doc = "packed sequences: the mean tokens of the documents packed "
                                      "into each sequence, which attend within themselves "
                                      "(0: one document a sequence)"},
    [SCN_OFFLOAD_OPTIMIZER] = {"offload-optimizer", VT_FRACTION, FIELD(offload_optimizer), 0, 0,
                               .scope = KS_MODEL, .def = "0",
                               .doc = "share of the optimizer state kept and updated on the host "
                                      "(Megatron's --optimizer-offload-fraction)"},
    [SCN_MOE_ROUTER_DTYPE] = {"moe-router-dtype", VT_CHOICE, FIELD(moe_router_fp32), 0, 0,
                              router_dtype_choices, 0, .scope = KS_MODEL, .def = "bf16",
                              .doc = "the MoE router's gating GEMM and scores: bf16, or fp32 "
                                     "(Megatron-Core moe_router_dtype; input cast to fp32)"},
    [SCN_MOE_ROUTER_FUSION] = {"moe-router-fusion", VT_BOOL, FIELD(moe_router_fusion), 0, 0,
                               .scope = KS_MODEL, .def = "true",
                               .doc = "router top-k and aux-loss in fused kernels (Megatron-Core "
                                      "moe_router_fusion, 0.13+); false: PyTorch ops"},
    [SCN_MOE_FUSED_GROUPED_MLP] =
        {"moe-fused-grouped-mlp", VT_BOOL, FIELD(moe_fused_grouped_mlp), 0, 0, .scope = KS_MODEL,
         .def = "false",
         .doc = "the routed experts' MLP as two device-driven grouped GEMMs with the activation "
                "and its quantization fused in (Transformer Engine's cuteDSL fused grouped MLP, "
                "NVTE_CUTEDSL_FUSED_GROUPED_MLP; MXFP8 or NVFP4 on Blackwell)"},
    [SCN_MOE_ROUTER_PADDING] =
        {"moe-router-padding", VT_BOOL, FIELD(moe_router_padding), 0, 0, .scope = KS_MODEL,
         .def = "false",
         .doc = "in an fp8 / nvfp4 run: the routing map padded so each expert's token count "
                "is a multiple of the quantized GEMMs' alignment (Megatron-Core "
                "--moe-router-padding-for-quantization, --moe-router-padding-for-fp8); false: "
                "the experts copy their tokens into aligned segments and out again, unless "
                "moe-dispatcher=hybridep or an aligned capacity pads them"},
    [SCN_CUDA_GRAPHS] = {"cuda-graphs", VT_CHOICE, FIELD(cuda_graphs), 0, 0, cuda_graphs_choices,
                         0, .scope = KS_MODEL, .def = "none",
                         .doc = "kernels launched from CUDA graphs: full-iteration "
                                "(Megatron-Core's whole forward-backward) or the modules "
                                "cuda-graph-scope names (Transformer Engine's per-layer graphs)"},
    [SCN_CUDA_GRAPH_SCOPE] = {"cuda-graph-scope", VT_FLAGS, FIELD(cuda_graph_scope), 0, 0,
                              graph_scope_choices, 0, .scope = KS_MODEL, .def = "attn",
                              .doc = "with cuda-graphs=modules: the modules each layer's graphs "
                                     "capture (Megatron-Core --cuda-graph-scope names)"},
    [SCN_MLA_DOWN_PROJ] = {"mla-down-proj", VT_CHOICE, FIELD(mla_down_column), 0, 0,
                           mla_down_proj_choices, 0, .scope = KS_MODEL, .def = "duplicated",
                           .doc = "MLA's down-projections: duplicated on the sequence shard "
                                  "(Megatron-Core 0.14+) or column-parallel (<= 0.13: each "
                                  "gathers its input and its output over TP)"},
    [SCN_CROSS_ENTROPY] = {"cross-entropy", VT_CHOICE, FIELD(cross_entropy), 0, 0,
                           cross_entropy_choices, 0, .scope = KS_MODEL, .def = "fused",
                           .doc = "the loss over the logits: fused (Megatron-Core "
                                  "cross_entropy_loss_fusion; NeMo 2 and Megatron-Bridge), "
                                  "unfused (Megatron's default, PyTorch ops), te (Transformer "
                                  "Engine's kernels) or torch (F.cross_entropy, torchtitan)"},
    [SCN_FRAMEWORK] = {"framework", VT_CHOICE, FIELD(framework), 0, 0, framework_choices, 0,
                       .scope = KS_ANY, .def = "auto",
                       .doc = "training framework the scenario keeps to: its schedules, "
                              "sharding, recompute, offload and context parallelism, the others "
                              "refused; any: no limit; auto: none named, nothing refused, and "
                              "plan explores what "
                              "the first of megatron-core, torchtitan, deepseek, deepspeed "
                              "offering all the scenario uses offers"},
    [SCN_GRAD_REDUCE_OP] = {"grad-reduce-op", VT_CHOICE, FIELD(grad_reduce_op), 0, 0,
                            grad_reduce_op_choices, 0, .scope = KS_MODEL, .def = "auto",
                            .doc = "end-of-step gradient reduction: auto (reduce-scatter onto "
                                   "optimizer shards, else all-reduce) or all-reduce even with "
                                   "a sharded optimizer (DeepSpeed's BF16_Optimizer)"},
    [SCN_HIERARCHICAL_CP] = {"hierarchical-cp", VT_INT, FIELD(hierarchical_cp), 1, 1 << 10,
                             .scope = KS_MODEL, .zero = "none",
                             .doc = "a2a+p2p: ranks of each all-to-all group (divides cp)"},
};

static enum sim_status parse_value(struct scenario *scn, int k, const char *value, const char *file,
                                   int line, const char *option, struct sim_error *err);

/* Every key at its table default; no origin (nothing is given).  A default that does not parse
 * is a bug in the table. */
void scn_defaults(struct scenario *scn)
{
    memset(scn, 0, sizeof *scn);
    for (int k = 0; k < SCN_KEY_COUNT; k++) {
        if (!keys[k].def)
            continue;
        enum sim_status st = parse_value(scn, k, keys[k].def, NULL, 0, "default", NULL);
        assert(st == SIM_OK);
        (void)st;
    }
}

/* The bytes a key's value takes in struct scenario. */
static size_t field_size(const struct key_spec *ks)
{
    int text = ks->type == VT_NAME || ks->type == VT_PATH || ks->type == VT_LAYOUT;
    return text                  ? ks->cap
           : ks->type == VT_SEED ? sizeof(unsigned long)
           : ks->type == VT_INT || ks->type == VT_BOOL || ks->type == VT_CHOICE ||
                   ks->type == VT_FLAGS
               ? sizeof(int)
               : sizeof(double);
}

void scn_unset(struct scenario *scn, enum scn_key key)
{
    const struct key_spec *ks = &keys[key];
    if (ks->def) {
        enum sim_status st = parse_value(scn, key, ks->def, NULL, 0, "default", NULL);
        assert(st == SIM_OK);
        (void)st;
    } else {
        memset((char *)scn + ks->offset, 0, field_size(ks));
    }
    memset(&scn->origin[key], 0, sizeof scn->origin[key]);
}

int scn_key_same(const struct scenario *a, const struct scenario *b, enum scn_key key)
{
    const struct key_spec *ks = &keys[key];
    const char *fa = (const char *)a + ks->offset, *fb = (const char *)b + ks->offset;
    if (ks->type == VT_NAME || ks->type == VT_PATH || ks->type == VT_LAYOUT) /* text */
        return strncmp(fa, fb, ks->cap) == 0;
    return memcmp(fa, fb, field_size(ks)) == 0;
}

/* The first / last stage is set apart when its layer count was given -- 0 included: a stage
 * holding only the embedding, or only the LM head and loss (Megatron-Core's
 * account-for-embedding/loss-in-pipeline-split). */
static int first_apart(const struct scenario *scn)
{
    return scn_given_or_derived(scn, SCN_FIRST_STAGE_LAYERS);
}

static int last_apart(const struct scenario *scn)
{
    return scn_given_or_derived(scn, SCN_LAST_STAGE_LAYERS);
}

/* Do `rest` layers split evenly over `middle` stages, at least one each (and none left where no
 * stage lies between the ends)? */
static int ends_split_evenly(long rest, long middle)
{
    if (middle == 0)
        return rest == 0;
    return rest >= middle && rest % middle == 0;
}

/* Into `fix`, the values of the end stage key `name` (now `given`) nearest it below and above
 * that split evenly the `avail` layers the other end leaves over `middle` stages.  O(avail). */
static void suggest_end_layers(long avail, long middle, int given, const char *name, char *fix,
                               size_t len)
{
    long below = -1, above = -1;
    for (long v = 0; v <= avail; v++) {
        if (!ends_split_evenly(avail - v, middle))
            continue;
        if (v < given)
            below = v;
        else if (above < 0)
            above = v;
    }
    if (below >= 0 && above >= 0)
        snprintf(fix, len, "%s=%ld or %ld would", name, below, above);
    else if (below >= 0 || above >= 0)
        snprintf(fix, len, "%s=%ld would", name, below >= 0 ? below : above);
    else
        snprintf(fix, len, "no %s would: change pp or vp", name);
}

int scn_model_parts(const struct scenario *scn)
{
    const struct sched_type *type = scn_schedule(scn);
    return type ? sched_model_parts(type, scn->pp, scn->vp) : scn->pp * scn->vp;
}

int scn_model_part(const struct scenario *scn, int stage)
{
    const struct sched_type *type = scn_schedule(scn);
    return type ? sched_model_part(type, scn->pp, stage) : stage;
}

void scn_stage_layers(const struct scenario *scn, int stage, int *first_layer, int *count)
{
    int stages = scn_model_parts(scn);
    stage = scn_model_part(scn, stage);
    if (scn->pipeline_layout[0]) {
        pplayout_stage_layers(scn->pipeline_layout, stage, first_layer, count);
        return;
    }
    int fa = first_apart(scn), la = last_apart(scn);
    int first = fa ? scn->first_stage_layers : 0, last = la ? scn->last_stage_layers : 0;
    int middle = stages - fa - la;
    int per = middle > 0 ? (scn->layers - first - last) / middle : 0;
    if (!fa && !la) {
        *count = scn->layers / stages;
        *first_layer = stage * *count;
        return;
    }
    if (stage == 0 && fa) {
        *first_layer = 0;
        *count = first;
    } else if (stage == stages - 1 && la) {
        *first_layer = scn->layers - last;
        *count = last;
    } else {
        *first_layer = first + (stage - fa) * per;
        *count = per;
    }
}

int scn_given(const struct scenario *scn, enum scn_key key)
{
    const struct scn_origin *o = &scn->origin[key];
    return o->file > 0 || o->option[0] != '\0';
}

int scn_given_or_derived(const struct scenario *scn, enum scn_key key)
{
    return scn_given(scn, key) || scn->origin[key].derived;
}

const char *scn_origin_text(const struct scenario *scn, const struct scn_origin *o)
{
    if (o->file > 0 && o->file <= scn->n_origin_files)
        return scn->origin_files[o->file - 1];
    return o->option;
}

enum sim_status scn_hw_knob_error(const struct scenario *scn, const struct scn_hw_knob *k,
                                  const char *why, struct sim_error *err)
{
    const char *where = scn_origin_text(scn, &k->origin);
    if (k->origin.line > 0)
        return err_set(err, SIM_EINPUT, where, k->origin.line, "hw.%s: %s", k->name, why);
    if (k->origin.alias)
        return err_set(err, SIM_EINPUT, NULL, 0, "%s %s: %s", where, k->value, why);
    return err_set(err, SIM_EINPUT, NULL, 0, "%s hw.%s=%s: %s", where, k->name, k->value, why);
}

/* Origins name files by index into origin_files, each file once; one load chain names at
 * most SCN_MAX_BASE_FILES of them.  The index `file` has or would get: -1 when the table is
 * full without it. */
static int origin_file_slot(const struct scenario *scn, const char *file)
{
    int i = 0;
    while (i < scn->n_origin_files && strncmp(scn->origin_files[i], file, 255) != 0)
        i++;
    return i < SCN_MAX_BASE_FILES ? i : -1;
}

static enum sim_status origin_check(const struct scenario *scn, const char *file, int line,
                                    struct sim_error *err)
{
    if (file && origin_file_slot(scn, file) < 0)
        return err_set(err, SIM_EINPUT, file, line, "values from more than %d scenario files",
                       SCN_MAX_BASE_FILES);
    return SIM_OK;
}

/* Record that `file`:`line` (or, without a file, `option`) set a value; origin_check has
 * said the file fits. */
static void origin_record(struct scenario *scn, struct scn_origin *o, const char *file, int line,
                          const char *option)
{
    memset(o, 0, sizeof *o);
    o->order = o->value_order = file ? scn->files_applied + 1 : SCN_ORDER_SET;
    if (!file) { /* a plain copy: the planner records an origin for every key of every config */
        size_t n = strnlen(option, sizeof o->option - 1);
        memcpy(o->option, option, n);
        o->option[n] = '\0';
        return;
    }
    int i = origin_file_slot(scn, file);
    if (i == scn->n_origin_files)
        snprintf(scn->origin_files[scn->n_origin_files++], sizeof scn->origin_files[0], "%s",
                 file);
    o->file = (signed char)(i + 1);
    o->line = line;
}

int scn_stage_of(const struct scenario *scn, int rank, int chunk)
{
    const struct sched_type *type = scn_schedule(scn);
    return type ? sched_stage_of(type, scn->pp, rank, chunk) : chunk * scn->pp + rank;
}

const struct sched_type *scn_schedule(const struct scenario *scn)
{
    return scn->sched ? scn->sched : sched_find(scn->schedule);
}

int scn_split_backward(const struct scenario *scn)
{
    const struct sched_type *type = scn_schedule(scn);
    return scn->split_backward || (type && type->builds_w);
}

/* The ZeRO stage each fsdp strategy means (enum scn_fsdp order); -1: fsdp not given. */
static const int fsdp_stage[] = {-1, 3, 3, 3, 0};

int scn_fsdp_stage(int fsdp)
{
    return fsdp_stage[fsdp];
}

enum sim_status scn_resolve_sharding(const struct scenario *scn, struct scn_sharding *out,
                                     struct sim_error *err)
{
    int stage = scn->zero;
    if (scn->fsdp != FSDP_NONE) {
        if (scn_given(scn, SCN_ZERO) && scn->zero != fsdp_stage[scn->fsdp])
            return scn_rule_error_keys(scn, SCN_KEYS(SCN_ZERO, SCN_FSDP), err,
                                       "zero=%d contradicts fsdp=%s (ZeRO stage %d)", scn->zero,
                                       fsdp_choices[scn->fsdp], fsdp_stage[scn->fsdp]);
        stage = fsdp_stage[scn->fsdp];
    }
    if (scn->dist_opt && stage == 0 && (scn_given(scn, SCN_ZERO) || scn->fsdp != FSDP_NONE))
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_DIST_OPT, SCN_ZERO), err,
                                   "distributed-optimizer=true shards the optimizer state, which "
                                   "zero=0 / fsdp=no-shard does not");
    if (scn->dist_opt && stage < 1)
        stage = 1;
    int hybrid = scn->fsdp == FSDP_HYBRID_SHARD;
    if (hybrid && !scn_given(scn, SCN_FSDP_GROUP))
        return scn_rule_error(scn, SCN_FSDP, err,
                              "fsdp=hybrid-shard needs fsdp-group (the data-parallel ranks one "
                              "shard spans)");
    if (scn_given(scn, SCN_FSDP_GROUP) && (stage == 0 || (!hybrid && scn->fsdp != FSDP_NONE)))
        return scn_rule_error(scn, SCN_FSDP_GROUP, err,
                              "fsdp-group applies to fsdp=hybrid-shard or a sharded zero "
                              "stage without fsdp");
    int grouped = hybrid || scn_given(scn, SCN_FSDP_GROUP);
    if (scn->fsdp_outer_shard == FSDP_OUTER_OPTIM && !grouped)
        return scn_rule_error(scn, SCN_FSDP_OUTER_SHARD, err,
                              "fsdp-outer-shard=optim splits a shard over its replicas: it needs "
                              "fsdp-group (hybrid sharding)");
    int reshard = scn->reshard_after_forward;
    if (scn->fsdp == FSDP_SHARD_GRAD_OP) {
        if (scn_given(scn, SCN_RESHARD_AFTER_FORWARD) && reshard)
            return scn_rule_error(scn, SCN_RESHARD_AFTER_FORWARD, err,
                                  "fsdp=shard-grad-op keeps parameters gathered from forward "
                                  "to backward; reshard-after-forward=true contradicts it");
        reshard = 0;
    }
    *out = (struct scn_sharding){stage, reshard, grouped,
                                 grouped && scn->fsdp_outer_shard == FSDP_OUTER_OPTIM};
    return SIM_OK;
}

struct sched_params scn_sched_params(const struct scenario *scn)
{
    return (struct sched_params){scn->pp, scn->vp, scn->microbatches, scn->vp_group,
                                 scn_split_backward(scn), scn->overlap_ep_comm};
}

int scn_is_modelled(const struct scenario *scn)
{
    return scn->model_path[0] != '\0';
}

int scn_key_find(const char *name)
{
    for (int k = 0; k < SCN_KEY_COUNT; k++)
        if (strcmp(keys[k].name, name) == 0)
            return k;
    return -1;
}

const char *scn_key_name(enum scn_key key)
{
    return keys[key].name;
}

/* What other tools call a key, so that a user who types Megatron-LM's flag (its arguments.py),
 * a torchtitan / DeepSpeed / NeMo setting or a common short form is pointed at stepsim's key
 * ("tensor-model-parallel-size": "tp") where spelling alone would suggest nothing.  Matched
 * after dropping leading dashes, lowering case and reading '_' as '-'. */
static const struct key_alias {
    const char *alias, *key;
} key_aliases[] = {
    {"tensor-model-parallel-size", "tp"},   {"tensor-parallel-size", "tp"},
    {"tensor-parallel", "tp"},              {"tensor-parallel-degree", "tp"},
    {"tp-size", "tp"},                      {"pipeline-model-parallel-size", "pp"},
    {"pipeline-parallel-size", "pp"},       {"pipeline-parallel", "pp"},
    {"pipeline-parallel-degree", "pp"},     {"pp-size", "pp"},
    {"context-parallel-size", "cp"},        {"context-parallel-degree", "cp"},
    {"cp-size", "cp"},                      {"expert-model-parallel-size", "ep"},
    {"expert-parallel-size", "ep"},         {"expert-parallel-degree", "ep"},
    {"ep-size", "ep"},                      {"expert-tensor-parallel-size", "etp"},
    {"virtual-pipeline-model-parallel-size", "vp"}, {"vpp", "vp"},
    {"micro-batch-size", "micro-batch"},    {"mbs", "micro-batch"},
    {"local-batch-size", "micro-batch"},    {"global-batch-size", "global-batch"},
    {"gbs", "global-batch"},                {"batch-size", "global-batch"},
    {"num-microbatches", "microbatches"},   {"num-micro-batches", "microbatches"},
    {"gradient-accumulation-steps", "microbatches"}, {"grad-accum", "microbatches"},
    {"seq-length", "seq"},                  {"seq-len", "seq"},
    {"sequence-length", "seq"},             {"num-layers", "layers"},
    {"world-size", "gpus"},                 {"num-gpus", "gpus"},
    {"sequence-parallel", "sp"},            {"use-distributed-optimizer", "distributed-optimizer"},
    {"recompute-granularity", "recompute"}, {"activation-checkpointing", "recompute"},
    {"zero-stage", "zero"},                 {"tp-comm-overlap", "overlap-tp-comm"},
    {"moe-token-dispatcher-type", "moe-dispatcher"}, {"precision", "dtype"},
    {"mixed-precision", "dtype"},
};

/* name as key_aliases spells its entries, into buf */
static void alias_form(const char *name, char *buf, size_t len)
{
    while (*name == '-')
        name++;
    size_t n = 0;
    for (; *name && n + 1 < len; name++)
        buf[n++] = *name == '_' ? '-' : (char)tolower((unsigned char)*name);
    buf[n] = '\0';
}

const char *scn_key_alias_at(size_t i)
{
    return i < sizeof key_aliases / sizeof key_aliases[0] ? key_aliases[i].alias : NULL;
}

/* The second word of the pair of `table` whose first is `name` in alias_form, or NULL */
static const char *pair_lookup(const struct key_alias *table, size_t n, const char *name)
{
    char form[64];
    alias_form(name, form, sizeof form);
    for (size_t i = 0; i < n; i++)
        if (strcmp(form, table[i].alias) == 0)
            return table[i].key;
    return NULL;
}

const char *scn_key_alias(const char *name)
{
    return pair_lookup(key_aliases, sizeof key_aliases / sizeof key_aliases[0], name);
}

/* Names users reach for that are no key: quantities stepsim derives (cm_rules.c's layout), and
 * a name as near one key as another (a did-you-mean would pick one of the two).  What to set. */
static const struct key_alias derived_names[] = { /* {name, the hint} */
    {"microbatch", "micro-batch is the samples in one micro-batch, microbatches the micro-batches "
                   "in a step"},
    {"dp", "dp follows from gpus / (tp x cp x pp): set gpus"},
    {"data-parallel-size", "dp follows from gpus / (tp x cp x pp): set gpus"},
    {"dp-size", "dp follows from gpus / (tp x cp x pp): set gpus"},
    {"edp", "expert-dp follows from gpus / (etp x ep x pp): set gpus"},
    {"expert-dp", "expert-dp follows from gpus / (etp x ep x pp): set gpus"},
    {"nodes", "nodes follow from gpus and the hardware's GPUs per node: set gpus"},
    {"nnodes", "nodes follow from gpus and the hardware's GPUs per node: set gpus"},
    {"num-nodes", "nodes follow from gpus and the hardware's GPUs per node: set gpus"},
};

const char *scn_key_hint(const char *name)
{
    return pair_lookup(derived_names, sizeof derived_names / sizeof derived_names[0], name);
}

const char *scn_key_suggest(const char *name)
{
    const char *alias = scn_key_alias(name);
    if (alias)
        return alias;
    const char *names[SCN_KEY_COUNT];
    for (int k = 0; k < SCN_KEY_COUNT; k++)
        names[k] = keys[k].name;
    int k = nearest_word(name, names, SCN_KEY_COUNT);
    return k < 0 ? NULL : keys[k].name;
}

void scn_mark_derived(struct scenario *scn, enum scn_key key)
{
    memset(&scn->origin[key], 0, sizeof scn->origin[key]);
    scn->origin[key].derived = 1;
}

int scn_key_applies(const struct scenario *scn, enum scn_key key)
{
    switch (keys[key].scope) {
    case KS_MODEL: return scn_is_modelled(scn);
    case KS_EXPLICIT: return !scn_is_modelled(scn);
    case KS_ANY: break;
    }
    return 1;
}

static void describe_value(const struct key_spec *ks, char *buf, size_t len)
{
    size_t used = 0;
    switch (ks->type) {
    case VT_NAME:
        if (ks->offset == FIELD(schedule))
            snprintf(buf, len, "one of %s", sched_names());
        else
            snprintf(buf, len, "text of 1 to %zu characters", ks->cap - 1);
        return;
    case VT_INT: snprintf(buf, len, "whole number in [%ld, %ld]", ks->min, ks->max); return;
    case VT_SEED: snprintf(buf, len, "whole number in [0, 2147483647]"); return;
    case VT_TIME: snprintf(buf, len, "time: 1.5ms, 3 us (s ms us ns ps)"); return;
    case VT_BYTES: snprintf(buf, len, "size: 64MiB, 2 GB (B KB MB GB TB KiB MiB GiB TiB)"); return;
    case VT_BANDWIDTH:
        snprintf(buf, len, "bandwidth: 450GB/s, 400 Gb/s (bytes: B/s or Bps; bits: b/s or bps)");
        return;
    case VT_BOOL: snprintf(buf, len, "true or false"); return;
    case VT_FRACTION: snprintf(buf, len, "fraction: 0.05 or 5%% (at most 1)"); return;
    case VT_PATH:
        snprintf(buf, len, "file (relative to the scenario file) or a shipped name");
        return;
    case VT_LAYOUT:
        snprintf(buf, len, "layout of E t m L | stages, (..)*n and x*n repeats");
        return;
    case VT_CHOICE:
    case VT_FLAGS:
        used = (size_t)snprintf(buf, len,
                                ks->type == VT_FLAGS ? "names joined by , or +, of" : "one of");
        for (int i = 0; ks->choices[i] && used < len; i++)
            used += (size_t)snprintf(buf + used, len - used, "%s %s", i ? "," : "", ks->choices[i]);
        return;
    case VT_FACTOR: snprintf(buf, len, "number in [1, 16]"); return;
    }
    snprintf(buf, len, "?");
}

void scn_key_describe(enum scn_key key, struct scn_key_doc *out)
{
    const struct key_spec *ks = &keys[key];
    memset(out, 0, sizeof *out);
    out->name = ks->name;
    out->doc = ks->doc ? ks->doc : "(not documented)";
    describe_value(ks, out->value, sizeof out->value);
    snprintf(out->def, sizeof out->def, "%s", ks->def ? ks->def : ks->zero ? ks->zero : "0");
    out->applies = ks->scope == KS_MODEL      ? "cost model"
                   : ks->scope == KS_EXPLICIT ? "explicit costs"
                                              : "";
}

const char *scn_choice_name(enum scn_key key, int index)
{
    const char *const *c = keys[key].choices;
    for (int i = 0; c && c[i]; i++)
        if (i == index)
            return c[i];
    return "?";
}

int scn_choice_find(enum scn_key key, const char *word)
{
    const char *const *c = keys[key].choices;
    for (int i = 0; c && c[i]; i++)
        if (strcmp(c[i], word) == 0)
            return i;
    return -1;
}

void scn_flag_names(enum scn_key key, int bits, char *buf, size_t len)
{
    const char *const *c = keys[key].choices;
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; c && c[i] && used < len; i++)
        if (bits & (1 << i))
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "", c[i]);
}

/* `v` in the largest of `units` (ascending factors, NULL-ended) it reaches, or the first. */
static void quantity_text(double v, const char *const *names, const double *factors, char *buf,
                          size_t len)
{
    int u = 0;
    while (names[u + 1] && v >= factors[u + 1])
        u++;
    snprintf(buf, len, "%.6g %s", v / factors[u], names[u]);
}

void scn_value_text(const struct scenario *scn, enum scn_key key, char *buf, size_t len)
{
    static const char *const time_units[] = {"ps", "ns", "us", "ms", "s", NULL};
    static const double time_factors[] = {1e-12, 1e-9, 1e-6, 1e-3, 1.0};
    static const char *const byte_units[] = {"B", "KiB", "MiB", "GiB", "TiB", NULL};
    static const double byte_factors[] = {1.0, 1024.0, 1048576.0, 1073741824.0,
                                          1099511627776.0};
    static const char *const bw_units[] = {"Bps", "KBps", "MBps", "GBps", "TBps", NULL};
    static const double bw_factors[] = {1.0, 1e3, 1e6, 1e9, 1e12};
    const struct key_spec *ks = &keys[key];
    const char *field = (const char *)scn + ks->offset;
    int iv = 0;
    double dv = 0;
    if (ks->type == VT_INT || ks->type == VT_BOOL || ks->type == VT_CHOICE || ks->type == VT_FLAGS)
        memcpy(&iv, field, sizeof iv);
    else if (ks->type != VT_NAME && ks->type != VT_PATH && ks->type != VT_LAYOUT &&
             ks->type != VT_SEED)
        memcpy(&dv, field, sizeof dv);
    switch (ks->type) {
    case VT_NAME:
    case VT_PATH:
    case VT_LAYOUT: snprintf(buf, len, "%.*s", (int)strnlen(field, ks->cap), field); break;
    case VT_INT: snprintf(buf, len, "%d", iv); break;
    case VT_SEED: {
        unsigned long seed;
        memcpy(&seed, field, sizeof seed);
        snprintf(buf, len, "%lu", seed);
        break;
    }
    case VT_BOOL: snprintf(buf, len, "%s", iv ? "true" : "false"); break;
    case VT_CHOICE: snprintf(buf, len, "%s", scn_choice_name(key, iv)); break;
    case VT_FLAGS:
        scn_flag_names(key, iv, buf, len);
        if (!buf[0]) /* no bits: the key's word for that (parse_flags), not a blank */
            snprintf(buf, len, "%s", ks->zero ? ks->zero : "none");
        break;
    case VT_TIME:
        if (dv == 0)
            snprintf(buf, len, "0 s");
        else
            quantity_text(dv, time_units, time_factors, buf, len);
        break;
    case VT_BYTES: quantity_text(dv, byte_units, byte_factors, buf, len); break;
    case VT_BANDWIDTH: quantity_text(dv, bw_units, bw_factors, buf, len); break;
    case VT_FRACTION:
    case VT_FACTOR: snprintf(buf, len, "%.6g", dv); break;
    }
}

/* A relative path in a file is relative to that file's folder; one from --set (file NULL), to
 * the working directory. */
void scn_resolve_relative(const char *file, const char *value, char *out, size_t len)
{
    const char *slash = file ? strrchr(file, '/') : NULL;
    if (value[0] != '/' && slash && value[0])
        snprintf(out, len, "%.*s/%s", (int)(slash - file), file, value);
    else
        snprintf(out, len, "%s", value);
}

/* Errors from the command line have no file line; name the option instead. */
static enum sim_status value_error(const char *file, int line, const char *option, const char *key,
                                   const char *value, const char *why, struct sim_error *err)
{
    if (file)
        return err_set(err, SIM_EINPUT, file, line, "%s: %s", key, why);
    return err_set(err, SIM_EINPUT, NULL, 0, "%s %s=%s: %s", option, key, value, why);
}

/* "model: 'llama3-70b' is neither a file nor a shipped model: did you mean 'llama2-70b'?", or
 * the list of what the library holds. */
static enum sim_status not_in_library(const struct key_spec *ks, const char *value,
                                      const char *file, int line, const char *option,
                                      struct sim_error *err)
{
    char near[192], list[448], why[768];
    int n = library_names(ks->library, value, near, sizeof near, list, sizeof list);
    if (near[0])
        snprintf(why, sizeof why,
                 "'%.64s' is neither a file nor a shipped %s: did you mean %s?", value,
                 ks->name, near);
    else if (n > 0)
        snprintf(why, sizeof why, "'%.64s' is neither a file nor a shipped %s (shipped: %s)",
                 value, ks->name, list);
    else
        snprintf(why, sizeof why,
                 "'%.64s' is neither a file nor a shipped %s (no shipped files found; "
                 "STEPSIM_DATADIR names their folder)",
                 value, ks->name);
    return value_error(file, line, option, ks->name, value, why, err);
}

/* Parse `value` into key k's field, checked once for files, options and defaults alike. */
/* Index of `word` among the key's choices, or -1 with the list in `why`. */
static int choice_index(const struct key_spec *ks, const char *word, char *why, size_t len)
{
    for (int i = 0; ks->choices[i]; i++)
        if (strcmp(word, ks->choices[i]) == 0)
            return i;
    size_t used = (size_t)snprintf(why, len, "'%.40s' is not one of", word);
    for (int i = 0; ks->choices[i] && used < len; i++)
        used += (size_t)snprintf(why + used, len - used, " %s", ks->choices[i]);
    return -1;
}

/* A file path, resolved against the referring file; a bare name that is no file here is looked
 * up among the shipped files (library.h), and one the library does not hold either is an
 * error naming what it holds.  A file may name only regular files: a FIFO or a device (a ref
 * to /dev/stdin, a tty, a pipe nobody writes to) would block or read what the user never
 * passed.  A path that does not exist yet is left to the loader's "cannot open". */
static enum sim_status parse_path(const struct key_spec *ks, const char *value, const char *file,
                                  int line, const char *option, char *field,
                                  struct sim_error *err)
{
    char resolved[2048], why[256];
    scn_resolve_relative(file, value, resolved, sizeof resolved);
    size_t n = strlen(resolved);
    if (value[0] == '\0' || n >= ks->cap) {
        snprintf(why, sizeof why, "a file path of 1 to %zu characters is needed", ks->cap - 1);
        return value_error(file, line, option, ks->name, value, why, err);
    }
    struct stat sb;
    if (ks->library && library_is_name(value) && stat(resolved, &sb) != 0) {
        if (library_find(ks->library, value, resolved, sizeof resolved) != 0)
            return not_in_library(ks, value, file, line, option, err);
        n = strlen(resolved);
        if (n >= ks->cap) {
            snprintf(why, sizeof why, "the shipped file's path is longer than %zu characters",
                     ks->cap - 1);
            return value_error(file, line, option, ks->name, value, why, err);
        }
    }
    if (file && stat(resolved, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        snprintf(why, sizeof why, "'%.64s' is not a regular file", value);
        return value_error(file, line, option, ks->name, value, why, err);
    }
    memcpy(field, resolved, n + 1);
    return SIM_OK;
}

/* A comma-separated list of the key's choices, as bits; -1 with `why` when it is not one. */
/* Names of `choices` separated by commas, or by '+' where commas already separate values (a
 * sweep's --vary list: recompute-modules=core_attn,core_attn+mlp). */
static int parse_flags(const struct key_spec *ks, const char *value, char *why, size_t len)
{
    if (ks->zero && strcmp(value, ks->zero) == 0) /* the key's word for no name at all, so a
                                                     sweep can vary from it */
        return 0;
    int bits = 0;
    char list[256], *save = NULL;
    snprintf(list, sizeof list, "%s", value);
    for (char *w = strtok_r(list, ",+", &save); w; w = strtok_r(NULL, ",+", &save)) {
        int found = choice_index(ks, w, why, len);
        if (found < 0)
            return -1;
        bits |= 1 << found;
    }
    if (bits == 0 || strlen(value) >= sizeof list) {
        snprintf(why, len, "a list of names separated by ',' or '+' is needed");
        return -1;
    }
    return bits;
}

/* A name of 1 to cap-1 characters without control characters (a schedule's: a known one). */
static int check_name(const struct key_spec *ks, int k, const char *value, char *why, size_t len)
{
    size_t n = strlen(value);
    if (n == 0 || n >= ks->cap) {
        snprintf(why, len, "'%.40s%s' must be 1 to %zu bytes", value, n > 40 ? "..." : "",
                 ks->cap - 1);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (iscntrl((unsigned char)value[i])) {
            snprintf(why, len, "contains a control character at offset %zu", i);
            return -1;
        }
    }
    if (k == SCN_SCHEDULE && !sched_find(value)) {
        snprintf(why, len, "unknown schedule '%s' (known: %s)", value, sched_names());
        return -1;
    }
    return 0;
}

/* A time, size or bandwidth in SI base units, in range: bandwidths positive (a free link is an
 * absent <link>), times at most 10^6 s. */
static int parse_quantity(const struct key_spec *ks, const char *value, double *dv, char *why,
                          size_t len)
{
    enum unit_kind uk = ks->type == VT_TIME    ? UNIT_TIME
                        : ks->type == VT_BYTES ? UNIT_BYTES
                                               : UNIT_BANDWIDTH;
    if (units_parse(value, uk, dv, why, len) != 0)
        return -1;
    if (uk == UNIT_BANDWIDTH && *dv <= 0.0) {
        snprintf(why, len, "'%s' must be positive (omit <link> for free links)", value);
        return -1;
    }
    if (uk == UNIT_TIME && *dv > SCN_MAX_TIME_S) {
        snprintf(why, len, "'%s' is out of range (above 10^6 s)", value);
        return -1;
    }
    return 0;
}

/* A number in [lo, hi] (fractions and factors). */
static int parse_ranged(const char *value, double lo, double hi, double *dv, char *why,
                        size_t len)
{
    if (units_parse(value, UNIT_FRACTION, dv, why, len) != 0)
        return -1;
    if (*dv < lo || *dv > hi) {
        snprintf(why, len, "'%s' is out of range [%g, %g]", value, lo, hi);
        return -1;
    }
    return 0;
}

static enum sim_status parse_value(struct scenario *scn, int k, const char *value, const char *file,
                                   int line, const char *option, struct sim_error *err)
{
    const struct key_spec *ks = &keys[k];
    char *field = (char *)scn + ks->offset;
    char why[256] = "";
    long iv;
    double dv;
    int bv, ok = 0;

    switch (ks->type) {
    case VT_PATH:
        return parse_path(ks, value, file, line, option, field, err);
    case VT_CHOICE:
        if ((ok = (bv = choice_index(ks, value, why, sizeof why)) >= 0))
            *(int *)(void *)field = bv;
        break;
    case VT_FLAGS:
        if ((ok = (bv = parse_flags(ks, value, why, sizeof why)) >= 0))
            *(int *)(void *)field = bv;
        break;
    case VT_FACTOR:
        if ((ok = parse_ranged(value, 1.0, 16.0, &dv, why, sizeof why) == 0))
            *(double *)(void *)field = dv;
        break;
    case VT_NAME:
        if ((ok = check_name(ks, k, value, why, sizeof why) == 0)) {
            memcpy(field, value, strlen(value) + 1);
            if (k == SCN_SCHEDULE)
                scn->sched = sched_find(value);
        }
        break;
    case VT_INT:
        if ((ok = units_parse_int(value, ks->min, ks->max, &iv, why, sizeof why) == 0))
            *(int *)(void *)field = (int)iv;
        break;
    case VT_SEED:
        if ((ok = units_parse_int(value, 0, 2147483647L, &iv, why, sizeof why) == 0))
            *(unsigned long *)(void *)field = (unsigned long)iv;
        break;
    case VT_TIME:
    case VT_BYTES:
    case VT_BANDWIDTH:
        if ((ok = parse_quantity(ks, value, &dv, why, sizeof why) == 0))
            *(double *)(void *)field = dv;
        break;
    case VT_FRACTION: /* a CV above 100% makes no physical sense for kernel times */
        if ((ok = parse_ranged(value, 0.0, 1.0, &dv, why, sizeof why) == 0))
            *(double *)(void *)field = dv;
        break;
    case VT_BOOL:
        if ((ok = units_parse_bool(value, &bv, why, sizeof why) == 0))
            *(int *)(void *)field = bv;
        break;
    case VT_LAYOUT:
        ok = pplayout_unroll(value, field, ks->cap, why, sizeof why) == 0;
        break;
    }
    return ok ? SIM_OK : value_error(file, line, option, ks->name, value, why, err);
}

int scn_value_number(enum scn_key key, const char *value, double *v)
{
    const struct key_spec *ks = &keys[key];
    char why[256];
    long iv = 0;
    int bv = -1, ok = 0;
    switch (ks->type) {
    case VT_INT: ok = units_parse_int(value, ks->min, ks->max, &iv, why, sizeof why) == 0; break;
    case VT_SEED: ok = units_parse_int(value, 0, 2147483647L, &iv, why, sizeof why) == 0; break;
    case VT_TIME:
    case VT_BYTES:
    case VT_BANDWIDTH: return parse_quantity(ks, value, v, why, sizeof why) == 0;
    case VT_FRACTION: return parse_ranged(value, 0.0, 1.0, v, why, sizeof why) == 0;
    case VT_FACTOR: return parse_ranged(value, 1.0, 16.0, v, why, sizeof why) == 0;
    case VT_BOOL: ok = units_parse_bool(value, &bv, why, sizeof why) == 0; break;
    case VT_CHOICE: ok = (bv = choice_index(ks, value, why, sizeof why)) >= 0; break;
    case VT_FLAGS: ok = (bv = parse_flags(ks, value, why, sizeof why)) >= 0; break;
    case VT_PATH:
    case VT_NAME:
    case VT_LAYOUT: break;
    }
    if (ok)
        *v = ks->type == VT_INT || ks->type == VT_SEED ? (double)iv : (double)bv;
    return ok;
}

static enum sim_status unknown_key(const char *key, const char *file, int line, const char *option,
                                   struct sim_error *err)
{
    const char *derived = scn_key_hint(key);
    if (derived)
        return err_set(err, SIM_EINPUT, file, line, "%s%sunknown key '%s': %s",
                       file ? "" : option, file ? "" : ": ", key, derived);
    const char *near = scn_key_suggest(key);
    if (file && near)
        return err_set(err, SIM_EINPUT, file, line, "unknown key '%s' (did you mean '%s'?)", key,
                       near);
    if (file)
        return err_set(err, SIM_EINPUT, file, line, "unknown key '%s'", key);
    if (near)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "%s: unknown key '%s' (did you mean '%s'?  'stepsim keys' lists them all)",
                       option, key, near);
    /* the whole list would not fit one message: name where it is */
    return err_set(err, SIM_EINPUT, NULL, 0,
                   "%s: unknown key '%s' ('stepsim keys' lists the %d keys, and the hardware "
                   "knobs hw.NAME)",
                   option, key, (int)SCN_KEY_COUNT);
}

enum sim_status scn_unknown_key(const char *key, const char *option, struct sim_error *err)
{
    return unknown_key(key, NULL, 0, option, err);
}

/* Set key `key` and record where it came from: file:line, or the command-line option. */
/* `hw.NAME=VALUE`: remembered (the last value per name wins) and applied to the hardware once
 * the cost model has loaded it; the name is checked now, the value there. */
static enum sim_status set_hw_knob(struct scenario *scn, const char *name, const char *value,
                                   const char *file, int line, const char *option, int alias,
                                   struct sim_error *err)
{
    if (!hw_knob_known(name)) {
        char why[640], known[HW_KNOB_LIST_MAX];
        hw_knob_list(known, sizeof known);
        snprintf(why, sizeof why, "unknown hardware knob 'hw.%.40s' (known: hw. + %s)", name,
                 known);
        return file ? err_set(err, SIM_EINPUT, file, line, "%s", why)
                    : err_set(err, SIM_EINPUT, NULL, 0, "%s: %s", option, why);
    }
    int i = 0;
    while (i < scn->n_hw_knobs && strcmp(scn->hw_knobs[i].name, name) != 0)
        i++;
    if (i == SCN_MAX_HW_KNOBS)
        return err_set(err, SIM_EINPUT, file, line, "%s: more than %d hardware knobs", option,
                       SCN_MAX_HW_KNOBS);
    if (strlen(value) >= sizeof scn->hw_knobs[i].value)
        return alias ? err_set(err, SIM_EINPUT, NULL, 0, "%s: value too long", option)
                     : err_set(err, SIM_EINPUT, file, line, "%s hw.%s: value too long", option,
                               name);
    enum sim_status st = origin_check(scn, file, line, err);
    if (st != SIM_OK)
        return st;
    struct scn_hw_knob *k = &scn->hw_knobs[i];
    origin_record(scn, &k->origin, file, line, option);
    k->origin.alias = alias;
    snprintf(k->name, sizeof k->name, "%s", name);
    snprintf(k->value, sizeof k->value, "%s", value);
    if (i == scn->n_hw_knobs)
        scn->n_hw_knobs++;
    return SIM_OK;
}

static enum sim_status set_key_from(struct scenario *scn, int k, const char *value,
                                    const char *file, int line, const char *option,
                                    struct sim_error *err);

static enum sim_status set_from(struct scenario *scn, const char *key, const char *value,
                                const char *file, int line, const char *option,
                                struct sim_error *err)
{
    if (strncmp(key, "hw.", 3) == 0)
        return set_hw_knob(scn, key + 3, value, file, line, option, 0, err);
    int k = scn_key_find(key);
    if (k < 0)
        return unknown_key(key, file, line, option, err);
    /* KEY=default on the command line puts the key back as if no file had given it: how a
     * plan's CSV row says that its config leaves a key the scenario sets unset (an even split
     * where the file sets first-stage-layers, say), so that the row runs as it was planned */
    int literal = keys[k].type == VT_NAME || keys[k].type == VT_PATH; /* a name may say it */
    if (!file && !literal && strcmp(value, SCN_DEFAULT_VALUE) == 0) {
        scn_unset(scn, (enum scn_key)k);
        return SIM_OK;
    }
    return set_key_from(scn, k, value, file, line, option, err);
}

static enum sim_status set_key_from(struct scenario *scn, int k, const char *value,
                                    const char *file, int line, const char *option,
                                    struct sim_error *err)
{
    enum sim_status st = origin_check(scn, file, line, err);
    if (st != SIM_OK)
        return st;
    char *field = (char *)scn + keys[k].offset, was[sizeof scn->pipeline_layout];
    size_t size = field_size(&keys[k]);
    assert(size <= sizeof was); /* the layout is the widest value */
    memcpy(was, field, size);
    struct scn_origin prior = scn->origin[k];
    st = parse_value(scn, k, value, file, line, option, err);
    if (st != SIM_OK)
        return st;
    if (k == SCN_LINK_LATENCY || k == SCN_LINK_BANDWIDTH)
        scn->link_given = 1;
    origin_record(scn, &scn->origin[k], file, line, option);
    if (prior.order > 0 && memcmp(field, was, size) == 0) /* restated: the value is not new */
        scn->origin[k].value_order = prior.value_order;
    return SIM_OK;
}

enum sim_status scn_set(struct scenario *scn, const char *key, const char *value, const char *file,
                        int line, struct sim_error *err)
{
    return set_from(scn, key, value, file, line, "--set", err);
}

enum sim_status scn_set_key(struct scenario *scn, enum scn_key key, const char *value,
                            struct sim_error *err)
{
    return set_key_from(scn, (int)key, value, NULL, 0, "--set", err);
}

enum sim_status scn_set_option(struct scenario *scn, const char *option, const char *key,
                               const char *value, struct sim_error *err)
{
    return set_from(scn, key, value, NULL, 0, option, err);
}

enum sim_status scn_set_alias(struct scenario *scn, const char *option, const char *key,
                              const char *value, struct sim_error *err)
{
    assert(strncmp(key, "hw.", 3) == 0); /* another key's value is checked as it is set */
    return set_hw_knob(scn, key + 3, value, NULL, 0, option, 1, err);
}

enum sim_status scn_load_with_sets(struct scenario *scn, const char *path,
                                   const char *const *sets, int nsets, struct sim_error *err)
{
    scn_defaults(scn);
    enum sim_status st = scn_load(scn, path, err);
    for (int i = 0; i < nsets && st == SIM_OK; i++)
        st = scn_set_arg(scn, sets[i], err);
    return st;
}

enum sim_status scn_set_arg(struct scenario *scn, const char *arg, struct sim_error *err)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return err_set(err, SIM_EINPUT, NULL, 0, "--set '%s': expected KEY=VALUE", arg);
    char key[64];
    size_t klen = (size_t)(eq - arg);
    if (klen >= sizeof key)
        return err_set(err, SIM_EINPUT, NULL, 0, "--set: key '%.*s...' too long", 20, arg);
    memcpy(key, arg, klen);
    key[klen] = '\0';
    return scn_set(scn, key, eq + 1, NULL, 0, err);
}

/* Is rule[i] a key the command line gave at the culprit's order (not a repeat in the list),
 * and its option then? */
static const char *given_beside(const struct scenario *scn, const enum scn_key *rule, int i,
                                enum scn_key culprit)
{
    const struct scn_origin *o = &scn->origin[rule[i]];
    for (int j = 0; j < i; j++)
        if (rule[j] == rule[i])
            return NULL;
    const char *where = scn_origin_text(scn, o);
    return o->order == scn->origin[culprit].order && o->line == 0 && where[0] ? where : NULL;
}

/* "pp, vp given by --vary" into buf: the keys of `rule` the command line gave beside the
 * culprit, grouped by the option that gave them, the culprit's group first ("pp given by
 * --vary, vp given by --set").  O(n^3) in the rule's few keys. */
static void given_keys_text(const struct scenario *scn, const enum scn_key *rule, int n,
                            enum scn_key culprit, char *buf, size_t len)
{
    const char *own = scn_origin_text(scn, &scn->origin[culprit]);
    size_t used = 0;
    buf[0] = '\0';
    for (int pass = 0; pass < 2; pass++)
        for (int g = 0; g < n && used < len; g++) {
            const char *opt = given_beside(scn, rule, g, culprit), *other;
            int first = opt && (strcmp(opt, own) == 0) == (pass == 0);
            for (int j = 0; j < g && first; j++)
                first = !(other = given_beside(scn, rule, j, culprit)) || strcmp(other, opt);
            if (!first)
                continue;
            used += (size_t)snprintf(buf + used, len - used, "%s", used ? ", " : "");
            for (int i = g, k = 0; i < n && used < len; i++)
                if ((other = given_beside(scn, rule, i, culprit)) && strcmp(other, opt) == 0)
                    used += (size_t)snprintf(buf + used, len - used, "%s%s", k++ ? ", " : "",
                                             keys[rule[i]].name);
            if (used < len)
                used += (size_t)snprintf(buf + used, len - used, " given by %s", opt);
        }
}

/* "; microbatches=3 follows global-batch=1536 / (micro-batch=16 x dp=32)" into buf when the
 * rule cites microbatches and no one gave it: a sweep of micro-batch or pp had named a key the
 * user never set, and the CSV's derived column is empty for a config that failed.  dp is what
 * the derived value implies, the division having been exact.  Likewise "; vp=2 follows
 * schedule=zb-v" and "; schedule=interleaved follows vp=2". */
static void derived_text(const struct scenario *scn, const enum scn_key *rule, int n, char *buf,
                         size_t len)
{
    buf[0] = '\0';
    for (int i = 0; i < n; i++)
        if (rule[i] == SCN_MICROBATCHES && scn->origin[SCN_MICROBATCHES].derived &&
            scn->microbatches > 0 && scn->micro_batch > 0) {
            snprintf(buf, len,
                     "; microbatches=%d follows global-batch=%d / (micro-batch=%d x dp=%d)",
                     scn->microbatches, scn->global_batch, scn->micro_batch,
                     scn->global_batch / (scn->micro_batch * scn->microbatches));
            return;
        } else if (rule[i] == SCN_VP && scn->origin[SCN_VP].derived) {
            snprintf(buf, len, "; vp=%d follows schedule=%s", scn->vp, scn->schedule);
            return;
        } else if (rule[i] == SCN_SCHEDULE && scn->origin[SCN_SCHEDULE].derived) {
            snprintf(buf, len, "; schedule=%s follows vp=%d", scn->schedule, scn->vp);
            return;
        }
}

/* What a derived key of a rule followed (derive.h), to be blamed with it: the value that moved
 * it is the one to change.  A micro-batch count follows the global batch over micro-batch x dp
 * (dp from gpus, tp, cp, pp), the global batch the reverse, vp the schedule and the schedule
 * (1f1b or interleaved) vp. */
static const struct {
    enum scn_key key;
    enum scn_key from[6];
    int n;
} followed[] = {
    {SCN_MICROBATCHES, {SCN_GLOBAL_BATCH, SCN_MICRO_BATCH, SCN_PP, SCN_TP, SCN_CP, SCN_GPUS}, 6},
    {SCN_GLOBAL_BATCH, {SCN_MICROBATCHES, SCN_MICRO_BATCH, SCN_PP, SCN_TP, SCN_CP, SCN_GPUS}, 6},
    {SCN_VP, {SCN_SCHEDULE}, 1},
    {SCN_SCHEDULE, {SCN_VP}, 1},
};
#define RULE_KEYS_MAX 32

/* `rule` into out, then what each derived key of it followed (each key once): the keys a rule
 * error may blame.  Returns how many. */
static int rule_with_sources(const struct scenario *scn, const enum scn_key *rule, int n,
                             enum scn_key *out)
{
    int m = n < RULE_KEYS_MAX ? n : RULE_KEYS_MAX;
    memcpy(out, rule, (size_t)m * sizeof *out);
    for (int i = 0; i < n; i++)
        for (size_t f = 0; f < sizeof followed / sizeof followed[0]; f++) {
            if (followed[f].key != rule[i] || !scn->origin[rule[i]].derived)
                continue;
            for (int j = 0; j < followed[f].n && m < RULE_KEYS_MAX; j++) {
                int seen = 0;
                for (int k = 0; k < m && !seen; k++)
                    seen = out[k] == followed[f].from[j];
                if (!seen)
                    out[m++] = followed[f].from[j];
            }
        }
    return m;
}

static enum sim_status rule_error_v(const struct scenario *scn, const enum scn_key *given_rule,
                                    int given_n, struct sim_error *err, const char *fmt, va_list ap)
{
    char msg[600], given[400], derived[120];
    vsnprintf(msg, sizeof msg, fmt, ap);
    enum scn_key rule[RULE_KEYS_MAX];
    int n = rule_with_sources(scn, given_rule, given_n, rule);
    enum scn_key culprit = rule[0];
    for (int i = 1; i < n; i++)
        culprit = scn_culprit(scn, culprit, rule[i]);
    const struct scn_origin *o = &scn->origin[culprit];
    const char *where = scn_origin_text(scn, o);
    if (o->line > 0)
        return err_set(err, SIM_EINPUT, where, o->line, "%s", msg);
    if (!where[0])
        return err_set(err, SIM_EINPUT, NULL, 0, "%s", msg);
    given_keys_text(scn, rule, n, culprit, given, sizeof given);
    derived_text(scn, rule, n, derived, sizeof derived);
    return err_set(err, SIM_EINPUT, NULL, 0, "%s (%s%s)", msg, given, derived);
}

enum sim_status scn_rule_error(const struct scenario *scn, enum scn_key key, struct sim_error *err,
                               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum sim_status st = rule_error_v(scn, &key, 1, err, fmt, ap);
    va_end(ap);
    return st;
}

enum sim_status scn_rule_error_keys(const struct scenario *scn, const enum scn_key *rule, int n,
                                    struct sim_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum sim_status st = rule_error_v(scn, rule, n, err, fmt, ap);
    va_end(ap);
    return st;
}

enum scn_key scn_culprit(const struct scenario *scn, enum scn_key a, enum scn_key b)
{
    return scn->origin[b].order > scn->origin[a].order ? b : a;
}

static enum scn_key sched_param_key(enum sched_param p)
{
    switch (p) {
    case SP_PP: return SCN_PP;
    case SP_VP: return SCN_VP;
    case SP_MICROBATCHES: return SCN_MICROBATCHES;
    case SP_VP_GROUP: return SCN_VP_GROUP;
    case SP_SCHEDULE: break;
    }
    return SCN_SCHEDULE;
}

/* Keep a run within what the engine can hold: op records in memory and a step short enough
 * that every sum on the picosecond clock fits in int64.  The bound is the fully serial step
 * (every op and transfer one after another), which no schedule exceeds. */
static enum sim_status check_size(const struct scenario *scn, struct sim_error *err)
{
    double ops = (double)scn->pp * scn->vp * scn->microbatches * (scn_split_backward(scn) ? 3 : 2);
    if (ops > scn->max_ops)
        return scn_rule_error_keys(
            scn, SCN_KEYS(SCN_MICROBATCHES, SCN_PP, SCN_VP), err,
            "pp=%d x vp=%d x microbatches=%d gives %.0f compute ops, above the "
            "limit of %d (raise it with --set max-ops=N)",
            scn->pp, scn->vp, scn->microbatches, ops, scn->max_ops);
    double per_layer = scn->forward_s + scn->bwd_input_s + scn->bwd_weight_s;
    double compute_s = per_layer * scn->layers * scn->microbatches;
    double xfer_each =
        scn->link_lat_s + (scn->link_bw_Bps > 0 ? scn->activation_B / scn->link_bw_Bps : 0.0);
    double transfers = 2.0 * scn->pp * scn->vp * scn->microbatches;
    double serial = compute_s + scn->optimizer_s * scn->pp + xfer_each * transfers;
    if (serial <= SCN_MAX_STEP_S)
        return SIM_OK;
    if (xfer_each * transfers > compute_s) {
        int bw_bound =
            scn->link_bw_Bps > 0 && scn->activation_B / scn->link_bw_Bps > scn->link_lat_s;
        const enum scn_key bw_keys[] = {SCN_LINK_BANDWIDTH, SCN_ACTIVATION};
        const enum scn_key lat_key[] = {SCN_LINK_LATENCY};
        return scn_rule_error_keys(
            scn, bw_bound ? bw_keys : lat_key, bw_bound ? 2 : 1, err,
            "%.0f transfers of %.3g s each (link-latency plus activation / "
            "link-bandwidth) could take %.3g s of simulated time, above the limit "
            "of 10^6 s",
            transfers, xfer_each, xfer_each * transfers);
    }
    if (scn->optimizer_s * scn->pp > compute_s)
        return scn_rule_error(
            scn, SCN_OPTIMIZER, err,
            "optimizer steps could take %.3g s of simulated time, above the limit "
            "of 10^6 s",
            scn->optimizer_s * scn->pp);
    enum scn_key big = SCN_FORWARD;
    if (scn->bwd_input_s > scn->forward_s)
        big = SCN_BACKWARD_INPUT;
    if (scn->bwd_weight_s > (big == SCN_FORWARD ? scn->forward_s : scn->bwd_input_s))
        big = SCN_BACKWARD_WEIGHT;
    return scn_rule_error_keys(scn, SCN_KEYS(big, SCN_MICROBATCHES, SCN_LAYERS), err,
                               "compute could take %.3g s of simulated time (%.3g s per layer x "
                               "layers=%d x microbatches=%d), above the limit of 10^6 s",
                               compute_s, per_layer, scn->layers, scn->microbatches);
}

/* A given key that means nothing for this kind of scenario is an error, not silence. */
enum sim_status scn_check_applies(const struct scenario *scn, struct sim_error *err)
{
    for (int k = 0; k < SCN_KEY_COUNT; k++) {
        if (!scn_given(scn, (enum scn_key)k) || scn_key_applies(scn, (enum scn_key)k))
            continue;
        if (keys[k].scope == KS_MODEL)
            return scn_rule_error(scn, (enum scn_key)k, err,
                                  "%s applies only to the cost model: give model= and hardware=, "
                                  "or drop %s (this scenario has explicit costs)",
                                  keys[k].name, keys[k].name);
        return scn_rule_error(scn, (enum scn_key)k, err,
                              "%s is an explicit cost; with model= the cost model derives it "
                              "(remove one of the two)",
                              keys[k].name);
    }
    /* a hardware knob changes the hardware file a modelled scenario loads; explicit costs
     * load none, so it would change nothing */
    if (scn->n_hw_knobs > 0 && !scn_is_modelled(scn))
        return scn_hw_knob_error(scn, &scn->hw_knobs[0],
                                 "applies only to the cost model's hardware: give model= and "
                                 "hardware=, or drop it (this scenario has explicit costs)",
                                 err);
    return SIM_OK;
}

/* A pipeline layout as Megatron-Core validates it (pipeline_parallel_layer_layout.py,
 * validate_layer_layout): pp x vp stages, empty ones among them (Megatron-Bridge's GLM-5.2
 * recipe writes "Et|t||tttt|..."; an empty chunk passes its input on); the embedding first and
 * the loss last,
 * once each; the model's layers, all before any MTP module; and what stepsim places: the
 * interleaved or 1F1B order Megatron's stage numbering follows, MTP modules beside the loss,
 * no first/last-stage-layers besides. */
static enum sim_status check_pipeline_layout(const struct scenario *scn, struct sim_error *err)
{
    const char *lay = scn->pipeline_layout;
    enum scn_key key = SCN_PIPELINE_LAYOUT;
    int stages = pplayout_stages(lay), last = stages - 1;
    size_t n = strlen(lay);
    if (scn_given(scn, SCN_FIRST_STAGE_LAYERS) || scn_given(scn, SCN_LAST_STAGE_LAYERS))
        return scn_rule_error(scn, key, err,
                              "pipeline-layout sets every stage's layers: give it without "
                              "first-stage-layers / last-stage-layers");
    const struct sched_type *type = scn_schedule(scn);
    if (!type || !type->megatron_stages)
        return scn_rule_error_keys(scn, SCN_KEYS(key, SCN_SCHEDULE), err,
                                   "pipeline-layout numbers stages as Megatron-Core's 1f1b and "
                                   "interleaved schedules do, not %s",
                                   scn->schedule);
    if ((long)stages != (long)scn->pp * scn->vp)
        return scn_rule_error_keys(scn, SCN_KEYS(key, SCN_PP, SCN_VP), err,
                                   "pipeline-layout has %d stages, not pp*vp = %d*%d%s", stages,
                                   scn->pp, scn->vp,
                                   stages % scn->pp ? "" : " (give vp = stages / pp)");
    if (lay[0] != 'E' || pplayout_count(lay, -1, 'E') != 1 || lay[n - 1] != 'L' ||
        pplayout_count(lay, -1, 'L') != 1)
        return scn_rule_error(scn, key, err,
                              "pipeline-layout must begin with the embedding E and end with the "
                              "loss L, each once");
    if (pplayout_count(lay, -1, 't') != scn->layers)
        return scn_rule_error_keys(scn, SCN_KEYS(key, SCN_LAYERS), err,
                                   "pipeline-layout places %d layers; the model has layers=%d",
                                   pplayout_count(lay, -1, 't'), scn->layers);
    if (pplayout_count(lay, -1, 'm') != pplayout_count(lay, last, 'm'))
        return scn_rule_error(scn, key, err,
                              "pipeline-layout places MTP modules before the last stage; stepsim "
                              "costs them beside the loss");
    const char *m = strchr(lay, 'm');
    if (m && !scn_is_modelled(scn))
        return scn_rule_error(scn, key, err,
                              "pipeline-layout places MTP modules, which only a model file has");
    if (m && strchr(m, 't'))
        return scn_rule_error(scn, key, err,
                              "pipeline-layout places a layer after an MTP module (Megatron-Core "
                              "requires the layers first)");
    return SIM_OK;
}

/* The key that gave the layer count: layers= itself, or the model file it was read from --
 * so that `--set model=...` is blamed over a file's pp when its layers do not split. */
static enum scn_key layers_key(const struct scenario *scn)
{
    return scn_given(scn, SCN_LAYERS) || !scn_is_modelled(scn) ? SCN_LAYERS : SCN_MODEL;
}

/* The schedule's own rules on pp, vp, microbatches, ... (sched_type.check), blamed on the keys
 * it names and on schedule=: apart from scn_check because the blame list is built from bits. */
static enum sim_status check_sched_params(const struct scenario *scn, const struct sched_type *type,
                                          struct sim_error *err)
{
    struct sched_params sp = scn_sched_params(scn);
    struct sched_blame blame = {SP_SCHEDULE, 0};
    struct sim_error serr;
    err_clear(&serr);
    if (type->check(&sp, &blame, &serr) == SIM_OK)
        return SIM_OK;
    enum scn_key rule[SP_VP_GROUP + 2] = {sched_param_key(blame.first)}; /* + schedule */
    int n = 1;
    for (int p = SP_PP; p <= SP_VP_GROUP; p++)
        if (blame.also & SP_BIT(p))
            rule[n++] = sched_param_key((enum sched_param)p);
    rule[n++] = SCN_SCHEDULE;
    return scn_rule_error_keys(scn, rule, n, err, "%s", serr.msg);
}

/* The keys a schedule forbids or needs (split-backward, overlap-ep-comm), the framework's
 * rules, then the schedule's own, in that order: the first broken one is the one reported. */
static enum sim_status check_schedule_fit(const struct scenario *scn, const struct sched_type *type,
                                          struct sim_error *err)
{
    enum sim_status st;
    if (type->builds_w && scn_given(scn, SCN_SPLIT_BACKWARD) && !scn->split_backward)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_SPLIT_BACKWARD, SCN_SCHEDULE), err,
                                   "schedule=%s runs the weight gradient as its own W op; "
                                   "split-backward=false contradicts it",
                                   scn->schedule);
    if (scn->overlap_ep_comm && !type->steady_pairs && !type->pairs)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_OVERLAP_EP_COMM, SCN_SCHEDULE), err,
                                   "overlap-ep-comm=true needs schedule 1f1b or interleaved (whose "
                                   "steady-state F and B then run as overlapped pairs), not %s",
                                   scn->schedule);
    if ((st = fw_check(fw_get((enum fw_id)scn->framework), scn, err)) != SIM_OK)
        return st;
    return check_sched_params(scn, type, err);
}

/* How the layers are to be cut, shared by the two ways a cut can fail below: the model
 * parts, whether the first/last stage is set apart, and how messages name the parts. */
struct layer_cut {
    long stages;          /* scn_model_parts */
    int fa, la;           /* first/last-stage-layers given or derived */
    const char *parts_of; /* "pp" or "pp*vp" */
    const char *why;      /* DualPipe's note on its two copies, or "" */
};

/* first-stage-layers / last-stage-layers set: the layers left over must split evenly over the
 * stages between the ends; the message names a value that would work (suggest_end_layers). */
static enum sim_status check_end_layers(const struct scenario *scn, const struct layer_cut *cut,
                                        struct sim_error *err)
{
    int fa = cut->fa, la = cut->la;
    int first = fa ? scn->first_stage_layers : 0, last = la ? scn->last_stage_layers : 0;
    long middle = cut->stages - fa - la;
    long rest = (long)scn->layers - first - last;
    enum scn_key key = fa ? SCN_FIRST_STAGE_LAYERS : SCN_LAST_STAGE_LAYERS;
    if (cut->stages < 2)
        return scn_rule_error(scn, key, err,
                              "first/last-stage-layers need at least 2 pipeline stages");
    if (ends_split_evenly(rest, middle))
        return SIM_OK;
    char set[96], room[64], fix[96];
    if (fa && la)
        snprintf(set, sizeof set, "first-stage-layers=%d and last-stage-layers=%d", first, last);
    else
        snprintf(set, sizeof set, "%s=%d", scn_key_name(key), fa ? first : last);
    if (middle == 0)
        snprintf(room, sizeof room, "and no stage between the ends");
    else
        snprintf(room, sizeof room, "for the %ld %s stages", middle, fa && la ? "middle" : "other");
    suggest_end_layers(scn->layers - (fa ? last : first), middle, fa ? first : last,
                       scn_key_name(key), fix, sizeof fix);
    return scn_rule_error_keys(
        scn, SCN_KEYS(key, SCN_PP, SCN_VP, layers_key(scn)), err,
        "layers=%d minus %s leaves %ld layers %s of %s=%ld (pp=%d, vp=%d): %s; %s", scn->layers,
        set, rest, room, cut->parts_of, cut->stages, scn->pp, scn->vp,
        middle == 0 ? "the ends must hold every layer"
                    : "they must split evenly, at least one each",
        fix);
}

/* No ends set apart: the layers must divide by the parts. */
static enum sim_status check_even_split(const struct scenario *scn, const struct sched_type *type,
                                        const struct layer_cut *cut, struct sim_error *err)
{
    long stages = cut->stages;
    if (scn->layers % stages == 0)
        return SIM_OK;
    /* Name the split derive.c would give the ends set apart (stagesplit.h), so the fix
     * is one copy away: "61 layers on 16 stages" asks for arithmetic otherwise. */
    char example[96] = "";
    int f, l;
    if (stages > 2 && stages <= INT_MAX &&
        stage_split_ends(scn->layers, (int)stages, 1, 1, &f, &l) == 0)
        snprintf(example, sizeof example,
                 ", e.g. first-stage-layers=%d last-stage-layers=%d: "
                 "%d, %ld x %ld, %d",
                 f, l, f, stages - 2, ((long)scn->layers - f - l) / (stages - 2), l);
    else if (stages == 2 && stage_split_ends(scn->layers, 2, 1, 1, &f, &l) == 0)
        snprintf(example, sizeof example, ", e.g. first-stage-layers=%d last-stage-layers=%d", f,
                 l);
    return scn_rule_error_keys(scn, SCN_KEYS(layers_key(scn), SCN_PP, SCN_VP), err,
                               "layers=%d is not divisible by %s=%ld (pp=%d, vp=%d)%s: chunks "
                               "would be uneven (first-stage-layers / last-stage-layers set "
                               "the ends apart%s%s)",
                               scn->layers, cut->parts_of, stages, scn->pp, scn->vp, cut->why,
                               example,
                               type->megatron_stages ? "; pipeline-layout sets every stage" : "");
}

/* Without pipeline-layout, the layers are cut into the model parts by count: every part needs
 * a layer, and the cut must come out even (with or without the ends set apart). */
static enum sim_status check_layer_cut(const struct scenario *scn, const struct sched_type *type,
                                       struct sim_error *err)
{
    struct layer_cut cut = {scn_model_parts(scn), first_apart(scn), last_apart(scn), "", ""};
    /* DualPipe's chunks are two copies of pp parts: the parts are what the layers fill. */
    int copies = cut.stages < (long)scn->pp * scn->vp;
    cut.parts_of = copies ? "pp" : "pp*vp";
    cut.why = copies ? " (dualpipe holds two copies of pp parts)" : "";
    if (cut.stages > scn->layers + cut.fa + cut.la)
        return scn_rule_error_keys(
            scn, SCN_KEYS(SCN_VP, layers_key(scn), SCN_PP), err,
            "%s=%ld model chunks exceed layers=%d%s: every chunk needs a layer", cut.parts_of,
            cut.stages, scn->layers, cut.why);
    if (cut.fa || cut.la)
        return check_end_layers(scn, &cut, err);
    return check_even_split(scn, type, &cut, err);
}

enum sim_status scn_check(const struct scenario *scn, struct sim_error *err)
{
    enum sim_status st = scn_check_applies(scn, err);
    if (st != SIM_OK)
        return st;
    const struct sched_type *type = scn_schedule(scn);
    if (!type) /* scn_set rejects unknown names; defaults are known */
        return scn_rule_error(scn, SCN_SCHEDULE, err, "unknown schedule '%s' (known: %s)",
                              scn->schedule, sched_names());
    if (scn->pp > scn->layers)
        return scn_rule_error_keys(scn, SCN_KEYS(SCN_PP, layers_key(scn)), err,
                                   "pp=%d exceeds layers=%d: every pipeline rank needs a layer",
                                   scn->pp, scn->layers);
    if ((st = check_schedule_fit(scn, type, err)) != SIM_OK)
        return st;
    if (scn->pipeline_layout[0])
        return (st = check_pipeline_layout(scn, err)) != SIM_OK ? st : check_size(scn, err);
    if ((st = check_layer_cut(scn, type, err)) != SIM_OK)
        return st;
    return check_size(scn, err);
}
