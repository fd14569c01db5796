// Time and energy per class, and the statement's split of the covered time. Each sample stands
// for its piece of time (coverage.ts); the piece counts for the verdict in force when it starts.
// Energy is the piece's length times the sample's power: RAPL package and DRAM zones plus each
// GPU's board power (summarize()).
//
// The split: a verdict's time is AI (ai-training, ai-inference), non-AI (pow-mining,
// chain-validation, storage-proving) or idle/general; a mixed verdict splits by its parts' shares
// (what its parts do not cover is idle/general). Non-AI time of a verdict whose confidence is
// below thresholds.minConfidence is doubtful, kept apart from the confident non-AI time. Covered
// time without a verdict is unclassified (classes). The five shares sum to 1.
import { summarize } from '../store/store.js';
import { CLASSES } from '../engine/types.js';
import type { Piece } from './coverage.js';
import { nonAiRuns } from './non-ai-runs.js';
import { doubtful, isAi, isNonAi, shareOf } from './split.js';
import { verdictAt, type VerdictInterval } from './timeline.js';
import type { ClassShare, Energy, NonAi } from './types.js';

const MS_PER_KWH = 3_600_000 * 1000; // W·ms per kWh

export interface Shares {
  classes: ClassShare[];
  energy: Energy;
  nonAi: NonAi;
  aiShare: number;
  idleGeneralShare: number;
}

export function shares(covered: readonly Piece[], intervals: readonly VerdictInterval[], minConfidence: number): Shares {
  const time = new Map<string, number>();
  const energyWms = new Map<string, number>();
  let coveredMs = 0;
  let measuredMs = 0;
  let totalWms = 0;
  const ms = { ai: 0, nonAi: 0, doubtfulNonAi: 0, idleGeneral: 0 };
  for (const p of covered) {
    const len = p.toMs - p.fromMs;
    const iv = verdictAt(intervals, p.fromMs);
    const cls = iv?.verdict.class ?? 'unclassified';
    coveredMs += len;
    time.set(cls, (time.get(cls) ?? 0) + len);
    if (iv) {
      const ai = shareOf(iv, isAi);
      const nonAi = Math.min(1 - ai, shareOf(iv, isNonAi));
      ms.ai += len * ai;
      if (doubtful(iv, minConfidence)) ms.doubtfulNonAi += len * nonAi;
      else ms.nonAi += len * nonAi;
      const rest = 1 - ai - nonAi;
      ms.idleGeneral += len * (rest > 1e-9 ? rest : 0); // parts summing to 1 in floating point
    }
    const watts = summarize(p.row.seq, p.row.sample).powerWatts;
    if (watts !== null) {
      measuredMs += len;
      totalWms += watts * len;
      energyWms.set(cls, (energyWms.get(cls) ?? 0) + watts * len);
    }
  }
  const available = measuredMs > 0;
  const order = [...CLASSES, 'unclassified'] as const;
  const classes: ClassShare[] = order
    .filter((c) => (time.get(c) ?? 0) > 0)
    .map((c) => ({
      class: c,
      timeMs: time.get(c)!,
      timeShare: coveredMs > 0 ? time.get(c)! / coveredMs : 0,
      energyKwh: available ? (energyWms.get(c) ?? 0) / MS_PER_KWH : null,
      energyShare: available && totalWms > 0 ? (energyWms.get(c) ?? 0) / totalWms : null,
    }));
  const note = !available
    ? 'power unavailable: no RAPL or GPU power readings in the samples (RAPL usually needs root; GPUs need nvidia-smi / rocm-smi)'
    : measuredMs < coveredMs
      ? `power measured for ${((100 * measuredMs) / coveredMs).toFixed(1)} % of the covered time; energy counts only that time`
      : 'power measured for all covered time (RAPL package + DRAM, GPU board power)';
  const of = (x: number): number => (coveredMs > 0 ? x / coveredMs : 0);
  return {
    classes,
    energy: { available, totalKwh: available ? totalWms / MS_PER_KWH : null, measuredMs, note },
    nonAi: { share: of(ms.nonAi), doubtfulShare: of(ms.doubtfulNonAi), ...nonAiRuns(intervals, minConfidence) },
    aiShare: of(ms.ai),
    idleGeneralShare: of(ms.idleGeneral),
  };
}
