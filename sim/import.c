/* import: Megatron-LM launch lines as scenarios (see import.h).
 *
 * The flag table below is the whole mapping; a flag not in it is listed as ignored.  Values
 * are checked by the scenario's own parser (scn_set_option), so an imported file holds only
 * values `stepsim run` accepts. */
#include "import.h"

#include <assert.h>
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "alloc.h"
#include "cliutil.h"
#include "library.h"
#include "model.h"
#include "outfile.h"
#include "pplayout.h"
#include "scenario.h"
#include "step.h"
#include "units.h"

enum flag_kind {
    FK_INT,     /* --flag N: scenario key `key` = N */
    FK_BYTES,   /* --flag N: scenario key `key` = N bytes */
    FK_WORD,    /* --flag WORD: key = WORD (the scenario's parser checks it) */
    FK_SWITCH,  /* --flag: key = `value` */
    FK_ARCH,    /* --flag N: the model's shape (picks the shipped model) */
    FK_MLA,     /* FK_ARCH read only under latent attention (finish_attention_sizes) */
    FK_DSA,     /* FK_ARCH read only under --experimental-attention-variant dsa (the same) */
    FK_LIST,    /* --flag W1 W2 ... (argparse nargs '*'), or =[W1,W2]: key = "W1,W2" */
    FK_SPECIAL, /* read by name in apply_special() */
};

struct flag {
    const char *name; /* without the leading "--", words joined by '-' */
    enum flag_kind kind;
    const char *key;   /* FK_INT, FK_WORD, FK_SWITCH: the scenario key */
    const char *value; /* FK_SWITCH: the value it sets */
    size_t arch;       /* FK_ARCH, FK_MLA, FK_DSA: offset of the field in struct import_result */
};

#define ARCH(f) offsetof(struct import_result, f)

/* Megatron-LM's flag names (megatron/training/arguments.py) and torchrun's world size. */
static const struct flag flags[] = {
    {"tensor-model-parallel-size", FK_INT, "tp", NULL, 0},
    {"pipeline-model-parallel-size", FK_INT, "pp", NULL, 0},
    {"virtual-pipeline-model-parallel-size", FK_INT, "vp", NULL, 0},
    {"num-virtual-stages-per-pipeline-rank", FK_INT, "vp", NULL, 0},
    {"num-layers-per-virtual-pipeline-stage", FK_SPECIAL, NULL, NULL, 0},
    {"microbatch-group-size-per-virtual-pipeline-stage", FK_INT, "vp-group", NULL, 0},
    {"context-parallel-size", FK_INT, "cp", NULL, 0},
    /* argparse nargs '+': one type for every layer, or one a layer (finish_cp_comm) */
    {"cp-comm-type", FK_LIST, "cp-comm-type", NULL, 0},
    /* its two levels under a2a+p2p: the first, adjacent ranks, is the all-to-all group */
    {"hierarchical-context-parallel-sizes", FK_LIST, "hierarchical-cp", NULL, 0},
    {"expert-model-parallel-size", FK_INT, "ep", NULL, 0},
    {"expert-tensor-parallel-size", FK_INT, "etp", NULL, 0},
    {"micro-batch-size", FK_INT, "micro-batch", NULL, 0},
    {"global-batch-size", FK_INT, "global-batch", NULL, 0},
    {"seq-length", FK_INT, "seq", NULL, 0},
    {"decoder-first-pipeline-num-layers", FK_INT, "first-stage-layers", NULL, 0},
    {"decoder-last-pipeline-num-layers", FK_INT, "last-stage-layers", NULL, 0},
    {"pipeline-model-parallel-layout", FK_WORD, "pipeline-layout", NULL, 0},
    {"recompute-granularity", FK_WORD, "recompute", NULL, 0},
    {"recompute-method", FK_WORD, "recompute-method", NULL, 0},
    {"recompute-num-layers", FK_INT, "recompute-num-layers", NULL, 0},
    {"recompute-modules", FK_LIST, "recompute-modules", NULL, 0},
    /* TransformerConfig.cpu_offloading_num_layers (arguments.py: > 0 turns cpu_offloading on):
     * the layer-level offload, a share of the model's layers */
    {"cpu-offloading-num-layers", FK_SPECIAL, NULL, NULL, 0},
    {"fine-grained-activation-offloading", FK_SPECIAL, NULL, NULL, 0},
    {"offload-modules", FK_LIST, "offload-modules", NULL, 0},
    {"min-offloaded-tensor-size", FK_INT, "offload-min-elements", NULL, 0},
    {"activation-offload-fraction", FK_WORD, "offload-fraction", NULL, 0},
    {"delta-offload-bytes-across-pp-ranks", FK_BYTES, "offload-pp-delta", NULL, 0},
    {"cuda-graph-impl", FK_SPECIAL, NULL, NULL, 0},
    {"cuda-graph-scope", FK_LIST, "cuda-graph-scope", NULL, 0},
    {"cuda-graph-modules", FK_LIST, "cuda-graph-scope", NULL, 0},
    {"enable-cuda-graph", FK_SPECIAL, NULL, NULL, 0},
    {"moe-token-dispatcher-type", FK_SPECIAL, NULL, NULL, 0},
    {"moe-flex-dispatcher-backend", FK_SPECIAL, NULL, NULL, 0},
    {"moe-enable-deepep", FK_SWITCH, "moe-dispatcher", "deepep", 0},
    {"moe-router-padding-for-quantization", FK_SWITCH, "moe-router-padding", "true", 0},
    {"moe-router-padding-for-fp8", FK_SWITCH, "moe-router-padding", "true", 0},
    /* the flex dispatcher's SMs: Megatron-Core's one knob for every backend, and the per-backend
     * ones it routes to it (finish_flex_sms) */
    {"moe-flex-dispatcher-num-sms", FK_SPECIAL, NULL, NULL, 0},
    {"moe-deepep-num-sms", FK_SPECIAL, NULL, NULL, 0},
    {"moe-hybridep-num-sms", FK_SPECIAL, NULL, NULL, 0},
    /* the fused grouped MLP (moe/experts.py: _with_fused_impl follows the op fuser, and
     * Megatron asserts the configuration supports it); a dense model drops it */
    {"use-transformer-engine-op-fuser", FK_SWITCH, "moe-fused-grouped-mlp", "true", 0},
    {"fp8-dot-product-attention", FK_SWITCH, "fp8-attention", "true", 0},
    /* Megatron's pipeline split counting the embedding / the loss as a layer: finish_split */
    {"account-for-embedding-in-pipeline-split", FK_SPECIAL, NULL, NULL, 0},
    {"account-for-loss-in-pipeline-split", FK_SPECIAL, NULL, NULL, 0},
    /* Megatron-FSDP: its sharding strategy is a ZeRO stage (finish_sharding) */
    {"use-megatron-fsdp", FK_SPECIAL, NULL, NULL, 0},
    {"data-parallel-sharding-strategy", FK_SPECIAL, NULL, NULL, 0},
    /* replicated optimizer shards, Megatron-FSDP's HSDP: fsdp-group (import_shard_groups) */
    {"num-distributed-optimizer-instances", FK_SPECIAL, NULL, NULL, 0},
    {"outer-dp-sharding-strategy", FK_SPECIAL, NULL, NULL, 0},
    /* the precision-aware optimizer's state types (finish_optimizer_state) */
    {"use-precision-aware-optimizer", FK_SPECIAL, NULL, NULL, 0},
    {"main-params-dtype", FK_SPECIAL, NULL, NULL, 0},
    {"exp-avg-dtype", FK_SPECIAL, NULL, NULL, 0},
    {"exp-avg-sq-dtype", FK_SPECIAL, NULL, NULL, 0},
    /* Megatron-FSDP's gradient reduction type (finish_sharding) */
    {"megatron-fsdp-grad-comm-dtype", FK_SPECIAL, NULL, NULL, 0},
    {"overlap-moe-expert-parallel-comm", FK_SWITCH, "overlap-ep-comm", "true", 0},
    {"mtp-num-layers", FK_INT, "mtp-layers", NULL, 0},
    {"mtp-use-repeated-layer", FK_SWITCH, "mtp-repeated-layer", "true", 0},
    {"recompute-activations", FK_SWITCH, "recompute", "selective", 0},
    {"moe-layer-recompute", FK_SPECIAL, NULL, NULL, 0},
    {"sequence-parallel", FK_SWITCH, "sp", "true", 0},
    {"use-distributed-optimizer", FK_SWITCH, "distributed-optimizer", "true", 0},
    {"optimizer", FK_SPECIAL, NULL, NULL, 0},
    {"muon-num-ns-steps", FK_INT, "muon-ns-steps", NULL, 0},
    {"overlap-grad-reduce", FK_SWITCH, "overlap-grad-reduce", "true", 0},
    {"moe-shared-expert-overlap", FK_SWITCH, "moe-shared-expert-overlap", "true", 0},
    {"moe-router-dtype", FK_WORD, "moe-router-dtype", NULL, 0},
    /* the capacity, a key only with the padding to it (finish_offload_and_capacity) */
    {"moe-expert-capacity-factor", FK_WORD, "moe-capacity-factor", NULL, 0},
    {"moe-pad-expert-input-to-capacity", FK_SPECIAL, NULL, NULL, 0},
    /* the optimizer's host offload: its share, read only with the offload on */
    {"optimizer-cpu-offload", FK_SPECIAL, NULL, NULL, 0},
    {"optimizer-offload-fraction", FK_WORD, "offload-optimizer", NULL, 0},
    {"moe-router-fusion", FK_SPECIAL, NULL, NULL, 0},
    {"cross-entropy-loss-fusion", FK_SPECIAL, NULL, NULL, 0},
    {"cross-entropy-fusion-impl", FK_SPECIAL, NULL, NULL, 0},
    {"overlap-param-gather", FK_SWITCH, "overlap-param-gather", "true", 0},
    {"tp-comm-overlap", FK_SWITCH, "overlap-tp-comm", "true", 0},
    {"overlap-p2p-communication", FK_SWITCH, "overlap-p2p", "true", 0},
    /* ModelParallelConfig's fields, auto-generated flags (arguments.py at d98e8a6): the LM
     * head's weight gradients deferred into the pipeline flush, for at most N micro-batches */
    {"defer-embedding-wgrad-compute", FK_SWITCH, "defer-head-wgrad", "true", 0},
    {"wgrad-deferral-limit", FK_INT, "wgrad-deferral-limit", NULL, 0},
    /* arguments.py: rank numbering tp-cp-ep-pp-dp instead of tp-cp-ep-dp-pp */
    {"use-tp-pp-dp-mapping", FK_SWITCH, "rank-order", "tp-cp-ep-pp-dp", 0},
    {"no-overlap-p2p-communication", FK_SWITCH, "overlap-p2p", "false", 0},
    /* the gradients' type: fp32 for --bf16 unless told otherwise (finish_precision) */
    {"accumulate-allreduce-grads-in-fp32", FK_SPECIAL, NULL, NULL, 0},
    {"grad-reduce-in-bf16", FK_SPECIAL, NULL, NULL, 0},
    {"main-grads-dtype", FK_SPECIAL, NULL, NULL, 0},
    /* Megatron-Bridge's DistributedDataParallelConfig / MixedPrecisionConfig field */
    {"grad-reduce-in-fp32", FK_SPECIAL, NULL, NULL, 0},
    /* Megatron-Bridge's precision recipe by name (mixed_precision=bf16_mixed): precision_recipe */
    {"mixed-precision", FK_SPECIAL, NULL, NULL, 0},
    {"no-gradient-accumulation-fusion", FK_SWITCH, "grad-accumulation", "main-grad", 0},
    {"no-rope-fusion", FK_SWITCH, "rope-fusion", "false", 0},
    /* Megatron-LM of 2021-24 (arguments.py): the column-parallel layers' input-gradient
     * all-reduce in line with the weight-gradient GEMM (without SP only: finish()) */
    {"no-async-tensor-model-parallel-allreduce", FK_SWITCH, "overlap-tp-backward", "false", 0},
    {"fp8-param-gather", FK_SWITCH, "quantized-params", "true", 0},
    /* TransformerConfig.fp8_output_proj, an auto-generated flag (arguments.py's
     * ArgumentGroupFactory over TransformerConfig, d98e8a6) */
    {"fp8-output-proj", FK_SWITCH, "fp8-output-proj", "true", 0},
    {"fp4-param-gather", FK_SWITCH, "quantized-params", "true", 0},
    {"use-flash-attn", FK_SWITCH, "attention", "flash", 0},
    {"bf16", FK_SWITCH, "dtype", "bf16", 0},
    {"fp16", FK_SWITCH, "dtype", "fp16", 0},
    {"fp8-format", FK_SPECIAL, NULL, NULL, 0},
    {"fp8-recipe", FK_SPECIAL, NULL, NULL, 0},
    {"fp4-format", FK_SPECIAL, NULL, NULL, 0},
    {"first-last-layers-bf16", FK_SPECIAL, NULL, NULL, 0},
    {"num-layers-at-start-in-bf16", FK_SPECIAL, NULL, NULL, 0},
    {"num-layers-at-end-in-bf16", FK_SPECIAL, NULL, NULL, 0},
    {"attention-backend", FK_SPECIAL, NULL, NULL, 0},
    {"attention-dropout", FK_SPECIAL, NULL, NULL, 0},
    {"hidden-dropout", FK_SPECIAL, NULL, NULL, 0},
    {"group-query-attention", FK_SPECIAL, NULL, NULL, 0},
    /* latent attention (arguments.py's _add_mla_args: MLATransformerConfig's sizes, which
     * core_transformer_config_from_args passes only under --multi-latent-attention) */
    {"multi-latent-attention", FK_SPECIAL, NULL, NULL, 0},
    {"q-lora-rank", FK_MLA, NULL, NULL, ARCH(q_lora_rank)},
    {"kv-lora-rank", FK_MLA, NULL, NULL, ARCH(kv_lora_rank)},
    {"qk-head-dim", FK_MLA, NULL, NULL, ARCH(qk_head_dim)},
    {"qk-pos-emb-head-dim", FK_MLA, NULL, NULL, ARCH(qk_rope_dim)},
    {"v-head-dim", FK_MLA, NULL, NULL, ARCH(v_head_dim)},
    /* DeepSeek Sparse Attention's indexer (TransformerConfig.dsa_indexer_*: only the dsa
     * variant builds one, experimental_attention_variant_module_specs.py) */
    {"dsa-indexer-n-heads", FK_DSA, NULL, NULL, ARCH(dsa_heads)},
    {"dsa-indexer-head-dim", FK_DSA, NULL, NULL, ARCH(dsa_dim)},
    {"dsa-indexer-topk", FK_DSA, NULL, NULL, ARCH(dsa_topk)},
    {"dsa-indexer-topk-freq", FK_DSA, NULL, NULL, ARCH(dsa_topk_freq)},
    {"num-layers", FK_ARCH, NULL, NULL, ARCH(layers)},
    {"hidden-size", FK_ARCH, NULL, NULL, ARCH(hidden)},
    {"ffn-hidden-size", FK_ARCH, NULL, NULL, ARCH(ffn)},
    {"num-attention-heads", FK_ARCH, NULL, NULL, ARCH(heads)},
    {"num-query-groups", FK_SPECIAL, NULL, NULL, 0},
    {"num-experts", FK_ARCH, NULL, NULL, ARCH(experts)},
    {"kv-channels", FK_ARCH, NULL, NULL, ARCH(head_dim)},
    {"moe-router-topk", FK_ARCH, NULL, NULL, ARCH(top_k)},
    {"moe-layer-freq", FK_SPECIAL, NULL, NULL, 0},
    {"moe-ffn-hidden-size", FK_ARCH, NULL, NULL, ARCH(expert_ffn)},
    {"moe-latent-size", FK_ARCH, NULL, NULL, ARCH(moe_latent)},
    {"moe-shared-expert-intermediate-size", FK_ARCH, NULL, NULL, ARCH(shared_expert_ffn)},
    {"mamba-num-heads", FK_ARCH, NULL, NULL, ARCH(mamba_heads)},
    {"mamba-head-dim", FK_ARCH, NULL, NULL, ARCH(mamba_head_dim)},
    {"mamba-state-dim", FK_ARCH, NULL, NULL, ARCH(mamba_state)},
    {"mamba-num-groups", FK_ARCH, NULL, NULL, ARCH(mamba_groups)},
    {"linear-num-key-heads", FK_ARCH, NULL, NULL, ARCH(gdn_key_heads)},
    {"linear-num-value-heads", FK_ARCH, NULL, NULL, ARCH(gdn_value_heads)},
    {"linear-key-head-dim", FK_ARCH, NULL, NULL, ARCH(gdn_key_dim)},
    {"linear-value-head-dim", FK_ARCH, NULL, NULL, ARCH(gdn_value_dim)},
    {"linear-conv-kernel-dim", FK_ARCH, NULL, NULL, ARCH(gdn_conv)},
    {"linear-attention-type", FK_SPECIAL, NULL, NULL, 0},
    {"experimental-attention-variant", FK_SPECIAL, NULL, NULL, 0},
    {"linear-attention-freq", FK_SPECIAL, NULL, NULL, 0},
    {"attention-output-gate", FK_SPECIAL, NULL, NULL, 0},
    /* the layer's kind: compared with the model's when given (shape_flags) */
    {"swiglu", FK_SPECIAL, NULL, NULL, 0},
    {"squared-relu", FK_SPECIAL, NULL, NULL, 0},
    {"untie-embeddings-and-output-weights", FK_SPECIAL, NULL, NULL, 0},
    {"disable-bias-linear", FK_SPECIAL, NULL, NULL, 0},
    {"normalization", FK_SPECIAL, NULL, NULL, 0},
    {"position-embedding-type", FK_SPECIAL, NULL, NULL, 0},
    {"hybrid-override-pattern", FK_SPECIAL, NULL, NULL, 0},
    {"hybrid-layer-pattern", FK_SPECIAL, NULL, NULL, 0},
    {"nnodes", FK_SPECIAL, NULL, NULL, 0},
    {"nproc-per-node", FK_SPECIAL, NULL, NULL, 0},
};
#define NFLAGS (sizeof flags / sizeof flags[0])

/* Where each key the table can produce goes in the scenario file (the schema's elements). */
static const struct {
    const char *element;
    const char *keys[64];
} layout[] = {
    {"parallel",
     {"gpus", "tp", "cp", "cp-comm-type", "hierarchical-cp", "ep", "etp", "sp", "moe-dispatcher",
      "deepep-sms", "rank-order"}},
    {"pipeline", {"schedule", "pp", "vp", "vp-group", "pipeline-layout"}},
    {"batch", {"micro-batch", "global-batch", "seq"}},
    {"training",
     {"dtype", "fp8-recipe", "bf16-first-layers", "bf16-last-layers", "quantized-params",
      "fp8-output-proj", "recompute", "recompute-modules", "recompute-method",
      "recompute-num-layers",
      "distributed-optimizer", "overlap-grad-reduce", "overlap-param-gather", "overlap-tp-comm",
      "overlap-p2p", "overlap-ep-comm", "moe-shared-expert-overlap", "moe-router-dtype",
      "moe-router-fusion", "cross-entropy", "attention",
      "grad-reduce-fp32", "grad-accumulation", "rope-fusion", "overlap-tp-backward", "dropout",
      "mtp-layers", "mtp-repeated-layer", "cuda-graphs", "cuda-graph-scope", "offload-modules",
      "offload-min-elements", "offload-fraction", "offload-pp-delta", "offload-activations",
      "optimizer-algorithm", "muon-ns-steps", "optimizer-moments", "optimizer-state", "zero",
      "fsdp-group", "fsdp-outer-shard",
      "fp8-attention", "moe-fused-grouped-mlp", "defer-head-wgrad", "wgrad-deferral-limit",
      "moe-capacity-factor", "offload-optimizer", "framework"}},
};

/* ---- words ---------------------------------------------------------------------------- */

/* A list flag's words, joined with commas, fit in this many bytes. */
enum { IMPORT_LIST_MAX = 256 };

struct words {
    int n;
    char w[IMPORT_MAX_WORDS][256];
    unsigned char cut[IMPORT_MAX_WORDS]; /* longer than w's 255 bytes: kept cut */
};

/* The character a backslash at p escapes, as the shell reads it: outside quotes any character
 * (`M-M\*` quotes a glob, `\'` a quote), inside double quotes only $ ` " and a backslash
 * (the shell keeps the backslash before anything else), inside single quotes none.  0: the
 * backslash is a plain character. */
static char escaped_char(const char *p, char quote)
{
    if (quote == '\'' || p[1] == '\0')
        return 0;
    if (quote == '"')
        return strchr("$`\"\\", p[1]) ? p[1] : 0;
    return p[1];
}

/* Split `text` at blanks outside quotes, dropping the quotes, the backslashes of line
 * continuations and those escaping a character as the shell does; with regroup, a quoted word
 * of flags is split again. */
static enum sim_status split_words(const char *text, int regroup, struct words *out,
                                   struct sim_error *err)
{
    const char *p = text;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            return SIM_OK;
        char word[4096]; /* a quoted group of flags, split below; longer words are cut */
        size_t len = 0;
        int cut = 0;
        char quote = 0;
        for (; *p && (quote || !isspace((unsigned char)*p)); p++) {
            if (!quote && (*p == '\'' || *p == '"')) {
                quote = *p;
                continue;
            }
            if (quote && *p == quote) {
                quote = 0;
                continue;
            }
            if (quote != '\'' && *p == '\\' && p[1] == '\n') {
                p++; /* "\" ending a line, inside double quotes too */
                continue;
            }
            if (!quote && *p == '\\' && (p[1] == '\0' || isspace((unsigned char)p[1])))
                continue; /* "\" ending a line, blanks after it */
            if (*p == '\\' && escaped_char(p, quote))
                p++;
            if (len + 1 >= sizeof word)
                cut = 1; /* a data blend or a prompt: refused only if a modelled flag reads it */
            else
                word[len++] = *p;
        }
        if (len == 0)
            continue;
        word[len] = '\0';
        if (regroup && word[strspn(word, " \t\n")] == '-' && !cut && strpbrk(word, " \t\n")) {
            /* a quoted group of flags -- an array's "--fp8-format hybrid", a MODEL_OPTIONS="..."
             * block pasted with its quotes -- is words: the script expands it unquoted (once:
             * a group inside it stays one word, and the stack shallow) */
            enum sim_status st = split_words(word, 0, out, err);
            if (st != SIM_OK)
                return st;
            continue;
        }
        if (len >= sizeof out->w[0]) {
            len = sizeof out->w[0] - 1;
            cut = 1;
        }
        if (out->n == IMPORT_MAX_WORDS)
            return err_set(err, SIM_EINPUT, NULL, 0,
                           "import: the launch line has more than %d words", IMPORT_MAX_WORDS);
        memcpy(out->w[out->n], word, len);
        out->w[out->n][len] = '\0';
        out->cut[out->n++] = (unsigned char)cut;
    }
}

/* ---- flags ----------------------------------------------------------------------------- */

static const struct flag *find_flag(const char *name)
{
    for (size_t i = 0; i < NFLAGS; i++)
        if (strcmp(flags[i].name, name) == 0)
            return &flags[i];
    return NULL;
}

static enum sim_status put_key(struct import_result *res, const char *key, const char *value,
                               const char *flag, struct sim_error *err)
{
    if (strlen(value) >= sizeof res->keys[0].value) /* never cut: a cut value is another one */
        return err_set(err, SIM_EINPUT, NULL, 0, "import: --%.63s: a value of %zu characters, "
                       "more than %zu", flag, strlen(value), sizeof res->keys[0].value - 1);
    for (int i = 0; i < res->nkeys; i++) {
        if (strcmp(res->keys[i].key, key) == 0) { /* a later flag wins, as in argparse */
            snprintf(res->keys[i].value, sizeof res->keys[i].value, "%s", value);
            snprintf(res->keys[i].flag, sizeof res->keys[i].flag, "%.63s", flag);
            return SIM_OK;
        }
    }
    if (res->nkeys == IMPORT_MAX_KEYS)
        return err_set(err, SIM_EFAIL, NULL, 0, "import: more than %d keys", IMPORT_MAX_KEYS);
    snprintf(res->keys[res->nkeys].key, sizeof res->keys[0].key, "%s", key);
    snprintf(res->keys[res->nkeys].value, sizeof res->keys[0].value, "%s", value);
    snprintf(res->keys[res->nkeys].flag, sizeof res->keys[0].flag, "%.63s", flag);
    res->nkeys++;
    return SIM_OK;
}

static void add_ignored(struct import_result *res, const char *word)
{
    if (res->nignored < IMPORT_MAX_IGNORED)
        snprintf(res->ignored[res->nignored++], sizeof res->ignored[0], "%.63s", word);
}

const char *import_value(const struct import_result *res, const char *key)
{
    for (int i = 0; i < res->nkeys; i++)
        if (strcmp(res->keys[i].key, key) == 0)
            return res->keys[i].value;
    return NULL;
}

static enum sim_status whole_number(const char *flag, const char *value, long *out,
                                    struct sim_error *err)
{
    char why[256], ignored[8];
    long negative;
    if (!value)
        return err_set(err, SIM_EINPUT, NULL, 0, "import: --%s needs a value", flag);
    if (units_parse_int(value, 0, 1L << 30, out, why, sizeof why) == 0)
        return SIM_OK;
    /* a count or size below zero: the range [0, ...] would read as if 0 were a choice */
    if (units_parse_int(value, LONG_MIN, -1, &negative, ignored, sizeof ignored) == 0)
        return err_set(err, SIM_EINPUT, NULL, 0, "import: --%s %s: must be a positive integer",
                       flag, value);
    return err_set(err, SIM_EINPUT, NULL, 0, "import: --%s %s: %s", flag, value, why);
}

/* What the special flags leave for finish(). */
struct pending {
    long layers_per_vstage; /* --num-layers-per-virtual-pipeline-stage; 0 = not given */
    double attn_dropout, hidden_dropout;
    int gqa;
    int fp8; /* --fp8-format: fp8 matmuls whatever --bf16 / --fp16 say (they name the rest) */
    int fp4; /* --fp4-format (e2m1, TE's NVFP4 recipe): likewise, 4-bit matmuls */
    int router_fusion;         /* --moe-router-fusion (Megatron's default: off) */
    int ce_fusion;             /* --cross-entropy-loss-fusion (Megatron's default: off) */
    int ce_te;                 /* --cross-entropy-fusion-impl te (default native) */
    int bf16_edges;            /* --first-last-layers-bf16 */
    long bf16_start, bf16_end; /* --num-layers-at-start/end-in-bf16, + 1 (0 = Megatron's 1) */
    long query_groups;
    /* the word being applied is a Megatron-Bridge override (key=value, no dashes): it sets a
     * field of Megatron-Core's config, TransformerConfig's num_query_groups for one */
    int bridge;
    int groups_field; /* the query groups came as that field (read without a GQA switch) */
    long nnodes, nproc;
    long cpu_offload_layers; /* --cpu-offloading-num-layers */
    int fine_offload; /* --fine-grained-activation-offloading (without it --offload-modules
                         means nothing) */
    int optimizer_offload; /* --optimizer-cpu-offload */
    int pad_capacity;      /* --moe-pad-expert-input-to-capacity */
    int graph_impl; /* --cuda-graph-impl: 0 none, 1 local, 2 transformer_engine;
                       --enable-cuda-graph (Megatron-Core before cuda_graph_impl): 2 */
    int linear_gdn;   /* --linear-attention-type (or --experimental-attention-variant)
                         gated_delta_net: a GPT model whose layers mix by Gated DeltaNets */
    long linear_freq; /* --linear-attention-freq: every k-th layer attention (0: not given) */
    /* the gradients' type as the flags give it: --grad-reduce-in-bf16 or --main-grads-dtype
     * bf16 (which win, as in arguments.py), else --accumulate-allreduce-grads-in-fp32 or
     * Megatron-Bridge's grad_reduce_in_fp32 (the last one said) */
    int grads_bf16;
    enum { GRADS_DEFAULT, GRADS_FP32, GRADS_16BIT } grads;
    int hybridep; /* --moe-flex-dispatcher-backend hybridep: the flex dispatcher is HybridEP */
    int megatron_fsdp;  /* --use-megatron-fsdp */
    int fsdp_strategy;  /* --data-parallel-sharding-strategy as a ZeRO stage (default 3) + 1;
                           0 = not given */
    int precision_aware; /* --use-precision-aware-optimizer */
    int moe_layer_recompute; /* --moe-layer-recompute (deprecated): selective, `moe` added */
    /* bytes of the main parameters and of the two moments (--main-params-dtype,
     * --exp-avg-dtype, --exp-avg-sq-dtype); 0 = not given (4, fp32) */
    int main_bytes, avg_bytes, avg_sq_bytes;
    long flex_sms, deepep_sms, hybridep_sms; /* the SM flags (0: not given) */
    int fsdp_grad_16bit; /* --megatron-fsdp-grad-comm-dtype bf16 or fp16 */
};

/* --moe-layer-freq as Megatron-LM reads it (arguments.py, moe_freq_type and _eval_pattern): a
 * whole number k, MoE on every k-th layer from the first, or a Python list expression of only
 * digits, commas, brackets, parentheses, '+' and '*' -- "[0]*3+[1]*58", "([0,1]*24)" -- that
 * Megatron evals to one 0 (dense) or 1 (MoE) per layer.  The evaluator below takes that
 * grammar: lists joined by '+' and repeated by '*', numbers multiplied and added.  Each list's
 * elements go to out, so a term's list is the run of out from where the term began. */
struct freq_parse {
    const char *p;
    char out[MODEL_MAX_PATTERN + 1]; /* '0' / '1' per layer */
    size_t len;
    int depth;       /* parentheses open; at most 16 */
    const char *why; /* the first thing wrong, or NULL */
};

#define FREQ_MAX_NUMBER (1L << 20) /* numbers stay far from long's range when multiplied */

static int freq_fail(struct freq_parse *fp, const char *why)
{
    if (!fp->why)
        fp->why = why;
    return -1;
}

static int freq_expr(struct freq_parse *fp, long *n);

/* A number into *n (returns 0), a bracketed list appended to out (1), or a parenthesised
 * expression (either); -1 when it is none of these. */
static int freq_factor(struct freq_parse *fp, long *n)
{
    if (isdigit((unsigned char)*fp->p)) {
        for (*n = 0; isdigit((unsigned char)*fp->p); fp->p++)
            if ((*n = *n * 10 + (*fp->p - '0')) > FREQ_MAX_NUMBER)
                return freq_fail(fp, "a number too large");
        return 0;
    }
    if (*fp->p == '(') {
        fp->p++;
        if (++fp->depth > 16)
            return freq_fail(fp, "parentheses nested more than 16 deep");
        int kind = freq_expr(fp, n);
        fp->depth--;
        if (kind >= 0 && *fp->p != ')')
            return freq_fail(fp, "a '(' without its ')'");
        fp->p++;
        return kind;
    }
    if (*fp->p != '[')
        return freq_fail(fp, "a number, '[' or '(' expected");
    for (fp->p++; *fp->p != ']'; fp->p += *fp->p == ',') {
        if ((*fp->p != '0' && *fp->p != '1') || isdigit((unsigned char)fp->p[1]))
            return freq_fail(fp, "a list holds 0 (a dense layer) and 1 (a MoE layer)");
        if (fp->len == MODEL_MAX_PATTERN)
            return freq_fail(fp, "more layers than stepsim models");
        fp->out[fp->len++] = *fp->p++;
        if (*fp->p != ',' && *fp->p != ']')
            return freq_fail(fp, "a list's elements are separated by ','");
    }
    fp->p++;
    return 1;
}

/* Factors joined by '*': numbers multiply; a list times a number repeats the list. */
static int freq_term(struct freq_parse *fp, long *n)
{
    size_t start = fp->len;
    int kind = freq_factor(fp, n);
    while (kind >= 0 && *fp->p == '*') {
        fp->p++;
        long m = 0;
        int next = freq_factor(fp, &m);
        if (next < 0 || (kind && next))
            return next < 0 ? -1 : freq_fail(fp, "a list times a list");
        long times = kind ? m : next ? *n : 1;
        if (!kind && !next && (*n *= m) > FREQ_MAX_NUMBER)
            return freq_fail(fp, "a number too large");
        kind |= next;
        size_t run = fp->len - start;
        if (kind && run > 0 && (size_t)times > (MODEL_MAX_PATTERN - start) / run)
            return freq_fail(fp, "more layers than stepsim models");
        for (long t = 1; kind && t < times; t++, fp->len += run)
            memcpy(fp->out + fp->len, fp->out + start, run);
        if (kind && times == 0)
            fp->len = start;
    }
    return kind;
}

/* Terms joined by '+': lists concatenate, numbers add. */
static int freq_expr(struct freq_parse *fp, long *n)
{
    int kind = freq_term(fp, n);
    while (kind >= 0 && *fp->p == '+') {
        fp->p++;
        long m = 0;
        int next = freq_term(fp, &m);
        if (next < 0 || next != kind)
            return next < 0 ? -1 : freq_fail(fp, "a list plus a number");
        if (!kind && (*n += m) > FREQ_MAX_NUMBER)
            return freq_fail(fp, "a number too large");
    }
    return kind;
}

/* --moe-layer-freq VALUE into res->moe_every (a number) or res->moe_layers (a list). */
static enum sim_status moe_layer_freq(struct import_result *res, const char *value,
                                      struct sim_error *err)
{
    struct freq_parse fp = {.p = value};
    long n = 0;
    /* Megatron-LM's moe_freq_type evaluates a value only when it holds a '['; else int(): a
     * plain count, which "2*2" or "(4)" is not */
    int kind = strchr(value, '[') || strspn(value, "0123456789") == strlen(value)
                   ? freq_expr(&fp, &n)
                   : freq_fail(&fp, "not a whole number, nor a list expression in [ ]");
    if (kind >= 0 && *fp.p)
        kind = freq_fail(&fp, "an unexpected character");
    if ((kind == 0 && n < 1) || (kind == 1 && fp.len == 0))
        kind = freq_fail(&fp, "no MoE layer, or no layer");
    if (kind < 0)
        return err_set(err, SIM_EINPUT, NULL, 0, "import: --moe-layer-freq %s: %s", value, fp.why);
    fp.out[fp.len] = '\0';
    res->moe_every = kind ? 0 : (int)n;
    memcpy(res->moe_layers, fp.out, kind ? fp.len + 1 : 1);
    return SIM_OK;
}

/* A hybrid model's layer pattern (Megatron-Core's M, G, *, -, E), its '|' pipeline-stage marks
 * counted and dropped: the shipped model must have the same one.  After a '/' come the MTP
 * depths, one pattern each, all alike (hybrid_layer_allocation.py, parse_hybrid_pattern). */
static enum sim_status hybrid_pattern(struct import_result *res, const char *name,
                                      const char *value, struct sim_error *err)
{
    size_t n = 0;
    res->pattern_segments = 1;
    res->mtp_depths = 0;
    res->mtp_pattern[0] = '\0';
    const char *p = value;
    for (; *p && *p != '/'; p++) {
        if (*p == '|') {
            res->pattern_segments++;
            continue;
        }
        if (!strchr(MODEL_PATTERN_LETTERS, *p))
            return err_set(err, SIM_EINPUT, NULL, 0,
                           "import: --%s: '%c' is not a layer stepsim models (M, G, *, -, E)", name,
                           *p);
        if (n == MODEL_MAX_PATTERN)
            return err_set(err, SIM_EINPUT, NULL, 0, "import: --%s: more than %d layers", name,
                           MODEL_MAX_PATTERN);
        res->pattern[n++] = *p;
    }
    res->pattern[n] = '\0';
    while (*p == '/') {
        size_t len = strcspn(++p, "/");
        if (len == 0 || len > MODEL_MAX_MTP_PATTERN || strspn(p, MODEL_PATTERN_LETTERS) < len ||
            (res->mtp_depths > 0 &&
             (len != strlen(res->mtp_pattern) || strncmp(p, res->mtp_pattern, len) != 0)))
            return err_set(err, SIM_EINPUT, NULL, 0,
                           "import: --%s: the MTP depths after '/' are one pattern of at most %d "
                           "layers (M, G, *, -, E), repeated",
                           name, MODEL_MAX_MTP_PATTERN);
        snprintf(res->mtp_pattern, sizeof res->mtp_pattern, "%.*s", (int)len, p);
        res->mtp_depths++;
        p += len;
    }
    return SIM_OK;
}

/* --optimizer (megatron/training/arguments.py's choices): adam; sgd (with momentum) and lion
 * keep one moment; muon, and dist_muon whose LayerWiseDistributedOptimizer shards the state
 * over the data-parallel ranks (the distributed optimizer's memory).  soap and adaptive_muon
 * are not modelled: refused rather than imported as something else. */
static enum sim_status optimizer_choice(struct import_result *res, const char *value,
                                        struct sim_error *err)
{
    if (strcmp(value, "adam") == 0)
        return put_key(res, "optimizer-algorithm", "adam", "optimizer", err);
    if (strcmp(value, "sgd") == 0 || strcmp(value, "lion") == 0)
        return put_key(res, "optimizer-moments", "1", "optimizer", err);
    int layer_wise = strcmp(value, "dist_muon") == 0;
    if (strcmp(value, "muon") != 0 && !layer_wise)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: --optimizer %s is not modelled (adam, sgd, lion, muon, dist_muon)",
                       value);
    enum sim_status st = put_key(res, "optimizer-algorithm", "muon", "optimizer", err);
    if (st == SIM_OK && layer_wise)
        st = put_key(res, "distributed-optimizer", "true", "optimizer", err);
    return st;
}

/* Is a store-true flag on?  A bare --flag is; a Hydra-style override may say flag=false. */
static enum sim_status switch_on(const char *name, const char *value, int *on,
                                 struct sim_error *err)
{
    char why[256], lower[16];
    size_t i = 0;
    *on = 1;
    for (; value && value[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)value[i]);
    lower[i] = '\0';
    if (value && units_parse_bool(lower, on, why, sizeof why) != 0)
        return err_set(err, SIM_EINPUT, NULL, 0, "import: --%s=%s: %s", name, value, why);
    return SIM_OK;
}

/* A flag with a whole number, kept for finish() to read beside the others. */
static enum sim_status apply_count(struct pending *pd, const char *name, const char *value,
                                   struct sim_error *err)
{
    long n;
    enum sim_status st = whole_number(name, value, &n, err);
    if (st != SIM_OK)
        return st;
    if (strcmp(name, "num-layers-per-virtual-pipeline-stage") == 0)
        pd->layers_per_vstage = n;
    else if (strcmp(name, "num-query-groups") == 0) {
        pd->query_groups = n;
        pd->groups_field = pd->bridge;
    } else if (strcmp(name, "num-layers-at-start-in-bf16") == 0)
        pd->bf16_start = n + 1;
    else if (strcmp(name, "num-layers-at-end-in-bf16") == 0)
        pd->bf16_end = n + 1;
    else if (strcmp(name, "nnodes") == 0)
        pd->nnodes = n;
    else if (strcmp(name, "cpu-offloading-num-layers") == 0)
        pd->cpu_offload_layers = n;
    else if (strcmp(name, "nproc-per-node") == 0)
        pd->nproc = n;
    return SIM_OK;
}

/* ---- flags whose value is one of a list (Megatron's argparse or config choices) ---- */

static enum sim_status take_fp8_recipe(struct import_result *res, struct pending *pd,
                                       const char *flag, int i, struct sim_error *err)
{
    static const char *const keys[] = {"delayed", "current", "blockwise", "mxfp8"};
    (void)pd;
    return put_key(res, "fp8-recipe", keys[i], flag, err); /* tensorwise is current scaling */
}

static enum sim_status take_graph_impl(struct import_result *res, struct pending *pd,
                                       const char *flag, int i, struct sim_error *err)
{
    (void)res, (void)flag, (void)err;
    pd->graph_impl = i;
    return SIM_OK;
}

static enum sim_status take_sharding(struct import_result *res, struct pending *pd,
                                     const char *flag, int i, struct sim_error *err)
{
    (void)res, (void)flag, (void)err;
    pd->fsdp_strategy = i + 1; /* 0: not given */
    return SIM_OK;
}

static enum sim_status take_outer_sharding(struct import_result *res, struct pending *pd,
                                           const char *flag, int i, struct sim_error *err)
{
    (void)pd, (void)flag, (void)err;
    res->outer_optim = i == 1;
    return SIM_OK;
}

/* The second choice of a two-way flag: bf16 gradients, TE's cross-entropy, HybridEP. */
static enum sim_status take_second(struct import_result *res, struct pending *pd,
                                   const char *flag, int i, struct sim_error *err)
{
    (void)res, (void)err;
    *(strcmp(flag, "main-grads-dtype") == 0            ? &pd->grads_bf16
      : strcmp(flag, "cross-entropy-fusion-impl") == 0 ? &pd->ce_te
                                                       : &pd->hybridep) = i == 1;
    return SIM_OK;
}

/* The optimizer state's dtypes (the precision-aware optimizer): bytes an element. */
static enum sim_status take_state_bytes(struct import_result *res, struct pending *pd,
                                        const char *flag, int i, struct sim_error *err)
{
    static const int bytes[] = {4, 2, 2, 1};
    (void)res, (void)err;
    *(strcmp(flag, "main-params-dtype") == 0  ? &pd->main_bytes
      : strcmp(flag, "exp-avg-sq-dtype") == 0 ? &pd->avg_sq_bytes
                                              : &pd->avg_bytes) = bytes[i];
    return SIM_OK;
}

struct choice_flag {
    const char *name;
    const char *choices[5]; /* NULL-terminated */
    const char *who;        /* whose list the error names: "Megatron knows", "stepsim models" */
    enum sim_status (*take)(struct import_result *res, struct pending *pd, const char *flag,
                            int choice, struct sim_error *err);
};

/* From arguments.py and transformer_config.py's choices at d98e8a6; where stepsim models fewer
 * than Megatron offers, its own list. */
static const struct choice_flag choice_flags[] = {
    {"main-grads-dtype", {"fp32", "bf16"}, "Megatron knows", take_second},
    {"cross-entropy-fusion-impl", {"native", "te"}, "Megatron knows", take_second},
    {"moe-flex-dispatcher-backend", {"deepep", "hybridep"}, "stepsim models", take_second},
    {"fp8-recipe", {"delayed", "tensorwise", "blockwise", "mxfp8"}, "stepsim models",
     take_fp8_recipe},
    {"cuda-graph-impl", {"none", "local", "transformer_engine", "full_iteration"},
     "Megatron knows", take_graph_impl},
    {"data-parallel-sharding-strategy", {"no_shard", "optim", "optim_grads", "optim_grads_params"},
     "Megatron knows", take_sharding},
    {"outer-dp-sharding-strategy", {"no_shard", "optim"}, "Megatron knows", take_outer_sharding},
    {"main-params-dtype", {"fp32", "fp16", "bf16", "fp8"}, "Megatron knows", take_state_bytes},
    {"exp-avg-dtype", {"fp32", "fp16", "bf16", "fp8"}, "Megatron knows", take_state_bytes},
    {"exp-avg-sq-dtype", {"fp32", "fp16", "bf16", "fp8"}, "Megatron knows", take_state_bytes},
};

static const struct choice_flag *choice_flag_find(const char *name)
{
    for (size_t i = 0; i < sizeof choice_flags / sizeof *choice_flags; i++)
        if (strcmp(name, choice_flags[i].name) == 0)
            return &choice_flags[i];
    return NULL;
}

/* --NAME VALUE for a flag of choice_flags: taken, or refused naming the choices. */
static enum sim_status apply_choice(struct import_result *res, struct pending *pd,
                                    const struct choice_flag *cf, const char *value,
                                    struct sim_error *err)
{
    int n = 0;
    while (cf->choices[n])
        n++;
    for (int i = 0; i < n; i++)
        if (strcmp(value, cf->choices[i]) == 0)
            return cf->take(res, pd, cf->name, i, err);
    char list[160] = "";
    for (int i = 0; i < n; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                 i == 0 ? "" : i == n - 1 ? " and " : ", ", cf->choices[i]);
    return err_set(err, SIM_EINPUT, NULL, 0, "import: --%s %s: %s %s", cf->name, value, cf->who,
                   list);
}

/* What mixes a layer's tokens, when not plain attention: --experimental-attention-variant (the
 * sparse attentions, or gated_delta_net as --linear-attention-type gives it) and
 * --linear-attention-freq (every k-th layer attention). */
static enum sim_status apply_mixer(struct import_result *res, struct pending *pd,
                                   const char *name, const char *value, struct sim_error *err)
{
    int variant = strcmp(name, "experimental-attention-variant") == 0;
    if (variant && (strcmp(value, "dsa") == 0 || strcmp(value, "dsv4_hybrid") == 0)) {
        res->sparse_attention = value[2] == 'a' ? IMPORT_DSA : IMPORT_DSV4;
        return SIM_OK;
    }
    if (strcmp(name, "linear-attention-freq") == 0) {
        long n;
        enum sim_status st = whole_number(name, value, &n, err);
        if (st != SIM_OK)
            return err_set(err, SIM_EINPUT, NULL, 0,
                           "import: --%s %s: give it as a whole number k (every k-th layer "
                           "attention); a list is not read",
                           name, value);
        pd->linear_freq = n;
        return SIM_OK;
    }
    if (strcmp(value, "gated_delta_net") != 0)
        return err_set(err, SIM_EINPUT, NULL, 0, "import: --%s %s: of the %s stepsim models %s",
                       name, value, variant ? "attention variants" : "linear attentions",
                       variant ? "gated_delta_net, dsa and dsv4_hybrid" : "gated_delta_net");
    pd->linear_gdn = 1;
    return SIM_OK;
}

/* --normalization / --position-embedding-type, compared with the model's later: 1 or 2 for
 * the two kinds stepsim models (arguments.py's choices: of the positions, learned ones and
 * RoPE), 0 and listed as ignored for another. */
static void shape_word(struct import_result *res, const char *name, const char *value)
{
    int norm = strcmp(name, "normalization") == 0;
    const char *one = norm ? "LayerNorm" : "learned_absolute", *two = norm ? "RMSNorm" : "rope";
    int kind = strcmp(value, one) == 0 ? 1 : strcmp(value, two) == 0 ? 2 : 0;
    if (kind == 0) {
        char given[72];
        snprintf(given, sizeof given, "--%s %.40s", name, value);
        add_ignored(res, given);
    }
    *(norm ? &res->norm : &res->position) = kind;
}

/* --attention-dropout / --hidden-dropout: a probability, kept for finish(). */
static enum sim_status dropout(struct pending *pd, const char *name, const char *value,
                               struct sim_error *err)
{
    char why[256];
    double p;
    if (units_parse(value, UNIT_NUMBER, &p, why, sizeof why) != 0)
        return err_set(err, SIM_EINPUT, NULL, 0, "import: --%s %s: %s", name, value, why);
    *(name[0] == 'a' ? &pd->attn_dropout : &pd->hidden_dropout) = p;
    return SIM_OK;
}

/* A flag with a value: a precision format, a pattern, a choice among Megatron's words, a
 * probability, else a count. */
static enum sim_status apply_valued(struct import_result *res, struct pending *pd,
                                    const char *name, const char *value, struct sim_error *err)
{
    const struct choice_flag *cf = choice_flag_find(name);
    if (cf)
        return apply_choice(res, pd, cf, value, err);
    long *sms = strcmp(name, "moe-flex-dispatcher-num-sms") == 0 ? &pd->flex_sms
                : strcmp(name, "moe-deepep-num-sms") == 0      ? &pd->deepep_sms
                : strcmp(name, "moe-hybridep-num-sms") == 0    ? &pd->hybridep_sms
                                                               : NULL;
    if (sms)
        return whole_number(name, value, sms, err);
    if (strcmp(name, "num-distributed-optimizer-instances") == 0)
        return whole_number(name, value, &res->dp_instances, err);
    if (strcmp(name, "megatron-fsdp-grad-comm-dtype") == 0) {
        pd->fsdp_grad_16bit = strcmp(value, "bf16") == 0 || strcmp(value, "fp16") == 0;
        return SIM_OK;
    }
    if (strcmp(name, "fp8-format") == 0 || strcmp(name, "fp4-format") == 0) {
        *(name[2] == '8' ? &pd->fp8 : &pd->fp4) = 1;
        return SIM_OK;
    }
    if (strcmp(name, "moe-layer-freq") == 0)
        return moe_layer_freq(res, value, err);
    if (strcmp(name, "hybrid-override-pattern") == 0 || strcmp(name, "hybrid-layer-pattern") == 0)
        return hybrid_pattern(res, name, value, err);
    if (strcmp(name, "optimizer") == 0)
        return optimizer_choice(res, value, err);
    if (strcmp(name, "experimental-attention-variant") == 0 ||
        strcmp(name, "linear-attention-type") == 0 || strcmp(name, "linear-attention-freq") == 0)
        return apply_mixer(res, pd, name, value, err);
    if (strcmp(name, "moe-token-dispatcher-type") == 0) /* flex: DeepEP, Megatron's default */
        return put_key(res, "moe-dispatcher", strcmp(value, "flex") == 0 ? "deepep" : value,
                       name, err);
    if (strcmp(name, "normalization") == 0 || strcmp(name, "position-embedding-type") == 0) {
        shape_word(res, name, value);
        return SIM_OK;
    }
    if (strcmp(name, "attention-backend") == 0) {
        int unfused = strcmp(value, "unfused") == 0 || strcmp(value, "local") == 0;
        return put_key(res, "attention", unfused ? "unfused" : "flash", name, err);
    }
    if (strcmp(name, "attention-dropout") == 0 || strcmp(name, "hidden-dropout") == 0)
        return dropout(pd, name, value, err);
    return apply_count(pd, name, value, err);
}

/* The shape flags every transformer has a positive value of. */
static int is_core_size(const char *flag)
{
    static const char *const core[] = {"num-layers", "hidden-size", "num-attention-heads",
                                       "ffn-hidden-size"};
    for (size_t i = 0; i < sizeof core / sizeof core[0]; i++)
        if (strcmp(flag, core[i]) == 0)
            return 1;
    return 0;
}

/* The flags import reads itself rather than through the flag table: the switches it keeps for
 * finish(), then every flag with a value (apply_valued). */
static enum sim_status apply(struct import_result *res, struct pending *pd, const struct flag *f,
                             const char *value, struct sim_error *err);

/* Megatron-Bridge's named precision recipes as the Megatron flags each sets, in order
 * (src/megatron/bridge/training/mixed_precision.py at 067f987df: every recipe starts from
 * bf16_mixed, which reduces gradients in fp32, or fp16_mixed, which does not; its layer
 * counts kept in 16 bits default to 0, not the command line's 1). */
static const struct {
    const char *name;
    const char *flags[10]; /* "flag" (a switch) or "flag=value" */
} precision_recipes[] = {
#define BF16 "bf16", "grad-reduce-in-fp32=true"
#define FP16 "fp16", "grad-reduce-in-fp32=false"
#define EDGES(n, m) "first-last-layers-bf16", "num-layers-at-start-in-bf16=" #n, \
                    "num-layers-at-end-in-bf16=" #m
    {"bf16_mixed", {BF16}},
    {"fp16_mixed", {FP16}},
    {"bf16_with_fp8_delayed_scaling_mixed",
     {BF16, "fp8-format=hybrid", "fp8-recipe=delayed", "fp8-param-gather"}},
    {"fp16_with_fp8_delayed_scaling_mixed",
     {FP16, "fp8-format=hybrid", "fp8-recipe=delayed", "fp8-param-gather"}},
    {"bf16_with_mxfp8_mixed", {BF16, "fp8-format=e4m3", "fp8-recipe=mxfp8", "fp8-param-gather"}},
    {"fp16_with_mxfp8_mixed", {FP16, "fp8-format=e4m3", "fp8-recipe=mxfp8", "fp8-param-gather"}},
    {"bf16_with_fp8_current_scaling_mixed",
     {BF16, "fp8-format=hybrid", "fp8-recipe=tensorwise", EDGES(1, 1), "fp8-param-gather"}},
    {"nemotron_h_bf16_with_fp8_current_scaling_mixed",
     {BF16, "fp8-format=hybrid", "fp8-recipe=tensorwise", EDGES(2, 2), "fp8-param-gather"}},
    {"nanov2_bf16_with_fp8_current_scaling_mixed",
     {BF16, "fp8-format=hybrid", "fp8-recipe=blockwise", EDGES(2, 2), "fp8-param-gather"}},
    {"fp16_with_fp8_current_scaling_mixed",
     {FP16, "fp8-format=hybrid", "fp8-recipe=tensorwise", EDGES(1, 1), "fp8-param-gather"}},
    {"bf16_with_fp8_subchannel_scaling_mixed", {BF16, "fp8-format=hybrid", "fp8-recipe=blockwise"}},
    {"fp16_with_fp8_subchannel_scaling_mixed", {FP16, "fp8-format=hybrid", "fp8-recipe=blockwise"}},
    {"bf16_with_nvfp4_mixed", {BF16, "fp4-format=e2m1", "fp4-param-gather"}},
    {"nemotron_3_super_bf16_with_nvfp4_mixed",
     {BF16, "fp4-format=e2m1", "fp4-param-gather", EDGES(0, 14)}},
#undef BF16
#undef FP16
#undef EDGES
};

/* mixed_precision=NAME (Bridge registers each name with '_' and with '-'): its flags, applied
 * where the override stands (a later flag still wins). */
static enum sim_status precision_recipe(struct import_result *res, struct pending *pd,
                                        const char *value, struct sim_error *err)
{
    char name[80];
    size_t n = 0;
    for (; value && value[n] && n + 1 < sizeof name; n++)
        name[n] = value[n] == '-' ? '_' : value[n];
    name[n] = '\0';
    for (size_t r = 0; r < sizeof precision_recipes / sizeof precision_recipes[0]; r++) {
        if (strcmp(precision_recipes[r].name, name) != 0)
            continue;
        enum sim_status st = SIM_OK;
        for (int i = 0; st == SIM_OK && i < 10 && precision_recipes[r].flags[i]; i++) {
            const char *flag = precision_recipes[r].flags[i], *eq = strchr(flag, '=');
            char fname[64];
            snprintf(fname, sizeof fname, "%.*s", (int)(eq ? eq - flag : (ptrdiff_t)strlen(flag)),
                     flag);
            const struct flag *f = find_flag(fname);
            assert(f); /* the table names only flags of this file's table */
            st = apply(res, pd, f, eq ? eq + 1 : NULL, err);
        }
        return st;
    }
    return err_set(err, SIM_EINPUT, NULL, 0,
                   "import: mixed_precision=%s is not one of Megatron-Bridge's recipes stepsim "
                   "reads (bf16_mixed, bf16_with_fp8_current_scaling_mixed, "
                   "bf16_with_mxfp8_mixed, bf16_with_nvfp4_mixed, ...)",
                   value ? value : "");
}

static enum sim_status apply_special(struct import_result *res, struct pending *pd,
                                     const char *name, const char *value, struct sim_error *err)
{
    if (strcmp(name, "mixed-precision") == 0)
        return precision_recipe(res, pd, value, err);
    if (strcmp(name, "enable-cuda-graph") == 0) {
        int on;
        enum sim_status st = switch_on(name, value, &on, err);
        if (st == SIM_OK && on)
            pd->graph_impl = 2;
        return st;
    }
    if (strcmp(name, "grad-reduce-in-fp32") == 0) { /* a field: True or False */
        int on;
        enum sim_status st = switch_on(name, value, &on, err);
        if (st == SIM_OK)
            pd->grads = on ? GRADS_FP32 : GRADS_16BIT;
        return st;
    }
    if (strcmp(name, "accumulate-allreduce-grads-in-fp32") == 0) {
        int on;
        enum sim_status st = switch_on(name, value, &on, err);
        if (st == SIM_OK && on)
            pd->grads = GRADS_FP32;
        return st;
    }
    int *store_true = strcmp(name, "group-query-attention") == 0       ? &pd->gqa
                      : strcmp(name, "multi-latent-attention") == 0    ? &res->mla
                      : strcmp(name, "attention-output-gate") == 0     ? &res->attention_gate
                      : strcmp(name, "swiglu") == 0                    ? &res->swiglu
                      : strcmp(name, "squared-relu") == 0              ? &res->squared_relu
                      : strcmp(name, "disable-bias-linear") == 0       ? &res->no_bias
                      : strcmp(name, "untie-embeddings-and-output-weights") == 0
                          ? &res->untied
                      : strcmp(name, "first-last-layers-bf16") == 0    ? &pd->bf16_edges
                      : strcmp(name, "grad-reduce-in-bf16") == 0       ? &pd->grads_bf16
                      : strcmp(name, "moe-router-fusion") == 0         ? &pd->router_fusion
                      : strcmp(name, "cross-entropy-loss-fusion") == 0 ? &pd->ce_fusion
                      : strcmp(name, "fine-grained-activation-offloading") == 0
                          ? &pd->fine_offload
                      : strcmp(name, "account-for-embedding-in-pipeline-split") == 0
                          ? &res->account_embedding
                      : strcmp(name, "account-for-loss-in-pipeline-split") == 0
                          ? &res->account_loss
                      : strcmp(name, "use-megatron-fsdp") == 0 ? &pd->megatron_fsdp
                      : strcmp(name, "optimizer-cpu-offload") == 0 ? &pd->optimizer_offload
                      : strcmp(name, "moe-pad-expert-input-to-capacity") == 0
                          ? &pd->pad_capacity
                      : strcmp(name, "use-precision-aware-optimizer") == 0
                          ? &pd->precision_aware
                      : strcmp(name, "moe-layer-recompute") == 0 ? &pd->moe_layer_recompute
                          : NULL;
    if (store_true)
        return switch_on(name, value, store_true, err);
    if (!value)
        return err_set(err, SIM_EINPUT, NULL, 0, "import: --%s needs a value", name);
    return apply_valued(res, pd, name, value, err);
}

/* The words after a list flag at w[*i], up to the next flag, joined with commas (advancing
 * *i past them); NULL when none follow. */
static const char *list_words(const struct words *w, int *i, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    while (*i + 1 < w->n && w->w[*i + 1][0] != '-' && !strchr(w->w[*i + 1], '=')) {
        const char *next = w->w[++*i];
        int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", next);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    return used ? buf : NULL;
}

/* A list value as Hydra or a shell may write it -- [a,b], ['a', 'b'], "a b" -- as "a,b". */
static void list_value(const char *value, char *buf, size_t len)
{
    size_t n = 0;
    int sep = 0;
    for (const char *p = value; *p && n + 2 < len; p++) {
        if (strchr("[]'\"", *p))
            continue;
        if (*p == ',' || *p == ' ') {
            sep = n > 0;
            continue;
        }
        if (sep)
            buf[n++] = ',';
        sep = 0;
        buf[n++] = *p;
    }
    buf[n] = '\0';
}

/* One recognised flag with its value (NULL for a bare switch). */
static enum sim_status apply(struct import_result *res, struct pending *pd, const struct flag *f,
                             const char *value, struct sim_error *err)
{
    char num[32];
    long n;
    enum sim_status st;
    switch (f->kind) {
    case FK_INT:
        if ((st = whole_number(f->name, value, &n, err)) != SIM_OK)
            return st;
        snprintf(num, sizeof num, "%ld", n);
        return put_key(res, f->key, num, f->name, err);
    case FK_BYTES:
        if ((st = whole_number(f->name, value, &n, err)) != SIM_OK)
            return st;
        snprintf(num, sizeof num, "%ldB", n);
        return put_key(res, f->key, num, f->name, err);
    case FK_WORD:
        if (!value)
            return err_set(err, SIM_EINPUT, NULL, 0, "import: --%s needs a value", f->name);
        return put_key(res, f->key, value, f->name, err);
    case FK_LIST: {
        char list[256];
        if (!value)
            return err_set(err, SIM_EINPUT, NULL, 0, "import: --%s needs a value", f->name);
        list_value(value, list, sizeof list);
        return put_key(res, f->key, list, f->name, err);
    }
    case FK_SWITCH: {
        int on;
        if ((st = switch_on(f->name, value, &on, err)) != SIM_OK)
            return st;
        return on ? put_key(res, f->key, f->value, f->name, err) : SIM_OK;
    }
    case FK_MLA: /* a Bridge key names MLATransformerConfig's field: the config is MLA */
        res->mla |= pd->bridge;
        /* fall through */
    case FK_ARCH:
    case FK_DSA:
        if ((st = whole_number(f->name, value, &n, err)) != SIM_OK)
            return st;
        /* a field at 0 reads as not given (--num-experts 0 is a dense model, as arguments.py
         * makes it), so a 0 where the network cannot have none would vanish */
        if (n == 0 && is_core_size(f->name))
            return err_set(err, SIM_EINPUT, NULL, 0,
                           "import: --%s 0: must be at least 1", f->name);
        *(int *)(void *)((char *)res + f->arch) = (int)n;
        return SIM_OK;
    case FK_SPECIAL: return apply_special(res, pd, f->name, value, err);
    }
    return SIM_OK;
}

/* Remove `key`, read but not written as it stands (another key says it). */
static void remove_key(struct import_result *res, const char *key)
{
    for (int i = 0; i < res->nkeys; i++)
        if (strcmp(res->keys[i].key, key) == 0) {
            memmove(&res->keys[i], &res->keys[i + 1],
                    (size_t)(res->nkeys - i - 1) * sizeof res->keys[0]);
            res->nkeys--;
            return;
        }
}

/* Remove `key` (a value that means nothing on this line) and list its flag as ignored: `flag`,
 * or NULL for the one that set it. */
static void drop_key(struct import_result *res, const char *key, const char *flag)
{
    for (int i = 0; i < res->nkeys; i++) {
        if (strcmp(res->keys[i].key, key) != 0)
            continue;
        char given[72];
        snprintf(given, sizeof given, "--%s", res->keys[i].flag);
        add_ignored(res, flag ? flag : given);
        memmove(&res->keys[i], &res->keys[i + 1],
                (size_t)(res->nkeys - i - 1) * sizeof res->keys[0]);
        res->nkeys--;
        return;
    }
}

/* Does the line set `key` to `value`? */
static int key_is(const struct import_result *res, const char *key, const char *value)
{
    const char *v = import_value(res, key);
    return v && strcmp(v, value) == 0;
}

/* The graph scope of a whole layer into scope (40 bytes hold every one): a transformer
 * layer's attention and its MLP or MoE, or the blocks a hybrid pattern holds (M mamba, * attn,
 * - mlp, E moe). */
static const char *whole_layer_scope(const struct import_result *res, char scope[40])
{
    if (!res->pattern[0])
        return res->experts > 0 ? "attn,moe" : "attn,mlp";
    static const char *const names[] = {"mamba", "attn", "mlp", "moe"};
    size_t n = 0;
    scope[0] = '\0';
    for (int i = 0; i < 4; i++)
        if (strchr(res->pattern, MODEL_PATTERN_LETTERS[i]))
            n += (size_t)snprintf(scope + n, 40 - n, "%s%s", n ? "," : "", names[i]);
    return scope;
}

/* CUDA graphs from --cuda-graph-impl and --cuda-graph-scope (--cuda-graph-modules in later
 * Megatron-Core): local with the scope full_iteration captures the whole forward-backward;
 * otherwise each layer's graphs capture the scope's modules, or with no scope the whole layer
 * (transformer_config.py: an empty scope is the layer): its mixer and its MLP or MoE.  Without
 * an impl the scope means nothing. */
static enum sim_status graph_keys(struct import_result *res, const struct pending *pd,
                                  struct sim_error *err)
{
    const char *scope = import_value(res, "cuda-graph-scope");
    if (pd->graph_impl == 0) {
        drop_key(res, "cuda-graph-scope", "--cuda-graph-scope");
        return SIM_OK;
    }
    if (pd->graph_impl == 3) { /* Megatron asserts the modules empty with it */
        remove_key(res, "cuda-graph-scope");
        return put_key(res, "cuda-graphs", "full-iteration", "cuda-graph-impl", err);
    }
    if (pd->graph_impl == 1 && scope && strstr(scope, "full_iteration")) { /* the scope, read */
        remove_key(res, "cuda-graph-scope");
        return put_key(res, "cuda-graphs", "full-iteration", "cuda-graph-scope", err);
    }
    if (scope && strstr(scope, "full_iteration"))
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: --cuda-graph-scope full_iteration needs --cuda-graph-impl local");
    enum sim_status st = put_key(res, "cuda-graphs", "modules", "cuda-graph-impl", err);
    if (st != SIM_OK || (scope && *scope))
        return st;
    char whole[40];
    return put_key(res, "cuda-graph-scope", whole_layer_scope(res, whole),
                   "cuda-graph-impl (the whole layer)", err);
}

/* Megatron's defaults where stepsim's differ, and the values that follow from several flags. */
/* The gradients' type.  Megatron keeps and reduces a --bf16 run's gradients in fp32 unless
 * told otherwise (arguments.py: bf16 turns accumulate_allreduce_grads_in_fp32 on -- at
 * core_r0.8.0 without a way out, since core_r0.11.0 unless --main-grads-dtype bf16, later
 * unless --grad-reduce-in-bf16 too, which wins); fp16 and fp32 runs keep their own type
 * unless --accumulate-allreduce-grads-in-fp32. */
static enum sim_status finish_gradients(struct import_result *res, const struct pending *pd,
                                        int bf16, struct sim_error *err)
{
    if (pd->grads_bf16 || pd->grads == GRADS_16BIT)
        return put_key(res, "grad-reduce-fp32", "false", "grad-reduce-in-bf16", err);
    if (pd->grads == GRADS_FP32)
        return put_key(res, "grad-reduce-fp32", "true", "accumulate-allreduce-grads-in-fp32", err);
    return bf16 ? put_key(res, "grad-reduce-fp32", "true", "bf16 (Megatron's default)", err)
                : SIM_OK;
}

/* The precision: the dtype from the format flags (fp32 without any), the layers at each end
 * kept in bf16, and the gradients' type. */
static enum sim_status finish_precision(struct import_result *res, const struct pending *pd,
                                        struct sim_error *err)
{
    const char *given = import_value(res, "dtype"); /* --bf16 or --fp16, before fp8 / fp4 */
    enum sim_status st = finish_gradients(res, pd, given && strcmp(given, "bf16") == 0, err);
    if (pd->fp8 && pd->fp4) /* as Megatron's argument check refuses them */
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: --fp8-format and --fp4-format cannot be used together");
    if (pd->fp8 || pd->fp4)
        st = put_key(res, "dtype", pd->fp8 ? "fp8" : "nvfp4",
                     pd->fp8 ? "fp8-format" : "fp4-format", err);
    else if (!import_value(res, "dtype")) /* no --bf16, --fp16 or --fp8-format: fp32 */
        st = put_key(res, "dtype", "fp32", "no --bf16 / --fp16", err);
    /* Megatron reads the layers kept in bf16 only with fp8 or fp4 matmuls (fp8_utils.py,
     * fp4_utils.py); stepsim refuses them elsewhere */
    if (pd->bf16_edges && !pd->fp8 && !pd->fp4)
        add_ignored(res, "--first-last-layers-bf16 (without --fp8-format / --fp4-format)");
    else if (st == SIM_OK && pd->bf16_edges) { /* Megatron keeps 1 layer at each end by default */
        char num[32];
        snprintf(num, sizeof num, "%ld", pd->bf16_start ? pd->bf16_start - 1 : 1);
        st = put_key(res, "bf16-first-layers", num, "first-last-layers-bf16", err);
        snprintf(num, sizeof num, "%ld", pd->bf16_end ? pd->bf16_end - 1 : 1);
        if (st == SIM_OK)
            st = put_key(res, "bf16-last-layers", num, "first-last-layers-bf16", err);
    }
    return st;
}

/* What Megatron does when a flag is absent: dropout on, the router and the loss unfused. */
static enum sim_status finish_defaults(struct import_result *res, const struct pending *pd,
                                       struct sim_error *err)
{
    /* Megatron's dropouts default to 0.1 */
    enum sim_status st = put_key(res, "dropout",
                                 pd->attn_dropout > 0 || pd->hidden_dropout > 0 ? "true" : "false",
                                 "attention-dropout / hidden-dropout", err);
    if (st == SIM_OK && res->experts > 0) /* a store_true flag: without it the router's
                                           * top-k and aux loss run as PyTorch ops */
        st = put_key(res, "moe-router-fusion", pd->router_fusion ? "true" : "false",
                     "moe-router-fusion", err);
    if (st == SIM_OK) /* a store_true flag: without it Megatron's loss runs as PyTorch ops;
                       * the implementation counts only with the fusion on */
        st = put_key(res, "cross-entropy",
                     !pd->ce_fusion ? "unfused" : pd->ce_te ? "te" : "fused",
                     "cross-entropy-loss-fusion", err);
    return st;
}

/* The layout: the query groups, virtual stages from layers per virtual stage, the schedule
 * they imply, the GPU count from the launcher's node and process counts. */
enum sim_status import_virtual_stages(struct import_result *res, int layers,
                                      struct sim_error *err)
{
    const char *pp_text = import_value(res, "pp");
    long pp = pp_text ? strtol(pp_text, NULL, 10) : 1;
    /* the embedding and the loss count as a layer each where the split accounts for them
     * (arguments.py adds them before dividing; not for a hybrid model: resolve_model) */
    int ends = res->pattern[0] ? 0 : (res->account_embedding != 0) + (res->account_loss != 0);
    enum sim_status st = SIM_OK;
    if (res->layers_per_vstage > 0) {
        long per = pp * res->layers_per_vstage;
        if (layers <= 0 || per <= 0 || (layers + ends) % per != 0)
            return err_set(err, SIM_EINPUT, NULL, 0,
                           "import: --num-layers-per-virtual-pipeline-stage %ld: the model's %d "
                           "layers%s are not a multiple of it x --pipeline-model-parallel-size "
                           "%ld",
                           res->layers_per_vstage, layers,
                           ends == 2 ? " and 2 ends" : ends ? " and 1 end" : "", pp);
        char num[32];
        snprintf(num, sizeof num, "%ld", (layers + ends) / per);
        st = put_key(res, "vp", num, "num-layers-per-virtual-pipeline-stage", err);
    }
    const char *vp = import_value(res, "vp");
    int interleaved = vp && strcmp(vp, "1") != 0;
    if (st == SIM_OK)
        st = put_key(res, "schedule", interleaved ? "interleaved" : "1f1b",
                     "pipeline-model-parallel-size", err);
    /* Megatron-LM overlaps the interleaved schedule's P2P by default since 2023-10 (4eeff55d1f:
     * --no-overlap-p2p-communication turns it off; arguments.py turns it off without virtual
     * stages); stepsim's default is off */
    if (st == SIM_OK && interleaved && !import_value(res, "overlap-p2p"))
        st = put_key(res, "overlap-p2p", "true", "no-overlap-p2p-communication (not given)", err);
    return st;
}

/* What a hybrid pattern says of the layout (arguments.py at d98e8a6): its letters are the
 * layers (num_layers), its '|' segments the virtual stages (segments / pp a rank, when more
 * than pp); its '/' depths are the MTP layers, whatever --mtp-num-layers says (Megatron warns
 * and takes the pattern's). */
static enum sim_status pattern_stages(struct import_result *res, struct sim_error *err)
{
    enum sim_status st = SIM_OK;
    if (res->pattern[0]) /* the pattern's layers are num_layers, whatever --num-layers says */
        res->layers = (int)strlen(res->pattern);
    if (res->mtp_depths > 0) {
        char num[32];
        snprintf(num, sizeof num, "%d", res->mtp_depths);
        st = put_key(res, "mtp-layers", num, "hybrid-layer-pattern (its '/' depths)", err);
    }
    const char *pp_text = import_value(res, "pp");
    long pp = pp_text ? strtol(pp_text, NULL, 10) : 1;
    if (st != SIM_OK || res->pattern_segments <= 1 || pp <= 1) /* no pipeline: one stage */
        return st;
    if (res->pattern_segments % pp != 0)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: --hybrid-layer-pattern has %d '|' segments, not a multiple of "
                       "--pipeline-model-parallel-size %ld (Megatron's arguments.py refuses it)",
                       res->pattern_segments, pp);
    char num[32];
    snprintf(num, sizeof num, "%ld", res->pattern_segments / pp);
    return res->pattern_segments > pp
               ? put_key(res, "vp", num, "hybrid-layer-pattern (its '|' segments)", err)
               : SIM_OK;
}

/* --pipeline-model-parallel-layout without virtual stages given: Megatron-Core takes them from
 * the layout, its stages over pp (transformer_config.py, detected_vpp_size, when above 1), so
 * a layout of more stages than ranks runs interleaved.  A layout that does not unroll, or
 * whose stages pp does not divide, is left to the scenario's rules to name. */
static enum sim_status layout_stages(struct import_result *res, const struct pending *pd,
                                     struct sim_error *err)
{
    const char *given = import_value(res, "pipeline-layout");
    const char *pp_text = import_value(res, "pp");
    long pp = pp_text ? strtol(pp_text, NULL, 10) : 1;
    char unrolled[sizeof((struct scenario *)0)->pipeline_layout], why[160];
    if (!given || import_value(res, "vp") || pd->layers_per_vstage || pp <= 1 ||
        pplayout_unroll(given, unrolled, sizeof unrolled, why, sizeof why) != 0)
        return SIM_OK;
    int stages = pplayout_stages(unrolled);
    if (stages <= pp || stages % pp != 0)
        return SIM_OK;
    char num[32];
    snprintf(num, sizeof num, "%ld", stages / pp);
    return put_key(res, "vp", num, "pipeline-model-parallel-layout (its stages)", err);
}

static enum sim_status finish_layout(struct import_result *res, const struct pending *pd,
                                     struct sim_error *err)
{
    enum sim_status st = SIM_OK;
    /* Megatron-LM reads --num-query-groups only under --group-query-attention (argument_utils.py,
     * core_transformer_config_from_args: else None, as many key-value heads as heads); Bridge
     * sets TransformerConfig.num_query_groups, which no switch guards (transformer_config.py) */
    res->gqa = pd->gqa || pd->groups_field;
    if (pd->query_groups && !res->gqa)
        add_ignored(res, "--num-query-groups (without --group-query-attention)");
    res->kv_heads = res->gqa ? (int)(pd->query_groups ? pd->query_groups : 1) : res->heads;
    if (res->sparse_attention == IMPORT_DSV4) /* its one key-value head (the latent itself) */
        res->kv_heads = 1;
    res->layers_per_vstage = pd->layers_per_vstage;
    if (st == SIM_OK)
        st = pattern_stages(res, err);
    if (st == SIM_OK)
        st = layout_stages(res, pd, err);
    if (st == SIM_OK && (res->layers > 0 || !pd->layers_per_vstage)) /* else the model's, later */
        st = import_virtual_stages(res, res->layers, err);
    if (st == SIM_OK && pd->nproc > 0) {
        char num[32];
        snprintf(num, sizeof num, "%ld", pd->nproc * (pd->nnodes > 0 ? pd->nnodes : 1));
        st = put_key(res, "gpus", num,
                     pd->nnodes > 0 ? "nnodes x nproc-per-node" : "nproc-per-node", err);
    }
    return st;
}

/* A GPT model with Gated DeltaNets (--linear-attention-type gated_delta_net) in the hybrid
 * notation of its shipped file: each transformer layer is two, its mixer -- 'G', or '*' on
 * every --linear-attention-freq-th layer (Megatron-LM's pattern, 1-based: layers k, 2k, ...
 * attend; training.py, num_floating_point_operations) -- then its MLP, 'E' with experts (every
 * layer: --moe-layer-freq is not read) or '-'. */
static enum sim_status finish_linear_attention(struct import_result *res,
                                               const struct pending *pd, struct sim_error *err)
{
    if (!pd->linear_gdn)
        return pd->linear_freq ? err_set(err, SIM_EINPUT, NULL, 0,
                                         "import: --linear-attention-freq without "
                                         "--linear-attention-type")
                               : SIM_OK;
    if (res->pattern[0])
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: --linear-attention-type with a hybrid pattern: give one");
    if (pd->linear_freq <= 0 || res->layers <= 0 || 2 * res->layers > MODEL_MAX_PATTERN)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: --linear-attention-type needs --linear-attention-freq and "
                       "--num-layers (at most %d)",
                       MODEL_MAX_PATTERN / 2);
    for (int i = 0; i < res->layers; i++) {
        res->pattern[2 * i] = (i + 1) % pd->linear_freq == 0 ? '*' : 'G';
        res->pattern[2 * i + 1] = res->experts > 0 ? 'E' : '-';
    }
    res->pattern[2 * res->layers] = '\0';
    res->layers *= 2;
    return SIM_OK;
}

/* The keys a flag set that Megatron does not read in this line's configuration. */
/* The optimizer's host offload: --optimizer-cpu-offload with --optimizer-offload-fraction's
 * share (Megatron's default 1.0: all of it; arguments.py at d98e8a6), the share unread
 * without the offload.  The expert capacity: stepsim's moe-capacity-factor is Megatron's
 * factor with the padding to it (--moe-pad-expert-input-to-capacity, which transformer_config.py
 * refuses without a factor); a factor alone drops tokens past it without fixing the shapes,
 * which stepsim does not model. */
static enum sim_status finish_offload_and_capacity(struct import_result *res,
                                                   const struct pending *pd,
                                                   struct sim_error *err)
{
    enum sim_status st = SIM_OK;
    if (!pd->optimizer_offload)
        drop_key(res, "offload-optimizer", NULL);
    else if (!import_value(res, "offload-optimizer"))
        st = put_key(res, "offload-optimizer", "1", "optimizer-cpu-offload", err);
    if (st == SIM_OK && pd->pad_capacity && !import_value(res, "moe-capacity-factor"))
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: --moe-pad-expert-input-to-capacity needs "
                       "--moe-expert-capacity-factor (Megatron-Core refuses it without)");
    if (!pd->pad_capacity)
        drop_key(res, "moe-capacity-factor",
                 "--moe-expert-capacity-factor (without --moe-pad-expert-input-to-capacity: "
                 "tokens past it dropped, shapes not fixed)");
    return st;
}

static void drop_unread_keys(struct import_result *res, const struct pending *pd)
{
    /* Megatron-LM turns --no-async-tensor-model-parallel-allreduce's setting off itself under
     * sequence parallelism (arguments.py, 2022-24) and overlaps the re-gather and the
     * reduce-scatter whatever it says (tensor_parallel/layers.py follows sequence_parallel);
     * from 2024-04 (5fffdfc737) it ignores the flag altogether.  So it means in-line
     * reductions only without SP. */
    const char *sp = import_value(res, "sp");
    if (sp && strcmp(sp, "true") == 0)
        drop_key(res, "overlap-tp-backward", "--no-async-tensor-model-parallel-allreduce");
    /* Megatron reads --muon-num-ns-steps only for Muon; stepsim refuses it elsewhere. */
    const char *alg = import_value(res, "optimizer-algorithm");
    if (!alg || strcmp(alg, "muon") != 0)
        drop_key(res, "muon-ns-steps", "--muon-num-ns-steps");
    /* Megatron turns sequence parallelism off without tensor parallelism (arguments.py, with a
     * warning); its fp8 recipe is read only with fp8 matmuls; its recompute modules only
     * under selective recompute (transformer_config.py) */
    const char *tp = import_value(res, "tp");
    if (!tp || strtol(tp, NULL, 10) <= 1)
        drop_key(res, "sp", NULL);
    if (!pd->fp8)
        drop_key(res, "fp8-recipe", NULL);
    if (!key_is(res, "recompute", "selective"))
        drop_key(res, "recompute-modules", NULL);
    /* and its recompute method and layer count only under some recompute granularity
     * (transformer_config.py, __post_init__); under selective it refuses them, and so does
     * stepsim's validation */
    if (!import_value(res, "recompute")) {
        drop_key(res, "recompute-method", NULL);
        drop_key(res, "recompute-num-layers", NULL);
    }
    /* the deferral limit only with the deferral (model_parallel_config.py) */
    if (!key_is(res, "defer-head-wgrad", "true"))
        drop_key(res, "wgrad-deferral-limit", NULL);
    if (!pd->fine_offload) {
        drop_key(res, "offload-modules", "--offload-modules");
        drop_key(res, "offload-min-elements", "--min-offloaded-tensor-size");
        drop_key(res, "offload-fraction", "--activation-offload-fraction");
        drop_key(res, "offload-pp-delta", "--delta-offload-bytes-across-pp-ranks");
    }
}

/* Copies of a sharded optimizer (stage: its ZeRO stage) across data parallelism: Megatron's
 * --num-distributed-optimizer-instances (parallel_state.py's intra- and inter-instance groups;
 * under Megatron-FSDP, HSDP when above 1, mcore_fsdp_adapter.py).  The outer sharding is read
 * only under that HSDP with optim_grads_params (megatron_fsdp's fully_shard.py); what is not
 * read is listed, the rest waits for the GPUs (import_shard_groups). */
static void keep_shard_instances(struct import_result *res, int stage, int megatron_fsdp)
{
    if (res->dp_instances > 1 && stage == 0)
        add_ignored(res, "--num-distributed-optimizer-instances (no sharded optimizer)");
    if (res->dp_instances <= 1 || stage == 0)
        res->dp_instances = 0;
    if (res->outer_optim && !(megatron_fsdp && stage == 3 && res->dp_instances > 1)) {
        add_ignored(res, "--outer-dp-sharding-strategy (HSDP's optim_grads_params only)");
        res->outer_optim = 0;
    }
}

/* Megatron-FSDP shards by its strategy (default optim_grads_params), a ZeRO stage:
 * no_shard 0, optim 1, optim_grads 2, optim_grads_params 3.  Without it the strategy is not
 * read. */
static enum sim_status finish_sharding(struct import_result *res, const struct pending *pd,
                                       struct sim_error *err)
{
    if (!pd->megatron_fsdp) {
        if (pd->fsdp_strategy)
            add_ignored(res, "--data-parallel-sharding-strategy");
        if (pd->fsdp_grad_16bit)
            add_ignored(res, "--megatron-fsdp-grad-comm-dtype");
        keep_shard_instances(res, key_is(res, "distributed-optimizer", "true"), 0);
        return SIM_OK;
    }
    int stage = pd->fsdp_strategy ? pd->fsdp_strategy - 1 : 3;
    keep_shard_instances(res, stage, 1);
    /* Megatron-FSDP turns the distributed optimizer on itself (arguments.py) and keeps its
     * own gradient buffers, so the strategy alone says the sharding, and the gradient-
     * accumulation fusion flag means nothing to it */
    remove_key(res, "distributed-optimizer");
    drop_key(res, "grad-accumulation", NULL);
    char zero[16];
    snprintf(zero, sizeof zero, "%d", stage);
    enum sim_status st = put_key(res, "zero", zero, "use-megatron-fsdp", err);
    if (st == SIM_OK && pd->fsdp_grad_16bit)
        st = put_key(res, "grad-reduce-fp32", "false", "megatron-fsdp-grad-comm-dtype", err);
    return st;
}

static long layout_count(const struct import_result *res, const char *key)
{
    const char *v = import_value(res, key);
    long n = 1;
    char why[128];
    if (v && units_parse_int(v, 1, 1L << 30, &n, why, sizeof why) != 0)
        n = 0; /* the scenario's parser refuses it with its reason */
    return n;
}

enum sim_status import_shard_groups(struct import_result *res, struct sim_error *err)
{
    if (res->dp_instances <= 1)
        return SIM_OK;
    if (!import_value(res, "gpus")) {
        add_ignored(res, "--num-distributed-optimizer-instances (no --gpus)");
        return SIM_OK;
    }
    long gpus = layout_count(res, "gpus");
    long model_par = layout_count(res, "tp") * layout_count(res, "pp");
    if (gpus == 0 || model_par == 0 || gpus % model_par != 0)
        return SIM_OK; /* no layout: the scenario's rules say why */
    long replicas = gpus / model_par; /* dp x cp */
    if (replicas % res->dp_instances != 0) /* parallel_state.py asserts it */
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: --num-distributed-optimizer-instances %ld does not divide the "
                       "%ld data-parallel ranks (dp x cp = gpus / (tp x pp))",
                       res->dp_instances, replicas);
    char group[32];
    snprintf(group, sizeof group, "%ld", replicas / res->dp_instances);
    enum sim_status st =
        put_key(res, "fsdp-group", group, "num-distributed-optimizer-instances", err);
    if (st == SIM_OK && res->outer_optim)
        st = put_key(res, "fsdp-outer-shard", "optim", "outer-dp-sharding-strategy", err);
    return st;
}

/* The precision-aware optimizer keeps its state in the types given (without it they are not
 * read): fp32 main parameters with 16-bit moments are optimizer-state=bf16-moments, 16-bit
 * everything bf16; fp8 moments, or moments of two widths, stepsim does not model. */
static enum sim_status finish_optimizer_state(struct import_result *res, const struct pending *pd,
                                              struct sim_error *err)
{
    int main_b = pd->main_bytes ? pd->main_bytes : 4, avg = pd->avg_bytes ? pd->avg_bytes : 4,
        avg_sq = pd->avg_sq_bytes ? pd->avg_sq_bytes : 4;
    if (!pd->precision_aware || (main_b == 4 && avg == 4 && avg_sq == 4)) {
        if (pd->main_bytes || pd->avg_bytes || pd->avg_sq_bytes)
            add_ignored(res, pd->precision_aware ? "--exp-avg-dtype fp32"
                                                 : "--main-params-dtype / --exp-avg-dtype / "
                                                   "--exp-avg-sq-dtype");
        return SIM_OK;
    }
    if (avg != 2 || avg_sq != 2) {
        add_ignored(res, "--exp-avg-dtype / --exp-avg-sq-dtype (not both 16-bit)");
        return SIM_OK;
    }
    return put_key(res, "optimizer-state", main_b == 4 ? "bf16-moments" : "bf16",
                   "use-precision-aware-optimizer", err);
}

/* The flex dispatcher's SMs: --moe-flex-dispatcher-num-sms wins, the per-backend flags must
 * agree (transformer_config.py routes them and refuses a conflict), and none is read without
 * a flex dispatcher. */
static enum sim_status finish_flex_sms(struct import_result *res, const struct pending *pd,
                                       struct sim_error *err)
{
    if (pd->deepep_sms && pd->hybridep_sms && pd->deepep_sms != pd->hybridep_sms &&
        !pd->flex_sms)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: --moe-deepep-num-sms %ld and --moe-hybridep-num-sms %ld differ "
                       "(Megatron-Core refuses them: give --moe-flex-dispatcher-num-sms)",
                       pd->deepep_sms, pd->hybridep_sms);
    long sms = pd->flex_sms ? pd->flex_sms : pd->deepep_sms ? pd->deepep_sms : pd->hybridep_sms;
    if (!sms)
        return SIM_OK;
    if (!key_is(res, "moe-dispatcher", "deepep") && !key_is(res, "moe-dispatcher", "hybridep")) {
        add_ignored(res, pd->flex_sms     ? "--moe-flex-dispatcher-num-sms"
                         : pd->deepep_sms ? "--moe-deepep-num-sms"
                                          : "--moe-hybridep-num-sms");
        return SIM_OK;
    }
    char num[32];
    snprintf(num, sizeof num, "%ld", sms);
    return put_key(res, "deepep-sms", num, "moe-flex-dispatcher-num-sms", err);
}

/* Narrow-precision flags Megatron reads only with fp8 or fp4 matmuls: fp8 dot-product
 * attention, and the op fuser's grouped MLP, which stepsim models as Transformer Engine's
 * block-scaled (MXFP8 / NVFP4) kernels only -- in other precisions the fuser runs, unmodelled. */
static void drop_unread_narrow_keys(struct import_result *res, const struct pending *pd)
{
    if (!pd->fp8 && !pd->fp4)
        drop_key(res, "fp8-attention", NULL);
    if (!pd->fp4 && !(pd->fp8 && key_is(res, "fp8-recipe", "mxfp8")))
        drop_key(res, "moe-fused-grouped-mlp", NULL);
}

/* The latent-attention sizes without latent attention, and the DSA indexer's without DSA:
 * Megatron does not read them (FK_MLA, FK_DSA), so they are listed, not held against a model. */
static void finish_attention_sizes(struct import_result *res)
{
    for (size_t i = 0; i < NFLAGS; i++) {
        int *size = (int *)(void *)((char *)res + flags[i].arch);
        int unread = (flags[i].kind == FK_MLA && !res->mla) ||
                     (flags[i].kind == FK_DSA && res->sparse_attention != IMPORT_DSA);
        if (unread && *size) {
            char given[72];
            snprintf(given, sizeof given, "--%s", flags[i].name);
            add_ignored(res, given);
            *size = 0;
        }
    }
}

/* --cp-comm-type: one type for every layer, or one a layer (arguments.py, nargs '+'); stepsim
 * models one for all, so a list of several types is refused.  Its levels
 * (--hierarchical-context-parallel-sizes) count only under a2a+p2p.  Without context
 * parallelism Megatron reads neither. */
static enum sim_status finish_cp_comm(struct import_result *res, struct sim_error *err)
{
    const char *types = import_value(res, "cp-comm-type"), *cp = import_value(res, "cp");
    const char *levels = import_value(res, "hierarchical-cp");
    if (!cp || strtol(cp, NULL, 10) <= 1) {
        drop_key(res, "cp-comm-type", NULL);
        drop_key(res, "hierarchical-cp", NULL);
        return SIM_OK;
    }
    enum sim_status st = SIM_OK;
    if (types) {
        size_t first = strcspn(types, ",");
        for (const char *t = types; *t; t += *t == ',') {
            size_t len = strcspn(t, ",");
            if (len != first || strncmp(t, types, first) != 0)
                return err_set(err, SIM_EINPUT, NULL, 0,
                               "import: --cp-comm-type %s: one type a layer, and they differ; "
                               "stepsim models one type for every layer",
                               types);
            t += len;
        }
        char one[64];
        snprintf(one, sizeof one, "%.*s", (int)first, types);
        st = put_key(res, "cp-comm-type", one, "cp-comm-type", err);
    }
    if (st != SIM_OK || !levels)
        return st;
    if (!key_is(res, "cp-comm-type", "a2a+p2p")) {
        drop_key(res, "hierarchical-cp", NULL);
        return SIM_OK;
    }
    if (strchr(levels, ',') != strrchr(levels, ','))
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: --hierarchical-context-parallel-sizes %s: stepsim models two "
                       "levels (all-to-all, then P2P)",
                       levels);
    char inner[32];
    snprintf(inner, sizeof inner, "%.*s", (int)strcspn(levels, ","), levels);
    return put_key(res, "hierarchical-cp", inner, "hierarchical-context-parallel-sizes", err);
}

/* --moe-layer-recompute, deprecated in Megatron-Core for --recompute-granularity selective
 * --recompute-modules moe: it turns selective recompute on and adds `moe` to the modules given,
 * or to the default core_attn; with full recompute Megatron refuses the line
 * (transformer_config.py, __post_init__). */
static enum sim_status finish_moe_layer_recompute(struct import_result *res,
                                                  const struct pending *pd, struct sim_error *err)
{
    if (!pd->moe_layer_recompute)
        return SIM_OK;
    if (key_is(res, "recompute", "full"))
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: --moe-layer-recompute with --recompute-granularity full: "
                       "Megatron refuses the line (transformer_config.py); give one");
    const char *given = import_value(res, "recompute-modules");
    char modules[sizeof res->keys[0].value + 8]; /* room for ",moe": put_key refuses a cut */
    snprintf(modules, sizeof modules, "%s", given ? given : "core_attn");
    int has_moe = 0;
    char copy[sizeof modules], *save = NULL;
    snprintf(copy, sizeof copy, "%s", modules);
    for (char *m = strtok_r(copy, ",+", &save); m; m = strtok_r(NULL, ",+", &save))
        has_moe |= strcmp(m, "moe") == 0;
    size_t used = strlen(modules);
    if (!has_moe)
        snprintf(modules + used, sizeof modules - used, ",moe");
    enum sim_status st = put_key(res, "recompute", "selective", "moe-layer-recompute", err);
    return st == SIM_OK ? put_key(res, "recompute-modules", modules, "moe-layer-recompute", err)
                        : st;
}

static enum sim_status finish(struct import_result *res, const struct pending *pd,
                              struct sim_error *err)
{
    enum sim_status st = finish_precision(res, pd, err);
    if (st == SIM_OK)
        st = finish_defaults(res, pd, err);
    if (st == SIM_OK)
        st = finish_layout(res, pd, err);
    if (st == SIM_OK) /* after the layout, which counts transformer layers */
        st = finish_linear_attention(res, pd, err);
    if (st == SIM_OK) /* before the modules are dropped where recompute is not selective */
        st = finish_moe_layer_recompute(res, pd, err);
    drop_unread_keys(res, pd);
    if (st == SIM_OK && pd->cpu_offload_layers > 0 && res->layers > 0) {
        char share[32]; /* the offloaded layers' share of the saved activations */
        snprintf(share, sizeof share, "%.6g", (double)pd->cpu_offload_layers / res->layers);
        st = put_key(res, "offload-activations", share, "cpu-offloading-num-layers", err);
    }
    if (st == SIM_OK)
        st = finish_cp_comm(res, err);
    if (st == SIM_OK)
        st = graph_keys(res, pd, err);
    if (st == SIM_OK)
        st = finish_sharding(res, pd, err);
    if (st == SIM_OK)
        st = finish_optimizer_state(res, pd, err);
    if (st == SIM_OK)
        st = finish_offload_and_capacity(res, pd, err);
    const char *dispatcher = import_value(res, "moe-dispatcher");
    if (st == SIM_OK && pd->hybridep && dispatcher && strcmp(dispatcher, "deepep") == 0)
        st = put_key(res, "moe-dispatcher", "hybridep", "moe-flex-dispatcher-backend", err);
    if (st == SIM_OK)
        st = finish_flex_sms(res, pd, err);
    drop_unread_narrow_keys(res, pd);
    finish_attention_sizes(res);
    /* The line runs Megatron-Core: run refuses what it does not offer, plan explores only
     * what it does. */
    if (st == SIM_OK)
        st = put_key(res, "framework", "megatron-core", "import megatron", err);
    return st;
}

/* A word the shell would have expanded: $VAR, ${VAR}, ${ARGS[@]}, $(...), "$@". */
static int is_shell_expansion(const char *word)
{
    return word[0] == '$' && word[1] != '\0';
}

/* The line as a script writes it, not as the shell runs it: a variable in a flag's place holds
 * flags stepsim cannot see (torchrun ${DISTRIBUTED_ARGS[@]} pretrain_gpt.py ${MODEL_ARGS[@]}),
 * one as a flag's value a value it cannot read.  Refused rather than imported without them. */
static enum sim_status unexpanded(const char *word, const char *flag, struct sim_error *err)
{
    static const char advice[] = "paste the line as the shell runs it (bash -x SCRIPT prints "
                                 "it)";
    if (flag)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: --%s %.64s: an unexpanded shell variable; %s", flag, word,
                       advice);
    return err_set(err, SIM_EINPUT, NULL, 0,
                   "import: '%.64s' is an unexpanded shell variable, whose flags stepsim cannot "
                   "see; %s",
                   word, advice);
}

/* "true" or "false" in any case, the words a YAML config writes a switch's state in */
static int is_truth_word(const char *word)
{
    return strcasecmp(word, "true") == 0 || strcasecmp(word, "false") == 0;
}

/* The flag's name in `word` ("--flag", "--flag=value", "-flag", or a Hydra-style
 * "section.flag=value", whose value starts after `eq`, NULL when there is none), spelled with
 * dashes for underscores, into name (cut to fit). */
static void flag_name(const char *word, const char *eq, char *name, size_t size)
{
    const char *start = word + strspn(word, "-");
    if (word[0] != '-') { /* Hydra's: the last dotted part before the '=' */
        const char *dot = memchr(word, '.', (size_t)(eq - word));
        for (const char *d = dot; d && d < eq; d = memchr(d + 1, '.', (size_t)(eq - d - 1)))
            start = d + 1;
    }
    size_t len = eq ? (size_t)(eq - start) : strlen(start);
    if (len >= size)
        len = size - 1;
    for (size_t k = 0; k < len; k++)
        name[k] = start[k] == '_' ? '-' : start[k];
    name[len] = '\0';
}

/* A word argparse reads as a negative number, not an option ("-1", "-0.5", "-.5": its
 * _negative_number_matcher; Megatron's parser has no option that looks like one), so a value. */
static int is_negative_number(const char *word)
{
    const char *digits = word + 1;
    size_t whole = strspn(digits, "0123456789");
    if (word[0] != '-')
        return 0;
    if (digits[whole] == '.')
        return digits[whole + 1 + strspn(digits + whole + 1, "0123456789")] == '\0' &&
               isdigit((unsigned char)digits[whole + 1]);
    return whole > 0 && digits[whole] == '\0';
}

/* Whether flag f (named `name`) reads the next word as its value: not a switch, nor one of the
 * FK_SPECIAL flags that are argparse store_true switches (apply_special's store_true). */
static int flag_takes_value(const struct flag *f, const char *name)
{
    return f && f->kind != FK_SWITCH && strcmp(name, "group-query-attention") != 0 &&
           strcmp(name, "attention-output-gate") != 0 &&
           strcmp(name, "multi-latent-attention") != 0 && strcmp(name, "swiglu") != 0 &&
           strcmp(name, "squared-relu") != 0 && strcmp(name, "disable-bias-linear") != 0 &&
           strcmp(name, "untie-embeddings-and-output-weights") != 0;
}

/* The value flag f (named `name`, at w[*i], written without "=value") reads from the words
 * after it, advancing *i past them; a list's words are joined into list. NULL: none. */
static const char *following_value(const struct words *w, int *i, const struct flag *f,
                                   const char *name, char list[static IMPORT_LIST_MAX])
{
    int takes_value = flag_takes_value(f, name);
    const char *value = f && f->kind == FK_LIST ? list_words(w, i, list, IMPORT_LIST_MAX) : NULL;
    if (value)
        return value;
    if (takes_value && *i + 1 < w->n &&
        (w->w[*i + 1][0] != '-' || is_negative_number(w->w[*i + 1])))
        return w->w[++*i];
    /* "--sequence-parallel false", as Megatron's test configs write a switch (their
     * model_config.yaml's `--flag: false`), reads as --sequence-parallel=false: the word
     * had been skipped and the switch turned on */
    if (f && !takes_value && f->kind != FK_LIST && *i + 1 < w->n && is_truth_word(w->w[*i + 1]))
        return w->w[++*i];
    return NULL;
}

/* Refuses flag `name` when one of its words, w[first..last], was cut to fit. */
static enum sim_status refuse_cut_words(const struct words *w, int first, int last,
                                        const char *name, struct sim_error *err)
{
    for (int k = first; k <= last; k++)
        if (w->cut[k])
            return err_set(err, SIM_EINPUT, NULL, 0,
                           "import: --%s: a word of the launch line is longer than %zu bytes",
                           name, sizeof w->w[k] - 1);
    return SIM_OK;
}

/* Which half precision the dashed switch f just set: 1 for --bf16, 2 for --fp16, else 0. */
static int half_precision_bit(const struct import_result *out, const struct flag *f)
{
    if (f->kind != FK_SWITCH || !f->key || strcmp(f->key, "dtype") != 0 ||
        !key_is(out, "dtype", f->value))
        return 0;
    return strcmp(f->value, "bf16") == 0 ? 1 : 2;
}

/* argparse would keep both --bf16 and --fp16 (halves 3); Megatron then stops. */
static enum sim_status refuse_both_halves(int halves, struct sim_error *err)
{
    if (halves != 3)
        return SIM_OK;
    return err_set(err, SIM_EINPUT, NULL, 0,
                   "import: --bf16 and --fp16 together: Megatron refuses the line "
                   "(arguments.py: assert not args.bf16 under --fp16); give one");
}

/* A vocabulary count as given, or 0 when it is no whole number: it then counts as not given
 * (Megatron's argparse refuses it anyway). */
static long vocabulary_count(const char *value)
{
    long n;
    char why[8];
    return units_parse_int(value, 1, 1L << 30, &n, why, sizeof why) == 0 ? n : 0;
}

/* The vocabulary flags: not modelled (listed as ignored), but kept for find_model, which
 * reads them to choose among shipped models of one shape.  `value` is the flag's, or the word
 * after it (NULL: none; another flag: none). */
static void note_vocabulary(struct import_result *res, const char *name, const char *value)
{
    if (!value || value[0] == '-')
        return;
    if (strcmp(name, "tokenizer-type") == 0)
        snprintf(res->tokenizer_type, sizeof res->tokenizer_type, "%s", value);
    else if (strcmp(name, "tokenizer-model") == 0)
        snprintf(res->tokenizer_model, sizeof res->tokenizer_model, "%s", value);
    else if (strcmp(name, "vocab-size") == 0)
        res->vocab_size = vocabulary_count(value);
    else if (strcmp(name, "make-vocab-size-divisible-by") == 0)
        res->vocab_divisor = vocabulary_count(value);
}

enum sim_status import_megatron(const char *const *words, int nwords, struct import_result *out,
                                struct sim_error *err)
{
    memset(out, 0, sizeof *out);
    struct words *w = mem_calloc(1, sizeof *w); /* 256 KiB: off the stack */
    if (!w)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
    enum sim_status st = SIM_OK;
    for (int i = 0; i < nwords && st == SIM_OK; i++)
        st = split_words(words[i], 1, w, err);
    struct pending pd = {.attn_dropout = 0.1, .hidden_dropout = 0.1}; /* Megatron's defaults */
    int after_unknown_flag = 0;
    int halves = 0; /* --bf16 given: 1, --fp16: 2 */
    for (int i = 0; i < w->n && st == SIM_OK; i++) {
        const char *word = w->w[i];
        const int first = i; /* the flag's word; i moves on over its values */
        /* "--flag", "--flag=value", "-flag", or a Hydra-style "section.flag=value" */
        int dashed = word[0] == '-' && !is_negative_number(word); /* "-1": a value */
        const char *eq = strchr(word, '=');
        if (!dashed && !eq && is_shell_expansion(word) && !after_unknown_flag) {
            st = unexpanded(word, NULL, err);
            break;
        }
        after_unknown_flag = 0;
        if (!dashed && !eq)
            continue; /* torchrun, python, pretrain_gpt.py, a value of an ignored flag */
        char name[64];
        flag_name(word, eq, name, sizeof name);
        const struct flag *f = find_flag(name);
        const char *value = eq ? eq + 1 : NULL;
        /* Hydra's null: the field keeps its default, as if the override were not there */
        if (!dashed && value && (strcmp(value, "null") == 0 || strcmp(value, "None") == 0))
            continue;
        char list[IMPORT_LIST_MAX];
        if (!value)
            value = following_value(w, &i, f, name, list);
        pd.bridge = !dashed;
        if (f)
            st = refuse_cut_words(w, first, i, name, err);
        if (st != SIM_OK)
            break;
        if (f && value && is_shell_expansion(value)) {
            st = unexpanded(value, name, err);
            break;
        }
        if (!f) {
            after_unknown_flag = dashed && !eq; /* a $VAR after it is its value */
            note_vocabulary(out, name, value ? value : i + 1 < w->n ? w->w[i + 1] : NULL);
            add_ignored(out, dashed ? word : name);
            if (eq && strchr(out->ignored[out->nignored - 1], '='))
                *strchr(out->ignored[out->nignored - 1], '=') = '\0';
            continue;
        }
        st = apply(out, &pd, f, value, err);
        if (st == SIM_OK && dashed)
            halves |= half_precision_bit(out, f);
    }
    mem_free(w);
    if (st == SIM_OK)
        st = refuse_both_halves(halves, err);
    if (st == SIM_OK)
        st = finish(out, &pd, err);
    return st;
}

/* ---- the command ------------------------------------------------------------------------ */

const char import_help[] =
    "usage: stepsim import megatron --hardware NAME|FILE [--model NAME|FILE] [--gpus N]\n"
    "                               [--name TEXT] [--out FILE.xml] [--] LAUNCH-LINE...\n"
    "\n"
    "Turns a Megatron-LM launch line (its flags: --tensor-model-parallel-size,\n"
    "--pipeline-model-parallel-size, --num-layers-per-virtual-pipeline-stage,\n"
    "--context-parallel-size, --expert-model-parallel-size, --sequence-parallel,\n"
    "--micro-batch-size, --global-batch-size, --seq-length, --recompute-granularity,\n"
    "--bf16 / --fp16 / --fp8-format / --fp4-format, --use-distributed-optimizer,\n"
    "--optimizer, --overlap-grad-reduce, --cuda-graph-impl, ...;\n"
    "torchrun's --nnodes and --nproc-per-node give the world size) into a scenario file, on\n"
    "stdout or --out.  Megatron-Bridge's overrides (model.tensor_model_parallel_size=8) read\n"
    "the same.  The line may be one quoted string or many words.  The model is the shipped one\n"
    "whose shape matches --num-layers, --hidden-size, --num-attention-heads, --num-query-groups,\n"
    "--ffn-hidden-size, --num-experts, the latent-attention and DSA indexer sizes and a\n"
    "hybrid model's --hybrid-override-pattern and --mamba-* / --linear-* sizes, or\n"
    "--linear-attention-type gated_delta_net with --linear-attention-freq, and where given\n"
    "--swiglu, --squared-relu, --normalization, --position-embedding-type,\n"
    "--untie-embeddings-and-output-weights and --disable-bias-linear (or --model; a shape\n"
    "flag it contradicts is refused; with none, the nearest model is named).  Of several\n"
    "networks of that shape, the line's vocabulary chooses: --tokenizer-type (and\n"
    "--tokenizer-model) or --vocab-size, padded to --make-vocab-size-divisible-by x tp.\n"
    "Flags stepsim does not model are named on stderr.\n"
    "The scenario names framework=megatron-core, so run holds it to what Megatron-Core\n"
    "offers and plan explores only that.\n"
    "Megatron's defaults hold where stepsim's differ: fp32 without --bf16 / --fp16, dropout\n"
    "0.1 unless --attention-dropout and --hidden-dropout are 0, and with --bf16 the gradients\n"
    "kept and reduced in fp32 unless --grad-reduce-in-bf16 or --main-grads-dtype bf16.\n"
    "The scenario is checked as 'stepsim validate' checks it before it is written: a\n"
    "layout Megatron would refuse (tp not dividing the heads, a world size tp x cp x pp\n"
    "does not divide, ...) exits 2 naming the flags, and --out is left as it was.\n"
    "\n"
    "exit status: 0 written, 1 output failure, 2 bad input\n";

struct import_opts {
    const char *model, *hardware, *gpus, *name, *out;
    const char *words[IMPORT_MAX_WORDS];
    int nwords;
    int help;
    struct cli_once once; /* import's own options, each once */
};

static int parse_import(int argc, char **argv, struct import_opts *o, FILE *errout)
{
    memset(o, 0, sizeof *o);
    const char *hint = "stepsim import --help";
    int i = 2;
    if (i < argc && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
        o->help = 1;
        return 0;
    }
    if (i >= argc)
        return cli_bad_usage(errout, hint, "import needs a format: megatron");
    if (strcmp(argv[i], "megatron") != 0)
        return cli_bad_usage(errout, hint, "import: unknown format '%s' (known: megatron)",
                             argv[i]);
    int rest = 0; /* after "--": all launch line */
    for (i = 3; i < argc; i++) {
        const char *a = argv[i], *v;
        const char **slot = NULL;
        if (!rest && strcmp(a, "--") == 0) {
            rest = 1;
            continue;
        }
        if (!rest && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            o->help = 1;
            return 0;
        }
        static const char *const opts[] = {"--model", "--hardware", "--gpus", "--name", "--out"};
        for (size_t k = 0; !rest && !slot && k < sizeof opts / sizeof opts[0]; k++) {
            if ((v = cli_opt_value(argc, argv, &i, opts[k]))) {
                if (!*v)
                    return cli_bad_usage(errout, hint, "%s needs a value", opts[k]);
                if (cli_once(&o->once, NULL, opts[k], v, errout, hint) != 0)
                    return 2;
                const char **slots[] = {&o->model, &o->hardware, &o->gpus, &o->name, &o->out};
                slot = slots[k];
                *slot = v;
            }
        }
        if (slot)
            continue;
        if (o->nwords == IMPORT_MAX_WORDS)
            return cli_bad_usage(errout, hint, "import: more than %d words", IMPORT_MAX_WORDS);
        o->words[o->nwords++] = a;
    }
    if (!o->hardware)
        return cli_bad_usage(errout, hint,
                             "import needs --hardware NAME|FILE (the launch line does not say "
                             "which GPUs; 'stepsim keys hardware')");
    if (o->nwords == 0)
        return cli_bad_usage(errout, hint, "import needs the launch line");
    if (o->name && strlen(o->name) > IMPORT_MAX_NAME)
        return cli_bad_usage(errout, hint, "import: --name of %zu bytes, at most %d",
                             strlen(o->name), IMPORT_MAX_NAME);
    return 0;
}

/* A model or hardware reference as the written scenario must hold it: a shipped name as it
 * is, a file relative to the current folder by its absolute path -- the scenario resolves
 * references from its own folder, which need not be the one the command ran in. */
static void output_ref(const char *kind, const char *given, char *out, size_t len)
{
    char path[OUT_PATH_MAX], cwd[OUT_PATH_MAX];
    const char *rel = given;
    while (rel[0] == '.' && rel[1] == '/')
        rel += 2;
    int shipped = library_is_name(given) && library_find(kind, given, path, sizeof path) == 0;
    if (given[0] == '/' || shipped || access(given, R_OK) != 0 || !getcwd(cwd, sizeof cwd) ||
        snprintf(out, len, "%s/%s", cwd, rel) >= (int)len) /* a name too long stays as is */
        snprintf(out, len, "%s", given);
}

/* Do two models describe the same network (everything but the name)? */
static int same_network(const struct model *a, const struct model *b)
{
    struct model x = *a, y = *b;
    memset(x.name, 0, sizeof x.name);
    memset(y.name, 0, sizeof y.name);
    return memcmp(&x, &y, sizeof x) == 0;
}

/* A shape flag of the launch line beside the model's value: `line` 0 is not given; a switch
 * (is_switch) gives 1, and its model value says whether the model has the feature. */
struct shape_flag {
    const char *flag;
    int line, model;
    int is_switch;
};

#define SHAPE_FLAGS 41 /* the entries of shape_flags' table */

/* The line's shape flags beside the model's values, into shape[SHAPE_FLAGS].  One table for
 * --model's check, the shipped model's search and the nearest model's message, so a flag
 * refused against --model never finds a model it contradicts.  (A shared expert's size is the
 * model's shared experts' total; latent attention's kv-channels is its V width, not
 * compared.) */
static void shape_flags(const struct model *m, const struct import_result *res,
                        struct shape_flag shape[SHAPE_FLAGS])
{
    const struct shape_flag table[] = {
        {"num-layers", res->layers, m->layers, 0},
        {"hidden-size", res->hidden, m->hidden, 0},
        {"num-attention-heads", res->heads, m->heads, 0},
        {res->gqa ? "num-query-groups"
                  : "num-attention-heads without --group-query-attention: key-value heads",
         res->gqa || res->heads ? res->kv_heads : 0, m->kv_heads, 0},
        {"ffn-hidden-size", res->ffn, m->ffn, 0},
        {"num-experts", res->experts, m->experts, 0},
        {"moe-router-topk", res->top_k, m->top_k, 0},
        {"moe-ffn-hidden-size", res->expert_ffn, m->expert_ffn, 0},
        {"moe-latent-size", res->moe_latent, m->moe_latent, 0},
        {"moe-shared-expert-intermediate-size", res->shared_expert_ffn,
         m->shared_experts * m->shared_expert_ffn, 0},
        {"kv-channels", m->kv_lora_rank > 0 ? 0 : res->head_dim, m->head_dim, 0},
        {"attention-output-gate", res->attention_gate, m->attention_gate, 1},
        {"multi-latent-attention", res->mla, m->kv_lora_rank > 0, 1},
        {"q-lora-rank", res->q_lora_rank, m->q_lora_rank, 0},
        {"kv-lora-rank", res->kv_lora_rank, m->kv_lora_rank, 0},
        {"qk-head-dim", res->qk_head_dim, m->qk_nope_dim, 0},
        {"qk-pos-emb-head-dim", res->qk_rope_dim, m->qk_rope_dim, 0},
        {"v-head-dim", res->v_head_dim, m->v_head_dim, 0},
        {"experimental-attention-variant dsa", res->sparse_attention == IMPORT_DSA,
         m->dsa_topk > 0, 1},
        {"experimental-attention-variant dsv4_hybrid", res->sparse_attention == IMPORT_DSV4,
         m->csa_layers > 0, 1},
        {"dsa-indexer-n-heads", res->dsa_heads, m->dsa_index_heads, 0},
        {"dsa-indexer-head-dim", res->dsa_dim, m->dsa_index_dim, 0},
        {"dsa-indexer-topk", res->dsa_topk, m->dsa_topk, 0},
        {"dsa-indexer-topk-freq", res->dsa_topk_freq, m->dsa_topk_freq, 0},
        {"mamba-num-heads", res->mamba_heads, m->mamba_heads, 0},
        {"mamba-head-dim", res->mamba_head_dim, m->mamba_head_dim, 0},
        {"mamba-state-dim", res->mamba_state, m->mamba_state, 0},
        {"mamba-num-groups", res->mamba_groups, m->mamba_groups, 0},
        {"linear-num-key-heads", res->gdn_key_heads, m->gdn_key_heads, 0},
        {"linear-num-value-heads", res->gdn_value_heads, m->gdn_value_heads, 0},
        {"linear-key-head-dim", res->gdn_key_dim, m->gdn_key_dim, 0},
        {"linear-value-head-dim", res->gdn_value_dim, m->gdn_value_dim, 0},
        {"linear-conv-kernel-dim", res->gdn_conv, m->mamba_conv, 0},
        {"swiglu", res->swiglu, m->act == ACT_SWIGLU, 1},
        {"squared-relu", res->squared_relu, m->act == ACT_SQUARED_RELU, 1},
        {"normalization LayerNorm", res->norm == 1, m->norm == NORM_LAYERNORM, 1},
        {"normalization RMSNorm", res->norm == 2, m->norm == NORM_RMSNORM, 1},
        {"position-embedding-type learned_absolute", res->position == 1, m->pos == POS_LEARNED,
         1},
        {"position-embedding-type rope", res->position == 2, m->pos == POS_ROPE, 1},
        {"untie-embeddings-and-output-weights", res->untied, !m->tied_embeddings, 1},
        {"disable-bias-linear", res->no_bias, !m->bias, 1},
    };
    _Static_assert(sizeof table / sizeof table[0] == SHAPE_FLAGS, "SHAPE_FLAGS");
    memcpy(shape, table, sizeof table);
}

/* The first shape flag the line gives whose value is not the model's, into *bad: 1, or 0 when
 * every given one agrees. */
static int shape_disagrees(const struct model *m, const struct import_result *res,
                           struct shape_flag *bad)
{
    struct shape_flag shape[SHAPE_FLAGS];
    shape_flags(m, res, shape);
    for (size_t i = 0; i < SHAPE_FLAGS; i++)
        if (shape[i].line > 0 && shape[i].line != shape[i].model) {
            *bad = shape[i];
            return 1;
        }
    return 0;
}

/* The first layer (0-based) that --moe-layer-freq makes MoE and the model dense or the other
 * way round; the model's layer count when the list has another; -1 when they agree or it is
 * not given.  A model without experts, or a hybrid one whose pattern places them, is not
 * compared: Megatron reads the flag for neither (resolve_model lists it). */
static int moe_layer_differs(const struct model *m, const struct import_result *res)
{
    int listed = (int)strlen(res->moe_layers);
    if ((!res->moe_every && !listed) || m->experts == 0 || m->pattern[0])
        return -1;
    if (listed && listed != m->layers)
        return m->layers;
    for (int i = 0; i < m->layers; i++) /* Megatron's rule for a number: gpt_layer_specs.py */
        if ((listed ? res->moe_layers[i] == '1' : i % res->moe_every == 0) !=
            model_layer_is_moe(m, i))
            return i;
    return -1;
}

/* The launch line's layer count, widths, heads, experts, hybrid pattern and sparse attention
 * are the model's, and so is every other shape flag it gives.  A model with DSA is found
 * exactly by a line naming dsa (Megatron-Core builds it only under that variant:
 * experimental_attention_variant_module_specs.py), so DeepSeek-V3's line is not also
 * DeepSeek-V3.2's; DeepSeek-V4's attention likewise only by its variant, whose one key-value
 * head no other line gives. */
static int same_shape(const struct model *m, const struct import_result *res)
{
    struct shape_flag bad;
    int sparse = (res->sparse_attention == IMPORT_DSA) == (m->dsa_topk > 0) &&
                 (res->sparse_attention == IMPORT_DSV4) == (m->csa_layers > 0);
    return m->layers == res->layers && m->hidden == res->hidden && m->heads == res->heads &&
           m->kv_heads == res->kv_heads && m->experts == res->experts &&
           m->attention_gate == res->attention_gate && strcmp(m->pattern, res->pattern) == 0 &&
           (!res->mtp_pattern[0] || strcmp(m->mtp_pattern, res->mtp_pattern) == 0) &&
           sparse && !shape_disagrees(m, res, &bad) && moe_layer_differs(m, res) < 0;
}

/* Appends one difference between the line and a model to `why` (at most three are written). */
static void add_difference(char *why, size_t len, int *n, const char *fmt, const char *a,
                           int b, int c)
{
    size_t used = strlen(why);
    if ((*n)++ < 3 && used < len)
        snprintf(why + used, len - used, fmt, used ? "; " : "", a, b, c);
}

/* How far the shipped model m is from the line's shape: each shape flag the line gives that
 * differs counts 1 plus how far apart the two numbers are (|ln|, so 4096 beside 512 is
 * nearer than 8192), and each feature one has and the other lacks (experts, a hybrid pattern,
 * sparse or latent attention, the output gate, MoE layers) counts 1.  The first three
 * differences, as the message says them, go to why. */
static double shape_distance(const struct model *m, const struct import_result *res, char *why,
                             size_t len)
{
    struct shape_flag shape[SHAPE_FLAGS];
    shape_flags(m, res, shape);
    double d = 0;
    int n = 0;
    why[0] = '\0';
    for (size_t i = 0; i < SHAPE_FLAGS; i++) {
        const struct shape_flag *f = &shape[i];
        if (f->line <= 0 || f->line == f->model)
            continue;
        d += 1 + (f->is_switch || f->model <= 0 ? 1 : fabs(log((double)f->line / f->model)));
        add_difference(why, len, &n, f->is_switch ? "%s--%s: the line has it, the model not"
                                                  : "%s--%s %d: the model has %d",
                       f->flag, f->line, f->model);
    }
    const int layer = moe_layer_differs(m, res);
    const struct {
        int differs;
        const char *text;
    } features[] = {
        {res->experts == 0 && m->experts > 0, "%s%s: the model has %d, the line none"},
        {!res->mla && m->kv_lora_rank > 0, "%s--%s: the model has latent attention"},
        {res->sparse_attention != IMPORT_DSA && m->dsa_topk > 0,
         "%s--%s dsa: the model has DeepSeek Sparse Attention"},
        {res->sparse_attention != IMPORT_DSV4 && m->csa_layers > 0,
         "%s--%s dsv4_hybrid: the model has DeepSeek-V4's attention"},
        {!res->attention_gate && m->attention_gate, "%s--%s: the model has it, the line not"},
        {strcmp(m->pattern, res->pattern) != 0,
         !m->pattern[0] ? "%s--%s: the model is not hybrid"
         : res->pattern[0] ? "%s--%s: the model's pattern differs"
                           : "%s--%s: the model is hybrid, the line gives no pattern"},
        /* a list of another length: --num-layers differs already */
        {layer >= 0 && layer < m->layers, "%s--%s: layer %d differs"},
    };
    const char *const names[] = {"num-experts", "multi-latent-attention",
                                 "experimental-attention-variant",
                                 "experimental-attention-variant", "attention-output-gate",
                                 "hybrid-override-pattern", "moe-layer-freq"};
    const int values[] = {m->experts, 0, 0, 0, 0, 0, layer + 1};
    for (size_t i = 0; i < sizeof features / sizeof features[0]; i++)
        if (features[i].differs) {
            d += 2;
            add_difference(why, len, &n, features[i].text, names[i], values[i], 0);
        }
    if (n > 3 && strlen(why) + 24 < len)
        snprintf(why + strlen(why), len - strlen(why), "; %d more", n - 3);
    return d;
}

/* The shipped model nearest to the line's shape (shape_distance) into name, and what differs
 * into why; name is "" when no model loads. */
static void nearest_model(const struct import_result *res, const struct library_names *all,
                          char *name, size_t len, char *why, size_t why_len)
{
    double best = 0;
    name[0] = why[0] = '\0';
    for (int i = 0; i < all->n; i++) {
        char path[1024], text[320];
        struct model m;
        struct sim_error ignored;
        if (library_find("models", all->name[i], path, sizeof path) != 0 ||
            model_load(&m, path, &ignored) != SIM_OK)
            continue;
        double d = shape_distance(&m, res, text, sizeof text);
        if (!name[0] || d < best) {
            best = d;
            snprintf(name, len, "%s", all->name[i]);
            snprintf(why, why_len, "%s", text);
        }
    }
}

/* The model named `model` (a shipped name, or a file from the current folder) into m: 0, or -1
 * when it cannot be read (the scenario's own check then names it). */
static int load_model(const char *model, struct model *m)
{
    char path[1024];
    struct sim_error ignored;
    if (library_is_name(model) ? library_find("models", model, path, sizeof path) != 0
                               : snprintf(path, sizeof path, "%s", model) >= (int)sizeof path)
        return -1;
    return model_load(m, path, &ignored) == SIM_OK ? 0 : -1;
}

/* --model names neither a shipped model nor a readable model file: the import stops here
 * rather than write a scenario that names it. */
static enum sim_status unknown_model(const char *model, struct sim_error *err)
{
    char near[192], list[448];
    library_names("models", model, near, sizeof near, list, sizeof list);
    if (near[0])
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: --model '%.64s' is neither a model file nor a shipped model: did "
                       "you mean %s?",
                       model, near);
    return err_set(err, SIM_EINPUT, NULL, 0,
                   "import: --model '%.64s' is neither a model file nor a shipped model "
                   "(shipped: %s)",
                   model, list);
}

/* With --model: the first of the launch line's shape flags whose value is not the model's
 * (a line for another network must not be simulated as this one); SIM_OK when every given
 * one agrees. */
static enum sim_status model_agrees(const char *model, const struct model *m,
                                    const struct import_result *res, struct sim_error *err)
{
    static const char another[] = "the line trains another network (give the model of its "
                                  "shape, or leave --model out to find one)";
    struct shape_flag bad;
    if (shape_disagrees(m, res, &bad))
        return bad.is_switch
                   ? err_set(err, SIM_EINPUT, NULL, 0, "import: --%s, but --model %s has none: %s",
                             bad.flag, model, another)
                   : err_set(err, SIM_EINPUT, NULL, 0, "import: --%s %d, but --model %s has %d: %s",
                             bad.flag, bad.line, model, bad.model, another);
    int layer = moe_layer_differs(m, res);
    if (layer == m->layers)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: --moe-layer-freq lists %zu layers, but --model %s has %d: %s",
                       strlen(res->moe_layers), model, m->layers, another);
    if (layer >= 0)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: --moe-layer-freq makes layer %d %s, but in --model %s it is %s: %s",
                       layer + 1, model_layer_is_moe(m, layer) ? "dense" : "MoE", model,
                       model_layer_is_moe(m, layer) ? "MoE" : "dense", another);
    if (res->pattern[0] && strcmp(res->pattern, m->pattern) != 0)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: --hybrid-override-pattern is not --model %s's pattern", model);
    return SIM_OK;
}

/* Megatron's split counting the embedding and / or the loss as a layer (transformer_block.py,
 * get_num_layers_to_build): the model's layers and those ends divide evenly over the pp x vp
 * virtual stages, and an end's stage builds one layer fewer.  As first- / last-stage-layers. */
static enum sim_status account_split(struct import_result *res, int layers,
                                     struct sim_error *err)
{
    int ends = (res->account_embedding != 0) + (res->account_loss != 0);
    if (ends == 0)
        return SIM_OK;
    if (import_value(res, "pipeline-layout") || import_value(res, "first-stage-layers") ||
        import_value(res, "last-stage-layers"))
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: --account-for-*-in-pipeline-split should not be used with a "
                       "pipeline layout or the first / last stage's layers (Megatron's "
                       "arguments.py refuses it)");
    const char *pp_text = import_value(res, "pp"), *vp_text = import_value(res, "vp");
    long stages = (pp_text ? strtol(pp_text, NULL, 10) : 1) *
                  (vp_text ? strtol(vp_text, NULL, 10) : 1);
    if (stages < 2 || (layers + ends) % stages != 0)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: --account-for-*-in-pipeline-split: %d layers and %d end%s do "
                       "not divide over pp x vp = %ld virtual stages",
                       layers, ends, ends == 1 ? "" : "s", stages);
    char num[32];
    snprintf(num, sizeof num, "%ld", (layers + ends) / stages - 1);
    enum sim_status st = SIM_OK;
    if (res->account_embedding)
        st = put_key(res, "first-stage-layers", num, "account-for-embedding-in-pipeline-split",
                     err);
    if (st == SIM_OK && res->account_loss)
        st = put_key(res, "last-stage-layers", num, "account-for-loss-in-pipeline-split", err);
    return st;
}

/* A model without experts: Megatron reads none of the MoE flags (the scenario's rules refuse
 * them), so they are listed as ignored. */
static void drop_moe_keys(struct import_result *res)
{
    static const char *const moe_keys[] = {
        "moe-dispatcher", "overlap-ep-comm",        "moe-imbalance",
        "deepep-sms",     "moe-shared-expert-overlap", "moe-router-dtype",
        "moe-router-fusion", "moe-fused-grouped-mlp", "moe-capacity-factor",
        "moe-router-padding"};
    for (size_t i = 0; i < sizeof moe_keys / sizeof moe_keys[0]; i++)
        drop_key(res, moe_keys[i], NULL);
}

/* Does the line give a head, latent-attention, DSA indexer or expert width? */
static int gives_widths(const struct import_result *res)
{
    return res->head_dim || res->top_k || res->expert_ffn || res->moe_latent ||
           res->shared_expert_ffn || res->mla || res->dsa_heads || res->dsa_dim ||
           res->dsa_topk || res->dsa_topk_freq;
}

/* The shipped models of the line's shape into fits, first those that train an MTP module when
 * the line does (and not when it does not: Nemotron 3.5 Lightning is Nemotron 3 Nano with
 * one), else any of the shape.  `name` gets the first that covers the sequence (else the first);
 * *covering counts those that cover it, *distinct the covering ones unlike the first. */
static void shape_matches(const struct import_result *res, const struct library_names *all,
                          struct library_names *fits, int *covering, int *distinct, char *name,
                          size_t len)
{
    const char *seq_text = import_value(res, "seq");
    long seq = seq_text ? strtol(seq_text, NULL, 10) : 0;
    const char *mtp_text = import_value(res, "mtp-layers");
    int line_mtp = mtp_text && strtol(mtp_text, NULL, 10) > 0;
    struct model first;
    *covering = *distinct = 0;
    for (int pass = 0; pass < 2 && !fits->n; pass++)
        for (int i = 0; i < all->n; i++) {
            struct model m;
            if (load_model(all->name[i], &m) != 0 || !same_shape(&m, res) ||
                (pass == 0 && (m.mtp_layers > 0) != line_mtp))
                continue;
            int covers = m.max_seq <= 0 || seq <= m.max_seq;
            if (!fits->n || (covers && !*covering))
                snprintf(name, len, "%s", all->name[i]);
            if (covers && *covering == 0)
                first = m;
            else if (covers && !same_network(&first, &m))
                ++*distinct;
            snprintf(fits->name[fits->n++], sizeof fits->name[0], "%s", all->name[i]);
            *covering += covers;
        }
}

/* A tokenizer whose vocabulary the import knows: only those that tell apart shipped models of
 * one shape (GPT-3 175B's vocabularies; Llama 2 70B beside Llama 3.x 70B).  HuggingFace's is
 * known by a word of the repository --tokenizer-model names (case aside). */
static const struct tokenizer {
    const char *type; /* --tokenizer-type */
    const char *repo; /* a word of --tokenizer-model; NULL: any */
    long tokens;      /* the tokenizer's vocab_size, before Megatron pads it */
} tokenizers[] = {
    /* GPT-2's BPE, gpt2-vocab.json's 50257 entries (Radford et al. 2019; GPT-3 kept it) */
    {"GPT2BPETokenizer", NULL, 50257},
    /* Llama 2's SentencePiece model, 32000 pieces (Touvron et al. 2023, section 2.1) */
    {"Llama2Tokenizer", NULL, 32000},
    {"HuggingFaceTokenizer", "llama-2", 32000},
    /* Llama 3's tokenizer: 128000 BPE tokens and 256 special ones (meta-llama/Llama-3.1-70B,
     * config.json: vocab_size 128256) */
    {"HuggingFaceTokenizer", "llama-3", 128256},
};

/* Does `text` hold `word`, case aside? */
static int holds_word(const char *text, const char *word)
{
    for (size_t n = strlen(word); *text; text++)
        if (strncasecmp(text, word, n) == 0)
            return 1;
    return 0;
}

/* The vocabulary the line implies: the tokenizer's tokens (a known --tokenizer-type, else
 * --vocab-size, which only NullTokenizer and TikTokenizer read) and Megatron's padding of them
 * to a multiple of --make-vocab-size-divisible-by (128) x tp (vocab_size_with_padding in
 * megatron/core/tokenizers/utils/build_tokenizer.py).  `how` says which flags gave it. */
struct line_vocabulary {
    long tokens, padded; /* 0: the line says nothing of its vocabulary */
    long divisor, tp;    /* padded is a multiple of divisor x tp */
    char how[176];
};

static void line_vocabulary(const struct import_result *res, struct line_vocabulary *v)
{
    memset(v, 0, sizeof *v);
    for (size_t i = 0; i < sizeof tokenizers / sizeof tokenizers[0] && !v->tokens; i++) {
        const struct tokenizer *t = &tokenizers[i];
        if (strcmp(res->tokenizer_type, t->type) == 0 &&
            (!t->repo || holds_word(res->tokenizer_model, t->repo))) {
            v->tokens = t->tokens;
            snprintf(v->how, sizeof v->how, "--tokenizer-type %s%s%.64s (%ld tokens)", t->type,
                     t->repo ? " --tokenizer-model " : "", t->repo ? res->tokenizer_model : "",
                     t->tokens);
        }
    }
    const char *type = res->tokenizer_type;
    if (!v->tokens && res->vocab_size > 0 &&
        (!type[0] || strcmp(type, "NullTokenizer") == 0 || strcmp(type, "TikTokenizer") == 0)) {
        v->tokens = res->vocab_size;
        snprintf(v->how, sizeof v->how, "--vocab-size %ld", v->tokens);
    }
    const char *tp_text = import_value(res, "tp");
    v->tp = tp_text ? strtol(tp_text, NULL, 10) : 1;
    v->divisor = res->vocab_divisor > 0 ? res->vocab_divisor : 128;
    long multiple = v->divisor * v->tp;
    v->padded = (v->tokens + multiple - 1) / multiple * multiple;
}

/* Of the models in fits (only those covering the sequence when `covering`), how many
 * different networks have `vocab` entries; `name` gets the first. */
static int networks_with_vocab(const struct import_result *res,
                               const struct library_names *fits, int covering, long vocab,
                               char *name, size_t len)
{
    const char *seq_text = import_value(res, "seq");
    long seq = seq_text ? strtol(seq_text, NULL, 10) : 0;
    struct model first, m;
    int n = 0;
    for (int i = 0; i < fits->n; i++) {
        if (load_model(fits->name[i], &m) != 0 || m.vocab != vocab ||
            (covering && m.max_seq > 0 && seq > m.max_seq))
            continue;
        if (n == 0) {
            first = m;
            snprintf(name, len, "%s", fits->name[i]);
        }
        n += n == 0 || !same_network(&first, &m);
    }
    return n;
}

/* Drops the vocabulary flags from the ignored list: they chose the model. */
static void unignore_vocabulary(struct import_result *res)
{
    static const char *const names[] = {"tokenizer-type", "tokenizer-model", "vocab-size",
                                        "make-vocab-size-divisible-by"};
    for (int i = res->nignored - 1; i >= 0; i--) {
        char name[64]; /* a dashed flag as given; a Megatron-Bridge key is listed by name */
        if (res->ignored[i][0] == '-')
            flag_name(res->ignored[i], NULL, name, sizeof name);
        else
            snprintf(name, sizeof name, "%s", res->ignored[i]);
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
            if (strcmp(name, names[k]) == 0) {
                memmove(res->ignored[i], res->ignored[i + 1],
                        (size_t)(res->nignored - i - 1) * sizeof res->ignored[0]);
                res->nignored--;
                break;
            }
    }
}

/* Several networks fit the line's shape: the one whose vocabulary is the line's, padded as
 * Megatron pads it, else as the tokenizer gives it (the shipped models keep the published,
 * unpadded size).  Into `name`, with res->chosen_by saying why; 0, or -1 when the line says
 * nothing of its vocabulary or it does not pick one network. */
static int choose_by_vocabulary(struct import_result *res, const struct library_names *fits,
                                int covering, const struct line_vocabulary *v, char *name,
                                size_t len)
{
    if (v->tokens <= 0)
        return -1;
    int padded = networks_with_vocab(res, fits, covering, v->padded, name, len);
    if (padded == 1)
        snprintf(res->chosen_by, sizeof res->chosen_by,
                 "%s padded to %ld, a multiple of %s%ld x --tensor-model-parallel-size %ld",
                 v->how, v->padded, res->vocab_divisor ? "--make-vocab-size-divisible-by " : "",
                 v->divisor, v->tp);
    else if (padded == 0 && networks_with_vocab(res, fits, covering, v->tokens, name, len) == 1)
        snprintf(res->chosen_by, sizeof res->chosen_by,
                 "%s, unpadded (no model of the shape has the %ld of Megatron's padding)",
                 v->how, v->padded);
    else
        return -1;
    unignore_vocabulary(res);
    return 0;
}

/* Do two of the models in fits have different vocabularies? */
static int vocabularies_differ(const struct library_names *fits)
{
    long first = -1;
    for (int i = 0; i < fits->n; i++) {
        struct model m;
        if (load_model(fits->name[i], &m) != 0)
            continue;
        if (first >= 0 && m.vocab != first)
            return 1;
        first = m.vocab;
    }
    return 0;
}

/* "a, b", or with `vocab` "a (vocabulary 50257), b (51200)": the models in fits. */
static void list_fits(const struct library_names *fits, int vocab, char *text, size_t len)
{
    text[0] = '\0';
    for (int i = 0; i < fits->n; i++) {
        struct model m;
        size_t used = strlen(text);
        if (!vocab || load_model(fits->name[i], &m) != 0)
            snprintf(text + used, len - used, "%s%s", i ? ", " : "", fits->name[i]);
        else
            snprintf(text + used, len - used, "%s%s (%s%d)", i ? ", " : "", fits->name[i],
                     i ? "" : "vocabulary ", m.vocab);
    }
}

/* Several networks fit and the vocabulary did not choose: the candidates, and the flag that
 * would decide (or the vocabulary the line gave, which none or several of them have). */
static enum sim_status several_fit(const struct import_result *res,
                                   const struct library_names *fits,
                                   const struct line_vocabulary *v, struct sim_error *err)
{
    char listed[400];
    int vocab_decides = vocabularies_differ(fits);
    list_fits(fits, vocab_decides, listed, sizeof listed);
    if (!vocab_decides)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: the launch line's shape fits %s; give --model NAME", listed);
    if (v->tokens > 0)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: the launch line's shape fits %s, and its vocabulary, %s, "
                       "padded to %ld, does not pick one of them; give --model NAME",
                       listed, v->how, v->padded);
    if (res->tokenizer_type[0])
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: the launch line's shape fits %s; the vocabulary of "
                       "--tokenizer-type %.31s is not known here (GPT2BPETokenizer's, "
                       "Llama2Tokenizer's and Llama's HuggingFaceTokenizer's are); give --model "
                       "NAME",
                       listed, res->tokenizer_type);
    return err_set(err, SIM_EINPUT, NULL, 0,
                   "import: the launch line's shape fits %s; --tokenizer-type (or --vocab-size) "
                   "would choose by vocabulary, or give --model NAME",
                   listed);
}

/* The launch line lacks one of the core sizes, or no shipped model has its shape. */
static enum sim_status no_model(const struct import_result *res,
                                const struct library_names *all, struct sim_error *err)
{
    if (res->layers <= 0 || res->hidden <= 0 || res->heads <= 0)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: give --model NAME|FILE (the launch line lacks --num-layers, "
                       "--hidden-size or --num-attention-heads to find a shipped model)");
    char near[64] = "", why[320] = "";
    nearest_model(res, all, near, sizeof near, why, sizeof why);
    return err_set(err, SIM_EINPUT, NULL, 0,
                   "import: no shipped model has num-layers=%d hidden-size=%d "
                   "num-attention-heads=%d query groups=%d%s%s%s%s; give --model NAME|FILE "
                   "(the nearest, %s: %s)",
                   res->layers, res->hidden, res->heads, res->kv_heads,
                   res->experts ? " with experts" : "",
                   gives_widths(res) ? " and these head, attention and expert widths" : "",
                   res->moe_every || res->moe_layers[0] ? " and these MoE layers" : "",
                   res->pattern[0] ? " and this hybrid pattern and mixer sizes" : "",
                   near[0] ? near : "none loads", why);
}

/* The shipped model whose shape the launch line gives; among equals, one whose context length
 * covers the sequence, else the one of the line's vocabulary.  Releases of one network (Llama
 * 3.1 and 3.3 70B) are the same model to the simulator: the first name stands for them.
 * `name` gets the library name. */
static enum sim_status find_model(struct import_result *res, char *name, size_t len,
                                  struct sim_error *err)
{
    struct library_names *all = mem_calloc(1, sizeof *all);
    struct library_names *fits = mem_calloc(1, sizeof *fits);
    enum sim_status st = SIM_OK;
    if (!all || !fits)
        st = err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
    int covering = 0, distinct = 0;
    if (st == SIM_OK) {
        library_list("models", all);
        if (res->layers > 0 && res->hidden > 0 && res->heads > 0)
            shape_matches(res, all, fits, &covering, &distinct, name, len);
        if (fits->n == 0)
            st = no_model(res, all, err);
    }
    if (st == SIM_OK && fits->n > 1 && (covering == 0 || distinct > 0)) {
        struct line_vocabulary v;
        line_vocabulary(res, &v);
        if (choose_by_vocabulary(res, fits, covering > 0, &v, name, len) != 0)
            st = several_fit(res, fits, &v, err);
    }
    mem_free(all);
    mem_free(fits);
    return st;
}

/* An attribute value with XML's five special characters escaped. */
static void put_attr(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        default: fputc(iscntrl((unsigned char)*s) ? ' ' : *s, out);
        }
    }
}

/* A comment's text: no "--" inside (XML forbids it) and no '-' at its end. */
static void put_comment_word(FILE *out, const char *s)
{
    for (s += strspn(s, "-"); *s; s++)
        if (!(*s == '-' && (s[1] == '-' || s[1] == '\0')))
            fputc(iscntrl((unsigned char)*s) ? ' ' : *s, out);
}

/* A comment's text of several words, each as put_comment_word writes it (a flag without its
 * dashes, as the ignored flags are listed). */
static void put_comment_words(FILE *out, const char *text)
{
    for (const char *w = text; *w; w += strspn(w, " ")) {
        char word[256];
        size_t n = strcspn(w, " ");
        snprintf(word, sizeof word, "%.*s", (int)n, w);
        fputs(w == text ? "" : " ", out);
        put_comment_word(out, word);
        w += n;
    }
}

/* The comment an imported scenario opens with; an --out holding it may be replaced. */
#define IMPORT_MARK "Imported from a Megatron-LM launch line by stepsim import megatron."

static int write_scenario(FILE *out, const struct import_result *res, const char *name,
                          const char *model, const char *hardware)
{
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- " IMPORT_MARK, out);
    if (res->chosen_by[0]) {
        fputs("  Of the shipped models of its shape, the model is the one of its vocabulary: ",
              out);
        put_comment_words(out, res->chosen_by);
        fputc('.', out);
    }
    if (res->nignored) {
        fputs("  Flags it does not model (ignored):", out);
        for (int i = 0; i < res->nignored; i++) {
            fputs(i ? ", " : " ", out);
            put_comment_word(out, res->ignored[i]);
        }
        fputc('.', out);
    }
    fputs(" -->\n<scenario name=\"", out);
    put_attr(out, name);
    fputs("\">\n  <model ref=\"", out);
    put_attr(out, model);
    fputc('"', out);
    static const char *const model_keys[] = {"layers", "first-stage-layers", "last-stage-layers"};
    for (size_t k = 0; k < sizeof model_keys / sizeof model_keys[0]; k++) {
        const char *v = import_value(res, model_keys[k]);
        if (v) {
            fprintf(out, " %s=\"", model_keys[k]);
            put_attr(out, v);
            fputc('"', out);
        }
    }
    fputs("/>\n  <hardware ref=\"", out);
    put_attr(out, hardware);
    fputs("\"/>\n", out);
    for (size_t e = 0; e < sizeof layout / sizeof layout[0]; e++) {
        int any = 0;
        size_t nkeys = sizeof layout[e].keys / sizeof layout[e].keys[0];
        for (size_t k = 0; k < nkeys && layout[e].keys[k]; k++) {
            const char *v = import_value(res, layout[e].keys[k]);
            if (!v)
                continue;
            if (!any)
                fprintf(out, "  <%s", layout[e].element);
            fprintf(out, " %s=\"", layout[e].keys[k]);
            put_attr(out, v);
            fputc('"', out);
            any = 1;
        }
        if (any)
            fputs("/>\n", out);
    }
    fputs("</scenario>\n", out);
    return ferror(out) ? -1 : 0;
}

/* What write_scenario needs, as one output writer's argument. */
struct scenario_text {
    const struct import_result *res;
    const char *name, *model, *hardware;
};

static int scenario_writer(FILE *out, const void *user)
{
    const struct scenario_text *t = user;
    return write_scenario(out, t->res, t->name, t->model, t->hardware);
}

/* --out FILE.xml by the output rules (outfile.h): checked, written whole, then put in place. */
static enum sim_status write_out_file(const char *path, const struct scenario_text *text,
                                      struct sim_error *err)
{
    struct outset *os = outset_create();
    if (!os)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
    struct outfile *of = NULL;
    outset_replaces_own(os, IMPORT_MARK); /* run again onto its own earlier --out */
    enum sim_status st = outset_add(os, "--out", path, &of, err);
    if (st == SIM_OK)
        st = outfile_write(of, scenario_writer, text, err);
    if (st == SIM_OK)
        st = outset_commit(os, err);
    outset_destroy(os);
    return st;
}

/* The model the line trains -- --model, which the line's shape flags must agree with, or the
 * shipped one its shape finds, into `model` -- and what follows from its layers and experts:
 * the layers per virtual stage and the account-for split, the MoE flags a dense model drops. */
static enum sim_status resolve_model(const char *given, struct import_result *res, char *model,
                                     size_t len, struct sim_error *err)
{
    struct model *m = mem_calloc(1, sizeof *m);
    if (!m)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
    enum sim_status st = SIM_OK;
    int known = given && load_model(given, m) == 0;
    if (given && !known)
        st = unknown_model(given, err);
    if (st == SIM_OK && known)
        st = model_agrees(given, m, res, err);
    if (st == SIM_OK && given && res->layers > 0) { /* the rules compare it with the model's */
        char num[32];
        snprintf(num, sizeof num, "%d", res->layers);
        st = put_key(res, "layers", num, "num-layers", err);
    }
    if (st == SIM_OK && !given && (st = find_model(res, model, len, err)) == SIM_OK)
        known = load_model(model, m) == 0;
    if (st == SIM_OK && known && m->experts == 0)
        drop_moe_keys(res);
    if (st == SIM_OK && known && (m->experts == 0 || m->pattern[0]) &&
        (res->moe_every || res->moe_layers[0])) /* Megatron does not read it (moe_layer_differs) */
        add_ignored(res, "--moe-layer-freq");
    if (st == SIM_OK && res->layers <= 0 && res->layers_per_vstage > 0)
        st = known ? import_virtual_stages(res, m->layers, err)
                   : err_set(err, SIM_EINPUT, NULL, 0, "import: the model's layers are needed "
                             "for --num-layers-per-virtual-pipeline-stage");
    if (st == SIM_OK && (res->account_embedding || res->account_loss)) {
        if (known && m->pattern[0]) /* its layers are not Megatron's num_layers */
            add_ignored(res, "--account-for-*-in-pipeline-split (a hybrid model)");
        else if (known)
            st = account_split(res, m->layers, err);
        else
            st = err_set(err, SIM_EINPUT, NULL, 0, "import: the model's layers are needed for "
                                                   "--account-for-*-in-pipeline-split");
    }
    mem_free(m);
    return st;
}

/* The scenario as run and validate check it -- the model's and the hardware's rules on the
 * parallel layout (step_check) -- so that a line Megatron would stop at (tp not dividing the
 * heads, a world size tp x cp x pp does not divide, layers pp x vp does not divide, ...) is
 * refused here, naming the flags, before any file is written.  Each value's origin is the flag
 * that gave it, so the rule's message names the flags, not keys of a file not yet written. */
static enum sim_status check_like_run(struct scenario *scn, const char *model,
                                      const char *hardware, struct sim_error *err)
{
    if (!scn_given(scn, SCN_SEQ)) /* the rules' "needs seq" would name no flag */
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "import: the launch line lacks --seq-length: Megatron needs it "
                       "(arguments.py), and so does the step's cost");
    enum sim_status st = scn_set_option(scn, "--model", "model", model, err);
    if (st == SIM_OK)
        st = scn_set_option(scn, "--hardware", "hardware", hardware, err);
    if (st == SIM_OK)
        st = step_check(scn, err);
    if (st == SIM_EINPUT && !err->file[0]) { /* an error inside a model file keeps its line */
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        err_set(err, st, NULL, 0, "import: %s", msg);
    }
    return st;
}

/* The launch line as scenario keys in res: the flags read, --gpus, the sharding groups and the
 * model (its name or file into `model`); then every value through the scenario's parser, so
 * that the file holds only what run accepts. */
static enum sim_status import_line(const struct import_opts *o, struct import_result *res,
                                   char *model, size_t len, struct sim_error *err)
{
    enum sim_status st = import_megatron(o->words, o->nwords, res, err);
    snprintf(model, len, "%s", o->model ? o->model : "");
    if (st == SIM_OK && o->gpus)
        st = put_key(res, "gpus", o->gpus, "gpus", err);
    if (st == SIM_OK)
        st = import_shard_groups(res, err);
    if (st == SIM_OK)
        st = resolve_model(o->model, res, model, len, err);
    struct scenario scn;
    scn_defaults(&scn);
    for (int i = 0; i < res->nkeys && st == SIM_OK; i++) {
        char option[80];
        snprintf(option, sizeof option, "--%s", res->keys[i].flag);
        st = scn_set_option(&scn, option, res->keys[i].key, res->keys[i].value, err);
    }
    return st == SIM_OK ? check_like_run(&scn, model, o->hardware, err) : st;
}

/* The scenario file, to --out or else to `out`, naming the model and the hardware as a path
 * from where the file goes. */
static enum sim_status write_imported(const struct import_opts *o,
                                      const struct import_result *res, const char *model,
                                      FILE *out, struct sim_error *err)
{
    const char *name = o->name ? o->name : "imported from Megatron-LM";
    char model_ref[1024], hw_ref[1024];
    output_ref("models", model, model_ref, sizeof model_ref);
    output_ref("hardware", o->hardware, hw_ref, sizeof hw_ref);
    if (o->out) {
        struct scenario_text text = {res, name, model_ref, hw_ref};
        return write_out_file(o->out, &text, err);
    }
    if (write_scenario(out, res, name, model_ref, hw_ref) != 0 || fflush(out) != 0)
        return err_set(err, SIM_EFAIL, NULL, 0, "cannot write the scenario to stdout");
    return SIM_OK;
}

/* One line on errout naming the launch line's flags that are not modelled: as many whole flags
 * as fit, then how many more (the file's comment lists them all). */
static void warn_ignored(const struct import_result *res, FILE *errout)
{
    char line[2048];
    size_t used = (size_t)snprintf(line, sizeof line,
                                   "import: %d flag%s of the launch line %s not modelled "
                                   "(ignored):",
                                   res->nignored, res->nignored == 1 ? "" : "s",
                                   res->nignored == 1 ? "is" : "are");
    for (int i = 0; i < res->nignored; i++) {
        size_t need = strlen(res->ignored[i]) + 2;
        if (used + need + 32 >= sizeof line) {
            snprintf(line + used, sizeof line - used, ", ... (%d more: see the file's comment)",
                     res->nignored - i);
            break;
        }
        used += (size_t)snprintf(line + used, sizeof line - used, "%s%s", i ? ", " : " ",
                                 res->ignored[i]);
    }
    cli_error_line(errout, line);
}

int import_main(int argc, char **argv, FILE *out, FILE *errout)
{
    struct import_opts *o = mem_calloc(1, sizeof *o);
    struct import_result *res = mem_calloc(1, sizeof *res);
    if (!o || !res) {
        mem_free(o);
        mem_free(res);
        cli_error_line(errout, "out of memory");
        return 1;
    }
    int rc = parse_import(argc, argv, o, errout);
    if (rc != 0 || o->help) {
        if (o->help)
            fputs(import_help, out);
        mem_free(o);
        mem_free(res);
        return rc;
    }
    struct sim_error err;
    err_clear(&err);
    char model[256];
    enum sim_status st = import_line(o, res, model, sizeof model, &err);
    if (st == SIM_OK)
        st = write_imported(o, res, model, out, &err);
    if (st == SIM_OK && res->chosen_by[0]) {
        char chosen[768];
        snprintf(chosen, sizeof chosen, "import: model %s, of those of the line's shape, by its "
                 "vocabulary: %s", model, res->chosen_by);
        cli_error_line(errout, chosen);
    }
    if (st == SIM_OK && res->nignored > 0)
        warn_ignored(res, errout);
    rc = st == SIM_OK ? 0 : cli_fail(errout, &err);
    mem_free(o);
    mem_free(res);
    return rc;
}
