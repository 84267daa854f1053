/* test_eventq: heap order, deterministic ties, caps. */
#include <criterion/criterion.h>
#include <gsl/gsl_rng.h>

#include "eventq.h"

Test(eventq, pops_in_time_order_against_random_pushes)
{
    struct evq q;
    evq_init(&q, 1 << 20);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_taus2);
    gsl_rng_set(rng, 42);
    for (int i = 0; i < 20000; i++)
        cr_assert_eq(evq_push(&q, (simtime_t)gsl_rng_uniform_int(rng, 1000), 0, i, 0), 0);
    struct evq_event prev = {-1, 0, 0, 0, 0}, ev;
    int n = 0;
    while (evq_pop(&q, &ev) == 0) {
        cr_assert(ev.time > prev.time || (ev.time == prev.time && ev.seq > prev.seq),
                  "out of order at pop %d", n);
        prev = ev;
        n++;
    }
    cr_assert_eq(n, 20000);
    gsl_rng_free(rng);
    evq_release(&q);
}

Test(eventq, equal_times_pop_in_insertion_order)
{
    struct evq q;
    evq_init(&q, 64);
    for (int i = 0; i < 50; i++)
        evq_push(&q, i % 2 ? 7 : 5, 0, i, 0);
    struct evq_event ev;
    int expect_even = 0, expect_odd = 1;
    for (int i = 0; i < 25; i++) {
        evq_pop(&q, &ev);
        cr_assert_eq(ev.time, 5);
        cr_assert_eq(ev.target, expect_even);
        expect_even += 2;
    }
    for (int i = 0; i < 25; i++) {
        evq_pop(&q, &ev);
        cr_assert_eq(ev.time, 7);
        cr_assert_eq(ev.target, expect_odd);
        expect_odd += 2;
    }
    cr_assert_eq(evq_pop(&q, &ev), -1, "empty queue pops nothing");
    evq_release(&q);
}

Test(eventq, push_beyond_cap_fails)
{
    struct evq q;
    evq_init(&q, 3);
    cr_assert_eq(evq_push(&q, 1, 0, 0, 0), 0);
    cr_assert_eq(evq_push(&q, 2, 0, 0, 0), 0);
    cr_assert_eq(evq_push(&q, 3, 0, 0, 0), 0);
    cr_assert_eq(evq_push(&q, 4, 0, 0, 0), -1);
    cr_assert_eq(evq_len(&q), 3);
    evq_release(&q);
}

Test(eventq, payload_survives)
{
    struct evq q;
    evq_init(&q, 8);
    evq_push(&q, 9, 3, -4, INT64_C(1) << 40);
    struct evq_event ev;
    evq_pop(&q, &ev);
    cr_assert_eq(ev.kind, 3);
    cr_assert_eq(ev.target, -4);
    cr_assert_eq(ev.data, INT64_C(1) << 40);
    evq_release(&q);
}

/* A reserved counter ties as if the event had been pushed when it was reserved: pushed last,
 * it still pops between the events pushed before and after the reservation. */
Test(eventq, reserved_push_ties_in_its_reserved_place)
{
    struct evq q;
    evq_init(&q, 8);
    evq_push(&q, 5, 0, 0, 0);
    uint64_t ticket = evq_reserve(&q);
    evq_push(&q, 5, 0, 2, 0);
    evq_push(&q, 4, 0, 3, 0);
    evq_push(&q, 5, 0, 4, 0);
    cr_assert_eq(evq_push_reserved(&q, 5, ticket, 0, 1, 0), 0);
    int expect[] = {3, 0, 1, 2, 4};
    struct evq_event ev;
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(evq_pop(&q, &ev), 0);
        cr_assert_eq(ev.target, expect[i], "pop %d", i);
    }
    cr_assert_eq(ev.seq, 4, "counters are handed out once: the reservation took 1");
    evq_release(&q);
}

/* Pops and pushes interleaved as a simulation does them (each push no earlier than the last
 * pop, many at equal times), some pushes into places reserved earlier as the pipeline's owed
 * link-free events are, checked against a plain list searched for its minimum: the heap must
 * pop exactly what the list does, ties in counter order, payload intact. */
Test(eventq, interleaved_and_reserved_pushes_pop_as_a_sorted_list)
{
    enum { N = 4000 };
    static struct evq_event ref[N];
    size_t nref = 0;
    struct evq q;
    evq_init(&q, N);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_taus2);
    gsl_rng_set(rng, 7);
    struct evq_event last = {0, 0, 0, 0, 0}, held = {-1, 0, 0, 0, 0}; /* held: a reservation */
    int32_t id = 0;
    int reserved_pushes = 0;
    for (int step = 0; step < 20000; step++) {
        unsigned pushes = (unsigned)gsl_rng_uniform_int(rng, 3); /* 0, 1 or 2 after each pop */
        for (unsigned k = 0; k < pushes && nref < N - 1; k++, id++) {
            simtime_t at = last.time + (simtime_t)gsl_rng_uniform_int(rng, 4);
            if (held.time < 0 && gsl_rng_uniform_int(rng, 4) == 0) {
                held = (struct evq_event){at, evq_reserve(&q), 0, id, -id};
                continue;
            }
            ref[nref++] = (struct evq_event){at, q.next_seq, 0, id, -id};
            cr_assert_eq(evq_push(&q, at, 0, id, -id), 0);
        }
        int passed = held.time < last.time || (held.time == last.time && held.seq < last.seq);
        if (held.time >= 0 && gsl_rng_uniform_int(rng, 3) == 0) {
            if (!passed) { /* else dropped, as an owed event the run went past */
                cr_assert_eq(evq_push_reserved(&q, held.time, held.seq, 0, held.target,
                                               held.data), 0);
                ref[nref++] = held;
                reserved_pushes++;
            }
            held.time = -1;
        }
        if (nref == 0) {
            cr_assert_eq(evq_pop(&q, &last), -1);
            continue;
        }
        size_t min = 0;
        for (size_t i = 1; i < nref; i++)
            if (ref[i].time < ref[min].time ||
                (ref[i].time == ref[min].time && ref[i].seq < ref[min].seq))
                min = i;
        cr_assert_eq(evq_len(&q), nref);
        cr_assert_eq(evq_pop(&q, &last), 0);
        cr_assert_eq(last.target, ref[min].target, "pop at step %d", step);
        cr_assert_eq(last.seq, ref[min].seq);
        cr_assert_eq(last.time, ref[min].time);
        cr_assert_eq(last.data, -last.target);
        ref[min] = ref[--nref];
    }
    cr_assert_gt(reserved_pushes, 100);
    gsl_rng_free(rng);
    evq_release(&q);
}
