#!/bin/sh
# readme_figures.sh -- keep the README's quoted figures the ones the commands print.
#
# The README quotes two blocks verbatim, each between marker lines:
#   <!-- begin: make validate --> ... <!-- end: make validate -->
#       every "source ...", "bias ..." and "measured more than once ..." line, the pattern,
#       generation and hardware tables, the summaries of the hardware-pair and precision-pair
#       tables (their "  hardware" and "  precision" lines), each layer microbenchmark's forward
#       and backward line, each kernel microbenchmark's MAE line and the closing summary lines
#       of `make validate`;
#   <!-- begin: make calibrate --> ... <!-- end: make calibrate -->
#       the output of `make calibrate` (the fit and the leave-one-source-out pass);
#   <!-- begin: make validate, largest errors --> ... <!-- end: make validate, largest errors -->
#       the rows of the calibration sets (dev, wave2) that `make validate` scores 10% or more
#       off, as it prints them, each after its set's name;
#   <!-- begin: stepsim published --> ... <!-- end: stepsim published -->
#       the summary of `stepsim published` on the shipped 405B scenario (from the model's line
#       to the end: the model's runs, then the runs of the scenario's kinds);
#   <!-- begin: schedules side by side --> ... <!-- end: schedules side by side -->
#       the shipped Mixtral scenario under each schedule, one `stepsim run --format json` per
#       line, its full values rounded once: step, bubble, MFU, exposed EP all-to-all, the most
#       (micro-batch, chunk) activations a rank holds and the largest rank's memory;
#   <!-- begin: moe guide memory --> ... <!-- end: moe guide memory -->
#       the shipped MoE-guide scenarios' largest rank's memory at the file's GPU count and at
#       twice it, against the usable HBM (Kimi-K2 also with fp32 gradient reduction);
#   <!-- begin: plan dispatchers --> ... <!-- end: plan dispatchers -->
#       DeepSeek-V3's first listed layout on 512 H100 (tp 2) under the scenario's dispatcher
#       and with --dispatchers all.
# Usage:
#   readme_figures.sh check             every block equals what its command prints now (make
#                                       check runs this: a stale figure fails the suite)
#   readme_figures.sh update            rewrite every block in place (make readme-figures;
#                                       a trailing "calibrate", which it passes, is accepted)
set -u
top_srcdir=${top_srcdir:-.}
stepsim=${STEPSIM:-./stepsim}
readme="$top_srcdir/README.md"
mode=${1:-check}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# The validate block: the per-source lines (with their set headers) and the summary lines,
# the pooled calibration and held-out ones last.
top_srcdir="$top_srcdir" STEPSIM="$stepsim" sh "$top_srcdir/tests/validate.sh" \
    >"$tmp/validate.out" 2>&1 || { cat "$tmp/validate.out" >&2; exit 1; }
awk '/^== / { sub(/ \(.*/, ""); print; next }
     /^  source / || /^  bias / || /^  OOM predicted/ || /^  pattern / || /^  hardware / ||
         /^  precision / || /^  generation / || /^  measured more than once/ ||
         /^  [a-z0-9]+ forward MAE / || /^  [a-z0-9]+ MAE / { print; next }
     /^  +calibration \(dev, wave2\)/ { print; next }
     /^[a-z0-9]+ (memory )?MAE / || /^held out MAE / { print }' "$tmp/validate.out" >"$tmp/validate.block"

# The largest-errors block: every scored row of dev and wave2 off by 10% or more (its error is
# the first signed percentage on the line; unscored and inexpressible rows are left out).
awk '/^== / { set = $2; next }
     set != "dev" && set != "wave2" { next }
     /^ / || /^id / || /not scored|not expressible|FAILED/ { next }
     match($0, / [+-][0-9]+\.[0-9]%/) {
         e = substr($0, RSTART + 1, RLENGTH - 2) + 0
         if (e >= 10 || e <= -10) printf "%-6s %s\n", set, $0 }' \
    "$tmp/validate.out" >"$tmp/worst.block"

# The published block: how the shipped 405B scenario's model has fared on its published runs.
"$stepsim" published "$top_srcdir/scenarios/llama3.1-405b-16k-h100.xml" >"$tmp/published.out" \
    2>&1 || { cat "$tmp/published.out" >&2; exit 1; }
sed -n '/^llama3.1-405b: /,$p' "$tmp/published.out" >"$tmp/published.block"

# The blocks below read the JSON report's full values and round them once (the text report's
# are rounded already).  An awk function: the number after "key": on the current line (the
# writer puts each top-level key, rank and memory row on a line of its own).
json_num='function num(key) {
              if (!match($0, "\"" key "\": [-0-9.eE+]+")) return ""
              return substr($0, RSTART + length(key) + 4, RLENGTH - length(key) - 4) + 0
          }'

# The schedules block: the shipped Mixtral layout under each schedule.
{
    printf '%-11s %2s %8s %7s %6s %12s %14s %s\n' schedule vp step_s bubble MFU \
        ep_exposed_s peak_held "peak_GiB"
    for sv in gpipe:1 1f1b:1 interleaved:2 zb-h1:1 zb-v:2 dualpipe-v:2 dualpipe:2; do
        "$stepsim" run "$top_srcdir/scenarios/mixtral-8x7b-h100.xml" --set "schedule=${sv%:*}" \
            --set "vp=${sv#*:}" --format json >"$tmp/schedule.out" 2>&1 ||
            { cat "$tmp/schedule.out" >&2; exit 1; }
        awk -v s="${sv%:*}" -v v="${sv#*:}" "$json_num"'
            /^  "step_time_s":/ { step = num("step_time_s") }
            /^  "bubble_ratio":/ { bubble = num("bubble_ratio") * 100 }
            /^  "mfu":/ { mfu = num("mfu") * 100 }
            /^  "breakdown_s":/ { ep = num("ep") }
            /"peak_inflight":/ && num("peak_inflight") > held { held = num("peak_inflight") }
            /"total":/ && num("total") > peak { peak = num("total"); oom = /"oom": true/ }
            END { printf "%-11s %2s %8.3f %6.1f%% %6s %12.3f %14d %.1f%s\n", s, v, step, bubble,
                         sprintf("%.2f%%", mfu), ep, held, peak / 1073741824,
                         oom ? " (over HBM)" : "" }' "$tmp/schedule.out"
    done
} >"$tmp/schedules.block"

# The MoE-guide memory block: the worst rank's total (GiB) and the usable HBM.
worst_rank_gib() {
    "$stepsim" run "$@" --format json >"$tmp/guide.out" 2>&1 ||
        { cat "$tmp/guide.out" >&2; exit 1; }
    awk "$json_num"'
         /^  "hbm_usable_bytes":/ { usable = num("hbm_usable_bytes") }
         /"total":/ && num("total") > peak { peak = num("total") }
         END { printf "%.1f %.1f", peak / 1073741824, usable / 1073741824 }' "$tmp/guide.out"
}
{
    printf '%-30s %6s %8s %8s %8s %8s\n' scenario gpus GiB usable "2x GiB" usable
    for f in "$top_srcdir"/scenarios/moe-guide/*.xml; do
        gpus=$(sed -n 's/.*<parallel gpus="\([0-9]*\)".*/\1/p' "$f")
        at=$(worst_rank_gib "$f") || exit 1
        twice=$(worst_rank_gib "$f" --set "gpus=$((gpus * 2))") || exit 1
        printf '%-30s %6s %8s %8s %8s %8s\n' "$(basename "$f" .xml)" "$gpus" ${at} ${twice}
    done
    f="$top_srcdir/scenarios/moe-guide/kimi-k2.xml"
    fp32=$(worst_rank_gib "$f" --set grad-reduce-fp32=true) || exit 1
    printf '%-30s %6s %8s %8s\n' "kimi-k2, grad-reduce-fp32" \
        "$(sed -n 's/.*<parallel gpus="\([0-9]*\)".*/\1/p' "$f")" ${fp32}
} >"$tmp/guide.block"

# The plan-dispatchers block: DeepSeek-V3 on 512 H100 with tp 2, the first listed layout and
# its step under the scenario's dispatcher and with --dispatchers all.
{
    f="$top_srcdir/scenarios/moe-guide/deepseek-v3.xml"
    for d in "" "--dispatchers all"; do
        # shellcheck disable=SC2086 # $d is empty or two words
        "$stepsim" plan "$f" --gpus 512 --set tp=2 --top 1 -j 2 $d >"$tmp/plan.out" 2>&1 ||
            { cat "$tmp/plan.out" >&2; exit 1; }
        awk -v d="${d:-the scenario's alltoall}" '
            /^1    / { sub(/^1 +/, ""); n = split($0, w, " +"); lay = ""
                       for (i = 1; i < n && w[i] !~ /^[0-9]+\.[0-9]+$/; i++) lay = lay " " w[i]
                       printf "%-24s %9s %s\n", d, w[i], substr(lay, 2) }' "$tmp/plan.out"
    done
} >"$tmp/dispatchers.block"

# The lines between a block's markers, as they stand in the README.
block_of() {
    awk -v name="$1" '$0 == "<!-- end: " name " -->" { inside = 0 }
                      inside && !/^```/ { print }
                      $0 == "<!-- begin: " name " -->" { inside = 1 }' "$readme"
}

# Replace a block's body in the README by the lines of file $2 (fenced as text).
replace_block() {
    awk -v name="$1" -v body="$2" '
        $0 == "<!-- begin: " name " -->" {
            print; print "```text"
            while ((getline line < body) > 0) print line
            print "```"; skip = 1; next }
        $0 == "<!-- end: " name " -->" { skip = 0 }
        !skip { print }' "$readme" >"$tmp/readme.new" && cat "$tmp/readme.new" >"$readme"
}

# The calibrate block: make calibrate's fit and leave-one-source-out pass (about a second),
# fitting the constants Makefile.am's calibrate rule names (checked: the two must agree).
fit=training-efficiency,attention-step-share
grep -qF -- "--fit $fit --loso" "$top_srcdir/Makefile.am" || {
    echo "readme_figures.sh: Makefile.am's calibrate rule does not fit $fit" >&2
    exit 1
}
"$stepsim" calibrate --root "$top_srcdir" "$top_srcdir/scenarios/validation/dev.tsv" \
    "$top_srcdir/scenarios/validation/wave2.tsv" --fit "$fit" --loso \
    >"$tmp/calibrate.block" 2>&1 || { cat "$tmp/calibrate.block" >&2; exit 1; }

case "$mode" in
check)
    for name in "make validate" "make validate, largest errors" "stepsim published" \
        "schedules side by side" "moe guide memory" "make calibrate" "plan dispatchers"; do
        block_of "$name" >"$tmp/readme.block"
        want="$tmp/validate.block"
        [ "$name" = "make validate, largest errors" ] && want="$tmp/worst.block"
        [ "$name" = "stepsim published" ] && want="$tmp/published.block"
        [ "$name" = "schedules side by side" ] && want="$tmp/schedules.block"
        [ "$name" = "moe guide memory" ] && want="$tmp/guide.block"
        [ "$name" = "make calibrate" ] && want="$tmp/calibrate.block"
        [ "$name" = "plan dispatchers" ] && want="$tmp/dispatchers.block"
        if [ ! -s "$tmp/readme.block" ]; then
            echo "README.md has no '$name' block" >&2
            exit 1
        fi
        if ! diff -u "$tmp/readme.block" "$want" >"$tmp/diff"; then
            echo "README.md's accuracy figures differ from what $name prints now" \
                 "(run tests/readme_figures.sh update):" >&2
            cat "$tmp/diff" >&2
            exit 1
        fi
    done
    echo "README validate, calibrate, published, schedule and MoE-guide figures: current"
    ;;
update)
    replace_block "make validate" "$tmp/validate.block"
    replace_block "make validate, largest errors" "$tmp/worst.block"
    replace_block "stepsim published" "$tmp/published.block"
    replace_block "schedules side by side" "$tmp/schedules.block"
    replace_block "moe guide memory" "$tmp/guide.block"
    replace_block "make calibrate" "$tmp/calibrate.block"
    replace_block "plan dispatchers" "$tmp/dispatchers.block"
    ;;
*)
    echo "usage: readme_figures.sh check | update [calibrate]" >&2
    exit 2
    ;;
esac
