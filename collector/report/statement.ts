// The statement: what share of the covered time was AI work, non-AI work (confident, and doubtful
// apart), idle/general, and a verdict that cannot be misread:
//
//   non-ai-found           confident non-AI work (pow-mining, chain-validation, storage-proving, or
//                          such parts of mixed verdicts at confidence >= thresholds.minConfidence)
//                          held more than thresholds.maxNonAiShare of the covered time, or one
//                          confident stretch lasted longer than thresholds.maxNonAiRunMs;
//   insufficient-coverage  otherwise, when samples cover less than thresholds.minCoverage of the
//                          period since enrollment, or more than 1 - minCoverage of the covered
//                          time has no verdict ("not enough coverage to say");
//   cannot-say             otherwise, when non-AI work counting the doubtful (confidence below
//                          minConfidence) exceeds maxNonAiShare, or a stretch of non-AI verdicts of
//                          any confidence lasted longer than maxNonAiRunMs: doubt never passes;
//   ai-only                otherwise, when there was AI work (AI share > 0);
//   no-non-ai-no-ai        otherwise: no non-AI work, but no AI work either.
//
// Doubtful non-AI time within the thresholds does not change an "ai-only" verdict, but it is named
// in the notes and listed apart (derived.nonAi.runs with doubtful: true). A report over several
// hosts takes the worst host verdict in the order above ("ai-only" when every host is "ai-only" or
// "no-non-ai-no-ai" and at least one did AI work); its shares weigh each host by its covered time.
import type { HostDerived, Period, Statement, StatementShares, StatementVerdict, Thresholds } from './types.js';

export const VERDICT_LABELS: Record<StatementVerdict, string> = {
  'ai-only': 'AI-only',
  'no-non-ai-no-ai': 'No non-AI work, but no AI work either',
  'non-ai-found': 'Non-AI work found',
  'cannot-say': 'Cannot say (doubtful non-AI work above the threshold)',
  'insufficient-coverage': 'Not enough coverage to say',
};

/** Worst first: a group's verdict is the first of these that any of its hosts has. */
const FAILING: readonly StatementVerdict[] = ['non-ai-found', 'insufficient-coverage', 'cannot-say'];

const pct2 = (x: number): string => `${(x * 100).toFixed(2)} %`;
const mins = (ms: number): string => `${(ms / 60_000).toFixed(1)} min`;
const secs = (ms: number): string => (ms < 120_000 ? `${Math.round(ms / 1000)} s` : mins(ms));
const iso = (ms: number): string => new Date(ms).toISOString();

/** One decimal, but never a rounded 0.0 % for something that is there, nor 100.0 % for something that is not all. */
export function headlinePct(x: number): string {
  const v = x * 100;
  if (v > 0 && v < 0.05) return '< 0.1 %';
  if (v < 100 && v >= 99.95) return '> 99.9 %';
  return `${v.toFixed(1)} %`;
}

export function headline(verdict: StatementVerdict, s: StatementShares): string {
  const parts = [`${headlinePct(s.ai)} AI`, `${headlinePct(s.nonAi)} non-AI`, `${headlinePct(s.doubtfulNonAi)} doubtful non-AI`, `${headlinePct(s.idleGeneral)} idle/general`];
  if (s.unclassified > 0) parts.push(`${headlinePct(s.unclassified)} without a verdict`);
  return `${VERDICT_LABELS[verdict]}: ${parts.join(', ')}, coverage ${headlinePct(s.coverage)}`;
}

export function hostShares(d: Omit<HostDerived, 'statement'>): StatementShares {
  return {
    coverage: d.coverage.ratio,
    ai: d.aiShare,
    nonAi: d.nonAi.share,
    doubtfulNonAi: d.nonAi.doubtfulShare,
    idleGeneral: d.idleGeneralShare,
    unclassified: d.classes.find((c) => c.class === 'unclassified')?.timeShare ?? 0,
  };
}

export function hostStatement(hostId: string, d: Omit<HostDerived, 'statement'>, period: Period, t: Thresholds): Statement {
  const s = hostShares(d);
  const found: string[] = [];
  const coverage: string[] = [];
  const doubt: string[] = [];
  const notes: string[] = [];
  const runs = d.nonAi.runs;
  const longest = (doubtful: boolean): (typeof runs)[number] | undefined =>
    runs.filter((r) => r.doubtful === doubtful).reduce<(typeof runs)[number] | undefined>((m, r) => (!m || r.toMs - r.fromMs > m.toMs - m.fromMs ? r : m), undefined);

  if (s.nonAi > t.maxNonAiShare) found.push(`confident non-AI work held ${pct2(s.nonAi)} of the covered time (threshold ${pct2(t.maxNonAiShare)})`);
  const conf = longest(false);
  if (conf && d.nonAi.longestRunMs > t.maxNonAiRunMs) found.push(`${conf.class} held for ${mins(d.nonAi.longestRunMs)} from ${iso(conf.fromMs)} at confidence ≥ ${pct2(conf.lowestConfidence)} (threshold ${mins(t.maxNonAiRunMs)})`);

  const b = d.coverage.beforeEnrollment;
  if (d.samples === 0) coverage.push(b && d.coverage.periodMs === 0 ? 'the agent was enrolled only at the end of the period' : 'no samples in the period');
  if (d.coverage.ratio < t.minCoverage) coverage.push(`coverage ${pct2(d.coverage.ratio)} is below the ${pct2(t.minCoverage)} threshold`);
  if (d.samples > 0 && s.unclassified > 1 - t.minCoverage) coverage.push(`${pct2(s.unclassified)} of the covered time has no verdict (allowed ${pct2(1 - t.minCoverage)})`);

  const withDoubt = s.nonAi + s.doubtfulNonAi;
  if (s.doubtfulNonAi > 0 && withDoubt > t.maxNonAiShare) {
    doubt.push(`non-AI work held ${pct2(withDoubt)} of the covered time counting ${pct2(s.doubtfulNonAi)} at confidence below ${pct2(t.minConfidence)} (threshold ${pct2(t.maxNonAiShare)})`);
  }
  if (d.nonAi.longestAnyRunMs > t.maxNonAiRunMs && d.nonAi.longestRunMs <= t.maxNonAiRunMs) {
    doubt.push(`non-AI verdicts held for ${mins(d.nonAi.longestAnyRunMs)} in one stretch, partly at confidence below ${pct2(t.minConfidence)} (threshold ${mins(t.maxNonAiRunMs)})`);
  }

  const verdict: StatementVerdict = found.length ? 'non-ai-found' : coverage.length ? 'insufficient-coverage' : doubt.length ? 'cannot-say' : s.ai > 0 ? 'ai-only' : 'no-non-ai-no-ai';
  const reasons = [...found, ...coverage, ...doubt];
  if (verdict === 'no-non-ai-no-ai') reasons.push(`no AI work in the covered time (${pct2(s.idleGeneral)} idle/general)`);
  const doubtRuns = runs.filter((r) => r.doubtful);
  if (doubtRuns.length && !doubt.length) {
    const worst = longest(true)!;
    notes.push(
      `${d.nonAi.runCount === runs.length ? doubtRuns.length : 'some'} doubtful non-AI stretch${doubtRuns.length === 1 ? '' : 'es'} (confidence below ${pct2(t.minConfidence)}, ${pct2(s.doubtfulNonAi)} of the covered time) reported apart, within the thresholds; longest: ${worst.class} for ${secs(worst.toMs - worst.fromMs)} from ${iso(worst.fromMs)} at ${pct2(worst.highestConfidence)}`,
    );
  }
  if (b) notes.push(`the ${secs(b.durationMs)} before the agent's enrollment (until ${iso(b.toMs)}) are not counted`);
  const h = headline(verdict, s);
  return { verdict, headline: h, text: `${h} (host ${hostId}, ${iso(period.fromMs)} to ${iso(period.toMs)})`, shares: s, reasons, notes };
}

/** Covered-time-weighted shares over hosts; coverage over their periods since enrollment. */
function groupShares(hosts: ReadonlyArray<{ coveredMs: number; periodMs: number; statement: Statement }>): StatementShares {
  const covered = hosts.reduce((a, h) => a + h.coveredMs, 0);
  const period = hosts.reduce((a, h) => a + h.periodMs, 0);
  const weigh = (k: Exclude<keyof StatementShares, 'coverage'>): number => (covered > 0 ? hosts.reduce((a, h) => a + h.statement.shares[k] * h.coveredMs, 0) / covered : 0);
  return { coverage: period > 0 ? covered / period : 0, ai: weigh('ai'), nonAi: weigh('nonAi'), doubtfulNonAi: weigh('doubtfulNonAi'), idleGeneral: weigh('idleGeneral'), unclassified: weigh('unclassified') };
}

export function overallStatement(hosts: ReadonlyArray<{ id: string; coveredMs: number; periodMs: number; statement: Statement }>, period: Period): Statement {
  const shares = groupShares(hosts);
  const verdicts = hosts.map((h) => h.statement.verdict);
  let verdict: StatementVerdict = FAILING.find((v) => verdicts.includes(v)) ?? (verdicts.includes('ai-only') ? 'ai-only' : 'no-non-ai-no-ai');
  const reasons = verdict === 'ai-only' ? [] : hosts.flatMap((h) => h.statement.reasons.map((r) => `${h.id}: ${r}`));
  const notes = hosts.flatMap((h) => h.statement.notes.map((n) => `${h.id}: ${n}`));
  if (verdict === 'ai-only') notes.push(...hosts.filter((h) => h.statement.verdict === 'no-non-ai-no-ai').map((h) => `${h.id}: no AI work in the period`));
  if (hosts.length === 0) {
    verdict = 'insufficient-coverage';
    reasons.push('no hosts in the report');
  }
  const names = hosts.map((h) => h.id).join(', ') || 'no hosts';
  const h = headline(verdict, shares);
  return { verdict, headline: h, text: `${h} (${hosts.length === 1 ? 'host' : 'hosts'} ${names}, ${iso(period.fromMs)} to ${iso(period.toMs)})`, shares, reasons, notes };
}
