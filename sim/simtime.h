/* simtime: the simulator's own clock type.
 *
 * Simulated time is an integer count of picoseconds, so event order is exact and identical on
 * every machine; it never mixes with wall-clock time.  int64 picoseconds span +-106 days of
 * simulated time, far beyond one training step. */
#ifndef STEPSIM_SIMTIME_H
#define STEPSIM_SIMTIME_H

#include <stdint.h>

typedef int64_t simtime_t; /* picoseconds */

#define SIMTIME_PER_S INT64_C(1000000000000)
#define SIMTIME_MAX INT64_MAX

/* Seconds -> picoseconds, rounded to nearest.  Returns -1 when `s` is negative, not finite or
 * too large to represent, so callers can report the bad value. */
simtime_t simtime_from_s(double s);
double simtime_to_s(simtime_t t);

#endif
