// The packed chart figures (sample-figures.ts): form 1 (float32 decimals as scaled integers) reads
// back every figure exactly, is smaller than form 0 on quantized figures, and rows written in
// form 0 still read exactly as they did.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packFigures, packFiguresForm0, unpackFigures } from '../../collector/store/sample-figures.js';
import type { SampleSummary } from '../../collector/store/store.js';

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
