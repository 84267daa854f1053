#!/bin/sh
# bench_cli.sh -- the command-level figures of `make bench`: configs per second for a sweep and
# the wall time of `plan` for Llama-3.1-70B on 256 H100 (the planner's target: under 1 s) and
# Llama-3.1-405B on 16,384 H100 (median of 5 runs each), DeepSeek-V3 on 16 H100 where nothing
# fits (median of 3), the 405B plan's CPU time and peak
# memory at a 64M-sequence batch (when /usr/bin/time is installed), with the 70B plan's
# instruction count under callgrind when valgrind is installed (a figure machine load does not
# move); and the
# wall time of `calibrate` on the dev table on one thread and on two (median of 3 each), the
# ratio being what its thread pool buys on this machine.
set -u
top_srcdir=${top_srcdir:-.}
S=${STEPSIM:-./stepsim}
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

scn="$top_srcdir/scenarios/llama3.1-70b-h100.xml"
times=""
for run in 1 2 3 4 5; do
    t0=$(now)
    # shellcheck disable=SC2086
    "$S" sweep "$scn" --vary pp=2,4,8 --vary micro-batch=1,2 --vary recompute=none,selective,full \
        --vary global-batch=128:1024:x2 --set schedule=1f1b --set vp=1 \
        >/tmp/stepsim-bench-sweep.csv 2>/dev/null
    t1=$(now)
    times="$times $(sub "$t0" "$t1")"
done
n=$(($(wc -l </tmp/stepsim-bench-sweep.csv) - 1))
ok=$(grep -c -e ',ok,' -e ',oom,' /tmp/stepsim-bench-sweep.csv)
t=$(printf '%s\n' $times | median)
printf 'sweep               %d configs (%d simulated, Llama-3.1-70B, 512 H100): %.3f s, %.0f configs/s (median of 5)\n' \
    "$n" "$ok" "$t" "$(awk -v n="$n" -v t="$t" 'BEGIN { print n / t }')"
rm -f /tmp/stepsim-bench-sweep.csv

# plan_wall SCENARIO GPUS: the median wall time of 5 plans.
plan_wall() {
    times=""
    for run in 1 2 3 4 5; do
        t0=$(now)
        "$S" plan "$top_srcdir/scenarios/$1" --gpus "$2" >/dev/null 2>&1
        t1=$(now)
        times="$times $(sub "$t0" "$t1")"
    done
    printf '%s\n' $times | median
}
printf 'plan                Llama-3.1-70B on 256 H100, 4M-token batch: %.3f s wall (median of 5)\n' \
    "$(plan_wall llama3.1-70b-h100.xml 256)"
printf 'plan                Llama-3.1-405B on 16,384 H100, 16M-token batch: %.3f s wall (median of 5)\n' \
    "$(plan_wall llama3.1-405b-16k-h100.xml 16384)"
# When nothing fits (DeepSeek-V3 on 16 H100): the path that builds the nearest configs, with
# the scenario's dispatcher and with --dispatchers all (median of 3 each).
nearest_wall() {
    times=""
    for run in 1 2 3; do
        t0=$(now)
        # shellcheck disable=SC2086
        "$S" plan "$top_srcdir/scenarios/moe-guide/deepseek-v3.xml" --gpus 16 --top 3 $1 \
            >/dev/null 2>&1
        t1=$(now)
        times="$times $(sub "$t0" "$t1")"
    done
    printf '%s\n' $times | median
}
printf 'plan                DeepSeek-V3 on 16 H100, nothing fits: %.2f s wall, %.2f s with --dispatchers all (median of 3)\n' \
    "$(nearest_wall "")" "$(nearest_wall "--dispatchers all")"
# The planner at a global batch of 64M sequences (README, "The planner"): its CPU time and
# peak memory on one thread, without and with max-ops bounding each config's ops.
if [ -x /usr/bin/time ]; then
    for extra in "" "--set max-ops=2000000"; do
        # shellcheck disable=SC2086
        /usr/bin/time -f '%U %S %M' -o /tmp/stepsim-bench-time.$$ "$S" plan \
            "$top_srcdir/scenarios/llama3.1-405b-16k-h100.xml" --gpus 16384 \
            --set global-batch=67108864 $extra -j 1 >/tmp/stepsim-bench-plan.$$ 2>&1
        sim=$(sed -n 's/.* \([0-9]*\) simulated.*/\1/p' /tmp/stepsim-bench-plan.$$)
        printf 'plan                Llama-3.1-405B on 16,384 H100, 64M-sequence batch%s: %s configs simulated, %s\n' \
            "${extra:+, $extra}" "$sim" "$(awk '{ printf "%.1f s of CPU, %.0f MB peak", $1 + $2, $3 / 1024 }' \
                /tmp/stepsim-bench-time.$$)"
    done
    rm -f /tmp/stepsim-bench-time.$$ /tmp/stepsim-bench-plan.$$
fi
if command -v valgrind >/dev/null 2>&1; then
    out=/tmp/stepsim-bench-callgrind.$$
    valgrind --tool=callgrind --callgrind-out-file="$out" "$S" plan \
        "$top_srcdir/scenarios/llama3.1-70b-h100.xml" --gpus 256 -j 1 >/dev/null 2>"$out.err"
    printf 'plan                Llama-3.1-70B on 256 H100: %s instructions (callgrind, -j 1)\n' \
        "$(sed -n 's/.*refs: *//p' "$out.err")"
    rm -f "$out" "$out.err"
fi

# calib_wall JOBS: the median wall time of 3 fits to the dev table.
calib_wall() {
    times=""
    for run in 1 2 3; do
        t0=$(now)
        "$S" calibrate -j "$1" --root "$top_srcdir" "$top_srcdir/scenarios/validation/dev.tsv" \
            >/dev/null 2>&1
        t1=$(now)
        times="$times $(sub "$t0" "$t1")"
    done
    printf '%s\n' $times | median
}
c1=$(calib_wall 1)
c2=$(calib_wall 2)
printf 'calibrate           dev table, 19 runs: %.2f s on 1 thread, %.2f s on 2, %.2fx (median of 3)\n' \
    "$c1" "$c2" "$(awk -v a="$c1" -v b="$c2" 'BEGIN { print a / b }')"
