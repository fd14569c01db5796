// Migration 12 on a database that version 11 left: batches found through the host's integer key.
// Every existing row gets its host's key, the (host id text, last_seq) indexes are replaced, and
// every read of batches answers as before, for each host apart; retention deletes by the new index.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sealBatch } from '../../agent/batch.js';
import { applyMigration, sqliteMigrations } from '../../collector/store/migrations.js';
import { retentionOptions } from '../../collector/store/retention.js';
import { SampleFigures } from '../../collector/store/sample-figures.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { summarize } from '../../collector/store/store.js';
import { generateAgentKeys, signBytes } from '../../proto/chain.js';
import { encodeSample } from '../../proto/codec.js';
import { BatchEncoding } from '../../proto/payload.js';
import { tempDir } from '../helpers/env.js';
import { fullSample } from '../helpers/messages.js';

const T0 = 1_795_000_000_000;
const D = 86_400_000;

test('migration 12 gives every batch its host key and keeps every read of batches the same', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const path = join(tmp.dir, 'assay.db');
  const old = new Database(path);
  old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)');
  for (const m of sqliteMigrations.filter((x) => x.version <= 11)) {
    applyMigration(old, m);
    old.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
  }
  const figures = new SampleFigures(old);
  const insBatch = old.prepare(`INSERT INTO batches (host_id, hash, prev_hash, header, signature, first_seq, last_seq, samples, received_ms, encoding, payload)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  // Two hosts, 6 batches of 5 samples each; the first host's first three batches a day older.
  const hosts = ['old-a', 'old-b'];
  const sealedOf = new Map<string, Array<ReturnType<typeof sealBatch>>>();
  for (const [h, id] of hosts.entries()) {
    const keys = generateAgentKeys();
    old.prepare(`INSERT INTO hosts (id, hostname, agent_version, first_seen_ms, last_seen_ms, public_key, enrolled_ms) VALUES (?, ?, '0.1.0', ?, ?, ?, ?)`).run(id, id, T0, T0, keys.publicKey, T0);
    const key = Number(old.prepare('INSERT INTO rollup_hosts (host_id) VALUES (?)').run(id).lastInsertRowid);
    let head: Uint8Array = new Uint8Array();
    const sealed: Array<ReturnType<typeof sealBatch>> = [];
    for (let b = 0; b < 6; b++) {
      const seqs = [1, 2, 3, 4, 5].map((i) => b * 5 + i);
      const ts = (seq: number): number => T0 + (h === 0 && b < 3 ? -D : 0) + seq * 1000;
      const samples = seqs.map((seq) => fullSample(ts(seq), 3000 + seq));
      const s = sealBatch({ agentId: id, seqs, samples: samples.map(encodeSample), prevHash: head, sealedMs: ts(seqs.at(-1)!), encoding: BatchEncoding.BATCH_ENCODING_COLUMNAR }, (x) => signBytes(keys, x));
      insBatch.run(id, s.hash, Buffer.alloc(0), s.header, s.signature, seqs[0], seqs.at(-1), 5, ts(seqs.at(-1)!) + 300, s.encoding, s.payload);
      figures.add(key, seqs.map((seq, i) => summarize(seq, samples[i]!)));
      sealed.push(s);
      head = s.hash;
    }
    old.prepare('UPDATE hosts SET chain_head = ?, last_seq = 30 WHERE id = ?').run(head, id);
    sealedOf.set(id, sealed);
  }
  old.close();

  const store = new SqliteStore(path);
  t.after(() => store.close());
  assert.ok((store.db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).some((r) => r.version === 12));
  const keyed = store.db.prepare('SELECT b.host_id, COUNT(*) AS n FROM batches b JOIN rollup_hosts k ON k.host_key = b.host_key AND k.host_id = b.host_id GROUP BY b.host_id ORDER BY b.host_id').all();
  assert.deepEqual(keyed, [{ host_id: 'old-a', n: 6 }, { host_id: 'old-b', n: 6 }], 'every row keyed by its own host');
  const indexes = (store.db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'batches' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
  assert.deepEqual(indexes, ['batches_by_hash_prefix', 'batches_by_key_seq', 'batches_unsegmented']);

  // Reads: each host's batches, exactly as signed, and its samples.
  for (const id of hosts) {
    const sealed = sealedOf.get(id)!;
    for (const [b, s] of sealed.entries()) {
      const got = await store.batchContaining(id, b * 5 + 3);
      assert.deepEqual([got!.header, got!.signature, got!.payload, got!.hash], [s.header, s.signature, s.payload, s.hash].map((x) => Buffer.from(x)));
      assert.deepEqual((await store.batchByHash(id, s.hash))!.firstSeq, b * 5 + 1);
    }
    const from = id === 'old-a' ? T0 - D : T0;
    assert.deepEqual((await store.samples(id, from, T0 + 60_000, 100)).map((x) => x.seq).filter((seq) => seq > 15), [16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
  }
  // New batches get their key; retention (raw window 12 h) removes the first host's day-old batches only.
  const more = fullSample(T0 + 31_000, 4000);
  const keys2 = sealedOf.get('old-b')!.at(-1)!;
  const r = await store.appendBatch('old-b', { hash: Buffer.alloc(32, 7), prevHash: keys2.hash, header: Buffer.from([1]), signature: Buffer.from([2]), encoding: 0, payload: Buffer.alloc(0), samples: [{ seq: 31, sample: more }], gaps: [] }, T0 + 31_300);
  assert.equal(r.status, 'stored');
  assert.equal((store.db.prepare("SELECT COUNT(*) AS n FROM batches WHERE host_id = 'old-b' AND host_key IS NULL").get() as { n: number }).n, 0);
  for (let done = false, i = 0; !done && i < 100; i++) done = (await store.retentionStep(retentionOptions({ rawMs: D / 2 }), T0 + 60_000)).done;
  const left = store.db.prepare('SELECT host_id, MIN(first_seq) AS first, COUNT(*) AS n FROM batches GROUP BY host_id ORDER BY host_id').all();
  assert.deepEqual(left, [{ host_id: 'old-a', first: 16, n: 3 }, { host_id: 'old-b', first: 1, n: 7 }]);
});
