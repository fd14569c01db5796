// Regression tests on the corpus: every trace in test/corpus/ (recorded here) and
// test/corpus/synthetic/ (built by bench/synth-gpu.ts) is replayed exactly as the collector would
// run it (bench/eval-classify.ts, the eval's own path: the engine sees samples, interval and
// inventory only), and the published verdict at the end must equal the trace's label (for
// `mixed`, with the expected parts). Files are discovered at run time, so a new trace is covered
// at once; an empty or missing corpus folder FAILS (a regression suite that finds nothing must
// not pass). The name-blind ablation is scored by `npm run eval` (its targets are headline
// figures, not per-trace assertions) and tested on small traces in test/eval/.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { corpusDirs, traceFiles } from '../../bench/corpus-files.js';
import { classifyTrace, splitTrace } from '../../bench/eval-classify.js';
import { matchesLabel } from '../../bench/eval-score.js';
import { defaultRulesPath, loadRulesFile } from '../../collector/engine/index.js';
import { readTrace } from '../../proto/trace.js';
import { repoRoot } from '../helpers/env.js';

const rules = loadRulesFile(defaultRulesPath);
const dirs = corpusDirs(repoRoot);

function suite(name: string, dir: string): void {
  const files = traceFiles(dir);
  describe(name, () => {
    it(`finds traces in ${dir.slice(repoRoot.length + 1)}`, () => {
      assert.ok(files.length > 0, `no *.trace.ndjson in ${dir}: the corpus is missing (run from the repository root or set ASSAY_REPO_ROOT)`);
    });
    for (const file of files) {
      it(file.slice(repoRoot.length + 1), async () => {
        const { input, truth } = splitTrace(file, await readTrace(file));
        assert.ok(input.samples.length > 0, 'trace has samples');
        const steps = classifyTrace(input, rules, 'recorded');
        const last = steps.at(-1)?.verdict;
        assert.ok(last, 'replay made verdicts');
        const top = last.evidence.slice(0, 10).map((e) => `  ${e.supports} ${e.weight} ${e.signal} [${e.process?.name ?? 'host'}] ${e.detail}`);
        assert.ok(
          matchesLabel(truth, last),
          `${truth.label}${truth.expectParts ? ` (parts ${truth.expectParts.join(', ')})` : ''} expected, published ${last.class} (${last.confidence}) parts ${JSON.stringify(last.parts.map((p) => [p.class, p.share]))}\n${top.join('\n')}`,
        );
      });
    }
  });
}

suite('corpus: recorded traces', dirs.real);
suite('corpus: synthetic GPU traces', dirs.synthetic);
