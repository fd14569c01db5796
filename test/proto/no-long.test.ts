// proto/no-long.ts with no-long-guard.ts: 64-bit fields decode to numbers, and protobufjs never
// loads long.js (whose module compiles WebAssembly at load: agent cost, issue 10).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { repoRoot } from '../helpers/env.js';

test('codec: long.js is never loaded, the placeholder is gone, 64-bit fields round-trip as numbers', () => {
  const url = (p: string) => JSON.stringify(pathToFileURL(join(repoRoot, 'dist', p)).href);
  // A fresh process: the codec is the first to load protobufjs, as in the agent.
  const script = `
    let compiled = 0;
    const compile = WebAssembly.Module;
    WebAssembly.Module = function (...a) { compiled++; return new compile(...a); };
    const { encodeSample, decodeSample } = await import(${url('proto/codec.js')});
    const { cachedModuleFiles } = await import(${url('proto/transient-require.js')});
    const back = decodeSample(encodeSample({ tsMs: 1_795_000_123_456, processes: [{ pid: 7, rssBytes: 5_000_000_000, startTimeTicks: 2 ** 40 }] }));
    console.log(JSON.stringify({ long: cachedModuleFiles('long').length, protobufjs: cachedModuleFiles('protobufjs').length > 0, dcodeIO: typeof globalThis.dcodeIO, compiled,
      ts: back.tsMs, tsType: typeof back.tsMs, rss: back.processes[0].rssBytes, ticks: back.processes[0].startTimeTicks }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { long: 0, protobufjs: true, dcodeIO: 'undefined', compiled: 0, ts: 1_795_000_123_456, tsType: 'number', rss: 5_000_000_000, ticks: 2 ** 40 });
});
