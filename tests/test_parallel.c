/* test_parallel: the job runners -- every job runs exactly once, whatever the thread count,
 * for one batch (par_run) and for many batches on one pool (par_pool_run). */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "parallel.h"

struct counts {
    atomic_int hits[1000];
    size_t n;
};

static void hit(size_t i, void *user)
{
    struct counts *c = user;
    atomic_fetch_add(&c->hits[i], 1);
}

static void expect_each_once(struct counts *c, size_t n, int times)
{
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(atomic_load(&c->hits[i]), times, "job %zu ran %d times", i,
                     atomic_load(&c->hits[i]));
}

Test(parallel, par_run_runs_each_job_once)
{
    static struct counts c;
    for (int jobs = 1; jobs <= 4; jobs++) {
        memset(&c, 0, sizeof c);
        cr_expect_eq(par_run(1000, jobs, hit, &c, NULL, NULL), 0);
        expect_each_once(&c, 1000, 1);
    }
}

static void slow(size_t i, void *user)
{
    (void)i;
    (void)user;
    struct timespec ts = {0, 250000000};
    nanosleep(&ts, NULL);
}

static void seen(size_t done, size_t total, void *user)
{
    size_t *least = user;
    if (done < total && done < *least)
        *least = done;
}

/* Progress is reported while the jobs run, on one thread too: with jobs = 1 every job had run
 * on the caller, which reported (3, 3) once at the end -- a sweep -j 1 showed no bar until it
 * was over. */
Test(parallel, one_thread_reports_progress_while_it_runs)
{
    size_t least = SIZE_MAX;
    cr_expect_eq(par_run(3, 1, slow, NULL, seen, &least), 0);
    cr_expect(least < 3, "no progress reported before the end");
}

Test(parallel, pool_runs_many_batches)
{
    static struct counts c;
    for (int jobs = 0; jobs <= 3; jobs++) {
        memset(&c, 0, sizeof c);
        struct par_pool *p = par_pool_create(jobs);
        cr_assert(p);
        /* batches of every size, the empty one and the one-job one included */
        for (size_t n = 0; n <= 1000; n += 37)
            par_pool_run(p, n, hit, &c);
        par_pool_destroy(p);
        for (size_t i = 0; i < 1000; i++) {
            int want = 0;
            for (size_t n = 0; n <= 1000; n += 37)
                want += i < n;
            cr_expect_eq(atomic_load(&c.hits[i]), want, "jobs %d, job %zu", jobs, i);
        }
    }
    par_pool_destroy(NULL);
    par_pool_run(NULL, 3, hit, &c); /* no pool: on the caller */
}
