// Ingest of schema-3 payloads beside schema-2 agents: a v2 agent's batches of samples are still
// accepted and answered in v2; a zip bomb from an enrolled agent is refused with a clear reason
// and a security event, and loses nothing that agent had already committed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { storedSampleCount } from '../../collector/store/sample-figures.js';
import { deflateRawSync } from 'node:zlib';
import { sha256, signBytes } from '../../proto/chain.js';
import { CloseCode, assay, encodeAgentMessage, encodeSample } from '../../proto/codec.js';
import { BatchEncoding, VERIFY_MAX_INFLATED_BYTES, encodePayload, frameSamples, payloadSampleBytes } from '../../proto/payload.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { tempDir } from '../helpers/env.js';
import { fullHello, fullSample, varint } from '../helpers/messages.js';
import { RawAgent, type Closed } from '../helpers/rawagent.js';

const SECRET = 'test-enroll-secret-0123456789';
let collector: RunningCollector;
let tmp: ReturnType<typeof tempDir>;
let ingestUrl: string;
let dbPath: string;

const samplesAt = (startMs: number, n: number) => Array.from({ length: n }, (_, i) => fullSample(startMs + i * 1000, 100 + i));
const one = <T>(sql: string, ...args: unknown[]): T => {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare(sql).get(...args) as T;
  } finally {
    db.close();
  }
};
const countRows = (id: string): number => {
  const db = new Database(dbPath, { readonly: true });
  try {
    return storedSampleCount(db, id);
  } finally {
    db.close();
  }
};
const closedWithin = (a: RawAgent, ms = 5000): Promise<Closed | null> => Promise.race([a.closed, new Promise<null>((r) => setTimeout(() => r(null), ms))]);

before(async () => {
  tmp = tempDir();
  dbPath = join(tmp.dir, 'assay.db');
  collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath, enrollSecret: SECRET, limits: { maxFrameBytes: 256 * 1024, maxBatchSamples: 50 } });
  ingestUrl = collector.url.replace('http', 'ws') + '/ingest';
});

after(async () => {
  await collector.close();
  tmp.cleanup();
});

test('a schema-2 agent is still accepted: its batches of samples are stored as framed payloads and it is answered in v2', async () => {
  const a = await RawAgent.connect(ingestUrl);
  assert.equal(a.challengeVersion, 2, 'the challenge goes out in the oldest version accepted');
  a.version = 2;
  const v2 = { encoding: assay.v1.BatchEncoding.BATCH_ENCODING_SAMPLES };
  await a.hello(fullHello('old-agent-1'), SECRET);
  const b1 = a.build(1, samplesAt(Date.now() - 20_000, 3), v2);
  a.sendBatch(b1);
  const ack = await a.next();
  assert.equal(ack.body, 'ack');
  assert.equal(ack.schemaVersion, 2, 'the ack is in the agent\'s version');
  assert.equal(ack.ack!.lastSeq, 3);
  const row = one<{ encoding: number; payload: Buffer }>('SELECT encoding, payload FROM batches WHERE host_id = ?', 'old-agent-1');
  assert.equal(row.encoding, BatchEncoding.BATCH_ENCODING_SAMPLES);
  assert.ok(row.payload.equals(frameSamples(b1.samples)), 'the payload is the framed samples, the bytes samples_digest hashes');
  assert.equal(countRows('old-agent-1'), 3);
  // The same agent upgraded: schema 3, payloads, continuing its chain.
  a.version = 3;
  a.sendBatch(a.build(4, samplesAt(Date.now() - 10_000, 2)));
  const ack2 = await a.next();
  assert.equal(ack2.ack!.lastSeq, 5);
  assert.equal(countRows('old-agent-1'), 5);
  a.close();
});

test('a schema-3 agent from before brotli is still accepted: its raw-deflate payloads (encoding 1) are stored as signed and read back', async () => {
  const a = await RawAgent.connect(ingestUrl);
  await a.hello(fullHello('deflate-agent-1'), SECRET);
  const samples = samplesAt(Date.now() - 20_000, 3);
  const old = a.build(1, samples, { encoding: BatchEncoding.BATCH_ENCODING_DEFLATE });
  a.sendBatch(old);
  assert.equal((await a.ack()).lastSeq, 3);
  const row = one<{ encoding: number; payload: Buffer }>('SELECT encoding, payload FROM batches WHERE host_id = ?', 'deflate-agent-1');
  assert.equal(row.encoding, BatchEncoding.BATCH_ENCODING_DEFLATE);
  assert.ok(row.payload.equals(Buffer.from(old.payload)), 'the raw-deflate payload is stored exactly as signed');
  assert.deepEqual(payloadSampleBytes(row.encoding, row.payload).map((b) => Buffer.from(b)), old.samples.map((b) => Buffer.from(b)));
  // Upgraded in place: the current encoding (chained value-coded columnar, encoding 5, since 2026-12-08; a keyframe after a restart) from the next batch on, the chain going on.
  const next = a.build(4, samplesAt(Date.now() - 10_000, 2));
  assert.equal(next.encoding, BatchEncoding.BATCH_ENCODING_CHAINED_VALUES);
  a.sendBatch(next);
  assert.equal((await a.ack()).lastSeq, 5);
  assert.equal(countRows('deflate-agent-1'), 5);
  a.close();
});

test('a batch of an encoding this collector does not know is refused with a clear reason, and nothing is stored', async () => {
  const a = await RawAgent.connect(ingestUrl);
  await a.hello(fullHello('future-agent-1'), SECRET);
  const payload = Buffer.from('whatever encoding 9 would be');
  const header = assay.v1.BatchHeader.encode({ agentId: 'future-agent-1', seqs: [1], prevHash: a.head, encoding: 9 as assay.v1.BatchEncoding, payloadDigest: sha256(payload), sealedMs: Date.now() }).finish();
  a.send(encodeAgentMessage({ batch: { header, signature: signBytes(a.keys, header), payload } }));
  const closed = await closedWithin(a);
  assert.equal(closed?.code, CloseCode.invalid);
  assert.match(closed!.reason, /unknown batch encoding 9/);
  assert.equal(countRows('future-agent-1'), 0);
});

test('a zip bomb from an enrolled agent is refused as payload_too_large; what it committed before stays, and it can go on', async () => {
  const a = await RawAgent.connect(ingestUrl);
  await a.hello(fullHello('bomber-1'), SECRET);
  assert.equal((await a.batch(1, samplesAt(Date.now() - 30_000, 4))).lastSeq, 4);
  const headBefore = one<{ chain_head: Buffer }>('SELECT chain_head FROM hosts WHERE id = ?', 'bomber-1').chain_head;
  // A correctly signed batch whose payload inflates to 64 MiB (4 x the 256 KiB frame limit is the bound).
  const payload = deflateRawSync(frameSamples([Buffer.alloc(64 * 1024 * 1024)]), { level: 9 });
  assert.ok(payload.length < 256 * 1024);
  const header = assay.v1.BatchHeader.encode({ agentId: 'bomber-1', seqs: [5], prevHash: a.head, encoding: BatchEncoding.BATCH_ENCODING_DEFLATE, payloadDigest: sha256(payload), sealedMs: Date.now() }).finish();
  a.send(encodeAgentMessage({ batch: { header, signature: signBytes(a.keys, header), payload } }));
  const closed = await closedWithin(a);
  assert.equal(closed?.code, CloseCode.invalid);
  assert.match(closed!.reason, /payload inflates to more than 1048576 bytes/);
  assert.equal(countRows('bomber-1'), 4, 'the four samples committed before are all there');
  assert.ok(one<{ chain_head: Buffer }>('SELECT chain_head FROM hosts WHERE id = ?', 'bomber-1').chain_head.equals(headBefore), 'chain head unchanged');
  const events = await collector.store.securityEvents(50);
  assert.ok(events.some((e) => e.reason === 'payload_too_large' && e.subject === 'bomber-1'), 'recorded as a security event');
  const metrics = await (await fetch(collector.url + '/metrics')).text();
  assert.match(metrics, /assay_ingest_rejects_total\{reason="payload_too_large"\} 1\b/);
  // The agent reconnects and continues its chain from the committed head.
  const b = await RawAgent.connect(ingestUrl);
  b.keys = a.keys;
  const w = await b.hello(fullHello('bomber-1'));
  assert.equal(w.lastSeq, 4);
  assert.equal((await b.batch(5, samplesAt(Date.now() - 5_000, 2))).lastSeq, 6);
  b.close();
});

test('with --max-frame-bytes above 16 MiB, a payload inflating beyond what reports and `assay verify` read (64 MiB) is refused, not acked: nothing of it is stored', async () => {
  const big = tempDir();
  const path = join(big.dir, 'assay.db');
  const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: path, enrollSecret: SECRET, limits: { maxFrameBytes: 32 * 1024 * 1024 } });
  try {
    const a = await RawAgent.connect(c.url.replace('http', 'ws') + '/ingest');
    await a.hello(fullHello('wide-1'), SECRET);
    // One valid sample followed by an unknown field of 65 MiB (both decoders skip it): under
    // 4 x 32 MiB, over VERIFY_MAX_INFLATED_BYTES.
    const filler = VERIFY_MAX_INFLATED_BYTES + 1024 * 1024;
    const sample = Buffer.concat([Buffer.from(encodeSample(fullSample(Date.now()))), Buffer.from([0xa2, 0x06]), varint(filler), Buffer.alloc(filler)]);
    const payload = encodePayload([sample], BatchEncoding.BATCH_ENCODING_BROTLI);
    const header = assay.v1.BatchHeader.encode({ agentId: 'wide-1', seqs: [1], encoding: BatchEncoding.BATCH_ENCODING_BROTLI, payloadDigest: sha256(payload), sealedMs: Date.now() }).finish();
    a.send(encodeAgentMessage({ batch: { header, signature: signBytes(a.keys, header), payload } }));
    const first = await Promise.race([a.closed, a.next().then((m) => m.body)]);
    assert.ok(typeof first === 'object' && first !== null, `refused, not answered with ${String(first)}`);
    const closed = first;
    assert.equal(closed.code, CloseCode.invalid, closed.reason);
    assert.match(closed!.reason, /payload inflates to more than/);
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(storedSampleCount(db, 'wide-1'), 0);
      assert.equal((db.prepare('SELECT count(*) AS n FROM batches').get() as { n: number }).n, 0);
    } finally {
      db.close();
    }
  } finally {
    await c.close();
    big.cleanup();
  }
});
