// Durable queue between sampling and the collector (SQLite WAL in the state directory).
//
// Samples get their sequence number here, once (AUTOINCREMENT never reuses one). Batches are
// sealed here too: payload compressed, header built, signed and stored (payload included) before
// the first send, so every resend after a disconnect or a crash is byte-identical, whatever a
// later zlib would make of the same samples, and the per-agent hash chain never forks. A sealed
// batch and its samples stay until the collector acks that batch's hash. Batches sealed by an
// older agent (schema 2, no stored payload) are resent as they were: their samples, framed.
//
// When the spool is full (too many unsent samples, or too old), the oldest unsealed samples are
// first thinned (every other one dropped, halving their resolution); only when thinning can go
// no further are the oldest dropped outright. Either way the loss is recorded as a Gap that
// travels in the next batch: never a silent hole.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { privateDbFile } from '../proto/private-files.js';
import { join } from 'node:path';
import { assay } from '../proto/codec.js';
import { AGENT_BATCH_ENCODING, BatchEncoding, CHAIN_MAX_BATCHES, frameSamples, isChainedEncoding, payloadChained } from '../proto/payload.js';
import { sealBatch } from './batch.js';

export interface SpoolLimits {
  /** Most unsent samples kept. */
  maxSamples: number;
  /** Unsent samples older than this are thinned or dropped. */
  maxAgeMs: number;
  /** Thinning stops once kept samples are this far apart; beyond it the oldest are dropped. */
  maxThinnedSpacingMs: number;
}

export const defaultSpoolLimits: SpoolLimits = { maxSamples: 7 * 24 * 3600, maxAgeMs: 7 * 24 * 3600_000, maxThinnedSpacingMs: 60_000 };

export interface SealedBatch {
  id: number;
  header: Uint8Array;
  signature: Uint8Array;
  hash: Buffer;
  encoding: assay.v1.BatchEncoding;
  /** What the header commits to: the compressed payload, or (schema 2) the framed samples. */
  payload: Uint8Array;
  /** Samples in the batch. */
  count: number;
  lastSeq: number;
}

export interface GapRecord {
  fromSeq: number;
  toSeq: number;
  fromMs: number;
  toMs: number;
  cause: 'spool_thinned' | 'spool_full' | 'sample_too_large';
  samples: number;
}

interface BatchRow {
  id: number;
  first_seq: number;
  last_seq: number;
  header: Buffer;
  signature: Buffer;
  hash: Buffer;
  encoding: number;
  payload: Buffer | null;
}

export class Spool {
  private readonly db: Database.Database;
  private readonly stmt;
  private unsent: number;
  /** Samples thinned or dropped since start (each also recorded as a gap). */
  lost = 0;
  /**
   * The batch sealed last by this process (BATCH_ENCODING_CHAINED): its hash, its last sample, and
   * how many batches its chain holds since the keyframe. The next batch is encoded against that
   * sample while the chain is shorter than CHAIN_MAX_BATCHES; null after a start (nothing sealed
   * yet by this process) and after a batch without samples: the next batch is a keyframe.
   */
  private chain: { hash: Buffer; last: Uint8Array; batches: number } | null = null;

  constructor(
    stateDir: string,
    private readonly limits: SpoolLimits = defaultSpoolLimits,
  ) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const file = join(stateDir, 'spool.db');
    try {
      privateDbFile(file);
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      // NORMAL survives a kill -9 of the agent (WAL); an OS crash may lose the last samples.
      this.db.pragma('synchronous = NORMAL');
      // Page cache: 512 KiB instead of SQLite's 2 MiB (it fills up over hours and stays in the
      // agent's RSS); the spool's statements are appends and primary-key range reads.
      this.db.pragma('cache_size = -512');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS spool (seq INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL, data BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY AUTOINCREMENT, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,
          header BLOB NOT NULL, signature BLOB NOT NULL, hash BLOB NOT NULL UNIQUE);
        CREATE TABLE IF NOT EXISTS gaps (id INTEGER PRIMARY KEY AUTOINCREMENT, from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL,
          from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL, cause TEXT NOT NULL, samples INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
      `);
      // Spools from agents before schema 3 lack the payload of sealed batches.
      const cols = new Set((this.db.prepare('PRAGMA table_info(batches)').all() as Array<{ name: string }>).map((c) => c.name));
      if (!cols.has('payload')) {
        this.db.exec('ALTER TABLE batches ADD COLUMN encoding INTEGER NOT NULL DEFAULT 0; ALTER TABLE batches ADD COLUMN payload BLOB;');
      }
    } catch (err) {
      throw new Error(`spool ${file} cannot be opened: ${(err as Error).message} (move it aside to start with an empty spool)`);
    }
    const db = this.db;
    this.stmt = {
      push: db.prepare<[number, Uint8Array]>('INSERT INTO spool (ts_ms, data) VALUES (?, ?)'),
      getMeta: db.prepare<[string], { value: Buffer | number }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare<[string, Buffer | number]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      unsealedCount: db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM spool WHERE seq > ?'),
      unsealed: db.prepare<[number, number], { seq: number; ts_ms: number; data: Buffer }>('SELECT seq, ts_ms, data FROM spool WHERE seq > ? ORDER BY seq LIMIT ?'),
      unsealedMeta: db.prepare<[number, number], { seq: number; ts_ms: number }>('SELECT seq, ts_ms FROM spool WHERE seq > ? ORDER BY seq LIMIT ?'),
      oldestUnsealed: db.prepare<[number], { seq: number; ts_ms: number }>('SELECT seq, ts_ms FROM spool WHERE seq > ? ORDER BY seq LIMIT 1'),
      deleteSample: db.prepare<[number]>('DELETE FROM spool WHERE seq = ?'),
      deleteUpTo: db.prepare<[number]>('DELETE FROM spool WHERE seq <= ?'),
      range: db.prepare<[number, number], { data: Buffer }>('SELECT data FROM spool WHERE seq >= ? AND seq <= ? ORDER BY seq'),
      firstBatch: db.prepare<[], BatchRow>('SELECT * FROM batches ORDER BY id LIMIT 1'),
      batchByHash: db.prepare<[Buffer], BatchRow>('SELECT * FROM batches WHERE hash = ?'),
      deleteBatchesUpTo: db.prepare<[number]>('DELETE FROM batches WHERE id <= ?'),
      replaceBatch: db.prepare<[Uint8Array, Uint8Array, Buffer, Uint8Array, number]>('UPDATE batches SET header = ?, signature = ?, hash = ?, payload = ? WHERE id = ?'),
      insertBatch: db.prepare<[number, number, Uint8Array, Uint8Array, Buffer, number, Uint8Array]>(
        'INSERT INTO batches (first_seq, last_seq, header, signature, hash, encoding, payload) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      pendingGaps: db.prepare<[], { id: number; from_seq: number; to_seq: number; from_ms: number; to_ms: number; cause: string; samples: number }>('SELECT * FROM gaps ORDER BY id'),
      deleteGaps: db.prepare<[number]>('DELETE FROM gaps WHERE id <= ?'),
      insertGap: db.prepare<[number, number, number, number, string, number]>('INSERT INTO gaps (from_seq, to_seq, from_ms, to_ms, cause, samples) VALUES (?, ?, ?, ?, ?, ?)'),
    };
    this.unsent = this.stmt.unsealedCount.get(this.sealedSeq)!.n;
  }

  private metaNumber(key: string): number {
    const v = this.stmt.getMeta.get(key)?.value;
    return typeof v === 'number' ? v : 0;
  }

  /** Highest seq already inside a sealed batch. */
  private get sealedSeq(): number {
    return this.metaNumber('sealed_seq');
  }

  /** Hash of the last sealed batch: the next batch's prev_hash. */
  get headHash(): Buffer {
    const v = this.stmt.getMeta.get('head_hash')?.value;
    return Buffer.isBuffer(v) ? v : Buffer.alloc(0);
  }

  /** Highest seq the collector acknowledged. */
  get ackedSeq(): number {
    return this.metaNumber('acked_seq');
  }

  /** Samples not yet in a sealed batch. */
  get unsentCount(): number {
    return this.unsent;
  }

  /** Whether a sealed batch waits for its ack (it is resent first). */
  get hasSealed(): boolean {
    return this.stmt.firstBatch.get() !== undefined;
  }

  /** Samples not yet acknowledged (sealed or not). */
  get size(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM spool').get() as { n: number }).n;
  }

  /** Appends one encoded sample and enforces the limits; returns its sequence number. */
  push(tsMs: number, bytes: Uint8Array): number {
    const seq = Number(this.stmt.push.run(tsMs, bytes).lastInsertRowid);
    this.unsent++;
    this.enforceLimits(tsMs);
    return seq;
  }

  private enforceLimits(nowMs: number): void {
    for (let guard = 0; guard < 64; guard++) {
      const oldest = this.stmt.oldestUnsealed.get(this.sealedSeq);
      const tooMany = this.unsent > this.limits.maxSamples;
      const tooOld = oldest !== undefined && nowMs - oldest.ts_ms > this.limits.maxAgeMs;
      if (!tooMany && !tooOld) return;
      if (tooMany && this.thinOldest()) continue;
      this.dropOldest(tooOld ? Math.max(1, this.countOlderThan(nowMs - this.limits.maxAgeMs)) : this.unsent - this.limits.maxSamples);
    }
  }

  private countOlderThan(tsMs: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM spool WHERE seq > ? AND ts_ms < ?').get(this.sealedSeq, tsMs) as { n: number }).n;
  }

  /** Drops every other sample in the oldest half of the unsent ones, where they are still dense. */
  private thinOldest(): boolean {
    const rows = this.stmt.unsealedMeta.all(this.sealedSeq, Math.max(2, Math.floor(this.unsent / 2)));
    const victims: Array<{ seq: number; ts_ms: number }> = [];
    for (let i = 1; i + 1 < rows.length; i += 2) {
      // Keep rows[i-1] and rows[i+1]; drop rows[i] only if they stay within the spacing bound.
      if (rows[i + 1]!.ts_ms - rows[i - 1]!.ts_ms <= this.limits.maxThinnedSpacingMs) victims.push(rows[i]!);
    }
    if (victims.length === 0) return false;
    this.db.transaction(() => {
      for (const v of victims) this.stmt.deleteSample.run(v.seq);
      const first = victims[0]!;
      const last = victims.at(-1)!;
      this.stmt.insertGap.run(first.seq, last.seq, first.ts_ms, last.ts_ms, 'spool_thinned', victims.length);
    })();
    this.unsent -= victims.length;
    this.lost += victims.length;
    return true;
  }

  private dropOldest(n: number): void {
    const rows = this.stmt.unsealedMeta.all(this.sealedSeq, n);
    if (rows.length === 0) return;
    this.db.transaction(() => {
      for (const r of rows) this.stmt.deleteSample.run(r.seq);
      this.stmt.insertGap.run(rows[0]!.seq, rows.at(-1)!.seq, rows[0]!.ts_ms, rows.at(-1)!.ts_ms, 'spool_full', rows.length);
    })();
    this.unsent -= rows.length;
    this.lost += rows.length;
  }

  private toSealed(row: BatchRow): SealedBatch {
    const header = assay.v1.BatchHeader.decode(row.header);
    const seqs = new Set(header.seqs ?? []);
    const base = { id: row.id, header: row.header, signature: row.signature, hash: row.hash, count: seqs.size, lastSeq: row.last_seq };
    if (row.payload) return { ...base, encoding: row.encoding as assay.v1.BatchEncoding, payload: row.payload };
    // Sealed by a schema-2 agent before an upgrade: its samples, as they were signed.
    const samples = seqs.size ? this.stmt.range.all(row.first_seq, row.last_seq).map((r) => r.data) : [];
    if (samples.length !== seqs.size) throw new Error(`spool is missing samples of sealed batch ${row.id} (${samples.length} of ${seqs.size})`);
    return { ...base, encoding: BatchEncoding.BATCH_ENCODING_SAMPLES, payload: frameSamples(samples) };
  }

  /**
   * The next batch to send: the oldest sealed but unacked one (a resend is byte-identical), or a
   * newly sealed one of up to `maxSamples` samples and `maxBytes` of sample data (the
   * collector's frame limit, with room for the header) plus any pending gaps. Null when idle.
   */
  nextBatch(agentId: string, maxSamples: number, sign: (header: Uint8Array) => Uint8Array, nowMs: number, maxBytes = Infinity): SealedBatch | null {
    const sealed = this.stmt.firstBatch.get();
    if (sealed) return this.toSealed(sealed);
    let rows = this.stmt.unsealed.all(this.sealedSeq, maxSamples);
    // A single sample over the frame limit can never be delivered: record it as lost.
    while (rows[0] && rows[0].data.length > maxBytes) {
      const r = rows[0];
      this.db.transaction(() => {
        this.stmt.deleteSample.run(r.seq);
        this.stmt.insertGap.run(r.seq, r.seq, r.ts_ms, r.ts_ms, 'sample_too_large', 1);
      })();
      this.unsent--;
      this.lost++;
      rows = this.stmt.unsealed.all(this.sealedSeq, maxSamples);
    }
    let bytes = 0;
    const fit = rows.findIndex((r) => (bytes += r.data.length) > maxBytes);
    if (fit > 0) rows = rows.slice(0, fit);
    const gaps = this.stmt.pendingGaps.all();
    if (rows.length === 0 && gaps.length === 0) return null;
    const samples = rows.map((r) => r.data);
    const prevHash = this.headHash;
    const c = this.chain;
    const chained = isChainedEncoding(AGENT_BATCH_ENCODING) && c !== null && c.batches < CHAIN_MAX_BATCHES && c.hash.equals(prevHash) && samples.length > 0;
    const { header, signature, hash, encoding, payload } = sealBatch(
      {
        agentId,
        seqs: rows.map((r) => r.seq),
        samples,
        prevHash,
        prior: chained ? c.last : null,
        gaps: gaps.map((g) => ({ fromSeq: g.from_seq, toSeq: g.to_seq, fromMs: g.from_ms, toMs: g.to_ms, cause: g.cause, samples: g.samples })),
        sealedMs: nowMs,
      },
      sign,
    );
    // Gaps may name seqs beyond this batch's samples (thinning spans many); they only inform.
    const lastSeq = rows.at(-1)?.seq ?? this.sealedSeq;
    const firstSeq = rows[0]?.seq ?? lastSeq;
    const id = this.db.transaction(() => {
      const info = this.stmt.insertBatch.run(firstSeq, lastSeq, header, signature, hash, encoding, payload);
      this.stmt.setMeta.run('sealed_seq', lastSeq);
      this.stmt.setMeta.run('head_hash', hash);
      if (gaps.length) this.stmt.deleteGaps.run(gaps.at(-1)!.id);
      return Number(info.lastInsertRowid);
    })();
    this.unsent -= rows.length;
    this.chain = samples.length ? { hash, last: samples.at(-1)!, batches: chained ? c.batches + 1 : 1 } : null;
    return { id, header, signature, hash, encoding, payload, count: rows.length, lastSeq };
  }

  /** Batches sealed in a row since the last keyframe by this process (0: none yet): for status and tests. */
  get chainLength(): number {
    return this.chain?.batches ?? 0;
  }

  /**
   * The collector cannot decode the sealed, unacked batch against the batch it is chained to (it
   * refused it as prior_unknown, prior_unreadable or chain_too_long, agent/link.ts: e.g. retention
   * deleted every batch of a host that was silent for longer than its raw window). Seals the same samples again, same sequence
   * numbers, same prev_hash and gaps, as a keyframe, in place of the refused batch; that batch was
   * never stored, so the chain does not fork. Returns false when no sealed batch is chained.
   */
  resealKeyframe(sign: (header: Uint8Array) => Uint8Array): boolean {
    const row = this.stmt.firstBatch.get();
    if (!row || !row.payload || !payloadChained(row.encoding, row.payload)) return false;
    const h = assay.v1.BatchHeader.decode(row.header);
    const seqs = (h.seqs ?? []).map(Number);
    const samples = this.stmt.range.all(row.first_seq, row.last_seq).map((r) => r.data);
    if (samples.length !== seqs.length) return false;
    const sealed = sealBatch({ agentId: h.agentId ?? '', seqs, samples, prevHash: h.prevHash ?? new Uint8Array(), gaps: h.gaps ?? [], sealedMs: Number(h.sealedMs ?? 0), encoding: row.encoding, prior: null }, sign);
    this.db.transaction(() => {
      this.stmt.replaceBatch.run(sealed.header, sealed.signature, sealed.hash, sealed.payload, row.id);
      // It is the newest sealed batch (one is sealed at a time, after the one before is acked): the head.
      this.stmt.setMeta.run('head_hash', sealed.hash);
    })();
    this.chain = samples.length ? { hash: sealed.hash, last: samples.at(-1)!, batches: 1 } : null;
    return true;
  }

  /**
   * The collector committed the batch with this hash: it and every earlier batch, with their
   * samples, can go. Returns false when no sealed batch has this hash.
   */
  ackBatch(hash: Uint8Array): boolean {
    const row = this.stmt.batchByHash.get(Buffer.from(hash));
    if (!row) return false;
    this.db.transaction(() => {
      this.stmt.deleteBatchesUpTo.run(row.id);
      this.stmt.deleteUpTo.run(row.last_seq);
      this.stmt.setMeta.run('acked_seq', Math.max(this.ackedSeq, row.last_seq));
    })();
    return true;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
