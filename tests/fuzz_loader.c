/* fuzz_loader: libFuzzer target for stepsim's XML loaders (`make fuzz`, tests/fuzz.sh).
 *
 * Built three times with FUZZ_KIND 1 (scenario), 2 (model) or 3 (hardware).  Each input is
 * written to a private temp file -- the loaders read files, as stepsim does -- and loaded.
 * A scenario that loads is then taken through the whole of `stepsim run`: rules, cost model
 * (which loads the model and hardware it refers to), simulation and report -- bad input must
 * fail with an error return anywhere along that path, never crash, leak or hang.
 *
 * The temp file sits two folders below a private root whose `models` and `hardware` (and those
 * of the folder in between) link to the shipped ones, so the references of the seed scenarios
 * ("../models/x.xml" from scenarios/, "../../models/x.xml" from scenarios/validation/) resolve
 * and the fuzzer mutates real modelled scenarios, not only ones whose references are missing;
 * beside the temp file, `scenarios` and `bases` (the bad corpus's) give <scenario base=...>
 * real chains to follow.
 * FUZZ_TOP (set by fuzz.sh) names the source tree, FUZZ_WORK the private root. */
#include <libxml/parser.h>
#include <gsl/gsl_errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hardware.h"
#include "model.h"
#include "scenario.h"
#include "step.h"

/* Simulated steps are kept small so the fuzzer spends its time on inputs, not on big steps;
 * the cap is the same max-ops check a user meets (scn_check), only lower. */
#define FUZZ_MAX_OPS 20000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char path[256];

static void link_shipped(const char *top, const char *dir)
{
    static const char *const kinds[] = {"models", "hardware"};
    for (int i = 0; i < 2; i++) {
        char from[512], to[512];
        snprintf(from, sizeof from, "%s/%s", top, kinds[i]);
        snprintf(to, sizeof to, "%s/%s", dir, kinds[i]);
        if (symlink(from, to) != 0)
            perror(to);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    gsl_set_error_handler_off();
    xmlInitParser();
    char root[128], mid[160];
    const char *work = getenv("FUZZ_WORK"); /* fuzz.sh gives a fresh folder and removes it */
    if (work && work[0])
        snprintf(root, sizeof root, "%s", work);
    else
        snprintf(root, sizeof root, "/tmp/stepsim-fuzz-%ld", (long)getpid());
    snprintf(mid, sizeof mid, "%s/a", root);
    char leaf[192];
    snprintf(leaf, sizeof leaf, "%s/b", mid);
    mkdir(root, 0700);
    mkdir(mid, 0700);
    mkdir(leaf, 0700);
    const char *top = getenv("FUZZ_TOP");
    if (top && top[0] == '/') {
        link_shipped(top, root);
        link_shipped(top, mid);
        /* for <scenario base=...>: the shipped scenarios and the bad corpus's bases */
        char from[512], to[512];
        snprintf(from, sizeof from, "%s/scenarios", top);
        snprintf(to, sizeof to, "%s/scenarios", leaf);
        if (symlink(from, to) != 0)
            perror(to);
        snprintf(from, sizeof from, "%s/tests/bad/bases", top);
        snprintf(to, sizeof to, "%s/bases", leaf);
        if (symlink(from, to) != 0)
            perror(to);
    }
    snprintf(path, sizeof path, "%s/input.xml", leaf);
    return 0;
}

#if FUZZ_KIND == 1
static void run_scenario(void)
{
    struct sim_error err;
    err_clear(&err);
    struct scenario scn;
    scn_defaults(&scn);
    if (scn_load(&scn, path, &err) != SIM_OK)
        return;
    if (scn.max_ops > FUZZ_MAX_OPS)
        scn.max_ops = FUZZ_MAX_OPS;
    struct step_output so;
    if (step_run(&scn, &so, &err) == SIM_OK)
        step_release(&so);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
#if FUZZ_KIND == 1
    run_scenario();
#elif FUZZ_KIND == 2
    struct sim_error err;
    err_clear(&err);
    struct model m;
    if (model_load(&m, path, &err) == SIM_OK)
        (void)model_params_total(&m);
#else
    struct sim_error err;
    err_clear(&err);
    struct hardware hw = {0};
    if (hw_load(&hw, path, &err) == SIM_OK) {
        (void)hw_curve_eval(&hw.gpu.matmul_eff, 1e11);
        hw_release(&hw);
    }
#endif
    return 0;
}
