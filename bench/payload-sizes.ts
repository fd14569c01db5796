// What a batch payload costs per sample on a recorded trace, and the alternatives weighed before
// choosing the schema-3 encoding. Not a timed test: prints figures.
//
//   node dist/bench/payload-sizes.js [TRACE] [--batch 5]
//
// TRACE: an `assay record` trace, gzipped or not (default bench/data/server-host.trace.ndjson.gz).
// Each sample goes through the agent's quantization (agent/quantize.ts, as the agent now sends
// it) unless --raw; then, per batch of --batch samples:
//   protobuf      the samples' encoded bytes, and what processes / sockets take of them
//   deflate       raw deflate of the framed samples (no delta encoding)
//   delta+deflate the schema-3 payload (proto/payload.ts encodePayload): what the agent signs
//   brotli        brotli (quality 11, window 22) of the delta-encoded framed samples
//   dict          delta+deflate with the previous batch's last sample as a preset dictionary
//                 (cross-batch: a batch no longer decodes on its own)
//   gzip/60       zlib over 60-sample batches, the figure issue 10 quoted
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { brotliCompressSync, constants, deflateRawSync, gunzipSync, gzipSync } from 'node:zlib';
import { assay, encodeSample, type ISample } from '../proto/codec.js';
import { deltaEncode, encodePayload, frameSamples, payloadSampleBytes } from '../proto/payload.js';
import { quantizeSample } from '../agent/quantize.js';

export function readTraceSamples(file: string): ISample[] {
  const raw = readFileSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const lines = text.split('\n').filter((l) => l.trim());
  return lines.slice(1).map((l) => assay.v1.Sample.fromObject((JSON.parse(l) as { sample: object }).sample));
}

function main(): void {
  const args = process.argv.slice(2);
  const flag = (name: string, dflt: string): string => {
    const i = args.indexOf(name);
    return i >= 0 ? args.splice(i, 2)[1]! : dflt;
  };
  const batchSize = Number(flag('--batch', '5'));
  const raw = args.includes('--raw');
  const file = args.filter((a) => !a.startsWith('--'))[0] ?? 'bench/data/server-host.trace.ndjson.gz';
  const samples = readTraceSamples(file).map((s) => (raw ? s : quantizeSample(s)));
  const bytes = samples.map(encodeSample);
  const n = samples.length;
  let procBytes = 0;
  let sockBytes = 0;
  let procCount = 0;
  let sockCount = 0;
  for (const s of samples) {
    procBytes += (s.processes ?? []).reduce((a, p) => a + assay.v1.Process.encode(p).finish().length + 3, 0);
    sockBytes += (s.sockets ?? []).reduce((a, x) => a + assay.v1.Socket.encode(x).finish().length + 2, 0);
    procCount += (s.processes ?? []).length;
    sockCount += (s.sockets ?? []).length;
  }
  const total = bytes.reduce((a, b) => a + b.length, 0);
  const batches: Uint8Array[][] = [];
  for (let i = 0; i < n; i += batchSize) batches.push(bytes.slice(i, i + batchSize));
  const sum = (f: (b: Uint8Array[], i: number) => number): number => batches.reduce((a, b, i) => a + f(b, i), 0);
  const plain = sum((b) => deflateRawSync(frameSamples(b), { level: 9, memLevel: 9 }).length);
  let roundTrip = true;
  const delta = sum((b) => {
    const p = encodePayload(b);
    const back = payloadSampleBytes(assay.v1.BatchEncoding.BATCH_ENCODING_DEFLATE, p);
    if (back.length !== b.length || back.some((x, i) => Buffer.compare(Buffer.from(x), Buffer.from(b[i]!)) !== 0)) roundTrip = false;
    return p.length;
  });
  const brotli = sum((b) =>
    brotliCompressSync(frameSamples(deltaEncode(b)), { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 22 } }).length,
  );
  const dict = sum((b, i) => {
    const framed = frameSamples(deltaEncode(b));
    const prev = i > 0 ? batches[i - 1]!.at(-1)! : undefined;
    return deflateRawSync(framed, { level: 9, memLevel: 9, ...(prev ? { dictionary: prev } : {}) }).length;
  });
  let gz60 = 0;
  for (let i = 0; i < n; i += 60) gz60 += gzipSync(frameSamples(bytes.slice(i, i + 60)), { level: 9 }).length;
  const per = (x: number): string => `${(x / n).toFixed(0).padStart(6)} B/sample`;
  const day = (x: number): string => `${((x / n) * 86_400 / 1e6).toFixed(1).padStart(6)} MB/host-day`;
  console.log(`trace ${file}: ${n} samples${raw ? ' (as recorded)' : ' (quantized as the agent sends them)'}, batches of ${batchSize}; loadavg ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`processes per sample ${(procCount / n).toFixed(1)}, sockets per sample ${(sockCount / n).toFixed(1)}`);
  console.log(`protobuf        ${per(total)}  ${day(total)}  (processes ${((100 * procBytes) / total).toFixed(0)} %, sockets ${((100 * sockBytes) / total).toFixed(0)} %, rest ${((100 * (total - procBytes - sockBytes)) / total).toFixed(0)} %)`);
  console.log(`deflate         ${per(plain)}  ${day(plain)}`);
  console.log(`delta+deflate   ${per(delta)}  ${day(delta)}  (the schema-3 payload; round trip ${roundTrip ? 'exact' : 'FAILED'})`);
  console.log(`delta+brotli    ${per(brotli)}  ${day(brotli)}`);
  console.log(`delta+deflate, previous batch's last sample as dictionary (cross-batch)  ${per(dict)}  ${day(dict)}`);
  console.log(`gzip over 60-sample batches (no delta)  ${per(gz60)}  ${day(gz60)}`);
  if (!roundTrip) process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) main();
