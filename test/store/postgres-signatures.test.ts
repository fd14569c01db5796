// Process signatures on PostgreSQL kept by content (migration 15), as SQLite keeps them: each
// distinct content once in signature_blobs (by SHA-256, deflated when smaller), process rows
// naming it by digest. Checked on a real throwaway PostgreSQL: the upgrade of a database holding
// rows in the old shape (one whole signature per process) loses none and reads back exactly what
// it read before; retention then collects the rows of processes gone and the contents no row
// uses, and keeps a running process's; a content last_used_ms follows every use (a new process,
// a reference, a full resend); two collectors writing the same new contents at once store each
// once and lose no process row.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { sealBatch } from '../../agent/batch.js';
import { generateAgentKeys, sha256, signBytes } from '../../proto/chain.js';
import { assay } from '../../proto/codec.js';
import { PostgresStore, DAY_MS } from '../../collector/store/postgres.js';
import { SIGNATURE_USE_SLACK_MS as SLACK } from '../../collector/store/postgres-group.js';
import { postgresMigrations } from '../../collector/store/postgres-migrations.js';
import { partitionName } from '../../collector/store/postgres-partitions.js';
import { retentionOptions } from '../../collector/store/retention.js';
import { decodeSignatureBlob } from '../../collector/store/signature-blob.js';
import type { IncomingBatch, IncomingSample } from '../../collector/store/store.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';

const keys = generateAgentKeys();

function batchOf(agentId: string, samples: IncomingSample[], prevHash: Uint8Array = new Uint8Array()): IncomingBatch {
  const sealed = sealBatch(
    { agentId, seqs: samples.map((s) => s.seq), samples: samples.map((s) => assay.v1.Sample.encode(s.sample).finish()), prevHash, gaps: [], sealedMs: 1 },
    (h) => signBytes(keys, h),
  );
  return { hash: sealed.hash, prevHash, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples, gaps: [] };
}

/** Sample `seq` at `tsMs` whose processes are `procs` (pid, start ticks, signature or none). */
function sampleWith(seq: number, tsMs: number, procs: Array<[number, number, assay.v1.IProcessSignature | null]>): IncomingSample {
  const sample = fullSample(tsMs, procs[0]?.[0] ?? 1);
  const base = sample.processes![0]!;
  sample.processes = procs.map(([pid, startTimeTicks, signature]) => ({ ...base, pid, startTimeTicks, signature }));
  return { seq, sample };
}

const sigOf = (cmd: string): assay.v1.IProcessSignature => ({ ...fullSample(0).processes![0]!.signature!, cmdline: cmd });
const bytesOf = (sig: assay.v1.IProcessSignature): Buffer => Buffer.from(assay.v1.ProcessSignature.encode(sig).finish());
const plain = (m: Map<string, assay.v1.IProcessSignature>): Record<string, unknown> =>
  Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, assay.v1.ProcessSignature.toObject(assay.v1.ProcessSignature.decode(bytesOf(v)))]));

let cluster: PgCluster;
before(async () => {
  cluster = await startPostgres();
});
after(async () => {
  await cluster?.stop();
});

test('postgres migration 15: process rows holding whole signatures become digests of shared contents; reads answer as before; retention collects what no row uses', async () => {
  const url = await cluster.createDatabase();
  const day = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const T0 = day + 60_000;
  const running = bytesOf(sigOf('python3 train.py'));
  const curl = bytesOf(sigOf('curl http://example'));
  const sleep = bytesOf(sigOf('sleep 1'));
  // What the old schema holds: pids 3000-3002 (one content; only 3000 runs in the newest sample),
  // and 20 short-lived jobs gone since, two contents between them; what it read back.
  const oldRows: Array<[number, number, string, Buffer, number]> = [];
  for (let pid = 3000; pid < 3003; pid++) oldRows.push([pid, 123_456_789, 'python3', running, T0]);
  for (let i = 0; i < 20; i++) oldRows.push([5000 + i, 9000 + i, i % 2 ? 'curl' : 'sleep', i % 2 ? curl : sleep, T0 + i * 1000]);
  const before = new Map(oldRows.map(([pid, ticks, , sig]) => [`${pid}:${ticks}`, assay.v1.ProcessSignature.decode(sig)]));

  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)');
    for (const m of postgresMigrations.filter((x) => x.version < 15)) {
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
    }
    for (const table of ['samples', 'batches', 'verdicts'] as const) {
      await client.query(`CREATE TABLE ${partitionName(table, day)} PARTITION OF ${table} FOR VALUES FROM (${day}) TO (${day + DAY_MS})`);
    }
    await client.query(`INSERT INTO hosts (id, hostname, agent_version, first_seen_ms, last_seen_ms, last_seq) VALUES ('old', 'old-host', '0.1', $1, $1, 0)`, [T0]);
    // Swept before (the old sweep did not mark contents used: the upgrade must sweep again).
    await client.query(`INSERT INTO rollup_hosts (host_id, signatures_pruned_ms) VALUES ('old', $1)`, [T0 - 1]);
    for (const [pid, ticks, name, sig, ms] of oldRows) {
      await client.query('INSERT INTO process_signatures (host_id, pid, start_time_ticks, name, signature, first_seen_ms) VALUES ($1, $2, $3, $4, $5, $6)', ['old', pid, ticks, name, sig, ms]);
    }
    const sizeBefore = (await client.query<{ n: string }>("SELECT COUNT(*) AS n FROM process_signatures WHERE sha256(signature) = $1", [sha256(curl)])).rows[0]!.n;
    assert.equal(Number(sizeBefore), 10, 'the old index answers by digest');
  } finally {
    await client.end();
  }

  const store = await PostgresStore.open(url, { maintainEveryMs: 0, retentionDropsPartitions: false });
  try {
    const q = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> => (await store.pool.query<T>(sql, params)).rows;
    assert.deepEqual((await q<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version), postgresMigrations.map((m) => m.version));
    // Every row kept, each content once.
    assert.equal(Number((await q<{ n: string }>('SELECT COUNT(*) AS n FROM process_signatures'))[0]!.n), 23);
    assert.deepEqual((await q<{ digest: Buffer }>('SELECT digest FROM signature_blobs ORDER BY digest')).map((r) => r.digest), [sha256(running), sha256(curl), sha256(sleep)].sort(Buffer.compare));
    assert.deepEqual(
      (await q<{ column_name: string }>("SELECT column_name FROM information_schema.columns WHERE table_name = 'process_signatures' ORDER BY ordinal_position")).map((r) => r.column_name),
      ['start_time_ticks', 'signature_id', 'host_key', 'pid', 'first_seen_day'],
      'the whole signature and the name are gone from the rows (and, migration 17, the host id text and the millisecond)',
    );
    assert.equal((await q("SELECT 1 FROM pg_indexes WHERE indexname = 'process_signatures_by_digest'")).length, 0, 'the digest index on the rows is gone');
    // Reads answer exactly as before.
    assert.deepEqual(plain(await store.signatures('old')), plain(before));
    const some = ['3001:123456789', '5003:9003', '5004:9004', '9999:1'];
    assert.deepEqual(plain(await store.signaturesOf('old', some)), plain(new Map(some.filter((k) => before.has(k)).map((k) => [k, before.get(k)!]))));
    const blobs = await store.signatureBlobs([sha256(curl), sha256(running), Buffer.alloc(32, 9)]);
    assert.deepEqual([...blobs.keys()].sort(), [sha256(curl).toString('hex'), sha256(running).toString('hex')].sort());
    assert.deepEqual(Buffer.from(blobs.get(sha256(curl).toString('hex'))!), curl, 'the canonical bytes the digest covers');
    // Each content last used when its newest process was first seen; every host to be swept again.
    const lastUsed = async (b: Buffer): Promise<number | undefined> => (await q<{ ms: number }>('SELECT last_used_ms AS ms FROM signature_blobs WHERE digest = $1', [sha256(b)]))[0]?.ms;
    assert.equal(await lastUsed(curl), T0 + 19_000);
    assert.equal(await lastUsed(sleep), T0 + 18_000);
    assert.equal(await lastUsed(running), T0);
    assert.equal((await q<{ ms: number }>("SELECT signatures_pruned_ms AS ms FROM rollup_hosts WHERE host_id = 'old'"))[0]!.ms, 0);

    const D = DAY_MS;
    // The newest batch: process 3000 runs (its signature sent long ago, none in this batch).
    const b1 = batchOf('old', [sampleWith(1, T0 + D + SLACK + 60_000, [[3000, 123_456_789, null]])]);
    assert.equal((await store.appendBatch('old', b1, T0 + D + SLACK + 60_500)).status, 'stored');
    // Retention with the raw window ending a day after every first sighting (rows keep their first
    // day since migration 17, and the sweep cuts at the start of the window's first day): the jobs
    // and the python processes gone go, the one running stays with its content, the two contents
    // no row uses go (last used before the sweep's cutoff, less the slack ingest's marks of use have).
    const opts = retentionOptions({ rawMs: D, rollupMs: 30 * D, stepRows: 7 });
    let steps = 0;
    let rows = 0;
    let contents = 0;
    for (let done = false; !done && steps < 1000; steps++) {
      const res = await store.retentionStep(opts, T0 + 2 * D + SLACK + 30_000);
      assert.ok(Object.values(res.deleted).reduce((a, b) => a + b, 0) <= 7, 'bounded steps');
      rows += res.deleted.process_signatures;
      contents += res.deleted.signature_blobs;
      done = res.done;
    }
    assert.equal(rows, 22);
    assert.equal(contents, 2);
    assert.deepEqual([...(await store.signatures('old')).keys()], ['3000:123456789']);
    assert.deepEqual((await q<{ digest: Buffer }>('SELECT digest FROM signature_blobs')).map((r) => r.digest), [sha256(running)]);
    assert.equal(await lastUsed(running), day + D, 'a running process\'s content is marked used by the sweep, at its cutoff day');
    assert.ok((await store.batchContaining('old', 1)) !== null, 'the kept batch is untouched');

    // A new process using a collected content stores it again, deflated, read back whole.
    const b2 = batchOf('old', [sampleWith(2, T0 + 2 * D + SLACK + 40_000, [[7000, 1, assay.v1.ProcessSignature.decode(curl)]])], b1.hash);
    assert.equal((await store.appendBatch('old', b2, T0 + 2 * D + SLACK + 40_100)).status, 'stored');
    assert.equal((await store.signaturesOf('old', ['7000:1'])).get('7000:1')!.cmdline, 'curl http://example');
    const stored = (await q<{ signature: Buffer; ms: number }>('SELECT signature, last_used_ms AS ms FROM signature_blobs WHERE digest = $1', [sha256(curl)]))[0]!;
    assert.ok(stored.signature[0] === 0 && stored.signature.length < curl.length, `deflated (${stored.signature.length} B of ${curl.length})`);
    assert.deepEqual(decodeSignatureBlob(stored.signature), curl);
    assert.equal(stored.ms, T0 + 2 * D + SLACK + 40_100);
  } finally {
    await store.close();
  }
});

test('postgres signatures: a content is shared by hosts and stored once; every use (new process, reference, full resend) marks it used, at most once per slack', async () => {
  const url = await cluster.createDatabase();
  const store = await PostgresStore.open(url, { maintainEveryMs: 0, retentionDropsPartitions: false });
  try {
    const q = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> => (await store.pool.query<T>(sql, params)).rows;
    const t0 = 1_795_000_000_000;
    const shared = sigOf('python3 serve.py');
    const digest = sha256(bytesOf(shared));
    const lastUsed = async (): Promise<number> => (await q<{ ms: number }>('SELECT last_used_ms AS ms FROM signature_blobs WHERE digest = $1', [digest]))[0]!.ms;
    for (const h of ['a', 'b']) await store.upsertHost(fullHello(h), 1);
    // Host a: two processes with the same content, one batch; host b: a third, later.
    const a1 = batchOf('a', [sampleWith(1, t0, [[10, 1, shared], [11, 1, shared]])]);
    assert.equal((await store.appendBatch('a', a1, t0 + 100)).status, 'stored');
    const b1 = batchOf('b', [sampleWith(1, t0, [[20, 1, shared]])]);
    assert.equal((await store.appendBatch('b', b1, t0 + 200)).status, 'stored');
    assert.equal(Number((await q<{ n: string }>('SELECT COUNT(*) AS n FROM signature_blobs'))[0]!.n), 1, 'one content for three processes on two hosts');
    assert.equal(Number((await q<{ n: string }>('SELECT COUNT(*) AS n FROM process_signatures'))[0]!.n), 3);
    assert.equal(await lastUsed(), t0 + 100, 'used again within the slack: left alone');
    // Host b refers to it by digest for a new process, past the slack: resolved, and a use.
    const b2 = batchOf('b', [sampleWith(2, t0 + 1000, [[21, 1, { sameAs: digest }]])], b1.hash);
    const r = await store.appendBatch('b', b2, t0 + SLACK + 5000);
    assert.equal(r.unresolvedSignatures, undefined);
    assert.equal((await store.signaturesOf('b', ['21:1'])).get('21:1')!.cmdline, 'python3 serve.py');
    assert.equal(await lastUsed(), t0 + SLACK + 5000);
    // Host a resends process 10's signature in full a day on (the agent's daily resend): a use.
    const a2 = batchOf('a', [sampleWith(2, t0 + DAY_MS, [[10, 1, shared]])], a1.hash);
    assert.equal((await store.appendBatch('a', a2, t0 + DAY_MS + 100)).status, 'stored');
    assert.equal(await lastUsed(), t0 + DAY_MS + 100);
    // A reference to the content of a stored process, by a process already stored: still a use.
    const a3 = batchOf('a', [sampleWith(3, t0 + DAY_MS + 1000, [[11, 1, { sameAs: digest }]])], a2.hash);
    assert.equal((await store.appendBatch('a', a3, t0 + DAY_MS + SLACK + 2000)).status, 'stored');
    assert.equal(await lastUsed(), t0 + DAY_MS + SLACK + 2000);
    // An earlier time never lowers it.
    const b3 = batchOf('b', [sampleWith(3, t0 + 2000, [[22, 1, shared]])], b2.hash);
    assert.equal((await store.appendBatch('b', b3, t0 + 6000)).status, 'stored');
    assert.equal(await lastUsed(), t0 + DAY_MS + SLACK + 2000);
    const rows = await store.samples('b', t0 + 1000, t0 + 1000, 10);
    assert.equal(rows[0]!.sample.processes![0]!.signature!.cmdline, 'python3 serve.py', 'a stored reference decodes through the shared content');
  } finally {
    await store.close();
  }
});

test('postgres signatures: two collectors storing the same new contents at once store each once and keep every process row', async () => {
  const url = await cluster.createDatabase();
  const opts = { maintainEveryMs: 0, groupCommit: { maxDelayMs: 5, maxItems: 1000, maxWeight: 100_000 } };
  const [x, y] = await Promise.all([PostgresStore.open(url, opts), PostgresStore.open(url, opts)]);
  try {
    const t0 = 1_795_000_000_000;
    const hosts = Array.from({ length: 8 }, (_, i) => `c-${i}`);
    for (const h of hosts) await x.upsertHost(fullHello(h), 1);
    // Every host starts processes with the same few contents, round after round; x takes half the
    // hosts, y the other half, at the same moments.
    const contents = Array.from({ length: 6 }, (_, i) => sigOf(`job --shard ${i}`));
    const prev = new Map(hosts.map((h) => [h, new Uint8Array() as Uint8Array]));
    const rounds = 6;
    for (let round = 0; round < rounds; round++) {
      const send = hosts.map((h, i) => {
        const procs: Array<[number, number, assay.v1.IProcessSignature]> = contents.map((_c, k) => [1000 + round * 10 + k, 7, contents[(k + round + i) % contents.length]!]);
        const b = batchOf(h, [sampleWith(round + 1, t0 + round * 1000, procs)], prev.get(h)!);
        prev.set(h, b.hash);
        return (i % 2 ? y : x).appendBatch(h, b, t0 + round * 1000 + 10);
      });
      assert.deepEqual((await Promise.all(send)).map((r) => r.status), hosts.map(() => 'stored'));
    }
    assert.equal(x.commits.stats.failedGroups + y.commits.stats.failedGroups, 0);
    const n = await x.pool.query<{ blobs: number; rows: number; orphans: number }>(
      `SELECT (SELECT COUNT(*) FROM signature_blobs) AS blobs, (SELECT COUNT(*) FROM process_signatures) AS rows,
        (SELECT COUNT(*) FROM process_signatures p WHERE NOT EXISTS (SELECT 1 FROM signature_blobs b WHERE b.id = p.signature_id)) AS orphans`,
    );
    assert.deepEqual(n.rows[0], { blobs: contents.length, rows: hosts.length * rounds * contents.length, orphans: 0 });
    for (const [i, h] of hosts.entries()) {
      const sigs = await (i % 2 ? x : y).signatures(h);
      assert.equal(sigs.size, rounds * contents.length);
      assert.equal(sigs.get(`${1000 + 10 + 2}:7`)!.cmdline, contents[(2 + 1 + i) % contents.length]!.cmdline);
    }
  } finally {
    await Promise.all([x.close(), y.close()]);
  }
});
