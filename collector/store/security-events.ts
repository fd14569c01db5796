// Security events aggregated per (reason, subject, window): a flood of refused attempts becomes a
// few rows with counts, first and last seen, written in one transaction per flush (at most one
// synced write per flushMs, or sooner when maxPending distinct rows wait). Retention: rows last
// seen more than retentionMs before the newest event are deleted, and at most maxRows are kept
// (anonymous rows, keyed by address, are the first to go).
import type Database from 'better-sqlite3';
import type { SecurityEvent, SecurityEventWindow } from './store.js';

export interface SecurityEventOptions {
  windowMs: number;
  flushMs: number;
  maxPending: number;
  retentionMs: number;
  maxRows: number;
}

export const defaultSecurityEventOptions: SecurityEventOptions = {
  windowMs: 60_000,
  flushMs: 1_000,
  maxPending: 1_000,
  retentionMs: 30 * 24 * 3600_000,
  maxRows: 10_000,
};

/** One (reason, subject, window) row as both stores keep it. */
export interface SecurityEventRow {
  reason: string;
  subject: string;
  window_start_ms: number;
  count: number;
  first_ms: number;
  last_ms: number;
  host_id: string | null;
  peer: string;
  detail: string;
}

/** The remote address of an `address:port` peer (IPv6 addresses contain colons; the port is last). */
export const addressOf = (peer: string): string => (peer.lastIndexOf(':') > 0 ? peer.slice(0, peer.lastIndexOf(':')) : peer);

export class SecurityEventLog {
  private readonly pending = new Map<string, SecurityEventRow>();
  private timer: NodeJS.Timeout | null = null;
  private newestMs = 0;
  private readonly upsert;
  private readonly expire;
  private readonly cap;
  private readonly list;
  private readonly flushTx: () => void;

  constructor(
    private readonly db: Database.Database,
    private readonly opts: SecurityEventOptions = defaultSecurityEventOptions,
  ) {
    this.upsert = db.prepare(
      `INSERT INTO security_event_windows (reason, subject, window_start_ms, count, first_ms, last_ms, host_id, peer, detail)
       VALUES (@reason, @subject, @window_start_ms, @count, @first_ms, @last_ms, @host_id, @peer, @detail)
       ON CONFLICT(reason, subject, window_start_ms) DO UPDATE SET count = count + excluded.count,
         first_ms = MIN(first_ms, excluded.first_ms), last_ms = MAX(last_ms, excluded.last_ms),
         host_id = COALESCE(excluded.host_id, host_id), peer = excluded.peer, detail = excluded.detail`,
    );
    this.expire = db.prepare('DELETE FROM security_event_windows WHERE last_ms < ?');
    // Over the cap, anonymous rows (by address) go first, oldest first: strangers from many
    // addresses (one row per address and minute) must not evict what happened to enrolled agents.
    this.cap = db.prepare(
      `DELETE FROM security_event_windows WHERE (reason, subject, window_start_ms) IN (
         SELECT reason, subject, window_start_ms FROM security_event_windows ORDER BY host_id IS NOT NULL, last_ms
         LIMIT MAX(0, (SELECT COUNT(*) FROM security_event_windows) - ?))`,
    );
    this.list = db.prepare<[number], SecurityEventRow>('SELECT * FROM security_event_windows ORDER BY last_ms DESC, reason LIMIT ?');
    this.flushTx = db.transaction(() => {
      for (const r of this.pending.values()) this.upsert.run(r);
      this.pending.clear();
      this.expire.run(this.newestMs - this.opts.retentionMs);
      this.cap.run(this.opts.maxRows);
    });
  }

  record(e: SecurityEvent): void {
    foldEvent(this.pending, e, this.opts.windowMs);
    this.newestMs = Math.max(this.newestMs, e.tsMs);
    if (this.pending.size >= this.opts.maxPending) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.opts.flushMs);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size && this.db.open) this.flushTx();
  }

  recent(limit: number): SecurityEventWindow[] {
    this.flush();
    return this.list.all(limit).map(windowFromRow);
  }
}

/** Counts one refused attempt into its pending (reason, subject, window) row. */
export function foldEvent(pending: Map<string, SecurityEventRow>, e: SecurityEvent, windowMs: number): void {
  const subject = e.hostId ?? addressOf(e.peer);
  const windowStart = Math.floor(e.tsMs / windowMs) * windowMs;
  const key = `${e.reason}\u0000${subject}\u0000${windowStart}`;
  const r = pending.get(key);
  if (r) {
    r.count++;
    r.first_ms = Math.min(r.first_ms, e.tsMs);
    r.last_ms = Math.max(r.last_ms, e.tsMs);
    r.peer = e.peer;
    r.detail = e.detail;
  } else {
    pending.set(key, { reason: e.reason, subject, window_start_ms: windowStart, count: 1, first_ms: e.tsMs, last_ms: e.tsMs, host_id: e.hostId, peer: e.peer, detail: e.detail });
  }
}

export const windowFromRow = (r: SecurityEventRow): SecurityEventWindow => ({
  reason: r.reason,
  subject: r.subject,
  hostId: r.host_id,
  windowStartMs: r.window_start_ms,
  count: r.count,
  firstMs: r.first_ms,
  lastMs: r.last_ms,
  peer: r.peer,
  detail: r.detail,
});
