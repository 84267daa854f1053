#!/bin/sh
# run_cli_tests.sh: drive the stepsim command line on good and bad inputs; prints TAP.
#
# Run by automake from the build directory with top_srcdir and top_builddir set (see
# tests/local.mk); by hand: top_srcdir=/path/to/src top_builddir=/path/to/build sh THIS.
#
# Bad input must give exit status 2 and exactly one stderr line "stepsim: FILE:LINE: problem"
# (or "stepsim: FILE: problem" for file-level errors).  tests/bad/EXPECTED holds, per file of
# the bad corpus, the line and a fragment of the message, so a changed or wrong message fails.
set -u

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
BAD="$top_srcdir/tests/bad"
SCN="$top_srcdir/scenarios"
. "$top_srcdir/tests/tap_lib.sh"
tap_begin cli

# ---- the bad-input corpus: every file, both commands -------------------------------------
nbad=0
for f in "$BAD"/*.xml; do
    base=${f##*/}
    entry=$(awk -F '\t' -v f="$base" '$1 == f { print $2 "\t" $3; exit }' "$BAD/EXPECTED")
    if [ -z "$entry" ]; then
        n=$((n + 1))
        failed=$((failed + 1))
        echo "not ok $n - bad/$base: no entry in tests/bad/EXPECTED"
        continue
    fi
    nbad=$((nbad + 1))
    line=$(printf '%s\n' "$entry" | cut -f 1)
    frag=$(printf '%s\n' "$entry" | cut -f 2-)
    case $line in
    0) prefix="stepsim: $f: " ;;
    *:*) prefix="stepsim: $BAD/$line: " ;; # the fault is in a file this one names (a base)
    *) prefix="stepsim: $f:$line: " ;;
    esac
    for cmd in run validate; do
        run "$cmd" "$f"
        if [ -s "$tmp/out" ]; then
            fail "$cmd bad/$base" "unexpected stdout"
        else
            expect_error "$cmd bad/$base: exit 2, one line '$frag'" 2 "$prefix" "$frag"
        fi
    done
done
# Every EXPECTED entry names a file that exists (a renamed file must not silently drop out).
missing=$(awk -F '\t' '!/^#/ && NF { print $1 }' "$BAD/EXPECTED" | while read -r x; do
    [ -f "$BAD/$x" ] || echo "$x"
done)
if [ -z "$missing" ] && [ "$nbad" -ge 30 ]; then
    pass "tests/bad/EXPECTED covers $nbad files, all present"
else
    fail "tests/bad/EXPECTED lists missing files or corpus too small ($nbad)" "$missing"
fi

# ---- generated inputs at the caps (too big to ship as files) --------------------------------
# One element past the element cap, one byte past the file-size cap, and the same file read
# through a pipe (no size to stat: the cap must hold while reading).
awk 'BEGIN { print "<scenario>"; for (i = 0; i < 100000; i++) printf "<a/>"; print ""; print "</scenario>" }' \
    >"$tmp/elements.xml"
run validate "$tmp/elements.xml"
expect_error "100,001 elements: refused by the element cap" 2 "stepsim: $tmp/elements.xml:2: " \
    "more than 100000 elements"
awk 'BEGIN { printf "<scenario name=\""; for (i = 0; i < 4194304 / 64; i++) printf "%064d", 0; print "\"/>" }' \
    >"$tmp/big.xml"
for cmd in run validate; do
    run $cmd "$tmp/big.xml"
    expect_error "$cmd on a file over 4 MiB: refused by the size cap" 2 "stepsim: $tmp/big.xml: " \
        "larger than the 4194304-byte cap"
done
run validate /dev/stdin <"$tmp/big.xml"
expect_error "over 4 MiB through a pipe: refused while reading" 2 "stepsim: /dev/stdin: " \
    "larger than the 4194304-byte cap"

# ---- model and hardware files -----------------------------------------------------------------
# validate tells the kind by the root element.  Every shipped file is good, one at a time and
# all at once; tests/bad/models and tests/bad/hardware (outside the scenario loop above, each
# with its own EXPECTED in the same format) must each fail with their file:line.
ngood=0
for f in "$top_srcdir"/models/*.xml "$top_srcdir"/hardware/*.xml; do
    ngood=$((ngood + 1))
    run validate "$f"
    expect_ok "validate ${f#"$top_srcdir"/}"
done
run validate "$top_srcdir"/models/*.xml "$top_srcdir"/hardware/*.xml "$SCN/unit.xml"
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && [ "$(grep -c ': ok$' "$tmp/out")" -eq $((ngood + 1)) ]; then
    pass "validate $ngood model/hardware files and a scenario at once: one 'ok' each"
else
    fail "validate $ngood model/hardware files and a scenario at once: one 'ok' each" "exit status $rc"
fi
for kind in models hardware; do
    nk=0
    for f in "$BAD/$kind"/*.xml; do
        base=${f##*/}
        entry=$(awk -F '\t' -v f="$base" '$1 == f { print $2 "\t" $3; exit }' "$BAD/$kind/EXPECTED")
        if [ -z "$entry" ]; then
            n=$((n + 1))
            failed=$((failed + 1))
            echo "not ok $n - bad/$kind/$base: no entry in tests/bad/$kind/EXPECTED"
            continue
        fi
        nk=$((nk + 1))
        line=$(printf '%s\n' "$entry" | cut -f 1)
        frag=$(printf '%s\n' "$entry" | cut -f 2-)
        if [ "$line" -eq 0 ]; then
            prefix="stepsim: $f: "
        else
            prefix="stepsim: $f:$line: "
        fi
        run validate "$f"
        if [ -s "$tmp/out" ]; then
            fail "validate bad/$kind/$base" "unexpected stdout"
        else
            expect_error "validate bad/$kind/$base: exit 2, one line '$frag'" 2 "$prefix" "$frag"
        fi
    done
    missing=$(awk -F '\t' '!/^#/ && NF { print $1 }' "$BAD/$kind/EXPECTED" | while read -r x; do
        [ -f "$BAD/$kind/$x" ] || echo "$x"
    done)
    if [ -z "$missing" ] && [ "$nk" -ge 5 ]; then
        pass "tests/bad/$kind/EXPECTED covers $nk files, all present"
    else
        fail "tests/bad/$kind/EXPECTED lists missing files or corpus too small ($nk)" "$missing"
    fi
done
M1="$top_srcdir/models/llama2-7b.xml"
run run "$M1"
expect_error "run on a model file: exit 2" 2 "stepsim: $M1:9: " "root element is <model>, expected <scenario>"
run validate "$BAD/wrong-root.xml"
expect_error "validate names the three kinds" 2 "stepsim: $BAD/wrong-root.xml:2: " \
    "root element is <cluster>, expected <scenario>, <model> or <hardware>"

# A scenario that uses the cost model: validate loads the model and hardware it refers to and
# checks the layout against them, failing exactly where run would.  The files are copied
# beside scenarios written here (refs resolve against the scenario's directory and the schema
# caps a ref at 64 characters, too short for absolute paths).
mkdir "$tmp/ref"
cp "$top_srcdir/models/llama2-7b.xml" "$top_srcdir/hardware/dgx-h100.xml" \
    "$BAD/models/kv-heads-exceed-heads.xml" "$BAD/hardware/efficiency-above-one.xml" "$tmp/ref/"
# modelled NAME MODEL HARDWARE TP: write $tmp/NAME.xml
modelled() {
    cat >"$tmp/$1.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<scenario name="$1">
  <model ref="ref/$2"/>
  <hardware ref="ref/$3"/>
  <parallel tp="$4"/>
  <pipeline schedule="1f1b" pp="2"/>
  <batch micro-batch="1" global-batch="8" seq="2048"/>
</scenario>
EOF
}
AM=llama2-7b.xml
AH=dgx-h100.xml
BM=kv-heads-exceed-heads.xml
BH=efficiency-above-one.xml
modelled ref-good "$AM" "$AH" 8
modelled ref-bad-model "$BM" "$AH" 8
modelled ref-bad-hardware "$AM" "$BH" 8
modelled ref-missing-model no-such-model.xml "$AH" 8
modelled ref-model-is-hardware "$AH" "$AH" 8
modelled ref-tp-vs-heads "$AM" "$AH" 3
run validate "$tmp/ref-good.xml"
expect_ok "validate a modelled scenario (llama2-7b on dgx-h100)"
for cmd in run validate; do
    run "$cmd" "$tmp/ref-bad-model.xml"
    expect_error "$cmd scenario -> bad model: the model's file:line" 2 "stepsim: $tmp/ref/$BM:6: " \
        "kv-heads=64 exceeds heads=32"
    run "$cmd" "$tmp/ref-bad-hardware.xml"
    expect_error "$cmd scenario -> bad hardware: the hardware's file:line" 2 "stepsim: $tmp/ref/$BH:14: " \
        "network efficiency: '1.5' is out of range"
    run "$cmd" "$tmp/ref-missing-model.xml"
    expect_error "$cmd scenario -> missing model: the referring line" 2 "stepsim: $tmp/ref-missing-model.xml:3: " \
        "model file $tmp/ref/no-such-model.xml: cannot open"
    run "$cmd" "$tmp/ref-model-is-hardware.xml"
    expect_error "$cmd scenario -> hardware file as model" 2 "stepsim: $tmp/ref/$AH:20: " \
        "root element is <hardware>, expected <model>"
    run "$cmd" "$tmp/ref-tp-vs-heads.xml"
    expect_error "$cmd scenario: tp=3 against the model's heads" 2 \
        "stepsim: $tmp/ref-tp-vs-heads.xml:5: " "heads=32 of llama2-7b are not divisible by tp=3"
done

# ---- files that cannot be read ---------------------------------------------------------------
run run "$tmp/no-such-file.xml"
expect_error "run missing file: exit 2" 2 "stepsim: $tmp/no-such-file.xml: " "cannot open: No such file"
run validate "$tmp/no-such-file.xml"
expect_error "validate missing file: exit 2" 2 "stepsim: $tmp/no-such-file.xml: " "cannot open"
run run "$tmp"
expect_error "run on a directory: exit 2" 2 "stepsim: $tmp: " "cannot read"
run validate "$SCN/unit.xml" "$BAD/pp-zero.xml"
if [ "$rc" -eq 2 ] && grep -q "unit.xml: ok" "$tmp/out" && [ "$(err_lines)" -eq 1 ]; then
    pass "validate good + bad: exit 2, good reported ok, one error line"
else
    fail "validate good + bad: exit 2, good reported ok, one error line" "exit status $rc"
fi
# validate takes options as the other commands do: an option is not read as a file (run's
# --set had said "--set: cannot open", once per word), and --help after a file is the help
run validate --set pp=2 "$SCN/unit.xml"
expect_error "validate with an option it does not take: exit 2, one line" 2 \
    "stepsim: unknown option '--set'; a file of that name is ./--set" \
    "(see 'stepsim validate --help')"
run validate "$SCN/unit.xml" --help
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && grep -q '^usage: stepsim validate' "$tmp/out"; then
    pass "validate FILE --help: the help, exit 0"
else
    fail "validate FILE --help: the help, exit 0" "exit status $rc"
fi

# ---- command-line errors ----------------------------------------------------------------------
U="$SCN/unit.xml"
run run "$U" --set foo=1
expect_error "--set unknown key" 2 "stepsim: --set: " "unknown key 'foo'"
run run "$U" --set pp=0
expect_error "--set bad value" 2 "stepsim: --set pp=0: " "'0' is out of range [1, 65536]"
run run "$U" --set forward=1xs
expect_error "--set bad unit" 2 "stepsim: --set forward=1xs: " "unknown unit 'xs'"
run run "$U" --set split-backward=maybe
expect_error "--set bad bool" 2 "stepsim: --set split-backward=maybe: " "not a boolean"
run run "$U" --set pp
expect_error "--set without '='" 2 "stepsim: --set 'pp': " "expected KEY=VALUE"
run run "$U" --set =4
expect_error "--set without key" 2 "stepsim: --set '=4': " "expected KEY=VALUE"
run run "$U" --set
expect_error "--set without argument" 2 "stepsim: " "--set needs KEY=VALUE"
run run "$U" --set "name=a
b"
expect_error "--set value with a newline stays one line" 2 "stepsim: --set name=a?b: " "control character"
# the text report's scenario line says what the command line changed, as the chart title does
run run "$U" --set pp=2 --set "name=two stages"
if [ "$rc" -eq 0 ] && [ "$(sed -n 1p "$tmp/out")" = "scenario      two stages (--set pp=2 name=two stages)" ]
then
    pass "text report: the scenario line names the --set values"
else
    fail "text report: the scenario line names the --set values" "$(sed -n 1p "$tmp/out")"
fi
run run "$U"
check "text report: no --set, the name alone" [ "$(sed -n 1p "$tmp/out")" = "scenario      unit" ]
run run "$U" --set pp=8 --set layers=4
expect_error "--set values breaking a rule together: both named" 2 "stepsim: pp=8 exceeds layers=4" \
    "(pp, layers given by --set)"
run run "$U" --set pp=16
expect_error "--set breaking a rule with the file's value names the override" 2 \
    "stepsim: pp=16 exceeds layers=8" "(pp given by --set)"
run run "$U" --set layers=6
expect_error "--set layers not divisible" 2 "stepsim: layers=6 is not divisible by pp*vp=4" "(layers given by --set)"
# ... and names a split of the ends that works (stagesplit.h's), which the next run takes
expect_error "--set layers not divisible: the message names ends that split it" 2 \
    "stepsim: layers=6 is not divisible by pp*vp=4" \
    "e.g. first-stage-layers=1 last-stage-layers=1: 1, 2 x 2, 1;"
run run "$U" --set layers=6 --set first-stage-layers=1 --set last-stage-layers=1
check "the ends the message named run: 1, 2 x 2, 1" \
    grep -q "^stages *layers per virtual stage: 1, 2 x 2, 1 " "$tmp/out"
run run "$U" --set schedule=interleaved
if [ "$rc" -eq 0 ] && grep -q "^schedule *interleaved  pp=4 vp=2 " "$tmp/out" &&
    grep -q "^derived *vp " "$tmp/out"; then
    pass "--set schedule=interleaved over vp=1 from the file: vp follows the schedule (2, derived)"
else
    fail "--set schedule=interleaved over vp=1 from the file: vp follows the schedule (2, derived)" \
        "exit status $rc"
fi
run run "$U" --set schedule=interleaved --set vp=1
expect_error "--set schedule=interleaved with --set vp=1: both given, the rule names both" 2 \
    "stepsim: schedule=interleaved needs vp >= 2" "(vp, schedule given by --set)"
run run "$U" --set "pipeline-layout=Et|tt|tt|ttL" --set schedule=gpipe
expect_error "--set pipeline-layout with a schedule that places stages otherwise: exit 2" 2 \
    "stepsim: pipeline-layout numbers stages as Megatron-Core's 1f1b and interleaved schedules do, not gpipe" \
    "(pipeline-layout, schedule given by --set)"
# A pipeline-layout given by --set that cuts a DSA top-k group: the error blames the string,
# not the file's pp (it had cited the scenario's pp line).
run run "$SCN/glm-5.2-744b-h100.xml" --set "pipeline-layout=Ettttt|ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttmL" \
    --set vp=1 --set schedule=1f1b --set pp=2 --set gpus=64
expect_error "--set pipeline-layout cutting a DSA top-k group: the layout named and blamed" 2 \
    "stepsim: pipeline chunk 1 starts on layer 5 (as pipeline-layout sets it), which reuses" \
    "(pipeline-layout given by --set)"
run run "$U" --set "pipeline-layout=Ett|tt|tt|ttL" --set schedule=1f1b
if [ "$rc" -eq 0 ] && grep -q "layers per virtual stage" "$tmp/out"; then
    pass "--set pipeline-layout under 1f1b: runs, the stages listed"
else
    fail "--set pipeline-layout under 1f1b: runs, the stages listed" "exit status $rc"
fi
run run "$U" --set vp=2 --set layers=16
if [ "$rc" -eq 0 ] && grep -q "^schedule *interleaved  pp=4 vp=2 " "$tmp/out" &&
    grep -q "^derived *schedule " "$tmp/out"; then
    pass "--set vp=2 over schedule=1f1b from the file: the schedule follows (interleaved, derived)"
else
    fail "--set vp=2 over schedule=1f1b from the file: the schedule follows (interleaved, derived)" \
        "exit status $rc"
fi
run run "$U" --set framework=deepspeed --set vp=2 --set layers=16
expect_error "vp=2 under DeepSpeed (1F1B only): the schedule cannot follow, the rule names vp" 2 \
    "stepsim: schedule=1f1b holds one model chunk per rank but vp=2" "(vp given by --set)"
# The gpus rule ties gpus to pp, tp, cp, ep and etp: the value set last is blamed, not the
# scenario's gpus= line.
L70="$SCN/llama3.1-70b-h100.xml"
run run "$L70" --set pp=3
expect_error "--set pp=3 against the file's gpus=512 blames the --set" 2 \
    "stepsim: gpus=512 is not a multiple of pp*max(tp*cp, ep*etp) = 3*max(8*1, 1*1)" "(pp given by --set)"
run run "$L70" --set gpus=100
expect_error "--set gpus=100 against the file's pp blames gpus" 2 "stepsim: gpus=100 " "(gpus given by --set)"
run run "$L70" --set hw.power-cap=300W
expect_error "--set hw.power-cap outside the file's two ratings" 2 \
    "stepsim: --set hw.power-cap=300W: " "'300W' is outside the rated range, 400 W to 700 W"
# Held to 550 W, half way between H100 SXM's 700 W rating and NVL's 400 W, every peak runs at
# (1 + 0.844) / 2 of SXM's: the layout line names the cap, and the compute-bound step is slower.
full=$("$S" run "$L70" | sed -n 's/^step time *\([0-9.]*\) s$/\1/p')
"$S" run "$L70" --set hw.power-cap=550W >"$tmp/out" 2>&1
capped=$(sed -n 's/^step time *\([0-9.]*\) s$/\1/p' "$tmp/out")
if grep -q '^layout  *llama3.1-70b on dgx-h100 at 550 W: 512 GPUs' "$tmp/out" &&
    awk -v a="$full" -v b="$capped" 'BEGIN { exit !(b > a * 1.03 && b < a / 0.922) }'; then
    pass "--set hw.power-cap=550W: named in the layout line, the step slower but under 1/0.922x"
else
    fail "--set hw.power-cap=550W: named in the layout line, the step slower but under 1/0.922x" \
        "step $full -> $capped"
fi
run run "$SCN/gpt3-175b-a100.xml" --set hw.power-cap=300W
expect_error "--set hw.power-cap on a file without power ratings" 2 \
    "stepsim: --set hw.power-cap=300W: " "the hardware file gives no power ratings"
# the flex dispatcher's backend must run on the hardware: GB200 runs HybridEP, not DeepEP
# (Megatron-Bridge falls back); AMD's GPUs run neither
run run "$SCN/mixtral-8x7b-h100.xml" --set hardware=gb200-nvl72 --set moe-dispatcher=deepep
expect_error "deepep on GB200: refused" 2 "stepsim: " \
    "moe-dispatcher=deepep: DeepEP does not run on GB200 Blackwell 186GB (its file's node flex-dispatchers gives hybridep)"
run run "$SCN/mixtral-8x7b-h100.xml" --set hardware=gb200-nvl72 --set moe-dispatcher=hybridep
expect_ok "hybridep on GB200 runs"
check "hybridep's buffer is named as HybridEP's, priced at DeepEP's size" \
    grep -q "NCCL 0.6 x 5 communicators, HybridEP (DeepEP's size) 0.20, TP-overlap" "$tmp/out"
run run "$SCN/mixtral-8x7b-h100.xml" --set moe-dispatcher=deepep
check "deepep's buffer is named DeepEP's" \
    grep -q "NCCL 0.6 x 5 communicators, DeepEP 0.20, TP-overlap" "$tmp/out"
# an fp8 dispatch (DeepSeek-V3's low-precision communication): the layout line says so, the
# measured DeepEP kernels' round trip drops from 0.219 ms (bf16 both ways, at 329 / 287 GB/s)
# to 0.170 (the dispatch at (1 + 4/128) / 2 of the bytes), and DeepEP's buffer, sized for the
# bf16 combine, stays
run run "$SCN/mixtral-8x7b-h100.xml" --set moe-dispatcher=deepep --set moe-dispatch-dtype=fp8
check "moe-dispatch-dtype=fp8: named in the layout line" \
    grep -q "zero 1, fp8 dispatch; 32 x 1 samples" "$tmp/out"
check "moe-dispatch-dtype=fp8: the MoE layer's EP round trip 0.219 -> 0.170 ms" \
    grep -Eq "^MoE, layer 0 +F( +[0-9.]+){5} +0\.170$" "$tmp/out"
check "moe-dispatch-dtype=fp8: DeepEP's buffer unchanged" \
    grep -q "NCCL 0.6 x 5 communicators, DeepEP 0.20, TP-overlap" "$tmp/out"
run run "$SCN/mixtral-8x7b-h100.xml" --set moe-dispatch-dtype=fp8
expect_error "moe-dispatch-dtype=fp8 with the alltoall dispatcher: refused" 2 "stepsim: " \
    "moe-dispatch-dtype=fp8 needs moe-dispatcher=deepep or hybridep: Megatron-Core quantizes the dispatch only in its flex dispatcher (moe-dispatch-dtype given by --set)"
run keys moe-dispatch-dtype
check "keys moe-dispatch-dtype: bytes, the exchanges it covers and deepseek's default" \
    sh -c 'tr -s " \n" " " < "$1" | grep -q "fp8: 1 byte an element and an fp32 scale per 128 .* the combines stay 16-bit; unset, framework=deepseek with dtype=fp8 means fp8"' _ "$tmp/out"
# an older torchtitan run on Hopper takes fa2 by hand: the key's help says so
run keys attention-kernel
check "keys attention-kernel: torchtitan ran fa2 on Hopper before October 2025, not implied" \
    sh -c 'tr -s " \n" " " < "$1" | grep -q "what torchtitan ran on Hopper before"' _ "$tmp/out"
run run "$SCN/mixtral-8x7b-h100.xml" --set hardware=amd-mi300x --set moe-dispatcher=hybridep
expect_error "hybridep on an AMD GPU: refused" 2 "stepsim: " "gives none: alltoall or allgather"
run run "$SCN/mixtral-8x7b-h100.xml" --set ep=3
expect_error "--set ep=3 on Mixtral: the experts rule or the gpus rule, blamed on ep" 2 "stepsim: " "(ep given by --set)"
run run "$U" --seed x
expect_error "--seed bad value" 2 "stepsim: " "'x' is not a whole number"
# the JSON report holds what reproduces a jittered run
run run "$U" --set jitter=5% --seed 7 --format json
if [ "$rc" -eq 0 ] && grep -Fqx '  "jitter": 0.05, "seed": 7,' "$tmp/out"; then
    pass "run --format json: jitter and seed"
else
    fail "run --format json: jitter and seed" "exit $rc: $(grep -F jitter "$tmp/out")"
fi
run run "$U" --bogus
expect_error "unknown option" 2 "stepsim: " "unknown option '--bogus'"
run frobnicate
expect_error "unknown command" 2 "stepsim: " "unknown command 'frobnicate'"
run run "$U" --format xml
expect_error "--format bad" 2 "stepsim: " "--format 'xml': expected text or json"
run run
expect_error "run without a scenario" 2 "stepsim: " "run needs a scenario file"
run run "$U" "$U"
expect_error "run with two scenarios" 2 "stepsim: " "unexpected argument"
run validate
expect_error "validate without files" 2 "stepsim: " "validate needs at least one file"
run run "$U" --timeline
expect_error "--timeline without a file" 2 "stepsim: " "--timeline needs a file name"
# An option that takes one value given twice is exit 2 naming both values, in every command:
# the later had silently won (--plot a.png --plot a.svg drew only a.svg).  So is a --set key
# given twice (--seed N is --set seed=N, plan's --hbm-reserve --set hw.hbm-reserve).
# twice DESC LINE ARGS...: exit 2 with exactly the one stderr line LINE, nothing written.
mkdir "$tmp/twice"
twice() {
    desc=$1 line=$2
    shift 2
    rm -f "$tmp/twice"/*
    run "$@"
    expect_error "$desc" 2 "$line" ""
    [ -z "$(ls "$tmp/twice")" ] || fail "$desc: wrote $(ls "$tmp/twice")"
}
tw=$tmp/twice
twice "run --plot twice" "stepsim: --plot given twice ($tw/a.png, then $tw/a.svg); give each \
option once (see 'stepsim --help')" run "$U" --plot "$tw/a.png" --plot "$tw/a.svg"
twice "run --timeline twice, once with '='" "stepsim: --timeline given twice ($tw/a.csv, then \
$tw/b.csv); give each option once (see 'stepsim --help')" run "$U" --timeline="$tw/a.csv" \
    --trace "$tw/t.json" --timeline "$tw/b.csv"
twice "run --format twice" "stepsim: --format given twice (json, then text); give each option \
once (see 'stepsim --help')" run "$U" --format json --format text
twice "run --plot-size twice" "stepsim: --plot-size given twice (1600x900, then 800x600); give \
each option once (see 'stepsim run --help')" run "$U" --plot "$tw/g.png" --plot-size 1600x900 \
    --plot-size 800x600
twice "run --set of one key twice" "stepsim: pp given twice (--set pp=2, then --set pp=4); give \
each key once (see 'stepsim --help')" run "$U" --set pp=2 --set microbatches=4 --set pp=4
twice "run --set of one key twice, the same value" "stepsim: pp given twice (--set pp=4, then \
--set pp=4); give each key once (see 'stepsim --help')" run "$U" --set pp=4 --set pp=4
twice "run --seed twice" "stepsim: --seed given twice (3, then 4); give each option once (see \
'stepsim --help')" run "$U" --seed 3 --seed 4
twice "run --seed and --set seed (--seed N is --set seed=N)" "stepsim: seed given twice (--seed \
3, then --set seed=4); give each key once (see 'stepsim --help')" run "$U" --seed 3 --set seed=4
twice "sweep -j and --jobs" "stepsim: --jobs given twice (-j 2, then --jobs 4); give each option \
once (see 'stepsim sweep --help')" sweep "$U" --vary pp=1,2 -j 2 --jobs 4
twice "sweep --out twice" "stepsim: --out given twice ($tw/a.csv, then $tw/b.csv); give each \
option once (see 'stepsim sweep --help')" sweep "$U" --vary pp=1,2 --out "$tw/a.csv" \
    --out "$tw/b.csv"
twice "sweep --set of one key twice" "stepsim: microbatches given twice (--set microbatches=4, \
then --set microbatches=8); give each key once (see 'stepsim sweep --help')" sweep "$U" \
    --set microbatches=4 --vary pp=1,2 --set microbatches=8
# KEY=VALUE spaced apart: the key alone, then its value read as a second scenario, had said
# "unexpected argument '1,2' (one scenario per sweep)", naming nothing that was wrong.
run sweep "$U" --vary pp 1,2,4
expect_error "sweep --vary KEY LIST, spaced: says KEY=LIST is one word" 2 \
    "stepsim: --vary pp 1,2,4: a key and its value are one word, --vary pp=1,2,4 (see" ""
run sweep --vary pp= 1,2 "$U"
expect_error "sweep --vary KEY= LIST before the scenario: the same" 2 \
    "stepsim: --vary pp= 1,2: a key and its value are one word, --vary pp=1,2 (see" ""
run run "$U" --set pp 2
expect_error "run --set KEY VALUE, spaced: the same" 2 \
    "stepsim: --set pp 2: a key and its value are one word, --set pp=2 (see 'stepsim --help')" ""
twice "plan --gpus twice" "stepsim: --gpus given twice (8, then 16); give each option once (see \
'stepsim plan --help')" plan "$L70" --gpus 8 --gpus 16
twice "plan --hbm-reserve twice" "stepsim: --hbm-reserve given twice (1GiB, then 2GiB); give \
each option once (see 'stepsim plan --help')" plan "$L70" --gpus 8 --hbm-reserve 1GiB \
    --hbm-reserve=2GiB
twice "plan --hbm-reserve and --set hw.hbm-reserve" "stepsim: hw.hbm-reserve given twice \
(--hbm-reserve 1GiB, then --set hw.hbm-reserve=2GiB); give each key once (see 'stepsim plan \
--help')" plan "$L70" --gpus 8 --hbm-reserve 1GiB --set hw.hbm-reserve=2GiB
twice "import --out twice" "stepsim: --out given twice ($tw/a.xml, then $tw/b.xml); give each \
option once (see 'stepsim import --help')" import megatron --hardware dgx-h100 --out "$tw/a.xml" \
    --out "$tw/b.xml" --num-layers 2
twice "published --tables twice" "stepsim: --tables given twice (a, then b); give each option \
once (see 'stepsim published --help')" published "$L70" --tables a --tables b
twice "calibrate --fit twice" "stepsim: --fit given twice (training-efficiency, then \
kernel-overhead); give each option once (see 'stepsim calibrate --help')" calibrate \
    --fit training-efficiency --fit kernel-overhead x.tsv
# Flags repeat harmlessly, and --set and --vary take many values.
run run "$U" --fail-on-oom --fail-on-oom --set pp=2 --set microbatches=4
expect_ok "run: a flag twice, --set of two keys"

# ---- good runs ---------------------------------------------------------------------------------
run --help
expect_ok "--help"
# Every command has --help (stdout, exit 0); the key lists come from the parser's key table,
# so every key the parser knows is in them.
for c in run sweep plan validate keys import; do
    run "$c" --help
    if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && grep -q "^usage: stepsim $c" "$tmp/out"; then
        pass "stepsim $c --help: its usage on stdout, exit 0"
    else
        fail "stepsim $c --help: its usage on stdout, exit 0" "exit status $rc"
    fi
done
# and reads in 100 columns: the result columns' meanings in sweep's and plan's had run to 273.
wide=""
for c in run sweep plan validate keys import published calibrate; do
    w=$("$S" "$c" --help 2>/dev/null | awk 'length($0) > 100 { n++ } END { print n + 0 }')
    [ "$w" -eq 0 ] || wide="$wide $c:$w"
done
if [ -z "$wide" ]; then
    pass "stepsim COMMAND --help: no line wider than 100 columns"
else
    fail "stepsim COMMAND --help: no line wider than 100 columns" "lines over 100:$wide"
fi
# and says what its exit statuses mean (calibrate's and keys' had said nothing of them).
silent=""
for c in run sweep plan validate keys import published calibrate; do
    "$S" "$c" --help 2>/dev/null | grep -qi '^exit status: 0 ' || silent="$silent $c"
done
if [ -z "$silent" ]; then
    pass "stepsim COMMAND --help: every command gives its exit status"
else
    fail "stepsim COMMAND --help: every command gives its exit status" "without:$silent"
fi
run keys
nkeys=$(grep -c '^[a-z][a-z0-9-]* ' "$tmp/out") # the table's keys; the hw. knobs apart
missing=""
# every hardware knob listed is one --set takes and one `keys hw.NAME` explains
nknobs=$(grep -c '^hw\.[a-z-]* ' "$tmp/out")
[ "$nknobs" -ge 20 ] || missing=" hw.NAME ($nknobs knobs)"
for k in $(grep '^hw\.[a-z-]* ' "$tmp/out" | cut -d' ' -f1); do
    "$S" run "$U" --set "$k=1" 2>&1 | grep -q "unknown hardware knob" && missing="$missing $k"
    "$S" keys "$k" | tr -s '\n ' '  ' | grep -q "^$k .*; default the file's; cost model only " ||
        missing="$missing keys:$k"
done
for k in $(grep '^[a-z][a-z0-9-]* ' "$tmp/out" | cut -d' ' -f1); do
    "$S" run "$U" --set "$k=" 2>&1 | grep -q "unknown key" && missing="$missing $k"
done
if [ "$rc" -eq 0 ] && [ "$nkeys" -ge 42 ] && [ -z "$missing" ] &&
    grep -q '^tp .*; default 1; cost model only$' "$tmp/out" &&
    tr -s '\n ' '  ' <"$tmp/out" |
    grep -q ' link-bandwidth .*; default unlimited; explicit costs only '; then
    pass "stepsim keys: all $nkeys keys and $nknobs hw. knobs the parser knows, with value, default and scope"
else
    fail "stepsim keys: every key with value, default and scope" "$nkeys keys;$missing unknown"
fi
# keys is read on a terminal: no line past its 80 columns (lines of 187 had run on unwrapped)
wide=$(awk 'length > 80 { n++ } END { print n + 0 }' "$tmp/out")
if [ "$wide" -eq 0 ] && [ "$(wc -l <"$tmp/out")" -gt 300 ]; then
    pass "stepsim keys: every line within 80 columns"
else
    fail "stepsim keys: every line within 80 columns" "$wide lines longer" \
        "$(awk 'length > 80' "$tmp/out" | head -n 1)"
fi
run --help
listed=$(sed -n '/^scenario keys/,/^$/{/^scenario keys/d;p;}' "$tmp/out" | tr -s ', ' '\n\n' | grep -c .)
if [ "$listed" -eq "$nkeys" ]; then
    pass "--help lists every key of the table"
else
    fail "--help lists every key of the table" "$listed listed, $nkeys keys"
fi
run keys micro-batch
if [ "$rc" -eq 0 ] && [ "$(grep -c '^[a-z]' "$tmp/out")" -eq 1 ] && grep -q '^micro-batch ' "$tmp/out"; then
    pass "stepsim keys KEY: that key alone"
else
    fail "stepsim keys KEY: that key alone" "exit status $rc"
fi
run keys micro_batch
expect_error "stepsim keys with a typo: did you mean" 2 "stepsim: keys: unknown key 'micro_batch'" \
    "(did you mean 'micro-batch'?)"
run keys dp
expect_error "stepsim keys dp: dp follows from gpus" 2 "stepsim: keys: 'dp' is not a key" \
    ": dp follows from gpus / (tp x cp x pp): set gpus"
run run "$U" --set microbatchs=4
expect_error "--set with a mistyped key: did you mean" 2 "stepsim: --set: unknown key 'microbatchs'" \
    "(did you mean 'microbatches'?"
# a key typed in capitals is the key (it had got no suggestion: two edits of two letters)
run run "$SCN/llama3.1-70b-h100.xml" --set PP=4
expect_error "--set with a key in capitals: did you mean it" 2 "stepsim: --set: unknown key 'PP'" \
    "(did you mean 'pp'?"
run run "$U" --set tp=8
expect_error "--set tp=8 on an explicit-cost scenario: an error, not silence" 2 \
    "stepsim: tp applies only to the cost model" "(tp given by --set)"
# A rule broken by a file's value and one given later is blamed on the later one: --set pp,
# and a model or hardware whose shape or domain no longer fits the file's layout.
run run "$SCN/llama3.1-70b-h100.xml" --set pp=32
expect_error "--set pp breaking the file's split: blamed on --set" 2 \
    "stepsim: pp*vp=160 model chunks exceed layers=80" "(pp given by --set)"
run run "$SCN/llama3.1-70b-h100.xml" --set model=mixtral-8x7b
expect_error "--set model whose layers the file's pp*vp cannot split: blamed on --set" 2 \
    "stepsim: layers=32 is not divisible by pp*vp=20" "(model given by --set)"
run run "$SCN/llama3.1-70b-h100.xml" --set model=falcon-7b
expect_error "--set model whose heads the file's tp cannot split: blamed on --set" 2 \
    "stepsim: heads=71 of falcon-7b are not divisible by tp=8" "(model given by --set)"
run run "$SCN/llama3.1-70b-h100.xml" --set hardware=h100-nvl
expect_error "--set hardware too small for the file's TP overlap: blamed on --set" 2 \
    "stepsim: overlap-tp-comm with tp=8" "(hardware given by --set)"
run run "$U" --set hw.power-cap=500W
expect_error "--set hw.power-cap on an explicit-cost scenario: an error, not silence" 2 \
    "stepsim: --set hw.power-cap=500W: " "applies only to the cost model's hardware"
run sweep "$U" --vary hw.hbm-reserve=1GiB,2GiB
expect_error "--vary hw.hbm-reserve on an explicit-cost scenario: an error before anything runs" 2 \
    "stepsim: --vary hw.hbm-reserve=1GiB: " "applies only to the cost model's hardware"
run run "$U" --set "forward=1.5 ms" --set link-latency=5µs --set link-bandwidth=50GB/s
expect_ok "units as people write them: 1.5 ms, 5µs, 50GB/s"
run run "$SCN/llama3.1-70b-h100.xml" --set model=llama2-70b --set hardware=dgx-h200
if [ "$rc" -eq 0 ] && grep -q '^step time' "$tmp/out"; then
    pass "--set model=NAME --set hardware=NAME: shipped files found by name"
else
    fail "--set model=NAME --set hardware=NAME: shipped files found by name" "exit status $rc"
fi
# import megatron: the launch line of the shipped Llama-3.1-70B layout gives a scenario that
# validates and simulates to the same step, naming its framework; the flags stepsim does not
# model are named.  The shipped scenario reduces its gradients in bf16, which a Megatron-LM
# line asks for with --grad-reduce-in-bf16 (without it, below, Megatron reduces in fp32).
run import megatron --hardware dgx-h100 --out "$tmp/imported.xml" \
    'torchrun --nnodes 64 --nproc-per-node 8 pretrain_gpt.py --tensor-model-parallel-size 8
     --sequence-parallel --pipeline-model-parallel-size 4 --num-layers-per-virtual-pipeline-stage 4
     --micro-batch-size 1 --global-batch-size 512 --seq-length 8192 --bf16 --grad-reduce-in-bf16
     --use-distributed-optimizer --overlap-grad-reduce --overlap-param-gather --tp-comm-overlap
     --overlap-p2p-communication --use-flash-attn --attention-dropout 0.0 --hidden-dropout 0.0
     --cross-entropy-loss-fusion
     --num-layers 80 --hidden-size 8192 --ffn-hidden-size 28672 --num-attention-heads 64
     --group-query-attention --num-query-groups 8 --swiglu --lr 1.5e-4 --train-iters 1000'
if [ "$rc" -eq 0 ] && [ "$(cat "$tmp/err")" = \
    "stepsim: import: 2 flags of the launch line are not modelled (ignored): --lr, --train-iters" ]; then
    pass "import megatron: a Llama-3.1-70B launch line, ignored flags named on stderr"
else
    fail "import megatron: a Llama-3.1-70B launch line, ignored flags named on stderr" "exit status $rc"
fi
want=$("$S" run "$SCN/llama3.1-70b-h100.xml" | grep '^step time')
got=$("$S" run "$tmp/imported.xml" 2>&1 | grep '^step time')
if "$S" validate "$tmp/imported.xml" >/dev/null 2>&1 && [ -n "$want" ] && [ "$got" = "$want" ] &&
    grep -q '<training .*framework="megatron-core"' "$tmp/imported.xml"; then
    pass "import megatron: the imported scenario validates and simulates like the shipped one"
else
    fail "import megatron: the imported scenario validates and simulates like the shipped one" \
        "got '$got', want '$want'"
fi
# An import run again onto its own --out replaces it (the file opens with import's comment);
# onto a scenario it did not write, it is refused like any output.
cp "$tmp/imported.xml" "$tmp/imported-again.xml"
run import megatron --hardware dgx-h100 --model llama3.1-70b --num-layers 80 --seq-length 8192 \
    --global-batch-size 512 --tensor-model-parallel-size 8 --out "$tmp/imported-again.xml"
if [ "$rc" -eq 0 ] && grep -q 'name="imported from Megatron-LM"' "$tmp/imported-again.xml" &&
    ! grep -q 'pp="4"' "$tmp/imported-again.xml"; then
    pass "import megatron: run again, it replaces its own earlier --out"
else
    fail "import megatron: run again, it replaces its own earlier --out" "exit status $rc"
fi
cp "$SCN/unit.xml" "$tmp/mine.xml"
run import megatron --hardware dgx-h100 --model llama3.1-70b --num-layers 80 --seq-length 8192 \
    --global-batch-size 512 --out "$tmp/mine.xml"
if [ "$rc" -eq 2 ] && cmp -s "$SCN/unit.xml" "$tmp/mine.xml" &&
    grep -q 'is a stepsim scenario description; refusing to replace it' "$tmp/err"; then
    pass "import megatron: --out never replaces a scenario it did not write"
else
    fail "import megatron: --out never replaces a scenario it did not write" "exit status $rc"
fi
# The same line without --grad-reduce-in-bf16: Megatron keeps and reduces a bf16 run's
# gradients in fp32 (arguments.py), so the file says so and the step is slower.
run import megatron --hardware dgx-h100 --model llama3.1-70b --bf16 --use-distributed-optimizer \
    --seq-length 8192
fp32=$("$S" run "$tmp/imported.xml" --set grad-reduce-fp32=true 2>&1 | grep '^step time')
if [ "$rc" -eq 0 ] && grep -q 'grad-reduce-fp32="true"' "$tmp/out" &&
    grep -q 'grad-reduce-fp32="false"' "$tmp/imported.xml" && [ -n "$fp32" ] && [ "$fp32" != "$got" ]; then
    pass "import megatron: --bf16 without --grad-reduce-in-bf16 imports fp32 gradients"
else
    fail "import megatron: --bf16 without --grad-reduce-in-bf16 imports fp32 gradients" \
        "exit status $rc"
fi
# A layout Megatron stops at is refused at import, as validate would refuse the file: exit 2,
# one line naming the flags, and no file.  (It had been written with exit 0.)
rm -f "$tmp/impossible.xml"
run import megatron --hardware dgx-h100 --out "$tmp/impossible.xml" 'torchrun --nnodes 4
     --nproc-per-node 8 pretrain_gpt.py --tensor-model-parallel-size 8
     --pipeline-model-parallel-size 3 --seq-length 8192 --num-layers 80 --hidden-size 8192
     --ffn-hidden-size 28672 --num-attention-heads 64 --group-query-attention
     --num-query-groups 8 --swiglu'
expect_error "import megatron: world size 32 over tp 8 x pp 3: exit 2 before writing" 2 \
    "stepsim: import: gpus=32 is not a multiple of pp*max(tp*cp, ep*etp)" \
    "(gpus given by --nnodes x nproc-per-node, pp given by --pipeline-model-parallel-size, tp \
given by --tensor-model-parallel-size)"
if [ -e "$tmp/impossible.xml" ]; then
    fail "import megatron: a refused layout writes no --out" "$tmp/impossible.xml exists"
else
    pass "import megatron: a refused layout writes no --out"
fi
run import megatron --hardware dgx-h100 --model llama3.1-70b --hidden-size -1
expect_error "import megatron: --hidden-size -1 is negative, not missing" 2 \
    "stepsim: import: --hidden-size -1: must be a positive integer" ""
run import megatron --tensor-model-parallel-size 8
expect_error "import without --hardware: exit 2" 2 "stepsim: import needs --hardware" "stepsim import --help"
run run "$SCN/llama3.1-70b-h100.xml" --set model=llama3.1-7b
expect_error "--set model= with a name nothing ships: the nearest" 2 \
    "stepsim: --set model=llama3.1-7b: 'llama3.1-7b' is neither a file nor a shipped model" \
    "did you mean"
# a step a tenth or more in launch gaps, run without CUDA graphs, names the framework's graphs
# (the report had said nothing); under a tenth, or with graphs set, no hint -- on the --report
# page as in the text (the page had left it out)
run run "$SCN/qwen3-30b-a3b-lora-h100.xml" --report "$tmp/launch.html"
check "a launch-bound step without graphs: the report names the framework's cuda-graphs" \
    grep -q "megatron-core offers them:" "$tmp/out"
check "... and which choices" grep -q "cuda-graphs=full-iteration or modules -- what each" "$tmp/out"
check "... and so does the page" grep -q "Launch-bound, run without CUDA graphs; megatron-core \
offers them: cuda-graphs=full-iteration or modules (what each" "$tmp/launch.html"
run run "$SCN/qwen3-30b-a3b-lora-h100.xml" --set cuda-graphs=modules --report "$tmp/launch.html"
check "a step run with graphs: no launch hint" sh -c "! grep -q 'launch-bound' '$tmp/out'"
check "... nor on the page" sh -c "! grep -q 'Launch-bound' '$tmp/launch.html'"
run run "$SCN/llama3.1-70b-h100.xml"
check "launch gaps under a tenth of the step: no launch hint" \
    sh -c "! grep -q 'launch-bound' '$tmp/out'"
# the GPU alone names the files that hold it (it had listed all twenty hardware files)
run run "$SCN/llama3.1-70b-h100.xml" --set hardware=h200
expect_error "--set hardware= with the GPU alone: the files that hold it" 2 \
    "stepsim: --set hardware=h200: 'h200' is neither a file nor a shipped hardware" \
    "did you mean 'dgx-h200' or 'hgx-h200-4gpu'?"
run --version
expect_ok "--version"
for s in unit default two_stage_link; do
    run run "$SCN/$s.xml"
    expect_ok "run scenarios/$s.xml"
done
run run "$U" --set schedule=interleaved --set pp=4 --set vp=2 --set microbatches=8 --set layers=8
expect_ok "README command: unit.xml as interleaved pp=4 vp=2"
# ZB-H1 on the unit costs (F = B = W = 1 ms per stage, pp=4, m=8): 8 x 3 + 3 x (1 + 1 - 1) ms.
run run "$U" --set schedule=zb-h1 --set layers=4
if [ "$rc" -eq 0 ] && grep -q '^step time  *0.027000 s' "$tmp/out" &&
    grep -q 'zb-h1 .*split-backward' "$tmp/out"; then
    pass "zb-h1 on unit.xml: 27 ms, split backward"
else
    fail "zb-h1 on unit.xml: 27 ms, split backward" "exit status $rc"
fi
run run "$U" --set schedule=zb-h1 --set layers=4 --set split-backward=false
expect_error "zb-h1 with split-backward=false: exit 2" 2 "stepsim: " "split-backward=false contradicts it"
run run "$U" --set=pp=2 --seed 9 --format=json
if [ "$rc" -eq 0 ] && grep -q '"pp": 2,' "$tmp/out"; then
    pass "--set overrides the file (pp=2 in JSON)"
else
    fail "--set overrides the file (pp=2 in JSON)" "exit status $rc"
fi
# --seed N is --set seed=N (the two together: seed given twice, above).
step_of() { run run "$SCN/llama3.1-70b-h100.xml" --set jitter=5% "$@"; sed -n 's/^step time *//p' "$tmp/out"; }
s4=$(step_of --set seed=4)
s3=$(step_of --set seed=3)
if [ "$s3" != "$s4" ] && [ "$(step_of --seed 3)" = "$s3" ] &&
    [ "$(step_of --seed 4)" = "$s4" ]; then
    pass "--seed N is --set seed=N"
else
    fail "--seed N is --set seed=N" "seed 3: $s3, seed 4: $s4"
fi
for s in "$SCN"/*.xml; do
    run validate "$s"
    expect_ok "validate scenarios/${s##*/}"
done

if command -v python3 >/dev/null 2>&1; then
    for s in unit default; do
        run run "$SCN/$s.xml" --format json
        if [ "$rc" -eq 0 ] && python3 -m json.tool "$tmp/out" >/dev/null 2>"$tmp/err"; then
            pass "--format json parses ($s.xml)"
        else
            fail "--format json parses ($s.xml)" "exit status $rc or invalid JSON"
        fi
    done
else
    skip "--format json parses (unit.xml)" "python3 not found"
    skip "--format json parses (default.xml)" "python3 not found"
fi

# ---- determinism: the same inputs give byte-identical files -----------------------------------
for k in 1 2; do
    "$S" run "$SCN/default.xml" --timeline "$tmp/t$k.csv" --trace "$tmp/t$k.json" \
        >"$tmp/r$k.txt" 2>"$tmp/err"
    eval "rc$k=\$?"
done
if [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] && [ -s "$tmp/t1.csv" ] && [ -s "$tmp/t1.json" ]; then
    pass "timeline and trace written"
else
    fail "timeline and trace written" "exit status $rc1 / $rc2"
fi
for f in t.csv t.json r.txt; do
    a="$tmp/${f%%.*}1.${f#*.}" b="$tmp/${f%%.*}2.${f#*.}"
    if cmp -s "$a" "$b"; then
        pass "deterministic: two runs give identical ${f#*.} output"
    else
        fail "deterministic: two runs give identical ${f#*.} output"
    fi
done
if [ "$(sed -n 1p "$tmp/t1.csv" | cut -d, -f1-4)" = "rank,op,microbatch,chunk" ]; then
    pass "timeline CSV header starts rank,op,microbatch,chunk"
else
    fail "timeline CSV header starts rank,op,microbatch,chunk"
fi

# ---- output failures: exit 1, no partial files --------------------------------------------------
run run "$U" --timeline /nonexistent/dir/x.csv
expect_error "unwritable --timeline: exit 1" 1 "stepsim: /nonexistent/dir/x.csv: " ""
if [ ! -e /nonexistent/dir/x.csv ]; then
    pass "unwritable --timeline leaves no file"
else
    fail "unwritable --timeline leaves no file"
fi
mkdir "$tmp/o"
run run "$U" --timeline "$tmp/o/t.csv" --trace "$tmp/o/missing/t.json"
expect_error "unwritable --trace: exit 1" 1 "stepsim: $tmp/o/missing/t.json: " ""
leftover=$(find "$tmp/o" -name '*.tmp*' | head -n 1)
if [ -z "$leftover" ]; then
    pass "failed run leaves no temporary files"
else
    fail "failed run leaves no temporary files" "$leftover"
fi
run run "$U" --timeline "$tmp/o/bad.csv" --set pp=0
if [ "$rc" -eq 2 ] && [ ! -e "$tmp/o/bad.csv" ]; then
    pass "bad input writes no output file"
else
    fail "bad input writes no output file" "exit status $rc"
fi
# Modelled runs: every shipped modelled scenario; --tokens and --memory-timeline.
for f in llama3.1-70b-h100 gpt3-175b-a100 mixtral-8x7b-h100 mixtral-8x7b-h100-dualpipe \
    deepseek-v3-h800; do
    run run "$SCN/$f.xml"
    expect_ok "run shipped modelled scenario $f"
done
# DeepSeek-V3's published recipe fits the H800's 80 GB (the report trained it so): every rank
# under the 76.3 GiB usable, the busiest between 60 and 76 GiB (68.75: 12.19 weights, 12.19
# fp32 gradients, 2.68 optimizer, 41.69 activations), DualPipe holding PP + 1 = 17 micro-batch
# parts' activations (DeepSeek-V3 report, arXiv:2412.19437, Table 2).
run run "$SCN/deepseek-v3-h800.xml"
if [ "$rc" -eq 0 ] && ! grep -q 'OUT OF MEMORY' "$tmp/out" &&
    awk '/^memory per GPU/ { m = 1; next } /^$/ { m = 0 }
    m && /^ *[0-9]+ / { n++; if ($6 > peak) peak = $6 }
    END { exit !(n == 16 && peak > 60 && peak < 76) }' "$tmp/out" &&
    grep -Eq '^ +1 +[0-9.]+ +[0-9.]+ +[0-9.]+% +17$' "$tmp/out"; then
    pass "DeepSeek-V3 on H800 with the report's recipe fits in memory, 17 parts in flight"
else
    fail "DeepSeek-V3 on H800 with the report's recipe fits in memory, 17 parts in flight" \
        "$(grep -A3 '^memory per GPU' "$tmp/out")"
fi
# The DualPipe variant (a base and a changed schedule) beats its 1F1B base on step time and
# exposed expert all-to-all, and its Gantt chart renders.
step_of() { awk '/^step time/ { print $3 }' "$tmp/out"; }
ep_of() { awk '/EP communication/ { print $4 }' "$tmp/out"; }
run run "$SCN/mixtral-8x7b-h100.xml"
base_step=$(step_of) base_ep=$(ep_of)
run run "$SCN/mixtral-8x7b-h100-dualpipe.xml"
if [ "$rc" -eq 0 ] && awk -v a="$(step_of)" -v b="$base_step" -v c="$(ep_of)" -v d="$base_ep" \
    'BEGIN { exit !(a < b && c < d) }' && grep -q '^schedule      dualpipe  pp=4 vp=2' "$tmp/out"; then
    pass "DualPipe variant: step $(step_of) s < 1F1B $base_step s, EP exposed $(ep_of) s < $base_ep s"
else
    fail "DualPipe variant beats its 1F1B base" "exit $rc, step $(step_of) vs $base_step"
fi
# Its exposed EP is split under the breakdown: the pairs' share and the lone ops' add up to it.
if awk -v ep="$(ep_of)" '/^  \(exposed EP: / { p = $3 }
    /s in ops run alone/ { sub(/.*; /, ""); a = $1 }
    END { exit !(p > 0 && a > 0 && (p + a - ep) ^ 2 < 4e-12) }' "$tmp/out"; then
    pass "DualPipe's exposed EP splits into pairs and lone ops"
else
    fail "DualPipe's exposed EP splits into pairs and lone ops" \
        "$(grep -A2 'exposed EP:' "$tmp/out")"
fi
run run "$SCN/mixtral-8x7b-h100-dualpipe.xml" --trace "$tmp/o/dp.json"
pairs=$(grep -o '"overlapped_pair":true' "$tmp/o/dp.json" | wc -l)
# 4 ranks x 27 pairs (m/2 = 16: 2(m/2-pp+h+1) + pp/2-h-1 pairs on rank h, less one on the
# middle ranks), two ops each
if [ "$rc" -eq 0 ] && [ "$pairs" -eq 216 ]; then
    pass "DualPipe trace marks the 216 ops of its 108 overlapped pairs"
else
    fail "DualPipe trace marks the ops of its overlapped pairs" "exit $rc, $pairs marked"
fi
# The trace through the command line passes the strict checker (tests/trace_check.c), with
# invalid UTF-8 in the scenario name from argv, on an explicit-cost and a modelled scenario;
# the checker itself fails a trace with a partly overlapping slice.
TC="$top_builddir/tests/trace_check"
if [ -x "$TC" ]; then
    run run "$U" --set "name=$(printf 'bad\377name')" --trace "$tmp/o/u.json"
    if [ "$rc" -eq 0 ] && "$TC" "$tmp/o/u.json" >"$tmp/tc" 2>&1 &&
        grep -q "\"scenario\":\"bad$(printf '\357\277\275')name\"" "$tmp/o/u.json"; then
        pass "--trace with invalid UTF-8 in the name passes trace_check"
    else
        fail "--trace with invalid UTF-8 in the name passes trace_check" "exit $rc; $(head -n 3 "$tmp/tc")"
    fi
    run run "$SCN/mixtral-8x7b-h100-dualpipe.xml" --set jitter=0.1 --trace "$tmp/o/dpj.json"
    if [ "$rc" -eq 0 ] && "$TC" "$tmp/o/dpj.json" >"$tmp/tc" 2>&1; then
        pass "modelled DualPipe trace with jitter passes trace_check"
    else
        fail "modelled DualPipe trace with jitter passes trace_check" "exit $rc; $(head -n 3 "$tmp/tc")"
    fi
    # otherData says what else defines the run, as the report's scenario and layout lines do:
    # the command line's --set list (cleaned to UTF-8 as the name is), precision, recompute,
    # ZeRO and the batch (it had stopped at dp).
    bad=$(printf '\357\277\275')
    if grep -q "\"sets\":\"--set name=bad${bad}name\"" "$tmp/o/u.json" &&
        grep -q '"sets":"--set jitter=0.1","model":"mixtral-8x7b",' "$tmp/o/dpj.json" &&
        grep -q '"dtype":"bf16","recompute":"[a-z]*","zero":[0-3],"micro_batch":[0-9]*,"seq":[0-9]*,"global_batch":[0-9]*,' \
            "$tmp/o/dpj.json"; then
        pass "--trace: otherData holds the --set list, precision, recompute, ZeRO and batch"
    else
        fail "--trace: otherData holds the --set list, precision, recompute, ZeRO and batch" \
            "$(head -c 600 "$tmp/o/dpj.json")"
    fi
    printf '%s\n' '{"traceEvents":[' \
        '{"ph":"M","pid":1,"tid":1,"name":"process_name","args":{"name":"p"}},' \
        '{"ph":"M","pid":1,"tid":1,"name":"thread_name","args":{"name":"t"}},' \
        '{"ph":"X","ts":0,"dur":10,"pid":1,"tid":1,"name":"a"},' \
        '{"ph":"X","ts":5,"dur":10,"pid":1,"tid":1,"name":"b"}]}' >"$tmp/o/bad.json"
    "$TC" "$tmp/o/bad.json" >"$tmp/tc" 2>&1
    tcrc=$?
    if [ "$tcrc" -eq 1 ] && grep -q 'overlap: "b"' "$tmp/tc"; then
        pass "trace_check fails a partly overlapping slice (exit 1)"
    else
        fail "trace_check fails a partly overlapping slice" "exit $tcrc"
    fi
else
    skip "--trace passes trace_check" "$TC not built"
fi
run run "$SCN/mixtral-8x7b-h100.xml" --tokens 1e12 --memory-timeline "$tmp/o/mem.csv"
if [ "$rc" -eq 0 ] && grep -q '^training 1e+12 tokens: ' "$tmp/out" &&
    [ "$(head -n 1 "$tmp/o/mem.csv")" = "rank,time_s,activation_bytes,total_bytes" ]; then
    peak=$(awk -F, 'NR > 1 && $1 == 0 && $4 > m { m = $4 } END { printf "%.2f", m / 1073741824 }' "$tmp/o/mem.csv")
    if grep -q "^   0 .* $peak\$" "$tmp/out"; then
        pass "--memory-timeline peak equals the report's rank 0 total ($peak GiB)"
    else
        fail "--memory-timeline peak equals the report's rank 0 total" "timeline peak $peak GiB"
    fi
    # as README says: grouped by rank, each in time order from 0 with the static part alone
    # (total - activations the same on every row), back to it at the rank's last row, every
    # rank's peak its row of the report's memory table
    bad=$(awk -F, 'NR == 1 { next }
        $1 != r { if (NR > 2 && a != 0) print "rank " r " ends holding " a
                  if ($1 != r + 1 || $2 + 0 != 0 || $3 != 0) print "rank " $1 " starts at " $0
                  r = $1; fixed = $4 - $3; t = 0; peak[r] = 0 }
        $2 + 0 < t || $3 < 0 || $4 - $3 != fixed { print "row " NR ": " $0 }
        { t = $2 + 0; a = $3; if ($4 > peak[r]) peak[r] = $4 }
        END { if (a != 0) print "rank " r " ends holding " a
              for (i = 0; i <= r; i++) printf "peak %d %.2f\n", i, peak[i] / 1073741824 }' \
        r=-1 "$tmp/o/mem.csv")
    wrong=$(printf '%s\n' "$bad" | grep -v '^peak ')
    tables=$(printf '%s\n' "$bad" | grep '^peak ' | while read -r _ rank gib; do
        grep -q "^ *$rank .* $gib\$" "$tmp/out" || printf 'rank %s peak %s GiB ' "$rank" "$gib"
    done)
    if [ -z "$wrong$tables" ] && [ "$(printf '%s\n' "$bad" | grep -c '^peak ')" -eq 4 ]; then
        pass "--memory-timeline: each rank from 0 at its static part, back to it, peaking at its row"
    else
        fail "--memory-timeline: each rank from 0 at its static part" "$wrong $tables"
    fi
else
    fail "--tokens and --memory-timeline" "exit status $rc"
fi
# A network of a bit per second makes the collectives the whole step: refused as the knob's
# fault, not blamed on the batch line.
run run "$SCN/llama3.1-70b-h100.xml" --set hw.nic-bandwidth=1bps
expect_error "run: a step made long by a --set hw. knob blames the knob" 2 \
    "stepsim: --set hw.nic-bandwidth=1bps: one step could take " "in collectives over dgx-h100's links"
# ... but only a knob of the network: a huge batch stays the batch's fault whatever else was set.
run run "$SCN/llama3.1-70b-h100.xml" --set hw.hbm=200GiB --set seq=100000000
expect_error "run: a step made long by its batch blames seq, not an unrelated hw. knob" 2 \
    "stepsim: one step could take " "(seq given by --set)"
# A step in which nothing takes time has no rate; one pipeline stage has no transfer to give it
# one, whatever the link's latency.
run run "$top_srcdir/tests/bad/step-of-no-time.xml" --set pp=1 --set link-latency=1ms
expect_error "run: a one-stage step of free ops is refused, link latency aside" 2 \
    "stepsim: $top_srcdir/tests/bad/step-of-no-time.xml:7: " "a step of no time has no rate"
# A rank over both HBM and the host's memory is said to be out of memory, not of host memory.
run run "$SCN/llama3.1-70b-h100.xml" --set offload-optimizer=1 --set hw.host-memory=1GB \
    --set micro-batch=4 --fail-on-oom
expect_error "run --fail-on-oom: over HBM and the host's memory is said as HBM" 2 \
    "stepsim: $SCN/llama3.1-70b-h100.xml: out of memory: rank " "GiB usable (--fail-on-oom)"

# The thread count is spelled as make takes it in every command: -j1 as well as -j 1.
run plan "$SCN/llama3.1-70b-h100.xml" --gpus 64 --top 1 -j1
if [ "$rc" -eq 0 ] && grep -q '^1 ' "$tmp/out"; then
    pass "plan -j1: the count attached to -j"
else
    fail "plan -j1: the count attached to -j" "exit $rc: $(head -c 300 "$tmp/err")"
fi
# stdout carries one thing: plan --out - puts the CSV there alone, the table on stderr.
run plan "$SCN/llama3.1-70b-h100.xml" --gpus 64 --top 1 -j1 --out -
if [ "$rc" -eq 0 ] && head -1 "$tmp/out" | grep -q '^dp,gpus,tp,pp,' &&
    ! grep -q '^plan for ' "$tmp/out" && grep -q '^plan for ' "$tmp/err"; then
    pass "plan --out -: the CSV alone on stdout, the table on stderr"
else
    fail "plan --out -: the CSV alone on stdout, the table on stderr" "exit $rc"
fi
# A count is digits alone: "-j +2" or "--jobs ' 2'" had run as 2 threads, in every command.
for c in plan sweep calibrate; do
    run $c -j +2 "$SCN/llama3.1-70b-h100.xml"
    expect_error "$c -j +2: refused (exit 2)" 2 "stepsim: " \
        "expected a thread count from 0 (the CPUs) to 1024"
done
run sweep "$U" --vary pp=1,2 -j0
if [ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 3 ]; then
    pass "sweep -j0: the CPUs, as plan and calibrate read 0"
else
    fail "sweep -j0: the CPUs, as plan and calibrate read 0" "exit $rc: $(head -c 300 "$tmp/err")"
fi
run calibrate -j1 --root "$top_srcdir" "$top_srcdir/scenarios/validation/dev.tsv"
if [ "$rc" -eq 0 ] && grep -q '^fitted MAE' "$tmp/out"; then
    pass "calibrate -j1: the count attached to -j"
else
    fail "calibrate -j1: the count attached to -j" "exit $rc: $(head -c 300 "$tmp/err")"
fi

# stepsim --help's synopsis is each command's own: no option its --help opens with is missing.
missing="" own=0
"$S" --help 2>/dev/null | awk 'NF == 0 { exit } { print }' >"$tmp/top"
for cmd in run sweep plan validate keys import published calibrate; do
    "$S" "$cmd" --help 2>/dev/null | awk 'NF == 0 { exit } { sub(/^usage: /, ""); print }' \
        >"$tmp/own"
    own=$((own + $(wc -l <"$tmp/own")))
    while IFS= read -r line; do
        grep -qF -- "$line" "$tmp/top" || missing="$missing [$cmd: $line]"
    done <"$tmp/own"
done
# and nothing else: the synopses and the line for --help and --version
[ "$(wc -l <"$tmp/top")" -eq $((own + 1)) ] || missing="$missing [$(wc -l <"$tmp/top") lines]"
if [ -z "$missing" ]; then
    pass "stepsim --help: every command's synopsis as its own --help gives it"
else
    fail "stepsim --help: every command's synopsis as its own --help gives it" "$missing"
fi

# --fail-on-oom: out of memory exits 2 (DESIGN's bad input: this layout cannot run), after the
# report and the files are written; a layout that fits still exits 0.  Usable: 80 GiB less
# dgx-h100's 0.6 GiB reserve, 0.6 GiB of NCCL buffers for each of tp 8, pp 4 and dp 16, and 6
# GiB of TP-overlap userbuffers (12 of 8192 x 4 tokens x 8192 in bf16).
run run "$SCN/llama3.1-70b-h100.xml" --set micro-batch=4 --memory-timeline "$tmp/o/oom.csv" \
    --fail-on-oom
expect_error "run --fail-on-oom: out of memory exits 2" 2 \
    "stepsim: $SCN/llama3.1-70b-h100.xml: out of memory: rank 0 needs " "GiB of 71.6 GiB usable"
if grep -q '^OUT OF MEMORY rank 0' "$tmp/out" && [ -s "$tmp/o/oom.csv" ]; then
    pass "run --fail-on-oom: the report and --memory-timeline are written first"
else
    fail "run --fail-on-oom: the report and --memory-timeline are written first"
fi
want='memory per GPU (GiB)  HBM 80.0, 71.6 usable (reserve 8.4: CUDA context and fragmentation 0.6, NCCL 0.6 x 3 communicators, TP-overlap userbuffers 6.00)'
if grep -qxF "$want" "$tmp/out"; then
    pass "run: the memory header names the reserve's parts"
else
    fail "run: the memory header names the reserve's parts" "$(grep '^memory per GPU' "$tmp/out")"
fi
run run "$SCN/llama3.1-70b-h100.xml" --set micro-batch=4
[ "$rc" -eq 0 ] && pass "run out of memory without --fail-on-oom: exit 0" ||
    fail "run out of memory without --fail-on-oom: exit 0" "exit status $rc"
run run "$SCN/llama3.1-70b-h100.xml" --fail-on-oom
expect_ok "run --fail-on-oom on a layout that fits: exit 0"
# Every example the repository ships is a layout that ran (or a toy): none may be predicted out
# of memory (the Llama 3.1 405B example was, at 75.7 of 74.6 GiB, until its file named Meta's
# FSDP).
for f in "$SCN"/*.xml; do
    run run "$f" --fail-on-oom
    expect_ok "run --fail-on-oom on the shipped example $(basename "$f"): it fits"
done
run run "$U" --memory-timeline "$tmp/o/m2.csv"
expect_error "--memory-timeline on explicit costs: exit 2" 2 "stepsim: " "needs a modelled scenario"
run run "$U" --tokens lots
expect_error "--tokens not a number: exit 2" 2 "stepsim: " "--tokens 'lots': 'lots' is not a number"
run run "$U" --tokens 99999999999999999999999
expect_error "--tokens past the parser's range: its reason" 2 "stepsim: " "is out of range (above 1e18)"
run run "$U" --seed -1
expect_error "--seed -1: named as given" 2 "stepsim: --seed: " "'-1' is out of range"

# --plot on a modelled scenario: the Gantt chart and the memory-per-stage bars.
if command -v gnuplot >/dev/null 2>&1; then
    run run "$SCN/mixtral-8x7b-h100.xml" --plot "$tmp/o/mx.png"
    if [ "$rc" -eq 0 ] && [ -s "$tmp/o/mx.png" ] && [ -s "$tmp/o/mx-memory.png" ] &&
        [ "$(head -c 4 "$tmp/o/mx-memory.png" | od -An -c | tr -d ' ')" = "211PNG" ]; then
        pass "--plot on a modelled scenario writes the Gantt and FILE-memory.png"
    else
        fail "--plot on a modelled scenario writes the Gantt and FILE-memory.png" "exit status $rc"
    fi
    # A PNG's width and height are the big-endian words at bytes 16-23 (its IHDR chunk).
    png_size() { od -An -tu1 -j16 -N8 "$1" |
        awk '{ printf "%dx%d", (($1*256+$2)*256+$3)*256+$4, (($5*256+$6)*256+$7)*256+$8 }'; }
    sizes="$(png_size "$tmp/o/mx-memory.png")"
    [ "$sizes" = "960x520" ] && pass "--plot without --plot-size: the memory bars 960x520" ||
        fail "--plot without --plot-size: the memory bars 960x520" "$sizes"
    run run "$SCN/mixtral-8x7b-h100.xml" --plot "$tmp/o/mxs.png" --plot-size 800x360
    sizes="$(png_size "$tmp/o/mxs.png") $(png_size "$tmp/o/mxs-memory.png")"
    [ "$rc" -eq 0 ] && [ "$sizes" = "800x360 800x360" ] &&
        pass "--plot-size sizes the Gantt and the memory bars alike" ||
        fail "--plot-size sizes the Gantt and the memory bars alike" "exit $rc, $sizes"
    run run "$SCN/mixtral-8x7b-h100-dualpipe.xml" --plot "$tmp/o/dp.svg"
    if [ "$rc" -eq 0 ] && grep -q 'F&amp;B overlapped pair' "$tmp/o/dp.svg" &&
        grep -q '>F  down<' "$tmp/o/dp.svg"; then
        pass "--plot of a DualPipe step names the directions and outlines the pairs"
    else
        fail "--plot of a DualPipe step names the directions and outlines the pairs" "exit $rc"
    fi
    # an SVG's text is the PNG's size: 12 points are 16 pixels in both (pngcairo draws a point
    # as 4/3 of a pixel; the svg terminal had drawn 12 pixels, three quarters of the PNG's)
    svg_text() { # NAME PX OLDPX SVG...: the base font PX pixels in every SVG, none at OLDPX
        name=$1 px=$2 old=$3
        shift 3
        for f in "$@"; do
            grep -q "font-size=\"$px\"" "$f" || { fail "$name" "$f: no $px-pixel text"; return; }
        done
        if grep -q "font-size=\"$old\"" "$@"; then
            fail "$name" "text of $old pixels"
        else
            pass "$name"
        fi
    }
    svg_text "--plot F.svg: the memory bars' text at the PNG's size" 16.00 12.00 \
        "$tmp/o/dp-memory.svg"
    # (the Gantt's note under the axis is 9 points, 12 pixels: its axis label, 12 points, tells)
    grep -B1 '>time since the first op' "$tmp/o/dp.svg" | grep -q 'font-size="16.00"' &&
        pass "--plot F.svg: the Gantt's text at the PNG's size" ||
        fail "--plot F.svg: the Gantt's text at the PNG's size" \
            "$(grep -B1 '>time since the first op' "$tmp/o/dp.svg" | head -1)"
    # out of memory, the last rank's bar passes the usable-HBM line: the line's label, at its
    # right end, stands on a white box rather than half on the bar (red on green)
    run run "$SCN/llama3.1-70b-h100.xml" --set micro-batch=8 --plot "$tmp/o/oom.svg"
    if [ "$rc" -eq 0 ] && grep -q '>OUT OF MEMORY: ' "$tmp/o/oom-memory.svg" &&
        grep -B1 '>usable HBM 65.6 GiB<' "$tmp/o/oom-memory.svg" | grep -q 'url(#textbox)'; then
        pass "--plot of a step out of memory: the usable-HBM label on a white box"
    else
        fail "--plot of a step out of memory: the usable-HBM label on a white box" "exit $rc"
    fi
    # the DP gradient reductions are not drawn, and a rank waiting on its last one before the
    # optimizer step looks idle: the chart says so, as the HTML page does (it had not)
    run run "$SCN/llama3.1-70b-h100.xml" --set pp=2 --set microbatches=4 --set schedule=1f1b \
        --plot "$tmp/o/dpsync.svg"
    if [ "$rc" -eq 0 ] && grep -q '>DP gradient reductions not drawn (see --trace)<' \
        "$tmp/o/dpsync.svg"; then
        pass "--plot of a step with DP gradient reductions says they are not drawn"
    else
        fail "--plot of a step with DP gradient reductions says they are not drawn" \
            "exit $rc: $(grep -o '>[^<]*not drawn[^<]*<' "$tmp/o/dpsync.svg")"
    fi
else
    skip "--plot on a modelled scenario writes the Gantt and FILE-memory.png" "no gnuplot"
    skip "--plot without --plot-size: the memory bars 960x520" "no gnuplot"
    skip "--plot-size sizes the Gantt and the memory bars alike" "no gnuplot"
fi

# --plot-window and --plot-size: checked before anything runs (exit 2, one line naming the
# option), the window against the step once it has run.
run run "$U" --plot-window 12ms:40ms
expect_error "--plot-window without --plot: exit 2" 2 "stepsim: --plot-window 12ms:40ms: " \
    "needs --plot FILE.png|svg"
run run "$U" --plot "$tmp/o/.png"
expect_error "--plot naming only the extension: exit 2" 2 "stepsim: --plot $tmp/o/.png: " \
    "needs a file name before .png"
run run ''
expect_error "run '': exit 2, the empty name said" 2 "stepsim: " "cannot open '': an empty file name"
if command -v gnuplot >/dev/null 2>&1; then
    # a step out of memory says so first in its chart's title
    run run "$SCN/moe-guide/glm-4.5.xml" --plot "$tmp/o/oom.svg"
    if [ "$rc" -eq 0 ] && grep -q '>OUT OF MEMORY: [0-9.]* GiB peak, [0-9.]* usable · ' "$tmp/o/oom.svg"; then
        pass "--plot of a step out of memory: the title says so first"
    else
        fail "--plot of a step out of memory: the title says so first" "exit $rc"
    fi
    # ... and so does the memory chart, where the bars cross the usable HBM (it had not; at
    # its 960 pixels the title takes two lines)
    if [ "$rc" -eq 0 ] && grep -q '>OUT OF MEMORY: [0-9.]* GiB peak, [0-9.]* usable<' "$tmp/o/oom-memory.svg" &&
        grep -q '>GLM-4.5, .*: memory per GPU by pipeline rank<' "$tmp/o/oom-memory.svg"; then
        pass "--plot of a step out of memory: the memory chart's title says so first"
    else
        fail "--plot of a step out of memory: the memory chart's title says so first" \
            "$(grep -o '>[^<]*memory per GPU[^<]*<' "$tmp/o/oom-memory.svg")"
    fi
    # a key of names (schedules) gets points only: the SVG draws no polyline joining them
    run sweep "$U" --vary microbatches=8,16 --vary schedule=1f1b,zb-h1,gpipe --plot "$tmp/o/cat.svg"
    lines_drawn=$(awk '/<g id="gnuplot_plot_[0-9]+a"/,/<\/g>/' "$tmp/o/cat.svg" | grep -c "<path.* d='M[^']* L" || true)
    if [ "$rc" -eq 0 ] && [ -s "$tmp/o/cat.svg" ] && [ "$lines_drawn" -eq 0 ]; then
        pass "sweep --plot over schedules: points, no lines joining the categories"
    else
        fail "sweep --plot over schedules: points, no lines joining the categories" "exit $rc, $lines_drawn lines"
    fi
    # a sweep of more lines than its legend can name: drawn unnamed, and the legend says so
    run sweep "$U" --vary pp=1,2,4 --vary microbatches=4:24:+1 --vary layers=8,16 \
        --plot "$tmp/o/many.svg"
    if [ "$rc" -eq 0 ] && grep -q '63 lines, unnamed (too many)' "$tmp/o/many.svg"; then
        pass "sweep --plot with more lines than the legend names: it says how many"
    else
        fail "sweep --plot with more lines than the legend names: it says how many" "exit $rc"
    fi
    # values with units are a scale, not names: joined by a line, tics labelled as given
    run sweep "$SCN/llama3.1-70b-h100.xml" --vary hw.nic-bandwidth=25GB/s,50GB/s,100GB/s,400GB/s \
        --plot "$tmp/o/bw.svg"
    lines_drawn=$(awk '/<g id="gnuplot_plot_[0-9]+a"/,/<\/g>/' "$tmp/o/bw.svg" | grep -c "<path.* d='M[^']* L" || true)
    if [ "$rc" -eq 0 ] && grep -q '>25GB/s<' "$tmp/o/bw.svg" && grep -q '>400GB/s<' "$tmp/o/bw.svg" &&
        [ "$lines_drawn" -gt 0 ]; then
        pass "sweep --plot over a bandwidth: a numeric axis labelled as given"
    else
        fail "sweep --plot over a bandwidth: a numeric axis labelled as given" "exit $rc, $lines_drawn lines"
    fi
    # swept values that %g writes as "2e+09" (a seed of 2000000000; 50GB/s on an axis in EB/s):
    # gnuplot read such a word as an integer with trailing characters and drew nothing, and the
    # sweep exited 1 without its CSV
    run sweep "$U" --vary seed=1,2000000000 --set jitter=0.1 --plot "$tmp/o/seed.png" \
        --out "$tmp/o/seed.csv"
    if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && [ -s "$tmp/o/seed.png" ] &&
        [ -s "$tmp/o/seed.csv" ]; then
        pass "sweep --plot over seeds of 2e+09: drawn, CSV written"
    else
        fail "sweep --plot over seeds of 2e+09: drawn, CSV written" "exit $rc: $(cat "$tmp/err")"
    fi
    run sweep "$SCN/llama3.1-70b-h100.xml" --vary hw.nic-bandwidth=1e18B/s,50GB/s \
        --plot "$tmp/o/ebps.png"
    if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && [ -s "$tmp/o/ebps.png" ]; then
        pass "sweep --plot over 1e18B/s and 50GB/s: drawn"
    else
        fail "sweep --plot over 1e18B/s and 50GB/s: drawn" "exit $rc: $(cat "$tmp/err")"
    fi
    # sixteen lines: each named (a smaller font, no entry past the image's edge); failed
    # configs in a band of their own under the data, named; every series where nothing ran
    # listed, as far as the legend has room
    run sweep "$SCN/default.xml" --vary layers=64 --vary pp=2:32:+2 --vary microbatches=32,64 \
        --plot "$tmp/o/band.svg"
    if [ "$rc" -eq 0 ] && grep -q '>layers=64, pp=30: all failed<' "$tmp/o/band.svg" &&
        grep -q '>layers=64, pp=32<' "$tmp/o/band.svg" &&
        [ "$(grep -c '>failed<' "$tmp/o/band.svg")" -eq 2 ]; then
        pass "sweep --plot: every line and empty series named, failures in a band of their own"
    else
        fail "sweep --plot: every line and empty series named, failures in a band of their own" \
            "exit $rc"
    fi
    # what gnuplot says about a script that ran is not the user's to read: long category names
    # had drawn '"/tmp/stepsim-sweep-gp-XXXX" line 298: warning: difficulty making room for
    # xtic labels' on stderr
    run sweep "$SCN/llama3.1-70b-h100.xml" --set recompute=selective --vary pp=2,4 \
        --vary recompute-modules=core_attn,core_attn+mlp+layernorm --plot "$tmp/o/cat2.png"
    if [ "$rc" -eq 0 ] && [ -s "$tmp/o/cat2.png" ] && [ ! -s "$tmp/err" ]; then
        pass "sweep --plot: gnuplot's warnings about its script stay off stderr"
    else
        fail "sweep --plot: gnuplot's warnings about its script stay off stderr" \
            "exit $rc: $(head -c 200 "$tmp/err")"
    fi
    # a narrow window far into the step: drawn from its own start, its ends told apart
    run run "$SCN/default.xml" --set pp=16 --set microbatches=512 --plot "$tmp/o/far.svg" \
        --plot-window 2s:2.0005s
    if [ "$rc" -eq 0 ] && grep -q 'showing 2 s to 2.0005 s' "$tmp/o/far.svg" &&
        grep -q 'time since the first op, less 2 s (µs)' "$tmp/o/far.svg"; then
        pass "--plot-window far into the step: drawn from its start, both ends legible"
    else
        fail "--plot-window far into the step: drawn from its start, both ends legible" "exit $rc"
    fi
    # a title too long for a narrow image is broken at the ' · ' nearest its middle, not shrunk
    # to 7 points under its note (an 800-pixel Gantt); the memory chart's likewise
    two_lines() { # NAME SVG LINE1 LINE2: the title's two lines, each a text of its own
        if [ "$rc" -eq 0 ] && grep -q ">$3<" "$2" && grep -q ">$4<" "$2"; then
            pass "$1"
        else
            fail "$1" "exit $rc: $(grep -o '<text>[^<]*<' "$2" | head -3 | tr '\n' ' ')"
        fi
    }
    run run "$SCN/default.xml" --set pp=16 --set microbatches=512 --plot "$tmp/o/narrow.svg" \
        --plot-size 800x600
    two_lines "--plot-size 800x600: a long Gantt title in two lines" "$tmp/o/narrow.svg" \
        'default (--set pp=16 microbatches=512) · interleaved' \
        'pp=16 vp=2 vp-group=16 · 512 micro-batches · step [0-9.]* s · bubble [0-9.]*%'
    run run "$SCN/llama3.1-405b-16k-h100.xml" --set microbatches=256 --plot "$tmp/o/narrow.svg" \
        --plot-size 800x700
    two_lines "--plot-size 800x700: a long memory-chart title in two lines" \
        "$tmp/o/narrow-memory.svg" 'OUT OF MEMORY: [0-9.]* GiB peak, [0-9.]* usable' \
        'Llama-3.1-405B on 16384 H100 (--set microbatches=256): memory per GPU by pipeline rank'
    # a window's two ends in one unit (0 to 1 ps had been titled "0 µs to 0.001 ns")
    run run "$U" --plot "$tmp/o/ps.svg" --plot-window 0:1ps
    if [ "$rc" -eq 0 ] && grep -q 'showing 0 ps to 1 ps<' "$tmp/o/ps.svg" &&
        grep -q 'time since the first op (ps)' "$tmp/o/ps.svg"; then
        pass "--plot-window 0:1ps: the title's ends and the axis in ps"
    else
        fail "--plot-window 0:1ps: the title's ends and the axis in ps" "exit $rc"
    fi
    # the title says what the command line changed beside the name it may contradict, drawn
    # as typed (no enhanced-text markup: underscores and braces stay); the memory chart carries
    # the layout line too
    run run "$SCN/gpt3-175b-a100.xml" --set pp=96 --set vp=1 --set gpus=768 \
        --set "name=Bob's gpt_3 {x}" --plot "$tmp/o/given.svg"
    if [ "$rc" -eq 0 ] &&
        grep -q ">Bob's gpt_3 {x} (--set pp=96 vp=1 gpus=768 name=Bob's gpt_3 {x}) · step " \
            "$tmp/o/given.svg" &&
        grep -q "(--set pp=96 vp=1 gpus=768 name=Bob's gpt_3 {x}): memory per GPU" \
            "$tmp/o/given-memory.svg" &&
        grep -q '768 GPUs = tp 8 x cp 1 x pp 96' "$tmp/o/given-memory.svg"; then
        pass "--plot titles: the name as typed, the command line's values, the memory layout"
    else
        fail "--plot titles: the name as typed, the command line's values, the memory layout" \
            "exit status $rc"
    fi
    run run "$U" --set microbatches=1 --set pp=1 --plot "$tmp/o/one.svg"
    if [ "$rc" -eq 0 ] && grep -q '· 1 micro-batch ·' "$tmp/o/one.svg"; then
        pass "--plot title: 1 micro-batch, not 1 micro-batches"
    else
        fail "--plot title: 1 micro-batch, not 1 micro-batches" "exit status $rc"
    fi
fi
run run "$U" --plot "$tmp/o/x.png" --plot-size 1600x900x2
expect_error "--plot-size not WxH: exit 2" 2 "stepsim: --plot-size '1600x900x2': " \
    "the height"
run run "$U" --plot "$tmp/o/x.png" --plot-size 100x900
expect_error "--plot-size too narrow: exit 2" 2 "stepsim: --plot-size '100x900': the width " \
    "800"
run run "$U" --plot "$tmp/o/x.png" --plot-window 40ms:12ms
expect_error "--plot-window ending before it starts: exit 2" 2 \
    "stepsim: --plot-window '40ms:12ms': " "the end must come after the start"
run run "$U" --plot "$tmp/o/x.png" --plot-window 12:40ns:1
expect_error "--plot-window with two colons: exit 2" 2 "stepsim: --plot-window '12:40ns:1': " \
    "expected START:END"
run run "$U" --plot "$tmp/o/x.png" --plot-window 12parsecs:40ms
expect_error "--plot-window with a unit that is not one: exit 2" 2 \
    "stepsim: --plot-window '12parsecs:40ms': " "unknown unit"
run run "$U" --plot "$tmp/o/x.png" --plot-window 1s:2s
expect_error "--plot-window after the step ends: exit 2, nothing written" 2 \
    "stepsim: --plot-window: starts at 1 s, after the step ends" "(66 ms)"
[ -e "$tmp/o/x.png" ] && fail "--plot-window after the step ends: no image" "x.png written"
# The issue's steps: 16 and 64 ranks x 512 micro-batches as SVG, a few MB at most, busy
# ranks drawn as busy strips (the title says so); a window of one shows single ops again.
if command -v gnuplot >/dev/null 2>&1; then
    for big in "16 32" "64 128"; do
        set -- $big
        run run "$SCN/default.xml" --set pp=$1 --set layers=$2 --set microbatches=512 \
            --plot "$tmp/o/big$1.svg"
        size=$(wc -c <"$tmp/o/big$1.svg" 2>/dev/null || echo 0)
        if [ "$rc" -eq 0 ] && [ "$size" -gt 10000 ] && [ "$size" -lt 3000000 ] &&
            grep -q 'lanes filled to the busy fraction per' "$tmp/o/big$1.svg"; then
            pass "--plot of $1 ranks x 512 micro-batches: busy strips, SVG of $size bytes"
        else
            fail "--plot of $1 ranks x 512 micro-batches: busy strips, SVG under 3 MB" \
                "exit $rc, $size bytes"
        fi
    done
    run run "$SCN/default.xml" --set pp=16 --set microbatches=512 --plot "$tmp/o/win.svg" \
        --plot-window 1s:1060ms --plot-size 1200x900
    if [ "$rc" -eq 0 ] && grep -q 'width="1200" height="900"' "$tmp/o/win.svg" &&
        grep -q 'showing 1 s to 1.06 s' "$tmp/o/win.svg" && grep -q '>127<' "$tmp/o/win.svg" &&
        ! grep -q 'busy fraction per' "$tmp/o/win.svg"; then
        pass "--plot-window 1s:1060ms --plot-size 1200x900: single ops, three-digit labels"
    else
        fail "--plot-window 1s:1060ms --plot-size 1200x900: single ops, three-digit labels" \
            "exit $rc"
    fi
    # 17 legend entries in a 400-pixel image: gnuplot had broken the legend into a second
    # column, which ran past the right edge ("B  chunk 3" on cut off); all in one column now.
    run run "$U" --set schedule=interleaved --set vp=8 --set layers=32 --set microbatches=16 \
        --plot "$tmp/o/key.svg" --plot-size 1600x400
    cols=$(grep -B1 '<text xml:space="preserve">[FB]  chunk [0-7]<' "$tmp/o/key.svg" |
        sed -n 's/.*translate(\([0-9.]*\),.*/\1/p' | sort -u | wc -l)
    entries=$(grep -c '<text xml:space="preserve">[FB]  chunk [0-7]<' "$tmp/o/key.svg")
    if [ "$rc" -eq 0 ] && [ "$entries" -eq 16 ] && [ "$cols" -eq 1 ]; then
        pass "--plot-size 1600x400 with vp=8: the legend's 16 chunk entries in one column"
    else
        fail "--plot-size 1600x400 with vp=8: the legend's 16 chunk entries in one column" \
            "exit $rc, $entries entries at $cols x positions"
    fi
else
    skip "--plot of 16 and 64 ranks x 512 micro-batches" "no gnuplot"
    skip "--plot-size 1600x400 with vp=8: the legend's 16 chunk entries in one column" \
        "no gnuplot"
    skip "sweep --plot: gnuplot's warnings about its script stay off stderr" "no gnuplot"
fi

if [ -w /dev/full ]; then
    "$S" run "$U" >/dev/full 2>"$tmp/err"
    rc=$?
    expect_error "stdout write error: exit 1" 1 "stepsim: " "cannot write the report"
    # every command: what never reached stdout is a failure, whichever command printed it
    for args in "validate $U" "published $top_srcdir/scenarios/llama3.1-70b-h100.xml" \
        "import megatron --hardware dgx-h100 --model llama3.1-8b -- --seq-length 8192" \
        "--help" "--version"; do
        # shellcheck disable=SC2086 # the words of args are the command's arguments
        "$S" $args >/dev/full 2>"$tmp/err"
        rc=$?
        expect_error "stdout write error of '${args%% *}': exit 1" 1 "stepsim: " "cannot write"
    done
    "$S" validate "$U" >&- 2>"$tmp/err"
    rc=$?
    expect_error "validate with stdout closed: exit 1" 1 "stepsim: " "cannot write"
else
    skip "stdout write error: exit 1" "no /dev/full"
fi

# sweep: a CSV with one row per config, the same whatever -j is; bad --vary: exit 2, one line.
run sweep "$U" --vary pp=1,2,4 --vary microbatches=1:8:+1 -j 1
expect_ok "sweep exit 0 with a CSV on stdout"
if [ "$(wc -l <"$tmp/out")" -eq 25 ] &&
    [ "$(head -n 1 "$tmp/out" | cut -d, -f1-3)" = "pp,microbatches,status" ]; then
    pass "sweep CSV has a header and 24 rows"
else
    fail "sweep CSV has a header and 24 rows" "$(wc -l <"$tmp/out") lines"
fi
cp "$tmp/out" "$tmp/sweep-j1.csv"
run sweep "$U" --vary pp=1,2,4 --vary microbatches=1:8:+1 -j 2 --out "$tmp/o/sweep-j2.csv"
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/out" ] && cmp -s "$tmp/sweep-j1.csv" "$tmp/o/sweep-j2.csv"; then
    pass "sweep -j1 and -j2 (--out) give identical CSVs"
else
    fail "sweep -j1 and -j2 (--out) give identical CSVs" "exit status $rc"
fi
run sweep "$U" --vary pp=1,3,2
if [ "$rc" -eq 0 ] && grep -q '^3,error,.*pp=3' "$tmp/out" && [ "$(grep -c ',ok,' "$tmp/out")" -eq 2 ]; then
    pass "sweep: an invalid config is an error row, the others run"
else
    fail "sweep: an invalid config is an error row, the others run" "exit status $rc"
fi
# A sweep chart marks what did not run or fit: configs out of memory (hollow markers), failed
# ones (crosses), a line where every config failed (named in the legend); the breakdown is in
# shares of each config's step time, which is written above its bar.
if command -v gnuplot >/dev/null 2>&1; then
    run sweep "$SCN/llama3.1-70b-h100.xml" --vary pp=2,3,4 --vary micro-batch=1,8 \
        --plot "$tmp/o/sw.svg" --out "$tmp/o/sw.csv"
    if [ "$rc" -eq 0 ] &&
        [ "$(cat "$tmp/err")" = "stepsim: sweep: 4 of 6 configs failed (2 rule errors, 2 out of memory)" ] &&
        grep -q '>out of memory (hollow)<' "$tmp/o/sw.svg" &&
        grep -q '>failed (see the CSV)<' "$tmp/o/sw.svg" &&
        grep -q '>pp=3: all failed<' "$tmp/o/sw.svg" &&
        grep -q 'pp=3 micro-batch=8 (failed)' "$tmp/o/sw-breakdown.svg" &&
        grep -q 'pp=4 micro-batch=8 (OOM)' "$tmp/o/sw-breakdown.svg" &&
        grep -q 'its step time on top' "$tmp/o/sw-breakdown.svg"; then
        pass "sweep --plot marks out-of-memory and failed configs and lines where nothing ran"
    else
        fail "sweep --plot marks out-of-memory and failed configs and lines where nothing ran" \
            "exit $rc"
    fi
    # the SVGs' text is the PNGs' size: 13 points are 17.33 pixels (they had been 13)
    svg_text "sweep --plot F.svg: the charts' text at the PNG's size" 17.33 13.00 \
        "$tmp/o/sw.svg" "$tmp/o/sw-breakdown.svg"
    # Every config failing leaves nothing to draw: the CSV that says why is still written, the
    # image is not, and the sweep exits 0 as --help says (it ran).
    run sweep "$U" --vary pp=3 --plot "$tmp/o/none.png" --out "$tmp/o/none.csv"
    if [ "$rc" -eq 0 ] && grep -q '^3,error,.*pp=3' "$tmp/o/none.csv" && [ ! -e "$tmp/o/none.png" ] &&
        grep -q "^stepsim: --plot $tmp/o/none.png: not drawn: every config failed\$" "$tmp/err"; then
        pass "sweep --plot where every config failed: the CSV written, no image, exit 0"
    else
        fail "sweep --plot where every config failed: the CSV written, no image, exit 0" "exit $rc"
    fi
else
    skip "sweep --plot marks out-of-memory and failed configs" "no gnuplot"
fi
# A pp sweep at a gpus only some pp divide (GLM-5.2's 416 GPUs at ep 32: 13 stage slots) fails
# every config: stderr names the first one's rule and what would fit, not only the CSV.
run sweep "$SCN/glm-5.2-744b-h100.xml" --vary pp=2,4 -j 1 --out "$tmp/o/glm.csv"
if [ "$rc" -eq 0 ] && grep -q '^stepsim: sweep: 2 of 2 configs failed (2 rule errors)$' "$tmp/err" &&
    grep -q '^stepsim: sweep: the first, pp=2: gpus=416 is not .*; pp=1 or 13 fit gpus=416; pp=2 needs gpus a multiple of 64: 384 or 448 (pp given by --vary)$' "$tmp/err"; then
    pass "sweep where every config broke a rule: the first one's reason and what fits on stderr"
else
    fail "sweep where every config broke a rule: the first one's reason and what fits on stderr" \
        "exit $rc: $(cat "$tmp/err")"
fi
# run's warning that tp leaves the node, counted over the sweep's configs
run sweep "$SCN/gpt3-175b-a100.xml" --vary tp=8,16 --vary pp=8
if [ "$rc" -eq 0 ] && [ "$(cat "$tmp/err")" = "stepsim: warning: sweep: in 1 of 2 configs tp \
spans nodes: tensor-parallel traffic crosses the network" ]; then
    pass "sweep warns, as run does, where tp spans nodes"
else
    fail "sweep warns, as run does, where tp spans nodes" "exit $rc: $(cat "$tmp/err")"
fi
# seq past the model's max-seq runs (a context-length extrapolation is worth timing) but says
# so: run on stderr and in the text report, plan once on stderr, sweep counted; at max-seq
# itself, nothing.
past="stepsim: warning: seq=4096 is longer than max-seq=2048 in $SCN/../models/gpt3-175b.xml: \
positions past it were never trained (Megatron-LM asserts max_position_embeddings >= seq_length)"
run run "$SCN/gpt3-175b-a100.xml" --set seq=4096
if [ "$rc" -eq 0 ] && [ "$(cat "$tmp/err")" = "$past" ] &&
    grep -q "^warning            seq=4096 is longer than gpt3-175b's max-seq=2048\$" "$tmp/out"; then
    pass "run warns where seq is longer than the model's max-seq"
else
    fail "run warns where seq is longer than the model's max-seq" "exit $rc"
fi
run run "$SCN/gpt3-175b-a100.xml" --set seq=2048
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && ! grep -q "max-seq" "$tmp/out"; then
    pass "run at the model's max-seq: no warning"
else
    fail "run at the model's max-seq: no warning" "exit $rc"
fi
run plan "$SCN/gpt3-175b-a100.xml" --set seq=4096 --gpus 64 --top 1 -j1
if [ "$rc" -eq 0 ] && [ "$(cat "$tmp/err")" = "$past" ] && grep -q '^plan for ' "$tmp/out"; then
    pass "plan warns once where seq is longer than the model's max-seq"
else
    fail "plan warns once where seq is longer than the model's max-seq" \
        "exit $rc: $(cat "$tmp/err")"
fi
run plan "$SCN/gpt3-175b-a100.xml" --set seq=2048 --gpus 64 --top 1 -j1
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ]; then
    pass "plan at the model's max-seq: no warning"
else
    fail "plan at the model's max-seq: no warning" "exit $rc: $(cat "$tmp/err")"
fi
run sweep "$SCN/gpt3-175b-a100.xml" --vary seq=1024,2048,4096,8192
if [ "$rc" -eq 0 ] && [ "$(cat "$tmp/err")" = "stepsim: warning: sweep: in 2 of 4 configs seq is \
longer than max-seq=2048 in $SCN/../models/gpt3-175b.xml: positions past it were never trained" ]
then
    pass "sweep counts the configs whose seq is longer than the model's max-seq"
else
    fail "sweep counts the configs whose seq is longer than the model's max-seq" "exit $rc"
fi
# Two scenario files giving one name: the JSON's scenario is the name in both, scenario_file
# and the HTML page's heading and title tell them apart by the path as given.
mkdir -p "$tmp/same/a" "$tmp/same/b"
cp "$SCN/default.xml" "$tmp/same/a/default.xml"
cp "$SCN/default.xml" "$tmp/same/b/default.xml"
ok=1
for d in a b; do
    f=$tmp/same/$d/default.xml
    run run "$f" --format json --report "$tmp/same/$d.html"
    [ "$rc" -eq 0 ] && grep -q '^  "scenario": "default",$' "$tmp/out" &&
        grep -Fqx "  \"scenario_file\": \"$f\"," "$tmp/out" &&
        grep -Fq "<title>stepsim: default ($f)</title>" "$tmp/same/$d.html" &&
        grep -Fq "<h1>default <span class=\"file\">$f</span></h1>" "$tmp/same/$d.html" || ok=0
done
if [ "$ok" -eq 1 ]; then
    pass "two files of one scenario name: JSON scenario_file and the page's heading name each file"
else
    fail "two files of one scenario name: JSON scenario_file and the page's heading name each file" \
        "exit $rc"
fi
# Two varied keys breaking a rule together are both named; a rule that reads one varied key and
# the file's values names that one (it had been the file's microbatches line).
run sweep "$SCN/default.xml" --vary pp=4,3 --vary vp=2,3
both='^4,3,error,.*layers=32 is not divisible by pp\*vp=12 .*(pp, vp given by --vary)"$'
one='^3,2,error,.*"microbatches=16 leaves a last group of 1 .*(pp given by --vary)"$'
if [ "$rc" -eq 0 ] && grep -q "$both" "$tmp/out" && grep -q "$one" "$tmp/out"; then
    pass "sweep: a rule broken by two varied keys names both"
else
    fail "sweep: a rule broken by two varied keys names both" "exit $rc"
fi
# on a terminal the progress bar ends with how long the sweep took (script(1) gives it one)
if command -v script >/dev/null 2>&1; then
    script -qc "'$S' sweep '$U' --vary pp=1,2,4 --out /dev/null" /dev/null </dev/null \
        >"$tmp/tty" 2>&1
    if tr '\r' '\n' <"$tmp/tty" | grep -q '^\[#*\] 3/3 configs in [0-9]*\.[0-9] s'; then
        pass "sweep on a terminal: the progress bar says how long it took"
    else
        fail "sweep on a terminal: the progress bar says how long it took" "$(cat "$tmp/tty")"
    fi
else
    skip "sweep on a terminal: the progress bar says how long it took" "no script(1)"
fi
run sweep "$U" --vary pp=8:1:x2
expect_error "sweep bad --vary range: exit 2" 2 "stepsim: " "empty range"
run sweep "$U" --vary pp=1,2,4 --set pp=4
expect_error "sweep: a key both --set and --vary (exit 2, naming both)" 2 "stepsim: " \
    "--set pp=4 and --vary pp: the key is given twice on the command line"
run sweep "$U" --vary nosuchkey=1,2
expect_error "sweep unknown --vary key: exit 2" 2 "stepsim: " "unknown key 'nosuchkey'"
# a value its key cannot take is a typo, not a config: exit 2 before anything runs, as --set
run sweep "$U" --vary pp=1,two
expect_error "sweep --vary value its key cannot take: exit 2" 2 "stepsim: " \
    "--vary pp=two: 'two' is not a whole number"
run sweep "$U" --vary pp=1,2,1
expect_error "sweep --vary value listed twice: exit 2" 2 "stepsim: " "--vary pp=1,2,1: '1' is listed twice"
run sweep "$U" --vary link-bandwidth=8Gbps,2GBps,1GBps
expect_error "sweep --vary value in two spellings (units): exit 2 naming both" 2 "stepsim: " \
    "--vary link-bandwidth=8Gbps,2GBps,1GBps: '8Gbps' and '1GBps' are one value, listed twice"
run sweep "$U" --vary schedule,vp=1f1b:1,zbv:2
expect_error "sweep --vary linked value its key cannot take: exit 2" 2 "stepsim: " \
    "--vary schedule=zbv: unknown schedule 'zbv'"
run sweep "$U"
expect_error "sweep without --vary: exit 2" 2 "stepsim: " "needs at least one --vary"

# The sweep users run most, pipeline depth x micro-batch count, on every shipped modelled
# scenario (the MoE guide's too): each config runs (the global batch follows the varied
# microbatches, a file's first/last-stage-layers follow the varied pp, and where the file sets
# no end apart and the varied pp cannot split the layers evenly both ends follow it) or breaks
# a rule no real run could meet (DualPipe's micro-batch rule, a world size pp does not divide);
# never a contradiction between values the command line gave and values the file only implied.
# A config that runs but needs more than the usable HBM (status oom) runs too.
real_rules='exceed layers|needs an even number of micro-batches|is not a multiple of pp\*max'
modelled=0
for f in "$SCN"/*.xml "$SCN"/moe-guide/*.xml; do
    name=${f##*/}
    # the guide's small clusters, the 4-GPU MoE fine-tune (tp 4 x ep 4) and the 416-GPU GLM
    # runs (cp 32 x ep 32, pp 13 x ep 32) may fit no pp of 2, 4 or 8 at all (their parallel world)
    case $f in
    */moe-guide/* | */qwen3-30b-a3b-lora-h100.xml | */glm-5.1-sft-128k-h100.xml | \
        */glm-5.2-744b-h100.xml) need_ok=0 ;;
    *) need_ok=1 ;;
    esac
    run sweep "$f" --vary pp=2,4,8 --vary microbatches=8,16,32 -j 2
    head -n 1 "$tmp/out" | grep -q ',tokens_per_s_per_gpu,' || continue # explicit costs
    modelled=$((modelled + 1))
    rows=$(($(wc -l <"$tmp/out") - 1))
    ok=$(awk -F, 'NR > 1 && ($3 == "ok" || $3 == "oom")' "$tmp/out" | wc -l)
    other=$(awk -F, 'NR > 1 && $3 != "ok" && $3 != "oom"' "$tmp/out" | grep -Ev "$real_rules")
    if [ "$rc" -ne 0 ] || [ "$rows" -ne 9 ] || [ "$ok" -lt "$need_ok" ] || [ -n "$other" ]; then
        fail "sweep pp x microbatches on $name: every config runs or breaks a real rule" \
            "exit $rc, $rows rows, $ok ok" "$(printf '%s' "$other" | head -n 2)"
    elif awk -F, 'NR > 1 && $3 == "ok"' "$tmp/out" |
        grep -Eqv ',global-batch( first-stage-layers)?( last-stage-layers)?,$'; then
        fail "sweep pp x microbatches on $name: the derived column names global-batch (and the ends)"
    else
        pass "sweep pp x microbatches on $name: $ok of 9 run, the rest break real rules"
    fi
done
if [ "$modelled" -ge 5 ]; then
    pass "sweep pp x microbatches covered $modelled shipped modelled scenarios"
else
    fail "sweep pp x microbatches covered $modelled shipped modelled scenarios, expected >= 5"
fi
# Precision and tensor parallelism, the next sweeps users run: on every shipped modelled
# scenario, --vary dtype=bf16,fp8 runs both (a file's fp8 keys follow the varied dtype) unless
# the GPU has no fp8 peak, and --vary tp=1,2 runs tp 1 beside a file's sp=true (it follows tp)
# unless a real rule stops it.
for f in "$SCN"/*.xml "$SCN"/moe-guide/*.xml; do
    name=${f##*/}
    run sweep "$f" --vary dtype=bf16,fp8 -j 2
    head -n 1 "$tmp/out" | grep -q ',tokens_per_s_per_gpu,' || continue # explicit costs
    other=$(awk -F, 'NR > 1 && $2 != "ok" && $2 != "oom"' "$tmp/out" | grep -v 'has no fp8 peak')
    run sweep "$f" --vary tp=1 -j 2
    sp=$(awk -F, 'NR > 1 && $2 != "ok" && $2 != "oom"' "$tmp/out" | grep 'sp=true needs tp')
    if [ -z "$other" ] && [ -z "$sp" ]; then
        pass "sweep dtype and tp on $name: fp8 keys follow dtype, sp follows tp"
    else
        fail "sweep dtype and tp on $name: fp8 keys follow dtype, sp follows tp" \
            "$(printf '%s\n%s' "$other" "$sp" | head -n 2)"
    fi
done
# The fp8 recipe and the ZeRO stage, swept on every shipped modelled scenario: a recipe given
# later makes the run fp8 (the dtype follows), the bf16 edge layers follow delayed scaling, and
# zero=0 turns a file's distributed optimizer off; only a GPU without fp8 stops a config.
for f in "$SCN"/*.xml "$SCN"/moe-guide/*.xml; do
    name=${f##*/}
    run sweep "$f" --vary fp8-recipe=delayed,current --vary zero=0,1 -j 2
    head -n 1 "$tmp/out" | grep -q ',tokens_per_s_per_gpu,' || continue # explicit costs
    other=$(awk -F, 'NR > 1 && $3 != "ok" && $3 != "oom"' "$tmp/out" | grep -v 'has no fp8 peak')
    if [ -z "$other" ] && grep -q '^delayed,0,' "$tmp/out"; then
        pass "sweep fp8-recipe x zero on $name: dtype and the sharding keys follow"
    else
        fail "sweep fp8-recipe x zero on $name: dtype and the sharding keys follow" \
            "$(printf '%s\n' "$other" | head -n 1)"
    fi
done
# The same followers on published recipes (scenarios/validation): the ZeRO stage on torchtitan's
# FSDP (fsdp follows zero=0), the dtype on Nemotron 3 Ultra's MXFP8 recipe (its offload of the
# fused grouped MLP, and that offload's tuning, follow the MLP out), unfused attention on a
# recipe with fp8 attention: every config runs (or is out of memory), the follower named.
for case in "a1.xml zero=0,3 fsdp" "g17.xml dtype=bf16,fp8 offload-modules" \
    "g5.xml attention=flash,unfused fp8-attention"; do
    set -- $case
    run sweep "$top_srcdir/scenarios/validation/$1" --vary "$2" -j 2
    bad=$(awk -F, 'NR > 1 && $2 != "ok" && $2 != "oom"' "$tmp/out")
    if [ -z "$bad" ] && grep -q "$3" "$tmp/out"; then
        pass "sweep $2 on $1: every config runs, $3 follows"
    else
        fail "sweep $2 on $1: every config runs, $3 follows" "$(printf '%s\n' "$bad" | head -n 1)"
    fi
done
# Context parallelism on the shipped LoRA fine-tune, whose sequences pack documents: tp traded
# for cp on its 8 GPUs, every cp-comm-type, each config runs (THD format under CP).
run sweep "$SCN/llama3-70b-lora-h100.xml" --vary tp,cp=2:1,1:2 \
    --vary cp-comm-type=p2p,allgather,a2a -j 2
bad=$(awk -F, 'NR > 1 && $4 != "ok" && $4 != "oom"' "$tmp/out")
if [ "$rc" -eq 0 ] && [ -z "$bad" ] && [ "$(grep -c '^1,2,' "$tmp/out")" -eq 3 ]; then
    pass "sweep tp,cp on a packed LoRA fine-tune: packed documents run under context parallelism"
else
    fail "sweep tp,cp on a packed LoRA fine-tune: packed documents run under context parallelism" \
        "$(printf '%s\n' "$bad" | head -n 1)"
fi
# LoRA against full fine-tuning: on a MoE recipe (Qwen3-30B-A3B, EP 8: adapters beside the
# routed experts) both run; on the shipped LoRA fine-tune LoRA, DoRA and none run, and without
# adapters its LoRA keys follow.
run sweep "$top_srcdir/scenarios/validation/e13.xml" --vary peft=none,lora -j 2
if [ "$rc" -eq 0 ] && [ "$(grep -c '^[a-z]*,ok,' "$tmp/out")" -eq 2 ]; then
    pass "sweep peft on a MoE recipe: LoRA runs beside the experts"
else
    fail "sweep peft on a MoE recipe: LoRA runs beside the experts" "$(head -n 3 "$tmp/out")"
fi
run sweep "$SCN/llama3-70b-lora-h100.xml" --vary peft=lora,dora,none -j 2
if grep -q '^none,.*lora-rank lora-modules' "$tmp/out" && ! grep -q ',error,' "$tmp/out" &&
    [ "$(grep -c '^[ld]ora,ok,' "$tmp/out")" -eq 2 ]; then
    pass "sweep peft on a LoRA fine-tune: DoRA runs too; lora-rank and lora-modules follow peft=none"
else
    fail "sweep peft on a LoRA fine-tune: DoRA runs too; lora-rank and lora-modules follow peft=none" \
        "$(head -n 3 "$tmp/out")"
fi
# Recompute, swept on recipes that name its modules (a Gated DeltaNet model's) or its method
# (torchtitan-era full recompute by blocks): each granularity runs, the keys of another one
# following it (derived), none refused by a rule meant for a file that gives them together.
for f in "$top_srcdir/scenarios/validation/mz9.xml" "$top_srcdir/scenarios/validation/a1.xml"; do
    name=${f##*/}
    run sweep "$f" --vary recompute=none,full,selective -j 2
    if [ "$rc" -eq 0 ] && [ "$(grep -c ',ok,\|,oom,' "$tmp/out")" -eq 3 ] &&
        grep -q '^none,.*recompute-' "$tmp/out"; then
        pass "sweep recompute on $name: every granularity runs, the others' keys follow"
    else
        fail "sweep recompute on $name: every granularity runs, the others' keys follow" \
            "$(grep -v ',ok,' "$tmp/out" | sed -n 2p)"
    fi
done
# The schedule, the pipeline and CUDA graphs, swept on recipes whose keys belong to one of their
# values: DeepSeek-V3's pipeline-layout (8 x 2 stages) and EP overlap (1f1b / interleaved
# pairs), Qwen3's cuda-graph-scope (per-module graphs).  Each value runs or meets a real rule;
# none is refused for a key the file wrote for another value (each of those follows, derived).
check_follow_sweep() { # FILE VARY WHAT
    run sweep "$top_srcdir/scenarios/validation/$1" --vary "$2" -j 2
    bad=$(awk -F, 'NR > 1 && $2 == "error"' "$tmp/out" |
        grep -e 'pipeline-layout' -e 'overlap-ep-comm' -e 'cuda-graph-scope applies')
    if [ "$rc" -eq 0 ] && [ -z "$bad" ] && grep -q "$3" "$tmp/out"; then
        pass "sweep $2 on $1: the file's keys for other values follow"
    else
        fail "sweep $2 on $1: the file's keys for other values follow" "$(echo "$bad" | head -n 1)"
    fi
}
check_follow_sweep e12.xml schedule=1f1b,interleaved,zb-v 'pipeline-layout overlap-ep-comm'
check_follow_sweep e12.xml pp=2,4,8 'first-stage-layers last-stage-layers pipeline-layout'
check_follow_sweep e1.xml cuda-graphs=none,modules 'microbatches cuda-graph-scope'
run sweep "$SCN/llama3.1-70b-h100.xml" --vary vp=1,2,4 -j 2
if [ "$(grep -c ',ok,' "$tmp/out")" -eq 3 ] && grep -q '^1,ok,.*schedule microbatches' "$tmp/out"; then
    pass "sweep vp=1,2,4 on the interleaved Llama-3.1-70B: each runs, vp 1 as 1f1b (derived)"
else
    fail "sweep vp=1,2,4 on the interleaved Llama-3.1-70B: each runs, vp 1 as 1f1b (derived)" \
        "$(grep -v ',ok,' "$tmp/out" | sed -n 2p)"
fi
run sweep "$SCN/llama3.1-70b-h100.xml" --vary pp=2,4,8 --vary microbatches=8,16,32
if [ "$(grep -c ',ok,' "$tmp/out")" -eq 9 ]; then
    pass "sweep pp x microbatches on the issue's Llama-3.1-70B: all 9 configs run"
else
    fail "sweep pp x microbatches on the issue's Llama-3.1-70B: all 9 configs run" \
        "$(grep -v ',ok,' "$tmp/out" | sed -n 2p)"
fi
run sweep "$SCN/llama3.1-70b-h100.xml" --set global-batch=512 --vary microbatches=16,32
if [ "$rc" -eq 0 ] && grep -q '^16,error,.*--vary microbatches=16 contradicts --set global-batch=512' "$tmp/out" &&
    grep -q '^32,ok,' "$tmp/out"; then
    pass "sweep: --set global-batch with a disagreeing --vary microbatches names both options"
else
    fail "sweep: --set global-batch with a disagreeing --vary microbatches names both options" \
        "exit status $rc"
fi
run run "$SCN/llama3.1-70b-h100.xml" --format json
if [ "$rc" -eq 0 ] && grep -q '^  "derived": \["microbatches"\],$' "$tmp/out"; then
    pass "run --format json: the file's global batch given, microbatches derived"
else
    fail "run --format json: the file's global batch given, microbatches derived" "exit status $rc"
fi
if [ "$rc" -eq 0 ] && grep -q '^  "dp": 16,$' "$tmp/out" && ! grep -q '"edp"' "$tmp/out"; then
    pass "run --format json: a dense model reports dp, no expert dp"
else
    fail "run --format json: a dense model reports dp, no expert dp" "exit status $rc"
fi
run run "$SCN/llama3.1-70b-h100.xml" --set microbatches=16 --format json
if [ "$rc" -eq 0 ] && grep -q '^  "derived": \["global-batch"\],$' "$tmp/out" &&
    grep -q '"global_batch": 256,' "$tmp/out"; then
    pass "run --set microbatches=16: the global batch follows (16 x 1 x dp 16 = 256), derived"
else
    fail "run --set microbatches=16: the global batch follows (16 x 1 x dp 16 = 256), derived" \
        "exit status $rc"
fi
run run "$SCN/llama3.1-70b-h100.xml" --set global-batch=512 --set microbatches=16
expect_error "run: --set global-batch and --set microbatches that disagree: exit 2" 2 \
    "stepsim: --set microbatches=16 contradicts --set global-batch=512: " "give one of the two"
run sweep "$U" --vary schedule,vp=1f1b:1,interleaved:2,zb-v:2
if [ "$rc" -eq 0 ] && [ "$(head -n 1 "$tmp/out" | cut -d, -f1-3)" = "schedule,vp,status" ] &&
    [ "$(grep -c ',ok,' "$tmp/out")" -eq 3 ]; then
    pass "sweep: a linked axis schedule,vp runs each tuple, one column per key"
else
    fail "sweep: a linked axis schedule,vp runs each tuple, one column per key" "exit status $rc"
fi
run sweep "$U" --vary schedule,vp=1f1b:1,interleaved
expect_error "sweep: a linked tuple short of a field: exit 2" 2 "stepsim: " \
    "'interleaved' is not 2 values separated by ':'"

# plan: the 405B acceptance case (top config sensible and in HBM, well under 10 s), --out
# CSV with every valid config, the same top for -j 1 and -j 2; no model: exit 2, one line.
run plan "$SCN/llama3.1-405b-16k-h100.xml" --gpus 16384 --out "$tmp/o/plan.csv" -j 2
top=$(awk '$1 == "1" { print; exit }' "$tmp/out")
wall=$(sed -n 's/.*; \([0-9.]*\) s wall$/\1/p' "$tmp/out")
case $top in
"1    tp8 pp"*" interleaved "*)
    if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && awk -v w="$wall" 'BEGIN { exit !(w < 10) }'; then
        pass "plan 405B on 16384 GPUs: tp8 interleaved first, ${wall} s"
    else
        fail "plan 405B on 16384 GPUs" "exit status $rc, wall '$wall'"
    fi ;;
*) fail "plan 405B on 16384 GPUs: tp8 interleaved first" "top line: $top" ;;
esac
if [ "$(head -n 1 "$tmp/o/plan.csv" | cut -d, -f1-5)" = "dp,gpus,tp,pp,vp" ] &&
    grep -q ',ok,' "$tmp/o/plan.csv" && grep -q ',pruned,' "$tmp/o/plan.csv" &&
    grep -q ',oom,' "$tmp/o/plan.csv"; then
    pass "plan --out CSV lists simulated (ok), pruned and oom configs"
else
    fail "plan --out CSV lists simulated (ok), pruned and oom configs"
fi
grep '^[1-5] ' "$tmp/out" >"$tmp/plan-j2.top"
run plan "$SCN/llama3.1-405b-16k-h100.xml" --gpus 16384 -j 1
grep '^[1-5] ' "$tmp/out" >"$tmp/plan-j1.top"
if [ "$rc" -eq 0 ] && [ -s "$tmp/plan-j1.top" ] && cmp -s "$tmp/plan-j1.top" "$tmp/plan-j2.top"; then
    pass "plan -j1 and -j2 give the same top 5"
else
    fail "plan -j1 and -j2 give the same top 5" "exit status $rc"
fi
# A model sharing its DSA top-k (GLM-5.2) plans on layouts that keep each group on one stage
# (every chunk must start on a layer computing its top-k): the rows say dsa-groups and the CSV
# carries the pipeline layout to run them with.
run plan "$SCN/llama3.1-70b-h100.xml" --set model=glm-5.2-744b-a40b --set global-batch=1024 \
    --gpus 416 --top 3 --out "$tmp/o/plan-dsa.csv" -j 2
if [ "$rc" -eq 0 ] && grep -q '^1 .* dsa-groups' "$tmp/out" &&
    grep -q ',Et[t|]*mL,' "$tmp/o/plan-dsa.csv"; then
    pass "plan GLM-5.2: layouts of whole DSA top-k groups"
else
    fail "plan GLM-5.2: layouts of whole DSA top-k groups" "exit status $rc" \
        "$(head -n 6 "$tmp/out")"
fi
# an fp8 dispatch wire applies to the flex dispatchers alone: plan drops it from the
# all-to-all layouts it tries (as deepep-sms), instead of finding every one refused
run plan "$SCN/mixtral-8x7b-h100.xml" --gpus 64 --set moe-dispatch-dtype=fp8 \
    --dispatchers alltoall,deepep --top 3 -j 2
check "plan --set moe-dispatch-dtype=fp8: all-to-all layouts tried too" \
    grep -Eq "^[0-9]+ +tp1 pp1 vp1 cp1 ep8/1 alltoall " "$tmp/out"
# Under the table, one line runs the first layout: the scenario, plan's --set values (and
# --hbm-reserve as hw.hbm-reserve), then the keys the layout changes.  Pasted into a shell it
# gives the row's step time (the table's 4 decimals) and peak memory (2 decimals): a dense
# model with plan --set values, a MoE one choosing among dispatchers, a --set value the
# layout changes (cp-comm-type at cp 1: written once, as the layout's default -- run takes a
# key once), and --set values the layout drops (deepep-sms and an fp8 wire beside an
# all-to-all dispatcher: left out, as run refuses them there; given by the file, put back at
# their defaults), and zero0 rows where the file runs the distributed optimizer (zero=0 said;
# torchtitan, offering no ZeRO-1, refused the line without it).
cat >"$tmp/flex.xml" <<EOF
<scenario name="flex" base="$(cd "$SCN" && pwd)/mixtral-8x7b-h100.xml">
  <parallel gpus="64" tp="2" ep="8" sp="true" moe-dispatcher="deepep" deepep-sms="24"/>
</scenario>
EOF
for c in "llama3.1-70b-h100.xml --gpus 64 --set seq=4096 --hbm-reserve 4GiB --set tp=8" \
    "mixtral-8x7b-h100.xml --gpus 32 --dispatchers all" \
    "llama3.1-70b-h100.xml --gpus 64 --set cp-comm-type=a2a --set cp=1" \
    "mixtral-8x7b-h100.xml --gpus 64 --set deepep-sms=24 --dispatchers alltoall" \
    "mixtral-8x7b-h100.xml --gpus 64 --set moe-dispatch-dtype=fp8 --dispatchers alltoall" \
    "$tmp/flex.xml --gpus 64 --dispatchers alltoall" \
    "qwen3-30b-a3b-lora-h100.xml --gpus 64" \
    "llama3.1-70b-h100.xml --gpus 128 --set framework=torchtitan --set tp=8"; do
    set -- $c
    f=$1
    shift
    case $f in /*) p=$f ;; *) p=$SCN/$f ;; esac
    f=${f##*/}
    run plan "$p" "$@" --top 2 -j 2
    lines=$(grep -c '^run it: stepsim run ' "$tmp/out")
    row=$(grep -m 1 '^1 ' "$tmp/out")
    cmd=$(sed -n 's/^run it: stepsim run //p' "$tmp/out")
    if [ "$rc" -ne 0 ] || [ "$lines" -ne 1 ] || [ -z "$row" ]; then
        fail "plan $f: one 'run it:' line under the table" "exit $rc, $lines lines"
        continue
    fi
    eval "set -- $cmd"
    run run "$@"
    got=$(awk '/^step time/ { s = $3 } /^rank +weights/ { m = 1; next }
        m && NF == 6 && $6 > p { p = $6 } m && NF != 6 { m = 0 }
        END { printf "%.4f %.2f", s, p }' "$tmp/out")
    want=$(printf '%s\n' "$row" | awk '{ m = $(NF - 4); sub(/!$/, "", m); print $(NF - 8), m }')
    if [ "$rc" -eq 0 ] && [ "$got" = "$want" ]; then
        pass "plan $f: its 'run it:' line gives the row's step time and memory ($got)"
    else
        fail "plan $f: its 'run it:' line gives the row's step time and memory" \
            "exit $rc; plan $want, run $got: $cmd"
    fi
done
# What offload moves past the host's memory: the rank is out of memory, and every message says
# the host's memory is what ran out (not HBM)
run run "$SCN/llama3.1-70b-h100.xml" --set offload-optimizer=1 --set hw.host-memory=1GB \
    --fail-on-oom
if [ "$rc" -eq 2 ] &&
    grep -q '^OUT OF HOST MEMORY rank [0-9]* offloads [0-9.]* GiB per GPU of the 0.9 GiB the host has$' "$tmp/out" &&
    grep -q '^   0 .* OUT OF HOST MEMORY$' "$tmp/out" &&
    grep -q '^offloaded to the host: [0-9.]* GiB per GPU at most, of the 0.9 GiB' "$tmp/out" &&
    grep -q 'out of host memory: rank [0-9]* offloads [0-9.]* GiB per GPU of the 0.9 GiB the host has (--fail-on-oom)' "$tmp/err"; then
    pass "run: offload past the host's memory is out of memory, said as the host's"
else
    fail "run: offload past the host's memory is out of memory, said as the host's" "exit $rc"
fi
run sweep "$SCN/llama3.1-70b-h100.xml" --set hw.host-memory=1GB --vary offload-optimizer=0,1
if [ "$rc" -eq 0 ] && grep -q '^0,ok,.*,yes,' "$tmp/out" && grep -q '^1,oom,.*,no,' "$tmp/out"; then
    pass "sweep: a config offloading past the host's memory is oom, fits no"
else
    fail "sweep: a config offloading past the host's memory is oom, fits no" "exit $rc"
fi
# A listed peak within 5% of its usable HBM carries '!' (inside the memory model's error), and
# only such a peak: checked on every row of a plan that lists both kinds
run plan "$SCN/llama3.1-70b-h100.xml" --gpus 512 --top 10 -j 2
# (mem_GiB and of_GiB follow the first field in %, the MFU)
flags=$(awk '/^[0-9]+ +tp/ { for (i = 1; i <= NF; i++) if ($i ~ /%$/) { m = $(i+1); tight = sub(/!$/, "", m); want = (m + 0 > 0.95 * $(i+2)); print (tight == want ? "ok" : "bad"), tight; break } }' "$tmp/out" | sort | uniq -c | tr '\n' ' ')
if [ "$rc" -eq 0 ] && ! echo "$flags" | grep -q bad && echo "$flags" | grep -q 'ok 1' &&
    echo "$flags" | grep -q 'ok 0'; then
    pass "plan: '!' marks exactly the peaks within 5% of the usable HBM ($flags)"
else
    fail "plan: '!' marks exactly the peaks within 5% of the usable HBM" "exit $rc: $flags"
fi
# DeepSeek-V3's 61 layers: Megatron-Bridge's pp 8 x vp 4 is planned (1 | 2 x 30 | 0, the loss
# stage alone); pp 40 cannot split them, and the message says that, not an arithmetic rule
run plan "$SCN/moe-guide/deepseek-v3.xml" --gpus 512 --set pp=8 --set vp=4 --top 1 -j 2
if [ "$rc" -eq 0 ] && grep -q '^1 .* pp8 vp4 .* ends=1/0 ' "$tmp/out"; then
    pass "plan: 61 layers over pp 8 x vp 4, the last stage the loss alone (ends=1/0)"
else
    fail "plan: 61 layers over pp 8 x vp 4, the last stage the loss alone (ends=1/0)" "exit $rc"
fi
# Restating a file's pipeline keeps the file's ends (4 and 1): --set schedule=1f1b had
# re-derived them (3 and 2: another step time), and so had a sweep's --vary pp=16
run run "$SCN/moe-guide/deepseek-v3.xml"
plain=$(grep -E '^(stages|step time) ' "$tmp/out")
run run "$SCN/moe-guide/deepseek-v3.xml" --set schedule=1f1b --set pp=16
restated=$(grep -E '^(stages|step time) ' "$tmp/out")
run sweep "$SCN/moe-guide/deepseek-v3.xml" --vary pp=16 -j 1
swept=$(awk -F, 'NR == 2 { printf "%.6f", $3 }' "$tmp/out")
if [ -n "$plain" ] && [ "$plain" = "$restated" ] && echo "$plain" | grep -q '15 x 4, 1 ' &&
    echo "$plain" | grep -q "step time  *$swept"; then
    pass "run --set and sweep --vary restating the file's pipeline keep its first/last-stage-layers"
else
    fail "run --set and sweep --vary restating the file's pipeline keep its first/last-stage-layers" \
        "$plain / $restated / sweep $swept"
fi
run plan "$SCN/moe-guide/deepseek-v3.xml" --gpus 640 --set pp=40 --set vp=1 -j 2
expect_error "plan: layers that split over no pipeline of the fixed depth, said so (exit 2)" 2 \
    "stepsim: no valid layout of deepseek-v3 on gpus=640 with pp=40 vp=1: " \
    "its 61 layers do not split over 40 pipeline stages (pp x vp)"
run plan "$U" --gpus 8
expect_error "plan without a model: exit 2" 2 "stepsim: " "plan needs a modelled scenario"
run plan "$SCN/llama3.1-70b-h100.xml"
expect_error "plan without --gpus: exit 2" 2 "stepsim: " "needs --gpus"

# ---- bases: a scenario that starts from another -------------------------------------------
# A variant naming the default scenario as its base and changing nothing simulates the same
# step to the byte (references in the base resolve against the base's folder); one changing pp
# matches the base run with --set pp, in run and in sweep.
mkdir -p "$tmp/variant"
case $SCN in /*) scn_abs=$SCN ;; *) scn_abs=$(pwd)/$SCN ;; esac
printf '<?xml version="1.0"?>\n<scenario base="%s"/>\n' "$scn_abs/llama3.1-70b-h100.xml" \
    >"$tmp/variant/same.xml"
printf '<?xml version="1.0"?>\n<scenario base="same.xml">\n  <pipeline pp="8"/>\n</scenario>\n' \
    >"$tmp/variant/pp8.xml"
run run "$SCN/llama3.1-70b-h100.xml" --timeline "$tmp/variant/base.csv"
run run "$tmp/variant/same.xml" --timeline "$tmp/variant/same.csv"
if [ "$rc" -eq 0 ] && cmp -s "$tmp/variant/base.csv" "$tmp/variant/same.csv"; then
    pass "a scenario with a base and no changes runs the base's step to the byte"
else
    fail "a scenario with a base and no changes runs the base's step to the byte" "exit $rc"
fi
# (but for scenario_file, which names each file)
run run "$SCN/llama3.1-70b-h100.xml" --set pp=8 --format json
grep -v '^  "scenario_file": ' "$tmp/out" >"$tmp/variant/set.json"
run run "$tmp/variant/pp8.xml" --format json
grep -v '^  "scenario_file": ' "$tmp/out" >"$tmp/variant/pp8.json"
if [ "$rc" -eq 0 ] && cmp -s "$tmp/variant/pp8.json" "$tmp/variant/set.json"; then
    pass "a two-level variant with pp=8 equals --set pp=8 on the base"
else
    fail "a two-level variant with pp=8 equals --set pp=8 on the base" "exit $rc"
fi
run sweep "$tmp/variant/same.xml" --vary pp=4,8 --out "$tmp/variant/sweep.csv"
if [ "$rc" -eq 0 ] && [ "$(cut -d, -f1-2 "$tmp/variant/sweep.csv" | tr '\n' ' ')" = \
    "pp,status 4,ok 8,ok " ]; then
    pass "sweep over a scenario with a base"
else
    fail "sweep over a scenario with a base" "exit $rc"
fi

# stepsim published: the published runs of a scenario's model, each simulated as `make validate`
# does.  The table's rows agree with `stepsim run` on the row's own scenario and with the
# measured time in its table; the summary counts what the table shows.
VAL=$SCN/validation
# published's prose lines wrap before column 100, a continuation under 4 spaces: a line as one
unwrap() { awk 'NR > 1 && /^    [^ ]/ { sub(/^ +/, " "); printf "%s", $0; next }
    NR > 1 { print "" } { printf "%s", $0 } END { print "" }' "$1"; }
run published "$SCN/llama3.1-405b-16k-h100.xml"
rows=$(awk 'NR > 2 && $6 ~ /^[0-9]+$/ && $9 ~ /%$/' "$tmp/out")
nrows=$(printf '%s\n' "$rows" | grep -c .)
d6=$(printf '%s\n' "$rows" | awk '$1 == "D6"')
held=$(printf '%s\n' "$rows" | awk '$3 == "held-out"' | grep -c .)
first=$(unwrap "$tmp/out" | sed -n 1p) # (a long tables path wraps it, as under distcheck)
"$S" run "$VAL/d6.xml" >"$tmp/d6.txt" 2>&1
d6_run=$(awk '/^step time/ { printf "%.3f", $3 }' "$tmp/d6.txt")
d6_measured=$(awk -F'\t' '$1 == "D6" { printf "%.3f", $6 }' "$VAL/wave2.tsv")
d6_error=$(awk -F'\t' -v p="$d6_run" '$1 == "D6" { printf "%+.1f%%", 100 * (p - $6) / $6 }' \
    "$VAL/wave2.tsv")
case $first in "published runs of llama3.1-405b (the scenario's model), from "*) ok=1 ;; *) ok=0 ;; esac
if [ "$rc" -eq 0 ] && [ "$ok" -eq 1 ] && [ -n "$d6" ] &&
    [ "$(printf '%s\n' "$d6" | awk '{ print $2, $3, $7, $8, $9 }')" = \
        "wave2 calibration $d6_measured $d6_run $d6_error" ] &&
    grep -q "^llama3.1-405b: $nrows runs, MAE" "$tmp/out" &&
    grep -q "^  in held-out sets (never fitted): $held runs" "$tmp/out" &&
    ! printf '%s\n' "$rows" | awk '$1 == "L1"' | grep -q ' OOM$'; then
    pass "published: the model's runs as run and validate see them ($nrows rows, $held held out)"
else
    fail "published: the model's runs as run and validate see them" "exit $rc" \
        "$(printf '%s | %s | want %s %s %s' "$first" "$d6" "$d6_measured" "$d6_run" "$d6_error")"
fi
# --set reaches the scenario: the 70B file with the 405B model gives the 405B runs.  Its layout
# cannot split 126 layers, so its own kinds are not known, and the reason is given -- printed,
# and as the exit status and error run would give (2: the scenario as set breaks a rule).
model_part() { sed '/^runs of the scenario.s kinds/,$d' "$1"; }
model_part "$tmp/out" >"$tmp/published-405b.txt"
run published "$SCN/llama3.1-70b-h100.xml" --set model=llama3.1-405b
if [ "$rc" -eq 2 ] && model_part "$tmp/out" | cmp -s - "$tmp/published-405b.txt" &&
    unwrap "$tmp/out" |
    grep -q "^runs of the scenario's kinds: not known, the scenario does not run (.*layers=126" &&
    grep -q '^stepsim: .*layers=126' "$tmp/err"; then
    pass "published: --set model= picks that model's runs"
else
    fail "published: --set model= picks that model's runs" "exit $rc"
fi
# A run predicted over the usable HBM is marked OOM: a table of its own (its scenario paths from
# the folder's grandparent) with L1 at micro-batch 2, twice the activations.
mkdir -p "$tmp/pub/t/v"
src_abs=$(cd "$top_srcdir" && pwd)
for d in scenarios models hardware; do ln -sfn "$src_abs/$d" "$tmp/pub/$d"; done
{
    printf '# role: held-out\n'
    printf '# id\tset\tsource\tscenario\tset_overrides\tmeasured_step_s\tmeasured_mem_gb'
    printf '\tscored\tnot_expressible\tderivation\n'
    printf 'O1\toom\tL3\tscenarios/validation/l1.xml\tmicro-batch=2\t12.5\t-\tyes\t-\tmbs 2\n'
} >"$tmp/pub/t/v/oom.tsv"
run published "$SCN/llama3.1-405b-16k-h100.xml" --tables "$tmp/pub/t/v"
if [ "$rc" -eq 0 ] && awk '$1 == "O1"' "$tmp/out" | grep -q ' OOM$' &&
    grep -qx "OOM: stepsim predicts that run over its GPUs' usable memory, though it ran" \
        "$tmp/out"; then
    pass "published: a run over the usable HBM is marked OOM, and the mark explained"
else
    fail "published: a run over the usable HBM is marked OOM, and the mark explained" "exit $rc"
fi
# An id as long as zb24's (Z3-128-1f1b) beside an OOM mark: the id column widens to it, the
# others narrow to their values, and the row stays before column 100 (the fixed widths, 6 for the
# id and 20 for the hardware, had pushed such a row to 101 columns and out of line).
mkdir -p "$tmp/pub/t/w"
sed 's/^O1	/O1-128-1f1b	/' "$tmp/pub/t/v/oom.tsv" >"$tmp/pub/t/w/oom.tsv"
run published "$SCN/llama3.1-405b-16k-h100.xml" --tables "$tmp/pub/t/w"
if [ "$rc" -eq 0 ] && [ -z "$(awk 'length >= 100' "$tmp/out")" ] &&
    grep -q '^id          set role     source hardware ' "$tmp/out" &&
    grep -q '^O1-128-1f1b oom held-out L3     .* OOM$' "$tmp/out"; then
    pass "published: a long id and an OOM mark fit before column 100, in line"
else
    fail "published: a long id and an OOM mark fit before column 100, in line" \
        "exit $rc: $(grep -e '^id ' -e '^O1' "$tmp/out")"
fi
# Its words for a reader who never saw the tables: what error, MAE and bias are, an OOM mark
# explained only where a row has one (none of the 405B's runs), the hardware and precision
# pairs said to be none rather than left out (none on DeepSeek-V3's H800 file).
run published "$SCN/llama3.1-405b-16k-h100.xml"
legend='error: 100 (predicted - measured) / measured; MAE: the mean of |error|; bias: the mean error'
if [ "$rc" -eq 0 ] && grep -qF "$legend" "$tmp/out" && ! grep -q '^OOM' "$tmp/out"; then
    pass "published: the footer says what error, MAE and bias are; no OOM row, no OOM note"
else
    fail "published: the footer says what error, MAE and bias are" "exit $rc"
fi
# Its headings and notes wrap before column 100, as the other commands' text does (the
# hardware pairs' heading had run to 129 columns, the footer to 222); unwrapped, the same words.
long=$(awk 'length >= 100' "$tmp/out" | head -c 300)
if [ "$rc" -eq 0 ] && [ -z "$long" ] && unwrap "$tmp/out" | grep -q "^$legend, < 0: stepsim \
predicted the step too fast (in the hardware and precision lines, > 0: it promised more speed-up \
than was measured)\$" && unwrap "$tmp/out" | grep -q "^its hardware against others (runs of one \
job, one set, on dgx-h100 and another file; the speed-up from the slower to the faster):\$"; then
    pass "published: its prose lines wrap before column 100"
else
    fail "published: its prose lines wrap before column 100" "$long"
fi
run published "$SCN/deepseek-v3-h800.xml"
if [ "$rc" -eq 0 ] && unwrap "$tmp/out" | grep -qx "its hardware against others: no two runs of \
one job in one set on deepseek-h800 and another file" &&
    grep -q '^its hardware in 16 bits against fp8 / fp4: no two runs ' "$tmp/out"; then
    pass "published: no hardware or precision pair on the scenario's file says so"
else
    fail "published: no hardware or precision pair on the scenario's file says so" "exit $rc"
fi
# A copy of a shipped model under another file name is that model: its runs are listed under
# the name the model gives itself, as run's layout line says it (the heading had said "my405b").
mkdir -p "$tmp/pub-copy"
cp "$top_srcdir/models/llama3.1-405b.xml" "$tmp/pub-copy/my405b.xml"
run published "$SCN/llama3.1-405b-16k-h100.xml" --set model="$tmp/pub-copy/my405b.xml"
if [ "$rc" -eq 0 ] &&
    sed -n 1p "$tmp/out" | grep -q '^published runs of llama3.1-405b (the scenario.s model)' &&
    grep -q '^llama3.1-405b: [0-9]* runs, MAE ' "$tmp/out" && ! grep -q my405b "$tmp/out"; then
    pass "published: a copied model file is named by its model's name"
else
    fail "published: a copied model file is named by its model's name" \
        "exit $rc: $(head -1 "$tmp/out")"
fi
# No published run of Nemotron-H: the runs of other models on its GPU, summed up.
run published "$SCN/nemotron-h-56b-h100.xml"
nrows=$(awk 'NR > 2 && $6 ~ /^[0-9]+$/ && $9 ~ /%$/' "$tmp/out" | grep -c .)
if [ "$rc" -eq 0 ] && unwrap "$tmp/out" | grep -q '^no published run of nemotron-h-56b in ' &&
    [ "$nrows" -gt 10 ] &&
    unwrap "$tmp/out" | grep -q "^other models on H100 SXM5 80GB: $nrows runs"; then
    pass "published: without runs of the model, the GPU's other runs ($nrows)"
else
    fail "published: without runs of the model, the GPU's other runs" "exit $rc, $nrows rows"
fi
# Nor any run on its GPU (OLMoE on MI300X): "none", not a header over no rows.
run published "$SCN/llama3.1-70b-h100.xml" --set model=olmoe-1b-7b --set hardware=amd-mi300x \
    --set ep=8 --set pp=1 --set vp=1
if [ "$rc" -eq 0 ] && unwrap "$tmp/out" | sed -n 2p | grep -qx '  none' &&
    ! grep -q '^id  ' "$tmp/out"; then
    pass "published: no run of the model nor on its GPU says none"
else
    fail "published: no run of the model nor on its GPU says none" "exit $rc"
fi
# The run report names its kinds, as published groups them; an explicit-cost run has none.
run run "$VAL/g15.xml"
kinds=$(sed -n 's/^kinds  *\(.*\)  (how published runs of these kinds were predicted: stepsim published)$/\1/p' \
    "$tmp/out")
run run "$SCN/unit.xml"
if [ "$kinds" = "Blackwell, fp8/fp4, MoE, TP, few-mb, hybrid" ] && ! grep -q '^kinds ' "$tmp/out"; then
    pass "run: the report's kinds line (Nemotron 3 Super, a hybrid, MoE fp8 on GB200, TP 2, 16 micro-batches), none without a model"
else
    fail "run: the report's kinds line" "got '$kinds'"
fi
run published "$SCN/unit.xml"
expect_error "published: an explicit-cost scenario is refused (exit 2)" 2 "stepsim: " \
    "published compares a modelled scenario"
run published "$SCN/llama3.1-70b-h100.xml" --tables "$tmp/no-such-folder"
expect_error "published: --tables naming no folder (exit 2)" 2 "stepsim: $tmp/no-such-folder: " \
    "no such folder"
mkdir -p "$tmp/no-tables"
run published "$SCN/llama3.1-70b-h100.xml" --tables "$tmp/no-tables"
expect_error "published: a folder without tables (exit 2)" 2 "stepsim: $tmp/no-tables: " \
    "no tables of measured runs"
# The tables' scenario paths start from the folder's grandparent, or from --root: the OOM table
# in a folder with no tree two levels up is read with --root, and without it names the root.
mkdir -p "$tmp/a/b/flat"
cp "$tmp/pub/t/v/oom.tsv" "$tmp/a/b/flat/"
run published "$SCN/llama3.1-405b-16k-h100.xml" --tables "$tmp/a/b/flat" --root "$top_srcdir"
if [ "$rc" -eq 0 ] && awk '$1 == "O1"' "$tmp/out" | grep -q ' OOM$'; then
    pass "published: --root gives the tables' scenario paths their start"
else
    fail "published: --root gives the tables' scenario paths their start" "exit $rc"
fi
run published "$SCN/llama3.1-405b-16k-h100.xml" --tables "$tmp/a/b/flat"
expect_error "published: a scenario not under the folder's grandparent names the root (exit 2)" \
    2 "stepsim: $tmp/a/b/flat/oom.tsv:3: row O1: scenario $tmp/a/b/flat/../../scenarios/" \
    "(a table's scenario paths start from --root, here '$tmp/a/b/flat/../..')"
# a --root naming no folder is said up front, as --tables is (it had been blamed on the first
# row's scenario, as if that file were missing)
run published "$SCN/llama3.1-405b-16k-h100.xml" --tables "$tmp/a/b/flat" --root "$tmp/no-such-folder"
expect_error "published: --root naming no folder (exit 2)" 2 "stepsim: $tmp/no-such-folder: " \
    "no such folder"
run published
expect_error "published: no scenario (exit 2)" 2 "stepsim: " "published needs a scenario"
# a mistyped option is named as one, a second scenario as run names it (both had read
# "unexpected '--tabels'")
run published --tabels "$VAL" "$L70"
expect_error "published: an unknown option (exit 2)" 2 "stepsim: unknown option '--tabels'" \
    "(see 'stepsim published --help')"
run published "$L70" "$U"
expect_error "published: a second scenario (exit 2)" 2 \
    "stepsim: unexpected argument '$U' (one scenario at a time)" ""

# stepsim calibrate: the fit and its leave-one-source-out pass on four dev rows of two sources.
# Each evaluation's runs go on a thread pool; the output is the same whatever the count.
awk -F '\t' '/^#/ || $1 == "S1" || $1 == "S2" || $1 == "H1" || $1 == "H2"' \
    "$VAL/dev.tsv" >"$tmp/cal.tsv"
run calibrate --root "$top_srcdir" "$tmp/cal.tsv" --loso -j 1
cp "$tmp/out" "$tmp/cal-j1.txt"
rc1=$rc
run calibrate --root "$top_srcdir" "$tmp/cal.tsv" --loso -j 2
if [ "$rc1" -eq 0 ] && [ "$rc" -eq 0 ] && cmp -s "$tmp/out" "$tmp/cal-j1.txt" &&
    sed -n 1p "$tmp/out" | grep -qx 'calibrate: 4 runs from 2 sources, 4 model and 2 hardware files' &&
    grep -q '^fitted   training-efficiency=[0-9.]* kernel-overhead=[0-9.e-]*   MAE ' "$tmp/out" &&
    grep -q '^w/o SC21 ' "$tmp/out" && grep -q '^w/o MC24 ' "$tmp/out" &&
    grep -q '^loso MAE [0-9]*\.[0-9][0-9]% over 4 runs' "$tmp/out"; then
    pass "calibrate: fit and leave-one-source-out, the same on 1 and 2 threads"
else
    fail "calibrate: fit and leave-one-source-out, the same on 1 and 2 threads" "exit $rc1 / $rc"
fi
# A source name longer than the columns widens them: the labels (files, fitted, w/o SOURCE) and
# the source tables stay aligned.  One run from one source is said in the singular.
awk -F '\t' 'BEGIN { OFS = FS } $1 == "S1" { $3 = "LONGSOURCE123" }
    /^#/ || $1 == "S1" || $1 == "H1"' "$VAL/dev.tsv" >"$tmp/cal-wide.tsv"
run calibrate --root "$top_srcdir" "$tmp/cal-wide.tsv" --loso -j 2
knobs_at=$(awk '/^(files|fitted|w\/o) .*=/ { print index($0, " training-efficiency=") }' "$tmp/out" |
    sort -u | tr '\n' ' ')
runs_at=$(awk '/^(source|LONGSOURCE123|MC24) / { match($0, /^[^ ]+ +[^ ]+/); print RLENGTH }' \
    "$tmp/out" | sort -u | tr '\n' ' ')
if [ "$rc" -eq 0 ] && [ "$knobs_at" = "18 " ] && [ "$runs_at" = "19 " ] &&
    grep -q '^w/o LONGSOURCE123 training-efficiency=' "$tmp/out"; then
    pass "calibrate: columns widened to a long source name"
else
    fail "calibrate: columns widened to a long source name" \
        "exit $rc, knobs at $knobs_at, runs at $runs_at"
fi
# Each leave-one-source-out refit gets the full fit's notes: without one of these two sources
# it fits two constants to one run (only the full fit had had its "too few" and "at bound").
if [ "$(awk '/^w\/o / { getline; print $1, $2 }' "$tmp/out" | sort | uniq -c | tr -s ' ')" = \
    " 2 too few" ] && ! grep -q '^too few' "$tmp/cal-j1.txt"; then
    pass "calibrate --loso: a refit on fewer runs than constants is said to be too few"
else
    fail "calibrate --loso: a refit on fewer runs than constants is said to be too few" \
        "$(grep -A1 '^w/o ' "$tmp/out")"
fi
# The notes wrap before column 100, a continuation under their text: "too few" beside the
# 17-column label had run to 108 columns.
if [ -z "$(awk 'length($0) > 99' "$tmp/out")" ] &&
    [ "$(grep -c '^                  of many$' "$tmp/out")" = 2 ]; then
    pass "calibrate: notes beside a long source name wrap before column 100"
else
    fail "calibrate: notes beside a long source name wrap before column 100" \
        "$(awk 'length($0) > 99' "$tmp/out")"
fi
awk -F '\t' '/^#/ || $1 == "H1"' "$VAL/dev.tsv" >"$tmp/cal-one.tsv"
run calibrate --root "$top_srcdir" "$tmp/cal-one.tsv" -j 1
if [ "$rc" -eq 0 ] &&
    sed -n 1p "$tmp/out" | grep -qx 'calibrate: 1 run from 1 source, 1 model and 1 hardware file' &&
    grep -q '^fitted MAE [0-9.]*% over 1 run (worst ' "$tmp/out"; then
    pass "calibrate: one run from one source, in the singular"
else
    fail "calibrate: one run from one source, in the singular" "exit $rc"
fi
# Two constants fitted to that one run fit it whatever their split ("MAE 0.0%"): a line says
# so; four runs for two constants have none.
few='too few  2 constants fitted to 1 run: other values fit it as well, so these are one'
if grep -qx "$few choice of many" "$tmp/out" && ! grep -q '^too few' "$tmp/cal-j1.txt"; then
    pass "calibrate: fewer runs than constants are said to be too few"
else
    fail "calibrate: fewer runs than constants are said to be too few" "$(sed -n 3,4p "$tmp/out")"
fi
# A row that runs at the files' constants but not at those a fit chose is named, with why (it
# had counted as 100% off, silently): fitted to Y's run alone, training-efficiency falls to
# where X's 4M-token sequence needs more than the simulated clock's 10^6 s.
{
    printf 'id\tsource\tscenario\tset_overrides\tmeasured_step_s\n'
    printf 'BIG\tX\tscenarios/llama3.1-70b-h100.xml\tseq=4194304\t500000\n'
    printf 'S\tY\tscenarios/llama3.1-70b-h100.xml\t-\t12\n'
} >"$tmp/cal-fails.tsv"
run calibrate --root "$top_srcdir" "$tmp/cal-fails.tsv" --fit training-efficiency --loso -j 1
expect_error "calibrate: a row that fails at a fit's constants is named (exit 2)" 2 \
    "stepsim: $tmp/cal-fails.tsv:2: row 'BIG' does not run at the w/o X constants \
(training-efficiency=" "above the limit of 10^6 s"
# BIG's seq came from the table's set_overrides, and the message says so (it had ended "seq given
# by --set", an option that command line never gave).
expect_error "calibrate: a failing row's override is blamed on the table (exit 2)" 2 \
    "stepsim: $tmp/cal-fails.tsv:2: " "(seq given by the table's set_overrides)"
# A --root naming no folder is said up front, as published says it (it had been blamed on the
# first row's scenario, "scenario /nonexist/scenarios/...: cannot open").
run calibrate --root "$tmp/no-such-root" "$tmp/cal-one.tsv" -j 1
expect_error "calibrate: --root naming no folder (exit 2)" 2 "stepsim: $tmp/no-such-root: " \
    "no such folder"
# A header in another column order is named as one, with its line: the table's header starts
# with id (it had said only "no header line starting with 'id'", the help "naming the columns").
printf 'measured_step_s\tid\tsource\tscenario\tset_overrides\n8\tA\tX\t-\t-\n' >"$tmp/cal-order.tsv"
run calibrate "$tmp/cal-order.tsv"
expect_error "calibrate: a header whose first column is not id (exit 2)" 2 \
    "stepsim: $tmp/cal-order.tsv:1: the header's first column is not id; " \
    "a table's header starts with id, the other columns in any order"
# A fit that runs into an end of a constant's range says so: S1 measured at half its time asks
# for a training-efficiency above 1, and "fitted training-efficiency=1" alone had read as a fit;
# a fit inside its range (the file's S1) has no such line.
awk -F '\t' 'BEGIN { OFS = FS } $1 == "S1" { $6 = $6 / 2 } /^#/ || $1 == "S1"' \
    "$VAL/dev.tsv" >"$tmp/cal-fast.tsv"
run calibrate --root "$top_srcdir" "$tmp/cal-fast.tsv" --fit training-efficiency -j 1
at_top=$(grep -c '^at bound training-efficiency=1 is the top of \[0.5, 1\]: the runs ask for more' \
    "$tmp/out")
# kernel-overhead pushed to the bottom of its range: its note (103 columns) wraps, under its text.
run calibrate --root "$top_srcdir" "$tmp/cal-fast.tsv" --fit kernel-overhead -j 1
if [ "$rc" -eq 0 ] && [ -z "$(awk 'length($0) > 99' "$tmp/out")" ] &&
    grep -A1 '^at bound kernel-overhead=[0-9.e+-]* is the bottom of \[0, 2e-05\]: ' "$tmp/out" |
    sed -n 2p | grep -q '^         [a-z]'; then
    pass "calibrate: an at-bound note wraps before column 100"
else
    fail "calibrate: an at-bound note wraps before column 100" \
        "exit $rc: $(grep -A1 '^at bound' "$tmp/out")"
fi
run calibrate --root "$top_srcdir" "$tmp/cal-one.tsv" --fit training-efficiency -j 1
if [ "$at_top" = 1 ] && [ "$rc" -eq 0 ] && ! grep -q '^at bound' "$tmp/out"; then
    pass "calibrate: a constant fitted to an end of its range is said to be at bound"
else
    fail "calibrate: a constant fitted to an end of its range is said to be at bound" \
        "exit $rc, $at_top at-bound lines"
fi
# validate reads a file twice: a pipe is refused by name, a redirected regular file is read
cat "$U" | "$S" validate /dev/stdin >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_error "validate of a pipe: refused, not 'empty'" 2 "stepsim: /dev/stdin: " \
    "a pipe: validate reads a file twice"
"$S" validate /dev/stdin <"$U" >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 0 ] && grep -qx '/dev/stdin: ok' "$tmp/out"; then
    pass "validate of a regular file on /dev/stdin: ok"
else
    fail "validate of a regular file on /dev/stdin: ok" "$(cat "$tmp/err")"
fi
# with one source there is nothing to fit once it is left out: an input error, not "MAE 0.0%"
awk -F '\t' '/^#/ || $1 == "S1" || $1 == "S2"' "$VAL/dev.tsv" >"$tmp/cal1.tsv"
run calibrate --root "$top_srcdir" "$tmp/cal1.tsv" --loso -j 1
expect_error "calibrate --loso on one source: exit 2" 2 "stepsim: " \
    "--loso needs runs from two sources or more; these 2 runs are all SC21's"
# attention-step-share, what a step keeps of the attention kernel's rate, is one of the
# constants a fit may move (make calibrate fits it beside training-efficiency); the files line
# shows what the hardware files hold, and H1 / H2's flash attention pins it inside (0.3, 1).
share=$(sed -n 's/.*attention-step-share="\([0-9.]*\)".*/\1/p' "$top_srcdir/hardware/dgx-h100.xml")
run calibrate --root "$top_srcdir" "$tmp/cal.tsv" --fit attention-step-share -j 2
if [ "$rc" -eq 0 ] && [ -n "$share" ] &&
    grep -qF "files    attention-step-share=$share   MAE " "$tmp/out" &&
    grep -q '^fitted   attention-step-share=0\.[3-9][0-9]*   MAE ' "$tmp/out"; then
    pass "calibrate: fits attention-step-share"
else
    fail "calibrate: fits attention-step-share" "exit $rc"
fi
# overlap-interference is measured (a published compute slowdown, 0.189 in every file) and not
# fitted by make calibrate, but a user may fit it to runs of their own: H2's TP overlap moves it.
run calibrate --root "$top_srcdir" "$tmp/cal.tsv" --fit overlap-interference -j 2
if [ "$rc" -eq 0 ] && grep -q '^files    overlap-interference=0.189   MAE ' "$tmp/out" &&
    grep -q '^fitted   overlap-interference=0\.[0-9]*   MAE ' "$tmp/out"; then
    pass "calibrate: fits overlap-interference, the files' measured 0.189 shown"
else
    fail "calibrate: fits overlap-interference, the files' measured 0.189 shown" "exit $rc"
fi
run calibrate "$tmp/cal.tsv" -j x
expect_error "calibrate: a bad -j (exit 2)" 2 "stepsim: -j 'x': " "expected a thread count"
run calibrate --fit foo "$tmp/cal.tsv"
expect_error "calibrate: an unknown constant, the known ones listed (exit 2)" 2 "stepsim: --fit: " \
    "unknown constant 'foo' (known: training-efficiency, attention-step-share, kernel-overhead, \
overlap-interference)"
run calibrate
expect_error "calibrate: no table (exit 2)" 2 "stepsim: " "calibrate needs a table"
# --root and --fit take their value as published's options do: a missing or empty one is named
# (it had read "unknown option '--root'", and --root '' put the scenario paths at /), and
# --root=DIR / --fit=LIST are taken.
run calibrate "$tmp/cal.tsv" --root
expect_error "calibrate: --root without DIR (exit 2)" 2 "stepsim: --root needs DIR" \
    "(see 'stepsim calibrate --help')"
run calibrate "$tmp/cal.tsv" --root ''
expect_error "calibrate: --root '' (exit 2)" 2 "stepsim: --root needs DIR" ""
run calibrate "$tmp/cal.tsv" --fit
expect_error "calibrate: --fit without a list (exit 2)" 2 "stepsim: --fit needs KNOB,..." ""
run calibrate "$tmp/cal.tsv" --root="$top_srcdir" --fit=kernel-overhead -j 2
if [ "$rc" -eq 0 ] && grep -q '^fitted   kernel-overhead=[0-9.e-]*   MAE ' "$tmp/out"; then
    pass "calibrate: --root=DIR and --fit=LIST"
else
    fail "calibrate: --root=DIR and --fit=LIST" "exit $rc"
fi
run calibrate --root "$top_srcdir" --fit training-efficiency,training-efficiency "$tmp/cal.tsv"
expect_error "calibrate: a constant named twice (exit 2)" 2 "stepsim: --fit: " \
    "'training-efficiency' is named twice"
run calibrate --root "$top_srcdir" --fit , "$tmp/cal.tsv"
expect_error "calibrate: --fit naming nothing (exit 2)" 2 "stepsim: --fit: " \
    "name at least one constant"
# A row that breaks a rule is named, not folded into the fit as a 100% error.
awk -F '\t' 'BEGIN { OFS = FS } $1 == "H1" { $1 = "H1x"; $5 = "pp=5" } /^#/ || $1 == "S1" || $1 == "H1x"' \
    "$VAL/dev.tsv" >"$tmp/cal-bad.tsv"
run calibrate --root "$top_srcdir" "$tmp/cal-bad.tsv"
expect_error "calibrate: a row that does not run (exit 2)" 2 \
    "stepsim: $tmp/cal-bad.tsv:$(awk '$1 == "H1x" { print NR }' "$tmp/cal-bad.tsv"): " \
    "row 'H1x' does not run: "
# A row's scenario that cannot be found names the table, its line and the row, and says the
# paths start from --root (here the default, '.', from another folder than the source tree).
dev_abs=$(cd "$VAL" && pwd)/dev.tsv
s1_line=$(awk -F '\t' '$1 == "S1" { print NR }' "$dev_abs")
(cd "$tmp" && "$S" calibrate "$dev_abs" >"$tmp/out" 2>"$tmp/err")
rc=$?
expect_error "calibrate: a row's missing scenario names the table, line and row (exit 2)" 2 \
    "stepsim: $dev_abs:$s1_line: row S1: scenario ./scenarios/validation/s1.xml: cannot open" \
    "(a table's scenario paths start from --root, here '.')"
run calibrate "$VAL"
expect_error "calibrate: a folder for a table (exit 2)" 2 "stepsim: $VAL: " \
    "a directory, not a table"
run calibrate --root "$top_srcdir" --fit training-efficiency, "$tmp/cal.tsv"
expect_error "calibrate: --fit with a stray comma (exit 2)" 2 "stepsim: --fit: " \
    "an empty name in 'training-efficiency,'"
# A malformed table is refused at its line with the row, not read some other way: scored maybe.
awk -F '\t' 'BEGIN { OFS = FS } $1 == "S2" { $8 = "maybe" } /^#/ || $1 == "S1" || $1 == "S2"' \
    "$VAL/dev.tsv" >"$tmp/cal-maybe.tsv"
run calibrate --root "$top_srcdir" "$tmp/cal-maybe.tsv"
expect_error "calibrate: scored 'maybe' (exit 2)" 2 \
    "stepsim: $tmp/cal-maybe.tsv:$(awk '$1 == "S2" { print NR }' "$tmp/cal-maybe.tsv"): " \
    "row S2: scored 'maybe': expected yes or no"
# A row that sets a constant being fitted keeps its own value whatever the fit tries (the
# scenario's hw. knobs win over the fitted one): refused, not fitted to the other rows while the
# report prints a value that row never ran with; fitting another constant, it runs.
awk -F '\t' 'BEGIN { OFS = FS } $1 == "H1" { $5 = "hw.training-efficiency=0.7" }
    /^#/ || $1 == "S1" || $1 == "H1"' "$VAL/dev.tsv" >"$tmp/cal-pin.tsv"
run calibrate --root "$top_srcdir" "$tmp/cal-pin.tsv" -j 2
expect_error "calibrate: a row setting a fitted constant (exit 2)" 2 \
    "stepsim: $tmp/cal-pin.tsv:$(awk '$1 == "H1" { print NR }' "$tmp/cal-pin.tsv"): " \
    "row 'H1' sets hw.training-efficiency=0.7, a constant --fit fits"
run calibrate --root "$top_srcdir" "$tmp/cal-pin.tsv" -j 2 --fit kernel-overhead
expect_ok "calibrate: a row setting a constant not fitted runs"
# Hardware files holding different values of a fitted constant: the files line gives their range
# (it had printed the first file's value alone, as if every row had run with it).
sed 's/training-efficiency="0.86"/training-efficiency="0.7"/' "$top_srcdir/hardware/dgx-h100.xml" \
    >"$tmp/h100-te70.xml"
awk -F '\t' -v hw="hardware=$tmp/h100-te70.xml" 'BEGIN { OFS = FS } $1 == "H2" { $5 = hw }
    /^#/ || $1 == "H1" || $1 == "H2"' "$VAL/dev.tsv" >"$tmp/cal-two-hw.tsv"
run calibrate --root "$top_srcdir" "$tmp/cal-two-hw.tsv" -j 2 --fit training-efficiency
if [ "$rc" -eq 0 ] && grep -q '^files    training-efficiency=0.7\.\.0.86   MAE ' "$tmp/out"; then
    pass "calibrate: the files line gives the range of the files' values"
else
    fail "calibrate: the files line gives the range of the files' values" "exit $rc" \
        "$(sed -n 2p "$tmp/out")"
fi

echo "# $((n - failed - skipped)) passed, $failed failed, $skipped skipped; bad corpus: $nbad files"
echo "1..$n"
