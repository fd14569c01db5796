// `assay scan` as a real process for a few seconds: its report verifies, and its HTML page
// draws its plots in headless Chromium (when Chromium is installed).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../helpers/env.js';
import { runAssay } from '../helpers/proc.js';
import { openReport } from './browser.js';

describe('assay scan', () => {
  const tmp = tempDir('assay-scan-');
  after(() => tmp.cleanup());

  it('scans for 5 s, prints the summary, and writes JSON and HTML reports that verify', async () => {
    const json = join(tmp.dir, 'scan.json');
    const html = join(tmp.dir, 'scan.html');
    const r = await runAssay(['scan', '--duration', '5s', '--json', json, '--html', html], {}, 90_000);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /scan 5\/5: cpu /); // plain progress lines when not a TTY
    for (const part of [/^Class: /m, /^Evidence:/m, /^Top processes/m, /^Listening ports: /m, /^Peers: /m, /^GPUs: /m, /^Power: /m, /^Could not be read:/m, /^(AI-only|No non-AI work, but no AI work either|Non-AI work found|Cannot say \(doubtful non-AI work above the threshold\)|Not enough coverage to say): ([<>] )?[0-9.]+ % AI, ([<>] )?[0-9.]+ % non-AI, ([<>] )?[0-9.]+ % doubtful non-AI, ([<>] )?[0-9.]+ % idle\/general(, ([<>] )?[0-9.]+ % without a verdict)?, coverage ([<>] )?[0-9.]+ %$/m, /report signed with scan key SHA256:/, /^Class: .*rules \d+\.\d+\.\d+, sha256 [0-9a-f]{16}…\)/m]) {
      assert.match(r.stdout, part);
    }
    const report = JSON.parse(readFileSync(json, 'utf8')) as { kind: string; hosts: Array<{ derived: { samples: number; coverage: { ratio: number } }; input: { batches?: unknown } }> };
    assert.equal(report.kind, 'scan');
    assert.equal(report.hosts[0]!.derived.samples, 5);
    assert.equal(report.hosts[0]!.input.batches, undefined);

    for (const f of [json, html]) {
      const v = await runAssay(['verify', f]);
      assert.equal(v.code, 0, v.stdout);
      assert.match(v.stdout, /^PASS: /);
      assert.doesNotMatch(v.stdout, /WARN/);
      assert.match(v.stdout, /scan signature by SHA256:/);
      // Nothing rests on unattested figures: --strict passes as well.
      assert.equal((await runAssay(['verify', f, '--strict'])).code, 0);
      assert.match(v.stdout, /ok {4}scan:\S+: all \d+ verdicts re-derived from the 5 samples with the embedded rules /);
      assert.match(v.stdout, /ok {4}statement follows from the data: [A-Z][^:]*: [<>0-9.]/);
      assert.match(v.stdout, /^statement: .* % AI, .*coverage .* \(host scan:/m);
    }
    report.hosts[0]!.derived.samples = 6;
    writeFileSync(json, JSON.stringify(report));
    assert.equal((await runAssay(['verify', json])).code, 1);

    const shown = await openReport(html, '/tmp/assay-scan.png');
    assert.deepEqual(shown.errors, []);
    assert.ok(shown.drawn.cpu, 'the scan report draws its CPU plot');
  });
});

describe('commands that write a file check its path before they start', () => {
  // A typo must cost nothing: scan would otherwise sample for its whole duration, record would
  // record, report would read the period, and only then fail to write.
  it('scan, record and report refuse a folder that does not exist, at once, naming the file', async () => {
    const t0 = Date.now();
    const scan = await runAssay(['scan', '--duration', '60s', '--json', '/nonexistent-assay/x.json'], {}, 30_000);
    assert.equal(scan.code, 1, scan.stderr + scan.stdout);
    assert.match(scan.stderr, /^assay: report file \/nonexistent-assay\/x\.json: folder \/nonexistent-assay does not exist/m);
    assert.doesNotMatch(scan.stderr, /scan 1\//, 'no sampling happened');
    const rec = await runAssay(['record', '--label', 'general', '--duration', '60s', '--out', '/nonexistent-assay/t.ndjson'], {}, 30_000);
    assert.equal(rec.code, 1, rec.stderr);
    assert.match(rec.stderr, /^assay: trace file \/nonexistent-assay\/t\.ndjson: folder \/nonexistent-assay does not exist/m);
    assert.ok(Date.now() - t0 < 25_000, 'refused before sampling for 60 s');
  });

  it('an existing folder in the way of the file is refused too', async () => {
    const tmp = tempDir('assay-outpath-');
    try {
      const r = await runAssay(['scan', '--duration', '60s', '--html', tmp.dir], {}, 30_000);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /exists and is not a regular file/);
    } finally {
      tmp.cleanup();
    }
  });
});
