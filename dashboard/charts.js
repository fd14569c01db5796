// Time-series charts on uPlot (served locally from /vendor/uplot/).
//
//   const chart = timeChart(container, { title, series: [...], scales, axes });
//   chart.update(xsMs, [ys1, ys2], { fromMs, toMs });
//   chart.destroy();
//
// Series entries: { label, scale, color (CSS var name), fill?, dash?, format(v) }.
// Axis entries:   { scale, side?: 'left'|'right', format(v) }.

import uPlot from '/vendor/uplot/uPlot.esm.js';
import { cssVar, h } from './dom.js';

const HEIGHT = 170;

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

/**
 * Creates a uPlot time chart inside `container` (which keeps its data-testid).
 * Returns { update, destroy, plot }.
 */
export function timeChart(container, spec) {
  const axisColor = cssVar('--chart-axis') || '#888';
  const gridColor = cssVar('--chart-grid') || 'rgba(128,128,128,0.2)';
  const font = `11px ${cssVar('--font-ui') || 'system-ui, sans-serif'}`;
  let range = { fromMs: Date.now() - 15 * 60_000, toMs: Date.now() };

  const plotBox = h('div', { class: 'chart-plot' });
  container.append(plotBox);

  const scales = {
    x: { time: true, range: () => [range.fromMs / 1000, range.toMs / 1000] },
  };
  for (const [name, s] of Object.entries(spec.scales ?? {})) scales[name] = s;

  const axes = [
    {
      stroke: axisColor,
      font,
      grid: { stroke: gridColor, width: 1 },
      ticks: { stroke: gridColor, width: 1, size: 4 },
    },
    ...(spec.axes ?? []).map((a) => ({
      scale: a.scale,
      side: a.side === 'right' ? 1 : 3,
      stroke: axisColor,
      font,
      size: a.size ?? 56,
      grid: { show: a.side !== 'right', stroke: gridColor, width: 1 },
      ticks: { show: false },
      values: a.format ? (_u, vals) => vals.map((v) => (v === null ? '' : a.format(v))) : undefined,
    })),
  ];

  const series = [
    { label: 'Time', value: (_u, v) => (v === null ? 'latest' : new Date(v * 1000).toLocaleTimeString()) },
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

  const opts = {
    width: Math.max(200, container.clientWidth - 2),
    height: HEIGHT,
    series,
    scales,
    axes,
    legend: { live: true },
    cursor: { sync: { key: 'assay-host' }, drag: { x: false, y: false }, points: { size: 6 } },
  };
  const empty = [[], ...spec.series.map(() => [])];
  const plot = new uPlot(opts, empty, plotBox);

  const ro = new ResizeObserver(() => {
    const w = Math.max(200, container.clientWidth - 2);
    if (Math.abs(w - plot.width) > 1) plot.setSize({ width: w, height: HEIGHT });
  });
  ro.observe(container);

  return {
    plot,
    update(xsMs, ys, newRange) {
      if (newRange) range = newRange;
      plot.setData([xsMs.map((t) => t / 1000), ...ys]);
      container.dataset.points = String(xsMs.length);
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
