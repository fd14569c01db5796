// The agent rounds rates before sending (agent/quantize.ts) so unchanged processes stay
// byte-identical and compress away. That must cost the engine nothing: every real corpus trace,
// quantized as the agent now sends it, replays to the same published verdicts and confidences.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { corpusDirs, traceFiles } from '../../bench/corpus-files.js';
import { QUANTA, quantizeSample, significant } from '../../agent/quantize.js';
import { defaultRulesPath, loadRulesFile } from '../../collector/engine/index.js';
import { replay } from '../../collector/replay.js';
import { assay } from '../../proto/codec.js';
import { readTrace } from '../../proto/trace.js';
import { repoRoot } from '../helpers/env.js';

const rules = loadRulesFile(defaultRulesPath);

test('quantized corpus traces replay to exactly the verdicts of the traces as recorded', async () => {
  const files = traceFiles(corpusDirs(repoRoot).real);
  assert.ok(files.length >= 10, `${files.length} corpus traces`);
  let steps = 0;
  let changedFields = 0;
  for (const file of files) {
    const { header, samples } = await readTrace(file);
    const quantized = samples.map((s) => quantizeSample(assay.v1.Sample.fromObject(assay.v1.Sample.toObject(assay.v1.Sample.fromObject(s)))));
    for (const [i, s] of samples.entries()) {
      for (const q of QUANTA) {
        (s[q.list] ?? []).forEach((e, j) => {
          if ((e as Record<string, unknown>)[q.field] !== ((quantized[i]![q.list] ?? [])[j] as Record<string, unknown>)[q.field]) changedFields++;
        });
      }
    }
    const a = replay(samples, rules, undefined, header.inventory);
    const b = replay(quantized, rules, undefined, header.inventory);
    assert.equal(b.length, a.length);
    a.forEach((x, i) => {
      const name = `${file.slice(repoRoot.length + 1)} step ${i}`;
      assert.equal(b[i]!.verdict.class, x.verdict.class, name);
      assert.equal(b[i]!.verdict.confidence, x.verdict.confidence, name);
    });
    steps += a.length;
  }
  assert.ok(steps > 300, `${steps} verdicts compared`);
  assert.ok(changedFields > 1000, `quantization changed ${changedFields} figures: the comparison is not vacuous`);
});

test('significant bits: truncated toward zero, under 2^(1-bits) relative, and a power-of-two threshold keeps its side', () => {
  assert.equal(significant(1_523_432, 8), 1_515_520);
  assert.equal(significant(255, 8), 255, 'below 2^bits: as it is');
  assert.equal(significant(256, 8), 256);
  assert.equal(significant(-1_523_432, 8), -1_515_520);
  assert.equal(significant(0, 8), 0);
  let x = 1;
  for (let i = 0; i < 2000; i++) {
    x = Math.floor(x * 1.013 + 7);
    const q = significant(x, 8);
    assert.ok(q <= x && (x - q) / x < 2 ** -7, `${x} -> ${q}`);
    assert.equal(Number.isInteger(q), true);
    for (const t of [1 << 20, 1 << 24, 20 * (1 << 20), 65536]) assert.equal(q >= t, x >= t, `${x} vs threshold ${t}`);
  }
  // The step is what the table says: every process rate keeps 8 significant bits.
  assert.deepEqual(QUANTA.filter((q) => q.list === 'processes').map((q) => q.significantBits), Array(8).fill(8));
});
