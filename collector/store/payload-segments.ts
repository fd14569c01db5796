// Signed payloads of older batches, packed into segments (SQLite store, migration 10).
//
// A batch row holding a payload of a few KB costs its payload plus, on average, about a kilobyte
// of page space SQLite cannot use: the part of the row that does not fill whole overflow pages
// sits alone or nearly alone on a 4 KB leaf page (measured 1.1 KB a batch, 17 MB per host-day at
// one 5-sample batch every 5 s: more than all other non-payload bytes together). Retention
// therefore moves the payloads of batches older than `compactAfterMs` into segments: one row of
// up to SEGMENT_BYTES holding the payloads of consecutive batches of one host, end to end; each
// batch row keeps its header, signature and chain links and records where its bytes are
// (segment_id, segment_offset, segment_length), its own payload column emptied. A segment wastes
// at most one page in 64 KB. Readers get the exact bytes back (StoredBatch.payload), so reports
// embed and verify exactly what the agent signed. Segments go with their last batch (retention).
import type Database from 'better-sqlite3';

/** Bytes of payload gathered into one segment (a segment is read whole: keep it small). */
export const SEGMENT_BYTES = 64 * 1024;

/** A batch row's payload columns. */
export interface PayloadColumns {
  payload: Buffer;
  segment_id: number | null;
  segment_offset: number | null;
  segment_length: number | null;
}

export class PayloadSegments {
  private readonly s;
  /** The segment read last: a report or a window rebuild reads consecutive batches, which share one. */
  private cached: { id: number; bytes: Buffer } | null = null;

  constructor(db: Database.Database) {
    this.s = {
      segment: db.prepare<[number], { bytes: Buffer }>('SELECT bytes FROM payload_segments WHERE id = ?'),
      pending: db.prepare<[string, number, number], { id: number; last_seq: number; received_ms: number; len: number }>(
        `SELECT rowid AS id, last_seq, received_ms, length(payload) AS len FROM batches
         WHERE host_key = (SELECT host_key FROM rollup_hosts WHERE host_id = ?) AND segment_id IS NULL AND samples > 0 AND last_seq > ? ORDER BY last_seq LIMIT ?`,
      ),
      row: db.prepare<[number], Record<string, unknown> & { payload: Buffer }>('SELECT * FROM batches WHERE rowid = ?'),
      drop: db.prepare<[number]>('DELETE FROM batches WHERE rowid = ?'),
      insert: db.prepare<[string, number, Buffer]>('INSERT INTO payload_segments (host_id, last_seq, bytes) VALUES (?, ?, ?)'),
      // The row is written anew rather than updated: SQLite does not merge a leaf page a shrinking
      // UPDATE leaves nearly empty, while a delete rebalances it with its neighbours.
      readd: db.prepare(
        `INSERT INTO batches (host_id, host_key, hash, prev_hash, header, signature, first_seq, last_seq, samples, received_ms, encoding, payload, segment_id, segment_offset, segment_length)
         VALUES (@host_id, @host_key, @hash, @prev_hash, @header, @signature, @first_seq, @last_seq, @samples, @received_ms, @encoding, X'', @segment_id, @segment_offset, @segment_length)`,
      ),
      deleteBefore: db.prepare<[string, string, number, number]>(
        'DELETE FROM payload_segments WHERE host_id = ? AND id IN (SELECT id FROM payload_segments WHERE host_id = ? AND last_seq < ? ORDER BY last_seq LIMIT ?)',
      ),
    };
  }

  /** A batch's payload: its own column, or its slice of a segment. */
  payloadOf(r: PayloadColumns): Buffer {
    if (r.segment_id === null) return r.payload;
    if (this.cached?.id !== r.segment_id) {
      const seg = this.s.segment.get(r.segment_id);
      if (!seg) throw new Error(`payload segment ${r.segment_id} is missing`);
      this.cached = { id: r.segment_id, bytes: seg.bytes };
    }
    const { bytes } = this.cached;
    const end = r.segment_offset! + r.segment_length!;
    if (end > bytes.length) throw new Error(`payload segment ${r.segment_id} is shorter than a batch it holds`);
    return Buffer.from(bytes.subarray(r.segment_offset!, end));
  }

  /**
   * Moves the payloads of one host's batches received before `beforeMs` into segments, at most
   * `maxBatches` of them; a last segment not yet full waits for more batches unless its newest
   * batch came before `partialBeforeMs` (a host gone quiet). Returns the batches moved (0: nothing to do).
   */
  compact(hostId: string, beforeMs: number, partialBeforeMs: number, maxBatches: number): number {
    let moved = 0;
    let afterSeq = -Number.MAX_SAFE_INTEGER;
    while (moved < maxBatches) {
      const rows = this.s.pending.all(hostId, afterSeq, Math.max(1, maxBatches - moved));
      const group: typeof rows = [];
      let bytes = 0;
      let full = false;
      for (const r of rows) {
        if (r.received_ms >= beforeMs) break;
        if (group.length && bytes + r.len > SEGMENT_BYTES) {
          full = true;
          break;
        }
        group.push(r);
        bytes += r.len;
      }
      if (!group.length) return moved;
      // A segment less than half full waits for the batches that will fill it, unless they stopped coming.
      if (!full && bytes < SEGMENT_BYTES / 2 && group.at(-1)!.received_ms >= partialBeforeMs) return moved;
      const stored = group.map((g) => this.s.row.get(g.id)!);
      const id = Number(this.s.insert.run(hostId, group.at(-1)!.last_seq, Buffer.concat(stored.map((r) => r.payload))).lastInsertRowid);
      let offset = 0;
      group.forEach((g, i) => {
        const r = stored[i]!;
        this.s.drop.run(g.id);
        this.s.readd.run({ ...r, segment_id: id, segment_offset: offset, segment_length: r.payload.length });
        offset += r.payload.length;
      });
      moved += group.length;
      afterSeq = group.at(-1)!.last_seq;
    }
    return moved;
  }

  /** Drops the cached segment (after a rollback, whose segments may never have existed). */
  forget(): void {
    this.cached = null;
  }

  /** Deletes up to `limit` of the host's segments whose batches all end before `seq`; returns how many. */
  deleteBefore(hostId: string, seq: number, limit: number): number {
    const n = this.s.deleteBefore.run(hostId, hostId, seq, limit).changes;
    if (n) this.cached = null;
    return n;
  }
}
