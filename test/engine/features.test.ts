// features(window) on constructed windows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ISample } from '../../proto/codec.js';
import { defaultRulesPath, featureOptions, features, loadRulesFile } from '../../collector/engine/index.js';
import { buildWindow, spikes } from './build-window.js';

const opts = featureOptions(loadRulesFile(defaultRulesPath));
const GiB = 2 ** 30;
const close = (a: number, b: number, eps: number): void => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b} (±${eps})`);

describe('features: host', () => {
  it('CPU mean, p95, CV and per-core evenness', () => {
    const w = buildWindow({ samples: 40, bare: true, procs: [{ pid: 10, name: 'w', cpu: (i) => (i % 2 === 0 ? 100 : 60) }] });
    const h = features(w, opts);
    close(h.cpu.mean, 40.3, 0.01);
    close(h.cpu.p95, 50.3, 0.01);
    close(h.cpu.cv, 10 / 40.3, 0.01);
    assert.equal(h.cores, 2);
    assert.equal(h.cpu.evenness, 1);
    assert.equal(h.window.samples, 40);
    assert.equal(h.window.intervalMs, 1000);
  });

  it('finds a 12 s period and reports it in ms from the sampling interval', () => {
    const w = buildWindow({ samples: 60, intervalMs: 2000, bare: true, procs: [{ pid: 10, name: 'w', cpu: spikes(6, 1, 10, 150) }] });
    const h = features(w, opts);
    assert.ok(h.cpu.period, 'host period');
    close(h.cpu.period.ms, 12_000, 1000);
    const p = h.processes[0];
    assert.ok(p?.cpu.period);
    close(p.cpu.period.samples, 6, 0.5);
  });

  it('a flat series is flat and has no period', () => {
    const h = features(buildWindow({ samples: 60, bare: true, procs: [{ pid: 10, name: 'w', cpu: () => 200 }] }), opts);
    assert.equal(h.cpu.period, null);
    assert.equal(h.processes[0]?.cpu.flatness, 1);
    assert.equal(h.processes[0]?.cpu.cv, 0);
    assert.equal(h.processes[0]?.cpu.dutyCycle, 1);
  });

  it('huge pages, disk, network (without loopback) and RAPL power', () => {
    const w = buildWindow({
      samples: 10,
      bare: true,
      hugepages: { total: 1280, free: 112 },
      rapl: (i) => 60 + i,
      procs: [{ pid: 10, name: 'w', cpu: () => 50, readBps: () => 1000, writeBps: () => 3000 }],
    });
    for (const s of w.samples) s.net = [...(s.net ?? []), { iface: 'lo', rxBytesPerSec: 1e9, txBytesPerSec: 1e9 }];
    const h = features(w, opts);
    assert.equal(h.memory.hugepagesInUseMax, 1168);
    assert.equal(h.disk.readBytesPerSec, 1000);
    assert.equal(h.disk.writeBytesPerSec, 3000);
    assert.equal(h.net.rxBytesPerSec, 2000);
    close(h.power.raplWattsMean ?? 0, 64.5, 1e-9);
    assert.ok(!h.unavailable.includes('power.rapl'));
  });

  it('lists unavailable signals instead of failing', () => {
    // An old agent (no socket attribution) that sent no socket at all: sockets were not read.
    const h = features(buildWindow({ samples: 5, bare: true, attribution: 'unknown', procs: [{ pid: 10, name: 'w', cpu: () => 5 }] }), opts);
    for (const u of ['gpu', 'power.rapl', 'sockets', 'sockets.attribution', 'signatures']) assert.ok(h.unavailable.includes(u), `${u} in ${h.unavailable}`);
    // A new agent that mapped every socket and found none: known, nothing unavailable about sockets.
    const known = features(buildWindow({ samples: 5, bare: true, procs: [{ pid: 10, name: 'w', cpu: () => 5 }] }), opts);
    assert.ok(!known.unavailable.some((u) => u.startsWith('sockets')), `${known.unavailable}`);
    assert.equal(known.sockets.attribution, 'complete');
    assert.equal(known.processes[0]?.socketsKnown, true);
    const w = buildWindow({ samples: 5, bare: true, attribution: 'unknown', procs: [{ pid: 10, name: 'w', cpu: () => 5, listen: [80] }] });
    for (const s of w.samples) for (const k of s.sockets ?? []) k.pid = 0;
    assert.ok(features(w, opts).unavailable.includes('sockets.owner'));
    assert.deepEqual(features({ samples: [], signatures: new Map() }, opts).unavailable, ['samples']);
  });
});

describe('features: processes', () => {
  it('follows a process by pid + start time; a reused pid is a new process', () => {
    const w = buildWindow({
      samples: 20,
      bare: true,
      procs: [
        { pid: 50, start: 100, name: 'a', cpu: () => 100, to: 10 },
        { pid: 50, start: 900, name: 'b', cpu: () => 20, from: 10 },
      ],
    });
    const h = features(w, opts);
    assert.equal(h.processes.length, 2);
    const [a, b] = h.processes;
    assert.equal(a?.name, 'a');
    assert.equal(a?.samplesPresent, 10);
    assert.equal(b?.key, '50:900');
    close(a?.cpuShare ?? 0, 100 / 120, 1e-9);
  });

  it('a gap between sightings reads as 0 (the per-sample cap dropped a quiet process)', () => {
    const w = buildWindow({ samples: 10, bare: true, procs: [{ pid: 5, name: 'x', cpu: () => 50 }] });
    const s4 = w.samples[4];
    if (s4) s4.processes = [];
    const p = features(w, opts).processes[0];
    assert.equal(p?.cpu.series.length, 10);
    assert.equal(p?.cpu.series[4], 0);
    assert.equal(p?.samplesPresent, 9);
  });

  it('signature comes from the map, else from the process entry', () => {
    const sig = { cmdline: 'python3 train.py', exe: '/usr/bin/python3', libs: ['/opt/torch/lib/libtorch_cpu.so'], envNames: ['RANK'] };
    const fromMap = features(buildWindow({ samples: 3, bare: true, procs: [{ pid: 5, name: 'x', cpu: () => 1, signature: sig }] }), opts);
    assert.deepEqual(fromMap.processes[0]?.signature?.libs, ['libtorch_cpu.so']);
    const fromEntry = features(buildWindow({ samples: 3, bare: true, signaturesIn: 'sample', procs: [{ pid: 5, name: 'x', cpu: () => 1, signature: sig }] }), opts);
    assert.equal(fromEntry.processes[0]?.signature?.cmdline, 'python3 train.py');
    assert.deepEqual(fromEntry.processes[0]?.signature?.envNames, ['RANK']);
  });

  it('sockets: listen ports, long-lived outbound peers, clients, and self-connections ignored', () => {
    const w = buildWindow({
      samples: 10,
      bare: true,
      procs: [
        {
          pid: 7,
          name: 'srv',
          cpu: () => 10,
          listen: [8000],
          udp: [9000],
          conns: (i) => [
            { remote: '51.15.65.182', remotePort: 3333 },
            { remote: '127.0.0.1', remotePort: 51000, local: '127.0.0.1', localPort: 8000 },
            { remote: '127.0.0.1', remotePort: 8000, local: '127.0.0.1', localPort: 51000 },
            ...(i < 3 ? [{ remote: '10.0.0.4', remotePort: 40000 + i, localPort: 8000 }] : []),
          ],
        },
      ],
    });
    const p = features(w, opts).processes[0];
    assert.ok(p);
    assert.deepEqual(p.sockets.listenPorts, [8000, 9000]);
    assert.equal(p.sockets.outboundPeers.length, 1);
    assert.equal(p.sockets.outboundPeers[0]?.presence, 1);
    assert.deepEqual(p.sockets.remotePorts, [3333]);
    assert.equal(p.sockets.inboundMax, 1);
    assert.equal(p.sockets.remoteAddresses, 2);
  });

  it('GPU memory and busy time are attributed by memory per GPU', () => {
    const w = buildWindow({
      samples: 10,
      bare: true,
      gpus: [{ uuid: 'GPU-1', util: () => 80, memUsedBytes: 40 * GiB, memTotalBytes: 80 * GiB }],
      procs: [
        { pid: 1, name: 'a', cpu: () => 5, gpu: { uuid: 'GPU-1', memBytes: 30 * GiB } },
        { pid: 2, name: 'b', cpu: () => 5, gpu: { uuid: 'GPU-1', memBytes: 10 * GiB } },
      ],
    });
    const h = features(w, opts);
    const a = h.processes.find((p) => p.pid === 1);
    assert.equal(a?.gpu.memBytesMax, 30 * GiB);
    close(a?.gpu.memShareOfGpu ?? 0, 0.375, 1e-9);
    close(a?.gpu.utilShare ?? 0, 0.75, 1e-9);
    close(h.gpuUtil?.mean ?? 0, 80, 1e-9);
    assert.ok(!h.unavailable.includes('gpu') && !h.unavailable.includes('gpu.processes'));
  });

  it('is deterministic and does not modify the window', () => {
    const w = buildWindow({ samples: 30, procs: [{ pid: 5, name: 'x', cpu: (i) => i }] });
    const before = JSON.stringify(w.samples);
    assert.deepEqual(features(w, opts), features(w, opts));
    assert.equal(JSON.stringify(w.samples), before);
  });
});

describe('features: odd samples', () => {
  it('tolerates samples built by hand with most fields missing', () => {
    const samples: ISample[] = [{ tsMs: 1000 }, { tsMs: 2000, cpu: { totalPct: 50 } }, { cpu: null, processes: [{ pid: 3 }] }];
    const h = features({ samples, signatures: new Map() }, opts);
    assert.equal(h.window.samples, 3);
    assert.equal(h.processes.length, 1);
    assert.ok(Number.isFinite(h.cpu.mean));
  });
});
