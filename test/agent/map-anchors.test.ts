// agent/map-anchors.ts: with the agent's --optimize-for-size, a major GC that finds no live
// protobufjs writer drops the TurboFan code of its write methods; the anchors keep it.
// Checked in a child node with V8's test natives (%OptimizeFunctionOnNextCall,
// %GetOptimizationStatus): the same warm-up, the same GCs, with and without the anchors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { AGENT_NODE_FLAGS } from '../../agent/runtime.js';
import { repoRoot } from '../helpers/env.js';

const anchorsUrl = pathToFileURL(join(repoRoot, 'dist', 'agent', 'map-anchors.js')).href;

/** Optimization state of the writer methods after warm-up, then after six major GCs. */
function run(anchor: boolean): { before: Record<string, boolean>; after: Record<string, boolean> } {
  const script = `
    import protobuf from 'protobufjs/minimal.js';
    const { anchorMaps } = await import(${JSON.stringify(anchorsUrl)});
    if (${anchor}) anchorMaps();
    const W = protobuf.Writer;
    const fns = { write_uint32: W.prototype.uint32, write_uint64: W.prototype.uint64, fork: W.prototype.fork };
    const enc = (i) => W.create().fork().uint32(300 + i).uint64(2 ** 40 + i).ldelim().finish();
    for (let i = 0; i < 50; i++) enc(i);
    for (const f of Object.values(fns)) %PrepareFunctionForOptimization(f);
    for (let i = 0; i < 50; i++) enc(i);
    for (const f of Object.values(fns)) %OptimizeFunctionOnNextCall(f);
    enc(1);
    // Bit 4 of %GetOptimizationStatus: optimized code installed.
    const state = () => Object.fromEntries(Object.entries(fns).map(([k, f]) => [k, (%GetOptimizationStatus(f) & 16) !== 0]));
    const before = state();
    for (let i = 0; i < 6; i++) gc();
    console.log(JSON.stringify({ before, after: state() }));
  `;
  const flags = AGENT_NODE_FLAGS.filter((f) => f === '--optimize-for-size' || f.startsWith('--max-semi-space-size='));
  const r = spawnSync(process.execPath, [...flags, '--allow-natives-syntax', '--expose-gc', '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { before: Record<string, boolean>; after: Record<string, boolean> };
}

test('map anchors: without them a major GC drops the writer methods\' optimized code', () => {
  const { before, after } = run(false);
  assert.deepEqual(before, { write_uint32: true, write_uint64: true, fork: true }, 'the warm-up optimizes all three');
  assert.deepEqual(after, { write_uint32: false, write_uint64: false, fork: false });
});

test('map anchors: with them the optimized code outlives major GCs', () => {
  const { before, after } = run(true);
  assert.deepEqual(before, { write_uint32: true, write_uint64: true, fork: true });
  assert.deepEqual(after, { write_uint32: true, write_uint64: true, fork: true });
});
