// The classifying half of the evaluation, kept apart from the truth so that no label can leak
// into a verdict: a trace is split into what the collector would see live (samples, sample
// interval, inventory) and what only the scorer may know (label, expected parts, provenance,
// evasion, description, file name). `classifyTrace` is the only place the eval replays samples
// through the engine, and its input type has no field that could carry the answer; the label is
// joined afterwards, in eval-score.ts. test/eval/label-independence.test.ts proves it end to end.
import { defaultClassifierOptions } from '../collector/classifier.js';
import type { Rules } from '../collector/engine/index.js';
import { replay, type ReplayStep } from '../collector/replay.js';
import type { IInventory, ISample } from '../proto/codec.js';
import type { TraceHeader } from '../proto/trace.js';
import { nameBlindSamples } from './name-blind.js';

/** What the engine is given: exactly what a live collector would have for the host. */
export interface TraceInput {
  readonly samples: readonly ISample[];
  /** The agent's sample interval (the replay itself paces by the samples' timestamps). */
  readonly intervalMs: number;
  readonly inventory: IInventory | null;
}

/** What the scorer alone knows about a trace. */
export interface TraceTruth {
  /** Path shown in the report (relative to the corpus root). */
  readonly file: string;
  readonly label: string;
  readonly expectParts: readonly string[] | undefined;
  readonly provenance: TraceHeader['provenance'];
  readonly evasion: string | null;
  readonly description: string;
}

/** How the samples are presented to the engine: as recorded, or with every identity field neutral (bench/name-blind.ts). */
export type EvalMode = 'recorded' | 'name-blind';
export const EVAL_MODES: readonly EvalMode[] = ['recorded', 'name-blind'];

export function splitTrace(file: string, trace: { header: TraceHeader; samples: ISample[] }): { input: TraceInput; truth: TraceTruth } {
  const h = trace.header;
  return {
    input: { samples: trace.samples, intervalMs: h.intervalMs, inventory: h.inventory },
    truth: { file, label: h.label, expectParts: h.expectParts, provenance: h.provenance, evasion: h.evasion ?? null, description: h.description ?? '' },
  };
}

/** Replays the input through the engine as the collector would (window, cadence, history, hysteresis). */
export function classifyTrace(input: TraceInput, rules: Rules, mode: EvalMode): ReplayStep[] {
  const samples = mode === 'name-blind' ? nameBlindSamples(input.samples) : [...input.samples];
  return replay(samples, rules, defaultClassifierOptions, input.inventory);
}
