#!/bin/sh
# validate_table.sh: how tests/validate.sh (make validate) reads a set's table and scores it,
# on a three-row set written here -- a scored run whose measured time is the prediction over
# 1.1 (so its error is +10.0% exactly), a row stepsim cannot express named by its bracketed
# run, and a run marked scored=no.  Prints TAP.
#
# Run by automake from the build directory with top_srcdir and top_builddir set; by hand:
# top_srcdir=/path/to/src top_builddir=/path/to/build sh THIS.
set -u

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
src=$(cd "$top_srcdir" && pwd)

NAME=validate
. "$top_srcdir/tests/tap_lib.sh"
tap_begin "$NAME"

# The set lives in a scratch source tree: scenarios/validation/tiny.tsv and one scenario.
mkdir -p "$tmp/tree/scenarios/validation"
cp "$src/scenarios/unit.xml" "$tmp/tree/scenarios/validation/u.xml"
run run "$tmp/tree/scenarios/validation/u.xml" --format json
predicted=$(sed -n 's/^ *"step_time_s": *\([0-9.eE+-]*\),*$/\1/p' "$tmp/out")
measured=$(awk -v p="$predicted" 'BEGIN { printf "%.9f", p / 1.1 }')
t=$(printf '\t')
# row FIELD...: one table line, the fields joined by tabs.
row() {
    line=$1
    shift
    for f in "$@"; do
        line="$line$t$f"
    done
    printf '%s\n' "$line"
}
# validate_tree SETS OUT: make validate on the scratch tree's SETS, stdout to OUT, status in $rc.
validate_tree() {
    top_srcdir="$tmp/tree" STEPSIM="$S" VALIDATE_SETS="$1" sh "$src/tests/validate.sh" >"$2" \
        2>"$tmp/err"
    rc=$?
}
{
    echo "# role: held-out"
    row "# id" set source scenario set_overrides measured_step_s measured_mem_gb scored \
        not_expressible derivation
    row U1 tiny TINY scenarios/validation/u.xml - "$measured" - yes - "prediction / 1.1"
    row U2 tiny TINY - - 2.0000 - yes "a feature stepsim lacks [Model-X 8xGPU]" "by hand"
    row U3 tiny TINY scenarios/validation/u.xml - 1.0000 - no - recalled
} >"$tmp/tree/scenarios/validation/tiny.tsv"

top_srcdir="$tmp/tree" STEPSIM="$S" VALIDATE_SETS=tiny VALIDATE_TSV="$tmp/rows.tsv" \
    sh "$src/tests/validate.sh" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_ok "validate runs a three-row set"

# A held-out set is "never fitted", nothing more: several had mechanisms read after scoring.
held='held out: never fitted (README: what was read after scoring)'
check "a held-out set's header claims only that it was never fitted" \
    grep -qxF "== tiny (scenarios/validation/tiny.tsv): $held" "$tmp/out"
check "a scored row's error is 100 (predicted - measured) / measured" \
    grep -q '^U1 .* +10\.0%$' "$tmp/out"
check "a not-expressible row shows its bracketed run and what it lacks, without the brackets" \
    grep -q '^U2  *Model-X 8xGPU .*not expressible: a feature stepsim lacks$' "$tmp/out"
check "a scored=no row is printed and marked" grep -q '^U3 .*not scored$' "$tmp/out"
check "the summary scores one run and counts the row it cannot express" \
    grep -qx 'tiny MAE 10.0% over 1 run (worst 10.0%); 1 not expressible' "$tmp/out"
check "the per-source line counts the scored run only" \
    grep -q '^  source TINY   MAE  10\.0% over  1 run ' "$tmp/out"
check "the per-source line gives the signed bias: +10% is too slow" \
    grep -q '^  source TINY   MAE  10\.0% over  1 run (worst 10\.0%), bias +10\.0%$' "$tmp/out"
check "the set's bias counts the runs predicted too fast" \
    grep -qx '  bias (mean signed error) +10.0%: 0 of 1 run predicted too fast' "$tmp/out"
check "a count of one is singular: one row not expressible, one job measured twice" \
    sh -c "grep -qx '  not expressible: 1 row' '$tmp/out' &&
           grep -q '^  measured more than once: 1 job (2 rows), ' '$tmp/out'"
# one job measured twice alike: the widest spread, 0, still names it
{
    row "# id" set source scenario set_overrides measured_step_s measured_mem_gb scored \
        not_expressible derivation
    row W1 twin TWIN scenarios/validation/u.xml - 1.0000 - yes - "by hand"
    row W2 twin TWIN scenarios/validation/u.xml - 1.0000 - no - "again"
} >"$tmp/tree/scenarios/validation/twin.tsv"
validate_tree twin "$tmp/twin.out"
check "a job measured twice alike: its spread of 0 is the widest, named with its rows" \
    grep -q ', widest 0\.0% (W1, 2 rows)$' "$tmp/twin.out"
rm "$tmp/tree/scenarios/validation/twin.tsv"
# A prediction is carried at full precision, not 6 significant digits: a step of 1102.7588 s
# (11 x (2 x 50.1234 s + 4 ms)) prints as 1102.759, not 1102.760, and the pair tables below
# divide the predictions themselves.
{
    row "# id" set source scenario set_overrides measured_step_s measured_mem_gb scored \
        not_expressible derivation
    row L1 long LONG scenarios/validation/u.xml forward=50.1234s 1000 - no - "by hand"
} >"$tmp/tree/scenarios/validation/long.tsv"
validate_tree long "$tmp/long.out"
check "a prediction over 1000 s keeps its third decimal" \
    grep -q '^L1 .* 1000\.000 *1102\.759 ' "$tmp/long.out"
rm "$tmp/tree/scenarios/validation/long.tsv"
check "VALIDATE_TSV writes a header and one record per row" \
    sh -c "[ \$(wc -l <'$tmp/rows.tsv') -eq 4 ] &&
           grep -q '^U2${t}tiny${t}TINY${t}yes${t}ne${t}' '$tmp/rows.tsv'"
check "VALIDATE_TSV ends with the patterns, hardware and job columns" \
    sh -c "head -n 1 '$tmp/rows.tsv' | grep -q '${t}patterns${t}hardware${t}job\$'"

# The patterns: a Hopper context-parallel run (D1's scenario, its model and hardware beside it)
# scored +10% in a calibration set and -20% in a held-out one, the same run on an H200 (another
# Hopper part) -20% in the held-out one, a run with no layout (the unit scenario) in neither.
mkdir -p "$tmp/tree/models" "$tmp/tree/hardware"
cp "$src/scenarios/validation/d1.xml" "$tmp/tree/scenarios/validation/d1.xml"
cp "$src/models/llama3.1-8b.xml" "$tmp/tree/models/"
cp "$src/hardware/dgx-h100.xml" "$tmp/tree/hardware/"
run run "$tmp/tree/scenarios/validation/d1.xml" --format json
d1=$(sed -n 's/^ *"step_time_s": *\([0-9.eE+-]*\),*$/\1/p' "$tmp/out")
run run "$tmp/tree/scenarios/validation/d1.xml" --set hardware=dgx-h200 --format json
h200=$(sed -n 's/^ *"step_time_s": *\([0-9.eE+-]*\),*$/\1/p' "$tmp/out")
{
    row "# id" set source scenario set_overrides measured_step_s measured_mem_gb scored \
        not_expressible derivation
    row P1 dev TINY scenarios/validation/d1.xml - "$(awk -v p="$d1" 'BEGIN { printf "%.9f", p / 1.1 }')" \
        - yes - "prediction / 1.1"
} >"$tmp/tree/scenarios/validation/dev.tsv"
{
    row "# id" set source scenario set_overrides measured_step_s measured_mem_gb scored \
        not_expressible derivation
    row P2 held TINY scenarios/validation/d1.xml - "$(awk -v p="$d1" 'BEGIN { printf "%.9f", p / 0.8 }')" \
        - yes - "prediction / 0.8"
    row P4 held TINY scenarios/validation/d1.xml hardware=dgx-h200 \
        "$(awk -v p="$h200" 'BEGIN { printf "%.9f", p / 0.8 }')" - yes - "prediction / 0.8"
    row P3 held TINY scenarios/validation/u.xml - 1.0000 - yes - "no layout"
} >"$tmp/tree/scenarios/validation/held.tsv"
validate_tree "dev held" "$tmp/out"
expect_ok "validate runs a calibration and a held-out set"
# The pooled lines: P1 (+10%) the one scored calibration run; P2, P4 (-20% each) and P3 (the
# unit scenario, no layout, but a scored run: its held line's 44.5% over 3) the held-out ones,
# as the held set's own line adds them up.
check "the pooled lines count every scored run of each side once" \
    sh -c "grep -qx 'calibration MAE 10.0% over 1 run of 1 set (worst 10.0%), bias +10.0%' '$tmp/out' &&
           grep -q '^held MAE 44.5% over 3 runs' '$tmp/out' &&
           grep -qx 'held out MAE 44.5% over 3 runs of 1 set (worst 93.4%), bias -44.5%' '$tmp/out'"
check "a Hopper run counts under Hopper, calibration apart from held out" \
    grep -qx '  pattern Hopper       1 run  MAE  10.0% bias +10.0%     2 runs MAE  20.0% bias -20.0%' "$tmp/out"
check "a context-parallel run counts under CP too" \
    grep -q '^  pattern CP  .* +10\.0%  .* -20\.0%$' "$tmp/out"
check "patterns a run does not have are not printed" \
    sh -c "! grep -Eq '^  pattern (A100|Blackwell|MoE|fp8)' '$tmp/out'"
h100_line='  hardware dgx-h100              1 run  MAE  10.0% bias +10.0%     1 run  MAE  20.0% bias -20.0%'
h200_line='  hardware dgx-h200            -                                  1 run  MAE  20.0% bias -20.0%'
check "the hardware table counts the H100 runs under their file, the H200 run under its own" \
    sh -c "grep -qxF '$h100_line' '$tmp/out' && grep -qxF '$h200_line' '$tmp/out' &&
           [ \$(grep '^  hardware ' '$tmp/out' | grep -cv -- '->\\|speed-up') -eq 2 ]"
# The hardware pairs: P2 (H100) and P4 (H200) are one job of one set on two files, each measured
# at its prediction / 0.8, so the measured and predicted speed-ups are equal (error 0.0%); P1,
# the same job in the calibration set, pairs with neither.
check "one job of one set on two hardware files is a pair, its speed-up error 0.0%" \
    sh -c "grep -Eq '^  held +P[24] -> P[24] +dgx-h[12]00 -> dgx-h[12]00 .* \\+0\\.0%\$' '$tmp/out' &&
           grep -qx '  hardware speed-up error over 1 pair: mean 0.0%, bias +0.0%' '$tmp/out'"
grep '^  pattern ' "$tmp/out" | awk '{ $1 = ""; print }' >"$tmp/validate-kinds"
grep '^  hardware .* -> ' "$tmp/out" | sed 's/^  hardware /  /' >"$tmp/validate-pairs"

# The precision pairs, in a set of their own: Q1 is D1's job in bf16 measured at its prediction
# / 0.8, Q2 the same job in fp8 measured at its prediction, so the measured speed-up is the
# predicted one / 0.8 and its error 100 (0.8 - 1) = -20.0%; Q3, the job on an H200 in fp8,
# pairs with no 16-bit run of its file.
run run "$tmp/tree/scenarios/validation/d1.xml" --set dtype=fp8 --format json
fp8=$(sed -n 's/^ *"step_time_s": *\([0-9.eE+-]*\),*$/\1/p' "$tmp/out")
{
    row "# id" set source scenario set_overrides measured_step_s measured_mem_gb scored \
        not_expressible derivation
    q1=$(awk -v p="$d1" 'BEGIN { printf "%.9f", p / 0.8 }')
    row Q1 prec TINY scenarios/validation/d1.xml - "$q1" - yes - "prediction / 0.8"
    row Q2 prec TINY scenarios/validation/d1.xml dtype=fp8 "$fp8" - yes - "prediction"
    row Q3 prec TINY scenarios/validation/d1.xml dtype=fp8,hardware=dgx-h200 1.0 - yes - "any"
} >"$tmp/tree/scenarios/validation/prec.tsv"
validate_tree "prec" "$tmp/prec.out"
expect_ok "validate runs a set with a 16-bit and an fp8 run of one job"
check "a 16-bit and an fp8 run of one job on one file are a pair, its speed-up error -20.0%" \
    grep -Eq '^  prec +Q1 -> Q2 +dgx-h100 +bf16 -> fp8 delayed +[0-9.]+x +[0-9.]+x +-20\.0%$' \
    "$tmp/prec.out"
check "the precision summary counts that pair alone, per file and recipe and over all" \
    sh -c "grep -qx '  precision dgx-h100, fp8 delayed  *1 pair,  speed-up error 20.0%, bias -20.0%' \
               '$tmp/prec.out' && grep -qx \
               '  precision speed-up error over 1 pair: mean 20.0%, bias -20.0%' '$tmp/prec.out'"

# stepsim published groups the same runs the same way: its lines for the scenario's kinds carry
# the pattern table's figures (a folder of its own: published reads every table in it, and the
# roles from the tables' first lines).
mkdir -p "$tmp/tree2/scenarios" "$tmp/tree2/models" "$tmp/tree2/hardware"
cp -R "$tmp/tree/scenarios/validation" "$tmp/tree2/scenarios/"
cp "$tmp/tree/models/"* "$tmp/tree2/models/"
cp "$tmp/tree/hardware/"* "$tmp/tree2/hardware/"
rm "$tmp/tree2/scenarios/validation/tiny.tsv" "$tmp/tree2/scenarios/validation/prec.tsv"
{ printf '# role: calibration\n'; cat "$tmp/tree/scenarios/validation/dev.tsv"; } \
    >"$tmp/tree2/scenarios/validation/dev.tsv"
{ printf '# role: held-out\n'; grep -v '^P3' "$tmp/tree/scenarios/validation/held.tsv"; } \
    >"$tmp/tree2/scenarios/validation/held.tsv"
run published "$tmp/tree2/scenarios/validation/d1.xml" --tables "$tmp/tree2/scenarios/validation"
expect_ok "published reads a calibration and a held-out table"
sed -n '/^  kind /,/^bias/p' "$tmp/out" | sed '1d;$d' >"$tmp/published-kinds"
check "published's lines for Hopper and CP carry validate's pattern figures" \
    sh -c "head -n 2 '$tmp/published-kinds' | diff -b - '$tmp/validate-kinds' >/dev/null"
check "published's line for both at once counts the runs with both" \
    grep -qx '  both at once     1 run  MAE  10.0% bias +10.0%     2 runs MAE  20.0% bias -20.0%' \
    "$tmp/published-kinds"
check "published's line for its GPU counts the runs on that GPU alone (not the H200's)" \
    grep -qx '  its GPU          1 run  MAE  10.0% bias +10.0%     1 run  MAE  20.0% bias -20.0%' \
    "$tmp/published-kinds"
check "published's hardware line carries validate's pair figures (H100 against H200)" \
    sh -c "[ -s '$tmp/validate-pairs' ] && grep ' -> ' '$tmp/out' | diff - '$tmp/validate-pairs' >/dev/null"
check "published's header names the scenario's GPU" \
    grep -q "^runs of the scenario's kinds (Hopper, CP) and on its GPU (H100 SXM5 80GB), " "$tmp/out"

# published reads the precision pairs as validate does: the pair above alone in a folder.
mkdir -p "$tmp/tree3/scenarios/validation"
cp -R "$tmp/tree/models" "$tmp/tree/hardware" "$tmp/tree3/"
cp "$tmp/tree/scenarios/validation/d1.xml" "$tmp/tree3/scenarios/validation/"
{ printf '# role: held-out\n'; cat "$tmp/tree/scenarios/validation/prec.tsv"; } \
    >"$tmp/tree3/scenarios/validation/prec.tsv"
run published "$tmp/tree3/scenarios/validation/d1.xml" --tables "$tmp/tree3/scenarios/validation"
expect_ok "published reads a table with a 16-bit and an fp8 run of one job"
check "published's precision line carries validate's pair figures (bf16 against fp8 delayed)" \
    grep -qx '  fp8 delayed  *1 pair,  speed-up error 20.0%, bias -20.0%' "$tmp/out"

# A layer microbenchmark table (*.layers): one row, the Mixtral proxy's MoE layer, its forward
# measured at stepsim's one-layer forward / 1.1 and its backward at the backward / 0.8, where
# one layer's time is the two-layer model's rank-0 ops less the one-layer model's, read here
# off the timelines the same way: errors +10.0% and -20.0%, MAE 15.0% over 2 timings.
for f in mp1.xml mp-mixtral-proxy.xml mp-mixtral-proxy-2.xml; do
    cp "$src/scenarios/validation/$f" "$tmp/tree/scenarios/validation/"
done
one_op() { # TIMELINE OP -> rank 0's OP time in ms
    awk -F, -v op="$2" '$1 == 0 && $2 == op { t += $7 - $6 } END { printf "%.9f", t * 1000 }' "$1"
}
run run "$tmp/tree/scenarios/validation/mp1.xml" --timeline "$tmp/one.csv"
run run "$tmp/tree/scenarios/validation/mp1.xml" \
    --set "model=$tmp/tree/scenarios/validation/mp-mixtral-proxy-2.xml" --timeline "$tmp/two.csv"
fwd=$(awk -v a="$(one_op "$tmp/one.csv" F)" -v b="$(one_op "$tmp/two.csv" F)" \
    'BEGIN { printf "%.9f", (b - a) / 1.1 }')
bwd=$(awk -v a="$(one_op "$tmp/one.csv" B)" -v b="$(one_op "$tmp/two.csv" B)" \
    'BEGIN { printf "%.9f", (b - a) / 0.8 }')
{
    row "# id" case scenario two_layer_model forward_ms backward_ms
    row L1 mixtral_case scenarios/validation/mp1.xml \
        scenarios/validation/mp-mixtral-proxy-2.xml "$fwd" "$bwd"
} >"$tmp/tree/scenarios/validation/tinylayers.layers"
validate_tree "tiny" "$tmp/layers.out"
expect_ok "validate runs a layer microbenchmark table"
check "a layer's forward and backward are the two-layer run's less the one-layer run's" \
    grep -Eq '^  L1 +mixtral_case +[0-9.]+ +[0-9.]+ +\+10\.0% +[0-9.]+ +[0-9.]+ +-20\.0%$' \
    "$tmp/layers.out"
check "the table's summary line comes with the sets' and counts two timings a layer" \
    sh -c "grep -qx 'tinylayers MAE 15.0% over 2 layer timings (worst 20.0%)' '$tmp/layers.out' &&
           grep -qx '  tinylayers forward MAE 10.0% (bias +10.0%), backward MAE 20.0% (bias -20.0%)' \
               '$tmp/layers.out'"

# The same row measured with kernel launches free, in a table whose `# set:` line says so: the
# line's settings reach both runs, so the errors are +10.0% and -20.0% again.
run run "$tmp/tree/scenarios/validation/mp1.xml" --set hw.kernel-overhead=0us \
    --timeline "$tmp/one0.csv"
run run "$tmp/tree/scenarios/validation/mp1.xml" --set hw.kernel-overhead=0us \
    --set "model=$tmp/tree/scenarios/validation/mp-mixtral-proxy-2.xml" --timeline "$tmp/two0.csv"
fwd=$(awk -v a="$(one_op "$tmp/one0.csv" F)" -v b="$(one_op "$tmp/two0.csv" F)" \
    'BEGIN { printf "%.9f", (b - a) / 1.1 }')
bwd=$(awk -v a="$(one_op "$tmp/one0.csv" B)" -v b="$(one_op "$tmp/two0.csv" B)" \
    'BEGIN { printf "%.9f", (b - a) / 0.8 }')
{
    printf '# set: hw.kernel-overhead=0us\n'
    row "# id" case scenario two_layer_model forward_ms backward_ms
    row L1 mixtral_case scenarios/validation/mp1.xml \
        scenarios/validation/mp-mixtral-proxy-2.xml "$fwd" "$bwd"
} >"$tmp/tree/scenarios/validation/tinylayers.layers"
validate_tree "tiny" "$tmp/layers0.out"
check "a layer table's # set: line reaches both of its runs" \
    grep -Eq '^  L1 +mixtral_case +[0-9.]+ +[0-9.]+ +\+10\.0% +[0-9.]+ +[0-9.]+ +-20\.0%$' \
    "$tmp/layers0.out"
rm -f "$tmp/tree/scenarios/validation/tinylayers.layers"

# A kernel microbenchmark table (*.gemms): one row, the TE benchmark's 5B layer on the B300 file
# in bf16, measured at stepsim's GEMM time / 1.1, read here from the JSON report the same way
# (the first layer's gemm_s forward and backward at training-efficiency 1): error +10.0%.
cp "$src/scenarios/validation/tg1.xml" "$src/scenarios/validation/tg-te-5b.xml" \
    "$tmp/tree/scenarios/validation/"
cp "$src/hardware/dgx-b300.xml" "$tmp/tree/hardware/"
run run "$tmp/tree/scenarios/validation/tg1.xml" --set hw.training-efficiency=1 --set dtype=bf16 \
    --format json
gemm=$(awk '/"layers": \[/ { getline; split($0, a, "\"gemm_s\": "); split(a[2], f, ",")
                             split(a[3], b, ","); printf "%.9f", (f[1] + b[1]) * 1000 / 1.1; exit }' \
    "$tmp/out")
{
    row "# id" case scenario set_overrides gemm_ms
    row K1 "b300 bf16" scenarios/validation/tg1.xml dtype=bf16 "$gemm"
} >"$tmp/tree/scenarios/validation/tinygemms.gemms"
validate_tree "tiny" "$tmp/gemms.out"
expect_ok "validate runs a kernel microbenchmark table"
check "a layer's GEMM time comes from the JSON report at training-efficiency 1" \
    grep -Eq '^  K1 +b300 bf16 +[0-9.]+ +[0-9.]+ +\+10\.0%$' "$tmp/gemms.out"
check "the kernel table's summary line comes with the sets'" \
    grep -qx 'tinygemms MAE 10.0% over 1 kernel timing (worst 10.0%)' "$tmp/gemms.out"

echo "# $((n - failed - skipped)) passed, $failed failed, $skipped skipped"
echo "1..$n"
[ "$failed" -eq 0 ]
