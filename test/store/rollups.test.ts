// Roll-ups (collector/store/rollups.ts) on real SQLite files: every 1-minute and 1-hour row equals
// the averages of the raw rows it summarises, resends do not count twice, migration 5 rolls up
// what was stored before it, and long-range charts read roll-ups (they survive the raw rows).
import { frameSamples } from '../../proto/payload.js';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { encodeSample } from '../../proto/codec.js';
import { tempDir } from '../helpers/env.js';
import { fullHello } from '../helpers/messages.js';
import { Feeder, chartSample, every } from '../helpers/series-data.js';

const H = 3_600_000;
const T0 = Math.floor(1_795_000_000_000 / H) * H;

interface Avg {
  b: number;
  n: number;
  cpu: number;
  load1: number;
  mem: number;
  mem_total: number;
  gpu: number | null;
  gpu_mem: number | null;
  power: number | null;
  dr: number;
  dw: number;
  rx: number;
  tx: number;
  cpu_max: number;
  last_seq: number;
}

function rawAverages(store: SqliteStore, hostId: string, widthMs: number): Avg[] {
  return store.db
    .prepare(
      `SELECT ts_ms / ${widthMs} AS b, COUNT(*) AS n, AVG(cpu_pct) AS cpu, AVG(load1) AS load1, AVG(mem_used_bytes) AS mem, MAX(mem_total_bytes) AS mem_total,
         AVG(gpu_util_pct) AS gpu, AVG(gpu_mem_used_bytes) AS gpu_mem, AVG(power_watts) AS power, AVG(disk_read_bps) AS dr, AVG(disk_write_bps) AS dw,
         AVG(net_rx_bps) AS rx, AVG(net_tx_bps) AS tx, MAX(cpu_pct) AS cpu_max, MAX(seq) AS last_seq
       FROM samples WHERE host_id = ? GROUP BY b ORDER BY b`,
    )
    .all(hostId) as Avg[];
}

const close = (a: number | null, b: number | null, what: string): void => {
  if (a === null || b === null) return assert.equal(a, b, what);
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)) + 1, `${what}: ${a} vs ${b}`);
};

async function assertRollupsMatchRaw(store: SqliteStore, hostId: string): Promise<number> {
  let checked = 0;
  for (const [res, width] of [['1m', 60_000], ['1h', H]] as const) {
    const raw = rawAverages(store, hostId, width);
    const rows = await store.rollupRows(hostId, res, 0, Number.MAX_SAFE_INTEGER / 2, 1_000_000);
    assert.equal(rows.length, raw.length, `${res}: one roll-up row per bucket with samples`);
    rows.forEach((r, i) => {
      const w = raw[i]!;
      const at = `${res} bucket ${w.b}`;
      assert.equal(r.startMs, w.b * width, at);
      assert.equal(r.samples, w.n, `${at} samples`);
      assert.equal(r.lastSeq, w.last_seq, `${at} lastSeq`);
      close(r.cpuPct, w.cpu, `${at} cpu`);
      close(r.cpuPctMax, w.cpu_max, `${at} cpu max`);
      close(r.load1, w.load1, `${at} load1`);
      close(r.memUsedBytes, w.mem, `${at} mem`);
      assert.equal(r.memTotalBytes, w.mem_total, `${at} mem total`);
      close(r.gpuUtilPct, w.gpu, `${at} gpu`);
      close(r.gpuMemUsedBytes, w.gpu_mem, `${at} gpu mem`);
      close(r.powerWatts, w.power, `${at} power`);
      close(r.diskReadBytesPerSec, w.dr, `${at} disk read`);
      close(r.diskWriteBytesPerSec, w.dw, `${at} disk write`);
      close(r.netRxBytesPerSec, w.rx, `${at} net rx`);
      close(r.netTxBytesPerSec, w.tx, `${at} net tx`);
      checked++;
    });
  }
  return checked;
}

test('roll-ups: every 1-minute and 1-hour row equals the averages of its raw rows; a resent batch does not count twice', async () => {
  const tmp = tempDir();
  const store = new SqliteStore(join(tmp.dir, 'assay.db'));
  try {
    await store.upsertHost(fullHello('r1'), T0);
    const f = new Feeder(store, 'r1');
    // 2.5 hours at 1 Hz with jitter, in 7-sample batches (batches straddle minute and hour edges).
    const rows = every(9000, 1, T0 + 250, 1000).map((r) => ({ ...r, tsMs: r.tsMs + (r.seq % 3) * 90 }));
    await f.feed(rows, 7);
    // The last batch again (a resend after a lost ack) changes nothing.
    const last = rows.slice(-((rows.length % 7) || 7));
    const samples = last.map((r) => ({ seq: r.seq, sample: chartSample(r.seq, r.tsMs), bytes: encodeSample(chartSample(r.seq, r.tsMs)) }));
    const dup = await store.appendBatch('r1', { hash: f.head, prevHash: new Uint8Array(), header: new Uint8Array([1]), signature: new Uint8Array([2]), encoding: 0, payload: frameSamples(samples.map((x) => x.bytes)), samples, gaps: [] }, T0 + 10 * H);
    assert.equal(dup.status, 'duplicate');
    const checked = await assertRollupsMatchRaw(store, 'r1');
    assert.equal(checked, 150 + 3, '150 minutes and 3 hours checked');
    // GPU readings on even minutes only: an odd minute's roll-up has none, not a zero.
    const oddMinute = (await store.rollupRows('r1', '1m', 0, Number.MAX_SAFE_INTEGER / 2, 10)).find((r) => (r.startMs / 60_000) % 2 === 1)!;
    assert.equal(oddMinute.gpuUtilPct, null);
    assert.equal(oddMinute.gpuMemUsedBytes, null);
  } finally {
    await store.close();
    tmp.cleanup();
  }
});

test('roll-ups: migration 5 rolls up the samples stored before it', async () => {
  const tmp = tempDir();
  const path = join(tmp.dir, 'assay.db');
  try {
    const a = new SqliteStore(path);
    await a.upsertHost(fullHello('m1'), T0);
    await new Feeder(a, 'm1').feed(every(1800, 1, T0 + 500, 2000), 10);
    const before = await a.rollupRows('m1', '1m', 0, Number.MAX_SAFE_INTEGER / 2, 1_000_000);
    // Back to the schema before migration 5, with the samples in place.
    a.db.exec("DROP TABLE rollup_1m; DROP TABLE rollup_1h; DROP TABLE rollup_hosts; DROP INDEX gaps_by_end; DELETE FROM schema_migrations WHERE version = 5");
    await a.close();
    const b = new SqliteStore(path);
    try {
      assert.equal(await assertRollupsMatchRaw(b, 'm1'), 60 + 1);
      const after = await b.rollupRows('m1', '1m', 0, Number.MAX_SAFE_INTEGER / 2, 1_000_000);
      assert.equal(after.length, before.length);
      after.forEach((r, i) => {
        assert.equal(r.samples, before[i]!.samples);
        close(r.cpuPct, before[i]!.cpuPct, `minute ${i} cpu (summed in another order)`);
      });
    } finally {
      await b.close();
    }
  } finally {
    tmp.cleanup();
  }
});

test('charts: long ranges read roll-ups (same figures as the raw rows, and still there without them); short ranges read raw rows', async () => {
  const tmp = tempDir();
  const store = new SqliteStore(join(tmp.dir, 'assay.db'));
  try {
    store.db.pragma('synchronous = OFF'); // durability is not under test; speed on a shared machine is
    await store.upsertHost(fullHello('c1'), T0);
    // 3 days, one sample every 10 s, batches of 30.
    const rows = every(3 * 8640, 1, T0, 10_000);
    await new Feeder(store, 'c1').feed(rows, 30);
    const from = T0;
    const to = T0 + 3 * 24 * H - 1;
    // 72 buckets of exactly one hour each, aligned with the hourly roll-ups.
    const long = await store.sampleSummaries('c1', from, to, 72);
    assert.equal(long.length, 72);
    const raw = rawAverages(store, 'c1', H);
    long.forEach((s, i) => {
      const w = raw[i]!;
      close(s.cpuPct, w.cpu, `hour ${i} cpu`);
      close(s.powerWatts, w.power, `hour ${i} power`);
      close(s.gpuUtilPct, w.gpu, `hour ${i} gpu`);
      close(s.memUsedBytes, w.mem, `hour ${i} mem`);
      close(s.netRxBytesPerSec, w.rx, `hour ${i} rx`);
      assert.equal(s.seq, w.last_seq, `hour ${i} seq`);
    });
    // 15-minute buckets over a day read the 1-minute roll-ups.
    const day = await store.sampleSummaries('c1', T0, T0 + 24 * H - 1, 96);
    assert.equal(day.length, 96);
    const raw15 = rawAverages(store, 'c1', 15 * 60_000);
    day.forEach((s, i) => close(s.cpuPct, raw15[i]!.cpu, `quarter ${i} cpu`));
    const short = await store.sampleSummaries('c1', T0 + H, T0 + H + 300_000, 300);
    assert.equal(short.length, 31, 'a 5-minute chart gets one row per raw sample');

    // Without the raw rows, long-range charts are unchanged (they never read them)…
    store.db.exec("DELETE FROM samples WHERE host_id = 'c1'");
    assert.deepEqual(await store.sampleSummaries('c1', from, to, 72), long);
    assert.deepEqual(await store.sampleSummaries('c1', T0, T0 + 24 * H - 1, 96), day);
    // …while a short range, which reads raw rows, has nothing until retention says the raw
    // rows are gone: then it falls back to the 1-minute roll-ups.
    assert.equal((await store.sampleSummaries('c1', T0 + H, T0 + H + 300_000, 300)).length, 0);
    store.db.prepare("UPDATE rollup_hosts SET raw_pruned_ms = ? WHERE host_id = 'c1'").run(T0 + 3 * 24 * H);
    const fallback = await store.sampleSummaries('c1', T0 + H, T0 + H + 300_000 - 1, 300);
    assert.equal(fallback.length, 5, 'five 1-minute roll-ups');
  } finally {
    await store.close();
    tmp.cleanup();
  }
});
