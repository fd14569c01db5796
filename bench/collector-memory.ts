// Collector heap with hosts that come and go (issue 10: every per-host structure bounded). An
// in-process collector on 127.0.0.1 with a real SQLite file; N agents (default 2000) in waves:
// each connects over a real WebSocket, enrolls, sends 2 signed batches of 5 real samples from a
// recorded trace (test/corpus, re-timed to now) and disconnects. After every wave the heap is
// measured after a full GC; at the end, again once the hosts have been quiet past the eviction
// time. Not a test: prints figures (and the machine's loadavg).
//
//   npm run build && node --expose-gc dist/bench/collector-memory.js [hosts=2000] [--dist DIR]
//
// --dist runs another build's collector (e.g. main's dist/ for the figures before this change);
// the agents, samples and measurements are this build's. Options the other build does not know
// (idleEvictMs, maxHosts) are ignored by it. Bounded: at most 10000 hosts and 15 minutes.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readTrace } from '../proto/trace.js';
import { assay, decodeSample, type ISample } from '../proto/codec.js';
import { HostWindow } from '../collector/window.js';
import { CompactWindow } from '../collector/compact-window.js';
import { defaultRulesPath, loadRulesFile } from '../collector/engine/index.js';
import { RawAgent } from '../test/helpers/rawagent.js';
import { fullHello } from '../test/helpers/messages.js';
import { repoRoot } from '../test/helpers/env.js';

const args = process.argv.slice(2);
const distFlag = args.indexOf('--dist');
const dist = distFlag >= 0 ? resolve(args[distFlag + 1] ?? '') : resolve(repoRoot, 'dist');
const hosts = Math.min(Math.max(Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--dist') ?? 2000), 1), 10_000);
const WAVE = 250;
const CONCURRENCY = 16;
const IDLE_EVICT_MS = 30_000;
const MAX_HOSTS = 500;
const DEADLINE = Date.now() + 15 * 60_000;
const secret = 'bench-enroll-secret-0123456789';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const heapMb = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

const { startCollector } = (await import(pathToFileURL(join(dist, 'collector', 'server.js')).href)) as typeof import('../collector/server.js');
const trace = (await readTrace(join(repoRoot, 'test', 'corpus', 'general-postgres-pgbench.trace.ndjson'))).samples;
const procs = Math.round(trace.reduce((a, s) => a + (s.processes?.length ?? 0), 0) / trace.length);

const dir = mkdtempSync(join(tmpdir(), 'assay-bench-mem-'));
const collector = await startCollector({
  host: '127.0.0.1',
  port: 0,
  dbPath: join(dir, 'c.db'),
  enrollSecret: secret,
  limits: { maxAgents: 10_000, maxPreAuthPerAddress: 256, maxPreAuthTotal: 4096 },
  classifier: { idleEvictMs: IDLE_EVICT_MS, maxHosts: MAX_HOSTS },
});
const held = (): string => {
  const c = (collector as { classifier?: { size: number } }).classifier;
  return c ? String(c.size) : 'n/a';
};

/** One host's visit: enroll, two batches of 5 consecutive trace samples re-timed to now, leave. */
async function visit(i: number): Promise<void> {
  const a = await RawAgent.connect(collector.url.replace('http', 'ws') + '/ingest');
  try {
    await a.hello({ ...fullHello(`bench-${i}`), hostname: `bench-host-${i}` }, secret);
    const from = (i * 7) % Math.max(1, trace.length - 10);
    const now = Date.now();
    const retimed = (k: number): ISample => ({ ...trace[from + k]!, tsMs: now - (10 - k) * 1000 });
    await a.batch(1, [0, 1, 2, 3, 4].map(retimed));
    await a.batch(6, [5, 6, 7, 8, 9].map(retimed));
  } finally {
    a.ws.close();
    await a.closed;
  }
}

const rows: Array<[number, number, string, number]> = [];
try {
  await sleep(500);
  const base = heapMb();
  console.log(`collector from ${dist}`);
  console.log(`${hosts} hosts in waves of ${WAVE}, each 2 batches of 5 real samples (~${procs} processes each, general-postgres-pgbench), then gone`);
  console.log(`classifier options given: idleEvictMs ${IDLE_EVICT_MS}, maxHosts ${MAX_HOSTS}; loadavg before ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`heap after start ${base.toFixed(1)} MB`);
  console.log('hosts seen | heap MB | classifier hosts held | s');
  const t0 = Date.now();
  let next = 0;
  for (let wave = 0; next < hosts && Date.now() < DEADLINE; wave++) {
    const end = Math.min(hosts, next + WAVE);
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < end && Date.now() < DEADLINE) await visit(next++);
      }),
    );
    await sleep(300); // classifications queued by the last batches finish
    const h = heapMb();
    rows.push([next, h, held(), (Date.now() - t0) / 1000]);
    console.log(`${String(next).padStart(10)} | ${h.toFixed(1).padStart(7)} | ${held().padStart(21)} | ${((Date.now() - t0) / 1000).toFixed(0)}`);
  }
  // Quiet: every host has left; wait past the idle eviction (the collector's timer runs every 15 s).
  await sleep(IDLE_EVICT_MS + 16_000);
  const quiet = heapMb();
  console.log(`all quiet for ${(IDLE_EVICT_MS + 16_000) / 1000} s: heap ${quiet.toFixed(1)} MB, classifier hosts held ${held()}`);
  const peak = Math.max(...rows.map((r) => r[1]));
  console.log(`heap growth over start: peak ${(peak - base).toFixed(1)} MB, after all ${(rows.at(-1)![1] - base).toFixed(1)} MB, quiet ${(quiet - base).toFixed(1)} MB`);
  console.log(`per host seen (after all): ${(((rows.at(-1)![1] - base) * 1024) / rows.at(-1)![0]).toFixed(1)} KB; loadavg after ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
} finally {
  await collector.close();
  rmSync(dir, { recursive: true, force: true });
}

// What one held host costs with a full window (120 s at 1 Hz): the classifier's CompactWindow
// (what it holds now), beside the decoded samples HostWindow holds (what it held before), each
// host with its own samples (as ingest hands them over), in batches of 5.
{
  const horizons = loadRulesFile(defaultRulesPath).history.horizons;
  const bytes = trace.slice(0, 120).map((s) => assay.v1.Sample.encode(assay.v1.Sample.fromObject(s)).finish());
  const n = 50;
  const batches = (): ISample[][] => Array.from({ length: Math.ceil(bytes.length / 5) }, (_, j) => bytes.slice(j * 5, j * 5 + 5).map((b) => decodeSample(b)));
  const compact: CompactWindow[] = [];
  let h0 = heapMb();
  for (let i = 0; i < n; i++) {
    const w = new CompactWindow(120_000, horizons);
    for (const b of batches()) w.add(b);
    compact.push(w);
  }
  const perCompact = ((heapMb() - h0) * 1024) / n;
  compact.length = 0;
  const held: HostWindow[] = [];
  h0 = heapMb();
  for (let i = 0; i < n; i++) {
    const w = new HostWindow(120_000, horizons);
    for (const b of batches()) w.add(b);
    held.push(w);
  }
  const perDecoded = ((heapMb() - h0) * 1024) / n;
  console.log(`one held host with a full window (${bytes.length} samples of ~${procs} processes, 2 min of history): ${perCompact.toFixed(0)} KB of heap as the classifier holds it (compact), ${perDecoded.toFixed(0)} KB decoded (mean of ${n})`);
}
