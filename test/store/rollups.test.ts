// Roll-ups (collector/store/rollups.ts) on real SQLite files: every 1-minute and 1-hour row equals
// the averages of the raw rows it summarises, resends do not count twice, migration 5 rolls up
// what was stored before it, and long-range charts read roll-ups (they survive the raw rows).
import { frameSamples } from '../../proto/payload.js';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { applyMigration, sqliteMigrations } from '../../collector/store/migrations.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { summarize } from '../../collector/store/store.js';
import type { SampleSummary } from '../../collector/store/store.js';
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

/** The raw per-sample figures averaged per bucket (what the roll-ups must equal), from the stored figures. */
function rawAverages(store: SqliteStore, hostId: string, widthMs: number): Avg[] {
  const key = store.figures.keyOf(hostId);
  const rows = key === null ? [] : store.figures.inRange(key, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const buckets = new Map<number, SampleSummary[]>();
  for (const r of rows) {
    const b = Math.floor(r.tsMs / widthMs);
    buckets.set(b, [...(buckets.get(b) ?? []), r]);
  }
  const avg = (xs: SampleSummary[], f: (x: SampleSummary) => number | null): number | null => {
    const v = xs.map(f).filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, x) => a + x, 0) / v.length : null;
  };
  return [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([b, xs]) => ({
      b, n: xs.length, cpu: avg(xs, (x) => x.cpuPct)!, load1: avg(xs, (x) => x.load1)!, mem: avg(xs, (x) => x.memUsedBytes)!,
      mem_total: Math.max(...xs.map((x) => x.memTotalBytes)), gpu: avg(xs, (x) => x.gpuUtilPct), gpu_mem: avg(xs, (x) => x.gpuMemUsedBytes),
      power: avg(xs, (x) => x.powerWatts), dr: avg(xs, (x) => x.diskReadBytesPerSec)!, dw: avg(xs, (x) => x.diskWriteBytesPerSec)!,
      rx: avg(xs, (x) => x.netRxBytesPerSec)!, tx: avg(xs, (x) => x.netTxBytesPerSec)!, cpu_max: Math.max(...xs.map((x) => x.cpuPct)), last_seq: Math.max(...xs.map((x) => x.seq)),
    })) as Avg[];
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
    // The same samples through today's store, for the roll-ups it keeps at ingest…
    const a = new SqliteStore(join(tmp.dir, 'today.db'));
    await a.upsertHost(fullHello('m1'), T0);
    const series = every(1800, 1, T0 + 500, 2000);
    await new Feeder(a, 'm1').feed(series, 10);
    const before = await a.rollupRows('m1', '1m', 0, Number.MAX_SAFE_INTEGER / 2, 1_000_000);
    await a.close();
    // …and in a database as version 4 left it: per-sample rows, no roll-ups.
    const old = new Database(path);
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)');
    for (const m of sqliteMigrations.filter((x) => x.version <= 4)) {
      applyMigration(old, m);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
    }
    old.prepare("INSERT INTO hosts (id, hostname, agent_version, first_seen_ms, last_seen_ms) VALUES ('m1', 'm1', '0.1.0', ?, ?)").run(T0, T0);
    const ins = old.prepare(`INSERT INTO samples (host_id, seq, ts_ms, cpu_pct, load1, mem_used_bytes, mem_total_bytes, gpu_util_pct, gpu_mem_used_bytes, power_watts,
      disk_read_bps, disk_write_bps, net_rx_bps, net_tx_bps) VALUES ('m1', @seq, @tsMs, @cpuPct, @load1, @memUsedBytes, @memTotalBytes, @gpuUtilPct, @gpuMemUsedBytes, @powerWatts,
      @diskReadBytesPerSec, @diskWriteBytesPerSec, @netRxBytesPerSec, @netTxBytesPerSec)`);
    for (const s of series) ins.run(summarize(s.seq, chartSample(s.seq, s.tsMs)));
    old.close();
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
    store.db.exec("DELETE FROM sample_figures WHERE host_key = (SELECT host_key FROM rollup_hosts WHERE host_id = 'c1')");
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
