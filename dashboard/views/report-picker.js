// The host page's report maker: pick the period (1 h / 24 h / 7 d, or a custom from/to in local
// time), then open the signed HTML report or its JSON. The links are built when clicked, so a
// preset always ends "now". A link cannot send a header, so with a token the click fetches the
// report with it and saves the file (the URL never holds the token).

import { h, setText } from '../dom.js';
import { authHeaders, hasToken } from '../token.js';

const PRESETS = [
  { id: '1h', label: 'Last 1 h', ms: 60 * 60_000 },
  { id: '24h', label: 'Last 24 h', ms: 24 * 60 * 60_000 },
  { id: '7d', label: 'Last 7 d', ms: 7 * 24 * 60 * 60_000 },
];
const DEFAULT_PRESET = '24h';

/** A Date as the value of an <input type="datetime-local"> (local time, minutes). */
function localInputValue(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/** The chosen period as Unix ms, or an error sentence. */
export function chosenPeriod(choice, fromValue, toValue, nowMs) {
  const preset = PRESETS.find((p) => p.id === choice);
  if (preset) return { fromMs: nowMs - preset.ms, toMs: nowMs };
  const fromMs = fromValue ? new Date(fromValue).getTime() : NaN;
  const toMs = toValue ? new Date(toValue).getTime() : NaN;
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) return { error: 'Give both a start and an end.' };
  if (!(toMs > fromMs)) return { error: 'The period must end after it starts.' };
  return { fromMs, toMs };
}

async function downloadReport(path, fallbackName) {
  const res = await fetch(path, { headers: authHeaders(), cache: 'no-store' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function reportPicker(hostId) {
  const select = h(
    'select',
    { 'data-testid': 'report-period', 'aria-label': 'Report period' },
    ...PRESETS.map((p) => h('option', { value: p.id, text: p.label, selected: p.id === DEFAULT_PRESET })),
    h('option', { value: 'custom', text: 'Custom…' }),
  );
  const now = Date.now();
  const from = h('input', { type: 'datetime-local', 'data-testid': 'report-from', 'aria-label': 'Report from', value: localInputValue(now - 24 * 60 * 60_000) });
  const to = h('input', { type: 'datetime-local', 'data-testid': 'report-to', 'aria-label': 'Report to', value: localInputValue(now) });
  const custom = h('span', { class: 'report-custom', hidden: true }, from, h('span', { class: 'muted', text: ' – ' }), to);
  const note = h('span', { class: 'report-note muted', role: 'status', 'data-testid': 'report-note' });
  const link = (format, text, testid) =>
    h('a', {
      href: '#',
      target: '_blank',
      rel: 'noopener',
      'data-testid': testid,
      text,
      on: {
        click: (ev) => {
          const p = chosenPeriod(select.value, from.value, to.value, Date.now());
          if (p.error) {
            ev.preventDefault();
            setText(note, p.error);
            return;
          }
          setText(note, '');
          const path = `/api/hosts/${encodeURIComponent(hostId)}/report?format=${format}&from=${p.fromMs}&to=${p.toMs}`;
          ev.currentTarget.href = path;
          if (!hasToken()) return;
          ev.preventDefault();
          downloadReport(path, `assay-report-${hostId}.${format}`).catch((err) => setText(note, `Report failed: ${err.message}`));
        },
      },
    });
  select.addEventListener('change', () => {
    custom.hidden = select.value !== 'custom';
    setText(note, '');
  });
  return h(
    'div',
    { class: 'report-links', 'data-testid': 'report-picker' },
    h('span', { class: 'muted', text: 'Report: ' }),
    select,
    custom,
    h('span', { text: ' ' }),
    link('html', 'Make report', 'report-link'),
    h('span', { class: 'muted', text: ' · ' }),
    link('json', 'signed JSON', 'report-json'),
    note,
    h('div', { class: 'muted report-hint', text: "Time before the agent's enrollment is shown as such and not counted against coverage." }),
  );
}
