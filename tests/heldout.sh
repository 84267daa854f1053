#!/bin/sh
# heldout.sh -- the held-out part of `make validate`: runs never used to calibrate anything.
#
# Each row of scenarios/validation/heldout.tsv names a scenario, comma-separated --set
# overrides, a measured throughput in samples per GPU per second and, when published, the
# measured peak memory per GPU in GB.  Prints the predicted figures and their errors per row,
# the mean absolute errors, and -- for rows whose ids differ only
# in a last "-1f1b" / "-zb" (ZB-H1) / "-zbv" (ZB-V) -- the measured and predicted speed-up of
# the zero-bubble schedule over 1F1B on the same model and GPUs, which is what the schedule
# itself is responsible for.
# Informational: the exit status is 1 only when a run fails.  STEPSIM_ARGS adds options to every
# run, as for validate.sh.
set -u
top_srcdir=${top_srcdir:-.}
stepsim=${STEPSIM:-./stepsim}
table="$top_srcdir/scenarios/validation/heldout.tsv"
[ -x "$stepsim" ] || { echo "heldout: $stepsim not built" >&2; exit 1; }

status=0
tab=$(printf '\t')
results=$(mktemp)
trap 'rm -f "$results"' EXIT
printf '%-12s %-28s %-8s %8s %9s %8s   %6s %6s %7s\n' id run schedule 'samples/' predicted error \
    mem_GB stepsim error
printf '%-12s %-28s %-8s %8s\n' '' '' '' 'GPU/s'
while IFS="$tab" read -r id scenario sets measured memory source; do
    case "$id" in '#'*|'') continue ;; esac
    args=""
    for kv in $(printf '%s\n' "$sets" | tr ',' ' '); do
        args="$args --set $kv"
    done
    # shellcheck disable=SC2086 # args and STEPSIM_ARGS are lists of options, split on purpose
    json=$("$stepsim" run "$top_srcdir/$scenario" --format json $args ${STEPSIM_ARGS-} 2>&1) || {
        echo "$id: stepsim failed: $json" >&2
        status=1
        continue
    }
    printf '%s\n' "$json" | awk -v id="$id" -v meas="$measured" -v mem="$memory" '
        /"scenario":/ { sub(/^[^:]*: *"/, ""); sub(/",?$/, ""); name = $0 }
        match($0, /"total": [0-9.eE+]+/) { t = substr($0, RSTART + 9, RLENGTH - 9) + 0
                                           if (t > peak) peak = t }
        !sched && match($0, /"schedule": "[^"]*"/) { sched = substr($0, RSTART + 13, RLENGTH - 14) }
        /"samples_per_s":/ { gsub(/[^0-9.eE+-]/, "", $2); sps = $2 }
        /"gpus":/ { gsub(/[^0-9]/, "", $2); gpus = $2 }
        END {
            pred = sps / gpus
            split(name, w, " ")
            printf "%-12s %-28s %-8s %8.3f %9.3f %+7.1f%%", id, w[2] " " w[3] " " w[4], sched,
                   meas, pred, 100 * (pred - meas) / meas
            if (mem != "" && peak > 0)
                printf "   %6.1f %6.1f %+6.1f%%", mem, peak / 1e9, 100 * (peak / 1e9 - mem) / mem
            printf "\n"
        }' | tee -a "$results"
done < "$table"
awk '{ e = $8; sub(/%/, "", e); e = e + 0; e = e < 0 ? -e : e; s += e; n++; if (e > m) m = e
       if (NF >= 11) { g = $11; sub(/%/, "", g); g = g + 0; g = g < 0 ? -g : g; gs += g; gn++
                       if (g > gm) gm = g } }
     END { if (n) printf "held-out mean absolute error %.1f%% over %d runs (worst %.1f%%)\n", s / n, n, m
           if (gn) printf "held-out memory: mean absolute error %.1f%% over %d runs (worst %.1f%%)\n", gs / gn, gn, gm }' \
    "$results"
# Speed-up of each zero-bubble schedule (ids ending -zb: ZB-H1, -zbv: ZB-V) over 1F1B on the
# same model and GPUs (the id without its last part, ending -1f1b).
awk '{ key = $1; kind = $1; sub(/-[a-z0-9]+$/, "", key); sub(/^.*-/, "", kind)
       if (kind == "1f1b") { m1[key] = $6; p1[key] = $7 }
       else { order[++n] = $1; k[$1] = key; s[$1] = $5; mz[$1] = $6; pz[$1] = $7 } }
     END {
       for (i = 1; i <= n; i++) {
           id = order[i]; key = k[id]
           if (!(key in m1)) continue
           if (!shown++) printf "\n%-12s %-8s %16s %17s\n", "layout", "schedule", "measured/1F1B", "predicted/1F1B"
           a = mz[id] / m1[key]; b = pz[id] / p1[key]
           printf "%-12s %-8s %+15.1f%% %+16.1f%%\n", key, s[id], 100 * (a - 1), 100 * (b - 1)
           d = 100 * (b - a); d = d < 0 ? -d : d; sum[s[id]] += d; cnt[s[id]]++
       }
       for (x in cnt) printf "speed-up error, %s: mean %.1f points over %d layouts\n", x, sum[x] / cnt[x], cnt[x]
     }' "$results"
exit $status
