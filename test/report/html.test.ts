// The HTML report in headless Chromium: opens offline, draws its plots, and the statement and
// class timeline are on the page. Screenshot: /tmp/assay-report.png.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildReport } from '../../collector/report/build.js';
import { renderHtml } from '../../collector/report/render-html.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { generateAgentKeys } from '../../proto/chain.js';
import { tempDir } from '../helpers/env.js';
import { chromiumPath, openReport } from './browser.js';
import { S, T0, gappyHost } from './stored-period.js';

const missing = existsSync(chromiumPath) ? null : `Chromium not found at ${chromiumPath} (set CHROMIUM_PATH)`;
if (missing && process.env.CI === 'true') throw new Error(`${missing}: CI must run the browser tests`);

describe('HTML report in a browser', { skip: missing ?? false }, () => {
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
});
