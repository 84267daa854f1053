/* link: the point-to-point network between pipeline ranks, apart from the rank executor
 * (pipeline.c), which decides what is sent and when.
 *
 * Each directed link between neighbouring ranks carries one transfer at a time, in the order
 * they were queued: a transfer serialises bytes / bandwidth seconds, then arrives a latency
 * later.  That model lives here alone -- the queues and the timing -- so that another one (a
 * NIC shared by several links, contention in the fabric) replaces this file, not the executor.
 * Transfers are named by the caller's index (0 .. max_transfers-1); the module keeps only their
 * order.  Invariant: a link is busy exactly while one transfer is serialising on it. */
#ifndef STEPSIM_LINK_H
#define STEPSIM_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "simtime.h"

struct pipe_link {
    simtime_t lat;  /* latency */
    double bw_Bps;  /* bandwidth in bytes/s; 0 = unlimited */
};

struct link_queue {
    int busy;           /* a transfer is serialising */
    int32_t head, tail; /* transfers waiting, first and last; -1 = none */
    int ser_known;      /* ser is the serialisation time of ser_bytes (link_net_timing) */
    double ser_bytes;
    simtime_t ser;
};

struct link_net {
    const struct pipe_link *links; /* [nlinks], the caller's */
    int nlinks;
    struct link_queue *queues; /* [nlinks], owned */
    int32_t *next;             /* [max_transfers] the transfer queued after each; owned */
    size_t max_transfers;
};

/* Idle links with empty queues over the caller's links; -1 when out of memory. */
int link_net_init(struct link_net *net, const struct pipe_link *links, int nlinks,
                  size_t max_transfers);
void link_net_release(struct link_net *net);

/* Does a transfer of `bytes` cost no time at all on lk (no latency, and no bandwidth limit or
 * nothing to send)?  Such a transfer never waits for the link. */
int link_costs_nothing(const struct pipe_link *lk, double bytes);

/* Queue transfer xi on link id, behind those already waiting. */
void link_enqueue(struct link_net *net, int id, int32_t xi);

/* The transfer that starts on link id now: the head of its queue when the link is idle (the
 * link is then busy until link_done), else -1. */
int32_t link_take(struct link_net *net, int id);

/* Do transfers wait in link id's queue? */
static inline int link_has_waiting(const struct link_net *net, int id)
{
    return net->queues[id].head >= 0;
}

/* The serialisation on link id has ended: the link is idle. */
void link_done(struct link_net *net, int id);

/* A transfer of `bytes` starting on lk at `now`: when the link is free again and when the data
 * arrives.  SIM_EFAIL when either is past the simulated clock's range. */
enum sim_status link_timing(const struct pipe_link *lk, double bytes, simtime_t now,
                            simtime_t *free_at, simtime_t *arrive_at, struct sim_error *err);
/* link_timing on link id of the net, the serialisation time computed once per link and size
 * (a step sends transfers of one size, and the conversion to the clock is a large part of a
 * transfer's cost); the same results and errors. */
enum sim_status link_net_timing(struct link_net *net, int id, double bytes, simtime_t now,
                                simtime_t *free_at, simtime_t *arrive_at, struct sim_error *err);

#endif
