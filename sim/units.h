/* units: the one parser for numbers in input files and --set values.
 *
 * Values carry their unit as text ("450GBps", "3us", "80GiB", "1ms", "989TFLOPS"), with or
 * without a space before it ("1.5 ms").  Everything returned is in SI base units (s, bytes,
 * bytes/s, FLOP, FLOP/s).  The parser rejects what strtod would silently accept or mangle: NaN/inf,
 * hex floats, empty text, trailing junk, unknown units, negative values and magnitudes beyond 1e18
 * of the base unit (1e27 for FLOP counts, which a whole training run exceeds: 6 * 1e12 params *
 * 1e13 tokens = 6e25). */
#ifndef STEPSIM_UNITS_H
#define STEPSIM_UNITS_H

#include <stddef.h>

enum unit_kind {
    UNIT_TIME,      /* s, ms, us (or the micro sign: µs), ns, ps */
    UNIT_BYTES,     /* B, KB, MB, GB, TB (powers of 1000), KiB, MiB, GiB, TiB */
    UNIT_BANDWIDTH, /* bytes/s: Bps or B/s, KBps .. TBps, KiBps .. TiBps; bits/s: bps, b/s or
                       bit/s, Kbps .. Tbps */
    UNIT_FRACTION,  /* a plain number ("0.05") or a percentage ("5%") */
    /* FLOP/s: FLOPS, KFLOPS, MFLOPS, GFLOPS, TFLOPS, PFLOPS, EFLOPS (powers of 1000); the
     * spelling "TFLOP/s" is accepted too */
    UNIT_FLOP_RATE,
    /* a count of floating-point operations: FLOP, KFLOP .. EFLOP, or a plain number ("1e12") */
    UNIT_FLOP,
    UNIT_NUMBER, /* a plain number with no unit ("2.50"), e.g. a price in a named currency */
    UNIT_POWER,  /* watts: W, kW */
};

/* Parse `text` as a non-negative quantity of `kind`; on failure return -1 and write a short
 * reason (e.g. "unknown unit 'mss'") into why. */
int units_parse(const char *text, enum unit_kind kind, double *out, char *why, size_t whylen);

/* Parse a whole decimal integer in [min, max]; on failure return -1 with a reason. */
int units_parse_int(const char *text, long min, long max, long *out, char *why, size_t whylen);

/* Parse true/false/yes/no/1/0. */
int units_parse_bool(const char *text, int *out, char *why, size_t whylen);

#endif
