// Payload encoding 4 (chained) end to end: real recorded samples sealed by a real agent key as a
// chain (each batch's first sample encoded against the last sample of the batch before) go over a
// real WebSocket; the collector acks them, stores them exactly as signed and classifies every
// sample. A chained batch after a reconnect gets its prior from the store. A batch encoded against
// another sample, or against a batch the collector does not hold, is refused with a clear reason
// and loses nothing already committed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { quantizeSample } from '../../agent/quantize.js';
import { asSentSockets, readTraceSamples } from '../../bench/payload-sizes.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { storedSampleCount } from '../../collector/store/sample-figures.js';
import { CloseCode, encodeSample, type ISample } from '../../proto/codec.js';
import { BatchEncoding, payloadChained } from '../../proto/payload.js';
import { tempDir } from '../helpers/env.js';
import { fullHello } from '../helpers/messages.js';
import { RawAgent } from '../helpers/rawagent.js';

const SECRET = 'test-enroll-secret-chained-01234';
const CHAINED = BatchEncoding.BATCH_ENCODING_CHAINED;
let collector: RunningCollector;
let tmp: ReturnType<typeof tempDir>;
let dbPath: string;
let ingestUrl: string;

const recorded = readTraceSamples('bench/data/server-host.trace.ndjson.gz').slice(100, 140).map((s) => asSentSockets(quantizeSample(s)));
const recent = (samples: ISample[], endMs: number): ISample[] => samples.map((s, i) => ({ ...s, tsMs: Date.now() - endMs - (samples.length - i) * 1000 }));

before(async () => {
  tmp = tempDir();
  dbPath = join(tmp.dir, 'assay.db');
  collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath, enrollSecret: SECRET, limits: { maxFrameBytes: 1024 * 1024, maxBatchSamples: 50 }, classifyQueue: { minIntervalMs: 0 } });
  ingestUrl = collector.url.replace('http', 'ws') + '/ingest';
});

after(async () => {
  await collector.close();
  tmp.cleanup();
});

const stored = (host: string): Array<{ encoding: number; payload: Buffer }> => {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare('SELECT encoding, payload FROM batches WHERE host_id = ? ORDER BY first_seq').all(host) as Array<{ encoding: number; payload: Buffer }>;
  } finally {
    db.close();
  }
};
const sampleCount = (host: string): number => {
  const db = new Database(dbPath, { readonly: true });
  try {
    return storedSampleCount(db, host);
  } finally {
    db.close();
  }
};
const closedWithin = (a: RawAgent): Promise<{ code: number; reason: string } | null> => Promise.race([a.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);

test('a chain of encoding-4 batches is acked, stored as signed and classified in full; after a reconnect the next chained batch gets its prior from the store', async () => {
  const a = await RawAgent.connect(ingestUrl);
  await a.hello(fullHello('chained-1'), SECRET);
  const samples = recent(recorded, 60_000);
  const sent: ReturnType<RawAgent['build']>[] = [];
  const classifiedBefore = collector.metrics.classify!.classifiedSamples();
  let prior: Uint8Array | null = null;
  for (let i = 0; i < 20; i += 5) {
    const b = a.build(i + 1, samples.slice(i, i + 5), { encoding: CHAINED, prior });
    assert.equal(payloadChained(CHAINED, b.payload), i > 0, `batch at ${i}: chained after the first`);
    a.sendBatch(b);
    const ack = await a.ack();
    assert.equal(ack.lastSeq, i + 5);
    assert.equal(ack.accepted, 5);
    sent.push(b);
    prior = b.samples.at(-1)!;
  }
  a.close();
  await a.closed;
  // A new connection: the first batch is chained to the last one committed over the old one.
  const b = await RawAgent.connect(ingestUrl);
  b.keys = a.keys;
  b.head = a.head;
  assert.equal((await b.hello(fullHello('chained-1'))).lastSeq, 20);
  for (let i = 20; i < 40; i += 5) {
    const x = b.build(i + 1, samples.slice(i, i + 5), { encoding: CHAINED, prior });
    assert.ok(payloadChained(CHAINED, x.payload));
    b.sendBatch(x);
    assert.equal((await b.ack()).lastSeq, i + 5);
    sent.push(x);
    prior = x.samples.at(-1)!;
  }
  b.close();
  const rows = stored('chained-1');
  assert.equal(rows.length, 8);
  rows.forEach((row, i) => {
    assert.equal(row.encoding, CHAINED);
    assert.ok(row.payload.equals(Buffer.from(sent[i]!.payload)), `batch ${i + 1} stored exactly as signed`);
  });
  assert.equal(sampleCount('chained-1'), 40);
  // Classification decoded every sample (each batch with its prior), none unreadable.
  const until = Date.now() + 10_000;
  while (collector.metrics.classify!.classifiedSamples() - classifiedBefore < 40 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  assert.equal(collector.metrics.classify!.classifiedSamples() - classifiedBefore, 40);
  assert.equal(collector.metrics.classify!.unreadableBatches(), 0);
  // Each stored sample is the one sent: the figures rows hold the sent timestamps.
  const db = new Database(dbPath, { readonly: true });
  try {
    assert.equal(storedSampleCount(db, 'chained-1'), 40);
  } finally {
    db.close();
  }
  assert.ok(sent.every((s, i) => s.samples.every((x, j) => Buffer.from(x).equals(Buffer.from(encodeSample(samples[i * 5 + j]!))))));
});

test('a chained batch encoded against another sample is refused (prior_mismatch); one chained to a batch the collector does not hold is refused (prior_unknown); nothing committed is lost', async () => {
  const a = await RawAgent.connect(ingestUrl);
  await a.hello(fullHello('chained-2'), SECRET);
  const samples = recent(recorded.slice(0, 15), 30_000);
  const first = a.build(1, samples.slice(0, 5), { encoding: CHAINED });
  a.sendBatch(first);
  assert.equal((await a.ack()).lastSeq, 5);
  const head = a.head;
  // Encoded against the batch's first sample instead of its last.
  a.sendBatch(a.build(6, samples.slice(5, 10), { encoding: CHAINED, prior: first.samples[0]! }));
  const closed = await closedWithin(a);
  assert.equal(closed?.code, CloseCode.integrity);
  assert.match(closed!.reason, /another sample than the last one of the batch before/);
  assert.equal(sampleCount('chained-2'), 5);

  // Chained to a batch that was never sent: the collector does not hold its prior.
  const b = await RawAgent.connect(ingestUrl);
  b.keys = a.keys;
  b.head = head;
  assert.equal((await b.hello(fullHello('chained-2'))).lastSeq, 5);
  const ghost = b.build(6, samples.slice(5, 10), { encoding: CHAINED, prior: first.samples.at(-1)! });
  b.sendBatch(b.build(11, samples.slice(10, 15), { encoding: CHAINED, prior: ghost.samples.at(-1)! }));
  const closed2 = await closedWithin(b);
  assert.equal(closed2?.code, CloseCode.integrity);
  assert.match(closed2!.reason, /does not hold/);
  assert.equal(sampleCount('chained-2'), 5);

  // The agent's real next batch still goes in.
  const c = await RawAgent.connect(ingestUrl);
  c.keys = a.keys;
  c.head = head;
  assert.equal((await c.hello(fullHello('chained-2'))).lastSeq, 5);
  c.sendBatch(c.build(6, samples.slice(5, 10), { encoding: CHAINED, prior: first.samples.at(-1)! }));
  assert.equal((await c.ack()).lastSeq, 10);
  c.close();
  assert.equal(sampleCount('chained-2'), 10);
});
