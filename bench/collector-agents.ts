// Collector memory with many connected agents: N enrolled agents (default 1000) connect over
// 127.0.0.1, each sends a few signed batches of realistic samples and stays connected; the
// collector process's RSS is read from /proc. Not a test: prints figures.
//   npm run build && node dist/bench/collector-agents.js [agents=1000]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/env.js';
import { rssMb } from './proc-stats.js';
import { RawAgent } from '../test/helpers/rawagent.js';
import { fullHello, fullSample } from '../test/helpers/messages.js';

const agents = Math.min(Math.max(Number(process.argv[2] ?? 1000), 1), 5000);
const cli = fileURLToPath(new URL('../cli.js', import.meta.url));
const secret = 'bench-enroll-secret-0123456789';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'assay-bench-'));
const port = await freePort();
const collector = spawn(process.execPath, [cli, 'collector', '--port', String(port), '--db', join(dir, 'c.db'), '--log-level', 'error', '--max-agents', '10000'], {
  stdio: 'inherit',
  env: { ...process.env, ASSAY_ENROLL_SECRET: secret },
});
const conns: RawAgent[] = [];
try {
  await sleep(2000);
  const idle = rssMb(collector.pid!);
  const url = `ws://127.0.0.1:${port}/ingest`;
  const t0 = Date.now();
  for (let i = 0; i < agents; i++) {
    const a = await RawAgent.connect(url);
    await a.hello(fullHello(`bench-${i}`), secret);
    const now = Date.now() - 10_000;
    await a.batch(1, [0, 1, 2, 3, 4].map((k) => fullSample(now + k * 1000, 100 + k)));
    conns.push(a);
  }
  const connectMs = Date.now() - t0;
  await sleep(3000);
  const loaded = rssMb(collector.pid!);
  // A second round of batches from everyone, while all stay connected.
  const t1 = Date.now();
  await Promise.all(conns.map((a) => a.batch(6, [0, 1, 2, 3, 4].map((k) => fullSample(Date.now() - 5000 + k * 1000, 100 + k)))));
  const roundMs = Date.now() - t1;
  await sleep(2000);
  const after = rssMb(collector.pid!);
  console.log(`collector with ${agents} connected agents (each 2 batches of 5 samples, ~${Math.round(5 * 1.1)} KB per batch)`);
  console.log(`  RSS idle ${idle.toFixed(1)} MB, all connected ${loaded.toFixed(1)} MB, after a second round ${after.toFixed(1)} MB`);
  console.log(`  per agent: ${((after - idle) / agents * 1024).toFixed(1)} KB`);
  console.log(`  connect+enroll+first batch: ${connectMs} ms for ${agents} agents; second round (all at once): ${roundMs} ms`);
} finally {
  for (const a of conns) a.ws.terminate();
  collector.kill('SIGTERM');
  await sleep(500);
  rmSync(dir, { recursive: true, force: true });
}
