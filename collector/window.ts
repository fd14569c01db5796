// A host's recent samples and the signatures of the processes in them: the engine's input,
// kept incrementally (appended as samples arrive, trimmed by age), plus the long-horizon history
// (bucketed, engine/accumulate.ts) fed by the same samples. Shared by the collector's classifier
// and `assay replay`.
import type { IInventory, IProcessSignature, ISample } from '../proto/codec.js';
import { HistoryAccumulator, type HorizonSpec } from './engine/accumulate.js';
import { processKey, type EngineWindow } from './engine/types.js';

export class HostWindow {
  readonly samples: ISample[] = [];
  readonly signatures = new Map<string, IProcessSignature>();
  inventory: IInventory | null = null;
  private readonly history: HistoryAccumulator;
  private lastPruneMs = 0;

  constructor(
    private readonly windowMs: number,
    horizons: readonly HorizonSpec[] = [],
  ) {
    this.history = new HistoryAccumulator(horizons);
  }

  /** Feeds only the long-horizon history (e.g. older samples reloaded after a restart). */
  addHistory(samples: readonly ISample[]): void {
    for (const s of samples) this.history.add(s);
  }

  /** Adds samples (any order; a timestamp already present is ignored) and drops those too old. */
  add(samples: ISample[]): void {
    const known = new Set(this.samples.map((s) => s.tsMs));
    let sorted = true;
    for (const s of samples) {
      if (known.has(s.tsMs)) continue;
      known.add(s.tsMs);
      this.history.add(s);
      if (this.samples.length && (s.tsMs ?? 0) < (this.samples.at(-1)!.tsMs ?? 0)) sorted = false;
      this.samples.push(s);
      for (const p of s.processes ?? []) if (p.signature) this.signatures.set(processKey(p.pid ?? 0, p.startTimeTicks ?? 0), p.signature);
    }
    if (!sorted) this.samples.sort((a, b) => (a.tsMs ?? 0) - (b.tsMs ?? 0));
    const horizon = (this.samples.at(-1)?.tsMs ?? 0) - this.windowMs;
    const firstKept = this.samples.findIndex((s) => (s.tsMs ?? 0) >= horizon);
    if (firstKept > 0) {
      this.samples.splice(0, firstKept);
      this.pruneSignatures();
    }
  }

  /** Newest sample time, 0 when empty. */
  get newestMs(): number {
    return this.samples.at(-1)?.tsMs ?? 0;
  }

  view(): EngineWindow {
    return { samples: this.samples, signatures: this.signatures, inventory: this.inventory, history: this.history.view(this.liveKeys()) };
  }

  /** Keys of the processes present in the window's samples. */
  liveKeys(): Set<string> {
    const live = new Set<string>();
    for (const s of this.samples) for (const p of s.processes ?? []) live.add(processKey(p.pid ?? 0, p.startTimeTicks ?? 0));
    return live;
  }

  /**
   * Keeps only signatures of processes still in the window. Run when samples leave the window,
   * at most once per half window of sample time (or at once past 512 entries), so a signature
   * outlives its process's last sample by at most 1.5 windows, whatever the host ever ran.
   */
  private pruneSignatures(): void {
    const newest = this.newestMs;
    if (this.signatures.size < 512 && newest - this.lastPruneMs < this.windowMs / 2) return;
    this.lastPruneMs = newest;
    const live = this.liveKeys();
    for (const key of this.signatures.keys()) if (!live.has(key)) this.signatures.delete(key);
  }
}
