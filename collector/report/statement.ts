// The AI-only statement. For each host it holds only when:
//   1. coverage (share of the period with samples) >= thresholds.minCoverage, and at most
//      1 - minCoverage of the covered time is without a verdict;
//   2. non-AI work (pow-mining, chain-validation, storage-proving, or the non-AI parts of a mixed
//      verdict) held at most thresholds.maxNonAiShare of the covered time; and
//   3. no single stretch of non-AI verdicts lasted longer than thresholds.maxNonAiRunMs.
// A report over several hosts states AI-only only when it holds for every host.
import type { HostDerived, Period, Statement, Thresholds } from './types.js';

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;
const mins = (ms: number): string => `${(ms / 60_000).toFixed(1)} min`;
const iso = (ms: number): string => new Date(ms).toISOString();

export function hostStatement(hostId: string, d: Omit<HostDerived, 'statement'>, period: Period, t: Thresholds): Statement {
  const reasons: string[] = [];
  if (d.samples === 0) reasons.push('no samples in the period');
  if (d.coverage.ratio < t.minCoverage) reasons.push(`coverage ${pct(d.coverage.ratio)} is below the ${pct(t.minCoverage)} threshold`);
  const unclassified = d.classes.find((c) => c.class === 'unclassified')?.timeShare ?? 0;
  if (d.samples > 0 && unclassified > 1 - t.minCoverage) reasons.push(`${pct(unclassified)} of the covered time has no verdict (allowed ${pct(1 - t.minCoverage)})`);
  if (d.nonAi.share > t.maxNonAiShare) reasons.push(`non-AI work held ${pct(d.nonAi.share)} of the covered time (threshold ${pct(t.maxNonAiShare)})`);
  const longest = d.nonAi.runs.find((r) => r.toMs - r.fromMs === d.nonAi.longestRunMs);
  if (longest && d.nonAi.longestRunMs > t.maxNonAiRunMs) {
    reasons.push(`${longest.class} held for ${mins(d.nonAi.longestRunMs)} from ${iso(longest.fromMs)} (threshold ${mins(t.maxNonAiRunMs)})`);
  }
  const aiOnly = reasons.length === 0;
  const where = `host ${hostId}, ${iso(period.fromMs)} to ${iso(period.toMs)}`;
  const text = aiOnly
    ? `AI-only holds for ${where}: coverage ${pct(d.coverage.ratio)}, AI classes ${pct(d.aiShare)} of the covered time, non-AI work ${pct(d.nonAi.share)}.`
    : `AI-only does NOT hold for ${where}.`;
  return { aiOnly, text, reasons };
}

export function overallStatement(hosts: ReadonlyArray<{ id: string; statement: Statement }>, period: Period): Statement {
  const reasons = hosts.flatMap((h) => h.statement.reasons.map((r) => `${h.id}: ${r}`));
  if (hosts.length === 0) reasons.push('no hosts in the report');
  const aiOnly = reasons.length === 0;
  const names = hosts.map((h) => h.id).join(', ');
  return {
    aiOnly,
    text: aiOnly
      ? `AI-only holds for ${names} from ${iso(period.fromMs)} to ${iso(period.toMs)}.`
      : `AI-only does NOT hold for ${names || 'these hosts'} from ${iso(period.fromMs)} to ${iso(period.toMs)}.`,
    reasons,
  };
}
