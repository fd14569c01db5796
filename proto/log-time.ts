// Log timestamps (proto/log.ts for pino, agent/log.ts for the agent daemon's own lines).

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * `Date.prototype.toISOString()` of `ms` (years 0-9999), built from the UTC fields. V8's
 * toISOString looks up the local time zone's display name on every call (ICUTimezoneCache::
 * LocalTimezone, then unused for ISO output), which made the agent map ~0.8 MB of ICU data and
 * code (time zone names) that nothing else in it touches (agent cost, issue 10).
 */
export function isoTimestamp(ms: number): string {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const msPart = d.getUTCMilliseconds();
  return `${y < 1000 ? String(y).padStart(4, '0') : y}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${msPart < 10 ? `00${msPart}` : msPart < 100 ? `0${msPart}` : msPart}Z`;
}
