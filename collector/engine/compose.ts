// Host verdict from per-process assessments: each process weighs by its share of the host's busy
// CPU and GPU (scaled by power), classes add up their processes' shares, and the shares decide
// idle / one class / mixed / general.
import { SPECIALISED, type ProcessAssessment } from './classify-process.js';
import { pct, round } from './classify-evidence.js';
import type { HostFeatures } from './feature-types.js';
import type { Rules } from './rules/schema.js';
import { clamp } from './stats.js';
import { WORKLOAD_CLASSES, type Evidence, type ScoredClass, type Verdict, type VerdictPart, type WorkloadClass } from './types.js';

export interface Weighted {
  a: ProcessAssessment;
  share: number;
}

const MAX_PROCESSES_PER_PART = 5;

/**
 * Each process's share of the host's busy resources: CPU share x CPU busy watts + GPU share x GPU
 * busy watts. Without power readings the rules' nominal watts stand in. GPU time counts only when
 * the agent attributed GPU memory to processes; otherwise nobody can be credited with it.
 */
export function shares(h: HostFeatures, list: readonly ProcessAssessment[], rules: Rules): Weighted[] {
  const c = rules.composition;
  const cpuW = (h.cpu.mean / 100) * (h.power.raplWattsMean ?? c.cpuWatts);
  const attributed = list.some((a) => a.features.gpu.utilShare > 0);
  const gpuW = attributed && h.gpuUtil ? (h.gpuUtil.mean / 100) * (h.power.gpuWattsMean ?? c.gpuWatts * h.gpus.length) : 0;
  const total = cpuW + gpuW;
  return list.map((a) => ({
    a,
    // CPU shares over the recent part of the window: a workload that stopped 40 s ago is not half the host.
    share: total > 0 ? (a.features.cpuShareRecent * cpuW + a.features.gpu.utilShare * gpuW) / total : a.features.cpuShareRecent,
  }));
}

/** Confidence factor for data quality: short windows and missing signals lower it. */
export function quality(h: HostFeatures, rules: Rules): number {
  const penalties = rules.confidence.unavailablePenalty;
  let q = Math.min(1, h.window.samples / rules.thresholds.window.minSamples);
  for (const u of h.unavailable) q *= 1 - (penalties[u] ?? penalties.default ?? 0);
  return clamp(q);
}

/** 1 when the host is silent, 0.5 at the idle threshold, 0 at twice the threshold. */
export function idleScore(h: HostFeatures, rules: Rules): number {
  const t = rules.thresholds.idle;
  const cpu = t.hostCpuPct > 0 ? h.cpu.mean / t.hostCpuPct : h.cpu.mean > 0 ? Infinity : 0;
  const gpu = h.gpuUtil ? (t.gpuUtilPct > 0 ? h.gpuUtil.mean / t.gpuUtilPct : h.gpuUtil.mean > 0 ? Infinity : 0) : 0;
  return clamp(1 - 0.5 * Math.max(cpu, gpu));
}

/**
 * Host score per class: the share-weighted mean of its processes' scores, scaled by how busy the
 * host is (1 - idle), so that a silent host does not read "general 0.96" beside "idle 0.93".
 */
function hostScores(weighted: readonly Weighted[], idle: number): Record<ScoredClass | 'idle', number> {
  const total = weighted.reduce((s, w) => s + w.share, 0);
  const out = { idle: round(idle) } as Record<ScoredClass | 'idle', number>;
  for (const c of WORKLOAD_CLASSES) {
    const sum = weighted.reduce((s, w) => s + w.share * (c === 'general' ? w.a.generalScore : w.a.scores[c]), 0);
    out[c] = total > 0 ? round((sum / total) * (1 - idle)) : 0;
  }
  return out;
}

/** Share-weighted mean score of the processes assigned to `c`. */
function classStrength(weighted: readonly Weighted[], c: ScoredClass): number {
  let s = 0;
  let w = 0;
  for (const x of weighted) {
    if (x.a.assigned !== c) continue;
    s += x.share * (c === 'general' ? x.a.generalScore : x.a.scores[c]);
    w += x.share;
  }
  return w > 0 ? s / w : 0;
}

function parts(weighted: readonly Weighted[], rules: Rules): VerdictPart[] {
  const byClass = new Map<ScoredClass, Weighted[]>();
  for (const w of weighted) {
    const l = byClass.get(w.a.assigned) ?? [];
    l.push(w);
    byClass.set(w.a.assigned, l);
  }
  const out: VerdictPart[] = [];
  for (const c of WORKLOAD_CLASSES) {
    const members = (byClass.get(c) ?? []).filter((w) => w.share > 0).sort((x, y) => y.share - x.share || x.a.features.pid - y.a.features.pid);
    const share = members.reduce((s, w) => s + w.share, 0);
    if (share < rules.composition.minPartShare) continue;
    out.push({
      class: c,
      share: round(share),
      processes: members.slice(0, MAX_PROCESSES_PER_PART).map((w) => ({ pid: w.a.features.pid, name: w.a.features.name })),
    });
  }
  return out.sort((x, y) => y.share - x.share || WORKLOAD_CLASSES.indexOf(x.class) - WORKLOAD_CLASSES.indexOf(y.class));
}

function hostSummary(h: HostFeatures): string {
  const cpu = `host CPU mean ${pct(h.cpu.mean)} (p95 ${pct(h.cpu.p95)}, CV ${round(h.cpu.cv, 2)})${h.cores > 0 ? ` on ${h.cores} cores` : ''}`;
  const gpu = h.gpuUtil ? `, GPU util mean ${pct(h.gpuUtil.mean)} on ${h.gpus.length} GPU(s)` : ', no GPU';
  return `${cpu}${gpu} over ${h.window.samples} samples`;
}

export interface Decision {
  class: WorkloadClass;
  confidence: number;
  scores: Record<ScoredClass | 'idle', number>;
  parts: VerdictPart[];
  hostEvidence: Evidence[];
}

export function decide(h: HostFeatures, weighted: readonly Weighted[], rules: Rules): Decision {
  const q = quality(h, rules);
  const idle = idleScore(h, rules);
  const scores = hostScores(weighted, idle);
  const allParts = parts(weighted, rules);
  const t = rules.thresholds.idle;
  const activeSpecialised = weighted.some((w) => w.a.busy && w.a.assigned !== 'general');
  const quiet = h.cpu.mean < t.hostCpuPct && (h.gpuUtil?.mean ?? 0) < t.gpuUtilPct && !activeSpecialised;

  if (quiet) {
    // A parked miner (named, configured, but not hashing) is no miner yet, but the idle verdict
    // should not be confident either.
    const dormant = Math.max(0, ...weighted.filter((w) => !w.a.busy).map((w) => Math.max(...SPECIALISED.map((c) => w.a.scores[c]))));
    const confidence = q * idle * (1 - rules.composition.dormantPenalty * dormant);
    const detail = `${hostSummary(h)}: quiet (below ${t.hostCpuPct}% CPU${h.gpuUtil ? ` and ${t.gpuUtilPct}% GPU` : ''})`;
    return {
      class: 'idle',
      confidence: round(confidence),
      scores,
      parts: [],
      hostEvidence: [{ signal: 'host.quiet', value: round(h.cpu.mean, 2), supports: 'idle', weight: round(idle), detail }],
    };
  }

  const total = weighted.reduce((s, w) => s + w.share, 0) || 1;
  const significant = allParts.filter((p) => p.class !== 'general' && p.share >= rules.composition.significantShare);
  let cls: WorkloadClass;
  let confidence: number;
  if (significant.length >= 2) {
    cls = 'mixed';
    const coverage = significant.reduce((s, p) => s + p.share, 0) / total;
    confidence = (significant.reduce((s, p) => s + classStrength(weighted, p.class), 0) / significant.length) * Math.sqrt(coverage);
  } else if (significant.length === 1 && significant[0]) {
    cls = significant[0].class;
    confidence = classStrength(weighted, significant[0].class) * Math.sqrt(significant[0].share / total);
  } else {
    cls = 'general';
    confidence = scores.general;
  }
  const top = cls === 'mixed' ? (significant[0]?.class ?? 'general') : (cls as ScoredClass);
  const hostEvidence: Evidence[] = [{ signal: 'host.load', value: round(h.cpu.mean, 2), supports: top, weight: 0, detail: `${hostSummary(h)}: busy` }];
  return { class: cls, confidence: round(q * confidence), scores, parts: allParts, hostEvidence };
}

export function emptyVerdict(rules: Rules, unavailable: string[]): Verdict {
  const scores = { idle: 0 } as Record<ScoredClass | 'idle', number>;
  for (const c of WORKLOAD_CLASSES) scores[c] = 0;
  return {
    class: 'idle',
    confidence: 0,
    scores,
    parts: [],
    evidence: [],
    window: { fromMs: 0, toMs: 0, samples: 0 },
    unavailable,
    rulesVersion: rules.version,
  };
}
