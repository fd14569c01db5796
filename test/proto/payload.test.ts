// Schema-3 batch payloads (proto/payload.ts) on real recorded samples: delta encoding gives back
// exactly the samples the agent took, under both compressions (brotli, what agents send now, and
// raw deflate, what the first schema-3 agents sent and collectors still read); a payload that
// refers outside itself or inflates without bound is refused with a clear error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brotliCompressSync, deflateRawSync } from 'node:zlib';
import { readTraceSamples } from '../../bench/payload-sizes.js';
import { quantizeSample } from '../../agent/quantize.js';
import { assay, encodeSample } from '../../proto/codec.js';
import {
  BatchEncoding,
  PayloadError,
  decodePayload,
  deltaEncode,
  encodePayload,
  frameSamples,
  payloadFrames,
  payloadSampleBytes,
} from '../../proto/payload.js';

const TRACE = 'bench/data/server-host.trace.ndjson.gz';
const DEFLATE = BatchEncoding.BATCH_ENCODING_DEFLATE;
const BROTLI = BatchEncoding.BATCH_ENCODING_BROTLI;
const recorded = readTraceSamples(TRACE).map(quantizeSample).map(encodeSample);

test('delta encoding round-trips real recorded samples byte for byte, in batches of 5 and 60, brotli and deflate', () => {
  assert.ok(recorded.length >= 300, `${recorded.length} recorded samples`);
  for (const size of [5, 60]) {
    let deltaBytes = 0;
    let fullBytes = 0;
    const compressed = new Map<number, number>([[BROTLI, 0], [DEFLATE, 0]]);
    for (let i = 0; i < recorded.length; i += size) {
      const batch = recorded.slice(i, i + size);
      for (const encoding of [BROTLI, DEFLATE]) {
        const payload = encodePayload(batch, encoding);
        compressed.set(encoding, compressed.get(encoding)! + payload.length);
        const back = payloadSampleBytes(encoding, payload);
        assert.equal(back.length, batch.length);
        back.forEach((b, j) => assert.ok(Buffer.from(b).equals(Buffer.from(batch[j]!)), `encoding ${encoding}, batch of ${size} at ${i}: sample ${j} differs after the round trip`));
        // Each compression is its own format: reading one as the other fails, it never misreads.
        assert.throws(() => payloadSampleBytes(encoding === BROTLI ? DEFLATE : BROTLI, payload), PayloadError);
      }
      const frames = deltaEncode(batch);
      assert.ok(Buffer.from(frames[0]!).equals(Buffer.from(batch[0]!)), 'the first sample of a payload is complete');
      deltaBytes += frames.slice(1).reduce((a, f) => a + f.length, 0);
      fullBytes += batch.slice(1).reduce((a, f) => a + f.length, 0);
    }
    // Real samples repeat most of their processes and sockets: the runs must carry that.
    assert.ok(deltaBytes < fullBytes / 3, `batches of ${size}: delta-encoded samples ${deltaBytes} B vs ${fullBytes} B complete`);
    // Brotli is why encoding 2 exists: it must stay smaller than deflate on real samples.
    assert.ok(compressed.get(BROTLI)! < compressed.get(DEFLATE)! * 0.95, `batches of ${size}: brotli ${compressed.get(BROTLI)} B vs deflate ${compressed.get(DEFLATE)} B`);
  }
});

test('the default payload is chained value-coded columnar (encoding 5), a keyframe without a prior; chained columnar (4), a keyframe of which is columnar (3) behind one byte, 3, brotli (2) and an old raw-deflate payload (1) still decode', () => {
  const batch = recorded.slice(100, 105);
  assert.ok(encodePayload(batch).equals(encodePayload(batch, BatchEncoding.BATCH_ENCODING_CHAINED_VALUES)));
  payloadSampleBytes(BatchEncoding.BATCH_ENCODING_CHAINED_VALUES, encodePayload(batch)).forEach((b, j) => assert.ok(Buffer.from(b).equals(Buffer.from(batch[j]!))));
  assert.ok(encodePayload(batch, BatchEncoding.BATCH_ENCODING_CHAINED).subarray(1).equals(encodePayload(batch, BatchEncoding.BATCH_ENCODING_COLUMNAR)), 'a keyframe of encoding 4 is encoding 3 behind one byte');
  payloadSampleBytes(BatchEncoding.BATCH_ENCODING_CHAINED, encodePayload(batch, BatchEncoding.BATCH_ENCODING_CHAINED)).forEach((b, j) => assert.ok(Buffer.from(b).equals(Buffer.from(batch[j]!))));
  payloadSampleBytes(BatchEncoding.BATCH_ENCODING_COLUMNAR, encodePayload(batch, BatchEncoding.BATCH_ENCODING_COLUMNAR)).forEach((b, j) => assert.ok(Buffer.from(b).equals(Buffer.from(batch[j]!))));
  payloadSampleBytes(BROTLI, encodePayload(batch, BROTLI)).forEach((b, j) => assert.ok(Buffer.from(b).equals(Buffer.from(batch[j]!))));
  // What a schema-3 agent from before brotli signed: raw deflate of the same framed delta samples.
  const old = deflateRawSync(frameSamples(deltaEncode(batch)), { level: 9, memLevel: 9 });
  assert.ok(old.equals(encodePayload(batch, DEFLATE)));
  payloadSampleBytes(DEFLATE, old).forEach((b, j) => assert.ok(Buffer.from(b).equals(Buffer.from(batch[j]!))));
  assert.throws(() => encodePayload(batch, BatchEncoding.BATCH_ENCODING_SAMPLES), /has no compressed payload/);
});

test('runs keep order and duplicates: a reordered list and a repeated socket come back as they were', () => {
  const base = assay.v1.Sample.decode(recorded[10]!);
  const next = assay.v1.Sample.decode(recorded[11]!);
  next.processes = [...next.processes].reverse();
  next.sockets = [next.sockets[0]!, ...next.sockets, next.sockets[0]!];
  const batch = [encodeSample(base), encodeSample(next)];
  const back = payloadSampleBytes(BROTLI, encodePayload(batch, BROTLI));
  assert.ok(Buffer.from(back[1]!).equals(Buffer.from(batch[1]!)));
});

test('a payload whose runs point nowhere is refused as bad_payload', () => {
  const first = assay.v1.Sample.decode(recorded[0]!);
  const withRuns = (s: assay.v1.ISample): Buffer => deflateRawSync(frameSamples([encodeSample(s)]));
  const cases: Array<[string, Buffer, RegExp]> = [
    ['runs in the first sample', withRuns({ ...first, processRuns: [1, 1] }), /refers to a previous sample/],
    ['a run beyond the previous sample', deflateRawSync(frameSamples([recorded[0]!, encodeSample({ tsMs: 2, processes: [], processRuns: [60, 10] })])), /beyond the/],
    ['runs that leave entries unplaced', deflateRawSync(frameSamples([recorded[0]!, encodeSample({ tsMs: 2, processes: [{ pid: 1 }, { pid: 2 }], processRuns: [0, 1] })])), /not placed/],
    ['not deflate data', Buffer.from('not deflate at all'), /not raw deflate data/],
    ['truncated framing', deflateRawSync(Buffer.from([0, 0, 1, 0, 1, 2])), /truncated sample/],
  ];
  for (const [what, payload, why] of cases) {
    assert.throws(() => decodePayload(DEFLATE, payload, 1 << 24), (e: unknown) => e instanceof PayloadError && e.reason === 'bad_payload' && why.test(e.message), what);
  }
  const brotli: Array<[string, Buffer, RegExp]> = [
    ['runs in the first sample', brotliCompressSync(frameSamples([encodeSample({ ...first, processRuns: [1, 1] })])), /refers to a previous sample/],
    ['not brotli data', Buffer.from('not brotli at all'), /not brotli data/],
    ['truncated brotli', encodePayload(recorded.slice(0, 2), BROTLI).subarray(0, 40), /not brotli data/],
    ['truncated framing', brotliCompressSync(Buffer.from([0, 0, 1, 0, 1, 2])), /truncated sample/],
  ];
  for (const [what, payload, why] of brotli) {
    assert.throws(() => decodePayload(BROTLI, payload, 1 << 24), (e: unknown) => e instanceof PayloadError && e.reason === 'bad_payload' && why.test(e.message), `brotli: ${what}`);
  }
});

test('a zip bomb is refused by the inflation bound, without inflating it whole', () => {
  // 64 MiB of zeros framed as one huge sample deflates to about 64 KB.
  const huge = Buffer.alloc(64 * 1024 * 1024);
  const bomb = deflateRawSync(frameSamples([huge]), { level: 9 });
  assert.ok(bomb.length < 100_000, `bomb is ${bomb.length} bytes`);
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(
    () => decodePayload(DEFLATE, bomb, 4 * 1024 * 1024),
    (e: unknown) => e instanceof PayloadError && e.reason === 'payload_too_large' && /inflates to more than 4194304 bytes/.test(e.message),
  );
  assert.ok(process.memoryUsage().arrayBuffers - before < 32 * 1024 * 1024, 'the bomb was not inflated whole');
  // The same bound lets an honest payload through.
  assert.equal(payloadFrames(DEFLATE, encodePayload(recorded.slice(0, 5), DEFLATE), 4 * 1024 * 1024).length, 5);
});

test('a brotli bomb is refused by the same bound, without decompressing it whole', () => {
  const bomb = brotliCompressSync(frameSamples([Buffer.alloc(64 * 1024 * 1024)]));
  assert.ok(bomb.length < 1000, `bomb is ${bomb.length} bytes`);
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(
    () => decodePayload(BROTLI, bomb, 4 * 1024 * 1024),
    (e: unknown) => e instanceof PayloadError && e.reason === 'payload_too_large' && /inflates to more than 4194304 bytes/.test(e.message),
  );
  assert.ok(process.memoryUsage().arrayBuffers - before < 32 * 1024 * 1024, 'the bomb was not decompressed whole');
  assert.equal(payloadFrames(BROTLI, encodePayload(recorded.slice(0, 5), BROTLI), 4 * 1024 * 1024).length, 5);
});

test('a v2 batch payload is its framed samples, read without inflation', () => {
  const framed = frameSamples(recorded.slice(0, 3));
  assert.deepEqual(payloadSampleBytes(BatchEncoding.BATCH_ENCODING_SAMPLES, framed).map((b) => Buffer.from(b).length), recorded.slice(0, 3).map((b) => b.length));
  assert.throws(() => decodePayload(7, framed, 1 << 20), /unknown batch encoding 7/);
});
