/* cliutil: shared command-line helpers (see cliutil.h). */
#include "cliutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "outfile.h"

void cli_error_line(FILE *errout, const char *text)
{
    fputs("stepsim: ", errout);
    for (const char *c = text; *c; c++)
        fputc(iscntrl((unsigned char)*c) ? '?' : *c, errout);
    fputc('\n', errout);
}

int cli_fail(FILE *errout, const struct sim_error *err)
{
    char buf[1200];
    err_format(err, buf, sizeof buf);
    cli_error_line(errout, buf);
    return err->status == SIM_OK ? 1 : (int)err->status;
}

int cli_bad_usage(FILE *errout, const char *hint, const char *fmt, ...)
{
    char msg[800], line[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "%s (see '%s')", msg, hint);
    cli_error_line(errout, line);
    return 2;
}

const char *cli_opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc)
        return "";
    return argv[++*i];
}

const char *cli_jobs_value(int argc, char **argv, int *i, const char **name)
{
    const char *a = argv[*i], *v = cli_opt_value(argc, argv, i, "--jobs");
    *name = "--jobs";
    if (v)
        return v;
    *name = "-j";
    if (strncmp(a, "-j", 2) == 0 && a[2] != '\0' && a[2] != '=')
        return a + 2; /* -j4, as make takes it */
    return cli_opt_value(argc, argv, i, "-j");
}

int cli_parse_jobs(const char *v, int *jobs)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!isdigit((unsigned char)*v) || *end || errno || n < 0 || n > CLI_MAX_JOBS) /* "+2" too */
        return -1;
    *jobs = (int)n;
    return 0;
}

enum sim_status cli_add_inputs(struct outset *os, const struct scenario *scn, struct sim_error *err)
{
    enum sim_status st = SIM_OK;
    for (int i = 0; i < scn->nloaded && st == SIM_OK; i++)
        st = outset_add_input_id(os, i == 0 ? "scenario" : "base scenario", scn->loaded[i].dev,
                                 scn->loaded[i].ino, scn->loaded[i].path, err);
    if (st == SIM_OK)
        st = outset_add_input(os, "model", scn->model_path, err);
    if (st == SIM_OK)
        st = outset_add_input(os, "hardware", scn->hardware_path, err);
    return st;
}

int cli_once(struct cli_once *once, const char *key, const char *opt, const char *value,
             FILE *errout, const char *hint)
{
    if (!key)
        key = opt;
    size_t keylen = strcspn(key, "="); /* a --set value's key ends at its '=' */
    for (int k = 0; k < once->n; k++) {
        const char *seen = once->given[k].key, *oopt = once->given[k].opt;
        if (once->given[k].keylen != keylen || strncmp(seen, key, keylen) != 0)
            continue;
        if (strcmp(oopt, opt) == 0 && strcmp(opt, "--set") != 0) /* --plot a.png, --plot b.svg */
            return cli_bad_usage(errout, hint,
                                 "%s given twice (%.200s, then %.200s); give each option once", opt,
                                 once->given[k].value, value);
        /* spelled two ways (-j and --jobs, --seed and --set seed=), or a --set key */
        return cli_bad_usage(errout, hint,
                             "%.*s given twice (%s %.200s, then %s %.200s); give each %s once",
                             (int)keylen, key, oopt, once->given[k].value, opt, value,
                             key[0] == '-' ? "option" : "key");
    }
    if (once->n == CLI_MAX_ONCE)
        return cli_bad_usage(errout, hint, "too many options (max %d)", CLI_MAX_ONCE);
    once->given[once->n].key = key;
    once->given[once->n].keylen = keylen;
    once->given[once->n].opt = opt;
    once->given[once->n].value = value;
    once->n++;
    return 0;
}

int cli_spaced_value(FILE *errout, const char *hint, const char *opt, const char *value, int argc,
                     char **argv, int i)
{
    const char *eq = strchr(value, '='), *next = i + 1 < argc ? argv[i + 1] : "-";
    size_t keylen = eq ? (size_t)(eq - value) : strlen(value);
    if (keylen == 0 || (eq && eq[1]) || next[0] == '-' || next[0] == '=')
        return 0;
    return cli_bad_usage(errout, hint, "%s %s %s: a key and its value are one word, %s %.*s=%s",
                         opt, value, next, opt, (int)keylen, value, next);
}

int cli_add_set(struct cli_sets *sets, struct cli_once *once, const char *value, FILE *errout,
                const char *command)
{
    char hint[64];
    snprintf(hint, sizeof hint, "%s --help", command);
    if (!*value)
        return cli_bad_usage(errout, hint, "%s needs KEY=VALUE", "--set");
    if (sets->n == CLI_MAX_SETS)
        return cli_bad_usage(errout, hint, "too many --set options (max %d)", CLI_MAX_SETS);
    /* no KEY= at all is the loader's error to name (scn_set_arg) */
    if (value[0] != '=' && strchr(value, '=') &&
        cli_once(once, value, "--set", value, errout, hint) != 0)
        return 2;
    sets->v[sets->n++] = value;
    return 0;
}

void cli_warn_seq_past_max(FILE *errout, int seq, int max_seq, const char *model_path)
{
    if (max_seq > 0)
        fprintf(errout,
                "stepsim: warning: seq=%d is longer than max-seq=%d in %s: positions past it "
                "were never trained (Megatron-LM asserts max_position_embeddings >= seq_length)\n",
                seq, max_seq, model_path);
}

void cli_sets_note(const char *const *sets, int nsets, char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    size_t n = 0;
    for (int i = 0; i < nsets; i++) {
        int w = snprintf(buf + n, len - n, "%s%s", i ? " " : "--set ", sets[i]);
        if (w < 0 || (size_t)w >= len - n) { /* cut at a character's start, ending on "..." */
            if (len > 4) {
                size_t k = len - 4;
                while (k > 0 && ((unsigned char)buf[k] & 0xc0) == 0x80)
                    k--;
                memcpy(buf + k, "...", 4);
            }
            return;
        }
        n += (size_t)w;
    }
}
