/* sweep: `stepsim sweep` -- one scenario over the cartesian product of --vary lists. */
#ifndef STEPSIM_SWEEP_H
#define STEPSIM_SWEEP_H

#include <stdio.h>

/* The sweep command: argv[0] is "stepsim", argv[1] "sweep".  Returns the exit status. */
int sweep_main(int argc, char **argv, FILE *out, FILE *errout);

#endif
