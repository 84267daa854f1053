/* test_costmodel: configuration rules, activation memory against Korthikanti et al. 2022,
 * placement effects (TP across nodes, PP over the network), throughput definitions. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memtimeline.h"
#include "step.h"

#define MODEL(name) TOP_SRCDIR "/models/" name ".xml"
#define HW(name) TOP_SRCDIR "/hardware/" name ".xml"

static struct scenario scn;
static struct step_output out;
static struct sim_error err;

/* Defaults + model + hardware + the NULL-terminated "KEY=VALUE" list, then the whole step. */
static enum sim_status run(const char *model, const char *hw, const char *const *sets)
{
    scn_defaults(&scn);
    err_clear(&err);
    cr_assert_eq(scn_set(&scn, "model", model, NULL, 0, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(scn_set(&scn, "hardware", hw, NULL, 0, &err), SIM_OK, "%s", err.msg);
    for (const char *const *s = sets; *s; s++)
        cr_assert_eq(scn_set_arg(&scn, *s, &err), SIM_OK, "%s: %s", *s, err.msg);
    return step_run(&scn, &out, &err);
}

static void fires(const char *model, const char *hw, const char *const *sets, const char *what)
{
    cr_assert_eq(run(model, hw, sets), SIM_EINPUT, "rule did not fire: expected '%s'", what);
    cr_assert(strstr(err.msg, what) != NULL, "message '%s' lacks '%s'", err.msg, what);
}

static void passes(const char *model, const char *hw, const char *const *sets)
{
    cr_assert_eq(run(model, hw, sets), SIM_OK, "%s", err.msg);
    step_release(&out);
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define LLAMA70 MODEL("llama3.1-70b")
#define H100 HW("dgx-h100")

Test(rules, gpus_must_be_a_multiple_of_pp_times_max_tp_cp_ep_etp)
{
    fires(LLAMA70, H100, L("seq=4096", "tp=8", "pp=4", "gpus=48"), "is not a multiple of pp*max");
    passes(LLAMA70, H100, L("seq=4096", "tp=8", "pp=4", "gpus=64"));
    /* Mixtral: ep*etp = 8 > tp*cp = 2: unit 2 * 8 = 16. */
    fires(MODEL("mixtral-8x7b"), H100, L("seq=4096", "tp=2", "pp=2", "ep=8", "gpus=24"),
          "is not a multiple of pp*max");
    passes(MODEL("mixtral-8x7b"), H100, L("seq=4096", "tp=2", "pp=2", "ep=8", "gpus=32"));
}

/* The message names what would fit: gpus=416 at ep=32 leaves 13 = 416 / 32 stage slots, so
 * pp 1 or 13; pp=8 needs 8 * 32 = 256 a unit, 256 or 512 nearest 416. */
Test(rules, layout_rule_names_the_pp_values_and_gpu_counts_that_fit)
{
    fires(MODEL("mixtral-8x7b"), H100, L("seq=4096", "tp=1", "pp=8", "ep=32", "gpus=416"),
          "; pp=1 or 13 fit gpus=416; pp=8 needs gpus a multiple of 256: 256 or 512");
    /* tp*cp = 6 and ep*etp = 4: both dp integral needs a unit of lcm 12, so at gpus=48
     * pp 1, 2 or 4 (not 3, 6: 48 / 18, 48 / 36); below one unit, the unit itself */
    fires(MODEL("mixtral-8x7b"), H100, L("seq=4096", "tp=2", "cp=3", "pp=3", "ep=4", "gpus=48"),
          "; pp=1, 2 or 4 fit gpus=48; pp=3 needs gpus a multiple of 36: 36 or 72");
    fires(LLAMA70, H100, L("seq=4096", "tp=8", "pp=4", "gpus=12"),
          "; no pp fits gpus=12 at these tp, cp, ep and etp; pp=4 needs gpus a multiple of 32: "
          "32");
    fires(LLAMA70, H100, L("seq=4096", "tp=8", "pp=3", "gpus=4096"),
          "; pp=1, 2, 4, 8, 16, 32, 64, 128, ... fit gpus=4096; pp=3 needs gpus a multiple of 24: "
          "4080 or 4104");
}

Test(rules, global_batch_divisible_by_micro_batch_times_dp)
{
    fires(LLAMA70, H100, L("seq=4096", "tp=8", "pp=4", "gpus=128", "global-batch=10"),
          "is not divisible by micro-batch*dp = 1*4");
    passes(LLAMA70, H100, L("seq=4096", "tp=8", "pp=4", "gpus=128", "global-batch=16"));
    cr_assert_eq(run(LLAMA70, H100,
                     L("seq=4096", "tp=8", "pp=4", "gpus=128", "global-batch=32", "micro-batch=2")),
                 SIM_OK, "%s", err.msg);
    cr_assert_eq(scn.microbatches, 4, "32 samples / (2 per micro-batch x dp 4)");
    step_release(&out);
    fires(LLAMA70, H100,
          L("seq=4096", "tp=8", "pp=4", "gpus=128", "global-batch=32", "microbatches=3"),
          "--set microbatches=3 contradicts --set global-batch=32");
}

Test(rules, layers_split_over_pp_times_vp)
{
    fires(LLAMA70, H100, L("seq=4096", "tp=8", "pp=3", "gpus=24"), "not divisible by pp*vp");
    fires(
        LLAMA70, H100,
        L("seq=4096", "tp=8", "pp=4", "vp=3", "schedule=interleaved", "gpus=32", "microbatches=4"),
        "not divisible by pp*vp");
    passes(
        LLAMA70, H100,
        L("seq=4096", "tp=8", "pp=4", "vp=5", "schedule=interleaved", "gpus=32", "microbatches=4"));
    fires(LLAMA70, H100, L("seq=4096", "tp=8", "layers=40"), "differs from the model's 80");
}

Test(rules, heads_and_kv_heads_divisible_by_tp)
{
    fires(LLAMA70, H100, L("seq=4096", "tp=3", "gpus=3"), "heads=64 of");
    fires(LLAMA70, H100, L("seq=4096", "tp=16", "gpus=16"), "kv-heads=8 of");
    passes(LLAMA70, H100, L("seq=4096", "tp=8", "gpus=8", "pp=1"));
}

Test(rules, experts_divisible_by_ep_and_ep_only_for_moe)
{
    fires(MODEL("mixtral-8x7b"), H100, L("seq=4096", "ep=3", "gpus=3"), "experts=8 of");
    passes(MODEL("mixtral-8x7b"), H100, L("seq=4096", "ep=4", "gpus=4"));
    fires(LLAMA70, H100, L("seq=4096", "tp=8", "ep=2", "gpus=16"), "has no experts");
}

Test(rules, sequence_parallel_needs_tp_and_cp_needs_even_chunks)
{
    fires(MODEL("llama3.1-8b"), H100, L("seq=4096", "sp=true"), "sp=true needs tp > 1");
    passes(MODEL("llama3.1-8b"), H100, L("seq=4096", "sp=true", "tp=2", "gpus=2"));
    fires(MODEL("llama3.1-8b"), H100, L("seq=4100", "cp=4", "gpus=4"), "not divisible by 2*cp=8");
    passes(MODEL("llama3.1-8b"), H100, L("seq=4096", "cp=4", "gpus=4"));
}

Test(rules, model_needs_hardware_seq_a_known_dtype_and_no_explicit_costs)
{
    fires(LLAMA70, H100, L("tp=8", "gpus=8"), "needs seq");
    fires(LLAMA70, H100, L("seq=4096", "tp=8", "gpus=8", "forward=1ms"),
          "forward is an explicit cost");
    fires(LLAMA70, HW("dgx-a100-80gb"), L("seq=4096", "tp=8", "gpus=8", "dtype=fp8"),
          "has no fp8 peak");
    passes(LLAMA70, H100, L("seq=4096", "tp=8", "gpus=8", "dtype=fp8"));
    /* MXFP8 on Blackwell only, as Transformer Engine checks the compute capability */
    fires(LLAMA70, H100, L("seq=4096", "tp=8", "gpus=8", "dtype=fp8", "fp8-recipe=mxfp8"),
          "fp8-recipe=mxfp8: MXFP8 GEMMs run on Blackwell (sm100); H100 SXM5 80GB is not one");
    passes(LLAMA70, HW("dgx-b200"), L("seq=4096", "tp=8", "gpus=8", "dtype=fp8",
                                      "fp8-recipe=mxfp8"));
    scn_defaults(&scn);
    cr_assert_eq(scn_set(&scn, "model", LLAMA70, NULL, 0, &err), SIM_OK);
    scn_set_arg(&scn, "seq=4096", &err);
    cr_assert_eq(step_run(&scn, &out, &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "needs hardware=") != NULL, "%s", err.msg);
}

Test(rules, data_and_expert_data_parallel_sizes_are_derived)
{
    cr_assert_eq(run(MODEL("mixtral-8x7b"), H100,
                     L("seq=4096", "tp=2", "pp=2", "ep=8", "gpus=64", "global-batch=64")),
                 SIM_OK, "%s", err.msg);
    cr_assert_eq(out.cm.cfg.dp, 16, "64 / (tp 2 * pp 2)");
    cr_assert_eq(out.cm.cfg.edp, 4, "64 / (pp 2 * ep 8 * etp 1)");
    cr_assert_eq(out.cm.cfg.microbatches, 4);
    step_release(&out);
}

/* The usable HBM is the capacity less the fixed reserve and NCCL's buffers for each parallel
 * group of more than one GPU a rank communicates in (dgx-h100: 0.6 GiB and 0.6 GiB each).
 * Hand counts: tp 8 x pp 4 x dp 8 -- tensor, pipeline, data: 3; tp 1 x cp 2 x dp 4 --
 * context and data-with-context: 2; one GPU: none; Mixtral tp 2 x pp 2 x ep 8 x etp 2 on 64
 * GPUs -- tensor, pipeline, data (16), expert (8), expert tensor (2), expert data
 * (64 / (2 x 8 x 2) = 2): 6; hybrid sharding over 64 GPUs in shards of 8: the shard group and
 * the replica group, 2 (shards of 64: the one group; of 1: the replica group alone); cp 8 x dp
 * 8 with hierarchical CP in all-to-all groups of 2: those groups and the ring of 4 between
 * them in place of the flat CP group, with dp x cp's, 3 (groups of 8: no ring, 2).  Without
 * nccl-buffers the fixed reserve is all of it. */
static void expect_usable(const char *model, const char *const *sets, int groups)
{
    const double gib = 1073741824.0;
    cr_assert_eq(run(model, H100, sets), SIM_OK, "%s", err.msg);
    cr_expect_eq(out.cm.cfg.communicators, groups, "%s", sets[0]);
    cr_expect_float_eq(out.rep.hbm_usable_bytes, (80.0 - 0.6 - 0.6 * groups) * gib, 1e3,
                       "%d groups: %.3f GiB usable", groups, out.rep.hbm_usable_bytes / gib);
    step_release(&out);
}

Test(memory, nccl_buffers_are_reserved_per_communicator)
{
    expect_usable(LLAMA70, L("seq=4096", "tp=8", "pp=4", "gpus=256", "global-batch=64"), 3);
    expect_usable(MODEL("llama3.1-8b"),
                  L("seq=8192", "tp=1", "cp=2", "pp=1", "gpus=8", "global-batch=32"), 2);
    expect_usable(MODEL("llama3.1-8b"),
                  L("seq=2048", "tp=1", "pp=1", "gpus=1", "global-batch=8"), 0);
    expect_usable(MODEL("mixtral-8x7b"),
                  L("seq=4096", "tp=2", "pp=2", "ep=8", "etp=2", "gpus=64", "global-batch=64"),
                  6);
    expect_usable(MODEL("llama3.1-8b"),
                  L("seq=2048", "gpus=64", "global-batch=64", "fsdp=hybrid-shard", "fsdp-group=8"),
                  2);
    expect_usable(MODEL("llama3.1-8b"),
                  L("seq=2048", "gpus=64", "global-batch=64", "fsdp=hybrid-shard", "fsdp-group=64"),
                  1);
    expect_usable(MODEL("llama3.1-8b"),
                  L("seq=2048", "gpus=64", "global-batch=64", "fsdp=hybrid-shard", "fsdp-group=1"),
                  1);
    expect_usable(MODEL("llama3.1-8b"),
                  L("seq=8192", "cp=8", "gpus=64", "global-batch=8", "cp-comm-type=a2a+p2p",
                    "hierarchical-cp=2"),
                  3);
    expect_usable(MODEL("llama3.1-8b"),
                  L("seq=8192", "cp=8", "gpus=64", "global-batch=8", "cp-comm-type=a2a+p2p",
                    "hierarchical-cp=8"),
                  2);
    /* a file without nccl-buffers keeps its reserve whole */
    cr_assert_eq(run(LLAMA70, H100,
                     L("seq=4096", "tp=8", "pp=4", "gpus=256", "global-batch=64",
                       "hw.nccl-buffers=0B", "hw.hbm-reserve=3GiB")),
                 SIM_OK, "%s", err.msg);
    cr_expect_float_eq(out.rep.hbm_usable_bytes, 77.0 * 1073741824.0, 1e3);
    step_release(&out);
    /* buffers beyond the HBM leave nothing usable (not a negative amount): every rank is out */
    cr_assert_eq(run(LLAMA70, H100,
                     L("seq=4096", "tp=8", "pp=4", "gpus=256", "global-batch=64",
                       "hw.nccl-buffers=30GiB")),
                 SIM_OK, "%s", err.msg);
    cr_expect_eq(out.rep.hbm_usable_bytes, 0.0);
    cr_expect(out.rep.mem[0].oom);
    step_release(&out);
}

/* The step's resolved config, after checking that its usable HBM is dgx-h100's 80 GiB less the
 * 0.6 GiB reserve, 0.6 GiB of NCCL buffers per communicator and the libraries' buffers. */
static struct cm_config usable_config(const char *model, const char *const *sets)
{
    cr_assert_eq(run(model, H100, sets), SIM_OK, "%s", err.msg);
    struct cm_config cfg = out.cm.cfg;
    double expected = (80.0 - 0.6 - 0.6 * cfg.communicators) * 1073741824.0 -
                      cfg.deepep_buffer_bytes - cfg.userbuffer_bytes;
    cr_expect_float_eq(out.rep.hbm_usable_bytes, expected, 1e3);
    step_release(&out);
    return cfg;
}

#define QWEN3_MOE MODEL("qwen3-30b-a3b")

/* DeepEP's buffer, as Megatron-Core sizes it (the larger of DeepEP's dispatch and combine size
 * hints, csrc/config.hpp and deep_ep/buffer.py at v1.2.1), by hand for Qwen3-30B-A3B (hidden
 * 2048: 4096 bytes a token, plus 2056 of source meta, top-k indices and weights and scales) on
 * 20 SMs = 10 channels:
 *   ep 8, one node: NVLink part only, 10 x 8 x (4 x 5 + 256 x 6152) = 125,994,560, rounded up
 *     to 128 bytes 125,994,624;
 *   ep 64, 8 nodes: NVLink 10 x 8 x (4 x 19 + 288 x 6152) = 141,748,160 -> 141,748,224, RDMA
 *     10 x 8 x 2 x (4 x 18 + 140 x (6152 + 16)) = 138,174,720; 279,922,944 in all.
 * The NCCL all-to-all has none, and the usable HBM is less by the buffer. */
Test(memory, deepep_buffer_as_deepep_sizes_it)
{
    struct cm_config one_node = usable_config(
        QWEN3_MOE, L("seq=4096", "ep=8", "gpus=8", "global-batch=64", "moe-dispatcher=deepep"));
    cr_expect_eq(one_node.deepep_buffer_bytes, 125994624.0);
    struct cm_config eight_nodes = usable_config(
        QWEN3_MOE, L("seq=4096", "ep=64", "gpus=64", "global-batch=64", "moe-dispatcher=deepep"));
    cr_expect_eq(eight_nodes.deepep_buffer_bytes, 279922944.0);
    struct cm_config nccl = usable_config(
        QWEN3_MOE, L("seq=4096", "ep=64", "gpus=64", "global-batch=64", "moe-dispatcher=alltoall"));
    cr_expect_eq(nccl.deepep_buffer_bytes, 0.0);
}

/* Transformer Engine's userbuffers, by hand for Llama 3.1 70B at seq 4096, micro-batch 1, tp 8:
 * twelve buffers of 4096 x 8192 elements.  bf16: 12 x 2 bytes x 33,554,432 = 805,306,368;
 * fp8: the 8 all-gather buffers in 1 byte and the 4 reduce-scatter ones in 2, 16 bytes an
 * element, 536,870,912; fp8 with bf16 edge layers adds a bf16 set, 1,342,177,280.  None
 * without overlap-tp-comm, and none for torchtitan (torch's own async TP). */
static double userbuffer_bytes(const char *dtype, const char *overlap, const char *extra,
                               const char *recipe)
{
    return usable_config(LLAMA70, L("seq=4096", "tp=8", "pp=4", "gpus=256", "global-batch=64",
                                    dtype, overlap, extra, recipe))
        .userbuffer_bytes;
}

Test(memory, tp_overlap_userbuffers_as_transformer_engine_allocates_them)
{
    const char *on = "overlap-tp-comm=true", *off = "overlap-tp-comm=false";
    cr_expect_eq(userbuffer_bytes("dtype=bf16", on, "sp=true", "seed=1"), 805306368.0);
    cr_expect_eq(userbuffer_bytes("dtype=fp8", on, "sp=true", "fp8-recipe=current"),
                 536870912.0);
    cr_expect_eq(userbuffer_bytes("dtype=fp8", on, "bf16-first-layers=1", "fp8-recipe=current"),
                 1342177280.0);
    cr_expect_eq(userbuffer_bytes("dtype=bf16", off, "sp=true", "seed=1"), 0.0);
    cr_expect_eq(userbuffer_bytes("dtype=bf16", on, "framework=torchtitan", "seed=1"), 0.0);
}

/* Korthikanti et al. 2022, eq. (1)-(6): activation bytes per layer of GPT-3 175B (s=2048,
 * h=12288, a=96), micro-batch 1, t=8.  No recompute, no SP: sbh(10 + 24/t + 5as/(ht));
 * SP: sbh(34/t + 5as/(ht)); selective + SP: 34 sbh/t; full recompute: 2sbh (SP: 2sbh/t).
 * `dtype`: "dtype=fp16" (Korthikanti's), or another run type. */
static double layer_act_as(const char *dtype, const char *recompute, const char *sp,
                           const char *attention)
{
    char r[64], s[64], a[64];
    snprintf(r, sizeof r, "recompute=%s", recompute);
    snprintf(s, sizeof s, "sp=%s", sp);
    snprintf(a, sizeof a, "attention=%s", attention);
    cr_assert_eq(run(MODEL("gpt3-175b"), HW("dgx-a100-80gb"),
                     L("seq=2048", "tp=8", "pp=8", "gpus=64", "microbatches=8", "dropout=true",
                       dtype, r, s, a)),
                 SIM_OK, "%s", err.msg);
    const struct cm_stage *mid = &out.cm.stages[3]; /* no embedding, no head */
    double per_layer = mid->act_bytes_mb / mid->layers;
    step_release(&out);
    return per_layer;
}

static double layer_act(const char *recompute, const char *sp, const char *attention)
{
    return layer_act_as("dtype=fp16", recompute, sp, attention);
}

Test(memory, activations_match_korthikanti_et_al_2022)
{
    double s = 2048, b = 1, h = 12288, a = 96, t = 8, sbh = s * b * h;
    cr_assert_float_eq(layer_act("none", "false", "unfused"),
                       sbh * (10 + 24 / t + 5 * a * s / (h * t)), 1e-6 * sbh);
    cr_assert_float_eq(layer_act("none", "true", "unfused"), sbh * (34 / t + 5 * a * s / (h * t)),
                       1e-6 * sbh);
    cr_assert_float_eq(layer_act("selective", "true", "unfused"), sbh * 34 / t, 1e-6 * sbh);
    cr_assert_float_eq(layer_act("full", "false", "unfused"), 2 * sbh, 1e-6 * sbh);
    cr_assert_float_eq(layer_act("full", "true", "unfused"), 2 * sbh / t, 1e-6 * sbh);
    /* Flash attention keeps no s x s scores: the same as selective recompute. */
    cr_assert_float_eq(layer_act("none", "true", "flash"), sbh * 34 / t, 1e-6 * sbh);
}

/* An fp32 run keeps every activation in 4 bytes but the 1-byte dropout masks (Megatron without
 * --fp16 / --bf16 casts nothing); tf32 is a matmul mode on the same fp32 tensors.  Of
 * Korthikanti's SP figure sbh(34/t + 5as/(ht)) the masks are 2 sbh/t (the two hidden dropouts)
 * and as^2b/t (the attention dropout's), so fp32 keeps sbh(2 x 32/t + 2/t) + as^2b(2 x 4/t +
 * 1/t) = sbh(66/t + 9as/(ht)); flash attention sbh 66/t. */
Test(memory, fp32_and_tf32_activations_twice_fp16s_but_the_dropout_masks)
{
    double s = 2048, b = 1, h = 12288, a = 96, t = 8, sbh = s * b * h;
    const char *dtypes[] = {"dtype=fp32", "dtype=tf32"};
    for (int i = 0; i < 2; i++) {
        cr_assert_float_eq(layer_act_as(dtypes[i], "none", "true", "unfused"),
                           sbh * (66 / t + 9 * a * s / (h * t)), 1e-6 * sbh, "%s", dtypes[i]);
        cr_assert_float_eq(layer_act_as(dtypes[i], "none", "true", "flash"), sbh * 66 / t,
                           1e-6 * sbh, "%s", dtypes[i]);
        cr_assert_float_eq(layer_act_as(dtypes[i], "full", "true", "unfused"), 4 * sbh / t,
                           1e-6 * sbh, "%s: full recompute keeps the fp32 layer input",
                           dtypes[i]);
    }
}

Test(memory, weights_grads_and_sharded_optimizer_per_gpu)
{
    cr_assert_eq(run(LLAMA70, H100,
                     L("seq=4096", "tp=8", "pp=4", "gpus=256", "global-batch=64",
                       "distributed-optimizer=true")),
                 SIM_OK, "%s", err.msg);
    double params = 0;
    for (int s = 0; s < 4; s++)
        params += out.cm.stages[s].params;
    /* Sharded over tp 8: the whole model's 70.55B parameters / 8. */
    cr_assert_float_eq(params, 70.554e9 / 8, 0.01e9);
    const struct cm_rank_memory *m = &out.rep.mem[1];
    double p1 = out.cm.stages[1].params;
    cr_assert_float_eq(m->weights, 2 * p1, 1);
    cr_assert_float_eq(m->grads, 2 * p1, 1, "bf16 gradients by default");
    cr_assert_float_eq(m->optimizer, 12 * p1 / 8, 1, "fp32 master + 2 moments over dp 8");
    cr_assert_float_eq(m->activations, m->act_per_mb * out.res.peak_inflight[1], 1);
    cr_assert(!m->oom);
    step_release(&out);
}

/* A stage that uses the word embedding on a pipeline rank without the embedding's stage holds
 * a copy of its own: a tied model's head (Megatron-Core's output layer allocates its weight
 * unless its chunk embeds: gpt_model.py, skip_weight_param_allocation, at d98e8a6) and the MTP
 * modules' stage (they look tokens up: the embedding is built where mtp_process).  A rank that
 * holds the embedding's stage too holds no second one. */
Test(memory, a_stage_using_the_embedding_away_from_it_holds_a_copy)
{
    /* gpt-sc21-1.7b: tied, 24 layers, vocabulary 51200 x hidden 2304, learned positions */
    const char *gpt = MODEL("gpt-sc21-1.7b"), *a100 = HW("dgx-a100-80gb");
    cr_assert_eq(run(gpt, a100, L("seq=2048", "tp=1", "pp=2", "gpus=2", "microbatches=4")),
                 SIM_OK, "%s", err.msg);
    const struct model *m = &out.cm.model;
    double layers = 0;
    for (int l = 12; l < 24; l++)
        layers += model_params_layer(m, l);
    double word = 51200.0 * 2304.0;
    cr_assert_float_eq(out.cm.stages[1].params, layers + model_params_final_norm(m) + word, 1,
                       "the head's stage: its 12 layers, the final norm and the copy");
    step_release(&out);
    /* interleaved, pp 2 x vp 2: rank 1 holds stages 1 and 3 (the head); rank 0 stages 0 and 2 */
    cr_assert_eq(run(gpt, a100, L("seq=2048", "tp=1", "pp=2", "vp=2", "gpus=2", "microbatches=4")),
                 SIM_OK, "%s", err.msg);
    layers = 0;
    for (int l = 18; l < 24; l++)
        layers += model_params_layer(m, l);
    cr_assert_float_eq(out.cm.stages[3].params, layers + model_params_final_norm(m) + word, 1);
    step_release(&out);
    /* one stage holds both ends: no copy */
    cr_assert_eq(run(gpt, a100, L("seq=2048", "tp=1", "pp=1", "gpus=1", "microbatches=4")),
                 SIM_OK, "%s", err.msg);
    cr_assert_float_eq(out.cm.stages[0].params, model_params_total(m), 1);
    step_release(&out);
    /* Llama-3.1-8B (untied: its head is its own) with one MTP module, tp 2: over pp 2 the
     * stages hold the pp-1 model and the MTP module plus a copy of the 128256 x 4096 embedding */
    const char *const two[] = {"seq=4096", "tp=2", "pp=2", "gpus=4", "microbatches=4",
                               "mtp-layers=1", NULL};
    const char *const one[] = {"seq=4096", "tp=2", "pp=1", "gpus=2", "microbatches=4",
                               "mtp-layers=1", NULL};
    cr_assert_eq(run(MODEL("llama3.1-8b"), HW("dgx-h100"), two), SIM_OK, "%s", err.msg);
    double split = out.cm.stages[0].params + out.cm.stages[1].params;
    step_release(&out);
    cr_assert_eq(run(MODEL("llama3.1-8b"), HW("dgx-h100"), one), SIM_OK, "%s", err.msg);
    cr_assert_float_eq(split - out.cm.stages[0].params, 128256.0 * 4096 / 2, 1);
    step_release(&out);
}

/* fp32 training keeps no master copy: the parameters are fp32 themselves and the optimizer
 * updates them in place (Megatron's DistributedOptimizer shards an fp32 parameter as a view of
 * it, FP32Optimizer copies nothing), so Adam adds its two fp32 moments: 4 + 4 + 8 = 16 bytes a
 * parameter, where mixed precision keeps 2 + 2 + 12.  The update reads the gradient (4), reads
 * and writes the weights (2 x 4) and both moments (2 x 8): 28 bytes a parameter of its shard. */
Test(memory, fp32_and_tf32_keep_fp32_weights_grads_and_two_moments_no_master)
{
    const char *dtypes[] = {"dtype=fp32", "dtype=tf32"};
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(run(LLAMA70, H100,
                         L("seq=4096", "tp=8", "pp=4", "gpus=256", "global-batch=64",
                           "distributed-optimizer=true", dtypes[i])),
                     SIM_OK, "%s", err.msg);
        const struct cm_rank_memory *m = &out.rep.mem[1];
        double p1 = out.cm.stages[1].params;
        cr_assert_float_eq(m->weights, 4 * p1, 1, "%s: fp32 weights", dtypes[i]);
        cr_assert_float_eq(m->grads, 4 * p1, 1, "%s: fp32 gradients", dtypes[i]);
        cr_assert_float_eq(m->optimizer, 8 * p1 / 8, 1, "%s: two fp32 moments over dp 8",
                           dtypes[i]);
        const struct hw_gpu *gpu = &out.cm.hw->gpu;
        double update_s = 28 * p1 / 8 / (gpu->hbm_bw_Bps * gpu->mem_eff);
        cr_assert_float_eq(out.cm.rank_opt_s[1], update_s, 1e-9 * update_s,
                           "%s: 28 bytes a parameter of the shard", dtypes[i]);
        step_release(&out);
    }
    cr_assert_eq(run(LLAMA70, H100,
                     L("seq=4096", "tp=8", "pp=4", "gpus=256", "global-batch=64",
                       "distributed-optimizer=false", "dtype=fp32")),
                 SIM_OK, "%s", err.msg);
    const struct cm_rank_memory *m = &out.rep.mem[1];
    double p1 = out.cm.stages[1].params;
    cr_assert_float_eq(m->optimizer, 8 * p1, 1, "replicated: FP32Optimizer's two moments");
    cr_assert_float_eq(m->weights + m->grads + m->optimizer, 16 * p1, 1, "16 bytes a parameter");
    step_release(&out);
}

/* The same layout in bf16 and fp32: each pipeline send and each stage's activations without
 * the head's loss twice as large (flash attention, no dropout: no 1-byte masks). */
Test(memory, fp32_activations_and_p2p_sends_twice_bf16s)
{
    const char *const sets[] = {"seq=4096", "tp=8", "pp=4", "gpus=256", "global-batch=64",
                                "distributed-optimizer=true", "sp=true", "attention=flash",
                                NULL, NULL};
    const char *dtypes[] = {"dtype=bf16", "dtype=fp32"};
    double p2p[2], mid[2], rank1[2];
    for (int i = 0; i < 2; i++) {
        const char *s[10];
        memcpy(s, sets, sizeof s);
        s[8] = dtypes[i];
        cr_assert_eq(run(LLAMA70, H100, s), SIM_OK, "%s", err.msg);
        p2p[i] = out.cm.p2p_bytes;
        mid[i] = out.cm.stages[1].act_bytes_mb;
        rank1[i] = out.rep.mem[1].activations;
        step_release(&out);
    }
    /* [s, b, h] sliced over tp 8 under SP: 4096 x 8192 / 8 elements */
    cr_assert_float_eq(p2p[0], 2.0 * 4096 * 8192 / 8, 1e-9);
    cr_assert_float_eq(p2p[1], 4.0 * 4096 * 8192 / 8, 1e-9, "fp32 sends 4 bytes an element");
    cr_assert_float_eq(mid[1], 2 * mid[0], 1e-9 * mid[0]);
    cr_assert_float_eq(rank1[1], 2 * rank1[0], 1e-9 * rank1[0]);
}

/* The group size of a <collective> element on the line [line, next), or 0 for any other
 * line. */
static long collective_gpus(const char *line, const char *next)
{
    const char *g = strstr(line, "<collective ");
    g = g && g < next ? strstr(g, "gpus=\"") : NULL;
    if (!g || g >= next)
        return 0;
    char *end;
    long n = strtol(g + strlen("gpus=\""), &end, 10);
    cr_assert(end != g + strlen("gpus=\"") && *end == '"', "unreadable gpus in %.60s", g);
    return n;
}

/* A copy of a shipped hardware file with its NVLink domain resized (the measured collectives
 * of groups larger than the new node dropped). */
static const char *hardware_with_node(const char *src, int gpus, char *path, size_t len)
{
    FILE *in = fopen(src, "r");
    cr_assert_not_null(in);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, in);
    fclose(in);
    buf[n] = '\0';
    char *at = strstr(buf, "<node gpus=\"");
    cr_assert_not_null(at);
    at += strlen("<node gpus=\"");
    char *end = strchr(at, '"');
    snprintf(path, len, "/tmp/stepsim-test-hw-%d-%ld.xml", gpus, (long)getpid());
    FILE *o = fopen(path, "w");
    cr_assert_not_null(o);
    fprintf(o, "%.*s%d", (int)(at - buf), buf, gpus);
    /* the rest, without the measured collectives of groups larger than the new node */
    for (char *line = end; *line;) {
        char *next = strchr(line, '\n');
        next = next ? next + 1 : line + strlen(line);
        if (collective_gpus(line, next) <= gpus)
            fprintf(o, "%.*s", (int)(next - line), line);
        line = next;
    }
    fclose(o);
    return path;
}

/* TP 16 inside one 16-GPU NVLink domain, then over two 8-GPU nodes: NCCL's rings share the
 * crossing out over the node's eight NICs (8 x 45 GB/s, NVLink's 360 GB/s here), and of a
 * ring's 15 steps only the one that enters the next node pays the network's latency (NCCL's
 * tuner: nccl_model.h), so the collectives, in line here, take a little longer -- under 5% --
 * and the step with them.  (Until 2026-12-06 stepsim charged every step of a ring spanning
 * nodes the network's latency, and this step came out a fifth slower.) */
Test(placement, tensor_parallelism_across_nodes_is_slower)
{
    char wide[256];
    hardware_with_node(H100, 16, wide, sizeof wide);
    const char *const cfg[] = {"seq=2048",        "tp=16",   "pp=2", "gpus=32",
                               "global-batch=16", "sp=true", NULL};
    cr_assert_eq(run(MODEL("gpt3-175b"), wide, cfg), SIM_OK, "%s", err.msg);
    double inside = out.rep.step_s, tp_inside = out.rep.brk.tp;
    cr_assert(!out.rep.tp_spans_nodes);
    step_release(&out);
    cr_assert_eq(run(MODEL("gpt3-175b"), H100, cfg), SIM_OK, "%s", err.msg);
    cr_assert(out.rep.tp_spans_nodes, "tp=16 on 8-GPU nodes is flagged");
    cr_assert_gt(out.rep.step_s, inside, "TP over the network: %g s vs %g s", out.rep.step_s,
                 inside);
    cr_assert_gt(out.rep.brk.tp, tp_inside, "%g vs %g", out.rep.brk.tp, tp_inside);
    cr_assert_lt(out.rep.brk.tp, 1.05 * tp_inside, "one network step a ring: %g vs %g",
                 out.rep.brk.tp, tp_inside);
    step_release(&out);
    unlink(wide);
}

Test(placement, pipeline_over_the_network_costs_more_than_inside_a_node)
{
    char narrow[256];
    hardware_with_node(H100, 2, narrow, sizeof narrow);
    /* tp 2, pp 4, dp 1: neighbouring stages are 2 ranks apart -- inside an 8-GPU node, across
     * the network on 2-GPU nodes. */
    const char *const cfg[] = {"seq=4096",       "tp=2",    "pp=4", "gpus=8",
                               "microbatches=8", "sp=true", NULL};
    cr_assert_eq(run(MODEL("llama3.1-8b"), H100, cfg), SIM_OK, "%s", err.msg);
    cr_assert(groups_pp_next_in_node(&out.cm.groups, 0), "stage 0 -> 1 inside the node");
    double inside = out.rep.step_s, pp_inside = out.rep.brk.pp;
    step_release(&out);
    cr_assert_eq(run(MODEL("llama3.1-8b"), narrow, cfg), SIM_OK, "%s", err.msg);
    cr_assert(!groups_pp_next_in_node(&out.cm.groups, 0), "stage 0 -> 1 across the network");
    cr_assert_gt(out.rep.step_s, inside);
    cr_assert_gt(out.rep.brk.pp, pp_inside);
    step_release(&out);
    unlink(narrow);
}

/* rank-order: tp 2, pp 2, dp 4 on 8-GPU nodes.  Megatron's default numbering puts a stage's
 * four data-parallel peers next to each other (stride 2: one node) and the second stage 8
 * ranks on (the other node); tp-cp-ep-pp-dp puts each replica's two stages next to each other
 * (stride 2: one node) and the data-parallel peers 4 apart (two per node).  So the pipeline
 * link moves inside the node and the gradient reduction onto the network. */
Test(placement, rank_order_decides_which_groups_share_a_node)
{
    const char *const dp_pp[] = {"seq=4096", "tp=2", "pp=2", "gpus=16", "microbatches=8",
                                 "sp=true", NULL};
    const char *const pp_dp[] = {"seq=4096", "tp=2",           "pp=2",    "gpus=16",
                                 "microbatches=8", "sp=true", "rank-order=tp-cp-ep-pp-dp", NULL};
    cr_assert_eq(run(MODEL("llama3.1-8b"), H100, dp_pp), SIM_OK, "%s", err.msg);
    cr_assert(!groups_pp_next_in_node(&out.cm.groups, 0),
              "default: stage 0 -> 1 across the network");
    double reduce_inside = out.cm.stages[0].dp_sync_s;
    step_release(&out);
    cr_assert_eq(run(MODEL("llama3.1-8b"), H100, pp_dp), SIM_OK, "%s", err.msg);
    cr_assert(groups_pp_next_in_node(&out.cm.groups, 0),
              "tp-cp-ep-pp-dp: stage 0 -> 1 inside the node");
    cr_assert_gt(out.cm.stages[0].dp_sync_s, 1.5 * reduce_inside, "%g vs %g",
                 out.cm.stages[0].dp_sync_s, reduce_inside);
    step_release(&out);
}

Test(throughput, mfu_hfu_and_breakdown_are_consistent)
{
    cr_assert_eq(run(MODEL("gpt3-175b"), HW("dgx-a100-80gb"),
                     L("seq=2048", "tp=8", "pp=8", "gpus=512", "global-batch=512", "recompute=full",
                       "dtype=fp16")),
                 SIM_OK, "%s", err.msg);
    const struct report *r = &out.rep;
    double peak = 312e12;
    cr_assert_float_eq(r->mfu, r->model_flops / (r->step_s * r->gpus * peak), 1e-12);
    cr_assert_gt(r->hfu, r->mfu, "full recompute adds hardware FLOPs");
    /* 3 x forward vs 4 x forward of the layers: HFU/MFU just under 4/3 (the head is not
     * recomputed). */
    cr_assert(r->hfu / r->mfu > 1.3 && r->hfu / r->mfu < 4.0 / 3.0);
    const struct report_breakdown *b = &r->brk;
    double sum = b->compute + b->recompute + b->tp + b->cp + b->ep + b->pp + b->bubble + b->dp +
                 b->optimizer;
    cr_assert_float_eq(sum, r->step_s, 1e-9 * r->step_s, "the breakdown sums to the step");
    cr_assert_gt(b->recompute, 0.2 * b->compute);
    cr_assert_float_eq(r->tokens_per_s, 512.0 * 2048 / r->step_s, 1e-6);
    step_release(&out);
}

Test(rules, uneven_first_and_last_stages)
{
    /* 126 layers over 32 virtual stages: 3 + 30 x 4 + 3 (Llama 3 405B). */
    const char *const ok[] = {"seq=8192",
                              "tp=8",
                              "pp=16",
                              "vp=2",
                              "schedule=interleaved",
                              "gpus=128",
                              "microbatches=16",
                              "first-stage-layers=3",
                              "last-stage-layers=3",
                              NULL};
    cr_assert_eq(run(MODEL("llama3.1-405b"), H100, ok), SIM_OK, "%s", err.msg);
    cr_assert_eq(out.cm.stages[0].layers, 3);
    cr_assert_eq(out.cm.stages[1].first_layer, 3);
    cr_assert_eq(out.cm.stages[1].layers, 4);
    cr_assert_eq(out.cm.stages[31].first_layer, 123);
    cr_assert_eq(out.cm.stages[31].layers, 3);
    cr_assert_lt(out.setup.stage_fwd[0], out.setup.stage_fwd[1], "3 layers cost less than 4");
    step_release(&out);
    fires(MODEL("llama3.1-405b"), H100, L("seq=8192", "tp=8", "pp=16", "gpus=128"),
          "not divisible by pp*vp=16");
    fires(MODEL("llama3.1-405b"), H100,
          L("seq=8192", "tp=8", "pp=16", "gpus=128", "first-stage-layers=4"), "must split evenly");
}

/* DualPipe on an MoE model: each rank holds two parts (its own and its mirror's), so its
 * weights are the two matching 1F1B stages' together, while its optimizer state (distributed
 * over the replicas of both copies) is their mean; the overlapped pairs hide expert-parallel
 * all-to-all, the step beats 1F1B's, and the breakdown still sums to the step. */
#define MIXTRAL_EP8                                                                                \
    "seq=4096", "tp=1", "ep=8", "pp=4", "gpus=64", "global-batch=256", "distributed-optimizer=true"

Test(dualpipe, two_parts_per_rank_and_hidden_all_to_all)
{
    cr_assert_eq(run(MODEL("mixtral-8x7b"), H100, L(MIXTRAL_EP8)), SIM_OK, "%s", err.msg);
    struct cm_rank_memory one[4];
    for (int r = 0; r < 4; r++)
        one[r] = out.rep.mem[r];
    double step_1f1b = out.rep.step_s, ep_1f1b = out.rep.brk.ep, flops = out.rep.model_flops;
    double dp_sync_1f1b = out.cm.stages[1].dp_sync_s;
    step_release(&out);

    scn_defaults(&scn);
    cr_assert_eq(run(MODEL("mixtral-8x7b"), H100, L(MIXTRAL_EP8, "schedule=dualpipe", "vp=2")),
                 SIM_OK, "%s", err.msg);
    const struct report *r = &out.rep;
    for (int k = 0; k < 4; k++) {
        const struct cm_rank_memory *m = &r->mem[k];
        cr_assert_float_eq(m->weights, one[k].weights + one[3 - k].weights, 1e-6 * m->weights);
        cr_assert_float_eq(m->optimizer, (one[k].optimizer + one[3 - k].optimizer) / 2,
                           1e-6 * m->optimizer);
        cr_assert_eq(out.res.peak_inflight[k], 5, "pp+1 activations");
    }
    /* stages s and pp+s hold one part: the same layers, costs and embedding/head */
    for (int s = 0; s < 4; s++) {
        cr_assert_eq(out.cm.stages[s].first_layer, out.cm.stages[4 + s].first_layer);
        cr_assert_float_eq(out.cm.stages[s].fwd.compute, out.cm.stages[4 + s].fwd.compute, 1e-15);
    }
    cr_assert(out.cm.stages[0].has_embedding && out.cm.stages[4].has_embedding);
    cr_assert(out.cm.stages[3].has_head && out.cm.stages[7].has_head);
    cr_assert_gt(out.cm.stages[1].dp_sync_s, dp_sync_1f1b, "gradients reduced over 2 x dp");
    cr_assert_float_eq(r->model_flops, flops, 1e-9 * flops, "the same model FLOPs");
    cr_assert_lt(r->brk.ep, 0.8 * ep_1f1b, "pairs hide all-to-all: %g vs %g s", r->brk.ep, ep_1f1b);
    cr_assert_lt(r->step_s, step_1f1b);
    const struct report_breakdown *b = &r->brk;
    double sum = b->compute + b->recompute + b->tp + b->cp + b->ep + b->pp + b->bubble + b->dp +
                 b->optimizer;
    cr_assert_float_eq(sum, r->step_s, 1e-9 * r->step_s, "the breakdown sums to the step");
    step_release(&out);
}

/* The most activation bytes rank 0 holds in the memory timeline. */
static int max_activation(const struct memtl_point *p, void *user)
{
    double *max = user;
    if (p->rank == 0 && p->activation_bytes > *max)
        *max = p->activation_bytes;
    return 0;
}

/* Megatron-Core's expert-parallel overlap runs a steady-state F and B as one step, layer by
 * layer: the F's layers fill as the B's (another micro-batch's) empty, so the pair holds its B's
 * micro-batch and one layer more, not two micro-batches.  Mixtral on 4 ranks of 2 chunks
 * (interleaved, which Megatron-Core asks for with the overlap when pp > 1; 4 layers a chunk,
 * 16 micro-batches): the pairs' warm-up is 2 (p - r - 1) + (v - 1) p + 1 forwards, which is the
 * peak, plus one layer at each pair's crossing (a quarter of a micro-batch's two chunks); on
 * one rank, one micro-batch and one layer. */
Test(memory, an_ep_overlapped_pair_holds_one_micro_batch_and_a_layer)
{
    cr_assert_eq(run(MODEL("mixtral-8x7b"), H100,
                     L(MIXTRAL_EP8, "schedule=interleaved", "vp=2", "overlap-ep-comm=true")),
                 SIM_OK, "%s", err.msg);
    for (int r = 0; r < 4; r++) {
        int warmup = 2 * (4 - r - 1) + 4 + 1;
        const struct cm_rank_memory *m = &out.rep.mem[r];
        cr_assert_eq(out.res.peak_inflight[r], warmup, "rank %d: %d", r,
                     out.res.peak_inflight[r]);
        cr_assert_eq(out.res.pair_peak[r], warmup, "rank %d: %d", r, out.res.pair_peak[r]);
        if (r == 1 || r == 2) /* two chunks of four layers, no embedding or head */
            cr_assert_float_eq(m->activations, m->act_per_mb * (warmup + 2.0 / 8),
                               1e-6 * m->activations, "rank %d: %g of %g", r, m->activations,
                               m->act_per_mb);
    }
    step_release(&out);
    cr_assert_eq(run(MODEL("mixtral-8x7b"), H100,
                     L("seq=4096", "tp=1", "ep=8", "pp=1", "gpus=8", "global-batch=64",
                       "distributed-optimizer=true", "overlap-ep-comm=true")),
                 SIM_OK, "%s", err.msg);
    cr_assert_eq(out.res.peak_inflight[0], 1);
    cr_assert_eq(out.res.pair_peak[0], 1);
    const struct cm_rank_memory *m = &out.rep.mem[0];
    cr_assert_float_eq(m->activations, m->act_per_mb * (1.0 + 1.0 / 32), 1e-6 * m->activations,
                       "%g of %g", m->activations, m->act_per_mb);
    double drawn = 0;
    cr_assert_eq(memtl_walk(&scn, &out.res, &out.cm, max_activation, &drawn), 0);
    cr_assert_float_eq(drawn, m->activations, 1e-6 * drawn, "the timeline: the pair's layer too");
    step_release(&out);
}

/* The most a rank holds in the memory timeline, activations and in all. */
struct drawn_peak {
    double act[64], total[64];
};

static int drawn_peak(const struct memtl_point *p, void *user)
{
    struct drawn_peak *d = user;
    cr_assert_lt(p->rank, 64);
    d->act[p->rank] = fmax(d->act[p->rank], p->activation_bytes);
    d->total[p->rank] = fmax(d->total[p->rank], p->total_bytes);
    return 0;
}

/* The memory timeline (and the trace's counters, which walk it) peaks at the report's memory
 * per rank to the byte where the report adds more than the in-flight micro-batches: the layer
 * an overlapped F&B pair holds at its crossing (overlap-ep-comm: MZ6, E12, M3, G1; interleaved
 * over 2 to 8 ranks) and the layers offload-modules reloads for the backward (MZ6, G17, G18),
 * with what offload-pp-delta keeps (MZ6 at 2 GiB a rank) and under a split backward.  The
 * timeline had left both out: MZ6's rank 0 drew 59.77 GiB of the report's 62.99. */
Test(memory, the_timeline_peaks_at_the_reports_memory_with_pairs_and_offload)
{
    static const char *const runs[][3] = {
        {"mz6", NULL},
        {"e12", NULL},
        {"m3", NULL},
        {"g1", NULL},
        {"g17", NULL},
        {"g18", NULL},
        {"mz6", "offload-pp-delta=2GiB"},
        {"g18", "schedule=zb-h1"},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/scenarios/validation/%s.xml", TOP_SRCDIR, runs[i][0]);
        scn_defaults(&scn);
        err_clear(&err);
        cr_assert_eq(scn_load(&scn, path, &err), SIM_OK, "%s", err.msg);
        for (const char *const *s = &runs[i][1]; *s; s++)
            cr_assert_eq(scn_set_arg(&scn, *s, &err), SIM_OK, "%s", err.msg);
        cr_assert_eq(step_run(&scn, &out, &err), SIM_OK, "%s: %s", path, err.msg);
        struct drawn_peak d = {{0}, {0}};
        cr_assert_eq(memtl_walk(&scn, &out.res, &out.cm, drawn_peak, &d), 0);
        for (int r = 0; r < out.rep.pp; r++) {
            const struct cm_rank_memory *m = &out.rep.mem[r];
            cr_expect_leq(fabs(d.act[r] - m->activations), 0.5, "%s rank %d: drawn %.0f of %.0f",
                          runs[i][0], r, d.act[r], m->activations);
            cr_expect_leq(fabs(d.total[r] - m->total), 0.5, "%s rank %d: total %.0f of %.0f",
                          runs[i][0], r, d.total[r], m->total);
        }
        step_release(&out);
    }
}

/* DualPipeV holds what ZB-V holds (one copy, two chunks in a V) and runs the same F/B/W work,
 * but its overlapped pairs hide expert all-to-all: less of it exposed, a shorter step. */
Test(dualpipe, dualpipe_v_hides_what_zb_v_exposes_on_the_same_memory)
{
    cr_assert_eq(run(MODEL("mixtral-8x7b"), H100, L(MIXTRAL_EP8, "schedule=zb-v", "vp=2")), SIM_OK,
                 "%s", err.msg);
    double weights[4], step_zbv = out.rep.step_s, ep_zbv = out.rep.brk.ep;
    for (int r = 0; r < 4; r++)
        weights[r] = out.rep.mem[r].weights;
    step_release(&out);
    cr_assert_eq(run(MODEL("mixtral-8x7b"), H100, L(MIXTRAL_EP8, "schedule=dualpipe-v", "vp=2")),
                 SIM_OK, "%s", err.msg);
    for (int r = 0; r < 4; r++) {
        cr_assert_float_eq(out.rep.mem[r].weights, weights[r], 1e-6 * weights[r]);
        cr_assert_eq(out.res.peak_inflight[r], 9, "2pp+1 chunk activations");
    }
    cr_assert_lt(out.rep.brk.ep, 0.8 * ep_zbv, "%g vs %g s", out.rep.brk.ep, ep_zbv);
    cr_assert_lt(out.rep.step_s, step_zbv);
    step_release(&out);
}

/* The report splits the exposed EP of a pairing schedule: what its ops run alone (DualPipe's
 * warm-up and cool-down) expose is their own whole exchange -- each lone F's and B's EP time
 * from the cost model, summed and meaned over the ranks -- and the rest is the pairs'.  1F1B
 * has no pairs. */
Test(dualpipe, exposed_ep_splits_into_pairs_and_lone_ops)
{
    cr_assert_eq(run(MODEL("mixtral-8x7b"), H100, L(MIXTRAL_EP8)), SIM_OK, "%s", err.msg);
    cr_assert_gt(out.rep.brk.ep, 0);
    cr_assert_eq(out.rep.brk.ep_paired, 0, "1F1B pairs nothing");
    step_release(&out);
    cr_assert_eq(run(MODEL("mixtral-8x7b"), H100, L(MIXTRAL_EP8, "schedule=dualpipe", "vp=2")),
                 SIM_OK, "%s", err.msg);
    double lone = 0;
    int pairs = 0;
    for (size_t i = 0; i < out.res.nrecs; i++) {
        const struct pipe_record *r = &out.res.recs[i];
        const struct cm_stage *cs = &out.cm.stages[r->stage];
        if (r->peer >= 0 || (r->kind != REC_F && r->kind != REC_B))
            continue;
        if (r->overlap != SCHED_ALONE)
            pairs++;
        else
            lone += r->kind == REC_F ? cs->fwd.ep : cs->bwd.ep;
    }
    lone /= out.res.pp;
    const struct report_breakdown *b = &out.rep.brk;
    /* m = 16, pp = 4: rank h runs 2(m/2-pp+h+1) + pp/2-h-1 pairs, one fewer in the middle */
    cr_assert_eq(pairs, 2 * 44, "%d ops in pairs", pairs);
    cr_assert_gt(b->ep_paired, 0);
    cr_assert_float_eq(b->ep - b->ep_paired, lone, 1e-9 * lone, "%.9g vs %.9g s",
                       b->ep - b->ep_paired, lone);
    step_release(&out);
}

/* An out-of-memory step names the rank most over the usable HBM, the room a user must find:
 * Llama-3.1-405B's first stage holds fewer layers, so rank 0 is short by less than rank 1
 * (the first rank short of memory had been named: 84.6 GiB where rank 1 needs 96.3). */
Test(memory, out_of_memory_names_the_rank_most_over)
{
    scn_defaults(&scn);
    err_clear(&err);
    cr_assert_eq(scn_load(&scn, TOP_SRCDIR "/scenarios/llama3.1-405b-16k-h100.xml", &err),
                 SIM_OK, "%s", err.msg);
    cr_assert_eq(scn_set_arg(&scn, "microbatches=256", &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(step_run(&scn, &out, &err), SIM_OK, "%s", err.msg);
    cr_assert(out.rep.oom);
    cr_assert(out.rep.mem[0].oom, "rank 0 fits: the case no longer tells first from most");
    for (int r = 0; r < out.rep.pp; r++)
        cr_expect_leq(out.rep.mem[r].total, out.rep.mem[out.rep.oom_rank].total,
                      "rank %d needs %.1f GiB, more than the named rank %d", r,
                      out.rep.mem[r].total / 1073741824.0, out.rep.oom_rank);
    cr_expect_neq(out.rep.oom_rank, 0);
    step_release(&out);
}
