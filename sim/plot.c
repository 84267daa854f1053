/* plot: run gnuplot on the embedded Gantt script (see plot.h). */
#include "plot.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "embedded.h"
#include "outfile.h"
#include "timeline.h"

int plot_write_gantt_tsv(FILE *out, const struct pipe_result *res)
{
    fprintf(out, "# rank\tstart_s\tend_s\tkind\tmicrobatch\tchunk\n");
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        if (r->peer >= 0)
            continue; /* transfers are in the CSV and the trace, not on the rank rows */
        fprintf(out, "%d\t", r->rank);
        timeline_put_seconds(out, r->start - res->first_start);
        fputc('\t', out);
        timeline_put_seconds(out, r->end - res->first_start);
        fprintf(out, "\t%d\t%d\t%d\n", r->kind, r->mb, r->chunk < 0 ? 0 : r->chunk);
    }
    return ferror(out) ? -1 : 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcmp(s + n - k, suffix) == 0;
}

/* gnuplot string literals are single-quoted; refuse what would need escaping. */
static int gnuplot_safe(const char *s)
{
    return strpbrk(s, "'\\\n\r") == NULL;
}

/* Run gnuplot with `vars` as -e and the script on stdin; returns its exit status, 127 if it
 * could not be started, -1 on a local error. */
static int run_gnuplot(const char *vars)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[0], STDIN_FILENO);
        close(fds[0]);
        close(fds[1]);
        execlp(GNUPLOT_PATH, "gnuplot", "-e", vars, "-", (char *)NULL);
        execlp("gnuplot", "gnuplot", "-e", vars, "-", (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    void (*old)(int) = signal(SIGPIPE, SIG_IGN); /* a dead gnuplot must not kill us */
    size_t len = strlen(gantt_gp), off = 0;
    while (off < len) {
        ssize_t n = write(fds[1], gantt_gp + off, len - off);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            break;
        }
        off += (size_t)n;
    }
    close(fds[1]);
    signal(SIGPIPE, old);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

enum sim_status plot_gantt(const char *path, const struct scenario *scn,
                           const struct pipe_result *res, struct sim_error *err)
{
    if (!ends_with(path, ".png") && !ends_with(path, ".svg"))
        return err_set(err, SIM_EINPUT, NULL, 0, "--plot %s: the file must end in .png or .svg",
                       path);
    if (!gnuplot_safe(path))
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "--plot %s: quotes, backslashes and newlines are not allowed in the path",
                       path);
    /* Data file and image both go to temp files first. */
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir || !gnuplot_safe(tmpdir) || strlen(tmpdir) > 1024)
        tmpdir = "/tmp";
    char data_buf[1100];
    snprintf(data_buf, sizeof data_buf, "%s/stepsim-gantt-XXXXXX", tmpdir);
    int fd = mkstemp(data_buf);
    if (fd < 0)
        return err_set(err, SIM_EFAIL, NULL, 0, "--plot: cannot create a temp file: %s",
                       strerror(errno));
    FILE *data = fdopen(fd, "w");
    if (!data) {
        close(fd);
        unlink(data_buf);
        return err_set(err, SIM_EFAIL, NULL, 0, "--plot: cannot open a temp file");
    }
    int bad = plot_write_gantt_tsv(data, res) != 0;
    bad |= fclose(data) != 0;
    if (bad) {
        unlink(data_buf);
        return err_set(err, SIM_EFAIL, NULL, 0, "--plot: cannot write the plot data");
    }

    struct outfile img;
    enum sim_status st = outfile_open(&img, path, err);
    if (st != SIM_OK) {
        unlink(data_buf);
        return st;
    }
    fclose(img.fp); /* gnuplot writes the temp path itself */
    img.fp = NULL;

    /* The title: scenario name made safe for a gnuplot string, plus the config. */
    char name[64];
    snprintf(name, sizeof name, "%s", scn->name);
    for (char *p = name; *p; p++)
        if (*p == '\'' || *p == '\\' || *p == '"' || (unsigned char)*p < 0x20)
            *p = ' ';
    char title[256];
    int tl = snprintf(title, sizeof title, "%s: %s pp=%d", name, scn->schedule, scn->pp);
    if (scn->vp > 1)
        tl += snprintf(title + tl, sizeof title - (size_t)tl, " vp=%d vp-group=%d", scn->vp,
                       scn->vp_group > 0 ? scn->vp_group : scn->pp);
    snprintf(title + tl, sizeof title - (size_t)tl, " microbatches=%d step=%.6g s",
             scn->microbatches, simtime_to_s(res->step_end - res->first_start));

    /* Output type follows the final name; gnuplot writes the temp file. */
    char vars[16384];
    int n = snprintf(vars, sizeof vars,
                     "datafile='%s'; outfile='%s'; format='%s'; plottitle='%s'; nranks=%d; vp=%d",
                     data_buf, img.tmp, ends_with(path, ".svg") ? "svg" : "png", title, res->pp,
                     res->vp);
    if (n < 0 || (size_t)n >= sizeof vars) {
        unlink(data_buf);
        outfile_abort(&img);
        return err_set(err, SIM_EINPUT, NULL, 0, "--plot: path too long");
    }
    int rc = run_gnuplot(vars);
    unlink(data_buf);
    if (rc != 0) {
        outfile_abort(&img);
        if (rc == 127)
            return err_set(err, SIM_EFAIL, NULL, 0,
                           "--plot: gnuplot not found (install gnuplot-nox, or configure with "
                           "GNUPLOT=/path/to/gnuplot)");
        return err_set(err, SIM_EFAIL, NULL, 0, "--plot %s: gnuplot failed (status %d)", path,
                       rc);
    }
    if (rename(img.tmp, path) != 0) {
        int e = errno;
        outfile_abort(&img);
        return err_set(err, SIM_EFAIL, NULL, 0, "--plot %s: cannot rename into place: %s", path,
                       strerror(e));
    }
    return SIM_OK;
}
