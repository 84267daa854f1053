#!/bin/sh
# probe_io.sh: stepsim touches only what it was asked to read -- checked, not assumed.  Prints
# TAP.
#
# Every file of the hostile corpus (tests/bad, tests/bad/models, tests/bad/hardware: external
# entities naming /etc/passwd and URLs, XInclude, parameter entities, refs to missing files ...)
# and every shipped scenario is run under strace.  The run must make no network system call at
# all, and every file it opens must be a system library or locale file, the process's
# own /proc/self, or lie inside the source tree (the input and the model and hardware files its
# refs name).  Skipped when strace is missing or ptrace is not permitted (some containers).
#
# Run by automake from the build directory with top_srcdir and top_builddir set; by hand:
# top_srcdir=/path/to/src top_builddir=/path/to/build sh THIS.
set -u

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
S="$top_builddir/stepsim"
# LeakSanitizer cannot run under ptrace; leaks are the other tests' business.
ASAN_OPTIONS=detect_leaks=0
export ASAN_OPTIONS

tmp=$(mktemp -d "${TMPDIR:-/tmp}/stepsim-probe.XXXXXX") || {
    echo "Bail out! cannot create a temporary directory"
    exit 1
}
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

if ! command -v strace >/dev/null 2>&1 || ! strace -f -qq -o /dev/null true 2>/dev/null; then
    echo "1..1"
    echo "ok 1 - network and file-access probe # SKIP strace missing or ptrace not permitted"
    exit 0
fi
if ! command -v realpath >/dev/null 2>&1; then
    echo "1..1"
    echo "ok 1 - network and file-access probe # SKIP realpath missing"
    exit 0
fi
src=$(realpath "$top_srcdir")

n=0
failed=0

# probe DESC ARGS...: run stepsim ARGS under strace; check the trace.
probe() {
    desc=$1
    shift
    # %network: socket, connect, sendto ...; %file: every call taking a path.
    strace -f -qq -e trace=%network,%file -o "$tmp/trace" "$S" "$@" >/dev/null 2>&1
    n=$((n + 1))
    net=$(grep -E '^[0-9]+ +(socket|connect|bind|sendto|sendmsg|getaddrinfo)\(' "$tmp/trace" | head -1)
    if [ -n "$net" ]; then
        failed=$((failed + 1))
        echo "not ok $n - $desc"
        echo "# network call: $net"
        return
    fi
    # Reading a file takes an open; the first quoted argument of each open is its path.
    # (Metadata calls -- stat of a ref to see it is a regular file -- read nothing.)
    stray=$(grep -E '^[0-9]+ +(open|openat|openat2|creat)\(' "$tmp/trace" |
        sed -n 's/^[0-9]* *[a-z0-9_]*([^"]*"\([^"]*\)".*/\1/p' |
        sort -u | while IFS= read -r p; do
            case $p in
            /lib/* | /lib64/* | /usr/lib/* | /usr/lib64/* | /etc/ld.so.* | /usr/share/locale/* | \
                /usr/lib/locale/* | /proc/self/* | /sys/devices/system/cpu/*) continue ;;
            esac
            real=$(realpath -m -- "$p")
            case $real in
            "$src" | "$src"/*) ;;
            *) echo "$p" ;;
            esac
        done)
    if [ -n "$stray" ]; then
        failed=$((failed + 1))
        echo "not ok $n - $desc"
        printf '%s\n' "$stray" | head -5 | sed 's/^/# touched: /'
    else
        echo "ok $n - $desc"
    fi
}

for f in "$top_srcdir"/tests/bad/*.xml; do
    probe "run bad/${f##*/}: no network, no stray file" run "$f"
done
for f in "$top_srcdir"/tests/bad/models/*.xml "$top_srcdir"/tests/bad/hardware/*.xml; do
    probe "validate bad/${f#"$top_srcdir"/tests/bad/}: no network, no stray file" validate "$f"
done
for f in "$top_srcdir"/scenarios/*.xml; do
    probe "run ${f#"$top_srcdir"/}: no network, no stray file" run "$f"
done

# The probe itself must be able to fail: a path outside the tree is reported.
cp "$top_srcdir/scenarios/unit.xml" "$tmp/outside.xml"
probe_out=$(probe "self-check" validate "$tmp/outside.xml")
n=$((n + 1))
case $probe_out in
"not ok"*"# touched: $tmp/outside.xml"*) echo "ok $n - the probe reports a file outside the tree" ;;
*)
    failed=$((failed + 1))
    echo "not ok $n - the probe reports a file outside the tree"
    printf '%s\n' "$probe_out" | sed 's/^/# /'
    ;;
esac

echo "1..$n"
[ "$failed" -eq 0 ]
