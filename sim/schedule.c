/* schedule: the registry and the parts every schedule shares (B/W split, optimizer op). */
#include "schedule.h"

#include <assert.h>
#include <string.h>

static const struct sched_type *const registry[] = {
    &sched_gpipe, &sched_1f1b,     &sched_interleaved, &sched_zbh1,
    &sched_zbv,   &sched_dualpipe, &sched_dualpipev,
};
#define REGISTRY_LEN (sizeof registry / sizeof registry[0])

const struct sched_type *sched_find(const char *name)
{
    for (size_t i = 0; i < REGISTRY_LEN; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const char *sched_names(void)
{
    return "gpipe, 1f1b, interleaved, zb-h1, zb-v, dualpipe, dualpipe-v";
}

int sched_vp_of(const struct sched_type *type)
{
    return type->placement == SCHED_LOOP ? 1 : 2;
}

const char *const *sched_chunk_names(const struct sched_type *type)
{
    static const char *const directions[2] = {"down", "up"};
    return type->placement == SCHED_LOOP ? NULL : directions;
}

int sched_vp_fits(const struct sched_type *type, int vp)
{
    return type->vp_any ? vp >= 2 : vp == sched_vp_of(type);
}

int sched_stage_of(const struct sched_type *type, int pp, int rank, int chunk)
{
    if (type->placement != SCHED_LOOP)
        return chunk == 0 ? rank : 2 * pp - 1 - rank;
    return chunk * pp + rank;
}

int sched_rank_of(const struct sched_type *type, int pp, int stage)
{
    if (type->placement != SCHED_LOOP)
        return stage < pp ? stage : 2 * pp - 1 - stage;
    return stage % pp;
}

int sched_chunk_of(const struct sched_type *type, int pp, int stage)
{
    if (type->placement != SCHED_LOOP)
        return stage < pp ? 0 : 1;
    return stage / pp;
}

void sched_route(const struct sched_type *type, const struct sched_params *sp, int mb, int *first,
                 int *last)
{
    if (type->placement == SCHED_DUAL) {
        int up = mb >= sp->microbatches / 2;
        *first = up ? sp->pp : 0;
        *last = *first + sp->pp - 1;
        return;
    }
    *first = 0;
    *last = sp->pp * sp->vp - 1;
}

int sched_chunk_mbs(const struct sched_type *type, const struct sched_params *sp)
{
    return type->placement == SCHED_DUAL ? sp->microbatches / 2 : sp->microbatches;
}

int sched_model_part(const struct sched_type *type, int pp, int stage)
{
    return type->placement == SCHED_DUAL && stage >= pp ? stage - pp : stage;
}

int sched_model_parts(const struct sched_type *type, int pp, int vp)
{
    return type->placement == SCHED_DUAL ? pp : pp * vp;
}

enum sim_status sched_check_one_chunk(const char *name, const struct sched_params *sp,
                                      struct sched_blame *blame, struct sim_error *err)
{
    *blame = (struct sched_blame){SP_VP, 0};
    if (sp->vp != 1)
        return err_set(err, SIM_EINPUT, NULL, 0,
                       "schedule=%s holds one model chunk per rank but vp=%d; use "
                       "schedule=interleaved for vp > 1",
                       name, sp->vp);
    return SIM_OK;
}

size_t sched_ops_per_rank(const struct sched_type *type, const struct sched_params *sp)
{
    size_t per_mb_chunk = sp->split_backward ? 3 : 2;
    return per_mb_chunk * (size_t)sched_chunk_mbs(type, sp) * (size_t)sp->vp + 1;
}

void sched_build(const struct sched_type *type, const struct sched_params *sp, int rank,
                 struct sched_op *out)
{
    size_t cells = (size_t)sched_chunk_mbs(type, sp) * (size_t)sp->vp;
    size_t fb = 2 * cells;
    type->build(sp, rank, out);
    size_t n = fb;
    if (type->builds_w) {
        assert(sp->split_backward);
        n = fb + cells;
    } else if (sp->split_backward) {
        /* Expand in place from the back: each B gets a W right behind it, the order a
         * non-zero-bubble framework runs them in (weight grads computed with the backward). */
        size_t w = fb + cells;
        for (size_t i = fb; i-- > 0;) {
            if (out[i].kind == OP_B) {
                out[--w] = (struct sched_op){OP_W, out[i].mb, out[i].chunk, SCHED_ALONE};
            }
            out[--w] = out[i];
        }
        assert(w == 0);
        n = fb + cells;
    }
    out[n] = (struct sched_op){OP_OPT, -1, -1, SCHED_ALONE};
}

const char *op_kind_name(enum op_kind kind)
{
    switch (kind) {
    case OP_F: return "F";
    case OP_B: return "B";
    case OP_W: return "W";
    case OP_OPT: return "OPT";
    case OP_KIND_COUNT: break;
    }
    return "?";
}
