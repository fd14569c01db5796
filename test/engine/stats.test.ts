// Statistics helpers on constructed series.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clamp, cv, cvOfMean, dutyCycle, flatness, flatnessAround, mean, median, num, percentile, percentilePair, stddev } from '../../collector/engine/stats.js';

const close = (a: number, b: number, eps = 1e-9): void => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

describe('stats', () => {
  it('mean, stddev and CV', () => {
    close(mean([1, 2, 3, 4]), 2.5);
    close(stddev([2, 4, 4, 4, 5, 5, 7, 9]), 2);
    close(cv([2, 4, 4, 4, 5, 5, 7, 9]), 2 / 5);
    close(cv([100, 100, 100]), 0);
  });

  it('p95 interpolates between ranks like numpy', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    close(percentile(xs, 95), 95.05);
    close(percentile([5], 95), 5);
    close(median([3, 1, 2]), 2);
    close(median([4, 1, 2, 3]), 2.5);
    // Order of input does not matter.
    close(percentile([...xs].reverse(), 95), 95.05);
  });

  it('flatness counts samples in the band around the median', () => {
    close(flatness([100, 99, 101, 100, 100], 0.05, 0), 1);
    close(flatness([100, 100, 100, 0, 100], 0.05, 0), 0.8);
    // The absolute band keeps a near-zero series from looking jagged.
    close(flatness([0.1, 0.5, 0.2, 0.9], 0.1, 2), 1);
  });

  it('duty cycle', () => {
    close(dutyCycle([0, 50, 100, 100], 50), 0.75);
  });

  it('empty and non-finite input degrade to 0, never NaN', () => {
    for (const f of [mean, stddev, cv, median, (xs: number[]) => percentile(xs, 95), (xs: number[]) => flatness(xs, 0.1, 1), (xs: number[]) => dutyCycle(xs, 1)]) {
      assert.equal(f([]), 0);
    }
    assert.equal(cv([0, 0, 0]), 0);
    assert.equal(num(undefined), 0);
    assert.equal(num(null), 0);
    assert.equal(num(Number.NaN), 0);
    assert.equal(clamp(Number.NaN), 0);
    assert.equal(clamp(2), 1);
  });
  it('a constant series gives exactly what the sorted interpolation gives (the shortcut changes no figure)', () => {
    // The interpolation as written before the constant-series shortcut.
    const sorted = (xs: number[], p: number): number => {
      if (xs.length === 0) return 0;
      const s = [...xs].sort((a, b) => a - b);
      const rank = (Math.min(100, Math.max(0, p)) / 100) * (s.length - 1);
      const lo = Math.floor(rank);
      const loV = s[lo] ?? 0;
      const hiV = s[Math.ceil(rank)] ?? loV;
      return loV + (hiV - loV) * (rank - lo);
    };
    for (const v of [0, -0, 1, -3.5, 1e300, Number.MIN_VALUE, Infinity, -Infinity, Number.NaN]) {
      for (const n of [1, 2, 7, 120]) {
        for (const p of [0, 5, 50, 95, 100, 150, -1, Number.NaN]) {
          const xs = Array.from({ length: n }, () => v);
          assert.ok(Object.is(percentile(xs, p), sorted(xs, p)), `percentile of ${n} x ${v} at ${p}: ${percentile(xs, p)} vs ${sorted(xs, p)}`);
        }
      }
    }
    assert.ok(Object.is(median([-0, -0, -0]), 0), '-0 reads as 0, as the interpolation gives');
  });

  it('percentilePair, cvOfMean and flatnessAround give exactly the numbers of percentile, cv and flatness', () => {
    // A deterministic generator (LCG): series of every shape the engine sees (sorted, reversed,
    // few distinct values, 0 and -0 mixed, constant, tiny, with NaN or infinities).
    let seed = 12345;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const shapes: ((n: number) => number[])[] = [
      (n) => Array.from({ length: n }, () => rnd() * 100),
      (n) => Array.from({ length: n }, () => Math.floor(rnd() * 4)),
      (n) => Array.from({ length: n }, () => (rnd() < 0.5 ? 0 : -0)),
      (n) => Array.from({ length: n }, () => (rnd() < 0.9 ? 0 : rnd() * 1e9)),
      (n) => Array.from({ length: n }, (_, i) => i * 0.1),
      (n) => Array.from({ length: n }, (_, i) => n - i),
      (n) => Array.from({ length: n }, () => 0.1),
      (n) => Array.from({ length: n }, () => rnd() * 200 - 100),
      (n) => Array.from({ length: n }, (_, i) => (i % 7 === 3 ? Infinity : rnd())),
      (n) => Array.from({ length: n }, (_, i) => (i % 5 === 1 ? NaN : rnd())),
      (n) => Array.from({ length: n }, (_, i) => (i % 2 ? -Infinity : Infinity)),
    ];
    let checked = 0;
    for (const shape of shapes)
      for (const n of [0, 1, 2, 3, 5, 20, 60, 61, 120, 121, 360]) {
        const xs = shape(n);
        const copy = [...xs];
        for (const [pA, pB] of [[95, 50], [0, 100], [50, 95], [33.3, 99.9]] as const) {
          const [a, b] = percentilePair(xs, pA, pB);
          assert.ok(Object.is(a, percentile(xs, pA)), `p${pA} of ${JSON.stringify(xs)}: ${a} != ${percentile(xs, pA)}`);
          assert.ok(Object.is(b, percentile(xs, pB)), `p${pB} of ${JSON.stringify(xs)}: ${b} != ${percentile(xs, pB)}`);
          checked++;
        }
        assert.ok(Object.is(cvOfMean(xs, mean(xs)), cv(xs)), `cv of ${JSON.stringify(xs)}`);
        assert.ok(Object.is(flatnessAround(xs, median(xs), 0.15, 2), flatness(xs, 0.15, 2)), `flatness of ${JSON.stringify(xs)}`);
        assert.deepEqual(xs, copy, 'the series is left as it was');
      }
    assert.equal(checked, shapes.length * 11 * 4);
  });
});
