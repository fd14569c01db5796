// WebSocket push to dashboards on /live, from the in-memory fleet summary (fleet-state.ts), never
// a store query. A new page gets the whole fleet at once ({type:'snapshot'}); then, at most once
// per interval, each page gets what changed since the version it holds ({type:'delta'}: changed
// hosts only, each with only its changed trend buckets). Pages at the same version share one
// encoded frame.
//
// Slow pages: before each send the socket's bufferedAmount is checked. Over maxBufferedBytes the
// page is skipped (its version stays, so the changes coalesce into its next delta: one entry per
// host however many ticks it missed); a page over the limit for slowCloseMs is terminated. What
// the collector buffers for one page is thus at most maxBufferedBytes plus one frame.
import type { WebSocket, WebSocketServer } from 'ws';
import type { FleetHost, FleetState } from './fleet-state.js';

export interface LiveOptions {
  intervalMs: number;
  /** A page with more than this many bytes not yet written to it is skipped this tick. */
  maxBufferedBytes: number;
  /** A page over maxBufferedBytes this long is closed. */
  slowCloseMs: number;
}

export const defaultLiveOptions: LiveOptions = { intervalMs: 1000, maxBufferedBytes: 1024 * 1024, slowCloseMs: 30_000 };

export interface LiveStats {
  clients: number;
  /** Page-ticks skipped because the page had too much unsent. */
  skipped: number;
  /** Pages closed for staying over the limit. */
  closedSlow: number;
  framesSent: number;
  bytesSent: number;
  /** Largest bufferedAmount seen on any page right after a send. */
  maxBufferedSeen: number;
}

export interface Live {
  /**
   * Sends one frame to every page now (e.g. an event of a feed), under the same bound: a page
   * over maxBufferedBytes does not get it (counted in `skipped`; it can re-read the feed).
   */
  broadcast(frame: unknown): void;
  stats(): LiveStats;
  close(): void;
}

interface Page {
  version: number;
  overSinceMs: number | null;
}

/** The frames sent to pages (the dashboard's live.js reads them). */
export interface LiveFrame {
  type: 'snapshot' | 'delta';
  /** Fleet version this frame brings the page to. */
  version: number;
  /** Collector time: the page drops trend buckets older than nowMs - trendMs. */
  nowMs: number;
  trendMs: number;
  onlineWithinMs: number;
  hosts: FleetHost[];
}

export function attachLive(wss: WebSocketServer, fleet: FleetState, opts: Partial<LiveOptions> = {}, now: () => number = Date.now): Live {
  const o = { ...defaultLiveOptions, ...opts };
  const pages = new Map<WebSocket, Page>();
  const stats = { skipped: 0, closedSlow: 0, framesSent: 0, bytesSent: 0, maxBufferedSeen: 0 };

  const frame = (type: LiveFrame['type'], hosts: FleetHost[], version: number): string =>
    JSON.stringify({ type, version, nowMs: now(), trendMs: fleet.options.trendMs, onlineWithinMs: fleet.options.onlineWithinMs, hosts } satisfies LiveFrame);
  const send = (ws: WebSocket, data: string): void => {
    ws.send(data);
    stats.framesSent++;
    stats.bytesSent += data.length;
    stats.maxBufferedSeen = Math.max(stats.maxBufferedSeen, ws.bufferedAmount);
  };

  wss.on('connection', (ws) => {
    fleet.sweep(now());
    const version = fleet.version;
    pages.set(ws, { version, overSinceMs: null });
    send(ws, frame('snapshot', fleet.list(), version));
    ws.on('message', () => ws.close(4401, 'live is push-only'));
    ws.on('close', () => pages.delete(ws));
    ws.on('error', () => pages.delete(ws));
  });

  const tick = (): void => {
    if (pages.size === 0) return;
    const t = now();
    fleet.sweep(t);
    const version = fleet.version;
    // One encoded delta per starting version: pages in step (the usual case) share it.
    const byVersion = new Map<number, string>();
    for (const [ws, page] of pages) {
      if (ws.readyState !== ws.OPEN) continue;
      if (ws.bufferedAmount > o.maxBufferedBytes) {
        page.overSinceMs ??= t;
        if (t - page.overSinceMs >= o.slowCloseMs) {
          stats.closedSlow++;
          pages.delete(ws);
          ws.terminate();
        } else stats.skipped++;
        continue;
      }
      page.overSinceMs = null;
      if (page.version >= version) continue;
      let data = byVersion.get(page.version);
      if (data === undefined) byVersion.set(page.version, (data = frame('delta', fleet.changedSince(page.version), version)));
      send(ws, data);
      page.version = version;
    }
  };
  const timer = setInterval(tick, o.intervalMs);
  timer.unref();
  return {
    broadcast(frame) {
      const data = JSON.stringify(frame);
      for (const ws of pages.keys()) {
        if (ws.readyState !== ws.OPEN) continue;
        if (ws.bufferedAmount > o.maxBufferedBytes) stats.skipped++;
        else send(ws, data);
      }
    },
    stats: () => ({ clients: pages.size, ...stats }),
    close: () => clearInterval(timer),
  };
}
