// Group commit in the SQLite store: writes submitted together share one transaction, each
// isolated (a batch that throws half-way leaves nothing and does not stop the others), in arrival
// order (one agent's batches chain within a group), and settled only by the COMMIT (a failed
// commit stores and acks nothing). Checked from a second connection on the same file: a reader
// sees only what is committed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { storedSampleCount } from '../../collector/store/sample-figures.js';
import { sealBatch } from '../../agent/batch.js';
import { generateAgentKeys, signBytes } from '../../proto/chain.js';
import { assay } from '../../proto/codec.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import type { AppendResult, IncomingBatch, IncomingSample } from '../../collector/store/store.js';
import { tempDir } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';

const keys = generateAgentKeys();
const samples = (firstSeq: number, n: number): IncomingSample[] =>
  Array.from({ length: n }, (_, i) => {
    const sample = fullSample(1_795_000_000_000 + (firstSeq + i) * 1000, 1000 + firstSeq + i);
    return { seq: firstSeq + i, sample };
  });
function batch(agentId: string, s: IncomingSample[], prevHash: Uint8Array = new Uint8Array()): IncomingBatch {
  const sealed = sealBatch({ agentId, seqs: s.map((x) => x.seq), samples: s.map((x) => assay.v1.Sample.encode(x.sample).finish()), prevHash, sealedMs: 1 }, (h) => signBytes(keys, h));
  return { hash: sealed.hash, prevHash, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples: s, gaps: [] };
}

async function withStore(fn: (store: SqliteStore, read: Database.Database) => Promise<void>): Promise<void> {
  const tmp = tempDir();
  const path = join(tmp.dir, 'assay.db');
  // A long window, so everything submitted in one tick lands in one group.
  const store = new SqliteStore(path, { groupCommit: { maxDelayMs: 50 } });
  const read = new Database(path, { readonly: true });
  try {
    await fn(store, read);
  } finally {
    read.close();
    await store.close();
    tmp.cleanup();
  }
}

const rows = (read: Database.Database, hostId: string): number => storedSampleCount(read, hostId);
const head = (read: Database.Database, hostId: string): Buffer | null => (read.prepare('SELECT chain_head FROM hosts WHERE id = ?').get(hostId) as { chain_head: Buffer | null }).chain_head;

test('group commit: a batch that fails half-way, a broken chain and an unknown host do not affect the others of their group', async () => {
  await withStore(async (store, read) => {
    for (const id of ['a', 'b', 'c', 'd']) await store.upsertHost(fullHello(id), 1000);
    const c0 = batch('c', samples(1, 1));
    assert.equal((await store.appendBatch('c', c0, 1500)).status, 'stored');
    const groups = store.commits.stats.groups;
    // b's second sample cannot be bound: it throws after b's first sample was inserted.
    const poisoned = batch('b', samples(1, 2));
    poisoned.samples[1] = { ...poisoned.samples[1]!, sample: { ...poisoned.samples[1]!.sample, tsMs: {} as unknown as number } };
    // Sealed first, then submitted back to back (signing between submissions could outlast the window).
    const sealed: Array<[string, IncomingBatch]> = [
      ['a', batch('a', samples(1, 3))],
      ['b', poisoned],
      ['c', batch('c', samples(2, 3), randomBytes(32))],
      ['zz', batch('zz', samples(1, 3))],
      ['d', batch('d', samples(1, 3))],
    ];
    const settled = await Promise.allSettled(sealed.map(([id, b]) => store.appendBatch(id, b, 2000)));
    assert.equal(store.commits.stats.groups, groups + 1, 'all five went through one commit');
    const [a, b, c, zz, d] = settled;
    assert.equal(a.status === 'fulfilled' && a.value.status, 'stored');
    assert.equal(b.status, 'rejected', 'the batch that threw is refused');
    assert.equal(c.status === 'fulfilled' && c.value.status, 'chain_break');
    assert.match(zz.status === 'rejected' ? String(zz.reason) : '', /unknown host zz/);
    assert.equal(d.status === 'fulfilled' && d.value.status, 'stored');
    assert.equal(rows(read, 'a'), 3);
    assert.equal(rows(read, 'd'), 3);
    assert.equal(rows(read, 'b'), 0, "b's first sample was rolled back with its savepoint");
    assert.equal(head(read, 'b'), null);
    assert.equal(rows(read, 'c'), 1, 'only the batch before the broken one');
    // b and c can go on from where they were.
    assert.equal((await store.appendBatch('b', batch('b', samples(1, 2)), 3000)).status, 'stored');
    assert.equal((await store.appendBatch('c', batch('c', samples(2, 2), c0.hash), 3000)).status, 'stored');
  });
});

test('group commit: one agent\'s batches in one group commit in arrival order, each checked against the one before', async () => {
  await withStore(async (store, read) => {
    await store.upsertHost(fullHello('h'), 1000);
    const b1 = batch('h', samples(1, 2));
    const b2 = batch('h', samples(3, 2), b1.hash);
    const b3 = batch('h', samples(5, 2), b2.hash);
    const groups = store.commits.stats.groups;
    const results = await Promise.all([store.appendBatch('h', b1, 2000), store.appendBatch('h', b2, 2001), store.appendBatch('h', b3, 2002)]);
    assert.equal(store.commits.stats.groups, groups + 1);
    assert.deepEqual(results.map((r) => [r.status, r.lastSeq]), [['stored', 2], ['stored', 4], ['stored', 6]]);
    assert.deepEqual(head(read, 'h'), b3.hash);
    // Arrival order is commit order: a batch that arrives before the one it extends breaks the chain.
    const c2 = batch('h', samples(9, 2), batch('h', samples(7, 2), b3.hash).hash);
    const c1 = batch('h', samples(7, 2), b3.hash);
    const [r2, r1] = await Promise.all([store.appendBatch('h', c2, 3000), store.appendBatch('h', c1, 3001)]);
    assert.equal(r2.status, 'chain_break');
    assert.equal(r1.status, 'stored');
    assert.equal(rows(read, 'h'), 8);
  });
});

test('group commit: writes settle only after COMMIT; a failed commit stores nothing and settles every write of its group as refused', async () => {
  await withStore(async (store, read) => {
    for (const id of ['a', 'b']) await store.upsertHost(fullHello(id), 1000);
    const a1 = batch('a', samples(1, 2));
    const b1 = batch('b', samples(1, 2));
    // Whatever settles must be visible to another connection at that moment: committed.
    const visibleWhenSettled = (p: Promise<AppendResult>, hostId: string) => p.then((r) => ({ status: r.status, rows: rows(read, hostId) }));
    store.hooks.beforeCommit = () => {
      throw new Error('disk I/O error (injected)');
    };
    const failed = await Promise.allSettled([visibleWhenSettled(store.appendBatch('a', a1, 2000), 'a'), visibleWhenSettled(store.appendBatch('b', b1, 2000), 'b')]);
    assert.deepEqual(failed.map((s) => s.status), ['rejected', 'rejected'], 'no write of a failed commit is reported stored');
    assert.equal(store.commits.stats.failedGroups, 1);
    assert.equal(rows(read, 'a') + rows(read, 'b'), 0);
    assert.equal(head(read, 'a'), null);
    store.hooks.beforeCommit = undefined;
    // The same batches again (an agent resends what was not acked): stored, and visible when settled.
    const ok = await Promise.all([visibleWhenSettled(store.appendBatch('a', a1, 3000), 'a'), visibleWhenSettled(store.appendBatch('b', b1, 3000), 'b')]);
    assert.deepEqual(ok, [{ status: 'stored', rows: 2 }, { status: 'stored', rows: 2 }]);
  });
});

test('group commit: a group is cut at its bound of writes; the rest follow in the next group, in order', async () => {
  const tmp = tempDir();
  const store = new SqliteStore(join(tmp.dir, 'assay.db'), { groupCommit: { maxDelayMs: 50, maxItems: 3 } });
  try {
    const ids = Array.from({ length: 7 }, (_, i) => `h${i}`);
    for (const id of ids) await store.upsertHost(fullHello(id), 1000);
    const groups = store.commits.stats.groups;
    const sealed = ids.map((id) => batch(id, samples(1, 1)));
    const results = await Promise.all(ids.map((id, i) => store.appendBatch(id, sealed[i]!, 2000)));
    assert.ok(results.every((r) => r.status === 'stored'));
    assert.equal(store.commits.stats.groups - groups, 3, '7 writes at most 3 per group: 3 groups');
    assert.equal(store.commits.stats.largestGroup, 3);
  } finally {
    await store.close();
    tmp.cleanup();
  }
});

test('urgent writes (verdicts, leases) go ahead of the batches waiting, in their own order, and every write still commits', async () => {
  const tmp = tempDir();
  const path = join(tmp.dir, 'assay.db');
  // Groups of 3 writes: 9 batches queued make 3 groups; urgent writes submitted after them go first.
  const store = new SqliteStore(path, { groupCommit: { maxDelayMs: 50, maxItems: 3 } });
  try {
    const ids = Array.from({ length: 9 }, (_, i) => `u${i}`);
    for (const id of ids) await store.upsertHost(fullHello(id), 1);
    const order: string[] = [];
    const writes = ids.map((id, i) => store.appendBatch(id, batch(id, samples(1, 1)), 1).then(() => order.push(`batch ${i}`)));
    const leases = [0, 1].map((i) => store.acquireLease(`verdicts:u${i}`, 'me', 30_000).then((l) => (assert.ok(l.held), order.push(`lease ${i}`))));
    await Promise.all([...writes, ...leases]);
    // A synchronous store cuts the first full group at once (batches 0-2, already in the group
    // when the leases come); the leases then lead the next group, ahead of batches 3-8.
    assert.deepEqual(order.slice(3, 5), ['lease 0', 'lease 1']);
    assert.deepEqual(order.filter((o) => o.startsWith('batch')), ids.map((_, i) => `batch ${i}`));
    assert.equal(store.commits.stats.writes, 9 + 9 + 2);
  } finally {
    await store.close();
    tmp.cleanup();
  }
});
