// Payload encoding 3 (proto/columnar.ts inside brotli, proto/payload.ts): every recorded trace
// comes back byte for byte, so do samples the columns cannot carry (they travel whole); a
// garbled, truncated or hostile payload is refused with a clear PayloadError, never misread
// into an exception of another kind, and one that rebuilds beyond the bound is refused without
// being rebuilt.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { brotliCompressSync } from 'node:zlib';
import { readTraceSamples, asSentSockets } from '../../bench/payload-sizes.js';
import { quantizeSample } from '../../agent/quantize.js';
import { assay, encodeSample } from '../../proto/codec.js';
import { ColumnarError, columnarReadCache, decodeColumnar, encodeColumnar } from '../../proto/columnar.js';
import { BatchEncoding, PayloadError, decodePayload, encodePayload, payloadFrames } from '../../proto/payload.js';

const COLUMNAR = BatchEncoding.BATCH_ENCODING_COLUMNAR;
const BROTLI = BatchEncoding.BATCH_ENCODING_BROTLI;
const LIMIT = 64 * 1024 * 1024;

const traces = (dir: string): string[] => readdirSync(dir).filter((f) => /\.trace\.ndjson(\.gz)?$/.test(f)).sort().map((f) => join(dir, f));
const asSent = (file: string): Uint8Array[] => readTraceSamples(file).map((s) => encodeSample(asSentSockets(quantizeSample(s))));
const server = asSent('bench/data/server-host.trace.ndjson.gz');

function assertExact(batch: readonly Uint8Array[], what: string): Buffer {
  const payload = encodePayload(batch, COLUMNAR);
  const back = payloadFrames(COLUMNAR, payload, LIMIT);
  assert.equal(back.length, batch.length, `${what}: ${back.length} samples back for ${batch.length}`);
  back.forEach((b, i) => assert.ok(b.equals(Buffer.from(batch[i]!)), `${what}: sample ${i + 1} differs after the round trip`));
  return payload;
}

test('every recorded trace (bench/data, the corpus, held-out) round-trips byte for byte in batches of 5; on the server trace also 1, 2 and 60', () => {
  const files = [...traces('bench/data'), ...traces('test/corpus'), ...traces('test/corpus/synthetic'), ...traces('bench/heldout')];
  assert.ok(files.length >= 30, `${files.length} traces`);
  for (const file of files) {
    const bytes = file.includes('server-host') ? server : asSent(file);
    let b2 = 0;
    let b3 = 0;
    for (let i = 0; i < bytes.length; i += 5) {
      const batch = bytes.slice(i, i + 5);
      b3 += assertExact(batch, `${file} batch at ${i}`).length;
      b2 += encodePayload(batch, BROTLI).length;
    }
    // Measured (bench/payload-columnar.ts): never more than a few bytes a batch above encoding 2.
    assert.ok(b3 <= b2 * 1.02, `${file}: encoding 3 ${b3} B vs encoding 2 ${b2} B`);
    if (file.includes('server-host')) assert.ok(b3 < b2 * 0.93, `server trace: encoding 3 ${b3} B vs encoding 2 ${b2} B (measured 10 % less)`);
  }
  for (const size of [1, 2, 60]) for (let i = 0; i < server.length; i += size) assertExact(server.slice(i, i + size), `server trace, batch of ${size} at ${i}`);
  // The samples as decodePayload gives them are the ones encoded.
  const batch = server.slice(200, 205);
  decodePayload(COLUMNAR, encodePayload(batch, COLUMNAR), LIMIT).forEach((s, i) => assert.ok(Buffer.from(encodeSample(s)).equals(Buffer.from(batch[i]!))));
});

/** Bytes of a protobuf field. */
const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n > 127) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
const ld = (field: number, body: Uint8Array | number[]): Buffer => Buffer.from([...varint(field * 8 + 2), ...varint(body.length), ...body]);
const proc = (p: assay.v1.IProcess): Uint8Array => assay.v1.Process.encode(p).finish();

test('samples the columns cannot carry exactly travel whole, and every one comes back byte for byte', () => {
  const base = assay.v1.Sample.decode(server[10]!);
  const plain = Buffer.from(encodeSample(base));
  const p1 = proc({ pid: 7, name: 'a', cpuPct: 1.5, rssBytes: 4096 });
  const odd: Array<[string, Buffer]> = [
    ['processes interleaved with another field', Buffer.concat([ld(9, p1), Buffer.from([0x08, 0x01]), ld(9, p1)])],
    ['sockets before processes', Buffer.concat([ld(10, assay.v1.Socket.encode({ protocol: 'tcp', inode: 9 }).finish()), ld(9, p1)])],
    ['a process with a non-minimal varint', Buffer.concat([ld(9, [0x08, 0x87, 0x00])])],
    ['a process with fields out of order', Buffer.concat([ld(9, [0x18, 0x01, 0x08, 0x07])])],
    ['a process with a field twice', Buffer.concat([ld(9, [0x08, 0x07, 0x08, 0x08])])],
    ['a process with a 10-byte varint (negative int)', Buffer.concat([ld(9, [0x08, ...Array(9).fill(0xff), 0x01])])],
    ['a process with a group', Buffer.concat([ld(9, [0x0b, 0x0c])])],
    ['a process that is not protobuf', Buffer.concat([ld(9, [0xff, 0xff])])],
    ['not protobuf at all', Buffer.from('this is not a sample')],
    ['empty', Buffer.alloc(0)],
    ['a process with unknown fields of every wire type', Buffer.concat([ld(9, [0x08, 0x07, 0xa9, 0x1f, 1, 2, 3, 4, 5, 6, 7, 8, 0xb2, 0x1f, 2, 0x61, 0x62, 0xbd, 0x1f, 1, 2, 3, 4])])],
    ['an empty process entry', Buffer.concat([ld(9, []), ld(9, p1)])],
  ];
  for (const [what, sample] of odd) {
    for (const batch of [[sample], [plain, sample, plain], [sample, sample], [plain, sample]]) assertExact(batch, what);
  }
  assertExact([], 'an empty batch');
  // More distinct fields over a batch's entries than a reader takes as columns (4,096): the list stays row-wise, exact.
  const wide = encodeSample({ tsMs: 1 });
  const manyFields = Buffer.concat([
    Buffer.from(wide),
    ...Array.from({ length: 80 }, (_, i) => ld(9, Array.from({ length: 60 }, (_, k) => [...varint((100 + i * 60 + k) * 8), 1]).flat())),
  ]);
  assertExact([manyFields, manyFields], 'entries with 4,800 distinct fields');
  // A list shorter than COLUMNAR_MIN_ENTRIES stays in the rest; one above it is taken apart; both exact.
  const few = encodeSample({ tsMs: 1, processes: [{ pid: 1, name: 'x' }] });
  assertExact([few, few], 'a short list');
  assert.ok(Buffer.from(encodeColumnar([few], undefined, 0)).length !== Buffer.from(encodeColumnar([few])).length, 'the threshold changes the layout');
  assert.deepEqual(decodeColumnar(encodeColumnar([few, plain, few], undefined, 0), LIMIT).map((b) => Buffer.from(b)), [few, plain, few].map((b) => Buffer.from(b)));
});

test('a garbled or truncated payload is refused with a clear PayloadError (bad_payload), never another exception', () => {
  const batch = server.slice(40, 45);
  const container = Buffer.from(encodeColumnar(batch));
  let refused = 0;
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const attempt = (bytes: Uint8Array, what: string): void => {
    try {
      const out = decodeColumnar(bytes, LIMIT);
      // A change can still make a well-formed container (its samples are then other bytes, which the signed digest catches).
      assert.ok(Array.isArray(out), what);
    } catch (err) {
      assert.ok(err instanceof ColumnarError, `${what}: ${(err as Error).name}: ${(err as Error).message}`);
      assert.ok(err.message.length > 10, what);
      refused++;
    }
  };
  // Truncations (the container has no slack: every one is refused).
  let truncations = 0;
  for (let n = 0; n < container.length; n += Math.max(1, Math.floor(container.length / 600))) {
    attempt(container.subarray(0, n), `truncated to ${n} bytes`);
    truncations++;
  }
  assert.equal(refused, truncations, 'every truncation refused');
  // Flipped bytes, single and several.
  for (let i = 0; i < 1500; i++) {
    const g = Buffer.from(container);
    const flips = 1 + rand(4);
    for (let k = 0; k < flips; k++) g[rand(g.length)] = rand(256);
    attempt(g, `garbled (${i})`);
  }
  // Most flipped bytes fall in values, where any byte is a value (the signed digest, not the
  // format, tells them apart); the structure's checks catch the rest.
  assert.ok(refused > truncations + 100, `${refused - truncations} of 1500 garbled containers refused`);
  const refusedBefore = refused;
  attempt(Buffer.concat([container, Buffer.from([0])]), 'a byte appended');
  assert.equal(refused, refusedBefore + 1, 'a byte appended is refused');
  // Through the payload path: a clear reason, as bad_payload.
  const cases: Array<[string, Buffer, RegExp]> = [
    ['not brotli', Buffer.from('not brotli at all'), /not brotli data/],
    ['truncated brotli', encodePayload(batch, COLUMNAR).subarray(0, 50), /not brotli data/],
    ['a truncated container', brotliCompressSync(container.subarray(0, container.length - 3)), /encoding 3.*(ends inside|left over|exceeds)/],
    ['another version', brotliCompressSync(Buffer.concat([Buffer.from([2]), container.subarray(1)])), /encoding 3.*version 2/],
    ['a frame of deflate-style framed samples', brotliCompressSync(Buffer.from([0, 0, 0, 2, 8, 1])), /encoding 3/],
  ];
  for (const [what, payload, why] of cases) {
    assert.throws(() => decodePayload(COLUMNAR, payload, LIMIT), (e: unknown) => e instanceof PayloadError && e.reason === 'bad_payload' && why.test(e.message), what);
  }
  // More samples than the signed header lists: refused before any is rebuilt.
  assert.throws(() => payloadFrames(COLUMNAR, encodePayload(batch, COLUMNAR), LIMIT, 4), (e: unknown) => e instanceof PayloadError && e.reason === 'bad_payload' && /holds 5 samples, more than the 4/.test(e.message));
  assert.equal(payloadFrames(COLUMNAR, encodePayload(batch, COLUMNAR), LIMIT, 5).length, 5);
  for (let i = 0; i < 300; i++) {
    const g = Buffer.from(container);
    g[rand(g.length)] ^= 1 << rand(8);
    try {
      payloadFrames(COLUMNAR, brotliCompressSync(g), LIMIT);
    } catch (err) {
      assert.ok(err instanceof PayloadError && err.reason === 'bad_payload', `${(err as Error).name}: ${(err as Error).message}`);
    }
  }
});

test('a payload that rebuilds beyond the bound (one large entry repeated) is refused as payload_too_large without rebuilding it', () => {
  const big = { pid: 1, name: 'x'.repeat(1024 * 1024) };
  const first = encodeSample({ tsMs: 1, processes: [big] });
  const second = encodeSample({ tsMs: 2, processes: Array.from({ length: 64 }, () => big) });
  const payload = encodePayload([first, second], COLUMNAR);
  assert.ok(payload.length < 64 * 1024, `payload is ${payload.length} bytes`);
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(
    () => payloadFrames(COLUMNAR, payload, 4 * 1024 * 1024),
    (e: unknown) => e instanceof PayloadError && e.reason === 'payload_too_large' && /rebuilds to more than 4194304 bytes/.test(e.message),
  );
  assert.ok(process.memoryUsage().arrayBuffers - before < 32 * 1024 * 1024, 'not rebuilt whole');
  // Within a bound that holds it, it is exact.
  const back = payloadFrames(COLUMNAR, payload, 128 * 1024 * 1024);
  assert.ok(back[1]!.equals(Buffer.from(second)));
});

test('what the reader keeps of shapes from batch to batch is bounded: batches of ever new shapes never grow it past its limit (plus one batch)', () => {
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return Math.floor(seed / 65536) % n; // the high bits: an LCG's low bits repeat
  };
  // Process entries (field 9) each with its own random set of fields (numbers 30 to 60, the
  // codec reads any): about a thousand new shapes a batch.
  const entry = (): number[] => {
    const out: number[] = [];
    for (let f = 30; f <= 60; f++) if (rand(2)) out.push(...varint(f * 8), 1);
    return out;
  };
  const sample = (ts: number): Buffer => Buffer.from([0x08, ts, ...Array.from({ length: 200 }, () => entry()).flatMap((e) => [0x4a, ...varint(e.length), ...e])]);
  const { limit } = columnarReadCache();
  let most = 0;
  let dropped = false;
  for (let b = 0; b < 40; b++) {
    const batch = Array.from({ length: 5 }, (_, s) => sample(1 + s));
    const container = encodeColumnar(batch);
    const before = columnarReadCache().shapes;
    assert.deepEqual(decodeColumnar(container, LIMIT).map((x) => Buffer.from(x)), batch.map((x) => Buffer.from(x)), `batch ${b} exact`);
    const now = columnarReadCache().shapes;
    if (now < before) dropped = true;
    most = Math.max(most, now);
  }
  assert.ok(dropped, 'the cache was started afresh');
  assert.ok(most <= limit + 5 * 200 + 64, `at most ${most} shapes held (limit ${limit})`);
});
