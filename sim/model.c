/* model: loading model descriptions and counting their parameters.
 *
 * One table maps every XML attribute to its field, kind and range, so each value is parsed and
 * range-checked in exactly one place (units_parse_int / units_parse_bool); the cross-field
 * rules then run once with the line of the element that holds the offending attribute.
 * Parameter counts are closed forms over the loaded shape (no per-layer storage): O(layers)
 * for totals because MoE and dense layers may interleave. */
#include "model.h"

#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <libxml/tree.h>

#include "embedded.h"
#include "units.h"
#include "xmlload.h"

enum attr_kind { AK_INT, AK_BOOL, AK_ACT, AK_NORM, AK_POS, AK_PARALLEL, AK_PATTERN, AK_RATIOS };

struct attr_spec {
    const char *elem; /* element holding the attribute */
    const char *name; /* attribute name */
    enum attr_kind kind;
    size_t offset; /* int or enum field in struct model (AK_PATTERN: the pattern's chars;
                      AK_RATIOS: csa_ratio, its count in csa_layers) */
    long min, max; /* AK_INT range */
};

/* Range caps keep every derived count far inside double's exact-integer range (2^53) and keep
 * int fields from overflowing; real models are orders of magnitude below them. */
#define MAX_WIDTH (1L << 22) /* hidden, ffn, ranks: 4M */
#define MAX_COUNT (1L << 16) /* layers, heads, experts, head dims */
#define F(f) offsetof(struct model, f)
static const struct attr_spec attrs[] = {
    {"transformer", "layers", AK_INT, F(layers), 1, MAX_COUNT},
    {"transformer", "hidden", AK_INT, F(hidden), 1, MAX_WIDTH},
    {"transformer", "ffn", AK_INT, F(ffn), 1, MAX_WIDTH},
    {"transformer", "heads", AK_INT, F(heads), 1, MAX_COUNT},
    {"transformer", "kv-heads", AK_INT, F(kv_heads), 1, MAX_COUNT},
    {"transformer", "head-dim", AK_INT, F(head_dim), 1, MAX_COUNT},
    {"transformer", "vocab", AK_INT, F(vocab), 1, 1L << 24},
    {"transformer", "max-seq", AK_INT, F(max_seq), 1, 1L << 30},
    {"transformer", "activation", AK_ACT, F(act), 0, 0},
    {"transformer", "norm", AK_NORM, F(norm), 0, 0},
    {"transformer", "position", AK_POS, F(pos), 0, 0},
    {"transformer", "tied-embeddings", AK_BOOL, F(tied_embeddings), 0, 0},
    {"transformer", "bias", AK_BOOL, F(bias), 0, 0},
    {"transformer", "attention-gate", AK_BOOL, F(attention_gate), 0, 0},
    {"transformer", "parallel-block", AK_PARALLEL, F(parallel_block), 0, 0},
    {"transformer", "mtp-layers", AK_INT, F(mtp_layers), 0, 16},
    {"transformer", "window", AK_INT, F(window), 1, 1L << 30},
    {"transformer", "global-every", AK_INT, F(global_every), 1, MAX_COUNT},
    {"transformer", "chunked-window", AK_BOOL, F(window_chunked), 0, 0},
    {"moe", "experts", AK_INT, F(experts), 1, MAX_COUNT},
    {"moe", "top-k", AK_INT, F(top_k), 1, MAX_COUNT},
    {"moe", "expert-ffn", AK_INT, F(expert_ffn), 1, MAX_WIDTH},
    {"moe", "shared-experts", AK_INT, F(shared_experts), 0, 1L << 10},
    {"moe", "shared-expert-ffn", AK_INT, F(shared_expert_ffn), 1, MAX_WIDTH},
    {"moe", "dense-layers", AK_INT, F(dense_layers), 0, MAX_COUNT},
    {"moe", "every", AK_INT, F(moe_every), 1, MAX_COUNT},
    {"moe", "route-nodes", AK_INT, F(route_nodes), 1, MAX_COUNT},
    {"moe", "expert-groups", AK_INT, F(expert_groups), 1, MAX_COUNT},
    {"moe", "latent-size", AK_INT, F(moe_latent), 1, MAX_WIDTH},
    {"mla", "q-lora-rank", AK_INT, F(q_lora_rank), 0, MAX_WIDTH},
    {"mla", "kv-lora-rank", AK_INT, F(kv_lora_rank), 1, MAX_WIDTH},
    {"mla", "qk-nope-dim", AK_INT, F(qk_nope_dim), 0, MAX_COUNT},
    {"mla", "qk-rope-dim", AK_INT, F(qk_rope_dim), 0, MAX_COUNT},
    {"mla", "v-head-dim", AK_INT, F(v_head_dim), 1, MAX_COUNT},
    {"dsa", "index-heads", AK_INT, F(dsa_index_heads), 1, MAX_COUNT},
    {"dsa", "index-dim", AK_INT, F(dsa_index_dim), 1, MAX_COUNT},
    {"dsa", "topk", AK_INT, F(dsa_topk), 1, 1L << 30},
    {"dsa", "topk-freq", AK_INT, F(dsa_topk_freq), 1, MAX_COUNT},
    {"dsa", "skip-offset", AK_INT, F(dsa_skip_offset), 0, MAX_COUNT},
    {"mla", "shared-kv", AK_BOOL, F(mla_shared_kv), 0, 0},
    {"mla", "o-groups", AK_INT, F(o_groups), 1, MAX_COUNT},
    {"mla", "o-lora-rank", AK_INT, F(o_lora_rank), 1, MAX_WIDTH},
    {"csa", "window", AK_INT, F(csa_window), 1, 1L << 30},
    {"csa", "ratios", AK_RATIOS, F(csa_ratio), 0, 1L << 15},
    {"csa", "index-heads", AK_INT, F(csa_index_heads), 1, MAX_COUNT},
    {"csa", "index-dim", AK_INT, F(csa_index_dim), 1, MAX_COUNT},
    {"csa", "topk", AK_INT, F(csa_topk), 1, 1L << 30},
    {"hyper-connections", "streams", AK_INT, F(hc_streams), 2, 16},
    {"hyper-connections", "sinkhorn-iterations", AK_INT, F(hc_sinkhorn), 1, 1000},
    {"hybrid", "pattern", AK_PATTERN, F(pattern), 1, MODEL_MAX_PATTERN},
    {"hybrid", "mamba-heads", AK_INT, F(mamba_heads), 1, MAX_COUNT},
    {"hybrid", "mamba-head-dim", AK_INT, F(mamba_head_dim), 1, MAX_COUNT},
    {"hybrid", "mamba-state", AK_INT, F(mamba_state), 1, MAX_COUNT},
    {"hybrid", "mamba-groups", AK_INT, F(mamba_groups), 1, MAX_COUNT},
    {"hybrid", "conv-width", AK_INT, F(mamba_conv), 1, 64},
    {"hybrid", "gdn-key-heads", AK_INT, F(gdn_key_heads), 1, MAX_COUNT},
    {"hybrid", "gdn-value-heads", AK_INT, F(gdn_value_heads), 1, MAX_COUNT},
    {"hybrid", "gdn-key-dim", AK_INT, F(gdn_key_dim), 1, MAX_COUNT},
    {"hybrid", "gdn-value-dim", AK_INT, F(gdn_value_dim), 1, MAX_COUNT},
    {"hybrid", "mtp-pattern", AK_PATTERN, F(mtp_pattern), 1, MODEL_MAX_MTP_PATTERN},
};
#undef F
#define N_ATTRS (sizeof attrs / sizeof attrs[0])

/* The elements of a model file, in the order of section_names. */
enum section {
    SEC_TRANSFORMER, SEC_MOE, SEC_MLA, SEC_HYBRID, SEC_DSA, SEC_CSA, SEC_HC, N_SECTIONS
};
static const char *const section_names[N_SECTIONS] = {"transformer", "moe", "mla", "hybrid",
                                                      "dsa",         "csa", "hyper-connections"};

/* What the attribute pass saw: which attributes were given and on which line. */
struct seen {
    int given[N_ATTRS];
    int line[N_ATTRS];
    int has[N_SECTIONS]; /* which elements the file has (enum section), and their lines */
    int at[N_SECTIONS];
};

static int attr_find(const char *elem, const char *name)
{
    for (size_t i = 0; i < N_ATTRS; i++)
        if (strcmp(attrs[i].elem, elem) == 0 && strcmp(attrs[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int *field_of(struct model *m, size_t i)
{
    return (int *)(void *)((char *)m + attrs[i].offset);
}

static int was_given(const struct seen *s, const char *elem, const char *name)
{
    int i = attr_find(elem, name);
    return i >= 0 && s->given[i];
}

/* Parse one enumerated value; the schema already restricts these, so a miss here means the
 * schema and this table disagree -- still reported as bad input, not asserted. */
static int parse_enum(enum attr_kind kind, const char *text, int *out)
{
    static const char *const acts[] = {"gelu", "swiglu", "squared-relu"};
    static const char *const norms[] = {"layernorm", "rmsnorm"};
    static const char *const poss[] = {"learned", "rope"};
    static const char *const parallels[] = {"none", "shared-norm", "two-norms"};
    const char *const *names = kind == AK_ACT        ? acts
                               : kind == AK_NORM     ? norms
                               : kind == AK_PARALLEL ? parallels
                                                     : poss;
    int n = kind == AK_ACT || kind == AK_PARALLEL ? 3 : 2;
    for (int i = 0; i < n; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

/* CSA's ratios: 0, 4 or 128, one per layer and MTP layer, separated by commas or white space,
 * into csa_ratio and their count into csa_layers. */
static int parse_ratios(struct model *m, const struct attr_spec *a, const char *value, char *why,
                        size_t whylen)
{
    const size_t cap = sizeof m->csa_ratio / sizeof m->csa_ratio[0];
    char item[32];
    size_t n = 0;
    for (const char *p = value; *p;) {
        size_t skip = strspn(p, ", \t\r\n"), len;
        p += skip;
        if (!*p)
            break;
        len = strcspn(p, ", \t\r\n");
        if (n == cap || len >= sizeof item) {
            snprintf(why, whylen, n == cap ? "more than %zu ratios" : "ratio %zu is too long",
                     n == cap ? cap : n + 1);
            return -1;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        long v;
        char sub[200];
        if (units_parse_int(item, a->min, a->max, &v, sub, sizeof sub) != 0) {
            snprintf(why, whylen, "ratio %zu: %s", n + 1, sub);
            return -1;
        }
        if (v != 0 && v != 4 && v != 128) { /* transformer_config.py at 9d46c924 */
            snprintf(why, whylen, "ratio %zu is %ld; Megatron-Core builds 0 (the window alone), "
                                  "4 (indexed) or 128", n + 1, v);
            return -1;
        }
        m->csa_ratio[n++] = (unsigned char)v;
        p += len;
    }
    if (n == 0) {
        snprintf(why, whylen, "no ratio given");
        return -1;
    }
    m->csa_layers = (int)n;
    return 0;
}

static enum sim_status parse_attr(struct model *m, struct seen *s, size_t i, const char *value,
                                  const char *path, int line, struct sim_error *err)
{
    char why[256];
    long iv;
    int v;
    const struct attr_spec *a = &attrs[i];
    switch (a->kind) {
    case AK_INT:
        if (units_parse_int(value, a->min, a->max, &iv, why, sizeof why) != 0)
            return err_set(err, SIM_EINPUT, path, line, "%s: %s", a->name, why);
        *field_of(m, i) = (int)iv;
        break;
    case AK_BOOL:
        if (units_parse_bool(value, &v, why, sizeof why) != 0)
            return err_set(err, SIM_EINPUT, path, line, "%s: %s", a->name, why);
        *field_of(m, i) = v;
        break;
    case AK_ACT:
    case AK_NORM:
    case AK_POS:
    case AK_PARALLEL:
        if (parse_enum(a->kind, value, &v) != 0)
            return err_set(err, SIM_EINPUT, path, line, "%s: unknown value '%s'", a->name, value);
        *field_of(m, i) = v;
        break;
    case AK_RATIOS:
        if (parse_ratios(m, a, value, why, sizeof why) != 0)
            return err_set(err, SIM_EINPUT, path, line, "%s: %s", a->name, why);
        break;
    case AK_PATTERN: { /* the schema restricts these too; checked again, not trusted */
        size_t n = strlen(value), bad = strspn(value, MODEL_PATTERN_LETTERS);
        if (n < (size_t)a->min || n > (size_t)a->max)
            return err_set(err, SIM_EINPUT, path, line, "%s: %zu layers, expected %ld to %ld",
                           a->name, n, a->min, a->max);
        if (bad < n)
            return err_set(err, SIM_EINPUT, path, line,
                           "%s: '%c' at layer %zu is not M, G, *, - or E", a->name, value[bad],
                           bad);
        memcpy((char *)m + a->offset, value, n + 1);
        break;
    }
    }
    s->given[i] = 1;
    s->line[i] = line;
    return SIM_OK;
}

static enum sim_status load_element(struct model *m, struct seen *s, xmlNodePtr el,
                                    const char *path, struct sim_error *err)
{
    const char *elem = (const char *)el->name;
    int line = (int)xml_line(el);
    for (int k = 0; k < N_SECTIONS; k++)
        if (strcmp(elem, section_names[k]) == 0) {
            s->has[k] = 1;
            s->at[k] = line;
        }
    for (xmlAttrPtr a = el->properties; a; a = a->next) {
        int i = attr_find(elem, (const char *)a->name);
        if (i < 0) /* the schema rejects these first */
            return err_set(err, SIM_EINPUT, path, (int)xml_line((const xmlNode *)a),
                           "<%s>: unknown attribute '%s'", elem, (const char *)a->name);
        xmlChar *value = xmlNodeListGetString(el->doc, a->children, 1);
        enum sim_status st = parse_attr(m, s, (size_t)i, value ? (const char *)value : "", path,
                                        (int)xml_line((const xmlNode *)a), err);
        xmlFree(value);
        if (st != SIM_OK)
            return st;
    }
    return SIM_OK;
}

static enum sim_status load_name(struct model *m, xmlNodePtr root, const char *path,
                                 struct sim_error *err)
{
    int line = (int)xml_line(root);
    xmlChar *name = xmlGetProp(root, (const xmlChar *)"name");
    const char *text = name ? (const char *)name : "";
    size_t n = strlen(text);
    enum sim_status st = SIM_OK;
    if (n == 0 || n >= sizeof m->name)
        st = err_set(err, SIM_EINPUT, path, line, "name: must be 1 to %zu characters",
                     sizeof m->name - 1);
    for (size_t i = 0; i < n && st == SIM_OK; i++)
        if (iscntrl((unsigned char)text[i]))
            st = err_set(err, SIM_EINPUT, path, line,
                         "name: contains a control character at offset %zu", i);
    if (st == SIM_OK)
        memcpy(m->name, text, n + 1);
    xmlFree(name);
    return st;
}

/* The shape attributes of one linear-time mixer (`letter` in the pattern): all of `required`
 * given when the pattern holds it, none of `names` when it does not. */
static enum sim_status check_mixer_attrs(const struct model *m, const struct seen *s,
                                         const char *path, char letter, const char *kind,
                                         const char *const *names, int required,
                                         struct sim_error *err)
{
    int present = strchr(m->pattern, letter) != NULL;
    for (int i = 0; names[i]; i++) {
        if (present && i < required && !was_given(s, "hybrid", names[i]))
            return err_set(err, SIM_EINPUT, path, s->at[SEC_HYBRID],
                           "the pattern has %s layers (%c): <hybrid> needs %s", kind, letter,
                           names[i]);
        if (!present && was_given(s, "hybrid", names[i]))
            return err_set(err, SIM_EINPUT, path, s->at[SEC_HYBRID],
                           "%s given but the pattern has no %s layer (%c)", names[i], kind,
                           letter);
    }
    return SIM_OK;
}

/* The linear-time mixers' shapes: each kind's attributes given exactly when the pattern holds
 * it, one kind per model (Megatron-Core could mix them; no published model does, and the
 * cost model's shared paths read one shape), defaults, and heads that share out evenly. */
static enum sim_status check_ssm_shapes(struct model *m, const struct seen *s, const char *path,
                                        struct sim_error *err)
{
    static const char *const mamba[] = {"mamba-heads", "mamba-head-dim", "mamba-state",
                                        "mamba-groups", NULL};
    static const char *const gdn[] = {"gdn-key-heads", "gdn-value-heads", "gdn-key-dim",
                                      "gdn-value-dim", NULL};
    int hl = s->at[SEC_HYBRID];
    enum sim_status st = check_mixer_attrs(m, s, path, 'M', "Mamba-2", mamba, 3, err);
    if (st == SIM_OK)
        st = check_mixer_attrs(m, s, path, 'G', "Gated DeltaNet", gdn, 4, err);
    if (st != SIM_OK)
        return st;
    if (strchr(m->pattern, 'M') && strchr(m->pattern, 'G'))
        return err_set(err, SIM_EINPUT, path, hl,
                       "pattern: Mamba-2 (M) and Gated DeltaNet (G) layers in one model are not "
                       "modelled");
    int ssm = strchr(m->pattern, 'M') || strchr(m->pattern, 'G');
    if (!ssm && was_given(s, "hybrid", "conv-width"))
        return err_set(err, SIM_EINPUT, path, hl,
                       "conv-width given but the pattern has no linear-time mixer (M or G)");
    if (!was_given(s, "hybrid", "conv-width"))
        m->mamba_conv = 4;
    if (strchr(m->pattern, 'M') && !was_given(s, "hybrid", "mamba-groups"))
        m->mamba_groups = 1;
    if (m->mamba_groups > 0 && m->mamba_heads % m->mamba_groups != 0)
        return err_set(err, SIM_EINPUT, path, hl,
                       "mamba-groups=%d does not divide mamba-heads=%d", m->mamba_groups,
                       m->mamba_heads);
    if (m->gdn_key_heads > 0 && m->gdn_value_heads % m->gdn_key_heads != 0)
        return err_set(err, SIM_EINPUT, path, hl,
                       "gdn-key-heads=%d does not divide gdn-value-heads=%d (each key head "
                       "serves as many value heads)",
                       m->gdn_key_heads, m->gdn_value_heads);
    return SIM_OK;
}

/* A hybrid model's rules: the pattern is the layer list, its 'E's are the MoE layers. */
static enum sim_status check_hybrid(struct model *m, const struct seen *s, const char *path,
                                    struct sim_error *err)
{
    int hl = s->at[SEC_HYBRID], n = (int)strlen(m->pattern);
    int has_moe_layer = strchr(m->pattern, 'E') != NULL;
    if (n != m->layers)
        return err_set(err, SIM_EINPUT, path, hl,
                       "pattern has %d layers but <transformer> layers=%d", n, m->layers);
    if (has_moe_layer && !s->has[SEC_MOE])
        return err_set(err, SIM_EINPUT, path, hl, "pattern has MoE layers (E) but no <moe>");
    if (s->has[SEC_MOE] && !has_moe_layer)
        return err_set(err, SIM_EINPUT, path, s->at[SEC_MOE],
                       "<moe> given but the hybrid pattern has no MoE layer (E)");
    if (was_given(s, "moe", "dense-layers") || was_given(s, "moe", "every"))
        return err_set(err, SIM_EINPUT, path, s->at[SEC_MOE],
                       "dense-layers / every: a hybrid model's pattern places its MoE layers");
    if (m->mtp_layers > 0 && !m->mtp_pattern[0])
        return err_set(err, SIM_EINPUT, path, s->at[SEC_TRANSFORMER],
                       "mtp-layers: a hybrid model's MTP module needs <hybrid mtp-pattern>");
    if (m->mtp_pattern[0] && m->mtp_layers == 0)
        return err_set(err, SIM_EINPUT, path, hl, "mtp-pattern given but mtp-layers is 0");
    for (const char *p = m->mtp_pattern; *p; p++)
        if (!strchr(m->pattern, *p))
            return err_set(err, SIM_EINPUT, path, hl,
                           "mtp-pattern: '%c' has no layer of its kind in the pattern to take "
                           "its shape from",
                           *p);
    if (m->parallel_block)
        return err_set(err, SIM_EINPUT, path, s->at[SEC_TRANSFORMER],
                       "parallel-block: a hybrid layer holds one block already");
    return check_ssm_shapes(m, s, path, err);
}

/* DeepSeek-V4's latent attention (struct model): one key-value head, the latent with its
 * rotary part, so the query's non-rotary part spans the latent and the value the whole of it;
 * a grouped output projection splits the heads evenly. */
static enum sim_status check_shared_kv(struct model *m, const struct seen *s, const char *path,
                                       struct sim_error *err)
{
    int ml = s->at[SEC_MLA], qk = m->qk_nope_dim + m->qk_rope_dim;
    int kv = m->kv_lora_rank + m->qk_rope_dim;
    if (was_given(s, "transformer", "kv-heads") && m->kv_heads != 1)
        return err_set(err, SIM_EINPUT, path, s->at[SEC_TRANSFORMER],
                       "kv-heads=%d: <mla shared-kv> has one key-value head", m->kv_heads);
    if (m->qk_nope_dim != m->kv_lora_rank || m->v_head_dim != kv)
        return err_set(err, SIM_EINPUT, path, ml,
                       "shared-kv: the keys and values are the latent itself, so qk-nope-dim "
                       "must equal kv-lora-rank=%d and v-head-dim kv-lora-rank + qk-rope-dim = %d",
                       m->kv_lora_rank, kv);
    if (was_given(s, "transformer", "head-dim") && m->head_dim != qk)
        return err_set(err, SIM_EINPUT, path, s->at[SEC_TRANSFORMER],
                       "head-dim=%d disagrees with <mla> qk-nope-dim + qk-rope-dim = %d",
                       m->head_dim, qk);
    m->kv_heads = 1;
    m->head_dim = qk;
    return SIM_OK;
}

/* The grouped low-rank output projection: both sizes or neither, whole groups of heads. */
static enum sim_status check_out_groups(const struct model *m, const struct seen *s,
                                        const char *path, struct sim_error *err)
{
    int groups = was_given(s, "mla", "o-groups"), rank = was_given(s, "mla", "o-lora-rank");
    if (groups != rank)
        return err_set(err, SIM_EINPUT, path, s->at[SEC_MLA],
                       "o-groups and o-lora-rank go together (the grouped output projection)");
    if (groups && ((long)m->heads * m->v_head_dim) % m->o_groups != 0)
        return err_set(err, SIM_EINPUT, path, s->at[SEC_MLA],
                       "o-groups=%d does not divide the heads' output, heads x v-head-dim = %ld",
                       m->o_groups, (long)m->heads * m->v_head_dim);
    return SIM_OK;
}

/* Compressed sparse attention: on DeepSeek-V4's shared-KV latent attention in a transformer
 * model, one ratio per layer and MTP layer (0, 4 or 128: parse_ratios), the indexer given
 * exactly when a layer of ratio 4 runs it, no other local window, no other sparse attention;
 * an MTP layer takes its shape from a decoder layer of its ratio (model_mtp_layer). */
static enum sim_status check_csa(struct model *m, const struct seen *s, const char *path,
                                 struct sim_error *err)
{
    int cl = s->at[SEC_CSA], n = m->layers + m->mtp_layers, indexed = 0;
    const char *why = !m->mla_shared_kv ? "needs <mla shared-kv=\"true\"> (DeepSeek-V4's "
                                          "attention)"
                      : s->has[SEC_DSA]      ? "with <dsa> is not modelled"
                      : s->has[SEC_HYBRID]   ? "in a hybrid model is not modelled"
                      : m->window > 0   ? "brings its own window: leave <transformer window> out"
                                        : NULL;
    if (why)
        return err_set(err, SIM_EINPUT, path, cl, "<csa>: compressed sparse attention %s", why);
    if (m->csa_layers != n)
        return err_set(err, SIM_EINPUT, path, cl,
                       "ratios: %d given, expected one per layer and MTP layer: %d",
                       m->csa_layers, n);
    for (int l = 0; l < n; l++) /* each 0, 4 or 128 (parse_ratios) */
        indexed |= m->csa_ratio[l] == 4;
    static const char *const index[] = {"index-heads", "index-dim", "topk"};
    for (int i = 0; i < 3; i++)
        if (was_given(s, "csa", index[i]) != indexed)
            return err_set(err, SIM_EINPUT, path, cl,
                           indexed ? "%s: a layer of ratio 4 runs the indexer, which needs it"
                                   : "%s given but no layer has ratio 4 (the indexed one)",
                           index[i]);
    for (int j = 0; j < m->mtp_layers; j++)
        if (model_mtp_layer(m, j) < 0)
            return err_set(err, SIM_EINPUT, path, cl,
                           "ratios: MTP layer %d has ratio %d, which no decoder layer of its "
                           "kind has to lend it a shape",
                           j + 1, m->csa_ratio[m->layers + j]);
    return SIM_OK;
}

/* Cross-field rules and defaults.  Each error cites the line of the element whose attribute
 * breaks the rule. */
/* The attention heads: query groups that divide the heads, and the head width -- latent
 * attention's Q / K width, or hidden / heads unless given. */
static enum sim_status check_heads(struct model *m, const struct seen *s, const char *path,
                                   struct sim_error *err)
{
    int tl = s->at[SEC_TRANSFORMER], ml = s->at[SEC_MLA];
    if (!was_given(s, "transformer", "kv-heads"))
        m->kv_heads = m->heads;
    if (m->kv_heads > m->heads)
        return err_set(err, SIM_EINPUT, path, tl, "kv-heads=%d exceeds heads=%d", m->kv_heads,
                       m->heads);
    if (m->heads % m->kv_heads != 0)
        return err_set(err, SIM_EINPUT, path, tl,
                       "kv-heads=%d does not divide heads=%d: query groups would be uneven",
                       m->kv_heads, m->heads);
    if (!s->has[SEC_MLA]) {
        if (!was_given(s, "transformer", "head-dim")) {
            if (m->hidden % m->heads != 0)
                return err_set(err, SIM_EINPUT, path, tl,
                               "heads=%d does not divide hidden=%d: give head-dim explicitly",
                               m->heads, m->hidden);
            m->head_dim = m->hidden / m->heads;
        }
        m->v_head_dim = m->head_dim;
        return SIM_OK;
    }
    int qk = m->qk_nope_dim + m->qk_rope_dim;
    if (qk < 1)
        return err_set(err, SIM_EINPUT, path, ml,
                       "qk-nope-dim=%d plus qk-rope-dim=%d must be at least 1", m->qk_nope_dim,
                       m->qk_rope_dim);
    if (m->mla_shared_kv)
        return check_shared_kv(m, s, path, err);
    if (m->kv_heads != m->heads)
        return err_set(err, SIM_EINPUT, path, tl,
                       "kv-heads=%d must equal heads=%d with <mla> (every head has its own "
                       "decompressed K and V)",
                       m->kv_heads, m->heads);
    if (was_given(s, "transformer", "head-dim") && m->head_dim != qk)
        return err_set(err, SIM_EINPUT, path, tl,
                       "head-dim=%d disagrees with <mla> qk-nope-dim + qk-rope-dim = %d",
                       m->head_dim, qk);
    m->head_dim = qk;
    return SIM_OK;
}

/* The experts: top-k among them, a MoE layer left, node-limited routing within top-k, the
 * expert and shared-expert widths (the dense ffn unless given), a latent below hidden. */
static enum sim_status check_moe(struct model *m, const struct seen *s, const char *path,
                                 struct sim_error *err)
{
    int el = s->at[SEC_MOE];
    if (m->top_k > m->experts)
        return err_set(err, SIM_EINPUT, path, el, "top-k=%d exceeds experts=%d", m->top_k,
                       m->experts);
    if (m->dense_layers >= m->layers)
        return err_set(err, SIM_EINPUT, path, el,
                       "dense-layers=%d leaves no MoE layer among layers=%d", m->dense_layers,
                       m->layers);
    if (!was_given(s, "moe", "every"))
        m->moe_every = 1;
    if (m->route_nodes > m->top_k)
        return err_set(err, SIM_EINPUT, path, el,
                       "route-nodes=%d exceeds top-k=%d (a token's experts lie in at most "
                       "top-k nodes anyway)",
                       m->route_nodes, m->top_k);
    if (m->expert_groups > 0 && (m->route_nodes == 0 || m->route_nodes > m->expert_groups ||
                                 m->experts % m->expert_groups != 0))
        return err_set(err, SIM_EINPUT, path, el,
                       "expert-groups=%d needs route-nodes (the groups a token uses) of at most "
                       "that many, and experts=%d in whole groups",
                       m->expert_groups, m->experts);
    if (!was_given(s, "moe", "expert-ffn"))
        m->expert_ffn = m->ffn;
    if (was_given(s, "moe", "shared-expert-ffn") && m->shared_experts == 0)
        return err_set(err, SIM_EINPUT, path, el,
                       "shared-expert-ffn=%d given but shared-experts is 0",
                       m->shared_expert_ffn);
    if (!was_given(s, "moe", "shared-expert-ffn"))
        m->shared_expert_ffn = m->shared_experts ? m->expert_ffn : 0;
    if (m->moe_latent >= m->hidden)
        return err_set(err, SIM_EINPUT, path, el,
                       "latent-size=%d is not below hidden=%d: no latent projection",
                       m->moe_latent, m->hidden);
    return SIM_OK;
}

/* DeepSeek Sparse Attention: on latent attention, global (no local window), in a transformer
 * model (not a hybrid pattern); an indexer head at least as wide as its rotary part. */
static enum sim_status check_dsa(struct model *m, const struct seen *s, const char *path,
                                 struct sim_error *err)
{
    int dl = s->at[SEC_DSA];
    const char *why = !s->has[SEC_MLA]       ? "needs <mla> (it runs latent attention absorbed)"
                      : m->window > 0   ? "with a local attention window is not modelled"
                      : s->has[SEC_HYBRID]   ? "in a hybrid model is not modelled"
                      : m->dsa_index_dim < m->qk_rope_dim
                          ? "index-dim is narrower than the rotary part it carries (qk-rope-dim)"
                          : NULL;
    if (why)
        return err_set(err, SIM_EINPUT, path, dl, "<dsa>: sparse attention %s", why);
    if (!was_given(s, "dsa", "topk-freq"))
        m->dsa_topk_freq = 1;
    return SIM_OK;
}

static enum sim_status check_model(struct model *m, const struct seen *s, const char *path,
                                   struct sim_error *err)
{
    enum sim_status st = check_heads(m, s, path, err);
    if (st != SIM_OK)
        return st;
    if (m->window == 0 && (was_given(s, "transformer", "global-every") ||
                           was_given(s, "transformer", "chunked-window")))
        return err_set(err, SIM_EINPUT, path, s->at[SEC_TRANSFORMER],
                       "global-every / chunked-window describe local attention: give window too");
    if (s->has[SEC_MOE] && (st = check_moe(m, s, path, err)) != SIM_OK)
        return st;
    if (s->has[SEC_DSA] && (st = check_dsa(m, s, path, err)) != SIM_OK)
        return st;
    if (s->has[SEC_MLA] && (st = check_out_groups(m, s, path, err)) != SIM_OK)
        return st;
    if (s->has[SEC_CSA] && (st = check_csa(m, s, path, err)) != SIM_OK)
        return st;
    if (s->has[SEC_HC] && s->has[SEC_HYBRID])
        return err_set(err, SIM_EINPUT, path, s->at[SEC_HC],
                       "<hyper-connections> in a hybrid model is not modelled");
    return s->has[SEC_HYBRID] ? check_hybrid(m, s, path, err) : SIM_OK;
}

enum sim_status model_load(struct model *m, const char *path, struct sim_error *err)
{
    struct model tmp;
    struct seen s;
    memset(&tmp, 0, sizeof tmp);
    memset(&s, 0, sizeof s);
    memset(m, 0, sizeof *m);

    xmlDocPtr doc = NULL;
    enum sim_status st = xml_load(path, "model", model_xsd, &doc, err);
    if (st != SIM_OK)
        return st;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    st = load_name(&tmp, root, path, err);
    for (xmlNodePtr el = xml_first_element(root); el && st == SIM_OK; el = xml_next_element(el))
        st = load_element(&tmp, &s, el, path, err);
    if (st == SIM_OK && !s.has[SEC_TRANSFORMER]) /* the schema requires it */
        st = err_set(err, SIM_EINPUT, path, (int)xml_line(root), "<transformer> is missing");
    if (st == SIM_OK)
        st = check_model(&tmp, &s, path, err);
    xmlFreeDoc(doc);
    if (st == SIM_OK)
        *m = tmp;
    return st;
}

int model_layer_is_moe(const struct model *m, int layer)
{
    if (m->pattern[0])
        return layer >= 0 && layer < m->layers && m->pattern[layer] == 'E';
    if (m->experts == 0 || layer < m->dense_layers || layer >= m->layers)
        return 0;
    /* Megatron's moe_layer_freq convention: the first layer after the dense ones is MoE. */
    return (layer - m->dense_layers) % m->moe_every == 0;
}

enum layer_mixer model_layer_mixer(const struct model *m, int layer)
{
    if (!m->pattern[0])
        return MIXER_ATTENTION;
    char c = layer >= 0 && layer < m->layers ? m->pattern[layer] : '-';
    return c == 'M' ? MIXER_MAMBA : c == 'G' ? MIXER_GDN : c == '*' ? MIXER_ATTENTION : MIXER_NONE;
}

int model_mixer_is_ssm(enum layer_mixer mixer)
{
    return mixer == MIXER_MAMBA || mixer == MIXER_GDN;
}

enum layer_mlp model_layer_mlp(const struct model *m, int layer)
{
    if (model_layer_is_moe(m, layer))
        return MLP_MOE;
    if (!m->pattern[0])
        return MLP_DENSE;
    return layer >= 0 && layer < m->layers && m->pattern[layer] == '-' ? MLP_DENSE : MLP_NONE;
}

int model_layer_blocks(const struct model *m)
{
    return m->pattern[0] || m->parallel_block == PARALLEL_SHARED_NORM ? 1 : 2;
}

static int pattern_count(const struct model *m, char letter)
{
    int n = 0;
    for (const char *p = m->pattern; *p; p++)
        n += *p == letter;
    return n;
}

int model_ssm_shards(const struct model *m, int tp, int cp)
{
    if (model_gdn_layers(m) > 0)
        return m->gdn_key_heads % tp == 0 && m->gdn_value_heads % tp == 0 &&
               (m->gdn_key_heads / tp) % cp == 0 && (m->gdn_value_heads / tp) % cp == 0;
    if (model_mamba_layers(m) == 0)
        return 1;
    if (m->mamba_groups % tp != 0)
        return 0;
    int heads = m->mamba_heads / tp, groups = m->mamba_groups / tp;
    return heads % cp == 0 && (groups < cp ? cp % groups : groups % cp) == 0;
}

int model_mamba_layers(const struct model *m)
{
    return pattern_count(m, 'M');
}

int model_gdn_layers(const struct model *m)
{
    return pattern_count(m, 'G');
}

/* ---- shapes and parameter counts ----------------------------------------------------------
 * All products are taken in double: hidden x ffn x experts overflows int. */

static double norm_params(const struct model *m, double width)
{
    return (m->norm == NORM_LAYERNORM ? 2.0 : 1.0) * width; /* scale (+ shift) */
}

static double mlp_matrices(const struct model *m)
{
    return m->act == ACT_SWIGLU ? 3.0 : 2.0; /* gate + up + down, or up + down */
}

/* MLA's KV up-projection W_kvb: K_nope and V per head from the latent; none with shared-kv. */
static double mla_kv_up(const struct model *m)
{
    if (m->kv_lora_rank == 0 || m->mla_shared_kv)
        return 0.0;
    return (double)m->kv_lora_rank * m->heads * ((double)m->qk_nope_dim + m->v_head_dim);
}

double model_weights_qkv(const struct model *m)
{
    double h = m->hidden, heads = m->heads;
    if (m->kv_lora_rank == 0)
        return h * model_q_width(m) + 2.0 * h * m->kv_heads * m->head_dim;
    /* MLA, DeepSeek-V2 paper (arXiv:2405.04434) sec. 2.1.2-2.1.3; with shared-kv no W_kvb
     * (DeepSeek-V4: linear_kv_proj h -> latent + rope is the key and value). */
    double q = m->q_lora_rank ? h * m->q_lora_rank + (double)m->q_lora_rank * heads * m->head_dim
                              : h * heads * m->head_dim;
    double kv_a = h * ((double)m->kv_lora_rank + m->qk_rope_dim);
    return q + kv_a + mla_kv_up(m);
}

double model_q_width(const struct model *m)
{
    return (m->attention_gate ? 2.0 : 1.0) * m->heads * m->head_dim;
}

/* Does layer `layer` attend over a local window of sequences of `seq` tokens? */
static int layer_is_local(const struct model *m, int layer, int seq)
{
    return m->window > 0 && m->window < seq &&
           !(m->global_every > 0 && (layer + 1) % m->global_every == 0);
}

int model_dsa_rule_computes(int layer, int freq, int offset)
{
    int number = layer + 1, first = offset > 1 ? offset : 1;
    int past = number - first > 0 ? number - first : 0;
    return freq <= 1 || past % freq == 0;
}

int model_dsa_computes_topk(const struct model *m, int layer)
{
    return m->dsa_topk > 0 && model_dsa_rule_computes(layer, m->dsa_topk_freq, m->dsa_skip_offset);
}

double model_dsa_pairs(const struct model *m, int seq)
{
    double s = seq, k = m->dsa_topk;
    return s <= k ? 0.5 * s * s : s * k - 0.5 * k * (k - 1.0);
}

double model_weights_dsa_indexer_proj(const struct model *m)
{
    if (m->dsa_topk <= 0)
        return 0.0;
    double h = m->hidden, heads = m->dsa_index_heads, dim = m->dsa_index_dim;
    double q_in = m->q_lora_rank > 0 ? m->q_lora_rank : h;
    return q_in * heads * dim + h * dim + h * heads;
}

double model_weights_dsa_indexer(const struct model *m)
{
    if (m->dsa_topk <= 0)
        return 0.0;
    return model_weights_dsa_indexer_proj(m) + 2.0 * m->dsa_index_dim; /* k_norm: LayerNorm */
}

int model_layer_kind(const struct model *m, int layer, int seq)
{
    if (m->csa_layers > 0) { /* by ratio: the window alone, indexed (4), all entries */
        int r = model_csa_ratio(m, layer);
        int kind = r == 0 ? MODEL_KIND_CSA_WINDOW : r == 4 ? MODEL_KIND_CSA_INDEXED
                                                           : MODEL_KIND_CSA_ALL;
        return kind + model_layer_is_moe(m, layer);
    }
    if (m->dsa_topk > 0 && !model_dsa_computes_topk(m, layer))
        return model_layer_is_moe(m, layer) ? MODEL_KIND_DSA_SHARED_MOE : MODEL_KIND_DSA_SHARED;
    if (!m->pattern[0])
        return model_layer_is_moe(m, layer) | layer_is_local(m, layer, seq) << 1;
    switch (m->pattern[layer]) {
    case 'M':
        return MODEL_KIND_MAMBA;
    case 'G':
        return MODEL_KIND_GDN;
    case '*':
        return layer_is_local(m, layer, seq) ? MODEL_KIND_ATTENTION_LOCAL : MODEL_KIND_ATTENTION;
    case 'E':
        return MODEL_KIND_MOE;
    default:
        return MODEL_KIND_MLP;
    }
}

double model_attention_pairs(const struct model *m, int layer, int seq, int causal)
{
    double s = seq, w = m->window;
    int local = layer_is_local(m, layer, seq);
    if (!local)
        return causal ? 0.5 * s * s : s * s;
    if (m->window_chunked) /* whole chunks of w tokens (the last one partial is rare) */
        return causal ? 0.5 * s * w : s * w;
    /* sliding: query i sees min(i + 1, w) keys; the mask-free count sees the window too */
    return causal ? s * w - 0.5 * w * (w - 1.0) : s * w;
}

double model_weights_mla_up(const struct model *m)
{
    if (m->kv_lora_rank == 0)
        return 0.0;
    double up = (double)m->q_lora_rank * m->heads * m->head_dim + mla_kv_up(m);
    /* DeepSeek-V4 runs its key-value projection inside the same checkpointed step as Q's
     * up-projection (deepseek_v4_hybrid_attention.py at 9d46c924, the mla_up_proj recompute) */
    if (m->mla_shared_kv)
        up += (double)m->hidden * ((double)m->kv_lora_rank + m->qk_rope_dim);
    return up;
}

double model_weights_attn_out(const struct model *m)
{
    return model_weights_o_group(m) + model_weights_o_proj(m);
}

/* DeepSeek-V4's wo_a (deepseek_v4_hybrid_attention.py, linear_o_group_proj): each group's
 * heads / o_groups x v_head_dim outputs to o_lora_rank, i.e. every head's output once. */
double model_weights_o_group(const struct model *m)
{
    return m->o_groups > 0 ? (double)m->heads * m->v_head_dim * m->o_lora_rank : 0.0;
}

double model_weights_o_proj(const struct model *m)
{
    double in = m->o_groups > 0 ? (double)m->o_groups * m->o_lora_rank
                                : (double)m->heads * m->v_head_dim;
    return in * m->hidden;
}

int model_csa_ratio(const struct model *m, int layer)
{
    return m->csa_layers > 0 && layer >= 0 && layer < m->csa_layers ? m->csa_ratio[layer] : 0;
}

int model_csa_indexed(const struct model *m, int layer)
{
    return model_csa_ratio(m, layer) == 4; /* csa.py: the indexer is built for ratio 4 */
}

/* The causal compressed entries summed over queries 0..s-1: query i sees floor((i + 1) / r)
 * of them, so the sum is that of floor(j / r) for j = 1..s -- r q (q - 1) / 2 + q (s - q r + 1)
 * with q = floor(s / r). */
static double entries_sum(double s, double r)
{
    double q = floor(s / r);
    return r * q * (q - 1.0) / 2.0 + q * (s - q * r + 1.0);
}

double model_csa_window_pairs(const struct model *m, int seq)
{
    double s = seq, w = m->csa_window;
    return s <= w ? s * (s + 1.0) / 2.0 : s * w - 0.5 * w * (w - 1.0);
}

double model_csa_index_pairs(const struct model *m, int seq)
{
    return m->csa_layers > 0 ? entries_sum(seq, 4.0) : 0.0;
}

double model_csa_compressed_pairs(const struct model *m, int layer, int seq)
{
    double r = model_csa_ratio(m, layer), s = seq;
    if (r < 2.0)
        return 0.0;
    if (!model_csa_indexed(m, layer))
        return entries_sum(s, r);
    /* each query's entries capped at topk: floor(j / r) < k while j < k r */
    double k = m->csa_topk, last = k * r - 1.0;
    return s <= last ? entries_sum(s, r) : entries_sum(last, r) + k * (s - last);
}

double model_csa_coff(int ratio)
{
    return ratio == 4 ? 2.0 : 1.0;
}

/* Compressor (csa.py): linear_wkv and linear_wgate, h -> coff x width each; its ape (ratio x
 * coff x width) and norm are parameters too (csa_params). */
double model_weights_csa_compressor(const struct model *m, int layer)
{
    int r = model_csa_ratio(m, layer); /* entries of the key-value width, v_head_dim */
    return r >= 2 ? 2.0 * m->hidden * model_csa_coff(r) * m->v_head_dim : 0.0;
}

/* The indexer of a ratio-4 layer (csa.py, Indexer): linear_wq_b from the query latent to
 * index heads x index dim, its own overlapping compressor of index-dim entries, and
 * linear_weights_proj h -> index heads. */
double model_weights_csa_indexer_proj(const struct model *m)
{
    double h = m->hidden, heads = m->csa_index_heads, dim = m->csa_index_dim;
    double q_in = m->q_lora_rank > 0 ? m->q_lora_rank : h;
    return q_in * heads * dim + 2.0 * h * 2.0 * dim + h * heads;
}

/* One hyper-connection module's mapping (hyper_connection.py): n streams of hidden in, n^2 +
 * 2n per-token weights out (pre, post, and the n x n mixing). */
double model_weights_hc(const struct model *m)
{
    double n = m->hc_streams;
    return m->hc_streams > 0 ? (n * n + 2.0 * n) * n * m->hidden : 0.0;
}

double model_weights_mlp(const struct model *m, int ffn)
{
    return mlp_matrices(m) * m->hidden * ffn;
}

int model_moe_width(const struct model *m)
{
    return m->moe_latent > 0 ? m->moe_latent : m->hidden;
}

/* Megatron-Core experts.py: FC1 of moe_latent_size x ffn (x 2 gated), FC2 back. */
double model_weights_expert(const struct model *m)
{
    return mlp_matrices(m) * model_moe_width(m) * m->expert_ffn;
}

/* Megatron-Core moe_layer.py: fc1_latent_proj h -> latent, fc2_latent_proj latent -> h. */
double model_weights_latent_proj(const struct model *m)
{
    return m->moe_latent > 0 ? 2.0 * m->hidden * m->moe_latent : 0.0;
}

int model_mtp_module_layers(const struct model *m)
{
    return m->mtp_pattern[0] ? (int)strlen(m->mtp_pattern) : 1;
}

int model_mtp_layer(const struct model *m, int j)
{
    if (m->csa_layers > 0) {
        /* CSA: a decoder layer of the MTP layer's ratio, MoE like the last (its shape; a
         * ratio-0 MTP layer attends over the window alone); -1 when none has it (check_csa) */
        int last = m->layers - 1, r = model_csa_ratio(m, m->layers + j);
        for (int l = last; l >= 0; l--)
            if (model_csa_ratio(m, l) == r &&
                model_layer_is_moe(m, l) == model_layer_is_moe(m, last))
                return l;
        return -1;
    }
    if (!m->mtp_pattern[0] && m->dsa_topk > 0) {
        /* DSA: Megatron-Core numbers an MTP module's layers from 1, so its layer computes its
         * top-k: a layer like the last that does (multi_token_prediction.py) */
        int last = m->layers - 1, l = last;
        while (l > 0 && !(model_dsa_computes_topk(m, l) &&
                          model_layer_is_moe(m, l) == model_layer_is_moe(m, last)))
            l--;
        return l;
    }
    if (!m->mtp_pattern[0])
        return m->layers - 1; /* DeepSeek-V3: a transformer layer like the last */
    const char *at = strchr(m->pattern, m->mtp_pattern[j]); /* present: check_hybrid */
    return at ? (int)(at - m->pattern) : m->layers - 1;
}

/* A Gated DeltaNet's query-and-key width (q and k each) and value width. */
static double gdn_qk(const struct model *m)
{
    return (double)m->gdn_key_heads * m->gdn_key_dim;
}

static double gdn_v(const struct model *m)
{
    return (double)m->gdn_value_heads * m->gdn_value_dim;
}

/* check_hybrid leaves the Gated DeltaNet's shape zero unless the pattern holds 'G', and 'M'
 * and 'G' never together: a set value head count names the model's kind. */
double model_ssm_inner(const struct model *m)
{
    return m->gdn_value_heads > 0 ? gdn_v(m) : (double)m->mamba_heads * m->mamba_head_dim;
}

double model_ssm_conv_channels(const struct model *m)
{
    if (m->gdn_value_heads > 0)
        return 2.0 * gdn_qk(m) + gdn_v(m); /* q, k, v */
    return model_ssm_inner(m) + 2.0 * m->mamba_groups * m->mamba_state;
}

double model_ssm_heads(const struct model *m)
{
    return m->gdn_value_heads > 0 ? m->gdn_value_heads : m->mamba_heads;
}

double model_ssm_in_width(const struct model *m)
{
    /* Mamba-2: z, x, B, C, dt; Gated DeltaNet: q, k, v, z, beta, alpha */
    return model_ssm_conv_channels(m) + model_ssm_inner(m) +
           (m->gdn_value_heads > 0 ? 2.0 : 1.0) * model_ssm_heads(m);
}

double model_weights_ssm_in(const struct model *m)
{
    return (double)m->hidden * model_ssm_in_width(m);
}

double model_weights_ssm_out(const struct model *m)
{
    return model_ssm_inner(m) * m->hidden;
}

/* A Mamba-2 mixer (Megatron-Core mamba_mixer.py): the projections (and their biases), the
 * conv1d's weights and biases, per head dt_bias, A_log and D, and the gated RMSNorm's scale. */
static double mamba_params(const struct model *m)
{
    double conv = model_ssm_conv_channels(m);
    double p = model_weights_ssm_in(m) + model_weights_ssm_out(m);
    if (m->bias)
        p += model_ssm_in_width(m) + m->hidden;
    return p + conv * (m->mamba_conv + 1.0) + 3.0 * m->mamba_heads + model_ssm_inner(m);
}

/* A Gated DeltaNet (Megatron-Core ssm/gated_delta_net/common.py, GatedDeltaNetBase at
 * d98e8a6): the projections (and their biases), the depthwise conv1d's weights (no bias, the
 * module's conv_bias default), per value head dt_bias and A_log, and the gated RMSNorm's
 * scale over one value head's width, shared by the heads. */
static double gdn_params(const struct model *m)
{
    double p = model_weights_ssm_in(m) + model_weights_ssm_out(m);
    if (m->bias)
        p += model_ssm_in_width(m) + m->hidden;
    return p + model_ssm_conv_channels(m) * m->mamba_conv + 2.0 * m->gdn_value_heads +
           norm_params(m, m->gdn_value_dim);
}

/* Attention block: projections, their biases and MLA's latent norms. */
static double attn_params(const struct model *m)
{
    double p = model_weights_qkv(m) + model_weights_attn_out(m);
    double heads = m->heads, h = m->hidden;
    if (m->kv_lora_rank == 0) {
        if (m->bias)
            p += model_q_width(m) + 2.0 * m->kv_heads * m->head_dim + h;
        return p;
    }
    if (m->q_lora_rank)
        p += norm_params(m, m->q_lora_rank);
    /* the KV latent's norm; shared-kv normalises the whole key-value entry (kv_layernorm) */
    p += norm_params(m, m->kv_lora_rank + (m->mla_shared_kv ? m->qk_rope_dim : 0));
    if (m->bias && m->mla_shared_kv) /* only linear_proj takes one (attention.py, 9d46c924) */
        p += h;
    else if (m->bias) {
        p += m->q_lora_rank ? m->q_lora_rank : 0;
        p += heads * m->head_dim + (double)m->kv_lora_rank + m->qk_rope_dim;
        p += heads * ((double)m->qk_nope_dim + m->v_head_dim) + h;
    }
    return p;
}

/* Compressed sparse attention's own parameters in layer `layer` (csa.py): the per-head
 * attention sink; with a compressor, its projections, its position bias (ape: ratio x coff x
 * width) and its norm; with the indexer, its projections and its compressor's position bias
 * and norm (index-dim wide). */
static double csa_params(const struct model *m, int layer)
{
    if (m->csa_layers == 0)
        return 0.0;
    int r = model_csa_ratio(m, layer);
    double width = m->v_head_dim, p = m->heads; /* the key-value entry's width */
    if (r >= 2)
        p += model_weights_csa_compressor(m, layer) + r * model_csa_coff(r) * width +
             norm_params(m, (int)width);
    if (model_csa_indexed(m, layer))
        p += model_weights_csa_indexer_proj(m) + 4.0 * 2.0 * m->csa_index_dim +
             norm_params(m, m->csa_index_dim);
    return p;
}

/* Hyper-connections around a layer's blocks: per module the mapping, its n^2 + 2n biases and
 * its three scales (alpha_pre, alpha_post, alpha_res: hyper_connection.py). */
static double hc_params(const struct model *m)
{
    double n = m->hc_streams;
    if (m->hc_streams == 0)
        return 0.0;
    return model_layer_blocks(m) * (model_weights_hc(m) + n * n + 2.0 * n + 3.0);
}

double model_params_16bit(const struct model *m, int layer)
{
    if (m->hc_streams == 0 && m->o_groups == 0 && m->csa_layers == 0)
        return 0.0; /* every other model: no such parameters (the planner's hot path) */
    double p = hc_params(m) + model_weights_o_group(m);
    int r = model_csa_ratio(m, layer);
    double width = m->v_head_dim; /* the key-value entry's (CSA runs on shared-kv) */
    if (m->csa_layers > 0 && model_layer_mixer(m, layer) == MIXER_ATTENTION) {
        p += m->heads; /* the sinks */
        if (r >= 2)
            p += r * model_csa_coff(r) * width;
        if (r == 4)
            p += 4.0 * 2.0 * m->csa_index_dim;
    }
    return p;
}

/* The learned contraction of the streams before the final norm (hyper_connection.py,
 * learned_output_contract: n weights per token from all n streams, a base and a scale). */
static double hc_head_params(const struct model *m)
{
    double n = m->hc_streams;
    return m->hc_streams > 0 ? n * n * m->hidden + n + 1.0 : 0.0;
}

/* One MLP (or expert) of inner size ffn, with biases when the model has them. */
static double mlp_params(const struct model *m, int ffn)
{
    double p = model_weights_mlp(m, ffn);
    if (m->bias)
        p += (m->act == ACT_SWIGLU ? 2.0 : 1.0) * ffn + m->hidden;
    return p;
}

/* MLP part of layer `layer` with `routed` routed experts counted (all, or top_k). */
static double ffn_part(const struct model *m, int layer, int routed)
{
    enum layer_mlp mlp = model_layer_mlp(m, layer);
    if (mlp == MLP_NONE)
        return 0.0;
    if (mlp == MLP_DENSE)
        return mlp_params(m, m->ffn);
    double router = (double)m->hidden * m->experts; /* gate logits, no bias */
    double expert = model_weights_expert(m);
    if (m->bias)
        expert += (m->act == ACT_SWIGLU ? 2.0 : 1.0) * m->expert_ffn + model_moe_width(m);
    return router + model_weights_latent_proj(m) + (double)routed * expert +
           (double)m->shared_experts * mlp_params(m, m->shared_expert_ffn);
}

/* Parameters of layer `layer` that every tensor-parallel rank holds whole, as Megatron-Core
 * builds them: the norms (replicated; with sequence parallelism their gradients are summed
 * over TP), the row-parallel output biases (RowParallelLinear keeps its bias whole), MLA's
 * down-projections and latent norms (multi_latent_attention.py: TELinear with parallel_mode
 * "duplicated"), the MoE router (router.py: a full hidden x experts weight on every rank) and
 * LatentMoE's projections (moe_layer.py). */
double model_params_tp_replicated(const struct model *m, int layer)
{
    double h = m->hidden;
    double p = model_layer_blocks(m) * norm_params(m, h);
    enum layer_mixer mixer = model_layer_mixer(m, layer);
    if (mixer != MIXER_NONE && m->bias)
        p += h; /* attention's output projection or the linear-time mixer's out_proj */
    if (mixer == MIXER_GDN) /* its gated norm's scale spans one head: every rank holds it */
        p += norm_params(m, m->gdn_value_dim);
    if (mixer == MIXER_ATTENTION && model_dsa_computes_topk(m, layer))
        p += model_weights_dsa_indexer(m); /* duplicated on every TP rank */
    /* DeepSeek-V4's compressors, indexer and hyper-connections run at TP 1 only (cm_rules.c):
     * counted whole */
    p += (mixer == MIXER_ATTENTION ? csa_params(m, layer) : 0.0) + hc_params(m);
    if (mixer == MIXER_ATTENTION && m->kv_lora_rank > 0) {
        p += h * ((double)m->kv_lora_rank + m->qk_rope_dim) +
             norm_params(m, m->kv_lora_rank + (m->mla_shared_kv ? m->qk_rope_dim : 0));
        if (m->q_lora_rank)
            p += h * m->q_lora_rank + norm_params(m, m->q_lora_rank);
    }
    enum layer_mlp mlp = model_layer_mlp(m, layer);
    if (mlp == MLP_DENSE && m->bias)
        p += h; /* FC2 */
    if (mlp == MLP_MOE) {
        p += h * m->experts + model_weights_latent_proj(m);
        if (m->bias)
            p += (double)m->shared_experts * h;
    }
    return p;
}

/* Token-mixer part of layer `layer`. */
static double mixer_part(const struct model *m, int layer)
{
    enum layer_mixer mixer = model_layer_mixer(m, layer);
    switch (mixer) {
    case MIXER_ATTENTION:
        return attn_params(m) + csa_params(m, layer) +
               (model_dsa_computes_topk(m, layer) ? model_weights_dsa_indexer(m) : 0.0);
    case MIXER_MAMBA: return mamba_params(m);
    case MIXER_GDN: return gdn_params(m);
    default: return 0.0;
    }
}

/* Layer `layer` with `routed` routed experts counted: its blocks' pre-norms, mixer and MLP. */
static double layer_params(const struct model *m, int layer, int routed)
{
    return model_layer_blocks(m) * norm_params(m, m->hidden) + mixer_part(m, layer) +
           ffn_part(m, layer, routed) + hc_params(m);
}

double model_params_layer(const struct model *m, int layer)
{
    return layer_params(m, layer, m->experts);
}

double model_params_embedding(const struct model *m)
{
    double p = (double)m->vocab * m->hidden;
    if (m->pos == POS_LEARNED)
        p += (double)m->max_seq * m->hidden;
    return p;
}

double model_params_head(const struct model *m)
{
    return m->tied_embeddings ? 0.0 : (double)m->vocab * m->hidden;
}

double model_params_final_norm(const struct model *m)
{
    return norm_params(m, m->hidden) + hc_head_params(m);
}

static double params_sum(const struct model *m, int active)
{
    double p = model_params_embedding(m) + model_params_final_norm(m) + model_params_head(m);
    for (int l = 0; l < m->layers; l++)
        p += layer_params(m, l, active ? m->top_k : m->experts);
    return p;
}

double model_params_total(const struct model *m)
{
    return params_sum(m, 0);
}

double model_params_mtp(const struct model *m)
{
    /* eh_proj 2h -> h (DeepSeek-V4: e_proj and h_proj, h -> h each), the three norms and,
     * with hyper-connections, the module's own contraction before its final norm */
    double h = m->hidden, module = 2.0 * h * h + 3.0 * norm_params(m, h) + hc_head_params(m);
    for (int j = 0; j < model_mtp_module_layers(m); j++)
        module += model_params_layer(m, model_mtp_layer(m, j));
    return m->mtp_layers * module;
}

double model_params_active(const struct model *m)
{
    return params_sum(m, 1);
}
