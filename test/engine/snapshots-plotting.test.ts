// Rules 2026.12.3, after the held-out misses of 2026.12.2 (bench/heldout-report.md): training that
// reads nothing and writes small checkpoints is still training (checkpoint-writes: storage writes of
// one repeated size with quiet between), and a plotter that sorts on disk (reads back what it
// writes) is still proving space when it has no network at all (heavy-writes offline). Each is
// tested on constructed windows with neutral names, and so is the benign side of each.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { repeatedBurstSize, type QuantumOptions } from '../../collector/engine/stats.js';
import { noise, type ProcSpec } from './build-window.js';
import { xmrig } from './workloads.js';
import { bundledRules, has, run, show } from './verdict.js';

const KiB = 1024;
const MiB = 2 ** 20;
const t = bundledRules.thresholds.io;
const q: QuantumOptions = {
  minBurst: t.checkpointMinBytes,
  minBursts: t.checkpointMinBursts,
  minQuietShare: t.checkpointMinQuietShare,
  tolerance: t.checkpointSizeTolerance,
  maxMultiple: t.checkpointMaxMultiple,
};
const neutral = { cmdline: 'app', exe: '/usr/bin/app', libs: ['libc.so.6'] };

describe('repeatedBurstSize', () => {
  it('finds one size in snapshots faster than the sampling (0, 1 or 2 per sample)', () => {
    // A 800 KiB snapshot every 1.3 s seen at 1 Hz.
    const xs = Array.from({ length: 60 }, (_, i) => (Math.floor((i + 1) / 1.3) - Math.floor(i / 1.3)) * 800 * KiB);
    assert.ok(xs.includes(0) && xs.includes(800 * KiB), xs.join(' '));
    const got = repeatedBurstSize(xs, q);
    assert.ok(got && Math.abs(got.quantum - 800 * KiB) < 1, JSON.stringify(got));
  });

  it('finds one size in rare snapshots, tolerating sampling jitter', () => {
    const xs = Array.from({ length: 90 }, (_, i) => (i % 25 === 12 ? 120 * KiB * (i === 37 ? 1.06 : 1) : i % 7 === 0 ? 4 * KiB : 0));
    assert.ok(repeatedBurstSize(xs, q));
  });

  it('refuses a stream (no quiet), a stream that merely started late, bursts of varying size, and too few bursts', () => {
    const n = noise(3, 0.02);
    const stream = Array.from({ length: 60 }, (_, i) => 2 * MiB * (1 + n(i)));
    assert.equal(repeatedBurstSize(stream, q), null);
    const late = [0, 0, 0, 0, 0, 0, 0, ...stream.slice(0, 40)];
    assert.equal(repeatedBurstSize(late, q), null, 'quiet only before the first burst is no gap');
    const varying = Array.from({ length: 60 }, (_, i) => (i % 5 === 0 ? (1 + (i % 3) * 0.4) * MiB : 0));
    assert.equal(repeatedBurstSize(varying, q), null);
    assert.equal(repeatedBurstSize([0, MiB, 0, MiB, 0, 0], q), null);
  });
});

/** Single-threaded training on in-memory data, a small checkpoint every `every` samples, offline. */
function smallTrainer(every: number, size: number): ProcSpec {
  const n = noise(11, 3);
  return {
    pid: 4200,
    name: 'app',
    cpu: (i) => 98 + n(i),
    rssBytes: 160 * MiB,
    threads: 11,
    writeBps: (i) => (i % every === every - 1 ? size : 0),
    wcharBps: (i) => (i % every === every - 1 ? size : 0),
    signature: neutral,
  };
}

describe('checkpoint-writes: training by what it persists', () => {
  it('a trainer that reads nothing and writes a 120 KiB checkpoint every 25 s is ai-training where it carries AI identity, and low I/O no longer counts against it', () => {
    const torch = { cmdline: 'python3 train.py', exe: '/usr/bin/python3.11', libs: ['libc.so.6', 'libpython3.11.so.1.0', 'libtorch_cpu.so', 'libc10.so', 'libtorch.so'] };
    const v = run({ samples: 100, procs: [{ ...smallTrainer(25, 120 * KiB), signature: torch }] });
    assert.equal(v.class, 'ai-training', show(v));
    assert.ok(has(v, 'beh.checkpoint-writes'), show(v));
    assert.ok(!v.evidence.some((e) => e.signal === 'beh.low-io' && e.supports === 'ai-training'), show(v));
    assert.ok(v.evidence.some((e) => e.signal === 'beh.low-io' && e.supports === 'pow-mining'), 'low-io still counts for what it says about hashing');
  });

  it('rules 2026.12.5: the same loop with no AI identity stays general, and low I/O still counts against training', () => {
    // Writing a file of one size every few seconds is free to any program (test/engine/checkpoint-adversary.test.ts).
    const v = run({ samples: 100, procs: [smallTrainer(25, 120 * KiB)] });
    assert.equal(v.class, 'general', show(v));
    assert.ok(!v.evidence.some((e) => e.signal === 'beh.checkpoint-writes' && e.weight > 0), show(v));
    assert.ok(v.evidence.some((e) => e.signal === 'beh.low-io' && e.supports === 'ai-training' && e.weight < 0), show(v));
  });

  it('the same loop persisting nothing (a burner) stays general, and so does an encoder streaming output of varying size', () => {
    const burner = run({ samples: 100, procs: [{ ...smallTrainer(25, 0), writeBps: () => 0, wcharBps: () => 0 }] });
    assert.equal(burner.class, 'general', show(burner));
    const n = noise(5, 0.3);
    const encoder: ProcSpec = { ...smallTrainer(25, 0), readBps: () => 3 * MiB, rcharBps: () => 3 * MiB, writeBps: (i) => (i % 9 === 4 ? 0 : MiB * (1 + n(i))), wcharBps: (i) => MiB * (1 + n(i)) };
    const v = run({ samples: 100, procs: [encoder] });
    assert.ok(!has(v, 'beh.checkpoint-writes'), show(v));
    assert.equal(v.class, 'general', show(v));
  });

  it('a pool miner that also writes equal-sized files stays pow-mining', () => {
    const miner: ProcSpec = { ...xmrig({ name: 'app', cmdline: 'app' }), writeBps: (i) => (i % 20 === 10 ? 200 * KiB : 0) };
    const v = run({ samples: 100, procs: [miner] });
    assert.equal(v.class, 'pow-mining', show(v));
  });
});

/** Compute-bound, writes tables and reads them back for an on-disk sort, `wps` written per second. */
function diskSorter(cpu: number, wps: number, conns?: ProcSpec['conns'], listen?: number[]): ProcSpec {
  const n = noise(17, 0.2);
  return {
    pid: 5300,
    name: 'app',
    cpu: (i) => cpu * (1 + 0.1 * n(i)),
    rssBytes: 80 * MiB,
    threads: 3,
    writeBps: (i) => wps * (1 + n(i)),
    readBps: () => 0,
    rcharBps: (i) => wps * (1 - n(i)),
    wcharBps: (i) => wps * (1 + n(i)),
    ...(conns ? { conns } : {}),
    ...(listen ? { listen } : {}),
    signature: neutral,
  };
}

describe('heavy-writes offline: plotting reads back what it writes', () => {
  it('a compute-bound plotter writing ~40 MiB per CPU-second and reading it back, with no network, is storage-proving', () => {
    const v = run({ samples: 60, procs: [diskSorter(70, 28 * MiB)] });
    assert.equal(v.class, 'storage-proving', show(v));
    assert.ok(has(v, 'beh.heavy-writes'), show(v));
  });

  it('a data mover (cp-like: hundreds of MiB per CPU-second) is not storage-proving', () => {
    const v = run({ samples: 60, procs: [diskSorter(60, 400 * MiB)] });
    assert.ok(!has(v, 'beh.heavy-writes'), show(v));
    assert.notEqual(v.class, 'storage-proving', show(v));
  });

  it('an external merge sort (reads back what it spills, ~170 MiB per CPU-second, like the held-out general-sort-spill) is not storage-proving (2026.12.4)', () => {
    const v = run({ samples: 60, procs: [diskSorter(56, 95 * MiB)] });
    assert.ok(!has(v, 'beh.heavy-writes'), show(v));
    assert.notEqual(v.class, 'storage-proving', show(v));
  });

  it('the same I/O in a networked process (a store serving peers) keeps the read-ratio rule', () => {
    const peers = (): { remote: string; remotePort: number }[] => Array.from({ length: 10 }, (_, k) => ({ remote: `52.1.0.${k + 1}`, remotePort: 4001 }));
    const v = run({ samples: 60, procs: [diskSorter(70, 28 * MiB, peers, [4001])] });
    assert.ok(!has(v, 'beh.heavy-writes'), show(v));
    assert.notEqual(v.class, 'storage-proving', show(v));
  });
});
