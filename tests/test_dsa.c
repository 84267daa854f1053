/* test_dsa: DeepSeek Sparse Attention (model.h <dsa>) against hand-computed values -- which
 * layers compute the top-k, the indexer's weights, the sparse core's and the indexer's FLOPs,
 * their time on the toy GPU (tests/helpers.c: GEMMs at 500 TFLOPS, attention at 250), what
 * the layers keep, context parallelism's all-gather -- and the rules that refuse what is not
 * modelled. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "flops.h"
#include "helpers.h"
#include "model.h"
#include "pplayout.h"
#include "step.h"

#define MODEL(name) TOP_SRCDIR "/models/" name ".xml"
#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define near(a, b) (fabs((a) - (b)) <= 1e-12 + 1e-9 * fabs(b))

static struct scenario scn;
static struct step_output out;

/* GLM-5's indexer: W_q from the 2048-wide query latent to 32 heads of 128, W_k and the head
 * weights from hidden 6144, and its key's LayerNorm (2 x 128): 9,371,904 weights. */
static const double GLM_INDEXER = 2048.0 * 32 * 128 + 6144.0 * 128 + 6144.0 * 32 + 2 * 128;

/* GLM-5.2 (topk-freq 4, skip-offset 3): layers numbered 1-3 and every fourth from 7 compute
 * the top-k, 21 of 78; a layer reusing it is a kind of its own and holds no indexer. */
Test(dsa, index_sharing_picks_the_computing_layers)
{
    struct model m, every;
    load_shipped_model(&m, "glm-5.2-744b-a40b");
    load_shipped_model(&every, "glm-5-744b-a40b");
    int computing = 0;
    for (int l = 0; l < m.layers; l++)
        computing += model_dsa_computes_topk(&m, l);
    cr_assert_eq(computing, 21);
    cr_assert(model_dsa_computes_topk(&m, 2) && !model_dsa_computes_topk(&m, 3) &&
              !model_dsa_computes_topk(&m, 5) && model_dsa_computes_topk(&m, 6) &&
              model_dsa_computes_topk(&m, 10));
    cr_assert_eq(model_layer_kind(&m, 4, 4096), MODEL_KIND_DSA_SHARED_MOE);
    cr_assert_eq(model_layer_kind(&m, 6, 4096), 1);
    cr_assert(near(model_weights_dsa_indexer(&m), GLM_INDEXER));
    cr_assert(near(model_params_total(&every) - model_params_total(&m), 57 * GLM_INDEXER));
}

/* DeepSeek-V3.2 is DeepSeek-V3 and an indexer in each of its 61 layers: W_q from the 1536-wide
 * query latent to 64 heads of 128, W_k and the head weights from 7168, its LayerNorm. */
Test(dsa, deepseek_v3_2_is_v3_with_an_indexer_a_layer)
{
    struct model v3, v32;
    load_shipped_model(&v3, "deepseek-v3");
    load_shipped_model(&v32, "deepseek-v3.2");
    double indexer = 1536.0 * 64 * 128 + 7168.0 * 128 + 7168.0 * 64 + 2 * 128;
    cr_assert(near(model_params_total(&v32) - model_params_total(&v3), 61 * indexer));
}

/* One GLM-5 layer at 4096 tokens, top-k 2048: query i attends to min(i + 1, 2048) keys,
 * 4096 x 2048 - 2048 x 2047 / 2 = 6,291,456 pairs; the absorbed core 2 x 64 heads x (2 x 512 +
 * 64) FLOPs a pair; the indexer scores all 4096^2 / 2 causal pairs, 2 x 32 x 129 FLOPs each, and
 * its loss adds the target's Q K^T (2 x 64 x 576) and the scores' gradient (4 x 32 x 129) on
 * the selected pairs; the projections 2 x 4096 x (indexer weights less the norm).  At 1024
 * tokens every causal pair is selected: 1024^2 / 2. */
Test(dsa, flops_of_the_sparse_core_and_the_indexer)
{
    struct model m;
    load_shipped_model(&m, "glm-5-744b-a40b");
    struct layer_flops lf;
    flops_layer_fwd(&m, 10, 4096, 0, &lf);
    double pairs = 4096.0 * 2048 - 2048.0 * 2047 / 2;
    cr_assert(near(model_dsa_pairs(&m, 4096), pairs));
    cr_assert(near(lf.attn_core, 2.0 * 64 * 1088 * pairs), "%.12g", lf.attn_core);
    cr_assert(near(lf.dsa_index, 2.0 * 32 * 129 * 0.5 * 4096.0 * 4096));
    cr_assert(near(lf.dsa_index_bwd, 4.0 * 32 * 129 * pairs));
    cr_assert(near(lf.dsa_teacher, 2.0 * 64 * 576 * pairs));
    cr_assert(near(lf.dsa_index_proj, 2.0 * 4096 * (GLM_INDEXER - 256)));
    flops_layer_fwd(&m, 10, 1024, 1, &lf);
    cr_assert(near(lf.attn_core, 2.0 * 64 * 1088 * 0.5 * 1024 * 1024));
    /* the model FLOPs of a step: 3 x the forward, and the indexers' terms beside it (78
     * layers and the MTP module's, each computing its top-k) */
    flops_layer_fwd(&m, 10, 4096, 0, &lf);
    double extra = lf.dsa_index + lf.dsa_index_bwd + lf.dsa_teacher + 2.0 * lf.dsa_index_proj;
    cr_assert(near(flops_dsa_step_extra(&m, 4096), 79 * extra));
    cr_assert(near(flops_model_step(&m, 4096, 2, 0),
                   2 * (3.0 * flops_model_fwd(&m, 4096, 0) + 79 * extra)));
}

/* On the toy GPU, one GLM-5 MoE layer (layer 10) at 4096 tokens: the attention column holds the
 * core (attention rate, 250 TFLOPS) and the indexer -- projections at the GEMM rate (500),
 * scores and the loss's target at the attention rate.  With tp 2 the core and the target halve
 * (the heads split) while the indexer's projections and scores stay whole (duplicated). */
Test(dsa, the_indexer_is_duplicated_over_tensor_parallelism)
{
    struct model m;
    load_shipped_model(&m, "glm-5-744b-a40b");
    struct layer_flops lf;
    flops_layer_fwd(&m, 10, 4096, 1, &lf);
    double core = lf.attn_core / 250e12, target = lf.dsa_teacher / 250e12;
    double indexer = lf.dsa_index_proj / 500e12 + lf.dsa_index / 250e12;
    toy_step(MODEL("glm-5-744b-a40b"), 8, L("seq=4096", "microbatches=1", "gpus=1"), &scn, &out);
    double one = out.cm.layer_view[1].attn_fwd;
    cr_assert(near(one, core + target + indexer), "%.12g vs %.12g", one, core + target + indexer);
    step_release(&out);
    toy_step(MODEL("glm-5-744b-a40b"), 8,
             L("seq=4096", "microbatches=1", "gpus=2", "tp=2", "sp=false"), &scn, &out);
    double two = out.cm.layer_view[1].attn_fwd;
    cr_assert(near(two, (core + target) / 2 + indexer), "%.12g", two);
    step_release(&out);
}

/* GLM-5.2 keeps, beyond GLM-5, nothing on its 57 layers that reuse a top-k: GLM-5's computing
 * layers each keep the selected indices (4 bytes x 4096 tokens x 2048), the indexer's query and
 * head weights (4096 x 32 x (2 x 128 + 4)) and keys (2 x 4096 x 128). */
Test(dsa, a_layer_reusing_the_top_k_keeps_no_indices)
{
    const char *const *sets = L("seq=4096", "microbatches=1", "gpus=1");
    toy_step(MODEL("glm-5-744b-a40b"), 8, sets, &scn, &out);
    double every = out.cm.stages[0].act_bytes_mb;
    step_release(&out);
    toy_step(MODEL("glm-5.2-744b-a40b"), 8, sets, &scn, &out);
    double shared = out.cm.stages[0].act_bytes_mb;
    step_release(&out);
    double layer = 4.0 * 4096 * 2048 + 4096.0 * 32 * (2 * 128 + 4) + 2.0 * 4096 * 128;
    cr_assert(near(every - shared, 57 * layer), "%.12g vs %.12g", every - shared, 57 * layer);
}

/* Context parallelism gathers the keys (cp-comm-type allgather, derived when not given): a
 * layer computing its top-k gathers the latent and rotary channels (576) and the indexer's key
 * (128), 2 bytes each, of all 4096 tokens -- 2048 a rank on cp 2 -- keeps them, and reduce-
 * scatters their gradients. */
Test(dsa, context_parallelism_gathers_the_keys)
{
    toy_step(MODEL("glm-5-744b-a40b"), 8, L("seq=4096", "microbatches=1", "gpus=1"), &scn, &out);
    double whole = out.cm.stages[0].act_bytes_mb;
    step_release(&out);
    toy_step(MODEL("glm-5-744b-a40b"), 8, L("seq=4096", "microbatches=1", "gpus=2", "cp=2"), &scn,
             &out);
    cr_assert_eq(scn.cp_comm_type, CP_ALLGATHER);
    double gather = 2.0 * 2048 * 704 * 2; /* two ranks' keys, over the toy's 100 GB/s NVLink */
    cr_assert(near(out.cm.layer_view[1].cp_fwd, 0.5 * gather / 100e9));
    cr_assert(near(out.cm.layer_view[1].cp_bwd, 0.5 * gather / 100e9)); /* the reduce-scatter */
    /* every kept tensor halves with the tokens but the gathered keys, whole on each rank: half
     * of the 79 layers' (78 and the MTP module's) 4096 x 704 x 2 bytes stays on */
    double keys = 79 * 4096.0 * 704 * 2;
    cr_assert(near(out.cm.stages[0].act_bytes_mb, whole / 2 + keys / 2), "%.12g",
              out.cm.stages[0].act_bytes_mb);
    step_release(&out);
}

Test(dsa, rules)
{
    const char *glm = MODEL("glm-5-744b-a40b"), *glm52 = MODEL("glm-5.2-744b-a40b");
    toy_rule_error(glm, "", L("seq=4096", "gpus=2", "cp=2", "cp-comm-type=p2p"),
                   "cp-comm-type=allgather", &scn, &out);
    toy_rule_error(glm, "", L("seq=4096", "attention=unfused"), "attention=flash", &scn, &out);
    toy_rule_error(glm, "", L("seq=4096", "packed-doc-tokens=512"), "packed documents", &scn,
                   &out);
    toy_rule_error(glm, "", L("seq=4096", "peft=lora"), "with LoRA", &scn, &out);
    /* GLM-5.2's 78 layers over pp 2 split at layer 39 (numbered 40), which reuses a top-k */
    toy_rule_error(glm52, "", L("seq=4096", "gpus=2", "pp=2"),
                   "chunk 1 starts on layer 39 (as pp=2 x vp=1 split layers=78 evenly), which "
                   "reuses",
                   &scn, &out);
}

static int glm52_starts(int layer, const void *arg)
{
    (void)arg;
    return model_dsa_rule_computes(layer, 4, 3);
}

/* The planner lays a shared top-k's groups out whole (pplayout_grouped): GLM-5.2's 78 layers --
 * groups of one at layers 0 and 1, then 19 of four from layer 2 -- over 13 stages, one group
 * each and two on the six before the last, the single layers on the first (its rank kept off
 * the extra groups), the MTP module with the loss; over 26 (Megatron-Bridge's vp 2) many
 * stages are left empty, as its recipe's layout has them. */
Test(dsa, grouped_layouts_keep_each_top_k_group_on_one_stage)
{
    char layout[512];
    cr_assert_eq(pplayout_grouped(78, 13, 1, 1, glm52_starts, NULL, layout, sizeof layout), 0);
    cr_assert_str_eq(layout, "Etttttt|tttt|tttt|tttt|tttt|tttt|tttttttt|tttttttt|tttttttt|"
                             "tttttttt|tttttttt|tttttttt|ttttmL");
    cr_assert_eq(pplayout_grouped(78, 13, 2, 1, glm52_starts, NULL, layout, sizeof layout), 0);
    cr_assert_eq(pplayout_stages(layout), 26);
    cr_assert_eq(pplayout_count(layout, -1, 't'), 78);
    for (int s = 0; s < 26; s++) {
        int first, count;
        pplayout_stage_layers(layout, s, &first, &count);
        cr_assert(count == 0 || glm52_starts(first, NULL), "stage %d starts at %d: %s", s, first,
                  layout);
    }
    cr_assert_eq(pplayout_grouped(78, 13, 1, 1, glm52_starts, NULL, layout, 40), -1);
}
