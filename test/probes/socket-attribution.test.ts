// Socket attribution as the agent reports it: per process (socket_view) and per sample
// (socket_attribution), on fixture trees.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ProbeOutput, Unavailable } from '../../agent/probes/probe.js';
import { isUnavailable } from '../../agent/probes/probe.js';
import { createProcessesProbe } from '../../agent/probes/processes.js';
import { MAX_OTHER } from '../../agent/probes/sockets.js';
import { assay } from '../../proto/codec.js';
import { config, copyFixture, editProcStat } from './tree.js';

const READ = assay.v1.SocketView.SOCKET_VIEW_READ;
const UNREADABLE = assay.v1.SocketView.SOCKET_VIEW_UNREADABLE;
const CONTAINER_NS = 4026532500;

function ok(out: ProbeOutput | Unavailable): ProbeOutput {
  assert.ok(!isUnavailable(out), JSON.stringify(out));
  return out;
}

async function twoSamples(dir: string, maxProcesses = 64): Promise<ProbeOutput> {
  const probe = createProcessesProbe(config({ procRoot: dir, maxProcesses }), { socketRefreshMs: 0 });
  await probe.collect(1000);
  return ok(await probe.collect(2000));
}

const view = (out: ProbeOutput, pid: number) => out.processes!.find((p) => p.pid === pid)?.socketView;
const socketsOf = (out: ProbeOutput, pid: number) => out.sockets!.filter((s) => s.pid === pid).map((s) => s.inode).sort();

test('attribution: every fd table and namespace read → complete; a readable process with no sockets is READ with none', async () => {
  const t = copyFixture('proc-a');
  try {
    const out = await twoSamples(t.dir);
    const omitted = [{ protocol: 'tcp', state: 'TIME_WAIT', count: 1 }]; // the fixture's ownerless TIME_WAIT row
    assert.deepEqual(out.socketAttribution, { complete: true, processesRead: 6, processesUnreadable: 0, namespacesRead: 2, reason: '', unownedOmitted: omitted });
    assert.ok(out.processes!.every((p) => p.socketView === READ));
    assert.deepEqual(socketsOf(out, 1), [], 'systemd: fds read, no socket among them');
    assert.deepEqual(socketsOf(out, 410), [20001, 20002]);
    assert.deepEqual(socketsOf(out, 1234), [30001, 30002, 30003, 30004, 30005]);
    // The process in the container's network namespace: its sockets come from that namespace's tables.
    const miner = out.sockets!.filter((s) => s.pid === 2345);
    assert.deepEqual(miner.map((s) => [s.inode, s.netNs]), [[50002, CONTAINER_NS], [50001, CONTAINER_NS]]);
    // No visible holder (a kernel socket): stays pid 0, which does not make the attribution incomplete.
    assert.equal(out.sockets!.find((s) => s.inode === 40001)?.pid, 0);
  } finally {
    t.cleanup();
  }
});

test('attribution: an unreadable or vanished fd table → UNREADABLE, sample incomplete with the reason', async () => {
  const t = copyFixture('proc-a');
  try {
    // 1234's sockets are unknown if its fd directory cannot be listed.
    rmSync(join(t.dir, '1234', 'fd'), { recursive: true });
    writeFileSync(join(t.dir, '1234', 'fd'), 'not a directory');
    // 410: the directory lists but a link cannot be read (as with EACCES on a protected init).
    writeFileSync(join(t.dir, '410', 'fd', '5'), 'not a link');
    const out = await twoSamples(t.dir);
    assert.equal(view(out, 1234), UNREADABLE);
    assert.equal(view(out, 410), UNREADABLE);
    assert.equal(view(out, 1), READ);
    const a = out.socketAttribution!;
    assert.deepEqual([a.complete, a.processesRead, a.processesUnreadable], [false, 4, 2]);
    assert.match(a.reason!, /2 reported process\(es\) with unreadable fds \(pid 1234, 410\)/);
    // Known nothing about their sockets: not attributed to anyone else either.
    assert.deepEqual(socketsOf(out, 1234), []);
  } finally {
    t.cleanup();
  }
});

test('attribution: a process whose network namespace is unknown makes the sample incomplete', async () => {
  const t = copyFixture('proc-a');
  try {
    rmSync(join(t.dir, '2346', 'ns'), { recursive: true });
    const out = await twoSamples(t.dir);
    assert.equal(out.socketAttribution!.complete, false);
    assert.match(out.socketAttribution!.reason!, /1 process\(es\) in an unknown network namespace/);
    assert.equal(out.socketAttribution!.namespacesRead, 2);
  } finally {
    t.cleanup();
  }
});

test('attribution: a socket shared with an unreported lower pid carries the reported holder', async () => {
  const t = copyFixture('proc-a');
  try {
    symlinkSync('socket:[20001]', join(t.dir, '1', 'fd', '9')); // pid 1 also holds sshd's listener
    editProcStat(join(t.dir, '410', 'stat'), { utime: 0 });
    const probe = createProcessesProbe(config({ procRoot: t.dir, maxProcesses: 1 }), { socketRefreshMs: 0 });
    await probe.collect(1000);
    editProcStat(join(t.dir, '410', 'stat'), { utime: 50 });
    const out = ok(await probe.collect(2000));
    assert.deepEqual(out.processes!.map((p) => p.pid), [410]);
    assert.equal(out.sockets!.find((s) => s.inode === 20001)?.pid, 410);
    assert.deepEqual(out.socketAttribution, { complete: true, processesRead: 1, processesUnreadable: 0, namespacesRead: 2, reason: '', unownedOmitted: [{ protocol: 'tcp', state: 'TIME_WAIT', count: 1 }] });
  } finally {
    t.cleanup();
  }
});

test('attribution: a process that appears later is read once; a new socket of a known process is found', async () => {
  const t = copyFixture('proc-a');
  try {
    const probe = createProcessesProbe(config({ procRoot: t.dir }), { socketRefreshMs: 0 });
    await probe.collect(1000);
    ok(await probe.collect(2000));
    // A new process with a listener.
    mkdirSync(join(t.dir, '4000', 'fd'), { recursive: true });
    mkdirSync(join(t.dir, '4000', 'ns'), { recursive: true });
    symlinkSync('net:[4026531833]', join(t.dir, '4000', 'ns', 'net'));
    symlinkSync('socket:[60001]', join(t.dir, '4000', 'fd', '3'));
    writeFileSync(join(t.dir, '4000', 'stat'), `4000 (srv) S 1 4000 4000 0 -1 4194560 0 0 0 0 5 0 0 0 20 0 1 0 99000 1000 10 ${'0 '.repeat(28)}0\n`);
    writeFileSync(join(t.dir, '4000', 'status'), 'Name:\tsrv\nUid:\t0\t0\t0\t0\nVmRSS:\t40 kB\n');
    const tcp = join(t.dir, '1', 'net', 'tcp');
    const { readFileSync } = await import('node:fs');
    writeFileSync(tcp, `${readFileSync(tcp, 'utf8')}   9: 00000000:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 60001 1 0000000000000000 100 0 0 10 0\n`);
    const out = ok(await probe.collect(3000));
    assert.equal(view(out, 4000), READ);
    assert.deepEqual(socketsOf(out, 4000), [60001]);
    assert.equal(out.socketAttribution!.complete, true);
  } finally {
    t.cleanup();
  }
});

test('attribution: no socket table readable → sockets unavailable, attribution incomplete, views unknown', async () => {
  const t = copyFixture('proc-a');
  try {
    for (const pid of ['1', '2345']) rmSync(join(t.dir, pid, 'net'), { recursive: true });
    const out = await twoSamples(t.dir);
    assert.equal(out.sockets, undefined);
    assert.deepEqual(out.unavailable?.map((u) => u.probe), ['sockets']);
    assert.equal(out.socketAttribution!.complete, false);
    assert.match(out.socketAttribution!.reason!, /cannot read socket tables/);
    assert.ok(out.processes!.every((p) => p.socketView === undefined));
  } finally {
    t.cleanup();
  }
});

test('attribution: owned sockets over the per-sample cap make it incomplete; ownerless TIME_WAIT rows do not', async () => {
  const row = (i: number, state: string, inode: number) =>
    `  ${100 + i}: 0400000A:${(20000 + i).toString(16).toUpperCase()} 0500000A:0CEA ${state} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 20 4 30 10 -1\n`;
  const { readFileSync } = await import('node:fs');
  for (const [state, withInode, complete] of [['06', false, true], ['01', true, false]] as const) {
    const t = copyFixture('proc-a');
    try {
      const tcp = join(t.dir, '1', 'net', 'tcp');
      let extra = '';
      for (let i = 0; i < MAX_OTHER + 10; i++) extra += row(i, state, withInode ? 70000 + i : 0);
      writeFileSync(tcp, readFileSync(tcp, 'utf8') + extra);
      const out = await twoSamples(t.dir);
      assert.equal(out.socketAttribution!.complete, complete, JSON.stringify(out.socketAttribution));
      if (!complete) assert.match(out.socketAttribution!.reason!, /owned socket\(s\) over the per-sample cap/);
    } finally {
      t.cleanup();
    }
  }
});
