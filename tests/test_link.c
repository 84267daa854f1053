/* test_link: the links' FIFO queues, one transfer at a time, and a transfer's timing. */
#include <criterion/criterion.h>

#include "link.h"

static const struct pipe_link two_links[2] = {{10, 1e9}, {0, 0}};

Test(link, transfers_leave_a_link_in_queue_order_one_at_a_time)
{
    struct link_net net;
    cr_assert_eq(link_net_init(&net, two_links, 2, 8), 0);
    cr_assert_eq(link_take(&net, 0), -1, "an empty link has nothing to start");
    link_enqueue(&net, 0, 5);
    link_enqueue(&net, 0, 2);
    link_enqueue(&net, 1, 7);
    link_enqueue(&net, 0, 6);
    cr_assert_eq(link_take(&net, 0), 5);
    cr_assert_eq(link_take(&net, 0), -1, "a busy link starts nothing until its transfer ends");
    cr_assert_eq(link_take(&net, 1), 7, "the other link is not held up");
    link_done(&net, 0);
    cr_assert_eq(link_take(&net, 0), 2);
    link_done(&net, 0);
    link_enqueue(&net, 0, 3); /* queued behind 6 after the queue had emptied and refilled */
    cr_assert_eq(link_take(&net, 0), 6);
    link_done(&net, 0);
    cr_assert_eq(link_take(&net, 0), 3);
    link_done(&net, 0);
    cr_assert_eq(link_take(&net, 0), -1);
    link_net_release(&net);
    link_net_release(&net); /* twice is harmless */
}

Test(link, a_transfer_serialises_bytes_over_bandwidth_then_arrives_a_latency_later)
{
    const struct pipe_link lk = {simtime_from_s(2e-6), 50e9};
    simtime_t free_at, arrive_at, now = simtime_from_s(1.0);
    struct sim_error err;
    cr_assert_eq(link_timing(&lk, 100e6, now, &free_at, &arrive_at, &err), SIM_OK);
    cr_assert_eq(free_at, now + simtime_from_s(2e-3), "100 MB at 50 GB/s take 2 ms");
    cr_assert_eq(arrive_at, free_at + simtime_from_s(2e-6));
    const struct pipe_link unlimited = {simtime_from_s(1e-6), 0};
    cr_assert_eq(link_timing(&unlimited, 100e6, now, &free_at, &arrive_at, &err), SIM_OK);
    cr_assert_eq(free_at, now, "no bandwidth limit: no serialisation");
    cr_assert_eq(arrive_at, now + simtime_from_s(1e-6));
}

Test(link, a_transfer_past_the_clock_is_an_error_not_a_wrap)
{
    const struct pipe_link slow = {0, 1e-12};
    simtime_t free_at = 0, arrive_at = 0;
    struct sim_error err;
    cr_assert_eq(link_timing(&slow, 1e9, 0, &free_at, &arrive_at, &err), SIM_EFAIL);
    const struct pipe_link late = {SIMTIME_MAX / 2, 1e9};
    cr_assert_eq(link_timing(&late, 1e3, SIMTIME_MAX / 2 + 10, &free_at, &arrive_at, &err),
                 SIM_EFAIL);
    cr_assert_str_not_empty(err.msg);
}

Test(link, only_a_link_without_latency_and_limit_or_bytes_costs_nothing)
{
    cr_assert(link_costs_nothing(&(struct pipe_link){0, 0}, 1e6));
    cr_assert(link_costs_nothing(&(struct pipe_link){0, 1e9}, 0));
    cr_assert_not(link_costs_nothing(&(struct pipe_link){0, 1e9}, 1));
    cr_assert_not(link_costs_nothing(&(struct pipe_link){1, 0}, 0));
}

/* The net's timing remembers a link's serialisation time: it must still follow the size, and a
 * size past the clock stays an error however often it is asked. */
Test(link, the_nets_timing_is_link_timing_for_any_size_in_any_order)
{
    const struct pipe_link links[2] = {{simtime_from_s(2e-6), 50e9}, {0, 1e-12}};
    struct link_net net;
    struct sim_error err;
    cr_assert_eq(link_net_init(&net, links, 2, 4), 0);
    const double sizes[] = {100e6, 100e6, 1e6, 100e6, 0};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        simtime_t now = simtime_from_s((double)i), free_at, arrive_at, want_free, want_arrive;
        cr_assert_eq(link_timing(&links[0], sizes[i], now, &want_free, &want_arrive, &err),
                     SIM_OK);
        cr_assert_eq(link_net_timing(&net, 0, sizes[i], now, &free_at, &arrive_at, &err),
                     SIM_OK);
        cr_assert_eq(free_at, want_free, "size %zu", i);
        cr_assert_eq(arrive_at, want_arrive, "size %zu", i);
    }
    simtime_t free_at, arrive_at;
    for (int i = 0; i < 2; i++)
        cr_assert_eq(link_net_timing(&net, 1, 1e9, 0, &free_at, &arrive_at, &err), SIM_EFAIL);
    cr_assert_str_eq(err.msg, "transfer time overflows the simulated clock");
    link_net_release(&net);
}
