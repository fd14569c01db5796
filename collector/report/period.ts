// Report periods from the command line or a query string: ISO 8601 dates or Unix milliseconds;
// by default the last 24 hours.
export const DEFAULT_REPORT_MS = 24 * 3600_000;

export function parseTime(v: string, name = 'time'): number {
  const s = v.trim();
  if (/^\d+$/.test(s)) return Number(s);
  const ms = Date.parse(s);
  if (!Number.isFinite(ms)) throw new Error(`${name}: expected an ISO date (2025-01-31T12:00Z) or Unix milliseconds, got "${v}"`);
  return ms;
}

export function reportPeriod(from: string | undefined, to: string | undefined, nowMs: number): { fromMs: number; toMs: number } {
  const toMs = to ? parseTime(to, 'to') : nowMs;
  const fromMs = from ? parseTime(from, 'from') : toMs - DEFAULT_REPORT_MS;
  if (!(toMs > fromMs)) throw new Error('the report period must end after it starts');
  return { fromMs, toMs };
}
