/* plan: the planner (stub until implemented). */
#include "plan.h"

int plan_main(int argc, char **argv, FILE *out, FILE *errout)
{
    (void)argc;
    (void)argv;
    (void)out;
    fputs("stepsim: plan is not implemented yet\n", errout);
    return 2;
}
