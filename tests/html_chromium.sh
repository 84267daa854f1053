#!/bin/sh
# html_chromium.sh: the --report pages in a real browser (headless Chromium): each page's
# script runs to the end without a console message or an uncaught error (the page then marks
# <html data-report="ready">), the Gantt chart has its boxes and micro-batch labels and zooms
# (page.html#zoom=A,B) with distinct time-axis labels down to the deepest zoom, a table sorts
# (page.html#sort=-COLUMN), and screenshots show a chart rather than a blank page
# (tests/png_stats.py).  Skips, as one TAP plan "1..0 # SKIP", when
# no Chromium is installed; CHROMIUM=/path/to/chromium picks one.  Runs as root in a
# container too (--no-sandbox).  HTML_SHOTS=DIR keeps the screenshots.  Prints TAP.
set -u

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
SCN="$top_srcdir/scenarios"

browser=${CHROMIUM:-}
for b in chromium chromium-browser google-chrome; do
    [ -n "$browser" ] && break
    browser=$(command -v "$b" 2>/dev/null || true)
done
if [ -z "$browser" ]; then
    echo "1..0 # SKIP chromium not installed"
    exit 0
fi
NAME=chromium
. "$top_srcdir/tests/tap_lib.sh"
tap_begin "$NAME"
python=$(command -v python3 || true)

# browse PAGE.html[#FRAGMENT] OUT [SCREENSHOT.png]: the DOM after the scripts ran to OUT.dom,
# the browser's log (console messages, uncaught errors) to OUT.log; a 1400 x 1400 screenshot.
browse() {
    url="file://$1" out=$2 shot=${3:-}
    set -- --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
        --no-first-run --user-data-dir="$tmp/profile" --enable-logging=stderr --v=0 \
        --window-size=1400,1400
    if [ -n "$shot" ]; then
        timeout -k 10 120 "$browser" "$@" --screenshot="$shot" "$url" >/dev/null 2>"$out.log"
    else
        timeout -k 10 120 "$browser" "$@" --dump-dom "$url" >"$out.dom" 2>"$out.log"
    fi
}

# The value of attribute NAME on the dumped <html> element.
html_attr() {
    sed -n "s/.*<html[^>]* $2=\"\([^\"]*\)\".*/\1/p" "$1.dom" | head -1
}

# ran_clean DESC OUT: the page's script finished and nothing was logged to its console.
ran_clean() {
    if [ "$(html_attr "$2" data-report)" != ready ]; then
        fail "$1: the script ran to the end" "$(grep -E 'CONSOLE|Uncaught' "$2.log" | head -3)"
    elif grep -E 'CONSOLE|Uncaught' "$2.log" >/dev/null; then
        fail "$1: no console message" "$(grep -E 'CONSOLE|Uncaught' "$2.log" | head -3)"
    else
        pass "$1: the script ran clean"
    fi
}

# shows DESC PNG X0 Y0 X1 Y1: the box of the screenshot is a picture, not one colour.
shows() {
    desc=$1 png=$2
    shift 2
    if [ -z "$python" ]; then
        skip "$desc" "python3 not found"
        return
    fi
    if [ ! -s "$png" ]; then
        fail "$desc" "no screenshot"
        return
    fi
    stats=$("$python" "$top_srcdir/tests/png_stats.py" "$png" "$@") || stats=""
    set -- $stats
    if [ $# -eq 5 ] && [ "$3" -ge 8 ] &&
        awk -v d="$4" -v nw="$5" 'BEGIN { exit !(d < 0.9 && nw > 0.05) }'; then
        pass "$desc ($3 colours, dominant $4, non-white $5)"
    else
        fail "$desc" "png_stats: ${stats:-failed}"
    fi
}

"$S" run "$SCN/unit.xml" --report "$tmp/small.html" >/dev/null || fail "report: small step"
"$S" run "$SCN/default.xml" --set pp=16 --set microbatches=128 \
    --report "$tmp/medium.html" >/dev/null || fail "report: medium step"
"$S" run "$SCN/default.xml" --set pp=16 --set microbatches=512 \
    --report "$tmp/large.html" >/dev/null || fail "report: large step"
"$S" run "$SCN/mixtral-8x7b-h100.xml" --report "$tmp/modelled.html" >/dev/null ||
    fail "report: modelled step"
"$S" sweep "$SCN/unit.xml" --vary pp=1,2,4 --vary microbatches=4,8 -j 2 \
    --report "$tmp/sweep.html" >/dev/null || fail "report: sweep"

# A small step (4 ranks x 8 micro-batches): every op a box, and labelled.
browse "$tmp/small.html" "$tmp/small"
ran_clean "small step" "$tmp/small"
boxes=$(html_attr "$tmp/small" data-gantt-boxes)
labels=$(html_attr "$tmp/small" data-gantt-labels)
if [ "${boxes:-0}" -eq 64 ] && [ "${labels:-0}" -eq 64 ]; then
    pass "small step: 64 ops as 64 boxes, each labelled with its micro-batch"
else
    fail "small step: 64 boxes, each labelled" "boxes ${boxes:-?}, labels ${labels:-?}"
fi
browse "$tmp/small.html" "$tmp/small" "$tmp/small.png"
# the chart's rows sit below the summary and configuration: rows 500-900 of the screenshot
shows "small step: the screenshot shows the Gantt chart" "$tmp/small.png" 0 500 1400 900

# A medium step (16 ranks x 128): too narrow to label at full view, labelled when zoomed.
browse "$tmp/medium.html" "$tmp/medium"
ran_clean "medium step" "$tmp/medium"
full=$(html_attr "$tmp/medium" data-gantt-labels)
browse "$tmp/medium.html#zoom=0.5,0.52" "$tmp/medium-zoom"
ran_clean "medium step zoomed (#zoom=0.5,0.52)" "$tmp/medium-zoom"
zoomed=$(html_attr "$tmp/medium-zoom" data-gantt-labels)
if [ "${zoomed:-0}" -gt $((${full:-0} + 100)) ]; then
    pass "zooming in labels the ops ($full labels at full view, $zoomed zoomed)"
else
    fail "zooming in labels the ops" "${full:-?} at full view, ${zoomed:-?} zoomed"
fi

# ticks DESC PAGE.html#zoom=A,B: the time axis of the zoomed chart has ticks whose labels
# read as evenly spaced, distinct numbers (six significant digits had labelled a 0.54 s step
# zoomed to a millionth '161358 161358 161358 161359 161359').
ticks() {
    browse "$2" "$tmp/ticks"
    if [ -z "$python" ]; then
        skip "$1" "python3 not found"
        return
    fi
    said=$("$python" - "$tmp/ticks.dom" <<'EOF'
import re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
axis = re.search(r'<g class="axis"[^>]*>(.*?)</g>', dom, re.S)
texts = re.findall(r"<text[^>]*>([^<]*)</text>", axis.group(1)) if axis else []
labels, title = texts[:-1], texts[-1:] or ["no axis"]
values = [float(t.replace("\u2009", "")) for t in labels]
gaps = [b - a for a, b in zip(values, values[1:])]
even = len(gaps) >= 2 and gaps[0] > 0 and all(abs(g - gaps[0]) <= 1e-6 * gaps[0] for g in gaps)
print(("ok " if even else "bad ") + " | ".join(labels + title))
EOF
)
    case $said in
        ok\ *) pass "$1: ${said#ok }" ;;
        *) fail "$1" "${said:-no labels}" ;;
    esac
}
"$S" run "$SCN/default.xml" --report "$tmp/default.html" >/dev/null || fail "report: default"
ticks "0.54 s step at the deepest zoom: distinct tick labels" \
    "$tmp/default.html#zoom=0.3,0.3000001"
ticks "0.54 s step zoomed to 1e-4: distinct tick labels" "$tmp/default.html#zoom=0.3,0.3001"

# tips DESC PAGE.html [#FRAGMENT]: the hover tooltip of every box (of an op, or of merged ops),
# as a pointer moved onto it shows it, read from a copy of the page with a script after the
# report's that moves onto each box in turn and writes the texts, one a line, into
# <html data-tips> (the page itself is not changed for the test).  Each must read "what: START – END UNIT (LENGTH UNIT)", start and end
# with as many decimals as each other in one unit, the length with at most three significant
# digits; and among them those $want has, a line each (the first forward, the first activation
# send: the chart draws rank by rank, then the links).
tips() {
    desc=$1 page=$2 frag=$3
    probe='<script>(function () { var out = [], tip = document.querySelector(".gantt .tip");
        var boxes = document.querySelectorAll(
            "svg.plot rect[data-m], svg.plot rect[data-run]");
        for (var i = 0; i < boxes.length; i++) {
            var r = boxes[i].getBoundingClientRect();
            boxes[i].dispatchEvent(new PointerEvent("pointermove",
                {bubbles: true, clientX: r.left + 1, clientY: r.top + 1}));
            out.push(tip.hidden ? "(hidden)" : tip.textContent);
        }
        document.documentElement.setAttribute("data-tips", out.join("\n")); })();</script>'
    # (from the environment: awk -v would read the script's \n as a line break)
    probe=$probe awk '{ if (index($0, "</body>")) sub(/<\/body>/, ENVIRON["probe"] "</body>")
                        print }' "$page" >"$tmp/tips.html"
    browse "$tmp/tips.html$frag" "$tmp/tips"
    if [ -z "$python" ]; then
        skip "$desc" "python3 not found"
        return
    fi
    said=$("$python" - "$tmp/tips.dom" "$want" <<'EOF'
import html, re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'<html[^>]* data-tips="([^"]*)"', dom)
tips = html.unescape(m.group(1)).split("\n") if m else []
num = r"(?:\d{1,3}(?:\u2009\d{3})+|\d{1,4})(\.\d+)?"
unit = r"(s|ms|\u00b5s|ns)"
form = re.compile(r"^[^:]+: " + num + " \u2013 " + num + " " + unit +
                  r" \((\d+(?:\.\d+)?) " + unit + r"\)$")
bad = []
for t in tips:
    f = form.match(t)
    if (not f or len(f.group(1) or "") != len(f.group(2) or "") or
            len(f.group(4).replace(".", "").lstrip("0").rstrip("0")) > 3):
        bad.append(t)
want = sys.argv[2].split("\n")
if not tips:
    print("bad: no tooltips")
elif bad:
    print("bad: %d of %d, e.g. %s" % (len(bad), len(tips), bad[0]))
elif any(w not in tips for w in want):
    print("bad: missing " + " | ".join(w for w in want if w not in tips) + "; first: " +
          " | ".join(tips[:3]))
else:
    print("ok %d tooltips, e.g. %s" % (len(tips), tips[1]))
EOF
)
    case $said in
        ok\ *) pass "$desc: ${said#ok }" ;;
        *) fail "$desc" "${said:-no tooltips}" ;;
    esac
}
# Six significant digits, each time in a unit of its own, had read '0 ns – 4.8 ms (4.8 ms)'
# and '4.8 ms – 6.14718 ms (1347.18 µs)'.
want=$(printf '%s\n%s' "F forward, micro-batch 0, chunk 0: 0.0 – 4.8 ms (4.8 ms)" \
    "activation send, micro-batch 0: 4.8 – 6.1 ms (1.35 ms)")
tips "0.54 s step: the tooltips read to the pixel, in the axis's unit" "$tmp/default.html" ""
want=$(printf '%s\n%s' "F forward, micro-batch 0, chunk 0: 0.0 – 4800.0 µs (4.8 ms)" \
    "activation send, micro-batch 0: 4800.0 – 6147.2 µs (1.35 ms)")
tips "0.54 s step zoomed to 1e-4: the tooltips in the axis's µs, to the pixel" \
    "$tmp/default.html" "#zoom=0.3,0.3001"

# A V placement's tooltips name its chunks as the legend does, down and up (they said chunk 0 /
# chunk 1 under a legend of down / up).
"$S" run "$SCN/default.xml" --set schedule=dualpipe-v --report "$tmp/v.html" >/dev/null ||
    fail "report: dualpipe-v"
want="F forward, micro-batch 0, down: 0.0 – 4.8 ms (4.8 ms)"
tips "dualpipe-v: the tooltips name the chunks down and up" "$tmp/v.html" ""

# A large step (16 ranks x 512): merged ops, still a picture.
browse "$tmp/large.html" "$tmp/large"
ran_clean "large step" "$tmp/large"
# a merged box names its kind, chunk and busy share: rank 0's first forwards, back to back,
# then the pixel after them
want=$(printf '%s\n%s' "F forward, chunk 0, 100% busy (ops merged): 0.000 – 0.018 s (18.1 ms)" \
    "F forward, chunk 0, 30.1% busy (ops merged): 0.018 – 0.022 s (3.62 ms)")
tips "3.9 s step: the tooltips of merged ops" "$tmp/large.html" ""
browse "$tmp/large.html" "$tmp/large" "$tmp/large.png"
shows "large step: the screenshot shows the Gantt chart" "$tmp/large.png" 100 450 1300 1100
ticks "3.9 s step at the deepest zoom: distinct tick labels" "$tmp/large.html#zoom=0.7,0.7000001"
# ... in the palette's colours: boxes on whole pixels, a merged run in the colour of what takes
# most of its time -- no anti-aliased or averaged blends, which read as an idle grey (thousands
# of colours in the lanes before; a few dozen now, 200 allowed for text a layout may bring in).
# The box lies inside the lanes, below the page's configuration and the chart's hint line (at
# y 560 it took in the hint's anti-aliased text once the given keys were listed above).
if [ -n "$python" ] && [ -s "$tmp/large.png" ]; then
    set -- $("$python" "$top_srcdir/tests/png_stats.py" "$tmp/large.png" 250 640 1150 1080)
    if [ $# -eq 5 ] && [ "$3" -le 200 ]; then
        pass "large step: the lanes are drawn in the palette's colours ($3 colours)"
    else
        fail "large step: the lanes are drawn in the palette's colours" "${3:-?} colours"
    fi
fi

browse "$tmp/modelled.html" "$tmp/modelled"
ran_clean "modelled step" "$tmp/modelled"

# The sweep's table, sorted by the URL's #sort=-step_time_s: the longest step first.
browse "$tmp/sweep.html#sort=-step_time_s" "$tmp/sweep"
ran_clean "sweep" "$tmp/sweep"
if [ -n "$python" ]; then
    order=$("$python" - "$tmp/sweep.dom" <<'EOF'
import re, sys
dom = open(sys.argv[1], encoding="utf-8").read().split('class="sortable"')[1]
head = re.findall(r"<th[^>]*>([^<]*)</th>", dom)
col = head.index("step_time_s")
rows = re.findall(r"<tr class=\"s-[a-z]+\">(.*?)</tr>", dom, re.S)
# (a number's cell may hold its hidden padding, after an exponent too: html.c put_number)
vals = [re.sub(r"<[^>]*>", "", re.sub(r'<span class="pad">[^<]*</span>', "", c)) for c in
        (re.findall(r"<td[^>]*>(.*?)</td>", r)[col] for r in rows)]
nums = [float(v) for v in vals if v]
print("sorted" if nums == sorted(nums, reverse=True) and len(nums) == len(vals) else vals)
EOF
)
    if [ "$order" = sorted ] && grep -q 'aria-sort="descending">step_time_s<' "$tmp/sweep.dom"
    then
        pass "the sweep table sorts by a column, descending"
    else
        fail "the sweep table sorts by a column, descending" "$order"
    fi
else
    skip "the sweep table sorts by a column, descending" "python3 not found"
fi
browse "$tmp/sweep.html" "$tmp/sweep" "$tmp/sweep.png"
shows "sweep: the screenshot shows the table" "$tmp/sweep.png" 0 200 1400 420

# A long table (192 configs) scrolls in a box no taller than the window, its header in view
# over the rows scrolled under it: in a box as tall as the table the header had scrolled away
# with the page, and the sideways scroll bar sat under the last row.  A script after the
# report's scrolls the box 2000 pixels and writes what is at its top into <html data-probe>
# (no ampersand in it: awk's sub would put the matched text there).
"$S" sweep "$SCN/unit.xml" --vary pp=1,2,4 --vary microbatches=1:64:+1 -j 2 \
    --report "$tmp/long.html" >/dev/null || fail "report: long sweep"
probe='<script>(function () { var box = document.querySelector(".table-wrap");
    box.scrollIntoView();
    box.scrollTop = 2000;
    var top = box.getBoundingClientRect().top, rows = box.querySelectorAll("tbody tr"), first = -1;
    for (var i = rows.length - 1; i >= 0; i--)
        if (rows[i].getBoundingClientRect().bottom > top + 40) first = i;
    document.documentElement.setAttribute("data-probe", [
        Math.round(box.getBoundingClientRect().height) <= window.innerHeight ? "fits" : "taller",
        Math.round(box.querySelector("th").getBoundingClientRect().top - top),
        first].join(" ")); })();</script>'
probe=$probe awk '{ if (index($0, "</body>")) sub(/<\/body>/, ENVIRON["probe"] "</body>")
                    print }' "$tmp/long.html" >"$tmp/long-probe.html"
browse "$tmp/long-probe.html" "$tmp/long"
ran_clean "long sweep" "$tmp/long"
set -- $(html_attr "$tmp/long" data-probe)
if [ "${1:-}" = fits ] && [ "${2:-x}" = 0 ] && [ "${3:-0}" -gt 50 ]; then
    pass "long sweep: the table scrolls under its header, in a box within the window (row $3)"
else
    fail "long sweep: the table scrolls under its header, in a box within the window" \
        "box ${1:-?}, header ${2:-?} px below its top, first row in view ${3:-?}"
fi

# HTML_SHOTS=DIR keeps the screenshots for a person to look at.
if [ -n "${HTML_SHOTS:-}" ] && mkdir -p "$HTML_SHOTS"; then
    cp "$tmp"/*.png "$HTML_SHOTS"/ 2>/dev/null
fi

echo "1..$n"
echo "# $((n - failed - skipped)) passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
