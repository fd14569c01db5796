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
 * [percentile(xs, pA), percentile(xs, pB)] without sorting: the values at the ranks the
 * interpolation reads are found by selection (Wirth's quickselect on a copy), the same numbers as
 * a sort would put there when every value is finite (equal values are interchangeable; 0 and -0
 * both interpolate to 0). A series with a NaN or an infinite value takes percentile()'s sort, and a
 * constant one needs neither. A series' p95 and median (flatness) cost one pass each, not a sort.
 */
export function percentilePair(xs: readonly number[], pA: number, pB: number): [number, number] {
  const n = xs.length;
  if (n === 0) return [0, 0];
  const v = xs[0]!;
  let constant = true;
  let finite = true;
  for (let i = 0; i < n; i++) {
    const x = xs[i]!;
    if (x !== v) constant = false;
    if (!Number.isFinite(x)) finite = false;
  }
  if (!finite || constant || !Number.isFinite(pA) || !Number.isFinite(pB)) return [percentile(xs, pA), percentile(xs, pB)];
  const a = Float64Array.from(xs);
  return [selectPercentile(a, pA), selectPercentile(a, pB)];
}

/** percentile()'s interpolation on `a` (finite values, any order; reordered in place). */
function selectPercentile(a: Float64Array, p: number): number {
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (a.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  select(a, lo);
  const loV = a[lo]!;
  let hiV = loV;
  if (hi > lo) {
    // Everything after lo is >= a[lo] now: the next rank's value is their minimum.
    hiV = a[lo + 1]!;
    for (let i = lo + 2; i < a.length; i++) if (a[i]! < hiV) hiV = a[i]!;
  }
  return loV + (hiV - loV) * (rank - lo);
}

/** Reorders `a` so that a[k] is its k-th smallest value, with no larger value before it and no smaller after it. */
function select(a: Float64Array, k: number): void {
  let l = 0;
  let r = a.length - 1;
  while (l < r) {
    const x = a[k]!;
    let i = l;
    let j = r;
    do {
      while (a[i]! < x) i++;
      while (x < a[j]!) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    } while (i <= j);
    if (j < k) l = i;
    if (k < i) r = j;
  }
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

export interface QuantumOptions {
  /** A sample at or above this is a burst; below it the sample is quiet (a log line, nothing). */
  minBurst: number;
  /** Bursts needed before a size can be called repeated. */
  minBursts: number;
  /** Share of samples that must be quiet (and at least minBursts - 1 quiet gaps between bursts): a steady stream is no series of snapshots. */
  minQuietShare: number;
  /** Each burst must lie within this fraction of the quantum of a whole multiple of it. */
  tolerance: number;
  /** Largest multiple accepted (two snapshots falling into one sample give 2x). */
  maxMultiple: number;
}

export interface Quantum {
  /** The repeated burst size (same unit as the series). */
  quantum: number;
  bursts: number;
  quietShare: number;
}

/**
 * Bursts of one repeated size: every burst sample is (within tolerance) a small whole multiple of
 * one quantum, with quiet samples between. The quantum is the median of the smallest bursts (those
 * up to 1.5x the smallest), so that samples holding two snapshots do not pull it up. null when the
 * series has too few bursts, too few quiet samples or quiet gaps between bursts, or any burst of
 * another size.
 */
export function repeatedBurstSize(xs: readonly number[], o: QuantumOptions): Quantum | null {
  const bursts = xs.filter((x) => x >= o.minBurst);
  const quietShare = xs.length > 0 ? (xs.length - bursts.length) / xs.length : 0;
  if (bursts.length < o.minBursts || bursts.length === 0 || quietShare < o.minQuietShare) return null;
  // Quiet BETWEEN bursts: at least minBursts - 1 quiet gaps with a burst on each side (a stream
  // that merely started late, or stopped, has quiet samples only at its ends).
  let gaps = 0;
  let seenBurst = false;
  let quietSince = false;
  for (const x of xs) {
    if (x >= o.minBurst) {
      if (seenBurst && quietSince) gaps++;
      seenBurst = true;
      quietSince = false;
    } else if (seenBurst) quietSince = true;
  }
  if (gaps < o.minBursts - 1) return null;
  let smallest = Infinity;
  for (const b of bursts) smallest = Math.min(smallest, b);
  const quantum = median(bursts.filter((b) => b <= 1.5 * smallest));
  if (!(quantum > 0)) return null;
  for (const b of bursts) {
    const k = Math.round(b / quantum);
    if (k < 1 || k > o.maxMultiple || Math.abs(b - k * quantum) > o.tolerance * quantum) return null;
  }
  return { quantum, bursts: bursts.length, quietShare };
}
