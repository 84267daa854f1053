/* test_flops: per-layer forward FLOPs written out by hand for GPT-3 175B (MHA, GELU),
 * Llama-3.1-70B (GQA, SwiGLU), Mixtral (MoE) and DeepSeek-V3 (MLA, shared experts); the
 * whole-model step against Narayanan et al.'s closed form; causal halving; and matmul FLOPs
 * per token = 2 x active weights for every shipped model. */
#include <criterion/criterion.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>

#include "flops.h"
#include "helpers.h"

/* Relative comparison: all counts here are exact integers far below 2^53, so only summation
 * order can differ. */
static void assert_rel(double got, double want, const char *what)
{
    cr_assert(fabs(got - want) <= 1e-12 * fabs(want) + 0.5, "%s: got %.17g, want %.17g", what, got,
              want);
}

/* GPT-3 175B, h = 12288, s = 2048 (SC'21 sec. 5.1): QKV 2*s*h*3h, attention core 4*s^2*h,
 * output projection 2*s*h^2, MLP 2 x 2*s*h*4h = 16*s*h^2. */
Test(flops, gpt3_layer_by_hand)
{
    struct model m;
    load_shipped_model(&m, "gpt3-175b");
    struct layer_flops f;
    flops_layer_fwd(&m, 0, 2048, 0, &f);
    assert_rel(f.qkv, 1855425871872.0, "qkv = 6sh^2");
    assert_rel(f.attn_core, 206158430208.0, "attn core = 4s^2h");
    assert_rel(f.attn_out, 618475290624.0, "out = 2sh^2");
    assert_rel(f.mlp, 4947802324992.0, "mlp = 16sh^2");
    cr_assert_eq(f.router, 0.0);
    cr_assert_eq(f.experts, 0.0);
    assert_rel(f.total, 7627861917696.0, "24sh^2 + 4s^2h");
    double s = 2048, h = 12288;
    assert_rel(f.total, 24 * s * h * h + 4 * s * s * h, "24sh^2 + 4s^2h (closed form)");
    assert_rel(flops_head_fwd(&m, 2048), 2 * s * h * 50257, "head 2shV");

    /* causal: only the attention core halves */
    struct layer_flops c;
    flops_layer_fwd(&m, 0, 2048, 1, &c);
    assert_rel(c.attn_core, 103079215104.0, "causal core = 2s^2h");
    assert_rel(c.qkv, f.qkv, "qkv unchanged by causal");
    assert_rel(c.mlp, f.mlp, "mlp unchanged by causal");
    assert_rel(c.total, f.total - 103079215104.0, "causal total");
}

/* Narayanan et al. SC'21: model FLOPs per step without recompute
 * = 72*B*s*L*h^2*(1 + s/(6h) + V/(12*L*h)) (their eq. has 96 = 4 x 24 with recompute). */
Test(flops, gpt3_step_matches_narayanan)
{
    struct model m;
    load_shipped_model(&m, "gpt3-175b");
    double B = 1536, s = 2048, L = 96, h = 12288, V = 50257;
    double want = 72 * B * s * L * h * h * (1 + s / (6 * h) + V / (12 * L * h));
    double got = flops_model_step(&m, 2048, 1536, 0);
    cr_assert(fabs(got - want) <= 1e-12 * want, "got %.17g, want %.17g", got, want);
    assert_rel(flops_model_fwd(&m, 2048, 0) * 3 * B, got, "step = 3 x fwd x samples");

    /* the same for every SC'21 row, with V = 51200 */
    static const char *const sc21[] = {"gpt-sc21-1.7b", "gpt-sc21-145.6b", "gpt-sc21-1008b"};
    for (size_t i = 0; i < sizeof sc21 / sizeof sc21[0]; i++) {
        load_shipped_model(&m, sc21[i]);
        s = 2048;
        L = m.layers;
        h = m.hidden;
        V = m.vocab;
        want = 72 * s * L * h * h * (1 + s / (6 * h) + V / (12 * L * h));
        got = flops_model_step(&m, 2048, 1, 0);
        cr_assert(fabs(got - want) <= 1e-12 * want, "%s: got %.17g, want %.17g", sc21[i], got,
                  want);
    }
}

/* Llama-3.1-70B, h = 8192, 64 heads of 128, 8 KV heads, ffn 28672, V = 128256, s = 8192:
 * QKV 2*s*h*(64*128 + 2*8*128) = 2*8192*8192*10240; core 4*s^2*64*128; out 2*s*h^2;
 * SwiGLU 3 x 2*s*h*28672; head 2*s*h*V. */
Test(flops, llama70b_gqa_swiglu_by_hand)
{
    struct model m;
    load_shipped_model(&m, "llama3.1-70b");
    struct layer_flops f;
    flops_layer_fwd(&m, 7, 8192, 0, &f);
    assert_rel(f.qkv, 1374389534720.0, "qkv");
    assert_rel(f.attn_core, 2199023255552.0, "attn core");
    assert_rel(f.attn_out, 1099511627776.0, "out");
    assert_rel(f.mlp, 11544872091648.0, "swiglu mlp");
    assert_rel(f.total, 1374389534720.0 + 2199023255552.0 + 1099511627776.0 + 11544872091648.0,
               "total");
    assert_rel(flops_head_fwd(&m, 8192), 17214228922368.0, "head");

    struct layer_flops c;
    flops_layer_fwd(&m, 7, 8192, 1, &c);
    assert_rel(c.attn_core, 1099511627776.0, "causal core");
    assert_rel(flops_model_fwd(&m, 8192, 1),
               80 * (1374389534720.0 + 1099511627776.0 + 1099511627776.0 + 11544872091648.0) +
                   17214228922368.0,
               "whole causal forward");
}

/* Mixtral: router 2*s*h*8 and 2 of 8 SwiGLU experts per token; no dense MLP. */
Test(flops, mixtral_moe_by_hand)
{
    struct model m;
    load_shipped_model(&m, "mixtral-8x7b");
    struct layer_flops f;
    double s = 4096, h = 4096;
    flops_layer_fwd(&m, 0, 4096, 0, &f);
    assert_rel(f.router, 2 * s * h * 8, "router");
    assert_rel(f.experts, 2 * 3 * 2 * s * h * 14336, "top-2 experts");
    cr_assert_eq(f.mlp, 0.0, "no shared experts");
    assert_rel(f.qkv, 2 * s * h * (4096 + 2048), "gqa qkv");
}

/* DeepSeek-V3 at s = 4096: MLA projections 2*s*(7168*1536 + 1536*128*192 + 7168*576 +
 * 512*128*256); core 2*s^2*128*(192 + 128); dense layers 0-2 run the 18432 SwiGLU; MoE layers
 * run the router over 256 experts, 8 routed and 1 shared 2048-wide SwiGLU experts. */
Test(flops, deepseek_mla_moe_by_hand)
{
    struct model m;
    load_shipped_model(&m, "deepseek-v3");
    struct layer_flops f;
    flops_layer_fwd(&m, 2, 4096, 0, &f);
    assert_rel(f.qkv, 570693779456.0, "mla qkv");
    assert_rel(f.attn_core, 1374389534720.0, "mla core");
    assert_rel(f.attn_out, 962072674304.0, "out");
    assert_rel(f.mlp, 3246995275776.0, "dense layer mlp");
    cr_assert_eq(f.router, 0.0);
    cr_assert_eq(f.experts, 0.0);

    flops_layer_fwd(&m, 3, 4096, 0, &f);
    assert_rel(f.mlp, 360777252864.0, "shared expert");
    assert_rel(f.router, 15032385536.0, "router");
    assert_rel(f.experts, 2886218022912.0, "8 routed experts");
    assert_rel(f.total,
               570693779456.0 + 1374389534720.0 + 962072674304.0 + 360777252864.0 + 15032385536.0 +
                   2886218022912.0,
               "moe layer total");
}

/* Matmul FLOPs per token are 2 x the weights a token touches: with s = 1 (attention core
 * negligible) the forward is 2 x (active params - input embedding + tied head), less biases
 * and norms.  Ties FLOPs to the parameter counts of every shipped model. */
Test(flops, per_token_flops_are_twice_active_weights)
{
    glob_t g;
    cr_assert_eq(glob(TOP_SRCDIR "/models/*.xml", 0, NULL, &g), 0);
    cr_assert_geq(g.gl_pathc, 29);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        struct model m;
        struct sim_error err;
        err_clear(&err);
        cr_assert_eq(model_load(&m, g.gl_pathv[i], &err), SIM_OK, "%s", err.msg);
        double weights = model_params_active(&m) - model_params_embedding(&m);
        if (m.tied_embeddings)
            weights += (double)m.vocab * m.hidden;
        for (int l = 0; l < m.layers; l++) /* DSA's and CSA's indexers: outside the total */
            weights -= model_dsa_computes_topk(&m, l) * model_weights_dsa_indexer(&m) +
                       model_csa_indexed(&m, l) * model_weights_csa_indexer_proj(&m);
        /* a Mamba-2 scan's or a gated delta rule's state terms are work per token without
         * weights; the MTP modules' parameters are not in the published counts
         * (mtp_module_by_hand has their FLOPs) */
        double fwd = flops_model_fwd(&m, 1, 0) - model_mamba_layers(&m) * flops_mamba_scan(&m, 1) -
                     model_gdn_layers(&m) * flops_gdn_scan(&m, 1) - flops_mtp_fwd(&m, 1, 0);
        cr_assert(fabs(fwd - 2 * weights) <= 2e-3 * fwd, "%s: fwd %.6g vs 2 x weights %.6g", m.name,
                  fwd, 2 * weights);
    }
    globfree(&g);
}

/* An MTP module's forward by hand, Nemotron 3.5 Lightning's (h 2688, vocabulary 131072, one
 * attention + MoE module) per token at s = 8192: the 2h -> h projection 2 x 2h x h =
 * 28,901,376, its head 2 x h x V = 704,643,072, the attention layer's QKV 2 x 2688 x 4608 =
 * 24,772,608, output 2 x 4096 x 2688 = 22,020,096 and full core 2 x 32 x 256 x 8192 =
 * 134,217,728, the MoE layer's router 2 x 2688 x 128 = 688,128, 6 routed experts 6 x 2 x 2 x
 * 2688 x 1856 = 119,734,272 and the shared one 2 x 2 x 2688 x 3712 = 39,911,424: 1,074,888,704.
 * It is part of the model's forward, and its attention core part of the cores'. */
Test(flops, mtp_module_by_hand)
{
    struct model m;
    load_shipped_model(&m, "nemotron-3.5-lightning-30b-a3b");
    assert_rel(flops_mtp_fwd(&m, 8192, 0), 8192.0 * 1074888704.0, "one MTP depth");
    m.mtp_layers = 2; /* two depths (mtp-layers), repeated or not: the work twice */
    assert_rel(flops_mtp_fwd(&m, 8192, 0), 2 * 8192.0 * 1074888704.0, "two depths");
    struct model nano;
    load_shipped_model(&nano, "nemotron-3-nano-30b-a3b");
    assert_rel(flops_model_fwd(&m, 8192, 0) - flops_model_fwd(&nano, 8192, 0),
               flops_mtp_fwd(&m, 8192, 0), "the decoder is Nano's");
    assert_rel(flops_model_attn_core(&m, 8192, 0) - flops_model_attn_core(&nano, 8192, 0),
               2 * 8192.0 * 134217728.0, "the cores count the MTP layers'");
    assert_rel(flops_mtp_fwd(&nano, 8192, 0), 0.0, "no MTP, no work");
}

/* Local attention: a sliding window of 128 keys, a chunked window of 128, and a global layer
 * every second one (layer 1, 0-based), on a 4096-token sequence. */
Test(flops, local_attention_pairs_by_hand)
{
    struct model m;
    load_shipped_model(&m, "llama3.1-8b");
    m.window = 128;
    cr_assert_eq(model_attention_pairs(&m, 0, 4096, 1), 4096.0 * 128 - 128.0 * 127 / 2);
    cr_assert_eq(model_attention_pairs(&m, 0, 4096, 0), 4096.0 * 128);
    m.window_chunked = 1;
    cr_assert_eq(model_attention_pairs(&m, 0, 4096, 1), 0.5 * 4096 * 128);
    m.global_every = 2;
    cr_assert_eq(model_attention_pairs(&m, 1, 4096, 1), 0.5 * 4096.0 * 4096);
    cr_assert_eq(model_attention_pairs(&m, 2, 4096, 1), 0.5 * 4096 * 128);
    /* A window as long as the sequence is no window at all. */
    cr_assert_eq(model_attention_pairs(&m, 0, 128, 0), 128.0 * 128);
    struct layer_flops lf;
    flops_layer_fwd(&m, 0, 4096, 1, &lf);
    assert_rel(lf.attn_core, 2.0 * 0.5 * 4096 * 128 * 32 * 256, "chunked core FLOPs");
}

/* Nemotron 3 Nano's Mamba-2 layer over 8192 tokens: in_proj 2 s 2688 x 10304, out_proj
 * 2 s 4096 x 2688, and the SSD scan per token 8 groups x 2 x 128 x 128 (C B^T) + 64 heads x
 * (2 x 128 x 64 (masked product) + 4 x 128 x 64 (chunk state and output from it)) =
 * 262,144 + 3,145,728; no attention, no MLP.  Its attention layer has no MLP; its MoE layer
 * no mixer. */
Test(flops, hybrid_layers_by_hand)
{
    struct model m;
    load_shipped_model(&m, "nemotron-3-nano-30b-a3b");
    struct layer_flops lf;
    double s = 8192;
    flops_layer_fwd(&m, 0, 8192, 1, &lf);
    cr_assert_eq(lf.ssm_in, 2 * s * 2688 * 10304);
    cr_assert_eq(lf.ssm_out, 2 * s * 4096 * 2688);
    cr_assert_eq(lf.ssm_scan, s * (262144.0 + 3145728.0));
    cr_assert_eq(lf.qkv + lf.attn_core + lf.attn_out + lf.mlp + lf.experts + lf.router, 0.0);
    cr_assert_eq(lf.total, lf.ssm_in + lf.ssm_out + lf.ssm_scan);
    flops_layer_fwd(&m, 5, 8192, 1, &lf);
    cr_assert_eq(lf.qkv, 2 * s * 2688 * 4608);
    cr_assert_eq(lf.attn_core, 2 * 0.5 * s * s * 32 * 256);
    cr_assert_eq(lf.mlp + lf.experts + lf.router + lf.ssm_in + lf.ssm_scan, 0.0);
    flops_layer_fwd(&m, 1, 8192, 1, &lf);
    cr_assert_eq(lf.qkv + lf.attn_core + lf.attn_out + lf.ssm_in + lf.ssm_scan, 0.0);
    cr_assert_eq(lf.experts, 2 * s * 6 * 2 * 2688 * 1856);
    cr_assert_eq(lf.mlp, 2 * s * 2 * 2688 * 3712);
    /* the backward as mamba_ssm's kernels run it, the forward's C B^T and states recomputed:
     * 8 groups x 6 x 128 x 128 + 64 heads x (10 x 128 x 64 + 6 x 128 x 64) = 9,175,040 a
     * token, 2.69x the forward */
    cr_assert_eq(flops_mamba_scan_bwd(&m, 8192), s * (786432.0 + 8388608.0));
    /* a sequence shorter than a chunk is one chunk of its own length */
    cr_assert_eq(flops_mamba_scan(&m, 64),
                 64.0 * (8 * 2.0 * 64 * 128 + 64 * (2.0 * 64 * 64 + 4.0 * 128 * 64)));
}

/* Qwen3-Next's Gated DeltaNet layer at s = 4096, by hand: in_proj 2 s 2048 x 12352, out_proj
 * 2 s 4096 x 2048, and the chunked rule over chunks of 64 per token and value head (32 heads,
 * key and value dims 128): 6 x 64 x 128 + 4 x 64 x 128 + 6 x 128 x 128 + 2 x 64^2 / 3 =
 * 49,152 + 32,768 + 98,304 + 2,730.67 = 182,954.67.  Its attention layer's QKV carries the
 * gate: 2 s 2048 x (2 x 4096 + 2 x 512); a 48-token sequence is one chunk of 48. */
Test(flops, gated_deltanet_layer_by_hand)
{
    struct model m;
    load_shipped_model(&m, "qwen3-next-80b-a3b");
    struct layer_flops lf;
    double s = 4096;
    flops_layer_fwd(&m, 0, 4096, 1, &lf);
    cr_assert_eq(lf.ssm_in, 2 * s * 2048 * 12352);
    cr_assert_eq(lf.ssm_out, 2 * s * 4096 * 2048);
    cr_assert(fabs(lf.ssm_scan - s * 32 * (49152 + 32768 + 98304 + 2.0 * 4096 / 3)) < 1.0,
              "%.3f", lf.ssm_scan);
    cr_assert_eq(lf.total, lf.ssm_in + lf.ssm_out + lf.ssm_scan);
    cr_assert_eq(lf.qkv + lf.attn_core + lf.mlp + lf.experts, 0.0);
    flops_layer_fwd(&m, 6, 4096, 1, &lf);
    cr_assert_eq(lf.qkv, 2 * s * 2048 * (2 * 4096 + 2 * 512));
    cr_assert_eq(lf.ssm_in + lf.ssm_scan, 0.0);
    cr_assert(fabs(flops_gdn_scan(&m, 48) -
                   48.0 * 32 * (6 * 48 * 128 + 4 * 48 * 128 + 6 * 128 * 128 + 2.0 * 48 * 48 / 3)) <
              1e-3);
}
