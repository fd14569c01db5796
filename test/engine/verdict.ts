// What the engine tests share: evaluate a constructed window with the bundled rules, and show a
// verdict compactly in assertion messages.
import { defaultRulesPath, evaluate, loadRulesFile, type Verdict } from '../../collector/engine/index.js';
import { buildWindow, type HostSpec } from './build-window.js';

export const bundledRules = loadRulesFile(defaultRulesPath);

export function run(spec: HostSpec, rules = bundledRules): Verdict {
  return evaluate(buildWindow(spec), rules);
}

/** The verdict in a compact form for assertion messages. */
export function show(v: Verdict): string {
  const ev = v.evidence.slice(0, 16).map((e) => `  ${e.supports} ${e.weight} ${e.signal} [${e.process?.name ?? 'host'}] ${e.detail}`);
  return `class=${v.class} confidence=${v.confidence} scores=${JSON.stringify(v.scores)} parts=${JSON.stringify(v.parts)} unavailable=${v.unavailable.join(',')}\n${ev.join('\n')}`;
}

/** Whether the verdict lists evidence `signal` (for process `pid`, when given). */
export function has(v: Verdict, signal: string, pid?: number): boolean {
  return v.evidence.some((e) => e.signal === signal && (pid === undefined || e.process?.pid === pid));
}
