/* pplayout: Megatron-Core's pipeline layout strings (--pipeline-model-parallel-layout).
 *
 * A layout names what each virtual stage holds, the stages in order and split at '|': E the
 * embedding, t one transformer layer, m one multi-token-prediction module, L the loss (with the
 * LM head).  Commas are cosmetic; "(X)*n" repeats X (no nested parentheses) and then "c*n"
 * repeats one character (megatron/core/transformer/pipeline_parallel_layer_layout.py,
 * parse_str_to_list).  "Et|(tt|)*30mL" is the embedding and one layer, thirty stages of two
 * layers, and the MTP module with the loss. */
#ifndef STEPSIM_PPLAYOUT_H
#define STEPSIM_PPLAYOUT_H

#include <stddef.h>

/* Unroll `in` into `out` (cap bytes): 0, or -1 with `why` set (a character outside E t m L | ,
 * ( ) * and digits, a repeat without its count, a nested, empty or unclosed group, a count of 0
 * or above 100000, an unrolled layout longer than cap - 1). */
int pplayout_unroll(const char *in, char *out, size_t cap, char *why, size_t len);
/* Virtual stages of an unrolled layout. */
int pplayout_stages(const char *layout);
/* How many `c` the unrolled layout holds, in all (stage < 0) or in virtual stage `stage`. */
int pplayout_count(const char *layout, int stage, char c);
/* The virtual stage that starts at `at` (the layout, or what this returned for the stage
 * before): its transformer layers and MTP modules.  Returns where the next stage starts; past
 * the last stage, the end of the layout, where every further stage holds nothing.  The one
 * reading of a stage's contents: pplayout_stage_layers and layout.c walk with it. */
const char *pplayout_next_stage(const char *at, int *layers, int *mtp);
/* The transformer layers of virtual stage `stage`: the first one's index and their count
 * (O(length) a call: layout.h resolves every stage in one walk). */
void pplayout_stage_layers(const char *layout, int stage, int *first_layer, int *count);
/* A balanced layout of `layers` layers over pp ranks of vp virtual stages each (rank r holds
 * stages r, r + pp, ...): every stage floor or ceil of layers / (pp x vp), the heavier ones the
 * run of stages just before the last, so each rank's total is within one layer of every other's
 * and the embedding's stage and the loss's are among the lightest (80 layers on pp 16 x vp 2:
 * "Et*2|(t*2|)*14(t*3|)*16t*2L", 5 a rank); `mtp` MTP modules go with the loss.  0, or -1 when
 * it does not fit in cap bytes. */
int pplayout_balanced(int layers, int pp, int vp, int mtp, char *out, size_t cap);
/* The same over whole groups, never splitting one: groups start at the layers where
 * `starts(layer, arg)` is true (layer 0 always), as Megatron-Bridge's GLM-5.2 recipes keep DSA's
 * top-k groups whole ("Et|t||tttt|...").  The groups of the largest size are balanced as
 * layers are above (each rank within one group of every other); the smaller ones before them
 * (GLM-5.2's layers 0 and 1) go on the first stage, whose rank is then kept off the extra
 * groups; stages may be empty.  0, or -1 when it does not fit in cap bytes. */
int pplayout_grouped(int layers, int pp, int vp, int mtp, int (*starts)(int layer, const void *arg),
                     const void *arg, char *out, size_t cap);

#endif
