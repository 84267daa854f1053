/* stagesplit: the ends' layer counts when the pipeline changes (see stagesplit.h). */
#include "stagesplit.h"

int stage_split_ends(int layers, int stages, int first_apart, int last_apart, int *first,
                     int *last)
{
    int ends = (first_apart != 0) + (last_apart != 0), middle = stages - ends;
    if (ends == 0 || stages < 2 || layers < middle || layers < 0)
        return -1;
    long per, rest;
    if (((long)layers + ends) % stages == 0) { /* Megatron: the ends one layer fewer */
        per = ((long)layers + ends) / stages;
        rest = (per - 1) * ends;
    } else { /* NeMo: ceil on the middle stages, the rest on the ends */
        per = ((long)layers + stages - 1) / stages;
        rest = layers - per * middle;
        if (rest < 0) /* the ends would be heavier than the middle: no such split */
            return -1;
    }
    long lighter = rest / ends; /* with two ends the last takes the smaller half */
    *first = first_apart ? (int)(rest - (last_apart ? lighter : 0)) : 0;
    *last = last_apart ? (int)lighter : 0;
    return 0;
}
