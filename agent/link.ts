// The agent's WebSocket client: answer the collector's challenge with a signed Hello, then send
// sealed batches from the spool one at a time, each until its hash is acked. Reconnects with
// jittered exponential backoff; the collector's Welcome says which batches it already has.
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { enrollProof, helloSigningBytes, signBytes } from '../proto/chain.js';
import { CloseCode, decodeCollectorMessage, encodeAgentMessage, type IHello } from '../proto/codec.js';
import type { AgentLogger } from './log.js';
import type { AgentIdentity } from './identity.js';
import { signedBatchMessage } from './batch.js';
import type { Spool } from './spool.js';

export interface LinkOptions {
  url: string;
  identity: AgentIdentity;
  /** Collector enrollment secret; needed only until the collector knows this agent. */
  enrollSecret?: string;
  /** Hello fields besides identity and proofs. */
  hello: () => IHello;
  spool: Spool;
  logger: AgentLogger;
  /** How often a batch is sent while samples are waiting. */
  batchIntervalMs: number;
  maxBatchSamples: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** No ack within this long → the connection is dropped and re-established. */
  ackTimeoutMs: number;
  /** Extra WebSocket client options (e.g. `ca` for a private CA). */
  wsOptions?: WebSocket.ClientOptions;
  /** Pinned collector certificate, `sha256:AB:CD:…` (a self-signed collector). */
  pin?: string;
}

/** Close reasons (integrity) after which the unacked chained batch is sealed again as a keyframe: the collector cannot use its prior. */
const CHAIN_REFUSALS = ['prior_unknown', 'prior_unreadable', 'chain_too_long'];

/** TLS verification failures, by Node's error code, and what the operator should do. */
const TLS_ADVICE: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate: pass --pin sha256:… (printed by the collector) or --ca <file>',
  SELF_SIGNED_CERT_IN_CHAIN: 'certificate chain ends in an untrusted self-signed CA: pass --ca <file> or --pin sha256:…',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate not signed by a trusted CA: pass --ca <file> or --pin sha256:…',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate issuer unknown: pass --ca <file> or --pin sha256:…',
  CERT_HAS_EXPIRED: 'collector certificate has expired',
  CERT_NOT_YET_VALID: 'collector certificate is not valid yet (check the clocks)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'collector certificate does not name this host: connect by a name it lists, or --pin sha256:…',
};

/** A connection error as one line an operator can act on (the close that follows says only 1006). */
export function describeConnectError(err: Error & { code?: string }, url: string): { reason: string; message: string } {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return { reason: 'connection_refused', message: `connection refused: ${url}` };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { reason: 'host_not_found', message: `collector host not found: ${url}` };
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return { reason: 'unreachable', message: `collector unreachable (${code}): ${url}` };
  if (TLS_ADVICE[code]) return { reason: 'tls_certificate', message: `${TLS_ADVICE[code]} (${url}: ${err.message})` };
  return { reason: 'connect_error', message: `${err.message} (${url})` };
}

export const defaultLinkTiming = { batchIntervalMs: 5_000, maxBatchSamples: 500, minBackoffMs: 500, maxBackoffMs: 30_000, ackTimeoutMs: 30_000 };

export class Link {
  private ws: WebSocket | null = null;
  private stopped = false;
  private attempt = 0;
  private inflight: { hash: Buffer; timer: NodeJS.Timeout } | null = null;
  private sendTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private ready = false;
  private maxBatch: number;
  private maxBatchBytes = Infinity;
  /** Highest seq the collector confirmed on this run. */
  ackedSeq = 0;
  connected = false;
  /** Last close the collector gave (code and reason), for status and tests. */
  lastClose: { code: number; reason: string } | null = null;
  /** Why the last connection attempt failed before the collector said anything (for the close line). */
  private lastError: { reason: string; message: string } | null = null;

  constructor(private readonly opts: LinkOptions) {
    this.maxBatch = opts.maxBatchSamples;
  }

  start(): void {
    this.connect();
  }

  /** Asks for a send soon (the agent calls this after spooling a sample). */
  poke(): void {
    if (!this.ready || this.inflight || this.sendTimer) return;
    this.sendTimer = setTimeout(() => {
      this.sendTimer = null;
      this.sendBatch();
    }, this.opts.batchIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of [this.sendTimer, this.reconnectTimer, this.inflight?.timer]) if (t) clearTimeout(t);
    const ws = this.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(CloseCode.normal, 'agent stopping');
        setTimeout(() => {
          ws.terminate();
          resolve();
        }, 2_000).unref();
      });
    }
  }

  private connect(): void {
    if (this.stopped) return;
    const pinned = this.opts.pin ? { rejectUnauthorized: false } : {};
    const ws = new WebSocket(this.opts.url, { perMessageDeflate: false, handshakeTimeout: 10_000, maxPayload: 1024 * 1024, ...pinned, ...this.opts.wsOptions });
    this.ws = ws;
    ws.binaryType = 'nodebuffer';
    if (this.opts.pin) {
      // With a pin the chain is not checked against CAs; the certificate must be exactly this one.
      // Nothing but the upgrade request has been sent when this runs.
      ws.on('upgrade', (res) => {
        const cert = (res.socket as TLSSocket).getPeerCertificate?.();
        const got = cert?.fingerprint256 ? `sha256:${cert.fingerprint256}` : 'none';
        if (got.toUpperCase() !== this.opts.pin!.toUpperCase()) {
          this.lastError = { reason: 'pin_mismatch', message: `certificate fingerprint mismatch: pinned ${this.opts.pin}, collector presented ${got}` };
          this.opts.logger.error({ reason: 'pin_mismatch', expected: this.opts.pin, got }, this.lastError.message);
          ws.terminate();
        }
      });
    }
    ws.on('open', () => {
      this.connected = true;
      this.lastError = null;
    });
    ws.on('message', (data: Buffer) => {
      try {
        this.onMessage(ws, data);
      } catch (err) {
        this.opts.logger.warn({ reason: 'bad_collector_frame', err: (err as Error).message }, 'dropping connection');
        ws.terminate();
      }
    });
    ws.on('error', (err: Error & { code?: string }) => {
      const e = describeConnectError(err, this.opts.url);
      this.lastError ??= e;
      this.opts.logger.debug({ reason: e.reason, code: err.code, err: err.message }, 'collector connection error');
    });
    ws.on('close', (code, reason) => {
      this.connected = false;
      this.ready = false;
      this.lastClose = { code, reason: reason.toString() };
      if (this.inflight) clearTimeout(this.inflight.timer);
      this.inflight = null;
      if (this.sendTimer) clearTimeout(this.sendTimer);
      this.sendTimer = null;
      const failure = this.lastError;
      this.lastError = null;
      if (this.stopped) return;
      const text = reason.toString();
      // The collector does not hold the batch our unacked one is chained to (its store lost it),
      // cannot read it (a damaged store), or refuses a chain that long (a collector with a shorter
      // limit than this agent's): that batch goes again as a keyframe, which decodes on its own.
      const unchain = CHAIN_REFUSALS.find((r) => text.startsWith(r));
      if (code === CloseCode.integrity && unchain && this.opts.spool.resealKeyframe((h) => signBytes(this.opts.identity, h))) {
        this.opts.logger.warn({ code, reason: unchain }, 'collector cannot decode our batch against the batch before it: sealed it again as a keyframe');
      }
      // Refusals (not enrolled, revoked, rate limited, collector full) will not heal in a second:
      // back off exponentially without the jitter that may pick the minimum again.
      const refused = code === CloseCode.forbidden || code === CloseCode.rateLimited || code === CloseCode.tryAgainLater;
      const delay = refused ? this.refusedBackoff() : this.backoff();
      if (code === CloseCode.forbidden && /not enrolled/.test(text)) {
        this.opts.logger.error(
          { code, reason: 'not_enrolled', detail: text, retryInMs: delay },
          'not enrolled at the collector: pass --enroll-secret-file <the collector\'s enroll-secret file> (or ASSAY_ENROLL_SECRET) for the first connection',
        );
      } else if (failure) {
        this.opts.logger.error({ code, reason: failure.reason, retryInMs: delay }, `collector connection failed: ${failure.message}`);
      } else {
        const log = code >= 4000 ? this.opts.logger.error.bind(this.opts.logger) : this.opts.logger.warn.bind(this.opts.logger);
        log({ code, reason: text || undefined, retryInMs: delay }, 'collector connection closed');
      }
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    });
  }

  private onMessage(ws: WebSocket, data: Buffer): void {
    const msg = decodeCollectorMessage(data);
    const { identity } = this.opts;
    if (msg.body === 'challenge') {
      const nonce = msg.challenge!.nonce ?? new Uint8Array();
      ws.send(
        encodeAgentMessage({
          hello: {
            ...this.opts.hello(),
            agentId: identity.agentId,
            publicKey: identity.publicKey,
            nonceSignature: signBytes(identity, helloSigningBytes(nonce, identity.agentId, identity.publicKey)),
            ...(this.opts.enrollSecret ? { enrollProof: enrollProof(this.opts.enrollSecret, identity.agentId, identity.publicKey) } : {}),
            timeMs: Date.now(),
          },
        }),
      );
    } else if (msg.body === 'welcome') {
      const w = msg.welcome!;
      this.attempt = 0;
      this.ready = true;
      if (w.maxBatchSamples) this.maxBatch = Math.min(this.opts.maxBatchSamples, w.maxBatchSamples);
      // Leave room for the header, signature and framing (a few bytes per sample).
      if (w.maxFrameBytes) this.maxBatchBytes = Math.floor(w.maxFrameBytes * 0.9) - 4096;
      // Batches up to the collector's chain head are committed there (an ack lost in a crash).
      if (w.chainHead?.length) this.opts.spool.ackBatch(w.chainHead);
      this.ackedSeq = Math.max(this.ackedSeq, w.lastSeq ?? 0);
      this.opts.logger.info({ url: this.opts.url, lastSeq: w.lastSeq, spooled: this.opts.spool.size }, 'connected to collector');
      this.sendBatch();
    } else if (msg.body === 'ack') {
      const a = msg.ack!;
      if (this.inflight) clearTimeout(this.inflight.timer);
      this.inflight = null;
      if (a.chainHead?.length) this.opts.spool.ackBatch(a.chainHead);
      this.ackedSeq = Math.max(this.ackedSeq, a.lastSeq ?? 0);
      // Catch up without waiting when a backlog remains (after an outage).
      setImmediate(() => this.sendBatch(true));
    }
  }

  /** Full jitter exponential backoff: uniform in [min, min * 2^attempt], capped. */
  private backoff(): number {
    const cap = Math.min(this.opts.maxBackoffMs, this.opts.minBackoffMs * 2 ** this.attempt++);
    return Math.round(this.opts.minBackoffMs + Math.random() * Math.max(0, cap - this.opts.minBackoffMs));
  }

  /** Plain exponential backoff for refusals: min * 2^attempt, capped at maxBackoffMs. */
  private refusedBackoff(): number {
    return Math.min(this.opts.maxBackoffMs, this.opts.minBackoffMs * 2 ** this.attempt++);
  }

  /** Sends the next batch; with `backlogOnly`, only when a full batch or a sealed resend is waiting. */
  private sendBatch(backlogOnly = false): void {
    const ws = this.ws;
    if (!this.ready || this.inflight || !ws || ws.readyState !== WebSocket.OPEN) return;
    if (backlogOnly && this.opts.spool.unsentCount < this.maxBatch && !this.opts.spool.hasSealed) {
      if (this.opts.spool.unsentCount > 0) this.poke();
      return;
    }
    const { identity } = this.opts;
    const batch = this.opts.spool.nextBatch(identity.agentId, this.maxBatch, (h) => signBytes(identity, h), Date.now(), this.maxBatchBytes);
    if (!batch) return;
    this.inflight = {
      hash: batch.hash,
      timer: setTimeout(() => {
        this.opts.logger.warn({ reason: 'ack_timeout', lastSeq: batch.lastSeq }, 'no ack from collector; reconnecting');
        ws.terminate();
      }, this.opts.ackTimeoutMs),
    };
    ws.send(encodeAgentMessage({ batch: signedBatchMessage(batch) }));
  }
}
