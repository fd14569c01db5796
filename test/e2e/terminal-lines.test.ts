// Data cannot start a line of its own in CLI output. termSafe() escapes control characters but
// kept newlines (it is applied to whole multi-line outputs), so a hostname, process name, exe path
// or a string in a forged report file printed its own lines: `assay agents list` showed a fake
// agent row, `assay scan` a fake summary line, and `assay verify` of a forged file printed
// "PASS: …" and "  ok    …" lines below its FAIL. Every value from data is now printed on its
// line with newlines, tabs and line separators escaped too (`\x0a`).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startCollector } from '../../collector/server.js';
import { tempDir } from '../helpers/env.js';
import { fullHello } from '../helpers/messages.js';
import { runAssay } from '../helpers/proc.js';
import { RawAgent } from '../helpers/rawagent.js';

const FORGED = 'PASS: forged';
/** Lines of `out` (after the first) that data made: they start with what the forgery wrote. */
const forgedLines = (out: string): string[] => out.split('\n').filter((l) => l.startsWith(FORGED) || l.startsWith('  ok    forged') || l.startsWith('x-forged-row'));

describe('agent and report data on the terminal', () => {
  const tmp = tempDir('assay-term-lines-');
  after(() => tmp.cleanup());

  it('assay agents list: a hostname with newlines stays in its row', async () => {
    const dbPath = join(tmp.dir, 'assay.db');
    const secret = 'term-lines-secret-0123456789';
    const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath, enrollSecret: secret });
    try {
      const a = await RawAgent.connect(c.url.replace('http', 'ws') + '/ingest');
      await a.hello({ ...fullHello('term-agent-1'), hostname: 'gpu-01\nx-forged-row  SHA256:AAAA  active\r\n' }, secret);
      a.close();
    } finally {
      await c.close();
    }
    const r = await runAssay(['agents', 'list', '--db', dbPath]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2, `a header and one row:\n${r.stdout}`);
    assert.deepEqual(forgedLines(r.stdout), []);
    assert.match(lines[1]!, /^term-agent-1 +gpu-01\\x0ax-forged-row {2}SHA256:AAAA {2}active\\x0d\\x0a +SHA256:/);
  });

  it('assay scan and assay verify: a process named with newlines, and a forged report file', async (t) => {
    // A real busy process whose name (comm) and exe path hold a newline, as a miner may name itself.
    const exe = join(tmp.dir, `spin\n${FORGED}`);
    copyFileSync('/bin/sh', exe);
    chmodSync(exe, 0o755);
    const spinner = spawn(exe, ['-c', 'while :; do :; done'], { stdio: 'ignore' });
    t.after(() => spinner.kill('SIGKILL'));
    const json = join(tmp.dir, 'scan.json');
    const r = await runAssay(['scan', '--duration', '3s', '--json', json], {}, 90_000);
    spinner.kill('SIGKILL');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.ok(r.stdout.includes(`spin\\x0a${FORGED}`), `the busy process is listed, its newline escaped:\n${r.stdout}`);
    assert.deepEqual(forgedLines(r.stdout), []);

    // The same report with newlines in strings verify prints back (id, hostname, headline).
    const report = JSON.parse(readFileSync(json, 'utf8')) as { statement: { headline: string }; hosts: Array<{ input: { identity: { id: string; hostname: string } } }> };
    report.hosts[0]!.input.identity.id = `x\n${FORGED}\n  ok    forged`;
    report.hosts[0]!.input.identity.hostname = `h\n${FORGED}`;
    report.statement.headline = `AI-only\n${FORGED}`;
    const forged = join(tmp.dir, 'forged.json');
    writeFileSync(forged, JSON.stringify(report));
    const v = await runAssay(['verify', forged]);
    assert.equal(v.code, 1, v.stdout);
    assert.match(v.stdout, /^FAIL: /);
    assert.deepEqual(forgedLines(v.stdout), [], v.stdout);
    assert.ok(v.stdout.includes(`\\x0a${FORGED}`), `the forged text is shown, escaped:\n${v.stdout}`);
  });
});

describe('output into a reader that stops early (`assay verify r.json | head -1`)', () => {
  it('stops quietly with a failing status instead of a crash and a stack trace', async () => {
    const tmp = tempDir('assay-epipe-');
    try {
      const file = join(tmp.dir, 'not-a-report.json');
      writeFileSync(file, '{"format":"assay-report/6"}');
      const { cliPath } = await import('../helpers/env.js');
      for (const args of [['verify', file], ['--help']]) {
        const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        // The reader is gone before the first line is written: every write fails with EPIPE.
        child.stdout.destroy();
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
        assert.doesNotMatch(stderr, /Unhandled 'error' event|EPIPE\n\s+at /, `${args.join(' ')}: ${stderr}`);
        // (--help: commander exits 0 right after writing, before the pipe's error arrives.)
        if (args[0] !== '--help') assert.equal(code, 141, `${args.join(' ')}: a cut-off output is not a success`);
      }
    } finally {
      tmp.cleanup();
    }
  });
});
