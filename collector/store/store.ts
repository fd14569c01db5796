// The one storage interface. SQLite (sqlite.ts) is the default; every implementation must pass
// the shared suite in test/store/.
import { assay, type IHello, type IInventory, type ISample, type IProcessSignature } from '../../proto/codec.js';
import type { Verdict } from '../engine/types.js';
import type { RollupRow } from './rollups.js';
import type { RetentionOptions, RetentionStepResult } from './retention.js';
import type { ChainReadStats } from './chain-read.js';

export type { RollupRow } from './rollups.js';

export interface HostRecord {
  id: string;
  hostname: string;
  agentVersion: string;
  inventory: IInventory | null;
  firstSeenMs: number;
  lastSeenMs: number;
  /** Highest sequence number committed for this agent (0 = none). */
  lastSeq: number;
  /** Current verdict, denormalised for the fleet list. */
  verdictClass: string | null;
  verdictConfidence: number | null;
  /** The current verdict holds non-AI work (collector/non-ai.ts). */
  verdictNonAi: boolean;
  /** Ed25519 public key recorded at enrollment (32 bytes). */
  publicKey: Uint8Array | null;
  enrolledMs: number | null;
  revokedMs: number | null;
  /** Hash of the last committed batch (the agent's chain head). */
  chainHead: Uint8Array | null;
}

/**
 * A verified batch to commit: the signed header, its chain links, the exact bytes its header
 * commits to (`payload`, stored as it is), and its samples decoded (for the chart figures and
 * process signatures; never stored as bytes of their own).
 */
export interface IncomingBatch {
  hash: Uint8Array;
  prevHash: Uint8Array;
  header: Uint8Array;
  signature: Uint8Array;
  /** BatchEncoding: 1 (DEFLATE) or 2 (BROTLI) = schema-3 payload; 0 (SAMPLES) = a v2 batch, payload = its framed samples. */
  encoding: number;
  payload: Uint8Array;
  samples: IncomingSample[];
  gaps: GapRecord[];
}

export interface GapRecord {
  fromSeq: number;
  toSeq: number;
  fromMs: number;
  toMs: number;
  cause: string;
  samples: number;
}

/** One refused attempt, as ingest reports it. */
export interface SecurityEvent {
  tsMs: number;
  hostId: string | null;
  /** Remote `address:port`. */
  peer: string;
  reason: string;
  detail: string;
}

/** Refused attempts of one reason from one subject (agent id, else remote address) in one window. */
export interface SecurityEventWindow {
  reason: string;
  subject: string;
  hostId: string | null;
  windowStartMs: number;
  count: number;
  firstMs: number;
  lastMs: number;
  /** The latest attempt's peer and detail. */
  peer: string;
  detail: string;
}

/** One sample of a batch: its sequence number and decoded (delta-expanded) form. */
export interface IncomingSample {
  seq: number;
  sample: ISample;
}

export interface AppendResult {
  /**
   * stored: committed; duplicate: this batch is already the chain head (a resend after a lost
   * ack); replayed: an older batch of the chain sent again; chain_break: prev_hash is not the
   * chain head (a batch dropped, reordered or spliced in); seq_regression: its first sequence
   * number is not above the last committed one (as `assay verify` would refuse); revoked: the
   * agent was revoked (checked in the same transaction, so no batch lands after a revocation).
   * Only `stored` changes anything.
   */
  status: 'stored' | 'duplicate' | 'replayed' | 'chain_break' | 'seq_regression' | 'revoked';
  accepted: number;
  duplicates: number;
  lastSeq: number;
  /** Sequence numbers this call stored (not already present). */
  storedSeqs: number[];
  /** Stored: the signatures the batch's references (ProcessSignature.same_as) name, by digest (hex). */
  signatures?: Map<string, IProcessSignature>;
  /** Stored: references that name no stored signature (their processes are kept without one). */
  unresolvedSignatures?: number;
}

/** The per-sample figures charts need, computed once at ingest. */
export interface SampleSummary {
  seq: number;
  tsMs: number;
  cpuPct: number;
  load1: number;
  memUsedBytes: number;
  memTotalBytes: number;
  gpuUtilPct: number | null;
  gpuMemUsedBytes: number | null;
  powerWatts: number | null;
  diskReadBytesPerSec: number;
  diskWriteBytesPerSec: number;
  netRxBytesPerSec: number;
  netTxBytesPerSec: number;
}

export interface VerdictClass {
  tsMs: number;
  class: string;
  confidence: number;
}

export interface StoredVerdict {
  tsMs: number;
  verdict: Verdict;
}

/** Sort keys of the fleet list (ties go by hostname, then id). */
export const HOST_SORTS = ['hostname', 'class', 'lastSeen', 'confidence', 'state'] as const;
export type HostSort = (typeof HOST_SORTS)[number];

/** One page of the fleet list: filters, order and window. */
export interface HostQuery {
  /** Hosts that sent data at or after this time are online, the others offline (stale). */
  onlineSinceMs: number;
  /** Verdict classes to keep (`pending`: no verdict yet); undefined: all. */
  classes?: string[];
  state?: 'online' | 'offline';
  /** Case-insensitive substring of the hostname or the id. */
  search?: string;
  sort: HostSort;
  desc: boolean;
  limit: number;
  offset: number;
}

/** Hosts per (class, online) pair: the fleet's tiles. */
export interface HostCount {
  class: string | null;
  online: boolean;
  hosts: number;
  nonAi: number;
}

/** A change of a host's published class, as stored beside the verdict that made it. */
export interface ClassChange {
  id: number;
  hostId: string;
  hostname: string;
  tsMs: number;
  /** null: the host's first verdict. */
  fromClass: string | null;
  toClass: string;
  confidence: number;
  /** The new verdict holds non-AI work. */
  nonAi: boolean;
  /** The verdict before it held non-AI work. */
  fromNonAi: boolean;
}

export interface ClassChangeQuery {
  /** Changes to or from these classes; undefined: all. */
  classes?: string[];
  search?: string;
  /** `nonAiFirst`: changes into or out of non-AI work first, each group newest first; `time`: newest first. */
  order: 'nonAiFirst' | 'time';
  limit: number;
  offset: number;
}

/** A stored batch exactly as signed, with when the collector committed it (for reports). */
export interface StoredBatch {
  hash: Uint8Array;
  prevHash: Uint8Array;
  header: Uint8Array;
  signature: Uint8Array;
  firstSeq: number;
  lastSeq: number;
  samples: number;
  receivedMs: number;
  /** As in IncomingBatch: the bytes the header commits to, and how to read them (proto/payload.ts decodePayload). */
  encoding: number;
  payload: Uint8Array;
}

/** What retention has removed for one host. */
export interface RetentionState {
  /**
   * Raw signed batches and per-sample rows of this host timestamped before this have been deleted
   * (0: nothing pruned), except that a batch straddling it is kept whole, and so are the batches
   * before it that it chains to (encoding 4, back to a keyframe: at most CHAIN_MAX_BATCHES).
   * Figures for earlier times rest on roll-ups only.
   */
  rawPrunedMs: number;
}

/** A named lease: who holds it and until when (by the database's clock where it has one). */
export interface Lease {
  held: boolean;
  holder: string;
  expiresMs: number;
}

export interface Store {
  /** Chained batches (BATCH_ENCODING_CHAINED) reads left out because their prior is gone (chain-read.ts): counted here. */
  readonly chainReads: ChainReadStats;
  /**
   * Registers an agent from its Hello (recording its public key the first time) or refreshes a
   * known one; returns the host as stored. Authentication is the caller's job.
   */
  upsertHost(hello: IHello, nowMs: number): Promise<HostRecord>;
  /**
   * Appends a batch atomically if it extends the agent's hash chain (checked inside the same
   * transaction); samples are idempotent by (host, seq).
   *
   * Group commit: implementations may (SQLite does, see commit-queue.ts) commit batches of many
   * agents in one transaction. The promise resolves only once the transaction holding this batch
   * is durably committed (callers ack on it); each batch's checks run inside that transaction, in
   * arrival order (two batches of one agent in one group commit in order, the second checked
   * against the first), and a batch that throws is rolled back alone (its promise rejects) without
   * affecting the others of its group.
   */
  appendBatch(hostId: string, batch: IncomingBatch, nowMs: number): Promise<AppendResult>;
  revokeAgent(id: string, nowMs: number): Promise<boolean>;
  /**
   * Counts a refused attempt into its (reason, subject, window) row; cheap enough to call for
   * every attempt of a flood (rows are written in batches, with bounded age and number).
   */
  recordSecurityEvent(e: SecurityEvent): Promise<void>;
  /** Aggregated security events, most recently seen first. */
  securityEvents(limit: number): Promise<SecurityEventWindow[]>;
  gaps(hostId: string, fromMs: number, toMs: number): Promise<GapRecord[]>;
  listHosts(): Promise<HostRecord[]>;
  /** One page of the fleet list and how many hosts match in all. */
  queryHosts(q: HostQuery): Promise<{ total: number; hosts: HostRecord[] }>;
  hostCounts(onlineSinceMs: number): Promise<HostCount[]>;
  /** Ids of hosts whose current verdict holds non-AI work (the alerting gauge). */
  nonAiHosts(): Promise<Set<string>>;
  /** The fleet-wide feed of class changes (bounded: the oldest rows go beyond a cap). */
  classChanges(q: ClassChangeQuery): Promise<{ total: number; changes: ClassChange[] }>;
  getHost(id: string): Promise<HostRecord | null>;
  /**
   * Chart figures over a range, oldest first: at most `limit` rows, each the average of an equal
   * time bucket of the range (one sample per row when the range is short enough).
   */
  sampleSummaries(hostId: string, fromMs: number, toMs: number, limit: number): Promise<SampleSummary[]>;
  /**
   * Roll-up rows ('1m' or '1h' buckets) overlapping [fromMs, toMs], oldest first, at most `limit`,
   * each with the averages (and maxima) of the samples it summarises.
   */
  rollupRows(hostId: string, resolution: '1m' | '1h', fromMs: number, toMs: number, limit: number): Promise<RollupRow[]>;
  retentionState(hostId: string): Promise<RetentionState>;
  /**
   * One bounded step of retention at clock `nowMs` (retention.ts): deletes at most opts.stepRows
   * rows in one short transaction; `done` once nothing is left past any window. Callers pause
   * between steps (RetentionRunner) so ingest is never held behind a large prune.
   */
  retentionStep(opts: RetentionOptions, nowMs: number): Promise<RetentionStepResult>;
  /**
   * Full decoded samples timestamped in a range (oldest first, at most `limit`), e.g. to rebuild
   * an engine window after a restart: decoded from the payloads of the batches that hold them, in
   * chain order (a chained batch decodes against the one before: chain-read.ts). A sample whose
   * batch is gone, or whose batch is chained to one that is gone, is left out (the latter counted
   * in `chainReads`).
   */
  samples(hostId: string, fromMs: number, toMs: number, limit: number): Promise<Array<{ seq: number; sample: ISample }>>;
  /** Process signatures keyed by `${pid}:${startTimeTicks}`. */
  signatures(hostId: string): Promise<Map<string, IProcessSignature>>;
  /**
   * The signatures of the given processes only (keys `${pid}:${startTimeTicks}`; unknown keys are
   * left out): what rebuilding one host's window needs, whatever else the host ever ran. Reads
   * at most `keys.length` rows.
   */
  signaturesOf(hostId: string, keys: readonly string[]): Promise<Map<string, IProcessSignature>>;
  /**
   * The canonical bytes of stored signatures by their SHA-256 (hex), for references
   * (ProcessSignature.same_as): a report embeds them. Digests not stored are left out.
   */
  signatureBlobs(digests: readonly Uint8Array[]): Promise<Map<string, Uint8Array>>;
  /** Stores a verdict; a class other than the host's current one is also recorded as a ClassChange. */
  putVerdict(hostId: string, tsMs: number, verdict: Verdict): Promise<void>;
  verdicts(hostId: string, fromMs: number, toMs: number, limit: number): Promise<StoredVerdict[]>;
  /** Class and confidence only (no verdict JSON), oldest first: the NEWEST `limit` in the range (charts over days). */
  verdictClasses(hostId: string, fromMs: number, toMs: number, limit: number): Promise<VerdictClass[]>;
  /** The newest verdict strictly before `tsMs` (the one in force when a report period begins). */
  verdictBefore(hostId: string, tsMs: number): Promise<StoredVerdict | null>;
  /** Lowest and highest sequence numbers of the samples timestamped in a range (null: none). */
  seqRange(hostId: string, fromMs: number, toMs: number): Promise<{ minSeq: number; maxSeq: number } | null>;
  /** The committed batch that holds sample `seq` (with its payload), or null. */
  batchContaining(hostId: string, seq: number): Promise<StoredBatch | null>;
  batchByHash(hostId: string, hash: Uint8Array): Promise<StoredBatch | null>;
  /**
   * Takes the lease `name` for `holder` for `ttlMs` if it is free, lapsed or already this
   * holder's (a renewal); otherwise reports who holds it until when. Several collectors on one
   * database agree on it (one transaction, the database's clock).
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease>;
  /** Gives up every lease `holder` holds (a collector shutting down), so others take over at once. */
  releaseLeases(holder: string): Promise<void>;
  close(): Promise<void>;
}

/** The bytes a decoded signature was read from, when ingest kept them (a symbol: not serialized, no WeakMap entry per signature for the GC to trace). */
const SOURCE_BYTES = Symbol('assay.signatureBytes');

/** Records the encoded bytes a decoded signature came from (collector/ingest/light-sample.ts), so stores need not encode it again. */
export function keepSignatureBytes(sig: IProcessSignature, bytes: Uint8Array): void {
  (sig as { [SOURCE_BYTES]?: Uint8Array })[SOURCE_BYTES] = bytes;
}

/** A signature's encoded bytes: the ones it was read from when ingest kept them, else encoded now. */
export function signatureBytes(sig: IProcessSignature): Uint8Array {
  return (sig as { [SOURCE_BYTES]?: Uint8Array })[SOURCE_BYTES] ?? assay.v1.ProcessSignature.encode(sig).finish();
}

/** Figures for charts from one sample (pure; shared by every store). */
export function summarize(seq: number, s: ISample): SampleSummary {
  const gpus = s.gpus ?? [];
  const sum = <T>(xs: T[] | null | undefined, f: (x: T) => number): number => (xs ?? []).reduce((a, x) => a + (f(x) || 0), 0);
  const powerReadings = s.power ?? [];
  return {
    seq,
    tsMs: s.tsMs ?? 0,
    cpuPct: s.cpu?.totalPct ?? 0,
    load1: s.load?.load1 ?? 0,
    memUsedBytes: s.memory?.usedBytes ?? 0,
    memTotalBytes: s.memory?.totalBytes ?? 0,
    gpuUtilPct: gpus.length ? sum(gpus, (g) => g.utilPct ?? 0) / gpus.length : null,
    gpuMemUsedBytes: gpus.length ? sum(gpus, (g) => g.memUsedBytes ?? 0) : null,
    powerWatts: powerReadings.length ? sum(powerReadings.filter(isTopLevelPower), (p) => p.watts ?? 0) : null,
    diskReadBytesPerSec: sum(s.disks, (d) => d.readBytesPerSec ?? 0),
    diskWriteBytesPerSec: sum(s.disks, (d) => d.writeBytesPerSec ?? 0),
    netRxBytesPerSec: sum(s.net, (n) => n.rxBytesPerSec ?? 0),
    netTxBytesPerSec: sum(s.net, (n) => n.txBytesPerSec ?? 0),
  };
}

/**
 * RAPL package and dram zones plus each GPU's board power. RAPL's core/uncore subzones are part
 * of their package and psys covers the whole platform, so counting them would double count.
 */
function isTopLevelPower(p: { domain?: string | null }): boolean {
  const d = p.domain ?? '';
  return d.startsWith('package') || d.startsWith('dram') || d.startsWith('gpu');
}
