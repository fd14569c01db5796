// Where a connected host's bytes go in the collector (issue 10: 10,000 agents in 1.5 GB RSS).
// Not a test: prints figures (and the machine's loadavg).
//
//   npm run build && node --expose-gc dist/bench/host-memory.js [--connections 1000] [--traces DIR]
//
// Part 1, per held host at steady state, for each recorded trace (bench/heldout by default: real
// samples of this machine), measured on the heap after a full GC:
//   decoded window    120 decoded samples (what the classifier held per host before compact-window.ts)
//   compact window    the same 120 samples in CompactWindow (what it holds now), and its chunk bytes
//   signatures        the decoded signatures of the window's processes (held per host before; now
//                     read from the store per evaluation)
//   history 60 min    the engine's long-horizon accumulator after 60 min of samples at 1 Hz (the
//                     trace looped), as the classifier holds it (the 60 s horizon folded from the
//                     window), what every held host carries once it has run an hour
//   add / decode / eval  CPU: adding one 5-sample batch to the compact window, decoding the
//                     window for an evaluation, the engine's evaluation itself
// Part 2, per connection: an in-process collector (real SQLite file) takes N agent connections
// (real WebSockets from a worker thread, so the clients' heap is not counted) that enroll and
// send nothing; the collector's heap and external memory per connection.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { traceSamples } from './agents-pregen.js';
import { CompactWindow } from '../collector/compact-window.js';
import { HistoryAccumulator } from '../collector/engine/accumulate.js';
import { defaultRulesPath, evaluate, loadRulesFile } from '../collector/engine/index.js';
import { HostWindow } from '../collector/window.js';
import { decodeSample, encodeSample } from '../proto/codec.js';
import { repoRoot } from '../test/helpers/env.js';

const SECRET = 'bench-enroll-secret-0123456789';

if (process.argv[2] === '--history-of') {
  // One trace's long-horizon history after 60 min at 1 Hz (the trace looped), heap bytes per host.
  const gc = (globalThis as { gc?: () => void }).gc!;
  const heap = (): number => (gc(), gc(), gc(), process.memoryUsage().heapUsed);
  const rec = traceSamples(process.argv[3]!);
  const hour = Array.from({ length: 3600 }, (_, k) => encodeSample({ ...rec[k % rec.length]!, tsMs: 1_795_000_000_000 + k * 1000 }));
  const horizons = loadRulesFile(defaultRulesPath).history.horizons;
  const warm = new HistoryAccumulator(horizons);
  for (const b of hour.slice(0, 300)) warm.add(decodeSample(b));
  const h0 = heap();
  // As the classifier holds it: horizons its 120 s window covers are folded from the window instead.
  const held = Array.from({ length: 4 }, () => {
    const a = new HistoryAccumulator(horizons, 120_000);
    for (const b of hour) a.add(decodeSample(b));
    return a;
  });
  console.log(String((heap() - h0) / held.length));
} else if (!isMainThread) {
  // The clients: N agents that connect, enroll and stay connected until told to leave.
  const { RawAgent } = await import('../test/helpers/rawagent.js');
  const { fullHello } = await import('../test/helpers/messages.js');
  const { url, n } = workerData as { url: string; n: number };
  const agents: Array<Awaited<ReturnType<typeof RawAgent.connect>>> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < n) {
        const i = next++;
        const a = await RawAgent.connect(url, `127.0.0.${10 + (i % 32)}`);
        await a.hello({ ...fullHello(`mem-${i}`), hostname: `mem-host-${i}` }, SECRET);
        agents.push(a);
      }
    }),
  );
  parentPort!.postMessage('connected');
  parentPort!.once('message', async () => {
    for (const a of agents) a.ws.close();
    await Promise.all(agents.map((a) => a.closed));
    parentPort!.postMessage('closed');
  });
} else {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const heap = (): number => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const args = process.argv.slice(2);
  const opt = (name: string, def: string): string => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : def);
  const dir = resolve(opt('traces', join(repoRoot, 'bench', 'heldout')));
  const connections = Math.min(5000, Math.max(10, Number(opt('connections', '1000'))));
  const rules = loadRulesFile(defaultRulesPath);
  const horizons = rules.history.horizons;
  const kb = (b: number): string => (b / 1024).toFixed(0);
  console.log(`loadavg before ${loadavg().map((x) => x.toFixed(2)).join(' ')}; traces ${dir}`);
  console.log('trace | wire B/sample | decoded window KB | compact window KB (chunk KB) | signatures KB | history 60 min KB | add us/batch (plain window) | decode ms | eval ms');
  const sums = { wire: 0, decoded: 0, compact: 0, chunks: 0, sigs: 0, hist: 0, add: 0, addPlain: 0, dec: 0, ev: 0 };
  const files = readdirSync(dir).filter((f) => f.endsWith('.trace.ndjson')).sort();
  for (const f of files) {
    const rec = traceSamples(join(dir, f));
    const t0 = 1_795_000_000_000;
    const bytes = (n: number, from = 0): Uint8Array[] => Array.from({ length: n }, (_, k) => encodeSample({ ...rec[(from + k) % rec.length]!, tsMs: t0 + (from + k) * 1000 }));
    const win = bytes(120);
    const wire = win.reduce((a, b) => a + b.length, 0) / win.length;
    // Compact window of the 120 samples (no history: measured apart below), as the classifier holds it.
    const batches = (): ReturnType<typeof decodeSample>[][] => Array.from({ length: 24 }, (_, j) => win.slice(j * 5, j * 5 + 5).map((b) => decodeSample(b)));
    let h0 = heap();
    const compact = Array.from({ length: 40 }, () => {
      const w = new CompactWindow(120_000, []);
      for (const b of batches()) w.add(b);
      return w;
    });
    const compactHeap = (heap() - h0) / compact.length;
    const chunks = compact[0]!.chunkBytes;
    compact.length = 0;
    // Decoded window, as HostWindow held it.
    h0 = heap();
    const plain = Array.from({ length: 8 }, () => {
      const w = new HostWindow(120_000, []);
      for (const b of batches()) w.add(b);
      return w;
    });
    const decoded = (heap() - h0) / plain.length;
    const sigs = plain[0]!.signatures;
    plain.length = 0;
    const copies = 8;
    // Signatures of the window's processes, decoded (as HostWindow held them).
    const sigBytes = [...sigs.values()].map((s) => encodeSample({ processes: [{ signature: s }] }));
    h0 = heap();
    const sigCopies = Array.from({ length: copies }, () => sigBytes.map((b) => decodeSample(b)));
    const sigHeap = (heap() - h0) / copies;
    sigCopies.length = 0;
    // History after 60 min at 1 Hz.
    // History after 60 min at 1 Hz, in a fresh process (the garbage of this one's decoding would blur it).
    const histHeap = Number(execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--history-of', join(dir, f)], { encoding: 'utf8' }).trim());
    // CPU: add a batch, decode for an evaluation, evaluate.
    const full = new CompactWindow(120_000, horizons);
    const decodedBatches = Array.from({ length: 48 }, (_, j) => bytes(5, j * 5).map((b) => decodeSample(b)));
    const before = new HostWindow(120_000, horizons);
    let t = performance.now();
    for (const b of decodedBatches) before.add(b);
    const addPlainUs = ((performance.now() - t) * 1000) / decodedBatches.length;
    t = performance.now();
    for (const b of decodedBatches) full.add(b);
    const addUs = ((performance.now() - t) * 1000) / decodedBatches.length;
    t = performance.now();
    let w = full.samples();
    for (let r = 1; r < 5; r++) w = full.samples();
    const decMs = (performance.now() - t) / 5;
    t = performance.now();
    for (let r = 0; r < 3; r++) evaluate(full.view(w, sigs), rules);
    const evMs = (performance.now() - t) / 3;
    console.log(`${f.replace('.trace.ndjson', '')} | ${wire.toFixed(0)} | ${kb(decoded)} | ${kb(compactHeap)} (${kb(chunks)}) | ${kb(sigHeap)} | ${kb(histHeap)} | ${addUs.toFixed(0)} (${addPlainUs.toFixed(0)}) | ${decMs.toFixed(1)} | ${evMs.toFixed(1)}`);
    sums.wire += wire;
    sums.decoded += decoded;
    sums.compact += compactHeap;
    sums.chunks += chunks;
    sums.sigs += sigHeap;
    sums.hist += histHeap;
    sums.add += addUs;
    sums.addPlain += addPlainUs;
    sums.dec += decMs;
    sums.ev += evMs;
  }
  const n = files.length;
  console.log(`mean | ${(sums.wire / n).toFixed(0)} | ${kb(sums.decoded / n)} | ${kb(sums.compact / n)} (${kb(sums.chunks / n)}) | ${kb(sums.sigs / n)} | ${kb(sums.hist / n)} | ${(sums.add / n).toFixed(0)} (${(sums.addPlain / n).toFixed(0)}) | ${(sums.dec / n).toFixed(1)} | ${(sums.ev / n).toFixed(1)}`);

  // Part 2: per connection.
  const { startCollector } = await import('../collector/server.js');
  const tmp = mkdtempSync(join(tmpdir(), 'assay-bench-hostmem-'));
  const collector = await startCollector({
    host: '127.0.0.1',
    port: 0,
    dbPath: join(tmp, 'c.db'),
    enrollSecret: SECRET,
    limits: { maxAgents: 10_000, maxPreAuthPerAddress: 256, maxPreAuthTotal: 4096 },
  });
  try {
    await new Promise((r) => setTimeout(r, 500));
    const mem0 = process.memoryUsage();
    const h0 = heap();
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { url: collector.url.replace('http', 'ws') + '/ingest', n: connections } });
    await new Promise<void>((res, rej) => {
      worker.once('message', () => res());
      worker.once('error', rej);
    });
    const h1 = heap();
    const mem1 = process.memoryUsage();
    console.log(
      `${connections} enrolled connections, nothing sent: collector heap +${((h1 - h0) / connections / 1024).toFixed(1)} KB per connection, ` +
        `external +${((mem1.external - mem0.external) / connections / 1024).toFixed(1)} KB, array buffers +${((mem1.arrayBuffers - mem0.arrayBuffers) / connections / 1024).toFixed(1)} KB ` +
        `(process RSS +${((mem1.rss - mem0.rss) / connections / 1024).toFixed(1)} KB, clients' worker included)`,
    );
    worker.postMessage('close');
    await new Promise((r) => worker.once('message', r));
    await worker.terminate();
    await new Promise((r) => setTimeout(r, 500));
    console.log(`after they left: collector heap ${((heap() - h0) / 1024 / 1024).toFixed(1)} MB over the start`);
  } finally {
    await collector.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`loadavg after ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}
