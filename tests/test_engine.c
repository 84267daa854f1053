/* test_engine: the run loop, handler dispatch, clock and failure propagation. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>

#include "engine.h"

struct trace_log {
    simtime_t times[16];
    int kinds[16];
    int n;
};

static enum sim_status log_event(struct engine *eng, const struct evq_event *ev, void *user,
                                 struct sim_error *err)
{
    struct trace_log *t = user;
    cr_assert_eq(eng_now(eng), ev->time, "clock equals the event's time in the handler");
    t->times[t->n] = ev->time;
    t->kinds[t->n++] = ev->kind;
    if (ev->data > 0) /* chain: schedule a follow-up `data` ps later */
        return eng_schedule(eng, eng_now(eng) + ev->data, ev->kind, 0, 0, err);
    return SIM_OK;
}

Test(engine, dispatches_by_kind_in_time_order_and_chains)
{
    struct engine eng;
    struct trace_log t = {0};
    struct sim_error err;
    eng_init(&eng, 16);
    eng_register(&eng, 0, "a", log_event, &t);
    eng_register(&eng, 1, "b", log_event, &t);
    cr_assert_eq(eng_schedule(&eng, 10, 1, 0, 5, &err), SIM_OK); /* fires 10, then 15 */
    cr_assert_eq(eng_schedule(&eng, 12, 0, 0, 0, &err), SIM_OK);
    cr_assert_eq(eng_run(&eng, &err), SIM_OK);
    cr_assert_eq(t.n, 3);
    cr_assert_eq(t.times[0], 10);
    cr_assert_eq(t.kinds[0], 1);
    cr_assert_eq(t.times[1], 12);
    cr_assert_eq(t.kinds[1], 0);
    cr_assert_eq(t.times[2], 15);
    cr_assert_eq(eng_now(&eng), 15);
    cr_assert_eq(eng.processed, 3);
    eng_release(&eng);
}

/* For reserved_places_tie_as_if_scheduled: what eng_passed says of one reserved place while
 * each event runs, and the reserved event itself scheduled from the first handler. */
struct reserve_log {
    uint64_t ticket;
    int passed[4], order[4], n;
};

static enum sim_status note_passed(struct engine *eng, const struct evq_event *ev, void *user,
                                   struct sim_error *err)
{
    struct reserve_log *t = user;
    t->order[t->n] = ev->target;
    t->passed[t->n++] = eng_passed(eng, 10, t->ticket);
    if (ev->target == 0) /* schedule the reserved event late: it still runs before event 2 */
        return eng_schedule_reserved(eng, 10, t->ticket, 0, 1, 0, err);
    return SIM_OK;
}

Test(engine, reserved_places_tie_as_if_scheduled)
{
    struct reserve_log t = {0};
    struct sim_error err;
    struct engine eng;
    eng_init(&eng, 16);
    eng_register(&eng, 0, "note", note_passed, &t);
    /* event 0 at 10, the reservation (event 1) at 10, event 2 at 10, event 3 at 11 */
    simtime_t at[] = {10, -1, 10, 11};
    for (int target = 0; target < 4; target++) {
        if (at[target] < 0)
            t.ticket = eng_reserve(&eng);
        else
            cr_assert_eq(eng_schedule(&eng, at[target], 0, target, 0, &err), SIM_OK);
    }
    cr_assert_not(eng_passed(&eng, 10, t.ticket), "nothing has run yet");
    cr_assert_eq(eng_run(&eng, &err), SIM_OK);
    int order[] = {0, 1, 2, 3}, passed[] = {0, 0, 1, 1};
    cr_assert_eq(t.n, 4);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(t.order[i], order[i], "event %d", i);
        cr_assert_eq(t.passed[i], passed[i], "passed while event %d runs", i);
    }
    cr_assert_eq(eng.processed, 4);
    eng_release(&eng);
}

static enum sim_status fail_event(struct engine *eng, const struct evq_event *ev, void *user,
                                  struct sim_error *err)
{
    (void)eng;
    (void)ev;
    (*(int *)user)++;
    return err_set(err, SIM_EFAIL, NULL, 0, "handler failed");
}

Test(engine, handler_failure_stops_the_run)
{
    struct engine eng;
    struct sim_error err;
    int calls = 0;
    err_clear(&err);
    eng_init(&eng, 16);
    eng_register(&eng, 2, "fail", fail_event, &calls);
    eng_schedule(&eng, 1, 2, 0, 0, &err);
    eng_schedule(&eng, 2, 2, 0, 0, &err);
    cr_assert_eq(eng_run(&eng, &err), SIM_EFAIL);
    cr_assert_eq(calls, 1, "no event runs after a failure");
    cr_assert_str_eq(err.msg, "handler failed");
    eng_release(&eng);
}

Test(engine, queue_cap_is_an_error_not_a_crash)
{
    struct engine eng;
    struct sim_error err;
    int calls = 0;
    err_clear(&err);
    eng_init(&eng, 2);
    eng_register(&eng, 0, "x", fail_event, &calls);
    cr_assert_eq(eng_schedule(&eng, 1, 0, 0, 0, &err), SIM_OK);
    cr_assert_eq(eng_schedule(&eng, 1, 0, 0, 0, &err), SIM_OK);
    cr_assert_eq(eng_schedule(&eng, 1, 0, 0, 0, &err), SIM_EFAIL);
    cr_assert(strstr(err.msg, "queue full") != NULL);
    eng_release(&eng);
}

Test(engine, scheduling_in_the_past_asserts, .signal = SIGABRT)
{
    struct engine eng;
    struct trace_log t = {0};
    struct sim_error err;
    eng_init(&eng, 16);
    eng_register(&eng, 0, "a", log_event, &t);
    eng_schedule(&eng, 10, 0, 0, 0, &err);
    eng_run(&eng, &err);
    eng_schedule(&eng, 5, 0, 0, 0, &err);
}
