/* hardware: a GPU cluster, loaded from hardware/<name>.xml (schema hardware/hardware.xsd).
 *
 * Three levels: the GPU (peak FLOP/s per dtype, HBM, achievable-efficiency curves), the node
 * (GPUs joined by NVLink/NVSwitch) and the scale-out network (per-GPU NIC bandwidth, latency,
 * topology).  Values are SI: FLOP/s, bytes, bytes/s, seconds.  Bandwidths are per GPU, per
 * direction (what one GPU can send while it also receives at the same rate).
 *
 * Invariant after hw_load() succeeds: every bandwidth, capacity and the bf16 peak are > 0,
 * every efficiency is in (0, 1], curves have 1..HW_CURVE_MAX points with x strictly increasing
 * and an interpolator built (see struct hw_curve), node.gpus >= 1, oversubscription >= 1.
 *
 * Lifecycle: hw_load() fills a caller-owned struct; hw_release() frees the curves'
 * interpolators.  A loaded struct owns heap memory: do not copy it by value and release both
 * copies (pass pointers; it is read-only after loading and safe to share between threads). */
#ifndef STEPSIM_HARDWARE_H
#define STEPSIM_HARDWARE_H

#include <gsl/gsl_interp.h>

#include "error.h"

/* Element types of GEMMs.  nvfp4 is NVIDIA's 4-bit E2M1 format with an E4M3 scale per block of 16
 * values and an fp32 scale per tensor (Blackwell tensor cores). */
enum dtype { DT_FP32, DT_TF32, DT_BF16, DT_FP16, DT_FP8, DT_NVFP4, DT_COUNT };

/* A curve y(x) sampled at n points, interpolated in log10(x) with GSL and clamped at both ends:
 * Steffen's method for n >= 3 (monotone between knots, never overshoots its neighbours),
 * straight line in log10(x) for n == 2, the constant y[0] for n == 1. */
#define HW_CURVE_MAX 32
/* The flash-attention backward's rate against its forward's when a file does not say:
 * FlashAttention-2 reaches up to 73% of A100's peak forward and 63% backward (Dao 2023),
 * FlashAttention-3 about 650 and 560 TFLOPS on H100 at head dim 128, cuDNN about 600 and 515
 * (Shah et al. 2024, figs. 5-6): 0.86 each. */
#define HW_ATTN_BWD_RATIO 0.86
struct hw_curve {
    int n;
    double x[HW_CURVE_MAX]; /* strictly increasing, > 0 */
    double y[HW_CURVE_MAX];
    double lx[HW_CURVE_MAX]; /* log10(x[i]); the interpolator's abscissae */
    gsl_interp *interp;      /* owned; built by hw_curve_init for n >= 2, else NULL */
};

struct hw_gpu {
    char name[64];
    double peak_flops[DT_COUNT]; /* dense (no sparsity) peak, FLOP/s; 0 = unsupported */
    double hbm_bytes;            /* capacity */
    double hbm_bw_Bps;           /* peak HBM bandwidth */
    /* Achieved fraction of peak for one matmul as a function of its FLOPs (2*m*n*k): small
     * GEMMs cannot fill the GPU.  From measured GEMM benchmarks; see the XML's comments. */
    struct hw_curve matmul_eff;
    /* The same for fp8 GEMMs as a fraction of the fp8 peak; n == 0 when the file gives none
     * (then matmul_eff serves fp8 too). */
    struct hw_curve matmul_eff_fp8;
    /* The same for NVFP4 GEMMs as a fraction of the nvfp4 peak; n == 0 when the file gives
     * none (then the fp8 curve, or matmul_eff, serves). */
    struct hw_curve matmul_eff_nvfp4;
    /* Achieved fraction of the attention core's FLOPs (flash attention) vs. its FLOPs. */
    struct hw_curve attn_eff;
    double mem_eff; /* achieved fraction of hbm_bw_Bps for memory-bound kernels */
    /* Fraction of the benchmark efficiencies above that a full training step sustains: the
     * curves come from isolated GEMM / attention benchmarks, while training runs them under
     * sustained power (lower clocks), beside communication kernels and with cold caches.
     * 1 when not given. */
    double training_eff;
    /* Share of the isolated attention kernel's rate (attn_eff) a training step's attention
     * keeps, beyond training_eff; 1 when not given. */
    double attention_step_share;
    /* An x86 host's time to launch one kernel from Python, charged in full to each eagerly
     * launched kernel beyond its work (0 when not given). */
    double kernel_overhead_s;
    /* The host CPU's cost per eagerly launched kernel over that of the x86 hosts
     * kernel_overhead_s describes (1 when not given): a slower host leaves longer gaps. */
    double host_launch_ratio;
    /* When communication kernels run beside compute they share SMs and memory bandwidth:
     * overlapping a and b seconds takes max(a, b) + overlap_interference x min(a, b).  0 =
     * perfect overlap (the default), 1 = none. */
    double overlap_interference;
    /* HBM the training process cannot fill with tensors: the CUDA context and the caching
     * allocator's fragmentation, and NCCL's buffers unless nccl_buffers_bytes prices those
     * per communicator (0 when not given). */
    double hbm_reserve_bytes;
    /* HBM NCCL's buffers take per communicator a rank uses (0 when not given): the layout's
     * count of them (cm_communicators) times this is reserved too. */
    double nccl_buffers_bytes;
    /* Board power (hw_power_rate): the limit the peaks above are rated at, a second datasheet
     * rating of the same die (its limit and its tensor rate over the first's), and the limit
     * the GPU is held to, to which peak_flops has been scaled; all 0 when the file gives no
     * ratings. */
    struct hw_power {
        double rated_w, alt_w, alt_ratio, cap_w;
    } power;
    /* 1: fp8 GEMMs take their operands in any layout (Blackwell), so a per-tensor-scaled fp8
     * tensor serves the weight gradient without a transposed copy; 0 (the default): TN only
     * (Hopper, Ada), and Transformer Engine keeps a transposed fp8 copy as well
     * (hardware fp8-gemm-layouts="tn|any"). */
    int fp8_any_layout;
    /* A block-scaled fp8 GEMM's rate (fp8-recipe blockwise: 1x128 and 128x128 scales) as a
     * share of the per-tensor fp8 curve's at the same size: 1 unless the file says (gpu
     * fp8-block-gemm-gain; Hopper's cuBLAS promotes each 128-deep slice's partial sums by its
     * scales, Blackwell runs the recipe as MXFP8). */
    double fp8_block_gemm_gain;
    /* Streaming multiprocessors (NVIDIA; 0 when the file does not say): a communication
     * kernel that holds a fixed number of them (DeepEP) takes that share of the GPU from the
     * compute it overlaps. */
    int sms;
    /* FlashAttention-2's attention rate as a share of the attention curve's kernel (0 when the
     * file does not say, and attention-kernel="fa2" is refused). */
    double fa2_attention_share;
    /* The flash-attention backward's rate as a fraction of the forward's (the attention curve
     * gives the forward's): 0.86 unless the file says (gpu attention-backward-ratio). */
    double attn_bwd_ratio;
    /* The same for multi-head latent attention's shapes (query and key heads of 192, value
     * heads of 128: DeepSeek-V3's), whose backward runs slower still; 0 when the file does not
     * say (gpu mla-attention-backward-ratio), and MLA takes attn_bwd_ratio. */
    double mla_attn_bwd_ratio;
    /* fp8 attention's rate over bf16's, forward and backward, for per-tensor scaled fp8
     * (delayed / current / blockwise recipes) and for MXFP8; 0 when the file does not say
     * (gpu fp8-attention-gain and friends). */
    struct hw_fp8_attention {
        double fwd, bwd;
    } fp8_attn, mxfp8_attn;
};

/* The collectives a node's measured figures may describe (struct hw_coll_fit). */
enum hw_coll_op {
    HW_ALL_REDUCE,
    HW_REDUCE_SCATTER,
    HW_ALL_GATHER,
    HW_ALL_TO_ALL,
    HW_EP_DISPATCH, /* DeepEP-family expert dispatch / combine kernels inside the node */
    HW_EP_COMBINE,
    HW_COLL_OPS
};

/* One collective over `gpus` GPUs of a node as measured (NCCL over the node's NVLink): it takes
 * overhead + bus bytes / bus bandwidth, the bus bytes counted as nccl-tests counts them -- the
 * buffer x 2(n-1)/n for an all-reduce, x (n-1)/n for the others, the buffer being an
 * all-reduce's or an all-to-all's per-GPU buffer, an all-gather's gathered output, a
 * reduce-scatter's input.  ep-dispatch / ep-combine are DeepEP's (or its HybridEP's) kernels,
 * their bandwidth as DeepEP's tests count it: the bytes of the tokens one GPU receives, one
 * copy per GPU holding any of a token's experts (its own included), over the time.  What a
 * hardware file's <collective> says. */
struct hw_coll_fit {
    enum hw_coll_op op;
    int gpus;
    double bus_bw_Bps;
    double overhead_s;
};
#define HW_COLL_FITS_MAX 64

enum hw_flex_dispatcher { HW_FLEX_DEEPEP = 1u << 0, HW_FLEX_HYBRIDEP = 1u << 1 };

struct hw_node {
    int gpus;             /* GPUs per node (the NVLink domain; 72 for GB200 NVL72) */
    double nvlink_bw_Bps; /* per GPU, per direction */
    double nvlink_lat_s;
    double coll_base_s; /* a collective's fixed cost beyond its steps, Simple protocol (NCCL's
                           base latency; 0 when not given) */
    double nvlink_eff; /* achieved fraction of nvlink_bw_Bps by large collectives */
    double peer_bw_Bps; /* point-to-point mesh (AMD xGMI): per-direction bandwidth of the link
                           to each other GPU, so k GPUs of the node reach (k-1) x this, at most
                           nvlink_bw_Bps; 0 = switched (NVSwitch): any group gets nvlink_bw */
    /* The host: what one GPU reaches of host memory over its link (PCIe, NVLink-C2C), per
     * direction, and its share of the CPUs' memory bandwidth (a CPU optimizer's rate); 0 when
     * the file does not say (offload is then refused). */
    double host_bw_Bps;
    double host_mem_bw_Bps;
    /* One GPU's share of the host's memory, bytes (what offloaded optimizer state and
     * activations may fill); 0 when the file does not say (then not checked). */
    double host_mem_B;
    /* The backends of Megatron-Core's flex MoE dispatcher that run here (enum
     * hw_flex_dispatcher bits): both unless the file's flex-dispatchers says otherwise. */
    unsigned flex_dispatchers;
    /* Measured collectives inside the node, each (op, gpus) at most once; a collective they
     * describe takes their time rather than the ring or tree over nvlink_bw_Bps x nvlink_eff
     * (hw_node_coll_fit). */
    int n_coll_fits;
    struct hw_coll_fit coll_fits[HW_COLL_FITS_MAX];
};

enum net_topology { NET_FAT_TREE, NET_RAIL_OPTIMIZED };

struct hw_network {
    double nic_bw_Bps; /* per GPU, per direction */
    double lat_s;
    double eff; /* achieved fraction of nic_bw_Bps by large collectives */
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

/* Load and check `path`.  `hw` must not hold a loaded hardware (hw_release it first); on
 * failure it holds nothing that needs releasing.  Errors are SIM_EINPUT with file:line for bad
 * input, SIM_EFAIL for I/O or memory failures. */
enum sim_status hw_load(struct hardware *hw, const char *path, struct sim_error *err);
/* Free what hw_load allocated; leaves hw zeroed.  Accepts NULL and released structs. */
void hw_release(struct hardware *hw);

/* Build a curve from n points (1 <= n <= HW_CURVE_MAX, x > 0 strictly increasing, y finite).
 * Bad points give SIM_EINPUT (no file); out of memory gives SIM_EFAIL.  On failure c holds
 * nothing that needs releasing. */
enum sim_status hw_curve_init(struct hw_curve *c, int n, const double *x, const double *y,
                              struct sim_error *err);
void hw_curve_release(struct hw_curve *c);

/* Curve lookup, clamped to [x[0], x[n-1]] (x <= 0 or NaN gives y[0]); n == 1 gives the
 * constant.  Cheap: no allocation, a binary search and a cubic.  Reads only, so concurrent
 * calls on one curve are safe.  A curve filled by hand (interp == NULL, n >= 2) still
 * evaluates correctly, allocating a temporary interpolator per call. */
double hw_curve_eval(const struct hw_curve *c, double x);

/* The node's measured figures for `op` over exactly `gpus` of its GPUs, or NULL when it has
 * none (then the ring and tree closed forms serve). */
/* The measurement of op over the most GPUs up to `gpus`, or NULL. */
const struct hw_coll_fit *hw_node_coll_fit_upto(const struct hw_node *node, enum hw_coll_op op,
                                                int gpus);
const struct hw_coll_fit *hw_node_coll_fit(const struct hw_node *node, enum hw_coll_op op,
                                           int gpus);

/* The scalar knobs a scenario may override without editing the file (`--set hw.NAME=VALUE`):
 * the attribute names of the hardware file's <gpu>, <node> and <network> elements. */
int hw_knob_known(const char *name);
/* The knob names, comma-separated, into buf (cut at len), for messages and help. */
void hw_knob_list(char *buf, size_t len);
#define HW_KNOB_LIST_MAX 512 /* a buffer that holds hw_knob_list whole */
/* A knob's documentation: the element of the hardware file whose attribute it overrides
 * ("gpu", "node", "network") and what its value is ("size > 0, e.g. 80GiB"); -1 for a name
 * that is none. */
int hw_knob_describe(const char *name, const char **element, const char **value);
/* Set knob `name` from text, parsed and range-checked as the file's attribute would be; on
 * failure `why` says what is wrong with the value.  Returns 0 on success. */
int hw_knob_set(struct hardware *hw, const char *name, const char *value, char *why, size_t len);
/* Knob `name`'s value read in its unit, range unchecked (hw_knob_set checks it against the
 * file): 1 with *v set, so that two spellings of one value read alike (400Gb/s, 50GB/s); 0 when
 * `name` is no knob or `value` no quantity of its kind. */
int hw_knob_number(const char *name, const char *value, double *v);

/* The GPU's peak rate at a board-power limit of `watts`, relative to its rated peaks: linear
 * in power between the file's two ratings of the die; 1 when the file gives none.  Only
 * meaningful inside the rated range (hw_power_in_range). */
double hw_power_rate(const struct hw_power *p, double watts);
int hw_power_in_range(const struct hw_power *p, double watts);

/* HBM left for tensors: capacity minus the reserve. */
double hw_usable_hbm(const struct hw_gpu *gpu);

/* The matmul efficiency curve for GEMMs in `dt` (fp8 has its own when the file gives one). */
const struct hw_curve *hw_matmul_curve(const struct hw_gpu *gpu, enum dtype dt);

/* Parse a dtype name: fp32 tf32 bf16 fp16 fp8 nvfp4; -1 when unknown. */
int hw_dtype_find(const char *name);
const char *hw_dtype_name(enum dtype dt);

#endif
