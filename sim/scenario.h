/* scenario: one simulation's inputs -- schedule, pipeline shape, batch and costs.
 *
 * Every value has a key (its XML attribute name and its --set name, the same word), one parser
 * per value type, and the file:line it came from, so semantic errors found later can still
 * point at the line that set the value.  Costs are explicit for now (per-layer times, activation
 * size, link latency and bandwidth); the model + hardware cost model will fill the same fields.
 * Units: seconds, bytes, bytes/s. */
#ifndef STEPSIM_SCENARIO_H
#define STEPSIM_SCENARIO_H

#include <sys/types.h>

#include "error.h"
#include "schedule.h"

enum scn_key {
    SCN_NAME,
    SCN_SCHEDULE,
    SCN_PP,
    SCN_VP,
    SCN_VP_GROUP,
    SCN_MICROBATCHES,
    SCN_MICRO_BATCH,
    SCN_SEQ,
    SCN_LAYERS,
    SCN_FORWARD,
    SCN_BACKWARD_INPUT,
    SCN_BACKWARD_WEIGHT,
    SCN_SPLIT_BACKWARD,
    SCN_ACTIVATION,
    SCN_OPTIMIZER,
    SCN_LINK_LATENCY,
    SCN_LINK_BANDWIDTH,
    SCN_SEED,
    SCN_JITTER,
    /* The cost model: model and hardware files, parallel layout, training options. */
    SCN_MODEL,
    SCN_HARDWARE,
    SCN_GPUS,
    SCN_TP,
    SCN_CP,
    SCN_EP,
    SCN_ETP,
    SCN_SP,
    SCN_GLOBAL_BATCH,
    SCN_DTYPE,
    SCN_RECOMPUTE,
    SCN_DIST_OPT,
    SCN_OVERLAP_GRAD_REDUCE,
    SCN_OVERLAP_PARAM_GATHER,
    SCN_OVERLAP_TP_COMM,
    SCN_OVERLAP_P2P,
    SCN_ATTENTION,
    SCN_P2P_SCATTER_GATHER,
    SCN_GRAD_REDUCE_FP32,
    SCN_DROPOUT,
    SCN_FIRST_STAGE_LAYERS,
    SCN_LAST_STAGE_LAYERS,
    SCN_PIPELINE_LAYOUT,
    SCN_MAX_OPS_KEY,
    /* fp8 scaling recipe and bf16 edge layers, MoE token dispatch, expert-parallel overlap and
     * routing imbalance. */
    SCN_FP8_RECIPE,
    SCN_BF16_FIRST_LAYERS,
    SCN_BF16_LAST_LAYERS,
    SCN_BF16_MODULES,
    SCN_MXFP8_MODULES,
    SCN_QUANTIZED_PARAMS,
    SCN_MOE_DISPATCHER,
    SCN_MOE_DISPATCH_DTYPE,
    SCN_OVERLAP_EP_COMM,
    SCN_MOE_SHARED_EXPERT_OVERLAP,
    SCN_MOE_IMBALANCE,
    SCN_MOE_CAPACITY_FACTOR,
    SCN_DEEPEP_SMS,
    /* Sharded data parallelism and the optimizer's state. */
    SCN_ZERO,
    SCN_FSDP,
    SCN_FSDP_GROUP,
    SCN_FSDP_OUTER_SHARD,
    SCN_RESHARD_AFTER_FORWARD,
    SCN_OPTIMIZER_STATE,
    SCN_OPTIMIZER_MOMENTS,
    SCN_OPTIMIZER_ALGORITHM,
    SCN_MUON_NS_STEPS,
    /* Activation recompute as Megatron-Core recipes write it. */
    SCN_RECOMPUTE_MODULES,
    SCN_RECOMPUTE_METHOD,
    SCN_RECOMPUTE_NUM_LAYERS,
    SCN_MTP_LAYERS,
    SCN_MTP_REPEATED_LAYER,
    SCN_CP_COMM_TYPE,
    SCN_HIERARCHICAL_CP,
    SCN_DEFER_HEAD_WGRAD,
    SCN_WGRAD_DEFERRAL_LIMIT,
    SCN_GRAD_REDUCE_OP,
    SCN_OFFLOAD_ACTIVATIONS,
    SCN_OFFLOAD_MODULES,
    SCN_OFFLOAD_MIN_ELEMENTS,
    SCN_OFFLOAD_FRACTION,
    SCN_OFFLOAD_PP_DELTA,
    SCN_PEFT,
    SCN_LORA_RANK,
    SCN_LORA_MODULES,
    SCN_PACKED_DOC_TOKENS,
    SCN_OFFLOAD_OPTIMIZER,
    SCN_ELEMENTWISE,
    SCN_ATTENTION_KERNEL,
    SCN_ROPE_FUSION,
    SCN_FP8_ATTENTION,
    SCN_FP8_OUTPUT_PROJ,
    SCN_OVERLAP_TP_BACKWARD,
    SCN_GRAD_ACCUMULATION,
    SCN_MOE_ROUTER_DTYPE,
    SCN_MOE_ROUTER_FUSION,
    SCN_MOE_FUSED_GROUPED_MLP,
    SCN_MOE_ROUTER_PADDING,
    SCN_CUDA_GRAPHS,
    SCN_CUDA_GRAPH_SCOPE,
    SCN_MLA_DOWN_PROJ,
    SCN_CROSS_ENTROPY,
    SCN_RANK_ORDER,
    /* The training framework whose schedules and features the scenario must use. */
    SCN_FRAMEWORK,
    SCN_KEY_COUNT,
};

enum scn_recompute { RECOMPUTE_NONE, RECOMPUTE_SELECTIVE, RECOMPUTE_FULL };
/* Modules selective recompute runs again in the backward instead of keeping their activations
 * (Megatron-Core --recompute-modules; default core_attn), a bit each. */
enum scn_recompute_module {
    RC_CORE_ATTN = 1 << 0,      /* the attention core (unfused attention's scores) */
    RC_MLP = 1 << 1,            /* dense MLPs */
    RC_MOE = 1 << 2,            /* whole MoE layers: router, dispatch, experts, combine */
    RC_MOE_ACT = 1 << 3,        /* the routed experts' activation function */
    RC_LAYERNORM = 1 << 4,      /* the two input norms */
    RC_MLA_UP_PROJ = 1 << 5,    /* MLA's up-projections (keeps the compressed latents) */
    RC_SHARED_EXPERTS = 1 << 6, /* the shared experts */
    RC_OP = 1 << 7,             /* torchtitan's per-op policy (selective_ac_option "op"): every
                                   matmul, attention and reduce-scatter output kept but every
                                   second matmul's; the rest of the layer run again */
};
/* Full recompute of groups of recompute-num-layers layers keeping each group's input
 * (uniform), or of the first recompute-num-layers layers of each chunk keeping the rest's
 * activations (block) -- Megatron's --recompute-method. */
enum scn_recompute_method { RECOMPUTE_UNIFORM, RECOMPUTE_BLOCK };
/* How context-parallel ranks share K and V (Megatron-Core --cp-comm-type): a ring passing KV
 * chunks behind attention (p2p), an all-gather of the whole sequence's KV before attention
 * (allgather; Llama 3's choice), an all-to-all of heads so each rank attends over the whole
 * sequence for some heads (a2a, DeepSpeed-Ulysses), or a2a inside groups of hierarchical-cp
 * ranks and the ring across them (a2a+p2p). */
enum scn_cp_comm { CP_P2P, CP_ALLGATHER, CP_A2A, CP_A2A_P2P };
/* How ranks are numbered across the parallel dimensions, fastest first (Megatron-Core's
 * RankGenerator order): data parallelism inside pipeline stages (tp-cp-ep-dp-pp, the default),
 * or pipeline stages inside each data-parallel replica (tp-cp-ep-pp-dp,
 * --use-tp-pp-dp-mapping), which keeps a replica's stages on neighbouring GPUs and spreads its
 * data-parallel peers across nodes. */
enum scn_rank_order { RANK_ORDER_DP_PP, RANK_ORDER_PP_DP };
/* How the end-of-step gradient reduction runs: auto = a reduce-scatter onto the shards of a
 * sharded optimizer, else an all-reduce. */
enum scn_grad_reduce_op { GRAD_REDUCE_AUTO, GRAD_REDUCE_ALL_REDUCE, GRAD_REDUCE_SCATTER };
/* Attention kernels: flash (fused, causal-aware, O(s) memory) or unfused (batched GEMMs over
 * the full s x s scores and a fused softmax, as Megatron ran before flash attention). */
enum scn_attention { ATTENTION_FLASH, ATTENTION_UNFUSED };
/* Element-wise ops fused into few kernels (Transformer Engine, torch.compile) or run by eager
 * PyTorch one kernel per op. */
enum scn_elementwise { ELEMENTWISE_FUSED, ELEMENTWISE_EAGER };
enum scn_attention_kernel { ATTN_KERNEL_BEST, ATTN_KERNEL_FA2 };
/* How a micro-batch's weight gradients join the step's sum: fused -- the weight-gradient GEMM
 * adds into the gradient buffer itself (Megatron's gradient-accumulation fusion), no pass of
 * its own; autograd -- PyTorch's AccumulateGrad adds each micro-batch's new gradient into
 * .grad, one read-read-write pass in the parameters' 16-bit type after the first micro-batch
 * (DeepSpeed's fp16 engines); fp32-copy -- after every micro-batch's backward the 16-bit
 * gradients are cast to fp32 and added into an fp32 copy (DeepSpeed's BF16_Optimizer);
 * main-grad -- Megatron without its fusion (--no-gradient-accumulation-fusion): a hook adds
 * each new 16-bit .grad into the main-grad buffer, in the reduce type. */
enum scn_grad_accumulation {
    GRAD_ACCUM_FUSED,
    GRAD_ACCUM_AUTOGRAD,
    GRAD_ACCUM_FP32_COPY,
    GRAD_ACCUM_MAIN_GRAD
};
/* How fp8 GEMM inputs get their scales (Transformer Engine recipes): delayed -- per tensor, from
 * the amax history of earlier steps; current -- per tensor, from this tensor's own amax (an
 * extra pass over it first, unless the norm that wrote it took the amax); blockwise -- one
 * scale per 1x128 / 128x128 block (DeepSeek-V3); mxfp8 -- Blackwell's hardware 1x32 block
 * scaling; rowwise -- torchao's Float8 with a scale per row and per column, each quantized
 * from 16 bits, which communicate in 16 bits (torchtitan's float8 recipe_name "rowwise").
 * What each costs: cm_quant.c, quant_recipe_of. */
enum scn_fp8_recipe { FP8_DELAYED, FP8_CURRENT, FP8_BLOCKWISE, FP8_MXFP8, FP8_ROWWISE };
/* How MoE tokens reach their experts (Megatron-Core's token dispatchers): an all-to-all of every
 * routed copy; an all-gather of all tokens over the expert group (and a reduce-scatter back);
 * or DeepEP (Megatron's "flex" dispatcher), which sends a token once to each node holding one of
 * its experts and fans it out over NVLink there; or HybridEP, the flex dispatcher's other
 * backend, priced as DeepEP (no measurement of its own), whose fused dispatch also pads each
 * expert's tokens to the quantized GEMMs' alignment (scn_flex_dispatch, cm_expert_pad_copies). */
enum scn_moe_dispatcher {
    DISPATCH_ALLTOALL,
    DISPATCH_ALLGATHER,
    DISPATCH_DEEPEP,
    DISPATCH_HYBRIDEP,
};
/* What the dispatch-direction expert-parallel exchanges carry on the wire: the run's 16-bit
 * activations, or E4M3 with fine-grained scales (DeepSeek-V3 report sec. 3.3.2, "Low-Precision
 * Communication"; Megatron-Core's moe_dispatch_fwd_dtype / moe_combine_bwd_dtype = mxfp8).
 * Unset, as the framework does it (cm_rules.c, resolve_dispatch_fp8). */
enum scn_ep_wire { EP_WIRE_BF16, EP_WIRE_FP8 };
/* PyTorch FSDP's sharding strategies (torch.distributed.fsdp.ShardingStrategy): full-shard =
 * ZeRO-3; shard-grad-op = ZeRO-3 whose parameters stay gathered from forward to backward;
 * hybrid-shard = full-shard inside groups of fsdp-group GPUs, replicated across them;
 * no-shard = plain data parallelism. */
enum scn_fsdp { FSDP_NONE, FSDP_FULL_SHARD, FSDP_SHARD_GRAD_OP, FSDP_HYBRID_SHARD, FSDP_NO_SHARD };
/* Hybrid sharding across the shard groups (Megatron-FSDP's outer_dp_sharding_strategy): none =
 * each group holds whole shards; optim = the groups split the optimizer state and fp32 master
 * of their shard again (gradients reduce-scattered and parameters all-gathered across them). */
enum scn_fsdp_outer { FSDP_OUTER_NONE, FSDP_OUTER_OPTIM };
/* Parameter-efficient fine-tuning: none trains every weight; lora freezes the base model and
 * trains low-rank adapters beside the lora-modules linears (Hu et al., LoRA, arXiv:2106.09685;
 * Megatron-Bridge's peft/lora.py, "performant" LoRA: one adapter per fused linear); dora the
 * same adapters with each adapted linear's output rescaled by a trained magnitude over the
 * row norms of W + BA (Liu et al., DoRA, arXiv:2402.09353, eq. 5; Megatron-Bridge's
 * peft/dora_layers.py, DoRALinear). */
enum scn_peft { PEFT_NONE, PEFT_LORA, PEFT_DORA };
/* The linears LoRA adapts, Megatron-Bridge's target_modules names, in choice order. */
enum scn_lora_module {
    LORA_QKV = 1 << 0,  /* linear_qkv */
    LORA_PROJ = 1 << 1, /* linear_proj */
    LORA_FC1 = 1 << 2,  /* linear_fc1 */
    LORA_FC2 = 1 << 3,  /* linear_fc2 */
    LORA_IN_PROJ = 1 << 4,  /* in_proj: a Mamba-2 or Gated DeltaNet mixer's input projection */
    LORA_OUT_PROJ = 1 << 5, /* out_proj: its output projection */
};
/* Precision of the optimizer's state: fp32 master weights and fp32 moments (mixed-precision
 * Adam); fp32 master and bf16 moments (Megatron's --use-precision-aware-optimizer); bf16
 * moments and no master copy (pure-bf16 AdamW of some FSDP2 stacks). */
enum scn_optimizer_state { OPTSTATE_FP32, OPTSTATE_BF16_MOMENTS, OPTSTATE_BF16 };
/* The update rule: element-wise (Adam and kin, with optimizer-moments moments), or Muon
 * (Jordan et al. 2024; Liu et al., "Muon is Scalable for LLM Training", arXiv:2502.16982): each
 * hidden weight matrix keeps one momentum and its update is orthogonalized by Newton-Schulz
 * iterations, while embeddings, the LM head, norms and biases stay element-wise. */
enum scn_optimizer_algorithm { OPTALG_ADAM, OPTALG_MUON };

/* Where a value came from.  Kept small -- the planner copies a whole scenario per config --
 * so a file is an index into the scenario's origin_files, not its path. */
#define SCN_OPTION_LEN 48
struct scn_origin {
    signed char file;            /* 1 + index into scenario.origin_files; 0: not from a file */
    char option[SCN_OPTION_LEN]; /* else the option that set it ("--set", "--vary"), cut to
                                    fit; "" for defaults and derived values */
    int line;                    /* its line in the file; 0 for defaults and options */
    int order;   /* which input set it last: 0 none (a default), 1.. the files in the order
                    they were applied (a base before the file naming it), SCN_ORDER_SET for
                    the command line (--set, --vary); a rule broken by two values blames the
                    later one */
    int value_order; /* the order of the input that last changed the value: an option or file
                        restating a value keeps the order of the one that gave it (what
                        follows a pipeline given later, derive.c, asks whether it changed) */
    int derived; /* not given: computed from the values that were (derive.h) */
    int alias;   /* `option` stands for the key (plan's --hbm-reserve): messages name it with
                    the value alone, as typed */
};
#define SCN_ORDER_SET 1000000
/* Most scenario files in one chain of <scenario base="..."> references, the first included. */
#define SCN_MAX_BASE_FILES 8

/* A scenario file that was loaded: its identity, so that no output overwrites it. */
struct scn_file {
    dev_t dev;
    ino_t ino;
    char path[256]; /* for messages; cut to fit */
};

/* `--set hw.NAME=VALUE`: a hardware knob overridden for this scenario (hardware.h). */
#define SCN_MAX_HW_KNOBS 16
struct scn_hw_knob {
    char name[40];
    char value[64];
    struct scn_origin origin;
};

/* How the loss is computed over the vocabulary-parallel logits (the `cross-entropy` key, in
 * its choice order); cm_work.c charges each its bytes per logit. */
enum scn_cross_entropy {
    CE_FUSED,   /* Megatron-Core's cross_entropy_loss_fusion, native implementation */
    CE_UNFUSED, /* Megatron's VocabParallelCrossEntropy in PyTorch ops (its default) */
    CE_TE,      /* cross_entropy_fusion_impl te: Transformer Engine's Triton kernels */
    CE_TORCH,   /* torch.nn.functional.cross_entropy on an fp32 copy (torchtitan) */
};

/* What CUDA graphs capture (the `cuda-graphs` key, in its choice order): nothing, the whole
 * forward-backward iteration (Megatron-Core's FullCudaGraphWrapper, cuda_graph_impl "local"
 * with scope full_iteration), or the modules cuda-graph-scope names (Transformer Engine's
 * make_graphed_callables per layer, cuda_graph_impl "transformer_engine"). */
enum scn_cuda_graphs { CUDA_GRAPHS_NONE, CUDA_GRAPHS_FULL_ITERATION, CUDA_GRAPHS_MODULES };
/* Modules a layer's Transformer Engine graphs capture (cuda-graph-scope, Megatron-Core's
 * --cuda-graph-scope names), a bit each in choice order. */
enum scn_graph_scope {
    GS_ATTN = 1 << 0,           /* the attention block: norm, QKV, core, projection */
    GS_MLP = 1 << 1,            /* a dense MLP block */
    GS_MOE = 1 << 2,            /* a whole MoE block: router, dispatch, experts, combine */
    GS_MOE_ROUTER = 1 << 3,     /* the router: gating GEMM, top-k, aux-loss kernels */
    GS_MOE_PREPROCESS = 1 << 4, /* the dispatcher's token counts and split sizes */
    GS_MAMBA = 1 << 5,          /* a Mamba-2 mixer block */
};

/* Modules whose saved inputs fine-grained activation offloading moves to host memory
 * (offload-modules: Megatron-Core's --offload-modules names), a bit each in choice order. */
enum scn_offload_module {
    OM_ATTN_NORM = 1 << 0,  /* the attention block's input norm: the residual stream */
    OM_QKV_LINEAR = 1 << 1, /* the QKV projection: the norm's output */
    OM_CORE_ATTN = 1 << 2,  /* the attention core: Q, K and V */
    OM_ATTN_PROJ = 1 << 3,  /* the output projection: the core's output */
    OM_MLP_NORM = 1 << 4,   /* the MLP block's input norm: the residual stream */
    OM_EXPERT_FC1 = 1 << 5, /* the routed experts' FC1: the dispatched tokens */
    OM_MOE_ACT = 1 << 6,    /* the routed experts' activation: FC1's output */
    OM_FUSED_GROUP_MLP = 1 << 7, /* the experts' fused grouped MLP (moe-fused-grouped-mlp): all
                                    it saves, its input, FC1's output and the activation's */
    OM_ALL = 1 << 8,        /* every one the layout can offload (stepsim's word, not Megatron's:
                               cm_rules.c cm_offload_modules) */
};

/* Linear modules a quantization recipe can keep out of the run's narrow type (bf16-modules,
 * mxfp8-modules: Megatron-Core's per-module quant_recipe), a bit each in choice order. */
enum scn_linear_module {
    LM_ATTN_QKV = 1 << 0,        /* attention's QKV projection (linear_qkv) */
    LM_ATTN_PROJ = 1 << 1,       /* attention's output projection (linear_proj) */
    LM_MAMBA_IN = 1 << 2,        /* a Mamba-2 mixer's in_proj */
    LM_MAMBA_OUT = 1 << 3,       /* a Mamba-2 mixer's out_proj */
    LM_MLP = 1 << 4,             /* a dense MLP's FC1 and FC2 */
    LM_SHARED_EXPERTS = 1 << 5,  /* a MoE layer's shared experts */
    LM_EXPERTS = 1 << 6,         /* the routed experts */
    LM_LATENT_PROJ = 1 << 7,     /* LatentMoE's fc1_latent_proj and fc2_latent_proj */
    LM_MTP = 1 << 8,             /* every linear of the multi-token-prediction modules */
};

struct scenario {
    char name[64];
    char file[1024]; /* the scenario file as given to scn_load (a path relative to the working
                        directory stays so; cut to fit); "" when built from settings alone */
    char schedule[32];
    const struct sched_type *sched; /* `schedule` resolved (set with it; never NULL) */
    int pp;              /* pipeline ranks */
    int vp;              /* model chunks per rank */
    int vp_group;        /* micro-batches per chunk group (interleaved); 0 = pp */
    int microbatches;    /* per pipeline per step */
    int micro_batch;     /* samples per micro-batch */
    int seq;             /* tokens per sample; 0 = unknown */
    int layers;          /* transformer layers */
    int first_stage_layers; /* layers of virtual stage 0 when given (0: the embedding alone);
                               not given: an even split */
    int last_stage_layers;  /* layers of the last virtual stage when given (0: the LM head and
                               loss alone); not given: an even split */
    /* Megatron-Core's --pipeline-model-parallel-layout, unrolled ("Et|tt|...|mL": virtual
     * stages in order, split at '|'; E the embedding, t a transformer layer, m an MTP module,
     * L the loss); "" when not given.  Sets every virtual stage's layers. */
    char pipeline_layout[2048];
    int max_ops;            /* resource cap: compute ops one step may have (--set max-ops=N) */
    double forward_s;    /* per layer per micro-batch */
    double bwd_input_s;  /* per layer per micro-batch: input gradient */
    double bwd_weight_s; /* per layer per micro-batch: weight gradient */
    int split_backward;  /* run the weight gradient as its own W op */
    double activation_B; /* bytes sent between adjacent stages per micro-batch (each way) */
    double optimizer_s;  /* optimizer step per rank */
    double link_lat_s;   /* P2P link latency */
    double link_bw_Bps;  /* P2P link bandwidth; 0 = unlimited */
    unsigned long seed;  /* GSL RNG seed */
    double jitter;       /* coefficient of variation of op durations (0 = exact) */
    int link_given;      /* a <link> element or link-* key was given */
    /* Cost model inputs (used when `model` is set; then explicit costs must not be). */
    char model_path[1024];    /* model file; relative refs resolved against the scenario */
    char hardware_path[1024]; /* hardware file, likewise */
    int gpus;                 /* world size; 0 = tp * cp * pp (one data-parallel replica) */
    int tp, cp, ep, etp;      /* tensor, context, expert, expert-tensor parallel sizes */
    int sp;                   /* sequence parallelism (needs tp > 1) */
    int global_batch;         /* samples per step; 0 = microbatches * micro-batch * dp */
    int dtype;                /* enum dtype (hardware.h): compute precision */
    int recompute;            /* enum scn_recompute */
    int dist_opt;             /* distributed optimizer: optimizer state sharded over DP */
    int overlap_grad_reduce, overlap_param_gather, overlap_tp_comm, overlap_p2p;
    int attention;            /* enum scn_attention */
    int elementwise;          /* enum scn_elementwise */
    int attention_kernel;     /* enum scn_attention_kernel: which flash-attention kernel runs */
    int rope_fusion;          /* RoPE (and MLA's Q/K/V assembly) in fused kernels */
    int fp8_attention;        /* the flash-attention core in fp8 (TE's fp8 dot-product attention) */
    int fp8_output_proj;      /* the LM head's GEMMs in MXFP8 (Megatron-Core fp8_output_proj) */
    int overlap_tp_backward;  /* column-parallel backward collectives beside their own GEMMs */
    int grad_accumulation;    /* enum scn_grad_accumulation */
    int p2p_scatter_gather;   /* P2P sends 1/tp slices (implied by sp) */
    int grad_reduce_fp32;     /* gradients kept and reduced in fp32 (else the 16-bit type) */
    int dropout;              /* hidden and attention dropout (masks kept for the backward) */
    int fp8_recipe;           /* enum scn_fp8_recipe (with dtype fp8) */
    int bf16_first_layers;    /* fp8 / nvfp4: the first and last transformer layers that keep */
    int bf16_last_layers;     /* their GEMMs in bf16 (Megatron-Core first_last_layers_bf16) */
    int bf16_modules;         /* enum scn_linear_module bits kept in bf16 in fp8 / nvfp4 runs */
    int mxfp8_modules;        /* ... run in MXFP8 in nvfp4 runs (Megatron-Core quant_recipe) */
    int quantized_params;     /* fp8 / nvfp4: the linear layers' weights live and are gathered
                                 quantized, with no 16-bit copy (--fp8/--fp4-param-gather) */
    int moe_dispatcher;       /* enum scn_moe_dispatcher */
    int moe_dispatch_dtype;   /* enum scn_ep_wire: the forward dispatch's and the backward
                                 combine-gradient's wire type */
    int moe_shared_expert_overlap; /* shared experts computed beside the dispatch and combine */
    int overlap_ep_comm;      /* hide one micro-batch's expert all-to-alls behind another's
                                 compute: 1F1B / interleaved steady-state F&B pairs
                                 (Megatron-Core --overlap-moe-expert-parallel-comm) */
    double moe_imbalance;     /* busiest expert rank's routed tokens / the mean (>= 1) */
    double moe_capacity_factor; /* experts' inputs padded to this multiple of the mean token
                                   count, the excess dropped; 0: dropless */
    int moe_router_fp32;      /* the router's gating GEMM in fp32 (moe_router_dtype fp32) */
    int moe_router_fusion;    /* fused top-k / aux-loss router kernels (moe_router_fusion) */
    int moe_fused_grouped_mlp; /* the routed experts' FC1, activation and FC2 as device-driven
                                  grouped GEMMs with the activation and its quantization in
                                  their epilogues (TE's cuteDSL fused grouped MLP) */
    int moe_router_padding;   /* the routing map padded so each expert's tokens come aligned
                                 for quantized GEMMs (--moe-router-padding-for-quantization) */
    int cuda_graphs;          /* enum scn_cuda_graphs */
    int cuda_graph_scope;     /* enum scn_graph_scope bits, with cuda_graphs = modules */
    int mla_down_column;      /* MLA's down-projections column-parallel (Megatron-Core <= 0.13)
                                 rather than duplicated on the sequence shard */
    int cross_entropy;        /* enum scn_cross_entropy: how the loss runs over the logits */
    int deepep_sms;           /* SMs DeepEP's dispatch and combine kernels hold while they run
                                 (Megatron-Core --moe-deepep-num-sms, default 20) */
    int zero;                 /* ZeRO stage 0-3 (1 = the distributed optimizer) */
    int fsdp;                 /* enum scn_fsdp: the PyTorch names, mapped onto a ZeRO stage */
    int fsdp_group;           /* DP ranks one shard spans (hybrid-shard); 0 = whole DP group */
    int fsdp_outer_shard;     /* enum scn_fsdp_outer: what the replicas of a shard split */
    int reshard_after_forward; /* ZeRO-3: free gathered parameters after the forward (and
                                  gather them again for the backward) */
    int optimizer_state;      /* enum scn_optimizer_state */
    int optimizer_moments;    /* moments per parameter: 2 Adam, 1 Lion / momentum SGD, 0 SGD */
    int optimizer_algorithm;  /* enum scn_optimizer_algorithm */
    int muon_ns_steps;        /* Newton-Schulz iterations per Muon update */
    int recompute_modules;    /* enum scn_recompute_module bits (selective recompute) */
    int recompute_method;     /* enum scn_recompute_method (full recompute) */
    int recompute_num_layers; /* layers per group (uniform) or per chunk (block) */
    int mtp_layers;           /* multi-token-prediction modules trained, when given */
    int mtp_repeated_layer;   /* the MTP modules are one module run mtp-layers times */
    int cp_comm_type;         /* enum scn_cp_comm */
    int hierarchical_cp;      /* a2a+p2p: ranks of each all-to-all group (divides cp) */
    int rank_order;           /* enum scn_rank_order */
    int defer_head_wgrad;     /* the LM head's weight gradients wait for the pipeline flush */
    int wgrad_deferral_limit; /* micro-batches deferred at most; 0 = all (Megatron's meaning) */
    int grad_reduce_op;       /* enum scn_grad_reduce_op */
    double offload_activations; /* share of saved activations kept in host memory */
    int offload_modules;        /* enum scn_offload_module bits: inputs kept in host memory */
    int offload_min_elements;   /* offload-modules: the smallest saved tensor that moves */
    double offload_fraction;    /* offload-modules: share of each chunk's groups offloaded */
    double offload_pp_delta_B;  /* offload-modules: bytes pipeline rank r keeps, times r */
    int peft;                   /* enum scn_peft: which weights train */
    int lora_rank;              /* peft=lora: the adapters' rank */
    int lora_modules;           /* peft=lora: enum scn_lora_module bits adapted */
    int packed_doc_tokens;      /* mean document packed into a sequence; 0 = one per sequence */
    double offload_optimizer;   /* share of the optimizer state kept and updated on the host */
    int framework;              /* enum fw_id (framework.h); FW_AUTO = none named */
    struct scn_origin origin[SCN_KEY_COUNT];
    char origin_files[SCN_MAX_BASE_FILES][256]; /* the files origins name, cut to fit */
    int n_origin_files;
    int files_applied; /* scenario files loaded so far (bases count): gives origin.order */
    struct scn_hw_knob hw_knobs[SCN_MAX_HW_KNOBS]; /* applied to the hardware once loaded */
    int n_hw_knobs;
    struct scn_file loaded[SCN_MAX_BASE_FILES]; /* the files loaded: this one, then its bases */
    int nloaded;
};

/* Defaults: schedule 1f1b, pp=vp=1, microbatches=1, micro-batch=1, free links, zero costs. */
void scn_defaults(struct scenario *scn);
/* The file or option an origin names; "" for a default or derived value. */
const char *scn_origin_text(const struct scenario *scn, const struct scn_origin *o);
/* A hardware knob that the hardware refused for reason `why`: an SIM_EINPUT error citing the
 * file:line or the option that gave it. */
enum sim_status scn_hw_knob_error(const struct scenario *scn, const struct scn_hw_knob *k,
                                  const char *why, struct sim_error *err);
/* One key back at its default, given by nothing (no origin). */
void scn_unset(struct scenario *scn, enum scn_key key);
/* Whether a and b hold the same value of `key` (what is stored, whoever gave it). */
int scn_key_same(const struct scenario *a, const struct scenario *b, enum scn_key key);
/* Key name -> key; -1 when unknown. */
int scn_key_find(const char *name);
const char *scn_key_name(enum scn_key key);
/* `value` as key `key` stores it, when the key stores a number: 1 with *v set, so that two
 * spellings of one value read alike (400Gb/s and 50GB/s both 5e10 B/s, 5% and 0.05, 04 and 4,
 * true and 1, core_attn+mlp and mlp+core_attn); 0 for a key of names, paths or layouts, or a
 * value the key cannot take (then its text is all there is to compare). */
int scn_value_number(enum scn_key key, const char *value, double *v);
/* The value that, given on the command line (file NULL), puts a key back at its default as
 * if no file had set it: scn_unset (plan --out writes it for the keys its config unsets). */
#define SCN_DEFAULT_VALUE "default"
/* Set one value from text; errors cite file:line (or "--set KEY=VALUE" when file is NULL). */
enum sim_status scn_set(struct scenario *scn, const char *key, const char *value, const char *file,
                        int line, struct sim_error *err);
/* scn_set(scn, scn_key_name(key), value, NULL, 0, err) without looking the name up. */
enum sim_status scn_set_key(struct scenario *scn, enum scn_key key, const char *value,
                            struct sim_error *err);
/* Set one value given on the command line by `option` ("--set", "--vary"): its origin is the
 * option, at the command line's order (above every file); errors read "OPTION KEY=VALUE: ...". */
enum sim_status scn_set_option(struct scenario *scn, const char *option, const char *key,
                               const char *value, struct sim_error *err);
/* As scn_set_option, for an option that stands for a hardware knob `key` ("hw.NAME"; plan's
 * --hbm-reserve for hw.hbm-reserve): errors read "OPTION VALUE: ...", as it was typed. */
enum sim_status scn_set_alias(struct scenario *scn, const char *option, const char *key,
                              const char *value, struct sim_error *err);
/* Parse "KEY=VALUE" from the command line (--set). */
enum sim_status scn_set_arg(struct scenario *scn, const char *arg, struct sim_error *err);
/* What every command does first: defaults, the file at `path`, then the command line's
 * "KEY=VALUE" overrides in order (run, sweep, plan and published alike). */
enum sim_status scn_load_with_sets(struct scenario *scn, const char *path,
                                   const char *const *sets, int nsets, struct sim_error *err);
/* The known key nearest to an unknown `name` (another tool's name for it: scn_key_alias; else a
 * typo: a few edits away), or NULL. */
const char *scn_key_suggest(const char *name);

/* The key another tool's name for it stands for ("tensor-model-parallel-size", "--mbs",
 * "seq_length": "tp", "micro-batch", "seq"), else NULL; scn_key_suggest tries it first. */
const char *scn_key_alias(const char *name);
/* The i-th name of the alias table, NULL past its end (for tests and listings). */
const char *scn_key_alias_at(size_t i);
/* For a name users reach for that is not a key -- one that follows from others (dp, expert-dp,
 * nodes and other tools' spellings of them), or one between two keys ("microbatch") -- the
 * sentence saying what to set; else NULL. */
const char *scn_key_hint(const char *name);
/* The error for an unknown key given by a command-line option ("--set", "--vary"): a near key
 * when there is one, and where the list of keys is ('stepsim keys'). */
enum sim_status scn_unknown_key(const char *key, const char *option, struct sim_error *err);
/* What `stepsim keys` and --help print about a key, all from the key table. */
struct scn_key_doc {
    const char *name;
    const char *doc;      /* meaning, one sentence */
    char value[160];      /* what a value looks like: "integer in [1, 65536]", "time (1.5ms)" */
    char def[64];         /* the default, as a value or in words */
    const char *applies;  /* "" (every scenario), "cost model" or "explicit costs" */
};
void scn_key_describe(enum scn_key key, struct scn_key_doc *out);
/* The word of choice `index` of a one-of key (fsdp=1: "full-shard"); "?" out of range. */
const char *scn_choice_name(enum scn_key key, int index);
/* The index of `word` among a one-of key's choices; -1 when it is none of them. */
int scn_choice_find(enum scn_key key, const char *word);
/* "core_attn,mlp": the words of the bits of a comma-separated-flags key. */
void scn_flag_names(enum scn_key key, int bits, char *buf, size_t len);
/* The value `key` holds, as text a scenario file could give it ("selective", "true",
 * "core_attn,mlp", "3 us", "80 GiB", "450 GBps"): numbers with units to 6 significant digits
 * in the largest unit they reach, names and paths cut to `len`.  For reports that state what
 * was given; the key table is the one source of the types. */
void scn_value_text(const struct scenario *scn, enum scn_key key, char *buf, size_t len);
/* Does `key` mean anything for this scenario?  Cost-model keys (tp, gpus, dtype, ...) do not
 * without model=, explicit costs (forward, link-bandwidth, ...) do not with it. */
int scn_key_applies(const struct scenario *scn, enum scn_key key);
/* The first given key that does not apply (scn_key_applies) as an SIM_EINPUT error citing where
 * it was given; scn_check() starts with this. */
enum sim_status scn_check_applies(const struct scenario *scn, struct sim_error *err);
/* Cross-field rules: every given key applies (scn_check_applies), pp <= layers, pp*vp <= layers
 * and divides it, the schedule's chunk rules (Megatron's interleaved group rules included), and
 * size limits (compute ops, simulated step length) that keep the engine's memory and
 * picosecond clock in range.  An error cites the file:line of the value at fault -- a --set
 * override when one made the conflict. */
enum sim_status scn_check(const struct scenario *scn, struct sim_error *err);
/* Which of two conflicting values to blame: the one set later (a --set override over a file,
 * a file over the base it names, either over a default), else `a`. */
enum scn_key scn_culprit(const struct scenario *scn, enum scn_key a, enum scn_key b);
/* The longest step, in simulated seconds, a scenario may ask for: every sum on the
 * picosecond clock (int64, about 9.2e6 s) then fits. */
#define SCN_MAX_STEP_S 1e6
/* A rule broken by `key`'s value: an SIM_EINPUT error citing where that value came from (the
 * file:line that set it, or the option: "(pp given by --set)"). */
enum sim_status scn_rule_error(const struct scenario *scn, enum scn_key key,
                               struct sim_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A rule the values of the n keys of `rule` break together: the error cites where the one set
 * last came from (scn_culprit; the first listed of those set last), and when that is the
 * command line it names every key of the rule the command line gave -- "(pp, vp given by
 * --vary)" when both were varied, not pp alone, so that the user sees which values to change.
 * A derived key of the rule brings what it followed (microbatches: global-batch, micro-batch
 * and dp's keys; vp: the schedule, and the reverse), so a varied tp that moved microbatches is
 * blamed, not the file that gave pp. */
enum sim_status scn_rule_error_keys(const struct scenario *scn, const enum scn_key *rule, int n,
                                    struct sim_error *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* scn_rule_error_keys's `rule, n` from a list: SCN_KEYS(SCN_PP, SCN_VP) (two arguments). */
#define SCN_KEYS(...)                                                                              \
    (const enum scn_key[]){__VA_ARGS__},                                                           \
        (int)(sizeof((const enum scn_key[]){__VA_ARGS__}) / sizeof(enum scn_key))
/* The model is cut into scn_model_parts() parts -- pp*vp, or pp for DualPipe, whose stages s
 * and pp+s hold two copies of part s -- and virtual stage `stage` holds part
 * scn_model_part(). */
int scn_model_parts(const struct scenario *scn);
int scn_model_part(const struct scenario *scn, int stage);

/* Megatron's flex dispatcher, DeepEP or HybridEP (priced alike): a token sent once to each GPU,
 * or node, holding one of its experts. */
static inline int scn_dispatcher_flex(int dispatcher)
{
    return dispatcher == DISPATCH_DEEPEP || dispatcher == DISPATCH_HYBRIDEP;
}
static inline int scn_flex_dispatch(const struct scenario *scn)
{
    return scn_dispatcher_flex(scn->moe_dispatcher);
}
/* Does the run train adapters on a frozen base (peft lora or dora)? */
static inline int scn_adapters(const struct scenario *scn)
{
    return scn->peft != PEFT_NONE;
}
/* Layers of virtual stage `stage` (of pp*vp) and the index of its first layer.  Parts take
 * layers in order; the first and last may be set apart (Megatron-Core's
 * --decoder-first/last-pipeline-num-layers), the others split the rest evenly.  Valid after
 * scn_check(). */
void scn_stage_layers(const struct scenario *scn, int stage, int *first_layer, int *count);
/* Was `key` given (by the file or --set), as opposed to left at its default or derived? */
int scn_given(const struct scenario *scn, enum scn_key key);
/* Record that `key`'s value was computed from others (it is then not given). */
void scn_mark_derived(struct scenario *scn, enum scn_key key);
/* Given, or derived from the values that were (derive.h): the value holds either way. */
int scn_given_or_derived(const struct scenario *scn, enum scn_key key);
/* The virtual stage of `chunk` on `rank` under the scenario's schedule's placement (see
 * schedule.h).  Valid after scn_check(). */
int scn_stage_of(const struct scenario *scn, int rank, int chunk);
/* The schedule's type, resolved when `schedule` was set (DESIGN: resolve a type once). */
const struct sched_type *scn_schedule(const struct scenario *scn);
/* Does the backward run as separate B and W ops?  Asked for with split-backward, or implied by
 * a schedule that places the W ops itself (the zero-bubble family). */
int scn_split_backward(const struct scenario *scn);
/* The ZeRO stage an fsdp strategy (enum scn_fsdp) means; -1 for none. */
int scn_fsdp_stage(int fsdp);

/* Sharded data parallelism as the scenario asks for it, resolved from zero, fsdp and
 * distributed-optimizer (which must agree): the ZeRO stage -- 0 replicated, 1 optimizer state
 * sharded (Megatron's distributed optimizer), 2 gradients too (reduce-scattered per
 * micro-batch), 3 parameters too (gathered per layer) -- and whether ZeRO-3 frees gathered
 * parameters after the forward.  An error names the conflicting keys. */
struct scn_sharding {
    int stage;
    int reshard_after_forward;
    int hybrid; /* shards span fsdp-group GPUs, replicated across the rest of DP */
    int outer_optim; /* ... and the replicas split the optimizer state (fsdp-outer-shard) */
};
enum sim_status scn_resolve_sharding(const struct scenario *scn, struct scn_sharding *out,
                                     struct sim_error *err);

/* The schedule's parameters as the scenario sets them. */
struct sched_params scn_sched_params(const struct scenario *scn);
/* Does the scenario use the model + hardware cost model (rather than explicit costs)? */
int scn_is_modelled(const struct scenario *scn);
/* Load a scenario file (XML, validated against the shipped schema) on top of what `scn` holds
 * (defaults, usually): its base first, if it names one, then its own values over the base's
 * (scenario_load.c). */
enum sim_status scn_load(struct scenario *scn, const char *path, struct sim_error *err);
/* A path `value` read in `file` (NULL: from the command line), into `out`: relative to the
 * file's folder, or as given when absolute or from the command line. */
void scn_resolve_relative(const char *file, const char *value, char *out, size_t len);

#endif
