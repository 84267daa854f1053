/* derive: the values a scenario only implies, computed from the ones it gives.
 *
 * Precedence, one rule for every derived value: a value given later wins over one given
 * earlier -- the command line (--set and --vary alike) over the scenario file, a file over its
 * base, any of them over a default -- and a value that is only implied (not given, or given
 * earlier than the values it must agree with) follows those.  Two values given at the same
 * level that contradict each other are an input error naming both.  What follows:
 *
 *  - the batch (modelled scenarios): global-batch = microbatches x micro-batch x dp, with
 *    dp = gpus / (tp x cp x pp).
 *      neither given                 global-batch follows (microbatches at its default 1)
 *      one given                     the other follows
 *      both, one later               the later one wins, the other follows
 *      both at one level, agreeing   nothing to do
 *      both at one level, not        if micro-batch, pp, tp, cp or gpus was given later than
 *                                    both, global-batch stays and microbatches follows (the
 *                                    file's pair was made for the file's layout); else an error
 *    So `--vary microbatches=...` moves the global batch a file gives, `--vary pp=...` keeps
 *    it (microbatches follows), and `--set global-batch=G --vary microbatches=...` is an error
 *    for every config where they disagree.
 *  - vp follows the schedule when the schedule was given later and vp does not fit it: 1 for
 *    one-chunk schedules, 2 for the V schedules (zb-v, dualpipe, dualpipe-v), and for
 *    interleaved the least vp >= 2 that passes every rule (splits the layers; in a modelled
 *    scenario with the ends set apart where they must be), else 2.
 *  - split-backward follows the schedule likewise (the zero-bubble family always splits).
 *  - sp=true follows a tp of 1 given later (off: Megatron-LM turns it off itself), and a
 *    low-precision run's keys (fp8-recipe, quantized-params, bf16 edge layers, fp8 attention,
 *    per-module precision, the MXFP8 output layer) a dtype or fp8 recipe given later that they
 *    do not apply to (back to their defaults: bf16 edge layers under delayed scaling too).
 *  - the dtype follows an fp8 recipe given later: fp8; the fused grouped MLP an etp above 1,
 *    and what leans on it (a graph scope's whole MoE blocks, offload-modules' fused_group_mlp)
 *    follows it out.
 *  - distributed-optimizer, zero and fsdp, which say one thing several ways, follow each other
 *    (the later wins: zero=0 turns the distributed optimizer off, distributed-optimizer=false
 *    sets zero 0, a zero that disagrees with fsdp drops it and the reverse); what needs a
 *    sharded optimizer (quantized-params, grad-reduce-op=reduce-scatter, fsdp-group,
 *    fsdp-outer-shard) follows a sharding given later that has none, and what sums whole
 *    gradients (grad-accumulation's other modes, grad-reduce-op=all-reduce) a stage 2 or 3.
 *  - attention-kernel and fp8-attention follow an unfused attention given later; keys read
 *    only under another key's value follow it given later (wgrad-deferral-limit, the MTP
 *    module's repetition, deepep-sms, the shared experts' overlap, muon-ns-steps), and
 *    offload-modules and offload-activations follow each other.
 *  - first-stage-layers / last-stage-layers, when given, follow pp, vp, the schedule, the
 *    model or layers given later than them: recomputed for the new pp x vp by stagesplit.h's
 *    rule for the ends that were set apart; on one stage they are set apart no more.  Ends
 *    given with or after those keys stay, for the rules to judge.  In a modelled scenario,
 *    ends not given follow a pipeline given later than the model when it cannot split the
 *    layers evenly (or, for a model sharing its DSA top-k, with every chunk starting on a layer
 *    computing it): both set apart by the same rule.  Where that rule has no split (the middle
 *    stages would need more layers than there are; a chunk would start on a layer reusing the
 *    top-k), a pipeline-layout follows instead under 1f1b and interleaved (pplayout_balanced,
 *    pplayout_grouped), the ends dropped; other schedules are an error naming pp, vp and the
 *    ends.
 *
 * A derived value is marked in its origin (scn_mark_derived): it is then not "given", and
 * deriving again gives the same result.  Reports list the derived keys (derive_list). */
#ifndef STEPSIM_DERIVE_H
#define STEPSIM_DERIVE_H

#include <stddef.h>

#include "error.h"
#include "scenario.h"

/* Complete `scn` in place.  `m` is a modelled scenario's model (NULL for explicit costs): its
 * DSA top-k sharing and MTP modules shape a derived layout.  `dp` is the data-parallel size of
 * a modelled scenario (the batch is then derived), 0 for explicit costs (no batch relation).
 * Errors: SIM_EINPUT, citing the value at fault (or both command-line options of a
 * contradiction, or the pipeline key given last when the layers cannot be re-split). */
struct model;
enum sim_status derive_apply(struct scenario *scn, const struct model *m, int dp,
                             struct sim_error *err);
/* Of those, the keys that follow others without the layout (sp after tp, a low-precision run's
 * keys after dtype): derive_apply runs it too; the cost model's rules run it first. */
void derive_followers(struct scenario *scn);
/* The derived keys, in key order, joined by `sep` ("" when none); returns how many. */
int derive_list(const struct scenario *scn, const char *sep, char *buf, size_t len);

#endif
