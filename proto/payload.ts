// Batch payloads (schema 3): what the agent signs, the collector stores and a report embeds.
//
// A payload is the batch's samples framed as (u32 big-endian length || encoded Sample), the
// framing samplesDigest has always used, compressed: brotli (RFC 7932, BATCH_ENCODING_BROTLI,
// what agents send since 2026-12-07) or raw deflate (RFC 1951, BATCH_ENCODING_DEFLATE, the first
// schema-3 agents; still read).
//
// Measured on the recorded server host (bench/payload-sizes.ts): with deflate the delta runs
// below paid for themselves (mostly through the hundreds of unchanged TIME_WAIT socket rows the
// agent used to list); with brotli, complete samples compress 2 % smaller than delta-encoded
// ones, and building the runs (decoding every sample, encoding every entry to compare) took
// 3 to 5 ms per 5-sample batch against about 1 ms for brotli itself. So the agent writes BROTLI
// payloads without runs; a reader expands runs in either encoding all the same. Inside a payload every sample
// after the first may be delta-encoded against the sample before it: its processes and sockets
// lists become runs (Sample.process_runs, socket_runs) that copy stretches of entries byte for
// byte identical in the previous sample, plus the entries that changed. The first sample is
// always complete, so every batch decodes on its own, and expanding the runs gives back exactly
// the samples the agent took (same entries, same order).
//
// BATCH_ENCODING_CHAINED (4) carries encoding 3's columns behind a one-byte kind. A keyframe
// decodes on its own; a chained batch's first sample is encoded against its prior, the last sample
// of the batch before it in the agent's hash chain, and its columns are raw deflate with that
// sample as the preset dictionary. Measured on the recorded server host (5-sample batches, a
// keyframe every CHAIN_MAX_BATCHES): 672 B/sample against 940 for encoding 3; brotli of the chained
// columns was 781 (Node 20's brotli takes no dictionary). Readers pass each batch's last frame on
// (lastFrame) and walk back to a keyframe only for the first batch of a read (collector/store/chain.ts).
//
// A v2 batch (BATCH_ENCODING_SAMPLES) is kept the same way: its payload is the framed samples,
// uncompressed, and samples_digest is SHA-256 of that payload.
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { assay, type IProcess, type ISample, type ISocket } from './codec.js';
import { sha256 } from './chain.js';
import { COLUMNAR_LISTS, COLUMNAR_MIN_ENTRIES, COLUMNAR_VERSION, COLUMNAR_VERSION_PRIOR, COLUMNAR_VERSION_VALUES, COLUMNAR_VERSION_VALUES_PRIOR, ColumnarBatch, ColumnarError, encodeColumnar, readColumnar } from './columnar.js';

export const BatchEncoding = assay.v1.BatchEncoding;
export type BatchEncodingValue = assay.v1.BatchEncoding;

/**
 * What the agent signs (agent/batch.ts sealBatch, encodePayload's default): the chained columnar
 * payload, value-coded (BATCH_ENCODING_CHAINED_VALUES) since 2026-12-08, chained by agent/spool.ts.
 * Measured with bench/payload-sizes.ts on the recorded server host: CHAINED (4) 672 against 940
 * B/sample for COLUMNAR, 31.7 % fewer bytes over every corpus and held-out trace (COLUMNAR had
 * been about 10 % under BROTLI); CHAINED_VALUES is a few percent under CHAINED (the figures:
 * bench/payload-sizes.ts). Without a prior it is a keyframe: the columns behind one byte.
 */
export const AGENT_BATCH_ENCODING: assay.v1.BatchEncoding = BatchEncoding.BATCH_ENCODING_CHAINED_VALUES;

/** The encodings whose batches carry a compressed payload (SignedBatch.payload, payload_digest). */
export const PAYLOAD_ENCODINGS: readonly number[] = [
  BatchEncoding.BATCH_ENCODING_DEFLATE,
  BatchEncoding.BATCH_ENCODING_BROTLI,
  BatchEncoding.BATCH_ENCODING_COLUMNAR,
  BatchEncoding.BATCH_ENCODING_CHAINED,
  BatchEncoding.BATCH_ENCODING_CHAINED_VALUES,
];

/** The encodings whose batches may be chained to the batch before (a keyframe or chained kind byte first): 4 and 5. */
export const CHAINED_ENCODINGS: readonly number[] = [BatchEncoding.BATCH_ENCODING_CHAINED, BatchEncoding.BATCH_ENCODING_CHAINED_VALUES];

/** Whether batches of this encoding may be chained (the agent then passes the prior; payloadChained tells which are). */
export function isChainedEncoding(encoding: number): boolean {
  return CHAINED_ENCODINGS.includes(encoding);
}

/**
 * BATCH_ENCODING_CHAINED: most batches in a row whose first sample is encoded against the batch
 * before (the agent then seals a keyframe, a batch that decodes on its own). Bounds how far back a
 * reader walks to decode one batch (12 batches: a minute at the agent's 5 s cadence), and what a
 * report embeds before its period. Measured on the recorded server host (bench/payload-sizes.ts):
 * 12 is within a few percent of a chain that never restarts.
 */
export const CHAIN_MAX_BATCHES = 12;
/** Most batches a reader walks back by prev_hash to find the keyframe of a chained batch; beyond it the batch is unreadable. */
export const CHAIN_WALK_LIMIT = 64;
/** Bytes of SHA-256(prior) a chained payload carries: a reader given another sample learns so instead of decoding nonsense. */
export const PRIOR_DIGEST_BYTES = 8;
const KEYFRAME = 0;
const CHAINED = 1;

/** Whether batches of this encoding carry a compressed payload (rather than v2 samples). */
export function isPayloadEncoding(encoding: number): boolean {
  return PAYLOAD_ENCODINGS.includes(encoding);
}

/**
 * Brotli settings of BATCH_ENCODING_BROTLI. Quality 6 with a 256 KiB window (several complete
 * samples, so each finds the one before it): measured on the recorded server host
 * (bench/payload-sizes.ts), qualities 5 to 8 give the same size within 1 % at about a
 * millisecond per 5-sample batch; 10 and 11 save some 8 % more for 10 to 30 times the CPU, which
 * the agent's budget cannot pay.
 */
export const BROTLI_QUALITY = 6;
export const BROTLI_LGWIN = 18;

/**
 * Largest inflated payload `assay verify` accepts per batch. The collector bounds inflation by
 * its own frame limit (payloadInflateLimit); a report can only hold what a collector accepted.
 */
export const VERIFY_MAX_INFLATED_BYTES = 64 * 1024 * 1024;

/** How much larger than the frame limit an inflated payload may be (see payloadInflateLimit). */
export const INFLATE_FACTOR = 4;

/**
 * The collector's bound on one batch's inflated payload. The agent keeps a batch's framed
 * samples (uncompressed, before delta encoding) under the collector's frame limit, so an honest
 * payload inflates to less than `maxFrameBytes`; the factor is slack, and anything beyond is a
 * zip bomb refused without allocating more. Never above VERIFY_MAX_INFLATED_BYTES: the store,
 * reports and `assay verify` read payloads within that bound, so a batch acked beyond it (with
 * --max-frame-bytes over 16 MiB) could never be read back or verified.
 */
export function payloadInflateLimit(maxFrameBytes: number): number {
  return Math.min(maxFrameBytes * INFLATE_FACTOR, VERIFY_MAX_INFLATED_BYTES);
}

/** A payload that cannot be read: `reason` is the ingest reject reason. */
export class PayloadError extends Error {
  constructor(
    /** prior_missing: a chained payload (BATCH_ENCODING_CHAINED) read without the sample it was encoded against; prior_mismatch: with another one. */
    readonly reason: 'payload_too_large' | 'bad_payload' | 'prior_missing' | 'prior_mismatch',
    message: string,
  ) {
    super(message);
    this.name = 'PayloadError';
  }
}

/** Each sample as (u32 big-endian length || bytes), concatenated. */
export function frameSamples(samples: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const s of samples) total += 4 + s.length;
  const out = Buffer.allocUnsafe(total);
  let off = 0;
  for (const s of samples) {
    out.writeUInt32BE(s.length, off);
    out.set(s, off + 4);
    off += 4 + s.length;
  }
  return out;
}

/** The samples of a framed blob (views into it); throws PayloadError on bad framing. */
export function unframeSamples(framed: Uint8Array, maxFrames = Infinity): Buffer[] {
  const buf = Buffer.from(framed.buffer, framed.byteOffset, framed.byteLength);
  const out: Buffer[] = [];
  let off = 0;
  while (off < buf.length) {
    // A frame costs 4 bytes: 16 MiB of zeros are 4 million empty samples (measured: a 16 KB
    // deflate payload held the collector's event loop 1.5 s and 500 MB before its count was checked).
    if (out.length >= maxFrames) throw new PayloadError('bad_payload', `the payload holds more than the ${maxFrames} samples its header lists`);
    if (off + 4 > buf.length) throw new PayloadError('bad_payload', 'truncated sample framing');
    const len = buf.readUInt32BE(off);
    off += 4;
    if (off + len > buf.length) throw new PayloadError('bad_payload', `truncated sample (${len} bytes announced, ${buf.length - off} left)`);
    out.push(buf.subarray(off, off + len));
    off += len;
  }
  return out;
}

type Entry = IProcess | ISocket;
const encEntry = (list: 'processes' | 'sockets', e: Entry): Uint8Array =>
  list === 'processes' ? assay.v1.Process.encode(e as IProcess).finish() : assay.v1.Socket.encode(e as ISocket).finish();
const key = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/**
 * Runs rebuilding `cur` from `prev` (each entry's encoded bytes as a string key): a run copies a
 * stretch of consecutive entries of `prev`, or takes the next entries of `own` (the ones sent).
 * Greedy: each entry found in `prev` extends the current copy run if it follows on, else starts one.
 */
function diffRuns(prev: Map<string, number>, cur: readonly string[]): { runs: number[]; own: number[] } {
  const runs: number[] = [];
  const own: number[] = [];
  let from = -1; // 0 = own entries, k >= 1 = copy from prev index k-1
  let count = 0;
  let nextPrev = -1;
  const flush = (): void => {
    if (count > 0) runs.push(from, count);
    count = 0;
  };
  cur.forEach((k, i) => {
    const at = prev.get(k);
    if (at === undefined) {
      if (from !== 0) {
        flush();
        from = 0;
      }
      own.push(i);
      count++;
    } else if (from > 0 && at === nextPrev) {
      count++;
      nextPrev++;
    } else {
      flush();
      from = at + 1;
      count = 1;
      nextPrev = at + 1;
    }
  });
  flush();
  return { runs, own };
}

/** Each entry's key and, for the first occurrence of a key, its index. */
function indexEntries(list: 'processes' | 'sockets', entries: readonly Entry[]): { keys: string[]; at: Map<string, number> } {
  const keys = entries.map((e) => key(encEntry(list, e)));
  const at = new Map<string, number>();
  keys.forEach((k, i) => {
    if (!at.has(k)) at.set(k, i);
  });
  return { keys, at };
}

/**
 * Delta-encodes a batch's samples (each given as its complete encoded bytes): the first stays
 * as it is; in later ones, entries byte-identical to entries of the previous sample become runs
 * (Sample.process_runs, socket_runs) when that is shorter. Returns each sample's bytes as they go
 * into the payload.
 */
export function deltaEncode(samples: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev: { processes: Map<string, number>; sockets: Map<string, number> } | null = null;
  for (const bytes of samples) {
    let s: assay.v1.Sample;
    try {
      s = assay.v1.Sample.decode(bytes);
    } catch {
      // Not a sample this build can read: it travels as it is, and nothing refers to it.
      out.push(bytes);
      prev = null;
      continue;
    }
    const procs = indexEntries('processes', s.processes ?? []);
    const socks = indexEntries('sockets', s.sockets ?? []);
    if (!prev) {
      out.push(bytes);
    } else {
      const delta: assay.v1.ISample = { ...s };
      let changed = false;
      for (const [list, runsField, idx] of [['processes', 'processRuns', procs], ['sockets', 'socketRuns', socks]] as const) {
        const entries = (s[list] ?? []) as Entry[];
        if (entries.length === 0) continue;
        const { runs, own } = diffRuns(prev[list], idx.keys);
        if (own.length === entries.length) continue; // nothing to copy
        (delta as Record<string, unknown>)[list] = own.map((i) => entries[i]);
        (delta as Record<string, unknown>)[runsField] = runs;
        changed = true;
      }
      out.push(changed ? assay.v1.Sample.encode(delta).finish() : bytes);
    }
    prev = { processes: procs.at, sockets: socks.at };
  }
  return out;
}

/** Rebuilds a list from runs; throws PayloadError when a run points outside either list. */
function applyRuns<T>(runs: readonly number[], own: readonly T[], prev: readonly T[], what: string, at: number): T[] {
  if (runs.length % 2 !== 0) throw new PayloadError('bad_payload', `sample ${at} of the payload: ${what} runs are not pairs`);
  const out: T[] = [];
  let next = 0;
  for (let r = 0; r < runs.length; r += 2) {
    const from = runs[r]!;
    const count = runs[r + 1]!;
    if (from === 0) {
      if (next + count > own.length) throw new PayloadError('bad_payload', `sample ${at} of the payload: ${what} runs take more entries than it carries`);
      for (let i = 0; i < count; i++) out.push(own[next++]!);
    } else {
      if (from - 1 + count > prev.length) throw new PayloadError('bad_payload', `sample ${at} of the payload: ${what} run ${from}+${count} beyond the ${prev.length} of the sample before`);
      for (let i = 0; i < count; i++) out.push(prev[from - 1 + i]!);
    }
  }
  if (next !== own.length) throw new PayloadError('bad_payload', `sample ${at} of the payload: ${own.length - next} ${what} not placed by its runs`);
  return out;
}

/**
 * Expands runs against the previous (expanded) sample. `samples` are the decoded samples of one
 * payload, in order; returns them complete. Throws PayloadError on runs with nothing to refer
 * to (in a first sample) or pointing outside the lists.
 */
export function expandDeltas(samples: readonly assay.v1.Sample[]): assay.v1.Sample[] {
  let prev: assay.v1.Sample | null = null;
  for (const [i, s] of samples.entries()) {
    const pr = s.processRuns ?? [];
    const sr = s.socketRuns ?? [];
    if (pr.length || sr.length) {
      if (!prev) throw new PayloadError('bad_payload', `sample ${i + 1} of the payload refers to a previous sample it does not have`);
      if (pr.length) s.processes = applyRuns(pr, s.processes ?? [], prev.processes ?? [], 'processes', i + 1);
      if (sr.length) s.sockets = applyRuns(sr, s.sockets ?? [], prev.sockets ?? [], 'sockets', i + 1);
      s.processRuns = [];
      s.socketRuns = [];
    }
    prev = s;
  }
  return samples as assay.v1.Sample[];
}

/**
 * A batch's payload from its samples' complete encoded bytes, compressed as `encoding` says:
 * BATCH_ENCODING_COLUMNAR (the default, AGENT_BATCH_ENCODING): the samples transposed into
 * columns (proto/columnar.ts), brotli; BATCH_ENCODING_BROTLI (what agents sent until 2026-12-07):
 * the framed samples as they are, brotli; BATCH_ENCODING_DEFLATE (the first schema-3 agents):
 * delta-encoded, then framed, raw deflate.
 */
export function encodePayload(samples: readonly Uint8Array[], encoding: number = AGENT_BATCH_ENCODING, prior: Uint8Array | null = null): Buffer {
  const brotli = (data: Uint8Array): Buffer =>
    brotliCompressSync(data, {
      params: {
        [zlibConstants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
        [zlibConstants.BROTLI_PARAM_LGWIN]: BROTLI_LGWIN,
        [zlibConstants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    });
  if (encoding === BatchEncoding.BATCH_ENCODING_BROTLI) return brotli(frameSamples(samples));
  if (encoding === BatchEncoding.BATCH_ENCODING_COLUMNAR) return brotli(encodeColumnar(samples));
  if (isChainedEncoding(encoding)) {
    const values = encoding === BatchEncoding.BATCH_ENCODING_CHAINED_VALUES;
    const container = encodeColumnar(samples, COLUMNAR_LISTS, COLUMNAR_MIN_ENTRIES, prior, values);
    // A prior the codec cannot take apart is not referred to: the batch is then a keyframe.
    if (prior === null || container[0] !== (values ? COLUMNAR_VERSION_VALUES_PRIOR : COLUMNAR_VERSION_PRIOR)) return Buffer.concat([Buffer.of(KEYFRAME), brotli(container)]);
    return Buffer.concat([Buffer.of(CHAINED), sha256(prior).subarray(0, PRIOR_DIGEST_BYTES), deflateRawSync(container, { level: 9, memLevel: 9, dictionary: prior })]);
  }
  if (encoding === BatchEncoding.BATCH_ENCODING_DEFLATE) return deflateRawSync(frameSamples(deltaEncode(samples)), { level: 9, memLevel: 9 });
  throw new PayloadError('bad_payload', `encoding ${encoding} has no compressed payload`);
}

/**
 * Decompresses a payload of `encoding` (DEFLATE or BROTLI), refusing (PayloadError
 * payload_too_large) one that grows beyond `maxBytes` without allocating more.
 */
export function inflatePayload(payload: Uint8Array, maxBytes: number, encoding: number = BatchEncoding.BATCH_ENCODING_DEFLATE): Buffer {
  const brotli = encoding === BatchEncoding.BATCH_ENCODING_BROTLI || encoding === BatchEncoding.BATCH_ENCODING_COLUMNAR || isChainedEncoding(encoding);
  if (!brotli && encoding !== BatchEncoding.BATCH_ENCODING_DEFLATE) throw new PayloadError('bad_payload', `unknown batch encoding ${encoding}`);
  try {
    return brotli ? brotliDecompressSync(payload, { maxOutputLength: maxBytes }) : inflateRawSync(payload, { maxOutputLength: maxBytes });
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new PayloadError('payload_too_large', `batch payload inflates to more than ${maxBytes} bytes (${payload.length} bytes compressed): refused`);
    }
    throw new PayloadError('bad_payload', `batch payload is not ${brotli ? 'brotli' : 'raw deflate'} data: ${e.message}`);
  }
}

/** Inflates the raw deflate of a chained payload (BATCH_ENCODING_CHAINED) with its prior as the preset dictionary, within `maxBytes`. */
function inflateChained(body: Uint8Array, maxBytes: number, prior: Uint8Array): Buffer {
  try {
    return inflateRawSync(body, { maxOutputLength: maxBytes, dictionary: prior });
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new PayloadError('payload_too_large', `batch payload inflates to more than ${maxBytes} bytes (${body.length} bytes compressed): refused`);
    }
    throw new PayloadError('bad_payload', `chained batch payload is not raw deflate data over its prior: ${e.message}`);
  }
}

/**
 * The samples a stored or received payload holds, complete and in order. `decode` turns one
 * sample's bytes into a message (the collector passes its decoder that maps errors to wire
 * errors). A SAMPLES (v2) payload is the framed samples themselves.
 */
export function decodePayload(
  encoding: number,
  payload: Uint8Array,
  maxInflatedBytes: number,
  decode: (bytes: Uint8Array) => assay.v1.Sample = (b) => assay.v1.Sample.decode(b),
  maxFrames = Infinity,
  prior: Uint8Array | null = null,
): assay.v1.Sample[] {
  return decodeFrames(encoding, payloadFrames(encoding, payload, maxInflatedBytes, maxFrames, prior), decode);
}

/** The complete samples of a payload's frames (payloadFrames): each decoded, delta runs expanded. */
export function decodeFrames(encoding: number, frames: readonly Uint8Array[], decode: (bytes: Uint8Array) => assay.v1.Sample = (b) => assay.v1.Sample.decode(b)): assay.v1.Sample[] {
  const samples = frames.map(decode);
  return encoding === BatchEncoding.BATCH_ENCODING_SAMPLES ? samples : expandDeltas(samples);
}

/**
 * Whether a payload can only be read with its prior: a BATCH_ENCODING_CHAINED payload whose first
 * sample is encoded against the last sample of the batch before it in the agent's chain (the batch
 * its header's prev_hash names). Reads one byte; every other payload decodes on its own.
 */
export function payloadChained(encoding: number, payload: Uint8Array): boolean {
  return isChainedEncoding(encoding) && payload[0] === CHAINED;
}

/**
 * A payload's samples as payloadSamples read them: every check made, the samples' bytes rebuilt
 * only when asked (frame). The ack path asks for the last one only (the next chained batch's prior)
 * and reads the others from the columns (collector/ingest/light-sample.ts).
 */
export interface PayloadSamples {
  readonly count: number;
  /** Sample `i`'s framed entry as it is inside the payload (delta-encoded ones not expanded): what payloadFrames returns. */
  frame(i: number): Buffer;
  /** A columnar payload (encodings 3 to 5): its container as read (proto/columnar.ts readColumnar); null for the others. */
  readonly columnar: ColumnarBatch | null;
}

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Samples already framed (a v2 batch's, unframeSamples'), as PayloadSamples. */
export function framedSamples(frames: readonly Uint8Array[]): PayloadSamples {
  return { count: frames.length, frame: (i) => asBuffer(frames[i]!), columnar: null };
}

/**
 * A payload read through as payloadFrames reads it (the same refusals, in the same order), its
 * samples rebuilt only when asked: see PayloadSamples.
 */
export function payloadSamples(encoding: number, payload: Uint8Array, maxInflatedBytes = VERIFY_MAX_INFLATED_BYTES, maxFrames = Infinity, prior: Uint8Array | null = null): PayloadSamples {
  if (encoding === BatchEncoding.BATCH_ENCODING_SAMPLES) return framedSamples(unframeSamples(payload, maxFrames));
  if (!isPayloadEncoding(encoding)) throw new PayloadError('bad_payload', `unknown batch encoding ${encoding}`);
  let body = payload;
  let against: Uint8Array | null = null;
  if (isChainedEncoding(encoding)) {
    const kind = payload[0];
    if (kind === KEYFRAME) body = payload.subarray(1);
    else if (kind === CHAINED) {
      if (payload.length < 1 + PRIOR_DIGEST_BYTES) throw new PayloadError('bad_payload', `batch payload (encoding ${encoding}) ends inside its prior digest`);
      if (!prior) throw new PayloadError('prior_missing', `batch payload (encoding ${encoding}) is encoded against the last sample of the batch before it, which is not at hand`);
      if (!sha256(prior).subarray(0, PRIOR_DIGEST_BYTES).equals(payload.subarray(1, 1 + PRIOR_DIGEST_BYTES))) {
        throw new PayloadError('prior_mismatch', `batch payload (encoding ${encoding}) was encoded against another sample than the last one of the batch before it`);
      }
      body = payload.subarray(1 + PRIOR_DIGEST_BYTES);
      against = prior;
    } else throw new PayloadError('bad_payload', `batch payload (encoding ${encoding}) starts with ${kind === undefined ? 'nothing' : kind}, neither a keyframe (0) nor chained (1)`);
  }
  const inflated = against ? inflateChained(body, maxInflatedBytes, against) : inflatePayload(body, maxInflatedBytes, encoding);
  if (encoding !== BatchEncoding.BATCH_ENCODING_COLUMNAR && !isChainedEncoding(encoding)) return framedSamples(unframeSamples(inflated, maxFrames));
  // Each columnar encoding reads its own container versions: 3 a keyframe (1), 4 a keyframe or a
  // chained one (1, 2), 5 value-coded ones (3, 4); a keyframe's columns refer to no prior.
  const version = inflated[0];
  const values = encoding === BatchEncoding.BATCH_ENCODING_CHAINED_VALUES;
  const own = values ? COLUMNAR_VERSION_VALUES : COLUMNAR_VERSION;
  const ownPrior = values ? COLUMNAR_VERSION_VALUES_PRIOR : COLUMNAR_VERSION_PRIOR;
  if (encoding === BatchEncoding.BATCH_ENCODING_COLUMNAR && version === COLUMNAR_VERSION_PRIOR) {
    throw new PayloadError('bad_payload', `batch payload (encoding 3): columnar payload version ${COLUMNAR_VERSION_PRIOR} refers to a prior sample, which only encoding 4 has`);
  }
  if (version !== own && version !== ownPrior) {
    const has = encoding === BatchEncoding.BATCH_ENCODING_COLUMNAR ? `${own}` : `${own} and ${ownPrior}`;
    throw new PayloadError('bad_payload', `batch payload (encoding ${encoding}): columnar payload version ${version ?? 'missing'}, encoding ${encoding} has ${has}`);
  }
  if (isChainedEncoding(encoding) && (version === ownPrior) !== (against !== null)) {
    throw new PayloadError('bad_payload', `batch payload (encoding ${encoding}): ${against ? 'chained, but its columns do not refer to a prior' : 'a keyframe whose columns refer to a prior'}`);
  }
  let batch: ColumnarBatch;
  try {
    batch = readColumnar(inflated, maxInflatedBytes, maxFrames, against);
  } catch (err) {
    if (err instanceof ColumnarError) throw new PayloadError(err.tooLarge ? 'payload_too_large' : 'bad_payload', `batch payload (encoding ${encoding}): ${err.message}`);
    throw err;
  }
  return { count: batch.samples.length, frame: (i) => asBuffer(batch.frame(i)), columnar: batch };
}

/**
 * The framed entries of a payload as they are inside it (delta-encoded ones not expanded); at most
 * `maxFrames` (the header's count), else PayloadError. `prior`: for a chained payload
 * (payloadChained), the last frame of the batch before it (as this function returned it for that
 * batch); without it, or with another one, PayloadError prior_missing / prior_mismatch. Ignored
 * for every other payload.
 */
export function payloadFrames(encoding: number, payload: Uint8Array, maxInflatedBytes = VERIFY_MAX_INFLATED_BYTES, maxFrames = Infinity, prior: Uint8Array | null = null): Buffer[] {
  const samples = payloadSamples(encoding, payload, maxInflatedBytes, maxFrames, prior);
  return Array.from({ length: samples.count }, (_, i) => samples.frame(i));
}

/** The prior a batch's frames give the batch after it (payloadFrames' `prior`): its last frame, or null when it has none. */
export function lastFrame(frames: readonly Uint8Array[]): Uint8Array | null {
  return frames.length ? frames[frames.length - 1]! : null;
}

/** lastFrame of a payload read with payloadSamples: the one sample it rebuilds. */
export function lastSample(samples: PayloadSamples): Buffer | null {
  return samples.count ? samples.frame(samples.count - 1) : null;
}

/** Complete samples' bytes (as the agent took them) from a payload: for tests and tools. */
export function payloadSampleBytes(encoding: number, payload: Uint8Array, maxInflatedBytes = VERIFY_MAX_INFLATED_BYTES, prior: Uint8Array | null = null): Uint8Array[] {
  return decodePayload(encoding, payload, maxInflatedBytes, undefined, Infinity, prior).map((s: ISample) => assay.v1.Sample.encode(s).finish());
}
