// Keeps each host's recent window in memory (fed by ingest, never re-read from the store while
// running) and turns it into verdicts with the pure engine on a schedule.
import type { IProcessSignature, ISample } from '../proto/codec.js';
import { evaluate, type Rules } from './engine/index.js';
import { processKey, type Verdict } from './engine/types.js';
import type { Store } from './store/store.js';

export interface ClassifierOptions {
  /** Length of the window the engine sees. */
  windowMs: number;
  /** Least time between two evaluations of one host. */
  everyMs: number;
  /** A verdict is stored when its class changes, or at least this often. */
  persistEveryMs: number;
}

export const defaultClassifierOptions: ClassifierOptions = { windowMs: 120_000, everyMs: 5_000, persistEveryMs: 60_000 };

interface HostWindow {
  samples: ISample[];
  signatures: Map<string, IProcessSignature>;
  lastEvalMs: number;
  lastStored: { tsMs: number; class: string } | null;
  current: Verdict | null;
}

export class Classifier {
  private readonly hosts = new Map<string, HostWindow>();

  constructor(
    private readonly store: Store,
    private readonly rules: () => Rules,
    private readonly opts: ClassifierOptions = defaultClassifierOptions,
  ) {}

  current(hostId: string): Verdict | null {
    return this.hosts.get(hostId)?.current ?? null;
  }

  /** Loads a host's recent samples and signatures from the store (after a collector restart). */
  private async load(hostId: string, newestMs: number): Promise<HostWindow> {
    let w = this.hosts.get(hostId);
    if (w) return w;
    const [rows, signatures, last] = await Promise.all([
      this.store.samples(hostId, newestMs - this.opts.windowMs, newestMs, 10_000),
      this.store.signatures(hostId),
      this.store.verdicts(hostId, newestMs - this.opts.persistEveryMs * 10, Number.MAX_SAFE_INTEGER, 1_000),
    ]);
    const lastVerdict = last.at(-1);
    w = {
      samples: rows.map((r) => r.sample),
      signatures,
      lastEvalMs: 0,
      lastStored: lastVerdict ? { tsMs: lastVerdict.tsMs, class: lastVerdict.verdict.class } : null,
      current: lastVerdict?.verdict ?? null,
    };
    this.hosts.set(hostId, w);
    return w;
  }

  /**
   * Adds newly stored samples to the host's window and evaluates it if due. Returns the new
   * verdict when one was computed.
   */
  async add(hostId: string, samples: ISample[]): Promise<Verdict | null> {
    if (samples.length === 0) return null;
    const newest = Math.max(...samples.map((s) => s.tsMs ?? 0));
    const w = await this.load(hostId, newest);
    const known = new Set(w.samples.map((s) => s.tsMs));
    for (const s of samples) {
      if (known.has(s.tsMs)) continue; // already loaded from the store on warm-up
      w.samples.push(s);
      for (const p of s.processes ?? []) if (p.signature) w.signatures.set(processKey(p.pid ?? 0, p.startTimeTicks ?? 0), p.signature);
    }
    w.samples.sort((a, b) => (a.tsMs ?? 0) - (b.tsMs ?? 0));
    const horizon = (w.samples.at(-1)?.tsMs ?? newest) - this.opts.windowMs;
    const firstKept = w.samples.findIndex((s) => (s.tsMs ?? 0) >= horizon);
    if (firstKept > 0) {
      w.samples.splice(0, firstKept);
      this.pruneSignatures(w);
    }
    if (newest - w.lastEvalMs < this.opts.everyMs) return null;
    w.lastEvalMs = newest;
    const verdict = evaluate({ samples: w.samples, signatures: w.signatures }, this.rules());
    w.current = verdict;
    const tsMs = verdict.window.toMs || newest;
    if (!w.lastStored || w.lastStored.class !== verdict.class || tsMs - w.lastStored.tsMs >= this.opts.persistEveryMs) {
      await this.store.putVerdict(hostId, tsMs, verdict);
      w.lastStored = { tsMs, class: verdict.class };
    }
    return verdict;
  }

  /** Keeps only the signatures of processes still present in the window. */
  private pruneSignatures(w: HostWindow): void {
    if (w.signatures.size < 256) return;
    const live = new Set<string>();
    for (const s of w.samples) for (const p of s.processes ?? []) live.add(processKey(p.pid ?? 0, p.startTimeTicks ?? 0));
    for (const key of w.signatures.keys()) if (!live.has(key)) w.signatures.delete(key);
  }
}
