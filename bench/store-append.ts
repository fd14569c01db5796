// Store append throughput, SQLite vs PostgreSQL, without the network: N simulated agents append
// real signed batches (sealed and signed as the agent does, samples of test/helpers/messages.ts)
// concurrently through the Store interface for a bounded time; prints samples/s and the p50/p99
// latency of appendBatch (what an ack waits for) and the machine's loadavg. Both stores durable:
// SQLite synchronous=FULL, PostgreSQL fsync=on with synchronous_commit on (a throwaway cluster
// from Debian's server binaries, as the tests use). Not a test: prints figures.
//   npm run build && node dist/bench/store-append.js [sqlite|postgres|both] [agents=200] [seconds=10] [samples-per-batch=5]
//   (PostgreSQL: BENCH_PG_POOL connections, 10; BENCH_PG_SHARDS commit queues, 4)
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { sealBatch } from '../agent/batch.js';
import { generateAgentKeys, signBytes } from '../proto/chain.js';
import { assay } from '../proto/codec.js';
import { PostgresStore } from '../collector/store/postgres.js';
import { SqliteStore } from '../collector/store/sqlite.js';
import type { IncomingSample, Store } from '../collector/store/store.js';
import type { GroupCommitStats } from '../collector/store/commit-queue.js';
import { tempDir } from '../test/helpers/env.js';
import { fullHello, fullSample } from '../test/helpers/messages.js';
import { startPostgres } from '../test/helpers/postgres.js';

const which = process.argv[2] ?? 'both';
const agents = Math.min(Math.max(Number(process.argv[3] ?? 200), 1), 5000);
const seconds = Math.min(Math.max(Number(process.argv[4] ?? 10), 1), 120);
const perBatch = Math.min(Math.max(Number(process.argv[5] ?? 5), 1), 1000);
const keys = generateAgentKeys();

async function run(name: string, store: Store): Promise<void> {
  const ids = Array.from({ length: agents }, (_, i) => `bench-${i}`);
  for (const id of ids) await store.upsertHost({ ...fullHello(id), publicKey: keys.publicKey }, Date.now());
  const latencies: number[] = [];
  const s0 = (store as { commits?: { stats: GroupCommitStats } }).commits?.stats;
  const before = { groups: s0?.groups ?? 0, writes: s0?.writes ?? 0 };
  let samples = 0;
  const deadline = Date.now() + seconds * 1000;
  const t0 = Date.now();
  await Promise.all(
    ids.map(async (id) => {
      let prev: Uint8Array = new Uint8Array();
      let seq = 1;
      while (Date.now() < deadline) {
        const base = Date.now() - 60_000;
        const incoming: IncomingSample[] = Array.from({ length: perBatch }, (_, k) => {
          const sample = fullSample(base + k * 1000, 100 + k);
          return { seq: seq + k, sample };
        });
        const sealed = sealBatch({ agentId: id, seqs: incoming.map((s) => s.seq), samples: incoming.map((s) => assay.v1.Sample.encode(s.sample).finish()), prevHash: prev, sealedMs: Date.now() }, (h) => signBytes(keys, h));
        const start = performance.now();
        const r = await store.appendBatch(id, { hash: sealed.hash, prevHash: prev, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples: incoming, gaps: [] }, Date.now());
        latencies.push(performance.now() - start);
        if (r.status !== 'stored') throw new Error(`${name}: batch ${seq} of ${id} was ${r.status}`);
        samples += r.accepted;
        prev = sealed.hash;
        seq += perBatch;
      }
    }),
  );
  const elapsed = (Date.now() - t0) / 1000;
  const stats = (store as { commits?: { stats: GroupCommitStats } }).commits?.stats;
  const commits = stats ? { groups: stats.groups - before.groups, writes: stats.writes - before.writes } : null;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): string => (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0).toFixed(1);
  console.log(
    `${name.padEnd(10)} agents ${agents}  samples/batch ${perBatch}  ${latencies.length} batches in ${elapsed.toFixed(1)} s: ` +
      `${Math.round(samples / elapsed)} samples/s, append p50 ${pct(0.5)} ms p99 ${pct(0.99)} ms max ${pct(1)} ms` +
      (commits ? `, ${commits.groups} commits, ${(commits.writes / Math.max(1, commits.groups)).toFixed(1)} writes/commit` : ''),
  );
}

console.log(`store-append: loadavg before ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
if (which === 'sqlite' || which === 'both') {
  const tmp = tempDir('assay-bench-');
  const store = new SqliteStore(join(tmp.dir, 'bench.db'));
  try {
    await run('sqlite', store);
  } finally {
    await store.close();
    tmp.cleanup();
  }
}
if (which === 'postgres' || which === 'both') {
  const cluster = await startPostgres({ fsync: true });
  try {
    const store = await PostgresStore.open(await cluster.createDatabase('assay_bench'), { maxConnections: Number(process.env.BENCH_PG_POOL ?? 10), groupShards: Number(process.env.BENCH_PG_SHARDS ?? 4), maintainEveryMs: 0 });
    try {
      await run('postgres', store);
    } finally {
      await store.close();
    }
  } finally {
    await cluster.stop();
  }
}
console.log(`store-append: loadavg after ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
