/* cleanup: the registry of temp files and children, and the signal handler (see cleanup.h). */
#include "cleanup.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLEANUP_PATH_MAX 4352 /* an output path (PATH_MAX) and its temp suffix */

/* Slot states: free, being written by the registering thread, complete (the handler may
 * unlink it). */
enum { SLOT_FREE, SLOT_FILLING, SLOT_SET };

static struct {
    atomic_int state;
    char path[CLEANUP_PATH_MAX];
} files[CLEANUP_MAX_FILES];
static atomic_int children[CLEANUP_MAX_CHILDREN]; /* pids; 0 = free */

static const int handled[] = {SIGINT, SIGTERM, SIGHUP};
#define NHANDLED (sizeof handled / sizeof handled[0])

static void on_signal(int sig)
{
    /* Children first: a child still running could create a file after we removed it. */
    for (int i = 0; i < CLEANUP_MAX_CHILDREN; i++) {
        pid_t pid = (pid_t)atomic_load(&children[i]);
        if (pid > 0)
            kill(pid, SIGKILL);
    }
    for (int i = 0; i < CLEANUP_MAX_CHILDREN; i++) {
        pid_t pid = (pid_t)atomic_load(&children[i]);
        if (pid > 0) /* SIGKILL cannot be caught: this returns promptly (or ECHILD) */
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
    }
    for (int i = 0; i < CLEANUP_MAX_FILES; i++)
        if (atomic_load(&files[i].state) == SLOT_SET)
            unlink(files[i].path);
    _exit(128 + sig);
}

void cleanup_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NHANDLED; i++) /* one handler at a time per thread */
        sigaddset(&sa.sa_mask, handled[i]);
    for (size_t i = 0; i < NHANDLED; i++) {
        struct sigaction old;
        if (sigaction(handled[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue; /* nohup and friends: keep ignoring */
        sigaction(handled[i], &sa, NULL);
    }
}

int cleanup_add_file(const char *path)
{
    size_t n = strlen(path);
    if (n >= CLEANUP_PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (int i = 0; i < CLEANUP_MAX_FILES; i++) {
        int expect = SLOT_FREE;
        if (!atomic_compare_exchange_strong(&files[i].state, &expect, SLOT_FILLING))
            continue;
        memcpy(files[i].path, path, n + 1);
        atomic_store(&files[i].state, SLOT_SET); /* the path is complete before this */
        return i;
    }
    errno = ENOSPC;
    return -1;
}

void cleanup_remove_file(int slot)
{
    if (slot >= 0 && slot < CLEANUP_MAX_FILES)
        atomic_store(&files[slot].state, SLOT_FREE);
}

int cleanup_add_child(pid_t pid)
{
    for (int i = 0; i < CLEANUP_MAX_CHILDREN; i++) {
        int expect = 0;
        if (atomic_compare_exchange_strong(&children[i], &expect, (int)pid))
            return i;
    }
    return -1;
}

void cleanup_remove_child(int slot)
{
    if (slot >= 0 && slot < CLEANUP_MAX_CHILDREN)
        atomic_store(&children[slot], 0);
}

static void handled_set(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < NHANDLED; i++)
        sigaddset(set, handled[i]);
}

void cleanup_hold(sigset_t *old)
{
    sigset_t set;
    handled_set(&set);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

void cleanup_release(const sigset_t *old)
{
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

void cleanup_child_reset(const sigset_t *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    for (size_t i = 0; i < NHANDLED; i++) {
        struct sigaction cur;
        /* what the parent ignored (nohup) stays ignored; our handler becomes the default */
        if (sigaction(handled[i], NULL, &cur) == 0 && cur.sa_handler == on_signal) {
            sa.sa_handler = SIG_DFL;
            sigaction(handled[i], &sa, NULL);
        }
    }
    sigprocmask(SIG_SETMASK, old, NULL);
}
