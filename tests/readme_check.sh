#!/bin/sh
# readme_check.sh -- make check: the README's quoted figures are what make validate, stepsim
# published and the schedule runs print on this commit (tests/readme_figures.sh), and every
# scenario key `stepsim keys` lists (but `name`, and the hw. knobs: README documents hw.NAME) is
# documented in the README, written as `key`;
# two TAP tests.
top_srcdir=${top_srcdir:-.}
stepsim=${top_builddir:-.}/stepsim
echo "1..2"
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
