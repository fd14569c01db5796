// The fleet summary held in memory: one small entry per host (id, hostname, class, confidence,
// last seen, online, latest figures, a 10-minute trend of fixed buckets), written by ingest (a
// hello, stored samples) and the classifier (published verdicts), read by GET /api/hosts and the
// /live push without a query. Every write that changes an entry bumps a fleet-wide version and
// stamps the entry (and each trend bucket it touched) with it, so a reader that holds version v
// gets exactly what changed since with `changedSince(v)`; `onChange` listeners see every change
// as it happens (class changes carry the previous class: a feed of class changes, webhooks).
//
// Bounds: one entry per host in the store's hosts table (enrolled agents: --max-enrollments),
// each with at most trendMs / bucketMs + 1 trend buckets; buckets older than trendMs are dropped
// by `sweep`, so a host that went quiet costs a few hundred bytes. Time is the caller's clock.
import type { ISample } from '../proto/codec.js';
import { summarize, type SampleSummary, type Store } from './store/store.js';

export interface FleetStateOptions {
  /** A host counts as online when it sent data within this long. */
  onlineWithinMs: number;
  /** How far back the trend reaches. */
  trendMs: number;
  /** Width of one trend bucket (trendMs / bucketMs points at most). */
  bucketMs: number;
}

export const defaultFleetStateOptions: FleetStateOptions = { onlineWithinMs: 30_000, trendMs: 10 * 60_000, bucketMs: 10_000 };

/** The newest sample's figures. */
export interface FleetFigures {
  tsMs: number;
  cpuPct: number;
  gpuPct: number | null;
  powerWatts: number | null;
  memUsedBytes: number;
  memTotalBytes: number;
}

/** Bucket means, oldest first; `startMs` identifies a bucket (a reader merges by it). */
export interface FleetTrend {
  bucketMs: number;
  startMs: number[];
  /** Newest sample time in each bucket. */
  tsMs: number[];
  cpuPct: number[];
  gpuPct: (number | null)[];
  powerWatts: (number | null)[];
}

/** One host as readers see it (a copy: changing it changes nothing). */
export interface FleetHost {
  id: string;
  hostname: string;
  class: string | null;
  confidence: number | null;
  /** When the published class last changed (verdict time; null: unknown, e.g. before a restart). */
  classSinceMs: number | null;
  /** Collector time of the last stored batch (or hello). */
  lastSeenMs: number;
  online: boolean;
  latest: FleetFigures | null;
  /** The whole trend, or (from changedSince) only the buckets that changed since that version. */
  trend: FleetTrend;
  /** Fleet version at this entry's last change. */
  version: number;
}

/** One change, as `onChange` listeners get it. */
export interface FleetChange {
  host: FleetHost;
  /** What the entry was before (null: a host new to the fleet). */
  previous: { class: string | null; confidence: number | null; online: boolean; hostname: string } | null;
  classChanged: boolean;
  onlineChanged: boolean;
}

export interface FleetCounts {
  total: number;
  online: number;
  offline: number;
  /** Hosts per published class ('pending' for none yet). */
  byClass: Record<string, number>;
}

interface Bucket {
  startMs: number;
  tsMs: number;
  n: number;
  cpuSum: number;
  gpuSum: number;
  gpuN: number;
  powerSum: number;
  powerN: number;
  version: number;
}

interface Entry {
  id: string;
  hostname: string;
  class: string | null;
  confidence: number | null;
  classSinceMs: number | null;
  lastSeenMs: number;
  online: boolean;
  latest: FleetFigures | null;
  buckets: Bucket[];
  version: number;
}

const mean = (sum: number, n: number): number | null => (n ? sum / n : null);

export class FleetState {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(c: FleetChange) => void>();
  private readonly opts: FleetStateOptions;
  private v = 0;

  constructor(opts: Partial<FleetStateOptions> = {}) {
    this.opts = { ...defaultFleetStateOptions, ...opts };
    if (!(this.opts.bucketMs > 0) || !(this.opts.trendMs >= this.opts.bucketMs)) throw new Error('fleet state: bucketMs must be > 0 and at most trendMs');
  }

  /**
   * The fleet as the store has it (once, at startup): every host, and the trend of those seen
   * within trendMs (one bounded summaries query each).
   */
  static async load(store: Pick<Store, 'listHosts' | 'sampleSummaries'>, nowMs: number, opts: Partial<FleetStateOptions> = {}): Promise<FleetState> {
    const fleet = new FleetState(opts);
    const { trendMs } = fleet.opts;
    for (const h of await store.listHosts()) {
      const e = fleet.entry(h.id, h.hostname, h.lastSeenMs);
      e.class = h.verdictClass;
      e.confidence = h.verdictConfidence;
      e.online = nowMs - h.lastSeenMs <= fleet.opts.onlineWithinMs;
      if (nowMs - h.lastSeenMs <= trendMs) {
        // One row per sample up to 2 per second: the buckets here are fixed, the store's are not.
        const rows = await store.sampleSummaries(h.id, nowMs - trendMs, nowMs, Math.ceil(trendMs / 500));
        for (const r of rows) fleet.fold(e, r);
      }
      fleet.changed(e, null);
    }
    fleet.sweep(nowMs);
    return fleet;
  }

  /**
   * Takes what the store knows that this process did not see (hosts written by another process,
   * e.g. a second collector on one database): new hosts, a newer last-seen time, a class where
   * none is known. One listHosts query; the collector runs it every 30 s, never per push.
   */
  async reconcile(store: Pick<Store, 'listHosts'>, nowMs: number): Promise<void> {
    for (const h of await store.listHosts()) {
      const e = this.entries.get(h.id);
      if (!e) {
        const x = this.entry(h.id, h.hostname, h.lastSeenMs);
        x.class = h.verdictClass;
        x.confidence = h.verdictConfidence;
        x.online = nowMs - h.lastSeenMs <= this.opts.onlineWithinMs;
        this.changed(x, null);
        continue;
      }
      const newer = h.lastSeenMs > e.lastSeenMs;
      const classNow = e.class === null && h.verdictClass !== null;
      if (!newer && !classNow) continue;
      const before = snapshot(e);
      if (newer) {
        e.lastSeenMs = h.lastSeenMs;
        e.online = nowMs - h.lastSeenMs <= this.opts.onlineWithinMs;
      }
      if (classNow) {
        e.class = h.verdictClass;
        e.confidence = h.verdictConfidence;
      }
      this.changed(e, before);
    }
  }

  /** Bumped by every change; a reader at this version has seen everything. */
  get version(): number {
    return this.v;
  }

  get size(): number {
    return this.entries.size;
  }

  get options(): Readonly<FleetStateOptions> {
    return this.opts;
  }

  /** Called synchronously for every change (keep it cheap; errors are the listener's own). */
  onChange(fn: (c: FleetChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get(id: string): FleetHost | null {
    const e = this.entries.get(id);
    return e ? this.view(e, 0) : null;
  }

  /** Every host, by hostname then id (the order of GET /api/hosts). */
  list(): FleetHost[] {
    return [...this.entries.values()].sort(byName).map((e) => this.view(e, 0));
  }

  /**
   * Hosts changed after `version`, each with only the trend buckets changed after it (0: every
   * host, whole). O(hosts); a reader at the current version gets nothing.
   */
  changedSince(version: number): FleetHost[] {
    if (version >= this.v) return [];
    const out: FleetHost[] = [];
    for (const e of this.entries.values()) if (e.version > version) out.push(this.view(e, version));
    return out;
  }

  counts(): FleetCounts {
    const byClass: Record<string, number> = {};
    let online = 0;
    for (const e of this.entries.values()) {
      if (e.online) online++;
      const k = e.class ?? 'pending';
      byClass[k] = (byClass[k] ?? 0) + 1;
    }
    return { total: this.entries.size, online, offline: this.entries.size - online, byClass };
  }

  /** An agent said hello (new host, new hostname, or back online). */
  hello(id: string, hostname: string, nowMs: number): void {
    const e = this.entries.get(id);
    const before = e ? snapshot(e) : null;
    const x = e ?? this.entry(id, hostname, nowMs);
    x.hostname = hostname;
    x.lastSeenMs = Math.max(x.lastSeenMs, nowMs);
    x.online = true;
    this.changed(x, before);
  }

  /** Samples were stored for a host at collector time `nowMs`. */
  samples(id: string, samples: readonly ISample[], nowMs: number): void {
    if (samples.length === 0) return;
    const e = this.entries.get(id);
    const before = e ? snapshot(e) : null;
    const x = e ?? this.entry(id, id, nowMs);
    x.lastSeenMs = Math.max(x.lastSeenMs, nowMs);
    x.online = true;
    for (const s of samples) this.fold(x, summarize(0, s));
    this.prune(x, nowMs);
    this.changed(x, before);
  }

  /** The classifier published a verdict for a host (ignored for a host not in the fleet). */
  verdict(id: string, v: { class: string; confidence: number }, tsMs: number): void {
    const e = this.entries.get(id);
    if (!e) return;
    if (e.class === v.class && e.confidence === v.confidence) return;
    const before = snapshot(e);
    if (e.class !== v.class) e.classSinceMs = tsMs;
    e.class = v.class;
    e.confidence = v.confidence;
    this.changed(e, before);
  }

  /** Marks hosts silent for onlineWithinMs offline and drops trend buckets older than trendMs. */
  sweep(nowMs: number): void {
    for (const e of this.entries.values()) {
      const online = nowMs - e.lastSeenMs <= this.opts.onlineWithinMs;
      if (online === e.online && (e.buckets.length === 0 || e.buckets[0]!.startMs + this.opts.bucketMs > nowMs - this.opts.trendMs)) continue;
      const before = snapshot(e);
      e.online = online;
      if (this.prune(e, nowMs) || before.online !== online) this.changed(e, before);
    }
  }

  private entry(id: string, hostname: string, lastSeenMs: number): Entry {
    const e: Entry = { id, hostname, class: null, confidence: null, classSinceMs: null, lastSeenMs, online: true, latest: null, buckets: [], version: 0 };
    this.entries.set(id, e);
    return e;
  }

  /** Folds one sample's figures into its bucket (late samples into older buckets too). */
  private fold(e: Entry, s: SampleSummary): void {
    const { bucketMs } = this.opts;
    const startMs = Math.floor(s.tsMs / bucketMs) * bucketMs;
    const newest = e.buckets.at(-1);
    if (newest && startMs < newest.startMs - this.opts.trendMs) return; // far older than the trend
    if (!e.latest || s.tsMs >= e.latest.tsMs) {
      e.latest = { tsMs: s.tsMs, cpuPct: s.cpuPct, gpuPct: s.gpuUtilPct, powerWatts: s.powerWatts, memUsedBytes: s.memUsedBytes, memTotalBytes: s.memTotalBytes };
    }
    let i = e.buckets.length - 1;
    while (i >= 0 && e.buckets[i]!.startMs > startMs) i--;
    let b = i >= 0 && e.buckets[i]!.startMs === startMs ? e.buckets[i]! : null;
    if (!b) {
      b = { startMs, tsMs: s.tsMs, n: 0, cpuSum: 0, gpuSum: 0, gpuN: 0, powerSum: 0, powerN: 0, version: 0 };
      e.buckets.splice(i + 1, 0, b);
    }
    b.tsMs = Math.max(b.tsMs, s.tsMs);
    b.n++;
    b.cpuSum += s.cpuPct;
    if (s.gpuUtilPct !== null) (b.gpuSum += s.gpuUtilPct), b.gpuN++;
    if (s.powerWatts !== null) (b.powerSum += s.powerWatts), b.powerN++;
    b.version = this.v + 1; // the version changed() is about to give the entry
    // Never more buckets than the trend holds, whatever the clocks say.
    const max = Math.ceil(this.opts.trendMs / bucketMs) + 1;
    if (e.buckets.length > max) e.buckets.splice(0, e.buckets.length - max);
  }

  /** Drops buckets that ended more than trendMs before `nowMs`; whether any went. */
  private prune(e: Entry, nowMs: number): boolean {
    const from = nowMs - this.opts.trendMs;
    let n = 0;
    while (n < e.buckets.length && e.buckets[n]!.startMs + this.opts.bucketMs <= from) n++;
    if (n) e.buckets.splice(0, n);
    return n > 0;
  }

  private changed(e: Entry, before: Entry | null): void {
    e.version = ++this.v;
    if (this.listeners.size === 0) return;
    const change: FleetChange = {
      host: this.view(e, 0),
      previous: before ? { class: before.class, confidence: before.confidence, online: before.online, hostname: before.hostname } : null,
      classChanged: !before || before.class !== e.class,
      onlineChanged: !before || before.online !== e.online,
    };
    for (const fn of this.listeners) fn(change);
  }

  private view(e: Entry, since: number): FleetHost {
    const buckets = since ? e.buckets.filter((b) => b.version > since) : e.buckets;
    return {
      id: e.id,
      hostname: e.hostname,
      class: e.class,
      confidence: e.confidence,
      classSinceMs: e.classSinceMs,
      lastSeenMs: e.lastSeenMs,
      online: e.online,
      latest: e.latest && { ...e.latest },
      trend: {
        bucketMs: this.opts.bucketMs,
        startMs: buckets.map((b) => b.startMs),
        tsMs: buckets.map((b) => b.tsMs),
        cpuPct: buckets.map((b) => b.cpuSum / b.n),
        gpuPct: buckets.map((b) => mean(b.gpuSum, b.gpuN)),
        powerWatts: buckets.map((b) => mean(b.powerSum, b.powerN)),
      },
      version: e.version,
    };
  }
}

const snapshot = (e: Entry): Entry => ({ ...e });
const byName = (a: Entry, b: Entry): number => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
