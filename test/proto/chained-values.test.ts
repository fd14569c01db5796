// Payload encoding 5 (BATCH_ENCODING_CHAINED_VALUES, proto/payload.ts): encoding 4 with value-coded
// columns (proto/columnar.ts container versions 3 and 4). Every recorded trace comes back byte for
// byte through chains of batches, at fewer bytes than encoding 4; values the codec's rules do not
// reproduce (floats that are not whole ticks, doubles that are not whole numbers, -0, NaN, huge
// numbers, fields present with zero) come back bit for bit through escapes; the rule for CPU
// shares follows the agent's formula; each encoding reads only its own container versions; garbled
// value-coded containers are refused with a clear error, never misread into a crash.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { brotliCompressSync, deflateRawSync } from 'node:zlib';
import { readTraceSamples, asSentSockets } from '../../bench/payload-sizes.js';
import { quantizeSample } from '../../agent/quantize.js';
import { perSecond, round } from '../../agent/probes/util.js';
import { assay, encodeSample, type ISample } from '../../proto/codec.js';
import { sha256 } from '../../proto/chain.js';
import { COLUMNAR_LISTS, ColumnarError, decodeColumnar, encodeColumnar, ticksValue } from '../../proto/columnar.js';
import { AGENT_BATCH_ENCODING, BatchEncoding, CHAIN_MAX_BATCHES, PayloadError, PRIOR_DIGEST_BYTES, encodePayload, isChainedEncoding, lastFrame, payloadChained, payloadFrames } from '../../proto/payload.js';

const CHAINED = BatchEncoding.BATCH_ENCODING_CHAINED;
const VALUES = BatchEncoding.BATCH_ENCODING_CHAINED_VALUES;
const COLUMNAR = BatchEncoding.BATCH_ENCODING_COLUMNAR;
const LIMIT = 64 * 1024 * 1024;

const traces = (dir: string): string[] => readdirSync(dir).filter((f) => /\.trace\.ndjson(\.gz)?$/.test(f)).sort().map((f) => join(dir, f));
const asSent = (file: string): Uint8Array[] => readTraceSamples(file).map((s) => encodeSample(asSentSockets(quantizeSample(s))));
const server = asSent('bench/data/server-host.trace.ndjson.gz');

/** Batches of 5 as the agent seals them in `encoding`, each decoded with the last frame the reader had; returns the payload bytes. */
function roundTrip(bytes: readonly Uint8Array[], encoding: number, what: string): number {
  let run = 0;
  let writerPrior: Uint8Array | null = null;
  let readerPrior: Uint8Array | null = null;
  let total = 0;
  for (let i = 0; i < bytes.length; i += 5) {
    const samples = bytes.slice(i, i + 5);
    const payload = encodePayload(samples, encoding, run < CHAIN_MAX_BATCHES ? writerPrior : null);
    const chained = payloadChained(encoding, payload);
    run = chained ? run + 1 : 1;
    const back = payloadFrames(encoding, payload, LIMIT, samples.length, chained ? readerPrior : null);
    assert.equal(back.length, samples.length, `${what} batch ${i / 5}`);
    back.forEach((x, j) => assert.ok(x.equals(Buffer.from(samples[j]!)), `${what} batch ${i / 5}: sample ${j + 1} differs after the round trip`));
    readerPrior = lastFrame(back);
    writerPrior = samples.at(-1)!;
    total += payload.length;
  }
  return total;
}

test('the agent signs encoding 5, a chained encoding', () => {
  assert.equal(AGENT_BATCH_ENCODING, VALUES);
  assert.ok(isChainedEncoding(VALUES) && isChainedEncoding(CHAINED) && !isChainedEncoding(COLUMNAR));
});

test('every recorded trace round-trips byte for byte in encoding 5, in fewer bytes than encoding 4', () => {
  const files = [...traces('bench/data'), ...traces('test/corpus'), ...traces('test/corpus/synthetic'), ...traces('bench/heldout')];
  assert.ok(files.length >= 30, `${files.length} traces`);
  let b4 = 0;
  let b5 = 0;
  for (const file of files) {
    const bytes = file.includes('server-host') ? server : asSent(file);
    const v = roundTrip(bytes, VALUES, file);
    const c = roundTrip(bytes, CHAINED, file);
    // Per trace never more than a little above encoding 4 (the tick periods and column codes of a tiny trace).
    assert.ok(v <= c * 1.03 + 64, `${file}: encoding 5 ${v} B against encoding 4 ${c} B`);
    b4 += c;
    b5 += v;
    if (file.includes('server-host')) assert.ok(v < c * 0.99, `server trace: encoding 5 ${v} B against encoding 4 ${c} B`);
  }
  assert.ok(b5 < b4, `all traces: encoding 5 ${b5} B against encoding 4 ${b4} B`);
});

test('the CPU-share rule is the agent\'s formula: whole ticks over the interval, hundredths, float32', () => {
  for (const periodMs of [1, 250, 997, 1000, 1003, 5000, 60_000]) {
    for (let k = 0; k <= 5000; k += k < 300 ? 1 : 37) {
      const agent = Math.fround(round((100 * perSecond(k, 0, periodMs / 1000)) / 100, 2));
      assert.equal(ticksValue(k, periodMs), agent, `${k} ticks over ${periodMs} ms`);
    }
  }
});

/** A process with every numeric field set from `x` (0 leaves the field out, as protobuf does). */
const proc = (pid: number, cpuPct: number, rate: number, extra: Partial<assay.v1.IProcess> = {}): assay.v1.IProcess => ({
  pid,
  name: `p${pid}`,
  startTimeTicks: 1000 + pid,
  cpuPct,
  rssBytes: 4096 * pid,
  threads: 1,
  readBytesPerSec: rate,
  rcharPerSec: rate * 3,
  extended: true,
  minfltPerSec: rate / 2,
  voluntaryCtxswPerSec: rate,
  ...extra,
});

test('values the rules do not reproduce come back bit for bit (escapes), in keyframes and against a prior', () => {
  const odd: number[] = [0.1, -0, NaN, -1, 1e-45, 3.4e38, Infinity, 0.3333333432674408, 12.34, 2 ** 60, -(2 ** 52), 2 ** 49, 2 ** 49 - 1, 0.5, 7];
  const samples: Uint8Array[] = [];
  for (let s = 0; s < 6; s++) {
    const processes: assay.v1.IProcess[] = [];
    for (let i = 0; i < 70; i++) {
      const x = odd[(i + s) % odd.length]!;
      // CPU shares: whole ticks over 1,000 ms for most, odd floats for some; rates: odd doubles for some, absent (0) for others.
      const cpu = i % 5 === 0 ? x : ticksValue((i * 7 + s) % 13, 1000);
      processes.push(proc(i + 1, cpu, i % 3 === 0 ? x : i % 3 === 1 ? 0 : (i * 1031 + s) % 4096, i % 7 === 0 ? { hugetlbBytes: 2 ** 49 - 1 - s, nice: -5 } : {}));
    }
    samples.push(encodeSample({ tsMs: 1_700_000_000_000 + s * 1000, processes }));
  }
  // A field present with the value zero (written explicitly): not what protobufjs writes, kept all the same.
  const zeroField = Buffer.concat([Buffer.from(samples[2]!), Buffer.from([0x4a, 4, 0x08, 0x01, 0x10, 0x00])]);
  const batch = [samples[0]!, samples[1]!, zeroField, ...samples.slice(3)];
  for (const prior of [null, samples[0]!]) {
    const container = encodeColumnar(batch, COLUMNAR_LISTS, 0, prior, true);
    assert.equal(container[0], prior ? 4 : 3);
    const back = decodeColumnar(container, LIMIT, Infinity, prior);
    assert.equal(back.length, batch.length);
    back.forEach((b, i) => assert.ok(Buffer.from(b).equals(Buffer.from(batch[i]!)), `sample ${i + 1} (prior ${prior ? 'given' : 'none'})`));
  }
  // Tick periods that no whole number of milliseconds gives (samples 1.5 s apart, shares at 0.37 ms): escapes, exact.
  const skewed = [0, 1, 2, 3, 4].map((s) => encodeSample({ tsMs: s, processes: Array.from({ length: 70 }, (_, i) => proc(i + 1, Math.fround((i * 100) / 1.00037 / 100), i)) }));
  const back = decodeColumnar(encodeColumnar(skewed, COLUMNAR_LISTS, 0, null, true), LIMIT);
  back.forEach((b, i) => assert.ok(Buffer.from(b).equals(Buffer.from(skewed[i]!)), `skewed sample ${i + 1}`));
  // Shares computed under another clock rate (USER_HZ 250) and a drifting interval: exact all the same.
  const hz250 = [0, 1, 2, 3, 4].map((s) => encodeSample({ tsMs: s * 1003, processes: Array.from({ length: 70 }, (_, i) => proc(i + 1, Math.fround(round((100 * perSecond((i * 13 + s) % 97, 0, (1000 + 3 * s) / 1000)) / 250, 2)), i)) }));
  const back250 = decodeColumnar(encodeColumnar(hz250, COLUMNAR_LISTS, 0, null, true), LIMIT);
  back250.forEach((b, i) => assert.ok(Buffer.from(b).equals(Buffer.from(hz250[i]!)), `USER_HZ 250 sample ${i + 1}`));
});

test('each encoding reads only its own container versions', () => {
  const batch = server.slice(10, 15);
  const prior = server[9]!;
  const brotli = (c: Uint8Array): Buffer => brotliCompressSync(c);
  const chainedPayload = (c: Uint8Array): Buffer => Buffer.concat([Buffer.of(1), sha256(prior).subarray(0, PRIOR_DIGEST_BYTES), deflateRawSync(c, { dictionary: prior })]);
  const plain = encodeColumnar(batch);
  const plainChained = encodeColumnar(batch, COLUMNAR_LISTS, undefined, prior);
  const values = encodeColumnar(batch, COLUMNAR_LISTS, undefined, null, true);
  const valuesChained = encodeColumnar(batch, COLUMNAR_LISTS, undefined, prior, true);
  const refused: Array<[string, number, Buffer, Uint8Array | null, RegExp]> = [
    ['encoding 3 with a value-coded container', COLUMNAR, brotli(values), null, /encoding 3\): columnar payload version 3, encoding 3 has 1/],
    ['encoding 4 keyframe with a value-coded container', CHAINED, Buffer.concat([Buffer.of(0), brotli(values)]), null, /encoding 4\): columnar payload version 3, encoding 4 has 1 and 2/],
    ['encoding 4 chained with a value-coded container', CHAINED, chainedPayload(valuesChained), prior, /encoding 4\): columnar payload version 4/],
    ['encoding 5 keyframe with a plain container', VALUES, Buffer.concat([Buffer.of(0), brotli(plain)]), null, /encoding 5\): columnar payload version 1, encoding 5 has 3 and 4/],
    ['encoding 5 chained with a plain chained container', VALUES, chainedPayload(plainChained), prior, /encoding 5\): columnar payload version 2/],
    ['encoding 5 keyframe whose columns refer to a prior', VALUES, Buffer.concat([Buffer.of(0), brotli(valuesChained)]), null, /encoding 5\): a keyframe whose columns refer to a prior/],
    ['encoding 5 chained whose columns refer to none', VALUES, chainedPayload(values), prior, /encoding 5\): chained, but its columns do not refer to a prior/],
  ];
  for (const [what, encoding, payload, p, message] of refused) {
    assert.throws(() => payloadFrames(encoding, payload, LIMIT, 5, p), (e: unknown) => e instanceof PayloadError && e.reason === 'bad_payload' && message.test(e.message), what);
  }
  // And the right pairs read.
  assert.equal(payloadFrames(VALUES, Buffer.concat([Buffer.of(0), brotli(values)]), LIMIT, 5).length, 5);
  assert.equal(payloadFrames(VALUES, chainedPayload(valuesChained), LIMIT, 5, prior).length, 5);
  // A chained payload of encoding 5 read without its prior, or with another one: refused, never misread.
  const sealed = encodePayload(batch, VALUES, prior);
  assert.ok(payloadChained(VALUES, sealed));
  assert.throws(() => payloadFrames(VALUES, sealed, LIMIT, 5, null), (e: unknown) => e instanceof PayloadError && e.reason === 'prior_missing');
  assert.throws(() => payloadFrames(VALUES, sealed, LIMIT, 5, server[8]!), (e: unknown) => e instanceof PayloadError && e.reason === 'prior_mismatch');
});

test('garbled value-coded containers: a ColumnarError or other samples, never another error', () => {
  let seed = 20261208;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const prior = server[199]!;
  const containers = [Buffer.from(encodeColumnar(server.slice(200, 205), COLUMNAR_LISTS, undefined, null, true)), Buffer.from(encodeColumnar(server.slice(200, 205), COLUMNAR_LISTS, undefined, prior, true))];
  let refused = 0;
  let read = 0;
  const started = Date.now();
  for (let i = 0; i < 1500 && Date.now() - started < 60_000; i++) {
    const withPrior = i % 2 === 1;
    const g = Buffer.from(containers[i % 2]!);
    for (let k = 1 + rand(4); k > 0; k--) {
      const at = rand(g.length);
      g[at] = rand(3) === 0 ? rand(256) : g[at]! ^ (1 << rand(8));
    }
    try {
      const back = decodeColumnar(g, 4 * 1024 * 1024, 5, withPrior ? prior : null);
      // What a garbled container gives back still parses as samples or is told apart by the signed digest: here, it rebuilt.
      assert.ok(back.length <= 5);
      read++;
    } catch (e) {
      assert.ok(e instanceof ColumnarError, `garbled (${i}): ${(e as Error).stack}`);
      refused++;
    }
  }
  assert.ok(refused > 100 && read > 20, `${refused} refused, ${read} read`);
});

test('a sample whose figures change every second: fewer bytes in encoding 5 (CPU shares as ticks, presence with the values)', () => {
  const samples: Uint8Array[] = [];
  for (let s = 0; s < 5; s++) {
    const processes = Array.from({ length: 80 }, (_, i) => proc(i + 1, ticksValue((i * 31 + s * 7) % 9, 1000), (i + s) % 4 === 0 ? 0 : 2 ** ((i + s) % 20)));
    samples.push(encodeSample({ tsMs: s * 1000, processes } as ISample));
  }
  const v = encodePayload(samples, VALUES).length;
  const c = encodePayload(samples, CHAINED).length;
  assert.ok(v < c, `encoding 5 ${v} B against encoding 4 ${c} B`);
});
