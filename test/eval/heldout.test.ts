// Held-out scoring (bench/heldout.ts) on tiny generated trace folders in a temp dir (never the real
// bench/heldout/): the first scoring is frozen with the rules version and hash, trace hashes and
// date; a second scoring of the same traces is refused without --rescore and leaves the report
// untouched; --rescore adds an "after tuning (in-sample)" score and keeps the frozen one verbatim;
// a new trace is frozen on its own; a foreign report is never overwritten; the CLI says why.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadRules } from '../../bench/eval-run.js';
import { extractState, HeldoutRefused, runHeldout } from '../../bench/heldout.js';
import { defaultRulesPath } from '../../collector/engine/index.js';
import { repoRoot, tempDir } from '../helpers/env.js';
import { firstSamples, writeTrace } from './small-trace.js';

const tmp = tempDir('assay-heldout-');
after(() => tmp.cleanup());
const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const frozenPart = (report: string): string => report.slice(report.indexOf('## Frozen score (first scoring)'), report.indexOf('## After tuning (in-sample)'));

async function heldoutDir(name: string): Promise<{ dir: string; files: string[] }> {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  const idle = await firstSamples('idle.trace.ndjson', 20);
  const burner = await firstSamples('general-stress-ng-cpu.trace.ndjson', 20);
  const files = [await writeTrace(join(dir, 'idle-box.trace.ndjson'), idle.header, idle.samples), await writeTrace(join(dir, 'cpu-burner.trace.ndjson'), burner.header, burner.samples)];
  return { dir, files };
}

describe('held-out scoring', () => {
  it('freezes the first score, refuses a second, keeps it verbatim on --rescore, freezes new traces on their own', async () => {
    const { dir, files } = await heldoutDir('set1');
    const reportFile = join(tmp.dir, 'heldout-report.md');
    const rules = loadRules();
    const first = await runHeldout({ dir, reportFile, rescore: false, rules, now: new Date('2026-12-07T01:00:00Z') });
    assert.equal(first.newlyFrozen, 2);
    const report1 = readFileSync(reportFile, 'utf8');
    for (const needle of [rules.version, rules.sha256, sha(files[0]!), sha(files[1]!), '2026-12-07T01:00:00.000Z', '## Frozen score (first scoring)', '#### Run: as recorded', '#### Run: name-blind', 'Misses', '_not rescored_']) {
      assert.ok(report1.includes(needle), `report holds ${needle}`);
    }

    await assert.rejects(runHeldout({ dir, reportFile, rescore: false, rules, now: new Date('2026-12-07T02:00:00Z') }), (err: Error) => err instanceof HeldoutRefused && /already has a frozen score/.test(err.message) && /--rescore/.test(err.message));
    assert.equal(readFileSync(reportFile, 'utf8'), report1, 'a refused run changes nothing');

    // Tuned rules: another version and hash.
    const tuned = join(tmp.dir, 'tuned.yaml');
    copyFileSync(defaultRulesPath, tuned);
    writeFileSync(tuned, readFileSync(tuned, 'utf8').replace(/^version: .*$/m, 'version: "2099.1.1"'));
    const tunedRules = loadRules(tuned);
    const re = await runHeldout({ dir, reportFile, rescore: true, rules: tunedRules, now: new Date('2026-12-07T03:00:00Z') });
    assert.equal(re.newlyFrozen, 0);
    const report2 = readFileSync(reportFile, 'utf8');
    assert.equal(frozenPart(report2), frozenPart(report1), 'the frozen score is kept verbatim');
    const afterTuning = report2.slice(report2.indexOf('## After tuning (in-sample)'));
    assert.ok(afterTuning.includes('2099.1.1') && afterTuning.includes(tunedRules.sha256) && afterTuning.includes('2026-12-07T03:00:00.000Z'));
    assert.ok(!frozenPart(report2).includes('2099.1.1'));
    const state2 = extractState(reportFile, report2);
    assert.equal(state2.frozen.length, 1);
    assert.equal(state2.frozen[0]?.rulesVersion, rules.version);
    assert.equal(state2.afterTuning?.rulesVersion, '2099.1.1');

    // A new trace joins: scored once on its own, at the rules in use; the earlier freeze is untouched.
    const src = await firstSamples('general-cpp-compile.trace.ndjson', 20);
    const third = await writeTrace(join(dir, 'build.trace.ndjson'), src.header, src.samples);
    const add = await runHeldout({ dir, reportFile, rescore: false, rules: tunedRules, now: new Date('2026-12-07T04:00:00Z') });
    assert.equal(add.newlyFrozen, 1);
    assert.equal(add.state.frozen.length, 2);
    assert.deepEqual(add.state.frozen[0], state2.frozen[0]);
    assert.deepEqual(add.state.frozen[1]?.traces, [{ file: 'build.trace.ndjson', sha256: sha(third) }]);
    assert.deepEqual(add.state.afterTuning, state2.afterTuning, 'the last rescore is kept as it was');
    for (const run of add.state.frozen[1]?.runs ?? []) assert.deepEqual(run.scores.map((s) => s.file), ['build.trace.ndjson']);
  });

  it('never overwrites a report that holds no held-out state, and refuses an empty folder', async () => {
    const { dir } = await heldoutDir('set2');
    const reportFile = join(tmp.dir, 'foreign.md');
    writeFileSync(reportFile, '# notes someone wrote\n');
    await assert.rejects(runHeldout({ dir, reportFile, rescore: true, rules: loadRules() }), /holds no held-out state/);
    assert.equal(readFileSync(reportFile, 'utf8'), '# notes someone wrote\n');
    const empty = join(tmp.dir, 'empty');
    mkdirSync(empty);
    await assert.rejects(runHeldout({ dir: empty, reportFile: join(tmp.dir, 'x.md'), rescore: false, rules: loadRules() }), /no held-out traces/);
  });

  it('eval --heldout DIR: scores once, then exits 1 saying why', async () => {
    const { dir } = await heldoutDir('set3');
    const root = join(tmp.dir, 'root');
    mkdirSync(join(root, 'bench'), { recursive: true });
    const evalJs = join(repoRoot, 'dist', 'bench', 'eval.js');
    const run = (...args: string[]) => spawnSync(process.execPath, [evalJs, '--heldout', dir, ...args], { env: { ...process.env, ASSAY_REPO_ROOT: root }, encoding: 'utf8', timeout: 60_000 });
    const a = run();
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stderr, /2 trace\(s\) scored for the first time/);
    const b = run();
    assert.equal(b.status, 1);
    assert.match(b.stderr, /eval: every trace in .* already has a frozen score/);
    const c = spawnSync(process.execPath, [evalJs, '--rescore'], { env: { ...process.env, ASSAY_REPO_ROOT: root }, encoding: 'utf8' });
    assert.equal(c.status, 1);
    assert.match(c.stderr, /--rescore applies to --heldout only/);
  });
});
