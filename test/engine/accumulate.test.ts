// Long-horizon history: buckets fold samples incrementally, bounded by span, and the engine's
// horizon features see steady averages and long periods.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ISample } from '../../proto/codec.js';
import { HistoryAccumulator } from '../../collector/engine/accumulate.js';
import { defaultRulesPath, evaluate, features, featureOptions, loadRulesFile } from '../../collector/engine/index.js';
import { HostWindow } from '../../collector/window.js';

const rules = loadRulesFile(defaultRulesPath);
const T0 = 1_700_000_000_000;

function sample(i: number, cpu: number, readBps = 0): ISample {
  return {
    tsMs: T0 + i * 1000,
    cpu: { totalPct: cpu / 4, perCorePct: [cpu / 4, cpu / 4, cpu / 4, cpu / 4] },
    disks: [{ device: 'sda', readBytesPerSec: readBps, writeBytesPerSec: 0 }],
    processes: [{ pid: 42, startTimeTicks: 7, name: 'worker', cpuPct: cpu, rssBytes: 1e6, threads: 4, readBytesPerSec: readBps }],
  };
}

describe('HistoryAccumulator', () => {
  it('keeps at most span/bucket buckets per horizon and bucket means', () => {
    const acc = new HistoryAccumulator([{ name: '10m', spanMs: 600_000, bucketMs: 10_000, minCycles: 3 }]);
    for (let i = 0; i < 3600; i++) acc.add(sample(i, i % 2 === 0 ? 100 : 0));
    const h = acc.view().horizons[0];
    assert.ok(h);
    assert.equal(h.cpuMeanPct.length, 60);
    assert.equal(h.bucketsCovered, 60);
    for (const v of h.cpuMeanPct) assert.ok(Math.abs(v - 12.5) < 1e-9, String(v));
    const p = h.processes.get('42:7');
    assert.ok(p);
    assert.equal(p.bucketsPresent, 60);
    for (const v of p.cpuMeanPct) assert.ok(Math.abs(v - 50) < 1e-9);
  });

  it('a gap longer than the span restarts the ring; late samples fold into held buckets', () => {
    const acc = new HistoryAccumulator([{ name: '60s', spanMs: 60_000, bucketMs: 1000, minCycles: 3 }]);
    acc.add(sample(0, 100));
    acc.add(sample(10_000, 100));
    acc.add(sample(10_002, 100));
    acc.add(sample(10_001, 40));
    const h = acc.view().horizons[0];
    assert.ok(h);
    assert.equal(h.cpuMeanPct.length, 3);
    assert.equal(h.bucketsCovered, 3);
  });

  it('finds a 30 min read burst period on the 60 min horizon', () => {
    const w = new HostWindow(120_000, rules.history.horizons);
    for (let i = 0; i < 3 * 3600; i += 1) w.add([sample(i, 20, i % 1800 < 120 ? 50e6 : 0)]);
    const f = features(w.view(), featureOptions(rules));
    const p = f.processes.find((x) => x.pid === 42);
    const long = p?.history.find((x) => x.name === '60m');
    assert.ok(long?.read.period, JSON.stringify(long?.read));
    assert.ok(Math.abs(long.read.period.ms - 1_800_000) <= 120_000, String(long.read.period.ms));
    assert.equal(f.history.length, rules.history.horizons.length);
  });

  it('a flat series has no period on any horizon', () => {
    const w = new HostWindow(120_000, rules.history.horizons);
    for (let i = 0; i < 3600; i++) w.add([sample(i, 100)]);
    const f = features(w.view(), featureOptions(rules));
    for (const h of f.history) assert.equal(h.cpu.period, null, h.name);
  });

  it('evaluating with 60 min of history at 1 Hz stays cheap', () => {
    const w = new HostWindow(120_000, rules.history.horizons);
    for (let i = 0; i < 3600; i++) w.add([sample(i, 50 + (i % 13))]);
    const t = performance.now();
    for (let k = 0; k < 20; k++) evaluate(w.view(), rules);
    const perEval = (performance.now() - t) / 20;
    assert.ok(perEval < 100, `${perEval.toFixed(1)} ms per evaluation`);
  });
});
