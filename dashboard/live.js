// Live fleet feed: a WebSocket to /live, with polling of /api/hosts every 5 s
// while the socket is down, and reconnection with exponential backoff. The socket
// brings the whole fleet once ({type:'snapshot'}), then only what changed
// ({type:'delta'}: changed hosts, each with only its changed trend buckets), which
// is merged here into the list listeners get. While the socket is up, a slow poll
// (30 s) still runs as a safety net.
//
//   const feed = startLiveFeed();
//   feed.onHosts((hosts) => ...);    // full host list, whenever it changes
//   feed.onHostHint((id) => ...);    // "host <id> has new data"
//   feed.onStatus((status) => ...);  // 'connecting' | 'live' | 'polling'
//   feed.onClassChange((c) => ...);  // { hostId, tsMs, fromClass, toClass, nonAi } as it is stored
import { liveProtocols } from './token.js';

import { fetchHosts } from './api.js';
import { applyFrame, byName } from './fleet-merge.js';

const POLL_MS = 5000;
const LIVE_POLL_MS = 30000;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30000;

export function startLiveFeed() {
  const listeners = { hosts: new Set(), host: new Set(), status: new Set(), classChange: new Set() };
  let latestHosts = null;
  let status = 'connecting';
  let socket = null;
  let backoff = BACKOFF_MIN_MS;
  let reconnectTimer = null;
  let pollTimer = null;

  const emit = (kind, value) => {
    for (const fn of listeners[kind]) {
      try {
        fn(value);
      } catch (err) {
        console.error(err);
      }
    }
  };
  const setStatus = (s) => {
    if (s === status) return;
    status = s;
    emit('status', s);
  };
  // Bumped on every publish, so a slow poll never overwrites a newer push.
  let generation = 0;
  // The fleet as pushed: host id -> host (with its trend), merged delta by delta.
  const byId = new Map();
  const publishHosts = (hosts) => {
    generation++;
    byId.clear();
    for (const h of hosts) byId.set(h.id, h);
    latestHosts = hosts;
    emit('hosts', hosts);
  };
  const applyPush = (msg) => {
    const ids = applyFrame(byId, msg);
    if (ids === null) return;
    generation++;
    latestHosts = [...byId.values()].sort(byName);
    emit('hosts', latestHosts);
    if (msg.type === 'delta') for (const id of ids) emit('host', id);
  };

  async function pollOnce() {
    const startedAt = generation;
    try {
      const hosts = await fetchHosts();
      if (generation === startedAt) publishHosts(hosts);
    } catch (err) {
      console.warn('polling /api/hosts failed', err);
    }
  }

  let pollEvery = 0;
  function pollAt(ms) {
    if (pollTimer !== null && pollEvery === ms) return;
    if (pollTimer !== null) clearInterval(pollTimer);
    pollEvery = ms;
    pollTimer = setInterval(pollOnce, ms);
  }
  const pollFast = () => pollAt(POLL_MS);
  const pollSlow = () => pollAt(LIVE_POLL_MS);

  function scheduleReconnect() {
    if (reconnectTimer !== null) return;
    const delay = backoff + Math.random() * backoff * 0.2;
    backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      connect();
    }, delay);
  }

  function connect() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws;
    try {
      ws = new WebSocket(`${proto}//${location.host}/live`, liveProtocols());
    } catch (err) {
      console.warn('WebSocket unavailable', err);
      setStatus('polling');
      if (latestHosts === null) pollOnce();
      pollFast();
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.addEventListener('open', () => {
      everOpen = true;
      backoff = BACKOFF_MIN_MS;
      pollSlow();
      setStatus('live');
      // The server sends the whole fleet first: that is the catch-up after a disconnect.
    });
    ws.addEventListener('message', (ev) => {
      let msg;
      try {
        msg = JSON.parse(typeof ev.data === 'string' ? ev.data : '');
      } catch {
        return;
      }
      if (msg && msg.type === 'class-change' && typeof msg.hostId === 'string') emit('classChange', msg);
      else applyPush(msg);
    });
    ws.addEventListener('close', () => {
      if (socket !== ws) return;
      socket = null;
      setStatus('polling');
      // No snapshot ever came: read the fleet now rather than at the first poll tick.
      if (!everOpen && latestHosts === null) pollOnce();
      pollFast();
      scheduleReconnect();
    });
    // 'error' is always followed by 'close'; nothing to do here.
  }

  // The socket's first frame is the whole fleet, so no poll at start (at 5,000 hosts each costs the
  // collector about as much as the snapshot). Connecting waits a task, so the view mounted right
  // after this (app.js) sends its own first request before the snapshot occupies the collector.
  let everOpen = false;
  setTimeout(connect, 0);

  return {
    get hosts() {
      return latestHosts;
    },
    get status() {
      return status;
    },
    onHosts(fn) {
      listeners.hosts.add(fn);
      return () => listeners.hosts.delete(fn);
    },
    onHostHint(fn) {
      listeners.host.add(fn);
      return () => listeners.host.delete(fn);
    },
    onClassChange(fn) {
      listeners.classChange.add(fn);
      return () => listeners.classChange.delete(fn);
    },
    onStatus(fn) {
      listeners.status.add(fn);
      return () => listeners.status.delete(fn);
    },
    refresh: pollOnce,
  };
}
