# sweep.gp -- draw a stepsim sweep: throughput and bubble ratio against one swept key, and
# (for modelled scenarios) where each config's step time goes.
#
#   gnuplot -e "datafile='lines.tsv'; outfile='sweep.png'" plots/sweep.gp
#
# stepsim sweep --plot writes the data and runs this same script (compiled into the binary).
# Input (tab-separated): datafile holds one block per line of the chart, blocks separated by
# two blank lines; each block's first row is a header whose third field is the line's title
# (its legend entry as it stands, however many lines there are) and sixth its values alone
# (the keys' values in keytitle's order: the entry when the titles are too wide):
#   x  value  title  bubble  oom  values     (header)
#   x  xlabel  throughput  bubble%  oom   (one row per config that ran; oom 1: it does not fit
#                                          in the GPU's memory, drawn as a hollow marker)
# (one blank line where configs failed: the line breaks there), then, with nfailed > 0, one more
# block "x  line" (header first) of the configs that failed, drawn as crosses on the x axis in
# the colour of their line (grey for a line where nothing ran).  x is the swept value (or its position when the values
# are not numbers: xcat=1), xlabel its text, throughput in the unit named by ylabel, bubble% =
# 100 x bubble ratio.
# Optional variables: outfile, format ('png' or 'svg'), plottitle, subtitle (a second title
# line on both images), xtics (numeric swept values as words: the x tics), xticlabels (their
# labels, the values as given, when they carry units: "25GB/s"), xlabel, ylabel, keytitle
# (the legend's heading), keychars and valchars (the longest title and values, characters),
# nseries (line blocks; default 1), nfailed, noom (configs out of
# memory), xcat, xlog (log2 x axis),
# xmin and xmax (the swept values' range, or the categories' first and last position), xcats
# (with xcat: the categories' names as words, in position order), ylo, yhi and blo, bhi (the
# panels' y ranges; default from 0), bzero (1: no config that ran has a bubble), nempty and
# empty1, empty2, ... (series where nothing ran, listed in the legend when all of them fit),
# nemptytotal (all such series: when they are not all listed, one entry counts them), width
# (pixels; default 1400).
# With brkfile (and brkout, nbars, brktitle, maxlabel) it also draws a second image: one
# stacked bar per config, rows "label  compute recompute tp cp ep pp bubble dp optimizer host
# step_s state" with the parts in % of that config's step time, its step time in seconds
# (written above the bar), and state 0 ran, 1 out of memory, 2 failed (an empty bar marked
# "failed"); '#' lines are comments; parts that are zero for every config stay out of the
# legend; maxlabel (the longest label, characters) sizes the margins so no label is cut.
#
# Layout: two panels sharing the x axis -- throughput on top, bubble ratio (%) below -- with
# the same colour per line in both, and the legend once, to the right of the top panel.

if (!exists("datafile")) datafile = 'sweep.tsv'
if (!exists("outfile")) outfile = 'sweep.png'
if (!exists("plottitle")) plottitle = 'stepsim sweep'
if (!exists("xlabel")) xlabel = 'swept value'
if (!exists("ylabel")) ylabel = 'throughput'
if (!exists("nseries")) nseries = 1
if (!exists("nfailed")) nfailed = 0
if (!exists("noom")) noom = 0
if (!exists("nempty")) nempty = 0
if (!exists("nemptytotal")) nemptytotal = nempty
if (!exists("keytitle")) keytitle = ''
if (!exists("xcat")) xcat = 0
if (!exists("xlog")) xlog = 0
if (!exists("width")) width = 1400
if (!exists("format")) format = (strstrt(outfile, '.svg') > 0 ? 'svg' : 'png')
set encoding utf8
set datafile separator tab
set datafile commentschars '#'

# A palette that stays distinguishable for a dozen lines; point types vary too: filled ones,
# whose hollow twin (one less) marks a config that does not fit in memory.
array colours[10] = [0x1f77b4, 0xd62728, 0x2ca02c, 0xff7f0e, 0x9467bd, \
                     0x8c564b, 0xe377c2, 0x17becf, 0x7f7f7f, 0xbcbd22]
rgbof(i) = i < 0 ? 0xa0aec0 : colours[(int(i) % 10) + 1]
colour(i) = sprintf('#%06x', rgbof(i))
ptype(i) = word('7 5 9 11 13 15', (i % 6) + 1) + 0
hollow(i) = ptype(i) - 1
fits(v, oom) = oom > 0 ? NaN : v
# A marker's size as drawn in a PNG: gnuplot's svg terminal draws a point size half again as
# large (9.75 px a unit against about 6.5), so an SVG takes 0.64 of it.
marksize(s) = sprintf('%.3g', s * (format eq 'svg' ? 0.64 : 1))
oomv(v, oom) = oom > 0 ? v : NaN

height = 900
# Font sizes are points: pngcairo draws a point as 4/3 of a pixel (96 dpi), gnuplot's svg
# terminal as one pixel, so an SVG takes 4/3 of them to carry the PNG's text at the PNG's size.
svgpt = 4.0 / 3
if (format eq 'svg') {
    set terminal svg size width, height font 'Sans,13' fontscale svgpt background rgb 'white' \
        noenhanced
} else {
    set terminal pngcairo size width, height font 'Sans,13' background rgb 'white' noenhanced
}
set output outfile

lm = 0.09
haskey = nseries > 1 || nfailed > 0 || nempty > 0 || noom > 0
# The legend, beside the top panel (0.37 of the height): at most one entry per 2.5 font points
# of that height in a column (maxrows).  gnuplot spaces its columns (longest entry + 6)
# characters apart at its guess of a character's width, keyhc: pngcairo rounds 0.848 points,
# svg takes 0.7 (of the font's points before fontscale); drawn, a character of these entries is
# narrower (keytw: at most about 0.8 points in both), and `set key width` takes the difference
# off, so a column is keycolpx wide and the next one starts just past the longest entry.
# Entries: the lines that have data, hollow markers, failed configs, then the lines where every
# config failed -- each named when they all fit too, else counted in one entry ('26 lines where
# all failed').  The lines with data are named first: only when they fit at 9 points in neither
# one column nor two does one entry say how many they are (4 entries of 45 characters, too wide
# for two columns, had gone unnamed where one column holds them); when the titles are too
# wide, each entry gives only its values under the legend's title, which names the keys once
# (24 lines of four keys had gone unnamed), and the legend is as wide as that title at least.
# The largest font of 13, 11 and 9 points that holds the entries in one column, else two at 9;
# the plot narrows to make room.
if (!exists("keychars")) keychars = 24
if (!exists("valchars")) valchars = keychars
extras = (noom > 0) + (nfailed > 0)
counttext = sprintf('%d %s where all failed', nemptytotal, nemptytotal == 1 ? 'line' : 'lines')
linecharsof(k) = nemptytotal > 0 && strlen(counttext) > k ? strlen(counttext) : k
linechars = linecharsof(keychars)
keyrowsat(pt) = int(0.37 * height / (2.5 * pt))
keyhc(pt) = format eq 'svg' ? 0.7 * pt : floor(0.848 * pt + 0.5)
keytw(pt) = 0.8 * pt
keycolpx(pt) = keychars * keytw(pt) + 6 * keyhc(pt)
keytitlepx(pt) = (strlen(keytitle) + 0.5) * keytw(pt)
keywide(pt, cols) = cols * keycolpx(pt) > keytitlepx(pt) ? cols * keycolpx(pt) : keytitlepx(pt)
keyfits(n, pt, cols) = n <= cols * keyrowsat(pt) && keywide(pt, cols) + 40 <= 0.45 * width
keychars = linechars
keylines = nseries + extras + (nemptytotal > 0)
named = nseries <= 1 || keyfits(keylines, 9, 1) || keyfits(keylines, 9, 2)
# Too wide, not too many: the title names the keys once and each entry gives only the values.
byvalue = 0
if (!named && valchars < keychars && keytitle ne '') {
    keychars = linecharsof(valchars)
    byvalue = keyfits(keylines, 9, 1) || keyfits(keylines, 9, 2)
    named = byvalue
    if (byvalue) { linechars = keychars }
    keychars = linechars
}
if (exists("maxnamed")) { named = nseries <= maxnamed }
emptychars = linechars
do for [j=1:nempty] {
    e = strlen(value(sprintf('empty%d', j))) + 12
    emptychars = e > emptychars ? e : emptychars
}
unnamedtext = sprintf('%d lines, unnamed (too many)', nseries)
if (!named && strlen(unnamedtext) > linechars) { linechars = strlen(unnamedtext) }
nlines = named ? nseries : 1
keychars = emptychars > linechars ? emptychars : linechars
showempty = nemptytotal > 0 && nempty == nemptytotal && keyfits(nlines + extras + nempty, 9, 2)
if (!showempty) { keychars = linechars }
nemptyshown = showempty ? nempty : 0
nentries = nlines + extras + (showempty ? nempty : (nemptytotal > 0))
keypt = 13
keycols = 1
if (!keyfits(nentries, 13, 1)) { keypt = 11 }
if (!keyfits(nentries, 11, 1)) { keypt = 9 }
if (!keyfits(nentries, 9, 1)) { keycols = 2 }
rm = haskey ? 1 - (keywide(keypt, keycols) + 40) / width : 0.95
rm = rm > 0.76 ? 0.76 : (rm < 0.55 ? 0.55 : rm)
if (!haskey) { rm = 0.95 }
# Categories' names slant down to the right from their tics at 30 degrees, a character about
# keytw(13) wide: the bottom margin holds the longest (half its length down, up to 0.3 of the
# height) and the axis label under it, and the plot narrows so that the last name ends on the
# image (its tic stands half a category inside the plot's right edge).
catlen(j) = strlen(word(xcats, j))
catmax = 0
if (xcat && exists("xcats")) {
    do for [j=1:words(xcats)] { catmax = catlen(j) > catmax ? catlen(j) : catmax }
}
bmcat = (0.5 * catmax * keytw(13) + 70) / height
bmcat = bmcat < 0.14 ? 0.14 : (bmcat > 0.3 ? 0.3 : bmcat)
if (xcat && exists("xcats")) {
    catf = (words(xcats) - 0.5) / words(xcats)
    catrm = lm + (1 - (0.87 * catlen(words(xcats)) * keytw(13) + 10) / width - lm) / catf
    rm = rm < catrm ? rm : catrm
}
# subtitle: what every config shares as it ran (model on hardware, GPUs), a second line.
fulltitle = (exists("subtitle") && subtitle ne '') ? plottitle . "\n" . subtitle : plottitle
set multiplot title fulltitle font ',15'
set lmargin at screen lm
set rmargin at screen rm
set grid xtics ytics lc rgb '#dddddd'
set border 3
set tics nomirror
if (xlog) { set logscale x 2 }
set offsets graph 0.03, graph 0.03, graph 0.08, 0
# The x range: every category, or the swept values (widened when there is only one).
if (exists("xmin") && exists("xmax")) {
    if (xcat) {
        set xrange [xmin - 0.5:xmax + 0.5]
    } else {
        if (xmin == xmax) {
            if (xlog) { set xrange [xmin / 2:xmax * 2] } else { set xrange [xmin - 1:xmax + 1] }
        } else {
            # fixed (offsets only pad autoscaled axes), so both panels share it
            if (!xlog) { set xrange [xmin - 0.03 * (xmax - xmin):xmax + 0.03 * (xmax - xmin)] }
        }
    }
}

# A few numeric values (xtics: the swept values as words): a tic at each, none between, on
# both panels.
xvalues = (!xcat && exists("xtics")) ? xtics : ''
# a tic's label: the value as given ("25GB/s", xticlabels), else the number
xticname(j) = exists("xticlabels") ? word(xticlabels, j) : word(xvalues, j)
if (xvalues ne '') {
    set xtics ()
    do for [j=1:words(xvalues)] { set xtics add ('' word(xvalues, j) + 0) }
}

# A config that failed has no value: its cross sits in a band under the panel's range, named
# and ruled off from the data, so that it is not read as a value.  failband(lo, hi) sets the
# panel's range and tics (from lo up, every nicestep) and returns the crosses' height.
nicestep(span) = (nsd = 10**floor(log10(span / 5.0)), nsf = span / 5.0 / nsd, \
                  (nsf < 1.5 ? 1 : nsf < 3.5 ? 2 : nsf < 7.5 ? 5 : 10) * nsd)
failband(lo, hi) = (fbstep = nicestep(hi - lo), fbband = 0.09 * (hi - lo), \
                    fbstart = ceil(lo / fbstep) * fbstep, lo - fbband / 2)
# Top: throughput.  The y axis starts at 0 unless that would flatten the lines (stepsim then
# passes a range around the data).
set tmargin at screen 0.90
set bmargin at screen 0.53
set ylabel ylabel
if (exists("ylo") && exists("yhi")) { set yrange [ylo:yhi] } else { set yrange [0:*] }
yfail = exists("ylo") ? ylo + 0.03 * (yhi - ylo) : 0
if (nfailed > 0 && exists("ylo") && exists("yhi")) {
    yfail = failband(ylo, yhi)
    set yrange [ylo - fbband : yhi]
    set ytics fbstart, fbstep
    set arrow 10 from graph 0, first ylo to graph 1, first ylo nohead lc rgb '#a0aec0' dt 2 back
    set label 10 'failed' at graph 0, first yfail right offset -0.6, 0 font ',10' tc rgb '#718096'
}
set format x ''
unset xlabel
if (xcat) { set xtics 1 }
# The legend, right of the top panel: the lines, then hollow markers, failed configs and the
# series where nothing ran.
# The key's title is a label above it: gnuplot measures the entries of a key whose title has a
# font of its own in the terminal's font (13 points), which spread the columns far apart.
keyfont = sprintf(',%d', keypt)
keytitleh = keytitle ne '' ? 1.3 * keypt * 4.0 / 3 / height : 0
set key at screen rm + 0.02, screen 0.90 - keytitleh left top vertical Left reverse samplen 2 \
    spacing 1.2 font keyfont maxrows keyrowsat(keypt) \
    width -keychars * (1 - keytw(keypt) / keyhc(keypt))
if (keytitle ne '' && haskey) {
    set label 11 keytitle at screen rm + 0.02, screen 0.90 - keytitleh / 2 left font keyfont \
        offset 0.5, 0
}
if (!haskey) { unset key }
# The clauses for what there is (a loop over nothing would still open the data file's
# missing block): the lines of column `col`, hollow markers, failed configs at y = `failed_y`.
# Categories (schedules, say) are not a scale: their points are not joined by lines.
lines(col) = xcat ? 'NaN notitle' : sprintf("for [i=0:nseries-1] datafile index i using 1:%d with lines lw 2 lc rgb colour(i) notitle", col)
marks(col, t) = sprintf("for [i=0:nseries-1] datafile index i using 1:(fits($%d, $5)) with %s lw 2 pt ptype(i) ps %s lc rgb colour(i) %s", col, (t eq '' || xcat) ? 'points' : 'linespoints', marksize(1.3), t eq '' ? 'notitle' : 'title '.t)
oommarks(col) = sprintf("for [i=0:nseries-1] datafile index i using 1:(oomv($%d, $5)) with points pt hollow(i) ps %s lw 2 lc rgb colour(i) notitle", col, marksize(1.6))
failmarks(failed_y) = nfailed > 0 ? sprintf(", datafile index nseries using 1:(%.9g):(rgbof($2)) with points pt 2 ps %s lw 2.5 lc rgb variable notitle", failed_y, marksize(1.8)) : ''
# At most `maxnamed` lines are named in the legend (above): more are drawn unnamed, and one
# entry says how many (the CSV names each config).
# A line's entry is its header's title, or (byvalue) its values alone.
entrytitle = byvalue ? "columnhead(6)" : "columnhead(3)"
cmd = 'plot ' . lines(3) . ', ' . marks(3, named ? entrytitle : "") . ', ' . oommarks(3) . failmarks(yfail)
if (!named) { cmd = cmd . sprintf(", keyentry with lines lw 2 lc rgb '#4a5568' title '%s'", unnamedtext) }
if (noom > 0) { cmd = cmd . ", keyentry with points pt 6 ps ".marksize(1.6)." lw 2 lc rgb '#4a5568' title 'out of memory (hollow)'" }
if (nfailed > 0) { cmd = cmd . ", keyentry with points pt 2 ps ".marksize(1.8)." lw 2.5 lc rgb '#4a5568' title 'failed (see the CSV)'" }
do for [j=1:nemptyshown] {
    cmd = cmd . sprintf(", keyentry with points pt 2 ps %s lw 2 lc rgb '#a0aec0' title '%s: all failed'", marksize(1.6), value(sprintf('empty%d', j)))
}
if (nemptytotal > nemptyshown) {
    cmd = cmd . sprintf(", keyentry with points pt 2 ps %s lw 2 lc rgb '#a0aec0' title '%s'", marksize(1.6), counttext)
}
eval cmd

# Bottom: bubble ratio.
set tmargin at screen 0.45
set bmargin at screen (xcat ? bmcat : 0.09)
set ylabel 'bubble ratio (% of pipeline time idle)'
if (exists("blo") && exists("bhi")) { set yrange [blo:bhi] } else { set yrange [0:*] }
bfail = exists("blo") ? blo + 0.03 * (bhi - blo) : 0
if (nfailed > 0 && exists("blo") && exists("bhi")) {
    bfail = failband(blo, bhi)
    set yrange [blo - fbband : bhi]
    set ytics fbstart, fbstep
    set arrow 10 from graph 0, first blo to graph 1, first blo nohead lc rgb '#a0aec0' dt 2 back
    set label 10 'failed' at graph 0, first bfail right offset -0.6, 0 font ',10' tc rgb '#718096'
}
set format x '% g'
set xlabel xlabel
unset key
unset label 11
# Every config that ran has no bubble at all (bzero=1): its line lies on the axis, and the
# panel's range is only room for it, which the panel says.
if (exists("bzero") && bzero) {
    set label 12 'no bubble: 0% in every config that ran' at graph 0.5, graph 0.5 center \
        font ',13' tc rgb '#4a5568'
}
# Categories are labelled by name (xcats: their texts as words), even those that only failed.
if (xcat && exists("xcats")) {
    set xtics () rotate by -30
    do for [j=1:words(xcats)] { set xtics add (word(xcats, j) j - 1) }
}
# A tic is labelled where its label clears the last labelled one, from the left (a character
# taken as 0.7 of the 13-point font, 17.3 pixels in both formats; labels centred on their tics
# and 6 pixels apart); the last value is labelled too, the label before it giving way where
# the two would touch.  Values bunched on a linear axis (microbatches 1 2 3 4 5 200) and 16
# quantities on a plot the legend narrows (10ms 100ms) had run into each other.
plotpx = (rm - lm) * width
charpx = 0.7 * 13 * 4.0 / 3
ticfrac(v) = xmax <= xmin ? 0.5 : (xlog ? 0.03 + 0.94 * log(v / xmin) / log(xmax / xmin) : \
             (v - xmin + 0.03 * (xmax - xmin)) / (1.06 * (xmax - xmin)))
ticpx(j) = plotpx * ticfrac(word(xvalues, j) + 0)
ticw(j) = strlen(xticname(j)) * charpx
ticsapart(i, j) = ticpx(j) - ticpx(i) >= (ticw(i) + ticw(j)) / 2 + 6
nticks = words(xvalues)
# the values in axis order (a list may be given in any order: 16 32 64 128 256 200)
array byx[nticks > 0 ? nticks : 1]
do for [j=1:nticks] { byx[j] = j }
ticx(a) = word(xvalues, byx[a]) + 0
do for [a=2:nticks] {
    b = a
    while (b > 1 && ticx(b - 1) > ticx(b)) { t = byx[b]; byx[b] = byx[b - 1]; byx[b - 1] = t; b = b - 1 }
}
array labelled[nticks > 0 ? nticks : 1]
prevlab = 0
do for [a=1:nticks] {
    labelled[byx[a]] = prevlab == 0 || ticsapart(byx[prevlab], byx[a])
    if (labelled[byx[a]]) { prevlab = a }
}
if (nticks > 1 && !labelled[byx[nticks]] && prevlab > 1) {
    before = prevlab - 1
    while (before > 1 && !labelled[byx[before]]) { before = before - 1 }
    if (ticsapart(byx[before], byx[nticks])) {
        labelled[byx[prevlab]] = 0
        labelled[byx[nticks]] = 1
    }
}
if (xvalues ne '') {
    set xtics ()
    do for [j=1:nticks] {
        lab = labelled[j] ? xticname(j) : ''
        set xtics add (lab word(xvalues, j) + 0)
    }
}

eval 'plot ' . lines(4) . ', ' . marks(4, '') . ', ' . oommarks(4) . failmarks(bfail)
unset multiplot

# The step-time breakdown: one stacked bar per config, in % of its own step time (configs of
# different batches take different times; their shares compare), the step time written above.
if (exists("brkfile") && exists("brkout")) {
    # First forget the panels' ranges: stats leaves out values outside a fixed range.
    reset
    set datafile separator tab
    set datafile commentschars '#'
    if (!exists("nbars")) { stats brkfile using 2 nooutput; nbars = STATS_records }
    if (!exists("brktitle")) { brktitle = 'where the step time goes, per config' }
    if (!exists("maxlabel")) { maxlabel = 30 }
    names = 'compute recompute tensor-parallel context-parallel expert-parallel pipeline-P2P bubble data-parallel optimizer host-offload'
    array partcolours[10] = ['#4e79a7', '#a0cbe8', '#f28e2b', '#ffbe7d', '#b07aa1', \
                             '#59a14f', '#d3d3d3', '#e15759', '#76b7b2', '#9c755f']
    # Which parts show up anywhere, and the longest step (for the time unit).
    shown = ''
    do for [c=2:11] {
        stats brkfile using c nooutput
        shown = shown . (STATS_max > 0 ? '1' : '0')
    }
    stats brkfile using 12 nooutput
    tmax = STATS_max
    if (tmax < 2) { scale = 1e3; unit = 'ms' } else { scale = 1; unit = 's' }
    # Room for the labels, slanted at 40 degrees: about 0.6 of a character height a character
    # wide, so down 0.39 and left 0.77 character widths per character.
    bm = int(0.39 * maxlabel) + 3
    lm = int(0.77 * maxlabel) + 2
    if (lm < 12) { lm = 12 }
    bw = 30 * nbars + 420 + 8 * lm
    bw = (bw < 1000 ? 1000 : (bw > 8000 ? 8000 : bw))
    bh = 560 + 18 * bm
    if (format eq 'svg') {
        set terminal svg size bw, bh font 'Sans,13' fontscale svgpt background rgb 'white' \
            noenhanced
    } else {
        set terminal pngcairo size bw, bh font 'Sans,13' background rgb 'white' noenhanced
    }
    set output brkout
    # The title, its subject then what it shows, is cut after the subject when one line would
    # not fit at 15 points (a character about 0.7 of the font size wide, as in gantt.gp); the
    # font shrinks, to 8 points, while its longest line (or the subtitle) still does not fit.
    brksub = (exists("subtitle") && subtitle ne '') ? subtitle : ''
    brkcut = strstrt(brktitle, ': where the step time goes')
    brklong = strlen(brktitle)
    if (brkcut > 0 && 0.7 * 15 * (brklong + 1) > 0.95 * bw) {
        brklong = brkcut > brklong - brkcut - 1 ? brkcut : brklong - brkcut - 1
        brktitle = brktitle[1:brkcut] . "\n" . brktitle[brkcut + 2:]
    }
    brklong = strlen(brksub) > brklong ? strlen(brksub) : brklong
    brkpt = int(0.95 * bw / (0.7 * (brklong + 1)))
    brkpt = brkpt > 15 ? 15 : (brkpt < 8 ? 8 : brkpt)
    set title (brksub ne '' ? brktitle . "\n" . brksub : brktitle) font sprintf(',%d', brkpt)
    set style data histograms
    set style histogram rowstacked
    set style fill solid 0.9 border rgb '#555555'
    set boxwidth 0.75
    set ylabel "% of the config's step time (its step time on top)"
    set yrange [0:125]
    set ytics 0, 20, 100
    set grid ytics lc rgb '#dddddd'
    set border 3
    set tics nomirror
    set xtics rotate by 40 right scale 0
    # Above each bar its step time (3 significant digits, whole units from 1000 on: '1210 s',
    # not '1.21e+03 s'); out-of-memory and failed configs say so in red.
    stepfmt(v) = v >= 1000 ? '%.0f %s%s' : '%.3g %s%s'
    steptext(t, st) = st == 2 ? 'failed' : sprintf(stepfmt(t * scale), t * scale, unit, st == 1 ? ' OOM' : '')
    stepink(st) = st == 0 ? 0x4a5568 : 0xc53030
    # Keep the labels legible when there are many bars: label every k-th, and say so under the
    # axis.  Two names slanted at 40 degrees need 31 pixels between their tics (a 13-point
    # line, 20 pixels, over sin 40), which also parts the step times written upright above.
    # A bar out of memory or failed gets a red stub on its top, labelled or not, so a run of
    # them reads as one red rule.
    barpx = (bw - 8.0 * lm - 320) / nbars
    k = barpx >= 31 ? 1 : int(ceil(31 / barpx))
    if (k > 1) { set xlabel sprintf('one config in %d labelled (the CSV lists all %d)', k, nbars) }
    stub(st) = st > 0 ? 1 : NaN
    # (svg guesses a character at 0.7 of the font's points, before fontscale: narrower than it
    # draws them; two more of its characters keep 'tensor-parallel' off the image's edge)
    set key outside right top vertical Left reverse samplen 2 title 'part of the step' \
        width (format eq 'svg' ? 2 : 0)
    set lmargin lm
    set bmargin bm
    plot for [c=2:11] brkfile using (column(c)):xtic(int($0) % k == 0 ? strcol(1) : '') \
        lc rgb partcolours[c-1] title (shown[c-1:c-1] eq '1' ? word(names, c-1) : ''), \
        brkfile using 0:(102):(int($0) % k == 0 ? steptext($12, $13) : ''):(stepink($13)) \
        with labels rotate by 90 left tc rgb variable font ',10' notitle, \
        brkfile using 0:(100.9 * stub($13)):($0 - 0.45):($0 + 0.45):(100.3):(101.5) \
        with boxxyerror fs solid 1.0 noborder lc rgb '#c53030' notitle
}
