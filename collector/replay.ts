// Feeds a recorded sample stream through the engine as the collector would see it live: the
// same window length, evaluation cadence, long-horizon history and verdict hysteresis. Pure: the
// same trace always gives the same verdicts.
import type { ISample } from '../proto/codec.js';
import { defaultClassifierOptions, type ClassifierOptions } from './classifier.js';
import { evaluate, type Rules } from './engine/index.js';
import { stabilize, type StabilityState } from './engine/stabilize.js';
import type { Verdict } from './engine/types.js';
import { HostWindow } from './window.js';

export interface ReplayStep {
  tsMs: number;
  /** The published verdict (after hysteresis): what the collector would show and store. */
  verdict: Verdict;
  /** The engine's verdict for this window alone. */
  raw: Verdict;
  /** The published class changed at this step. */
  changed: boolean;
}

export function replay(samples: ISample[], rules: Rules, opts: Pick<ClassifierOptions, 'windowMs' | 'everyMs'> = defaultClassifierOptions, inventory: HostWindow['inventory'] = null): ReplayStep[] {
  const window = new HostWindow(opts.windowMs, rules.history.horizons);
  window.inventory = inventory;
  const steps: ReplayStep[] = [];
  let lastEval = 0;
  let state: StabilityState | null = null;
  for (const s of samples) {
    window.add([s]);
    const ts = s.tsMs ?? 0;
    if (ts - lastEval < opts.everyMs) continue;
    lastEval = ts;
    const raw = evaluate(window.view(), rules);
    const st = stabilize(state, raw, ts, rules.stability);
    state = st.state;
    steps.push({ tsMs: ts, verdict: st.verdict, raw, changed: st.changed });
  }
  return steps;
}
