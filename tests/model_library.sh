#!/bin/sh
# model_library.sh: one smoke scenario per model and hardware file of the library (issue 11
# items 4 and 6) -- each writes a scenario, validates it, runs it, and must finish with exit 0,
# nothing on stderr, no rank out of memory and, for a mixture-of-experts model, some expert-
# parallel communication (so the file's <moe> reaches the cost model).  Prints TAP.
#
# The layouts are Megatron-Bridge's H100 pretraining recipes where one exists (src/megatron/
# bridge/recipes/<family>/h100/*.py at commit 067f987d; the parallelism guide's starting
# layouts are the same TP/PP/EP), at the recipe's GPU count or twice it where stepsim puts the
# recipe's own count over 77 GiB (GLM-4.5 and GLM-4.5-Air; reported, not asserted here), with
# the recipe's first/last pipeline-stage layers, recompute and global batch.  Llama 4 and
# Mixtral 8x22B have no such recipe: their rows are a sensible layout, ETP 4 for Llama 4 as the
# guide advises.  The last rows run library models on the library's new hardware.
#
# Last, every model and hardware file must be named in Makefile.am's install / dist lists.
#
# Run by automake from the build directory with top_srcdir and top_builddir set; by hand:
# top_srcdir=/path/to/src top_builddir=/path/to/build sh THIS.
set -u

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
src=$(cd "$top_srcdir" && pwd)

NAME=library
. "$top_srcdir/tests/tap_lib.sh"
tap_begin "$NAME"

# scenario MODEL HW GPUS TP PP CP EP ETP FIRST LAST MB GBS RECOMPUTE DISPATCHER > FILE
# FIRST/LAST = 0: layers split evenly over the pipeline stages.
scenario() {
    m=$1 hw=$2 g=$3 tp=$4 pp=$5 cp=$6 ep=$7 etp=$8 first=$9
    shift 9
    last=$1 mb=$2 gbs=$3 rec=$4 disp=$5
    sp=false
    [ "$tp" -gt 1 ] && sp=true
    stages= dispatch=
    [ "$first" -gt 0 ] && stages=" first-stage-layers=\"$first\" last-stage-layers=\"$last\""
    [ "$disp" != - ] && dispatch=" moe-dispatcher=\"$disp\"" # MoE models only
    # 4096 tokens, or the model's max-seq where it is shorter (past it stepsim warns)
    seq=$(sed -n 's/.*max-seq="\([0-9]*\)".*/\1/p' "$src/models/$m.xml" | head -n 1)
    [ -z "$seq" ] || [ "$seq" -gt 4096 ] && seq=4096
    cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<scenario name="$m on $g GPUs of $hw">
  <model ref="$src/models/$m.xml"$stages/>
  <hardware ref="$src/hardware/$hw.xml"/>
  <parallel gpus="$g" tp="$tp" cp="$cp" ep="$ep" etp="$etp" sp="$sp"$dispatch/>
  <pipeline schedule="1f1b" pp="$pp"/>
  <batch micro-batch="$mb" global-batch="$gbs" seq="$seq"/>
  <training dtype="bf16" recompute="$rec" attention="flash" distributed-optimizer="true"
            overlap-grad-reduce="true" overlap-param-gather="true" overlap-tp-comm="true"
            overlap-p2p="true"/>
</scenario>
EOF
}

# model hardware gpus tp pp cp ep etp first last mb gbs recompute dispatcher (- for dense)
# (recipe function, or why the row deviates)
while read -r m hw g tp pp cp ep etp first last mb gbs rec disp; do
    case $m in '#'* | '') continue ;; esac
    f="$tmp/$m-$hw-$g.xml"
    scenario "$m" "$hw" "$g" "$tp" "$pp" "$cp" "$ep" "$etp" "$first" "$last" "$mb" "$gbs" \
        "$rec" "$disp" >"$f"
    what="$m on $g x $hw (tp $tp pp $pp cp $cp ep $ep etp $etp)"
    "$S" validate "$f" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne 0 ] || [ -s "$tmp/err" ]; then
        fail "validate $what" "exit status $rc"
        continue
    fi
    "$S" run "$f" --format json >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne 0 ] || [ -s "$tmp/err" ]; then
        fail "run $what" "exit status $rc"
    elif ! grep -q '"oom": false' "$tmp/out" || grep -q '"oom": true' "$tmp/out"; then
        fail "run $what: no rank out of memory" "$(grep -o '"memory".*' "$tmp/out" | head -c 300)"
    elif [ "$ep" -gt 1 ] && grep -q '"ep": 0[,}]' "$tmp/out"; then
        fail "run $what: expert-parallel communication is costed" "EP time is 0"
    elif [ "$ep" -gt 1 ]; then
        pass "run $what: fits, EP costed"
    else
        pass "run $what: fits"
    fi
done <<'EOF'
# olmoe_7b_pretrain_8gpu_h100_bf16_config
olmoe-1b-7b dgx-h100 8 1 1 1 8 1 0 0 1 2048 selective alltoall
# moonlight_16b_pretrain_8gpu_h100_bf16_config
moonlight-16b-a3b dgx-h100 8 2 1 1 8 1 0 0 1 2048 selective alltoall
# deepseek_v2_pretrain_128gpu_h100_bf16_config
deepseek-v2 dgx-h100 128 1 4 1 32 1 0 0 1 512 full alltoall
# glm45_air_106b_pretrain_32gpu_h100_bf16_config, at 64 GPUs
glm-4.5-air dgx-h100 64 1 4 1 8 1 11 11 1 2048 selective alltoall
# glm45_355b_pretrain_128gpu_h100_bf16_config, at 256 GPUs
glm-4.5 dgx-h100 256 2 8 1 16 1 10 10 1 2048 selective alltoall
# qwen3_8b_pretrain_4gpu_h100_bf16_config, qwen3_32b_pretrain_16gpu_h100_bf16_config
# (recipes/qwen/h100/qwen3.py: TP 4 / TP 8 PP 2 with full recompute; batch from
# _pretrain_common)
qwen3-8b dgx-h100 4 4 1 1 1 1 0 0 2 32 none -
qwen3-32b dgx-h100 16 8 2 1 1 1 0 0 2 32 full -
# qwen3_30b_a3b_pretrain_8gpu_h100_bf16_config (batch from _pretrain_common)
qwen3-30b-a3b dgx-h100 8 4 2 1 4 1 0 0 2 32 full alltoall
# qwen3_235b_a22b_pretrain_256gpu_h100_bf16_config (embedding and loss counted in the split)
qwen3-235b-a22b dgx-h100 256 4 16 2 8 1 5 5 1 32 none alltoall
# glm52_pretrain_416gpu_h100_bf16_config (recipes/glm/h100/glm5.py: TP 1, PP 13, EP 32, full
# recompute) for GLM-5, which computes its top-k in every layer (GLM-5.2's index sharing needs
# the recipe's layout of empty chunks, which this harness does not write)
glm-5-744b-a40b dgx-h100 416 1 13 1 32 1 0 0 1 1024 full deepep
# DeepSeek-V3.2 (no recipe): TP 1, PP 16 with 4 layers first and 1 last, as Kimi K2's layout
deepseek-v3.2 dgx-h100 1024 1 16 1 64 1 4 1 1 1024 full deepep
# kimi_k2_pretrain_512gpu_h100_bf16_config (layout: embedding + 4 layers, ..., 1 layer + loss)
kimi-k2 dgx-h100 512 2 16 1 32 1 4 1 1 4096 selective alltoall
# no recipe: ETP 4 as the parallelism guide gives for Llama 4
llama4-scout-17b-16e dgx-h100 64 4 1 1 16 4 0 0 1 512 selective alltoall
llama4-maverick-17b-128e gb200-nvl72 512 4 4 1 32 4 0 0 1 1024 selective alltoall
# gpt_oss_120b_pretrain_64gpu_h100_bf16_config, gpt_oss_20b_pretrain_16gpu_h100_bf16_config
gpt-oss-120b dgx-h100 64 2 4 1 16 1 0 0 1 512 none alltoall
gpt-oss-20b dgx-h100 16 2 4 1 4 1 0 0 1 512 none alltoall
# no recipe: Mixtral 8x7B's shipped layout scaled up
mixtral-8x22b dgx-h100 64 2 8 1 8 1 0 0 1 256 selective alltoall
# DGX Cloud Benchmarking's GB200 layout (tag v25.05, grok1/launch.sh: TP 4, EP 8, ETP 8)
grok-1-314b gb200-nvl72 128 4 1 1 8 8 0 0 1 256 none alltoall
# the new hardware files
deepseek-v2 deepseek-h800 128 1 4 1 32 1 0 0 1 512 full deepep
mixtral-8x22b hgx-h200-4gpu 64 2 8 1 8 1 0 0 1 256 selective alltoall
gpt-oss-20b h100-nvl 16 2 4 1 4 1 0 0 1 512 none alltoall
llama4-maverick-17b-128e gb300-nvl72 256 4 4 1 64 1 0 0 1 1024 selective alltoall
llama3.3-70b hgx-h200-4gpu 64 4 4 1 1 1 0 0 1 256 selective -
llama3.1-70b amd-mi300x 64 8 1 1 1 1 0 0 1 128 selective -
mixtral-8x7b amd-mi325x 16 2 1 1 8 1 0 0 1 256 selective alltoall
llama3.1-405b amd-mi355x 256 8 8 1 1 1 15 15 1 256 selective -
qwen3-235b-a22b dgx-b300 64 1 8 1 8 1 11 11 1 1024 full alltoall
falcon-7b dgx-h100 8 1 1 1 1 1 0 0 1 64 none -
falcon-40b dgx-h100 64 8 2 1 1 1 0 0 1 256 selective -
# NeMo 24.07's performance table (the validation set n2407's layouts)
gpt3-5b dgx-h100 64 1 1 1 1 1 0 0 4 2048 none -
gpt3-20b dgx-h100 64 2 1 1 1 1 0 0 2 256 none -
llama2-13b dgx-h100 16 1 4 1 1 1 0 0 1 128 none -
nemotron3-8b dgx-h100 64 2 1 1 1 1 0 0 4 256 none -
nemotron3-22b dgx-h100 64 2 4 1 1 1 0 0 2 256 none -
# qwen3_next_80b_a3b_pretrain_32gpu_h100_bf16_config (recipes/qwen/h100/qwen3_next.py): TP 1,
# PP 4, EP 8, selective recompute (its layernorm, moe and moe_act: stepsim's ln, moe), DeepEP
qwen3-next-80b-a3b dgx-h100 32 1 4 1 8 1 0 0 1 512 selective deepep
# qwen35_vl_397b_a17b_pretrain_256gpu_h100_bf16_config (perf_recipes/qwen_vl/h100/qwen35_vl.py;
# the language model alone): TP 2, PP 8, EP 32, the all-to-all dispatcher
qwen3.5-397b-a17b dgx-h100 256 2 8 1 32 1 0 0 1 1024 selective alltoall
# nemotron_3_5_lightning_pretrain_8gpu_gb200_bf16_config (perf_recipes/nemotronh/gb200, v0.6.0;
# at 067f987df its flex dispatcher runs HybridEP, as GB200 must: Bridge falls back from DeepEP)
nemotron-3.5-lightning-30b-a3b gb200-nvl72 8 1 1 1 8 1 0 0 2 512 none hybridep
# nemotron_3_5_lightning_pretrain_config (recipes/nemotronh/h100/nemotron_3_nano.py): EP 8 and
# CP 2 on 16 H100 (the Mamba layers' context parallelism), selective recompute
nemotron-3.5-lightning-30b-a3b dgx-h100 16 1 1 2 8 1 0 0 1 512 selective alltoall
EOF

# Every model and hardware file of the library is installed and distributed: named in
# Makefile.am's data lists (a file missing there breaks `make distcheck` and `make install`).
for f in "$src"/models/*.xml "$src"/hardware/*.xml; do
    rel=${f#"$src"/}
    if grep -q "$rel" "$src/Makefile.am"; then
        pass "$rel is in Makefile.am's data lists"
    else
        fail "$rel is in Makefile.am's data lists" "add it to dist_model_DATA / dist_hardware_DATA"
    fi
done

echo "# $((n - failed)) passed, $failed failed"
echo "1..$n"
[ "$failed" -eq 0 ]
