/* eventq: a binary min-heap of events ordered by (time, insertion counter).
 *
 * The insertion counter makes ties deterministic: two events at the same simulated time pop in
 * the order they were pushed, whatever the heap layout (the shape of git's prio-queue.c).
 * Invariant: every parent orders before its children under evq_before(). */
#ifndef STEPSIM_EVENTQ_H
#define STEPSIM_EVENTQ_H

#include <stddef.h>
#include <stdint.h>

#include "simtime.h"

struct evq_event {
    simtime_t time; /* when it fires */
    uint64_t seq;   /* insertion counter: the tie-break */
    int32_t kind;   /* handler index (engine.h) */
    int32_t target; /* what it is for, in the handler's terms (a rank, a link, ...) */
    int64_t data;   /* handler-defined payload */
};

struct evq {
    struct evq_event *heap; /* owned; heap[0] is the earliest */
    size_t len, cap;
    size_t max_len; /* growth cap: pushing beyond it fails */
    uint64_t next_seq;
};

void evq_init(struct evq *q, size_t max_len);
void evq_release(struct evq *q);
/* Push; returns -1 when the cap is reached or memory is exhausted. */
int evq_push(struct evq *q, simtime_t time, int32_t kind, int32_t target, int64_t data);
/* Take the next insertion counter without pushing: the place in the tie order of an event
 * that may never be needed (engine.h, eng_reserve). */
static inline uint64_t evq_reserve(struct evq *q) { return q->next_seq++; }
/* Push with a counter taken earlier by evq_reserve: the event ties as if it had been pushed
 * then.  Each reserved counter may be pushed once at most, so keys stay unique. */
int evq_push_reserved(struct evq *q, simtime_t time, uint64_t seq, int32_t kind, int32_t target,
                      int64_t data);
/* Pop the earliest into *out; returns 0, or -1 when empty. */
int evq_pop(struct evq *q, struct evq_event *out);
static inline size_t evq_len(const struct evq *q) { return q->len; }

#endif
