// One agent connection driven through the states of states.ts: challenge → authenticated hello →
// signed batches, each verified, committed and only then acked. Bad or hostile frames close only
// their own connection, with a close code, a reason, a log line and a counter; refused
// authentication and integrity failures are also recorded as (aggregated) security events.
import { randomBytes, type KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { batchHash, enrollProof, helloSigningBytes, publicKeyFromRaw, safeEqual, samplesDigest, sha256, verifySignature } from '../../proto/chain.js';
import { CloseCode, OLDEST_SCHEMA_VERSION, WireError, assay, decodeAgentMessage, encodeCollectorMessage, type IHello, type IProcessSignature } from '../../proto/codec.js';
import { BatchEncoding, CHAIN_MAX_BATCHES, PayloadError, frameSamples, framedSamples, isPayloadEncoding, lastSample, payloadChained, payloadInflateLimit, payloadSamples, type PayloadSamples } from '../../proto/payload.js';
import { ChainTooLongError, priorOf } from '../store/chain.js';
import type { Logger } from '../../proto/log.js';
import type { CollectorMetrics } from '../metrics.js';
import { readLightSamples, type LightSample } from './light-sample.js';
import type { HostRecord, IncomingBatch, Store } from '../store/store.js';
import type { AddressSlots, TokenBuckets } from './gates.js';
import type { IngestLimits } from './limits.js';
import { STATES, refuseMessage, type ConnState } from './states.js';

export interface IngestDeps {
  store: Store;
  logger: Logger;
  metrics: CollectorMetrics;
  limits: IngestLimits;
  version: string;
  /** Enrollment secret for agents the collector does not know yet; none = no new agents. */
  enrollSecret: string | null;
  /** How many more agents may enroll (--max-enrollments less those enrolled); absent: no cap. */
  enrollmentRoom?(): number;
  /** Called when an agent has authenticated (its host as stored). */
  onHello?(host: HostRecord): void;
  /**
   * Called after a batch is committed and acked: the samples it newly stored as the ack path read
   * them (figures and signed processes only: light-sample.ts), and the batch as stored, for the
   * work that decodes it fully off the ack path (classification).
   */
  onStored(hostId: string, samples: assay.v1.ISample[], batch: CommittedBatch): void;
  now?: () => number;
}

/** A committed batch as classification gets it: its payload (decoded only when the host's turn comes). */
export interface CommittedBatch {
  encoding: number;
  payload: Uint8Array;
  /** The batch's sequence numbers, in payload order. */
  seqs: number[];
  /** The ones newly stored (a resent batch may hold samples stored before). */
  stored: number[];
  /** The signatures its references (ProcessSignature.same_as) name, by digest (hex), as the store resolved them. */
  signatures?: ReadonlyMap<string, IProcessSignature>;
  /** Its hash and its header's prev_hash (a chained batch's prior is the last sample of that batch). */
  hash: Uint8Array;
  prevHash: Uint8Array;
  /** For a chained batch (BATCH_ENCODING_CHAINED), the prior ingest decoded it with; null otherwise. */
  prior: Uint8Array | null;
}

/** What every connection of one collector shares. */
export interface IngestShared {
  deps: IngestDeps;
  now: () => number;
  byAgent: Map<string, WebSocket>;
  /** Samples per agent (rateSamplesPerSec). */
  sampleRate: TokenBuckets;
  /** Failed enrollments per remote address (enrollFailuresPerMin). */
  enrollFailures: TokenBuckets;
  /** Enrollments whose proof passed and whose row is not committed yet: agent id -> its key. */
  enrolling: Map<string, Uint8Array>;
  /** Connections per remote address that have not authenticated (maxPreAuthPerAddress). */
  preAuth: AddressSlots;
}

// An id is a segment of every per-host URL: `.` and `..` are the two a URL parser drops
// (`/api/hosts/..` is fetched as `/api/`), so such a host's pages could not be opened.
const AGENT_ID = /^(?!\.\.?$)[A-Za-z0-9._:-]{1,128}$/;
const SECURITY_REASONS = new Set([
  'unknown_agent', 'revoked', 'bad_hello_signature', 'key_mismatch', 'bad_signature', 'digest_mismatch', 'replayed', 'chain_break', 'wrong_agent',
  'seq_regression', 'enroll_throttled', 'preauth_cap', 'payload_too_large',
]);

const forbidden = (reason: string, msg: string) => new WireError(CloseCode.forbidden, reason, msg);
const invalid = (reason: string, msg: string) => new WireError(CloseCode.invalid, reason, msg);
const integrity = (reason: string, msg: string) => new WireError(CloseCode.integrity, reason, msg);

function checkSkew(agentMs: number | null | undefined, nowMs: number, limits: IngestLimits, what: string): void {
  if (agentMs && Math.abs(agentMs - nowMs) > limits.maxClockSkewMs) {
    throw invalid('clock_skew', `${what} is ${Math.round((agentMs - nowMs) / 1000)} s off the collector's clock (limit ${limits.maxClockSkewMs / 1000} s)`);
  }
}

/**
 * A sample may lie at most maxClockSkewMs ahead of the collector's clock, and may be as old as the
 * raw retention window: an agent resends what it spooled through an outage, byte for byte, so
 * refusing samples older than the skew (as this did) left every agent whose collector was down
 * longer than it resending one refused batch for ever.
 */
function checkSampleTime(tsMs: number | null | undefined, nowMs: number, limits: IngestLimits, seq: number): void {
  if (!tsMs) return; // refused as bad_sample when the sample is read
  if (tsMs - nowMs > limits.maxClockSkewMs) {
    throw invalid('clock_skew', `sample ${seq} timestamp is ${Math.round((tsMs - nowMs) / 1000)} s ahead of the collector's clock (limit ${limits.maxClockSkewMs / 1000} s)`);
  }
  if (nowMs - tsMs > limits.maxSampleAgeMs) {
    throw invalid('clock_skew', `sample ${seq} timestamp is older than the raw retention window (${Math.round(limits.maxSampleAgeMs / 86_400_000)} d): it would be deleted at once`);
  }
}

/**
 * Sets the largest data frame ws will read on this socket. ws takes the limit once per server
 * (maxPayload); its receiver keeps it in `_maxPayload`, read at each frame header, so changing it
 * applies from the next frame on. Checked here so a ws upgrade that renames it fails loudly.
 */
function setFrameLimit(ws: WebSocket, bytes: number): void {
  const receiver = (ws as unknown as { _receiver?: { _maxPayload?: number } })._receiver;
  if (!receiver || typeof receiver._maxPayload !== 'number') throw new Error('ws internals changed: cannot set a per-connection frame limit');
  receiver._maxPayload = bytes;
}

export class IngestConnection {
  state: ConnState = 'awaiting_hello';
  private readonly nonce = randomBytes(32);
  private readonly address: string;
  private readonly peer: string;
  private readonly log: Logger;
  private host: HostRecord | null = null;
  /** The enrolled public key, imported once per connection (not once per batch). */
  private hostKey: KeyObject | null = null;
  /** An enrolled agent a hello claimed to be, before it proved it (security events name it). */
  private claimed: string | null = null;
  /**
   * The last batch this connection committed (or acked as a duplicate), its last sample, and the
   * prior it was decoded with: the prior of the agent's next batch when it is chained
   * (BATCH_ENCODING_CHAINED), and of that same batch resent. Two samples per connection; any other
   * prior (the first batch after a reconnect, another collector's batch) is read back from the
   * store, so an agent resending its head again and again does not make each resend walk the chain.
   * `depth`: the batches from its keyframe through it (1: it decodes on its own).
   */
  private tail: { hash: Uint8Array; prevHash: Uint8Array; prior: Uint8Array | null; last: Uint8Array | null; depth: number } | null = null;
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private timer: NodeJS.Timeout | null = null;
  private holdsSlot = false;
  /** The agent's schema version (its Hello's); answers go out in it. Before the Hello: the oldest accepted. */
  private version = OLDEST_SCHEMA_VERSION;

  constructor(
    private readonly ws: WebSocket,
    req: IncomingMessage,
    private readonly s: IngestShared,
  ) {
    this.address = req.socket.remoteAddress ?? 'unknown';
    this.peer = `${this.address}:${req.socket.remotePort}`;
    this.log = s.deps.logger.child({ peer: this.peer });
    ws.on('error', (err: Error & { code?: string }) => this.onSocketError(err));
    ws.on('close', () => this.enter('closed'));
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(data, isBinary));
    if (!s.preAuth.acquire(this.address)) {
      const cap = s.deps.limits.maxPreAuthPerAddress;
      this.refuse(new WireError(CloseCode.tryAgainLater, 'preauth_cap', `${this.address} already holds ${cap} connections that have not said hello`));
      return;
    }
    this.holdsSlot = true;
    this.enter('awaiting_hello');
    ws.send(encodeCollectorMessage({ challenge: { nonce: this.nonce, collectorTimeMs: s.now() } }, this.version));
  }

  /** The one place a connection changes state: limits, timers and slots follow the table. */
  private enter(next: ConnState): void {
    if (next !== this.state && !STATES[this.state].next.includes(next)) throw new Error(`ingest: no way from ${this.state} to ${next}`);
    if (this.state === 'closed') return;
    this.state = next;
    const rule = STATES[next];
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.holdsSlot && !rule.preAuth) {
      this.holdsSlot = false;
      this.s.preAuth.release(this.address);
    }
    if (next === 'closed') {
      if (this.host && this.s.byAgent.get(this.host.id) === this.ws) this.s.byAgent.delete(this.host.id);
      this.s.deps.metrics.connectedAgents = this.s.byAgent.size;
      return;
    }
    setFrameLimit(this.ws, rule.maxFrameBytes(this.s.deps.limits));
    const t = rule.timeout?.(this.s.deps.limits);
    if (t) {
      this.timer = setTimeout(() => (t.error === 'terminate' ? this.ws.terminate() : this.refuse(t.error)), t.ms);
      this.timer.unref();
    }
  }

  /** Closes with the error's code and reason, logged, counted and (for security reasons) recorded. */
  private refuse(err: unknown): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    const e = err instanceof WireError ? err : new WireError(CloseCode.storeFailure, 'internal', (err as Error).message);
    const { deps, now } = this.s;
    deps.metrics.reject(e.reason);
    this.log.warn({ reason: e.reason, code: e.code, agentId: this.host?.id, err: e.message }, 'closing agent connection');
    if (SECURITY_REASONS.has(e.reason)) {
      void deps.store.recordSecurityEvent({ tsMs: now(), hostId: this.host?.id ?? this.claimed, peer: this.peer, reason: e.reason, detail: e.message }).catch(() => undefined);
    }
    this.enter('closing');
    // Close reasons are limited to 123 bytes by the protocol.
    this.ws.close(e.code, Buffer.from(e.message).subarray(0, 123).toString());
  }

  private onSocketError(err: Error & { code?: string }): void {
    // ws closes the socket itself (1009 for frames over the state's limit); record why.
    const reason = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'frame_too_large' : 'protocol_error';
    this.s.deps.metrics.reject(reason);
    const limit = STATES[this.state].maxFrameBytes(this.s.deps.limits);
    this.log.warn({ reason, state: this.state, frameLimit: limit, agentId: this.host?.id, err: err.message }, 'agent connection error');
    if (this.state !== 'closing' && this.state !== 'closed') this.enter('closing');
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    const { deps } = this.s;
    deps.metrics.framesIn++;
    // Back-pressure: a client that sends faster than the store commits is read no further
    // until it catches up, so a slow collector slows agents down instead of buffering.
    if (++this.pending >= deps.limits.maxPendingFrames) this.ws.pause();
    // Frames are handled strictly in order: an ack must never overtake an earlier batch.
    this.chain = this.chain.then(async () => {
      try {
        if (this.state === 'closing' || this.state === 'closed') return;
        if (!isBinary) throw new WireError(CloseCode.unexpectedMessage, 'text_frame', 'text frames are not part of the protocol');
        const msg = decodeAgentMessage(data);
        const kind = msg.body as 'hello' | 'batch';
        if (!STATES[this.state].accepts.includes(kind)) throw refuseMessage(this.state, kind);
        if (kind === 'hello') await this.onHello(msg.hello!, msg.schemaVersion);
        else await this.onBatch(msg.batch!);
      } catch (err) {
        this.refuse(err);
      } finally {
        if (--this.pending < deps.limits.maxPendingFrames && this.state !== 'closed') this.ws.resume();
      }
    });
  }

  private async onHello(hello: IHello, version: number): Promise<void> {
    const { deps, now } = this.s;
    const agentId = hello.agentId ?? '';
    if (!AGENT_ID.test(agentId)) throw invalid('bad_hello', 'hello.agent_id must be 1-128 characters of [A-Za-z0-9._:-], and not . or ..');
    if ((hello.hostname ?? '').length > 255) throw invalid('bad_hello', 'hello.hostname longer than 255 characters');
    // Every Hello the collector speaks (schema 2 and 3) carries the agent's clock and every agent
    // sets it: one without it would skip the skew check below, so it is refused, not waved through.
    if (!hello.timeMs) throw invalid('bad_hello', 'hello.time_ms (the agent\'s clock) is missing: the collector checks it against its own');
    checkSkew(hello.timeMs, now(), deps.limits, 'agent clock');
    const key = hello.publicKey ?? new Uint8Array();
    if (key.length !== 32) throw forbidden('bad_hello_signature', 'hello.public_key must be a 32-byte Ed25519 key');
    const known = await deps.store.getHost(agentId);
    const enrolling = !known?.publicKey;
    if (!enrolling) this.claimed = agentId;
    // An address that keeps failing to enroll is refused before any signature or proof is checked.
    if (enrolling && !this.s.enrollFailures.has(this.address)) {
      throw new WireError(CloseCode.rateLimited, 'enroll_throttled', `too many failed enrollments from ${this.address}; try again later`);
    }
    try {
      if (!verifySignature(key, helloSigningBytes(this.nonce, agentId, key), hello.nonceSignature ?? new Uint8Array())) {
        throw forbidden('bad_hello_signature', 'hello signature does not verify against its public key and this connection\'s challenge');
      }
      if (known?.revokedMs) throw forbidden('revoked', `agent ${agentId} was revoked`);
      if (!enrolling) {
        if (!safeEqual(known!.publicKey!, key)) throw forbidden('key_mismatch', `agent ${agentId} presented a different key than it enrolled with`);
      } else {
        const proof = hello.enrollProof ?? new Uint8Array();
        // Enrollments in flight hold their place until their row is committed: hellos arriving
        // together all read the same count, and all enrolled past --max-enrollments before.
        const room = (deps.enrollmentRoom?.() ?? Infinity) - this.s.enrolling.size;
        const secret = room > 0 ? deps.enrollSecret : null;
        if (!secret || !safeEqual(proof, enrollProof(secret, agentId, key))) {
          throw forbidden('unknown_agent', `agent ${agentId} is not enrolled and has no valid enrollment proof`);
        }
        // One new id, two keys at once: the second would overwrite the first's key after its welcome.
        const other = this.s.enrolling.get(agentId);
        if (other && !safeEqual(other, key)) throw forbidden('key_mismatch', `agent ${agentId} is enrolling with another key on another connection`);
      }
    } catch (err) {
      if (enrolling) this.s.enrollFailures.drain(this.address);
      throw err;
    }
    const { byAgent } = this.s;
    if (!byAgent.has(agentId) && byAgent.size >= deps.limits.maxAgents) {
      throw new WireError(CloseCode.tryAgainLater, 'too_many_agents', `collector is at its limit of ${deps.limits.maxAgents} connected agents`);
    }
    const host = enrolling ? await this.enroll(hello, agentId, key) : await deps.store.upsertHost(hello, now());
    this.host = host;
    if (!known) this.log.info({ agentId, reason: 'enrolled' }, 'agent enrolled');
    const previous = byAgent.get(agentId);
    if (previous && previous !== this.ws) previous.close(CloseCode.normal, 'replaced by a newer connection of the same agent');
    byAgent.set(agentId, this.ws);
    deps.metrics.connectedAgents = byAgent.size;
    this.version = version;
    this.enter('authenticated');
    deps.onHello?.(host);
    this.log.info({ agentId, hostname: host.hostname, lastSeq: host.lastSeq }, 'agent connected');
    this.ws.send(
      encodeCollectorMessage({
        welcome: {
          collectorVersion: deps.version,
          lastSeq: host.lastSeq,
          maxBatchSamples: deps.limits.maxBatchSamples,
          maxFrameBytes: deps.limits.maxFrameBytes,
          chainHead: host.chainHead ?? new Uint8Array(),
        },
      }, this.version),
    );
  }

  /**
   * Stores a new agent's key, holding its place among enrollments until the row is committed. The
   * id is read again once its place is held: an enrollment of the same id that committed since
   * the first read (and so left the map) decides, and a different key is refused.
   */
  private async enroll(hello: IHello, agentId: string, key: Uint8Array): Promise<HostRecord> {
    const { deps, now, enrolling } = this.s;
    const mine = !enrolling.has(agentId);
    if (mine) enrolling.set(agentId, key);
    try {
      const stored = await deps.store.getHost(agentId);
      if (stored?.publicKey && !safeEqual(stored.publicKey, key)) throw forbidden('key_mismatch', `agent ${agentId} presented a different key than it enrolled with`);
      return await deps.store.upsertHost(hello, now());
    } finally {
      if (mine) enrolling.delete(agentId);
    }
  }

  /**
   * What the ack path reads of a batch's samples, and its last sample (the prior of the agent's
   * next chained batch). A method of its own, not inline in onBatch: the payload as read (its
   * inflated bytes, the columns' entries) must not live on in onBatch's frame while the batch
   * waits for its commit, where the young-generation GC would copy and promote it.
   */
  private readSamples(encoding: number, payload: Uint8Array, rawSamples: Uint8Array[], seqs: number[], prior: Uint8Array | null, nowMs: number): { samples: LightSample[]; last: Uint8Array | null } {
    const { deps } = this.s;
    let read: PayloadSamples;
    try {
      read = encoding === BatchEncoding.BATCH_ENCODING_SAMPLES ? framedSamples(rawSamples) : payloadSamples(encoding, payload, payloadInflateLimit(deps.limits.maxFrameBytes), seqs.length, prior);
    } catch (err) {
      if (err instanceof PayloadError) throw err.reason === 'prior_mismatch' ? integrity(err.reason, err.message) : invalid(err.reason, err.message);
      throw err;
    }
    if (read.count !== seqs.length) throw invalid('bad_batch', `header lists ${seqs.length} sequence numbers for ${read.count} samples in the payload`);
    const delta = encoding !== BatchEncoding.BATCH_ENCODING_SAMPLES;
    const samples = readLightSamples(read, seqs, delta, ({ sample }, i) => checkSampleTime(sample.tsMs, nowMs, deps.limits, seqs[i]!));
    // A copy: frames of encodings 1 and 2 are views into the whole inflated payload.
    const last = lastSample(read);
    return { samples, last: last ? Uint8Array.from(last) : null };
  }

  private async onBatch(signed: assay.v1.ISignedBatch): Promise<void> {
    const { deps, now } = this.s;
    const host = this.host!;
    const headerBytes = signed.header ?? new Uint8Array();
    const rawSamples = signed.samples ?? [];
    if (rawSamples.length > deps.limits.maxBatchSamples) {
      throw invalid('batch_too_large', `batch of ${rawSamples.length} samples exceeds the limit of ${deps.limits.maxBatchSamples}`);
    }
    this.hostKey ??= publicKeyFromRaw(host.publicKey!);
    if (!verifySignature(this.hostKey, headerBytes, signed.signature ?? new Uint8Array())) {
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
    if (seqs.length > deps.limits.maxBatchSamples) {
      throw invalid('batch_too_large', `batch of ${seqs.length} samples exceeds the limit of ${deps.limits.maxBatchSamples}`);
    }
    for (let i = 0; i < seqs.length; i++) {
      if (!Number.isSafeInteger(seqs[i]) || seqs[i]! < 1 || (i > 0 && seqs[i]! <= seqs[i - 1]!)) {
        throw invalid('bad_batch', `sequence numbers must be positive, at most ${Number.MAX_SAFE_INTEGER} and strictly ascending`);
      }
    }
    // What the header commits to, checked before anything is decoded: the payload's digest
    // (schema 3), or the v2 samples' digest over their framing (kept as the batch's payload).
    const encoding = header.encoding ?? BatchEncoding.BATCH_ENCODING_SAMPLES;
    let payload: Uint8Array;
    if (encoding === BatchEncoding.BATCH_ENCODING_SAMPLES) {
      if (signed.payload?.length) throw invalid('bad_batch', 'a batch of samples (encoding 0) carries a payload');
      if (seqs.length !== rawSamples.length) throw invalid('bad_batch', `header lists ${seqs.length} sequence numbers for ${rawSamples.length} samples`);
      if (!safeEqual(samplesDigest(rawSamples), header.samplesDigest ?? new Uint8Array())) {
        throw integrity('digest_mismatch', 'samples do not match the digest the agent signed');
      }
      payload = frameSamples(rawSamples);
    } else if (isPayloadEncoding(encoding)) {
      if (rawSamples.length) throw invalid('bad_batch', `a batch with a payload (encoding ${encoding}) also carries separate samples`);
      payload = signed.payload ?? new Uint8Array();
      if (!safeEqual(sha256(payload), header.payloadDigest ?? new Uint8Array())) {
        throw integrity('digest_mismatch', 'payload does not match the digest the agent signed');
      }
    } else {
      throw invalid('bad_batch', `unknown batch encoding ${encoding}`);
    }
    if (!this.s.sampleRate.take(host.id, Math.max(1, seqs.length))) {
      throw new WireError(CloseCode.rateLimited, 'rate_limited', `agent exceeds ${deps.limits.rateSamplesPerSec} samples/s`);
    }
    const prevHash = header.prevHash ?? new Uint8Array();
    // A chained payload's prior: the last sample of the batch its prev_hash names.
    let prior: Uint8Array | null = null;
    // The batches from this one's keyframe through it: at most CHAIN_MAX_BATCHES, as the agent
    // seals them. Refused beyond: a longer chain costs every reader that starts inside it a longer
    // walk (at most CHAIN_WALK_LIMIT, beyond which it is unreadable), and ingest itself walks it
    // after each reconnect. The agent seals a refused batch again as a keyframe (agent/link.ts).
    let depth = 1;
    if (payloadChained(encoding, payload)) {
      const tooLong = (): WireError =>
        integrity('chain_too_long', `chain_too_long: batch is chained to more than ${CHAIN_MAX_BATCHES - 1} batches before its keyframe (the agent seals one at least every ${CHAIN_MAX_BATCHES})`);
      if (this.tail?.last && safeEqual(this.tail.hash, prevHash)) {
        prior = this.tail.last;
        depth = this.tail.depth + 1;
      } else if (this.tail?.prior && safeEqual(this.tail.prevHash, prevHash)) {
        prior = this.tail.prior;
        depth = this.tail.depth;
      } else {
        // Walks no further than an honest agent's chain: one batch read per batch behind it.
        let walked = 0;
        try {
          prior = await priorOf(prevHash, (h) => {
            walked++;
            return deps.store.batchByHash(host.id, h);
          }, CHAIN_MAX_BATCHES - 1);
        } catch (err) {
          if (err instanceof ChainTooLongError) throw tooLong();
          if (err instanceof PayloadError) throw integrity('prior_unreadable', `prior_unreadable: batch is encoded against the batch before it, which this collector cannot read: ${err.message}`);
          throw err;
        }
        depth = walked + 1;
        // Each message starts with its reason: the agent reads it from the close and seals the batch again as a keyframe (agent/link.ts).
        if (!prior) throw integrity('prior_unknown', 'prior_unknown: batch is encoded against the batch before it (prev_hash), which this collector does not hold');
        // A copy: the walk's frame may be a view into the whole inflated batch before (encodings 1
        // and 2 frame every sample into one buffer), which the tail and the classify queue would keep.
        prior = Uint8Array.from(prior);
      }
      if (depth > CHAIN_MAX_BATCHES) throw tooLong();
    }
    // The ack path reads what the stored rows need (figures, signatures), not whole samples: a
    // columnar payload is read from its columns, and only its last sample is rebuilt (the prior of
    // the agent's next chained batch).
    const nowMs = now();
    const { samples, last } = this.readSamples(encoding, payload, rawSamples, seqs, prior, nowMs);
    const batch: IncomingBatch = {
      hash: batchHash(headerBytes),
      prevHash,
      header: headerBytes,
      signature: signed.signature!,
      encoding,
      payload,
      samples: samples.map(({ sample }, i) => ({ seq: seqs[i]!, sample })),
      gaps: (header.gaps ?? []).map((g) => ({ fromSeq: g.fromSeq ?? 0, toSeq: g.toSeq ?? 0, fromMs: g.fromMs ?? 0, toMs: g.toMs ?? 0, cause: (g.cause ?? '').slice(0, 64), samples: g.samples ?? 0 })),
    };
    const result = await deps.store.appendBatch(host.id, batch, nowMs);
    // Revocation is checked in the transaction that would store the batch (no read per batch).
    if (result.status === 'revoked') throw forbidden('revoked', `agent ${host.id} was revoked`);
    if (result.status === 'replayed') throw integrity('replayed', 'batch was already committed earlier in the chain');
    if (result.status === 'chain_break') throw integrity('chain_break', 'batch does not extend the agent\'s hash chain (dropped, reordered or spliced)');
    if (result.status === 'seq_regression') {
      throw integrity('seq_regression', `batch starts at seq ${seqs[0]}, not after the last committed seq ${result.lastSeq}`);
    }
    // The next chained batch of this agent is encoded against this one's last sample.
    this.tail = { hash: batch.hash, prevHash, prior, last, depth };
    deps.metrics.samplesStored += result.accepted;
    deps.metrics.samplesDuplicate += result.duplicates;
    if (batch.gaps.length) this.log.warn({ agentId: host.id, reason: 'agent_gap', gaps: batch.gaps }, 'agent reported lost samples');
    if (this.state === 'authenticated') this.enter('streaming');
    if (this.ws.readyState === this.ws.OPEN) {
      this.ws.send(encodeCollectorMessage({ ack: { lastSeq: result.lastSeq, accepted: result.accepted, duplicates: result.duplicates, chainHead: batch.hash } }, this.version));
    }
    if (result.accepted > 0) {
      const stored = new Set(result.storedSeqs);
      deps.onStored(
        host.id,
        batch.samples.filter((s) => stored.has(s.seq)).map((s) => s.sample),
        { encoding, payload, seqs: seqs.map(Number), stored: result.storedSeqs, hash: batch.hash, prevHash, prior, ...(result.signatures ? { signatures: result.signatures } : {}) },
      );
    }
    if (result.unresolvedSignatures) {
      // References to signatures this database does not hold (it lost them, or the batch carrying
      // them went to another): counted, and the connection closed after the ack so the agent
      // reconnects and sends every signature in full again (agent/signature-refs.ts).
      deps.metrics.signatureRefsUnresolved += result.unresolvedSignatures;
      this.log.warn({ agentId: host.id, reason: 'signature_refs_unresolved', references: result.unresolvedSignatures }, 'batch references process signatures this collector does not hold: closing so the agent resends them in full');
      if (this.ws.readyState === this.ws.OPEN) this.ws.close(CloseCode.normal, 'unresolved signature references: reconnect and send signatures in full');
    }
  }
}
