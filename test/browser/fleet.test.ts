// The fleet view at 5,000 hosts in Chromium: a real collector on 127.0.0.1 over a generated fleet
// across every class (some offline, some pending) in a real SQLite store, plus a live agent that
// sends real signed batches of a recorded PoW-mining trace. Checks paging, class filters, search
// and sorting against the generated truth, the offline tile and its old figures, a class change
// arriving in the feed without a reload, and the signed webhook event a receiver on 127.0.0.1 gets.
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { collectPageErrors, launchChromium } from '../helpers/browser.js';
import { CLASSES } from '../../collector/engine/types.js';
import { startCollector } from '../../collector/server.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../collector/webhook.js';
import { readTrace } from '../../proto/trace.js';
import { defaultFleetSpec, generateFleet, type GeneratedHost } from '../helpers/fleet.js';
import { repoRoot, tempDir, waitFor } from '../helpers/env.js';
import { RawAgent } from '../helpers/rawagent.js';


const ENROLL_SECRET = 'fleet-test-enroll-secret';
const WEBHOOK_SECRET = 'fleet-test-webhook-secret-0123';
type Collector = Awaited<ReturnType<typeof startCollector>>;

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

/** What a receiver does: recompute the HMAC over `${timestamp}.${raw body}` and compare in constant time. */
function verify(secret: string, d: Delivery, nowSec: number): boolean {
  const ts = Number(d.headers[TIMESTAMP_HEADER]);
  const sig = String(d.headers[SIGNATURE_HEADER] ?? '');
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
  if (!m || Number(m[1]) !== ts || Math.abs(nowSec - ts) > 300) return false;
  const want = createHmac('sha256', secret).update(`${ts}.${d.body}`).digest();
  return timingSafeEqual(want, Buffer.from(m[2]!, 'hex'));
}

const rowsOf = (page: Page): Promise<Array<{ id: string; hostname: string; cls: string | null; state: string }>> =>
  page.$$eval('[data-testid="host-row"]', (trs) =>
    trs.map((tr) => ({
      id: tr.getAttribute('data-host-id') ?? '',
      hostname: tr.querySelector('a.host-link')?.textContent ?? '',
      cls: tr.querySelector('[data-testid="host-class"]')?.getAttribute('data-value') ?? null,
      state: tr.getAttribute('data-state') ?? '',
    })),
  );

describe('fleet view with 5,000 hosts', () => {
  const tmp = tempDir('assay-fleet-');
  let fleet: GeneratedHost[];
  let collector: Collector;
  let browser: Browser;
  let page: Page;
  let receiver: Server;
  const deliveries: Delivery[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    fleet = await generateFleet(join(tmp.dir, 'assay.db'), defaultFleetSpec(Date.now()));
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    collector = await startCollector({
      host: '127.0.0.1',
      port: 0,
      dbPath: join(tmp.dir, 'assay.db'),
      enrollSecret: ENROLL_SECRET,
      // Generated online hosts sent data within seconds of generation; offline ones hours before.
      onlineWithinMs: 3600_000,
      // The live agent's trace is sent in a few seconds with its recorded 1 s spacing, ending now.
      limits: { maxClockSkewMs: 900_000 },
      webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, secret: WEBHOOK_SECRET, baseDelayMs: 100 },
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    collectPageErrors(page, pageErrors);
    await page.route(/^(?!https?:\/\/127\.0\.0\.1[:/]|ws:\/\/127\.0\.0\.1[:/]|data:)/, (route) => {
      pageErrors.push(`external request: ${route.request().url()}`);
      return route.abort();
    });
  });

  after(async () => {
    await browser?.close();
    await collector?.close();
    await new Promise((r) => receiver?.close(r));
    tmp.cleanup();
  });

  it('pages, filters by class, searches and sorts on the server', async () => {
    await page.goto(`${collector.url}/#/`);
    await waitFor(async () => (await page.locator('[data-testid="host-row"]').count()) === 50, 10_000, 'the first page of 50 rows');
    const online = fleet.filter((h) => h.online);
    const offline = fleet.filter((h) => !h.online);
    assert.match((await page.locator('[data-testid="page-info"]').textContent()) ?? '', /^1–50 of 5,000 · page 1 of 100$/);
    assert.match((await page.locator('[data-testid="fleet-totals"]').textContent()) ?? '', new RegExp(`^5,000 hosts · ${online.length.toLocaleString('en')} online · ${offline.length} offline`));
    // Tiles: online hosts per class; offline hosts only in their own tile.
    for (const k of [...CLASSES, 'pending']) {
      const want = online.filter((h) => (h.class ?? 'pending') === k).length;
      assert.equal(await page.locator(`[data-testid="class-count"][data-class="${k}"] .summary-count`).textContent(), want.toLocaleString('en'), `tile ${k}`);
    }
    assert.equal(await page.locator('[data-testid="class-count"][data-class="offline"] .summary-count').textContent(), String(offline.length));
    const first = await rowsOf(page);
    assert.ok(first.every((r) => r.state === 'online'), 'online hosts first by default');

    // Next page: the next 50, none repeated.
    await page.locator('[data-testid="page-next"]').click();
    await waitFor(async () => (await page.locator('[data-testid="page-info"]').textContent())?.startsWith('51–100 of 5,000'), 10_000, 'page 2');
    const second = await rowsOf(page);
    assert.equal(second.length, 50);
    assert.equal(second.filter((r) => first.some((f) => f.id === r.id)).length, 0, 'page 2 shares no host with page 1');
    assert.match(page.url(), /[#?&]page=2\b/, 'the page is in the address');

    // A class tile: online PoW-mining hosts only, counted exactly.
    await page.locator('[data-testid="class-count"][data-class="pow-mining"]').click();
    const pow = online.filter((h) => h.class === 'pow-mining');
    await waitFor(async () => (await page.locator('[data-testid="page-info"]').textContent())?.startsWith(`1–50 of ${pow.length}`), 10_000, 'the pow-mining filter');
    const powRows = await rowsOf(page);
    assert.equal(powRows.length, 50);
    assert.ok(powRows.every((r) => r.cls === 'pow-mining' && r.state === 'online'), 'only online pow-mining hosts');
    await page.locator('[data-testid="class-count"][data-class="pow-mining"]').click();

    // Search on the server: hostname or id, case-insensitive.
    await page.locator('[data-testid="fleet-search"]').fill('SIN2-01');
    const want = fleet.filter((h) => h.hostname.toLowerCase().includes('sin2-01') || h.id.toLowerCase().includes('sin2-01'));
    assert.ok(want.length > 0 && want.length < 50);
    await waitFor(async () => (await page.locator('[data-testid="page-info"]').textContent())?.startsWith(`1–${want.length} of ${want.length} `), 10_000, 'search results');
    assert.deepEqual((await rowsOf(page)).map((r) => r.id).sort(), want.map((h) => h.id).sort());
    await page.locator('[data-testid="fleet-search"]').fill('');
    await waitFor(async () => (await page.locator('[data-testid="page-info"]').textContent())?.startsWith('1–50 of 5,000'), 10_000, 'search cleared');

    // Sorting by hostname (column header), then reversed by a second click.
    const byName = [...fleet].sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.id < b.id ? -1 : 1));
    await page.locator('th[data-sort="hostname"] button').click();
    await waitFor(async () => (await rowsOf(page))[0]?.id === byName[0]!.id, 10_000, 'sorted by hostname');
    assert.deepEqual((await rowsOf(page)).map((r) => r.id), byName.slice(0, 50).map((h) => h.id));
    await page.locator('th[data-sort="hostname"] button').click();
    await waitFor(async () => (await rowsOf(page))[0]?.hostname === byName.at(-1)!.hostname, 10_000, 'sorted by hostname, descending');
    assert.equal(await page.locator('th[data-sort="hostname"]').getAttribute('aria-sort'), 'descending');
    assert.deepEqual(pageErrors, []);
  });

  it('shows offline hosts in their own tile, their last figures marked old', async () => {
    await page.goto(`${collector.url}/#/?state=offline`);
    const offline = fleet.filter((h) => !h.online);
    await waitFor(async () => (await page.locator('[data-testid="page-info"]').textContent())?.startsWith(`1–50 of ${offline.length} `), 10_000, 'the offline list');
    assert.equal(await page.locator('[data-testid="class-count"][data-class="offline"]').getAttribute('aria-pressed'), 'true');
    const rows = await rowsOf(page);
    assert.ok(rows.every((r) => r.state === 'offline' && offline.some((h) => h.id === r.id)));
    const firstRow = page.locator('[data-testid="host-row"]').first();
    assert.equal(await firstRow.locator('[data-testid="host-state"]').textContent(), 'Offline');
    // Last figures are shown, marked old with their age; the age is hours here.
    const cpu = firstRow.locator('.spark-cell.cpu .spark-val');
    assert.equal(await cpu.getAttribute('data-old'), 'yes');
    assert.match((await cpu.getAttribute('title')) ?? '', /^last figure, \d+ h ago/);
    assert.match((await firstRow.locator('.spark-cell.cpu svg').getAttribute('aria-label')) ?? '', /before it went silent.*\(old: \d+ h ago\)/);
    // The API agrees: class tiles hold online hosts only, and add up with the offline tile.
    const body = (await (await fetch(`${collector.url}/api/fleet?state=offline&limit=1`)).json()) as { total: number; counts: { total: number; online: number; offline: number; classes: Record<string, number> } };
    assert.equal(body.total, offline.length);
    assert.equal(body.counts.offline, offline.length);
    assert.equal(Object.values(body.counts.classes).reduce((a, b) => a + b, 0) + body.counts.offline, body.counts.total);
    assert.deepEqual(pageErrors, []);
  });

  it('a live agent\'s class change reaches the feed without a reload, and the webhook gets the signed event', async () => {
    await page.goto(`${collector.url}/#/`);
    await page.locator('[data-testid="feed-item"]').first().waitFor({ timeout: 10_000 });
    await waitFor(() => page.locator('#conn-status[data-status="live"]').count(), 10_000, 'live socket');
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));

    // A real agent protocol client: enrolls, then sends signed batches of a recorded miner, 5 s a batch.
    const { header, samples } = await readTrace(join(repoRoot, 'test', 'corpus', 'pow-mining-monerod-regtest.trace.ndjson'));
    const agent = await RawAgent.connect(`ws://127.0.0.1:${collector.port}/ingest`);
    try {
      await agent.hello({ agentId: 'live-miner-01', hostname: 'live-miner-01', agentVersion: 'test', inventory: header.inventory ?? null }, ENROLL_SECRET);
      const start = Date.now() - samples.length * 1000;
      const shifted = samples.map((s, i) => ({ ...s, tsMs: start + i * 1000 }));
      for (let i = 0; i < shifted.length; i += 5) {
        const ack = await agent.batch(i + 1, shifted.slice(i, i + 5));
        assert.ok(ack.lastSeq, 'batch acknowledged');
      }
    } finally {
      agent.close();
    }
    const item = page.locator('[data-testid="feed-item"][data-host-id="live-miner-01"][data-to="pow-mining"]');
    await item.waitFor({ timeout: 30_000 });
    assert.equal(await item.getAttribute('data-non-ai'), 'yes');
    assert.equal(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload), true, 'the change arrived without a reload');
    // Non-AI first: it sits among the non-AI changes at the top.
    assert.equal(await page.locator('[data-testid="feed-item"]').first().getAttribute('data-non-ai'), 'yes');

    // The feed's own filters: by class and by host.
    await page.locator('[data-testid="feed-search"]').fill('live-miner');
    await waitFor(async () => (await page.locator('[data-testid="feed-item"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-host-id')))).every((id) => id === 'live-miner-01'), 10_000, 'feed search');
    await page.locator('[data-testid="feed-class"]').selectOption('ai-training');
    await waitFor(async () => (await page.locator('[data-testid="feed-info"]').textContent()) === 'No class changes match.', 10_000, 'feed class filter');

    // Newest first instead: the live agent's changes lead, times never go up.
    await page.locator('[data-testid="feed-class"]').selectOption('');
    await page.locator('[data-testid="feed-search"]').fill('');
    await page.locator('[data-testid="feed-order"]').selectOption('time');
    await waitFor(async () => (await page.locator('[data-testid="feed-item"]').first().getAttribute('data-host-id')) === 'live-miner-01' && (await page.locator('[data-testid="feed-item"]').count()) === 15, 10_000, 'newest first');
    const times = await page.locator('[data-testid="feed-item"] time').evaluateAll((els) => els.map((e) => Date.parse(e.getAttribute('datetime') ?? '')));
    assert.deepEqual(times, [...times].sort((a, b) => b - a));
    assert.match(page.url(), /feedorder=time/);

    // The webhook: a signed POST naming the host and its new non-AI class.
    const d = await waitFor(() => deliveries.find((x) => (JSON.parse(x.body) as { host: { id: string }; toClass: string }).toClass === 'pow-mining'), 15_000, 'the webhook event');
    const event = JSON.parse(d.body) as { type: string; direction: string; host: { id: string; hostname: string }; toClass: string; id: string };
    assert.equal(event.type, 'class_change');
    assert.equal(event.direction, 'nonai');
    assert.deepEqual(event.host, { id: 'live-miner-01', hostname: 'live-miner-01' });
    assert.equal(d.headers['content-type'], 'application/json');
    assert.ok(verify(WEBHOOK_SECRET, d, Math.floor(Date.now() / 1000)), 'the HMAC verifies over the exact body');
    assert.equal(verify(WEBHOOK_SECRET, { ...d, body: d.body.replace('pow-mining', 'ai-training') }, Math.floor(Date.now() / 1000)), false, 'a changed body does not verify');
    assert.equal(verify('another-secret-0123456789', d, Math.floor(Date.now() / 1000)), false, 'another secret does not verify');
    assert.equal(verify(WEBHOOK_SECRET, d, Number(d.headers[TIMESTAMP_HEADER]) + 3600), false, 'an hour-old delivery is refused as a replay');

    // Prometheus: the per-host non-AI gauge and the counts Alertmanager rules read.
    const metrics = await (await fetch(`${collector.url}/metrics`)).text();
    assert.match(metrics, /^assay_host_non_ai\{host="live-miner-01",hostname="live-miner-01",class="pow-mining"\} 1$/m);
    assert.match(metrics, /^assay_webhook_deliveries_total\{result="delivered"\} [1-9]\d*$/m);
    const powOnline = fleet.filter((h) => h.online && h.class === 'pow-mining').length + 1;
    assert.match(metrics, new RegExp(`^assay_hosts\\{class="pow-mining",state="online"\\} ${powOnline}$`, 'm'));
    assert.deepEqual(pageErrors, []);
  });
});
