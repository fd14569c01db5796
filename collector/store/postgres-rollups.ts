// Roll-ups for the PostgreSQL store: the same rows and rules as rollups.ts (sums and counts per
// 1-minute and 1-hour bucket, added inside the group commit's transaction), written as one
// multi-row upsert for all the group's hosts, and read back with the same chart-bucket grouping.
import type pg from 'pg';
import { COLUMNS, ROLLUP_RESOLUTIONS, accumulate, rollupRowOf, summaryFromRow, type Acc, type RollupResolution, type RollupRow, type SummaryRow } from './rollups.js';
import type { SampleSummary } from './store.js';

const TYPES: Record<(typeof COLUMNS)[number], string> = {
  n: 'bigint', last_seq: 'bigint', last_ts_ms: 'bigint', cpu_pct: 'float8', cpu_pct_max: 'float8', load1: 'float8', mem_used_bytes: 'bigint', mem_total_bytes: 'bigint',
  gpu_n: 'bigint', gpu_util_pct: 'float8', gpu_util_pct_max: 'float8', gpu_mem_used_bytes: 'bigint', power_n: 'bigint', power_watts: 'float8', power_watts_max: 'float8',
  disk_read_bps: 'float8', disk_write_bps: 'float8', net_rx_bps: 'float8', net_tx_bps: 'float8',
};

/** How an existing row absorbs a batch's part (GREATEST ignores NULLs: a missing maximum stays missing only while both are). */
const merge = (t: string, c: (typeof COLUMNS)[number]): string =>
  ({ last_seq: 1, last_ts_ms: 1, cpu_pct_max: 1, mem_total_bytes: 1, gpu_util_pct_max: 1, power_watts_max: 1 } as Record<string, number>)[c]
    ? `GREATEST(${t}.${c}, excluded.${c})`
    : `${t}.${c} + excluded.${c}`;

/** Averages of a group of roll-up rows, in the raw summary query's column names (integer figures truncated as SQLite does). */
const AVERAGES = `MAX(last_seq) AS seq, MAX(last_ts_ms) AS ts_ms, SUM(cpu_pct) / SUM(n) AS cpu_pct, SUM(load1) / SUM(n) AS load1,
  trunc(SUM(mem_used_bytes) / SUM(n))::bigint AS mem_used_bytes, MAX(mem_total_bytes) AS mem_total_bytes,
  CASE WHEN SUM(gpu_n) > 0 THEN SUM(gpu_util_pct) / SUM(gpu_n) END AS gpu_util_pct,
  CASE WHEN SUM(gpu_n) > 0 THEN trunc(SUM(gpu_mem_used_bytes) / SUM(gpu_n))::bigint END AS gpu_mem_used_bytes,
  CASE WHEN SUM(power_n) > 0 THEN SUM(power_watts) / SUM(power_n) END AS power_watts,
  SUM(disk_read_bps) / SUM(n) AS disk_read_bps, SUM(disk_write_bps) / SUM(n) AS disk_write_bps,
  SUM(net_rx_bps) / SUM(n) AS net_rx_bps, SUM(net_tx_bps) / SUM(n) AS net_tx_bps`;

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export class PgRollups {
  /** Host keys never change once given: cached (one entry per host ever seen, like the hosts table). */
  private readonly keys = new Map<string, number>();

  constructor(private readonly pool: pg.Pool) {}

  /** The host's integer key, created on first use (inside the batch's transaction when `c` is its client). */
  async hostKey(c: Queryable, hostId: string): Promise<number> {
    const known = this.keys.get(hostId);
    if (known !== undefined) return known;
    await c.query('INSERT INTO rollup_hosts (host_id) VALUES ($1) ON CONFLICT (host_id) DO NOTHING', [hostId]);
    const k = (await c.query<{ host_key: number }>('SELECT host_key FROM rollup_hosts WHERE host_id = $1', [hostId])).rows[0]!.host_key;
    this.keys.set(hostId, k);
    return k;
  }

  /** The host's key, or null for a host with nothing stored (reads never create one). */
  async keyIfAny(hostId: string): Promise<number | null> {
    const known = this.keys.get(hostId);
    if (known !== undefined) return known;
    const r = (await this.pool.query<{ host_key: number }>('SELECT host_key FROM rollup_hosts WHERE host_id = $1', [hostId])).rows[0];
    if (r) this.keys.set(hostId, r.host_key);
    return r?.host_key ?? null;
  }

  async rawPrunedMs(hostId: string): Promise<number> {
    return (await this.pool.query<{ raw_pruned_ms: number }>('SELECT raw_pruned_ms FROM rollup_hosts WHERE host_id = $1', [hostId])).rows[0]?.raw_pruned_ms ?? 0;
  }

  /** Caches keys learned by a transaction once it has committed (a rolled-back key does not exist). */
  remember(keys: ReadonlyMap<string, number>): void {
    for (const [id, k] of keys) this.keys.set(id, k);
  }

  /**
   * The roll-up keys of `hostIds`: cached ones, and for the others (a host's first batch seen by
   * this collector) one insert and one read. `learned` goes to `remember` after COMMIT.
   */
  async keysFor(c: Queryable, hostIds: Iterable<string>): Promise<{ keyOf: Map<string, number>; learned: Map<string, number> }> {
    const keyOf = new Map<string, number>();
    const learned = new Map<string, number>();
    const unknown: string[] = [];
    for (const id of new Set(hostIds)) {
      const k = this.keys.get(id);
      if (k === undefined) unknown.push(id);
      else keyOf.set(id, k);
    }
    if (unknown.length) {
      unknown.sort();
      await c.query('INSERT INTO rollup_hosts (host_id) SELECT unnest($1::text[]) ON CONFLICT (host_id) DO NOTHING', [unknown]);
      for (const r of (await c.query<{ host_id: string; host_key: number }>('SELECT host_id, host_key FROM rollup_hosts WHERE host_id = ANY($1::text[])', [unknown])).rows) {
        learned.set(r.host_id, r.host_key);
        keyOf.set(r.host_id, r.host_key);
      }
    }
    return { keyOf, learned };
  }

  /**
   * The group commit's roll-ups as parts of its one write statement: for each resolution, one
   * upsert of the samples each host stored in the group (`param` adds a parameter and names it).
   */
  groupParts(perHost: ReadonlyMap<string, readonly SampleSummary[]>, keyOf: ReadonlyMap<string, number>, param: (v: unknown) => string): string[] {
    const hosts = [...perHost].filter(([, s]) => s.length > 0);
    if (hosts.length === 0) return [];
    return ROLLUP_RESOLUTIONS.map((r) => {
      const rows = hosts.flatMap(([id, stored]) => accumulate(stored, r).map((a) => ({ key: keyOf.get(id)!, a })));
      const cols = COLUMNS.map((col) => `${param(rows.map((x) => x.a[col]))}::${TYPES[col]}[]`);
      return `INSERT INTO ${r.table} (host_key, bucket, ${COLUMNS.join(', ')})
         SELECT * FROM unnest(${param(rows.map((x) => x.key))}::bigint[], ${param(rows.map((x) => x.a.bucket))}::bigint[], ${cols.join(', ')})
         ON CONFLICT (host_key, bucket) DO UPDATE SET ${COLUMNS.map((col) => `${col} = ${merge(r.table, col)}`).join(', ')}`;
    });
  }

  /** Chart rows from a roll-up: the averages of the rows starting in each `bucketMs` slice of [from, to]. */
  async summaries(hostId: string, r: RollupResolution, fromMs: number, toMs: number, bucketMs: number, limit: number): Promise<SampleSummary[]> {
    const k = await this.keyIfAny(hostId);
    if (k === null) return [];
    const q = await this.pool.query<SummaryRow>(
      `SELECT ${AVERAGES} FROM ${r.table} WHERE host_key = $1 AND bucket >= $2 AND bucket <= $3
       GROUP BY (GREATEST(bucket * ${r.widthMs}, $4::bigint) - $4::bigint) / $5::bigint ORDER BY ts_ms LIMIT $6`,
      [k, Math.floor(fromMs / r.widthMs), Math.floor(toMs / r.widthMs), fromMs, bucketMs, limit],
    );
    return q.rows.map(summaryFromRow);
  }

  /** Roll-up rows overlapping [from, to], oldest first, with their averages. */
  async rows(hostId: string, r: RollupResolution, fromMs: number, toMs: number, limit: number): Promise<RollupRow[]> {
    const k = await this.keyIfAny(hostId);
    if (k === null) return [];
    const q = await this.pool.query<Acc>(`SELECT * FROM ${r.table} WHERE host_key = $1 AND bucket >= $2 AND bucket <= $3 ORDER BY bucket LIMIT $4`, [
      k,
      Math.floor(fromMs / r.widthMs),
      Math.floor(toMs / r.widthMs),
      limit,
    ]);
    return q.rows.map((x) => rollupRowOf(x, r));
  }
}
