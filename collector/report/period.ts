// Report periods from the command line or a query string: ISO 8601 dates or Unix milliseconds;
// by default the last 24 hours.
export const DEFAULT_REPORT_MS = 24 * 3600_000;

/** The last millisecond of 9999-12-31 (UTC): later times have no ISO date to print. */
const LAST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

// Unix ms, or a calendar date with an optional time that then needs its zone: `2025-01-31`
// (midnight UTC), `2025-01-31T12:00Z`, `2025-01-31T12:00:05.250+01:00`. Date.parse was used
// before and read "foo 1" as 2001-01-01 and 2025-02-30 as March 2: a report over a period nobody
// asked for, signed. A time without a zone would be the collector's local time, which the person
// typing it cannot see: refused.
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const leap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** How an input is named in an error: quoted, and cut short (it is echoed to whoever sent it). */
const shown = (v: string): string => JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);

export function parseTime(v: string, name = 'time'): number {
  const s = v.trim();
  const ms = /^\d+$/.test(s) ? Number(s) : isoMs(s, name, v);
  // `to=9999999999999999` built a whole report and then failed with a 500 "Invalid time value";
  // dates before 1970 made periods with negative milliseconds.
  if (!Number.isFinite(ms) || ms < 0 || ms > LAST_MS) throw new Error(`${name}: ${shown(v)} is outside 1970-01-01 … 9999-12-31`);
  return ms;
}

function isoMs(s: string, name: string, v: string): number {
  const m = ISO.exec(s);
  if (!m) throw new Error(`${name}: expected Unix milliseconds or an ISO date (2025-01-31, 2025-01-31T12:00Z), got ${shown(v)}`);
  const [y, mo, d, h = 0, mi = 0, sec = 0] = m.slice(1, 7).map((x) => (x === undefined ? undefined : Number(x))) as number[];
  const frac = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  const zone = m[8];
  if (m[4] !== undefined && zone === undefined) throw new Error(`${name}: ${shown(v)} has a time but no time zone: add Z (UTC) or an offset such as +01:00`);
  const days = mo! === 2 && leap(y!) ? 29 : DAYS[mo! - 1];
  if (days === undefined || d! < 1 || d! > days || h > 23 || mi > 59 || sec > 59) throw new Error(`${name}: ${shown(v)} is not a date on the calendar`);
  let offsetMin = 0;
  if (zone && zone !== 'Z') {
    const [oh, om] = [Number(zone.slice(1, 3)), Number(zone.slice(-2))];
    if (oh > 23 || om > 59) throw new Error(`${name}: ${shown(v)} has an impossible time zone offset`);
    offsetMin = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const date = new Date(0);
  date.setUTCFullYear(y!, mo! - 1, d!);
  date.setUTCHours(h, mi, sec, frac);
  return date.getTime() - offsetMin * 60_000;
}

export function reportPeriod(from: string | undefined, to: string | undefined, nowMs: number): { fromMs: number; toMs: number } {
  const toMs = to ? parseTime(to, 'to') : nowMs;
  const fromMs = from ? parseTime(from, 'from') : Math.max(0, toMs - DEFAULT_REPORT_MS);
  if (!(toMs > fromMs)) throw new Error('the report period must end after it starts');
  return { fromMs, toMs };
}
