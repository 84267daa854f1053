#!/bin/sh
# readme_check.sh -- make check: the README's quoted figures are what make validate, stepsim
# published and the schedule runs print on this commit (tests/readme_figures.sh), and every
# scenario key `stepsim keys` lists (but `name`, and the hw. knobs: README documents hw.NAME) is
# documented in the README, written as `key`, and every key of `run --format json` is in the
# README's table "The JSON report" (a top-level key as a row of its own, a nested one named in
# the section) for an explicit-cost step, a priced dense run with --tokens, an fp8 MoE run
# split unevenly with --tokens, an nvfp4 MoE run naming every optional layout field and a
# power-capped run, which between them write every key; and every value the
# one-layer table's `kind` and `attention` can take (sim/report_layers.c's table, and those a
# DSA, a Gated DeltaNet and a DeepSeek-V4 run write) is named in its `layers` row; and every
# module of sim/ has a level in the README's "Layering" table and includes none of a higher
# level; five TAP tests.
top_srcdir=${top_srcdir:-.}
stepsim=${top_builddir:-.}/stepsim
echo "1..5"
if out=$(top_srcdir="$top_srcdir" STEPSIM="$stepsim" sh "$top_srcdir/tests/readme_figures.sh" check 2>&1); then
    echo "ok 1 - $out"
else
    printf '%s\n' "$out" | sed 's/^/# /'
    echo "not ok 1 - README figures are stale"
fi
if ! keys=$("$stepsim" keys 2>&1); then
    printf '%s\n' "$keys" | sed 's/^/# /'
    echo "not ok 2 - stepsim keys failed"
    exit 0
fi
missing=$(printf '%s\n' "$keys" | awk '/^[a-z]/ && $1 != "name" && $1 !~ /^hw\./ { print $1 }' |
    while read -r key; do
        grep -qF "\`$key\`" "$top_srcdir/README.md" || printf '%s ' "$key"
    done)
if [ -z "$missing" ]; then
    echo "ok 2 - every scenario key is documented in the README"
else
    echo "not ok 2 - scenario keys missing from the README: $missing"
fi

# 3: the README's layering table against sim/'s includes: every module (a .c / .h stem, matched
# by name or by a `prefix_*` of the table) has a level, and includes no module of a higher one
# (config.h, autoconf's, is no module)
bad=$(awk '
    FNR == 1 { file++ }
    file == 1 && /^### Layering/ { on = 1; next }
    file == 1 && on && /^#/ { on = 0 }
    file == 1 && on && /^\| [0-9]+ \|/ {
        n = split($0, col, "|")
        rest = col[n - 1]
        while (match(rest, /`[a-z0-9_*]+`/)) {
            name = substr(rest, RSTART + 1, RLENGTH - 2)
            if (name ~ /\*$/) prefix[substr(name, 1, length(name) - 1)] = col[2] + 0
            else level[name] = col[2] + 0
            rest = substr(rest, RSTART + RLENGTH)
        }
        next
    }
    file == 1 { next }
    FNR == 1 {
        stem = FILENAME; sub(/.*\//, "", stem); sub(/\.[ch]$/, "", stem)
        own = lvl(stem)
        if (own < 0) print "module " stem " has no level"
    }
    /^#include "[a-z0-9_]+\.h"/ {
        inc = $2; gsub(/"/, "", inc); sub(/\.h$/, "", inc)
        if (inc == "config" || own < 0) next
        l = lvl(inc)
        if (l < 0) print FILENAME " includes " inc ", which has no level"
        else if (l > own) print FILENAME " (level " own ") includes " inc " (level " l ")"
    }
    function lvl(m,    p) {
        if (m in level) return level[m]
        for (p in prefix) if (index(m, p) == 1) return prefix[p]
        return -1
    }' "$top_srcdir/README.md" "$top_srcdir"/sim/*.c "$top_srcdir"/sim/*.h | sort -u)
grep -q '^### Layering' "$top_srcdir/README.md" || bad="the README has no Layering section"
modules=$(for f in "$top_srcdir"/sim/*.c "$top_srcdir"/sim/*.h; do
    f=${f##*/}
    echo "${f%.[ch]}"
done | sort -u | wc -l)
if [ -z "$bad" ]; then
    echo "ok 3 - every module of sim/ has a level in the README and includes none above it" \
        "($modules modules)"
else
    printf '%s\n' "$bad" | sed 's/^/# /'
    echo "not ok 3 - the README's layering table does not hold for sim/'s includes"
fi

# 4: the JSON report's keys against the README's table
section=$(awk '/^### The JSON report/ { on = 1; next } on && /^#/ { exit } on' \
    "$top_srcdir/README.md")
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
sed 's|</hardware>|  <price per-gpu-hour="2.50" currency="USD"/>\n</hardware>|' \
    "$top_srcdir/hardware/dgx-h100.xml" >"$tmp/priced.xml"
scn=$top_srcdir/scenarios
if ! { "$stepsim" run "$scn/unit.xml" --format json &&
    "$stepsim" run "$scn/llama3.1-70b-h100.xml" --set hardware="$tmp/priced.xml" \
        --tokens 1e12 --format json &&
    "$stepsim" run "$scn/moe-guide/deepseek-v3.xml" --set dtype=fp8 --tokens 1e12 \
        --format json &&
    "$stepsim" run "$scn/mixtral-8x7b-h100.xml" --set hardware=dgx-b200 --set dtype=nvfp4 \
        --set mxfp8-modules=experts --set bf16-modules=attn_proj --set bf16-first-layers=1 \
        --set cuda-graphs=modules --set cuda-graph-scope=attn --set optimizer-algorithm=muon \
        --set moe-fused-grouped-mlp=true --set moe-dispatcher=deepep \
        --set moe-dispatch-dtype=fp8 --format json &&
    "$stepsim" run "$scn/validation/y1.xml" --format json; } >"$tmp/json" 2>"$tmp/err" ||
    ! { "$stepsim" run "$scn/glm-5.2-744b-h100.xml" --format json &&
        "$stepsim" run "$scn/validation/mz9.xml" --format json &&
        "$stepsim" run "$scn/validation/g3.xml" --format json; } >"$tmp/layers" 2>"$tmp/err"
then
    sed 's/^/# /' "$tmp/err"
    echo "not ok 4 - stepsim run --format json failed"
    echo "not ok 5 - stepsim run --format json failed"
    exit 0
fi
# the writer puts each top-level key at the start of a line, indented by two spaces
top=$(sed -n 's/^  "\([a-z0-9_]*\)":.*/\1/p' "$tmp/json" | sort -u)
all=$(grep -o '"[a-z0-9_]*":' "$tmp/json" | tr -d '":' | sort -u)
missing=$(for key in $top; do
    printf '%s\n' "$section" | grep -qF "| \`$key\` |" || printf '%s ' "$key"
done)
for key in $(printf '%s\n' "$all" | grep -vxF "$top"); do
    printf '%s\n' "$section" | grep -qF "\`$key\`" || missing="$missing$key "
done
if [ -z "$missing" ] && [ -n "$top" ]; then
    echo "ok 4 - every key of the JSON report is in the README's table ($(echo $top | wc -w) top-level)"
else
    echo "not ok 4 - JSON report keys missing from the README's table: ${missing:-no keys read}"
fi

# 5: the one-layer table's values against the README's `layers` row: every value of the
# writer's table (each entry {"row name", "kind", "attention"}), which must hold those the runs
# wrote (else the table was not read)
row=$(printf '%s\n' "$section" | grep -F '| `layers` |')
table=$(sed -n 's/^ *\(\[[A-Z_]*\] = \)\{0,1\}{"[^"]*", "\([a-z-]*\)", "\([a-z-]*\)"},.*/\2 \3/p' \
    "$top_srcdir/sim/report_layers.c" | tr ' ' '\n' | sort -u)
written=$(cat "$tmp/json" "$tmp/layers" | grep -o '"\(kind\|attention\)": "[^"]*"' |
    sed 's/.*: "//; s/"$//' | sort -u)
unread=$(for v in $written; do
    printf '%s\n' "$table" | grep -qxF "$v" || printf '%s ' "$v"
done)
missing=$(for v in $table; do
    printf '%s\n' "$row" | grep -qF "\`$v\`" || printf '%s ' "$v"
done)
if [ -n "$unread" ] || [ -z "$table" ]; then
    echo "not ok 5 - sim/report_layers.c's table not read: the runs wrote ${unread:-values}"
elif [ -n "$missing" ]; then
    echo "not ok 5 - one-layer values missing from the README's \`layers\` row: $missing"
else
    echo "ok 5 - every kind and attention of the one-layer table is named ($(echo $table | wc -w))"
fi
