// Day partitions of the PostgreSQL store's big tables: created ahead (and on demand for a day
// nobody created, e.g. samples an agent spooled days ago), listed from the catalog, and dropped
// whole for retention (detached concurrently first, so ingest into today's partition never waits
// on a retention step).
import type pg from 'pg';
import { partitionedTables, type PartitionedTable } from './postgres-migrations.js';

export const DAY_MS = 86_400_000;

export const dayStart = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;

/** `samples_p20261207` (negative days, from before 1970, get an `m` and the day number). */
export function partitionName(table: PartitionedTable, dayStartMs: number): string {
  if (dayStartMs < 0) return `${table}_pm${-dayStartMs / DAY_MS}`;
  return `${table}_p${new Date(dayStartMs).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** Every (creating, dropping) step takes this transaction-level lock: collectors do them one at a time. */
const DDL_LOCK = 0x61737361; // 'assa'

export class Partitions {
  /** Days whose partition is known to exist, per table (bounded by retention: one per day kept). */
  private readonly known = new Map<PartitionedTable, Set<number>>();

  constructor(private readonly pool: pg.Pool) {}

  /** Reads the existing partitions from the catalog (at open, and after a partition went missing). */
  async load(): Promise<void> {
    for (const { table } of partitionedTables) this.known.set(table, new Set());
    const r = await this.pool.query<{ parent: string; bound: string }>(
      `SELECT p.relname AS parent, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       WHERE p.relnamespace = current_schema()::regnamespace AND p.relname = ANY($1)`,
      [partitionedTables.map((t) => t.table)],
    );
    for (const row of r.rows) {
      const m = /FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)/.exec(row.bound);
      if (m) this.known.get(row.parent as PartitionedTable)!.add(Number(m[1]));
    }
  }

  /** The day starts that have a partition of `table`, oldest first. */
  days(table: PartitionedTable): number[] {
    return [...(this.known.get(table) ?? [])].sort((a, b) => a - b);
  }

  /** Makes sure `table` has a partition for the day of each timestamp in `ms`. */
  async ensure(table: PartitionedTable, ms: Iterable<number>): Promise<void> {
    const have = this.known.get(table)!;
    const missing = [...new Set([...ms].map(dayStart))].filter((d) => !have.has(d));
    if (missing.length === 0) return;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
      for (const d of missing) {
        await client.query(`CREATE TABLE IF NOT EXISTS ${partitionName(table, d)} PARTITION OF ${table} FOR VALUES FROM (${d}) TO (${d + DAY_MS})`);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    for (const d of missing) have.add(d);
  }

  /** Creates the partitions of every table for today and the next `aheadDays` days. */
  async createAhead(nowMs: number, aheadDays: number): Promise<void> {
    const days = Array.from({ length: aheadDays + 1 }, (_, i) => dayStart(nowMs) + i * DAY_MS);
    for (const { table } of partitionedTables) await this.ensure(table, days);
  }

  /**
   * Drops the partitions of `table` that hold only days ending at or before `cutoffMs`. Each is
   * detached concurrently (no lock that blocks inserts into other partitions), then dropped.
   * Returns the dropped partitions' names.
   */
  async dropBefore(table: PartitionedTable, cutoffMs: number): Promise<string[]> {
    await this.load();
    const dropped: string[] = [];
    for (const d of this.days(table)) {
      if (d + DAY_MS > cutoffMs) break;
      const name = partitionName(table, d);
      try {
        await this.pool.query(`ALTER TABLE ${table} DETACH PARTITION ${name} CONCURRENTLY`);
      } catch (err) {
        const msg = (err as Error).message;
        // Another collector dropped it first (or is detaching it): nothing left to do here.
        if (/does not exist|is not a partition of/i.test(msg)) {
          this.known.get(table)!.delete(d);
          continue;
        }
        // A detach interrupted earlier left it pending: finish it.
        if (!/pending detach|FINALIZE/i.test(msg)) throw err;
        await this.pool.query(`ALTER TABLE ${table} DETACH PARTITION ${name} FINALIZE`);
      }
      await this.pool.query(`DROP TABLE IF EXISTS ${name}`);
      this.known.get(table)!.delete(d);
      dropped.push(name);
    }
    return dropped;
  }
}
