#!/bin/sh
# readme_check.sh -- make check: the README's accuracy figures are what make validate prints on
# this commit (tests/readme_figures.sh), as one TAP test.
top_srcdir=${top_srcdir:-.}
stepsim=${top_builddir:-.}/stepsim
echo "1..1"
if out=$(top_srcdir="$top_srcdir" STEPSIM="$stepsim" sh "$top_srcdir/tests/readme_figures.sh" check 2>&1); then
    echo "ok 1 - $out"
else
    printf '%s\n' "$out" | sed 's/^/# /'
    echo "not ok 1 - README accuracy figures are stale"
fi
