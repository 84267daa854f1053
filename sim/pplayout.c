/* pplayout: Megatron-Core's pipeline layout strings (see pplayout.h). */
#include "pplayout.h"

#include <ctype.h>
#include <math.h>
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

/* The group boundary (a layer where a group starts, or `layers`) nearest `target`, at or past
 * `from`. */
static int nearest_boundary(int layers, int from, double target,
                            int (*starts)(int layer, const void *arg), const void *arg)
{
    int best = layers;
    for (int l = from; l <= layers; l++) {
        if (l < layers && l > 0 && !starts(l, arg))
            continue;
        if (fabs(l - target) < fabs(best - target))
            best = l;
        if (l > target)
            break;
    }
    return best;
}

int pplayout_grouped(int layers, int stages, int mtp, int (*starts)(int layer, const void *arg),
                     const void *arg, char *out, size_t cap)
{
    size_t used = 0;
    if (put(out, cap, &used, "E", 1, 1) != 0)
        return -1;
    for (int s = 0, from = 0; s < stages; s++) {
        int end = s == stages - 1 ? layers
                                  : nearest_boundary(layers, from,
                                                     (double)layers * (s + 1) / stages, starts,
                                                     arg);
        if ((s > 0 && put(out, cap, &used, "|", 1, 1) != 0) ||
            put(out, cap, &used, "t", 1, end - from) != 0)
            return -1;
        from = end;
    }
    return put(out, cap, &used, "m", 1, mtp) != 0 || put(out, cap, &used, "L", 1, 1) != 0 ? -1
                                                                                             : 0;
}
