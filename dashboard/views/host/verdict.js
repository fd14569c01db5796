// Host page: the current verdict (class, confidence, scores, parts) and the host's inventory.

import { h, replaceChildren } from '../../dom.js';
import { classLabel } from '../../classes.js';
import { formatAgo, formatBytes, formatConfidence, formatDuration, formatValue } from '../../format.js';
import { classBadge, meter } from '../../widgets.js';

function renderVerdict(body, v) {
  if (!v) {
    replaceChildren(
      body,
      h('div', { class: 'verdict-main' }, classBadge(null, { 'data-testid': 'verdict-class' }), h('span', { class: 'muted', text: 'Collecting samples — a verdict appears after the first classification window.' })),
    );
    return;
  }
  const scores = Object.entries(v.scores ?? {})
    .filter(([, s]) => typeof s === 'number' && Number.isFinite(s))
    .sort((a, b) => b[1] - a[1]);
  const maxScore = Math.max(1e-9, ...scores.map(([, s]) => s));
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
              h('div', { class: 'part-head' }, classBadge(p.class), h('span', { class: 'num', text: `${Math.round((p.share ?? 0) * 100)} % of busy resources` })),
              meter(p.share, { label: `${classLabel(p.class)} share`, cls: p.class }),
              p.processes?.length ? h('p', { class: 'muted procs' }, p.processes.map((pr, i) => [i ? ', ' : '', h('code', { text: pr.name }), ` (${pr.pid})`])) : null,
            ),
          ),
        ),
      )
    : null;
  const w = v.window ?? {};
  replaceChildren(
    body,
    h(
      'div',
      { class: 'verdict-main' },
      classBadge(v.class, { 'data-testid': 'verdict-class', class: 'badge badge-lg' }),
      h('span', { class: 'confidence' }, h('strong', { text: formatConfidence(v.confidence) }), h('span', { class: 'muted', text: ' confidence' })),
    ),
    h('p', { class: 'muted', text: `From ${w.samples ?? '?'} samples over ${formatDuration((w.toMs ?? 0) - (w.fromMs ?? 0))}, ending ${formatAgo(w.toMs)} · rules ${v.rulesVersion ?? '?'}` }),
    h('h3', { text: 'Scores' }),
    h(
      'ul',
      { class: 'scores' },
      scores.map(([cls, s]) =>
        h(
          'li',
          { class: cls === v.class ? 'winner' : '' },
          h('span', { class: 'score-label', text: classLabel(cls) }),
          meter(s / maxScore, { label: `${classLabel(cls)} score`, cls }),
          h('span', { class: 'score-val num', text: formatValue(s) }),
        ),
      ),
    ),
    parts,
  );
}

function renderInventory(body, inv) {
  if (!inv) {
    replaceChildren(body, h('p', { class: 'muted', text: 'No inventory reported yet.' }));
    return;
  }
  const item = (k, v) => [h('dt', { text: k }), h('dd', {}, v)];
  const gpus = Array.isArray(inv.gpus) ? inv.gpus : [];
  const disks = Array.isArray(inv.disks) ? inv.disks : [];
  replaceChildren(
    body,
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

export function verdictSection() {
  const verdictBody = h('div', { class: 'verdict-body' });
  const inventoryBody = h('div', { class: 'inventory-body' });
  const el = h(
    'div',
    { class: 'grid-2' },
    h('section', { class: 'card verdict-card', 'aria-labelledby': 'verdict-heading' }, h('h2', { id: 'verdict-heading', text: 'Current verdict' }), verdictBody),
    h('section', { class: 'card', 'aria-labelledby': 'inventory-heading' }, h('h2', { id: 'inventory-heading', text: 'Inventory' }), inventoryBody),
  );
  return {
    el,
    render({ host }) {
      renderVerdict(verdictBody, host?.verdict ?? null);
      renderInventory(inventoryBody, host?.inventory ?? null);
    },
  };
}
