// Feeds a recorded sample stream through the engine as the collector would see it live: the
// same window length and evaluation cadence. Pure: the same trace always gives the same verdicts.
import type { ISample } from '../proto/codec.js';
import { defaultClassifierOptions, type ClassifierOptions } from './classifier.js';
import { evaluate, type Rules } from './engine/index.js';
import type { Verdict } from './engine/types.js';
import { HostWindow } from './window.js';

export interface ReplayStep {
  tsMs: number;
  verdict: Verdict;
}

export function replay(samples: ISample[], rules: Rules, opts: Pick<ClassifierOptions, 'windowMs' | 'everyMs'> = defaultClassifierOptions, inventory: HostWindow['inventory'] = null): ReplayStep[] {
  const window = new HostWindow(opts.windowMs);
  window.inventory = inventory;
  const steps: ReplayStep[] = [];
  let lastEval = 0;
  for (const s of samples) {
    window.add([s]);
    const ts = s.tsMs ?? 0;
    if (ts - lastEval < opts.everyMs) continue;
    lastEval = ts;
    steps.push({ tsMs: ts, verdict: evaluate(window.view(), rules) });
  }
  return steps;
}
