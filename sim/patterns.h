/* patterns: the kinds of run the validation sets group their errors by.
 *
 * A modelled run has the patterns of its GPU generation (A100, Hopper, Blackwell or AMD, read in
 * the GPU's name; a GPU of none of them has no generation pattern), of 8- or 4-bit GEMMs (fp8/fp4),
 * of expert parallelism (MoE: the model has experts), tensor parallelism (TP > 1), context
 * parallelism (CP > 1), a deep pipeline (pp >= 32), production scale (4096 GPUs or more), sharded
 * data parallelism (ZeRO-2/3, FSDP) and few micro-batches a replica on many GPUs (few-mb: at most
 * 16 on 64 GPUs or more, where MLPerf's logs show a fixed cost per step stepsim lacks), and hybrid
 * models (their layers mix tokens by Mamba-2 or Gated DeltaNet mixers beside or instead of
 * attention).  The generations, fp8/fp4, MoE, CP, pp>=32, 4096+GPUs and ZeRO-2/3 are the kinds the
 * first published errors were grouped by (README "Accuracy"); few-mb and TP came with the held-out
 * sets whose errors they gather (TP: Blackwell runs with tensor parallelism, predicted too fast
 * where those without it are not), hybrid with the second linear-time mixer (a Qwen3-Next user asks
 * how the runs of models like it were predicted).  `make validate` prints each one's error and
 * `stepsim published` those of the scenario's own. */
#ifndef STEPSIM_PATTERNS_H
#define STEPSIM_PATTERNS_H

#include <stddef.h>

#define PATTERN_COUNT 13

/* What the patterns are read from. */
struct pattern_inputs {
    const char *gpu_name; /* the hardware file's <gpu name> */
    int low_precision;    /* the GEMMs run in fp8 or a 4-bit type */
    int moe;              /* the model has routed experts */
    int tp, cp, pp, gpus, zero;
    int microbatches;     /* micro-batches a data-parallel replica runs per step */
    int hybrid;           /* the model has Mamba-2 or Gated DeltaNet layers */
};

/* The patterns of a run: bit i set for pattern i (pattern_name). */
unsigned patterns_of(const struct pattern_inputs *in);
/* Pattern i's name ("A100", "Hopper", ..., "ZeRO-2/3"); NULL outside 0..PATTERN_COUNT-1. */
const char *pattern_name(int i);
/* The names of the patterns in `mask`, in pattern order, joined by `sep` ("" when none); the
 * names that fit in `len` bytes, whole. */
void patterns_text(unsigned mask, const char *sep, char *buf, size_t len);

#endif
