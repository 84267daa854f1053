#!/bin/sh
# html_report.sh: --report FILE.html from the command line -- run, sweep and plan pages that
# are well-formed (xmllint parses them as XML), load nothing, escape a hostile scenario name
# into valid UTF-8, state the JSON report's layout; a --report naming an input or another
# output refused (exit 2) before anything is written; --help of each command names the
# option.  Prints TAP; sizes of the pages as diagnostics.
set -u

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
SCN="$top_srcdir/scenarios"
NAME=html
. "$top_srcdir/tests/tap_lib.sh"
tap_begin "$NAME"

run() {
    "$S" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

# check_page DESC FILE: written, well-formed, self-contained.
check_page() {
    if [ "$rc" -ne 0 ] || [ ! -s "$2" ]; then
        fail "$1: written" "exit status $rc"
        return
    fi
    if grep -Eq 'https?://|@import|<[^>]* (src|href)=' "$2"; then
        fail "$1: loads nothing" "$(grep -Eo '.{20}(https?://|@import| src=| href=).{20}' "$2" |
            head -3)"
    elif ! grep -q 'data-report' "$2" || [ "$(grep -c '</script' "$2")" -ne 1 ]; then
        fail "$1: the script is inline, in one piece"
    elif [ -n "$xmllint" ] && ! xmllint --noout --nonet "$2" 2>"$tmp/xml.err"; then
        fail "$1: well-formed (xmllint)" "$(head -3 "$tmp/xml.err")"
    else
        pass "$1: well-formed, loads nothing ($(wc -c <"$2") bytes)"
    fi
}

xmllint=$(command -v xmllint || true)
[ -n "$xmllint" ] || echo "# xmllint not found: pages are checked without it"
python=$(command -v python3 || true)

# ---- pages -------------------------------------------------------------------------------
run run "$SCN/unit.xml" --report "$tmp/unit.html"
check_page "run --report (explicit costs)" "$tmp/unit.html"
if cmp -s "$tmp/out" /dev/null; then
    fail "run --report still prints the text report"
else
    pass "run --report still prints the text report"
fi
run run "$SCN/default.xml" --report "$tmp/default.html"
check_page "run --report (interleaved, links)" "$tmp/default.html"
run run "$SCN/mixtral-8x7b-h100-dualpipe.xml" --report "$tmp/dualpipe.html"
check_page "run --report (DualPipe, modelled)" "$tmp/dualpipe.html"
if grep -q 'F forward, down' "$tmp/dualpipe.html" && grep -q 'F forward, up' "$tmp/dualpipe.html"
then
    pass "DualPipe's legend names its two directions"
else
    fail "DualPipe's legend names its two directions"
fi

# The layout: every field of the JSON report's layout object, as a row of the page, named as
# --set takes it when a key sets it (micro_batch: micro-batch, as `stepsim keys` has it).
"$S" keys 2>/dev/null | awk '/^[a-z]/ { print $1 }' >"$tmp/keys"
run run "$SCN/llama3.1-70b-h100.xml" --report "$tmp/llama.html" --format json
check_page "run --report (modelled)" "$tmp/llama.html"
if [ -n "$python" ]; then
    missing=$("$python" - "$tmp/out" "$tmp/llama.html" "$tmp/keys" <<'EOF'
import html, json, sys
layout = json.load(open(sys.argv[1]))["layout"]
page = open(sys.argv[2], encoding="utf-8").read()
keys = set(open(sys.argv[3]).read().split())
for k, v in layout.items():
    name = k.replace("_", "-") if k.replace("_", "-") in keys else k
    if "<th>%s</th><td>%s</td>" % (name, html.escape(str(v), quote=True)) not in page:
        print(k, end=" ")
EOF
)
    if [ -z "$missing" ] && grep -q '<th>MFU</th>' "$tmp/llama.html" &&
        grep -q '<th>fits in memory</th><td>yes</td>' "$tmp/llama.html"; then
        pass "the modelled page states every layout field of the JSON report, MFU and fit"
    else
        fail "the modelled page states every layout field" "missing: $missing"
    fi
else
    skip "the modelled page states every layout field" "python3 not found"
fi
for f in tp cp pp vp dp dtype recompute schedule micro-batch microbatches global-batch; do
    grep -q "<th>$f</th><td>" "$tmp/llama.html" || missing="$missing $f"
done
for f in ep etp edp; do # MoE models only, as in the JSON report
    grep -q "<th>$f</th><td>" "$tmp/dualpipe.html" || missing="$missing $f(MoE)"
    grep -q "<th>$f</th><td>" "$tmp/llama.html" && missing="$missing $f(dense)"
done
if [ -z "${missing:-}" ]; then
    pass "layout fields tp cp pp vp dp dtype recompute schedule batch; ep etp edp for MoE"
else
    fail "layout fields on the page" "missing or extra:$missing"
fi

# A hostile name: markup, quotes, an ampersand and a byte that is not UTF-8.
bad=$(printf 'x<img src=y onerror=alert(1)>&"\047\377<script>')
run run "$SCN/unit.xml" --set "name=$bad" --report "$tmp/hostile.html"
check_page "run --report with a hostile scenario name" "$tmp/hostile.html"
if grep -q '<img' "$tmp/hostile.html" || [ "$(grep -c '<script>' "$tmp/hostile.html")" -ne 1 ]
then
    fail "the hostile name is escaped" "$(grep -o '.\{10\}<img.\{20\}' "$tmp/hostile.html" | head -2)"
elif ! grep -q 'x&lt;img src=y onerror=alert(1)&gt;&amp;&quot;&#39;' "$tmp/hostile.html"; then
    fail "the hostile name is escaped" "escaped form not found"
elif ! iconv -f UTF-8 -t UTF-8 "$tmp/hostile.html" >/dev/null 2>&1; then
    fail "the page is valid UTF-8"
else
    pass "the hostile name is escaped and the page is valid UTF-8"
fi

# A large step stays bounded: ops narrower than a pixel merge.
run run "$SCN/default.xml" --set pp=16 --set microbatches=512 --report "$tmp/large.html"
check_page "run --report (pp=16, 512 micro-batches)" "$tmp/large.html"
size=$(wc -c <"$tmp/large.html")
boxes=$(sed -n 's/.* drawn as \([0-9]*\) boxes.*/\1/p' "$tmp/large.html")
if [ "$size" -lt 3000000 ] && [ "${boxes:-99999}" -le 30000 ]; then
    pass "a 64528-op step is $size bytes, $boxes boxes"
else
    fail "a 64528-op step stays bounded" "$size bytes, ${boxes:-?} boxes"
fi
# ... and so does the 64-rank 1F1B step of 2048 micro-batches that drew 63,993 elements in
# 6.1 MB: every <rect> of the page (boxes, lane bands, legend and bars) under the README's
# 30,000, the page under a megabyte.
run run "$SCN/default.xml" --set pp=64 --set layers=128 --set microbatches=2048 \
    --set schedule=1f1b --report "$tmp/huge.html"
size=$(wc -c <"$tmp/huge.html")
rects=$(grep -o '<rect ' "$tmp/huge.html" | wc -l)
if [ "$size" -lt 1000000 ] && [ "$rects" -le 30000 ]; then
    pass "a 520256-op step is $size bytes, $rects rects"
else
    fail "a 520256-op step stays bounded" "$size bytes, $rects rects"
fi
# A deep pipeline's chart stays about a screen tall: 128 ranks take 17-pixel lanes without
# link lanes (2352 pixels; 38 a rank and its link had made it 4,900, 1024 ranks 39,000), the
# sends leave the legend with their lanes, and the note says where they are (and counts ops
# alone: "ops and transfers" had counted no transfer).
run run "$SCN/default.xml" --set layers=256 --set pp=128 --set microbatches=128 \
    --report "$tmp/deep.html"
check_page "run --report (pp=128)" "$tmp/deep.html"
height=$(sed -n 's/.*<svg class="gantt-svg" width="[0-9]*" height="\([0-9]*\)".*/\1/p' \
    "$tmp/deep.html")
labels=$(grep -o '<text class="rl"' "$tmp/deep.html" | wc -l)
if [ "${height:-99999}" -eq 2352 ] && [ "$labels" -eq 128 ] &&
    ! grep -q '</i>activation send</span>' "$tmp/deep.html" &&
    grep -q '<p class="note">[0-9]* ops,\? \(drawn\|each\)' "$tmp/deep.html" &&
    grep -q "Each rank's lane is 17 pixels tall at this depth, and the 65280 P2P transfers are" \
        "$tmp/deep.html"; then
    pass "a 128-rank chart is $height pixels tall, 17 a lane, its sends left out and said so"
else
    fail "a 128-rank chart is 2352 pixels tall, 17 a lane, its sends left out and said so" \
        "height ${height:-?}, $labels rank labels"
fi

run sweep "$SCN/llama3.1-70b-h100.xml" --vary pp=2,4,8 --vary micro-batch=1,2 -j 2 \
    --out "$tmp/sweep.csv" --report "$tmp/sweep.html"
check_page "sweep --report" "$tmp/sweep.html"
rows=$(grep -c '^<tr class="s-' "$tmp/sweep.html")
if [ "$rows" -eq 6 ] && [ "$(grep -c . "$tmp/sweep.csv")" -eq 7 ]; then
    pass "sweep --report: one table row per config (6)"
else
    fail "sweep --report: one table row per config" "$rows rows"
fi
run sweep "$SCN/unit.xml" --vary pp=2,3 --report "$tmp/sweep-err.html"
if grep -q '<tr class="s-error"><td class="n">3</td><td><a href="#fail-1" title=' \
    "$tmp/sweep-err.html" &&
    grep -q '^<li id="fail-1"><b>pp=3</b> error: layers=' "$tmp/sweep-err.html"; then
    pass "sweep --report: a failed config is an error row, its reason listed under the table"
else
    fail "sweep --report: a failed config is an error row, its reason listed" "exit status $rc"
fi
run plan "$SCN/llama3.1-70b-h100.xml" --gpus 64 -j 2 --out "$tmp/plan.csv" \
    --report "$tmp/plan.html"
check_page "plan --report" "$tmp/plan.html"
sim=$(grep -c ',ok,' "$tmp/plan.csv")
if [ "$(grep -c '<tr class="s-ok">' "$tmp/plan.html")" -eq "$sim" ] &&
    ! grep -q 'data-sort=' "$tmp/plan.html"; then
    pass "plan --report: every simulated config ($sim), in the plan's order (no sort on load)"
else
    fail "plan --report: every simulated config, in the plan's order"
fi
# A reviewer reads the rank, the layout and the results at a glance: step_time_s within the
# first 4 columns (it was the 36th, ~3500 px in, after ~33 key columns mostly "default"), and a
# key the same in every row (gpus: --gpus 64) named once above the table, not a column.
head=$(sed -n '/class="sortable"/,/<\/thead>/p' "$tmp/plan.html" | tr -d '\n' |
    sed 's/.*<thead><tr>//; s/<\/tr><\/thead>.*//; s/<th[^>]*>//g; s/<\/th>/ /g')
at=$(printf '%s\n' $head | grep -n -x 'step_time_s' | cut -d: -f1)
if [ -n "$at" ] && [ "$at" -le 4 ] && ! printf '%s\n' $head | grep -q -x 'gpus' &&
    grep -q '<p class="note folded">The same in every row, so not a column: gpus=64,' \
        "$tmp/plan.html"; then
    pass "plan --report: step_time_s is column $at; a constant key (gpus=64) is a note"
else
    fail "plan --report: step_time_s in the first 4 columns; gpus=64 a note, not a column" \
        "step_time_s at ${at:-none} of: $(echo $head | cut -c1-200)"
fi
# The table opens on the plan's list: its first rows are the text table's top 5, in order
# (step times; simpler first within 1%, so not sorted by tokens/s).
if [ -n "$python" ]; then
    bad=$("$python" - "$tmp/out" "$tmp/plan.html" <<'EOF'
import re, sys
text = [l.split() for l in open(sys.argv[1]) if re.match(r"^[1-5] +tp", l)]
# step_s, then tokens/s, tok/s/GPU, MFU, mem_GiB, of_GiB, bubble, comm, recomp
steps = [float(f[-9]) for f in text]
page = open(sys.argv[2], encoding="utf-8").read()
head = re.findall(r"<th>(.*?)</th>", page.split('class="sortable"')[1].split("</thead>")[0])
col = head.index("step_time_s")
rows = re.findall(r"<tr class=\"s-[a-z]+\">(.*?)</tr>", page)[: len(steps)]
got = [float(re.findall(r"<td[^>]*>(.*?)</td>", r)[col]) for r in rows]
if len(steps) != 5 or any(abs(a - b) > 1e-3 * a for a, b in zip(steps, got)):
    print("text", steps, "page", got)
EOF
)
    if [ -z "$bad" ]; then
        pass "plan --report: the first rows are the plan's top 5, in its order"
    else
        fail "plan --report: the first rows are the plan's top 5, in its order" "$bad"
    fi
else
    skip "plan --report: the first rows are the plan's top 5" "python3 not found"
fi

# ---- outputs never destroy anything --------------------------------------------------------
cp "$SCN/unit.xml" "$tmp/in.xml"
cp "$tmp/in.xml" "$tmp/in.orig"
ln -s in.xml "$tmp/link.html"
# refused DESC FRAGMENT ARGS...: exit 2, one line naming the clash, nothing written.
refused() {
    desc=$1 frag=$2
    shift 2
    rm -f "$tmp/new.csv" "$tmp/new.html"
    run "$@"
    if [ "$rc" -ne 2 ]; then
        fail "$desc: exit 2" "exit status $rc"
    elif ! grep -q -- "$frag" "$tmp/err" || [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
        fail "$desc: one line naming the clash" "$(head -2 "$tmp/err")"
    elif ! cmp -s "$tmp/in.xml" "$tmp/in.orig" || [ -e "$tmp/new.csv" ] ||
        [ -e "$tmp/new.html" ] || [ -s "$tmp/out" ]; then
        fail "$desc: nothing written"
    else
        pass "$desc: exit 2, nothing written"
    fi
}
refused "run --report onto the scenario" "--report would overwrite the scenario" \
    run "$tmp/in.xml" --report "$tmp/in.xml"
refused "run --report onto a symlink to the scenario" "would overwrite the scenario" \
    run "$tmp/in.xml" --report "$tmp/link.html"
refused "run --report onto --timeline" "would write the same file as --timeline" \
    run "$tmp/in.xml" --timeline "$tmp/new.html" --report "$tmp/new.html"
refused "run --report onto --timeline (./ spelling)" "would write the same file as --timeline" \
    run "$tmp/in.xml" --timeline "$tmp/new.html" --report "$tmp/./new.html"
refused "sweep --report onto --out" "would write the same file as --out" \
    sweep "$tmp/in.xml" --vary pp=2,4 --out "$tmp/new.csv" --report "$tmp/new.csv"
refused "plan --report onto the scenario" "would overwrite the scenario" \
    plan "$SCN/llama3.1-70b-h100.xml" --gpus 64 --report "$SCN/llama3.1-70b-h100.xml"
run run "$tmp/in.xml" --report "$tmp/missing/r.html"
if [ "$rc" -eq 1 ] && [ ! -e "$tmp/missing" ]; then
    pass "--report into a missing folder: exit 1"
else
    fail "--report into a missing folder: exit 1" "exit status $rc"
fi
run run "$tmp/in.xml" --report
if [ "$rc" -eq 2 ] && grep -q -- '--report needs a file name' "$tmp/err"; then
    pass "--report without a file: exit 2"
else
    fail "--report without a file: exit 2" "exit status $rc"
fi

# ---- --help names the option --------------------------------------------------------------
for c in run sweep plan; do
    run "$c" --help
    if grep -q -- '--report FILE.html' "$tmp/out"; then
        pass "stepsim $c --help names --report"
    else
        fail "stepsim $c --help names --report"
    fi
done
run --help
if [ "$(grep -c -- '--report' "$tmp/out")" -ge 4 ]; then
    pass "stepsim --help names --report for run, sweep and plan"
else
    fail "stepsim --help names --report for run, sweep and plan"
fi

echo "1..$n"
echo "# $((n - failed - skipped)) passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
