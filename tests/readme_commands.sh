#!/bin/sh
# readme_commands.sh -- make check: every ```sh block of the README runs as written (one TAP
# test per block), in a scratch folder that sees the source tree's scenarios, models, hardware
# and plots and the built stepsim.  The quick-start block (install, build, make check) is CI's
# own job and is skipped here: running make check inside make check would recurse.
top_srcdir=${top_srcdir:-.}
src=$(cd "$top_srcdir" && pwd)
bin=$(cd "${top_builddir:-.}" && pwd)/stepsim
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
for d in scenarios models hardware plots; do ln -s "$src/$d" "$tmp/$d"; done
ln -s "$bin" "$tmp/stepsim"
# Blocks into files: block N is lines between "```sh" and the next "```".
awk -v dir="$tmp" '/^```sh/ { n++; f = dir "/block" n ".sh"; inside = 1; next }
                   /^```/ { inside = 0 }
                   inside { print > f }' "$src/README.md"
n=0
failed=0
for f in "$tmp"/block*.sh; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    first=$(grep -v '^#' "$f" | head -1 | cut -c1-60)
    if grep -q 'apt-get\|make check' "$f"; then
        echo "ok $n - README block: $first # SKIP set-up, CI runs it"
        continue
    fi
    if (cd "$tmp" && sh -e "$f") >"$tmp/out" 2>&1; then
        echo "ok $n - README block runs: $first"
    else
        failed=$((failed + 1))
        sed 's/^/# /' "$tmp/out" | tail -20
        echo "not ok $n - README block fails: $first"
    fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
