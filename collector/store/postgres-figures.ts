// The per-sample chart figures of the PostgreSQL store, packed as SQLite packs them
// (sample-figures.ts: the same codec, exact, and the same reads), since migration 17: one row per
// run of a batch's samples in `samples` (still partitioned by day, on the run's first sample's
// time, and dropped whole by retention) instead of one row per sample. A per-sample row keyed by
// the 36-character host id, with its primary key and time index, cost ~315 B a sample (27.2 MB per
// host-day, `node dist/bench/storage-bytes.js --postgres`); a 5-sample batch's row ~55 B a sample.
//
// Row: host_key, first_seq, last_seq, ts_first, ts_min, ts_max, n, figures (packFigures of its
// samples in seq order). A run spans at most RUN_SPAN_MS of sample time (runsOf), so the rows
// overlapping a time range are those with ts_min in [from - RUN_SPAN_MS, to], and a row lies in
// the partition of its first sample's day, at most RUN_SPAN_MS from its last: a day dropped a full
// day past the raw window (postgres-retention.ts) holds no sample inside it.
import type pg from 'pg';
import { DAY_MS, partitionName } from './postgres-partitions.js';
import { packFigures, RUN_SPAN_MS, runsOf, summariesOf, unpackFigures } from './sample-figures.js';
import type { SampleSummary } from './store.js';

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

interface FigureRow {
  first_seq: number;
  ts_first: number;
  n: number;
  figures: Buffer;
}

const unpack = (r: FigureRow): SampleSummary[] => unpackFigures(r.first_seq, r.ts_first, r.n, r.figures);

/** One batch's (or one host's) new samples as rows: at most RUN_MAX_SAMPLES each, spanning at most RUN_SPAN_MS. */
export function figureRows(hostKey: number, rows: readonly SampleSummary[]): Array<{ hostKey: number; firstSeq: number; lastSeq: number; tsFirst: number; tsMin: number; tsMax: number; n: number; figures: Buffer }> {
  return runsOf([...rows].sort((a, b) => a.seq - b.seq)).map((run) => {
    const ts = run.map((r) => r.tsMs);
    return { hostKey, firstSeq: run[0]!.seq, lastSeq: run.at(-1)!.seq, tsFirst: run[0]!.tsMs, tsMin: Math.min(...ts), tsMax: Math.max(...ts), n: run.length, figures: packFigures(run) };
  });
}

/** The INSERT of `rows` (figureRows), as one statement or a part of the group's (`param` adds a parameter). */
export function insertFigures(rows: ReturnType<typeof figureRows>, param: (v: unknown) => string): string {
  const col = (f: (r: (typeof rows)[number]) => unknown, type: string): string => `${param(rows.map(f))}::${type}[]`;
  return `INSERT INTO samples (first_seq, last_seq, ts_first, ts_min, ts_max, host_key, n, figures)
    SELECT * FROM unnest(${[col((r) => r.firstSeq, 'bigint'), col((r) => r.lastSeq, 'bigint'), col((r) => r.tsFirst, 'bigint'), col((r) => r.tsMin, 'bigint'),
      col((r) => r.tsMax, 'bigint'), col((r) => r.hostKey, 'int'), col((r) => r.n, 'int'), col((r) => r.figures, 'bytea')].join(', ')})`;
}

/** Runs one INSERT of `rows` on `c`. */
async function insertRows(c: Queryable, rows: ReturnType<typeof figureRows>): Promise<void> {
  if (!rows.length) return;
  const params: unknown[] = [];
  await c.query(insertFigures(rows, (v) => `$${params.push(v)}`), params);
}

/** Of `wanted` (host key, seq) pairs, those stored: the row that would hold each (the last starting at or before it), unpacked. */
export async function storedOf(c: Queryable, wanted: ReadonlyArray<[number, number]>): Promise<Set<string>> {
  const out = new Set<string>();
  if (!wanted.length) return out;
  const r = await c.query<FigureRow & { k: number; q: number }>(
    `SELECT u.k, u.q, f.first_seq, f.ts_first, f.n, f.figures FROM unnest($1::int[], $2::bigint[]) AS u(k, q)
     CROSS JOIN LATERAL (SELECT first_seq, ts_first, n, figures FROM samples WHERE host_key = u.k AND first_seq <= u.q ORDER BY first_seq DESC LIMIT 1) f`,
    [wanted.map((w) => w[0]), wanted.map((w) => w[1])],
  );
  for (const x of r.rows) if (unpack(x).some((s) => s.seq === x.q)) out.add(`${x.k}:${x.q}`);
  return out;
}

/** Every stored sample of the host timestamped in [from, to], in (ts, seq) order. */
export async function inRange(c: Queryable, hostKey: number, fromMs: number, toMs: number): Promise<SampleSummary[]> {
  const r = await c.query<FigureRow & { ts_max: number }>(
    'SELECT first_seq, ts_first, ts_max, n, figures FROM samples WHERE host_key = $1 AND ts_min >= $2 AND ts_min <= $3 AND ts_max >= $4',
    [hostKey, fromMs - RUN_SPAN_MS, toMs, fromMs],
  );
  const out: SampleSummary[] = [];
  for (const row of r.rows) for (const x of unpack(row)) if (x.tsMs >= fromMs && x.tsMs <= toMs) out.push(x);
  return out.sort((a, b) => a.tsMs - b.tsMs || a.seq - b.seq);
}

/** Chart rows over [from, to] (sample-figures.ts summariesOf: the same answers as SQLite's). */
export async function summaries(c: Queryable, hostKey: number, fromMs: number, toMs: number, bucketMs: number, limit: number): Promise<SampleSummary[]> {
  return summariesOf(await inRange(c, hostKey, fromMs, toMs), fromMs, bucketMs, limit);
}

/** Lowest and highest seq of the samples timestamped in [from, to] (null: none). */
export async function seqRange(c: Queryable, hostKey: number, fromMs: number, toMs: number): Promise<{ minSeq: number; maxSeq: number } | null> {
  // Rows wholly inside the range count by their key; rows reaching past an end are unpacked.
  const inside = (await c.query<{ min_seq: number | null; max_seq: number | null }>(
    'SELECT MIN(first_seq) AS min_seq, MAX(last_seq) AS max_seq FROM samples WHERE host_key = $1 AND ts_min >= $2 AND ts_min <= $3 AND ts_max <= $3',
    [hostKey, fromMs, toMs],
  )).rows[0]!;
  let min = inside.min_seq ?? Infinity;
  let max = inside.max_seq ?? -Infinity;
  const edges = await c.query<FigureRow>(
    'SELECT first_seq, ts_first, n, figures FROM samples WHERE host_key = $1 AND ts_min >= $2 AND ts_min <= $3 AND (ts_min < $4 OR ts_max > $3)',
    [hostKey, fromMs - RUN_SPAN_MS, toMs, fromMs],
  );
  for (const row of edges.rows) {
    for (const x of unpack(row)) {
      if (x.tsMs < fromMs || x.tsMs > toMs) continue;
      min = Math.min(min, x.seq);
      max = Math.max(max, x.seq);
    }
  }
  return Number.isFinite(min) ? { minSeq: min, maxSeq: max } : null;
}

/** The first sample (by time, then seq) timestamped at or after `fromMs`, or null. */
export async function firstFrom(c: Queryable, hostKey: number, fromMs: number): Promise<SampleSummary | null> {
  let best: SampleSummary | null = null;
  // Rows by ts_min, a page at a time: none after one starting past the best found can beat it.
  for (let after = fromMs - RUN_SPAN_MS - 1, afterSeq = Number.MAX_SAFE_INTEGER; ; ) {
    const rows = (await c.query<FigureRow & { ts_min: number; ts_max: number }>(
      `SELECT first_seq, ts_first, ts_min, ts_max, n, figures FROM samples WHERE host_key = $1 AND (ts_min > $2 OR (ts_min = $2 AND first_seq > $3))
       ORDER BY ts_min, first_seq LIMIT 64`,
      [hostKey, after, afterSeq === Number.MAX_SAFE_INTEGER ? -Number.MAX_SAFE_INTEGER : afterSeq],
    )).rows;
    for (const r of rows) {
      if (best && r.ts_min > best.tsMs) return best;
      if (r.ts_max < fromMs) continue;
      for (const x of unpack(r)) {
        if (x.tsMs >= fromMs && (!best || x.tsMs < best.tsMs || (x.tsMs === best.tsMs && x.seq < best.seq))) best = x;
      }
    }
    if (rows.length < 64) return best;
    after = rows.at(-1)!.ts_min;
    afterSeq = rows.at(-1)!.first_seq;
  }
}

/** Whether the host has a sample before `seq`. */
export async function anyBefore(c: Queryable, hostKey: number, seq: number): Promise<boolean> {
  return !!(await c.query('SELECT 1 FROM samples WHERE host_key = $1 AND first_seq < $2 LIMIT 1', [hostKey, seq])).rowCount;
}

/**
 * Deletes up to `limitRows` rows of samples before `seq`; returns how many rows it changed. A row
 * holding samples on both sides of `seq` is cut: its samples from `seq` on are stored again as a
 * row of their own (counted as one). Rows are named by their key: a ctid is only unique within
 * one partition.
 */
export async function deleteBefore(c: Queryable, hostKey: number, seq: number, limitRows: number): Promise<number> {
  const n = (await c.query(
    `DELETE FROM samples WHERE host_key = $1 AND (first_seq, ts_first) IN (
       SELECT first_seq, ts_first FROM samples WHERE host_key = $1 AND first_seq < $2 AND last_seq < $2 ORDER BY first_seq LIMIT $3)`,
    [hostKey, seq, limitRows],
  )).rowCount ?? 0;
  if (n >= limitRows) return n;
  const r = (await c.query<FigureRow>('SELECT first_seq, ts_first, n, figures FROM samples WHERE host_key = $1 AND first_seq < $2 AND last_seq >= $2 ORDER BY first_seq LIMIT 1', [hostKey, seq])).rows[0];
  if (!r) return n;
  const kept = unpack(r).filter((x) => x.seq >= seq);
  await c.query('DELETE FROM samples WHERE host_key = $1 AND first_seq = $2 AND ts_first = $3', [hostKey, r.first_seq, r.ts_first]);
  await insertRows(c, figureRows(hostKey, kept));
  return n + 1;
}

/** Every stored seq of a host (or of all hosts), ascending (tests and tools reading the database directly). */
export async function storedSeqs(c: Queryable, hostId?: string): Promise<number[]> {
  const sql = 'SELECT f.first_seq, f.ts_first, f.n, f.figures FROM samples f JOIN rollup_hosts k ON k.host_key = f.host_key';
  const rows = (hostId === undefined ? await c.query<FigureRow>(sql) : await c.query<FigureRow>(`${sql} WHERE k.host_id = $1`, [hostId])).rows;
  return rows.flatMap((r) => unpack(r).map((x) => x.seq)).sort((a, b) => a - b);
}

/** How many samples are stored: of one host, or of all hosts (tests and tools). */
export async function storedSampleCount(c: Queryable, hostId?: string): Promise<number> {
  const r = hostId === undefined
    ? await c.query<{ n: number }>('SELECT COALESCE(SUM(n), 0)::int AS n FROM samples')
    : await c.query<{ n: number }>('SELECT COALESCE(SUM(f.n), 0)::int AS n FROM samples f JOIN rollup_hosts k ON k.host_key = f.host_key WHERE k.host_id = $1', [hostId]);
  return r.rows[0]!.n;
}

/**
 * Migration 17's data step: each host's per-sample rows (the table renamed samples_v16), in seq
 * order, packed into rows that never cross one of its batches (a run starts at each batch's first
 * seq), a page at a time (keyset), into day partitions made here for the days they start in.
 */
export async function packSampleRows(c: pg.ClientBase): Promise<void> {
  const hosts = (await c.query<{ host_id: string; host_key: number }>('SELECT host_id, host_key FROM rollup_hosts ORDER BY host_key')).rows;
  const days = new Set<number>();
  const ensure = async (rows: ReturnType<typeof figureRows>): Promise<void> => {
    for (const d of new Set(rows.map((r) => Math.floor(r.tsFirst / DAY_MS) * DAY_MS))) {
      if (days.has(d)) continue;
      await c.query(`CREATE TABLE IF NOT EXISTS ${partitionName('samples', d)} PARTITION OF samples FOR VALUES FROM (${d}) TO (${d + DAY_MS})`);
      days.add(d);
    }
  };
  type Row = { seq: number; ts_ms: number; cpu_pct: number; load1: number; mem_used_bytes: number; mem_total_bytes: number; gpu_util_pct: number | null;
    gpu_mem_used_bytes: number | null; power_watts: number | null; disk_read_bps: number; disk_write_bps: number; net_rx_bps: number; net_tx_bps: number };
  for (const h of hosts) {
    const starts = new Set((await c.query<{ first_seq: number }>('SELECT first_seq FROM batches WHERE host_id = $1 AND samples > 0', [h.host_id])).rows.map((r) => r.first_seq));
    let run: SampleSummary[] = [];
    const out: ReturnType<typeof figureRows> = [];
    const flush = async (force: boolean): Promise<void> => {
      if (run.length) out.push(...figureRows(h.host_key, run));
      run = [];
      if (out.length >= 2000 || (force && out.length)) {
        await ensure(out);
        await insertRows(c, out.splice(0));
      }
    };
    // (host, seq) was unique only with its time: a seq stored twice (two times) keeps its first.
    let after = -Number.MAX_SAFE_INTEGER;
    for (;;) {
      const rows = (await c.query<Row>(
        `SELECT DISTINCT ON (seq) seq, ts_ms, cpu_pct, load1, mem_used_bytes, mem_total_bytes, gpu_util_pct, gpu_mem_used_bytes, power_watts,
           disk_read_bps, disk_write_bps, net_rx_bps, net_tx_bps
         FROM samples_v16 WHERE host_id = $1 AND seq > $2 ORDER BY seq, received_ms, ts_ms LIMIT 5000`,
        [h.host_id, after],
      )).rows;
      if (!rows.length) break;
      for (const r of rows) {
        if (starts.has(r.seq)) await flush(false);
        run.push({
          seq: r.seq, tsMs: r.ts_ms, cpuPct: r.cpu_pct, load1: r.load1, memUsedBytes: r.mem_used_bytes, memTotalBytes: r.mem_total_bytes,
          gpuUtilPct: r.gpu_util_pct, gpuMemUsedBytes: r.gpu_mem_used_bytes, powerWatts: r.power_watts, diskReadBytesPerSec: r.disk_read_bps,
          diskWriteBytesPerSec: r.disk_write_bps, netRxBytesPerSec: r.net_rx_bps, netTxBytesPerSec: r.net_tx_bps,
        });
      }
      after = rows.at(-1)!.seq;
    }
    await flush(true);
  }
}
