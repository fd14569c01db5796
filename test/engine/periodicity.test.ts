// Dominant period by autocorrelation: known periods are found, flat and noise series have none.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { autocorrelation, dominantPeriod } from '../../collector/engine/periodicity.js';
import { rng } from './build-window.js';

const opts = { minStrength: 0.5, minCycles: 3, minLagSamples: 2, noiseSigmas: 3 };

function series(n: number, f: (i: number) => number): number[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

describe('periodicity', () => {
  it('finds a period of 12 samples in a noisy spike train (Ethereum slots at 1 s sampling)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = rng(seed);
      const xs = series(120, (i) => (i % 12 < 2 ? 140 : 20) + 25 * (r() - 0.5));
      const p = dominantPeriod(xs, opts);
      assert.ok(p, `seed ${seed}: no period`);
      assert.ok(Math.abs(p.samples - 12) <= 0.5, `seed ${seed}: period ${p.samples}`);
      assert.ok(p.strength >= 0.5 && p.strength <= 1);
    }
  });

  it('finds a sinusoid period and refines it between lags', () => {
    const p = dominantPeriod(series(100, (i) => 50 + 40 * Math.sin((2 * Math.PI * i) / 7.5)), opts);
    assert.ok(p);
    assert.ok(Math.abs(p.samples - 7.5) <= 0.35, `period ${p.samples}`);
  });

  it('prefers the fundamental over its multiples', () => {
    const p = dominantPeriod(series(120, (i) => (i % 6 < 3 ? 100 : 0)), opts);
    assert.ok(p);
    assert.ok(Math.abs(p.samples - 6) <= 0.5, `period ${p.samples}`);
  });

  it('a flat series has no period', () => {
    assert.equal(dominantPeriod(series(120, () => 99.5), opts), null);
    assert.equal(dominantPeriod(series(120, () => 0), opts), null);
  });

  it('white noise has no period', () => {
    let found = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed);
      if (dominantPeriod(series(60, () => 100 + 10 * (r() - 0.5)), opts)) found++;
    }
    assert.ok(found <= 2, `${found} of 200 noise series reported a period`);
  });

  it('a trend has no period', () => {
    assert.equal(dominantPeriod(series(120, (i) => i * 0.5), opts), null);
  });

  it('a series shorter than minCycles periods has none', () => {
    assert.equal(dominantPeriod(series(30, (i) => (i % 12 < 2 ? 100 : 0)), opts), null);
    assert.equal(dominantPeriod([], opts), null);
    assert.equal(dominantPeriod([1, 2], opts), null);
  });

  it('autocorrelation is 1 at lag 0 and total on flat input', () => {
    const r = autocorrelation([1, 3, 1, 3, 1, 3], 3);
    assert.equal(r[0], 1);
    assert.ok((r[1] ?? 0) < 0 && (r[2] ?? 0) > 0);
    assert.deepEqual(autocorrelation([5, 5, 5], 2), [0, 0, 0]);
  });
});
