/* test_scenario: key parsing, error records with file:line, the cross-field rules (each firing
 * and each staying quiet), loading a shipped scenario and --set overrides. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "scenario.h"

#define SRC(p) TOP_SRCDIR "/" p

/* Defaults plus the NULL-terminated "KEY=VALUE" list, as --set would apply them. */
static void setup_scn(struct scenario *scn, const char *const *sets)
{
    struct sim_error err;
    err_clear(&err);
    scn_defaults(scn);
    for (; sets && *sets; sets++)
        cr_assert_eq(scn_set_arg(scn, *sets, &err), SIM_OK, "%s: %s", *sets, err.msg);
}

/* scn_check passes. */
static void assert_valid(const char *const *sets)
{
    struct scenario scn;
    struct sim_error err;
    setup_scn(&scn, sets);
    err_clear(&err);
    cr_assert_eq(scn_check(&scn, &err), SIM_OK, "rejected: %s", err.msg);
}

/* scn_check fails with a message containing frag. */
static void assert_rule(const char *const *sets, const char *frag)
{
    struct scenario scn;
    struct sim_error err;
    setup_scn(&scn, sets);
    err_clear(&err);
    cr_assert_eq(scn_check(&scn, &err), SIM_EINPUT, "accepted; expected '%s'", frag);
    cr_assert(strstr(err.msg, frag) != NULL, "message '%s' lacks '%s'", err.msg, frag);
}

/* Write text to a fresh temporary file; the caller unlinks path. */
static void write_temp(char *path, size_t len, const char *text)
{
    write_temp_text(path, len, text);
}

/* ---- keys and values --------------------------------------------------------------------- */

Test(scenario, defaults_are_a_valid_scenario)
{
    struct scenario scn;
    scn_defaults(&scn);
    cr_assert_str_eq(scn.schedule, "1f1b");
    cr_assert_eq(scn.pp, 1);
    cr_assert_eq(scn.vp, 1);
    cr_assert_eq(scn.microbatches, 1);
    cr_assert_eq(scn.layers, 1);
    cr_assert_eq(scn.link_given, 0);
    assert_valid(NULL);
}

/* The table's defaults are what the engine and the cost model assumed before they moved into
 * the table; every key has a doc, a value description and a default to print. */
Test(scenario, defaults_come_from_the_key_table)
{
    struct scenario scn;
    scn_defaults(&scn);
    cr_assert_str_eq(scn.name, "unnamed");
    cr_assert_eq(scn.micro_batch, 1);
    cr_assert_eq(scn.seed, 1ul);
    cr_assert_eq(scn.tp, 1);
    cr_assert_eq(scn.cp, 1);
    cr_assert_eq(scn.ep, 1);
    cr_assert_eq(scn.etp, 1);
    cr_assert_eq(scn.max_ops, 20000000);
    cr_assert_eq(scn.dtype, 2, "bf16");
    cr_assert_eq(scn.recompute, RECOMPUTE_NONE);
    cr_assert_eq(scn.attention, ATTENTION_FLASH);
    cr_assert_eq(scn.gpus, 0, "0: tp*cp*pp");
    cr_assert_eq(scn.global_batch, 0);
    cr_assert_eq(scn.seq, 0);
    cr_assert_float_eq(scn.link_bw_Bps, 0.0, 0.0);
    for (int k = 0; k < SCN_KEY_COUNT; k++) {
        cr_assert_not(scn_given(&scn, (enum scn_key)k), "%s: a default is not given",
                     scn_key_name((enum scn_key)k));
        struct scn_key_doc d;
        scn_key_describe((enum scn_key)k, &d);
        cr_assert_str_eq(d.name, scn_key_name((enum scn_key)k));
        cr_assert(strcmp(d.doc, "(not documented)") != 0, "%s has no doc", d.name);
        cr_assert(d.value[0] && d.def[0], "%s: value or default empty", d.name);
    }
    struct scn_key_doc d;
    scn_key_describe(SCN_DTYPE, &d);
    cr_assert_str_eq(d.value, "one of fp32, tf32, bf16, fp16, fp8, nvfp4");
    cr_assert_str_eq(d.def, "bf16");
    cr_assert_str_eq(d.applies, "cost model");
    scn_key_describe(SCN_GPUS, &d);
    cr_assert_str_eq(d.def, "tp*cp*pp");
    scn_key_describe(SCN_FORWARD, &d);
    cr_assert_str_eq(d.applies, "explicit costs");
    cr_assert(strstr(d.value, "time") == d.value, "%s", d.value);
}

/* Megatron-LM's flags, torchtitan / DeepSpeed settings and short forms name stepsim's key,
 * whatever their dashes, underscores or case; every alias names a key that exists. */
Test(scenario, other_tools_names_point_at_the_key)
{
    cr_assert_str_eq(scn_key_alias("--tensor-model-parallel-size"), "tp");
    cr_assert_str_eq(scn_key_alias("TP_SIZE"), "tp");
    cr_assert_str_eq(scn_key_alias("--mbs"), "micro-batch");
    cr_assert_str_eq(scn_key_alias("gradient_accumulation_steps"), "microbatches");
    cr_assert_str_eq(scn_key_alias("seq_length"), "seq");
    cr_assert_str_eq(scn_key_alias("virtual-pipeline-model-parallel-size"), "vp");
    cr_assert_null(scn_key_alias("tp"), "a key is no alias");
    cr_assert_null(scn_key_alias("tensor"));
    size_t n = 0;
    for (const char *alias; (alias = scn_key_alias_at(n)) != NULL; n++) {
        const char *key = scn_key_alias(alias);
        cr_assert_not_null(key, "%s", alias);
        cr_assert(scn_key_find(key) >= 0, "%s -> %s: no such key", alias, key);
        cr_assert(scn_key_find(alias) < 0, "%s is a key itself", alias);
    }
    cr_assert_geq(n, 40);
    struct scenario scn;
    struct sim_error err;
    scn_defaults(&scn);
    err_clear(&err);
    cr_assert_eq(scn_set_arg(&scn, "tensor-model-parallel-size=8", &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "unknown key 'tensor-model-parallel-size' (did you mean 'tp'?"),
              "%s", err.msg);
}

/* dp, expert-dp and nodes follow from gpus: asking to set one says so, not "did you mean 'tp'";
 * a name between two keys names both */
Test(scenario, derived_quantities_say_what_to_set)
{
    cr_assert_str_eq(scn_key_hint("--data-parallel-size"),
                     "dp follows from gpus / (tp x cp x pp): set gpus");
    cr_assert_str_eq(scn_key_hint("DP"), scn_key_hint("dp"));
    cr_assert_not_null(scn_key_hint("nnodes"));
    cr_assert_null(scn_key_hint("tp"));
    cr_assert_null(scn_key_hint("gpus"));
    /* as near micro-batch as microbatches: both named, not the nearer one alone */
    cr_assert_str_eq(scn_key_hint("--microbatch"), "micro-batch is the samples in one "
                     "micro-batch, microbatches the micro-batches in a step");
    struct scenario scn;
    struct sim_error err;
    scn_defaults(&scn);
    err_clear(&err);
    cr_assert_eq(scn_set_arg(&scn, "dp=8", &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "unknown key 'dp': dp follows from gpus / (tp x cp x pp)"), "%s",
              err.msg);
}

Test(scenario, unknown_keys_get_the_nearest_known_one)
{
    cr_assert_str_eq(scn_key_suggest("micobatches"), "microbatches");
    cr_assert_str_eq(scn_key_suggest("global_batch"), "global-batch");
    cr_assert_str_eq(scn_key_suggest("globalbatch"), "global-batch");
    cr_assert_str_eq(scn_key_suggest("scheudle"), "schedule"); /* two letters swapped */
    cr_assert_str_eq(scn_key_suggest("distributed_optimiser"), "distributed-optimizer");
    /* other tools' names are no typos of stepsim's: the alias table points at the key */
    cr_assert_str_eq(scn_key_suggest("tensor-parallel"), "tp");
    cr_assert_null(scn_key_suggest("xy"), "two letters are not a typo of tp");
    cr_assert_null(scn_key_suggest(""));
    struct scenario scn;
    struct sim_error err;
    scn_defaults(&scn);
    err_clear(&err);
    cr_assert_eq(scn_set_arg(&scn, "micobatches=4", &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "unknown key 'micobatches' (did you mean 'microbatches'?") != NULL,
              "%s", err.msg);
    cr_assert_eq(scn_set(&scn, "scheudle", "1f1b", "f.xml", 3, &err), SIM_EINPUT);
    cr_assert_str_eq(err.msg, "unknown key 'scheudle' (did you mean 'schedule'?)");
    cr_assert_eq(scn_set_option(&scn, "--vary", "ppp", "2", &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "--vary: unknown key 'ppp' (did you mean 'pp'?") == err.msg, "%s",
              err.msg);
}

Test(scenario, options_record_their_name_at_the_command_line_order)
{
    struct scenario scn;
    struct sim_error err;
    scn_defaults(&scn);
    err_clear(&err);
    cr_assert_eq(scn_set(&scn, "pp", "2", "f.xml", 3, &err), SIM_OK);
    cr_assert_eq(scn_set_option(&scn, "--vary", "microbatches", "8", &err), SIM_OK);
    cr_assert_str_eq(scn_origin_text(&scn, &scn.origin[SCN_MICROBATCHES]), "--vary");
    cr_assert_str_eq(scn_origin_text(&scn, &scn.origin[SCN_PP]), "f.xml");
    cr_assert_eq(scn.origin[SCN_PP].line, 3);
    cr_assert_eq(scn.origin[SCN_MICROBATCHES].line, 0);
    cr_assert_eq(scn.origin[SCN_MICROBATCHES].order, SCN_ORDER_SET);
    cr_assert_eq(scn_culprit(&scn, SCN_PP, SCN_MICROBATCHES), SCN_MICROBATCHES);
    cr_assert_eq(scn_set_option(&scn, "--vary", "pp", "0", &err), SIM_EINPUT);
    cr_assert_str_eq(err.msg, "--vary pp=0: '0' is out of range [1, 65536]");
    scn_mark_derived(&scn, SCN_MICROBATCHES);
    cr_assert(!scn_given(&scn, SCN_MICROBATCHES));
    cr_assert(scn.origin[SCN_MICROBATCHES].derived);
}

/* Origins name a file by index into the scenario's own table (a copy of the scenario keeps its
 * messages): each file is stored once, and values from more files than a base chain can hold
 * are an error, never a wrong file name. */
Test(scenario, origins_keep_each_file_once_and_refuse_a_ninth)
{
    struct scenario scn;
    struct sim_error err;
    scn_defaults(&scn);
    err_clear(&err);
    cr_assert_eq(scn_set(&scn, "pp", "2", "a.xml", 3, &err), SIM_OK);
    cr_assert_eq(scn_set(&scn, "vp", "1", "a.xml", 4, &err), SIM_OK);
    cr_assert_eq(scn.n_origin_files, 1);
    char name[24];
    for (int i = 1; i < SCN_MAX_BASE_FILES; i++) {
        snprintf(name, sizeof name, "f%d.xml", i);
        cr_assert_eq(scn_set(&scn, "seed", "1", name, i, &err), SIM_OK);
    }
    cr_assert_eq(scn.n_origin_files, SCN_MAX_BASE_FILES);
    struct scenario copy = scn;
    cr_assert_str_eq(scn_origin_text(&copy, &copy.origin[SCN_PP]), "a.xml");
    cr_assert_str_eq(scn_origin_text(&copy, &copy.origin[SCN_SEED]), "f7.xml");
    cr_assert_eq(scn_set(&scn, "seed", "2", "ninth.xml", 9, &err), SIM_EINPUT);
    cr_assert_str_eq(err.file, "ninth.xml");
    cr_assert_eq(scn.seed, 1ul, "a refused value changes nothing");
}

/* A cost-model key on an explicit-cost scenario is an error, not silence. */
Test(scenario, keys_that_do_not_apply_are_errors)
{
    assert_rule((const char *const[]){"tp=8", NULL},
                "tp applies only to the cost model: give model= and hardware=");
    assert_rule((const char *const[]){"global-batch=64", NULL}, "(global-batch given by --set)");
    assert_rule((const char *const[]){"hardware=" SRC("hardware/dgx-h100.xml"), NULL},
                "hardware applies only");
    assert_valid((const char *const[]){"seq=4096", "jitter=1%", "forward=1ms", NULL});
    struct scenario scn;
    scn_defaults(&scn);
    cr_assert(!scn_key_applies(&scn, SCN_DTYPE));
    cr_assert(scn_key_applies(&scn, SCN_LINK_BANDWIDTH));
    cr_assert(scn_key_applies(&scn, SCN_PP));
    snprintf(scn.model_path, sizeof scn.model_path, "m.xml");
    cr_assert(scn_key_applies(&scn, SCN_DTYPE));
    cr_assert(!scn_key_applies(&scn, SCN_LINK_BANDWIDTH));
}

Test(scenario, key_table_round_trips)
{
    for (int k = 0; k < SCN_KEY_COUNT; k++)
        cr_assert_eq(scn_key_find(scn_key_name((enum scn_key)k)), k);
    cr_assert_eq(scn_key_find("tensor-parallel"), -1);
    cr_assert_eq(scn_key_find(""), -1);
    cr_assert_eq(scn_key_find("PP"), -1);
}

Test(scenario, set_each_value_type)
{
    struct scenario scn;
    struct sim_error err;
    err_clear(&err);
    scn_defaults(&scn);
    cr_assert_eq(scn_set(&scn, "name", "gpt", "f.xml", 2, &err), SIM_OK);
    cr_assert_str_eq(scn.name, "gpt");
    cr_assert_eq(scn_set(&scn, "schedule", "interleaved", "f.xml", 3, &err), SIM_OK);
    cr_assert_str_eq(scn.schedule, "interleaved");
    cr_assert_eq(scn_set(&scn, "pp", "8", "f.xml", 3, &err), SIM_OK);
    cr_assert_eq(scn.pp, 8);
    cr_assert_eq(scn_set(&scn, "vp-group", "16", "f.xml", 3, &err), SIM_OK);
    cr_assert_eq(scn.vp_group, 16);
    cr_assert_eq(scn_set(&scn, "micro-batch", "4", "f.xml", 4, &err), SIM_OK);
    cr_assert_eq(scn.micro_batch, 4);
    cr_assert_eq(scn_set(&scn, "forward", "1.5ms", "f.xml", 6, &err), SIM_OK);
    cr_assert_float_eq(scn.forward_s, 1.5e-3, 1e-15);
    cr_assert_eq(scn_set(&scn, "activation", "64MiB", "f.xml", 6, &err), SIM_OK);
    cr_assert_float_eq(scn.activation_B, 67108864.0, 1e-6);
    cr_assert_eq(scn_set(&scn, "split-backward", "true", "f.xml", 3, &err), SIM_OK);
    cr_assert_eq(scn.split_backward, 1);
    cr_assert_eq(scn.link_given, 0);
    cr_assert_eq(scn_set(&scn, "link-bandwidth", "400Gbps", "f.xml", 7, &err), SIM_OK);
    cr_assert_float_eq(scn.link_bw_Bps, 50e9, 1e-3);
    cr_assert_eq(scn.link_given, 1);
    cr_assert_eq(scn_set(&scn, "seed", "12345", "f.xml", 8, &err), SIM_OK);
    cr_assert_eq(scn.seed, 12345ul);
    /* each value remembers where it was set */
    cr_assert_str_eq(scn_origin_text(&scn, &scn.origin[SCN_PP]), "f.xml");
    cr_assert_eq(scn.origin[SCN_PP].line, 3);
    cr_assert_eq(scn.origin[SCN_SEED].line, 8);
    cr_assert_str_eq(scn_origin_text(&scn, &scn.origin[SCN_LAYERS]), "",
                     "never set: no origin");
}

/* What reports print of a value: each type in its own words and unit, hand-written. */
Test(scenario, value_text_of_each_type)
{
    struct scenario scn;
    struct sim_error err;
    err_clear(&err);
    scn_defaults(&scn);
    const char *const set[][3] = {
        {"schedule", "interleaved", "interleaved"},
        {"pp", "8", "8"},
        {"forward", "1.5ms", "1.5 ms"},
        {"link-latency", "3us", "3 us"},
        {"optimizer", "2s", "2 s"},
        {"activation", "64MiB", "64 MiB"},
        {"activation", "1000B", "1000 B"},
        {"link-bandwidth", "400Gbps", "50 GBps"},
        {"split-backward", "yes", "true"},
        {"seed", "12345", "12345"},
        {"jitter", "5%", "0.05"},
        {"recompute", "full", "full"},
        {"recompute-modules", "mlp+core_attn", "core_attn,mlp"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) {
        int k = scn_key_find(set[i][0]);
        cr_assert(k >= 0, "%s", set[i][0]);
        cr_assert_eq(scn_set(&scn, set[i][0], set[i][1], NULL, 0, &err), SIM_OK, "%s", err.msg);
        scn_value_text(&scn, (enum scn_key)k, buf, sizeof buf);
        cr_assert_str_eq(buf, set[i][2], "%s=%s", set[i][0], set[i][1]);
    }
    scn_value_text(&scn, SCN_FORWARD, buf, 4); /* cut to the buffer, terminated */
    cr_assert_str_eq(buf, "1.5");
}

/* Every key's default that is a value (not words: "tp*cp*pp"), written by scn_value_text,
 * reads back as the same value: the text a report shows is one a scenario file could give. */
Test(scenario, value_text_reads_back)
{
    int read_back = 0;
    for (int k = 0; k < SCN_KEY_COUNT; k++) {
        struct scenario a, b;
        struct sim_error err;
        struct scn_key_doc doc;
        char text[2048];
        scn_defaults(&a);
        scn_defaults(&b);
        err_clear(&err);
        scn_key_describe((enum scn_key)k, &doc);
        if (scn_set_key(&a, (enum scn_key)k, doc.def, &err) != SIM_OK)
            continue;
        scn_value_text(&a, (enum scn_key)k, text, sizeof text);
        cr_assert_eq(scn_set_key(&b, (enum scn_key)k, text, &err), SIM_OK, "%s=%s: %s",
                     doc.name, text, err.msg);
        cr_assert(scn_key_same(&a, &b, (enum scn_key)k), "%s=%s", doc.name, text);
        read_back++;
    }
    cr_assert_gt(read_back, SCN_KEY_COUNT / 2, "only %d keys read back", read_back);
}

Test(scenario, set_errors_carry_file_line_key_and_value)
{
    struct scenario scn;
    struct sim_error err;
    scn_defaults(&scn);
    err_clear(&err);
    cr_assert_eq(scn_set(&scn, "pp", "0", "x.xml", 5, &err), SIM_EINPUT);
    cr_assert_str_eq(err.file, "x.xml");
    cr_assert_eq(err.line, 5);
    cr_assert_str_eq(err.msg, "pp: '0' is out of range [1, 65536]");
    cr_assert_eq(scn.pp, 1, "a refused value leaves the field alone");

    char line[1200];
    err_format(&err, line, sizeof line);
    cr_assert_str_eq(line, "x.xml:5: pp: '0' is out of range [1, 65536]");

    err_clear(&err);
    cr_assert_eq(scn_set(&scn, "forward", "3", "x.xml", 9, &err), SIM_EINPUT);
    cr_assert_eq(err.line, 9);
    cr_assert(strstr(err.msg, "forward: '3' has no unit") == err.msg, "%s", err.msg);
}

Test(scenario, set_rejects_bad_values_per_type)
{
    static const char *const bad[][2] = {
        {"pp", "-1"},
        {"pp", "two"},
        {"pp", "65537"},
        {"vp", "0"},
        {"microbatches", "0"},
        {"layers", "1.5"},
        {"seed", "-1"},
        {"seed", "1e3"},
        {"forward", "-1ms"},
        {"forward", "nanms"},
        {"forward", "2e6s"},
        {"activation", "1ms"},
        {"link-bandwidth", "0Gbps"},
        {"link-latency", "1"},
        {"split-backward", "maybe"},
        {"schedule", "zb-v9"},
        {"schedule", ""},
        {"name", ""},
        {"name", "a\nb"},
        {"name", "0123456789012345678901234567890123456789"
                 "0123456789012345678901234"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct scenario scn, before;
        struct sim_error err;
        scn_defaults(&scn);
        before = scn;
        err_clear(&err);
        cr_assert_eq(scn_set(&scn, bad[i][0], bad[i][1], "b.xml", 3, &err), SIM_EINPUT,
                     "%s=%s accepted", bad[i][0], bad[i][1]);
        cr_assert_eq(err.line, 3);
        cr_assert(strncmp(err.msg, bad[i][0], strlen(bad[i][0])) == 0,
                  "message '%s' does not start with the key", err.msg);
        cr_assert(memcmp(&scn, &before, sizeof scn) == 0, "%s: scenario changed", bad[i][0]);
    }
}

/* KEY=default on the command line puts a key back as if no file had given it (plan --out
 * writes it for keys a config leaves unset); in a file it is an ordinary bad value. */
Test(scenario, default_on_the_command_line_unsets_a_key)
{
    struct scenario scn;
    struct sim_error err;
    err_clear(&err);
    scn_defaults(&scn);
    cr_assert_eq(scn_load(&scn, SRC("scenarios/llama3.1-405b-16k-h100.xml"), &err), SIM_OK, "%s",
                 err.msg);
    cr_assert(scn_given(&scn, SCN_FIRST_STAGE_LAYERS) && scn_given(&scn, SCN_PP));
    cr_assert_eq(scn_set_arg(&scn, "first-stage-layers=default", &err), SIM_OK, "%s", err.msg);
    cr_expect(!scn_given(&scn, SCN_FIRST_STAGE_LAYERS));
    cr_expect_eq(scn.first_stage_layers, 0);
    cr_assert_eq(scn_set_arg(&scn, "pp=default", &err), SIM_OK, "%s", err.msg);
    cr_expect(!scn_given(&scn, SCN_PP));
    cr_expect_eq(scn.pp, 1, "the key table's default");
    cr_assert_eq(scn_set_arg(&scn, "pp=4", &err), SIM_OK, "and it can be given again");
    cr_expect(scn_given(&scn, SCN_PP) && scn.pp == 4);
    char path[64];
    write_temp(path, sizeof path,
               "<scenario name=\"d\"><pipeline schedule=\"1f1b\" pp=\"default\"/></scenario>\n");
    scn_defaults(&scn);
    cr_expect_eq(scn_load(&scn, path, &err), SIM_EINPUT, "a file cannot say default");
    unlink(path);
}

Test(scenario, set_arg_errors_name_the_option)
{
    struct scenario scn;
    struct sim_error err;
    scn_defaults(&scn);
    err_clear(&err);
    cr_assert_eq(scn_set_arg(&scn, "pp=0", &err), SIM_EINPUT);
    cr_assert_eq(err.file[0], '\0');
    cr_assert_eq(err.line, 0);
    cr_assert_str_eq(err.msg, "--set pp=0: '0' is out of range [1, 65536]");
    cr_assert_eq(scn_set_arg(&scn, "tensor-parallel=2", &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "unknown key 'tensor-parallel'") != NULL, "%s", err.msg);
    /* 101 keys do not fit one message: it says where they are listed */
    cr_assert(strstr(err.msg, "'stepsim keys' lists the") != NULL, "%s", err.msg);
    cr_assert_eq(scn_set_arg(&scn, "pp", &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "expected KEY=VALUE") != NULL, "%s", err.msg);
    cr_assert_eq(scn_set_arg(&scn, "=4", &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "expected KEY=VALUE") != NULL, "%s", err.msg);
    cr_assert_eq(scn_set_arg(&scn, "pp=", &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "not a whole number") != NULL, "%s", err.msg);
    char longkey[200];
    memset(longkey, 'k', sizeof longkey - 3);
    memcpy(longkey + sizeof longkey - 3, "=1", 3);
    cr_assert_eq(scn_set_arg(&scn, longkey, &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "too long") != NULL, "%s", err.msg);
    /* value containing '=': only the first '=' splits */
    cr_assert_eq(scn_set_arg(&scn, "name=a=b", &err), SIM_OK);
    cr_assert_str_eq(scn.name, "a=b");
    cr_assert_str_eq(scn_origin_text(&scn, &scn.origin[SCN_NAME]), "--set");
    cr_assert_eq(scn.origin[SCN_NAME].line, 0);
}

/* ---- cross-field rules: each fires, and each stays quiet one step inside the boundary ----- */

Test(scenario, rule_pp_exceeds_layers)
{
    assert_rule((const char *const[]){"pp=8", "layers=4", NULL}, "pp=8 exceeds layers=4");
    assert_valid((const char *const[]){"pp=4", "layers=4", NULL});
}

Test(scenario, rule_layers_divisible_by_pp_times_vp)
{
    assert_rule((const char *const[]){"pp=4", "layers=6", NULL},
                "layers=6 is not divisible by pp*vp=4");
    assert_rule((const char *const[]){"schedule=interleaved", "pp=2", "vp=2", "microbatches=4",
                                      "layers=6", NULL},
                "layers=6 is not divisible by pp*vp=4");
    assert_valid((const char *const[]){"pp=4", "layers=8", NULL});
    assert_valid((const char *const[]){"schedule=interleaved", "pp=2", "vp=3", "microbatches=4",
                                       "layers=6", NULL});
}

Test(scenario, rule_chunks_exceed_layers)
{
    assert_rule((const char *const[]){"schedule=interleaved", "pp=2", "vp=4", "microbatches=4",
                                      "layers=4", NULL},
                "pp*vp=8 model chunks exceed layers=4");
    assert_valid((const char *const[]){"schedule=interleaved", "pp=2", "vp=2", "microbatches=4",
                                       "layers=4", NULL});
}

Test(scenario, rule_interleaved_needs_vp_2)
{
    assert_rule((const char *const[]){"schedule=interleaved", "pp=2", "layers=4", NULL},
                "schedule=interleaved needs vp >= 2");
}

/* Megatron-Core refuses interleaving on one pipeline stage (parallel_state.py), as the
 * planner never offers it: a sweep over pp from an interleaved file reports pp=1 as an error. */
Test(scenario, rule_interleaved_needs_pp_2)
{
    assert_rule((const char *const[]){"schedule=interleaved", "pp=1", "vp=2", "microbatches=4",
                                      "layers=4", NULL},
                "schedule=interleaved needs pp >= 2");
}

Test(scenario, rule_one_chunk_schedules_refuse_vp_above_1)
{
    assert_rule((const char *const[]){"schedule=1f1b", "pp=2", "vp=2", "layers=4", NULL},
                "schedule=1f1b holds one model chunk per rank but vp=2");
    assert_rule((const char *const[]){"schedule=gpipe", "pp=2", "vp=2", "layers=4", NULL},
                "schedule=gpipe holds one model chunk per rank but vp=2");
    assert_valid((const char *const[]){"schedule=gpipe", "pp=2", "layers=4", NULL});
    assert_valid((const char *const[]){"schedule=1f1b", "pp=2", "layers=4", NULL});
}

Test(scenario, rule_interleaved_group_smaller_than_pp)
{
    assert_rule((const char *const[]){"schedule=interleaved", "pp=4", "vp=2", "vp-group=3",
                                      "microbatches=8", "layers=8", NULL},
                "vp-group=3 is smaller than pp=4");
    assert_valid((const char *const[]){"schedule=interleaved", "pp=4", "vp=2", "vp-group=4",
                                       "microbatches=8", "layers=8", NULL});
}

Test(scenario, rule_interleaved_group_larger_than_microbatches)
{
    assert_rule((const char *const[]){"schedule=interleaved", "pp=2", "vp=2", "vp-group=5",
                                      "microbatches=4", "layers=4", NULL},
                "vp-group=5 exceeds microbatches=4");
    assert_valid((const char *const[]){"schedule=interleaved", "pp=2", "vp=2", "vp-group=4",
                                       "microbatches=4", "layers=4", NULL});
    /* with the default group (pp), too few micro-batches is named as such */
    assert_rule((const char *const[]){"schedule=interleaved", "pp=4", "vp=2", "microbatches=3",
                                      "layers=8", NULL},
                "microbatches=3 is fewer than pp=4");
}

Test(scenario, rule_interleaved_last_group_remainder)
{
    /* m % g in (0, p): refused */
    assert_rule((const char *const[]){"schedule=interleaved", "pp=4", "vp=2", "microbatches=9",
                                      "layers=8", NULL},
                "microbatches=9 leaves a last group of 1 (mod vp-group=4) smaller than pp=4");
    assert_rule((const char *const[]){"schedule=interleaved", "pp=3", "vp=2", "vp-group=4",
                                      "microbatches=6", "layers=6", NULL},
                "leaves a last group of 2");
    /* m % g == 0 and m % g >= p: allowed */
    assert_valid((const char *const[]){"schedule=interleaved", "pp=4", "vp=2", "microbatches=12",
                                       "layers=8", NULL});
    assert_valid((const char *const[]){"schedule=interleaved", "pp=3", "vp=2", "vp-group=4",
                                       "microbatches=7", "layers=6", NULL});
}

Test(scenario, rule_size_limits)
{
    assert_rule((const char *const[]){"pp=4", "layers=4", "microbatches=16000000", NULL},
                "compute ops, above the limit");
    assert_rule((const char *const[]){"forward=1000s", "layers=4", "microbatches=1000", NULL},
                "compute could take 4e+06 s");
    assert_rule(
        (const char *const[]){"pp=2", "layers=2", "activation=1GB", "link-bandwidth=1Bps", NULL},
        "transfers of");
    assert_valid((const char *const[]){"forward=1000s", "layers=4", "microbatches=100", NULL});
}

/* A zero-bubble schedule splits the backward: by default, and a contradiction is an error. */
Test(scenario, zero_bubble_schedules_split_the_backward)
{
    struct scenario scn;
    struct sim_error err;
    scn_defaults(&scn);
    cr_assert_not(scn_split_backward(&scn), "1f1b does not split by default");
    cr_assert_eq(scn_set_arg(&scn, "schedule=zb-h1", &err), SIM_OK);
    cr_assert(scn_split_backward(&scn), "zb-h1 implies split-backward");
    cr_assert_eq(scn_check(&scn, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(scn_set_arg(&scn, "split-backward=true", &err), SIM_OK);
    cr_assert_eq(scn_check(&scn, &err), SIM_OK, "saying it explicitly is fine");
    assert_rule((const char *const[]){"schedule=zb-h1", "split-backward=false", NULL},
                "split-backward=false contradicts it");
    assert_rule((const char *const[]){"schedule=zb-h1", "vp=2", "layers=4", NULL},
                "one model chunk per rank but vp=2");
}

/* First/last-stage-layers given as 0: a stage with the embedding (or the LM head and loss)
 * alone, as ZB-V runs use with layers = 2pp - 2.  Not given, every chunk needs a layer. */
/* The scenario of `sets` is valid and its stages hold the layers of want[]: {stage, first
 * layer, layers} (first -1: any, the stage holding none). */
static void assert_stage_layers(const char *const *sets, const int (*want)[3], size_t n)
{
    assert_valid(sets);
    struct scenario scn;
    setup_scn(&scn, sets);
    for (size_t i = 0; i < n; i++) {
        int first, count;
        scn_stage_layers(&scn, want[i][0], &first, &count);
        cr_assert(count == want[i][2] && (want[i][1] < 0 || first == want[i][1]),
                  "stage %d: %d layers from %d", want[i][0], count, first);
    }
}

Test(scenario, end_stages_may_hold_no_layer_when_given)
{
    static const int ends[][3] = {{0, -1, 0}, {1, 0, 1}, {30, 29, 1}, {31, -1, 0}};
    assert_stage_layers((const char *const[]){"schedule=zb-v", "pp=16", "vp=2", "layers=30",
                                              "first-stage-layers=0", "last-stage-layers=0", NULL},
                        ends, 4);
    assert_rule((const char *const[]){"schedule=zb-v", "pp=16", "vp=2", "layers=30", NULL},
                "every chunk needs a layer");
    assert_rule((const char *const[]){"schedule=zb-v", "pp=16", "vp=2", "layers=29",
                                      "first-stage-layers=0", "last-stage-layers=0", NULL},
                "every chunk needs a layer");
    assert_rule((const char *const[]){"schedule=zb-v", "pp=16", "vp=2", "layers=31",
                                      "first-stage-layers=0", "last-stage-layers=0", NULL},
                "they must split evenly, at least one each");
    /* One end alone, the other split with the middle. */
    static const int last[][3] = {{3, 6, 3}};
    assert_stage_layers((const char *const[]){"pp=4", "layers=9", "first-stage-layers=0", NULL},
                        last, 1);
}

/* An uneven split names only the ends the user set apart, and the values of the end it blames
 * nearest the given one that would split the rest: 80 layers less 7 leave 73 for 19 stages;
 * 76 (last 4) and 57 (last 23) split into 4 and 3 each.  With both ends set the first is blamed,
 * the last's 7 kept: 70 for 18 middle stages, 72 (first 1) or 54 (first 19).  On two stages the
 * ends hold everything: 80 - 7 = 73. */
Test(scenario, an_uneven_end_split_names_the_ends_set_and_what_would_split)
{
    assert_rule((const char *const[]){"schedule=interleaved", "microbatches=8", "pp=4", "vp=5",
                                      "layers=80", "last-stage-layers=7", NULL},
                "layers=80 minus last-stage-layers=7 leaves 73 layers for the 19 other stages of "
                "pp*vp=20 (pp=4, vp=5): they must split evenly, at least one each; "
                "last-stage-layers=4 or 23 would");
    assert_rule((const char *const[]){"schedule=interleaved", "microbatches=8", "pp=4", "vp=5",
                                      "layers=80", "first-stage-layers=3", "last-stage-layers=7",
                                      NULL},
                "layers=80 minus first-stage-layers=3 and last-stage-layers=7 leaves 70 layers for "
                "the 18 middle stages of pp*vp=20 (pp=4, vp=5): they must split evenly, at least "
                "one each; first-stage-layers=1 or 19 would");
    assert_rule((const char *const[]){"pp=2", "layers=80", "first-stage-layers=3",
                                      "last-stage-layers=7", NULL},
                "layers=80 minus first-stage-layers=3 and last-stage-layers=7 leaves 70 layers and "
                "no stage between the ends of pp*vp=2 (pp=2, vp=1): the ends must hold every "
                "layer; first-stage-layers=73 would");
    assert_rule((const char *const[]){"pp=4", "layers=8", "first-stage-layers=7", NULL},
                "leaves 1 layers for the 3 other stages of pp*vp=4 (pp=4, vp=1): they must split "
                "evenly, at least one each; first-stage-layers=5 would");
}

/* Megatron-Core's layout strings: unrolled as its parse_str_to_list does them, then each stage's
 * layers counted from the string. */
Test(scenario, pipeline_layout_unrolls_like_megatron)
{
    struct scenario scn;
    setup_scn(&scn, (const char *const[]){"pipeline-layout=Et|(tt|)*2,t*3|mL", NULL});
    cr_assert_str_eq(scn.pipeline_layout, "Et|tt|tt|ttt|mL");
    setup_scn(&scn, (const char *const[]){"pipeline-layout=E|(t|)*3,L", NULL});
    cr_assert_str_eq(scn.pipeline_layout, "E|t|t|t|L");
    struct sim_error err;
    static const char *const bad[][2] = {
        {"pipeline-layout=Et|(tt|*3L", "never closed"},
        {"pipeline-layout=E(t(t|)*2)*2L", "nested in another group"},
        {"pipeline-layout=E(tt|)L", "needs a count of 1 to 100000"},
        {"pipeline-layout=E()*3t|L", "an empty group"},
        {"pipeline-layout=Et|x|L", "'x' is no layout character"},
        {"pipeline-layout=Et*0|L", "'t*' needs a count"},
        {"pipeline-layout=E(t)*99999L", "longer than 2047 characters"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        scn_defaults(&scn);
        err_clear(&err);
        cr_assert_eq(scn_set_arg(&scn, bad[i][0], &err), SIM_EINPUT, "%s accepted", bad[i][0]);
        cr_assert(strstr(err.msg, bad[i][1]), "%s: '%s' lacks '%s'", bad[i][0], err.msg,
                  bad[i][1]);
    }
}

Test(scenario, pipeline_layout_sets_every_stage)
{
    /* pp 2, vp 3: six stages; the embedding alone, then 2, 2, 3, 2 layers, the loss with 1. */
    const char *const v[] = {"schedule=interleaved", "pp=2", "vp=3", "microbatches=4", "layers=10",
                             "pipeline-layout=E|tt|tt|ttt|tt|tL", NULL};
    static const int stages[][3] = {{0, 0, 0}, {1, 0, 2}, {2, 2, 2},
                                    {3, 4, 3}, {4, 7, 2}, {5, 9, 1}};
    assert_stage_layers(v, stages, 6);
    /* an empty stage (Megatron-Bridge's GLM-5.2 layout writes them) holds no layer */
    const char *const empty[] = {"schedule=interleaved", "pp=2", "vp=3", "microbatches=4",
                                 "layers=8", "pipeline-layout=E|tt||ttt|tt|tL", NULL};
    static const int empty_stages[][3] = {{0, 0, 0}, {1, 0, 2}, {2, 2, 0},
                                          {3, 2, 3}, {4, 5, 2}, {5, 7, 1}};
    assert_stage_layers(empty, empty_stages, 6);
    static const struct {
        const char *layout, *extra, *frag;
    } rules[] = {
        {"pipeline-layout=E|tt|tt|ttt|tt|t|L", NULL, "has 7 stages, not pp*vp = 2*3"},
        {"pipeline-layout=tE|t|tt|ttt|tt|L", NULL, "must begin with the embedding E"},
        {"pipeline-layout=E|tt|tt|ttt|tt|LL", NULL, "end with the loss L, each once"},
        {"pipeline-layout=E|tt|tt|ttt|tt|L", NULL, "places 9 layers; the model has layers=10"},
        {"pipeline-layout=E|tt|tt|ttt|ttt|mL", NULL, "only a model file has"},
        {"pipeline-layout=E|tt|tt|ttt|tt|tL", "first-stage-layers=0", "without first-stage"},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const char *const sets[] = {"schedule=interleaved", "pp=2", "vp=3", "microbatches=4",
                                    "layers=10", rules[i].layout, rules[i].extra, NULL};
        assert_rule(sets, rules[i].frag);
    }
    assert_rule((const char *const[]){"schedule=zb-h1", "pp=6", "microbatches=6", "layers=10",
                                      "pipeline-layout=E|tt|tt|ttt|tt|tL", NULL},
                "not zb-h1");
}

/* ---- errors from rules cite where the offending value came from --------------------------- */

static const char rule_xml[] = "<?xml version=\"1.0\"?>\n"                  /* 1 */
                               "<scenario name=\"lines\">\n"                /* 2 */
                               "  <pipeline schedule=\"1f1b\" pp=\"2\"/>\n" /* 3 */
                               "  <batch microbatches=\"4\"/>\n"            /* 4 */
                               "\n"                                         /* 5 */
                               "  <model layers=\"5\"/>\n"                  /* 6 */
                               "</scenario>\n";

/* rule_xml, written to a temp file (path) and loaded into *scn. */
static void load_rule_xml(struct scenario *scn, char *path, size_t len)
{
    struct sim_error err;
    write_temp(path, len, rule_xml);
    scn_defaults(scn);
    err_clear(&err);
    cr_assert_eq(scn_load(scn, path, &err), SIM_OK, "%s", err.msg);
}

Test(scenario, check_error_cites_the_xml_line_of_the_value)
{
    char path[256];
    struct scenario scn;
    struct sim_error err;
    load_rule_xml(&scn, path, sizeof path);
    cr_assert_eq(scn.origin[SCN_LAYERS].line, 6);
    cr_assert_eq(scn_check(&scn, &err), SIM_EINPUT);
    cr_assert_str_eq(err.file, path);
    cr_assert_eq(err.line, 6, "layers=5 was set on line 6, error says %d", err.line);
    cr_assert(strstr(err.msg, "layers=5 is not divisible by pp*vp=2") != NULL, "%s", err.msg);

    /* the same conflict made by overrides names them instead of a line: both, when both
     * values of the rule came from the command line */
    scn_defaults(&scn);
    cr_assert_eq(scn_load(&scn, path, &err), SIM_OK);
    cr_assert_eq(scn_set_arg(&scn, "layers=4", &err), SIM_OK);
    cr_assert_eq(scn_set_arg(&scn, "pp=8", &err), SIM_OK);
    cr_assert_eq(scn_check(&scn, &err), SIM_EINPUT);
    cr_assert_eq(err.line, 0);
    cr_assert(strstr(err.msg, "pp=8 exceeds layers=4") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "(pp, layers given by --set)") != NULL, "%s", err.msg);
    scn_defaults(&scn);
    cr_assert_eq(scn_load(&scn, path, &err), SIM_OK);
    cr_assert_eq(scn_set_arg(&scn, "pp=8", &err), SIM_OK);
    cr_assert_eq(scn_check(&scn, &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "(pp given by --set)") != NULL, "the file's layers: %s", err.msg);

    /* pp from the file exceeds an overridden layers: the override is the culprit */
    scn_defaults(&scn);
    cr_assert_eq(scn_load(&scn, path, &err), SIM_OK);
    cr_assert_eq(scn_set_arg(&scn, "layers=1", &err), SIM_OK);
    cr_assert_eq(scn_check(&scn, &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "(layers given by --set)") != NULL, "%s", err.msg);
    unlink(path);
}

/* A rule several keys break together names every one the command line gave, grouped by the
 * option, the culprit's first; a key listed twice is named once, one from the file not at all;
 * when the culprit came from the file, its line is cited as before. */
Test(scenario, rule_error_names_every_key_the_command_line_gave)
{
    char path[256];
    struct scenario scn;
    struct sim_error err;
    load_rule_xml(&scn, path, sizeof path);
    cr_assert_eq(scn_rule_error_keys(&scn, SCN_KEYS(SCN_LAYERS, SCN_PP, SCN_VP), &err, "split"),
                 SIM_EINPUT);
    cr_assert_eq(err.line, 6, "all from the file: the first listed, layers on line 6");
    cr_assert_str_eq(err.msg, "split");
    cr_assert_eq(scn_set_option(&scn, "--vary", "vp", "3", &err), SIM_OK);
    cr_assert_eq(scn_set_arg(&scn, "microbatches=5", &err), SIM_OK);
    cr_assert_eq(scn_set_option(&scn, "--vary", "pp", "3", &err), SIM_OK);
    scn_rule_error_keys(&scn, SCN_KEYS(SCN_LAYERS, SCN_PP, SCN_MICROBATCHES, SCN_VP, SCN_PP), &err,
                        "split");
    cr_assert_eq(err.line, 0);
    cr_assert_str_eq(err.msg, "split (pp, vp given by --vary, microbatches given by --set)");
    scn_rule_error_keys(&scn, SCN_KEYS(SCN_MICROBATCHES, SCN_LAYERS), &err, "m");
    cr_assert_str_eq(err.msg, "m (microbatches given by --set)");
    unlink(path);
}

Test(scenario, interleaved_rule_cites_the_line_of_the_bad_value)
{
    char path[256];
    write_temp(path, sizeof path,
               "<?xml version=\"1.0\"?>\n"
               "<scenario>\n"
               "  <model layers=\"8\"/>\n"
               "  <pipeline schedule=\"interleaved\" pp=\"4\" vp=\"2\"/>\n"
               "\n"
               "  <batch microbatches=\"9\"/>\n"
               "</scenario>\n");
    struct scenario scn;
    struct sim_error err;
    scn_defaults(&scn);
    err_clear(&err);
    cr_assert_eq(scn_load(&scn, path, &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(scn_check(&scn, &err), SIM_EINPUT);
    cr_assert_eq(err.line, 6, "microbatches is on line 6, error says %d: %s", err.line, err.msg);
    unlink(path);
}

/* ---- loading ------------------------------------------------------------------------------- */

Test(scenario, load_unit_xml)
{
    struct scenario scn;
    struct sim_error err;
    scn_defaults(&scn);
    err_clear(&err);
    cr_assert_eq(scn_load(&scn, SRC("scenarios/unit.xml"), &err), SIM_OK, "%s", err.msg);
    cr_assert_str_eq(scn.name, "unit");
    cr_assert_str_eq(scn.schedule, "1f1b");
    cr_assert_eq(scn.pp, 4);
    cr_assert_eq(scn.vp, 1);
    cr_assert_eq(scn.vp_group, 0);
    cr_assert_eq(scn.microbatches, 8);
    cr_assert_eq(scn.micro_batch, 1);
    cr_assert_eq(scn.layers, 8);
    cr_assert_float_eq(scn.forward_s, 1e-3, 1e-15);
    cr_assert_float_eq(scn.bwd_input_s, 1e-3, 1e-15);
    cr_assert_float_eq(scn.bwd_weight_s, 1e-3, 1e-15);
    cr_assert_float_eq(scn.activation_B, 0.0, 0.0);
    cr_assert_float_eq(scn.optimizer_s, 0.0, 0.0);
    cr_assert_eq(scn.link_given, 0);
    cr_assert_eq(scn.split_backward, 0);
    cr_assert_eq(scn.origin[SCN_PP].line, 6);
    cr_assert_eq(scn.origin[SCN_LAYERS].line, 8);
    cr_assert(strstr(scn_origin_text(&scn, &scn.origin[SCN_PP]), "unit.xml") != NULL);
    cr_assert_eq(scn_check(&scn, &err), SIM_OK, "%s", err.msg);
}

Test(scenario, load_two_stage_link_xml)
{
    struct scenario scn;
    struct sim_error err;
    scn_defaults(&scn);
    err_clear(&err);
    cr_assert_eq(scn_load(&scn, SRC("scenarios/two_stage_link.xml"), &err), SIM_OK, "%s", err.msg);
    cr_assert_eq(scn.link_given, 1);
    cr_assert_float_eq(scn.link_lat_s, 0.5e-3, 1e-15);
    cr_assert_float_eq(scn.link_bw_Bps, 1e9, 1e-3);
    cr_assert_float_eq(scn.activation_B, 1e6, 1e-6);
    cr_assert_eq(scn.seq, 1024);
}

Test(scenario, set_override_wins_over_the_file)
{
    struct scenario scn;
    struct sim_error err;
    scn_defaults(&scn);
    err_clear(&err);
    cr_assert_eq(scn_load(&scn, SRC("scenarios/unit.xml"), &err), SIM_OK, "%s", err.msg);
    static const char *const readme[] = {"schedule=interleaved", "pp=4",     "vp=2",
                                         "microbatches=8",       "layers=8", "forward=2ms"};
    for (size_t i = 0; i < 6; i++)
        cr_assert_eq(scn_set_arg(&scn, readme[i], &err), SIM_OK, "%s", err.msg);
    cr_assert_str_eq(scn.schedule, "interleaved");
    cr_assert_eq(scn.vp, 2);
    cr_assert_float_eq(scn.forward_s, 2e-3, 1e-15);
    cr_assert_str_eq(scn_origin_text(&scn, &scn.origin[SCN_VP]), "--set");
    cr_assert_eq(scn.origin[SCN_VP].line, 0);
    cr_assert_eq(scn_check(&scn, &err), SIM_OK, "%s", err.msg);
}

static void assert_load_fails(const char *text, int line, const char *frag)
{
    char path[256];
    write_temp(path, sizeof path, text);
    struct scenario scn;
    struct sim_error err;
    scn_defaults(&scn);
    err_clear(&err);
    enum sim_status st = scn_load(&scn, path, &err);
    unlink(path);
    cr_assert_eq(st, SIM_EINPUT, "loaded; expected '%s'", frag);
    cr_assert_str_eq(err.file, path);
    cr_assert_eq(err.line, line, "line %d, expected %d: %s", err.line, line, err.msg);
    cr_assert(strstr(err.msg, frag) != NULL, "message '%s' lacks '%s'", err.msg, frag);
    cr_assert(strchr(err.msg, '\n') == NULL, "message spans lines: %s", err.msg);
}

Test(scenario, load_errors_carry_file_and_line)
{
    assert_load_fails("", 0, "file is empty");
    assert_load_fails("<?xml version=\"1.0\"?>\n<scenario>\n<model layers=\"4\">\n</scenario>\n", 4,
                      "malformed XML");
    assert_load_fails("<?xml version=\"1.0\"?>\n<scenario>\n\n  <tensor/>\n</scenario>\n", 4,
                      "Element 'tensor'");
    assert_load_fails("<?xml version=\"1.0\"?>\n<scenario>\n  <model layers=\"4\" tp=\"2\"/>\n"
                      "</scenario>\n",
                      3, "attribute 'tp'");
    assert_load_fails("<?xml version=\"1.0\"?>\n<scenario>\n  <model layers=\"-4\"/>\n"
                      "</scenario>\n",
                      3, "layers: '-4' is out of range");
    assert_load_fails("<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "
                      "\"/etc/passwd\">]>\n<scenario name=\"&e;\"/>\n",
                      2, "DOCTYPE");
    assert_load_fails("<?xml version=\"1.0\"?>\n<scenario name=\"\xff\"/>\n", 2,
                      "not proper UTF-8");
    assert_load_fails("<?xml version=\"1.0\"?>\n<pipeline/>\n", 2, "root element is <pipeline>");
}

Test(scenario, load_missing_file)
{
    struct scenario scn;
    struct sim_error err;
    scn_defaults(&scn);
    err_clear(&err);
    cr_assert_eq(scn_load(&scn, "/nonexistent/stepsim/x.xml", &err), SIM_EINPUT);
    cr_assert_str_eq(err.file, "/nonexistent/stepsim/x.xml");
    cr_assert_eq(err.line, 0);
    cr_assert(strstr(err.msg, "cannot open") != NULL, "%s", err.msg);
}

Test(scenario, failed_load_is_repeatable)
{
    /* libxml2 error state must not leak from one load into the next */
    for (int i = 0; i < 3; i++) {
        assert_load_fails("<scenario><x/></scenario>", 1, "Element 'x'");
        struct scenario scn;
        struct sim_error err;
        scn_defaults(&scn);
        err_clear(&err);
        cr_assert_eq(scn_load(&scn, SRC("scenarios/unit.xml"), &err), SIM_OK, "%s", err.msg);
    }
}

/* ---- bases: <scenario base="..."> --------------------------------------------------------- */

/* A fresh folder for files that name each other; the caller removes it with remove_dir. */
static void make_dir(char *dir, size_t len)
{
    snprintf(dir, len, "%s/stepsim-base-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
}

static void write_in(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

static void remove_dir(const char *dir, const char *const *names)
{
    char path[512];
    for (; *names; names++) {
        snprintf(path, sizeof path, "%s/%s", dir, *names);
        unlink(path);
    }
    rmdir(dir);
}

/* Load `text` as v.xml in a fresh folder (removed after); *path gets its name. */
static void load_variant(const char *text, struct scenario *scn, char *path, size_t len)
{
    char dir[256];
    make_dir(dir, sizeof dir);
    write_in(dir, "v.xml", text);
    snprintf(path, len, "%s/v.xml", dir);
    struct sim_error err;
    scn_defaults(scn);
    err_clear(&err);
    enum sim_status st = scn_load(scn, path, &err);
    remove_dir(dir, (const char *const[]){"v.xml", NULL});
    cr_assert_eq(st, SIM_OK, "%s", err.msg);
}

Test(scenario, base_values_are_overlaid_by_the_naming_file)
{
    char text[1024], path[512];
    snprintf(text, sizeof text,
             "<?xml version=\"1.0\"?>\n<scenario name=\"variant\" base=\"%s\">\n"
             "  <pipeline schedule=\"interleaved\" vp=\"2\"/>\n"
             "  <costs forward=\"2ms\"/>\n</scenario>\n",
             SRC("scenarios/unit.xml"));
    struct scenario scn;
    struct sim_error err;
    load_variant(text, &scn, path, sizeof path);
    err_clear(&err);
    /* overridden here, kept from the base, and the origins say which file set what */
    cr_assert_str_eq(scn.name, "variant");
    cr_assert_str_eq(scn.schedule, "interleaved");
    cr_assert_eq(scn.vp, 2);
    cr_assert_float_eq(scn.forward_s, 2e-3, 1e-15);
    cr_assert_eq(scn.pp, 4);
    cr_assert_eq(scn.microbatches, 8);
    cr_assert_float_eq(scn.bwd_input_s, 1e-3, 1e-15);
    cr_assert_str_eq(scn_origin_text(&scn, &scn.origin[SCN_VP]), path);
    cr_assert_eq(scn.origin[SCN_VP].line, 3);
    cr_assert_str_eq(scn_origin_text(&scn, &scn.origin[SCN_PP]), SRC("scenarios/unit.xml"));
    cr_assert_eq(scn.origin[SCN_PP].line, 6);
    cr_assert_gt(scn.origin[SCN_VP].order, scn.origin[SCN_PP].order);
    cr_assert_eq(scn_check(&scn, &err), SIM_OK, "%s", err.msg);
    /* a rule broken by a base value and a later one blames the later file; --set beats both */
    cr_assert_eq(scn_set(&scn, "layers", "12", path, 9, &err), SIM_OK);
    cr_assert_eq(scn_check(&scn, &err), SIM_EINPUT);
    cr_assert_eq(err.line, 9, "%s:%d: %s", err.file, err.line, err.msg);
    cr_assert_eq(scn_set_arg(&scn, "layers=7", &err), SIM_OK);
    err_clear(&err);
    cr_assert_eq(scn_check(&scn, &err), SIM_EINPUT);
    cr_assert(strstr(err.msg, "exceed layers=7") && strstr(err.msg, "(layers given by --set)"),
              "%s", err.msg);
}

Test(scenario, base_references_resolve_against_the_base_folder)
{
    char text[1024], path[512];
    snprintf(text, sizeof text,
             "<?xml version=\"1.0\"?>\n<scenario base=\"%s\">\n  <pipeline pp=\"8\"/>\n"
             "</scenario>\n",
             SRC("scenarios/llama3.1-70b-h100.xml"));
    struct scenario scn;
    load_variant(text, &scn, path, sizeof path);
    cr_assert_str_eq(scn.model_path, SRC("scenarios/../models/llama3.1-70b.xml"));
    cr_assert_str_eq(scn.hardware_path, SRC("scenarios/../hardware/dgx-h100.xml"));
    cr_assert_eq(scn.pp, 8);
    cr_assert(scn_is_modelled(&scn));
}

/* A chain b1 -> b2 -> ... -> bN with relative names; the last holds the values. */
static enum sim_status load_chain_of(int files, struct sim_error *err, struct scenario *scn)
{
    char dir[256];
    make_dir(dir, sizeof dir);
    char names[16][16];
    const char *list[17];
    cr_assert_leq(files, 16);
    for (int i = 1; i <= files; i++) {
        char text[256];
        snprintf(names[i - 1], sizeof names[i - 1], "b%d.xml", i);
        list[i - 1] = names[i - 1];
        if (i < files)
            snprintf(text, sizeof text, "<?xml version=\"1.0\"?>\n<scenario base=\"b%d.xml\"/>\n",
                     i + 1);
        else
            snprintf(text, sizeof text,
                     "<?xml version=\"1.0\"?>\n<scenario name=\"last\">\n"
                     "  <model layers=\"6\"/>\n</scenario>\n");
        write_in(dir, names[i - 1], text);
    }
    list[files] = NULL;
    char path[512];
    snprintf(path, sizeof path, "%s/b1.xml", dir);
    scn_defaults(scn);
    err_clear(err);
    enum sim_status st = scn_load(scn, path, err);
    remove_dir(dir, list);
    return st;
}

Test(scenario, base_chains_are_bounded)
{
    struct scenario scn;
    struct sim_error err;
    cr_assert_eq(load_chain_of(SCN_MAX_BASE_FILES, &err, &scn), SIM_OK, "%s", err.msg);
    cr_assert_eq(scn.layers, 6);
    cr_assert_str_eq(scn.name, "last");
    cr_assert_eq(load_chain_of(SCN_MAX_BASE_FILES + 1, &err, &scn), SIM_EINPUT);
    cr_assert_eq(err.line, 2);
    cr_assert(strstr(err.file, "/b8.xml") != NULL, "%s", err.file);
    cr_assert(strstr(err.msg, "more than 8 scenario files") != NULL, "%s", err.msg);
}

Test(scenario, base_cycles_are_found_whatever_the_spelling)
{
    char dir[256];
    make_dir(dir, sizeof dir);
    write_in(dir, "a.xml", "<?xml version=\"1.0\"?>\n<scenario base=\"b.xml\"/>\n");
    write_in(dir, "b.xml", "<?xml version=\"1.0\"?>\n<scenario base=\"./c.xml\"/>\n");
    write_in(dir, "c.xml", "<?xml version=\"1.0\"?>\n\n<scenario base=\"l.xml\"/>\n");
    char target[512], link_path[512];
    snprintf(target, sizeof target, "%s/b.xml", dir);
    snprintf(link_path, sizeof link_path, "%s/l.xml", dir);
    cr_assert_eq(symlink(target, link_path), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/a.xml", dir);
    struct scenario scn;
    struct sim_error err;
    scn_defaults(&scn);
    err_clear(&err);
    enum sim_status st = scn_load(&scn, path, &err);
    remove_dir(dir, (const char *const[]){"a.xml", "b.xml", "c.xml", "l.xml", NULL});
    cr_assert_eq(st, SIM_EINPUT);
    /* c.xml line 3 names l.xml, a symlink to b.xml, already in the chain a -> b -> c */
    cr_assert(strstr(err.file, "/c.xml") != NULL, "%s", err.file);
    cr_assert_eq(err.line, 3);
    cr_assert(strstr(err.msg, "makes a cycle") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "/b.xml -> ") != NULL && strstr(err.msg, "/c.xml -> ") != NULL,
              "%s", err.msg);
    cr_assert(strstr(err.msg, "/a.xml -> ") == NULL, "the cycle starts at b: %s", err.msg);
}
