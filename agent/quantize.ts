// Figures the engine does not need at full precision, rounded before a sample is encoded: a rate
// of 3.997 or 4.002 page faults per second is 4 to every rule, and the noise in the low digits
// only makes identical entries differ (defeating the delta encoding of proto/payload.ts) and
// costs compressed bytes. Each entry: a field of a message and the step it is rounded to.
// What the engine reads and its thresholds (collector/engine/rules/default.yaml) were checked:
// the smallest rate threshold is far above one unit per second, and every rate the engine
// compares is a mean or median over many samples.
//
// Significant bits (significantBits = B): a figure of B + 1 bits or more is sent as the MIDPOINT
// of the interval of width 2^(e - B + 1) it lies in (e = its highest bit): its top B bits, then a
// 1 bit when any bit below was set (a "sticky" bit; a figure with nothing below is sent as it is).
// Relative error at most 2^-B and centred (truncation is off by up to twice that, always low),
// and every threshold T of at most B significant bits keeps its side EXACTLY, for >=, >, <= and <
// alike: T is a multiple of the interval width at its own magnitude, so x and its midpoint are
// both above T, both below, or both equal to it. The figure is monotone in x, so the maximum over
// a window is the maximum's figure, and a maximum compared with such a threshold (process memory
// against 256 MiB, 8 GiB, 32 GiB) reads exactly as before. What no bit count keeps exactly (a
// mean, a median or an interpolated p95 compared with a threshold, a ratio of means, periods) is
// checked by replay: test/engine/quantize.test.ts replays every corpus, synthetic and held-out
// trace as sent and requires the very same verdicts and confidences at every step.
import type { ISample } from '../proto/codec.js';

export interface Quantum {
  /** The list (or the one message: memory) of the Sample the field lives in. */
  list: 'processes' | 'disks' | 'net' | 'memory';
  field: string;
  /** Round to a multiple of this. */
  step: number;
  /**
   * Then keep only this many significant bits of the magnitude (values below 2^significantBits
   * are untouched): the midpoint of the interval (significantBits above), or truncated toward
   * zero with `truncate` (what agents did until this table; bench/payload-sizes.ts compares).
   */
  significantBits?: number;
  truncate?: boolean;
  /** Not sent at all: set to its default (0, ''), which protobuf does not encode. */
  unsent?: boolean;
}

// Process rates: 4 significant bits (at most 6.25 % off; 8 bits truncated, before: under 0.8 %).
// The engine uses them as means and medians over the window, ratios of those means to the
// process's CPU (I/O, context switches and faults per CPU-second against 64 KiB, 200, 2,000 and
// 16 MiB), interpolated p95s against 1 MiB/s and 20 MiB/s, and the periods and burst starts of
// their series (levels relative to the p95); no rule compares a single rate with a threshold.
// Replaying the corpus, synthetic and held-out traces gives the same verdicts and confidences at
// every step down to 2 significant bits (midpoint or truncated); at 1 bit (midpoint) one
// confidence moves (by 0.004): 4 bits keep a margin of 2. Measured on the recorded server host
// (bench/payload-sizes.ts, encoding 4, signatures by reference): 623 -> 585 B per sample; 3 bits
// would save 3 B more, 2 bits 11 B more.
const RATE_BITS = 4;

// Memory: the engine reads process RSS only as its maximum over the window against 32 GiB
// (large-memory), and anonymous RSS (plus huge pages) as its maximum against 256 MiB and 8 GiB
// (hash-memory): powers of two, which keep their side exactly (above) as long as the process has
// no huge pages (HugetlbPages is 0 unless it maps hugetlbfs; whole pages, sent as they are). With
// huge pages the sum can change sides only within 6.25 % of its anonymous part from a threshold.
// RSS is also what the dashboard's process table shows (one decimal below 100 units): 8 bits keep
// it within 0.4 %. Anonymous RSS is read by the engine alone: 4 bits (the hash-memory evidence
// "keeps 2.3 GiB resident" stays within 6.25 %). The replay test passes with both at 4 bits.
// Measured as above: 585 -> 573 B per sample.
const RSS_BITS = 8;
const RSS_ANON_BITS = 4;

// Not sent: the parent pid and the process state letter (R, S, D...). No rule reads either (the
// engine's features: features.ts, features-process.ts, sockets.ts, accumulate.ts), nor does the
// collector's window (compact-window.ts drops them), the API, the dashboard or a report; the agent
// reads them itself from /proc/PID/stat before this (probes/processes.ts). Yet they cost 15 B per
// sample on the recorded server host (the parent of each short-lived job, the state flipping
// between R and S): 573 -> 558. The uid, unread as well, costs 1.6 B and stays.

// Host memory in use, available, cached and swap in use: 8 significant bits (within 0.4 %). No rule
// reads them (the engine's host memory features are the total, a mean of the bytes in use that no
// rule compares, and huge page counts, sent as they are); the dashboard charts the bytes in use.
// The total is a constant, sent as it is. Measured as above: 558 -> 548 B per sample.
const HOST_MEMORY_BITS = 8;

export const QUANTA: readonly Quantum[] = [
  // Process I/O in whole bytes per second.
  { list: 'processes', field: 'readBytesPerSec', step: 1, significantBits: RATE_BITS },
  { list: 'processes', field: 'writeBytesPerSec', step: 1, significantBits: RATE_BITS },
  { list: 'processes', field: 'rcharPerSec', step: 1, significantBits: RATE_BITS },
  { list: 'processes', field: 'wcharPerSec', step: 1, significantBits: RATE_BITS },
  // Faults and context switches in whole events per second.
  { list: 'processes', field: 'minfltPerSec', step: 1, significantBits: RATE_BITS },
  { list: 'processes', field: 'majfltPerSec', step: 1, significantBits: RATE_BITS },
  { list: 'processes', field: 'voluntaryCtxswPerSec', step: 1, significantBits: RATE_BITS },
  { list: 'processes', field: 'nonvoluntaryCtxswPerSec', step: 1, significantBits: RATE_BITS },
  // Process memory in bytes (whole pages already).
  { list: 'processes', field: 'rssBytes', step: 1, significantBits: RSS_BITS },
  { list: 'processes', field: 'rssAnonBytes', step: 1, significantBits: RSS_ANON_BITS },
  { list: 'processes', field: 'ppid', step: 1, unsent: true },
  { list: 'processes', field: 'state', step: 1, unsent: true },
  { list: 'memory', field: 'usedBytes', step: 1, significantBits: HOST_MEMORY_BITS },
  { list: 'memory', field: 'availableBytes', step: 1, significantBits: HOST_MEMORY_BITS },
  { list: 'memory', field: 'cachedBytes', step: 1, significantBits: HOST_MEMORY_BITS },
  { list: 'memory', field: 'swapUsedBytes', step: 1, significantBits: HOST_MEMORY_BITS },
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

/** The highest bit of m >= 1 (Math.log2 alone can round up just below a power of two). */
function highBit(m: number): number {
  let e = Math.floor(Math.log2(m));
  if (2 ** e > m) e--;
  else if (2 ** (e + 1) <= m) e++;
  return e;
}

/** `x` with only its `bits` most significant bits (of its magnitude), truncated toward zero. */
export function significant(x: number, bits: number): number {
  const m = Math.abs(x);
  if (m < 2 ** bits) return x;
  const unit = 2 ** (highBit(m) - bits + 1);
  const kept = Math.floor(m / unit) * unit;
  return x < 0 ? -kept : kept;
}

/**
 * `x` as the midpoint of the interval of its `bits` most significant bits (of its magnitude),
 * unless nothing is below them (then `x`); values below 2^bits as they are. An integer stays an
 * integer.
 */
export function significantMidpoint(x: number, bits: number): number {
  const m = Math.abs(x);
  if (m < 2 ** bits) return x;
  const unit = 2 ** (highBit(m) - bits + 1);
  const kept = Math.floor(m / unit) * unit;
  const q = kept === m ? m : kept + unit / 2;
  return x < 0 ? -q : q;
}

const quantize = (x: number, q: Quantum): number => {
  if (q.unsent) return 0;
  const stepped = Math.round(x / q.step) * q.step;
  if (q.significantBits === undefined) return stepped;
  return q.truncate ? significant(stepped, q.significantBits) : significantMidpoint(stepped, q.significantBits);
};

/** What agents sent from earlier on 2026-12-07 until this table: process rates truncated to 8 significant bits, memory exact, ppid and state sent (bench/payload-sizes.ts compares). */
export const QUANTA_RATES_8_BITS: readonly Quantum[] = QUANTA.filter((q) => !q.unsent && q.list !== 'memory' && (q.list !== 'processes' || /PerSec$/.test(q.field))).map((q) =>
  q.significantBits === undefined ? q : { ...q, significantBits: 8, truncate: true },
);

/** What agents before 2026-12-07 did: whole units, no significant bits (bench/payload-sizes.ts compares). */
export const QUANTA_BEFORE_2026_12_07: readonly Quantum[] = QUANTA_RATES_8_BITS.map(({ significantBits: _bits, truncate: _t, ...q }) => q);

/** Rounds the fields of QUANTA in place; returns the sample. */
export function quantizeSample(sample: ISample): ISample {
  return quantizeWith(sample, QUANTA);
}

/** Rounds the fields of `quanta` in place; returns the sample. */
export function quantizeWith(sample: ISample, quanta: readonly Quantum[]): ISample {
  for (const q of quanta) {
    const at = sample[q.list];
    for (const entry of (Array.isArray(at) ? at : at ? [at] : []) as Array<Record<string, unknown>>) {
      const v = entry[q.field];
      if (q.unsent && typeof v === 'string') entry[q.field] = '';
      else if (typeof v === 'number' && Number.isFinite(v)) entry[q.field] = quantize(v, q);
    }
  }
  return sample;
}
