/* report.js -- the script of stepsim's HTML reports (--report), inlined into every page
 * (stepsim compiles it in).  Plain JavaScript, no library, nothing loaded.
 *
 * Gantt chart (svg_gantt.c): boxes sit in a nested <svg class="plot"> whose viewBox covers
 * [v0, v1] of the step's [0, pw] user units; zooming and panning narrow and move that window
 * (x only: preserveAspectRatio="none"), then the time axis, the micro-batch labels and the
 * white edges between boxes wide enough to show them are redrawn for the new window.
 * A page's URL may say how to open: page.html#zoom=0.2,0.3 (the Gantt chart on that share of
 * the step), page.html#sort=step_time_s or #sort=-mfu (a table by that column, - descending).
 * Sortable tables (html_csv_table): a click on a header sorts the rows by that column.
 * When everything is set up, data-report="ready" on the html element tells tests the page
 * ran clean.
 * This file sits in a CDATA section inside the page's script element: keep the CDATA end marker
 * (two closing brackets and a greater-than sign) and closing tags out of it. */
(function () {
    'use strict';

    var KINDS = ['F forward', 'B backward', 'W weight gradient', 'optimizer',
                 'activation send', 'gradient send'];

    // A readable unit for a span of seconds: [scale, name].  The Gantt chart zooms in to a
    // millionth of the step, under a microsecond for steps under a second: hence ns.
    function unitFor(span) {
        if (span < 2e-6) return [1e9, 'ns'];
        if (span < 2e-3) return [1e6, '\u00b5s'];
        if (span < 2) return [1e3, 'ms'];
        return [1, 's'];
    }

    function niceStep(span, ticks) {
        var raw = span / ticks, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
        return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
    }

    // The label of a tick at t on an axis with ticks `step` apart (a 1, 2 or 5 times a power of
    // ten): as many decimals as the step has, so that neighbouring ticks never read alike,
    // however long the step and far the zoom (six significant digits gave 161358 161358 161359
    // at 161.358 ms); whole parts of five digits or more in groups of three, split by thin
    // spaces.
    function tickLabel(t, step) {
        var decimals = 0;
        while (decimals < 20 && Math.abs(step * Math.pow(10, decimals) -
                                         Math.round(step * Math.pow(10, decimals))) >
                                    1e-6 * step * Math.pow(10, decimals))
            decimals++;
        var text = t.toFixed(decimals), dot = text.indexOf('.');
        var whole = dot < 0 ? text : text.slice(0, dot);
        if (whole.length > 4) whole = whole.replace(/\B(?=(\d{3})+$)/g, '\u2009');
        return dot < 0 ? whole : whole + text.slice(dot);
    }

    // A length of time in the unit that puts it at 1 or more, with three significant digits and
    // no trailing zeros: '15.1 ms', '1.35 ms' (not '1347.18 µs'), '820 µs', '4.8 ms'.
    function duration(s) {
        var units = [[1, 's'], [1e3, 'ms'], [1e6, '\u00b5s'], [1e9, 'ns']], u = units[3];
        for (var i = 0; i < 3; i++)
            if (+(s * units[i][0]).toPrecision(3) >= 1) {
                u = units[i];
                break;
            }
        var v = s * u[0], digits = v > 0 ? Math.max(0, 2 - Math.floor(Math.log10(v))) : 0;
        return String(+v.toFixed(digits)) + ' ' + u[1];
    }

    function initGantt(root) {
        var svg = root.querySelector('svg.gantt-svg');
        var plot = svg.querySelector('svg.plot');
        var chunkNames = svg.hasAttribute('data-chunks') ?
            svg.getAttribute('data-chunks').split(' ') : null;
        var axis = svg.querySelector('g.axis');
        var labels = svg.querySelector('g.labels');
        var tip = root.querySelector('.tip');
        var NS = svg.namespaceURI;
        var span = +svg.dataset.span, lm = +svg.dataset.lm, pw = +svg.dataset.pw;
        var ph = +plot.getAttribute('height');
        var y0 = +axis.dataset.y0, y1 = +axis.dataset.y1;
        var minWidth = pw / 1e6;
        var ops = [];
        var boxes = plot.querySelectorAll('rect[data-m]');
        for (var i = 0; i < boxes.length; i++) {
            var b = boxes[i];
            ops.push({el: b, x: +b.getAttribute('x'), w: +b.getAttribute('width'),
                      y: +b.getAttribute('y'), h: +b.getAttribute('height'),
                      m: +b.dataset.m, cls: b.getAttribute('class').split(' ')[0], edge: false});
        }
        var v0 = 0, v1 = pw, pending = false;

        function el(name, attrs, text) {
            var e = document.createElementNS(NS, name);
            for (var k in attrs) e.setAttribute(k, attrs[k]);
            if (text !== undefined) e.textContent = text;
            return e;
        }

        function drawAxis() {
            var u = unitFor((v1 - v0) / pw * span);
            var t0 = v0 / pw * span * u[0], t1 = v1 / pw * span * u[0];
            var step = niceStep(t1 - t0, 10);
            var title = axis.querySelector('text.title');
            while (axis.firstChild) axis.removeChild(axis.firstChild);
            // each tick a whole multiple of the step, not a sum of steps that drifts
            for (var k = Math.ceil(t0 / step - 1e-9), t = k * step; t <= t1 * (1 + 1e-12);
                 t = ++k * step) {
                var x = lm + (t / u[0] / span * pw - v0) * pw / (v1 - v0);
                axis.appendChild(el('line', {x1: x, y1: y0, x2: x, y2: y1 + 4}));
                axis.appendChild(el('text', {x: x, y: y1 + 17}, tickLabel(t, step)));
            }
            title.textContent = 'time since the first op (' + u[1] + ')';
            axis.appendChild(title);
        }

        // Micro-batch numbers on boxes wide enough to hold them; white edges between boxes
        // at least 4 pixels wide.
        function drawLabels() {
            var k = pw / (v1 - v0), n = 0;
            while (labels.firstChild) labels.removeChild(labels.firstChild);
            for (var i = 0; i < ops.length; i++) {
                var o = ops[i], w = o.w * k;
                var edge = w >= 4;
                if (edge !== o.edge) {
                    o.el.classList.toggle('e', edge);
                    o.edge = edge;
                }
                if (o.h < 10 || o.x + o.w < v0 || o.x > v1) continue;
                var text = o.m < 0 ? 'opt' : String(o.m);
                if (w < text.length * 6.5 + 6 || n >= 4000) continue;
                var cx = lm + (Math.max(o.x, v0) + Math.min(o.x + o.w, v1) - 2 * v0) / 2 * k;
                labels.appendChild(el('text', {x: cx, y: o.y + o.h / 2 + 3.5, 'class': o.cls},
                                      text));
                n++;
            }
            document.documentElement.setAttribute('data-gantt-labels', String(n));
        }

        function draw() {
            pending = false;
            plot.setAttribute('viewBox', v0 + ' 0 ' + (v1 - v0) + ' ' + ph);
            drawAxis();
            drawLabels();
        }

        function schedule() {
            if (!pending) {
                pending = true;
                window.requestAnimationFrame(draw);
            }
        }

        // Zoom by `factor` around the fraction `at` of the visible window.
        function zoom(factor, at) {
            var w = v1 - v0, nw = Math.min(pw, Math.max(minWidth, w * factor));
            var anchor = v0 + at * w;
            v0 = Math.min(Math.max(0, anchor - at * nw), pw - nw);
            v1 = v0 + nw;
            schedule();
        }

        function fraction(clientX) {
            var r = plot.getBoundingClientRect();
            return r.width > 0 ? Math.min(1, Math.max(0, (clientX - r.left) / r.width)) : 0.5;
        }

        svg.addEventListener('wheel', function (e) {
            e.preventDefault();
            var d = e.deltaMode === 1 ? e.deltaY * 20 : e.deltaY;
            zoom(Math.exp(d * 0.0015), fraction(e.clientX));
        }, {passive: false});

        var drag = null;
        svg.addEventListener('pointerdown', function (e) {
            if (e.button !== 0) return;
            drag = {x: e.clientX, v0: v0, width: plot.getBoundingClientRect().width || pw};
            svg.setPointerCapture(e.pointerId);
            svg.classList.add('dragging');
        });
        svg.addEventListener('pointermove', function (e) {
            if (drag) {
                var w = v1 - v0;
                v0 = Math.min(Math.max(0, drag.v0 - (e.clientX - drag.x) * w / drag.width), pw - w);
                v1 = v0 + w;
                schedule();
            }
            showTip(e);
        });
        function endDrag() {
            drag = null;
            svg.classList.remove('dragging');
        }
        svg.addEventListener('pointerup', endDrag);
        svg.addEventListener('pointercancel', endDrag);
        svg.addEventListener('pointerleave', function () { tip.hidden = true; });
        svg.addEventListener('dblclick', function () {
            v0 = 0;
            v1 = pw;
            schedule();
        });
        root.querySelector('.tools').addEventListener('click', function (e) {
            var z = e.target.getAttribute('data-zoom');
            if (z === 'in') zoom(0.5, 0.5);
            else if (z === 'out') zoom(2, 0.5);
            else if (z === 'reset') zoom(pw, 0);
        });

        // Where a box starts and ends, in the time axis's unit and read as its ticks are, to one
        // pixel at this zoom -- or to what the box's x and width hold, svg_gantt.c's 7
        // significant digits of the plot's width, where that is coarser: '161.4 – 173.9 ms' on
        // a 0.54 s step at full view (six significant digits read '161.358 ms – 173.87 ms'),
        // more digits as the zoom deepens, and none that moves nothing (rounded to tens or
        // hundreds where the last whole digits are below that).
        function startEnd(s0, s1) {
            var u = unitFor((v1 - v0) / pw * span);
            var px = plot.getBoundingClientRect().width || pw;
            var held = Math.pow(10, Math.ceil(Math.log10(pw)) - 7);
            var res = Math.max((v1 - v0) / px, held) / pw * span * u[0];
            var step = Math.pow(10, Math.floor(Math.log10(res) + 1e-9));
            function at(s) {
                var t = s * u[0];
                return tickLabel(step > 1 ? Math.round(t / step) * step : t, Math.min(step, 1));
            }
            return at(s0) + ' \u2013 ' + at(s1) + ' ' + u[1];
        }

        function showTip(e) {
            var t = e.target;
            if (drag || t.tagName !== 'rect' || !(t.hasAttribute('data-m') ||
                                                  t.hasAttribute('data-run'))) {
                tip.hidden = true;
                return;
            }
            var x = +t.getAttribute('x'), w = +t.getAttribute('width');
            var s0 = x / pw * span, s1 = (x + w) / pw * span, text;
            var kind = /k(\d)c(\d+)/.exec(t.getAttribute('class') || '');
            var k = kind ? +kind[1] : 0, chunk = kind && k < 3 ? ', chunk ' + kind[2] : '';
            if (kind && k < 3 && chunkNames) // the V placements' chunks: down, up (svg_gantt.c)
                chunk = ', ' + chunkNames[+kind[2]];
            if (t.hasAttribute('data-run')) {
                // merged ops (svg_gantt.c): the kind and chunk's share of the box's time
                text = KINDS[k] + chunk + ', ' + t.getAttribute('data-run') + '% busy (ops merged)';
            } else {
                var m = +t.getAttribute('data-m');
                text = KINDS[k] + (m >= 0 ? ', micro-batch ' + m : '') + chunk;
            }
            tip.textContent = text + ': ' + startEnd(s0, s1) + ' (' + duration(s1 - s0) + ')';
            var r = root.getBoundingClientRect();
            tip.style.left = Math.min(e.clientX - r.left + 12, r.width - 260) + 'px';
            tip.style.top = (e.clientY - r.top + 16) + 'px';
            tip.hidden = false;
        }

        // page.html#zoom=A,B opens on the fractions A to B of the step (0 <= A < B <= 1).
        var z = /[#&]zoom=([0-9.eE+-]+),([0-9.eE+-]+)/.exec(window.location.hash);
        if (z && +z[1] >= 0 && +z[2] <= 1 && +z[2] > +z[1]) {
            v0 = +z[1] * pw;
            v1 = Math.max(+z[2] * pw, v0 + minWidth);
        }
        draw();
        document.documentElement.setAttribute('data-gantt-boxes', String(ops.length));
    }

    function initTable(table) {
        var head = table.tHead.rows[0].cells, body = table.tBodies[0];
        var current = -1, desc = false;

        function key(row, c) {
            var cell = row.cells[c];
            if (!cell || cell.textContent === '') return null;
            return cell.className === 'n' ? parseFloat(cell.textContent) : cell.textContent;
        }

        function sortBy(c, descending) {
            var rows = Array.prototype.slice.call(body.rows);
            rows.sort(function (a, b) {
                var x = key(a, c), y = key(b, c);
                if (x === null || y === null) return (x === null) - (y === null); // empty last
                var r = typeof x === 'number' && typeof y === 'number' ? x - y :
                        String(x).localeCompare(String(y), undefined, {numeric: true});
                return descending ? -r : r;
            });
            var frag = document.createDocumentFragment();
            rows.forEach(function (r) { frag.appendChild(r); });
            body.appendChild(frag);
            for (var i = 0; i < head.length; i++) head[i].removeAttribute('aria-sort');
            head[c].setAttribute('aria-sort', descending ? 'descending' : 'ascending');
            current = c;
            desc = descending;
        }

        for (var i = 0; i < head.length; i++) {
            (function (c) {
                head[c].tabIndex = 0;
                head[c].addEventListener('click', function () {
                    sortBy(c, c === current ? !desc : false);
                });
                head[c].addEventListener('keydown', function (e) {
                    if (e.key === 'Enter' || e.key === ' ') {
                        e.preventDefault();
                        sortBy(c, c === current ? !desc : false);
                    }
                });
            })(i);
        }
        // The first order: page.html#sort=COLUMN (or #sort=-COLUMN, descending) if given, else
        // the page's own.
        var first = table.getAttribute('data-sort'), down = table.getAttribute('data-desc') === '1';
        var asked = /[#&]sort=(-?)([^&]+)/.exec(window.location.hash);
        if (asked) {
            first = decodeURIComponent(asked[2]);
            down = asked[1] === '-';
        }
        for (var j = 0; first !== null && j < head.length; j++)
            if (head[j].textContent === first) sortBy(j, down);
    }

    var gantts = document.querySelectorAll('div.gantt');
    for (var g = 0; g < gantts.length; g++) initGantt(gantts[g]);
    var tables = document.querySelectorAll('table.sortable');
    for (var t = 0; t < tables.length; t++) initTable(tables[t]);
    document.documentElement.setAttribute('data-report', 'ready');
})();
