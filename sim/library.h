/* library: the shipped model and hardware descriptions, found by name.
 *
 * `model=llama3.1-70b` or `hardware=dgx-h100` (a bare name: no '/') that is not a file where
 * the value is read from names KIND/NAME.xml (or KIND/NAME) in the first folder holding it:
 *   1. $STEPSIM_DATADIR, when set (a relocated installation, or a private library);
 *   2. the source tree stepsim was built from (a build-tree binary);
 *   3. the installed $(pkgdatadir) (share/stepsim: `make install` puts models/ and hardware/
 *      there).
 * KIND is "models" or "hardware".  Paths are capped at 1024 bytes; a folder lists at most
 * LIBRARY_MAX_NAMES names. */
#ifndef STEPSIM_LIBRARY_H
#define STEPSIM_LIBRARY_H

#include <stddef.h>

#include "nearest.h"

#define LIBRARY_MAX_NAMES 256

struct library_names {
    int n;
    char name[LIBRARY_MAX_NAMES][NEAREST_MAX_LEN]; /* sorted, without .xml */
};

/* Is `name` a bare name (no '/', not empty) that the library may resolve? */
int library_is_name(const char *name);
/* The path of KIND/NAME in the library into out; 0, or -1 when no folder has it. */
int library_find(const char *kind, const char *name, char *out, size_t len);
/* Every name of KIND the library holds, sorted, each once; returns out->n. */
int library_list(const char *kind, struct library_names *out);
/* What the library holds of KIND: "a, b, c" (sorted, without .xml) into list, whole names
 * only, ending "..." where the rest does not fit; into near, quoted, the name nearest to
 * `name` (a typo: "'dgx-h100'"), else the few names that hold it ("'dgx-h200' or
 * 'hgx-h200-4gpu'"), else "".  Returns the number of names. */
int library_names(const char *kind, const char *name, char *near, size_t nlen, char *list,
                  size_t llen);

#endif
