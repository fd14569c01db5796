// The in-memory fleet summary (collector/fleet-state.ts): loaded from a real SQLite store at
// startup, kept by ingest and the classifier, versioned (changedSince), with a change feed, and
// bounded per host whatever timestamps arrive.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FleetState, type FleetChange } from '../../collector/fleet-state.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { tempDir } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { sealBatch } from '../../agent/batch.js';
import { generateAgentKeys, signBytes } from '../../proto/chain.js';
import { assay } from '../../proto/codec.js';

const keys = generateAgentKeys();

describe('fleet summary in memory', () => {
  it('loads the store\'s hosts and recent trends once, then takes hosts written by another process on reconcile', async () => {
    const tmp = tempDir();
    const store = new SqliteStore(join(tmp.dir, 'a.db'));
    try {
      const now = 1_795_000_600_000;
      await store.upsertHost({ ...fullHello('old'), hostname: 'old-host' }, now - 3_600_000);
      await store.upsertHost({ ...fullHello('new'), hostname: 'new-host' }, now - 5000);
      const samples = Array.from({ length: 30 }, (_, i) => fullSample(now - 30_000 + i * 1000, 4242));
      const bytes = samples.map((s) => assay.v1.Sample.encode(s).finish());
      const sealed = sealBatch({ agentId: 'new', seqs: samples.map((_, i) => i + 1), samples: bytes, prevHash: new Uint8Array(), gaps: [], sealedMs: 1 }, (h) => signBytes(keys, h));
      const r = await store.appendBatch(
        'new',
        { hash: sealed.hash, prevHash: new Uint8Array(), header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples: samples.map((sample, i) => ({ seq: i + 1, sample })), gaps: [] },
        now - 1000,
      );
      assert.equal(r.status, 'stored');
      await store.putVerdict('new', now - 2000, { class: 'ai-training', confidence: 0.8, scores: {} as never, parts: [], evidence: [], window: { fromMs: 0, toMs: 0, samples: 0 }, unavailable: [], rulesVersion: 't' });

      const fleet = await FleetState.load(store, now);
      const list = fleet.list();
      assert.deepEqual(list.map((h) => [h.id, h.hostname, h.class, h.online]), [['new', 'new-host', 'ai-training', true], ['old', 'old-host', null, false]]);
      const trend = list[0]!.trend;
      assert.deepEqual(trend.startMs, [now - 30_000, now - 20_000, now - 10_000], '10 s buckets of the last 30 s of samples');
      assert.ok(trend.cpuPct.every((v) => Math.abs(v - 87.5) < 1e-9));
      assert.equal(list[1]!.trend.startMs.length, 0, 'a host quiet for an hour has no trend');
      assert.deepEqual(fleet.counts(), { total: 2, online: 1, offline: 1, byClass: { 'ai-training': 1, pending: 1 } });

      // Another collector on the same database enrolls a host and hears from the old one.
      await store.upsertHost({ ...fullHello('third'), hostname: 'third-host' }, now + 1000);
      await store.upsertHost({ ...fullHello('old'), hostname: 'old-host' }, now + 1000);
      const v = fleet.version;
      await fleet.reconcile(store, now + 1000);
      assert.deepEqual(fleet.changedSince(v).map((h) => [h.id, h.online]).sort(), [['old', true], ['third', true]]);
      assert.equal(fleet.changedSince(fleet.version).length, 0, 'a reader at the current version gets nothing');
      await fleet.reconcile(store, now + 1000);
      assert.equal(fleet.changedSince(v).length, 2, 'nothing new: nothing changed');
    } finally {
      await store.close();
      tmp.cleanup();
    }
  });

  it('tells listeners every change, with the previous class for a class change', () => {
    const fleet = new FleetState();
    const seen: FleetChange[] = [];
    fleet.onChange((c) => seen.push(c));
    const t = 1_795_000_000_000;
    fleet.hello('h', 'host', t);
    fleet.verdict('h', { class: 'idle', confidence: 0.5 }, t);
    fleet.verdict('h', { class: 'idle', confidence: 0.5 }, t + 1000); // no change: no event
    fleet.verdict('h', { class: 'pow-mining', confidence: 0.9 }, t + 5000);
    fleet.sweep(t + 60_000);
    assert.deepEqual(
      seen.map((c) => [c.previous?.class ?? null, c.host.class, c.classChanged, c.onlineChanged, c.host.online]),
      [
        [null, null, true, true, true],
        [null, 'idle', true, false, true],
        ['idle', 'pow-mining', true, false, true],
        ['pow-mining', 'pow-mining', false, true, false],
      ],
    );
    assert.equal(fleet.get('h')!.classSinceMs, t + 5000);
  });

  it('holds at most trendMs / bucketMs + 1 buckets per host, whatever timestamps arrive', () => {
    const fleet = new FleetState({ trendMs: 60_000, bucketMs: 10_000 });
    const t = 1_795_000_000_000;
    fleet.hello('h', 'host', t);
    // An hour of samples, then some from a skewed clock far ahead and far behind.
    for (let i = 0; i < 3600; i += 5) fleet.samples('h', [fullSample(t + i * 1000)], t + i * 1000);
    fleet.samples('h', [fullSample(t + 10 * 3_600_000), fullSample(t - 3_600_000)], t + 3600_000);
    const buckets = fleet.get('h')!.trend.startMs.length;
    assert.ok(buckets <= 7, `${buckets} buckets`);
    fleet.sweep(t + 20 * 3_600_000);
    assert.equal(fleet.get('h')!.trend.startMs.length, 0, 'all aged out');
  });
});
