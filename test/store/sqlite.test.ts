import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { sqliteMigrations } from '../../collector/store/migrations.js';
import { tempDir } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { assay } from '../../proto/codec.js';
import { bytesBySeq, chainedBatches, sealedBySeq, storeSuite } from './suite.js';
import { retentionOptions } from '../../collector/store/retention.js';
import { frameSamples } from '../../proto/payload.js';

storeSuite('sqlite', async () => {
  const tmp = tempDir();
  const store = new SqliteStore(join(tmp.dir, 'nested', 'assay.db'));
  return { store, cleanup: async () => (await store.close(), tmp.cleanup()) };
});

test('sqlite: committed data survives closing and reopening the file; migrations run once', async () => {
  const tmp = tempDir();
  try {
    const path = join(tmp.dir, 'assay.db');
    const a = new SqliteStore(path);
    await a.upsertHost(fullHello('p1'), 1);
    const s = fullSample();
    const bytes = assay.v1.Sample.encode(s).finish();
    await a.appendBatch('p1', { hash: Buffer.alloc(32, 1), prevHash: new Uint8Array(), header: new Uint8Array(), signature: new Uint8Array(), encoding: 0, payload: frameSamples([bytes]), samples: [{ seq: 1, sample: s }], gaps: [] }, 2);
    await a.close();
    const b = new SqliteStore(path);
    assert.equal((await b.getHost('p1'))!.lastSeq, 1);
    const versions = b.db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>;
    assert.deepEqual(versions.map((v) => v.version).sort((x, y) => x - y), sqliteMigrations.map((m) => m.version).sort((x, y) => x - y));
    assert.equal(b.db.pragma('journal_mode', { simple: true }), 'wal');
    await b.close();
  } finally {
    tmp.cleanup();
  }
});

test('sqlite: chained batches read back through payload segments; a batch deleted from the middle of a chain leaves out the batches chained to it', async () => {
  const tmp = tempDir();
  const store = new SqliteStore(join(tmp.dir, 'assay.db'));
  try {
    await store.upsertHost(fullHello('s1'), 1);
    const t0 = 1_795_000_000_000;
    // 30 batches of 5 samples (keyframes 0, 12, 24), a batch every 5 s.
    const batches = chainedBatches(1, 30, 5, t0);
    for (const b of batches) assert.equal((await store.appendBatch('s1', b, b.samples.at(-1)!.sample.tsMs! + 300)).status, 'stored');
    // An hour on, retention moves every payload into segments (and deletes nothing: the raw window is 35 days).
    const opts = retentionOptions({ compactAfterMs: 60_000 });
    for (let done = false, n = 0; !done && n < 1000; n++) done = (await store.retentionStep(opts, t0 + 3_600_000)).done;
    const moved = store.db.prepare('SELECT COUNT(*) AS n FROM batches WHERE segment_id IS NOT NULL').get() as { n: number };
    assert.equal(moved.n, 30);
    const sealed = sealedBySeq(batches);
    assert.deepEqual(bytesBySeq(await store.samples('s1', t0, t0 + 200_000, 1000)), sealed);
    // From the middle of batch 20 (its keyframe, 12, and the batches between read back from segments).
    assert.deepEqual(bytesBySeq(await store.samples('s1', t0 + 103_000, t0 + 110_000, 1000)), new Map([...sealed].filter(([seq]) => seq >= 103 && seq <= 110)));
    assert.deepEqual({ ...store.chainReads }, { batchesWithoutPrior: 0, samplesWithoutPrior: 0 });
    // Batch 5 deleted by hand: its samples are gone, 6 to 11 (chained to it) are left out and
    // counted, the read goes on with the keyframe of batch 12.
    store.db.prepare('DELETE FROM batches WHERE host_id = ? AND first_seq = ?').run('s1', 26);
    const rows = await store.samples('s1', t0, t0 + 200_000, 1000);
    assert.deepEqual(bytesBySeq(rows), sealedBySeq([...batches.slice(0, 5), ...batches.slice(12)]));
    assert.deepEqual({ ...store.chainReads }, { batchesWithoutPrior: 6, samplesWithoutPrior: 30 });
  } finally {
    await store.close();
    tmp.cleanup();
  }
});
