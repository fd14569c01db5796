// Samples are the same bytes whatever the probes' internals: a scripted sequence of samples over
// copies of the fixture trees (counters moving, a process born, one exiting, one whose status lacks
// the extended lines, io unreadable, a busy multi-threaded process) is encoded, and the digests of
// the encoded samples and of their JSON (field order included) are compared with the ones the
// probes gave before they were rewritten for CPU (one object shape per Process, counters kept in
// place: main at fd616ce, with quantize.ts' rounding of that day, printed exactly these digests; a deliberate change of figures (quantize.ts) updates them). A change that moves any figure, adds or
// drops a field, or reorders the objects' fields fails here. SAMENESS_DUMP=1 prints the samples'
// JSON (to diff against an earlier build's).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeSample, type ISample } from '../../proto/codec.js';
import { createProbes } from '../../agent/probes/index.js';
import { createProcessesProbe } from '../../agent/probes/processes.js';
import { Sampler } from '../../agent/sampler.js';
import { fixtures } from '../helpers/env.js';
import { config, copyFixture, editProcStat, editStatus, write } from './tree.js';

/** The temporary tree's path, where a reason names it, as `<root>` (it differs from run to run). */
function unrooted(s: ISample, root: string): ISample {
  for (const u of s.unavailable ?? []) u.reason = u.reason?.replaceAll(root, '<root>') ?? null;
  if (s.socketAttribution?.reason) s.socketAttribution.reason = s.socketAttribution.reason.replaceAll(root, '<root>');
  return s;
}

function digests(samples: ISample[]): { bytes: string; json: string } {
  const bytes = createHash('sha256');
  const json = createHash('sha256');
  for (const s of samples) {
    const b = encodeSample(s);
    bytes.update(String(b.length)).update(':').update(b);
    json.update(JSON.stringify(s)).update('\n');
    if (process.env.SAMENESS_DUMP) process.stdout.write(`# ${JSON.stringify(s)}\n`);
  }
  return { bytes: bytes.digest('hex'), json: json.digest('hex') };
}

test('samples over the proc-a fixture, with every probe, are byte-identical to the earlier probes', async () => {
  const t = copyFixture('proc-a');
  try {
    const sampler = new Sampler(
      createProbes(config({ procRoot: t.dir, sysRoot: join(fixtures, 'sys-rapl'), nvidiaSmi: join(t.dir, 'no-nvidia-smi'), rocmSmi: join(t.dir, 'no-rocm-smi') })),
    );
    const samples: ISample[] = [];
    const take = async (ms: number) => samples.push(unrooted(await sampler.sample(ms), t.dir));
    await take(1000);
    await take(2000);
    const stat = (pid: number) => join(t.dir, String(pid), 'stat');
    const status = (pid: number) => join(t.dir, String(pid), 'status');
    editProcStat(stat(1234), { utime: 150, stime: 20, minflt: 10000, majflt: 40 });
    editProcStat(stat(1234), { nice: 5, policy: 3 }, 'set');
    editStatus(status(1234), { voluntary_ctxt_switches: 600, nonvoluntary_ctxt_switches: 100 });
    editStatus(status(1234), { HugetlbPages: 2048 }, 'set', ' kB');
    write(t.dir, '1234/io', 'rchar: 3000000\nwchar: 900000\nsyscr: 300\nsyscw: 90\nread_bytes: 5096000\nwrite_bytes: 1524000\ncancelled_write_bytes: 0\n');
    cpSync(join(t.dir, '1235'), join(t.dir, '3000'), { recursive: true, verbatimSymlinks: true });
    write(t.dir, '3000/stat', `3000 (python3) R 1234 3000 3000 0 -1 4194560 300 0 6 0 40 10 0 0 20 0 1 0 95000 1000 500 ${'0 '.repeat(16)}0 ${'0 '.repeat(10)}0\n`);
    write(t.dir, '410/status', 'Name:\tsshd\nUid:\t0\t0\t0\t0\nVmRSS:\t7600 kB\n');
    await take(4000);
    editProcStat(stat(1234), { utime: 33, minflt: 7 });
    editProcStat(stat(3000), { utime: 75, stime: 3, minflt: 1234 });
    write(t.dir, '3000/io', 'rchar: 123456789\nwchar: 7654321\nsyscr: 3\nsyscw: 9\nread_bytes: 40960\nwrite_bytes: 1234567890\ncancelled_write_bytes: 0\n');
    rmSync(join(t.dir, '1235'), { recursive: true });
    await take(5000);
    rmSync(join(t.dir, '1234', 'io'));
    editProcStat(stat(1234), { utime: 1, majflt: 3 });
    editStatus(status(1234), { voluntary_ctxt_switches: 3 });
    await take(6500);
    await take(7500);
    const got = digests(samples);
    assert.deepEqual(got, {
      bytes: 'f881fac9a5ae83800ec7b45b91b21f0a62a646d538420ff965917ffb14ac35f6',
      json: 'bad414baeb5ca47e0fec89fa19ded6c2f93280de32fee7c484fc992f17e5a1e6',
    });
  } finally {
    t.cleanup();
  }
});

test('samples of a busy multi-threaded process (proc-threads) are byte-identical to the earlier probes', async () => {
  const t = copyFixture('proc-threads');
  try {
    const sampler = new Sampler([createProcessesProbe(config({ procRoot: t.dir }), { socketRefreshMs: 0 })]);
    const samples: ISample[] = [];
    const take = async (ms: number) => samples.push(unrooted(await sampler.sample(ms), t.dir));
    const task = (tid: number) => join(t.dir, '700', 'task', String(tid), 'status');
    const busySecond = () => editProcStat(join(t.dir, '700', 'stat'), { utime: 100 });
    await take(1000);
    busySecond();
    await take(2000);
    busySecond();
    editStatus(join(t.dir, '700', 'status'), { voluntary_ctxt_switches: 2 });
    editStatus(task(701), { voluntary_ctxt_switches: 400, nonvoluntary_ctxt_switches: 30 });
    editStatus(task(702), { voluntary_ctxt_switches: 600, nonvoluntary_ctxt_switches: 20 });
    editStatus(join(t.dir, '800', 'status'), { voluntary_ctxt_switches: 3, nonvoluntary_ctxt_switches: 1 });
    await take(3000);
    busySecond();
    rmSync(join(t.dir, '700', 'task', '702'), { recursive: true });
    cpSync(join(t.dir, '700', 'task', '701'), join(t.dir, '700', 'task', '703'), { recursive: true });
    editStatus(task(703), { voluntary_ctxt_switches: 9000 });
    editStatus(task(701), { voluntary_ctxt_switches: 100, nonvoluntary_ctxt_switches: 5 });
    await take(5000);
    busySecond();
    await take(6000);
    const got = digests(samples);
    assert.deepEqual(got, {
      bytes: 'e4c7a4d8eface5466e952f7f76c8a617417f7751fc584198d3284abdae525ea3',
      json: '1ce0cd59a196eea5e1bfaa5fc1cb9f6b51eb89722e29bbc15cd62130fc2c0ea4',
    });
  } finally {
    t.cleanup();
  }
});
