// The fleet list's in-memory sparklines: 10 s buckets over 10 minutes, fed by ingest, seeded once
// from the store, bounded in hosts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FleetTrends, TREND_MS } from '../../collector/fleet-trends.js';
import type { SampleSummary } from '../../collector/store/store.js';

const T = 1_800_000_000_000; // a multiple of 10 s
const summary = (tsMs: number, cpuPct: number): SampleSummary => ({
  seq: 0, tsMs, cpuPct, load1: 0, memUsedBytes: 0, memTotalBytes: 0, gpuUtilPct: null, gpuMemUsedBytes: null, powerWatts: 50,
  diskReadBytesPerSec: 0, diskWriteBytesPerSec: 0, netRxBytesPerSec: 0, netTxBytesPerSec: 0,
});

test('seeds a host once from the store, then follows ingest in 10 s buckets', async () => {
  const t = new FleetTrends();
  const loads: Array<[number, number, number]> = [];
  const load = async (from: number, to: number, points: number): Promise<SampleSummary[]> => {
    loads.push([from, to, points]);
    return [summary(T - 15_000, 10), summary(T - 5_000, 20)];
  };
  const a = await t.trend('h', T - 1, load);
  assert.deepEqual(loads, [[T - TREND_MS, T - 1, 60]], 'one read, aligned to the buckets');
  assert.deepEqual(a.cpuPct, [10, 20]);
  assert.deepEqual(a.gpuPct, [null, null]);
  // Ingest: two samples in the next bucket average; an older-than-window bucket drops out.
  t.add('h', [{ tsMs: T + 1_000, cpu: { totalPct: 30 }, gpus: [{ utilPct: 80 }] }, { tsMs: T + 2_000, cpu: { totalPct: 50 }, gpus: [{ utilPct: 90 }] }]);
  const b = await t.trend('h', T + 2_000, load);
  assert.equal(loads.length, 1, 'no second read');
  assert.deepEqual(b.cpuPct, [10, 20, 40]);
  assert.deepEqual(b.gpuPct, [null, null, 85]);
  assert.deepEqual(b.tsMs, [T - 15_000, T - 5_000, T + 2_000]);
  const later = await t.trend('h', T + TREND_MS - 12_000, load);
  assert.deepEqual(later.cpuPct, [20, 40], 'the bucket that began 10 min before is gone');
  // A lap later the same slot is reused, not summed into.
  t.add('h', [{ tsMs: T + TREND_MS + 1_000, cpu: { totalPct: 70 } }]);
  assert.deepEqual((await t.trend('h', T + TREND_MS + 1_000, load)).cpuPct, [70]);
});

test('ingest for a host not in memory is ignored, and at most maxHosts rings are kept', async () => {
  const t = new FleetTrends(3);
  t.add('x', [{ tsMs: T, cpu: { totalPct: 1 } }]);
  assert.equal(t.size, 0);
  const load = async (): Promise<SampleSummary[]> => [];
  for (const id of ['a', 'b', 'c', 'd']) await t.trend(id, T, load);
  assert.equal(t.size, 3);
});
