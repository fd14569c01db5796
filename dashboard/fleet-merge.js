// Applying /live frames to the fleet a page holds (no DOM, no globals: the collector's tests run
// this same file against real frames). A snapshot replaces the fleet; a delta brings changed
// hosts, each with only its changed trend buckets, merged by bucket start.

const TREND_KEYS = ['tsMs', 'cpuPct', 'gpuPct', 'powerWatts'];

/** A host's trend with the buckets `add` brings, without those that ended before `fromMs`, oldest first. */
export function mergeTrend(old, add, fromMs) {
  const width = (add && add.bucketMs) || (old && old.bucketMs) || 0;
  const points = new Map();
  for (const t of [old, add]) {
    if (!t || !Array.isArray(t.startMs)) continue;
    t.startMs.forEach((start, i) => points.set(start, TREND_KEYS.map((k) => (Array.isArray(t[k]) ? t[k][i] : null))));
  }
  const starts = [...points.keys()].filter((s) => s + width > fromMs).sort((a, b) => a - b);
  const out = { bucketMs: width, startMs: starts };
  TREND_KEYS.forEach((k, j) => (out[k] = starts.map((s) => points.get(s)[j])));
  return out;
}

/** Hosts by hostname, then id (the collector's order). */
export const byName = (a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Applies one frame to `byId` (host id -> host, changed in place); returns the ids it changed,
 * or null for a frame that is not a fleet frame.
 */
export function applyFrame(byId, msg) {
  if (!msg || !Array.isArray(msg.hosts)) return null;
  if (msg.type === 'snapshot') {
    byId.clear();
    for (const h of msg.hosts) byId.set(h.id, h);
  } else if (msg.type === 'delta') {
    const fromMs = Number(msg.nowMs) - Number(msg.trendMs);
    for (const h of msg.hosts) {
      const old = byId.get(h.id);
      byId.set(h.id, { ...h, trend: mergeTrend(old ? old.trend : null, h.trend, fromMs) });
    }
  } else return null;
  return msg.hosts.map((h) => h.id);
}
