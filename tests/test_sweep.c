/* test_sweep: --vary list and range parsing, the product's order and size, and the sweep
 * command end to end -- CSV independent of the thread count, an invalid config reported as its
 * own row, and a modelled sweep with plausible figures. */
#include <criterion/criterion.h>
#include <gsl/gsl_errno.h>
#include <libxml/parser.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "scenario.h"
#include "sweep.h"

#define UNIT TOP_SRCDIR "/scenarios/unit.xml"
#define LLAMA TOP_SRCDIR "/scenarios/llama3.1-70b-h100.xml"
#define QWEN_GUIDE TOP_SRCDIR "/scenarios/moe-guide/qwen3-235b-a22b.xml"

static void setup(void)
{
    gsl_set_error_handler_off(); /* as main does */
    xmlInitParser();
}

/* Parse `arg`, expecting success; the caller releases. */
static void parse_ok(struct sweep_axis *ax, const char *arg)
{
    struct sim_error err;
    err_clear(&err);
    cr_assert_eq(sweep_axis_parse(ax, arg, &err), SIM_OK, "%s: %s", arg, err.msg);
}

/* Parse `arg`, expecting an input error whose message holds `fragment`. */
static void parse_bad(const char *arg, const char *fragment)
{
    struct sweep_axis ax;
    struct sim_error err;
    err_clear(&err);
    cr_assert_eq(sweep_axis_parse(&ax, arg, &err), SIM_EINPUT, "%s was accepted", arg);
    cr_assert(strstr(err.msg, fragment), "%s: message '%s' lacks '%s'", arg, err.msg, fragment);
}

static void expect_values(const struct sweep_axis *ax, const char *const *want, int n)
{
    cr_assert_eq(ax->nvalues, n, "got %d values, want %d", ax->nvalues, n);
    for (int i = 0; i < n; i++)
        cr_assert_str_eq(ax->values[i], want[i], "value %d", i);
}

Test(sweep_axis, comma_list_keeps_texts, .init = setup)
{
    struct sweep_axis ax;
    parse_ok(&ax, "schedule=1f1b,gpipe,interleaved");
    cr_assert_eq(ax.nkeys, 1);
    cr_assert_eq(ax.keys[0], SCN_SCHEDULE);
    cr_assert_str_eq(ax.name, "schedule");
    expect_values(&ax, (const char *const[]){"1f1b", "gpipe", "interleaved"}, 3);
    cr_assert_eq(ax.geometric, 0);
    sweep_axis_release(&ax);
    parse_ok(&ax, "forward=1ms");
    expect_values(&ax, (const char *const[]){"1ms"}, 1);
    sweep_axis_release(&ax);
}

/* Blanks around a value, as typed in "pp=1, 2, 4", are not part of it: a number had read past
 * them but kept them in the CSV (' 2'), and a name had not (' interleaved' was unknown). */
Test(sweep_axis, blanks_around_values_are_dropped, .init = setup)
{
    struct sweep_axis ax;
    parse_ok(&ax, "pp=2, 4 ,\t8");
    expect_values(&ax, (const char *const[]){"2", "4", "8"}, 3);
    sweep_axis_release(&ax);
    parse_ok(&ax, "schedule=1f1b, interleaved");
    expect_values(&ax, (const char *const[]){"1f1b", "interleaved"}, 2);
    sweep_axis_release(&ax);
    parse_ok(&ax, "schedule,vp=1f1b:1, interleaved : 4");
    cr_assert_eq(ax.nvalues, 2);
    cr_expect_str_eq(ax.fields[2], "interleaved");
    cr_expect_str_eq(ax.fields[3], "4");
    sweep_axis_release(&ax);
    parse_bad("pp=1, ,2", "empty value");
    parse_bad("pp=2, 2", "'2' is listed twice");
}

Test(sweep_axis, geometric_and_arithmetic_ranges, .init = setup)
{
    struct sweep_axis ax;
    parse_ok(&ax, "microbatches=8:128:x2");
    expect_values(&ax, (const char *const[]){"8", "16", "32", "64", "128"}, 5);
    cr_assert_eq(ax.geometric, 1);
    sweep_axis_release(&ax);
    parse_ok(&ax, "pp=1:100:x4"); /* stops at the last value <= the end */
    expect_values(&ax, (const char *const[]){"1", "4", "16", "64"}, 4);
    sweep_axis_release(&ax);
    parse_ok(&ax, "layers=1:16:+1");
    cr_assert_eq(ax.nvalues, 16);
    cr_assert_str_eq(ax.values[0], "1");
    cr_assert_str_eq(ax.values[15], "16");
    sweep_axis_release(&ax);
    parse_ok(&ax, "seq=2:9:+3");
    expect_values(&ax, (const char *const[]){"2", "5", "8"}, 3);
    sweep_axis_release(&ax);
    parse_ok(&ax, "pp=4:4:x2"); /* one value */
    expect_values(&ax, (const char *const[]){"4"}, 1);
    sweep_axis_release(&ax);
}

Test(sweep_axis, bad_syntax_and_empty_ranges_rejected, .init = setup)
{
    parse_bad("pp", "expected KEY=LIST");
    parse_bad("=1,2", "expected KEY=LIST");
    /* as --set says it, with where the keys are listed: --vary had said only the name */
    parse_bad("nosuchkey=1,2", "--vary: unknown key 'nosuchkey' ('stepsim keys' lists the");
    parse_bad("pp=", "empty list");
    parse_bad("pp=1,,2", "empty value");
    parse_bad("pp=1,2,", "empty value");
    parse_bad("pp=1:8", "bad range");
    parse_bad("pp=1:8:*2", "bad range");
    parse_bad("pp=1:8:x", "bad range");
    parse_bad("pp=a:8:x2", "bad range");
    parse_bad("pp=1:8:x2:3", "bad range");
    parse_bad("pp=1:8:x1", "factor must be at least 2");
    parse_bad("pp=0:8:x2", "must start at 1");
    parse_bad("pp=1:8:+0", "step must be at least 1");
    parse_bad("pp=8:1:x2", "empty range");
    parse_bad("pp=16:1:+1", "empty range");
    parse_bad("pp=1:1000000000:+1", "more than");
    /* Numbers no key takes; their product once overflowed a long long (UBSan). */
    parse_bad("seed=1:999999999999999999:x999999999999999999", "above 2147483647");
    parse_bad("seed=2147483647:2147483648:+1", "above 2147483647");
    parse_bad("pp=1:8:+99999999999", "above 2147483647");
}

/* One setting in two spellings is one config twice, as a value listed twice is: refused,
 * naming both (the chart had drawn them at one x, the CSV run them twice).  Values that only
 * look alike, or set different things, stay. */
Test(sweep_axis, one_value_in_two_spellings_is_listed_twice, .init = setup)
{
    parse_bad("hw.nic-bandwidth=400Gb/s,25GB/s,50GB/s",
              "--vary hw.nic-bandwidth=400Gb/s,25GB/s,50GB/s: '400Gb/s' and '50GB/s' are one "
              "value, listed twice");
    parse_bad("link-bandwidth=1GBps,8Gbps", "'1GBps' and '8Gbps' are one value");
    parse_bad("hw.hbm=1.1GB,1100MB", "'1.1GB' and '1100MB' are one value");
    parse_bad("forward=1ms,1000us", "'1ms' and '1000us' are one value");
    parse_bad("jitter=5%,0.05", "'5%' and '0.05' are one value");
    parse_bad("pp=4,2,04", "'4' and '04' are one value");
    parse_bad("recompute-modules=core_attn+mlp,mlp+core_attn", "are one value");
    parse_bad("schedule,vp=1f1b:1,1f1b:01", "'1f1b:1' and '1f1b:01' are one value");
    parse_bad("pp=1,2,1", "'1' is listed twice");
    struct sweep_axis ax;
    parse_ok(&ax, "hw.nic-bandwidth=400Gb/s,400GB/s,4e10B/s");
    sweep_axis_release(&ax);
    parse_ok(&ax, "schedule,vp=1f1b:1,interleaved:1");
    sweep_axis_release(&ax);
}

/* "KEY1,KEY2=A1:B1,A2:B2": keys varied together; the comma before '=' is what links them, so
 * colons are fields there and ranges elsewhere. */
Test(sweep_axis, linked_keys_take_tuples, .init = setup)
{
    struct sweep_axis ax;
    parse_ok(&ax, "schedule,vp=1f1b:1,interleaved:4,zb-v:2");
    cr_assert_eq(ax.nkeys, 2);
    cr_assert_eq(ax.keys[0], SCN_SCHEDULE);
    cr_assert_eq(ax.keys[1], SCN_VP);
    cr_assert_str_eq(ax.name, "schedule,vp");
    expect_values(&ax, (const char *const[]){"1f1b:1", "interleaved:4", "zb-v:2"}, 3);
    static const char *const fields[] = {"1f1b", "1", "interleaved", "4", "zb-v", "2"};
    for (int i = 0; i < 6; i++)
        cr_assert_str_eq(ax.fields[i], fields[i], "field %d", i);
    cr_assert_eq(ax.geometric, 0);
    sweep_axis_release(&ax);
    parse_ok(&ax, "pp,microbatches,micro-batch=2:8:1"); /* three keys, one tuple */
    cr_assert_eq(ax.nkeys, 3);
    cr_assert_eq(ax.nvalues, 1);
    cr_assert_str_eq(ax.fields[2], "1");
    sweep_axis_release(&ax);
    parse_ok(&ax, "pp=2:8:x2"); /* one key: still a range */
    expect_values(&ax, (const char *const[]){"2", "4", "8"}, 3);
    cr_assert_str_eq(ax.fields[2], "8");
    sweep_axis_release(&ax);
}

Test(sweep_axis, linked_keys_bad_tuples_rejected, .init = setup)
{
    parse_bad("schedule,vp=1f1b:1,interleaved", "'interleaved' is not 2 values separated by ':'");
    parse_bad("schedule,vp=1f1b:1:2", "'1f1b:1:2' is not 2 values");
    parse_bad("schedule,vp=1f1b:", "'1f1b:' is not 2 values");
    parse_bad("schedule,vp=1f1b:1,,zb-v:2", "empty value");
    parse_bad("schedule,vp=", "empty list");
    parse_bad("schedule,schedule=a:b", "key schedule given twice");
    parse_bad("schedule,vpx=1f1b:1", "unknown key 'vpx' (did you mean 'vp'?  'stepsim keys'");
    parse_bad("schedule,=1f1b:1", "expected KEY=LIST or up to 8 keys");
    parse_bad("a,b,c,d,e,f,g,h,i=1:2:3:4:5:6:7:8:9", "up to 8 keys");
}

Test(sweep_axis, product_order_is_row_major, .init = setup)
{
    struct sweep_axis axes[3];
    parse_ok(&axes[0], "pp=1,2");
    parse_ok(&axes[1], "vp=1:3:+1");
    parse_ok(&axes[2], "microbatches=4,8");
    size_t n = 0;
    struct sim_error err;
    err_clear(&err);
    cr_assert_eq(sweep_count(axes, 3, &n, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(n, 12);
    int idx[3];
    for (size_t i = 0; i < n; i++) { /* the last axis varies fastest */
        sweep_config_index(axes, 3, i, idx);
        cr_assert_eq(idx[0], (int)(i / 6));
        cr_assert_eq(idx[1], (int)(i / 2 % 3));
        cr_assert_eq(idx[2], (int)(i % 2));
    }
    for (int a = 0; a < 3; a++)
        sweep_axis_release(&axes[a]);
}

Test(sweep_axis, oversized_product_rejected, .init = setup)
{
    struct sweep_axis axes[2];
    parse_ok(&axes[0], "pp=1:1000:+1");
    parse_ok(&axes[1], "microbatches=1:1000:+1");
    size_t n = 0;
    struct sim_error err;
    err_clear(&err);
    cr_assert_eq(sweep_count(axes, 2, &n, &err), SIM_EINPUT);
    /* How many, and from which lists: the message had said only "more than 100000". */
    cr_assert_str_eq(err.msg, "the --vary lists give 1000000 configs (1000 x 1000), more than "
                              "100000; sweep in parts");
    sweep_axis_release(&axes[0]);
    sweep_axis_release(&axes[1]);
}

/* The arguments `first` and ap (NULL-terminated) into args, at most `max` of them, args[n] NULL;
 * returns n. */
static int args_of(const char **args, int max, const char *first, va_list ap)
{
    int n = 0;
    for (const char *a = first; a && n < max; a = va_arg(ap, const char *))
        args[n++] = a;
    args[n] = NULL;
    return n;
}

/* Run `stepsim sweep ARGS...` (NULL-terminated); stdout and stderr as heap strings. */
static int run_sweep(char **out, char **errtext, const char *first, ...)
{
    const char *args[61];
    va_list ap;
    va_start(ap, first);
    args_of(args, 60, first, ap);
    va_end(ap);
    return run_command(sweep_main, "sweep", args, out, errtext);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The n-th line (0-based) of s, copied into buf. */
static const char *line_of(const char *s, int n, char *buf, size_t len)
{
    for (; n > 0 && s; n--) {
        s = strchr(s, '\n');
        if (s)
            s++;
    }
    cr_assert(s, "no line %d", n);
    size_t k = strcspn(s, "\n");
    cr_assert(k < len);
    memcpy(buf, s, k);
    buf[k] = '\0';
    return buf;
}

Test(sweep_cmd, output_is_the_same_whatever_the_thread_count, .init = setup)
{
    char *o1, *e1, *o2, *e2;
    int rc1 = run_sweep(&o1, &e1, UNIT, "--vary", "pp=1,2,4", "--vary", "microbatches=1:8:+1", "-j",
                        "1", NULL);
    int rc2 = run_sweep(&o2, &e2, UNIT, "--vary", "pp=1,2,4", "--vary", "microbatches=1:8:+1",
                        "-j2", NULL);
    cr_assert_eq(rc1, 0, "%s", e1);
    cr_assert_eq(rc2, 0, "%s", e2);
    cr_assert_str_empty(e1); /* stderr is not a terminal: no progress bar */
    cr_assert_str_empty(e2);
    cr_assert_eq(count_lines(o1), 1 + 24);
    cr_assert_str_eq(o1, o2);
    char line[512];
    cr_assert_str_eq(line_of(o1, 0, line, sizeof line),
                     "pp,microbatches,status,step_time_s,makespan_s,bubble_ratio,tokens_per_s,"
                     "samples_per_s,derived,error");
    /* Row-major: pp=1 with microbatches 1..8 first; then pp=2 from microbatches=1. */
    cr_assert(strncmp(line_of(o1, 1, line, sizeof line), "1,1,ok,", 7) == 0, "%s", line);
    cr_assert(strncmp(line_of(o1, 9, line, sizeof line), "2,1,ok,", 7) == 0, "%s", line);
    /* pp=4, m=8 on unit.xml (2 layers of 1 ms + 2 ms per stage): 1F1B closed forms. */
    cr_assert_str_eq(line_of(o1, 24, line, sizeof line), "4,8,ok,0.066,0.066,0.272727273,,"
                                                         "121.212121,,");
    free(o1);
    free(e1);
    free(o2);
    free(e2);
}

/* A key of several names (recompute-modules, cuda-graph-scope, bf16-modules) joins them with
 * '+' inside a --vary list, whose commas separate the configs: two configs here, the second
 * recomputing both modules, and so slower. */
Test(sweep_cmd, a_list_key_joins_its_names_with_plus, .init = setup)
{
    char *o, *e;
    int rc = run_sweep(&o, &e, LLAMA, "--vary", "recompute=selective", "--vary",
                       "recompute-modules=core_attn,core_attn+mlp", "-j", "2", NULL);
    cr_assert_eq(rc, 0, "%s", e);
    cr_assert_eq(count_lines(o), 1 + 2, "%s", o);
    char first[512], second[512];
    line_of(o, 1, first, sizeof first);
    line_of(o, 2, second, sizeof second);
    cr_assert(strncmp(first, "selective,core_attn,ok,", 23) == 0, "%s", first);
    cr_assert(strncmp(second, "selective,core_attn+mlp,ok,", 27) == 0, "%s", second);
    double t1 = strtod(first + 23, NULL), t2 = strtod(second + 27, NULL);
    cr_assert(t2 > t1, "%g %g", t1, t2);
    free(o);
    free(e);
}

Test(sweep_cmd, an_invalid_config_is_a_row_not_a_failure, .init = setup)
{
    char *o, *e;
    /* unit.xml has layers=8: pp=3 does not divide it. */
    int rc = run_sweep(&o, &e, UNIT, "--vary", "pp=1,3,2", "-j", "2", NULL);
    cr_assert_eq(rc, 0, "%s", e);
    cr_assert_eq(count_lines(o), 4);
    char line[1024];
    cr_assert(strncmp(line_of(o, 1, line, sizeof line), "1,ok,", 5) == 0, "%s", line);
    line_of(o, 2, line, sizeof line);
    cr_assert(strncmp(line, "3,error,,,,,,,\"", 15) == 0, "%s", line);
    cr_assert(strstr(line, "pp=3") && strstr(line, "--vary"), "%s", line);
    cr_assert(strncmp(line_of(o, 3, line, sizeof line), "2,ok,", 5) == 0, "%s", line);
    free(o);
    free(e);
}

Test(sweep_cmd, bad_values_of_one_config_and_bad_arguments, .init = setup)
{
    char *o, *e;
    /* A config that breaks a rule: that config's error, the others run. */
    cr_assert_eq(run_sweep(&o, &e, UNIT, "--vary", "pp=1,3", NULL), 0, "%s", e);
    char line[1024];
    cr_assert(strncmp(line_of(o, 2, line, sizeof line), "3,error,", 8) == 0, "%s", line);
    free(o);
    free(e);
    /* Bad arguments, a value its key cannot take among them: exit 2, one line, nothing on
     * stdout. */
    const char *bad[][4] = {
        {UNIT, "--vary", "schedule=1f1b,nonesuch", NULL},
        {UNIT, "--vary", "pp=2,2,4", NULL},
        {UNIT, "--vary", "pp=8:1:x2", NULL},
        {UNIT, "--vary", "bogus=1", NULL},
        {UNIT, NULL, NULL, NULL},
        {UNIT, "--vary", "pp=1,2", "-j1025"},
        {UNIT, "--vary", "pp=1", "--plot=x.jpg"},
        {TOP_SRCDIR "/scenarios/missing.xml", "--vary", "pp=1", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = run_sweep(&o, &e, bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL);
        cr_assert_eq(rc, 2, "case %zu: exit %d", i, rc);
        cr_assert_str_empty(o, "case %zu", i);
        cr_assert_eq(count_lines(e), 1, "case %zu: %s", i, e);
        cr_assert(strncmp(e, "stepsim: ", 9) == 0, "case %zu: %s", i, e);
        free(o);
        free(e);
    }
}

Test(sweep_cmd, a_linked_axis_sets_its_keys_together_one_column_each, .init = setup)
{
    char *o, *e;
    int rc = run_sweep(&o, &e, UNIT, "--vary", "schedule,vp=1f1b:1,interleaved:2,zb-v:2", "--vary",
                       "microbatches=8,16", NULL);
    cr_assert_eq(rc, 0, "%s", e);
    cr_assert_eq(count_lines(o), 7, "%s", o);
    char line[1024];
    cr_assert_str_eq(line_of(o, 0, line, sizeof line),
                     "schedule,vp,microbatches,status,step_time_s,makespan_s,bubble_ratio,"
                     "tokens_per_s,samples_per_s,derived,error");
    /* unit.xml: pp=4, 8 layers of 1 + 2 ms; interleaved m=8: m(f+b) + (p-1)(f+b)/v = 57 ms. */
    cr_assert_str_eq(line_of(o, 1, line, sizeof line), "1f1b,1,8,ok,0.066,0.066,0.272727273,,"
                                                       "121.212121,,");
    cr_assert(strncmp(line_of(o, 3, line, sizeof line), "interleaved,2,8,ok,0.057,", 25) == 0,
              "%s", line);
    cr_assert(strncmp(line_of(o, 5, line, sizeof line), "zb-v,2,8,ok,", 12) == 0, "%s", line);
    free(o);
    free(e);
}

/* Without a vp per schedule, vp follows each schedule (derived). */
Test(sweep_cmd, schedules_without_vp_take_their_default_vp, .init = setup)
{
    char *o, *e;
    int rc = run_sweep(&o, &e, UNIT, "--vary", "schedule=1f1b,interleaved,zb-v,dualpipe-v", NULL);
    cr_assert_eq(rc, 0, "%s", e);
    char line[1024];
    cr_assert(strstr(line_of(o, 1, line, sizeof line), ",121.212121,,"), "1f1b: %s", line);
    cr_assert(strncmp(line_of(o, 2, line, sizeof line), "interleaved,ok,0.057,", 21) == 0, "%s",
              line);
    cr_assert(strstr(line, ",vp,"), "interleaved: vp derived: %s", line);
    for (int r = 3; r <= 4; r++)
        cr_assert(strstr(line_of(o, r, line, sizeof line), ",ok,") && strstr(line, ",vp,"), "%s",
                  line);
    free(o);
    free(e);
}

/* A cost-model key varied on an explicit-cost scenario fails up front, not row by row. */
Test(sweep_cmd, keys_that_do_not_apply_fail_the_sweep, .init = setup)
{
    char *o, *e;
    cr_assert_eq(run_sweep(&o, &e, UNIT, "--vary", "tp=1,2", NULL), 2);
    cr_assert_str_empty(o);
    cr_assert(strstr(e, "tp applies only to the cost model") && strstr(e, "(tp given by --vary)"),
              "%s", e);
    free(o);
    free(e);
    cr_assert_eq(run_sweep(&o, &e, LLAMA, "--vary", "pp=2,4", "--set", "forward=1ms", NULL), 2);
    cr_assert(strstr(e, "forward is an explicit cost"), "%s", e);
    free(o);
    free(e);
}

/* Field `col` (0-based) of a CSV line without quoted fields. */
static double field(const char *line, int col)
{
    for (; col > 0; col--) {
        line = strchr(line, ',');
        cr_assert(line);
        line++;
    }
    return strtod(line, NULL);
}

Test(sweep_cmd, modelled_sweep_gives_plausible_rows, .init = setup)
{
    char *o, *e;
    int rc = run_sweep(&o, &e, LLAMA, "--vary", "pp=2,4", "--vary", "micro-batch=1,2", NULL);
    cr_assert_eq(rc, 0, "%s", e);
    cr_assert_eq(count_lines(o), 5, "%s", o);
    char line[2048];
    line_of(o, 0, line, sizeof line);
    cr_assert(strstr(line, ",tokens_per_s_per_gpu,model_tflops_per_gpu,mfu,hfu,compute_s,"), "%s",
              line);
    cr_assert(strstr(line, ",host_s,launch_gaps_s,memory_gib,hbm_usable_gib,hbm_reserve_gib,fits,"
                           "derived,error"),
              "%s", line);
    for (int r = 1; r <= 4; r++) {
        line_of(o, r, line, sizeof line);
        double step = field(line, 3), bubble = field(line, 5), tps = field(line, 6);
        double per_gpu = field(line, 8), mfu = field(line, 10), peak = field(line, 23);
        /* DGX H100: 80 GiB less a 0.6 GiB reserve, 0.6 GiB of NCCL buffers for each of the
         * TP, PP and DP groups and 1.5 GiB of TP-overlap userbuffers per sample of the
         * micro-batch (12 of 8192 x 8192 in bf16); status and fits agree with the memory */
        double mbs = field(line, 1), usable = 77.6 - 1.5 * mbs;
        cr_assert_float_eq(field(line, 24), usable, 1e-9, "%s", line);
        cr_assert_float_eq(field(line, 25), 2.4 + 1.5 * mbs, 1e-9, "%s", line);
        cr_assert(strstr(line, peak <= usable ? ",ok," : ",oom,"), "%s", line);
        cr_assert(strstr(line, peak <= usable ? ",yes," : ",no,"), "%s", line);
        cr_assert(step > 1 && step < 60, "step %g s: %s", step, line);
        cr_assert(bubble > 0 && bubble < 0.5, "bubble %g", bubble);
        /* 512 GPUs, global batch 512 x 8192 tokens. */
        cr_assert_float_eq(tps, 512.0 * 8192 / step, 1e-6 * tps);
        cr_assert_float_eq(per_gpu, tps / 512, 1e-6 * per_gpu);
        cr_assert(mfu > 0.2 && mfu < 0.8, "mfu %g", mfu);
        cr_assert(peak > 10 && peak < 200, "peak memory %g GiB", peak);
        /* The breakdown sums to the step time. */
        double sum = 0;
        for (int c = 12; c <= 21; c++)
            sum += field(line, c);
        cr_assert_float_eq(sum, step, 1e-3 * step, "breakdown %g vs step %g", sum, step);
        /* The launch gaps are a part of compute and recompute, not another term: the eager
         * kernels of 80 layers at 6.8 us each, a few percent of the compute they sit in. */
        double gaps = field(line, 22), compute = field(line, 12) + field(line, 13);
        cr_assert(gaps > 0 && gaps < 0.1 * compute, "launch gaps %g of compute %g", gaps, compute);
    }
    /* More pipeline ranks, more bubble (same micro-batch). */
    double b_pp2 = field(line_of(o, 1, line, sizeof line), 5);
    double b_pp4 = field(line_of(o, 3, line, sizeof line), 5);
    cr_assert(b_pp4 > b_pp2, "bubble pp=4 %g <= pp=2 %g", b_pp4, b_pp2);
    free(o);
    free(e);
}

/* QA's sweep of 80 layers over pp 16 x vp 2 and pp 8 x vp 6: no split of the ends is lighter
 * than the middle, so a balanced pipeline-layout follows (named in the derived column) and
 * both fit: the dumped ends (10, 30 x 2, 10 and 17, 46 x 1, 17) had run out of memory. */
Test(sweep_cmd, a_derived_layout_is_named_and_fits, .init = setup)
{
    char *o, *e;
    int rc = run_sweep(&o, &e, LLAMA, "--vary", "pp,vp=16:2,8:6", NULL);
    cr_assert_eq(rc, 0, "%s", e);
    cr_assert_eq(count_lines(o), 3, "%s", o);
    char line[2048];
    for (int r = 1; r <= 2; r++) {
        line_of(o, r, line, sizeof line);
        cr_assert(strstr(line, ",ok,") && strstr(line, ",yes,microbatches pipeline-layout,"),
                  "%s", line);
        cr_assert(field(line, 3) < 9.5, "step %g s: %s", field(line, 3), line);
    }
    free(o);
    free(e);
}

/* The sweep: every config runs; the global batch follows the varied microbatches
 * (microbatches x 1 x dp, dp = 512 / (8 x pp)), and the derived column says so.  Varying pp
 * alone keeps the file's 512 and microbatches follows instead. */
Test(sweep_cmd, varied_microbatches_move_the_global_batch, .init = setup)
{
    char *o, *e;
    int rc = run_sweep(&o, &e, LLAMA, "--vary", "pp=2,4,8", "--vary", "microbatches=8,16,32",
                       NULL);
    cr_assert_eq(rc, 0, "%s", e);
    cr_assert_eq(count_lines(o), 10, "%s", o);
    char line[2048];
    static const int pps[] = {2, 4, 8}, mbs[] = {8, 16, 32};
    for (int r = 1; r <= 9; r++) {
        line_of(o, r, line, sizeof line);
        cr_assert(strstr(line, ",ok,") && strstr(line, ",global-batch,"), "%s", line);
        int pp = pps[(r - 1) / 3], m = mbs[(r - 1) % 3], dp = 512 / (8 * pp);
        double step = field(line, 3), tps = field(line, 6);
        cr_assert_float_eq(tps, (double)m * dp * 8192 / step, 1e-6 * tps, "%s", line);
    }
    free(o);
    free(e);
    rc = run_sweep(&o, &e, LLAMA, "--vary", "pp=2,8", NULL);
    cr_assert_eq(rc, 0, "%s", e);
    for (int r = 1; r <= 2; r++) {
        line_of(o, r, line, sizeof line);
        cr_assert(strstr(line, ",microbatches,"), "%s", line);
        double tps = field(line, 5);
        cr_assert_float_eq(tps, 512.0 * 8192 / field(line, 2), 1e-6 * tps, "%s", line);
    }
    free(o);
    free(e);
    /* The global batch on the command line too: configs that disagree name both options. */
    rc = run_sweep(&o, &e, LLAMA, "--set", "global-batch=512", "--vary", "microbatches=16,32",
                   NULL);
    cr_assert_eq(rc, 0, "%s", e);
    cr_assert(strstr(line_of(o, 1, line, sizeof line),
                     "\"--vary microbatches=16 contradicts --set global-batch=512: "),
              "%s", line);
    cr_assert(strstr(line_of(o, 2, line, sizeof line), "32,ok,"), "%s", line);
    free(o);
    free(e);
}

Test(sweep_cmd, out_file_and_plot, .init = setup)
{
    char dir[] = "/tmp/stepsim-test-sweep-XXXXXX";
    cr_assert(mkdtemp(dir));
    char csv[128], png[128], brk[128];
    snprintf(csv, sizeof csv, "%s/s.csv", dir);
    snprintf(png, sizeof png, "%s/s.png", dir);
    snprintf(brk, sizeof brk, "%s/s-breakdown.png", dir);
    char *o, *e;
    int rc = run_sweep(&o, &e, LLAMA, "--vary", "pp=2,4", "--vary", "micro-batch=1,2", "--out", csv,
                       "--plot", png, NULL);
    FILE *fp = fopen(csv, "r");
    cr_assert(fp, "no CSV");
    fclose(fp);
    cr_assert_str_empty(o);
    if (rc == 1 && strstr(e, "cannot run gnuplot")) {
        cr_log_warn("gnuplot not installed: plot not checked");
    } else {
        cr_assert_eq(rc, 0, "%s", e);
        const char *imgs[] = {png, brk};
        for (int k = 0; k < 2; k++) {
            fp = fopen(imgs[k], "rb");
            cr_assert(fp, "no %s", imgs[k]);
            unsigned char sig[8] = {0};
            cr_assert_eq(fread(sig, 1, 8, fp), 8);
            fclose(fp);
            cr_assert(memcmp(sig, "\x89PNG", 4) == 0, "%s is not a PNG", imgs[k]);
            remove(imgs[k]);
        }
    }
    remove(csv);
    remove(dir);
    free(o);
    free(e);
}

/* --fail-on-oom: a config over the usable HBM (status oom, still with its figures) makes the
 * sweep exit 2 after the CSV is written; without it the sweep exits 0. */
Test(sweep_cmd, fail_on_oom, .init = setup)
{
    char *o, *e;
    int rc = run_sweep(&o, &e, LLAMA, "--vary", "micro-batch=1,4", "--set", "pp=2", NULL);
    cr_assert_eq(rc, 0, "%s", e);
    char line[2048];
    cr_assert(strncmp(line_of(o, 1, line, sizeof line), "1,ok,", 5) == 0, "%s", line);
    cr_assert(strncmp(line_of(o, 2, line, sizeof line), "4,oom,", 6) == 0, "%s", line);
    cr_assert(field(line, 2) > 1, "an oom row keeps its step time: %s", line);
    free(o);
    free(e);
    rc = run_sweep(&o, &e, LLAMA, "--vary", "micro-batch=1,4", "--set", "pp=2", "--fail-on-oom",
                   NULL);
    cr_expect_eq(rc, 2);
    cr_expect_eq(count_lines(o), 3, "the CSV is written first: %s", o);
    cr_expect(strstr(e, "1 of 2 configs need more than the usable HBM, the first "
                        "micro-batch=4"),
              "%s", e);
    free(o);
    free(e);
    rc = run_sweep(&o, &e, LLAMA, "--vary", "micro-batch=1,2", "--set", "pp=2", "--fail-on-oom",
                   NULL);
    cr_expect_eq(rc, 0, "%s", e);
    free(o);
    free(e);
}

/* Hardware knobs vary like keys: hw.NAME names its column, a slower network slows the step,
 * more reserve leaves the memory the same but can tip a config out of memory. */
Test(sweep_axis, hardware_knobs_are_axes, .init = setup)
{
    struct sweep_axis ax;
    parse_ok(&ax, "hw.nic-bandwidth=12.5GB/s,50GB/s");
    cr_assert_eq(ax.keys[0], SWEEP_HW_KNOB);
    cr_assert_str_eq(ax.key_names[0], "hw.nic-bandwidth");
    sweep_axis_release(&ax);
    parse_ok(&ax, "pp,hw.hbm-reserve=2:1GiB,4:3GiB");
    cr_assert_eq(ax.keys[0], SCN_PP);
    cr_assert_str_eq(ax.key_names[1], "hw.hbm-reserve");
    sweep_axis_release(&ax);
    parse_bad("hw.nosuch=1,2", "unknown hardware knob 'hw.nosuch'");
    parse_bad("hw.hbm,hw.hbm=1:2", "given twice");
}

Test(sweep_cmd, varied_hardware_knob_moves_the_step, .init = setup)
{
    char *o, *e;
    int rc = run_sweep(&o, &e, LLAMA, "--vary", "hw.nic-bandwidth=5GB/s,50GB/s", "--vary",
                       "hw.hbm-reserve=3GiB,70GiB", NULL);
    cr_assert_eq(rc, 0, "%s", e);
    char line[2048];
    cr_assert(strstr(line_of(o, 0, line, sizeof line), "hw.nic-bandwidth,hw.hbm-reserve,status,"),
              "%s", line);
    double slow = field(line_of(o, 1, line, sizeof line), 3);
    cr_assert(strstr(line, ",yes,"), "fits with a 3 GiB reserve: %s", line);
    cr_assert(strstr(line_of(o, 2, line, sizeof line), ",oom,") && strstr(line, ",no,"),
              "70 GiB reserve: status oom, fits no: %s", line);
    double fast = field(line_of(o, 3, line, sizeof line), 3);
    cr_assert(slow > fast, "5 GB/s NIC %g s <= 50 GB/s NIC %g s", slow, fast);
    free(o);
    free(e);
}

/* The panels' y axis starts at 0 unless that flattens the lines. */
Test(sweep, panel_range_leaves_out_zero_only_when_it_flattens_the_data)
{
    double from, to;
    sweep_panel_range(900, 1200, &from, &to);
    cr_assert_float_eq(from, 855, 1e-9, "throughput 900..1200 tokens/s: not from 0");
    cr_assert_float_eq(to, 1245, 1e-9);
    sweep_panel_range(2.5, 23, &from, &to);
    cr_assert_float_eq(from, 0, 1e-12, "bubble 2.5..23%%: from 0");
    cr_assert_float_eq(to, 23 * 1.08, 1e-9);
    sweep_panel_range(0, 0, &from, &to);
    cr_assert(from == 0 && to == 1, "all zero: 0..1");
    sweep_panel_range(5, 5, &from, &to);
    cr_assert(from < 5 && to > 5, "one value: around it, %g..%g", from, to);
    /* 320 vs 321.5 tokens/s (0.5%): never drawn across the whole panel */
    sweep_panel_range(320, 321.5, &from, &to);
    cr_assert(to - from >= 0.1 * 321.5 - 1e-9 && from < 320 && to > 321.5, "%g..%g", from, to);
    cr_assert_float_eq(0.5 * (from + to), 320.75, 1e-9, "centred on the data");
}

/* The whole of `path` as a heap string (the file must exist). */
static char *file_text(const char *path)
{
    FILE *fp = fopen(path, "r");
    cr_assert(fp, "no %s", path);
    cr_assert_eq(fseek(fp, 0, SEEK_END), 0);
    return capture(fp); /* all of it, from the start; closes fp */
}

/* A fresh folder in dir (a mkdtemp template) and the paths of a sweep chart in it: STEM.svg and
 * its STEM-breakdown.svg (128 bytes each). */
static void chart_paths(char *dir, const char *stem, char *svg, char *brk)
{
    cr_assert(mkdtemp(dir));
    snprintf(svg, 128, "%s/%s.svg", dir, stem);
    snprintf(brk, 128, "%s/%s-breakdown.svg", dir, stem);
}

/* The chart says what ran: with --set hardware=... the scenario's name (the first title line)
 * no longer names the hardware, so a second line does; a discrete axis gets a tic at each
 * value and none between (no "tp 4.5"). */
Test(sweep_cmd, chart_title_names_the_hardware_as_run, .init = setup)
{
    char dir[] = "/tmp/stepsim-test-sweep-XXXXXX";
    char svg[128], brk[128];
    chart_paths(dir, "s", svg, brk);
    char *o, *e;
    int rc = run_sweep(&o, &e, LLAMA, "--set", "hardware=dgx-b200", "--vary", "pp=2,4",
                       "--vary", "tp=4,8", "--plot", svg, NULL);
    if (rc == 1 && strstr(e, "cannot run gnuplot")) {
        cr_log_warn("gnuplot not installed: plot not checked");
    } else {
        cr_assert_eq(rc, 0, "%s", e);
        const char *imgs[] = {svg, brk};
        for (int k = 0; k < 2; k++) {
            char *text = file_text(imgs[k]);
            cr_assert(strstr(text, "as run: ") && strstr(text, " on dgx-b200"),
                      "%s: no 'as run: ... on dgx-b200' line", imgs[k]);
            free(text);
            remove(imgs[k]);
        }
    }
    free(o);
    free(e);
    /* The --report page says the same, and lists the --set values. */
    char page[128];
    snprintf(page, sizeof page, "%s/s.html", dir);
    rc = run_sweep(&o, &e, LLAMA, "--set", "hardware=dgx-b200", "--vary", "pp=2,4", "--report",
                   page, NULL);
    cr_assert_eq(rc, 0, "%s", e);
    char *html = file_text(page);
    cr_expect(strstr(html, "as run</th><td>llama3.1-70b on dgx-b200"), "no 'as run' fact");
    cr_expect(strstr(html, "--set</th><td>hardware=dgx-b200</td>"), "no --set fact");
    free(html);
    remove(page);
    remove(dir);
    free(o);
    free(e);
}

/* Varied hardware: the scenario's name ("Llama-3.1-70B on 512 H100") would claim one over a
 * dgx-h200 line, so the titles say "hardware varied", and the as-run line says what every
 * config shared, the model and the GPUs (it was left out when a config named another file). */
Test(sweep_cmd, varied_hardware_titles_say_what_was_shared, .init = setup)
{
    char dir[] = "/tmp/stepsim-test-sweep-XXXXXX";
    char svg[128], brk[128], page[128];
    chart_paths(dir, "h", svg, brk);
    snprintf(page, sizeof page, "%s/h.html", dir);
    char *o, *e;
    int rc = run_sweep(&o, &e, LLAMA, "--vary", "hardware=dgx-h100,dgx-h200", "--vary",
                       "microbatches=8,16", "--plot", svg, "--report", page, NULL);
    int drawn = !(rc == 1 && strstr(e, "cannot run gnuplot"));
    if (drawn) {
        cr_assert_eq(rc, 0, "%s", e);
        const char *imgs[] = {svg, brk};
        for (int k = 0; k < 2; k++) {
            char *text = file_text(imgs[k]);
            cr_expect(strstr(text, "<text>hardware varied: "), "%s: no 'hardware varied'", imgs[k]);
            cr_expect(strstr(text, "<text>as run: llama3.1-70b · 512 GPUs</text>"),
                      "%s: no 'as run' line of the model and GPUs", imgs[k]);
            cr_expect(!strstr(text, "H100"), "%s: a title claims the H100", imgs[k]);
            free(text);
            remove(imgs[k]);
        }
        char *html = file_text(page);
        cr_expect(strstr(html, "<h1>stepsim sweep: hardware varied"), "no heading");
        cr_expect(strstr(html, "as run</th><td>llama3.1-70b · 512 GPUs</td>"), "no 'as run'");
        free(html);
        remove(page);
    } else {
        cr_log_warn("gnuplot not installed: plot not checked");
    }
    free(o);
    free(e);
    /* Varied models: the hardware and the GPUs are what they shared. */
    rc = run_sweep(&o, &e, LLAMA, "--vary", "model=llama3.1-70b,llama3.1-405b", "--report", page,
                   NULL);
    cr_assert_eq(rc, 0, "%s", e);
    char *html = file_text(page);
    cr_expect(strstr(html, "<h1>stepsim sweep: model varied"), "no heading");
    cr_expect(strstr(html, "as run</th><td>dgx-h100 · 512 GPUs</td>"), "no 'as run'");
    free(html);
    remove(page);
    remove(dir);
    free(o);
    free(e);
}

/* A line's legend entry is its value, however many lines are left: when every config of one
 * model fails (Llama-3.1-8B's 32 layers do not split into the file's pp 4 x vp 5 chunks), the
 * other model's line is still named by its model, not by the y axis's "tokens/s per GPU"; a
 * sweep of one axis has one line, the metric, named so. */
Test(sweep_cmd, the_line_left_when_the_others_failed_keeps_its_name, .init = setup)
{
    char dir[] = "/tmp/stepsim-test-sweep-XXXXXX";
    char svg[128], brk[128];
    chart_paths(dir, "m", svg, brk);
    const struct {
        const char *axis[4], *entry;
        size_t ylabels; /* "tokens/s per GPU" drawn: the y axis's label, and the line's */
    } cases[] = {
        {{"model=llama3.1-8b,llama3.1-70b", "--vary", "tp=4,8"}, "<text>llama3.1-70b</text>", 1},
        /* one axis, a config out of memory (so a legend): its one line is the metric */
        {{"micro-batch=1,8", NULL}, "<text>out of memory (hollow)</text>", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *const *a = cases[i].axis;
        char *o, *e;
        int rc = a[1] ? run_sweep(&o, &e, LLAMA, "--vary", a[0], a[1], a[2], "--plot", svg, NULL)
                      : run_sweep(&o, &e, LLAMA, "--vary", a[0], "--plot", svg, NULL);
        if (rc == 1 && strstr(e, "cannot run gnuplot")) {
            remove(dir);
            cr_skip_test("gnuplot not installed: plot not checked");
        }
        cr_assert_eq(rc, 0, "case %zu: %s", i, e);
        char *text = file_text(svg);
        cr_expect(strstr(text, cases[i].entry), "case %zu: no %s", i, cases[i].entry);
        cr_expect_eq(count_of(text, "<text>tokens/s per GPU</text>"), cases[i].ylabels,
                     "case %zu: 'tokens/s per GPU' drawn %zu times", i,
                     count_of(text, "<text>tokens/s per GPU</text>"));
        if (i == 0) {
            cr_expect_str_eq(e, "stepsim: sweep: 2 of 4 configs failed (2 rule errors)\n");
            cr_expect(strstr(text, "<text>model=llama3.1-8b: all failed</text>"),
                      "no 'all failed'");
        }
        free(text);
        free(o);
        free(e);
    }
    remove(svg);
    remove(brk);
    remove(dir);
}

/* Where an SVG of gnuplot's draws a text (the whole of a <text> element): the x and y it starts
 * at and its font size; 0 when it is not drawn. */
static int svg_text_xy(const char *svg, const char *text, double *x, double *y, double *size)
{
    static const char g[] = "<g transform=\"translate(";
    char want[256];
    snprintf(want, sizeof want, "<text>%s</text>", text);
    const char *at = strstr(svg, want), *p = at;
    while (p && p > svg && strncmp(p, g, sizeof g - 1) != 0)
        p--;
    const char *fs = p ? strstr(p, "font-size=\"") : NULL;
    if (!p || p == svg || !fs || fs > at)
        return 0;
    char *end;
    *x = strtod(p + sizeof g - 1, &end);
    *y = strtod(end + 1, NULL);
    *size = strtod(fs + strlen("font-size=\""), NULL);
    return 1;
}

static int svg_text_at(const char *svg, const char *text, double *x, double *size)
{
    double y;
    return svg_text_xy(svg, text, x, &y, size);
}

/* A sweep chart a test drew as SVG: its folder and paths, the images' texts (the breakdown's
 * NULL when it was not drawn) and stderr, all heap strings. */
struct chart {
    char dir[40], svg[128], brk[128];
    char *text, *brktext, *err;
};

/* Run `stepsim sweep ARGS... --plot DIR/c.svg` (NULL-terminated, at most 40) expecting exit 0
 * and read what it drew; skips the test without gnuplot.  chart_done removes it all. */
static void chart_draw(struct chart *c, const char *first, ...)
{
    snprintf(c->dir, sizeof c->dir, "/tmp/stepsim-test-sweep-XXXXXX");
    chart_paths(c->dir, "c", c->svg, c->brk);
    const char *args[44];
    va_list ap;
    va_start(ap, first);
    int n = args_of(args, 40, first, ap);
    va_end(ap);
    args[n++] = "--plot";
    args[n++] = c->svg;
    args[n] = NULL;
    char *o;
    int rc = run_command(sweep_main, "sweep", args, &o, &c->err);
    free(o);
    if (rc == 1 && strstr(c->err, "cannot run gnuplot")) {
        remove(c->dir);
        cr_skip_test("gnuplot not installed: plot not checked");
    }
    cr_assert_eq(rc, 0, "%s", c->err);
    c->text = file_text(c->svg);
    FILE *fp = fopen(c->brk, "r");
    c->brktext = fp ? (fclose(fp), file_text(c->brk)) : NULL;
}

static void chart_done(struct chart *c)
{
    free(c->text);
    free(c->brktext);
    free(c->err);
    remove(c->svg);
    remove(c->brk);
    remove(c->dir);
}

/* A legend of two columns (20 lines of up to 34 characters) stays on the image, its second
 * column just past the first one's longest entry: gnuplot had measured the entries in the
 * terminal's 13 points for the key title's font, so the columns stood 350 pixels apart and the
 * second ran off a PNG.  A character taken as 0.6 em. */
Test(sweep_cmd, a_legend_of_two_columns_stays_on_the_image, .init = setup)
{
    struct chart c;
    chart_draw(&c, LLAMA, "--vary",
               "hardware=amd-mi300x,amd-mi325x,deepseek-h800,dgx-a100-80gb,dgx-b200,dgx-h100,"
               "dgx-h200,gb200-nvl72,jean-zay-a100-80gb,meta-h100-96gb-500w",
               "--vary", "pp=2,4", "--vary", "microbatches=8,16", NULL);
    const char *last = "hardware=meta-h100-96gb-500w, pp=4";
    double x1, x2, x3, size, width = strtod(strstr(c.text, "width=\"") + 7, NULL);
    cr_assert(svg_text_at(c.text, "hardware=amd-mi300x, pp=2", &x1, &size), "no first entry");
    cr_assert(svg_text_at(c.text, "hardware=dgx-h100, pp=2", &x2, &size), "no second column");
    cr_assert(svg_text_at(c.text, last, &x3, &size), "no last entry");
    double longest = 0.6 * size * (double)strlen(last);
    cr_expect(x2 - x1 <= longest + 80, "columns %.0f px apart for entries of %.0f px", x2 - x1,
              longest);
    cr_expect(x3 + longest <= width, "the last entry ends at %.0f px of %.0f", x3 + longest,
              width);
    chart_done(&c);
}

/* Is `text` drawn right of x = 1000 px (where the legend stands; the tics stand left of it)? */
static int svg_legend_has(const char *svg, const char *text)
{
    char want[256];
    snprintf(want, sizeof want, "<text>%s</text>", text);
    double x, y, size;
    for (const char *p = svg; svg_text_xy(p, text, &x, &y, &size); p = strstr(p, want) + 1)
        if (x > 1000)
            return 1;
    return 0;
}

/* A line with two failed configs in a row keeps its legend entry, and the lines after it theirs:
 * each failure had written a blank line, two of them end gnuplot's data block, and the rest of
 * pp=4's line became a block of its own, titled with its first throughput ("910.06255"); pp=8
 * (failed at 1, 2 and 4 micro-batches) went the same way, and the legend named 2 lines of 3. */
Test(sweep_cmd, failures_in_a_row_keep_the_lines_apart, .init = setup)
{
    struct chart c;
    chart_draw(&c, LLAMA, "--vary", "pp=2,4,8", "--vary", "microbatches=1,2,4,8", NULL);
    cr_expect(svg_legend_has(c.text, "2"), "pp=2 unnamed");
    cr_expect(svg_legend_has(c.text, "4"), "pp=4 unnamed");
    cr_expect(svg_legend_has(c.text, "8"), "pp=8 unnamed");
    cr_expect(!strstr(c.text, "<text>910.06255</text>"), "a throughput named a line");
    chart_done(&c);
}

/* An SVG's markers are drawn the size of the PNG's: gnuplot's svg terminal draws a point size
 * at 9.75 px a unit, pngcairo at about 6.5, so the SVG's were half again as large (a config's
 * marker 12.7 px across, a failed one's cross 17.6, where the PNG draws 9 and 13). */
Test(sweep_cmd, svg_markers_are_the_png_size, .init = setup)
{
    struct chart c;
    chart_draw(&c, LLAMA, "--vary", "pp=2,3,4", "--vary", "micro-batch=1,8", NULL);
    double most = 0, least = INFINITY; /* a marker spans -1..1 before its scale */
    size_t n = 0;
    for (const char *p = strstr(c.text, "<use xlink:href='#gpPt"); p;
         p = strstr(p + 1, "<use xlink:href='#gpPt")) {
        const char *sc = strstr(p, "scale(");
        double v = sc ? strtod(sc + 6, NULL) : 0;
        most = v > most ? v : most;
        least = v < least ? v : least;
        n++;
    }
    cr_expect(n >= 10, "%zu markers", n);
    cr_expect(2 * most <= 12, "a marker %.1f px across", 2 * most);
    cr_expect(2 * least >= 6, "a marker %.1f px across", 2 * least);
    chart_done(&c);
}

/* A sweep where no config has a bubble (pp=1) draws the bubble panel's 0-1% as room for a
 * line on the axis, and says so in words; one with a bubble says nothing of the kind. */
Test(sweep_cmd, a_bubble_panel_of_zeros_says_so, .init = setup)
{
    struct chart c;
    chart_draw(&c, UNIT, "--set", "pp=1", "--vary", "microbatches=1,2,4", NULL);
    cr_expect(strstr(c.text, "no bubble: 0% in every config that ran"), "no words for 0%%");
    chart_done(&c);
    chart_draw(&c, UNIT, "--vary", "microbatches=1,2,4", NULL);
    cr_expect(!strstr(c.text, "no bubble"), "pp=4 has a bubble");
    chart_done(&c);
}

/* The legend names the lines with data first: pp 1 to 32 on 80 layers leaves 6 lines that ran
 * and 26 where every config failed, which one entry counts.  The legend had said "6 lines,
 * unnamed (too many)" and spent its room on "pp=3: all failed" ... "+16 lines where all
 * failed". */
Test(sweep_cmd, the_legend_names_the_lines_with_data_first, .init = setup)
{
    struct chart c;
    chart_draw(&c, LLAMA, "--set", "schedule=1f1b", "--vary", "pp=1:32:+1", "--vary",
               "microbatches=8,16", NULL);
    cr_expect(strstr(c.text, "<text>26 lines where all failed</text>"), "no count of 26");
    cr_expect(!strstr(c.text, "unnamed"), "the lines with data went unnamed");
    cr_expect(!strstr(c.text, "pp=3: all failed"), "a line where all failed is named");
    double x = 0, size; /* the legend stands right of 1000 px, the tics left of 150 */
    cr_expect(svg_text_at(c.text, "1", &x, &size) && x > 1000, "pp=1 unnamed");
    cr_expect(svg_text_at(c.text, "32", &x, &size) && x > 1000, "pp=32 unnamed");
    chart_done(&c);
}

/* A few lines of wide entries are named in one column: 4 entries of 45 characters, too wide
 * for two columns at 9 points, had said "4 lines, unnamed (too many)" where one column holds
 * them, and the last entry ends on the image. */
Test(sweep_cmd, a_few_wide_entries_are_named_in_one_column, .init = setup)
{
    struct chart c;
    chart_draw(&c, LLAMA, "--vary", "overlap-param-gather=0,1", "--vary",
               "overlap-grad-reduce=0,1", "--vary", "microbatches=16,32", NULL);
    const char *last = "overlap-param-gather=1, overlap-grad-reduce=1";
    double x, size, width = strtod(strstr(c.text, "width=\"") + 7, NULL);
    cr_expect(!strstr(c.text, "unnamed"), "4 lines went unnamed");
    cr_expect(svg_text_at(c.text, "overlap-param-gather=0, overlap-grad-reduce=0", &x, &size),
              "no first entry");
    cr_assert(svg_text_at(c.text, last, &x, &size), "no last entry");
    double longest = 0.6 * size * (double)strlen(last);
    cr_expect(x + longest <= width, "the last entry ends at %.0f px of %.0f", x + longest, width);
    chart_done(&c);
}

/* Lines too wide to name, not too many: 16 lines of four keys ("overlap-param-gather=0,
 * overlap-grad-reduce=0, tp=4, pp=2", 57 characters) fit neither one column nor two, and had
 * gone "16 lines, unnamed (too many)"; the legend's title names the keys once and each entry
 * gives its values, the title ending on the image. */
Test(sweep_cmd, wide_entries_are_named_by_their_values_under_the_keys, .init = setup)
{
    struct chart c;
    chart_draw(&c, LLAMA, "--vary", "overlap-param-gather=0,1", "--vary",
               "overlap-grad-reduce=0,1", "--vary", "tp=4,8", "--vary", "pp=2,4", "--vary",
               "microbatches=16,32", NULL);
    const char *keys = "overlap-param-gather, overlap-grad-reduce, tp, pp";
    double x, size, width = strtod(strstr(c.text, "width=\"") + 7, NULL);
    cr_expect(!strstr(c.text, "unnamed"), "16 lines went unnamed");
    cr_expect(svg_text_at(c.text, "0, 0, 4, 2", &x, &size), "no first entry");
    cr_expect(svg_text_at(c.text, "1, 1, 8, 4", &x, &size), "no last entry");
    cr_expect(!strstr(c.text, "tp=4, pp=2"), "an entry names its keys");
    cr_assert(svg_text_at(c.text, keys, &x, &size), "no legend title naming the keys");
    double longest = 0.6 * size * (double)strlen(keys);
    cr_expect(x + longest <= width, "the title ends at %.0f px of %.0f", x + longest, width);
    chart_done(&c);
}

/* Does the line `text`, centred where the SVG draws it, fit on the image as a PNG draws it (a
 * character about 0.7 of the font's points wide; the SVG gives its size in pixels, 4/3 of the
 * points)? */
static int title_fits(const char *svg, const char *text)
{
    double x, size, width = strtod(strstr(svg, "width=\"") + 7, NULL);
    if (!svg_text_at(svg, text, &x, &size))
        return 0;
    double half = 0.35 * 0.75 * size * (double)strlen(text);
    return x - half >= 0 && x + half <= width;
}

/* The breakdown of a few configs is 1000 px wide: its title, the scenario's name then what the
 * chart shows, is cut after the name, and shrinks where a line still would not fit (it had run
 * off both sides, at 15 points on one line). */
Test(sweep_cmd, a_narrow_breakdown_keeps_its_title_on_the_image, .init = setup)
{
    struct chart c;
    chart_draw(&c, QWEN_GUIDE, "--vary", "pp=8,16", "--vary", "microbatches=16,32", NULL);
    cr_assert(c.brktext, "no breakdown");
    cr_expect(title_fits(c.brktext, "Qwen3-235B-A22B, guide layout tp4 pp16 cp2 ep8, on 128 H100:"),
              "the name's line does not fit");
    cr_expect(title_fits(c.brktext, "where the step time goes, per config"),
              "the chart's line does not fit");
    chart_done(&c);
    const char *name = "Qwen3-235B-A22B guide layout tp4 pp16 cp2 ep8 on 128 H100 run 7";
    char set[80];
    snprintf(set, sizeof set, "name=%s", name); /* 63 bytes, the most a name takes */
    chart_draw(&c, QWEN_GUIDE, "--set", set, "--vary", "pp=8,16", NULL);
    char line[80];
    snprintf(line, sizeof line, "%s:", name);
    cr_expect(title_fits(c.brktext, line), "a name of 63 bytes does not fit");
    chart_done(&c);
}

/* Long category names (recompute-modules' core_attn+mlp+layernorm) get the room they need under
 * the axis, the axis's name under them, and gnuplot's warning about the room ('"/tmp/stepsim-
 * sweep-gp-XXXX" line 298: warning: difficulty making room for xtic labels') no longer reaches
 * stderr: the name had been cut at the image's bottom edge and the axis's name lost.  A PNG
 * draws a character about 0.75 of its font's points wide, the names slant at 30 degrees. */
Test(sweep_cmd, long_category_names_fit_under_the_axis, .init = setup)
{
    struct chart c;
    chart_draw(&c, LLAMA, "--set", "recompute=selective", "--vary", "pp=2,4", "--vary",
               "recompute-modules=core_attn,core_attn+mlp+layernorm", NULL);
    cr_expect_str_empty(c.err);
    const char *name = "core_attn+mlp+layernorm";
    double x, y, size, ax, ay, height = strtod(strstr(c.text, "height=\"") + 8, NULL);
    cr_assert(svg_text_xy(c.text, name, &x, &y, &size), "no %s", name);
    double pt = 0.75 * size; /* the SVG's pixels are 4/3 of the PNG's points */
    double bottom = y + 0.5 * 0.75 * pt * (double)strlen(name) + 0.8 * pt;
    cr_expect(bottom <= height, "%s ends at y %.0f of %.0f", name, bottom, height);
    cr_assert(svg_text_xy(c.text, "recompute-modules", &ax, &ay, &size), "no axis name");
    cr_expect(ay > bottom && ay + 0.3 * pt <= height, "the axis's name at y %.0f", ay);
    chart_done(&c);
}

/* A breakdown of 320 configs (past the 8000 px the image takes at most) labels one config in k,
 * its tics 31 px apart or more so that names slanted at 40 degrees do not overprint, and says so
 * under the axis; it had labelled each, 23.5 px apart. */
Test(sweep_cmd, a_wide_breakdown_labels_what_it_has_room_for, .init = setup)
{
    struct chart c;
    chart_draw(&c, LLAMA, "--set", "schedule=1f1b", "--vary", "pp=1,2,4,8,16", "--vary",
               "microbatches=1:64:+1", NULL);
    cr_assert(c.brktext, "no breakdown");
    double x1, x2, size;
    cr_assert(svg_text_at(c.brktext, "pp=1 microbatches=1", &x1, &size), "no first label");
    int n = 2;
    char label[64];
    for (; n <= 64; n++) { /* the next label drawn */
        snprintf(label, sizeof label, "pp=1 microbatches=%d", n);
        if (svg_text_at(c.brktext, label, &x2, &size))
            break;
    }
    cr_assert(n <= 64, "no second label");
    cr_expect(x2 - x1 >= 31, "labels %.1f px apart", x2 - x1);
    snprintf(label, sizeof label, "one config in %d labelled (the CSV lists all 320)", n - 1);
    cr_expect(strstr(c.brktext, label), "no '%s'", label);
    chart_done(&c);
}

/* Failed configs are counted on stderr in one line: rule errors, simulation errors, and those
 * that ran but do not fit in memory; nothing when all ran. */
/* A rule citing a micro-batch count the user never gave says where it came from: varying
 * micro-batch on gpt3-175b-a100 (global batch 1536, 128 GPUs, tp 8) had said only
 * "microbatches=3 is fewer than pp=4 ... (pp given by --vary)", and the failed row's derived
 * column is empty. */
Test(sweep_cmd, a_derived_microbatch_count_says_where_it_came_from, .init = setup)
{
    char *o, *e;
    int rc = run_sweep(&o, &e, TOP_SRCDIR "/scenarios/gpt3-175b-a100.xml", "--vary", "pp=4",
                       "--vary", "micro-batch=16", NULL);
    cr_assert_eq(rc, 0, "%s", e);
    cr_expect(strstr(o, "(Megatron rule) (pp, micro-batch given by --vary; microbatches=3 "
                        "follows global-batch=1536 / (micro-batch=16 x dp=32))\"\n"),
              "%s", o);
    free(o);
    free(e);
}

/* A rule broken by a value that followed a varied key blames that key, though every key the
 * rule cites came from the file: varying tp on gpt3-175b-a100 (tp 8, pp 8, global batch 1536 on
 * 1024 GPUs) makes tp=1 derive 12 micro-batches, which the interleaved groups refuse; the row
 * had said "scenarios/gpt3-175b-a100.xml:9: microbatches=12 leaves ..." as if the file were
 * wrong.  Varying global-batch on a DualPipe scenario, the schedule (vp follows it) on a
 * pipeline of as many ranks as layers and vp (the schedule follows it) had the same fault. */
Test(sweep_cmd, a_rule_broken_by_a_derived_value_blames_the_varied_key, .init = setup)
{
    char *o, *e;
    cr_assert_eq(
        run_sweep(&o, &e, TOP_SRCDIR "/scenarios/gpt3-175b-a100.xml", "--vary", "tp=1", NULL), 0,
        "%s", e);
    cr_expect(strstr(o, "\n1,error,") && !strstr(o, ".xml:"), "%s", o);
    cr_expect(strstr(o, "(Megatron rule: m % g must be 0 or >= pp) (tp given by --vary; "
                        "microbatches=12 follows global-batch=1536 / (micro-batch=1 x "
                        "dp=128))\"\n"),
              "%s", o);
    free(o);
    free(e);
    cr_assert_eq(run_sweep(&o, &e, TOP_SRCDIR "/scenarios/deepseek-v3-h800.xml", "--vary",
                           "global-batch=1920", NULL),
                 0, "%s", e);
    cr_expect(strstr(o, "but microbatches=15 (global-batch given by --vary; microbatches=15 "
                        "follows global-batch=1920 / (micro-batch=1 x dp=128))\"\n"),
              "%s", o);
    free(o);
    free(e);
    char path[256];
    write_temp_text(path, sizeof path,
                    "<scenario><pipeline schedule=\"1f1b\" pp=\"8\"/>"
                    "<batch microbatches=\"16\"/><model layers=\"8\"/>"
                    "<costs forward=\"1ms\" backward-input=\"1ms\"/></scenario>\n");
    cr_assert_eq(run_sweep(&o, &e, path, "--vary", "schedule=zb-v", NULL), 0, "%s", e);
    cr_expect(strstr(o, "\"pp*vp=16 model chunks exceed layers=8: every chunk needs a layer "
                        "(schedule given by --vary; vp=2 follows schedule=zb-v)\"\n"),
              "%s", o);
    unlink(path);
    free(o);
    free(e);
    /* and the reverse: vp=2 turns two_stage_link's 1f1b into the interleaved schedule, whose
     * groups of pp=2 its 3 micro-batches break */
    cr_assert_eq(
        run_sweep(&o, &e, TOP_SRCDIR "/scenarios/two_stage_link.xml", "--vary", "vp=2", NULL), 0,
        "%s", e);
    cr_expect(strstr(o, "(Megatron rule: m % g must be 0 or >= pp) (vp given by --vary; "
                        "schedule=interleaved follows vp=2)\"\n"),
              "%s", o);
    free(o);
    free(e);
}

Test(sweep_cmd, one_stderr_line_counts_the_failures, .init = setup)
{
    char *o, *e;
    cr_assert_eq(
        run_sweep(&o, &e, UNIT, "--vary", "pp=1,3,2", "--vary", "vp=1,3", NULL), 0);
    cr_assert_str_eq(e, "stepsim: sweep: 4 of 6 configs failed (4 rule errors)\n");
    free(o);
    free(e);
    /* micro-batch 8 needs more than the H100's 80 GB at the file's layout. */
    cr_assert_eq(run_sweep(&o, &e, LLAMA, "--vary", "micro-batch=1,8", NULL), 0);
    cr_assert_str_eq(e, "stepsim: sweep: 1 of 2 configs failed (1 out of memory)\n");
    char line[2048];
    cr_assert(strstr(line_of(o, 2, line, sizeof line), ",oom,") && strstr(line, ",no,"), "%s",
              line);
    free(o);
    free(e);
    cr_assert_eq(run_sweep(&o, &e, UNIT, "--vary", "pp=1,2", NULL), 0);
    cr_assert_str_empty(e);
    free(o);
    free(e);
}

/* A bar's step time above it reads as a number, not in exponent notation: a config of 1174 s
 * is labelled "1174 s OOM", not "1.17e+03 s OOM". */
Test(sweep_cmd, bar_labels_keep_whole_units_from_a_thousand, .init = setup)
{
    char dir[] = "/tmp/stepsim-test-sweep-XXXXXX";
    char svg[128], brk[128];
    chart_paths(dir, "k", svg, brk);
    char *o, *e;
    int rc = run_sweep(&o, &e, LLAMA, "--set", "cp=8", "--vary", "seq=8192,262144", "--plot",
                       svg, NULL);
    if (rc == 1 && strstr(e, "cannot run gnuplot")) {
        remove(dir);
        cr_skip_test("gnuplot not installed: plot not checked");
    }
    cr_assert_eq(rc, 0, "%s", e);
    char *text = file_text(brk);
    cr_expect(strstr(text, ">14.9 s<"), "no '14.9 s' label");
    cr_expect(strstr(text, ">1174 s OOM<"), "no '1174 s OOM' label");
    cr_expect(!strstr(text, "e+03"), "a label in exponent notation");
    free(text);
    remove(svg);
    remove(brk);
    remove(dir);
    free(o);
    free(e);
}

/* The x tic labels of the chart's bottom panel, in the order drawn (left to right): the texts
 * drawn on the baseline of the lowest `first` or " first" (the axis's first tic, as labelled
 * or in gnuplot's format '% g'), their centres in x[] and lengths in len[].  Returns how many
 * (at most `max`); *size gets their font size. */
static int bottom_tic_labels(const char *svg, const char *first, double *x, size_t *len,
                             int max, double *size)
{
    static const char g[] = "<g transform=\"translate(";
    double fx, fy = -1, y, sz;
    char want[80], spaced[64];
    snprintf(spaced, sizeof spaced, " %s", first);
    for (int k = 0; k < 2; k++) {
        const char *text = k ? spaced : first;
        snprintf(want, sizeof want, "<text>%s</text>", text);
        for (const char *p = svg; svg_text_xy(p, text, &fx, &y, &sz); p = strstr(p, want) + 1)
            fy = y > fy ? y : fy;
    }
    int n = 0;
    for (const char *p = strstr(svg, g); p && n < max; p = strstr(p + 1, g)) {
        char *end;
        double px = strtod(p + sizeof g - 1, &end), py = strtod(end + 1, NULL);
        const char *t = strstr(p, "<text>"), *next = strstr(p + 1, g);
        if (py != fy || !t || (next && t > next) || t[6] == '<') /* (an unlabelled tic) */
            continue;
        x[n] = px;
        len[n++] = strcspn(t + 6, "<");
        *size = sz;
    }
    return n;
}

/* Values given out of axis order (200 after 256) are labelled as they stand on the axis:
 * each label that clears its left neighbour, and the last value.  Labelling every k-th in
 * the order given had left 128 and 200 (or 256) bare with room to spare. */
Test(sweep_cmd, tic_labels_follow_the_axis_not_the_list, .init = setup)
{
    struct chart c;
    chart_draw(&c, UNIT, "--vary", "microbatches=16,32,64,128,256,200", NULL);
    double x[16], size = 0;
    size_t len[16];
    int n = bottom_tic_labels(c.text, "16", x, len, 16, &size);
    cr_expect_eq(n, 6, "%d of the 6 values labelled", n);
    for (int i = 1; i < n; i++)
        cr_expect(x[i] - x[i - 1] >= 0.3 * size * (double)(len[i] + len[i - 1]) + 4,
                  "labels %d and %d %.0f px apart", i - 1, i, x[i] - x[i - 1]);
    cr_expect(strstr(c.text, "<text>128</text>") && strstr(c.text, "<text>256</text>"),
              "128 or 256 unlabelled");
    chart_done(&c);
}

/* An x axis of 19 decades (hw.oversubscription 1 .. 1e18) on a plot narrowed by its legend
 * keeps its tic labels apart (a character taken as 0.6 em, centred on its tic), at powers of
 * ten: gnuplot's own tics fell every tenth power of 2, labelled 1.04858e+06 .. 1.15292e+18,
 * and overprinted each other. */
Test(sweep_cmd, tic_labels_of_many_decades_stay_apart, .init = setup)
{
    struct chart c;
    chart_draw(&c, LLAMA, "--vary", "schedule,vp=1f1b:1,dualpipe-v:2", "--vary",
               "hw.overlap-interference=0.1,0.2", "--vary",
               "hw.oversubscription=1,10,100,1000,10000,100000,1000000,10000000,100000000,"
               "1000000000,10000000000,100000000000,1000000000000,10000000000000,"
               "100000000000000,1000000000000000,10000000000000000,100000000000000000,"
               "1000000000000000000",
               NULL);
    double x[32], size = 0;
    size_t len[32];
    int n = bottom_tic_labels(c.text, "1", x, len, 32, &size);
    cr_expect(n >= 4 && n <= 10, "%d tic labels", n);
    for (int i = 1; i < n; i++)
        cr_expect(x[i] - x[i - 1] >= 0.3 * size * (double)(len[i] + len[i - 1]) + 8,
                  "labels %d and %d %.0f px apart", i - 1, i, x[i] - x[i - 1]);
    cr_expect(strstr(c.text, "<text>1e18</text>"), "no tic at 1e18");
    chart_done(&c);
}

/* Values bunched on a linear axis (microbatches 1 .. 5 and 200) label every k-th tic, k the
 * least that keeps the labels apart, and the last value too: "1", "2", "3", "4", "5" had been
 * written over each other. */
Test(sweep_cmd, bunched_tic_labels_stay_apart, .init = setup)
{
    struct chart c;
    chart_draw(&c, UNIT, "--vary", "microbatches=1,2,3,4,5,200", NULL);
    double x[16], size = 0;
    size_t len[16];
    int n = bottom_tic_labels(c.text, "1", x, len, 16, &size);
    cr_expect(n >= 2, "%d tic labels", n);
    for (int i = 1; i < n; i++)
        cr_expect(x[i] - x[i - 1] >= 0.3 * size * (double)(len[i] + len[i - 1]) + 4,
                  "labels %d and %d %.0f px apart", i - 1, i, x[i] - x[i - 1]);
    cr_expect(strstr(c.text, "<text>200</text>"), "the last value unlabelled");
    chart_done(&c);
}
