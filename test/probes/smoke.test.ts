// Runs every registered probe against this machine's real /proc and /sys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProbes, defaultProbeConfig, isUnavailable, probeTable } from '../../agent/probes/index.js';
import type { ProbeOutput } from '../../agent/probes/probe.js';
import { assay } from '../../proto/codec.js';

const HARDWARE = new Set(['gpu-nvidia', 'gpu-amd', 'power-rapl']);

test('registry: unique names matching the probes they build', () => {
  const names = probeTable.map((p) => p.name);
  assert.equal(new Set(names).size, names.length);
  assert.deepEqual(createProbes(defaultProbeConfig).map((p) => p.name), names);
});

test('smoke: every probe reads the real host without throwing, values are sane', async () => {
  const probes = createProbes(defaultProbeConfig);
  const t0 = Date.now();
  for (const p of probes) await p.collect(t0); // prime the counters
  // Burn a little CPU so the interval has something to measure.
  const until = Date.now() + 300;
  while (Date.now() < until) Math.sqrt(Math.random());
  const t1 = Date.now();
  const outputs = new Map<string, ProbeOutput>();
  for (const p of probes) {
    const out = await p.collect(t1);
    if (isUnavailable(out)) {
      // Hardware probes may legitimately be unavailable (RAPL is root-only, a broken driver makes
      // nvidia-smi fail); a host without the hardware gives {} instead. procfs probes must work.
      assert.ok(HARDWARE.has(p.name), `${p.name}: ${out.unavailable}`);
      continue;
    }
    outputs.set(p.name, out);
  }
  const cpu = outputs.get('cpu')!.cpu!;
  assert.ok(cpu.totalPct! > 0 && cpu.totalPct! <= 100, `cpu ${cpu.totalPct}`);
  assert.ok(cpu.perCorePct!.length >= 1 && cpu.perCorePct!.every((x) => x >= 0 && x <= 100));
  const mem = outputs.get('memory')!.memory!;
  assert.ok(mem.totalBytes! > 0 && mem.availableBytes! <= mem.totalBytes!);
  assert.ok(outputs.get('load')!.load!.load1! >= 0);
  assert.ok(Array.isArray(outputs.get('disk')!.disks));
  assert.ok(outputs.get('network')!.net!.every((n) => n.iface !== 'lo'));
  const procs = outputs.get('processes')!;
  assert.ok(Array.isArray(procs.sockets));
  assert.ok(procs.processesTotal! >= procs.processes!.length && procs.processes!.length > 0);
  const me = procs.processes!.find((p) => p.pid === process.pid);
  assert.ok(me, 'this busy test process is among the busiest');
  assert.ok(me.cpuPct! > 10, `own cpu ${me.cpuPct}`);
  assert.ok(me.rssBytes! > 10 * 1024 * 1024);
  // Our own fd table is always readable, so our socket list is exact.
  assert.equal(me.socketView, assay.v1.SocketView.SOCKET_VIEW_READ);
  const attribution = procs.socketAttribution!;
  assert.ok(attribution.processesRead! >= 1 && attribution.namespacesRead! >= 1, JSON.stringify(attribution));
  assert.equal(attribution.complete, attribution.reason === '');

  // A second busy interval: the extended counters now have a baseline.
  const processes = probes.find((p) => p.name === 'processes')!;
  const until2 = Date.now() + 900;
  while (Date.now() < until2) Math.sqrt(Math.random());
  const again = await processes.collect(Date.now()); // the interval is mostly our busy loop
  assert.ok(!isUnavailable(again));
  const me2 = again.processes!.find((p) => p.pid === process.pid)!;
  assert.equal(me2.extended, true);
  assert.ok(me2.minfltPerSec! >= 0 && me2.voluntaryCtxswPerSec! >= 0 && me2.nonvoluntaryCtxswPerSec! >= 0);
  assert.ok(me2.nice! >= -20 && me2.nice! <= 19);
  assert.ok(me2.rssAnonBytes! > 0 && me2.rssAnonBytes! <= me2.rssBytes!);
  // Each busy thread used >= 50 % of a core, so the process used at least that much in total (on
  // this shared 2-core machine our loop may get less than half a core, so no count is required).
  // Reading node's ~100 MB executable (hash + markers) may take longer than the probe waits on
  // this shared machine: the signature then comes with a later sample, never lost.
  let sig = me.signature ?? me2.signature;
  for (let i = 0; i < 8 && !sig; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const later = await processes.collect(Date.now());
    assert.ok(!isUnavailable(later));
    sig = later.processes!.find((p) => p.pid === process.pid)?.signature;
  }
  if (!sig) return assert.fail('our signature never came');
  assert.ok(sig.cmdline?.includes('node'), sig.cmdline ?? '');
  assert.match(sig.exeSha256 ?? '', /^[0-9a-f]{64}$/);
  assert.ok(sig.libs !== undefined);
  assert.ok(!sig.exeMarkers?.some((id) => id.startsWith('pow-mining:')), `node's markers: ${sig.exeMarkers}`);
  assert.ok(me2.busyThreads! * 50 <= me2.cpuPct! + 5 && me2.busyThreads! <= me2.threads!, `busy threads ${me2.busyThreads} at ${me2.cpuPct} %`);
});
