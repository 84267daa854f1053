/* costmodel: op durations, transfer sizes, links and memory from a model, a hardware
 * description and a parallel configuration (the `model=` path of a scenario).
 *
 * Per virtual stage (a model chunk on a pipeline rank) it derives the forward, backward-input
 * and backward-weight time of one micro-batch, each split into compute, recompute and exposed
 * tensor / context / expert-parallel communication; the activation bytes sent between stages;
 * every P2P link from where the two ranks sit (Megatron rank order tp-cp-ep-dp-pp: inside a
 * node or across the network); each chunk's data-parallel gradient reduction; the optimizer
 * step and parameter gather; and memory per GPU.  The pipeline engine then runs the step.
 *
 * Time of work: matmuls at peak x the hardware's matmul-efficiency curve for their size,
 * attention at peak x the attention curve, element-wise work (norms, activations, residuals,
 * dropout, softmax of unfused attention, the optimizer) at HBM bandwidth x memory efficiency.
 * Communication: the cheapest collective algorithm (collective.h) over the levels the group
 * spans. */
#ifndef STEPSIM_COSTMODEL_H
#define STEPSIM_COSTMODEL_H

#include "error.h"
#include "hardware.h"
#include "groups.h"
#include "layout.h"
#include "model.h"
#include "pipeline.h"
#include "scenario.h"

/* Where one op's time goes (seconds, one micro-batch through one chunk on one GPU). */
struct cm_parts {
    double compute;   /* matmuls, attention, element-wise work of the op itself */
    double recompute; /* forward work repeated in the backward (activation recompute) */
    double tp, cp, ep; /* exposed tensor / context / expert-parallel communication */
    double dp;         /* exposed sharded data-parallel traffic inside the op (ZeRO-2/3:
                          per-layer parameter gathers and gradient reduce-scatters) */
    double host;       /* exposed activation offload traffic over the host link */
    double launch;     /* of compute and recompute: the gaps its kernels' launches leave, from
                          the host or a CUDA graph (already in them, not a part of its own) */
};

/* One transformer layer's work for one micro-batch on one GPU, by component, in seconds: what
 * the stage's F and B ops are made of (for the report's per-layer table).  Communication is
 * before any overlap with compute; the backward's GEMMs are the input gradient's and the weight
 * gradient's together. */
/* The report's one-layer views: one per kind of layer, indexed by model_layer_kind (dense 0 /
 * MoE 1, plus 2 when the layer attends over a local window; a hybrid model's kinds above). */
#define CM_LAYER_VIEWS MODEL_KINDS

struct cm_layer_view {
    int layer; /* the layer described; -1 when the model has none of this kind */
    int stage; /* the pipeline stage (model chunk) that holds it */
    double gemm_fwd, gemm_bwd, attn_fwd, attn_bwd, elem_fwd, elem_bwd, quant_fwd, quant_bwd;
    double router_fwd, router_bwd, tp_fwd, tp_bwd, cp_fwd, cp_bwd, ep_fwd, ep_bwd;
};

struct cm_stage {
    int first_layer, layers; /* transformer layers of this chunk (the layout's) */
    int has_embedding, has_head;
    int mtp_modules; /* MTP modules run after the layers: the head's chunk's (the layout's) */
    struct cm_parts fwd, bwd, wgt; /* F, B (input gradient), W (weight gradient) */
    double params;        /* parameters trained per GPU (after TP / EP sharding) */
    double dense_params;  /* of which replicated over DP */
    double expert_params; /* of which replicated over expert-DP */
    double frozen_params; /* held per GPU but not trained: the base model under peft=lora */
    double dp_sync_s;     /* gradient reduction of this chunk over DP (and expert-DP) */
    double deferred_wgt;  /* weight-gradient work per micro-batch moved to the pipeline flush
                             (the LM head's, with defer-head-wgrad) */
    double act_bytes_mb;  /* activation memory one in-flight micro-batch holds on this chunk */
    double reloaded_bytes; /* offloaded activations back on the GPU at once (offload-modules):
                              the chunk's largest layer's, twice (cm_stage.c add_offload) */
    double offloaded_bytes_mb; /* of act_bytes_mb's, what waits in host memory instead */
    double narrow_dense_params;  /* of which in layers with fp8 / nvfp4 GEMMs: dense ... */
    double narrow_expert_params; /* ... and routed experts (weight caches, quantized-params);
                                    not the modules bf16-modules or mxfp8-modules name */
    double mxfp8_params;         /* weights in MXFP8 inside a narrower run (mxfp8-modules) or a
                                    wider layer (the LM head with fp8-output-proj) */
    double max_unit_params; /* largest layer (or embedding / head) of the chunk, per GPU: what
                               ZeRO-3 holds gathered at once */
    double edge_params;     /* of params, the embedding, LM head and final norm: what Muon
                               leaves to an element-wise update */
    double muon_dense_s, muon_expert_s; /* Muon's Newton-Schulz work on the chunk's matrices,
                                           before data parallelism shares it (cm_muon.c) */
};

struct cm_rank_memory {
    double weights, grads, optimizer; /* bytes per GPU */
    double activations;   /* peak in-flight activations, from the simulated schedule */
    double act_per_mb;    /* bytes per in-flight micro-batch (averaged over the rank's chunks) */
    /* What the activations hold beyond the in-flight micro-batches', each only while it lasts:
     * `activations` adds them at the peak, the memory timeline where they occur. */
    double pair_layer;   /* while an overlapped F&B pair runs: one layer more at its crossing */
    double reloaded;     /* while a backward runs: offload-modules' layers back on the GPU */
    double offloaded_mb; /* offload-modules: offloaded per in-flight micro-batch ... */
    double kept_cap;     /* ... of which offload-pp-delta keeps at most this on the GPU */
    double total;
    int oom;              /* total > the usable HBM, or host > the host memory a GPU has */
    /* on the host, per GPU: the offloaded optimizer state and the offloaded activations of the
     * micro-batches in flight at the peak; host_oom when past the hardware's host-memory */
    double host;
    int host_oom;
};

struct cm_config {
    int gpus, tp, pp, vp, cp, ep, etp, dp, edp;
    int communicators; /* NCCL communicators a rank uses (cm_buffers.h) */
    double deepep_buffer_bytes; /* DeepEP's dispatch / combine buffer per rank (cm_buffers.h) */
    double userbuffer_bytes;    /* Transformer Engine's TP-overlap userbuffers (cm_buffers.h) */
    int replicas;     /* GPUs holding the same dense weights: dp x cp (context-parallel ranks
                         split the sequence and sum their gradients too: Megatron-Core reduces
                         over its data-parallel-with-CP group), `tp` ranks apart */
    int zero;         /* ZeRO stage 0-3 (scn_resolve_sharding) */
    int reshard;      /* ZeRO-3 frees gathered parameters after the forward */
    int defer_grad_sync; /* torchtitan's FSDP2 under pipeline parallelism, as PyTorch's
                            pipelining runs it (torch/distributed/pipelining/stage.py,
                            backward_maybe_with_nosync): every backward but the last keeps its
                            gradients unsharded, accumulated in the reduce type, and its
                            parameters gathered; the last reduce-scatters and reshards them */
    int grad_accumulation; /* enum scn_grad_accumulation: as given, else the framework's */
    int overlap_tp_backward; /* overlap-tp-backward: as given, else the framework's */
    int tp_keeps_gathered_input; /* DTensor linears (torchtitan): autograd keeps the input the
                                    forward all-gathered, where Megatron-Core's keep their shard
                                    and gather it again for the weight gradient */
    int async_tp_torch; /* overlapped TP is torch's async TP (torchtitan with overlap-tp-comm):
                           it leaves in line the backward reductions whose input sums several
                           matmuls' gradients (cm_tp.c, async_tp_inline_reductions) and the
                           gathers row-wise Float8 quantizes before its matmuls */
    int separate_projections; /* torchtitan's Llama: Q, K and V, and a gated MLP's gate and
                                 up-projection, are linears of their own, where Megatron-Core
                                 fuses each group into one GEMM (cm_work.c, fused_gemm_s) */
    int split_backward; /* the schedule runs weight gradients as ops of their own (W) */
    int regather_own_output; /* DeepSpeed's pipeline engine: a stage keeps 1/tp of its own
                                output after the forward and all-gathers it back before the
                                backward (cm_stage.c, add_p2p_gather) */
    /* The run follows Megatron-Core's code where frameworks differ: no framework named,
     * megatron-core or any -- not torchtitan, DeepSpeed (legacy Megatron-LM's layers) or
     * DeepSeek's own.  Read for its recompute (cm_work.c: which norms, the attention core),
     * its gradient buckets (costmodel.c). */
    int megatron_core;
    /* Selective recompute of core_attn runs a fused attention kernel's forward again: Megatron-
     * Core checkpoints the core attention whatever its kernel (megatron/core/transformer/
     * attention.py at d98e8a6: checkpoint_core_attention and _checkpointed_attention_forward,
     * which carries DSA's indexer inputs too); legacy Megatron-LM's flash branch, which
     * Megatron-DeepSpeed keeps, calls the kernel without the checkpoint, and torchtitan's
     * policies keep the attention output.  Unfused attention always runs again. */
    int core_attn_rerun;
    int fsdp2; /* PyTorch FSDP2 (fully_shard, fully sharded) as torchtitan applies it: its copies
                  around each unit's collectives and its clipping pass (cm_stage.c) */
    int flat_param_grads; /* PyTorch FSDP1's flat parameters (fsdp key, no framework that
                             shards its own way): each unit's gradients copied into one flat
                             gradient, cast and pre-divided before the reduce-scatter */
    /* The share of the shorter that overlapping an expert-parallel exchange with compute still
     * costs: the hardware's overlap-interference, or, with DeepEP on a GPU whose SM count is
     * known, the share of the SMs its kernels hold if that is more (ep_overlap_interference). */
    double ep_overlap_interference;
    /* The flash-attention kernel's rate as a share of the hardware's attention curve: 1, or
     * with attention-kernel="fa2" the file's fa2-attention-share. */
    double attention_share;
    /* The attention core's rate over the curve's 16-bit one, forward and backward: 1, or with
     * fp8-attention the hardware file's measured fp8 gains for the scenario's recipe. */
    double attention_fp8_fwd, attention_fp8_bwd;
    /* The flash-attention backward's rate over its forward's for this model on this GPU: the
     * hardware's MLA figure for a model with latent attention when the file gives one, else its
     * attention-backward-ratio. */
    double attention_bwd_ratio;
    /* The modules whose kernels CUDA graphs launch (enum scn_graph_scope bits): none, the
     * scope given with cuda-graphs=modules, or every one with cuda-graphs=full-iteration. */
    int graph_scope;
    /* The gap an eagerly launched kernel leaves: the hardware's kernel-overhead times its
     * host's host-launch-ratio (a graphed one leaves GRAPH_KERNEL_GAP_S, host or not). */
    double eager_launch_s;
    /* The routed tokens each expert rank computes and exchanges, over the balanced mean: the
     * padded capacity with moe-capacity-factor (every rank alike), else moe-imbalance (the
     * busiest rank, which the others wait for). */
    double moe_load;
    int grad_allreduce; /* the end-of-step gradient reduction is an all-reduce: ZeRO 0, or a
                           sharded optimizer whose framework all-reduces before it takes its
                           shard (grad-reduce-op=all-reduce) */
    int shard, eshard; /* GPUs the dense / expert parameters' state is sharded over (replicas /
                          edp, or fsdp-group for hybrid shards; replicated across the rest) */
    int outer_optim;   /* hybrid shards' replicas split the optimizer state (fsdp-outer-shard) */
    int outer_reduce_once; /* hybrid shards reduce across their replicas once a step (Megatron-
                              FSDP, sharding named by `zero`), not every micro-batch (`fsdp`) */
    int micro_batch, global_batch, microbatches, seq;
    int gpus_per_node;
    int offload_modules; /* enum scn_offload_module bits offloaded, `all` resolved
                            (cm_offload_modules) */
    int pp_dp_order; /* rank-order tp-cp-ep-pp-dp: a replica's pipeline stages are neighbours
                        (tp*cp apart) and its data-parallel peers tp*cp*pp apart */
    /* Bytes per element of what the run computes in (cm_dtype_bytes): 4 for fp32 and tf32, 2
     * for bf16 and fp16 and for fp8 / nvfp4 outside their GEMMs. */
    double act_bytes;   /* an activation, and the tensors TP, CP, EP and P2P exchange */
    /* Bytes per element of the expert-parallel exchanges in the dispatch direction -- the
     * forward's dispatch and the backward's combine gradient: act_bytes, or with an fp8 wire
     * (moe-dispatch-dtype, resolve_dispatch_fp8) 1 + 4 / 128.  The combine direction stays at
     * act_bytes. */
    double ep_dispatch_bytes;
    double param_bytes; /* a working weight, and the gradient autograd writes for it */
};

struct costmodel {
    struct model model;
    const struct hardware *hw; /* hw_own, or a caller's preloaded hardware */
    /* On the heap, so that the planner's cost model per config stays small: the hardware
     * cm_build loaded (own_curves), or a shallow copy of a shared one with the scenario's hw.*
     * knobs applied, whose curves stay the original's; NULL when neither. */
    struct hardware *hw_own;
    int own_curves;
    struct cm_config cfg;
    struct layout layout;    /* the checked scenario's stages, resolved once (layout.h), owned */
    struct groups groups;    /* where its parallel groups sit, resolved once (groups.h), owned */
    struct cm_stage *stages; /* [pp*vp], owned */
    double p2p_bytes;        /* per activation / gradient transfer */
    double *rank_opt_s;      /* [pp] optimizer step */
    double *rank_param_ag_s; /* [pp] exposed parameter all-gather (distributed optimizer) */
    double *rank_deferred_s; /* [pp] of rank_opt_s, the deferred weight gradients run first */
    double *rank_opt_offloaded_s; /* [pp] rank_opt_s with the whole optimizer offloaded
                                     (offload-optimizer 1), what plan's bounds compare with */
    double model_flops_step; /* MFU numerator: 3 x forward, no recompute, full attention */
    double hw_flops_step;    /* HFU numerator: adds recompute */
    double peak_flops;       /* per GPU, for the scenario's dtype */
    int tp_spans_nodes;      /* warning: TP group leaves the NVLink domain */
    int seq_past_max;        /* warning: seq is longer than the model's max-seq */
    struct cm_layer_view layer_view[CM_LAYER_VIEWS]; /* the model's first layer of each kind */
};

/* Load the model and hardware, check the configuration rules (exit-2 errors naming the rule
 * and the values), derive the costs and fill `setup` for pipe_run. */
enum sim_status cm_build(struct costmodel *cm, struct scenario *scn, struct pipe_setup *setup,
                         struct sim_error *err);
/* The same from a model and hardware already loaded (sweeps and the planner load each once):
 * `hw` is only read, so one loaded hardware can serve many threads; it must outlive cm. */
enum sim_status cm_build_preloaded(struct costmodel *cm, struct scenario *scn,
                                   const struct model *model, const struct hardware *hw,
                                   struct pipe_setup *setup, struct sim_error *err);
void cm_release(struct costmodel *cm);

/* The selective-recompute modules (enum scn_recompute_module bits) model `m` has an instance
 * of: recompute-modules may name only these. */
int cm_model_recompute_modules(const struct model *m);
/* The modules the scenario's offload-modules offloads on model `m`: its names, or with `all`
 * every module the model has that the layout can offload (no norms under CUDA graphs, no
 * expert input a recompute of whole MoE layers drops). */
int cm_offload_modules(const struct scenario *scn, const struct model *m);

/* HBM per GPU set aside for the layout: the hardware's fixed reserve, NCCL's buffers for each
 * communicator a rank uses (cfg.communicators), DeepEP's buffer and Transformer Engine's
 * userbuffers. */
double cm_reserved_hbm(const struct costmodel *cm);
/* HBM per GPU the layout's tensors may fill: the capacity less cm_reserved_hbm, at least 0. */
double cm_usable_hbm(const struct costmodel *cm);

/* Of `inflight` micro-batches' offloaded activations, what offload-pp-delta keeps on the GPU. */
double cm_offload_kept(const struct cm_rank_memory *m, int inflight);

/* Memory per pipeline rank once the step has run (peak in-flight comes from the result). */
void cm_rank_memory(const struct costmodel *cm, const struct scenario *scn,
                    const struct pipe_result *res, int rank, struct cm_rank_memory *out);

#endif
