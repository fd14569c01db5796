// The prior of a chained batch (BATCH_ENCODING_CHAINED, proto/payload.ts): the last sample of the
// batch its header's prev_hash names. Readers that go through a host's batches in chain order pass
// each batch's last frame on (lastFrame); only the first chained batch of a read comes here, which
// walks back by prev_hash to the keyframe (at most CHAIN_WALK_LIMIT batches) and decodes forward.
// The same walk for a synchronous loader (SQLite) and an asynchronous one (PostgreSQL, ingest).
import { assay } from '../../proto/codec.js';
import { CHAIN_WALK_LIMIT, PayloadError, VERIFY_MAX_INFLATED_BYTES, lastSample, payloadChained, payloadSamples } from '../../proto/payload.js';

/** What the walk reads of a stored batch. */
export interface ChainBatch {
  header: Uint8Array;
  encoding: number;
  payload: Uint8Array;
}

/** The walk found no keyframe within its limit: the chain is longer than a reader walks (a PayloadError, bad_payload). */
export class ChainTooLongError extends PayloadError {
  constructor(readonly limit: number) {
    super('bad_payload', `chained batch: no keyframe within ${limit} batches before it`);
  }
}

const prevHashOf = (b: ChainBatch): Uint8Array => assay.v1.BatchHeader.decode(b.header).prevHash ?? new Uint8Array();

/**
 * The walk, as a generator that yields each hash it needs and receives that batch (or null): the
 * batches from the one named by `prevHash` back to the nearest keyframe, then decoded forward.
 * Returns the last frame of the batch named by `prevHash`, or null when a batch on the way is not
 * there (retention deleted it, or it was never stored) or has no samples. Throws PayloadError when
 * one cannot be read, or when the chain is longer than `limit`.
 */
function* walk(prevHash: Uint8Array, limit: number): Generator<Uint8Array, Uint8Array | null, ChainBatch | null | undefined> {
  const back: ChainBatch[] = [];
  let hash = prevHash;
  for (;;) {
    if (hash.length === 0) return null;
    if (back.length >= limit) throw new ChainTooLongError(limit);
    const b = yield hash;
    if (!b) return null;
    back.push(b);
    if (!payloadChained(b.encoding, b.payload)) break;
    hash = prevHashOf(b);
  }
  let prior: Uint8Array | null = null;
  for (let i = back.length - 1; i >= 0; i--) {
    const b = back[i]!;
    // Every sample checked, only the last rebuilt.
    prior = lastSample(payloadSamples(b.encoding, b.payload, VERIFY_MAX_INFLATED_BYTES, Infinity, prior));
    // A batch without samples gives nothing to chain to (the agent seals a keyframe after one).
    if (!prior) return null;
  }
  return prior;
}

/** Runs a walk (a generator yielding the hashes it needs) with a synchronous loader of stored batches by hash. */
export function driveSync<B, R>(w: Generator<Uint8Array, R, B | null | undefined>, load: (hash: Uint8Array) => B | null | undefined): R {
  let step = w.next();
  while (!step.done) step = w.next(load(step.value));
  return step.value;
}

/** driveSync with an asynchronous loader. */
export async function drive<B, R>(w: Generator<Uint8Array, R, B | null | undefined>, load: (hash: Uint8Array) => Promise<B | null | undefined>): Promise<R> {
  let step = w.next();
  while (!step.done) step = w.next(await load(step.value));
  return step.value;
}

/** The prior of a batch whose header's prev_hash is `prevHash`, read through `load` (a stored batch by its hash); see walk. */
export function priorOf(prevHash: Uint8Array, load: (hash: Uint8Array) => Promise<ChainBatch | null | undefined>, limit = CHAIN_WALK_LIMIT): Promise<Uint8Array | null> {
  return drive(walk(prevHash, limit), load);
}

/** priorOf with a synchronous loader (SQLite). */
export function priorOfSync(prevHash: Uint8Array, load: (hash: Uint8Array) => ChainBatch | null | undefined, limit = CHAIN_WALK_LIMIT): Uint8Array | null {
  return driveSync(walk(prevHash, limit), load);
}
