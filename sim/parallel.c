/* parallel: a job counter shared by worker threads (see parallel.h). */
#include "parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"

struct pool {
    size_t n;
    atomic_size_t next, done;
    par_job_fn fn;
    void *user;
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n)
            break;
        p->fn(i, p->user);
        atomic_fetch_add(&p->done, 1);
    }
    return NULL;
}

int par_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int par_run(size_t n, int jobs, par_job_fn fn, void *user, par_progress_fn progress,
            void *progress_user)
{
    struct pool p = {.n = n, .fn = fn, .user = user};
    atomic_init(&p.next, 0);
    atomic_init(&p.done, 0);
    if (jobs <= 0)
        jobs = par_cpu_count();
    if ((size_t)jobs > n)
        jobs = n > 0 ? (int)n : 1;
    pthread_t *threads = jobs > 1 ? mem_calloc((size_t)jobs, sizeof *threads) : NULL;
    int started = 0, rc = 0;
    if (threads)
        for (; started < jobs; started++)
            if (pthread_create(&threads[started], NULL, worker, &p) != 0)
                break;
    if (jobs > 1 && started == 0)
        rc = -1;
    if (started == 0) {
        worker(&p); /* one job at a time on this thread */
    } else {
        while (progress && atomic_load(&p.done) < n) {
            progress(atomic_load(&p.done), n, progress_user);
            struct timespec ts = {0, 100000000};
            nanosleep(&ts, NULL);
        }
        for (int t = 0; t < started; t++)
            pthread_join(threads[t], NULL);
    }
    if (progress)
        progress(n, n, progress_user);
    mem_free(threads);
    return rc;
}
