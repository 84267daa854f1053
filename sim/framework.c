/* framework: the frameworks' offers as const tables, each list read from the framework's own
 * source (see framework.h).  Invariant: `any` offers everything stepsim models, so fw_resolve
 * always finds a framework that accepts the scenario. */
#include "framework.h"

#include "hardware.h" /* enum dtype */

#include <stdio.h>
#include <string.h>

/* Every cp-comm-type (enum scn_cp_comm). */
#define CP_ALL ((1u << CP_P2P) | (1u << CP_ALLGATHER) | (1u << CP_A2A) | (1u << CP_A2A_P2P))
/* Every cuda-graphs choice beyond none (enum scn_cuda_graphs). */
#define GRAPHS_ALL ((1u << CUDA_GRAPHS_FULL_ITERATION) | (1u << CUDA_GRAPHS_MODULES))

#define RC_MEGATRON                                                                                \
    (RC_CORE_ATTN | RC_MLP | RC_MOE | RC_MOE_ACT | RC_LAYERNORM | RC_MLA_UP_PROJ |                 \
     RC_SHARED_EXPERTS)
#define RC_ALL (RC_MEGATRON | RC_OP)

static const struct fw_type frameworks[FW_COUNT] = {
    [FW_AUTO] = {.id = FW_AUTO, .name = "auto", .schedules = {NULL}, .fsdp = FW_FSDP_NONE},
    [FW_ANY] = {.id = FW_ANY,
                .name = "any",
                .schedules = {&sched_gpipe, &sched_1f1b, &sched_interleaved, &sched_zbh1,
                              &sched_zbv, &sched_dualpipe, &sched_dualpipev, NULL},
                .zero_stages = 0xf,
                .zero_stages_pp = 0xf,
                .keep_gathered = 1,
                .fsdp = FW_FSDP_ANY,
                .full_recompute = 1,
                .recompute_modules = RC_ALL,
                .offload_activations = 1,
                .offload_modules = 1,
                .offload_optimizer = 1,
                .muon_zero = 0xf,
                .allreduce_sharded = 1,
                .cp_comm_types = CP_ALL,
                .cuda_graphs = GRAPHS_ALL,
                .fused_grouped_mlp = 1,
                .module_precision = 1,
                .rowwise_fp8 = 1},
    /* Megatron-Core (NVIDIA/Megatron-LM, read at d98e8a6):
     * - schedules: megatron/core/pipeline_parallel/schedules.py, get_forward_backward_func --
     *   forward_backward_no_pipelining (pp = 1: stepsim's 1f1b on one rank),
     *   forward_backward_pipelining_without_interleaving (1f1b) and
     *   forward_backward_pipelining_with_interleaving (interleaved); no zero-bubble, GPipe or
     *   DualPipe schedule is dispatched there;
     * - sharding: megatron/training/arguments.py -- --use-distributed-optimizer (ZeRO-1) and
     *   Megatron-FSDP (--use-megatron-fsdp with --data-parallel-sharding-strategy no_shard,
     *   optim, optim_grads, optim_grads_params: ZeRO 0-3), which has no option to keep
     *   parameters gathered between forward and backward; PyTorch FSDP2 (--use-torch-fsdp2)
     *   is asserted "not supported with pipeline parallelism" and "... with expert
     *   parallelism";
     * - recompute: megatron/core/transformer/transformer_config.py -- recompute_granularity
     *   selective or full; recompute_modules core_attn, moe_act, layernorm, mla_up_proj, mlp,
     *   moe, shared_experts;
     * - offload: fine_grained_activation_offloading / offload_modules (transformer_config.py)
     *   and --optimizer-cpu-offload with --optimizer-offload-fraction (arguments.py);
     * - optimizer: --optimizer muon (megatron/core/optimizer/emerging_optimizers.py,
     *   TensorParallelMuon), its state replicated or sharded whole-matrix by the
     *   LayerWiseDistributedOptimizer (ZeRO 0 or 1; not with Megatron-FSDP);
     * - context parallelism: --cp-comm-type p2p, all_gather, a2a or a2a+p2p (arguments.py,
     *   passed to Transformer Engine's attention);
     * - CUDA graphs: --cuda-graph-impl local with --cuda-graph-scope full_iteration
     *   (FullCudaGraphWrapper) or transformer_engine (make_graphed_callables per layer, scopes
     *   attn, mlp, moe, moe_router, moe_preprocess, mamba; transformer_config.py);
     * - the experts' fused grouped MLP: Transformer Engine's op fuser
     *   (use_transformer_engine_op_fuser, NVTE_CUTEDSL_FUSED_GROUPED_MLP);
     * - per-module quantization: TransformerConfig.quant_recipe, glob patterns over module
     *   names mapped to a Transformer Engine recipe or to none (bf16)
     *   (megatron/core/quantization/utils.py, load_quantization_recipe; read at 2edffadb5),
     *   and the MXFP8 output layer (fp8_output_proj: TELMHeadColumnParallelLinear). */
    [FW_MEGATRON_CORE] = {.id = FW_MEGATRON_CORE,
                          .name = "megatron-core",
                          .schedules = {&sched_1f1b, &sched_interleaved, NULL},
                          .zero_stages = 0xf,
                          .zero_stages_pp = 0xf,
                          .fsdp = FW_FSDP_FLAT,
                          .full_recompute = 1,
                          .recompute_modules = RC_MEGATRON,
                          .offload_activations = 1,
                          .offload_modules = 1,
                          .offload_optimizer = 1,
                          .muon_zero = (1u << 0) | (1u << 1),
                          .cp_comm_types = CP_ALL,
                          .cuda_graphs = GRAPHS_ALL,
                          .fused_grouped_mlp = 1,
                          .module_precision = 1},
    /* torchtitan (pytorch/torchtitan, read at b5bcd76):
     * - schedules: torchtitan/config/configs.py, parallelism.pipeline_parallel_schedule -- a
     *   torch.distributed.pipelining schedule class: GPipe, 1F1B, Interleaved1F1B,
     *   ZBVZeroBubble and DualPipeV (torchtitan/distributed/pipeline_parallel.py imports
     *   ScheduleZBVZeroBubble and ScheduleDualPipeV and places their stages in a V);
     *   InterleavedZeroBubble and LoopedBFS have no stepsim counterpart, and there is no
     *   ZB-H1 or bidirectional DualPipe;
     * - sharding: FSDP2's fully_shard (data_parallel_shard_degree; HSDP with
     *   data_parallel_replicate_degree; fsdp_reshard_after_forward default / always /
     *   never) or plain replication -- no optimizer-only or gradient sharding (ZeRO-1/2);
     * - recompute: torchtitan/distributed/activation_checkpoint.py -- full, or per-op
     *   selective checkpointing, which saves matmul, attention and reduce-scatter outputs but
     *   every second matmul's and recomputes the rest (stepsim's op, for dense attention
     *   models; for others it is approximated by layernorm and moe_act -- core_attn, which
     *   keeps the flash kernel's output here, recomputes nothing);
     * - offload: training.enable_cpu_offload (configs.py), FSDP2's CPU offload of parameters,
     *   gradients and optimizer state: the optimizer runs on the host; no activation
     *   offload;
     * - optimizer: DistMuon besides AdamW (torchtitan/components/optimizer/optimizer.py), over
     *   its FSDP2 shards or replicated;
     * - context parallelism: context_parallel_degree (configs.py) through PyTorch's
     *   experimental ring attention (torch.distributed.tensor.experimental._attention, imported
     *   by torchtitan/distributed/context_parallel/api.py), whose K/V rotate by passing
     *   shards around the ring or by all-gathering them: stepsim's p2p and allgather;
     * - fp8: torchao's Float8 tensor-wise (current) or row-wise (rowwise) recipes
     *   (torchtitan/components/quantization/float8.py, float8.recipe_name). */
    [FW_TORCHTITAN] = {.id = FW_TORCHTITAN,
                       .name = "torchtitan",
                       .schedules = {&sched_gpipe, &sched_1f1b, &sched_interleaved, &sched_zbv,
                                     &sched_dualpipev, NULL},
                       .zero_stages = (1u << 0) | (1u << 3),
                       .zero_stages_pp = (1u << 0) | (1u << 3),
                       .keep_gathered = 1,
                       .fsdp = FW_FSDP_ANY,
                       .full_recompute = 1,
                       .recompute_modules = RC_CORE_ATTN | RC_LAYERNORM | RC_MOE_ACT | RC_OP,
                       .offload_optimizer = 1,
                       .muon_zero = (1u << 0) | (1u << 3),
                       .cp_comm_types = (1u << CP_P2P) | (1u << CP_ALLGATHER),
                       .rowwise_fp8 = 1},
    /* DeepSeek (deepseek-ai/DualPipe; DeepSeek-V3 Technical Report, arXiv:2412.19437):
     * - schedules: dualpipe/dualpipe.py (DualPipe) and dualpipe/dualpipev.py (DualPipeV);
     * - sharding: ZeRO-1 data parallelism (report sec. 3.2);
     * - recompute: RMSNorm and the MLA up-projections (report sec. 3.2.3, "Recomputation of
     *   RMSNorm and MLA Up-Projection"): recompute-modules layernorm, mla_up_proj; and the MoE
     *   experts' SwiGLU output, its inputs cached (sec. 3.3.3, "Inputs of the SwiGLU operator
     *   in MoE"): moe_act;
     * - offload: none of the step's state (only the parameters' EMA lives in CPU memory,
     *   sec. 3.2.3), which stepsim does not model;
     * - context parallelism: none (the report's parallelism is PP, EP and ZeRO-1 DP,
     *   sec. 3.2). */
    [FW_DEEPSEEK] = {.id = FW_DEEPSEEK,
                     .name = "deepseek",
                     .schedules = {&sched_dualpipe, &sched_dualpipev, NULL},
                     .zero_stages = (1u << 0) | (1u << 1),
                     .zero_stages_pp = (1u << 0) | (1u << 1),
                     .fsdp = FW_FSDP_NONE,
                     .recompute_modules = RC_LAYERNORM | RC_MLA_UP_PROJ | RC_MOE_ACT},
    /* DeepSpeed's engine as Megatron-DeepSpeed and GPT-NeoX drive it (microsoft/DeepSpeed read
     * at 38327e0, microsoft/Megatron-DeepSpeed at f4157be):
     * - schedules: deepspeed/runtime/pipe/schedule.py, TrainSchedule -- the only training
     *   schedule of its PipelineEngine, whose per-stage order is 1F1B's
     *   (tests/golden/deepspeed_train_orders.txt); without pipeline parallelism the plain
     *   engine (stepsim's 1f1b on one rank);
     * - sharding: ZeRO stages 0-3 (deepspeed/runtime/zero), but the PipelineEngine asserts
     *   "ZeRO-2 and ZeRO-3 are incompatible with pipeline parallelism"
     *   (deepspeed/runtime/pipe/engine.py); ZeRO-3 releases gathered parameters after use; no
     *   PyTorch FSDP; the pipeline engine all-reduces a BF16_Optimizer's fp32 gradients before
     *   the optimizer takes its shard (engine.py, _bf16_reduce_grads);
     * - recompute: Megatron-DeepSpeed's --recompute-granularity full or selective (the
     *   attention core; megatron/arguments.py), over deepspeed.checkpointing;
     * - offload: --cpu-optimizer / ZeRO-Offload's offload_optimizer, and --checkpoint-in-cpu
     *   (activation checkpoints kept in host memory; megatron/arguments.py);
     * - context parallelism: DeepSpeed-Ulysses only (--ds-sequence-parallel-size,
     *   megatron/arguments.py; DistributedAttention in deepspeed/sequence/layer.py): heads
     *   and sequence swapped by all-to-alls, stepsim's a2a. */
    [FW_DEEPSPEED] = {.id = FW_DEEPSPEED,
                      .name = "deepspeed",
                      .schedules = {&sched_1f1b, NULL},
                      .zero_stages = 0xf,
                      .zero_stages_pp = (1u << 0) | (1u << 1),
                      .fsdp = FW_FSDP_NONE,
                      .full_recompute = 1,
                      .recompute_modules = RC_CORE_ATTN,
                      .offload_activations = 1,
                      .offload_optimizer = 1,
                      .allreduce_sharded = 1,
                      .cp_comm_types = 1u << CP_A2A},
};

const struct fw_type *fw_get(enum fw_id id)
{
    return id > FW_AUTO && id < FW_COUNT ? &frameworks[id] : NULL;
}

int fw_cp_comm(const struct fw_type *fw, int wanted)
{
    if (fw->cp_comm_types & (1u << wanted))
        return wanted;
    for (int t = 0; t < 32; t++)
        if (fw->cp_comm_types & (1u << t))
            return t;
    return -1;
}

unsigned fw_zero_stages(const struct fw_type *fw, int pp)
{
    return pp > 1 ? fw->zero_stages_pp : fw->zero_stages;
}

int fw_offers_schedule(const struct fw_type *fw, const struct sched_type *type)
{
    for (int i = 0; fw->schedules[i]; i++)
        if (fw->schedules[i] == type)
            return 1;
    return 0;
}

void fw_schedule_names(const struct fw_type *fw, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; fw->schedules[i] && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
                                 fw->schedules[i]->name);
}

/* "0, 3": the ZeRO stages of a bit set. */
static void stage_names(unsigned stages, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int z = 0; z < 4 && used < len; z++)
        if (stages & (1u << z))
            used += (size_t)snprintf(buf + used, len - used, "%s%d", used ? ", " : "", z);
}

/* A feature `fw` does not offer, blamed on the feature or the framework, whichever was set
 * later. */
static enum sim_status refuse(const struct fw_type *fw, const struct scenario *scn,
                              enum scn_key feature, struct sim_error *err, const char *what,
                              const char *offers)
{
    return scn_rule_error_keys(
        scn, SCN_KEYS(feature, SCN_FRAMEWORK), err,
        "%s is not offered by framework=%s (%s; framework=any lifts the limit)", what, fw->name,
        offers);
}

/* Muon where the framework offers it, with the ZeRO stages its optimizer shards over. */
static enum sim_status check_muon(const struct fw_type *fw, const struct scenario *scn,
                                  struct sim_error *err)
{
    if (!fw->muon_zero)
        return refuse(fw, scn, SCN_OPTIMIZER_ALGORITHM, err, "the Muon optimizer",
                      "no Muon (its optimizer is Adam's kind)");
    struct scn_sharding sh;
    if (scn_resolve_sharding(scn, &sh, NULL) != SIM_OK || (fw->muon_zero & (1u << sh.stage)))
        return SIM_OK;
    char what[64], offers[96], stages[32];
    stage_names(fw->muon_zero, stages, sizeof stages);
    snprintf(what, sizeof what, "the Muon optimizer with ZeRO stage %d", sh.stage);
    snprintf(offers, sizeof offers, "it runs Muon with stages %s", stages);
    return refuse(fw, scn, SCN_OPTIMIZER_ALGORITHM, err, what, offers);
}

static enum sim_status check_sharding(const struct fw_type *fw, const struct scenario *scn,
                                      struct sim_error *err)
{
    struct scn_sharding sh;
    if (scn_resolve_sharding(scn, &sh, NULL) != SIM_OK)
        return SIM_OK; /* contradicting keys: the cost model's rules say so */
    enum scn_key key = scn->fsdp != FSDP_NONE     ? SCN_FSDP
                       : scn_given(scn, SCN_ZERO) ? SCN_ZERO
                                                  : SCN_DIST_OPT;
    char what[64], offers[64];
    if (scn->fsdp != FSDP_NONE && fw->fsdp == FW_FSDP_NONE) {
        snprintf(what, sizeof what, "fsdp=%s (PyTorch FSDP)", scn_choice_name(SCN_FSDP, scn->fsdp));
        return refuse(fw, scn, SCN_FSDP, err, what, "its own sharding only: zero");
    }
    if (scn->fsdp != FSDP_NONE && fw->fsdp == FW_FSDP_FLAT && (scn->pp > 1 || scn->ep > 1)) {
        char with[64]; /* only what is on: "pp=4", "ep=64" or both */
        snprintf(with, sizeof with, "%s%.0d%s%s%.0d", scn->pp > 1 ? "pp=" : "",
                 scn->pp > 1 ? scn->pp : 0, scn->pp > 1 && scn->ep > 1 ? " " : "",
                 scn->ep > 1 ? "ep=" : "", scn->ep > 1 ? scn->ep : 0);
        return scn_rule_error_keys(
            scn, SCN_KEYS(SCN_FSDP, SCN_FRAMEWORK), err,
            "framework=%s runs fsdp=%s (PyTorch FSDP2) only without pipeline "
            "and expert parallelism, not with %s; its zero stages shard "
            "with any layout",
            fw->name, scn_choice_name(SCN_FSDP, scn->fsdp), with);
    }
    unsigned stages_offered = fw_zero_stages(fw, scn->pp);
    int pp_limits = stages_offered != fw->zero_stages; /* pipeline parallelism narrows them */
    if (!(stages_offered & (1u << sh.stage))) {
        snprintf(what, sizeof what, "ZeRO stage %d%s", sh.stage,
                 pp_limits ? " with pipeline parallelism" : "");
        char stages[32];
        stage_names(stages_offered, stages, sizeof stages);
        snprintf(offers, sizeof offers, "it offers stages %s%s", stages,
                 pp_limits ? " with pp > 1" : "");
        return refuse(fw, scn, key, err, what, offers);
    }
    if (scn->grad_reduce_op == GRAD_REDUCE_ALL_REDUCE && sh.stage == 1 && !fw->allreduce_sharded)
        return refuse(fw, scn, SCN_GRAD_REDUCE_OP, err,
                      "grad-reduce-op=all-reduce with a sharded optimizer",
                      "it reduce-scatters onto the shards");
    if (sh.stage == 3 && !sh.reshard_after_forward && !fw->keep_gathered)
        return refuse(fw, scn,
                      scn->fsdp == FSDP_SHARD_GRAD_OP ? SCN_FSDP : SCN_RESHARD_AFTER_FORWARD, err,
                      "keeping ZeRO-3 parameters gathered from forward to backward",
                      "it reshards after the forward");
    return SIM_OK;
}

/* Context parallelism only as the framework runs it (its cp-comm-types). */
static enum sim_status check_context_parallel(const struct fw_type *fw, const struct scenario *scn,
                                              struct sim_error *err)
{
    if (scn->cp <= 1 || (fw->cp_comm_types & (1u << scn->cp_comm_type)))
        return SIM_OK;
    if (fw->cp_comm_types == 0)
        return refuse(fw, scn, SCN_CP, err, "context parallelism (cp > 1)",
                      "no context parallelism");
    int given = scn_given(scn, SCN_CP_COMM_TYPE);
    char what[80], offers[160];
    snprintf(what, sizeof what, "cp-comm-type=%s%s",
             scn_choice_name(SCN_CP_COMM_TYPE, scn->cp_comm_type),
             given ? "" : " (cp-comm-type's default)");
    size_t used = (size_t)snprintf(offers, sizeof offers, "its context parallelism:");
    for (int t = 0; t < 32 && used < sizeof offers; t++)
        if (fw->cp_comm_types & (1u << t))
            used += (size_t)snprintf(offers + used, sizeof offers - used, " cp-comm-type=%s",
                                     scn_choice_name(SCN_CP_COMM_TYPE, t));
    return refuse(fw, scn, given ? SCN_CP_COMM_TYPE : SCN_CP, err, what, offers);
}

/* Full and selective recompute, and the modules selective recompute may name. */
static enum sim_status check_recompute(const struct fw_type *fw, const struct scenario *scn,
                                       struct sim_error *err)
{
    if (scn->recompute == RECOMPUTE_FULL && !fw->full_recompute)
        return refuse(fw, scn, SCN_RECOMPUTE, err, "recompute=full", "selective recompute only");
    if (scn->recompute != RECOMPUTE_SELECTIVE ||
        !(scn->recompute_modules & ~fw->recompute_modules))
        return SIM_OK;
    char what[200], offers[240], names[100], offered[100];
    scn_flag_names(SCN_RECOMPUTE_MODULES, scn->recompute_modules & ~fw->recompute_modules, names,
                   sizeof names);
    scn_flag_names(SCN_RECOMPUTE_MODULES, fw->recompute_modules, offered, sizeof offered);
    snprintf(what, sizeof what, "recomputing %s%s", names,
             scn_given(scn, SCN_RECOMPUTE_MODULES) ? "" : " (recompute-modules' default)");
    snprintf(offers, sizeof offers, "its selective recompute: %s", offered);
    return refuse(fw, scn,
                  scn_given(scn, SCN_RECOMPUTE_MODULES) ? SCN_RECOMPUTE_MODULES : SCN_RECOMPUTE,
                  err, what, offers);
}

/* Offloading activations (by share or by module) and the optimizer to the host. */
static enum sim_status check_offload(const struct fw_type *fw, const struct scenario *scn,
                                     struct sim_error *err)
{
    if (scn->offload_activations > 0 && !fw->offload_activations)
        return refuse(fw, scn, SCN_OFFLOAD_ACTIVATIONS, err, "offload-activations",
                      "no activation offload");
    /* Megatron-Core's offload of a share of the activations is its layer-level cpu_offloading
     * (cpu_offloading_num_layers, Transformer Engine's CPU offload context), which
     * transformer_config.py (d98e8a6) refuses with pipeline parallelism, with recompute, and
     * for every layer; its fine-grained offloading (offload-modules) runs with all three. */
    if (fw->id == FW_MEGATRON_CORE && scn->offload_activations > 0 &&
        (scn->pp > 1 || scn->recompute != RECOMPUTE_NONE || scn->offload_activations >= 1.0))
        return refuse(fw, scn, SCN_OFFLOAD_ACTIVATIONS, err,
                      scn->pp > 1                         ? "offload-activations with pp > 1"
                      : scn->recompute != RECOMPUTE_NONE ? "offload-activations with recompute"
                                                          : "offload-activations=1",
                      "its layer-level cpu_offloading: pp 1, no recompute, fewer layers than the "
                      "model's; offload-modules offloads by module");
    if (scn->offload_modules && !fw->offload_modules)
        return refuse(fw, scn, SCN_OFFLOAD_MODULES, err, "offload-modules",
                      fw->offload_activations ? "activation offload by share only"
                                              : "no activation offload");
    if (scn->offload_optimizer > 0 && !fw->offload_optimizer)
        return refuse(fw, scn, SCN_OFFLOAD_OPTIMIZER, err, "offload-optimizer",
                      "no optimizer offload");
    return SIM_OK;
}

/* The kernels and precisions a framework may or may not run: CUDA graphs, the fused grouped
 * MLP, the MXFP8 output layer, row-wise Float8, per-module precision. */
static enum sim_status check_kernels(const struct fw_type *fw, const struct scenario *scn,
                                     struct sim_error *err)
{
    if (scn->cuda_graphs != CUDA_GRAPHS_NONE && !(fw->cuda_graphs & (1u << scn->cuda_graphs))) {
        char what[200];
        snprintf(what, sizeof what, "cuda-graphs=%s",
                 scn_choice_name(SCN_CUDA_GRAPHS, scn->cuda_graphs));
        return refuse(fw, scn, SCN_CUDA_GRAPHS, err, what, "no CUDA graphs of training steps");
    }
    if (scn->moe_fused_grouped_mlp && !fw->fused_grouped_mlp)
        return refuse(fw, scn, SCN_MOE_FUSED_GROUPED_MLP, err, "moe-fused-grouped-mlp",
                      "no fused grouped MLP");
    if (scn->fp8_output_proj && !fw->module_precision)
        return refuse(fw, scn, SCN_FP8_OUTPUT_PROJ, err, "fp8-output-proj",
                      "no MXFP8 output layer");
    if (scn->dtype == DT_FP8 && scn->fp8_recipe == FP8_ROWWISE && !fw->rowwise_fp8)
        return refuse(fw, scn, SCN_FP8_RECIPE, err, "fp8-recipe=rowwise",
                      "no row-wise Float8 (torchao's recipe)");
    if ((scn->bf16_modules || scn->mxfp8_modules) && !fw->module_precision)
        return refuse(fw, scn, scn->bf16_modules ? SCN_BF16_MODULES : SCN_MXFP8_MODULES, err,
                      scn->bf16_modules ? "bf16-modules" : "mxfp8-modules",
                      "no per-module quantization recipe");
    return SIM_OK;
}

enum sim_status fw_check(const struct fw_type *fw, const struct scenario *scn,
                         struct sim_error *err)
{
    if (!fw || fw->id == FW_ANY)
        return SIM_OK;
    const struct sched_type *type = scn_schedule(scn);
    if (type && !fw_offers_schedule(fw, type)) {
        char what[200], offers[240], names[128];
        fw_schedule_names(fw, names, sizeof names);
        snprintf(what, sizeof what, "schedule=%s", scn->schedule);
        snprintf(offers, sizeof offers, "its schedules: %s", names);
        return refuse(fw, scn, SCN_SCHEDULE, err, what, offers);
    }
    enum sim_status st;
    if ((st = check_sharding(fw, scn, err)) != SIM_OK ||
        (st = check_context_parallel(fw, scn, err)) != SIM_OK ||
        (st = check_recompute(fw, scn, err)) != SIM_OK ||
        (st = check_offload(fw, scn, err)) != SIM_OK)
        return st;
    /* Pipeline stages inside the replica is Megatron-Core's RankGenerator option alone;
     * torchtitan's device mesh and DeepSpeed's topology put the pipeline outermost. */
    if (scn->rank_order == RANK_ORDER_PP_DP && fw->id != FW_MEGATRON_CORE)
        return refuse(fw, scn, SCN_RANK_ORDER, err, "rank-order=tp-cp-ep-pp-dp",
                      "the pipeline outermost in its rank numbering");
    if ((st = check_kernels(fw, scn, err)) != SIM_OK)
        return st;
    if (scn->optimizer_algorithm == OPTALG_MUON)
        return check_muon(fw, scn, err);
    return SIM_OK;
}

const struct fw_type *fw_resolve(const struct scenario *scn)
{
    if (scn->framework != FW_AUTO)
        return fw_get((enum fw_id)scn->framework);
    static const enum fw_id order[] = {FW_MEGATRON_CORE, FW_TORCHTITAN, FW_DEEPSEEK, FW_DEEPSPEED};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (fw_check(fw_get(order[i]), scn, NULL) == SIM_OK)
            return fw_get(order[i]);
    return fw_get(FW_ANY);
}
