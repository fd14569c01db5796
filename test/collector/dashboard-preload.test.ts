// index.html preloads every module the dashboard imports (else the browser fetches them one import
// level at a time: four round trips before the fleet page can ask for its data).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/env.js';

const dash = join(repoRoot, 'dashboard');

function imports(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const m of readFileSync(file, 'utf8').matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)) {
    const spec = m[1]!;
    if (spec.startsWith('/vendor/')) seen.add(spec);
    else imports(normalize(join(dirname(file), spec)), seen);
  }
  return seen;
}

test('index.html preloads exactly the modules reachable from app.js', () => {
  const html = readFileSync(join(dash, 'index.html'), 'utf8');
  const preloaded = new Set([...html.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]!));
  const wanted = new Set([...imports(join(dash, 'app.js'))].map((f) => (f.startsWith('/vendor/') ? f : `/assets/${relative(dash, f)}`)));
  assert.deepEqual([...preloaded].sort(), [...wanted].sort());
});
