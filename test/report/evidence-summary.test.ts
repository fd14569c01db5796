// The report and the dashboard say the same about the same verdict: one stored engine verdict
// (a miner beside a training job, replayed from the recorded corpus), the signed report's HTML
// and the dashboard's host page both rendered in Chromium, and their summaries compared as text;
// the report's rows are grouped by process, ordered by contribution, carry units and name the
// rows that were outweighed.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { defaultClassifierOptions } from '../../collector/classifier.js';
import { CLASS_LOOKS } from '../../collector/classes.js';
import { loadRulesFile, defaultRulesPath } from '../../collector/engine/rules/load.js';
import { viewEvidence } from '../../collector/evidence-text.js';
import { replay } from '../../collector/replay.js';
import { buildReport } from '../../collector/report/build.js';
import { renderHtml } from '../../collector/report/render-html.js';
import { startCollector } from '../../collector/server.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { generateAgentKeys } from '../../proto/chain.js';
import { readTrace } from '../../proto/trace.js';
import { repoRoot, tempDir, waitFor } from '../helpers/env.js';
import { launchChromium } from '../helpers/browser.js';
import { S, T0, commit, enroll, range } from './stored-period.js';


const LABELS: Record<string, string> = Object.fromEntries(Object.entries(CLASS_LOOKS).map(([k, v]) => [k, v.label]));

describe('evidence summary: report and dashboard agree', () => {
  const tmp = tempDir('assay-evidence-summary-');
  after(() => tmp.cleanup());

  it('the same stored verdict reads the same in the HTML report and on the host page', async () => {
    const trace = await readTrace(join(repoRoot, 'test', 'corpus', 'evasion-miner-beside-training.trace.ndjson'));
    const verdict = replay(trace.samples, loadRulesFile(defaultRulesPath), defaultClassifierOptions, trace.header.inventory ?? null).at(-1)!.verdict;
    assert.equal(verdict.class, 'mixed');
    const expected = viewEvidence(verdict, LABELS);
    assert.match(expected.summary, /monerod \(pid \d+\) holds \d+ % of the busy CPU\/GPU, PoW mining: a 2\.3 GiB working set/);

    const dbPath = join(tmp.dir, 'assay.db');
    const store = new SqliteStore(dbPath);
    const a = await enroll(store, 'mixed-host');
    await commit(store, a, range(1, 120, (s) => T0 + (s - 1) * S));
    await store.putVerdict(a.id, T0, verdict);
    const report = await buildReport(store, { hostIds: [a.id], fromMs: T0, toMs: T0 + 120 * S, keys: generateAgentKeys() });
    await store.close();
    const html = renderHtml(report);

    // The report's rows: groups in the formatter's order, rows by |weight|, values with units.
    const groups = [...html.matchAll(/<tr class="group">([\s\S]*?)(?=<tr class="group">|<\/tbody>)/g)].map((m) =>
      [...m[1]!.matchAll(/<tr class="(\w+)" data-role="\w+"><td>.*?<span class="sig muted">([^<]*)<\/span><\/td><td class="num">([^<]*)<\/td>.*?<td class="num">([^<]*)<\/td><td>(.*?)<\/td><\/tr>/g)].map((r) => ({
        role: r[1]!,
        signal: r[2]!,
        value: r[3]!,
        weight: Number(r[4]!.replace('−', '-')),
        detail: r[5]!,
      })),
    );
    assert.equal(groups.length, expected.groups.length, 'one row group per process, and one for the host');
    for (const [i, g] of groups.entries()) {
      assert.deepEqual(
        g.map((r) => [r.signal, r.weight]),
        expected.groups[i]!.rows.map((r) => [r.signal, r.weight]),
        `group ${i} in the formatter's order`,
      );
      for (let j = 1; j < g.length; j++) assert.ok(Math.abs(g[j - 1]!.weight) >= Math.abs(g[j]!.weight));
    }
    const rows = groups.flat();
    const hashMemory = rows.find((r) => r.signal === 'beh.hash-memory');
    assert.match(hashMemory?.value ?? '', /^2\.3 GiB$/, 'bytes read as GiB');
    const flat = rows.find((r) => r.signal === 'beh.cpu-flat');
    assert.ok(flat, 'the flat-CPU row is there');
    const outweighed = rows.filter((r) => r.role === 'outweighed');
    assert.ok(outweighed.length > 0, 'some rows lost');
    for (const r of outweighed) assert.match(r.detail, /<em class="note">outweighed (by|on this host by) /);

    // Both pages, as people see them: the same sentence.
    const file = join(tmp.dir, 'report.html');
    writeFileSync(file, html);
    const collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      await page.goto(`file://${file}`);
      const inReport = (await page.locator('[data-testid="evidence-summary"]').first().textContent())!;
      await page.screenshot({ path: join(tmp.dir, 'report.png') });
      await page.goto(`${collector.url}/#/hosts/${a.id}`);
      const onPage = await waitFor(() => page.locator('[data-testid="evidence-summary"]').textContent(), 15_000, 'the host page summary');
      assert.equal(inReport, expected.summary);
      assert.equal(onPage, inReport, 'the dashboard and the report say the same');
    } finally {
      await browser.close();
      await collector.close();
    }
  });
});
