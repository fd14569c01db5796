// Collector memory and file descriptors held by strangers that never authenticate: N idle TCP
// connections and M WebSocket connections stalled mid-frame before hello (each announcing a frame
// just under --max-frame-bytes and sending all but 1 KiB of it), spread over K loopback source
// addresses (127.0.0.10, .11, …) so the per-address cap alone does not decide the outcome. Reads
// the collector process's RSS and /proc/PID/fd count before, while held, and 15 s later (past the
// default 10 s idle and hello timeouts). Not a test: prints figures.
//   npm run build && node dist/bench/stalled-connections.js [idle=200] [stalled=40] [addresses=8] [cli=dist/cli.js]
// Pass /work/main/dist/cli.js (or any other build) as the last argument to measure that build.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/env.js';
import { idleSocket, stalledFrame, type HeldSocket } from '../test/helpers/stalled.js';
import { rssMb } from './proc-stats.js';

const bounded = (v: string | undefined, def: number, max: number): number => Math.min(Math.max(Number(v ?? def) || def, 0), max);
const idleN = bounded(process.argv[2], 200, 1000);
const stalledN = bounded(process.argv[3], 40, 200);
const addresses = bounded(process.argv[4], 8, 200) || 1;
const cli = process.argv[5] ? resolve(process.argv[5]) : fileURLToPath(new URL('../cli.js', import.meta.url));
const MAX_FRAME = 4 * 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const source = (i: number): string => `127.0.0.${10 + (i % addresses)}`;

const dir = mkdtempSync(join(tmpdir(), 'assay-bench-stalled-'));
const port = await freePort();
const collector = spawn(process.execPath, [cli, 'collector', '--port', String(port), '--db', join(dir, 'c.db'), '--log-level', 'error'], {
  stdio: 'inherit',
  env: { ...process.env, ASSAY_ENROLL_SECRET: 'bench-enroll-secret-0123456789' },
});
const held: HeldSocket[] = [];
try {
  // Wait until it listens (at most 30 s), then let it settle.
  for (let i = 0; i < 300; i++) {
    const probe = await idleSocket(port).catch(() => null);
    if (probe) {
      probe.socket.destroy();
      break;
    }
    await sleep(100);
  }
  await sleep(2000);
  const pid = collector.pid!;
  const fds = (): number => readdirSync(`/proc/${pid}/fd`).length;
  const figures = (): string => `RSS ${rssMb(pid).toFixed(1)} MiB, ${fds()} fds`;
  console.log(`collector: ${cli}`);
  console.log(`baseline:                         ${figures()}`);
  const t0 = Date.now();
  for (let i = 0; i < idleN; i++) held.push(await idleSocket(port, source(i)).catch(() => null as never));
  let upgraded = 0;
  for (let i = 0; i < stalledN; i++) {
    const s = await stalledFrame(port, MAX_FRAME - 1024, MAX_FRAME - 2048, source(i)).catch(() => null);
    if (s) {
      held.push(s);
      if (s.upgraded) upgraded++;
    }
  }
  await sleep(1000);
  const open = (): number => held.filter((h) => h && !h.socket.destroyed && h.socket.readyState === 'open').length;
  console.log(`held (${idleN} idle + ${stalledN} stalled, ${upgraded} upgraded, from ${addresses} addresses, ${((Date.now() - t0) / 1000).toFixed(1)} s): ${figures()}; ${open()} still open`);
  await sleep(15_000);
  console.log(`15 s later:                       ${figures()}; ${open()} still open`);
} finally {
  for (const h of held) h?.socket.destroy();
  collector.kill('SIGTERM');
  await sleep(500);
  rmSync(dir, { recursive: true, force: true });
}
