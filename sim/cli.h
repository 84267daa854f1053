/* cli: the stepsim command line (contract: `stepsim --help` and README.md "Usage").  Returns the
 * process exit status: 0 ok, 1 simulation or I/O failure, 2 bad input.  Only main() exits. */
#ifndef STEPSIM_CLI_H
#define STEPSIM_CLI_H

#include <stdio.h>

int cli_main(int argc, char **argv, FILE *out, FILE *errout);

#endif
