/* parallel: run n independent jobs on a pool of threads.
 *
 * Workers take the next job index from a shared counter and call fn(index, user); results go
 * wherever fn puts them by index, so the output order never depends on the thread count or on
 * timing.  fn must only touch state of its own job (each job builds its own simulation
 * context: no global mutable state in stepsim).  An optional progress callback is called from
 * the coordinating thread, about ten times a second. */
#ifndef STEPSIM_PARALLEL_H
#define STEPSIM_PARALLEL_H

#include <stddef.h>

typedef void (*par_job_fn)(size_t index, void *user);
typedef void (*par_progress_fn)(size_t done, size_t total, void *user);

/* jobs <= 0: the number of online CPUs.  Returns 0, or -1 if threads could not be started
 * (then every job has run on the calling thread instead). */
int par_run(size_t n, int jobs, par_job_fn fn, void *user, par_progress_fn progress,
            void *progress_user);

/* Online CPUs (at least 1). */
int par_cpu_count(void);

/* A pool of threads kept across many small batches (the planner runs thousands), so starting
 * threads costs once: jobs - 1 workers, the caller being the last (jobs <= 0: the CPUs).
 * NULL when out of memory; a pool whose threads could not start runs batches on the caller. */
struct par_pool;
struct par_pool *par_pool_create(int jobs);
/* Run jobs 0..n-1 of fn on the pool and the calling thread; returns when all are done. */
void par_pool_run(struct par_pool *pool, size_t n, par_job_fn fn, void *user);
void par_pool_destroy(struct par_pool *pool);

#endif
