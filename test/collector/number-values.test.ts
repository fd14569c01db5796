// Number options must say a number. Found from outside: `Number('')` is 0, so an empty value
// (`ASSAY_PORT=` from an unset variable in a unit file, `port: ""` in a config file,
// `--min-coverage "$UNSET"`) silently became 0: a collector on a random port, `--max-enrollments`
// 0 (no agent may enroll), a report whose AI-only statement asked for 0 % coverage. Hex and other
// non-decimal spellings (`--port 0x1C94` listened on 7316) were taken too.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fractionArg, intArg } from '../../proto/cli-kit.js';
import { cliPath, tempDir } from '../helpers/env.js';

interface Run {
  code: number | null;
  stderr: string;
}

/** Runs the CLI until it exits, or until it says it is listening (then stops it); killed after 20 s. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const all: Record<string, string | undefined> = { ...process.env };
    for (const k of Object.keys(all)) if (k.startsWith('ASSAY_')) delete all[k];
    const child = spawn(process.execPath, [cliPath, ...args], { env: { ...all, ASSAY_LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      if (/listening on/.test(stderr)) child.kill('SIGTERM');
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('number options', () => {
  it('the parsers take decimal numbers only: empty, blank and hex/octal/binary spellings are refused', () => {
    const port = intArg('port', 0, 65535);
    for (const v of ['', ' ', '\t', '0x1C94', '0o17', '0b11', '7300.5', 'Infinity', '1_000']) assert.throws(() => port(v), /port must be an integer from 0 to 65535/, JSON.stringify(v));
    assert.equal(port('7300'), 7300);
    assert.equal(port(' 7300 '), 7300);
    assert.equal(port('0'), 0);
    const share = fractionArg('min-coverage');
    for (const v of ['', ' ', '0x1', 'NaN', '.']) assert.throws(() => share(v), /min-coverage must be a number from 0 to 1/, JSON.stringify(v));
    assert.equal(share('0.99'), 0.99);
    assert.equal(share('.5'), 0.5);
    assert.equal(share('1'), 1);
    assert.equal(share('1e-2'), 0.01);
  });

  it('an empty ASSAY_PORT or ASSAY_MAX_ENROLLMENTS, an empty port in a config file and a hex --port stop the collector, naming the option', async () => {
    const tmp = tempDir('number-values');
    try {
      const db = join(tmp.dir, 'assay.db');
      const cfg = join(tmp.dir, 'config.yaml');
      writeFileSync(cfg, 'port: ""\n');
      const cases: Array<[string[], Record<string, string>, RegExp]> = [
        [['collector', '--db', db], { ASSAY_PORT: '' }, /port must be an integer/],
        [['collector', '--db', db, '--port', '0'], { ASSAY_MAX_ENROLLMENTS: ' ' }, /max-enrollments must be an integer/],
        [['collector', '--db', db, '--config', cfg], {}, /port must be an integer/],
        [['collector', '--db', db, '--port', '0x1C94'], {}, /port must be an integer/],
      ];
      for (const [args, env, why] of cases) {
        const r = await cli(args, env);
        assert.equal(r.code, 1, `${args.join(' ')} ${JSON.stringify(env)} exits 1 (it started: ${r.stderr.slice(0, 200)})`);
        assert.match(r.stderr, why);
        assert.doesNotMatch(r.stderr, /listening on/);
      }
      // The control: the same collector with a decimal port starts.
      const ok = await cli(['collector', '--db', db], { ASSAY_PORT: '0' });
      assert.match(ok.stderr, /listening on/);
    } finally {
      tmp.cleanup();
    }
  });

  it('assay report --min-coverage "" is refused, not a 0 % coverage requirement', async () => {
    const tmp = tempDir('number-values-report');
    try {
      const r = await cli(['report', '--db', join(tmp.dir, 'assay.db'), '--host', 'x', '--min-coverage', '']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /min-coverage must be a number from 0 to 1/);
    } finally {
      tmp.cleanup();
    }
  });
});
