// Idle processes' status and io figures reused while /proc/PID/schedstat, the fault counters and
// (for io) the single thread say the process did not run (processes.ts, reuseFigures).
// Two copies of the same tree get the same edits, each edit the way the kernel would make it
// (a process that runs moves its schedstat); copy A has schedstat and statm files (the shortcut
// can apply), copy B has none (every figure read, as before). Their samples must be equal.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ProbeOutput, Unavailable } from '../../agent/probes/probe.js';
import { isUnavailable } from '../../agent/probes/probe.js';
import { createProcessesProbe, FULL_READ_MAX_AGE_MS, parseStatm, type ProcessReads } from '../../agent/probes/processes.js';
import { config, copyFixture, editProcStat, editStatus, write } from './tree.js';

function ok(out: ProbeOutput | Unavailable): ProbeOutput {
  assert.ok(!isUnavailable(out), JSON.stringify(out));
  return out;
}

const byPid = (out: ProbeOutput, pid: number) => out.processes!.find((p) => p.pid === pid)!;
/** Signatures are built once per process and probe: compare the figures only. */
const figures = (out: ProbeOutput) => out.processes!.map(({ signature: _s, ...p }) => p);

/** statm of a process whose VmRSS and RssAnon are as given (4 kB pages, shared = the rest). */
const statm = (rssKb: number, anonKb: number) => `100000 ${rssKb / 4} ${(rssKb - anonKb) / 4} 100 0 5000 0\n`;

function pair() {
  const a = copyFixture('proc-a');
  const b = copyFixture('proc-a');
  // 410 (sshd) is single-threaded, 1234 (python3) has 48 threads.
  write(a.dir, '410/schedstat', '1000000 20000 5\n');
  write(a.dir, '410/statm', statm(7600, 7500));
  write(a.dir, '1234/schedstat', '9000000 300000 70\n');
  write(a.dir, '1234/statm', statm(8000000, 7999900));
  const reads: ProcessReads = { reusedStatus: 0, reusedIo: 0 };
  const pa = createProcessesProbe(config({ procRoot: a.dir }), { socketRefreshMs: 0, reads });
  const pb = createProcessesProbe(config({ procRoot: b.dir }), { socketRefreshMs: 0 });
  return {
    a: a.dir,
    reads,
    /** The same edit in both trees (schedstat and statm exist in A only). */
    edit(f: (dir: string) => void) {
      f(a.dir);
      f(b.dir);
    },
    async both(nowMs: number): Promise<[ProbeOutput, ProbeOutput]> {
      return [ok(await pa.collect(nowMs)), ok(await pb.collect(nowMs))];
    },
    cleanup() {
      a.cleanup();
      b.cleanup();
    },
  };
}

test('statm parser: VmRSS is resident, RssAnon resident minus shared; malformed lines are refused', () => {
  assert.deepEqual(parseStatm('5700 1900 25 100 0 1000 0\n', 4), { rssKb: 7600, rssAnonKb: 7500 });
  assert.deepEqual(parseStatm('5700 1900 25 100 0 1000 0\n', 16), { rssKb: 30400, rssAnonKb: 30000 });
  assert.equal(parseStatm('5700 x 25\n', 4), undefined);
  assert.equal(parseStatm('5700\n', 4), undefined);
  assert.equal(parseStatm('5700 10 25\n', 4), undefined); // shared > resident
});

test('reuse: idle processes give the samples a full read gives; a process that ran is read again at once', async () => {
  const t = pair();
  try {
    await t.both(1000);
    let [a, b] = await t.both(2000); // first report: everything read
    assert.deepEqual(figures(a), figures(b));
    assert.deepEqual(t.reads, { reusedStatus: 0, reusedIo: 0 });

    // Nothing ran: 410's status and io, 1234's status reused (its io is read: 48 threads).
    [a, b] = await t.both(3000);
    assert.deepEqual(figures(a), figures(b));
    assert.deepEqual(t.reads, { reusedStatus: 2, reusedIo: 1 });

    // 410 ran and did I/O (schedstat and io move together); 1234's worker threads read (io moves,
    // the leader slept) and the kernel reclaimed some of its memory (status and statm move together).
    t.edit((dir) => {
      write(dir, '410/io', 'rchar: 520000\nwchar: 4000\nsyscr: 900\nsyscw: 50\nread_bytes: 8192\nwrite_bytes: 0\ncancelled_write_bytes: 0\n');
      write(dir, '1234/io', 'rchar: 3000000\nwchar: 500000\nsyscr: 100\nsyscw: 50\nread_bytes: 4096000\nwrite_bytes: 1024000\ncancelled_write_bytes: 0\n');
      editStatus(join(dir, '1234/status'), { VmRSS: 7000000, RssAnon: 6999900 }, 'set', ' kB');
    });
    write(t.a, '410/schedstat', '1400000 20000 9\n');
    write(t.a, '1234/statm', statm(7000000, 6999900));
    [a, b] = await t.both(4000);
    assert.deepEqual(figures(a), figures(b));
    assert.equal(byPid(a, 410).rcharPerSec, 400000);
    assert.equal(byPid(a, 1234).rcharPerSec, 2000000);
    assert.equal(byPid(a, 1234).rssBytes, 7000000 * 1024);
    assert.deepEqual(t.reads, { reusedStatus: 3, reusedIo: 1 });

    // 410 switched out twice (ctxsw with its run count); a thread of 1234 faulted huge pages
    // (minflt moves, the leader's schedstat does not).
    t.edit((dir) => {
      editStatus(join(dir, '410/status'), { voluntary_ctxt_switches: 2 });
      editProcStat(join(dir, '1234/stat'), { minflt: 512 });
      editStatus(join(dir, '1234/status'), { HugetlbPages: 1048576 }, 'set', ' kB');
    });
    write(t.a, '410/schedstat', '1500000 20000 11\n');
    [a, b] = await t.both(5000);
    assert.deepEqual(figures(a), figures(b));
    assert.deepEqual([byPid(a, 410).voluntaryCtxswPerSec, byPid(a, 1234).hugetlbBytes], [2, 1048576 * 1024]);
    assert.deepEqual(t.reads, { reusedStatus: 3, reusedIo: 1 });
  } finally {
    t.cleanup();
  }
});

test('reuse: what the gate cannot see (HugetlbPages changed by another process) is read within FULL_READ_MAX_AGE_MS; "0 0 0" schedstat never gates', async () => {
  const t = pair();
  try {
    await t.both(1000);
    await t.both(2000);
    // A hugetlbfs file of 410 truncated by another process: status moves, 410 did not run.
    t.edit((dir) => editStatus(join(dir, '410/status'), { HugetlbPages: 4096 }, 'set', ' kB'));
    let [a, b] = await t.both(3000);
    assert.equal(byPid(b, 410).hugetlbBytes, 4096 * 1024);
    assert.equal(byPid(a, 410).hugetlbBytes, 0, 'the reused figure (the documented bound), proving the shortcut applied');
    // Still reused just under the bound, read again once it is reached.
    [a, b] = await t.both(2000 + FULL_READ_MAX_AGE_MS - 1);
    assert.equal(byPid(a, 410).hugetlbBytes, 0);
    [a, b] = await t.both(2000 + FULL_READ_MAX_AGE_MS);
    assert.deepEqual(figures(a), figures(b));

    // A kernel without scheduler statistics: every sample reads status and io.
    write(t.a, '410/schedstat', '0 0 0\n');
    write(t.a, '1234/schedstat', '0 0 0\n');
    const before = { ...t.reads };
    await t.both(2000 + FULL_READ_MAX_AGE_MS + 1000);
    [a, b] = await t.both(2000 + FULL_READ_MAX_AGE_MS + 2000);
    assert.deepEqual(figures(a), figures(b));
    assert.deepEqual(t.reads, before);

    // No schedstat at all, or a statm that cannot be read: read as before.
    rmSync(join(t.a, '410/schedstat'));
    write(t.a, '1234/schedstat', '9000000 300000 70\n');
    rmSync(join(t.a, '1234/statm'));
    await t.both(2000 + FULL_READ_MAX_AGE_MS + 3000);
    [a, b] = await t.both(2000 + FULL_READ_MAX_AGE_MS + 4000);
    assert.deepEqual(figures(a), figures(b));
    assert.deepEqual(t.reads, before);
  } finally {
    t.cleanup();
  }
});
