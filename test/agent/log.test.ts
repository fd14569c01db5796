// The agent daemon's log (agent/log.ts): the same JSON lines pino writes for the other commands
// (proto/log.ts), without loading pino.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { pino } from 'pino';
import { createAgentLogger, silentAgentLogger, type AgentLogger } from '../../agent/log.js';
import { repoRoot, tempDir } from '../helpers/env.js';

type Call = [keyof AgentLogger, Record<string, unknown>, string];

const codeError = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7300'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });
const calls: Call[] = [
  ['info', { agentId: 'b77644c8', collector: 'ws://127.0.0.1:7300/ingest', intervalMs: 1000, stateDir: '/var/lib/assay' }, 'agent started'],
  ['warn', { reason: 'spool_full', samples: 12 }, 'spool full: oldest unsent samples thinned or dropped (recorded as a gap)'],
  ['error', { code: 4403, reason: 'not_enrolled', detail: 'quote " backslash \\ newline \n tab \t nul \u0000 é 漢 😀', retryInMs: 2500.5 }, 'collector connection failed: "x"'],
  ['debug', { reason: 'socket', code: undefined, err: 'gone', ok: true, none: null, nan: Number.NaN, inf: -Infinity, neg: -3, list: [1, 'a', null], nested: { b: 2, a: [true] } }, 'collector connection error'],
  ['error', { reason: 'sample_failed', err: codeError }, 'sampling failed'],
  ['warn', {}, ''],
];

/** Runs the calls, then the lines `file` received, with the time field checked and set aside. */
function linesOf(file: string, run: () => void, before: number): Array<Record<string, unknown>> {
  run();
  const after = Date.now();
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const obj = JSON.parse(line) as Record<string, unknown>;
      const t = Date.parse(obj.time as string);
      assert.ok(t >= before && t <= after && new Date(t).toISOString() === obj.time, line);
      // Key order matters to a reader of the raw line: compare it too.
      return { keys: Object.keys(obj).join(','), ...obj, time: 'T' };
    });
}

test('agent log lines: the same as pino (configured as proto/log.ts does) for the same calls, at every level', (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  for (const level of ['debug', 'info', 'warn', 'error', 'silent']) {
    const pinoFile = join(tmp.dir, `pino-${level}.log`);
    const oursFile = join(tmp.dir, `ours-${level}.log`);
    const before = Date.now();
    const expected = linesOf(pinoFile, () => {
      const p = pino({ name: 'agent', level, base: { component: 'agent' }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: pinoFile, sync: true }));
      for (const [fn, fields, msg] of calls) p[fn](fields, msg);
      p.flush();
    }, before);
    const fd = openSync(oursFile, 'w');
    const actual = linesOf(oursFile, () => {
      const ours = createAgentLogger('agent', level, fd);
      for (const [fn, fields, msg] of calls) ours[fn](fields, msg);
      closeSync(fd);
    }, before);
    assert.deepEqual(actual, expected, level);
    assert.equal(actual.length, { debug: 6, info: 5, warn: 4, error: 2, silent: 0 }[level]);
  }
  const silent = silentAgentLogger();
  for (const [fn, fields, msg] of calls) silent[fn](fields, msg); // writes nothing, never throws
  assert.throws(() => createAgentLogger('agent', 'loud'), /unknown level loud/);
});

test('agent daemon: logs through agent/log.ts, pino is not loaded', () => {
  const url = (p: string) => JSON.stringify(pathToFileURL(join(repoRoot, 'dist', p)).href);
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `await import(${url('agent/agent.js')}); await import(${url('agent/cli.js')});
       const { createAgentLogger } = await import(${url('agent/log.js')});
       const { cachedModuleFiles } = await import(${url('proto/transient-require.js')});
       createAgentLogger('agent', 'info').info({ reason: 'r' }, 'hello');
       console.log(JSON.stringify({ pino: cachedModuleFiles('pino').length }));`,
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { pino: 0 });
  assert.match(r.stderr, /^\{"level":30,"time":"[^"]+Z","component":"agent","name":"agent","reason":"r","msg":"hello"\}\n$/);
});
