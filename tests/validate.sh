#!/bin/sh
# validate.sh -- `make validate`: stepsim against published, measured training runs, set by set.
#
# Each set is a table scenarios/validation/<set>.tsv (sources, FLOPs conventions, the arithmetic
# from each published figure to a step time and the rules for what a source leaves open are in
# scenarios/validation/README.md):
#   dev    SC21 + MC24: the runs stepsim was calibrated on (the CI gate);
#   wave2  13 sources, 47 runs: a second calibration set (not held out);
#   zb24   the zero-bubble paper's runs: held out so far;
#   mb26   Megatron-Bridge's 26.04.01 performance summary (its Llama rows): held out;
#   mb25   the same summary's 25.11 dense Llama rows on Blackwell (405B on B200, 8B on GB200
#          and B200): held out.
#   mb26moe the 26.04.01 summary's mixture-of-experts rows: held out.
#   tt24    the torchtitan team's December 2024 benchmarks (a new framework): held out.
#   mb2608  Megatron-Bridge's 26.08 performance summary (CUDA graphs, fused grouped MLP, fp8
#           attention): held out.
#   tt25    the PyTorch team's June 2025 async-TP benchmarks (torchtitan): held out.
#   ao25    torchao's own float8 training benchmarks (torchtitan, 8 H100): held out, not blind.
#   dgxc25  the rest of DGX Cloud Benchmarking's release c (v25.05): Nemotron-4, Llama 3.1
#           405B, DeepSeek-V3 and Grok-1 on H100 and GB200: held out.
#   tw25    Trainy's June 2025 torchtitan baseline on WhiteFiber's H200 hosts: held out.
#   lc25    NeMo's long-sequence table, Llama 3 8B FP8 on DGX-B200 (NeMo 25.04.rc2): held out.
#   lc24    the rest of the page's Llama 2 7B H100 table (wave2's C1/C2's): held out, not
#           independent.
#   nemo24  the rest of NeMo 24.07's H100 pre-training table (wave2's M1's): held out, not
#           independent.
#   mb2509  Megatron-Bridge's 25.09 summary, its dense Llama rows (GB200, B200, H100): held out.
#   mz26    the Megatron-MoE Model Zoo's forced-balance Qwen3-235B figures (H100, GB200,
#           GB300): held out, a new source.
#   lora26  Megatron-Bridge's 26.06 summary, its LoRA table (Llama 3 70B on 8 GB300, GB200,
#           H100): held out, the first fine-tuning runs.
#   mcci    Megatron-LM's own CI, two functional tests of a 7B GPT on 8 GPUs, each on H100,
#           GB200 and A100 (one job, one software stack, three generations): held out, not
#           blind, deterministic mode not modelled.
#   mlperf  MLPerf Training's results (v3.1-v5.1: GPT-3 175B, Llama 3.1 8B and 405B on H100,
#           H200, B200, B300, GB200, GB300 and AMD MI355X, 8-11,616 GPUs), timed from their
#           logs: held out, a new source.
# Beside the sets, layer microbenchmarks (scenarios/validation/<name>.layers: one layer's
# forward and backward as a framework's own benchmark timed it; moeperf, Megatron-Core's MoE
# layer on 8 H100) and kernel microbenchmarks (<name>.gemms: one layer's GEMM kernels as a
# library's benchmark timed them; tegemm, Transformer Engine's on a B300 and an H200 NVL),
# printed after the pairs below, each with a summary line.
# Columns: id, set, source, scenario (or -), comma-separated --set overrides (or -), measured
# step time in s, measured peak memory per GPU in GB (or -), scored (yes/no), - or what stepsim
# lacks to express the run (ending " [run]" when the run has no scenario to name it), derivation.
#
# Per set: one line per row with the measured and predicted step time and the error
# 100 (predicted - measured) / measured, and the memory error where the source publishes memory
# (stepsim's figure: the largest rank's total in 1e9 bytes); a row predicted out of memory is
# marked OOM; a row stepsim cannot express is printed as "not expressible: <what>" and a row
# with scored=no as "not scored", neither counted.  Then the mean absolute error per source and
# its bias (mean signed error: negative = predicted too fast), the set's bias and how many of
# its runs are predicted too fast, the number of measured runs predicted out of memory, for a
# set holding one job measured more than once (rows of one scenario and the same overrides:
# another release of the benchmark, another submitter) how far apart those measurements are,
# and the set's MAE; for zb24 also the
# speed-up of each zero-bubble schedule over 1F1B on the same layout.  After the sets, the
# scored runs by pattern (stepsim's, sim/patterns.h) and by hardware file, calibration sets
# apart from held-out ones, then the pairs of runs of one job on two hardware files (the
# speed-up measured and predicted).  The output ends with one summary line per set ("<set> MAE x% over N runs (worst
# y%)", wave2 adding "; K not expressible", and "<set> memory MAE ..." where memory is
# published), then two pooled lines: every scored calibration run as one ("calibration MAE
# ..."), every scored held-out run as one ("held out MAE ..."), each with its bias.
#
# Environment: VALIDATE_SETS (default: every set above, in the order of `sets` below) picks
# sets; VALIDATE_TSV=path also writes every row machine-readably (id, set,
# source, scored, status, measured and predicted step time, error, memory, OOM, schedule, what
# it lacks, its patterns, its hardware file, its job: model|dtype|fp8 recipe|GPUs|global
# batch|seq, what the hardware pairs share); STEPSIM_ARGS adds options to every run (e.g.
# STEPSIM_ARGS="--set jitter=0.02" for a what-if).  Exit status 1 when a run fails.
set -u
top_srcdir=${top_srcdir:-.}
stepsim=${STEPSIM:-./stepsim}
sets=${VALIDATE_SETS:-dev wave2 zb24 mb26 mb25 mb26moe tt24 mb2608 tt25 ao25 dgxc25 tw25 lc25 lc24 nemo24 mb2509 mz26 mlperf lora26 mcci}
[ -x "$stepsim" ] || { echo "validate: $stepsim not built" >&2; exit 1; }

status=0
tab=$(printf '\t')

# The patterns a run belongs to are stepsim's (its JSON "patterns", sim/patterns.h): the GPU
# generation, fp8 or fp4 GEMMs, expert parallelism (MoE), context parallelism, a deep pipeline
# (pp >= 32), a production scale (4096 GPUs or more) and sharded data parallelism (ZeRO-2/3,
# FSDP) -- the kinds of run the published errors were first grouped by -- and tensor
# parallelism (TP > 1), few micro-batches a replica on many GPUs (few-mb: at most 16 on 64
# GPUs or more) and hybrid models (Mamba-2 or Gated DeltaNet layers).

results=$(mktemp)
trap 'rm -f "$results"' EXIT

# noun(n, word): the word as a count of n takes it, "run" for 1 and "runs" otherwise (every
# noun counted below takes an s); prepended to each awk program that prints a count.
noun_awk='function noun(n, word) { return n == 1 ? word : word "s" }'

# One result record per row (tab-separated): set id source run measured predicted (every
# digit of the double: the tables and pairs below divide it; VALIDATE_TSV writes 6) error
# mem_measured mem_predicted mem_error oom scored status note schedule traits (comma-separated,
# stepsim's patterns) hardware (the scenario's hardware file) job (model|dtype|fp8
# recipe|GPUs|global batch|seq: what two runs on different hardware share to be compared) and
# the row's scenario with its overrides (rows sharing them are one job measured more than
# once: another release of the benchmark, another submitter); "-" where empty.
# show_row prints the record as a table line.
show_row() {
    awk -F'\t' '{
        note = ""
        if ($13 == "ne") note = "not expressible: " $14
        else if ($13 == "fail") note = "FAILED: stepsim did not run"
        else {
            if ($11 == 1) note = "OOM"
            if ($12 != "yes") note = note (note == "" ? "" : ", ") "not scored"
        }
        if ($13 == "ok") {
            line = sprintf("%-11s %-34s %10.3f %11.3f %+7.1f%%", $2, substr($4, 1, 34), $5, $6, $7)
            if ($8 != "-") line = line sprintf("   %6.1f %6.1f %+6.1f%%", $8, $9, $10)
            else line = line sprintf("   %6s %6s %7s", "", "", "")
        } else
            line = sprintf("%-11s %-34s %10.3f %11s %8s   %6s %6s %7s", $2, substr($4, 1, 34), $5, "-", "-", "", "", "")
        sub(/ +$/, "", line)
        print line (note == "" ? "" : "   " note)
    }'
}

run_set() {
    set_name=$1
    table="$top_srcdir/scenarios/validation/$set_name.tsv"
    [ -r "$table" ] || { echo "validate: no table $table" >&2; status=1; return; }
    # The role is the table's own first line ("# role: calibration" / "# role: held-out");
    # the first three sets say more about theirs.  Held out claims no more than "never fitted":
    # several sets had mechanisms read or set after scoring (the README's table of sets).
    case "$set_name" in
        dev) role="calibration set, the runs stepsim was tuned on" ;;
        wave2) role="second calibration set (not held out)" ;;
        zb24) role="held out so far: not used to calibrate" ;;
        *)
            case $(sed -n '1s/^# role: *//p' "$table") in
                held-out) role="held out: never fitted (README: what was read after scoring)" ;;
                calibration) role="calibration set (not held out)" ;;
                *) role="" ;;
            esac
            ;;
    esac
    echo "== $set_name (scenarios/validation/$set_name.tsv): $role"
    printf '%-11s %-34s %10s %11s %8s   %6s %6s %7s\n' id run measured_s predicted_s error mem_GB stepsim error
    while IFS="$tab" read -r id _set source scenario overrides measured memory scored nexpr _deriv; do
        case "$id" in '#'*|'') continue ;; esac
        if [ "$nexpr" != "-" ]; then
            # "what stepsim lacks [the run]": the bracketed run names the row, else its source
            run=$(printf '%s\n' "$nexpr" | sed -n 's/.* \[\(.*\)\]$/\1/p')
            [ -n "$run" ] || run=$source
            lacks=$(printf '%s\n' "$nexpr" | sed 's/ \[.*\]$//')
            rec=$(printf '%s\t%s\t%s\t%s\t%s\t-\t-\t-\t-\t-\t0\t%s\tne\t%s\t-\t-\t-\t-\t-' \
                "$set_name" "$id" "$source" "$run" "$measured" "$scored" "$lacks")
        else
            args=""
            if [ "$overrides" != "-" ]; then
                for kv in $(printf '%s\n' "$overrides" | tr ',' ' '); do
                    args="$args --set $kv"
                done
            fi
            # shellcheck disable=SC2086 # args and STEPSIM_ARGS are lists of options, split on purpose
            if json=$("$stepsim" run "$top_srcdir/$scenario" --format json $args ${STEPSIM_ARGS-} 2>&1); then
                rec=$(printf '%s\n' "$json" | awk -v set="$set_name" -v id="$id" -v src="$source" \
                    -v meas="$measured" -v mem="$memory" -v scored="$scored" \
                    -v key="$scenario|$overrides" '
                    /"scenario":/ { sub(/^[^:]*: *"/, ""); sub(/",?$/, ""); name = $0 }
                    !sched && match($0, /"schedule": "[^"]*"/) { sched = substr($0, RSTART + 13, RLENGTH - 14) }
                    /"step_time_s":/ { gsub(/[^0-9.eE+-]/, "", $2); pred = $2 + 0 }
                    match($0, /"total": [0-9.eE+]+/) { t = substr($0, RSTART + 9, RLENGTH - 9) + 0
                                                       if (t > peak) peak = t }
                    /"oom": true/ { oom = 1 }
                    /"patterns":/ { traits = $0; sub(/^[^:]*: *"/, "", traits); sub(/",?$/, "", traits) }
                    !hw && match($0, /"hardware": "[^"]*"/) { hw = substr($0, RSTART + 13, RLENGTH - 14) }
                    # what a run on other hardware must share to be its pair (the hardware
                    # table below): model, precision and recipe, GPUs, batch and sequence
                    function field(line, key) {
                        if (!match(line, "\"" key "\": \"?[^,}\"]*")) return "-"
                        line = substr(line, RSTART + length(key) + 4, RLENGTH - length(key) - 4)
                        sub(/^"/, "", line)
                        return line
                    }
                    /"layout":/ { job = field($0, "model") "|" field($0, "dtype") "|" \
                                         field($0, "fp8_recipe") "|" field($0, "gpus") "|" \
                                         field($0, "global_batch") "|" field($0, "seq") }
                    END {
                        sub(/^[^ ]+ /, "", name)
                        err = 100 * (pred - meas) / meas
                        if (mem != "-" && peak > 0)
                            m = sprintf("%s\t%.3f\t%.3f", mem, peak / 1e9, 100 * (peak / 1e9 - mem) / mem)
                        else
                            m = "-\t-\t-"
                        printf "%s\t%s\t%s\t%s\t%s\t%.17g\t%.4f\t%s\t%d\t%s\tok\t-\t%s\t%s\t%s\t%s\t%s\n",
                               set, id, src, name, meas, pred, err, m, oom, scored, sched,
                               traits == "" ? "-" : traits, hw == "" ? "-" : hw,
                               job == "" ? "-" : job, key
                    }')
            else
                echo "$id: stepsim failed: $json" >&2
                status=1
                rec=$(printf '%s\t%s\t%s\t%s\t%s\t-\t-\t-\t-\t-\t0\t%s\tfail\t-\t-\t-\t-\t-\t-' \
                    "$set_name" "$id" "$source" "$source" "$measured" "$scored")
            fi
        fi
        printf '%s\n' "$rec" >> "$results"
        printf '%s\n' "$rec" | show_row
    done < "$table"
    # Per source, then the set: mean absolute error over the scored rows that ran.
    awk -F'\t' -v set="$set_name" "$noun_awk"'
        $1 != set { next }
        $13 == "ne" { ne++ }
        $13 == "ok" && $11 == 1 { oom++ }
        $13 == "ok" && $19 != "-" { # one job measured more than once: the spread of its steps
            if (!($19 in lo)) { jobs[++nj] = $19; lo[$19] = hi[$19] = $5 }
            if ($5 < lo[$19]) lo[$19] = $5
            if ($5 > hi[$19]) hi[$19] = $5
            if (!times[$19]++) first[$19] = $2
        }
        $13 != "ok" || $12 != "yes" { next }
        {
            e = $7 < 0 ? -$7 : $7
            if (!($3 in n)) order[++k] = $3
            n[$3]++; s[$3] += e; if (e > w[$3]) w[$3] = e
            b[$3] += $7; bias += $7; runs++; if ($7 < 0) fast++
        }
        END {
            for (i = 1; i <= k; i++)
                printf "  source %-6s MAE %5.1f%% over %2d %s (worst %.1f%%), bias %+.1f%%\n",
                       order[i], s[order[i]] / n[order[i]], n[order[i]], noun(n[order[i]], "run"),
                       w[order[i]], b[order[i]] / n[order[i]]
            if (runs)
                printf "  bias (mean signed error) %+.1f%%: %d of %d %s predicted too fast\n",
                       bias / runs, fast, runs, noun(runs, "run")
            printf "  OOM predicted for measured runs: %d\n", oom
            if (ne) printf "  not expressible: %d %s\n", ne, noun(ne, "row")
            repeats()
        }
        # Jobs (one scenario, the same overrides) measured more than once -- the benchmark in
        # another release, another submitter: how far apart the measurements of one job are,
        # the floor under any prediction of them.  The median and the widest spread
        # (longest / shortest measured step, less one) over those jobs.
        function repeats(    i, j, n, s, w, wj, t) {
            for (i = 1; i <= nj; i++) {
                if (times[jobs[i]] < 2) continue
                s[++n] = 100 * (hi[jobs[i]] / lo[jobs[i]] - 1)
                if (wj == "" || s[n] > w) { w = s[n]; wj = jobs[i] } # all 0: the first
                rows += times[jobs[i]]
            }
            if (!n) return
            for (i = 2; i <= n; i++) # insertion sort, for the median
                for (j = i; j > 1 && s[j - 1] > s[j]; j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t }
            printf "  measured more than once: %d %s (%d rows), spread of the step within a job:" \
                   " median %.1f%%, widest %.1f%% (%s, %d rows)\n", n, noun(n, "job"), rows,
                   n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2, w, first[wj], times[wj]
        }' "$results"
    if [ "$set_name" = zb24 ]; then
        speedups
    fi
    echo
}

# Speed-up of each zero-bubble schedule (ids ending -zb: ZB-H1, -zbv: ZB-V) over 1F1B on the
# same model and GPUs (the id without its last part, ending -1f1b): measured and predicted
# step time of 1F1B over that of the schedule, less one.
speedups() {
    awk -F'\t' "$noun_awk"'$1 == "zb24" && $13 == "ok" {
            key = $2; kind = $2; sub(/-[a-z0-9]+$/, "", key); sub(/^.*-/, "", kind)
            if (kind == "1f1b") { m1[key] = $5; p1[key] = $6 }
            else { order[++n] = $2; k[$2] = key; s[$2] = $15; mz[$2] = $5; pz[$2] = $6 }
        }
        END {
            for (i = 1; i <= n; i++) {
                id = order[i]; key = k[id]
                if (!(key in m1)) continue
                if (!shown++) printf "\n  %-12s %-8s %16s %17s\n", "layout", "schedule", "measured/1F1B", "predicted/1F1B"
                a = m1[key] / mz[id]; b = p1[key] / pz[id]
                printf "  %-12s %-8s %+15.1f%% %+16.1f%%\n", key, s[id], 100 * (a - 1), 100 * (b - 1)
                d = 100 * (b - a); d = d < 0 ? -d : d; sum[s[id]] += d; cnt[s[id]]++
                if (!(s[id] in seen)) { seen[s[id]] = 1; kinds[++nk] = s[id] }
            }
            for (i = 1; i <= nk; i++)
                printf "  speed-up error, %s: mean %.1f points over %d %s\n", kinds[i],
                       sum[kinds[i]] / cnt[kinds[i]], cnt[kinds[i]], noun(cnt[kinds[i]], "layout")
        }' "$results"
}

for s in $sets; do
    run_set "$s"
done

# Which side of the calibration / held-out split a set is on: the sets stepsim was tuned on.
side_awk='function side_of(set) { return (set == "dev" || set == "wave2") ? "c" : "h" }'

# The scored runs grouped three ways, the calibration sets (dev, wave2) apart from the held-out
# ones: by pattern (stepsim's, in the order of sim/patterns.c; a run counts under every pattern
# it has), by GPU generation split by tensor parallelism (where the TP pattern's error sits),
# then by hardware file (each system's runs, whatever their model: one generation's parts are
# not predicted alike), files in name order.
awk -F'\t' "$side_awk$noun_awk"'
    function add(table, key, side, e, signed) {
        seen[table, key] = 1; n[table, key, side]++; a[table, key, side] += e
        b[table, key, side] += signed
    }
    $13 != "ok" || $12 != "yes" { next }
    {
        side = side_of($1)
        e = $7 < 0 ? -$7 : $7
        k = $16 == "-" ? 0 : split($16, t, ",")
        gen = ""; tp = "TP 1"
        for (i = 1; i <= k; i++) {
            add("pattern", t[i], side, e, $7)
            if (t[i] ~ /^(A100|Hopper|Blackwell|AMD)$/) gen = t[i]
            if (t[i] == "TP") tp = "TP>1"
        }
        if (gen != "") add("generation", gen ", " tp, side, e, $7)
        if ($17 != "-") { add("hardware", $17, side, e, $7); hw[$17] = 1 }
    }
    function cell(table, key, side) {
        if (!n[table, key, side]) return sprintf("%-30s", "-")
        # "  1 run  MAE": the singular padded to the width of the plural, the columns kept
        return sprintf("%3d %-4s MAE %5.1f%% bias %+5.1f%%", n[table, key, side],
                       noun(n[table, key, side], "run"),
                       a[table, key, side] / n[table, key, side],
                       b[table, key, side] / n[table, key, side])
    }
    # One table: its header, then a line per key in order[1..count] that has runs.
    function table_out(table, title, width, count, order,    i, shown, line) {
        for (i = 1; i <= count; i++) {
            if (!((table, order[i]) in seen)) continue
            if (!shown++) {
                print title
                printf "  %-" width "s %-30s   %s\n", "", "calibration (dev, wave2)", "held out"
            }
            line = sprintf("  %s %-" (width - length(table) - 1) "s %s   %s", table, order[i],
                           cell(table, order[i], "c"), cell(table, order[i], "h"))
            sub(/ +$/, "", line)
            print line
        }
        if (shown) print ""
    }
    END {
        np = split("A100 Hopper Blackwell AMD fp8/fp4 MoE TP CP pp>=32 4096+GPUs ZeRO-2/3 few-mb " \
                   "hybrid", pat, " ")
        table_out("pattern", "== by pattern (scored runs; a run counts under each pattern it has)",
                  18, np, pat)
        ng = 0
        for (i = 1; i <= 4; i++)
            for (j = 1; j <= 2; j++)
                gens[++ng] = pat[i] ", " (j == 1 ? "TP 1" : "TP>1")
        table_out("generation",
                  "== by GPU generation, without and with tensor parallelism (scored runs)",
                  27, ng, gens)
        nh = 0
        for (h in hw) name[++nh] = h
        # insertion sort by name: the same order whatever the awk
        for (i = 2; i <= nh; i++)
            for (j = i; j > 1 && name[j - 1] > name[j]; j--) {
                swap = name[j]; name[j] = name[j - 1]; name[j - 1] = swap
            }
        table_out("hardware", "== by hardware file (scored runs)", 28, nh, name)
    }' "$results"

# What the two pair tables below share: each pair's error added under its kind (add_pair), then
# per kind and over all pairs the mean absolute and mean signed error (print_pairs).
pair_awk='
    function abs(x) { return x < 0 ? -x : x }
    function no_minus_zero(x) { return abs(x) < 0.05 ? 0 : x } # printed as +0.0, not -0.0
    function add_pair(kind, e) {
        if (!(kind in cnt)) order[++kinds] = kind
        cnt[kind]++; sum[kind] += abs(e); bias[kind] += e
        total += abs(e); signed += e; pairs_n++
    }
    function print_pairs(label, width,    k, c) {
        for (k = 1; k <= kinds; k++) {
            c = cnt[order[k]]
            printf "  %s %-" width "s %2d pair%s speed-up error %4.1f%%, bias %+5.1f%%\n", label,
                   order[k], c, c == 1 ? ", " : "s,", sum[order[k]] / c,
                   no_minus_zero(bias[order[k]] / c)
        }
        if (pairs_n) # "over 1 pair", "over all 2 pairs"
            printf "  %s speed-up error over %s%d %s: mean %.1f%%, bias %+.1f%%\n\n", label,
                   pairs_n == 1 ? "" : "all ", pairs_n, noun(pairs_n, "pair"), total / pairs_n,
                   no_minus_zero(signed / pairs_n)
    }'

# Hardware against hardware: what stepsim says a change of system buys, against what it bought.
# Two scored runs of one set are a pair when they share model, precision (and fp8 recipe), GPU
# count, global batch and sequence length but not the hardware file -- the same job, each
# system at the layout its publisher ran it with.  Each pair of hardware files is read one way
# round, from the file whose runs measured slower (the geometric mean over its pairs) to the
# faster; per pair the speed-up (step time on the first over step time on the second, measured
# and predicted) and the predicted one's error, 100 (predicted / measured - 1): positive =
# stepsim promises more than the second system delivered.  Then per pair of hardware files,
# and over all pairs.
awk -F'\t' "$noun_awk$pair_awk"'
    $13 != "ok" || $12 != "yes" || $18 == "-" || $17 == "-" { next }
    { n++; set[n] = $1; id[n] = $2; meas[n] = $5; pred[n] = $6; hw[n] = $17; key[n] = $1 "|" $18 }
    END {
        # the pairs, each first in name order of its hardware files
        for (i = 1; i <= n; i++)
            for (j = i + 1; j <= n; j++) {
                if (key[i] != key[j] || hw[i] == hw[j]) continue
                a[++pairs] = hw[i] < hw[j] ? i : j; b[pairs] = a[pairs] == i ? j : i
                kind = hw[a[pairs]] SUBSEP hw[b[pairs]]
                logm[kind] += log(meas[a[pairs]] / meas[b[pairs]])
            }
        for (q = 1; q <= pairs; q++) {
            x = a[q]; y = b[q]
            if (logm[hw[x], hw[y]] < 0) { t = x; x = y; y = t } # from the slower file
            m = meas[x] / meas[y]; p = pred[x] / pred[y]; e = 100 * (p / m - 1)
            if (q == 1) {
                print "== hardware against hardware (pairs of scored runs of one set: one model," \
                      " precision, GPU count and tokens per step on two hardware files)"
                printf "  %-8s %-14s %-44s %9s %10s %8s\n", "set", "runs", "from -> to",
                       "measured", "predicted", "error"
            }
            printf "  %-8s %-14s %-44s %8.3fx %9.3fx %+7.1f%%\n", set[x], id[x] " -> " id[y],
                   hw[x] " -> " hw[y], m, p, no_minus_zero(e)
            add_pair(hw[x] " -> " hw[y], e)
        }
        print_pairs("hardware", 44)
    }' "$results"

# Precision against precision: what stepsim says fp8 / fp4 buys over 16 bits, against what it
# bought.  Two scored runs of one set are a pair when they share model, hardware file, GPU
# count, global batch and sequence length, one in 16 bits (bf16, fp16) and the other in fp8 or
# fp4 -- the same job, each precision at the layout its publisher ran it with.  Per pair the
# speed-up (the 16-bit step over the low-precision one, measured and predicted) and the
# predicted one's error, 100 (predicted / measured - 1): positive = stepsim promises more than
# the low precision delivered.  Then per hardware file and recipe, and over all pairs.
awk -F'\t' "$noun_awk$pair_awk"'
    $13 != "ok" || $12 != "yes" || $18 == "-" || $17 == "-" { next }
    {
        split($18, f, "|") # model | dtype | fp8 recipe | GPUs | global batch | sequence
        n++; set[n] = $1; id[n] = $2; meas[n] = $5; pred[n] = $6; hw[n] = $17
        dtype[n] = f[2]; recipe[n] = f[2] == "fp8" ? "fp8 " f[3] : f[2]
        key[n] = $1 "|" $17 "|" f[1] "|" f[4] "|" f[5] "|" f[6]
        wide[n] = f[2] == "bf16" || f[2] == "fp16"
    }
    END {
        for (i = 1; i <= n; i++)
            for (j = 1; j <= n; j++) {
                if (!wide[i] || wide[j] || key[i] != key[j]) continue
                m = meas[i] / meas[j]; p = pred[i] / pred[j]; e = 100 * (p / m - 1)
                if (!pairs++) {
                    print "== precision against precision (pairs of scored runs of one set: one" \
                          " model, hardware file, GPU count and tokens per step in 16 bits and in" \
                          " fp8 / fp4)"
                    printf "  %-8s %-14s %-22s %-22s %9s %10s %8s\n", "set", "runs", "hardware",
                           "16 bits -> low", "measured", "predicted", "error"
                }
                printf "  %-8s %-14s %-22s %-22s %8.3fx %9.3fx %+7.1f%%\n", set[i],
                       id[i] " -> " id[j], hw[i], dtype[i] " -> " recipe[j], m, p, no_minus_zero(e)
                add_pair(hw[i] ", " recipe[j], e)
            }
        print_pairs("precision", 36)
    }' "$results"

# Layer microbenchmarks (scenarios/validation/*.layers): one layer's forward and backward as its
# framework's own benchmark timed it, against stepsim's -- the row's scenario run with its
# one-layer model and again with the two-layer model the row names, the difference of rank 0's
# forward ops and of its backward ops on the timeline (one layer with its launches, unless the
# table's set line frees them, without the embedding, the head and the step's end).  Per row the measured and predicted ms and the
# errors; per table the forward and backward MAE and bias; its summary line (`<table> MAE ...
# over N layer timings`) comes with the sets' below.  A table's `# set: KEY=VALUE,...` line
# gives --set options for all its rows: how its benchmark ran where that differs from a
# training step (moeperf: kernel launches hidden by the host running ahead).
layers_tmp=$(mktemp -d) || exit 1
trap 'rm -f "$results"; rm -rf "$layers_tmp"' EXIT
layer_ms() { # timeline -> "forward_ms backward_ms" of rank 0
    awk -F, '$1 == 0 && $2 == "F" { f += $7 - $6 } $1 == 0 && ($2 == "B" || $2 == "W") { b += $7 - $6 }
             END { printf "%.9f %.9f\n", f * 1000, b * 1000 }' "$1"
}
for table in "$top_srcdir"/scenarios/validation/*.layers; do
    [ -r "$table" ] || continue
    name=$(basename "$table" .layers)
    echo "== layer microbenchmark $name (scenarios/validation/$name.layers): one layer as" \
        "its framework's benchmark timed it"
    printf '  %-6s %-30s %9s %10s %8s %9s %10s %8s\n' id case fwd_ms predicted error bwd_ms \
        predicted error
    set --
    old_ifs=$IFS
    IFS=,
    for kv in $(sed -n 's/^# set: //p' "$table" | head -n 1); do set -- "$@" --set "$kv"; done
    IFS=$old_ifs
    while IFS="$tab" read -r id case scenario model2 fwd bwd; do
        case "$id" in '#'*|'') continue ;; esac
        scn="$top_srcdir/$scenario"
        rm -f "$layers_tmp/one.csv" "$layers_tmp/two.csv" # stepsim writes no file over another
        # shellcheck disable=SC2086
        if "$stepsim" run "$scn" "$@" ${STEPSIM_ARGS-} --timeline "$layers_tmp/one.csv" \
            >/dev/null 2>&1 &&
            "$stepsim" run "$scn" "$@" ${STEPSIM_ARGS-} --set "model=$top_srcdir/$model2" \
                --timeline "$layers_tmp/two.csv" >/dev/null 2>&1; then
            printf '%s\t%s\t%s\t%s\t%s %s\n' "$id" "$case" "$fwd" "$bwd" \
                "$(layer_ms "$layers_tmp/one.csv")" "$(layer_ms "$layers_tmp/two.csv")"
        else
            echo "validate: $id: stepsim did not run $scenario" >&2
            status=1
        fi
    done <"$table" >"$layers_tmp/rows"
    awk -F'\t' -v name="$name" -v out="$layers_tmp/$name.summary" "$noun_awk"'
        {
            split($5, t, " "); pf = t[3] - t[1]; pb = t[4] - t[2]
            ef = 100 * (pf - $3) / $3; eb = 100 * (pb - $4) / $4
            printf "  %-6s %-30s %9.3f %10.3f %+7.1f%% %9.3f %10.3f %+7.1f%%\n", $1, $2, $3, pf,
                   ef, $4, pb, eb
            xf = ef < 0 ? -ef : ef; xb = eb < 0 ? -eb : eb
            n++; af += xf; ab += xb; sf += ef; sb += eb
            if (xf > w) w = xf
            if (xb > w) w = xb
        }
        END {
            if (!n) exit
            printf "  %s forward MAE %.1f%% (bias %+.1f%%), backward MAE %.1f%% (bias %+.1f%%)\n",
                   name, af / n, sf / n, ab / n, sb / n
            printf "%s MAE %.1f%% over %d %s (worst %.1f%%)\n", name, (af + ab) / (2 * n),
                   2 * n, noun(2 * n, "layer timing"), w > out
        }' "$layers_tmp/rows"
done

# Kernel microbenchmarks (scenarios/validation/*.gemms): one layer's GEMM kernels as a library's
# own benchmark timed them, against the first layer's GEMM time forward and backward in
# stepsim's JSON report, run with the row's overrides and training-efficiency 1 (isolated
# kernels, which the hardware files' curves describe).  Per row the measured and predicted ms
# and the error; its summary line comes with the sets' below.
layer_gemm_ms() { # JSON report -> the first layer's GEMM ms, forward + backward
    awk '/"layers": \[/ { getline; split($0, a, "\"gemm_s\": "); split(a[2], f, ",")
                           split(a[3], b, ","); printf "%.9f\n", (f[1] + b[1]) * 1000; exit }' "$1"
}
for table in "$top_srcdir"/scenarios/validation/*.gemms; do
    [ -r "$table" ] || continue
    name=$(basename "$table" .gemms)
    echo "== kernel microbenchmark $name (scenarios/validation/$name.gemms): one layer's GEMMs as" \
        "its library's benchmark timed them"
    printf '  %-6s %-24s %9s %10s %8s\n' id case gemm_ms predicted error
    while IFS="$tab" read -r id case scenario overrides gemm; do
        case "$id" in '#'*|'') continue ;; esac
        set -- --set hw.training-efficiency=1
        old_ifs=$IFS
        IFS=,
        for kv in $overrides; do set -- "$@" --set "$kv"; done
        IFS=$old_ifs
        # shellcheck disable=SC2086
        if "$stepsim" run "$top_srcdir/$scenario" ${STEPSIM_ARGS-} "$@" --format json \
            >"$layers_tmp/gemm.json" 2>/dev/null; then
            printf '%s\t%s\t%s\t%s\n' "$id" "$case" "$gemm" "$(layer_gemm_ms "$layers_tmp/gemm.json")"
        else
            echo "validate: $id: stepsim did not run $scenario" >&2
            status=1
        fi
    done <"$table" >"$layers_tmp/gemm.rows"
    awk -F'\t' -v name="$name" -v out="$layers_tmp/$name.summary" "$noun_awk"'
        {
            e = 100 * ($4 - $3) / $3; a = e < 0 ? -e : e
            printf "  %-6s %-24s %9.3f %10.3f %+7.1f%%\n", $1, $2, $3, $4, e
            n++; t += a; b += e; if (a > w) w = a
        }
        END {
            if (!n) exit
            printf "  %s MAE %.1f%% (bias %+.1f%%)\n", name, t / n, b / n
            printf "%s MAE %.1f%% over %d %s (worst %.1f%%)\n", name, t / n, n,
                   noun(n, "kernel timing"), w > out
        }' "$layers_tmp/gemm.rows"
done

# The summary lines (CI greps "^dev MAE").
for s in $sets; do
    awk -F'\t' -v set="$s" "$noun_awk"'
        $1 != set { next }
        $13 == "ne" { ne++ }
        $13 != "ok" || $12 != "yes" { next }
        { e = $7 < 0 ? -$7 : $7; n++; t += e; if (e > w) w = e
          if ($8 != "-") { g = $10 < 0 ? -$10 : $10; gn++; gt += g; if (g > gw) gw = g } }
        END {
            line = sprintf("%s MAE %.1f%% over %d %s (worst %.1f%%)", set, n ? t / n : 0, n,
                           noun(n, "run"), w)
            if (ne || set == "wave2") line = line sprintf("; %d not expressible", ne)
            print line
            if (gn) printf "%s memory MAE %.1f%% over %d %s (worst %.1f%%)\n", set, gt / gn, gn,
                           noun(gn, "run"), gw
        }' "$results"
done

for summary in "$layers_tmp"/*.summary; do
    [ -r "$summary" ] && cat "$summary"
done

# Pooled: every scored run of the calibration sets (dev, wave2) as one, then every scored run of
# the held-out sets as one -- what the per-set lines above add up to, each run weighing the same.
awk -F'\t' "$side_awk$noun_awk"'
    $13 != "ok" || $12 != "yes" { next }
    {
        side = side_of($1)
        e = $7 < 0 ? -$7 : $7
        n[side]++; t[side] += e; b[side] += $7
        if (e > w[side]) w[side] = e
        if (!((side, $1) in seen)) { seen[side, $1] = 1; sets[side]++ }
    }
    function pooled(side, label) {
        if (n[side])
            printf "%s MAE %.1f%% over %d %s of %d %s (worst %.1f%%), bias %+.1f%%\n", label,
                   t[side] / n[side], n[side], noun(n[side], "run"), sets[side],
                   noun(sets[side], "set"), w[side], b[side] / n[side]
    }
    END { pooled("c", "calibration"); pooled("h", "held out") }' "$results"

if [ -n "${VALIDATE_TSV-}" ]; then
    awk -F'\t' 'BEGIN { OFS = "\t"; print "id", "set", "source", "scored", "status", "measured_step_s",
                        "predicted_step_s", "error_pct", "measured_mem_gb", "predicted_mem_gb",
                        "mem_error_pct", "oom", "schedule", "not_expressible", "patterns",
                        "hardware", "job" }
                { print $2, $1, $3, $12, $13, $5, $6 == "-" ? $6 : sprintf("%.6g", $6), $7, $8, $9,
                        $10, $11, $15, $14, $16, $17, $18 }' \
        "$results" > "$VALIDATE_TSV" || status=1
fi
exit $status
