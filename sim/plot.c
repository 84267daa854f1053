/* plot: run gnuplot on the embedded Gantt script (see plot.h). */
#include "plot.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc.h"
#include "cleanup.h"
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

/* Copy `s` into buf (truncating at a character's start) as a title draws it: valid UTF-8 (an SVG
 * with a stray byte in its title is not valid XML), control characters blanked (a newline would
 * end gnuplot's -e command), the rest as typed; plot_vars_add_text quotes it. */
void plot_clean(char *buf, size_t len, const char *s)
{
    if (len == 0)
        return;
    utf8_clean(buf, len, s);
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

/* Copy `s` into buf (truncating) with anything that could end a gnuplot string blanked; the
 * text is valid UTF-8 (an SVG with a stray byte in its title is not valid XML).  An apostrophe
 * becomes the typographic one (U+2019), which reads the same and needs no escaping, so that
 * "Bob's run" reads as typed; the result can be sanitized again unchanged.  For text that
 * passes through a data file, a word list or an eval'd command; titles take plot_clean. */
void plot_sanitize(char *buf, size_t len, const char *s)
{
    if (len == 0)
        return;
    char clean[1024];
    utf8_clean(clean, len < sizeof clean ? len : sizeof clean, s);
    static const char rsquo[] = "\xe2\x80\x99";
    size_t out = 0;
    for (const char *p = clean; *p;) {
        unsigned char c = (unsigned char)*p;
        size_t in = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2; /* clean is valid */
        size_t need = c == '\'' ? sizeof rsquo - 1 : in;
        if (out + need >= len) /* whole characters only */
            break;
        if (c == '\'')
            memcpy(buf + out, rsquo, need);
        else if (c == '\\' || c == '"' || c < 0x20)
            buf[out] = ' ';
        else
            memcpy(buf + out, p, in);
        out += need;
        p += in;
    }
    buf[out] = '\0';
}

/* Wait for gnuplot (registered with cleanup in `slot`): its exit status, 128 + the signal if
 * killed, -1 (errno set) on a local error. */
static int wait_gnuplot(pid_t pid, int slot)
{
    int status = 0, rc;
    while ((rc = (int)waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    cleanup_remove_child(slot);
    if (rc < 0)
        return -1;
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Read fd to its end into msg (NUL-terminated, the first len - 1 bytes kept, the rest read and
 * dropped), then close it: gnuplot writing into a full pipe would stall. */
static void read_messages(int fd, char *msg, size_t len)
{
    size_t n = 0;
    char chunk[4096];
    for (ssize_t got; (got = read(fd, chunk, sizeof chunk)) != 0;) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            break;
        size_t keep = n + 1 < len ? len - 1 - n : 0;
        keep = (size_t)got < keep ? (size_t)got : keep;
        memcpy(msg + n, chunk, keep);
        n += keep;
    }
    if (len > 0)
        msg[n] = '\0';
    close(fd);
}

/* Run `gnuplot -e VARS SCRIPT` with stdin from /dev/null and its messages (stderr) into msg;
 * returns its exit status (128 + the signal if killed), 127 if it could not be started, -1
 * (errno set) on a local error.  The script goes in a file, not a pipe: gnuplot reading "-"
 * from a pipe treats it as interactive input and rejects multi-line { } blocks. */
int plot_run_gnuplot(const char *vars, const char *script, char *msg, size_t len)
{
    int pipefd[2];
    if (len > 0)
        msg[0] = '\0';
    if (pipe(pipefd) != 0)
        return -1;
    /* Signals wait until the child is registered, and the child never runs our handler. */
    sigset_t old;
    cleanup_hold(&old);
    pid_t pid = fork();
    if (pid == 0) {
        cleanup_child_reset(&old);
        int fd = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, STDIN_FILENO);
            close(fd);
        }
        dup2(pipefd[1], STDERR_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        execl(GNUPLOT_PATH, "gnuplot", "-e", vars, script, (char *)NULL);
        execlp("gnuplot", "gnuplot", "-e", vars, script, (char *)NULL);
        _exit(127);
    }
    int slot = pid > 0 ? cleanup_add_child(pid) : -1;
    int e = errno;
    cleanup_release(&old);
    close(pipefd[1]);
    if (pid < 0) {
        close(pipefd[0]);
        errno = e;
        return -1;
    }
    read_messages(pipefd[0], msg, len);
    return wait_gnuplot(pid, slot);
}

/* The chart's title: what was run and the two numbers a reviewer looks for. */
static void make_title(char *buf, size_t len, const struct scenario *scn,
                       const struct layout *stages, const struct pipe_result *res,
                       const struct gantt_layout *lay, int has_layout, const char *given)
{
    char name[192], sched[32], step[32], from[32], to[32];
    if (given && given[0]) { /* the name as the file wrote it, then what the command changed */
        char own[64], both[sizeof own + 128];
        plot_clean(own, sizeof own, scn->name);                 /* cut at a character's start */
        snprintf(both, sizeof both, "%s (%.120s)", own, given); /* given: cli_sets_note, < 120 */
        plot_clean(name, sizeof name, both);
    } else {
        plot_clean(name, sizeof name, scn->name);
    }
    plot_clean(sched, sizeof sched, stages->type->name);
    gantt_format_time(step, sizeof step, simtime_to_s(res->step_end - res->first_start));
    double busy = 0;
    for (int r = 0; r < res->pp; r++)
        busy += simtime_to_s(res->busy[r]);
    double span = simtime_to_s(res->compute_end - res->first_start) * res->pp;
    size_t n = 0;
    if (has_layout) { /* modelled: the layout has its own line (layoutline) */
        n += (size_t)snprintf(buf + n, len - n, "%s · step %s", name, step);
    } else {
        n += (size_t)snprintf(buf + n, len - n, "%s · %s · pp=%d", name, sched, stages->pp);
        if (n < len && stages->vp > 1 && stages->type == &sched_interleaved)
            n += (size_t)snprintf(buf + n, len - n, " vp=%d vp-group=%d", stages->vp,
                                  scn->vp_group > 0 ? scn->vp_group : stages->pp);
        else if (n < len && stages->vp > 1)
            n += (size_t)snprintf(buf + n, len - n, " vp=%d", stages->vp);
        if (n < len)
            n += (size_t)snprintf(buf + n, len - n, " · %d micro-batch%s%s · step %s",
                                  scn->microbatches, scn->microbatches == 1 ? "" : "es",
                                  scn_split_backward(scn) ? " · split backward (B/W)" : "", step);
    }
    if (n < len && span > 0)
        n += (size_t)snprintf(buf + n, len - n, " · bubble %.1f%%", 100.0 * (1.0 - busy / span));
    /* A window: say which part of the step is shown. */
    double step_s = simtime_to_s(res->step_end - res->first_start);
    if (n < len && (lay->t0_s > 0 || lay->t1_s < step_s)) {
        gantt_format_window(from, to, sizeof from, lay->t0_s, lay->t1_s);
        snprintf(buf + n, len - n, " · showing %s to %s", from, to);
    }
}

enum sim_status plot_add_output(struct outset *os, const char *option, const char *path,
                                struct outfile **img, struct sim_error *err)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strcmp(base, ".png") == 0 || strcmp(base, ".svg") == 0)
        return err_set(err, SIM_EINPUT, NULL, 0, "%s %s: needs a file name before %s", option, path,
                       base);
    if (!plot_ends_with(path, ".png") && !plot_ends_with(path, ".svg"))
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "%s %s: the file must end in .png or .svg (lower case: the extension "
                       "picks gnuplot's terminal)",
                       option, path);
    if (!plot_gnuplot_safe(path))
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "%s %s: quotes, backslashes and newlines are not allowed in the path",
                       option, path);
    enum sim_status st = outset_add(os, option, path, img, err);
    if (st == SIM_OK && !plot_gnuplot_safe((*img)->target))
        st = err_set(err, SIM_EINPUT, NULL, 0,
                     "%s %s: the file it links to has quotes, backslashes or newlines in its "
                     "path",
                     option, path);
    return st;
}

/* Whether the regular file at `path` already holds an image of the kind its extension names:
 * a PNG's signature, or an SVG's root element in its first 4 KiB.  A file that cannot be
 * opened or is not a regular file is left to the output rules (outfile.c). */
static int holds_image(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return 1;
    char head[4097];
    struct stat sb;
    ssize_t got = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? read(fd, head, sizeof head - 1) : -2;
    close(fd);
    if (got == -2 || got == 0) /* not a regular file, or empty: nothing the user could lose */
        return 1;
    if (got < 0)
        return 0;
    head[got] = '\0';
    if (plot_ends_with(path, ".png"))
        return got >= 8 && memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0;
    return memchr(head, '\0', (size_t)got) == NULL && strstr(head, "<svg") != NULL;
}

enum sim_status plot_add_companion(struct outset *os, const char *path, const char *suffix,
                                   struct outfile **img, struct sim_error *err)
{
    char buf[OUT_PATH_MAX];
    size_t n = strlen(path);
    int w = n < 4
                ? -1
                : snprintf(buf, sizeof buf, "%.*s-%s%s", (int)(n - 4), path, suffix, path + n - 4);
    if (w < 0 || (size_t)w >= sizeof buf)
        return err_set(err, SIM_EINPUT, NULL, 0, "--plot %s: path too long", path);
    /* The user named the chart, not its companion: an existing file there is replaced only
     * when it is an image of that kind (an earlier chart), never a file of another sort. */
    if (!holds_image(buf))
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "--plot %s draws its %s chart in %s, which exists and is not a %s image; "
                       "not replacing it (move it, or name another --plot)",
                       path, suffix, buf, plot_ends_with(buf, ".png") ? "PNG" : "SVG");
    return plot_add_output(os, "--plot", buf, img, err);
}

/* gnuplot's messages as one line: each run of blanks and newlines one space, none at the ends. */
static void one_line(char *s)
{
    char *out = s;
    for (const char *p = s; *p; p++) {
        int blank = *p == ' ' || *p == '\n' || *p == '\r' || *p == '\t';
        if (!blank)
            *out++ = *p;
        else if (out > s && out[-1] != ' ')
            *out++ = ' ';
    }
    if (out > s && out[-1] == ' ')
        out--;
    *out = '\0';
}

static enum sim_status plot_gnuplot_error(const char *path, int rc, int saved_errno, char *msg,
                                          struct sim_error *err)
{
    one_line(msg);
    if (rc == 127)
        return err_set(err, SIM_EFAIL, NULL, 0,
                       "--plot %s: cannot run gnuplot (tried %s and gnuplot on PATH); install "
                       "gnuplot (e.g. gnuplot-nox) or reconfigure with GNUPLOT=/path/to/gnuplot",
                       path, GNUPLOT_PATH);
    if (rc < 0)
        return err_set(err, SIM_EFAIL, NULL, 0, "--plot %s: cannot run gnuplot: %s", path,
                       strerror(saved_errno));
    return err_set(err, SIM_EFAIL, NULL, 0, "--plot %s: gnuplot failed (exit status %d): %.600s",
                   path, rc, msg);
}

enum sim_status plot_temp_write(struct plot_temps *t, const char *tag, plot_data_fn fn,
                                const void *user, int *rows, const char **name,
                                struct sim_error *err)
{
    if (t->n == PLOT_MAX_TEMPS)
        return err_set(err, SIM_EFAIL, NULL, 0, "internal error: more than %d plot temp files",
                       PLOT_MAX_TEMPS);
    char *path = t->path[t->n];
    FILE *fp = out_temp_open(path, sizeof t->path[0], tag, &t->slot[t->n]);
    if (!fp)
        return err_set(err, SIM_EFAIL, NULL, 0, "--plot: cannot create a temp file in %s: %s",
                       out_temp_dir(), strerror(errno));
    t->n++;
    int count = fn(fp, user);
    int bad = count < 0;
    bad |= fclose(fp) != 0;
    if (bad)
        return err_set(err, SIM_EFAIL, NULL, 0, "--plot: cannot write the temp file %s", path);
    if (rows)
        *rows = count;
    *name = path;
    return SIM_OK;
}

void plot_temps_remove(struct plot_temps *t)
{
    for (int i = 0; i < t->n; i++)
        out_temp_remove(t->path[i], &t->slot[i]);
    t->n = 0;
}

enum sim_status plot_gnuplot(const char *path, const char *vars, const char *script,
                             struct sim_error *err)
{
    /* What gnuplot says about a script that ran (a warning naming a temp file's line, 'difficulty
     * making room for xtic labels') is nothing the user can act on: it is dropped, and said
     * only with the error when gnuplot fails. */
    char msg[4096];
    int rc = plot_run_gnuplot(vars, script, msg, sizeof msg);
    return rc == 0 ? SIM_OK : plot_gnuplot_error(path, rc, errno, msg, err);
}

int plot_put_text(FILE *out, const void *text)
{
    return fputs(text, out) == EOF ? -1 : 1;
}

enum sim_status plot_render(struct outfile *img, const char *script_text, const char *tag,
                            plot_data_fn write_data, const void *data_user, const char *extra_vars,
                            struct sim_error *err)
{
    struct plot_temps t = {0};
    const char *data, *script;
    char script_tag[64];
    snprintf(script_tag, sizeof script_tag, "%s-gp", tag);
    int rows = 0;
    enum sim_status st = plot_temp_write(&t, tag, write_data, data_user, &rows, &data, err);
    if (st == SIM_OK && rows == 0)
        st = err_set(err, SIM_EINPUT, NULL, 0,
                     "--plot %s: nothing to draw: every op of the step takes zero time", img->path);
    if (st == SIM_OK)
        st = plot_temp_write(&t, script_tag, plot_put_text, script_text, NULL, &script, err);
    if (st == SIM_OK)
        st = outfile_begin_named(img, err); /* gnuplot writes the temp path itself */
    /* Output type follows the final name, not the temp file's. */
    char vars[16384];
    int n = st == SIM_OK
                ? snprintf(vars, sizeof vars, "datafile='%s'; outfile='%s'; format='%s'%s%s", data,
                           img->tmp, plot_ends_with(img->path, ".svg") ? "svg" : "png",
                           extra_vars && *extra_vars ? "; " : "", extra_vars ? extra_vars : "")
                : 0;
    if (st == SIM_OK && (n < 0 || (size_t)n >= sizeof vars))
        st = err_set(err, SIM_EINPUT, NULL, 0, "--plot %s: path too long", img->path);
    if (st == SIM_OK)
        st = plot_gnuplot(img->path, vars, script, err);
    plot_temps_remove(&t);
    return st;
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

/* A single-quoted gnuplot string keeps every character as it is, backslashes and double quotes
 * included, but the quote itself, which is written twice. */
int plot_vars_add_text(char *vars, size_t len, int *n, const char *name, const char *text)
{
    plot_vars_add(vars, len, n, "%s%s='", *n > 0 ? "; " : "", name);
    for (size_t run; *text; text += run + (text[run] != '\0')) {
        run = strcspn(text, "'");
        plot_vars_add(vars, len, n, "%.*s%s", (int)run, text, text[run] ? "''" : "");
    }
    return plot_vars_add(vars, len, n, "'");
}

/* Does any op box carry its micro-batch (the legend then says what a box's label is)? */
static int has_mb_labels(const struct gantt *g)
{
    for (size_t i = 0; i < g->nboxes; i++)
        if (g->boxes[i].label[0] && g->boxes[i].kind != REC_OPT)
            return 1;
    return 0;
}

/* gantt.gp's keydrawn: a digit per F, B, W of each chunk, 1 where the chart draws it. */
static void add_key_drawn(char *vars, size_t len, int *n, const struct gantt *g)
{
    plot_vars_add(vars, len, n, "; keydrawn='");
    for (int i = 0; i < 3 * g->chunks; i++)
        plot_vars_add(vars, len, n, "%d", g->key_drawn[i]);
    plot_vars_add(vars, len, n, "'");
}

/* The variables plots/gantt.gp reads: the geometry gantt_build laid out, what the data holds,
 * and the labels of the rows. */
static int gantt_vars(char *vars, size_t len, const struct scenario *scn,
                      const struct layout *stages, const struct pipe_result *res,
                      const struct gantt *g, const struct plot_labels *labels)
{
    static const struct plot_labels none = {NULL, NULL, NULL, NULL};
    if (!labels)
        labels = &none;
    const double *rank_mem_bytes = labels->rank_mem_bytes;
    const struct gantt_layout *l = &g->lay;
    char title[384], layout[512] = "";
    if (labels->layout)
        plot_clean(layout, sizeof layout, labels->layout);
    make_title(title, sizeof title, scn, stages, res, l, layout[0] != '\0', labels->given);
    if (labels->warning) { /* a step that cannot run says so where the eye lands first */
        char warning[160], full[sizeof warning + sizeof title + 8];
        plot_clean(warning, sizeof warning, labels->warning);
        snprintf(full, sizeof full, "%s · %s", warning, title);
        plot_clean(title, sizeof title, full); /* cut at a character boundary */
    }
    int n = 0;
    plot_vars_add_text(vars, len, &n, "plottitle", title);
    plot_vars_add(vars, len, &n, "; notelines=%d", g->note_lines);
    for (int i = 0; i < g->note_lines; i++) {
        char name[24]; /* "noteline" and an int */
        snprintf(name, sizeof name, "noteline%d", i + 1);
        plot_vars_add_text(vars, len, &n, name, g->note_line[i]);
    }
    plot_vars_add(vars, len, &n,
                  "; nranks=%d; vp=%d; tmin=%.17g; tmax=%.17g; "
                  "width=%d; height=%d; lmpx=%d; rmpx=%d; tmpx=%d; bmpx=%d; rank_half=%.3f; "
                  "haslinks=%d; haswrap=%d; hasact=%d; hasgrad=%d; hasW=%d; hasOPT=%d; "
                  "haspairs=%d; mode=%d; labelpt=%d; keypt=%d; haslabels=%d; fontscale=%.4f",
                  res->pp, g->chunks, l->t0_s, l->t1_s, l->width_px, l->height_px, l->left_px,
                  l->right_px, l->top_px, l->bottom_px, l->rank_half, l->has_links, l->has_wrap,
                  g->has_sends[0], g->has_sends[1], g->has_w, g->has_opt, g->has_pairs,
                  (int)g->mode, g->label_pt, l->key_pt, has_mb_labels(g), l->text_scale);
    add_key_drawn(vars, len, &n, g);
    if (layout[0])
        plot_vars_add_text(vars, len, &n, "layoutline", layout);
    /* The V placements' chunks are the two directions (DualPipe's and DualPipe-V's, ZB-V's
     * alike): the legend names them so, where dualpipe-v had said "chunk 0/1" for dualpipe's
     * "down/up". */
    const char *const *names = sched_chunk_names(stages->type);
    if (names)
        plot_vars_add(vars, len, &n, "; chunknames='%s %s'", names[0], names[1]);
    /* Busy share of each rank's pipeline time in the window, and peak memory (GiB), as words
     * of one gnuplot string each: "94 93 ...", "51.1 48.9 ...". */
    plot_vars_add(vars, len, &n, "; busylabels='");
    for (int r = 0; r < res->pp; r++) { /* 99.9, not a rounded 100, for a rank not always busy */
        double pct = g->span_s[r] > 0 ? 100.0 * g->busy_s[r] / g->span_s[r] : 0.0;
        if (pct >= 99.5 && pct < 100)
            plot_vars_add(vars, len, &n, "%s%.1f", r ? " " : "", floor(pct * 10) / 10);
        else
            plot_vars_add(vars, len, &n, "%s%.0f", r ? " " : "", pct);
    }
    plot_vars_add(vars, len, &n, "'");
    if (rank_mem_bytes) {
        plot_vars_add(vars, len, &n, "; memlabels='");
        for (int r = 0; r < res->pp; r++)
            plot_vars_add(vars, len, &n, "%s%.1f", r ? " " : "", rank_mem_bytes[r] / 1073741824.0);
        plot_vars_add(vars, len, &n, "'");
    }
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

enum sim_status plot_gantt(struct outfile *img, const struct scenario *scn,
                           const struct layout *stages, const struct pipe_result *res,
                           const struct plot_labels *labels, const struct gantt_view *view,
                           struct sim_error *err)
{
    static const struct gantt_view whole = {0, 0, 0, 0};
    struct gantt g;
    enum sim_status st = gantt_build(&g, res, view ? view : &whole, err);
    if (st != SIM_OK)
        return st;
    char vars[16384];
    if (gantt_vars(vars, sizeof vars, scn, stages, res, &g, labels) != 0)
        st = err_set(err, SIM_EINPUT, NULL, 0, "--plot %s: too many ranks to label", img->path);
    else
        st = plot_render(img, gantt_gp, "gantt", gantt_data, &g, vars, err);
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

enum sim_status plot_memory(struct outfile *img, const char *title, const char *layout,
                            const double *parts, int pp, double hbm_bytes,
                            const struct gantt_view *size, struct sim_error *err)
{
    char clean[448], full[sizeof clean + 40], line[512], vars[4096];
    plot_clean(clean, sizeof clean, title);
    snprintf(full, sizeof full, "%s: memory per GPU by pipeline rank", clean);
    plot_clean(line, sizeof line, layout ? layout : "");
    int n = 0;
    plot_vars_add_text(vars, sizeof vars, &n, "plottitle", full);
    plot_vars_add_text(vars, sizeof vars, &n, "layoutline", line);
    plot_vars_add(vars, sizeof vars, &n, "; hbm=%.6f", hbm_bytes / 1073741824.0);
    /* --plot-size sizes both images: a slide asks for one size, not one per picture. */
    if (size && size->width_px > 0 && size->height_px > 0)
        plot_vars_add(vars, sizeof vars, &n, "; plotwidth=%d; plotheight=%d; fontscale=%.4f",
                      size->width_px, size->height_px,
                      gantt_text_scale(size->width_px, size->height_px));
    if (n < 0 || (size_t)n >= sizeof vars) /* 4 KiB holds the title and layout twice over */
        return err_set(err, SIM_EINPUT, NULL, 0, "--plot %s: the title is too long", img->path);
    struct memory_data md = {parts, pp};
    return plot_render(img, memory_gp, "memory", memory_data, &md, vars, err);
}
