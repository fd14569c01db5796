// Stretches of non-AI verdicts (a non-AI class, or a mixed verdict with a non-AI part), split by
// confidence: a stretch is all confident or all doubtful (confidence below the threshold), so
// doubtful time is listed apart with its classes, confidence and evidence. Only the longest
// MAX_RUNS stretches are listed (in time order); the longest lengths count every stretch.
import type { Evidence, EvidenceProcess } from '../engine/types.js';
import { doubtful, isNonAi, shareOf } from './split.js';
import type { VerdictInterval } from './timeline.js';
import type { NonAi, NonAiRun } from './types.js';

export const MAX_RUNS = 100;
const EVIDENCE_PER_RUN = 5;

const nonAiLabel = (iv: VerdictInterval): string =>
  iv.verdict.class === 'mixed' ? `mixed (${iv.verdict.parts.filter((p) => isNonAi(p.class)).map((p) => p.class).join(', ')})` : iv.verdict.class;

/** The evidence and processes that made a verdict non-AI: its strongest non-AI evidence first. */
function explain(iv: VerdictInterval): { evidence: Evidence[]; processes: EvidenceProcess[] } {
  const evidence = [...iv.verdict.evidence]
    .filter((e) => isNonAi(e.supports))
    .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || a.signal.localeCompare(b.signal))
    .slice(0, EVIDENCE_PER_RUN);
  const processes = iv.verdict.parts.filter((p) => isNonAi(p.class)).flatMap((p) => p.processes);
  return { evidence, processes };
}

export function nonAiRuns(intervals: readonly VerdictInterval[], minConfidence: number): Omit<NonAi, 'share' | 'doubtfulShare'> {
  const runs: Array<NonAiRun & { best: VerdictInterval }> = [];
  let longestAnyRunMs = 0;
  let anyFrom: number | null = null;
  let anyTo = 0;
  for (const iv of intervals) {
    if (shareOf(iv, isNonAi) === 0) continue;
    if (anyFrom !== null && anyTo === iv.fromMs) anyTo = iv.toMs;
    else [anyFrom, anyTo] = [iv.fromMs, iv.toMs];
    longestAnyRunMs = Math.max(longestAnyRunMs, anyTo - anyFrom);
    const cls = nonAiLabel(iv);
    const doubt = doubtful(iv, minConfidence);
    const c = iv.verdict.confidence;
    const last = runs.at(-1);
    if (last && last.toMs === iv.fromMs && last.doubtful === doubt) {
      last.toMs = iv.toMs;
      last.verdicts += 1;
      last.lowestConfidence = Math.min(last.lowestConfidence, c);
      last.highestConfidence = Math.max(last.highestConfidence, c);
      if (c > last.best.verdict.confidence) last.best = iv;
      if (!last.class.split(' + ').includes(cls)) last.class += ` + ${cls}`;
    } else {
      runs.push({ fromMs: iv.fromMs, toMs: iv.toMs, class: cls, doubtful: doubt, lowestConfidence: c, highestConfidence: c, verdicts: 1, evidence: [], processes: [], best: iv });
    }
  }
  const longestRunMs = runs.filter((r) => !r.doubtful).reduce((m, r) => Math.max(m, r.toMs - r.fromMs), 0);
  const listed = [...runs]
    .sort((a, b) => b.toMs - b.fromMs - (a.toMs - a.fromMs) || a.fromMs - b.fromMs)
    .slice(0, MAX_RUNS)
    .sort((a, b) => a.fromMs - b.fromMs)
    .map(({ best, ...r }) => ({ ...r, ...explain(best) }));
  return { longestRunMs, longestAnyRunMs, runCount: runs.length, runs: listed };
}
