// Keeps each host's recent window in memory (fed by ingest, never re-read from the store while
// running) and turns it into verdicts with the pure engine on a schedule. Memory is bounded: a
// host that sent nothing for idleEvictMs is dropped, and at most maxHosts hosts are held (the
// least recently fed is dropped first); a dropped host that returns is rebuilt from the store
// (its window's samples, its last verdict). The window is held compactly (compact-window.ts:
// ~400 B per sample) and decoded when the host is evaluated; process signatures are not held:
// each evaluation reads those of the processes in the window from the store.
import type { ISample } from '../proto/codec.js';
import { evaluate, IdentityMemo, type Rules } from './engine/index.js';
import { stabilize, type StabilityState } from './engine/stabilize.js';
import type { Verdict } from './engine/types.js';
import type { Store } from './store/store.js';
import { CompactWindow } from './compact-window.js';
import { defaultClassifierOptions, type ClassifierOptions } from './classifier-options.js';

export { defaultClassifierOptions, type ClassifierOptions };

/** The part of the store the classifier reads and writes. */
export type ClassifierStore = Pick<Store, 'getHost' | 'samples' | 'signaturesOf' | 'verdicts' | 'putVerdict'>;

interface HostState {
  window: CompactWindow;
  /** Collector time of the last add (the LRU order and the idle eviction use it). */
  fedMs: number;
  lastEvalMs: number;
  lastStored: { tsMs: number; class: string } | null;
  /** Hysteresis state; its `published` verdict is the host's current verdict. */
  stability: StabilityState | null;
}

/** A stored change of a host's published class (the first verdict included: `from` null). */
export interface PublishedChange {
  hostId: string;
  tsMs: number;
  from: Verdict | null;
  to: Verdict;
}

/**
 * Evaluations at the end of a backlog, one interval apart: enough for the hysteresis to confirm a
 * change (stability.confirmMs = 2 intervals, or 3 evaluations with switchShare) in one call.
 * Through the backlog, evaluations are a quarter window apart, so a call's engine work is bounded
 * by the samples it is given (the classify queue hands over at most maxSamplesPerHost at a time).
 */
export const CATCH_UP_POINTS = 3;

export class Classifier {
  /** In least-recently-fed order (a fed host is moved to the end), so the quietest come first. */
  private readonly hosts = new Map<string, HostState>();
  private readonly opts: ClassifierOptions;
  /** Hosts dropped from memory so far, by cause. */
  readonly evicted = { idle: 0, cap: 0 };
  /** Hosts rebuilt from the store (a restart, or a return after eviction). */
  rebuilt = 0;
  /** Milliseconds spent in evaluations' synchronous work (window decode, engine, hysteresis): what the classify queue's engineShare bounds. */
  engineMs = 0;
  /**
   * Identity evidence remembered by process content across hosts and evaluations (bounded;
   * cleared when the rules object changes): the same verdicts, without matching every signature
   * list against every process of every window again.
   */
  readonly identityMemo = new IdentityMemo();

  constructor(
    private readonly store: ClassifierStore,
    private readonly rules: () => Rules,
    opts: Partial<ClassifierOptions> = defaultClassifierOptions,
    private readonly now: () => number = Date.now,
    /** Called after a verdict with a new class was stored (feeds the class-change push and the webhook). */
    private readonly onChange?: (c: PublishedChange) => void,
  ) {
    this.opts = { ...defaultClassifierOptions, ...opts };
  }

  current(hostId: string): Verdict | null {
    return this.hosts.get(hostId)?.stability?.published ?? null;
  }

  /** Hosts held in memory now. */
  get size(): number {
    return this.hosts.size;
  }

  /** Whether a host's state is held in memory now. */
  holds(hostId: string): boolean {
    return this.hosts.has(hostId);
  }

  /** Samples held in one host's window (null when the host is not held). */
  windowSize(hostId: string): number | null {
    return this.hosts.get(hostId)?.window.size ?? null;
  }

  /**
   * Drops hosts fed nothing for idleEvictMs, then the least recently fed past maxHosts. Cheap
   * (the map is in feeding order: it stops at the first host still in use); called on every
   * add and by the collector's timer, so quiet hosts go even when nothing else arrives.
   */
  evict(): void {
    const idleBefore = this.now() - this.opts.idleEvictMs;
    for (const [id, st] of this.hosts) {
      if (st.fedMs > idleBefore) break;
      this.hosts.delete(id);
      this.evicted.idle++;
    }
    for (const id of this.hosts.keys()) {
      if (this.hosts.size <= this.opts.maxHosts) break;
      this.hosts.delete(id);
      this.evicted.cap++;
    }
  }

  /**
   * A host's state; after a collector restart its window and long-horizon history are rebuilt
   * from the store once (never re-read while running), and the last stored verdict is published.
   */
  private async state(hostId: string, newestMs: number): Promise<HostState> {
    const known = this.hosts.get(hostId);
    if (known) return known;
    const horizons = this.rules().history.horizons;
    const historyMs = Math.max(0, ...horizons.map((h) => h.spanMs));
    const rawFrom = newestMs - this.opts.windowMs;
    const [host, rows, older, recent] = await Promise.all([
      this.store.getHost(hostId),
      this.store.samples(hostId, rawFrom, newestMs, 10_000),
      historyMs > this.opts.windowMs ? this.store.samples(hostId, newestMs - historyMs, rawFrom - 1, 10_000) : Promise.resolve([]),
      this.store.verdicts(hostId, newestMs - this.opts.persistEveryMs * 10, Number.MAX_SAFE_INTEGER, 1_000),
    ]);
    // Another add for this host may have rebuilt it while we read (callers normally serialise).
    const raced = this.hosts.get(hostId);
    if (raced) return raced;
    const window = new CompactWindow(this.opts.windowMs, horizons);
    window.inventory = host?.inventory ?? null;
    window.addHistory(older.map((r) => r.sample));
    window.add(rows.map((r) => r.sample));
    const last = recent.at(-1);
    this.rebuilt++;
    const st: HostState = {
      window,
      fedMs: this.now(),
      lastEvalMs: 0,
      lastStored: last ? { tsMs: last.tsMs, class: last.verdict.class } : null,
      stability: last ? { published: last.verdict, sinceMs: last.tsMs, run: { class: last.verdict.class, sinceMs: last.tsMs }, recent: [], coldUntilMs: 0 } : null,
    };
    this.hosts.set(hostId, st);
    return st;
  }

  /**
   * Adds newly stored samples and evaluates the window if due; returns the published verdict
   * (after hysteresis) when an evaluation was made.
   */
  async add(hostId: string, samples: ISample[]): Promise<Verdict | null> {
    if (samples.length === 0) return null;
    const newest = Math.max(...samples.map((s) => s.tsMs ?? 0));
    const st = await this.state(hostId, newest);
    st.fedMs = this.now();
    // Re-inserted: the map stays in feeding order (least recently fed first).
    this.hosts.delete(hostId);
    this.hosts.set(hostId, st);
    this.evict();
    // A backlog (an agent catching up after an outage, or batches that waited while
    // classification was busy) spans more than one evaluation interval. It is evaluated as a live
    // host would have been, at bounded cost: every quarter window of sample time through it
    // (each sample is inside several evaluated windows, so a period of other work
    // inside a backlog is seen and published, not hidden by a burst), and at its end at up to
    // CATCH_UP_POINTS points one interval apart, so the hysteresis (a new class must hold over
    // some seconds of sample time) can confirm the newest class in this one call.
    const stepMs = Math.max(this.opts.everyMs, Math.floor(this.opts.windowMs / 4));
    const points = new Set<number>([newest]);
    let last = st.lastEvalMs;
    for (const t of samples.map((x) => x.tsMs ?? 0).sort((x, y) => x - y)) if (t - last >= stepMs && t < newest) points.add((last = t));
    for (let k = 1; k < CATCH_UP_POINTS; k++) points.add(newest - k * this.opts.everyMs);
    let verdict: Verdict | null = null;
    let rest = samples;
    for (const at of [...points].sort((x, y) => x - y)) {
      const upTo = at === newest ? rest : rest.filter((x) => (x.tsMs ?? 0) <= at);
      if (upTo.length === 0) continue;
      rest = at === newest ? [] : rest.filter((x) => (x.tsMs ?? 0) > at);
      st.window.add(upTo);
      verdict = (await this.evaluate(hostId, st, Math.max(...upTo.map((x) => x.tsMs ?? 0)))) ?? verdict;
    }
    return verdict;
  }

  /** Evaluates the host's window as of its sample time `newest`, if an evaluation is due. */
  private async evaluate(hostId: string, st: HostState, newest: number): Promise<Verdict | null> {
    if (newest - st.lastEvalMs < this.opts.everyMs) return null;
    st.lastEvalMs = newest;
    const rules = this.rules();
    // The window decoded for this evaluation only; signatures of its processes (not every process
    // the host ever ran) read from the store, those sent within the window taken from it.
    let t = performance.now();
    const decoded = st.window.samples();
    const missing = [...decoded.keys].filter((k) => !decoded.carried.has(k));
    this.engineMs += performance.now() - t;
    const stored = missing.length ? await this.store.signaturesOf(hostId, missing) : new Map();
    t = performance.now();
    const raw = evaluate(st.window.view(decoded, stored), rules, this.identityMemo);
    const tsMs = raw.window.toMs || newest;
    const before = st.stability?.published ?? null;
    const published = stabilize(st.stability, raw, tsMs, rules.stability);
    this.engineMs += performance.now() - t;
    st.stability = published.state;
    const verdict = published.verdict;
    // Every change of the published class is stored (the API's verdict history), plus a refresh now and then.
    if (published.changed || !st.lastStored || st.lastStored.class !== verdict.class || tsMs - st.lastStored.tsMs >= this.opts.persistEveryMs) {
      const newClass = !st.lastStored || st.lastStored.class !== verdict.class;
      await this.store.putVerdict(hostId, tsMs, verdict);
      st.lastStored = { tsMs, class: verdict.class };
      if (newClass) this.onChange?.({ hostId, tsMs, from: before && before.class !== verdict.class ? before : null, to: verdict });
    }
    return verdict;
  }

  /**
   * Drops a host's state (another collector on the same database makes its verdicts now); taking
   * it over later rebuilds the window and the last verdict from the store, as after a restart.
   */
  forget(hostId: string): void {
    this.hosts.delete(hostId);
  }
}
