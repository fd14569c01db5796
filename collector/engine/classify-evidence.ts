// Internal evidence record: the public Evidence plus where it came from, which the scorer needs
// to keep names and ports from deciding a class alone.
import type { Evidence, EvidenceProcess, ScoredClass } from './types.js';

/** name: process names; identity: cmdline/lib/env/cgroup; port; behaviour; host. */
export type Origin = 'name' | 'identity' | 'port' | 'behaviour';

export interface ScoredEvidence extends Evidence {
  supports: ScoredClass;
  origin: Origin;
}

export function evidence(
  origin: Origin,
  signal: string,
  value: string | number | boolean,
  supports: ScoredClass,
  weight: number,
  detail: string,
  process: EvidenceProcess,
): ScoredEvidence {
  return { origin, signal, value, supports, weight: round(weight), detail, process };
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function pct(x: number): string {
  return `${round(x, 1)}%`;
}

export function bytes(x: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = x;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${round(v, 1)} ${units[i]}`;
}

export function list(xs: readonly (string | number)[], maxItems = 3): string {
  const shown = xs.slice(0, maxItems).join(', ');
  return xs.length > maxItems ? `${shown} (+${xs.length - maxItems} more)` : shown;
}
