/* xmlload: safe libxml2 parsing and schema validation (see xmlload.h for the policy). */
#include "xmlload.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "alloc.h"
#include "xsdhint.h"

/* The first libxml2 error seen during one parse or validation. */
struct xml_capture {
    int seen;
    int line;
    char msg[512];
    char element[64], attr[64]; /* an attribute the schema does not allow there, else "" */
};

/* Store the first error, flattened to one line: libxml2 messages may span lines ("Input is
 * not proper UTF-8 ...\nBytes: 0xFF ...") and stepsim reports each problem on one line. */
static void capture_error(void *user, xmlErrorPtr e)
{
    struct xml_capture *cap = user;
    if (cap->seen || !e)
        return;
    cap->seen = 1;
    cap->line = e->line;
    /* Schema errors name the node; its line is exact even past 65535. */
    if (e->domain == XML_FROM_SCHEMASV && e->node)
        cap->line = (int)xml_line(e->node);
    /* "The attribute 'x' is not allowed": libxml2 names the attribute in str1 and gives its
     * element as the node.  Kept for the hint validate() adds. */
    const xmlNode *node = e->node;
    if (e->domain == XML_FROM_SCHEMASV && e->code == XML_SCHEMAV_CVC_COMPLEX_TYPE_3_2_1 && node &&
        e->str1) {
        if (node->type == XML_ATTRIBUTE_NODE && node->parent)
            node = node->parent;
        snprintf(cap->attr, sizeof cap->attr, "%s", e->str1);
        snprintf(cap->element, sizeof cap->element, "%s", (const char *)node->name);
    }
    snprintf(cap->msg, sizeof cap->msg, "%s", e->message ? e->message : "XML error");
    for (char *c = cap->msg; *c; c++)
        if (*c == '\n' || *c == '\r' || *c == '\t')
            *c = ' ';
    size_t n = strlen(cap->msg);
    while (n > 0 && cap->msg[n - 1] == ' ')
        cap->msg[--n] = '\0';
}

/* What one parse carries in the parser context's _private: the first error and the counts
 * the caps in xmlload.h are checked against.  `cap` comes first: capture_parse_error reads
 * _private as a capture. */
struct parse_guard {
    struct xml_capture cap;
    long elements;
};

/* libxml2 reports a few low-level problems (I/O, character conversion) through its generic
 * handler, which prints to stderr.  During a parse that handler is this one, for the calling
 * thread only (libxml2 keeps it per thread): the message is captured like any other and
 * stepsim's one-line error stays the only output. */
static void capture_generic_error(void *user, const char *fmt, ...)
{
    struct xml_capture *cap = user;
    if (cap->seen)
        return;
    cap->seen = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cap->msg, sizeof cap->msg, fmt, ap);
    va_end(ap);
    for (char *c = cap->msg; *c; c++)
        if (*c == '\n' || *c == '\r' || *c == '\t')
            *c = ' ';
}

/* Stop the parse with `msg` as its error (the first error wins, as everywhere). */
static void stop_parse(xmlParserCtxtPtr ctxt, struct parse_guard *guard, const char *msg)
{
    if (!guard->cap.seen) {
        guard->cap.seen = 1;
        guard->cap.line = ctxt->input ? ctxt->input->line : 0;
        snprintf(guard->cap.msg, sizeof guard->cap.msg, "%s", msg);
    }
    xmlStopParser(ctxt);
}

static void note_attribute_lines(xmlParserCtxtPtr ctxt, xmlNodePtr el, int n,
                                 const xmlChar **attributes);

/* Each element start checks the element-count and depth caps before the node is built, so a
 * flood of elements costs at most the cap in memory.  libxml2 keeps an element's line in an
 * unsigned short (65535 = "or more"); for files that long the real line is kept in the
 * element's application field _private, which nothing else in stepsim uses. */
static void start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                          const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                          int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct parse_guard *guard = ctxt->_private;
    char why[96];
    if (++guard->elements > XML_MAX_ELEMENTS) {
        snprintf(why, sizeof why, "more than %d elements", XML_MAX_ELEMENTS);
        stop_parse(ctxt, guard, why);
        return;
    }
    /* nameNr counts the open ancestors: this element is pushed after its start callback. */
    if (ctxt->nameNr >= XML_MAX_DEPTH) {
        snprintf(why, sizeof why, "elements nested more than %d deep", XML_MAX_DEPTH);
        stop_parse(ctxt, guard, why);
        return;
    }
    xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
                          nb_defaulted, attributes);
    if (ctxt->node && ctxt->input && ctxt->input->line >= 65535)
        ctxt->node->_private = (void *)(intptr_t)ctxt->input->line;
    if (ctxt->node)
        note_attribute_lines(ctxt, ctxt->node, nb_attributes - nb_defaulted, attributes);
}

/* Each attribute's own line, in its node's _private: the element's line is where its start
 * tag ends, and a tag spread over lines would cite its last line for every attribute.  The
 * parser hands over each value as pointers into the input it is reading (5 per attribute:
 * name, prefix, URI, value, end), the current position just past the tag: the newlines
 * between a value and that position, taken from the current line, give the value's line --
 * counted in one backward pass over the tag, from the last attribute to the first.  A value
 * the parser had to copy (an entity, a character outside ASCII, a tab) keeps the element's
 * line. */
static void note_attribute_lines(xmlParserCtxtPtr ctxt, xmlNodePtr el, int n,
                                 const xmlChar **attributes)
{
    const xmlParserInput *in = ctxt->input;
    if (!in || !in->base || !in->cur || in->line <= 0 || n <= 0 || n > XML_MAX_ATTRS_NOTED)
        return;
    xmlAttrPtr node[XML_MAX_ATTRS_NOTED];
    int k = 0;
    for (xmlAttrPtr a = el->properties; a && k < n; a = a->next)
        node[k++] = a;
    const xmlChar *p = in->cur; /* scanned back to here; newlines seen on the way */
    long newlines = 0;
    for (int i = k - 1; i >= 0; i--) {
        const xmlChar *value = attributes[5 * i + 3];
        uintptr_t v = (uintptr_t)value; /* the value may lie outside the input: compare addresses */
        if (!value || v < (uintptr_t)in->base || v > (uintptr_t)p)
            continue;
        for (; p > value; p--)
            newlines += p[-1] == '\n';
        long line = (long)in->line - newlines;
        if (line > 0)
            node[i]->_private = (void *)(intptr_t)line;
    }
}

long xml_line(const xmlNode *node)
{
    if (node && node->type == XML_ATTRIBUTE_NODE) {
        if (node->_private)
            return (long)(intptr_t)node->_private;
        node = node->parent;
    }
    if (!node)
        return 0;
    if (node->type == XML_ELEMENT_NODE && node->line == 65535 && node->_private)
        return (long)(intptr_t)node->_private;
    return node->line;
}

/* Parser errors arrive with the parser context as user data (libxml2 passes ctxt->userData,
 * which SAX2 needs to be the context itself); the capture rides in ctxt->_private. */
static void capture_parse_error(void *user, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = user;
    capture_error(ctxt->_private, e);
}

static int line_of(const char *buf, const char *at)
{
    int line = 1;
    for (const char *p = buf; p < at; p++)
        line += *p == '\n';
    return line;
}

/* Open an input for reading without ever blocking on it: a FIFO opens at once (reading it
 * then gives what its writer sends, or end of file when it has none), and a device, socket or
 * other special file is refused before it is read -- a tty or /dev/zero would wait or stream
 * forever.  Regular files and pipes (a shell's `<` or process substitution) are read. */
static enum sim_status open_input(const char *path, FILE **out, int *fifo, struct sim_error *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0 && !path[0]) /* the file part of "FILE: ..." would be empty */
        return err_set(err, SIM_EINPUT, NULL, 0, "cannot open '': an empty file name");
    if (fd < 0)
        return err_set(err, SIM_EINPUT, path, 0, "cannot open: %s", strerror(errno));
    struct stat sb;
    const char *kind = NULL;
    if (fstat(fd, &sb) != 0)
        kind = "a file that cannot be examined";
    else if (S_ISCHR(sb.st_mode))
        kind = "a character device";
    else if (S_ISBLK(sb.st_mode))
        kind = "a block device";
    else if (S_ISSOCK(sb.st_mode))
        kind = "a socket";
    /* Reads block again (a pipe's writer may be slow); directories fail at the first read. */
    int flags = kind ? -1 : fcntl(fd, F_GETFL);
    if (kind || flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        close(fd);
        return err_set(err, SIM_EINPUT, path, 0, "cannot read: %s, not a regular file",
                       kind ? kind : "a file whose flags cannot be set");
    }
    *fifo = S_ISFIFO(sb.st_mode);
    *out = fdopen(fd, "rb");
    if (!*out) {
        int e = errno;
        close(fd);
        return err_set(err, SIM_EFAIL, path, 0, "cannot open: %s", strerror(e));
    }
    return SIM_OK;
}

enum sim_status xml_read_file(const char *path, char **out, size_t *len, struct sim_error *err)
{
    int fifo = 0;
    FILE *f = NULL;
    enum sim_status st = open_input(path, &f, &fifo, err);
    if (st != SIM_OK)
        return st;
    /* Grow the buffer as the file is read (most inputs are a few KiB), never past the cap:
     * pipes and files that grow while read are bounded too. */
    size_t cap = 16384, n = 0;
    char *buf = mem_calloc(cap + 1, 1);
    int rerr = 0;
    while (buf) {
        errno = 0;
        n += fread(buf + n, 1, cap - n, f);
        if (ferror(f)) {
            rerr = errno ? errno : EIO;
            break;
        }
        if (n < cap || cap > XML_MAX_FILE_BYTES)
            break;
        size_t bigger = cap * 4 > XML_MAX_FILE_BYTES + 1 ? XML_MAX_FILE_BYTES + 1 : cap * 4;
        char *grown = mem_realloc(buf, bigger + 1, 1);
        if (!grown) {
            mem_free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap = bigger;
    }
    fclose(f);
    if (!buf)
        return err_set(err, SIM_EFAIL, path, 0, "out of memory reading the file");
    buf[n] = '\0';
    if (rerr) {
        mem_free(buf);
        return err_set(err, SIM_EINPUT, path, 0, "cannot read: %s", strerror(rerr));
    }
    if (n > XML_MAX_FILE_BYTES) {
        mem_free(buf);
        return err_set(err, SIM_EINPUT, path, 0, "file larger than the %u-byte cap",
                       XML_MAX_FILE_BYTES);
    }
    if (n == 0) {
        mem_free(buf);
        return err_set(err, SIM_EINPUT, path, 0, "%s",
                       fifo ? "file is empty (a FIFO or pipe nothing was written to)"
                            : "file is empty");
    }
    if (memchr(buf, '\0', n)) {
        mem_free(buf);
        return err_set(err, SIM_EINPUT, path, 0, "file contains NUL bytes: not an XML text file");
    }
    *out = buf;
    *len = n;
    return SIM_OK;
}

/* DTDs are how entity bombs and external entities get in; stepsim's formats need none. */
static enum sim_status refuse_dtd(const char *path, const char *buf, struct sim_error *err)
{
    static const char *const markers[] = {"<!DOCTYPE", "<!ENTITY", "<!ELEMENT", "<!ATTLIST"};
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
        const char *at = strstr(buf, markers[i]);
        if (at)
            return err_set(err, SIM_EINPUT, path, line_of(buf, at),
                           "%s declarations are not allowed (no DTDs or entities)", markers[i]);
    }
    return SIM_OK;
}

/* stepsim's files are UTF-8 (ASCII is a subset).  A declared legacy encoding would route the
 * text through iconv, whose conversion errors libxml2 reports on stderr rather than to the
 * parser's handler; one policy is simpler than two error paths.  The declaration, if any, is
 * the first thing in the file (after an optional UTF-8 byte-order mark). */
static enum sim_status refuse_other_encodings(const char *path, const char *buf,
                                              struct sim_error *err)
{
    if (strncmp(buf, "\xEF\xBB\xBF", 3) == 0)
        buf += 3;
    if (strncmp(buf, "<?xml", 5) != 0)
        return SIM_OK;
    const char *end = strstr(buf, "?>");
    const char *at = strstr(buf, "encoding");
    if (!at || (end && at > end))
        return SIM_OK;
    at += strlen("encoding");
    at += strspn(at, " \t\r\n");
    if (*at == '=')
        at++;
    at += strspn(at, " \t\r\n");
    if (*at != '"' && *at != '\'')
        return SIM_OK; /* malformed: the parser names it */
    char quote = *at++;
    size_t n = strcspn(at, quote == '"' ? "\"" : "'");
    if ((n == 5 && strncasecmp(at, "UTF-8", 5) == 0) ||
        (n == 8 && strncasecmp(at, "US-ASCII", 8) == 0) ||
        (n == 5 && strncasecmp(at, "ASCII", 5) == 0))
        return SIM_OK;
    return err_set(err, SIM_EINPUT, path, line_of(buf, at),
                   "encoding \"%.*s\" is not supported: stepsim reads UTF-8 files",
                   n > 40 ? 40 : (int)n, at);
}

/* Compiled schemas, one per embedded XSD text, built on first use and kept for the process.
 * Compiling an XSD costs far more than validating a small document, and sweeps, plans and the
 * fuzzer load thousands of files.  A compiled xmlSchema is only read by validation (each call
 * has its own validation context), so sharing it between threads is safe; the mutex guards the
 * table only while an entry is being added.  This is the one process-wide cache in stepsim: it
 * holds immutable data derived from constants, never simulation state. */
#define SCHEMA_CACHE_MAX 8
static struct {
    const char *xsd;
    xmlSchemaPtr schema;
} schema_cache[SCHEMA_CACHE_MAX];
static pthread_mutex_t schema_lock = PTHREAD_MUTEX_INITIALIZER;

static xmlSchemaPtr compiled_schema(const char *xsd, struct xml_capture *cap)
{
    xmlSchemaPtr schema = NULL;
    pthread_mutex_lock(&schema_lock);
    int i = 0;
    for (; i < SCHEMA_CACHE_MAX && schema_cache[i].xsd; i++)
        if (schema_cache[i].xsd == xsd) {
            schema = schema_cache[i].schema;
            break;
        }
    if (!schema) {
        xmlSchemaParserCtxtPtr pctxt = xmlSchemaNewMemParserCtxt(xsd, (int)strlen(xsd));
        if (pctxt) {
            xmlSchemaSetParserStructuredErrors(pctxt, capture_error, cap);
            schema = xmlSchemaParse(pctxt);
            xmlSchemaFreeParserCtxt(pctxt);
        }
        /* A full table cannot happen (stepsim embeds three schemas); the assert says so. */
        assert(i < SCHEMA_CACHE_MAX);
        if (schema && i < SCHEMA_CACHE_MAX) {
            schema_cache[i].xsd = xsd;
            schema_cache[i].schema = schema;
        }
    }
    pthread_mutex_unlock(&schema_lock);
    return schema;
}

static enum sim_status validate(const char *path, xmlDocPtr doc, const char *xsd,
                                struct sim_error *err)
{
    enum sim_status st = SIM_OK;
    struct xml_capture cap = {0};
    xmlSchemaPtr schema = compiled_schema(xsd, &cap);
    if (!schema)
        return err_set(err, SIM_EFAIL, path, 0, "internal error: cannot compile the schema: %s",
                       cap.seen ? cap.msg : "?");
    xmlSchemaValidCtxtPtr vctxt = xmlSchemaNewValidCtxt(schema);
    if (!vctxt)
        return err_set(err, SIM_EFAIL, path, 0, "out of memory validating the file");
    xmlSchemaSetValidStructuredErrors(vctxt, capture_error, &cap);
    int rc = xmlSchemaValidateDoc(vctxt, doc);
    char hint[160] = "";
    if (rc != 0 && cap.seen && cap.attr[0] &&
        xsdhint_attribute(xsd, cap.element, cap.attr, hint, sizeof hint) > 0) {
        size_t n = strlen(cap.msg); /* libxml2's sentence ends with a full stop */
        if (n > 0 && cap.msg[n - 1] == '.')
            cap.msg[n - 1] = '\0';
    }
    if (rc != 0)
        st = err_set(err, SIM_EINPUT, path, cap.seen ? cap.line : 0, "%s%s%s",
                     cap.seen ? cap.msg : "does not match the schema", hint[0] ? ": " : "", hint);
    xmlSchemaFreeValidCtxt(vctxt);
    return st;
}

/* Read and parse `path` under the policy in xmlload.h; no root or schema check.  On success
 * *out owns the document. */
static enum sim_status parse_file(const char *path, xmlDocPtr *out, struct sim_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    xmlDocPtr doc = NULL;
    enum sim_status st = xml_read_file(path, &buf, &len, err);
    if (st != SIM_OK)
        return st;
    st = refuse_dtd(path, buf, err);
    if (st == SIM_OK)
        st = refuse_other_encodings(path, buf, err);
    if (st != SIM_OK)
        goto fail;

    struct parse_guard guard = {0};
    struct xml_capture *cap = &guard.cap;
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        st = err_set(err, SIM_EFAIL, path, 0, "out of memory creating the XML parser");
        goto fail;
    }
    /* Errors go to this context only: no process-wide libxml2 handler is touched. */
    ctxt->_private = &guard;
    ctxt->sax->serror = capture_parse_error;
    ctxt->sax->startElementNs = start_element;
    /* NONET: no network; no NOENT/DTDLOAD/DTDVALID/XINCLUDE/HUGE: entities stay unexpanded,
     * no external files are read, default size limits hold. */
    xmlGenericErrorFunc saved_handler = xmlGenericError;
    void *saved_context = xmlGenericErrorContext;
    xmlSetGenericErrorFunc(cap, capture_generic_error);
    doc = xmlCtxtReadMemory(ctxt, buf, (int)len, path, NULL, XML_PARSE_NONET);
    xmlSetGenericErrorFunc(saved_context, saved_handler);
    int wellformed = ctxt->wellFormed;
    xmlFreeParserCtxt(ctxt);
    if (!doc || cap->seen || !wellformed) {
        st = err_set(err, SIM_EINPUT, path, cap->seen ? cap->line : 0, "malformed XML: %s",
                     cap->seen ? cap->msg : "cannot parse");
        goto fail;
    }
    mem_free(buf);
    *out = doc;
    return SIM_OK;
fail:
    xmlFreeDoc(doc);
    mem_free(buf);
    return st;
}

/* The error for a root that is none of `roots`: "root element is <x>, expected <a>",
 * "... expected <a> or <b>", "... expected <a>, <b> or <c>". */
static enum sim_status wrong_root(const char *path, xmlNodePtr root, const char *const *roots,
                                  int nroots, struct sim_error *err)
{
    char want[256] = "";
    size_t used = 0;
    for (int i = 0; i < nroots && used < sizeof want; i++) {
        const char *sep = i == 0 ? "" : i == nroots - 1 ? " or " : ", ";
        int w = snprintf(want + used, sizeof want - used, "%s<%s>", sep, roots[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return err_set(err, SIM_EINPUT, path, root ? (int)xml_line(root) : 0,
                   "root element is <%s>, expected %s", root ? (const char *)root->name : "", want);
}

enum sim_status xml_load(const char *path, const char *root_name, const char *xsd, xmlDocPtr *out,
                         struct sim_error *err)
{
    xmlDocPtr doc = NULL;
    enum sim_status st = parse_file(path, &doc, err);
    if (st != SIM_OK)
        return st;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root || strcmp((const char *)root->name, root_name) != 0) {
        st = wrong_root(path, root, &root_name, 1, err);
        goto fail;
    }
    st = validate(path, doc, xsd, err);
    if (st != SIM_OK)
        goto fail;
    *out = doc;
    return SIM_OK;
fail:
    xmlFreeDoc(doc);
    return st;
}

enum sim_status xml_peek_root(const char *path, const char *const *roots, int nroots, int *which,
                              struct sim_error *err)
{
    assert(nroots >= 1);
    xmlDocPtr doc = NULL;
    enum sim_status st = parse_file(path, &doc, err);
    if (st != SIM_OK)
        return st;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    st = SIM_EINPUT;
    for (int i = 0; root && i < nroots; i++)
        if (strcmp((const char *)root->name, roots[i]) == 0) {
            *which = i;
            st = SIM_OK;
            break;
        }
    if (st != SIM_OK)
        st = wrong_root(path, root, roots, nroots, err);
    xmlFreeDoc(doc);
    return st;
}

xmlNodePtr xml_first_element(xmlNodePtr node)
{
    xmlNodePtr c = node ? node->children : NULL;
    while (c && c->type != XML_ELEMENT_NODE)
        c = c->next;
    return c;
}

xmlNodePtr xml_next_element(xmlNodePtr node)
{
    xmlNodePtr c = node ? node->next : NULL;
    while (c && c->type != XML_ELEMENT_NODE)
        c = c->next;
    return c;
}
