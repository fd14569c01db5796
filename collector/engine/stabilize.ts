// Hysteresis of published verdicts: (previous state, new raw verdict, time) -> (state, published
// verdict). Pure and deterministic; the collector's classifier and `assay replay` both run every
// raw verdict through it, so a trace replays to the same published history as production.
//
// A challenger class replaces the published one when it has been the raw class without
// interruption for `confirmMs`, or holds at least `switchShare` (> 0.5) of the raw verdicts of the
// last `lookbackMs`. Alternating noise never does either; a real change does after confirmMs.
// From a cold start (the first verdict is still the only class ever published, within `coldMs`)
// there is no established verdict to protect yet: a challenger needs only `coldConfirmMs` of
// uninterrupted raw verdicts. The engine's features need 15+ samples before they speak, so the
// first published class is often a placeholder (general, idle) that should not delay the real one.
import type { StabilityRules } from './rules/schema.js';
import type { Verdict, WorkloadClass } from './types.js';

export interface StabilityState {
  /** The verdict published now: the newest raw verdict of the published class. */
  published: Verdict;
  /** When the published class was (last) adopted. */
  sinceMs: number;
  /** The current uninterrupted run of one raw class. */
  run: { class: WorkloadClass; sinceMs: number };
  /** Raw classes within the lookback, oldest first. */
  recent: { tsMs: number; class: WorkloadClass }[];
  /** Until when the cold-start rule applies (0 once any class change was published). */
  coldUntilMs: number;
}

export interface Stabilized {
  state: StabilityState;
  verdict: Verdict;
  /** The published class changed with this call (the first verdict counts as a change). */
  changed: boolean;
}

export type StabilityParams = Pick<StabilityRules, 'confirmMs' | 'lookbackMs' | 'switchShare' | 'coldConfirmMs' | 'coldMs'>;

export function stabilize(prev: StabilityState | null, raw: Verdict, tsMs: number, p: StabilityParams): Stabilized {
  const recent = (prev?.recent ?? []).filter((r) => r.tsMs > tsMs - p.lookbackMs && r.tsMs <= tsMs);
  recent.push({ tsMs, class: raw.class });
  const run = prev && prev.run.class === raw.class && prev.run.sinceMs <= tsMs ? prev.run : { class: raw.class, sinceMs: tsMs };
  if (!prev) return { state: { published: raw, sinceMs: tsMs, run, recent, coldUntilMs: tsMs + p.coldMs }, verdict: raw, changed: true };
  if (raw.class === prev.published.class) return { state: { ...prev, published: raw, run, recent }, verdict: raw, changed: false };
  const share = recent.filter((r) => r.class === raw.class).length / recent.length;
  const confirmMs = tsMs < prev.coldUntilMs ? p.coldConfirmMs : p.confirmMs;
  const confirmed = tsMs - run.sinceMs >= confirmMs || (recent.length >= 3 && share >= p.switchShare);
  if (confirmed) return { state: { published: raw, sinceMs: tsMs, run, recent, coldUntilMs: 0 }, verdict: raw, changed: true };
  return { state: { ...prev, run, recent }, verdict: prev.published, changed: false };
}
