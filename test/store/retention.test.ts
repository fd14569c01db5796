// Retention (collector/store/retention.ts) on a real SQLite file: each window deletes exactly what
// lies past it and nothing else, in steps of bounded size; verdicts past the raw window are
// thinned to class changes plus a few per hour (evidence kept); gaps and security events bounded.
import { frameSamples } from '../../proto/payload.js';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Verdict } from '../../collector/engine/types.js';
import { noneDeleted, retentionOptions, type Deleted } from '../../collector/store/retention.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { storedSampleCount, storedSeqs } from '../../collector/store/sample-figures.js';
import { tempDir } from '../helpers/env.js';
import { fullHello } from '../helpers/messages.js';
import { Feeder, chartSample, every } from '../helpers/series-data.js';
import { createHash } from 'node:crypto';
import { encodeSample } from '../../proto/codec.js';

const M = 60_000;
const H = 3_600_000;
const D = 24 * H;
const T0 = Math.floor(1_795_000_000_000 / D) * D;

const verdictAt = (cls: string, tsMs: number): Verdict =>
  ({
    class: cls,
    confidence: 0.9,
    scores: {},
    parts: [],
    evidence: [{ signal: 'lib.ai', value: 'libcudnn.so.9', supports: 'ai-training', weight: 0.5, detail: `at ${tsMs}`, process: { pid: 1, name: 'python3' } }],
    window: { fromMs: tsMs - 120_000, toMs: tsMs, samples: 120 },
    unavailable: [],
    rulesVersion: 'test',
  }) as unknown as Verdict;

const count = (store: SqliteStore, sql: string, ...args: unknown[]): number => (store.db.prepare(sql).get(...args) as { n: number }).n;

test('retention: raw rows, roll-ups, verdicts, gaps and security events each go exactly when past their window, in bounded steps', async () => {
  const tmp = tempDir();
  const store = new SqliteStore(join(tmp.dir, 'assay.db'), { securityEvents: { flushMs: 10 } });
  try {
    store.db.pragma('synchronous = OFF'); // durability is not under test
    const now = T0 + 41 * D + 30 * M;
    const opts = retentionOptions({ rawMs: 35 * D, rollupMs: 38 * D, verdictsPerHour: 2, maxGapsPerHost: 30, securityEventsMs: 10 * D, stepRows: 100 });
    const rawCutoff = now - opts.rawMs; // T0 + 6 d + 30 min: inside an hourly batch
    const rollupCutoff = now - opts.rollupMs; // T0 + 3 d + 30 min

    // k1: 40 days, a sample every 5 minutes, one batch per hour, a declared gap once a day.
    await store.upsertHost(fullHello('k1'), T0);
    const k1 = new Feeder(store, 'k1');
    const rows = every(40 * 288, 1, T0, 5 * M);
    for (let day = 0; day < 40; day++) {
      for (let hour = 0; hour < 24; hour++) {
        const chunk = rows.slice((day * 24 + hour) * 12, (day * 24 + hour + 1) * 12);
        const samples = chunk.map((r) => ({ seq: r.seq, sample: chartSample(r.seq, r.tsMs), bytes: encodeSample(chartSample(r.seq, r.tsMs)) }));
        const gaps = hour === 0 ? [{ fromSeq: chunk[0]!.seq, toSeq: chunk[0]!.seq, fromMs: chunk[0]!.tsMs - 1000, toMs: chunk[0]!.tsMs - 1000, cause: 'spool_thinned', samples: 1 }] : [];
        const hash = createHash('sha256').update(`k1:${day}:${hour}`).digest();
        const res = await store.appendBatch('k1', { hash, prevHash: k1.head, header: new Uint8Array([1]), signature: new Uint8Array([2]), encoding: 0, payload: frameSamples(samples.map((x) => x.bytes)), samples, gaps }, chunk.at(-1)!.tsMs + 200);
        assert.equal(res.status, 'stored');
        k1.head = hash;
      }
    }
    // Verdicts every 10 minutes: ai-training, with pow-mining for 3 of every 50 (class changes).
    const verdicts = Array.from({ length: 40 * 24 * 6 }, (_, i) => ({ tsMs: T0 + i * 10 * M + 5000, cls: i % 50 < 3 ? 'pow-mining' : 'ai-training' }));
    for (const v of verdicts) await store.putVerdict('k1', v.tsMs, verdictAt(v.cls, v.tsMs));
    // k2: recent only; nothing of it is past any window.
    await store.upsertHost(fullHello('k2'), now - 2 * D);
    await new Feeder(store, 'k2').feed(every(500, 1, now - 2 * D, 60_000), 10);
    for (let i = 0; i < 20; i++) await store.putVerdict('k2', now - 2 * D + i * M, verdictAt('idle', now - 2 * D + i * M));
    // Security events: one window 20 days old, one an hour old.
    await store.recordSecurityEvent({ tsMs: now - 20 * D, hostId: null, peer: '192.0.2.1:5000', reason: 'bad_signature', detail: 'old' });
    await store.recordSecurityEvent({ tsMs: now - H, hostId: null, peer: '192.0.2.1:5000', reason: 'bad_signature', detail: 'new' });
    assert.equal((await store.securityEvents(10)).length, 2);

    const k1Before1m = await store.rollupRows('k1', '1m', rollupCutoff, now, 1_000_000);
    const k1Before1h = await store.rollupRows('k1', '1h', rollupCutoff, now, 1_000_000);
    const k2Samples = storedSampleCount(store.db, 'k2');

    // The prune, one step at a time, with ingest between steps.
    const total: Deleted = noneDeleted();
    let steps = 0;
    let k2Seq = 501;
    for (let done = false; !done && steps < 10_000; steps++) {
      const r = await store.retentionStep(opts, now);
      const n = Object.values(r.deleted).reduce((a, b) => a + b, 0);
      assert.ok(n <= opts.stepRows, `step ${steps} deleted ${n} rows, over the step bound ${opts.stepRows}`);
      for (const k of Object.keys(total) as Array<keyof Deleted>) total[k] += r.deleted[k];
      done = r.done;
      if (steps % 10 === 0) {
        const s = chartSample(k2Seq, now - M + k2Seq);
        const hash = createHash('sha256').update(`k2-live:${k2Seq}`).digest();
        const head = (await store.getHost('k2'))!.chainHead!;
        const res = await store.appendBatch('k2', { hash, prevHash: head, header: new Uint8Array([1]), signature: new Uint8Array([2]), encoding: 0, payload: frameSamples([encodeSample(s)]), samples: [{ seq: k2Seq, sample: s }], gaps: [] }, now);
        assert.equal(res.status, 'stored', 'ingest goes on between steps');
        k2Seq++;
      }
    }
    const all = Object.values(total).reduce((a, b) => a + b, 0);
    assert.ok(all > 1500 && steps >= Math.ceil(all / opts.stepRows), `the prune took ${steps} steps for ${all} rows: ${JSON.stringify(total)}`);

    // Raw: the batches wholly before the first sample at/after the cutoff, with their samples.
    // The cutoff lies inside the batch of T0 + 6 d; that batch is kept whole.
    const keptFromMs = T0 + 6 * D;
    // Rows of chart figures: one per batch (sample-figures.ts), each holding its batch's 12 samples.
    assert.equal(total.samples, 6 * 24);
    assert.equal(total.batches, 6 * 24);
    const k1Key = store.figures.keyOf('k1')!;
    assert.equal(store.figures.inRange(k1Key, 0, keptFromMs - 1).length, 0);
    assert.equal(store.figures.inRange(k1Key, keptFromMs, Number.MAX_SAFE_INTEGER).length, 34 * 288);
    assert.equal(count(store, "SELECT COUNT(*) AS n FROM batches WHERE host_id = 'k1'"), 34 * 24);
    const k1Seqs = storedSeqs(store.db, 'k1');
    const k1Batches = store.db.prepare("SELECT first_seq, last_seq, samples FROM batches WHERE host_id = 'k1'").all() as Array<{ first_seq: number; last_seq: number; samples: number }>;
    const orphan = k1Batches.filter((b) => k1Seqs.filter((q) => q >= b.first_seq && q <= b.last_seq).length !== b.samples).length;
    assert.equal(orphan, 0, 'every kept batch has all its samples');
    assert.equal((await store.retentionState('k1')).rawPrunedMs, rawCutoff);
    assert.equal((await store.retentionState('k2')).rawPrunedMs, 0);
    assert.equal(storedSampleCount(store.db, 'k2'), k2Samples + (k2Seq - 501), 'k2 lost nothing');

    // Roll-ups: exactly the buckets before the roll-up cutoff.
    assert.equal(total.rollup_1m, 3 * 288 + 6);
    assert.equal(total.rollup_1h, 3 * 24);
    assert.deepEqual(await store.rollupRows('k1', '1m', rollupCutoff, now, 1_000_000), k1Before1m);
    assert.deepEqual(await store.rollupRows('k1', '1h', rollupCutoff, now, 1_000_000), k1Before1h);
    assert.equal((await store.rollupRows('k1', '1m', 0, rollupCutoff - M - 1, 10)).length, 0);

    // Verdicts: none before the roll-up cutoff; class changes plus 2 refreshes per hour up to the
    // (hour-aligned) raw cutoff; all of them after it, evidence and all.
    const thinTo = Math.floor(rawCutoff / H) * H;
    const expected: number[] = [];
    const keptPerHour = new Map<number, number>();
    verdicts.forEach((v, i) => {
      const change = i === 0 || verdicts[i - 1]!.cls !== v.cls;
      const hour = Math.floor(v.tsMs / H);
      let keep = true;
      if (v.tsMs < thinTo && !change) {
        keep = (keptPerHour.get(hour) ?? 0) < 2;
        if (keep) keptPerHour.set(hour, (keptPerHour.get(hour) ?? 0) + 1);
      }
      if (v.tsMs < rollupCutoff) keep = false;
      if (keep) expected.push(v.tsMs);
    });
    const kept = await store.verdicts('k1', 0, now, 1_000_000);
    assert.deepEqual(kept.map((v) => v.tsMs), expected);
    assert.equal(total.verdicts, verdicts.length - expected.length);
    assert.ok(kept.every((v) => v.verdict.evidence.length === 1 && v.verdict.evidence[0]!.detail === `at ${v.tsMs}`), 'evidence kept');
    assert.equal((await store.verdicts('k2', 0, now, 100)).length, 20);

    // Gaps: the newest 30 per host, none older than the roll-up window.
    const gaps = await store.gaps('k1', 0, now);
    assert.equal(gaps.length, 30);
    assert.equal(gaps[0]!.fromMs, T0 + 10 * D - 1000);
    // Security events: the 20-day-old window is gone, the recent one stays.
    const events = await store.securityEvents(10);
    assert.deepEqual(events.map((e) => e.detail), ['new']);

    // Nothing else is past a window: a second round at the same clock deletes nothing.
    const again = await store.retentionStep(opts, now);
    assert.equal(Object.values(again.deleted).reduce((a, b) => a + b, 0), 0);
    assert.equal(again.done, true);

    // A short chart in the pruned era now reads the 1-minute roll-ups; the raw era, raw rows.
    const old = await store.sampleSummaries('k1', T0 + 4 * D, T0 + 4 * D + 30 * M - 1, 1800);
    assert.equal(old.length, 6, 'one 1-minute roll-up per 5-minute sample');
    const recent = await store.sampleSummaries('k1', T0 + 20 * D, T0 + 20 * D + 30 * M - 1, 1800);
    assert.equal(recent.length, 6);
  } finally {
    await store.close();
    tmp.cleanup();
  }
});

test('retention options: raw must fit inside the roll-up window; durations parse like other flags', () => {
  assert.throws(() => retentionOptions({ rawMs: 40 * D, rollupMs: 30 * D }), /roll-up retention .* must be at least the raw retention/);
  assert.throws(() => retentionOptions({ rawMs: 1000 }), /under an hour/);
  assert.equal(retentionOptions().rawMs, 35 * D);
  assert.equal(retentionOptions().rollupMs, 400 * D);
});
