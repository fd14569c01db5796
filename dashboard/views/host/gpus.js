// Host page: one row per GPU (utilisation, memory, power, temperature and the processes on it),
// shown only when the host reports GPUs. Data: GET /api/hosts/:id/processes.

import { h, replaceChildren } from '../../dom.js';
import { formatBytes, formatWatts } from '../../format.js';
import { pctText } from '../../generated/evidence-text.js';
import { meter } from '../../widgets.js';

function gpuRow(g) {
  const memShare = g.memTotalBytes > 0 ? g.memUsedBytes / g.memTotalBytes : null;
  return h(
    'tr',
    { 'data-testid': 'gpu-row', 'data-index': g.index },
    h('td', { class: 'num', text: String(g.index) }),
    h('td', {}, h('span', { text: g.name || '?' }), g.uuid ? h('span', { class: 'sub muted mono', text: g.uuid }) : null),
    h('td', { class: 'num util', 'data-testid': 'gpu-util' }, h('span', { text: pctText(g.utilPct) }), meter(g.utilPct / 100, { label: `GPU ${g.index} utilisation` })),
    h('td', { class: 'num', 'data-testid': 'gpu-mem' }, h('span', { text: `${formatBytes(g.memUsedBytes)} / ${formatBytes(g.memTotalBytes, 0)}` }), memShare === null ? null : h('span', { class: 'sub muted', text: pctText(memShare * 100) })),
    h('td', { class: 'num', 'data-testid': 'gpu-power' }, h('span', { text: formatWatts(g.powerWatts) }), g.powerLimitWatts ? h('span', { class: 'sub muted', text: `limit ${formatWatts(g.powerLimitWatts)}` }) : null),
    h('td', { class: 'num', text: g.temperatureC === null ? '—' : `${Math.round(g.temperatureC)} °C` }),
    h('td', {}, g.processes.length ? h('ul', { class: 'plain' }, g.processes.map((p) => h('li', {}, h('code', { text: p.name || '?' }), h('span', { class: 'muted', text: ` pid ${p.pid} · ${formatBytes(p.memBytes)}` })))) : h('span', { class: 'muted', text: 'none' })),
  );
}

export function gpusSection() {
  const tbody = h('tbody');
  const el = h(
    'section',
    { class: 'card', 'aria-labelledby': 'gpus-heading', hidden: true, 'data-testid': 'gpu-section' },
    h('h2', { id: 'gpus-heading', text: 'GPUs' }),
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { class: 'data-table gpu-table', 'data-testid': 'gpu-table', 'aria-labelledby': 'gpus-heading' },
        h('thead', {}, h('tr', {}, ['#', 'Model', 'Utilisation', 'Memory', 'Power', 'Temp.', 'Processes'].map((t, i) => h('th', { scope: 'col', class: i === 0 || (i >= 2 && i <= 5) ? 'num' : '', text: t })))),
        tbody,
      ),
    ),
  );
  return {
    el,
    render({ processes }) {
      if (!processes) return;
      const gpus = processes.gpus ?? [];
      el.hidden = gpus.length === 0;
      replaceChildren(tbody, gpus.map(gpuRow));
    },
  };
}
