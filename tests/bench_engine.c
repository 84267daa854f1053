/* bench_engine: `make bench` -- how fast the engine and a whole simulated step run.
 *
 * 1. Hold model (the classic event-queue benchmark): N entities each keep one pending event;
 *    handling an event schedules the entity's next one a pseudo-random delay later.  Delays
 *    come from a GSL RNG, drawn up front so the figure measures the engine, not the RNG.
 *    Reported: events/s, median of 5 runs of 10^7 events, for N = 1e3 and 1e5 (heap depth).
 * 2. A full pipeline step (interleaved, pp=16, vp=4, 512 micro-batches, real links): wall
 *    time and events/s, median of 5 runs.
 * Wall-clock figures on a shared machine are noisy; callgrind instruction counts are the
 * stable companion (see README). */
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "costs.h"
#include "engine.h"
#include "pipeline.h"
#include "scenario.h"

#define RUNS 5
#define DELAYS 65536

struct hold {
    simtime_t delay[DELAYS];
    unsigned long next;   /* index into delay[] */
    unsigned long left;   /* events still to schedule */
};

static enum sim_status on_hold(struct engine *eng, const struct evq_event *ev, void *user,
                               struct sim_error *err)
{
    struct hold *h = user;
    if (h->left == 0)
        return SIM_OK;
    h->left--;
    simtime_t d = h->delay[h->next++ & (DELAYS - 1)];
    return eng_schedule(eng, eng_now(eng) + d, 0, ev->target, 0, err);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double median(double *x, size_t n)
{
    gsl_sort(x, 1, n);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

static int bench_hold(unsigned long entities, unsigned long events, struct hold *h)
{
    double rate[RUNS];
    unsigned long long processed = 0;
    for (int run = 0; run < RUNS; run++) {
        struct engine eng;
        struct sim_error err;
        eng_init(&eng, entities + 16);
        eng_register(&eng, 0, "hold", on_hold, h);
        h->next = 0;
        h->left = events - entities;
        for (unsigned long e = 0; e < entities; e++)
            if (eng_schedule(&eng, h->delay[e & (DELAYS - 1)], 0, (int32_t)e, 0, &err) != SIM_OK)
                return -1;
        double t0 = now_s();
        if (eng_run(&eng, &err) != SIM_OK) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return -1;
        }
        double dt = now_s() - t0;
        processed = eng.processed;
        rate[run] = (double)eng.processed / dt;
        eng_release(&eng);
    }
    printf("engine hold model   %8lu pending  %llu events  %6.1f M events/s (median of %d)\n",
           entities, processed, median(rate, RUNS) / 1e6, RUNS);
    return 0;
}

static int bench_step(void)
{
    struct scenario scn;
    struct sim_error err;
    scn_defaults(&scn);
    const char *sets[] = {"schedule=interleaved", "pp=16",         "vp=4",
                          "microbatches=512",     "layers=128",    "forward=1ms",
                          "backward-input=1ms",   "backward-weight=1ms", "activation=64MiB",
                          "link-bandwidth=50GBps", "link-latency=5us"};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (scn_set_arg(&scn, sets[i], &err) != SIM_OK)
            return -1;
    struct layout lay;
    if (scn_check(&scn, &err) != SIM_OK || layout_init(&lay, &scn, 0, &err) != SIM_OK)
        return -1;
    double secs[RUNS], rate[RUNS];
    unsigned long long events = 0;
    size_t recs = 0;
    for (int run = 0; run < RUNS; run++) {
        struct pipe_setup setup;
        struct pipe_result res;
        double t0 = now_s();
        if (costs_build_setup(&scn, &lay, &setup, &err) != SIM_OK ||
            pipe_run(&setup, &res, &err) != SIM_OK) {
            fprintf(stderr, "bench: %s\n", err.msg);
            layout_release(&lay);
            return -1;
        }
        secs[run] = now_s() - t0;
        events = res.events;
        recs = res.nrecs;
        rate[run] = (double)res.events / secs[run];
        pipe_result_release(&res);
        pipe_setup_release(&setup);
    }
    layout_release(&lay);
    printf("pipeline step       interleaved pp=16 vp=4 m=512: %zu ops+transfers, %llu events, "
           "%.1f ms, %.1f M events/s (median of %d)\n",
           recs, events, 1e3 * median(secs, RUNS), median(rate, RUNS) / 1e6, RUNS);
    return 0;
}

int main(void)
{
    static struct hold h;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_taus2);
    gsl_rng_set(rng, 12345);
    for (int i = 0; i < DELAYS; i++) /* uniform delays, 1 ns .. 10 us */
        h.delay[i] = 1000 + (simtime_t)gsl_rng_uniform_int(rng, 10000000);
    gsl_rng_free(rng);
    if (bench_hold(1000, 10000000, &h) != 0 || bench_hold(100000, 10000000, &h) != 0 ||
        bench_step() != 0)
        return 1;
    return 0;
}
