# tap.sh: TAP output for the shell tests, sourced with NAME and top_builddir set: bails out
# unless $S, the stepsim binary of top_builddir, is built (ASAN_OPTIONS defaults to leak
# checks), makes the scratch directory $tmp (removed on exit; its err file, when not empty,
# holds the stderr of the last command run, which fail shows), then
#   pass DESC; fail DESC [DIAGNOSTIC...]; skip DESC WHY
# Counters: n (tests so far), failed, skipped.

S="$top_builddir/stepsim"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export ASAN_OPTIONS
if [ ! -x "$S" ]; then
    echo "Bail out! $S not built"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/stepsim-$NAME.XXXXXX") || {
    echo "Bail out! cannot create a temporary directory"
    exit 1
}
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

n=0
failed=0
skipped=0

pass() {
    n=$((n + 1))
    echo "ok $n - $1"
}

# fail DESC [DIAGNOSTIC...]
fail() {
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - $1"
    shift
    for d in "$@"; do
        echo "# $d"
    done
    if [ -s "$tmp/err" ]; then
        sed -n '1,5s/^/#   stderr: /p' "$tmp/err"
    fi
}

skip() {
    n=$((n + 1))
    skipped=$((skipped + 1))
    echo "ok $n - $1 # SKIP $2"
}
