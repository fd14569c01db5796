// The HTML report in headless Chromium: opens offline, draws its plots, and the statement and
// class timeline are on the page. Screenshot: /tmp/assay-report.png.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildReport } from '../../collector/report/build.js';
import { renderHtml } from '../../collector/report/render-html.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { generateAgentKeys } from '../../proto/chain.js';
import { tempDir } from '../helpers/env.js';
import { openReport } from './browser.js';
import { LIGHT_COLORS } from '../../collector/classes.js';
import { S, T0, commit, enroll, gappyHost, lateHost, verdict } from './stored-period.js';

const rgb = (hex: string): string => `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;


describe('HTML report in a browser', () => {
  const tmp = tempDir('assay-report-html-');
  after(() => tmp.cleanup());

  it('draws CPU and power plots, says when there is no GPU, and fetches nothing', async () => {
    const store = new SqliteStore(join(tmp.dir, 'assay.db'));
    await gappyHost(store);
    const report = await buildReport(store, { hostIds: ['gappy'], fromMs: T0, toMs: T0 + 600 * S, keys: generateAgentKeys() });
    await store.close();
    const file = join(tmp.dir, 'report.html');
    writeFileSync(file, renderHtml(report));
    const shown = await openReport(file, '/tmp/assay-report.png');
    assert.deepEqual(shown.errors, []);
    assert.equal(shown.drawn.cpu, true);
    assert.equal(shown.drawn.power, true);
    assert.equal(shown.drawn.gpu, false);
    assert.equal(shown.notes, 1); // "No readings in the period." under the GPU plot
  });

  it('a jittered 1 s sampler draws no holes when coverage has no gaps; the statement, timeline legend and class colours are on the page', async () => {
    const store = new SqliteStore(join(tmp.dir, 'jitter.db'));
    // Samples about 1 s apart, every tenth one 450 ms late and the next 450 ms early: buckets of one
    // interval leave 9 of 118 empty (what the plots used to draw as holes), yet no gap.
    const jitter = (i: number): number => (i % 10 === 4 ? 450 : i % 10 === 5 ? -450 : (i % 3) * 20);
    const a = await enroll(store, 'jitter');
    await commit(store, a, Array.from({ length: 120 }, (_, i) => ({ seq: i + 1, tsMs: T0 + i * S + jitter(i) })));
    await store.putVerdict('jitter', T0, verdict('ai-training', T0));
    await store.putVerdict('jitter', T0 + 60 * S, verdict('general', T0 + 60 * S));
    await lateHost(store, 'late', 300, 300);
    const report = await buildReport(store, { hostIds: ['jitter'], fromMs: T0, toMs: T0 + 120 * S, keys: generateAgentKeys() });
    const lateReport = await buildReport(store, { hostIds: ['late'], fromMs: T0, toMs: T0 + 600 * S, keys: generateAgentKeys() });
    await store.close();
    const d = report.hosts[0]!.derived;
    assert.deepEqual(d.coverage.gaps, []);
    assert.equal(d.coverage.ratio, 1, 'jitter is no loss: each sample stands for the time up to the next');
    assert.ok(d.series.cpuPct.length >= 100);
    assert.deepEqual(d.series.cpuPct.filter((v) => v === null), [], 'no empty buckets without a gap');
    const file = join(tmp.dir, 'jitter.html');
    writeFileSync(file, renderHtml(report));
    const shown = await openReport(file, '/tmp/assay-report-jitter.png', async (page) => ({
      verdict: await page.getAttribute('[data-testid="statement"]', 'data-verdict'),
      headline: await page.textContent('[data-testid="statement"] strong'),
      legend: await page.$$eval('[data-testid="timeline-legend"] [data-legend]', (els) => els.map((e) => [e.getAttribute('data-legend'), e.textContent, getComputedStyle(e.querySelector('.swatch')!).backgroundColor])),
    }));
    assert.deepEqual(shown.errors, []);
    assert.equal(shown.drawn.cpu, true);
    assert.deepEqual(shown.extra, {
      verdict: 'ai-only',
      headline: 'AI-only: 50.0 % AI, 0.0 % non-AI, 0.0 % doubtful non-AI, 50.0 % idle/general, coverage 100.0 %',
      legend: [
        ['ai-training', 'ai-training', rgb(LIGHT_COLORS['ai-training']!)],
        ['general', 'general', rgb(LIGHT_COLORS.general!)],
      ],
    });
    const lateFile = join(tmp.dir, 'late.html');
    writeFileSync(lateFile, renderHtml(lateReport));
    const late = await openReport(lateFile, '/tmp/assay-report-late.png', async (page) => ({
      legend: await page.$$eval('[data-testid="timeline-legend"] [data-legend]', (els) => els.map((e) => e.textContent)),
      beforeWidth: await page.$eval('[data-seg="before-enrollment"]', (e) => (e as HTMLElement).offsetWidth / (e.parentElement as HTMLElement).clientWidth),
    }));
    assert.deepEqual(late.errors, []);
    assert.deepEqual(late.extra.legend, ['before enrollment', 'ai-training']);
    assert.ok(Math.abs(late.extra.beforeWidth - 0.5) < 0.01, String(late.extra.beforeWidth));
  });
});
