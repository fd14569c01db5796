// Issue 8, the reviewer's other misses: a content-addressed store is not a sealer, a prover
// answering challenges from the page cache is still a prover, and a chain node's slot rhythm is
// found from few cycles and survives a missed slot.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRulesPath, featureOptions, loadRulesFile } from '../../collector/engine/index.js';
import { spikePeriod } from '../../collector/engine/features-process.js';
import { buildWindow, noise, spikes, type ProcSpec } from './build-window.js';
import { lotusWorker } from './workloads.js';
import { run, show } from './verdict.js';

const rules = loadRulesFile(defaultRulesPath);
const opts = featureOptions(rules);
const MiB = 2 ** 20;
const GiB = 2 ** 30;



describe('storage: sealing versus a content-addressed store, proving from the page cache', () => {
  it('a sealer (writes far more than it reads, CPU-bound) is storage-proving without its names', () => {
    const v = run({ samples: 60, procs: [lotusWorker({ identity: false })] });
    assert.equal(v.class, 'storage-proving', show(v));
    assert.ok(v.evidence.some((e) => e.signal === 'beh.heavy-writes'), show(v));
  });

  it('an IPFS-like node adding and serving blocks (reads about what it writes) is not storage-proving', () => {
    const n = noise(71, 5);
    const ipfs: ProcSpec = {
      pid: 6600,
      name: 'app',
      cpu: (i) => 120 + n(i),
      rssBytes: 1.2 * GiB,
      threads: 20,
      writeBps: (i) => 40 * MiB + n(i) * MiB,
      readBps: (i) => 10 * MiB + n(i) * MiB,
      rcharBps: (i) => 45 * MiB + n(i) * MiB,
      listen: [4001, 5001],
      conns: () => Array.from({ length: 12 }, (_, k) => ({ remote: `52.1.0.${k + 1}`, remotePort: 4001 })),
      signature: { cmdline: 'app daemon', exe: '/usr/bin/app', libs: ['libc.so.6'] },
    };
    const v = run({ samples: 60, procs: [ipfs] });
    assert.notEqual(v.class, 'storage-proving', show(v));
    assert.ok(!v.evidence.some((e) => e.signal === 'beh.heavy-writes'), show(v));
  });

  it('a proof-of-space prover whose challenge reads hit the page cache (rchar only) is storage-proving', () => {
    const prover: ProcSpec = {
      pid: 6700,
      name: 'app',
      cpu: spikes(9, 1, 1, 25),
      rssBytes: 300 * MiB,
      readBps: () => 0,
      rcharBps: spikes(9, 1, 2000, 6 * MiB),
      listen: [8447],
      signature: { cmdline: 'app', exe: '/usr/bin/app', libs: ['libc.so.6'] },
    };
    const v = run({ samples: 90, procs: [prover] });
    assert.equal(v.class, 'storage-proving', show(v));
    assert.ok(v.evidence.some((e) => e.signal === 'beh.periodic-reads' && String(e.detail).includes('page cache')), show(v));
  });
});

describe('chain slots from few cycles', () => {
  const slotNode = (missed: number[] = []): ProcSpec => ({
    pid: 2300,
    name: 'node',
    cpu: (i) => (i % 12 === 3 && !missed.includes(Math.floor(i / 12)) ? 9 : i % 5 === 0 ? 1 : 0),
    writeBps: (i) => (i % 12 === 3 && !missed.includes(Math.floor(i / 12)) ? 20000 : 0),
    rssBytes: 140 * MiB,
    listen: [28545, 28546],
    signature: { cmdline: 'node server.js', exe: '/usr/bin/node', libs: ['libc.so.6'] },
  });

  it('two slot spikes that each come with a write burst give the period', () => {
    const w = buildWindow({ samples: 20, bare: true, procs: [slotNode()] });
    const cpu = w.samples.map((s) => Number(s.processes?.[0]?.cpuPct ?? 0));
    const writes = w.samples.map((s) => Number(s.processes?.[0]?.writeBytesPerSec ?? 0));
    assert.equal(Math.round(spikePeriod(cpu, writes, opts, 1000)?.ms ?? 0), 12000);
    // Without the write bursts one interval is not enough.
    assert.equal(spikePeriod(cpu, writes.map(() => 0), opts, 1000), null);
  });

  it('a listening node waking every 12 s is chain-validation within 25 s of samples', () => {
    const v = run({ samples: 25, procs: [slotNode()] });
    assert.equal(v.class, 'chain-validation', show(v));
  });

  it('a missed slot (a double gap) does not lose the rhythm', () => {
    const w = buildWindow({ samples: 90, bare: true, procs: [slotNode([3])] });
    const cpu = w.samples.map((s) => Number(s.processes?.[0]?.cpuPct ?? 0));
    assert.equal(Math.round(spikePeriod(cpu, cpu.map(() => 0), opts, 1000)?.ms ?? 0), 12000);
  });

  it('irregular spikes are no period', () => {
    const at = new Set([3, 11, 26, 31, 47]);
    const cpu = Array.from({ length: 60 }, (_, i) => (at.has(i) ? 9 : 0));
    assert.equal(spikePeriod(cpu, cpu, opts, 1000), null);
  });
});
