// Payload segments (payload-segments.ts): retention moves older batches' signed payloads into 64 KB
// segments. Every read gives back exactly the signed bytes, a report over moved batches verifies,
// recent batches and a last partial segment wait, the batch rows shrink, and a segment goes with
// the last batch it holds.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { join } from 'node:path';
import { sealBatch } from '../../agent/batch.js';
import { buildReport } from '../../collector/report/build.js';
import { verifyReport } from '../../collector/report/verify.js';
import { SEGMENT_BYTES } from '../../collector/store/payload-segments.js';
import { retentionOptions, noneDeleted, type Deleted } from '../../collector/store/retention.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { generateAgentKeys, signBytes } from '../../proto/chain.js';
import { encodeSample } from '../../proto/codec.js';
import { tempDir } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';

const T0 = 1_795_000_000_000;
const M = 60_000;

test('payload segments: older payloads move into segments, every read and a report get the signed bytes back, and segments go with their batches', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const store = new SqliteStore(join(tmp.dir, 'assay.db'));
  t.after(() => store.close());
  const keys = generateAgentKeys();
  const id = 'seg-host';
  await store.upsertHost({ ...fullHello(id), publicKey: keys.publicKey }, T0);
  // 240 batches of 5 samples, one every 5 s (20 minutes), each received 300 ms after sealing.
  const payloads = new Map<number, Buffer>();
  const hashes: Buffer[] = [];
  let head: Uint8Array = new Uint8Array();
  for (let b = 0; b < 240; b++) {
    const seqs = [1, 2, 3, 4, 5].map((i) => b * 5 + i);
    // Processes differ per sample (random names) so payloads are a few KB, as real ones are.
    const samples = seqs.map((seq) => {
      const s = fullSample(T0 + seq * 1000, 1000 + seq);
      s.processes = Array.from({ length: 20 }, (_, k) => ({ ...s.processes![0]!, pid: seq * 100 + k, name: randomBytes(12).toString('hex'), signature: null }));
      return s;
    });
    const sealedMs = T0 + seqs.at(-1)! * 1000;
    const sealed = sealBatch({ agentId: id, seqs, samples: samples.map(encodeSample), prevHash: head, sealedMs }, (h) => signBytes(keys, h));
    const res = await store.appendBatch(id, { hash: sealed.hash, prevHash: head, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples: seqs.map((seq, i) => ({ seq, sample: samples[i]! })), gaps: [] }, sealedMs + 300);
    assert.equal(res.status, 'stored');
    payloads.set(seqs[0]!, Buffer.from(sealed.payload));
    hashes.push(Buffer.from(sealed.hash));
    head = sealed.hash;
  }
  const batchPages = (): number => (store.db.prepare("SELECT COUNT(*) AS n FROM dbstat WHERE name = 'batches'").get() as { n: number }).n;
  const pagesBefore = batchPages();
  const inSegments = (): number => (store.db.prepare('SELECT COUNT(*) AS n FROM batches WHERE segment_id IS NOT NULL').get() as { n: number }).n;

  // Retention 12 minutes after the first batch: batches older than 10 minutes move, in bounded steps.
  const opts = retentionOptions({ stepRows: 50 });
  const run = async (nowMs: number): Promise<Deleted> => {
    const total = noneDeleted();
    for (let done = false, steps = 0; !done && steps < 10_000; steps++) {
      const r = await store.retentionStep(opts, nowMs);
      for (const k of Object.keys(total) as Array<keyof Deleted>) total[k] += r.deleted[k];
      done = r.done;
    }
    return total;
  };
  let deleted = await run(T0 + 12 * M);
  assert.deepEqual(deleted, noneDeleted(), 'moving payloads deletes nothing');
  const moved = inSegments();
  assert.ok(moved > 0 && moved <= 24, `only batches received more than 10 minutes before move (${moved})`);
  const segments = store.db.prepare('SELECT length(bytes) AS n FROM payload_segments').all() as Array<{ n: number }>;
  assert.ok(segments.every((s) => s.n <= SEGMENT_BYTES), 'segments stay within their size');

  // 40 minutes on, the host quiet: everything moves, the last partial segment too.
  await run(T0 + 80 * M);
  assert.equal(inSegments(), 240);
  assert.ok(batchPages() * 4 < pagesBefore, `batch rows shrink to their headers: ${batchPages()} pages from ${pagesBefore}`);

  // Every read gets the signed bytes back.
  for (const [first, bytes] of payloads) {
    const b = await store.batchContaining(id, first + 2);
    assert.ok(b && Buffer.from(b.payload).equals(bytes), `batch from seq ${first}`);
  }
  const byHash = await store.batchByHash(id, hashes[100]!);
  assert.ok(byHash && Buffer.from(byHash.payload).equals(payloads.get(501)!));
  const decoded = await store.samples(id, T0 + 600 * 1000, T0 + 610 * 1000, 100);
  assert.deepEqual(decoded.map((r) => r.seq), [600, 601, 602, 603, 604, 605, 606, 607, 608, 609, 610]);
  assert.equal(decoded[3]!.sample.processes!.length, 20);
  const report = await buildReport(store, { hostIds: [id], fromMs: T0 + 100_000, toMs: T0 + 400_000, keys: generateAgentKeys(), nowMs: T0 + 90 * M });
  assert.deepEqual(verifyReport(JSON.parse(JSON.stringify(report))).failures, []);

  // Raw retention: a segment goes once every batch it holds is gone, never before.
  const rawMs = retentionOptions().rawMs;
  deleted = await run(T0 + 600 * 1000 + rawMs);
  assert.ok(deleted.batches > 0 && deleted.payload_segments > 0, JSON.stringify(deleted));
  const orphans = store.db.prepare('SELECT COUNT(*) AS n FROM batches b WHERE b.segment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM payload_segments s WHERE s.id = b.segment_id)').get() as { n: number };
  assert.equal(orphans.n, 0, 'every kept batch still has its segment');
  const kept = store.db.prepare('SELECT MIN(first_seq) AS first FROM batches WHERE host_id = ?').get(id) as { first: number };
  const b = await store.batchContaining(id, kept.first);
  assert.ok(b && Buffer.from(b.payload).equals(payloads.get(kept.first)!));
  const unused = store.db.prepare('SELECT COUNT(*) AS n FROM payload_segments s WHERE NOT EXISTS (SELECT 1 FROM batches b WHERE b.segment_id = s.id)').get() as { n: number };
  assert.equal(unused.n, 0, 'no segment outlives its batches');
});
