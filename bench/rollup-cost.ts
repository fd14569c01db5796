// What keeping roll-ups at ingest costs: the same 5-sample batches appended through the real
// store with the roll-up upserts on and off (alternating rounds, so a busy machine hurts both
// alike), fsync off to isolate the CPU work. Also times rebuilding the same roll-ups as a
// periodic job would (one GROUP BY over the raw rows per bucket). Not a test: prints figures.
//   npm run build && node dist/bench/rollup-cost.js [batches=4000]
import { frameSamples } from '../proto/payload.js';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../collector/store/sqlite.js';
import { encodeSample } from '../proto/codec.js';
import { fullHello, fullSample } from '../test/helpers/messages.js';

const batches = Math.min(Math.max(Number(process.argv[2] ?? 4000), 100), 100_000);
const dir = mkdtempSync(join(tmpdir(), 'assay-rollup-cost-'));

async function round(withRollups: boolean, r: number): Promise<number> {
  const store = new SqliteStore(join(dir, `r${r}.db`));
  store.db.pragma('synchronous = OFF');
  if (!withRollups) store.rollups.add = () => {};
  await store.upsertHost(fullHello('h'), 0);
  const t0 = 1_795_000_000_000;
  const pre = Array.from({ length: batches }, (_, b) =>
    Array.from({ length: 5 }, (_, i) => {
      const seq = b * 5 + i + 1;
      const sample = fullSample(t0 + seq * 1000, 100 + (seq % 7));
      return { seq, sample, bytes: encodeSample(sample) };
    }),
  );
  let head: Uint8Array = new Uint8Array();
  const start = process.hrtime.bigint();
  for (const [b, samples] of pre.entries()) {
    const hash = createHash('sha256').update(`b${b}`).digest();
    await store.appendBatch('h', { hash, prevHash: head, header: new Uint8Array([1]), signature: new Uint8Array([2]), encoding: 0, payload: frameSamples(samples.map((x) => x.bytes)), samples, gaps: [] }, t0);
    head = hash;
  }
  const us = Number(process.hrtime.bigint() - start) / 1000 / batches;
  await store.close();
  return us;
}

try {
  const on: number[] = [];
  const off: number[] = [];
  for (let r = 0; r < 6; r++) (r % 2 ? on : off).push(await round(r % 2 === 1, r));
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`rollup-cost: ${batches} batches of 5 samples, 3 rounds each, alternating; fsync off`);
  console.log(`  append without roll-ups: ${med(off).toFixed(0)} µs/batch (rounds ${off.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`  append with roll-ups:    ${med(on).toFixed(0)} µs/batch (rounds ${on.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`  roll-up share at ingest: ${(((med(on) - med(off)) / med(off)) * 100).toFixed(1)} %`);
  // The periodic-job alternative: rebuild the roll-ups of the same rows with GROUP BY.
  const store = new SqliteStore(join(dir, 'r1.db'));
  const t = process.hrtime.bigint();
  // The stored per-sample figures (packed, sample-figures.ts) averaged per minute.
  for (const h of store.db.prepare('SELECT host_key FROM rollup_hosts').all() as Array<{ host_key: number }>) {
    store.figures.summaries(h.host_key, 0, Number.MAX_SAFE_INTEGER, 60_000, Number.MAX_SAFE_INTEGER);
  }
  const jobUs = Number(process.hrtime.bigint() - t) / 1000 / batches;
  await store.close();
  console.log(`  periodic GROUP BY over the same raw rows: ${jobUs.toFixed(0)} µs per batch's worth of rows (plus a scan that grows with the interval, and roll-ups behind by up to one interval)`);
  console.log(`loadavg ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
