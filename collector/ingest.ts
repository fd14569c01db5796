// Agent ingest: serves agent WebSocket connections, each driven through the explicit states of
// ingest/states.ts by ingest/connection.ts. This module owns what connections share: the map of
// connected agents, the per-agent sample rate, the per-address enrollment throttle and the
// per-address cap on connections that have not authenticated.
import type { WebSocket, WebSocketServer } from 'ws';
import type { IncomingMessage } from 'node:http';
import { IngestConnection, type IngestDeps, type IngestShared } from './ingest/connection.js';
import { AddressSlots, TokenBuckets } from './ingest/gates.js';

export { defaultIngestLimits, type IngestLimits } from './ingest/limits.js';
export type { IngestDeps } from './ingest/connection.js';

export interface Ingest {
  connected(): string[];
  /** Connections per remote address that have not authenticated (shared with the HTTP layer). */
  preAuth: AddressSlots;
}

/** Serves agent connections on a WebSocketServer (already bound to the /ingest path). */
export function attachIngest(wss: WebSocketServer, deps: IngestDeps): Ingest {
  const now = deps.now ?? Date.now;
  const l = deps.limits;
  const shared: IngestShared = {
    deps,
    now,
    byAgent: new Map<string, WebSocket>(),
    sampleRate: new TokenBuckets(l.rateSamplesPerSec, l.rateBurstSamples, now, Math.max(10_000, l.maxAgents * 2)),
    enrollFailures: new TokenBuckets(l.enrollFailuresPerMin / 60, l.enrollFailureBurst, now),
    enrolling: new Map(),
    preAuth: new AddressSlots(l.maxPreAuthPerAddress, l.maxPreAuthTotal),
  };
  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => new IngestConnection(ws, req, shared));
  return { connected: () => [...shared.byAgent.keys()], preAuth: shared.preAuth };
}
