/* cm_buffers: communication buffers outside the step's tensors (see cm_buffers.h). */
#include "cm_buffers.h"
#include "framework.h"

/* The data-parallel groups of `replicas` GPUs whose state is sharded over `shard` of them:
 * one, or with hybrid sharding (shards narrower than the group) two -- the shard group its
 * gathers and reduce-scatters run in and the replica group its all-reduce runs in, each a
 * process group of its own (PyTorch's HSDP device mesh, FSDP1's HYBRID_SHARD) -- counting
 * those of more than one GPU. */
static int data_groups(int replicas, int shard)
{
    if (shard <= 0 || shard >= replicas)
        return replicas > 1;
    return (shard > 1) + (replicas / shard > 1);
}

/* Hierarchical context parallelism (cp-comm-type a2a+p2p) runs attention in two groups of its
 * own in place of the flat context-parallel one: the all-to-all group of `inner` ranks and the
 * ring between them (Megatron-Core's get_hierarchical_context_parallel_groups, passed to
 * Transformer Engine as its cp_group, core 2edffadb5).  The flat group is counted once either
 * way. */
static int hierarchical_cp_groups(int cp, int inner)
{
    return (inner > 1) + (inner > 0 && cp / inner > 1);
}

/* One per parallel group of more than one GPU a rank communicates in.  Tensor, context and
 * pipeline parallel; the dense gradients' data-parallel group (dp x cp: Megatron-Core reduces
 * them over its data-parallel-with-CP group, a process group of its own beside the
 * context-parallel one), two with hybrid sharding (data_groups); the hierarchical
 * context-parallel groups; and in a MoE model the expert-parallel, expert tensor-parallel and
 * expert data-parallel groups (Megatron-Core's parallel_state.py, core_v0.14.0, builds each as
 * a process group of its own).  PyTorch gives each process group its own NCCL communicator,
 * and each communicator holds buffers of its own unless made by a split that shares them
 * (NVIDIA/nccl issues 864 and 986; in 964 a 2-GPU group took 544 MB and a larger one 688 MB on
 * A100). */
int cm_communicators(const struct scenario *scn, const struct cm_config *cfg,
                     const struct model *m)
{
    int n = (cfg->tp > 1) + (cfg->cp > 1) + (cfg->pp > 1) + data_groups(cfg->replicas, cfg->shard);
    if (cfg->cp > 1 && scn->cp_comm_type == CP_A2A_P2P)
        n += hierarchical_cp_groups(cfg->cp, scn->hierarchical_cp) - 1;
    if (m->experts > 0)
        n += (cfg->ep > 1) + (cfg->etp > 1) + data_groups(cfg->edp, cfg->eshard);
    return n;
}

/* DeepEP's recommended configs by expert-parallel ranks (deep_ep/buffer.py,
 * get_dispatch_config and get_combine_config, deepseek-ai/DeepEP v1.2.1): the tokens a channel
 * receives per NVLink peer (the same in both), and per RDMA peer, the larger of the two after
 * the Config constructor rounds 128 up to a multiple of the tokens sent per chunk (dispatch /
 * combine sends: 16 ranks 20 / 12, 24 and 32 ranks 32 / 8, 64 ranks 28 / 20, 128 ranks 32 /
 * 12, 144 and 160 ranks 12 / 8).  DeepEP asserts on other rank counts. */
static const struct {
    int ranks, nvl_recv_tokens, rdma_recv_tokens;
} deepep_configs[] = {
    {2, 256, 0},    {4, 256, 0},    {8, 256, 0},    {16, 288, 140},  {24, 288, 128},
    {32, 288, 128}, {64, 288, 140}, {128, 560, 132}, {144, 720, 132}, {160, 720, 132},
};
#define DEEPEP_NVL_PEERS 8     /* NUM_MAX_NVL_PEERS, csrc/kernels/configs.cuh */
#define DEEPEP_MAX_TOPK 128    /* kNumMaxTopK, csrc/config.hpp */
#define DEEPEP_MAX_SCALES 128  /* kNumMaxScales */
#define DEEPEP_SOURCE_META 8.0 /* sizeof(SourceMeta): two ints, csrc/kernels/internode.cu */

static double align128(double bytes)
{
    return 128.0 * (double)(long long)((bytes + 127.0) / 128.0);
}

/* Bytes one received token takes beside its hidden state: source meta, top-k indices (int64)
 * and weights (float), scales (float). */
static double token_extra_bytes(void)
{
    return DEEPEP_SOURCE_META + DEEPEP_MAX_TOPK * (8.0 + 4.0) + DEEPEP_MAX_SCALES * 4.0;
}

/* The buffer Megatron-Core allocates once per rank (megatron/core/transformer/moe/fused_a2a.py,
 * get_buffer, NVIDIA/Megatron-LM 2edffadb5): the larger of the dispatch and combine configs'
 * size hints (csrc/config.hpp, get_nvl_buffer_size_hint and get_rdma_buffer_size_hint, v1.2.1)
 * for hidden states of width x max(2, element size) bytes (get_hidden_bytes) -- the run's
 * activation type, bf16 or fp32, of the model's or a latent MoE's latent width.  The NVLink
 * part serves up to 8 peers in a node; the RDMA part, double-buffered, the nodes beyond (none
 * up to 8 ranks).  A rank count DeepEP has no config for takes the next one up (DeepEP itself
 * would refuse it). */
double cm_deepep_buffer_bytes(const struct scenario *scn, const struct model *m,
                              const struct cm_config *cfg)
{
    if (!scn_flex_dispatch(scn) || cfg->ep <= 1 || m->experts == 0)
        return 0.0;
    size_t n = sizeof deepep_configs / sizeof deepep_configs[0], i = 0;
    while (i + 1 < n && deepep_configs[i].ranks < cfg->ep)
        i++;
    double channels = scn->deepep_sms / 2, hidden_bytes = cfg->act_bytes * model_moe_width(m);
    double nvl_peers = cfg->ep < DEEPEP_NVL_PEERS ? cfg->ep : DEEPEP_NVL_PEERS;
    double rdma_peers = cfg->ep > DEEPEP_NVL_PEERS ? cfg->ep / DEEPEP_NVL_PEERS : 1;
    double per_token = hidden_bytes + token_extra_bytes();
    double nvl = channels * nvl_peers *
                 ((2.0 * rdma_peers + 3.0) * 4.0 + deepep_configs[i].nvl_recv_tokens * per_token);
    if (cfg->ep <= DEEPEP_NVL_PEERS)
        return align128(nvl);
    double rdma = channels * rdma_peers * 2.0 *
                  ((DEEPEP_NVL_PEERS * 2.0 + 2.0) * 4.0 +
                   deepep_configs[i].rdma_recv_tokens * (per_token + 16.0 /* an int4 */));
    return align128(nvl) + align128(rdma);
}

/* Transformer Engine's userbuffers for overlapping TP communication with the GEMMs
 * (transformer_engine/pytorch/module/base.py, initialize_ub, read at d0067d0da; v2.7 and
 * later): one registered buffer per overlapped GEMM of a layer -- QKV, projection, FC1 and FC2
 * forward; their input gradients; QKV's, FC1's, the projection's and FC2's weight gradients
 * (the last two since v2.7, August 2025; ten before) -- each [seq x micro-batch / cp, hidden],
 * the shape Megatron passes (megatron/training/initialize.py, _initialize_tp_communicators,
 * NVIDIA/Megatron-LM 2edffadb5), whatever the model's layers.  In fp8 (and narrower) training
 * the eight all-gather buffers hold one byte an element and the four reduce-scatter ones two;
 * bf16 edge layers add a bf16 set.  Two bytes in an fp32 run too: Megatron passes no dtype
 * and initialize_ub's is torch.bfloat16.  torch's async TP (torchtitan) and frameworks without
 * Transformer Engine's modules have none. */
#define UB_GATHER_BUFFERS 8.0
#define UB_SCATTER_BUFFERS 4.0

double cm_userbuffer_bytes(const struct scenario *scn, const struct model *m,
                           const struct cm_config *cfg)
{
    int te = fw_megatron_core(scn);
    if (!scn->overlap_tp_comm || cfg->tp <= 1 || cfg->async_tp_torch || !te)
        return 0.0;
    double elements = (double)cfg->seq * cfg->micro_batch / cfg->cp * m->hidden;
    double wide = (UB_GATHER_BUFFERS + UB_SCATTER_BUFFERS) * 2.0 * elements;
    if (scn->dtype != DT_FP8 && scn->dtype != DT_NVFP4)
        return wide;
    double narrow = (UB_GATHER_BUFFERS * 1.0 + UB_SCATTER_BUFFERS * 2.0) * elements;
    return scn->bf16_first_layers > 0 || scn->bf16_last_layers > 0 ? narrow + wide : narrow;
}
