// A scan's verdicts from its samples: the one function `assay scan` makes them with and
// `assay verify` re-makes them with, at the rules the report carries. The engine sees only what
// the report embeds (the samples' bytes and the inventory summary), so a verifier gives it the
// very same input.
import type { IInventory, ISample } from '../../proto/codec.js';
import { defaultClassifierOptions } from '../classifier.js';
import { evaluate, type Rules } from '../engine/index.js';
import { replay } from '../replay.js';
import { HostWindow } from '../window.js';
import type { ReportInventory, StoredVerdictJson } from './types.js';

/** The inventory the engine is given: what the report's summary holds (the engine reads the core count). */
export function engineInventory(inv: ReportInventory | null): IInventory | null {
  if (!inv) return null;
  return { cpuModel: inv.cpuModel, cpuLogicalCores: inv.logicalCores, memoryTotalBytes: inv.memoryTotalBytes, kernel: inv.kernel };
}

/**
 * The published verdicts of `assay replay` over the samples, plus the engine's verdict over the
 * whole window at the last sample when replay's cadence ended before it (a short scan then still
 * ends with a verdict on everything it saw).
 */
export function scanVerdicts(samples: ISample[], rules: Rules, inventory: IInventory | null): StoredVerdictJson[] {
  const verdicts: StoredVerdictJson[] = replay(samples, rules, defaultClassifierOptions, inventory).map((s) => ({ tsMs: s.tsMs, verdict: s.verdict }));
  const lastTs = samples.at(-1)?.tsMs ?? 0;
  if ((verdicts.at(-1)?.tsMs ?? 0) < lastTs) {
    const window = new HostWindow(defaultClassifierOptions.windowMs, rules.history.horizons);
    window.inventory = inventory;
    window.add(samples);
    verdicts.push({ tsMs: lastTs, verdict: evaluate(window.view(), rules) });
  }
  return verdicts;
}
