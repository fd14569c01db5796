// Durable queue of encoded samples until the collector acks them (SQLite WAL in the state dir).
// Sequence numbers are assigned here, once, and never reused (AUTOINCREMENT), so a resend after
// a crash carries the same numbers and the collector can drop duplicates.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface SpoolLimits {
  /** Most samples kept; beyond it the oldest unacked samples are dropped (and logged). */
  maxSamples: number;
}

export const defaultSpoolLimits: SpoolLimits = { maxSamples: 7 * 24 * 3600 };

export interface SpooledSample {
  seq: number;
  tsMs: number;
  bytes: Uint8Array;
}

export class Spool {
  private readonly db: Database.Database;
  private readonly stmt;
  /** Samples dropped because the spool was full, since start. */
  dropped = 0;

  constructor(stateDir: string, private readonly limits: SpoolLimits = defaultSpoolLimits) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    try {
      this.db = new Database(join(stateDir, 'spool.db'));
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.exec('CREATE TABLE IF NOT EXISTS spool (seq INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL, data BLOB NOT NULL)');
      this.db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)');
    } catch (err) {
      throw new Error(`spool ${join(stateDir, 'spool.db')} cannot be opened: ${(err as Error).message}`);
    }
    this.stmt = {
      push: this.db.prepare<[number, Uint8Array]>('INSERT INTO spool (ts_ms, data) VALUES (?, ?)'),
      after: this.db.prepare<[number, number], { seq: number; ts_ms: number; data: Buffer }>('SELECT seq, ts_ms, data FROM spool WHERE seq > ? ORDER BY seq LIMIT ?'),
      ack: this.db.prepare<[number]>('DELETE FROM spool WHERE seq <= ?'),
      count: this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM spool'),
      oldest: this.db.prepare<[], { seq: number | null }>('SELECT MIN(seq) AS seq FROM spool'),
      trimBelow: this.db.prepare<[number]>('DELETE FROM spool WHERE seq < ?'),
      setAcked: this.db.prepare<[number]>("INSERT INTO meta (key, value) VALUES ('acked', ?) ON CONFLICT(key) DO UPDATE SET value = MAX(value, excluded.value)"),
      getAcked: this.db.prepare<[], { value: number }>("SELECT value FROM meta WHERE key = 'acked'"),
    };
  }

  /** Appends one encoded sample; returns its sequence number. */
  push(tsMs: number, bytes: Uint8Array): number {
    const seq = Number(this.stmt.push.run(tsMs, bytes).lastInsertRowid);
    // Rows only ever leave from the oldest end, so the spool holds a contiguous seq range and
    // its size is seq - oldest + 1 (an index lookup, unlike COUNT(*)).
    const oldest = this.stmt.oldest.get()?.seq ?? seq;
    const over = seq - oldest + 1 - this.limits.maxSamples;
    if (over > 0) {
      this.stmt.trimBelow.run(oldest + over);
      this.dropped += over;
    }
    return seq;
  }

  /** Up to `limit` samples with seq > `afterSeq`, oldest first. */
  after(afterSeq: number, limit: number): SpooledSample[] {
    return this.stmt.after.all(afterSeq, limit).map((r) => ({ seq: r.seq, tsMs: r.ts_ms, bytes: r.data }));
  }

  /** Forgets everything up to and including `lastSeq` (the collector has committed it). */
  ack(lastSeq: number): void {
    this.db.transaction(() => {
      this.stmt.ack.run(lastSeq);
      this.stmt.setAcked.run(lastSeq);
    })();
  }

  get ackedSeq(): number {
    return this.stmt.getAcked.get()?.value ?? 0;
  }

  get size(): number {
    return this.stmt.count.get()!.n;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
