// The packed chart figures (sample-figures.ts): form 1 (float32 decimals as scaled integers) reads
// back every figure exactly, is smaller than form 0 on quantized figures, and rows written in
// form 0 still read exactly as they did; retention merges older rows and cuts them exactly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { retentionOptions } from '../../collector/store/retention.js';
import { MERGED_FIGURE_BYTES, packFigures, packFiguresForm0, storedSeqs, unpackFigures } from '../../collector/store/sample-figures.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import type { SampleSummary } from '../../collector/store/store.js';
import { encodeSample } from '../../proto/codec.js';
import { frameSamples } from '../../proto/payload.js';
import { tempDir } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';

/** Figures as the agent sends them (quantized to a few decimals, carried as float32), with the odd ones real samples have. */
function summaries(n: number): SampleSummary[] {
  const out: SampleSummary[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      seq: 1000 + i + (i > 3 ? 1 : 0),
      tsMs: 1_795_000_000_000 + i * 1000 - (i === 2 ? 1500 : 0),
      cpuPct: Math.fround([73.66, 4, 97.51, 0.01, 100, 12.345][i % 6]!),
      load1: Math.fround(3.89 - i * 0.31),
      memUsedBytes: 876_048_384 + i * 2_052_096,
      memTotalBytes: 25_276_182_528,
      gpuUtilPct: i % 3 === 0 ? null : Math.fround(i * 7.5),
      gpuMemUsedBytes: i % 3 === 0 ? null : i * 1_000_000,
      powerWatts: i % 2 ? null : [0.1 + 0.2, -0, 1e300, Math.fround(-2.5), 2 ** 40 + 0.5][i % 5]!,
      diskReadBytesPerSec: i * 1e15,
      diskWriteBytesPerSec: 322_203 - i * 100_000,
      netRxBytesPerSec: Math.fround(1234.5678),
      netTxBytesPerSec: Math.fround(1 / 3),
    });
  }
  return out;
}

test('form 1 reads back every figure exactly (decimals, other floats, -0, nulls, large and negative integers)', () => {
  for (const n of [0, 1, 5, 12]) {
    const rows = summaries(n);
    const packed = packFigures(rows);
    assert.deepStrictEqual(unpackFigures(rows[0]?.seq ?? 0, rows[0]?.tsMs ?? 0, n, packed), rows);
  }
});

test('rows of form 0 still read exactly; form 1 is smaller on quantized figures', () => {
  const rows = summaries(5);
  const form0 = packFiguresForm0(rows);
  assert.equal(form0[0], 0);
  assert.deepStrictEqual(unpackFigures(rows[0]!.seq, rows[0]!.tsMs, 5, form0), rows);
  // Only quantized figures (as the recorded server host sends): form 1 saves the float32s' bytes.
  const plain = rows.map((r) => ({ ...r, powerWatts: null, netRxBytesPerSec: 0, netTxBytesPerSec: 0, diskReadBytesPerSec: 0 }));
  const a = packFiguresForm0(plain).length;
  const b = packFigures(plain).length;
  assert.ok(b < a - 4 * 5, `form 1 ${b} B, form 0 ${a} B for 5 samples`);
});

test('a damaged row is an error, not wrong figures', () => {
  const rows = summaries(5);
  const packed = packFigures(rows);
  assert.throws(() => unpackFigures(rows[0]!.seq, rows[0]!.tsMs, 5, packed.subarray(0, packed.length - 3)));
  const bad = Buffer.from(packed);
  bad[3] = 7; // a value kind form 1 does not have
  assert.throws(() => unpackFigures(rows[0]!.seq, rows[0]!.tsMs, 5, bad), /kind|truncated|range/);
});

test('retention merges older rows of consecutive batches, reads answer exactly as before, and a cut merged row keeps only its newer samples', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const store = new SqliteStore(join(tmp.dir, 'a.db'));
  t.after(() => store.close());
  const T0 = 1_795_000_000_000;
  await store.upsertHost(fullHello('m1'), T0);
  let head: Uint8Array = new Uint8Array();
  // 120 batches of 5 samples, 1 s apart, figures as the agent quantizes them.
  for (let b = 0; b < 120; b++) {
    const samples = [1, 2, 3, 4, 5].map((i) => {
      const seq = b * 5 + i;
      const s = fullSample(T0 + seq * 1000);
      s.cpu!.totalPct = Math.fround(((seq * 7.31) % 100));
      s.load!.load1 = Math.fround(seq / 100);
      return { seq, sample: s, bytes: encodeSample(s) };
    });
    const hash = createHash('sha256').update(`m1:${b}`).digest();
    const res = await store.appendBatch('m1', { hash, prevHash: head, header: new Uint8Array([1]), signature: new Uint8Array([2]), encoding: 0, payload: frameSamples(samples.map((x) => x.bytes)), samples, gaps: [] }, T0 + (b * 5 + 5) * 1000 + 300);
    assert.equal(res.status, 'stored');
    head = hash;
  }
  const rows = (): number => (store.db.prepare('SELECT COUNT(*) AS n FROM sample_figures').get() as { n: number }).n;
  assert.equal(rows(), 120);
  const ranges = [[T0, T0 + 700_000, 1000], [T0 + 3000, T0 + 400_500, 37], [T0 + 1, T0 + 599_999, 13], [T0 + 250_000, T0 + 251_000, 5]] as const;
  const read = async (): Promise<unknown> => ({
    charts: await Promise.all(ranges.map(([from, to, limit]) => store.sampleSummaries('m1', from, to, limit))),
    seqs: await Promise.all(ranges.map(([from, to]) => store.seqRange('m1', from, to))),
    all: storedSeqs(store.db, 'm1'),
  });
  const before = await read();
  // A round 20 minutes after the last sample: every row is old enough, none past the raw window.
  const opts = retentionOptions({ stepRows: 7 });
  const round = async (nowMs: number, o = opts): Promise<void> => {
    for (let done = false, i = 0; !done && i < 10_000; i++) done = (await store.retentionStep(o, nowMs)).done;
  };
  await round(T0 + 601_000 + 20 * 60_000);
  const merged = rows();
  assert.ok(merged <= 30, `${merged} rows after merging 120`);
  const sizes = store.db.prepare('SELECT MAX(length(figures)) AS b, MAX(n) AS n FROM sample_figures').get() as { b: number; n: number };
  assert.ok(sizes.b <= MERGED_FIGURE_BYTES, `largest merged row ${sizes.b} B`);
  assert.deepStrictEqual(await read(), before);
  // Nothing left to merge: another round changes nothing.
  await round(T0 + 601_000 + 30 * 60_000);
  assert.equal(rows(), merged);
  // A raw window ending inside a merged row (at sample 313: the batch 311-315 is kept whole).
  assert.ok(store.db.prepare('SELECT 1 FROM sample_figures WHERE first_seq < 311 AND last_seq >= 311').get(), 'a merged row holds samples on both sides of 311');
  await round(T0 + 313_000 + 35 * 86_400_000, retentionOptions({ stepRows: 7, rollupMs: 400 * 86_400_000 }));
  const left = storedSeqs(store.db, 'm1');
  assert.equal(left[0], 311);
  assert.deepEqual(left, Array.from({ length: 290 }, (_, i) => 311 + i));
  assert.deepStrictEqual(await store.seqRange('m1', T0, T0 + 700_000), { minSeq: 311, maxSeq: 600 });
});
