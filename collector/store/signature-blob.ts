// How a process signature's bytes are kept in signature_blobs (SQLite and PostgreSQL): raw deflated behind a
// 0x00 byte when that is smaller (a signature's command line, executable, environment names and
// library list: ~1,360 B, ~810 B deflated on the recorded server host), else as they are. Readers
// get back exactly the canonical bytes the digest covers. No encoded ProcessSignature starts with
// 0x00 (a field tag is never 0), so rows stored as they are, before or after, read unchanged.
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** Largest signature accepted back (a corrupt row is an error, not an OOM). */
const MAX_SIGNATURE_BYTES = 4 * 1024 * 1024;

export function encodeSignatureBlob(bytes: Uint8Array): Buffer {
  const deflated = deflateRawSync(bytes, { level: 9 });
  return deflated.length + 1 < bytes.length ? Buffer.concat([Buffer.of(0), deflated]) : Buffer.from(bytes);
}

export function decodeSignatureBlob(stored: Buffer): Buffer {
  return stored[0] === 0 ? inflateRawSync(stored.subarray(1), { maxOutputLength: MAX_SIGNATURE_BYTES }) : stored;
}
