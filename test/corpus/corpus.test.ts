// Regression tests on the corpus: every trace in test/corpus/ (recorded here) and
// test/corpus/synthetic/ (built by bench/synth-gpu.ts) is replayed exactly as the collector would
// run it, and the published verdict at the end must equal the trace's label (for `mixed`, with
// the expected parts). Files are discovered at run time, so a new trace is covered at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { corpusDirs, traceFiles } from '../../bench/corpus-files.js';
import { matchesLabel } from '../../bench/eval-score.js';
import { defaultClassifierOptions } from '../../collector/classifier.js';
import { defaultRulesPath, loadRulesFile } from '../../collector/engine/index.js';
import { replay } from '../../collector/replay.js';
import { readTrace } from '../../proto/trace.js';
import { repoRoot } from '../helpers/env.js';

const rules = loadRulesFile(defaultRulesPath);
const dirs = corpusDirs(repoRoot);

function suite(name: string, files: string[]): void {
  describe(name, () => {
    if (files.length === 0) it.skip('no traces found');
    for (const file of files) {
      it(file.slice(repoRoot.length + 1), async () => {
        const { header, samples } = await readTrace(file);
        assert.ok(samples.length > 0, 'trace has samples');
        const steps = replay(samples, rules, defaultClassifierOptions, header.inventory);
        const last = steps.at(-1)?.verdict;
        assert.ok(last, 'replay made verdicts');
        const top = last.evidence.slice(0, 10).map((e) => `  ${e.supports} ${e.weight} ${e.signal} [${e.process?.name ?? 'host'}] ${e.detail}`);
        assert.ok(
          matchesLabel(header, last),
          `${header.label}${header.expectParts ? ` (parts ${header.expectParts.join(', ')})` : ''} expected, published ${last.class} (${last.confidence}) parts ${JSON.stringify(last.parts.map((p) => [p.class, p.share]))}\n${top.join('\n')}`,
        );
      });
    }
  });
}

suite('corpus: recorded traces', traceFiles(dirs.real));
suite('corpus: synthetic GPU traces', traceFiles(dirs.synthetic));
