// Fleet view (#/): per-class summary and a live table of hosts.

import { h, setText, replaceChildren } from '../dom.js';
import { CLASSES, classLabel, isKnownClass } from '../classes.js';
import { formatAgo, formatConfidence, formatPct, formatWatts, formatTime } from '../format.js';
import { classBadge, updateClassBadge, sparkline, updateSparkline } from '../widgets.js';

function hostHref(id) {
  return `#/hosts/${encodeURIComponent(id)}`;
}

const last = (arr) => {
  if (!Array.isArray(arr)) return null;
  for (let i = arr.length - 1; i >= 0; i--) if (typeof arr[i] === 'number' && Number.isFinite(arr[i])) return arr[i];
  return null;
};

/** Mounts the fleet view into `root`. Returns { destroy }. */
export function mountFleet(root, feed) {
  let filter = null; // class id, 'pending', or null for all
  let hosts = feed.hosts ?? [];
  const rows = new Map(); // host id → row parts

  const summary = h('div', { class: 'summary', role: 'group', 'aria-label': 'Hosts per class' });
  const totals = h('p', { class: 'totals muted', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const emptyRow = h(
    'tr',
    { class: 'empty' },
    h('td', { colspan: 7 }, h('p', { text: 'No hosts yet.' }), h('p', { class: 'muted', text: 'Start an agent pointed at this collector (assay agent --collector ws://<collector>/ingest); it appears here within seconds.' })),
  );
  const table = h(
    'table',
    { class: 'data-table fleet-table', 'data-testid': 'fleet-table' },
    h('caption', { class: 'visually-hidden', text: 'Hosts, their workload class and recent activity' }),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col', text: 'Host' }),
        h('th', { scope: 'col', text: 'Class' }),
        h('th', { scope: 'col', class: 'num', text: 'Confidence' }),
        h('th', { scope: 'col', text: 'Last seen' }),
        h('th', { scope: 'col', text: 'CPU' }),
        h('th', { scope: 'col', text: 'GPU' }),
        h('th', { scope: 'col', text: 'Power' }),
      ),
    ),
    tbody,
  );

  root.append(
    h('section', { class: 'fleet', 'aria-labelledby': 'fleet-heading' },
      h('div', { class: 'section-head' }, h('h1', { id: 'fleet-heading', text: 'Fleet' }), totals),
      summary,
      h('div', { class: 'card table-card' }, table),
    ),
  );

  function makeRow(host) {
    const link = h('a', { class: 'host-link', href: hostHref(host.id) });
    const idLine = h('span', { class: 'host-id muted' });
    const badge = classBadge(host.class, { 'data-testid': 'host-class' });
    const conf = h('td', { class: 'num' });
    const seen = h('span');
    const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
    const seenCell = h('td', { class: 'seen' }, dot, seen);
    const cpuSpark = sparkline('CPU trend');
    const gpuSpark = sparkline('GPU trend');
    const powerSpark = sparkline('Power trend');
    const cpuVal = h('span', { class: 'spark-val' });
    const gpuVal = h('span', { class: 'spark-val' });
    const powerVal = h('span', { class: 'spark-val' });
    const tr = h(
      'tr',
      { 'data-testid': 'host-row', 'data-host-id': host.id },
      h('th', { scope: 'row' }, link, idLine),
      h('td', {}, badge),
      conf,
      seenCell,
      h('td', { class: 'spark-cell cpu' }, cpuSpark, cpuVal),
      h('td', { class: 'spark-cell gpu' }, gpuSpark, gpuVal),
      h('td', { class: 'spark-cell power' }, powerSpark, powerVal),
    );
    return { tr, link, idLine, badge, conf, seen, seenCell, cpuSpark, gpuSpark, powerSpark, cpuVal, gpuVal, powerVal };
  }

  function updateRow(r, host) {
    setText(r.link, host.hostname || host.id);
    setText(r.idLine, host.hostname && host.hostname !== host.id ? host.id : '');
    updateClassBadge(r.badge, host.class);
    setText(r.conf, formatConfidence(host.confidence));
    r.seen.dataset.ts = String(host.lastSeenMs);
    setText(r.seen, formatAgo(host.lastSeenMs));
    r.seenCell.title = formatTime(host.lastSeenMs);
    r.tr.classList.toggle('offline', !host.online);
    r.seenCell.dataset.online = host.online ? 'yes' : 'no';
    const t = host.trend ?? {};
    const cpu = t.cpuPct ?? [];
    const gpu = t.gpuPct ?? [];
    const power = t.powerWatts ?? [];
    const cpuNow = last(cpu);
    const gpuNow = last(gpu);
    const powerNow = last(power);
    updateSparkline(r.cpuSpark, cpu, { max: 100, label: `CPU, last 10 minutes, now ${formatPct(cpuNow, 0)}` });
    updateSparkline(r.gpuSpark, gpu, { max: 100, label: gpuNow === null ? 'No GPU data' : `GPU, last 10 minutes, now ${formatPct(gpuNow, 0)}` });
    updateSparkline(r.powerSpark, power, { label: powerNow === null ? 'No power data' : `Power, last 10 minutes, now ${formatWatts(powerNow)}` });
    setText(r.cpuVal, formatPct(cpuNow, 0));
    setText(r.gpuVal, gpuNow === null ? '—' : formatPct(gpuNow, 0));
    setText(r.powerVal, formatWatts(powerNow));
    r.gpuSpark.classList.toggle('none', gpuNow === null);
    r.powerSpark.classList.toggle('none', powerNow === null);
  }

  function classKey(host) {
    return host.class === null || host.class === undefined ? 'pending' : isKnownClass(host.class) ? host.class : 'unknown';
  }

  function renderSummary() {
    const counts = new Map();
    for (const host of hosts) counts.set(classKey(host), (counts.get(classKey(host)) ?? 0) + 1);
    const keys = [...CLASSES, 'pending', ...(counts.has('unknown') ? ['unknown'] : [])];
    const cards = keys
      .filter((k) => CLASSES.includes(k) || counts.get(k))
      .map((k) => {
        const n = counts.get(k) ?? 0;
        const pressed = filter === k;
        return h(
          'button',
          {
            type: 'button',
            class: `summary-card${n === 0 ? ' zero' : ''}`,
            'data-class': k,
            'data-testid': 'class-count',
            'aria-pressed': pressed ? 'true' : 'false',
            title: pressed ? 'Show all hosts' : `Show only ${classLabel(k === 'pending' ? null : k)} hosts`,
            on: { click: () => { filter = pressed ? null : k; render(); } },
          },
          h('span', { class: 'summary-count', text: n }),
          h('span', { class: 'summary-label' }, h('span', { class: 'swatch', 'aria-hidden': 'true' }), k === 'unknown' ? 'Other' : classLabel(k === 'pending' ? null : k)),
        );
      });
    replaceChildren(summary, cards);
    const online = hosts.filter((x) => x.online).length;
    setText(totals, `${hosts.length} host${hosts.length === 1 ? '' : 's'} · ${online} online${filter ? ` · showing ${classLabel(filter === 'pending' ? null : filter)} only` : ''}`);
  }

  function render() {
    renderSummary();
    const visible = hosts
      .filter((x) => !filter || classKey(x) === filter)
      .sort((a, b) => Number(b.online) - Number(a.online) || String(a.hostname).localeCompare(String(b.hostname)) || String(a.id).localeCompare(String(b.id)));
    const seen = new Set();
    for (const host of visible) {
      seen.add(host.id);
      let r = rows.get(host.id);
      if (!r) {
        r = makeRow(host);
        rows.set(host.id, r);
      }
      updateRow(r, host);
    }
    for (const [id, r] of rows) {
      if (!seen.has(id)) {
        r.tr.remove();
        rows.delete(id);
      }
    }
    // Reorder only when needed, so focus and hover are not disturbed.
    const wanted = visible.map((x) => rows.get(x.id).tr);
    if (wanted.length === 0) {
      if (tbody.firstChild !== emptyRow || tbody.children.length !== 1) tbody.replaceChildren(emptyRow);
      const msg = emptyRow.querySelector('p');
      setText(msg, hosts.length === 0 ? 'No hosts yet.' : 'No hosts in this class.');
      return;
    }
    emptyRow.remove();
    const current = [...tbody.children];
    if (current.length !== wanted.length || current.some((el, i) => el !== wanted[i])) tbody.replaceChildren(...wanted);
  }

  const tick = setInterval(() => {
    for (const r of rows.values()) setText(r.seen, formatAgo(Number(r.seen.dataset.ts)));
  }, 1000);
  const off = feed.onHosts((list) => {
    hosts = list;
    render();
  });
  render();

  return {
    title: 'Fleet',
    destroy() {
      clearInterval(tick);
      off();
    },
  };
}
