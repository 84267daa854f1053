#!/bin/sh
# interrupt.sh: an interrupted stepsim leaves nothing behind; prints TAP.
#
# Sweeps (with their plots), a run drawing a Gantt chart and a plan are started over old
# outputs and interrupted at random points by SIGINT, SIGTERM or SIGHUP.  Each must exit 128 +
# the signal (or 0, when it finished first), and afterwards: no temp file beside the outputs
# or in TMPDIR, no gnuplot left running, and the outputs either all old or all new (the
# uninterrupted run's, byte for byte) -- never a mix, never a partial file.  Each command runs
# once uninterrupted first, which gives the new outputs and how long it takes; the
# interruptions fall anywhere from the start to a little past that.  The random points depend
# on INTERRUPT_SEED (printed; default: the process id) and INTERRUPT_TRIALS per command
# (default 6).
#
# Run by automake from the build directory with top_srcdir and top_builddir set; by hand:
# top_srcdir=/path/to/src top_builddir=/path/to/build sh THIS.
set -u

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
. "$top_srcdir/tests/tap_lib.sh"
tap_begin interrupt
src=$(cd "$top_srcdir" && pwd)
seed=${INTERRUPT_SEED:-$$}
trials=${INTERRUPT_TRIALS:-6}
echo "# INTERRUPT_SEED=$seed"

# A background job of a script ignores SIGINT (POSIX, without job control), and stepsim keeps
# an ignored signal ignored (as nohup wants): give it the default action back.
launch=""
signals="INT TERM HUP"
if env --default-signal=INT true 2>/dev/null; then
    launch="env --default-signal=INT,TERM,HUP"
else
    signals="TERM HUP"
fi
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "# gnuplot missing: the plots fail at once and the runs are mostly interrupted earlier"
fi

w="$tmp/w"
mkdir -p "$w/tmp" "$tmp/ref"
cd "$w" || exit 1
U="$src/scenarios/unit.xml"
L70="$src/scenarios/llama3.1-70b-h100.xml"

# Milliseconds since the epoch (GNU date; whole seconds elsewhere).
now_ms() {
    t=$(date +%s%N 2>/dev/null)
    case $t in *N | "") echo $(($(date +%s) * 1000)) ;; *) echo $((t / 1000000)) ;; esac
}

# The k-th random delay in seconds, up to 1.1 x the uninterrupted run's duration.
delay() {
    awk -v s="$seed" -v k="$1" -v d="$2" \
        'BEGIN { srand(s); for (i = 0; i < k; i++) r = rand(); printf "%.3f", r * d * 1.1 / 1000 }'
}

# An output's old contents: its name, behind a PNG signature for a .png (a chart's companion,
# which the user did not name, replaces only an earlier image).
old_text() {
    case $1 in
    *.png) printf '\211PNG\r\n\032\nold %s\n' "$1" ;;
    *) printf 'old %s\n' "$1" ;;
    esac
}

set_old() {
    for o in $outputs; do
        old_text "$o" >"$o"
    done
}

# all_old / all_new: every output holds its old text / the uninterrupted run's bytes.
all_old() {
    for o in $outputs; do
        old_text "$o" | cmp -s - "$o" || return 1
    done
}
all_new() {
    for o in $outputs; do
        cmp -s "$o" "$tmp/ref/$o" || return 1
    done
}

# A gnuplot started for this folder's temp files, still running (its command line names them).
stray_gnuplot() {
    ps -eo pid=,args= 2>/dev/null | grep "$w/tmp/" | grep -v grep | head -1
}

# trial K: interrupt command $name ($args) after the K-th delay, by the K-th signal in turn.
trial() {
    k=$1
    # shellcheck disable=SC2086
    set -- $signals
    shift $((k % $#))
    sig=$1
    case $sig in INT) signo=2 ;; TERM) signo=15 ;; *) signo=1 ;; esac
    set_old
    d=$(delay "$k" "$duration")
    # shellcheck disable=SC2086
    TMPDIR="$w/tmp" $launch "$S" $args >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    sleep "$d"
    kill -s "$sig" "$pid" 2>/dev/null
    wait "$pid"
    rc=$?
    sleep 0.1 # a child killed by the handler is gone by now
    left=$({ find "$w" -name '*.tmp.*'; find "$w/tmp" -mindepth 1; } | head -3)
    stray=$(stray_gnuplot)
    desc="$name interrupted by SIG$sig after ${d}s (exit $rc)"
    if [ "$rc" -ne 0 ] && [ "$rc" -ne $((128 + signo)) ]; then
        fail "$desc" "exit status $rc, expected 0 or $((128 + signo))"
    elif [ -n "$left" ]; then
        fail "$desc" "left behind: $left"
    elif [ -n "$stray" ]; then
        fail "$desc" "gnuplot still running: $stray"
        kill -s KILL "${stray%% *}" 2>/dev/null
    elif ! all_old && ! all_new; then
        fail "$desc" "outputs neither all old nor all new: $(for o in $outputs; do printf '%s:%s ' "$o" "$(head -c 12 "$o" | tr -c '[:print:]' .)"; done)"
    elif [ "$rc" -eq 0 ] && ! all_new; then
        fail "$desc" "exit 0 but the outputs are not the new ones"
    else
        pass "$desc"
    fi
}

# command NAME "ARGS" "OUTPUTS": the uninterrupted run, then the interrupted ones.
command_trials() {
    name=$1 args=$2 outputs=$3
    set_old
    t0=$(now_ms)
    # shellcheck disable=SC2086
    TMPDIR="$w/tmp" "$S" $args >"$tmp/out" 2>"$tmp/err"
    rc=$?
    duration=$(($(now_ms) - t0))
    if [ "$rc" -ne 0 ]; then
        fail "$name runs uninterrupted" "exit status $rc"
        return
    fi
    pass "$name runs uninterrupted (${duration} ms)"
    for o in $outputs; do
        cp "$o" "$tmp/ref/$o"
    done
    k=1
    while [ "$k" -le "$trials" ]; do
        trial "$k"
        k=$((k + 1))
    done
    rm -f $outputs
}

command_trials "sweep of 3000 configs with --out and --plot" \
    "sweep $U --vary microbatches=1:3000:+1 --out s.csv --plot s.png" "s.csv s.png"
command_trials "run with --timeline, --trace and a Gantt --plot" \
    "run $U --set microbatches=4000 --timeline t.csv --trace t.json --plot g.png" \
    "t.csv t.json g.png"
command_trials "modelled sweep with --out, --plot and its breakdown" \
    "sweep $L70 --vary pp=2,4,8 --vary micro-batch=1,2 -j 1 --out m.csv --plot m.png" \
    "m.csv m.png m-breakdown.png"
command_trials "plan with --out" "plan $L70 --gpus 512 -j 1 --out p.csv" "p.csv"

echo "# $((n - failed - skipped)) passed, $failed failed, $skipped skipped"
echo "1..$n"
[ "$failed" -eq 0 ]
