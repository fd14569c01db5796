// Reports over a stored period: the numbers match the samples, and the AI-only statement is
// false exactly when it must be.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildReport } from '../../collector/report/build.js';
import type { Report } from '../../collector/report/types.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { generateAgentKeys } from '../../proto/chain.js';
import { tempDir } from '../helpers/env.js';
import { S, T0, gappyHost, steadyHost } from './stored-period.js';

const keys = generateAgentKeys();
const close = (a: number, b: number, eps = 1e-9): void => assert.ok(Math.abs(a - b) < eps, `${a} ≈ ${b}`);

describe('report over a stored period', () => {
  const tmp = tempDir('assay-report-');
  let store: SqliteStore;
  let gappy: Report;

  before(async () => {
    store = new SqliteStore(join(tmp.dir, 'assay.db'));
    await gappyHost(store);
    await steadyHost(store, 'trainer', 'ai-training', 600);
    await steadyHost(store, 'miner', 'pow-mining', 600);
    gappy = await buildReport(store, { hostIds: ['gappy'], fromMs: T0, toMs: T0 + 600 * S, keys, nowMs: T0 + 700 * S });
  });
  after(async () => {
    await store.close();
    tmp.cleanup();
  });

  it('coverage and every gap with its cause', () => {
    const d = gappy.hosts[0]!.derived;
    assert.equal(d.samples, 520);
    assert.equal(d.intervalMs, 1000);
    assert.equal(d.coverage.coveredMs, 520_000);
    close(d.coverage.ratio, 520 / 600);
    assert.deepEqual(
      d.coverage.gaps.map((g) => [g.cause, g.fromMs - T0, g.toMs - T0]),
      [
        ['agent_down', 200_000, 260_000],
        ['spool_thinned', 460_000, 480_000], // the last lost sample (479 s) stood for one interval
      ],
    );
  });

  it('time and energy per class from the verdict timeline; the mixed interval counts its miner', () => {
    const d = gappy.hosts[0]!.derived;
    const byClass = Object.fromEntries(d.classes.map((c) => [c.class, c]));
    assert.deepEqual(Object.keys(byClass).sort(), ['ai-training', 'mixed']);
    assert.equal(byClass['ai-training']!.timeMs, 460_000);
    assert.equal(byClass.mixed!.timeMs, 60_000);
    close(byClass.mixed!.timeShare, 60 / 520);
    // 100 W RAPL package power in every sample: kWh = W * s / 3.6e6
    close(d.energy.totalKwh!, (100 * 520) / 3.6e6);
    close(byClass.mixed!.energyKwh!, (100 * 60) / 3.6e6);
    close(byClass.mixed!.energyShare!, 60 / 520);
    close(d.nonAi.share, (60 * 0.3) / 520);
    assert.equal(d.nonAi.longestRunMs, 60_000);
    assert.deepEqual(d.timeline.map((s) => [s.class, s.fromMs - T0, s.toMs - T0]), [
      ['ai-training', 0, 300_000],
      ['mixed', 300_000, 360_000],
      ['ai-training', 360_000, 600_000],
    ]);
    assert.ok(d.evidence.some((e) => e.class === 'mixed' && e.parts.some((p) => p.class === 'pow-mining')));
    assert.equal(d.topProcesses[0]!.name, 'python3');
    assert.equal(d.topProcesses[0]!.exe, '/usr/bin/python3.11');
    assert.deepEqual(d.network.listening, [{ protocol: 'tcp', port: 29500, process: 'python3' }]);
    assert.equal(d.network.peers[0]!.address, '10.0.0.6');
  });

  it('identity and the hash-chain segment covering the period', () => {
    const h = gappy.hosts[0]!;
    assert.equal(h.input.identity.id, 'gappy');
    assert.match(h.input.identity.fingerprint!, /^SHA256:/);
    assert.equal(h.input.batches!.length, 11); // 200/50 + 200/50 + ceil(120/50)
    assert.equal(h.derived.chain!.startsAfter, '');
    for (let i = 1; i < h.derived.chain!.batches.length; i++) assert.equal(h.derived.chain!.batches[i]!.prevHash, h.derived.chain!.batches[i - 1]!.hash);
  });

  it('a hidden miner is non-AI work found, low coverage is said too, with the reasons', () => {
    assert.equal(gappy.statement.verdict, 'non-ai-found');
    assert.ok(gappy.statement.reasons.some((r) => /coverage 86\.67 % is below the 99\.00 % threshold/.test(r)));
    assert.ok(gappy.statement.reasons.some((r) => /confident non-AI work held 3\.46 %/.test(r)));
    assert.equal(gappy.statement.headline, 'Non-AI work found: 96.5 % AI, 3.5 % non-AI, 0.0 % doubtful non-AI, 0.0 % idle/general, coverage 86.7 %');
    assert.deepEqual(gappy.thresholds, { minCoverage: 0.99, maxNonAiShare: 0.01, maxNonAiRunMs: 300_000, minConfidence: 0.3 });
  });

  it('AI-only for a fully covered training host; non-AI work found for a miner and for a group with it', async () => {
    const ok = await buildReport(store, { hostIds: ['trainer'], fromMs: T0, toMs: T0 + 600 * S, keys });
    assert.equal(ok.statement.verdict, 'ai-only', ok.statement.reasons.join('; '));
    assert.equal(ok.hosts[0]!.derived.coverage.ratio, 1);
    assert.equal(ok.hosts[0]!.derived.aiShare, 1);
    const bad = await buildReport(store, { hostIds: ['miner'], fromMs: T0, toMs: T0 + 600 * S, keys });
    assert.equal(bad.statement.verdict, 'non-ai-found');
    assert.ok(bad.statement.reasons.some((r) => /non-AI work held 100\.00 %/.test(r)));
    assert.ok(bad.statement.reasons.some((r) => /pow-mining held for 10\.0 min/.test(r)));
    const group = await buildReport(store, { hostIds: ['trainer', 'miner'], fromMs: T0, toMs: T0 + 600 * S, keys });
    assert.equal(group.statement.verdict, 'non-ai-found');
    assert.ok(group.statement.reasons.every((r) => r.startsWith('miner: ')));
    assert.equal(group.statement.shares.nonAi, 0.5);
    assert.equal(group.statement.shares.ai, 0.5);
  });

  it('thresholds are the operator\'s to state, and the statement follows them', async () => {
    const lax = await buildReport(store, { hostIds: ['gappy'], fromMs: T0, toMs: T0 + 600 * S, keys, thresholds: { minCoverage: 0.8, maxNonAiShare: 0.05, maxNonAiRunMs: 120_000 } });
    assert.equal(lax.statement.verdict, 'ai-only', lax.statement.reasons.join('; '));
    const strictRun = await buildReport(store, { hostIds: ['gappy'], fromMs: T0, toMs: T0 + 600 * S, keys, thresholds: { minCoverage: 0.8, maxNonAiShare: 0.05, maxNonAiRunMs: 30_000 } });
    assert.equal(strictRun.statement.verdict, 'non-ai-found');
    assert.ok(strictRun.statement.reasons.some((r) => /held for 1\.0 min/.test(r)));
  });

  it('plots have holes exactly in the gaps: a bucket is null only inside agent_down or a declared gap', () => {
    const d = gappy.hosts[0]!.derived;
    const inGap = (t: number): boolean => d.coverage.gaps.some((g) => t >= g.fromMs && t < g.toMs);
    assert.equal(d.series.tsMs.length, 600);
    d.series.tsMs.forEach((t, i) => assert.equal(d.series.cpuPct[i] === null, inGap(t), `bucket at ${t - T0} ms`));
  });
});
