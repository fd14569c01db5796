// Every figure of a report from its input: the one function both build.ts and verify.ts run, so
// a report verifies only when its numbers are exactly what its data gives.
import { coverage, monitoredFromMs, pieces, samplingInterval } from './coverage.js';
import { decodeInput } from './decode.js';
import { evidenceFor } from './evidence.js';
import { gpus, network, signaturesOf, topProcesses, unavailable } from './facts.js';
import { series } from './series.js';
import { markPruned, rollupFigures } from './rollups.js';
import { shares } from './shares.js';
import { hostStatement, overallStatement } from './statement.js';
import { timeline, verdictIntervals } from './timeline.js';
import type { HostDerived, HostInput, HostSection, Period, Statement, Thresholds } from './types.js';

export function deriveHost(input: HostInput, period: Period, thresholds: Thresholds): HostDerived {
  const decoded = decodeInput(input);
  const inPeriod = decoded.rows.filter((r) => r.tsMs >= period.fromMs && r.tsMs <= period.toMs);
  const intervalMs = samplingInterval(inPeriod);
  const covered = pieces(inPeriod, decoded.declaredGaps, period, intervalMs);
  const intervals = verdictIntervals(input.verdicts, period);
  const spans = timeline(intervals);
  const s = shares(covered, intervals, thresholds.minConfidence);
  const cov = coverage(inPeriod, decoded.declaredGaps, period, intervalMs, covered, monitoredFromMs(decoded, input.enrolledMs));
  const partial: Omit<HostDerived, 'statement'> = {
    intervalMs,
    samples: inPeriod.length,
    coverage: input.rollups ? markPruned(cov, input.rollups, period) : cov,
    classes: s.classes,
    energy: s.energy,
    nonAi: s.nonAi,
    aiShare: s.aiShare,
    idleGeneralShare: s.idleGeneralShare,
    timeline: spans,
    evidence: evidenceFor(spans, intervals),
    topProcesses: topProcesses(inPeriod, signaturesOf(decoded.rows)),
    network: network(inPeriod),
    gpus: gpus(inPeriod),
    unavailable: unavailable(inPeriod),
    series: series(covered, period, intervalMs),
    chain: decoded.chain,
    ...(input.rollups ? { rollups: rollupFigures(input.rollups, period) } : {}),
  };
  return { ...partial, statement: hostStatement(input.identity.id, partial, period, thresholds) };
}

export function deriveStatement(hosts: readonly HostSection[], period: Period): Statement {
  return overallStatement(
    hosts.map((h) => ({ id: h.input.identity.id, coveredMs: h.derived.coverage.coveredMs, periodMs: h.derived.coverage.periodMs, statement: h.derived.statement })),
    period,
  );
}
