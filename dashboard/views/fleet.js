// Fleet view (#/): class tiles (online hosts per class, offline hosts in a tile of their own),
// one page of the host list at a time (the collector filters, sorts, searches and pages: the
// page costs the same with 5,000 hosts), and the fleet-wide feed of class changes, non-AI first.
// The view's state lives in the hash (#/?class=pow-mining&q=gpu&sort=hostname&page=2), so a
// reload or a shared link shows the same page.

import { h, setText, replaceChildren } from '../dom.js';
import { fetchClassChanges, fetchFleetPage } from '../api.js';
import { CLASSES, classLabel } from '../classes.js';
import { formatAgo, formatConfidence, formatPct, formatWatts, formatTime } from '../format.js';
import { classBadge, updateClassBadge, sparkline, updateSparkline } from '../widgets.js';

const PAGE_SIZE = 50;
const CHANGES_SIZE = 15;
const SEARCH_DEBOUNCE_MS = 250;
/** Least time between two refreshes pushed by /live (every host that sends data triggers one). */
const LIVE_REFRESH_MS = 2000;
/** Refresh anyway this often: a host that falls silent turns offline without any push. */
const STALE_REFRESH_MS = 10_000;
/** Server defaults (collector/fleet.ts): left out of the request so the default page is plain /api/fleet. */
const DEFAULT_SORT = 'state';
const SORTS = [
  ['state', 'Online first'],
  ['hostname', 'Host name'],
  ['class', 'Class'],
  ['lastSeen', 'Last seen'],
  ['confidence', 'Confidence'],
];

function hostHref(id) {
  return `#/hosts/${encodeURIComponent(id)}`;
}

const last = (arr) => {
  if (!Array.isArray(arr)) return null;
  for (let i = arr.length - 1; i >= 0; i--) if (typeof arr[i] === 'number' && Number.isFinite(arr[i])) return arr[i];
  return null;
};

const plural = (n, one, many = `${one}s`) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

/** Reads the view's state from the hash parameters (bad values fall back to defaults). */
function readState(params) {
  const cls = params?.get('class') ?? '';
  const sort = params?.get('sort') ?? '';
  const page = Number(params?.get('page') ?? '1');
  return {
    cls: CLASSES.includes(cls) || cls === 'pending' ? cls : null,
    state: params?.get('state') === 'offline' ? 'offline' : null,
    q: params?.get('q') ?? '',
    sort: SORTS.some(([k]) => k === sort) ? sort : DEFAULT_SORT,
    desc: params?.get('order') === 'desc',
    page: Number.isInteger(page) && page > 0 ? page : 1,
    feedClass: params?.get('feed') ?? '',
    feedQ: params?.get('feedq') ?? '',
    feedOrder: params?.get('feedorder') ?? '',
  };
}

/** Mounts the fleet view into `root`. Returns { destroy }. */
export function mountFleet(root, feed, params) {
  const st = readState(params);
  let data = null; // the last page from the collector
  let destroyed = false;
  const rows = new Map(); // host id → row parts

  // ---- layout ----
  const summary = h('div', { class: 'summary', role: 'group', 'aria-label': 'Hosts per class' });
  const totals = h('p', { class: 'totals muted', 'aria-live': 'polite', 'data-testid': 'fleet-totals' });
  const search = h('input', { type: 'search', class: 'fleet-search', placeholder: 'Search host name or id', 'aria-label': 'Search hosts by name or id', 'data-testid': 'fleet-search', value: st.q, maxlength: 200 });
  const sortSel = h('select', { 'aria-label': 'Sort hosts by', 'data-testid': 'fleet-sort' }, SORTS.map(([k, label]) => h('option', { value: k, text: label })));
  sortSel.value = st.sort;
  const orderBtn = h('button', { type: 'button', class: 'btn-ghost', 'data-testid': 'fleet-order' });
  const prev = h('button', { type: 'button', class: 'btn', 'data-testid': 'page-prev', text: '‹ Previous' });
  const next = h('button', { type: 'button', class: 'btn', 'data-testid': 'page-next', text: 'Next ›' });
  const pageInfo = h('span', { class: 'page-info muted', 'data-testid': 'page-info', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const emptyRow = h(
    'tr',
    { class: 'empty' },
    h('td', { colspan: 7 }, h('p', { text: 'No hosts yet.' }), h('p', { class: 'muted hint', text: 'Start an agent pointed at this collector (assay agent --collector ws://<collector>/ingest); it appears here within seconds.' })),
  );
  const sortHeader = (key, label, cls) => {
    const btn = h('button', { type: 'button', class: 'th-sort', text: label, on: { click: () => setSort(key) } });
    return h('th', { scope: 'col', class: cls, 'data-sort': key }, btn);
  };
  const headRow = h(
    'tr',
    {},
    sortHeader('hostname', 'Host'),
    sortHeader('class', 'Class'),
    sortHeader('confidence', 'Confidence', 'num'),
    sortHeader('lastSeen', 'State · last seen'),
    h('th', { scope: 'col', text: 'CPU' }),
    h('th', { scope: 'col', text: 'GPU' }),
    h('th', { scope: 'col', text: 'Power' }),
  );
  const table = h(
    'table',
    { class: 'data-table fleet-table', 'data-testid': 'fleet-table' },
    h('caption', { class: 'visually-hidden', text: 'Hosts, their workload class and recent activity' }),
    h('thead', {}, headRow),
    tbody,
  );

  const feedClass = h('select', { 'aria-label': 'Show changes of class', 'data-testid': 'feed-class' }, h('option', { value: '', text: 'All classes' }), CLASSES.map((c) => h('option', { value: c, text: classLabel(c) })));
  feedClass.value = CLASSES.includes(st.feedClass) ? st.feedClass : '';
  const feedOrder = h('select', { 'aria-label': 'Order of class changes', 'data-testid': 'feed-order' }, h('option', { value: '', text: 'Non-AI first' }), h('option', { value: 'time', text: 'Newest first' }));
  feedOrder.value = st.feedOrder === 'time' ? 'time' : '';
  const feedSearch = h('input', { type: 'search', placeholder: 'Search host', 'aria-label': 'Search class changes by host', 'data-testid': 'feed-search', value: st.feedQ, maxlength: 200 });
  const feedList = h('ol', { class: 'feed-list', 'data-testid': 'feed-list', 'aria-live': 'polite' });
  const feedInfo = h('p', { class: 'muted feed-info', 'data-testid': 'feed-info' });

  root.append(
    h('section', { class: 'fleet', 'aria-labelledby': 'fleet-heading' },
      h('div', { class: 'section-head' }, h('h1', { id: 'fleet-heading', text: 'Fleet' }), totals),
      summary,
      h('div', { class: 'fleet-grid' },
        h('div', { class: 'fleet-main' },
          h('div', { class: 'toolbar' }, search, h('label', { class: 'sort-label' }, 'Sort ', sortSel), orderBtn, h('span', { class: 'spacer' }), pageInfo, prev, next),
          h('div', { class: 'card table-card' }, table),
        ),
        h('aside', { class: 'card feed', 'aria-labelledby': 'feed-heading', 'data-testid': 'class-feed' },
          h('h2', { id: 'feed-heading', text: 'Class changes' }),
          h('p', { class: 'muted feed-sub', text: 'Published class changes across the fleet.' }),
          h('div', { class: 'feed-tools' }, feedClass, feedOrder),
          h('div', { class: 'feed-tools' }, feedSearch),
          feedList,
          feedInfo,
        ),
      ),
    ),
  );

  // ---- hash state ----
  function writeHash() {
    const p = new URLSearchParams();
    if (st.cls) p.set('class', st.cls);
    if (st.state) p.set('state', st.state);
    if (st.q) p.set('q', st.q);
    if (st.sort !== DEFAULT_SORT) p.set('sort', st.sort);
    if (st.desc) p.set('order', 'desc');
    if (st.page > 1) p.set('page', String(st.page));
    if (feedClass.value) p.set('feed', feedClass.value);
    if (feedSearch.value.trim()) p.set('feedq', feedSearch.value.trim());
    if (feedOrder.value) p.set('feedorder', feedOrder.value);
    const s = p.toString();
    // replaceState: no hashchange, no history entry per keystroke.
    history.replaceState(null, '', `#/${s ? `?${s}` : ''}`);
  }

  // ---- rows ----
  function makeRow(host) {
    const link = h('a', { class: 'host-link', href: hostHref(host.id) });
    const idLine = h('span', { class: 'host-id muted' });
    const badge = classBadge(host.class, { 'data-testid': 'host-class' });
    const conf = h('td', { class: 'num' });
    const stateText = h('span', { class: 'state-text', 'data-testid': 'host-state' });
    const seen = h('span', { class: 'seen-ago' });
    const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
    const seenCell = h('td', { class: 'seen' }, dot, stateText, h('span', { class: 'sep', 'aria-hidden': 'true', text: ' · ' }), seen);
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
    return { tr, link, idLine, badge, conf, stateText, seen, seenCell, cpuSpark, gpuSpark, powerSpark, cpuVal, gpuVal, powerVal };
  }

  function updateRow(r, host) {
    const online = host.online !== false && host.state !== 'offline';
    setText(r.link, host.hostname || host.id);
    setText(r.idLine, host.hostname && host.hostname !== host.id ? host.id : '');
    updateClassBadge(r.badge, host.class);
    r.badge.title = online ? r.badge.title : `last known class (${host.class ?? 'no verdict'}); the host is offline`;
    setText(r.conf, formatConfidence(host.confidence));
    r.seen.dataset.ts = String(host.lastSeenMs);
    setText(r.seen, formatAgo(host.lastSeenMs));
    setText(r.stateText, online ? 'Online' : 'Offline');
    r.seenCell.title = `last data ${formatTime(host.lastSeenMs)}`;
    r.tr.classList.toggle('offline', !online);
    r.tr.dataset.state = online ? 'online' : 'offline';
    r.seenCell.dataset.online = online ? 'yes' : 'no';
    const t = host.trend ?? {};
    const cpu = t.cpuPct ?? [];
    const gpu = t.gpuPct ?? [];
    const power = t.powerWatts ?? [];
    const cpuNow = last(cpu);
    const gpuNow = last(gpu);
    const powerNow = last(power);
    // An offline host's figures are its last ones: say so, with their age, on every value.
    const age = online ? '' : ` (old: ${formatAgo(host.lastSeenMs)})`;
    const span = online ? 'last 10 minutes' : '10 minutes before it went silent';
    updateSparkline(r.cpuSpark, cpu, { max: 100, label: `CPU, ${span}, ${online ? 'now' : 'last'} ${formatPct(cpuNow, 0)}${age}` });
    updateSparkline(r.gpuSpark, gpu, { max: 100, label: gpuNow === null ? 'No GPU data' : `GPU, ${span}, ${online ? 'now' : 'last'} ${formatPct(gpuNow, 0)}${age}` });
    updateSparkline(r.powerSpark, power, { label: powerNow === null ? 'No power data' : `Power, ${span}, ${online ? 'now' : 'last'} ${formatWatts(powerNow)}${age}` });
    for (const [el, text, none] of [
      [r.cpuVal, formatPct(cpuNow, 0), cpuNow === null],
      [r.gpuVal, gpuNow === null ? '—' : formatPct(gpuNow, 0), gpuNow === null],
      [r.powerVal, formatWatts(powerNow), powerNow === null],
    ]) {
      setText(el, text);
      el.classList.toggle('old', !online && !none);
      if (!online && !none) {
        el.dataset.old = 'yes';
        el.title = `last figure, ${formatAgo(host.lastSeenMs)} (${formatTime(host.lastSeenMs)})`;
      } else {
        delete el.dataset.old;
        el.removeAttribute('title');
      }
    }
    r.gpuSpark.classList.toggle('none', gpuNow === null);
    r.powerSpark.classList.toggle('none', powerNow === null);
  }

  // ---- tiles ----
  function tile(key, label, n, pressed, onClick, extra = {}) {
    return h(
      'button',
      {
        type: 'button',
        class: `summary-card${n === 0 ? ' zero' : ''}`,
        'data-class': key,
        'data-testid': 'class-count',
        'aria-pressed': pressed ? 'true' : 'false',
        on: { click: onClick },
        ...extra,
      },
      h('span', { class: 'summary-count', text: n.toLocaleString('en') }),
      h('span', { class: 'summary-label' }, h('span', { class: 'swatch', 'aria-hidden': 'true' }), label),
    );
  }

  function renderSummary() {
    const c = data?.counts;
    const classes = c?.classes ?? {};
    const cards = [...CLASSES, 'pending'].map((k) => {
      const pressed = st.cls === k;
      const label = classLabel(k === 'pending' ? null : k);
      return tile(k, label, classes[k] ?? 0, pressed, () => setFilter(pressed ? null : k, null), { title: pressed ? 'Show all hosts' : `Show only online ${label} hosts` });
    });
    const offPressed = st.state === 'offline';
    cards.push(tile('offline', 'Offline', c?.offline ?? 0, offPressed, () => setFilter(null, offPressed ? null : 'offline'), { title: offPressed ? 'Show all hosts' : 'Show hosts that sent no data recently (their last figures are old)' }));
    replaceChildren(summary, cards);
    if (!c) {
      setText(totals, data ? plural(data.hosts?.length ?? 0, 'host') : 'Loading…');
      return;
    }
    const showing = st.cls ? ` · showing online ${classLabel(st.cls === 'pending' ? null : st.cls)}` : st.state === 'offline' ? ' · showing offline' : '';
    setText(totals, `${plural(c.total, 'host')} · ${c.online.toLocaleString('en')} online · ${c.offline.toLocaleString('en')} offline${c.nonAi ? ` · ${c.nonAi.toLocaleString('en')} with non-AI work` : ''}${showing}${st.q ? ` matching “${st.q}”` : ''}`);
  }

  function renderPager() {
    const total = data?.total ?? data?.hosts?.length ?? 0;
    const first = total === 0 ? 0 : (st.page - 1) * PAGE_SIZE + 1;
    const lastN = Math.min(total, st.page * PAGE_SIZE);
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    setText(pageInfo, `${first.toLocaleString('en')}–${lastN.toLocaleString('en')} of ${total.toLocaleString('en')} · page ${st.page} of ${pages}`);
    prev.disabled = st.page <= 1;
    next.disabled = st.page >= pages;
    setText(orderBtn, st.desc ? '↓ Descending' : '↑ Ascending');
    orderBtn.setAttribute('aria-label', `Order: ${st.desc ? 'descending' : 'ascending'} (click to reverse)`);
    for (const th of headRow.children) {
      if (!th.dataset.sort) continue;
      if (th.dataset.sort === st.sort) th.setAttribute('aria-sort', st.desc ? 'descending' : 'ascending');
      else th.removeAttribute('aria-sort');
    }
  }

  function renderRows() {
    const hosts = data?.hosts ?? [];
    const seen = new Set();
    for (const host of hosts) {
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
    const wanted = hosts.map((x) => rows.get(x.id).tr);
    if (wanted.length === 0) {
      if (tbody.firstChild !== emptyRow || tbody.children.length !== 1) tbody.replaceChildren(emptyRow);
      const filtered = st.cls || st.state || st.q;
      setText(emptyRow.querySelector('p'), !data ? 'Loading…' : filtered ? 'No hosts match.' : 'No hosts yet.');
      emptyRow.querySelector('.hint').hidden = Boolean(filtered) || !data;
      return;
    }
    emptyRow.remove();
    // Reorder only when needed, so focus and hover are not disturbed.
    const current = [...tbody.children];
    if (current.length !== wanted.length || current.some((el, i) => el !== wanted[i])) tbody.replaceChildren(...wanted);
  }

  function render() {
    renderSummary();
    renderPager();
    renderRows();
  }

  // ---- loading ----
  let seq = 0;
  let lastLoad = 0;
  let loadTimer = null;
  async function load() {
    const mine = ++seq;
    lastLoad = Date.now();
    const params = {
      limit: PAGE_SIZE === 50 ? undefined : PAGE_SIZE,
      offset: st.page > 1 ? (st.page - 1) * PAGE_SIZE : undefined,
      sort: st.sort === DEFAULT_SORT ? undefined : st.sort,
      order: st.desc ? 'desc' : undefined,
      class: st.cls ?? undefined,
      state: st.cls ? 'online' : st.state ?? undefined,
      q: st.q || undefined,
    };
    try {
      const page = await fetchFleetPage(params);
      if (destroyed || mine !== seq) return;
      data = { ...page, hosts: Array.isArray(page.hosts) ? page.hosts : [] };
      // A page past the end (hosts went away, a filter narrowed): go to the last page.
      const total = data.total ?? data.hosts.length;
      const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
      if (st.page > pages) {
        st.page = pages;
        writeHash();
        return load();
      }
      render();
      root.dataset.loaded = String(mine);
    } catch (err) {
      if (!destroyed && mine === seq) setText(totals, `Could not load the fleet: ${err.message}`);
    }
  }
  /** Throttled refresh for pushes: at most one per LIVE_REFRESH_MS. */
  function refreshSoon() {
    if (loadTimer !== null) return;
    const wait = Math.max(0, lastLoad + LIVE_REFRESH_MS - Date.now());
    loadTimer = setTimeout(() => {
      loadTimer = null;
      load();
    }, wait);
  }

  function reload() {
    writeHash();
    render();
    load();
  }
  function setFilter(cls, state) {
    st.cls = cls;
    st.state = state;
    st.page = 1;
    reload();
  }
  function setSort(key) {
    if (st.sort === key) st.desc = !st.desc;
    else {
      st.sort = key;
      st.desc = key === 'lastSeen' || key === 'confidence';
    }
    sortSel.value = st.sort;
    st.page = 1;
    reload();
  }
  sortSel.addEventListener('change', () => setSort(sortSel.value));
  orderBtn.addEventListener('click', () => {
    st.desc = !st.desc;
    st.page = 1;
    reload();
  });
  prev.addEventListener('click', () => {
    if (st.page > 1) {
      st.page--;
      reload();
    }
  });
  next.addEventListener('click', () => {
    st.page++;
    reload();
  });
  let searchTimer = null;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      st.q = search.value.trim();
      st.page = 1;
      reload();
    }, SEARCH_DEBOUNCE_MS);
  });

  // ---- class-change feed ----
  let feedSeq = 0;
  async function loadFeed() {
    const mine = ++feedSeq;
    try {
      const body = await fetchClassChanges({ limit: CHANGES_SIZE, class: feedClass.value || undefined, q: feedSearch.value.trim() || undefined, order: feedOrder.value || undefined });
      if (destroyed || mine !== feedSeq) return;
      renderFeed(Array.isArray(body.changes) ? body.changes : [], body.total ?? 0);
    } catch (err) {
      if (!destroyed && mine === feedSeq) setText(feedInfo, `Could not load class changes: ${err.message}`);
    }
  }
  function renderFeed(changes, total) {
    const items = changes.map((c) => {
      const nonAi = c.nonAi || c.fromNonAi;
      const from = c.fromClass ? classBadge(c.fromClass, { class: 'badge badge-sm' }) : h('span', { class: 'muted badge-sm', text: 'first verdict' });
      return h(
        'li',
        { class: `feed-item${nonAi ? ' non-ai' : ''}`, 'data-testid': 'feed-item', 'data-host-id': c.hostId, 'data-to': c.toClass, 'data-non-ai': nonAi ? 'yes' : 'no' },
        h('div', { class: 'feed-line' }, h('a', { class: 'feed-host', href: hostHref(c.hostId), text: c.hostname || c.hostId }), nonAi ? h('span', { class: 'tag-nonai', text: c.nonAi ? 'non-AI' : 'non-AI ended' }) : null),
        h('div', { class: 'feed-line' }, from, h('span', { class: 'arrow', 'aria-label': 'changed to', text: '→' }), classBadge(c.toClass, { class: 'badge badge-sm' })),
        h('time', { class: 'muted feed-time', datetime: new Date(c.tsMs).toISOString(), title: formatTime(c.tsMs), text: `${formatTime(c.tsMs).slice(5)} · ${formatAgo(c.tsMs)}` }),
      );
    });
    replaceChildren(feedList, items);
    setText(feedInfo, total === 0 ? (feedClass.value || feedSearch.value.trim() ? 'No class changes match.' : 'No class changes yet.') : total > changes.length ? `${changes.length} of ${total.toLocaleString('en')} shown` : plural(total, 'change'));
  }
  let feedTimer = null;
  const feedSoon = (ms) => {
    if (feedTimer !== null) return;
    feedTimer = setTimeout(() => {
      feedTimer = null;
      loadFeed();
    }, ms);
  };
  for (const el of [feedClass, feedOrder]) {
    el.addEventListener('change', () => {
      writeHash();
      loadFeed();
    });
  }
  let feedSearchTimer = null;
  feedSearch.addEventListener('input', () => {
    clearTimeout(feedSearchTimer);
    feedSearchTimer = setTimeout(() => {
      writeHash();
      loadFeed();
    }, SEARCH_DEBOUNCE_MS);
  });

  const tick = setInterval(() => {
    for (const r of rows.values()) setText(r.seen, formatAgo(Number(r.seen.dataset.ts)));
  }, 1000);
  const stale = setInterval(() => {
    load();
    feedSoon(0);
  }, STALE_REFRESH_MS);
  const offHosts = feed.onHosts(() => refreshSoon());
  const offChange = feed.onClassChange(() => {
    feedSoon(300);
    refreshSoon();
  });
  render();
  load();
  loadFeed();

  return {
    title: 'Fleet',
    destroy() {
      destroyed = true;
      clearInterval(tick);
      clearInterval(stale);
      clearTimeout(loadTimer);
      clearTimeout(feedTimer);
      clearTimeout(searchTimer);
      clearTimeout(feedSearchTimer);
      offHosts();
      offChange();
    },
  };
}
