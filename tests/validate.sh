#!/bin/sh
# validate.sh -- `make validate`: stepsim against published, measured training runs.
#
# For every row of scenarios/validation/runs.tsv, run its scenario and compare the predicted
# step time with the measured one.  Sources publish TFLOP/s per GPU, not step times; the
# measured step time is recovered with the source's own FLOPs convention, which stepsim
# computes from the same model:
#   hw    (SC'21)  F = 4 x forward of every layer (full recompute) + 3 x logits, full attention
#                  = Narayanan et al.'s 96 B s l h^2 (1 + s/6h + V/16lh)   -> hw_flops_per_step
#   model (MC24)   F = 3 x forward, no recompute, full attention          -> model_flops_per_step
#   measured step time = F / (measured TFLOP/s per GPU x GPUs)
# Prints a table and, last, the mean absolute error in percent.  STEPSIM_ARGS adds options to
# every run (e.g. STEPSIM_ARGS="--set jitter=0.02" for a what-if).
set -u
top_srcdir=${top_srcdir:-.}
stepsim=${STEPSIM:-./stepsim}
table="$top_srcdir/scenarios/validation/runs.tsv"
[ -x "$stepsim" ] || { echo "validate: $stepsim not built" >&2; exit 1; }

printf '%-4s %-28s %8s %10s %10s %8s\n' id model gpus measured_s predicted_s error
status=0
tab=$(printf '\t')
results=$(mktemp)
trap 'rm -f "$results"' EXIT
while IFS="$tab" read -r id scenario tflops convention source; do
    case "$id" in '#'*|'') continue ;; esac
    # shellcheck disable=SC2086 # STEPSIM_ARGS is a list of options, split on purpose
    json=$("$stepsim" run "$top_srcdir/$scenario" --format json ${STEPSIM_ARGS-} 2>&1) || {
        echo "$id: stepsim failed: $json" >&2
        status=1
        continue
    }
    printf '%s\n' "$json" | awk -v id="$id" -v tf="$tflops" -v conv="$convention" '
        /"scenario":/ { sub(/^[^:]*: *"/, ""); sub(/",?$/, ""); name = $0 }
        /"step_time_s":/ { gsub(/[^0-9.eE+-]/, "", $2); pred = $2 }
        /"gpus":/ { gsub(/[^0-9]/, "", $2); gpus = $2 }
        /"model_flops_per_step":/ { gsub(/[^0-9.eE+-]/, "", $2); mf = $2 }
        /"hw_flops_per_step":/ { gsub(/[^0-9.eE+-]/, "", $2); hf = $2 }
        END {
            f = (conv == "hw") ? hf : mf
            meas = f / (tf * 1e12 * gpus)
            err = 100 * (pred - meas) / meas
            split(name, w, " ")
            printf "%-4s %-28s %8d %10.3f %10.3f %+7.1f%%\n", id, w[2] " " w[3], gpus, meas, pred, err
        }' | tee -a "$results"
done < "$table"
awk '{ e = $NF; sub(/%/, "", e); e = e + 0; e = e < 0 ? -e : e; s += e; n++; if (e > m) m = e }
     END { if (n) printf "mean absolute error %.1f%% over %d runs (worst %.1f%%)\n", s / n, n, m }' "$results"
exit $status
