/* report_layers: the per-layer table of a modelled report.  One dense and one MoE layer, as
 * the first pipeline stage holding one costs it, split into the components the cost model adds
 * up for its forward (F) and backward (B) ops, per micro-batch and GPU: GEMMs, the attention
 * core, element-wise work, fp8 / nvfp4 quantization, the MoE router, and the layer's TP, CP and
 * EP communication before any overlap.  It says what one layer's time is made of, so a profile
 * of a real run can be held against it component by component. */
#include "report.h"

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
    for (int kind = 0; kind < 2; kind++) {
        struct report_layer_column col[REPORT_LAYER_COLUMNS];
        if (rep->layer_view[kind].layer < 0)
            continue;
        report_layer_columns(&rep->layer_view[kind], col);
        for (int i = 0; i < REPORT_LAYER_COLUMNS; i++)
            shown[i] |= col[i].fwd > 0 || col[i].bwd > 0;
    }
}

/* The columns of the report's layer of `kind` (0 dense, 1 MoE); 0 when it has none. */
static int kind_columns(const struct report *rep, int kind,
                        struct report_layer_column col[REPORT_LAYER_COLUMNS])
{
    if (rep->layer_view[kind].layer < 0)
        return 0;
    report_layer_columns(&rep->layer_view[kind], col);
    return 1;
}

void report_write_layers_text(FILE *out, const struct report *rep)
{
    static const char *const kinds[2] = {"dense", "MoE"};
    int shown[REPORT_LAYER_COLUMNS];
    report_layer_shown(rep, shown);
    fprintf(out, "\none layer, one micro-batch, one GPU (ms; communication before overlap)\n");
    fprintf(out, "%-21s", "");
    struct report_layer_column head[REPORT_LAYER_COLUMNS];
    report_layer_columns(&rep->layer_view[0], head);
    for (int i = 0; i < REPORT_LAYER_COLUMNS; i++)
        if (shown[i])
            fprintf(out, " %12s", head[i].header);
    fputc('\n', out);
    for (int kind = 0; kind < 2; kind++) {
        struct report_layer_column col[REPORT_LAYER_COLUMNS];
        if (!kind_columns(rep, kind, col))
            continue;
        char label[48];
        snprintf(label, sizeof label, "%s, layer %d", kinds[kind], rep->layer_view[kind].layer);
        for (int pass = 0; pass < 2; pass++) {
            fprintf(out, "%-20s%s", pass ? "" : label, pass ? "B" : "F");
            for (int i = 0; i < REPORT_LAYER_COLUMNS; i++)
                if (shown[i])
                    fprintf(out, " %12.3f", 1e3 * (pass ? col[i].bwd : col[i].fwd));
            fputc('\n', out);
        }
    }
    fprintf(out, "(layers counted from 0; B's GEMMs are the input and the weight gradients)\n");
}

void report_write_layers_json(FILE *out, const struct report *rep)
{
    static const char *const kinds[2] = {"dense", "moe"};
    fprintf(out, "  \"layers\": [");
    int first = 1;
    for (int kind = 0; kind < 2; kind++) {
        struct report_layer_column col[REPORT_LAYER_COLUMNS];
        if (!kind_columns(rep, kind, col))
            continue;
        fprintf(out, "%s\n    {\"kind\": \"%s\", \"layer\": %d, \"stage\": %d", first ? "" : ",",
                kinds[kind], rep->layer_view[kind].layer, rep->layer_view[kind].stage);
        for (int pass = 0; pass < 2; pass++) {
            fprintf(out, ", \"%s\": {", pass ? "backward" : "forward");
            for (int i = 0; i < REPORT_LAYER_COLUMNS; i++)
                fprintf(out, "%s\"%s\": %.9g", i ? ", " : "", col[i].key,
                        pass ? col[i].bwd : col[i].fwd);
            fputc('}', out);
        }
        fputc('}', out);
        first = 0;
    }
    fprintf(out, "%s],\n", first ? "" : "\n  ");
}
