// Reading stored batches back when some are chained (BATCH_ENCODING_CHAINED, proto/payload.ts):
// the stores' decode paths (samples, retention's newest batch) and raw retention's keep-back.
//
// A read goes through a host's batches in chain order (by sequence number) with one ChainReader:
// each batch's last frame is the prior of the next, so only the first chained batch of a read walks
// back (chain.ts priorOf / priorOfSync, over the same store by hash). A chained batch whose prior is
// gone (retention deleted it, or it was never stored: the first batch a collector saw of a chain
// begun elsewhere) or cannot be read is left out of the read, as a sample whose batch is gone is
// left out today, and counted (ChainReadStats, /metrics); the batches chained to it after it are
// left out with it without walking again.
import { safeEqual } from '../../proto/chain.js';
import { assay, type ISample } from '../../proto/codec.js';
import { CHAIN_MAX_BATCHES, CHAIN_WALK_LIMIT, PayloadError, VERIFY_MAX_INFLATED_BYTES, decodeFrames, lastFrame, payloadChained, payloadFrames } from '../../proto/payload.js';
import { drive, driveSync, priorOf, priorOfSync, type ChainBatch } from './chain.js';

/** What reads left out for want of a prior (both stores count into one of these). */
export interface ChainReadStats {
  /** Chained batches left out of a read: their prior is gone (retention, never stored) or cannot be read. */
  batchesWithoutPrior: number;
  /** The samples of those batches. */
  samplesWithoutPrior: number;
}

export const noChainReads = (): ChainReadStats => ({ batchesWithoutPrior: 0, samplesWithoutPrior: 0 });

/** A stored batch as a read goes through it. */
export interface ReadBatch extends ChainBatch {
  hash: Uint8Array;
}

/** One batch of a read: its sequence numbers (the header's) and samples, or null when it was left out (no prior). */
export interface ReadSamples {
  seqs: number[];
  samples: ISample[] | null;
}

export type LoadSync = (hash: Uint8Array) => ChainBatch | null | undefined;
export type Load = (hash: Uint8Array) => Promise<ChainBatch | null | undefined>;

const prevHashOf = (header: assay.v1.BatchHeader): Uint8Array => header.prevHash ?? new Uint8Array();

/** A prior, or null when it could not be had: a PayloadError (a batch on the way unreadable, no keyframe within the walk limit). */
function priorOrNull(get: () => Uint8Array | null): Uint8Array | null {
  try {
    return get();
  } catch (err) {
    if (err instanceof PayloadError) return null;
    throw err;
  }
}

/** priorOrNull for an asynchronous walk. */
async function priorOrNullAsync(get: () => Promise<Uint8Array | null>): Promise<Uint8Array | null> {
  try {
    return await get();
  } catch (err) {
    if (err instanceof PayloadError) return null;
    throw err;
  }
}

/**
 * Decodes the batches of one read, given in chain order (oldest first). Not shared between reads:
 * it holds the last batch's final frame.
 */
export class ChainReader {
  /** The batch read last: its hash and the prior it gives the next one (null: none, it had no samples or was left out). */
  private last: { hash: Uint8Array; frame: Uint8Array | null } | null = null;

  constructor(private readonly stats: ChainReadStats) {}

  /** The batch's samples; a chained one not following the batch read before walks back through `load`. */
  readSync(b: ReadBatch, load: LoadSync): ReadSamples {
    const header = assay.v1.BatchHeader.decode(b.header);
    if (!payloadChained(b.encoding, b.payload)) return this.decode(b, header, null);
    const prevHash = prevHashOf(header);
    const prior = this.follows(prevHash) ? this.last!.frame : priorOrNull(() => priorOfSync(prevHash, load));
    return this.decode(b, header, prior, true);
  }

  /** readSync with an asynchronous loader (PostgreSQL). */
  async read(b: ReadBatch, load: Load): Promise<ReadSamples> {
    const header = assay.v1.BatchHeader.decode(b.header);
    if (!payloadChained(b.encoding, b.payload)) return this.decode(b, header, null);
    const prevHash = prevHashOf(header);
    const prior = this.follows(prevHash) ? this.last!.frame : await priorOrNullAsync(() => priorOf(prevHash, load));
    return this.decode(b, header, prior, true);
  }

  private follows(prevHash: Uint8Array): boolean {
    return this.last !== null && prevHash.length > 0 && safeEqual(this.last.hash, prevHash);
  }

  private decode(b: ReadBatch, header: assay.v1.BatchHeader, prior: Uint8Array | null, chained = false): ReadSamples {
    const seqs = (header.seqs ?? []).map(Number);
    if (chained && !prior) return this.leftOut(b, seqs);
    let frames: Buffer[];
    try {
      frames = payloadFrames(b.encoding, b.payload, VERIFY_MAX_INFLATED_BYTES, Infinity, prior);
    } catch (err) {
      // The prior found is not the one it was encoded against (a batch stored under that hash that differs): as gone.
      if (err instanceof PayloadError && (err.reason === 'prior_missing' || err.reason === 'prior_mismatch')) return this.leftOut(b, seqs);
      this.last = null;
      throw err;
    }
    this.last = { hash: b.hash, frame: lastFrame(frames) };
    return { seqs, samples: decodeFrames(b.encoding, frames) };
  }

  private leftOut(b: ReadBatch, seqs: number[]): ReadSamples {
    this.stats.batchesWithoutPrior++;
    this.stats.samplesWithoutPrior += seqs.length;
    // The batches chained to this one cannot be read either: they are left out without walking again.
    this.last = { hash: b.hash, frame: null };
    return { seqs, samples: null };
  }
}

/** A header's prev_hash, or null when the header does not decode. */
function headerPrevHash(header: Uint8Array): Uint8Array | null {
  try {
    return prevHashOf(assay.v1.BatchHeader.decode(header));
  } catch {
    return null;
  }
}

/**
 * The prior one batch needs, found through `load` (the stores' newest batch, for retention's
 * signature sweep): null when it decodes on its own, undefined when it is chained and its prior is
 * gone or cannot be read.
 */
export function priorNeededSync(b: ChainBatch, load: LoadSync): Uint8Array | null | undefined {
  if (!payloadChained(b.encoding, b.payload)) return null;
  const prevHash = headerPrevHash(b.header);
  return prevHash ? (priorOrNull(() => priorOfSync(prevHash, load)) ?? undefined) : undefined;
}

/** priorNeededSync with an asynchronous loader. */
export async function priorNeeded(b: ChainBatch, load: Load): Promise<Uint8Array | null | undefined> {
  if (!payloadChained(b.encoding, b.payload)) return null;
  const prevHash = headerPrevHash(b.header);
  return prevHash ? ((await priorOrNullAsync(() => priorOf(prevHash, load))) ?? undefined) : undefined;
}

/** What raw retention's keep-back reads of a stored batch. */
export interface KeepBatch extends ChainBatch {
  firstSeq: number;
  samples: number;
}

/** A batch row as both stores' retention read it for the keep-back walk (SQLite adds where its payload sits). */
export interface KeepRow {
  first_seq: number;
  samples: number;
  header: Buffer;
  encoding: number;
  payload: Buffer;
}
/** The columns of a KeepRow. */
export const KEEP_COLUMNS = 'first_seq, samples, header, encoding, payload';
/** A KeepRow as the walk takes it (`payload`: the row's, or where the store keeps it). */
export const keepBatchOf = (r: KeepRow, payload: Uint8Array = r.payload): KeepBatch => ({ firstSeq: r.first_seq, samples: r.samples, header: r.header, encoding: r.encoding, payload });

/**
 * The walk of keepFrom, as a generator yielding each hash it needs and receiving that batch (or
 * null): from the oldest batch retention keeps back by prev_hash while the batch is chained, to the
 * keyframe its chain starts at. Returns the lowest first_seq on the way. It stops at a batch that
 * is not stored (that prior is gone already), one without samples (nothing to chain to), a header
 * that does not decode, and after `limit` batches (a reader never walks further: beyond, the batch
 * is unreadable whatever is kept).
 */
function* keepBack(oldest: KeepBatch, limit: number): Generator<Uint8Array, number, KeepBatch | null | undefined> {
  let keep = oldest.firstSeq;
  let cur = oldest;
  for (let i = 0; i < limit && payloadChained(cur.encoding, cur.payload); i++) {
    const prevHash = headerPrevHash(cur.header);
    if (!prevHash?.length) break;
    const prev = yield prevHash;
    if (!prev || prev.samples === 0) break;
    keep = Math.min(keep, prev.firstSeq);
    cur = prev;
  }
  return keep;
}

/**
 * The first sequence number raw retention must keep so that `oldest`, the oldest batch it keeps,
 * still decodes: the first_seq of the keyframe of its chain (at most CHAIN_WALK_LIMIT batches back;
 * the agent seals one at least every CHAIN_MAX_BATCHES). `load`: a stored batch of the host by hash.
 */
export function keepFromSync(oldest: KeepBatch, load: (hash: Uint8Array) => KeepBatch | null | undefined, limit = CHAIN_WALK_LIMIT): number {
  return driveSync(keepBack(oldest, limit), load);
}

/** keepFromSync with an asynchronous loader (PostgreSQL). */
export function keepFrom(oldest: KeepBatch, load: (hash: Uint8Array) => Promise<KeepBatch | null | undefined>, limit = CHAIN_WALK_LIMIT): Promise<number> {
  return drive(keepBack(oldest, limit), load);
}

/**
 * Which of a read's batches (in chain order, each with its first and last sequence number) to
 * decode for the sequence numbers `wanted` (ascending): those holding one, and the CHAIN_MAX_BATCHES
 * - 1 before each such batch (what an agent's chain needs to hand it its prior without a walk). The
 * rest are skipped: a read by time selects sequence numbers, and an agent's clock (or an agent)
 * may put a few samples far from the others in sequence, which made a read decode every batch in
 * between (the whole raw window of a host, for a host page of one minute). A chained batch after a
 * skipped stretch walks back by hash instead (ChainReader), as far as the first batch of any read.
 */
export function batchesToRead(rows: ReadonlyArray<{ first_seq: number; last_seq: number }>, wanted: readonly number[]): boolean[] {
  const holds = rows.map((r) => {
    const first = r.first_seq;
    // The first wanted seq at or after the batch's first (binary search).
    let lo = 0;
    let hi = wanted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (wanted[mid]! < first) lo = mid + 1;
      else hi = mid;
    }
    return lo < wanted.length && wanted[lo]! <= r.last_seq;
  });
  const read = holds.slice();
  let until = -1;
  for (let i = rows.length - 1; i >= 0; i--) {
    if (holds[i]) until = i;
    if (until >= 0 && until - i < CHAIN_MAX_BATCHES) read[i] = true;
  }
  return read;
}
