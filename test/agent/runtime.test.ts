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
