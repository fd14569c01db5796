// The identity-evidence memo (collector/engine/classify-identity.ts IdentityMemo) changes no
// verdict: every corpus trace replayed as `assay replay` does, each window evaluated without a
// memo, with one memo shared by every trace (warm: the same processes across traces and
// evaluations), and with a memo of 3 entries (evicting all the time), gives equal verdicts,
// evidence, details and pids included. A memo stays within its bounds, and a new rules object is
// matched afresh (nothing remembered under the old rules is reused).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { corpusDirs, traceFiles } from '../../bench/corpus-files.js';
import { defaultRulesPath, evaluate, IdentityMemo, loadRulesFile, type Rules } from '../../collector/engine/index.js';
import { HostWindow } from '../../collector/window.js';
import { defaultClassifierOptions } from '../../collector/classifier.js';
import { readTrace } from '../../proto/trace.js';
import { repoRoot } from '../helpers/env.js';
import { buildWindow, type HostSpec } from './build-window.js';
import { torchTrainingCpu, xmrig } from './workloads.js';

const rules = loadRulesFile(defaultRulesPath);
const dirs = corpusDirs(repoRoot);
const files = [...traceFiles(dirs.real), ...traceFiles(dirs.synthetic)];
const run = (spec: HostSpec, memo?: IdentityMemo, r: Rules = rules) => evaluate(buildWindow(spec), r, memo);

describe('identity memo', () => {
  it('gives the verdicts of the engine without it on every corpus trace (shared, and evicting)', async () => {
    assert.ok(files.length > 0, 'no corpus traces found');
    const shared = new IdentityMemo();
    const tiny = new IdentityMemo(3);
    let evaluations = 0;
    for (const file of files) {
      const trace = await readTrace(file);
      const window = new HostWindow(defaultClassifierOptions.windowMs, rules.history.horizons);
      window.inventory = trace.header.inventory ?? null;
      let lastEval = 0;
      for (const s of trace.samples) {
        window.add([s]);
        const ts = s.tsMs ?? 0;
        if (ts - lastEval < defaultClassifierOptions.everyMs) continue;
        lastEval = ts;
        const plain = evaluate(window.view(), rules);
        assert.deepEqual(evaluate(window.view(), rules, shared), plain, `${file} at ${ts}: shared memo`);
        assert.deepEqual(evaluate(window.view(), rules, tiny), plain, `${file} at ${ts}: 3-entry memo`);
        evaluations++;
      }
    }
    assert.ok(evaluations > 100, `only ${evaluations} evaluations`);
    assert.ok(shared.hits > shared.misses, `a warm memo should mostly hit (${shared.hits} hits, ${shared.misses} misses)`);
    assert.ok(tiny.size <= 3, `tiny memo holds ${tiny.size}`);
  });

  it('stays within its bounds of entries and key characters', () => {
    const memo = new IdentityMemo(1000, 2_000);
    for (let i = 0; i < 40; i++) run({ samples: 20, procs: [xmrig({ pid: 100 + i, name: `xmrig${i}`, cmdline: `/opt/x${i}/xmrig --pool p${i}` })] }, memo);
    assert.ok(memo.size > 0 && memo.size < 40, `held ${memo.size} entries under a 2,000-character bound`);
    assert.throws(() => new IdentityMemo(0), /maxEntries/);
  });

  it('matches afresh under a new rules object', () => {
    const memo = new IdentityMemo();
    const spec = { samples: 60, procs: [torchTrainingCpu()] };
    const before = run(spec, memo);
    assert.ok(before.evidence.some((e) => e.signal === 'sig.ai-libs-cpu'), 'the AI library list matches under the shipped rules');
    // The same rules without that list: a memo that kept the old evidence would still show it.
    const changed: Rules = structuredClone(rules);
    delete changed.signatures['ai-libs-cpu'];
    const after = run(spec, memo, changed);
    assert.ok(!after.evidence.some((e) => e.signal === 'sig.ai-libs-cpu'), 'evidence of a list the new rules lack');
    assert.deepEqual(after, run(spec, undefined, changed));
  });
});
