// Host page: the activity section — time range (presets, drag-to-zoom on any chart, reset), the
// verdict timeline with its class changes, and the charts with those changes marked on them.

import { h, setText, replaceChildren } from '../../dom.js';
import { classLabel, isKnownClass } from '../../classes.js';
import { formatConfidence, formatTime } from '../../format.js';
import { classBadge } from '../../widgets.js';
import { timeChart, withGaps } from '../../charts.js';
import { CHARTS, RANGES } from './chart-defs.js';

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Class changes in time order: the first verdict, then every verdict whose class differs from the one before. */
export function classChanges(verdicts) {
  const sorted = verdicts.filter((v) => Number.isFinite(v.tsMs)).sort((a, b) => a.tsMs - b.tsMs);
  const out = [];
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i].class !== sorted[i - 1].class) out.push({ v: sorted[i], from: i ? sorted[i - 1].class : null });
  }
  return { sorted, changes: out };
}

/** handlers: { onPreset(range), onZoom(fromMs, toMs), onReset() } */
export function activitySection(handlers) {
  const charts = new Map(); // name → { chart, card }
  const presetButtons = RANGES.map((r) =>
    h('button', { type: 'button', class: 'seg', 'data-range': r.id, 'aria-pressed': 'false', text: r.label, on: { click: () => handlers.onPreset(r) } }),
  );
  const resetButton = h('button', { type: 'button', class: 'btn-reset', 'data-testid': 'range-reset', hidden: true, text: 'Reset zoom', on: { click: () => handlers.onReset() } });
  const rangeNote = h('span', { class: 'muted range-note', 'data-testid': 'range-note' });
  const timeline = h('div', { class: 'timeline', 'data-testid': 'verdict-timeline', role: 'img' });
  const timelineAxis = h('div', { class: 'timeline-axis muted' });
  const changesList = h('ul', { class: 'changes' });
  const chartGrid = h('div', { class: 'chart-grid' });
  const chartNote = h('p', { class: 'muted chart-note' });
  const el = h(
    'section',
    { class: 'card', 'aria-labelledby': 'activity-heading' },
    h(
      'div',
      { class: 'section-head' },
      h('h2', { id: 'activity-heading', text: 'Activity' }),
      h('div', { class: 'range' }, rangeNote, resetButton, h('div', { class: 'segmented', role: 'group', 'aria-label': 'Time range' }, presetButtons)),
    ),
    h('h3', { text: 'Verdict timeline' }),
    timeline,
    timelineAxis,
    h('details', { class: 'changes-box' }, h('summary', { text: 'Class changes' }), changesList),
    chartGrid,
    h('p', { class: 'muted chart-help', text: 'Drag across a chart to zoom into a time range; double-click or “Reset zoom” to go back. Dashed vertical lines mark class changes, in the class colour.' }),
    chartNote,
  );

  function ensureChart(def) {
    let entry = charts.get(def.name);
    if (entry) return entry;
    const legendId = `chart-title-${def.name}`;
    const card = h('figure', { class: 'chart', 'data-testid': `chart-${def.name}`, 'aria-labelledby': legendId }, h('figcaption', { id: legendId, text: def.title }));
    // Keep charts in definition order.
    const after = CHARTS.slice(CHARTS.indexOf(def) + 1).map((d) => charts.get(d.name)?.card).find(Boolean);
    chartGrid.insertBefore(card, after ?? null);
    const chart = timeChart(card, def, { onZoom: handlers.onZoom, onReset: handlers.onReset });
    entry = { chart, card };
    charts.set(def.name, entry);
    return entry;
  }

  function renderCharts(samples, fromMs, toMs, marks) {
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
      ensureChart(def).chart.update(xs, ys, { fromMs, toMs }, marks);
    }
    setText(chartNote, missing.length ? `Not shown: ${missing.join(', ')} — this host reports no such data.` : '');
  }

  function renderTimeline(sorted, changes, fromMs, toMs) {
    const span = Math.max(1, toMs - fromMs);
    const segs = [];
    for (let i = 0; i < sorted.length; i++) {
      const v = sorted[i];
      const start = Math.max(fromMs, v.tsMs);
      const end = Math.min(toMs, i + 1 < sorted.length ? sorted[i + 1].tsMs : toMs);
      if (end <= start) continue;
      const prev = segs[segs.length - 1];
      if (prev && prev.cls === v.class && Math.abs(prev.end - start) < 1) prev.end = end;
      else segs.push({ cls: v.class, start, end });
    }
    timeline.replaceChildren(
      ...segs.map((s) => {
        const seg = h('span', {
          class: 'timeline-seg',
          title: `${classLabel(s.cls)} · ${formatTime(s.start)} → ${formatTime(s.end)}`,
          style: { left: `${((s.start - fromMs) / span) * 100}%`, width: `${Math.max(0.3, ((s.end - s.start) / span) * 100)}%` },
        });
        seg.dataset.class = isKnownClass(s.cls) ? s.cls : 'unknown';
        return seg;
      }),
    );
    if (segs.length === 0) timeline.append(h('span', { class: 'timeline-empty muted', text: 'No verdicts in this range' }));
    timeline.setAttribute('aria-label', segs.length ? `Verdict timeline: ${segs.map((s) => `${classLabel(s.cls)} from ${formatTime(s.start)}`).join('; ')}` : 'No verdicts in this range');
    replaceChildren(timelineAxis, h('span', { text: formatTime(fromMs) }), h('span', { text: formatTime(toMs) }));
    const shown = changes.filter(({ v, from }) => v.tsMs <= toMs && (v.tsMs >= fromMs || from === null));
    replaceChildren(
      changesList,
      shown.length
        ? [...shown].reverse().slice(0, 50).map(({ v, from }) =>
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

  return {
    el,
    /** view: { samples, verdicts, fromMs, toMs, preset (a RANGES entry or null when zoomed) } */
    render({ samples, verdicts, fromMs, toMs, preset }) {
      for (const b of presetButtons) b.setAttribute('aria-pressed', preset && b.dataset.range === preset.id ? 'true' : 'false');
      resetButton.hidden = !!preset;
      setText(rangeNote, `${preset ? `last ${preset.label}` : `${formatTime(fromMs)} – ${formatTime(toMs)}`} · ${samples.length} points`);
      const { sorted, changes } = classChanges(verdicts);
      renderTimeline(sorted, changes, fromMs, toMs);
      // Marks: changes after the first verdict (the first one is where the history starts, not a
      // change); the verdict in force before the range only says what the range starts with.
      const marks = changes.filter((c) => c.from !== null && c.v.tsMs >= fromMs).map(({ v }) => ({ tsMs: v.tsMs, cls: isKnownClass(v.class) ? v.class : 'unknown' }));
      renderCharts(samples, fromMs, toMs, marks);
    },
    destroy() {
      for (const { chart } of charts.values()) chart.destroy();
      charts.clear();
    },
  };
}
