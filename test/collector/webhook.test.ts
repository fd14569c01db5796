// The alerting webhook against a real HTTP receiver on 127.0.0.1: signed bodies, retries with
// growing delays, give-up on a 4xx, a bounded queue that drops (and counts) the oldest event, and
// the URL rules.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { silentLogger } from '../../proto/log.js';
import { readTrace } from '../../proto/trace.js';
import { startCollector } from '../../collector/server.js';
import { RawAgent } from '../helpers/rawagent.js';
import { repoRoot, tempDir } from '../helpers/env.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, Webhook, checkWebhookUrl, signWebhook, type ClassChangeEvent } from '../../collector/webhook.js';
import { waitFor } from '../helpers/env.js';
import type { ISample } from '../../proto/codec.js';

const SECRET = 'webhook-unit-secret-0123456789';

interface Hit {
  atMs: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const event = (hostId: string, toClass = 'pow-mining'): ClassChangeEvent => ({
  type: 'class_change',
  direction: 'nonai',
  host: { id: hostId, hostname: hostId },
  fromClass: 'ai-training',
  toClass,
  confidence: 0.8,
  tsMs: 1_800_000_000_000,
  rulesVersion: 'test',
});

describe('alerting webhook', () => {
  let server: Server;
  let url = '';
  const hits: Hit[] = [];
  /** Status codes to answer, in order; 204 once they run out. */
  let answers: number[] = [];

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        hits.push({ atMs: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(answers.shift() ?? 204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  after(() => new Promise((r) => server.close(r)));

  const make = (over: Partial<ConstructorParameters<typeof Webhook>[0]> = {}): Webhook =>
    new Webhook({ url, secret: SECRET, maxQueue: 10, maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, timeoutMs: 2000, ...over }, silentLogger());

  it('signs the exact body with a timestamp, and retries 5xx with growing delays', async () => {
    hits.length = 0;
    answers = [503, 500];
    const w = make();
    w.send(event('h1'));
    await waitFor(() => w.counters.delivered === 1, 10_000, 'delivery after two failures');
    assert.equal(hits.length, 3);
    assert.equal(w.counters.failedAttempts, 2);
    // The same event body every time (same id); each try signed afresh.
    assert.equal(new Set(hits.map((h) => h.body)).size, 1);
    for (const h of hits) {
      const ts = Number(h.headers[TIMESTAMP_HEADER]);
      assert.equal(h.headers[SIGNATURE_HEADER], `t=${ts},v1=${createHmac('sha256', SECRET).update(`${ts}.${h.body}`).digest('hex')}`);
      assert.ok(Math.abs(Date.now() / 1000 - ts) < 60);
    }
    const body = JSON.parse(hits[0]!.body) as ClassChangeEvent & { id: string };
    assert.equal(body.host.id, 'h1');
    assert.equal(body.id, hits[0]!.headers['x-assay-event-id']);
    // Backoff: the second wait is longer than the first (100 ms then 200 ms, ±20 % jitter).
    const gap1 = hits[1]!.atMs - hits[0]!.atMs;
    const gap2 = hits[2]!.atMs - hits[1]!.atMs;
    assert.ok(gap1 >= 70 && gap2 >= 150 && gap2 > gap1, `gaps ${gap1} ms, ${gap2} ms`);
    w.close();
  });

  it('gives up after maxAttempts, and at once on a 4xx (retrying cannot help)', async () => {
    hits.length = 0;
    answers = [500, 500, 500, 500];
    const w = make();
    w.send(event('h2'));
    await waitFor(() => w.counters.failed === 1, 10_000, 'giving up');
    assert.equal(hits.length, 4);
    answers = [401];
    w.send(event('h3'));
    await waitFor(() => w.counters.failed === 2, 10_000, 'a refused event');
    assert.equal(hits.length, 5);
    assert.equal(w.counters.delivered, 0);
    w.close();
  });

  it('keeps at most maxQueue events, dropping the oldest waiting one, and tries the rest', async () => {
    hits.length = 0;
    // Unreachable first (a closed port), so events queue up behind the first.
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    const w = new Webhook({ url: `http://127.0.0.1:${deadPort}/x`, secret: SECRET, maxQueue: 3, maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 100, timeoutMs: 1000 }, silentLogger());
    for (let i = 0; i < 6; i++) w.send(event(`q${i}`));
    // The first one is in flight (it stays at the head while retried), so three of the rest are dropped.
    assert.equal(w.counters.dropped, 3);
    assert.ok(w.counters.queued() <= 3);
    await waitFor(() => w.counters.failed === 3, 10_000, 'every queued event tried and given up');
    assert.equal(w.counters.failedAttempts, 6);
    w.close();
    assert.equal(hits.length, 0);
  });

  it('refuses plain http off loopback and credentials in the URL', () => {
    assert.throws(() => checkWebhookUrl('http://alerts.example/hook'), /plain http is allowed to loopback only/);
    assert.throws(() => checkWebhookUrl('https://user:pw@alerts.example/hook'), /must not carry credentials/);
    assert.throws(() => checkWebhookUrl('ftp://x/y'), /http\(s\)/);
    assert.equal(checkWebhookUrl('https://alerts.example/hook').host, 'alerts.example');
    assert.equal(checkWebhookUrl('http://[::1]:9/h').port, '9');
    assert.match(signWebhook('k'.repeat(16), 1, '{}'), /^t=1,v1=[0-9a-f]{64}$/);
  });

  it('a collector posts a host going into non-AI work and back, each signed, in order', async () => {
    hits.length = 0;
    answers = [];
    const tmp = tempDir('assay-webhook-');
    const c = await startCollector({
      host: '127.0.0.1',
      port: 0,
      dbPath: join(tmp.dir, 'assay.db'),
      enrollSecret: 'webhook-enroll-secret-0',
      // Two recorded traces back to back, sent at once with their 1 s spacing, ending now.
      limits: { maxClockSkewMs: 900_000 },
      webhook: { url, secret: SECRET, baseDelayMs: 100 },
    });
    const agent = await RawAgent.connect(`ws://127.0.0.1:${c.port}/ingest`);
    try {
      const pow = await readTrace(join(repoRoot, 'test', 'corpus', 'pow-mining-monerod-regtest.trace.ndjson'));
      const idle = await readTrace(join(repoRoot, 'test', 'corpus', 'idle.trace.ndjson'));
      await agent.hello({ agentId: 'flip-1', hostname: 'flip-one', agentVersion: 'test', inventory: pow.header.inventory ?? null }, 'webhook-enroll-secret-0');
      const all: ISample[] = [...pow.samples, ...idle.samples];
      const start = Date.now() - all.length * 1000;
      for (let i = 0; i < all.length; i += 5) await agent.batch(i + 1, all.slice(i, i + 5).map((s, k) => ({ ...s, tsMs: start + (i + k) * 1000 })));
      await waitFor(() => hits.length >= 2, 20_000, 'two webhook events');
      const events = hits.map((h) => JSON.parse(h.body) as ClassChangeEvent);
      assert.deepEqual(events.map((e) => [e.direction, e.host.hostname]), [['nonai', 'flip-one'], ['clear', 'flip-one']]);
      assert.equal(events[0]!.toClass, 'pow-mining');
      assert.equal(events[1]!.fromClass, 'pow-mining');
      assert.ok(events[1]!.tsMs > events[0]!.tsMs);
      for (const h of hits) {
        const ts = Number(h.headers[TIMESTAMP_HEADER]);
        assert.equal(h.headers[SIGNATURE_HEADER], signWebhook(SECRET, ts, h.body));
      }
      const metrics = await (await fetch(`${c.url}/metrics`)).text();
      assert.match(metrics, /^assay_webhook_deliveries_total\{result="delivered"\} 2$/m);
      assert.match(metrics, /^assay_host_non_ai\{host="flip-1",hostname="flip-one",class="[a-z-]+"\} 0$/m);
    } finally {
      agent.close();
      await c.close();
      tmp.cleanup();
    }
  });
});
