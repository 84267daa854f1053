/* patterns: the kinds of run the validation sets group their errors by (see patterns.h). */
#include "patterns.h"

#include <stdio.h>
#include <string.h>

enum {
    PAT_A100,
    PAT_HOPPER,
    PAT_BLACKWELL,
    PAT_AMD,
    PAT_LOW_PRECISION,
    PAT_MOE,
    PAT_TP,
    PAT_CP,
    PAT_DEEP_PIPELINE,
    PAT_SCALE,
    PAT_SHARDED,
    PAT_FEW_MICROBATCHES,
    PAT_HYBRID
};

static const char *const pattern_names[PATTERN_COUNT] = {
    [PAT_A100] = "A100",         [PAT_HOPPER] = "Hopper",         [PAT_BLACKWELL] = "Blackwell",
    [PAT_AMD] = "AMD",           [PAT_LOW_PRECISION] = "fp8/fp4", [PAT_MOE] = "MoE",
    [PAT_TP] = "TP",             [PAT_CP] = "CP",                 [PAT_DEEP_PIPELINE] = "pp>=32",
    [PAT_SCALE] = "4096+GPUs",   [PAT_SHARDED] = "ZeRO-2/3",      [PAT_FEW_MICROBATCHES] = "few-mb",
    [PAT_HYBRID] = "hybrid",
};

/* The generation a GPU's name says, by the chips each holds (H800 and H20 are Hopper
 * export parts, GB200 / GB300 Blackwell beside a Grace CPU); -1 for a name of none. */
static int generation(const char *gpu)
{
    static const struct {
        const char *chip;
        int pattern;
    } chips[] = {
        {"A100", PAT_A100},      {"A800", PAT_A100},      {"H100", PAT_HOPPER},
        {"H200", PAT_HOPPER},    {"H800", PAT_HOPPER},    {"H20", PAT_HOPPER},
        {"B200", PAT_BLACKWELL}, {"B300", PAT_BLACKWELL}, {"Blackwell", PAT_BLACKWELL},
        {"MI3", PAT_AMD},
    };
    for (size_t i = 0; gpu && i < sizeof chips / sizeof chips[0]; i++)
        if (strstr(gpu, chips[i].chip))
            return chips[i].pattern;
    return -1;
}

unsigned patterns_of(const struct pattern_inputs *in)
{
    unsigned mask = 0;
    int gen = generation(in->gpu_name);
    if (gen >= 0)
        mask |= 1u << gen;
    if (in->low_precision)
        mask |= 1u << PAT_LOW_PRECISION;
    if (in->moe)
        mask |= 1u << PAT_MOE;
    if (in->tp > 1)
        mask |= 1u << PAT_TP;
    if (in->cp > 1)
        mask |= 1u << PAT_CP;
    if (in->pp >= 32)
        mask |= 1u << PAT_DEEP_PIPELINE;
    if (in->gpus >= 4096)
        mask |= 1u << PAT_SCALE;
    if (in->zero >= 2)
        mask |= 1u << PAT_SHARDED;
    if (in->microbatches > 0 && in->microbatches <= 16 && in->gpus >= 64)
        mask |= 1u << PAT_FEW_MICROBATCHES;
    if (in->hybrid)
        mask |= 1u << PAT_HYBRID;
    return mask;
}

const char *pattern_name(int i)
{
    return i >= 0 && i < PATTERN_COUNT ? pattern_names[i] : NULL;
}

void patterns_text(unsigned mask, const char *sep, char *buf, size_t len)
{
    size_t used = 0;
    if (!len)
        return;
    buf[0] = '\0';
    for (int i = 0; i < PATTERN_COUNT; i++) {
        if (!(mask & (1u << i)))
            continue;
        int w = snprintf(buf + used, len - used, "%s%s", used ? sep : "", pattern_names[i]);
        if (w < 0 || (size_t)w >= len - used) {
            buf[used] = '\0'; /* whole names only: drop the one that did not fit */
            return;
        }
        used += (size_t)w;
    }
}
