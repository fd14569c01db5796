// Multi-horizon history kept incrementally: one ring of time buckets per horizon (e.g. 60 s at
// 1 s, 10 min at 10 s, 60 min at 60 s). Each sample is folded into the current bucket of every
// horizon in O(processes in the sample); old buckets fall off the front. Reading a horizon costs
// O(buckets x processes asked for), never a re-read of the samples, so a 60 min horizon at 1 Hz
// is as cheap to evaluate as a 1 min one.
//
// Pure given its inputs: no clock (time is the samples' tsMs), no I/O, no globals. The same
// samples in the same order always give the same history.
//
// Storage (issue 10: the collector holds one accumulator per connected host): a bucket keeps its
// processes as parallel arrays (interned key and name strings, F unboxed numbers each) instead of
// a Map of objects: ~60-90 B per process per bucket instead of ~265 B, the same figures (the per-process
// sample count and CPU maximum, never read, are not kept).
import type { ISample } from '../../proto/codec.js';
import { num } from './stats.js';
import { processKey } from './types.js';

export interface HorizonSpec {
  name: string;
  spanMs: number;
  bucketMs: number;
  /** Cycles a period must repeat inside this horizon (2 lets a 60 min horizon see a 30 min deadline). */
  minCycles: number;
}

/**
 * Per-process figures in a bucket, F numbers each: cpu sum, rss max, threads max, read sum, write
 * sum (what view() reads: a process's means divide by the bucket's sample count).
 */
const F = 5;

interface Bucket {
  index: number;
  n: number;
  cpuSum: number;
  cpuMax: number;
  gpuSum: number;
  gpuN: number;
  readSum: number;
  writeSum: number;
  /** Processes in the order first seen in the bucket: key, name at first sight, figures at F * i. */
  keys: string[];
  names: string[];
  v: number[];
  /** key -> position while the bucket is the newest (late samples into older buckets search `keys`). */
  at: Map<string, number> | null;
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
  return { index, n: 0, cpuSum: 0, cpuMax: 0, gpuSum: 0, gpuN: 0, readSum: 0, writeSum: 0, keys: [], names: [], v: [], at: new Map() };
}

/** A bucket no longer the newest: its lookup map goes and its arrays are cut to size. */
function freeze(b: Bucket): void {
  if (!b.at) return;
  b.at = null;
  b.keys = b.keys.slice();
  b.names = b.names.slice();
  b.v = b.v.slice();
}

/** One string per distinct key or name, shared by every bucket that holds it. */
type Intern = (s: string) => string;

function fold(b: Bucket, s: ISample, intern: Intern): void {
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
    let i = b.at ? b.at.get(key) : b.keys.indexOf(key);
    if (i === undefined || i < 0) {
      i = b.keys.length;
      const k = intern(key);
      b.keys.push(k);
      b.names.push(intern(p.name ?? ''));
      b.v.push(0, 0, 0, 0, 0);
      b.at?.set(k, i);
    }
    const v = b.v;
    const o = i * F;
    v[o]! += Math.max(0, num(p.cpuPct));
    v[o + 1] = Math.max(v[o + 1]!, num(p.rssBytes));
    v[o + 2] = Math.max(v[o + 2]!, num(p.threads));
    v[o + 3]! += Math.max(0, num(p.readBytesPerSec));
    v[o + 4]! += Math.max(0, num(p.writeBytesPerSec));
  }
}

class Horizon {
  /** Buckets oldest first, contiguous by index (gaps filled with empty buckets). */
  private buckets: Bucket[] = [];
  private readonly capacity: number;
  /** Indices of the first and last bucket held (a derived horizon keeps only these). */
  private first = NaN;
  private last = NaN;

  constructor(
    readonly spec: HorizonSpec,
    private readonly intern: Intern,
    /** Derived: no buckets are kept; view() refolds them from the caller's recent samples. */
    readonly derived = false,
  ) {
    this.capacity = Math.max(1, Math.ceil(spec.spanMs / spec.bucketMs));
  }

  /** Span the buckets cover, in ms: recent samples reaching this far back rebuild a derived horizon exactly. */
  get coverMs(): number {
    return this.capacity * this.spec.bucketMs;
  }

  /** The ring's first and last bucket index after a sample at `index` (as add() moves them). */
  private track(index: number): void {
    if (Number.isNaN(this.last)) {
      this.first = this.last = index;
      return;
    }
    if (index <= this.last) return;
    if (index - this.last > this.capacity) this.first = index;
    this.last = index;
    this.first = Math.max(this.first, this.last - this.capacity + 1);
  }

  /**
   * The buckets of a derived horizon, folded again from `recent` (in arrival order): every
   * sample added since the ring's first bucket must be among them, as when the raw window
   * reaches further back than the horizon (a sample older than the first bucket is skipped, as
   * add() dropped it).
   */
  private refold(recent: readonly ISample[]): Bucket[] {
    if (Number.isNaN(this.last)) return [];
    const bs: Bucket[] = [];
    for (let i = this.first; i <= this.last; i++) bs.push(emptyBucket(i));
    for (const s of recent) {
      if (num(s.tsMs) <= 0) continue;
      const index = Math.floor(num(s.tsMs) / this.spec.bucketMs);
      if (index >= this.first && index <= this.last) fold(bs[index - this.first]!, s, (x) => x);
    }
    return bs;
  }

  /** Keys and names the buckets hold (the intern table keeps only these when it is rebuilt). */
  strings(into: Set<string>): void {
    for (const b of this.buckets) {
      for (const k of b.keys) into.add(k);
      for (const n of b.names) into.add(n);
    }
  }

  add(s: ISample): void {
    const index = Math.floor(num(s.tsMs) / this.spec.bucketMs);
    this.track(index);
    if (this.derived) return;
    const last = this.buckets.at(-1);
    if (last && index < last.index) {
      // Late sample: folded into its bucket if that bucket is still held, else dropped.
      const b = this.buckets[index - (this.buckets[0]?.index ?? 0)];
      if (b && b.index === index) fold(b, s, this.intern);
      return;
    }
    if (!last || index > last.index) {
      // A long gap restarts the ring rather than filling it with thousands of empty buckets.
      if (last && index - last.index > this.capacity) this.buckets.length = 0;
      for (let i = (this.buckets.at(-1)?.index ?? index - 1) + 1; i <= index; i++) {
        if (this.buckets.length) freeze(this.buckets.at(-1)!);
        this.buckets.push(emptyBucket(i));
      }
      while (this.buckets.length > this.capacity) this.buckets.shift();
    }
    const head = this.buckets.at(-1);
    if (head) fold(head, s, this.intern);
  }

  /** The horizon's series; per-process series only for `keys` (the processes the engine looks at). */
  view(keys: ReadonlySet<string> | null, recent: readonly ISample[] | null): HorizonSeries {
    if (this.derived && !recent) throw new Error(`history horizon ${this.spec.name} is derived from the recent samples: view() needs them`);
    const bs = this.derived ? this.refold(recent!) : this.buckets;
    const avg = (sum: number, n: number): number => (n > 0 ? sum / n : 0);
    const processes = new Map<string, ProcessHorizonSeries>();
    const wanted = keys ?? new Set(bs.flatMap((b) => b.keys));
    // One pass over the buckets' entries; a process dropped by the agent's per-sample cap reads 0
    // for the buckets it missed.
    const acc = new Map<string, { seen: number; name: string; rss: number; threads: number; cpu: number[]; rd: number[]; wr: number[] }>();
    bs.forEach((b, j) => {
      const div = Math.max(1, b.n);
      for (let i = 0; i < b.keys.length; i++) {
        const key = b.keys[i]!;
        if (!wanted.has(key)) continue;
        let a = acc.get(key);
        if (!a) acc.set(key, (a = { seen: 0, name: '', rss: 0, threads: 0, cpu: new Array<number>(bs.length).fill(0), rd: new Array<number>(bs.length).fill(0), wr: new Array<number>(bs.length).fill(0) }));
        const o = i * F;
        a.cpu[j] = b.v[o]! / div;
        a.rd[j] = b.v[o + 3]! / div;
        a.wr[j] = b.v[o + 4]! / div;
        a.seen++;
        a.name ||= b.names[i]!;
        a.rss = Math.max(a.rss, b.v[o + 1]!);
        a.threads = Math.max(a.threads, b.v[o + 2]!);
      }
    });
    for (const key of wanted) {
      const a = acc.get(key);
      if (a) processes.set(key, { name: a.name, bucketsPresent: a.seen, cpuMeanPct: a.cpu, readBytesPerSec: a.rd, writeBytesPerSec: a.wr, rssBytesMax: a.rss, threadsMax: a.threads });
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

/**
 * Folds samples into every horizon; `view` reads them. With `recentMs` (the caller keeps every
 * sample of that span itself, e.g. the classifier's raw window), horizons whose buckets span no
 * more than it keep no buckets: their view is folded again from the caller's samples, the same
 * figures without holding them twice.
 */
export class HistoryAccumulator {
  private readonly horizons: Horizon[];
  /** Interned keys and names; rebuilt from what the buckets hold when it doubles (bounded by them). */
  private strings = new Map<string, string>();
  private stringsLimit = 1024;

  constructor(specs: readonly HorizonSpec[], recentMs = 0) {
    const intern = (x: string): string => {
      const known = this.strings.get(x);
      if (known !== undefined) return known;
      this.strings.set(x, x);
      return x;
    };
    this.horizons = specs.map((s) => {
      const h = new Horizon(s, intern);
      return h.coverMs <= recentMs ? new Horizon(s, intern, true) : h;
    });
  }

  /** Whether some horizon is folded from the caller's recent samples at view(). */
  get derives(): boolean {
    return this.horizons.some((h) => h.derived);
  }

  add(sample: ISample): void {
    if (num(sample.tsMs) <= 0) return;
    for (const h of this.horizons) h.add(sample);
    if (this.strings.size > this.stringsLimit) {
      const held = new Set<string>();
      for (const h of this.horizons) h.strings(held);
      this.strings = new Map([...held].map((x) => [x, x]));
      this.stringsLimit = Math.max(1024, 2 * this.strings.size);
    }
  }

  /** `recent`: the caller's samples of the last recentMs, in the order they were added (needed when it derives). */
  view(keys: ReadonlySet<string> | null = null, recent: readonly ISample[] | null = null): HistoryView {
    return { horizons: this.horizons.map((h) => h.view(keys, recent)) };
  }
}
