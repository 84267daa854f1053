/* stagesplit: how many layers the first and the last pipeline stage hold when they are set
 * apart from the others (first-stage-layers / last-stage-layers) and the pipeline changes.
 *
 * Two rules, in this order (scenarios/validation/README.md, rules S2 and S3, which fill the
 * published runs' layouts the same way):
 *  - Megatron-Core's account-for-embedding / account-for-loss split (megatron/core/transformer/
 *    transformer_block.py, get_num_layers_to_build with account_for_embedding_in_pipeline_split
 *    and account_for_loss_in_pipeline_split): each end set apart counts as one more layer, so
 *    when layers + ends divides the stages every stage holds (layers + ends) / stages and the
 *    ends one fewer (Llama 3.1 405B's 126 layers on 32 stages: 3, 30 x 4, 3);
 *  - otherwise NeMo's uneven split (the first / last pipeline-stage layer counts of its
 *    DeepSeek-V3 recipes): ceil(layers / stages) on every middle stage and the rest on the
 *    ends, the last (with the LM head) taking the smaller half (61 layers on 16 stages: 3,
 *    14 x 4, 2; on 32: 1, 30 x 2, 0).
 * When the middle stages would need more layers than there are (80 layers on 32 stages), no
 * split has ends no heavier than the middle: there is none, and derive.c lays the stages out
 * with a pipeline layout instead (pplayout_balanced). */
#ifndef STEPSIM_STAGESPLIT_H
#define STEPSIM_STAGESPLIT_H

/* The ends' layer counts for `layers` over `stages` model parts, with the first and / or the
 * last set apart (at least one).  Returns 0 and sets *first / *last (an end not set apart gets
 * 0), or -1 when no split exists (fewer than 2 stages, or too few layers for ceil(layers /
 * stages) on every middle stage). */
int stage_split_ends(int layers, int stages, int first_apart, int last_apart, int *first,
                     int *last);

#endif
