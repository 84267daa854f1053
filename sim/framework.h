/* framework: what each training framework really offers -- its pipeline schedules, sharded
 * data parallelism, activation recompute and host offload -- so a scenario can be held to one
 * (`framework=megatron-core`: a DualPipe schedule is then refused, with file:line) and the
 * planner explores only what the framework can run.
 *
 * Each framework is a const table read from the framework's own source (framework.c cites the
 * file for every list).  `any` offers everything stepsim models; `auto` (the key's default)
 * names no framework: it is resolved to the first of megatron-core, torchtitan, deepseek and
 * deepspeed that offers everything the scenario uses, else any (fw_resolve), so a scenario
 * that gives no framework is never refused. */
#ifndef STEPSIM_FRAMEWORK_H
#define STEPSIM_FRAMEWORK_H

#include "error.h"
#include "scenario.h"
#include "schedule.h"

/* Values of the `framework` key, in its choice order (scenario.c). */
enum fw_id {
    FW_AUTO,
    FW_ANY,
    FW_MEGATRON_CORE,
    FW_TORCHTITAN,
    FW_DEEPSEEK,
    FW_DEEPSPEED,
    FW_COUNT
};

/* The scenario runs Megatron-Core's code (and Transformer Engine's layers) where frameworks
 * differ: megatron-core named, or none (auto) or any -- not torchtitan, DeepSeek's own or
 * DeepSpeed (legacy Megatron-LM's layers). */
static inline int fw_megatron_core(const struct scenario *scn)
{
    return scn->framework == FW_AUTO || scn->framework == FW_ANY ||
           scn->framework == FW_MEGATRON_CORE;
}

/* How a framework runs PyTorch FSDP's strategies (the `fsdp` key). */
enum fw_fsdp {
    FW_FSDP_NONE, /* not at all: its own sharding only (zero) */
    FW_FSDP_FLAT, /* only without pipeline and expert parallelism */
    FW_FSDP_ANY,  /* with any layout */
};

#define FW_MAX_SCHEDULES 8

struct fw_type {
    enum fw_id id;
    const char *name;
    const struct sched_type *schedules[FW_MAX_SCHEDULES]; /* offered, NULL-terminated */
    unsigned zero_stages;     /* bit z: ZeRO stage z offered (0 = plain data parallelism) */
    unsigned zero_stages_pp;  /* the same with pipeline parallelism (pp > 1) */
    int keep_gathered;        /* ZeRO-3 may keep parameters gathered from forward to backward
                                 (reshard-after-forward=false) */
    enum fw_fsdp fsdp;        /* PyTorch FSDP strategies */
    int full_recompute;       /* recompute=full */
    int recompute_modules;    /* enum scn_recompute_module bits selective recompute may name
                                 (0: no selective recompute) */
    int offload_activations;  /* saved activations in host memory */
    int offload_modules;      /* ... chosen by module (offload-modules) */
    int offload_optimizer;    /* optimizer state kept and updated on the host */
    unsigned muon_zero;       /* bit z: the Muon optimizer with ZeRO stage z (0: no Muon) */
    int allreduce_sharded;    /* gradients all-reduced before a sharded optimizer takes its
                                 shard (grad-reduce-op=all-reduce) */
    unsigned cp_comm_types;   /* bit t: context parallelism with cp-comm-type t (enum
                                 scn_cp_comm) offered; 0: no context parallelism */
    unsigned cuda_graphs;     /* bit g: cuda-graphs g (enum scn_cuda_graphs) offered beyond
                                 none */
    int fused_grouped_mlp;    /* Transformer Engine's fused grouped MLP for the experts */
    int module_precision;     /* per-module quantization overrides (bf16-modules,
                                 mxfp8-modules) and the MXFP8 output layer */
    int rowwise_fp8;          /* torchao's row-wise Float8 (fp8-recipe=rowwise) */
};

/* The framework of `id`; FW_AUTO has none (NULL). */
const struct fw_type *fw_get(enum fw_id id);
/* The ZeRO stages `fw` offers (bit z: stage z) for a pipeline of pp ranks. */
unsigned fw_zero_stages(const struct fw_type *fw, int pp);
/* The cp-comm-type `fw` runs context parallelism with: `wanted` when offered, else the first
 * type it offers; -1 when it offers no context parallelism. */
int fw_cp_comm(const struct fw_type *fw, int wanted);
/* Does `fw` offer schedule `type`? */
int fw_offers_schedule(const struct fw_type *fw, const struct sched_type *type);
/* "1f1b, interleaved": the schedules `fw` offers, for messages. */
void fw_schedule_names(const struct fw_type *fw, char *buf, size_t len);

/* Does `fw` offer everything `scn` uses (schedule, sharding, recompute, offload)?  SIM_OK, or
 * an SIM_EINPUT error (err may be NULL) naming what it does not offer and blaming whichever of
 * the two values was set later (the framework, or the feature). */
enum sim_status fw_check(const struct fw_type *fw, const struct scenario *scn,
                         struct sim_error *err);
/* The scenario's framework: the one it names, or for `auto` the first of megatron-core,
 * torchtitan, deepseek and deepspeed that offers everything it uses, else any. */
const struct fw_type *fw_resolve(const struct scenario *scn);

#endif
