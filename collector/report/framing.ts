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

/** The framed bytes (what samplesDigest hashes) and the samples they hold. Throws on bad framing. */
export function unpackSamples(blob: string): { framed: Buffer; samples: Buffer[] } {
  const framed = gunzipSync(Buffer.from(blob, 'base64'));
  const samples: Buffer[] = [];
  let off = 0;
  while (off < framed.length) {
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
  if (typeof b.payload === 'string') {
    // How the payload is compressed is in the signed header (deflate, or brotli since 2026-12-07).
    const encoding = assay.v1.BatchHeader.decode(Buffer.from(b.header, 'base64')).encoding ?? BatchEncoding.BATCH_ENCODING_DEFLATE;
    return decodePayload(encoding, Buffer.from(b.payload, 'base64'), VERIFY_MAX_INFLATED_BYTES);
  }
  if (typeof b.samples === 'string') return unpackSamples(b.samples).samples.map((x) => decodeSample(x));
  throw new Error('batch carries neither a payload nor samples');
}
