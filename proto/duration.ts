// Durations on the command line and in config accept `90s`, `2m`, `1h`, `500ms` or plain seconds.
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration to milliseconds; a bare number is seconds. Throws on anything else. */
export function parseDurationMs(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw new Error(`invalid duration: ${text}`);
    return text * 1000;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) throw new Error(`invalid duration "${text}" (use e.g. 500ms, 1, 90s, 2m, 1h)`);
  return Number(m[1]) * UNITS[m[2] ?? 's']!;
}
