/* plot: run gnuplot on the embedded Gantt script (see plot.h). */
#include "plot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc.h"
#include "config.h"
#include "embedded.h"
#include "outfile.h"
#include "schedule.h"
#include "timeline.h"

int plot_write_gantt_tsv(FILE *out, const struct pipe_result *res)
{
    int rows = 0;
    simtime_t *pair_start = mem_calloc((size_t)res->pp, sizeof *pair_start); /* per rank */
    if (!pair_start)
        return -1;
    fprintf(out, "# rank\tstart_s\tend_s\tkind\tmicrobatch\tchunk\tpeer\n");
    for (size_t i = 0; i < res->nrecs; i++) {
        const struct pipe_record *r = &res->recs[i];
        /* What took no time has nothing to draw (free links, a zero-cost optimizer); gradient
         * reductions run beside compute on a comm stream and are in the trace instead. */
        if (r->end <= r->start || r->kind == REC_DP_SYNC)
            continue;
        fprintf(out, "%d\t", r->rank);
        timeline_put_seconds(out, r->start - res->first_start);
        fputc('\t', out);
        timeline_put_seconds(out, r->end - res->first_start);
        /* The parameter all-gather finishes the optimizer step: drawn as part of it. */
        int kind = r->kind == REC_PARAM_AG ? REC_OPT : r->kind;
        fprintf(out, "\t%d\t%d\t%d\t%d\n", kind, r->mb, r->chunk < 0 ? 0 : r->chunk, r->peer);
        rows++;
        /* An overlapped pair's F and B are the rank's next two ops: outline them as one. */
        if (r->peer < 0 && r->overlap == SCHED_PAIR_F)
            pair_start[r->rank] = r->start;
        if (r->peer < 0 && r->overlap == SCHED_PAIR_B) {
            fprintf(out, "%d\t", r->rank);
            timeline_put_seconds(out, pair_start[r->rank] - res->first_start);
            fputc('\t', out);
            timeline_put_seconds(out, r->end - res->first_start);
            fprintf(out, "\t%d\t%d\t%d\t-1\n", PLOT_PAIR, r->mb, r->chunk);
            rows++;
        }
    }
    mem_free(pair_start);
    return ferror(out) ? -1 : rows;
}

int plot_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcmp(s + n - k, suffix) == 0;
}

/* gnuplot string literals are single-quoted; refuse what would need escaping. */
int plot_gnuplot_safe(const char *s)
{
    return strpbrk(s, "'\\\n\r") == NULL;
}

/* Copy `s` into buf (truncating) with anything that could end a gnuplot string blanked. */
void plot_sanitize(char *buf, size_t len, const char *s)
{
    snprintf(buf, len, "%s", s);
    for (char *p = buf; *p; p++)
        if (*p == '\'' || *p == '\\' || *p == '"' || (unsigned char)*p < 0x20)
            *p = ' ';
}

/* Create "TMPDIR/stepsim-TAG-XXXXXX", name in buf; NULL (errno set) on failure. */
FILE *plot_open_temp(char *buf, size_t len, const char *tmpdir, const char *tag)
{
    snprintf(buf, len, "%s/stepsim-%s-XXXXXX", tmpdir, tag);
    int fd = mkstemp(buf);
    if (fd < 0)
        return NULL;
    FILE *fp = fdopen(fd, "w");
    if (!fp) {
        int e = errno;
        close(fd);
        unlink(buf);
        errno = e;
    }
    return fp;
}

/* Run `gnuplot -e VARS SCRIPT` with stdin from /dev/null; returns its exit status (128 + the
 * signal if killed), 127 if it could not be started, -1 (errno set) on a local error.  The script
 * goes in a file, not a pipe: gnuplot reading "-" from a pipe treats it as interactive input and
 * rejects multi-line { } blocks. */
int plot_run_gnuplot(const char *vars, const char *script)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, STDIN_FILENO);
            close(fd);
        }
        execl(GNUPLOT_PATH, "gnuplot", "-e", vars, script, (char *)NULL);
        execlp("gnuplot", "gnuplot", "-e", vars, script, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A duration with a unit a reader takes in at once: "66.0 ms", "1.24 s", "850 us". */
static void put_duration(char *buf, size_t len, double s)
{
    if (s >= 1)
        snprintf(buf, len, "%.3g s", s);
    else if (s >= 1e-3)
        snprintf(buf, len, "%.3g ms", s * 1e3);
    else
        snprintf(buf, len, "%.3g µs", s * 1e6);
}

/* The chart's title: what was run and the two numbers a reviewer looks for. */
static void make_title(char *buf, size_t len, const struct scenario *scn,
                       const struct pipe_result *res)
{
    char name[64], sched[32], step[32];
    plot_sanitize(name, sizeof name, scn->name);
    plot_sanitize(sched, sizeof sched, scn->schedule);
    put_duration(step, sizeof step, simtime_to_s(res->step_end - res->first_start));
    double busy = 0;
    for (int r = 0; r < res->pp; r++)
        busy += simtime_to_s(res->busy[r]);
    double span = simtime_to_s(res->compute_end - res->first_start) * res->pp;
    size_t n = 0;
    n += (size_t)snprintf(buf + n, len - n, "%s · %s · pp=%d", name, sched, scn->pp);
    if (n < len && scn->vp > 1 && strcmp(scn->schedule, "interleaved") == 0)
        n += (size_t)snprintf(buf + n, len - n, " vp=%d vp-group=%d", scn->vp,
                              scn->vp_group > 0 ? scn->vp_group : scn->pp);
    else if (n < len && scn->vp > 1)
        n += (size_t)snprintf(buf + n, len - n, " vp=%d", scn->vp);
    if (n < len)
        n +=
            (size_t)snprintf(buf + n, len - n, " · %d micro-batches%s · step %s", scn->microbatches,
                             scn_split_backward(scn) ? " · split backward (B/W)" : "", step);
    if (n < len && span > 0)
        snprintf(buf + n, len - n, " · bubble %.1f%%", 100.0 * (1.0 - busy / span));
}

enum sim_status plot_gantt(const char *path, const struct scenario *scn,
                           const struct pipe_result *res, struct sim_error *err)
{
    return plot_gantt_memory(path, scn, res, NULL, err);
}

enum sim_status plot_gnuplot_error(const char *path, int rc, int saved_errno, struct sim_error *err)
{
    if (rc == 127)
        return err_set(err, SIM_EFAIL, NULL, 0,
                       "--plot %s: cannot run gnuplot (tried %s and gnuplot on PATH); install "
                       "gnuplot (e.g. gnuplot-nox) or reconfigure with GNUPLOT=/path/to/gnuplot",
                       path, GNUPLOT_PATH);
    if (rc < 0)
        return err_set(err, SIM_EFAIL, NULL, 0, "--plot %s: cannot run gnuplot: %s", path,
                       strerror(saved_errno));
    return err_set(err, SIM_EFAIL, NULL, 0,
                   "--plot %s: gnuplot failed (exit status %d; its messages are above)", path, rc);
}

enum sim_status plot_render(const char *path, const char *script_text, const char *tag,
                            plot_data_fn write_data, const void *data_user, const char *extra_vars,
                            struct sim_error *err)
{
    if (!plot_ends_with(path, ".png") && !plot_ends_with(path, ".svg"))
        return err_set(err, SIM_EINPUT, NULL, 0, "--plot %s: the file must end in .png or .svg",
                       path);
    if (!plot_gnuplot_safe(path))
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "--plot %s: quotes, backslashes and newlines are not allowed in the path",
                       path);
    /* Data and script go to temp files; the image to a temp file beside the target. */
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir || !plot_gnuplot_safe(tmpdir) || strlen(tmpdir) > 1024)
        tmpdir = "/tmp";
    char data_path[1100], script_path[1100], script_tag[64];
    FILE *data = plot_open_temp(data_path, sizeof data_path, tmpdir, tag);
    if (!data)
        return err_set(err, SIM_EFAIL, NULL, 0, "--plot: cannot create a temp file in %s: %s",
                       tmpdir, strerror(errno));
    int rows = write_data(data, data_user);
    int bad = rows < 0;
    bad |= fclose(data) != 0;
    if (bad || rows == 0) {
        unlink(data_path);
        if (!bad)
            return err_set(err, SIM_EINPUT, NULL, 0,
                           "--plot %s: nothing to draw: every op of the step takes zero time",
                           path);
        return err_set(err, SIM_EFAIL, NULL, 0, "--plot: cannot write the plot data to %s",
                       data_path);
    }
    snprintf(script_tag, sizeof script_tag, "%s-gp", tag);
    FILE *script = plot_open_temp(script_path, sizeof script_path, tmpdir, script_tag);
    if (!script) {
        int e = errno;
        unlink(data_path);
        return err_set(err, SIM_EFAIL, NULL, 0, "--plot: cannot create a temp file in %s: %s",
                       tmpdir, strerror(e));
    }
    bad = fputs(script_text, script) == EOF;
    bad |= fclose(script) != 0;
    if (bad) {
        unlink(data_path);
        unlink(script_path);
        return err_set(err, SIM_EFAIL, NULL, 0, "--plot: cannot write the gnuplot script to %s",
                       script_path);
    }

    struct outfile img;
    enum sim_status st = outfile_open(&img, path, err);
    if (st != SIM_OK) {
        unlink(data_path);
        unlink(script_path);
        return st;
    }
    fclose(img.fp); /* gnuplot writes the temp path itself */
    img.fp = NULL;

    /* Output type follows the final name, not the temp file's. */
    char vars[16384];
    int n = snprintf(vars, sizeof vars, "datafile='%s'; outfile='%s'; format='%s'%s%s", data_path,
                     img.tmp, plot_ends_with(path, ".svg") ? "svg" : "png",
                     extra_vars && *extra_vars ? "; " : "", extra_vars ? extra_vars : "");
    int rc = (n < 0 || (size_t)n >= sizeof vars) ? -2 : plot_run_gnuplot(vars, script_path);
    unlink(data_path);
    unlink(script_path);
    if (rc != 0) {
        int e = errno;
        outfile_abort(&img);
        if (rc == -2)
            return err_set(err, SIM_EINPUT, NULL, 0, "--plot %s: path too long", path);
        return plot_gnuplot_error(path, rc, e, err);
    }
    if (rename(img.tmp, path) != 0) {
        int e = errno;
        outfile_abort(&img);
        return err_set(err, SIM_EFAIL, NULL, 0, "--plot %s: cannot rename into place: %s", path,
                       strerror(e));
    }
    return SIM_OK;
}

static int gantt_data(FILE *out, const void *user)
{
    return plot_write_gantt_tsv(out, user);
}

enum sim_status plot_gantt_memory(const char *path, const struct scenario *scn,
                                  const struct pipe_result *res, const double *rank_mem_bytes,
                                  struct sim_error *err)
{
    char title[384], vars[8192];
    make_title(title, sizeof title, scn, res);
    int n =
        snprintf(vars, sizeof vars, "plottitle='%s'; nranks=%d; vp=%d", title, res->pp, res->vp);
    /* DualPipe's chunks are its two directions: name them so in the legend. */
    const struct sched_type *type = sched_find(scn->schedule);
    if (type && type->placement == SCHED_DUAL && n > 0 && (size_t)n < sizeof vars)
        n += snprintf(vars + n, sizeof vars - (size_t)n, "; chunknames='down up'");
    /* Peak memory per rank, as words of one gnuplot string: "51.1 48.9 ...". */
    if (rank_mem_bytes && n > 0 && (size_t)n < sizeof vars) {
        n += snprintf(vars + n, sizeof vars - (size_t)n, "; memlabels='");
        for (int r = 0; r < res->pp && n > 0 && (size_t)n < sizeof vars; r++)
            n += snprintf(vars + n, sizeof vars - (size_t)n, "%s%.1f", r ? " " : "",
                          rank_mem_bytes[r] / 1073741824.0);
        if (n > 0 && (size_t)n < sizeof vars)
            n += snprintf(vars + n, sizeof vars - (size_t)n, "'");
    }
    if (n < 0 || (size_t)n >= sizeof vars)
        return err_set(err, SIM_EINPUT, NULL, 0, "--plot %s: too many ranks to label", path);
    return plot_render(path, gantt_gp, "gantt", gantt_data, res, vars, err);
}

struct memory_data {
    const double *parts; /* [pp][4] bytes: weights, grads, optimizer, activations */
    int pp;
};

static int memory_data(FILE *out, const void *user)
{
    const struct memory_data *md = user;
    const double gib = 1073741824.0;
    fprintf(out, "# rank\tweights\tgrads\toptimizer\tactivations (GiB)\n");
    for (int r = 0; r < md->pp; r++)
        fprintf(out, "%d\t%.6f\t%.6f\t%.6f\t%.6f\n", r, md->parts[4 * r] / gib,
                md->parts[4 * r + 1] / gib, md->parts[4 * r + 2] / gib, md->parts[4 * r + 3] / gib);
    return ferror(out) ? -1 : md->pp;
}

enum sim_status plot_memory(const char *path, const char *title, const double *parts, int pp,
                            double hbm_bytes, struct sim_error *err)
{
    char clean[256], vars[1024];
    plot_sanitize(clean, sizeof clean, title);
    snprintf(vars, sizeof vars, "plottitle='%s: memory per GPU by pipeline stage'; hbm=%.6f", clean,
             hbm_bytes / 1073741824.0);
    struct memory_data md = {parts, pp};
    return plot_render(path, memory_gp, "memory", memory_data, &md, vars, err);
}
