/* outfile: every file a stepsim command writes, by one set of rules.
 *
 * A command names all its outputs (outset_add) and the files it loaded (outset_add_input)
 * before it simulates or writes anything; each output is checked then:
 *  - a regular file, or a new name in a writable folder, is replaced atomically: the data goes
 *    to "NAME.tmp.XXXXXX" beside it (NAME shortened and hashed when the temp name would pass
 *    the folder's NAME_MAX) and is renamed over it at commit, keeping the old file's mode and,
 *    where permitted, its owner.  A symlink is written through: the temp file goes beside the
 *    file it points to, and that file is replaced;
 *  - a character device or a FIFO (/dev/null, a terminal, a named pipe) is written in place,
 *    opened without O_CREAT or O_TRUNC; /dev/stdout, /dev/stderr, /dev/fd/N and
 *    /proc/self/fd/N are written through that descriptor, and "-" through stdout's.  Their
 *    data waits in a temp file in TMPDIR until the commit;
 *  - an existing writable file in a folder stepsim cannot write to (no temp file possible
 *    beside it) is truncated and rewritten in place at commit -- the one case that is not
 *    atomic: a failure part way leaves it short;
 *  - anything else that exists (a directory, a block device, a socket) is refused with
 *    SIM_EINPUT, as is an output that is the same file (device and inode, or the same new name
 *    in the same folder) as a file the command loaded or as another of its outputs --
 *    character devices excepted: writing /dev/null twice destroys nothing;
 *  - an existing regular file that is a scenario, model or hardware description (its first
 *    element is <scenario>, <model> or <hardware>) is refused with SIM_EINPUT too, loaded or
 *    not: no output of stepsim is one, so replacing it can only be a mistyped name;
 *  - a missing or unwritable folder, a file without write permission: SIM_EFAIL, still before
 *    anything is written.
 * Each output's data then goes to its temp file (outfile_write, or outfile_begin /
 * outfile_end), and outset_commit puts them all in place at the end: the in-place copies first
 * (they are what can fail: a full device, a closed pipe), the renames last, so a failure
 * anywhere leaves every replaced file as it was.  Temp files are registered with cleanup (an
 * interrupted run removes them); signals wait until a commit is over. */
#ifndef STEPSIM_OUTFILE_H
#define STEPSIM_OUTFILE_H

#include <stdio.h>
#include <sys/stat.h>

#include "error.h"

#define OUT_PATH_MAX 4096 /* PATH_MAX on Linux */
#define OUTSET_MAX_FILES 8
#define OUTSET_MAX_INPUTS (1 << 20) /* a sweep's --vary model=... lists at most 10^5 */

enum out_mode {
    OUT_REPLACE,    /* temp beside the target, renamed over it */
    OUT_IN_PLACE,   /* character device or FIFO: opened for writing, never created */
    OUT_TRUNCATE,   /* writable file in a read-only folder: truncated and rewritten */
    OUT_DESCRIPTOR, /* /dev/stdout and friends: written to descriptor `fd` */
};

struct outfile {
    const char *option;          /* "--timeline": named in messages; not owned */
    char path[OUT_PATH_MAX];     /* as given */
    char target[OUT_PATH_MAX];   /* symlinks followed: what is replaced or written */
    char tmp[OUT_PATH_MAX + 64]; /* where the data waits until the commit; "" when none */
    enum out_mode mode;
    int fd;     /* OUT_DESCRIPTOR */
    int exists; /* target exists: st holds its identity, mode and owner */
    struct stat st;
    dev_t dir_dev; /* target's folder: a new name is identified by it and */
    ino_t dir_ino; /* the base name */
    FILE *fp;      /* open between outfile_begin and outfile_end */
    int slot;      /* cleanup slot of tmp; -1 when none */
    int complete;  /* tmp holds all the data */
    int skipped;   /* outfile_skip: not written, target untouched */
};

struct outset; /* opaque: the outputs and loaded inputs of one command */

struct outset *outset_create(void);
/* Removes the temp files of everything not committed; accepts NULL. */
void outset_destroy(struct outset *os);

/* A file the command loaded: no output may be it.  `what` ("scenario", "model", ...) names it
 * in messages.  A path that does not exist (yet) is skipped: the loader reports it. */
enum sim_status outset_add_input(struct outset *os, const char *what, const char *path,
                                 struct sim_error *err);
/* The same for a file known by device and inode. */
enum sim_status outset_add_input_id(struct outset *os, const char *what, dev_t dev, ino_t ino,
                                    const char *path, struct sim_error *err);
/* Let this set's outputs replace a description (which they otherwise never do) whose first
 * 4 KiB hold `mark`: one this command wrote before (stepsim import's own comment), so that an
 * import can be run again onto its --out.  `mark` must outlive the set. */
void outset_replaces_own(struct outset *os, const char *mark);
/* Check `path` as the output of `option` by the rules above; *out (may be NULL) is its
 * record, valid until outset_destroy. */
enum sim_status outset_add(struct outset *os, const char *option, const char *path,
                           struct outfile **out, struct sim_error *err);

/* Create the temp file and open of->fp for writing. */
enum sim_status outfile_begin(struct outfile *of, struct sim_error *err);
/* Flush and close of->fp; the data is then complete. */
enum sim_status outfile_end(struct outfile *of, struct sim_error *err);
/* Create the temp file empty and closed, for another program (gnuplot) to write by name;
 * the data counts as complete when that program succeeded. */
enum sim_status outfile_begin_named(struct outfile *of, struct sim_error *err);
/* Writes a whole output; returns nonzero on a write error. */
typedef int (*outfile_writer)(FILE *out, const void *user);
/* outfile_begin, `write`, outfile_end. */
enum sim_status outfile_write(struct outfile *of, outfile_writer write, const void *user,
                              struct sim_error *err);

/* Nothing to write after all (a companion image with nothing to draw): the commit leaves the
 * target alone. */
void outfile_skip(struct outfile *of);

/* The option ("--timeline") of the first output written to descriptor fd (stdout's, for "-"
 * and /dev/stdout), or NULL: that stream then carries that output, so a report meant for it
 * must go elsewhere. */
const char *outset_option_on(const struct outset *os, int fd);

/* Put every output in place (see above); on failure no replaced file has changed and every
 * temp file is gone. */
enum sim_status outset_commit(struct outset *os, struct sim_error *err);

/* Create "TMPDIR/stepsim-TAG-XXXXXX" (TMPDIR when set, safe for gnuplot and short enough,
 * else /tmp), registered with cleanup; its name in buf.  NULL (errno set) on failure; the
 * caller removes the file with out_temp_remove. */
FILE *out_temp_open(char *buf, size_t len, const char *tag, int *slot);
void out_temp_remove(char *buf, int *slot);
/* The folder out_temp_open uses. */
const char *out_temp_dir(void);

/* Bytes of the valid UTF-8 character at s (1 to 4; 1 for ASCII), 0 when the bytes there do
 * not begin one: a stray continuation byte, an overlong form, a surrogate, a code point past
 * U+10FFFF, a truncated sequence.  The one test of UTF-8 every writer uses: whatever reaches
 * a JSON, CSV or plot output is valid UTF-8, invalid bytes becoming UTF8_REPLACEMENT. */
size_t utf8_char_len(const char *s);
/* The same, with the sequence's code point in *cp. */
size_t utf8_decode(const char *s, unsigned long *cp);
#define UTF8_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */
/* Copy s into buf (len >= 4), cut at a character boundary, invalid bytes replaced. */
void utf8_clean(char *buf, size_t len, const char *s);
/* Write s as a JSON string literal: quotes, escapes, invalid UTF-8 replaced. */
void json_put_string(FILE *out, const char *s);
/* The words of `text` (split at spaces) from column `col` on, a word that would end past
 * column `width` starting a new line under `indent` spaces (but for a word longer than a
 * line); then a newline.  The first word goes at `col` as it is, with no space before it.  For
 * the --help and `keys` tables. */
void out_put_wrapped(FILE *out, const char *text, int col, int indent, int width);

#endif
