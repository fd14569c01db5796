// Group commit end to end: many agents over real WebSockets, their batches committed together,
// and every ack sent only for a committed batch (checked from a second connection on the same
// database file when the ack arrives). A commit that fails acks nothing; the agents' resends
// after reconnecting are stored once.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { CloseCode } from '../../proto/codec.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import type { SqliteStore } from '../../collector/store/sqlite.js';
import { tempDir } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { RawAgent } from '../helpers/rawagent.js';

const SECRET = 'test-enroll-secret-0123456789';
let collector: RunningCollector;
let tmp: ReturnType<typeof tempDir>;
let url: string;
let read: Database.Database;

const samplesAt = (startMs: number, n: number) => Array.from({ length: n }, (_, i) => fullSample(startMs + i * 1000, 100 + i));
const committed = (hash: Uint8Array): boolean => read.prepare('SELECT 1 FROM batches WHERE hash = ?').get(hash) !== undefined;

before(async () => {
  tmp = tempDir();
  const dbPath = join(tmp.dir, 'assay.db');
  // A 30 ms window so the agents' batches share commits.
  collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath, enrollSecret: SECRET, groupCommit: { maxDelayMs: 30 } });
  url = collector.url.replace('http', 'ws') + '/ingest';
  read = new Database(dbPath, { readonly: true });
});

after(async () => {
  read.close();
  await collector.close();
  tmp.cleanup();
});

test('group commit: batches of many agents share commits, and each ack comes only once its batch is committed', async () => {
  const store = collector.store as SqliteStore;
  const agents = await Promise.all(
    Array.from({ length: 12 }, async (_, i) => {
      const a = await RawAgent.connect(url);
      await a.hello(fullHello(`gc-${i}`), SECRET);
      return a;
    }),
  );
  const groupsBefore = store.commits.stats.groups;
  const t0 = Date.now() - 60_000;
  let acks = 0;
  await Promise.all(
    agents.map(async (a) => {
      for (let k = 0; k < 4; k++) {
        const b = a.build(1 + k * 3, samplesAt(t0 + k * 3000, 3));
        a.sendBatch(b);
        const ack = await a.ack();
        assert.ok(committed(b.hash), 'the acked batch is visible to another connection: committed');
        assert.deepEqual(Buffer.from(ack.chainHead!), b.hash);
        acks++;
      }
    }),
  );
  assert.equal(acks, 48);
  const groups = store.commits.stats.groups - groupsBefore;
  assert.ok(groups < 48, `48 batches took ${groups} commits: they were grouped`);
  assert.ok(store.commits.stats.largestGroup > 1);
  for (const a of agents) a.close();
});

test('group commit: a failed commit acks none of its batches and closes their connections; resent, they are stored once', async () => {
  const store = collector.store as SqliteStore;
  const agents = await Promise.all(
    Array.from({ length: 4 }, async (_, i) => {
      const a = await RawAgent.connect(url);
      await a.hello(fullHello(`gf-${i}`), SECRET);
      return a;
    }),
  );
  const t0 = Date.now() - 60_000;
  const batches = agents.map((a) => a.build(1, samplesAt(t0, 2)));
  let failures = 0;
  store.hooks.beforeCommit = () => {
    failures++;
    throw new Error('disk I/O error (injected)');
  };
  try {
    agents.forEach((a, i) => a.sendBatch(batches[i]!));
    const timeout = new Promise<null>((r) => setTimeout(() => r(null), 10_000).unref());
    const closed = await Promise.all(agents.map((a) => Promise.race([a.closed, timeout])));
    assert.ok(failures >= 1);
    for (const c of closed) assert.equal(c?.code, CloseCode.storeFailure, 'closed for the failed commit, within 10 s');
    for (const a of agents) await assert.rejects(a.next(100), /no collector message/, 'no ack for a batch whose commit failed');
    for (const b of batches) assert.equal(committed(b.hash), false);
  } finally {
    store.hooks.beforeCommit = undefined;
  }
  // Reconnected, each agent resends the same signed batch: stored once, acked.
  for (let i = 0; i < agents.length; i++) {
    const a = await RawAgent.connect(url);
    a.keys = agents[i]!.keys;
    const welcome = await a.hello(fullHello(`gf-${i}`));
    assert.equal(welcome.lastSeq, 0, 'nothing of the failed commit was kept');
    a.sendBatch(batches[i]!);
    const ack = await a.ack();
    assert.equal(ack.accepted, 2);
    assert.ok(committed(batches[i]!.hash));
    a.close();
  }
});
