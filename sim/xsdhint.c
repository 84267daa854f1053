/* xsdhint: where a schema declares an attribute, for the error a misplaced one is given (see
 * xsdhint.h).  The XSD is walked as a plain document: each <xs:attribute name=...> belongs to
 * its nearest enclosing <xs:element name=...>; attributes of named types (hardware.xsd's
 * "curve") have no element of their own here and are left out.  O(attributes) per call, with
 * nearest_word's O(len^2) per name: a few hundred names, on the error path only. */
#include "xsdhint.h"

#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "nearest.h"

/* The three shipped schemas declare about 100, 60 and 50 attributes; a schema with more
 * is given hints from its first XSDHINT_MAX only. */
#define XSDHINT_MAX 512

struct decl {
    const char *element; /* owned by the parsed XSD document */
    const char *attr;
};

struct decls {
    int n;
    struct decl d[XSDHINT_MAX];
};

static int is_xs(const xmlNode *n, const char *local)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, local) == 0;
}

static const char *prop(const xmlNode *n, const char *name)
{
    for (const xmlAttr *a = n->properties; a; a = a->next)
        if (strcmp((const char *)a->name, name) == 0 && a->children && a->children->content)
            return (const char *)a->children->content;
    return NULL;
}

/* The nearest enclosing declared element's name, or NULL under a named type. */
static const char *owner_of(const xmlNode *n)
{
    for (const xmlNode *p = n->parent; p && p->type == XML_ELEMENT_NODE; p = p->parent) {
        if (is_xs(p, "element") && prop(p, "name"))
            return prop(p, "name");
        if (is_xs(p, "complexType") && prop(p, "name"))
            return NULL;
    }
    return NULL;
}

/* Depth-first over the schema's elements (an XSD nests a handful deep). */
static void collect(const xmlNode *n, struct decls *out)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *name = prop(n, "name"), *owner;
        if (is_xs(n, "attribute") && name && (owner = owner_of(n)) && out->n < XSDHINT_MAX)
            out->d[out->n++] = (struct decl){owner, name};
        collect(n->children, out);
    }
}

/* "<a>", "<a> or <b>", "<a>, <b> or <c>": the elements declaring attr, each once. */
static size_t placement(const struct decls *ds, const char *attr, char *out, size_t len)
{
    const char *owners[8];
    int k = 0;
    for (int i = 0; i < ds->n && k < 8; i++) {
        if (strcmp(ds->d[i].attr, attr) != 0)
            continue;
        int seen = 0;
        for (int j = 0; j < k; j++)
            seen |= strcmp(owners[j], ds->d[i].element) == 0;
        if (!seen)
            owners[k++] = ds->d[i].element;
    }
    if (k == 0)
        return 0;
    size_t used = (size_t)snprintf(out, len, "it belongs on ");
    for (int j = 0; j < k && used < len; j++) {
        const char *sep = j == 0 ? "" : j == k - 1 ? " or " : ", ";
        used += (size_t)snprintf(out + used, len - used, "%s<%s>", sep, owners[j]);
    }
    return strlen(out);
}

/* "did you mean 'x'?" from the names `element` declares, else "did you mean 'x' (on <e>)?"
 * from all. */
static size_t nearest_name(const struct decls *ds, const char *element, const char *attr, char *out,
                           size_t len)
{
    const char *words[XSDHINT_MAX];
    int owner_of_word[XSDHINT_MAX];
    for (int pass = 0; pass < 2; pass++) {
        size_t n = 0;
        for (int i = 0; i < ds->n; i++)
            if (pass == 1 || strcmp(ds->d[i].element, element) == 0) {
                owner_of_word[n] = i;
                words[n++] = ds->d[i].attr;
            }
        int w = nearest_word(attr, words, n);
        if (w < 0)
            continue;
        const struct decl *d = &ds->d[owner_of_word[w]];
        if (pass == 0)
            snprintf(out, len, "did you mean '%s'?", d->attr);
        else
            snprintf(out, len, "did you mean '%s' (on <%s>)?", d->attr, d->element);
        return strlen(out);
    }
    return 0;
}

size_t xsdhint_attribute(const char *xsd, const char *element, const char *attr, char *out,
                         size_t len)
{
    if (len == 0)
        return 0;
    out[0] = '\0';
    /* The XSD is one of the schemas compiled into the binary: no network, no entities. */
    xmlDocPtr doc = xmlReadMemory(xsd, (int)strlen(xsd), "schema.xsd", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return 0;
    struct decls ds = {0}; /* 8 KiB: on the stack, as nearest.c's table is */
    collect(xmlDocGetRootElement(doc), &ds);
    size_t n = placement(&ds, attr, out, len);
    if (n == 0)
        n = nearest_name(&ds, element, attr, out, len);
    xmlFreeDoc(doc);
    return n;
}
