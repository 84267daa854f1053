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
    /* One job at a time still runs on a worker when progress is asked for: the caller must be
     * free to report it (sweep -j 1, or the default on one CPU, had shown its bar only once
     * every config had run). */
    pthread_t *threads =
        jobs > 1 || progress ? mem_calloc((size_t)jobs, sizeof *threads) : NULL;
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

/* ---- a pool kept across batches ---- */

struct par_pool {
    pthread_mutex_t mu;
    pthread_cond_t start, finished;
    pthread_t *threads;
    int nthreads;
    unsigned long batch; /* counts batches; a worker runs each new one once */
    int stop;
    int busy; /* workers still in the current batch */
    /* the current batch: */
    size_t n;
    atomic_size_t next;
    par_job_fn fn;
    void *user;
};

static void pool_work(struct par_pool *p)
{
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n)
            break;
        p->fn(i, p->user);
    }
}

static void *pool_worker(void *arg)
{
    struct par_pool *p = arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->batch == seen)
            pthread_cond_wait(&p->start, &p->mu);
        if (p->stop)
            break;
        seen = p->batch;
        pthread_mutex_unlock(&p->mu);
        pool_work(p);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0)
            pthread_cond_signal(&p->finished);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct par_pool *par_pool_create(int jobs)
{
    struct par_pool *p = mem_calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (jobs <= 0)
        jobs = par_cpu_count();
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->finished, NULL);
    atomic_init(&p->next, 0);
    p->threads = jobs > 1 ? mem_calloc((size_t)jobs - 1, sizeof *p->threads) : NULL;
    for (; p->threads && p->nthreads < jobs - 1; p->nthreads++)
        if (pthread_create(&p->threads[p->nthreads], NULL, pool_worker, p) != 0)
            break;
    return p;
}

void par_pool_run(struct par_pool *p, size_t n, par_job_fn fn, void *user)
{
    if (!p || p->nthreads == 0 || n <= 1) {
        for (size_t i = 0; i < n; i++)
            fn(i, user);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->n = n;
    p->fn = fn;
    p->user = user;
    atomic_store(&p->next, 0);
    p->busy = p->nthreads;
    p->batch++;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    pool_work(p);
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0)
        pthread_cond_wait(&p->finished, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void par_pool_destroy(struct par_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    for (int t = 0; t < p->nthreads; t++)
        pthread_join(p->threads[t], NULL);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->finished);
    pthread_mutex_destroy(&p->mu);
    mem_free(p->threads);
    mem_free(p);
}
