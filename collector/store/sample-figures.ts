// The per-sample chart figures (SampleSummary) of the SQLite store, packed: one row per run of a
// batch's samples instead of one row per sample. A per-sample row keyed by the 36-character host
// id, with a time index beside it, cost ~160 B a sample (13.8 MB per host-day at 1 Hz, measured
// by bench/storage-bytes.ts); a packed run costs ~30 B a sample.
//
// Row: (host_key, first_seq) -> last_seq, ts_first, ts_min, ts_max, n, figures. Ingest stores a
// row per batch; retention merges the rows of consecutive older batches (mergeOlder, up to 600 B
// of figures: about 25 samples a row instead of 5), and cuts a merged row when it deletes the
// batches of its older samples (deleteBefore), so no sample outlives its batch. A row spans at most RUN_SPAN_MS of
// sample time, so the runs overlapping a time range are found through (host_key, ts_min) between
// from - RUN_SPAN_MS and to, whatever the agent's clock did. `figures` packs each sample's seq,
// ts and the figures (packFigures): integers as deltas against the previous sample's, float32
// decimals of up to 3 places as scaled integers (form 1, since 2026-12-07: ~24 B a sample instead
// of ~28 on the recorded server host), the rest as float32 when that is exact, else float64;
// nothing is rounded, so every API reads back exactly the figures it stored.
import type Database from 'better-sqlite3';
import type { SampleSummary } from './store.js';

/** Most sample time one row spans (a batch over a clock jump is cut into several rows). */
export const RUN_SPAN_MS = 3_600_000;
/** Most samples in one row (a long spooled batch is cut, so no row grows past a few KB). */
export const RUN_MAX_SAMPLES = 300;
/**
 * Retention merges the rows of consecutive batches up to this many bytes of packed figures
 * (mergeOlder): a row of one 5-sample batch carried ~95 B of key columns, record header and index
 * entries for ~120 B of figures. Measured on 30,000 quantized samples: 39 B a sample in 5-sample
 * rows; merged up to 300 B 35.8, 600 B 29.2, 900 B 30.6, 1,500 B 35.2 (larger rows leave more of
 * each 4 KB page unused).
 */
export const MERGED_FIGURE_BYTES = 600;

const FIELDS = [
  'cpuPct', 'load1', 'memUsedBytes', 'memTotalBytes', 'gpuUtilPct', 'gpuMemUsedBytes', 'powerWatts',
  'diskReadBytesPerSec', 'diskWriteBytesPerSec', 'netRxBytesPerSec', 'netTxBytesPerSec',
] as const satisfies ReadonlyArray<keyof SampleSummary>;

// Value kinds, in the low bits of each value's leading varint (form 0: 2 bits, kinds 0-3; form 1:
// 3 bits, kinds 0-6).
const NULL = 0;
const INT = 1; // zigzag(delta from the field's previous integer) in the high bits
const F32 = 2;
const F64 = 3;
// Form 1 only: a float32 that is a decimal of 1, 2 or 3 places, v = fround(k / 10^places), with
// zigzag(k - the field's previous such k) in the high bits. The agent quantizes figures to a few
// decimals (agent/quantize.ts) and the wire carries them as float32, so a CPU share of 73.66 or a
// load of 3.89 takes 2-3 bytes instead of 5.
const DEC1 = 4;
const DECIMALS = [10, 100, 1000];
/**
 * The first byte of a form-1 row. A form-0 row starts with 0 (its first sample's seq delta, always
 * 0), so rows written before form 1 read as they always did, with no migration.
 */
const FORM_1 = 1;
/** Integer deltas beyond this go as float64 (the varint arithmetic stays exact below 2^53). */
const MAX_DELTA = 2 ** 48;

class Writer {
  private buf = Buffer.allocUnsafe(256);
  len = 0;
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  varint(v: number): void {
    this.room(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }
  f32(v: number): void {
    this.room(4);
    this.buf.writeFloatLE(v, this.len);
    this.len += 4;
  }
  f64(v: number): void {
    this.room(8);
    this.buf.writeDoubleLE(v, this.len);
    this.len += 8;
  }
  bytes(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

class Reader {
  at = 0;
  constructor(private readonly buf: Buffer) {}
  varint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (this.at >= this.buf.length) throw new Error('packed figures: truncated');
      const b = this.buf[this.at++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
      if (mul > 2 ** 63) throw new Error('packed figures: varint too long');
    }
  }
  f32(): number {
    const v = this.buf.readFloatLE(this.at);
    this.at += 4;
    return v;
  }
  f64(): number {
    const v = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return v;
  }
}

const zigzag = (d: number): number => (d < 0 ? -2 * d - 1 : 2 * d);
const unzigzag = (z: number): number => (z % 2 === 1 ? -(z + 1) / 2 : z / 2);

/** The k of a float32 decimal (v = fround(k / scale)) with the fewest places, or null. */
function decimalOf(v: number): { kind: number; k: number } | null {
  if (Math.fround(v) !== v || Object.is(v, -0) || !Number.isFinite(v) || Math.abs(v) > 2 ** 31) return null;
  for (const [i, scale] of DECIMALS.entries()) {
    const k = Math.round(v * scale);
    if (Math.fround(k / scale) === v) return { kind: DEC1 + i, k };
  }
  return null;
}

/** Packs summaries (in their stored order), form 1: seq and ts as deltas, then each field. */
export function packFigures(rows: readonly SampleSummary[]): Buffer {
  const w = new Writer();
  if (rows.length) w.varint(FORM_1);
  let seq = rows[0]?.seq ?? 0;
  let ts = rows[0]?.tsMs ?? 0;
  const prev = new Array<number>(FIELDS.length).fill(0);
  const prevK = new Array<number>(FIELDS.length).fill(0);
  for (const r of rows) {
    w.varint(zigzag(r.seq - seq));
    w.varint(zigzag(r.tsMs - ts));
    seq = r.seq;
    ts = r.tsMs;
    FIELDS.forEach((f, i) => {
      const v = r[f] as number | null;
      if (v === null || v === undefined) return w.varint(NULL);
      const d = v - prev[i]!;
      let dec: ReturnType<typeof decimalOf>;
      if (Number.isSafeInteger(v) && Number.isSafeInteger(d) && Math.abs(d) <= MAX_DELTA && !Object.is(v, -0)) {
        w.varint(zigzag(d) * 8 + INT);
        prev[i] = v;
      } else if ((dec = decimalOf(v))) {
        w.varint(zigzag(dec.k - prevK[i]!) * 8 + dec.kind);
        prevK[i] = dec.k;
      } else if (Math.fround(v) === v && !Object.is(v, -0)) {
        w.varint(F32);
        w.f32(v);
      } else {
        w.varint(F64);
        w.f64(v);
      }
    });
  }
  return w.bytes();
}

/** Form 0 (rows written before 2026-12-07), kept to test that such rows still read. */
export function packFiguresForm0(rows: readonly SampleSummary[]): Buffer {
  const w = new Writer();
  let seq = rows[0]?.seq ?? 0;
  let ts = rows[0]?.tsMs ?? 0;
  const prev = new Array<number>(FIELDS.length).fill(0);
  for (const r of rows) {
    w.varint(zigzag(r.seq - seq));
    w.varint(zigzag(r.tsMs - ts));
    seq = r.seq;
    ts = r.tsMs;
    FIELDS.forEach((f, i) => {
      const v = r[f] as number | null;
      if (v === null || v === undefined) return w.varint(NULL);
      const d = v - prev[i]!;
      if (Number.isSafeInteger(v) && Number.isSafeInteger(d) && Math.abs(d) <= MAX_DELTA && !Object.is(v, -0)) {
        w.varint(zigzag(d) * 4 + INT);
        prev[i] = v;
      } else if (Math.fround(v) === v && !Object.is(v, -0)) {
        w.varint(F32);
        w.f32(v);
      } else {
        w.varint(F64);
        w.f64(v);
      }
    });
  }
  return w.bytes();
}

/** The summaries of a packed row (`first` = its first sample's seq and ts, from the row's key); form 0 or 1. */
export function unpackFigures(firstSeq: number, firstTsMs: number, n: number, figures: Buffer): SampleSummary[] {
  const r = new Reader(figures);
  const out: SampleSummary[] = [];
  if (n === 0) return out;
  const form1 = figures[0] === FORM_1;
  if (form1) r.varint();
  const kinds = form1 ? 8 : 4;
  let seq = firstSeq;
  let ts = firstTsMs;
  const prev = new Array<number>(FIELDS.length).fill(0);
  const prevK = new Array<number>(FIELDS.length).fill(0);
  for (let k = 0; k < n; k++) {
    seq += unzigzag(r.varint());
    ts += unzigzag(r.varint());
    const s = { seq, tsMs: ts } as SampleSummary;
    FIELDS.forEach((f, i) => {
      const h = r.varint();
      const kind = h % kinds;
      let v: number | null;
      if (kind === NULL) v = null;
      else if (kind === INT) v = prev[i] = prev[i]! + unzigzag((h - INT) / kinds);
      else if (kind === F32) v = r.f32();
      else if (kind === F64) v = r.f64();
      else if (kind - DEC1 < DECIMALS.length) {
        prevK[i] = prevK[i]! + unzigzag((h - kind) / kinds);
        v = Math.fround(prevK[i]! / DECIMALS[kind - DEC1]!);
      } else throw new Error(`packed figures: unknown value kind ${kind}`);
      (s as unknown as Record<string, number | null>)[f] = v;
    });
    out.push(s);
  }
  return out;
}

/** A batch's stored summaries cut into rows: at most RUN_MAX_SAMPLES each, spanning at most RUN_SPAN_MS. */
export function runsOf(rows: readonly SampleSummary[]): SampleSummary[][] {
  const runs: SampleSummary[][] = [];
  let run: SampleSummary[] = [];
  let lo = 0;
  let hi = 0;
  for (const r of rows) {
    if (run.length && (run.length >= RUN_MAX_SAMPLES || Math.max(hi, r.tsMs) - Math.min(lo, r.tsMs) > RUN_SPAN_MS)) {
      runs.push(run);
      run = [];
    }
    if (!run.length) lo = hi = r.tsMs;
    run.push(r);
    lo = Math.min(lo, r.tsMs);
    hi = Math.max(hi, r.tsMs);
  }
  if (run.length) runs.push(run);
  return runs;
}

interface FigureRow {
  first_seq: number;
  ts_first: number;
  n: number;
  figures: Buffer;
}

/** Sum as SQLite's AVG adds REALs (Kahan-Babuska-Neumaier), so averages match the per-sample rows' to the bit. */
class Sum {
  s = 0;
  c = 0;
  n = 0;
  add(x: number): void {
    const t = this.s + x;
    if (Math.abs(this.s) > Math.abs(x)) this.c += this.s - t + x;
    else this.c += x - t + this.s;
    this.s = t;
    this.n++;
  }
  avg(): number | null {
    return this.n ? (this.s + this.c) / this.n : null;
  }
}

/**
 * Chart rows as the per-sample SQL computed them: `samples` (those in range, in (ts, seq) order)
 * grouped into `bucketMs` slices from `fromMs`, each the averages (NULLs left out), max seq and
 * ts, ordered by that ts, at most `limit`. Both stores' packed rows are read through it.
 */
export function summariesOf(samples: readonly SampleSummary[], fromMs: number, bucketMs: number, limit: number): SampleSummary[] {
  type G = { seq: number; ts: number; memTotal: number; sums: Sum[] };
  const groups = new Map<number, G>();
  for (const x of samples) {
    const k = Math.trunc((x.tsMs - fromMs) / bucketMs);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { seq: x.seq, ts: x.tsMs, memTotal: x.memTotalBytes, sums: FIELDS.map(() => new Sum()) }));
    g.seq = Math.max(g.seq, x.seq);
    g.ts = Math.max(g.ts, x.tsMs);
    g.memTotal = Math.max(g.memTotal, x.memTotalBytes);
    FIELDS.forEach((f, i) => {
      const v = x[f] as number | null;
      if (v !== null) g.sums[i]!.add(v);
    });
  }
  const avg = (g: G, f: (typeof FIELDS)[number]): number | null => g.sums[FIELDS.indexOf(f)]!.avg();
  const int = (v: number | null): number | null => (v === null ? null : Math.trunc(v));
  return [...groups.values()]
    .sort((a, b) => a.ts - b.ts)
    .slice(0, limit)
    .map((g) => ({
      seq: g.seq,
      tsMs: g.ts,
      cpuPct: avg(g, 'cpuPct')!,
      load1: avg(g, 'load1')!,
      memUsedBytes: int(avg(g, 'memUsedBytes'))!,
      memTotalBytes: g.memTotal,
      gpuUtilPct: avg(g, 'gpuUtilPct'),
      gpuMemUsedBytes: int(avg(g, 'gpuMemUsedBytes')),
      powerWatts: avg(g, 'powerWatts'),
      diskReadBytesPerSec: avg(g, 'diskReadBytesPerSec')!,
      diskWriteBytesPerSec: avg(g, 'diskWriteBytesPerSec')!,
      netRxBytesPerSec: avg(g, 'netRxBytesPerSec')!,
      netTxBytesPerSec: avg(g, 'netTxBytesPerSec')!,
    }));
}

/** The packed figures table of one SQLite database (migration 9). */
export class SampleFigures {
  private readonly s;

  /** Retention's merge bookkeeping (migration 14), prepared on first use: migration 9 packs rows before it exists. */
  private m: { mergedUpTo: Database.Statement<[number], { figures_merged_seq: number }>; setMerged: Database.Statement<[number, number]> } | null = null;

  constructor(private readonly db: Database.Database) {
    this.s = {
      keyOf: db.prepare<[string], { host_key: number }>('SELECT host_key FROM rollup_hosts WHERE host_id = ?'),
      insert: db.prepare('INSERT INTO sample_figures (host_key, first_seq, last_seq, ts_first, ts_min, ts_max, n, figures) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      insideSeqs: db.prepare<[number, number, number, number], { min_seq: number | null; max_seq: number | null }>(
        'SELECT MIN(first_seq) AS min_seq, MAX(last_seq) AS max_seq FROM sample_figures WHERE host_key = ? AND ts_min >= ? AND ts_min <= ? AND ts_max <= ?',
      ),
      edges: db.prepare<[number, number, number, number, number], FigureRow>(
        `SELECT first_seq, ts_first, n, figures FROM sample_figures WHERE host_key = ? AND ts_min >= ? AND ts_min <= ? AND (ts_min < ? OR ts_max > ?)`,
      ),
      // The row that would hold `seq` (the last starting at or before it).
      around: db.prepare<[number, number], FigureRow>(
        'SELECT first_seq, ts_first, n, figures FROM sample_figures WHERE host_key = ? AND first_seq <= ? ORDER BY first_seq DESC LIMIT 1',
      ),
      inTime: db.prepare<[number, number, number], FigureRow & { ts_max: number; ts_min: number }>(
        'SELECT first_seq, ts_first, ts_min, ts_max, n, figures FROM sample_figures WHERE host_key = ? AND ts_min >= ? AND ts_min <= ? ORDER BY ts_min, first_seq',
      ),
      fromTime: db.prepare<[number, number], FigureRow & { ts_max: number; ts_min: number }>(
        'SELECT first_seq, ts_first, ts_min, ts_max, n, figures FROM sample_figures WHERE host_key = ? AND ts_min >= ? ORDER BY ts_min, first_seq',
      ),
      anyBefore: db.prepare<[number, number], { n: number }>('SELECT 1 AS n FROM sample_figures WHERE host_key = ? AND first_seq < ? LIMIT 1'),
      // Rows wholly before `seq`; a merged row reaching past it is cut (straddling).
      deleteBefore: db.prepare<[number, number, number, number, number]>(
        'DELETE FROM sample_figures WHERE host_key = ? AND first_seq IN (SELECT first_seq FROM sample_figures WHERE host_key = ? AND first_seq < ? AND last_seq < ? ORDER BY first_seq LIMIT ?)',
      ),
      straddling: db.prepare<[number, number, number], FigureRow>(
        'SELECT first_seq, ts_first, n, figures FROM sample_figures WHERE host_key = ? AND first_seq < ? AND last_seq >= ? ORDER BY first_seq LIMIT 1',
      ),
      deleteRow: db.prepare<[number, number]>('DELETE FROM sample_figures WHERE host_key = ? AND first_seq = ?'),
      after: db.prepare<[number, number, number], FigureRow & { last_seq: number; ts_min: number; ts_max: number }>(
        'SELECT first_seq, last_seq, ts_first, ts_min, ts_max, n, figures FROM sample_figures WHERE host_key = ? AND first_seq > ? ORDER BY first_seq LIMIT ?',
      ),

    };
  }

  /** Whether sample `seq` is stored. */
  has(hostKey: number, seq: number): boolean {
    const r = this.s.around.get(hostKey, seq);
    return !!r && unpackFigures(r.first_seq, r.ts_first, r.n, r.figures).some((x) => x.seq === seq);
  }

  /** The host's integer key, or null for a host with nothing stored (reads never create one). */
  keyOf(hostId: string): number | null {
    return this.s.keyOf.get(hostId)?.host_key ?? null;
  }

  /** Stores one batch's new samples (none already stored; kept in seq order, so a row's first_seq is its lowest). */
  add(hostKey: number, rows: readonly SampleSummary[]): void {
    for (const run of runsOf([...rows].sort((a, b) => a.seq - b.seq))) {
      const ts = run.map((r) => r.tsMs);
      this.s.insert.run(hostKey, run[0]!.seq, run.at(-1)!.seq, run[0]!.tsMs, Math.min(...ts), Math.max(...ts), run.length, packFigures(run));
    }
  }

  /** Lowest and highest seq of the samples timestamped in [from, to] (null: none). */
  seqRange(hostKey: number, fromMs: number, toMs: number): { minSeq: number; maxSeq: number } | null {
    // Rows wholly inside the range count by their key; rows reaching past an end are unpacked.
    const inside = this.s.insideSeqs.get(hostKey, fromMs, toMs, toMs)!;
    let min = inside.min_seq ?? Infinity;
    let max = inside.max_seq ?? -Infinity;
    for (const r of this.s.edges.iterate(hostKey, fromMs - RUN_SPAN_MS, toMs, fromMs, toMs)) {
      for (const x of unpackFigures(r.first_seq, r.ts_first, r.n, r.figures)) {
        if (x.tsMs < fromMs || x.tsMs > toMs) continue;
        min = Math.min(min, x.seq);
        max = Math.max(max, x.seq);
      }
    }
    return Number.isFinite(min) ? { minSeq: min, maxSeq: max } : null;
  }

  /** Every stored sample timestamped in [from, to], in (ts, seq) order. */
  inRange(hostKey: number, fromMs: number, toMs: number): SampleSummary[] {
    const out: SampleSummary[] = [];
    for (const r of this.s.inTime.iterate(hostKey, fromMs - RUN_SPAN_MS, toMs)) {
      if (r.ts_max < fromMs) continue;
      for (const x of unpackFigures(r.first_seq, r.ts_first, r.n, r.figures)) if (x.tsMs >= fromMs && x.tsMs <= toMs) out.push(x);
    }
    return out.sort((a, b) => a.tsMs - b.tsMs || a.seq - b.seq);
  }

  /** The first sample (by time, then seq) timestamped at or after `fromMs`, or null. */
  firstFrom(hostKey: number, fromMs: number): SampleSummary | null {
    let best: SampleSummary | null = null;
    for (const r of this.s.fromTime.iterate(hostKey, fromMs - RUN_SPAN_MS)) {
      // Rows come by ts_min: none after one starting past the best found can beat it.
      if (best && r.ts_min > best.tsMs) break;
      if (r.ts_max < fromMs) continue;
      for (const x of unpackFigures(r.first_seq, r.ts_first, r.n, r.figures)) {
        if (x.tsMs >= fromMs && (!best || x.tsMs < best.tsMs || (x.tsMs === best.tsMs && x.seq < best.seq))) best = x;
      }
    }
    return best;
  }

  /**
   * Chart rows as the per-sample SQL computed them: the samples in [from, to] grouped into
   * `bucketMs` slices from `fromMs`, each the averages (NULLs left out), max seq and ts, ordered
   * by that ts, at most `limit`.
   */
  summaries(hostKey: number, fromMs: number, toMs: number, bucketMs: number, limit: number): SampleSummary[] {
    return summariesOf(this.inRange(hostKey, fromMs, toMs), fromMs, bucketMs, limit);
  }

  anyBefore(hostKey: number, seq: number): boolean {
    return !!this.s.anyBefore.get(hostKey, seq);
  }

  /**
   * Deletes up to `limitRows` rows of samples before `seq`; returns how many rows it changed. A
   * merged row holding samples on both sides of `seq` is cut: its samples from `seq` on are
   * stored again as a row of their own (counted as one).
   */
  deleteBefore(hostKey: number, seq: number, limitRows: number): number {
    const n = this.s.deleteBefore.run(hostKey, hostKey, seq, seq, limitRows).changes;
    if (n >= limitRows) return n;
    const r = this.s.straddling.get(hostKey, seq, seq);
    if (!r) return n;
    const kept = unpackFigures(r.first_seq, r.ts_first, r.n, r.figures).filter((x) => x.seq >= seq);
    this.s.deleteRow.run(hostKey, r.first_seq);
    this.add(hostKey, kept);
    return n + 1;
  }

  /**
   * Merges the host's rows whose samples all come before `beforeTsMs` (retention's compaction),
   * consecutive rows into one while it holds at most MERGED_FIGURE_BYTES of packed figures,
   * RUN_MAX_SAMPLES samples and RUN_SPAN_MS of sample time. Rows are read in seq order from where
   * the last merge stopped (rollup_hosts.figures_merged_seq), at most `maxRows` of them; returns
   * how many it read (0: nothing left to merge). Reads answer exactly as before: the codec is exact.
   */
  mergeOlder(hostKey: number, beforeTsMs: number, maxRows: number): number {
    this.m ??= {
      mergedUpTo: this.db.prepare('SELECT figures_merged_seq FROM rollup_hosts WHERE host_key = ?'),
      setMerged: this.db.prepare('UPDATE rollup_hosts SET figures_merged_seq = ? WHERE host_key = ?'),
    };
    const from = this.m.mergedUpTo.get(hostKey)?.figures_merged_seq ?? 0;
    const rows = this.s.after.all(hostKey, from, Math.max(2, maxRows));
    type Row = (typeof rows)[number];
    let group: Row[] = [];
    let bytes = 0;
    let samples = 0;
    let lo = 0;
    let hi = 0;
    let done = from;
    const close = (): void => {
      if (group.length > 1) {
        const all = group.flatMap((g) => unpackFigures(g.first_seq, g.ts_first, g.n, g.figures));
        for (const g of group) this.s.deleteRow.run(hostKey, g.first_seq);
        this.add(hostKey, all);
      }
      if (group.length) done = group.at(-1)!.first_seq;
      group = [];
    };
    let read = 0;
    for (const r of rows) {
      if (r.ts_max >= beforeTsMs) break;
      read++;
      const fits = group.length > 0 && bytes + r.figures.length <= MERGED_FIGURE_BYTES && samples + r.n <= RUN_MAX_SAMPLES
        && Math.max(hi, r.ts_max) - Math.min(lo, r.ts_min) <= RUN_SPAN_MS;
      if (!fits) {
        close();
        bytes = samples = 0;
        lo = r.ts_min;
        hi = r.ts_max;
      }
      group.push(r);
      bytes += r.figures.length;
      samples += r.n;
      lo = Math.min(lo, r.ts_min);
      hi = Math.max(hi, r.ts_max);
    }
    // The last group may grow with rows not old enough yet: it waits, unless it is full.
    if (group.length && bytes >= MERGED_FIGURE_BYTES / 2) close();
    if (done !== from) this.m.setMerged.run(done, hostKey);
    return done === from ? 0 : read;
  }
}

/** Every stored seq of a host (or of all hosts), ascending (tests and tools reading the file directly). */
export function storedSeqs(db: Database.Database, hostId?: string): number[] {
  const sql = 'SELECT f.first_seq, f.ts_first, f.n, f.figures FROM sample_figures f JOIN rollup_hosts k ON k.host_key = f.host_key';
  const rows = (hostId === undefined ? db.prepare(sql).all() : db.prepare(`${sql} WHERE k.host_id = ?`).all(hostId)) as FigureRow[];
  return rows.flatMap((r) => unpackFigures(r.first_seq, r.ts_first, r.n, r.figures).map((x) => x.seq)).sort((a, b) => a - b);
}

/** How many samples are stored: of one host, or of all hosts (tests and tools). */
export function storedSampleCount(db: Database.Database, hostId?: string): number {
  const r = hostId === undefined
    ? db.prepare('SELECT COALESCE(SUM(n), 0) AS n FROM sample_figures').get()
    : db.prepare('SELECT COALESCE(SUM(f.n), 0) AS n FROM sample_figures f JOIN rollup_hosts k ON k.host_key = f.host_key WHERE k.host_id = ?').get(hostId);
  return (r as { n: number }).n;
}
