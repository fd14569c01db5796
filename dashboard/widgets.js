// Small reusable view pieces: class badges, sparklines, score bars.

import { h, svg, setText } from './dom.js';
import { classLabel, isKnownClass } from './classes.js';

/** A coloured class badge. `data-class` drives the colour in style.css. */
export function classBadge(cls, attrs = {}) {
  const el = h('span', { class: 'badge', ...attrs });
  updateClassBadge(el, cls);
  return el;
}

export function updateClassBadge(el, cls) {
  const known = isKnownClass(cls);
  el.dataset.class = known ? cls : cls ? 'unknown' : 'pending';
  // The raw class id travels as a data attribute (tests, scripts); people read the label.
  if (cls) el.dataset.value = String(cls);
  else delete el.dataset.value;
  setText(el, classLabel(cls));
  el.title = cls ? String(cls) : 'no verdict yet';
}

const SPARK_W = 84;
const SPARK_H = 22;

/**
 * An inline SVG sparkline. `values` may contain nulls (gaps). `max` fixes the
 * top of the scale (100 for percentages); otherwise the data maximum is used.
 */
export function sparkline(label) {
  const el = svg('svg', {
    class: 'spark',
    viewBox: `0 0 ${SPARK_W} ${SPARK_H}`,
    width: SPARK_W,
    height: SPARK_H,
    preserveAspectRatio: 'none',
    role: 'img',
    'aria-label': label,
  });
  return el;
}

export function updateSparkline(el, values, { max, label } = {}) {
  const nums = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  el.replaceChildren();
  if (label) el.setAttribute('aria-label', label);
  if (nums.length < 2) {
    el.append(svg('line', { class: 'spark-empty', x1: 0, x2: SPARK_W, y1: SPARK_H - 1, y2: SPARK_H - 1 }));
    return;
  }
  const top = max ?? Math.max(...nums, 1e-9);
  const n = values.length;
  const x = (i) => (n === 1 ? 0 : (i / (n - 1)) * SPARK_W);
  const y = (v) => SPARK_H - 1 - Math.min(1, Math.max(0, v / top)) * (SPARK_H - 2);
  // Split into runs of non-null values so gaps stay visible.
  let run = [];
  const runs = [];
  values.forEach((v, i) => {
    if (typeof v === 'number' && Number.isFinite(v)) run.push([x(i), y(v)]);
    else if (run.length) {
      runs.push(run);
      run = [];
    }
  });
  if (run.length) runs.push(run);
  for (const r of runs) {
    const pts = r.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ');
    if (r.length > 1) {
      const area = `${r[0][0].toFixed(1)},${SPARK_H} ${pts} ${r[r.length - 1][0].toFixed(1)},${SPARK_H}`;
      el.append(svg('polygon', { class: 'spark-area', points: area }));
    }
    el.append(svg('polyline', { class: 'spark-line', points: pts }));
  }
}

/** Horizontal bar for a 0..1 value, with a visible text value. */
export function meter(value, { label, cls } = {}) {
  const v = Number.isFinite(value) ? Math.max(0, Math.min(1, value)) : 0;
  const fill = h('span', { class: 'meter-fill', style: { width: `${(v * 100).toFixed(1)}%` } });
  if (cls) fill.dataset.class = isKnownClass(cls) || cls === 'idle' ? cls : 'unknown';
  return h(
    'span',
    {
      class: 'meter',
      role: 'meter',
      'aria-valuemin': 0,
      'aria-valuemax': 100,
      'aria-valuenow': Math.round(v * 100),
      'aria-label': label ?? undefined,
    },
    fill,
  );
}
