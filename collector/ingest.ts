// Agent streams: challenge → authenticated hello → signed batches, each verified, committed
// and only then acked. Bad or hostile frames close only their own connection, with a close code,
// a reason, a log line and a counter; refused authentication and integrity failures are also
// recorded as security events.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';
import { batchHash, enrollProof, helloSigningBytes, safeEqual, samplesDigest, verifySignature } from '../proto/chain.js';
import { CloseCode, WireError, assay, decodeAgentMessage, decodeSample, encodeCollectorMessage, type IHello } from '../proto/codec.js';
import type { Logger } from '../proto/log.js';
import type { CollectorMetrics } from './metrics.js';
import { validateSample } from './validate.js';
import type { HostRecord, IncomingBatch, Store } from './store/store.js';

export interface IngestLimits {
  maxFrameBytes: number;
  maxBatchSamples: number;
  helloTimeoutMs: number;
  /** Most agents connected at once. */
  maxAgents: number;
  /** Samples per second one agent may send on average (token bucket), and the burst allowance. */
  rateSamplesPerSec: number;
  rateBurstSamples: number;
  /** Largest accepted difference between an agent's clock and the collector's. */
  maxClockSkewMs: number;
  /** Frames read ahead of the store per connection before the socket is paused (back-pressure). */
  maxPendingFrames: number;
}

export const defaultIngestLimits: IngestLimits = {
  maxFrameBytes: 4 * 1024 * 1024,
  maxBatchSamples: 1000,
  helloTimeoutMs: 10_000,
  maxAgents: 10_000,
  rateSamplesPerSec: 50,
  rateBurstSamples: 100_000,
  maxClockSkewMs: 5 * 60_000,
  maxPendingFrames: 4,
};

export interface IngestDeps {
  store: Store;
  logger: Logger;
  metrics: CollectorMetrics;
  limits: IngestLimits;
  version: string;
  /** Enrollment secret for agents the collector does not know yet; none = no new agents. */
  enrollSecret: string | null;
  /** Called after a batch is committed, with the samples it newly stored. */
  onStored(hostId: string, samples: assay.v1.ISample[]): void;
  now?: () => number;
}

const AGENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const SECURITY_REASONS = new Set(['unknown_agent', 'revoked', 'bad_hello_signature', 'key_mismatch', 'bad_signature', 'digest_mismatch', 'replayed', 'chain_break', 'wrong_agent']);

const forbidden = (reason: string, msg: string) => new WireError(CloseCode.forbidden, reason, msg);
const invalid = (reason: string, msg: string) => new WireError(CloseCode.invalid, reason, msg);
const integrity = (reason: string, msg: string) => new WireError(CloseCode.integrity, reason, msg);

function checkSkew(agentMs: number | null | undefined, nowMs: number, limits: IngestLimits, what: string): void {
  if (agentMs && Math.abs(agentMs - nowMs) > limits.maxClockSkewMs) {
    throw invalid('clock_skew', `${what} is ${Math.round((agentMs - nowMs) / 1000)} s off the collector's clock (limit ${limits.maxClockSkewMs / 1000} s)`);
  }
}

/** Serves agent connections on a WebSocketServer (already bound to the /ingest path). */
export function attachIngest(wss: WebSocketServer, deps: IngestDeps): { connected(): string[] } {
  const now = deps.now ?? Date.now;
  const byAgent = new Map<string, WebSocket>();
  const buckets = new Map<string, { tokens: number; atMs: number }>();

  const takeTokens = (agentId: string, n: number): boolean => {
    const t = now();
    const b = buckets.get(agentId) ?? { tokens: deps.limits.rateBurstSamples, atMs: t };
    b.tokens = Math.min(deps.limits.rateBurstSamples, b.tokens + ((t - b.atMs) / 1000) * deps.limits.rateSamplesPerSec);
    b.atMs = t;
    buckets.set(agentId, b);
    if (b.tokens < n) return false;
    b.tokens -= n;
    return true;
  };

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const peer = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const nonce = randomBytes(32);
    let host: HostRecord | null = null;
    let chain: Promise<void> = Promise.resolve();
    let pending = 0;
    let closed = false;
    const log = deps.logger.child({ peer });

    const refuse = (err: unknown): void => {
      if (closed) return;
      const e = err instanceof WireError ? err : new WireError(CloseCode.storeFailure, 'internal', (err as Error).message);
      closed = true;
      deps.metrics.reject(e.reason);
      log.warn({ reason: e.reason, code: e.code, agentId: host?.id, err: e.message }, 'closing agent connection');
      if (SECURITY_REASONS.has(e.reason)) {
        void deps.store.recordSecurityEvent({ tsMs: now(), hostId: host?.id ?? null, peer, reason: e.reason, detail: e.message }).catch(() => undefined);
      }
      // Close reasons are limited to 123 bytes by the protocol.
      ws.close(e.code, Buffer.from(e.message).subarray(0, 123).toString());
    };

    const helloTimer = setTimeout(() => {
      if (!host) refuse(new WireError(CloseCode.helloTimeout, 'hello_timeout', `no hello within ${deps.limits.helloTimeoutMs} ms`));
    }, deps.limits.helloTimeoutMs);

    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes the socket itself (1009 for oversized frames); record why.
      const reason = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'frame_too_large' : 'protocol_error';
      deps.metrics.reject(reason);
      log.warn({ reason, agentId: host?.id, err: err.message }, 'agent connection error');
    });

    ws.on('close', () => {
      clearTimeout(helloTimer);
      closed = true;
      if (host && byAgent.get(host.id) === ws) byAgent.delete(host.id);
      deps.metrics.connectedAgents = byAgent.size;
    });

    ws.on('message', (data: Buffer, isBinary: boolean) => {
      deps.metrics.framesIn++;
      // Back-pressure: a client that sends faster than the store commits is read no further
      // until it catches up, so a slow collector slows agents down instead of buffering.
      if (++pending >= deps.limits.maxPendingFrames) ws.pause();
      // Frames are handled strictly in order: an ack must never overtake an earlier batch.
      chain = chain.then(async () => {
        try {
          if (closed) return;
          if (!isBinary) throw new WireError(CloseCode.unexpectedMessage, 'text_frame', 'text frames are not part of the protocol');
          const msg = decodeAgentMessage(data);
          if (msg.body === 'hello') await onHello(msg.hello!);
          else if (msg.body === 'batch') await onBatch(msg.batch!);
        } catch (err) {
          refuse(err);
        } finally {
          if (--pending < deps.limits.maxPendingFrames && !closed) ws.resume();
        }
      });
    });

    ws.send(encodeCollectorMessage({ challenge: { nonce, collectorTimeMs: now() } }));

    async function onHello(hello: IHello): Promise<void> {
      if (host) throw new WireError(CloseCode.unexpectedMessage, 'duplicate_hello', 'hello sent twice on one connection');
      const agentId = hello.agentId ?? '';
      if (!AGENT_ID.test(agentId)) throw invalid('bad_hello', 'hello.agent_id must be 1-128 characters of [A-Za-z0-9._:-]');
      if ((hello.hostname ?? '').length > 255) throw invalid('bad_hello', 'hello.hostname longer than 255 characters');
      checkSkew(hello.timeMs, now(), deps.limits, 'agent clock');
      const key = hello.publicKey ?? new Uint8Array();
      if (key.length !== 32) throw forbidden('bad_hello_signature', 'hello.public_key must be a 32-byte Ed25519 key');
      if (!verifySignature(key, helloSigningBytes(nonce, agentId, key), hello.nonceSignature ?? new Uint8Array())) {
        throw forbidden('bad_hello_signature', 'hello signature does not verify against its public key and this connection\'s challenge');
      }
      const known = await deps.store.getHost(agentId);
      if (known?.revokedMs) throw forbidden('revoked', `agent ${agentId} was revoked`);
      if (known?.publicKey) {
        if (!safeEqual(known.publicKey, key)) throw forbidden('key_mismatch', `agent ${agentId} presented a different key than it enrolled with`);
      } else {
        const proof = hello.enrollProof ?? new Uint8Array();
        if (!deps.enrollSecret || !safeEqual(proof, enrollProof(deps.enrollSecret, agentId, key))) {
          throw forbidden('unknown_agent', `agent ${agentId} is not enrolled and has no valid enrollment proof`);
        }
      }
      if (!byAgent.has(agentId) && byAgent.size >= deps.limits.maxAgents) {
        throw new WireError(CloseCode.tryAgainLater, 'too_many_agents', `collector is at its limit of ${deps.limits.maxAgents} connected agents`);
      }
      host = await deps.store.upsertHost(hello, now());
      if (!known) log.info({ agentId, reason: 'enrolled' }, 'agent enrolled');
      clearTimeout(helloTimer);
      const previous = byAgent.get(agentId);
      if (previous && previous !== ws) previous.close(CloseCode.normal, 'replaced by a newer connection of the same agent');
      byAgent.set(agentId, ws);
      deps.metrics.connectedAgents = byAgent.size;
      log.info({ agentId, hostname: host.hostname, lastSeq: host.lastSeq }, 'agent connected');
      ws.send(
        encodeCollectorMessage({
          welcome: {
            collectorVersion: deps.version,
            lastSeq: host.lastSeq,
            maxBatchSamples: deps.limits.maxBatchSamples,
            maxFrameBytes: deps.limits.maxFrameBytes,
            chainHead: host.chainHead ?? new Uint8Array(),
          },
        }),
      );
    }

    async function onBatch(signed: assay.v1.ISignedBatch): Promise<void> {
      if (!host) throw new WireError(CloseCode.unexpectedMessage, 'batch_before_hello', 'batch sent before hello');
      const current = await deps.store.getHost(host.id);
      if (current?.revokedMs) throw forbidden('revoked', `agent ${host.id} was revoked`);
      const headerBytes = signed.header ?? new Uint8Array();
      const rawSamples = signed.samples ?? [];
      if (rawSamples.length > deps.limits.maxBatchSamples) {
        throw invalid('batch_too_large', `batch of ${rawSamples.length} samples exceeds the limit of ${deps.limits.maxBatchSamples}`);
      }
      if (!verifySignature(host.publicKey!, headerBytes, signed.signature ?? new Uint8Array())) {
        throw forbidden('bad_signature', 'batch signature does not verify against the agent\'s enrolled key');
      }
      let header: assay.v1.BatchHeader;
      try {
        header = assay.v1.BatchHeader.decode(headerBytes);
      } catch (err) {
        throw new WireError(CloseCode.malformed, 'malformed', `malformed batch header: ${(err as Error).message}`);
      }
      if (header.agentId !== host.id) throw forbidden('wrong_agent', `batch header names agent ${header.agentId}, not ${host.id}`);
      const seqs = header.seqs ?? [];
      if (seqs.length !== rawSamples.length) throw invalid('bad_batch', `header lists ${seqs.length} sequence numbers for ${rawSamples.length} samples`);
      for (let i = 0; i < seqs.length; i++) {
        if (!Number.isSafeInteger(seqs[i]) || seqs[i]! < 1 || (i > 0 && seqs[i]! <= seqs[i - 1]!)) throw invalid('bad_batch', 'sequence numbers must be positive and strictly ascending');
      }
      if (!safeEqual(samplesDigest(rawSamples), header.samplesDigest ?? new Uint8Array())) {
        throw integrity('digest_mismatch', 'samples do not match the digest the agent signed');
      }
      if (!takeTokens(host.id, Math.max(1, rawSamples.length))) {
        throw new WireError(CloseCode.rateLimited, 'rate_limited', `agent exceeds ${deps.limits.rateSamplesPerSec} samples/s`);
      }
      const nowMs = now();
      const batch: IncomingBatch = {
        hash: batchHash(headerBytes),
        prevHash: header.prevHash ?? new Uint8Array(),
        header: headerBytes,
        signature: signed.signature!,
        samples: rawSamples.map((bytes, i) => {
          const sample = decodeSample(bytes);
          validateSample(sample, seqs[i]!);
          checkSkew(sample.tsMs, nowMs, deps.limits, `sample ${seqs[i]} timestamp`);
          return { seq: seqs[i]!, sample, bytes };
        }),
        gaps: (header.gaps ?? []).map((g) => ({ fromSeq: g.fromSeq ?? 0, toSeq: g.toSeq ?? 0, fromMs: g.fromMs ?? 0, toMs: g.toMs ?? 0, cause: (g.cause ?? '').slice(0, 64), samples: g.samples ?? 0 })),
      };
      const result = await deps.store.appendBatch(host.id, batch, nowMs);
      if (result.status === 'replayed') throw integrity('replayed', 'batch was already committed earlier in the chain');
      if (result.status === 'chain_break') throw integrity('chain_break', 'batch does not extend the agent\'s hash chain (dropped, reordered or spliced)');
      deps.metrics.samplesStored += result.accepted;
      deps.metrics.samplesDuplicate += result.duplicates;
      if (batch.gaps.length) log.warn({ agentId: host.id, reason: 'agent_gap', gaps: batch.gaps }, 'agent reported lost samples');
      if (ws.readyState === ws.OPEN) {
        ws.send(encodeCollectorMessage({ ack: { lastSeq: result.lastSeq, accepted: result.accepted, duplicates: result.duplicates, chainHead: batch.hash } }));
      }
      if (result.accepted > 0) {
        const stored = new Set(result.storedSeqs);
        deps.onStored(host.id, batch.samples.filter((s) => stored.has(s.seq)).map((s) => s.sample));
      }
    }
  });

  return { connected: () => [...byAgent.keys()] };
}
