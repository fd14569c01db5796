// Payload encoding 3 (columnar) end to end: real recorded samples sealed as encoding-3 batches
// by a real agent key go over a real WebSocket; the collector acks them, stores the payload exactly
// as signed, gives the samples back byte for byte, and a report over them verifies. A garbled
// encoding-3 payload, correctly signed, is refused with a clear reason and loses nothing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { quantizeSample } from '../../agent/quantize.js';
import { asSentSockets, readTraceSamples } from '../../bench/payload-sizes.js';
import { verifyReportBytes } from '../../collector/report/verify-file.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { storedSampleCount } from '../../collector/store/sample-figures.js';
import { sha256, signBytes } from '../../proto/chain.js';
import { CloseCode, assay, encodeAgentMessage, encodeSample, type ISample } from '../../proto/codec.js';
import { encodeColumnar } from '../../proto/columnar.js';
import { BatchEncoding, payloadSampleBytes } from '../../proto/payload.js';
import { brotliCompressSync } from 'node:zlib';
import { tempDir } from '../helpers/env.js';
import { fullHello } from '../helpers/messages.js';
import { RawAgent } from '../helpers/rawagent.js';

const SECRET = 'test-enroll-secret-columnar-0123';
const COLUMNAR = BatchEncoding.BATCH_ENCODING_COLUMNAR;
let collector: RunningCollector;
let tmp: ReturnType<typeof tempDir>;
let dbPath: string;
let ingestUrl: string;

/** Recorded server samples as the agent sends them, moved to end `endMs` ago at 1 Hz. */
const recorded = readTraceSamples('bench/data/server-host.trace.ndjson.gz').slice(100, 115).map((s) => asSentSockets(quantizeSample(s)));
const recent = (samples: ISample[], endMs: number): ISample[] => samples.map((s, i) => ({ ...s, tsMs: Date.now() - endMs - (samples.length - i) * 1000 }));

before(async () => {
  tmp = tempDir();
  dbPath = join(tmp.dir, 'assay.db');
  collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath, enrollSecret: SECRET, limits: { maxFrameBytes: 1024 * 1024, maxBatchSamples: 50 } });
  ingestUrl = collector.url.replace('http', 'ws') + '/ingest';
});

after(async () => {
  await collector.close();
  tmp.cleanup();
});

test('encoding-3 batches of real samples are acked, stored as signed, read back byte for byte, and a report over them verifies', async () => {
  const a = await RawAgent.connect(ingestUrl);
  await a.hello(fullHello('columnar-1'), SECRET);
  const samples = recent(recorded, 5_000);
  const sent: ReturnType<RawAgent["build"]>[] = [];
  for (let i = 0; i < samples.length; i += 5) {
    const b = a.build(i + 1, samples.slice(i, i + 5), { encoding: COLUMNAR });
    assert.equal(b.encoding, COLUMNAR);
    a.sendBatch(b);
    const ack = await a.ack();
    assert.equal(ack.lastSeq, i + 5);
    assert.equal(ack.accepted, 5);
    sent.push(b);
  }
  a.close();
  const db = new Database(dbPath, { readonly: true });
  let rows: Array<{ encoding: number; payload: Buffer }>;
  try {
    assert.equal(storedSampleCount(db, 'columnar-1'), samples.length);
    rows = db.prepare('SELECT encoding, payload FROM batches WHERE host_id = ? ORDER BY first_seq').all('columnar-1') as typeof rows;
  } finally {
    db.close();
  }
  assert.equal(rows.length, sent.length);
  rows.forEach((row, i) => {
    assert.equal(row.encoding, COLUMNAR);
    assert.ok(Buffer.from(row.payload).equals(Buffer.from(sent[i]!.payload)), `batch ${i + 1} stored exactly as signed`);
    payloadSampleBytes(row.encoding, row.payload).forEach((b, j) => assert.ok(Buffer.from(b).equals(Buffer.from(sent[i]!.samples[j]!)), `batch ${i + 1} sample ${j + 1} back byte for byte`));
  });
  // The API reads the stored samples (processes of the last sample, decoded from the columns).
  const res = await fetch(`${collector.url}/api/hosts/columnar-1/processes`);
  assert.equal(res.status, 200);
  // A report over the period embeds the encoding-3 payloads and verifies: every figure recomputed from them.
  const q = `from=${samples[0]!.tsMs! - 1000}&to=${samples.at(-1)!.tsMs! + 1000}`;
  const r = await fetch(`${collector.url}/api/hosts/columnar-1/report?${q}`);
  assert.equal(r.status, 200);
  const text = await r.text();
  const report = JSON.parse(text) as { hosts: Array<{ input: { batches: Array<{ header: string; payload?: string }> } }> };
  const batches = report.hosts[0]!.input.batches;
  assert.equal(batches.length, sent.length);
  for (const b of batches) assert.equal(assay.v1.BatchHeader.decode(Buffer.from(b.header, 'base64')).encoding, COLUMNAR);
  const checked = verifyReportBytes(Buffer.from(text, 'utf8'));
  assert.deepEqual(checked.failures, [], 'the report over encoding-3 batches verifies');
});

test('a correctly signed encoding-3 payload that is not a valid container is refused with a clear reason; what was committed stays and the agent goes on', async () => {
  const a = await RawAgent.connect(ingestUrl);
  await a.hello(fullHello('columnar-2'), SECRET);
  const good = recent(recorded.slice(0, 5), 20_000);
  assert.equal((await a.batch(1, good)).lastSeq, 5);
  const container = Buffer.from(encodeColumnar(recent(recorded.slice(5, 10), 10_000).map((s) => encodeSample(s))));
  const payload = brotliCompressSync(container.subarray(0, container.length - 7));
  const header = assay.v1.BatchHeader.encode({ agentId: 'columnar-2', seqs: [6, 7, 8, 9, 10], prevHash: a.head, encoding: COLUMNAR, payloadDigest: sha256(payload), sealedMs: Date.now() }).finish();
  a.send(encodeAgentMessage({ batch: { header, signature: signBytes(a.keys, header), payload } }));
  const closed = await Promise.race([a.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
  assert.equal(closed?.code, CloseCode.invalid);
  assert.match(closed!.reason, /encoding 3/);
  const db = new Database(dbPath, { readonly: true });
  try {
    assert.equal(storedSampleCount(db, 'columnar-2'), 5, 'the five samples committed before are all there');
  } finally {
    db.close();
  }
  const b = await RawAgent.connect(ingestUrl);
  b.keys = a.keys;
  assert.equal((await b.hello(fullHello('columnar-2'))).lastSeq, 5);
  const next = b.build(6, recent(recorded.slice(5, 10), 5_000), { encoding: COLUMNAR });
  b.sendBatch(next);
  assert.equal((await b.ack()).lastSeq, 10);
  b.close();
});
