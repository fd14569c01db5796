// Sealing a batch: the header that commits to its samples and to the previous batch, signed.
import { batchHash, samplesDigest } from '../proto/chain.js';
import { assay } from '../proto/codec.js';

export interface BatchDraft {
  agentId: string;
  seqs: number[];
  /** Each sample's encoded bytes, in `seqs` order: exactly what is sent and stored. */
  samples: Uint8Array[];
  prevHash: Uint8Array;
  gaps?: assay.v1.IGap[];
  sealedMs: number;
  /** samplesDigest(samples), when the caller has it already (bench/collector-agents.ts seals the same samples for thousands of simulated agents). */
  samplesDigest?: Uint8Array;
}

export interface Sealed {
  header: Uint8Array;
  signature: Uint8Array;
  hash: Buffer;
}

export function sealBatch(d: BatchDraft, sign: (header: Uint8Array) => Uint8Array): Sealed {
  const header = assay.v1.BatchHeader.encode({
    agentId: d.agentId,
    seqs: d.seqs,
    prevHash: d.prevHash,
    samplesDigest: d.samplesDigest ?? samplesDigest(d.samples),
    gaps: d.gaps ?? [],
    sealedMs: d.sealedMs,
  }).finish();
  return { header, signature: sign(header), hash: batchHash(header) };
}
