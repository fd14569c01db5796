// Host page: what each process holds now (CPU, GPU, memory), the class the engine gave it, the
// libraries that counted and its ports and peers. Data: GET /api/hosts/:id/processes.

import { h, setText, replaceChildren } from '../../dom.js';
import { formatBytes, formatDuration, formatTime } from '../../format.js';
import { pctText } from '../../generated/evidence-text.js';
import { classBadge } from '../../widgets.js';

const share = (x) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : pctText(x * 100));

function cell(main, sub) {
  return [h('span', { text: main }), sub ? h('span', { class: 'sub muted', text: sub }) : null];
}

function processRow(p) {
  const cls = p.class
    ? [classBadge(p.class, { class: 'badge badge-sm' }), p.classSource === 'evidence' ? h('span', { class: 'sub muted', text: 'strongest evidence' }) : null]
    : h('span', { class: 'muted', text: '—' });
  const net = [];
  if (p.listenPorts.length) net.push(h('span', { class: 'sub', text: `listens ${p.listenPorts.map((x) => `:${x}`).join(' ')}` }));
  if (p.peers.length) {
    const more = p.peersTotal - p.peers.length;
    net.push(h('span', { class: 'sub', text: `${p.peersTotal} peer${p.peersTotal === 1 ? '' : 's'}: ${p.peers.join(', ')}${more > 0 ? ` (+${more} more)` : ''}` }));
  }
  return h(
    'tr',
    { 'data-testid': 'process-row', 'data-pid': p.pid, 'data-class': p.class ?? '' },
    h('td', { class: 'num', text: String(p.pid) }),
    h('td', { class: 'proc-name' }, h('code', { text: p.name }), p.exe ? h('span', { class: 'sub muted mono', text: p.exe, title: p.cmdline || p.exe }) : null),
    h('td', {}, cls),
    h('td', { class: 'num', 'data-testid': 'process-cpu' }, cell(share(p.cpuShare), `${(p.cpuPct / 100).toFixed(p.cpuPct >= 1000 ? 0 : 2)} cores`)),
    h('td', { class: 'num', 'data-testid': 'process-gpu' }, p.gpuShare === null ? h('span', { class: 'muted', text: '—' }) : cell(share(p.gpuShare), p.gpuMemBytes ? `${formatBytes(p.gpuMemBytes)}${p.gpus.length ? ` on GPU ${p.gpus.join(', ')}` : ''}` : '')),
    h('td', { class: 'num', 'data-testid': 'process-mem' }, cell(share(p.memShare), formatBytes(p.rssBytes))),
    h('td', { class: 'libs' }, p.libs.length ? h('ul', { class: 'chips' }, p.libs.map((l) => h('li', { class: 'chip', text: l }))) : h('span', { class: 'muted', text: '—' })),
    h('td', { class: 'net' }, net.length ? net : h('span', { class: 'muted', text: '—' })),
  );
}

/** Rows shown before "Show N more processes". */
const SHOWN = 12;

export function processesSection() {
  let expanded = false;
  const note = h('p', { class: 'muted' });
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'data-table process-table', 'data-testid': 'process-table', 'aria-labelledby': 'processes-heading' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['PID', 'Process', 'Own class', 'CPU', 'GPU', 'Memory', 'Libraries that counted', 'Ports and peers'].map((t, i) => h('th', { scope: 'col', class: i === 0 || (i >= 3 && i <= 5) ? 'num' : '', text: t })),
      ),
    ),
    tbody,
  );
  const el = h('section', { class: 'card', 'aria-labelledby': 'processes-heading' }, h('h2', { id: 'processes-heading', text: 'Processes' }), note, h('div', { class: 'table-scroll' }, table));
  const section = {
    el,
    render({ processes }) {
      if (!processes) return;
      const list = processes.processes ?? [];
      setText(
        note,
        list.length
          ? `Averaged over ${formatDuration(processes.tsMs - processes.fromMs)} up to ${formatTime(processes.tsMs)} (${processes.samples} samples); CPU as a share of all ${processes.cores} cores, GPU as a share of all GPU memory, memory as a share of RAM. ${list.length} of ${processes.processesTotal} processes shown, busiest first.`
          : '',
      );
      const rows = list.map(processRow);
      // The busiest first; the rest one click away, and it stays open across refreshes.
      const rest = rows.slice(SHOWN);
      for (const r of rest) r.hidden = !expanded;
      const more = rest.length
        ? h('tr', { class: 'more-row' }, h('td', { colspan: 8 }, h('button', { type: 'button', class: 'more', 'aria-expanded': String(expanded), text: expanded ? 'Show fewer' : `Show ${rest.length} more processes`, on: { click: () => {
            expanded = !expanded;
            section.render({ processes });
          } } })))
        : null;
      replaceChildren(tbody, rows.length ? [rows, more] : h('tr', { class: 'empty' }, h('td', { colspan: 8, class: 'muted', text: 'No process data yet.' })));
    },
  };
  return section;
}
