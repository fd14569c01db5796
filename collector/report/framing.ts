// Sample bytes inside a report. A schema-3 batch embeds its payload as signed (base64); a v2
// batch and a scan embed samples framed as (u32 big-endian length || bytes), exactly the framing
// samplesDigest hashes, gzipped and base64-encoded: the digest of a v2 batch is then SHA-256 of
// the unzipped blob, so a verifier checks the agent's signature over the very bytes.
import { gunzipSync, gzipSync } from 'node:zlib';
import { assay, decodeSample } from '../../proto/codec.js';
import { BatchEncoding, VERIFY_MAX_INFLATED_BYTES, decodePayload } from '../../proto/payload.js';

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

/**
 * A report batch's samples, decoded and complete: from its schema-3 payload (inflated within
 * VERIFY_MAX_INFLATED_BYTES, delta runs expanded) or its v2 samples. Throws when unreadable.
 */
export function reportBatchSamples(b: { header: string; samples?: string; payload?: string }): assay.v1.Sample[] {
  const header = assay.v1.BatchHeader.decode(Buffer.from(b.header, 'base64'));
  // No more samples are read than the agent signed sequence numbers for.
  const signed = (header.seqs ?? []).length;
  if (typeof b.payload === 'string') {
    // How the payload is compressed is in the signed header (deflate, or brotli since 2026-12-07).
    const encoding = header.encoding ?? BatchEncoding.BATCH_ENCODING_DEFLATE;
    return decodePayload(encoding, Buffer.from(b.payload, 'base64'), VERIFY_MAX_INFLATED_BYTES, undefined, signed);
  }
  if (typeof b.samples === 'string') return unpackSamples(b.samples, signed).samples.map((x) => decodeSample(x));
  throw new Error('batch carries neither a payload nor samples');
}
