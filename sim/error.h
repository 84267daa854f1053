/* error: the caller-owned error record every fallible function fills.
 *
 * Deep code never prints and never exits: it returns a status and writes one message, which
 * main prints as "file:line: message" (git's rules: what is wrong first, with the value). */
#ifndef STEPSIM_ERROR_H
#define STEPSIM_ERROR_H

#include <stddef.h>

enum sim_status {
    SIM_OK = 0,
    SIM_EFAIL = 1,  /* simulation or I/O failure: exit status 1 */
    SIM_EINPUT = 2, /* bad input (file, value, option): exit status 2 */
};

struct sim_error {
    enum sim_status status;
    char file[256]; /* where the bad input is; empty when not tied to a file */
    int line;       /* 1-based line in `file`; 0 when unknown */
    char msg[768];
};

void err_clear(struct sim_error *err);
/* Record an error and return `status` so callers can `return err_set(...)`.  `err` may be NULL. */
enum sim_status err_set(struct sim_error *err, enum sim_status status, const char *file, int line,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Render as "file:line: msg", "file: msg" or "msg" into buf. */
void err_format(const struct sim_error *err, char *buf, size_t len);

#endif
