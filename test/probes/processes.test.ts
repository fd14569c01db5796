import assert from 'node:assert/strict';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/env.js';
import { assay } from '../../proto/codec.js';
import { ExeHasher } from '../../agent/probes/exe-hash.js';
import type { ProbeOutput, Unavailable } from '../../agent/probes/probe.js';
import { defaultProbeConfig, isUnavailable } from '../../agent/probes/probe.js';
import { createProcessesProbe, isKernelThread, KernelThreads, parseProcStat } from '../../agent/probes/processes.js';
import { readOptional } from '../../agent/probes/util.js';
import { containerIdFromCgroup, formatCmdline, parseEnvNames, parseLibs, pickCgroup } from '../../agent/probes/signature.js';
import { config, copyFixture, editProcStat, write } from './tree.js';

const HOST_NS = 4026531833;
const CONTAINER_NS = 4026532500;
const KCID = 'a3f1c2d4e5b6978812345678901234567890abcdefabcdefabcdefabcdef0123';
const DCID = '4c01db0b339c0e7b09ae7f2b7a9b5a4c8e1f2d3c4b5a69788796a5b4c3d2e1f0';
const SHA = {
  python: '6fc4a11da007a1e99bf2da1e41e8a223155da0325d1c4f35fd03239991e372eb',
  xmrig: '1514bb3db3eb17bbe639be2d5bb3905b97e0181687e2d00203a30e4e89fa18a2',
};

function ok(out: ProbeOutput | Unavailable): ProbeOutput {
  assert.ok(!isUnavailable(out), JSON.stringify(out));
  return out;
}

test('processes: ranking, rates, signature once, exe hash cached, kernel threads hidden', async () => {
  const t = copyFixture('proc-a');
  try {
    const hasher = new ExeHasher();
    const probe = createProcessesProbe(config({ procRoot: t.dir, maxProcesses: 64 }), { hasher });
    assert.deepEqual(await probe.collect(1000), {}, 'first call only primes');

    editProcStat(join(t.dir, '1234', 'stat'), { utime: 150, stime: 10 }); // 160 ticks in 1 s = 160 %
    editProcStat(join(t.dir, '2345', 'stat'), { utime: 395, stime: 5 }); // 400 %
    editProcStat(join(t.dir, '1', 'stat'), { utime: 1 }); // 1 %
    const out = ok(await probe.collect(2000));
    // 6 user-space processes: kthreadd (2) and its kworker (15) are not counted, 777's stat is
    // truncated and 888 vanished.
    assert.equal(out.processesTotal, 6);
    // CPU first, then RSS (1235: 50000 pages, 410: 1900, 2346: 200).
    assert.deepEqual(out.processes?.map((p) => [p.pid, p.cpuPct]), [[2345, 400], [1234, 160], [1, 1], [1235, 0], [410, 0], [2346, 0]]);

    const train = out.processes!.find((p) => p.pid === 1234)!;
    assert.deepEqual({ ...train, signature: undefined }, {
      pid: 1234, ppid: 1, name: 'python3', startTimeTicks: 90000, cpuPct: 160,
      rssBytes: 8000000 * 1024, threads: 48, state: 'R', uid: 1000,
      // io was read for the first time: no rate yet
      readBytesPerSec: 0, writeBytesPerSec: 0, rcharPerSec: 0, wcharPerSec: 0,
      // event counters read for the first time: the baseline, no rates yet (extended = false);
      // the gauges are filled
      extended: false, minfltPerSec: 0, majfltPerSec: 0, voluntaryCtxswPerSec: 0, nonvoluntaryCtxswPerSec: 0,
      nice: 0, schedPolicy: 0, rssAnonBytes: 7999900 * 1024, hugetlbBytes: 0,
      busyThreads: 0, // no task/ directory in the fixture
      socketView: assay.v1.SocketView.SOCKET_VIEW_READ,
      signature: undefined,
    });
    assert.deepEqual(train.signature, {
      cmdline: '/usr/bin/python3.11 -m torch.distributed.run --nproc_per_node=8 --master_addr=10.0.0.5 train.py --model llama-7b --batch-size été',
      cmdlineTruncated: false,
      exe: '../_exe/python3.11',
      exeSha256: SHA.python,
      exeMarkers: [],
      libs: ['_C.cpython-311-x86_64-linux-gnu.so', 'libc.so.6', 'libcuda.so.535.104.05', 'libcudart.so.12.2.140', 'libpython3.11.so.1.0', 'libspace.so', 'libtorch_cuda.so'],
      envNames: ['CUDA_VISIBLE_DEVICES', 'HF_TOKEN', 'MASTER_ADDR', 'PATH', 'WORLD_SIZE'],
      cgroup: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice/cri-containerd-${KCID}.scope`,
      containerId: KCID,
      netNs: HOST_NS,
    });
    assert.ok(!JSON.stringify(out).includes('hf_secretvalue'), 'environment values never leave the probe');

    const miner = out.processes!.find((p) => p.pid === 2345)!;
    assert.equal(miner.rcharPerSec, 0); // no io file
    assert.deepEqual(miner.signature, {
      cmdline: './xmrig -o pool.example.net:3333 -u WALLETADDRESS --donate-level=1',
      cmdlineTruncated: false,
      exe: '../_exe/xmrig',
      exeSha256: SHA.xmrig,
      exeMarkers: [], // the fixture file is a stub
      libs: ['addon.node', 'libhwloc.so.15', 'libssl.so.3', 'libuv.so.1.0.0'],
      envNames: [], // environ unreadable
      cgroup: `/system.slice/docker-${DCID}.scope`,
      containerId: DCID,
      netNs: CONTAINER_NS,
    });
    const sh = out.processes!.find((p) => p.pid === 2346)!;
    assert.equal(sh.signature?.exe, '');
    assert.equal(sh.signature?.exeSha256, '');
    assert.ok(out.processes!.every((p) => p.signature), 'every process carries its signature the first time');
    // systemd, sshd, xmrig, and python3.11 once for both 1234 and 1235.
    assert.equal(hasher.computed, 4);
    assert.equal(out.processes!.find((p) => p.pid === 1235)!.signature?.exeSha256, SHA.python);

    // Third reading: io rates over the 1 s since io was first read; no signatures any more.
    write(t.dir, '1234/io', 'rchar: 3000000\nwchar: 1500000\nsyscr: 100\nsyscw: 50\nread_bytes: 4505600\nwrite_bytes: 1032192\ncancelled_write_bytes: 0\n');
    // A process started during the interval: all its ticks and io belong to the interval.
    cpSync(join(t.dir, '1235'), join(t.dir, '3000'), { recursive: true, verbatimSymlinks: true });
    write(t.dir, '3000/stat', `3000 (python3) R 1234 3000 3000 0 -1 4194560 10 0 0 0 40 10 0 0 20 0 2 0 95000 1000 500 ${'0 '.repeat(28)}0\n`);
    const out3 = ok(await probe.collect(3000));
    assert.ok(out3.processes!.every((p) => p.signature === undefined || p.pid === 3000));
    const train3 = out3.processes!.find((p) => p.pid === 1234)!;
    assert.deepEqual([train3.rcharPerSec, train3.wcharPerSec, train3.readBytesPerSec, train3.writeBytesPerSec], [2000000, 1000000, 409600, 8192]);
    const fresh = out3.processes!.find((p) => p.pid === 3000)!;
    assert.equal(fresh.cpuPct, 50);
    assert.equal(fresh.rcharPerSec, 5000); // its io file says rchar 5000
    assert.ok(fresh.signature);
    assert.equal(hasher.computed, 4, 'same python3.11 file: cache hit');

    // pid 2346 disappears and comes back: it was forgotten, so it is new again (signature resent).
    const saved = tempDir();
    cpSync(join(t.dir, '2346'), saved.dir, { recursive: true, verbatimSymlinks: true });
    rmSync(join(t.dir, '2346'), { recursive: true });
    assert.equal(ok(await probe.collect(4000)).processes?.some((p) => p.pid === 2346), false);
    cpSync(saved.dir, join(t.dir, '2346'), { recursive: true, verbatimSymlinks: true });
    saved.cleanup();
    // pid reuse: same pid 1234, new start time → a different process, signature sent again.
    editProcStat(join(t.dir, '1234', 'stat'), { starttime: 99999 }, 'set');
    const out5 = ok(await probe.collect(5000));
    assert.ok(out5.processes!.find((p) => p.pid === 2346)!.signature);
    assert.ok(out5.processes!.find((p) => p.pid === 1234)!.signature);
    assert.equal(out5.processes!.find((p) => p.pid === 1)!.signature, undefined);
  } finally {
    t.cleanup();
  }
});

test('processes: maxProcesses cap and cmdline truncation', async () => {
  const t = copyFixture('proc-a');
  try {
    const probe = createProcessesProbe(config({ procRoot: t.dir, maxProcesses: 2, maxCmdlineBytes: 20 }));
    await probe.collect(1000);
    editProcStat(join(t.dir, '410', 'stat'), { utime: 30 });
    const out = ok(await probe.collect(1500)); // half a second: 30 ticks = 60 %
    assert.equal(out.processesTotal, 6);
    assert.deepEqual(out.processes?.map((p) => [p.pid, p.cpuPct]), [[410, 60], [1234, 0]]);
    const sig = out.processes![0]!.signature!;
    assert.equal(sig.cmdline, 'sshd: /usr/sbin/sshd');
    assert.equal(sig.cmdlineTruncated, true);
  } finally {
    t.cleanup();
  }
});

test('signature parsers', () => {
  // Cut inside "é" (0xC3 0xA9): the partial character is dropped, not mangled.
  assert.deepEqual(formatCmdline(Buffer.from('ab\0été\0', 'utf8'), 4), { cmdline: 'ab ', truncated: true });
  assert.deepEqual(formatCmdline(Buffer.from('ab\0été\0', 'utf8'), 100), { cmdline: 'ab été', truncated: false });
  assert.deepEqual(formatCmdline(Buffer.alloc(0), 10), { cmdline: '', truncated: false });
  assert.deepEqual(parseLibs('7f-7f r-xp 0 fe:00 1 /lib/libfoo.so.1.2\n7f-7f r-xp 0 fe:00 1 /lib/libfoo.so.1.2\n7f-7f r-xp 0 fe:00 1 /lib/x.sock\n7f-7f r-xp 0 fe:00 1 /a/b.node\n'), ['b.node', 'libfoo.so.1.2']);
  assert.deepEqual(parseEnvNames(Buffer.from('B=1\0A=2=3\0novalue\0B=4\0')), ['A', 'B']);
  assert.equal(pickCgroup('12:memory:/docker/abc\n0::/\n'), '/docker/abc');
  assert.equal(pickCgroup('0::/user.slice/user-1000.slice/session-2.scope\n'), '/user.slice/user-1000.slice/session-2.scope');
  assert.equal(pickCgroup('1:cpu:/\n0::/\n'), '/');
  const id = 'f'.repeat(64);
  assert.equal(containerIdFromCgroup(`0::/system.slice/docker-${id}.scope`), id);
  assert.equal(containerIdFromCgroup(`4:memory:/docker/${id}`), id);
  assert.equal(containerIdFromCgroup(`0::/machine.slice/libpod-${id}.scope/container`), id);
  assert.equal(containerIdFromCgroup(`0::/kubepods.slice/kubepods-pod1.slice/crio-${id}.scope`), id);
  assert.equal(containerIdFromCgroup(`3:cpu:/kubepods/besteffort/pod1234/${id}`), id);
  assert.equal(containerIdFromCgroup('0::/user.slice/docker-short.scope'), '');
  assert.equal(containerIdFromCgroup('0::/init.scope'), '');
});

test('stat parser copes with odd comm names and rejects truncated lines', () => {
  const s = parseProcStat('42 (a) b (c)) S 1 42 42 0 -1 4194560 1 0 0 0 7 3 0 0 20 0 5 0 777 100 9 0 0\n');
  assert.deepEqual(s && { comm: s.comm, state: s.state, ppid: s.ppid, cpuTicks: s.cpuTicks, threads: s.threads, startTicks: s.startTicks, rssPages: s.rssPages }, {
    comm: 'a) b (c)', state: 'S', ppid: 1, cpuTicks: 10, threads: 5, startTicks: 777, rssPages: 9,
  });
  assert.equal(parseProcStat('777 (broken) S 1 777 777 0 -1 4194560 12\n'), undefined);
  assert.equal(parseProcStat(''), undefined);
});

test('processes: a signature not ready in time is sent with a later sample, not lost', async () => {
  const t = copyFixture('proc-a');
  try {
    /** The first read of each file takes 300 ms (a large executable); later ones are instant. */
    class SlowFirstRead extends ExeHasher {
      private readonly seen = new Set<string>();
      calls = 0;
      override async inspect(path: string) {
        this.calls++;
        if (!this.seen.has(path)) {
          this.seen.add(path);
          await new Promise((r) => setTimeout(r, 300));
        }
        return super.inspect(path);
      }
    }
    const hasher = new SlowFirstRead();
    const probe = createProcessesProbe(config({ procRoot: t.dir }), { hasher, signatureWaitMs: 50 });
    await probe.collect(1000);
    const started = Date.now();
    const out2 = ok(await probe.collect(2000));
    assert.ok(Date.now() - started < 250, 'the sample did not wait for the slow read');
    assert.ok(out2.processes!.every((p) => p.signature === undefined));
    const built = hasher.calls;
    // Still waiting: the signatures in progress are not started again (one that shares a file
    // already read may come with this sample).
    const out25 = ok(await probe.collect(2500));
    assert.equal(hasher.calls, built, 'a signature is built once per process, not once per sample while it waits');
    await new Promise((r) => setTimeout(r, 400));
    const out3 = ok(await probe.collect(3000));
    assert.equal(out3.processes!.length, 6);
    for (const p of out3.processes!) {
      const sent = [out25, out3].filter((o) => o.processes!.find((q) => q.pid === p.pid)?.signature).length;
      assert.equal(sent, 1, `pid ${p.pid}: its signature came with exactly one later sample`);
    }
    const xmrigSig = [out25, out3].map((o) => o.processes!.find((q) => q.pid === 2345)?.signature).find((x) => x);
    assert.equal(xmrigSig?.exeSha256, SHA.xmrig);
    const out4 = ok(await probe.collect(4000));
    assert.ok(out4.processes!.every((p) => p.signature === undefined), 'and only once');
  } finally {
    t.cleanup();
  }
});

test('processes: a reported process\'s signature is sent again once signatureResendMs has passed, not before', async () => {
  // The collector's retention may delete the signature of a long-running process that was not in
  // the busiest processes when it swept; re-sent daily, it is stored again.
  const t = copyFixture('proc-a');
  try {
    const probe = createProcessesProbe(config({ procRoot: t.dir, maxProcesses: 64 }), { signatureResendMs: 10_000 });
    await probe.collect(1000);
    const signed = (o: ProbeOutput | Unavailable): number[] => ok(o).processes!.filter((p) => p.signature).map((p) => p.pid!).sort((a, b) => a - b);
    const first = signed(await probe.collect(2000));
    assert.ok(first.includes(1234) && first.includes(2345), first.join(','));
    assert.deepEqual(signed(await probe.collect(3000)), [], 'not again within the period');
    assert.deepEqual(signed(await probe.collect(11_000)), [], '9 s after: not yet');
    const again = signed(await probe.collect(12_000));
    assert.deepEqual(again, first, 'every reported process again, 10 s after it was sent');
    assert.deepEqual(signed(await probe.collect(13_000)), []);
  } finally {
    t.cleanup();
  }
});

test('processes on the real /proc: known kernel threads are not read again while they live, and never reported', async () => {
  let kthreads: KernelThreads | undefined;
  const probe = createProcessesProbe({ ...defaultProbeConfig, maxProcesses: 1 }, { onKernelThreads: (k) => (kthreads = k) });
  const kernelPids = (): Set<number> => {
    const out = new Set<number>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const stat = parseProcStat(readOptional(`/proc/${name}/stat`) ?? '');
      if (stat && isKernelThread(stat)) out.add(stat.pid);
    }
    return out;
  };
  const before = kernelPids();
  let nowMs = Date.now();
  for (let i = 0; i < 3; i++) {
    const out = await probe.collect((nowMs += 1000));
    assert.ok(!isUnavailable(out));
    for (const p of out.processes ?? []) assert.ok(!before.has(p.pid!) || !kernelPids().has(p.pid!), `kernel thread ${p.pid} reported`);
  }
  const after = kernelPids();
  const lasting = [...before].filter((pid) => after.has(pid)).length;
  // Calls 2 and 3 skip every kernel thread that lived through all three (a kernel thread started
  // meanwhile is read once first). Where no kernel thread is visible (a container's pid namespace)
  // nothing may be skipped.
  assert.ok(kthreads!.skipped >= 2 * lasting, `skipped ${kthreads!.skipped}, kernel threads throughout ${lasting}`);
  assert.ok(kthreads!.skipped <= 2 * Math.max(before.size, after.size), `skipped ${kthreads!.skipped}`);
});
