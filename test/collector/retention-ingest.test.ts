// A large prune never holds ingest up: while the collector deletes 200,000 raw samples past the
// attestation window (2,000 batches and their 2,000 packed rows of chart figures, in bounded steps), an agent streaming real signed batches over a real
// WebSocket keeps getting prompt acks, and nothing of its own is deleted.
import { frameSamples } from '../../proto/payload.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCollector } from '../../collector/server.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { encodeSample, type ISample } from '../../proto/codec.js';
import { tempDir } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { RawAgent } from '../helpers/rawagent.js';

const SECRET = 'retention-ingest-secret-0123456';
const D = 86_400_000;
const OLD_ROWS = 200_000;
/** Samples per seeded batch (one packed row of chart figures each: sample-figures.ts). */
const PER_BATCH = 100;

test('ingest acks stay prompt while a large prune runs', { timeout: 180_000 }, async () => {
  const tmp = tempDir();
  const dbPath = join(tmp.dir, 'assay.db');
  try {
    // 200,000 samples 40 days old, through the store's own append path.
    const t0 = Date.now() - 40 * D;
    const seed = new SqliteStore(dbPath);
    seed.db.pragma('synchronous = OFF');
    await seed.upsertHost(fullHello('old-host'), t0);
    let head: Uint8Array = new Uint8Array();
    for (let i = 0; i < OLD_ROWS; i += PER_BATCH) {
      const samples = Array.from({ length: PER_BATCH }, (_, j) => {
        const sample: ISample = { tsMs: t0 + (i + j) * 1000, cpu: { totalPct: j % 100 }, memory: { totalBytes: 1000, usedBytes: 500 } };
        return { seq: i + j + 1, sample, bytes: encodeSample(sample) };
      });
      const hash = createHash('sha256').update(`old:${i}`).digest();
      assert.equal((await seed.appendBatch('old-host', { hash, prevHash: head, header: new Uint8Array([1]), signature: new Uint8Array([2]), encoding: 0, payload: frameSamples(samples.map((x) => x.bytes)), samples, gaps: [] }, t0 + i * 1000)).status, 'stored');
      head = hash;
    }
    await seed.close();

    const collector = await startCollector({
      host: '127.0.0.1',
      port: 0,
      dbPath,
      enrollSecret: SECRET,
      retention: { rawMs: 35 * D, stepRows: 100, stepPauseMs: 5, everyMs: 3_600_000 },
    });
    try {
      const a = await RawAgent.connect(collector.url.replace('http', 'ws') + '/ingest');
      await a.hello(fullHello('live-agent'), SECRET);
      let seq = 1;
      const send = async (): Promise<number> => {
        const t = Date.now();
        const samples = Array.from({ length: 5 }, (_, i) => fullSample(t - 5000 + i * 1000));
        const ack = await a.batch(seq, samples);
        seq += 5;
        assert.equal(ack.lastSeq, seq - 1);
        return Date.now() - t;
      };
      for (let i = 0; i < 5; i++) await send(); // warm
      const t0Prune = Date.now();
      let pruneMs = 0;
      const round = collector.retention.runRound().then((d) => ((pruneMs = Date.now() - t0Prune), d));
      const during: number[] = [];
      // Bounded: at most 5,000 batches or 120 s.
      while (pruneMs === 0 && during.length < 5000 && Date.now() - t0Prune < 120_000) during.push(await send());
      const deleted = await round;
      await a.close();

      assert.equal(deleted.samples, OLD_ROWS / PER_BATCH, 'the whole old range was pruned (rows of packed figures)');
      assert.equal(deleted.batches, OLD_ROWS / PER_BATCH);
      const max = Math.max(...during);
      const sorted = [...during].sort((x, y) => x - y);
      const p50 = sorted[Math.floor(sorted.length / 2)]!;
      const summary = `prune ${pruneMs} ms in steps; ${during.length} batches acked meanwhile, ack p50 ${p50} ms, max ${max} ms`;
      console.log(summary);
      assert.ok(during.length >= 10, `ingest went on during the prune: ${summary}`);
      // Prompt: no ack waited for the prune as a whole, nor for anything close to a second.
      assert.ok(max < 1000 && max * 3 < pruneMs, summary);
      const store = collector.store;
      assert.equal((await store.seqRange('live-agent', 0, Date.now() + 1000))?.maxSeq, seq - 1, 'the live agent lost nothing');
    } finally {
      await collector.close();
    }
  } finally {
    tmp.cleanup();
  }
});
