// Label independence: the eval never reads a trace's label, file name, description, evasion or
// expected parts while classifying. The same samples written under two different headers and
// file names are scored through the eval's whole path (read file → split → classify → score):
// the published verdicts are identical in both modes, and only the joined truth differs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { evaluateTraces, loadRules } from '../../bench/eval-run.js';
import { tempDir } from '../helpers/env.js';
import { firstSamples, writeTrace } from './small-trace.js';

const tmp = tempDir('assay-eval-label-');
after(() => tmp.cleanup());

describe('eval: label independence', () => {
  it('gives the same verdicts to the same samples under another label, file name and description', async () => {
    const { header, samples } = await firstSamples('evasion-miner-renamed-python3.trace.ndjson', 45);
    const a = await writeTrace(join(tmp.dir, 'pow-mining-monerod-renamed.trace.ndjson'), header, samples);
    const b = await writeTrace(join(tmp.dir, 'general-stress-ng.trace.ndjson'), header, samples, {
      label: 'general',
      description: 'stress-ng --cpu 2: a benign CPU burner (a deliberately wrong description)',
      evasion: undefined,
      expectParts: ['ai-training'],
      provenance: 'synthetic',
      hostname: 'another-host',
    });
    const { rules } = loadRules();
    const runs = await evaluateTraces(
      [
        { path: a, name: 'a.trace.ndjson' },
        { path: b, name: 'b.trace.ndjson' },
      ],
      rules,
    );
    assert.deepEqual(runs.map((r) => r.mode), ['recorded', 'name-blind']);
    for (const run of runs) {
      const [x, y] = run.scores;
      assert.ok(x && y);
      assert.ok(x.published.length >= 8, `${run.mode}: the replay published verdicts (${x.published.length})`);
      assert.deepEqual(y.published, x.published, `${run.mode}: verdicts depend only on the samples`);
      assert.deepEqual([x.label, y.label], ['pow-mining', 'general'], 'the truth is joined afterwards, per trace');
      assert.equal(x.countedEvasion, true);
      assert.equal(y.countedEvasion, false);
    }
  });
});
