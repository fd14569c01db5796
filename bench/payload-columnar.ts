// Encodings 4 and 5 (chained; 5 with value-coded columns) beside them, and the ack path's read of
// 4 and 5 (payloadSamples + readLightSamples + the last sample rebuilt, as collector/ingest reads).
// Encoding 2 (brotli of the framed complete samples) against encoding 3 (brotli of their
// column-wise transposition, proto/columnar.ts) on recorded traces: bytes per sample, the agent's
// time to build a batch's payload and the collector's time to read it back into framed samples
// (proto/payload.ts payloadFrames), in CPU time of this process. Not a timed test: prints figures.
//
//   node dist/bench/payload-columnar.js [TRACE...] [--batch 5] [--rounds 3]
//
// Default traces: the recorded server host (bench/data) and every trace of the evaluation corpus
// (test/corpus, synthetic included) and bench/heldout. Samples are quantized and their sockets
// selected as the agent sends them now (bench/payload-sizes.ts). Times are CPU ms per batch of the
// cheapest of --rounds passes over the trace (warm: the first passes also compile); every payload is decoded again and
// compared byte for byte with the samples encoded (exit 1 if any differs).
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { encodeSample } from '../proto/codec.js';
import { BROTLI_LGWIN, BROTLI_QUALITY, BatchEncoding, CHAIN_MAX_BATCHES, encodePayload, lastSample, payloadChained, payloadFrames, payloadSamples } from '../proto/payload.js';
import { readLightSamples } from '../collector/ingest/light-sample.js';
import { COLUMNAR_LISTS, encodeColumnar } from '../proto/columnar.js';
import { quantizeSample } from '../agent/quantize.js';
import { asSentSockets, readTraceSamples } from './payload-sizes.js';

const BROTLI = BatchEncoding.BATCH_ENCODING_BROTLI;
const COLUMNAR = BatchEncoding.BATCH_ENCODING_COLUMNAR;
const CHAINED = BatchEncoding.BATCH_ENCODING_CHAINED;
const VALUES = BatchEncoding.BATCH_ENCODING_CHAINED_VALUES;

interface Row {
  name: string;
  samples: number;
  protobuf: number;
  b2: number;
  b3: number;
  /** encoding 4 (chained) as the spool seals it */
  b4: number;
  /** encoding 5 (chained, value-coded columns), the same way */
  b5: number;
  build5: number;
  read5: number;
  /** The ack path's read of a batch (columns, the last sample rebuilt), encodings 4 and 5. */
  ack4: number;
  ack5: number;
  build4: number;
  read4: number;
  /** encoding 3 with only the processes taken apart (sockets left in the rest): what the sockets' columns bring */
  procsOnly: number;
  build2: number;
  build3: number;
  read2: number;
  read3: number;
  exact: boolean;
}

/** CPU ms (user + system, this process) of the cheapest of `rounds` runs: on a shared machine wall time counts the others' load. */
function best(rounds: number, f: () => void): number {
  let min = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.cpuUsage();
    f();
    const t = process.cpuUsage(t0);
    min = Math.min(min, (t.user + t.system) / 1000);
  }
  return min;
}

function measure(name: string, file: string, batchSize: number, rounds: number): Row {
  const bytes = readTraceSamples(file).map((s) => encodeSample(asSentSockets(quantizeSample(s))));
  const batches: Uint8Array[][] = [];
  for (let i = 0; i < bytes.length; i += batchSize) batches.push(bytes.slice(i, i + batchSize));
  const p2 = batches.map((b) => encodePayload(b, BROTLI));
  const p3 = batches.map((b) => encodePayload(b, COLUMNAR));
  let exact = true;
  p3.forEach((p, i) => {
    const back = payloadFrames(COLUMNAR, p);
    const want = batches[i]!;
    if (back.length !== want.length || back.some((x, j) => !Buffer.from(x).equals(Buffer.from(want[j]!)))) exact = false;
  });
  // Encoding 4 as agent/spool.ts seals it: the prior is the last sample of the batch before, a keyframe every CHAIN_MAX_BATCHES.
  const priors = batches.map((_, i) => (i % CHAIN_MAX_BATCHES === 0 ? null : batches[i - 1]!.at(-1)!));
  const p4 = batches.map((b, i) => encodePayload(b, CHAINED, priors[i]));
  let readerPrior: Uint8Array | null = null;
  p4.forEach((p, i) => {
    const back = payloadFrames(CHAINED, p, undefined, undefined, payloadChained(CHAINED, p) ? readerPrior : null);
    const want = batches[i]!;
    if (back.length !== want.length || back.some((x, j) => !Buffer.from(x).equals(Buffer.from(want[j]!)))) exact = false;
    readerPrior = back.at(-1) ?? null;
  });
  // Encoding 5 (value-coded columns), chained the same way.
  const p5 = batches.map((b, i) => encodePayload(b, VALUES, priors[i]));
  readerPrior = null;
  p5.forEach((p, i) => {
    const back = payloadFrames(VALUES, p, undefined, undefined, payloadChained(VALUES, p) ? readerPrior : null);
    const want = batches[i]!;
    if (back.length !== want.length || back.some((x, j) => !Buffer.from(x).equals(Buffer.from(want[j]!)))) exact = false;
    readerPrior = back.at(-1) ?? null;
  });
  // The ack path's reading (collector/ingest: the columns read, only the last sample rebuilt as the next batch's prior).
  const ackRead = (encoding: number, ps: Buffer[]): number =>
    best(rounds, () =>
      ps.forEach((p, i) => {
        const read = payloadSamples(encoding, p, undefined, batches[i]!.length, payloadChained(encoding, p) ? batches[i - 1]!.at(-1)! : null);
        readLightSamples(read, batches[i]!.map((_, j) => i * batchSize + j + 1), true);
        lastSample(read);
      }),
    ) / ps.length;
  const procsOnly = batches.reduce((a, b) => a + brotliCompressSync(encodeColumnar(b, COLUMNAR_LISTS.slice(0, 1)), { params: { [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [constants.BROTLI_PARAM_LGWIN]: BROTLI_LGWIN } }).length, 0);
  const n = batches.length;
  return {
    name,
    samples: bytes.length,
    protobuf: bytes.reduce((a, b) => a + b.length, 0),
    b2: p2.reduce((a, p) => a + p.length, 0),
    b3: p3.reduce((a, p) => a + p.length, 0),
    b4: p4.reduce((a, p) => a + p.length, 0),
    b5: p5.reduce((a, p) => a + p.length, 0),
    build5: best(rounds, () => batches.forEach((b, i) => encodePayload(b, VALUES, priors[i]))) / n,
    read5: best(rounds, () => p5.forEach((p, i) => payloadFrames(VALUES, p, undefined, undefined, payloadChained(VALUES, p) ? batches[i - 1]!.at(-1)! : null))) / n,
    ack4: ackRead(CHAINED, p4),
    ack5: ackRead(VALUES, p5),
    build4: best(rounds, () => batches.forEach((b, i) => encodePayload(b, CHAINED, priors[i]))) / n,
    read4: best(rounds, () => p4.forEach((p, i) => payloadFrames(CHAINED, p, undefined, undefined, payloadChained(CHAINED, p) ? batches[i - 1]!.at(-1)! : null))) / n,
    procsOnly,
    build2: best(rounds, () => batches.forEach((b) => encodePayload(b, BROTLI))) / n,
    build3: best(rounds, () => batches.forEach((b) => encodePayload(b, COLUMNAR))) / n,
    read2: best(rounds, () => p2.forEach((p) => payloadFrames(BROTLI, p))) / n,
    read3: best(rounds, () => p3.forEach((p) => payloadFrames(COLUMNAR, p))) / n,
    exact,
  };
}

function defaultTraces(): string[] {
  const dir = (d: string): string[] => readdirSync(d).filter((f) => f.endsWith('.trace.ndjson')).sort().map((f) => join(d, f));
  return ['bench/data/server-host.trace.ndjson.gz', ...dir('test/corpus'), ...dir('test/corpus/synthetic'), ...dir('bench/heldout')];
}

function main(): void {
  const args = process.argv.slice(2);
  const flag = (name: string, dflt: string): string => {
    const i = args.indexOf(name);
    return i >= 0 ? args.splice(i, 2)[1]! : dflt;
  };
  const batchSize = Number(flag('--batch', '5'));
  const rounds = Number(flag('--rounds', '3'));
  const files = args.length ? args : defaultTraces();
  console.log(`batches of ${batchSize}; brotli quality ${BROTLI_QUALITY}, window 2^${BROTLI_LGWIN} for both; CPU ms per batch: best of ${rounds} passes; loadavg ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`${'trace'.padEnd(44)} ${'samples'.padStart(7)} ${'protobuf'.padStart(9)} ${'enc 2'.padStart(7)} ${'enc 3'.padStart(7)} ${'gain'.padStart(6)} ${'procs only'.padStart(10)} ${'enc 4'.padStart(7)} ${'enc 5'.padStart(7)}   build 2 / 3 / 4 / 5 ms    read 2 / 3 / 4 / 5 ms   ack read 4 / 5 ms  exact`);
  const rows: Row[] = [];
  for (const file of files) {
    const name = file.replace(/^.*\//, '').replace(/\.trace\.ndjson(\.gz)?$/, '');
    const r = measure(name, file, batchSize, rounds);
    rows.push(r);
    const per = (x: number): string => (x / r.samples).toFixed(0);
    console.log(
      `${name.padEnd(44)} ${String(r.samples).padStart(7)} ${per(r.protobuf).padStart(9)} ${per(r.b2).padStart(7)} ${per(r.b3).padStart(7)} ${`${((100 * (r.b2 - r.b3)) / r.b2).toFixed(1)}%`.padStart(6)} ${per(r.procsOnly).padStart(10)} ${per(r.b4).padStart(7)} ${per(r.b5).padStart(7)}   ${r.build2.toFixed(2).padStart(6)} / ${r.build3.toFixed(2)} / ${r.build4.toFixed(2)} / ${r.build5.toFixed(2).padEnd(5)}  ${r.read2.toFixed(2).padStart(6)} / ${r.read3.toFixed(2)} / ${r.read4.toFixed(2)} / ${r.read5.toFixed(2).padEnd(5)}  ${r.ack4.toFixed(2).padStart(6)} / ${r.ack5.toFixed(2).padEnd(5)}  ${r.exact ? 'yes' : 'NO'}`,
    );
  }
  const sum = (f: (r: Row) => number): number => rows.reduce((a, r) => a + f(r), 0);
  const all = { samples: sum((r) => r.samples), b2: sum((r) => r.b2), b3: sum((r) => r.b3), b4: sum((r) => r.b4), b5: sum((r) => r.b5) };
  console.log(
    `all traces: ${all.samples} samples, encoding 2 ${(all.b2 / all.samples).toFixed(0)} B/sample, encoding 3 ${(all.b3 / all.samples).toFixed(0)} B/sample (${((100 * (all.b2 - all.b3)) / all.b2).toFixed(1)} % less), encoding 4 ${(all.b4 / all.samples).toFixed(0)} B/sample (${((100 * (all.b3 - all.b4)) / all.b3).toFixed(1)} % less than 3), encoding 5 ${(all.b5 / all.samples).toFixed(0)} B/sample (${((100 * (all.b4 - all.b5)) / all.b4).toFixed(1)} % less than 4)`,
  );
  if (rows.some((r) => !r.exact)) {
    console.log('ROUND TRIP FAILED');
    process.exitCode = 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
