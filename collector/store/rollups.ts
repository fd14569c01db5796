// Roll-ups of every chart series (SampleSummary) at 1 minute and 1 hour, kept long after the raw
// signed batches are pruned (retention.ts). Maintained at ingest, inside the batch's own
// transaction: a batch adds its stored samples' sums to one row per resolution and bucket it
// touches (a 5-sample batch is usually 2 upserts), so no job recomputes anything and a roll-up is
// never behind the raw rows it summarises. Rows hold sums and counts; averages are sum / n.
//
// Charts (sampleSummaries) read raw rows while their bucket is shorter than a minute and the raw
// rows still exist, and the coarsest roll-up no wider than their bucket otherwise, so a 30-day
// chart reads ~720 hourly rows instead of 2.6 million samples.
import type Database from 'better-sqlite3';
import type { SampleSummary } from './store.js';

export interface RollupResolution {
  name: '1m' | '1h';
  table: 'rollup_1m' | 'rollup_1h';
  widthMs: number;
}

/** Finest first. */
export const ROLLUP_RESOLUTIONS: readonly RollupResolution[] = [
  { name: '1m', table: 'rollup_1m', widthMs: 60_000 },
  { name: '1h', table: 'rollup_1h', widthMs: 3_600_000 },
];

export const rollupResolution = (name: RollupResolution['name']): RollupResolution => ROLLUP_RESOLUTIONS.find((r) => r.name === name)!;

/**
 * Where a chart with buckets of `bucketMs` reads from: the coarsest roll-up no wider than a bucket;
 * raw rows for sub-minute buckets unless the range reaches before the host's pruned raw window,
 * where the 1-minute roll-up is the finest thing left.
 */
export function chartSource(bucketMs: number, fromMs: number, rawPrunedMs: number): RollupResolution | 'raw' {
  let best: RollupResolution | 'raw' = 'raw';
  for (const r of ROLLUP_RESOLUTIONS) if (bucketMs >= r.widthMs) best = r;
  if (best === 'raw' && fromMs < rawPrunedMs) return ROLLUP_RESOLUTIONS[0]!;
  return best;
}

/** One roll-up bucket with its averages (the report's and API's view of a row). */
export interface RollupRow {
  startMs: number;
  widthMs: number;
  samples: number;
  lastSeq: number;
  lastTsMs: number;
  cpuPct: number;
  cpuPctMax: number;
  load1: number;
  memUsedBytes: number;
  memTotalBytes: number;
  gpuUtilPct: number | null;
  gpuUtilPctMax: number | null;
  gpuMemUsedBytes: number | null;
  powerWatts: number | null;
  powerWattsMax: number | null;
  diskReadBytesPerSec: number;
  diskWriteBytesPerSec: number;
  netRxBytesPerSec: number;
  netTxBytesPerSec: number;
}

/** One roll-up bucket's sums as a batch adds them (store-independent). */
export interface Acc {
  bucket: number;
  n: number;
  last_seq: number;
  last_ts_ms: number;
  cpu_pct: number;
  cpu_pct_max: number;
  load1: number;
  mem_used_bytes: number;
  mem_total_bytes: number;
  gpu_n: number;
  gpu_util_pct: number;
  gpu_util_pct_max: number | null;
  gpu_mem_used_bytes: number;
  power_n: number;
  power_watts: number;
  power_watts_max: number | null;
  disk_read_bps: number;
  disk_write_bps: number;
  net_rx_bps: number;
  net_tx_bps: number;
}

export const COLUMNS = [
  'n', 'last_seq', 'last_ts_ms', 'cpu_pct', 'cpu_pct_max', 'load1', 'mem_used_bytes', 'mem_total_bytes', 'gpu_n', 'gpu_util_pct', 'gpu_util_pct_max',
  'gpu_mem_used_bytes', 'power_n', 'power_watts', 'power_watts_max', 'disk_read_bps', 'disk_write_bps', 'net_rx_bps', 'net_tx_bps',
] as const;
/** How an existing row absorbs a batch's part: counts and sums add, extremes combine (NULL = none yet). */
const MERGE: Record<(typeof COLUMNS)[number], string> = {
  n: 'n + excluded.n',
  last_seq: 'MAX(last_seq, excluded.last_seq)',
  last_ts_ms: 'MAX(last_ts_ms, excluded.last_ts_ms)',
  cpu_pct: 'cpu_pct + excluded.cpu_pct',
  cpu_pct_max: 'MAX(cpu_pct_max, excluded.cpu_pct_max)',
  load1: 'load1 + excluded.load1',
  mem_used_bytes: 'mem_used_bytes + excluded.mem_used_bytes',
  mem_total_bytes: 'MAX(mem_total_bytes, excluded.mem_total_bytes)',
  gpu_n: 'gpu_n + excluded.gpu_n',
  gpu_util_pct: 'gpu_util_pct + excluded.gpu_util_pct',
  gpu_util_pct_max: 'COALESCE(MAX(gpu_util_pct_max, excluded.gpu_util_pct_max), gpu_util_pct_max, excluded.gpu_util_pct_max)',
  gpu_mem_used_bytes: 'gpu_mem_used_bytes + excluded.gpu_mem_used_bytes',
  power_n: 'power_n + excluded.power_n',
  power_watts: 'power_watts + excluded.power_watts',
  power_watts_max: 'COALESCE(MAX(power_watts_max, excluded.power_watts_max), power_watts_max, excluded.power_watts_max)',
  disk_read_bps: 'disk_read_bps + excluded.disk_read_bps',
  disk_write_bps: 'disk_write_bps + excluded.disk_write_bps',
  net_rx_bps: 'net_rx_bps + excluded.net_rx_bps',
  net_tx_bps: 'net_tx_bps + excluded.net_tx_bps',
};

/** Averages of a group of roll-up rows (sums over counts), in the raw summary query's column names. */
const AVERAGES = `MAX(last_seq) AS seq, MAX(last_ts_ms) AS ts_ms, SUM(cpu_pct) / SUM(n) AS cpu_pct, SUM(load1) / SUM(n) AS load1,
  SUM(mem_used_bytes) / SUM(n) AS mem_used_bytes, MAX(mem_total_bytes) AS mem_total_bytes,
  CASE WHEN SUM(gpu_n) > 0 THEN SUM(gpu_util_pct) / SUM(gpu_n) END AS gpu_util_pct,
  CASE WHEN SUM(gpu_n) > 0 THEN SUM(gpu_mem_used_bytes) / SUM(gpu_n) END AS gpu_mem_used_bytes,
  CASE WHEN SUM(power_n) > 0 THEN SUM(power_watts) / SUM(power_n) END AS power_watts,
  SUM(disk_read_bps) / SUM(n) AS disk_read_bps, SUM(disk_write_bps) / SUM(n) AS disk_write_bps,
  SUM(net_rx_bps) / SUM(n) AS net_rx_bps, SUM(net_tx_bps) / SUM(n) AS net_tx_bps`;

export interface SummaryRow {
  seq: number;
  ts_ms: number;
  cpu_pct: number;
  load1: number;
  mem_used_bytes: number;
  mem_total_bytes: number;
  gpu_util_pct: number | null;
  gpu_mem_used_bytes: number | null;
  power_watts: number | null;
  disk_read_bps: number;
  disk_write_bps: number;
  net_rx_bps: number;
  net_tx_bps: number;
}

export const summaryFromRow = (r: SummaryRow): SampleSummary => ({
  seq: r.seq,
  tsMs: r.ts_ms,
  cpuPct: r.cpu_pct,
  load1: r.load1,
  memUsedBytes: r.mem_used_bytes,
  memTotalBytes: r.mem_total_bytes,
  gpuUtilPct: r.gpu_util_pct,
  gpuMemUsedBytes: r.gpu_mem_used_bytes,
  powerWatts: r.power_watts,
  diskReadBytesPerSec: r.disk_read_bps,
  diskWriteBytesPerSec: r.disk_write_bps,
  netRxBytesPerSec: r.net_rx_bps,
  netTxBytesPerSec: r.net_tx_bps,
});

type RawRow = Acc & { host_key: number };

export class Rollups {
  private readonly hostKeyOf;
  private readonly addHost;
  private readonly rawPruned;
  private readonly upsert = new Map<string, Database.Statement>();
  private readonly chart = new Map<string, Database.Statement<[number, number, number, number, number, number], SummaryRow>>();
  private readonly list = new Map<string, Database.Statement<[number, number, number, number], RawRow>>();

  constructor(db: Database.Database) {
    this.hostKeyOf = db.prepare<[string], { host_key: number }>('SELECT host_key FROM rollup_hosts WHERE host_id = ?');
    this.addHost = db.prepare('INSERT OR IGNORE INTO rollup_hosts (host_id) VALUES (?)');
    this.rawPruned = db.prepare<[string], { raw_pruned_ms: number }>('SELECT raw_pruned_ms FROM rollup_hosts WHERE host_id = ?');
    for (const r of ROLLUP_RESOLUTIONS) {
      this.upsert.set(
        r.name,
        db.prepare(
          `INSERT INTO ${r.table} (host_key, bucket, ${COLUMNS.join(', ')}) VALUES (@host_key, @bucket, ${COLUMNS.map((c) => `@${c}`).join(', ')})
           ON CONFLICT(host_key, bucket) DO UPDATE SET ${COLUMNS.map((c) => `${c} = ${MERGE[c]}`).join(', ')}`,
        ),
      );
      // Rows overlapping [from, to], grouped into the chart's buckets by their start (clamped to the range).
      this.chart.set(
        r.name,
        db.prepare(
          `SELECT ${AVERAGES} FROM ${r.table} WHERE host_key = ? AND bucket >= ? AND bucket <= ?
           GROUP BY (MAX(bucket * ${r.widthMs}, CAST(? AS INTEGER)) - CAST(? AS INTEGER)) / CAST(? AS INTEGER) ORDER BY ts_ms`,
        ),
      );
      this.list.set(r.name, db.prepare(`SELECT * FROM ${r.table} WHERE host_key = ? AND bucket >= ? AND bucket <= ? ORDER BY bucket LIMIT ?`));
    }
  }

  /** The host's integer key, created on first use (call inside the batch's transaction). */
  hostKey(hostId: string): number {
    const k = this.hostKeyOf.get(hostId);
    if (k) return k.host_key;
    this.addHost.run(hostId);
    return this.hostKeyOf.get(hostId)!.host_key;
  }

  /** When this host's raw rows begin (0: nothing pruned). */
  rawPrunedMs(hostId: string): number {
    return this.rawPruned.get(hostId)?.raw_pruned_ms ?? 0;
  }

  /** Adds the samples a batch stored (only those: a duplicate must not count twice). */
  add(hostId: string, stored: readonly SampleSummary[]): void {
    if (stored.length === 0) return;
    const hostKey = this.hostKey(hostId);
    for (const r of ROLLUP_RESOLUTIONS) {
      const acc = accumulate(stored, r);
      const stmt = this.upsert.get(r.name)!;
      for (const a of acc) stmt.run({ host_key: hostKey, ...a });
    }
  }

  /** Chart rows from a roll-up: the averages of the rows starting in each `bucketMs` slice of [from, to]. */
  summaries(hostId: string, r: RollupResolution, fromMs: number, toMs: number, bucketMs: number, limit: number): SampleSummary[] {
    const k = this.hostKeyOf.get(hostId);
    if (!k) return [];
    return this.chart
      .get(r.name)!
      .all(k.host_key, Math.floor(fromMs / r.widthMs), Math.floor(toMs / r.widthMs), fromMs, fromMs, bucketMs)
      .slice(0, limit)
      .map(summaryFromRow);
  }

  /** Roll-up rows overlapping [from, to], oldest first, with their averages. */
  rows(hostId: string, r: RollupResolution, fromMs: number, toMs: number, limit: number): RollupRow[] {
    const k = this.hostKeyOf.get(hostId);
    if (!k) return [];
    return this.list
      .get(r.name)!
      .all(k.host_key, Math.floor(fromMs / r.widthMs), Math.floor(toMs / r.widthMs), limit)
      .map((x) => rollupRowOf(x, r));
  }
}

/** The sums one batch's stored samples add to each bucket of resolution `r` (usually one or two). */
export function accumulate(stored: readonly SampleSummary[], r: RollupResolution): Acc[] {
  const acc = new Map<number, Acc>();
  for (const s of stored) {
    const bucket = Math.floor(s.tsMs / r.widthMs);
    let a = acc.get(bucket);
    if (!a) {
      a = {
        bucket, n: 0, last_seq: s.seq, last_ts_ms: s.tsMs, cpu_pct: 0, cpu_pct_max: s.cpuPct, load1: 0, mem_used_bytes: 0, mem_total_bytes: 0, gpu_n: 0, gpu_util_pct: 0,
        gpu_util_pct_max: null, gpu_mem_used_bytes: 0, power_n: 0, power_watts: 0, power_watts_max: null, disk_read_bps: 0, disk_write_bps: 0, net_rx_bps: 0, net_tx_bps: 0,
      };
      acc.set(bucket, a);
    }
    a.n++;
    a.last_seq = Math.max(a.last_seq, s.seq);
    a.last_ts_ms = Math.max(a.last_ts_ms, s.tsMs);
    a.cpu_pct += s.cpuPct;
    a.cpu_pct_max = Math.max(a.cpu_pct_max, s.cpuPct);
    a.load1 += s.load1;
    a.mem_used_bytes += s.memUsedBytes;
    a.mem_total_bytes = Math.max(a.mem_total_bytes, s.memTotalBytes);
    if (s.gpuUtilPct !== null) {
      a.gpu_n++;
      a.gpu_util_pct += s.gpuUtilPct;
      a.gpu_util_pct_max = Math.max(a.gpu_util_pct_max ?? s.gpuUtilPct, s.gpuUtilPct);
      a.gpu_mem_used_bytes += s.gpuMemUsedBytes ?? 0;
    }
    if (s.powerWatts !== null) {
      a.power_n++;
      a.power_watts += s.powerWatts;
      a.power_watts_max = Math.max(a.power_watts_max ?? s.powerWatts, s.powerWatts);
    }
    a.disk_read_bps += s.diskReadBytesPerSec;
    a.disk_write_bps += s.diskWriteBytesPerSec;
    a.net_rx_bps += s.netRxBytesPerSec;
    a.net_tx_bps += s.netTxBytesPerSec;
  }
  return [...acc.values()];
}

/** A stored roll-up row (sums) as averages. */
export function rollupRowOf(x: Acc, r: RollupResolution): RollupRow {
  return {
    startMs: x.bucket * r.widthMs,
    widthMs: r.widthMs,
    samples: x.n,
    lastSeq: x.last_seq,
    lastTsMs: x.last_ts_ms,
    cpuPct: x.cpu_pct / x.n,
    cpuPctMax: x.cpu_pct_max,
    load1: x.load1 / x.n,
    memUsedBytes: Math.trunc(x.mem_used_bytes / x.n),
    memTotalBytes: x.mem_total_bytes,
    gpuUtilPct: x.gpu_n ? x.gpu_util_pct / x.gpu_n : null,
    gpuUtilPctMax: x.gpu_util_pct_max,
    gpuMemUsedBytes: x.gpu_n ? Math.trunc(x.gpu_mem_used_bytes / x.gpu_n) : null,
    powerWatts: x.power_n ? x.power_watts / x.power_n : null,
    powerWattsMax: x.power_watts_max,
    diskReadBytesPerSec: x.disk_read_bps / x.n,
    diskWriteBytesPerSec: x.disk_write_bps / x.n,
    netRxBytesPerSec: x.net_rx_bps / x.n,
    netTxBytesPerSec: x.net_tx_bps / x.n,
  };
}
