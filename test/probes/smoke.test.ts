// Runs every registered probe against this machine's real /proc and /sys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProbes, defaultProbeConfig, isUnavailable, probeTable } from '../../agent/probes/index.js';
import type { ProbeOutput } from '../../agent/probes/probe.js';

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
  assert.ok(Array.isArray(outputs.get('sockets')!.sockets));
  const procs = outputs.get('processes')!;
  assert.ok(procs.processesTotal! >= procs.processes!.length && procs.processes!.length > 0);
  const me = procs.processes!.find((p) => p.pid === process.pid);
  assert.ok(me, 'this busy test process is among the busiest');
  assert.ok(me.cpuPct! > 10, `own cpu ${me.cpuPct}`);
  assert.ok(me.rssBytes! > 10 * 1024 * 1024);
  assert.ok(me.signature?.cmdline?.includes('node'));
  assert.match(me.signature?.exeSha256 ?? '', /^[0-9a-f]{64}$/);
  assert.ok(me.signature?.libs !== undefined);
});
