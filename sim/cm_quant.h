/* cm_quant: fp8 / nvfp4 quantization of a layer's GEMM operands, by recipe (Transformer
 * Engine's delayed, current, blockwise, MXFP8 and NVFP4 scaling, torchao's row-wise Float8):
 * the bytes each operand's casts move, the copies the backward keeps, what tensor parallelism
 * gathers, and the launches.  Internal to the cost model (cm_work.c prices the rest). */
#ifndef STEPSIM_CM_QUANT_H
#define STEPSIM_CM_QUANT_H

#include "cm_layer.h"

/* One layer's quantization time on this GPU, forward and backward (lc->quant_fwd and
 * quant_bwd), each operand under its module's recipe, and its launches counted into lc.
 * `dense_inner`: the dense MLP's or shared experts' inner width; `routed_inner`: the routed
 * experts' (top_k of them) where their activation runs unfused.  T tokens, Ts sharded. */
void cm_narrow_quantize_s(const struct cm_ctx *c, const struct layer_parts *lp, double T,
                          double Ts, double dense_inner, double routed_inner,
                          struct layer_cost *lc);

/* Bytes an element of a kept input of `module`'s GEMM takes (enum scn_linear_module bit): the
 * one quantized copy its backward needs in a narrow run, else the activation's act_bytes. */
double cm_kept_input_bytes(const struct cm_ctx *c, int module);

/* Bytes an element of a linear's input takes in its TP all-gather: the quantized copy where
 * the recipe gathers it (Transformer Engine's, torchao's tensor-wise), else act_bytes. */
double cm_tp_gather_bytes(const struct cm_ctx *c);

/* A narrow run whose recipe gathers the 16-bit tensor and quantizes it after the gather
 * (torchao's row-wise Float8). */
int cm_gathers_wide(const struct cm_ctx *c);

/* The MXFP8 output layer's quantization bytes: its input (`in_elems`) forward, the logits'
 * gradient (`grad_elems`) backward, and the transposed copies the backward makes. */
void cm_head_quant_bytes(const struct cm_ctx *c, double in_elems, double grad_elems,
                         double *fwd, double *bwd);

/* Transformer Engine's amax reductions under Megatron-Core, each a tiny all-reduce in line
 * (cm_quant.c): under current scaling and NVFP4 one over TP per quantized sequence-parallel
 * operand, `per_operand_s` of them (cm_tp.c counts them); under delayed scaling two per chunk
 * and micro-batch over the chunk's TP x CP x DP ranks, fwd_s and bwd_s (0 for other recipes). */
double cm_amax_tp_reduction_s(const struct cm_ctx *c, struct coll_group tp_group);
void cm_delayed_amax_reductions_s(const struct cm_ctx *c, int layers, double *fwd_s,
                                  double *bwd_s);

/* Quantize launches per operand of the routed experts' GEMMs (0 outside a narrow run). */
double cm_expert_quantize_kernels(const struct cm_ctx *c);

#endif
