#!/bin/sh
# fuzz.sh -- `make fuzz`: build a libFuzzer target per XML loader (scenario, model, hardware)
# and one for the command line (cli: run / sweep / plan argument vectors, tests/fuzz_cli.c),
# one for `import megatron`'s launch-line parser (import, tests/fuzz_import.c),
# with AddressSanitizer + UBSan and run each for FUZZ_SECONDS (default 60; FUZZ_KINDS picks a
# subset, e.g. FUZZ_KINDS="model hardware"; FUZZ_JOBS=1 and nice 10 keep it to one core), seeded
# from the shipped files and the bad-input corpus (cli: a few argument vectors), with a
# dictionary of the schemas' element and attribute names, the unit suffixes and XML's markup
# (cli: options, keys and values; import: Megatron's flags).  Findings land in
# fuzz-out/<kind>/findings (crash-*, leak-*, timeout-*); every one becomes a regression test.
# The corpus a run grows stays in fuzz-out/<kind>/corpus and seeds the next run.  Needs clang
# with libFuzzer (Debian: clang, libclang-rt-14-dev).
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
seconds=${FUZZ_SECONDS:-60}
CC=${FUZZ_CC:-clang}
out="$top_builddir/fuzz-out"
mkdir -p "$out"
out=$(cd "$out" && pwd) # absolute: the fuzzer runs inside its kind's folder (-jobs logs)
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
        true false gpipe 1f1b interleaved zb-h1 zb-v fp32 tf32 bf16 fp16 fp8 nvfp4 none selective \
        full flash unfused ring tree fat-tree rail-optimized '<?xml' '?>' '/>' '</' '<!--' \
        '-->' '<![CDATA[' ']]>' '<!DOCTYPE' '<!ENTITY' '&amp;' '&#x' 'encoding="' \
        'xmlns:xi="http://www.w3.org/2001/XInclude"' '../' '../../' '/dev/' ; do
        printf '"%s"\n' "$(printf '%s' "$w" | sed 's/\\/\\\\/g; s/"/\\"/g')"
    done
} >"$dict"
# The command line's dictionary: options, scenario keys (from the key table), values.
cdict="$out/cli.dict"
{
    for w in --timeline --trace --plot --memory-timeline --out --set --vary --seed --tokens \
        --format json text --gpus --top -j --jobs --exhaustive --help .csv .json .png .svg \
        /dev/null ../ = , : x2 +1 x1000 +0 1e9 0 -1 2147483647 2147483648 \
        999999999999999999 1f1b gpipe interleaved zb-h1 zb-v dualpipe dualpipe-v ms us GBps \
        Gbps MiB % true false none selective full flash unfused unit.xml modelled.xml moe.xml \
        variant.xml m/llama3.1-8b.xml m/mixtral-8x7b.xml m/dgx-h100.xml; do
        printf '"%s"\n' "$w"
    done
    sed -n 's/^ *\[SCN_[A-Z_]*\] = {"\([a-z-]*\)".*/\1/p' "$top_srcdir/sim/scenario.c" |
        while read -r k; do printf '"%s="\n' "$k"; done
} >"$cdict"
# The import target's dictionary: the flags of import.c's table, and the words around them.
idict="$out/import.dict"
{
    sed -n 's/^ *{"\([a-z0-9-]*\)", FK_.*/\1/p' "$top_srcdir/sim/import.c" |
        while read -r f; do printf '"--%s"\n' "$f"; done
    for w in torchrun python '\\' = '"' "'" '[' ']' , . model. train. true false flex deepep \
        hybridep alltoall muon dist_muon adam soap hybrid e2m1 selective full uniform block; do
        printf '"%s"\n' "$w"
    done
} >"$idict"
# The cli target's gnuplot is a stub that exits 0: --plot then runs the whole output path
# without spending a process start and a render on every input.
mkdir -p "$out/cfg"
sed 's|^#define GNUPLOT_PATH .*|#define GNUPLOT_PATH "/bin/true"|' "$top_builddir/config.h" \
    >"$out/cfg/config.h"
case $top_srcdir in
/*) top_abs=$top_srcdir ;;
*) top_abs=$(cd "$top_srcdir" && pwd) ;;
esac
# coverage KIND K: replay KIND's corpus once through a build instrumented for source coverage
# and print the line and branch coverage of stepsim's own sources (FUZZ_COVERAGE=1); the
# target and its flags are the loop's.
coverage() {
    cbin="$out/cov-$1"
    # shellcheck disable=SC2086
    $CC $kflags $(echo "$flags" | sed 's/-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined/-fsanitize=fuzzer/') \
        -fprofile-instr-generate -fcoverage-mapping -DFUZZ_KIND="$2" -o "$cbin" \
        "$target" $srcs $libs || return 1
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
    cli) # the command front-ends and everything that writes an output
        files=""
        for f in cli cliutil sweep plan outfile cleanup plot timeline trace memtimeline; do
            files="$files $top_srcdir/sim/$f.c"
        done ;;
    *) files="$top_srcdir/sim/xmlload.c $top_srcdir/sim/units.c $top_srcdir/sim/$1.c" ;;
    esac
    echo "-- $1: source coverage by the corpus ($(find "$out/$1/corpus" -type f | wc -l) files)"
    # shellcheck disable=SC2086
    llvm-cov report "$cbin" -instr-profile="$out/$1/cov.profdata" $files |
        awk 'NR > 1 && !/^-/ && ($1 == "TOTAL" || $1 ~ /^(xmlload|units|scenario|model|hardware|costmodel|pipeline|step|cli|cliutil|sweep|plan|outfile|cleanup|plot)\.c$/) {
            printf "%-14s lines %7s of %5s   branches %7s of %5s\n", $1, $(NF-3), $(NF-5), $NF, $(NF-2) }'
}

status=0
for kind in ${FUZZ_KINDS:-scenario model hardware cli import}; do
    target="$top_srcdir/tests/fuzz_loader.c" kflags="" kdict="$dict"
    case $kind in
    scenario) k=1 ;;
    model) k=2 ;;
    hardware) k=3 ;;
    cli) k=4 target="$top_srcdir/tests/fuzz_cli.c" kflags="-I$out/cfg" kdict="$cdict" ;;
    import) k=5 target="$top_srcdir/tests/fuzz_import.c" kdict="$idict" ;;
    *) echo "fuzz: unknown kind '$kind' in FUZZ_KINDS (scenario, model, hardware, cli, import)" >&2
       exit 1 ;;
    esac
    bin="$out/fuzz-$kind"
    # shellcheck disable=SC2086
    if ! $CC $kflags $flags -DFUZZ_KIND=$k -o "$bin" "$target" $srcs $libs; then
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
    import) # launch lines as users paste them (fuzz_import.c)
        printf '%s' "torchrun --nnodes 2 --nproc-per-node 8 pretrain_gpt.py \\
  --tensor-model-parallel-size 2 --pipeline-model-parallel-size=4 --bf16 \\
  --recompute-modules core_attn mlp --optimizer dist_muon --muon-num-ns-steps 5" \
            >"$corpus/seed-torchrun"
        printf '%s' "\"model.recompute_modules=['moe_act', 'layernorm']\" \
model.tensor_model_parallel_size=8 --moe-token-dispatcher-type flex --fp8-format hybrid \
--num-layers 32 --num-layers-per-virtual-pipeline-stage 2 --hybrid-override-pattern M*-E" \
            >"$corpus/seed-hydra" ;;
    cli) # byte 1: run, sweep, plan; byte 2: the scenario (fuzz_cli.c); then arguments
        seed_cli() { printf "$2" >"$corpus/seed-$1"; }
        seed_cli run-outputs '\000\000--timeline\nt.csv\n--trace\nt.json\n--plot\ng.png\n--seed\n0'
        seed_cli run-modelled '\000\002--memory-timeline\nm.csv\n--tokens\n1e9\n--format\njson\n--plot\nm.svg'
        seed_cli run-input '\000\004--timeline\nunit.xml\n--trace=/dev/null'
        seed_cli run-name '\000\001--set\nname=\377\n--format\njson\n--set\njitter=5%%'
        seed_cli sweep '\001\000--vary\npp=1,2,4\n--vary\nmicrobatches=1:8:+1\n--out\ns.csv\n--plot\ns.png'
        seed_cli sweep-model '\001\002--vary\nmodel=m/llama3.1-8b.xml\n--out\nm/dgx-h100.xml'
        seed_cli sweep-range '\001\000--vary\nseed=1:999999999999999999:x999999999999999999'
        seed_cli sweep-moe '\001\003--vary\nep=1,2,4\n--set\nschedule=1f1b\n-j\n2\n--plot\nb.png'
        seed_cli plan '\002\002--gpus\n16\n--top\n3\n--out\np.csv'
        seed_cli plan-moe '\002\003--gpus\n8\n--exhaustive\n--set\nglobal-batch=8' ;;
    esac
    echo "== fuzzing the $kind target for $seconds s"
    work="$out/$kind/work"
    rm -rf "$work" && mkdir -p "$work"
    case $work in /*) ;; *) work="$(pwd)/$work" ;; esac
    # One process is one core (the cli harness also runs sweeps and plans with -j 1); with
    # FUZZ_JOBS libFuzzer runs that many jobs, logging to fuzz-N.log in its folder.
    jobs=""
    [ -n "${FUZZ_JOBS-}" ] && jobs="-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS"
    rm -f "$out/$kind"/fuzz-*.log "$work"/fuzz-*.log
    # shellcheck disable=SC2086
    (cd "$out/$kind" && FUZZ_TOP=$top_abs FUZZ_WORK=$work nice -n 10 "$bin" $jobs \
        -max_total_time="$seconds" -max_len=65536 -timeout="${FUZZ_TIMEOUT:-25}" \
        -rss_limit_mb=2048 -dict="$kdict" -artifact_prefix="$out/$kind/findings/" \
        -print_final_stats=1 "$corpus" </dev/null >"$out/$kind/log.txt" 2>&1)
    rc=$?
    # the jobs' logs: in the fuzzer's folder, or in the harness's when it changes folder (cli)
    cat "$out/$kind"/fuzz-*.log "$work"/fuzz-*.log >>"$out/$kind/log.txt" 2>/dev/null
    rm -rf "$work"
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$out/$kind/log.txt"
    grep -E '^#[0-9]+ *DONE' "$out/$kind/log.txt" | tail -1
    # crash-, leak-, timeout-, oom-: findings; slow-unit-: libFuzzer's note of an input over
    # 10 s (below -timeout), reported but not failing (a busy machine makes them)
    n=$(find "$out/$kind/findings" -type f ! -name 'slow-unit-*' | wc -l)
    slow=$(find "$out/$kind/findings" -type f -name 'slow-unit-*' | wc -l)
    echo "$kind: exit $rc, $n finding(s), $slow slow input(s) noted"
    [ -n "${FUZZ_COVERAGE-}" ] && coverage "$kind" "$k"
    [ "$rc" -eq 0 ] && [ "$n" -eq 0 ] || status=1
done
exit $status
