// Classification off the ack path. Ingest hands over each committed batch as it was stored (its
// payload, still compressed: cheap to hold) and has already acked it; the full decode of the
// samples and the engine run later, in the host's turn, here.
//
// Per host, rate-limited and coalesced: a host is classified at most once per minIntervalMs
// (collector clock) while it sends live. Batches that arrive meanwhile wait in the host's one
// entry; its turn decodes them together. A backlog (an agent's spool after an outage, or batches
// that piled up while classification was busy) is classified in full, oldest first, in chunks of
// at most maxSamplesPerHost samples (whole batches): a host with a full chunk waiting is due at
// once, and goes to the back of the line after each turn. No sample is skipped for being old: a
// period of mining sent late, in a burst, is classified like any other (a queue that kept only
// the newest samples let a burst hide it from the verdicts, and so from reports). Bounded: one
// entry per host with work waiting (hosts are bounded by --max-agents), and all of them at most
// maxPendingBytes of payload; beyond it the longest-waiting host's oldest batches are dropped
// (counted in `dropped` and /metrics: the collector is overloaded).
//
// Never starving acks, nor starved by them: turns run in slices, each started with setImmediate,
// so the frames and commits that arrived meanwhile are handled between slices; a slice lasts
// sliceMs, or `share` of the time I/O held the loop before it (at most maxSliceMs), so under an
// ingest flood classification still gets a bounded share. Under a flood the loop may not reach
// its check phase for the whole flood (commits ack agents whose next frames fill the next group
// in the same phase): a slice that has waited sliceMs / share then starts from add itself. A
// turn that waits (its verdict lease or its verdict's commit) finishes outside a slice, so at most maxRunning (16) wait at once; what
// a turn would wait for before its engine work (the lease) is fetched first (TurnReady). A
// host's first batch is classified at once (a new host gets its verdict quickly); a host is never
// left waiting longer than minIntervalMs plus the time the hosts ahead of it take.
import { safeEqual } from '../proto/chain.js';
import type { IProcessSignature, ISample } from '../proto/codec.js';

/** One committed batch waiting for its host's turn (collector/ingest/connection.ts CommittedBatch). */
export interface ClassifyBatch {
  encoding: number;
  payload: Uint8Array;
  seqs: number[];
  /** Sequence numbers newly stored (only they are classified). */
  stored: number[];
  /** The signatures its references name, by digest (hex), as the store resolved them at ingest. */
  signatures?: ReadonlyMap<string, IProcessSignature>;
  /** The batch's hash and its header's prev_hash: a chained batch right behind its predecessor gets its prior from decoding that one. */
  hash?: Uint8Array;
  prevHash?: Uint8Array;
  /**
   * A chained batch's prior (BATCH_ENCODING_CHAINED, proto/payload.ts) as ingest had it. Dropped
   * when the batch waits right behind its predecessor (the turn decodes that one first and passes
   * its last sample on), so a host's waiting batches hold one prior, not one each.
   */
  prior?: Uint8Array | null;
  /** Set by the queue: the prior is the last sample of the batch before this one in the queue. */
  priorFromPrevious?: boolean;
}

/** What a waiting batch holds: its payload and its prior. */
const heldBytes = (b: ClassifyBatch): number => b.payload.length + (b.prior?.length ?? 0);

export interface ClassifyQueueOptions {
  /** Stretch of classification work before I/O gets its turn (at least; see share). */
  sliceMs: number;
  /**
   * Share of the event loop classification may take while it has work: after I/O held the loop
   * for t ms, the next slice may last share * t (at least sliceMs, at most maxSliceMs). Under an
   * ingest flood one event-loop turn can last long; without a share, classification would get
   * only sliceMs of it and hosts would wait for verdicts for minutes.
   */
  share: number;
  maxSliceMs: number;
  /** A host is classified at most this often (its batches coalesce meanwhile). */
  minIntervalMs: number;
  /** Most samples one turn decodes and classifies (whole batches; a backlog takes several turns). */
  maxSamplesPerHost: number;
  /** Most payload bytes waiting for all hosts together. */
  maxPendingBytes: number;
  /** Most turns started and not yet ended (each may wait for a commit). */
  maxRunning: number;
  /**
   * Long-run share of the event loop that the turns' work outside the slices may take: the engine
   * evaluations, which run after a turn's first wait (its store reads), so no slice bounds them.
   * Measured by the caller's `spentMs` counter; while that work is over its share and batches keep
   * coming, no turn starts (hosts wait, their batches coalesce, the byte bound drops the oldest);
   * once ingest is quiet for a second the bound is off. Measured under a flood of 2,000 agents on
   * a 2-core machine (bench/collector-agents.ts --mode a): acks fell from 4,116 to 1,474 samples/s
   * once classification ran during the flood; with this bound 1,884.
   * 1: no bound.
   */
  engineShare: number;
  /** Engine work the share lets through at once after a quiet stretch (ms). */
  engineBurstMs: number;
}

/** Ingest that added no batch for this long is quiet: engine work is not bounded then (engineShare). */
const ENGINE_IDLE_MS = 1_000;

export const defaultClassifyQueue: ClassifyQueueOptions = {
  sliceMs: 10,
  share: 0.25,
  maxSliceMs: 50,
  minIntervalMs: 5_000,
  maxSamplesPerHost: 120,
  maxPendingBytes: 256 * 1024 * 1024,
  maxRunning: 16,
  engineShare: 0.5,
  engineBurstMs: 1_000,
};

interface Pending {
  batches: ClassifyBatch[];
  samples: number;
  bytes: number;
}

/**
 * Turns a waiting batch into samples (decode and checks), given its prior (the last sample of the
 * batch before it, for a chained batch; null otherwise or when unknown); returns them with its own
 * last sample's bytes (the next batch's prior). Throws on a batch it cannot read.
 */
export type DecodeBatch = (batch: ClassifyBatch, prior: Uint8Array | null) => { samples: ISample[]; last: Uint8Array | null };

/**
 * Whether a host's turn can start now without waiting (e.g. its verdict lease is known). When
 * not, the caller starts what it waits for and calls `wake` once it is there; the host keeps its
 * place meanwhile. So turns never wait inside a slice's budget for I/O before their engine work.
 */
export type TurnReady = (hostId: string, wake: () => void) => boolean;

/** Resolves after `n` rounds of the microtask queue (promise continuations queued meanwhile run first). */
async function microtasks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await undefined;
}

export class ClassifyQueue {
  /** Hosts with batches waiting, longest-waiting first (a Map keeps insertion order). */
  private readonly pending = new Map<string, Pending>();
  /** When each host's last turn started (hosts with a turn within minIntervalMs only). */
  private readonly lastTurn = new Map<string, number>();
  private pendingBytes = 0;
  private scheduled = false;
  private wake: NodeJS.Timeout | null = null;
  private busy: Promise<void> | null = null;
  private stopped = false;
  /** When the last slice ended (performance.now()): I/O has had the loop since. */
  private sliceEndedAt = 0;
  /** When the pending setImmediate was asked for. */
  private scheduledAt = 0;
  /** I/O time after which a waiting slice starts from add (where share * io reaches sliceMs). */
  private readonly overdueMs: number;
  /** Hosts whose turn has started and not ended (waiting for their verdict's commit). */
  private readonly running = new Set<string>();
  /** Samples dropped before decoding: over maxPendingBytes (the collector could not keep up). */
  dropped = 0;
  /** Samples decoded and handed to the classifier. */
  classified = 0;
  /** Batches that could not be decoded for classification (stored all the same; logged). */
  unreadable = 0;
  /** Turns taken (each is one decode and one Classifier.add call). */
  turns = 0;
  /** Times turns waited because engine work was over its share (engineShare). */
  throttled = 0;
  /** Engine time the share allows now (ms; negative: over it), and when and at what `spentMs` it was last counted. */
  private tokens: number;
  private tokensAt = performance.now();
  /** When a batch was last added (ingest is busy while batches come). */
  private lastAddAt = -Infinity;
  private spentAt: number;

  constructor(
    private readonly run: (hostId: string, samples: ISample[]) => Promise<void>,
    private readonly decode: DecodeBatch,
    private readonly opts: ClassifyQueueOptions = defaultClassifyQueue,
    private readonly onError: (hostId: string, err: Error) => void = () => undefined,
    private readonly now: () => number = Date.now,
    private readonly ready: TurnReady = () => true,
    /** Milliseconds of engine work done so far by the turns outside their slices (a counter; see engineShare). */
    private readonly spentMs: () => number = () => 0,
  ) {
    if (
      !(opts.maxSamplesPerHost >= 1) || !(opts.maxPendingBytes >= 1) || !(opts.minIntervalMs >= 0) || !(opts.sliceMs > 0) || !(opts.maxSliceMs >= opts.sliceMs) ||
      !(opts.share >= 0 && opts.share < 1) || !(opts.maxRunning >= 1) || !(opts.engineShare > 0 && opts.engineShare <= 1) || !(opts.engineBurstMs >= 0)
    ) {
      throw new Error('classify queue: maxSamplesPerHost, maxPendingBytes, maxRunning >= 1, 0 < sliceMs <= maxSliceMs, 0 <= share < 1, minIntervalMs >= 0, 0 < engineShare <= 1, engineBurstMs >= 0');
    }
    this.overdueMs = opts.share > 0 ? opts.sliceMs / opts.share : Infinity;
    this.tokens = opts.engineBurstMs;
    this.spentAt = spentMs();
  }

  /**
   * The engine time the share allows now: refilled at engineShare of the time passed, less the
   * engine work done since (negative: over the share). No bound while ingest is quiet (no batch
   * for ENGINE_IDLE_MS): then classification has nothing to leave the loop to, and a backlog left
   * by a flood is worked off at full speed.
   */
  private budget(): number {
    if (this.opts.engineShare >= 1) return Infinity;
    const now = performance.now();
    if (now - this.lastAddAt > ENGINE_IDLE_MS) {
      this.tokens = this.opts.engineBurstMs;
      this.tokensAt = now;
      this.spentAt = this.spentMs();
      return Infinity;
    }
    const spent = this.spentMs();
    this.tokens = Math.min(this.opts.engineBurstMs, this.tokens + this.opts.engineShare * (now - this.tokensAt)) - (spent - this.spentAt);
    this.tokensAt = now;
    this.spentAt = spent;
    return this.tokens;
  }

  /** Over the share: wake when the budget is back to zero. */
  private waitForBudget(tokens: number): void {
    this.throttled++;
    if (this.wake) clearTimeout(this.wake);
    this.wake = setTimeout(() => {
      this.wake = null;
      this.schedule();
    }, Math.max(1, Math.ceil(-tokens / this.opts.engineShare)));
    this.wake.unref();
  }

  add(hostId: string, batch: ClassifyBatch): void {
    if (this.stopped || batch.stored.length === 0) return;
    this.lastAddAt = performance.now();
    let p = this.pending.get(hostId);
    if (!p) this.pending.set(hostId, (p = { batches: [], samples: 0, bytes: 0 }));
    const before = p.batches.at(-1)?.hash;
    if (batch.prior && before && batch.prevHash && safeEqual(before, batch.prevHash)) {
      batch.prior = null;
      batch.priorFromPrevious = true;
    }
    p.batches.push(batch);
    p.samples += batch.stored.length;
    p.bytes += heldBytes(batch);
    this.pendingBytes += heldBytes(batch);
    // The bound over all hosts: the longest-waiting hosts' oldest batches go first.
    for (const [id, q] of this.pending) {
      if (this.pendingBytes <= this.opts.maxPendingBytes) break;
      while (q.batches.length && this.pendingBytes > this.opts.maxPendingBytes) this.dropOldest(q);
      if (!q.batches.length) this.pending.delete(id);
    }
    this.schedule();
    this.startIfOverdue();
  }

  private dropOldest(p: Pending): void {
    const b = p.batches.shift()!;
    p.samples -= b.stored.length;
    p.bytes -= heldBytes(b);
    this.pendingBytes -= heldBytes(b);
    this.dropped += b.stored.length;
    // The batch behind it was to get its prior from decoding this one (and the chain behind it from
    // that one): it is decoded for its last sample, rare (the queue is over its byte bound) and
    // cheaper than losing the rest of the chain. Unreadable, the one behind is unreadable too
    // (counted at its turn).
    const next = p.batches[0];
    if (next?.priorFromPrevious) {
      next.priorFromPrevious = false;
      try {
        const last = this.decode(b, b.prior ?? null).last;
        next.prior = last ? Uint8Array.from(last) : null;
      } catch {
        next.prior = null;
      }
      p.bytes += next.prior?.length ?? 0;
      this.pendingBytes += next.prior?.length ?? 0;
    }
  }

  /** Hosts waiting for their turn. */
  get backlog(): number {
    return this.pending.size;
  }

  /** Payload bytes waiting. */
  get backlogBytes(): number {
    return this.pendingBytes;
  }

  private schedule(): void {
    if (this.scheduled || this.busy || this.stopped) return;
    this.scheduled = true;
    this.scheduledAt = performance.now();
    if (this.wake) clearTimeout(this.wake);
    this.wake = null;
    setImmediate(() => {
      this.scheduled = false;
      this.startSlice(false);
    });
  }

  private startSlice(inline: boolean): void {
    if (this.busy || this.stopped) return;
    this.busy = this.slice(inline).finally(() => {
      this.busy = null;
      this.next();
    });
  }

  /**
   * A slice waiting longer than its share allows starts from the I/O path itself (add, called as
   * each batch is committed). Under a flood the event loop can stay in one phase for seconds (a
   * group commit acks hundreds of agents, whose next frames are read and fill the next group before
   * the loop ever reaches its check phase): the setImmediate alone would wait for the flood to end.
   */
  private startIfOverdue(): void {
    if (!this.scheduled || this.busy || this.stopped || this.budget() <= 0) return;
    const now = performance.now();
    if (now - Math.max(this.scheduledAt, this.sliceEndedAt) >= this.overdueMs) this.startSlice(true);
  }

  /** After a slice: go on at once if a host is due, else wake when the first one will be. */
  private next(): void {
    if (this.stopped || this.pending.size === 0 || this.running.size >= this.opts.maxRunning) return;
    const tokens = this.budget();
    if (tokens <= 0) return this.waitForBudget(tokens);
    const t = this.now();
    let first = Infinity;
    for (const hostId of this.pending.keys()) {
      if (this.running.has(hostId)) continue;
      const due = this.dueMs(hostId);
      if (due <= t) return this.schedule();
      first = Math.min(first, due);
    }
    if (first === Infinity) return; // every waiting host has a turn running: its end schedules
    if (this.wake) clearTimeout(this.wake);
    this.wake = setTimeout(() => {
      this.wake = null;
      this.schedule();
    }, Math.max(1, first - t));
    this.wake.unref();
  }

  private dueMs(hostId: string): number {
    // A full chunk of backlog waiting: due at once (turns still go round the hosts in order).
    if ((this.pending.get(hostId)?.samples ?? 0) >= this.opts.maxSamplesPerHost) return 0;
    const last = this.lastTurn.get(hostId);
    return last === undefined ? 0 : last + this.opts.minIntervalMs;
  }

  /**
   * Starts turns, longest-waiting due host first, until the slice is used up. A turn's decode and
   * engine work run at once; while it waits for its verdict to be committed (a group commit) the
   * next host's turn starts. One turn per host at a time, at most maxRunning waiting at once.
   */
  private async slice(inline: boolean): Promise<void> {
    const t0 = this.now();
    const start = performance.now();
    const io = this.sliceEndedAt ? start - this.sliceEndedAt : 0;
    const until = start + Math.min(this.opts.maxSliceMs, Math.max(this.opts.sliceMs, this.opts.share * io));
    try {
      await this.runTurns(t0, until, inline);
    } finally {
      this.sliceEndedAt = performance.now();
    }
  }

  private async runTurns(t0: number, until: number, inline: boolean): Promise<void> {
    // Forget turn times older than the interval (bounded by hosts heard from within it).
    for (const [hostId, at] of this.lastTurn) {
      if (at + this.opts.minIntervalMs > t0) break;
      this.lastTurn.delete(hostId);
    }
    for (const [hostId, p] of this.pending) {
      if (this.stopped || performance.now() >= until || this.running.size >= this.opts.maxRunning || this.budget() <= 0) return;
      if (this.running.has(hostId) || this.dueMs(hostId) > this.now()) continue;
      if (!this.ready(hostId, () => this.schedule())) continue;
      // The oldest chunk: whole batches up to maxSamplesPerHost samples (at least one batch).
      let n = 0;
      let take = 0;
      while (take < p.batches.length && (take === 0 || n + p.batches[take]!.stored.length <= this.opts.maxSamplesPerHost)) n += p.batches[take++]!.stored.length;
      const chunk = p.batches.splice(0, take);
      const bytes = chunk.reduce((a, b) => a + heldBytes(b), 0);
      p.samples -= n;
      p.bytes -= bytes;
      this.pendingBytes -= bytes;
      // To the back of the line: what is left of its backlog waits behind the other hosts.
      this.pending.delete(hostId);
      if (p.batches.length) this.pending.set(hostId, p);
      this.lastTurn.delete(hostId);
      this.lastTurn.set(hostId, this.now());
      this.turns++;
      const samples: ISample[] = [];
      let carry: Uint8Array | null = null;
      for (const b of chunk) {
        try {
          const out = this.decode(b, b.priorFromPrevious ? carry : (b.prior ?? null));
          carry = out.last;
          for (const s of out.samples) samples.push(s);
        } catch (err) {
          carry = null;
          this.unreadable++;
          this.onError(hostId, err as Error);
        }
      }
      // The next waiting batch was to get its prior from this chunk's last one: it holds it now.
      const next = p.batches[0];
      if (next?.priorFromPrevious) {
        next.priorFromPrevious = false;
        next.prior = carry ? Uint8Array.from(carry) : null;
        p.bytes += next.prior?.length ?? 0;
        this.pendingBytes += next.prior?.length ?? 0;
      }
      this.classified += samples.length;
      if (samples.length === 0) continue;
      this.running.add(hostId);
      const turn = this.run(hostId, samples)
        .catch((err: Error) => this.onError(hostId, err))
        .finally(() => {
          this.running.delete(hostId);
          // Any host still waiting (not only this one): the slice that started this turn may have stopped at maxRunning.
          if (this.pending.size) this.schedule();
        });
      // Let the turn run up to its first real wait (its work until then counts against this
      // slice) without leaving the slice: a setImmediate here would cost a whole event-loop turn
      // per host, and under an ingest flood one turn of the loop can take a second.
      // A slice started from ingest (inline) runs inside the flood's own continuations: a
      // microtask here would wait behind a whole group's acks, and the slice's time would be the
      // flood's. It starts its turns back to back instead; their engine work runs between those
      // continuations, at most maxRunning turns at a time, each of at most maxSamplesPerHost.
      if (!inline) await Promise.race([turn, microtasks(16)]);
    }
  }

  /** Resolves once nothing is waiting or running (waiting hosts not yet due included). */
  async idle(): Promise<void> {
    while (this.busy || this.scheduled || this.pending.size || this.running.size) {
      if (this.busy) await this.busy;
      else await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Drops what waits and resolves when the turns in progress end (before the store closes). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.wake) clearTimeout(this.wake);
    this.wake = null;
    this.pending.clear();
    this.pendingBytes = 0;
    while (this.busy || this.running.size) {
      if (this.busy) await this.busy;
      else await new Promise((r) => setTimeout(r, 5));
    }
  }
}
