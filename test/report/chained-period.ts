// A stored period of chained batches (encoding 4) written with the store API as ingest writes
// it: each batch's first sample encoded against the last sample of the batch before it, a
// keyframe (a batch that decodes on its own) every CHAIN_MAX_BATCHES batches, as the agent seals.
import { sealBatch } from '../../agent/batch.js';
import type { Store } from '../../collector/store/store.js';
import { signBytes } from '../../proto/chain.js';
import { encodeSample } from '../../proto/codec.js';
import { BatchEncoding, CHAIN_MAX_BATCHES } from '../../proto/payload.js';
import { sample, type Agent } from './stored-period.js';

/**
 * Seals and commits samples in batches of `per` (received right after their last sample), in
 * `encoding`: BATCH_ENCODING_CHAINED chains each batch to the one before, with a keyframe every
 * `keyEvery` batches (the first is one); any other encoding seals every batch on its own. Returns
 * each batch's hash, oldest first.
 */
export async function commitSealed(
  store: Store,
  a: Agent,
  rows: Array<{ seq: number; tsMs: number }>,
  encoding: number,
  per = 5,
  keyEvery = CHAIN_MAX_BATCHES,
): Promise<Uint8Array[]> {
  const hashes: Uint8Array[] = [];
  let prior: Uint8Array | null = null;
  for (let i = 0, n = 0; i < rows.length; i += per, n++) {
    const chunk = rows.slice(i, i + per);
    const samples = chunk.map((r) => ({ seq: r.seq, sample: sample(r.tsMs, r.seq) }));
    const bytes = samples.map((s) => encodeSample(s.sample));
    const chained = encoding === BatchEncoding.BATCH_ENCODING_CHAINED && n % keyEvery !== 0;
    const sealed = sealBatch(
      { agentId: a.id, seqs: chunk.map((r) => r.seq), samples: bytes, prevHash: a.head, sealedMs: chunk.at(-1)!.tsMs, encoding, prior: chained ? prior : null },
      (h) => signBytes(a.keys, h),
    );
    const res = await store.appendBatch(
      a.id,
      { hash: sealed.hash, prevHash: a.head, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples, gaps: [] },
      chunk.at(-1)!.tsMs + 500,
    );
    if (res.status !== 'stored') throw new Error(`batch not stored: ${res.status}`);
    a.head = sealed.hash;
    hashes.push(sealed.hash);
    prior = bytes.at(-1)!;
  }
  return hashes;
}
