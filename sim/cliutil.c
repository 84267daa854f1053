/* cliutil: shared command-line helpers (see cliutil.h). */
#include "cliutil.h"

#include <ctype.h>
#include <stdarg.h>
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

/* The folder part of path ("." when none, "/" for the root) into buf. */
static void folder_of(const char *path, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(buf, len, ".");
    else
        snprintf(buf, len, "%.*s", slash == path ? 1 : (int)(slash - path), path);
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    int ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    if (ea || eb)
        return ea && eb && !S_ISCHR(sa.st_mode) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    const char *na = strrchr(a, '/'), *nb = strrchr(b, '/');
    if (strcmp(na ? na + 1 : a, nb ? nb + 1 : b) != 0)
        return 0;
    char da[4096], db[4096];
    folder_of(a, da, sizeof da);
    folder_of(b, db, sizeof db);
    if (stat(da, &sa) == 0 && stat(db, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    return strcmp(da, db) == 0;
}

enum sim_status cli_check_output(const char *option, const char *path, const struct cli_file *files,
                                 int n, struct sim_error *err)
{
    for (int i = 0; i < n; i++)
        if (files[i].path && files[i].path[0] && same_file(path, files[i].path))
            return err_set(err, SIM_EINPUT, NULL, 0,
                           "%s %s is also %s%s: an output never replaces an input or another "
                           "output",
                           option, path, files[i].what[0] == '-' ? "the output of " : "",
                           files[i].what);
    return SIM_OK;
}

enum sim_status cli_write_file(const char *path, int (*fn)(FILE *out, const void *user),
                               const void *user, struct sim_error *err)
{
    struct outfile of;
    enum sim_status st = outfile_open(&of, path, err);
    if (st != SIM_OK)
        return st;
    if (fn(of.fp, user) != 0) {
        outfile_abort(&of);
        return err_set(err, SIM_EFAIL, path, 0, "write error");
    }
    return outfile_commit(&of, err);
}
