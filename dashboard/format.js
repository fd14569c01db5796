// Formatting of numbers, sizes and times for display. Pure functions.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes, digits = 1) {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  let v = Math.abs(bytes);
  let i = 0;
  while (v >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  const sign = bytes < 0 ? '-' : '';
  return `${sign}${i === 0 ? Math.round(v) : v.toFixed(v >= 100 ? 0 : digits)} ${BYTE_UNITS[i]}`;
}

/** Bytes per second → "12 MiB/s". */
export function formatRate(bytesPerSec) {
  if (bytesPerSec === null || bytesPerSec === undefined || !Number.isFinite(bytesPerSec)) return '—';
  return `${formatBytes(bytesPerSec)}/s`;
}

/** 0.873 → "87%"; accepts null. */
export function formatConfidence(c) {
  if (c === null || c === undefined || !Number.isFinite(c)) return '—';
  return `${Math.round(c * 100)}%`;
}

/** A percentage value already in 0..100 → "42.1%". */
export function formatPct(p, digits = 1) {
  if (p === null || p === undefined || !Number.isFinite(p)) return '—';
  return `${p.toFixed(digits)}%`;
}

export function formatWatts(w) {
  if (w === null || w === undefined || !Number.isFinite(w)) return '—';
  return `${w >= 100 ? Math.round(w) : w.toFixed(1)} W`;
}

/** Any evidence value (number, string, boolean) → display text. */
export function formatValue(v) {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
  }
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (v === null || v === undefined) return '—';
  return String(v);
}

/** Milliseconds ago → "3 s ago", "5 min ago", "2 h ago", "4 d ago". */
export function formatAgo(tsMs, nowMs = Date.now()) {
  if (!Number.isFinite(tsMs)) return 'never';
  const s = Math.max(0, Math.round((nowMs - tsMs) / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return `${hrs} h ago`;
  return `${Math.floor(hrs / 24)} d ago`;
}

/** Unix ms → local "2025-01-31 14:05:09". */
export function formatTime(tsMs) {
  if (!Number.isFinite(tsMs)) return '—';
  const d = new Date(tsMs);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Milliseconds → "15 m", "1 h 30 m". */
export function formatDuration(ms) {
  if (!Number.isFinite(ms)) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const hrs = Math.floor(m / 60);
  const rem = m % 60;
  return rem ? `${hrs} h ${rem} min` : `${hrs} h`;
}
