// Spool.resealKeyframe (the collector refused the unacked chained batch for want of its prior):
// the same samples, sequence numbers, prev_hash, gaps and seal time, signed again as a keyframe that
// decodes on its own, in place of the refused batch; at most once (a keyframe is not resealed); the
// batch after it is chained to the resealed one; a restart resends the resealed bytes unchanged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Spool } from '../../agent/spool.js';
import { asSentSockets, readTraceSamples } from '../../bench/payload-sizes.js';
import { quantizeSample } from '../../agent/quantize.js';
import { generateAgentKeys, sha256, signBytes, verifySignature } from '../../proto/chain.js';
import { assay, encodeSample } from '../../proto/codec.js';
import { lastFrame, payloadChained, payloadFrames } from '../../proto/payload.js';
import { tempDir } from '../helpers/env.js';

const keys = generateAgentKeys();
const sign = (h: Uint8Array): Uint8Array => signBytes(keys, h);
const header = (b: { header: Uint8Array }): assay.v1.BatchHeader => assay.v1.BatchHeader.decode(b.header);
const real = readTraceSamples('bench/data/server-host.trace.ndjson.gz').slice(0, 20).map((s) => encodeSample(asSentSockets(quantizeSample(s))));

test('a chained batch sealed again as a keyframe keeps its samples, seqs, prev_hash, gaps and seal time; once; and the chain goes on from it', () => {
  const tmp = tempDir();
  try {
    let s = new Spool(tmp.dir);
    for (let i = 0; i < 5; i++) s.push(10_000 + i, real[i]!);
    const k = s.nextBatch('agent-1', 5, sign, 10_010)!;
    assert.equal(payloadChained(k.encoding, k.payload), false);
    assert.ok(s.ackBatch(k.hash));
    // A sample over the frame limit (a gap in the next header), then five more.
    s.push(10_100, new Uint8Array(real.reduce((m, r) => Math.max(m, r.length), 0) + 1));
    for (let i = 5; i < 10; i++) s.push(10_100 + i, real[i]!);
    const limit = real.slice(5, 10).reduce((a, r) => a + r.length, 0);
    const c = s.nextBatch('agent-1', 5, sign, 10_200, limit)!;
    assert.ok(payloadChained(c.encoding, c.payload));
    const ch = header(c);
    assert.equal(ch.gaps?.length, 1);

    assert.equal(s.resealKeyframe(sign), true);
    const r = s.nextBatch('agent-1', 5, sign, 99_999, limit)!;
    const rh = header(r);
    assert.equal(payloadChained(r.encoding, r.payload), false, 'a keyframe');
    assert.notDeepEqual(Buffer.from(r.hash), Buffer.from(c.hash));
    assert.ok(verifySignature(keys.publicKey, r.header, r.signature));
    assert.deepEqual(Buffer.from(rh.payloadDigest), sha256(r.payload));
    assert.deepEqual(rh.seqs.map(Number), ch.seqs.map(Number));
    assert.deepEqual(Buffer.from(rh.prevHash), Buffer.from(ch.prevHash));
    assert.deepEqual(Buffer.from(rh.prevHash), Buffer.from(k.hash));
    assert.deepEqual(assay.v1.BatchHeader.toObject(rh).gaps, assay.v1.BatchHeader.toObject(ch).gaps);
    assert.equal(Number(rh.sealedMs), Number(ch.sealedMs));
    assert.equal(rh.agentId, ch.agentId);
    const frames = payloadFrames(r.encoding, r.payload);
    assert.deepEqual(frames.map((f) => Buffer.from(f)), real.slice(5, 10).map((x) => Buffer.from(x)));
    // Once: the keyframe is not resealed again.
    assert.equal(s.resealKeyframe(sign), false);
    // A restart resends exactly the resealed bytes.
    s.close();
    s = new Spool(tmp.dir);
    const again = s.nextBatch('agent-1', 5, sign, 123_456, limit)!;
    assert.deepEqual(Buffer.from(again.header), Buffer.from(r.header));
    assert.deepEqual(Buffer.from(again.payload!), Buffer.from(r.payload!));
    assert.ok(s.ackBatch(again.hash));
    s.close();

    // Without a restart, the batch after the resealed one is chained to it.
    const t2 = tempDir();
    try {
      const s2 = new Spool(t2.dir);
      for (let i = 0; i < 5; i++) s2.push(10_000 + i, real[i]!);
      s2.ackBatch(s2.nextBatch('agent-1', 5, sign, 10_010)!.hash);
      for (let i = 5; i < 10; i++) s2.push(10_100 + i, real[i]!);
      s2.nextBatch('agent-1', 5, sign, 10_200);
      assert.ok(s2.resealKeyframe(sign));
      const r2 = s2.nextBatch('agent-1', 5, sign, 10_300)!;
      assert.ok(s2.ackBatch(r2.hash));
      for (let i = 10; i < 15; i++) s2.push(10_300 + i, real[i]!);
      const n = s2.nextBatch('agent-1', 5, sign, 10_400)!;
      assert.deepEqual(Buffer.from(header(n).prevHash), Buffer.from(r2.hash));
      assert.ok(payloadChained(n.encoding, n.payload));
      const prior = lastFrame(payloadFrames(r2.encoding, r2.payload));
      assert.deepEqual(payloadFrames(n.encoding, n.payload, undefined, undefined, prior).map((f) => Buffer.from(f)), real.slice(10, 15).map((x) => Buffer.from(x)));
      s2.close();
    } finally {
      t2.cleanup();
    }
  } finally {
    tmp.cleanup();
  }
});
