// What the agent logs when it cannot get through: the actual cause (refused connection with its
// URL, the certificate problem and the flag that fixes it, not enrolled and what to pass), not
// only "closed 1006"; and a refused agent backs off exponentially instead of retrying fast.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../proto/log.js';
import { startAgent } from '../../agent/agent.js';
import { startCollector } from '../../collector/server.js';
import { freePort, tempDir, waitFor } from '../helpers/env.js';

const SECRET = 'link-errors-enroll-secret-0123';

interface Line {
  level: number;
  msg: string;
  reason?: string;
  retryInMs?: number;
}

/** A real pino logger whose JSON lines are kept for the test to read. */
function capturingLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Line);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, sink) as unknown as Logger, lines };
}

const ERROR = 50;

test('connection refused names the URL', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const port = await freePort();
  const { logger, lines } = capturingLogger();
  const agent = await startAgent({ collectorUrl: `ws://127.0.0.1:${port}/ingest`, intervalMs: 1000, stateDir: join(tmp.dir, 'a'), logger });
  t.after(() => agent.stop());
  const line = await waitFor(() => lines.find((l) => l.level === ERROR && /connection refused/.test(l.msg)), 10_000, 'a refused line');
  assert.equal(line.msg, `collector connection failed: connection refused: ws://127.0.0.1:${port}/ingest`);
  assert.equal(line.reason, 'connection_refused');
});

test('a self-signed collector without --pin, and with a wrong pin: the certificate error is logged', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET, tls: { selfSigned: true } });
  t.after(() => c.close());
  const url = c.url.replace('https', 'wss') + '/ingest';
  const unpinned = capturingLogger();
  const a = await startAgent({ collectorUrl: url, intervalMs: 1000, stateDir: join(tmp.dir, 'a1'), enrollSecret: SECRET, logger: unpinned.logger });
  t.after(() => a.stop());
  const wrong = capturingLogger();
  const b = await startAgent({ collectorUrl: url, intervalMs: 1000, stateDir: join(tmp.dir, 'a2'), enrollSecret: SECRET, pin: 'sha256:' + '00:'.repeat(31) + '00', logger: wrong.logger });
  t.after(() => b.stop());
  const l1 = await waitFor(() => unpinned.lines.find((l) => l.level === ERROR && /certificate/.test(l.msg)), 10_000, 'a certificate line');
  assert.match(l1.msg, /self-signed certificate: pass --pin sha256:… \(printed by the collector\) or --ca <file>/);
  assert.equal(l1.reason, 'tls_certificate');
  const l2 = await waitFor(() => wrong.lines.find((l) => l.level === ERROR && /fingerprint mismatch/.test(l.msg)), 10_000, 'a pin line');
  assert.ok(l2.msg.includes(c.tlsFingerprint!), 'names the fingerprint the collector presented');
  assert.ok(!unpinned.lines.some((l) => /closed/.test(l.msg) && !/certificate/.test(l.msg)), 'no bare "closed 1006" line');
});

test('not enrolled: says to pass --enroll-secret-file and backs off exponentially', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET });
  t.after(() => c.close());
  const { logger, lines } = capturingLogger();
  const a = await startAgent({ collectorUrl: c.url.replace('http', 'ws') + '/ingest', intervalMs: 1000, stateDir: join(tmp.dir, 'a'), logger });
  t.after(() => a.stop());
  const refused = () => lines.filter((l) => l.reason === 'not_enrolled');
  await waitFor(() => refused().length >= 3, 15_000, 'three refusals');
  assert.match(refused()[0]!.msg, /not enrolled at the collector: pass --enroll-secret-file/);
  assert.deepEqual(refused().slice(0, 3).map((l) => l.retryInMs), [500, 1000, 2000], 'exponential: min backoff doubled each time');
});
