// Sample bytes inside a report: each sample framed as (u32 big-endian length || bytes), exactly
// the framing samplesDigest hashes, gzipped and base64-encoded. The digest of a batch is then
// SHA-256 of the unzipped blob, so a verifier checks the agent's signature over the very bytes.
import { gunzipSync, gzipSync } from 'node:zlib';

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
