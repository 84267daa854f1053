/* hardware: loading and checking hardware descriptions, and evaluating efficiency curves.
 *
 * The schema (hardware/hardware.xsd, compiled in) has fixed the structure before any value is
 * read here; this file parses each value with units_parse() and checks its range, reporting
 * file:line of the element at fault.  Invariant: a struct hardware that hw_load() returned
 * SIM_OK for satisfies every rule listed in hardware.h, so the cost model never re-checks. */
#include "hardware.h"

#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <libxml/tree.h>

#include "embedded.h"
#include "units.h"
#include "xmlload.h"

/* Indexed by enum dtype. */
static const char *const dtype_names[DT_COUNT] = {
    [DT_FP32] = "fp32", [DT_TF32] = "tf32", [DT_BF16] = "bf16",
    [DT_FP16] = "fp16", [DT_FP8] = "fp8",   [DT_NVFP4] = "nvfp4",
};

double hw_usable_hbm(const struct hw_gpu *gpu)
{
    return gpu->hbm_bytes - gpu->hbm_reserve_bytes;
}

const struct hw_curve *hw_matmul_curve(const struct hw_gpu *gpu, enum dtype dt)
{
    if (dt == DT_NVFP4 && gpu->matmul_eff_nvfp4.n > 0)
        return &gpu->matmul_eff_nvfp4;
    if ((dt == DT_FP8 || dt == DT_NVFP4) && gpu->matmul_eff_fp8.n > 0)
        return &gpu->matmul_eff_fp8;
    return &gpu->matmul_eff;
}

int hw_dtype_find(const char *name)
{
    for (int d = 0; d < DT_COUNT; d++)
        if (strcmp(dtype_names[d], name) == 0)
            return d;
    return -1;
}

const char *hw_dtype_name(enum dtype dt)
{
    if ((unsigned)dt < DT_COUNT)
        return dtype_names[dt];
    return "unknown";
}

/* ---- curves ------------------------------------------------------------------------------ */

/* Steffen needs 3 points (gsl_interp_steffen->min_size); with 2 a straight line is the only
 * sensible curve anyway. */
static const gsl_interp_type *curve_type(int n)
{
    return n >= 3 ? gsl_interp_steffen : gsl_interp_linear;
}

enum sim_status hw_curve_init(struct hw_curve *c, int n, const double *x, const double *y,
                              struct sim_error *err)
{
    memset(c, 0, sizeof *c);
    if (n < 1 || n > HW_CURVE_MAX)
        return err_set(err, SIM_EINPUT, NULL, 0, "a curve needs 1 to %d points, not %d",
                       HW_CURVE_MAX, n);
    for (int i = 0; i < n; i++) {
        if (!(x[i] > 0.0) || !isfinite(x[i]) || !isfinite(y[i]))
            return err_set(err, SIM_EINPUT, NULL, 0,
                           "curve point %d (%g, %g): x must be positive and both finite", i + 1,
                           x[i], y[i]);
        if (i > 0 && !(x[i] > x[i - 1]))
            return err_set(err, SIM_EINPUT, NULL, 0,
                           "curve point %d: x=%g is not above the previous x=%g", i + 1, x[i],
                           x[i - 1]);
    }
    c->n = n;
    for (int i = 0; i < n; i++) {
        c->x[i] = x[i];
        c->y[i] = y[i];
        c->lx[i] = log10(x[i]);
    }
    if (n == 1)
        return SIM_OK;
    /* log10 of distinct doubles can coincide only for absurdly close x (relative 1e-16). */
    for (int i = 1; i < n; i++)
        if (!(c->lx[i] > c->lx[i - 1]))
            return err_set(err, SIM_EINPUT, NULL, 0,
                           "curve points %d and %d are too close (x=%.17g, %.17g)", i, i + 1,
                           x[i - 1], x[i]);
    c->interp = gsl_interp_alloc(curve_type(n), (size_t)n);
    if (!c->interp) {
        memset(c, 0, sizeof *c);
        return err_set(err, SIM_EFAIL, NULL, 0, "out of memory building a curve");
    }
    int gst = gsl_interp_init(c->interp, c->lx, c->y, (size_t)n);
    if (gst != GSL_SUCCESS) {
        hw_curve_release(c);
        return err_set(err, SIM_EFAIL, NULL, 0, "cannot build a curve: %s", gsl_strerror(gst));
    }
    return SIM_OK;
}

void hw_curve_release(struct hw_curve *c)
{
    if (!c)
        return;
    gsl_interp_free(c->interp); /* accepts NULL */
    memset(c, 0, sizeof *c);
}

/* Straight line in log10(x) between the knots around lx; the last resort when GSL cannot
 * help (out of memory).  lx is inside [lx[0], lx[n-1]]. */
static double curve_eval_line(const double *lxs, const double *ys, int n, double lx)
{
    int i = 1;
    while (i < n - 1 && lxs[i] < lx)
        i++;
    double t = (lx - lxs[i - 1]) / (lxs[i] - lxs[i - 1]);
    return ys[i - 1] + t * (ys[i] - ys[i - 1]);
}

/* A curve filled by hand has no interpolator: build a temporary one. */
static double curve_eval_slow(const struct hw_curve *c, double lx)
{
    double lxs[HW_CURVE_MAX];
    for (int i = 0; i < c->n; i++) {
        assert(c->x[i] > 0.0 && (i == 0 || c->x[i] > c->x[i - 1]));
        lxs[i] = log10(c->x[i]);
    }
    double y;
    gsl_interp *tmp = gsl_interp_alloc(curve_type(c->n), (size_t)c->n);
    if (tmp && gsl_interp_init(tmp, lxs, c->y, (size_t)c->n) == GSL_SUCCESS &&
        gsl_interp_eval_e(tmp, lxs, c->y, lx, NULL, &y) == GSL_SUCCESS) {
        gsl_interp_free(tmp);
        return y;
    }
    gsl_interp_free(tmp);
    return curve_eval_line(lxs, c->y, c->n, lx);
}

double hw_curve_eval(const struct hw_curve *c, double x)
{
    assert(c && c->n >= 1 && c->n <= HW_CURVE_MAX);
    int n = c->n;
    if (n == 1 || !(x > c->x[0])) /* also x <= 0 and NaN */
        return c->y[0];
    if (x >= c->x[n - 1])
        return c->y[n - 1];
    double lx = log10(x);
    if (!c->interp)
        return curve_eval_slow(c, lx);
    /* x is strictly inside; keep log10's rounding from stepping outside the table. */
    if (lx < c->lx[0])
        lx = c->lx[0];
    if (lx > c->lx[n - 1])
        lx = c->lx[n - 1];
    double y;
    /* No accelerator: it would be written on every call and make sharing unsafe. */
    if (gsl_interp_eval_e(c->interp, c->lx, c->y, lx, NULL, &y) == GSL_SUCCESS)
        return y;
    return curve_eval_line(c->lx, c->y, n, lx);
}

/* ---- loading ------------------------------------------------------------------------------ */

struct loader {
    const char *path;
    struct sim_error *err;
};

static enum sim_status bad(struct loader *ld, const xmlNode *el, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum sim_status bad(struct loader *ld, const xmlNode *el, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(ld->err, SIM_EINPUT, ld->path, (int)xml_line(el), "%s", msg);
}

static int is_element(const xmlNode *el, const char *name)
{
    return strcmp((const char *)el->name, name) == 0;
}

/* How messages name an element: "node", or "matmul-efficiency point" for a curve's point. */
static const char *label(const xmlNode *el, char *buf, size_t len)
{
    if (is_element(el, "point") && el->parent && el->parent->type == XML_ELEMENT_NODE)
        snprintf(buf, len, "%s point", (const char *)el->parent->name);
    else
        snprintf(buf, len, "%s", (const char *)el->name);
    return buf;
}

/* The attribute node `attr` of el where present, for its own line (xml_line), else el. */
static const xmlNode *attr_or_element(const xmlNode *el, const char *attr)
{
    xmlAttrPtr a = xmlHasProp(el, (const xmlChar *)attr);
    return a ? (const xmlNode *)a : el;
}

/* Copy attribute `attr` of el into buf.  Returns 1 when present, 0 when absent. */
static int get_attr(const xmlNode *el, const char *attr, char *buf, size_t len)
{
    xmlChar *v = xmlGetProp(el, (const xmlChar *)attr);
    if (!v)
        return 0;
    snprintf(buf, len, "%s", (const char *)v);
    xmlFree(v);
    return 1;
}

/* Parse attribute `attr` as a quantity of `kind` into *out.  Absent: an error when required,
 * else *out is left alone.  `text` (optional) receives the attribute's text for messages. */
static enum sim_status get_quantity(struct loader *ld, const xmlNode *el, const char *attr,
                                    enum unit_kind kind, int required, double *out, char *text,
                                    size_t textlen)
{
    char buf[128], why[256], lb[96];
    if (!get_attr(el, attr, buf, sizeof buf)) {
        if (required) /* the schema makes this unreachable; keep the message anyway */
            return bad(ld, el, "<%s> lacks the %s attribute", label(el, lb, sizeof lb), attr);
        return SIM_OK;
    }
    if (text)
        snprintf(text, textlen, "%s", buf);
    if (units_parse(buf, kind, out, why, sizeof why) != 0)
        return bad(ld, attr_or_element(el, attr), "%s %s: %s", label(el, lb, sizeof lb), attr, why);
    return SIM_OK;
}

static enum sim_status get_positive(struct loader *ld, const xmlNode *el, const char *attr,
                                    enum unit_kind kind, double *out)
{
    char text[128] = "", lb[96];
    double v = 0.0;
    enum sim_status st = get_quantity(ld, el, attr, kind, 1, &v, text, sizeof text);
    if (st != SIM_OK)
        return st;
    if (!(v > 0.0))
        return bad(ld, attr_or_element(el, attr), "%s %s: '%s' must be positive",
                   label(el, lb, sizeof lb), attr, text);
    *out = v;
    return SIM_OK;
}

/* An achieved fraction of a peak: in (0, 1]. */
static enum sim_status get_efficiency(struct loader *ld, const xmlNode *el, const char *attr,
                                      double *out)
{
    char text[128] = "", lb[96];
    double v = 0.0;
    enum sim_status st = get_quantity(ld, el, attr, UNIT_FRACTION, 1, &v, text, sizeof text);
    if (st != SIM_OK)
        return st;
    if (!(v > 0.0 && v <= 1.0))
        return bad(ld, attr_or_element(el, attr),
                   "%s %s: '%s' is out of range (0, 1]: an efficiency is an achieved "
                   "fraction of the peak",
                   label(el, lb, sizeof lb), attr, text);
    *out = v;
    return SIM_OK;
}

/* An optional number of `kind` in [lo, hi], or (lo, hi] when `open_lo`; absent leaves *out
 * alone (callers set the default). */
static enum sim_status get_optional_within(struct loader *ld, const xmlNode *el, const char *attr,
                                           enum unit_kind kind, double lo, int open_lo,
                                           double hi, double *out)
{
    char text[128] = "", lb[96];
    double v = -1.0;
    enum sim_status st = get_quantity(ld, el, attr, kind, 0, &v, text, sizeof text);
    if (st != SIM_OK || v < 0.0)
        return st;
    if (v > hi || v < lo || (open_lo && v == lo))
        return bad(ld, attr_or_element(el, attr), "%s %s: '%s' is out of range %c%g, %g]",
                   label(el, lb, sizeof lb), attr, text, open_lo ? '(' : '[', lo, hi);
    *out = v;
    return SIM_OK;
}

/* An optional fraction in [0, 1]; absent leaves *out alone (callers zero it). */
static enum sim_status get_optional_fraction(struct loader *ld, const xmlNode *el, const char *attr,
                                             double *out)
{
    return get_optional_within(ld, el, attr, UNIT_FRACTION, 0.0, 0, 1.0, out);
}

#define HW_MAX_LATENCY_S 1.0 /* a link slower to answer than 1 s is a typo, not a network */

#define HW_MAX_FP8_ATTENTION_GAIN 4.0 /* fp8 attention 4x bf16's rate would be a typo */
#define HW_MAX_HOST_LAUNCH_RATIO 10.0 /* a host 10x slower per launch would be a typo */

/* An optional rate ratio in (0, HW_MAX_FP8_ATTENTION_GAIN]; absent leaves *out alone (0). */
static enum sim_status get_optional_gain(struct loader *ld, const xmlNode *el, const char *attr,
                                         double *out)
{
    return get_optional_within(ld, el, attr, UNIT_NUMBER, 0.0, 1, HW_MAX_FP8_ATTENTION_GAIN, out);
}

/* One recipe's fp8 attention rates (struct hw_fp8_attention): given whole or not at all. */
static enum sim_status get_fp8_attention(struct loader *ld, const xmlNode *el, const char *fwd_attr,
                                         const char *bwd_attr, struct hw_fp8_attention *a)
{
    enum sim_status st = get_optional_gain(ld, el, fwd_attr, &a->fwd);
    if (st == SIM_OK)
        st = get_optional_gain(ld, el, bwd_attr, &a->bwd);
    if (st == SIM_OK && (a->fwd > 0.0) != (a->bwd > 0.0))
        st = bad(ld, attr_or_element(el, fwd_attr), "gpu %s and %s: give both or neither",
                 fwd_attr, bwd_attr);
    return st;
}

static enum sim_status get_latency(struct loader *ld, const xmlNode *el, const char *attr,
                                   double *out)
{
    char text[128] = "", lb[96];
    double v = 0.0;
    enum sim_status st = get_quantity(ld, el, attr, UNIT_TIME, 1, &v, text, sizeof text);
    if (st != SIM_OK)
        return st;
    if (v > HW_MAX_LATENCY_S)
        return bad(ld, attr_or_element(el, attr), "%s %s: '%s' is out of range (above 1 s)",
                   label(el, lb, sizeof lb), attr, text);
    *out = v;
    return SIM_OK;
}

/* A name for reports: 1..cap-1 bytes (the schema counts characters, UTF-8 may be longer), no
 * control characters (names end up in CSV and trace files). */
static enum sim_status get_name(struct loader *ld, const xmlNode *el, char *dst, size_t cap)
{
    xmlChar *v = xmlGetProp(el, (const xmlChar *)"name");
    if (!v)
        return bad(ld, el, "<%s> lacks the name attribute", (const char *)el->name);
    size_t n = strlen((const char *)v);
    enum sim_status st = SIM_OK;
    if (n == 0 || n >= cap)
        st = bad(ld, el, "%s name: must be 1 to %zu bytes, not %zu", (const char *)el->name,
                 cap - 1, n);
    for (size_t i = 0; i < n && st == SIM_OK; i++)
        if (iscntrl(v[i]))
            st = bad(ld, el, "%s name: contains a control character at offset %zu",
                     (const char *)el->name, i);
    if (st == SIM_OK)
        memcpy(dst, v, n + 1);
    xmlFree(v);
    return st;
}

/* <matmul-efficiency> / <attention-efficiency>: points in strictly increasing flops. */
static enum sim_status load_curve(struct loader *ld, const xmlNode *el, struct hw_curve *c)
{
    double x[HW_CURVE_MAX], y[HW_CURVE_MAX];
    char prev_text[128] = "", text[128] = "";
    int n = 0;
    enum sim_status st;
    for (xmlNodePtr p = xml_first_element((xmlNodePtr)el); p; p = xml_next_element(p)) {
        if (n == HW_CURVE_MAX)
            return bad(ld, p, "%s: more than %d points", (const char *)el->name, HW_CURVE_MAX);
        st = get_quantity(ld, p, "flops", UNIT_FLOP, 1, &x[n], text, sizeof text);
        if (st != SIM_OK)
            return st;
        if (!(x[n] > 0.0))
            return bad(ld, p, "%s point flops: '%s' must be positive", (const char *)el->name,
                       text);
        if (n > 0 && !(x[n] > x[n - 1]))
            return bad(ld, p,
                       "%s point flops: '%s' is not above the previous point's '%s'; points "
                       "must be in strictly increasing flops",
                       (const char *)el->name, text, prev_text);
        st = get_efficiency(ld, p, "efficiency", &y[n]);
        if (st != SIM_OK)
            return st;
        memcpy(prev_text, text, sizeof text);
        n++;
    }
    if (n == 0) /* the schema requires one */
        return bad(ld, el, "%s: no <point>", (const char *)el->name);
    st = hw_curve_init(c, n, x, y, ld->err);
    if (st != SIM_OK && ld->err) { /* points passed the checks above: a near-tie or OOM */
        snprintf(ld->err->file, sizeof ld->err->file, "%s", ld->path);
        ld->err->line = (int)xml_line(el);
    }
    return st;
}

static enum sim_status load_peak(struct loader *ld, const xmlNode *el, struct hw_gpu *gpu)
{
    char name[32];
    if (!get_attr(el, "dtype", name, sizeof name))
        return bad(ld, el, "<peak> lacks the dtype attribute");
    int d = hw_dtype_find(name);
    if (d < 0)
        return bad(ld, el,
                   "peak dtype: unknown dtype '%s' (known: fp32, tf32, bf16, fp16, fp8, nvfp4)",
                   name);
    if (gpu->peak_flops[d] > 0.0)
        return bad(ld, el, "peak dtype: a second peak for %s", name);
    return get_positive(ld, el, "flops", UNIT_FLOP_RATE, &gpu->peak_flops[d]);
}

/* fp8-gemm-layouts: "tn" (the default) or "any". */
static enum sim_status get_fp8_layouts(struct loader *ld, const xmlNode *el, int *any)
{
    char buf[16];
    *any = 0;
    if (!get_attr(el, "fp8-gemm-layouts", buf, sizeof buf))
        return SIM_OK;
    if (strcmp(buf, "any") == 0)
        *any = 1;
    else if (strcmp(buf, "tn") != 0)
        return bad(ld, el, "gpu fp8-gemm-layouts: unknown '%s' (known: tn, any)", buf);
    return SIM_OK;
}

/* gpu sms: optional; 0 when absent. */
static enum sim_status get_sm_count(struct loader *ld, const xmlNode *el, int *sms)
{
    char buf[128], why[256];
    long n;
    *sms = 0;
    if (!get_attr(el, "sms", buf, sizeof buf))
        return SIM_OK;
    if (units_parse_int(buf, 1, 1L << 16, &n, why, sizeof why) != 0)
        return bad(ld, el, "gpu sms: %s", why);
    *sms = (int)n;
    return SIM_OK;
}

double hw_power_rate(const struct hw_power *p, double watts)
{
    if (!(p->rated_w > 0.0))
        return 1.0;
    return 1.0 + (p->alt_ratio - 1.0) * (watts - p->rated_w) / (p->alt_w - p->rated_w);
}

/* The board powers between the two ratings, the lower first. */
static void power_range(const struct hw_power *p, double *lo, double *hi)
{
    *lo = fmin(p->rated_w, p->alt_w);
    *hi = fmax(p->rated_w, p->alt_w);
}

int hw_power_in_range(const struct hw_power *p, double watts)
{
    double lo, hi;
    power_range(p, &lo, &hi);
    return p->rated_w > 0.0 && watts >= lo && watts <= hi;
}

/* Hold the GPU to `watts`: every peak scaled from the rate at the present cap to the rate at
 * the new one (the SMs' clock; HBM keeps its rate). */
static void power_cap_set(struct hw_gpu *gpu, double watts)
{
    const struct hw_power *p = &gpu->power;
    double scale = hw_power_rate(p, watts) / hw_power_rate(p, p->cap_w);
    for (int d = 0; d < DT_COUNT; d++)
        gpu->peak_flops[d] *= scale;
    gpu->power.cap_w = watts;
}

/* The <gpu>'s power ratings and cap (struct hw_power): the three ratings together or none; a
 * cap only inside the rated range, since the rate is interpolated between two datasheet
 * ratings and never extrapolated.  Read after the peaks, which a cap scales. */
#define HW_MAX_POWER_RATIO 4.0
static enum sim_status load_power(struct loader *ld, const xmlNode *el, struct hw_gpu *gpu)
{
    struct hw_power *p = &gpu->power, given = {.cap_w = -1.0}; /* -1: no power-cap given */
    char text[128] = "";
    enum sim_status st =
        get_quantity(ld, el, "rated-power", UNIT_POWER, 0, &given.rated_w, NULL, 0);
    if (st == SIM_OK)
        st = get_quantity(ld, el, "alt-rated-power", UNIT_POWER, 0, &given.alt_w, NULL, 0);
    if (st == SIM_OK)
        st = get_quantity(ld, el, "alt-rated-ratio", UNIT_NUMBER, 0, &given.alt_ratio, NULL, 0);
    if (st == SIM_OK)
        st = get_quantity(ld, el, "power-cap", UNIT_POWER, 0, &given.cap_w, text, sizeof text);
    if (st != SIM_OK)
        return st;
    int ratings = (given.rated_w > 0.0) + (given.alt_w > 0.0) + (given.alt_ratio > 0.0);
    if (ratings == 0 && given.cap_w < 0.0)
        return SIM_OK;
    if (ratings != 3 || given.rated_w == given.alt_w)
        return bad(ld, el, "gpu power: rated-power, alt-rated-power and alt-rated-ratio go "
                           "together (two datasheet ratings of the die at two board powers)");
    if (!(given.alt_ratio <= HW_MAX_POWER_RATIO))
        return bad(ld, el, "gpu alt-rated-ratio: out of range (0, 4]");
    *p = given;
    p->cap_w = p->rated_w;
    if (given.cap_w < 0.0)
        return SIM_OK;
    double lo, hi;
    power_range(p, &lo, &hi);
    if (!hw_power_in_range(p, given.cap_w))
        return bad(ld, el,
                   "gpu power-cap: '%s' is outside the rated range (%g W to %g W): the rate is "
                   "interpolated between the two ratings, not extrapolated",
                   text, lo, hi);
    power_cap_set(gpu, given.cap_w);
    return SIM_OK;
}

/* An optional amount of HBM set aside (hbm-reserve, nccl-buffers): 0 when absent, and below
 * the capacity `hbm` when given. */
static enum sim_status get_hbm_share(struct loader *ld, const xmlNode *el, const char *name,
                                     double hbm, double *out)
{
    char text[128] = "";
    enum sim_status st = get_quantity(ld, el, name, UNIT_BYTES, 0, out, text, sizeof text);
    if (st == SIM_OK && !(*out < hbm))
        st = bad(ld, el, "gpu %s: '%s' is not below the HBM capacity", name, text);
    return st;
}

/* The GPU's memory: its size and bandwidth, what streaming kernels reach of it, and what is
 * reserved beside a layout's own bytes. */
static enum sim_status load_gpu_memory(struct loader *ld, const xmlNode *el, struct hw_gpu *gpu)
{
    enum sim_status st = get_positive(ld, el, "hbm", UNIT_BYTES, &gpu->hbm_bytes);
    if (st == SIM_OK)
        st = get_positive(ld, el, "hbm-bandwidth", UNIT_BANDWIDTH, &gpu->hbm_bw_Bps);
    if (st == SIM_OK)
        st = get_efficiency(ld, el, "memory-efficiency", &gpu->mem_eff);
    if (st == SIM_OK)
        st = get_hbm_share(ld, el, "hbm-reserve", gpu->hbm_bytes, &gpu->hbm_reserve_bytes);
    if (st == SIM_OK)
        st = get_hbm_share(ld, el, "nccl-buffers", gpu->hbm_bytes, &gpu->nccl_buffers_bytes);
    return st;
}

/* What a kernel launch costs: the GPU's gap between kernels, and the host's pace beside it. */
static enum sim_status load_gpu_launch(struct loader *ld, const xmlNode *el, struct hw_gpu *gpu)
{
    char text[128] = "", lb[96];
    enum sim_status st = get_quantity(ld, el, "kernel-overhead", UNIT_TIME, 0,
                                      &gpu->kernel_overhead_s, text, sizeof text);
    if (st == SIM_OK && gpu->kernel_overhead_s > 1e-3)
        st = bad(ld, el, "%s kernel-overhead: '%s' is out of range (above 1 ms)",
                 label(el, lb, sizeof lb), text);
    gpu->host_launch_ratio = 1.0;
    if (st == SIM_OK)
        st = get_optional_within(ld, el, "host-launch-ratio", UNIT_NUMBER, 0.0, 1,
                                 HW_MAX_HOST_LAUNCH_RATIO, &gpu->host_launch_ratio);
    return st;
}

/* An optional ratio above 0 into *out (left as it is when absent). */
static enum sim_status get_optional_positive_share(struct loader *ld, const xmlNode *el,
                                                   const char *name, const char *why_absent,
                                                   double *out)
{
    double v = -1.0;
    enum sim_status st = get_optional_fraction(ld, el, name, &v);
    if (st == SIM_OK && v == 0.0)
        return bad(ld, el, "gpu %s: must be above 0%s", name, why_absent);
    if (st == SIM_OK && v > 0.0)
        *out = v;
    return st;
}

/* The attention kernels' rates beside the curve: FlashAttention-2's share (absent: no such
 * rate), the backward's ratio (and latent attention's), fp8 and MXFP8 attention's gains. */
static enum sim_status load_gpu_attention(struct loader *ld, const xmlNode *el,
                                          struct hw_gpu *gpu)
{
    enum sim_status st = get_optional_positive_share(
        ld, el, "fa2-attention-share", " (leave it out when the rate is unknown)",
        &gpu->fa2_attention_share);
    gpu->attention_step_share = 1.0;
    if (st == SIM_OK)
        st = get_optional_positive_share(ld, el, "attention-step-share", "",
                                         &gpu->attention_step_share);
    gpu->attn_bwd_ratio = HW_ATTN_BWD_RATIO;
    if (st == SIM_OK)
        st = get_optional_fraction(ld, el, "attention-backward-ratio", &gpu->attn_bwd_ratio);
    if (st == SIM_OK && !(gpu->attn_bwd_ratio > 0.0))
        st = bad(ld, el, "gpu attention-backward-ratio: must be above 0");
    if (st == SIM_OK)
        st = get_optional_positive_share(ld, el, "mla-attention-backward-ratio", "",
                                         &gpu->mla_attn_bwd_ratio);
    if (st == SIM_OK)
        st = get_fp8_attention(ld, el, "fp8-attention-gain", "fp8-attention-backward-gain",
                               &gpu->fp8_attn);
    if (st == SIM_OK)
        st = get_fp8_attention(ld, el, "mxfp8-attention-gain", "mxfp8-attention-backward-gain",
                               &gpu->mxfp8_attn);
    return st;
}

/* The <gpu> element's children: peaks per dtype and the efficiency curves. */
static enum sim_status load_gpu_rates(struct loader *ld, const xmlNode *el, struct hw_gpu *gpu)
{
    enum sim_status st = SIM_OK;
    for (xmlNodePtr c = xml_first_element((xmlNodePtr)el); c && st == SIM_OK;
         c = xml_next_element(c)) {
        if (is_element(c, "peak"))
            st = load_peak(ld, c, gpu);
        else if (is_element(c, "matmul-efficiency"))
            st = load_curve(ld, c, &gpu->matmul_eff);
        else if (is_element(c, "fp8-matmul-efficiency"))
            st = load_curve(ld, c, &gpu->matmul_eff_fp8);
        else if (is_element(c, "nvfp4-matmul-efficiency"))
            st = load_curve(ld, c, &gpu->matmul_eff_nvfp4);
        else if (is_element(c, "attention-efficiency"))
            st = load_curve(ld, c, &gpu->attn_eff);
    }
    if (st == SIM_OK && !(gpu->peak_flops[DT_BF16] > 0.0))
        st = bad(ld, el,
                 "gpu '%s' has no bf16 peak: add <peak dtype=\"bf16\" flops=\"...\"/> (dense)",
                 gpu->name);
    return st;
}

static enum sim_status load_gpu(struct loader *ld, const xmlNode *el, struct hw_gpu *gpu)
{
    enum sim_status st = get_name(ld, el, gpu->name, sizeof gpu->name);
    if (st == SIM_OK)
        st = load_gpu_memory(ld, el, gpu);
    if (st == SIM_OK)
        st = get_optional_fraction(ld, el, "overlap-interference", &gpu->overlap_interference);
    gpu->training_eff = 1.0;
    if (st == SIM_OK)
        st = get_optional_fraction(ld, el, "training-efficiency", &gpu->training_eff);
    if (st == SIM_OK && !(gpu->training_eff > 0.0))
        st = bad(ld, el, "gpu training-efficiency: must be above 0");
    if (st == SIM_OK)
        st = load_gpu_launch(ld, el, gpu);
    if (st == SIM_OK)
        st = get_fp8_layouts(ld, el, &gpu->fp8_any_layout);
    gpu->fp8_block_gemm_gain = 1.0;
    if (st == SIM_OK)
        st = get_optional_positive_share(ld, el, "fp8-block-gemm-gain", "",
                                         &gpu->fp8_block_gemm_gain);
    if (st == SIM_OK)
        st = get_sm_count(ld, el, &gpu->sms);
    if (st == SIM_OK)
        st = load_gpu_attention(ld, el, gpu);
    if (st == SIM_OK)
        st = load_gpu_rates(ld, el, gpu);
    if (st == SIM_OK)
        st = load_power(ld, el, gpu);
    return st;
}

static const char *const coll_op_names[HW_COLL_OPS] = {
    [HW_ALL_REDUCE] = "all-reduce",
    [HW_REDUCE_SCATTER] = "reduce-scatter",
    [HW_ALL_GATHER] = "all-gather",
    [HW_ALL_TO_ALL] = "all-to-all",
    [HW_EP_DISPATCH] = "ep-dispatch",
    [HW_EP_COMBINE] = "ep-combine",
};

/* <collective op gpus bus-bandwidth overhead/> inside <node>: one measured collective over
 * 2..node gpus GPUs, each (op, gpus) once. */
static enum sim_status load_collective(struct loader *ld, const xmlNode *el, struct hw_node *node)
{
    char buf[128], why[256];
    struct hw_coll_fit f = {.op = HW_COLL_OPS};
    if (!get_attr(el, "op", buf, sizeof buf))
        return bad(ld, el, "<collective> lacks the op attribute");
    for (int i = 0; i < HW_COLL_OPS; i++)
        if (strcmp(buf, coll_op_names[i]) == 0)
            f.op = (enum hw_coll_op)i;
    if (f.op == HW_COLL_OPS)
        return bad(ld, el,
                   "collective op: '%s' is not all-reduce, reduce-scatter, all-gather, "
                   "all-to-all, ep-dispatch or ep-combine",
                   buf);
    long gpus;
    if (!get_attr(el, "gpus", buf, sizeof buf))
        return bad(ld, el, "<collective> lacks the gpus attribute");
    if (units_parse_int(buf, 2, node->gpus, &gpus, why, sizeof why) != 0)
        return bad(ld, el, "collective gpus: %s (a group of 2 to the node's %d GPUs)", why,
                   node->gpus);
    f.gpus = (int)gpus;
    if (hw_node_coll_fit(node, f.op, f.gpus))
        return bad(ld, el, "collective %s over %d GPUs: given twice", coll_op_names[f.op],
                   f.gpus);
    if (node->n_coll_fits == HW_COLL_FITS_MAX)
        return bad(ld, el, "node: more than %d <collective> elements", HW_COLL_FITS_MAX);
    enum sim_status st = get_positive(ld, el, "bus-bandwidth", UNIT_BANDWIDTH, &f.bus_bw_Bps);
    if (st == SIM_OK)
        st = get_latency(ld, el, "overhead", &f.overhead_s);
    if (st == SIM_OK)
        node->coll_fits[node->n_coll_fits++] = f;
    return st;
}

const struct hw_coll_fit *hw_node_coll_fit(const struct hw_node *node, enum hw_coll_op op,
                                           int gpus)
{
    for (int i = 0; i < node->n_coll_fits; i++)
        if (node->coll_fits[i].op == op && node->coll_fits[i].gpus == gpus)
            return &node->coll_fits[i];
    return NULL;
}

const struct hw_coll_fit *hw_node_coll_fit_upto(const struct hw_node *node, enum hw_coll_op op,
                                                int gpus)
{
    const struct hw_coll_fit *best = NULL;
    for (int i = 0; i < node->n_coll_fits; i++) {
        const struct hw_coll_fit *f = &node->coll_fits[i];
        if (f->op == op && f->gpus <= gpus && (!best || f->gpus > best->gpus))
            best = f;
    }
    return best;
}

/* flex-dispatchers="deepep hybridep" (blank- or comma-separated; "none"): the flex MoE
 * dispatcher's backends that run on the system; both when absent. */
static enum sim_status get_flex_dispatchers(struct loader *ld, const xmlNode *el,
                                            unsigned *out)
{
    char buf[128];
    *out = HW_FLEX_DEEPEP | HW_FLEX_HYBRIDEP;
    if (!get_attr(el, "flex-dispatchers", buf, sizeof buf))
        return SIM_OK;
    *out = 0;
    int none = 0;
    char *save = NULL;
    for (char *w = strtok_r(buf, " ,", &save); w; w = strtok_r(NULL, " ,", &save)) {
        if (strcmp(w, "deepep") == 0)
            *out |= HW_FLEX_DEEPEP;
        else if (strcmp(w, "hybridep") == 0)
            *out |= HW_FLEX_HYBRIDEP;
        else if (strcmp(w, "none") == 0)
            none = 1;
        else
            return bad(ld, el, "node flex-dispatchers: '%.40s' is not deepep, hybridep or none",
                       w);
    }
    if (none && *out)
        return bad(ld, el, "node flex-dispatchers: 'none' with a backend");
    if (!none && !*out)
        return bad(ld, el, "node flex-dispatchers: name deepep, hybridep or none");
    return SIM_OK;
}

static enum sim_status load_node(struct loader *ld, const xmlNode *el, struct hw_node *node)
{
    char buf[128], why[256];
    long gpus;
    if (!get_attr(el, "gpus", buf, sizeof buf))
        return bad(ld, el, "<node> lacks the gpus attribute");
    if (units_parse_int(buf, 1, 1L << 20, &gpus, why, sizeof why) != 0)
        return bad(ld, el, "node gpus: %s", why);
    node->gpus = (int)gpus;
    enum sim_status st =
        get_positive(ld, el, "nvlink-bandwidth", UNIT_BANDWIDTH, &node->nvlink_bw_Bps);
    if (st == SIM_OK)
        st = get_latency(ld, el, "nvlink-latency", &node->nvlink_lat_s);
    if (st == SIM_OK) /* optional: 0 = not given */
        st = get_quantity(ld, el, "collective-latency", UNIT_TIME, 0, &node->coll_base_s, NULL,
                          0);
    if (st == SIM_OK)
        st = get_efficiency(ld, el, "nvlink-efficiency", &node->nvlink_eff);
    if (st == SIM_OK) /* optional: 0 = not given */
        st = get_quantity(ld, el, "host-bandwidth", UNIT_BANDWIDTH, 0, &node->host_bw_Bps, NULL,
                          0);
    if (st == SIM_OK)
        st = get_quantity(ld, el, "host-memory-bandwidth", UNIT_BANDWIDTH, 0,
                          &node->host_mem_bw_Bps, NULL, 0);
    if (st == SIM_OK) /* optional: 0 = not given */
        st = get_quantity(ld, el, "host-memory", UNIT_BYTES, 0, &node->host_mem_B, NULL, 0);
    if (st == SIM_OK)
        st = get_quantity(ld, el, "peer-bandwidth", UNIT_BANDWIDTH, 0, &node->peer_bw_Bps, NULL,
                          0);
    if (st == SIM_OK)
        st = get_flex_dispatchers(ld, el, &node->flex_dispatchers);
    if (st == SIM_OK && node->peer_bw_Bps > node->nvlink_bw_Bps)
        st = bad(ld, el,
                 "node peer-bandwidth (one link to one other GPU) exceeds nvlink-bandwidth "
                 "(all of a GPU's links)");
    for (xmlNodePtr c = xml_first_element((xmlNodePtr)el); c && st == SIM_OK;
         c = xml_next_element(c))
        if (is_element(c, "collective"))
            st = load_collective(ld, c, node);
    return st;
}

#define HW_MAX_OVERSUBSCRIPTION 1000.0

static enum sim_status load_network(struct loader *ld, const xmlNode *el, struct hw_network *net)
{
    char buf[64], text[128] = "";
    enum sim_status st = get_positive(ld, el, "nic-bandwidth", UNIT_BANDWIDTH, &net->nic_bw_Bps);
    if (st == SIM_OK)
        st = get_latency(ld, el, "latency", &net->lat_s);
    if (st == SIM_OK)
        st = get_efficiency(ld, el, "efficiency", &net->eff);
    if (st != SIM_OK)
        return st;
    if (!get_attr(el, "topology", buf, sizeof buf))
        return bad(ld, el, "<network> lacks the topology attribute");
    if (strcmp(buf, "fat-tree") == 0)
        net->topology = NET_FAT_TREE;
    else if (strcmp(buf, "rail-optimized") == 0)
        net->topology = NET_RAIL_OPTIMIZED;
    else
        return bad(ld, el, "network topology: unknown '%s' (known: fat-tree, rail-optimized)", buf);
    net->oversubscription = 1.0;
    st = get_quantity(ld, el, "oversubscription", UNIT_NUMBER, 0, &net->oversubscription, text,
                      sizeof text);
    if (st == SIM_OK &&
        !(net->oversubscription >= 1.0 && net->oversubscription <= HW_MAX_OVERSUBSCRIPTION))
        st = bad(ld, el,
                 "network oversubscription: '%s' is out of range [1, 1000] (downlink "
                 "to uplink bandwidth ratio)",
                 text);
    return st;
}

static enum sim_status load_price(struct loader *ld, const xmlNode *el, struct hardware *hw)
{
    enum sim_status st =
        get_quantity(ld, el, "per-gpu-hour", UNIT_NUMBER, 1, &hw->price_gpu_hour, NULL, 0);
    if (st != SIM_OK)
        return st;
    if (!get_attr(el, "currency", hw->currency, sizeof hw->currency))
        return bad(ld, el, "<price> lacks the currency attribute");
    return SIM_OK;
}

enum sim_status hw_load(struct hardware *hw, const char *path, struct sim_error *err)
{
    memset(hw, 0, sizeof *hw);
    hw->net.oversubscription = 1.0;
    xmlDocPtr doc = NULL;
    enum sim_status st = xml_load(path, "hardware", hardware_xsd, &doc, err);
    if (st != SIM_OK)
        return st;
    struct loader ld = {path, err};
    xmlNodePtr root = xmlDocGetRootElement(doc);
    st = get_name(&ld, root, hw->name, sizeof hw->name);
    for (xmlNodePtr el = xml_first_element(root); el && st == SIM_OK; el = xml_next_element(el)) {
        if (is_element(el, "gpu"))
            st = load_gpu(&ld, el, &hw->gpu);
        else if (is_element(el, "node"))
            st = load_node(&ld, el, &hw->node);
        else if (is_element(el, "network"))
            st = load_network(&ld, el, &hw->net);
        else if (is_element(el, "price"))
            st = load_price(&ld, el, hw);
    }
    xmlFreeDoc(doc);
    if (st != SIM_OK)
        hw_release(hw);
    return st;
}

void hw_release(struct hardware *hw)
{
    if (!hw)
        return;
    hw_curve_release(&hw->gpu.matmul_eff);
    hw_curve_release(&hw->gpu.attn_eff);
    hw_curve_release(&hw->gpu.matmul_eff_fp8);
    hw_curve_release(&hw->gpu.matmul_eff_nvfp4);
    memset(hw, 0, sizeof *hw);
}

/* ---- knobs -------------------------------------------------------------------------------- */

/* The scalar attributes a scenario may override; each is parsed with its unit kind and must
 * satisfy the range the loader enforces (positive, or a fraction in (0, 1], or >= 1). */
enum knob_range { KR_POSITIVE, KR_NONNEG, KR_FRACTION, KR_ATLEAST1 };

struct hw_knob {
    const char *name;
    enum unit_kind unit;
    enum knob_range range;
    const char *element; /* the file's element whose attribute it is */
    size_t offset;       /* of the double in struct hardware */
};

#define HWF(f) offsetof(struct hardware, f)
static const struct hw_knob knobs[] = {
    {"hbm", UNIT_BYTES, KR_POSITIVE, "gpu", HWF(gpu.hbm_bytes)},
    {"hbm-bandwidth", UNIT_BANDWIDTH, KR_POSITIVE, "gpu", HWF(gpu.hbm_bw_Bps)},
    {"memory-efficiency", UNIT_FRACTION, KR_FRACTION, "gpu", HWF(gpu.mem_eff)},
    {"training-efficiency", UNIT_FRACTION, KR_FRACTION, "gpu", HWF(gpu.training_eff)},
    {"attention-step-share", UNIT_FRACTION, KR_FRACTION, "gpu", HWF(gpu.attention_step_share)},
    {"kernel-overhead", UNIT_TIME, KR_NONNEG, "gpu", HWF(gpu.kernel_overhead_s)},
    {"host-launch-ratio", UNIT_NUMBER, KR_POSITIVE, "gpu", HWF(gpu.host_launch_ratio)},
    {"overlap-interference", UNIT_FRACTION, KR_NONNEG, "gpu", HWF(gpu.overlap_interference)},
    {"hbm-reserve", UNIT_BYTES, KR_NONNEG, "gpu", HWF(gpu.hbm_reserve_bytes)},
    {"nccl-buffers", UNIT_BYTES, KR_NONNEG, "gpu", HWF(gpu.nccl_buffers_bytes)},
    {"power-cap", UNIT_POWER, KR_POSITIVE, "gpu", HWF(gpu.power.cap_w)},
    {"nvlink-bandwidth", UNIT_BANDWIDTH, KR_POSITIVE, "node", HWF(node.nvlink_bw_Bps)},
    {"nvlink-latency", UNIT_TIME, KR_NONNEG, "node", HWF(node.nvlink_lat_s)},
    {"collective-latency", UNIT_TIME, KR_NONNEG, "node", HWF(node.coll_base_s)},
    {"nvlink-efficiency", UNIT_FRACTION, KR_FRACTION, "node", HWF(node.nvlink_eff)},
    {"host-bandwidth", UNIT_BANDWIDTH, KR_POSITIVE, "node", HWF(node.host_bw_Bps)},
    {"host-memory-bandwidth", UNIT_BANDWIDTH, KR_POSITIVE, "node", HWF(node.host_mem_bw_Bps)},
    {"host-memory", UNIT_BYTES, KR_NONNEG, "node", HWF(node.host_mem_B)},
    {"peer-bandwidth", UNIT_BANDWIDTH, KR_NONNEG, "node", HWF(node.peer_bw_Bps)},
    {"nic-bandwidth", UNIT_BANDWIDTH, KR_POSITIVE, "network", HWF(net.nic_bw_Bps)},
    {"latency", UNIT_TIME, KR_NONNEG, "network", HWF(net.lat_s)},
    {"efficiency", UNIT_FRACTION, KR_FRACTION, "network", HWF(net.eff)},
    {"oversubscription", UNIT_NUMBER, KR_ATLEAST1, "network", HWF(net.oversubscription)},
};
#undef HWF
#define NKNOBS (sizeof knobs / sizeof knobs[0])

static const struct hw_knob *knob_find(const char *name)
{
    for (size_t i = 0; i < NKNOBS; i++)
        if (strcmp(knobs[i].name, name) == 0)
            return &knobs[i];
    return NULL;
}

int hw_knob_known(const char *name)
{
    return knob_find(name) != NULL;
}

void hw_knob_list(char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NKNOBS && n < len; i++) {
        int w = snprintf(buf + n, len - n, "%s%s", i ? ", " : "", knobs[i].name);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

/* What a knob's value is, by its unit and the range the loader enforces. */
static const char *knob_value_text(const struct hw_knob *k)
{
    switch (k->unit) {
    case UNIT_BYTES: return k->range == KR_POSITIVE ? "size > 0, e.g. 80GiB" : "size, e.g. 3GiB";
    case UNIT_BANDWIDTH:
        return k->range == KR_POSITIVE ? "bandwidth > 0, e.g. 450GB/s"
                                       : "bandwidth, e.g. 450GB/s (0: none)";
    case UNIT_TIME: return "time, e.g. 3us";
    case UNIT_POWER: return "board power > 0, e.g. 500W";
    case UNIT_FRACTION:
        return k->range == KR_FRACTION ? "fraction in (0, 1], e.g. 0.9 or 90%"
                                       : "fraction >= 0, e.g. 0.1 or 10%";
    default: return k->range == KR_ATLEAST1 ? "number >= 1" : "number > 0";
    }
}

int hw_knob_describe(const char *name, const char **element, const char **value)
{
    const struct hw_knob *k = knob_find(name);
    if (!k)
        return -1;
    *element = k->element;
    *value = knob_value_text(k);
    return 0;
}

int hw_knob_number(const char *name, const char *value, double *v)
{
    const struct hw_knob *k = knob_find(name);
    char why[128];
    return k && units_parse(value, k->unit, v, why, sizeof why) == 0;
}

int hw_knob_set(struct hardware *hw, const char *name, const char *value, char *why, size_t len)
{
    const struct hw_knob *k = knob_find(name);
    double v;
    if (!k) {
        char known[HW_KNOB_LIST_MAX];
        hw_knob_list(known, sizeof known);
        snprintf(why, len, "unknown hardware knob '%.40s' (known: %s)", name, known);
        return -1;
    }
    if (units_parse(value, k->unit, &v, why, len) != 0)
        return -1;
    int ok = k->range == KR_POSITIVE   ? v > 0
             : k->range == KR_NONNEG   ? v >= 0
             : k->range == KR_FRACTION ? v > 0 && v <= 1
                                       : v >= 1 && v <= HW_MAX_OVERSUBSCRIPTION;
    if (!ok || !isfinite(v)) {
        snprintf(why, len, "'%.40s' is out of range for %s", value, name);
        return -1;
    }
    int reserved = k->offset == offsetof(struct hardware, gpu.hbm_reserve_bytes) ||
                   k->offset == offsetof(struct hardware, gpu.nccl_buffers_bytes);
    if (reserved && !(v < hw->gpu.hbm_bytes)) {
        snprintf(why, len, "'%.40s' is not below the HBM capacity", value);
        return -1;
    }
    if (k->offset == offsetof(struct hardware, gpu.power.cap_w)) {
        if (!(hw->gpu.power.rated_w > 0.0)) {
            snprintf(why, len, "the hardware file gives no power ratings (rated-power, "
                               "alt-rated-power, alt-rated-ratio) to interpolate between");
            return -1;
        }
        double lo, hi;
        power_range(&hw->gpu.power, &lo, &hi);
        if (!hw_power_in_range(&hw->gpu.power, v)) {
            snprintf(why, len, "'%.40s' is outside the rated range, %g W to %g W", value, lo, hi);
            return -1;
        }
        power_cap_set(&hw->gpu, v);
        return 0;
    }
    double *field = (double *)(void *)((char *)hw + k->offset);
    /* A collective the file gives as measured (hw_coll_fit) runs on the same links: a what-if
     * NVLink bandwidth or efficiency scales its bus bandwidth alike (its overhead stays). */
    if (field == &hw->node.nvlink_bw_Bps || field == &hw->node.nvlink_eff)
        for (int i = 0; i < hw->node.n_coll_fits; i++)
            hw->node.coll_fits[i].bus_bw_Bps *= v / *field;
    *field = v;
    return 0;
}
