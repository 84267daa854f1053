# memory.gp -- memory per GPU of each pipeline rank (all its stages), as stacked bars.
#
#   gnuplot -e "datafile='mem.tsv'; outfile='mem.png'" plots/memory.gp
#
# stepsim run --plot FILE.png writes FILE-memory.png with this script for modelled scenarios.
# Input: tab-separated rows "rank  weights  grads  optimizer  activations" in GiB (a '#' header
# line first).  Optional variables: outfile, format ('png' or 'svg'), plottitle, layoutline (the
# resolved layout: a second title line, split at its first '; ' when too long for the width), hbm
# (GiB a step may use, HBM less the reserve: drawn as a dashed capacity line), plotwidth and
# plotheight (pixels: the run's --plot-size; without them the width follows the rank count, 520
# high), fontscale (font sizes and the room text takes over the default, for a large image).

if (!exists("datafile")) datafile = 'memory.tsv'
if (!exists("outfile")) outfile = 'memory.png'
if (!exists("format")) format = (strstrt(outfile, '.svg') > 0 ? 'svg' : 'png')
if (!exists("plottitle")) plottitle = 'memory per GPU by pipeline rank'
if (!exists("layoutline")) layoutline = ''
if (!exists("fontscale")) fontscale = 1
fs(pt) = int(pt * fontscale + 0.5)
set encoding utf8
stats datafile using 1 nooutput
nranks = int(STATS_max) + 1
stats datafile using ($2 + $3 + $4 + $5) nooutput
top = STATS_max
if (exists("hbm") && hbm > top) top = hbm

width = 300 + 60 * nranks
if (width < 960) width = 960
if (width > 1800) width = 1800
if (exists("plotwidth")) width = plotwidth
height = exists("plotheight") ? plotheight : 520
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
# The title, and the layout under it in at most 11 points (a character takes about 0.7 of the
# font size in pixels), split in two at its first '; ' when it would need less than 8.
fontfit(text, pt) = (t = int(0.95 * width / (0.7 * (strlen(text) + 1))), t < fs(pt) ? (t < 7 ? 7 : t) : fs(pt))
sub = layoutline
subfit = sub
if (sub ne '' && 0.7 * fs(8) * (strlen(sub) + 1) > 0.95 * width && strstrt(sub, '; ') > 0) {
    cut = strstrt(sub, '; ')
    head = sub[1:cut]
    tail = sub[cut + 2:]
    sub = head."\n".tail
    subfit = strlen(head) > strlen(tail) ? head : tail
}
# A title that would be set smaller than the layout's 11 points (a narrow image, a step out of
# memory) is broken in two at the ' · ' or ': ' nearest its middle, each half sized as one, and
# the rest moves down a line.
title = plottitle
titlefit = plottitle
if (fontfit(plottitle, 13) < fs(11)) {
    mid = strlen(plottitle) / 2.0
    cut = 0
    do for [i = 1 : strlen(plottitle) - 2] {
        if ((plottitle[i:i + 2] eq ' · ' || plottitle[i:i + 1] eq ': ') && \
            (cut == 0 || abs(i - mid) < abs(cut - mid))) { cut = i }
    }
    if (cut > 0) {
        colon = plottitle[cut:cut + 1] eq ': '
        head = plottitle[1:(colon ? cut : cut - 1)]
        tail = plottitle[(colon ? cut + 2 : cut + 3):]
        title = head."\n".tail
        titlefit = strlen(head) > strlen(tail) ? head : tail
    }
}
down = strstrt(title, "\n") > 0 ? 22.0 : 0
# both centred on the image, above the plot area
lines = sub eq '' ? 0 : (strstrt(sub, "\n") > 0 ? 2 : 1)
set label 1 title at screen 0.5, screen 1 - (26.0 + down / 2) * fontscale / height center \
    font sprintf(',%d', fontfit(titlefit, 13))
if (lines > 0) {
    set label 2 sub at screen 0.5, screen 1 - ((lines == 2 ? 58.0 : 50.0) + down) * fontscale / height \
        center font sprintf(',%d', fontfit(subfit, 11)) tc rgb '#4a5568'
}
set tmargin at screen 1 - ((lines == 2 ? 92.0 : (lines == 1 ? 74.0 : 52.0)) + down) * fontscale / height
set ylabel 'memory per GPU (GiB)'
set xlabel 'pipeline rank'
set yrange [0 : top * 1.12]
set style data histograms
set style histogram rowstacked
set style fill solid 0.9 border lc rgb '#1a202c'
set boxwidth 0.7
set key outside right top vertical Left reverse samplen 1.5 spacing 1.3
set grid ytics lc rgb '#dddddd' dt 2
set border 3
set tics out nomirror
if (exists("hbm")) {
    set arrow 1 from graph 0, first hbm to graph 1, first hbm nohead lc rgb '#c53030' lw 2 dt 2 front
    # on a white box: where the last ranks' bars pass the line (a step out of memory) the red
    # text had been drawn across them, half of it on green
    set style textbox opaque fc rgb 'white' noborder margins 2, 1
    set label 3 sprintf('usable HBM %.1f GiB', hbm) at graph 1, first hbm offset -1, 0.7 right tc rgb '#c53030' front boxed
}
# Label every rank while the labels fit (about 24 pixels each beside the 320 the key and the
# margins take), else every 2nd, 4th, 8th ... rank.
tickstep = 1
while (nranks * 24.0 * fontscale / tickstep > width - 320 * fontscale && tickstep < nranks) { tickstep = tickstep * 2 }
plot datafile using 2:xtic(int($1) % tickstep == 0 ? stringcolumn(1) : '') title 'weights' lc rgb '#2b6cb0', \
     '' using 3 title 'gradients' lc rgb '#dd6b20', \
     '' using 4 title 'optimizer state' lc rgb '#6b46c1', \
     '' using 5 title 'activations (peak)' lc rgb '#2f855a'
