/* sweep: parameter sweeps (stub until implemented). */
#include "sweep.h"

int sweep_main(int argc, char **argv, FILE *out, FILE *errout)
{
    (void)argc;
    (void)argv;
    (void)out;
    fputs("stepsim: sweep is not implemented yet\n", errout);
    return 2;
}
