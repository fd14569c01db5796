// A read by time (store.samples: the host page, the classifier's window rebuild) selects sequence
// numbers; sample times are the agent's, so a few of them may lie far from the others in sequence.
// The read decodes the batches holding those and what their chain needs, not every batch in
// between. Counted on the real SQLite store: each stored payload read goes through its segments
// object (the spy calls through), chained or not.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { PostgresStore } from '../../collector/store/postgres.js';
import type { Store } from '../../collector/store/store.js';
import { startPostgres } from '../helpers/postgres.js';
import { batchesToRead } from '../../collector/store/chain-read.js';
import { BatchEncoding, CHAIN_MAX_BATCHES } from '../../proto/payload.js';
import { tempDir } from '../helpers/env.js';
import { commitSealed } from '../report/chained-period.js';
import { S, T0, enroll } from '../report/stored-period.js';

test('batchesToRead: the batches holding a wanted seq and the CHAIN_MAX_BATCHES - 1 before each', () => {
  const rows = Array.from({ length: 40 }, (_, i) => ({ first_seq: i * 5 + 1, last_seq: i * 5 + 5 }));
  const read = batchesToRead(rows, [3, 150, 151, 200]);
  const want = rows.map((_, i) => i === 0 || (i >= 29 - (CHAIN_MAX_BATCHES - 1) && i <= 29) || (i >= 39 - (CHAIN_MAX_BATCHES - 1)));
  assert.deepEqual(read, want);
  assert.deepEqual(batchesToRead(rows, []), rows.map(() => false));
});

const N = 1000;

/** Seq 1 and the last 5 seqs at the newest minute; the 994 in between an hour earlier (an agent's clock stepped back, or an agent playing games). */
async function sparseHost(store: Store, encoding: number): Promise<void> {
  const a = await enroll(store, 'sparse', T0 - 3600 * S);
  const rows = Array.from({ length: N }, (_, i) => {
    const seq = i + 1;
    const late = seq === 1 || seq > N - 5;
    return { seq, tsMs: late ? T0 + seq * 10 : T0 - 3600 * S + seq * S };
  });
  await commitSealed(store, a, rows, encoding, 5);
}

for (const encoding of [BatchEncoding.BATCH_ENCODING_CHAINED, BatchEncoding.BATCH_ENCODING_COLUMNAR]) {
  test(`a read of one minute whose samples lie far apart in sequence decodes the batches that hold them, not the hours in between (encoding ${encoding})`, async (t) => {
    const tmp = tempDir();
    const store = new SqliteStore(join(tmp.dir, 'assay.db'));
    t.after(() => {
      store.close();
      tmp.cleanup();
    });
    await sparseHost(store, encoding);
    const segments = (store as unknown as { segments: { payloadOf: (r: unknown) => Buffer } }).segments;
    const payloadOf = segments.payloadOf.bind(segments);
    let reads = 0;
    segments.payloadOf = (r) => {
      reads++;
      return payloadOf(r);
    };
    const got = await store.samples('sparse', T0, T0 + 60 * S, 1000);
    assert.deepEqual(got.map((s) => s.seq), [1, 996, 997, 998, 999, 1000]);
    assert.deepEqual(got.map((s) => s.sample.tsMs), [1, 996, 997, 998, 999, 1000].map((seq) => T0 + seq * 10));
    // Two batches hold them; each needs at most CHAIN_MAX_BATCHES - 1 before it (read in order or walked).
    assert.ok(reads <= 2 * CHAIN_MAX_BATCHES, `${reads} stored payloads read for 2 batches of ${N / 5}`);
    // A contiguous read still reads each batch once.
    reads = 0;
    const hour = await store.samples('sparse', T0 - 3600 * S, T0 - 1, 10_000);
    assert.equal(hour.length, N - 6);
    assert.ok(reads <= N / 5 + CHAIN_MAX_BATCHES, `${reads} stored payloads read for ${N / 5} batches`);
  });
}

test('PostgreSQL: the same sparse read gives the same samples, the chained ones walked back to after the skipped stretch', async (t) => {
  const cluster = await startPostgres();
  t.after(() => cluster.stop());
  const store = await PostgresStore.open(await cluster.createDatabase(), { maintainEveryMs: 0 });
  t.after(() => store.close());
  await sparseHost(store, BatchEncoding.BATCH_ENCODING_CHAINED);
  const got = await store.samples('sparse', T0, T0 + 60 * S, 1000);
  assert.deepEqual(got.map((s) => s.seq), [1, 996, 997, 998, 999, 1000]);
  assert.deepEqual(got.map((s) => s.sample.tsMs), [1, 996, 997, 998, 999, 1000].map((seq) => T0 + seq * 10));
  assert.equal((await store.samples('sparse', T0 - 3600 * S, T0 - 1, 10_000)).length, N - 6);
  assert.equal(store.chainReads.batchesWithoutPrior, 0);
});
