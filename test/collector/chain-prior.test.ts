// collector/store/chain.ts: the prior of a chained batch, found by walking back by prev_hash to the
// keyframe and decoding forward, through a synchronous and an asynchronous loader alike; a batch
// gone on the way gives null (the caller leaves that batch out), a chain beyond the walk limit is
// refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readTraceSamples, asSentSockets } from '../../bench/payload-sizes.js';
import { quantizeSample } from '../../agent/quantize.js';
import { sealBatch } from '../../agent/batch.js';
import { generateAgentKeys, signBytes } from '../../proto/chain.js';
import { encodeSample } from '../../proto/codec.js';
import { BatchEncoding, CHAIN_MAX_BATCHES, PayloadError, payloadChained, payloadFrames } from '../../proto/payload.js';
import { priorOf, priorOfSync, type ChainBatch } from '../../collector/store/chain.js';

const keys = generateAgentKeys();
const samples = readTraceSamples('bench/data/server-host.trace.ndjson.gz').slice(0, 100).map((s) => encodeSample(asSentSockets(quantizeSample(s))));

interface Sealed extends ChainBatch {
  hash: Buffer;
  samples: Uint8Array[];
}

/** Batches of 5 sealed as the agent's spool seals them, chained up to `maxRun` batches (beyond CHAIN_MAX_BATCHES only to test the walk limit). */
function sealChain(n: number, maxRun = CHAIN_MAX_BATCHES, empty: number[] = []): Sealed[] {
  const out: Sealed[] = [];
  let run = 0;
  for (let i = 0; i < n; i++) {
    const s = empty.includes(i) ? [] : samples.slice((i * 5) % 95, ((i * 5) % 95) + 5);
    const before = out.at(-1);
    const prior = before && before.samples.length && run < maxRun ? before.samples.at(-1)! : null;
    const b = sealBatch({ agentId: 'a1', seqs: s.map((_, j) => i * 5 + j + 1), samples: s, prevHash: before?.hash ?? Buffer.alloc(0), sealedMs: 1, prior, encoding: BatchEncoding.BATCH_ENCODING_CHAINED }, (h) => signBytes(keys, h));
    run = payloadChained(b.encoding, b.payload) ? run + 1 : 1;
    out.push({ header: b.header, encoding: b.encoding, payload: b.payload, hash: b.hash, samples: s });
  }
  return out;
}

const byHash = (batches: Sealed[]): Map<string, Sealed> => new Map(batches.map((b) => [b.hash.toString('hex'), b]));

test('the prior of each batch of a chain is the last sample of the batch before, through either loader, walking back no further than the keyframe', async () => {
  const batches = sealChain(30);
  assert.equal(batches[0]!.encoding, BatchEncoding.BATCH_ENCODING_CHAINED);
  const map = byHash(batches);
  for (let i = 1; i < batches.length; i++) {
    const loads: number[] = [];
    const load = (h: Uint8Array): Sealed | undefined => {
      loads.push(i);
      return map.get(Buffer.from(h).toString('hex'));
    };
    const prevHash = batches[i - 1]!.hash;
    const want = Buffer.from(batches[i - 1]!.samples.at(-1)!);
    const sync = priorOfSync(prevHash, load);
    const walked = loads.length;
    const asyncPrior = await priorOf(prevHash, async (h) => load(h));
    assert.ok(sync && Buffer.from(sync).equals(want), `batch ${i}: sync prior`);
    assert.ok(asyncPrior && Buffer.from(asyncPrior).equals(want), `batch ${i}: async prior`);
    assert.ok(walked <= CHAIN_MAX_BATCHES, `batch ${i}: ${walked} batches read`);
    // And with it, the batch decodes to its samples.
    const frames = payloadFrames(batches[i]!.encoding, batches[i]!.payload, undefined, undefined, sync);
    frames.forEach((f, j) => assert.ok(f.equals(Buffer.from(batches[i]!.samples[j]!))));
  }
});

test('a batch gone on the way (retention, never stored) or without samples gives null; no prev_hash gives null', async () => {
  const batches = sealChain(10, CHAIN_MAX_BATCHES, [3]);
  const map = byHash(batches);
  // Batch 4 follows the empty batch 3: it is a keyframe, and the prior batch 3 gives is null.
  assert.equal(payloadChained(batches[4]!.encoding, batches[4]!.payload), false);
  assert.equal(priorOfSync(batches[3]!.hash, (h) => map.get(Buffer.from(h).toString('hex'))), null);
  // Batch 7 chains back to keyframe 4; with batch 5 gone its prior cannot be rebuilt.
  map.delete(batches[5]!.hash.toString('hex'));
  assert.equal(priorOfSync(batches[6]!.hash, (h) => map.get(Buffer.from(h).toString('hex'))), null);
  assert.equal(await priorOf(batches[6]!.hash, async (h) => map.get(Buffer.from(h).toString('hex'))), null);
  assert.equal(priorOfSync(new Uint8Array(0), () => assert.fail('nothing to load')), null);
});

test('a chain longer than the walk limit is refused as bad_payload, not walked without end', () => {
  const batches = sealChain(20, 1000);
  const map = byHash(batches);
  const load = (h: Uint8Array): Sealed | undefined => map.get(Buffer.from(h).toString('hex'));
  assert.ok(priorOfSync(batches[18]!.hash, load, 64));
  assert.throws(() => priorOfSync(batches[18]!.hash, load, 10), (e: unknown) => e instanceof PayloadError && /no keyframe within 10 batches/.test(e.message));
});
