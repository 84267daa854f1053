/* scenario_load: a scenario file into a scenario -- XML read by the one safe loader and
 * validated against the shipped schema, its base chain first, then each attribute through
 * scn_set(), so a file's values are parsed and range-checked where --set's are (scenario.c).
 * Invariant: every key's origin is the file (and line) that set it last. */
#include "scenario.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "embedded.h"
#include "xmlload.h"

/* XML attribute -> key: attributes of <link> are prefixed ("latency" -> "link-latency"); all
 * others are the key itself.  The schema has already rejected unknown elements/attributes. */
static enum sim_status load_element(struct scenario *scn, xmlNodePtr el, const char *path,
                                    struct sim_error *err)
{
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
        enum sim_status st = scn_set(scn, key, value ? (const char *)value : "", path,
                                     (int)xml_line((const xmlNode *)a), err);
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
    scn_resolve_relative(file, value, resolved, sizeof resolved);
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
    snprintf(scn->file, sizeof scn->file, "%s", path);
    return load_chain(scn, path, &chain, err);
}
