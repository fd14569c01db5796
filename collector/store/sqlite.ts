// SQLite store (the default): one file, WAL. Writes go through a commit queue (commit-queue.ts):
// batches, hellos and verdicts from many agents commit together, one synced transaction per
// group, each write isolated in its own savepoint. A batch's signed
// bytes are stored once, in its row (`payload`); per-sample rows hold only the chart figures.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { assay, type IHello, type IProcessSignature, type ISample } from '../../proto/codec.js';
import { processKey, type Verdict } from '../engine/types.js';
import { verdictIsNonAi } from '../non-ai.js';
import { CommitQueue, defaultGroupCommit, type GroupCommitOptions, type Outcome } from './commit-queue.js';
import { applyMigration, sqliteMigrations } from './migrations.js';
import { hostFromRow, type HostRow } from './host-row.js';
import { SqliteRetention, type RetentionOptions, type RetentionStepResult } from './retention.js';
import { Rollups, chartSource, rollupResolution, type RollupRow } from './rollups.js';
import { decodeVerdict, encodeVerdict } from './verdict-codec.js';
import { SampleFigures } from './sample-figures.js';
import { REFERENCE_BYTES, digestHex, referencedDigests, resolveBatch, resolveReferences } from '../signature-refs.js';
import { PayloadSegments } from './payload-segments.js';
import { prevHashOf, storedPrevHash } from './prev-hash.js';
import { decodeSignatureBlob, encodeSignatureBlob } from './signature-blob.js';
import { ChainReader, batchesToRead, noChainReads, type ChainReadStats } from './chain-read.js';
import type { ChainBatch } from './chain.js';
import { SecurityEventLog, defaultSecurityEventOptions, type SecurityEventOptions } from './security-events.js';
import { keepSignatureBytes, summarize, type AppendResult, type ClassChange, type ClassChangeQuery, type GapRecord, type HostCount, type HostQuery, type HostRecord, type HostSort, type IncomingBatch, type Lease, type RetentionState, type SampleSummary, type SecurityEvent, type SecurityEventWindow, type Store, type StoredBatch, type StoredVerdict, type VerdictClass } from './store.js';

interface BatchRow {
  hash: Buffer;
  prev_hash: Buffer;
  header: Buffer;
  signature: Buffer;
  first_seq: number;
  last_seq: number;
  samples: number;
  received_ms: number;
  encoding: number;
  payload: Buffer;
  segment_id: number | null;
  segment_offset: number | null;
  segment_length: number | null;
}

/** Process signature rows keep the day they were first seen (migration 13). */
const DAY_MS = 86_400_000;

const BATCH_COLUMNS = 'hash, prev_hash, header, signature, first_seq, last_seq, samples, received_ms, encoding, payload, segment_id, segment_offset, segment_length';

/** A stored batch; `payload` resolved (payload-segments.ts: in the row, or in a segment). */
const batchFromRow = (r: BatchRow, payload: Buffer): StoredBatch => ({
  hash: r.hash,
  // An empty column: the link is the header's own (prev-hash.ts).
  prevHash: prevHashOf(r.prev_hash, r.header),
  header: r.header,
  signature: r.signature,
  firstSeq: r.first_seq,
  lastSeq: r.last_seq,
  samples: r.samples,
  receivedMs: r.received_ms,
  encoding: r.encoding,
  payload,
});


/** Applies pending numbered migrations inside one transaction each. */
function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)');
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version));
  for (const m of sqliteMigrations) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      applyMigration(db, m);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    })();
  }
}

export class SqliteStore implements Store {
  readonly db: Database.Database;
  private readonly stmt;
  private readonly appendTx: (hostId: string, batch: IncomingBatch, nowMs: number) => AppendResult;
  private readonly securityLog: SecurityEventLog;
  /**
   * Fault injection for tests: called inside each group's transaction after its writes, before
   * COMMIT; throwing rolls the whole group back as a failed commit would.
   */
  readonly hooks: { beforeCommit?: (writes: number) => void } = {};
  /** Every write of ingest (batches, hellos, verdicts) goes through here, committed in groups. */
  readonly commits: CommitQueue;
  readonly rollups: Rollups;
  /** The per-sample chart figures, packed per batch (sample-figures.ts). */
  readonly figures: SampleFigures;
  /** Payloads of older batches, packed (payload-segments.ts). */
  readonly segments: PayloadSegments;
  private readonly retention: SqliteRetention;
  /** Fleet-list and feed statements by sort (a fixed, small set: built on first use). */
  private readonly queries = new Map<string, Database.Statement>();
  private changesSincePrune = 0;
  /** Most class changes kept (the feed's history); older rows are deleted in steps. */
  readonly maxClassChanges: number;
  /** Chained batches reads left out for want of their prior (chain-read.ts). */
  readonly chainReads: ChainReadStats = noChainReads();

  constructor(path: string, opts: { securityEvents?: Partial<SecurityEventOptions>; maxClassChanges?: number; groupCommit?: Partial<GroupCommitOptions> } = {}) {
    this.maxClassChanges = opts.maxClassChanges ?? 100_000;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // An ack promises durability, so a committed batch must survive an OS crash too, not only a
    // kill -9 of the collector (which WAL with NORMAL already survives). One fsync per batch.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    migrate(this.db);
    const db = this.db;
    this.securityLog = new SecurityEventLog(db, { ...defaultSecurityEventOptions, ...opts.securityEvents });
    this.rollups = new Rollups(db);
    this.figures = new SampleFigures(db);
    this.segments = new PayloadSegments(db);
    this.retention = new SqliteRetention(db, this.rollups, this.figures, this.segments);
    this.stmt = {
      getHost: db.prepare<[string], HostRow>('SELECT * FROM hosts WHERE id = ?'),
      listHosts: db.prepare<[], HostRow>('SELECT * FROM hosts ORDER BY hostname, id'),
      countEnrolled: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM hosts WHERE enrolled_ms IS NOT NULL'),
      insertHost: db.prepare(
        `INSERT INTO hosts (id, hostname, agent_version, inventory, first_seen_ms, last_seen_ms, public_key, enrolled_ms)
         VALUES (@id, @hostname, @agentVersion, @inventory, @now, @now, @publicKey, @now)
         ON CONFLICT(id) DO UPDATE SET hostname = excluded.hostname, agent_version = excluded.agent_version,
           inventory = excluded.inventory, last_seen_ms = excluded.last_seen_ms`,
      ),
      insertBatch: db.prepare(
        `INSERT INTO batches (host_id, host_key, hash, prev_hash, header, signature, first_seq, last_seq, samples, received_ms, encoding, payload)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      // By hash: batches_by_hash_prefix finds the row, host and whole hash are compared on it (migration 10).
      batchExists: db.prepare<[Uint8Array, string, Uint8Array], { n: number }>('SELECT 1 AS n FROM batches INDEXED BY batches_by_hash_prefix WHERE substr(hash, 1, 8) = substr(?, 1, 8) AND host_id = ? AND hash = ?'),
      setHead: db.prepare('UPDATE hosts SET chain_head = ? WHERE id = ?'),
      insertGap: db.prepare('INSERT INTO gaps (host_id, from_seq, to_seq, from_ms, to_ms, cause, samples, batch_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      gaps: db.prepare<[string, number, number], { from_seq: number; to_seq: number; from_ms: number; to_ms: number; cause: string; samples: number }>(
        'SELECT from_seq, to_seq, from_ms, to_ms, cause, samples FROM gaps WHERE host_id = ? AND to_ms >= ? AND from_ms <= ? ORDER BY from_ms',
      ),
      revoke: db.prepare('UPDATE hosts SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL'),
      // last_used_ms only goes up: retention's garbage collection relies on it (migration 10). An
      // upsert, not a look-up first: a signature arrives once per process, and each use must raise it.
      // A reference (ProcessSignature.same_as) is resolved through the digest's unique index.
      blobByDigest: db.prepare<[Uint8Array], { signature: Buffer }>('SELECT signature FROM signature_blobs WHERE digest = ?'),
      touchBlobByDigest: db.prepare('UPDATE signature_blobs SET last_used_ms = MAX(last_used_ms, ?) WHERE digest = ?'),
      touchBlobReturning: db.prepare<[number, Uint8Array], { id: number }>('UPDATE signature_blobs SET last_used_ms = MAX(last_used_ms, ?) WHERE digest = ? RETURNING id'),
      signatureBlob: db.prepare<[Uint8Array, Uint8Array, number], { id: number }>(
        `INSERT INTO signature_blobs (digest, signature, last_used_ms) VALUES (?, ?, ?)
         ON CONFLICT(digest) DO UPDATE SET last_used_ms = MAX(last_used_ms, excluded.last_used_ms) RETURNING id`,
      ),
      insertSignature: db.prepare(
        `INSERT OR IGNORE INTO process_signatures (host_key, pid, start_time_ticks, signature_id, first_seen_day)
         VALUES (?, ?, ?, ?, ?)`,
      ),
      touchHost: db.prepare('UPDATE hosts SET last_seen_ms = ?, last_seq = MAX(last_seq, ?) WHERE id = ?'),
      // Without their payloads: a read picks the ones it decodes (chain-read.ts batchesToRead), then reads those by rowid.
      batchesOverlapping: db.prepare<[string, number, number], { id: number; first_seq: number; last_seq: number }>(
        `SELECT rowid AS id, first_seq, last_seq FROM batches WHERE host_key = (SELECT host_key FROM rollup_hosts WHERE host_id = ?) AND last_seq >= ? AND first_seq <= ? AND samples > 0 ORDER BY last_seq`,
      ),
      batchByRowid: db.prepare<[number], BatchRow>(`SELECT ${BATCH_COLUMNS} FROM batches WHERE rowid = ?`),
      signatures: db.prepare<[string], { pid: number; start_time_ticks: number; signature: Buffer }>(
        `SELECT p.pid, p.start_time_ticks, b.signature FROM process_signatures p JOIN signature_blobs b ON b.id = p.signature_id
         WHERE p.host_key = (SELECT host_key FROM rollup_hosts WHERE host_id = ?)`,
      ),
      signatureOf: db.prepare<[string, number, number], { signature: Buffer }>(
        `SELECT b.signature FROM process_signatures p JOIN signature_blobs b ON b.id = p.signature_id
         WHERE p.host_key = (SELECT host_key FROM rollup_hosts WHERE host_id = ?) AND p.pid = ? AND p.start_time_ticks = ?`,
      ),
      putVerdict: db.prepare('INSERT OR REPLACE INTO verdicts (host_id, ts_ms, class, confidence, verdict) VALUES (?, ?, ?, ?, ?)'),
      setHostVerdict: db.prepare('UPDATE hosts SET verdict_class = ?, verdict_confidence = ?, verdict_non_ai = ? WHERE id = ?'),
      hostVerdict: db.prepare<[string], { verdict_class: string | null; verdict_non_ai: number }>('SELECT verdict_class, verdict_non_ai FROM hosts WHERE id = ?'),
      insertChange: db.prepare('INSERT INTO class_changes (host_id, ts_ms, from_class, to_class, confidence, non_ai, from_non_ai) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      pruneChanges: db.prepare('DELETE FROM class_changes WHERE id <= (SELECT MAX(id) FROM class_changes) - ?'),
      nonAiHosts: db.prepare<[], { id: string }>('SELECT id FROM hosts WHERE verdict_non_ai = 1'),
      hostCounts: db.prepare<[number], { verdict_class: string | null; online: number; n: number; non_ai: number }>(
        'SELECT verdict_class, last_seen_ms >= ? AS online, COUNT(*) AS n, SUM(verdict_non_ai) AS non_ai FROM hosts GROUP BY 1, 2',
      ),
      verdicts: db.prepare<[string, number, number, number], { ts_ms: number; verdict: Buffer | string }>(
        'SELECT ts_ms, verdict FROM verdicts WHERE host_id = ? AND ts_ms >= ? AND ts_ms <= ? ORDER BY ts_ms LIMIT ?',
      ),
      verdictClasses: db.prepare<[string, number, number, number], { ts_ms: number; class: string; confidence: number }>(
        'SELECT ts_ms, class, confidence FROM verdicts WHERE host_id = ? AND ts_ms >= ? AND ts_ms <= ? ORDER BY ts_ms DESC LIMIT ?',
      ),
      verdictBefore: db.prepare<[string, number], { ts_ms: number; verdict: Buffer | string }>(
        'SELECT ts_ms, verdict FROM verdicts WHERE host_id = ? AND ts_ms < ? ORDER BY ts_ms DESC LIMIT 1',
      ),
      batchContaining: db.prepare<[string, number, number], BatchRow>(
        `SELECT ${BATCH_COLUMNS} FROM batches
         WHERE host_key = (SELECT host_key FROM rollup_hosts WHERE host_id = ?) AND last_seq >= ? AND first_seq <= ? AND samples > 0 ORDER BY last_seq LIMIT 1`,
      ),
      batchByHash: db.prepare<[Uint8Array, string, Uint8Array], BatchRow>(
        `SELECT ${BATCH_COLUMNS} FROM batches INDEXED BY batches_by_hash_prefix WHERE substr(hash, 1, 8) = substr(?, 1, 8) AND host_id = ? AND hash = ?`,
      ),
      // Taken when free, lapsed or already ours; the same statement as the PostgreSQL store's.
      acquireLease: db.prepare<[string, string, number, number], { holder: string; expires_ms: number }>(
        `INSERT INTO leases (name, holder, expires_ms) VALUES (?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms
         WHERE leases.holder = excluded.holder OR leases.expires_ms <= ?
         RETURNING holder, expires_ms`,
      ),
      lease: db.prepare<[string], { holder: string; expires_ms: number }>('SELECT holder, expires_ms FROM leases WHERE name = ?'),
      releaseLeases: db.prepare('DELETE FROM leases WHERE holder = ?'),
    };
    // Run inside the group's transaction, each call of a db.transaction function is a savepoint:
    // a write that throws is rolled back alone and the rest of the group still commits.
    this.appendTx = db.transaction((hostId: string, batch: IncomingBatch, nowMs: number): AppendResult => {
      const host = this.stmt.getHost.get(hostId);
      if (!host) throw new Error(`unknown host ${hostId}`);
      const head = host.chain_head ?? Buffer.alloc(0);
      const none = { accepted: 0, duplicates: 0, lastSeq: host.last_seq, storedSeqs: [] as number[] };
      // Checked here, in the transaction that would store the batch (`assay agents revoke` writes
      // the file from another process): no extra read per batch, and no batch lands after it.
      if (host.revoked_ms !== null) return { ...none, status: 'revoked' };
      if (head.length && Buffer.compare(head, batch.hash) === 0) return { ...none, status: 'duplicate', duplicates: batch.samples.length };
      if (this.stmt.batchExists.get(batch.hash, hostId, batch.hash)) return { ...none, status: 'replayed' };
      // The first batch a collector sees from an agent may continue a chain begun elsewhere.
      if (head.length && Buffer.compare(head, Buffer.from(batch.prevHash)) !== 0) return { ...none, status: 'chain_break' };
      // Sequence numbers only go up across batches: a batch that is not the head resent must
      // start above the last committed seq, or a report would silently leave it out.
      const firstSeq = batch.samples[0]?.seq;
      if (firstSeq !== undefined && firstSeq <= host.last_seq) return { ...none, status: 'seq_regression' };
      const storedSeqs: number[] = [];
      const stored: SampleSummary[] = [];
      let maxSeq = 0;
      const hostKey = this.rollups.hostKey(hostId);
      const seen = new Set<number>();
      // Signatures as if sent in full: references resolved within the batch or through the
      // digest index (collector/signature-refs.ts); one that names nothing stored is counted.
      const { signatures, resolved, unresolved } = resolveBatch(batch.samples.map((s) => s.sample), (digest) => this.blobSignature(digest));
      for (const { seq, sample } of batch.samples) {
        // Idempotent by (host, seq): a seq this batch repeats, or one at or below the host's last
        // (ingest never sends those: the first seq is checked above and seqs ascend), is not stored again.
        if (!seen.has(seq) && (seq > host.last_seq || !this.figures.has(hostKey, seq))) {
          const summary = summarize(seq, sample);
          storedSeqs.push(seq);
          stored.push(summary);
        }
        seen.add(seq);
        maxSeq = Math.max(maxSeq, seq);
      }
      // A reference is stored as the signature it names: the blob's use is raised, so retention
      // keeps it while this batch is kept.
      const upserted = new Set<string>();
      for (const { process: p, bytes, digest } of signatures) {
        // Deflated (level 9) only when new: nearly every signature a batch carries is stored
        // already, and deflating each again took the ack path from ~0.7 to ~1.4 s of CPU per
        // 1,000 samples (bench/collector-agents.js --mode a).
        const sigId = (this.stmt.touchBlobReturning.get(nowMs, digest) ?? this.stmt.signatureBlob.get(digest, encodeSignatureBlob(bytes), nowMs)!).id;
        this.stmt.insertSignature.run(hostKey, p.pid ?? 0, p.startTimeTicks ?? 0, sigId, Math.floor(nowMs / DAY_MS));
        if (resolved.size) upserted.add(digestHex(digest));
      }
      // A signature named only for its lists is used by this batch too (its later reads need it).
      for (const hex of resolved.keys()) if (!upserted.has(hex)) this.stmt.touchBlobByDigest.run(nowMs, Buffer.from(hex, 'hex'));
      this.figures.add(hostKey, stored);
      this.rollups.add(hostId, stored);
      for (const g of batch.gaps) this.stmt.insertGap.run(hostId, g.fromSeq, g.toSeq, g.fromMs, g.toMs, g.cause, g.samples, batch.hash);
      const seqs = batch.samples.map((x) => x.seq);
      this.stmt.insertBatch.run(
        hostId, hostKey, batch.hash, storedPrevHash(batch.header, batch.prevHash), batch.header, batch.signature, seqs[0] ?? maxSeq, seqs.at(-1) ?? maxSeq, seqs.length, nowMs, batch.encoding, batch.payload,
      );
      this.stmt.setHead.run(batch.hash, hostId);
      this.stmt.touchHost.run(nowMs, maxSeq, hostId);
      const lastSeq = Math.max(host.last_seq, maxSeq);
      return {
        status: 'stored', accepted: storedSeqs.length, duplicates: batch.samples.length - storedSeqs.length, lastSeq, storedSeqs,
        ...(resolved.size ? { signatures: resolved } : {}), ...(unresolved ? { unresolvedSignatures: unresolved } : {}),
      };
    });
    const isolated = db.transaction((work: () => unknown) => work());
    const group = db.transaction((works: Array<() => unknown>): Outcome<unknown>[] => {
      const outcomes = works.map((work): Outcome<unknown> => {
        try {
          return { ok: true, value: isolated(work) };
        } catch (error) {
          return { ok: false, error };
        }
      });
      this.hooks.beforeCommit?.(works.length);
      return outcomes;
    });
    this.commits = new CommitQueue((works) => group(works), { ...defaultGroupCommit, ...opts.groupCommit });
  }

  async upsertHost(hello: IHello, nowMs: number): Promise<HostRecord> {
    return this.commits.submit(() => this.upsertHostNow(hello, nowMs));
  }

  private upsertHostNow(hello: IHello, nowMs: number): HostRecord {
    this.stmt.insertHost.run({
      id: hello.agentId,
      hostname: hello.hostname ?? '',
      agentVersion: hello.agentVersion ?? '',
      inventory: hello.inventory ? Buffer.from(assay.v1.Inventory.encode(hello.inventory).finish()) : null,
      publicKey: hello.publicKey?.length ? Buffer.from(hello.publicKey) : null,
      now: nowMs,
    });
    return hostFromRow(this.stmt.getHost.get(hello.agentId ?? '')!);
  }

  /** Queued for the next group commit; resolves once the group is durable (synchronous=FULL). */
  async appendBatch(hostId: string, batch: IncomingBatch, nowMs: number): Promise<AppendResult> {
    // Weight ~ the time the write holds the (synchronous) database: one unit per sample or per
    // KiB stored (the batch's payload), whichever is more, so a group of large batches is cut sooner.
    const bytes = batch.header.length + (batch.payload?.length || 0);
    return this.commits.submit(() => this.appendTx(hostId, batch, nowMs), Math.max(1, batch.samples.length, Math.ceil(bytes / 1024)));
  }

  async revokeAgent(id: string, nowMs: number): Promise<boolean> {
    return this.stmt.revoke.run(nowMs, id).changes > 0;
  }

  async recordSecurityEvent(e: SecurityEvent): Promise<void> {
    this.securityLog.record(e);
  }

  async securityEvents(limit: number): Promise<SecurityEventWindow[]> {
    return this.securityLog.recent(limit);
  }

  async gaps(hostId: string, fromMs: number, toMs: number): Promise<GapRecord[]> {
    return this.stmt.gaps.all(hostId, fromMs, toMs).map((g) => ({ fromSeq: g.from_seq, toSeq: g.to_seq, fromMs: g.from_ms, toMs: g.to_ms, cause: g.cause, samples: g.samples }));
  }

  async listHosts(): Promise<HostRecord[]> {
    return this.stmt.listHosts.all().map(hostFromRow);
  }

  async getHost(id: string): Promise<HostRecord | null> {
    const row = this.stmt.getHost.get(id);
    return row ? hostFromRow(row) : null;
  }

  async sampleSummaries(hostId: string, fromMs: number, toMs: number, limit: number): Promise<SampleSummary[]> {
    const bucketMs = Math.max(1, Math.ceil((toMs - fromMs + 1) / Math.max(1, limit)));
    const source = chartSource(bucketMs, fromMs, this.rollups.rawPrunedMs(hostId));
    if (source !== 'raw') return this.rollups.summaries(hostId, source, fromMs, toMs, bucketMs, limit);
    const key = this.figures.keyOf(hostId);
    return key === null ? [] : this.figures.summaries(key, fromMs, toMs, bucketMs, limit);
  }

  async rollupRows(hostId: string, resolution: '1m' | '1h', fromMs: number, toMs: number, limit: number): Promise<RollupRow[]> {
    return this.rollups.rows(hostId, rollupResolution(resolution), fromMs, toMs, limit);
  }

  async retentionState(hostId: string): Promise<RetentionState> {
    return { rawPrunedMs: this.rollups.rawPrunedMs(hostId) };
  }

  async retentionStep(opts: RetentionOptions, nowMs: number): Promise<RetentionStepResult> {
    return this.retention.step(opts, nowMs);
  }

  async samples(hostId: string, fromMs: number, toMs: number, limit: number): Promise<Array<{ seq: number; sample: ISample }>> {
    const key = this.figures.keyOf(hostId);
    const seqs = key === null ? [] : this.figures.inRange(key, fromMs, toMs).slice(0, limit).map((r) => r.seq);
    if (seqs.length === 0) return [];
    const wanted = new Set(seqs);
    const bySeq = new Map<number, ISample>();
    // In chain order: each batch hands its last sample to the next (a chained batch's prior); only
    // the first chained one walks back, by hash. A batch whose prior is gone is left out (counted).
    const chain = new ChainReader(this.chainReads);
    const rows = this.stmt.batchesOverlapping.all(hostId, Math.min(...seqs), Math.max(...seqs));
    // Only the batches holding a wanted seq and those just before them (chain-read.ts batchesToRead).
    const read = batchesToRead(rows, [...wanted].sort((a, b) => a - b));
    for (const [i, r] of rows.entries()) {
      if (!read[i]) continue;
      const b = this.stmt.batchByRowid.get(r.id);
      if (!b) continue; // deleted between the two statements (by another process on the file)
      const { seqs: batchSeqs, samples: decoded } = chain.readSync({ hash: b.hash, header: b.header, encoding: b.encoding, payload: this.segments.payloadOf(b) }, (hash) => this.chainBatch(hostId, hash));
      if (!decoded) continue;
      batchSeqs.forEach((seq, i) => {
        if (wanted.has(seq) && decoded[i]) bySeq.set(seq, decoded[i]!);
      });
    }
    // References resolved as at ingest (signature_blobs by digest).
    const blobs = await this.signatureBlobs([...referencedDigests(bySeq.values()).values()]);
    resolveReferences(bySeq.values(), (hex) => (blobs.has(hex) ? assay.v1.ProcessSignature.decode(blobs.get(hex)!) : undefined));
    // In the rows' order (time, then seq); a sample whose batch is gone is left out.
    return seqs.flatMap((seq) => (bySeq.has(seq) ? [{ seq, sample: bySeq.get(seq)! }] : []));
  }

  /** A stored batch of the host by hash, as a chain walk reads it (chain.ts). */
  private chainBatch(hostId: string, hash: Uint8Array): ChainBatch | null {
    const r = this.stmt.batchByHash.get(hash, hostId, hash);
    return r ? { header: r.header, encoding: r.encoding, payload: this.segments.payloadOf(r) } : null;
  }

  /** The stored signature whose canonical bytes have this SHA-256 (a reference's target), or undefined. */
  private blobSignature(digest: Uint8Array): IProcessSignature | undefined {
    const r = this.stmt.blobByDigest.get(digest);
    if (!r) return undefined;
    const bytes = decodeSignatureBlob(r.signature);
    const sig = assay.v1.ProcessSignature.decode(bytes);
    keepSignatureBytes(sig, bytes);
    return sig;
  }

  async signatureBlobs(digests: readonly Uint8Array[]): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>();
    for (const d of digests) {
      const hex = digestHex(d);
      if (out.has(hex) || d.length !== REFERENCE_BYTES) continue;
      const r = this.stmt.blobByDigest.get(d);
      if (r) out.set(hex, decodeSignatureBlob(r.signature));
    }
    return out;
  }

  async signatures(hostId: string): Promise<Map<string, IProcessSignature>> {
    const out = new Map<string, IProcessSignature>();
    for (const r of this.stmt.signatures.all(hostId)) out.set(processKey(r.pid, r.start_time_ticks), assay.v1.ProcessSignature.decode(decodeSignatureBlob(r.signature)));
    return out;
  }

  async signaturesOf(hostId: string, keys: readonly string[]): Promise<Map<string, IProcessSignature>> {
    const out = new Map<string, IProcessSignature>();
    // Point lookups on the primary key (host_id, pid, start_time_ticks): one row read per process asked for.
    for (const key of new Set(keys)) {
      const [pid, ticks] = key.split(':').map(Number);
      if (!Number.isSafeInteger(pid) || !Number.isSafeInteger(ticks)) continue;
      const r = this.stmt.signatureOf.get(hostId, pid!, ticks!);
      if (r) out.set(key, assay.v1.ProcessSignature.decode(decodeSignatureBlob(r.signature)));
    }
    return out;
  }

  async putVerdict(hostId: string, tsMs: number, verdict: Verdict): Promise<void> {
    return this.commits.submit(() => this.putVerdictNow(hostId, tsMs, verdict), 1, true);
  }

  /** Inside a group's transaction, the inner transaction is this write's savepoint. */
  private putVerdictNow(hostId: string, tsMs: number, verdict: Verdict): void {
    const nonAi = verdictIsNonAi(verdict) ? 1 : 0;
    this.db.transaction(() => {
      const before = this.stmt.hostVerdict.get(hostId);
      this.stmt.putVerdict.run(hostId, tsMs, verdict.class, verdict.confidence, encodeVerdict(verdict));
      this.stmt.setHostVerdict.run(verdict.class, verdict.confidence, nonAi, hostId);
      if (before && before.verdict_class !== verdict.class) {
        this.stmt.insertChange.run(hostId, tsMs, before.verdict_class, verdict.class, verdict.confidence, nonAi, before.verdict_non_ai);
        if (++this.changesSincePrune >= Math.max(1, Math.floor(this.maxClassChanges / 100))) {
          this.changesSincePrune = 0;
          this.stmt.pruneChanges.run(this.maxClassChanges);
        }
      }
    })();
  }

  private query(key: string, sql: () => string): Database.Statement {
    let st = this.queries.get(key);
    if (!st) this.queries.set(key, (st = this.db.prepare(sql())));
    return st;
  }

  async queryHosts(q: HostQuery): Promise<{ total: number; hosts: HostRecord[] }> {
    const where = `WHERE (@classes IS NULL OR verdict_class IN (SELECT value FROM json_each(@classes)) OR (@pending AND verdict_class IS NULL))
      AND (@state IS NULL OR (@state = 'online') = (last_seen_ms >= @since))
      AND (@search IS NULL OR hostname LIKE @search ESCAPE '\\' OR id LIKE @search ESCAPE '\\')`;
    const params = {
      classes: q.classes ? JSON.stringify(q.classes.filter((c) => c !== 'pending')) : null,
      pending: q.classes?.includes('pending') ? 1 : 0,
      state: q.state ?? null,
      since: q.onlineSinceMs,
      search: q.search ? `%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null,
    };
    const dir = q.desc ? 'DESC' : 'ASC';
    const order: Record<HostSort, string> = {
      hostname: `hostname ${dir}, id ${dir}`,
      class: `verdict_class IS NULL ${dir}, verdict_class ${dir}, hostname, id`,
      lastSeen: `last_seen_ms ${dir}, hostname, id`,
      confidence: `verdict_confidence IS NULL ${dir}, verdict_confidence ${dir}, hostname, id`,
      state: `last_seen_ms >= @since ${q.desc ? 'ASC' : 'DESC'}, hostname, id`,
    };
    const page = this.query(`hosts:${q.sort}:${dir}`, () => `SELECT * FROM hosts ${where} ORDER BY ${order[q.sort]} LIMIT @limit OFFSET @offset`);
    const count = this.query('hosts:count', () => `SELECT COUNT(*) AS n FROM hosts ${where}`);
    const { n } = count.get(params) as { n: number };
    const rows = page.all({ ...params, limit: q.limit, offset: q.offset }) as HostRow[];
    return { total: n, hosts: rows.map(hostFromRow) };
  }

  async nonAiHosts(): Promise<Set<string>> {
    return new Set(this.stmt.nonAiHosts.all().map((r) => r.id));
  }

  async hostCounts(onlineSinceMs: number): Promise<HostCount[]> {
    return this.stmt.hostCounts.all(onlineSinceMs).map((r) => ({ class: r.verdict_class, online: r.online === 1, hosts: r.n, nonAi: r.non_ai ?? 0 }));
  }

  async classChanges(q: ClassChangeQuery): Promise<{ total: number; changes: ClassChange[] }> {
    // Only the filters given go into the SQL (an `@x IS NULL OR …` would keep SQLite off the
    // class indexes); hosts are searched first (5,000 rows at most), then their changes.
    const conds = [
      q.classes ? 'c.to_class IN (SELECT value FROM json_each(@classes)) OR c.from_class IN (SELECT value FROM json_each(@classes))' : null,
      q.search ? "c.host_id IN (SELECT id FROM hosts WHERE hostname LIKE @search ESCAPE '\\' OR id LIKE @search ESCAPE '\\')" : null,
    ].filter((x): x is string => x !== null);
    const where = conds.length ? `WHERE ${conds.map((x) => `(${x})`).join(' AND ')}` : '';
    const params: Record<string, string> = {};
    if (q.classes) params.classes = JSON.stringify(q.classes);
    if (q.search) params.search = `%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    // Both orders are served by an index (class_changes_non_ai_first, class_changes_by_time).
    const order = q.order === 'nonAiFirst' ? '(c.non_ai OR c.from_non_ai) DESC, c.ts_ms DESC, c.id DESC' : 'c.ts_ms DESC, c.id DESC';
    const key = `${q.order}:${q.classes ? 'c' : ''}:${q.search ? 's' : ''}`;
    // The page walks the order's index and stops after `limit` matches (`+` keeps SQLite from
    // collecting every match through the class indexes and sorting them: 60 ms at 100,000 rows).
    const pageWhere = where.replace(/c\.(to_class|from_class) IN/g, '+c.$1 IN');
    const page = this.query(`changes:${key}`, () => `SELECT c.*, h.hostname FROM class_changes c JOIN hosts h ON h.id = c.host_id ${pageWhere} ORDER BY ${order} LIMIT @limit OFFSET @offset`);
    const count = this.query(`changes:count:${q.classes ? 'c' : ''}:${q.search ? 's' : ''}`, () => `SELECT COUNT(*) AS n FROM class_changes c ${where}`);
    const { n } = count.get(params) as { n: number };
    const rows = page.all({ ...params, limit: q.limit, offset: q.offset }) as Array<{
      id: number; host_id: string; hostname: string; ts_ms: number; from_class: string | null; to_class: string; confidence: number; non_ai: number; from_non_ai: number;
    }>;
    return {
      total: n,
      changes: rows.map((r) => ({ id: r.id, hostId: r.host_id, hostname: r.hostname, tsMs: r.ts_ms, fromClass: r.from_class, toClass: r.to_class, confidence: r.confidence, nonAi: r.non_ai === 1, fromNonAi: r.from_non_ai === 1 })),
    };
  }

  async verdicts(hostId: string, fromMs: number, toMs: number, limit: number): Promise<StoredVerdict[]> {
    return this.stmt.verdicts.all(hostId, fromMs, toMs, limit).map((r) => ({ tsMs: r.ts_ms, verdict: decodeVerdict(r.verdict) }));
  }

  async verdictClasses(hostId: string, fromMs: number, toMs: number, limit: number): Promise<VerdictClass[]> {
    return this.stmt.verdictClasses
      .all(hostId, fromMs, toMs, limit)
      .reverse()
      .map((r) => ({ tsMs: r.ts_ms, class: r.class, confidence: r.confidence }));
  }

  async verdictBefore(hostId: string, tsMs: number): Promise<StoredVerdict | null> {
    const r = this.stmt.verdictBefore.get(hostId, tsMs);
    return r ? { tsMs: r.ts_ms, verdict: decodeVerdict(r.verdict) } : null;
  }

  async seqRange(hostId: string, fromMs: number, toMs: number): Promise<{ minSeq: number; maxSeq: number } | null> {
    const key = this.figures.keyOf(hostId);
    return key === null ? null : this.figures.seqRange(key, fromMs, toMs);
  }

  async batchContaining(hostId: string, seq: number): Promise<StoredBatch | null> {
    const r = this.stmt.batchContaining.get(hostId, seq, seq);
    return r ? batchFromRow(r, this.segments.payloadOf(r)) : null;
  }

  async batchByHash(hostId: string, hash: Uint8Array): Promise<StoredBatch | null> {
    const r = this.stmt.batchByHash.get(hash, hostId, hash);
    return r ? batchFromRow(r, this.segments.payloadOf(r)) : null;
  }

  /**
   * A write like ingest's: queued for the next group commit, so taking or renewing the leases of
   * thousands of hosts costs shared commits, not one synced write each on the event loop.
   */
  async acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease> {
    return this.commits.submit(() => {
      const now = Date.now();
      const won = this.stmt.acquireLease.get(name, holder, now + ttlMs, now);
      const r = won ?? this.stmt.lease.get(name)!;
      return { held: !!won, holder: r.holder, expiresMs: r.expires_ms };
    }, 1, true);
  }

  async releaseLeases(holder: string): Promise<void> {
    this.stmt.releaseLeases.run(holder);
  }

  /** Agents that ever enrolled, revoked ones included (for --max-enrollments). */
  countEnrolled(): number {
    return this.stmt.countEnrolled.get()!.n;
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    await this.commits.drain();
    if (!this.db.open) return;
    this.securityLog.flush();
    this.db.close();
  }
}
