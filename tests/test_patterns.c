/* test_patterns: the kinds of run the validation sets group their errors by -- each pattern's
 * edge, the GPU generations of the shipped hardware's GPU names, and the text form. */
#include <criterion/criterion.h>
#include <string.h>

#include "patterns.h"

/* The patterns of `in`, as text. */
static const char *text_of(const struct pattern_inputs *in)
{
    static char buf[160];
    patterns_text(patterns_of(in), ",", buf, sizeof buf);
    return buf;
}

static struct pattern_inputs plain(const char *gpu)
{
    return (struct pattern_inputs){.gpu_name = gpu, .cp = 1, .pp = 1, .gpus = 8, .zero = 1};
}

Test(patterns, generation_from_every_shipped_gpu_name)
{
    static const struct {
        const char *gpu, *want;
    } cases[] = {
        {"A100 SXM4 40GB", "A100"},
        {"A100 SXM4 80GB", "A100"},
        {"H100 SXM5 80GB", "Hopper"},
        {"H100 NVL 94GB", "Hopper"},
        {"H100 SXM5 96GB HBM2e, 500 W", "Hopper"},
        {"H200 SXM 141GB", "Hopper"},
        {"H800 SXM5 80GB", "Hopper"},
        {"B200 180GB", "Blackwell"},
        {"B300 288GB", "Blackwell"},
        {"GB200 Blackwell 186GB", "Blackwell"},
        {"GB300 Blackwell Ultra 279GB", "Blackwell"},
        {"MI300X 192GB", "AMD"},
        {"MI355X 288GB", "AMD"},
        {"Gaudi 3", ""}, /* no generation pattern */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pattern_inputs in = plain(cases[i].gpu);
        cr_expect_str_eq(text_of(&in), cases[i].want, "%s", cases[i].gpu);
    }
    struct pattern_inputs none = plain(NULL);
    cr_expect_str_eq(text_of(&none), "");
}

/* Each size pattern starts exactly at its threshold. */
Test(patterns, thresholds)
{
    struct pattern_inputs in = plain("H100 SXM5 80GB");
    in.cp = 2;
    cr_expect_str_eq(text_of(&in), "Hopper,CP");
    in = plain("H100 SXM5 80GB");
    in.tp = 1;
    cr_expect_str_eq(text_of(&in), "Hopper");
    in.tp = 2;
    cr_expect_str_eq(text_of(&in), "Hopper,TP");
    in = plain("H100 SXM5 80GB");
    in.pp = 31;
    cr_expect_str_eq(text_of(&in), "Hopper");
    in.pp = 32;
    cr_expect_str_eq(text_of(&in), "Hopper,pp>=32");
    in = plain("H100 SXM5 80GB");
    in.gpus = 4095;
    cr_expect_str_eq(text_of(&in), "Hopper");
    in.gpus = 4096;
    cr_expect_str_eq(text_of(&in), "Hopper,4096+GPUs");
    in = plain("H100 SXM5 80GB");
    in.zero = 2;
    cr_expect_str_eq(text_of(&in), "Hopper,ZeRO-2/3");
    in = plain("H100 SXM5 80GB"); /* few micro-batches a replica: 16 at most, on 64+ GPUs */
    in.microbatches = 16;
    in.gpus = 63;
    cr_expect_str_eq(text_of(&in), "Hopper");
    in.gpus = 64;
    cr_expect_str_eq(text_of(&in), "Hopper,few-mb");
    in.microbatches = 17;
    cr_expect_str_eq(text_of(&in), "Hopper");
    in = plain("H100 SXM5 80GB");
    in.hybrid = 1;
    cr_expect_str_eq(text_of(&in), "Hopper,hybrid");
}

/* All at once, in the one order make validate prints them. */
Test(patterns, every_pattern_in_order)
{
    struct pattern_inputs in = {.gpu_name = "GB200 Blackwell 186GB", .low_precision = 1,
                                .moe = 1, .tp = 8, .cp = 4, .pp = 64, .gpus = 8192, .zero = 3,
                                .microbatches = 8, .hybrid = 1};
    cr_expect_str_eq(text_of(&in),
                     "Blackwell,fp8/fp4,MoE,TP,CP,pp>=32,4096+GPUs,ZeRO-2/3,few-mb,hybrid");
    char sep[160];
    patterns_text(patterns_of(&in), ", ", sep, sizeof sep);
    cr_expect_str_eq(sep, "Blackwell, fp8/fp4, MoE, TP, CP, pp>=32, 4096+GPUs, ZeRO-2/3, "
                          "few-mb, hybrid");
}

Test(patterns, names_and_bounds)
{
    cr_expect_str_eq(pattern_name(0), "A100");
    cr_expect_str_eq(pattern_name(PATTERN_COUNT - 1), "hybrid");
    cr_expect_null(pattern_name(-1));
    cr_expect_null(pattern_name(PATTERN_COUNT));
}

/* A short buffer keeps whole names that fit and stays terminated. */
Test(patterns, short_buffer)
{
    struct pattern_inputs in = {.gpu_name = "H100 SXM5 80GB", .low_precision = 1, .moe = 1,
                                .cp = 1, .pp = 1, .gpus = 8};
    char buf[12];
    memset(buf, 'x', sizeof buf);
    patterns_text(patterns_of(&in), ",", buf, sizeof buf);
    cr_expect_str_eq(buf, "Hopper");
    char none[1] = {'x'};
    patterns_text(patterns_of(&in), ",", none, sizeof none);
    cr_expect_eq(none[0], '\0');
    patterns_text(patterns_of(&in), ",", NULL, 0); /* nothing written, no crash */
}
