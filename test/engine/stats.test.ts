// Statistics helpers on constructed series.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clamp, cv, dutyCycle, flatness, mean, median, num, percentile, stddev } from '../../collector/engine/stats.js';

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
});
