// The one small interface every probe implements (modelled on node_exporter's collector/).
import type { ISample } from '../../proto/codec.js';
import type { SentSignatures } from '../signature-refs.js';

/** Where probes read from. Tests point these at fixture trees under test/fixtures/. */
export interface ProbeConfig {
  /** procfs root, default `/proc`. */
  procRoot: string;
  /** sysfs root, default `/sys`. */
  sysRoot: string;
  /** nvidia-smi executable (a path or a name on PATH). */
  nvidiaSmi: string;
  /** rocm-smi executable. */
  rocmSmi: string;
  /** Most processes reported per sample: the busiest by CPU, then by RSS. */
  maxProcesses: number;
  /** Longest command line sent, in bytes; longer ones are cut and flagged. */
  maxCmdlineBytes: number;
  /**
   * The agent streaming to a collector: the signatures it sent in full, so that repeats are sent
   * as references (../signature-refs.ts). Absent (scan, record): every signature in full.
   */
  sentSignatures?: SentSignatures;
}

export const defaultProbeConfig: ProbeConfig = {
  procRoot: '/proc',
  sysRoot: '/sys',
  nvidiaSmi: 'nvidia-smi',
  rocmSmi: 'rocm-smi',
  maxProcesses: 64,
  maxCmdlineBytes: 4096,
};

/** Part of a Sample contributed by one probe. */
export type ProbeOutput = Partial<ISample>;

/** A probe that could not read this time says why instead of throwing. */
export interface Unavailable {
  unavailable: string;
}

export function unavailable(reason: string): Unavailable {
  return { unavailable: reason };
}

export function isUnavailable(x: ProbeOutput | Unavailable): x is Unavailable {
  return typeof (x as Unavailable).unavailable === 'string';
}

export interface Probe {
  readonly name: string;
  /**
   * One reading. Probes that need a previous reading (counters) keep it themselves and return
   * rates; their first call may return an empty output. `nowMs` is the sample's timestamp.
   */
  collect(nowMs: number): Promise<ProbeOutput | Unavailable>;
}

/** Builds a probe for a configuration; registered in probes/index.ts. */
export type ProbeFactory = (config: ProbeConfig) => Probe;
