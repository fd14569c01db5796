// Figures the engine does not need at full precision, rounded before a sample is encoded: a rate
// of 3.997 or 4.002 page faults per second is 4 to every rule, and the noise in the low digits
// only makes identical entries differ (defeating the delta encoding of proto/payload.ts) and
// costs compressed bytes. Each entry: a field of a message and the step it is rounded to.
// What the engine reads and its thresholds (collector/engine/rules/default.yaml) were checked:
// the smallest rate threshold is far above one unit per second, and every rate the engine
// compares is a mean or median over many samples.
import type { ISample } from '../proto/codec.js';

export interface Quantum {
  /** The list of the Sample the field lives in. */
  list: 'processes' | 'disks' | 'net';
  field: string;
  /** Round to a multiple of this. */
  step: number;
}

export const QUANTA: readonly Quantum[] = [
  // Process I/O in whole bytes per second.
  { list: 'processes', field: 'readBytesPerSec', step: 1 },
  { list: 'processes', field: 'writeBytesPerSec', step: 1 },
  { list: 'processes', field: 'rcharPerSec', step: 1 },
  { list: 'processes', field: 'wcharPerSec', step: 1 },
  // Faults and context switches in whole events per second.
  { list: 'processes', field: 'minfltPerSec', step: 1 },
  { list: 'processes', field: 'majfltPerSec', step: 1 },
  { list: 'processes', field: 'voluntaryCtxswPerSec', step: 1 },
  { list: 'processes', field: 'nonvoluntaryCtxswPerSec', step: 1 },
  // Host disk and network rates in whole bytes (operations, packets) per second.
  { list: 'disks', field: 'readBytesPerSec', step: 1 },
  { list: 'disks', field: 'writeBytesPerSec', step: 1 },
  { list: 'disks', field: 'readsPerSec', step: 1 },
  { list: 'disks', field: 'writesPerSec', step: 1 },
  { list: 'net', field: 'rxBytesPerSec', step: 1 },
  { list: 'net', field: 'txBytesPerSec', step: 1 },
  { list: 'net', field: 'rxPacketsPerSec', step: 1 },
  { list: 'net', field: 'txPacketsPerSec', step: 1 },
];

const quantize = (x: number, step: number): number => Math.round(x / step) * step;

/** Rounds the fields of QUANTA in place; returns the sample. */
export function quantizeSample(sample: ISample): ISample {
  for (const q of QUANTA) {
    for (const entry of (sample[q.list] ?? []) as Array<Record<string, unknown>>) {
      const v = entry[q.field];
      if (typeof v === 'number' && Number.isFinite(v)) entry[q.field] = quantize(v, q.step);
    }
  }
  return sample;
}
