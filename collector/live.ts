// WebSocket push to dashboards on /live: the fleet list whenever data changed, at most once
// per interval, so a busy fleet cannot flood browsers.
import type { WebSocketServer } from 'ws';

export interface Live {
  /** Marks a host as changed; subscribers get the fleet list on the next tick. */
  changed(hostId: string): void;
  close(): void;
}

export function attachLive(wss: WebSocketServer, fleet: () => Promise<unknown[]>, intervalMs = 1000): Live {
  const dirty = new Set<string>();
  wss.on('connection', (ws) => {
    // A new page gets the current list at once.
    void fleet().then((hosts) => ws.send(JSON.stringify({ type: 'hosts', hosts })));
    ws.on('message', () => ws.close(4401, 'live is push-only'));
  });
  const timer = setInterval(() => {
    if (dirty.size === 0 || wss.clients.size === 0) return;
    const ids = [...dirty];
    dirty.clear();
    void fleet().then((hosts) => {
      const frames = [JSON.stringify({ type: 'hosts', hosts }), ...ids.map((id) => JSON.stringify({ type: 'host', id }))];
      for (const ws of wss.clients) if (ws.readyState === ws.OPEN) for (const f of frames) ws.send(f);
    });
  }, intervalMs);
  timer.unref();
  return {
    changed: (id) => dirty.add(id),
    close: () => clearInterval(timer),
  };
}
