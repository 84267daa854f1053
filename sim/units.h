/* units: the one parser for numbers in input files and --set values.
 *
 * Values carry their unit as text ("450GBps", "3us", "80GiB", "1ms").  Everything returned is
 * in SI base units (s, bytes, bytes/s).  The parser rejects what strtod would silently accept
 * or mangle: NaN/inf, hex floats, empty text, trailing junk, unknown units, negative values and
 * magnitudes beyond 1e18 of the base unit. */
#ifndef STEPSIM_UNITS_H
#define STEPSIM_UNITS_H

#include <stddef.h>

enum unit_kind {
    UNIT_TIME,      /* s, ms, us, ns, ps */
    UNIT_BYTES,     /* B, KB, MB, GB, TB (powers of 1000), KiB, MiB, GiB, TiB */
    UNIT_BANDWIDTH, /* bytes/s: Bps, KBps .. TBps, KiBps .. TiBps; bits/s: bps, Kbps .. Tbps */
    UNIT_FRACTION,  /* a plain number ("0.05") or a percentage ("5%") */
};

/* Parse `text` as a non-negative quantity of `kind`; on failure return -1 and write a short
 * reason (e.g. "unknown unit 'mss'") into why. */
int units_parse(const char *text, enum unit_kind kind, double *out, char *why, size_t whylen);

/* Parse a whole decimal integer in [min, max]; on failure return -1 with a reason. */
int units_parse_int(const char *text, long min, long max, long *out, char *why, size_t whylen);

/* Parse true/false/yes/no/1/0. */
int units_parse_bool(const char *text, int *out, char *why, size_t whylen);

#endif
