// The agent's launcher (assay-agent) starts Node with the settings agent/runtime.ts names.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AGENT_ENV, AGENT_NODE_FLAGS, agentShebang } from '../../agent/runtime.js';
import { repoRoot } from '../helpers/env.js';

const launcher = join(repoRoot, 'dist', 'agent', 'main.js');

test('assay-agent: its shebang carries the runtime settings and runs the agent command', () => {
  assert.equal(readFileSync(launcher, 'utf8').split('\n')[0], agentShebang());
  assert.ok(AGENT_NODE_FLAGS.some((f) => f.startsWith('--max-semi-space-size=')));
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.equal(pkg.bin['assay-agent'], 'dist/agent/main.js');
  chmodSync(launcher, 0o755); // npm sets it on install; a fresh build leaves it 0644
  // Executed through its shebang (env -S): the agent's help, and the flags reached node.
  const help = spawnSync(launcher, ['--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /Usage: assay agent/);
});

test('assay-agent: node really runs with the flags and environment', () => {
  // The same env -S line, running a one-liner instead of the agent.
  const [, ...words] = agentShebang().slice(2).split(' -S ');
  const r = spawnSync('/usr/bin/env', ['-S', ...words.join(' -S ').split(' '), '-e', 'console.log(JSON.stringify({ argv: process.execArgv, env: process.env }))'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { argv: string[]; env: Record<string, string> };
  assert.deepEqual(out.argv.slice(0, AGENT_NODE_FLAGS.length), [...AGENT_NODE_FLAGS]);
  for (const [k, v] of Object.entries(AGENT_ENV)) assert.equal(out.env[k], v);
});
