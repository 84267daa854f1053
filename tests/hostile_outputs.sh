#!/bin/sh
# hostile_outputs.sh: the hostile-input corpus's output-path and command-line section; prints
# TAP.  The rule of the corpus (see run_cli_tests.sh for the input files):
#   a refused command exits 2 (bad input) or 1 (I/O) with one stderr line naming the problem,
#   nothing is destroyed and nothing is left behind.
# Every case runs stepsim inside a fresh folder, "the world": a scenario and a base naming it,
# a modelled scenario with its model and hardware, an old output, and what the case adds
# (FIFOs, symlinks, devices, read-only folders), with TMPDIR inside it.  After each case every
# entry of the world must keep its type, mode, owner and content -- but the outputs a
# successful run was asked to write -- and no temp file may remain (no *.tmp.*, nothing in
# TMPDIR).
#
# Run by automake from the build directory with top_srcdir and top_builddir set; by hand:
# top_srcdir=/path/to/src top_builddir=/path/to/build sh THIS.
set -u

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
. "$top_srcdir/tests/tap_lib.sh"
tap_begin outputs
src=$(cd "$top_srcdir" && pwd)
w="$tmp/world"
T=""
command -v timeout >/dev/null 2>&1 && T="timeout 60"

# A fresh world.  The modelled scenario's refs are relative (the schema caps a ref's length).
new_world() {
    rm -rf "$w"
    mkdir -p "$w/tmp" "$w/m" "$w/dir"
    cp "$src/scenarios/unit.xml" "$w/in.xml"
    printf '<?xml version="1.0"?>\n<scenario base="in.xml">\n  <pipeline pp="2"/>\n</scenario>\n' \
        >"$w/variant.xml"
    cp "$src/models/llama2-7b.xml" "$src/hardware/dgx-h100.xml" "$w/m/"
    cat >"$w/modelled.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<scenario name="modelled">
  <model ref="m/llama2-7b.xml"/>
  <hardware ref="m/dgx-h100.xml"/>
  <parallel tp="8"/>
  <pipeline schedule="1f1b" pp="2"/>
  <batch micro-batch="1" global-batch="8" seq="2048"/>
</scenario>
EOF
    printf 'old data\n' >"$w/old.csv"
    printf 'old trace\n' >"$w/old.json"
}

# Every entry of the world but TMPDIR: path, type, mode, owner, and a regular file's checksum
# (a FIFO is never opened).
snapshot() {
    (cd "$w" && find . -path ./tmp -prune -o -print | LC_ALL=C sort | while IFS= read -r f; do
        sum=""
        if [ -L "$f" ]; then
            sum="-> $(readlink "$f")"
        elif [ -f "$f" ]; then
            sum=$(cksum <"$f")
        fi
        printf '%s %s\n' "$(stat -c '%n|%F|%a|%u:%g' "$f")" "$sum"
    done) >"$1"
}

# wrun ARGS...: stepsim inside the world, TMPDIR in it; out/err in $tmp, status in $rc.
wrun() {
    (cd "$w" && TMPDIR="$w/tmp" $T "$S" "$@") >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

# untouched DESC [CHANGED...]: the world is as in $tmp/before but for the CHANGED paths
# (relative, "./x"), and nothing is left behind.
untouched() {
    desc=$1
    shift
    snapshot "$tmp/after"
    for c in "$@"; do
        grep -v "^$c|" "$tmp/before" >"$tmp/b2" && mv "$tmp/b2" "$tmp/before"
        grep -v "^$c|" "$tmp/after" >"$tmp/a2" && mv "$tmp/a2" "$tmp/after"
    done
    left=$(cd "$w" && { find . -name '*.tmp.*'; find ./tmp -mindepth 1; } | head -3)
    if ! cmp -s "$tmp/before" "$tmp/after"; then
        fail "$desc: nothing destroyed" "$(diff "$tmp/before" "$tmp/after" | head -4 | tr '\n' ' ')"
    elif [ -n "$left" ]; then
        fail "$desc: nothing left behind" "left: $left"
    else
        pass "$desc: nothing destroyed, nothing left behind"
    fi
}

# refuse DESC RC FRAGMENT ARGS...: exit RC, one line with FRAGMENT, the world untouched.
refuse() {
    desc=$1 want=$2 frag=$3
    shift 3
    snapshot "$tmp/before"
    wrun "$@"
    expect_error "$desc" "$want" "stepsim: " "$frag"
    untouched "$desc"
}

# accept DESC CHANGED ARGS...: exit 0, nothing on stderr; only CHANGED ("./a ./b") changes.
accept() {
    desc=$1 changed=$2
    shift 2
    snapshot "$tmp/before"
    wrun "$@"
    if [ "$rc" -ne 0 ] || [ -s "$tmp/err" ]; then
        fail "$desc" "exit status $rc"
    else
        pass "$desc"
    fi
    # shellcheck disable=SC2086
    untouched "$desc" $changed
}

# ---- outputs that would overwrite an input ----------------------------------------------
new_world
refuse "--timeline naming the scenario" 2 "--timeline would overwrite the scenario in.xml" \
    run in.xml --timeline in.xml
refuse "--trace naming the base of the scenario" 2 "--trace would overwrite the base scenario" \
    run variant.xml --trace in.xml
refuse "--memory-timeline naming the model" 2 "would overwrite the model m/llama2-7b.xml" \
    run modelled.xml --memory-timeline m/llama2-7b.xml
refuse "--timeline naming the hardware another way (./m/../m/)" 2 "would overwrite the hardware" \
    run modelled.xml --timeline ./m/../m/dgx-h100.xml
ln "$w/in.xml" "$w/hard.csv"
refuse "--timeline naming a hard link of the scenario" 2 "would overwrite the scenario" \
    run in.xml --timeline hard.csv
ln -s in.xml "$w/soft.csv"
refuse "--timeline naming a symlink to the scenario" 2 "would overwrite the scenario" \
    run in.xml --timeline soft.csv
refuse "sweep --out naming the scenario" 2 "--out would overwrite the scenario" \
    sweep in.xml --vary pp=1,2 --out in.xml
refuse "sweep --out naming a varied model file" 2 "--out would overwrite the model" \
    sweep modelled.xml --vary model=m/llama2-7b.xml --out m/llama2-7b.xml
refuse "plan --out naming the hardware" 2 "--out would overwrite the hardware" \
    plan modelled.xml --gpus 16 --out m/dgx-h100.xml
refuse "run --timeline /dev/stdin when stdin is the scenario" 2 "would overwrite the scenario" \
    run /dev/stdin --timeline /dev/stdin <"$w/in.xml"

# ---- outputs that would overwrite a description this command did not load ----------------
refuse "--timeline naming another scenario" 2 "--timeline: is a stepsim scenario description; refusing" \
    run in.xml --timeline modelled.xml
refuse "--trace naming a model the scenario does not use" 2 "is a stepsim model description" \
    run in.xml --trace m/llama2-7b.xml
refuse "sweep --out naming a hardware file" 2 "--out: is a stepsim hardware description" \
    sweep in.xml --vary pp=1,2 --out m/dgx-h100.xml
printf '\357\273\277<?xml version="1.0"?>\n<!-- a comment -->\n<?pi x?>\n<scenario name="x">\n' \
    >"$w/bom.xml"
refuse "--timeline naming a scenario behind a BOM, a comment and a PI" 2 "is a stepsim scenario description" \
    run in.xml --timeline bom.xml
printf '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>\n' >"$w/old.svg"
accept "--plot replacing an old SVG (XML, but no description)" "./old.svg" \
    run in.xml --plot old.svg
printf '<?xml version="1.0"?>\n<scenarios/>\n' >"$w/near.xml"
accept "--timeline replacing an XML file whose root only starts like one" "./near.xml" \
    run in.xml --timeline near.xml
rm -f "$w/bom.xml" "$w/old.svg" "$w/near.xml"
# A chart's companion (FILE-memory.png, a name the user did not type) replaces an earlier
# chart, never a file of another sort.
printf 'KEEP ME\n' >"$w/c-memory.png"
refuse "--plot whose memory chart would replace a file that is not a PNG" 2 \
    "--plot c.png draws its memory chart in c-memory.png, which exists and is not a PNG image" \
    run modelled.xml --plot c.png
printf '\211PNG\r\n\032\nan earlier chart' >"$w/c-memory.png"
accept "--plot replacing an earlier memory chart" "./c.png ./c-memory.png" \
    run modelled.xml --plot c.png
rm -f "$w/c.png" "$w/c-memory.png"

# ---- two outputs, one file --------------------------------------------------------------
refuse "--timeline and --trace naming one old file" 2 "--trace would write the same file as --timeline old.csv" \
    run in.xml --timeline old.csv --trace old.csv
refuse "--timeline and --trace naming one new file, spelled two ways" 2 "the same file as --timeline new.csv" \
    run in.xml --timeline new.csv --trace ./dir/../new.csv
ln -s old.csv "$w/to-old.csv"
refuse "an output and a symlink to it" 2 "the same file as --timeline old.csv" \
    run in.xml --timeline old.csv --trace to-old.csv
rm "$w/to-old.csv"

# ---- what exists and is no regular file ---------------------------------------------------
refuse "--timeline naming a directory" 2 "--timeline: is a directory" run in.xml --timeline dir
refuse "--trace naming a new file under a trailing slash" 2 "names a folder" \
    run in.xml --trace nodir/
ln -s loop "$w/loop"
refuse "--timeline naming a symlink loop" 2 "Too many levels of symbolic links" \
    run in.xml --timeline loop
rm "$w/loop"
if mknod "$w/blk" b 7 250 2>/dev/null; then
    refuse "--timeline naming a block device" 2 "is a block device; refusing" \
        run in.xml --timeline blk
    rm -f "$w/blk"
else
    skip "--timeline naming a block device" "mknod not permitted"
fi
if command -v python3 >/dev/null 2>&1 &&
    python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$w/sock" 2>/dev/null; then
    refuse "--out naming a socket" 2 "is a socket; refusing" sweep in.xml --vary pp=1,2 --out sock
    rm -f "$w/sock"
else
    skip "--out naming a socket" "python3 cannot make a socket"
fi

# ---- every output checked before anything is written --------------------------------------
refuse "--plot x.pdf after --timeline old.csv" 2 "--plot x.pdf: the file must end in .png or .svg" \
    run in.xml --timeline old.csv --plot x.pdf
refuse "--memory-timeline on explicit costs after --trace old.json" 2 "--memory-timeline needs a modelled scenario" \
    run in.xml --trace old.json --memory-timeline mem.csv
refuse "--tokens on explicit costs with --timeline old.csv" 2 "--tokens needs a modelled scenario" \
    run in.xml --timeline old.csv --tokens 1e9
refuse "sweep --plot x.jpg with --out old.csv" 2 "--plot x.jpg: the file must end in .png or .svg" \
    sweep in.xml --vary pp=1,2 --out old.csv --plot x.jpg
ln -s "it's.png" "$w/q.png" 2>/dev/null
refuse "--plot through a symlink whose target has a quote" 2 "the file it links to has quotes" \
    run in.xml --plot q.png
rm -f "$w/q.png"

# ---- all outputs or none: a failing one leaves the others as they were ---------------------
refuse "--timeline old.csv --trace in a missing folder" 1 "--trace: cannot create: No such file or directory" \
    run in.xml --timeline old.csv --trace missing/t.json
refuse "--out old.csv --plot in a missing folder" 1 "--plot: cannot create: No such file" \
    sweep in.xml --vary pp=1,2 --out old.csv --plot missing/p.png
refuse "plan --out in a missing folder: before the search" 1 "--out: cannot create" \
    plan modelled.xml --gpus 16 --out missing/p.csv
# The world's own devices where mknod is permitted (root): a broken stepsim then replaces
# those, never the system's.
full=/dev/full
mknod "$w/full" c 1 7 2>/dev/null && chmod 666 "$w/full" && full=full
if [ -w "$full" ] || [ -w "$w/$full" ]; then
    refuse "--timeline old.csv --trace a full device" 1 "--trace: cannot write: No space left on device" \
        run in.xml --timeline old.csv --trace $full
else
    skip "--timeline old.csv --trace /dev/full" "no /dev/full"
fi

# ---- written in place, never replaced -----------------------------------------------------
null=/dev/null
mknod "$w/null" c 1 3 2>/dev/null && chmod 666 "$w/null" && null=null
accept "--timeline and --trace naming a null device" "" run in.xml --timeline $null --trace $null
check "the null device is still a character device" sh -c "cd '$w' && test -c $null"
# stdout carries one thing: the CSV, alone (a script reads it), the text report going to stderr
wrun run in.xml --timeline /dev/stdout
check "--timeline /dev/stdout: exit 0" test "$rc" -eq 0
check "--timeline /dev/stdout: stdout is the CSV alone" \
    sh -c "head -1 '$tmp/out' | grep -qx 'rank,op,microbatch,chunk,stage,start_s,end_s,peer,bytes' &&
           ! grep -q 'step time' '$tmp/out'"
check "--timeline /dev/stdout: the text report is on stderr" grep -q '^step time' "$tmp/err"
wrun run in.xml --timeline -
check "--timeline -: the CSV alone is on stdout, and no file named -" \
    sh -c "test $rc -eq 0 && head -1 '$tmp/out' | grep -q '^rank,op,microbatch,chunk' &&
           ! grep -q 'step time' '$tmp/out' && ! test -e '$w/-'"
refuse "--timeline - with --format json: both on stdout" 2 \
    "--timeline and --format json would both write to stdout; give --timeline a file" \
    run in.xml --timeline - --format json
refuse "sweep --report - without --out: the CSV is on stdout" 2 \
    "--report and the CSV would both write to stdout" \
    sweep in.xml --vary pp=2,4 --report -
mkfifo "$w/fifo"
(cat "$w/fifo" >"$tmp/fifo.got") &
accept "--timeline naming a FIFO with a reader" "" run in.xml --timeline fifo
# a failed run never opened the FIFO: let the reader see its end (no reader left: ENXIO)
dd if=/dev/null of="$w/fifo" oflag=nonblock 2>/dev/null
wait
check "the FIFO is still a FIFO and its reader got the CSV" \
    sh -c "test -p '$w/fifo' && grep -q '^rank,op' '$tmp/fifo.got'"
rm -f "$w/fifo"

# ---- replaced files keep what they were -----------------------------------------------------
chmod 600 "$w/old.csv"
accept "--timeline over a 0600 file" "./old.csv" run in.xml --timeline old.csv
check "the replaced file keeps mode 0600" test "$(stat -c %a "$w/old.csv")" = 600
check "the replaced file holds the timeline" grep -q '^rank,op' "$w/old.csv"
if [ "$(id -u)" -eq 0 ]; then
    chown 65534:65534 "$w/old.json"
    accept "--trace over a file owned by another user (as root)" "./old.json" run in.xml --trace old.json
    check "the replaced file keeps its owner" test "$(stat -c %u:%g "$w/old.json")" = 65534:65534
else
    skip "--trace over a file owned by another user" "not root"
fi
mkdir "$w/real"
printf 'old\n' >"$w/real/t.csv"
ln -s real/t.csv "$w/link.csv"
accept "--timeline through a symlink" "./real/t.csv" run in.xml --timeline link.csv
check "the symlink is still a symlink, its target holds the timeline" \
    sh -c "test -L '$w/link.csv' && grep -q '^rank,op' '$w/real/t.csv'"
ln -s real/new.csv "$w/dangling.csv"
accept "--timeline through a dangling symlink" "./real/new.csv" run in.xml --timeline dangling.csv
check "the dangling symlink now names the new timeline" \
    sh -c "test -L '$w/dangling.csv' && grep -q '^rank,op' '$w/real/new.csv'"
long=$(printf '%0250d' 0 | tr 0 a).csv
accept "--timeline with a 254-byte name (the temp name is shortened)" "./$long" \
    run in.xml --timeline "$long"
check "the long-named file holds the timeline" grep -q '^rank,op' "$w/$long"
rm -f "$w/$long"
# A name that is not UTF-8 and holds a control byte is written as given, and only that file
# (the cli fuzzer's find of session 55 was its own harness not knowing --report as an output).
odd=$(printf 'r\356\377\0012,4.html')
accept "--report with a non-UTF-8 name holding a control byte" "./$odd" run in.xml --report "$odd"
check "the oddly named report is the HTML page" grep -q '<html' "$w/$odd"
rm -f "$w/$odd"

# ---- permissions: as a user the files belong to ----------------------------------------------
# As root, permission checks do not apply: run these as nobody when setpriv can.
AS=""
if [ "$(id -u)" -eq 0 ]; then
    if command -v setpriv >/dev/null 2>&1 && chmod 755 "$tmp" &&
        setpriv --reuid=65534 --regid=65534 --clear-groups -- "$S" --version >/dev/null 2>&1; then
        AS="setpriv --reuid=65534 --regid=65534 --clear-groups --"
    else
        AS="skip"
    fi
fi
if [ "$AS" = skip ]; then
    skip "permission cases" "root without setpriv to run as nobody"
else
    mkdir -p "$w/ro" "$w/rw"
    printf 'old\n' >"$w/ro/t.csv"
    printf 'old\n' >"$w/rw/locked.csv"
    chmod 444 "$w/rw/locked.csv"
    [ -n "$AS" ] && chown -R 65534:65534 "$w"
    chmod 555 "$w/ro"
    # refuse/accept run stepsim through $T: put the user switch there for these cases
    T0=$T
    T="$T $AS"
    refuse "--timeline in a folder without write permission" 1 "--timeline: cannot create: Permission denied" \
        run in.xml --timeline ro/new.csv
    refuse "--timeline over a read-only file" 1 "--timeline: cannot write: Permission denied" \
        run in.xml --timeline rw/locked.csv
    ino=$(stat -c %i "$w/ro/t.csv")
    accept "--timeline over a writable file in a read-only folder (rewritten in place)" "./ro/t.csv" \
        run in.xml --timeline ro/t.csv
    check "the file in the read-only folder holds the timeline, same inode" \
        sh -c "grep -q '^rank,op' '$w/ro/t.csv' && test $ino = \$(stat -c %i '$w/ro/t.csv')"
    T=$T0
    chmod 755 "$w/ro"
fi

# ---- the command line's own findings -----------------------------------------------------------
new_world
refuse "a --vary range past INT_MAX (once a signed overflow)" 2 "numbers above 2147483647 are not scenario values" \
    sweep in.xml --vary seed=1:999999999999999999:x999999999999999999
mkfifo "$w/in.fifo"
refuse "validate a FIFO nobody writes: no hang" 2 "a pipe: validate reads a file twice" \
    validate in.fifo
refuse "run a FIFO nobody writes: no hang" 2 "file is empty (a FIFO or pipe" run in.fifo
rm -f "$w/in.fifo"
refuse "validate a character device" 2 "cannot read: a character device, not a regular file" \
    validate /dev/zero
refuse "run /dev/null as a scenario" 2 "a character device" run /dev/null
(cd "$w" && cat in.xml | TMPDIR="$w/tmp" $T "$S" run /dev/stdin --timeline t.csv) >/dev/null 2>&1
check "a scenario through a pipe (stdin) still runs" test -s "$w/t.csv"
rm -f "$w/t.csv"

# Invalid UTF-8 in a name never reaches an output: JSON report, trace, sweep CSV.
bad_name=$(printf 'name=a\377b\342\202')
utf8_ok() { iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1 && grep -q "$(printf '\357\277\275')" "$1"; }
if printf 'x' | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1; then
    wrun run in.xml --set "$bad_name" --format json --trace t.json
    check "invalid UTF-8 in --set name: the JSON report is valid UTF-8 with U+FFFD" utf8_ok "$tmp/out"
    check "invalid UTF-8 in --set name: the trace is valid UTF-8 with U+FFFD" utf8_ok "$w/t.json"
    wrun sweep in.xml --vary "$(printf 'name=a\377,b\300\257')"
    check "invalid UTF-8 in a --vary value: the sweep CSV is valid UTF-8 with U+FFFD" utf8_ok "$tmp/out"
else
    skip "invalid UTF-8 never reaches an output" "iconv missing"
fi

# Seed 0 is not GSL's default seed 4357.
wrun run in.xml --set jitter=0.1 --seed 0 --timeline s0.csv
wrun run in.xml --set jitter=0.1 --seed 4357 --timeline s4357.csv
check "seeds 0 and 4357 give different jittered steps" sh -c "! cmp -s '$w/s0.csv' '$w/s4357.csv'"

echo "# $((n - failed - skipped)) passed, $failed failed, $skipped skipped"
echo "1..$n"
[ "$failed" -eq 0 ]
