/* outfile: output files written atomically.
 *
 * Data goes to "PATH.tmp.NNNNNN" beside the target and is renamed over PATH only when complete,
 * so an interrupted or failed run never leaves a truncated CSV, trace or plot behind. */
#ifndef STEPSIM_OUTFILE_H
#define STEPSIM_OUTFILE_H

#include <stdio.h>

#include "error.h"

struct outfile {
    FILE *fp;
    char path[4096];
    char tmp[4096 + 16];
};

enum sim_status outfile_open(struct outfile *of, const char *path, struct sim_error *err);
/* Flush, close and rename into place; on failure the temp file is removed. */
enum sim_status outfile_commit(struct outfile *of, struct sim_error *err);
/* Close and remove the temp file (safe after a failed open or commit). */
void outfile_abort(struct outfile *of);

/* Write s as a JSON string literal (quotes and escapes). */
void json_put_string(FILE *out, const char *s);

#endif
