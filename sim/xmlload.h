/* xmlload: the one way stepsim reads XML.
 *
 * libxml2 is used defensively: the file is read with a size cap, documents with a DOCTYPE or
 * entity declarations or declaring an encoding other than UTF-8 are refused before parsing,
 * element count and nesting depth are capped while parsing, parsing never touches the network and
 * never substitutes entities, loads DTDs or processes XInclude, and every document is validated
 * against a schema compiled into the binary.  Errors carry file:line. */
#ifndef STEPSIM_XMLLOAD_H
#define STEPSIM_XMLLOAD_H

#include <libxml/tree.h>

#include "error.h"

#define XML_MAX_FILE_BYTES (4u << 20) /* 4 MiB: scenarios are a few KiB */
#define XML_MAX_ELEMENTS 100000       /* the largest shipped file has a few hundred */
#define XML_MAX_DEPTH 32              /* the schemas need 4; libxml2's own limit is 256 */

/* Parse `path`, check its root is <root_name>, validate against the XSD text `xsd`.  On
 * success *out owns the document (free with xmlFreeDoc). */
enum sim_status xml_load(const char *path, const char *root_name, const char *xsd, xmlDocPtr *out,
                         struct sim_error *err);

/* Which of `roots` (nroots >= 1 element names) is the root element of `path`?  Parses under
 * the same policy as xml_load (size cap, no DTDs, no network) but does not validate; sets
 * *which to the index.  A root not in the list is SIM_EINPUT "root element is <x>, expected
 * <a>, <b> or <c>" at the root's line.  For callers that accept several kinds of file; the
 * file is parsed again by the loader they then call (files are small: see the cap). */
enum sim_status xml_peek_root(const char *path, const char *const *roots, int nroots, int *which,
                              struct sim_error *err);

/* The bytes of the XML text file `path`, NUL-terminated, as every loader reads them: regular
 * files and FIFOs, at most XML_MAX_FILE_BYTES, not empty, no NUL byte.  *out is the caller's
 * (mem_free).  Errors: SIM_EINPUT naming the file, SIM_EFAIL when memory runs out. */
enum sim_status xml_read_file(const char *path, char **out, size_t *len, struct sim_error *err);

/* Attributes of one element whose own lines are noted (more keep the element's line). */
#define XML_MAX_ATTRS_NOTED 256

/* 1-based source line of an element, or of an attribute (its value's line where the parser
 * read it in place, else its element's), exact past 65535 lines, which xmlGetLineNo() is not;
 * 0 when unknown. */
long xml_line(const xmlNode *node);

/* Iterate the element children of `node` (skipping text and comments). */
xmlNodePtr xml_first_element(xmlNodePtr node);
xmlNodePtr xml_next_element(xmlNodePtr node);

#endif
