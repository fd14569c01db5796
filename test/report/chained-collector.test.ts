// A report over chained batches (encoding 4) that went through a real collector: recorded
// samples sealed by an agent key as a chain, sent over a real WebSocket, acked and stored; the
// report route over a period starting mid-chain embeds the context back to the keyframe and
// verifies offline, as a file given to `assay verify`.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { quantizeSample } from '../../agent/quantize.js';
import { asSentSockets, readTraceSamples } from '../../bench/payload-sizes.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import type { Report } from '../../collector/report/types.js';
import { verifyReportBytes } from '../../collector/report/verify-file.js';
import { assay, type ISample } from '../../proto/codec.js';
import { BatchEncoding, payloadChained } from '../../proto/payload.js';
import { tempDir } from '../helpers/env.js';
import { fullHello } from '../helpers/messages.js';
import { runAssay } from '../helpers/proc.js';
import { RawAgent } from '../helpers/rawagent.js';

const SECRET = 'test-enroll-secret-chained-report-0';
const CHAINED = BatchEncoding.BATCH_ENCODING_CHAINED;
let collector: RunningCollector;
let tmp: ReturnType<typeof tempDir>;

/** 60 recorded server samples as the agent sends them, at 1 Hz, ending a minute ago. */
const recorded = readTraceSamples('bench/data/server-host.trace.ndjson.gz').slice(200, 260).map((s) => asSentSockets(quantizeSample(s)));
const samples: ISample[] = recorded.map((s, i) => ({ ...s, tsMs: Date.now() - 60_000 - (recorded.length - i) * 1000 }));

before(async () => {
  tmp = tempDir('assay-chained-collector-');
  collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET, limits: { maxFrameBytes: 1024 * 1024, maxBatchSamples: 50 } });
});

after(async () => {
  await collector.close();
  tmp.cleanup();
});

test('a report from the collector over a period starting mid-chain embeds its context and verifies offline', async () => {
  const a = await RawAgent.connect(collector.url.replace('http', 'ws') + '/ingest');
  await a.hello(fullHello('chained-report'), SECRET);
  let prior: Uint8Array | null = null;
  for (let i = 0; i < samples.length; i += 5) {
    const b = a.build(i + 1, samples.slice(i, i + 5), { encoding: CHAINED, prior });
    assert.equal(payloadChained(CHAINED, b.payload), i > 0);
    a.sendBatch(b);
    assert.equal((await a.ack()).lastSeq, i + 5);
    prior = b.samples.at(-1)!;
  }
  a.close();
  await a.closed;
  // From the 23rd sample (batch 5, chained to 4, 3, 2 and the keyframe 1) to the last.
  const r = await fetch(`${collector.url}/api/hosts/chained-report/report?from=${samples[22]!.tsMs}&to=${samples.at(-1)!.tsMs! + 500}`);
  assert.equal(r.status, 200);
  const text = await r.text();
  const report = JSON.parse(text) as Report;
  const batches = report.hosts[0]!.input.batches!;
  assert.equal(batches.length, 12);
  assert.deepEqual(batches.map((b) => b.context === true), batches.map((_, i) => i < 4));
  const header = assay.v1.BatchHeader.decode(Buffer.from(batches[0]!.header, 'base64'));
  assert.equal(payloadChained(header.encoding ?? 0, Buffer.from(batches[0]!.payload!, 'base64')), false, 'the context starts at the keyframe');
  assert.equal(report.hosts[0]!.derived.samples, 38);
  assert.deepEqual(verifyReportBytes(Buffer.from(text, 'utf8')).failures, []);
  const file = join(tmp.dir, 'report.json');
  writeFileSync(file, text);
  const out = await runAssay(['verify', file]);
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /12 batches \(the first 4 before the period, embedded only to decode the chained batch after them\) signed by agent key/);
  assert.match(out.stdout, /every figure recomputed from 38 samples/);
});
