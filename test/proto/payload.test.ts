// Schema-3 batch payloads (proto/payload.ts) on real recorded samples: delta encoding gives back
// exactly the samples the agent took, a payload that refers outside itself or inflates without
// bound is refused with a clear error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
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
const recorded = readTraceSamples(TRACE).map(quantizeSample).map(encodeSample);

test('delta encoding round-trips real recorded samples byte for byte, in batches of 5 and 60', () => {
  assert.ok(recorded.length >= 300, `${recorded.length} recorded samples`);
  for (const size of [5, 60]) {
    let deltaBytes = 0;
    let fullBytes = 0;
    for (let i = 0; i < recorded.length; i += size) {
      const batch = recorded.slice(i, i + size);
      const back = payloadSampleBytes(DEFLATE, encodePayload(batch));
      assert.equal(back.length, batch.length);
      back.forEach((b, j) => assert.ok(Buffer.from(b).equals(Buffer.from(batch[j]!)), `batch of ${size} at ${i}: sample ${j} differs after the round trip`));
      const frames = deltaEncode(batch);
      assert.ok(Buffer.from(frames[0]!).equals(Buffer.from(batch[0]!)), 'the first sample of a payload is complete');
      deltaBytes += frames.slice(1).reduce((a, f) => a + f.length, 0);
      fullBytes += batch.slice(1).reduce((a, f) => a + f.length, 0);
    }
    // Real samples repeat most of their processes and sockets: the runs must carry that.
    assert.ok(deltaBytes < fullBytes / 3, `batches of ${size}: delta-encoded samples ${deltaBytes} B vs ${fullBytes} B complete`);
  }
});

test('runs keep order and duplicates: a reordered list and a repeated socket come back as they were', () => {
  const base = assay.v1.Sample.decode(recorded[10]!);
  const next = assay.v1.Sample.decode(recorded[11]!);
  next.processes = [...next.processes].reverse();
  next.sockets = [next.sockets[0]!, ...next.sockets, next.sockets[0]!];
  const batch = [encodeSample(base), encodeSample(next)];
  const back = payloadSampleBytes(DEFLATE, encodePayload(batch));
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
  assert.equal(payloadFrames(DEFLATE, encodePayload(recorded.slice(0, 5)), 4 * 1024 * 1024).length, 5);
});

test('a v2 batch payload is its framed samples, read without inflation', () => {
  const framed = frameSamples(recorded.slice(0, 3));
  assert.deepEqual(payloadSampleBytes(BatchEncoding.BATCH_ENCODING_SAMPLES, framed).map((b) => Buffer.from(b).length), recorded.slice(0, 3).map((b) => b.length));
  assert.throws(() => decodePayload(7, framed, 1 << 20), /unknown batch encoding 7/);
});
