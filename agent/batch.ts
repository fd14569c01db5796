// Sealing a batch: the header that commits to its samples and to the previous batch, signed.
// Schema 3 (the default): the samples travel as one payload (proto/payload.ts: columnar and brotli,
// the first sample encoded against the batch before where chained; older encodings framed, brotli or
// raw deflate) and the header commits to it by payload_digest, so the signature covers
// the compressed bytes the collector stores and a report embeds. BATCH_ENCODING_SAMPLES is the
// v2 form (one encoded sample each, samples_digest), kept for batches sealed before an upgrade
// and for tests of v2 agents.
import { batchHash, samplesDigest, sha256 } from '../proto/chain.js';
import { assay } from '../proto/codec.js';
import { AGENT_BATCH_ENCODING, BatchEncoding, encodePayload, frameSamples, unframeSamples } from '../proto/payload.js';

export interface BatchDraft {
  agentId: string;
  seqs: number[];
  /** Each sample's complete encoded bytes, in `seqs` order. */
  samples: Uint8Array[];
  prevHash: Uint8Array;
  gaps?: assay.v1.IGap[];
  sealedMs: number;
  /** samplesDigest(samples), when the caller has it already (bench/collector-agents.ts seals the same samples for thousands of simulated agents). */
  samplesDigest?: Uint8Array;
  /** Default AGENT_BATCH_ENCODING (BATCH_ENCODING_CHAINED). */
  encoding?: assay.v1.BatchEncoding;
  /**
   * BATCH_ENCODING_CHAINED: the last sample (complete encoded bytes) of the batch `prevHash` names,
   * to encode this batch's first sample against; null or absent: a keyframe. Ignored by the other encodings.
   */
  prior?: Uint8Array | null;
  /**
   * encodePayload(samples, encoding) when the caller has it already: bench/collector-agents.ts
   * signs the same payload into thousands of simulated agents' chains, compressing it once.
   */
  payload?: Uint8Array;
}

export interface Sealed {
  header: Uint8Array;
  signature: Uint8Array;
  hash: Buffer;
  encoding: assay.v1.BatchEncoding;
  /**
   * What the header commits to and the collector stores: the compressed payload
   * (BATCH_ENCODING_CHAINED, _COLUMNAR, _BROTLI or _DEFLATE, sent as SignedBatch.payload), or the framed samples
   * (BATCH_ENCODING_SAMPLES, sent as SignedBatch.samples).
   */
  payload: Uint8Array;
}

export function sealBatch(d: BatchDraft, sign: (header: Uint8Array) => Uint8Array): Sealed {
  const encoding = d.encoding ?? AGENT_BATCH_ENCODING;
  const v2 = encoding === BatchEncoding.BATCH_ENCODING_SAMPLES;
  const payload = v2 ? frameSamples(d.samples) : (d.payload ?? encodePayload(d.samples, encoding, d.prior ?? null));
  const header = assay.v1.BatchHeader.encode({
    agentId: d.agentId,
    seqs: d.seqs,
    prevHash: d.prevHash,
    ...(v2 ? { samplesDigest: d.samplesDigest ?? samplesDigest(d.samples) } : { encoding, payloadDigest: sha256(payload) }),
    gaps: d.gaps ?? [],
    sealedMs: d.sealedMs,
  }).finish();
  return { header, signature: sign(header), hash: batchHash(header), encoding, payload };
}

/** The SignedBatch message for a sealed batch (v2: its samples unframed from the payload). */
export function signedBatchMessage(b: Pick<Sealed, 'header' | 'signature' | 'encoding' | 'payload'>): assay.v1.ISignedBatch {
  if (b.encoding === BatchEncoding.BATCH_ENCODING_SAMPLES) return { header: b.header, signature: b.signature, samples: unframeSamples(b.payload) };
  return { header: b.header, signature: b.signature, payload: b.payload };
}
