# gantt.gp -- draw a stepsim pipeline timeline as a Gantt chart.
#
#   gnuplot -e "datafile='step.tsv'; outfile='step.png'" plots/gantt.gp
#
# stepsim --plot runs this same script (compiled into the binary).  Input: tab-separated rows
#   rank  start_s  end_s  kind  microbatch  chunk
# kind: 0 = F (forward), 1 = B (backward), 2 = W (weight gradient), 3 = OPT (optimizer).
# Optional variables: outfile, format ('png' or 'svg'; default from outfile's name),
# plottitle, nranks, vp (chunks per rank).
# One row per rank, rank 0 on top; colour by op kind, a lighter shade for odd model chunks;
# micro-batch numbers are written on boxes wide enough to hold them; idle time stays white.

if (!exists("datafile")) datafile = 'timeline.tsv'
if (!exists("outfile")) outfile = 'timeline.png'
if (!exists("plottitle")) plottitle = 'stepsim pipeline timeline'
if (!exists("vp")) vp = 1
if (!exists("format")) format = (strstrt(outfile, '.svg') > 0 ? 'svg' : 'png')
stats datafile using 1 nooutput
if (!exists("nranks")) nranks = int(STATS_max) + 1
stats datafile using 3 nooutput
tmax = STATS_max
if (tmax <= 0) tmax = 1e-12

# Pick a readable time unit for the x axis.
if (tmax < 2e-3) { scale = 1e6; unit = 'us' } else { if (tmax < 2) { scale = 1e3; unit = 'ms' } else { scale = 1; unit = 's' } }

width_px = 1600
height_px = 170 + 60 * nranks
if (format eq 'svg') {
    set terminal svg size width_px, height_px font 'Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size width_px, height_px font 'Sans,12' background rgb 'white'
}
set output outfile

set title plottitle font ',14'
set xlabel sprintf('time (%s)', unit)
set xrange [0 : tmax * scale * 1.001]
set yrange [nranks - 0.5 : -0.5]
set ytics nomirror scale 0
set ytics ()
do for [r = 0 : nranks - 1] { set ytics add (sprintf('rank %d', r) r) }
set grid xtics lc rgb '#dddddd' lw 1 dt 2
set border 3
set tics out
set key outside right top vertical Left reverse samplen 1.5 spacing 1.3 title 'op' noautotitle

# Colours: dark shade for even chunks, light shade for odd chunks.
dark(k)  = k == 0 ? 0x2b6cb0 : k == 1 ? 0xdd6b20 : k == 2 ? 0x2f855a : 0x6b46c1
light(k) = k == 0 ? 0x90cdf4 : k == 1 ? 0xfbd38d : k == 2 ? 0x9ae6b4 : 0xb794f4
colour(k, c) = (int(c) % 2 == 1) ? light(k) : dark(k)
ink(k, c) = (int(c) % 2 == 1) ? 0x1a202c : 0xffffff

# A label fits when the box is wider than about 2.2 characters at this scale.
px_per_s = (width_px - 260.0) / tmax
fits(s, e) = (e - s) * px_per_s > 22
label(s, e, mb) = fits(s, e) ? sprintf('%d', int(mb)) : ''
half = 0.36

set style fill solid 1.0 border lc rgb '#1a202c'
plot datafile using (($2 + $3) / 2 * scale):1:(($3 - $2) / 2 * scale):(half):(colour($4, $6)) \
         with boxxyerror lc rgb variable notitle, \
     '' using (($2 + $3) / 2 * scale):1:(($4 < 3) ? label($2, $3, $5) : ''):(ink($4, $6)) \
         with labels tc rgb variable font ',9' notitle, \
     keyentry with boxes fc rgb dark(0) title 'F  forward', \
     keyentry with boxes fc rgb dark(1) title 'B  backward', \
     (vp > 1 ? 1/0 : 1/0) with boxes fc rgb light(0) title (vp > 1 ? 'odd chunk (light)' : ''), \
     keyentry with boxes fc rgb dark(2) title 'W  weight grad', \
     keyentry with boxes fc rgb dark(3) title 'OPT optimizer'
