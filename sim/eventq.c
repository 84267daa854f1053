/* eventq: binary heap keyed on (time, seq); see eventq.h for the invariant. */
#include "eventq.h"

#include <assert.h>

#include "alloc.h"

static inline int evq_before(const struct evq_event *a, const struct evq_event *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

void evq_init(struct evq *q, size_t max_len)
{
    q->heap = NULL;
    q->len = q->cap = 0;
    q->max_len = max_len;
    q->next_seq = 0;
}

void evq_release(struct evq *q)
{
    mem_free(q->heap);
    q->heap = NULL;
    q->len = q->cap = 0;
}

static int evq_grow(struct evq *q)
{
    if (q->cap >= q->max_len)
        return -1;
    size_t cap = q->cap ? q->cap * 2 : 64;
    if (cap > q->max_len)
        cap = q->max_len;
    struct evq_event *heap = mem_realloc(q->heap, cap, sizeof *heap);
    if (!heap)
        return -1;
    q->heap = heap;
    q->cap = cap;
    return 0;
}

/* Put ev into the hole at i: move parents down until ev's slot is found (one write a level). */
static inline void sift_up(struct evq *q, size_t i, struct evq_event ev)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!evq_before(&ev, &q->heap[parent]))
            break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = ev;
}

/* Add ev to the heap; -1 when the cap is reached or memory is exhausted. */
static int insert(struct evq *q, struct evq_event ev)
{
    if (q->len == q->cap && evq_grow(q) != 0)
        return -1;
    sift_up(q, q->len++, ev);
    return 0;
}

int evq_push(struct evq *q, simtime_t time, int32_t kind, int32_t target, int64_t data)
{
    if (insert(q, (struct evq_event){time, q->next_seq, kind, target, data}) != 0)
        return -1;
    q->next_seq++;
    return 0;
}

int evq_push_reserved(struct evq *q, simtime_t time, uint64_t seq, int32_t kind, int32_t target,
                      int64_t data)
{
    assert(seq < q->next_seq && "the counter was not reserved");
    return insert(q, (struct evq_event){time, seq, kind, target, data});
}

int evq_pop(struct evq *q, struct evq_event *out)
{
    if (q->len == 0)
        return -1;
    *out = q->heap[0];
    struct evq_event last = q->heap[--q->len];
    size_t n = q->len, i = 0;
    if (n == 0)
        return 0;
    /* Bottom-up sift (Wegener's BOTTOM-UP-HEAPSORT, TCS 118, 1993): walk the hole from the
     * root to a leaf along the earlier child, one comparison a level, then sift the former
     * last element up from there.  It usually belongs near the bottom, so this costs about
     * half the comparisons of the textbook sift-down.  Keys (time, seq) are unique, so the
     * order of pops is the same whatever the heap's shape. */
    for (size_t child = 1; child < n; child = 2 * i + 1) {
        if (child + 1 < n && evq_before(&q->heap[child + 1], &q->heap[child]))
            child++;
        q->heap[i] = q->heap[child];
        i = child;
    }
    sift_up(q, i, last);
    return 0;
}
