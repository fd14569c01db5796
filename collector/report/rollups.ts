// Reports over periods older than the raw attestation window. The collector deletes raw signed
// batches after --raw-retention; what it still has for that time are its own roll-ups (store/
// rollups.ts). A report embeds them in `input.rollups` and derives `derived.rollups` from them,
// saying plainly that these figures rest on roll-ups and cannot be re-derived from signed bytes;
// the coverage gaps of that span get the cause `raw_pruned` instead of `agent_down`, and none of
// that time counts as covered (the statement still rests on signed samples only). `assay verify`
// checks the arithmetic and prints a WARN, never a PASS, for them.
import type { Store } from '../store/store.js';
import type { Coverage, Period, ReportGap } from './types.js';

/** The finest roll-up that keeps a report's roll-up section at most this many rows. */
const MAX_ROWS = 720;
const RESOLUTIONS = [
  { name: '1m', widthMs: 60_000 },
  { name: '1h', widthMs: 3_600_000 },
] as const;

/** One roll-up bucket as a report embeds it (averages of the samples it summarised). */
export interface ReportRollupRow {
  startMs: number;
  samples: number;
  cpuPct: number;
  cpuPctMax: number;
  memUsedBytes: number;
  gpuUtilPct: number | null;
  powerWatts: number | null;
  diskReadBytesPerSec: number;
  diskWriteBytesPerSec: number;
  netRxBytesPerSec: number;
  netTxBytesPerSec: number;
}

/**
 * Chained batches (encoding 4) the collector still holds but a report cannot embed: the batch their
 * first sample is encoded against (or one before it, back to a batch that is not chained) was
 * deleted by retention or never stored, so nobody can decode them. Their time rests on roll-ups.
 */
export interface UndecodableBatches {
  /** How many batches, from the first one of the period's segment. */
  batches: number;
  /** Their sequence numbers (the signed headers' first and last). */
  firstSeq: number;
  lastSeq: number;
  /** Present when the collector had also deleted raw signed samples of the period: before this (its store's rawPrunedMs). */
  prunedBeforeMs?: number;
}

export interface ReportRollups {
  /**
   * The report holds no decodable signed sample of this host timestamped before this: the
   * collector deleted them after its raw window (its store's rawPrunedMs), or, with `undecodable`,
   * the report's first decodable sample (or the period's end when there is none).
   */
  rawPrunedMs: number;
  /** Present when chained batches of the period could not be decoded (their prior is gone). */
  undecodable?: UndecodableBatches;
  resolution: '1m' | '1h';
  widthMs: number;
  rows: ReportRollupRow[];
}

/** What a report states from roll-ups, with the reason they are not re-derivable. */
export interface RollupFigures {
  fromMs: number;
  toMs: number;
  resolution: '1m' | '1h';
  rows: number;
  samples: number;
  /** Sample-weighted means over the rows (null: no readings). */
  cpuPct: number | null;
  cpuPctMax: number | null;
  gpuUtilPct: number | null;
  powerWatts: number | null;
  rederivable: false;
  note: string;
}

export const RAW_PRUNED = 'raw_pruned';

/**
 * The roll-ups a report over `period` needs: null when the period lies within the raw window and
 * every batch of it decodes. `undecodable`: chained batches left out of the report (build.ts
 * segment), with `untilMs`, the time of the report's first decodable sample after them.
 */
export async function rollupsFor(store: Store, hostId: string, period: Period, undecodable?: UndecodableBatches & { untilMs: number }): Promise<ReportRollups | null> {
  const stored = (await store.retentionState(hostId)).rawPrunedMs;
  const rawPrunedMs = Math.max(stored, undecodable?.untilMs ?? 0);
  if (rawPrunedMs <= period.fromMs) return null;
  const toMs = Math.min(period.toMs, rawPrunedMs) - 1;
  const res = RESOLUTIONS.find((r) => (toMs - period.fromMs) / r.widthMs <= MAX_ROWS) ?? RESOLUTIONS[RESOLUTIONS.length - 1]!;
  const rows = await store.rollupRows(hostId, res.name, period.fromMs, toMs, 100_000);
  return {
    rawPrunedMs,
    ...(undecodable && undecodable.untilMs > stored
      ? { undecodable: { batches: undecodable.batches, firstSeq: undecodable.firstSeq, lastSeq: undecodable.lastSeq, ...(stored > period.fromMs ? { prunedBeforeMs: stored } : {}) } }
      : {}),
    resolution: res.name,
    widthMs: res.widthMs,
    rows: rows.map((r) => ({
      startMs: r.startMs,
      samples: r.samples,
      cpuPct: r.cpuPct,
      cpuPctMax: r.cpuPctMax,
      memUsedBytes: r.memUsedBytes,
      gpuUtilPct: r.gpuUtilPct,
      powerWatts: r.powerWatts,
      diskReadBytesPerSec: r.diskReadBytesPerSec,
      diskWriteBytesPerSec: r.diskWriteBytesPerSec,
      netRxBytesPerSec: r.netRxBytesPerSec,
      netTxBytesPerSec: r.netTxBytesPerSec,
    })),
  };
}

const weighted = (rows: readonly ReportRollupRow[], f: (r: ReportRollupRow) => number | null): number | null => {
  let n = 0;
  let sum = 0;
  for (const r of rows) {
    const v = f(r);
    if (v === null) continue;
    n += r.samples;
    sum += v * r.samples;
  }
  return n > 0 ? sum / n : null;
};

const isoMinute = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

/** The span of the period that rests on roll-ups. */
export const prunedSpan = (r: ReportRollups, period: Period): Period => ({ fromMs: period.fromMs, toMs: Math.min(period.toMs, r.rawPrunedMs) });

/** Why the report holds no decodable signed samples before rawPrunedMs, in words. */
export function whyPruned(r: ReportRollups): string {
  const u = r.undecodable;
  if (!u) return "the collector no longer holds the agent's signed samples (deleted after its raw attestation window)";
  return (
    `the report holds no decodable signed samples: the collector still holds ${u.batches} signed batch${u.batches === 1 ? '' : 'es'} (seq ${u.firstSeq}–${u.lastSeq}), ` +
    'but each encodes its first sample against the last sample of the batch before it, and a batch on that chain was deleted ' +
    '(raw retention) or never stored, so they cannot be decoded and are not embedded' +
    (u.prunedBeforeMs !== undefined ? `; the collector had also deleted the signed samples before ${isoMinute(u.prunedBeforeMs)} (after its raw attestation window)` : '')
  );
}

export function rollupFigures(r: ReportRollups, period: Period): RollupFigures {
  const span = prunedSpan(r, period);
  const maxes = r.rows.map((x) => x.cpuPctMax);
  return {
    fromMs: span.fromMs,
    toMs: span.toMs,
    resolution: r.resolution,
    rows: r.rows.length,
    samples: r.rows.reduce((a, x) => a + x.samples, 0),
    cpuPct: weighted(r.rows, (x) => x.cpuPct),
    cpuPctMax: maxes.length ? Math.max(...maxes) : null,
    gpuUtilPct: weighted(r.rows, (x) => x.gpuUtilPct),
    powerWatts: weighted(r.rows, (x) => x.powerWatts),
    rederivable: false,
    note:
      `From ${isoMinute(span.fromMs)} to ${isoMinute(span.toMs)} ${whyPruned(r)}. The figures for that time (${r.rows.length} ${r.resolution} roll-ups) rest on the ` +
      "collector's roll-ups: they are not re-derivable from signed bytes and are only as trustworthy as the collector that signed this report. " +
      'None of that time counts as covered.',
  };
}

/** Coverage gaps inside the pruned span say so (raw_pruned) instead of calling it agent_down. */
export function markPruned(c: Coverage, r: ReportRollups, period: Period): Coverage {
  const cut = prunedSpan(r, period).toMs;
  const gaps: ReportGap[] = [];
  const detail = r.undecodable
    ? `signed samples not decodable (${r.undecodable.batches} chained batches whose prior was deleted) or deleted after the attestation window; this time rests on roll-ups only`
    : 'raw signed samples deleted after the attestation window; this time rests on roll-ups only';
  for (const g of c.gaps) {
    if (g.cause !== 'agent_down' || g.fromMs >= cut) {
      gaps.push(g);
      continue;
    }
    gaps.push({ fromMs: g.fromMs, toMs: Math.min(g.toMs, cut), durationMs: Math.min(g.toMs, cut) - g.fromMs, cause: RAW_PRUNED, detail });
    if (g.toMs > cut) gaps.push({ ...g, fromMs: cut, durationMs: g.toMs - cut });
  }
  return { ...c, gaps };
}
