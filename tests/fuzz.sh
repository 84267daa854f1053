#!/bin/sh
# fuzz.sh -- `make fuzz`: build a libFuzzer target per XML loader (scenario, model, hardware)
# with AddressSanitizer + UBSan and run each for FUZZ_SECONDS (default 60; FUZZ_KINDS picks a
# subset, e.g. FUZZ_KINDS="model hardware"), seeded from the
# shipped files and the bad-input corpus, with a dictionary of the schemas' element and
# attribute names, the unit suffixes and XML's markup.  Findings land in fuzz-out/<kind>/
# (crash-*, leak-*, timeout-*); every one becomes a regression file under tests/bad/.  The
# corpus a run grows stays in fuzz-out/<kind>/corpus and seeds the next run.  Needs clang with
# libFuzzer (Debian: clang, libclang-rt-14-dev).
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
seconds=${FUZZ_SECONDS:-60}
CC=${FUZZ_CC:-clang}
out="$top_builddir/fuzz-out"
mkdir -p "$out"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c11 \
-D_POSIX_C_SOURCE=200809L -I$top_srcdir/sim -I$top_builddir -I$top_builddir/sim \
$(pkg-config --cflags gsl libxml-2.0)"
libs="$(pkg-config --libs gsl libxml-2.0) -lm -lpthread"
srcs=""
for f in "$top_srcdir"/sim/*.c; do
    case $f in */main.c | */embedded.c) continue ;; esac
    srcs="$srcs $f"
done
srcs="$srcs $top_builddir/sim/embedded.c"
# The dictionary: every element and attribute name the schemas know, each unit suffix the unit
# parser takes, schedule and choice words, and the markup hostile files are made of.
dict="$out/xml.dict"
{
    grep -ohE 'name="[a-z0-9-]+"' "$top_srcdir"/scenarios/scenario.xsd \
        "$top_srcdir"/models/model.xsd "$top_srcdir"/hardware/hardware.xsd |
        sed -E 's/name="([^"]+)"/\1/' | sort -u | while read -r w; do
        printf '"%s"\n"<%s"\n"%s=\\""\n' "$w" "$w" "$w"
    done
    for w in s ms us ns ps B KB MB GB TB KiB MiB GiB TiB Bps KBps MBps GBps TBps GiBps bps Gbps \
        Tbps FLOPS TFLOPS PFLOPS FLOP/s TFLOP/s TFLOP PFLOP % e+ e- 1e308 -1 0 0x nan inf \
        true false gpipe 1f1b interleaved zb-h1 zb-v fp32 tf32 bf16 fp16 fp8 none selective \
        full flash unfused ring tree fat-tree rail-optimized '<?xml' '?>' '/>' '</' '<!--' \
        '-->' '<![CDATA[' ']]>' '<!DOCTYPE' '<!ENTITY' '&amp;' '&#x' 'encoding="' \
        'xmlns:xi="http://www.w3.org/2001/XInclude"' '../' '../../' '/dev/' ; do
        printf '"%s"\n' "$(printf '%s' "$w" | sed 's/\\/\\\\/g; s/"/\\"/g')"
    done
} >"$dict"
case $top_srcdir in
/*) top_abs=$top_srcdir ;;
*) top_abs=$(cd "$top_srcdir" && pwd) ;;
esac
# coverage KIND K: replay KIND's corpus once through a build instrumented for source coverage
# and print the line and branch coverage of stepsim's own sources (FUZZ_COVERAGE=1).
coverage() {
    cbin="$out/cov-$1"
    # shellcheck disable=SC2086
    $CC $(echo "$flags" | sed 's/-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined/-fsanitize=fuzzer/') \
        -fprofile-instr-generate -fcoverage-mapping -DFUZZ_KIND="$2" -o "$cbin" \
        "$top_srcdir/tests/fuzz_loader.c" $srcs $libs || return 1
    cwork="$out/$1/work"
    rm -rf "$cwork" && mkdir -p "$cwork"
    case $cwork in /*) ;; *) cwork="$(pwd)/$cwork" ;; esac
    LLVM_PROFILE_FILE="$out/$1/cov.profraw" FUZZ_TOP=$top_abs FUZZ_WORK=$cwork \
        "$cbin" -runs=0 "$out/$1/corpus" >"$out/$1/cov-log.txt" 2>&1
    rm -rf "$cwork"
    llvm-profdata merge -sparse "$out/$1/cov.profraw" -o "$out/$1/cov.profdata" || return 1
    # the loader's own files; for scenarios, everything `stepsim run` goes through up to the
    # report (not the CLI, the output writers, sweeps or the planner)
    case $1 in
    scenario)
        files=""
        for f in $srcs; do
            case $f in
            */cli.c | */cliutil.c | */sweep.c | */plan.c | */plot.c | */gantt.c | */trace.c | \
                */timeline.c | */memtimeline.c | */outfile.c | */embedded.c | */parallel.c) ;;
            */sim/*) files="$files $f" ;;
            esac
        done ;;
    *) files="$top_srcdir/sim/xmlload.c $top_srcdir/sim/units.c $top_srcdir/sim/$1.c" ;;
    esac
    echo "-- $1: source coverage by the corpus ($(find "$out/$1/corpus" -type f | wc -l) files)"
    # shellcheck disable=SC2086
    llvm-cov report "$cbin" -instr-profile="$out/$1/cov.profdata" $files |
        awk 'NR > 1 && !/^-/ && ($1 == "TOTAL" || $1 ~ /^(xmlload|units|scenario|model|hardware|costmodel|pipeline|step)\.c$/) {
            printf "%-14s lines %7s of %5s   branches %7s of %5s\n", $1, $(NF-3), $(NF-5), $NF, $(NF-2) }'
}

status=0
for kind in ${FUZZ_KINDS:-scenario model hardware}; do
    case $kind in
    scenario) k=1 ;;
    model) k=2 ;;
    hardware) k=3 ;;
    *) echo "fuzz: unknown kind '$kind' in FUZZ_KINDS (scenario, model, hardware)" >&2; exit 1 ;;
    esac
    bin="$out/fuzz-$kind"
    # shellcheck disable=SC2086
    if ! $CC $flags -DFUZZ_KIND=$k -o "$bin" "$top_srcdir/tests/fuzz_loader.c" $srcs $libs; then
        echo "fuzz: cannot build the $kind target (clang with libFuzzer needed)" >&2
        exit 1
    fi
    corpus="$out/$kind/corpus"
    mkdir -p "$corpus" "$out/$kind/findings"
    case $kind in
    scenario)
        cp "$top_srcdir"/scenarios/*.xml "$top_srcdir"/scenarios/validation/*.xml \
            "$top_srcdir"/tests/bad/*.xml "$corpus"/ 2>/dev/null
        # variants with bases that resolve in the harness's tree (see fuzz_loader.c)
        printf '<?xml version="1.0"?>\n<scenario base="scenarios/llama3.1-70b-h100.xml">\n%s\n%s\n' \
            '  <pipeline pp="8" schedule="zb-v"/>' '</scenario>' >"$corpus/seed-variant.xml"
        printf '<?xml version="1.0"?>\n<scenario base="bases/good.xml">\n%s\n%s\n' \
            '  <pipeline schedule="interleaved" vp="2"/><batch microbatches="8"/>' \
            '</scenario>' >"$corpus/seed-chain.xml" ;;
    model) cp "$top_srcdir"/models/*.xml "$top_srcdir"/tests/bad/models/*.xml "$corpus"/ 2>/dev/null ;;
    hardware) cp "$top_srcdir"/hardware/*.xml "$top_srcdir"/tests/bad/hardware/*.xml "$corpus"/ 2>/dev/null ;;
    esac
    echo "== fuzzing the $kind loader for $seconds s"
    work="$out/$kind/work"
    rm -rf "$work" && mkdir -p "$work"
    case $work in /*) ;; *) work="$(pwd)/$work" ;; esac
    FUZZ_TOP=$top_abs FUZZ_WORK=$work "$bin" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
        -rss_limit_mb=2048 -dict="$dict" -artifact_prefix="$out/$kind/findings/" -print_final_stats=1 "$corpus" \
        >"$out/$kind/log.txt" 2>&1
    rc=$?
    rm -rf "$work"
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$out/$kind/log.txt"
    grep -E '^#[0-9]+ *DONE' "$out/$kind/log.txt" | tail -1
    n=$(find "$out/$kind/findings" -type f | wc -l)
    echo "$kind: exit $rc, $n finding(s)"
    [ -n "${FUZZ_COVERAGE-}" ] && coverage "$kind" "$k"
    [ "$rc" -eq 0 ] && [ "$n" -eq 0 ] || status=1
done
exit $status
