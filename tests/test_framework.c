/* test_framework: what each framework offers -- a scenario that names a framework is refused
 * (exit-2 error with the blamed value) for a schedule, sharding, recompute or offload the
 * framework does not offer, accepted otherwise; `auto` refuses nothing and resolves to the
 * first framework offering everything the scenario uses. */
#include <criterion/criterion.h>
#include <gsl/gsl_errno.h>
#include <libxml/parser.h>
#include <string.h>

#include "framework.h"
#include "scenario.h"

#define SCN TOP_SRCDIR "/scenarios/"

static void setup(void)
{
    gsl_set_error_handler_off();
    xmlInitParser();
}

TestSuite(framework, .init = setup);

/* Defaults, then the NULL-terminated KEY=VALUE list (as --set). */
static void make(struct scenario *scn, const char *const *sets)
{
    struct sim_error err;
    err_clear(&err);
    scn_defaults(scn);
    for (; *sets; sets++)
        cr_assert_eq(scn_set_arg(scn, *sets, &err), SIM_OK, "%s: %s", *sets, err.msg);
}

/* fw_check of the scenario's own framework: the message, or "" when accepted. */
static const char *check(const char *const *sets)
{
    static struct sim_error err;
    struct scenario scn;
    make(&scn, sets);
    err_clear(&err);
    const struct fw_type *fw = fw_get((enum fw_id)scn.framework);
    cr_assert(fw, "the list names a framework");
    if (fw_check(fw, &scn, &err) == SIM_OK)
        return "";
    cr_expect_eq(err.status, SIM_EINPUT);
    return err.msg;
}

Test(framework, refuses_what_it_does_not_offer)
{
    const struct {
        const char *sets[6];
        const char *message; /* NULL: accepted */
    } cases[] = {
        {{"framework=megatron-core", "schedule=dualpipe", "pp=4", "vp=2", NULL},
         "schedule=dualpipe is not offered by framework=megatron-core (its schedules: 1f1b, "
         "interleaved"},
        {{"framework=megatron-core", "schedule=zb-v", "pp=4", NULL}, "schedule=zb-v"},
        {{"framework=megatron-core", "schedule=gpipe", NULL}, "schedule=gpipe"},
        {{"framework=megatron-core", "schedule=interleaved", "pp=4", "vp=2", NULL}, NULL},
        {{"framework=megatron-core", "zero=3", NULL}, NULL},
        {{"framework=megatron-core", "zero=3", "reshard-after-forward=false", NULL},
         "keeping ZeRO-3 parameters gathered"},
        {{"framework=megatron-core", "fsdp=full-shard", NULL}, NULL},
        {{"framework=megatron-core", "fsdp=full-shard", "pp=2", NULL},
         "only without pipeline and expert parallelism"},
        {{"framework=megatron-core", "offload-activations=0.5", "offload-optimizer=1", NULL},
         NULL},
        /* its layer-level cpu_offloading: no pipelining, no recompute, not every layer */
        {{"framework=megatron-core", "offload-activations=0.5", "pp=2", NULL},
         "offload-activations with pp > 1 is not offered by framework=megatron-core"},
        {{"framework=megatron-core", "offload-activations=0.5", "recompute=selective", NULL},
         "offload-activations with recompute"},
        {{"framework=megatron-core", "offload-activations=1", NULL}, "offload-activations=1"},
        {{"framework=megatron-core", "offload-modules=core_attn,attn_proj", "pp=2",
          "recompute=selective", NULL},
         NULL},
        {{"framework=torchtitan", "distributed-optimizer=true", NULL},
         "ZeRO stage 1 is not offered by framework=torchtitan (it offers stages 0, 3"},
        {{"framework=torchtitan", "zero=2", NULL}, "ZeRO stage 2"},
        {{"framework=torchtitan", "fsdp=shard-grad-op", "schedule=dualpipe-v", "pp=2", NULL},
         NULL},
        {{"framework=torchtitan", "schedule=zb-h1", "pp=2", NULL}, "schedule=zb-h1"},
        {{"framework=torchtitan", "offload-activations=0.5", NULL}, "offload-activations"},
        {{"framework=torchtitan", "rank-order=tp-cp-ep-pp-dp", NULL},
         "rank-order=tp-cp-ep-pp-dp is not offered by framework=torchtitan"},
        {{"framework=megatron-core", "rank-order=tp-cp-ep-pp-dp", NULL}, NULL},
        {{"framework=torchtitan", "recompute=selective", "recompute-modules=mlp", NULL},
         "recomputing mlp is not offered"},
        {{"framework=torchtitan", "recompute=selective", "recompute-modules=layernorm,moe_act",
          NULL},
         NULL},
        {{"framework=torchtitan", "recompute=selective", "recompute-modules=op", NULL}, NULL},
        {{"framework=megatron-core", "recompute=selective", "recompute-modules=op", NULL},
         "recomputing op is not offered by framework=megatron-core"},
        {{"framework=deepseek", "schedule=dualpipe", "distributed-optimizer=true", NULL}, NULL},
        {{"framework=deepseek", "schedule=dualpipe", "recompute=full", NULL}, "recompute=full"},
        {{"framework=deepseek", "schedule=dualpipe", "recompute=selective", NULL},
         "recomputing core_attn (recompute-modules' default)"},
        {{"framework=deepseek", "schedule=dualpipe-v", "recompute=selective",
          "recompute-modules=layernorm,mla_up_proj", NULL},
         NULL},
        /* DeepSeek-V3 recomputes its experts' SwiGLU output (report sec. 3.3.3) */
        {{"framework=deepseek", "schedule=dualpipe", "recompute=selective",
          "recompute-modules=layernorm,mla_up_proj,moe_act", NULL},
         NULL},
        {{"framework=deepseek", "schedule=dualpipe", "recompute=selective",
          "recompute-modules=moe_act,mlp", NULL},
         "recomputing mlp is not offered by framework=deepseek"},
        {{"framework=deepseek", "schedule=1f1b", NULL}, "its schedules: dualpipe, dualpipe-v"},
        {{"framework=deepseek", "schedule=dualpipe", "offload-optimizer=0.5", NULL},
         "offload-optimizer"},
        {{"framework=deepspeed", "pp=4", "zero=1", "grad-reduce-op=all-reduce", NULL}, NULL},
        {{"framework=deepspeed", "pp=4", "zero=2", NULL},
         "ZeRO stage 2 with pipeline parallelism is not offered by framework=deepspeed (it "
         "offers stages 0, 1 with pp > 1"},
        {{"framework=deepspeed", "zero=3", NULL}, NULL},
        {{"framework=deepspeed", "schedule=interleaved", "pp=4", "vp=2", NULL},
         "its schedules: 1f1b"},
        {{"framework=deepspeed", "fsdp=full-shard", NULL}, "fsdp=full-shard"},
        {{"framework=deepspeed", "recompute=selective", "recompute-modules=mlp", NULL},
         "recomputing mlp"},
        {{"framework=megatron-core", "zero=1", "grad-reduce-op=all-reduce", NULL},
         "grad-reduce-op=all-reduce with a sharded optimizer is not offered by "
         "framework=megatron-core"},
        {{"framework=any", "schedule=dualpipe", "fsdp=hybrid-shard", "recompute=full",
          "offload-activations=1", NULL},
         NULL},
        {{"framework=megatron-core", "optimizer-algorithm=muon", "zero=1", NULL}, NULL},
        {{"framework=megatron-core", "optimizer-algorithm=muon", "zero=2", NULL},
         "the Muon optimizer with ZeRO stage 2 is not offered by framework=megatron-core (it "
         "runs Muon with stages 0, 1"},
        {{"framework=torchtitan", "optimizer-algorithm=muon", NULL}, NULL},
        {{"framework=torchtitan", "optimizer-algorithm=muon", "fsdp=full-shard", NULL}, NULL},
        {{"framework=deepspeed", "optimizer-algorithm=muon", NULL},
         "the Muon optimizer is not offered by framework=deepspeed"},
        {{"framework=deepseek", "schedule=dualpipe", "optimizer-algorithm=muon", NULL},
         "the Muon optimizer is not offered by framework=deepseek"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *msg = check(cases[i].sets);
        if (!cases[i].message)
            cr_expect_str_empty(msg, "case %zu refused: %s", i, msg);
        else
            cr_expect(strstr(msg, cases[i].message), "case %zu: got '%s', expected '%s'", i,
                      msg, cases[i].message);
    }
}

/* scn_check applies the rule; the value set later is blamed (the file's line, else --set). */
Test(framework, scenario_rule_blames_the_later_value)
{
    struct scenario scn;
    struct sim_error err;
    err_clear(&err);
    scn_defaults(&scn);
    cr_assert_eq(scn_load(&scn, SCN "mixtral-8x7b-h100-dualpipe.xml", &err), SIM_OK, "%s",
                 err.msg);
    cr_assert_eq(scn_set_arg(&scn, "framework=megatron-core", &err), SIM_OK);
    scn.layers = 32; /* the model's and the cost model's batch: scn_check alone reads neither */
    scn.microbatches = 32;
    cr_assert_eq(scn_check(&scn, &err), SIM_EINPUT);
    cr_expect(strstr(err.msg, "schedule=dualpipe is not offered"), "%s", err.msg);
    cr_expect(strstr(err.msg, "framework given by --set"), "%s", err.msg);
    /* auto refuses nothing */
    cr_assert_eq(scn_set_arg(&scn, "framework=auto", &err), SIM_OK);
    cr_expect_eq(scn_check(&scn, &err), SIM_OK, "%s", err.msg);
}

static enum fw_id resolved(const char *path, const char *const *sets)
{
    struct scenario scn;
    struct sim_error err;
    err_clear(&err);
    scn_defaults(&scn);
    if (path)
        cr_assert_eq(scn_load(&scn, path, &err), SIM_OK, "%s", err.msg);
    for (; *sets; sets++)
        cr_assert_eq(scn_set_arg(&scn, *sets, &err), SIM_OK, "%s", err.msg);
    return fw_resolve(&scn)->id;
}

Test(framework, auto_resolves_to_the_first_offering_everything)
{
    const char *none[] = {NULL};
    cr_expect_eq(resolved(SCN "llama3.1-70b-h100.xml", none), FW_MEGATRON_CORE);
    cr_expect_eq(resolved(SCN "mixtral-8x7b-h100.xml", none), FW_MEGATRON_CORE);
    cr_expect_eq(resolved(SCN "llama3.1-405b-16k-h100.xml", none), FW_MEGATRON_CORE);
    /* DualPipe, but with Megatron's selective recompute of core_attn: no one framework */
    cr_expect_eq(resolved(SCN "mixtral-8x7b-h100-dualpipe.xml", none), FW_ANY);
    const char *no_recompute[] = {"recompute=none", NULL};
    cr_expect_eq(resolved(SCN "mixtral-8x7b-h100-dualpipe.xml", no_recompute), FW_DEEPSEEK);
    const char *fsdp_v[] = {"fsdp=full-shard", "schedule=dualpipe-v", "pp=2", NULL};
    cr_expect_eq(resolved(NULL, fsdp_v), FW_TORCHTITAN);
    const char *ds[] = {"pp=4", "zero=1", "grad-reduce-op=all-reduce", NULL};
    cr_expect_eq(resolved(NULL, ds), FW_DEEPSPEED, "only DeepSpeed all-reduces before its shards");
        const char *zbh1[] = {"schedule=zb-h1", "pp=2", NULL};
    cr_expect_eq(resolved(NULL, zbh1), FW_ANY);
    const char *named[] = {"framework=torchtitan", NULL};
    cr_expect_eq(resolved(SCN "llama3.1-70b-h100.xml", named), FW_TORCHTITAN,
                 "a named framework is kept, even one the scenario breaks");
}

Test(framework, any_offers_every_schedule)
{
    const struct fw_type *any = fw_get(FW_ANY);
    const char *names[] = {"gpipe", "1f1b", "interleaved", "zb-h1", "zb-v", "dualpipe",
                           "dualpipe-v"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cr_expect(fw_offers_schedule(any, sched_find(names[i])), "%s", names[i]);
    cr_expect_null(fw_get(FW_AUTO));
    char buf[128];
    fw_schedule_names(fw_get(FW_TORCHTITAN), buf, sizeof buf);
    cr_expect_str_eq(buf, "gpipe, 1f1b, interleaved, zb-v, dualpipe-v");
}
