/* plan_cli: `stepsim plan` -- its command line, the ranked table, the CSV and the HTML report
 * of a plan (the planner itself: plan.c). */
#include "plan.h"
#include "plan_space.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cliutil.h"
#include "outfile.h"
#include "report_html.h"
#include "step.h"
#include "units.h"


const char plan_usage[] =
    "usage: stepsim plan SCENARIO.xml --gpus N [--top K] [--out FILE.csv] [-j N]\n"
    "                    [--set KEY=VALUE]... [--schedules LIST] [--dispatchers LIST]\n"
    "                    [--hbm-reserve SIZE] [--exhaustive] [--fail-on-oom]\n"
    "                    [--report FILE.html]\n";

/* ---- output ------------------------------------------------------------------------------ */

#define GIB 1073741824.0

/* bytes in GiB for the table and its lines, into buf: one decimal, but "<0.1" for a size above
 * zero that would read "0.0" (a 20 MiB reserve, the HBM a large reserve leaves). */
static const char *gib_text(char *buf, size_t len, double bytes)
{
    if (bytes > 0 && bytes < 0.05 * GIB)
        snprintf(buf, len, "<0.1");
    else
        snprintf(buf, len, "%.1f", bytes / GIB);
    return buf;
}

/* --out's layout columns after dp: the scenario keys a config sets, by their names. */
static const enum scn_key csv_layout_keys[] = {
    SCN_GPUS, SCN_TP, SCN_PP, SCN_VP, SCN_CP, SCN_EP, SCN_ETP, SCN_MOE_DISPATCHER, SCN_MICRO_BATCH,
    SCN_MICROBATCHES, SCN_SP,
    SCN_CP_COMM_TYPE,
    SCN_FIRST_STAGE_LAYERS, SCN_LAST_STAGE_LAYERS, SCN_PIPELINE_LAYOUT, SCN_SCHEDULE, SCN_ZERO,
    SCN_RESHARD_AFTER_FORWARD, SCN_RECOMPUTE, SCN_RECOMPUTE_MODULES, SCN_OFFLOAD_OPTIMIZER,
    SCN_OFFLOAD_ACTIVATIONS, SCN_OFFLOAD_MODULES, SCN_VP_GROUP, SCN_FSDP, SCN_FSDP_GROUP,
    SCN_FSDP_OUTER_SHARD, SCN_GRAD_REDUCE_OP, SCN_RECOMPUTE_METHOD, SCN_RECOMPUTE_NUM_LAYERS,
    SCN_SPLIT_BACKWARD, SCN_HIERARCHICAL_CP,
};

/* Short names of the recompute modules, for the table. */
static void modules_short(int bits, char *buf, size_t len)
{
    /* in enum scn_recompute_module bit order */
    static const char *const names[] = {"attn", "mlp", "moe", "act", "ln", "mla", "shexp", "op"};
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]) && used < len; i++)
        if (bits & (1 << i))
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "", names[i]);
}

static void layout_text(const struct plan_entry *e, char *buf, size_t len)
{
    const struct plan_config *c = &e->cfg;
    char edge[32] = "", rc[64] = "", off[32] = "", zero[16], disp[16] = "";
    if (c->dispatcher) /* where the plan chose it */
        snprintf(disp, sizeof disp, " %s", scn_choice_name(SCN_MOE_DISPATCHER, c->dispatcher - 1));
    if (c->first_layers == c->last_layers && c->first_layers)
        snprintf(edge, sizeof edge, " ends=%d", c->first_layers);
    else if (c->first_layers)
        snprintf(edge, sizeof edge, " ends=%d/%d", c->first_layers, c->last_layers);
    if (c->dsa_freq > 1) /* a pipeline layout of whole DSA top-k groups */
        snprintf(edge, sizeof edge, " dsa-groups");
    if (c->recompute == RECOMPUTE_FULL)
        snprintf(rc, sizeof rc, " rc:full");
    else if (c->recompute == RECOMPUTE_SELECTIVE) {
        char m[48];
        modules_short(c->recompute_modules, m, sizeof m);
        snprintf(rc, sizeof rc, " rc:%s", m);
    }
    if (c->offload)
        snprintf(off, sizeof off, " off:%s%s%s", c->offload & PLAN_OFFLOAD_OPTIMIZER ? "opt" : "",
                 c->offload == (PLAN_OFFLOAD_OPTIMIZER | PLAN_OFFLOAD_ACTIVATIONS) ? "+" : "",
                 c->offload & PLAN_OFFLOAD_ACTIVATIONS ? "act" : "");
    snprintf(zero, sizeof zero, "zero%d%s", c->zero, c->keep_gathered ? "k" : "");
    snprintf(buf, len, "tp%d pp%d vp%d cp%d ep%d/%d%s dp%d mbs%d %s %s%s%s%s", c->tp, c->pp,
             c->vp, c->cp, c->ep, c->etp, disp, e->dp, c->micro_batch, c->schedule->name, zero, rc,
             off, edge);
}

#define LAYOUT_COLUMN 70 /* the layout column's width, wider when a listed layout needs it */

/* The plan's list: the top K, or when nothing fits the nearest. */
static const size_t *listed_configs(const struct plan_result *res, size_t *n)
{
    *n = res->ntop ? res->ntop : res->nnearest;
    return res->ntop ? res->top : res->nearest;
}

/* The layout column's width for the listed entries: 70, or the longest layout. */
static int layout_width(const struct plan_result *res)
{
    int w = LAYOUT_COLUMN;
    size_t n;
    const size_t *list = listed_configs(res, &n);
    for (size_t t = 0; t < n; t++) {
        char lay[200];
        layout_text(&res->entries[list[t]], lay, sizeof lay);
        int len = (int)strlen(lay);
        w = len > w ? len : w;
    }
    return w;
}

/* A config whose peak is this close to its usable HBM fits by less than the memory model's
 * error on measured runs (README, "Accuracy": memory MAE and worst row): flagged, not dropped. */
#define PLAN_TIGHT_SHARE 0.95

/* The headers' "top K by tokens/s" is not a plain sort: layouts within 1% are a tie, taken
 * simpler first (plan_rank), so a faster layout may come lower or fall past the K-th row. */
#define TIE_NOTE ", the simpler first within 1%"

static void write_entry_line(FILE *out, size_t rank, const struct plan_entry *e,
                             const struct col_row *r, int width)
{
    char lay[200], of[16];
    layout_text(e, lay, sizeof lay);
    if (e->hbm_bytes > 0)
        gib_text(of, sizeof of, e->hbm_bytes);
    else /* cm_usable_hbm: the reserve and buffers take it all */
        snprintf(of, sizeof of, "none");
    if (r)
        fprintf(out,
                "%-4zu %-*s %9.4f %11.0f %8.1f %6.2f%% %7.2f%c %7s %6.1f%% %5.1f%% %6.1f%%\n",
                rank, width, lay, r->step_time_s, r->tokens_per_s, r->tokens_per_s_per_gpu,
                100 * r->mfu, r->memory_B / GIB,
                r->memory_B > PLAN_TIGHT_SHARE * e->hbm_bytes ? '!' : ' ', of,
                100 * r->brk.bubble / r->step_time_s,
                100 * (r->brk.tp + r->brk.cp + r->brk.ep + r->brk.pp + r->brk.dp + r->brk.host) /
                    r->step_time_s,
                100 * r->brk.recompute / r->step_time_s);
    else
        fprintf(out, "%-4zu %-*s %9s %11s %8s %7s %8.2f %7s\n", rank, width, lay, "-", "-", "-",
                "-", e->mem_bytes / GIB, of);
}

/* A nearest config (nothing fits): its HBM as a list line, and what it offloads to the host
 * against the host's memory (host_cap; 0 = not given) when it offloads anything. */
static void write_nearest_line(FILE *out, size_t rank, const struct plan_entry *e, int width,
                               double host_cap)
{
    write_entry_line(out, rank, e, NULL, width);
    if (e->host_bytes <= 0)
        return;
    char host[16];
    fprintf(out, "%-4s %-*s host %s GiB", "", width, "",
            gib_text(host, sizeof host, e->host_bytes));
    if (host_cap > 0)
        fprintf(out, " of %.1f%s", host_cap / GIB, e->host_oom ? ": over the host's memory" : "");
    fputc('\n', out);
}

/* The reserve in GiB as gib_text, but with as many more decimals as it takes not to read as
 * the whole HBM where it is less (a 79.97 GiB reserve of 80: "79.97", not "80.0"). */
static const char *reserve_text(char *buf, size_t len, double reserve, double hbm)
{
    gib_text(buf, len, reserve);
    for (int decimals = 1; decimals < 6 && reserve < hbm; decimals++) {
        char whole[32];
        snprintf(whole, sizeof whole, "%.*f", decimals, hbm / GIB);
        if (strcmp(buf, whole) != 0)
            break;
        snprintf(buf, len, "%.*f", decimals + 1, reserve / GIB);
    }
    return buf;
}

/* The HBM line of the plan's outputs: the capacity and the reserve; where the hardware prices
 * NCCL's buffers per communicator, what is usable depends on the layout, as it does with
 * DeepEP's buffer and TP-overlap userbuffers (each row's `usable_column`). */
static const char *hbm_text(char *buf, size_t len, const struct plan_result *res,
                            const char *usable_column)
{
    char hbm[16], reserve[16], nccl[16], usable[16];
    gib_text(hbm, sizeof hbm, res->hbm_bytes);
    reserve_text(reserve, sizeof reserve, res->hbm_bytes - res->hbm_usable_bytes, res->hbm_bytes);
    gib_text(nccl, sizeof nccl, res->nccl_buffers_bytes);
    gib_text(usable, sizeof usable, res->hbm_usable_bytes);
    if (res->nccl_buffers_bytes > 0.0)
        snprintf(buf, len,
                 "HBM %s GiB per GPU less %s GiB reserved (CUDA context, fragmentation; "
                 "--hbm-reserve SIZE), %s GiB of NCCL buffers per parallel group of more "
                 "than one GPU (hw.nccl-buffers), with DeepEP's buffer and Transformer "
                 "Engine's TP-overlap userbuffers where they run: what is left for each layout "
                 "is %s",
                 hbm, reserve, nccl, usable_column);
    else
        snprintf(buf, len,
                 "HBM %s GiB per GPU less %s GiB reserved (CUDA context, NCCL buffers, "
                 "fragmentation; --hbm-reserve SIZE): %s GiB usable",
                 hbm, reserve, usable);
    size_t n = strlen(buf);
    if (res->host_mem_bytes > 0 && n < len)
        snprintf(buf + n, len - n, "; offload may fill %.1f GiB of host memory per GPU",
                 res->host_mem_bytes / GIB);
    else if (n < len) /* as run says it: a layout offloading terabytes is not refused */
        snprintf(buf + n, len - n,
                 "; the hardware file gives no host memory, so what offload moves there is "
                 "not checked (hw.host-memory)");
    return buf;
}

/* "s" after a count other than one: "1 layout", "2 layouts". */
static const char *plural_s(size_t n)
{
    return n == 1 ? "" : "s";
}

/* "N enumerated, ... ; T s wall": what the search did, for the table and the page.  Only a
 * built config's rules are known: the rest of a rule-valid layout's configs are counted, and
 * those of them pruned are said to be unchecked (--exhaustive builds them all, and its count
 * is the smaller by the ones that break a rule). */
static void config_counts(const struct plan_result *res, char *buf, size_t len)
{
    size_t unbuilt = 0;
    for (size_t i = 0; i < res->n; i++)
        unbuilt += res->entries[i].built == 0 && res->entries[i].state == PLAN_PRUNED;
    char unchecked[96] = "";
    if (unbuilt > 0)
        snprintf(unchecked, sizeof unchecked,
                 " (%zu of them not built: their rules and memory unchecked)", unbuilt);
    snprintf(buf, len,
             "%zu enumerated, %zu not found to break a rule (in %zu layout%s), %zu built "
             "(%zu schedule order%s), %zu over %s, %zu simulated, %zu pruned by the step-time "
             "bound%s; %.2f s wall",
             res->enumerated, res->valid, res->nlayouts, plural_s(res->nlayouts),
             res->built + res->nlayouts, res->orders, plural_s(res->orders), res->oom,
             res->host_mem_bytes > 0 ? "HBM or host memory" : "HBM", res->simulated, res->pruned,
             unchecked, res->wall_s);
}

/* A MoE model's dispatchers as planned, into buf: the ones tried, or the scenario's alone; ""
 * for a dense model. */
static const char *dispatchers_text(char *buf, size_t len, const struct scenario *base,
                                    const struct plan_result *res)
{
    buf[0] = '\0';
    if (!res->moe)
        return buf;
    if (res->ndispatchers == 0) {
        snprintf(buf, len, "%s, the scenario's%s",
                 scn_choice_name(SCN_MOE_DISPATCHER, base->moe_dispatcher),
                 base->origin[SCN_MOE_DISPATCHER].order == SCN_ORDER_SET
                     ? ""
                     : " (--dispatchers all also tries the others where experts are spread)");
        return buf;
    }
    size_t used = (size_t)snprintf(buf, len, "tried where experts are spread (ep > 1):");
    for (int i = 0; i < res->ndispatchers && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : " ",
                                 scn_choice_name(SCN_MOE_DISPATCHER, res->dispatchers[i] - 1));
    return buf;
}

/* The schedules planned, "1f1b, interleaved", into buf; one the framework does not run (an
 * inferred framework lets --schedules name any) says so, as run would refuse it under that
 * framework named. */
static const char *schedules_text(char *buf, size_t len, const struct plan_result *res)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; res->schedules[i] && used < len; i++) {
        const struct sched_type *t = res->schedules[i];
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", t->name);
        if (!fw_offers_schedule(res->framework, t) && used < len)
            used += (size_t)snprintf(buf + used, len - used, " (not %s's: --schedules)",
                                     res->framework->name);
    }
    return buf;
}

/* When nothing fits, what is short: "no layout fits in ..." names only what the configs lack.
 * A config not built was cut off by its floor in HBM, whatever it would offload; where the
 * host's memory is short of every built config, it alone is named. */
static const char *short_of_text(const struct plan_result *res)
{
    int fits_hbm = 0, fits_host = res->host_mem_bytes <= 0;
    for (size_t i = 0; i < res->n; i++) {
        const struct plan_entry *e = &res->entries[i];
        fits_hbm |= e->built == 1 && !(e->mem_bytes > e->hbm_bytes);
        fits_host |= e->built == 0 || (e->built == 1 && !e->host_oom);
    }
    if (!fits_hbm && !fits_host)
        return "its usable HBM or the host's memory"; /* neither, for every config */
    if (!fits_hbm)
        return "its usable HBM";
    if (!fits_host)
        return "the host's memory";
    return "its usable HBM and the host's memory"; /* each config lacks one or the other */
}

/* When nothing fits, what the list holds instead, into buf; "" when something fits. */
static const char *nothing_fits_text(char *buf, size_t len, const struct plan_result *res)
{
    int host = res->host_mem_bytes > 0;
    buf[0] = '\0';
    if (res->ntop == 0)
        snprintf(buf, len, "no layout fits in %s; the %zu nearest to fitting (%s)",
                 short_of_text(res), res->nnearest,
                 host ? "least HBM short plus host memory short, then least HBM" : "least HBM");
    return buf;
}

enum { NCSV_KEYS = sizeof csv_layout_keys / sizeof csv_layout_keys[0], KEY_TEXT = 2048 };
_Static_assert(NCSV_KEYS == 32, "config_key_values fills csv_layout_keys by position");

/* One config's knobs as `run --set` takes them back, in csv_layout_keys' order: each key's
 * value as plan_config_apply sets it, SCN_DEFAULT_VALUE where the config leaves the key unset
 * (an even split, no pipeline layout, ...). */
static void config_key_values(const struct plan_result *res, const struct plan_entry *e,
                              char (*v)[KEY_TEXT])
{
    static const char *const rc[] = {"none", "selective", "full"};
    const struct plan_config *c = &e->cfg;
    const char *dflt = SCN_DEFAULT_VALUE;
    for (int k = 0; k < NCSV_KEYS; k++)
        snprintf(v[k], KEY_TEXT, "%s", dflt);
    /* Megatron's world: tp x cp x pp x dp */
    snprintf(v[0], KEY_TEXT, "%d", e->dp * c->cp * c->tp * c->pp);
    snprintf(v[1], KEY_TEXT, "%d", c->tp);
    snprintf(v[2], KEY_TEXT, "%d", c->pp);
    snprintf(v[3], KEY_TEXT, "%d", c->vp);
    snprintf(v[4], KEY_TEXT, "%d", c->cp);
    snprintf(v[5], KEY_TEXT, "%d", c->ep);
    snprintf(v[6], KEY_TEXT, "%d", c->etp);
    if (c->dispatcher || res->base_moe_dispatcher[0])
        snprintf(v[7], KEY_TEXT, "%s",
                 c->dispatcher ? scn_choice_name(SCN_MOE_DISPATCHER, c->dispatcher - 1)
                               : res->base_moe_dispatcher);
    snprintf(v[8], KEY_TEXT, "%d", c->micro_batch);
    snprintf(v[9], KEY_TEXT, "%d", e->microbatches);
    snprintf(v[10], KEY_TEXT, "%s", plan_config_sp(res, c) ? "true" : "false");
    if (c->cp > 1 && res->cp_comm >= 0)
        snprintf(v[11], KEY_TEXT, "%s", scn_choice_name(SCN_CP_COMM_TYPE, res->cp_comm));
    if (c->first_layers > 0) {
        snprintf(v[12], KEY_TEXT, "%d", c->first_layers);
        snprintf(v[13], KEY_TEXT, "%d", c->last_layers);
    }
    if (plan_config_layout(c, v[14], KEY_TEXT) != 0 || !v[14][0])
        snprintf(v[14], KEY_TEXT, "%s", dflt);
    snprintf(v[15], KEY_TEXT, "%s", c->schedule->name);
    snprintf(v[16], KEY_TEXT, "%d", c->zero);
    if (c->zero == 3 && c->keep_gathered)
        snprintf(v[17], KEY_TEXT, "false");
    snprintf(v[18], KEY_TEXT, "%s", rc[c->recompute]);
    if (c->recompute == RECOMPUTE_SELECTIVE)
        scn_flag_names(SCN_RECOMPUTE_MODULES, c->recompute_modules, v[19], KEY_TEXT);
    int act = (c->offload & PLAN_OFFLOAD_ACTIVATIONS) != 0;
    int by_module = act && plan_offload_by_module(res->framework);
    snprintf(v[20], KEY_TEXT, "%d", (c->offload & PLAN_OFFLOAD_OPTIMIZER) != 0);
    snprintf(v[21], KEY_TEXT, "%d", act && !by_module);
    if (by_module)
        snprintf(v[22], KEY_TEXT, "all");
    else if (res->base_offload_modules)
        scn_flag_names(SCN_OFFLOAD_MODULES, res->base_offload_modules, v[22], KEY_TEXT);
    /* v[23..26]: what plan_config_apply unsets always (vp-group, the FSDP keys); then what it
     * keeps from the scenario for some configs only (grad-reduce-op, the full-recompute
     * method) */
    int full = c->recompute == RECOMPUTE_FULL;
    if (c->zero == 1 && res->base_grad_reduce_op[0])
        snprintf(v[27], KEY_TEXT, "%s", res->base_grad_reduce_op);
    if (full && res->base_recompute_method[0])
        snprintf(v[28], KEY_TEXT, "%s", res->base_recompute_method);
    if (full && res->base_recompute_num_layers[0])
        snprintf(v[29], KEY_TEXT, "%s", res->base_recompute_num_layers);
    /* the zero-bubble family and DualPipe split the backward themselves (the scenario's value
     * is dropped); hierarchical-cp as the planned cp-comm-type left it */
    if (!c->schedule->builds_w && res->base_split_backward[0])
        snprintf(v[30], KEY_TEXT, "%s", res->base_split_backward);
    if (res->base_hierarchical_cp[0])
        snprintf(v[31], KEY_TEXT, "%s", res->base_hierarchical_cp);
}

/* `run` reproduces a layout from the command below: what it takes back as given. */
struct plan_run_args {
    const char *path;        /* the scenario file, as given to plan */
    const char *const *sets; /* plan's --set values in order (--hbm-reserve as hw.hbm-reserve) */
    int nsets;
};

/* s as one shell word: bare when it holds only characters no shell treats specially, else in
 * single quotes (a quote inside as '\'') -- the line is pasted into a shell. */
static void put_shell_word(FILE *out, const char *s)
{
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                               "_./:=,+@%-";
    if (*s && strspn(s, safe) == strlen(s)) {
        fputs(s, out);
        return;
    }
    fputc('\'', out);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", out);
        else
            fputc(*s, out);
    fputc('\'', out);
}

/* Whether `run` needs --set KEY=value to hold the config's value where plan's scenario (base:
 * the file and plan's --set values) holds its own: a value it stores differently, or
 * "default" for a key the scenario gives. */
static int key_differs(const struct scenario *base, enum scn_key key, const char *value)
{
    if (strcmp(value, SCN_DEFAULT_VALUE) == 0)
        return scn_given(base, key);
    struct scenario *set = mem_calloc(1, sizeof *set);
    struct sim_error err;
    int differs = 1;
    if (set) {
        *set = *base;
        differs = scn_set_key(set, key, value, &err) != SIM_OK || !scn_key_same(base, set, key);
    }
    mem_free(set);
    return differs;
}

/* Whether the scenario file at `path`, without plan's --set values, gives `key` (1 also when
 * it cannot be read again: then `run` is told the key's default to be sure). */
static int file_gives(const char *path, enum scn_key key)
{
    struct scenario *scn = mem_calloc(1, sizeof *scn);
    struct sim_error err;
    int gives = !scn || scn_load_with_sets(scn, path, NULL, 0, &err) != SIM_OK ||
                scn_given(scn, key);
    mem_free(scn);
    return gives;
}

/* The scenario key a "KEY=VALUE" --set value gives; -1 for a hw.* knob (no layout changes
 * one). */
static int set_key(const char *set)
{
    char name[64];
    size_t klen = strcspn(set, "=");
    if (klen >= sizeof name)
        return -1;
    snprintf(name, sizeof name, "%.*s", (int)klen, set);
    return scn_key_find(name);
}

/* Is k one of --out's layout keys (config_key_values writes its value)? */
static int csv_layout_key(int k)
{
    for (int i = 0; i < NCSV_KEYS; i++)
        if ((int)csv_layout_keys[i] == k)
            return 1;
    return 0;
}

/* "run it: stepsim run SCENARIO --set ..." for entry e: plan's --set values, then the keys
 * whose values the config changes -- pasted, it gives the row's step time and memory.
 * microbatches is left to derive from the global batch, as plan_config_apply leaves it.  run
 * takes each key once, so a key of plan's --set values that the config changes is written
 * with the config's value alone (where the config's keys stand: the later, as it applied).
 * A --set value the config's scenario dropped (plan_config_dropped: deepep-sms beside an
 * all-to-all dispatcher, say) is left out -- run would refuse it -- and put back at its
 * default where the file gives the key too.  The scenario plan_config_apply built for the
 * config decides, not a second reading of which keys apply to which layout. */
static void write_run_line(FILE *out, const struct plan_run_args *ra,
                           const struct scenario *base, int gpus,
                           const struct plan_result *res, const struct plan_entry *e)
{
    unsigned char dropped[SCN_KEY_COUNT];
    struct sim_error err;
    char(*v)[KEY_TEXT] = mem_calloc(NCSV_KEYS, sizeof *v);
    if (!v || plan_config_dropped(base, res->framework, gpus, &e->cfg, dropped, &err) != SIM_OK) {
        mem_free(v);
        return;
    }
    config_key_values(res, e, v);
    snprintf(v[9], KEY_TEXT, "%s", SCN_DEFAULT_VALUE);
    int differs[SCN_KEY_COUNT] = {0};
    for (int k = 0; k < NCSV_KEYS; k++)
        differs[csv_layout_keys[k]] = key_differs(base, csv_layout_keys[k], v[k]);
    /* plan sets distributed-optimizer with zero (plan_config_apply); a file's
     * distributed-optimizer=true with zero unset runs stage 1, so stage 0 must be said -- zero
     * given later wins (derive_keys.c) */
    differs[SCN_ZERO] |= base->dist_opt != (e->cfg.zero >= 1);
    for (int k = 0; k < SCN_KEY_COUNT; k++) /* the layout keys' values say it themselves */
        dropped[k] = dropped[k] && !csv_layout_key(k);
    fputs("run it: stepsim run ", out);
    put_shell_word(out, ra->path);
    for (int i = 0; i < ra->nsets; i++) {
        int k = set_key(ra->sets[i]);
        if (k < 0 || (!differs[k] && !dropped[k])) {
            fputs(" --set ", out);
            put_shell_word(out, ra->sets[i]);
        }
    }
    char arg[KEY_TEXT + 64];
    for (int k = 0; k < NCSV_KEYS; k++)
        if (differs[csv_layout_keys[k]]) {
            snprintf(arg, sizeof arg, "%s=%s", scn_key_name(csv_layout_keys[k]), v[k]);
            fputs(" --set ", out);
            put_shell_word(out, arg);
        }
    for (int k = 0; k < SCN_KEY_COUNT; k++)
        if (dropped[k] && (base->origin[k].order != SCN_ORDER_SET ||
                           file_gives(ra->path, (enum scn_key)k)))
            fprintf(out, " --set %s=%s", scn_key_name((enum scn_key)k), SCN_DEFAULT_VALUE);
    fputc('\n', out);
    mem_free(v);
}

/* The plan's title and framework lines: what was planned, for how many GPUs, and which
 * framework, schedules and context parallelism the search ranged over.  Apart because these
 * say the question the table answers; names come through utf8_clean (user text). */
static void write_plan_title(FILE *out, const struct scenario *base, const struct plan_opts *o,
                             const struct plan_result *res)
{
    char names[512];
    schedules_text(names, sizeof names, res);
    char name[3 * sizeof base->name]; /* each invalid byte may become 3 */
    utf8_clean(name, sizeof name, base->name);
    /* The model and hardware as planned: the scenario's name need not say them, and --set
     * hardware=... does not rename it. */
    char model[3 * sizeof res->model], hw[3 * sizeof res->hardware];
    utf8_clean(model, sizeof model, res->model);
    utf8_clean(hw, sizeof hw, res->hardware);
    fprintf(out,
            "plan for %s (%s on %s): %d GPU%s, global batch %d x seq %d, top %d by tokens/s%s\n",
            name, model, hw, o->gpus, o->gpus == 1 ? "" : "s", base->global_batch, base->seq,
            o->top, TIE_NOTE);
    fprintf(out, "framework %s%s; schedules %s; context parallelism %s\n", res->framework->name,
            !res->framework_inferred          ? ""
            : res->framework->id == FW_ANY ? " (inferred: no one framework offers all the "
                                              "scenario uses)"
                                            : " (inferred from the scenario; --set "
                                              "framework=any widens it)",
            names,
            res->cp_comm < 0 ? "none" : scn_choice_name(SCN_CP_COMM_TYPE, res->cp_comm));
}

/* The settings every layout of the table shares: MoE dispatchers, keys fixed by --set, offloaded
 * modules and the HBM line.  Apart because each is printed only when it applies. */
static void write_plan_facts(FILE *out, const struct scenario *base,
                             const struct plan_result *res)
{
    char dispatchers[160];
    if (*dispatchers_text(dispatchers, sizeof dispatchers, base, res))
        fprintf(out, "MoE dispatcher %s\n", dispatchers);
    struct plan_fixed fixed = plan_fixed_of(base);
    char fixed_text[160];
    if (plan_fixed_text(&fixed, fixed_text, sizeof fixed_text) > 0)
        fprintf(out, "fixed by --set in every layout: %s\n", fixed_text);
    if (base->offload_modules) {
        char mods[160];
        scn_flag_names(SCN_OFFLOAD_MODULES, base->offload_modules, mods, sizeof mods);
        fprintf(out, "activations offloaded by module in every layout: offload-modules=%s (the "
                "scenario's)\n", mods);
    }
    char hbm[512];
    fprintf(out, "%s\n\n", hbm_text(hbm, sizeof hbm, res, "of_GiB"));
}

/* Under a list shorter than the header's top K: how many layouts fit, all listed ("only 1 of
 * the 1 rule-valid layouts fit; all 1 are listed" had read as if some were left out). */
static void write_all_listed(FILE *out, size_t fit, size_t valid)
{
    if (fit == 1 && valid > 1)
        fprintf(out, "only 1 of the %zu rule-valid layouts fits; it is listed\n", valid);
    else if (fit < valid)
        fprintf(out, "only %zu of the %zu rule-valid layouts fit; all %zu are listed\n", fit,
                valid, fit);
    else if (fit == 1)
        fputs("the one rule-valid layout fits; it is listed\n", out);
    else
        fprintf(out, "all %zu rule-valid layouts fit; all are listed\n", fit);
}

/* The table itself: the top layouts with the command that runs the first, or, when none fits,
 * the nearest misses.  Apart from the title and legend because only it depends on what fit. */
static void write_plan_rows(FILE *out, const struct scenario *base, const struct plan_opts *o,
                            const struct plan_result *res, const struct plan_run_args *ra)
{
    int width = layout_width(res);
    fprintf(out, "%-4s %-*s %9s %11s %8s %7s %8s %7s %7s %6s %7s\n", "#", width, "layout",
            "step_s", "tokens/s", "tok/s/GPU", "MFU", "mem_GiB", "of_GiB", "bubble", "comm",
            "recomp");
    for (size_t t = 0; t < res->ntop; t++) {
        const struct plan_entry *e = &res->entries[res->top[t]];
        write_entry_line(out, t + 1, e, &res->rows[e->row], width);
    }
    if (res->ntop > 0 && res->ntop < (size_t)o->top) /* the header said top K */
        write_all_listed(out, res->ntop, res->nlayouts);
    if (res->ntop > 0)
        write_run_line(out, ra, base, o->gpus, res, &res->entries[res->top[0]]);
    if (res->ntop == 0) {
        char none[256];
        fprintf(out, "%s:\n", nothing_fits_text(none, sizeof none, res));
        for (size_t t = 0; t < res->nnearest; t++)
            write_nearest_line(out, t + 1, &res->entries[res->nearest[t]], width,
                               res->host_mem_bytes);
    }
}

/* The legend of the table's columns and the counts of configs the search saw.  Apart because
 * it is fixed text plus one count line, the same whatever fit. */
static void write_plan_notes(FILE *out, const struct plan_result *res)
{
    fputs("\nbubble, comm (exposed TP+CP+EP+PP+DP and host offload) and recomp are shares of "
          "the step time; mem is the peak over pipeline ranks, of the HBM usable for the layout "
          "(less NCCL's buffers for its parallel groups; none where they take it all); zeroN "
          "is the ZeRO stage (k: parameters kept gathered), rc: recompute (selective modules: "
          "attn ln act mlp moe "
          "mla shexp; op: torchtitan's per-op policy), off: offload (opt: optimizer, act: "
          "activations, with megatron-core offload-modules=all); ends=N: N layers on the first "
          "and last stages (ends=F/L: F on the first, L on the last); dsa-groups: a pipeline "
          "layout keeping each shared DSA top-k's layers on one stage; each row is a layout's "
          "simplest config within 1% of its fastest, and of the layouts within 1% of the "
          "fastest one not yet listed the simplest comes next: a row may be up to 1% slower "
          "than one below it, or than a layout left out of the list (--top K lists more); "
          "mem!: within 5% of the usable HBM, no more than the "
          "memory model's error on measured runs (README, Accuracy) -- check it, or give "
          "--hbm-reserve more room\n",
          out);
    char counts[400];
    config_counts(res, counts, sizeof counts);
    fprintf(out, "configs: %s\n", counts);
}

static int write_table(FILE *out, const struct scenario *base, const struct plan_opts *o,
                       const struct plan_result *res, const struct plan_run_args *ra)
{
    write_plan_title(out, base, o, res);
    write_plan_facts(out, base, res);
    write_plan_rows(out, base, o, res, ra);
    write_plan_notes(out, res);
    return ferror(out) ? -1 : 0;
}

/* The CSV's header; with_layout: the page's, the text table's layout first (not in --out,
 * which scripts parse).  After the layout keys, the flex dispatchers' keys the scenario gives
 * (plan_flex_keys): a row re-run with plan's --set values must be told where its dispatcher
 * dropped them, and a plan not giving them keeps the header scripts parse. */
static void write_csv_header(FILE *out, const struct plan_result *res, int with_layout)
{
    fputs(with_layout ? "layout,dp" : "dp", out);
    for (size_t k = 0; k < sizeof csv_layout_keys / sizeof csv_layout_keys[0]; k++)
        fprintf(out, ",%s", scn_key_name(csv_layout_keys[k]));
    for (int k = 0; k < PLAN_NFLEX_KEYS; k++)
        if (res->base_flex[k][0])
            fprintf(out, ",%s", scn_key_name(plan_flex_keys[k]));
    col_write_header(out, 1);
    fputs(",bound_s,listed\n", out);
}

/* One config's row: dp, its knobs (config_key_values; then the flex keys the header names, at
 * 'default' where its dispatcher dropped them), the result columns, its bound and its place
 * in the plan's list (`place`, 1 first; 0: not listed, an empty field). */
static void write_csv_row(FILE *out, const struct plan_result *res, const struct plan_entry *e,
                          size_t place, int with_layout)
{
    if (with_layout) {
        char lay[200];
        layout_text(e, lay, sizeof lay);
        col_write_text(out, lay, 0);
        fputc(',', out);
    }
    char v[NCSV_KEYS][KEY_TEXT];
    config_key_values(res, e, v);
    fprintf(out, "%d", e->dp);
    for (int k = 0; k < NCSV_KEYS; k++) {
        fputc(',', out);
        col_write_text(out, v[k], 0);
    }
    for (int k = 0; k < PLAN_NFLEX_KEYS; k++)
        if (res->base_flex[k][0])
            fprintf(out, ",%s",
                    plan_config_drops_flex(&e->cfg) ? SCN_DEFAULT_VALUE : res->base_flex[k]);
    struct col_row row;
    if (e->state == PLAN_SIMULATED) {
        row = res->rows[e->row];
    } else {
        col_row_init(&row, e->state == PLAN_OOM ? COL_OOM : COL_PRUNED);
        row.memory_B = e->mem_bytes;
        row.hbm_B = res->hbm_bytes;
        /* unbuilt, its NCCL and library buffers are not known: nor is what it may use */
        row.hbm_usable_B = e->built ? e->hbm_bytes : NAN;
        row.host_oom = e->built == 1 && e->host_oom;
    }
    col_write_row(out, &row, 1);
    fprintf(out, ",%.9g,", simtime_to_s(e->bound));
    if (place)
        fprintf(out, "%zu", place);
    fputc('\n', out);
}


/* --out: every valid config (those that broke a rule left out) in enumeration order. */
static int write_csv(FILE *out, const void *user)
{
    const struct plan_result *res = user;
    size_t nlisted, *place = mem_calloc(res->n ? res->n : 1, sizeof *place);
    const size_t *list = listed_configs(res, &nlisted);
    if (!place)
        return -1;
    for (size_t t = 0; t < nlisted; t++)
        place[list[t]] = t + 1;
    write_csv_header(out, res, 0);
    for (size_t i = 0; i < res->n; i++)
        if (res->entries[i].built >= 0)
            write_csv_row(out, res, &res->entries[i], place[i], 0);
    mem_free(place);
    return ferror(out) ? -1 : 0;
}

/* Rows of --report's table: the page stays small and quick to write, whatever the space (the
 * listed configs and, unless --exhaustive, every simulated one fit in it; --out has all). */
#define PLAN_REPORT_ROWS 2000

/* The rows for --report's page, its first PLAN_REPORT_ROWS of: the listed configs in their
 * order (the top K; when nothing fits, the nearest), then the other simulated configs, the
 * pruned ones, those over HBM -- each group in enumeration order. */
static int write_csv_ranked(FILE *out, const void *user)
{
    const struct plan_result *res = user;
    unsigned char *listed = mem_calloc(res->n ? res->n : 1, 1);
    if (!listed)
        return -1;
    write_csv_header(out, res, 1);
    size_t nfirst, rows = 0;
    const size_t *first = listed_configs(res, &nfirst);
    for (size_t t = 0; t < nfirst && rows < PLAN_REPORT_ROWS; t++, rows++) {
        write_csv_row(out, res, &res->entries[first[t]], t + 1, 1);
        listed[first[t]] = 1;
    }
    static const enum plan_state order[] = {PLAN_SIMULATED, PLAN_PRUNED, PLAN_OOM};
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
        for (size_t i = 0; i < res->n && rows < PLAN_REPORT_ROWS; i++)
            if (!listed[i] && res->entries[i].built >= 0 && res->entries[i].state == order[k]) {
                write_csv_row(out, res, &res->entries[i], 0, 1);
                rows++;
            }
    mem_free(listed);
    return ferror(out) ? -1 : 0;
}

enum { SET_FACT_TEXT = 2048 };

/* The page's --set values as given, each followed by the listed places of the configs that
 * dropped it where it does not apply (plan_config_dropped: deepep-sms beside an all-to-all
 * dispatcher, say) -- the page says what the listed configs ran, as the run-it line does. */
static enum sim_status set_facts(char (*text)[SET_FACT_TEXT], const struct cli_sets *sets,
                                 const struct scenario *base, int gpus,
                                 const struct plan_result *res, struct sim_error *err)
{
    size_t nlisted;
    const size_t *list = listed_configs(res, &nlisted);
    size_t n = sets->n ? (size_t)sets->n : 1, *used = mem_calloc(n, sizeof *used);
    int *hits = mem_calloc(n, sizeof *hits);
    enum sim_status st = SIM_OK;
    if (!used || !hits)
        st = err_set(err, SIM_EFAIL, NULL, 0, "out of memory for the page's --set values");
    for (int i = 0; st == SIM_OK && i < sets->n; i++)
        used[i] = (size_t)snprintf(text[i], SET_FACT_TEXT, "%s", sets->v[i]);
    unsigned char dropped[SCN_KEY_COUNT];
    for (size_t t = 0; st == SIM_OK && t < nlisted; t++) {
        st = plan_config_dropped(base, res->framework, gpus, &res->entries[list[t]].cfg, dropped,
                                 err);
        for (int i = 0; st == SIM_OK && i < sets->n; i++) {
            int k = set_key(sets->v[i]);
            if (k < 0 || !dropped[k] || used[i] >= SET_FACT_TEXT)
                continue;
            used[i] += (size_t)snprintf(text[i] + used[i], SET_FACT_TEXT - used[i], "%s#%zu",
                                        hits[i]++ ? ", "
                                                  : " (dropped where it does not apply: listed ",
                                        t + 1);
        }
    }
    for (int i = 0; st == SIM_OK && i < sets->n; i++)
        if (hits[i] && used[i] < SET_FACT_TEXT)
            snprintf(text[i] + used[i], SET_FACT_TEXT - used[i], ")");
    mem_free(used);
    mem_free(hits);
    return st;
}

/* The texts the page's facts point into, filled before the facts are listed: one struct so
 * that they live as long as the page is written. */
struct page_texts {
    char budget[160], counts[400], hbm[512], names[512], fixed[160], none[256];
    char as_run[160], dispatchers[160];
};

/* The facts' texts that need only the plan's result: apart from page_facts, which lists them
 * and fills the rest, so that each fits a screen. */
static void fill_page_texts(struct page_texts *t, const struct scenario *base,
                            const struct plan_opts *o, const struct plan_result *res)
{
    snprintf(t->budget, sizeof t->budget,
             "%d GPU%s, global batch %d x seq %d, top %d by tokens/s%s", o->gpus,
             o->gpus == 1 ? "" : "s", base->global_batch, base->seq, o->top, TIE_NOTE);
    hbm_text(t->hbm, sizeof t->hbm, res, "hbm_usable_gib");
    config_counts(res, t->counts, sizeof t->counts);
    struct plan_fixed fix = plan_fixed_of(base);
    plan_fixed_text(&fix, t->fixed, sizeof t->fixed);
    snprintf(t->as_run, sizeof t->as_run, "%s on %s", res->model, res->hardware);
    dispatchers_text(t->dispatchers, sizeof t->dispatchers, base, res);
}

/* The facts above the table, in the page's order, into facts (room for 10 + sets->n); the
 * --set values only when set_text holds them (set_facts succeeded). Returns their count. */
static int page_facts(struct html_fact *facts, struct page_texts *t, const char *scenario_file,
                      const struct cli_sets *sets, char (*set_text)[SET_FACT_TEXT],
                      const struct plan_result *res)
{
    int n = 0;
    facts[n++] = (struct html_fact){"scenario file", scenario_file};
    facts[n++] = (struct html_fact){"as run", t->as_run};
    for (int i = 0; set_text && i < sets->n; i++)
        facts[n++] = (struct html_fact){"--set", set_text[i]};
    facts[n++] = (struct html_fact){"budget", t->budget};
    if (*nothing_fits_text(t->none, sizeof t->none, res))
        facts[n++] = (struct html_fact){"nothing fits", t->none};
    facts[n++] = (struct html_fact){"framework", res->framework->name};
    facts[n++] = (struct html_fact){"schedules", schedules_text(t->names, sizeof t->names, res)};
    facts[n++] = (struct html_fact){
        "context parallelism",
        res->cp_comm < 0 ? "none" : scn_choice_name(SCN_CP_COMM_TYPE, res->cp_comm)};
    if (t->fixed[0])
        facts[n++] = (struct html_fact){"fixed by --set", t->fixed};
    facts[n++] = (struct html_fact){"HBM", t->hbm};
    facts[n++] = (struct html_fact){"configs", t->counts};
    if (t->dispatchers[0]) /* a MoE model's */
        facts[n++] = (struct html_fact){"MoE dispatcher", t->dispatchers};
    return n;
}

/* What a row of the page's table is and where its columns are defined (HTML, not escaped). */
static const char plan_table_about[] =
    "One row per valid config: first the listed ones in the plan's order (the top K, each "
    "layout by its simplest config within 1% of its fastest, simpler first within 1%; when "
    "nothing fits, the configs nearest to fitting), then the other <em>ok</em> "
    "(simulated) ones, the <em>pruned</em> ones (not simulated: their lower bound on the "
    "step time, bound_s, showed they could not change the list; an empty memory is one "
    "not built, which may not fit or may break a rule) and the <em>oom</em> ones "
    "(over the usable HBM, not simulated) -- the first 2000 rows.  First come the rank "
    "(<code>listed</code>), the layout as the text table writes it and the headline "
    "results; then the key columns of <code>--out</code> that vary (those the same in "
    "every row are named above the table) and its other results, defined in "
    "<code>stepsim plan --help</code> and the README's result columns.";

/* --report FILE.html: the valid configs as a table, the listed ones first, the first
 * PLAN_REPORT_ROWS of them; above it what was planned -- the text table's header, the --set
 * values as given, and when nothing fits, that the list is the nearest. */
static enum sim_status plan_report(struct outfile *of, const char *scenario_file,
                                   const struct scenario *base, const struct plan_opts *o,
                                   const struct cli_sets *sets, const struct plan_result *res,
                                   int csv_given, struct sim_error *err)
{
    struct page_texts texts;
    fill_page_texts(&texts, base, o, res);
    long valid = 0;
    for (size_t i = 0; i < res->n; i++)
        valid += res->entries[i].built >= 0;
    struct html_fact facts[10 + CLI_MAX_SETS];
    char(*set_text)[SET_FACT_TEXT] = mem_calloc(sets->n ? (size_t)sets->n : 1, sizeof *set_text);
    if (!set_text)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory for the page's --set values");
    enum sim_status st = set_facts(set_text, sets, base, o->gpus, res, err);
    int n = page_facts(facts, &texts, scenario_file, sets, st == SIM_OK ? set_text : NULL, res);
    /* What a reviewer reads first: the rank, the layout and the headline results; then the key
     * columns, of which those the same in every row (most are "default") are folded into one
     * note above the table. */
    static const char *const first[] = {
        "listed", "layout", "step_time_s",          "tokens_per_s",   "memory_gib", "fits",
        "status", "mfu",    "tokens_per_s_per_gpu", "hbm_usable_gib", NULL};
    const char *fold[1 + NCSV_KEYS + PLAN_NFLEX_KEYS + 1] = {"dp"};
    for (int k = 0; k < NCSV_KEYS; k++)
        fold[1 + k] = scn_key_name(csv_layout_keys[k]);
    for (int k = 0; k < PLAN_NFLEX_KEYS; k++)
        fold[1 + NCSV_KEYS + k] = scn_key_name(plan_flex_keys[k]);
    static const char *const nowrap[] = {"layout", NULL};
    const struct html_columns columns = {first, fold, nowrap};
    struct report_html_table page = {"plan",           base->name, facts,    n,
                                     write_csv_ranked, res,        NULL,     0,
                                     plan_table_about, valid,      &columns, csv_given};
    if (st == SIM_OK)
        st = outfile_write(of, report_html_table_fn, &page, err);
    mem_free(set_text);
    return st;
}

/* ---- command line ------------------------------------------------------------------------ */

static int usage_error(FILE *errout, const char *what, const char *value)
{
    return cli_bad_usage(errout, "stepsim plan --help", "plan: %s%s%s%s", what, value ? " '" : "",
                         value ? value : "", value ? "'" : "");
}

/* A count of plan's options (--gpus, --top): digits alone.  units_parse_int reads XML
 * attributes and takes a sign and blanks; "--gpus +8" reads as a typo for an offset. */
static int parse_int_opt(const char *v, long min, long max, int *out)
{
    long x;
    char why[128];
    if (!isdigit((unsigned char)v[0]) || units_parse_int(v, min, max, &x, why, sizeof why) != 0)
        return -1;
    *out = (int)x;
    return 0;
}

/* Does the comma-separated list hold an empty item ("a,", ",a", "a,,b")?  strtok_r would
 * skip it, and a stray comma may be a name left out. */
static int empty_item(const char *v)
{
    size_t n = strlen(v);
    return n > 0 && (v[0] == ',' || v[n - 1] == ',' || strstr(v, ",,"));
}

/* --schedules a,b,c: names of the schedule registry, each once. */
static int parse_schedules(const char *v, const struct sched_type **out, FILE *errout)
{
    char list[256], *save = NULL;
    int n = 0;
    if (strlen(v) >= sizeof list)
        return usage_error(errout, "--schedules: list too long", NULL);
    if (empty_item(v))
        return usage_error(errout, "--schedules: an empty name in the list", v);
    snprintf(list, sizeof list, "%s", v);
    for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        const struct sched_type *t = sched_find(w);
        if (!t)
            return cli_bad_usage(errout, "stepsim plan --help",
                                 "plan: --schedules: unknown schedule '%s' (known: %s)", w,
                                 sched_names());
        for (int i = 0; i < n; i++)
            if (out[i] == t)
                return usage_error(errout, "--schedules: schedule named twice:", w);
        if (n == FW_MAX_SCHEDULES - 1)
            return usage_error(errout, "--schedules: too many schedules", NULL);
        out[n++] = t;
    }
    if (n == 0)
        return usage_error(errout, "--schedules needs a list of schedules", NULL);
    out[n] = NULL;
    return 0;
}

/* --dispatchers all | a,b: moe-dispatcher values, each once (plan_opts.dispatchers). */
static int parse_dispatchers(const char *v, int *out, FILE *errout)
{
    memset(out, 0, (PLAN_MAX_DISPATCHERS + 1) * sizeof *out);
    if (strcmp(v, "all") == 0)
        return out[0] = PLAN_ALL_DISPATCHERS, 0;
    char list[128], *save = NULL;
    int n = 0;
    if (strlen(v) >= sizeof list)
        return usage_error(errout, "--dispatchers: list too long", NULL);
    if (empty_item(v))
        return usage_error(errout, "--dispatchers: an empty name in the list", v);
    snprintf(list, sizeof list, "%s", v);
    for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (strcmp(w, "all") == 0) /* else "unknown dispatcher 'all' (known: all, ...)" */
            return usage_error(errout, "--dispatchers: all stands alone (it names alltoall, "
                               "allgather and a flex backend); give it or a list, got", v);
        int d = scn_choice_find(SCN_MOE_DISPATCHER, w);
        if (d < 0)
            return cli_bad_usage(errout, "stepsim plan --help",
                                 "plan: --dispatchers: unknown dispatcher '%s' (known: all, or "
                                 "alltoall, allgather, deepep, hybridep)",
                                 w);
        for (int i = 0; i < n; i++)
            if (out[i] == d + 1)
                return usage_error(errout, "--dispatchers: dispatcher named twice:", w);
        if (n == PLAN_MAX_DISPATCHERS)
            return usage_error(errout, "--dispatchers: too many dispatchers", NULL);
        out[n++] = d + 1;
    }
    if (n == 0)
        return usage_error(errout, "--dispatchers needs a list of dispatchers, or all", NULL);
    return 0;
}

static void write_help(FILE *out)
{
    fputs(plan_usage, out);
    fputs("\nEnumerates tp, pp (uneven end stages when layers need them), vp, cp (to 8, past 8\n"
          "while each rank keeps 4,096 tokens), ep/etp, micro-batch and schedule for N GPUs\n"
          "and the scenario's global batch, and for each layout the memory knobs its\n"
          "framework offers: ZeRO stage / FSDP, selective or full recompute, optimizer and\n"
          "activation offload (with a host link); drops configs that break a rule or do not\n"
          "fit in the usable HBM; simulates the rest in order of a lower bound on the step\n"
          "time, only those that can still change the list.\n"
          "Each layout is listed by its simplest config within 1% of its fastest, and layouts\n"
          "within 1% of each other simpler first -- simpler: fewer parallel dimensions,\n"
          "smaller tp, smaller vp, less recompute, less offload, less sharding, a standard\n"
          "schedule, even stages (compared in that order).  ZeRO-3 is FSDP's full-shard,\n"
          "ZeRO-3 keeping parameters gathered (zero3k) its shard-grad-op.\n"
          "Under the list, 'run it: stepsim run ...' runs the first layout: plan's --set\n"
          "values, then the keys the layout changes (each key once: the layout's value); a\n"
          "value the layout drops where it does not apply (deepep-sms beside alltoall, say)\n"
          "is left out, or given back as 'default' where the file sets it.\n"
          "\n"
          "  --gpus N           the GPU budget (world size)\n"
          "  --top K            configs to list (default 5)\n"
          "  --schedules LIST   schedules to consider, comma-separated (default: the\n"
          "                     framework's, GPipe left out); with a framework the scenario\n"
          "                     names, each must be one it offers\n"
          "  --dispatchers LIST a MoE model's token dispatchers to try where experts are\n"
          "                     spread (ep > 1), comma-separated: alltoall, allgather,\n"
          "                     deepep, hybridep; or all (alltoall, allgather and a flex\n"
          "                     backend the hardware runs); default: the scenario's alone.\n"
          "                     Each multiplies those layouts (fix tp or ep with --set when\n"
          "                     the space grows past its cap)\n"
          "  --hbm-reserve SIZE HBM per GPU the step cannot use (CUDA context, fragmentation;\n"
          "                     the hardware file's hbm-reserve, 0.6 GiB for the shipped ones,\n"
          "                     which add 0.6 GiB of NCCL buffers per parallel group of more\n"
          "                     than one GPU, hw.nccl-buffers): the same as\n"
          "                     --set hw.hbm-reserve=SIZE (give one of the two)\n"
          "  --set KEY=VALUE    a scenario value, e.g. framework=torchtitan (the framework's\n"
          "                     offers are explored; auto, the default, infers it: the first\n"
          "                     of megatron-core, torchtitan, deepseek, deepspeed\n"
          "                     offering all the scenario uses); tp, pp, vp, cp, ep, etp,\n"
          "                     micro-batch or moe-dispatcher fixes that dimension of the\n"
          "                     search; the keys\n"
          "                     plan chooses per config (gpus, schedule, zero, recompute,\n"
          "                     offload, the stage split) are refused\n"
          "  --out FILE.csv     every valid config: the layout and knobs (dp, then scenario\n"
          "                     key names from gpus on; 'default' where the config leaves\n"
          "                     the key unset:\n"
          "                     a row's keys given to run as --set KEY=VALUE, with\n"
          "                     plan's other --set values (each key once), run it as\n"
          "                     planned; deepep-sms and moe-dispatch-dtype are columns\n"
          "                     only where the scenario or --set gives them, 'default'\n"
          "                     in the rows whose dispatcher drops them), the result\n"
          "                     columns below, bound_s; - is stdout, the table then\n"
          "                     going to stderr\n"
          "  --report FILE.html the same rows as one self-contained HTML page (loads\n"
          "                     nothing): the listed configs first, then the other\n"
          "                     simulated, the pruned and the out-of-memory ones; a click on\n"
          "                     a column header sorts by it\n"
          "  -j N               threads (default and 0: the CPUs; the result does not depend\n"
          "                     on N)\n"
          "  --exhaustive       simulate every config that fits (checks the pruning)\n"
          "  --fail-on-oom      exit 2 when no layout fits (after printing the nearest)\n"
          "\n"
          "The work grows with the micro-batches per step (each schedule order is built once\n"
          "for every layout running it): --set max-ops=N bounds the ops (and the memory) of\n"
          "each config checked or simulated.\n"
          "\n"
          "CSV result columns (the same names as sweep's):\n",
          out);
    col_write_doc(out, 2, 1);
    fputs("  bound_s               the step-time lower bound the search ordered by\n"
          "  listed                the config's place in the plan's list (1 to K; when nothing\n"
          "                        fits, the nearest); empty for the others\n"
          "\nexit status: 0 ok (also when nothing fits), 1 simulation or I/O failure, 2 bad\n"
          "input (with --fail-on-oom also: no layout fits)\n",
          out);
}

struct plan_cli {
    const char *path, *csv, *reserve, *report;
    struct cli_sets sets;
    struct cli_once once; /* options taking one value, and --set keys: each once */
    int fail_on_oom, help;
    struct plan_opts o;
};

/* The option parsers below take one option's value: each checks it, says what is wrong through
 * usage_error, and returns its status (0, or 2 for a usage error) for parse_plan to return, so
 * that parse_plan's loop reads as the list of options. */

/* --gpus N: the budget, 1 to PLAN_MAX_GPUS */
static int parse_gpus(struct plan_cli *p, const char *v, FILE *errout)
{
    if (parse_int_opt(v, 1, PLAN_MAX_GPUS, &p->o.gpus) != 0) {
        char what[64];
        snprintf(what, sizeof what, "--gpus: expected a GPU count from 1 to %d, got",
                 PLAN_MAX_GPUS);
        return usage_error(errout, what, v);
    }
    return cli_once(&p->once, NULL, "--gpus", v, errout, "stepsim plan --help");
}

/* --top K: how many layouts the plan lists */
static int parse_top(struct plan_cli *p, const char *v, FILE *errout)
{
    if (parse_int_opt(v, 1, 10000, &p->o.top) != 0)
        return usage_error(errout, "--top: expected a count from 1 to 10000, got", v);
    return cli_once(&p->once, NULL, "--top", v, errout, "stepsim plan --help");
}

/* -j N or --jobs N (`opt`): the threads of the search; either spelling counts as --jobs once */
static int parse_jobs(struct plan_cli *p, const char *opt, const char *v, FILE *errout)
{
    if (cli_parse_jobs(v, &p->o.jobs) != 0) {
        char what[96];
        snprintf(what, sizeof what, "%s: " CLI_JOBS_EXPECTED ", got", opt);
        return usage_error(errout, what, v);
    }
    return cli_once(&p->once, "--jobs", opt, v, errout, "stepsim plan --help");
}

/* --out FILE or --report FILE (`opt`), kept in *slot */
static int parse_output(struct plan_cli *p, const char *opt, const char *v, const char **slot,
                        FILE *errout)
{
    if (!*v) {
        char what[64];
        snprintf(what, sizeof what, "%s needs a file name", opt);
        return usage_error(errout, what, NULL);
    }
    *slot = v;
    return cli_once(&p->once, NULL, opt, v, errout, "stepsim plan --help");
}

/* --hbm-reserve SIZE: --set hw.hbm-reserve=SIZE by another name, so the key is given once */
static int parse_reserve(struct plan_cli *p, const char *v, FILE *errout)
{
    if (!*v)
        return usage_error(errout, "--hbm-reserve needs a size, e.g. 3GiB", NULL);
    p->reserve = v;
    return cli_once(&p->once, "hw.hbm-reserve", "--hbm-reserve", v, errout,
                    "stepsim plan --help");
}

static int parse_plan(int argc, char **argv, struct plan_cli *p, FILE *errout)
{
    const char *hint = "stepsim plan --help";
    memset(p, 0, sizeof *p);
    p->o.top = 5;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v, *opt;
        int rc = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            p->help = 1;
            return 0;
        } else if ((v = cli_opt_value(argc, argv, &i, "--gpus"))) {
            rc = parse_gpus(p, v, errout);
        } else if ((v = cli_opt_value(argc, argv, &i, "--top"))) {
            rc = parse_top(p, v, errout);
        } else if ((v = cli_opt_value(argc, argv, &i, "--out"))) {
            rc = parse_output(p, "--out", v, &p->csv, errout);
        } else if ((v = cli_jobs_value(argc, argv, &i, &opt))) {
            rc = parse_jobs(p, opt, v, errout);
        } else if ((v = cli_opt_value(argc, argv, &i, "--set"))) {
            rc = cli_spaced_value(errout, hint, "--set", v, argc, argv, i);
            if (rc == 0)
                rc = cli_add_set(&p->sets, &p->once, v, errout, "stepsim plan");
        } else if ((v = cli_opt_value(argc, argv, &i, "--schedules"))) {
            rc = parse_schedules(v, p->o.schedules, errout);
            if (rc == 0)
                rc = cli_once(&p->once, NULL, "--schedules", v, errout, hint);
        } else if ((v = cli_opt_value(argc, argv, &i, "--dispatchers"))) {
            rc = parse_dispatchers(v, p->o.dispatchers, errout);
            if (rc == 0)
                rc = cli_once(&p->once, NULL, "--dispatchers", v, errout, hint);
        } else if ((v = cli_opt_value(argc, argv, &i, "--hbm-reserve"))) {
            rc = parse_reserve(p, v, errout);
        } else if ((v = cli_opt_value(argc, argv, &i, "--report"))) {
            rc = parse_output(p, "--report", v, &p->report, errout);
        } else if (strcmp(a, "--exhaustive") == 0) {
            p->o.exhaustive = 1;
        } else if (strcmp(a, "--fail-on-oom") == 0) {
            p->fail_on_oom = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error(errout, "unknown option", a);
        } else if (!p->path) {
            p->path = a;
        } else {
            return usage_error(errout, "unexpected argument (one scenario per plan)", a);
        }
        if (rc != 0)
            return rc;
    }
    if (p->help)
        return 0;
    if (!p->path)
        return usage_error(errout, "needs a scenario file", NULL);
    if (p->o.gpus == 0)
        return usage_error(errout, "needs --gpus N (the GPU budget)", NULL);
    return 0;
}

/* Every output of the plan, named before the search runs (outfile.h): NULL where not asked
 * for. */
struct plan_outputs {
    struct outset *set;
    struct outfile *csv, *report;
};

static enum sim_status plan_outputs(const struct plan_cli *p, const struct scenario *scn,
                                    struct plan_outputs *po, struct sim_error *err)
{
    po->set = outset_create();
    if (!po->set)
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory");
    enum sim_status st = cli_add_inputs(po->set, scn, err);
    if (st == SIM_OK && p->csv)
        st = outset_add(po->set, "--out", p->csv, &po->csv, err);
    if (st == SIM_OK && p->report)
        st = outset_add(po->set, "--report", p->report, &po->report, err);
    return st;
}

/* The files to their temp files, all into place together, then the table to `out`. */
static enum sim_status write_outputs(const struct plan_cli *p, const struct plan_outputs *po,
                                     const struct scenario *scn, const struct plan_result *res,
                                     FILE *out, struct sim_error *err)
{
    enum sim_status st = SIM_OK;
    if (po->csv)
        st = outfile_write(po->csv, write_csv, res, err);
    if (st == SIM_OK && po->report)
        st = plan_report(po->report, p->path, scn, &p->o, &p->sets, res, po->csv != NULL, err);
    if (st == SIM_OK)
        st = outset_commit(po->set, err);
    /* --hbm-reserve is --set hw.hbm-reserve (plan_main), after the --set values */
    const char *sets[CLI_MAX_SETS + 1];
    char reserve[160];
    int nsets = 0;
    for (int i = 0; i < p->sets.n; i++)
        sets[nsets++] = p->sets.v[i];
    if (p->reserve) {
        snprintf(reserve, sizeof reserve, "hw.hbm-reserve=%s", p->reserve);
        sets[nsets++] = reserve;
    }
    const struct plan_run_args ra = {p->path, sets, nsets};
    if (st == SIM_OK && (write_table(out, scn, &p->o, res, &ra) != 0 || fflush(out) != 0))
        st = err_set(err, SIM_EFAIL, NULL, 0, "cannot write the plan's table");
    return st;
}

/* --fail-on-oom when no layout fits: what the nearest needs, of HBM and of the host's memory
 * where it offloads past it. */
static enum sim_status nothing_fits_error(const struct plan_cli *p, const struct plan_result *res,
                                          struct sim_error *err)
{
    const struct plan_entry *e = res->nnearest ? &res->entries[res->nearest[0]] : NULL;
    char host[96] = "", usable[96] = "", a[16], b[16];
    if (e && e->host_oom)
        snprintf(host, sizeof host, ", and offloads %s GiB to the host's %s GiB",
                 gib_text(a, sizeof a, e->host_bytes), gib_text(b, sizeof b, res->host_mem_bytes));
    if (e && e->hbm_bytes > 0)
        snprintf(usable, sizeof usable, "%s GiB of %s GiB usable",
                 gib_text(a, sizeof a, e->mem_bytes), gib_text(b, sizeof b, e->hbm_bytes));
    else if (e) /* as the table's "none" */
        snprintf(usable, sizeof usable, "%s GiB, and the reserve and buffers leave it no HBM",
                 gib_text(a, sizeof a, e->mem_bytes));
    return err_set(err, SIM_EINPUT, p->path, 0,
                   "no layout of the model on gpus=%d fits in %s (the nearest needs %s%s) "
                   "(--fail-on-oom)",
                   p->o.gpus, short_of_text(res), usable, host);
}

int plan_main(int argc, char **argv, FILE *out, FILE *errout)
{
    struct plan_cli p;
    int rc = parse_plan(argc, argv, &p, errout);
    if (rc != 0)
        return rc;
    if (p.help) {
        write_help(out);
        return 0;
    }
    struct scenario scn;
    struct sim_error err;
    struct plan_result res;
    struct plan_outputs po = {0};
    int planned = 0;
    err_clear(&err);
    enum sim_status st = scn_load_with_sets(&scn, p.path, p.sets.v, p.sets.n, &err);
    /* --hbm-reserve is --set hw.hbm-reserve (parse_plan takes one of the two, so where it
     * stands among the --set values changes nothing) */
    if (st == SIM_OK && p.reserve)
        st = scn_set_alias(&scn, "--hbm-reserve", "hw.hbm-reserve", p.reserve, &err);
    if (st == SIM_OK && !scn_is_modelled(&scn))
        st = err_set(&err, SIM_EINPUT, p.path, 0,
                     "plan needs a modelled scenario (model= and hardware=); this one gives "
                     "explicit costs");
    if (st == SIM_OK)
        st = plan_check_set_keys(&scn, &err);
    /* --out and --report are checked (outfile.h) before the search runs, replaced at the end */
    if (st == SIM_OK)
        st = plan_outputs(&p, &scn, &po, &err);
    if (st == SIM_OK)
        planned = (st = plan_run(&scn, &p.o, &res, &err)) == SIM_OK;
    if (st == SIM_OK) { /* once for every config (they share the seq), before the list */
        cli_warn_seq_past_max(errout, scn.seq, res.model_max_seq, scn.model_path);
        /* stdout carries one thing: with --out - the CSV takes it and the table, for a
         * person, goes to stderr */
        FILE *table = outset_option_on(po.set, fileno(out)) ? errout : out;
        st = write_outputs(&p, &po, &scn, &res, table, &err);
    }
    if (st == SIM_OK && p.fail_on_oom && res.ntop == 0)
        st = nothing_fits_error(&p, &res, &err);
    if (planned)
        plan_result_release(&res);
    outset_destroy(po.set);
    return st == SIM_OK ? 0 : cli_fail(errout, &err);
}
