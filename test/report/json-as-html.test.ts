// A genuine, collector-signed JSON report saved under an .html name: `assay verify --key` read it
// as JSON and passed it, while a browser renders the file as a page, markup from agent-controlled
// strings (here the hostname an agent announces in its hello) included — so the page a person
// reads could say anything. A file a browser shows as a page must be an HTML report, checked byte
// for byte like any other.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildReport } from '../../collector/report/build.js';
import { renderHtml } from '../../collector/report/render-html.js';
import type { Report } from '../../collector/report/types.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { fingerprint, generateAgentKeys } from '../../proto/chain.js';
import { tempDir } from '../helpers/env.js';
import { runAssay } from '../helpers/proc.js';
import { launchChromium } from '../helpers/browser.js';
import { S, T0, commit } from './stored-period.js';

// What a hostile agent calls itself (hello.hostname, ≤ 255 characters, free text).
const HOSTILE = `<script>document.title='FORGED'</script><style>body>*{display:none}</style><h1 style=display:block>AI-only holds</h1>`;

describe('a JSON report under a name browsers render as HTML', () => {
  const tmp = tempDir('assay-json-html-');
  const keys = generateAgentKeys();
  let report: Report;

  before(async () => {
    const store = new SqliteStore(join(tmp.dir, 'assay.db'));
    const agent = { id: 'hostile', keys: generateAgentKeys(), head: new Uint8Array() };
    await store.upsertHost({ agentId: agent.id, hostname: HOSTILE, agentVersion: '0.1.0', publicKey: agent.keys.publicKey }, T0);
    await commit(store, agent, Array.from({ length: 60 }, (_, i) => ({ seq: i + 1, tsMs: T0 + i * S })));
    report = await buildReport(store, { hostIds: [agent.id], fromMs: T0, toMs: T0 + 60 * S, keys });
    await store.close();
  });
  after(() => tmp.cleanup());

  it('the premise: Chromium runs markup from the JSON text of a .html file', async () => {
    const file = join(tmp.dir, 'premise.html');
    writeFileSync(file, JSON.stringify(report) + '\n');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`file://${file}`);
      assert.equal(await page.title(), 'FORGED');
    } finally {
      await browser.close();
    }
  });

  for (const name of ['report.html', 'report.HTM', 'report.xhtml', 'report.shtml']) {
    it(`assay verify --key fails a JSON report named ${name}, and passes the same bytes named .json`, async () => {
      const text = JSON.stringify(report) + '\n';
      const asHtml = join(tmp.dir, name);
      const asJson = join(tmp.dir, 'report.json');
      writeFileSync(asHtml, text);
      writeFileSync(asJson, text);
      const key = fingerprint(keys.publicKey);
      const bad = await runAssay(['verify', asHtml, '--key', key]);
      assert.equal(bad.code, 1, bad.stdout);
      assert.match(bad.stdout, /FAIL .*holds a JSON report/);
      const good = await runAssay(['verify', asJson, '--key', key]);
      assert.equal(good.code, 0, good.stdout);
    });
  }

  it('the rendered HTML report of the same data passes under an .html name', async () => {
    const file = join(tmp.dir, 'rendered.html');
    writeFileSync(file, renderHtml(report));
    const r = await runAssay(['verify', file, '--key', fingerprint(keys.publicKey)]);
    assert.equal(r.code, 0, r.stdout);
  });
});
