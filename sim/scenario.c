/* scenario: the key table, value parsing and cross-field rules for scenario inputs.
 *
 * One table maps each key to its type and field; XML attributes and --set overrides both go
 * through scn_set(), so a value is parsed and range-checked in exactly one place. */
#include "scenario.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "schedule.h"
#include "units.h"
#include "embedded.h"
#include "xmlload.h"

enum value_type { VT_NAME, VT_INT, VT_TIME, VT_BYTES, VT_BANDWIDTH, VT_BOOL, VT_SEED };

struct key_spec {
    const char *name;
    enum value_type type;
    size_t offset;
    long min, max; /* VT_INT range */
};

#define FIELD(f) offsetof(struct scenario, f)
/* Indexed by enum scn_key. */
static const struct key_spec keys[SCN_KEY_COUNT] = {
    [SCN_NAME] = {"name", VT_NAME, FIELD(name), 0, 0},
    [SCN_SCHEDULE] = {"schedule", VT_NAME, FIELD(schedule), 0, 0},
    [SCN_PP] = {"pp", VT_INT, FIELD(pp), 1, 1 << 16},
    [SCN_VP] = {"vp", VT_INT, FIELD(vp), 1, 1 << 10},
    [SCN_VP_GROUP] = {"vp-group", VT_INT, FIELD(vp_group), 1, 1 << 24},
    [SCN_MICROBATCHES] = {"microbatches", VT_INT, FIELD(microbatches), 1, 1 << 24},
    [SCN_MICRO_BATCH] = {"micro-batch", VT_INT, FIELD(micro_batch), 1, 1 << 20},
    [SCN_SEQ] = {"seq", VT_INT, FIELD(seq), 1, 1 << 28},
    [SCN_LAYERS] = {"layers", VT_INT, FIELD(layers), 1, 1 << 20},
    [SCN_FORWARD] = {"forward", VT_TIME, FIELD(forward_s), 0, 0},
    [SCN_BACKWARD_INPUT] = {"backward-input", VT_TIME, FIELD(bwd_input_s), 0, 0},
    [SCN_BACKWARD_WEIGHT] = {"backward-weight", VT_TIME, FIELD(bwd_weight_s), 0, 0},
    [SCN_SPLIT_BACKWARD] = {"split-backward", VT_BOOL, FIELD(split_backward), 0, 0},
    [SCN_ACTIVATION] = {"activation", VT_BYTES, FIELD(activation_B), 0, 0},
    [SCN_OPTIMIZER] = {"optimizer", VT_TIME, FIELD(optimizer_s), 0, 0},
    [SCN_LINK_LATENCY] = {"link-latency", VT_TIME, FIELD(link_lat_s), 0, 0},
    [SCN_LINK_BANDWIDTH] = {"link-bandwidth", VT_BANDWIDTH, FIELD(link_bw_Bps), 0, 0},
    [SCN_SEED] = {"seed", VT_SEED, FIELD(seed), 0, 0},
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

/* Errors from --set have no file line; name the option instead. */
static enum sim_status value_error(const char *file, int line, const char *key,
                                   const char *value, const char *why, struct sim_error *err)
{
    if (file)
        return err_set(err, SIM_EINPUT, file, line, "%s: %s", key, why);
    return err_set(err, SIM_EINPUT, NULL, 0, "--set %s=%s: %s", key, value, why);
}

enum sim_status scn_set(struct scenario *scn, const char *key, const char *value,
                        const char *file, int line, struct sim_error *err)
{
    int k = scn_key_find(key);
    if (k < 0) {
        char list[512];
        known_key_list(list, sizeof list);
        if (file)
            return err_set(err, SIM_EINPUT, file, line, "unknown key '%s'", key);
        return err_set(err, SIM_EINPUT, NULL, 0, "--set: unknown key '%s' (known: %s)", key,
                       list);
    }
    const struct key_spec *ks = &keys[k];
    char *field = (char *)scn + ks->offset;
    char why[256];
    long iv;
    double dv;
    int bv;

    switch (ks->type) {
    case VT_NAME: {
        size_t cap = k == SCN_NAME ? sizeof scn->name : sizeof scn->schedule;
        size_t n = strlen(value);
        if (n == 0 || n >= cap) {
            snprintf(why, sizeof why, "'%.40s' must be 1 to %zu characters", value, cap - 1);
            return value_error(file, line, key, value, why, err);
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
        if (uk == UNIT_BANDWIDTH && dv <= 0.0)
            return value_error(file, line, key, value, "bandwidth must be positive", err);
        if (uk == UNIT_TIME && dv > 1e6)
            return value_error(file, line, key, value, "time above 10^6 s", err);
        *(double *)(void *)field = dv;
        break;
    }
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

/* A rule broken by `key`'s value: cite where that value came from. */
static enum sim_status rule_error(const struct scenario *scn, enum scn_key key,
                                  struct sim_error *err, const char *msg)
{
    const struct scn_origin *o = &scn->origin[key];
    if (o->line > 0)
        return err_set(err, SIM_EINPUT, o->file, o->line, "%s", msg);
    if (o->file[0])
        return err_set(err, SIM_EINPUT, NULL, 0, "%s (set by %s)", msg, o->file);
    return err_set(err, SIM_EINPUT, NULL, 0, "%s", msg);
}

enum sim_status scn_check(const struct scenario *scn, struct sim_error *err)
{
    char msg[512];
    const struct sched_type *type = sched_find(scn->schedule);
    if (!type) { /* scn_set rejects unknown names; defaults are known */
        snprintf(msg, sizeof msg, "unknown schedule '%s'", scn->schedule);
        return rule_error(scn, SCN_SCHEDULE, err, msg);
    }
    long stages = (long)scn->pp * scn->vp;
    if (scn->pp > scn->layers) {
        snprintf(msg, sizeof msg, "pp=%d exceeds layers=%d: every pipeline rank needs a layer",
                 scn->pp, scn->layers);
        return rule_error(scn, scn->origin[SCN_PP].file[0] ? SCN_PP : SCN_LAYERS, err, msg);
    }
    if (stages > scn->layers) {
        snprintf(msg, sizeof msg,
                 "pp*vp=%ld model chunks exceed layers=%d: every chunk needs a layer", stages,
                 scn->layers);
        return rule_error(scn, SCN_VP, err, msg);
    }
    if (scn->layers % stages != 0) {
        snprintf(msg, sizeof msg,
                 "layers=%d is not divisible by pp*vp=%ld (pp=%d, vp=%d): chunks would be uneven",
                 scn->layers, stages, scn->pp, scn->vp);
        return rule_error(scn, SCN_LAYERS, err, msg);
    }
    struct sched_params sp = {scn->pp, scn->vp, scn->microbatches, scn->vp_group,
                              scn->split_backward};
    struct sim_error serr;
    err_clear(&serr);
    if (type->check(&sp, &serr) != SIM_OK) {
        enum scn_key culprit = SCN_SCHEDULE;
        if (scn->origin[SCN_VP_GROUP].file[0] && strstr(serr.msg, "vp-group"))
            culprit = SCN_VP_GROUP;
        else if (strstr(serr.msg, "microbatches="))
            culprit = SCN_MICROBATCHES;
        else if (strstr(serr.msg, "vp="))
            culprit = SCN_VP;
        return rule_error(scn, culprit, err, serr.msg);
    }
    return SIM_OK;
}

/* XML attribute -> key: attributes of <link> are prefixed ("latency" -> "link-latency"); all
 * others are the key itself.  The schema has already rejected unknown elements/attributes. */
static enum sim_status load_element(struct scenario *scn, xmlNodePtr el, const char *path,
                                    struct sim_error *err)
{
    int line = (int)xmlGetLineNo(el);
    int is_link = strcmp((const char *)el->name, "link") == 0;
    if (is_link)
        scn->link_given = 1;
    for (xmlAttrPtr a = el->properties; a; a = a->next) {
        xmlChar *value = xmlNodeListGetString(el->doc, a->children, 1);
        char key[64];
        snprintf(key, sizeof key, "%s%s", is_link ? "link-" : "", (const char *)a->name);
        enum sim_status st = scn_set(scn, key, value ? (const char *)value : "", path, line, err);
        xmlFree(value);
        if (st != SIM_OK)
            return st;
    }
    return SIM_OK;
}

enum sim_status scn_load(struct scenario *scn, const char *path, struct sim_error *err)
{
    xmlDocPtr doc = NULL;
    enum sim_status st = xml_load(path, "scenario", scenario_xsd, &doc, err);
    if (st != SIM_OK)
        return st;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    st = load_element(scn, root, path, err); /* the root's own attributes: name */
    for (xmlNodePtr el = xml_first_element(root); el && st == SIM_OK; el = xml_next_element(el))
        st = load_element(scn, el, path, err);
    xmlFreeDoc(doc);
    return st;
}
