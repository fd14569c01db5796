// Bounds on TCP connections that are not authenticated agent streams: a connection must complete
// its first request's headers within idleTimeoutMs (else it is destroyed); one remote address may
// hold at most maxPreAuthPerAddress, and all addresses together maxPreAuthTotal, such connections
// (extra ones are destroyed at once). A plain HTTP connection holds its slot for its whole life,
// keep-alive included (released at its first request, one address could hold any number by
// sending a request first); an upgrade hands it over: /ingest connections hold a slot of the
// same pool until their hello, so "not authenticated" has one cap. Idle keep-alive connections
// and slow requests after the first are bounded by Node's keepAliveTimeout / headersTimeout /
// requestTimeout, set here.
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Logger } from '../../proto/log.js';
import type { CollectorMetrics } from '../metrics.js';
import type { AddressSlots } from './gates.js';
import type { IngestLimits } from './limits.js';

const pendingFirstRequest = Symbol('assay.pendingFirstRequest');
const releaseSlot = Symbol('assay.releaseSlot');
type Tracked = Socket & { [pendingFirstRequest]?: () => void; [releaseSlot]?: () => void };

/** A TLS socket's underlying TCP socket (the one 'connection' saw); the socket itself for plain HTTP. */
const rawOf = (s: Socket): Tracked => ((s as unknown as { _parent?: Socket })._parent ?? s) as Tracked;

export function applyConnectionLimits(
  server: HttpServer | HttpsServer,
  limits: Pick<IngestLimits, 'idleTimeoutMs' | 'maxPreAuthPerAddress' | 'maxPreAuthTotal'>,
  preAuth: AddressSlots,
  metrics: CollectorMetrics,
  logger: Logger,
): void {
  const idle = limits.idleTimeoutMs;
  server.headersTimeout = idle;
  server.requestTimeout = Math.max(idle, 30_000);
  server.keepAliveTimeout = Math.min(idle, 5_000);
  let warnedAtMs = 0;

  server.on('connection', (socket: Tracked) => {
    const address = socket.remoteAddress ?? 'unknown';
    if (!preAuth.acquire(address)) {
      metrics.reject('preauth_cap');
      // One line a minute at most: a flood must not become a log flood.
      if (Date.now() - warnedAtMs > 60_000) {
        warnedAtMs = Date.now();
        logger.warn({ reason: 'preauth_cap', address, cap: limits.maxPreAuthPerAddress, total: limits.maxPreAuthTotal }, 'refusing connections: this address, or all together, hold too many that are not authenticated agents');
      }
      socket.destroy();
      return;
    }
    const timer = setTimeout(() => {
      metrics.reject('idle_timeout');
      logger.debug({ reason: 'idle_timeout', address, idleTimeoutMs: idle }, 'closing a connection that sent no request');
      socket.destroy();
    }, idle);
    timer.unref();
    socket[pendingFirstRequest] = () => {
      socket[pendingFirstRequest] = undefined;
      clearTimeout(timer);
    };
    socket[releaseSlot] = () => {
      socket[releaseSlot] = undefined;
      clearTimeout(timer);
      preAuth.release(address);
    };
    socket.once('close', () => socket[releaseSlot]?.());
  });
  server.on('request', (req) => rawOf(req.socket)[pendingFirstRequest]?.());
  // Before ws's own upgrade listener runs (registered later), so the ingest slot is free for it.
  server.prependListener('upgrade', (req) => rawOf(req.socket)[releaseSlot]?.());
}
