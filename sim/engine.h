/* engine: a generic discrete-event core.
 *
 * It knows nothing of pipelines: clients register one handler per event kind, schedule events
 * at absolute simulated times, and run.  The run loop pops events in (time, insertion) order,
 * advances the clock and calls the kind's handler; a handler that returns non-zero stops the
 * run with that status.  Invariant: the clock never goes backwards (scheduling an event before
 * `now` is a bug and asserts). */
#ifndef STEPSIM_ENGINE_H
#define STEPSIM_ENGINE_H

#include <stdint.h>

#include "error.h"
#include "eventq.h"
#include "simtime.h"

#define ENG_MAX_KINDS 16

struct engine;
typedef enum sim_status (*eng_handler_fn)(struct engine *eng, const struct evq_event *ev,
                                          void *user, struct sim_error *err);

struct eng_handler {
    const char *name; /* for diagnostics */
    eng_handler_fn fn;
    void *user;
};

struct engine {
    struct evq queue;
    simtime_t now;
    uint64_t now_seq; /* insertion counter of the event being handled (0 before the run) */
    uint64_t processed; /* events handled so far */
    struct eng_handler handlers[ENG_MAX_KINDS];
};

/* max_pending caps the queue length (a resource limit, not a tuning knob). */
void eng_init(struct engine *eng, size_t max_pending);
void eng_release(struct engine *eng);
/* Register `fn` for `kind` (0 <= kind < ENG_MAX_KINDS). */
void eng_register(struct engine *eng, int kind, const char *name, eng_handler_fn fn, void *user);
/* Schedule an event at absolute time `at` >= now; returns SIM_EFAIL (with err) if the queue cap
 * is hit or memory runs out. */
enum sim_status eng_schedule(struct engine *eng, simtime_t at, int kind, int32_t target,
                             int64_t data, struct sim_error *err);
/* Reserved places in the event order.  A client whose event would often do nothing (a link
 * becoming free with no transfer waiting) reserves its place instead of scheduling it:
 * eng_reserve takes the insertion counter the event would have had, eng_passed says whether
 * the run has gone past (at, ticket), and eng_schedule_reserved queues the event after all,
 * tied exactly as if it had been scheduled when reserved.  So events and their handlers run in
 * the same order whether or not the reservation is ever scheduled. */
static inline uint64_t eng_reserve(struct engine *eng) { return evq_reserve(&eng->queue); }
/* Has the event at (at, ticket) -- were it queued -- already been handled?  An event is
 * handled once the clock passes its time, or at its time once an event pushed later runs. */
static inline int eng_passed(const struct engine *eng, simtime_t at, uint64_t ticket)
{
    return at < eng->now || (at == eng->now && ticket < eng->now_seq);
}
/* Schedule an event in the place reserved by `ticket` (not yet passed; once per ticket);
 * fails as eng_schedule does. */
enum sim_status eng_schedule_reserved(struct engine *eng, simtime_t at, uint64_t ticket, int kind,
                                      int32_t target, int64_t data, struct sim_error *err);
/* Run until the queue is empty or a handler fails. */
enum sim_status eng_run(struct engine *eng, struct sim_error *err);
static inline simtime_t eng_now(const struct engine *eng) { return eng->now; }

#endif
