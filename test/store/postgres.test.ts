// The shared store suite against a real PostgreSQL (a throwaway cluster from Debian's server
// binaries), plus what only the PostgreSQL store has: day partitions and dropping them, the
// row-locked chain check under concurrent appends, migrations run once by racing openers.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PostgresStore, DAY_MS } from '../../collector/store/postgres.js';
import { postgresMigrations } from '../../collector/store/postgres-migrations.js';
import { sqliteMigrations } from '../../collector/store/migrations.js';
import { assay } from '../../proto/codec.js';
import { frameSamples } from '../../proto/payload.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { storedSeqs } from '../../collector/store/postgres-figures.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';
import { bytesBySeq, chainedBatches, sealedBySeq, storeSuite } from './suite.js';
import { payloadChained } from '../../proto/payload.js';
import pg from 'pg';
import { nonAiPgSql, verdictIsNonAi } from '../../collector/non-ai.js';
import type { Verdict } from '../../collector/engine/types.js';
import { retentionOptions } from '../../collector/store/retention.js';

let cluster: PgCluster;
before(async () => {
  cluster = await startPostgres();
});
after(async () => {
  await cluster?.stop();
});

// Retention here goes row by row, so the suite checks the same bounded steps as SQLite's; the
// partition drops are checked below.
storeSuite('postgres', async () => {
  const store = await PostgresStore.open(await cluster.createDatabase(), { maintainEveryMs: 0, retentionDropsPartitions: false });
  return { store, cleanup: () => store.close() };
});

test('postgres: the same numbered migrations as SQLite (version and name); racing openers apply each once', async () => {
  assert.deepEqual(postgresMigrations.map((m) => [m.version, m.name]), sqliteMigrations.map((m) => [m.version, m.name]));
  const url = await cluster.createDatabase();
  const stores = await Promise.all([PostgresStore.open(url, { maintainEveryMs: 0 }), PostgresStore.open(url, { maintainEveryMs: 0 })]);
  try {
    const r = await stores[0].pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(r.rows.map((x) => x.version), postgresMigrations.map((m) => m.version));
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
});

const batchAt = (seq: number, tsMs: number, prevHash: Uint8Array, hashByte: number) => {
  const s = fullSample(tsMs, 2000 + seq);
  return { hash: Buffer.alloc(32, hashByte), prevHash, header: assay.v1.BatchHeader.encode({ agentId: 'd1', seqs: [seq] }).finish(), signature: new Uint8Array([2]), encoding: 0, payload: frameSamples([assay.v1.Sample.encode(s).finish()]), samples: [{ seq, sample: s }], gaps: [] };
};

test('postgres: samples land in day partitions created ahead or on demand; retention drops whole days', async () => {
  const url = await cluster.createDatabase();
  const store = await PostgresStore.open(url, { maintainEveryMs: 0, partitionsAheadDays: 2 });
  try {
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    assert.deepEqual(store.partitionDays('samples'), [today, today + DAY_MS, today + 2 * DAY_MS], 'today and two days ahead');
    await store.upsertHost(fullHello('d1'), 1);
    // Spooled samples from ten and nine days ago: their partitions are made on demand.
    const old = today - 10 * DAY_MS + 5000;
    const b1 = batchAt(1, old, new Uint8Array(), 1);
    assert.equal((await store.appendBatch('d1', b1, today + 1000)).status, 'stored');
    const b2 = batchAt(2, old + DAY_MS, b1.hash, 2);
    assert.equal((await store.appendBatch('d1', b2, today + 2000)).status, 'stored');
    const b3 = batchAt(3, today + 3000, b2.hash, 3);
    assert.equal((await store.appendBatch('d1', b3, today + 3000)).status, 'stored');
    assert.deepEqual(store.partitionDays('samples').slice(0, 2), [today - 10 * DAY_MS, today - 9 * DAY_MS]);
    const names = await store.pool.query<{ relname: string }>("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'samples'::regclass ORDER BY 1");
    assert.equal(names.rows.length, 5);
    // The row really sits in its day's table.
    const where = await store.pool.query<{ t: string; seq: number }>('SELECT tableoid::regclass::text AS t, first_seq AS seq FROM samples ORDER BY first_seq');
    assert.deepEqual(where.rows.map((r) => r.seq), [1, 2, 3]);
    assert.match(where.rows[0]!.t, /^samples_p\d{8}$/);
    assert.notEqual(where.rows[0]!.t, where.rows[1]!.t);

    // Retention: keep 9.5 days of samples: the partition ten days back goes, the one nine days back stays (not wholly older).
    const dropped = await store.partitions.dropBefore('samples', today - 9 * DAY_MS + DAY_MS / 2);
    assert.equal(dropped.length, 1);
    assert.deepEqual((await store.samples('d1', 0, Number.MAX_SAFE_INTEGER, 10)).map((r) => r.seq), [2, 3]);
    assert.deepEqual(store.partitionDays('samples')[0], today - 9 * DAY_MS);
    // The chain is not affected: the next batch still extends it.
    assert.equal((await store.appendBatch('d1', batchAt(4, today + 4000, b3.hash, 4), today + 4000)).status, 'stored');
    // Another collector drops a partition this store still believes in: the append learns and re-creates it.
    const other = await PostgresStore.open(url, { maintainEveryMs: 0 });
    try {
      assert.equal((await other.partitions.dropBefore('samples', today - 8 * DAY_MS)).length, 1);
    } finally {
      await other.close();
    }
    assert.ok(store.partitionDays('samples').includes(today - 9 * DAY_MS), 'this store still believes in it');
    const b5 = batchAt(5, old + DAY_MS + 1000, batchAt(4, today + 4000, b3.hash, 4).hash, 5);
    assert.equal((await store.appendBatch('d1', b5, today + 5000)).status, 'stored');
    assert.deepEqual((await store.samples('d1', 0, Number.MAX_SAFE_INTEGER, 10)).map((r) => r.seq), [5, 3, 4]);
  } finally {
    await store.close();
  }
});

test('postgres: concurrent appends of the same batches from two stores store each once and keep the chain', async () => {
  const url = await cluster.createDatabase();
  const [a, b] = await Promise.all([PostgresStore.open(url, { maintainEveryMs: 0 }), PostgresStore.open(url, { maintainEveryMs: 0 })]);
  try {
    await a.upsertHost(fullHello('r1'), 1);
    const t = Date.now();
    let prev: Uint8Array = new Uint8Array();
    const statuses: string[] = [];
    for (let i = 1; i <= 40; i++) {
      const batch = batchAt(i, t + i * 1000, prev, i);
      const [ra, rb] = await Promise.all([a.appendBatch('r1', batch, t + i), b.appendBatch('r1', batch, t + i)]);
      statuses.push([ra.status, rb.status].sort().join('+'));
      prev = batch.hash;
    }
    assert.deepEqual(new Set(statuses), new Set(['duplicate+stored']), 'each batch: one store commits it, the other sees it as the head');
    // Samples are packed, a batch's run a row (postgres-figures.ts): read back seq by seq.
    const seqs = await storedSeqs(a.pool);
    const n = await a.pool.query<{ batches: number }>('SELECT COUNT(*) AS batches FROM batches');
    assert.deepEqual({ ...n.rows[0], samples: seqs.length, seqs: new Set(seqs).size }, { batches: 40, samples: 40, seqs: 40 });
    const chain = await a.pool.query<{ hash: Buffer; prev_hash: Buffer }>('SELECT hash, prev_hash FROM batches ORDER BY first_seq');
    chain.rows.forEach((r, i) => assert.deepEqual(r.prev_hash, i === 0 ? Buffer.alloc(0) : chain.rows[i - 1]!.hash, `batch ${i + 1} links to the one before`));
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('postgres: retention drops whole old days as partitions, then applies the same rules row by row', async () => {
  const store = await PostgresStore.open(await cluster.createDatabase(), { maintainEveryMs: 0 });
  try {
    await store.upsertHost(fullHello('p1'), 1);
    const day = DAY_MS;
    const t0 = 1_795_000_000_000;
    let prev: Uint8Array = new Uint8Array();
    for (let d = 0; d < 10; d++) {
      const b = batchAt(d + 1, t0 + d * day, prev, d + 1);
      assert.equal((await store.appendBatch('p1', b, t0 + d * day + 5000)).status, 'stored');
      prev = b.hash;
    }
    const before = store.partitionDays('samples').filter((d) => d < t0 + 10 * day).length;
    const opts = retentionOptions({ rawMs: 2 * day, rollupMs: 30 * day, stepRows: 4 });
    const now = t0 + 9 * day + day / 2;
    let deletedRows = 0;
    for (let done = false, steps = 0; !done && steps < 1000; steps++) {
      const r = await store.retentionStep(opts, now);
      deletedRows += r.deleted.samples;
      done = r.done;
    }
    const after = store.partitionDays('samples').filter((d) => d < t0 + 10 * day).length;
    assert.ok(after < before, `sample partitions ${before} -> ${after}`);
    assert.ok(deletedRows < 8, `only what the dropped days did not hold went row by row (${deletedRows} rows)`);
    assert.deepEqual(await store.retentionState('p1'), { rawPrunedMs: now - 2 * day });
    assert.deepEqual(await store.seqRange('p1', 0, t0 + 20 * day), { minSeq: 9, maxSeq: 10 });
    assert.equal(await store.batchContaining('p1', 8), null);
    assert.ok(await store.batchContaining('p1', 9));
    assert.equal((await store.rollupRows('p1', '1h', 0, t0 + 20 * day, 100)).length, 10, 'roll-ups outlive the raw rows');
  } finally {
    await store.close();
  }
});

test('postgres: a packed run that crosses midnight goes with its first day\'s partition, and the host is marked pruned up to its last sample', async () => {
  const store = await PostgresStore.open(await cluster.createDatabase(), { maintainEveryMs: 0 });
  try {
    await store.upsertHost(fullHello('m1'), 1);
    const D = Math.floor(1_795_000_000_000 / DAY_MS) * DAY_MS;
    // One batch of two samples, 1 s before and 1 s after midnight (a row in day D's partition), received before it.
    const s1 = fullSample(D + DAY_MS - 1000, 2001);
    const s2 = fullSample(D + DAY_MS + 1000, 2002);
    const b1 = { hash: Buffer.alloc(32, 1), prevHash: new Uint8Array(), header: assay.v1.BatchHeader.encode({ agentId: 'm1', seqs: [1, 2] }).finish(), signature: new Uint8Array([2]), encoding: 0,
      payload: frameSamples([s1, s2].map((x) => assay.v1.Sample.encode(x).finish())), samples: [{ seq: 1, sample: s1 }, { seq: 2, sample: s2 }], gaps: [] };
    assert.equal((await store.appendBatch('m1', b1, D + DAY_MS - 500)).status, 'stored');
    assert.equal((await store.appendBatch('m1', batchAt(3, D + 5 * DAY_MS, b1.hash, 3), D + 5 * DAY_MS + 100)).status, 'stored');
    assert.deepEqual(await store.seqRange('m1', D + DAY_MS, D + 2 * DAY_MS), { minSeq: 2, maxSeq: 2 }, 'the sample after midnight reads in its own day');
    // Raw window 2 days at D + 4 days: day D goes whole (a full day before the window), D + 1 stays.
    const opts = retentionOptions({ rawMs: 2 * DAY_MS, rollupMs: 30 * DAY_MS, stepRows: 100 });
    for (let done = false, steps = 0; !done && steps < 100; steps++) done = (await store.retentionStep(opts, D + 4 * DAY_MS + 60_000)).done;
    assert.ok(!store.partitionDays('samples').includes(D) && store.partitionDays('samples').includes(D + DAY_MS));
    assert.deepEqual(await store.seqRange('m1', 0, D + 10 * DAY_MS), { minSeq: 3, maxSeq: 3 });
    assert.deepEqual(await store.retentionState('m1'), { rawPrunedMs: D + DAY_MS + 1001 }, 'marked past the last sample that went, not just the day');
  } finally {
    await store.close();
  }
});

test('postgres: at the edge of a dropped day of batches, chained batches whose prior went with it are left out of reads (counted), the rest read back exactly', async () => {
  const store = await PostgresStore.open(await cluster.createDatabase(), { maintainEveryMs: 0 });
  try {
    await store.upsertHost(fullHello('e1'), 1);
    const day = DAY_MS;
    const hour = 3_600_000;
    const T = Math.floor(1_795_000_000_000 / day) * day;
    // A host that sends a batch every 5 hours: a chain of 12 batches spans 2.5 days. Batches 0 to 4
    // arrive on day T (keyframe 0), 5 to 9 on day T+1, 10 on; 12 is the next keyframe.
    const batches = chainedBatches(1, 24, 5, T + hour - 1000, { batchGapMs: 5 * hour - 5000 });
    assert.deepEqual(batches.flatMap((b, i) => (payloadChained(b.encoding, b.payload) ? [] : [i])), [0, 12]);
    for (const b of batches) assert.equal((await store.appendBatch('e1', b, b.samples.at(-1)!.sample.tsMs! + 300)).status, 'stored');
    assert.equal(Math.floor(batches[4]!.samples[4]!.sample.tsMs! / day) * day, T);
    assert.equal(Math.floor(batches[5]!.samples[0]!.sample.tsMs! / day) * day, T + day);
    // A one-day raw window at T + 3 days: day T's partitions go whole (a day before the window's
    // start); row by row, batch 10 (the first sample from T + 2 days on) is kept with the batches it
    // chains to that are still there, 5 to 9. Their keyframe went with day T.
    const opts = retentionOptions({ rawMs: day, rollupMs: 30 * day });
    for (let done = false, n = 0; !done && n < 1000; n++) done = (await store.retentionStep(opts, T + 3 * day)).done;
    assert.ok(!store.partitionDays('batches').includes(T), 'day T was dropped as a partition');
    assert.equal(await store.batchContaining('e1', 25), null, 'batch 4 went with its day');
    assert.ok(await store.batchContaining('e1', 26), 'batches 5 to 9 are kept (signed, stored) as the chain of batch 10');
    const rows = await store.samples('e1', 0, Number.MAX_SAFE_INTEGER, 1000);
    assert.deepEqual(bytesBySeq(rows), sealedBySeq(batches.slice(12)), 'from the next keyframe on, every sample as sealed');
    assert.deepEqual({ ...store.chainReads }, { batchesWithoutPrior: 7, samplesWithoutPrior: 35 }, 'batches 5 to 11 left out, fewer than CHAIN_MAX_BATCHES');
  } finally {
    await store.close();
  }
});

test('postgres: the migrations\' non-AI test in SQL agrees with verdictIsNonAi', async () => {
  const c = new pg.Client({ connectionString: cluster.url() });
  await c.connect();
  try {
    const cases: Array<Pick<Verdict, 'class' | 'parts'>> = [
      { class: 'pow-mining', parts: [] },
      { class: 'ai-training', parts: [] },
      { class: 'mixed', parts: [{ class: 'ai-training' }, { class: 'pow-mining' }] as Verdict['parts'] },
      { class: 'mixed', parts: [{ class: 'ai-training' }, { class: 'ai-inference' }] as Verdict['parts'] },
      { class: 'mixed', parts: undefined as unknown as Verdict['parts'] },
    ];
    for (const v of cases) {
      const r = await c.query<{ n: number }>(`SELECT ${nonAiPgSql('$1::text', '$2::text')} AS n`, [v.class, JSON.stringify(v)]);
      assert.equal(r.rows[0]!.n === 1, verdictIsNonAi(v), JSON.stringify(v));
    }
  } finally {
    await c.end();
  }
});
