// Per-process scoring: sum each class's behaviour and (capped, both ways) identity evidence,
// squash to 0..1, keep classes whose behaviour is below its floor from being assigned, pick the
// best class at or above minProcessScore (else general).
import { behaviourEvidence } from './classify-behaviour.js';
import type { ScoredEvidence } from './classify-evidence.js';
import { identityEvidence, portEvidence, type IdentityMemo } from './classify-identity.js';
import type { HostFeatures, ProcessFeatures } from './feature-types.js';
import type { Rules } from './rules/schema.js';
import { clamp } from './stats.js';
import { WORKLOAD_CLASSES, type ScoredClass } from './types.js';

export const SPECIALISED: readonly Exclude<ScoredClass, 'general'>[] = WORKLOAD_CLASSES.filter(
  (c): c is Exclude<ScoredClass, 'general'> => c !== 'general',
);

export interface ProcessAssessment {
  features: ProcessFeatures;
  scores: Record<ScoredClass, number>;
  /** 'general' when no specialised class reaches minProcessScore. */
  assigned: ScoredClass;
  /** max(general evidence, 1 - best specialised score): how plainly "ordinary" it looks. */
  generalScore: number;
  /** Busy on CPU or holding a share of busy GPU time. */
  busy: boolean;
  evidence: ScoredEvidence[];
}

/** 1 - exp(-x): evidence adds up with diminishing returns; nothing or net-negative is 0. */
export function squash(x: number): number {
  return x > 0 ? 1 - Math.exp(-x) : 0;
}

export function zeroScores(): Record<ScoredClass, number> {
  return Object.fromEntries(WORKLOAD_CLASSES.map((c) => [c, 0])) as Record<ScoredClass, number>;
}

/** Behaviour that shows work on a cadence even while the average is low. */
const CADENCE_SIGNALS: ReadonlySet<string> = new Set(['beh.chain-slot-period', 'beh.recurrent-bursts', 'beh.periodic-reads']);

/** Behaviour alone reaches the class's floor (scoring.behaviourFloor; `default` for unnamed classes). */
export function reachesFloor(c: ScoredClass, behaviour: number, rules: Rules): boolean {
  const floors = rules.scoring.behaviourFloor;
  // Weights are rounded to 3 digits; 0.3 + 0.15 must reach a 0.45 floor.
  return behaviour >= (floors[c] ?? floors.default ?? 0) - 1e-9;
}

function assignedSpecialised(scores: Record<ScoredClass, number>, rules: Rules): boolean {
  return SPECIALISED.some((c) => scores[c] >= rules.scoring.minProcessScore);
}

export function assessProcess(p: ProcessFeatures, h: HostFeatures, rules: Rules, memo?: IdentityMemo): ProcessAssessment {
  const identity = identityEvidence(p, rules, memo);
  const behaviour = behaviourEvidence(p, h, rules, identity);
  const ports = portEvidence(p, rules, [...identity, ...behaviour]);
  const all = [...identity, ...behaviour, ...ports];

  // Identity (names, command line, libraries, environment, cgroup, exe markers, ports) may push a
  // class either way, but only up to scoring.identityCap in each direction: it costs nothing to
  // fake and a benign name can be put on a miner as easily as a miner's name on a benign tool.
  // Behaviour carries the verdict: a specialised class needs its behaviour alone to reach
  // scoring.behaviourFloor before it can be assigned at all.
  const identitySum = zeroScores();
  const behaviourSum = zeroScores();
  for (const e of all) {
    if (e.origin === 'behaviour') behaviourSum[e.supports] += e.weight;
    else identitySum[e.supports] += e.weight;
  }
  const cap = rules.scoring.identityCap;
  const scores = zeroScores();
  for (const c of WORKLOAD_CLASSES) {
    const s = squash(behaviourSum[c] + clamp(identitySum[c], -cap, cap));
    scores[c] = c === 'general' || reachesFloor(c, behaviourSum[c], rules) ? s : Math.min(s, rules.scoring.belowFloorCap);
  }

  // Ties go to the earlier class in WORKLOAD_CLASSES, so the result never depends on map order.
  let bestClass: ScoredClass = 'general';
  let best = 0;
  for (const c of SPECIALISED) {
    if (scores[c] > best) {
      best = scores[c];
      bestClass = c;
    }
  }
  const assigned: ScoredClass = best >= rules.scoring.minProcessScore ? bestClass : 'general';
  // A specialised process that is quiet on average but works on a cadence (a chain node waking
  // every slot, a prover between its 30 min deadlines) still counts as active: the host is not
  // idle, it is between slots or deadlines.
  const busy =
    p.cpu.mean >= rules.thresholds.busy.processCpuPct ||
    (p.gpu.utilShare > 0 && (h.gpuUtil?.mean ?? 0) >= rules.thresholds.idle.gpuUtilPct) ||
    (assignedSpecialised(scores, rules) && all.some((e) => e.weight > 0 && CADENCE_SIGNALS.has(e.signal)));
  return { features: p, scores, assigned, generalScore: Math.max(scores.general, 1 - best), busy, evidence: all };
}
