// The agent's daemon launcher (dist/agent/main.js) starts Node with the settings agent/runtime.ts names.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AGENT_ENV, AGENT_NODE_FLAGS, agentShebang } from '../../agent/runtime.js';
import { repoRoot } from '../helpers/env.js';

const launcher = join(repoRoot, 'dist', 'agent', 'main.js');

test('daemon launcher: its shebang carries the runtime settings and runs the agent command', () => {
  assert.equal(readFileSync(launcher, 'utf8').split('\n')[0], agentShebang());
  assert.ok(AGENT_NODE_FLAGS.some((f) => f.startsWith('--max-semi-space-size=')));
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  // One CLI: the launcher is a file, not a second npm bin.
  assert.deepEqual(Object.keys(pkg.bin), ['assay']);
  assert.ok((statSync(launcher).mode & 0o111) !== 0, 'the build leaves the launcher executable');
  // Executed through its shebang (env -S): the agent's help, and the flags reached node.
  const help = spawnSync(launcher, ['--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /Usage: assay agent/);
});

test('daemon launcher: node really runs with the flags and environment', () => {
  // The same env -S line, running a one-liner instead of the agent.
  const [, ...words] = agentShebang().slice(2).split(' -S ');
  const r = spawnSync('/usr/bin/env', ['-S', ...words.join(' -S ').split(' '), '-e', 'console.log(JSON.stringify({ argv: process.execArgv, env: process.env }))'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { argv: string[]; env: Record<string, string> };
  assert.deepEqual(out.argv.slice(0, AGENT_NODE_FLAGS.length), [...AGENT_NODE_FLAGS]);
  for (const [k, v] of Object.entries(AGENT_ENV)) assert.equal(out.env[k], v);
});

test('daemon launcher: V8 hands no work to helper threads (--single-threaded)', () => {
  // Work V8 gives its helper threads when it may (major GCs of a few MB of live objects: concurrent
  // marking and sweeping; optimizing compiles of the hot loop), then the CPU ticks of every thread
  // but the main one. Without the setting they took 9-12 ticks here; with it, none.
  const script = `
    const fs = require('node:fs');
    const keep = [];
    for (let round = 0; round < 10; round++) {
      const a = [];
      for (let i = 0; i < 60000; i++) a.push({ i, s: 'x' + i, n: [i, i + 1] });
      keep.push(a);
      if (keep.length > 4) keep.shift();
    }
    const ticks = (p) => { const s = fs.readFileSync(p, 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return Number(f[11]) + Number(f[12]); };
    let others = 0;
    for (const t of fs.readdirSync('/proc/self/task')) if (Number(t) !== process.pid) others += ticks('/proc/self/task/' + t + '/stat');
    console.log(JSON.stringify({ others, main: ticks('/proc/self/task/' + process.pid + '/stat') }));
  `;
  const r = spawnSync(process.execPath, [...AGENT_NODE_FLAGS, '-e', script], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...AGENT_ENV } });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { others: number; main: number };
  assert.ok(out.main > 0, r.stdout); // the work was done, on the main thread
  assert.equal(out.others, 0, r.stdout);
});
