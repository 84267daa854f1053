/* xsdhint: what to do about an attribute a schema does not allow where it stands -- the
 * element(s) of the schema that declare it, or the nearest name the element does declare.
 *
 * The schema's "The attribute 'cp-comm-type' is not allowed" on <training> says what is wrong
 * but not where the key goes: every scenario key is an attribute of one element, and a user
 * writing a file from the keys' table (`stepsim keys`) meets this first.  The hint is read
 * from the XSD text itself (the schemas compiled into the binary), so it follows the schema
 * with no table of its own.  Only ever called on the error path: the XSD is parsed per call. */
#ifndef STEPSIM_XSDHINT_H
#define STEPSIM_XSDHINT_H

#include <stddef.h>

/* Write to out (len bytes, always terminated) a hint for attribute `attr` refused on
 * <element> under the XSD text `xsd`:
 *   "it belongs on <parallel>" (or "<a> or <b>", "<a>, <b> or <c>") when other elements
 *   declare `attr`;
 *   "did you mean 'micro-batch'?" when `element` declares a name near it (nearest.h);
 *   "did you mean 'seq' (on <batch>)?" when only another element does;
 * else "".  Returns the hint's length (0: no hint, or the XSD could not be read). */
size_t xsdhint_attribute(const char *xsd, const char *element, const char *attr, char *out,
                         size_t len);

#endif
