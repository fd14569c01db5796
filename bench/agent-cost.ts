// Measures what the agent costs the host it watches: CPU (share of one core) and RSS while it
// samples at 1 Hz and streams to a local collector. Not a test: prints figures.
//   npm run build && node dist/bench/agent-cost.js [seconds=60]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../test/helpers/env.js';
import { CLK_TCK, cpuTicks, rssMb } from './proc-stats.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const seconds = Math.min(Math.max(Number(process.argv[2] ?? 60), 5), 600);
const cli = fileURLToPath(new URL('../cli.js', import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'assay-bench-'));
const port = await freePort();
const collector = spawn(process.execPath, [cli, 'collector', '--port', String(port), '--db', join(dir, 'c.db'), '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] });
// Wait for readiness (the collector says it listens), not a fixed sleep: a slow start must not
// leave the agent refused.
await new Promise<void>((resolve, reject) => {
  let err = '';
  const timer = setTimeout(() => reject(new Error(`collector not listening within 30 s:\n${err}`)), 30_000);
  collector.stderr!.on('data', (d: Buffer) => {
    err += d;
    if (/listening/.test(err)) {
      clearTimeout(timer);
      resolve();
    }
  });
});
// The agent enrolls with the collector's secret (created beside its database), as the README says.
const agent = spawn(process.execPath, [cli, 'agent', '--collector', `ws://127.0.0.1:${port}/ingest`, '--interval', '1', '--state-dir', join(dir, 'agent'), '--enroll-secret-file', join(dir, 'enroll-secret'), '--log-level', 'warn'], {
  stdio: 'inherit',
});
try {
  // Skip start-up (module loading, inventory) so the figure is the steady 1 Hz cost.
  await sleep(5000);
  const pid = agent.pid!;
  const t0 = cpuTicks(pid);
  const w0 = Date.now();
  let rssMax = 0;
  const rss: number[] = [];
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    const r = rssMb(pid) * 1024 * 1024;
    rss.push(r);
    rssMax = Math.max(rssMax, r);
  }
  const cpuSec = (cpuTicks(pid) - t0) / CLK_TCK;
  const wallSec = (Date.now() - w0) / 1000;
  const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
  console.log(`agent at 1 Hz over ${wallSec.toFixed(0)} s (after 5 s warm-up)`);
  console.log(`  CPU: ${((cpuSec / wallSec) * 100).toFixed(2)} % of one core   (target <= 1 %)`);
  console.log(`  RSS: end ${mb(rss.at(-1) ?? 0)} MB, max ${mb(rssMax)} MB   (target <= 80 MB)`);
  // Prove it streamed: the collector knows the host and has its samples.
  const { hosts } = (await (await fetch(`http://127.0.0.1:${port}/api/hosts`)).json()) as { hosts: unknown[] };
  const n = hosts.length;
  console.log(`  streamed: the collector lists ${n} host(s)${n === 0 ? '  (NOT streaming: the figures above are sampling only)' : ''}`);
} finally {
  agent.kill('SIGTERM');
  collector.kill('SIGTERM');
  await sleep(500);
  rmSync(dir, { recursive: true, force: true });
}
