/* hardware: a GPU cluster, loaded from hardware/<name>.xml (schema hardware/hardware.xsd).
 *
 * Three levels: the GPU (peak FLOP/s per dtype, HBM, achievable-efficiency curves), the node
 * (GPUs joined by NVLink/NVSwitch) and the scale-out network (per-GPU NIC bandwidth, latency,
 * topology).  Values are SI: FLOP/s, bytes, bytes/s, seconds.  Bandwidths are per GPU, per
 * direction (what one GPU can send while it also receives at the same rate). */
#ifndef STEPSIM_HARDWARE_H
#define STEPSIM_HARDWARE_H

#include "error.h"

enum dtype { DT_FP32, DT_TF32, DT_BF16, DT_FP16, DT_FP8, DT_COUNT };

/* A monotone curve y(x) sampled at n points, interpolated in log10(x) with GSL (Steffen's
 * method, which never overshoots) and clamped at both ends. */
#define HW_CURVE_MAX 32
struct hw_curve {
    int n;
    double x[HW_CURVE_MAX]; /* strictly increasing, > 0 */
    double y[HW_CURVE_MAX];
};

struct hw_gpu {
    char name[64];
    double peak_flops[DT_COUNT]; /* dense (no sparsity) peak, FLOP/s; 0 = unsupported */
    double hbm_bytes;            /* capacity */
    double hbm_bw_Bps;           /* peak HBM bandwidth */
    /* Achieved fraction of peak for one matmul as a function of its FLOPs (2*m*n*k): small
     * GEMMs cannot fill the GPU.  From measured GEMM benchmarks; see the XML's comments. */
    struct hw_curve matmul_eff;
    /* Achieved fraction of the attention core's FLOPs (flash attention) vs. its FLOPs. */
    struct hw_curve attn_eff;
    double mem_eff; /* achieved fraction of hbm_bw_Bps for memory-bound kernels */
};

struct hw_node {
    int gpus;            /* GPUs per node (the NVLink domain; 72 for GB200 NVL72) */
    double nvlink_bw_Bps; /* per GPU, per direction */
    double nvlink_lat_s;
    double nvlink_eff;   /* achieved fraction of nvlink_bw_Bps by large collectives */
};

enum net_topology { NET_FAT_TREE, NET_RAIL_OPTIMIZED };

struct hw_network {
    double nic_bw_Bps; /* per GPU, per direction */
    double lat_s;
    double eff;        /* achieved fraction of nic_bw_Bps by large collectives */
    enum net_topology topology;
    double oversubscription; /* >= 1; traffic leaving a rail group / leaf shares uplinks */
};

struct hardware {
    char name[64];
    struct hw_gpu gpu;
    struct hw_node node;
    struct hw_network net;
    double price_gpu_hour; /* per GPU-hour in the file's currency; 0 = not priced */
    char currency[8];
};

enum sim_status hw_load(struct hardware *hw, const char *path, struct sim_error *err);

/* Curve lookup (clamped); n == 1 gives the constant. */
double hw_curve_eval(const struct hw_curve *c, double x);

/* Parse a dtype name: fp32 tf32 bf16 fp16 fp8; -1 when unknown. */
int hw_dtype_find(const char *name);
const char *hw_dtype_name(enum dtype dt);

#endif
