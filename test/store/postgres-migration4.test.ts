// PostgreSQL migration 4 on a database that already holds schema-2 data: each batch's sample
// bytes become its payload, framed exactly as samples_digest frames them, so the batches the
// agents signed before the upgrade still verify and still decode.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { PostgresStore, DAY_MS } from '../../collector/store/postgres.js';
import { postgresMigrations } from '../../collector/store/postgres-migrations.js';
import { partitionName } from '../../collector/store/postgres-partitions.js';
import { samplesDigest } from '../../proto/chain.js';
import { assay } from '../../proto/codec.js';
import { frameSamples } from '../../proto/payload.js';
import { fullSample } from '../helpers/messages.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';

let cluster: PgCluster;
before(async () => {
  cluster = await startPostgres();
});
after(async () => {
  await cluster?.stop();
});

test('postgres migration 4: schema-2 sample bytes become their batch payload; the samples still decode and match the signed digest', async () => {
  const url = await cluster.createDatabase();
  const day = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const t0 = day + 60_000;
  const samples = [fullSample(t0, 1001), fullSample(t0 + 1000, 1002)];
  const bytes = samples.map((s) => assay.v1.Sample.encode(s).finish());
  const header = assay.v1.BatchHeader.encode({ agentId: 'old', seqs: [1, 2], samplesDigest: samplesDigest(bytes), prevHash: new Uint8Array() }).finish();

  // A database as the version-3 schema left it, with one schema-2 batch of two samples.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)');
    for (const m of postgresMigrations.filter((x) => x.version < 4)) {
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
    }
    for (const table of ['samples', 'batches', 'verdicts'] as const) {
      await client.query(`CREATE TABLE ${partitionName(table, day)} PARTITION OF ${table} FOR VALUES FROM (${day}) TO (${day + DAY_MS})`);
    }
    await client.query(`INSERT INTO hosts (id, hostname, agent_version, first_seen_ms, last_seen_ms, last_seq) VALUES ('old', 'old-host', '0.1', $1, $1, 2)`, [t0]);
    for (const [i, s] of samples.entries()) {
      await client.query(
        `INSERT INTO samples (host_id, seq, ts_ms, received_ms, cpu_pct, load1, mem_used_bytes, mem_total_bytes, disk_read_bps, disk_write_bps, net_rx_bps, net_tx_bps, data)
         VALUES ('old', $1, $2, $2, 1, 0, 0, 0, 0, 0, 0, 0, $3)`,
        [i + 1, s.tsMs, Buffer.from(bytes[i]!)],
      );
    }
    await client.query(
      `INSERT INTO batches (host_id, hash, prev_hash, header, signature, first_seq, last_seq, samples, received_ms) VALUES ('old', $1, $2, $3, $4, 1, 2, 2, $5)`,
      [Buffer.alloc(32, 7), Buffer.alloc(0), Buffer.from(header), Buffer.alloc(64, 1), t0 + 2000],
    );
  } finally {
    await client.end();
  }

  const store = await PostgresStore.open(url, { maintainEveryMs: 0 });
  try {
    const batch = await store.batchContaining('old', 1);
    assert.ok(batch, 'the old batch is still found by its samples');
    assert.equal(batch.encoding, 0, 'a schema-2 batch keeps encoding 0');
    assert.deepEqual(Buffer.from(batch.payload), frameSamples(bytes), 'payload = the framed samples, in seq order');
    assert.deepEqual(samplesDigest(bytes), Buffer.from(assay.v1.BatchHeader.decode(batch.header).samplesDigest), 'the signed digest still covers them');
    const decoded = await store.samples('old', t0 - 1, t0 + 5000, 10);
    assert.deepEqual(decoded.map((d) => d.seq), [1, 2]);
    assert.deepEqual(decoded.map((d) => d.sample.tsMs), samples.map((s) => s.tsMs));
    const cols = await store.pool.query<{ column_name: string }>("SELECT column_name FROM information_schema.columns WHERE table_name = 'samples' AND column_name = 'data'");
    assert.equal(cols.rowCount, 0, 'samples.data is gone');
  } finally {
    await store.close();
  }
});
