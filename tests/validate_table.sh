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
{
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

check "a scored row's error is 100 (predicted - measured) / measured" \
    grep -q '^U1 .* +10\.0%$' "$tmp/out"
check "a not-expressible row shows its bracketed run and what it lacks, without the brackets" \
    grep -q '^U2  *Model-X 8xGPU .*not expressible: a feature stepsim lacks$' "$tmp/out"
check "a scored=no row is printed and marked" grep -q '^U3 .*not scored$' "$tmp/out"
check "the summary scores one run and counts the row it cannot express" \
    grep -qx 'tiny MAE 10.0% over 1 runs (worst 10.0%); 1 not expressible' "$tmp/out"
check "the per-source line counts the scored run only" \
    grep -q '^  source TINY   MAE  10\.0% over  1 runs' "$tmp/out"
check "the per-source line gives the signed bias: +10% is too slow" \
    grep -q '^  source TINY   MAE  10\.0% over  1 runs (worst 10\.0%), bias +10\.0%$' "$tmp/out"
check "the set's bias counts the runs predicted too fast" \
    grep -qx '  bias (mean signed error) +10.0%: 0 of 1 runs predicted too fast' "$tmp/out"
check "VALIDATE_TSV writes a header and one record per row" \
    sh -c "[ \$(wc -l <'$tmp/rows.tsv') -eq 4 ] &&
           grep -q '^U2${t}tiny${t}TINY${t}yes${t}ne${t}' '$tmp/rows.tsv'"

echo "# $((n - failed - skipped)) passed, $failed failed, $skipped skipped"
echo "1..$n"
[ "$failed" -eq 0 ]
