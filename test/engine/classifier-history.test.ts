// The collector's classifier publishes through the hysteresis and stores a verdict whenever the
// published class changes: that stored history is what /api/hosts/:id/verdicts returns.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATCH_UP_POINTS, Classifier, type ClassifierStore } from '../../collector/classifier.js';
import { defaultRulesPath, loadRulesFile, type Verdict } from '../../collector/engine/index.js';
import type { StoredVerdict } from '../../collector/store/store.js';
import { buildWindow } from './build-window.js';
import { torchTrainingCpu, xmrig } from './workloads.js';

const rules = loadRulesFile(defaultRulesPath);

/** Only what the classifier calls; anything else is a test bug. */
function memoryStore(): { store: ClassifierStore; stored: StoredVerdict[] } {
  const stored: StoredVerdict[] = [];
  const store: ClassifierStore = {
    getHost: async () => null,
    samples: async () => [],
    signaturesOf: async () => new Map(),
    putVerdict: async (_host: string, tsMs: number, verdict: Verdict) => {
      stored.push({ tsMs, verdict });
    },
    verdicts: async (_h: string, from: number, to: number) => stored.filter((v) => v.tsMs >= from && v.tsMs <= to),
  };
  return { store, stored };
}

describe('classifier: published verdict history', () => {
  it('stores each change of the published class, and the change shows within 30 s', async () => {
    const { store, stored } = memoryStore();
    const c = new Classifier(store, () => rules, { windowMs: 120_000, everyMs: 5_000, persistEveryMs: 3_600_000 });
    const miner = { ...xmrig(), from: 90 };
    const w = buildWindow({ samples: 300, procs: [miner], signaturesIn: 'sample' });
    let firstMining: number | null = null;
    for (const s of w.samples) {
      const v = await c.add('h1', [s]);
      if (v?.class === 'pow-mining' && firstMining === null) firstMining = s.tsMs ?? 0;
    }
    const t0 = w.samples[0]?.tsMs ?? 0;
    const startMs = t0 + 90 * 1000;
    assert.ok(firstMining !== null, 'mining published');
    assert.ok(firstMining - startMs <= 30_000, `published ${(firstMining - startMs) / 1000} s after the miner started`);
    const classes = stored.map((v) => v.verdict.class);
    assert.deepEqual(classes, ['idle', 'pow-mining'], classes.join(' → '));
    assert.equal(c.current('h1')?.class, 'pow-mining');
  });
});

describe('classifier: a change of workload', () => {
  it('training replaced by a miner is published as pow-mining within 30 s', async () => {
    const { store, stored } = memoryStore();
    const c = new Classifier(store, () => rules, { windowMs: 120_000, everyMs: 5_000, persistEveryMs: 3_600_000 });
    const w = buildWindow({ samples: 400, procs: [{ ...torchTrainingCpu(), to: 200 }, { ...xmrig({ pid: 5151 }), from: 200 }], signaturesIn: 'sample' });
    let firstMining: number | null = null;
    for (const s of w.samples) {
      const v = await c.add('h2', [s]);
      if (v?.class === 'pow-mining' && firstMining === null) firstMining = s.tsMs ?? 0;
    }
    const changeMs = (w.samples[0]?.tsMs ?? 0) + 200 * 1000;
    assert.ok(firstMining !== null, stored.map((v) => v.verdict.class).join(' → '));
    assert.ok(firstMining - changeMs <= 30_000, `published ${(firstMining - changeMs) / 1000} s after the change: ${stored.map((v) => `${(v.tsMs - changeMs) / 1000}:${v.verdict.class}`).join(' ')}`);
    // Identity alone no longer makes a verdict: the first seconds (before a step period shows)
    // may publish general; training must be published before the miner takes over.
    const classes = stored.map((v) => v.verdict.class);
    assert.ok(classes.indexOf('ai-training') >= 0 && classes.indexOf('ai-training') < classes.indexOf('pow-mining'), classes.join(' → '));
    assert.equal(stored.at(-1)?.verdict.class, 'pow-mining');
  });
});

describe('classifier: a backlog in one turn', () => {
  // Batches coalesced while classification was busy, or an agent's spool sent after an outage,
  // reach the classifier as one add(). The hysteresis needs a new class to hold over several
  // evaluations of sample time; with one evaluation at the end of the backlog, a host whose agent
  // then stopped kept its old published class for good.
  it('training live, then a miner\'s 60 s sent at once and nothing after: pow-mining is published', async () => {
    const { store, stored } = memoryStore();
    const c = new Classifier(store, () => rules, { windowMs: 120_000, everyMs: 5_000, persistEveryMs: 3_600_000 });
    const w = buildWindow({ samples: 260, procs: [{ ...torchTrainingCpu(), to: 200 }, { ...xmrig({ pid: 5151 }), from: 200 }], signaturesIn: 'sample' });
    for (const s of w.samples.slice(0, 200)) await c.add('h3', [s]);
    assert.equal(c.current('h3')?.class, 'ai-training', stored.map((v) => v.verdict.class).join(' → '));
    const v = await c.add('h3', w.samples.slice(200));
    assert.equal(v?.class, 'pow-mining', stored.map((x) => `${x.verdict.class}@${x.tsMs}`).join(' → '));
    assert.equal(c.current('h3')?.class, 'pow-mining');
    assert.equal(stored.at(-1)?.verdict.class, 'pow-mining');
    // Bounded work: a few evaluations for the whole backlog, not one per interval.
    assert.ok(stored.length <= 2 + CATCH_UP_POINTS);
  });

  it('a miner\'s 90 s inside a backlog that ends with training again is published, not hidden by the burst', async () => {
    const { store, stored } = memoryStore();
    const c = new Classifier(store, () => rules, { windowMs: 120_000, everyMs: 5_000, persistEveryMs: 3_600_000 });
    const w = buildWindow({ samples: 400, procs: [{ ...torchTrainingCpu(), to: 200 }, { ...xmrig({ pid: 5151 }), from: 200, to: 290 }, { ...torchTrainingCpu({ pid: 7171 }), from: 290 }], signaturesIn: 'sample' });
    for (const s of w.samples.slice(0, 200)) await c.add('h4', [s]);
    assert.equal(c.current('h4')?.class, 'ai-training');
    // The rest in chunks of 120 samples, as the classify queue hands a backlog over.
    for (let i = 200; i < 400; i += 120) await c.add('h4', w.samples.slice(i, i + 120));
    const after = stored.filter((v) => v.tsMs > (w.samples[199]?.tsMs ?? 0)).map((v) => v.verdict.class);
    assert.ok(after.includes('pow-mining'), after.join(' → '));
  });
});
