// What reading chained batches back costs the store (collector/store/chain-read.ts), on SQLite with
// the recorded server host's samples (bench/data/server-host.trace.ndjson.gz, as the agent sends
// them): 120 batches of 5 sealed with encoding 4 (a keyframe every CHAIN_MAX_BATCHES) and the same
// samples with encoding 3 in another host. Reads:
//   window at a keyframe    store.samples of one batch that decodes on its own
//   window 11 into a chain  the same for the batch 11 after a keyframe: the read walks back (11 loads and decodes)
//   all 600 samples         one read in chain order (each batch's last sample the next one's prior)
// Each the median of `rounds` reads (the two hosts' reads alternated, after 5 warm-up reads each), in
// ms of wall time (one process).
// Also one retention round (payloads not moved into segments) deleting up to the cutoff: encoding 4
// keeps back to the keyframe of the oldest kept batch (the keep-back walk reads its chain).
// Usage: node dist/bench/chain-read.js [rounds=30]
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { sealBatch } from '../agent/batch.js';
import { quantizeSample } from '../agent/quantize.js';
import { SqliteStore } from '../collector/store/sqlite.js';
import { retentionOptions } from '../collector/store/retention.js';
import { generateAgentKeys, signBytes } from '../proto/chain.js';
import { assay, encodeSample } from '../proto/codec.js';
import { BatchEncoding, CHAIN_MAX_BATCHES } from '../proto/payload.js';
import { tempDir } from '../test/helpers/env.js';
import { fullHello } from '../test/helpers/messages.js';
import { asSentSockets, readTraceSamples } from './payload-sizes.js';

const rounds = Number(process.argv[2] ?? 30);
const keys = generateAgentKeys();
const trace = readTraceSamples('bench/data/server-host.trace.ndjson.gz').slice(0, 600).map((s) => asSentSockets(quantizeSample(s)));
const T0 = 1_795_000_000_000;

async function fill(store: SqliteStore, host: string, encoding: number): Promise<void> {
  await store.upsertHost(fullHello(host), T0);
  let prevHash: Uint8Array = new Uint8Array();
  let prior: Uint8Array | null = null;
  let inChain = 0;
  for (let b = 0; b < trace.length / 5; b++) {
    const samples = trace.slice(b * 5, b * 5 + 5).map((s, i) => ({ seq: b * 5 + i + 1, sample: assay.v1.Sample.decode(encodeSample({ ...s, tsMs: T0 + (b * 5 + i) * 1000 })) }));
    const bytes = samples.map((s) => encodeSample(s.sample));
    const chained = encoding === BatchEncoding.BATCH_ENCODING_CHAINED && prior !== null && inChain < CHAIN_MAX_BATCHES;
    const sealed = sealBatch({ agentId: host, seqs: samples.map((s) => s.seq), samples: bytes, prevHash, sealedMs: 1, encoding, prior: chained ? prior : null }, (h) => signBytes(keys, h));
    const r = await store.appendBatch(host, { hash: sealed.hash, prevHash, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples, gaps: [] }, T0 + b * 5000 + 4300);
    if (r.status !== 'stored') throw new Error(`batch ${b}: ${r.status}`);
    prevHash = sealed.hash;
    prior = bytes.at(-1)!;
    inChain = chained ? inChain + 1 : 1;
  }
}

/** Median ms of `a` and of `b`, their reads alternated (so neither gets the warmer JIT or cache), after 5 warm-up reads of each. */
async function medians(a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number, number]> {
  const ms: [number[], number[]] = [[], []];
  for (let i = -5; i < rounds; i++) {
    for (const [k, fn] of [a, b].entries()) {
      const t = process.hrtime.bigint();
      await fn();
      if (i >= 0) ms[k]!.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  const mid = (xs: number[]): number => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return [mid(ms[0]), mid(ms[1])];
}

const tmp = tempDir();
const store = new SqliteStore(join(tmp.dir, 'assay.db'));
try {
  store.db.pragma('synchronous = OFF');
  await fill(store, 'columnar', BatchEncoding.BATCH_ENCODING_COLUMNAR);
  await fill(store, 'chained', BatchEncoding.BATCH_ENCODING_CHAINED);
  // Batch 24 is a keyframe (seqs 121-125), batch 35 the 11th after it (176-180).
  const at = (first: number) => [T0 + (first - 1) * 1000, T0 + (first + 3) * 1000] as const;
  const rows: Array<[string, number, number]> = [];
  for (const [what, first] of [['window at a keyframe', 121], ['window 11 into a chain', 176]] as const) {
    const [from, to] = at(first);
    rows.push([what, ...(await medians(() => store.samples('chained', from, to, 100), () => store.samples('columnar', from, to, 100)))]);
  }
  rows.push(['all 600 samples', ...(await medians(() => store.samples('chained', T0, T0 + 600_000, 1000), () => store.samples('columnar', T0, T0 + 600_000, 1000)))]);
  if (store.chainReads.batchesWithoutPrior !== 0) throw new Error('a read left batches out');
  console.log(`store.samples on SQLite, median of ${rounds} reads (ms)   encoding 4 (chained)   encoding 3 (columnar)`);
  for (const [what, c, p] of rows) console.log(`  ${what.padEnd(28)} ${c.toFixed(2).padStart(10)} ${p.toFixed(2).padStart(22)}`);
  // Retention with a 1 h window two hours on: the cutoff (seq 351) falls 10 batches into the chain of batch 60.
  const t = process.hrtime.bigint();
  let steps = 0;
  for (let done = false; !done && steps < 10_000; steps++) done = (await store.retentionStep(retentionOptions({ rawMs: 3_600_000, compactAfterMs: 30 * 86_400_000 }), T0 + 350_000 + 3_600_000)).done;
  console.log(`retention round (2 hosts, cutoff mid-chain): ${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(1)} ms in ${steps} steps; kept from seq: chained ${(await store.seqRange('chained', 0, T0 * 2))!.minSeq}, columnar ${(await store.seqRange('columnar', 0, T0 * 2))!.minSeq}`);
  console.log(`loadavg ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
} finally {
  await store.close();
  tmp.cleanup();
}
