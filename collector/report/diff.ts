// Paths where two JSON values differ, for verify's failure lines.
import { canonicalize } from './canonical.js';

/** Paths where two JSON values differ (at most `max`). */
export function differences(a: unknown, b: unknown, path = '', max = 8, out: string[] = []): string[] {
  if (out.length >= max) return out;
  if (canonicalize(a ?? null) === canonicalize(b ?? null)) return out;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of [...keys].sort()) differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k, max, out);
    return out;
  }
  out.push(`${path || '(root)'}: report says ${JSON.stringify(a)?.slice(0, 80)}, data gives ${JSON.stringify(b)?.slice(0, 80)}`);
  return out;
}
