// What the host page charts: which sample fields go on which chart, scale and axis, and the time
// ranges it offers. Data only; activity.js draws them with charts.js.

import { formatBytes, formatPct, formatRate, formatWatts } from '../../format.js';

export const RANGES = [
  { id: '15m', label: '15 min', ms: 15 * 60_000, refreshMs: 5_000 },
  { id: '1h', label: '1 h', ms: 60 * 60_000, refreshMs: 10_000 },
  { id: '6h', label: '6 h', ms: 6 * 60 * 60_000, refreshMs: 30_000 },
  { id: '24h', label: '24 h', ms: 24 * 60 * 60_000, refreshMs: 60_000 },
  { id: '7d', label: '7 d', ms: 7 * 24 * 60 * 60_000, refreshMs: 300_000 },
];

const pct = (v) => formatPct(v, 1);
const loadFmt = (v) => (v >= 10 ? v.toFixed(0) : v.toFixed(2));
const tickPct = (v) => `${v} %`;
const tickBytes = (v) => formatBytes(v, 0);
const tickRate = (v) => `${formatBytes(v, 0)}/s`;
const upTo = (floor, headroom) => (_u, _min, max) => [0, Math.max(floor, (max ?? floor) * headroom)];

export const CHARTS = [
  {
    name: 'cpu',
    title: 'CPU',
    series: [
      { label: 'CPU %', key: 'cpuPct', scale: '%', color: '--series-1', fill: true, format: pct },
      { label: 'Load (1 min)', key: 'load1', scale: 'load', color: '--series-2', format: loadFmt },
    ],
    scales: { '%': { range: [0, 100] }, load: { range: upTo(1, 1.1) } },
    axes: [
      { scale: '%', label: 'CPU (%)', ticks: 'pct', format: tickPct },
      { scale: 'load', label: 'load (runnable tasks)', side: 'right', size: 48, format: (v) => String(+v.toFixed(2)) },
    ],
  },
  {
    name: 'memory',
    title: 'Memory',
    series: [
      { label: 'Used', key: 'memUsedBytes', scale: 'bytes', color: '--series-3', fill: true, format: formatBytes },
      { label: 'Total', key: 'memTotalBytes', scale: 'bytes', color: '--chart-axis', dash: [4, 4], width: 1, format: formatBytes },
    ],
    scales: { bytes: { range: upTo(1, 1.05) } },
    axes: [{ scale: 'bytes', label: 'memory (bytes)', ticks: 'bytes', size: 70, format: tickBytes }],
  },
  {
    name: 'gpu',
    title: 'GPU',
    optional: true,
    series: [
      { label: 'GPU util %', key: 'gpuUtilPct', scale: '%', color: '--series-4', fill: true, format: pct },
      { label: 'GPU memory', key: 'gpuMemUsedBytes', scale: 'bytes', color: '--series-5', format: formatBytes },
    ],
    scales: { '%': { range: [0, 100] }, bytes: { range: upTo(1, 1.1) } },
    axes: [
      { scale: '%', label: 'utilisation (%)', ticks: 'pct', format: tickPct },
      { scale: 'bytes', label: 'GPU memory (bytes)', ticks: 'bytes', side: 'right', size: 70, format: tickBytes },
    ],
  },
  {
    name: 'power',
    title: 'Power',
    optional: true,
    series: [{ label: 'Power', key: 'powerWatts', scale: 'W', color: '--series-6', fill: true, format: formatWatts }],
    scales: { W: { range: upTo(1, 1.1) } },
    axes: [{ scale: 'W', label: 'power (W)', format: (v) => `${v} W` }],
  },
  {
    name: 'disk',
    title: 'Disk I/O',
    series: [
      { label: 'Read', key: 'diskReadBytesPerSec', scale: 'Bps', color: '--series-1', fill: true, format: formatRate },
      { label: 'Write', key: 'diskWriteBytesPerSec', scale: 'Bps', color: '--series-5', format: formatRate },
    ],
    scales: { Bps: { range: upTo(1024, 1.1) } },
    axes: [{ scale: 'Bps', label: 'disk (bytes/s)', ticks: 'bytes', size: 78, format: tickRate }],
  },
  {
    name: 'network',
    title: 'Network',
    series: [
      { label: 'Receive', key: 'netRxBytesPerSec', scale: 'Bps', color: '--series-2', fill: true, format: formatRate },
      { label: 'Transmit', key: 'netTxBytesPerSec', scale: 'Bps', color: '--series-4', format: formatRate },
    ],
    scales: { Bps: { range: upTo(1024, 1.1) } },
    axes: [{ scale: 'Bps', label: 'network (bytes/s)', ticks: 'bytes', size: 78, format: tickRate }],
  },
];
