// The verdict timeline: each stored verdict applies from its time until the next one (the last
// until the end of the period); consecutive verdicts of one class merge into a span.
import type { Verdict } from '../engine/types.js';
import type { Period, StoredVerdictJson, TimelineSpan } from './types.js';

export interface VerdictInterval {
  fromMs: number;
  toMs: number;
  verdict: Verdict;
  tsMs: number;
}

export function verdictIntervals(verdicts: readonly StoredVerdictJson[], period: Period): VerdictInterval[] {
  const sorted = [...verdicts].sort((a, b) => a.tsMs - b.tsMs);
  const out: VerdictInterval[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i]!;
    const fromMs = Math.max(v.tsMs, period.fromMs);
    const toMs = Math.min(sorted[i + 1]?.tsMs ?? period.toMs, period.toMs);
    if (toMs > fromMs) out.push({ fromMs, toMs, verdict: v.verdict, tsMs: v.tsMs });
  }
  return out;
}

/** The verdict in force at `tsMs` (intervals sorted, disjoint), by binary search. */
export function verdictAt(intervals: readonly VerdictInterval[], tsMs: number): VerdictInterval | null {
  let lo = 0;
  let hi = intervals.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const iv = intervals[mid]!;
    if (tsMs < iv.fromMs) hi = mid - 1;
    else if (tsMs >= iv.toMs) lo = mid + 1;
    else return iv;
  }
  return null;
}

export function timeline(intervals: readonly VerdictInterval[]): TimelineSpan[] {
  const spans: Array<TimelineSpan & { confSum: number }> = [];
  for (const iv of intervals) {
    const last = spans.at(-1);
    if (last && last.class === iv.verdict.class && last.toMs === iv.fromMs) {
      last.toMs = iv.toMs;
      last.verdicts += 1;
      last.confSum += iv.verdict.confidence;
      continue;
    }
    spans.push({ fromMs: iv.fromMs, toMs: iv.toMs, class: iv.verdict.class, confidence: 0, verdicts: 1, confSum: iv.verdict.confidence });
  }
  return spans.map(({ confSum, ...s }) => ({ ...s, confidence: confSum / s.verdicts }));
}
