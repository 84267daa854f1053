/* simtime: conversions between seconds and the integer simulated clock. */
#include "simtime.h"

#include <math.h>

simtime_t simtime_from_s(double s)
{
    if (!isfinite(s) || s < 0.0)
        return -1;
    double ps = s * (double)SIMTIME_PER_S;
    if (ps >= 9.0e18) /* just under INT64_MAX, leaving room for sums of a few terms */
        return -1;
    return (simtime_t)llround(ps);
}

double simtime_to_s(simtime_t t)
{
    return (double)t / (double)SIMTIME_PER_S;
}
