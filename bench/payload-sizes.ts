// What a batch payload costs per sample on a recorded trace, before and after the changes of
// 2026-12-07, and the alternatives weighed. Not a timed test: prints figures.
//
//   node dist/bench/payload-sizes.js [TRACE] [--batch 5] [--raw]
//
// TRACE: an `assay record` trace, gzipped or not (default bench/data/server-host.trace.ndjson.gz).
// Two columns: "before" is what the agent sent until 2026-12-07 (the trace's socket rows as
// recorded; rates quantized to whole units), "now" what it sends (agent/probes/sockets.ts
// omitUnowned: unowned rows that are neither listening nor ESTABLISHED become counts in
// socket_attribution.unowned_omitted; agent/quantize.ts QUANTA: process rates also to 4
// significant bits, process RSS to 8, anonymous RSS to 4 and host memory to 8, the midpoint of
// what they keep; no parent pid or process state).
// --raw: no quantization in either column. Then, per batch of --batch samples (the agent seals
// one every 5 s at 1 Hz):
//   protobuf      the samples' encoded bytes, and what processes / sockets take of them
//   deflate       raw deflate of the framed samples (no delta encoding)
//   delta+deflate the schema-3 payload of encoding 1 (proto/payload.ts encodePayload, DEFLATE)
//   brotli        the schema-3 payload of encoding 2 (BROTLI, complete samples), what the agent
//                 signed until encoding 3
//   columnar      the schema-3 payload of encoding 3 (COLUMNAR, proto/columnar.ts)
//                 (bench/payload-columnar.ts compares 2, 3 and 4 on every trace)
//   chained values encoding 5 (CHAINED_VALUES), what the agent signs since 2026-12-08: encoding 4
//                 with value-coded columns (proto/columnar.ts)
//   chained       encoding 4 (CHAINED) as the agent's spool seals it:
//                 each batch's first sample against the last sample of the batch before, deflate
//                 with that sample as dictionary, a keyframe (encoding 3 behind a byte) every
//                 CHAIN_MAX_BATCHES batches
//   delta+brotli  brotli of the delta-encoded samples (not used: larger, and slower to build)
//   brotli q11    encoding 2 at brotli's highest quality (too slow for the agent; for reference)
// Beside encodings 1 and 2: the time to build the payload (what the agent spends per batch).
//   dict          delta+deflate with the previous batch's last sample as a preset dictionary
//                 (cross-batch: a batch no longer decodes on its own)
//   gzip/60       zlib over 60-sample batches, the figure issue 10 quoted
// Every payload of encodings 1, 2 and 3 is decoded again and compared byte for byte (exit 1 if not).
// Then the "now" samples with process signatures sent by reference (agent/signature-refs.ts
// withReferences: a new process's signature identical to one sent in full goes as its 32-byte
// SHA-256, and in a signature sent in full, an env_names / libs list some earlier signature had
// goes as that signature's SHA-256), what the agent streaming to a collector signs since
// 2026-12-07; the same with whole signatures only; references cut to 16 bytes (not used); and
// the same with the quanta agents used before the current table (QUANTA_RATES_8_BITS: process
// rates truncated to 8 significant bits, memory exact, parent pid and state sent).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { brotliCompressSync, constants, deflateRawSync, gunzipSync, gzipSync } from 'node:zlib';
import { assay, encodeSample, type ISample } from '../proto/codec.js';
import { BROTLI_LGWIN, BROTLI_QUALITY, BatchEncoding, CHAIN_MAX_BATCHES, deltaEncode, encodePayload, frameSamples, payloadChained, payloadSampleBytes } from '../proto/payload.js';
import { QUANTA_BEFORE_2026_12_07, QUANTA_RATES_8_BITS, quantizeSample, quantizeWith } from '../agent/quantize.js';
import { omitUnowned } from '../agent/probes/sockets.js';
import { SentSignatures, withReferences } from '../agent/signature-refs.js';

export function readTraceSamples(file: string): ISample[] {
  const raw = readFileSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const lines = text.split('\n').filter((l) => l.trim());
  return lines.slice(1).map((l) => assay.v1.Sample.fromObject((JSON.parse(l) as { sample: object }).sample));
}

/** A recorded sample with the agent's socket selection of 2026-12-07: unowned closing sockets counted, not listed. */
export function asSentSockets(s: ISample): ISample {
  const out = assay.v1.Sample.decode(encodeSample(s));
  const { kept, omitted } = omitUnowned(out.sockets);
  out.sockets = kept;
  if (omitted.length) out.socketAttribution = assay.v1.SocketAttribution.create({ ...(out.socketAttribution ?? {}), unownedOmitted: omitted });
  return out;
}

interface Figures {
  n: number;
  procCount: number;
  sockCount: number;
  total: number;
  procBytes: number;
  sockBytes: number;
  plain: number;
  deflate: number;
  deflateMsPerBatch: number;
  brotli: number;
  brotliMsPerBatch: number;
  columnar: number;
  columnarMsPerBatch: number;
  chained: number;
  chainedMsPerBatch: number;
  values: number;
  valuesMsPerBatch: number;
  deltaBrotli: number;
  brotli11: number;
  dict: number;
  gz60: number;
  roundTrip: boolean;
}

function measure(samples: ISample[], batchSize: number): Figures {
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
  const timed = (f: () => Buffer): Buffer => {
    const t0 = process.hrtime.bigint();
    const p = f();
    ms += Number(process.hrtime.bigint() - t0) / 1e6;
    return p;
  };
  let ms = 0;
  const check = (encoding: number, b: Uint8Array[], p: Buffer): void => {
    const back = payloadSampleBytes(encoding, p);
    if (back.length !== b.length || back.some((x, i) => Buffer.compare(Buffer.from(x), Buffer.from(b[i]!)) !== 0)) roundTrip = false;
  };
  const deflate = sum((b) => {
    const p = timed(() => encodePayload(b, BatchEncoding.BATCH_ENCODING_DEFLATE));
    check(BatchEncoding.BATCH_ENCODING_DEFLATE, b, p);
    return p.length;
  });
  const deflateMs = ms;
  ms = 0;
  const brotli = sum((b) => {
    const p = timed(() => encodePayload(b, BatchEncoding.BATCH_ENCODING_BROTLI));
    check(BatchEncoding.BATCH_ENCODING_BROTLI, b, p);
    return p.length;
  });
  const brotliMs = ms;
  ms = 0;
  const columnar = sum((b) => {
    const p = timed(() => encodePayload(b, BatchEncoding.BATCH_ENCODING_COLUMNAR));
    check(BatchEncoding.BATCH_ENCODING_COLUMNAR, b, p);
    return p.length;
  });
  const columnarMs = ms;
  ms = 0;
  // Encodings 4 and 5 as the agent's spool seals them: each batch against the last sample of the
  // batch before, a keyframe every CHAIN_MAX_BATCHES; decoded again with the last frame a reader has.
  const chain = (encoding: number): number => {
    let run = 0;
    let readerPrior: Uint8Array | null = null;
    return sum((b, i) => {
      const prior = i > 0 && run < CHAIN_MAX_BATCHES ? batches[i - 1]!.at(-1)! : null;
      const p = timed(() => encodePayload(b, encoding, prior));
      const isChained = payloadChained(encoding, p);
      run = isChained ? run + 1 : 1;
      const back = payloadSampleBytes(encoding, p, undefined, isChained ? readerPrior : null);
      if (back.length !== b.length || back.some((x, j) => Buffer.compare(Buffer.from(x), Buffer.from(b[j]!)) !== 0)) roundTrip = false;
      readerPrior = back.at(-1) ?? null;
      return p.length;
    });
  };
  const chained = chain(BatchEncoding.BATCH_ENCODING_CHAINED);
  const chainedMs = ms;
  ms = 0;
  const values = chain(BatchEncoding.BATCH_ENCODING_CHAINED_VALUES);
  const valuesMs = ms;
  const deltaBrotli = sum((b) => brotliCompressSync(frameSamples(deltaEncode(b)), { params: { [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [constants.BROTLI_PARAM_LGWIN]: BROTLI_LGWIN } }).length);
  const brotli11 = sum((b) => brotliCompressSync(frameSamples(b), { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 22 } }).length);
  const dict = sum((b, i) => {
    const framed = frameSamples(deltaEncode(b));
    const prev = i > 0 ? batches[i - 1]!.at(-1)! : undefined;
    return deflateRawSync(framed, { level: 9, memLevel: 9, ...(prev ? { dictionary: prev } : {}) }).length;
  });
  let gz60 = 0;
  for (let i = 0; i < n; i += 60) gz60 += gzipSync(frameSamples(bytes.slice(i, i + 60)), { level: 9 }).length;
  return { n, procCount, sockCount, total, procBytes, sockBytes, plain, deflate, deflateMsPerBatch: deflateMs / batches.length, brotli, brotliMsPerBatch: brotliMs / batches.length, columnar, columnarMsPerBatch: columnarMs / batches.length, chained, chainedMsPerBatch: chainedMs / batches.length, values, valuesMsPerBatch: valuesMs / batches.length, deltaBrotli, brotli11, dict, gz60, roundTrip };
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
  const recorded = readTraceSamples(file);
  const copy = (s: ISample): ISample => assay.v1.Sample.decode(encodeSample(s));
  const before = measure(recorded.map((s) => (raw ? s : quantizeWith(copy(s), QUANTA_BEFORE_2026_12_07))), batchSize);
  const nowSamples = recorded.map((s) => asSentSockets(raw ? s : quantizeSample(copy(s))));
  const after = measure(nowSamples, batchSize);
  const sent = new SentSignatures();
  const referenced = withReferences(nowSamples, sent);
  const refs = measure(referenced, batchSize);
  const wholeOnly = measure(withReferences(nowSamples, new SentSignatures(undefined, undefined, false)), batchSize);
  const eightBits = measure(withReferences(recorded.map((s) => asSentSockets(raw ? s : quantizeWith(copy(s), QUANTA_RATES_8_BITS))), new SentSignatures()), batchSize);
  const short = measure(referenced.map((x) => ({ ...x, processes: (x.processes ?? []).map((p) => (p.signature?.sameAs?.length ? { ...p, signature: { sameAs: p.signature.sameAs.subarray(0, 16) } } : p)) })), batchSize);
  const n = before.n;
  const per = (x: number): string => `${(x / n).toFixed(0).padStart(6)} B/sample`;
  const day = (x: number): string => `${((x / n) * 86_400 / 1e6).toFixed(1).padStart(6)} MB/host-day`;
  const both = (f: (x: Figures) => number): string => `${per(f(before))} ${day(f(before))}   |${per(f(after))} ${day(f(after))}`;
  console.log(`trace ${file}: ${n} samples${raw ? ' (as recorded)' : ' (quantized as the agent sent / sends them)'}, batches of ${batchSize}; loadavg ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`processes per sample ${(before.procCount / n).toFixed(1)}; sockets per sample ${(before.sockCount / n).toFixed(1)} before, ${(after.sockCount / n).toFixed(1)} now (the rest counted)`);
  console.log(`${''.padEnd(16)}${'before 2026-12-07'.padEnd(39)}|now`);
  for (const [label, x] of [['before', before], ['now', after]] as const) {
    console.log(`protobuf, ${label.padEnd(6)} ${per(x.total)} ${day(x.total)}  (processes ${((100 * x.procBytes) / x.total).toFixed(0)} %, sockets ${((100 * x.sockBytes) / x.total).toFixed(0)} %, rest ${((100 * (x.total - x.procBytes - x.sockBytes)) / x.total).toFixed(0)} %)`);
  }
  console.log(`deflate         ${both((x) => x.plain)}`);
  const msPer = (x: Figures, k: 'deflateMsPerBatch' | 'brotliMsPerBatch' | 'columnarMsPerBatch' | 'chainedMsPerBatch' | 'valuesMsPerBatch'): string => `${x[k].toFixed(2)} | ${after[k].toFixed(2)} ms per batch to build`;
  console.log(`delta+deflate   ${both((x) => x.deflate)}   (encoding 1: before 2026-12-07 the agent signed the left figure; ${msPer(before, 'deflateMsPerBatch')})`);
  console.log(`brotli          ${both((x) => x.brotli)}   (encoding 2; ${msPer(before, 'brotliMsPerBatch')})`);
  console.log(`columnar        ${both((x) => x.columnar)}   (encoding 3; ${msPer(before, 'columnarMsPerBatch')})`);
  console.log(`chained         ${both((x) => x.chained)}   (encoding 4: a keyframe every ${CHAIN_MAX_BATCHES} batches; ${msPer(before, 'chainedMsPerBatch')})`);
  console.log(`chained values  ${both((x) => x.values)}   (encoding 5: value-coded columns; the agent signs the right figure now; ${msPer(before, 'valuesMsPerBatch')})`);
  console.log(`delta+brotli    ${both((x) => x.deltaBrotli)}   (not used)`);
  console.log(`brotli q11      ${both((x) => x.brotli11)}   (reference: too slow for the agent)`);
  console.log(`delta+deflate, previous batch's last sample as dictionary (cross-batch) ${both((x) => x.dict)}`);
  console.log(`gzip over 60-sample batches (no delta)  ${both((x) => x.gz60)}`);
  console.log(`payload the agent signs: ${per(before.deflate)} before -> ${per(after.values)} now (${((100 * (before.deflate - after.values)) / before.deflate).toFixed(0)} % less); round trip ${before.roundTrip && after.roundTrip ? 'exact' : 'FAILED'}`);
  const sigCount = sent.full + sent.references;
  const less = (a: number, b: number): string => `${((100 * (a - b)) / a).toFixed(1)} % less`;
  console.log(`signatures by reference: ${sent.references} of ${sigCount} signatures (${(sigCount / n).toFixed(2)} per sample) sent as a reference, ${sent.listReferences} env_names/libs lists in the others; protobuf ${per(refs.total)}`);
  console.log(`chained values, signatures by reference ${per(refs.values)} ${day(refs.values)}   (encoding 5, the agent streaming to a collector signs this: ${per(after.values)} -> ${per(refs.values)}, ${less(after.values, refs.values)}; against encoding 4 ${per(refs.chained)}: ${less(refs.chained, refs.values)}; ${refs.valuesMsPerBatch.toFixed(2)} ms per batch to build, encoding 4 ${refs.chainedMsPerBatch.toFixed(2)})`);
  console.log(`chained, signatures by reference      ${per(refs.chained)} ${day(refs.chained)}   (encoding 4: ${per(after.chained)} -> ${per(refs.chained)}, ${less(after.chained, refs.chained)}; whole signatures only ${per(wholeOnly.chained)})`);
  console.log(`  quanta before the current table      ${per(eightBits.chained)} ${day(eightBits.chained)}   (encoding 4; process rates to 8 bits truncated, memory exact, ppid and state sent: ${per(eightBits.chained)} -> ${per(refs.chained)}, ${less(eightBits.chained, refs.chained)})`);
  console.log(`columnar, signatures by reference     ${per(refs.columnar)} ${day(refs.columnar)}   (encoding 3: ${per(after.columnar)} -> ${per(refs.columnar)}, ${less(after.columnar, refs.columnar)})`);
  console.log(`  whole signatures only (no lists)    ${per(wholeOnly.columnar)} ${day(wholeOnly.columnar)}   (lists by reference save ${((wholeOnly.columnar - refs.columnar) / n).toFixed(1)} B/sample more)`);
  console.log(`  references cut to 16 bytes         ${per(short.columnar)} ${day(short.columnar)}   (not used: ${((refs.columnar - short.columnar) / n).toFixed(1)} B/sample more saved)`);
  console.log(`brotli, signatures by reference       ${per(refs.brotli)} ${day(refs.brotli)}   (encoding 2: ${per(after.brotli)} -> ${per(refs.brotli)}, ${less(after.brotli, refs.brotli)}; whole signatures only ${per(wholeOnly.brotli)})`);
  if (!before.roundTrip || !after.roundTrip || !refs.roundTrip || !eightBits.roundTrip) process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) main();
