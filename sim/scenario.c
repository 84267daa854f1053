/* scenario: the key table, value parsing and cross-field rules for scenario inputs.
 *
 * One table maps each key to its type and field; XML attributes and --set overrides both go
 * through scn_set(), so a value is parsed and range-checked in exactly one place. */
#include "scenario.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "schedule.h"
#include "units.h"
#include "embedded.h"
#include "xmlload.h"

enum value_type {
    VT_NAME,
    VT_INT,
    VT_TIME,
    VT_BYTES,
    VT_BANDWIDTH,
    VT_BOOL,
    VT_SEED,
    VT_FRACTION,
    VT_PATH,   /* a file; in a scenario file, relative to that file's folder */
    VT_CHOICE, /* one word of `choices`, stored as its index */
};

static const char *const dtype_choices[] = {"fp32", "tf32", "bf16", "fp16", "fp8", NULL};
static const char *const recompute_choices[] = {"none", "selective", "full", NULL};
static const char *const attention_choices[] = {"flash", "unfused", NULL};

struct key_spec {
    const char *name;
    enum value_type type;
    size_t offset;
    long min, max;              /* VT_INT range */
    const char *const *choices; /* VT_CHOICE words */
    size_t cap;                 /* VT_NAME / VT_PATH buffer size */
};

/* Upper bound for one time value; the step bound in scn_check() keeps sums on the picosecond
 * clock (int64, ~9.2e6 s) from overflowing. */
#define SCN_MAX_TIME_S 1e6
/* Compute ops across all ranks: 10^7 ops take ~0.4 GB and ~2 s, so this caps a run near 1 GB;
 * real configurations are far below (pp=64, vp=8, 2048 micro-batches, split B/W: 3.1M). */
#define SCN_MAX_OPS 20000000.0 /* default of the max-ops key */

#define FIELD(f) offsetof(struct scenario, f)
/* Indexed by enum scn_key. */
static const struct key_spec keys[SCN_KEY_COUNT] = {
    [SCN_NAME] = {"name", VT_NAME, FIELD(name), 0, 0, NULL, sizeof((struct scenario *)0)->name},
    [SCN_SCHEDULE] = {"schedule", VT_NAME, FIELD(schedule), 0, 0, NULL,
                      sizeof((struct scenario *)0)->schedule},
    [SCN_PP] = {"pp", VT_INT, FIELD(pp), 1, 1 << 16},
    [SCN_VP] = {"vp", VT_INT, FIELD(vp), 1, 1 << 10},
    [SCN_VP_GROUP] = {"vp-group", VT_INT, FIELD(vp_group), 1, 1 << 24},
    [SCN_MICROBATCHES] = {"microbatches", VT_INT, FIELD(microbatches), 1, 1 << 24},
    [SCN_MICRO_BATCH] = {"micro-batch", VT_INT, FIELD(micro_batch), 1, 1 << 20},
    [SCN_SEQ] = {"seq", VT_INT, FIELD(seq), 1, 1 << 28},
    [SCN_LAYERS] = {"layers", VT_INT, FIELD(layers), 1, 1 << 20},
    [SCN_FIRST_STAGE_LAYERS] = {"first-stage-layers", VT_INT, FIELD(first_stage_layers), 0,
                                1 << 20},
    [SCN_MAX_OPS_KEY] = {"max-ops", VT_INT, FIELD(max_ops), 1, 1 << 30},
    [SCN_LAST_STAGE_LAYERS] = {"last-stage-layers", VT_INT, FIELD(last_stage_layers), 0, 1 << 20},
    [SCN_FORWARD] = {"forward", VT_TIME, FIELD(forward_s), 0, 0},
    [SCN_BACKWARD_INPUT] = {"backward-input", VT_TIME, FIELD(bwd_input_s), 0, 0},
    [SCN_BACKWARD_WEIGHT] = {"backward-weight", VT_TIME, FIELD(bwd_weight_s), 0, 0},
    [SCN_SPLIT_BACKWARD] = {"split-backward", VT_BOOL, FIELD(split_backward), 0, 0},
    [SCN_ACTIVATION] = {"activation", VT_BYTES, FIELD(activation_B), 0, 0},
    [SCN_OPTIMIZER] = {"optimizer", VT_TIME, FIELD(optimizer_s), 0, 0},
    [SCN_LINK_LATENCY] = {"link-latency", VT_TIME, FIELD(link_lat_s), 0, 0},
    [SCN_LINK_BANDWIDTH] = {"link-bandwidth", VT_BANDWIDTH, FIELD(link_bw_Bps), 0, 0},
    [SCN_SEED] = {"seed", VT_SEED, FIELD(seed), 0, 0},
    [SCN_JITTER] = {"jitter", VT_FRACTION, FIELD(jitter), 0, 0},
    [SCN_MODEL] = {"model", VT_PATH, FIELD(model_path), 0, 0, NULL,
                   sizeof((struct scenario *)0)->model_path},
    [SCN_HARDWARE] = {"hardware", VT_PATH, FIELD(hardware_path), 0, 0, NULL,
                      sizeof((struct scenario *)0)->hardware_path},
    [SCN_GPUS] = {"gpus", VT_INT, FIELD(gpus), 1, 1 << 24},
    [SCN_TP] = {"tp", VT_INT, FIELD(tp), 1, 1 << 10},
    [SCN_CP] = {"cp", VT_INT, FIELD(cp), 1, 1 << 10},
    [SCN_EP] = {"ep", VT_INT, FIELD(ep), 1, 1 << 12},
    [SCN_ETP] = {"etp", VT_INT, FIELD(etp), 1, 1 << 10},
    [SCN_SP] = {"sp", VT_BOOL, FIELD(sp), 0, 0},
    [SCN_GLOBAL_BATCH] = {"global-batch", VT_INT, FIELD(global_batch), 1, 1 << 26},
    [SCN_DTYPE] = {"dtype", VT_CHOICE, FIELD(dtype), 0, 0, dtype_choices, 0},
    [SCN_RECOMPUTE] = {"recompute", VT_CHOICE, FIELD(recompute), 0, 0, recompute_choices, 0},
    [SCN_DIST_OPT] = {"distributed-optimizer", VT_BOOL, FIELD(dist_opt), 0, 0},
    [SCN_OVERLAP_GRAD_REDUCE] = {"overlap-grad-reduce", VT_BOOL, FIELD(overlap_grad_reduce), 0, 0},
    [SCN_OVERLAP_PARAM_GATHER] = {"overlap-param-gather", VT_BOOL, FIELD(overlap_param_gather), 0,
                                  0},
    [SCN_OVERLAP_TP_COMM] = {"overlap-tp-comm", VT_BOOL, FIELD(overlap_tp_comm), 0, 0},
    [SCN_OVERLAP_P2P] = {"overlap-p2p", VT_BOOL, FIELD(overlap_p2p), 0, 0},
    [SCN_P2P_SCATTER_GATHER] = {"p2p-scatter-gather", VT_BOOL, FIELD(p2p_scatter_gather), 0, 0},
    [SCN_GRAD_REDUCE_FP32] = {"grad-reduce-fp32", VT_BOOL, FIELD(grad_reduce_fp32), 0, 0},
    [SCN_DROPOUT] = {"dropout", VT_BOOL, FIELD(dropout), 0, 0},
    [SCN_ATTENTION] = {"attention", VT_CHOICE, FIELD(attention), 0, 0, attention_choices, 0},
};

void scn_defaults(struct scenario *scn)
{
    memset(scn, 0, sizeof *scn);
    snprintf(scn->name, sizeof scn->name, "unnamed");
    snprintf(scn->schedule, sizeof scn->schedule, "1f1b");
    scn->pp = scn->vp = 1;
    scn->microbatches = scn->micro_batch = 1;
    scn->layers = 1;
    scn->seed = 1;
    scn->tp = scn->cp = scn->ep = scn->etp = 1;
    scn->max_ops = (int)SCN_MAX_OPS;
    scn->dtype = 2; /* bf16: dtype_choices[2] */
    scn->recompute = RECOMPUTE_NONE;
}

/* The first / last stage is set apart when its layer count was given -- 0 included: a stage
 * holding only the embedding, or only the LM head and loss (Megatron-Core's
 * account-for-embedding/loss-in-pipeline-split). */
static int first_apart(const struct scenario *scn)
{
    return scn_given(scn, SCN_FIRST_STAGE_LAYERS);
}

static int last_apart(const struct scenario *scn)
{
    return scn_given(scn, SCN_LAST_STAGE_LAYERS);
}

int scn_model_parts(const struct scenario *scn)
{
    const struct sched_type *type = sched_find(scn->schedule);
    return type ? sched_model_parts(type, scn->pp, scn->vp) : scn->pp * scn->vp;
}

int scn_model_part(const struct scenario *scn, int stage)
{
    const struct sched_type *type = sched_find(scn->schedule);
    return type ? sched_model_part(type, scn->pp, stage) : stage;
}

void scn_stage_layers(const struct scenario *scn, int stage, int *first_layer, int *count)
{
    int stages = scn_model_parts(scn);
    stage = scn_model_part(scn, stage);
    int fa = first_apart(scn), la = last_apart(scn);
    int first = fa ? scn->first_stage_layers : 0, last = la ? scn->last_stage_layers : 0;
    int middle = stages - fa - la;
    int per = middle > 0 ? (scn->layers - first - last) / middle : 0;
    if (!fa && !la) {
        *count = scn->layers / stages;
        *first_layer = stage * *count;
        return;
    }
    if (stage == 0 && fa) {
        *first_layer = 0;
        *count = first;
    } else if (stage == stages - 1 && la) {
        *first_layer = scn->layers - last;
        *count = last;
    } else {
        *first_layer = first + (stage - fa) * per;
        *count = per;
    }
}

int scn_given(const struct scenario *scn, enum scn_key key)
{
    return scn->origin[key].file[0] != '\0';
}

int scn_stage_of(const struct scenario *scn, int rank, int chunk)
{
    const struct sched_type *type = sched_find(scn->schedule);
    return type ? sched_stage_of(type, scn->pp, rank, chunk) : chunk * scn->pp + rank;
}

int scn_split_backward(const struct scenario *scn)
{
    const struct sched_type *type = sched_find(scn->schedule);
    return scn->split_backward || (type && type->builds_w);
}

int scn_is_modelled(const struct scenario *scn)
{
    return scn->model_path[0] != '\0';
}

int scn_key_find(const char *name)
{
    for (int k = 0; k < SCN_KEY_COUNT; k++)
        if (strcmp(keys[k].name, name) == 0)
            return k;
    return -1;
}

const char *scn_key_name(enum scn_key key)
{
    return keys[key].name;
}

static int known_key_list(char *buf, size_t len)
{
    size_t used = 0;
    for (int k = 0; k < SCN_KEY_COUNT && used < len; k++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", k ? ", " : "", keys[k].name);
    return 0;
}

/* A relative path in a file is relative to that file's folder; one from --set (file NULL), to
 * the working directory. */
static void resolve_relative(const char *file, const char *value, char *out, size_t len)
{
    const char *slash = file ? strrchr(file, '/') : NULL;
    if (value[0] != '/' && slash && value[0])
        snprintf(out, len, "%.*s/%s", (int)(slash - file), file, value);
    else
        snprintf(out, len, "%s", value);
}

/* Errors from --set have no file line; name the option instead. */
static enum sim_status value_error(const char *file, int line, const char *key, const char *value,
                                   const char *why, struct sim_error *err)
{
    if (file)
        return err_set(err, SIM_EINPUT, file, line, "%s: %s", key, why);
    return err_set(err, SIM_EINPUT, NULL, 0, "--set %s=%s: %s", key, value, why);
}

enum sim_status scn_set(struct scenario *scn, const char *key, const char *value, const char *file,
                        int line, struct sim_error *err)
{
    int k = scn_key_find(key);
    if (k < 0) {
        char list[512];
        known_key_list(list, sizeof list);
        if (file)
            return err_set(err, SIM_EINPUT, file, line, "unknown key '%s'", key);
        return err_set(err, SIM_EINPUT, NULL, 0, "--set: unknown key '%s' (known: %s)", key, list);
    }
    const struct key_spec *ks = &keys[k];
    char *field = (char *)scn + ks->offset;
    char why[256];
    long iv;
    double dv;
    int bv;

    switch (ks->type) {
    case VT_PATH: {
        char resolved[2048];
        resolve_relative(file, value, resolved, sizeof resolved);
        size_t n = strlen(resolved);
        if (value[0] == '\0' || n >= ks->cap) {
            snprintf(why, sizeof why, "a file path of 1 to %zu characters is needed", ks->cap - 1);
            return value_error(file, line, key, value, why, err);
        }
        /* A file may name only regular files: a FIFO or a device (a ref to /dev/stdin, a tty,
         * a pipe nobody writes to) would block or read what the user never passed.  A path
         * that does not exist yet is left to the loader's "cannot open". */
        struct stat sb;
        if (file && stat(resolved, &sb) == 0 && !S_ISREG(sb.st_mode)) {
            snprintf(why, sizeof why, "'%.64s' is not a regular file", value);
            return value_error(file, line, key, value, why, err);
        }
        memcpy(field, resolved, n + 1);
        break;
    }
    case VT_CHOICE: {
        int found = -1;
        for (int i = 0; ks->choices[i]; i++)
            if (strcmp(value, ks->choices[i]) == 0)
                found = i;
        if (found < 0) {
            size_t used = (size_t)snprintf(why, sizeof why, "'%.40s' is not one of", value);
            for (int i = 0; ks->choices[i] && used < sizeof why; i++)
                used += (size_t)snprintf(why + used, sizeof why - used, " %s", ks->choices[i]);
            return value_error(file, line, key, value, why, err);
        }
        *(int *)(void *)field = found;
        break;
    }
    case VT_NAME: {
        size_t cap = ks->cap;
        size_t n = strlen(value);
        if (n == 0 || n >= cap) {
            snprintf(why, sizeof why, "'%.40s%s' must be 1 to %zu characters", value,
                     n > 40 ? "..." : "", cap - 1);
            return value_error(file, line, key, value, why, err);
        }
        for (size_t i = 0; i < n; i++) {
            if (iscntrl((unsigned char)value[i])) {
                snprintf(why, sizeof why, "contains a control character at offset %zu", i);
                return value_error(file, line, key, value, why, err);
            }
        }
        if (k == SCN_SCHEDULE && !sched_find(value)) {
            snprintf(why, sizeof why, "unknown schedule '%s' (known: %s)", value, sched_names());
            return value_error(file, line, key, value, why, err);
        }
        memcpy(field, value, n + 1);
        break;
    }
    case VT_INT:
        if (units_parse_int(value, ks->min, ks->max, &iv, why, sizeof why) != 0)
            return value_error(file, line, key, value, why, err);
        *(int *)(void *)field = (int)iv;
        break;
    case VT_SEED:
        if (units_parse_int(value, 0, 2147483647L, &iv, why, sizeof why) != 0)
            return value_error(file, line, key, value, why, err);
        *(unsigned long *)(void *)field = (unsigned long)iv;
        break;
    case VT_TIME:
    case VT_BYTES:
    case VT_BANDWIDTH: {
        enum unit_kind uk = ks->type == VT_TIME    ? UNIT_TIME
                            : ks->type == VT_BYTES ? UNIT_BYTES
                                                   : UNIT_BANDWIDTH;
        if (units_parse(value, uk, &dv, why, sizeof why) != 0)
            return value_error(file, line, key, value, why, err);
        if (uk == UNIT_BANDWIDTH && dv <= 0.0) {
            snprintf(why, sizeof why, "'%s' must be positive (omit <link> for free links)", value);
            return value_error(file, line, key, value, why, err);
        }
        if (uk == UNIT_TIME && dv > SCN_MAX_TIME_S) {
            snprintf(why, sizeof why, "'%s' is out of range (above 10^6 s)", value);
            return value_error(file, line, key, value, why, err);
        }
        *(double *)(void *)field = dv;
        break;
    }
    case VT_FRACTION:
        if (units_parse(value, UNIT_FRACTION, &dv, why, sizeof why) != 0)
            return value_error(file, line, key, value, why, err);
        if (dv > 1.0) { /* a CV above 100% makes no physical sense for kernel times */
            snprintf(why, sizeof why, "'%s' is out of range [0, 1]", value);
            return value_error(file, line, key, value, why, err);
        }
        *(double *)(void *)field = dv;
        break;
    case VT_BOOL:
        if (units_parse_bool(value, &bv, why, sizeof why) != 0)
            return value_error(file, line, key, value, why, err);
        *(int *)(void *)field = bv;
        break;
    }
    if (k == SCN_LINK_LATENCY || k == SCN_LINK_BANDWIDTH)
        scn->link_given = 1;
    snprintf(scn->origin[k].file, sizeof scn->origin[k].file, "%s", file ? file : "--set");
    scn->origin[k].line = file ? line : 0;
    scn->origin[k].order = file ? scn->files_applied + 1 : SCN_ORDER_SET;
    return SIM_OK;
}

enum sim_status scn_set_arg(struct scenario *scn, const char *arg, struct sim_error *err)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return err_set(err, SIM_EINPUT, NULL, 0, "--set '%s': expected KEY=VALUE", arg);
    char key[64];
    size_t klen = (size_t)(eq - arg);
    if (klen >= sizeof key)
        return err_set(err, SIM_EINPUT, NULL, 0, "--set: key '%.*s...' too long", 20, arg);
    memcpy(key, arg, klen);
    key[klen] = '\0';
    return scn_set(scn, key, eq + 1, NULL, 0, err);
}

enum sim_status scn_rule_error(const struct scenario *scn, enum scn_key key, struct sim_error *err,
                               const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const struct scn_origin *o = &scn->origin[key];
    if (o->line > 0)
        return err_set(err, SIM_EINPUT, o->file, o->line, "%s", msg);
    if (o->file[0])
        return err_set(err, SIM_EINPUT, NULL, 0, "%s (%s given by %s)", msg, keys[key].name,
                       o->file);
    return err_set(err, SIM_EINPUT, NULL, 0, "%s", msg);
}

enum scn_key scn_culprit(const struct scenario *scn, enum scn_key a, enum scn_key b)
{
    return scn->origin[b].order > scn->origin[a].order ? b : a;
}

static enum scn_key sched_param_key(enum sched_param p)
{
    switch (p) {
    case SP_PP: return SCN_PP;
    case SP_VP: return SCN_VP;
    case SP_MICROBATCHES: return SCN_MICROBATCHES;
    case SP_VP_GROUP: return SCN_VP_GROUP;
    case SP_SCHEDULE: break;
    }
    return SCN_SCHEDULE;
}

/* Keep a run within what the engine can hold: op records in memory and a step short enough
 * that every sum on the picosecond clock fits in int64.  The bound is the fully serial step
 * (every op and transfer one after another), which no schedule exceeds. */
static enum sim_status check_size(const struct scenario *scn, struct sim_error *err)
{
    double ops = (double)scn->pp * scn->vp * scn->microbatches * (scn_split_backward(scn) ? 3 : 2);
    if (ops > scn->max_ops)
        return scn_rule_error(scn, scn_culprit(scn, SCN_MICROBATCHES, SCN_PP), err,
                              "pp=%d x vp=%d x microbatches=%d gives %.0f compute ops, above the "
                              "limit of %d (raise it with --set max-ops=N)",
                              scn->pp, scn->vp, scn->microbatches, ops, scn->max_ops);
    double per_layer = scn->forward_s + scn->bwd_input_s + scn->bwd_weight_s;
    double compute_s = per_layer * scn->layers * scn->microbatches;
    double xfer_each =
        scn->link_lat_s + (scn->link_bw_Bps > 0 ? scn->activation_B / scn->link_bw_Bps : 0.0);
    double transfers = 2.0 * scn->pp * scn->vp * scn->microbatches;
    double serial = compute_s + scn->optimizer_s * scn->pp + xfer_each * transfers;
    if (serial <= SCN_MAX_STEP_S)
        return SIM_OK;
    if (xfer_each * transfers > compute_s) {
        int bw_bound =
            scn->link_bw_Bps > 0 && scn->activation_B / scn->link_bw_Bps > scn->link_lat_s;
        return scn_rule_error(
            scn, bw_bound ? scn_culprit(scn, SCN_LINK_BANDWIDTH, SCN_ACTIVATION) : SCN_LINK_LATENCY,
            err,
            "%.0f transfers of %.3g s each (link-latency plus activation / "
            "link-bandwidth) could take %.3g s of simulated time, above the limit "
            "of 10^6 s",
            transfers, xfer_each, xfer_each * transfers);
    }
    if (scn->optimizer_s * scn->pp > compute_s)
        return scn_rule_error(
            scn, SCN_OPTIMIZER, err,
            "optimizer steps could take %.3g s of simulated time, above the limit "
            "of 10^6 s",
            scn->optimizer_s * scn->pp);
    enum scn_key big = SCN_FORWARD;
    if (scn->bwd_input_s > scn->forward_s)
        big = SCN_BACKWARD_INPUT;
    if (scn->bwd_weight_s > (big == SCN_FORWARD ? scn->forward_s : scn->bwd_input_s))
        big = SCN_BACKWARD_WEIGHT;
    return scn_rule_error(scn, scn_culprit(scn, big, SCN_MICROBATCHES), err,
                          "compute could take %.3g s of simulated time (%.3g s per layer x "
                          "layers=%d x microbatches=%d), above the limit of 10^6 s",
                          compute_s, per_layer, scn->layers, scn->microbatches);
}

enum sim_status scn_check(const struct scenario *scn, struct sim_error *err)
{
    const struct sched_type *type = sched_find(scn->schedule);
    if (!type) /* scn_set rejects unknown names; defaults are known */
        return scn_rule_error(scn, SCN_SCHEDULE, err, "unknown schedule '%s' (known: %s)",
                              scn->schedule, sched_names());
    long stages = scn_model_parts(scn);
    if (scn->pp > scn->layers)
        return scn_rule_error(scn, scn_culprit(scn, SCN_PP, SCN_LAYERS), err,
                              "pp=%d exceeds layers=%d: every pipeline rank needs a layer", scn->pp,
                              scn->layers);
    if (type->builds_w && scn_given(scn, SCN_SPLIT_BACKWARD) && !scn->split_backward)
        return scn_rule_error(scn, scn_culprit(scn, SCN_SPLIT_BACKWARD, SCN_SCHEDULE), err,
                              "schedule=%s runs the weight gradient as its own W op; "
                              "split-backward=false contradicts it",
                              scn->schedule);
    struct sched_params sp = {scn->pp, scn->vp, scn->microbatches, scn->vp_group,
                              scn_split_backward(scn)};
    enum sched_param blame = SP_SCHEDULE;
    struct sim_error serr;
    err_clear(&serr);
    if (type->check(&sp, &blame, &serr) != SIM_OK)
        return scn_rule_error(scn, scn_culprit(scn, sched_param_key(blame), SCN_SCHEDULE), err,
                              "%s", serr.msg);
    int fa = first_apart(scn), la = last_apart(scn);
    /* DualPipe's chunks are two copies of pp parts: the parts are what the layers fill. */
    int copies = stages < (long)scn->pp * scn->vp;
    const char *parts_of = copies ? "pp" : "pp*vp";
    const char *why = copies ? " (dualpipe holds two copies of pp parts)" : "";
    if (stages > scn->layers + fa + la)
        return scn_rule_error(scn, scn_culprit(scn, SCN_VP, SCN_LAYERS), err,
                              "%s=%ld model chunks exceed layers=%d%s: every chunk needs a layer",
                              parts_of, stages, scn->layers, why);
    int first = fa ? scn->first_stage_layers : 0, last = la ? scn->last_stage_layers : 0;
    if (fa || la) {
        long middle = stages - fa - la;
        long rest = (long)scn->layers - first - last;
        enum scn_key key = fa ? SCN_FIRST_STAGE_LAYERS : SCN_LAST_STAGE_LAYERS;
        if (stages < 2)
            return scn_rule_error(scn, key, err,
                                  "first/last-stage-layers need at least 2 pipeline stages");
        if (rest < middle || (middle == 0 && rest != 0) || (middle > 0 && rest % middle != 0))
            return scn_rule_error(
                scn, key, err,
                "layers=%d minus first-stage-layers=%d and last-stage-layers=%d leaves %ld "
                "layers for %ld middle stages: they must split evenly, at least one each",
                scn->layers, first, last, rest, middle);
    } else if (scn->layers % stages != 0) {
        return scn_rule_error(scn, scn_culprit(scn, SCN_LAYERS, SCN_PP), err,
                              "layers=%d is not divisible by %s=%ld (pp=%d, vp=%d)%s: chunks "
                              "would be uneven (first-stage-layers / last-stage-layers set "
                              "the ends apart)",
                              scn->layers, parts_of, stages, scn->pp, scn->vp, why);
    }
    return check_size(scn, err);
}

/* XML attribute -> key: attributes of <link> are prefixed ("latency" -> "link-latency"); all
 * others are the key itself.  The schema has already rejected unknown elements/attributes. */
static enum sim_status load_element(struct scenario *scn, xmlNodePtr el, const char *path,
                                    struct sim_error *err)
{
    int line = (int)xml_line(el);
    int is_link = strcmp((const char *)el->name, "link") == 0;
    if (is_link)
        scn->link_given = 1;
    for (xmlAttrPtr a = el->properties; a; a = a->next) {
        if (el == xmlDocGetRootElement(el->doc) && strcmp((const char *)a->name, "base") == 0)
            continue; /* <scenario base=...>: loaded before this file (load_base) */
        xmlChar *value = xmlNodeListGetString(el->doc, a->children, 1);
        char key[64];
        if (strcmp((const char *)a->name, "ref") == 0) /* <model ref=...>: key "model" */
            snprintf(key, sizeof key, "%s", (const char *)el->name);
        else
            snprintf(key, sizeof key, "%s%s", is_link ? "link-" : "", (const char *)a->name);
        enum sim_status st = scn_set(scn, key, value ? (const char *)value : "", path, line, err);
        xmlFree(value);
        if (st != SIM_OK)
            return st;
    }
    return SIM_OK;
}

/* <scenario base="FILE">: a scenario may start from another and say only what differs (a
 * variant of a shipped run; many held-out layouts of one model on one cluster).  The base is
 * loaded first and this file's values overlay it, so each key's origin is the file that set it
 * last and rule errors point there; the base's own references resolve against the base's
 * folder.  Bases chain up to SCN_MAX_BASE_FILES files in all; a file met twice in one chain
 * -- compared by device and inode, so other spellings and symlinks of one file are caught --
 * is a cycle.  Each level keeps its parsed document until its base is done: at most
 * SCN_MAX_BASE_FILES x XML_MAX_FILE_BYTES of input in memory. */
struct base_chain {
    int n;
    struct {
        dev_t dev;
        ino_t ino;
        char path[256];
    } file[SCN_MAX_BASE_FILES];
};

static enum sim_status load_chain(struct scenario *scn, const char *path, struct base_chain *chain,
                                  struct sim_error *err);

static void chain_push(struct base_chain *chain, const struct stat *sb, const char *path)
{
    chain->file[chain->n].dev = sb->st_dev;
    chain->file[chain->n].ino = sb->st_ino;
    snprintf(chain->file[chain->n].path, sizeof chain->file[chain->n].path, "%.255s", path);
    chain->n++;
}

/* "a.xml -> b.xml -> a.xml": the chain from the file loaded first to `again`. */
static void chain_format(const struct base_chain *chain, int from, const char *again, char *buf,
                         size_t len)
{
    size_t used = 0;
    for (int i = from; i < chain->n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%.120s -> ", chain->file[i].path);
    if (used < len)
        snprintf(buf + used, len - used, "%.120s", again);
}

static enum sim_status load_base(struct scenario *scn, const char *file, int line,
                                 const char *value, struct base_chain *chain, struct sim_error *err)
{
    char resolved[1024];
    resolve_relative(file, value, resolved, sizeof resolved);
    struct stat sb;
    if (stat(resolved, &sb) != 0)
        return err_set(err, SIM_EINPUT, file, line, "base: cannot open '%.200s': %s", value,
                       strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return err_set(err, SIM_EINPUT, file, line, "base: '%.64s' is not a regular file", value);
    for (int i = 0; i < chain->n; i++) {
        if (chain->file[i].dev == sb.st_dev && chain->file[i].ino == sb.st_ino) {
            char cycle[400];
            chain_format(chain, i, resolved, cycle, sizeof cycle);
            return err_set(err, SIM_EINPUT, file, line, "base: '%.64s' makes a cycle (%s)", value,
                           cycle);
        }
    }
    if (chain->n >= SCN_MAX_BASE_FILES)
        return err_set(err, SIM_EINPUT, file, line,
                       "base: '%.64s' makes a chain of more than %d scenario files", value,
                       SCN_MAX_BASE_FILES);
    chain_push(chain, &sb, resolved);
    enum sim_status st = load_chain(scn, resolved, chain, err);
    chain->n--;
    /* A base that is not a readable scenario at all (empty, binary, too big) is the referring
     * line's problem; errors inside the base keep pointing into it. */
    if (st == SIM_EINPUT && err && err->line == 0) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return err_set(err, SIM_EINPUT, file, line, "base file %.200s: %s", resolved, msg);
    }
    return st;
}

/* Remember a loaded file (outputs must never overwrite it); a chain holds at most
 * SCN_MAX_BASE_FILES, so the table is never full for one scn_load. */
static void note_loaded(struct scenario *scn, const char *path)
{
    struct stat sb;
    if (scn->nloaded == SCN_MAX_BASE_FILES || stat(path, &sb) != 0)
        return;
    struct scn_file *f = &scn->loaded[scn->nloaded++];
    f->dev = sb.st_dev;
    f->ino = sb.st_ino;
    snprintf(f->path, sizeof f->path, "%s", path);
}

static enum sim_status load_chain(struct scenario *scn, const char *path, struct base_chain *chain,
                                  struct sim_error *err)
{
    xmlDocPtr doc = NULL;
    enum sim_status st = xml_load(path, "scenario", scenario_xsd, &doc, err);
    if (st != SIM_OK)
        return st;
    note_loaded(scn, path);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlChar *base = xmlGetNoNsProp(root, (const xmlChar *)"base");
    if (base)
        st = load_base(scn, path, (int)xml_line(root), (const char *)base, chain, err);
    xmlFree(base);
    if (st == SIM_OK)
        st = load_element(scn, root, path, err); /* the root's own attributes: name */
    for (xmlNodePtr el = xml_first_element(root); el && st == SIM_OK; el = xml_next_element(el))
        st = load_element(scn, el, path, err);
    scn->files_applied++;
    xmlFreeDoc(doc);
    return st;
}

enum sim_status scn_load(struct scenario *scn, const char *path, struct sim_error *err)
{
    struct base_chain chain = {0};
    struct stat sb;
    if (stat(path, &sb) == 0) /* else xml_load says why it cannot open the file */
        chain_push(&chain, &sb, path);
    return load_chain(scn, path, &chain, err);
}
