// Report periods from the command line or a query string: ISO 8601 dates or Unix milliseconds;
// by default the last 24 hours.
export const DEFAULT_REPORT_MS = 24 * 3600_000;

/** The last millisecond of 9999-12-31 (UTC): later times have no ISO date to print. */
const LAST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export function parseTime(v: string, name = 'time'): number {
  const s = v.trim();
  const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(ms)) throw new Error(`${name}: expected an ISO date (2025-01-31T12:00Z) or Unix milliseconds, got "${v}"`);
  // `to=9999999999999999` built a whole report and then failed with a 500 "Invalid time value";
  // dates before 1970 made periods with negative milliseconds.
  if (ms < 0 || ms > LAST_MS) throw new Error(`${name}: "${v}" is outside 1970-01-01 … 9999-12-31`);
  return ms;
}

export function reportPeriod(from: string | undefined, to: string | undefined, nowMs: number): { fromMs: number; toMs: number } {
  const toMs = to ? parseTime(to, 'to') : nowMs;
  const fromMs = from ? parseTime(from, 'from') : Math.max(0, toMs - DEFAULT_REPORT_MS);
  if (!(toMs > fromMs)) throw new Error('the report period must end after it starts');
  return { fromMs, toMs };
}
