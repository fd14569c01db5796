// Group commit in the PostgreSQL store, on a real throwaway PostgreSQL: many hosts' hellos,
// batches and verdicts share one transaction; a write refused by its checks, or one PostgreSQL
// refuses mid-statement, leaves no trace and does not affect the others; writes settle only after
// COMMIT (checked from another connection at the moment they settle); a deadlock makes the group
// run again, not ack twice; two stores racing on the same hosts' batches in opposite orders store
// each batch once, keep every chain, and never deadlock (hosts are locked in one order).
import { prevHashOf } from '../../collector/store/prev-hash.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { sealBatch } from '../../agent/batch.js';
import { generateAgentKeys, signBytes } from '../../proto/chain.js';
import { assay } from '../../proto/codec.js';
import type { Verdict } from '../../collector/engine/types.js';
import { PostgresStore, type PostgresStoreOptions } from '../../collector/store/postgres.js';
import type { AppendResult, IncomingBatch, IncomingSample } from '../../collector/store/store.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { startPostgres, type PgCluster } from '../helpers/postgres.js';
import { storedSampleCount, storedSeqs } from '../../collector/store/postgres-figures.js';

const keys = generateAgentKeys();
const T0 = 1_795_000_000_000;
const samples = (firstSeq: number, n: number): IncomingSample[] =>
  Array.from({ length: n }, (_, i) => ({ seq: firstSeq + i, sample: fullSample(T0 + (firstSeq + i) * 1000, 1000 + firstSeq + i) }));
function batch(agentId: string, s: IncomingSample[], prevHash: Uint8Array = new Uint8Array(), gaps: IncomingBatch['gaps'] = []): IncomingBatch {
  const sealed = sealBatch({ agentId, seqs: s.map((x) => x.seq), samples: s.map((x) => assay.v1.Sample.encode(x.sample).finish()), prevHash, gaps, sealedMs: 1 }, (h) => signBytes(keys, h));
  return { hash: sealed.hash, prevHash, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples: s, gaps };
}
const verdict = (cls: Verdict['class']): Verdict => ({
  class: cls,
  confidence: 0.8,
  scores: { 'ai-training': 0.8, 'ai-inference': 0, 'chain-validation': 0, 'storage-proving': 0, 'pow-mining': 0.1, general: 0, idle: 0 },
  parts: [],
  evidence: [],
  window: { fromMs: T0, toMs: T0 + 60_000, samples: 60 },
  unavailable: [],
  rulesVersion: 'test',
});

let cluster: PgCluster;
before(async () => {
  cluster = await startPostgres();
});
after(async () => {
  await cluster?.stop();
});

/** A store with one commit queue whose groups wait 50 ms for company (everything submitted in one tick shares a group), and a second connection to look with. */
async function withStore(fn: (store: PostgresStore, sql: pg.Client, url: string) => Promise<void>, opts: Partial<PostgresStoreOptions> = {}): Promise<void> {
  const url = await cluster.createDatabase();
  const store = await PostgresStore.open(url, { maintainEveryMs: 0, groupShards: 1, groupCommit: { maxDelayMs: 50, maxItems: 1000, maxWeight: 100_000 }, ...opts });
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  try {
    await fn(store, sql, url);
  } finally {
    await sql.end();
    await store.close();
  }
}

// Samples are packed, a run of a batch's samples a row (postgres-figures.ts): counted by their rows' n.
const count = async (sql: pg.Client, table: string, hostId: string): Promise<number> =>
  table === 'samples' ? storedSampleCount(sql, hostId) : Number((await sql.query(`SELECT COUNT(*) AS n FROM ${table} WHERE host_id = $1`, [hostId])).rows[0].n);
const head = async (sql: pg.Client, hostId: string): Promise<Buffer | null> => (await sql.query('SELECT chain_head FROM hosts WHERE id = $1', [hostId])).rows[0]?.chain_head ?? null;

test('postgres group commit: hosts\' hellos, batches and verdicts share one transaction; refused and failing writes leave no trace and do not affect the others', async () => {
  await withStore(async (store, sql) => {
    for (const id of ['a', 'b', 'c', 'd', 'r']) await store.upsertHost(fullHello(id), 1000);
    const c0 = batch('c', samples(1, 1));
    assert.equal((await store.appendBatch('c', c0, 1500)).status, 'stored');
    assert.equal(await store.revokeAgent('r', 1600), true);
    const groups = store.commits.stats.groups;
    // b's batch passes every check of the store, but PostgreSQL refuses its gap's text (a NUL
    // byte) in the middle of the group's gap INSERT: the fast path fails, the group runs again one
    // write at a time, and only b is refused.
    const poisoned = batch('b', samples(1, 2), new Uint8Array(), [{ fromSeq: 3, toSeq: 4, fromMs: 1, toMs: 2, cause: 'bad\u0000cause', samples: 1 }]);
    const sealed: Array<[string, IncomingBatch]> = [
      ['a', batch('a', samples(1, 3))],
      ['b', poisoned],
      ['c', batch('c', samples(2, 3), randomBytes(32))],
      ['zz', batch('zz', samples(1, 3))],
      ['r', batch('r', samples(1, 1))],
      ['d', batch('d', samples(1, 3))],
    ];
    const writes: Array<Promise<unknown>> = sealed.map(([id, b]) => store.appendBatch(id, b, 2000));
    writes.push(store.upsertHost({ ...fullHello('new1'), hostname: 'fresh' }, 2000));
    writes.push(store.appendBatch('new1', batch('new1', samples(1, 2)), 2001));
    writes.push(store.putVerdict('a', T0 + 60_000, verdict('ai-training')));
    writes.push(store.putVerdict('a', T0 + 61_000, verdict('pow-mining')));
    writes.push(store.putVerdict('ghost', T0 + 60_000, verdict('idle')));
    const settled = await Promise.allSettled(writes);
    assert.equal(store.commits.stats.groups, groups + 1, 'all of them went through one commit');
    assert.equal(store.groupStats.isolated, 1, 'the failing statement sent the group down the one-write-at-a-time path once');
    const value = (i: number): unknown => (settled[i]!.status === 'fulfilled' ? (settled[i] as PromiseFulfilledResult<unknown>).value : undefined);
    const reason = (i: number): string => (settled[i]!.status === 'rejected' ? String((settled[i] as PromiseRejectedResult).reason) : 'fulfilled');
    assert.equal((value(0) as AppendResult).status, 'stored');
    assert.match(reason(1), /invalid byte sequence|0x00/, 'the batch PostgreSQL refused is refused');
    assert.equal((value(2) as AppendResult).status, 'chain_break');
    assert.match(reason(3), /unknown host zz/);
    assert.equal((value(4) as AppendResult).status, 'revoked');
    assert.equal((value(5) as AppendResult).status, 'stored');
    assert.equal((value(6) as { hostname: string }).hostname, 'fresh', 'a hello enrolls a new host in the group');
    assert.deepEqual(value(7), { status: 'stored', accepted: 2, duplicates: 0, lastSeq: 2, storedSeqs: [1, 2] }, 'and its batch right behind it');
    assert.equal(settled[8]!.status, 'fulfilled');
    assert.equal(settled[9]!.status, 'fulfilled');
    assert.match(reason(10), /unknown host ghost/);
    assert.equal(await count(sql, 'samples', 'a'), 3);
    assert.equal(await count(sql, 'samples', 'd'), 3);
    assert.equal(await count(sql, 'samples', 'new1'), 2);
    assert.equal(await count(sql, 'samples', 'b'), 0, "b's samples went with its savepoint");
    assert.equal(await count(sql, 'batches', 'b'), 0);
    assert.equal(await count(sql, 'gaps', 'b'), 0);
    assert.equal(await head(sql, 'b'), null);
    assert.equal(await count(sql, 'samples', 'c'), 1, 'only the batch before the broken one');
    assert.equal(await count(sql, 'samples', 'r'), 0);
    // Verdicts of one host in one group: both stored, both class changes recorded in order.
    const changes = await sql.query('SELECT from_class, to_class FROM class_changes WHERE host_id = $1 ORDER BY id', ['a']);
    assert.deepEqual(changes.rows, [{ from_class: null, to_class: 'ai-training' }, { from_class: 'ai-training', to_class: 'pow-mining' }]);
    assert.equal((await store.getHost('a'))!.verdictClass, 'pow-mining');
    assert.equal((await store.rollupRows('a', '1m', T0, T0 + 10_000, 10))[0]!.samples, 3, 'roll-ups written for the stored samples');
    // b and c go on from where they were.
    assert.equal((await store.appendBatch('b', batch('b', samples(1, 2)), 3000)).status, 'stored');
    assert.equal((await store.appendBatch('c', batch('c', samples(2, 2), c0.hash), 3000)).status, 'stored');
  });
});

test('postgres group commit: one agent\'s batches in one group commit in arrival order, each checked against the one before', async () => {
  await withStore(async (store, sql) => {
    await store.upsertHost(fullHello('h'), 1000);
    const b1 = batch('h', samples(1, 2));
    const b2 = batch('h', samples(3, 2), b1.hash);
    const b3 = batch('h', samples(5, 2), b2.hash);
    const groups = store.commits.stats.groups;
    const results = await Promise.all([store.appendBatch('h', b1, 2000), store.appendBatch('h', b2, 2001), store.appendBatch('h', b3, 2002), store.appendBatch('h', b2, 2003), store.appendBatch('h', b3, 2004)]);
    assert.equal(store.commits.stats.groups, groups + 1);
    assert.deepEqual(results.map((r) => [r.status, r.lastSeq]), [['stored', 2], ['stored', 4], ['stored', 6], ['replayed', 6], ['duplicate', 6]]);
    assert.deepEqual(await head(sql, 'h'), Buffer.from(b3.hash));
    // Resent in a later group: looked up among the stored batches; a stranger breaks the chain.
    const later = await Promise.all([store.appendBatch('h', b1, 2500), store.appendBatch('h', b2, 2501), store.appendBatch('h', batch('h', samples(7, 1), randomBytes(32)), 2502)]);
    assert.deepEqual(later.map((r) => r.status), ['replayed', 'replayed', 'chain_break']);
    const c1 = batch('h', samples(7, 2), b3.hash);
    const c2 = batch('h', samples(9, 2), c1.hash);
    const [r2, r1] = await Promise.all([store.appendBatch('h', c2, 3000), store.appendBatch('h', c1, 3001)]);
    assert.equal(r2.status, 'chain_break', 'a batch that arrives before the one it extends breaks the chain');
    assert.equal(r1.status, 'stored');
    assert.equal(await count(sql, 'samples', 'h'), 8);
    assert.equal(await count(sql, 'batches', 'h'), 4);
  });
});

test('postgres group commit: writes settle only after COMMIT; a failed commit stores nothing and refuses every write of its group', async () => {
  await withStore(async (store, sql) => {
    for (const id of ['a', 'b']) await store.upsertHost(fullHello(id), 1000);
    const a1 = batch('a', samples(1, 2));
    const b1 = batch('b', samples(1, 2));
    let settledEarly = false;
    let seenBeforeCommit = -1;
    store.hooks.beforeCommit = async () => {
      // Inside the group's transaction, its writes done: another connection sees none of them, and no write has settled.
      seenBeforeCommit = (await count(sql, 'samples', 'a')) + (await count(sql, 'samples', 'b'));
      await new Promise((r) => setTimeout(r, 20));
      throw new Error('could not fsync (injected)');
    };
    const visibleWhenSettled = (p: Promise<AppendResult>, hostId: string) =>
      p.then(async (r) => {
        settledEarly = true;
        return { status: r.status, rows: await count(sql, 'samples', hostId) };
      });
    const failed = await Promise.allSettled([visibleWhenSettled(store.appendBatch('a', a1, 2000), 'a'), visibleWhenSettled(store.appendBatch('b', b1, 2000), 'b')]);
    assert.equal(seenBeforeCommit, 0);
    assert.equal(settledEarly, false);
    assert.deepEqual(failed.map((s) => s.status), ['rejected', 'rejected'], 'no write of a failed commit is reported stored');
    assert.equal(store.commits.stats.failedGroups, 1);
    assert.equal((await count(sql, 'samples', 'a')) + (await count(sql, 'batches', 'b')), 0);
    assert.equal(await head(sql, 'a'), null);
    store.hooks.beforeCommit = undefined;
    // The same batches again (an agent resends what was not acked): stored, and visible the moment they settle.
    const ok = await Promise.all([visibleWhenSettled(store.appendBatch('a', a1, 3000), 'a'), visibleWhenSettled(store.appendBatch('b', b1, 3000), 'b')]);
    assert.deepEqual(ok, [{ status: 'stored', rows: 2 }, { status: 'stored', rows: 2 }]);
  });
});

test('postgres group commit: a deadlock runs the group again (once stored, acked once); past the attempts every write is refused', async () => {
  await withStore(
    async (store, sql) => {
      for (const id of ['a', 'b']) await store.upsertHost(fullHello(id), 1000);
      const attempts: number[] = [];
      store.hooks.beforeCommit = (_n, attempt) => {
        attempts.push(attempt);
        if (attempt === 1) throw Object.assign(new Error('deadlock detected (injected)'), { code: '40P01' });
      };
      const a1 = batch('a', samples(1, 2));
      const b1 = batch('b', samples(1, 3));
      const results = await Promise.all([store.appendBatch('a', a1, 2000), store.appendBatch('b', b1, 2000)]);
      assert.deepEqual(attempts, [1, 2]);
      assert.equal(store.groupStats.retries, 1);
      assert.deepEqual(results.map((r) => [r.status, r.accepted]), [['stored', 2], ['stored', 3]], 'the second attempt decides afresh: stored, not "duplicate"');
      assert.equal(await count(sql, 'samples', 'a'), 2);
      assert.equal(await count(sql, 'batches', 'b'), 1);
      assert.equal((await store.rollupRows('b', '1m', T0, T0 + 10_000, 10))[0]!.samples, 3, 'roll-ups counted once');
      // Every attempt deadlocks: refused after groupAttempts (3 here), nothing stored.
      attempts.length = 0;
      store.hooks.beforeCommit = (_n, attempt) => {
        attempts.push(attempt);
        throw Object.assign(new Error('deadlock detected (injected)'), { code: '40P01' });
      };
      const a2 = batch('a', samples(3, 1), a1.hash);
      await assert.rejects(store.appendBatch('a', a2, 3000), /deadlock/);
      assert.deepEqual(attempts, [1, 2, 3]);
      assert.equal(await count(sql, 'samples', 'a'), 2);
      store.hooks.beforeCommit = undefined;
      assert.equal((await store.appendBatch('a', a2, 4000)).status, 'stored');
    },
    { groupAttempts: 3 },
  );
});

test('postgres group commit: two stores racing on the same hosts\' batches, in opposite orders, store each batch once, keep every chain, never deadlock', async () => {
  const url = await cluster.createDatabase();
  const opts = { maintainEveryMs: 0, groupCommit: { maxDelayMs: 5, maxItems: 1000, maxWeight: 100_000 } };
  const [x, y] = await Promise.all([PostgresStore.open(url, opts), PostgresStore.open(url, opts)]);
  try {
    const hosts = Array.from({ length: 12 }, (_, i) => `race-${String(i).padStart(2, '0')}`);
    for (const id of hosts) await x.upsertHost(fullHello(id), 1);
    const prev = new Map(hosts.map((h) => [h, new Uint8Array() as Uint8Array]));
    const statuses = new Map<string, number>();
    const rounds = 15;
    for (let round = 0; round < rounds; round++) {
      const batches = new Map(hosts.map((h) => [h, batch(h, samples(round * 2 + 1, 2), prev.get(h)!)]));
      // Each store gets every host's batch in one group, x in one order and y in the reverse one.
      const send = (s: PostgresStore, order: string[]) => order.map((h) => s.appendBatch(h, batches.get(h)!, T0 + round));
      const [rx, ry] = await Promise.all([Promise.all(send(x, hosts)), Promise.all(send(y, [...hosts].reverse()))]);
      const ryByHost = new Map([...hosts].reverse().map((h, i) => [h, ry[i]!]));
      hosts.forEach((h, i) => {
        const pair = [rx[i]!.status, ryByHost.get(h)!.status].sort().join('+');
        statuses.set(pair, (statuses.get(pair) ?? 0) + 1);
      });
      for (const h of hosts) prev.set(h, batches.get(h)!.hash);
    }
    assert.deepEqual([...statuses], [['duplicate+stored', rounds * hosts.length]], 'each batch: one store commits it, the other sees it as the head');
    assert.equal(x.groupStats.retries + y.groupStats.retries, 0, 'hosts locked in one order: no deadlock to retry');
    assert.equal(x.commits.stats.failedGroups + y.commits.stats.failedGroups, 0);
    const n = await x.pool.query<{ batches: number }>('SELECT COUNT(*) AS batches FROM batches');
    assert.deepEqual({ ...n.rows[0], samples: await storedSampleCount(x.pool) }, { batches: rounds * hosts.length, samples: rounds * hosts.length * 2 });
    for (const h of hosts) {
      const seqs = await storedSeqs(x.pool, h);
      assert.deepEqual(seqs, [...new Set(seqs)], `${h}: no sample stored twice`);
      // The link as stored: the column, or (empty) the signed header's own (prev-hash.ts).
      const chain = await x.pool.query<{ hash: Buffer; prev_hash: Buffer; header: Buffer }>('SELECT hash, prev_hash, header FROM batches WHERE host_id = $1 ORDER BY first_seq', [h]);
      chain.rows.forEach((r, i) => assert.deepEqual(prevHashOf(r.prev_hash, r.header), i === 0 ? Buffer.alloc(0) : chain.rows[i - 1]!.hash, `${h} batch ${i + 1} links to the one before`));
      assert.ok(chain.rows.every((r) => r.prev_hash.length === 0), 'signed headers carry the link: the column stays empty');
      assert.deepEqual((await x.getHost(h))!.chainHead, chain.rows.at(-1)!.hash);
      assert.equal((await x.rollupRows(h, '1h', T0, T0 + 3_600_000, 10))[0]!.samples, rounds * 2, `${h}: roll-ups count each sample once`);
    }
    assert.ok(x.commits.stats.largestGroup > 1 && y.commits.stats.largestGroup > 1, 'the hosts\' batches were grouped');
  } finally {
    await Promise.all([x.close(), y.close()]);
  }
});

test('postgres group commit: a host row held elsewhere past the lock timeout refuses only that host\'s writes; the rest of the group commits', async () => {
  await withStore(
    async (store, sql) => {
      for (const id of ['held', 'free']) await store.upsertHost(fullHello(id), 1000);
      // Another transaction (a stuck collector) holds the row of host `held`.
      await sql.query('BEGIN');
      await sql.query("SELECT 1 FROM hosts WHERE id = 'held' FOR UPDATE");
      const held1 = batch('held', samples(1, 1));
      const free1 = batch('free', samples(1, 1));
      const t = Date.now();
      const r = await Promise.allSettled([store.appendBatch('held', held1, 2000), store.appendBatch('free', free1, 2000), store.putVerdict('held', T0, verdict('idle'))]);
      const waited = Date.now() - t;
      assert.deepEqual(r.map((x) => x.status), ['rejected', 'fulfilled', 'rejected']);
      assert.match(String((r[0] as PromiseRejectedResult).reason), /held by another transaction past the lock timeout/);
      assert.equal((r[1] as PromiseFulfilledResult<AppendResult>).value.status, 'stored');
      assert.ok(waited < 5000, `refused after the lock timeout, not left waiting (${waited} ms)`);
      assert.equal(await count(sql, 'samples', 'free'), 1, 'visible to the connection holding the other row: committed');
      await sql.query('COMMIT');
      assert.equal(await count(sql, 'samples', 'held'), 0);
      assert.equal(await count(sql, 'verdicts', 'held'), 0);
      assert.equal((await store.appendBatch('held', held1, 3000)).status, 'stored', 'the refused batch, resent, is stored');
    },
    { groupLockTimeoutMs: 300 },
  );
});

test('postgres group commit: a process\'s signature is stored once, the first seen kept; new processes of later batches and of the same group are added', async () => {
  await withStore(async (store, sql) => {
    await store.upsertHost(fullHello('s'), 1000);
    const withExe = (s: IncomingSample[], exe: string): IncomingSample[] =>
      s.map((x) => ({ ...x, sample: { ...x.sample, processes: x.sample.processes!.map((p) => ({ ...p, pid: 42, signature: { ...p.signature!, exe } })) } }));
    const b1 = batch('s', withExe(samples(1, 2), '/first'));
    assert.equal((await store.appendBatch('s', b1, 2000)).status, 'stored');
    // Same process (pid 42, same start) with another signature, and new processes, in one group.
    const b2 = batch('s', withExe(samples(3, 2), '/second'), b1.hash);
    const b3 = batch('s', samples(5, 2), b2.hash);
    assert.deepEqual((await Promise.all([store.appendBatch('s', b2, 3000), store.appendBatch('s', b3, 3001)])).map((r) => r.status), ['stored', 'stored']);
    const sigs = await store.signatures('s');
    assert.deepEqual([...sigs.keys()].sort(), ['1005:123456789', '1006:123456789', '42:123456789']);
    assert.equal(sigs.get('42:123456789')!.exe, '/first', 'the first signature seen is kept');
    assert.equal(Number((await sql.query("SELECT COUNT(*) AS n FROM process_signatures p JOIN rollup_hosts k ON k.host_key = p.host_key WHERE k.host_id = 's'")).rows[0].n), 3);
  });
});

test('postgres group commit: hosts spread over several queues commit their groups concurrently; each host\'s writes stay in arrival order', async () => {
  await withStore(
    async (store, sql) => {
      const hosts = Array.from({ length: 16 }, (_, i) => `q${i}`);
      for (const id of hosts) await store.upsertHost(fullHello(id), 1000);
      let inside = 0;
      let most = 0;
      store.hooks.beforeCommit = async () => {
        most = Math.max(most, ++inside);
        await new Promise((r) => setTimeout(r, 100));
        inside--;
      };
      const groups = store.commits.stats.groups;
      const chains = hosts.map((h) => {
        const b1 = batch(h, samples(1, 2));
        const b2 = batch(h, samples(3, 2), b1.hash);
        return [b1, b2, batch(h, samples(5, 2), b2.hash)];
      });
      const results = await Promise.all(hosts.flatMap((h, i) => chains[i]!.map((b, k) => store.appendBatch(h, b, 2000 + k))));
      assert.ok(results.every((r) => r.status === 'stored'), 'every chained batch stored, in order');
      assert.ok(most >= 2, `groups of different queues were in their transactions at once (${most})`);
      const used = store.commits.stats.groups - groups;
      assert.ok(used >= 2 && used <= 4, `one group per queue used (${used})`);
      assert.equal(Number((await sql.query('SELECT COUNT(*) AS n FROM batches')).rows[0].n), 48);
      for (const [i, h] of hosts.entries()) assert.deepEqual(await head(sql, h), Buffer.from(chains[i]![2]!.hash));
    },
    { groupShards: 4 },
  );
});
