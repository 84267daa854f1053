/* report_layers: the per-layer table of a modelled report.  The first layer of each kind --
 * dense or MoE, attending globally or over a local window; a hybrid model's Mamba-2,
 * attention, MLP or MoE layer -- as the pipeline stage holding it costs it, split into the
 * components the cost model adds up for its forward (F) and backward (B) ops, per micro-batch
 * and GPU: GEMMs, the attention core (a Mamba layer's SSD scan), element-wise work, fp8 / nvfp4
 * quantization, the MoE router, and the layer's TP, CP and EP communication before any
 * overlap.  It says what one layer's time is made of, so a profile of a real run can be held
 * against it component by component. */
#include "report.h"

#include <string.h>

void report_layer_columns(const struct cm_layer_view *v,
                          struct report_layer_column col[REPORT_LAYER_COLUMNS])
{
    const struct report_layer_column all[REPORT_LAYER_COLUMNS] = {
        {"GEMMs", "gemm_s", v->gemm_fwd, v->gemm_bwd},
        {"attention", "attention_s", v->attn_fwd, v->attn_bwd},
        {"element-wise", "elementwise_s", v->elem_fwd, v->elem_bwd},
        {"quantize", "quantize_s", v->quant_fwd, v->quant_bwd},
        {"router", "router_s", v->router_fwd, v->router_bwd},
        {"TP comm", "tp_comm_s", v->tp_fwd, v->tp_bwd},
        {"CP comm", "cp_comm_s", v->cp_fwd, v->cp_bwd},
        {"EP comm", "ep_comm_s", v->ep_fwd, v->ep_bwd},
    };
    for (int i = 0; i < REPORT_LAYER_COLUMNS; i++)
        col[i] = all[i];
}

void report_layer_shown(const struct report *rep, int shown[REPORT_LAYER_COLUMNS])
{
    for (int i = 0; i < REPORT_LAYER_COLUMNS; i++)
        shown[i] = 0;
    for (int kind = 0; kind < CM_LAYER_VIEWS; kind++) {
        struct report_layer_column col[REPORT_LAYER_COLUMNS];
        if (rep->layer_view[kind].layer < 0)
            continue;
        report_layer_columns(&rep->layer_view[kind], col);
        for (int i = 0; i < REPORT_LAYER_COLUMNS; i++)
            shown[i] |= col[i].fwd > 0 || col[i].bwd > 0;
    }
}

/* Each kind's row name, JSON kind and JSON attention (model_layer_kind's numbering): no two
 * rows alike in the JSON that the text tells apart (README's JSON table lists every value). */
static const struct {
    const char *name, *json, *attention;
} kinds[CM_LAYER_VIEWS] = {
    {"dense", "dense", "global"},
    {"MoE", "moe", "global"},
    {"dense local", "dense", "local"},
    {"MoE local", "moe", "local"},
    [MODEL_KIND_MAMBA] = {"Mamba", "mamba", "none"},
    [MODEL_KIND_ATTENTION] = {"attention", "attention", "global"},
    [MODEL_KIND_ATTENTION_LOCAL] = {"attention local", "attention", "local"},
    [MODEL_KIND_MLP] = {"MLP", "mlp", "none"},
    [MODEL_KIND_MOE] = {"MoE", "moe", "none"},
    [MODEL_KIND_GDN] = {"GDN", "gdn", "none"},
    [MODEL_KIND_DSA_SHARED] = {"dense shared top-k", "dense", "shared-top-k"},
    [MODEL_KIND_DSA_SHARED_MOE] = {"MoE shared top-k", "moe", "shared-top-k"},
    [MODEL_KIND_CSA_WINDOW] = {"dense window", "dense", "window"},
    [MODEL_KIND_CSA_WINDOW_MOE] = {"MoE window", "moe", "window"},
    [MODEL_KIND_CSA_INDEXED] = {"dense CSA top-k", "dense", "compressed-top-k"},
    [MODEL_KIND_CSA_INDEXED_MOE] = {"MoE CSA top-k", "moe", "compressed-top-k"},
    [MODEL_KIND_CSA_ALL] = {"dense CSA all", "dense", "compressed"},
    [MODEL_KIND_CSA_ALL_MOE] = {"MoE CSA all", "moe", "compressed"},
};

const char *report_layer_kind_name(int kind)
{
    return kind >= 0 && kind < CM_LAYER_VIEWS ? kinds[kind].name : "?";
}

int report_has_local_layer(const struct report *rep)
{
    for (int kind = 0; kind < CM_LAYER_VIEWS; kind++)
        if (strcmp(kinds[kind].attention, "local") == 0 && rep->layer_view[kind].layer >= 0)
            return 1;
    return 0;
}

int report_has_mamba_layer(const struct report *rep)
{
    return rep->layer_view[MODEL_KIND_MAMBA].layer >= 0;
}

int report_has_gdn_layer(const struct report *rep)
{
    return rep->layer_view[MODEL_KIND_GDN].layer >= 0;
}

int report_layer_kinds(const struct report *rep, int order[CM_LAYER_VIEWS])
{
    int n = 0;
    for (int kind = 0; kind < CM_LAYER_VIEWS; kind++) {
        if (rep->layer_view[kind].layer < 0)
            continue;
        int i = n++;
        for (; i > 0 && rep->layer_view[order[i - 1]].layer > rep->layer_view[kind].layer; i--)
            order[i] = order[i - 1];
        order[i] = kind;
    }
    return n;
}

void report_write_layers_text(FILE *out, const struct report *rep)
{
    int shown[REPORT_LAYER_COLUMNS], order[CM_LAYER_VIEWS];
    report_layer_shown(rep, shown);
    int n = report_layer_kinds(rep, order);
    /* Row labels ("MoE local, layer 12"), and a label column wide enough for the longest. */
    char labels[CM_LAYER_VIEWS][48];
    int width = 20;
    for (int r = 0; r < n; r++) {
        int len = snprintf(labels[r], sizeof labels[r], "%s, layer %d",
                           report_layer_kind_name(order[r]), rep->layer_view[order[r]].layer);
        if (len + 1 > width)
            width = len + 1;
    }
    fprintf(out, "\none layer, one micro-batch, one GPU (ms; communication before overlap)\n");
    fprintf(out, "%-*s", width + 1, "");
    struct report_layer_column head[REPORT_LAYER_COLUMNS];
    report_layer_columns(&rep->layer_view[0], head);
    for (int i = 0; i < REPORT_LAYER_COLUMNS; i++)
        if (shown[i])
            fprintf(out, " %12s", head[i].header);
    fputc('\n', out);
    for (int r = 0; r < n; r++) {
        struct report_layer_column col[REPORT_LAYER_COLUMNS];
        report_layer_columns(&rep->layer_view[order[r]], col);
        for (int pass = 0; pass < 2; pass++) {
            fprintf(out, "%-*s%s", width, pass ? "" : labels[r], pass ? "B" : "F");
            for (int i = 0; i < REPORT_LAYER_COLUMNS; i++)
                if (shown[i])
                    fprintf(out, " %12.3f", 1e3 * (pass ? col[i].bwd : col[i].fwd));
            fputc('\n', out);
        }
    }
    fprintf(out,
            "(layers counted from 0; B's GEMMs are the input and the weight gradients%s%s%s)\n",
            report_has_local_layer(rep) ? "; local: the layer attends over a window" : "",
            report_has_mamba_layer(rep) ? "; Mamba: its attention column is the SSD scan" : "",
            report_has_gdn_layer(rep) ? "; GDN (Gated DeltaNet): its attention column is the "
                                        "chunked delta rule"
                                      : "");
}

void report_write_layers_json(FILE *out, const struct report *rep)
{
    int order[CM_LAYER_VIEWS];
    int n = report_layer_kinds(rep, order);
    fprintf(out, "  \"layers\": [");
    int first = 1;
    for (int r = 0; r < n; r++) {
        int kind = order[r];
        struct report_layer_column col[REPORT_LAYER_COLUMNS];
        report_layer_columns(&rep->layer_view[kind], col);
        fprintf(out,
                "%s\n    {\"kind\": \"%s\", \"attention\": \"%s\", \"layer\": %d, "
                "\"stage\": %d",
                first ? "" : ",", kinds[kind].json, kinds[kind].attention,
                rep->layer_view[kind].layer, rep->layer_view[kind].stage);
        for (int pass = 0; pass < 2; pass++) {
            fprintf(out, ", \"%s\": {", pass ? "backward" : "forward");
            for (int i = 0; i < REPORT_LAYER_COLUMNS; i++) {
                fprintf(out, "%s\"%s\": ", i ? ", " : "", col[i].key);
                report_json_seconds(out, pass ? col[i].bwd : col[i].fwd);
            }
            fputc('}', out);
        }
        fputc('}', out);
        first = 0;
    }
    fprintf(out, "%s],\n", first ? "" : "\n  ");
}
