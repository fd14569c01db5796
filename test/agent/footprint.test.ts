// What the agent daemon keeps loaded (agent cost, issue 10): the launcher loads the agent's
// commands only, and the packages used once at start (systeminformation for the inventory, yaml
// for the exe markers and a --config file) are dropped after their one job.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { cachedModuleFiles, withTransientModule } from '../../proto/transient-require.js';
import { repoRoot, tempDir } from '../helpers/env.js';

const dist = join(repoRoot, 'dist');

/** Runs an ES module script in a fresh node; returns its stdout parsed as JSON. */
function runScript(source: string): unknown {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', source], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

test('inventory and exe markers: systeminformation and yaml are not kept loaded after their one job', () => {
  const url = (p: string) => pathToFileURL(join(dist, p)).href;
  const out = runScript(`
    const { collectInventory } = await import(${JSON.stringify(url('agent/probes/inventory.js'))});
    const { defaultExeMarkers } = await import(${JSON.stringify(url('agent/probes/exe-markers.js'))});
    const { defaultProbeConfig } = await import(${JSON.stringify(url('agent/probes/probe.js'))});
    const { cachedModuleFiles } = await import(${JSON.stringify(url('proto/transient-require.js'))});
    const inv = await collectInventory(defaultProbeConfig);
    const markers = defaultExeMarkers().markers.length;
    console.log(JSON.stringify({ cores: inv.cpuLogicalCores, kernel: inv.kernel, markers, si: cachedModuleFiles('systeminformation').length, yaml: cachedModuleFiles('yaml').length }));
  `) as { cores: number; kernel: string; markers: number; si: number; yaml: number };
  // The job was done (real inventory, real markers) ...
  assert.ok(out.cores > 0 && out.kernel !== '', JSON.stringify(out));
  assert.ok(out.markers > 0);
  // ... and none of the packages' modules stayed in require's cache.
  assert.equal(out.si, 0);
  assert.equal(out.yaml, 0);
});

test('withTransientModule: forgets the package after use or failure, keeps what was loaded before', async () => {
  // In a fresh process: this test file's own imports must not have loaded yaml already.
  const url = pathToFileURL(join(dist, 'proto/transient-require.js')).href;
  const out = runScript(`
    const { withTransientModule, cachedModuleFiles } = await import(${JSON.stringify(url)});
    const parsed = withTransientModule('yaml', (y) => y.parse('a: 1'));
    const afterSync = cachedModuleFiles('yaml').length;
    let threw = '';
    try { withTransientModule('yaml', (y) => y.parse('a: [')); } catch (e) { threw = e.name; }
    const afterThrow = cachedModuleFiles('yaml').length;
    const asyncValue = await withTransientModule('yaml', async (y) => { await new Promise((r) => setTimeout(r, 10)); return y.stringify({ b: 2 }); });
    const afterAsync = cachedModuleFiles('yaml').length;
    // Loaded by someone else first: left alone.
    const { createRequire } = await import('node:module');
    createRequire(${JSON.stringify(url)})('yaml');
    const kept = cachedModuleFiles('yaml').length;
    withTransientModule('yaml', (y) => y.parse('c: 3'));
    console.log(JSON.stringify({ parsed, afterSync, threw, afterThrow, asyncValue, afterAsync, kept, keptAfter: cachedModuleFiles('yaml').length }));
  `) as Record<string, unknown>;
  assert.deepEqual(out.parsed, { a: 1 });
  assert.equal(out.afterSync, 0);
  assert.equal(out.threw, 'YAMLParseError');
  assert.equal(out.afterThrow, 0);
  assert.equal(out.asyncValue, 'b: 2\n');
  assert.equal(out.afterAsync, 0);
  assert.ok((out.kept as number) > 0);
  assert.equal(out.keptAfter, out.kept);
  // In this process too, the helper works on a package it did not load.
  assert.equal(withTransientModule<{ version: string }, string>('systeminformation', (si) => typeof si.version), 'function');
  assert.equal(cachedModuleFiles('systeminformation').length, 0);
});

test('daemon launcher: loads the agent\'s modules only (no collector, report or scan modules)', () => {
  const { dir, cleanup } = tempDir();
  try {
    const log = join(dir, 'loaded.txt');
    writeFileSync(log, '');
    // A module load hook that records every module URL the launcher loads.
    const hook = join(dir, 'hook.mjs');
    const hooks = `import { appendFileSync } from 'node:fs'; export async function load(url, ctx, next) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, ctx); }`;
    writeFileSync(hook, `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`);
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(hook).href, join(dist, 'agent', 'main.js'), '--help'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Usage: assay agent/);
    const loaded = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    assert.ok(loaded.some((u) => u.endsWith('/dist/agent/cli.js')), 'the hook saw the launcher load the agent CLI');
    const unwanted = loaded.filter((u) => /\/dist\/(collector|agent\/scan)\/|\/dist\/cli\.js$|systeminformation|\/yaml\//.test(u));
    assert.deepEqual(unwanted, []);
  } finally {
    cleanup();
  }
});
