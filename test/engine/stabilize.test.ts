// Verdict hysteresis: noise does not flap the published class; a real change shows within 30 s.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRulesPath, loadRulesFile, type Verdict, type WorkloadClass } from '../../collector/engine/index.js';
import { stabilize, type StabilityState } from '../../collector/engine/stabilize.js';

const rules = loadRulesFile(defaultRulesPath);

function raw(cls: WorkloadClass, tsMs: number): Verdict {
  return {
    class: cls,
    confidence: 0.8,
    scores: { 'ai-training': 0, 'ai-inference': 0, 'chain-validation': 0, 'storage-proving': 0, 'pow-mining': 0, general: 0, idle: 0 },
    parts: [],
    evidence: [],
    window: { fromMs: tsMs - 120_000, toMs: tsMs, samples: 120 },
    unavailable: [],
    rulesVersion: rules.version,
  };
}

/** Runs raw classes (one every `everyMs`) through the hysteresis; returns the published classes. */
function publish(classes: WorkloadClass[], everyMs = 5_000): { published: WorkloadClass[]; changes: number } {
  let state: StabilityState | null = null;
  const published: WorkloadClass[] = [];
  let changes = 0;
  classes.forEach((c, i) => {
    const r = stabilize(state, raw(c, 1_000_000 + i * everyMs), 1_000_000 + i * everyMs, rules.stability);
    state = r.state;
    published.push(r.verdict.class);
    if (r.changed) changes++;
  });
  return { published, changes };
}

describe('stabilize', () => {
  it('publishes the first verdict at once', () => {
    assert.deepEqual(publish(['pow-mining']).published, ['pow-mining']);
  });

  it('alternating noisy raw verdicts do not flap', () => {
    const noisy: WorkloadClass[] = [];
    for (let i = 0; i < 60; i++) noisy.push(i % 2 === 0 ? 'ai-training' : 'general');
    const { published, changes } = publish(noisy);
    assert.equal(changes, 1, published.join(','));
    assert.ok(published.every((c) => c === 'ai-training'));
  });

  it('occasional single outliers at 1 s cadence do not flap', () => {
    const xs: WorkloadClass[] = [];
    for (let i = 0; i < 300; i++) xs.push(i % 7 === 3 ? 'mixed' : i % 11 === 5 ? 'general' : 'pow-mining');
    const { published, changes } = publish(xs, 1_000);
    assert.equal(changes, 1);
    assert.ok(published.every((c) => c === 'pow-mining'));
  });

  it('a step change is published within 30 s', () => {
    const xs: WorkloadClass[] = [...Array<WorkloadClass>(40).fill('idle'), ...Array<WorkloadClass>(40).fill('pow-mining')];
    const { published } = publish(xs);
    const at = published.indexOf('pow-mining');
    assert.ok(at >= 40, 'not before the change');
    assert.ok((at - 40) * 5_000 <= 30_000, `published ${(at - 40) * 5} s after the change`);
    assert.ok(published.slice(at).every((c) => c === 'pow-mining'));
  });

  it('a noisy but real change is published within 30 s', () => {
    const after: WorkloadClass[] = ['chain-validation', 'general', 'chain-validation', 'chain-validation', 'general', 'chain-validation', 'chain-validation', 'chain-validation', 'chain-validation'];
    const xs: WorkloadClass[] = [...Array<WorkloadClass>(20).fill('general'), ...after, ...Array<WorkloadClass>(10).fill('chain-validation')];
    const { published } = publish(xs);
    const at = published.indexOf('chain-validation');
    assert.ok(at >= 20 && (at - 20) * 5_000 <= 30_000, `published at step ${at}`);
  });

  it('holds the last verdict of the published class while a challenger is unconfirmed', () => {
    let state: StabilityState | null = null;
    const a = stabilize(state, raw('ai-training', 1000), 1000, rules.stability);
    state = a.state;
    const b = stabilize(state, raw('general', 6000), 6000, rules.stability);
    assert.equal(b.verdict.class, 'ai-training');
    assert.equal(b.verdict.window.toMs, 1000);
    assert.equal(b.changed, false);
  });
});
