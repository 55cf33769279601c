/*
 * FluxLoop experiment report. Reads the JSON in #fluxloop-data and builds the page from it.
 * Every value from the data reaches the DOM as text (textContent, text nodes, attribute values),
 * never as markup: an agent's output may hold anything.
 */
(function () {
  'use strict';

  var PAGE_SIZE = 100;
  var LIST_STEP = 50;
  var STATUSES = ['ok', 'error', 'timeout'];

  var data = JSON.parse(document.getElementById('fluxloop-data').textContent);
  var runs = data.runs;
  var summary = data.summary;
  var comparison = data.comparison;
  var evaluators = data.evaluators;
  var bases = data.bases || [];
  /** Some run made downstream calls or has a recording's: the Path column, its filter and the calls section show. */
  var hasCalls = data.has_calls === true;
  /** Some lines are conversations: the Turns column, the Ended-by filter and the transcripts show. */
  var hasConversations = runs.some(function (r) { return !!r.conversation; });
  /** What the page counts: conversations when every line is one. */
  var UNITS = summary.conversations && summary.conversations.total === summary.total ? ['conversation', 'conversations', 'Conversations'] : ['run', 'runs', 'Runs'];
  /** Regressions by the index of their run here, for the run's detail. */
  var regressionOf = new Map();
  if (comparison) comparison.regressions.forEach(function (r) { if (typeof r.run_index === 'number') regressionOf.set(r.run_index, r); });
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

  // ---- DOM helpers -------------------------------------------------------------------------

  /** An element with attributes (`class`, `text` and plain attributes) and children (nodes or text). */
  function el(tag, attrs) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  var SVG_NS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function setAttrs(node, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (key) {
      var value = attrs[key];
      if (value === undefined || value === null || value === false) return;
      if (key === 'text') node.textContent = String(value);
      else if (key === 'class') node.setAttribute('class', value);
      else if (key === 'onclick') node.addEventListener('click', value);
      else node.setAttribute(key, value === true ? '' : String(value));
    });
  }

  function append(node, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) child.forEach(function (c) { append(node, c); });
    else if (typeof child === 'object') node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }

  function byId(id) {
    return document.getElementById(id);
  }

  // ---- Formats -----------------------------------------------------------------------------

  // formatMs, formatPercent, formatDeltaMs, formatDeltaPoints, formatUsd and formatTokens come before this script: they are
  // fluxloop's own (src/experiment/format.ts), so that the page reads numbers as the console does.
  // Scores are shares of evaluators, shown as percentages like every rate.

  function fmtDate(iso) {
    if (typeof iso !== 'string') return '–';
    var date = new Date(iso);
    return isNaN(date.getTime()) ? iso : date.toLocaleString();
  }

  /** A delta's text and whether it is good news; latencies are better lower. */
  function delta(d, kind) {
    if (!d || typeof d.delta !== 'number') return null;
    var text = kind === 'ms' ? formatDeltaMs(d.delta) : formatDeltaPoints(d.delta);
    var better = kind === 'ms' ? d.delta < 0 : d.delta > 0;
    var tone = text.charAt(0) !== '+' && text.charAt(0) !== '-' ? 'neutral' : better ? 'good' : 'bad';
    return { text: text, tone: tone, baseline: kind === 'ms' ? formatMs(d.baseline) : formatPercent(d.baseline) };
  }

  function shorten(s, max) {
    s = String(s);
    return s.length > max ? s.slice(0, max - 1) + '…' : s;
  }

  function statusPill(status) {
    return el('span', { class: 'pill status-' + status, text: status });
  }

  function verdictPill(passed, title) {
    return el('span', { class: 'pill ' + (passed ? 'verdict-passed' : 'verdict-failed'), text: passed ? 'passed' : 'failed', title: title });
  }

  // ---- Header ------------------------------------------------------------------------------

  function renderHeader() {
    var meta = data.experiment_summary || {};
    var target = meta.target || (runs[0] && runs[0].target) || null;
    var items = [
      ['Target', target],
      ['Started', meta.started_at ? fmtDate(meta.started_at) : null],
      ['Evaluated', fmtDate(summary.evaluated_at)],
      ['Iterations', meta.iterations],
      ['Inputs', meta.inputs],
      ['Recording', meta.recording_file],
      ['Override path', meta.override_param_path],
      [summary.conversations ? 'Turns and conversations pass at' : 'A run passes at a score of', formatPercent(summary.pass_threshold)],
      ['Minimum pass rate', summary.gate ? formatPercent(summary.gate.min_pass_rate) + ' (' + summary.gate.source + ')' : null],
      ['Baseline', comparison ? comparison.baseline : null],
    ].concat(callsItems(data.calls, meta.total_runs));
    var dl = el('dl', { class: 'meta' });
    items.forEach(function (item) {
      if (item[1] === null || item[1] === undefined || item[1] === '') return;
      dl.appendChild(el('div', null, el('dt', { text: item[0] }), el('dd', { text: item[1] })));
    });
    byId('report-header').replaceChildren(
      el('div', { class: 'brand' }, el('span', { class: 'logo', 'aria-hidden': 'true' }), 'FluxLoop · experiment report'),
      el('h1', { id: 'experiment-name', text: data.experiment }),
      dl,
    );
  }

  function tokensText(usage) {
    if (!usage) return null;
    return formatTokens(usage.input_tokens) + ' in' + (usage.cached_input_tokens ? ' (' + formatTokens(usage.cached_input_tokens) + ' cached)' : '') + ' / ' + formatTokens(usage.output_tokens) + ' out';
  }

  /** The experiment's tokens, cost and divergence, as the console's summary says them. */
  function callsItems(c, total) {
    if (!c) return [];
    var items = [];
    if (c.live_llm_calls > 0) {
      items.push(['LLM tokens', (tokensText(c.usage) || 'unknown') + ' · ' + c.live_llm_calls + ' live call' + (c.live_llm_calls === 1 ? '' : 's')]);
      items.push(['Cost', c.cost_usd !== null ? formatUsd(c.cost_usd) : 'unknown' + (c.unpriced_models.length ? ': no price for ' + c.unpriced_models.join(', ') : '')]);
    }
    if (c.diverged_runs > 0) {
      items.push(['Diverged', c.diverged_runs + (typeof total === 'number' ? ' of ' + total : '') + ' runs: ' + c.diverged_at.map(function (p) { return 'at call ' + (p.index + 1) + ' (' + p.kind + ') ' + p.runs; }).join(', ')]);
    }
    return items;
  }

  // ---- Verdict -----------------------------------------------------------------------------

  /** The gate's verdict and the default evaluators' note, in the words of the console. */
  function renderVerdict() {
    var v = data.verdict || {};
    var items = [];
    if (v.gate) items.push(el('p', { class: 'verdict-line tone-' + (v.passed ? 'good' : 'bad'), id: 'verdict-gate', 'data-testid': 'verdict-gate', text: v.gate }));
    if (v.note) items.push(el('div', { class: 'verdict-note', id: 'verdict-note', 'data-testid': 'verdict-note' }, v.note.map(function (line) { return el('p', { text: line }); })));
    var box = byId('verdict');
    box.hidden = items.length === 0;
    box.replaceChildren.apply(box, items);
  }

  // ---- Summary cards -----------------------------------------------------------------------

  function card(id, label, value, sub, change, tone) {
    return el(
      'div',
      { class: 'card' + (tone ? ' tone-' + tone : ''), id: id, 'data-testid': id },
      el('div', { class: 'card-label', text: label }),
      el('div', { class: 'card-value', text: value }),
      sub ? el('div', { class: 'card-sub', text: sub }) : null,
      change ? el('div', { class: 'card-delta delta-' + change.tone, title: 'change since the baseline (' + change.baseline + ')' }, change.text, el('span', { class: 'muted', text: ' from ' + change.baseline })) : null,
    );
  }

  function renderCards() {
    var counts = summary.counts || {};
    var c = comparison;
    var cards = [
      card('card-total', UNITS[2], String(summary.total), STATUSES.map(function (s) { return s + ' ' + (counts[s] || 0); }).join(' · ')),
      card('card-passed', 'Passed', String(summary.passed), 'failed ' + summary.failed, null, summary.failed > 0 ? null : 'good'),
      card(
        'card-pass-rate',
        'Pass rate',
        formatPercent(summary.pass_rate),
        summary.gate ? 'minimum ' + formatPercent(summary.gate.min_pass_rate) : 'no minimum set',
        c && delta(c.pass_rate, 'rate'),
        summary.gate ? (summary.gate.passed ? 'good' : 'bad') : null,
      ),
      card('card-success-rate', 'Success rate', formatPercent(summary.success_rate), UNITS[1] + ' with status ok', c && delta(c.success_rate, 'rate')),
      card('card-p50', 'p50 latency', formatMs(summary.latency_ms.p50), 'mean ' + formatMs(summary.latency_ms.mean), c && delta(c.latency_ms.p50, 'ms')),
      card('card-p95', 'p95 latency', formatMs(summary.latency_ms.p95), 'max ' + formatMs(summary.latency_ms.max), c && delta(c.latency_ms.p95, 'ms')),
    ];
    var conv = summary.conversations;
    if (conv) {
      cards.push(
        card(
          'card-turns',
          'Turns',
          String(conv.turns),
          conv.turn_pass_rate === null ? 'no evaluator judges turns' : conv.turns_passed + ' passed (' + formatPercent(conv.turn_pass_rate) + ')',
        ),
        card(
          'card-ended',
          'Ended by',
          String(Object.keys(conv.by_termination_reason).length),
          endedBy().map(function (e) { return e[0] + ' ' + e[1]; }).join(' · '),
        ),
      );
    }
    if (c) {
      var stat = function (id, label, value, tone, title) {
        return el('div', { class: 'mini' + (tone ? ' tone-' + tone : ''), id: id, 'data-testid': id, title: title }, el('div', { class: 'card-value', text: String(value) }), el('div', { class: 'card-label', text: label }));
      };
      cards.push(
        el(
          'div',
          { class: 'card wide', id: 'card-comparison', 'data-testid': 'card-comparison' },
          el('div', { class: 'card-label', text: 'Against the baseline' }),
          el(
            'div',
            { class: 'minis' },
            stat('card-regressions', 'regressions', c.counts.regressions, c.counts.regressions > 0 ? 'bad' : null, 'passed in the baseline, fail now'),
            stat('card-fixes', 'fixes', c.counts.fixes, c.counts.fixes > 0 ? 'good' : null, 'failed in the baseline, pass now'),
            stat('card-new', 'new', c.counts.new_runs, null, 'runs not in the baseline'),
            stat('card-missing', 'missing', c.counts.missing_runs, null, 'runs only in the baseline'),
          ),
        ),
      );
    }
    byId('summary-cards').replaceChildren.apply(byId('summary-cards'), cards);
  }

  // ---- Latency histogram -------------------------------------------------------------------

  function niceStep(raw) {
    if (!(raw > 0)) return 1;
    var power = Math.pow(10, Math.floor(Math.log10(raw)));
    var f = raw / power;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
  }

  function renderHistogram() {
    var box = byId('histogram');
    var timed = [];
    var timeouts = [];
    runs.forEach(function (r) {
      if (typeof r.duration_ms !== 'number' || !isFinite(r.duration_ms)) return;
      (r.status === 'timeout' ? timeouts : timed).push(r);
    });
    if (timed.length === 0 && timeouts.length === 0) {
      box.replaceChildren(el('p', { class: 'muted', text: 'No runs.' }));
      return;
    }
    // Timeouts all last as long as the limit: drawn on the same axis they would squeeze every
    // other run into the first bar, so they get a bar of their own, as do a few far-out runs.
    var sorted = timed.map(function (r) { return r.duration_ms; }).sort(function (a, b) { return a - b; });
    var max = sorted.length ? sorted[sorted.length - 1] : 0;
    var p99 = sorted.length ? sorted[Math.floor(0.99 * (sorted.length - 1))] : 0;
    var overflow = max > 2 * p99 && p99 > 0;
    var hi = overflow ? p99 : max;
    var step = niceStep(hi / 30);
    var binCount = Math.max(1, Math.ceil(hi / step));
    if (!overflow && binCount * step <= max) binCount++;
    var edge = binCount * step;
    var bins = [];
    for (var i = 0; i < binCount; i++) bins.push({ slot: i, label: formatMs(i * step) + ' – ' + formatMs((i + 1) * step), ok: 0, error: 0, timeout: 0, n: 0 });
    var extra = binCount + 1;
    var overflowBin = overflow ? { slot: extra++, label: 'over ' + formatMs(edge), axis: '> ' + formatMs(edge), ok: 0, error: 0, timeout: 0, n: 0 } : null;
    var timeoutBin = timeouts.length ? { slot: extra++, label: 'timed out', axis: 'timeout', ok: 0, error: 0, timeout: 0, n: 0 } : null;
    var add = function (bin, r) {
      bin[r.status] = (bin[r.status] || 0) + 1;
      bin.n++;
    };
    timed.forEach(function (r) {
      var d = r.duration_ms;
      add(overflowBin && d > edge ? overflowBin : bins[Math.max(0, Math.min(binCount - 1, Math.floor(d / step)))], r);
    });
    timeouts.forEach(function (r) { add(timeoutBin, r); });
    if (overflowBin) bins.push(overflowBin);
    if (timeoutBin) bins.push(timeoutBin);
    var top = bins.reduce(function (m, b) { return Math.max(m, b.n); }, 0) || 1;
    var slots = extra === binCount + 1 ? binCount : extra;

    var W = 640, H = 190, L = 44, R = 10, T = 14, B = 30;
    var bw = (W - L - R) / slots;
    var y = function (n) { return T + (H - T - B) * (1 - n / top); };
    var chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'Latency histogram', class: 'histogram-svg' });
    [0, 0.5, 1].forEach(function (f) {
      var n = Math.round(top * f);
      chart.appendChild(svg('line', { x1: L, x2: W - R, y1: y(n), y2: y(n), class: 'grid' }));
      chart.appendChild(svg('text', { x: L - 6, y: y(n) + 4, class: 'axis', 'text-anchor': 'end', text: String(n) }));
    });
    bins.forEach(function (bin) {
      var x = L + bin.slot * bw;
      var g = svg('g', { class: 'bin' });
      g.appendChild(svg('title', { text: bin.label + ': ' + bin.n + ' runs (ok ' + bin.ok + ', error ' + bin.error + ', timeout ' + bin.timeout + ')' }));
      g.appendChild(svg('rect', { x: x, y: T, width: bw, height: H - T - B, class: 'hit' }));
      var base = 0;
      STATUSES.forEach(function (s) {
        if (!bin[s]) return;
        var y0 = y(base), y1 = y(base + bin[s]);
        g.appendChild(svg('rect', { x: x + 1, y: y1, width: Math.max(1, bw - 2), height: Math.max(0.5, y0 - y1), class: 'bar bar-' + s }));
        base += bin[s];
      });
      if (bin.axis) chart.appendChild(svg('text', { x: x + bw / 2, y: H - B + 16, class: 'axis', 'text-anchor': 'middle', text: bin.axis }));
      chart.appendChild(g);
    });
    var ticks = Math.min(binCount, 5);
    for (var t = 0; t <= ticks; t++) {
      var b = Math.round((binCount * t) / ticks);
      chart.appendChild(svg('text', { x: L + b * bw, y: H - B + 16, class: 'axis', 'text-anchor': t === 0 ? 'start' : t === ticks && slots > binCount ? 'end' : 'middle', text: formatMs(b * step) }));
    }
    [['p50', summary.latency_ms.p50, 0], ['p95', summary.latency_ms.p95, 11]].forEach(function (m) {
      var v = m[1];
      if (typeof v !== 'number' || v > edge) return;
      var x = L + (v / step) * bw;
      chart.appendChild(svg('line', { x1: x, x2: x, y1: T - 4, y2: H - B, class: 'marker' }));
      chart.appendChild(svg('text', { x: x + 3, y: T + 4 + m[2], class: 'marker-label', text: m[0] }));
    });
    var legend = el(
      'div',
      { class: 'legend' },
      STATUSES.map(function (s) { return el('span', null, el('i', { class: 'swatch bar-' + s }), s); }),
      el('span', { class: 'legend-note', text: 'p50 ' + formatMs(summary.latency_ms.p50) + ' · p95 ' + formatMs(summary.latency_ms.p95) + ' · max ' + formatMs(summary.latency_ms.max) }),
    );
    box.replaceChildren(chart, legend);
  }

  // ---- Evaluators --------------------------------------------------------------------------

  function renderEvaluators() {
    var box = byId('evaluators');
    var list = summary.evaluators || [];
    if (list.length === 0) {
      box.replaceChildren(el('p', { class: 'muted', text: 'No evaluators.' }));
      return;
    }
    var rows = list.map(function (e) {
      var judged = e.passed + e.failed;
      var share = judged > 0 ? e.passed / judged : 0;
      var index = evaluators.findIndex(function (x) { return x.name === e.name; });
      return el(
        'tr',
        null,
        el('td', null, el('div', { class: 'ev-name', text: e.name }), e.type !== e.name ? el('div', { class: 'muted small', text: e.type }) : null, e.scope ? el('div', { class: 'muted small ev-scope', text: SCOPES[e.scope] }) : null),
        el('td', { class: 'bar-cell' }, el('div', { class: 'meter', title: formatPercent(share) + ' passed' }, meterFill(share))),
        el('td', { class: 'num', text: String(e.passed) }),
        el(
          'td',
          { class: 'num' },
          e.failed > 0 && index >= 0
            ? el('button', { class: 'link', type: 'button', title: 'Show the runs ' + e.name + ' failed', text: String(e.failed), onclick: function () { showEvaluatorFailures(index); } })
            : String(e.failed),
        ),
        el('td', { class: 'num', text: String(e.skipped) }),
        el('td', { class: 'num', text: formatPercent(e.mean_score) }),
      );
    });
    var head = el('thead', null, el('tr', null, ['Evaluator', 'Pass share', 'Passed', 'Failed', 'Skipped', 'Mean'].map(function (h, i) { return el('th', { class: i >= 2 ? 'num' : null, text: h }); })));
    box.replaceChildren(el('div', { class: 'table-wrap' }, el('table', { class: 'compact', id: 'evaluators-table' }, head, el('tbody', null, rows))));
  }

  /** What an evaluator's counts count, in an experiment with conversations. */
  var SCOPES = { turn: 'per turn', conversation: 'per conversation' };

  /** The termination reasons and how many conversations each ended, the most first. */
  function endedBy() {
    var counts = (summary.conversations && summary.conversations.by_termination_reason) || {};
    return Object.keys(counts)
      .map(function (k) { return [k, counts[k]]; })
      .sort(function (a, b) { return b[1] - a[1] || collator.compare(a[0], b[0]); });
  }

  function meterFill(share) {
    var fill = el('div', { class: 'meter-fill' });
    fill.style.width = (share * 100).toFixed(1) + '%';
    return fill;
  }

  function showEvaluatorFailures(index) {
    resetFilters();
    state.evaluator = String(index);
    byId('filter-evaluator').value = state.evaluator;
    update();
    byId('runs').scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  // ---- By strategy, persona and base input -------------------------------------------------

  /** Runs, passed and the pass rate with its meter: the cells every breakdown row ends with. */
  function rateCells(total, passed) {
    var share = total > 0 ? passed / total : 0;
    return [
      el('td', { class: 'num', text: String(total) }),
      el('td', { class: 'num', text: String(passed) }),
      el('td', { class: 'num rate', text: formatPercent(share) }),
      el('td', { class: 'bar-cell' }, el('div', { class: 'meter', title: formatPercent(share) + ' passed' }, meterFill(share))),
    ];
  }

  /** A table of rows `[label cells, runs, passed, pick]`; clicking a row shows its runs. */
  function breakdownTable(id, heads, rows) {
    var body = rows.map(function (row) {
      var tr = el('tr', { class: 'clickable', tabindex: 0, title: 'Show these runs' }, row.cells, rateCells(row.runs, row.passed));
      tr.addEventListener('click', row.pick);
      tr.addEventListener('keydown', function (e) { if (e.key === 'Enter') row.pick(); });
      return tr;
    });
    var head = el('tr', null, heads.map(function (h, i) { return el('th', { class: i > 0 ? 'num' : null, text: h }); }), ['Runs', 'Passed', 'Pass rate'].map(function (h) { return el('th', { class: 'num', text: h }); }), el('th'));
    return el('div', { class: 'table-wrap' }, el('table', { class: 'compact breakdown', id: id + '-table', 'data-testid': id + '-table' }, el('thead', null, head), el('tbody', null, body)));
  }

  function pickFilter(key, value) {
    return function () {
      resetFilters();
      state[key] = value;
      byId('filter-' + key).value = value;
      update();
      byId('runs').scrollIntoView({ behavior: 'smooth', block: 'start' });
    };
  }

  function labelBreakdown(id, key, rows, missing) {
    var box = byId(id);
    if (rows.every(function (r) { return r.value === null; })) {
      box.replaceChildren(el('p', { class: 'muted', id: id + '-none', text: missing }));
      return;
    }
    box.replaceChildren(
      breakdownTable(
        id,
        [key === 'strategy' ? 'Strategy' : 'Persona'],
        rows.map(function (r) {
          var option = r.value === null ? 'none' : 'v' + labelValues[key].values.indexOf(r.value);
          return { cells: el('td', { class: r.value === null ? 'muted' : null, text: r.value === null ? '(none)' : r.value }), runs: r.runs, passed: r.passed, pick: pickFilter(key, option) };
        }),
      ),
    );
  }

  function renderBreakdowns() {
    labelBreakdown('by-strategy', 'strategy', data.by_strategy, 'No run has a strategy: strategies come with inputs made by fluxloop generate inputs.');
    labelBreakdown('by-persona', 'persona', data.by_persona, 'No run has a persona: personas in configs/simulation.yaml give generated inputs one.');
    byId('by-base').replaceChildren(
      breakdownTable(
        'by-base',
        ['Base input', 'Inputs'],
        bases.map(function (b, i) {
          return {
            cells: [
              el('td', { class: 'input-cell' + (b.ran ? '' : ' muted'), title: shorten(b.input, 500) + (b.recording ? '\nrecorded at ' + b.recording : ''), text: shorten(b.input, 120) }),
              el('td', { class: 'num', title: 'the base input and its variations', text: String(b.inputs) }),
            ],
            runs: b.runs,
            passed: b.passed,
            pick: pickFilter('base', 'b' + i),
          };
        }),
      ),
    );
  }

  // ---- Comparison --------------------------------------------------------------------------

  function renderComparison() {
    var box = byId('comparison');
    if (!comparison) return;
    box.hidden = false;
    var c = comparison;
    var rows = [
      ['Pass rate', c.pass_rate, 'rate'],
      ['Success rate', c.success_rate, 'rate'],
      ['p50 latency', c.latency_ms.p50, 'ms'],
      ['p95 latency', c.latency_ms.p95, 'ms'],
    ].map(function (m) {
      var d = delta(m[1], m[2]);
      var f = m[2] === 'ms' ? formatMs : formatPercent;
      return el(
        'tr',
        null,
        el('th', { scope: 'row', text: m[0] }),
        el('td', { class: 'num', text: f(m[1].baseline) }),
        el('td', { class: 'num', text: f(m[1].current) }),
        el('td', { class: 'num delta-' + (d ? d.tone : 'neutral'), text: d ? d.text : '–' }),
      );
    });
    var deltas = el(
      'table',
      { class: 'compact deltas', id: 'comparison-deltas' },
      el('thead', null, el('tr', null, el('th', { text: '' }), el('th', { class: 'num', text: 'Baseline' }), el('th', { class: 'num', text: 'Now' }), el('th', { class: 'num', text: 'Change' }))),
      el('tbody', null, rows),
    );
    var counts = c.counts;
    box.replaceChildren(
      el('h2', null, 'Compared with the baseline'),
      el('p', { class: 'muted baseline-path', text: c.baseline }),
      el(
        'div',
        { class: 'comparison-top' },
        deltas,
        el(
          'ul',
          { class: 'tally' },
          [
            ['Regressions', counts.regressions, 'bad'],
            ['Fixes', counts.fixes, 'good'],
            ['Still passing', counts.still_passing, null],
            ['Still failing', counts.still_failing, null],
            ['New runs', counts.new_runs, null],
            ['Missing runs', counts.missing_runs, null],
          ].map(function (t) {
            return el('li', { class: t[2] && t[1] > 0 ? 'tone-' + t[2] : null }, el('span', { class: 'tally-n', text: String(t[1]) }), el('span', { text: t[0] }));
          }),
        ),
      ),
      comparedList('comparison-regressions', 'Regressions', 'Passed in the baseline, fail now.', c.regressions, true),
      comparedList('comparison-fixes', 'Fixes', 'Failed in the baseline, pass now.', c.fixes, true),
      comparedList('comparison-new', 'New runs', 'Only in this experiment.', c.new_runs, false),
      comparedList('comparison-missing', 'Missing runs', 'Only in the baseline.', c.missing_runs, false),
    );
  }

  function comparedList(id, title, note, list, withReasons) {
    var section = el('details', { class: 'compared', id: id, open: list.length > 0 && withReasons });
    section.appendChild(el('summary', null, el('span', { class: 'compared-title', text: title }), el('span', { class: 'count-badge', text: String(list.length) }), el('span', { class: 'muted small', text: note })));
    if (list.length === 0) {
      section.appendChild(el('p', { class: 'muted', text: 'None.' }));
      return section;
    }
    var tbody = el('tbody');
    var table = el(
      'table',
      { class: 'compact compared-table' },
      el(
        'thead',
        null,
        el(
          'tr',
          null,
          el('th', { text: 'Recording' }),
          el('th', { text: 'Input' }),
          el('th', { class: 'num', text: 'Iteration' }),
          el('th', { class: 'num', text: 'Score' }),
          el('th', { text: withReasons ? 'Reasons' : 'Trace' }),
        ),
      ),
      tbody,
    );
    var more = el('button', { type: 'button', class: 'secondary' });
    var shown = 0;
    function showMore() {
      var end = Math.min(list.length, shown + LIST_STEP);
      for (; shown < end; shown++) comparedRows(list[shown], withReasons).forEach(function (tr) { tbody.appendChild(tr); });
      more.textContent = 'Show ' + Math.min(LIST_STEP, list.length - shown) + ' more of ' + (list.length - shown);
      more.hidden = shown >= list.length;
    }
    more.addEventListener('click', showMore);
    showMore();
    section.appendChild(el('div', { class: 'table-wrap' }, table));
    section.appendChild(more);
    return section;
  }

  /** A compared run's row and, for a regression, a row with the baseline's output beside the current one. */
  function comparedRows(r, withReasons) {
    var score = formatPercent(r.baseline_score) + ' → ' + formatPercent(r.score);
    var reasons = withReasons
      ? el('td', { class: 'reasons' }, r.reasons.length ? el('ul', null, r.reasons.map(function (x) { return el('li', { text: x }); })) : el('span', { class: 'muted', text: '–' }))
      : el('td', { class: 'mono small', text: r.trace_id });
    var where = recordingText(r.recording_index, r.recording_line, null);
    var tr = el(
      'tr',
      { class: 'compared-row' },
      el('td', { class: 'recording-cell', text: where }),
      el('td', { class: 'input-cell', title: shorten(r.input, 500), text: shorten(r.input, 160) }),
      el('td', { class: 'num', text: String(r.iteration) }),
      el('td', { class: 'num', text: score }),
      reasons,
    );
    if (typeof r.run_index === 'number') {
      tr.className += ' clickable';
      tr.tabIndex = 0;
      tr.setAttribute('data-index', String(r.run_index));
      tr.addEventListener('click', function () { openDetail(r.run_index); });
      tr.addEventListener('keydown', function (e) { if (e.key === 'Enter') openDetail(r.run_index); });
    }
    if (!r.diff) return [tr];
    return [tr, el('tr', { class: 'diff-row' }, el('td', { colspan: 5 }, diffBlock(r.diff)))];
  }

  /**
   * The baseline's output beside the current one, what changed marked on each side: words only
   * in the baseline's struck through, words only in the current one underlined.
   */
  function diffBlock(pieces) {
    var before = el('pre', { class: 'text diff-side diff-before' });
    var after = el('pre', { class: 'text diff-side diff-after' });
    pieces.forEach(function (p) {
      if (p[0] <= 0) before.appendChild(p[0] < 0 ? el('del', { text: p[1] }) : document.createTextNode(p[1]));
      if (p[0] >= 0) after.appendChild(p[0] > 0 ? el('ins', { text: p[1] }) : document.createTextNode(p[1]));
    });
    [before, after].forEach(function (side) { if (!side.textContent) side.appendChild(el('span', { class: 'muted', text: '(no output)' })); });
    return el(
      'div',
      { class: 'diff', 'data-testid': 'diff' },
      el('div', { class: 'diff-pane' }, el('div', { class: 'diff-label', text: 'Baseline output' }), before),
      el('div', { class: 'diff-pane' }, el('div', { class: 'diff-label', text: 'Output now' }), after),
    );
  }

  /** `#3 · args_recording.jsonl:12`, the file as its last part (whole in `title`). */
  function recordingText(index, line, file) {
    if (index === null || index === undefined) return '–';
    if (line === null || line === undefined) return '#' + index;
    return '#' + index + ' · ' + (file ? String(file).split('/').pop() + ':' : 'line ') + line;
  }

  // ---- Runs table --------------------------------------------------------------------------

  var COLUMNS = [
    { key: 'index', label: '#', num: true, get: function (r) { return r.index; } },
    { key: 'status', label: 'Status', get: function (r) { return STATUSES.indexOf(r.status); } },
    { key: 'passed', label: 'Verdict', get: function (r) { return r.passed ? 1 : 0; } },
    { key: 'score', label: 'Score', num: true, get: function (r) { return r.score; } },
    { key: 'input', label: 'Input', text: true, get: function (r) { return r.input; } },
    { key: 'output', label: 'Output', text: true, get: function (r) { return outputOf(r); } },
    { key: 'strategy', label: 'Strategy', text: true, get: function (r) { return r.strategy; } },
    { key: 'persona', label: 'Persona', text: true, get: function (r) { return r.persona; } },
    { key: 'recording', label: 'Recording', get: function (r) { return r.recording_index === null ? null : r.recording_index * 1e9 + (r.recording_line || 0); } },
    { key: 'duration', label: 'Duration', num: true, get: function (r) { return r.duration_ms; } },
    { key: 'iteration', label: 'Iteration', num: true, get: function (r) { return r.iteration; } },
  ];
  // Where each run left its recording's calls: runs that kept to them first, then by the call they left at.
  if (hasCalls) COLUMNS.splice(9, 0, { key: 'path', label: 'Path', get: function (r) { return r.divergence ? r.divergence.index + 1 : r.recorded_calls === null ? null : 0; } });
  // A conversation's turns and how it ended, beside its last reply.
  if (hasConversations) COLUMNS.splice(6, 0, { key: 'turns', label: 'Turns', num: true, get: function (r) { return r.conversation ? r.conversation.turns.length : null; } });

  /** Characters of an output in its cell; the rest shows on unfolding it. */
  var OUTPUT_CELL = 120;
  /** Outputs this short fit the column: no button to unfold them. */
  var OUTPUT_FITS = 24;

  // Runs are grouped under their base input when some base input has variations.
  var state = {
    status: '',
    verdict: '',
    strategy: '',
    persona: '',
    base: '',
    evaluator: '',
    path: '',
    ended: '',
    q: '',
    sort: 'index',
    dir: 1,
    page: 0,
    group: bases.some(function (b) { return b.inputs > 1; }),
  };
  var collapsed = new Set();
  var view = [];
  /** The termination reasons the Ended-by filter offers, by their place in it. */
  var ENDED = hasConversations ? endedBy() : [];

  /** The output as the evaluators read it: text as it is, a Response by its body, other values as JSON. */
  function outputText(v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'string') return v;
    if (typeof v === 'object' && v.$type === 'Response' && v.value && typeof v.value === 'object' && !Array.isArray(v.value)) return outputText(v.value.body);
    return JSON.stringify(v);
  }

  var outputs = new Map();
  function outputOf(r) {
    if (!outputs.has(r.index)) outputs.set(r.index, outputText(r.output));
    return outputs.get(r.index);
  }

  /** The distinct values of a label, most frequent first, and whether some runs have none. */
  function distinct(key) {
    var counts = new Map();
    var none = 0;
    runs.forEach(function (r) {
      if (r[key] === null || r[key] === undefined) none++;
      else counts.set(r[key], (counts.get(r[key]) || 0) + 1);
    });
    var values = Array.from(counts.keys()).sort(function (a, b) { return counts.get(b) - counts.get(a) || collator.compare(a, b); });
    return { values: values, counts: counts, none: none };
  }

  var labelValues = { strategy: distinct('strategy'), persona: distinct('persona') };

  function select(id, label, options, key) {
    var node = el('select', { id: id, 'data-testid': id, 'aria-label': label });
    options.forEach(function (o) { node.appendChild(el('option', { value: o[0], text: o[1] })); });
    node.addEventListener('change', function () {
      state[key] = node.value;
      state.page = 0;
      update();
    });
    return el('label', { class: 'filter' }, el('span', { text: label }), node);
  }

  function labelOptions(key, all) {
    var d = labelValues[key];
    var options = [['', all]];
    d.values.forEach(function (v, i) { options.push(['v' + i, v + ' (' + d.counts.get(v) + ')']); });
    if (d.none > 0) options.push(['none', '(none) (' + d.none + ')']);
    return options;
  }

  function renderFilters() {
    var counts = summary.counts || {};
    var failures = evaluators.map(function () { return 0; });
    runs.forEach(function (r) { r.failed.forEach(function (i) { failures[i]++; }); });
    var group = el('input', { id: 'filter-group', 'data-testid': 'filter-group', type: 'checkbox', checked: state.group });
    var search = el('input', { id: 'filter-search', 'data-testid': 'filter-search', type: 'search', placeholder: 'Search inputs…', 'aria-label': 'Search inputs', autocomplete: 'off' });
    var timer = 0;
    search.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        state.q = search.value.trim().toLowerCase();
        state.page = 0;
        update();
      }, 120);
    });
    // Filters that do not apply are null: appended, not passed to replaceChildren, which would write "null".
    var filters = byId('filters');
    filters.replaceChildren();
    append(filters, [
      el('label', { class: 'filter search' }, el('span', { text: 'Input' }), search),
      select('filter-status', 'Status', [['', 'All statuses']].concat(STATUSES.map(function (s) { return [s, s + ' (' + (counts[s] || 0) + ')']; })), 'status'),
      select('filter-verdict', 'Verdict', [['', 'Passed and failed'], ['passed', 'passed (' + summary.passed + ')'], ['failed', 'failed (' + summary.failed + ')']], 'verdict'),
      select('filter-strategy', 'Strategy', labelOptions('strategy', 'All strategies'), 'strategy'),
      select('filter-persona', 'Persona', labelOptions('persona', 'All personas'), 'persona'),
      select(
        'filter-base',
        'Base input',
        [['', 'All base inputs']].concat(bases.map(function (b, i) { return ['b' + i, shorten(b.input, 60) + ' (' + b.runs + ')']; })),
        'base',
      ),
      select(
        'filter-evaluator',
        'Failed evaluator',
        [['', 'Any evaluator']].concat(evaluators.map(function (e, i) { return [String(i), e.name + ' failed (' + failures[i] + ')']; })),
        'evaluator',
      ),
      hasCalls ? pathFilter() : null,
      hasConversations ? select('filter-ended', 'Ended by', [['', 'Any ending']].concat(ENDED.map(function (e, i) { return ['e' + i, e[0] + ' (' + e[1] + ')']; })), 'ended') : null,
      el('button', { id: 'filter-reset', type: 'button', class: 'secondary', text: 'Reset', onclick: function () { resetFilters(); update(); } }),
      el('label', { class: 'filter check' }, group, el('span', { text: 'Group by base input' })),
      el('button', { id: 'groups-toggle', type: 'button', class: 'secondary', hidden: !state.group, onclick: toggleAllGroups }),
    ]);
    group.addEventListener('change', function () {
      state.group = group.checked;
      state.page = 0;
      byId('groups-toggle').hidden = !state.group;
      update();
    });
  }

  function pathFilter() {
    var diverged = 0, same = 0;
    runs.forEach(function (r) {
      if (r.divergence) diverged++;
      else if (r.recorded_calls !== null) same++;
    });
    return select('filter-path', 'Path', [['', 'Any path'], ['diverged', 'left the recording (' + diverged + ')'], ['same', 'kept to the recording (' + same + ')']], 'path');
  }

  function toggleAllGroups() {
    if (collapsed.size < bases.length) bases.forEach(function (_, i) { collapsed.add(i); });
    else collapsed.clear();
    state.page = 0;
    update();
  }

  function resetFilters() {
    ['status', 'verdict', 'strategy', 'persona', 'base', 'evaluator', 'path', 'ended', 'q'].forEach(function (k) { state[k] = ''; });
    state.page = 0;
    ['filter-status', 'filter-verdict', 'filter-strategy', 'filter-persona', 'filter-base', 'filter-evaluator', 'filter-path', 'filter-ended', 'filter-search'].forEach(function (id) {
      var node = byId(id);
      if (node) node.value = '';
    });
  }

  function labelMatches(value, key, chosen) {
    if (chosen === '') return true;
    if (chosen === 'none') return value === null || value === undefined;
    return value === labelValues[key].values[Number(chosen.slice(1))];
  }

  function matches(r) {
    if (state.status && r.status !== state.status) return false;
    if (state.verdict && r.passed !== (state.verdict === 'passed')) return false;
    if (!labelMatches(r.strategy, 'strategy', state.strategy)) return false;
    if (!labelMatches(r.persona, 'persona', state.persona)) return false;
    if (state.base !== '' && r.base !== Number(state.base.slice(1))) return false;
    if (state.evaluator !== '' && r.failed.indexOf(Number(state.evaluator)) < 0) return false;
    if (state.path === 'diverged' && !r.divergence) return false;
    if (state.path === 'same' && (r.divergence || r.recorded_calls === null)) return false;
    if (state.ended && (!r.conversation || r.conversation.termination_reason !== (ENDED[Number(state.ended.slice(1))] || [])[0])) return false;
    if (state.q && String(r.input).toLowerCase().indexOf(state.q) < 0) return false;
    return true;
  }

  function compareRuns(column, dir) {
    return function (a, b) {
      var x = column.get(a), y = column.get(b);
      // Runs without a value go last whichever way the column is sorted.
      var xn = x === null || x === undefined, yn = y === null || y === undefined;
      if (xn || yn) return xn === yn ? a.index - b.index : xn ? 1 : -1;
      var c = column.text ? collator.compare(String(x), String(y)) : x - y;
      return c !== 0 ? c * dir : a.index - b.index;
    };
  }

  function renderHead() {
    var tr = el('tr');
    COLUMNS.forEach(function (column) {
      var active = state.sort === column.key;
      var th = el('th', { class: (column.num ? 'num ' : '') + 'col-' + column.key, 'aria-sort': active ? (state.dir > 0 ? 'ascending' : 'descending') : 'none' });
      var button = el('button', { type: 'button', class: 'sort', 'data-sort': column.key, title: 'Sort by ' + column.label.toLowerCase() }, column.label, el('span', { class: 'arrow', 'aria-hidden': 'true', text: active ? (state.dir > 0 ? '▲' : '▼') : '' }));
      button.addEventListener('click', function () {
        if (state.sort === column.key) state.dir = -state.dir;
        else {
          state.sort = column.key;
          // Numbers people look for at the top: the slowest runs, the lowest scores first.
          state.dir = column.key === 'duration' ? -1 : 1;
        }
        state.page = 0;
        update();
      });
      th.appendChild(button);
      tr.appendChild(th);
    });
    byId('runs-table').tHead.replaceChildren(tr);
  }

  /** The output cut to its cell, with a button that shows it whole there; an error's name and message when there is none. */
  function outputCell(r) {
    var text = outputOf(r);
    if (text === '') {
      var error = r.error && typeof r.error === 'object' ? String(r.error.name || 'Error') + ': ' + String(r.error.message || '') : null;
      return el('td', { class: 'output-cell ' + (error ? 'output-error' : 'muted'), title: error ? shorten(error, 500) : null, text: error ? shorten(error, OUTPUT_CELL) : '–' });
    }
    // Shorter outputs fit their cell; longer ones are cut there (by the column's width too) and unfold in place.
    if (text.length <= OUTPUT_FITS) return el('td', { class: 'output-cell', title: text, text: text });
    var shown = el('span', { class: 'output-text', text: shorten(text, OUTPUT_CELL) });
    var button = el('button', { type: 'button', class: 'link expand', 'aria-expanded': 'false', 'aria-label': 'Show the whole output', title: 'Show the whole output', text: '▸' });
    var cell = el('td', { class: 'output-cell' }, button, shown);
    button.addEventListener('click', function (e) {
      // The row opens the run's detail; this button only unfolds the cell.
      e.stopPropagation();
      var open = button.getAttribute('aria-expanded') !== 'true';
      shown.textContent = open ? text : shorten(text, OUTPUT_CELL);
      button.textContent = open ? '▾' : '▸';
      button.setAttribute('aria-expanded', String(open));
      button.title = open ? 'Fold the output' : 'Show the whole output';
      cell.classList.toggle('expanded', open);
    });
    button.addEventListener('keydown', function (e) { e.stopPropagation(); });
    return cell;
  }

  function renderRow(r) {
    return el(
      'tr',
      { 'data-index': r.index, tabindex: 0, class: 'run-row' + (state.group ? ' in-group' + (r.is_base ? ' is-base' : '') : '') },
      el('td', { class: 'num muted', text: String(r.index + 1) }),
      el('td', null, statusPill(r.status)),
      el('td', null, verdictPill(r.passed, r.reasons.join('\n'))),
      el('td', { class: 'num', text: formatPercent(r.score) }),
      el('td', { class: 'input-cell', title: shorten(r.input, 500), text: shorten(r.input, 160) }),
      outputCell(r),
      hasConversations ? turnsCell(r) : null,
      el('td', { class: r.strategy === null ? 'muted' : null, text: r.strategy === null ? '–' : r.strategy }),
      el('td', { class: r.persona === null ? 'muted' : null, text: r.persona === null ? '–' : r.persona }),
      el('td', {
        class: 'recording-cell' + (r.recording_index === null ? ' muted' : ''),
        title: r.recording_file && r.recording_line !== null ? r.recording_file + ':' + r.recording_line : null,
        text: recordingText(r.recording_index, r.recording_line, r.recording_file),
      }),
      hasCalls ? pathCell(r) : null,
      el('td', { class: 'num', text: formatMs(r.duration_ms) }),
      el('td', { class: 'num', text: String(r.iteration) }),
    );
  }

  /** `3 · user_satisfied`: how many turns a conversation took and why it ended. */
  function turnsCell(r) {
    var c = r.conversation;
    if (!c) return el('td', { class: 'turns-cell muted', text: '–' });
    var title = c.turns.length + ' turns, ended by ' + c.termination_reason + (c.turn_pass_rate === null ? '' : '; ' + formatPercent(c.turn_pass_rate) + ' of its turns passed');
    return el('td', { class: 'turns-cell', title: title }, el('span', { class: 'num', text: String(c.turns.length) }), el('span', { class: 'muted small', text: ' · ' + c.termination_reason }));
  }

  /** `call 2 · other_call` where the run left its recording's calls; `same` where it kept to them. */
  function pathCell(r) {
    if (r.divergence) return el('td', { class: 'path-cell diverged', title: divergenceText(r.divergence), text: 'call ' + (r.divergence.index + 1) + ' · ' + r.divergence.kind });
    return el('td', { class: 'path-cell muted', text: r.recorded_calls === null ? '–' : 'same' });
  }

  /** A base input's header row: its text and how its runs (those the filters keep) did; a click folds or unfolds them. */
  function groupRow(b, stats, continued) {
    var base = bases[b];
    var folded = collapsed.has(b);
    var tr = el(
      'tr',
      { class: 'group-row' + (folded ? ' folded' : ''), 'data-base': b, tabindex: 0, 'aria-expanded': String(!folded) },
      el(
        'td',
        { colspan: COLUMNS.length },
        el('span', { class: 'caret', 'aria-hidden': 'true', text: folded ? '▸' : '▾' }),
        el('span', { class: 'pill base-pill', text: 'base input' }),
        el('span', { class: 'group-input' + (base.ran ? '' : ' muted'), title: shorten(base.input, 500), text: shorten(base.input, 160) }),
        el('span', {
          class: 'group-stats muted',
          text: stats.runs + ' runs · ' + stats.passed + ' passed (' + formatPercent(stats.runs ? stats.passed / stats.runs : 0) + ') · ' + (base.inputs - 1) + ' variations' + (continued ? ' · continued' : ''),
        }),
      ),
    );
    var toggle = function () {
      if (collapsed.has(b)) collapsed.delete(b);
      else collapsed.add(b);
      update();
    };
    tr.addEventListener('click', toggle);
    tr.addEventListener('keydown', function (e) { if (e.key === 'Enter') toggle(); });
    return tr;
  }

  /** Within a base input, by default: the base input first, then its variations as the inputs list them. */
  function inGroupOrder(a, b) {
    return (b.is_base ? 1 : 0) - (a.is_base ? 1 : 0) || a.input_index - b.input_index || (a.recording_index || 0) - (b.recording_index || 0) || a.iteration - b.iteration || a.index - b.index;
  }

  function update() {
    var column = COLUMNS.find(function (c) { return c.key === state.sort; }) || COLUMNS[0];
    var byIndex = column.key === 'index' && state.dir > 0;
    var matched = runs.filter(matches);
    var order = compareRuns(column, state.dir);
    if (state.group) matched.sort(function (a, b) { return a.base - b.base || (byIndex ? inGroupOrder(a, b) : order(a, b)); });
    else if (!byIndex) matched.sort(order);
    // What pages hold: runs, and a folded base input as one line.
    var items = [];
    var stats = new Map();
    matched.forEach(function (r) {
      if (state.group) {
        var s = stats.get(r.base);
        if (!s) stats.set(r.base, (s = { runs: 0, passed: 0 }));
        s.runs++;
        if (r.passed) s.passed++;
        if (collapsed.has(r.base)) {
          if (s.runs === 1) items.push({ folded: r.base });
          return;
        }
      }
      items.push(r);
    });
    view = items.filter(function (item) { return item.folded === undefined; });
    renderHead();
    var pages = Math.max(1, Math.ceil(items.length / PAGE_SIZE));
    state.page = Math.min(Math.max(0, state.page), pages - 1);
    var start = state.page * PAGE_SIZE;
    var rows = [];
    var current = null;
    items.slice(start, start + PAGE_SIZE).forEach(function (item, k) {
      if (item.folded !== undefined) {
        rows.push(groupRow(item.folded, stats.get(item.folded), false));
        current = null;
        return;
      }
      if (state.group && item.base !== current) {
        var previous = items[start + k - 1];
        rows.push(groupRow(item.base, stats.get(item.base), k === 0 && previous !== undefined && previous.base === item.base && previous.folded === undefined));
        current = item.base;
      }
      rows.push(renderRow(item));
    });
    if (rows.length === 0) rows = [el('tr', { class: 'empty' }, el('td', { colspan: COLUMNS.length, text: 'No runs match these filters.' }))];
    var tbody = byId('runs-table').tBodies[0];
    tbody.replaceChildren.apply(tbody, rows);
    byId('runs-count').textContent = matched.length + ' of ' + runs.length + ' ' + UNITS[1];
    var toggle = byId('groups-toggle');
    if (toggle) toggle.textContent = collapsed.size < bases.length ? 'Fold all base inputs' : 'Unfold all base inputs';
    var before = 0;
    for (var i = 0; i < start; i++) if (items[i].folded === undefined) before++;
    var onPage = items.slice(start, start + PAGE_SIZE).filter(function (item) { return item.folded === undefined; }).length;
    renderPager(pages, before, onPage);
  }

  function renderPager(pages, before, onPage) {
    function go(page) {
      return function () {
        state.page = page;
        update();
        byId('runs-table').scrollIntoView({ block: 'nearest' });
      };
    }
    var first = state.page === 0, last = state.page >= pages - 1;
    byId('pager').replaceChildren(
      el('button', { type: 'button', id: 'page-first', class: 'secondary', disabled: first, onclick: go(0), 'aria-label': 'First page', text: '«' }),
      el('button', { type: 'button', id: 'page-prev', class: 'secondary', disabled: first, onclick: go(state.page - 1), text: '‹ Previous' }),
      el('span', {
        id: 'page-info',
        text: onPage === 0 ? 'Page ' + (state.page + 1) + ' of ' + pages : 'Page ' + (state.page + 1) + ' of ' + pages + ' · runs ' + (before + 1) + '–' + (before + onPage),
      }),
      el('button', { type: 'button', id: 'page-next', class: 'secondary', disabled: last, onclick: go(state.page + 1), text: 'Next ›' }),
      el('button', { type: 'button', id: 'page-last', class: 'secondary', disabled: last, onclick: go(pages - 1), 'aria-label': 'Last page', text: '»' }),
    );
  }

  function onTableActivate(event) {
    if (event.type === 'keydown' && event.key !== 'Enter') return;
    var tr = event.target.closest('tr[data-index]');
    if (tr) openDetail(Number(tr.getAttribute('data-index')));
  }

  // ---- Run detail --------------------------------------------------------------------------

  function section(title, id, content, note) {
    return el('section', { class: 'detail-section', id: id ? id + '-section' : null }, el('h3', null, title, note ? el('span', { class: 'muted small', text: note }) : null), content);
  }

  function samePath(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  function isPrefix(prefix, path) {
    if (prefix.length > path.length) return false;
    for (var i = 0; i < prefix.length; i++) if (prefix[i] !== path[i]) return false;
    return true;
  }

  /** Pretty JSON as nested spans, so that one value (the override) can be marked. */
  function jsonTree(value, id, mark, markTitle) {
    var pre = el('pre', { class: 'json', id: id, 'data-testid': id });
    function pad(n) { return '  '.repeat(n); }
    function build(parent, v, path, depth) {
      var node;
      var onPath = mark && path !== null && isPrefix(path, mark);
      if (v === null || v === undefined) node = el('span', { class: 'j-null', text: 'null' });
      else if (Array.isArray(v)) {
        node = el('span', { class: 'j-array' });
        if (v.length === 0) node.textContent = '[]';
        else {
          append(node, '[\n');
          v.forEach(function (item, i) {
            append(node, pad(depth + 1));
            build(node, item, onPath ? path.concat(i) : null, depth + 1);
            append(node, (i < v.length - 1 ? ',' : '') + '\n');
          });
          append(node, pad(depth) + ']');
        }
      } else if (typeof v === 'object') {
        var keys = Object.keys(v);
        node = el('span', { class: 'j-object' });
        if (keys.length === 0) node.textContent = '{}';
        else {
          append(node, '{\n');
          keys.forEach(function (k, i) {
            append(node, pad(depth + 1));
            node.appendChild(el('span', { class: 'j-key', text: JSON.stringify(k) }));
            append(node, ': ');
            build(node, v[k], onPath ? path.concat(k) : null, depth + 1);
            append(node, (i < keys.length - 1 ? ',' : '') + '\n');
          });
          append(node, pad(depth) + '}');
        }
      } else if (typeof v === 'string') node = el('span', { class: 'j-string', text: JSON.stringify(v) });
      else node = el('span', { class: typeof v === 'number' ? 'j-number' : 'j-bool', text: String(v) });
      if (onPath && samePath(path, mark)) {
        node.classList.add('override');
        node.setAttribute('data-testid', 'override');
        if (markTitle) node.title = markTitle;
      }
      parent.appendChild(node);
    }
    build(pre, value, mark ? [] : null, 0);
    return pre;
  }

  /** Text as text, anything else as JSON. */
  function valueBlock(value, id) {
    if (typeof value === 'string') return el('pre', { class: 'text', id: id, 'data-testid': id, text: value });
    return jsonTree(value, id);
  }

  /** Each frame the output came in, in order, numbered. */
  function framesList(frames) {
    return el('ol', { class: 'frames', id: 'detail-frames', 'data-testid': 'detail-frames' }, frames.map(function (f) { return el('li', null, valueBlock(f)); }));
  }

  function isEmptyMessages(m) {
    return m === null || m === undefined || (Array.isArray(m) && m.length === 0) || (typeof m === 'object' && !Array.isArray(m) && Object.keys(m).length === 0);
  }

  function evaluatorTable(r) {
    if (r.evaluators.length === 0) return el('p', { class: 'muted', text: 'No evaluators ran.' });
    return el(
      'table',
      { class: 'compact', id: 'detail-evaluators' },
      el('thead', null, el('tr', null, el('th', { text: 'Evaluator' }), el('th', { class: 'num', text: 'Score' }), el('th', { text: 'Result' }), el('th', { text: 'Reason' }))),
      el(
        'tbody',
        null,
        r.evaluators.map(function (e) {
          var info = evaluators[e.evaluator] || { name: '?', type: '?' };
          var result = e.skipped ? el('span', { class: 'pill skipped', text: 'skipped' }) : verdictPill(e.passed);
          // On a conversation, a turn evaluator's row sums up its turns.
          var scope = r.conversation && info.scope ? el('div', { class: 'muted small ev-scope', text: info.scope === 'turn' ? 'over the turns' : 'the conversation' }) : null;
          return el('tr', { 'data-scope': r.conversation ? info.scope || null : null }, el('td', null, el('div', { text: info.name }), info.type !== info.name ? el('div', { class: 'muted small', text: info.type }) : null, scope), el('td', { class: 'num', text: formatPercent(e.score) }), el('td', null, result), el('td', { class: 'reason', text: e.reason || '' }));
        }),
      ),
    );
  }

  function metaList(r) {
    var items = [
      ['Trace id', r.trace_id],
      ['Iteration', r.iteration],
      ['Input index', r.input_index],
      ['Recording', r.recording_index === null ? null : '#' + r.recording_index + (r.recording_line === null ? '' : ' at ' + (r.recording_file ? r.recording_file + ':' : 'line ') + r.recording_line)],
      ['Base input', bases[r.base] ? (r.is_base ? 'this input' : shorten(bases[r.base].input, 200)) : null],
      ['Target', r.target],
      ['Override path', r.override_param_path],
      ['Input placed at', r.override_location],
      ['Duration', formatMs(r.duration_ms)],
      ['Attempts', r.attempts],
      ['Strategy', r.strategy],
      ['Persona', r.persona],
    ];
    return definitions(items);
  }

  /** Label and value pairs as a definition list; the pairs without a value are left out. */
  function definitions(items) {
    return el(
      'dl',
      { class: 'meta detail-meta' },
      items
        .filter(function (i) { return i[1] !== null && i[1] !== undefined; })
        .map(function (i) { return el('div', null, el('dt', { text: i[0] }), el('dd', { text: i[1] })); }),
    );
  }

  function errorBlock(error) {
    if (!error || typeof error !== 'object') return valueBlock(error, 'detail-error');
    var box = el('div', { class: 'error-box', id: 'detail-error', 'data-testid': 'detail-error' });
    box.appendChild(el('div', { class: 'error-title' }, el('strong', { text: String(error.name || 'Error') }), ': ', el('span', { text: String(error.message || '') })));
    if (error.stack) box.appendChild(el('details', null, el('summary', { text: 'Stack' }), el('pre', { class: 'text', text: String(error.stack) })));
    return box;
  }

  /** Observations as bars on one time axis, children under their parent. */
  function timeline(r, id) {
    id = id || 'detail-timeline';
    var obs = r.observations;
    if (obs.length === 0) return el('p', { class: 'muted', id: id, text: 'No observations.' });
    var children = obs.map(function () { return []; });
    var roots = [];
    obs.forEach(function (o, i) {
      if (o.parent === null || o.parent === i || !obs[o.parent]) roots.push(i);
      else children[o.parent].push(i);
    });
    var byStart = function (a, b) { return obs[a].start_ms - obs[b].start_ms || a - b; };
    var order = [];
    var seen = new Set();
    function walk(i, depth) {
      if (seen.has(i)) return;
      seen.add(i);
      order.push([i, depth]);
      children[i].sort(byStart).forEach(function (c) { walk(c, depth + 1); });
    }
    roots.sort(byStart).forEach(function (i) { walk(i, 0); });
    // A parent cycle leaves observations unreached; they still get a row.
    obs.forEach(function (_, i) { if (!seen.has(i)) walk(i, 0); });
    var span = obs.reduce(function (m, o) { return Math.max(m, o.start_ms + o.duration_ms); }, 0) || 1;

    var box = el('div', { class: 'timeline', id: id, 'data-testid': id });
    var scale = el('div', { class: 'obs-row obs-scale' }, el('div', { class: 'obs-label' }), el('div', { class: 'obs-track' }, [0, 0.25, 0.5, 0.75, 1].map(function (f) {
      var tick = el('span', { class: 'tick', text: formatMs(span * f) });
      tick.style.left = f * 100 + '%';
      return tick;
    })), el('div', { class: 'obs-dur' }));
    box.appendChild(scale);
    order.forEach(function (entry) {
      var o = obs[entry[0]];
      var depth = entry[1];
      var failed = o.error !== undefined;
      var label = el('div', { class: 'obs-label' }, el('span', { class: 'pill obs-type type-' + (o.type === 'agent' ? 'agent' : 'span'), text: o.type }), el('span', { class: 'obs-name', text: o.name }));
      label.style.paddingLeft = depth * 14 + 'px';
      var bar = el('div', { class: 'obs-bar' + (o.type === 'agent' ? ' agent' : '') + (failed ? ' failed' : ''), title: o.name + ': ' + formatMs(o.duration_ms) + ' at +' + formatMs(o.start_ms) });
      bar.style.left = (o.start_ms / span) * 100 + '%';
      bar.style.width = Math.max(0.4, (o.duration_ms / span) * 100) + '%';
      var row = el('div', { class: 'obs-row', tabindex: 0, 'data-depth': depth, role: 'button', 'aria-expanded': 'false' }, label, el('div', { class: 'obs-track' }, bar), el('div', { class: 'obs-dur', text: formatMs(o.duration_ms) }));
      var detail = null;
      function toggle() {
        if (detail) {
          detail.remove();
          detail = null;
          row.setAttribute('aria-expanded', 'false');
          return;
        }
        detail = el(
          'div',
          { class: 'obs-detail' },
          el('div', { class: 'muted small', text: 'started +' + formatMs(o.start_ms) + ' · took ' + formatMs(o.duration_ms) }),
          el('h4', { text: 'Input' }),
          jsonTree(o.input),
          'output' in o ? [el('h4', { text: 'Output' }), valueBlock(o.output)] : null,
          failed ? [el('h4', { text: 'Error' }), jsonTree(o.error)] : null,
        );
        row.after(detail);
        row.setAttribute('aria-expanded', 'true');
      }
      row.addEventListener('click', toggle);
      row.addEventListener('keydown', function (e) { if (e.key === 'Enter') toggle(); });
      box.appendChild(row);
    });
    if (r.observations_omitted > 0) box.appendChild(el('p', { class: 'muted small', text: r.observations_omitted + ' more observations are not in this report (it keeps the first ' + obs.length + ' by start time).' }));
    return box;
  }

  // ---- Downstream calls --------------------------------------------------------------------

  function callName(c) {
    return c ? c.kind + ' ' + c.name : '?';
  }

  function argsText(v) {
    var text = v === undefined ? 'undefined' : JSON.stringify(v);
    return shorten(text, 120);
  }

  /** Where and how a run left its recording's calls, as the same_path evaluator says it. */
  function divergenceText(d) {
    var at = 'at call ' + (d.index + 1);
    if (d.kind === 'other_call') return 'Left the recorded path ' + at + ': called ' + callName(d.actual) + ' where the recording called ' + callName(d.expected) + '.';
    if (d.kind === 'other_arguments') return 'Left the recorded path ' + at + ': called ' + callName(d.actual) + ' with other arguments than recorded.';
    if (d.kind === 'extra_call') return 'Left the recorded path ' + at + ': made an extra call, ' + callName(d.actual) + ', after the recording\'s calls ended.';
    if (d.kind === 'missing_call') return 'Left the recorded path ' + at + ': never made the recorded call ' + callName(d.expected) + '.';
    return 'Left the recorded path ' + at + ' (' + d.kind + ').';
  }

  function answerPill(answer) {
    return el('span', { class: 'pill answer answer-' + answer, text: answer, title: ANSWERS[answer] || null });
  }

  var ANSWERS = {
    stub: 'answered from the recording',
    live: 'sent for real',
    denied: 'refused: replay_args.downstream denies it',
    unmatched: 'no recorded call matched it',
  };

  /**
   * The recording's calls beside the run's. A run's call sits beside the recorded call it was
   * matched with (`matched`); one matched with none, beside the next recorded call nothing
   * matched, as the place where they differ; the rest alone on their side, in order.
   */
  function pairCalls(recorded, calls) {
    var bySeq = new Map();
    recorded.forEach(function (c) { bySeq.set(c.seq, c); });
    var used = new Set();
    calls.forEach(function (c) { if (c.matched !== null && bySeq.has(c.matched)) used.add(c.matched); });
    // The recorded calls no call of the run matched, in order, each shown once.
    var pending = recorded.filter(function (c) { return !used.has(c.seq); });
    var rows = [];
    calls.forEach(function (c, i) {
      if (c.matched !== null && bySeq.has(c.matched)) {
        while (pending.length > 0 && pending[0].seq < c.matched) rows.push({ expected: pending.shift(), actual: null, at: null });
        rows.push({ expected: bySeq.get(c.matched), actual: c, at: i });
      } else rows.push({ expected: pending.length > 0 ? pending.shift() : null, actual: c, at: i });
    });
    pending.forEach(function (c) { rows.push({ expected: c, actual: null, at: null }); });
    return rows;
  }

  /** The row where the run left its recording: its call at the divergence's place, or for a missing call the recorded one it never made. */
  function divergentRow(rows, d) {
    if (!d) return -1;
    var at = rows.findIndex(function (row) { return row.at === d.index; });
    if (at >= 0 && d.actual) return at;
    var name = d.expected ? d.expected.name : null;
    var missing = rows.findIndex(function (row) { return row.actual === null && row.expected && row.expected.name === name; });
    return missing >= 0 ? missing : at;
  }

  function callCell(call, side, extra) {
    if (!call) return el('td', { class: 'muted', text: '–' });
    var args = side === 'expected' && call.arguments !== null && call.arguments !== undefined ? el('div', { class: 'call-args muted small', text: argsText(call.arguments) }) : null;
    return el('td', null, el('div', { class: 'call-name', text: callName(call) }), args, extra || null);
  }

  /** The recording's calls beside the run's, the first place they part marked. */
  function sideBySide(r) {
    var d = r.divergence;
    var pairs = pairCalls(r.recorded_calls || [], r.calls);
    var marked = divergentRow(pairs, d);
    var rows = pairs.map(function (row, k) {
      var diverged = k === marked;
      var facts = row.actual ? el('div', { class: 'call-facts' }, answerPill(row.actual.answer), diverged && d.kind === 'other_arguments' && d.actual ? el('span', { class: 'call-args muted small', text: argsText(d.actual.arguments) }) : null) : null;
      return el(
        'tr',
        { class: diverged ? 'diverged' : null, 'data-testid': diverged ? 'diverged-call' : null, title: diverged ? divergenceText(d) : null },
        el('td', { class: 'num muted', text: row.expected ? String(row.expected.seq + 1) : '' }),
        callCell(row.expected, 'expected'),
        el('td', { class: 'num muted', text: row.at === null ? '' : String(row.at + 1) }),
        callCell(row.actual, 'actual', facts),
      );
    });
    if (rows.length === 0) rows.push(el('tr', { class: 'empty' }, el('td', { colspan: 4, class: 'muted', text: 'Neither the recording nor the run made a downstream call.' })));
    return el(
      'table',
      { class: 'compact side-by-side', id: 'detail-calls-compared', 'data-testid': 'detail-calls-compared' },
      el('thead', null, el('tr', null, el('th', { class: 'num', text: '#' }), el('th', { text: 'Recorded (expected)' }), el('th', { class: 'num', text: '#' }), el('th', { text: 'This run (actual)' }))),
      el('tbody', null, rows),
    );
  }

  /** A call's facts in a few words: its HTTP status, model, tokens and cost. */
  function callFacts(c) {
    var facts = [];
    if (c.status !== null) facts.push(String(c.status));
    if (c.model) facts.push(c.model);
    if (c.usage) facts.push(formatTokens(c.usage.input_tokens) + ' in / ' + formatTokens(c.usage.output_tokens) + ' out');
    if (c.cost_usd !== null) facts.push(formatUsd(c.cost_usd));
    else if (c.kind === 'llm' && c.answer === 'live' && c.usage) facts.push('no price');
    if (c.error) facts.push(c.error.name + ': ' + c.error.message);
    return facts.join(' · ');
  }

  /** The run's calls as bars on its time axis, each with how it was answered. */
  function callsTimeline(r) {
    var calls = r.calls;
    if (calls.length === 0) return el('p', { class: 'muted', id: 'detail-calls', 'data-testid': 'detail-calls', text: 'The run made no downstream call.' });
    var span = calls.reduce(function (m, c) { return Math.max(m, c.started_ms + c.duration_ms); }, 0) || 1;
    var box = el('div', { class: 'timeline calls', id: 'detail-calls', 'data-testid': 'detail-calls' });
    box.appendChild(el('div', { class: 'obs-row call-row obs-scale' }, el('div', { class: 'obs-label' }), el('div', { class: 'obs-track' }, [0, 0.25, 0.5, 0.75, 1].map(function (f) {
      var tick = el('span', { class: 'tick', text: formatMs(span * f) });
      tick.style.left = f * 100 + '%';
      return tick;
    })), el('div', { class: 'obs-dur' }), el('div', { class: 'call-info' })));
    calls.forEach(function (c, i) {
      var failed = c.error !== null || (c.status !== null && c.status >= 400) || c.answer === 'denied' || c.answer === 'unmatched';
      var diverged = r.divergence && r.divergence.index === i;
      var bar = el('div', { class: 'obs-bar call-bar kind-' + c.kind + (failed ? ' failed' : ''), title: c.name + ': ' + formatMs(c.duration_ms) + ' at +' + formatMs(c.started_ms) });
      bar.style.left = (c.started_ms / span) * 100 + '%';
      bar.style.width = Math.max(0.4, (c.duration_ms / span) * 100) + '%';
      box.appendChild(
        el(
          'div',
          { class: 'obs-row call-row' + (diverged ? ' diverged' : ''), 'data-seq': c.seq },
          el('div', { class: 'obs-label' }, el('span', { class: 'pill obs-type kind-' + c.kind, text: c.kind }), el('span', { class: 'obs-name', title: c.name, text: c.name })),
          el('div', { class: 'obs-track' }, bar),
          el('div', { class: 'obs-dur', text: formatMs(c.duration_ms) }),
          el('div', { class: 'call-info' }, answerPill(c.answer), el('span', { class: 'muted small', text: callFacts(c) })),
        ),
      );
    });
    if (r.calls_omitted > 0) box.appendChild(el('p', { class: 'muted small', text: r.calls_omitted + ' more calls are not in this report (it keeps the first ' + calls.length + ').' }));
    return box;
  }

  function callsSection(r) {
    var compared = r.recorded_calls !== null;
    if (!compared && r.calls.length === 0) return null;
    var cost = r.usage ? tokensText(r.usage) + (r.cost_usd !== null ? ' · ' + formatUsd(r.cost_usd) : ' · cost unknown') : null;
    return section(
      'Downstream calls',
      'detail-downstream',
      el(
        'div',
        null,
        r.divergence ? el('p', { class: 'divergence-line tone-bad', id: 'detail-divergence', 'data-testid': 'detail-divergence', text: divergenceText(r.divergence) }) : compared ? el('p', { class: 'muted small', id: 'detail-divergence', text: 'The run\'s calls kept to its recording\'s.' }) : null,
        compared ? sideBySide(r) : null,
        compared && r.recorded_omitted > 0 ? el('p', { class: 'muted small', text: r.recorded_omitted + ' more recorded calls are not in this report.' }) : null,
        el('h4', { text: 'Timeline' }),
        callsTimeline(r),
      ),
      r.calls.length + ' call' + (r.calls.length === 1 ? '' : 's') + (cost ? ' · ' + cost : ''),
    );
  }

  // ---- Conversation detail -----------------------------------------------------------------

  var SOURCES = { recorded: 'recorded', input: 'the input', simulated_user: 'simulated user' };

  /** An evaluator's verdict on a turn as a small pill: its name and score, why in its title. */
  function verdictBadge(e) {
    var info = evaluators[e.evaluator] || { name: '?', type: '?' };
    var tone = e.skipped ? 'skipped' : e.passed ? 'verdict-passed' : 'verdict-failed';
    return el('span', { class: 'pill badge ' + tone, title: e.reason || null, text: info.name + ' ' + (e.skipped ? 'skipped' : formatPercent(e.score)) });
  }

  /** A message of the transcript: who speaks, a few facts, then what they said. */
  function message(role, head, content, extra) {
    return el('li', { class: 'msg msg-' + role }, el('div', { class: 'msg-head' }, el('span', { class: 'msg-role', text: role === 'user' ? 'User' : 'Assistant' }), head), content, extra);
  }

  /** A reply as text when it is text, as JSON otherwise; a failed turn's error instead of none. */
  function replyBlock(t) {
    var none = t.output === null || t.output === undefined || t.output === '';
    if (none && t.error) return errorBlock(t.error);
    var reply = none ? el('p', { class: 'muted', text: 'No reply.' }) : valueBlock(t.output);
    return t.error ? [reply, errorBlock(t.error)] : reply;
  }

  /** The conversation in order: each turn's user message and reply with its verdicts, the user's closing words, how it ended. */
  function transcriptList(r) {
    var c = r.conversation;
    var list = el('ol', { class: 'transcript', id: 'detail-transcript', 'data-testid': 'detail-transcript' });
    c.turns.forEach(function (t) {
      list.appendChild(
        message(
          'user',
          [el('span', { class: 'muted small', text: 'turn ' + t.turn }), el('span', { class: 'pill source-' + t.source, text: SOURCES[t.source] || t.source })],
          el('pre', { class: 'text msg-text', text: t.user_message }),
        ),
      );
      var facts = [formatMs(t.duration_ms)];
      if (t.call_count) facts.push(t.call_count + ' call' + (t.call_count === 1 ? '' : 's'));
      if (t.usage) facts.push(tokensText(t.usage) + (t.cost_usd !== null ? ' · ' + formatUsd(t.cost_usd) : ''));
      var reply = message(
        'assistant',
        [
          statusPill(t.status),
          t.passed === null ? null : verdictPill(t.passed, t.reasons.join('\n')),
          t.score === null ? null : el('span', { class: 'score', text: 'score ' + formatPercent(t.score) }),
          el('span', { class: 'muted small', text: facts.join(' · ') }),
        ],
        replyBlock(t),
        [
          t.evaluators.length ? el('div', { class: 'badges' }, t.evaluators.map(verdictBadge)) : null,
          t.passed === false && t.reasons.length ? el('ul', { class: 'reasons-list' }, t.reasons.map(function (x) { return el('li', { text: x }); })) : null,
          t.divergence ? el('p', { class: 'divergence-line tone-bad', text: divergenceText(t.divergence) }) : null,
          t.observations.length
            ? el('details', { class: 'turn-observations' }, el('summary', { text: 'Observations (' + t.observation_count + ')' }), timeline(t, 'turn-' + t.turn + '-timeline'))
            : null,
        ],
      );
      reply.setAttribute('data-turn', String(t.turn));
      if (t.passed === false) reply.classList.add('failed');
      list.appendChild(reply);
    });
    if (c.closing_user_message) {
      list.appendChild(message('user', el('span', { class: 'muted small', text: 'closing' }), el('pre', { class: 'text msg-text', id: 'detail-closing', text: c.closing_user_message })));
    }
    list.appendChild(
      el(
        'li',
        { class: 'msg-end', id: 'detail-termination', 'data-testid': 'detail-termination' },
        'Ended by ',
        el('strong', { text: c.termination_reason }),
        ' after ' + c.turns.length + ' turn' + (c.turns.length === 1 ? '' : 's') + ' · ',
        statusPill(r.status),
      ),
    );
    return list;
  }

  function conversationMeta(r) {
    var c = r.conversation;
    var items = [
      ['Conversation', c.conversation_id],
      ['Trace id', r.trace_id],
      ['Iteration', r.iteration],
      ['Input index', r.input_index],
      ['Recording', r.recording_index === null ? null : '#' + r.recording_index + (r.recording_line === null ? '' : ' at ' + (r.recording_file ? r.recording_file + ':' : 'line ') + r.recording_line)],
      ['Resumed at turn', c.resumed_from],
      ['Ended by', c.termination_reason],
      ['Turns passed', c.turn_pass_rate === null ? null : formatPercent(c.turn_pass_rate)],
      ['Target', r.target],
      ['Override path', r.override_param_path],
      ['Duration', formatMs(r.duration_ms)],
      ['Attempts', r.attempts],
      ['Tokens', r.usage ? tokensText(r.usage) + (r.cost_usd !== null ? ' · ' + formatUsd(r.cost_usd) : '') : null],
      ['Strategy', r.strategy],
      ['Persona', r.persona],
    ];
    return definitions(items);
  }

  /** A conversation's detail: its verdict and evaluators first, then the transcript. */
  function conversationBody(r) {
    var c = r.conversation;
    var regression = regressionOf.get(r.index);
    return el(
      'div',
      { class: 'detail-body' },
      section('Input', null, el('pre', { class: 'text input-text', id: 'detail-input', 'data-testid': 'detail-input', text: r.input })),
      r.reasons.length ? el('ul', { class: 'reasons-list' + (r.passed ? ' muted' : ''), id: 'detail-reasons' }, r.reasons.map(function (x) { return el('li', { text: x }); })) : null,
      section('Evaluators', 'detail-conversation-evaluators', evaluatorTable(r), c.turn_pass_rate === null ? null : formatPercent(c.turn_pass_rate) + ' of the turns passed'),
      r.error ? section('Error', null, errorBlock(r.error)) : null,
      regression && regression.diff ? section('Regressed: the replies beside the baseline\'s', 'detail-diff', diffBlock(regression.diff), 'passed in the baseline, fails now') : null,
      section('Transcript', 'detail-transcript', transcriptList(r), c.turns.length + ' turn' + (c.turns.length === 1 ? '' : 's') + ' · ended by ' + c.termination_reason),
      section('Conversation', null, el('div', null, conversationMeta(r), r.metadata && Object.keys(r.metadata).length ? [el('h4', { text: 'Input metadata' }), jsonTree(r.metadata, 'detail-metadata')] : null)),
    );
  }

  function openDetail(index) {
    var r = runs[index];
    if (!r) return;
    var dialog = byId('run-detail');
    var position = view.indexOf(r);
    var list = position >= 0 ? view : runs;
    var at = position >= 0 ? position : index;
    var nav = function (to) {
      return function () { if (list[to]) openDetail(list[to].index); };
    };
    var overrideNote = r.override_location ? 'the input is marked at ' + r.override_location : null;
    var head = el(
      'header',
      { class: 'detail-head' },
      el(
        'div',
        { class: 'detail-title-row' },
        el('h2', { id: 'detail-title', text: (r.conversation ? 'Conversation ' : 'Run ') + (r.index + 1) }),
        statusPill(r.status),
        verdictPill(r.passed),
        el('span', { class: 'score', text: 'score ' + formatPercent(r.score) }),
        el('span', { class: 'muted', text: formatMs(r.duration_ms) }),
      ),
      el(
        'div',
        { class: 'detail-nav' },
        el('button', { type: 'button', class: 'secondary', id: 'detail-prev', disabled: at <= 0, onclick: nav(at - 1), title: 'Previous run (←)', text: '‹' }),
        el('button', { type: 'button', class: 'secondary', id: 'detail-next', disabled: at >= list.length - 1, onclick: nav(at + 1), title: 'Next run (→)', text: '›' }),
        el('button', { type: 'button', class: 'secondary', id: 'detail-close', autofocus: true, onclick: closeDetail, 'aria-label': 'Close', title: 'Close (Esc)', text: '✕' }),
      ),
    );
    var body = r.conversation ? conversationBody(r) : el(
      'div',
      { class: 'detail-body' },
      section('Input', null, el('pre', { class: 'text input-text', id: 'detail-input', 'data-testid': 'detail-input', text: r.input })),
      r.reasons.length ? el('ul', { class: 'reasons-list' + (r.passed ? ' muted' : '') }, r.reasons.map(function (x) { return el('li', { text: x }); })) : null,
      section('Evaluators', null, evaluatorTable(r)),
      r.error ? section('Error', null, errorBlock(r.error)) : null,
      section('Output', null, r.output === null || r.output === undefined ? el('p', { class: 'muted', id: 'detail-output', text: 'No output.' }) : valueBlock(r.output, 'detail-output')),
      regressionOf.has(r.index) && regressionOf.get(r.index).diff
        ? section('Regressed: the output beside the baseline\'s', 'detail-diff', diffBlock(regressionOf.get(r.index).diff), 'passed in the baseline, fails now')
        : null,
      r.frames && r.frames.length ? section('Frames', 'detail-frames', framesList(r.frames), r.frames.length + ' frames, the first after ' + formatMs(r.first_frame_ms)) : null,
      section('Arguments as invoked', null, r.args === null || r.args === undefined ? el('p', { class: 'muted', id: 'detail-args', text: 'The function was not called.' }) : jsonTree(r.args, 'detail-args', r.override_path, overrideNote), overrideNote),
      callsSection(r),
      section('Callback messages', null, isEmptyMessages(r.messages) ? el('p', { class: 'muted', id: 'detail-messages', text: 'None.' }) : valueBlock(r.messages, 'detail-messages')),
      section('Observations', null, timeline(r), r.observation_count ? r.observation_count + ' in all' : null),
      section('Run', null, el('div', null, metaList(r), r.metadata && Object.keys(r.metadata).length ? [el('h4', { text: 'Input metadata' }), jsonTree(r.metadata, 'detail-metadata')] : null)),
    );
    dialog.replaceChildren(head, body);
    if (!dialog.open) dialog.showModal();
    body.scrollTop = 0;
    var mark = dialog.querySelector('.override');
    if (mark) mark.scrollIntoView({ block: 'nearest' });
    body.scrollTop = 0;
    setHash('run-' + (r.index + 1));
  }

  function closeDetail() {
    var dialog = byId('run-detail');
    if (dialog.open) dialog.close();
  }

  function setHash(hash) {
    try {
      history.replaceState(null, '', hash ? '#' + hash : location.pathname + location.search);
    } catch (e) {
      // Some browsers refuse history changes on file:// pages; the hash is only a convenience.
    }
  }

  function openFromHash() {
    var m = /^#run-(\d+)$/.exec(location.hash);
    if (m) openDetail(Number(m[1]) - 1);
  }

  // ---- Start -------------------------------------------------------------------------------

  // An experiment of conversations lists conversations.
  document.querySelector('#runs h2').textContent = UNITS[2];
  renderHeader();
  renderVerdict();
  renderCards();
  renderHistogram();
  renderEvaluators();
  renderComparison();
  renderFilters();
  renderBreakdowns();
  update();

  var table = byId('runs-table');
  // The Path column takes room the others keep.
  if (hasCalls) table.classList.add('with-path');
  table.addEventListener('click', onTableActivate);
  table.addEventListener('keydown', onTableActivate);
  var dialog = byId('run-detail');
  dialog.addEventListener('close', function () { setHash(''); });
  // A click on the backdrop lands on the dialog itself.
  dialog.addEventListener('click', function (e) { if (e.target === dialog) closeDetail(); });
  dialog.addEventListener('keydown', function (e) {
    if (e.target.tagName === 'INPUT') return;
    if (e.key === 'ArrowLeft') byId('detail-prev') && !byId('detail-prev').disabled && byId('detail-prev').click();
    if (e.key === 'ArrowRight') byId('detail-next') && !byId('detail-next').disabled && byId('detail-next').click();
  });
  window.addEventListener('hashchange', openFromHash);
  openFromHash();
  document.documentElement.setAttribute('data-ready', 'true');
})();
