// The host page's report maker in Chromium: presets and a custom period, then the signed report of
// exactly that period, which says "before enrollment" for a host enrolled inside it; and the class
// colours the dashboard serves are the report's (one source: collector/classes.ts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { CLASS_LOOKS, LIGHT_COLORS } from '../../collector/classes.js';
import { CLASSES } from '../../collector/engine/types.js';
import { startCollector } from '../../collector/server.js';
import { verifyReportBytes } from '../../collector/report/verify-file.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { checkReportBudget } from '../../collector/report/budget.js';
import { tempDir } from '../helpers/env.js';
import { S, T0, lateHost } from '../report/stored-period.js';


describe('report period picker on the host page', () => {
  const tmp = tempDir('assay-picker-');
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    const db = join(tmp.dir, 'assay.db');
    const store = new SqliteStore(db);
    await lateHost(store, 'late', 300, 300);
    await store.close();
    collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath: db, enrollSecret: 'picker-test-enroll-secret' });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${collector.url}/#/hosts/late`);
    await page.waitForSelector('[data-testid="report-picker"]');
  });
  after(async () => {
    await browser?.close();
    await collector?.close();
    tmp.cleanup();
  });

  const hrefAfterClick = async (testid: string): Promise<string> => {
    // Build the link without following it: a capturing listener stops the navigation after ours ran.
    await page.evaluate((id) => {
      const a = document.querySelector<HTMLAnchorElement>(`[data-testid="${id}"]`)!;
      a.addEventListener('click', (e) => e.preventDefault(), { once: true });
    }, testid);
    await page.click(`[data-testid="${testid}"]`);
    return (await page.getAttribute(`[data-testid="${testid}"]`, 'href'))!;
  };

  it('presets 1 h / 24 h / 7 d end now; the custom range is hidden until chosen', async () => {
    assert.deepEqual(await page.$$eval('[data-testid="report-period"] option', (os) => os.map((o) => (o as HTMLOptionElement).value)), ['1h', '24h', '7d', 'custom']);
    assert.equal(await page.inputValue('[data-testid="report-period"]'), '1h');
    assert.equal(await page.isVisible('[data-testid="report-from"]'), false);
    for (const [preset, ms] of [['24h', 86_400_000], ['1h', 3600_000], ['7d', 7 * 86_400_000]] as const) {
      await page.selectOption('[data-testid="report-period"]', preset);
      const before = Date.now();
      const url = new URL(await hrefAfterClick('report-json'), collector.url);
      assert.equal(url.pathname, '/api/hosts/late/report');
      assert.equal(url.searchParams.get('format'), 'json');
      const from = Number(url.searchParams.get('from'));
      const to = Number(url.searchParams.get('to'));
      assert.equal(to - from, ms);
      assert.ok(Math.abs(to - before) < 5000, `${preset} ends now`);
    }
  });

  it('a custom period that ends before it starts is refused with a word; a good one opens that report, which counts only time since enrollment', async () => {
    await page.selectOption('[data-testid="report-period"]', 'custom');
    assert.equal(await page.isVisible('[data-testid="report-from"]'), true);
    const local = (ms: number): Promise<string> => page.evaluate((t) => new Date(t - new Date(t).getTimezoneOffset() * 60_000).toISOString().slice(0, 16), ms);
    await page.fill('[data-testid="report-from"]', await local(T0 + 600 * S));
    await page.fill('[data-testid="report-to"]', await local(T0));
    await page.click('[data-testid="report-link"]');
    assert.equal(await page.textContent('[data-testid="report-note"]'), 'The period must end after it starts.');
    assert.equal(page.context().pages().length, 1, 'no report opened');

    await page.fill('[data-testid="report-from"]', await local(T0));
    await page.fill('[data-testid="report-to"]', await local(T0 + 600 * S));
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('[data-testid="report-link"]')]);
    await popup.waitForSelector('[data-testid="statement"]');
    const url = new URL(popup.url());
    assert.deepEqual([url.searchParams.get('from'), url.searchParams.get('to')], [String(T0), String(T0 + 600 * S)]);
    assert.equal(await popup.getAttribute('[data-testid="statement"]', 'data-verdict'), 'ai-only');
    assert.match((await popup.textContent('[data-testid="before-enrollment"]'))!, /^Before enrollment: 2027-01-15T08:00:00Z to 2027-01-15T08:05:00Z/);
    assert.equal(await page.textContent('[data-testid="report-note"]'), '');
    const bytes = Buffer.from(await (await fetch(popup.url())).arrayBuffer());
    assert.deepEqual(verifyReportBytes(bytes).failures, []);
    await popup.close();
    assert.deepEqual(errors, []);
  });

  it('class list and colours come from one source: the dashboard shows the report\'s colours, light and dark', async () => {
    const served = await page.evaluate(async () => {
      const url = '/assets/generated/classes.js';
      const m = (await import(url)) as { CLASSES: string[]; CLASS_LABELS: Record<string, string> };
      const css = getComputedStyle(document.documentElement);
      return { classes: m.CLASSES, labels: m.CLASS_LABELS, colors: Object.fromEntries(m.CLASSES.map((c) => [c, css.getPropertyValue(`--class-${c}`).trim()])) };
    });
    assert.deepEqual(served.classes, [...CLASSES]);
    for (const c of CLASSES) {
      assert.equal(served.colors[c], LIGHT_COLORS[c], `${c} light colour`);
      assert.equal(served.labels[c], CLASS_LOOKS[c].label);
    }
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--class-pow-mining').trim());
    assert.equal(dark, CLASS_LOOKS['pow-mining'].dark);
    await page.emulateMedia({ colorScheme: 'light' });
    // A badge on the page takes its colour from the generated rules.
    await page.waitForSelector('.badge[data-class="ai-training"]');
    const badge = await page.$eval('.badge[data-class="ai-training"]', (e) => getComputedStyle(e).getPropertyValue('--c').trim());
    assert.equal(badge, LIGHT_COLORS['ai-training']);
  });
});

describe('report picker under the collector\'s report size limit', () => {
  const tmp = tempDir('assay-picker-limit-');
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    const db = join(tmp.dir, 'assay.db');
    const store = new SqliteStore(db);
    await lateHost(store, 'late', 300, 300);
    // The limit: half of what the host's whole stored period holds.
    const whole = await checkReportBudget(store, ['late'], { fromMs: T0, toMs: T0 + 600 * S }, Infinity);
    await store.close();
    collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath: db, enrollSecret: 'picker-test-enroll-secret', reportMaxBytes: Math.floor(whole / 2) });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${collector.url}/#/hosts/late`);
    await page.waitForSelector('[data-testid="report-picker"]');
  });
  after(async () => {
    await browser?.close();
    await collector?.close();
    tmp.cleanup();
  });

  it('a period over the limit says so when chosen, with how long a period fits, and opens nothing; a shorter one opens', async () => {
    await page.selectOption('[data-testid="report-period"]', 'custom');
    const local = (ms: number): Promise<string> => page.evaluate((t) => new Date(t - new Date(t).getTimezoneOffset() * 60_000).toISOString().slice(0, 16), ms);
    await page.fill('[data-testid="report-from"]', await local(T0));
    await page.fill('[data-testid="report-to"]', await local(T0 + 600 * S));
    await page.waitForFunction(() => document.querySelector('[data-testid="report-note"]')?.textContent?.startsWith('Report refused'), undefined, { timeout: 10_000 });
    assert.match((await page.textContent('[data-testid="report-note"]'))!, /^Report refused: this report would embed about [\d.]+ MB of signed batches, over the limit .*periods of at most \d+ min each/);
    await page.click('[data-testid="report-link"]');
    await page.waitForTimeout(300);
    assert.equal(page.context().pages().length, 1, 'no report opened');

    await page.fill('[data-testid="report-from"]', await local(T0 + 540 * S));
    await page.waitForFunction(() => document.querySelector('[data-testid="report-note"]')?.textContent === '', undefined, { timeout: 10_000 });
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('[data-testid="report-link"]')]);
    await popup.waitForSelector('[data-testid="statement"]');
    assert.deepEqual(verifyReportBytes(Buffer.from(await (await fetch(popup.url())).arrayBuffer())).failures, []);
    await popup.close();
    assert.deepEqual(errors, []);
  });
});
