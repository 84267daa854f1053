/* nearest: the known word closest to a mistyped one, for "did you mean" hints.
 *
 * Distance is the optimal-string-alignment edit distance (insert, delete, substitute, swap two
 * neighbours: 1 each), with '_' and '-' counted as the same letter, and so a letter's two
 * cases.  A word is near when it is at most 2 edits away and the edits are fewer than half the
 * typed word's letters, so short names are not matched to anything ("xy" is not "tp").  Words
 * are short: both must be under NEAREST_MAX_LEN characters; O(len^2) per word. */
#ifndef STEPSIM_NEAREST_H
#define STEPSIM_NEAREST_H

#include <stddef.h>

#define NEAREST_MAX_LEN 64

/* Index of the word in words[0..n) nearest to `typed` (the first of equals), or -1. */
int nearest_word(const char *typed, const char *const *words, size_t n);

#endif
