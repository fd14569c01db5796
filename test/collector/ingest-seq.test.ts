// Sequence numbers only go up across an agent's batches, as `assay verify` requires: a correctly
// signed and chained batch whose seqs go backwards (or overlap what is committed) is refused with
// 4409 seq_regression, counted and recorded, and nothing of it is stored.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { storedSeqs } from '../../collector/store/sample-figures.js';
import { CloseCode } from '../../proto/codec.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { tempDir } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { RawAgent, type Closed } from '../helpers/rawagent.js';

const SECRET = 'seq-test-enroll-secret-0123456';
let collector: RunningCollector;
let tmp: ReturnType<typeof tempDir>;
let url: string;

before(async () => {
  tmp = tempDir();
  collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET });
  url = collector.url.replace('http', 'ws') + '/ingest';
});
after(async () => {
  await collector.close();
  tmp.cleanup();
});

const seqsStored = (id: string): number[] => {
  const db = new Database(join(tmp.dir, 'assay.db'), { readonly: true });
  try {
    return storedSeqs(db, id);
  } finally {
    db.close();
  }
};
const closedWithin = (a: RawAgent, ms = 5000): Promise<Closed | null> => Promise.race([a.closed, new Promise<null>((r) => setTimeout(() => r(null), ms))]);
const at = (n: number) => Array.from({ length: n }, (_, i) => fullSample(Date.now() - 10_000 + i * 1000));

test('seq 4 after 2^53-6: refused with 4409, nothing stored, counted and recorded', async () => {
  const a = await RawAgent.connect(url);
  await a.hello(fullHello('seq-wrap'), SECRET);
  const high = 2 ** 53 - 6;
  assert.equal((await a.batch(high, at(1))).lastSeq, high);
  a.sendBatch(a.build(4, at(2))); // correctly signed and chained to the head
  const c = await closedWithin(a);
  assert.equal(c?.code, CloseCode.integrity, `close code (${c?.reason})`);
  assert.match(c!.reason, /starts at seq 4, not after the last committed seq 9007199254740986/);
  assert.deepEqual(seqsStored('seq-wrap'), [high], 'the backwards batch stored nothing');
  const metrics = await (await fetch(collector.url + '/metrics')).text();
  assert.match(metrics, /assay_ingest_rejects_total\{reason="seq_regression"\} [1-9]/);
  const events = await collector.store.securityEvents(50);
  assert.ok(events.some((e) => e.reason === 'seq_regression' && e.subject === 'seq-wrap'), 'security event recorded for the agent');
});

test('a chained batch overlapping committed seqs is refused; the head resent is still a duplicate', async () => {
  const a = await RawAgent.connect(url);
  await a.hello(fullHello('seq-overlap'), SECRET);
  const b1 = a.build(1, at(5));
  a.sendBatch(b1);
  assert.equal((await a.ack()).lastSeq, 5);
  a.sendBatch(b1);
  assert.equal((await a.ack()).duplicates, 5, 'an exact resend of the head is acked as duplicates');
  a.sendBatch(a.build(5, at(2))); // seq 5 again, then 6
  const c = await closedWithin(a);
  assert.equal(c?.code, CloseCode.integrity);
  assert.match(c!.reason, /seq 5, not after the last committed seq 5/);
  assert.deepEqual(seqsStored('seq-overlap'), [1, 2, 3, 4, 5]);
  // The agent can still continue its chain correctly afterwards.
  const b = await RawAgent.connect(url);
  b.keys = a.keys;
  await b.hello(fullHello('seq-overlap'));
  assert.equal((await b.batch(6, at(1))).lastSeq, 6);
  b.close();
});

test('sequence numbers above Number.MAX_SAFE_INTEGER are refused', async () => {
  const a = await RawAgent.connect(url);
  await a.hello(fullHello('seq-unsafe'), SECRET);
  a.sendBatch(a.build(Number.MAX_SAFE_INTEGER, at(2))); // the second is 2^53
  const c = await closedWithin(a);
  assert.equal(c?.code, CloseCode.invalid);
  assert.match(c!.reason, /at most 9007199254740991/);
  assert.deepEqual(seqsStored('seq-unsafe'), []);
});
