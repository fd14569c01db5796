// Small, total statistics helpers: every function accepts an empty series and returns 0 (never
// NaN), so that a window with missing data degrades to "no signal" instead of poisoning scores.

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Population standard deviation. */
export function stddev(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / xs.length);
}

/** Coefficient of variation (std / mean); 0 when the mean is ~0 (an all-zero series is not "variable"). */
export function cv(xs: readonly number[]): number {
  return cvOfMean(xs, mean(xs));
}

/** cv(xs) given m = mean(xs) (the same arithmetic, the mean summed once instead of twice). */
export function cvOfMean(xs: readonly number[], m: number): number {
  if (Math.abs(m) < 1e-9) return 0;
  // stddev(xs) is 0 for fewer than 2 values (0 / |m| keeps a NaN mean's NaN, as there).
  if (xs.length < 2) return 0 / Math.abs(m);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / xs.length) / Math.abs(m);
}

/**
 * xs in ascending order for percentileOfSorted: xs itself when every value is the same (a sort
 * would leave it as it is: the comparator says equal for every pair), else a sorted copy. One
 * sort serves every percentile of a series (p95, the median of flatness).
 */
export function sortedSeries(xs: readonly number[]): readonly number[] {
  const v = xs[0];
  for (let i = 1; i < xs.length; i++) if (xs[i] !== v) return [...xs].sort((a, b) => a - b);
  return xs;
}

/** percentile(xs, p) from sortedSeries(xs): the same interpolation, so the same number. */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const loV = sorted[lo] ?? 0;
  const hiV = sorted[hi] ?? loV;
  return loV + (hiV - loV) * (rank - lo);
}

/** Percentile with linear interpolation between closest ranks (numpy's default), p in 0..100. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0;
  // A constant series (most of an idle process's series are all 0) needs no sorted copy: every
  // rank holds its value, and the interpolation below gives v + 0 (so -0 reads as 0, as there).
  // A NaN never equals itself, and an infinite value interpolates to NaN there: both take the general path.
  const v = xs[0]!;
  let constant = true;
  for (let i = 1; i < xs.length; i++) {
    if (xs[i] !== v) {
      constant = false;
      break;
    }
  }
  if (constant && Number.isFinite(v) && Number.isFinite(p)) return v + 0;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const loV = sorted[lo] ?? 0;
  const hiV = sorted[hi] ?? loV;
  return loV + (hiV - loV) * (rank - lo);
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

export function max(xs: readonly number[]): number {
  let m = 0;
  for (const x of xs) if (x > m) m = x;
  return m;
}

/**
 * Share of samples within a band around the median: max(bandRel x median, bandAbs). A hashing
 * loop sits in the band all the time; a compile or a request-driven server does not.
 */
export function flatness(xs: readonly number[], bandRel: number, bandAbs: number): number {
  return flatnessAround(xs, median(xs), bandRel, bandAbs);
}

/** flatness(xs, ...) given med = median(xs). */
export function flatnessAround(xs: readonly number[], med: number, bandRel: number, bandAbs: number): number {
  if (xs.length === 0) return 0;
  const band = Math.max(bandRel * Math.abs(med), bandAbs);
  let inside = 0;
  for (const x of xs) if (Math.abs(x - med) <= band) inside++;
  return inside / xs.length;
}

/** Share of samples at or above `threshold`. */
export function dutyCycle(xs: readonly number[], threshold: number): number {
  if (xs.length === 0) return 0;
  let on = 0;
  for (const x of xs) if (x >= threshold) on++;
  return on / xs.length;
}

export function clamp(x: number, lo = 0, hi = 1): number {
  if (!Number.isFinite(x)) return lo;
  return Math.min(hi, Math.max(lo, x));
}

/** A finite number or 0: protobuf fields may be undefined, null or NaN in hand-built windows. */
export function num(x: number | null | undefined): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : 0;
}
