/* cliutil: pieces every stepsim command's argument handling shares. */
#ifndef STEPSIM_CLIUTIL_H
#define STEPSIM_CLIUTIL_H

#include <stdio.h>

#include "error.h"
#include "outfile.h"
#include "scenario.h"

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
/* The thread count's text at argv[*i] as every command takes it: "-j N", "-jN", "-j=N" or
 * "--jobs N" / "--jobs=N" (advancing *i past a separate value); "" when missing, NULL when
 * argv[*i] is not the option.  *name is the option as typed, "--jobs" or "-j", for a message
 * about its value. */
const char *cli_jobs_value(int argc, char **argv, int *i, const char **name);
/* A thread count as every command reads it: digits alone, 0 (the CPUs) to CLI_MAX_JOBS, into
 * *jobs; -1 on a bad value (CLI_JOBS_EXPECTED says what is good). */
#define CLI_MAX_JOBS 1024
int cli_parse_jobs(const char *v, int *jobs);
#define CLI_JOBS_EXPECTED "expected a thread count from 0 (the CPUs) to 1024"

#define CLI_MAX_SETS 256 /* --set options of one command line */
#define CLI_MAX_ONCE (CLI_MAX_SETS + 16) /* its --set keys and the options taking one value */

/* What one command line has given of each option that takes one value (--plot, -j, --out, ...)
 * and of each --set key: a second is a usage error naming both values, since the later
 * silently winning ran something else than asked (--plot a.png --plot a.svg drew only a.svg).
 * Zeroed (with the options struct) before the first argument. */
struct cli_once {
    struct {
        const char *key; /* "--jobs" (-j too), or a --set key: the value's text up to keylen */
        size_t keylen;
        const char *opt, *value; /* as typed, for the message: "-j" "4", "--set" "pp=2" */
    } given[CLI_MAX_ONCE];
    int n;
};
/* Option `opt` given with `value`, standing for `key` (NULL: the option itself; "--jobs" for -j,
 * "seed" for --seed N): 0 the first time, else "KEY given twice (FIRST, then SECOND)" printed
 * to errout with `hint` and its exit status 2. */
int cli_once(struct cli_once *once, const char *key, const char *opt, const char *value,
             FILE *errout, const char *hint);

/* The command line's --set KEY=VALUE values, in order (each key once: cli_once). */
struct cli_sets {
    const char *v[CLI_MAX_SETS];
    int n;
};
/* `opt` (--set, --vary) took `value`, argv[i] or its tail: when that is a key with no '=' or
 * with nothing after it, and the next word is no option, KEY=VALUE was spaced (`--vary pp
 * 1,2`, `--set pp= 2`), which would be read as a key without a value and a second scenario; a
 * usage error saying so (exit status 2), else 0. */
int cli_spaced_value(FILE *errout, const char *hint, const char *opt, const char *value, int argc,
                     char **argv, int i);
/* Keep one --set value: 0, or, when it is empty, one too many or its key's second, a usage
 * error naming `command` ("stepsim plan") printed to errout and its exit status 2. */
int cli_add_set(struct cli_sets *sets, struct cli_once *once, const char *value, FILE *errout,
                const char *command);

/* "--set pp=8 gpus=768": the command line's KEY=VALUE values in order, for a chart's title
 * beside the scenario's name (which they may contradict: "on 1024 A100" run on 768); cut with
 * "..." to fit; "" when there are none. */
void cli_sets_note(const char *const *sets, int nsets, char *buf, size_t len);

/* The warning run and plan print on errout where the scenario's seq is longer than max-seq of
 * the model in `model_path`: a step past it is worth timing, but those positions were never
 * trained.  Nothing where max_seq is 0 (report.model_max_seq, plan_result.model_max_seq). */
void cli_warn_seq_past_max(FILE *errout, int seq, int max_seq, const char *model_path);

/* The files a loaded scenario came from (its bases too) and the model and hardware files it
 * names, as inputs of `os`: no output of the command may overwrite one. */
enum sim_status cli_add_inputs(struct outset *os, const struct scenario *scn,
                               struct sim_error *err);

#endif
