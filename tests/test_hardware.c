/* test_hardware: every shipped hardware file loads with the datasheet numbers in SI; curves
 * interpolate exactly at knots, monotonically between, clamped outside; bad files are refused
 * with file:line. */
#include <criterion/criterion.h>
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hardware.h"

#define HW_DIR TOP_SRCDIR "/hardware/"

static void setup(void)
{
    gsl_set_error_handler_off(); /* as main does */
}

static void assert_close(double got, double want, const char *what)
{
    cr_assert(fabs(got - want) <= 1e-9 * fabs(want), "%s: got %.17g, want %.17g", what, got, want);
}

/* Load a shipped file; fail the test with the loader's message if it does not load. */
static void load_shipped(const char *name, struct hardware *hw)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", HW_DIR, name);
    struct sim_error err;
    err_clear(&err);
    enum sim_status st = hw_load(hw, path, &err);
    char msg[1200];
    err_format(&err, msg, sizeof msg);
    cr_assert_eq(st, SIM_OK, "%s: %s", name, msg);
}

static const char *const shipped[] = {
    "dgx-a100-40gb.xml", "dgx-a100-80gb.xml", "dgx-h100.xml",    "dgx-h200.xml",
    "dgx-b200.xml",      "gb200-nvl72.xml",   "h100-400gbe.xml", "hgx-h200-4gpu.xml",
    "deepseek-h800.xml", "gb300-nvl72.xml",   "h100-nvl.xml",    "amd-mi300x.xml",
    "amd-mi325x.xml",    "amd-mi355x.xml",    "dgx-b300.xml",    "amd-mi350x.xml",
};

/* The invariant hardware.h promises after a successful load. */
static void assert_sane(const struct hardware *hw, const char *file)
{
    cr_assert(hw->name[0] && hw->gpu.name[0], "%s: names", file);
    cr_assert(hw->gpu.peak_flops[DT_BF16] > 0, "%s: bf16 peak", file);
    for (int d = 0; d < DT_COUNT; d++)
        cr_assert(hw->gpu.peak_flops[d] >= 0 && hw->gpu.peak_flops[d] < 1e17, "%s: peak %d", file,
                  d);
    cr_assert(hw->gpu.hbm_bytes > 1e9 && hw->gpu.hbm_bw_Bps > 1e11, "%s: hbm", file);
    cr_assert(hw->gpu.mem_eff > 0 && hw->gpu.mem_eff <= 1, "%s: mem_eff", file);
    const struct hw_curve *curves[] = {&hw->gpu.matmul_eff, &hw->gpu.attn_eff};
    for (int k = 0; k < 2; k++) {
        const struct hw_curve *c = curves[k];
        cr_assert(c->n >= 1 && c->n <= HW_CURVE_MAX, "%s: curve size", file);
        cr_assert(c->n < 2 || c->interp != NULL, "%s: interpolator built", file);
        for (int i = 0; i < c->n; i++) {
            cr_assert(c->y[i] > 0 && c->y[i] <= 1, "%s: efficiency", file);
            cr_assert(i == 0 || c->x[i] > c->x[i - 1], "%s: x increasing", file);
        }
        /* Efficiency never leaves (0, 1] anywhere on the curve. */
        for (double x = 1e6; x < 1e16; x *= 1.37) {
            double y = hw_curve_eval(c, x);
            cr_assert(y > 0 && y <= 1, "%s: eff(%g) = %g", file, x, y);
        }
    }
    cr_assert(hw->node.gpus >= 1 && hw->node.nvlink_bw_Bps > 0, "%s: node", file);
    cr_assert(hw->node.nvlink_eff > 0 && hw->node.nvlink_eff <= 1, "%s: nvlink eff", file);
    cr_assert(hw->net.nic_bw_Bps > 0 && hw->net.eff > 0 && hw->net.eff <= 1, "%s: net", file);
    cr_assert(hw->net.oversubscription >= 1, "%s: oversubscription", file);
    /* NVLink is always faster than the NIC, and HBM faster than NVLink. */
    cr_assert(hw->node.nvlink_bw_Bps > hw->net.nic_bw_Bps, "%s: nvlink > nic", file);
    cr_assert(hw->gpu.hbm_bw_Bps > hw->node.nvlink_bw_Bps, "%s: hbm > nvlink", file);
}

Test(hardware, every_shipped_file_loads, .init = setup)
{
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
        struct hardware hw;
        load_shipped(shipped[i], &hw);
        assert_sane(&hw, shipped[i]);
        hw_release(&hw);
        cr_assert_null(hw.gpu.matmul_eff.interp, "release clears");
        hw_release(&hw); /* idempotent */
    }
    hw_release(NULL);
}

Test(hardware, dgx_h100_numbers_in_si, .init = setup)
{
    struct hardware hw;
    load_shipped("dgx-h100.xml", &hw);
    cr_assert_str_eq(hw.name, "dgx-h100");
    assert_close(hw.gpu.peak_flops[DT_BF16], 989e12, "bf16 peak");
    assert_close(hw.gpu.peak_flops[DT_FP16], 989e12, "fp16 peak");
    assert_close(hw.gpu.peak_flops[DT_FP8], 1979e12, "fp8 peak");
    assert_close(hw.gpu.peak_flops[DT_TF32], 494.7e12, "tf32 peak");
    assert_close(hw.gpu.peak_flops[DT_FP32], 67e12, "fp32 peak");
    assert_close(hw.gpu.hbm_bytes, 80.0 * 1073741824.0, "hbm");
    assert_close(hw.gpu.hbm_bw_Bps, 3.35e12, "hbm bw");
    cr_assert_eq(hw.node.gpus, 8);
    assert_close(hw.node.nvlink_bw_Bps, 450e9, "nvlink per direction");
    assert_close(hw.node.nvlink_lat_s, 3.4e-6, "nvlink latency");
    assert_close(hw.net.nic_bw_Bps, 50e9, "NIC 400 Gb/s");
    cr_assert_eq(hw.net.topology, NET_RAIL_OPTIMIZED);
    assert_close(hw.net.oversubscription, 1.0, "oversubscription");
    cr_assert_eq(hw.price_gpu_hour, 0.0, "not priced");
    cr_assert_eq(hw.gpu.sms, 132, "streaming multiprocessors");
    assert_close(hw.gpu.fa2_attention_share, 0.62, "FlashAttention-2 against cuDNN");
    assert_close(hw.gpu.fp8_block_gemm_gain, 0.82, "block-scaled fp8 GEMMs against per-tensor");
    /* the node's measured collectives: four operations over 2, 4 and 8 GPUs, and DeepEP's
     * dispatch and combine over 8 */
    cr_assert_eq(hw.node.n_coll_fits, 14);
    const struct hw_coll_fit *dispatch = hw_node_coll_fit(&hw.node, HW_EP_DISPATCH, 8);
    cr_assert_not_null(dispatch);
    assert_close(dispatch->bus_bw_Bps, 329e9, "DeepEP dispatch over 8: bus bandwidth");
    /* ... which give back the times they came from: 4096 tokens of 7168 bf16 values, top-8 of
     * 32 experts on 8 GPUs, visit 8 (1 - C(28,8) / C(32,8)) = 5.636 GPUs a token; a GPU
     * receives that many copies, dispatched in 1.0045 ms and combined in 1.1552 ms */
    double none = 1.0;
    for (int i = 0; i < 8; i++)
        none *= (28.0 - i) / (32.0 - i);
    double received = 4096 * 8 * (1 - none) * 7168 * 2.0;
    const struct hw_coll_fit *combine = hw_node_coll_fit(&hw.node, HW_EP_COMBINE, 8);
    cr_assert_not_null(combine);
    cr_assert(fabs(received / dispatch->bus_bw_Bps - 1.0045e-3) < 0.005 * 1.0045e-3);
    cr_assert(fabs(received / combine->bus_bw_Bps - 1.1552e-3) < 0.005 * 1.1552e-3);
    cr_assert_null(hw_node_coll_fit(&hw.node, HW_EP_COMBINE, 4), "no group of 4 measured");
    const struct hw_coll_fit *ar8 = hw_node_coll_fit(&hw.node, HW_ALL_REDUCE, 8);
    cr_assert_not_null(ar8);
    assert_close(ar8->bus_bw_Bps, 398e9, "all-reduce over 8: bus bandwidth");
    assert_close(ar8->overhead_s, 75e-6, "all-reduce over 8: overhead");
    cr_assert_not_null(hw_node_coll_fit(&hw.node, HW_ALL_TO_ALL, 2));
    cr_assert_null(hw_node_coll_fit(&hw.node, HW_ALL_TO_ALL, 3), "no group of 3 measured");
    hw_release(&hw);
}

Test(hardware, other_key_numbers, .init = setup)
{
    struct hardware hw;
    load_shipped("dgx-a100-40gb.xml", &hw);
    assert_close(hw.gpu.peak_flops[DT_BF16], 312e12, "A100 bf16");
    assert_close(hw.gpu.peak_flops[DT_TF32], 156e12, "A100 tf32");
    assert_close(hw.gpu.peak_flops[DT_FP32], 19.5e12, "A100 fp32");
    cr_assert_eq(hw.gpu.peak_flops[DT_FP8], 0.0, "A100 has no fp8");
    assert_close(hw.gpu.hbm_bw_Bps, 1555e9, "A100 40GB HBM2");
    assert_close(hw.node.nvlink_bw_Bps, 300e9, "NVLink3 per direction");
    assert_close(hw.net.nic_bw_Bps, 25e9, "HDR 200 Gb/s");
    hw_release(&hw);

    load_shipped("dgx-a100-80gb.xml", &hw);
    assert_close(hw.gpu.hbm_bw_Bps, 2039e9, "A100 80GB HBM2e");
    assert_close(hw.gpu.hbm_bytes, 80.0 * 1073741824.0, "A100 80GB");
    hw_release(&hw);

    load_shipped("dgx-h200.xml", &hw);
    assert_close(hw.gpu.peak_flops[DT_BF16], 989e12, "H200 bf16");
    assert_close(hw.gpu.hbm_bw_Bps, 4.8e12, "H200 HBM3e");
    assert_close(hw.gpu.hbm_bytes, 141.0 * 1073741824.0, "H200 141GB");
    hw_release(&hw);

    load_shipped("dgx-b200.xml", &hw);
    assert_close(hw.gpu.peak_flops[DT_BF16], 2.25e15, "B200 bf16 dense");
    assert_close(hw.gpu.peak_flops[DT_FP8], 4.5e15, "B200 fp8 dense");
    assert_close(hw.gpu.hbm_bw_Bps, 8e12, "B200 HBM3e");
    assert_close(hw.node.nvlink_bw_Bps, 900e9, "NVLink5 per direction");
    hw_release(&hw);

    load_shipped("gb200-nvl72.xml", &hw);
    cr_assert_eq(hw.node.gpus, 72);
    assert_close(hw.gpu.peak_flops[DT_BF16], 2.5e15, "GB200 bf16 dense");
    assert_close(hw.node.nvlink_bw_Bps, 900e9, "NVL72 per direction");
    hw_release(&hw);

    load_shipped("h100-400gbe.xml", &hw);
    cr_assert_eq(hw.net.topology, NET_FAT_TREE);
    assert_close(hw.net.oversubscription, 2.0, "2:1");
    assert_close(hw.net.nic_bw_Bps, 50e9, "400GbE");
    cr_assert(hw.net.eff < 0.9 && hw.net.lat_s > 14e-6, "Ethernet worse than IB");
    hw_release(&hw);
}

/* The hardware library (issue 11): the datasheet numbers each new file cites, per GPU and per
 * direction, dense. */
Test(hardware, library_key_numbers, .init = setup)
{
    struct hardware hw;
    load_shipped("hgx-h200-4gpu.xml", &hw);
    cr_assert_eq(hw.node.gpus, 4);
    assert_close(hw.node.nvlink_bw_Bps, 450e9, "HGX 4-GPU: 900 GB/s bidirectional");
    assert_close(hw.node.peer_bw_Bps, 150e9, "HGX 4-GPU: 6 of 18 links to each of 3 peers");
    assert_close(hw.gpu.hbm_bytes, 141.0 * 1073741824.0, "H200 141GB");
    hw_release(&hw);

    load_shipped("deepseek-h800.xml", &hw);
    cr_assert_eq(hw.node.gpus, 8);
    assert_close(hw.gpu.peak_flops[DT_BF16], 989e12, "H800 bf16 = H100 SXM");
    assert_close(hw.node.nvlink_bw_Bps, 200e9, "H800 NVLink 400 GB/s bidirectional");
    /* DeepSeek-V3 report sec. 3.2.2: about 160 GB/s achievable */
    assert_close(hw.node.nvlink_bw_Bps * hw.node.nvlink_eff, 160e9, "H800 NVLink achieved");
    assert_close(hw.net.nic_bw_Bps, 50e9, "IB 50 GB/s");
    hw_release(&hw);

    load_shipped("gb300-nvl72.xml", &hw);
    cr_assert_eq(hw.node.gpus, 72);
    assert_close(hw.gpu.peak_flops[DT_BF16], 2.5e15, "GB300 bf16 dense");
    assert_close(hw.gpu.peak_flops[DT_FP8], 5e15, "GB300 fp8 dense");
    assert_close(hw.gpu.hbm_bytes, 279.0 * 1073741824.0, "GB300 279GB exposed");
    assert_close(hw.node.nvlink_bw_Bps, 900e9, "NVLink5 per direction");
    assert_close(hw.net.nic_bw_Bps, 100e9, "ConnectX-8 800 Gb/s");
    hw_release(&hw);

    load_shipped("h100-nvl.xml", &hw);
    cr_assert_eq(hw.node.gpus, 2, "the NVLink-bridged pair");
    assert_close(hw.gpu.peak_flops[DT_BF16], 835.5e12, "H100 NVL bf16 dense");
    assert_close(hw.gpu.peak_flops[DT_FP8], 1670.5e12, "H100 NVL fp8 dense");
    assert_close(hw.gpu.hbm_bytes, 94.0 * 1073741824.0, "H100 NVL 94GB");
    assert_close(hw.gpu.hbm_bw_Bps, 3.9e12, "H100 NVL 3.9 TB/s");
    assert_close(hw.node.nvlink_bw_Bps, 300e9, "NVLink bridge 600 GB/s bidirectional");
    assert_close(hw.net.nic_bw_Bps, 25e9, "2-8-5 design: 200 Gb/s per GPU");
    hw_release(&hw);

    load_shipped("dgx-b300.xml", &hw);
    cr_assert_eq(hw.node.gpus, 8);
    assert_close(hw.gpu.peak_flops[DT_BF16], 2.25e15, "B300 bf16 dense, as B200");
    assert_close(hw.gpu.peak_flops[DT_FP32], 75e12, "HGX B300: FP32 600 TFLOPS / 8");
    assert_close(hw.gpu.hbm_bytes, 288.0 * 1073741824.0, "B300 288GB");
    assert_close(hw.net.nic_bw_Bps, 100e9, "ConnectX-8 800 Gb/s");
    hw_release(&hw);

    /* AMD: xGMI meshes of 8 (64 GB/s per link per direction on MI300X / MI325X, 76.5 on
     * MI355X and MI350X, 7 links), and the shared constants every GPU carries.  The MI350X is
     * the MI355X's die held to 1,000 W: its peaks at the clock ratio, 2200 / 2400 MHz. */
    struct hardware h100;
    load_shipped("dgx-h100.xml", &h100);
    const struct {
        const char *file;
        double bf16, fp8, hbm_gib, hbm_bw, peer;
    } amd[] = {
        {"amd-mi300x.xml", 1307.4e12, 2614.9e12, 192, 5.3e12, 64e9},
        {"amd-mi325x.xml", 1307.4e12, 2614.9e12, 256, 6.0e12, 64e9},
        {"amd-mi355x.xml", 2.5e15, 5e15, 288, 8e12, 76.5e9},
        {"amd-mi350x.xml", 2.5e15 * 0.917, 5e15 * 0.917, 288, 8e12, 76.5e9},
    };
    for (size_t i = 0; i < sizeof amd / sizeof amd[0]; i++) {
        load_shipped(amd[i].file, &hw);
        cr_assert_eq(hw.node.gpus, 8, "%s", amd[i].file);
        assert_close(hw.gpu.peak_flops[DT_BF16], amd[i].bf16, amd[i].file);
        assert_close(hw.gpu.peak_flops[DT_FP8], amd[i].fp8, amd[i].file);
        assert_close(hw.gpu.hbm_bytes, amd[i].hbm_gib * 1073741824.0, amd[i].file);
        assert_close(hw.gpu.hbm_bw_Bps, amd[i].hbm_bw, amd[i].file);
        assert_close(hw.node.peer_bw_Bps, amd[i].peer, amd[i].file);
        assert_close(hw.node.nvlink_bw_Bps, 7 * amd[i].peer, amd[i].file);
        cr_assert_eq(hw.gpu.training_eff, h100.gpu.training_eff, "%s", amd[i].file);
        cr_assert_eq(hw.gpu.kernel_overhead_s, h100.gpu.kernel_overhead_s, "%s", amd[i].file);
        cr_assert_eq(hw.gpu.overlap_interference, h100.gpu.overlap_interference, "%s",
                     amd[i].file);
        hw_release(&hw);
    }
    hw_release(&h100);
}

static void assert_same_curve(const struct hw_curve *a, const struct hw_curve *b, const char *what)
{
    cr_assert_eq(a->n, b->n, "%s: points", what);
    for (int i = 0; i < a->n; i++) {
        cr_assert_eq(a->x[i], b->x[i], "%s: x[%d]", what, i);
        cr_assert_eq(a->y[i], b->y[i], "%s: y[%d]", what, i);
    }
}

/* An attention curve that is its source's with the measured points (from 2K tokens a call,
 * 1.374e11 FLOPs) `gain` times higher and the launch-bound points below them unchanged. */
static void assert_attention_gain(const struct hw_curve *a, const struct hw_curve *b, double gain,
                                  const char *what)
{
    cr_assert_eq(a->n, b->n, "%s: points", what);
    for (int i = 0; i < a->n; i++) {
        cr_assert_eq(a->x[i], b->x[i], "%s: x[%d]", what, i);
        double want = a->x[i] >= 1.374e11 ? gain * b->y[i] : b->y[i];
        cr_assert(fabs(a->y[i] - want) <= 0.0012, "%s: y[%d] %g, want %g", what, i, a->y[i], want);
    }
}

/* A library file whose GPU is silicon already shipped carries that file's curves unchanged
 * (each file says so and why), and every file keeps the calibrated constants shared by all
 * GPUs; a change to the source's curves must be carried over, or this fails.  Blackwell Ultra
 * (GB300, B300) is Blackwell's silicon with twice the exponential rate: its attention runs
 * 1.20x Blackwell's, as NVIDIA's cuDNN benchmark measured GB300 against GB200 (the files
 * say where), its GEMM curves the same. */
Test(hardware, library_curves_carried_from_their_silicon, .init = setup)
{
    static const struct {
        const char *file, *source;
        double attention_gain;
    } pairs[] = {
        {"hgx-h200-4gpu.xml", "dgx-h200.xml", 1.0},  {"deepseek-h800.xml", "dgx-h100.xml", 1.0},
        {"h100-nvl.xml", "dgx-h100.xml", 1.0},       {"gb300-nvl72.xml", "gb200-nvl72.xml", 1.2},
        {"dgx-b300.xml", "dgx-b200.xml", 1.2},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        struct hardware a, b;
        const char *what = pairs[i].file;
        load_shipped(pairs[i].file, &a);
        load_shipped(pairs[i].source, &b);
        assert_same_curve(&a.gpu.matmul_eff, &b.gpu.matmul_eff, what);
        assert_same_curve(&a.gpu.matmul_eff_fp8, &b.gpu.matmul_eff_fp8, what);
        assert_attention_gain(&a.gpu.attn_eff, &b.gpu.attn_eff, pairs[i].attention_gain, what);
        cr_assert_eq(a.gpu.mem_eff, b.gpu.mem_eff, "%s", what);
        cr_assert_eq(a.gpu.training_eff, b.gpu.training_eff, "%s", what);
        cr_assert_eq(a.gpu.kernel_overhead_s, b.gpu.kernel_overhead_s, "%s", what);
        cr_assert_eq(a.gpu.overlap_interference, b.gpu.overlap_interference, "%s", what);
        cr_assert_eq(a.gpu.hbm_reserve_bytes, b.gpu.hbm_reserve_bytes, "%s", what);
        cr_assert_eq(a.gpu.nccl_buffers_bytes, b.gpu.nccl_buffers_bytes, "%s", what);
        hw_release(&a);
        hw_release(&b);
    }
}

/* A GH100 held to 500 W (torchtitan's Grand Teton hosts, the file's power-cap): each tensor
 * peak is the datasheet's two ratings of the same 132-SM die, H100 SXM at 700 W and H100 NVL at
 * 400 W, interpolated linearly in board power, 1/3 of the way from NVL's to SXM's (886.4
 * TFLOPS dense bf16 from the file's 989); the curves stay H100 SXM's, as fractions of the lower
 * peak. */
Test(hardware, power_capped_h100_peaks_between_its_two_ratings, .init = setup)
{
    struct hardware capped, sxm, nvl;
    load_shipped("meta-h100-96gb-500w.xml", &capped);
    load_shipped("dgx-h100.xml", &sxm);
    load_shipped("h100-nvl.xml", &nvl);
    const enum dtype dts[] = {DT_BF16, DT_FP16, DT_FP8};
    for (size_t i = 0; i < sizeof dts / sizeof dts[0]; i++) {
        double lo = nvl.gpu.peak_flops[dts[i]], hi = sxm.gpu.peak_flops[dts[i]];
        double want = lo + (hi - lo) * (500.0 - 400.0) / (700.0 - 400.0);
        double got = capped.gpu.peak_flops[dts[i]];
        cr_assert(fabs(got - want) <= 1e-3 * want, "dtype %d: %.4g against %.4g", (int)dts[i],
                  got, want);
    }
    cr_assert(fabs(capped.gpu.peak_flops[DT_BF16] / 989.4e12 - 0.896) < 0.001, "0.896 of SXM's");
    assert_same_curve(&capped.gpu.matmul_eff, &sxm.gpu.matmul_eff, "500 W");
    assert_same_curve(&capped.gpu.matmul_eff_fp8, &sxm.gpu.matmul_eff_fp8, "500 W");
    assert_attention_gain(&capped.gpu.attn_eff, &sxm.gpu.attn_eff, 1.0, "500 W");
    cr_assert_eq(capped.gpu.hbm_bw_Bps, 2.4e12, "HBM2e keeps its rate");
    hw_release(&capped);
    hw_release(&sxm);
    hw_release(&nvl);
}

/* Every shipped file reserves what the single 3 GiB reserve did for a layout of four
 * parallel groups: its fixed part (CUDA context, fragmentation) and NCCL's buffers for four
 * communicators.  The knob refuses buffers as large as the HBM. */
Test(hardware, shipped_reserves_are_three_gib_at_four_communicators, .init = setup)
{
    static const char *const files[] = {"dgx-h100.xml", "dgx-a100-40gb.xml", "gb200-nvl72.xml",
                                        "meta-h100-roce.xml", "amd-mi300x.xml"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        struct hardware hw;
        load_shipped(files[i], &hw);
        cr_expect_float_eq(hw.gpu.hbm_reserve_bytes + 4 * hw.gpu.nccl_buffers_bytes,
                           3.0 * 1073741824.0, 1e3, "%s", files[i]);
        cr_expect_float_eq(hw.gpu.nccl_buffers_bytes, 0.6 * 1073741824.0, 1e3, "%s", files[i]);
        char why[256];
        cr_expect_eq(hw_knob_set(&hw, "nccl-buffers", "1GiB", why, sizeof why), 0, "%s", why);
        cr_expect_float_eq(hw.gpu.nccl_buffers_bytes, 1073741824.0, 1.0);
        cr_expect_neq(hw_knob_set(&hw, "nccl-buffers", "400GiB", why, sizeof why), 0);
        cr_expect(strstr(why, "not below the HBM capacity"), "%s", why);
        hw_release(&hw);
    }
}

/* hw.power-cap: every peak moves linearly in board power between the file's two ratings of
 * the die (H100 SXM at 700 W, H100 NVL at 400 W: 0.844 of it), HBM does not, and a cap outside
 * the ratings, or on a file without them, is refused. */
Test(hardware, power_cap_knob_interpolates_between_ratings, .init = setup)
{
    struct hardware hw;
    char why[256];
    load_shipped("dgx-h100.xml", &hw);
    double bf16 = hw.gpu.peak_flops[DT_BF16], fp8 = hw.gpu.peak_flops[DT_FP8];
    double hbm = hw.gpu.hbm_bw_Bps;
    cr_assert_eq(hw_knob_set(&hw, "power-cap", "400W", why, sizeof why), 0, "%s", why);
    assert_close(hw.gpu.peak_flops[DT_BF16], 0.844 * bf16, "at the NVL rating");
    assert_close(hw.gpu.peak_flops[DT_FP8], 0.844 * fp8, "fp8 alike");
    cr_assert_eq(hw.gpu.hbm_bw_Bps, hbm, "HBM keeps its rate");
    /* from 400 W to 550 W: half way between the ratings, (1 + 0.844) / 2 of SXM's */
    cr_assert_eq(hw_knob_set(&hw, "power-cap", "550W", why, sizeof why), 0, "%s", why);
    assert_close(hw.gpu.peak_flops[DT_BF16], 0.922 * bf16, "half way");
    cr_assert_eq(hw_knob_set(&hw, "power-cap", "0.7kW", why, sizeof why), 0, "%s", why);
    assert_close(hw.gpu.peak_flops[DT_BF16], bf16, "back at the SXM rating");
    cr_assert_neq(hw_knob_set(&hw, "power-cap", "300W", why, sizeof why), 0);
    cr_assert(strstr(why, "outside the rated range, 400 W to 700 W") != NULL, "%s", why);
    cr_assert_neq(hw_knob_set(&hw, "power-cap", "800W", why, sizeof why), 0);
    assert_close(hw.gpu.peak_flops[DT_BF16], bf16, "a refused cap changes nothing");
    hw_release(&hw);
    load_shipped("dgx-a100-80gb.xml", &hw);
    cr_assert_neq(hw_knob_set(&hw, "power-cap", "300W", why, sizeof why), 0);
    cr_assert(strstr(why, "no power ratings") != NULL, "%s", why);
    hw_release(&hw);
}

/* fp8 attention's measured gains over bf16 (NVIDIA's cuDNN benchmarks, the files say where):
 * Hopper per-tensor fp8 only, Blackwell and Blackwell Ultra MXFP8 too; none on A100. */
Test(hardware, fp8_attention_gains, .init = setup)
{
    static const struct {
        const char *file;
        double fwd, bwd, mx_fwd, mx_bwd;
    } want[] = {
        {"dgx-h100.xml", 1.50, 0.79, 0, 0},        {"meta-h100-roce.xml", 1.50, 0.79, 0, 0},
        {"dgx-b200.xml", 1.29, 1.09, 1.21, 0.97},  {"gb200-nvl72.xml", 1.29, 1.09, 1.21, 0.97},
        {"gb300-nvl72.xml", 1.56, 1.24, 1.38, 0.98}, {"dgx-b300.xml", 1.56, 1.24, 1.38, 0.98},
        {"dgx-a100-80gb.xml", 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct hardware hw;
        load_shipped(want[i].file, &hw);
        cr_assert_eq(hw.gpu.fp8_attn.fwd, want[i].fwd, "%s", want[i].file);
        cr_assert_eq(hw.gpu.fp8_attn.bwd, want[i].bwd, "%s", want[i].file);
        cr_assert_eq(hw.gpu.mxfp8_attn.fwd, want[i].mx_fwd, "%s", want[i].file);
        cr_assert_eq(hw.gpu.mxfp8_attn.bwd, want[i].mx_bwd, "%s", want[i].file);
        hw_release(&hw);
    }
}

/* The flash-attention backward's rate against the forward's: 0.86 where a file does not say
 * (A100 and Hopper: FlashAttention-2 / -3 and cuDNN's own ratios), as NVIDIA's cuDNN
 * benchmark measured it on Blackwell (0.80) and Blackwell Ultra (0.76); latent attention's
 * (DeepSeek-V3's head shapes) lower still, given where measured. */
Test(hardware, attention_backward_ratios, .init = setup)
{
    static const struct {
        const char *file;
        double ratio, mla;
    } want[] = {
        {"dgx-h100.xml", 0.86, 0.68},    {"dgx-a100-80gb.xml", 0.86, 0},
        {"dgx-b200.xml", 0.80, 0.75},    {"gb200-nvl72.xml", 0.80, 0.75},
        {"gb300-nvl72.xml", 0.76, 0.71}, {"dgx-b300.xml", 0.76, 0.71},
        {"amd-mi355x.xml", 0.83, 0},     {"amd-mi300x.xml", 0.89, 0},
        {"amd-mi325x.xml", 0.89, 0},     {"amd-mi350x.xml", 0.83, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct hardware hw;
        load_shipped(want[i].file, &hw);
        assert_close(hw.gpu.attn_bwd_ratio, want[i].ratio, want[i].file);
        cr_assert_eq(hw.gpu.mla_attn_bwd_ratio, want[i].mla, "%s: latent attention", want[i].file);
        hw_release(&hw);
    }
}

/* The AMD files' attention as AMD measured its kernels (ROCm/aiter's table; the files cite it):
 * at 1K-16K tokens a call (the knots dgx-b200.xml places for 128 heads) the median forward
 * rate over the table's causal rows of that length -- MI355X 627 / 900 / 1,167 / 1,318
 * / 1,395 TFLOPS of 2,500, MI300X 311 / 419 / 509 / 541 / 543 of 1,307.4 -- and the MI325X,
 * the MI300X's die, the MI300X's curve. */
Test(hardware, amd_attention_as_aiter_measured, .init = setup)
{
    static const double knots[] = {3.436e10, 1.374e11, 5.498e11, 2.199e12, 8.796e12};
    static const double mi355x[] = {627, 900, 1167, 1318, 1395};
    static const double mi300x[] = {311, 419, 509, 541, 543};
    struct hardware a, b, c;
    load_shipped("amd-mi355x.xml", &a);
    load_shipped("amd-mi300x.xml", &b);
    load_shipped("amd-mi325x.xml", &c);
    for (int i = 0; i < 5; i++) {
        double want = mi355x[i] / 2500.0, got = hw_curve_eval(&a.gpu.attn_eff, knots[i]);
        cr_assert(fabs(got - want) < 0.0015, "MI355X at %g: %g, want %g", knots[i], got, want);
        want = mi300x[i] / 1307.4;
        got = hw_curve_eval(&b.gpu.attn_eff, knots[i]);
        cr_assert(fabs(got - want) < 0.0015, "MI300X at %g: %g, want %g", knots[i], got, want);
    }
    assert_same_curve(&c.gpu.attn_eff, &b.gpu.attn_eff, "MI325X takes the MI300X's kernel");
    hw_release(&a);
    hw_release(&b);
    hw_release(&c);
}

/* The attention curves are the kernels' own measured rates, and what a step keeps of them is
 * one shared constant, attention-step-share 0.79 on every shipped GPU (fitted by `make
 * calibrate` beside training-efficiency; 0.82 until session 54): H100's curve tops out at
 * cuDNN's causal forward (543 TFLOPS of 989; 542-587 as NVIDIA measured cuDNN 9.1), B200's at
 * 8K tokens at the forward NVIDIA measured for cuDNN 9.10.2 there, 0.57 of 2.25 PFLOPS.  A file
 * that does not give the share keeps the whole curve. */
Test(hardware, attention_curves_are_the_kernels_and_one_share_is_kept, .init = setup)
{
    static const char *const clusters[] = {"jean-zay-a100-80gb.xml", "neox-a100-40gb-hdr.xml",
                                           "meta-h100-roce.xml", "meta-h100-96gb-500w.xml"};
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0] + 4; i++) {
        const char *name = i < sizeof shipped / sizeof shipped[0]
                               ? shipped[i]
                               : clusters[i - sizeof shipped / sizeof shipped[0]];
        struct hardware hw;
        load_shipped(name, &hw);
        assert_close(hw.gpu.attention_step_share, 0.79, name);
        hw_release(&hw);
    }
    struct hardware h100, b200;
    load_shipped("dgx-h100.xml", &h100);
    load_shipped("dgx-b200.xml", &b200);
    double top = hw_curve_eval(&h100.gpu.attn_eff, 1e13) * 989.0;
    cr_assert(fabs(top - 543.0) < 1.0, "H100 attention at its top: %g TFLOPS", top);
    double at8k = hw_curve_eval(&b200.gpu.attn_eff, 2.199e12);
    cr_assert(fabs(at8k - 0.57) < 0.005, "B200 attention at 8K: %g of peak", at8k);
    hw_release(&h100);
    hw_release(&b200);
    struct hardware toy;
    struct sim_error err;
    err_clear(&err);
    cr_assert_eq(hw_load(&toy, TOP_SRCDIR "/tests/bad/refs/slow-network.xml", &err), SIM_OK);
    cr_assert_eq(toy.gpu.attention_step_share, 1.0, "not given: the whole curve");
    hw_release(&toy);
}

/* overlap-interference is measured, not fitted: every shipped GPU charges an overlapped
 * communication 18.9% of the shorter of it and the compute beside it, the mean compute slowdown
 * Lee et al. measured with collectives overlapping training steps on A100, H100, MI250 and MI210
 * (arXiv:2507.03114); training-efficiency, fitted with it held there, is one value too. */
Test(hardware, overlap_interference_is_the_measured_slowdown_everywhere, .init = setup)
{
    static const char *const clusters[] = {"jean-zay-a100-80gb.xml", "neox-a100-40gb-hdr.xml",
                                           "meta-h100-roce.xml", "meta-h100-96gb-500w.xml"};
    size_t n = sizeof shipped / sizeof shipped[0];
    for (size_t i = 0; i < n + 4; i++) {
        const char *name = i < n ? shipped[i] : clusters[i - n];
        struct hardware hw;
        load_shipped(name, &hw);
        assert_close(hw.gpu.overlap_interference, 0.189, name);
        assert_close(hw.gpu.training_eff, 0.86, name);
        hw_release(&hw);
    }
}

/* Large GEMMs run closer to peak than small ones on every shipped GPU. */
Test(hardware, shipped_curves_rise_with_size, .init = setup)
{
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
        struct hardware hw;
        load_shipped(shipped[i], &hw);
        double prev = 0.0;
        for (double x = 1e7; x < 1e14; x *= 1.5) {
            double y = hw_curve_eval(&hw.gpu.matmul_eff, x);
            cr_assert(y >= prev, "%s: matmul eff falls at %g", shipped[i], x);
            prev = y;
        }
        hw_release(&hw);
    }
}

/* ---- curves ------------------------------------------------------------------------------ */

static void make_curve(struct hw_curve *c, int n, const double *x, const double *y)
{
    struct sim_error err;
    err_clear(&err);
    cr_assert_eq(hw_curve_init(c, n, x, y, &err), SIM_OK, "%s", err.msg);
}

Test(curve, exact_at_knots_monotone_between_clamped_outside, .init = setup)
{
    const double x[] = {1e8, 1e9, 1e10, 1e11, 1e12};
    const double y[] = {0.05, 0.2, 0.55, 0.75, 0.8};
    struct hw_curve c;
    make_curve(&c, 5, x, y);
    cr_assert_not_null(c.interp);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(hw_curve_eval(&c, x[i]), y[i], "knot %d: %.17g", i, hw_curve_eval(&c, x[i]));
    double prev = hw_curve_eval(&c, x[0]);
    for (double v = x[0]; v <= x[4]; v *= 1.01) {
        double e = hw_curve_eval(&c, v);
        cr_assert(e >= prev - 1e-15, "not monotone at %g: %g < %g", v, e, prev);
        cr_assert(e >= 0.05 && e <= 0.8, "overshoot at %g: %g", v, e);
        prev = e;
    }
    cr_assert_eq(hw_curve_eval(&c, 1.0), 0.05);
    cr_assert_eq(hw_curve_eval(&c, 0.0), 0.05);
    cr_assert_eq(hw_curve_eval(&c, -5.0), 0.05);
    cr_assert_eq(hw_curve_eval(&c, NAN), 0.05);
    cr_assert_eq(hw_curve_eval(&c, 1e20), 0.8);
    cr_assert_eq(hw_curve_eval(&c, INFINITY), 0.8);
    /* Interpolation is in log10(x): halfway in decades between two knots of a straight segment
     * of a curve that is linear in log x lands halfway in y. */
    const double lx[] = {1e8, 1e9, 1e10};
    const double ly[] = {0.1, 0.2, 0.3};
    struct hw_curve l;
    make_curve(&l, 3, lx, ly);
    assert_close(hw_curve_eval(&l, sqrt(1e8 * 1e9)), 0.15, "log-midpoint");
    hw_curve_release(&l);
    hw_curve_release(&c);
    cr_assert_null(c.interp);
    hw_curve_release(&c);
    hw_curve_release(NULL);
}

Test(curve, one_point_is_constant_two_points_a_line, .init = setup)
{
    const double x1[] = {1e9}, y1[] = {0.6};
    struct hw_curve c;
    make_curve(&c, 1, x1, y1);
    cr_assert_null(c.interp);
    cr_assert_eq(hw_curve_eval(&c, 1.0), 0.6);
    cr_assert_eq(hw_curve_eval(&c, 1e9), 0.6);
    cr_assert_eq(hw_curve_eval(&c, 1e15), 0.6);
    hw_curve_release(&c);

    const double x2[] = {1e9, 1e11}, y2[] = {0.2, 0.6};
    make_curve(&c, 2, x2, y2);
    assert_close(hw_curve_eval(&c, 1e10), 0.4, "two-point log-linear");
    cr_assert_eq(hw_curve_eval(&c, 1e8), 0.2);
    cr_assert_eq(hw_curve_eval(&c, 1e12), 0.6);
    hw_curve_release(&c);
}

/* A curve filled by hand (no interpolator) evaluates the same as a built one. */
Test(curve, hand_filled_matches_built, .init = setup)
{
    const double x[] = {1e8, 1e9, 1e10, 1e11};
    const double y[] = {0.1, 0.3, 0.6, 0.7};
    struct hw_curve built, hand;
    make_curve(&built, 4, x, y);
    memset(&hand, 0, sizeof hand);
    hand.n = 4;
    memcpy(hand.x, x, sizeof x);
    memcpy(hand.y, y, sizeof y);
    for (double v = 1e7; v < 1e12; v *= 1.7)
        assert_close(hw_curve_eval(&hand, v), hw_curve_eval(&built, v), "hand-filled");
    hw_curve_release(&built);
}

Test(curve, init_refuses_bad_points, .init = setup)
{
    struct hw_curve c;
    struct sim_error err;
    const double up[] = {1e9, 1e10}, down[] = {1e10, 1e9}, zero[] = {0.0, 1e9};
    const double y[] = {0.5, 0.6}, ynan[] = {0.5, NAN};
    cr_assert_eq(hw_curve_init(&c, 2, down, y, &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "not above") != NULL, "%s", err.msg);
    cr_assert_eq(hw_curve_init(&c, 2, up, up, &err), SIM_OK); /* y range is the loader's job */
    hw_curve_release(&c);
    cr_assert_eq(hw_curve_init(&c, 2, zero, y, &err), SIM_EINPUT);
    cr_assert_eq(hw_curve_init(&c, 2, up, ynan, &err), SIM_EINPUT);
    cr_assert_eq(hw_curve_init(&c, 0, up, y, &err), SIM_EINPUT);
    cr_assert_eq(hw_curve_init(&c, HW_CURVE_MAX + 1, up, y, &err), SIM_EINPUT);
    cr_assert_null(c.interp, "nothing to release after failure");
}

Test(hardware, dtype_names_round_trip)
{
    for (int d = 0; d < DT_COUNT; d++)
        cr_assert_eq(hw_dtype_find(hw_dtype_name((enum dtype)d)), d);
    cr_assert_eq(hw_dtype_find("bf16"), DT_BF16);
    cr_assert_eq(hw_dtype_find("fp8"), DT_FP8);
    cr_assert_eq(hw_dtype_find("nvfp4"), DT_NVFP4);
    cr_assert_eq(hw_dtype_find("BF16"), -1);
    cr_assert_eq(hw_dtype_find("fp4"), -1);
    cr_assert_eq(hw_dtype_find(""), -1);
}

/* NVFP4: the dense 4-bit peaks each Blackwell file cites (B200 9 PFLOPS, the HGX B200
 * datasheet's FP4 144 PFLOPS sparse / 8 / 2, not GB200's 10 at 1,200 W), which curve an nvfp4
 * GEMM reads (its own where the file gives one, else the fp8 curve, else the 16-bit one), and
 * B200's curve as torchao measured NVFP4 against bf16 (dgx-b200.xml): 3.78x the bf16 rate at
 * 1e12 FLOPs and 0.865x at 1e9, so 5.8 PFLOPS at 1e12 (measured: 5.4-5.5 at 4.6e11-1.1e12 with a
 * bf16 rate 7% below the file's); GB200 at its clocks (1.044x B200's rate), B300 at 1.5x B200's
 * rate, GB300 at GB200's fractions of its own peak. */
static double nvfp4_rate(const char *file, double flops)
{
    struct hardware hw;
    load_shipped(file, &hw);
    double r = hw_curve_eval(hw_matmul_curve(&hw.gpu, DT_NVFP4), flops) *
               hw.gpu.peak_flops[DT_NVFP4];
    hw_release(&hw);
    return r;
}

static double nvfp4_eff(const char *file, double flops)
{
    struct hardware hw;
    load_shipped(file, &hw);
    double e = hw_curve_eval(hw_matmul_curve(&hw.gpu, DT_NVFP4), flops);
    hw_release(&hw);
    return e;
}

Test(hardware, nvfp4_peaks_and_curves, .init = setup)
{
    static const struct {
        const char *file;
        double nvfp4;
    } blackwell[] = {{"dgx-b200.xml", 9e15}, {"dgx-b300.xml", 15e15},
                     {"gb200-nvl72.xml", 10e15}, {"gb300-nvl72.xml", 15e15}};
    struct hardware hw;
    for (size_t i = 0; i < sizeof blackwell / sizeof blackwell[0]; i++) {
        load_shipped(blackwell[i].file, &hw);
        assert_close(hw.gpu.peak_flops[DT_NVFP4], blackwell[i].nvfp4, blackwell[i].file);
        cr_assert_eq(hw_matmul_curve(&hw.gpu, DT_NVFP4), &hw.gpu.matmul_eff_nvfp4,
                     "%s: its own nvfp4 curve", blackwell[i].file);
        hw_release(&hw);
    }
    load_shipped("dgx-b200.xml", &hw);
    for (double f = 1e9; f <= 1e12; f *= 1000) {
        double ratio = hw_curve_eval(&hw.gpu.matmul_eff_nvfp4, f) * 9e15 /
                       (hw_curve_eval(&hw.gpu.matmul_eff, f) * 2.25e15);
        double want = f < 1e10 ? 0.865 : 3.783;
        cr_assert(fabs(ratio / want - 1.0) < 0.01, "B200 nvfp4 / bf16 at %g: %g", f, ratio);
    }
    double top = hw_curve_eval(&hw.gpu.matmul_eff_nvfp4, 1e12) * 9e15;
    cr_assert(top > 5.5e15 && top < 6.0e15, "B200 nvfp4 at 1e12: %g", top);
    hw_release(&hw);
    for (double f = 1e8; f <= 1e13; f *= 10) {
        double b200 = nvfp4_rate("dgx-b200.xml", f), gb200 = nvfp4_rate("gb200-nvl72.xml", f);
        cr_assert(fabs(gb200 / b200 - 1.044) < 0.01, "GB200 at %g: %g", f, gb200 / b200);
        cr_assert(fabs(nvfp4_rate("dgx-b300.xml", f) / b200 - 1.5) < 1e-6, "B300 at %g", f);
        cr_assert(fabs(nvfp4_eff("gb300-nvl72.xml", f) / nvfp4_eff("gb200-nvl72.xml", f) - 1.0) <
                      1e-9,
                  "GB300 at %g", f);
    }
    load_shipped("dgx-h100.xml", &hw);
    cr_assert_eq(hw.gpu.peak_flops[DT_NVFP4], 0.0, "Hopper has no 4-bit tensor cores");
    cr_assert_eq(hw_matmul_curve(&hw.gpu, DT_NVFP4), &hw.gpu.matmul_eff_fp8, "fp8's curve");
    hw_release(&hw);
    load_shipped("dgx-a100-80gb.xml", &hw);
    cr_assert_eq(hw_matmul_curve(&hw.gpu, DT_NVFP4), &hw.gpu.matmul_eff, "no fp8 curve either");
    hw_release(&hw);
}

/* One layer's twelve linear GEMMs of the 5B model in NVIDIA's Transformer Engine GEMM benchmark
 * (TransformerEngine docs/examples/gemm_profiling/gemm_profiling.rst: hidden 4096, ungated MLP
 * 16384, 15,872 tokens; forward, input-gradient and weight-gradient GEMMs have the same four
 * FLOP counts), in ms, at the isolated-GEMM rate of `file`'s curve for `dt`. */
static double te_bench_layer_ms(const char *file, enum dtype dt)
{
    static const double M = 15872, H = 4096, I = 16384;
    const double flops[] = {2 * M * H * 3 * H, 2 * M * H * H, 2 * M * H * I, 2 * M * I * H};
    struct hardware hw;
    load_shipped(file, &hw);
    double s = 0;
    for (size_t i = 0; i < sizeof flops / sizeof flops[0]; i++)
        s += flops[i] /
             (hw.gpu.peak_flops[dt] * hw_curve_eval(hw_matmul_curve(&hw.gpu, dt), flops[i]));
    hw_release(&hw);
    return 3 * s * 1e3;
}

/* dgx-b300.xml quotes what its curves give for that layer (12.15 / 6.14 / 2.14 ms) beside what
 * the benchmark measured on a B300 with the GEMM kernels alone (bf16 12.76 and 13.10 ms in two
 * runs, fp8 6.81, NVFP4 3.76): the quotes stay true, and the bf16 and fp8 curves stay within
 * 10% of the measurement (the NVFP4 curve is 43% faster: an assumption the file explains). */
Test(hardware, b300_curves_against_te_gemm_benchmark, .init = setup)
{
    double bf16 = te_bench_layer_ms("dgx-b300.xml", DT_BF16);
    double fp8 = te_bench_layer_ms("dgx-b300.xml", DT_FP8);
    double nvfp4 = te_bench_layer_ms("dgx-b300.xml", DT_NVFP4);
    cr_assert(fabs(bf16 / 12.15 - 1) < 0.005, "bf16 layer %.3f ms, the file says 12.15", bf16);
    cr_assert(fabs(fp8 / 6.14 - 1) < 0.005, "fp8 layer %.3f ms, the file says 6.14", fp8);
    cr_assert(fabs(nvfp4 / 2.14 - 1) < 0.005, "nvfp4 layer %.3f ms, the file says 2.14", nvfp4);
    cr_assert(bf16 > 0.9 * 12.76 && bf16 < 1.1 * 13.10, "bf16 %.3f ms against 12.76-13.10", bf16);
    cr_assert(fp8 > 0.9 * 6.81 && fp8 < 1.1 * 6.81, "fp8 %.3f ms against 6.81", fp8);
}

/* ---- bad files --------------------------------------------------------------------------- */

/* A minimal valid file; each bad case replaces one line (the marker LINE_n, 1-based). */
static const char *const good_lines[] = {
    "<?xml version=\"1.0\"?>",                                                            /* 1 */
    "<hardware name=\"t\">",                                                              /* 2 */
    "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\">", /* 3 */
    "    <peak dtype=\"bf16\" flops=\"989TFLOPS\"/>",                                     /* 4 */
    "    <peak dtype=\"fp8\" flops=\"1979TFLOPS\"/>",                                     /* 5 */
    "    <matmul-efficiency>",                                                            /* 6 */
    "      <point flops=\"1GFLOP\" efficiency=\"0.2\"/>",                                 /* 7 */
    "      <point flops=\"1e12\" efficiency=\"0.8\"/>",                                   /* 8 */
    "    </matmul-efficiency>",                                                           /* 9 */
    "    <attention-efficiency><point flops=\"1e9\" efficiency=\"50%\"/></attention-efficiency>",
    "  </gpu>", /* 11 */
    "  <node gpus=\"8\" nvlink-bandwidth=\"450GBps\" nvlink-latency=\"3us\" "
    "nvlink-efficiency=\"0.8\"/>", /* 12 */
    "  <network nic-bandwidth=\"400Gbps\" latency=\"10us\" efficiency=\"0.9\" "
    "topology=\"rail-optimized\"/>",                     /* 13 */
    "  <price per-gpu-hour=\"2.50\" currency=\"USD\"/>", /* 14 */
    "</hardware>",                                       /* 15 */
};
#define GOOD_N (sizeof good_lines / sizeof good_lines[0])

/* Write the good file with line `line` replaced by `repl` (line 0: unchanged) and load it. */
static enum sim_status load_variant(int line, const char *repl, struct hardware *hw,
                                    struct sim_error *err, char *path, size_t pathlen)
{
    snprintf(path, pathlen, "/tmp/test_hardware_XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    cr_assert_not_null(f);
    for (size_t i = 0; i < GOOD_N; i++)
        fprintf(f, "%s\n", (int)i + 1 == line ? repl : good_lines[i]);
    fclose(f);
    err_clear(err);
    enum sim_status st = hw_load(hw, path, err);
    return st;
}

/* Replacing line `line` by `repl` is refused at line `at` with a message containing `frag`. */
static void assert_bad_at(int line, const char *repl, int at, const char *frag)
{
    struct hardware hw;
    struct sim_error err;
    char path[64];
    enum sim_status st = load_variant(line, repl, &hw, &err, path, sizeof path);
    unlink(path);
    cr_assert_eq(st, SIM_EINPUT, "line %d '%s' accepted", line, repl);
    cr_assert_str_eq(err.file, path, "error names the file");
    cr_assert_eq(err.line, at, "'%s': error at line %d, want %d (%s)", repl, err.line, at, err.msg);
    cr_assert(strstr(err.msg, frag) != NULL, "'%s': message '%s' lacks '%s'", repl, err.msg, frag);
    cr_assert_null(hw.gpu.matmul_eff.interp, "nothing left to release");
}

static void assert_bad(int line, const char *repl, const char *frag)
{
    assert_bad_at(line, repl, line, frag);
}

Test(hardware_bad, the_template_is_good, .init = setup)
{
    struct hardware hw;
    struct sim_error err;
    char path[64];
    enum sim_status st = load_variant(0, NULL, &hw, &err, path, sizeof path);
    unlink(path);
    cr_assert_eq(st, SIM_OK, "%s", err.msg);
    assert_close(hw.price_gpu_hour, 2.5, "price");
    cr_assert_str_eq(hw.currency, "USD");
    assert_close(hw.gpu.attn_eff.y[0], 0.5, "50%");
    assert_close(hw.gpu.matmul_eff.x[0], 1e9, "1GFLOP");
    hw_release(&hw);
}

Test(hardware_bad, negative_or_zero_bandwidth, .init = setup)
{
    assert_bad(12,
               "  <node gpus=\"8\" nvlink-bandwidth=\"-450GBps\" nvlink-latency=\"3us\" "
               "nvlink-efficiency=\"0.8\"/>",
               "negative");
    assert_bad(13,
               "  <network nic-bandwidth=\"0Gbps\" latency=\"10us\" efficiency=\"0.9\" "
               "topology=\"rail-optimized\"/>",
               "must be positive");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"0GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\">",
               "must be positive");
}

Test(hardware_bad, efficiency_out_of_range, .init = setup)
{
    assert_bad(12,
               "  <node gpus=\"8\" nvlink-bandwidth=\"450GBps\" nvlink-latency=\"3us\" "
               "nvlink-efficiency=\"1.5\"/>",
               "out of range (0, 1]");
    assert_bad(8, "      <point flops=\"1e12\" efficiency=\"0\"/>", "out of range (0, 1]");
    assert_bad(
        3, "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"120%\">",
        "out of range (0, 1]");
}

Test(hardware_bad, curve_not_increasing, .init = setup)
{
    assert_bad(8, "      <point flops=\"1e9\" efficiency=\"0.8\"/>", "strictly increasing");
    assert_bad(8, "      <point flops=\"0.5GFLOP\" efficiency=\"0.8\"/>", "strictly increasing");
    assert_bad(8, "      <point flops=\"0\" efficiency=\"0.8\"/>", "must be positive");
}

Test(hardware_bad, unknown_dtype_and_missing_bf16, .init = setup)
{
    assert_bad(5, "    <peak dtype=\"fp4\" flops=\"9PFLOPS\"/>", "fp4");
    /* the missing bf16 peak is the <gpu>'s fault: line 3 */
    assert_bad_at(4, "    <peak dtype=\"fp16\" flops=\"989TFLOPS\"/>", 3, "no bf16 peak");
}

Test(hardware_bad, wrong_units, .init = setup)
{
    assert_bad(12,
               "  <node gpus=\"8\" nvlink-bandwidth=\"450GB\" nvlink-latency=\"3us\" "
               "nvlink-efficiency=\"0.8\"/>",
               "unknown unit 'GB'");
    assert_bad(4, "    <peak dtype=\"bf16\" flops=\"989TFLOP\"/>", "unknown unit 'TFLOP'");
    assert_bad(4, "    <peak dtype=\"bf16\" flops=\"989e12\"/>", "has no unit");
    assert_bad(7, "      <point flops=\"1GFLOPS\" efficiency=\"0.2\"/>", "unknown unit 'GFLOPS'");
    assert_bad(13,
               "  <network nic-bandwidth=\"400Gbps\" latency=\"10\" efficiency=\"0.9\" "
               "topology=\"rail-optimized\"/>",
               "has no unit");
    assert_bad(14, "  <price per-gpu-hour=\"2.50USD\" currency=\"USD\"/>", "unknown unit 'USD'");
}

/* The template's <node> with one <collective> inside. */
#define NODE_WITH(collective)                                                                     \
    "  <node gpus=\"8\" nvlink-bandwidth=\"450GBps\" nvlink-latency=\"3us\" "                    \
    "nvlink-efficiency=\"0.8\">" collective "</node>"

Test(hardware_bad, measured_collectives, .init = setup)
{
    assert_bad(12, NODE_WITH("<collective op=\"broadcast\" gpus=\"8\" bus-bandwidth=\"300GBps\" "
                             "overhead=\"40us\"/>"),
               "broadcast");
    assert_bad(12, NODE_WITH("<collective op=\"all-reduce\" gpus=\"1\" bus-bandwidth=\"300GBps\" "
                             "overhead=\"40us\"/>"),
               "collective gpus:");
    assert_bad(12, NODE_WITH("<collective op=\"all-reduce\" gpus=\"16\" bus-bandwidth=\"300GBps\" "
                             "overhead=\"40us\"/>"),
               "the node's 8 GPUs");
    assert_bad(12, NODE_WITH("<collective op=\"all-gather\" gpus=\"8\" bus-bandwidth=\"0GBps\" "
                             "overhead=\"40us\"/>"),
               "must be positive");
    assert_bad(12, NODE_WITH("<collective op=\"all-gather\" gpus=\"8\" bus-bandwidth=\"300GBps\" "
                             "overhead=\"40\"/>"),
               "has no unit");
    assert_bad(12, NODE_WITH("<collective op=\"all-gather\" gpus=\"8\" bus-bandwidth=\"300GBps\" "
                             "overhead=\"40us\"/><collective op=\"all-gather\" gpus=\"8\" "
                             "bus-bandwidth=\"200GBps\" overhead=\"20us\"/>"),
               ""); /* the same operation and size twice (the schema's unique rule) */
}

Test(hardware_bad, schema_and_range_rules, .init = setup)
{
    assert_bad(5, "    <peak dtype=\"bf16\" flops=\"989TFLOPS\"/>", ""); /* duplicate */
    assert_bad(12,
               "  <node gpus=\"0\" nvlink-bandwidth=\"450GBps\" nvlink-latency=\"3us\" "
               "nvlink-efficiency=\"0.8\"/>",
               "out of range");
    assert_bad(13,
               "  <network nic-bandwidth=\"400Gbps\" latency=\"10us\" efficiency=\"0.9\" "
               "topology=\"torus\"/>",
               "torus");
    assert_bad(13,
               "  <network nic-bandwidth=\"400Gbps\" latency=\"10us\" efficiency=\"0.9\" "
               "topology=\"fat-tree\" oversubscription=\"0.5\"/>",
               "out of range [1, 1000]");
    assert_bad(13,
               "  <network nic-bandwidth=\"400Gbps\" latency=\"2s\" efficiency=\"0.9\" "
               "topology=\"fat-tree\"/>",
               "above 1 s");
    assert_bad(14, "  <price per-gpu-hour=\"2.50\" currency=\"usd\"/>", "");
    assert_bad(7, "      <pt flops=\"1e9\" efficiency=\"0.2\"/>", "");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "sms=\"0\">",
               "gpu sms:");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "sms=\"132.5\">",
               "gpu sms:");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "attention-backward-ratio=\"0\">",
               "gpu attention-backward-ratio: must be above 0");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "attention-backward-ratio=\"1.2\">",
               "attention-backward-ratio: '1.2' is out of range [0, 1]");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "mla-attention-backward-ratio=\"0\">",
               "gpu mla-attention-backward-ratio: must be above 0");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "fp8-block-gemm-gain=\"0\">",
               "gpu fp8-block-gemm-gain: must be above 0");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "fp8-block-gemm-gain=\"1.3\">",
               "fp8-block-gemm-gain: '1.3' is out of range [0, 1]");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "fp8-attention-gain=\"0\" fp8-attention-backward-gain=\"1\">",
               "fp8-attention-gain: '0' is out of range (0, 4]");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "mxfp8-attention-gain=\"1.2\" mxfp8-attention-backward-gain=\"5\">",
               "mxfp8-attention-backward-gain: '5' is out of range (0, 4]");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "fp8-attention-gain=\"1.5\">",
               "gpu fp8-attention-gain and fp8-attention-backward-gain: give both or neither");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "power-cap=\"500W\">",
               "rated-power, alt-rated-power and alt-rated-ratio go together");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "rated-power=\"700W\" alt-rated-power=\"400W\">",
               "go together");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "rated-power=\"700W\" alt-rated-power=\"400W\" alt-rated-ratio=\"0.8\" "
               "power-cap=\"350W\">",
               "gpu power-cap: '350W' is outside the rated range (400 W to 700 W)");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "rated-power=\"700\">",
               "rated-power");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "rated-power=\"700W\" alt-rated-power=\"400W\" alt-rated-ratio=\"0.8\" "
               "power-cap=\"0W\">",
               "gpu power-cap: '0W' is outside the rated range");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "power-cap=\"0W\">",
               "go together");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "nccl-buffers=\"80GiB\">",
               "gpu nccl-buffers: '80GiB' is not below the HBM capacity");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "nccl-buffers=\"-1GiB\">",
               "nccl-buffers");
    assert_bad(3,
               "  <gpu name=\"g\" hbm=\"80GiB\" hbm-bandwidth=\"3TBps\" memory-efficiency=\"0.8\" "
               "nccl-buffers=\"600\">",
               "nccl-buffers");
}

/* flex-dispatchers: which backends of the flex MoE dispatcher run -- both unless the file
 * says, HybridEP alone on GB200 / GB300 (Megatron-Bridge falls back from DeepEP there), none
 * on AMD; a name it does not know, or none beside a backend, is refused at its line. */
Test(hardware, flex_dispatchers_by_system, .init = setup)
{
    struct hardware hw;
    load_shipped("dgx-h100.xml", &hw);
    cr_expect_eq(hw.node.flex_dispatchers, HW_FLEX_DEEPEP | HW_FLEX_HYBRIDEP);
    hw_release(&hw);
    load_shipped("gb200-nvl72.xml", &hw);
    cr_expect_eq(hw.node.flex_dispatchers, HW_FLEX_HYBRIDEP);
    hw_release(&hw);
    load_shipped("amd-mi355x.xml", &hw);
    cr_expect_eq(hw.node.flex_dispatchers, 0u);
    hw_release(&hw);
    static const char node[] = "  <node gpus=\"8\" nvlink-bandwidth=\"450GBps\" "
                               "nvlink-latency=\"3us\" nvlink-efficiency=\"0.8\" "
                               "flex-dispatchers=\"%s\"/>";
    char line[256];
    snprintf(line, sizeof line, node, "deepep,nccl");
    assert_bad_at(12, line, 12, "'nccl' is not deepep, hybridep or none");
    snprintf(line, sizeof line, node, "none hybridep");
    assert_bad_at(12, line, 12, "'none' with a backend");
}
