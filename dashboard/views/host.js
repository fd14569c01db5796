// Host view (#/hosts/<id>): inventory, current verdict with its evidence, and
// time-series charts with a verdict timeline over a selectable range.

import { h, setText, replaceChildren } from '../dom.js';
import { classLabel, isKnownClass } from '../classes.js';
import { fetchHost, fetchSamples, fetchVerdicts } from '../api.js';
import {
  formatAgo,
  formatBytes,
  formatConfidence,
  formatDuration,
  formatPct,
  formatRate,
  formatTime,
  formatValue,
  formatWatts,
} from '../format.js';
import { classBadge, meter } from '../widgets.js';
import { timeChart, withGaps } from '../charts.js';
import { reportPicker } from './report-picker.js';

const RANGES = [
  { id: '15m', label: '15 m', ms: 15 * 60_000, refreshMs: 5_000 },
  { id: '1h', label: '1 h', ms: 60 * 60_000, refreshMs: 10_000 },
  { id: '6h', label: '6 h', ms: 6 * 60 * 60_000, refreshMs: 30_000 },
  { id: '24h', label: '24 h', ms: 24 * 60 * 60_000, refreshMs: 60_000 },
];

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const pct = (v) => formatPct(v, 1);
const loadFmt = (v) => (v >= 10 ? v.toFixed(0) : v.toFixed(2));

/** Chart definitions: which sample fields go where. */
const CHARTS = [
  {
    name: 'cpu',
    title: 'CPU',
    series: [
      { label: 'CPU %', key: 'cpuPct', scale: '%', color: '--series-1', fill: true, format: pct },
      { label: 'Load (1 min)', key: 'load1', scale: 'load', color: '--series-2', format: loadFmt },
    ],
    scales: { '%': { range: [0, 100] }, load: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 1) * 1.1)] } },
    axes: [
      { scale: '%', format: (v) => `${v}%` },
      { scale: 'load', side: 'right', size: 44, format: (v) => String(+v.toFixed(2)) },
    ],
  },
  {
    name: 'memory',
    title: 'Memory',
    series: [
      { label: 'Used', key: 'memUsedBytes', scale: 'bytes', color: '--series-3', fill: true, format: formatBytes },
      { label: 'Total', key: 'memTotalBytes', scale: 'bytes', color: '--chart-axis', dash: [4, 4], width: 1, format: formatBytes },
    ],
    scales: { bytes: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 1) * 1.05)] } },
    axes: [{ scale: 'bytes', size: 70, format: (v) => formatBytes(v, 0) }],
  },
  {
    name: 'gpu',
    title: 'GPU',
    optional: true,
    series: [
      { label: 'GPU util %', key: 'gpuUtilPct', scale: '%', color: '--series-4', fill: true, format: pct },
      { label: 'GPU memory', key: 'gpuMemUsedBytes', scale: 'bytes', color: '--series-5', format: formatBytes },
    ],
    scales: { '%': { range: [0, 100] }, bytes: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 1) * 1.1)] } },
    axes: [
      { scale: '%', format: (v) => `${v}%` },
      { scale: 'bytes', side: 'right', size: 70, format: (v) => formatBytes(v, 0) },
    ],
  },
  {
    name: 'power',
    title: 'Power',
    optional: true,
    series: [{ label: 'Power', key: 'powerWatts', scale: 'W', color: '--series-6', fill: true, format: formatWatts }],
    scales: { W: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 1) * 1.1)] } },
    axes: [{ scale: 'W', format: (v) => `${v} W` }],
  },
  {
    name: 'disk',
    title: 'Disk I/O',
    series: [
      { label: 'Read', key: 'diskReadBytesPerSec', scale: 'Bps', color: '--series-1', fill: true, format: formatRate },
      { label: 'Write', key: 'diskWriteBytesPerSec', scale: 'Bps', color: '--series-5', format: formatRate },
    ],
    scales: { Bps: { range: (_u, _min, max) => [0, Math.max(1024, (max ?? 1) * 1.1)] } },
    axes: [{ scale: 'Bps', size: 78, format: (v) => formatRate(v) }],
  },
  {
    name: 'network',
    title: 'Network',
    series: [
      { label: 'Receive', key: 'netRxBytesPerSec', scale: 'Bps', color: '--series-2', fill: true, format: formatRate },
      { label: 'Transmit', key: 'netTxBytesPerSec', scale: 'Bps', color: '--series-4', format: formatRate },
    ],
    scales: { Bps: { range: (_u, _min, max) => [0, Math.max(1024, (max ?? 1) * 1.1)] } },
    axes: [{ scale: 'Bps', size: 78, format: (v) => formatRate(v) }],
  },
];

/** Mounts the host view. Returns { destroy }. */
export function mountHost(root, feed, hostId, params) {
  let destroyed = false;
  let range = RANGES.find((r) => r.id === params.get('range')) ?? RANGES[0];
  let host = null;
  let refreshTimer = null;
  let hintTimer = null;
  let inFlight = null;
  let lastRefreshMs = 0;
  const charts = new Map(); // name → { chart, card }

  // --- skeleton -------------------------------------------------------------
  const title = h('h1', { 'data-testid': 'host-title', text: hostId });
  const subtitle = h('p', { class: 'muted subtitle' });
  const onlinePill = h('span', { class: 'pill' });
  const headerBadge = h('span');
  const error = h('p', { class: 'error', role: 'alert', hidden: true });

  const verdictBody = h('div', { class: 'verdict-body' });
  const inventoryBody = h('div', { class: 'inventory-body' });
  const evidenceHeading = h('h2', { id: 'evidence-heading', text: 'Evidence' });
  const evidenceNote = h('p', { class: 'muted' });
  const evidenceTbody = h('tbody');
  const evidenceTable = h(
    'table',
    { class: 'data-table evidence-table', 'data-testid': 'evidence-table', 'aria-labelledby': 'evidence-heading' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col', text: 'Signal' }),
        h('th', { scope: 'col', text: 'Value' }),
        h('th', { scope: 'col', text: 'Supports' }),
        h('th', { scope: 'col', class: 'num', text: 'Weight' }),
        h('th', { scope: 'col', text: 'Detail' }),
        h('th', { scope: 'col', text: 'Process' }),
      ),
    ),
    evidenceTbody,
  );
  const unavailableBox = h('div', { class: 'unavailable' });

  const rangeButtons = RANGES.map((r) =>
    h('button', {
      type: 'button',
      class: 'seg',
      'data-range': r.id,
      'aria-pressed': r === range ? 'true' : 'false',
      text: r.label,
      on: { click: () => setRange(r) },
    }),
  );
  const rangeNote = h('span', { class: 'muted range-note' });
  const timeline = h('div', { class: 'timeline', 'data-testid': 'verdict-timeline', role: 'img' });
  const timelineAxis = h('div', { class: 'timeline-axis muted' });
  const changesList = h('ul', { class: 'changes' });
  const chartGrid = h('div', { class: 'chart-grid' });
  const chartNote = h('p', { class: 'muted chart-note' });

  root.append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/', text: 'Fleet' }), h('span', { 'aria-hidden': 'true', text: ' / ' }), h('span', { 'aria-current': 'page', text: hostId })),
    h('header', { class: 'host-head' }, h('div', {}, h('div', { class: 'title-row' }, title, onlinePill, headerBadge), subtitle), reportPicker(hostId)),
    error,
    h(
      'div',
      { class: 'grid-2' },
      h('section', { class: 'card verdict-card', 'aria-labelledby': 'verdict-heading' }, h('h2', { id: 'verdict-heading', text: 'Current verdict' }), verdictBody),
      h('section', { class: 'card', 'aria-labelledby': 'inventory-heading' }, h('h2', { id: 'inventory-heading', text: 'Inventory' }), inventoryBody),
    ),
    h('section', { class: 'card', 'aria-labelledby': 'evidence-heading' }, evidenceHeading, evidenceNote, h('div', { class: 'table-scroll' }, evidenceTable), unavailableBox),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'activity-heading' },
      h(
        'div',
        { class: 'section-head' },
        h('h2', { id: 'activity-heading', text: 'Activity' }),
        h('div', { class: 'range' }, rangeNote, h('div', { class: 'segmented', role: 'group', 'aria-label': 'Time range' }, rangeButtons)),
      ),
      h('h3', { text: 'Verdict timeline' }),
      timeline,
      timelineAxis,
      h('details', { class: 'changes-box' }, h('summary', { text: 'Class changes' }), changesList),
      chartGrid,
      chartNote,
    ),
  );

  // --- rendering --------------------------------------------------------------
  function renderHeader() {
    const name = host?.hostname || hostId;
    setText(title, name);
    document.title = `${name} · Assay`;
    const crumb = root.querySelector('.crumbs [aria-current]');
    if (crumb) setText(crumb, name);
    setText(onlinePill, host?.online ? 'online' : 'offline');
    onlinePill.dataset.online = host?.online ? 'yes' : 'no';
    replaceChildren(headerBadge, host ? classBadge(host.verdict?.class ?? null) : null);
    if (host) {
      setText(
        subtitle,
        `${host.id} · agent ${host.agentVersion ?? '?'} · first seen ${formatTime(host.firstSeenMs)} · last seen ${formatAgo(host.lastSeenMs)}`,
      );
    }
  }

  function renderVerdict() {
    const v = host?.verdict;
    if (!v) {
      replaceChildren(
        verdictBody,
        h('div', { class: 'verdict-main' }, classBadge(null, { 'data-testid': 'verdict-class' }), h('span', { class: 'muted', text: 'Collecting samples — a verdict appears after the first classification window.' })),
      );
      return;
    }
    const scores = Object.entries(v.scores ?? {})
      .filter(([, s]) => typeof s === 'number' && Number.isFinite(s))
      .sort((a, b) => b[1] - a[1]);
    const maxScore = Math.max(1e-9, ...scores.map(([, s]) => s));
    const scoreRows = scores.map(([cls, s]) =>
      h(
        'li',
        { class: cls === v.class ? 'winner' : '' },
        h('span', { class: 'score-label', text: classLabel(cls) }),
        meter(s / maxScore, { label: `${classLabel(cls)} score`, cls }),
        h('span', { class: 'score-val num', text: formatValue(s) }),
      ),
    );
    const parts = Array.isArray(v.parts) && v.parts.length
      ? h(
          'div',
          { class: 'parts' },
          h('h3', { text: 'Parts' }),
          h(
            'ul',
            { class: 'parts-list' },
            v.parts.map((p) =>
              h(
                'li',
                {},
                h('div', { class: 'part-head' }, classBadge(p.class), h('span', { class: 'num', text: `${Math.round((p.share ?? 0) * 100)}% of busy resources` })),
                meter(p.share, { label: `${classLabel(p.class)} share`, cls: p.class }),
                p.processes?.length
                  ? h('p', { class: 'muted procs' }, p.processes.map((pr, i) => [i ? ', ' : '', h('code', { text: pr.name }), ` (${pr.pid})`]))
                  : null,
              ),
            ),
          ),
        )
      : null;
    const w = v.window ?? {};
    replaceChildren(
      verdictBody,
      h(
        'div',
        { class: 'verdict-main' },
        classBadge(v.class, { 'data-testid': 'verdict-class', class: 'badge badge-lg' }),
        h('span', { class: 'confidence' }, h('strong', { text: formatConfidence(v.confidence) }), h('span', { class: 'muted', text: ' confidence' })),
      ),
      h('p', {
        class: 'muted',
        text: `From ${w.samples ?? '?'} samples over ${formatDuration((w.toMs ?? 0) - (w.fromMs ?? 0))}, ending ${formatAgo(w.toMs)} · rules ${v.rulesVersion ?? '?'}`,
      }),
      h('h3', { text: 'Scores' }),
      h('ul', { class: 'scores' }, scoreRows),
      parts,
    );
  }

  function renderInventory() {
    const inv = host?.inventory;
    if (!inv) {
      replaceChildren(inventoryBody, h('p', { class: 'muted', text: 'No inventory reported yet.' }));
      return;
    }
    const item = (k, v) => [h('dt', { text: k }), h('dd', {}, v)];
    const gpus = Array.isArray(inv.gpus) ? inv.gpus : [];
    const disks = Array.isArray(inv.disks) ? inv.disks : [];
    replaceChildren(
      inventoryBody,
      h(
        'dl',
        { class: 'kv' },
        item('CPU', `${inv.cpuModel ?? '?'}`),
        item('Cores', `${inv.cpuPhysicalCores ?? '?'} physical · ${inv.cpuLogicalCores ?? '?'} logical`),
        item('Memory', formatBytes(inv.memoryTotalBytes)),
        item('OS', [inv.osDistro, inv.osRelease].filter(Boolean).join(' ') || '?'),
        item('Kernel', `${inv.kernel ?? '?'} (${inv.arch ?? '?'})`),
        item(
          'GPUs',
          gpus.length
            ? h('ul', { class: 'plain' }, gpus.map((g) => h('li', { text: `${g.vendor ?? ''} ${g.model ?? ''}`.trim() + (g.vramBytes ? ` · ${formatBytes(g.vramBytes, 0)}` : '') })))
            : h('span', { class: 'muted', text: 'none' }),
        ),
        item(
          'Disks',
          disks.length
            ? h('ul', { class: 'plain' }, disks.map((d) => h('li', { text: `${d.device ?? d.name ?? '?'} · ${d.type ?? '?'} · ${formatBytes(d.sizeBytes, 0)}${d.name && d.name !== d.device ? ` · ${d.name}` : ''}` })))
            : h('span', { class: 'muted', text: 'none' }),
        ),
      ),
    );
  }

  function renderEvidence() {
    const v = host?.verdict;
    const evidence = Array.isArray(v?.evidence) ? [...v.evidence] : [];
    const winners = new Set([v?.class, ...(v?.parts ?? []).map((p) => p.class)]);
    evidence.sort((a, b) => Number(winners.has(b.supports)) - Number(winners.has(a.supports)) || (b.weight ?? 0) - (a.weight ?? 0));
    setText(evidenceHeading, v ? `Evidence — why ${classLabel(v.class)}` : 'Evidence');
    setText(evidenceNote, v ? `${evidence.length} signal${evidence.length === 1 ? '' : 's'}, strongest first; highlighted rows support the verdict.` : '');
    const rows = evidence.map((e) =>
      h(
        'tr',
        { 'data-testid': 'evidence-row', class: winners.has(e.supports) ? 'supports-verdict' : '' },
        h('td', {}, h('code', { text: e.signal })),
        h('td', { class: 'value', text: formatValue(e.value) }),
        h('td', {}, classBadge(e.supports, { class: 'badge badge-sm' })),
        h('td', { class: 'num', text: formatValue(e.weight) }),
        h('td', { class: 'detail', text: e.detail ?? '' }),
        h('td', {}, e.process ? [h('code', { text: e.process.name }), h('span', { class: 'muted', text: ` pid ${e.process.pid}` })] : h('span', { class: 'muted', text: 'host' })),
      ),
    );
    if (rows.length === 0) {
      rows.push(h('tr', { class: 'empty' }, h('td', { colspan: 6, class: 'muted', text: v ? 'No evidence recorded for this verdict.' : 'No verdict yet.' })));
    }
    evidenceTbody.replaceChildren(...rows);
    const un = Array.isArray(v?.unavailable) ? v.unavailable : [];
    replaceChildren(
      unavailableBox,
      un.length
        ? [h('h3', { text: 'Signals not available on this host' }), h('ul', { class: 'chips', 'data-testid': 'unavailable' }, un.map((u) => h('li', { class: 'chip', text: u })))]
        : null,
    );
  }

  function ensureChart(def) {
    let entry = charts.get(def.name);
    if (entry) return entry;
    const legendId = `chart-title-${def.name}`;
    const card = h('figure', { class: 'chart', 'data-testid': `chart-${def.name}`, 'aria-labelledby': legendId }, h('figcaption', { id: legendId, text: def.title }));
    // Keep charts in definition order.
    const after = CHARTS.slice(CHARTS.indexOf(def) + 1).map((d) => charts.get(d.name)?.card).find(Boolean);
    chartGrid.insertBefore(card, after ?? null);
    const chart = timeChart(card, def);
    entry = { chart, card };
    charts.set(def.name, entry);
    return entry;
  }

  function renderCharts(samples, fromMs, toMs) {
    const rows = withGaps(samples);
    const xs = rows.map((r) => r.tsMs);
    const missing = [];
    for (const def of CHARTS) {
      const ys = def.series.map((s) => rows.map((r) => (r.gap ? null : num(r[s.key]))));
      const hasData = ys.some((col) => col.some((v) => v !== null));
      if (def.optional && !hasData && !charts.has(def.name)) {
        missing.push(def.title);
        continue;
      }
      ensureChart(def).chart.update(xs, ys, { fromMs, toMs });
    }
    setText(chartNote, missing.length ? `Not shown: ${missing.join(', ')} — this host reports no such data.` : '');
    setText(rangeNote, `${samples.length} samples`);
  }

  function renderTimeline(verdicts, fromMs, toMs) {
    const span = Math.max(1, toMs - fromMs);
    const sorted = verdicts.filter((v) => Number.isFinite(v.tsMs)).sort((a, b) => a.tsMs - b.tsMs);
    const segs = [];
    for (let i = 0; i < sorted.length; i++) {
      const v = sorted[i];
      const start = Math.max(fromMs, v.tsMs);
      const end = Math.min(toMs, i + 1 < sorted.length ? sorted[i + 1].tsMs : toMs);
      if (end <= start) continue;
      const prev = segs[segs.length - 1];
      if (prev && prev.cls === v.class && Math.abs(prev.end - start) < 1) prev.end = end;
      else segs.push({ cls: v.class, start, end, confidence: v.confidence });
    }
    timeline.replaceChildren(
      ...segs.map((s) => {
        const el = h('span', {
          class: 'timeline-seg',
          title: `${classLabel(s.cls)} · ${formatTime(s.start)} → ${formatTime(s.end)}`,
          style: { left: `${((s.start - fromMs) / span) * 100}%`, width: `${Math.max(0.3, ((s.end - s.start) / span) * 100)}%` },
        });
        el.dataset.class = isKnownClass(s.cls) ? s.cls : 'unknown';
        return el;
      }),
    );
    if (segs.length === 0) timeline.append(h('span', { class: 'timeline-empty muted', text: 'No verdicts in this range' }));
    timeline.setAttribute(
      'aria-label',
      segs.length ? `Verdict timeline: ${segs.map((s) => `${classLabel(s.cls)} from ${formatTime(s.start)}`).join('; ')}` : 'No verdicts in this range',
    );
    replaceChildren(timelineAxis, h('span', { text: formatTime(fromMs) }), h('span', { text: formatTime(toMs) }));

    const changes = [];
    for (let i = 0; i < sorted.length; i++) {
      if (i === 0 || sorted[i].class !== sorted[i - 1].class) changes.push({ v: sorted[i], from: i ? sorted[i - 1].class : null });
    }
    replaceChildren(
      changesList,
      changes.length
        ? changes.reverse().slice(0, 50).map(({ v, from }) =>
            h(
              'li',
              {},
              h('time', { datetime: new Date(v.tsMs).toISOString(), text: formatTime(v.tsMs) }),
              ' ',
              from ? [classBadge(from, { class: 'badge badge-sm' }), ' → '] : null,
              classBadge(v.class, { class: 'badge badge-sm' }),
              h('span', { class: 'muted', text: ` ${formatConfidence(v.confidence)}` }),
            ),
          )
        : h('li', { class: 'muted', text: 'No class changes in this range.' }),
    );
  }

  // --- data -------------------------------------------------------------------
  async function refresh() {
    if (inFlight) return inFlight;
    lastRefreshMs = Date.now();
    inFlight = (async () => {
      const toMs = Date.now();
      const fromMs = toMs - range.ms;
      try {
        const [h1, samples, verdicts] = await Promise.all([
          fetchHost(hostId),
          fetchSamples(hostId, fromMs, toMs),
          fetchVerdicts(hostId, fromMs, toMs).catch(() => []),
        ]);
        if (destroyed) return;
        host = h1;
        error.hidden = true;
        // A host younger than the range is drawn from its first sighting (at least a minute),
        // so a new host's data is not a sliver at the right edge.
        const firstMs = Number.isFinite(h1.firstSeenMs) ? h1.firstSeenMs - 2000 : fromMs;
        const startMs = Math.max(fromMs, Math.min(firstMs, toMs - 60_000));
        renderHeader();
        renderVerdict();
        renderInventory();
        renderEvidence();
        renderTimeline(verdicts, startMs, toMs);
        renderCharts(samples, startMs, toMs);
      } catch (err) {
        if (destroyed) return;
        error.hidden = false;
        setText(error, err.status === 404 ? `No host with id ${hostId}.` : `Could not load host data (${err.message}). Retrying…`);
      }
    })().finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  function schedule() {
    clearInterval(refreshTimer);
    refreshTimer = setInterval(() => {
      if (!document.hidden) refresh();
    }, range.refreshMs);
  }

  function setRange(r) {
    range = r;
    for (const b of rangeButtons) b.setAttribute('aria-pressed', b.dataset.range === r.id ? 'true' : 'false');
    const q = r === RANGES[0] ? '' : `?range=${r.id}`;
    history.replaceState(null, '', `#/hosts/${encodeURIComponent(hostId)}${q}`);
    schedule();
    refresh();
  }

  const offHint = feed.onHostHint((id) => {
    // Hints can arrive every second; short ranges follow them, long ones wait for the timer.
    if (id !== hostId || hintTimer || range.ms > 60 * 60_000 || document.hidden) return;
    if (Date.now() - lastRefreshMs < 2000) return;
    hintTimer = setTimeout(() => {
      hintTimer = null;
      refresh();
    }, 1000);
  });

  refresh();
  schedule();

  return {
    title: hostId,
    destroy() {
      destroyed = true;
      clearInterval(refreshTimer);
      clearTimeout(hintTimer);
      offHint();
      for (const { chart } of charts.values()) chart.destroy();
      charts.clear();
    },
  };
}
