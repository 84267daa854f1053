/* cliutil: pieces every stepsim command's argument handling shares. */
#ifndef STEPSIM_CLIUTIL_H
#define STEPSIM_CLIUTIL_H

#include <stdio.h>

#include "error.h"

/* "stepsim: TEXT" on one line; control characters echoed from the input become '?', so every
 * problem is exactly one line on stderr. */
void cli_error_line(FILE *errout, const char *text);
/* Print err as "stepsim: file:line: message"; return its exit status (1 or 2). */
int cli_fail(FILE *errout, const struct sim_error *err);
/* A command-line mistake: one line naming it and where to look (`hint`, e.g. "stepsim
 * --help"); returns exit status 2. */
int cli_bad_usage(FILE *errout, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "--opt VALUE" or "--opt=VALUE" at argv[*i]: the value (advancing *i past a separate value),
 * "" when the value is missing, NULL when argv[*i] is not this option. */
const char *cli_opt_value(int argc, char **argv, int *i, const char *name);

/* A file a command reads or writes, named for messages ("the scenario", "--timeline"). */
struct cli_file {
    const char *what;
    const char *path; /* NULL or "": none */
};
/* An output never destroys an input or another output: SIM_EINPUT when `path`, the output of
 * `option`, is the same file as one of the n `files` -- by device and inode when both exist,
 * by folder and name when neither does yet.  Character devices (/dev/null) never clash:
 * writing one twice destroys nothing.  Call it before anything runs. */
enum sim_status cli_check_output(const char *option, const char *path, const struct cli_file *files,
                                 int n, struct sim_error *err);
/* Write the output `path` whole with fn (0, or nonzero on a write error), atomically
 * (outfile.h): a failure leaves no partial file. */
enum sim_status cli_write_file(const char *path, int (*fn)(FILE *out, const void *user),
                               const void *user, struct sim_error *err);

#endif
