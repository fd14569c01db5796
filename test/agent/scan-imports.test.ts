// `assay scan` builds a signed report on its own machine from the engine and the report, through
// their public faces (collector/engine/index.ts, collector/report/index.ts); it must not reach
// into the collector's store, ingest or other internals, which it neither runs nor needs.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/env.js';

const ALLOWED = new Set(['collector/engine/index.ts', 'collector/report/index.ts']);

test('agent/scan imports from the collector only through the engine and report faces', () => {
  const dir = join(repoRoot, 'agent', 'scan');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 3, `agent/scan holds the scan's sources (found ${files.join(', ')})`);
  const reached: string[] = [];
  for (const f of files) {
    const src = readFileSync(join(dir, f), 'utf8');
    for (const m of src.matchAll(/from\s+'(\.\.\/\.\.\/collector\/[^']+)'/g)) {
      const target = m[1]!.replace(/^\.\.\/\.\.\//, '').replace(/\.js$/, '.ts');
      if (!ALLOWED.has(target)) reached.push(`${f} -> ${target}`);
    }
  }
  assert.deepEqual(reached, [], 'imports past the public faces');
});
