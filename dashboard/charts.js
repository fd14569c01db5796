// Time-series charts on uPlot (served locally from /vendor/uplot/).
//
//   const chart = timeChart(container, spec, { onZoom(fromMs, toMs), onReset() });
//   chart.update(xsMs, [ys1, ys2], { fromMs, toMs }, marks);
//   chart.destroy();
//
// Series entries: { label, scale, color (CSS var name), fill?, dash?, format(v) }.
// Axis entries:   { scale, label, side?: 'left'|'right', ticks?: 'pct'|'bytes', format(v) }.
// An axis alone on its chart is drawn on both sides, so every chart reads from either edge.
// Marks: [{ tsMs, cls, text }]: verdict changes, drawn as vertical lines in the class colour
// (the --class-<name> properties of generated/classes.css, from collector/classes.ts).
// Dragging across a chart selects a time range (onZoom); a double click asks for the reset.

import uPlot from '/vendor/uplot/uPlot.esm.js';
import { cssVar, h } from './dom.js';
import { formatTime } from './format.js';

const HEIGHT = 190;

function alpha(color, a) {
  // Works for #rrggbb colours (all our CSS chart colours are hex).
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = parseInt(m[1], 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

function lastNumber(arr) {
  if (!arr) return null;
  for (let i = arr.length - 1; i >= 0; i--) if (typeof arr[i] === 'number' && Number.isFinite(arr[i])) return arr[i];
  return null;
}

/** Tick steps people read at a glance: percentages in fives and tens, bytes in powers of two. */
const INCRS = {
  pct: [1, 2, 5, 10, 20, 25, 50],
  bytes: Array.from({ length: 6 }, (_, k) => [1, 2, 4, 8, 16, 32, 64, 128, 256, 512].map((m) => m * 1024 ** k)).flat(),
};

const p2 = (n) => String(n).padStart(2, '0');

/** 24-hour tick labels: seconds when ticks are seconds apart, the date where a day begins. */
export function timeTicks(splits, incrSec) {
  return splits.map((s, i) => {
    if (s === null || s === undefined) return '';
    const d = new Date(s * 1000);
    const date = `${p2(d.getMonth() + 1)}-${p2(d.getDate())}`;
    if (incrSec >= 86_400) return date;
    const hm = `${p2(d.getHours())}:${p2(d.getMinutes())}`;
    const prev = i > 0 && splits[i - 1] !== null ? new Date(splits[i - 1] * 1000) : null;
    const newDay = prev && prev.getDate() !== d.getDate();
    if (incrSec < 60) return `${hm}:${p2(d.getSeconds())}`;
    return newDay || (incrSec >= 3600 && d.getHours() === 0 && d.getMinutes() === 0) ? `${date}\n${hm}` : hm;
  });
}

/**
 * Creates a uPlot time chart inside `container` (which keeps its data-testid).
 * Returns { update, destroy, plot }.
 */
export function timeChart(container, spec, handlers = {}) {
  const axisColor = cssVar('--chart-axis') || '#888';
  const gridColor = cssVar('--chart-grid') || 'rgba(128,128,128,0.2)';
  const fontFamily = cssVar('--font-ui') || 'system-ui, sans-serif';
  const font = `11px ${fontFamily}`;
  const labelFont = `600 11px ${fontFamily}`;
  let range = { fromMs: Date.now() - 15 * 60_000, toMs: Date.now() };
  let marks = [];

  const plotBox = h('div', { class: 'chart-plot' });
  container.append(plotBox);

  const scales = {
    x: { time: true, range: () => [range.fromMs / 1000, range.toMs / 1000] },
  };
  for (const [name, s] of Object.entries(spec.scales ?? {})) scales[name] = s;

  const specAxes = spec.axes ?? [];
  // One axis: mirror it on the right (same scale, ticks and label) so both edges are labelled.
  const axisDefs = specAxes.length === 1 ? [specAxes[0], { ...specAxes[0], side: 'right', mirror: true }] : specAxes;
  const axes = [
    {
      stroke: axisColor,
      font,
      grid: { stroke: gridColor, width: 1 },
      ticks: { stroke: gridColor, width: 1, size: 4 },
      values: (_u, splits, _ax, _space, incr) => timeTicks(splits, incr),
      size: 42,
    },
    ...axisDefs.map((a) => ({
      scale: a.scale,
      side: a.side === 'right' ? 1 : 3,
      stroke: axisColor,
      font,
      label: a.label,
      labelFont,
      labelSize: 16,
      labelGap: 2,
      size: a.size ?? 56,
      incrs: a.ticks ? INCRS[a.ticks] : undefined,
      space: 28,
      grid: { show: a.side !== 'right', stroke: gridColor, width: 1 },
      ticks: { show: false },
      values: a.format ? (_u, vals) => vals.map((v) => (v === null ? '' : a.format(v))) : undefined,
    })),
  ];

  const series = [
    { label: 'Time', value: (_u, v) => (v === null ? 'latest' : formatTime(v * 1000)) },
    ...spec.series.map((s) => {
      const color = cssVar(s.color) || '#888';
      return {
        label: s.label,
        scale: s.scale,
        stroke: color,
        width: s.width ?? 1.5,
        dash: s.dash,
        fill: s.fill ? alpha(color, 0.14) : undefined,
        spanGaps: false,
        points: { show: false },
        // With the cursor off the chart uPlot passes idx null: show the latest value then.
        value: (u, v, sidx, idx) => {
          const shown = idx === null || idx === undefined ? lastNumber(u.data[sidx]) : v;
          return shown === null || shown === undefined ? '—' : s.format ? s.format(shown) : String(shown);
        },
      };
    }),
  ];

  /** Verdict changes: a dashed vertical line in the class colour, with a small flag on top. */
  function drawMarks(u) {
    if (!marks.length) return;
    const { ctx, bbox } = u;
    const dpr = window.devicePixelRatio || 1;
    ctx.save();
    for (const m of marks) {
      const x = Math.round(u.valToPos(m.tsMs / 1000, 'x', true));
      if (x < bbox.left || x > bbox.left + bbox.width) continue;
      const color = cssVar(`--class-${m.cls}`) || cssVar('--class-unknown') || '#888';
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = 2 * dpr;
      ctx.setLineDash([5 * dpr, 3 * dpr]);
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.beginPath();
      ctx.moveTo(x - 5 * dpr, bbox.top);
      ctx.lineTo(x + 5 * dpr, bbox.top);
      ctx.lineTo(x, bbox.top + 7 * dpr);
      ctx.closePath();
      ctx.fill();
    }
    ctx.restore();
  }

  const opts = {
    width: Math.max(200, container.clientWidth - 2),
    height: HEIGHT,
    series,
    scales,
    axes,
    legend: { live: true },
    cursor: { sync: { key: 'assay-host' }, drag: { x: true, y: false, setScale: false }, points: { size: 6 } },
    hooks: {
      draw: [drawMarks],
      setSelect: [
        (u) => {
          const sel = u.select;
          if (sel.width < 4) return;
          const fromMs = u.posToVal(sel.left, 'x') * 1000;
          const toMs = u.posToVal(sel.left + sel.width, 'x') * 1000;
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          if (toMs - fromMs >= 1000) handlers.onZoom?.(Math.round(fromMs), Math.round(toMs));
        },
      ],
    },
  };
  container.dataset.axes = axisDefs.map((a) => `${a.side === 'right' ? 'right' : 'left'}: ${a.label ?? ''}`).join(' | ');
  const empty = [[], ...spec.series.map(() => [])];
  const plot = new uPlot(opts, empty, plotBox);
  plot.over.addEventListener('dblclick', () => handlers.onReset?.());
  plot.over.title = 'Drag across the chart to zoom into a time range; double-click to go back';

  const ro = new ResizeObserver(() => {
    const w = Math.max(200, container.clientWidth - 2);
    if (Math.abs(w - plot.width) > 1) plot.setSize({ width: w, height: HEIGHT });
  });
  ro.observe(container);

  return {
    plot,
    update(xsMs, ys, newRange, newMarks) {
      if (newRange) range = newRange;
      if (newMarks) marks = newMarks;
      plot.setData([xsMs.map((t) => t / 1000), ...ys]);
      container.dataset.points = String(xsMs.length);
      container.dataset.marks = String(marks.filter((m) => m.tsMs >= range.fromMs && m.tsMs <= range.toMs).length);
    },
    destroy() {
      ro.disconnect();
      plot.destroy();
      plotBox.remove();
    },
  };
}

/**
 * Inserts a null row wherever the time gap is much larger than the usual
 * sampling interval, so lines break where the agent was silent.
 * `rows` are objects with tsMs; returns { xs, rows } with null rows marked.
 */
export function withGaps(rows) {
  if (rows.length < 3) return rows;
  const dts = [];
  for (let i = 1; i < rows.length; i++) dts.push(rows[i].tsMs - rows[i - 1].tsMs);
  const sorted = [...dts].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] || 1000;
  const limit = Math.max(median * 4, 5000);
  const out = [rows[0]];
  for (let i = 1; i < rows.length; i++) {
    if (rows[i].tsMs - rows[i - 1].tsMs > limit) out.push({ tsMs: rows[i - 1].tsMs + median, gap: true });
    out.push(rows[i]);
  }
  return out;
}
