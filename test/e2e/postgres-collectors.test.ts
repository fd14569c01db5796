// Two collector processes on one PostgreSQL (as behind a TCP load balancer): one agent's batches
// sent to both at once are stored once each with the hash chain intact, and a host's verdicts
// are made by one collector at a time (a lease), taken over by the other when the first stops
// getting the host's samples, and released at shutdown.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import pg from 'pg';
import { tempDir, waitFor } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { runAssay, spawnAssay, type Spawned } from '../helpers/proc.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';
import { RawAgent } from '../helpers/rawagent.js';
import { prevHashOf } from '../../collector/store/prev-hash.js';
import { storedSeqs } from '../../collector/store/postgres-figures.js';

const SECRET = 'shared-enrollment-secret-0123456789';
const LEASE_MS = 2000;

interface Collector {
  proc: Spawned;
  ingest: string;
  id: string;
}

async function collector(db: string, dataDir: string): Promise<Collector> {
  const proc = spawnAssay(['collector', '--port', '0', '--db', db, '--data-dir', dataDir, '--log-level', 'warn', '--verdict-lease', `${LEASE_MS}ms`], { ASSAY_ENROLL_SECRET: SECRET });
  const url = await waitFor(() => /listening on (http\S+) /.exec(proc.output())?.[1], 30_000, `collector to listen: ${proc.output()}`);
  // Its own line, written after the listening line: wait for it too (read at once, it was not
  // always there yet on a loaded machine).
  const id = await waitFor(() => /collector id (\S+) /.exec(proc.output())?.[1], 30_000, `collector id line: ${proc.output()}`);
  return { proc, ingest: `${url.replace(/^http/, 'ws')}/ingest`, id };
}

describe('two collectors on one PostgreSQL', () => {
  let cluster: PgCluster;
  let db: string;
  const tmp = tempDir();
  let a: Collector;
  let b: Collector;
  let sql: pg.Client;
  before(async () => {
    cluster = await startPostgres();
    db = await cluster.createDatabase();
    [a, b] = await Promise.all([collector(db, join(tmp.dir, 'a')), collector(db, join(tmp.dir, 'b'))]);
    sql = new pg.Client({ connectionString: db });
    await sql.connect();
  });
  after(async () => {
    await sql?.end();
    await Promise.all([a?.proc.stop(), b?.proc.stop()]);
    await cluster?.stop();
    tmp.cleanup();
  });

  const agentId = 'raced-agent';
  const t0 = Date.now() - 280_000;
  const samples = (firstSeq: number, n: number) => Array.from({ length: n }, (_, i) => fullSample(t0 + (firstSeq + i) * 1000, 3000 + firstSeq + i));
  let toA: RawAgent;
  let toB: RawAgent;
  let seq = 1;

  it('the same batches sent to both collectors at once: each stored once, the chain intact, every ack honest', async () => {
    toA = await RawAgent.connect(a.ingest);
    toB = await RawAgent.connect(b.ingest);
    toB.keys = toA.keys;
    await toA.hello(fullHello(agentId), SECRET);
    await toB.hello(fullHello(agentId));
    const BATCHES = 20;
    for (let i = 0; i < BATCHES; i++, seq += 5) {
      const batch = toA.build(seq, samples(seq, 5));
      toB.head = toA.head;
      toA.sendBatch(batch);
      toB.sendBatch(batch);
      const acks = await Promise.all([toA.ack(), toB.ack()]);
      assert.deepEqual(acks.map((k) => k.lastSeq), [seq + 4, seq + 4], `batch ${i}: both acks say it is durable`);
      assert.deepEqual(acks.map((k) => [k.accepted, k.duplicates]).sort(), [[0, 5], [5, 0]], `batch ${i}: one collector stored it, the other saw its commit`);
    }
    // Samples are packed, a batch's run a row (postgres-figures.ts): read back seq by seq.
    const seqs = await storedSeqs(sql);
    const n = { ...(await sql.query('SELECT COUNT(*)::int AS batches FROM batches')).rows[0], samples: seqs.length, seqs: new Set(seqs).size };
    assert.deepEqual(n, { batches: BATCHES, samples: BATCHES * 5, seqs: BATCHES * 5 });
    // The stored link: the column, or (left empty when the signed header carries it) the header's.
    const chain = (await sql.query<{ hash: Buffer; prev_hash: Buffer; header: Buffer }>('SELECT hash, prev_hash, header FROM batches ORDER BY first_seq')).rows;
    chain.forEach((r, i) => assert.deepEqual(prevHashOf(r.prev_hash, r.header), i === 0 ? Buffer.alloc(0) : chain[i - 1]!.hash, `batch ${i} links to the one before`));
    const host = (await sql.query<{ last_seq: string; chain_head: Buffer }>('SELECT last_seq, chain_head FROM hosts WHERE id = $1', [agentId])).rows[0]!;
    assert.equal(Number(host.last_seq), seq - 1);
    assert.deepEqual(host.chain_head, chain.at(-1)!.hash);
  });

  it('one collector holds the host\'s verdict lease; the other takes over once it lapses, and a shutdown releases it', async () => {
    const lease = async () => (await sql.query<{ holder: string }>('SELECT holder FROM leases WHERE name = $1', [`verdicts:${agentId}`])).rows[0]?.holder ?? null;
    const holderId = await waitFor(lease, 10_000, 'a verdict lease');
    assert.ok([a.id, b.id].includes(holderId), holderId);
    assert.ok(Number((await sql.query('SELECT COUNT(*) AS n FROM verdicts')).rows[0].n) > 0, 'the holder made verdicts');
    const [holder, other, otherAgent, holderAgent] = holderId === a.id ? [a, b, toB, toA] : [b, a, toA, toB];
    // The agent's connection to the holder ends (as when a load balancer moves it); the other collector gets its batches.
    holderAgent.close();
    const lastRaceMs = t0 + (seq - 1) * 1000;
    let takenAtSeq = 0;
    const deadline = Date.now() + LEASE_MS * 5;
    for (let first = true; Date.now() < deadline; first = false, seq += 5) {
      const ack = await otherAgent.batch(seq, samples(seq, 5));
      assert.equal(ack.accepted, 5);
      const now = await lease();
      if (first) assert.equal(now, holder.id, 'the lease has not lapsed yet: the other collector makes no verdicts');
      if (now === other.id) {
        takenAtSeq = seq;
        seq += 5;
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(takenAtSeq > 0, `the other collector took the lease over within ${LEASE_MS * 5} ms`);
    // It rebuilt the host from the store and goes on making (and storing) its verdicts.
    for (let i = 0; i < 20; i++, seq += 5) await otherAgent.batch(seq, samples(seq, 5));
    const newer = await waitFor(async () => Number((await sql.query('SELECT COUNT(*) AS n FROM verdicts WHERE ts_ms > $1', [lastRaceMs + 60_000])).rows[0].n), 10_000, 'a verdict stored after the takeover');
    assert.ok(newer > 0);
    otherAgent.close();
    await other.proc.stop();
    assert.equal(await lease(), null, 'a collector that shuts down releases its leases');
  });

  it('`assay agents list`, `assay report` and `assay agents revoke` work on the same --db URL', async () => {
    const list = await runAssay(['agents', 'list', '--db', db, '--json']);
    assert.equal(list.code, 0, list.stderr);
    const agents = JSON.parse(list.stdout) as Array<{ id: string; lastSeq: number }>;
    assert.deepEqual(agents.map((x) => [x.id, x.lastSeq]), [[agentId, seq - 1]]);
    const out = join(tmp.dir, 'report.json');
    const report = await runAssay(['report', '--db', db, '--data-dir', join(tmp.dir, 'a'), '--host', agentId, '--from', String(t0), '--to', String(Date.now() + 60_000), '--out', out]);
    assert.equal(report.code, 0, report.stderr);
    const verify = await runAssay(['verify', out]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const revoke = await runAssay(['agents', 'revoke', agentId, '--db', db]);
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.notEqual((await sql.query('SELECT revoked_ms FROM hosts WHERE id = $1', [agentId])).rows[0].revoked_ms, null);
  });
});
