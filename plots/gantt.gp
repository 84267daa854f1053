# gantt.gp -- draw a stepsim pipeline timeline as a Gantt chart.
#
#   gnuplot -e "datafile='step.tsv'; outfile='step.png'" plots/gantt.gp
#
# stepsim --plot writes the data and runs this same script (compiled into the binary).
# Input: tab-separated rows, '#' starts a comment line:
#   rank  start_s  end_s  kind  microbatch  chunk  peer
# kind: 0 = F (forward), 1 = B (backward; input gradient only when there are W ops),
#       2 = W (weight gradient), 3 = OPT (optimizer step),
#       4 = activation send rank -> peer, 5 = gradient send rank -> peer,
#       6 = an overlapped F&B pair (DualPipe): drawn as an outline around its two ops.
# peer is -1 for compute rows.  Times are seconds from the step's first op.  stepsim leaves
# out rows that take no time (free transfers, a zero-cost optimizer): nothing to draw.
# Optional variables: outfile, format ('png' or 'svg'; default from outfile's name),
# memlabels (peak memory per rank in GiB, space-separated, shown under each rank label),
# plottitle, nranks and vp (chunks per rank; both default to what the data shows), width
# (pixels; default 1600), chunknames (space-separated legend names of the chunks, e.g.
# 'down up' for DualPipe's two directions; default 'chunk 0', 'chunk 1', ...).
#
# Layout: one row per rank, rank 0 on top, on a light grey lane so idle time (the bubble)
# reads as an empty stretch of lane.  Colour by op kind; with several model chunks per rank each
# chunk gets its own shade of the kind's colour (chunk 0 darkest).  Micro-batch numbers are
# written only on boxes wide enough to hold them, in black or white by the fill's brightness.
# P2P transfers, when the step has any that take time, are thin bars on a narrow "link" row
# between the two ranks they join (activations in the upper half, gradients in the lower
# half; the interleaved wrap last rank -> rank 0 gets a row below the last rank): they sit where the data flows, so exposed communication shows up next to the bubble it
# causes, yet take a fraction of a rank row's height, so the compute picture stays uncluttered.

if (!exists("datafile")) datafile = 'timeline.tsv'
if (!exists("outfile")) outfile = 'timeline.png'
if (!exists("plottitle")) plottitle = 'stepsim pipeline timeline'
if (!exists("width")) width = 1600
if (!exists("format")) format = (strstrt(outfile, '.svg') > 0 ? 'svg' : 'png')
set encoding utf8
set datafile separator tab
set datafile commentschars '#'

# What the data holds.
stats datafile using (($1 > $7) ? $1 : $7) nooutput
if (!exists("nranks")) nranks = int(STATS_max) + 1
if (!exists("vp")) { stats datafile using 6 nooutput; vp = int(STATS_max) + 1 }
stats datafile using 3 nooutput
tmax = STATS_max
if (tmax <= 0) tmax = 1e-12
stats datafile using (($4 == 4 || $4 == 5) ? 1 : 0) nooutput
haslinks = (STATS_max > 0)
stats datafile using (($4 == 6) ? 1 : 0) nooutput
haspairs = (STATS_max > 0)
stats datafile using (($4 == 2) ? 1 : 0) nooutput
hasW = (STATS_max > 0)
stats datafile using (($4 == 3) ? 1 : 0) nooutput
hasOPT = (STATS_max > 0)
# A transfer that is neither r -> r+1 nor r+1 -> r is the interleaved wrap from the last rank
# back to rank 0; it gets its own link row below the last rank.
stats datafile using ((($4 == 4 || $4 == 5) && abs($1 - $7) > 1) ? 1 : 0) nooutput
haswrap = (STATS_max > 0 && nranks > 2)

# A readable time unit for the x axis.
if (tmax < 2e-3) { scale = 1e6; unit = 'µs' } else { if (tmax < 2) { scale = 1e3; unit = 'ms' } else { scale = 1; unit = 's' } }

# Geometry.  Rank r's row is centred on y = r; the link row between r and r+1 on y = r + 0.5.
rank_half = haslinks ? 0.30 : 0.38
link_half = 0.055
link_gap = 0.065
ymax = nranks - 1 + (haswrap ? 0.5 : 0)
row_px = haslinks ? 72 : 56
height = 150 + int(row_px * (ymax + 1))
# ... but tall enough for the legend in one column beside the plot area (about 25 px an entry
# at 12 pt with the key title; title and x axis take about 150 px).
nkey = (hasW ? 3 : 2) * (vp > 1 ? vp : 1) + hasOPT + 2 * haslinks + haspairs + 1
if (height < 190 + 27 * (nkey + 1)) height = 190 + 27 * (nkey + 1)
lm = 0.075
rm = 0.80
plot_px = width * (rm - lm)

if (format eq 'svg') {
    set terminal svg size width, height font 'Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size width, height font 'Sans,12' background rgb 'white'
}
set output outfile

set lmargin at screen lm
set rmargin at screen rm
set title plottitle font ',14'
set xlabel sprintf('time since the first op (%s)', unit)
set xrange [0 : tmax * scale]
set yrange [ymax + (haswrap ? 0.25 : 0.45) : -0.45]
set xtics nomirror out
set mxtics
set ytics nomirror scale 0
set ytics ()
# With memlabels (peak GiB per rank, space-separated) each row label also shows the memory.
if (exists("memlabels")) {
    do for [r = 0 : nranks - 1] { set ytics add (sprintf("rank %d\n%s GiB", r, word(memlabels, r + 1)) r) }
} else {
    do for [r = 0 : nranks - 1] { set ytics add (sprintf('rank %d', r) r) }
}
set grid xtics back lc rgb '#a0aec0' lw 0.6 dt 3
set border 1 lc rgb '#4a5568'

# Lanes: a light band per rank; what is not covered by a box is idle.
lane = 0xe2e8f0
do for [r = 0 : nranks - 1] {
    set object rectangle from 0, r - rank_half to tmax * scale, r + rank_half \
        fc rgb lane fs solid 1.0 noborder behind
}
if (haslinks) {
    nlinks = nranks - 1 + (haswrap ? 1 : 0)
    do for [k = 0 : nlinks - 1] {
        set object rectangle from 0, k + 0.5 - link_gap - link_half to tmax * scale, k + 0.5 + link_gap + link_half \
            fc rgb 0xf7fafc fs solid 1.0 noborder behind
        set label sprintf('link %d⇄%d', k, (k + 1) % nranks) at graph 0, first k + 0.5 right \
            offset -0.8, 0 font ',8' tc rgb '#718096'
    }
}

# Colours by kind (F blue, B orange, W green, OPT purple).  Chunk c of vp is blended from the
# dark shade (chunk 0) toward the light one (last chunk).
dark(k)  = k == 0 ? 0x2b6cb0 : k == 1 ? 0xc05621 : k == 2 ? 0x2f855a : 0x6b46c1
light(k) = k == 0 ? 0x90cdf4 : k == 1 ? 0xfbd38d : k == 2 ? 0x9ae6b4 : 0xd6bcfa
R(c) = (int(c) >> 16) & 255
G(c) = (int(c) >> 8) & 255
B(c) = int(c) & 255
mix(a, b, t) = (int(R(a) + (R(b) - R(a)) * t) << 16) | (int(G(a) + (G(b) - G(a)) * t) << 8) | int(B(a) + (B(b) - B(a)) * t)
shade(k, c) = (vp > 1 && k < 3) ? mix(dark(k), light(k), int(c) / (vp - 1.0)) : dark(k)
send_act = 0x3182ce
send_grad = 0xdd6b20
colour(k, c) = k == 4 ? send_act : k == 5 ? send_grad : shade(k, c)
# Label ink: black on light fills, white on dark ones (ITU-R BT.601 luma).
luma(c) = 0.299 * R(c) + 0.587 * G(c) + 0.114 * B(c)
ink(c) = luma(c) > 150 ? 0x1a202c : 0xffffff

# Where a row sits: compute on its rank's row; a transfer on the row of the link it uses,
# activations in the upper half, gradients in the lower half.  Link row k joins ranks k and
# k+1; the last one joins the last rank and rank 0 (the interleaved wrap).
linkrow(s, d) = (s + 1 == d) ? s : (d + 1 == s) ? d : nranks - 1
y(r, k, d) = k < 4 ? r : k == 6 ? NaN : linkrow(r, d) + 0.5 + (k == 5 ? link_gap : -link_gap)
ypair(r, k) = k == 6 ? r : NaN
h(k) = k < 4 ? rank_half : link_half

# Half a box's width in axis units, at least 0.8 px so that a sub-pixel op or transfer (a short
# send on a long step) still shows instead of vanishing; widths are exact otherwise.
px_per_s = plot_px / tmax
halfw(s, e) = ((e - s) / 2 > 0.8 / px_per_s ? (e - s) / 2 : 0.8 / px_per_s) * scale

# A label fits when the box is wider than its text (about 7 px a digit at 10 pt, plus room).
text(k, mb) = k == 3 ? 'opt' : sprintf('%d', int(mb))
fits(s, e, t) = (e - s) * px_per_s > strlen(t) * 7 + 6
label(s, e, k, mb) = (k <= 3 && fits(s, e, text(k, mb))) ? text(k, mb) : ''

# Legend: one entry per kind (per chunk shade when vp > 1), then transfers and idle.
kname(k) = k == 0 ? 'F  forward' : k == 1 ? (hasW ? 'B  backward (input grad)' : 'B  backward') : 'W  weight grad'
kshort(k) = k == 0 ? 'F' : k == 1 ? 'B' : 'W'
cname(c) = exists("chunknames") ? word(chunknames, int(c) + 1) : sprintf('chunk %d', int(c))
nk = hasW ? 2 : 1
vc = vp > 1 ? vp - 1 : 0
set key outside right top vertical Left reverse samplen 1.2 spacing 1.25 width 1 \
    title 'box label = micro-batch' font ',11'
set style fill solid 1.0 border lc rgb 'white'

plot datafile using (($2 + $3) / 2 * scale):(y($1, $4, $7)):(halfw($2, $3)):(h($4)):(colour($4, $6)) \
         with boxxyerror lc rgb variable notitle, \
     '' using (($2 + $3) / 2 * scale):(y($1, $4, $7)):(label($2, $3, $4, $5)):(ink(colour($4, $6))) \
         with labels tc rgb variable font ',10' notitle, \
     '' using (($2 + $3) / 2 * scale):(ypair($1, $4)):(halfw($2, $3)):(rank_half + 0.06) \
         with boxxyerror fs empty border lc rgb '#1a202c' lw 1.6 lc rgb '#1a202c' notitle, \
     for [k = 0 : nk] for [c = 0 : (vp > 1 ? vc : 0)] keyentry with boxes fc rgb shade(k, c) \
         title (vp > 1 ? sprintf('%s  %s', kshort(k), cname(c)) : kname(k)), \
     for [i = 1 : haspairs] keyentry with boxes fs empty border lc rgb '#1a202c' lw 1.6 \
         lc rgb '#1a202c' title 'F&B overlapped pair' noenhanced, \
     for [i = 1 : hasOPT] keyentry with boxes fc rgb dark(3) title 'OPT  optimizer', \
     for [i = 1 : haslinks] keyentry with boxes fc rgb send_act title 'activation send', \
     for [i = 1 : haslinks] keyentry with boxes fc rgb send_grad title 'gradient send', \
     keyentry with boxes fc rgb lane title 'idle (bubble)'
