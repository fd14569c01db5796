// Cross-site attacks on a loopback collector in a real browser (headless Chromium): a page from
// another origin (a second server on 127.0.0.1, another port) tries to read the fleet over /live
// and the API and to revoke an agent with no-cors and form POSTs; a DNS-rebinding page (its own
// name resolving to 127.0.0.1) tries the same origin trick. Nothing may be read or revoked.
// Also: a collector that requires tokens serves a dashboard that works under its CSP without
// ever putting the token into a URL.
//
// Needs Chromium (test/helpers/browser.ts: a missing browser fails, it is never skipped).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { startCollector } from '../../collector/server.js';
import { tempDir, waitFor } from '../helpers/env.js';


const SECRET = 'cross-origin-enroll-secret';
const VICTIM = 'victim-agent-cross-origin';
const TOKEN = 'viewer-token-for-browser-01';

/** The attacker's page: every read and write it can try against the collector at `target`. */
const attackPage = (target: string, ws: string): string => `<!doctype html><meta charset="utf-8"><title>evil</title>
<form id="f" method="POST" action="${target}/api/agents/${VICTIM}/revoke" enctype="text/plain" target="sink"><input name='{"a":"' value='"}'></form>
<iframe name="sink"></iframe>
<script>
window.__log = [];
const log = (m) => window.__log.push(m);
const settle = (p, ms) => Promise.race([p, new Promise((r) => setTimeout(r, ms))]);
(async () => {
  await settle(new Promise((resolve) => {
    const s = new WebSocket(${JSON.stringify(ws)});
    s.onopen = () => log('live:open');
    s.onmessage = (e) => log('live:data:' + String(e.data).slice(0, 200));
    s.onclose = () => resolve();
    s.onerror = () => log('live:error');
  }), 5000);
  for (const body of ['{}', '']) {
    try { await fetch(${JSON.stringify(target)} + '/api/agents/${VICTIM}/revoke', { method: 'POST', mode: 'no-cors', body, headers: { 'content-type': 'text/plain' } }); log('post:sent'); } catch (e) { log('post:error'); }
  }
  try { await fetch(${JSON.stringify(target)} + '/api/agents/${VICTIM}/revoke', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }); log('cors-post:answered'); } catch (e) { log('cors-post:error'); }
  try { const r = await fetch(${JSON.stringify(target)} + '/api/hosts'); log('read:' + (await r.text()).slice(0, 200)); } catch (e) { log('read:error'); }
  try { const r = await fetch(${JSON.stringify(target)} + '/api/hosts', { mode: 'no-cors' }); log('opaque:' + r.type + ':' + (await r.text()).length); } catch (e) { log('opaque:error'); }
  document.getElementById('f').submit();
  await new Promise((r) => setTimeout(r, 1000));
  window.__done = true;
})();
</script>`;

interface Answer {
  method: string;
  path: string;
  /** -1: the request failed in the browser (see failure). */
  status: number;
  failure?: string;
}

/** Loads an attack page and returns what it logged and every answer the collector gave it. */
async function attack(browser: Browser, url: string, prepare?: (page: Page) => Promise<unknown>): Promise<{ log: string[]; answers: Answer[] }> {
  const page = await browser.newPage();
  const answers: Answer[] = [];
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/api/')) answers.push({ method: r.request().method(), path: u.pathname, status: r.status() });
  });
  // ERR_BLOCKED_BY_RESPONSE: the collector answered, and its headers kept the answer from the page.
  page.on('requestfailed', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/api/')) answers.push({ method: r.method(), path: u.pathname, status: -1, failure: r.failure()?.errorText ?? '' });
  });
  await prepare?.(page);
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { __done?: boolean }).__done === true, undefined, { timeout: 20_000 });
  const log = await page.evaluate(() => (window as unknown as { __log: string[] }).__log);
  await page.close();
  return { log, answers };
}

describe('cross-origin pages against a loopback collector', () => {
  const tmp = tempDir('assay-xorigin-');
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let evil: Server;
  let evilPort: number;
  let browser: Browser;
  const collectorHits: string[] = [];

  before(async () => {
    collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET });
    await collector.store.upsertHost({ agentId: VICTIM, hostname: 'victim-hostname', publicKey: new Uint8Array(32).fill(3) }, Date.now());
    await collector.fleet.reconcile(collector.store, Date.now()); // so /live and /api/hosts would carry it
    evil = createServer((req, res) => {
      const target = `http://127.0.0.1:${collector.port}`;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(attackPage(target, `ws://127.0.0.1:${collector.port}/live`));
      collectorHits.push(req.url ?? '');
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    evilPort = (evil.address() as AddressInfo).port;
    browser = await launchChromium(['--host-resolver-rules=MAP evil.test 127.0.0.1',
        // Chromium's own local-network protection would stop these pages before the collector
        // sees them; other browsers and older versions lack it, so the collector must hold alone.
        '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults']);
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => evil?.close(r));
    await collector?.close();
    tmp.cleanup();
  });

  it('a page on another port of 127.0.0.1 reads nothing over /live or the API and revokes nothing', async () => {
    const { log, answers } = await attack(browser, `http://127.0.0.1:${evilPort}/`);
    const all = log.join(' | ');
    assert.ok(!log.includes('live:open') && !log.some((l) => l.startsWith('live:data')), `the live socket opened or gave data: ${all}`);
    assert.ok(log.includes('read:error'), `the API was read: ${all}`);
    assert.ok(!log.some((l) => l.includes(VICTIM) || l.includes('victim-hostname')), `fleet data reached the page: ${all}`);
    // The POSTs really reached the collector: the form's answer is a 403 (then kept out of the
    // frame by frame-ancestors), and the two no-cors fetches were answered (their answers then
    // blocked by Cross-Origin-Resource-Policy, not by the browser up front).
    const posts = answers.filter((a) => a.method === 'POST' && a.path.endsWith('/revoke'));
    assert.ok(posts.some((p) => p.status === 403), `the form POST was refused: ${JSON.stringify(posts)}`);
    assert.ok(posts.filter((p) => p.failure === 'net::ERR_BLOCKED_BY_RESPONSE.NotSameOrigin').length >= 2, `the no-cors POSTs got answers: ${JSON.stringify(posts)}`);
    for (const p of posts) assert.ok(p.status === -1 || [401, 403, 415].includes(p.status), `revoke answered ${p.status}`);
    assert.equal((await collector.store.getHost(VICTIM))?.revokedMs, null, 'the victim agent was not revoked');
  });

  it('a DNS-rebinding page (evil.test → 127.0.0.1, same port) is refused by the Host check', async () => {
    const origin = `http://evil.test:${collector.port}`;
    // The attacker's page is served under its own name; everything else it loads really goes to 127.0.0.1.
    const { log, answers } = await attack(browser, `${origin}/rebind.html`, (page) =>
      page.route(`${origin}/rebind.html`, (r) => r.fulfill({ contentType: 'text/html', body: attackPage(origin, `ws://evil.test:${collector.port}/live`) })),
    );
    const all = log.join(' | ');
    assert.ok(!log.includes('live:open'), `the live socket opened: ${all}`);
    assert.ok(!log.some((l) => l.includes(VICTIM) || l.includes('victim-hostname')), `fleet data reached the page: ${all}`);
    assert.ok(log.some((l) => l.startsWith('read:') && l.includes('not one this collector answers to')), `the same-origin read got the Host refusal: ${all}`);
    assert.ok(answers.some((a) => a.method === 'POST' && a.status === 403), `a revoke attempt reached the collector and was refused: ${JSON.stringify(answers)}`);
    assert.equal((await collector.store.getHost(VICTIM))?.revokedMs, null, 'the victim agent was not revoked');
  });
});

describe('the HTML report served by the collector', () => {
  it('renders under its own CSP, sandboxed: its scripts cannot reach the dashboard\'s stored token', async () => {
    const tmp = tempDir('assay-report-csp-');
    const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET });
    const browser = await launchChromium();
    try {
      await c.store.upsertHost({ agentId: VICTIM, hostname: 'report-host', publicKey: new Uint8Array(32).fill(5) }, Date.now());
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      const resp = await page.goto(`${c.url}/api/hosts/${VICTIM}/report?format=html`);
      assert.equal(resp!.status(), 200);
      assert.match(resp!.headers()['content-security-policy'] ?? '', /^sandbox allow-scripts;.*frame-ancestors 'none'/);
      await page.waitForSelector('html[data-plots="ready"]', { timeout: 15_000 });
      const storage = await page.evaluate(() => {
        try {
          return `readable:${window.localStorage.length}`;
        } catch {
          return 'blocked';
        }
      });
      assert.equal(storage, 'blocked', 'the report runs in an opaque origin');
      assert.deepEqual(errors, [], 'no CSP violations or script errors');
    } finally {
      await browser.close();
      await c.close();
      tmp.cleanup();
    }
  });
});

describe('dashboard on a collector that requires tokens', () => {
  const tmp = tempDir('assay-token-dash-');
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let browser: Browser;

  before(async () => {
    collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET, requireTokens: true, viewerToken: TOKEN, adminToken: 'admin-token-for-browser-01' });
    await collector.store.upsertHost({ agentId: VICTIM, hostname: 'token-host', publicKey: new Uint8Array(32).fill(4) }, Date.now());
    // Written behind the collector's back: its fleet summary takes it at the next reconcile (every 30 s); now here.
    await collector.fleet.reconcile(collector.store, Date.now());
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await collector?.close();
    tmp.cleanup();
  });

  it('works under its CSP with the token from #token=, which never appears in a request URL', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    const urls: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('request', (r) => urls.push(r.url()));
    page.on('websocket', (ws) => urls.push(ws.url()));
    const resp = await page.goto(`${collector.url}/#token=${TOKEN}`);
    assert.match(resp!.headers()['content-security-policy'] ?? '', /default-src 'self'/);
    await page.locator(`[data-host-id="${VICTIM}"]`).waitFor({ timeout: 10_000 });
    await waitFor(() => page.locator('#conn-status[data-status="live"]').count(), 10_000, 'the live socket with the token as a sub-protocol');
    assert.ok(!page.url().includes(TOKEN), 'the token left the address bar');
    await page.locator(`[data-host-id="${VICTIM}"] a.host-link`).click();
    await page.locator('[data-testid="report-link"]').waitFor();
    const download = page.waitForEvent('download', { timeout: 20_000 });
    await page.locator('[data-testid="report-link"]').click();
    const file = await (await download).path();
    assert.ok(file && existsSync(file), 'the report was fetched with the header and saved');
    assert.ok(urls.length > 3, `requests seen: ${urls.length}`);
    for (const u of urls) assert.ok(!u.includes(TOKEN) && !u.includes('token='), `a URL carries the token: ${u}`);
    assert.deepEqual(errors, [], 'no page errors, CSP violations or console errors');
    await page.close();
  });
});
