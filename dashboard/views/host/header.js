// Host page header: breadcrumb, hostname, online state, current class, and the report picker.

import { h, setText, replaceChildren } from '../../dom.js';
import { formatAgo, formatTime } from '../../format.js';
import { classBadge } from '../../widgets.js';
import { reportPicker } from '../report-picker.js';

export function headerSection(hostId) {
  const title = h('h1', { 'data-testid': 'host-title', text: hostId });
  const subtitle = h('p', { class: 'muted subtitle' });
  const onlinePill = h('span', { class: 'pill' });
  const badge = h('span');
  const crumb = h('span', { 'aria-current': 'page', text: hostId });
  const el = [
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/', text: 'Fleet' }), h('span', { 'aria-hidden': 'true', text: ' / ' }), crumb),
    h('header', { class: 'host-head' }, h('div', {}, h('div', { class: 'title-row' }, title, onlinePill, badge), subtitle), reportPicker(hostId)),
  ];
  return {
    el,
    render({ host }) {
      const name = host?.hostname || hostId;
      setText(title, name);
      setText(crumb, name);
      document.title = `${name} · Assay`;
      setText(onlinePill, host?.online ? 'online' : 'offline');
      onlinePill.dataset.online = host?.online ? 'yes' : 'no';
      replaceChildren(badge, host ? classBadge(host.verdict?.class ?? null) : null);
      if (host) {
        setText(subtitle, `${host.id} · agent ${host.agentVersion ?? '?'} · first seen ${formatTime(host.firstSeenMs)} · last seen ${formatAgo(host.lastSeenMs)}`);
      }
    },
  };
}
