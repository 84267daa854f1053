/* columns: the shared result columns of sweep and plan CSVs (see columns.h). */
#include "columns.h"

#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "outfile.h"

#define GIB 1073741824.0

enum col_kind {
    K_STATUS,  /* the status word */
    K_NUM,     /* a double of struct col_row, as is */
    K_GIB,     /* a byte count of struct col_row, in GiB */
    K_RESERVE, /* hbm_B - hbm_usable_B, in GiB */
    K_FITS,    /* yes / no: memory_B <= hbm_usable_B and no rank out of host memory */
};

struct column {
    const char *name;
    enum col_kind kind;
    size_t offset;
    int modelled; /* a cost-model column */
    const char *doc;
};

#define ROW(f) offsetof(struct col_row, f)
static const struct column columns[] = {
    {"status", K_STATUS, 0, 0,
     "ok, oom (over the usable HBM, or offloading more than the host's memory), error (sweep), "
     "pruned (plan: not simulated, its bound could not change the list; memory_gib and fits "
     "empty where it was not built, and then it may not fit or may break a rule)"},
    {"step_time_s", K_NUM, ROW(step_time_s), 0, "first compute start to last optimizer end"},
    {"makespan_s", K_NUM, ROW(makespan_s), 0, "first compute start to last F/B/W end"},
    {"bubble_ratio", K_NUM, ROW(bubble_ratio), 0, "1 - sum of rank busy time / (pp x makespan)"},
    {"tokens_per_s", K_NUM, ROW(tokens_per_s), 0, "samples/s x seq (empty when seq is unknown)"},
    {"samples_per_s", K_NUM, ROW(samples_per_s), 0, "samples per step / step time"},
    {"tokens_per_s_per_gpu", K_NUM, ROW(tokens_per_s_per_gpu), 1, "tokens/s / gpus"},
    {"model_tflops_per_gpu", K_NUM, ROW(model_tflops_per_gpu), 1,
     "model FLOPs per step / step time / gpus, in TFLOP/s"},
    {"mfu", K_NUM, ROW(mfu), 1, "model FLOPs utilisation against the dtype's dense peak"},
    {"hfu", K_NUM, ROW(hfu), 1, "the same with recomputed work counted"},
    {"compute_s", K_NUM, ROW(brk.compute), 1,
     "time breakdown, mean over pipeline ranks, summing to step_time_s: F/B/W work"},
    {"recompute_s", K_NUM, ROW(brk.recompute), 1, "forward work repeated in the backward"},
    {"tp_s", K_NUM, ROW(brk.tp), 1, "exposed tensor-parallel communication"},
    {"cp_s", K_NUM, ROW(brk.cp), 1, "exposed context-parallel communication"},
    {"ep_s", K_NUM, ROW(brk.ep), 1, "exposed expert-parallel communication"},
    {"pp_s", K_NUM, ROW(brk.pp), 1, "exposed pipeline transfers"},
    {"bubble_s", K_NUM, ROW(brk.bubble), 1,
     "step_time_s less every other part: idle until the last op and after the optimizer"},
    {"dp_s", K_NUM, ROW(brk.dp), 1, "exposed data-parallel gradient reduction"},
    {"optimizer_s", K_NUM, ROW(brk.optimizer), 1,
     "optimizer step and exposed parameter all-gather"},
    {"host_s", K_NUM, ROW(brk.host), 1, "exposed activation offload over the host link"},
    {"launch_gaps_s", K_NUM, ROW(brk.launch), 1,
     "the kernel launch gaps inside compute_s and recompute_s (part of them, not summed again)"},
    {"memory_gib", K_GIB, ROW(memory_B), 1, "peak memory per GPU, largest over pipeline ranks"},
    {"hbm_usable_gib", K_GIB, ROW(hbm_usable_B), 1, "HBM per GPU less the reserve"},
    {"hbm_reserve_gib", K_RESERVE, 0, 1,
     "HBM the step cannot use: CUDA context, fragmentation (hw.hbm-reserve), NCCL buffers "
     "(hw.nccl-buffers per communicator), DeepEP's buffer, TP-overlap userbuffers"},
    {"fits", K_FITS, 0, 1,
     "yes when memory_gib <= hbm_usable_gib and what offload moves fits the host's memory; no "
     "for every oom row; empty where the memory was not derived"},
};
#undef ROW
#define NCOLUMNS (sizeof columns / sizeof columns[0])

static const char *const status_names[] = {"ok", "oom", "error", "pruned"};

const char *col_status_name(enum col_status status)
{
    return status <= COL_PRUNED ? status_names[status] : "?";
}

void col_row_init(struct col_row *row, enum col_status status)
{
    double *d[] = {&row->step_time_s,  &row->makespan_s,    &row->bubble_ratio,
                   &row->tokens_per_s, &row->samples_per_s, &row->tokens_per_s_per_gpu,
                   &row->model_tflops_per_gpu, &row->mfu,   &row->hfu,
                   &row->brk.compute,  &row->brk.recompute, &row->brk.tp,
                   &row->brk.cp,       &row->brk.ep,        &row->brk.pp,
                   &row->brk.bubble,   &row->brk.dp,        &row->brk.optimizer,
                   &row->brk.host,     &row->brk.launch,    &row->memory_B,
                   &row->hbm_B,
                   &row->hbm_usable_B};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        *d[i] = NAN;
    row->host_oom = 0;
    row->status = status;
}

void col_row_fill(struct col_row *row, const struct report *rep)
{
    col_row_init(row, COL_OK);
    row->step_time_s = rep->step_s;
    row->makespan_s = rep->makespan_s;
    row->bubble_ratio = rep->bubble_ratio;
    row->tokens_per_s = rep->tokens_per_s >= 0 ? rep->tokens_per_s : NAN; /* seq unknown */
    row->samples_per_s = rep->samples_per_s;
    if (!rep->modelled)
        return;
    row->tokens_per_s_per_gpu = rep->tokens_per_s_per_gpu;
    row->model_tflops_per_gpu = rep->model_tflops_per_gpu;
    row->mfu = rep->mfu;
    row->hfu = rep->hfu;
    row->brk = rep->brk;
    row->hbm_B = rep->hbm_bytes;
    row->hbm_usable_B = rep->hbm_usable_bytes;
    row->memory_B = 0;
    for (int r = 0; r < rep->pp; r++) {
        if (rep->mem[r].total > row->memory_B)
            row->memory_B = rep->mem[r].total;
        row->host_oom |= rep->mem[r].host_oom;
    }
    row->status = rep->oom ? COL_OOM : COL_OK;
}

void col_write_header(FILE *out, int modelled)
{
    for (size_t i = 0; i < NCOLUMNS; i++)
        if (modelled || !columns[i].modelled)
            fprintf(out, ",%s", columns[i].name);
}

static void write_number(FILE *out, double v)
{
    if (isnan(v))
        fputc(',', out);
    else
        fprintf(out, ",%.9g", v);
}

void col_write_row(FILE *out, const struct col_row *row, int modelled)
{
    for (size_t i = 0; i < NCOLUMNS; i++) {
        const struct column *c = &columns[i];
        if (c->modelled && !modelled)
            continue;
        const double *v = (const double *)(const void *)((const char *)row + c->offset);
        switch (c->kind) {
        case K_STATUS: fprintf(out, ",%s", col_status_name(row->status)); break;
        case K_NUM: write_number(out, *v); break;
        case K_GIB: write_number(out, *v / GIB); break;
        case K_RESERVE: write_number(out, (row->hbm_B - row->hbm_usable_B) / GIB); break;
        case K_FITS: /* out of memory says no even where the memory was not derived */
            if (row->status == COL_OOM)
                fputs(",no", out);
            else if (isnan(row->memory_B) || isnan(row->hbm_usable_B))
                fputc(',', out);
            else
                fputs(row->memory_B <= row->hbm_usable_B && !row->host_oom ? ",yes" : ",no", out);
            break;
        }
    }
}

void col_write_doc(FILE *out, int indent, int modelled)
{
    enum { NAME_WIDTH = 21, WIDTH = 100 }; /* the column limit of every --help line */
    for (size_t i = 0; i < NCOLUMNS; i++)
        if (modelled || !columns[i].modelled) {
            int col = fprintf(out, "%*s%-*s ", indent, "", NAME_WIDTH, columns[i].name);
            out_put_wrapped(out, columns[i].doc, col, indent + NAME_WIDTH + 1, WIDTH);
        }
}

void col_write_text(FILE *out, const char *s, int quote)
{
    quote |= strpbrk(s, ",\"\n\r") != NULL;
    if (quote)
        fputc('"', out);
    while (*s) {
        size_t n = utf8_char_len(s);
        if (n == 0)
            fputs(UTF8_REPLACEMENT, out);
        else if (*s == '"')
            fputs("\"\"", out);
        else if (n == 1 && iscntrl((unsigned char)*s))
            fputc(' ', out);
        else
            fwrite(s, 1, n, out);
        s += n ? n : 1;
    }
    if (quote)
        fputc('"', out);
}
