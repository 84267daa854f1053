/* test_cm_comm: collectives of the cost model against hand-computed values on a toy cluster
 * (tests/helpers.c toy_hardware: 100 GB/s NVLink, a 50 GB/s network, no latency, no overlap
 * interference): expert-parallel dispatch inside a node and across nodes under each dispatcher,
 * the expert-parallel overlap of steady-state F and B pairs, and ZeRO-3 / FSDP traffic and
 * memory. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "step.h"

#define MODEL(name) TOP_SRCDIR "/models/" name ".xml"

static struct scenario scn;
static struct step_output out;

static void run_ok(const char *model, int node_gpus, const char *const *sets)
{
    toy_step(model, node_gpus, sets, &scn, &out);
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define near(a, b) (fabs((a) - (b)) <= 1e-9 + 1e-6 * fabs(b))

/* Mixtral-8x7B (32 MoE layers, 8 experts, top-2, hidden 4096) on ep 8 with tp 1: each GPU
 * holds 4096 tokens and sends 8192 routed copies of 8192 bytes each way per exchange; a layer
 * runs a dispatch and a combine forward and again backward. */
static const double COPIES = 4096.0 * 2, TOKEN_B = 2.0 * 4096;
#define MIXTRAL_EP8(...)                                                                          \
    L("seq=4096", "ep=8", "gpus=8", "microbatches=1", __VA_ARGS__)

Test(ep, all_to_all_inside_one_node_runs_on_nvlink)
{
    run_ok(MODEL("mixtral-8x7b"), 8, MIXTRAL_EP8("moe-dispatcher=alltoall"));
    double one = COPIES * 7.0 / 8 * TOKEN_B / 100e9; /* 7 of 8 copies leave the GPU */
    cr_assert(near(out.cm.stages[0].fwd.ep, 32 * 2 * one), "%.9g vs %.9g",
              out.cm.stages[0].fwd.ep, 32 * 2 * one);
    cr_assert(near(out.cm.stages[0].bwd.ep, 32 * 2 * one));
    /* The report's layer table: every layer is MoE, its dispatch and combine each way. */
    cr_assert_eq(out.rep.layer_view[0].layer, -1, "no dense layer");
    cr_assert_eq(out.rep.layer_view[1].layer, 0);
    cr_assert(near(out.rep.layer_view[1].ep_fwd, 2 * one), "%.9g", out.rep.layer_view[1].ep_fwd);
    cr_assert(near(out.rep.layer_view[1].ep_bwd, 2 * one));
    step_release(&out);
}

Test(ep, all_to_all_across_two_nodes_is_paced_by_the_network)
{
    /* 4 GPUs per node: 3 of 8 copies stay in the node (NVLink), 4 of 8 cross the network; the
     * two links work at once and the network is the slower. */
    run_ok(MODEL("mixtral-8x7b"), 4, MIXTRAL_EP8("moe-dispatcher=alltoall"));
    double intra = COPIES * 3.0 / 8 * TOKEN_B / 100e9, inter = COPIES * 4.0 / 8 * TOKEN_B / 50e9;
    cr_assert_gt(inter, intra);
    cr_assert(near(out.cm.stages[0].fwd.ep, 32 * 2 * inter), "%.9g vs %.9g",
              out.cm.stages[0].fwd.ep, 32 * 2 * inter);
    step_release(&out);
}

/* A node whose collectives are measured (hardware <collective>): a group they describe takes
 * overhead + bus bytes / bus bandwidth, bus bytes (n-1)/n of the buffer (twice that for an
 * all-reduce), the busiest GPU's `moe-imbalance` times the mean. */
#define COLLECTIVE(op, gpus, bw, overhead)                                                        \
    "<collective op=\"" op "\" gpus=\"" gpus "\" bus-bandwidth=\"" bw "\" overhead=\"" overhead     \
    "\"/>"

Test(measured, an_all_to_all_inside_the_node_takes_the_nodes_measurement)
{
    toy_step_xml(MODEL("mixtral-8x7b"), 8, "", COLLECTIVE("all-to-all", "8", "50GBps", "10us"),
                 MIXTRAL_EP8("moe-dispatcher=alltoall", "moe-imbalance=1.5"), &scn, &out);
    double one = 10e-6 + 1.5 * COPIES * 7.0 / 8 * TOKEN_B / 50e9;
    cr_assert(near(out.rep.layer_view[1].ep_fwd, 2 * one), "%.9g vs %.9g",
              out.rep.layer_view[1].ep_fwd, 2 * one);
    step_release(&out);
}

Test(measured, a_what_if_nvlink_bandwidth_scales_the_measurement)
{
    /* the toy's NVLink is 100 GB/s: twice that doubles the measured 50 GB/s bus bandwidth;
     * the overhead stays */
    toy_step_xml(MODEL("mixtral-8x7b"), 8, "", COLLECTIVE("all-to-all", "8", "50GBps", "10us"),
                 MIXTRAL_EP8("moe-dispatcher=alltoall", "hw.nvlink-bandwidth=200GBps"), &scn,
                 &out);
    double one = 10e-6 + COPIES * 7.0 / 8 * TOKEN_B / 100e9;
    cr_assert(near(out.rep.layer_view[1].ep_fwd, 2 * one), "%.9g vs %.9g",
              out.rep.layer_view[1].ep_fwd, 2 * one);
    step_release(&out);
}

Test(measured, a_group_size_not_measured_keeps_the_ring)
{
    /* only a 4-GPU all-to-all measured: the 8-GPU one runs on the 100 GB/s NVLink as before */
    toy_step_xml(MODEL("mixtral-8x7b"), 8, "", COLLECTIVE("all-to-all", "4", "50GBps", "10us"),
                 MIXTRAL_EP8("moe-dispatcher=alltoall"), &scn, &out);
    double one = COPIES * 7.0 / 8 * TOKEN_B / 100e9;
    cr_assert(near(out.rep.layer_view[1].ep_fwd, 2 * one), "%.9g vs %.9g",
              out.rep.layer_view[1].ep_fwd, 2 * one);
    step_release(&out);
}

Test(measured, tensor_parallel_collectives_take_theirs)
{
    /* Llama-3.1-8B, TP 2: a layer's forward gathers twice and reduce-scatters twice under
     * sequence parallelism, all-reduces twice without it; each moves the 4096 x 4096 bf16
     * activation. */
    const double bytes = 2.0 * 4096 * 4096;
    toy_step_xml(MODEL("llama3.1-8b"), 8, "",
                 COLLECTIVE("all-gather", "2", "40GBps", "20us")
                     COLLECTIVE("reduce-scatter", "2", "25GBps", "30us"),
                 L("seq=4096", "microbatches=1", "tp=2", "gpus=2", "sp=true"), &scn, &out);
    double want = 2 * (20e-6 + bytes / 2 / 40e9) + 2 * (30e-6 + bytes / 2 / 25e9);
    cr_assert(near(out.rep.layer_view[0].tp_fwd, want), "%.9g vs %.9g",
              out.rep.layer_view[0].tp_fwd, want);
    step_release(&out);
    toy_step_xml(MODEL("llama3.1-8b"), 8, "", COLLECTIVE("all-reduce", "2", "40GBps", "20us"),
                 L("seq=4096", "microbatches=1", "tp=2", "gpus=2", "sp=false"), &scn, &out);
    want = 2 * (20e-6 + 2 * bytes / 2 / 40e9);
    cr_assert(near(out.rep.layer_view[0].tp_fwd, want), "%.9g vs %.9g",
              out.rep.layer_view[0].tp_fwd, want);
    step_release(&out);
}

Test(ep, a_point_to_point_mesh_gives_a_group_only_its_links)
{
    /* The same node wired as AMD's xGMI mesh, 10 GB/s from each GPU to each other one (at most
     * the node's 100 GB/s): eight GPUs reach 7 x 10 = 70 GB/s; two GPUs share one link. */
    run_ok(MODEL("mixtral-8x7b"), 8, MIXTRAL_EP8("hw.peer-bandwidth=10GBps"));
    double eight = COPIES * 7.0 / 8 * TOKEN_B / 70e9;
    cr_assert(near(out.cm.stages[0].fwd.ep, 32 * 2 * eight), "%.9g vs %.9g",
              out.cm.stages[0].fwd.ep, 32 * 2 * eight);
    step_release(&out);
    run_ok(MODEL("mixtral-8x7b"), 8,
           L("seq=4096", "ep=2", "gpus=2", "microbatches=1", "hw.peer-bandwidth=10GBps"));
    double two = COPIES * 1.0 / 2 * TOKEN_B / 10e9;
    cr_assert(near(out.cm.stages[0].fwd.ep, 32 * 2 * two), "%.9g vs %.9g",
              out.cm.stages[0].fwd.ep, 32 * 2 * two);
    step_release(&out);
    /* Switched (no peer-bandwidth), two GPUs get the node's whole 100 GB/s. */
    run_ok(MODEL("mixtral-8x7b"), 8, L("seq=4096", "ep=2", "gpus=2", "microbatches=1"));
    cr_assert(near(out.cm.stages[0].fwd.ep, 32 * 2 * COPIES / 2 * TOKEN_B / 100e9));
    step_release(&out);
}

Test(ep, deepep_sends_a_token_once_per_remote_node)
{
    /* Two nodes, top-2 of 8 distinct experts picked uniformly: a token visits
     * 2 (1 - C(4,2) / C(8,2)) = 2 (1 - 6/28) = 11/7 nodes on average, half of them remote; each
     * copy then fans out over NVLink to 3 of the node's 4 GPUs. */
    run_ok(MODEL("mixtral-8x7b"), 4, MIXTRAL_EP8("moe-dispatcher=deepep"));
    double inter = 4096 * 11.0 / 7 * 0.5 * TOKEN_B / 50e9;
    double intra = COPIES * 3.0 / 4 * TOKEN_B / 100e9;
    double one = inter > intra ? inter : intra;
    cr_assert(near(out.cm.stages[0].fwd.ep, 32 * 2 * one), "%.9g vs %.9g",
              out.cm.stages[0].fwd.ep, 32 * 2 * one);
    step_release(&out);
}

/* An fp8 wire (moe-dispatch-dtype=fp8, DeepSeek-V3's low-precision communication): the
 * dispatch, and the backward's combine gradient, carry 1 byte an element and an fp32 scale per
 * 128 -- (1 + 4/128) / 2 of bf16's bytes -- while the combine, and the backward's dispatch
 * gradient, stay bf16; so a round trip is one exchange at each size, forward and backward
 * alike.  Across two nodes DeepEP's exchange is the network's at either size. */
static const double FP8_TOKEN_B = (1.0 + 4.0 / 128) * 4096;

Test(ep, an_fp8_dispatch_sends_a_byte_and_its_scales_and_the_combine_stays_16_bit)
{
    run_ok(MODEL("mixtral-8x7b"), 4,
           MIXTRAL_EP8("moe-dispatcher=deepep", "moe-dispatch-dtype=fp8"));
    double dispatch = 4096 * 11.0 / 7 * 0.5 * FP8_TOKEN_B / 50e9;
    double combine = 4096 * 11.0 / 7 * 0.5 * TOKEN_B / 50e9;
    cr_assert(near(out.rep.layer_view[1].ep_fwd, dispatch + combine), "%.9g vs %.9g",
              out.rep.layer_view[1].ep_fwd, dispatch + combine);
    cr_assert(near(out.rep.layer_view[1].ep_bwd, dispatch + combine));
    cr_assert(near(out.cm.stages[0].fwd.ep, 32 * (dispatch + combine)));
    step_release(&out);
    /* framework=deepseek with fp8 GEMMs implies it (its recipe), bf16 GEMMs do not */
#define DEEPSEEK(...)                                                                             \
    MIXTRAL_EP8("moe-dispatcher=deepep", "framework=deepseek", "schedule=dualpipe", "pp=2",      \
                "gpus=16", "microbatches=4", __VA_ARGS__)
    run_ok(MODEL("mixtral-8x7b"), 4, DEEPSEEK("dtype=fp8", "fp8-recipe=blockwise"));
    cr_assert(near(out.rep.layer_view[1].ep_fwd, dispatch + combine), "%.9g vs %.9g",
              out.rep.layer_view[1].ep_fwd, dispatch + combine);
    step_release(&out);
    run_ok(MODEL("mixtral-8x7b"), 4, DEEPSEEK("dtype=bf16"));
    cr_assert(near(out.rep.layer_view[1].ep_fwd, 2 * combine), "%.9g vs %.9g",
              out.rep.layer_view[1].ep_fwd, 2 * combine);
    step_release(&out);
}

/* Inside one NVLink domain whose hardware file measured DeepEP's kernels (<collective
 * op="ep-dispatch"> / "ep-combine"), each GPU receives one copy of a token per GPU holding
 * any of its experts, at the measured bandwidth: Mixtral's top-2 of 8 experts over ep 4 (two
 * a GPU) visit 4 (1 - 6/8 x 5/7) = 13/7 GPUs, so a GPU receives 4096 x 13/7 tokens of 8192
 * bytes; dispatch at 400 GB/s after 10 us, combine at 200 GB/s after 5 us.  Only 2-GPU
 * groups were measured: the 4-GPU group takes their figures. */
Test(ep, deepep_in_a_node_runs_at_its_measured_kernels_once_per_gpu)
{
    const char *fits = "<collective op=\"ep-dispatch\" gpus=\"2\" bus-bandwidth=\"400GBps\" "
                       "overhead=\"10us\"/><collective op=\"ep-combine\" gpus=\"2\" "
                       "bus-bandwidth=\"200GBps\" overhead=\"5us\"/>";
    toy_step_xml(MODEL("mixtral-8x7b"), 8, "", fits,
                 L("seq=4096", "ep=4", "gpus=4", "microbatches=1", "moe-dispatcher=deepep"), &scn,
                 &out);
    double received = 4096 * 13.0 / 7 * TOKEN_B;
    double trip = 10e-6 + received / 400e9 + 5e-6 + received / 200e9;
    cr_assert(near(out.rep.layer_view[1].ep_fwd, trip), "%.9g vs %.9g",
              out.rep.layer_view[1].ep_fwd, trip);
    cr_assert(near(out.rep.layer_view[1].ep_bwd, trip));
    step_release(&out);
    /* an fp8 dispatch: the dispatch kernel moves its bytes, the combine kernel bf16's */
    toy_step_xml(MODEL("mixtral-8x7b"), 8, "", fits,
                 L("seq=4096", "ep=4", "gpus=4", "microbatches=1", "moe-dispatcher=deepep",
                   "moe-dispatch-dtype=fp8"),
                 &scn, &out);
    double fp8_trip = 10e-6 + received * (1.0 + 4.0 / 128) / 2 / 400e9 + 5e-6 + received / 200e9;
    cr_assert(near(out.rep.layer_view[1].ep_fwd, fp8_trip), "%.9g vs %.9g",
              out.rep.layer_view[1].ep_fwd, fp8_trip);
    cr_assert(near(out.rep.layer_view[1].ep_bwd, fp8_trip));
    step_release(&out);
    /* NCCL's all-to-all dispatcher sends every routed copy, measured kernels or not */
    toy_step_xml(MODEL("mixtral-8x7b"), 8, "", fits,
                 L("seq=4096", "ep=4", "gpus=4", "microbatches=1", "moe-dispatcher=alltoall"),
                 &scn, &out);
    double one = COPIES * 3.0 / 4 * TOKEN_B / 100e9;
    cr_assert(near(out.rep.layer_view[1].ep_fwd, 2 * one), "%.9g vs %.9g",
              out.rep.layer_view[1].ep_fwd, 2 * one);
    step_release(&out);
}

/* Group-limited routing inside the node: DeepSeek-V3's router takes a token's 8 experts from 4
 * of its 8 expert groups (expert-groups 8, route-nodes 4), 2 from each, and under ep 8 a group
 * is one GPU's 32 experts, so a token visits exactly 4 GPUs (uniform routing would visit
 * 8 (1 - C(224, 8) / C(256, 8)) = 5.28): a GPU receives 4096 x 4 tokens of 7168 bf16 values,
 * at the measured 400 / 200 GB/s and overheads. */
Test(ep, deepep_in_a_node_visits_the_gpus_of_the_chosen_groups)
{
    const char *fits = "<collective op=\"ep-dispatch\" gpus=\"8\" bus-bandwidth=\"400GBps\" "
                       "overhead=\"10us\"/><collective op=\"ep-combine\" gpus=\"8\" "
                       "bus-bandwidth=\"200GBps\" overhead=\"5us\"/>";
    toy_step_xml(MODEL("deepseek-v3"), 8, "", fits,
                 L("seq=4096", "ep=8", "gpus=8", "microbatches=1", "moe-dispatcher=deepep",
                   "mtp-layers=0"),
                 &scn, &out);
    double received = 4096 * 4.0 * 2 * 7168;
    double trip = 10e-6 + received / 400e9 + 5e-6 + received / 200e9;
    cr_assert(near(out.rep.layer_view[1].ep_fwd, trip), "%.9g vs %.9g",
              out.rep.layer_view[1].ep_fwd, trip);
    step_release(&out);
}

Test(ep, allgather_dispatcher_gathers_every_token_of_the_group)
{
    run_ok(MODEL("mixtral-8x7b"), 4, MIXTRAL_EP8("moe-dispatcher=allgather"));
    /* A ring all-gather of 8 x 4096 tokens over two 4-GPU nodes, 7/8 of it arriving: each GPU
     * sends 3/4 of its ring traffic over NVLink (100 GB/s) and 1/4 through its NIC (50 GB/s),
     * so NVLink bounds it at 400/3 GB/s. */
    double one = 7.0 / 8 * 8 * 4096 * TOKEN_B * 3.0 / 400e9;
    cr_assert(near(out.cm.stages[0].fwd.ep, 32 * 2 * one), "%.9g vs %.9g",
              out.cm.stages[0].fwd.ep, 32 * 2 * one);
    step_release(&out);
}

Test(ep, imbalance_scales_the_busiest_gpus_traffic)
{
    run_ok(MODEL("mixtral-8x7b"), 4, MIXTRAL_EP8("moe-imbalance=1.5"));
    double inter = 1.5 * COPIES * 4.0 / 8 * TOKEN_B / 50e9;
    cr_assert(near(out.cm.stages[0].fwd.ep, 32 * 2 * inter));
    step_release(&out);
}

/* If record i is the F of an overlapped pair, its partner: the rank's next compute record. */
static const struct pipe_record *pair_partner(size_t i)
{
    const struct pipe_record *f = &out.res.recs[i];
    if (f->peer >= 0 || f->kind != REC_F || f->overlap != SCHED_PAIR_F)
        return NULL;
    for (size_t j = i + 1; j < out.res.nrecs; j++)
        if (out.res.recs[j].rank == f->rank && out.res.recs[j].peer < 0) {
            cr_assert(out.res.recs[j].kind == REC_B && out.res.recs[j].overlap == SCHED_PAIR_B);
            return &out.res.recs[j];
        }
    cr_assert_fail("a paired F without its B");
    return NULL;
}

/* Record i, the F of a pair with partner b, takes the longer of its compute and the exchanges
 * of b's layers it is matched with plus `interference` x the shorter, and its own unmatched
 * layers' exchanges in line.  Whether the exchanges are the longer. */
static int assert_pair_cost(size_t i, const struct pipe_record *b, double interference)
{
    const struct pipe_setup *s = &out.setup;
    const struct pipe_record *f = &out.res.recs[i];
    double own = s->stage_layers[f->stage], other = s->stage_layers[b->stage];
    double matched = own < other ? own : other;
    cr_assert_gt(matched, 0.0, "stages %d and %d have layers", f->stage, b->stage);
    double work = simtime_to_s(s->stage_fwd[f->stage] - s->stage_fwd_comm[f->stage]);
    double in_line = simtime_to_s(s->stage_fwd_comm[f->stage]) * (1.0 - matched / own);
    double comm = simtime_to_s(s->stage_bwd_comm[b->stage]) * matched / other;
    double hi = work > comm ? work : comm, lo = work + comm - hi;
    double want = hi + interference * lo + in_line;
    cr_assert(fabs(simtime_to_s(f->end - f->start) - want) < 2e-9, "F %.9g s, want %.9g s",
              simtime_to_s(f->end - f->start), want);
    return comm > work;
}

/* The first pair's cost, which must hide some exchanges. */
static void assert_first_pair_costs(double interference)
{
    for (size_t i = 0; i + 1 < out.res.nrecs; i++) {
        const struct pipe_record *b = pair_partner(i);
        if (!b)
            continue;
        cr_assert_gt(out.setup.stage_bwd_comm[b->stage], 0, "the test needs exchanges to hide");
        assert_pair_cost(i, b, interference);
        return;
    }
    cr_assert_fail("no overlapped pair");
}

/* A pair overlaps as many layers as the smaller of its chunks has (Megatron-Core's
 * model_chunk_schedule_plan.py): with chunks of 6, 10, 10 and 6 layers the 6-layer forward hides
 * 6 of its 10-layer partner's exchanges, and the 10-layer forward keeps 4 layers' in line. */
Test(ep, a_pair_overlaps_only_as_many_layers_as_its_smaller_chunk)
{
    run_ok(MODEL("mixtral-8x7b"), 8,
           L("seq=4096", "ep=8", "pp=2", "vp=2", "gpus=16", "microbatches=8",
             "schedule=interleaved", "overlap-ep-comm=true",
             "pipeline-layout=Etttttt|tttttttttt|tttttttttt|ttttttL"));
    const struct pipe_setup *s = &out.setup;
    static const int32_t layers[] = {6, 10, 10, 6};
    for (int st = 0; st < 4; st++)
        cr_assert_eq(s->stage_layers[st], layers[st], "stage %d", st);
    size_t uneven = 0;
    for (size_t i = 0; i + 1 < out.res.nrecs; i++) {
        const struct pipe_record *b = pair_partner(i);
        if (!b)
            continue;
        assert_pair_cost(i, b, 0.0);
        uneven += s->stage_layers[out.res.recs[i].stage] != s->stage_layers[b->stage];
    }
    cr_assert_gt(uneven, 0, "pairs of chunks of different depth");
    step_release(&out);
}

/* DeepEP's kernels hold deepep-sms of the GPU's SMs while they run, so the compute a pair runs
 * beside them gets the rest: on a 100-SM toy GPU (no shared interference) 25 SMs cost a
 * quarter of the shorter of the two; without an SM count, or with NCCL's all-to-all, only the
 * shared overlap-interference (0 here) is charged. */
Test(ep, deepep_holds_its_sms_beside_the_compute_it_overlaps)
{
#define PAIRED(...)                                                                               \
    L("seq=4096", "ep=8", "pp=2", "vp=2", "schedule=interleaved", "gpus=16", "microbatches=8", \
      "overlap-ep-comm=true", __VA_ARGS__)
    toy_step_on(MODEL("mixtral-8x7b"), 4, "sms=\"100\"",
                PAIRED("moe-dispatcher=deepep", "deepep-sms=25"), &scn, &out);
    cr_assert(near(out.setup.overlap_interference, 0.25), "%g", out.setup.overlap_interference);
    assert_first_pair_costs(0.25);
    step_release(&out);
    toy_step_on(MODEL("mixtral-8x7b"), 4, "sms=\"100\"", PAIRED("moe-dispatcher=deepep"), &scn,
                &out);
    cr_assert(near(out.setup.overlap_interference, 0.20), "default 20 SMs");
    step_release(&out);
    toy_step_on(MODEL("mixtral-8x7b"), 4, "", PAIRED("moe-dispatcher=deepep"), &scn, &out);
    cr_assert_eq(out.setup.overlap_interference, 0.0, "no SM count: the shared value");
    assert_first_pair_costs(0.0);
    step_release(&out);
    toy_step_on(MODEL("mixtral-8x7b"), 4, "sms=\"100\"", PAIRED("moe-dispatcher=alltoall"), &scn,
                &out);
    cr_assert_eq(out.setup.overlap_interference, 0.0, "NCCL: the shared value");
    step_release(&out);
#undef PAIRED
}

/* deepep-sms: only with DeepEP or HybridEP, and it must leave the GPU SMs to compute on; a
 * padded routing map only for fp8 / fp4 GEMMs and not with the allgather dispatcher
 * (Megatron-Core's transformer_config.py). */
Test(ep, deepep_sms_rules)
{
    static const struct {
        const char *gpu_attrs, *sets[4], *want;
    } bad[] = {
        {"", {"deepep-sms=24", NULL}, "deepep-sms applies to moe-dispatcher=deepep or hybridep"},
        {"sms=\"100\"", {"moe-dispatcher=deepep", "deepep-sms=100", NULL},
         "deepep-sms=100 leaves no SMs for compute: toy has 100"},
        {"sms=\"100\"", {"moe-dispatcher=hybridep", "deepep-sms=100", NULL},
         "deepep-sms=100 leaves no SMs for compute: toy has 100"},
        {"", {"moe-router-padding=true", NULL},
         "moe-router-padding applies to dtype=fp8 or nvfp4"},
        {"", {"dtype=fp8", "moe-dispatcher=allgather", "moe-router-padding=true", NULL},
         "allgather dispatcher does not pad the routing map"},
        {"", {"moe-dispatch-dtype=fp8", NULL},
         "moe-dispatch-dtype=fp8 needs moe-dispatcher=deepep or hybridep"},
        {"", {"moe-dispatcher=allgather", "moe-dispatch-dtype=fp8", NULL},
         "moe-dispatch-dtype=fp8 needs moe-dispatcher=deepep or hybridep"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char hw[256];
        struct sim_error err;
        scn_defaults(&scn);
        err_clear(&err);
        toy_hardware_with(hw, sizeof hw, 4, bad[i].gpu_attrs);
        cr_assert_eq(scn_set(&scn, "model", MODEL("mixtral-8x7b"), NULL, 0, &err), SIM_OK);
        cr_assert_eq(scn_set(&scn, "hardware", hw, NULL, 0, &err), SIM_OK);
        const char *const base[] = {"seq=4096", "ep=8", "gpus=8", NULL};
        for (const char *const *s = base; *s; s++)
            cr_assert_eq(scn_set_arg(&scn, *s, &err), SIM_OK);
        for (const char *const *s = bad[i].sets; *s; s++)
            cr_assert_eq(scn_set_arg(&scn, *s, &err), SIM_OK, "%s: %s", *s, err.msg);
        cr_assert_eq(step_run(&scn, &out, &err), SIM_EINPUT);
        unlink(hw);
        cr_assert_not_null(strstr(err.msg, bad[i].want), "%s", err.msg);
    }
}

/* What a pair's partner may hide of an op is its expert-parallel exchanges alone: with TP 2
 * (sequence parallelism, no TP overlap) the TP collectives block the compute stream both
 * micro-batches share (Megatron-Core's A2A overlap puts only dispatch and combine on its
 * comm stream), so a paired op keeps them in line. */
Test(ep, a_pair_hides_only_expert_parallel_exchanges)
{
    run_ok(MODEL("mixtral-8x7b"), 8,
           L("seq=4096", "ep=4", "tp=2", "pp=2", "vp=2", "schedule=interleaved", "gpus=16",
             "microbatches=8", "overlap-ep-comm=true"));
    const struct pipe_setup *s = &out.setup;
    for (int st = 0; st < 4; st++) {
        const struct cm_stage *cs = &out.cm.stages[st];
        cr_assert_gt(cs->fwd.tp, 0.0, "the test needs TP time");
        cr_assert(fabs(simtime_to_s(s->stage_fwd_comm[st]) - cs->fwd.ep) < 1e-9,
                  "forward: %g s hideable, EP %g s", simtime_to_s(s->stage_fwd_comm[st]),
                  cs->fwd.ep);
        cr_assert(fabs(simtime_to_s(s->stage_bwd_comm[st]) - cs->bwd.ep) < 1e-9,
                  "backward: %g s hideable, EP %g s", simtime_to_s(s->stage_bwd_comm[st]),
                  cs->bwd.ep);
    }
    step_release(&out);
}

/* An op of a steady-state pair takes the longer of its own compute and its partner's
 * exposed communication (no interference on the toy GPU): overlap hides at most the other
 * micro-batch's compute, never more. */
Test(ep, overlap_hides_at_most_the_other_micro_batchs_compute)
{
    /* One GPU per node and a slow network under the all-to-all dispatcher (Megatron-Core
     * overlaps only alltoall and flex dispatchers): the exchanges outlast the compute. */
    run_ok(MODEL("mixtral-8x7b"), 1,
           L("seq=4096", "ep=8", "pp=2", "vp=2", "schedule=interleaved", "gpus=16",
             "microbatches=8", "overlap-ep-comm=true", "moe-dispatcher=alltoall",
             "hw.nic-bandwidth=2GBps"));
    size_t pairs = 0, comm_bound = 0;
    for (size_t i = 0; i + 1 < out.res.nrecs; i++) {
        const struct pipe_record *b = pair_partner(i);
        if (!b)
            continue;
        comm_bound += assert_pair_cost(i, b, 0.0);
        pairs++;
    }
    cr_assert_gt(pairs, 0);
    cr_assert_gt(comm_bound, 0, "network exchanges outlast the compute they pair with");
    double alone = out.rep.step_s;
    step_release(&out);
    run_ok(MODEL("mixtral-8x7b"), 1,
           L("seq=4096", "ep=8", "pp=2", "vp=2", "schedule=interleaved", "gpus=16",
             "microbatches=8", "moe-dispatcher=alltoall", "hw.nic-bandwidth=2GBps"));
    cr_assert_lt(alone, out.rep.step_s, "overlap %g s, none %g s", alone, out.rep.step_s);
    step_release(&out);
}

/* Llama-3.1-8B under FSDP full-shard over 8 GPUs of one node (100 GB/s): each layer's
 * 218,112,000 bf16 parameters are all-gathered before its forward -- prefetched behind the
 * previous unit's forward -- the embedding's first, with nothing to hide behind. */
Test(fsdp, full_shard_gathers_each_layer_behind_the_previous_one)
{
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=512", "gpus=8", "microbatches=1", "fsdp=full-shard", "grad-reduce-fp32=false"));
    double ring = 7.0 / 8 / 100e9; /* seconds per byte of an 8-GPU ring all-gather */
    double layer_ag = 2.0 * 218112000 * ring;
    double embedding_ag = 2.0 * 128256.0 * 4096 * ring;
    double head_ag = 2.0 * (128256.0 * 4096 + 4096) * ring;
    double s = 512, h = 4096, bf16 = 1000e12 * 0.5;
    double layer_f = 2.0 * s * (2 * h * h + 2 * h * 1024 + 3 * h * 14336) / bf16 +
                     2.0 * s * s * 32 * 256 * 0.5 / (1000e12 * 0.25);
    double head_f = 2.0 * s * h * 128256 / bf16;
    double want = embedding_ag + 32 * (layer_ag - layer_f) + (head_ag - head_f);
    cr_assert(near(out.cm.stages[0].fwd.dp, want), "%.9g vs %.9g", out.cm.stages[0].fwd.dp, want);
    cr_assert_eq(out.cm.stages[0].dp_sync_s, 0.0, "reduced per micro-batch, not at the end");
    /* Memory: shards of everything plus two gathered units (the largest: the embedding or the
     * head) and one unit's full gradients. */
    double params = out.cm.stages[0].params, largest = 128256.0 * 4096 + 4096;
    const struct cm_rank_memory *mm = &out.rep.mem[0];
    cr_assert(near(mm->weights, 2.0 * (params / 8 + 2 * largest)), "weights %g", mm->weights);
    cr_assert(near(mm->grads, 2.0 * (params / 8 + largest)), "grads %g", mm->grads);
    cr_assert(near(mm->optimizer, 12.0 * params / 8), "optimizer %g", mm->optimizer);
    step_release(&out);
}

/* Under pipeline parallelism torchtitan's FSDP2 runs, as PyTorch's pipelining drives it, every
 * backward but the last unsynchronised (torch/distributed/pipelining/stage.py,
 * backward_maybe_with_nosync): a stage's gradients accumulate unsharded over the step and are
 * reduce-scattered once, after the last backward, and its parameters stay gathered.
 * Llama-3.1-8B, pp 2, 8 micro-batches, FSDP over 4 GPUs of a node (100 GB/s), bf16 gradients:
 * the end-of-step reduce-scatter of a stage's gradients is (3/4) x 2 bytes x params / 100 GB/s;
 * none inside the backward ops; memory holds the whole stage's gradients and weights. */
Test(fsdp, under_pipeline_parallelism_gradients_are_reduced_once_after_the_last_backward)
{
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=512", "gpus=8", "pp=2", "microbatches=8", "fsdp=full-shard",
             "grad-reduce-fp32=false", "framework=torchtitan"));
    const struct cm_stage *st = &out.cm.stages[0];
    double rs = 0.75 * 2.0 * st->params / 100e9;
    cr_assert(near(st->dp_sync_s, rs), "end-of-step reduce-scatter %.9g vs %.9g", st->dp_sync_s,
              rs);
    cr_assert_eq(st->bwd.dp, 0.0, "no reduce-scatter inside the backward");
    double embedding = 128256.0 * 4096; /* the largest unit, its bf16 gradients in flight */
    cr_assert(near(out.rep.mem[0].grads, 2.0 * (st->params + embedding)), "grads %g",
              out.rep.mem[0].grads);
    cr_assert(near(out.rep.mem[0].weights, 2.0 * st->params),
              "the stage kept gathered (FSDP2's shard is the fp32 master): %g",
              out.rep.mem[0].weights);
    step_release(&out);
    /* Megatron-FSDP (zero 3) reduce-scatters every micro-batch's gradients, pipeline or not. */
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=512", "gpus=8", "pp=2", "microbatches=8", "zero=3", "grad-reduce-fp32=false",
             "framework=megatron-core"));
    cr_assert_eq(out.cm.stages[0].dp_sync_s, 0.0);
    cr_assert_gt(out.cm.stages[0].bwd.dp, 0.0, "reduce-scatters inside the backward");
    step_release(&out);
}

/* PyTorch FSDP1 (the fsdp key, no framework named) builds each unit's flat gradient from the
 * views' gradients, 2 bytes read and 2 written per parameter in the backward, and casts and
 * pre-divides it beside the next unit's backward (hidden on the toy GPU, no interference,
 * except the embedding's, whose backward has no work to hide it: 2 + 4 bytes to fp32 and 4 + 4
 * to pre-divide); zero=3 (Megatron-FSDP, DeepSpeed) reduces from its own buffers.
 * Llama-3.1-8B over 8 GPUs, HBM at 1 TB/s: 32 layers of 218,112,000 parameters, the embedding
 * and the head. */
Test(fsdp, fsdp1_copies_each_units_gradients_into_its_flat_gradient)
{
    const char *const *base = L("seq=8192", "gpus=8", "microbatches=1", "hw.hbm-bandwidth=1TBps",
                                "hw.memory-efficiency=1", "grad-reduce-fp32=true");
    run_ok(MODEL("llama3.1-8b"), 8,
           L(base[0], base[1], base[2], base[3], base[4], base[5], "zero=3"));
    double zero3 = out.cm.stages[0].bwd.compute;
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8,
           L(base[0], base[1], base[2], base[3], base[4], base[5], "fsdp=full-shard"));
    double fsdp1 = out.cm.stages[0].bwd.compute;
    step_release(&out);
    double embedding = 128256.0 * 4096;
    double params = 32 * 218112000.0 + embedding + (embedding + 4096);
    double want = (4.0 * params + 14.0 * embedding) / 1e12;
    cr_assert(near(fsdp1 - zero3, want), "%.9g vs %.9g", fsdp1 - zero3, want);
}

/* torchtitan's FSDP2 copies around each unit's collectives (_fsdp_collectives.py): the
 * gathered unit copied out into its parameters on the compute stream (2 bytes read and 2
 * written per parameter, each gather: forward and, resharded, backward again); the copy-in of
 * the shard (cast fp32 -> bf16 and flat copy: 4 + 3 x 2 bytes over 8 GPUs) and the
 * reduce-scatter's copy-in (2 read, 4 written) on side streams, hidden on the toy GPU but the
 * embedding's, which has no work beside it; before the optimizer, clipping reads and scales the
 * fp32 gradient shard (12 bytes).  Llama-3.1-8B over 8 GPUs, HBM at 1 TB/s, against
 * Megatron-FSDP's full sharding, which copies none of it. */
Test(fsdp, fsdp2_copies_around_each_units_collectives)
{
#define FSDP8(...)                                                                                \
    L("seq=8192", "gpus=8", "microbatches=1", "hw.hbm-bandwidth=1TBps", "hw.memory-efficiency=1", \
      "grad-reduce-fp32=true", "fsdp=full-shard", __VA_ARGS__)
    run_ok(MODEL("llama3.1-8b"), 8, FSDP8("framework=megatron-core"));
    struct cm_stage plain = out.cm.stages[0];
    double plain_opt = out.cm.rank_opt_s[0];
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8, FSDP8("framework=torchtitan"));
    const struct cm_stage *st = &out.cm.stages[0];
    double embedding = 128256.0 * 4096;
    double params = 32 * 218112000.0 + embedding + (embedding + 4096);
    cr_assert(near(st->params, params), "%.0f parameters", st->params);
    double fwd = (4.0 * params + 10.0 * embedding / 8) / 1e12;
    /* and torchtitan's separate Q, K, V and gate / up linears sum their input gradients
     * (cm_work.c, separate_grad_sums_s): 8 + 6 bytes an element of the 8192 x 4096 input */
    double bwd = fwd + 6.0 * embedding / 1e12 + 32 * 14.0 * 8192 * 4096 / 1e12;
    cr_assert(near(st->fwd.compute - plain.fwd.compute, fwd), "forward %.9g vs %.9g",
              st->fwd.compute - plain.fwd.compute, fwd);
    cr_assert(near(st->bwd.compute - plain.bwd.compute, bwd), "backward %.9g vs %.9g",
              st->bwd.compute - plain.bwd.compute, bwd);
    cr_assert(near(out.cm.rank_opt_s[0] - plain_opt, 12.0 * params / 8 / 1e12), "clipping");
    /* Memory: no 16-bit shard (the fp32 master, in the optimizer state, is the shard), two
     * gathered units (the largest: the head and its norm); the gradients' fp32 shard, and the
     * largest unit's bf16 gradients with their fp32 reduce-scatter input. */
    double largest = 128256.0 * 4096 + 4096;
    const struct cm_rank_memory *mm = &out.rep.mem[0];
    cr_assert(near(mm->weights, 2.0 * 2 * largest), "weights %g", mm->weights);
    cr_assert(near(mm->grads, 4.0 * params / 8 + (2.0 + 4.0) * largest), "grads %g", mm->grads);
    cr_assert(near(mm->optimizer, 12.0 * params / 8), "optimizer %g", mm->optimizer);
    step_release(&out);
#undef FSDP8
}

/* Under pipeline parallelism FSDP2 accumulates each backward's gradients unsharded in fp32
 * (the first cast, 2 + 4 bytes; each later one added in, 4 + 2 read and 4 written), copies
 * them into the reduce-scatter input after the last backward (4 read, 4 written) and only then
 * reduce-scatters, none of it beside a backward: with 8 micro-batches an average of 9.5 bytes
 * a parameter per micro-batch, with 2 micro-batches 8. */
/* Megatron-Core buckets a chunk's gradient reduction (40M parameters a bucket at dp 4) only on
 * the first pipeline rank's first chunk: there just the last bucket's share waits for the
 * chunk's last backward; every other chunk (interleaved, pp 2 x vp 2) is reduced whole after
 * it. */
Test(dp, only_the_first_chunk_of_the_first_rank_reduces_in_buckets)
{
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=512", "gpus=8", "pp=2", "vp=2", "schedule=interleaved", "microbatches=4",
             "zero=1"));
    for (int r = 0; r < 2; r++)
        for (int ch = 0; ch < 2; ch++) {
            int s = scn_stage_of(&scn, r, ch);
            const struct cm_stage *st = &out.cm.stages[s];
            double tail = r == 0 && ch == 0 ? st->dp_sync_s * 40e6 / st->params : st->dp_sync_s;
            cr_assert(st->params > 40e6, "the chunk holds more than a bucket");
            cr_assert(llabs(out.setup.stage_dp_tail[s] - simtime_from_s(tail)) <= 1,
                      "rank %d chunk %d: tail %lld vs %.9g s", r, ch,
                      (long long)out.setup.stage_dp_tail[s], tail);
        }
    step_release(&out);
}

Test(fsdp, fsdp2_under_pipelining_accumulates_unsharded_and_reduces_after_the_last_backward)
{
#define PIPED(mbs)                                                                                \
    L("seq=512", "gpus=8", "pp=2", mbs, "fsdp=full-shard", "grad-reduce-fp32=true",              \
      "framework=torchtitan", "hw.hbm-bandwidth=1TBps", "hw.memory-efficiency=1")
    run_ok(MODEL("llama3.1-8b"), 8, PIPED("microbatches=2"));
    double wgt2 = out.cm.stages[0].wgt.compute;
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8, PIPED("microbatches=8"));
    const struct cm_stage *st = &out.cm.stages[0];
    double p = st->params;
    cr_assert(near(st->wgt.compute - wgt2, 1.5 * p / 1e12), "%.9g vs %.9g",
              st->wgt.compute - wgt2, 1.5 * p / 1e12);
    double rs = 0.75 * 4.0 * p / 100e9, copy_in = 8.0 * p / 1e12;
    cr_assert(near(st->dp_sync_s, rs + copy_in), "%.9g vs %.9g", st->dp_sync_s, rs + copy_in);
    for (int s = 0; s < 2; s++)
        cr_assert_eq(out.setup.stage_dp_tail[s], out.setup.stage_dp[s],
                     "stage %d: nothing hides behind its last backward", s);
    /* Memory: the stage kept gathered in bf16 and no 16-bit shard; its fp32 accumulated
     * gradients and the largest unit's (the embedding's) bf16 ones. */
    double embedding = 128256.0 * 4096;
    cr_assert(near(out.rep.mem[0].weights, 2.0 * p), "weights %g", out.rep.mem[0].weights);
    cr_assert(near(out.rep.mem[0].grads, 4.0 * p + 2.0 * embedding), "grads %g",
              out.rep.mem[0].grads);
    step_release(&out);
#undef PIPED
}

/* P2P scatter-gather without sequence parallelism: the receiver all-gathers each activation
 * (and gradient) over its TP group before use.  Llama-3.1-8B, tp 2, pp 2 in one toy node (100
 * GB/s NVLink): 4096 tokens x 4096 x 2 bytes, half of it over the link, in stage 1's forward
 * and stage 0's backward; with sequence parallelism nothing is gathered. */
Test(pp, scatter_gather_receivers_all_gather_over_tp)
{
#define SG(...) L("seq=4096", "gpus=4", "tp=2", "pp=2", "microbatches=4", __VA_ARGS__)
    run_ok(MODEL("llama3.1-8b"), 8, SG("sp=false", "p2p-scatter-gather=false"));
    struct cm_stage whole[2] = {out.cm.stages[0], out.cm.stages[1]};
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8, SG("sp=false", "p2p-scatter-gather=true"));
    double gather = 0.5 * 4096.0 * 4096 * 2 / 100e9;
    cr_assert(near(out.cm.stages[1].fwd.tp - whole[1].fwd.tp, gather), "stage 1 forward %.9g",
              out.cm.stages[1].fwd.tp - whole[1].fwd.tp);
    cr_assert(near(out.cm.stages[0].bwd.tp - whole[0].bwd.tp, gather), "stage 0 backward");
    cr_assert(near(out.cm.stages[0].fwd.tp, whole[0].fwd.tp), "the first stage receives nothing");
    cr_assert(near(out.cm.stages[1].bwd.tp, whole[1].bwd.tp), "the last stage neither");
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8, SG("sp=true", "p2p-scatter-gather=true"));
    struct cm_stage sp1 = out.cm.stages[1];
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8, SG("sp=true", "p2p-scatter-gather=false"));
    cr_assert(near(sp1.fwd.tp, out.cm.stages[1].fwd.tp), "sequence parallel: no gather");
    step_release(&out);
    /* DeepSpeed's pipeline engine also gathers a stage's own output back before its backward:
     * stage 0's backward gathers twice, the last stage's still not at all. */
    run_ok(MODEL("llama3.1-8b"), 8,
           SG("sp=false", "p2p-scatter-gather=true", "framework=deepspeed",
              "distributed-optimizer=false", "overlap-grad-reduce=false",
              "overlap-param-gather=false"));
    cr_assert(near(out.cm.stages[0].bwd.tp - whole[0].bwd.tp, 2.0 * gather),
              "DeepSpeed stage 0 backward %.9g", out.cm.stages[0].bwd.tp - whole[0].bwd.tp);
    cr_assert(near(out.cm.stages[1].bwd.tp, whole[1].bwd.tp), "nor the last stage there");
    step_release(&out);
#undef SG
}

Test(fsdp, hybrid_shard_and_the_optimizer_state_precision)
{
    /* Shards of 4 GPUs replicated twice: optimizer state over 4, Megatron's bf16 moments. */
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=512", "gpus=8", "microbatches=1", "fsdp=hybrid-shard", "fsdp-group=4",
             "optimizer-state=bf16-moments"));
    double params = out.cm.stages[0].params;
    cr_assert(near(out.rep.mem[0].optimizer, (4.0 + 2 * 2.0) * params / 4), "optimizer %g",
              out.rep.mem[0].optimizer);
    step_release(&out);
    /* zero=1 is the distributed optimizer: the state sharded, weights and gradients whole. */
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=512", "gpus=8", "microbatches=1", "zero=1"));
    const struct cm_rank_memory *mm = &out.rep.mem[0];
    cr_assert(near(mm->weights, 2.0 * out.cm.stages[0].params));
    cr_assert(near(mm->optimizer, 12.0 * out.cm.stages[0].params / 8));
    cr_assert_gt(out.cm.stages[0].dp_sync_s, 0.0, "reduce-scattered at the end of the step");
    cr_assert_eq(out.cm.stages[0].fwd.dp, 0.0);
    step_release(&out);
}

/* Megatron-FSDP's outer_dp_sharding_strategy "optim" (fsdp-outer-shard=optim): shards of 4 GPUs
 * replicated twice, the two replicas splitting each shard's optimizer state again -- fp32
 * master and moments over all 8 -- while weights and gradients stay sharded over 4. */
Test(fsdp, outer_optim_splits_the_optimizer_state_over_the_replicas)
{
    const char *llama = MODEL("llama3.1-8b");
    run_ok(llama, 8, L("seq=512", "gpus=8", "microbatches=1", "fsdp=hybrid-shard", "fsdp-group=4"));
    struct cm_rank_memory inner = out.rep.mem[0];
    double params = out.cm.stages[0].params;
    step_release(&out);
    run_ok(llama, 8,
           L("seq=512", "gpus=8", "microbatches=1", "fsdp=hybrid-shard", "fsdp-group=4",
             "fsdp-outer-shard=optim"));
    const struct cm_rank_memory *outer = &out.rep.mem[0];
    cr_assert(near(inner.optimizer, 12.0 * params / 4), "%g", inner.optimizer);
    cr_assert(near(outer->optimizer, 12.0 * params / 8), "%g", outer->optimizer);
    cr_assert(near(outer->weights, inner.weights));
    cr_assert(near(outer->grads, inner.grads));
    step_release(&out);
    toy_rule_error(llama, "", L("seq=512", "gpus=8", "zero=3", "fsdp-outer-shard=optim"),
                   "fsdp-outer-shard=optim splits a shard over its replicas", &scn, &out);
}

/* Hybrid shards and expert parallelism: OLMoE on 16 GPUs, ep 8, so 2 expert-DP ranks.  A shard
 * group of 8 GPUs is one expert-parallel group, holding one rank of each expert: the experts'
 * parameters are not sharded inside it (eshard 1), only replicated across the two groups; a
 * group of all 16 holds both expert-DP ranks and shards the experts over them. */
Test(fsdp, hybrid_shards_hold_the_expert_dp_ranks_inside_them)
{
    const char *olmoe = MODEL("olmoe-1b-7b");
    run_ok(olmoe, 8,
           L("seq=512", "gpus=16", "ep=8", "microbatches=1", "fsdp=hybrid-shard", "fsdp-group=8"));
    cr_assert_eq(out.cm.cfg.eshard, 1);
    cr_assert_eq(out.cm.cfg.shard, 8);
    step_release(&out);
    run_ok(olmoe, 8,
           L("seq=512", "gpus=16", "ep=8", "microbatches=1", "fsdp=hybrid-shard",
             "fsdp-group=16"));
    cr_assert_eq(out.cm.cfg.eshard, 2);
    step_release(&out);
}

/* Across hybrid shards' replicas the gradients are reduced every micro-batch under PyTorch
 * FSDP's HYBRID_SHARD (fsdp=hybrid-shard), once a step under Megatron-FSDP (sharding named by
 * zero: megatron_fsdp.py reduces on the outer group only at the last micro-batch): there it is
 * the stage's end-of-step sync, the same for one micro-batch or four, and out of the backward's
 * per-micro-batch traffic. */
Test(fsdp, megatron_fsdp_reduces_across_replicas_once_a_step)
{
    const char *llama = MODEL("llama3.1-8b");
    double sync[2], bwd_dp[2];
    const char *mbs[] = {"microbatches=1", "microbatches=4"};
    for (int i = 0; i < 2; i++) {
        run_ok(llama, 8, L("seq=512", "gpus=8", mbs[i], "zero=3", "fsdp-group=4"));
        sync[i] = out.cm.stages[0].dp_sync_s;
        bwd_dp[i] = out.cm.stages[0].bwd.dp;
        step_release(&out);
    }
    cr_assert_gt(sync[0], 0.0);
    cr_assert(near(sync[0], sync[1]), "%.9g vs %.9g", sync[0], sync[1]);
    run_ok(llama, 8, L("seq=512", "gpus=8", "microbatches=4", "fsdp=hybrid-shard", "fsdp-group=4"));
    cr_assert_eq(out.cm.stages[0].dp_sync_s, 0.0, "PyTorch's: inside every backward");
    cr_assert_gt(out.cm.stages[0].bwd.dp, bwd_dp[1]);
    step_release(&out);
}

Test(fsdp, prefetch_hides_behind_long_layers)
{
    /* At seq 8192 a layer's forward (about 7.3 ms on the toy GPU) outlasts its 3.8 ms gather,
     * and so does the head's: only the embedding's gather, first of all, stays exposed. */
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=8192", "gpus=8", "microbatches=1", "fsdp=full-shard", "grad-reduce-fp32=false"));
    double embedding_ag = 2.0 * 128256.0 * 4096 * 7.0 / 8 / 100e9;
    cr_assert(near(out.cm.stages[0].fwd.dp, embedding_ag), "%.9g vs %.9g",
              out.cm.stages[0].fwd.dp, embedding_ag);
    step_release(&out);
}

Test(zero, stages_zero_and_two_by_hand)
{
    /* zero 0: everything replicated; zero 2 (DeepSpeed ZeRO-2): gradients reduce-scattered per
     * micro-batch (one layer's full gradients at a time), optimizer state sharded, weights
     * whole and gathered once a step; bf16 gradients, fp32 Adam state. */
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=512", "gpus=8", "microbatches=1", "zero=0"));
    double p = out.cm.stages[0].params;
    const struct cm_rank_memory *mm = &out.rep.mem[0];
    cr_assert(near(mm->weights, 2.0 * p) && near(mm->grads, 2.0 * p) &&
              near(mm->optimizer, 12.0 * p));
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8, L("seq=512", "gpus=8", "microbatches=1", "zero=2"));
    mm = &out.rep.mem[0];
    double largest = 128256.0 * 4096 + 4096; /* the head and its final norm */
    cr_assert(near(mm->weights, 2.0 * p), "weights %g", mm->weights);
    cr_assert(near(mm->grads, 2.0 * (p / 8 + largest)), "grads %g", mm->grads);
    cr_assert(near(mm->optimizer, 12.0 * p / 8), "optimizer %g", mm->optimizer);
    cr_assert_eq(out.cm.stages[0].fwd.dp, 0.0, "no gathers inside the ops");
    cr_assert_gt(out.cm.stages[0].bwd.dp, 0.0, "reduce-scatters inside the backward");
    cr_assert_eq(out.cm.stages[0].dp_sync_s, 0.0);
    step_release(&out);
}

/* A tied embedding lives on the first and the last pipeline rank: after the data-parallel
 * reduction the two all-reduce its gradient (51,200 x 2,304 bf16, 235,929,600 bytes) before
 * their optimizer step, a two-rank ring moving the whole of it -- over the 50 GB/s network with
 * one GPU a node, over 100 GB/s NVLink with the three stages in one node; the middle rank takes
 * no part. */
Test(dp, a_tied_embedding_is_all_reduced_between_the_first_and_the_last_rank)
{
    const double bytes = 2.0 * 51200 * 2304;
    double opt[2][3];
    for (int i = 0; i < 2; i++) {
        run_ok(MODEL("gpt-sc21-1.7b"), i == 0 ? 1 : 8,
               L("seq=512", "gpus=3", "pp=3", "microbatches=3"));
        for (int r = 0; r < 3; r++)
            opt[i][r] = out.cm.rank_opt_s[r];
        step_release(&out);
    }
    for (int r = 0; r < 3; r += 2)
        cr_assert(near(opt[0][r] - opt[1][r], bytes / 50e9 - bytes / 100e9),
                  "rank %d: %.9g vs %.9g", r, opt[0][r] - opt[1][r],
                  bytes / 50e9 - bytes / 100e9);
    cr_assert(near(opt[0][1], opt[1][1]), "the middle rank holds no embedding");
}

/* DualPipe on tp 1, pp 4, dp 2: stage s's gradients are reduced over its two replicas and those
 * of its mirror stage 3 - s, which holds the same part (rank = dp_rank + 2 pp_rank: stage 1 is
 * ranks 2, 3 and stage 2 ranks 4, 5).  On one 8-GPU node the four shards' reduce-scatter of the
 * fp32 gradients runs on NVLink: 3/4 of 4 p bytes at 100 GB/s (it had been priced as two nodes
 * of two).  On 4-GPU nodes the mirror sits in the other node, and a 100 Gb/s network slows it
 * (the toy's 400 Gb/s a GPU would keep pace with NVLink at two GPUs a node). */
Test(dp, dualpipe_reduces_both_copies_inside_the_node_a_pipeline_fits_in)
{
    double sync[2];
    for (int i = 0; i < 2; i++) {
        run_ok(MODEL("llama3.1-8b"), i == 0 ? 8 : 4,
               L("seq=512", "gpus=8", "pp=4", "schedule=dualpipe", "vp=2", "microbatches=8",
                 "zero=1", "grad-reduce-fp32=true", "hw.nic-bandwidth=100Gbps"));
        sync[i] = out.cm.stages[1].dp_sync_s;
        double nvlink = 3.0 / 4 * 4.0 * out.cm.stages[1].params / 100e9;
        cr_assert(i == 1 || near(sync[0], nvlink), "%.9g vs %.9g", sync[0], nvlink);
        step_release(&out);
    }
    cr_assert_lt(sync[0], sync[1], "one node %.9g s, two %.9g s", sync[0], sync[1]);
}

Test(zero, all_reduce_before_a_sharded_optimizer_moves_twice_the_bytes)
{
    /* ZeRO 1 reduce-scatters the step's fp32 gradients onto the 8 shards: 7/8 of the 4 p bytes
     * cross each GPU's 100 GB/s NVLink.  DeepSpeed's BF16_Optimizer all-reduces them first
     * (grad-reduce-op=all-reduce): a ring all-reduce moves twice that.  The optimizer state
     * stays sharded either way. */
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=512", "gpus=8", "microbatches=1", "zero=1", "grad-reduce-fp32=true"));
    double p = out.cm.stages[0].params;
    double rs = 7.0 / 8 * 4.0 * p / 100e9;
    cr_assert(near(out.cm.stages[0].dp_sync_s, rs), "%.9g vs %.9g", out.cm.stages[0].dp_sync_s,
              rs);
    step_release(&out);
    run_ok(MODEL("llama3.1-8b"), 8,
           L("seq=512", "gpus=8", "microbatches=1", "zero=1", "grad-reduce-fp32=true",
             "grad-reduce-op=all-reduce"));
    cr_assert(near(out.cm.stages[0].dp_sync_s, 2.0 * rs), "%.9g vs %.9g",
              out.cm.stages[0].dp_sync_s, 2.0 * rs);
    cr_assert(near(out.rep.mem[0].optimizer, 12.0 * p / 8), "optimizer %g",
              out.rep.mem[0].optimizer);
    step_release(&out);
}

Test(knobs, set_hw_overrides_a_hardware_value_for_one_scenario)
{
    /* The same two-node all-to-all with the NIC halved by --set hw.nic-bandwidth. */
    run_ok(MODEL("mixtral-8x7b"), 4, MIXTRAL_EP8("hw.nic-bandwidth=200Gbps"));
    double inter = COPIES * 4.0 / 8 * TOKEN_B / 25e9;
    cr_assert(near(out.cm.stages[0].fwd.ep, 32 * 2 * inter), "%.9g vs %.9g",
              out.cm.stages[0].fwd.ep, 32 * 2 * inter);
    cr_assert_eq(out.cm.hw->net.nic_bw_Bps, 25e9);
    step_release(&out);
    struct scenario s;
    struct sim_error e;
    scn_defaults(&s);
    err_clear(&e);
    cr_assert_eq(scn_set_arg(&s, "hw.nic-bandwith=1Gbps", &e), SIM_EINPUT);
    cr_assert(strstr(e.msg, "unknown hardware knob 'hw.nic-bandwith'"), "%s", e.msg);
}

/* Rank 0's end-of-step parameter all-gather (ZeRO-1, not overlapped) and weight bytes, and the
 * narrow (fp8 / nvfp4) share of its dense parameters, for Llama-3.1-8B on 8 GPUs of DP on the
 * toy GPU with `gpu_attrs`. */
static void gather_and_weights_on(const char *gpu_attrs, const char *dtype, const char *extra,
                                  const char *extra2, double *gather, double *weights,
                                  double *narrow_share)
{
    const char *const sets[] = {"seq=512", "gpus=8", "microbatches=1", "zero=1",
                                "overlap-param-gather=false", dtype, extra, extra2, NULL};
    toy_step_on(MODEL("llama3.1-8b"), 8, gpu_attrs, sets, &scn, &out);
    *gather = out.cm.rank_param_ag_s[0];
    *weights = out.rep.mem[0].weights;
    *narrow_share = out.cm.stages[0].narrow_dense_params / out.cm.stages[0].dense_params;
    step_release(&out);
}

static void gather_and_weights(const char *dtype, const char *extra, const char *extra2,
                               double *gather, double *weights, double *narrow_share)
{
    gather_and_weights_on("", dtype, extra, extra2, gather, weights, narrow_share);
}

Test(quantized, params_gather_and_live_in_their_stored_form)
{
    /* Without quantized-params every parameter is gathered in 16 bits; with it the narrow
     * layers' ones in their stored form: fp8 1 byte, nvfp4 half a byte, MXFP8 still 2 (the
     * 16-bit master through the gradient buffer).  The embedding and head stay 16-bit. */
    const char *q = "quantized-params=true";
    double g16, w16, f, g, w, fp8w, fp4w;
    gather_and_weights("dtype=bf16", NULL, NULL, &g16, &w16, &f);
    cr_assert(near(f, 0.0), "bf16 has no narrow layers");
    gather_and_weights("dtype=fp8", NULL, NULL, &g, &fp8w, &f);
    cr_assert(near(g, g16), "fp8 without quantized-params gathers 16-bit weights");
    cr_assert(f > 0.8 && f < 1.0, "the layers hold most parameters: %g", f);
    /* fp8's cached copy and transpose: 2 bytes per narrow parameter = f x the 16-bit weights */
    cr_assert(near(fp8w - w16, f * w16), "fp8 cache %.9g", fp8w - w16);
    gather_and_weights("dtype=fp8", q, NULL, &g, &w, &f);
    cr_assert(near(g / g16, (1.0 - f) + 0.5 * f), "fp8 gather %.9g", g / g16);
    /* The fp8 parameter and its transpose replace the 16-bit weight: 2 bytes either way. */
    cr_assert(near(w, w16), "fp8 quantized weights %.9g vs bf16 %.9g", w, w16);
    gather_and_weights("dtype=nvfp4", q, NULL, &g, &w, &f);
    cr_assert(near(g / g16, (1.0 - f) + 0.25 * f), "nvfp4 gather %.9g", g / g16);
    gather_and_weights("dtype=nvfp4", NULL, NULL, &g, &fp4w, &f);
    cr_assert(near((w - w16) / (fp4w - w16), (1.0078125 - 2.0) / 1.0078125), "nvfp4 weights");
    /* MXFP8 runs on Blackwell, whose fp8 GEMMs take any layout */
    const char *blackwell = "fp8-gemm-layouts=\"any\"";
    gather_and_weights_on(blackwell, "dtype=bf16", NULL, NULL, &g16, &w16, &f);
    gather_and_weights_on(blackwell, "dtype=fp8", "fp8-recipe=mxfp8", q, &g, &w, &f);
    cr_assert(near(g, g16), "mxfp8 gathers 16-bit");
    cr_assert(near(w, w16), "mxfp8's two quantized copies replace the 16-bit weight");
}

/* One MoE layer's forward element-wise time with the toy's HBM at 1 TB/s. */
static double moe_elementwise_fwd(const char *ep, const char *gpus, const char *dispatcher)
{
    run_ok(MODEL("mixtral-8x7b"), 8,
           L("seq=4096", ep, gpus, "microbatches=1", dispatcher, "hw.hbm-bandwidth=1TBps",
             "hw.memory-efficiency=1"));
    double t = out.rep.layer_view[1].elem_fwd;
    step_release(&out);
    return t;
}

Test(ep, all_to_all_sorts_again_by_local_expert)
{
    /* Megatron-Core's alltoall dispatcher sorts the received copies by local expert and
     * unsorts them before the combine when a GPU holds two or more experts: two more passes,
     * each reading and writing the 8192 routed copies of 8192 bytes.  With one expert per GPU
     * (ep 8), or with DeepEP, the copies are permuted once each way. */
    double two_local = moe_elementwise_fwd("ep=4", "gpus=4", "moe-dispatcher=alltoall");
    double two_local_deepep = moe_elementwise_fwd("ep=4", "gpus=4", "moe-dispatcher=deepep");
    double one_local = moe_elementwise_fwd("ep=8", "gpus=8", "moe-dispatcher=alltoall");
    double one_local_deepep = moe_elementwise_fwd("ep=8", "gpus=8", "moe-dispatcher=deepep");
    cr_assert(near(two_local - two_local_deepep, 2 * 2 * COPIES * TOKEN_B / 1e12), "%.9g",
              two_local - two_local_deepep);
    cr_assert(near(one_local, one_local_deepep), "%.9g vs %.9g", one_local, one_local_deepep);
}

/* Expert tensor parallelism: after the all-to-all the dispatcher gathers what the etp GPUs of
 * an expert received, and the combine reduce-scatters it back.  OLMoE at seq 4096 in one toy
 * node (100 GB/s): each GPU's 4096 x 8 routed copies of 2048 bf16 values, 134,217,728 bytes,
 * gathered over etp 2 (half over the link) in each of the two exchanges of a forward; the
 * all-to-all over 4 GPUs is the same with or without the stride. */
Test(ep, expert_tensor_parallel_gathers_what_the_experts_received)
{
    run_ok(MODEL("olmoe-1b-7b"), 8, L("seq=4096", "microbatches=1", "gpus=8", "ep=4"));
    double plain = out.rep.layer_view[1].ep_fwd;
    step_release(&out);
    run_ok(MODEL("olmoe-1b-7b"), 8,
           L("seq=4096", "microbatches=1", "gpus=8", "ep=4", "etp=2"));
    double gather = 0.5 * 2.0 * 134217728.0 / 100e9;
    cr_assert(near(out.rep.layer_view[1].ep_fwd - plain, 2.0 * gather), "etp 2: %.9g vs %.9g",
              out.rep.layer_view[1].ep_fwd, plain);
    step_release(&out);
}
