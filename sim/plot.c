/* plot: run gnuplot on the embedded Gantt script (see plot.h). */
#include "plot.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc.h"
#include "config.h"
#include "embedded.h"
#include "gantt.h"
#include "outfile.h"
#include "schedule.h"

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

/* The chart's title: what was run and the two numbers a reviewer looks for. */
static void make_title(char *buf, size_t len, const struct scenario *scn,
                       const struct pipe_result *res, const struct gantt_layout *lay)
{
    char name[64], sched[32], step[32], from[32], to[32];
    plot_sanitize(name, sizeof name, scn->name);
    plot_sanitize(sched, sizeof sched, scn->schedule);
    gantt_format_time(step, sizeof step, simtime_to_s(res->step_end - res->first_start));
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
        n += (size_t)snprintf(buf + n, len - n, " · bubble %.1f%%", 100.0 * (1.0 - busy / span));
    /* A window: say which part of the step is shown. */
    double step_s = simtime_to_s(res->step_end - res->first_start);
    if (n < len && (lay->t0_s > 0 || lay->t1_s < step_s)) {
        gantt_format_time(from, sizeof from, lay->t0_s);
        gantt_format_time(to, sizeof to, lay->t1_s);
        snprintf(buf + n, len - n, " · showing %s to %s", from, to);
    }
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
    return gantt_write_tsv(out, user);
}

int plot_vars_add(char *vars, size_t len, int *n, const char *fmt, ...)
{
    if (*n < 0 || (size_t)*n >= len)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(vars + *n, len - (size_t)*n, fmt, ap);
    va_end(ap);
    *n = w < 0 ? -1 : *n + w;
    return *n < 0 || (size_t)*n >= len ? -1 : 0;
}

/* The variables plots/gantt.gp reads: the geometry gantt_build laid out, what the data holds,
 * and the labels of the rows. */
static int gantt_vars(char *vars, size_t len, const struct scenario *scn,
                      const struct pipe_result *res, const struct gantt *g,
                      const double *rank_mem_bytes)
{
    const struct gantt_layout *l = &g->lay;
    char title[384], note[256];
    make_title(title, sizeof title, scn, res, l);
    gantt_describe(g, note, sizeof note);
    int n = 0;
    plot_vars_add(vars, len, &n,
                  "plottitle='%s'; drawnote='%s'; nranks=%d; vp=%d; tmin=%.12g; tmax=%.12g; "
                  "width=%d; height=%d; lmpx=%d; rmpx=%d; tmpx=%d; bmpx=%d; rank_half=%.3f; "
                  "haslinks=%d; haswrap=%d; hasW=%d; hasOPT=%d; haspairs=%d; mode=%d; labelpt=%d",
                  title, note, res->pp, g->chunks, l->t0_s, l->t1_s, l->width_px, l->height_px,
                  l->left_px, l->right_px, l->top_px, l->bottom_px, l->rank_half, l->has_links,
                  l->has_wrap, g->has_w, g->has_opt, g->has_pairs, (int)g->mode, g->label_pt);
    /* DualPipe's chunks are its two directions: name them so in the legend. */
    const struct sched_type *type = sched_find(scn->schedule);
    if (type && type->placement == SCHED_DUAL)
        plot_vars_add(vars, len, &n, "; chunknames='down up'");
    /* Busy share of each rank's pipeline time in the window, and peak memory (GiB), as words
     * of one gnuplot string each: "94 93 ...", "51.1 48.9 ...". */
    plot_vars_add(vars, len, &n, "; busylabels='");
    for (int r = 0; r < res->pp; r++)
        plot_vars_add(vars, len, &n, "%s%.0f", r ? " " : "",
                      g->span_s[r] > 0 ? 100.0 * g->busy_s[r] / g->span_s[r] : 0.0);
    plot_vars_add(vars, len, &n, "'");
    if (rank_mem_bytes) {
        plot_vars_add(vars, len, &n, "; memlabels='");
        for (int r = 0; r < res->pp; r++)
            plot_vars_add(vars, len, &n, "%s%.1f", r ? " " : "", rank_mem_bytes[r] / 1073741824.0);
        plot_vars_add(vars, len, &n, "'");
    }
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

enum sim_status plot_gantt(const char *path, const struct scenario *scn,
                           const struct pipe_result *res, const double *rank_mem_bytes,
                           const struct gantt_view *view, struct sim_error *err)
{
    static const struct gantt_view whole = {0, 0, 0, 0};
    struct gantt g;
    enum sim_status st = gantt_build(&g, res, view ? view : &whole, err);
    if (st != SIM_OK)
        return st;
    char vars[16384];
    if (gantt_vars(vars, sizeof vars, scn, res, &g, rank_mem_bytes) != 0)
        st = err_set(err, SIM_EINPUT, NULL, 0, "--plot %s: too many ranks to label", path);
    else
        st = plot_render(path, gantt_gp, "gantt", gantt_data, &g, vars, err);
    gantt_release(&g);
    return st;
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
