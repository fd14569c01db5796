import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { sqliteMigrations } from '../../collector/store/migrations.js';
import { tempDir } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { assay } from '../../proto/codec.js';
import { storeSuite } from './suite.js';
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
