# tap_lib.sh: what the shell tests share -- a private temp folder, TAP output and the checks
# of one stepsim run.  Sourced (not run) by run_cli_tests.sh, hostile_outputs.sh and
# interrupt.sh after they set top_srcdir and top_builddir.
#
# tap_begin TAG: S is the stepsim binary (an absolute path), leak reports are on (they add
# stderr lines, which the one-line checks catch), and tap_start TAG; bails out when stepsim
# is not built.
tap_begin() {
    S="$top_builddir/stepsim"
    case $S in /*) ;; *) S="$(pwd)/$S" ;; esac
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
    export ASAN_OPTIONS
    tap_start "$1"
    if [ ! -x "$S" ]; then
        echo "Bail out! $S not built"
        exit 1
    fi
}

# tap_start TAG: $tmp is a fresh folder (removed on exit); counters n, failed, skipped.
tap_start() {
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/stepsim-$1.XXXXXX") || {
        echo "Bail out! cannot create a temporary directory"
        exit 1
    }
    trap 'rm -rf "$tmp"' EXIT
    trap 'exit 1' INT TERM HUP
    n=0
    failed=0
    skipped=0
}

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

# check DESC CONDITION...: pass when the command CONDITION succeeds.
check() {
    desc=$1
    shift
    if "$@"; then
        pass "$desc"
    else
        fail "$desc"
    fi
}

# run ARGS...: run stepsim, stdout to $tmp/out, stderr to $tmp/err, status in $rc.
run() {
    "$S" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

# Lines on stderr, counting an unterminated last line.
err_lines() {
    sed -n '$=' "$tmp/err"
}

# expect_error DESC WANT_RC PREFIX FRAGMENT: the last run exited WANT_RC with exactly one
# stderr line that starts with PREFIX and contains FRAGMENT (both taken literally).
expect_error() {
    desc=$1 want=$2 prefix=$3 frag=$4
    lines=$(err_lines)
    first=$(sed -n 1p "$tmp/err")
    if [ "$rc" -ne "$want" ]; then
        fail "$desc" "exit status $rc, expected $want"
    elif [ "${lines:-0}" -ne 1 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
        fail "$desc" "stderr has ${lines:-0} lines, expected exactly one"
    else
        case $first in
        "$prefix"*"$frag"*) pass "$desc" ;;
        "$prefix"*) fail "$desc" "message lacks '$frag'" ;;
        *) fail "$desc" "message does not start with '$prefix'" ;;
        esac
    fi
}

# expect_ok DESC: the last run exited 0 with an empty stderr and some stdout.
expect_ok() {
    if [ "$rc" -ne 0 ]; then
        fail "$1" "exit status $rc, expected 0"
    elif [ -s "$tmp/err" ]; then
        fail "$1" "unexpected stderr"
    elif [ ! -s "$tmp/out" ]; then
        fail "$1" "no output"
    else
        pass "$1"
    fi
}
