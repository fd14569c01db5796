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
// 1 h: a 1 Hz host's 24 h passes the collector's default report limit (--report-max-bytes, ~9 h).
const DEFAULT_PRESET = '1h';

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

/** The collector's error sentence for a refused report (413: over the size a report may hold), else the status. */
async function refusal(res) {
  const body = await res.json().catch(() => null);
  return typeof body?.error === 'string' ? body.error : `HTTP ${res.status}`;
}

async function downloadReport(path, fallbackName) {
  const res = await fetch(path, { headers: authHeaders(), cache: 'no-store' });
  if (!res.ok) throw new Error(await refusal(res));
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
  const from = h('input', { type: 'datetime-local', 'data-testid': 'report-from', 'aria-label': 'Report from', value: localInputValue(now - 60 * 60_000) });
  const to = h('input', { type: 'datetime-local', 'data-testid': 'report-to', 'aria-label': 'Report to', value: localInputValue(now) });
  const custom = h('span', { class: 'report-custom', hidden: true }, from, h('span', { class: 'muted', text: ' – ' }), to);
  const note = h('span', { class: 'report-note muted', role: 'status', 'data-testid': 'report-note' });
  // A preset whose period holds more signed data than one report may (the collector's
  // --report-max-bytes: a 1 Hz host's 7 d) is checked when chosen: the links then say why and
  // how long a period fits instead of opening a refusal. The collector enforces it either way.
  let refused = '';
  let checking = 0;
  const check = async () => {
    const mine = ++checking;
    if (refused) setText(note, '');
    refused = '';
    const p = chosenPeriod(select.value, from.value, to.value, Date.now());
    if (p.error) return;
    const res = await fetch(`/api/hosts/${encodeURIComponent(hostId)}/report?check=1&from=${p.fromMs}&to=${p.toMs}`, { headers: authHeaders(), cache: 'no-store' }).catch(() => null);
    if (mine !== checking || !res || res.status !== 413) return;
    const why = await refusal(res);
    if (mine !== checking) return; // a newer choice was made while the refusal's body was read
    refused = `Report refused: ${why}`;
    setText(note, refused);
  };
  const link = (format, text, testid) =>
    h('a', {
      href: '#',
      target: '_blank',
      rel: 'noopener',
      'data-testid': testid,
      text,
      on: {
        click: (ev) => {
          if (refused) {
            ev.preventDefault();
            setText(note, refused);
            return;
          }
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
    void check();
  });
  from.addEventListener('change', () => void check());
  to.addEventListener('change', () => void check());
  void check();
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
