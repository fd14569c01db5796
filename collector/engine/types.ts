// Verdict types produced by the engine. The engine is pure: no I/O, no clock, no globals.
import type { IInventory, IProcessSignature, ISample } from '../../proto/codec.js';
import type { HistoryView } from './accumulate.js';

export const CLASSES = [
  'ai-training',
  'ai-inference',
  'chain-validation',
  'storage-proving',
  'pow-mining',
  'mixed',
  'idle',
  'general',
] as const;
export type WorkloadClass = (typeof CLASSES)[number];

/** Classes a process (or a host part) can be scored for; mixed/idle are host-level outcomes. */
export const WORKLOAD_CLASSES = ['ai-training', 'ai-inference', 'chain-validation', 'storage-proving', 'pow-mining', 'general'] as const;
export type ScoredClass = (typeof WORKLOAD_CLASSES)[number];

export interface EvidenceProcess {
  pid: number;
  name: string;
}

/** One reason behind a verdict, readable by a person. */
export interface Evidence {
  /** Stable signal id, e.g. `lib.cuda_dl`, `cpu.flatness`, `gpu.util_mean`, `proc.name`. */
  signal: string;
  /** The observed value (number with unit in `detail`, or the matched text). */
  value: string | number | boolean;
  /** The class this evidence pushes towards. */
  supports: ScoredClass | 'idle';
  /** Contribution to that class's score. */
  weight: number;
  /** Human sentence, e.g. "maps libcudnn.so.9 (cuDNN)". */
  detail: string;
  process?: EvidenceProcess;
}

export interface VerdictPart {
  class: ScoredClass;
  /** Share of the host's busy resources (CPU, GPU, power) held by this part, 0..1. */
  share: number;
  processes: EvidenceProcess[];
}

export interface Verdict {
  class: WorkloadClass;
  confidence: number;
  scores: Record<ScoredClass | 'idle', number>;
  parts: VerdictPart[];
  evidence: Evidence[];
  window: { fromMs: number; toMs: number; samples: number };
  /** Signals that could not be read (no GPU, no RAPL, no permission for sockets, ...). */
  unavailable: string[];
  rulesVersion: string;
}

/** What the engine needs for one host and one time window. */
export interface EngineWindow {
  /** Samples in time order (oldest first). */
  samples: ISample[];
  /** Process signatures keyed by `${pid}:${startTimeTicks}` (sent once per process, kept by the collector). */
  signatures: ReadonlyMap<string, IProcessSignature>;
  /** The host's inventory from Hello, when known (core count); optional. */
  inventory?: IInventory | null;
  /** Long-horizon history (bucketed, kept incrementally by HistoryAccumulator); optional. */
  history?: HistoryView | null;
}

export function processKey(pid: number, startTimeTicks: number): string {
  return `${pid}:${startTimeTicks}`;
}
