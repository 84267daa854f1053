/* test_import: Megatron-LM launch lines read as Megatron's parser reads them (values, switches,
 * --flag=value, Hydra-style overrides, quotes and line continuations), Megatron's defaults,
 * virtual stages from layers per stage, ignored flags named, bad values refused; and the whole
 * command: the file it writes loads and says what the launch line said. */
#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "framework.h"
#include "helpers.h"
#include "import.h"
#include "scenario.h"

static struct import_result res;
static struct sim_error err;

static void setup(void)
{
    xmlInitParser();
}

static enum sim_status parse(const char *line)
{
    err_clear(&err);
    const char *words[] = {line};
    return import_megatron(words, 1, &res, &err);
}

static void has(const char *key, const char *value)
{
    const char *got = import_value(&res, key);
    cr_assert(got, "%s missing", key);
    cr_assert_str_eq(got, value, "%s", key);
}

static int ignored(const char *flag)
{
    for (int i = 0; i < res.nignored; i++)
        if (strcmp(res.ignored[i], flag) == 0)
            return 1;
    return 0;
}

/* The line reads and sets `key` to `value`. */
static void reads(const char *line, const char *key, const char *value)
{
    cr_assert_eq(parse(line), SIM_OK, "%s", err.msg);
    has(key, value);
}

/* The line reads, but Megatron does not read `flag` in it: no `key`, and the flag listed. */
static void unread(const char *line, const char *key, const char *flag)
{
    cr_assert_eq(parse(line), SIM_OK, "%s", err.msg);
    cr_assert_null(import_value(&res, key), "%s: %s", line, key);
    cr_assert(ignored(flag), "%s: %s not listed", line, flag);
}

/* The line is refused with a message holding `why`. */
static void refused(const char *line, const char *why)
{
    cr_assert_eq(parse(line), SIM_EINPUT, "%s", line);
    cr_assert(strstr(err.msg, why), "%s", err.msg);
}

Test(import, flags_become_keys, .init = setup)
{
    cr_assert_eq(parse("torchrun --nnodes=4 --nproc_per_node 8 pretrain_gpt.py "
                       "--tensor-model-parallel-size 4 --pipeline-model-parallel-size=2 "
                       "--context-parallel-size 2 --sequence-parallel --micro-batch-size 2 "
                       "--global-batch-size 64 --seq-length 4096 --bf16 "
                       "--recompute-granularity selective --use-distributed-optimizer "
                       "--overlap-grad-reduce --no-overlap-p2p-communication --lr 3e-4 "
                       "--num-layers 32 --hidden-size 4096 --num-attention-heads 32"),
                 SIM_OK, "%s", err.msg);
    has("tp", "4");
    has("pp", "2");
    has("cp", "2");
    has("sp", "true");
    has("micro-batch", "2");
    has("global-batch", "64");
    has("seq", "4096");
    has("dtype", "bf16");
    has("recompute", "selective");
    has("distributed-optimizer", "true");
    has("overlap-grad-reduce", "true");
    has("overlap-p2p", "false");
    has("schedule", "1f1b");
    has("gpus", "32");
    cr_assert_null(import_value(&res, "vp"));
    cr_assert_eq(res.layers, 32);
    cr_assert_eq(res.hidden, 4096);
    cr_assert_eq(res.heads, 32);
    cr_assert_eq(res.kv_heads, 32, "no --group-query-attention: MHA");
    cr_assert(ignored("--lr"));
    cr_assert_eq(res.nignored, 1, "torchrun and the script are not flags");
    cr_assert_eq(parse("--moe-shared-expert-overlap"), SIM_OK, "%s", err.msg);
    has("moe-shared-expert-overlap", "true");
}

Test(import, megatron_defaults_where_stepsim_differs, .init = setup)
{
    cr_assert_eq(parse("--pipeline-model-parallel-size 2"), SIM_OK, "%s", err.msg);
    has("dtype", "fp32");   /* no --bf16 / --fp16: fp32 */
    has("dropout", "true"); /* dropouts default to 0.1 */
    has("framework", "megatron-core"); /* the line is Megatron-Core's */
    cr_assert_null(import_value(&res, "gpus"), "no world size given");
    cr_assert_eq(parse("--fp8-format hybrid --bf16 --attention-dropout 0 --hidden-dropout 0.0"),
                 SIM_OK, "%s", err.msg);
    has("dtype", "fp8");
    has("dropout", "false");
    cr_assert_eq(parse("--fp4-format e2m1 --bf16"), SIM_OK, "%s", err.msg);
    has("dtype", "nvfp4"); /* Transformer Engine's NVFP4 recipe for the linear layers */
    cr_assert_eq(parse("--fp4-format e2m1 --first-last-layers-bf16 "
                       "--num-layers-at-end-in-bf16 3"),
                 SIM_OK, "%s", err.msg);
    has("bf16-first-layers", "1"); /* Megatron's default */
    has("bf16-last-layers", "3");
    cr_assert_eq(parse("--fp8-format hybrid --fp8-param-gather --use-distributed-optimizer"),
                 SIM_OK, "%s", err.msg);
    has("quantized-params", "true");
    cr_assert_eq(parse("--fp8-format hybrid --num-layers-at-start-in-bf16 2"), SIM_OK, "%s",
                 err.msg);
    cr_assert_null(import_value(&res, "bf16-first-layers"), "counts mean nothing without the flag");
    /* Megatron reads the bf16 layers only with fp8 or fp4 matmuls: a bf16 run lists them */
    unread("--bf16 --first-last-layers-bf16", "bf16-first-layers",
           "--first-last-layers-bf16 (without --fp8-format / --fp4-format)");
    cr_assert_null(import_value(&res, "bf16-last-layers"));
    /* and the recompute method and count only under a recompute granularity */
    unread("--bf16 --recompute-method uniform --recompute-num-layers 1", "recompute-num-layers",
           "--recompute-num-layers");
    cr_assert_null(import_value(&res, "recompute-method"));
    cr_assert(ignored("--recompute-method"));
    cr_assert_eq(parse("--recompute-granularity full --recompute-method uniform "
                       "--recompute-num-layers 1"),
                 SIM_OK, "%s", err.msg);
    has("recompute-num-layers", "1");
    has("recompute-method", "uniform");
    cr_assert_eq(parse("--fp4-format e2m1 --fp8-format hybrid"), SIM_EINPUT);
    cr_assert(strstr(err.msg, "cannot be used together"), "%s", err.msg);
    cr_assert_eq(parse("--attention-dropout 0 --attention-backend unfused"), SIM_OK, "%s",
                 err.msg);
    has("dropout", "true"); /* hidden dropout still 0.1 */
    has("attention", "unfused");
    /* The layout string as the launch line quotes it; the scenario's parser unrolls it. */
    cr_assert_eq(parse("--pipeline-model-parallel-size 4 "
                       "--pipeline-model-parallel-layout 'Et|(tt|)*2,t|tL'"),
                 SIM_OK, "%s", err.msg);
    has("pipeline-layout", "Et|(tt|)*2,t|tL");
}

/* Megatron keeps and reduces a --bf16 run's gradients in fp32 (arguments.py: bf16 turns
 * accumulate_allreduce_grads_in_fp32 on) unless --grad-reduce-in-bf16 or --main-grads-dtype
 * bf16 say otherwise, which win whatever their order; fp16 keeps its own type unless asked. */
Test(import, gradients_in_fp32_for_bf16_unless_told, .init = setup)
{
    static const struct {
        const char *line, *want; /* want NULL: no key, stepsim's default (16-bit) */
    } cases[] = {
        {"--bf16", "true"},
        {"--fp8-format hybrid --bf16", "true"}, /* fp8 GEMMs, bf16 parameters */
        {"--bf16 --grad-reduce-in-bf16", "false"},
        {"--bf16 --main-grads-dtype bf16", "false"},
        {"--bf16 --main-grads-dtype fp32", "true"},
        {"--bf16 --grad-reduce-in-bf16 --accumulate-allreduce-grads-in-fp32", "false"},
        {"--bf16 --grad-reduce-in-bf16=false", "true"},
        {"--fp16", NULL},
        {"--fp16 --accumulate-allreduce-grads-in-fp32", "true"},
        {"--bf16 ddp.grad_reduce_in_fp32=False", "false"}, /* Megatron-Bridge's field */
        {"mixed_precision.grad_reduce_in_fp32=true", "true"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(parse(cases[i].line), SIM_OK, "%s: %s", cases[i].line, err.msg);
        const char *got = import_value(&res, "grad-reduce-fp32");
        if (!cases[i].want)
            cr_assert_null(got, "%s", cases[i].line);
        else
            cr_assert(got && strcmp(got, cases[i].want) == 0, "%s: got %s", cases[i].line,
                      got ? got : "nothing");
        cr_assert_eq(res.nignored, 0, "%s: every gradient flag is read", cases[i].line);
    }
    cr_assert_eq(parse("--bf16 --main-grads-dtype fp16"), SIM_EINPUT);
    cr_assert(strstr(err.msg, "fp32 and bf16"), "%s", err.msg);
}

Test(import, virtual_stages_from_layers_per_stage, .init = setup)
{
    cr_assert_eq(parse("--num-layers 80 --pipeline-model-parallel-size 4 "
                       "--num-layers-per-virtual-pipeline-stage 4"),
                 SIM_OK, "%s", err.msg);
    has("vp", "5");
    has("schedule", "interleaved");
    cr_assert_eq(parse("--virtual-pipeline-model-parallel-size 2 --pipeline-model-parallel-size 8"
                       " --microbatch-group-size-per-virtual-pipeline-stage 16"),
                 SIM_OK, "%s", err.msg);
    has("vp", "2");
    has("vp-group", "16");
    has("schedule", "interleaved");
    cr_assert_eq(parse("--num-layers 80 --pipeline-model-parallel-size 3 "
                       "--num-layers-per-virtual-pipeline-stage 4"),
                 SIM_EINPUT);
    cr_assert(strstr(err.msg, "the model's 80 layers are not a multiple"), "%s", err.msg);
}

/* One quoted string with continuations, --flag=value, Hydra-style section.flag=value. */
Test(import, words_as_shells_and_hydra_write_them, .init = setup)
{
    cr_assert_eq(parse("python pretrain_gpt.py \\\n  --tensor-model-parallel-size 2 \\\n"
                       "  --data-path '/data/my corpus' --group-query-attention "
                       "--num-query-groups=8 --num-attention-heads 64"),
                 SIM_OK, "%s", err.msg);
    has("tp", "2");
    cr_assert_eq(res.kv_heads, 8);
    cr_assert(ignored("--data-path"));
    cr_assert_eq(res.nignored, 1, "'/data/my corpus' is one value, not a flag");
    cr_assert_eq(parse("model.tensor_model_parallel_size=8 model.sequence_parallel=True "
                       "ddp.overlap_grad_reduce=false train.global_batch_size=256 "
                       "optimizer.lr=1e-4"),
                 SIM_OK, "%s", err.msg);
    has("tp", "8");
    has("sp", "true");
    cr_assert_null(import_value(&res, "overlap-grad-reduce"), "=false leaves the default");
    has("global-batch", "256");
    cr_assert(ignored("lr"));
    /* a switch with its state as the next word, as Megatron's test configs write them
     * (`--sequence-parallel: false`): false leaves it off, true turns it on -- the word had
     * been skipped and every such switch turned on */
    cr_assert_eq(parse("--tensor-model-parallel-size 2 --sequence-parallel false "
                       "--use-distributed-optimizer False --overlap-grad-reduce true --bf16"),
                 SIM_OK, "%s", err.msg);
    cr_assert_null(import_value(&res, "sp"));
    cr_assert_null(import_value(&res, "distributed-optimizer"));
    has("overlap-grad-reduce", "true");
    cr_assert_eq(res.nignored, 0, "the states are no flags or values of ignored ones");
}

Test(import, bad_values_are_refused, .init = setup)
{
    cr_assert_eq(parse("--tensor-model-parallel-size eight"), SIM_EINPUT);
    cr_assert(strstr(err.msg, "--tensor-model-parallel-size eight: 'eight' is not a whole number"),
              "%s", err.msg);
    cr_assert_eq(parse("--micro-batch-size"), SIM_EINPUT);
    cr_assert(strstr(err.msg, "--micro-batch-size needs a value"), "%s", err.msg);
    cr_assert_eq(parse("--hidden-dropout x"), SIM_EINPUT);
    cr_assert_eq(parse("--sequence-parallel=maybe"), SIM_EINPUT);
    cr_assert_eq(parse("--optimizer soap"), SIM_EINPUT); /* not modelled: not imported as Adam */
    cr_assert(strstr(err.msg, "--optimizer soap is not modelled"), "%s", err.msg);
}

/* Recompute and MoE flags: --recompute-modules takes a list (argparse nargs '*', or Hydra's
 * [a,b]); the flex dispatcher becomes deepep, or hybridep with that backend, in either order
 * (the backend alone names no dispatcher); a padded routing map under either name.  Each line,
 * then the keys it must give (NULL-terminated key, value pairs). */
Test(import, recompute_and_moe_flags, .init = setup)
{
    static const struct {
        const char *line;
        const char *keys[16];
    } cases[] = {
        {"--recompute-granularity selective --recompute-modules core_attn mlp "
         "--recompute-method block --recompute-num-layers 2 --mtp-num-layers 1 "
         "--moe-token-dispatcher-type alltoall --overlap-moe-expert-parallel-comm",
         {"recompute-modules", "core_attn,mlp", "recompute-method", "block",
          "recompute-num-layers", "2", "mtp-layers", "1", "moe-dispatcher", "alltoall",
          "overlap-ep-comm", "true", NULL}},
        {"model.recompute_granularity=selective "
         "\"model.recompute_modules=['moe_act', 'layernorm']\" --moe-token-dispatcher-type flex",
         {"recompute-modules", "moe_act,layernorm", "moe-dispatcher", "deepep", NULL}},
        {"--moe-token-dispatcher-type alltoall --moe-flex-dispatcher-backend hybridep",
         {"moe-dispatcher", "alltoall", NULL}},
        {"--moe-token-dispatcher-type flex --moe-flex-dispatcher-backend hybridep",
         {"moe-dispatcher", "hybridep", NULL}},
        {"--moe-flex-dispatcher-backend hybridep --moe-token-dispatcher-type flex",
         {"moe-dispatcher", "hybridep", NULL}},
        {"--moe-flex-dispatcher-backend deepep --moe-token-dispatcher-type flex",
         {"moe-dispatcher", "deepep", NULL}},
        {"--moe-router-padding-for-quantization", {"moe-router-padding", "true", NULL}},
        {"--moe-router-padding-for-fp8", {"moe-router-padding", "true", NULL}},
        {"--moe-token-dispatcher-type flex --moe-deepep-num-sms 24",
         {"moe-dispatcher", "deepep", "deepep-sms", "24", NULL}},
        {"--moe-enable-deepep --moe-flex-dispatcher-num-sms 32",
         {"moe-dispatcher", "deepep", "deepep-sms", "32", NULL}},
        {"--mtp-num-layers 2 --mtp-use-repeated-layer",
         {"mtp-layers", "2", "mtp-repeated-layer", "true", NULL}},
        /* a MoE line: the router's dtype as given; --moe-router-fusion a store-true flag */
        {"--num-experts 8 --moe-router-dtype fp32 --moe-router-fusion",
         {"moe-router-dtype", "fp32", "moe-router-fusion", "true", NULL}},
        {"--num-experts 8", {"moe-router-fusion", "false", NULL}},
        /* the loss: Megatron's unfused default; --cross-entropy-loss-fusion a store-true
         * flag, --cross-entropy-fusion-impl (native, te) counting only with it */
        {"--tensor-model-parallel-size 2", {"cross-entropy", "unfused", NULL}},
        {"--cross-entropy-loss-fusion", {"cross-entropy", "fused", NULL}},
        {"--cross-entropy-loss-fusion --cross-entropy-fusion-impl te",
         {"cross-entropy", "te", NULL}},
        {"--cross-entropy-fusion-impl te", {"cross-entropy", "unfused", NULL}},
        /* a Hydra-style override may turn a store-true flag off */
        {"model.cross_entropy_loss_fusion=false", {"cross-entropy", "unfused", NULL}},
        {"model.cross_entropy_loss_fusion=True", {"cross-entropy", "fused", NULL}},
        {"--num-experts 8 model.moe_router_fusion=false", {"moe-router-fusion", "false", NULL}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        cr_assert_eq(parse(cases[c].line), SIM_OK, "case %zu: %s", c, err.msg);
        for (const char *const *k = cases[c].keys; *k; k += 2)
            has(k[0], k[1]);
        cr_assert_eq(res.nignored, 0, "case %zu: a list's words are its value", c);
    }
    cr_assert_eq(parse("--recompute-modules"), SIM_EINPUT);
    cr_assert(strstr(err.msg, "--recompute-modules needs a value"), "%s", err.msg);
    cr_assert_eq(parse("--moe-flex-dispatcher-backend hybridep"), SIM_OK, "%s", err.msg);
    cr_assert_null(import_value(&res, "moe-dispatcher"), "a backend alone names no dispatcher");
    cr_assert_eq(parse("--moe-flex-dispatcher-backend ncclep"), SIM_EINPUT);
    cr_assert(strstr(err.msg, "deepep and hybridep"), "%s", err.msg);
    cr_assert_eq(parse("--tensor-model-parallel-size 2"), SIM_OK, "%s", err.msg);
    cr_assert_null(import_value(&res, "moe-router-fusion"), "a dense line says nothing of it");
    cr_assert_eq(parse("--cross-entropy-fusion-impl triton"), SIM_EINPUT);
    cr_assert(strstr(err.msg, "native and te"), "%s", err.msg);
}

/* Megatron's --optimizer: Muon, and dist_muon's layer-wise sharded state; SGD's momentum and
 * Lion keep one moment. */
/* The optimizer's host offload and the expert capacity, as Megatron reads them: the offload's
 * share (default all) only with --optimizer-cpu-offload; the capacity factor stepsim models
 * with the padding to it, a factor alone dropping tokens without fixed shapes. */
Test(import, optimizer_offload_and_expert_capacity, .init = setup)
{
    const char *moe = "--num-experts 8 --expert-model-parallel-size 8 --bf16 ";
    char line[512];
    snprintf(line, sizeof line, "%s--optimizer-cpu-offload", moe);
    reads(line, "offload-optimizer", "1");
    snprintf(line, sizeof line, "%s--optimizer-cpu-offload --optimizer-offload-fraction 0.5", moe);
    reads(line, "offload-optimizer", "0.5");
    snprintf(line, sizeof line, "%s--optimizer-offload-fraction 0.5", moe);
    unread(line, "offload-optimizer", "--optimizer-offload-fraction");
    snprintf(line, sizeof line,
             "%s--moe-expert-capacity-factor 1.25 --moe-pad-expert-input-to-capacity", moe);
    reads(line, "moe-capacity-factor", "1.25");
    snprintf(line, sizeof line, "%s--moe-expert-capacity-factor 1.25", moe);
    cr_assert_eq(parse(line), SIM_OK, "%s", err.msg);
    cr_assert_null(import_value(&res, "moe-capacity-factor"));
    cr_assert_eq(res.nignored, 1);
    cr_assert(strstr(res.ignored[0], "--moe-expert-capacity-factor (without"), "%s",
              res.ignored[0]);
    snprintf(line, sizeof line, "%s--moe-pad-expert-input-to-capacity", moe);
    refused(line, "--moe-pad-expert-input-to-capacity needs --moe-expert-capacity-factor");
}

/* Replicated optimizer shards: the instances split dp x cp = gpus / (tp x pp) into shard groups
 * (64 / (4 x 2) = 8 ranks, 2 instances: groups of 4); the outer sharding only under
 * Megatron-FSDP's HSDP with optim_grads_params; an instance count that does not divide is
 * refused as Megatron asserts. */
Test(import, optimizer_instances_become_shard_groups, .init = setup)
{
    const char *layout = "--nnodes 8 --nproc-per-node 8 --tensor-model-parallel-size 4 "
                         "--pipeline-model-parallel-size 2 --bf16 ";
    char line[512];
    snprintf(line, sizeof line,
             "%s--use-megatron-fsdp --num-distributed-optimizer-instances 2 "
             "--outer-dp-sharding-strategy optim",
             layout);
    cr_assert_eq(parse(line), SIM_OK, "%s", err.msg);
    cr_assert_eq(import_shard_groups(&res, &err), SIM_OK, "%s", err.msg);
    has("zero", "3");
    has("fsdp-group", "4");
    has("fsdp-outer-shard", "optim");
    snprintf(line, sizeof line,
             "%s--use-distributed-optimizer --num-distributed-optimizer-instances 8", layout);
    cr_assert_eq(parse(line), SIM_OK, "%s", err.msg);
    cr_assert_eq(import_shard_groups(&res, &err), SIM_OK, "%s", err.msg);
    has("fsdp-group", "1");
    cr_assert_null(import_value(&res, "fsdp-outer-shard"));
    snprintf(line, sizeof line, "%s--num-distributed-optimizer-instances 2", layout);
    cr_assert_eq(parse(line), SIM_OK, "%s", err.msg);
    cr_assert_eq(import_shard_groups(&res, &err), SIM_OK, "%s", err.msg);
    cr_assert_null(import_value(&res, "fsdp-group"), "nothing sharded to replicate");
    cr_assert(ignored("--num-distributed-optimizer-instances (no sharded optimizer)"));
    snprintf(line, sizeof line,
             "%s--use-megatron-fsdp --data-parallel-sharding-strategy optim "
             "--num-distributed-optimizer-instances 2 --outer-dp-sharding-strategy optim",
             layout);
    cr_assert_eq(parse(line), SIM_OK, "%s", err.msg);
    cr_assert_eq(import_shard_groups(&res, &err), SIM_OK, "%s", err.msg);
    has("fsdp-group", "4");
    cr_assert_null(import_value(&res, "fsdp-outer-shard"));
    cr_assert(ignored("--outer-dp-sharding-strategy (HSDP's optim_grads_params only)"));
    snprintf(line, sizeof line,
             "%s--use-distributed-optimizer --num-distributed-optimizer-instances 3", layout);
    cr_assert_eq(parse(line), SIM_OK, "%s", err.msg);
    cr_assert_eq(import_shard_groups(&res, &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "3 does not divide the 8 data-parallel ranks"), "%s", err.msg);
}

Test(import, optimizers, .init = setup)
{
    cr_assert_eq(parse("--optimizer dist_muon --muon-num-ns-steps 6"), SIM_OK, "%s", err.msg);
    has("optimizer-algorithm", "muon");
    has("distributed-optimizer", "true");
    has("muon-ns-steps", "6");
    cr_assert_eq(parse("--optimizer muon"), SIM_OK, "%s", err.msg);
    has("optimizer-algorithm", "muon");
    cr_assert_null(import_value(&res, "distributed-optimizer"), "muon alone shards nothing");
    cr_assert_eq(parse("--optimizer adam --muon-num-ns-steps 6"), SIM_OK, "%s", err.msg);
    cr_assert_null(import_value(&res, "muon-ns-steps"), "read by Megatron for Muon only");
    cr_assert(ignored("--muon-num-ns-steps"));
    cr_assert_eq(parse("--optimizer lion"), SIM_OK, "%s", err.msg);
    has("optimizer-moments", "1");
    cr_assert_null(import_value(&res, "optimizer-algorithm"));
}

/* --no-async-tensor-model-parallel-allreduce: the input gradient's all-reduce in line, but
 * only without SP (Megatron sets the flag's effect off itself under sequence parallelism). */
Test(import, sync_tp_allreduce_only_without_sequence_parallelism, .init = setup)
{
    cr_assert_eq(parse("--tensor-model-parallel-size 2 --no-async-tensor-model-parallel-allreduce"),
                 SIM_OK, "%s", err.msg);
    has("overlap-tp-backward", "false");
    cr_assert_eq(parse("--tensor-model-parallel-size 2 --sequence-parallel "
                       "--no-async-tensor-model-parallel-allreduce"),
                 SIM_OK, "%s", err.msg);
    cr_assert_null(import_value(&res, "overlap-tp-backward"));
    cr_assert(ignored("--no-async-tensor-model-parallel-allreduce"));
}

Test(import, fp8_output_proj, .init = setup)
{
    cr_assert_eq(parse("--fp8-format hybrid --fp8-recipe mxfp8 --fp8-output-proj"), SIM_OK, "%s",
                 err.msg);
    has("fp8-output-proj", "true");
    has("dtype", "fp8");
}

/* CUDA graphs: --cuda-graph-impl local with the scope full_iteration is the whole iteration;
 * transformer_engine (or the older --enable-cuda-graph) each layer's modules, the scope's or
 * with none the whole layer (a MoE layer's router, dispatch and experts as one); a scope
 * without an impl means nothing. */
Test(import, cuda_graphs, .init = setup)
{
    cr_assert_eq(parse("--cuda-graph-impl local --cuda-graph-scope full_iteration"), SIM_OK,
                 "%s", err.msg);
    has("cuda-graphs", "full-iteration");
    cr_assert_null(import_value(&res, "cuda-graph-scope"));
    cr_assert_eq(parse("--cuda-graph-impl transformer_engine --cuda-graph-scope attn "
                       "moe_router moe_preprocess"),
                 SIM_OK, "%s", err.msg);
    has("cuda-graphs", "modules");
    has("cuda-graph-scope", "attn,moe_router,moe_preprocess");
    cr_assert_eq(parse("--cuda-graph-impl transformer_engine --cuda-graph-modules mamba"), SIM_OK,
                 "%s", err.msg);
    has("cuda-graph-scope", "mamba");
    cr_assert_eq(parse("--enable-cuda-graph"), SIM_OK, "%s", err.msg);
    has("cuda-graphs", "modules");
    has("cuda-graph-scope", "attn,mlp");
    cr_assert_eq(parse("--num-experts 8 --cuda-graph-impl transformer_engine"), SIM_OK, "%s",
                 err.msg);
    has("cuda-graph-scope", "attn,moe");
    cr_assert_eq(parse("--cuda-graph-scope attn"), SIM_OK, "%s", err.msg);
    cr_assert_null(import_value(&res, "cuda-graphs"));
    cr_assert_null(import_value(&res, "cuda-graph-scope"));
    cr_assert(ignored("--cuda-graph-scope"));
    cr_assert_eq(parse("--cuda-graph-impl none --cuda-graph-scope full_iteration"), SIM_OK);
    cr_assert_null(import_value(&res, "cuda-graphs"));
    cr_assert_eq(parse("--cuda-graph-impl transformer_engine --cuda-graph-scope full_iteration"),
                 SIM_EINPUT);
    cr_assert(strstr(err.msg, "needs --cuda-graph-impl local"), "%s", err.msg);
    cr_assert_eq(parse("--cuda-graph-impl cudnn"), SIM_EINPUT);
    cr_assert(strstr(err.msg, "none, local, transformer_engine and full_iteration"), "%s",
              err.msg);
}

/* Flags of keys stepsim models that import had listed as ignored: the context-parallel
 * exchange and its levels, the LM head's deferred weight gradients. */
Test(import, context_parallel_exchange_and_deferred_head, .init = setup)
{
    cr_assert_eq(parse("--context-parallel-size 4 --cp-comm-type a2a+p2p a2a+p2p "
                       "--hierarchical-context-parallel-sizes 2 2"),
                 SIM_OK, "%s", err.msg);
    has("cp-comm-type", "a2a+p2p"); /* one type a layer, all the same */
    has("hierarchical-cp", "2");    /* the first level, adjacent ranks: the all-to-all */
    cr_assert_eq(parse("model.context_parallel_size=2 model.cp_comm_type=a2a"), SIM_OK, "%s",
                 err.msg);
    has("cp-comm-type", "a2a");
    refused("--context-parallel-size 2 --cp-comm-type p2p a2a",
            "--cp-comm-type p2p,a2a: one type a layer, and they differ");
    refused("--context-parallel-size 8 --cp-comm-type a2a+p2p "
            "--hierarchical-context-parallel-sizes 2 2 2",
            "stepsim models two levels");
    /* without context parallelism, or without a2a+p2p, Megatron reads them not */
    unread("--cp-comm-type a2a --context-parallel-size 2 "
           "--hierarchical-context-parallel-sizes 1 2",
           "hierarchical-cp", "--hierarchical-context-parallel-sizes");
    unread("--cp-comm-type a2a", "cp-comm-type", "--cp-comm-type");
    cr_assert_eq(parse("--pipeline-model-parallel-size 2 --defer-embedding-wgrad-compute "
                       "--wgrad-deferral-limit 3"),
                 SIM_OK, "%s", err.msg);
    has("defer-head-wgrad", "true");
    has("wgrad-deferral-limit", "3");
    unread("--wgrad-deferral-limit 3", "wgrad-deferral-limit", "--wgrad-deferral-limit");
}

/* Megatron-LM overlaps the interleaved schedule's P2P unless --no-overlap-p2p-communication
 * (its default since 2023-10); without virtual stages it turns the overlap off, as stepsim's
 * default has it. */
Test(import, p2p_overlapped_under_the_interleaved_schedule, .init = setup)
{
    reads("--pipeline-model-parallel-size 2 --virtual-pipeline-model-parallel-size 2",
          "overlap-p2p", "true");
    reads("--pipeline-model-parallel-size 2 --num-layers 32 "
          "--num-layers-per-virtual-pipeline-stage 4",
          "overlap-p2p", "true");
    has("vp", "4");
    reads("--pipeline-model-parallel-size 2 --virtual-pipeline-model-parallel-size 2 "
          "--no-overlap-p2p-communication",
          "overlap-p2p", "false");
    cr_assert_eq(parse("--pipeline-model-parallel-size 2"), SIM_OK, "%s", err.msg);
    cr_assert_null(import_value(&res, "overlap-p2p"), "1F1B: off, as stepsim's default");
}

static int run_import(char **out, char **errtext, const char *const *args)
{
    return run_command(import_main, "import", args, out, errtext);
}

/* `stepsim import ARGS` exits `rc`, its stdout holding out_has and its stderr err_has (NULL:
 * not looked at). */
static void expect_import(const char *const *args, int rc, const char *out_has,
                          const char *err_has)
{
    char *o, *e;
    cr_expect_eq(run_import(&o, &e, args), rc, "%s", e);
    cr_expect(!out_has || strstr(o, out_has), "%s: %s", out_has, o);
    cr_expect(!err_has || strstr(e, err_has), "%s: %s", err_has, e);
    free(o);
    free(e);
}

/* `stepsim import megatron --hardware HW [--name NAME] --out TMP -- LINE` must succeed; the file
 * it wrote is loaded into scn; its stdout and stderr are left in *out and *errtext. */
static void import_into(const char *hardware, const char *name, const char *line,
                        struct scenario *scn, char **out, char **errtext)
{
    char path[] = "/tmp/stepsim-test-import-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    const char *args[10];
    int n = 0;
    args[n++] = "megatron";
    args[n++] = "--hardware";
    args[n++] = hardware;
    args[n++] = "--out";
    args[n++] = path;
    if (name) {
        args[n++] = "--name";
        args[n++] = name;
    }
    args[n++] = "--";
    args[n++] = line;
    args[n] = NULL;
    int rc = run_import(out, errtext, args);
    cr_assert_eq(rc, 0, "%s", *errtext);
    scn_defaults(scn);
    err_clear(&err);
    enum sim_status st = scn_load(scn, path, &err);
    unlink(path);
    cr_assert_eq(st, SIM_OK, "%s", err.msg);
}

/* Backslashes as the shell reads them: one outside quotes quotes the next character (a hybrid
 * pattern's * escaped against globbing; Megatron's examples/mamba/train.sh passes the pattern
 * unquoted), inside double quotes only $ ` " and itself, and one ending a line is a
 * continuation, inside double quotes too.  The backslash had been kept: "'\' is not a layer". */
Test(import, backslashes_as_the_shell_reads_them, .init = setup)
{
    cr_assert_eq(parse("--hybrid-layer-pattern M-M\\*-M\\*- --tensor-model-parallel-size 2"),
                 SIM_OK, "%s", err.msg);
    cr_assert_str_eq(res.pattern, "M-M*-M*-");
    has("tp", "2");
    /* an escaped quote opens no quoted string that would swallow the rest of the line */
    cr_assert_eq(parse("--data-path \"/a \\\n b\\$c\\d\" --tokenizer-model it\\'s "
                       "--tensor-model-parallel-size 4"),
                 SIM_OK, "%s", err.msg);
    has("tp", "4");
    cr_assert_eq(res.nignored, 2, "one value each for --data-path and --tokenizer-model");
}

/* A quoted group of flags is words, as the script's unquoted expansion makes them: an array's
 * "--fp8-format hybrid" (examples/llama/train_llama3_8b_h100_fp8.sh), or a block such as
 * examples/rl/model_configs/qwen3_30b_a3b_moe.sh's MODEL_OPTIONS="\ --seq-length 8192 \ ..."
 * pasted with its quotes (NVIDIA/Megatron-LM d98e8a64ddf34856e74b24714e3bedb2f5a39553).  It had
 * been one flag, listed as ignored: "the launch line lacks --num-layers". */
Test(import, a_quoted_group_of_flags_is_words, .init = setup)
{
    cr_assert_eq(parse("\"\\\n  --seq-length 8192 \\\n  --tensor-model-parallel-size 4  \\\n"
                       "  --expert-model-parallel-size 2 \\\n  --num-layers 48 \\\n  \""),
                 SIM_OK, "%s", err.msg);
    has("seq", "8192");
    has("tp", "4");
    has("ep", "2");
    cr_assert_eq(res.layers, 48);
    cr_assert_eq(res.nignored, 0);
    cr_assert_eq(parse("--bf16 \"--fp8-format hybrid\" \"--fp8-amax-history-len 1024\""),
                 SIM_OK, "%s", err.msg);
    has("dtype", "fp8");
    cr_assert(ignored("--fp8-amax-history-len"));
    /* a value with blanks stays one word */
    cr_assert_eq(parse("--data-path \"/data/my corpus\" --tensor-model-parallel-size 2"),
                 SIM_OK, "%s", err.msg);
    cr_assert_eq(res.nignored, 1);
}

/* --bf16 with --fp16: Megatron-LM stops (megatron/training/arguments.py, "assert not
 * args.bf16" under --fp16, d98e8a64); the later flag had won, importing whichever came last.
 * A switch turned off by its state word counts as not given. */
Test(import, bf16_and_fp16_together_are_refused, .init = setup)
{
    refused("--bf16 --tensor-model-parallel-size 2 --fp16",
            "import: --bf16 and --fp16 together: Megatron refuses the line");
    refused("--fp16 --bf16", "--bf16 and --fp16 together");
    reads("--bf16 --fp16 false", "dtype", "bf16");
    reads("--fp16", "dtype", "fp16");
}

/* A line as a script writes it: a shell variable where flags stand hides them, and one as a
 * known flag's value cannot be read; both are refused (exit 2) saying so, where the first had
 * read as a line without those flags ("the launch line lacks --num-layers").  A variable as an
 * ignored flag's value is that value.  examples/gpt3/train_gpt3_175b_distributed.sh of
 * NVIDIA/Megatron-LM d98e8a64ddf34856e74b24714e3bedb2f5a39553 ends in such a line. */
Test(import, unexpanded_shell_variables_are_refused, .init = setup)
{
    refused("torchrun ${DISTRIBUTED_ARGS[@]} pretrain_gpt.py \\\n    ${GPT_MODEL_ARGS[@]} \\\n"
            "    ${TRAINING_ARGS[@]}",
            "import: '${DISTRIBUTED_ARGS[@]}' is an unexpanded shell variable, whose flags "
            "stepsim cannot see; paste the line as the shell runs it (bash -x SCRIPT prints it)");
    refused("pretrain_gpt.py --num-layers 32 --bf16 $EXTRA_ARGS",
            "'$EXTRA_ARGS' is an unexpanded shell variable");
    refused("--num-layers $NUM_LAYERS --hidden-size 4096",
            "import: --num-layers $NUM_LAYERS: an unexpanded shell variable");
    refused("--fp8-format ${FP8}", "--fp8-format ${FP8}: an unexpanded shell variable");
    refused("model.tensor_model_parallel_size=$TP", "--tensor-model-parallel-size $TP: an");
    cr_assert_eq(parse("--data-path $DATA_PATH --save \"${CK}/x\" --tensor-model-parallel-size 2"),
                 SIM_OK, "%s", err.msg);
    has("tp", "2");
    cr_assert(ignored("--data-path") && ignored("--save"));
}

/* A word longer than 255 bytes stops the import only where a modelled flag reads it: an
 * ignored flag's value -- the inference tests' --prompts of Megatron-LM's
 * tests/functional_tests/test_cases/gpt/gpt_dynamic_inference_tp1_pp1_583m_chunked_prefill
 * (d98e8a64ddf34856e74b24714e3bedb2f5a39553), a data blend -- is passed over, where the whole
 * line had been refused. */
Test(import, a_long_value_of_an_ignored_flag_is_passed_over, .init = setup)
{
    char line[1024], blend[301];
    memset(blend, 'a', sizeof blend - 1);
    blend[sizeof blend - 1] = '\0';
    snprintf(line, sizeof line, "--prompts \"%s\" --tensor-model-parallel-size 2", blend);
    cr_assert_eq(parse(line), SIM_OK, "%s", err.msg);
    has("tp", "2");
    cr_assert(ignored("--prompts"));
    snprintf(line, sizeof line, "--data-path=%s --bf16", blend);
    cr_assert_eq(parse(line), SIM_OK, "%s", err.msg);
    has("dtype", "bf16");
    snprintf(line, sizeof line, "--tensor-model-parallel-size 2 --recompute-modules %s", blend);
    refused(line, "import: --recompute-modules: a word of the launch line is longer than 255 "
                  "bytes");
    snprintf(line, sizeof line, "model.hybrid_override_pattern=%s", blend);
    refused(line, "import: --hybrid-override-pattern: a word of the launch line is longer");
}

/* Fine-grained activation offloading: --offload-modules names what
 * --fine-grained-activation-offloading moves; without the switch the list means nothing. */
Test(import, offload_modules, .init = setup)
{
    cr_assert_eq(parse("--fine-grained-activation-offloading --offload-modules expert_fc1 "
                       "moe_act"),
                 SIM_OK, "%s", err.msg);
    has("offload-modules", "expert_fc1,moe_act");
    cr_assert_eq(parse("--offload-modules core_attn"), SIM_OK, "%s", err.msg);
    cr_assert_null(import_value(&res, "offload-modules"));
    cr_assert(ignored("--offload-modules"));
    /* the size limit, with the switch; alone it is named as ignored too */
    cr_assert_eq(parse("--fine-grained-activation-offloading --offload-modules moe_act "
                       "--min-offloaded-tensor-size 350000000"),
                 SIM_OK, "%s", err.msg);
    has("offload-min-elements", "350000000");
    cr_assert_eq(parse("--fine-grained-activation-offloading --offload-modules core_attn "
                       "--activation-offload-fraction 0.8 "
                       "--delta-offload-bytes-across-pp-ranks 1073741824"),
                 SIM_OK, "%s", err.msg);
    has("offload-fraction", "0.8");
    has("offload-pp-delta", "1073741824B");
    cr_assert_eq(parse("--min-offloaded-tensor-size 500000000"), SIM_OK, "%s", err.msg);
    cr_assert_null(import_value(&res, "offload-min-elements"));
    cr_assert(ignored("--min-offloaded-tensor-size"));
    /* the layer-level offload: 20 of 80 layers' activations */
    cr_assert_eq(parse("--num-layers 80 --cpu-offloading-num-layers 20"), SIM_OK, "%s", err.msg);
    has("offload-activations", "0.25");
    cr_assert_eq(parse("--num-layers 80 --cpu-offloading-num-layers 0"), SIM_OK, "%s", err.msg);
    cr_assert_null(import_value(&res, "offload-activations"));
}

/* A real launch line as the shell runs it: NVIDIA/Megatron-LM
 * examples/llama/train_llama3_8b_h100_fp8.sh at d98e8a64ddf34856e74b24714e3bedb2f5a39553, its
 * torchrun line expanded (paths shortened).  Hand-computed: 8 GPUs (1 node x 8) = tp 1 x cp 1 x
 * pp 1 x dp 8, 128 samples of 8192 tokens in micro-batches of 1; FP8 hybrid with Megatron's
 * default delayed recipe and FP8 weights (--fp8-param-gather), bf16 gradient reduction, the
 * distributed optimizer; Llama 3.1 8B's shape (32 x 4096, FFN 14336, 32 heads, 8 groups);
 * --sequence-parallel at TP 1 is not read by Megatron and is listed. */
Test(import_cmd, the_llama3_8b_fp8_example_line, .init = setup)
{
    char *o, *e;
    struct scenario scn;
    import_into(
        "dgx-h100", NULL,
        "torchrun --nproc_per_node 8 --nnodes 1 --node_rank 0 --master_addr localhost "
        "--master_port 29500 pretrain_gpt.py --use-mcore-models --num-layers 32 --hidden-size "
        "4096 --ffn-hidden-size 14336 --num-attention-heads 32 --group-query-attention "
        "--num-query-groups 8 --kv-channels 128 --seq-length 8192 --max-position-embeddings 8192 "
        "--position-embedding-type rope --rotary-base 1000000 --rotary-percent 1.0 "
        "--attention-dropout 0.0 --hidden-dropout 0.0 --swiglu --normalization RMSNorm "
        "--init-method-std 0.0134 --attention-backend fused --apply-layernorm-1p "
        "--untie-embeddings-and-output-weights --disable-bias-linear --micro-batch-size 1 "
        "--global-batch-size 128 --train-samples 1953125000 --lr-decay-samples 1949218748 "
        "--lr-warmup-samples 3906252 --lr 0.00015 --min-lr 0.00001 --decoupled-lr 5.0e-4 "
        "--decoupled-min-lr 4.5e-5 --lr-decay-style cosine --clip-grad 1.0 --weight-decay 0.1 "
        "--adam-beta1 0.9 --adam-beta2 0.95 --bf16 --grad-reduce-in-bf16 "
        "--cross-entropy-loss-fusion --calculate-per-token-loss --manual-gc "
        "--empty-unused-memory-level 1 --exit-duration-in-mins 235 --use-distributed-optimizer "
        "--overlap-grad-reduce --overlap-param-gather --fp8-format hybrid --fp8-amax-history-len "
        "1024 --fp8-amax-compute-algo max --fp8-param-gather --tensor-model-parallel-size 1 "
        "--context-parallel-size 1 --sequence-parallel --data-path data --tokenizer-type "
        "HuggingFaceTokenizer --tokenizer-model tok --data-cache-path "
        "benchmark_cache_llama3_8b_fp8 --split '99,1,0' --no-create-attention-mask-in-dataloader "
        "--no-mmap-bin-files --num-workers 1 --vocab-size 128256 --log-interval 1 --eval-iters "
        "32 --eval-interval 100 --save-interval 1000 --log-throughput --profile "
        "--profile-step-start 4 --profile-step-end 6 --ckpt-format torch_dist "
        "--distributed-timeout-minutes 60 --save ck --load ck --tensorboard-dir tb",
        &scn, &o, &e);
    cr_assert(strstr(scn.model_path, "/models/llama3.1-8b.xml"), "%s", scn.model_path);
    cr_assert_eq(scn.gpus, 8);
    cr_assert_eq(scn.tp, 1);
    cr_assert_eq(scn.pp, 1);
    cr_assert_eq(scn.cp, 1);
    cr_assert_eq(scn.sp, 0);
    cr_assert_eq(scn.micro_batch, 1);
    cr_assert_eq(scn.global_batch, 128);
    cr_assert_eq(scn.seq, 8192);
    cr_assert_eq(scn.dtype, DT_FP8);
    cr_assert_eq(scn.fp8_recipe, FP8_DELAYED);
    cr_assert_eq(scn.quantized_params, 1);
    cr_assert_eq(scn.dist_opt, 1);
    cr_assert_eq(scn.grad_reduce_fp32, 0);
    cr_assert(strstr(e, "--sequence-parallel") && strstr(e, "--split"), "%s", e);
    free(o);
    free(e);
}

Test(import_cmd, the_file_loads_with_every_value, .init = setup)
{
    char *o, *e;
    struct scenario scn;
    import_into(
        "dgx-h100", "a <b> & \"c\"",
        "--tensor-model-parallel-size 2 --pipeline-model-parallel-size 4 "
        "--virtual-pipeline-model-parallel-size 2 --expert-model-parallel-size 8 "
        "--expert-tensor-parallel-size 1 --context-parallel-size 1 --micro-batch-size 1 "
        "--global-batch-size 256 --seq-length 4096 --bf16 --recompute-granularity full "
        "--use-distributed-optimizer --overlap-grad-reduce --overlap-param-gather "
        "--tp-comm-overlap --overlap-p2p-communication --accumulate-allreduce-grads-in-fp32 "
        "--use-tp-pp-dp-mapping "
        "--no-gradient-accumulation-fusion --no-rope-fusion --no-async-tensor-model-parallel-allreduce "
        "--decoder-first-pipeline-num-layers 4 --decoder-last-pipeline-num-layers 4 "
        "--sequence-parallel --nproc-per-node 8 --nnodes 8 --num-layers 32 --hidden-size 4096 "
        "--num-attention-heads 32 --group-query-attention --num-query-groups 8 "
        "--ffn-hidden-size 14336 --num-experts 8 --moe-router-topk 2 --lr 1e-4",
        &scn, &o, &e);
    cr_assert_str_empty(o);
    cr_assert_str_eq(e, "stepsim: import: 2 flags of the launch line are not modelled (ignored): "
                        "--lr, --no-async-tensor-model-parallel-allreduce\n");
    cr_assert_str_eq(scn.name, "a <b> & \"c\"");
    cr_assert(strstr(scn.model_path, "/models/mixtral-8x7b.xml"), "%s", scn.model_path);
    cr_assert(strstr(scn.hardware_path, "/hardware/dgx-h100.xml"), "%s", scn.hardware_path);
    cr_assert_str_eq(scn.schedule, "interleaved");
    cr_assert_eq(scn.gpus, 64);
    cr_assert_eq(scn.tp, 2);
    cr_assert_eq(scn.pp, 4);
    cr_assert_eq(scn.vp, 2);
    cr_assert_eq(scn.ep, 8);
    cr_assert_eq(scn.etp, 1);
    cr_assert_eq(scn.cp, 1);
    cr_assert_eq(scn.sp, 1);
    cr_assert_eq(scn.rank_order, RANK_ORDER_PP_DP, "--use-tp-pp-dp-mapping");
    cr_assert_eq(scn.micro_batch, 1);
    cr_assert_eq(scn.global_batch, 256);
    cr_assert_eq(scn.seq, 4096);
    cr_assert_eq(scn.dtype, 2, "bf16");
    cr_assert_eq(scn.recompute, RECOMPUTE_FULL);
    cr_assert(scn.dist_opt && scn.overlap_grad_reduce && scn.overlap_param_gather &&
              scn.overlap_tp_comm && scn.overlap_p2p && scn.grad_reduce_fp32);
    cr_assert_eq(scn.grad_accumulation, GRAD_ACCUM_MAIN_GRAD);
    cr_assert_eq(scn.rope_fusion, 0, "--no-rope-fusion");
    cr_assert(!scn_given(&scn, SCN_OVERLAP_TP_BACKWARD),
              "--no-async-tensor-model-parallel-allreduce means nothing under SP");
    cr_assert_eq(scn.dropout, 1, "Megatron's dropouts are 0.1 unless set to 0");
    cr_assert_eq(scn.first_stage_layers, 4);
    cr_assert_eq(scn.last_stage_layers, 4);
    cr_assert_eq(scn.framework, FW_MEGATRON_CORE, "the line is Megatron-Core's");
    cr_assert(scn_given(&scn, SCN_FRAMEWORK), "named in the file, not the default");
    free(o);
    free(e);
}

/* The precision flags reach the file: every key the importer sets is written (they had been
 * parsed and then left out of the scenario: --fp8-param-gather, --first-last-layers-bf16). */
Test(import_cmd, the_precision_flags_reach_the_file, .init = setup)
{
    char *o, *e;
    struct scenario scn;
    import_into("gb200-nvl72", NULL,
                "--num-layers 32 --hidden-size 4096 --num-attention-heads 32 "
                "--group-query-attention --num-query-groups 8 --ffn-hidden-size 14336 "
                "--seq-length 8192 --micro-batch-size 1 --global-batch-size 128 --bf16 "
                "--fp8-format hybrid --fp8-recipe mxfp8 --fp8-param-gather "
                "--use-distributed-optimizer --fp8-output-proj --first-last-layers-bf16 "
                "--num-layers-at-end-in-bf16 2 --nproc-per-node 8",
                &scn, &o, &e);
    cr_assert_eq(scn.fp8_recipe, FP8_MXFP8);
    cr_assert_eq(scn.quantized_params, 1);
    cr_assert_eq(scn.fp8_output_proj, 1);
    cr_assert_eq(scn.bf16_last_layers, 2);
    free(o);
    free(e);
    cr_assert_eq(parse("--fp8-format hybrid --fp8-recipe tensorwise"), SIM_OK, "%s", err.msg);
    has("fp8-recipe", "current");
    cr_assert_eq(parse("--fp8-format hybrid --fp8-recipe custom"), SIM_EINPUT);
}

/* A module list longer than 64 characters -- Megatron-LM's fine-grained offloading test lists
 * seven modules, 68 characters -- is written and loads (the schema held such values to 64). */
Test(import_cmd, a_long_module_list_loads, .init = setup)
{
    char *o, *e;
    struct scenario scn;
    import_into("dgx-h100", NULL,
                "--num-layers 32 --hidden-size 4096 --num-attention-heads 32 "
                "--group-query-attention --num-query-groups 8 --ffn-hidden-size 14336 "
                "--num-experts 8 --seq-length 4096 --bf16 --expert-model-parallel-size 8 "
                "--nproc-per-node 8 --fine-grained-activation-offloading --offload-modules "
                "expert_fc1 moe_act attn_norm mlp_norm qkv_linear core_attn attn_proj",
                &scn, &o, &e);
    cr_assert_eq(scn.offload_modules, OM_ATTN_NORM | OM_QKV_LINEAR | OM_CORE_ATTN |
                                          OM_ATTN_PROJ | OM_MLP_NORM | OM_EXPERT_FC1 |
                                          OM_MOE_ACT);
    free(o);
    free(e);
}

Test(import_cmd, the_model_comes_from_the_shape_or_must_be_named, .init = setup)
{
    char *o, *e;
    /* Llama-2 and Llama-3.1 70B share their shape; an 8192-token sequence only fits 3.1's
     * context. */
    const char *llama[] = {"megatron", "--hardware", "dgx-h100",
                           "--num-layers 80 --hidden-size 8192 --num-attention-heads 64 "
                           "--group-query-attention --num-query-groups 8 --seq-length 8192 "
                           "--tensor-model-parallel-size 8",
                           NULL};
    cr_assert_eq(run_import(&o, &e, llama), 0, "%s", e);
    cr_assert(strstr(o, "<model ref=\"llama3.1-70b\"/>"), "%s", o);
    cr_assert(strstr(o, "<parallel tp=\"8\"/>"), "%s", o);
    const char *open = strstr(o, "<!--"), *close = open ? strstr(open + 4, "-->") : NULL;
    cr_assert(open && close, "%s", o);
    for (const char *c = open + 4; c < close; c++)
        cr_assert(!(c[0] == '-' && c[1] == '-'), "'--' inside the comment: %s", o);
    free(o);
    free(e);
    const char *none[] = {"megatron", "--hardware", "dgx-h100",
                          "--num-layers 7 --hidden-size 100 --num-attention-heads 5", NULL};
    cr_assert_eq(run_import(&o, &e, none), 2);
    cr_assert(strstr(e, "no shipped model has num-layers=7"), "%s", e);
    free(o);
    free(e);
    /* Llama 3.1 8B's shape with another FFN width: the message names the nearest model and
     * the dimension that differs */
    const char *near[] = {"megatron", "--hardware", "dgx-h100",
                          "--num-layers 32 --hidden-size 4096 --num-attention-heads 32 "
                          "--group-query-attention --num-query-groups 8 --ffn-hidden-size 8192",
                          NULL};
    cr_assert_eq(run_import(&o, &e, near), 2);
    cr_assert(strstr(e, "(the nearest, llama3.1-8b: --ffn-hidden-size 8192: the model has "
                        "14336)"), "%s", e);
    free(o);
    free(e);
    /* the layer's kind is compared too when given: it finds Llama's model and is not listed
     * as ignored; LayerNorm is another network */
    const char *kind[] = {"megatron", "--hardware", "dgx-h100",
                          "--num-layers 32 --hidden-size 4096 --num-attention-heads 32 "
                          "--group-query-attention --num-query-groups 8 --ffn-hidden-size 14336 "
                          "--swiglu --normalization RMSNorm --position-embedding-type rope "
                          "--untie-embeddings-and-output-weights --disable-bias-linear "
                          "--seq-length 8192",
                          NULL};
    cr_assert_eq(run_import(&o, &e, kind), 0, "%s", e);
    cr_assert(strstr(o, "<model ref=\"llama3.1-8b\"/>") && !strstr(e, "ignored"), "%s%s", o, e);
    free(o);
    free(e);
    const char *layernorm[] = {"megatron", "--hardware", "dgx-h100",
                               "--num-layers 32 --hidden-size 4096 --num-attention-heads 32 "
                               "--group-query-attention --num-query-groups 8 --swiglu "
                               "--ffn-hidden-size 14336 --normalization LayerNorm",
                               NULL};
    expect_import(layernorm, 2, NULL,
                  "(the nearest, llama3.1-8b: --normalization LayerNorm: the line has it, the "
                  "model not)");
    const char *relu[] = {"megatron", "--hardware", "dgx-h100", "--model", "llama3.1-8b",
                          "--squared-relu", NULL};
    expect_import(relu, 2, NULL, "--squared-relu, but --model llama3.1-8b has none");
    const char *named[] = {"megatron", "--hardware", "dgx-h100", "--model", "llama3.1-8b",
                           "--num-layers 32 --seq-length 8192", NULL};
    cr_assert_eq(run_import(&o, &e, named), 0, "%s", e);
    cr_assert(strstr(o, "<model ref=\"llama3.1-8b\" layers=\"32\"/>"), "%s", o);
    free(o);
    free(e);
    const char *nohw[] = {"megatron", "--num-layers 32", NULL};
    cr_assert_eq(run_import(&o, &e, nohw), 2);
    cr_assert(strstr(e, "import needs --hardware"), "%s", e);
    free(o);
    free(e);
    const char *fmt[] = {"deepspeed", "--hardware", "x", NULL};
    cr_assert_eq(run_import(&o, &e, fmt), 2);
    cr_assert(strstr(e, "unknown format 'deepspeed' (known: megatron)"), "%s", e);
    free(o);
    free(e);
}

/* A hybrid launch line finds the shipped model with its pattern ('|' stage marks dropped) and
 * Mamba sizes; a Mamba size that differs, or a layer letter stepsim does not model, does not. */
Test(import_cmd, a_hybrid_model_is_found_by_its_pattern, .init = setup)
{
    char *o, *e;
    const char *shape = "--num-layers 52 --hidden-size 2688 --num-attention-heads 32 "
                        "--group-query-attention --num-query-groups 2 --ffn-hidden-size 1856 "
                        "--num-experts 128 --mamba-num-heads 64 --mamba-head-dim 64 ";
    char line[512];
    snprintf(line, sizeof line, "%s--mamba-state-dim 128 --hybrid-override-pattern "
             "MEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEM*|EMEMEMEM*EMEMEMEME --seq-length 8192", shape);
    const char *nano[] = {"megatron", "--hardware", "dgx-b200", line, NULL};
    cr_assert_eq(run_import(&o, &e, nano), 0, "%s", e);
    cr_assert(strstr(o, "<model ref=\"nemotron-3-nano-30b-a3b\"/>"), "%s", o);
    cr_assert_null(strstr(o, "mamba"), "the Mamba flags are the model's, not ignored: %s", o);
    free(o);
    free(e);
    /* the same shape training an MTP module is Nemotron 3.5 Lightning's */
    snprintf(line, sizeof line, "%s--mamba-state-dim 128 --hybrid-override-pattern "
             "MEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEMEM*EMEMEMEME --mtp-num-layers 2 "
             "--seq-length 8192", shape);
    cr_assert_eq(run_import(&o, &e, nano), 0, "%s", e);
    cr_assert(strstr(o, "<model ref=\"nemotron-3.5-lightning-30b-a3b\"/>"), "%s", o);
    free(o);
    free(e);
    /* and so does its MTP depths written into the pattern, as Megatron-LM's
     * nemotron3_5_lightning tests write them: '/' and one depth's pattern, twice */
    snprintf(line, sizeof line, "%s--mamba-state-dim 128 --hybrid-layer-pattern "
             "MEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEMEM*EMEMEMEME/*E/*E --seq-length 8192",
             shape);
    expect_import(nano, 0, "<model ref=\"nemotron-3.5-lightning-30b-a3b\"/>", NULL);
    expect_import(nano, 0, "mtp-layers=\"2\"", NULL);
    snprintf(line, sizeof line, "%s--mamba-state-dim 64 --hybrid-override-pattern "
             "MEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEMEM*EMEMEMEME", shape);
    cr_assert_eq(run_import(&o, &e, nano), 2);
    cr_assert(strstr(e, "with experts and this hybrid pattern and mixer sizes"), "%s", e);
    free(o);
    free(e);
    snprintf(line, sizeof line, "%s--hybrid-override-pattern MD*", shape);
    cr_assert_eq(run_import(&o, &e, nano), 2);
    cr_assert(strstr(e, "--hybrid-override-pattern: 'D' is not a layer stepsim models"), "%s", e);
    free(o);
    free(e);
}

/* Megatron-Core's unified hybrid pattern: its letters are the layers (no --num-layers needed),
 * its '|' segments over pp the virtual stages, and each '/' one MTP depth of the pattern after
 * it (hybrid_layer_allocation.py; Nemotron 3.5 Lightning's in a_hybrid_model_is_found_...). */
Test(import, a_hybrid_pattern_gives_layers_stages_and_mtp_depths, .init = setup)
{
    reads("--pipeline-model-parallel-size 2 --hybrid-layer-pattern 'M-M*|M-M-|M*M-|M-M-'", "vp",
          "2");
    has("schedule", "interleaved");
    cr_assert_eq(res.layers, 16, "the pattern's letters");
    reads("--pipeline-model-parallel-size 4 --num-layers 9 --hybrid-layer-pattern "
          "'M-M*|M-M-|M*M-|M-M-/*-'",
          "mtp-layers", "1");
    cr_assert_null(import_value(&res, "vp"), "as many segments as stages: no virtual stages");
    cr_assert_eq(res.layers, 16, "the pattern's layers win over --num-layers");
    refused("--pipeline-model-parallel-size 2 --hybrid-layer-pattern 'M-|M-|M-'",
            "3 '|' segments, not a multiple of --pipeline-model-parallel-size 2");
    refused("--hybrid-layer-pattern 'M-M-/*E/*-'", "the MTP depths after '/' are one pattern");
}

/* DeepSeek-V4-Flash's launch line (Megatron-LM's recipe at 9d46c924: 43 layers, hidden 4096,
 * 64 heads, --experimental-attention-variant dsv4_hybrid) finds the shipped file: its variant
 * gives the one key-value head.  Without the variant the same shape (64 key-value heads) finds
 * no model; a GLM-5 line naming dsa finds the two GLM-5 files (their shared top-k is not on the
 * line: --model picks); another variant is refused. */
Test(import_cmd, sparse_attention_variants_find_their_models, .init = setup)
{
    char *o, *e;
    const char *v4 = "--num-layers 43 --hidden-size 4096 --num-attention-heads 64 "
                     "--kv-channels 512 --num-experts 256 --moe-ffn-hidden-size 2048 "
                     "--moe-router-topk 6 --moe-shared-expert-intermediate-size 2048 "
                     "--mtp-num-layers 1 --seq-length 4096 --experimental-attention-variant "
                     "dsv4_hybrid";
    const char *flash[] = {"megatron", "--hardware", "gb300-nvl72", v4, NULL};
    cr_assert_eq(run_import(&o, &e, flash), 0, "%s", e);
    cr_assert(strstr(o, "<model ref=\"deepseek-v4-flash\"/>"), "%s", o);
    free(o);
    free(e);
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)(strstr(v4, " --experimental") - v4), v4);
    const char *plain[] = {"megatron", "--hardware", "gb300-nvl72", line, NULL};
    cr_assert_eq(run_import(&o, &e, plain), 2);
    cr_assert(strstr(e, "no shipped model has num-layers=43"), "%s", e);
    free(o);
    free(e);
    const char *glm[] = {"megatron", "--hardware", "dgx-h100",
                         "--num-layers 78 --hidden-size 6144 --ffn-hidden-size 12288 "
                         "--num-attention-heads 64 --num-experts 256 --moe-router-topk 8 "
                         "--moe-ffn-hidden-size 2048 --mtp-num-layers 1 --seq-length 4096 "
                         "--experimental-attention-variant dsa",
                         NULL};
    cr_assert_eq(run_import(&o, &e, glm), 2);
    cr_assert(strstr(e, "fits glm-5-744b-a40b, glm-5.2-744b-a40b"), "%s", e);
    free(o);
    free(e);
    const char *other[] = {"megatron", "--hardware", "dgx-h100",
                           "--experimental-attention-variant mla_sparse", NULL};
    cr_assert_eq(run_import(&o, &e, other), 2);
    cr_assert(strstr(e, "gated_delta_net, dsa and dsv4_hybrid"), "%s", e);
    free(o);
    free(e);
}

/* Qwen3-Next's own launch line (the Megatron-MoE Model Zoo's yaml: a GPT model with
 * --linear-attention-type gated_delta_net) finds the shipped file: its 48 layers become the
 * file's 96 hybrid ones, a Gated DeltaNet then a MoE on three layers of four and attention on
 * every fourth (--linear-attention-freq 4), the gated attention and the GDN sizes matching; the
 * virtual stages come from its 4 layers a stage.  A gate the file lacks, another linear
 * attention, or the frequency without the type do not. */
Test(import_cmd, a_gated_deltanet_line_is_found_by_its_layers, .init = setup)
{
    char *o, *e;
    const char *shape =
        "--num-layers 48 --hidden-size 2048 --ffn-hidden-size 5120 --num-attention-heads 16 "
        "--group-query-attention --num-query-groups 2 --kv-channels 256 --num-experts 512 "
        "--moe-ffn-hidden-size 512 --moe-shared-expert-intermediate-size 512 --moe-router-topk 10 "
        "--mtp-num-layers 1 --pipeline-model-parallel-size 4 "
        "--num-layers-per-virtual-pipeline-stage 4 --seq-length 4096 --global-batch-size 16 ";
    const char *gdn = "--linear-attention-type gated_delta_net --linear-attention-freq 4 "
                      "--linear-conv-kernel-dim 4 --linear-key-head-dim 128 "
                      "--linear-value-head-dim 128 --linear-num-key-heads 16 "
                      "--linear-num-value-heads 32";
    char line[1024];
    const char *args[] = {"megatron", "--hardware", "dgx-h100", line, NULL};
    snprintf(line, sizeof line, "%s--attention-output-gate %s", shape, gdn);
    cr_assert_eq(run_import(&o, &e, args), 0, "%s", e);
    cr_assert(strstr(o, "<model ref=\"qwen3-next-80b-a3b\"/>"), "%s", o);
    cr_assert(strstr(o, "schedule=\"interleaved\" pp=\"4\" vp=\"3\""), "%s", o);
    cr_assert_null(strstr(o, "linear"), "the GDN flags are the model's, not ignored: %s", o);
    free(o);
    free(e);
    /* Megatron-Core's hybrid notation says the same: --hybrid-override-pattern with G */
    char hybrid[1024];
    snprintf(hybrid, sizeof hybrid,
             "--num-layers 96 --hidden-size 2048 --num-attention-heads 16 "
             "--group-query-attention --num-query-groups 2 --num-experts 512 "
             "--attention-output-gate --linear-num-key-heads 16 --linear-num-value-heads 32 "
             "--mtp-num-layers 1 --seq-length 4096 --hybrid-override-pattern %s",
             "GEGEGE*EGEGEGE*EGEGEGE*EGEGEGE*EGEGEGE*EGEGEGE*EGEGEGE*EGEGEGE*EGEGEGE*EGEGEGE*"
             "EGEGEGE*EGEGEGE*E");
    const char *hargs[] = {"megatron", "--hardware", "dgx-h100", hybrid, NULL};
    cr_assert_eq(run_import(&o, &e, hargs), 0, "%s", e);
    cr_assert(strstr(o, "<model ref=\"qwen3-next-80b-a3b\"/>"), "%s", o);
    free(o);
    free(e);
    char *vh = strstr(hybrid, "--linear-num-value-heads 32");
    cr_assert_not_null(vh);
    memcpy(vh + strlen("--linear-num-value-heads "), "16", 2); /* a size the file lacks */
    cr_assert_eq(run_import(&o, &e, hargs), 2);
    cr_assert(strstr(e, "and this hybrid pattern and mixer sizes"), "%s", e);
    free(o);
    free(e);
    snprintf(line, sizeof line, "%s%s", shape, gdn); /* no gate */
    cr_assert_eq(run_import(&o, &e, args), 2);
    cr_assert(strstr(e, "no shipped model has num-layers=96 "), "%s", e);
    free(o);
    free(e);
    snprintf(line, sizeof line, "%s--attention-output-gate --linear-attention-type mamba", shape);
    cr_assert_eq(run_import(&o, &e, args), 2);
    cr_assert(strstr(e, "--linear-attention-type mamba: of the linear attentions stepsim models "
                        "gated_delta_net"),
              "%s", e);
    free(o);
    free(e);
    snprintf(line, sizeof line, "%s--linear-attention-freq 4", shape);
    cr_assert_eq(run_import(&o, &e, args), 2);
    cr_assert(strstr(e, "--linear-attention-freq without --linear-attention-type"), "%s", e);
    free(o);
    free(e);
}

/* The head width and the experts' sizes pick the model too where the line gives them: Mixtral
 * 8x7B's shape with top-2 routing finds it, with top-4 none. */
Test(import_cmd, expert_widths_pick_the_model, .init = setup)
{
    char *o, *e;
    char line[512];
    const char *shape = "--num-layers 32 --hidden-size 4096 --num-attention-heads 32 "
                        "--group-query-attention --num-query-groups 8 --ffn-hidden-size 14336 "
                        "--num-experts 8 --kv-channels 128 --seq-length 4096 ";
    const char *argv[] = {"megatron", "--hardware", "dgx-h100", line, NULL};
    snprintf(line, sizeof line, "%s--moe-router-topk 2", shape);
    cr_assert_eq(run_import(&o, &e, argv), 0, "%s", e);
    cr_assert(strstr(o, "<model ref=\"mixtral-8x7b\"/>"), "%s", o);
    cr_assert_null(strstr(e, "--moe-router-topk"), "a shape flag, not ignored: %s", e);
    free(o);
    free(e);
    snprintf(line, sizeof line, "%s--moe-router-topk 4", shape);
    cr_assert_eq(run_import(&o, &e, argv), 2);
    cr_assert(strstr(e, "these head, attention and expert widths"), "%s", e);
    free(o);
    free(e);
}

/* `text`, an imported scenario, passes `stepsim validate` (the rules run applies). */
static void expect_valid_scenario(const char *text, const char *what)
{
    char path[64];
    write_temp_text(path, sizeof path, text);
    char *o, *e;
    const char *args[] = {path, NULL};
    cr_expect_eq(run_command(cli_main, "validate", args, &o, &e), 0, "%s: %s", what, e);
    free(o);
    free(e);
    unlink(path);
}

/* --model names the network; a shape flag of the line that says another is refused, not
 * dropped (an 8B simulated for a line training hidden 8192 was a silent wrong answer).  The
 * shape flags the model agrees with are fine. */
Test(import_cmd, a_shape_flag_against_the_named_model_is_refused, .init = setup)
{
    char *o, *e;
    const char *other[] = {"megatron", "--hardware", "dgx-h100", "--model", "llama3.1-8b",
                           "--num-layers 32 --hidden-size 8192 --num-attention-heads 64 "
                           "--seq-length 8192",
                           NULL};
    cr_assert_eq(run_import(&o, &e, other), 2);
    cr_assert(strstr(e, "import: --hidden-size 8192, but --model llama3.1-8b has 4096"), "%s", e);
    free(o);
    free(e);
    const char *same[] = {"megatron", "--hardware", "dgx-h100", "--model", "llama3.1-8b",
                          "--num-layers 32 --hidden-size 4096 --num-attention-heads 32 "
                          "--group-query-attention --num-query-groups 8 --ffn-hidden-size 14336 "
                          "--seq-length 8192",
                          NULL};
    cr_assert_eq(run_import(&o, &e, same), 0, "%s", e);
    free(o);
    free(e);
}

/* What Megatron does not read on a line is dropped and listed, so the file runs: sequence
 * parallelism at tp 1 (arguments.py turns it off), an fp8 recipe without fp8, recompute
 * modules under full recompute, a dispatcher for a model without experts.  A layout longer
 * than 63 characters is kept whole (it was cut, and the file then had too few stages). */
Test(import_cmd, flags_megatron_does_not_read_here_are_dropped_and_long_values_kept,
     .init = setup)
{
    static const struct {
        const char *flags, *dropped;
    } cases[] = {
        {"--tensor-model-parallel-size 1 --sequence-parallel", "--sequence-parallel"},
        {"--bf16 --fp8-recipe delayed", "--fp8-recipe"},
        {"--recompute-granularity full --recompute-modules mlp", "--recompute-modules"},
        {"--moe-token-dispatcher-type flex", "--moe-token-dispatcher-type"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char line[512], *o, *e;
        snprintf(line, sizeof line, "%s --seq-length 8192 --global-batch-size 64",
                 cases[i].flags);
        const char *args[] = {"megatron", "--hardware", "dgx-h100", "--model", "llama3.1-8b",
                              line, NULL};
        cr_assert_eq(run_import(&o, &e, args), 0, "%s", e);
        cr_expect(strstr(e, cases[i].dropped), "%s: %s", cases[i].flags, e);
        expect_valid_scenario(o, cases[i].flags);
        free(o);
        free(e);
    }
    const char *layout = "Et|tttttttttt|tttttttttt|tttttttttt|tttttttttt|tttttttttt|"
                         "tttttttttt|tttttttttt|ttttttttt|L";
    char line[512], *o, *e;
    snprintf(line, sizeof line, "--tensor-model-parallel-size 8 --pipeline-model-parallel-size "
                                "10 --pipeline-model-parallel-layout %s --seq-length 8192",
             layout);
    const char *args[] = {"megatron", "--hardware", "dgx-h100", "--model", "llama3.1-70b", line,
                          NULL};
    cr_assert_eq(run_import(&o, &e, args), 0, "%s", e);
    char want[160];
    snprintf(want, sizeof want, "pipeline-layout=\"%s\"", layout);
    cr_expect(strstr(o, want), "%s", o);
    free(o);
    free(e);
}

/* Megatron-Bridge's precision recipes by name set what the recipe sets: bf16 with fp32
 * gradient reduction; fp8 current scaling with one bf16 layer at each end and fp8 parameter
 * gathers; NVFP4 for Nemotron 3 Super with 14 bf16 layers at the end and none at the start
 * (Bridge's default, not the command line's 1).  Hydra's null keeps a default. */
Test(import, bridge_precision_recipes_and_null, .init = setup)
{
    cr_assert_eq(parse("mixed_precision=bf16_mixed"), SIM_OK, "%s", err.msg);
    has("dtype", "bf16");
    cr_assert_eq(parse("mixed_precision=bf16_with_fp8_current_scaling_mixed"), SIM_OK, "%s",
                 err.msg);
    has("dtype", "fp8");
    has("fp8-recipe", "current");
    has("bf16-first-layers", "1");
    has("bf16-last-layers", "1");
    has("quantized-params", "true");
    cr_assert_eq(parse("mixed_precision=nemotron-3-super-bf16-with-nvfp4-mixed"), SIM_OK, "%s",
                 err.msg);
    has("dtype", "nvfp4");
    has("bf16-first-layers", "0");
    has("bf16-last-layers", "14");
    cr_assert_eq(parse("mixed_precision=bf16_with_fp8_subchannel_scaling_mixed"), SIM_OK, "%s",
                 err.msg);
    has("fp8-recipe", "blockwise");
    cr_assert_null(import_value(&res, "quantized-params"));
    cr_assert_eq(parse("mixed_precision=fp32_everything"), SIM_EINPUT);
    cr_assert(strstr(err.msg, "not one of Megatron-Bridge's recipes"), "%s", err.msg);
    cr_assert_eq(parse("model.recompute_granularity=null model.tensor_model_parallel_size=2"),
                 SIM_OK, "%s", err.msg);
    cr_assert_null(import_value(&res, "recompute"));
    has("tp", "2");
}

/* --moe-layer-recompute (deprecated in Megatron-Core) is selective recompute with `moe` added
 * to the modules given or to the default core_attn (transformer_config.py); with full
 * recompute Megatron refuses the line.  It had been listed as not modelled. */
Test(import, moe_layer_recompute_is_selective_with_moe)
{
    reads("--moe-layer-recompute", "recompute", "selective");
    has("recompute-modules", "core_attn,moe");
    cr_assert(!ignored("--moe-layer-recompute"));
    reads("--recompute-granularity selective --recompute-modules mlp --moe-layer-recompute",
          "recompute-modules", "mlp,moe");
    reads("--moe-layer-recompute --recompute-modules moe core_attn", "recompute-modules",
          "moe,core_attn");
    cr_assert_eq(parse("--moe-layer-recompute false"), SIM_OK, "%s", err.msg); /* not given */
    cr_assert_null(import_value(&res, "recompute"));
    cr_assert_null(import_value(&res, "recompute-modules"));
    cr_assert_eq(parse("--recompute-granularity full --moe-layer-recompute"), SIM_EINPUT);
    cr_assert(strstr(err.msg, "--moe-layer-recompute with --recompute-granularity full: "
                              "Megatron refuses the line"),
              "%s", err.msg);
}

/* A shape flag at 0 had read as not given: with --model the line imported as the model's own
 * size, without it the error named a missing flag.  --num-experts 0 is a dense model, as
 * Megatron's arguments.py reads it. */
Test(import, a_core_size_of_zero_is_refused)
{
    static const char *const flags[] = {"--num-layers 0", "--hidden-size 0",
                                        "--num-attention-heads 0", "--ffn-hidden-size 0"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        cr_assert_eq(parse(flags[i]), SIM_EINPUT, "%s", flags[i]);
        cr_assert(strstr(err.msg, ": must be at least 1"), "%s", err.msg);
    }
    cr_assert_eq(parse("--num-experts 0"), SIM_OK, "%s", err.msg);
    cr_assert_eq(res.experts, 0);
}

/* A negative count had read as a missing value ("--hidden-size -1": "needs a value", the -1
 * taken for a flag) or as a range that offered 0; argparse reads "-1" as the flag's value, and
 * an ignored flag's negative value ("--seed -1") is no flag of its own. */
Test(import, a_negative_count_is_named_as_negative)
{
    static const char *const lines[] = {"--hidden-size -1", "--hidden-size=-1",
                                        "--num-experts -8", "--tensor-model-parallel-size -2",
                                        "model.num_layers=-4"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        cr_assert_eq(parse(lines[i]), SIM_EINPUT, "%s", lines[i]);
        cr_assert(strstr(err.msg, " -") && strstr(err.msg, ": must be a positive integer"),
                  "%s: %s", lines[i], err.msg);
        cr_assert_null(strstr(err.msg, "needs a value"), "%s", err.msg);
    }
    cr_assert_eq(parse("--seed -1 --lr -.5 --tensor-model-parallel-size 2"), SIM_OK, "%s",
                 err.msg);
    has("tp", "2");
    cr_assert(ignored("--seed") && ignored("--lr") && res.nignored == 2, "%d ignored",
              res.nignored);
    refused("--hidden-size --bf16", "--hidden-size needs a value");
}

/* The whole of file `path`, as a heap string the caller frees. */
static char *file_text(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    char *buf = calloc(1, 1 << 16);
    cr_assert_not_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    cr_assert(n < (1 << 16) - 1 && !ferror(f), "%s: unread or too long", path);
    fclose(f);
    return buf;
}

/* A layout Megatron stops at had imported with exit 0 into a file that validate and run then
 * refused.  Now the scenario's own rules run before anything is written: exit 2, a message
 * naming the flags, and --out left as it was -- even an earlier import's file, which a good
 * line may replace. */
Test(import_cmd, an_impossible_layout_is_refused_before_writing, .init = setup)
{
    static const struct {
        const char *line, *why;
    } cases[] = {
        {"--tensor-model-parallel-size 3 --seq-length 8192",
         "heads=64 of llama3.1-70b are not divisible by tp=3 (tp given by "
         "--tensor-model-parallel-size"},
        {"--nnodes 4 --nproc-per-node 8 --tensor-model-parallel-size 8 "
         "--pipeline-model-parallel-size 3 --seq-length 8192",
         "gpus given by --nnodes x nproc-per-node"},
        {"--pipeline-model-parallel-size 3 --seq-length 8192",
         "layers=80 is not divisible by pp*vp=3"},
        {"--pipeline-model-parallel-size 2 --virtual-pipeline-model-parallel-size 3 "
         "--global-batch-size 8 --seq-length 8192",
         "layers=80 is not divisible by pp*vp=6"},
        {"--micro-batch-size 3 --global-batch-size 512 --seq-length 8192",
         "(global-batch given by --global-batch-size, micro-batch given by --micro-batch-size)"},
        {"--tensor-model-parallel-size 8", "lacks --seq-length"},
        /* one node: the world size is --nproc-per-node's alone, and the flag named is it */
        {"--nproc-per-node 4 --tensor-model-parallel-size 8 --seq-length 8192",
         "(gpus given by --nproc-per-node, tp given by --tensor-model-parallel-size)"},
    };
    char path[] = "/tmp/stepsim-test-import-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    const char *args[] = {"megatron", "--hardware", "dgx-h100", "--model", "llama3.1-70b",
                          "--out", path, "--", NULL, NULL};
    args[8] = "--tensor-model-parallel-size 8 --seq-length 8192";
    char *o, *e;
    cr_assert_eq(run_import(&o, &e, args), 0, "%s", e); /* a file import may replace */
    free(o);
    free(e);
    char *before = file_text(path);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        args[8] = cases[i].line;
        cr_expect_eq(run_import(&o, &e, args), 2, "%s: %s", cases[i].line, e);
        cr_expect(strstr(e, "stepsim: import: ") && strstr(e, cases[i].why), "%s: %s",
                  cases[i].line, e);
        char *after = file_text(path);
        cr_expect_str_eq(after, before, "%s: --out changed", cases[i].line);
        free(after);
        free(o);
        free(e);
    }
    free(before);
    unlink(path);
}

/* A hardware file named relative to where import runs is written by its absolute path: the
 * scenario resolves it from its own folder, here another one.  --name has the scenario's
 * limit. */
Test(import_cmd, file_references_survive_another_output_folder, .init = setup)
{
    char dir[] = "/tmp/stepsim-test-import-dir-XXXXXX";
    cr_assert(mkdtemp(dir));
    char sub[128], out_path[160], cwd[4096];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    snprintf(out_path, sizeof out_path, "%s/v.xml", sub);
    cr_assert(getcwd(cwd, sizeof cwd));
    cr_assert_eq(chdir(TOP_SRCDIR), 0);
    char *o, *e;
    const char *args[] = {"megatron", "--hardware", "./hardware/dgx-h100.xml", "--model",
                          "llama3.1-8b", "--out", out_path, "--seq-length 8192", NULL};
    int rc = run_import(&o, &e, args);
    cr_assert_eq(chdir(cwd), 0);
    cr_assert_eq(rc, 0, "%s", e);
    free(o);
    free(e);
    struct scenario scn;
    struct sim_error lerr;
    scn_defaults(&scn);
    cr_expect_eq(scn_load(&scn, out_path, &lerr), SIM_OK, "%s", lerr.msg);
    FILE *f = fopen(out_path, "r");
    cr_assert(f);
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    cr_expect(strstr(text, "<hardware ref=\"/") && strstr(text, "/hardware/dgx-h100.xml\"/>"),
              "%s", text);
    unlink(out_path);
    rmdir(sub);
    rmdir(dir);
    const char *longname[] = {"megatron", "--hardware", "dgx-h100", "--model", "llama3.1-8b",
                              "--name",
                              "a name of more than sixty-three characters, which no scenario "
                              "holds",
                              "--seq-length 8192", NULL};
    cr_assert_eq(run_import(&o, &e, longname), 2);
    cr_assert(strstr(e, "--name of 67 bytes, at most 63"), "%s", e);
    free(o);
    free(e);
}

/* The recipes' flags that have a key of their own: Megatron-FSDP's strategy as a ZeRO stage
 * (optim_grads_params by default), the precision-aware optimizer's 16-bit moments, fp8
 * attention, the op fuser's fused grouped MLP, the flex dispatcher's SMs under their later
 * names, full-iteration graphs by their impl (a scope beside it is read, not ignored). */
Test(import, recipe_flags_with_keys_of_their_own, .init = setup)
{
    cr_assert_eq(parse("--use-megatron-fsdp"), SIM_OK, "%s", err.msg);
    has("zero", "3");
    cr_assert_eq(parse("--use-megatron-fsdp --data-parallel-sharding-strategy optim"), SIM_OK,
                 "%s", err.msg);
    has("zero", "1");
    cr_assert_eq(parse("--data-parallel-sharding-strategy optim_grads"), SIM_OK, "%s", err.msg);
    cr_assert_null(import_value(&res, "zero"), "not read without --use-megatron-fsdp");
    cr_assert(ignored("--data-parallel-sharding-strategy"));
    cr_assert_eq(parse("--use-precision-aware-optimizer --exp-avg-dtype bf16 "
                       "--exp-avg-sq-dtype bf16"),
                 SIM_OK, "%s", err.msg);
    has("optimizer-state", "bf16-moments");
    cr_assert_eq(parse("--exp-avg-dtype bf16 --exp-avg-sq-dtype bf16"), SIM_OK, "%s", err.msg);
    cr_assert_null(import_value(&res, "optimizer-state"), "not read without the optimizer");
    cr_assert_eq(parse("--use-precision-aware-optimizer --exp-avg-dtype fp8 "
                       "--exp-avg-sq-dtype bf16"),
                 SIM_OK, "%s", err.msg);
    cr_assert_null(import_value(&res, "optimizer-state"));
    cr_assert_eq(parse("--fp4-format e2m1 --fp8-dot-product-attention "
                       "--use-transformer-engine-op-fuser --moe-token-dispatcher-type flex "
                       "--moe-flex-dispatcher-backend hybridep --moe-hybridep-num-sms 32"),
                 SIM_OK, "%s", err.msg);
    has("fp8-attention", "true");
    has("moe-fused-grouped-mlp", "true");
    has("deepep-sms", "32");
    cr_assert_eq(parse("--moe-token-dispatcher-type flex --moe-flex-dispatcher-num-sms 24"),
                 SIM_OK, "%s", err.msg);
    has("deepep-sms", "24");
    cr_assert_eq(parse("--cuda-graph-impl full_iteration"), SIM_OK, "%s", err.msg);
    has("cuda-graphs", "full-iteration");
    cr_assert_eq(parse("--cuda-graph-impl local --cuda-graph-scope full_iteration"), SIM_OK, "%s",
                 err.msg);
    has("cuda-graphs", "full-iteration");
    cr_assert_not(ignored("--cuda-graph-scope"), "the scope was read");
}

/* --account-for-embedding / loss-in-pipeline-split: Llama 3.1 405B's 126 layers and the two
 * ends over pp 16 x vp 8 = 128 virtual stages, one each, so the ends hold none; 80 layers over
 * pp 4 x vp 1 with the embedding counted: 81 does not divide, refused as Megatron does. */
Test(import_cmd, the_account_for_split_sets_the_ends, .init = setup)
{
    char *o, *e;
    const char *args[] = {"megatron", "--hardware", "gb200-nvl72", "--model", "llama3.1-405b",
                          "--tensor-model-parallel-size 4 --pipeline-model-parallel-size 16 "
                          "--virtual-pipeline-model-parallel-size 8 "
                          "--account-for-embedding-in-pipeline-split "
                          "--account-for-loss-in-pipeline-split --seq-length 8192 "
                          "--global-batch-size 64",
                          NULL};
    cr_assert_eq(run_import(&o, &e, args), 0, "%s", e);
    cr_expect(strstr(o, "first-stage-layers=\"0\" last-stage-layers=\"0\""), "%s", o);
    free(o);
    free(e);
    /* the same stages by layers per virtual stage: Megatron counts the two ends as layers
     * before dividing (arguments.py), 128 over pp 16 x 1 a stage -- vp 8, where 126 layers had
     * been refused as no multiple of 16; from the model's layers or --num-layers alike */
    static const char *const per_stage[] = {
        "--tensor-model-parallel-size 4 --pipeline-model-parallel-size 16 "
        "--num-layers-per-virtual-pipeline-stage 1 --account-for-embedding-in-pipeline-split "
        "--account-for-loss-in-pipeline-split --seq-length 8192 --global-batch-size 64",
        "--num-layers 126 --tensor-model-parallel-size 4 --pipeline-model-parallel-size 16 "
        "--num-layers-per-virtual-pipeline-stage 1 --account-for-embedding-in-pipeline-split "
        "--account-for-loss-in-pipeline-split --seq-length 8192 --global-batch-size 64"};
    for (size_t i = 0; i < sizeof per_stage / sizeof per_stage[0]; i++) {
        const char *line_args[] = {"megatron", "--hardware", "gb200-nvl72", "--model",
                                   "llama3.1-405b", per_stage[i], NULL};
        expect_import(line_args, 0, "first-stage-layers=\"0\" last-stage-layers=\"0\"", NULL);
        expect_import(line_args, 0, "pp=\"16\" vp=\"8\"", NULL);
    }
    const char *odd[] = {"megatron", "--hardware", "dgx-h100", "--model", "llama3.1-70b",
                         "--pipeline-model-parallel-size 4 "
                         "--account-for-embedding-in-pipeline-split --seq-length 8192",
                         NULL};
    cr_assert_eq(run_import(&o, &e, odd), 2);
    cr_expect(strstr(e, "80 layers and 1 end do not divide over pp x vp = 4"), "%s", e);
    free(o);
    free(e);
}

/* --model that names nothing stops the import (it wrote a scenario naming a file that does not
 * exist, as an absolute path at that); the shipped names it lists are whole, "..." where the
 * rest does not fit. */
Test(import_cmd, an_unknown_model_stops_the_import, .init = setup)
{
    char *o, *e;
    const char *args[] = {"megatron", "--hardware", "dgx-h100", "--model", "zzzz-unknown",
                          "--seq-length 8192", NULL};
    cr_assert_eq(run_import(&o, &e, args), 2);
    cr_expect_str_empty(o);
    cr_expect(strstr(e, "import: --model 'zzzz-unknown' is neither a model file nor a shipped "
                        "model (shipped: bloom-176b, "),
              "%s", e);
    cr_expect(strstr(e, ", ...)"), "%s", e);
    free(o);
    free(e);
}

/* What a QA pass found the import wrote and run then refused, or read wrongly:
 * - query groups against --model without --num-attention-heads (Hydra-style lines), and
 *   --num-attention-heads alone named as such (no --group-query-attention: that many
 *   key-value heads);
 * - the flex dispatcher's SMs without a flex dispatcher, fp8 attention without fp8, the op
 *   fuser outside MXFP8 / NVFP4: not read, listed;
 * - the explicit flex SM count wins over the per-backend ones, which must agree;
 * - Megatron-FSDP keeps its own gradients and turns the distributed optimizer on itself. */
Test(import, flags_read_as_megatron_reads_them, .init = setup)
{
    cr_assert_eq(parse("--use-transformer-engine-op-fuser --fp8-dot-product-attention "
                       "--moe-deepep-num-sms 16 --bf16"),
                 SIM_OK, "%s", err.msg);
    cr_expect_null(import_value(&res, "moe-fused-grouped-mlp"));
    cr_expect_null(import_value(&res, "fp8-attention"));
    cr_expect_null(import_value(&res, "deepep-sms"));
    cr_expect(ignored("--use-transformer-engine-op-fuser") &&
              ignored("--fp8-dot-product-attention") && ignored("--moe-deepep-num-sms"));
    cr_assert_eq(parse("--moe-token-dispatcher-type flex --moe-flex-dispatcher-num-sms 32 "
                       "--moe-deepep-num-sms 16"),
                 SIM_OK, "%s", err.msg);
    has("deepep-sms", "32");
    cr_assert_eq(parse("--moe-token-dispatcher-type flex --moe-deepep-num-sms 16 "
                       "--moe-hybridep-num-sms 24"),
                 SIM_EINPUT);
    cr_expect(strstr(err.msg, "differ"), "%s", err.msg);
    cr_assert_eq(parse("--fp8-format e4m3 --fp8-recipe mxfp8 --use-transformer-engine-op-fuser "
                       "--fp8-dot-product-attention"),
                 SIM_OK, "%s", err.msg);
    has("moe-fused-grouped-mlp", "true");
    has("fp8-attention", "true");
    cr_assert_eq(parse("--use-megatron-fsdp --use-distributed-optimizer "
                       "--no-gradient-accumulation-fusion --megatron-fsdp-grad-comm-dtype bf16 "
                       "--bf16"),
                 SIM_OK, "%s", err.msg);
    has("zero", "3");
    has("grad-reduce-fp32", "false");
    cr_expect_null(import_value(&res, "distributed-optimizer"));
    cr_expect_null(import_value(&res, "grad-accumulation"));
}

Test(import_cmd, query_groups_and_virtual_stages_against_the_model, .init = setup)
{
    char *o, *e;
    const char *groups[] = {"megatron", "--hardware", "dgx-h100", "--model", "llama3.1-70b",
                            "--group-query-attention --num-query-groups 16 --seq-length 8192",
                            NULL};
    cr_assert_eq(run_import(&o, &e, groups), 2);
    cr_expect(strstr(e, "--num-query-groups 16, but --model llama3.1-70b has 8"), "%s", e);
    free(o);
    free(e);
    const char *heads[] = {"megatron", "--hardware", "dgx-h100", "--model", "llama3.1-70b",
                           "--num-attention-heads 64 --seq-length 8192", NULL};
    cr_assert_eq(run_import(&o, &e, heads), 2);
    cr_expect(strstr(e, "without --group-query-attention"), "%s", e);
    free(o);
    free(e);
    /* Mixtral's 32 layers over pp 4 x 2 layers a virtual stage: vp 4, interleaved */
    const char *vstage[] = {"megatron", "--hardware", "dgx-h100", "--model", "mixtral-8x7b",
                            "--pipeline-model-parallel-size 4 "
                            "--num-layers-per-virtual-pipeline-stage 2 --seq-length 4096 "
                            "--global-batch-size 16",
                            NULL};
    cr_assert_eq(run_import(&o, &e, vstage), 0, "%s", e);
    cr_expect(strstr(o, "schedule=\"interleaved\" pp=\"4\" vp=\"4\""), "%s", o);
    free(o);
    free(e);
}

/* The key-value heads as each launcher reads them: Megatron-LM reads --num-query-groups only
 * under --group-query-attention (without it, listed: as many key-value heads as heads);
 * Megatron-Bridge's model.num_query_groups sets TransformerConfig's field, which no switch
 * guards, so a Bridge line for Llama-3.1-70B imports against that model. */
Test(import_cmd, query_groups_as_megatron_lm_and_bridge_read_them, .init = setup)
{
    cr_assert_eq(parse("--num-attention-heads 64 --num-query-groups 8"), SIM_OK, "%s", err.msg);
    cr_expect_eq(res.kv_heads, 64);
    cr_expect(ignored("--num-query-groups (without --group-query-attention)"));
    cr_assert_eq(parse("model.num_attention_heads=64 model.num_query_groups=8"), SIM_OK, "%s",
                 err.msg);
    cr_expect_eq(res.kv_heads, 8);
    cr_expect_eq(res.nignored, 0);
    const char *line = "model.num_layers=80 model.hidden_size=8192 model.num_attention_heads=64 "
                       "model.num_query_groups=8 model.tensor_model_parallel_size=8 "
                       "train.global_batch_size=256 train.micro_batch_size=1 "
                       "model.seq_length=8192";
    const char *bridge[] = {"megatron", "--hardware", "dgx-h100", "--model", "llama3.1-70b",
                            "--gpus", "256", line, NULL};
    expect_import(bridge, 0, "<parallel gpus=\"256\" tp=\"8\"/>", NULL);
}

/* DeepSeek-V3.2 is DeepSeek-V3's shape with DeepSeek Sparse Attention, which Megatron builds
 * only under --experimental-attention-variant dsa: a line without it trains DeepSeek-V3, a line
 * with it DeepSeek-V3.2 (both were named, and the import asked for --model). */
Test(import_cmd, the_dsa_variant_tells_deepseek_v3_from_v3_2, .init = setup)
{
    const char *v3 = "pretrain_gpt.py --num-layers 61 --hidden-size 7168 --num-attention-heads 128 "
                     "--multi-latent-attention --num-experts 256 --moe-router-topk 8 "
                     "--moe-ffn-hidden-size 2048 --tensor-model-parallel-size 1 "
                     "--pipeline-model-parallel-size 16 --expert-model-parallel-size 64 "
                     "--decoder-first-pipeline-num-layers 3 --decoder-last-pipeline-num-layers 2 "
                     "--micro-batch-size 1 --global-batch-size 8192 --seq-length 4096 --bf16";
    char line[1024];
    const char *args[] = {"megatron", "--hardware", "dgx-h100", "--gpus", "1024", line, NULL};
    snprintf(line, sizeof line, "%s", v3);
    expect_import(args, 0, "<model ref=\"deepseek-v3\" ", NULL);
    snprintf(line, sizeof line, "%s --experimental-attention-variant dsa", v3);
    expect_import(args, 0, "<model ref=\"deepseek-v3.2\" ", NULL);
}

/* Every shape flag the model file records is held against --model (each of these was accepted
 * and simulated as the named model): the first that differs is named with both values. */
Test(import_cmd, each_shape_flag_against_the_named_model_is_refused, .init = setup)
{
    static const struct {
        const char *model, *flags, *message;
    } cases[] = {
        {"deepseek-v3", "--moe-shared-expert-intermediate-size 4096",
         "--moe-shared-expert-intermediate-size 4096, but --model deepseek-v3 has 2048"},
        {"nemotron-3-super-120b-a12b", "--moe-latent-size 512",
         "--moe-latent-size 512, but --model nemotron-3-super-120b-a12b has 1024"},
        {"nemotron-3-nano-30b-a3b", "--mamba-state-dim 64",
         "--mamba-state-dim 64, but --model nemotron-3-nano-30b-a3b has 128"},
        {"deepseek-v3", "--multi-latent-attention --q-lora-rank 3000 --kv-lora-rank 64",
         "--q-lora-rank 3000, but --model deepseek-v3 has 1536"},
        {"deepseek-v3", "--multi-latent-attention --kv-lora-rank 64",
         "--kv-lora-rank 64, but --model deepseek-v3 has 512"},
        {"deepseek-v3", "--multi-latent-attention --qk-pos-emb-head-dim 32",
         "--qk-pos-emb-head-dim 32, but --model deepseek-v3 has 64"},
        {"deepseek-v3", "model.kv_lora_rank=64", /* Bridge: MLATransformerConfig's field */
         "--kv-lora-rank 64, but --model deepseek-v3 has 512"},
        {"llama3.1-8b", "--multi-latent-attention",
         "--multi-latent-attention, but --model llama3.1-8b has none"},
        {"deepseek-v3", "--experimental-attention-variant dsa",
         "--experimental-attention-variant dsa, but --model deepseek-v3 has none"},
        {"deepseek-v3.2", "--experimental-attention-variant dsa --dsa-indexer-topk 1024",
         "--dsa-indexer-topk 1024, but --model deepseek-v3.2 has 2048"},
        /* Megatron's --moe-layer-freq 1: every layer MoE, not DeepSeek-V3's 3 dense first */
        {"deepseek-v3", "--num-experts 256 --moe-layer-freq 1",
         "--moe-layer-freq makes layer 1 MoE, but in --model deepseek-v3 it is dense"},
        {"deepseek-v3", "--moe-layer-freq ([0]*3+[1]*57)",
         "--moe-layer-freq lists 60 layers, but --model deepseek-v3 has 61"},
        /* a number k: layers 1, k + 1, ... (gpt_layer_specs.py); Maverick's are 2, 4, ... */
        {"llama4-maverick-17b-128e", "--moe-layer-freq 2",
         "--moe-layer-freq makes layer 1 MoE, but in --model llama4-maverick-17b-128e it is "
         "dense"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char line[512], message[256];
        snprintf(line, sizeof line, "%s --seq-length 4096", cases[i].flags);
        snprintf(message, sizeof message, "%s: the line trains another network",
                 cases[i].message);
        const char *args[] = {"megatron", "--hardware", "dgx-h100", "--model", cases[i].model,
                              line, NULL};
        expect_import(args, 2, NULL, message);
    }
    /* Megatron-LM reads the latent-attention sizes only under --multi-latent-attention, the DSA
     * indexer's only under the dsa variant: without them each is listed, not compared */
    cr_assert_eq(parse("--q-lora-rank 3000 --dsa-indexer-topk 1024"), SIM_OK, "%s", err.msg);
    cr_expect(ignored("--q-lora-rank") && ignored("--dsa-indexer-topk"));
    cr_expect_eq(res.q_lora_rank, 0);
    cr_expect_eq(res.dsa_topk, 0);
    const char *v3 = "--num-layers 61 --hidden-size 7168 --num-attention-heads 128 "
                     "--multi-latent-attention --q-lora-rank 1536 --kv-lora-rank 512 "
                     "--qk-head-dim 128 --qk-pos-emb-head-dim 64 --v-head-dim 128 "
                     "--num-experts 256 --moe-layer-freq [0]*3+[1]*58 --seq-length 4096";
    char *o, *e;
    const char *same[] = {"megatron", "--hardware", "dgx-h100", "--model", "deepseek-v3", v3,
                          NULL};
    cr_assert_eq(run_import(&o, &e, same), 0, "%s", e);
    cr_expect_null(strstr(e, "lora"), "the sizes are the model's, not ignored: %s", e);
    cr_expect_null(strstr(e, "moe-layer-freq"), "%s", e);
    free(o);
    free(e);
}

/* --moe-layer-freq as Megatron evaluates it (a number, or a Python list expression of 0 and 1)
 * finds the model with those MoE layers; a model without experts does not read it. */
Test(import_cmd, moe_layer_freq_places_the_moe_layers, .init = setup)
{
    cr_assert_eq(parse("--moe-layer-freq 2*[0,1]*3"), SIM_OK, "%s", err.msg);
    cr_expect_str_eq(res.moe_layers, "010101010101");
    cr_assert_eq(parse("--moe-layer-freq=([0]+[1]*2)*2+[0]"), SIM_OK, "%s", err.msg);
    cr_expect_str_eq(res.moe_layers, "0110110");
    cr_assert_eq(parse("--moe-layer-freq 4"), SIM_OK, "%s", err.msg);
    cr_expect_eq(res.moe_every, 4);
    /* without a '[' Megatron takes int(): "2*2" and "(4)" are refused there */
    static const char *const bad[] = {"2*2", "(4)",    "1+1",      "[0]*3+[2]*58",
                                      "[0]*3+", "([0]", "[1]+2",    "0",
                                      "[]",    "[1]*2000", "[0] * 3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "--moe-layer-freq '%s'", bad[i]);
        cr_expect_eq(parse(line), SIM_EINPUT, "%s", bad[i]);
        cr_expect(strstr(err.msg, "import: --moe-layer-freq"), "%s", err.msg);
    }
    const char *v3 = "--num-layers 61 --hidden-size 7168 --num-attention-heads 128 "
                     "--num-experts 256 --seq-length 4096 --moe-layer-freq ";
    char line[256];
    const char *args[] = {"megatron", "--hardware", "dgx-h100", line, NULL};
    snprintf(line, sizeof line, "%s[0]*3+[1]*58", v3);
    expect_import(args, 0, "<model ref=\"deepseek-v3\"/>", NULL);
    snprintf(line, sizeof line, "%s1", v3);
    expect_import(args, 2, NULL, "with experts and these MoE layers; give --model");
    const char *dense[] = {"megatron", "--hardware", "dgx-h100", "--model", "llama3.1-8b",
                           "--moe-layer-freq 2 --seq-length 4096", NULL};
    expect_import(dense, 0, NULL, "not modelled (ignored): --moe-layer-freq");
}

/* The line of the report: a DeepSeek-V3 launch whose latent-attention ranks and MoE layers
 * are another network's (it was imported as deepseek-v3, the ranks listed as ignored). */
Test(import_cmd, a_deepseek_v3_line_of_another_shape_is_refused, .init = setup)
{
    const char *line = "pretrain_gpt.py --num-layers 61 --hidden-size 7168 "
                       "--num-attention-heads 128 --multi-latent-attention --q-lora-rank 3000 "
                       "--kv-lora-rank 64 --moe-layer-freq 1 --num-experts 256 "
                       "--tensor-model-parallel-size 1 --pipeline-model-parallel-size 16 "
                       "--expert-model-parallel-size 64 --decoder-first-pipeline-num-layers 4 "
                       "--decoder-last-pipeline-num-layers 1 --micro-batch-size 1 "
                       "--global-batch-size 8192 --seq-length 4096 --bf16";
    const char *args[] = {"megatron", "--hardware", "dgx-h100", "--model", "deepseek-v3",
                          "--gpus", "1024", line, NULL};
    expect_import(args, 2, NULL,
                  "--q-lora-rank 3000, but --model deepseek-v3 has 1536: the line trains "
                  "another network");
}

/* A layout of more stages than ranks has virtual stages, as Megatron-Core reads it
 * (transformer_config.py, detected_vpp_size): the file had said pp alone, which validate
 * refused ("pipeline-layout has 8 stages, not pp*vp = 4*1").  A vp given stays, for the rules to
 * hold against the layout as Megatron asserts. */
Test(import_cmd, a_layout_of_more_stages_than_ranks_gives_virtual_stages, .init = setup)
{
    static const char layout[] = "--pipeline-model-parallel-layout 'Et*9|(t*10|)*6t*11L'";
    char line[256];
    snprintf(line, sizeof line, "--pipeline-model-parallel-size 4 %s", layout);
    reads(line, "vp", "2");
    has("schedule", "interleaved");
    snprintf(line, sizeof line, "--pipeline-model-parallel-size 8 %s", layout);
    cr_assert_eq(parse(line), SIM_OK, "%s", err.msg);
    cr_expect_null(import_value(&res, "vp"), "one stage a rank");
    snprintf(line, sizeof line,
             "--pipeline-model-parallel-size 4 --virtual-pipeline-model-parallel-size 4 %s",
             layout);
    reads(line, "vp", "4");
    snprintf(line, sizeof line,
             "--pipeline-model-parallel-size 4 %s --seq-length 8192 --global-batch-size 16",
             layout);
    const char *args[] = {"megatron", "--hardware", "dgx-h100", "--model", "llama3.1-70b", line,
                          NULL};
    expect_import(args, 0, "<pipeline schedule=\"interleaved\" pp=\"4\" vp=\"2\"", NULL);
}

/* Megatron-LM's examples/gpt3/train_gpt3_175b_distributed.sh (NVIDIA/Megatron-LM
 * d98e8a64ddf34856e74b24714e3bedb2f5a39553) as the shell runs it, on 16 nodes (the script's
 * NUM_NODES=1 holds 8 of its tp x pp = 128 ranks), with `tokenizer` -- the GPT-2 one its
 * --vocab-file / --merge-file are for -- and a tp of `tp`. */
static void gpt3_example(char *line, size_t len, int tp, const char *tokenizer)
{
    snprintf(line, len,
             "torchrun --nproc_per_node 8 --nnodes 16 --master_addr localhost --master_port 29500 "
             "pretrain_gpt.py --num-layers 96 --hidden-size 12288 --num-attention-heads 96 "
             "--seq-length 2048 --max-position-embeddings 2048 --attention-backend auto "
             "--micro-batch-size 1 --global-batch-size 1536 --step-batch-size-schedule "
             "\"0:16 2.4B:320 4.8B:624 7.2B:928 9.6B:1232 12B:1536\" --train-iters 500000 "
             "--fp16 --lr 6.0e-5 --tensor-model-parallel-size %d "
             "--pipeline-model-parallel-size 16 --data-path /data/gpt_text_document "
             "--vocab-file /data/gpt2-vocab.json --merge-file /data/gpt2-merges.txt %s",
             tp, tokenizer);
}

/* Several shipped models have GPT-3 175B's shape, one a vocabulary: the line's tokenizer and
 * Megatron's padding of it to a multiple of 128 x tp (vocab_size_with_padding) choose the one,
 * and the file and stderr say so.  Without it the import had stopped: "give --model NAME". */
Test(import_cmd, the_line_s_vocabulary_chooses_among_models_of_its_shape, .init = setup)
{
    char line[1024], *o, *e;
    gpt3_example(line, sizeof line, 8, "--tokenizer-type GPT2BPETokenizer");
    const char *args[] = {"megatron", "--hardware", "dgx-h100", line, NULL};
    cr_assert_eq(run_import(&o, &e, args), 0, "%s", e);
    cr_expect(strstr(o, "<model ref=\"gpt3-175b-v51200\"/>"), "%s", o);
    cr_expect(strstr(o, "the one of its vocabulary: tokenizer-type GPT2BPETokenizer (50257 "
                        "tokens) padded to 51200, a multiple of 128 x tensor-model-parallel-size "
                        "8."), "%s", o);
    cr_expect(strstr(e, "import: model gpt3-175b-v51200, of those of the line's shape, by its "
                        "vocabulary: --tokenizer-type GPT2BPETokenizer"), "%s", e);
    cr_expect_null(strstr(e, "--tokenizer-type,"), "it chose the model: not ignored: %s", e);
    free(o);
    free(e);
    /* at tp 4 the padding is 50688's; at tp 2 (50432) no model has it: the tokenizer's own */
    gpt3_example(line, sizeof line, 4, "--tokenizer-type GPT2BPETokenizer");
    expect_import(args, 0, "<model ref=\"gpt3-175b-v50688\"/>", NULL);
    gpt3_example(line, sizeof line, 2, "--tokenizer-type GPT2BPETokenizer");
    expect_import(args, 0, "<model ref=\"gpt3-175b\"/>", "unpadded (no model of the shape has "
                                                         "the 50432 of Megatron's padding)");
    gpt3_example(line, sizeof line, 8,
                 "--tokenizer-type GPT2BPETokenizer --make-vocab-size-divisible-by 64");
    expect_import(args, 0, "<model ref=\"gpt3-175b-v50688\"/>", NULL);
    /* NullTokenizer reads --vocab-size: the Megatron README's GPT 177B */
    gpt3_example(line, sizeof line, 8, "--tokenizer-type NullTokenizer --vocab-size 131072");
    expect_import(args, 0, "<model ref=\"gpt-mc24-177b\"/>", NULL);
    /* Llama 2 70B's shape is Llama 3.1 and 3.3's: Llama 2's tokenizer or Llama 3's choose */
    const char *llama = "--num-layers 80 --hidden-size 8192 --num-attention-heads 64 "
                        "--group-query-attention --num-query-groups 8 --ffn-hidden-size 28672 "
                        "--swiglu --seq-length 4096 --tensor-model-parallel-size 8 ";
    snprintf(line, sizeof line, "%s--tokenizer-type Llama2Tokenizer --tokenizer-model /t.model",
             llama);
    expect_import(args, 0, "<model ref=\"llama2-70b\"/>", NULL);
    snprintf(line, sizeof line, "%s--tokenizer-type HuggingFaceTokenizer "
             "--tokenizer-model meta-llama/Llama-3.3-70B-Instruct", llama);
    expect_import(args, 0, "<model ref=\"llama3.1-70b\"/>", "(128256 tokens), unpadded");
    /* a shape one network has keeps its model whatever the vocabulary flags say, and they
     * stay listed as ignored */
    snprintf(line, sizeof line, "--num-layers 32 --hidden-size 4096 --num-attention-heads 32 "
             "--group-query-attention --num-query-groups 8 --seq-length 8192 "
             "--ffn-hidden-size 14336 --swiglu --tokenizer-type GPT2BPETokenizer "
             "--vocab-size 50257");
    expect_import(args, 0, "<model ref=\"llama3.1-8b\"/>", "--tokenizer-type, --vocab-size");
}

/* A line whose shape several networks have and whose vocabulary does not choose one lists
 * them with their vocabularies and says which flag would decide. */
Test(import_cmd, several_models_of_the_shape_are_listed, .init = setup)
{
    char line[1024];
    const char *args[] = {"megatron", "--hardware", "dgx-h100", line, NULL};
    gpt3_example(line, sizeof line, 8, "");
    expect_import(args, 2, NULL,
                  "import: the launch line's shape fits gpt-mc24-177b (vocabulary 131072), "
                  "gpt3-175b (50257), gpt3-175b-v50688 (50688), gpt3-175b-v51200 (51200); "
                  "--tokenizer-type (or --vocab-size) would choose by vocabulary, or give "
                  "--model NAME");
    gpt3_example(line, sizeof line, 8, "--tokenizer-type SentencePieceTokenizer");
    expect_import(args, 2, NULL, "the vocabulary of --tokenizer-type SentencePieceTokenizer is "
                                 "not known here");
    gpt3_example(line, sizeof line, 8, "--tokenizer-type NullTokenizer --vocab-size 50000");
    expect_import(args, 2, NULL, "and its vocabulary, --vocab-size 50000, padded to 50176, does "
                                 "not pick one of them; give --model NAME");
    /* HuggingFace's tokenizer ignores --vocab-size (build_tokenizer.py) */
    gpt3_example(line, sizeof line, 8,
                 "--tokenizer-type HuggingFaceTokenizer --tokenizer-model gpt2 --vocab-size 51200");
    expect_import(args, 2, NULL, "HuggingFaceTokenizer is not known here");
}
