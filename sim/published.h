/* published: the published, measured runs of a scenario's model that stepsim is checked on
 * (the tables of scenarios/validation, described in its README.md), each simulated as
 * `make validate` does, with the measured and predicted step time and the error -- how far a
 * prediction for that model has been off on runs that really happened, and on which sets
 * (calibration, or held out: never fitted).  When no table holds the model, the runs on the
 * scenario's GPU are summed up instead. */
#ifndef STEPSIM_PUBLISHED_H
#define STEPSIM_PUBLISHED_H

#include <stdio.h>

/* `stepsim published SCENARIO.xml [--set KEY=VALUE]... [--tables DIR] [--root DIR]`: returns
 * the exit status (0 ok, 1 failure, 2 bad input). */
int published_main(int argc, char **argv, FILE *out, FILE *errout);
extern const char published_usage[]; /* its synopsis, for `stepsim --help` too */

#endif
