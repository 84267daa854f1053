/* fuzz_loader: libFuzzer target for stepsim's XML loaders (`make fuzz`, tests/fuzz.sh).
 *
 * Built three times with FUZZ_KIND 1 (scenario), 2 (model) or 3 (hardware).  Each input is
 * written to a private temp file -- the loaders read files, as stepsim does -- and loaded; for
 * scenarios the rules are checked too.  Any crash, leak, hang or sanitizer report is a bug:
 * bad input must only ever produce an error return. */
#include <libxml/parser.h>
#include <gsl/gsl_errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hardware.h"
#include "model.h"
#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    gsl_set_error_handler_off();
    xmlInitParser();
    snprintf(path, sizeof path, "/tmp/stepsim-fuzz-%ld.xml", (long)getpid());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    struct sim_error err;
    err_clear(&err);
#if FUZZ_KIND == 1
    struct scenario scn;
    scn_defaults(&scn);
    if (scn_load(&scn, path, &err) == SIM_OK && !scn_is_modelled(&scn))
        scn_check(&scn, &err);
#elif FUZZ_KIND == 2
    struct model m;
    if (model_load(&m, path, &err) == SIM_OK)
        (void)model_params_total(&m);
#else
    struct hardware hw = {0};
    if (hw_load(&hw, path, &err) == SIM_OK) {
        (void)hw_curve_eval(&hw.gpu.matmul_eff, 1e11);
        hw_release(&hw);
    }
#endif
    return 0;
}
