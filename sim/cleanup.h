/* cleanup: an interrupted stepsim leaves nothing behind.
 *
 * While they exist, temp files (outputs being written, gnuplot's data and script) and child
 * processes (gnuplot) are registered here.  On SIGINT, SIGTERM or SIGHUP the handler kills
 * every registered child (SIGKILL: gnuplot would otherwise keep drawing after stepsim is
 * gone), waits for it, removes every registered file and exits 128 + the signal: 130, 143 or
 * 129.  The handler calls only kill, waitpid, unlink and _exit (async-signal-safe).
 *
 * This is the one piece of process-wide mutable state in stepsim besides the schema cache in
 * xmlload.c: a signal handler can reach nothing else.  Slots are claimed and released with
 * lock-free atomics; the handler reads a slot only once its path is complete.  Without
 * cleanup_install() (the tests, the fuzzer) registering is harmless bookkeeping. */
#ifndef STEPSIM_CLEANUP_H
#define STEPSIM_CLEANUP_H

#include <signal.h>
#include <sys/types.h>

#define CLEANUP_MAX_FILES 64   /* a command has at most a dozen temp files at once */
#define CLEANUP_MAX_CHILDREN 4 /* one gnuplot at a time */

/* Handle SIGINT, SIGTERM and SIGHUP as above (main only).  A signal ignored when stepsim
 * starts (nohup) stays ignored. */
void cleanup_install(void);

/* Register `path` for removal; returns its slot, or -1 (errno ENOSPC or ENAMETOOLONG) when it
 * cannot be registered -- then the caller must not create the file. */
int cleanup_add_file(const char *path);
/* Forget slot `slot` (the file was renamed into place or removed); -1 is ignored. */
void cleanup_remove_file(int slot);

/* Register a child process to kill; returns its slot or -1 when the table is full. */
int cleanup_add_child(pid_t pid);
void cleanup_remove_child(int slot);

/* Hold SIGINT, SIGTERM and SIGHUP in the calling thread (saving the old mask in *old), and
 * let them through again: around a fork, so the child never runs stepsim's handler, and
 * around a commit, so the renames of one command's outputs are not cut in two. */
void cleanup_hold(sigset_t *old);
void cleanup_release(const sigset_t *old);
/* In a forked child before exec: default actions and the mask saved by cleanup_hold. */
void cleanup_child_reset(const sigset_t *old);

#endif
