/* test_units: every suffix scales right; everything strtod would let through is refused. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "units.h"

/* Relative tolerance: scales like 1e-12 are not exact in binary. */
static void assert_parses(const char *text, enum unit_kind kind, double want)
{
    char why[256] = "";
    double got = -1.0;
    cr_assert_eq(units_parse(text, kind, &got, why, sizeof why), 0, "'%s' refused: %s", text, why);
    cr_assert(fabs(got - want) <= 1e-12 * fabs(want), "'%s' gave %.17g, want %.17g", text, got,
              want);
}

/* Refused, the reason quotes the text and contains `frag`, and *out is left alone. */
static void assert_refused(const char *text, enum unit_kind kind, const char *frag)
{
    char why[256] = "";
    double got = 42.0;
    cr_assert_eq(units_parse(text, kind, &got, why, sizeof why), -1, "'%s' accepted as %g", text,
                 got);
    cr_assert_eq(got, 42.0, "'%s': output written on failure", text);
    cr_assert(strstr(why, frag) != NULL, "'%s': reason '%s' lacks '%s'", text, why, frag);
}

Test(units, time_suffixes)
{
    assert_parses("2s", UNIT_TIME, 2.0);
    assert_parses("1.5ms", UNIT_TIME, 1.5e-3);
    assert_parses("3us", UNIT_TIME, 3e-6);
    assert_parses("7ns", UNIT_TIME, 7e-9);
    assert_parses("250ps", UNIT_TIME, 250e-12);
    assert_parses("0s", UNIT_TIME, 0.0);
    assert_parses(".5s", UNIT_TIME, 0.5);
    assert_parses("1e3ms", UNIT_TIME, 1.0);
    assert_parses("2.5E-3s", UNIT_TIME, 2.5e-3);
    assert_parses("+4us", UNIT_TIME, 4e-6);
    assert_parses(" 5ms ", UNIT_TIME, 5e-3);
}

/* As people write them: a space before the unit, the micro sign, bytes or bits per second
 * with a slash. */
Test(units, spellings_people_use)
{
    assert_parses("1.5 ms", UNIT_TIME, 1.5e-3);
    assert_parses("3\tus", UNIT_TIME, 3e-6);
    assert_parses("2\xc2\xb5s", UNIT_TIME, 2e-6);   /* U+00B5 MICRO SIGN */
    assert_parses("2 \xce\xbcs", UNIT_TIME, 2e-6);  /* U+03BC GREEK SMALL LETTER MU */
    assert_parses("80 GiB", UNIT_BYTES, 80.0 * 1073741824.0);
    assert_parses("450GB/s", UNIT_BANDWIDTH, 450e9);
    assert_parses("450 GB/s", UNIT_BANDWIDTH, 450e9);
    assert_parses("64GiB/s", UNIT_BANDWIDTH, 64.0 * 1073741824.0);
    assert_parses("400Gb/s", UNIT_BANDWIDTH, 50e9);
    assert_parses("400 Gbit/s", UNIT_BANDWIDTH, 50e9);
    assert_parses("100Mb/s", UNIT_BANDWIDTH, 12.5e6);
    assert_parses("989 TFLOPS", UNIT_FLOP_RATE, 989e12);
    assert_refused("1 ", UNIT_TIME, "has no unit");
    assert_refused("1 m s", UNIT_TIME, "unknown unit 'm s'");
    assert_refused("1\xc2s", UNIT_TIME, "unknown unit"); /* a broken UTF-8 sequence */
    assert_refused("1gb/s", UNIT_BANDWIDTH, "unknown unit 'gb/s'");
    assert_refused("1GB/", UNIT_BANDWIDTH, "unknown unit 'GB/'");
    assert_refused("1 GB/s", UNIT_BYTES, "unknown unit 'GB/s'");
}

Test(units, byte_suffixes_decimal_and_binary)
{
    assert_parses("1B", UNIT_BYTES, 1.0);
    assert_parses("1KB", UNIT_BYTES, 1e3);
    assert_parses("1MB", UNIT_BYTES, 1e6);
    assert_parses("2GB", UNIT_BYTES, 2e9);
    assert_parses("1TB", UNIT_BYTES, 1e12);
    assert_parses("1KiB", UNIT_BYTES, 1024.0);
    assert_parses("64MiB", UNIT_BYTES, 64.0 * 1048576.0);
    assert_parses("80GiB", UNIT_BYTES, 80.0 * 1073741824.0);
    assert_parses("1TiB", UNIT_BYTES, 1099511627776.0);
}

Test(units, bandwidth_bytes_and_bits)
{
    assert_parses("1Bps", UNIT_BANDWIDTH, 1.0);
    assert_parses("1KBps", UNIT_BANDWIDTH, 1e3);
    assert_parses("1MBps", UNIT_BANDWIDTH, 1e6);
    assert_parses("450GBps", UNIT_BANDWIDTH, 450e9);
    assert_parses("1TBps", UNIT_BANDWIDTH, 1e12);
    assert_parses("1KiBps", UNIT_BANDWIDTH, 1024.0);
    assert_parses("1MiBps", UNIT_BANDWIDTH, 1048576.0);
    assert_parses("1GiBps", UNIT_BANDWIDTH, 1073741824.0);
    assert_parses("1TiBps", UNIT_BANDWIDTH, 1099511627776.0);
    assert_parses("8bps", UNIT_BANDWIDTH, 1.0);
    assert_parses("8Kbps", UNIT_BANDWIDTH, 1e3);
    assert_parses("8Mbps", UNIT_BANDWIDTH, 1e6);
    assert_parses("400Gbps", UNIT_BANDWIDTH, 50e9);
    assert_parses("1Tbps", UNIT_BANDWIDTH, 1e12 / 8);
}

Test(units, refuses_nan_inf_and_hex)
{
    assert_refused("nan", UNIT_TIME, "not a number");
    assert_refused("nans", UNIT_TIME, "not a number");
    assert_refused("NaNms", UNIT_TIME, "not a number");
    assert_refused("infs", UNIT_TIME, "not a number");
    assert_refused("INFINITYs", UNIT_TIME, "not a number");
    assert_refused("+infs", UNIT_TIME, "not a number");
    assert_refused("0x10s", UNIT_TIME, "not a number");
    assert_refused("0x1p-3s", UNIT_TIME, "not a number");
    assert_refused("+0X1P4B", UNIT_BYTES, "not a number");
}

Test(units, refuses_empty_sign_and_junk)
{
    assert_refused("", UNIT_TIME, "not a number");
    assert_refused("   ", UNIT_TIME, "not a number");
    assert_refused("ms", UNIT_TIME, "not a number");
    assert_refused(".s", UNIT_TIME, "not a number");
    assert_refused("-1ms", UNIT_TIME, "is negative");
    assert_refused(" -0s", UNIT_TIME, "is negative");
    assert_refused("--1s", UNIT_TIME, "is negative");
    assert_refused("+-1s", UNIT_TIME, "not a number");
    assert_refused("1", UNIT_TIME, "has no unit");
    assert_refused("1.5", UNIT_BYTES, "has no unit");
    assert_refused("1e5", UNIT_BANDWIDTH, "has no unit");
    assert_refused("1msx", UNIT_TIME, "unknown unit 'msx'");
    assert_refused("1 msx", UNIT_TIME, "unknown unit 'msx'");
    assert_refused("1ms5", UNIT_TIME, "unknown unit 'ms5'");
    assert_refused("1.2.3ms", UNIT_TIME, "unknown unit '.3ms'");
    assert_refused("1e", UNIT_TIME, "unknown unit 'e'");
}

Test(units, refuses_units_of_another_kind_and_wrong_case)
{
    assert_refused("1MB", UNIT_TIME, "unknown unit 'MB'");
    assert_refused("1ms", UNIT_BYTES, "unknown unit 'ms'");
    assert_refused("1GB", UNIT_BANDWIDTH, "unknown unit 'GB'");
    assert_refused("1GBps", UNIT_BYTES, "unknown unit 'GBps'");
    assert_refused("1Ms", UNIT_TIME, "unknown unit 'Ms'");
    assert_refused("1gib", UNIT_BYTES, "unknown unit 'gib'");
    assert_refused("1Mib", UNIT_BYTES, "unknown unit 'Mib'");
}

Test(units, refuses_overflow_and_magnitudes_past_1e18)
{
    assert_refused("1e999s", UNIT_TIME, "out of range");
    assert_refused("1e-999s", UNIT_TIME, "out of range");
    assert_refused("2e18B", UNIT_BYTES, "out of range");
    assert_refused("1e7TiB", UNIT_BYTES, "out of range");
    assert_refused("1e300TBps", UNIT_BANDWIDTH, "out of range");
    assert_parses("1e18B", UNIT_BYTES, 1e18);
}

Test(units, reason_is_truncated_not_overflowed)
{
    char why[8];
    double v;
    cr_assert_eq(units_parse("1xxxxxxxxxxxxxxxxxxxxxxxxxxx", UNIT_TIME, &v, why, sizeof why), -1);
    cr_assert_eq(strlen(why), sizeof why - 1);
}

static void assert_int(const char *text, long min, long max, long want)
{
    char why[128] = "";
    long got = -12345;
    cr_assert_eq(units_parse_int(text, min, max, &got, why, sizeof why), 0, "'%s': %s", text, why);
    cr_assert_eq(got, want, "'%s' gave %ld", text, got);
}

static void assert_int_refused(const char *text, long min, long max, const char *frag)
{
    char why[128] = "";
    long got = -12345;
    cr_assert_eq(units_parse_int(text, min, max, &got, why, sizeof why), -1, "'%s' accepted", text);
    cr_assert_eq(got, -12345);
    cr_assert(strstr(why, frag) != NULL, "'%s': reason '%s' lacks '%s'", text, why, frag);
}

Test(units, ints_in_range)
{
    assert_int("1", 1, 65536, 1);
    assert_int("65536", 1, 65536, 65536);
    assert_int(" 42 ", 0, 100, 42);
    assert_int("+7", 0, 100, 7);
    assert_int("-3", -5, 5, -3);
    assert_int("007", 0, 100, 7);
    assert_int_refused("0", 1, 65536, "out of range [1, 65536]");
    assert_int_refused("65537", 1, 65536, "out of range [1, 65536]");
    assert_int_refused("-1", 0, 10, "out of range [0, 10]");
    assert_int_refused("99999999999999999999999", 0, 10, "out of range");
    assert_int_refused("-99999999999999999999999", 0, 10, "out of range");
}

Test(units, ints_refuse_non_integers)
{
    assert_int_refused("", 0, 10, "not a whole number");
    assert_int_refused(" ", 0, 10, "not a whole number");
    assert_int_refused("two", 0, 10, "not a whole number");
    assert_int_refused("2.5", 0, 10, "not a whole number");
    assert_int_refused("2.0", 0, 10, "not a whole number");
    assert_int_refused("1e3", 0, 10000, "not a whole number");
    assert_int_refused("0x10", 0, 100, "not a whole number");
    assert_int_refused("4x", 0, 10, "not a whole number");
    assert_int_refused("4 4", 0, 100, "not a whole number");
    assert_int_refused("- 4", -10, 10, "not a whole number");
    assert_int_refused("+-4", -10, 10, "not a whole number");
    assert_int_refused("nan", 0, 10, "not a whole number");
}

Test(units, bools)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        int v = -1;
        char why[64];
        cr_assert_eq(units_parse_bool(yes[i], &v, why, sizeof why), 0);
        cr_assert_eq(v, 1, "%s", yes[i]);
        cr_assert_eq(units_parse_bool(no[i], &v, why, sizeof why), 0);
        cr_assert_eq(v, 0, "%s", no[i]);
    }
    static const char *const bad[] = {"maybe", "", "2", "truee", " true", "t"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int v = -1;
        char why[64] = "";
        cr_assert_eq(units_parse_bool(bad[i], &v, why, sizeof why), -1, "'%s' accepted", bad[i]);
        cr_assert_eq(v, -1);
        cr_assert(strstr(why, "not a boolean") != NULL, "%s", why);
    }
}

Test(units, flop_rates)
{
    assert_parses("1FLOPS", UNIT_FLOP_RATE, 1.0);
    assert_parses("1KFLOPS", UNIT_FLOP_RATE, 1e3);
    assert_parses("1MFLOPS", UNIT_FLOP_RATE, 1e6);
    assert_parses("19.5TFLOPS", UNIT_FLOP_RATE, 19.5e12);
    assert_parses("989TFLOPS", UNIT_FLOP_RATE, 989e12);
    assert_parses("2.25PFLOPS", UNIT_FLOP_RATE, 2.25e15);
    assert_parses("1EFLOPS", UNIT_FLOP_RATE, 1e18);
    assert_parses("312GFLOPS", UNIT_FLOP_RATE, 312e9);
    assert_parses("989TFLOP/s", UNIT_FLOP_RATE, 989e12);
    assert_parses("1e3GFLOP/s", UNIT_FLOP_RATE, 1e12);
    assert_refused("989", UNIT_FLOP_RATE, "has no unit");
    assert_refused("989TFLOP", UNIT_FLOP_RATE, "unknown unit 'TFLOP'");
    assert_refused("989tflops", UNIT_FLOP_RATE, "unknown unit 'tflops'");
    assert_refused("989TFlops", UNIT_FLOP_RATE, "unknown unit 'TFlops'");
    assert_refused("-1TFLOPS", UNIT_FLOP_RATE, "is negative");
    assert_refused("2EFLOPS", UNIT_FLOP_RATE, "out of range (above 1e18 FLOPS)");
    assert_refused("1TBps", UNIT_FLOP_RATE, "unknown unit 'TBps'");
}

Test(units, flop_counts_with_or_without_unit)
{
    assert_parses("1FLOP", UNIT_FLOP, 1.0);
    assert_parses("4GFLOP", UNIT_FLOP, 4e9);
    assert_parses("2TFLOP", UNIT_FLOP, 2e12);
    assert_parses("3PFLOP", UNIT_FLOP, 3e15);
    assert_parses("5EFLOP", UNIT_FLOP, 5e18);
    assert_parses("1e12", UNIT_FLOP, 1e12);
    assert_parses("6e25", UNIT_FLOP, 6e25); /* a whole run: above the 1e18 cap of other kinds */
    assert_parses("1e27", UNIT_FLOP, 1e27);
    assert_refused("2e27", UNIT_FLOP, "out of range (above 1e27 FLOP)");
    assert_refused("1GFLOPS", UNIT_FLOP, "unknown unit 'GFLOPS'");
    assert_refused("1e9flop", UNIT_FLOP, "unknown unit 'flop'");
    assert_refused("nan", UNIT_FLOP, "not a number");
    assert_refused("-1e9", UNIT_FLOP, "is negative");
}

Test(units, plain_numbers)
{
    assert_parses("2.50", UNIT_NUMBER, 2.5);
    assert_parses("0", UNIT_NUMBER, 0.0);
    assert_parses("1e3", UNIT_NUMBER, 1e3);
    assert_refused("5%", UNIT_NUMBER, "unknown unit '%'");
    assert_refused("2.50USD", UNIT_NUMBER, "unknown unit 'USD'");
    assert_refused("-2", UNIT_NUMBER, "is negative");
    assert_refused("2e18", UNIT_NUMBER, "out of range (above 1e18)");
}

Test(units, power)
{
    assert_parses("500W", UNIT_POWER, 500.0);
    assert_parses("1.2kW", UNIT_POWER, 1200.0);
    assert_parses("700 W", UNIT_POWER, 700.0);
    assert_refused("500", UNIT_POWER, "");
    assert_refused("500w", UNIT_POWER, "unknown unit 'w'");
    assert_refused("1MW", UNIT_POWER, "unknown unit 'MW'");
}

/* A duration the picosecond clock would round to zero is refused, not made free; one that
 * rounds to a picosecond is a picosecond's worth. */
Test(units, durations_below_the_clock_are_refused)
{
    assert_refused("0.1ps", UNIT_TIME, "below the clock's resolution of 1 ps");
    assert_refused("1e-16s", UNIT_TIME, "below the clock's resolution of 1 ps");
    assert_parses("0.5ps", UNIT_TIME, 0.5e-12);
    assert_parses("0ps", UNIT_TIME, 0.0);
    assert_parses("0.1B", UNIT_BYTES, 0.1); /* other kinds have no clock */
}
