/* derive_internal: what derive.c and derive_keys.c share. */
#ifndef STEPSIM_DERIVE_INTERNAL_H
#define STEPSIM_DERIVE_INTERNAL_H

#include "scenario.h"

/* Was `a` given before `b` (or not at all while b was)?  Then a follows b. */
static inline int derive_earlier(const struct scenario *scn, enum scn_key a, enum scn_key b)
{
    return scn->origin[a].order < scn->origin[b].order;
}

/* Unset `key` and mark it derived: it followed a value given later. */
static inline void derive_follow(struct scenario *scn, enum scn_key key)
{
    scn_unset(scn, key);
    scn_mark_derived(scn, key);
}

#endif
