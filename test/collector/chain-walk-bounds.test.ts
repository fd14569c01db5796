// What a chained batch (encoding 4) can make ingest read. Ingest finds a chained batch's prior
// either in its connection's tail (the batch it committed last) or by walking the store back to a
// keyframe. An enrolled agent must not be able to make it walk again and again on one connection:
// an honest agent needs one walk per connection (its first batch after a reconnect). Reads are
// counted on the real store the connection uses (every call goes through to it).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { quantizeSample } from '../../agent/quantize.js';
import { asSentSockets, readTraceSamples } from '../../bench/payload-sizes.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { CloseCode, type ISample } from '../../proto/codec.js';
import { BatchEncoding, CHAIN_MAX_BATCHES, payloadChained } from '../../proto/payload.js';
import { tempDir } from '../helpers/env.js';
import { fullHello } from '../helpers/messages.js';
import { RawAgent } from '../helpers/rawagent.js';

const SECRET = 'test-enroll-secret-chainwalk-0123';
const CHAINED = BatchEncoding.BATCH_ENCODING_CHAINED;
let collector: RunningCollector;
let tmp: ReturnType<typeof tempDir>;
let reads = 0;

const recorded = readTraceSamples('bench/data/server-host.trace.ndjson.gz').slice(0, 60).map((s) => asSentSockets(quantizeSample(s)));
const recent = (samples: ISample[]): ISample[] => samples.map((s, i) => ({ ...s, tsMs: Date.now() - 120_000 + i * 1000 }));

before(async () => {
  tmp = tempDir();
  collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET, limits: { maxFrameBytes: 1024 * 1024, maxBatchSamples: 50 }, classifyQueue: { minIntervalMs: 0 } });
  const store = collector.store;
  const read = store.batchByHash.bind(store);
  store.batchByHash = (hostId, hash) => {
    reads++;
    return read(hostId, hash);
  };
});

after(async () => {
  await collector.close();
  tmp.cleanup();
});

test('resending the head batch on one connection walks the chain once, not once per resend', async () => {
  const url = collector.url.replace('http', 'ws') + '/ingest';
  const samples = recent(recorded);
  const a = await RawAgent.connect(url);
  await a.hello(fullHello('walk-1'), SECRET);
  // A full chain as the spool seals it: a keyframe and CHAIN_MAX_BATCHES - 1 chained batches of one sample.
  let prior: Uint8Array | null = null;
  let head: ReturnType<RawAgent['build']> | null = null;
  for (let i = 0; i < CHAIN_MAX_BATCHES; i++) {
    head = a.build(i + 1, [samples[i]!], { encoding: CHAINED, prior });
    assert.equal(payloadChained(CHAINED, head.payload), i > 0);
    a.sendBatch(head);
    assert.equal((await a.ack()).lastSeq, i + 1);
    prior = head.samples.at(-1)!;
  }
  assert.equal(reads, 0, 'on the connection that committed them, each batch took its prior from the tail');
  a.close();
  await a.closed;

  // After a reconnect an agent resends its unacked head: a duplicate, acked again. Resent 20 times.
  const b = await RawAgent.connect(url);
  b.keys = a.keys;
  await b.hello(fullHello('walk-1'));
  const RESENDS = 20;
  for (let i = 0; i < RESENDS; i++) {
    b.sendBatch(head!);
    const ack = await b.ack();
    assert.equal(ack.duplicates, 1);
    assert.equal(ack.lastSeq, CHAIN_MAX_BATCHES);
  }
  // The first resend walks back to the keyframe (CHAIN_MAX_BATCHES - 1 batches); the others reuse it.
  assert.ok(reads <= CHAIN_MAX_BATCHES, `${reads} stored batches read for ${RESENDS} resends of one batch`);
  b.close();
  await b.closed;
});

const closedWithin = (a: RawAgent): Promise<{ code: number; reason: string } | null> => Promise.race([a.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
const reconnect = async (from: RawAgent, head: Uint8Array): Promise<RawAgent> => {
  const c = await RawAgent.connect(collector.url.replace('http', 'ws') + '/ingest');
  c.keys = from.keys;
  await c.hello(fullHello('walk-2'));
  c.head = head;
  return c;
};

test('a batch chained further than CHAIN_MAX_BATCHES past its keyframe is refused (chain_too_long), on the connection and after a reconnect, walking no further; its keyframe goes in', async () => {
  const samples = recent(recorded);
  const a = await RawAgent.connect(collector.url.replace('http', 'ws') + '/ingest');
  await a.hello(fullHello('walk-2'), SECRET);
  let prior: Uint8Array | null = null;
  for (let i = 0; i < CHAIN_MAX_BATCHES; i++) {
    const x = a.build(i + 1, [samples[i]!], { encoding: CHAINED, prior });
    a.sendBatch(x);
    assert.equal((await a.ack()).lastSeq, i + 1);
    prior = x.samples.at(-1)!;
  }
  const head = a.head;
  const n = CHAIN_MAX_BATCHES + 1;
  // One more chained batch: the agent would have sealed a keyframe.
  a.sendBatch(a.build(n, [samples[n - 1]!], { encoding: CHAINED, prior }));
  const closed = await closedWithin(a);
  assert.equal(closed?.code, CloseCode.integrity);
  assert.match(closed!.reason, /^chain_too_long/);
  assert.equal(collector.metrics.rejects.get('chain_too_long'), 1);

  // The same batch after a reconnect: the walk stops where an honest chain ends.
  const b = await reconnect(a, head);
  const before = reads;
  b.sendBatch(b.build(n, [samples[n - 1]!], { encoding: CHAINED, prior }));
  const closed2 = await closedWithin(b);
  assert.equal(closed2?.code, CloseCode.integrity);
  assert.match(closed2!.reason, /^chain_too_long/);
  assert.ok(reads - before <= CHAIN_MAX_BATCHES - 1, `${reads - before} stored batches read`);

  // Sealed again as a keyframe (what agent/link.ts does on this refusal), it goes in; nothing was lost.
  const c = await reconnect(a, head);
  c.sendBatch(c.build(n, [samples[n - 1]!], { encoding: CHAINED, prior: null }));
  assert.equal((await c.ack()).lastSeq, n);
  c.close();
});

test('a chained batch whose stored chain cannot be read is refused with a reason that starts with prior_unreadable (the agent seals it again as a keyframe), and its keyframe goes in', async () => {
  const samples = recent(recorded);
  const a = await RawAgent.connect(collector.url.replace('http', 'ws') + '/ingest');
  await a.hello(fullHello('walk-3'), SECRET);
  const k = a.build(1, [samples[0]!], { encoding: CHAINED });
  a.sendBatch(k);
  assert.equal((await a.ack()).lastSeq, 1);
  a.close();
  await a.closed;
  // A batch stored with a payload no reader can decode (written past ingest: a damaged database).
  const c = a.build(2, [samples[1]!], { encoding: CHAINED, prior: k.samples[0]! });
  const damaged = Buffer.from(c.payload);
  damaged.fill(0x5a, 1 + 8);
  const st = await collector.store.appendBatch('walk-3', { hash: c.hash, prevHash: k.hash, header: c.header, signature: c.signature, encoding: c.encoding, payload: damaged, samples: [{ seq: 2, sample: samples[1]! }], gaps: [] }, Date.now());
  assert.equal(st.status, 'stored');
  const b = await RawAgent.connect(collector.url.replace('http', 'ws') + '/ingest');
  b.keys = a.keys;
  await b.hello(fullHello('walk-3'));
  b.head = c.hash;
  b.sendBatch(b.build(3, [samples[2]!], { encoding: CHAINED, prior: c.samples[0]! }));
  const closed = await closedWithin(b);
  assert.equal(closed?.code, CloseCode.integrity);
  assert.match(closed!.reason, /^prior_unreadable: /);
  const d = await RawAgent.connect(collector.url.replace('http', 'ws') + '/ingest');
  d.keys = a.keys;
  await d.hello(fullHello('walk-3'));
  d.head = c.hash;
  d.sendBatch(d.build(3, [samples[2]!], { encoding: CHAINED, prior: null }));
  assert.equal((await d.ack()).lastSeq, 3);
  d.close();
});

test("a new host's first batch chained to another host's batch is refused as prior_unknown: priors are looked up within the batch's own host", async () => {
  const samples = recent(recorded);
  const url = collector.url.replace('http', 'ws') + '/ingest';
  const a = await RawAgent.connect(url);
  await a.hello(fullHello('walk-4a'), SECRET);
  const theirs = a.build(1, [samples[0]!], { encoding: CHAINED });
  a.sendBatch(theirs);
  assert.equal((await a.ack()).lastSeq, 1);
  a.close();
  // A host with nothing stored accepts a first batch that continues a chain begun elsewhere;
  // chained to the other host's batch, its prior must not be read from that host.
  const b = await RawAgent.connect(url);
  await b.hello(fullHello('walk-4b'), SECRET);
  const before = reads;
  b.sendBatch(b.build(1, [samples[1]!], { encoding: CHAINED, prevHash: theirs.hash, prior: theirs.samples[0]! }));
  const closed = await closedWithin(b);
  assert.equal(closed?.code, CloseCode.integrity);
  assert.match(closed!.reason, /^prior_unknown/);
  assert.equal(reads - before, 1, 'one lookup, by the new host');
});
