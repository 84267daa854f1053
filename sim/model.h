/* model: a transformer's architecture, loaded from models/<name>.xml (schema models/model.xsd).
 *
 * Dense decoder-only transformers and mixture-of-experts variants.  Everything here is shape,
 * not cost: FLOPs, bytes and times are derived in flops.c and the cost model.  Units: counts.
 * Invariant after model_load(): every field is in range and consistent (heads divisible by
 * kv_heads, head_dim * heads set, MoE fields zero for dense models). */
#ifndef STEPSIM_MODEL_H
#define STEPSIM_MODEL_H

#include "error.h"

enum model_act {
    ACT_GELU,        /* MLP: h -> ffn -> h, two matmuls */
    ACT_SWIGLU,      /* gated MLP: h -> 2*ffn (gate, up) -> h, three matmuls' worth */
    ACT_SQUARED_RELU /* MLP like GELU with relu(x)^2 (Nemotron-4) */
};

enum model_norm { NORM_LAYERNORM, NORM_RMSNORM };
enum model_pos { POS_LEARNED, POS_ROPE };

struct model {
    char name[64];
    int layers;      /* transformer layers */
    int hidden;      /* h: model width */
    int ffn;         /* dense MLP inner size (per expert: expert_ffn) */
    int heads;       /* attention (query) heads */
    int kv_heads;    /* key/value heads (GQA); == heads for MHA */
    int head_dim;    /* per-head size; hidden / heads unless given */
    int vocab;       /* V: vocabulary size */
    int max_seq;     /* context length the model was trained with (learned positions size) */
    enum model_act act;
    enum model_norm norm;
    enum model_pos pos;
    int tied_embeddings; /* LM head shares the input embedding matrix */
    int bias;            /* linear layers carry biases (GPT-2/3 style) */
    /* Mixture of experts (experts == 0: dense). */
    int experts;           /* routed experts per MoE layer */
    int top_k;             /* experts each token is routed to */
    int expert_ffn;        /* inner size of one routed expert */
    int shared_experts;    /* always-on experts per MoE layer (DeepSeek) */
    int shared_expert_ffn; /* inner size of one shared expert; expert_ffn if not given */
    int dense_layers;      /* leading layers that are dense, not MoE (DeepSeek: 3) */
    int moe_every;         /* after the leading dense layers, every k-th layer is MoE (1 = all) */
};

/* Load and validate `path`; errors carry file:line. */
enum sim_status model_load(struct model *m, const char *path, struct sim_error *err);

/* Is layer `layer` (0-based) a mixture-of-experts layer? */
int model_layer_is_moe(const struct model *m, int layer);

/* Parameters (counts, not bytes). */
double model_params_layer(const struct model *m, int layer); /* one transformer layer */
double model_params_embedding(const struct model *m);        /* token (+ learned pos) embedding */
double model_params_head(const struct model *m);             /* LM head; 0 when tied */
double model_params_total(const struct model *m);
/* Parameters touched per token (MoE: top_k + shared experts only). */
double model_params_active(const struct model *m);

#endif
