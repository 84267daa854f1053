/* pplayout: Megatron-Core's pipeline layout strings (see pplayout.h). */
#include "pplayout.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

#define MAX_REPEAT 100000

/* The count after "*" at s (s points at '*'): its value, with *end after its digits; -1 when
 * s is no "*<digits>" or the count is out of range. */
static long repeat_count(const char *s, const char **end)
{
    if (*s != '*' || !isdigit((unsigned char)s[1]))
        return -1;
    char *e;
    long n = strtol(s + 1, &e, 10);
    *end = e;
    return n >= 1 && n <= MAX_REPEAT ? n : -1;
}

/* Append n copies of the len bytes at piece to out (used bytes in *used): 0, or -1 when that
 * would not fit. */
static int put(char *out, size_t cap, size_t *used, const char *piece, size_t len, long n)
{
    if (len > 0 && (size_t)n > (cap - 1 - *used) / len)
        return -1;
    for (long i = 0; i < n; i++, *used += len)
        memcpy(out + *used, piece, len);
    out[*used] = '\0';
    return 0;
}

/* Pass 1: unroll "(X)*n", dropping commas. */
static int unroll_groups(const char *in, char *out, size_t cap, char *why, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = in; *p;) {
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p != '(') {
            if (put(out, cap, &used, p++, 1, 1) != 0)
                goto too_long;
            continue;
        }
        const char *close = strpbrk(p + 1, "()");
        const char *end;
        if (!close || *close == '(' || close == p + 1) {
            snprintf(why, len, "a '(' at offset %zu is %s", (size_t)(p - in),
                     !close          ? "never closed"
                     : *close == '(' ? "nested in another group"
                                     : "an empty group");
            return -1;
        }
        long n = repeat_count(close + 1, &end);
        if (n < 0) {
            snprintf(why, len, "the group at offset %zu needs a count of 1 to %d after ')*'",
                     (size_t)(p - in), MAX_REPEAT);
            return -1;
        }
        char group[256];
        size_t g = 0;
        if ((size_t)(close - p) > sizeof group) {
            snprintf(why, len, "the group at offset %zu is longer than %zu characters",
                     (size_t)(p - in), sizeof group - 1);
            return -1;
        }
        for (const char *q = p + 1; q < close; q++)
            if (*q != ',')
                group[g++] = *q;
        if (put(out, cap, &used, group, g, n) != 0)
            goto too_long;
        p = end;
    }
    return 0;
too_long:
    snprintf(why, len, "unrolled, the layout is longer than %zu characters", cap - 1);
    return -1;
}

int pplayout_unroll(const char *in, char *out, size_t cap, char *why, size_t len)
{
    char *groups = mem_calloc(cap, 1);
    if (!groups) {
        snprintf(why, len, "out of memory");
        return -1;
    }
    int rc = unroll_groups(in, groups, cap, why, len);
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = groups; rc == 0 && *p;) { /* pass 2: "c*n" */
        const char *end;
        long n = p[1] == '*' ? repeat_count(p + 1, &end) : 1;
        if (!strchr("EtmL|", *p) || n < 0) {
            snprintf(why, len,
                     n < 0 ? "'%c*' needs a count of 1 to %d"
                           : "'%c' is no layout character (E t m L |, with (..)*n and x*n)",
                     *p, MAX_REPEAT);
            rc = -1;
        } else if (put(out, cap, &used, p, 1, n) != 0) {
            snprintf(why, len, "unrolled, the layout is longer than %zu characters", cap - 1);
            rc = -1;
        } else {
            p = n == 1 && p[1] != '*' ? p + 1 : end;
        }
    }
    mem_free(groups);
    return rc;
}

int pplayout_stages(const char *layout)
{
    int n = 1;
    for (const char *p = layout; *p; p++)
        n += *p == '|';
    return n;
}

int pplayout_count(const char *layout, int stage, char c)
{
    int n = 0, at = 0;
    for (const char *p = layout; *p; p++) {
        if (*p == '|')
            at++;
        else if (*p == c && (stage < 0 || at == stage))
            n++;
    }
    return n;
}

const char *pplayout_next_stage(const char *at, int *layers, int *mtp)
{
    int t = 0, m = 0;
    for (; *at && *at != '|'; at++) {
        t += *at == 't';
        m += *at == 'm';
    }
    *layers = t;
    *mtp = m;
    return *at == '|' ? at + 1 : at;
}

void pplayout_stage_layers(const char *layout, int stage, int *first_layer, int *count)
{
    int before = 0, mtp;
    for (int s = 0; s < stage; s++) {
        layout = pplayout_next_stage(layout, count, &mtp);
        before += *count;
    }
    pplayout_next_stage(layout, count, &mtp);
    *first_layer = before;
}

/* Stages hold `per` units each and the `extra` stages from heavy_from() one more.  A run of
 * consecutive stages covers the ranks in turn (stage s is rank s mod pp's), so each rank holds
 * extra / pp or extra / pp + 1 of them: the ranks' totals differ by one unit at most, which is
 * what the interleaved schedule needs, each rank running all its chunks for every micro-batch
 * (megatron/core/pipeline_parallel/schedules.py).  The run ends just before the last stage, so
 * the loss's stage and the embedding's are among the lightest and a run shorter than pp falls
 * on the ranks before the last, which keep fewer micro-batches' activations than the first
 * under 1F1B.  `head` layers ahead of the units (small DSA groups) already weigh on stage 0:
 * rank 0 is then kept off the run's odd ones, which the last stage takes instead. */
static int heavy_from(int stages, int pp, int extra, int head)
{
    int from = stages - 1 - extra > 0 ? stages - 1 - extra : 0;
    if (head > 0 && extra % pp != 0 && from % pp == 0 && from + extra < stages)
        from++;
    return from;
}

/* Append stage s's n layers ("|" before every stage but the first). */
static int put_stage(char *out, size_t cap, size_t *used, int s, int n)
{
    return (s > 0 && put(out, cap, used, "|", 1, 1) != 0) || put(out, cap, used, "t", 1, n) != 0
               ? -1
               : 0;
}

/* The embedding first, the MTP modules and the loss last (Megatron-Core requires both ends;
 * pipeline_parallel_layer_layout.py, validate_layer_layout). */
static int put_tail(char *out, size_t cap, size_t *used, int mtp)
{
    return put(out, cap, used, "m", 1, mtp) != 0 || put(out, cap, used, "L", 1, 1) != 0 ? -1 : 0;
}

int pplayout_balanced(int layers, int pp, int vp, int mtp, char *out, size_t cap)
{
    int stages = pp * vp, per = layers / stages, extra = layers % stages;
    int from = heavy_from(stages, pp, extra, 0);
    size_t used = 0;
    if (put(out, cap, &used, "E", 1, 1) != 0)
        return -1;
    for (int s = 0; s < stages; s++)
        if (put_stage(out, cap, &used, s, per + (s >= from && s < from + extra)) != 0)
            return -1;
    return put_tail(out, cap, &used, mtp);
}

/* The first group start after layer `from`, or `layers`. */
static int group_end(int layers, int from, int (*starts)(int layer, const void *arg),
                     const void *arg)
{
    int l = from + 1;
    while (l < layers && !starts(l, arg))
        l++;
    return l;
}

/* The groups' shape: the head -- the layers before the first group of the largest size (GLM-5.2's
 * two single computing layers ahead of its groups of four) -- and how many groups follow it. */
static void group_shape(int layers, int (*starts)(int layer, const void *arg), const void *arg,
                        int *head, int *units)
{
    int big = 0;
    for (int l = 0, end; l < layers; l = end)
        if ((end = group_end(layers, l, starts, arg)) - l > big)
            big = end - l;
    *head = 0;
    while (*head < layers && group_end(layers, *head, starts, arg) - *head < big)
        *head = group_end(layers, *head, starts, arg);
    *units = 0;
    for (int l = *head; l < layers; l = group_end(layers, l, starts, arg))
        ++*units;
}

/* Whole groups balanced as pplayout_balanced balances layers: floor or ceil of the groups past
 * the head on each stage, the head on the first. */
int pplayout_grouped(int layers, int pp, int vp, int mtp, int (*starts)(int layer, const void *arg),
                     const void *arg, char *out, size_t cap)
{
    int stages = pp * vp, head, units;
    group_shape(layers, starts, arg, &head, &units);
    int per = units / stages, extra = units % stages;
    int from = heavy_from(stages, pp, extra, head);
    size_t used = 0;
    if (put(out, cap, &used, "E", 1, 1) != 0)
        return -1;
    for (int s = 0, at = head; s < stages; s++) {
        int end = at, n = per + (s >= from && s < from + extra);
        for (int g = 0; g < n; g++)
            end = group_end(layers, end, starts, arg);
        if (put_stage(out, cap, &used, s, end - at + (s == 0 ? head : 0)) != 0)
            return -1;
        at = end;
    }
    return put_tail(out, cap, &used, mtp);
}
