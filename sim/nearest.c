/* nearest: did-you-mean by edit distance (see nearest.h). */
#include "nearest.h"

#include <ctype.h>
#include <string.h>

#define NEAREST_MAX_EDITS 2

/* A letter as compared: '_' as '-', and either case ('PP' is 'pp' typed with caps lock). */
static char fold(char c)
{
    return c == '_' ? '-' : (char)tolower((unsigned char)c);
}

/* Edit distance of a and b, or cap + 1 when it is larger than cap (or a word is too long). */
static int distance(const char *a, const char *b, int cap)
{
    size_t n = strlen(a), m = strlen(b);
    if (n >= NEAREST_MAX_LEN || m >= NEAREST_MAX_LEN || (n > m ? n - m : m - n) > (size_t)cap)
        return cap + 1;
    int d[NEAREST_MAX_LEN + 1][NEAREST_MAX_LEN + 1];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            char x = fold(a[i - 1]), y = fold(b[j - 1]);
            int best = d[i - 1][j - 1] + (x != y);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && x == fold(b[j - 2]) && fold(a[i - 2]) == y &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[n][m] > cap ? cap + 1 : d[n][m];
}

int nearest_word(const char *typed, const char *const *words, size_t n)
{
    int best = -1, best_d = NEAREST_MAX_EDITS + 1;
    for (size_t i = 0; i < n; i++) {
        int d = distance(typed, words[i], NEAREST_MAX_EDITS);
        if (d < best_d && 2 * (size_t)d < strlen(typed)) {
            best = (int)i;
            best_d = d;
        }
    }
    return best;
}
