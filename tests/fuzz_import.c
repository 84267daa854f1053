/* fuzz_import: libFuzzer target for `stepsim import megatron`'s launch-line parser (`make
 * fuzz`, tests/fuzz.sh, kind "import").
 *
 * An input is one launch line as a user pastes it -- shell words, quotes, continuations,
 * --flag value, --flag=value, Hydra's section.flag=value, lists -- handed to import_megatron,
 * which turns it into scenario keys.  Bad text must come back as an error return, never a
 * crash, an overflow of its fixed-size fields or a leak.  The model lookup and the file
 * writer are the command's, not the parser's, and are left out. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    struct import_result *res = malloc(sizeof *res); /* large: off the stack */
    if (!line || !res) {
        free(line);
        free(res);
        return 0;
    }
    memcpy(line, data, size);
    line[size] = '\0';
    const char *words[] = {line};
    struct sim_error err;
    err_clear(&err);
    (void)import_megatron(words, 1, res, &err);
    free(res);
    free(line);
    return 0;
}
