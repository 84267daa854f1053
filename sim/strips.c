/* strips: busy time by column, cut into even spans (see strips.h). */
#include "strips.h"

#include <math.h>
#include <string.h>

#include "alloc.h"

int strips_init(struct strips_row *row, int max_cols, int max_slots)
{
    memset(row, 0, sizeof *row);
    row->cap = (size_t)(max_cols + 1) * (size_t)max_slots;
    row->cum = mem_calloc(row->cap, sizeof *row->cum);
    return row->cum ? 0 : -1;
}

void strips_release(struct strips_row *row)
{
    mem_free(row->cum);
    memset(row, 0, sizeof *row);
}

void strips_reset(struct strips_row *row, int ncols, double t0, double col, int nslot,
                  int tight_from)
{
    row->ncols = ncols;
    row->t0 = t0;
    row->col = col;
    row->nslot = nslot;
    row->tight_from = tight_from;
    size_t n = (size_t)(ncols + 1) * (size_t)nslot;
    memset(row->cum, 0, (n < row->cap ? n : row->cap) * sizeof *row->cum);
}

void strips_add(struct strips_row *row, int slot, int in_total, double s, double e)
{
    int c0 = (int)floor((s - row->t0) / row->col);
    int last = row->ncols - 1;
    c0 = c0 < 0 ? 0 : c0 > last ? last : c0;
    for (int c = c0; c <= last; c++) {
        double cs = row->t0 + c * row->col, ce = cs + row->col;
        if (cs >= e)
            break;
        double part = fmin(e, ce) - fmax(s, cs);
        if (part > 0) { /* per-column amounts now; running sums after */
            row->cum[(c + 1) * row->nslot + slot] += part;
            if (in_total)
                row->cum[(c + 1) * row->nslot + row->nslot - 1] += part;
        }
    }
}

void strips_accumulate(struct strips_row *row)
{
    int ns = row->nslot;
    for (int c = 1; c <= row->ncols; c++) {
        double *cur = &row->cum[c * ns], *prev = &row->cum[(c - 1) * ns];
        for (int j = 0; j < ns; j++)
            cur[j] = fmin(cur[j], row->col);
        for (int j = 0; j < ns; j++)
            cur[j] += prev[j];
    }
}

double strips_busy(const struct strips_row *row, int a, int b, int slot)
{
    return row->cum[b * row->nslot + slot] - row->cum[a * row->nslot + slot];
}

/* Can columns [a, b) be one span (strips.h)? */
static int even(const struct strips_row *row, int a, int b)
{
    int ns = row->nslot;
    const double *ca = &row->cum[a * ns], *cb = &row->cum[b * ns];
    double col = row->col, idle = 1e-6 * col;
    for (int j = 0; j < ns; j++) {
        int tight = j >= row->tight_from;
        double mean = (cb[j] - ca[j]) / (b - a), drift = (tight ? STRIPS_DRIFT : 1.0) * col;
        int idle_seen = 0, busy_seen = 0;
        for (int c = a; c < b; c++) {
            const double *cc = &row->cum[c * ns];
            double here = cc[ns + j] - cc[j];
            idle_seen |= here <= idle;
            busy_seen |= here > idle;
            if (tight && (fabs(here - mean) > STRIPS_SHARE * col || (idle_seen && busy_seen)))
                return 0;
            if (c > a && fabs(cc[j] - ca[j] - (c - a) * mean) > drift)
                return 0;
        }
    }
    return 1;
}

/* Grow by doubling, then bisect. */
int strips_span_end(const struct strips_row *row, int a)
{
    int good = a + 1, bad = -1;
    for (int len = 2; a + len <= row->ncols; len *= 2) {
        if (!even(row, a, a + len)) {
            bad = a + len;
            break;
        }
        good = a + len;
    }
    if (bad < 0 && good < row->ncols)
        bad = even(row, a, row->ncols) ? -1 : row->ncols;
    if (bad < 0)
        return row->ncols;
    while (bad - good > 1) {
        int mid = good + (bad - good) / 2;
        if (even(row, a, mid))
            good = mid;
        else
            bad = mid;
    }
    return good;
}

int strips_group(const struct pipe_result *res, int nkeys,
                 int (*key)(const struct pipe_result *, size_t, int), size_t **order,
                 size_t **first)
{
    *order = mem_calloc(res->nrecs ? res->nrecs : 1, sizeof **order);
    *first = mem_calloc((size_t)nkeys + 1, sizeof **first);
    if (!*order || !*first)
        return -1;
    for (size_t i = 0; i < res->nrecs; i++) {
        int k = key(res, i, res->pp);
        if (k >= 0)
            (*first)[k + 1]++;
    }
    for (int k = 0; k < nkeys; k++)
        (*first)[k + 1] += (*first)[k];
    size_t *next = mem_calloc((size_t)nkeys, sizeof *next);
    if (!next)
        return -1;
    memcpy(next, *first, (size_t)nkeys * sizeof *next);
    for (size_t i = 0; i < res->nrecs; i++) {
        int k = key(res, i, res->pp);
        if (k >= 0)
            (*order)[next[k]++] = i;
    }
    mem_free(next);
    return 0;
}
