# sweep.gp -- draw a stepsim sweep: throughput and bubble ratio against one swept key, and
# (for modelled scenarios) where each config's step time goes.
#
#   gnuplot -e "datafile='lines.tsv'; outfile='sweep.png'" plots/sweep.gp
#
# stepsim sweep --plot writes the data and runs this same script (compiled into the binary).
# Input (tab-separated): datafile holds one block per line of the chart, blocks separated by
# two blank lines; each block's first row is a header whose third field is the line's title:
#   x  value  title  bubble          (header)
#   x  xlabel  throughput  bubble%   (one row per config that ran)
# x is the swept value (or its position when the values are not numbers: xcat=1), xlabel its
# text, throughput in the unit named by ylabel, bubble% = 100 x bubble ratio.
# Optional variables: outfile, format ('png' or 'svg'), plottitle, xlabel, ylabel, keytitle
# (the legend's heading), nseries (blocks; default 1), xcat, xlog (log2 x axis), xmin and xmax
# (the swept values' range, or the categories' first and last position), xcats (with xcat:
# the categories' names as words, in position order), width (pixels; default 1400).
# With brkfile (and brkout, nbars, brktitle) it also draws a second image: one stacked bar per
# config, rows "label  compute recompute tp cp ep pp bubble dp optimizer" in seconds ('#'
# lines are comments); parts that are zero for every config stay out of the legend.
#
# Layout: two panels sharing the x axis -- throughput on top, bubble ratio (%) below -- with
# the same colour per line in both, and the legend once, to the right of the top panel.

if (!exists("datafile")) datafile = 'sweep.tsv'
if (!exists("outfile")) outfile = 'sweep.png'
if (!exists("plottitle")) plottitle = 'stepsim sweep'
if (!exists("xlabel")) xlabel = 'swept value'
if (!exists("ylabel")) ylabel = 'throughput'
if (!exists("nseries")) nseries = 1
if (!exists("keytitle")) keytitle = ''
if (!exists("xcat")) xcat = 0
if (!exists("xlog")) xlog = 0
if (!exists("width")) width = 1400
if (!exists("format")) format = (strstrt(outfile, '.svg') > 0 ? 'svg' : 'png')
set encoding utf8
set datafile separator tab
set datafile commentschars '#'

# A palette that stays distinguishable for a dozen lines; point types vary too.
array colours[10] = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', \
                     '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22']
colour(i) = colours[(i % 10) + 1]
ptype(i) = word('7 5 9 11 13 15 4 6 8 10', (i % 10) + 1) + 0

height = 900
if (format eq 'svg') {
    set terminal svg size width, height font 'Sans,13' background rgb 'white'
} else {
    set terminal pngcairo size width, height font 'Sans,13' background rgb 'white'
}
set output outfile

lm = 0.09
rm = (nseries > 1 ? 0.78 : 0.95)
set multiplot title plottitle font ',15'
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
        }
    }
}

# Top: throughput.
set tmargin at screen 0.90
set bmargin at screen 0.53
set ylabel ylabel
set yrange [0:*]
set format x ''
unset xlabel
if (xcat) { set xtics 1 }
if (nseries > 1) {
    set key outside right top vertical Left reverse samplen 2 spacing 1.2 title keytitle
} else {
    unset key
}
plot for [i=0:nseries-1] datafile index i using 1:3 with linespoints \
    lw 2 pt ptype(i) ps 1.3 lc rgb colour(i) title columnhead(3)

# Bottom: bubble ratio.
set tmargin at screen 0.45
set bmargin at screen (xcat ? 0.14 : 0.09)
set ylabel 'bubble ratio (% of pipeline time idle)'
set yrange [0:*]
set format x '% g'
set xlabel xlabel
unset key
# Categories are labelled by name (xcats: their texts as words), even those that only failed.
if (xcat && exists("xcats")) {
    set xtics () rotate by -30
    do for [j=1:words(xcats)] { set xtics add (word(xcats, j) j - 1) }
}
plot for [i=0:nseries-1] datafile index i using 1:4 with linespoints \
    lw 2 pt ptype(i) ps 1.3 lc rgb colour(i) notitle
unset multiplot

# The step-time breakdown: one stacked bar per config.
if (exists("brkfile") && exists("brkout")) {
    if (!exists("nbars")) { stats brkfile using 2 nooutput; nbars = STATS_records }
    if (!exists("brktitle")) { brktitle = 'where the step time goes, per config' }
    names = 'compute recompute tensor-parallel context-parallel expert-parallel pipeline-P2P bubble data-parallel optimizer'
    array partcolours[9] = ['#4e79a7', '#a0cbe8', '#f28e2b', '#ffbe7d', '#b07aa1', \
                            '#59a14f', '#d3d3d3', '#e15759', '#76b7b2']
    # Which parts show up anywhere, and the longest step (for the time unit).
    shown = ''
    do for [c=2:10] {
        stats brkfile using c nooutput
        shown = shown . (STATS_max > 0 ? '1' : '0')
    }
    stats brkfile using ($2+$3+$4+$5+$6+$7+$8+$9+$10) nooutput
    tmax = STATS_max
    if (tmax < 2) { scale = 1e3; unit = 'ms' } else { scale = 1; unit = 's' }
    bw = 30 * nbars + 420
    bw = (bw < 1000 ? 1000 : (bw > 8000 ? 8000 : bw))
    if (format eq 'svg') {
        set terminal svg size bw, 800 font 'Sans,13' background rgb 'white'
    } else {
        set terminal pngcairo size bw, 800 font 'Sans,13' background rgb 'white'
    }
    set output brkout
    reset
    set datafile separator tab
    set datafile commentschars '#'
    set title brktitle font ',15'
    set style data histograms
    set style histogram rowstacked
    set style fill solid 0.9 border rgb '#555555'
    set boxwidth 0.75
    set ylabel sprintf('step time (%s)', unit)
    set yrange [0:*]
    set grid ytics lc rgb '#dddddd'
    set border 3
    set tics nomirror
    set xtics rotate by 40 right scale 0
    # Keep the labels legible when there are many bars: label every k-th.
    k = int(nbars / 60) + 1
    set key outside right top vertical Left reverse samplen 2 title 'part of the step'
    set lmargin 12
    set bmargin 12
    plot for [c=2:10] brkfile using (column(c) * scale):xtic(int($0) % k == 0 ? strcol(1) : '') \
        lc rgb partcolours[c-1] title (shown[c-1:c-1] eq '1' ? word(names, c-1) : '')
}
