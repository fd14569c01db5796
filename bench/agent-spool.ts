// Agent memory while spooling offline: the agent samples with no collector reachable until its
// spool holds an hour of 1 Hz samples (sampled faster to keep the run short), then a collector
// appears and the spool drains. Not a test: prints figures.
//   npm run build && node dist/bench/agent-spool.js [samples=3600] [intervalMs=20]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/env.js';
import { rssMb } from './proc-stats.js';
import Database from 'better-sqlite3';

const target = Math.min(Math.max(Number(process.argv[2] ?? 3600), 100), 20_000);
const intervalMs = Math.min(Math.max(Number(process.argv[3] ?? 20), 10), 1000);
const cli = fileURLToPath(new URL('../cli.js', import.meta.url));
const env = { ...process.env, ASSAY_ENROLL_SECRET: 'bench-enroll-secret-0123456789' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'assay-bench-'));
const port = await freePort();
const stateDir = join(dir, 'agent');
const spooled = (): number => {
  try {
    const db = new Database(join(stateDir, 'spool.db'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM spool').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
};
const agent = spawn(process.execPath, [cli, 'agent', '--collector', `ws://127.0.0.1:${port}/ingest`, '--interval', `${intervalMs}ms`, '--state-dir', stateDir, '--log-level', 'error'], { stdio: 'inherit', env });
let collector: ReturnType<typeof spawn> | null = null;
try {
  const t0 = Date.now();
  let rssMax = 0;
  let n = 0;
  const deadline = Date.now() + 15 * 60_000;
  while ((n = spooled()) < target && Date.now() < deadline) {
    await sleep(1000);
    rssMax = Math.max(rssMax, rssMb(agent.pid!));
  }
  const fillSec = (Date.now() - t0) / 1000;
  const spoolBytes = ['spool.db', 'spool.db-wal'].reduce((b, f) => b + (statSync(join(stateDir, f), { throwIfNoEntry: false })?.size ?? 0), 0);
  console.log(`agent offline: ${n} samples spooled in ${fillSec.toFixed(0)} s (an hour of 1 Hz samples = 3600)`);
  console.log(`  agent RSS max ${rssMax.toFixed(1)} MB while spooling, now ${rssMb(agent.pid!).toFixed(1)} MB; spool on disk ${(spoolBytes / 1024 / 1024).toFixed(1)} MB (${(spoolBytes / n / 1024).toFixed(2)} KB/sample)`);
  collector = spawn(process.execPath, [cli, 'collector', '--port', String(port), '--db', join(dir, 'c.db'), '--log-level', 'error'], { stdio: 'inherit', env });
  const t1 = Date.now();
  let drainRss = 0;
  while (spooled() > 50 && Date.now() - t1 < 10 * 60_000) {
    await sleep(500);
    drainRss = Math.max(drainRss, rssMb(agent.pid!));
  }
  console.log(`  collector back: spool drained to ${spooled()} in ${((Date.now() - t1) / 1000).toFixed(1)} s; agent RSS max while draining ${drainRss.toFixed(1)} MB`);
} finally {
  agent.kill('SIGTERM');
  collector?.kill('SIGTERM');
  await sleep(800);
  rmSync(dir, { recursive: true, force: true });
}
