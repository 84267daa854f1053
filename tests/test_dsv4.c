/* test_dsv4: DeepSeek-V4's layers (model.h: <mla shared-kv>, grouped output projection, <csa>,
 * <hyper-connections>) against hand-computed values -- DeepSeek-V4-Flash's shape and parameters
 * layer by layer, the pairs each kind of layer attends to, its FLOPs, the indexer's work on the
 * toy GPU (tests/helpers.c: GEMMs at 500 TFLOPS, attention at 250), what hyper-connections move
 * and keep -- and the rules and bad inputs it refuses. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flops.h"
#include "helpers.h"
#include "model.h"
#include "step.h"

#define MODEL(name) TOP_SRCDIR "/models/" name ".xml"
#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define near(a, b) (fabs((double)(a) - (double)(b)) <= 1e-12 + 1e-9 * fabs((double)(b)))

static struct scenario scn;
static struct step_output out;

/* One DeepSeek-V4-Flash layer of the window alone (layer 0): two RMSNorms (2 x 4096); the
 * attention -- q_down 4096 x 1024, q_up 1024 x 64 x 512, the key-value projection 4096 x 512,
 * wo_a 32768 x 1024 (8 groups of 8 heads, each to 1024), wo_b 8192 x 4096, the query latent's
 * and the key-value entry's norms (1024, 512), the 64 heads' attention sinks; the MoE -- router
 * 4096 x 256, 256 experts and one shared of 3 x 4096 x 2048; two hyper-connection modules of
 * (16 + 8) x 16384 weights, 24 biases and 3 scales. */
static const double LAYER0 = 2.0 * 4096 +
                             (4096.0 * 1024 + 1024.0 * 32768 + 4096.0 * 512 + 32768.0 * 1024 +
                              8192.0 * 4096 + 1024 + 512 + 64) +
                             4096.0 * 256 + 257.0 * 3 * 4096 * 2048 + 2.0 * (24.0 * 16384 + 27);

Test(dsv4, flash_shape_and_parameters_layer_by_layer)
{
    struct model m;
    load_shipped_model(&m, "deepseek-v4-flash");
    cr_assert_eq(m.kv_heads, 1);
    cr_assert_eq(m.head_dim, 512);
    cr_assert_eq(m.v_head_dim, 512);
    cr_assert_eq(m.csa_layers, 44);
    /* [0, 0, 4] + [128, 4] x 20 + [0]: the window alone, indexed, every entry, the MTP's 0 */
    cr_assert_eq(model_layer_kind(&m, 0, 4096), MODEL_KIND_CSA_WINDOW_MOE);
    cr_assert_eq(model_layer_kind(&m, 2, 4096), MODEL_KIND_CSA_INDEXED_MOE);
    cr_assert_eq(model_layer_kind(&m, 3, 4096), MODEL_KIND_CSA_ALL_MOE);
    cr_assert_eq(model_layer_kind(&m, 42, 4096), MODEL_KIND_CSA_INDEXED_MOE);
    cr_assert_eq(model_csa_ratio(&m, 43), 0);
    cr_assert_eq(model_mtp_layer(&m, 0), 1); /* the last decoder layer of the window alone */
    cr_assert(near(model_params_layer(&m, 0), LAYER0), "%.12g", model_params_layer(&m, 0));
    /* ratio 4: the overlapping compressor (2 x 4096 x 2 x 512), its ape (4 x 2 x 512) and norm
     * (512); the indexer -- wq_b 1024 x 64 x 128, its compressor 2 x 4096 x 2 x 128, its head
     * weights 4096 x 64, ape 4 x 2 x 128, norm 128 */
    double indexed = 2.0 * 4096 * 2 * 512 + 4.0 * 2 * 512 + 512 + 1024.0 * 64 * 128 +
                     2.0 * 4096 * 2 * 128 + 4096.0 * 64 + 4.0 * 2 * 128 + 128;
    cr_assert(near(model_params_layer(&m, 2) - LAYER0, indexed));
    /* ratio 128: a compressor of 2 x 4096 x 512, its ape 128 x 512, its norm */
    cr_assert(near(model_params_layer(&m, 3) - LAYER0, 2.0 * 4096 * 512 + 128.0 * 512 + 512));
    /* the model: 43 layers (21 indexed, 20 of ratio 128), embedding and head (129280 x 4096
     * each), the final norm and the streams' contraction (4 x 16384 + 4 + 1) -- 284.3B */
    double total = 43 * LAYER0 + 21 * indexed + 20 * (2.0 * 4096 * 512 + 128.0 * 512 + 512) +
                   2.0 * 129280 * 4096 + 4096 + 4.0 * 16384 + 5;
    cr_assert(near(model_params_total(&m), total), "%.12g", model_params_total(&m));
    cr_assert(fabs(model_params_total(&m) / 1e9 - 284.33) < 0.01);
}

/* At 4096 tokens: the window's pairs, sum of min(i + 1, 128) = 4096 x 128 - 128 x 127 / 2 =
 * 516,160; ratio 4 with top 512: query i sees min(512, floor((i + 1) / 4)) entries, 523,264 up
 * to the cap (j = 1..2047) and 512 x 2049 after it = 1,572,352 (383.9 a query, as Megatron-
 * Bridge's FLOPs formula has it); ratio 128 every causal entry: 128 x 32 x 31 / 2 + 32 =
 * 63,520 (15.5 a query); the indexer scores every causal entry of ratio 4: 2,096,128.  At 1024
 * tokens the cap never binds: 4 x 256 x 255 / 2 + 256 = 130,816. */
Test(dsv4, pairs_of_the_window_and_the_compressed_entries)
{
    struct model m;
    load_shipped_model(&m, "deepseek-v4-flash");
    cr_assert(near(model_csa_window_pairs(&m, 4096), 516160));
    cr_assert(near(model_csa_compressed_pairs(&m, 2, 4096), 1572352));
    cr_assert(near(model_csa_compressed_pairs(&m, 3, 4096), 63520));
    cr_assert(near(model_csa_compressed_pairs(&m, 0, 4096), 0));
    cr_assert(near(model_csa_index_pairs(&m, 4096), 2096128));
    cr_assert(near(model_csa_compressed_pairs(&m, 2, 1024), 130816));
    cr_assert(near(model_csa_window_pairs(&m, 100), 5050)); /* shorter than the window */
}

/* One indexed layer's forward at 4096 tokens: the core 2 x 64 heads x (512 + 512) a pair;
 * the compressor 2 x 4096 x 2 x 4096 x 1024; wo_a (a 16-bit einsum) 2 x 4096 x 32768 x 1024;
 * the hyper-connections' mappings 2 x 4096 x 2 x 24 x 16384; the indexer -- scores 2 x 64 x
 * 129 a causal entry, their gradient 4 x 64 x 129 on the chosen ones (in the forward), the
 * loss's target 2 x 64 x 512 on them, its projections 2 x 4096 x its weights.  The MTP
 * module's e_proj and four h_proj: 5 x 4096^2 weights a token. */
Test(dsv4, flops_of_an_indexed_layer)
{
    struct model m;
    load_shipped_model(&m, "deepseek-v4-flash");
    struct layer_flops lf;
    flops_layer_fwd(&m, 2, 4096, 1, &lf);
    double chosen = 1572352, pairs = 516160 + chosen;
    double proj = 1024.0 * 64 * 128 + 2.0 * 4096 * 2 * 128 + 4096.0 * 64;
    cr_assert(near(lf.attn_core, 2.0 * 64 * 1024 * pairs), "%.12g", lf.attn_core);
    cr_assert(near(lf.csa_compress, 2.0 * 4096 * 2 * 4096 * 1024));
    cr_assert(near(lf.o_group, 2.0 * 4096 * 32768 * 1024));
    cr_assert(near(lf.attn_out, 2.0 * 4096 * (32768.0 * 1024 + 8192.0 * 4096)));
    cr_assert(near(lf.hc_map, 2.0 * 4096 * 2 * 24 * 16384));
    cr_assert(near(lf.dsa_index, 2.0 * 64 * 129 * 2096128));
    cr_assert(near(lf.dsa_index_bwd, 4.0 * 64 * 129 * chosen));
    cr_assert(near(lf.dsa_teacher, 2.0 * 64 * 512 * chosen));
    cr_assert(near(lf.dsa_index_proj, 2.0 * 4096 * proj));
    cr_assert(lf.csa_index_bwd_in_fwd);
    flops_layer_fwd(&m, 3, 4096, 1, &lf); /* ratio 128: no indexer, half the compressor */
    cr_assert(near(lf.dsa_index_proj, 0) && near(lf.csa_compress, 2.0 * 4096 * 2 * 4096 * 512));
    cr_assert(near(flops_mtp_proj_weights(&m), 5.0 * 4096 * 4096));
    /* mla_up_proj's recompute re-runs Q's up-projection and the key-value projection */
    cr_assert(near(model_weights_mla_up(&m), 1024.0 * 32768 + 4096.0 * 512));
}

/* On the toy GPU at EP 8, layer 2's attention column holds the core and its indexer's
 * forward work -- scores, the chosen entries' gradient and the loss's target at the attention
 * rate, the projections at the GEMM rate -- and its backward the core's and the projections'
 * weight gradient alone: the indexer's gradient was taken in the forward. */
Test(dsv4, the_indexer_takes_its_gradient_in_the_forward)
{
    struct model m;
    load_shipped_model(&m, "deepseek-v4-flash");
    struct layer_flops lf, window;
    flops_layer_fwd(&m, 2, 4096, 1, &lf);
    flops_layer_fwd(&m, 0, 4096, 1, &window);
    const char *const *sets = L("seq=4096", "microbatches=1", "gpus=8", "ep=8");
    toy_step(MODEL("deepseek-v4-flash"), 8, sets, &scn, &out);
    struct cm_layer_view idx = out.cm.layer_view[MODEL_KIND_CSA_INDEXED_MOE];
    struct cm_layer_view win = out.cm.layer_view[MODEL_KIND_CSA_WINDOW_MOE];
    double indexer = (lf.dsa_index + lf.dsa_index_bwd + lf.dsa_teacher) / 250e12 +
                     lf.dsa_index_proj / 500e12;
    cr_assert(near(idx.attn_fwd, lf.attn_core / 250e12 + indexer), "%.12g", idx.attn_fwd);
    double wgrad = lf.dsa_index_proj / 500e12; /* its projections' weight gradient */
    cr_assert(near(idx.attn_bwd - wgrad, win.attn_bwd * lf.attn_core / window.attn_core),
              "%.12g", idx.attn_bwd - wgrad);
    step_release(&out);
}

/* A copy of DeepSeek-V4-Flash without its hyper-connections, to see what they add. */
static const char *flash_without_hc(char *path, size_t len)
{
    FILE *in = fopen(MODEL("deepseek-v4-flash"), "r");
    cr_assert_not_null(in);
    snprintf(path, len, "%s/stepsim-dsv4-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    char line[4096];
    while (fgets(line, sizeof line, in))
        if (!strstr(line, "<hyper-connections"))
            fputs(line, f);
    fclose(in);
    cr_assert_eq(fclose(f), 0);
    return path;
}

/* Hyper-connections at 1 TB/s, 4096 tokens a GPU: per block the mixing reads the 4 streams
 * three times, writes the block's input and the 4 new streams and reads the block's output --
 * (8 x 4 + 4) x 4096 bytes a token against the residual add's 6 x 4096 -- two blocks a layer,
 * the backward twice that plus the three uses' gradients summed (4 x 4 x 4096 elements of 2
 * bytes a block); each layer (43 and the MTP layer) keeps per block the streams and the
 * block's output (2 x 5 x 4096 bytes a token) and 61 floats of weights; the mappings' weights
 * are parameters (2 x 393,243 a layer). */
Test(dsv4, what_hyper_connections_move_and_keep)
{
    char path[256];
    const char *plain = flash_without_hc(path, sizeof path);
    const char *const *sets =
        L("seq=4096", "microbatches=1", "gpus=8", "ep=8", "hw.hbm-bandwidth=1TBps",
          "hw.memory-efficiency=1");
    toy_step(MODEL("deepseek-v4-flash"), 8, sets, &scn, &out);
    struct cm_layer_view hc = out.cm.layer_view[MODEL_KIND_CSA_WINDOW_MOE];
    double hc_acts = out.cm.stages[0].act_bytes_mb;
    step_release(&out);
    toy_step(plain, 8, sets, &scn, &out);
    struct cm_layer_view none = out.cm.layer_view[MODEL_KIND_CSA_WINDOW_MOE];
    double none_acts = out.cm.stages[0].act_bytes_mb;
    step_release(&out);
    unlink(plain);
    double T = 4096, h = 4096;
    double fwd = 2.0 * (8.0 * 4 + 4 - 6) * T * h / 1e12;
    double sums = 2.0 * 2 * 4 * 4 * T * h / 1e12;
    cr_assert(near(hc.elem_fwd - none.elem_fwd, fwd), "%.12g", hc.elem_fwd - none.elem_fwd);
    cr_assert(near(hc.elem_bwd - none.elem_bwd, 2 * fwd + sums), "%.12g",
              hc.elem_bwd - none.elem_bwd);
    double kept = 44 * 2.0 * T * (2.0 * 5 * h + 4.0 * 61);
    cr_assert(near(hc_acts - none_acts, kept), "%.12g vs %.12g", hc_acts - none_acts, kept);
}

/* A ratio-128 layer against a window-only one at 1 TB/s, 4096 tokens a GPU: its compressor's
 * PyTorch ops move 28 bytes an element of one 512-wide projection (the position bias in fp32,
 * the softmax, the product, the sum) and write its 32 entries (2 bytes x 512 each); the
 * backward moves twice that and adds the layer input's gradient from the two linears (two adds
 * of 3 elements x 4096 of 2 bytes a token). */
Test(dsv4, a_compressor_moves_its_projections_through_pytorch_ops)
{
    const char *const *sets =
        L("seq=4096", "microbatches=1", "gpus=8", "ep=8", "hw.hbm-bandwidth=1TBps",
          "hw.memory-efficiency=1");
    toy_step(MODEL("deepseek-v4-flash"), 8, sets, &scn, &out);
    struct cm_layer_view all = out.cm.layer_view[MODEL_KIND_CSA_ALL_MOE];
    struct cm_layer_view win = out.cm.layer_view[MODEL_KIND_CSA_WINDOW_MOE];
    step_release(&out);
    double T = 4096, fwd = (28.0 * T * 512 + 2.0 * T / 128 * 512) / 1e12;
    double sums = 2.0 * 3 * T * 4096 * 2 / 1e12;
    cr_assert(near(all.elem_fwd - win.elem_fwd, fwd), "%.12g", all.elem_fwd - win.elem_fwd);
    cr_assert(near(all.elem_bwd - win.elem_bwd, 2 * fwd + sums), "%.12g",
              all.elem_bwd - win.elem_bwd);
}

Test(dsv4, rules)
{
    const char *flash = MODEL("deepseek-v4-flash");
    toy_rule_error(flash, "", L("seq=4096", "gpus=16", "ep=8", "tp=2"), "tp=1 only", &scn, &out);
    toy_rule_error(flash, "", L("seq=4096", "gpus=16", "ep=8", "cp=2"), "context parallelism",
                   &scn, &out);
    toy_rule_error(flash, "", L("seq=4096", "gpus=8", "ep=8", "attention=unfused"),
                   "attention=flash", &scn, &out);
    toy_rule_error(flash, "", L("seq=4096", "gpus=8", "ep=8", "peft=lora"), "with LoRA", &scn,
                   &out);
    toy_rule_error(flash, "",
                   L("seq=4096", "gpus=8", "ep=8", "recompute=selective",
                     "recompute-modules=core_attn"),
                   "checkpoints no core attention", &scn, &out);
}

/* ---- bad model files: each refused on the line of the element at fault ------------------- */

#define HEAD                                                                                      \
    "<?xml version=\"1.0\"?>\n<model name=\"v4\">\n"                                              \
    "  <transformer layers=\"4\" hidden=\"256\" ffn=\"512\" heads=\"4\" vocab=\"1000\" "          \
    "max-seq=\"4096\" activation=\"swiglu\" norm=\"rmsnorm\" position=\"rope\" "                 \
    "tied-embeddings=\"false\" bias=\"false\"/>\n"
#define MLA_OK                                                                                    \
    "  <mla q-lora-rank=\"64\" kv-lora-rank=\"48\" qk-nope-dim=\"48\" qk-rope-dim=\"16\" "        \
    "v-head-dim=\"64\" shared-kv=\"true\" o-groups=\"2\" o-lora-rank=\"32\"/>\n"
#define CSA(ratios, extra)                                                                        \
    "  <csa window=\"16\" ratios=\"" ratios "\"" extra "/>\n"
#define INDEX " index-heads=\"4\" index-dim=\"32\" topk=\"8\""

static void assert_bad(const char *text, int line, const char *frag)
{
    assert_model_rejected(text, line, frag);
}

Test(dsv4, bad_inputs)
{
    assert_bad(HEAD MLA_OK CSA("0,4,128", INDEX) "</model>\n", 5, "3 given, expected");
    assert_bad(HEAD MLA_OK CSA("0,1,0,0", "") "</model>\n", 5, "ratio 2 is 1");
    assert_bad(HEAD MLA_OK CSA("0,4,0,0", "") "</model>\n", 5, "index-heads: a layer of ratio 4");
    assert_bad(HEAD MLA_OK CSA("0,128,0,0", INDEX) "</model>\n", 5, "no layer has ratio 4");
    assert_bad(HEAD MLA_OK CSA("0,x,0,0", "") "</model>\n", 5, "ratios");
    assert_bad(HEAD MLA_OK CSA("0,128,64,0", "") "</model>\n", 5, "ratio 3 is 64; Megatron-Core");
    assert_bad(HEAD
               "  <mla kv-lora-rank=\"48\" qk-nope-dim=\"48\" qk-rope-dim=\"16\" "
               "v-head-dim=\"64\"/>\n" CSA("0,0,0,0", "") "</model>\n",
               5, "needs <mla shared-kv");
    assert_bad(HEAD
               "  <mla kv-lora-rank=\"48\" qk-nope-dim=\"32\" qk-rope-dim=\"16\" "
               "v-head-dim=\"64\" shared-kv=\"true\"/>\n</model>\n",
               4, "qk-nope-dim must equal kv-lora-rank");
    assert_bad(HEAD
               "  <mla kv-lora-rank=\"48\" qk-nope-dim=\"48\" qk-rope-dim=\"16\" "
               "v-head-dim=\"64\" o-groups=\"2\"/>\n</model>\n",
               4, "o-groups and o-lora-rank go together");
    assert_bad(HEAD
               "  <mla kv-lora-rank=\"48\" qk-nope-dim=\"48\" qk-rope-dim=\"16\" "
               "v-head-dim=\"64\" shared-kv=\"true\" o-groups=\"3\" o-lora-rank=\"8\"/>\n"
               "</model>\n",
               4, "o-groups=3 does not divide the heads' output");
    /* more ratios than stepsim holds (MODEL_MAX_CSA) */
    static char many[4096];
    int n = snprintf(many, sizeof many, "%s%s  <csa window=\"16\" ratios=\"", HEAD, MLA_OK);
    for (int i = 0; i < MODEL_MAX_CSA + 1; i++)
        n += snprintf(many + n, sizeof many - (size_t)n, "0,");
    snprintf(many + n - 1, sizeof many - (size_t)n + 1, "\"/>\n</model>\n");
    assert_bad(many, 5, "more than 256 ratios");
    assert_bad(HEAD MLA_OK "  <hyper-connections streams=\"1\" sinkhorn-iterations=\"20\"/>\n"
                           "</model>\n",
               5, "streams");
}
