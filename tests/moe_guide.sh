#!/bin/sh
# moe_guide.sh: the shipped scenarios of Megatron-Bridge's parallelism-guide MoE starting layouts
# (scenarios/moe-guide/, issue 11) hold the guide's GPU counts and data-parallel sizes.  Each is
# run as shipped, at min_gpus = PP x max(TP x CP, EP x ETP), and at twice that (--set gpus=...):
# the run must pass the rules (exit 0, nothing on stderr) and its JSON report must give the
# GPUs, DP = gpus / (TP x CP x PP) and EDP = gpus / (PP x EP x ETP) the guide's formulas give,
# and its text report the layout.  The peak memory per GPU and whether it fits in HBM are
# reported as TAP comments, not asserted: several of these layouts are predicted over HBM at
# min_gpus.  Prints TAP.
#
# Run by automake from the build directory with top_srcdir and top_builddir set; by hand:
# top_srcdir=/path/to/src top_builddir=/path/to/build sh THIS.
set -u

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
dir="$top_srcdir/scenarios/moe-guide"

NAME=moe-guide
. "$top_srcdir/tests/tap_lib.sh"
tap_begin "$NAME"

# json_int KEY: the integer of a top-level "KEY": N line of the JSON report in $tmp/out.
json_int() {
    sed -n "s/^  \"$1\": \\([0-9][0-9]*\\),\$/\\1/p" "$tmp/out"
}

# The guide's table ("MoE models"; ETP 1 where the guide gives none).
# file TP PP CP EP ETP
guide='olmoe-1b-7b 1 1 1 8 1
moonlight-16b-a3b 2 1 1 8 1
deepseek-v2 1 4 1 32 1
glm-4.5-air 1 4 1 8 1
qwen3-30b-a3b 4 2 1 4 1
glm-4.5 2 8 1 16 1
qwen3-235b-a22b 4 16 2 8 1
deepseek-v3 2 16 1 64 1
kimi-k2 2 16 1 32 1'

# Every file in the folder is one of the guide's rows (a new file needs a row here).
for f in "$dir"/*.xml; do
    m=${f##*/}
    m=${m%.xml}
    if printf '%s\n' "$guide" | grep -q "^$m "; then
        pass "moe-guide/$m.xml is a row of the guide's table"
    else
        fail "moe-guide/$m.xml is a row of the guide's table" "no row for $m in tests/moe_guide.sh"
    fi
done

printf '%s\n' "$guide" >"$tmp/guide"
while read -r m tp pp cp ep etp; do
    f="$dir/$m.xml"
    dense=$((tp * cp))
    expert=$((ep * etp))
    [ "$expert" -gt "$dense" ] && dense=$expert
    min=$((pp * dense))
    "$S" validate "$f" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne 0 ] || [ -s "$tmp/err" ]; then
        fail "validate moe-guide/$m.xml" "exit status $rc"
        continue
    fi
    for g in "$min" $((2 * min)); do
        dp=$((g / (tp * cp * pp)))
        edp=$((g / (pp * ep * etp)))
        what="moe-guide/$m.xml at $g GPUs (tp $tp pp $pp cp $cp ep $ep etp $etp)"
        set --
        # As shipped at min_gpus: the file's own gpus must be the guide's minimum.
        [ "$g" -ne "$min" ] && set -- --set "gpus=$g"
        "$S" run "$f" "$@" --format json >"$tmp/out" 2>"$tmp/err"
        rc=$?
        if [ "$rc" -ne 0 ] || [ -s "$tmp/err" ]; then
            fail "run $what: passes the rules" "exit status $rc"
            continue
        fi
        got="gpus $(json_int gpus), dp $(json_int dp), edp $(json_int edp)"
        want="gpus $g, dp $dp, edp $edp"
        if [ "$got" = "$want" ]; then
            pass "run $what: $want"
        else
            fail "run $what: $want" "the JSON report gives $got"
        fi
        # Peak memory per GPU over the pipeline ranks, against the usable HBM.
        usable=$(json_int hbm_usable_bytes)
        step=$(sed -n 's/^  "step_time_s": \([^,]*\),$/\1/p' "$tmp/out")
        sed -n 's/.*"total": \([0-9]*\), "oom": \([a-z]*\)}.*/\1 \2/p' "$tmp/out" |
            awk -v u="$usable" -v s="$step" -v w="$what" '
                { if ($1 + 0 > peak) peak = $1 + 0; if ($2 == "true") oom = 1 }
                END { printf "# %s: step %.3f s, peak %.1f GiB per GPU of %.1f usable: %s\n",
                          w, s, peak / 1073741824, u / 1073741824,
                          oom ? "OVER HBM" : "fits" }'
        # The text report's cluster line names the same layout.
        "$S" run "$f" "$@" >"$tmp/out" 2>"$tmp/err"
        line="cluster            $g GPUs = tp $tp x cp $cp x pp $pp x dp $dp  (ep $ep, etp $etp, edp $edp)"
        if grep -qxF "$line" "$tmp/out"; then
            pass "text report of $what: the layout"
        else
            fail "text report of $what: the layout" "want: $line" \
                "got: $(grep '^cluster' "$tmp/out")"
        fi
    done
done <"$tmp/guide"

echo "# $((n - failed)) passed, $failed failed"
echo "1..$n"
[ "$failed" -eq 0 ]
