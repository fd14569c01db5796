// Hosts without procfs: the registry swaps the cpu, memory and load probes for node-os-utils
// ones. Simulated with a --proc-root that is an empty directory (what the agent sees on macOS).
import assert from 'node:assert/strict';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { createProbes, hasProcfs, isUnavailable, probeTable } from '../../agent/probes/index.js';
import { decodeFrames, lastFrame, payloadFrames, VERIFY_MAX_INFLATED_BYTES } from '../../proto/payload.js';
import { freePort, tempDir, waitFor } from '../helpers/env.js';
import { spawnAssay } from '../helpers/proc.js';
import { config } from './tree.js';

test('registry: without procfs the fallback probes answer under the same names; with it, the procfs ones', async (t) => {
  const empty = tempDir('assay-noproc-');
  t.after(empty.cleanup);
  const cfg = config({ procRoot: empty.dir });
  assert.equal(hasProcfs(cfg), false);
  assert.equal(hasProcfs(config({ procRoot: '/proc' })), true);
  const probes = createProbes(cfg);
  assert.deepEqual(probes.map((p) => p.name), probeTable.map((p) => p.name));
  // Prime, then read: the fallbacks have no first-call gap.
  const outs = new Map<string, Awaited<ReturnType<(typeof probes)[number]['collect']>>>();
  for (const p of probes) outs.set(p.name, await p.collect(Date.now()));
  const cpu = outs.get('cpu')!;
  assert.ok(!isUnavailable(cpu) && cpu.cpu, JSON.stringify(cpu));
  assert.ok(cpu.cpu.totalPct! >= 0 && cpu.cpu.totalPct! <= 100);
  assert.equal(cpu.cpu.perCorePct!.length, cpus().length);
  const mem = outs.get('memory')!;
  assert.ok(!isUnavailable(mem) && mem.memory, JSON.stringify(mem));
  assert.equal(mem.memory.totalBytes, totalmem());
  assert.ok(mem.memory.availableBytes! > 0 && mem.memory.availableBytes! <= mem.memory.totalBytes!);
  const load = outs.get('load')!;
  assert.ok(!isUnavailable(load) && load.load!.load1! >= 0, JSON.stringify(load));
  // A procfs probe without a fallback says why it has nothing, every sample.
  for (const name of ['processes', 'disk', 'network']) {
    const out = outs.get(name)!;
    assert.ok(isUnavailable(out) && out.unavailable === `no procfs under ${empty.dir}`, `${name}: ${JSON.stringify(out)}`);
  }
});

test('agent with an empty --proc-root streams samples whose CPU and memory come from the fallback', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const noProc = join(tmp.dir, 'no-proc');
  (await import('node:fs')).mkdirSync(noProc);
  const port = await freePort();
  const dbPath = join(tmp.dir, 'assay.db');
  const collector = spawnAssay(['collector', '--port', String(port), '--db', dbPath]);
  t.after(() => collector.stop());
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(base + '/healthz')).ok, 20_000, 'collector up');
  const agent = spawnAssay([
    'agent',
    ...['--collector', `ws://127.0.0.1:${port}/ingest`, '--interval', '500ms', '--batch-interval', '1'],
    ...['--state-dir', join(tmp.dir, 'agent'), '--enroll-secret-file', join(tmp.dir, 'enroll-secret'), '--proc-root', noProc],
  ]);
  t.after(() => agent.stop());
  const host = await waitFor(async () => ((await (await fetch(base + '/api/hosts')).json()) as { hosts: Array<{ id: string }> }).hosts[0], 30_000, 'host');
  await waitFor(
    async () => ((await (await fetch(`${base}/api/hosts/${host.id}/samples`)).json()) as { samples: unknown[] }).samples.length >= 3,
    30_000,
    'three samples stored',
  );
  assert.equal(await agent.stop('SIGTERM'), 0, agent.output());
  // The signed sample bytes the collector stored, decoded.
  const db = new Database(dbPath, { readonly: true });
  t.after(() => db.close());
  const batches = db.prepare('SELECT encoding, payload FROM batches WHERE host_id = ? AND samples > 0 ORDER BY last_seq').all(host.id) as Array<{ encoding: number; payload: Buffer }>;
  // In chain order, each batch decoded with the last sample of the one before (encoding 4).
  let prior: Uint8Array | null = null;
  const samples = batches.flatMap((b) => {
    const frames = payloadFrames(b.encoding, b.payload, VERIFY_MAX_INFLATED_BYTES, Infinity, prior);
    prior = lastFrame(frames);
    return decodeFrames(b.encoding, frames);
  });
  assert.ok(samples.length >= 3);
  for (const s of samples) {
    assert.ok(s.cpu && s.cpu.totalPct! >= 0 && s.cpu.totalPct! <= 100, `cpu in every sample: ${JSON.stringify(s.cpu)}`);
    assert.equal(s.cpu.perCorePct!.length, cpus().length);
    assert.equal(Number(s.memory?.totalBytes), totalmem(), 'memory total in every sample');
    assert.ok(Number(s.memory!.availableBytes) > 0);
    assert.ok(s.load && s.load.load1! >= 0);
    const unavailable = new Set((s.unavailable ?? []).map((u) => u.probe));
    for (const probe of ['cpu', 'memory', 'load']) assert.ok(!unavailable.has(probe), `${probe} not unavailable: ${JSON.stringify(s.unavailable)}`);
    assert.ok(unavailable.has('processes') && unavailable.has('disk'), `procfs-only probes say they could not read: ${JSON.stringify(s.unavailable)}`);
  }
});
