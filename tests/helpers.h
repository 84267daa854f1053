/* helpers: shared fixtures and invariant checks for the Criterion tests. */
#ifndef STEPSIM_TEST_HELPERS_H
#define STEPSIM_TEST_HELPERS_H

#include <stdio.h>

#include "costs.h"
#include "pipeline.h"
#include "scenario.h"
#include "step.h"

struct sim_fixture {
    struct scenario scn;
    struct layout layout; /* the checked scenario's, as costs_build_setup read it */
    struct pipe_setup setup;
    struct pipe_result res;
    struct sim_error err;
};

/* Defaults, then each "KEY=VALUE" of the NULL-terminated list, then check, build and run.
 * Returns the status; on failure f->err says why. */
enum sim_status fixture_run(struct sim_fixture *f, const char *const *sets);
/* ... each of `sets`, then each of `more` (NULL: none). */
enum sim_status fixture_run_with(struct sim_fixture *f, const char *const *sets,
                                 const char *const *more);
/* scenarios/default.xml's costs as "KEY=VALUE"s, NULL-terminated: a 7B-class layer (F = B = W =
 * 1.2 ms), 64 MiB activations over 50 GB/s links with 5 us latency, a 15 ms optimizer. */
extern const char *const default_costs[];
void fixture_release(struct sim_fixture *f);
/* The smallest step of a V placement, two ranks of two chunks, ops of 1 ms, as "KEY=VALUE"s,
 * NULL-terminated: "schedule=" dualpipe, dualpipe-v or zb-v to be added. */
extern const char *const v_step[];

/* Rule checks every simulated step must pass (the shape of git's assert_sane_strbuf):
 * ops on one rank never overlap and run in schedule order; every F/B starts after its input
 * arrived; transfers on one link direction are serialised; records are sorted by start;
 * every (stage, micro-batch) has exactly one F and one B, and one W after its B when the
 * backward is split.  Fails the current test if not. */
void assert_sane_step(const struct pipe_setup *setup, const struct pipe_result *res);

/* Load the shipped model models/NAME.xml into `m`, failing the test with the loader's message. */
void load_shipped_model(struct model *m, const char *name);
/* Write text to a fresh temporary file whose name lands in `path`; the caller unlinks it. */
void write_temp_text(char *path, size_t len, const char *text);
/* Write `text` to a temp file and load it as a model: the loader must refuse it (SIM_EINPUT)
 * on `line` of that file with a message holding `frag`, and leave the model zeroed. */
void assert_model_rejected(const char *text, int line, const char *frag);

/* A hardware file with round numbers for hand-computed cost-model values, written to a
 * temp file whose name lands in `path`: bf16 peak 1000 TFLOPS at a flat 50% GEMM and 25%
 * attention efficiency (fp32 the same, so an fp32 run differs only in its bytes), fp8 2000
 * TFLOPS at a flat 40%, HBM so fast that element-wise work
 * costs ~nothing, no kernel overhead, training efficiency 1, no overlap interference;
 * `node_gpus` GPUs per node on 100 GB/s NVLink and a 50 GB/s network, both without latency;
 * 10 GB/s to host memory per GPU and 20 GB/s of the CPUs' memory bandwidth. */
const char *toy_hardware(char *path, size_t len, int node_gpus);
/* The same toy with extra attributes on its <gpu> element, e.g. fp8-gemm-layouts="any". */
const char *toy_hardware_with(char *path, size_t len, int node_gpus, const char *gpu_attrs);
/* ... and whose <node> holds `node_children` (e.g. <collective/> elements). */
const char *toy_hardware_xml(char *path, size_t len, int node_gpus, const char *gpu_attrs,
                             const char *node_children);
/* Defaults + `model` + a toy_hardware of `node_gpus` + the NULL-terminated "KEY=VALUE" list,
 * then the whole step into *out; fails the test if any of it fails. */
void toy_step(const char *model, int node_gpus, const char *const *sets, struct scenario *scn,
              struct step_output *out);
/* toy_step on a toy whose <gpu> element carries `gpu_attrs` as well. */
void toy_step_on(const char *model, int node_gpus, const char *gpu_attrs,
                 const char *const *sets, struct scenario *scn, struct step_output *out);
/* toy_step_on whose toy <node> holds `node_children` as well. */
void toy_step_xml(const char *model, int node_gpus, const char *gpu_attrs,
                  const char *node_children, const char *const *sets, struct scenario *scn,
                  struct step_output *out);
/* Defaults + `model` + a toy_hardware_with `gpu_attrs` + `sets`: a rule must refuse the step
 * (SIM_EINPUT) with a message holding `want`; fails the test otherwise. */
void toy_rule_error(const char *model, const char *gpu_attrs, const char *const *sets,
                    const char *want, struct scenario *scn, struct step_output *out);
/* A command's entry point (sweep_main, import_main, ...): argv[0] "stepsim", argv[1] the
 * command's name. */
typedef int (*command_fn)(int argc, char **argv, FILE *out, FILE *errout);
/* Run `stepsim COMMAND ARGS...` (args NULL-terminated, at most 60) through `fn`; its stdout and
 * stderr as heap strings the caller frees.  Returns the exit status. */
int run_command(command_fn fn, const char *command, const char *const *args, char **out,
                char **errtext);

/* Everything written to `fp` (a tmpfile()), as a NUL-terminated heap string the caller frees;
 * fp is closed. */
char *capture(FILE *fp);
/* How many times `needle` occurs in `hay` (overlapping occurrences counted). */
size_t count_of(const char *hay, const char *needle);
/* The number after the first "key": in a JSON text, read back as a double (asserts it is
 * there). */
double json_number(const char *json, const char *key);

/* Seconds -> picoseconds for expected values in tests. */
#define MS(x) ((simtime_t)((x) * 1000000000LL))

#endif
