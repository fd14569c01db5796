// Assay dashboard entry point: hash router + live feed.
//   #/                 fleet view (?class=&state=offline&q=&sort=&order=desc&page=&feed=&feedq=&feedorder=time)
//   #/hosts/<id>       host view (optional ?range=15m|1h|6h|24h|7d, or ?from=<ms>&to=<ms> after a zoom)

import { h, setText } from './dom.js';
import { startLiveFeed } from './live.js';
import { mountFleet } from './views/fleet.js';
import { mountHost } from './views/host.js';

const main = document.getElementById('main');
const statusEl = document.getElementById('conn-status');
const feed = startLiveFeed();

const STATUS_TEXT = { connecting: 'connecting…', live: 'live', polling: 'polling (reconnecting)' };
function showStatus(s) {
  statusEl.dataset.status = s;
  setText(statusEl.querySelector('.conn-text'), STATUS_TEXT[s] ?? s);
  statusEl.title = s === 'live' ? 'Receiving live updates over WebSocket' : s === 'polling' ? 'Live socket down; polling every 5 s' : 'Connecting';
}
showStatus(feed.status);
feed.onStatus(showStatus);

let current = null;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean), params: new URLSearchParams(query) };
}

function route() {
  const { parts, params } = parseHash();
  let key;
  let mount;
  if (parts[0] === 'hosts' && parts[1]) {
    let id;
    try {
      id = decodeURIComponent(parts[1]);
    } catch {
      id = parts[1];
    }
    key = `host:${id}`;
    mount = (root) => mountHost(root, feed, id, params);
  } else {
    key = 'fleet';
    mount = (root) => mountFleet(root, feed, params);
  }
  // Range changes rewrite the hash of the same host; don't remount for those. The fleet view
  // keeps its filters in the hash with replaceState (no hashchange), so a hashchange on the fleet
  // comes from outside (typed, a link, back/forward): remount it with the new filters.
  if (current && current.key === key && key !== 'fleet') return;
  current?.view.destroy();
  const root = h('div', { class: 'view' });
  main.replaceChildren(root);
  const view = mount(root);
  current = { key, view };
  document.title = key === 'fleet' ? 'Fleet · Assay' : `${view.title} · Assay`;
  for (const a of document.querySelectorAll('.topnav a')) {
    if (a.getAttribute('href') === '#/' && key === 'fleet') a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

window.addEventListener('hashchange', route);
// Charts read theme colours when created; rebuild the view when the theme flips.
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
  if (!current) return;
  current.view.destroy();
  current = null;
  route();
});
route();
