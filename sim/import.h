/* import: a Megatron-LM / Megatron-Bridge launch line as a stepsim scenario
 * (`stepsim import megatron`).
 *
 * The launch line's words are read as Megatron-LM's argument parser reads them (--flag VALUE,
 * --flag=VALUE, switches; '_' and '-' alike) plus torchrun's --nnodes and --nproc-per-node (the
 * world size).  Each flag stepsim models becomes a scenario key (--tensor-model-parallel-size
 * -> tp, --num-layers-per-virtual-pipeline-stage -> vp = num-layers / (pp x that), ...); the
 * architecture flags (--num-layers, --hidden-size, --num-attention-heads, --num-query-groups,
 * --ffn-hidden-size, --num-experts, and where given the head, latent-attention, DSA indexer and
 * expert sizes and --moe-layer-freq) pick the shipped model with that shape, and a named
 * model must agree with them; among models of one shape the line's vocabulary chooses
 * (--tokenizer-type, --tokenizer-model, --vocab-size, --make-vocab-size-divisible-by and tp, as
 * Megatron pads the vocabulary); every other flag is listed as ignored.  Megatron's defaults are
 * kept where they differ from stepsim's: fp32 without --bf16 / --fp16 / --fp8-format, dropout
 * 0.1 unless both dropouts are set to 0.  The scenario names framework=megatron-core
 * (framework.h): the line is Megatron-Core's.  The command checks the scenario as validate does
 * (step_check) before it writes anything: a layout Megatron would refuse is refused.
 *
 * Limits: IMPORT_MAX_WORDS words; a modelled flag's value of at most 255 bytes (a longer value
 * of an ignored flag, a data blend or a prompt, is passed over); at most IMPORT_MAX_KEYS keys. */
#ifndef STEPSIM_IMPORT_H
#define STEPSIM_IMPORT_H

#include <stdio.h>

#include "error.h"
#include "model.h"

#define IMPORT_MAX_WORDS 1024
#define IMPORT_MAX_NAME 63 /* --name: a scenario name's most characters */
#define IMPORT_MAX_KEYS 48
#define IMPORT_MAX_IGNORED 256

/* What the launch line says: scenario keys and their values, and the shape of the model. */
struct import_result {
    int nkeys;
    struct {
        char key[32];
        char value[256]; /* a launch line's word is shorter (split_words' 255 bytes) */
        char flag[64]; /* the Megatron flag it came from, for messages */
    } keys[IMPORT_MAX_KEYS];
    /* Architecture (0 = not given). */
    int layers, hidden, ffn, heads, kv_heads, experts;
    int mamba_heads, mamba_head_dim, mamba_state, mamba_groups; /* --mamba-*; 0 = not given */
    int gdn_key_heads, gdn_value_heads, gdn_key_dim, gdn_value_dim; /* --linear-*-heads/-dim */
    int gdn_conv;       /* --linear-conv-kernel-dim */
    int attention_gate; /* --attention-output-gate */
    /* the layer's kind as the line gives it, compared with the model's only when given:
     * --swiglu, --squared-relu, --untie-embeddings-and-output-weights, --disable-bias-linear,
     * and --normalization / --position-embedding-type as 1 (LayerNorm, learned_absolute) or
     * 2 (RMSNorm, rope); 0 = not given */
    int swiglu, squared_relu, untied, no_bias, norm, position;
    /* --experimental-attention-variant dsa or dsv4_hybrid: the model's sparse attention,
     * DeepSeek Sparse Attention (<dsa>) or DeepSeek-V4's (<csa>, one key-value head) */
    enum { IMPORT_DENSE_ATTENTION, IMPORT_DSA, IMPORT_DSV4 } sparse_attention;
    int head_dim, top_k, expert_ffn, moe_latent, shared_expert_ffn; /* 0 = not given */
    /* latent attention: --multi-latent-attention (or a Bridge key of its sizes), and its
     * --q-lora-rank, --kv-lora-rank, --qk-head-dim, --qk-pos-emb-head-dim, --v-head-dim */
    int mla, q_lora_rank, kv_lora_rank, qk_head_dim, qk_rope_dim, v_head_dim;
    int dsa_heads, dsa_dim, dsa_topk, dsa_topk_freq; /* --dsa-indexer-*, under dsa */
    char pattern[MODEL_MAX_PATTERN + 1]; /* --hybrid-override-pattern, '|' dropped; "" = none */
    /* its '|' pipeline segments (0 = no pattern), and after Megatron-Core's MTP separator '/'
     * the pattern of one MTP depth ("" = none) and the depths */
    int pattern_segments;
    char mtp_pattern[MODEL_MAX_MTP_PATTERN + 1];
    int mtp_depths;
    /* --moe-layer-freq: a MoE layer every moe_every-th layer from the first, or moe_layers'
     * '0' (dense) or '1' (MoE) per layer; 0 and "" = not given */
    int moe_every;
    char moe_layers[MODEL_MAX_PATTERN + 1];
    /* --account-for-embedding-in-pipeline-split / --account-for-loss-...: the split counts the
     * embedding / the loss as a layer (the ends' layer counts need the model's layers: the
     * command sets them once the model is known) */
    int account_embedding, account_loss;
    /* --num-layers-per-virtual-pipeline-stage without --num-layers: vp follows from the
     * model's layers once the command knows the model (import_virtual_stages); 0 = none */
    long layers_per_vstage;
    /* the key-value heads are the query groups: --group-query-attention, or Bridge's
     * num_query_groups (TransformerConfig's field, which no switch guards) */
    int gqa;
    /* --num-distributed-optimizer-instances (copies of the sharded optimizer across data
     * parallelism; 0 = not given or not read) and --outer-dp-sharding-strategy optim: the shard
     * group (fsdp-group) follows once the command knows the GPUs (import_shard_groups) */
    long dp_instances;
    int outer_optim;
    /* the vocabulary the line implies, read only to choose among shipped models of one shape
     * (find_model): --vocab-size, --make-vocab-size-divisible-by (0 = not given),
     * --tokenizer-type and --tokenizer-model ("" = not given); the flags stay listed as
     * ignored unless they chose the model, and then chosen_by says how ("" = they did not) */
    long vocab_size, vocab_divisor;
    char tokenizer_type[32], tokenizer_model[128];
    char chosen_by[384];
    int nignored;
    char ignored[IMPORT_MAX_IGNORED][64]; /* flags stepsim does not model, as given */
};

/* Read the launch line: `words` are its arguments, each split further at blanks (so one quoted
 * string works), with quotes and line continuations removed.  SIM_EINPUT on a flag stepsim
 * models whose value is missing or not a number. */
enum sim_status import_megatron(const char *const *words, int nwords, struct import_result *out,
                                struct sim_error *err);
/* vp and the schedule from --num-layers-per-virtual-pipeline-stage over `layers` layers
 * (Megatron runs interleaved 1F1B with virtual stages, else 1F1B). */
enum sim_status import_virtual_stages(struct import_result *res, int layers,
                                      struct sim_error *err);
/* fsdp-group (and fsdp-outer-shard) from res->dp_instances and the layout's gpus / (tp x pp)
 * data-parallel ranks; SIM_EINPUT when the instances do not divide them, as Megatron asserts. */
enum sim_status import_shard_groups(struct import_result *res, struct sim_error *err);
/* The value the launch line gave `key`, or NULL. */
const char *import_value(const struct import_result *res, const char *key);

/* The command: argv[0] "stepsim", argv[1] "import".  Returns the exit status. */
int import_main(int argc, char **argv, FILE *out, FILE *errout);
/* its help, which opens with its synopsis (for `stepsim --help` too) */
extern const char import_help[];

#endif
