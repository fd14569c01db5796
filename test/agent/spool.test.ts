import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { Spool } from '../../agent/spool.js';
import { generateAgentKeys, signBytes, verifySignature } from '../../proto/chain.js';
import { assay } from '../../proto/codec.js';
import { tempDir } from '../helpers/env.js';
import { payloadFrames } from '../../proto/payload.js';

const bytes = (n: number) => Uint8Array.from([n & 0xff, 1, 2, 3]);
const keys = generateAgentKeys();
const sign = (h: Uint8Array) => signBytes(keys, h);
const header = (b: { header: Uint8Array }) => assay.v1.BatchHeader.decode(b.header);

test('samples wait in the spool across reopen; a sealed batch is resent byte-identical until its hash is acked', () => {
  const tmp = tempDir();
  try {
    const a = new Spool(tmp.dir);
    assert.deepEqual([a.push(1000, bytes(1)), a.push(2000, bytes(2)), a.push(3000, bytes(3))], [1, 2, 3]);
    const b1 = a.nextBatch('agent-1', 2, sign, 5000)!;
    assert.deepEqual(header(b1).seqs, [1, 2]);
    assert.ok(verifySignature(keys.publicKey, b1.header, b1.signature), 'header is signed with the agent key');
    assert.equal(header(b1).prevHash!.length, 0, 'first batch starts the chain');
    a.close();
    // After a crash the same batch comes back, same bytes, same signature.
    const b = new Spool(tmp.dir);
    const again = b.nextBatch('agent-1', 2, sign, 9000)!;
    assert.deepEqual(Buffer.from(again.header), Buffer.from(b1.header));
    assert.deepEqual(Buffer.from(again.payload), Buffer.from(b1.payload), 'the stored payload, not a recompression');
    assert.deepEqual(payloadFrames(again.encoding, again.payload).map((s) => s[0]), [1, 2]);
    assert.equal(b.ackBatch(b1.hash), true);
    const b2 = b.nextBatch('agent-1', 10, sign, 9000)!;
    assert.deepEqual(header(b2).seqs, [3]);
    assert.deepEqual(Buffer.from(header(b2).prevHash!), b1.hash, 'the next batch links to the previous one');
    assert.equal(b.ackBatch(Buffer.alloc(32)), false, 'an unknown hash acks nothing');
    b.ackBatch(b2.hash);
    assert.equal(b.size, 0);
    assert.equal(b.nextBatch('agent-1', 10, sign, 9000), null);
    // Numbering continues after everything was acked: the collector has 1..3 already.
    assert.equal(b.push(4000, bytes(4)), 4);
    b.close();
  } finally {
    tmp.cleanup();
  }
});

test('a full spool thins its oldest samples first, then drops, and says so in gaps', () => {
  const tmp = tempDir();
  try {
    const s = new Spool(tmp.dir, { maxSamples: 10, maxAgeMs: 1e12, maxThinnedSpacingMs: 4000 });
    for (let i = 1; i <= 30; i++) s.push(i * 1000, bytes(i));
    assert.ok(s.lost >= 20, `lost ${s.lost}`);
    const batch = s.nextBatch('agent-1', 100, sign, 40_000)!;
    const h = header(batch);
    assert.ok(h.seqs!.length <= 10, `at most 10 samples kept (${h.seqs!.length})`);
    assert.equal(h.seqs!.at(-1), 30, 'the newest sample is kept');
    const causes = new Set(h.gaps!.map((g) => g.cause));
    assert.ok(causes.has('spool_thinned'), 'thinning recorded');
    assert.ok(causes.has('spool_full'), 'dropping recorded once thinning could go no further');
    const lostInGaps = h.gaps!.reduce((n, g) => n + (g.samples ?? 0), 0);
    assert.equal(lostInGaps, s.lost, 'every lost sample is accounted for in a gap');
    assert.equal(lostInGaps + h.seqs!.length, 30, 'kept + lost = sampled');
    s.close();
  } finally {
    tmp.cleanup();
  }
});

test('samples older than the age limit are dropped as a gap', () => {
  const tmp = tempDir();
  try {
    const s = new Spool(tmp.dir, { maxSamples: 1000, maxAgeMs: 10_000, maxThinnedSpacingMs: 60_000 });
    for (let i = 1; i <= 5; i++) s.push(i * 1000, bytes(i));
    s.push(100_000, bytes(6));
    const h = header(s.nextBatch('agent-1', 100, sign, 100_000)!);
    assert.deepEqual(h.seqs, [6]);
    assert.deepEqual(h.gaps!.map((g) => [g.fromSeq, g.toSeq, g.cause, g.samples]), [[1, 5, 'spool_full', 5]]);
    s.close();
  } finally {
    tmp.cleanup();
  }
});

test('a corrupt spool file gives a clear error naming it', () => {
  const tmp = tempDir();
  try {
    writeFileSync(`${tmp.dir}/spool.db`, 'this is not a database, just garbage bytes '.repeat(200));
    assert.throws(() => new Spool(tmp.dir), /spool .*spool\.db cannot be opened/);
  } finally {
    tmp.cleanup();
  }
});

test('batches stay under the collector frame limit; a sample that can never fit becomes a gap', () => {
  const tmp = tempDir();
  try {
    const s = new Spool(tmp.dir);
    s.push(1000, new Uint8Array(5000));
    for (let i = 2; i <= 10; i++) s.push(i * 1000, new Uint8Array(300));
    const b = s.nextBatch('agent-1', 100, sign, 20_000, 1000)!;
    const h = header(b);
    assert.deepEqual(h.seqs, [2, 3, 4], 'as many samples as fit in 1000 bytes');
    assert.deepEqual(h.gaps!.map((g) => [g.fromSeq, g.cause]), [[1, 'sample_too_large']]);
    s.ackBatch(b.hash);
    assert.deepEqual(header(s.nextBatch('agent-1', 100, sign, 20_000, 1000)!).seqs, [5, 6, 7]);
    s.close();
  } finally {
    tmp.cleanup();
  }
});

test('sealed batches are chained (encoding 5, as 4): each encoded against the last sample of the batch before, a keyframe first, every CHAIN_MAX_BATCHES, after a restart and after a batch without samples', async () => {
  const { readTraceSamples, asSentSockets } = await import('../../bench/payload-sizes.js');
  const { quantizeSample } = await import('../../agent/quantize.js');
  const { encodeSample } = await import('../../proto/codec.js');
  const { AGENT_BATCH_ENCODING, BatchEncoding, CHAIN_MAX_BATCHES, lastFrame, payloadChained } = await import('../../proto/payload.js');
  assert.equal(AGENT_BATCH_ENCODING, BatchEncoding.BATCH_ENCODING_CHAINED_VALUES);
  const real = readTraceSamples('bench/data/server-host.trace.ndjson.gz').slice(0, 120).map((s) => encodeSample(asSentSockets(quantizeSample(s))));
  const tmp = tempDir();
  try {
    let s = new Spool(tmp.dir);
    let next = 0;
    const kinds: string[] = [];
    let prior: Uint8Array | null = null;
    /** Seals, checks the batch decodes with the last frame of the one before (as a reader has it), acks. */
    const seal = (n: number, at = 10_000): void => {
      for (let i = 0; i < n; i++) s.push(at + next, real[next++ % real.length]!);
      const b = s.nextBatch('agent-1', 5, sign, at + next)!;
      const chained = payloadChained(b.encoding, b.payload);
      kinds.push(!b.count ? 'E' : chained ? 'c' : 'K');
      const frames = payloadFrames(b.encoding, b.payload, undefined, undefined, chained ? prior : null);
      assert.equal(frames.length, b.count);
      prior = lastFrame(frames);
      assert.ok(s.ackBatch(b.hash));
    };
    for (let i = 0; i < CHAIN_MAX_BATCHES + 2; i++) seal(5);
    assert.deepEqual(kinds.join(''), `K${'c'.repeat(CHAIN_MAX_BATCHES - 1)}Kc`);
    // A restart forgets the last sample: the next batch is a keyframe.
    s.close();
    s = new Spool(tmp.dir);
    seal(5);
    seal(5);
    assert.ok(kinds.join('').endsWith('Kc'));
    // A batch without samples (only a gap to report: a sample over the frame limit) gives nothing to chain to.
    s.push(20_000, new Uint8Array(5000));
    const gapOnly = s.nextBatch('agent-1', 5, sign, 20_001, 1000)!;
    assert.equal(gapOnly.count, 0);
    assert.equal(header(gapOnly).gaps?.[0]?.cause, 'sample_too_large');
    assert.ok(s.ackBatch(gapOnly.hash));
    seal(5);
    seal(5);
    assert.deepEqual(kinds.join(''), `K${'c'.repeat(CHAIN_MAX_BATCHES - 1)}KcKcKc`);
    s.close();
  } finally {
    tmp.cleanup();
  }
});
