// Sample bytes inside a report. A schema-3 batch embeds its payload as signed (base64); a v2
// batch and a scan embed samples framed as (u32 big-endian length || bytes), exactly the framing
// samplesDigest hashes, gzipped and base64-encoded: the digest of a v2 batch is then SHA-256 of
// the unzipped blob, so a verifier checks the agent's signature over the very bytes.
import { gunzipSync, gzipSync } from 'node:zlib';
import { assay, decodeSample } from '../../proto/codec.js';
import { BatchEncoding, PayloadError, VERIFY_MAX_INFLATED_BYTES, decodeFrames, lastFrame, payloadFrames } from '../../proto/payload.js';

export function packSamples(samples: readonly Uint8Array[]): string {
  const parts: Buffer[] = [];
  for (const s of samples) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(s.length, 0);
    parts.push(len, Buffer.from(s.buffer, s.byteOffset, s.byteLength));
  }
  return gzipSync(Buffer.concat(parts), { level: 9 }).toString('base64');
}

/**
 * Most samples one scan report's blob may hold: a frame is at least 4 bytes, so the inflation
 * bound alone let 64 MiB of zeros (an 81 KB report) stand for 16 million empty samples, and
 * `assay verify` ran out of memory decoding them. One per 128 bytes of the bound: 524,288 (six
 * days at 1 Hz; a real sample's protobuf is a few hundred bytes at the least, ~7 KB on a server).
 */
export const MAX_SCAN_SAMPLES = VERIFY_MAX_INFLATED_BYTES / 128;

/**
 * The framed bytes (what samplesDigest hashes) and the samples they hold: inflated within
 * VERIFY_MAX_INFLATED_BYTES (a 348 KB gzip bomb took verify to 5 GB and a heap abort) and at most
 * `maxSamples` of them (a v2 batch: its header's count). Throws on bad framing or beyond either.
 */
export function unpackSamples(blob: string, maxSamples: number): { framed: Buffer; samples: Buffer[] } {
  let framed: Buffer;
  try {
    framed = gunzipSync(Buffer.from(blob, 'base64'), { maxOutputLength: VERIFY_MAX_INFLATED_BYTES });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) throw new Error(`samples inflate to more than ${VERIFY_MAX_INFLATED_BYTES} bytes`);
    throw err;
  }
  const samples: Buffer[] = [];
  let off = 0;
  while (off < framed.length) {
    if (samples.length >= maxSamples) throw new Error(`more than the ${maxSamples} samples expected`);
    if (off + 4 > framed.length) throw new Error('truncated sample framing');
    const len = framed.readUInt32BE(off);
    off += 4;
    if (off + len > framed.length) throw new Error('truncated sample');
    samples.push(framed.subarray(off, off + len));
    off += len;
  }
  return { framed, samples };
}

/** A report batch as the decoders below read it (ReportBatch's fields). */
export interface EmbeddedBatch {
  header: string;
  samples?: string;
  payload?: string;
}

/** A report batch decoded: its samples, complete, and the prior it gives the batch after it. */
export interface DecodedBatch {
  samples: assay.v1.Sample[];
  /** Its last sample's frame (proto/payload.ts lastFrame): a chained next batch is decoded against it. Null without samples. */
  last: Uint8Array | null;
}

/**
 * A report batch's samples, decoded and complete: from its schema-3 payload (inflated within
 * VERIFY_MAX_INFLATED_BYTES, delta runs expanded) or its v2 samples. A chained payload (encoding
 * 4: its first sample encoded against the last sample of the batch before it, proto/payload.ts
 * payloadChained) needs `prior`, the `last` of that batch decoded just before it. Throws when
 * unreadable (PayloadError 'prior_missing' / 'prior_mismatch' when the prior is absent / not the one
 * the payload was encoded against).
 */
export function decodeReportBatch(b: EmbeddedBatch, prior: Uint8Array | null = null): DecodedBatch {
  const header = assay.v1.BatchHeader.decode(Buffer.from(b.header, 'base64'));
  // No more samples are read than the agent signed sequence numbers for.
  const signed = (header.seqs ?? []).length;
  if (typeof b.payload === 'string') {
    // How the payload is encoded is in the signed header (deflate, brotli, columnar, chained).
    const encoding = header.encoding ?? BatchEncoding.BATCH_ENCODING_DEFLATE;
    const frames = payloadFrames(encoding, Buffer.from(b.payload, 'base64'), VERIFY_MAX_INFLATED_BYTES, signed, prior);
    return { samples: decodeFrames(encoding, frames), last: lastFrame(frames) };
  }
  if (typeof b.samples === 'string') {
    const frames = unpackSamples(b.samples, signed).samples;
    return { samples: frames.map((x) => decodeSample(x)), last: lastFrame(frames) };
  }
  throw new Error('batch carries neither a payload nor samples');
}

/** A batch that cannot be decoded in a report's chain order, with the reason in words. */
export class ReportChainError extends Error {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(message);
    this.name = 'ReportChainError';
  }
}

/**
 * Why the batch at `index` (0-based, in chain order) did not decode, in words a reader of `assay
 * verify` can act on. `prevOk`: whether the batch before it decoded.
 */
export function chainProblem(err: unknown, index: number, prevOk: boolean): string {
  const reason = err instanceof PayloadError ? err.reason : null;
  if (reason === 'prior_missing') {
    if (index === 0) {
      return (
        'it is chained (its first sample is encoded against the last sample of the batch before it in the hash chain), ' +
        'but the report does not embed that batch (context batch missing): its samples cannot be decoded'
      );
    }
    return prevOk
      ? 'it is chained, but the batch before it holds no sample to decode its first sample against'
      : 'it is chained to the batch before it, whose samples could not be read: its samples cannot be decoded';
  }
  if (reason === 'prior_mismatch') {
    return (
      'it is chained, but its first sample was encoded against a different sample than the last one of the batch before it ' +
      '(prior does not match: a batch altered, reordered or spliced)'
    );
  }
  return `samples unreadable (${(err as Error).message})`;
}

/**
 * Each batch's samples in chain order (the order a report embeds them), a chained payload
 * decoded against the batch before it; one batch at a time, so a caller holds no more than it
 * keeps. Throws ReportChainError naming the first batch that does not decode.
 */
export function* reportChainSamples(batches: readonly EmbeddedBatch[]): Generator<assay.v1.Sample[], void, void> {
  let prior: Uint8Array | null = null;
  for (const [i, b] of batches.entries()) {
    let d: DecodedBatch;
    try {
      d = decodeReportBatch(b, prior);
    } catch (err) {
      throw new ReportChainError(i, `batch ${i + 1}/${batches.length}: ${chainProblem(err, i, true)}`);
    }
    prior = d.last;
    yield d.samples;
  }
}
