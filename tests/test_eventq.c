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
