// `--max-clock-skew` bounds the difference between an agent's clock and the collector's, not the
// age of what it delivers. Found from outside: the collector refused every sample older than the
// skew (4422 clock_skew), so after an outage longer than it (5 min by default) an agent resent its
// spooled batch for ever and delivered nothing again — measured with a real agent and
// `--max-clock-skew 15s`: 29 refusals in the 25 s after a 25 s outage, the host stuck at seq 5.
// Now a sample is refused only when it lies ahead of the collector's clock by more than the skew,
// or before the raw retention window (it would be deleted at once).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startCollector } from '../../collector/server.js';
import { CloseCode } from '../../proto/codec.js';
import { cliPath, freePort, tempDir, waitFor } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { RawAgent } from '../helpers/rawagent.js';

const SECRET = 'spooled-backlog-secret-0123456';
const MIN = 60_000;

function run(args: string[]): ChildProcess {
  const env: Record<string, string | undefined> = { ...process.env, ASSAY_LOG_LEVEL: 'warn' };
  for (const k of Object.keys(env)) if (k.startsWith('ASSAY_') && k !== 'ASSAY_LOG_LEVEL') delete env[k];
  const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.resume();
  return child;
}
const stop = async (c: ChildProcess): Promise<void> => {
  if (c.exitCode !== null || c.signalCode !== null) return;
  c.kill('SIGTERM');
  await new Promise((r) => c.once('exit', r));
};
const lastSeq = (db: string): number => {
  const d = new Database(db, { readonly: true });
  try {
    return (d.prepare('SELECT last_seq FROM hosts').get() as { last_seq: number } | undefined)?.last_seq ?? 0;
  } finally {
    d.close();
  }
};

describe('a backlog older than --max-clock-skew', () => {
  it('samples 10 min and 6 days old are acked; one ahead of the clock or older than the raw window is refused', async () => {
    const tmp = tempDir('backlog-raw');
    const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET });
    try {
      const url = c.url.replace('http', 'ws') + '/ingest';
      const a = await RawAgent.connect(url);
      await a.hello(fullHello('backlog-1'), SECRET);
      const now = Date.now();
      assert.equal(Number((await a.batch(1, [fullSample(now - 6 * 24 * 60 * MIN), fullSample(now - 6 * 24 * 60 * MIN + 1000)])).lastSeq), 2, 'six days old (within the 7 d spool and 35 d raw window)');
      assert.equal(Number((await a.batch(3, [fullSample(now - 10 * MIN), fullSample(now - 10 * MIN + 1000)])).lastSeq), 4, 'ten minutes old');
      a.sendBatch(a.build(5, [fullSample(now + 10 * MIN)]));
      const ahead = await Promise.race([a.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
      assert.equal(ahead?.code, CloseCode.invalid);
      assert.match(ahead!.reason, /sample 5 timestamp is 600 s ahead of the collector's clock \(limit 300 s\)/);
      const b = await RawAgent.connect(url);
      b.keys = a.keys;
      await b.hello(fullHello('backlog-1'));
      b.sendBatch(b.build(5, [fullSample(now - 36 * 24 * 60 * MIN)]));
      const old = await Promise.race([b.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
      assert.equal(old?.code, CloseCode.invalid);
      assert.match(old!.reason, /sample 5 timestamp is older than the raw retention window/);
    } finally {
      await c.close();
      tmp.cleanup();
    }
  });

  it('a real agent delivers what it spooled through a collector outage longer than --max-clock-skew', async () => {
    const tmp = tempDir('backlog-agent');
    const port = await freePort();
    const db = join(tmp.dir, 'assay.db');
    const collectorArgs = ['collector', '--db', db, '--port', String(port), '--max-clock-skew', '15s'];
    let collector = run(collectorArgs);
    let agent: ChildProcess | null = null;
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 20_000, 'collector up');
      agent = run(['agent', '--collector', `ws://127.0.0.1:${port}/ingest`, '--enroll-secret-file', join(tmp.dir, 'enroll-secret'), '--state-dir', join(tmp.dir, 'agent'), '--interval', '1s']);
      const before = await waitFor(() => (lastSeq(db) >= 3 ? lastSeq(db) : 0), 30_000, 'first batches stored');
      await stop(collector);
      // 25 s down: the spooled samples are older than the 15 s skew when the collector is back.
      await new Promise((r) => setTimeout(r, 25_000));
      const atRestart = lastSeq(db);
      collector = run(collectorArgs);
      const after = await waitFor(() => (lastSeq(db) >= atRestart + 25 ? lastSeq(db) : 0), 30_000, `the backlog delivered (stored up to seq ${atRestart} before the outage, first stored ${before})`);
      assert.ok(after >= atRestart + 25, `seq ${after}`);
    } finally {
      if (agent) await stop(agent);
      await stop(collector);
      tmp.cleanup();
    }
  });
});
