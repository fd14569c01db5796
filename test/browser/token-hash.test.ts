// The dashboard takes its token from `#token=` once. Tokens given by environment or file may hold
// any printable character; one with a `%` pasted as it is (not as %25) made decodeURIComponent
// throw at module load, and the dashboard stayed a blank page with a URIError.
//
// Needs Chromium (test/helpers/browser.ts: a missing browser fails, it is never skipped).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { startCollector } from '../../collector/server.js';
import { tempDir } from '../helpers/env.js';


const TOKEN = 'viewer%token-100%-sure';
const HOST = 'token-hash-host';

describe('#token= with a % in the token', () => {
  const tmp = tempDir();
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let browser: Browser;
  before(async () => {
    collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: 'token-hash-enroll-secret', requireTokens: true, viewerToken: TOKEN, adminToken: 'admin-token-hash-00001' });
    await collector.store.upsertHost({ agentId: HOST, hostname: 'token-hash.example', publicKey: new Uint8Array(32).fill(2) }, Date.now());
    await collector.fleet.reconcile(collector.store, Date.now());
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await collector?.close();
    tmp.cleanup();
  });

  for (const [how, hash] of [
    ['pasted as it is', TOKEN],
    ['percent-encoded', encodeURIComponent(TOKEN)],
  ] as const) {
    it(`${how}: the fleet loads with it and the token leaves the address bar`, async () => {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${collector.url}/#token=${hash}`);
      await page.locator(`[data-host-id="${HOST}"]`).waitFor({ timeout: 10_000 });
      assert.ok(!page.url().includes('token'), page.url());
      assert.equal(await page.evaluate(() => localStorage.getItem('assay.token')), TOKEN);
      assert.deepEqual(errors, []);
      await ctx.close();
    });
  }
});
