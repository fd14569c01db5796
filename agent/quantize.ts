// Figures the engine does not need at full precision, rounded before a sample is encoded: a rate
// of 3.997 or 4.002 page faults per second is 4 to every rule, and the noise in the low digits
// only makes identical entries differ (defeating the delta encoding of proto/payload.ts) and
// costs compressed bytes. Each entry: a field of a message and the step it is rounded to.
// What the engine reads and its thresholds (collector/engine/rules/default.yaml) were checked:
// the smallest rate threshold is far above one unit per second, and every rate the engine
// compares is a mean or median over many samples.
//
// Per-process rates also keep only their 8 most significant bits (a relative step under 0.8 %,
// e.g. 1,523,432 B/s is sent as 1,515,520): their low digits change every second and cost about
// 30 B per sample on the recorded server host (bench/payload-sizes.ts) while no rule can see
// them. They are truncated toward zero, not rounded: every threshold the rules compare a raw rate
// with is a power of two (1 MiB/s, 16 MiB/s) or a ratio of means, and truncation to a
// power-of-two step keeps `rate >= 2^k` true exactly when it was (rounding up to 2^k would not).
import type { ISample } from '../proto/codec.js';

export interface Quantum {
  /** The list of the Sample the field lives in. */
  list: 'processes' | 'disks' | 'net';
  field: string;
  /** Round to a multiple of this. */
  step: number;
  /**
   * Then keep only this many significant bits of the magnitude, truncating toward zero (values
   * below 2^significantBits are untouched).
   */
  significantBits?: number;
}

export const QUANTA: readonly Quantum[] = [
  // Process I/O in whole bytes per second, 8 significant bits.
  { list: 'processes', field: 'readBytesPerSec', step: 1, significantBits: 8 },
  { list: 'processes', field: 'writeBytesPerSec', step: 1, significantBits: 8 },
  { list: 'processes', field: 'rcharPerSec', step: 1, significantBits: 8 },
  { list: 'processes', field: 'wcharPerSec', step: 1, significantBits: 8 },
  // Faults and context switches in whole events per second, 8 significant bits.
  { list: 'processes', field: 'minfltPerSec', step: 1, significantBits: 8 },
  { list: 'processes', field: 'majfltPerSec', step: 1, significantBits: 8 },
  { list: 'processes', field: 'voluntaryCtxswPerSec', step: 1, significantBits: 8 },
  { list: 'processes', field: 'nonvoluntaryCtxswPerSec', step: 1, significantBits: 8 },
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

/** `x` with only its `bits` most significant bits (of its magnitude), truncated toward zero. */
export function significant(x: number, bits: number): number {
  const m = Math.abs(x);
  if (m < 2 ** bits) return x;
  const unit = 2 ** (Math.floor(Math.log2(m)) - bits + 1);
  const kept = Math.floor(m / unit) * unit;
  return x < 0 ? -kept : kept;
}

const quantize = (x: number, q: Quantum): number => {
  const stepped = Math.round(x / q.step) * q.step;
  return q.significantBits === undefined ? stepped : significant(stepped, q.significantBits);
};

/** What agents before 2026-12-07 did: whole units, no significant-bit truncation (bench/payload-sizes.ts compares). */
export const QUANTA_BEFORE_2026_12_07: readonly Quantum[] = QUANTA.map(({ significantBits: _bits, ...q }) => q);

/** Rounds the fields of QUANTA in place; returns the sample. */
export function quantizeSample(sample: ISample): ISample {
  return quantizeWith(sample, QUANTA);
}

/** Rounds the fields of `quanta` in place; returns the sample. */
export function quantizeWith(sample: ISample, quanta: readonly Quantum[]): ISample {
  for (const q of quanta) {
    for (const entry of (sample[q.list] ?? []) as Array<Record<string, unknown>>) {
      const v = entry[q.field];
      if (typeof v === 'number' && Number.isFinite(v)) entry[q.field] = quantize(v, q);
    }
  }
  return sample;
}
