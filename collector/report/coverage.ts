// Coverage: how much of the period has samples, and every hole with its cause.
//   agent_down     a time hole (> 3 sampling intervals) between consecutive samples that no
//                  declared gap explains, or no samples at the start / end of the period;
//   spool_thinned  samples the agent's full spool thinned out (declared in a signed header);
//   spool_full     samples the agent's full spool dropped (declared);
//   clock_jump     timestamps going backwards in sampling order, or jumping ahead while the
//                  collector received both samples much closer together than their timestamps say.
// Time before the agent's enrollment is neither covered nor a gap: it is left out of the period
// the ratio is taken over and reported as `beforeEnrollment` (see monitoredFromMs).
import type { DecodedInput, DeclaredGap, SampleRow } from './decode.js';
import type { BeforeEnrollment, Coverage, Period, ReportGap } from './types.js';

/** A time hole longer than this many sampling intervals is a gap. */
export const HOLE_INTERVALS = 3;

/** The host's sampling interval: the median spacing of consecutive samples (1 s when unknown). */
export function samplingInterval(rows: readonly SampleRow[]): number {
  const d: number[] = [];
  for (let i = 1; i < rows.length; i++) {
    const dt = rows[i]!.tsMs - rows[i - 1]!.tsMs;
    if (dt > 0) d.push(dt);
  }
  if (d.length === 0) return 1000;
  d.sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)]!;
}

/**
 * The time each sample stands for: from its timestamp to the next sample's when that follows
 * within HOLE_INTERVALS intervals and no declared loss lies between them (sampling jitter is no
 * loss), else one interval; within the period. Pieces and gaps thus never overlap, and "no gaps"
 * means full coverage. The plots (series.ts) draw these same pieces.
 */
export interface Piece {
  fromMs: number;
  toMs: number;
  row: SampleRow;
}

export function pieces(inPeriod: readonly SampleRow[], declared: readonly DeclaredGap[], period: Period, intervalMs: number): Piece[] {
  const byTime = [...inPeriod].sort((a, b) => a.tsMs - b.tsMs || a.seq - b.seq);
  const out: Piece[] = [];
  for (let i = 0; i < byTime.length; i++) {
    const row = byTime[i]!;
    const next = byTime[i + 1];
    const joined = next !== undefined && next.tsMs - row.tsMs <= HOLE_INTERVALS * intervalMs && !declared.some((g) => g.toSeq > row.seq && g.fromSeq < next.seq);
    const end = joined ? next.tsMs : Math.min(row.tsMs + intervalMs, next?.tsMs ?? Number.POSITIVE_INFINITY);
    const fromMs = Math.max(row.tsMs, period.fromMs);
    const toMs = Math.min(end, period.toMs);
    if (toMs > fromMs) out.push({ fromMs, toMs, row });
  }
  return out;
}

/**
 * When monitoring of the agent began: its first sample ever, or its enrollment (`enrolledMs`, the
 * collector's record) or a gap its first batch declares, whichever is earliest. Known only when the
 * report's chain segment starts at the agent's chain start (an empty prev_hash in the first
 * batch's signed header, context batches aside), so a collector cannot pass a real outage off as "before enrollment":
 * it can only move the start earlier, which counts against its own coverage. Null otherwise (the
 * agent was monitored before the segment, or this is a scan).
 */
export function monitoredFromMs(decoded: DecodedInput, enrolledMs: number | null | undefined): number | null {
  // The segment proper: context batches before it (ReportBatch.context) are there to decode it only.
  const start = decoded.chain?.batches.find((b) => !b.context);
  const first = decoded.rows[0];
  if (!start || start.prevHash !== '' || !first) return null;
  return decoded.declaredGaps.reduce((m, g) => Math.min(m, g.fromMs), Math.min(first.tsMs, enrolledMs ?? Number.POSITIVE_INFINITY));
}

const span = (fromMs: number, toMs: number, cause: string, detail: string): ReportGap => ({ fromMs, toMs, durationMs: toMs - fromMs, cause, detail });

export function coverage(
  inPeriod: readonly SampleRow[],
  declared: readonly DeclaredGap[],
  whole: Period,
  intervalMs: number,
  covered: readonly Piece[],
  monitoredFrom: number | null,
): Coverage {
  let beforeEnrollment: BeforeEnrollment | null = null;
  if (monitoredFrom !== null && monitoredFrom > whole.fromMs) {
    const toMs = Math.min(monitoredFrom, whole.toMs);
    beforeEnrollment = { fromMs: whole.fromMs, toMs, durationMs: toMs - whole.fromMs };
  }
  const period: Period = { fromMs: beforeEnrollment?.toMs ?? whole.fromMs, toMs: whole.toMs };
  const periodMs = Math.max(0, period.toMs - period.fromMs);
  const coveredMs = covered.reduce((a, p) => a + (p.toMs - p.fromMs), 0);
  const hole = HOLE_INTERVALS * intervalMs;
  const gaps: ReportGap[] = [];
  const clip = (a: number, b: number): [number, number] => [Math.max(a, period.fromMs), Math.min(b, period.toMs)];
  if (periodMs === 0) {
    // the whole period is before enrollment: nothing was monitored, nothing is missing
  } else if (inPeriod.length === 0) {
    gaps.push(span(period.fromMs, period.toMs, 'agent_down', 'no samples in the period'));
  } else {
    const first = inPeriod.reduce((m, r) => Math.min(m, r.tsMs), Number.POSITIVE_INFINITY);
    const last = inPeriod.reduce((m, r) => Math.max(m, r.tsMs), Number.NEGATIVE_INFINITY);
    if (first - period.fromMs > hole) gaps.push(span(period.fromMs, first, 'agent_down', beforeEnrollment ? "no samples from the agent's enrollment" : 'no samples from the start of the period'));
    for (let i = 1; i < inPeriod.length; i++) {
      const a = inPeriod[i - 1]!;
      const b = inPeriod[i]!;
      const dt = b.tsMs - a.tsMs;
      if (dt < 0) {
        gaps.push(span(b.tsMs, a.tsMs, 'clock_jump', `clock went back ${-dt} ms between seq ${a.seq} and ${b.seq}`));
        continue;
      }
      if (dt <= hole) continue;
      if (declared.some((g) => g.toSeq > a.seq && g.fromSeq < b.seq)) continue; // listed below with its declared cause
      const [from, to] = clip(a.tsMs + intervalMs, b.tsMs);
      if (to <= from) continue;
      if (a.receivedMs !== null && b.receivedMs !== null && b.receivedMs - a.receivedMs < dt / 2) {
        gaps.push(span(from, to, 'clock_jump', `clock jumped ${dt} ms ahead between seq ${a.seq} and ${b.seq} (received ${b.receivedMs - a.receivedMs} ms apart)`));
      } else {
        gaps.push(span(from, to, 'agent_down', `no samples for ${dt} ms between seq ${a.seq} and ${b.seq}`));
      }
    }
    if (period.toMs - last > hole) gaps.push(span(last + intervalMs, period.toMs, 'agent_down', 'no samples until the end of the period'));
  }
  for (const g of declared) {
    // fromMs / toMs are the times of the first and last lost sample: the last stood for one interval.
    const [from, to] = clip(g.fromMs, g.toMs + intervalMs);
    if (to < from) continue;
    gaps.push(span(from, to, g.cause, `${g.samples} samples (seq ${g.fromSeq}–${g.toSeq}) declared lost by the agent: ${g.cause}`));
  }
  gaps.sort((x, y) => x.fromMs - y.fromMs || x.toMs - y.toMs || (x.cause < y.cause ? -1 : x.cause > y.cause ? 1 : 0));
  return { periodMs, coveredMs, ratio: periodMs > 0 ? coveredMs / periodMs : 0, gaps, beforeEnrollment };
}
