// Keeps each host's recent window in memory (fed by ingest, never re-read from the store while
// running) and turns it into verdicts with the pure engine on a schedule.
import type { ISample } from '../proto/codec.js';
import { evaluate, type Rules } from './engine/index.js';
import { stabilize, type StabilityState } from './engine/stabilize.js';
import type { Verdict } from './engine/types.js';
import type { Store } from './store/store.js';

/** The part of the store the classifier reads and writes. */
export type ClassifierStore = Pick<Store, 'getHost' | 'samples' | 'signatures' | 'verdicts' | 'putVerdict'>;
import { HostWindow } from './window.js';

export interface ClassifierOptions {
  /** Length of the window the engine sees. */
  windowMs: number;
  /** Least time between two evaluations of one host. */
  everyMs: number;
  /** A verdict is stored whenever the published class changes (after hysteresis), and at least this often. */
  persistEveryMs: number;
}

export const defaultClassifierOptions: ClassifierOptions = { windowMs: 120_000, everyMs: 5_000, persistEveryMs: 60_000 };

interface HostState {
  window: HostWindow;
  lastEvalMs: number;
  lastStored: { tsMs: number; class: string } | null;
  /** Hysteresis state; its `published` verdict is the host's current verdict. */
  stability: StabilityState | null;
}

export class Classifier {
  private readonly hosts = new Map<string, HostState>();

  constructor(
    private readonly store: ClassifierStore,
    private readonly rules: () => Rules,
    private readonly opts: ClassifierOptions = defaultClassifierOptions,
  ) {}

  current(hostId: string): Verdict | null {
    return this.hosts.get(hostId)?.stability?.published ?? null;
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
    const [host, rows, older, signatures, recent] = await Promise.all([
      this.store.getHost(hostId),
      this.store.samples(hostId, rawFrom, newestMs, 10_000),
      historyMs > this.opts.windowMs ? this.store.samples(hostId, newestMs - historyMs, rawFrom - 1, 10_000) : Promise.resolve([]),
      this.store.signatures(hostId),
      this.store.verdicts(hostId, newestMs - this.opts.persistEveryMs * 10, Number.MAX_SAFE_INTEGER, 1_000),
    ]);
    const window = new HostWindow(this.opts.windowMs, horizons);
    window.inventory = host?.inventory ?? null;
    for (const [k, v] of signatures) window.signatures.set(k, v);
    window.addHistory(older.map((r) => r.sample));
    window.add(rows.map((r) => r.sample));
    const last = recent.at(-1);
    const st: HostState = {
      window,
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
    st.window.add(samples);
    if (newest - st.lastEvalMs < this.opts.everyMs) return null;
    st.lastEvalMs = newest;
    const rules = this.rules();
    const raw = evaluate(st.window.view(), rules);
    const tsMs = raw.window.toMs || newest;
    const published = stabilize(st.stability, raw, tsMs, rules.stability);
    st.stability = published.state;
    const verdict = published.verdict;
    // Every change of the published class is stored (the API's verdict history), plus a refresh now and then.
    if (published.changed || !st.lastStored || st.lastStored.class !== verdict.class || tsMs - st.lastStored.tsMs >= this.opts.persistEveryMs) {
      await this.store.putVerdict(hostId, tsMs, verdict);
      st.lastStored = { tsMs, class: verdict.class };
    }
    return verdict;
  }
}
