// Payload encoding 4 (BATCH_ENCODING_CHAINED, proto/payload.ts): a batch's first sample encoded
// against the last sample of the batch before, deflated with that sample as the dictionary. Every
// recorded trace comes back byte for byte through chains of batches; a chained payload read
// without its prior, or with another one, is refused (prior_missing, prior_mismatch), never
// misread; keyframes decode on their own; garbled chained payloads get a clear PayloadError.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { readTraceSamples, asSentSockets } from '../../bench/payload-sizes.js';
import { quantizeSample } from '../../agent/quantize.js';
import { encodeSample } from '../../proto/codec.js';
import { sha256 } from '../../proto/chain.js';
import { encodeColumnar } from '../../proto/columnar.js';
import { BatchEncoding, CHAIN_MAX_BATCHES, PayloadError, PRIOR_DIGEST_BYTES, decodePayload, encodePayload, lastFrame, payloadChained, payloadFrames } from '../../proto/payload.js';

const CHAINED = BatchEncoding.BATCH_ENCODING_CHAINED;
const COLUMNAR = BatchEncoding.BATCH_ENCODING_COLUMNAR;
const LIMIT = 64 * 1024 * 1024;

const traces = (dir: string): string[] => readdirSync(dir).filter((f) => /\.trace\.ndjson(\.gz)?$/.test(f)).sort().map((f) => join(dir, f));
const asSent = (file: string): Uint8Array[] => readTraceSamples(file).map((s) => encodeSample(asSentSockets(quantizeSample(s))));
const server = asSent('bench/data/server-host.trace.ndjson.gz');

/** Batches of `size` as the agent seals them: chained to the batch before, a keyframe every CHAIN_MAX_BATCHES. */
function chain(bytes: readonly Uint8Array[], size = 5): Array<{ samples: Uint8Array[]; payload: Buffer; prior: Uint8Array | null }> {
  const out: Array<{ samples: Uint8Array[]; payload: Buffer; prior: Uint8Array | null }> = [];
  let run = 0;
  for (let i = 0; i < bytes.length; i += size) {
    const samples = bytes.slice(i, i + size);
    const prior = out.length && run < CHAIN_MAX_BATCHES ? out.at(-1)!.samples.at(-1)! : null;
    const payload = encodePayload(samples, CHAINED, prior);
    run = payloadChained(CHAINED, payload) ? run + 1 : 1;
    out.push({ samples, payload, prior: payloadChained(CHAINED, payload) ? prior : null });
  }
  return out;
}

test('every recorded trace round-trips byte for byte through chains of batches, each decoded with the last frame of the one before; chained batches cost less', () => {
  const files = [...traces('bench/data'), ...traces('test/corpus'), ...traces('test/corpus/synthetic'), ...traces('bench/heldout')];
  assert.ok(files.length >= 30, `${files.length} traces`);
  for (const file of files) {
    const bytes = file.includes('server-host') ? server : asSent(file);
    const batches = chain(bytes);
    let prior: Uint8Array | null = null;
    let b3 = 0;
    let b4 = 0;
    for (const [n, b] of batches.entries()) {
      // The reader's prior is what the frames of the batch before gave it, not the writer's copy.
      const back = payloadFrames(CHAINED, b.payload, LIMIT, b.samples.length, payloadChained(CHAINED, b.payload) ? prior : null);
      assert.equal(back.length, b.samples.length, `${file} batch ${n}`);
      back.forEach((x, i) => assert.ok(x.equals(Buffer.from(b.samples[i]!)), `${file} batch ${n}: sample ${i + 1} differs after the round trip`));
      prior = lastFrame(back);
      b4 += b.payload.length;
      b3 += encodePayload(b.samples, COLUMNAR).length;
    }
    // Keyframes are encoding 3 plus one byte; chained batches never cost more than a few bytes above it.
    assert.ok(b4 <= b3 * 1.02 + batches.length, `${file}: encoding 4 ${b4} B vs encoding 3 ${b3} B`);
    // Measured (bench/payload-columnar.ts): 672 against 940 B/sample on the server trace.
    if (file.includes('server-host')) assert.ok(b4 < b3 * 0.8, `server trace: encoding 4 ${b4} B vs encoding 3 ${b3} B`);
  }
});

test('a keyframe decodes on its own; the first batch, a batch after CHAIN_MAX_BATCHES, and a batch given no prior are keyframes', () => {
  const batches = chain(server.slice(0, 5 * (CHAIN_MAX_BATCHES + 2)));
  const kinds = batches.map((b) => payloadChained(CHAINED, b.payload));
  assert.deepEqual(kinds, [false, ...Array<boolean>(CHAIN_MAX_BATCHES - 1).fill(true), false, true]);
  const k = batches[CHAIN_MAX_BATCHES]!;
  assert.equal(payloadFrames(CHAINED, k.payload, LIMIT).length, 5);
  // A prior given for a keyframe is not needed and not used.
  assert.equal(payloadFrames(CHAINED, k.payload, LIMIT, 5, server[0]!).length, 5);
  assert.equal(payloadChained(CHAINED, encodePayload(server.slice(0, 5), CHAINED, null)), false);
  // Other encodings are never chained, whatever their first byte.
  assert.equal(payloadChained(COLUMNAR, Buffer.of(1, 2, 3)), false);
});

test('a chained payload without its prior is refused as prior_missing, with another sample as prior_mismatch: never decoded into other samples', () => {
  const batches = chain(server.slice(0, 20));
  const b = batches[2]!;
  assert.ok(payloadChained(CHAINED, b.payload));
  assert.throws(() => payloadFrames(CHAINED, b.payload, LIMIT), (e: unknown) => e instanceof PayloadError && e.reason === 'prior_missing' && /last sample of the batch before/.test(e.message));
  for (const other of [server[0]!, batches[0]!.samples.at(-1)!, new Uint8Array(0)]) {
    assert.throws(() => decodePayload(CHAINED, b.payload, LIMIT, undefined, Infinity, other), (e: unknown) => e instanceof PayloadError && e.reason === 'prior_mismatch');
  }
});

test('a prior the columns cannot take apart makes a keyframe; a garbled or truncated chained payload gets a clear PayloadError', () => {
  // Not protobuf: the codec cannot refer to it, so the batch decodes on its own.
  const p = encodePayload(server.slice(0, 5), CHAINED, Buffer.from([0xff, 0xff, 0xff]));
  assert.equal(payloadChained(CHAINED, p), false);
  assert.equal(payloadFrames(CHAINED, p, LIMIT).length, 5);

  const b = chain(server.slice(0, 10))[1]!;
  const prior = b.prior!;
  const reasons = new Set<string>();
  let accepted = 0;
  const expectRefused = (bytes: Uint8Array, what: string, always = true): void => {
    try {
      payloadFrames(CHAINED, bytes, LIMIT, 5, prior);
    } catch (e) {
      assert.ok(e instanceof PayloadError, `${what}: ${(e as Error).name}: ${(e as Error).message}`);
      reasons.add(e.reason);
      return;
    }
    // A flipped byte may still inflate to columns that rebuild samples (the signed payload digest refuses those long before a reader sees them).
    assert.ok(!always, `${what}: accepted`);
    accepted++;
  };
  expectRefused(Buffer.alloc(0), 'empty');
  expectRefused(Buffer.of(7), 'unknown kind');
  expectRefused(b.payload.subarray(0, 5), 'cut inside the prior digest');
  for (let cut = 1 + PRIOR_DIGEST_BYTES; cut < b.payload.length; cut += 97) expectRefused(b.payload.subarray(0, cut), `cut at ${cut}`);
  let seed = 7;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let i = 0; i < 300; i++) {
    const g = Buffer.from(b.payload);
    g[1 + PRIOR_DIGEST_BYTES + rand(g.length - 1 - PRIOR_DIGEST_BYTES)] ^= 1 + rand(255);
    expectRefused(g, `flip ${i}`, false);
  }
  assert.ok(accepted < 100, `${accepted} of 300 flipped payloads decoded (34 when written)`);
  assert.ok(reasons.has('bad_payload'), [...reasons].join(','));
  // A keyframe's columns dressed up as chained (and the reverse) are refused, not half-read.
  const key = chain(server.slice(0, 5))[0]!.payload;
  const forged = Buffer.concat([Buffer.of(1), sha256(prior).subarray(0, PRIOR_DIGEST_BYTES), deflateRawSync(encodeColumnar(server.slice(5, 10)), { dictionary: prior })]);
  assert.throws(() => payloadFrames(CHAINED, forged, LIMIT, 5, prior), (e: unknown) => e instanceof PayloadError && /do not refer to a prior/.test(e.message));
  assert.equal(payloadFrames(CHAINED, key, LIMIT).length, 5);
});

test('a chained payload that inflates beyond the bound is refused as payload_too_large', () => {
  const prior = server[0]!;
  const bomb = Buffer.concat([Buffer.of(1), sha256(prior).subarray(0, PRIOR_DIGEST_BYTES), deflateRawSync(Buffer.alloc(8 * 1024 * 1024), { dictionary: prior })]);
  assert.ok(bomb.length < 20_000, `${bomb.length} B`);
  assert.throws(() => payloadFrames(CHAINED, bomb, 1024 * 1024, 5, prior), (e: unknown) => e instanceof PayloadError && e.reason === 'payload_too_large');
});
