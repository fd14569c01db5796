// The long-horizon accumulator as it was before its storage was compacted (issue 10), kept only
// as the reference that test/engine/accumulate-compact.test.ts compares the engine's one against.
// Multi-horizon history kept incrementally: one ring of time buckets per horizon (e.g. 60 s at
// 1 s, 10 min at 10 s, 60 min at 60 s). Each sample is folded into the current bucket of every
// horizon in O(processes in the sample); old buckets fall off the front. Reading a horizon costs
// O(buckets x processes asked for), never a re-read of the samples, so a 60 min horizon at 1 Hz
// is as cheap to evaluate as a 1 min one.
//
// Pure given its inputs: no clock (time is the samples' tsMs), no I/O, no globals. The same
// samples in the same order always give the same history.
import type { ISample } from '../../proto/codec.js';
import { num } from '../../collector/engine/stats.js';
import { processKey } from '../../collector/engine/types.js';

export interface HorizonSpec {
  name: string;
  spanMs: number;
  bucketMs: number;
  /** Cycles a period must repeat inside this horizon (2 lets a 60 min horizon see a 30 min deadline). */
  minCycles: number;
}

interface ProcBucket {
  name: string;
  n: number;
  cpuSum: number;
  cpuMax: number;
  rssMax: number;
  threadsMax: number;
  readSum: number;
  writeSum: number;
}

interface Bucket {
  index: number;
  n: number;
  cpuSum: number;
  cpuMax: number;
  gpuSum: number;
  gpuN: number;
  readSum: number;
  writeSum: number;
  procs: Map<string, ProcBucket>;
}

/** One process over one horizon: bucket-mean series aligned with the horizon's buckets (0 = absent). */
export interface ProcessHorizonSeries {
  name: string;
  /** Buckets in which the process was seen. */
  bucketsPresent: number;
  cpuMeanPct: number[];
  readBytesPerSec: number[];
  writeBytesPerSec: number[];
  rssBytesMax: number;
  threadsMax: number;
}

/** One horizon's bucket series, oldest first; empty buckets (no samples) read 0 and count as not covered. */
export interface HorizonSeries {
  name: string;
  spanMs: number;
  bucketMs: number;
  minCycles: number;
  fromMs: number;
  toMs: number;
  /** Buckets that received at least one sample. */
  bucketsCovered: number;
  cpuMeanPct: number[];
  cpuMaxPct: number[];
  /** Mean GPU utilisation over the host's GPUs (0 without GPUs). */
  gpuUtilPct: number[];
  gpuSeen: boolean;
  readBytesPerSec: number[];
  writeBytesPerSec: number[];
  processes: Map<string, ProcessHorizonSeries>;
}

export interface HistoryView {
  horizons: HorizonSeries[];
}

function emptyBucket(index: number): Bucket {
  return { index, n: 0, cpuSum: 0, cpuMax: 0, gpuSum: 0, gpuN: 0, readSum: 0, writeSum: 0, procs: new Map() };
}

function fold(b: Bucket, s: ISample): void {
  const cpu = num(s.cpu?.totalPct);
  b.n++;
  b.cpuSum += cpu;
  b.cpuMax = Math.max(b.cpuMax, cpu);
  const gpus = (s.gpus ?? []).filter((g) => g);
  if (gpus.length > 0) {
    b.gpuSum += gpus.reduce((a, g) => a + num(g.utilPct), 0) / gpus.length;
    b.gpuN++;
  }
  for (const d of s.disks ?? []) {
    b.readSum += num(d?.readBytesPerSec);
    b.writeSum += num(d?.writeBytesPerSec);
  }
  for (const p of s.processes ?? []) {
    if (!p) continue;
    const key = processKey(num(p.pid), num(p.startTimeTicks));
    let pb = b.procs.get(key);
    if (!pb) b.procs.set(key, (pb = { name: p.name ?? '', n: 0, cpuSum: 0, cpuMax: 0, rssMax: 0, threadsMax: 0, readSum: 0, writeSum: 0 }));
    const c = Math.max(0, num(p.cpuPct));
    pb.n++;
    pb.cpuSum += c;
    pb.cpuMax = Math.max(pb.cpuMax, c);
    pb.rssMax = Math.max(pb.rssMax, num(p.rssBytes));
    pb.threadsMax = Math.max(pb.threadsMax, num(p.threads));
    pb.readSum += Math.max(0, num(p.readBytesPerSec));
    pb.writeSum += Math.max(0, num(p.writeBytesPerSec));
  }
}

class Horizon {
  /** Buckets oldest first, contiguous by index (gaps filled with empty buckets). */
  private readonly buckets: Bucket[] = [];
  private readonly capacity: number;

  constructor(readonly spec: HorizonSpec) {
    this.capacity = Math.max(1, Math.ceil(spec.spanMs / spec.bucketMs));
  }

  add(s: ISample): void {
    const index = Math.floor(num(s.tsMs) / this.spec.bucketMs);
    const last = this.buckets.at(-1);
    if (last && index < last.index) {
      // Late sample: folded into its bucket if that bucket is still held, else dropped.
      const b = this.buckets[index - (this.buckets[0]?.index ?? 0)];
      if (b && b.index === index) fold(b, s);
      return;
    }
    if (!last || index > last.index) {
      // A long gap restarts the ring rather than filling it with thousands of empty buckets.
      if (last && index - last.index > this.capacity) this.buckets.length = 0;
      for (let i = (this.buckets.at(-1)?.index ?? index - 1) + 1; i <= index; i++) this.buckets.push(emptyBucket(i));
      while (this.buckets.length > this.capacity) this.buckets.shift();
    }
    const head = this.buckets.at(-1);
    if (head) fold(head, s);
  }

  /** The horizon's series; per-process series only for `keys` (the processes the engine looks at). */
  view(keys: ReadonlySet<string> | null): HorizonSeries {
    const bs = this.buckets;
    const avg = (sum: number, n: number): number => (n > 0 ? sum / n : 0);
    const processes = new Map<string, ProcessHorizonSeries>();
    const wanted = keys ?? new Set(bs.flatMap((b) => [...b.procs.keys()]));
    for (const key of wanted) {
      let seen = 0;
      let name = '';
      let rss = 0;
      let threads = 0;
      const cpu: number[] = [];
      const rd: number[] = [];
      const wr: number[] = [];
      for (const b of bs) {
        const p = b.procs.get(key);
        // A process dropped by the agent's per-sample cap reads 0 for the samples it missed.
        cpu.push(p ? p.cpuSum / Math.max(1, b.n) : 0);
        rd.push(p ? p.readSum / Math.max(1, b.n) : 0);
        wr.push(p ? p.writeSum / Math.max(1, b.n) : 0);
        if (!p) continue;
        seen++;
        name ||= p.name;
        rss = Math.max(rss, p.rssMax);
        threads = Math.max(threads, p.threadsMax);
      }
      if (seen > 0) processes.set(key, { name, bucketsPresent: seen, cpuMeanPct: cpu, readBytesPerSec: rd, writeBytesPerSec: wr, rssBytesMax: rss, threadsMax: threads });
    }
    const first = bs[0];
    const last = bs.at(-1);
    return {
      name: this.spec.name,
      spanMs: this.spec.spanMs,
      bucketMs: this.spec.bucketMs,
      minCycles: this.spec.minCycles,
      fromMs: first ? first.index * this.spec.bucketMs : 0,
      toMs: last ? (last.index + 1) * this.spec.bucketMs : 0,
      bucketsCovered: bs.filter((b) => b.n > 0).length,
      cpuMeanPct: bs.map((b) => avg(b.cpuSum, b.n)),
      cpuMaxPct: bs.map((b) => b.cpuMax),
      gpuUtilPct: bs.map((b) => avg(b.gpuSum, b.gpuN)),
      gpuSeen: bs.some((b) => b.gpuN > 0),
      readBytesPerSec: bs.map((b) => avg(b.readSum, b.n)),
      writeBytesPerSec: bs.map((b) => avg(b.writeSum, b.n)),
      processes,
    };
  }
}

/** Folds samples into every horizon; `view` reads them. */
export class HistoryAccumulator {
  private readonly horizons: Horizon[];

  constructor(specs: readonly HorizonSpec[]) {
    this.horizons = specs.map((s) => new Horizon(s));
  }

  add(sample: ISample): void {
    if (num(sample.tsMs) <= 0) return;
    for (const h of this.horizons) h.add(sample);
  }

  view(keys: ReadonlySet<string> | null = null): HistoryView {
    return { horizons: this.horizons.map((h) => h.view(keys)) };
  }
}
