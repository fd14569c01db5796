// ChainReader (collector/store/chain-read.ts) over real sealed encoding-4 batches: a read in chain
// order hands each batch's last sample to the next, so only its first chained batch walks back
// (counted here by the loads it asks for), and a batch whose prior is gone is left out with the
// batches chained to it, without walking again for each.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChainReader, keepFromSync, noChainReads, type ReadSamples } from '../../collector/store/chain-read.js';
import type { ChainBatch } from '../../collector/store/chain.js';
import { assay } from '../../proto/codec.js';
import { chainedBatches, sealedBySeq, type ChainedBatch } from './suite.js';

const T0 = 1_795_000_000_000;

/** The samples a read gave, as encoded bytes by seq. */
function readBytes(results: ReadSamples[]): Map<number, Buffer> {
  return new Map(results.flatMap((r) => (r.samples ? r.samples.map((s, i): [number, Buffer] => [r.seqs[i]!, Buffer.from(assay.v1.Sample.encode(s).finish())]) : [])));
}

/** A loader by hash over `stored` that counts what it is asked. */
function loader(stored: readonly ChainedBatch[]): { loads: number; load: (hash: Uint8Array) => ChainBatch | null } {
  const byHash = new Map(stored.map((b) => [Buffer.from(b.hash).toString('hex'), b]));
  const l = {
    loads: 0,
    load: (hash: Uint8Array): ChainBatch | null => {
      l.loads++;
      return byHash.get(Buffer.from(hash).toString('hex')) ?? null;
    },
  };
  return l;
}

test('chain-read: a read from the middle of a chain walks back once, then each batch hands its last sample to the next', async () => {
  // 30 batches of 5 (keyframes 0, 12, 24).
  const batches = chainedBatches(1, 30, 5, T0);
  const sealed = sealedBySeq(batches);
  for (const [from, loads] of [[5, 5], [0, 0], [11, 11], [12, 0], [23, 11]] as const) {
    const stats = noChainReads();
    const l = loader(batches);
    const reader = new ChainReader(stats);
    const results = batches.slice(from).map((b) => reader.readSync(b, l.load));
    assert.equal(l.loads, loads, `from batch ${from}: the walk back to its keyframe only`);
    assert.deepEqual(readBytes(results), new Map([...sealed].filter(([seq]) => seq > from * 5)));
    assert.deepEqual(stats, noChainReads());
    // The same with an asynchronous loader (PostgreSQL).
    const la = loader(batches);
    const ra = new ChainReader(noChainReads());
    const async: ReadSamples[] = [];
    for (const b of batches.slice(from)) async.push(await ra.read(b, async (h) => la.load(h)));
    assert.equal(la.loads, loads);
    assert.deepEqual(readBytes(async), readBytes(results));
  }
});

test('chain-read: a batch whose prior is gone is left out with the batches chained to it, each counted, without walking again', () => {
  const batches = chainedBatches(1, 30, 5, T0);
  // Batch 8 is not stored (deleted, or never received).
  const stored = batches.filter((_, i) => i !== 8);
  const stats = noChainReads();
  const l = loader(stored);
  const reader = new ChainReader(stats);
  const results = stored.slice(3).map((b) => reader.readSync(b, l.load));
  // Batch 3 walks back to 0 (3 loads); batch 9 does not follow 7 and asks for 8 (1 load); 10 and 11 follow 9.
  assert.equal(l.loads, 4);
  assert.deepEqual(stats, { batchesWithoutPrior: 3, samplesWithoutPrior: 15 });
  assert.deepEqual(results.map((r) => r.samples === null), stored.slice(3).map((b) => [45, 50, 55].includes(b.samples[0]!.seq - 1)));
  assert.deepEqual(readBytes(results), sealedBySeq([...batches.slice(3, 8), ...batches.slice(12)]));
});

test('chain-read: keepFrom reaches back to the keyframe of the oldest kept batch, and no further than is stored', () => {
  const batches = chainedBatches(1, 30, 5, T0);
  const keep = (stored: readonly ChainedBatch[], i: number): number => {
    const byHash = new Map(stored.map((b) => [Buffer.from(b.hash).toString('hex'), b]));
    const asKept = (b: ChainedBatch) => ({ ...b, firstSeq: b.samples[0]!.seq, samples: b.samples.length });
    return keepFromSync(asKept(batches[i]!), (h) => {
      const b = byHash.get(Buffer.from(h).toString('hex'));
      return b ? asKept(b) : null;
    });
  };
  assert.equal(keep(batches, 17), 61, 'batch 17 chains back to batch 12, the keyframe');
  assert.equal(keep(batches, 12), 61, 'a keyframe needs nothing before it');
  assert.equal(keep(batches, 11), 1);
  assert.equal(keep(batches.filter((_, i) => i !== 14), 17), 76, 'batch 14 is gone: 15 is as far back as anything is stored');
});
