// Kept /proc descriptors (proc-files.ts) on the real procfs: a kept read gives what a fresh read
// by path gives, builds no path, and a process that is gone reads as gone (its descriptor fails
// and the path, opened again, no longer exists), so pid reuse cannot mix two processes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FdBudget, isProcfs, KeptFiles, KeptProcFiles } from '../../agent/probes/proc-files.js';
import { fixtures } from '../helpers/env.js';

test('kept /proc descriptors: same content as a read by path, path built only to open, gone process reads as gone', async () => {
  assert.ok(isProcfs('/proc'), 'the agent tests run on Linux with procfs');
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    const pid = child.pid!;
    // Compare only once the child has exec'd and sleeps: while it starts, its stat line changes
    // between any two reads (state R, faults, size), which says nothing about kept descriptors.
    const settledBy = Date.now() + 5000;
    for (let prev = ''; ; ) {
      const now = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (now === prev && /^\d+ \(sleep\) S /.test(now)) break;
      assert.ok(Date.now() < settledBy, `sleep ${pid} did not settle: ${now}`);
      prev = now;
      await new Promise((r) => setTimeout(r, 20));
    }
    const files = new KeptProcFiles('/proc', 'stat', 8, new FdBudget(8));
    const first = files.readPid(pid);
    assert.equal(first, readFileSync(`/proc/${pid}/stat`, 'utf8'));
    assert.equal(files.kept, 1);
    // Second read: through the kept descriptor, and no path asked for.
    let asked = 0;
    const kept = new KeptFiles(true, 8, new FdBudget(8));
    const path = (): string => (asked++, `/proc/${pid}/status`);
    const s1 = kept.read(pid, path);
    const s2 = kept.read(pid, path);
    assert.equal(asked, 1);
    assert.equal(kept.reused, 1);
    assert.match(s2!, new RegExp(`^Name:\\s+sleep\\n`));
    assert.equal(s1!.split('\n')[0], s2!.split('\n')[0]);
    assert.equal(files.readPid(pid), readFileSync(`/proc/${pid}/stat`, 'utf8'));
    assert.equal(files.reused, 1);
    child.kill('SIGKILL');
    await exited; // reaped: the pid no longer names this process
    assert.equal(files.readPid(pid), undefined);
    assert.equal(kept.read(pid, path), undefined);
    assert.equal(asked, 2, 'the kept descriptor failed, so the path was opened again');
    files.prune();
    kept.prune();
    assert.equal(files.kept, 0);
    assert.equal(kept.kept, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test('kept files on a fixture tree (regular files): read by path every time, nothing kept', () => {
  const root = join(fixtures, 'proc-a');
  const files = new KeptProcFiles(root, 'stat', 8, new FdBudget(8));
  assert.equal(files.readPid(1234), readFileSync(join(root, '1234', 'stat'), 'utf8'));
  assert.equal(files.readPid(1234), readFileSync(join(root, '1234', 'stat'), 'utf8'));
  assert.equal(files.kept, 0);
  assert.equal(files.reused, 0);
  assert.equal(files.readPid(999999), undefined);
});

test('readKept: reads only through a kept descriptor; once its process is gone, undefined and the descriptor closed', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  const pid = child.pid!;
  const files = new KeptProcFiles('/proc', 'comm', 8, new FdBudget(8));
  try {
    // Nothing kept yet: never opened by name.
    assert.equal(files.readKept(pid), undefined);
    assert.equal(files.isKept(pid), false);
    assert.notEqual(files.readPid(pid), undefined);
    assert.equal(files.isKept(pid), true);
    assert.equal(files.readKept(pid), readFileSync(`/proc/${pid}/comm`, 'utf8'));
  } finally {
    child.kill('SIGKILL');
    await exited; // reaped: its pid number may now go to another process
  }
  assert.equal(files.readKept(pid), undefined);
  assert.equal(files.isKept(pid), false);
  assert.equal(files.kept, 0);
});
