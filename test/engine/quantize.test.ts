// The agent rounds rates before sending (agent/quantize.ts) so unchanged processes stay
// byte-identical and compress away. That must cost the engine nothing: every real corpus trace,
// quantized as the agent now sends it, replays to the same published verdicts and confidences.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { corpusDirs, traceFiles } from '../../bench/corpus-files.js';
import { QUANTA, quantizeSample } from '../../agent/quantize.js';
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
