// Extended per-process counters: page faults, context switches, nice/policy, anonymous and
// hugetlb memory, busy threads.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ProbeOutput, Unavailable } from '../../agent/probes/probe.js';
import { isUnavailable } from '../../agent/probes/probe.js';
import { createProcessesProbe, parseProcStat } from '../../agent/probes/processes.js';
import { BusyThreads, MAX_THREADS_READ, parseCtxsw } from '../../agent/probes/threads.js';
import { config, copyFixture, editProcStat, editStatus, write } from './tree.js';

function ok(out: ProbeOutput | Unavailable): ProbeOutput {
  assert.ok(!isUnavailable(out), JSON.stringify(out));
  return out;
}

const byPid = (out: ProbeOutput, pid: number) => out.processes!.find((p) => p.pid === pid)!;

/** A /proc/PID/task/TID/stat line with the given utime+stime (all in utime). */
function taskStat(tid: number, ticks: number): string {
  return `${tid} (worker) R 1 1 1 0 -1 4194560 0 0 0 0 ${ticks} 0 0 0 20 0 1 0 100 0 0 ${'0 '.repeat(27)}0\n`;
}

test('stat parser reads faults, nice and policy; a line without policy has it undefined', () => {
  const s = parseProcStat(`9 (x) S 1 9 9 0 -1 4194560 1234 0 56 0 7 3 0 0 39 19 5 0 777 100 9 ${'0 '.repeat(16)}3 ${'0 '.repeat(10)}0\n`)!;
  assert.deepEqual([s.minflt, s.majflt, s.nice, s.policy], [1234, 56, 19, 3]);
  const short = parseProcStat('9 (x) S 1 9 9 0 -1 4194560 1 0 2 0 7 3 0 0 20 -5 5 0 777 100 9 0 0\n')!;
  assert.deepEqual([short.minflt, short.majflt, short.nice, short.policy], [1, 2, -5, undefined]);
});

test('extended counters: baseline first, then rates per second; a process born in the interval counts from zero', async () => {
  const t = copyFixture('proc-a');
  try {
    const probe = createProcessesProbe(config({ procRoot: t.dir }), { socketRefreshMs: 0 });
    await probe.collect(1000);
    const first = ok(await probe.collect(2000));
    // First report of processes older than the interval: baseline only.
    assert.ok(first.processes!.every((p) => p.extended === false && p.minfltPerSec === 0));

    const stat = join(t.dir, '1234', 'stat');
    editProcStat(stat, { minflt: 10000, majflt: 40 });
    editProcStat(stat, { nice: 5, policy: 3 }, 'set'); // SCHED_BATCH, nice 5
    editStatus(join(t.dir, '1234', 'status'), { voluntary_ctxt_switches: 600, nonvoluntary_ctxt_switches: 100 });
    editStatus(join(t.dir, '1234', 'status'), { HugetlbPages: 2048 }, 'set', ' kB');
    // Born during the interval: its counters all belong to it.
    cpSync(join(t.dir, '1235'), join(t.dir, '3000'), { recursive: true, verbatimSymlinks: true });
    write(t.dir, '3000/stat', `3000 (python3) R 1234 3000 3000 0 -1 4194560 300 0 6 0 40 10 0 0 20 0 1 0 95000 1000 500 ${'0 '.repeat(16)}0 ${'0 '.repeat(10)}0\n`);
    // status without ctxt lines (an old kernel): extended stays false.
    write(t.dir, '410/status', 'Name:\tsshd\nUid:\t0\t0\t0\t0\nVmRSS:\t7600 kB\n');

    const out = ok(await probe.collect(4000)); // 2 s interval
    const train = byPid(out, 1234);
    assert.deepEqual(
      {
        extended: train.extended, minflt: train.minfltPerSec, majflt: train.majfltPerSec, vol: train.voluntaryCtxswPerSec,
        nonvol: train.nonvoluntaryCtxswPerSec, nice: train.nice, policy: train.schedPolicy, anon: train.rssAnonBytes, huge: train.hugetlbBytes,
      },
      { extended: true, minflt: 5000, majflt: 20, vol: 300, nonvol: 50, nice: 5, policy: 3, anon: 7999900 * 1024, huge: 2048 * 1024 },
    );
    const fresh = byPid(out, 3000);
    assert.deepEqual([fresh.extended, fresh.minfltPerSec, fresh.majfltPerSec, fresh.voluntaryCtxswPerSec], [true, 150, 3, 750]);
    assert.equal(byPid(out, 410).extended, false);
    // Unchanged counters: real zeros, and extended.
    assert.deepEqual([byPid(out, 1).extended, byPid(out, 1).minfltPerSec], [true, 0]);
  } finally {
    t.cleanup();
  }
});

test('busy threads: per-thread deltas of busy processes, single-threaded shortcut, idle processes not read', async () => {
  const t = copyFixture('proc-a');
  try {
    const probe = createProcessesProbe(config({ procRoot: t.dir }), { socketRefreshMs: 0 });
    const tasks = { 1234: 500, 1240: 1000, 1241: 2000 };
    const writeTasks = () => {
      for (const [tid, ticks] of Object.entries(tasks)) {
        mkdirSync(join(t.dir, '1234', 'task', tid), { recursive: true });
        writeFileSync(join(t.dir, '1234', 'task', tid, 'stat'), taskStat(Number(tid), ticks));
      }
    };
    writeTasks();
    await probe.collect(1000);
    const step = (deltas: Record<number, number>) => {
      let sum = 0;
      for (const [tid, d] of Object.entries(deltas)) {
        tasks[Number(tid) as keyof typeof tasks] += d;
        sum += d;
      }
      writeTasks();
      editProcStat(join(t.dir, '1234', 'stat'), { utime: sum });
    };
    step({ 1234: 90, 1240: 60, 1241: 10 });
    editProcStat(join(t.dir, '410', 'stat'), { utime: 60 }); // single-threaded, 60 %
    editProcStat(join(t.dir, '1235', 'stat'), { utime: 15 }); // 4 threads, 15 %: not read
    const out2 = ok(await probe.collect(2000));
    assert.equal(byPid(out2, 1234).busyThreads, 0, 'threads seen for the first time have no interval yet');
    assert.equal(byPid(out2, 410).busyThreads, 1);
    assert.equal(byPid(out2, 1235).busyThreads, 0);

    step({ 1234: 90, 1240: 60, 1241: 10 });
    const out3 = ok(await probe.collect(3000));
    assert.equal(byPid(out3, 1234).busyThreads, 2);
    assert.equal(byPid(out3, 410).busyThreads, 0, 'idle this interval');

    step({ 1234: 49, 1240: 0, 1241: 0 });
    const out4 = ok(await probe.collect(4000));
    assert.equal(byPid(out4, 1234).busyThreads, 0, '49 % is under the threshold and the process (49 %) is read');
  } finally {
    t.cleanup();
  }
});

test('busy threads: at most MAX_THREADS_READ threads read per process, state only for threads read last', () => {
  const t = copyFixture('proc-a');
  try {
    for (let tid = 5000; tid < 5000 + MAX_THREADS_READ + 44; tid++) {
      mkdirSync(join(t.dir, '1234', 'task', String(tid)), { recursive: true });
      writeFileSync(join(t.dir, '1234', 'task', String(tid), 'stat'), taskStat(tid, 100));
    }
    const bt = new BusyThreads(t.dir, 100);
    for (let i = 0; i < 3; i++) {
      bt.begin();
      bt.count(1234, '1234:90000', 400, 300, 1);
      bt.end();
      assert.equal(bt.tracked, MAX_THREADS_READ);
    }
    assert.equal(bt.threadsRead, 3 * MAX_THREADS_READ);
    assert.equal(bt.statusRead, 3 * MAX_THREADS_READ, 'the context-switch read obeys the same cap');
    bt.begin();
    bt.end();
    assert.equal(bt.tracked, 0, 'a process no longer read leaves no state behind');
  } finally {
    t.cleanup();
  }
});

test('ctxt parser reads only the two ctxt lines, telling voluntary from nonvoluntary', () => {
  assert.deepEqual(parseCtxsw('Name:\tx\nThreads:\t3\nvoluntary_ctxt_switches:\t5000\nnonvoluntary_ctxt_switches:\t300\n'), [5000, 300]);
  // Order swapped: "nonvoluntary_ctxt_switches" contains "voluntary_ctxt_switches".
  assert.deepEqual(parseCtxsw('Name:\tx\nnonvoluntary_ctxt_switches:\t7\nvoluntary_ctxt_switches:\t9\n'), [9, 7]);
  assert.equal(parseCtxsw('Name:\tx\nvoluntary_ctxt_switches:\t9\n'), undefined, 'one line missing');
});

test('context switches: summed over the threads of a busy process, leader only for an idle multi-threaded one; an exited thread never makes the rate negative', async () => {
  // proc-threads: 700 (mariadbd, 3 threads) whose leader sleeps while workers 701 and 702 switch;
  // 800 (idle-mt, 2 threads) under 20 % of a core.
  const t = copyFixture('proc-threads');
  try {
    const probe = createProcessesProbe(config({ procRoot: t.dir }), { socketRefreshMs: 0 });
    const task = (tid: number) => join(t.dir, '700', 'task', String(tid), 'status');
    const busySecond = () => editProcStat(join(t.dir, '700', 'stat'), { utime: 100 }); // 100 % of a core per 1 s
    await probe.collect(1000);
    busySecond();
    const first = ok(await probe.collect(2000)); // first report: baseline, threads read for the first time
    assert.equal(byPid(first, 700).extended, false);

    busySecond();
    editStatus(join(t.dir, '700', 'status'), { voluntary_ctxt_switches: 2 });
    editStatus(task(701), { voluntary_ctxt_switches: 400, nonvoluntary_ctxt_switches: 30 });
    editStatus(task(702), { voluntary_ctxt_switches: 600, nonvoluntary_ctxt_switches: 20 });
    editStatus(join(t.dir, '800', 'status'), { voluntary_ctxt_switches: 3, nonvoluntary_ctxt_switches: 1 });
    editStatus(join(t.dir, '800', 'task', '801', 'status'), { voluntary_ctxt_switches: 900 }); // not read: 800 is idle
    const out = ok(await probe.collect(3000));
    const db = byPid(out, 700);
    assert.deepEqual([db.extended, db.voluntaryCtxswPerSec, db.nonvoluntaryCtxswPerSec], [true, 2 + 400 + 600, 0 + 30 + 20], 'leader alone says 2/s and 0/s');
    const idle = byPid(out, 800);
    assert.deepEqual([idle.extended, idle.cpuPct, idle.voluntaryCtxswPerSec, idle.nonvoluntaryCtxswPerSec], [true, 0, 3, 1], 'under 20 %: leader only');

    // 702 (8600 voluntary switches so far) exits and 703 appears: a process-wide sum would fall by
    // ~8600; the rate counts threads present in both readings only (703 has no previous reading).
    busySecond();
    rmSync(join(t.dir, '700', 'task', '702'), { recursive: true });
    cpSync(join(t.dir, '700', 'task', '701'), join(t.dir, '700', 'task', '703'), { recursive: true });
    editStatus(task(703), { voluntary_ctxt_switches: 9000 });
    editStatus(join(t.dir, '700', 'status'), { voluntary_ctxt_switches: 1 });
    editStatus(task(701), { voluntary_ctxt_switches: 100, nonvoluntary_ctxt_switches: 5 });
    const after = byPid(ok(await probe.collect(5000)), 700); // 2 s interval
    assert.deepEqual([after.voluntaryCtxswPerSec, after.nonvoluntaryCtxswPerSec], [(1 + 100) / 2, 5 / 2]);

    // A reused tid whose counter went backwards adds 0, not a negative delta.
    busySecond();
    editStatus(task(703), { voluntary_ctxt_switches: 10, nonvoluntary_ctxt_switches: 1 }, 'set');
    editStatus(task(701), { voluntary_ctxt_switches: 50 });
    const reused = byPid(ok(await probe.collect(6000)), 700);
    assert.deepEqual([reused.voluntaryCtxswPerSec, reused.nonvoluntaryCtxswPerSec], [50, 0]);

    // A multi-threaded process born in the interval: all its threads' switches belong to it.
    cpSync(join(t.dir, '700'), join(t.dir, '900'), { recursive: true });
    rmSync(join(t.dir, '900', 'task', '700'), { recursive: true }); // its leader is 900 (status as 700's)
    mkdirSync(join(t.dir, '900', 'task', '900'));
    write(t.dir, '900/stat', `900 (mariadbd) S 1 900 900 0 -1 4194560 0 0 0 0 100 0 0 0 20 0 3 0 95000 1000 500 ${'0 '.repeat(16)}0 ${'0 '.repeat(10)}0\n`);
    busySecond();
    const born = byPid(ok(await probe.collect(7000)), 900);
    // leader 1003 + 701 5550 + 703 10 voluntary; 10 + 335 + 1 nonvoluntary.
    assert.deepEqual([born.extended, born.voluntaryCtxswPerSec, born.nonvoluntaryCtxswPerSec], [true, 6563, 346]);
  } finally {
    t.cleanup();
  }
});
