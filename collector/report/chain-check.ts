// Re-checks a collector report's hash-chain segment: every batch signed by the agent's enrolled
// key, its payload (or v2 samples) matching the signed digest and decoding to as many samples as
// it signed, and each batch linked to the one before.
import { batchHash, safeEqual, sha256, verifySignature } from '../../proto/chain.js';
import { assay } from '../../proto/codec.js';
import { BatchEncoding, isPayloadEncoding } from '../../proto/payload.js';
import { reportBatchSamples, unpackSamples } from './framing.js';
import type { HostInput } from './types.js';

export function checkChain(input: HostInput): string[] {
  const problems: string[] = [];
  const id = input.identity.id;
  const batches = input.batches ?? [];
  if (!input.identity.publicKey) return [`${id}: no agent public key in the report`];
  const key = Buffer.from(input.identity.publicKey, 'hex');
  let prevHash: Buffer | null = null;
  let prevLastSeq = 0;
  batches.forEach((b, i) => {
    const at = `${id}: batch ${i + 1}/${batches.length}`;
    const headerBytes = Buffer.from(b.header, 'base64');
    let header: assay.v1.BatchHeader;
    try {
      header = assay.v1.BatchHeader.decode(headerBytes);
    } catch (err) {
      problems.push(`${at}: header does not decode (${(err as Error).message})`);
      return;
    }
    if (header.agentId !== id) problems.push(`${at}: header names agent ${header.agentId}, not ${id}`);
    if (!verifySignature(key, headerBytes, Buffer.from(b.signature, 'base64'))) problems.push(`${at}: agent signature does not verify`);
    try {
      const signedCount = (header.seqs ?? []).length;
      const encoding = header.encoding ?? BatchEncoding.BATCH_ENCODING_SAMPLES;
      if (typeof b.payload === 'string' && b.samples === undefined) {
        // Schema 3: the digest covers the compressed payload exactly as embedded; every sample in
        // it is then inflated (bounded), its delta runs expanded and decoded.
        if (!isPayloadEncoding(encoding)) problems.push(`${at}: a payload, but the signed header says encoding ${encoding}`);
        if (!safeEqual(sha256(Buffer.from(b.payload, 'base64')), header.payloadDigest ?? new Uint8Array())) problems.push(`${at}: payload does not match the signed digest`);
        else {
          const n = reportBatchSamples(b).length;
          if (n !== signedCount) problems.push(`${at}: ${n} samples for ${signedCount} signed sequence numbers`);
        }
      } else if (typeof b.samples === 'string' && b.payload === undefined) {
        if (encoding !== BatchEncoding.BATCH_ENCODING_SAMPLES) problems.push(`${at}: samples, but the signed header says encoding ${encoding}`);
        const { framed, samples } = unpackSamples(b.samples, signedCount);
        if (!safeEqual(sha256(framed), header.samplesDigest ?? new Uint8Array())) problems.push(`${at}: sample bytes do not match the signed digest`);
        if (samples.length !== signedCount) problems.push(`${at}: ${samples.length} samples for ${signedCount} signed sequence numbers`);
      } else {
        problems.push(`${at}: a batch carries either its payload or its samples`);
      }
    } catch (err) {
      problems.push(`${at}: samples unreadable (${(err as Error).message})`);
    }
    const prev = Buffer.from(header.prevHash ?? new Uint8Array());
    if (prevHash && !safeEqual(prev, prevHash)) problems.push(`${at}: prev_hash does not link to the batch before it (batch missing, reordered or spliced)`);
    const seqs = (header.seqs ?? []).map(Number);
    if (seqs.length && seqs[0]! <= prevLastSeq) problems.push(`${at}: sequence numbers go back (${seqs[0]} after ${prevLastSeq})`);
    if (seqs.length) prevLastSeq = seqs.at(-1)!;
    prevHash = batchHash(headerBytes);
  });
  return problems;
}
