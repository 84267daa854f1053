/* plan: `stepsim plan` -- the best valid configurations of a model on a GPU budget. */
#ifndef STEPSIM_PLAN_H
#define STEPSIM_PLAN_H

#include <stdio.h>

/* The plan command: argv[0] is "stepsim", argv[1] "plan".  Returns the exit status. */
int plan_main(int argc, char **argv, FILE *out, FILE *errout);

#endif
