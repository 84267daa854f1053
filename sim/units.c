/* units: unit-aware number parsing (see units.h for the accepted grammar). */
#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unit_suffix {
    const char *name;
    double scale; /* to the SI base unit */
};

/* Microseconds as people type them: "us", or with the micro sign U+00B5 or the Greek mu U+03BC
 * (UTF-8). */
static const struct unit_suffix time_units[] = {
    {"s", 1.0},          {"ms", 1e-3}, {"us", 1e-6},  {"\xc2\xb5s", 1e-6},
    {"\xce\xbcs", 1e-6}, {"ns", 1e-9}, {"ps", 1e-12}, {NULL, 0},
};

static const struct unit_suffix byte_units[] = {
    {"B", 1.0},         {"KB", 1e3},           {"MB", 1e6},
    {"GB", 1e9},        {"TB", 1e12},          {"KiB", 1024.0},
    {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0},
    {NULL, 0},
};

/* Bytes/s as "GBps" or "GB/s", bits/s as "Gbps", "Gb/s" or "Gbit/s". */
static const struct unit_suffix bandwidth_units[] = {
    {"Bps", 1.0},
    {"KBps", 1e3},
    {"MBps", 1e6},
    {"GBps", 1e9},
    {"TBps", 1e12},
    {"KiBps", 1024.0},
    {"MiBps", 1048576.0},
    {"GiBps", 1073741824.0},
    {"TiBps", 1099511627776.0},
    {"B/s", 1.0},
    {"KB/s", 1e3},
    {"MB/s", 1e6},
    {"GB/s", 1e9},
    {"TB/s", 1e12},
    {"KiB/s", 1024.0},
    {"MiB/s", 1048576.0},
    {"GiB/s", 1073741824.0},
    {"TiB/s", 1099511627776.0},
    {"bps", 1.0 / 8},
    {"Kbps", 1e3 / 8},
    {"Mbps", 1e6 / 8},
    {"Gbps", 1e9 / 8},
    {"Tbps", 1e12 / 8},
    {"b/s", 1.0 / 8},
    {"Kb/s", 1e3 / 8},
    {"Mb/s", 1e6 / 8},
    {"Gb/s", 1e9 / 8},
    {"Tb/s", 1e12 / 8},
    {"bit/s", 1.0 / 8},
    {"Kbit/s", 1e3 / 8},
    {"Mbit/s", 1e6 / 8},
    {"Gbit/s", 1e9 / 8},
    {"Tbit/s", 1e12 / 8},
    {NULL, 0},
};

static const struct unit_suffix fraction_units[] = {
    {"", 1.0},
    {"%", 0.01},
    {NULL, 0},
};

static const struct unit_suffix flop_rate_units[] = {
    {"FLOPS", 1.0},   {"KFLOPS", 1e3},   {"MFLOPS", 1e6},   {"GFLOPS", 1e9},   {"TFLOPS", 1e12},
    {"PFLOPS", 1e15}, {"EFLOPS", 1e18},  {"FLOP/s", 1.0},   {"KFLOP/s", 1e3},  {"MFLOP/s", 1e6},
    {"GFLOP/s", 1e9}, {"TFLOP/s", 1e12}, {"PFLOP/s", 1e15}, {"EFLOP/s", 1e18}, {NULL, 0},
};

static const struct unit_suffix flop_units[] = {
    {"", 1.0},       {"FLOP", 1.0},   {"KFLOP", 1e3},  {"MFLOP", 1e6}, {"GFLOP", 1e9},
    {"TFLOP", 1e12}, {"PFLOP", 1e15}, {"EFLOP", 1e18}, {NULL, 0},
};

static const struct unit_suffix number_units[] = {
    {"", 1.0},
    {NULL, 0},
};

static const struct unit_suffix power_units[] = {
    {"W", 1.0},
    {"kW", 1e3},
    {NULL, 0},
};

static const struct unit_suffix *units_for(enum unit_kind kind)
{
    switch (kind) {
    case UNIT_TIME: return time_units;
    case UNIT_BYTES: return byte_units;
    case UNIT_BANDWIDTH: return bandwidth_units;
    case UNIT_FRACTION: return fraction_units;
    case UNIT_FLOP_RATE: return flop_rate_units;
    case UNIT_FLOP: return flop_units;
    case UNIT_NUMBER: return number_units;
    case UNIT_POWER: return power_units;
    }
    return NULL;
}

static const char *kind_base(enum unit_kind kind)
{
    switch (kind) {
    case UNIT_TIME: return "s";
    case UNIT_BYTES: return "B";
    case UNIT_BANDWIDTH: return "Bps";
    case UNIT_FRACTION: return "";
    case UNIT_FLOP_RATE: return "FLOPS";
    case UNIT_FLOP: return "FLOP";
    case UNIT_NUMBER: return "";
    case UNIT_POWER: return "W";
    }
    return "";
}

static const char *kind_example(enum unit_kind kind)
{
    switch (kind) {
    case UNIT_TIME: return "a time such as 1.5ms or 3 us (s, ms, us or \xc2\xb5s, ns, ps)";
    case UNIT_BYTES: return "a size such as 64MiB (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)";
    case UNIT_BANDWIDTH: return "a bandwidth such as 450GB/s, 450GBps or 400Gb/s";
    case UNIT_FRACTION: return "a plain number such as 0.05, or a percentage such as 5%";
    case UNIT_FLOP_RATE: return "a FLOP rate such as 989TFLOPS (FLOPS, GFLOPS, TFLOPS, PFLOPS)";
    case UNIT_FLOP: return "a FLOP count such as 4GFLOP or 1e12 (FLOP, GFLOP, TFLOP, PFLOP)";
    case UNIT_NUMBER: return "a plain number such as 2.50";
    case UNIT_POWER: return "a power such as 500W or 1.2kW (W, kW)";
    }
    return "a number";
}

/* Length of the plain decimal number at s: [+]digits[.digits][(e|E)[+|-]digits], or 0 when s
 * does not start with one.  strtod alone would also take "inf", "nan" and hex floats
 * ("0x1p-3"), so the grammar is checked here and strtod only converts. */
static size_t decimal_span(const char *s)
{
    size_t i = 0, digits = 0;
    if (s[i] == '+')
        i++;
    while (isdigit((unsigned char)s[i]))
        i++, digits++;
    if (s[i] == '.') {
        i++;
        while (isdigit((unsigned char)s[i]))
            i++, digits++;
    }
    if (digits == 0)
        return 0;
    if (s[i] == 'e' || s[i] == 'E') {
        size_t j = i + 1;
        if (s[j] == '+' || s[j] == '-')
            j++;
        if (isdigit((unsigned char)s[j])) {
            while (isdigit((unsigned char)s[j]))
                j++;
            i = j;
        }
        /* else: "1e" / "1Em" / "1EFLOPS": the e starts the unit ("EFLOPS" is the only unit
         * that does, and an exponent needs a digit after the e, so "1EFLOPS" is unambiguous) */
    }
    return i;
}

#define UNITS_MAX_SI 1e18   /* of the base unit: far beyond any real cost, well inside double */
#define UNITS_MAX_FLOP 1e27 /* FLOP counts: a whole run is ~1e25; still well inside double */

static double kind_max(enum unit_kind kind)
{
    return kind == UNIT_FLOP ? UNITS_MAX_FLOP : UNITS_MAX_SI;
}

/* Kinds whose plain numbers need no unit. */
static int unitless_ok(enum unit_kind kind)
{
    return kind == UNIT_FRACTION || kind == UNIT_FLOP || kind == UNIT_NUMBER;
}

int units_parse(const char *text, enum unit_kind kind, double *out, char *why, size_t whylen)
{
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '-') {
        snprintf(why, whylen, "'%s' is negative; expected %s", text, kind_example(kind));
        return -1;
    }
    size_t span = decimal_span(p);
    /* A hex prefix parses as "0" followed by unit "x1p-3s"; name it for what it is. */
    int hex = (p[0] == '0' || (p[0] == '+' && p[1] == '0')) && span == 1u + (p[0] == '+') &&
              (p[span] == 'x' || p[span] == 'X');
    if (span == 0 || hex) {
        snprintf(why, whylen, "'%s' is not a number; expected %s", text, kind_example(kind));
        return -1;
    }
    char *end = NULL;
    errno = 0;
    double value = strtod(p, &end);
    if (end != p + span) { /* cannot happen for the grammar above; refuse rather than guess */
        snprintf(why, whylen, "'%s' is not a number; expected %s", text, kind_example(kind));
        return -1;
    }
    if (errno == ERANGE || !isfinite(value)) {
        snprintf(why, whylen, "'%s' is out of range (too large or too small for a number)", text);
        return -1;
    }
    while (isspace((unsigned char)*end)) /* "1.5 ms": a space before the unit */
        end++;
    size_t ulen = strlen(end);
    while (ulen > 0 && isspace((unsigned char)end[ulen - 1]))
        ulen--;
    if (ulen == 0 && !unitless_ok(kind)) {
        snprintf(why, whylen, "'%s' has no unit; expected %s", text, kind_example(kind));
        return -1;
    }
    for (const struct unit_suffix *u = units_for(kind); u->name; u++) {
        if (strlen(u->name) == ulen && strncmp(end, u->name, ulen) == 0) {
            double si = value * u->scale;
            if (!isfinite(si) || si > kind_max(kind)) {
                snprintf(why, whylen, "'%s' is out of range (above %s%s%s)", text,
                         kind == UNIT_FLOP ? "1e27" : "1e18", kind_base(kind)[0] ? " " : "",
                         kind_base(kind));
                return -1;
            }
            if (kind == UNIT_TIME && si > 0 && si < 0.5e-12) { /* would round to 0 */
                snprintf(why, whylen, "'%s' is below the clock's resolution of 1 ps", text);
                return -1;
            }
            *out = si;
            return 0;
        }
    }
    snprintf(why, whylen, "'%s' has unknown unit '%.*s'; expected %s", text, (int)ulen, end,
             kind_example(kind));
    return -1;
}

int units_parse_int(const char *text, long min, long max, long *out, char *why, size_t whylen)
{
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    if (!(isdigit((unsigned char)*p) ||
          ((*p == '-' || *p == '+') && isdigit((unsigned char)p[1])))) {
        snprintf(why, whylen, "'%s' is not a whole number", text);
        return -1;
    }
    char *end = NULL;
    errno = 0;
    long value = strtol(p, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    if (*end != '\0') {
        snprintf(why, whylen, "'%s' is not a whole number", text);
        return -1;
    }
    if (errno == ERANGE || value < min || value > max) {
        snprintf(why, whylen, "'%s' is out of range [%ld, %ld]", text, min, max);
        return -1;
    }
    *out = value;
    return 0;
}

int units_parse_bool(const char *text, int *out, char *why, size_t whylen)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(text, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcmp(text, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    snprintf(why, whylen, "'%s' is not a boolean (true or false; yes / no, on / off, 1 / 0)",
             text);
    return -1;
}
