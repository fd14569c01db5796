// PostgreSQL migration 17 on a database holding rows in the old shapes: per-sample chart rows
// keyed by the host id text (now packed, a batch's run a row: postgres-figures.ts) and process rows
// keyed by the host id with a millisecond first sighting and a BIGINT pid (now the host's integer
// key, the first day, an INTEGER pid). Every read answers as it did before the upgrade (the old
// store's SQL, run on the old tables, is the reference), ingest goes on after it, and retention
// deletes the packed rows row by row.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { sealBatch } from '../../agent/batch.js';
import { generateAgentKeys, sha256, signBytes } from '../../proto/chain.js';
import { assay } from '../../proto/codec.js';
import { PostgresStore, DAY_MS } from '../../collector/store/postgres.js';
import { postgresMigrations } from '../../collector/store/postgres-migrations.js';
import { partitionName } from '../../collector/store/postgres-partitions.js';
import { storedSeqs } from '../../collector/store/postgres-figures.js';
import { retentionOptions } from '../../collector/store/retention.js';
import { summarize, type IncomingBatch, type IncomingSample, type SampleSummary } from '../../collector/store/store.js';
import { fullSample } from '../helpers/messages.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';
import { verdictOf } from '../helpers/fleet.js';

const keys = generateAgentKeys();

function batchOf(agentId: string, samples: IncomingSample[], prevHash: Uint8Array = new Uint8Array()): IncomingBatch {
  const sealed = sealBatch(
    { agentId, seqs: samples.map((s) => s.seq), samples: samples.map((s) => assay.v1.Sample.encode(s.sample).finish()), prevHash, gaps: [], sealedMs: 1 },
    (h) => signBytes(keys, h),
  );
  return { hash: sealed.hash, prevHash, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples, gaps: [] };
}

let cluster: PgCluster;
before(async () => {
  cluster = await startPostgres();
});
after(async () => {
  await cluster?.stop();
});

/** The old store's raw chart query (postgres.ts before migration 17). */
const OLD_SUMMARIES = `SELECT MAX(seq) AS seq, MAX(ts_ms) AS ts_ms, AVG(cpu_pct) AS cpu_pct, AVG(load1) AS load1,
    trunc(AVG(mem_used_bytes))::bigint AS mem_used_bytes, MAX(mem_total_bytes) AS mem_total_bytes,
    AVG(gpu_util_pct) AS gpu_util_pct, trunc(AVG(gpu_mem_used_bytes))::bigint AS gpu_mem_used_bytes,
    AVG(power_watts) AS power_watts, AVG(disk_read_bps) AS disk_read_bps, AVG(disk_write_bps) AS disk_write_bps,
    AVG(net_rx_bps) AS net_rx_bps, AVG(net_tx_bps) AS net_tx_bps
  FROM samples WHERE host_id = $1 AND ts_ms >= $2 AND ts_ms <= $3
  GROUP BY (ts_ms - $2::bigint) / $4::bigint ORDER BY ts_ms LIMIT $5`;

const asSummary = (raw: Record<string, number | string | null>): SampleSummary => {
  // This plain client reads BIGINT as text (the store reads it as a number).
  const x = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v === null ? null : Number(v)])) as Record<string, number | null>;
  return {
  seq: x.seq!, tsMs: x.ts_ms!, cpuPct: x.cpu_pct!, load1: x.load1!, memUsedBytes: x.mem_used_bytes!, memTotalBytes: x.mem_total_bytes!,
  gpuUtilPct: x.gpu_util_pct ?? null, gpuMemUsedBytes: x.gpu_mem_used_bytes ?? null, powerWatts: x.power_watts ?? null,
  diskReadBytesPerSec: x.disk_read_bps!, diskWriteBytesPerSec: x.disk_write_bps!, netRxBytesPerSec: x.net_rx_bps!, netTxBytesPerSec: x.net_tx_bps!,
  };
};

test('postgres migration 17: per-sample rows become packed runs and process rows take the host key and first day; every read answers as before', async () => {
  const url = await cluster.createDatabase();
  const day = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;
  const t0 = day + 3_600_000;
  // Three batches of three samples; figures that are not float32 decimals (averaged sums), and a
  // sample without GPU figures.
  const samples: IncomingSample[] = Array.from({ length: 9 }, (_, i) => {
    const s = fullSample(t0 + i * 1000, 4000 + i);
    s.cpu!.totalPct = 10 + i * 7.123456789;
    s.load!.load1 = 0.1 * (i + 1);
    if (i === 4) s.gpus = [];
    return { seq: i + 1, sample: s };
  });
  const batches: IncomingBatch[] = [];
  for (let b = 0; b < 3; b++) batches.push(batchOf('old', samples.slice(b * 3, b * 3 + 3), batches.at(-1)?.hash ?? new Uint8Array()));
  const sigOf = (cmd: string): Buffer => Buffer.from(assay.v1.ProcessSignature.encode({ ...fullSample(0).processes![0]!.signature!, cmdline: cmd }).finish());
  const contents = [sigOf('python3 train.py'), sigOf('curl x')];
  // (pid, start ticks, first seen ms, content): one pid past 2^31 (a uint32 pid as the wire allows).
  const procs: Array<[number, number, number, Buffer]> = [[4000, 11, t0, contents[0]!], [4_000_000_000, 12, t0 + 500, contents[1]!], [4001, 2 ** 40, t0 + 2000, contents[1]!]];

  const oldVerdict = verdictOf('ai-training', t0 + 1000, 0.8);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const range = [t0 - 500, t0 + 9000] as const;
  let oldFine: SampleSummary[];
  let oldCoarse: SampleSummary[];
  let oldSeqRange: { min: number; max: number };
  let oldSeqs: number[];
  try {
    await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)');
    for (const m of postgresMigrations.filter((x) => x.version < 17)) {
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
    }
    for (const table of ['samples', 'batches', 'verdicts'] as const) {
      await client.query(`CREATE TABLE ${partitionName(table, day)} PARTITION OF ${table} FOR VALUES FROM (${day}) TO (${day + DAY_MS})`);
    }
    await client.query(`INSERT INTO hosts (id, hostname, agent_version, first_seen_ms, last_seen_ms, last_seq, chain_head) VALUES ('old', 'old-host', '0.1', $1, $1, 9, $2)`, [t0, batches.at(-1)!.hash]);
    await client.query(`INSERT INTO hosts (id, hostname, agent_version, first_seen_ms, last_seen_ms) VALUES ('quiet', 'quiet', '0.1', $1, $1)`, [t0]);
    for (const b of batches) {
      await client.query(
        `INSERT INTO batches (host_id, hash, prev_hash, header, signature, first_seq, last_seq, samples, received_ms, encoding, payload)
         VALUES ('old', $1, $2, $3, $4, $5, $6, 3, $7, $8, $9)`,
        [b.hash, b.prevHash, b.header, b.signature, b.samples[0]!.seq, b.samples[2]!.seq, b.samples[2]!.sample.tsMs! + 100, b.encoding, b.payload],
      );
      for (const { seq, sample } of b.samples) {
        const x = summarize(seq, sample);
        await client.query(
          `INSERT INTO samples (host_id, seq, ts_ms, received_ms, cpu_pct, load1, mem_used_bytes, mem_total_bytes, gpu_util_pct, gpu_mem_used_bytes, power_watts,
             disk_read_bps, disk_write_bps, net_rx_bps, net_tx_bps) VALUES ('old', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
          [seq, x.tsMs, x.tsMs + 100, x.cpuPct, x.load1, x.memUsedBytes, x.memTotalBytes, x.gpuUtilPct, x.gpuMemUsedBytes, x.powerWatts, x.diskReadBytesPerSec, x.diskWriteBytesPerSec, x.netRxBytesPerSec, x.netTxBytesPerSec],
        );
      }
    }
    await client.query(`INSERT INTO verdicts (host_id, ts_ms, class, confidence, verdict) VALUES ('old', $1, 'ai-training', 0.8, $2)`, [t0 + 1000, JSON.stringify(oldVerdict)]);
    for (const c of contents) await client.query('INSERT INTO signature_blobs (digest, last_used_ms, signature) VALUES ($1, $2, $3)', [sha256(c), t0, c]);
    for (const [pid, ticks, ms, c] of procs) {
      await client.query('INSERT INTO process_signatures (pid, start_time_ticks, first_seen_ms, host_id, digest) VALUES ($1, $2, $3, $4, $5)', [pid, ticks, ms, 'old', sha256(c)]);
    }
    // What the old store read: chart rows a sample each and three samples each, seq range, samples by time.
    oldFine = (await client.query(OLD_SUMMARIES, ['old', range[0], range[1], 1, 100])).rows.map(asSummary);
    oldCoarse = (await client.query(OLD_SUMMARIES, ['old', range[0], range[0] + 3000 * 4 - 1, 3000, 4])).rows.map(asSummary);
    const r = (await client.query('SELECT MIN(seq) AS min, MAX(seq) AS max FROM samples WHERE host_id = $1 AND ts_ms >= $2 AND ts_ms <= $3', ['old', t0 + 1500, t0 + 6500])).rows[0];
    oldSeqRange = { min: Number(r.min), max: Number(r.max) };
    oldSeqs = (await client.query('SELECT seq FROM samples WHERE host_id = $1 AND ts_ms >= $2 AND ts_ms <= $3 ORDER BY ts_ms, seq LIMIT 100', ['old', ...range])).rows.map((x) => Number(x.seq));
  } finally {
    await client.end();
  }
  assert.equal(oldFine.length, 9);
  assert.equal(oldCoarse.length, 3);

  const store = await PostgresStore.open(url, { maintainEveryMs: 0, retentionDropsPartitions: false });
  try {
    const q = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> => (await store.pool.query<T>(sql, params)).rows;
    assert.deepEqual((await q<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version), postgresMigrations.map((m) => m.version));
    assert.equal((await q("SELECT 1 FROM pg_class WHERE relname LIKE '%v16%'")).length, 0, 'the per-sample table and its partitions are gone');
    assert.deepEqual(store.partitionDays('samples')[0], day, "the old rows' day has its partition");
    assert.deepEqual(await storedSeqs(store.pool, 'old'), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual((await q<{ first_seq: number; n: number }>('SELECT first_seq, n FROM samples ORDER BY first_seq')).map((r) => [r.first_seq, r.n]), [[1, 3], [4, 3], [7, 3]], 'a run per batch');
    // Chart rows: a sample each, exactly as before; three each, the same to the last bits (the
    // averages are now summed as SQLite sums them, compensated, where PostgreSQL's AVG was not).
    assert.deepEqual(await store.sampleSummaries('old', range[0], range[1], 9501), oldFine.slice(0));
    const coarse = await store.sampleSummaries('old', range[0], range[0] + 3000 * 4 - 1, 4);
    assert.equal(coarse.length, oldCoarse.length);
    coarse.forEach((c, i) => {
      for (const [k, v] of Object.entries(oldCoarse[i]!)) {
        const got = (c as unknown as Record<string, number | null>)[k]!;
        if (v === null) assert.equal(got, null, k);
        else assert.ok(Math.abs(got - v) <= Math.abs(v) * 1e-15, `${k}: ${got} vs ${v}`);
      }
    });
    assert.deepEqual(await store.seqRange('old', t0 + 1500, t0 + 6500), { minSeq: oldSeqRange.min, maxSeq: oldSeqRange.max });
    const read = await store.samples('old', range[0], range[1], 100);
    assert.deepEqual(read.map((r) => r.seq), oldSeqs);
    assert.deepEqual(read.map((r) => assay.v1.Sample.toObject(assay.v1.Sample.decode(assay.v1.Sample.encode(r.sample).finish()))), samples.map((s) => assay.v1.Sample.toObject(assay.v1.Sample.decode(assay.v1.Sample.encode(s.sample).finish()))));
    // Process rows: by key and first day, the pid past 2^31 read back as sent.
    const sigs = await store.signatures('old');
    assert.deepEqual([...sigs.keys()].sort(), ['4000:11', '4000000000:12', `4001:${2 ** 40}`].sort());
    assert.equal(sigs.get('4000000000:12')!.cmdline, 'curl x');
    assert.deepEqual([...(await store.signaturesOf('old', ['4000000000:12', '4000:11', '4000:12'])).keys()].sort(), ['4000000000:12', '4000:11']);
    assert.deepEqual(
      (await q<{ d: number }>('SELECT DISTINCT first_seen_day AS d FROM process_signatures')).map((r) => r.d),
      [day / DAY_MS],
      'rows keep their first day',
    );

    // Verdicts: the old row's JSON text reads as before; a new one is stored deflated (form 1) and reads back whole.
    assert.deepEqual(await store.verdicts('old', t0, t0 + 5000, 10), [{ tsMs: t0 + 1000, verdict: oldVerdict }]);
    const newVerdict = verdictOf('idle', t0 + 3000, 0.6);
    await store.putVerdict('old', t0 + 3000, newVerdict);
    assert.deepEqual(await store.verdictBefore('old', t0 + 4000), { tsMs: t0 + 3000, verdict: newVerdict });
    assert.deepEqual((await store.verdicts('old', t0, t0 + 5000, 10)).map((v) => v.verdict), [oldVerdict, newVerdict]);
    const stored = (await q<{ verdict: string | null; d: Buffer }>('SELECT verdict, verdict_deflated AS d FROM verdicts WHERE ts_ms = $1', [t0 + 3000]))[0]!;
    assert.equal(stored.verdict, null);
    assert.ok(stored.d[0] === 0x06 && stored.d.length < JSON.stringify(newVerdict).length / 2, `deflated with the dictionary (${stored.d.length} B)`);

    // Ingest goes on: a fourth batch, its samples packed and read with the old ones.
    const more = batchOf('old', [10, 11].map((seq) => ({ seq, sample: fullSample(t0 + (seq - 1) * 1000, 5000 + seq) })), batches.at(-1)!.hash);
    assert.equal((await store.appendBatch('old', more, t0 + 20_000)).status, 'stored');
    assert.deepEqual((await store.samples('old', range[0], t0 + 11_000, 100)).map((r) => r.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    // Retention row by row: the raw window's cutoff at seq 5's time keeps from the batch holding it (4).
    const opts = retentionOptions({ rawMs: DAY_MS, rollupMs: 30 * DAY_MS, stepRows: 1 });
    for (let done = false, steps = 0; !done && steps < 100; steps++) done = (await store.retentionStep(opts, t0 + 4000 + DAY_MS)).done;
    assert.deepEqual(await storedSeqs(store.pool, 'old'), [4, 5, 6, 7, 8, 9, 10, 11]);
    assert.deepEqual((await store.samples('old', range[0], t0 + 11_000, 100)).map((r) => r.seq), [4, 5, 6, 7, 8, 9, 10, 11]);
    // A batch repeating a stored seq (not from ingest: seqs ascend there) stores only the new one.
    const odd = batchOf('old', [{ seq: 12, sample: fullSample(t0 + 11_000, 6000) }, { seq: 5, sample: fullSample(t0 + 4000, 6001) }], more.hash);
    const res = await store.appendBatch('old', odd, t0 + 21_000);
    assert.deepEqual([res.status, res.storedSeqs, res.duplicates], ['stored', [12], 1]);

  } finally {
    await store.close();
  }
});
