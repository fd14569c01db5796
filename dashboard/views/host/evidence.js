// Host page: the current verdict's evidence as people read it — a one-line summary, then the
// signals grouped by process (largest share first), each by its contribution, with units, and
// the rows that pushed towards a class that lost marked as outweighed. The words come from the
// formatter the HTML report uses too (collector/evidence-text.ts → generated/evidence-text.js).

import { h, setText, replaceChildren } from '../../dom.js';
import { classLabel } from '../../classes.js';
import { CLASS_LABELS } from '../../generated/classes.js';
import { pctText, viewEvidence } from '../../generated/evidence-text.js';
import { classBadge } from '../../widgets.js';

const COLS = 5;

function groupHead(g) {
  const who = !g.process
    ? h('span', { text: 'Host' })
    : g.members > 1
      ? [`${g.members} `, h('code', { text: g.process.name }), ' processes', h('span', { class: 'muted', text: ` (lowest pid ${g.process.pid})` })]
      : [h('code', { text: g.process.name }), h('span', { class: 'muted', text: ` pid ${g.process.pid}` })];
  const share = g.share !== null ? `holds ${pctText(g.share * 100)} of the busy CPU/GPU` : '';
  return h(
    'tr',
    { class: 'group-head', 'data-testid': 'evidence-group' },
    h(
      'th',
      { scope: 'rowgroup', colspan: COLS },
      h('span', { class: 'group-who' }, who),
      g.ownClass ? [' ', classBadge(g.ownClass, { class: 'badge badge-sm', title: 'class the engine gave this process' })] : null,
      share ? h('span', { class: 'muted group-share', text: ` ${share}` }) : null,
    ),
  );
}

function row(r) {
  return h(
    'tr',
    { 'data-testid': 'evidence-row', 'data-role': r.role, 'data-signal': r.signal, class: `role-${r.role}` },
    h('td', {}, h('span', { class: 'sig-label', text: r.label }), h('br'), h('code', { class: 'muted', text: r.signal })),
    h('td', { class: r.value.length <= 22 ? 'value short' : 'value', 'data-testid': 'evidence-value', text: r.value }),
    h('td', {}, classBadge(r.supports, { class: 'badge badge-sm' })),
    h('td', { class: 'num weight', text: r.weightText }),
    h('td', { class: 'detail' }, r.detail, r.note ? h('span', { class: 'note', 'data-testid': 'evidence-note', text: r.note }) : null),
  );
}

/** Rows a group shows before "N more signals": the strongest, so a long group stays readable. */
const SHOWN = 4;

function groupBody(g) {
  const rows = g.rows.map(row);
  const body = h('tbody', { class: 'evidence-group' }, groupHead(g), rows);
  const rest = rows.slice(SHOWN);
  if (rest.length) {
    for (const r of rest) r.hidden = true;
    const roles = new Set(g.rows.slice(SHOWN).map((r) => r.role));
    const what = [roles.has('supports') ? 'supporting' : null, roles.has('outweighed') ? 'outweighed' : null, roles.has('against') ? 'counter-evidence' : null].filter(Boolean).join(', ');
    const label = `${rest.length} more signal${rest.length === 1 ? '' : 's'}${what ? ` (${what})` : ''}`;
    const button = h('button', { type: 'button', class: 'more', 'aria-expanded': 'false', text: `Show ${label}` });
    button.addEventListener('click', () => {
      const open = button.getAttribute('aria-expanded') !== 'true';
      for (const r of rest) r.hidden = !open;
      button.setAttribute('aria-expanded', open ? 'true' : 'false');
      setText(button, open ? 'Show fewer' : `Show ${label}`);
    });
    body.append(h('tr', { class: 'more-row' }, h('td', { colspan: COLS }, button)));
  }
  return body;
}

export function evidenceSection() {
  const heading = h('h2', { id: 'evidence-heading', text: 'Evidence' });
  const summary = h('p', { class: 'evidence-summary', 'data-testid': 'evidence-summary' });
  const note = h('p', { class: 'muted' });
  const table = h(
    'table',
    { class: 'data-table evidence-table', 'data-testid': 'evidence-table', 'aria-labelledby': 'evidence-heading' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col', text: 'Signal' }),
        h('th', { scope: 'col', text: 'Value' }),
        h('th', { scope: 'col', text: 'Pushes towards' }),
        h('th', { scope: 'col', class: 'num', text: 'Weight' }),
        h('th', { scope: 'col', text: 'Detail' }),
      ),
    ),
  );
  const unavailableBox = h('div', { class: 'unavailable' });
  const el = h('section', { class: 'card', 'aria-labelledby': 'evidence-heading' }, heading, summary, note, h('div', { class: 'table-scroll' }, table), unavailableBox);
  return {
    el,
    render({ host }) {
      const v = host?.verdict ?? null;
      for (const tb of table.querySelectorAll('tbody')) tb.remove();
      setText(heading, v ? `Evidence — why ${classLabel(v.class)}` : 'Evidence');
      if (!v) {
        setText(summary, '');
        setText(note, '');
        table.append(h('tbody', {}, h('tr', { class: 'empty' }, h('td', { colspan: COLS, class: 'muted', text: 'No verdict yet.' }))));
        replaceChildren(unavailableBox);
        return;
      }
      const view = viewEvidence(v, CLASS_LABELS);
      setText(summary, view.summary);
      const rows = view.groups.reduce((n, g) => n + g.rows.length, 0);
      setText(note, `${rows} signal${rows === 1 ? '' : 's'} by process (largest share of the host first), each by its contribution |weight|; greyed rows pushed towards a class that lost.`);
      if (view.groups.length === 0) table.append(h('tbody', {}, h('tr', { class: 'empty' }, h('td', { colspan: COLS, class: 'muted', text: 'No evidence recorded for this verdict.' }))));
      for (const g of view.groups) table.append(groupBody(g));
      const un = Array.isArray(v.unavailable) ? v.unavailable : [];
      replaceChildren(
        unavailableBox,
        un.length ? [h('h3', { text: 'Signals not available on this host' }), h('ul', { class: 'chips', 'data-testid': 'unavailable' }, un.map((u) => h('li', { class: 'chip', text: u })))] : null,
      );
    },
  };
}
