// The name-blind ablation end to end on small traces: both runs are scored, the name-blind run's
// engine never sees an original name (not in evidence, not in parts), both tables are rendered,
// the headline targets are computed, and synthetic "evasions" (miner names in argv) do not count.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { classifyTrace, splitTrace } from '../../bench/eval-classify.js';
import { headlineTargets, renderReport } from '../../bench/eval-report.js';
import { evaluateTraces, loadRules, type EvalResult } from '../../bench/eval-run.js';
import { NEUTRAL_COMM } from '../../bench/name-blind.js';
import { readTrace } from '../../proto/trace.js';
import { tempDir } from '../helpers/env.js';
import { firstSamples, writeTrace } from './small-trace.js';

const tmp = tempDir('assay-eval-ablation-');
after(() => tmp.cleanup());
const loaded = loadRules();

async function smallCorpus(): Promise<{ path: string; name: string }[]> {
  const specs = [
    ['evasion-miner-renamed-python3.trace.ndjson', 40],
    ['general-stress-ng-cpu.trace.ndjson', 40],
    ['synthetic/gpu-mining-renamed-python3.trace.ndjson', 40],
  ] as const;
  const out = [];
  for (const [name, n] of specs) {
    const { header, samples } = await firstSamples(name, n);
    const file = join(tmp.dir, name.replace('synthetic/', ''));
    out.push({ path: await writeTrace(file, header, samples), name });
  }
  return out;
}

describe('eval: name-blind ablation', () => {
  it('the name-blind run classifies without a single original name', async () => {
    const { input } = splitTrace('x', await readTrace((await smallCorpus())[0]!.path));
    const recorded = classifyTrace(input, loaded.rules, 'recorded');
    const blind = classifyTrace(input, loaded.rules, 'name-blind');
    assert.equal(blind.length, recorded.length);
    const names = (steps: typeof blind): Set<string> => new Set(steps.flatMap((s) => [...s.verdict.evidence.map((e) => e.process?.name), ...s.verdict.parts.flatMap((p) => p.processes.map((q) => q.name))]).filter((n): n is string => !!n));
    assert.ok(names(recorded).has('python3'), 'as recorded, the renamed miner shows under its name');
    assert.deepEqual([...names(blind)].filter((n) => n !== NEUTRAL_COMM), [], 'name-blind evidence names no process');
    const text = JSON.stringify(blind.map((s) => s.verdict));
    for (const leak of ['python3', 'job.XQrLTQ', 'worker.conf']) assert.ok(!text.includes(leak), `${leak} reached the name-blind verdict`);
  });

  it('scores both runs, renders both tables and computes the targets', async () => {
    const runs = await evaluateTraces(await smallCorpus(), loaded.rules);
    assert.deepEqual(runs.map((r) => [r.mode, r.scores.length]), [['recorded', 3], ['name-blind', 3]]);
    const result: EvalResult = { rulesVersion: loaded.version, rulesSha256: loaded.sha256, runs, influence: { file: 'x', traces: new Map([['general-stress-ng-cpu.trace.ndjson', [{ key: 'behaviour.no-peers', reason: 'test reason' }]]]) }, staleInfluenceKeys: [] };
    const report = renderReport(result);
    assert.match(report, /## Run: as recorded/);
    assert.match(report, /## What depends on names \(as recorded → name-blind\)\n\n- /);
    assert.match(report, /## Run: name-blind/);
    assert.match(report, /### real traces \(name-blind\)/);
    assert.match(report, /`behaviour\.no-peers`: test reason/);
    assert.match(report, /synthetic\/gpu-mining-renamed-python3\.trace\.ndjson \| _not recorded_/);
    const targets = headlineTargets(runs);
    assert.deepEqual(targets.map((t) => t.name.split(' ')[0]), ['name-blind', 'zero', 'every', 'max']);
    for (const t of targets) assert.match(report, new RegExp(`\\*\\*(PASS|FAIL|N/A)\\*\\* ${t.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    // Evasions: the real renamed miner counts, the synthetic one (t-rex, stratum URL in argv) does not.
    const counted = runs[0]!.scores.filter((s) => s.countedEvasion).map((s) => s.file);
    assert.deepEqual(counted, ['evasion-miner-renamed-python3.trace.ndjson']);
    assert.match(report, /Evasions caught, \*\*real traces only\*\*: recorded: \d of 1; name-blind: \d of 1/);
    assert.match(report, /\| synthetic\/gpu-mining-renamed-python3\.trace\.ndjson \| renamed-python3 \| synthetic \| no \|/);
  });
});
