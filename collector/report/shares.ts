// Time and energy per class. Each sample stands for its piece of time (coverage.ts); the piece
// counts for the class of the verdict in force when it starts. Energy is the piece's length times
// the sample's power: RAPL package and DRAM zones plus each GPU's board power (summarize()).
import { summarize } from '../store/store.js';
import { CLASSES } from '../engine/types.js';
import type { Piece } from './coverage.js';
import { verdictAt, type VerdictInterval } from './timeline.js';
import { AI_CLASSES, NON_AI_CLASSES, type ClassShare, type Energy, type NonAi } from './types.js';

const MS_PER_KWH = 3_600_000 * 1000; // W·ms per kWh

const isNonAi = (c: string): boolean => (NON_AI_CLASSES as readonly string[]).includes(c);
const isAi = (c: string): boolean => (AI_CLASSES as readonly string[]).includes(c);

/** The share of a verdict that is non-AI (or AI): the whole verdict, or its parts for `mixed`. */
function shareOf(iv: VerdictInterval | null, test: (c: string) => boolean): number {
  if (!iv) return 0;
  if (test(iv.verdict.class)) return 1;
  if (iv.verdict.class !== 'mixed') return 0;
  return Math.min(1, iv.verdict.parts.filter((p) => test(p.class)).reduce((a, p) => a + p.share, 0));
}

export interface Shares {
  classes: ClassShare[];
  energy: Energy;
  nonAi: NonAi;
  aiShare: number;
}

export function shares(covered: readonly Piece[], intervals: readonly VerdictInterval[]): Shares {
  const time = new Map<string, number>();
  const energyWms = new Map<string, number>();
  let coveredMs = 0;
  let measuredMs = 0;
  let totalWms = 0;
  let nonAiMs = 0;
  let aiMs = 0;
  for (const p of covered) {
    const ms = p.toMs - p.fromMs;
    const iv = verdictAt(intervals, p.fromMs);
    const cls = iv?.verdict.class ?? 'unclassified';
    coveredMs += ms;
    time.set(cls, (time.get(cls) ?? 0) + ms);
    nonAiMs += ms * shareOf(iv, isNonAi);
    aiMs += ms * shareOf(iv, isAi);
    const watts = summarize(p.row.seq, p.row.sample).powerWatts;
    if (watts !== null) {
      measuredMs += ms;
      totalWms += watts * ms;
      energyWms.set(cls, (energyWms.get(cls) ?? 0) + watts * ms);
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
  return {
    classes,
    energy: { available, totalKwh: available ? totalWms / MS_PER_KWH : null, measuredMs, note },
    nonAi: { share: coveredMs > 0 ? nonAiMs / coveredMs : 0, ...nonAiRuns(intervals) },
    aiShare: coveredMs > 0 ? aiMs / coveredMs : 0,
  };
}

/** Stretches where the verdicts say non-AI (a non-AI class, or a mixed verdict with a non-AI part). */
function nonAiRuns(intervals: readonly VerdictInterval[]): Pick<NonAi, 'longestRunMs' | 'runs'> {
  const runs: NonAi['runs'] = [];
  for (const iv of intervals) {
    if (shareOf(iv, isNonAi) === 0) continue;
    const cls = iv.verdict.class === 'mixed' ? `mixed (${iv.verdict.parts.filter((p) => isNonAi(p.class)).map((p) => p.class).join(', ')})` : iv.verdict.class;
    const last = runs.at(-1);
    if (last && last.toMs === iv.fromMs) {
      last.toMs = iv.toMs;
      if (!last.class.split(' + ').includes(cls)) last.class += ` + ${cls}`;
    } else runs.push({ fromMs: iv.fromMs, toMs: iv.toMs, class: cls });
  }
  return { longestRunMs: runs.reduce((m, r) => Math.max(m, r.toMs - r.fromMs), 0), runs };
}
