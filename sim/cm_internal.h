/* cm_internal: what the cost model's modules share (not part of the public costmodel.h).
 *
 * costmodel.c builds a step: stages, parameters and memory, assembly for the engine, after
 * cm_rules.c's configuration rules (with cm_buffers.c's communication buffers); cm_stage.c
 * derives how long one virtual stage's F, B and W ops take from its layers, whose work
 * (matmuls, attention, element-wise work) cm_work.c prices one layer at a time (cm_layer.h),
 * with cm_quant.c for the fp8 / nvfp4 quantization of its GEMM operands and cm_tp.c for its
 * tensor-parallel collectives; cm_comm.c prices the other collectives (CP, EP dispatch, data
 * parallelism and its sharded forms).  All of them read one struct cm_ctx, built once per step,
 * what each stage holds from its layout (layout.h) and where each parallel group sits from its
 * groups (groups.h), both resolved once per build after the rules have completed the
 * scenario. */
#ifndef STEPSIM_CM_INTERNAL_H
#define STEPSIM_CM_INTERNAL_H

#include "collective.h"
#include "costmodel.h"

/* Element sizes.  What the run computes in -- activations, the tensors its collectives and
 * P2P sends move, its working weights and the gradients autograd writes -- takes the
 * dtype's size, resolved once into struct cm_config (act_bytes, param_bytes; cm_dtype_bytes).
 * These stay whatever the dtype: */
#define BF16_BYTES 2.0 /* a 16-bit element: what fp8 / nvfp4 runs keep outside their GEMMs and
                          quantize from (Transformer Engine's high-precision tensors) */
#define FP32_BYTES 4.0 /* an fp32 element: master weights, Adam's moments, fp32 gradients */

/* Bytes per element of the tensors a run of `dtype` computes in and keeps.  A run without
 * --bf16 / --fp16 (Megatron) keeps its parameters, gradients and activations in fp32 (its
 * model is not cast: megatron/training/training.py get_model wraps it in Float16Module only
 * for args.fp16 or args.bf16); tf32 is a matmul mode on fp32 tensors, so it stores fp32.  fp8
 * and nvfp4 training keep bf16 outside their GEMMs (cm_narrow_gemms). */
static inline double cm_dtype_bytes(int dtype)
{
    return dtype == DT_FP32 || dtype == DT_TF32 ? FP32_BYTES : BF16_BYTES;
}
/* Bytes an element of a cast between the activation type and fp32, one read and one write: none
 * in an fp32 run, where x.float(), .to(torch.float32) and .type_as(x) return the tensor itself
 * (so an fp32 run's PyTorch ops that cast to fp32 and back move only their fp32 passes). */
static inline double cm_fp32_cast_bytes(const struct cm_config *cfg)
{
    return cfg->act_bytes < FP32_BYTES ? cfg->act_bytes + FP32_BYTES : 0.0;
}
/* Kernels such a cast launches: one, none in an fp32 run (the same ops return the tensor
 * itself, and autograd records no cast to undo in the backward). */
static inline double cm_fp32_cast_kernels(const struct cm_config *cfg)
{
    return cfg->act_bytes < FP32_BYTES ? 1.0 : 0.0;
}
/* fp8 and nvfp4 training: Transformer Engine runs the linear layers' GEMMs in the narrow type
 * and keeps everything else 16-bit (struct cm_ctx's linear vs wide rates). */
static inline int cm_narrow_gemms(const struct scenario *scn)
{
    return scn->dtype == DT_FP8 || scn->dtype == DT_NVFP4;
}
/* Megatron's gradient buckets hold max(40M, 1M x dp) parameters
 * (megatron/core/distributed/distributed_data_parallel.py, bucket_size). */
#define DP_BUCKET_PARAMS 40e6

/* How fast one kind of GEMM runs: a dense peak, the efficiency curve against its size, and the
 * share of the curve's rate this kind reaches (1 but for block-scaled fp8 where the hardware
 * file says: hw_gpu.fp8_block_gemm_gain). */
struct gemm_rate {
    double peak; /* FLOP/s */
    const struct hw_curve *eff;
    double gain;
};

struct cm_ctx {
    const struct scenario *scn;
    const struct model *m;
    const struct hardware *hw;
    const struct cm_config *cfg;
    /* fp8 (and nvfp4) training runs only the transformer's linear layers (QKV, projection, MLP
     * and expert GEMMs: Transformer Engine's Linear / LayerNormLinear / LayerNormMLP /
     * GroupedLinear) in fp8; the LM head (Megatron-Core's output_layer is a plain
     * ColumnParallelLinear), the router and the attention core stay 16-bit.  Otherwise both
     * are the dtype's. */
    struct gemm_rate linear; /* the linear layers' GEMMs */
    struct gemm_rate wide;   /* GEMMs kept in 16 bit (LM head, router, unfused attention) */
    double attn_peak;        /* the attention core's peak: 16-bit even in fp8 training */
    struct coll_level nvlink, net; /* achievable levels */
    int flash;                     /* flash attention (else unfused softmax attention) */
    int narrow;                    /* the linear GEMMs run in fp8 / nvfp4 (cm_narrow_gemms) */
    struct cm_layer_view *layer_view; /* where the first layer of each kind is described for
                                         the report (costmodel's layer_view), or NULL */
    struct gemm_rate mxfp8; /* the fp8 rate: modules mxfp8-modules names in an NVFP4 run */
    struct cm_offload_row *offload_rows; /* one per layer of a chunk while it is costed, or
                                            NULL: nothing offloaded (cm_stage.c) */
    const struct layout *layout; /* what each stage holds: read it, not the scenario's split */
    const struct groups *groups; /* where the parallel groups sit: read them, not cfg's degrees */
};

/* Megatron-Core's offload groups of one layer: each offload module's saved inputs, in forward
 * order (enum scn_offload_module bit order). */
#define CM_OFFLOAD_GROUPS 8

/* One layer's activation offload, kept until the chunk's groups are all known: the bytes of
 * each offload group (CM_OFFLOAD_GROUPS, cm_layer.h; the share-based offload's in the first)
 * and the forward's and backward's work its transfers hide behind. */
struct cm_offload_row {
    double group[CM_OFFLOAD_GROUPS];
    double fwd_work, bwd_work;
};

/* Whether transformer layer `layer` runs its linear GEMMs in the narrow type: all of them in fp8
 * / nvfp4 training but the bf16 edge layers (bf16-first-layers, bf16-last-layers). */
static inline int cm_layer_is_narrow(const struct cm_ctx *c, int layer)
{
    return c->narrow && layer >= c->scn->bf16_first_layers &&
           layer < c->m->layers - c->scn->bf16_last_layers;
}

/* A quantized parameter (quantized-params) as stored and gathered, in bytes (Megatron's param
 * buffer, megatron/core/distributed/param_and_grad_buffer.py): fp8 1, NVFP4 two values per
 * byte; MXFP8 gathers the 16-bit master copy through the gradient buffer and quantizes after
 * (reuse_grad_buf_for_mxfp8_param_ag), so 2. */
static inline double cm_quantized_param_bytes(const struct scenario *scn)
{
    if (scn->dtype == DT_NVFP4)
        return 0.5;
    return scn->fp8_recipe == FP8_MXFP8 ? BF16_BYTES : 1.0;
}

/* Bytes per parameter the data-parallel all-gathers move for a layer: the working weights
 * (16-bit, fp32 in an fp32 run), or the quantized form for a narrow layer's with
 * quantized-params. */
static inline double cm_param_gather_bytes(const struct cm_ctx *c, int narrow_layer)
{
    return narrow_layer && c->scn->quantized_params ? cm_quantized_param_bytes(c->scn)
                                                    : c->cfg->param_bytes;
}

/* ---- cm_comm.c: collectives (on the groups of groups.h) ---- */

/* The in-node level a group with `members` GPUs of one node sees: the switched NVLink's whole
 * bandwidth, or on a point-to-point mesh its (members - 1) links to the others (cm_comm.c). */
struct coll_level cm_intra_level(const struct cm_ctx *c, int members);
/* NCCL's choice of algorithm for one collective on group g (see cm_comm.c). */
double cm_coll_time(const struct cm_ctx *c, enum coll_op op, double bytes, struct coll_group g);
/* Exposed time of `comm` seconds of communication overlapping `hide` seconds of compute. */
double cm_exposed(const struct cm_ctx *c, double comm, double hide, int overlap);
/* The same, overlapped, at a given interference (an EP exchange beside DeepEP's held SMs). */
double cm_exposed_at(double interference, double comm, double hide);
/* Context parallelism's K/V traffic per layer for `tokens` tokens per rank, under the
 * scenario's cp-comm-type: what overlaps attention (the ring) and what blocks (all-gathers,
 * all-to-alls), forward and backward. */
struct cp_traffic {
    double ring_fwd, ring_bwd;   /* overlaps the attention core */
    double block_fwd, block_bwd; /* on the critical path */
};
void cm_cp_traffic(const struct cm_ctx *c, double tokens, struct cp_traffic *out);
/* DSA's context parallelism, an all-gather of the keys (cm_comm.c); `indexer`: the layer
 * computes its top-k, and gathers the indexer's keys too. */
void cm_dsa_cp_traffic(const struct cm_ctx *c, double tokens, int indexer,
                       struct cp_traffic *out);
/* A Mamba-2 mixer's context-parallel all-to-alls per layer for `tokens` tokens per rank (all
 * blocking); returns the bytes one pass copies around them (cm_comm.c). */
double cm_mamba_cp_traffic(const struct cm_ctx *c, double tokens, struct cp_traffic *out);
/* The same for a Gated DeltaNet (cm_comm.c). */
double cm_gdn_cp_traffic(const struct cm_ctx *c, double tokens, struct cp_traffic *out);
/* A dispatch and its combine for `tokens` on this GPU: DeepEP's measured kernels where the
 * hardware file has them for a group inside its NVLink domain, else twice one exchange under
 * the scenario's dispatcher (cm_comm.c, ep_exchange_s). */
double cm_ep_round_trip_s(const struct cm_ctx *c, double tokens);
/* Bytes per gradient element as kept and reduced. */
double cm_grad_bytes(const struct scenario *scn);
/* End-of-step gradient reduction of one chunk (zero <= 1; sharded stages reduce per
 * micro-batch inside the ops instead). */
double cm_dp_sync_s(const struct cm_ctx *c, const struct cm_stage *st);
/* Per micro-batch traffic of ZeRO-2/3 for `dense` + `expert` parameters on this GPU (one
 * layer): the all-gather of their weights (ZeRO-3) and the reduce-scatter of their gradients,
 * plus the all-reduce across replicas of hybrid shards. */
void cm_shard_comm(const struct cm_ctx *c, double dense, double expert, double param_bytes,
                   double *gather, double *reduce);

/* ---- costmodel.c: parameters ---- */

/* Parameters of transformer layer `layer` on one GPU: replicated over data parallelism
 * (dense, TP-sharded) and routed experts (EP x ETP-sharded). */
void cm_layer_params(const struct cm_ctx *c, int layer, double *dense, double *expert);
/* Of a sequence's causal attention, the share packed documents compute, each attending within
 * itself: n documents of d tokens pair n d^2 / 2 = s d / 2 tokens of the s^2 / 2 (non-causal: s d
 * of s^2), so d / s (packed-doc-tokens; 1 for one document a sequence). */
static inline double cm_packed_attention_share(const struct scenario *scn, int seq)
{
    int d = scn->packed_doc_tokens;
    return d > 0 && d < seq ? (double)d / seq : 1.0;
}

/* peft=lora: the adapters' parameters of transformer layer `layer` on this GPU: beside the
 * replicated linears (dense) and the routed experts' (expert, one adapter per EP rank). */
void cm_lora_layer_params(const struct cm_ctx *c, int layer, double *dense, double *expert);

/* Do fp8 / fp4 experts copy their tokens into aligned segments and out again (Megatron-Core's
 * Fp8Padding / Fp8Unpadding; none under moe-router-padding, hybridep or an aligned capacity)? */
int cm_expert_pad_copies(const struct cm_ctx *c);

/* ---- cm_rules.c: the configuration rules ---- */

/* Check the scenario against the model, hardware and framework (file:line errors naming the
 * keys), complete what follows from the rest, and resolve the settings into *cfg. */
enum sim_status cm_check_rules(struct scenario *scn, const struct model *m,
                               const struct hardware *hw, struct cm_config *cfg,
                               struct sim_error *err);

/* ---- cm_work.c: the time of work (one layer's: cm_layer.h) ---- */

/* HBM-bound time of moving `bytes`. */
double cm_memory_s(const struct cm_ctx *c, double bytes);
/* One 16-bit GEMM of `flops` (the rate of the GEMMs kept 16-bit in fp8 training too). */
double cm_gemm16_s(const struct cm_ctx *c, double flops);

/* ---- cm_stage.c: the ops of one virtual stage ---- */

/* F, B and W parts of virtual stage `stage` (layers, embedding, head; communication inside). */
void cm_stage_cost(const struct cm_ctx *c, int stage, struct cm_stage *st);
/* The MTP modules' transformer layers a chunk runs after its own (the head's chunk only). */
int cm_stage_mtp_layers(const struct model *m, const struct cm_stage *st);
/* Does virtual stage `stage` cost what `prev` (already costed) does?  Yes when both hold
 * neither the embedding nor the head and the same number of layers, layer by layer of the
 * same kind and precision: then every figure of the stage but its first layer is prev's.
 * Saves the planner costing the identical middle stages of a deep pipeline again. */
int cm_stage_repeats(const struct cm_ctx *c, const struct cm_stage *prev, int stage);

#endif
