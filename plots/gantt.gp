# gantt.gp -- draw a stepsim pipeline timeline as a Gantt chart.
#
#   gnuplot -e "datafile='step.tsv'; outfile='step.png'" plots/gantt.gp
#
# stepsim --plot writes the data and runs this same script (compiled into the binary).
# Input: tab-separated rows, '#' starts a comment line; one row per box, drawn as given:
#   rank  start_s  end_s  kind  chunk  peer  lo  hi  shade  border  label
# kind: 0 = F (forward), 1 = B (backward; input gradient only when there are W ops),
#       2 = W (weight gradient), 3 = OPT (optimizer step),
#       4 = activation send rank -> peer, 5 = gradient send rank -> peer,
#       6 = an overlapped F&B pair (DualPipe): drawn as an outline around its two ops.
# Times are seconds from the step's first op.  A compute box covers the fraction lo..hi of its
# rank's lane (0 = the lane's bottom, 1 = its top); a transfer box covers its half of the link
# row, its colour at strength `shade` (1 = full).  border = 1: a white edge (wide boxes only);
# label: the micro-batch text ('-' for none), only where stepsim found it fits.  peer is -1 for
# compute rows.  stepsim decides the detail (one box per op, runs of ops, or busy-fraction
# strips) for the image's size, so that no box is drawn narrower than what it stands for.
# Optional variables (stepsim passes them all; stats of the data stand in otherwise):
# outfile, format ('png' or 'svg'; default from outfile's name), plottitle, layoutline (the
# resolved layout of a modelled step: a second title line), notelines and noteline1 ..
# (how the boxes were drawn, in lines that fit the width: under the time axis label, in the
# bottom margin, which holds them), mode (0 ops,
# 1 runs, 2 strips), labelpt (the labels' font size), keypt (the legend's), haslabels (some box
# carries its micro-batch), fontscale (every other font size and the room text takes, over the
# default: more than 1 on a large image), nranks, vp
# (chunks per rank), tmin and tmax (the window, seconds), width and height (pixels), lmpx,
# rmpx, tmpx, bmpx (margins around the plot area, pixels), rank_half (half a lane, in rows),
# haslinks, haswrap, hasact and hasgrad (activation, gradient sends drawn: stepsim leaves out
# sends too faint to see, and their legend entries), hasW, hasOPT, haspairs, busylabels (busy %
# per rank, space-separated), keydrawn (the F, B, W of each chunk drawn: below),
# memlabels (peak memory per rank in GiB, space-separated), chunknames (legend names of the
# chunks, 'down up' for the V placements' two directions; default 'chunk 0', 'chunk 1', ...).
#
# Layout: one row per rank, rank 0 on top, on a light grey lane so idle time (the bubble)
# reads as an empty stretch of lane.  Colour by op kind; with several model chunks per rank each
# chunk gets its own shade of the kind's colour (chunk 0 darkest; four shades apart at vp 4).
# P2P transfers, when the step has any that take time, are thin bars on a narrow "link" row
# between the two ranks they join (activations in the upper half, gradients in the lower half;
# the interleaved wrap last rank -> rank 0 gets a row below the last rank).

if (!exists("datafile")) datafile = 'timeline.tsv'
if (!exists("outfile")) outfile = 'timeline.png'
if (!exists("plottitle")) plottitle = 'stepsim pipeline timeline'
if (!exists("notelines")) notelines = 0
if (!exists("layoutline")) layoutline = ''
if (!exists("mode")) mode = 0
if (!exists("labelpt")) labelpt = 10
if (!exists("keypt")) keypt = 11
if (!exists("fontscale")) fontscale = 1
fs(pt) = int(pt * fontscale + 0.5)
if (!exists("haslabels")) haslabels = mode != 2
if (!exists("width")) width = 1600
if (!exists("format")) format = (strstrt(outfile, '.svg') > 0 ? 'svg' : 'png')
set encoding utf8
set datafile separator tab
set datafile commentschars '#'

# What the data holds, when stepsim did not say.
if (!exists("nranks")) { stats datafile using (($1 > $6) ? $1 : $6) nooutput; nranks = int(STATS_max) + 1 }
if (!exists("vp")) { stats datafile using 5 nooutput; vp = int(STATS_max) + 1 }
if (!exists("tmin")) { stats datafile using 2 nooutput; tmin = STATS_min }
if (!exists("tmax")) { stats datafile using 3 nooutput; tmax = STATS_max }
if (tmax <= tmin) tmax = tmin + 1e-12
if (!exists("haslinks")) { stats datafile using (($4 == 4 || $4 == 5) ? 1 : 0) nooutput; haslinks = (STATS_max > 0) }
if (!exists("haspairs")) { stats datafile using (($4 == 6) ? 1 : 0) nooutput; haspairs = (STATS_max > 0) }
if (!exists("hasW")) { stats datafile using (($4 == 2) ? 1 : 0) nooutput; hasW = (STATS_max > 0) }
if (!exists("hasOPT")) { stats datafile using (($4 == 3) ? 1 : 0) nooutput; hasOPT = (STATS_max > 0) }
if (!exists("haswrap")) { stats datafile using ((($4 == 4 || $4 == 5) && abs($1 - $6) > 1) ? 1 : 0) nooutput; haswrap = (STATS_max > 0 && nranks > 2) }
if (!exists("hasact")) { stats datafile using (($4 == 4) ? 1 : 0) nooutput; hasact = (STATS_max > 0) }
if (!exists("hasgrad")) { stats datafile using (($4 == 5) ? 1 : 0) nooutput; hasgrad = (STATS_max > 0) }

# A readable time unit for the x axis, from the span shown; a window far from the step's start
# (it begins later than five spans in) is drawn from its own start, x0, so that the ticks read
# 0 to the span rather than long numbers differing in their last digits.
span = tmax - tmin
if (span < 2e-9) { scale = 1e12; unit = 'ps' } else { if (span < 2e-6) { scale = 1e9; unit = 'ns' } else { if (span < 2e-3) { scale = 1e6; unit = 'µs' } else { if (span < 2) { scale = 1e3; unit = 'ms' } else { scale = 1; unit = 's' } } } }
x0 = span > 0 && tmin > 5 * span ? tmin : 0
X(t) = (t - x0) * scale
# x0 for the axis label, in the unit that says it to a few digits more than the span needs
x0unit = x0 >= 1 ? 's' : (x0 >= 1e-3 ? 'ms' : (x0 >= 1e-6 ? 'µs' : (x0 >= 1e-9 ? 'ns' : 'ps')))
x0scale = x0 >= 1 ? 1 : (x0 >= 1e-3 ? 1e3 : (x0 >= 1e-6 ? 1e6 : (x0 >= 1e-9 ? 1e9 : 1e12)))
x0digits = int(ceil(log10(x0 > 0 && span > 0 ? x0 / span : 1))) + 3
x0digits = x0digits < 3 ? 3 : (x0digits > 15 ? 15 : x0digits)

# Geometry.  Rank r's row is centred on y = r; the link row between r and r+1 on y = r + 0.5.
if (!exists("rank_half")) rank_half = haslinks ? 0.30 : 0.38
link_half = 0.055
link_gap = 0.065
ymax = nranks - 1 + (haswrap ? 0.5 : 0)
ybot = ymax + (haswrap ? 0.25 : 0.45)
# keydrawn: one digit per kind F, B, W and chunk (kind * vp + chunk), 1 where a box of it is
# drawn: the legend lists those alone (a zoomed window may show a few).  Default: all of them.
nv = vp > 1 ? vp : 1
if (!exists("keydrawn")) { keydrawn = ''; do for [i=1:3 * nv] { keydrawn = keydrawn . '1' } }
kd(k, c) = int(k) * nv + int(c) + 1
drawn(k, c) = keydrawn[kd(k, c):kd(k, c)] eq '1'
nkey = hasOPT + hasact + hasgrad + haspairs + 1
do for [k=0:(hasW ? 2 : 1)] { do for [c=0:nv - 1] { nkey = nkey + drawn(k, c) } }
if (!exists("height")) {
    height = 150 + int((haslinks ? 72 : 56) * (ybot + 0.45))
    if (height < 200 + 27 * (nkey + 2)) { height = 200 + 27 * (nkey + 2) }
}
if (!exists("lmpx")) lmpx = 130
if (!exists("rmpx")) rmpx = 310
if (!exists("tmpx")) tmpx = 84
if (!exists("bmpx")) bmpx = 64
row_px = (height - tmpx - bmpx) / (ybot + 0.45)

# Font sizes are points: pngcairo draws a point as 4/3 of a pixel (96 dpi), gnuplot's svg
# terminal as one pixel, so an SVG takes 4/3 of them to carry the PNG's text at the PNG's size
# (its text had been three quarters as large: the fits below assume the PNG's).
if (format eq 'svg') {
    set terminal svg size width, height font sprintf('Sans,%d', fs(12)) fontscale 4.0 / 3 \
        background rgb 'white' noenhanced
} else {
    set terminal pngcairo size width, height font sprintf('Sans,%d', fs(12)) background rgb 'white' noenhanced
}
set output outfile

set lmargin at screen lmpx / (width * 1.0)
set rmargin at screen 1 - rmpx / (width * 1.0)
set tmargin at screen 1 - tmpx / (height * 1.0)
set bmargin at screen bmpx / (height * 1.0)
# Title and note in at most 14 and 11 points, smaller when the image is narrow (a character
# takes about 0.7 of the font size, in pixels).
fontfit(text, pt) = (t = int(0.95 * width / (0.7 * (strlen(text) + 1))), t < fs(pt) ? (t < 7 ? 7 : t) : fs(pt))
# Both centred on the image (a title is centred on the plot area, which the legend pushes left).
subtitle = layoutline
# A line that would need less than 9 points to fit is split in two at its first '; ' (a
# layout line: the cluster, then the schedule and batch), each half sized on its own.
toolong(text) = 0.7 * fs(9) * (strlen(text) + 1) > 0.95 * width
subfit = subtitle
if (subtitle ne '' && toolong(subtitle) && strstrt(subtitle, '; ') > 0) {
    cut = strstrt(subtitle, '; ')
    head = subtitle[1:cut]
    tail = subtitle[cut + 2:]
    subtitle = head."\n".tail
    subfit = strlen(head) > strlen(tail) ? head : tail
}
# A title that would be set smaller than its note's 11 points (a narrow image: 7 points at 800
# pixels, under the note and the rank labels) is broken in two at the ' · ' nearest its middle,
# each half sized as one; the note moves down under it (the top margin holds both in two lines,
# the title then at most 12 points).
title = plottitle
titlefit = plottitle
sublines = strstrt(subtitle, "\n") > 0 ? 2 : 1
if (fontfit(plottitle, 14) < fs(11)) {
    mid = strlen(plottitle) / 2.0
    cut = 0
    at = 0
    while (strstrt(plottitle[at + 1:], ' · ') > 0) {
        at = at + strstrt(plottitle[at + 1:], ' · ')
        if (cut == 0 || abs(at - mid) < abs(cut - mid)) { cut = at }
        at = at + 2
    }
    if (cut > 0) {
        head = plottitle[1:cut - 1]
        tail = plottitle[cut + 3:]
        title = head."\n".tail
        titlefit = strlen(head) > strlen(tail) ? head : tail
    }
}
tlines = strstrt(title, "\n") > 0 ? 2 : 1
titlept = fontfit(titlefit, 14)
subpt = fontfit(subfit, 11)
# the margin's 84 pixels (at fontscale 1) hold two title lines of 12 points (5 to 44) and the
# note under them: one line of 11 points (49 to 67) or two of 9 (47 to 77)
if (tlines == 2 && subtitle ne '') {
    titlept = titlept > fs(12) ? fs(12) : titlept
    subpt = sublines == 2 && subpt > fs(9) ? fs(9) : subpt
}
titley = subtitle eq '' ? 40 : (tlines == 2 ? 24 : 28)
suby = tlines == 2 ? (sublines == 2 ? 62 : 58) : 52
set label 98 title at screen 0.5, screen 1 - titley * fontscale / (height * 1.0) \
    center font sprintf(',%d', titlept)
if (subtitle ne '') {
    set label 99 subtitle at screen 0.5, screen 1 - suby * fontscale / (height * 1.0) center \
        font sprintf(',%d', subpt) tc rgb '#4a5568'
}
xtext = x0 > 0 ? sprintf('time since the first op, less %s (%s)', sprintf(sprintf('%%.%dg %%s', x0digits), x0 * x0scale, x0unit), unit) : sprintf('time since the first op (%s)', unit)
# the axis label shrinks, as the title lines do, to fit the room its centre under the plot area
# leaves it (the legend pushes that centre left of the image's)
xroom = 2 * ((lmpx + width - rmpx) / 2.0 < width / 2.0 ? (lmpx + width - rmpx) / 2.0 : width / 2.0)
xpt = int(0.95 * xroom / (0.7 * (strlen(xtext) + 1)))
xpt = xpt > fs(12) ? fs(12) : (xpt < 7 ? 7 : xpt)
set xlabel xtext offset 0, 0.4 font sprintf(',%d', xpt)
# The note's lines at 9 points, each 14 pixels of the bottom margin stepsim grew for them.
do for [i = 1 : notelines] {
    set label (90 + i) value(sprintf('noteline%d', i)) at screen 0.5, \
        screen ((notelines - i) * 14 + 8) * fontscale / (height * 1.0) center \
        font sprintf(',%d', fs(9)) tc rgb '#4a5568'
}
set xrange [X(tmin) : X(tmax)]
set yrange [ybot : -0.45]
set xtics nomirror out
set mxtics
set ytics nomirror scale 0
set ytics ()
# Row labels: "rank r  94%" (its busy share of the pipeline time shown), with the peak memory
# under it when given and the rows are tall enough; every k-th rank when rows are thin.
every = row_px >= 15 * fontscale ? 1 : int(15 * fontscale / row_px) + 1
two = row_px >= 34 * fontscale && exists("memlabels")
# (tic labels are formats: '%%%%' prints as '%')
busy(r) = exists("busylabels") ? sprintf('  %s%%%%', word(busylabels, r + 1)) : ''
rowlabel(r) = sprintf('rank %d%s', r, busy(r)) . (two ? sprintf("\n%s GiB", word(memlabels, r + 1)) : '')
do for [r = 0 : nranks - 1] {
    if (r % every == 0) { set ytics add (rowlabel(r) r) }
}
set grid xtics back lc rgb '#a0aec0' lw 0.6 dt 3
set border 1 lc rgb '#4a5568'

# Lanes: a light band per rank; what is not covered by a box is idle.
lane = 0xe2e8f0
linkbg = 0xf7fafc
do for [r = 0 : nranks - 1] {
    set object rectangle from X(tmin), r - rank_half to X(tmax), r + rank_half \
        fc rgb lane fs solid 1.0 noborder behind
}
if (haslinks) {
    nlinks = nranks - 1 + (haswrap ? 1 : 0)
    do for [k = 0 : nlinks - 1] {
        set object rectangle from X(tmin), k + 0.5 - link_gap - link_half to X(tmax), k + 0.5 + link_gap + link_half \
            fc rgb linkbg fs solid 1.0 noborder behind
        if (row_px >= 40 * fontscale) {
            set label sprintf('link %d⇄%d', k, (k + 1) % nranks) at graph 0, first k + 0.5 right \
                offset -0.8, 0 font sprintf(',%d', fs(8)) tc rgb '#718096'
        }
    }
}

# Colours by kind (F blue, B orange, W green, OPT purple; transfers teal and magenta, apart from
# the compute colours their legend entries sit beside).  With several chunks, chunk c of vp
# takes the point c / (vp - 1) along four shades of its kind, darkest first (at vp 4, one
# each), blended between the two it falls between.  They step by about 18 in CIEDE2000,
# lighter and with the hue turning; a blend of one dark and one light shade had left chunks
# 1 and 2 of 4 under 11 apart, a pair the eye takes for one.  sim/svg_gantt.c has the same.
dark(k)  = k == 0 ? 0x2b6cb0 : k == 1 ? 0xc05621 : k == 2 ? 0x2f855a : 0x6b46c1
ramp(k, i) = k == 0 ? (i == 0 ? 0x1c3a7f : i == 1 ? 0x056bb2 : i == 2 ? 0x02a0df : 0x86d7f4) : \
             k == 1 ? (i == 0 ? 0x7d2c1b : i == 1 ? 0xc45521 : i == 2 ? 0xe79241 : 0xfcd278) : \
                      (i == 0 ? 0x014937 : i == 1 ? 0x187a4d : i == 2 ? 0x62ab64 : 0xb8dd95)
R(c) = (int(c) >> 16) & 255
G(c) = (int(c) >> 8) & 255
B(c) = int(c) & 255
mix(a, b, t) = (int(R(a) + (R(b) - R(a)) * t + 0.5) << 16) | (int(G(a) + (G(b) - G(a)) * t + 0.5) << 8) | int(B(a) + (B(b) - B(a)) * t + 0.5)
# t in [0, 1] along the four shades: which two it falls between, and how far
seg(t) = t >= 1 ? 2 : int(3 * t)
along(k, t) = mix(ramp(k, seg(t)), ramp(k, seg(t) + 1), 3 * t - seg(t))
shade(k, c) = (vp > 1 && k < 3) ? along(k, int(c) / (vp - 1.0)) : dark(k)
send_act = 0x319795
send_grad = 0xb83280
# A transfer's colour at strength s (a link's busy share in strips and runs).
colour(k, c, s) = k == 4 ? mix(linkbg, send_act, s) : k == 5 ? mix(linkbg, send_grad, s) : shade(k, c)
# Label ink: black on light fills, white on dark ones (ITU-R BT.601 luma).
luma(c) = 0.299 * R(c) + 0.587 * G(c) + 0.114 * B(c)
ink(c) = luma(c) > 150 ? 0x1a202c : 0xffffff

# Where a box sits: compute on its rank's lane, from lo to hi of it (the lane's bottom is
# r + rank_half, as rank 0 is on top); a transfer on the row of the link it uses, activations
# in the upper half, gradients in the lower half.  Link row k joins ranks k and k+1; the last
# one joins the last rank and rank 0 (the interleaved wrap).
linkrow(s, d) = (s + 1 == d) ? s : (d + 1 == s) ? d : nranks - 1
ycomp(r, lo, hi) = r + rank_half - (lo + hi) * rank_half
y(r, k, d, lo, hi) = k < 4 ? ycomp(r, lo, hi) : k == 6 ? NaN : linkrow(r, d) + 0.5 + (k == 5 ? link_gap : -link_gap)
h(k, lo, hi) = k < 4 ? (hi - lo) * rank_half : link_half
ypair(r, k) = k == 6 ? r : NaN
xmid(s, e) = X((s + e) / 2)
# Strips touch end to end: a third of a pixel of overlap hides the anti-aliasing seam between
# two spans (the data keeps the exact extents).
seam = mode == 2 ? 0.35 * (tmax - tmin) * scale / (width - lmpx - rmpx) : 0
halfw(s, e) = (e - s) / 2 * scale + seam
# Boxes with a white edge and without one are drawn by two clauses of the plot.
edged(s, e, b) = b > 0 ? xmid(s, e) : NaN
plain(s, e, b) = b > 0 ? NaN : xmid(s, e)
label(k, r, lo, hi, t) = t eq '-' ? NaN : ycomp(r, lo, hi)

# Legend: one entry per kind (per chunk shade when vp > 1), then transfers and idle.
kname(k) = k == 0 ? 'F  forward' : k == 1 ? (hasW ? 'B  backward (input grad)' : 'B  backward') : 'W  weight grad'
kshort(k) = k == 0 ? 'F' : k == 1 ? 'B' : 'W'
cname(c) = exists("chunknames") ? word(chunknames, int(c) + 1) : sprintf('chunk %d', int(c))
nk = hasW ? 2 : 1
vc = vp > 1 ? vp - 1 : 0
# The legend shrinks its spacing when the image is too short for it.
keyspacing = 1.25
if (height < (200 + 27 * (nkey + 2)) * fontscale) { keyspacing = 1.25 * (height - 200.0 * fontscale) / (27 * (nkey + 2) * fontscale); keyspacing = keyspacing < 0.8 ? 0.8 : keyspacing }
keytitle = (mode == 2 ? "lane height = busy share\n" : (haslabels ? "box label = micro-batch\n" : "")) . "rank %: busy share shown"
# gnuplot breaks a legend into columns when its lines overrun the plot area's height, counting
# a line as the spacing times about 2 pixels a point, and the second column ran past the
# image's right edge (vp 8 at 1600x400: "B  chunk 3" on cut off).  A legend with more lines
# than that, at the least spacing, takes a smaller font; above that spacing (27 pixels an
# entry, room to spare) gnuplot keeps one column.  Under half the terminal's font (6 points at
# fontscale 1) gnuplot counts a line as that font's anyway (its tic size), so the font stops
# there: a legend still too long (vp 8 at 16384x800) keeps its second column.
keylines = nkey + (strstrt(keytitle, "\n") > 0 ? 2 : 1)
keyfitpt = int((height - tmpx - bmpx) / (keylines * keyspacing * 2))
if (keyfitpt < keypt) { keypt = keyfitpt < fs(6) ? fs(6) : keyfitpt }
# The legend's top left corner just right of the plot area (placed, not "outside": with the
# margins fixed, gnuplot may otherwise put it over the plot).
keyfont = sprintf(',%d', keypt)
set key at screen 1 - (rmpx - 24 * fontscale) / (width * 1.0), screen 1 - tmpx / (height * 1.0) \
    left top vertical Left reverse samplen 1.2 spacing keyspacing width 1 font keyfont \
    title keytitle left font keyfont
set style fill solid 1.0 noborder

plot datafile using (edged($2, $3, $10)):(y($1, $4, $6, $7, $8)):(halfw($2, $3)):(h($4, $7, $8)):(colour($4, $5, $9)) \
         with boxxyerror fs solid 1.0 border lc rgb 'white' lc rgb variable notitle, \
     '' using (plain($2, $3, $10)):(y($1, $4, $6, $7, $8)):(halfw($2, $3)):(h($4, $7, $8)):(colour($4, $5, $9)) \
         with boxxyerror fs solid 1.0 noborder lc rgb variable notitle, \
     '' using (xmid($2, $3)):(label($4, $1, $7, $8, strcol(11))):(strcol(11)):(ink(colour($4, $5, $9))) \
         with labels tc rgb variable font sprintf(',%d', labelpt) notitle, \
     '' using (xmid($2, $3)):(ypair($1, $4)):(halfw($2, $3)):(rank_half + 0.06) \
         with boxxyerror fs empty border lc rgb '#1a202c' lw 1.6 lc rgb '#1a202c' notitle, \
     for [k = 0 : nk] for [c = 0 : (vp > 1 ? vc : 0)] keyentry with boxes fc rgb shade(k, c) \
         title (!drawn(k, c) ? '' : vp > 1 ? sprintf('%s  %s', kshort(k), cname(c)) : kname(k)), \
     for [i = 1 : haspairs] keyentry with boxes fs empty border lc rgb '#1a202c' lw 1.6 \
         lc rgb '#1a202c' title 'F&B overlapped pair', \
     for [i = 1 : hasOPT] keyentry with boxes fc rgb dark(3) title 'OPT  optimizer', \
     for [i = 1 : hasact] keyentry with boxes fc rgb send_act title 'activation send', \
     for [i = 1 : hasgrad] keyentry with boxes fc rgb send_grad title 'gradient send', \
     keyentry with boxes fc rgb lane title 'idle (bubble)'
