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
