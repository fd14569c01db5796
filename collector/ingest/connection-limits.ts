// Bounds on TCP connections before they become HTTP requests or agent streams: a connection must
// complete its first request's headers within idleTimeoutMs (else it is destroyed), and one remote
// address may hold at most maxPreAuthPerAddress such connections (extra ones are destroyed at
// once). The slots are the same ones ingest connections hold while awaiting hello, so "not yet
// authenticated" has one cap per address. Idle keep-alive connections and slow requests after
// the first are bounded by Node's own keepAliveTimeout / headersTimeout / requestTimeout, set here.
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Logger } from '../../proto/log.js';
import type { CollectorMetrics } from '../metrics.js';
import type { AddressSlots } from './gates.js';
import type { IngestLimits } from './limits.js';

const pendingFirstRequest = Symbol('assay.pendingFirstRequest');
type Tracked = Socket & { [pendingFirstRequest]?: () => void };

/** A TLS socket's underlying TCP socket (the one 'connection' saw); the socket itself for plain HTTP. */
const rawOf = (s: Socket): Tracked => ((s as unknown as { _parent?: Socket })._parent ?? s) as Tracked;

export function applyConnectionLimits(
  server: HttpServer | HttpsServer,
  limits: Pick<IngestLimits, 'idleTimeoutMs' | 'maxPreAuthPerAddress'>,
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
        logger.warn({ reason: 'preauth_cap', address, cap: limits.maxPreAuthPerAddress }, 'refusing connections: address holds too many that have not sent a request or hello');
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
    const done = (): void => {
      if (!socket[pendingFirstRequest]) return;
      socket[pendingFirstRequest] = undefined;
      clearTimeout(timer);
      preAuth.release(address);
    };
    socket[pendingFirstRequest] = done;
    socket.once('close', done);
  });
  const started = (socket: Socket): void => rawOf(socket)[pendingFirstRequest]?.();
  server.on('request', (req) => started(req.socket));
  // Before ws's own upgrade listener runs (registered later), so the ingest slot is free for it.
  server.prependListener('upgrade', (req) => started(req.socket));
}
