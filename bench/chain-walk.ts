// What one walk back to a keyframe costs (collector/store/chain.ts priorOf: what ingest does for
// the first chained batch after a reconnect, and did for every resend of a head batch), over the
// recorded server host's samples as the agent sends them, batches of 5, chained from one keyframe:
// at CHAIN_MAX_BATCHES (the deepest an agent seals, and what ingest now accepts) and at
// CHAIN_WALK_LIMIT (what ingest walked before). The loader is an in-memory map (no store time):
// this is the decode work alone. Mean of `rounds` walks after 20 warm-up walks, ms of wall time.
// Usage: node dist/bench/chain-walk.js [rounds=200]
import { loadavg } from 'node:os';
import { sealBatch } from '../agent/batch.js';
import { quantizeSample } from '../agent/quantize.js';
import { priorOf, type ChainBatch } from '../collector/store/chain.js';
import { generateAgentKeys, signBytes } from '../proto/chain.js';
import { encodeSample } from '../proto/codec.js';
import { BatchEncoding, CHAIN_MAX_BATCHES, CHAIN_WALK_LIMIT } from '../proto/payload.js';
import { asSentSockets, readTraceSamples } from './payload-sizes.js';

const rounds = Number(process.argv[2] ?? 200);
const keys = generateAgentKeys();
const samples = readTraceSamples('bench/data/server-host.trace.ndjson.gz').slice(0, 5 * CHAIN_WALK_LIMIT).map((s) => encodeSample(asSentSockets(quantizeSample(s))));

async function walk(depth: number): Promise<number> {
  const byHash = new Map<string, ChainBatch>();
  let prior: Uint8Array | null = null;
  let prev: Uint8Array = Buffer.alloc(0);
  for (let i = 0; i < depth; i++) {
    const s = samples.slice(i * 5, i * 5 + 5);
    const b = sealBatch({ agentId: 'bench', seqs: s.map((_, j) => i * 5 + j + 1), samples: s, prevHash: prev, sealedMs: 1, prior, encoding: BatchEncoding.BATCH_ENCODING_CHAINED }, (h) => signBytes(keys, h));
    byHash.set(Buffer.from(b.hash).toString('hex'), b);
    prior = s.at(-1)!;
    prev = b.hash;
  }
  const load = async (h: Uint8Array): Promise<ChainBatch | undefined> => byHash.get(Buffer.from(h).toString('hex'));
  for (let i = 0; i < 20; i++) await priorOf(prev, load, depth);
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) await priorOf(prev, load, depth);
  return (performance.now() - t0) / rounds;
}

for (const depth of [CHAIN_MAX_BATCHES, CHAIN_WALK_LIMIT]) {
  console.log(`walk back through ${depth} batches of 5 server samples: ${(await walk(depth)).toFixed(2)} ms (mean of ${rounds})`);
}
console.log(`loadavg ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
