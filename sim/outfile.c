/* outfile: the output rules, temp files and the commit (see outfile.h). */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "cleanup.h"

#define MAX_LINK_HOPS 40  /* as the kernel's own limit on symlinks in one lookup */
#define TMP_SUFFIX_LEN 11 /* ".tmp.XXXXXX" */

struct out_input {
    const char *what; /* not owned */
    dev_t dev;
    ino_t ino;
    char path[512];
};

struct outset {
    struct outfile file[OUTSET_MAX_FILES];
    int n;
    struct out_input *input; /* [ninputs], owned; grows (a sweep may vary model files) */
    size_t ninputs, cap;
    const char *own_mark; /* a description carrying it was written by this command: replaceable
                             (outset_replaces_own) */
};

const char *outset_option_on(const struct outset *os, int fd)
{
    for (int i = 0; os && fd >= 0 && i < os->n; i++)
        if (os->file[i].mode == OUT_DESCRIPTOR && os->file[i].fd == fd)
            return os->file[i].option;
    return NULL;
}

void outset_replaces_own(struct outset *os, const char *mark)
{
    os->own_mark = mark;
}

struct outset *outset_create(void)
{
    return mem_calloc(1, sizeof(struct outset));
}

/* Close and remove what an output left in progress. */
static void drop_temp(struct outfile *of)
{
    if (of->fp) {
        fclose(of->fp);
        of->fp = NULL;
    }
    if (of->tmp[0]) {
        unlink(of->tmp);
        of->tmp[0] = '\0';
    }
    cleanup_remove_file(of->slot);
    of->slot = -1;
    of->complete = 0;
}

void outset_destroy(struct outset *os)
{
    if (!os)
        return;
    for (int i = 0; i < os->n; i++)
        drop_temp(&os->file[i]);
    mem_free(os->input);
    mem_free(os);
}

enum sim_status outset_add_input_id(struct outset *os, const char *what, dev_t dev, ino_t ino,
                                    const char *path, struct sim_error *err)
{
    if (os->ninputs == os->cap) {
        size_t cap = os->cap ? 2 * os->cap : 16;
        struct out_input *grown =
            cap <= OUTSET_MAX_INPUTS ? mem_realloc(os->input, cap, sizeof *grown) : NULL;
        if (!grown)
            return err_set(err, SIM_EFAIL, NULL, 0, "out of memory for %zu input files",
                           os->ninputs);
        os->input = grown;
        os->cap = cap;
    }
    struct out_input *in = &os->input[os->ninputs++];
    in->what = what;
    in->dev = dev;
    in->ino = ino;
    snprintf(in->path, sizeof in->path, "%s", path);
    return SIM_OK;
}

enum sim_status outset_add_input(struct outset *os, const char *what, const char *path,
                                 struct sim_error *err)
{
    struct stat sb;
    if (!path || !path[0] || stat(path, &sb) != 0)
        return SIM_OK;
    return outset_add_input_id(os, what, sb.st_dev, sb.st_ino, path, err);
}

/* ---- planning: where an output goes, and whether it may ---- */

/* The descriptor a path names by itself (/dev/stdout, /dev/fd/1, /proc/self/fd/1): writing
 * there means writing to the descriptor, whatever it is open on.  -1 for any other path. */
static int descriptor_of(const char *path)
{
    static const char *const std[] = {"/dev/stdin", "/dev/stdout", "/dev/stderr"};
    for (int i = 0; i < 3; i++)
        if (strcmp(path, std[i]) == 0)
            return i;
    const char *digits = NULL;
    if (strncmp(path, "/dev/fd/", 8) == 0)
        digits = path + 8;
    else if (strncmp(path, "/proc/self/fd/", 14) == 0)
        digits = path + 14;
    size_t n = digits ? strlen(digits) : 0;
    if (n == 0 || n > 9 || strspn(digits, "0123456789") != n)
        return -1;
    return (int)strtol(digits, NULL, 10);
}

/* Length of the folder part of `path`, its last '/' included (0: the working directory). */
static size_t dir_len(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? (size_t)(slash - path) + 1 : 0;
}

/* The folder of `path` as a name stat and access take ("." for none, "/" for the root). */
static void dir_of(const char *path, char *buf, size_t len)
{
    size_t n = dir_len(path);
    if (n == 0)
        snprintf(buf, len, ".");
    else
        snprintf(buf, len, "%.*s", n > 1 ? (int)n - 1 : 1, path);
}

/* Follow `path` through symlinks to the file they name, which may not exist yet (a dangling
 * link names the file to create).  A hop naming a descriptor ends the walk with *fd set.
 * -1 with errno (ELOOP, ENAMETOOLONG, or readlink's) on failure. */
static int follow_links(const char *path, char *out, size_t len, int *fd)
{
    char cur[OUT_PATH_MAX], link[OUT_PATH_MAX];
    snprintf(cur, sizeof cur, "%s", path);
    for (int hop = 0;; hop++) {
        if ((*fd = descriptor_of(cur)) >= 0)
            break;
        if (hop == 0 && strcmp(cur, "-") == 0) { /* the shell tools' name for stdout */
            *fd = 1;
            break;
        }
        struct stat sb;
        if (lstat(cur, &sb) != 0 || !S_ISLNK(sb.st_mode))
            break;
        if (hop == MAX_LINK_HOPS) {
            errno = ELOOP;
            return -1;
        }
        ssize_t n = readlink(cur, link, sizeof link - 1);
        if (n < 0)
            return -1;
        link[n] = '\0';
        /* A relative link is relative to the folder holding the link. */
        size_t keep = link[0] == '/' ? 0 : dir_len(cur);
        if (keep + (size_t)n >= sizeof cur) {
            errno = ENAMETOOLONG;
            return -1;
        }
        memmove(cur + keep, link, (size_t)n + 1);
    }
    if (strlen(cur) >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    snprintf(out, len, "%s", cur);
    return 0;
}

static const char *kind_of(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

static long name_max_of(const char *dir)
{
    long n = pathconf(dir, _PC_NAME_MAX);
    return n > TMP_SUFFIX_LEN + 16 ? n : NAME_MAX;
}

/* A new file: its folder must exist and take new files. */
static enum sim_status plan_new(struct outfile *of, struct sim_error *err)
{
    char dir[OUT_PATH_MAX];
    dir_of(of->target, dir, sizeof dir);
    const char *base = of->target + dir_len(of->target);
    if (!*base)
        return err_set(err, SIM_EINPUT, of->path, 0, "%s names a folder, not a file", of->option);
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return err_set(err, SIM_EFAIL, of->path, 0, "%s: cannot create: %s", of->option,
                       strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return err_set(err, SIM_EFAIL, of->path, 0, "%s: cannot create: %s", of->option,
                       strerror(ENOTDIR));
    if (access(dir, W_OK | X_OK) != 0)
        return err_set(err, SIM_EFAIL, of->path, 0, "%s: cannot create: %s", of->option,
                       strerror(errno));
    long name_max = name_max_of(dir);
    if ((long)strlen(base) > name_max)
        return err_set(err, SIM_EINPUT, of->path, 0,
                       "%s: the file name is longer than the folder's limit of %ld bytes",
                       of->option, name_max);
    of->dir_dev = sb.st_dev;
    of->dir_ino = sb.st_ino;
    of->mode = OUT_REPLACE;
    return SIM_OK;
}

/* The kind of stepsim description ("scenario", "model", "hardware") the document `head`
 * begins with, or NULL: the first element after the XML declaration, processing
 * instructions, comments and white space (a UTF-8 byte-order mark allowed). */
static const char *description_kind(const char *head)
{
    static const char *const roots[] = {"scenario", "model", "hardware"};
    const char *p = head;
    if (strncmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    for (;;) {
        p += strspn(p, " \t\r\n");
        if (strncmp(p, "<?", 2) == 0 || strncmp(p, "<!--", 4) == 0) {
            const char *end = strstr(p, p[1] == '?' ? "?>" : "-->");
            if (!end)
                return NULL;
            p = end + (p[1] == '?' ? 2 : 3);
            continue;
        }
        if (*p != '<')
            return NULL;
        for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
            size_t n = strlen(roots[i]);
            if (strncmp(p + 1, roots[i], n) == 0 && strchr(" \t\r\n/>", p[1 + n]) && p[1 + n])
                return roots[i];
        }
        return NULL;
    }
}

/* An output never replaces a scenario, model or hardware description, loaded by this command or
 * not: a mistyped output name (--timeline run.xml for run.csv) would destroy what the user
 * wrote, and a stepsim output never is such a file.  What cannot be read is not refused. */
/* Whether the document opens -- after its XML declaration -- with the comment "<!-- MARK". */
static int opens_with_mark(const char *head, const char *mark)
{
    if (!mark)
        return 0;
    const char *p = head;
    if (strncmp(p, "<?xml", 5) == 0) {
        const char *end = strstr(p, "?>");
        if (!end)
            return 0;
        p = end + 2;
    }
    p += strspn(p, " \t\r\n");
    return strncmp(p, "<!-- ", 5) == 0 && strncmp(p + 5, mark, strlen(mark)) == 0;
}

static enum sim_status refuse_description(const struct outset *os, const struct outfile *of,
                                          struct sim_error *err)
{
    char head[4097];
    int fd = open(of->target, O_RDONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return SIM_OK;
    ssize_t n = read(fd, head, sizeof head - 1);
    close(fd);
    head[n > 0 ? n : 0] = '\0';
    const char *kind = description_kind(head);
    if (kind && strcmp(kind, "scenario") == 0 && opens_with_mark(head, os->own_mark))
        return SIM_OK; /* an earlier import, say */
    if (kind)
        return err_set(err, SIM_EINPUT, of->path, 0,
                       "%s: is a stepsim %s description; refusing to replace it", of->option,
                       kind);
    return SIM_OK;
}

/* What already exists at the target decides how it is written, or whether it may be. */
static enum sim_status plan_existing(struct outfile *of, struct sim_error *err)
{
    mode_t m = of->st.st_mode;
    if (!S_ISREG(m) && !S_ISCHR(m) && !S_ISFIFO(m))
        return err_set(err, SIM_EINPUT, of->path, 0, "%s: is %s; refusing to replace it",
                       of->option, kind_of(m));
    if (access(of->target, W_OK) != 0)
        return err_set(err, SIM_EFAIL, of->path, 0, "%s: cannot write: %s", of->option,
                       strerror(errno));
    if (!S_ISREG(m)) {
        of->mode = OUT_IN_PLACE;
        return SIM_OK;
    }
    char dir[OUT_PATH_MAX];
    dir_of(of->target, dir, sizeof dir);
    /* No temp file can go beside a file in a folder we cannot write: rewrite it in place. */
    of->mode = access(dir, W_OK | X_OK) == 0 ? OUT_REPLACE : OUT_TRUNCATE;
    return SIM_OK;
}

static enum sim_status plan_target(struct outfile *of, struct sim_error *err)
{
    if (of->fd >= 0) {
        if (fstat(of->fd, &of->st) != 0)
            return err_set(err, SIM_EFAIL, of->path, 0, "%s: cannot write: %s", of->option,
                           strerror(errno));
        of->exists = 1;
        of->mode = OUT_DESCRIPTOR;
        return SIM_OK;
    }
    if (stat(of->target, &of->st) == 0) {
        of->exists = 1;
        return plan_existing(of, err);
    }
    if (errno != ENOENT)
        return err_set(err, SIM_EFAIL, of->path, 0, "%s: cannot write: %s", of->option,
                       strerror(errno));
    return plan_new(of, err);
}

/* Would a and b write the same file?  Existing files by device and inode; new ones by folder
 * and name.  Character devices may take two outputs. */
static int same_output(const struct outfile *a, const struct outfile *b)
{
    if (a->exists != b->exists)
        return 0;
    if (a->exists)
        return a->st.st_dev == b->st.st_dev && a->st.st_ino == b->st.st_ino &&
               !S_ISCHR(a->st.st_mode);
    return a->dir_dev == b->dir_dev && a->dir_ino == b->dir_ino &&
           strcmp(a->target + dir_len(a->target), b->target + dir_len(b->target)) == 0;
}

static enum sim_status check_identity(const struct outset *os, const struct outfile *of,
                                      struct sim_error *err)
{
    for (size_t i = 0; of->exists && i < os->ninputs; i++) {
        const struct out_input *in = &os->input[i];
        if (in->dev == of->st.st_dev && in->ino == of->st.st_ino)
            return err_set(err, SIM_EINPUT, of->path, 0,
                           "%s would overwrite the %s %s, an input; refusing", of->option, in->what,
                           in->path);
    }
    for (int i = 0; i < os->n; i++)
        if (&os->file[i] != of && same_output(&os->file[i], of))
            return err_set(err, SIM_EINPUT, of->path, 0,
                           "%s would write the same file as %s %s; refusing", of->option,
                           os->file[i].option, os->file[i].path);
    return SIM_OK;
}

enum sim_status outset_add(struct outset *os, const char *option, const char *path,
                           struct outfile **out, struct sim_error *err)
{
    if (os->n == OUTSET_MAX_FILES)
        return err_set(err, SIM_EFAIL, NULL, 0, "internal error: more than %d outputs",
                       OUTSET_MAX_FILES);
    struct outfile *of = &os->file[os->n];
    memset(of, 0, sizeof *of);
    of->option = option;
    of->slot = -1;
    of->fd = -1;
    if (!path[0])
        return err_set(err, SIM_EINPUT, NULL, 0, "%s needs a file name", option);
    if (strlen(path) >= sizeof of->path)
        return err_set(err, SIM_EINPUT, NULL, 0, "%s: output path too long: %.60s...", option,
                       path);
    snprintf(of->path, sizeof of->path, "%s", path);
    if (follow_links(path, of->target, sizeof of->target, &of->fd) != 0)
        return err_set(err, errno == ELOOP || errno == ENAMETOOLONG ? SIM_EINPUT : SIM_EFAIL,
                       of->path, 0, "%s: cannot follow the symbolic link: %s", option,
                       strerror(errno));
    enum sim_status st = plan_target(of, err);
    if (st == SIM_OK)
        st = check_identity(os, of, err);
    if (st == SIM_OK && of->exists && S_ISREG(of->st.st_mode))
        st = refuse_description(os, of, err);
    if (st != SIM_OK)
        return st;
    os->n++;
    if (out)
        *out = of;
    return SIM_OK;
}

/* ---- temp files ---- */

const char *out_temp_dir(void)
{
    /* The name ends up inside gnuplot's single-quoted strings: nothing that would end one. */
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir || strpbrk(dir, "'\\\n\r") || strlen(dir) > 1024)
        return "/tmp";
    return dir;
}

FILE *out_temp_open(char *buf, size_t len, const char *tag, int *slot)
{
    *slot = -1;
    int w = snprintf(buf, len, "%s/stepsim-%s-XXXXXX", out_temp_dir(), tag);
    if (w < 0 || (size_t)w >= len) {
        buf[0] = '\0';
        errno = ENAMETOOLONG;
        return NULL;
    }
    sigset_t old;
    cleanup_hold(&old); /* created and registered as one step */
    int fd = mkstemp(buf);
    int e = errno;
    if (fd >= 0 && (*slot = cleanup_add_file(buf)) < 0) {
        e = errno;
        close(fd);
        unlink(buf);
        fd = -1;
    }
    cleanup_release(&old);
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (fd >= 0 && !fp) {
        e = errno;
        close(fd);
        out_temp_remove(buf, slot);
    }
    if (!fp) {
        buf[0] = '\0';
        errno = e;
    }
    return fp;
}

void out_temp_remove(char *buf, int *slot)
{
    if (buf[0])
        unlink(buf);
    buf[0] = '\0';
    cleanup_remove_file(*slot);
    *slot = -1;
}

/* FNV-1a: a short, stable tag for a long name. */
static unsigned long hash_name(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* "DIR/NAME.tmp.XXXXXX" beside the target; when that would pass the folder's NAME_MAX, NAME
 * becomes its first bytes and a hash of the whole ("DIR/NAM~1a2b3c4d.tmp.XXXXXX"). */
static void temp_name(char *buf, size_t len, const char *target, unsigned long salt)
{
    char dir[OUT_PATH_MAX];
    dir_of(target, dir, sizeof dir);
    size_t dl = dir_len(target);
    const char *base = target + dl;
    long room = name_max_of(dir) - TMP_SUFFIX_LEN;
    if ((long)strlen(base) <= room)
        snprintf(buf, len, "%.*s%s.tmp.%06lx", (int)dl, target, base, salt & 0xffffffu);
    else
        snprintf(buf, len, "%.*s%.*s~%08lx.tmp.%06lx", (int)dl, target, (int)(room - 9), base,
                 hash_name(base), salt & 0xffffffu);
}

/* Keep a replaced file's owner (where permitted: root, or the owner keeping its own group)
 * and mode; owner first, since chown clears set-id bits. */
static void keep_attributes(int fd, const struct stat *st)
{
    if (fchown(fd, st->st_uid, st->st_gid) != 0) {
        /* not permitted: the new file is ours, as any file we create */
    }
    if (fchmod(fd, st->st_mode & 07777) != 0) {
        /* cannot fail on our own file short of EIO; the data still goes out */
    }
}

/* The temp file of a replaced output, beside its target, created with O_EXCL (so the name is
 * ours) and mode 0666 less the umask, as any new output. */
static int create_beside(struct outfile *of)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long salt = (unsigned long)getpid() * 2654435761u ^ (unsigned long)ts.tv_nsec ^
                         (unsigned long)(uintptr_t)of;
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        temp_name(of->tmp, sizeof of->tmp, of->target, salt + (unsigned long)attempt * 7919u);
        sigset_t old;
        cleanup_hold(&old);
        fd = open(of->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
        int e = errno;
        if (fd >= 0 && (of->slot = cleanup_add_file(of->tmp)) < 0) {
            e = errno;
            close(fd);
            unlink(of->tmp);
            fd = -1;
        }
        cleanup_release(&old);
        errno = e;
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        of->tmp[0] = '\0';
        return -1;
    }
    if (of->exists)
        keep_attributes(fd, &of->st);
    return fd;
}

enum sim_status outfile_begin(struct outfile *of, struct sim_error *err)
{
    if (of->mode != OUT_REPLACE) { /* the data waits in TMPDIR until the commit */
        of->fp = out_temp_open(of->tmp, sizeof of->tmp, "out", &of->slot);
        if (!of->fp)
            return err_set(err, SIM_EFAIL, of->path, 0, "%s: cannot create a temp file in %s: %s",
                           of->option, out_temp_dir(), strerror(errno));
        return SIM_OK;
    }
    int fd = create_beside(of);
    if (fd < 0) { /* the new file is written beside the target, then renamed over it */
        char dir[OUT_PATH_MAX];
        dir_of(of->target, dir, sizeof dir);
        return err_set(err, SIM_EFAIL, of->path, 0, "%s: cannot create a file beside it in %s: %s",
                       of->option, dir, strerror(errno));
    }
    of->fp = fdopen(fd, "w");
    if (!of->fp) {
        int e = errno;
        close(fd);
        drop_temp(of);
        return err_set(err, SIM_EFAIL, of->path, 0, "%s: cannot open output: %s", of->option,
                       strerror(e));
    }
    return SIM_OK;
}

enum sim_status outfile_end(struct outfile *of, struct sim_error *err)
{
    errno = 0;
    int bad = ferror(of->fp) != 0;
    int e = errno;
    if (fclose(of->fp) != 0) {
        bad = 1;
        e = errno;
    }
    of->fp = NULL;
    if (bad) {
        drop_temp(of);
        return err_set(err, SIM_EFAIL, of->path, 0, "%s: cannot write: %s", of->option,
                       e ? strerror(e) : "write error");
    }
    of->complete = 1;
    return SIM_OK;
}

enum sim_status outfile_begin_named(struct outfile *of, struct sim_error *err)
{
    enum sim_status st = outfile_begin(of, err);
    return st == SIM_OK ? outfile_end(of, err) : st;
}

enum sim_status outfile_write(struct outfile *of, outfile_writer write, const void *user,
                              struct sim_error *err)
{
    enum sim_status st = outfile_begin(of, err);
    if (st != SIM_OK)
        return st;
    if (write(of->fp, user) != 0) {
        drop_temp(of);
        return err_set(err, SIM_EFAIL, of->path, 0, "%s: write error", of->option);
    }
    return outfile_end(of, err);
}

void outfile_skip(struct outfile *of)
{
    drop_temp(of);
    of->skipped = 1;
}

/* ---- commit ---- */

static int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Copy the temp file's data into the target (device, FIFO, descriptor, or a file truncated
 * in place); 0 or -1 with errno. */
static int copy_in(const struct outfile *of)
{
    int in = open(of->tmp, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = of->fd;
    if (of->mode != OUT_DESCRIPTOR) /* never O_CREAT: what is there is what we write */
        out = open(of->target,
                   O_WRONLY | O_NOCTTY | O_CLOEXEC | (of->mode == OUT_TRUNCATE ? O_TRUNC : 0));
    int rc = out < 0 ? -1 : 0;
    char buf[65536];
    while (rc == 0) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -1 : 0;
            break;
        }
        rc = write_all(out, buf, (size_t)n);
    }
    int e = errno;
    if (out >= 0 && of->mode != OUT_DESCRIPTOR && close(out) != 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    close(in);
    errno = e;
    return rc;
}

/* Copy every in-place output; SIGPIPE is ignored meanwhile so that a FIFO or pipe whose
 * reader went away is an error (EPIPE), not a death that skips the cleanup. */
static enum sim_status commit_in_place(struct outset *os, struct sim_error *err)
{
    struct sigaction ign, old;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old);
    enum sim_status st = SIM_OK;
    for (int i = 0; i < os->n && st == SIM_OK; i++) {
        struct outfile *of = &os->file[i];
        if (of->mode == OUT_REPLACE || of->skipped)
            continue;
        if (copy_in(of) != 0)
            st = err_set(err, SIM_EFAIL, of->path, 0, "%s: cannot write: %s", of->option,
                         strerror(errno));
        drop_temp(of);
    }
    sigaction(SIGPIPE, &old, NULL);
    return st;
}

/* Rename every replaced output into place, with signals held so that an interruption cannot
 * leave some renamed and some not. */
static enum sim_status commit_renames(struct outset *os, struct sim_error *err)
{
    sigset_t old;
    cleanup_hold(&old);
    enum sim_status st = SIM_OK;
    for (int i = 0; i < os->n && st == SIM_OK; i++) {
        struct outfile *of = &os->file[i];
        if (of->mode != OUT_REPLACE || of->skipped)
            continue;
        /* Something else may have appeared there since the check: still never replace it. */
        struct stat sb;
        if (lstat(of->target, &sb) == 0 && !S_ISREG(sb.st_mode))
            st = err_set(err, SIM_EINPUT, of->path, 0, "%s: is %s now; refusing to replace it",
                         of->option, kind_of(sb.st_mode));
        else if (rename(of->tmp, of->target) != 0)
            st = err_set(err, SIM_EFAIL, of->path, 0, "%s: cannot rename into place: %s",
                         of->option, strerror(errno));
        else
            of->tmp[0] = '\0'; /* in place: nothing to remove */
        drop_temp(of);
    }
    cleanup_release(&old);
    return st;
}

enum sim_status outset_commit(struct outset *os, struct sim_error *err)
{
    enum sim_status st = SIM_OK;
    for (int i = 0; i < os->n && st == SIM_OK; i++)
        if (!os->file[i].complete && !os->file[i].skipped)
            st = err_set(err, SIM_EFAIL, os->file[i].path, 0, "internal error: %s was not written",
                         os->file[i].option);
    if (st == SIM_OK)
        st = commit_in_place(os, err);
    if (st == SIM_OK)
        st = commit_renames(os, err);
    for (int i = 0; i < os->n; i++)
        drop_temp(&os->file[i]);
    return st;
}

/* ---- text ---- */

size_t utf8_decode(const char *s, unsigned long *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t n;
    unsigned long min, v;
    if ((p[0] & 0xe0) == 0xc0) {
        n = 2, min = 0x80, v = p[0] & 0x1f;
    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3, min = 0x800, v = p[0] & 0x0f;
    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4, min = 0x10000, v = p[0] & 0x07;
    } else {
        return 0; /* a continuation byte, or 0xf8..0xff */
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) /* the NUL that ends s stops here too */
            return 0;
        v = v << 6 | (p[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

size_t utf8_char_len(const char *s)
{
    unsigned long cp;
    return utf8_decode(s, &cp);
}

void utf8_clean(char *buf, size_t len, const char *s)
{
    size_t used = 0;
    while (*s) {
        size_t n = utf8_char_len(s);
        const char *piece = n ? s : UTF8_REPLACEMENT;
        size_t k = n ? n : 3;
        if (used + k >= len)
            break;
        memcpy(buf + used, piece, k);
        used += k;
        s += n ? n : 1;
    }
    buf[used] = '\0';
}

void json_put_string(FILE *out, const char *s)
{
    fputc('"', out);
    while (*s) {
        size_t n = utf8_char_len(s);
        unsigned char c = (unsigned char)*s;
        if (n == 0)
            fputs(UTF8_REPLACEMENT, out);
        else if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fwrite(s, 1, n, out);
        s += n ? n : 1;
    }
    fputc('"', out);
}

void out_put_wrapped(FILE *out, const char *text, int col, int indent, int width)
{
    int fresh = 1; /* no word yet on this line */
    for (const char *w = text + strspn(text, " "); *w; w += strspn(w, " ")) {
        int len = (int)strcspn(w, " ");
        if (!fresh && col + 1 + len > width)
            col = fprintf(out, "\n%*s", indent, "") - 1;
        else if (!fresh)
            col += fprintf(out, " ");
        col += fprintf(out, "%.*s", len, w);
        fresh = 0;
        w += len;
    }
    fputc('\n', out);
}
