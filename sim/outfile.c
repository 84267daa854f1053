/* outfile: atomic output files (temp + rename) and small writers shared by the outputs. */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum sim_status outfile_open(struct outfile *of, const char *path, struct sim_error *err)
{
    memset(of, 0, sizeof *of);
    if (strlen(path) >= sizeof of->path)
        return err_set(err, SIM_EINPUT, NULL, 0, "output path too long: %.60s...", path);
    snprintf(of->path, sizeof of->path, "%s", path);
    /* Like mkstemp, but created with mode 0666 so the umask applies as for any output file
     * (mkstemp's 0600 would survive the rename). O_EXCL makes the name ours. */
    int fd = -1;
    unsigned long salt = (unsigned long)getpid() * 2654435761u ^ (unsigned long)(uintptr_t)of;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(of->tmp, sizeof of->tmp, "%s.tmp.%06lx", path, (salt + (unsigned long)attempt * 7919u) & 0xffffffu);
        fd = open(of->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        of->tmp[0] = '\0';
        return err_set(err, SIM_EFAIL, path, 0, "cannot create output: %s", strerror(errno));
    }
    of->fp = fdopen(fd, "w");
    if (!of->fp) {
        close(fd);
        unlink(of->tmp);
        return err_set(err, SIM_EFAIL, path, 0, "cannot open output: %s", strerror(errno));
    }
    return SIM_OK;
}

enum sim_status outfile_commit(struct outfile *of, struct sim_error *err)
{
    int bad = ferror(of->fp) != 0;
    bad |= fclose(of->fp) != 0;
    of->fp = NULL;
    if (!bad && rename(of->tmp, of->path) == 0)
        return SIM_OK;
    int e = errno;
    unlink(of->tmp);
    return err_set(err, SIM_EFAIL, of->path, 0, "cannot write output: %s",
                   bad ? "write error" : strerror(e));
}

void outfile_abort(struct outfile *of)
{
    if (of->fp) {
        fclose(of->fp);
        of->fp = NULL;
    }
    if (of->tmp[0])
        unlink(of->tmp);
    of->tmp[0] = '\0';
}

void json_put_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}
