/* engine: the run loop and handler table (see engine.h). */
#include "engine.h"

#include <assert.h>
#include <string.h>

void eng_init(struct engine *eng, size_t max_pending)
{
    memset(eng, 0, sizeof *eng);
    evq_init(&eng->queue, max_pending);
}

void eng_release(struct engine *eng)
{
    evq_release(&eng->queue);
}

void eng_register(struct engine *eng, int kind, const char *name, eng_handler_fn fn, void *user)
{
    assert(kind >= 0 && kind < ENG_MAX_KINDS);
    eng->handlers[kind] = (struct eng_handler){name, fn, user};
}

static enum sim_status queue_full(const struct engine *eng, struct sim_error *err)
{
    return err_set(err, SIM_EFAIL, NULL, 0,
                   "event queue full (%zu pending events, cap %zu) or out of memory",
                   evq_len(&eng->queue), eng->queue.max_len);
}

enum sim_status eng_schedule(struct engine *eng, simtime_t at, int kind, int32_t target,
                             int64_t data, struct sim_error *err)
{
    assert(at >= eng->now && "event scheduled in the past");
    assert(kind >= 0 && kind < ENG_MAX_KINDS && eng->handlers[kind].fn);
    if (evq_push(&eng->queue, at, kind, target, data) != 0)
        return queue_full(eng, err);
    return SIM_OK;
}

enum sim_status eng_schedule_reserved(struct engine *eng, simtime_t at, uint64_t ticket, int kind,
                                      int32_t target, int64_t data, struct sim_error *err)
{
    assert(!eng_passed(eng, at, ticket) && "reserved event scheduled in the past");
    assert(kind >= 0 && kind < ENG_MAX_KINDS && eng->handlers[kind].fn);
    if (evq_push_reserved(&eng->queue, at, ticket, kind, target, data) != 0)
        return queue_full(eng, err);
    return SIM_OK;
}

enum sim_status eng_run(struct engine *eng, struct sim_error *err)
{
    struct evq_event ev;
    while (evq_pop(&eng->queue, &ev) == 0) {
        assert(ev.time >= eng->now);
        eng->now = ev.time;
        eng->now_seq = ev.seq;
        eng->processed++;
        const struct eng_handler *h = &eng->handlers[ev.kind];
        enum sim_status st = h->fn(eng, &ev, h->user, err);
        if (st != SIM_OK)
            return st;
    }
    return SIM_OK;
}
