/* link: one FIFO queue per directed link, serialising one transfer at a time (link.h).
 * The queues are singly linked through `next`, indexed by transfer: O(1) per operation. */
#include "link.h"

#include <assert.h>

#include "alloc.h"

int link_net_init(struct link_net *net, const struct pipe_link *links, int nlinks,
                  size_t max_transfers)
{
    *net = (struct link_net){.links = links, .nlinks = nlinks, .max_transfers = max_transfers};
    net->queues = mem_calloc((size_t)nlinks, sizeof *net->queues);
    net->next = mem_array(max_transfers, sizeof *net->next); /* set when queued */
    if (!net->queues || !net->next) {
        link_net_release(net);
        return -1;
    }
    for (int id = 0; id < nlinks; id++)
        net->queues[id] = (struct link_queue){.busy = 0, .head = -1, .tail = -1, .ser_known = 0};
    return 0;
}

void link_net_release(struct link_net *net)
{
    mem_free(net->queues);
    mem_free(net->next);
    net->queues = NULL;
    net->next = NULL;
}

int link_costs_nothing(const struct pipe_link *lk, double bytes)
{
    return lk->lat == 0 && (lk->bw_Bps == 0 || bytes == 0);
}

void link_enqueue(struct link_net *net, int id, int32_t xi)
{
    assert(id >= 0 && id < net->nlinks && xi >= 0 && (size_t)xi < net->max_transfers);
    struct link_queue *q = &net->queues[id];
    net->next[xi] = -1;
    if (q->tail >= 0)
        net->next[q->tail] = xi;
    else
        q->head = xi;
    q->tail = xi;
}

int32_t link_take(struct link_net *net, int id)
{
    struct link_queue *q = &net->queues[id];
    if (q->busy || q->head < 0)
        return -1;
    int32_t xi = q->head;
    q->head = net->next[xi];
    if (q->head < 0)
        q->tail = -1;
    q->busy = 1;
    return xi;
}

void link_done(struct link_net *net, int id)
{
    assert(net->queues[id].busy);
    net->queues[id].busy = 0;
}

/* lk's serialisation time for `bytes`; SIM_EFAIL when it is past the clock's range. */
static enum sim_status ser_time(const struct pipe_link *lk, double bytes, simtime_t *ser,
                                struct sim_error *err)
{
    *ser = lk->bw_Bps > 0 ? simtime_from_s(bytes / lk->bw_Bps) : 0;
    if (*ser < 0)
        return err_set(err, SIM_EFAIL, NULL, 0, "transfer time overflows the simulated clock");
    return SIM_OK;
}

/* The free and arrival times of a transfer serialising `ser` on lk from `now`. */
static enum sim_status ends(const struct pipe_link *lk, simtime_t ser, simtime_t now,
                            simtime_t *free_at, simtime_t *arrive_at, struct sim_error *err)
{
    if (ser > SIMTIME_MAX - now - lk->lat)
        return err_set(err, SIM_EFAIL, NULL, 0, "simulated time overflows on a link");
    *free_at = now + ser;
    *arrive_at = now + ser + lk->lat;
    return SIM_OK;
}

enum sim_status link_timing(const struct pipe_link *lk, double bytes, simtime_t now,
                            simtime_t *free_at, simtime_t *arrive_at, struct sim_error *err)
{
    simtime_t ser;
    enum sim_status st = ser_time(lk, bytes, &ser, err);
    return st == SIM_OK ? ends(lk, ser, now, free_at, arrive_at, err) : st;
}

enum sim_status link_net_timing(struct link_net *net, int id, double bytes, simtime_t now,
                                simtime_t *free_at, simtime_t *arrive_at, struct sim_error *err)
{
    assert(id >= 0 && id < net->nlinks);
    struct link_queue *q = &net->queues[id];
    if (!q->ser_known || q->ser_bytes != bytes) {
        enum sim_status st = ser_time(&net->links[id], bytes, &q->ser, err);
        if (st != SIM_OK)
            return st;
        q->ser_known = 1;
        q->ser_bytes = bytes;
    }
    return ends(&net->links[id], q->ser, now, free_at, arrive_at, err);
}
