// Keeps each host's recent window in memory (fed by ingest, never re-read from the store while
// running) and turns it into verdicts with the pure engine on a schedule.
import type { ISample } from '../proto/codec.js';
import { evaluate, type Rules } from './engine/index.js';
import type { Verdict } from './engine/types.js';
import type { Store } from './store/store.js';
import { HostWindow } from './window.js';

export interface ClassifierOptions {
  /** Length of the window the engine sees. */
  windowMs: number;
  /** Least time between two evaluations of one host. */
  everyMs: number;
  /** A verdict is stored when its class changes, or at least this often. */
  persistEveryMs: number;
}

export const defaultClassifierOptions: ClassifierOptions = { windowMs: 120_000, everyMs: 5_000, persistEveryMs: 60_000 };

interface HostState {
  window: HostWindow;
  lastEvalMs: number;
  lastStored: { tsMs: number; class: string } | null;
  current: Verdict | null;
}

export class Classifier {
  private readonly hosts = new Map<string, HostState>();

  constructor(
    private readonly store: Store,
    private readonly rules: () => Rules,
    private readonly opts: ClassifierOptions = defaultClassifierOptions,
  ) {}

  current(hostId: string): Verdict | null {
    return this.hosts.get(hostId)?.current ?? null;
  }

  /** A host's state; after a collector restart its window is rebuilt from the store once. */
  private async state(hostId: string, newestMs: number): Promise<HostState> {
    const known = this.hosts.get(hostId);
    if (known) return known;
    const [host, rows, signatures, recent] = await Promise.all([
      this.store.getHost(hostId),
      this.store.samples(hostId, newestMs - this.opts.windowMs, newestMs, 10_000),
      this.store.signatures(hostId),
      this.store.verdicts(hostId, newestMs - this.opts.persistEveryMs * 10, Number.MAX_SAFE_INTEGER, 1_000),
    ]);
    const window = new HostWindow(this.opts.windowMs);
    window.inventory = host?.inventory ?? null;
    for (const [k, v] of signatures) window.signatures.set(k, v);
    window.add(rows.map((r) => r.sample));
    const last = recent.at(-1);
    const st: HostState = {
      window,
      lastEvalMs: 0,
      lastStored: last ? { tsMs: last.tsMs, class: last.verdict.class } : null,
      current: last?.verdict ?? null,
    };
    this.hosts.set(hostId, st);
    return st;
  }

  /** Adds newly stored samples and evaluates the window if due; returns a new verdict if one was made. */
  async add(hostId: string, samples: ISample[]): Promise<Verdict | null> {
    if (samples.length === 0) return null;
    const newest = Math.max(...samples.map((s) => s.tsMs ?? 0));
    const st = await this.state(hostId, newest);
    st.window.add(samples);
    if (newest - st.lastEvalMs < this.opts.everyMs) return null;
    st.lastEvalMs = newest;
    const verdict = evaluate(st.window.view(), this.rules());
    st.current = verdict;
    const tsMs = verdict.window.toMs || newest;
    if (!st.lastStored || st.lastStored.class !== verdict.class || tsMs - st.lastStored.tsMs >= this.opts.persistEveryMs) {
      await this.store.putVerdict(hostId, tsMs, verdict);
      st.lastStored = { tsMs, class: verdict.class };
    }
    return verdict;
  }
}
