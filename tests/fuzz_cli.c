/* fuzz_cli: libFuzzer target for stepsim's command line -- run, sweep and plan argument
 * vectors (`make fuzz`, tests/fuzz.sh, kind "cli").
 *
 * An input is an argument vector: its first byte picks the command (run, sweep, plan), its
 * second the scenario, and the rest, split at NUL and newline bytes, are the arguments that
 * follow: options, --set keys and values, --vary lists and ranges, in any combination.  The
 * vector goes to cli_main, as from main.
 *
 * Outputs stay in a private folder: the harness works inside FUZZ_WORK (set by fuzz.sh; TMPDIR
 * points into it too) and cuts every output option's value to its last path component, so
 * "--timeline /etc/x" writes ./x (/dev/null is kept: a device written in place).  gnuplot is a stub
 * that exits 0 (fuzz.sh builds with a private config.h), so --plot runs the whole output path
 * without drawing.  The scenarios, the model and the hardware the commands load are copies inside
 * the folder, so outputs can name them.  After every input the harness checks the output rules as
 * an oracle and aborts -- a finding -- if an input file changed (an output overwrote it) or a file
 * is there that the input did not ask for (a temp file left beside the outputs, anything in
 * TMPDIR).  The outputs it asked for are then removed.
 *
 * Work per input is bounded as a user would bound it: the harness appends
 * --set max-ops=FUZZ_MAX_OPS (a --set given last wins) and, for sweeps and plans, -j 1 (one
 * core), skips sweeps that vary max-ops or have more than FUZZ_MAX_CONFIGS configs (counted
 * with the sweep's own parser). */
#include <dirent.h>
#include <gsl/gsl_errno.h>
#include <libxml/parser.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "sweep.h"

#define FUZZ_MAX_ARGS 48
#define FUZZ_MAX_ARG_LEN 256
#define FUZZ_MAX_OPS "20000"
#define FUZZ_MAX_CONFIGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *const commands[] = {"run", "sweep", "plan"};
/* Inputs in the private folder (copied at start; must never change). */
static const char *const scenarios[] = {"unit.xml", "two_stage_link.xml", "modelled.xml", "moe.xml",
                                        "variant.xml"};
static const char *const inputs[] = {
    "unit.xml",    "two_stage_link.xml", "modelled.xml",       "moe.xml",
    "variant.xml", "m/llama3.1-8b.xml",  "m/mixtral-8x7b.xml", "m/dgx-h100.xml"};
#define NINPUTS (sizeof inputs / sizeof inputs[0])
static char *original[NINPUTS]; /* their bytes */
static size_t original_len[NINPUTS];
static FILE *devnull;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, r;
    do {
        if (n == cap) {
            cap = cap ? 2 * cap : 65536;
            char *grown = realloc(buf, cap);
            if (!grown)
                abort();
            buf = grown;
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
    } while (r > 0);
    fclose(f);
    *len = n;
    return buf;
}

static void copy_file(const char *from, const char *to)
{
    size_t n;
    char *buf = slurp(from, &n);
    FILE *f = fopen(to, "wb");
    if (!buf || !f || fwrite(buf, 1, n, f) != n) {
        fprintf(stderr, "fuzz_cli: cannot copy %s to %s\n", from, to);
        abort();
    }
    fclose(f);
    free(buf);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) == EOF)
        abort();
    fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    gsl_set_error_handler_off();
    xmlInitParser();
    const char *top = getenv("FUZZ_TOP"), *work = getenv("FUZZ_WORK");
    if (!top || !work || top[0] != '/' || work[0] != '/') {
        fprintf(stderr, "fuzz_cli: FUZZ_TOP and FUZZ_WORK must be absolute paths\n");
        abort();
    }
    char path[1024], tmpdir[1024];
    snprintf(path, sizeof path, "%s/m", work);
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", work);
    mkdir(work, 0700);
    mkdir(path, 0700);
    mkdir(tmpdir, 0700);
    if (chdir(work) != 0)
        abort();
    setenv("TMPDIR", tmpdir, 1);
    static const char *const copies[][2] = {
        {"scenarios/unit.xml", "unit.xml"},
        {"scenarios/two_stage_link.xml", "two_stage_link.xml"},
        {"models/llama3.1-8b.xml", "m/llama3.1-8b.xml"},
        {"models/mixtral-8x7b.xml", "m/mixtral-8x7b.xml"},
        {"hardware/dgx-h100.xml", "m/dgx-h100.xml"},
    };
    for (size_t i = 0; i < sizeof copies / sizeof copies[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", top, copies[i][0]);
        copy_file(path, copies[i][1]);
    }
    write_text("modelled.xml",
               "<?xml version=\"1.0\"?>\n<scenario name=\"modelled\">\n"
               "  <model ref=\"m/llama3.1-8b.xml\"/>\n  <hardware ref=\"m/dgx-h100.xml\"/>\n"
               "  <parallel gpus=\"16\" tp=\"2\" sp=\"true\"/>\n"
               "  <pipeline schedule=\"interleaved\" pp=\"4\" vp=\"2\"/>\n"
               "  <batch micro-batch=\"1\" global-batch=\"16\" seq=\"2048\"/>\n</scenario>\n");
    write_text("moe.xml",
               "<?xml version=\"1.0\"?>\n<scenario name=\"moe\">\n"
               "  <model ref=\"m/mixtral-8x7b.xml\"/>\n  <hardware ref=\"m/dgx-h100.xml\"/>\n"
               "  <parallel gpus=\"16\" tp=\"2\" ep=\"4\"/>\n"
               "  <pipeline schedule=\"dualpipe\" pp=\"2\" vp=\"2\"/>\n"
               "  <batch micro-batch=\"1\" global-batch=\"16\" seq=\"1024\"/>\n</scenario>\n");
    write_text("variant.xml", "<?xml version=\"1.0\"?>\n<scenario base=\"unit.xml\">\n"
                              "  <pipeline schedule=\"zb-h1\" pp=\"2\"/>\n</scenario>\n");
    for (size_t i = 0; i < NINPUTS; i++) {
        original[i] = slurp(inputs[i], &original_len[i]);
        if (!original[i])
            abort();
    }
    devnull = fopen("/dev/null", "w");
    if (!devnull)
        abort();
    return 0;
}

/* "--timeline /a/b" and "--timeline=/a/b" become "--timeline b": outputs stay here. */
static int is_output_option(const char *a, size_t *name_len)
{
    static const char *const opts[] = {"--timeline", "--trace", "--plot", "--memory-timeline",
                                       "--out", "--report"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        size_t n = strlen(opts[i]);
        if (strncmp(a, opts[i], n) == 0 && (a[n] == '\0' || a[n] == '=')) {
            *name_len = n;
            return 1;
        }
    }
    return 0;
}

/* The outputs this input asked for (their names here), and --plot's companions. */
static char asked[FUZZ_MAX_ARGS * 3][FUZZ_MAX_ARG_LEN + 16];
static int nasked;

static void ask(const char *name, const char *suffix)
{
    size_t n = strlen(name);
    if (!suffix)
        snprintf(asked[nasked++], sizeof asked[0], "%s", name);
    else if (n >= 4)
        snprintf(asked[nasked++], sizeof asked[0], "%.*s-%s%s", (int)(n - 4), name, suffix,
                 name + n - 4);
}

static int was_asked(const char *name)
{
    for (int i = 0; i < nasked; i++)
        if (strcmp(asked[i], name) == 0)
            return 1;
    return 0;
}

static void keep_here(char *value, int plot)
{
    if (strcmp(value, "/dev/null") == 0) /* a device written in place: harmless, kept */
        return;
    char *slash = strrchr(value, '/');
    if (slash)
        memmove(value, slash + 1, strlen(slash + 1) + 1);
    ask(value, NULL);
    if (plot) {
        ask(value, "memory");
        ask(value, "breakdown");
    }
}

/* The number of configs of the sweep the arguments ask for, by the sweep's own parser; 0 when
 * the --vary lists are bad (the sweep refuses them at once). */
static size_t sweep_configs(int argc, char **argv)
{
    struct sweep_axis axes[SWEEP_MAX_AXES];
    int naxes = 0;
    size_t n = 1;
    for (int i = 3; i < argc && naxes < SWEEP_MAX_AXES; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--vary") == 0 && i + 1 < argc)
            v = argv[++i];
        else if (strncmp(argv[i], "--vary=", 7) == 0)
            v = argv[i] + 7;
        struct sim_error err;
        if (v && sweep_axis_parse(&axes[naxes], v, &err) == SIM_OK)
            naxes++;
    }
    struct sim_error err;
    if (naxes == 0 || sweep_count(axes, naxes, &n, &err) != SIM_OK)
        n = 0;
    for (int a = 0; a < naxes; a++)
        sweep_axis_release(&axes[a]);
    return n;
}

/* The oracle: inputs unchanged, no temp file left; then remove what the input wrote. */
static void check_and_clean(void)
{
    for (size_t i = 0; i < NINPUTS; i++) {
        size_t n = 0;
        char *now = slurp(inputs[i], &n);
        if (!now || n != original_len[i] || memcmp(now, original[i], n) != 0) {
            fprintf(stderr, "fuzz_cli: the input %s changed\n", inputs[i]);
            abort();
        }
        free(now);
    }
    static const char *const dirs[] = {".", "tmp"};
    for (size_t d = 0; d < 2; d++) {
        DIR *dir = opendir(dirs[d]);
        if (!dir)
            abort();
        struct dirent *e;
        while ((e = readdir(dir))) {
            const char *name = e->d_name;
            if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strcmp(name, "m") == 0 ||
                strcmp(name, "tmp") == 0)
                continue;
            int input = 0;
            for (size_t i = 0; i < NINPUTS; i++)
                input |= strcmp(name, inputs[i]) == 0;
            if (input || (strncmp(name, "fuzz-", 5) == 0 && strstr(name, ".log")))
                continue; /* libFuzzer's -jobs logs: its parent runs here too */
            if (d == 1 || !was_asked(name)) {
                fprintf(stderr, "fuzz_cli: left behind: %s/%s\n", dirs[d], name);
                abort();
            }
            char path[600];
            snprintf(path, sizeof path, "%s/%s", dirs[d], name);
            if (remove(path) != 0) { /* a directory the input made? there is no mkdir */
                fprintf(stderr, "fuzz_cli: cannot remove %s\n", path);
                abort();
            }
        }
        closedir(dir);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static char args[FUZZ_MAX_ARGS][FUZZ_MAX_ARG_LEN];
    char *argv[FUZZ_MAX_ARGS + 8];
    int argc = 0;
    argv[argc++] = "stepsim";
    argv[argc++] = (char *)commands[data[0] % 3];
    argv[argc++] = (char *)scenarios[data[1] % (sizeof scenarios / sizeof scenarios[0])];
    int nargs = 0;
    size_t len = 0;
    nasked = 0;
    for (size_t i = 2; i <= size && nargs < FUZZ_MAX_ARGS; i++) {
        if (i == size || data[i] == '\0' || data[i] == '\n') {
            args[nargs][len] = '\0';
            argv[argc++] = args[nargs++];
            len = 0;
        } else if (len + 1 < FUZZ_MAX_ARG_LEN) {
            args[nargs][len++] = (char)data[i];
        }
    }
    for (int i = 3; i < argc; i++) {
        size_t n;
        if (strstr(argv[i], "max-ops") && strcmp(argv[1], "sweep") == 0)
            return 0; /* a --vary of max-ops would lift the bound below */
        if (!is_output_option(argv[i], &n))
            continue;
        int plot = strncmp(argv[i], "--plot", 6) == 0;
        if (argv[i][n] == '=')
            keep_here(argv[i] + n + 1, plot);
        else if (i + 1 < argc)
            keep_here(argv[++i], plot);
    }
    if (strcmp(argv[1], "sweep") == 0 && sweep_configs(argc, argv) > FUZZ_MAX_CONFIGS)
        return 0;
    argv[argc++] = "--set";
    argv[argc++] = "max-ops=" FUZZ_MAX_OPS;
    if (strcmp(argv[1], "run") != 0) { /* one core: the last -j wins */
        argv[argc++] = "-j";
        argv[argc++] = "1";
    }
    argv[argc] = NULL;
    cli_main(argc, argv, devnull, devnull);
    check_and_clean();
    return 0;
}
