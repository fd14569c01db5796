// Reports over a period older than the raw attestation window: the collector has pruned the raw
// signed batches, so the report carries its roll-ups for that span, says which figures rest on
// them, counts that time as not covered (cause raw_pruned), and `assay verify` prints a WARN for
// it (not a PASS line, not a failure). Real store file, real signed batches, real retention steps.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildReport } from '../../collector/report/build.js';
import { renderHtml } from '../../collector/report/render-html.js';
import { signReport, signerOf } from '../../collector/report/sign.js';
import type { Report } from '../../collector/report/types.js';
import { verifyReport } from '../../collector/report/verify.js';
import { verifyReportBytes } from '../../collector/report/verify-file.js';
import { retentionOptions } from '../../collector/store/retention.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { generateAgentKeys } from '../../proto/chain.js';
import { tempDir } from '../helpers/env.js';
import { runAssay } from '../helpers/proc.js';
import { commit, enroll, range, verdict } from './stored-period.js';

const H = 3_600_000;
const D = 24 * H;
const T0 = Math.floor(1_800_000_000_000 / D) * D;
const keys = generateAgentKeys();

describe('reports over a pruned period', () => {
  const tmp = tempDir('assay-retention-report-');
  let store: SqliteStore;
  let pruned: Report;
  let recent: Report;
  const period = { fromMs: T0, toMs: T0 + 2 * H };
  before(async () => {
    store = new SqliteStore(join(tmp.dir, 'assay.db'));
    store.db.pragma('synchronous = OFF');
    const a = await enroll(store, 'old-host', T0 - D);
    // Two hours at 1 Hz, then an hour more a day later.
    await commit(store, a, range(1, 7200, (seq) => T0 + (seq - 1) * 1000));
    await commit(store, a, range(7201, 10_800, (seq) => T0 + D + (seq - 7201) * 1000));
    await store.putVerdict('old-host', T0 + 60_000, verdict('ai-training', T0 + 60_000));
    // The raw window ends at T0 + 1 h: the first hour's signed batches go.
    const opts = retentionOptions({ rawMs: 35 * D, rollupMs: 400 * D, stepRows: 1000 });
    const now = T0 + H + opts.rawMs;
    for (let i = 0; i < 1000 && !(await store.retentionStep(opts, now)).done; i++);
    assert.equal((await store.retentionState('old-host')).rawPrunedMs, T0 + H);
    pruned = await buildReport(store, { hostIds: ['old-host'], ...period, keys, nowMs: now });
    recent = await buildReport(store, { hostIds: ['old-host'], fromMs: T0 + D, toMs: T0 + D + H, keys, nowMs: now });
  });
  after(async () => {
    await store.close();
    tmp.cleanup();
  });

  it('embeds the roll-ups of the pruned span and says its figures are not re-derivable', () => {
    const h = pruned.hosts[0]!;
    assert.equal(h.input.rollups?.rawPrunedMs, T0 + H);
    assert.equal(h.input.rollups?.resolution, '1m');
    assert.equal(h.input.rollups?.rows.length, 60);
    const r = h.derived.rollups!;
    assert.equal(r.rederivable, false);
    assert.equal(r.samples, 3600);
    assert.deepEqual([r.fromMs, r.toMs], [T0, T0 + H]);
    // The stored samples' CPU is 40 + seq % 10: averaged over the hour, 44.5.
    assert.ok(Math.abs(r.cpuPct! - 44.5) < 1e-9, String(r.cpuPct));
    assert.match(r.note, /not re-derivable from signed bytes/);
    // The signed samples still held (the second hour) are the only covered time.
    assert.equal(h.derived.samples, 3600);
    const gaps = h.derived.coverage.gaps;
    assert.ok(gaps.some((g) => g.cause === 'raw_pruned' && g.fromMs === T0 && g.toMs === T0 + H), JSON.stringify(gaps));
    assert.ok(!gaps.some((g) => g.cause === 'agent_down' && g.fromMs < T0 + H), 'pruned time is not passed off as the agent being down');
    assert.ok(h.derived.coverage.ratio <= 0.5 + 1e-9, 'pruned time is not covered');
    // A period inside the raw window has no roll-up section at all.
    assert.equal(recent.hosts[0]!.input.rollups, undefined);
    assert.equal(recent.hosts[0]!.derived.rollups, undefined);
  });

  it('verify passes the signed part and WARNs, not PASSes, for the roll-ups', () => {
    const v = verifyReport(pruned);
    assert.deepEqual(v.failures, []);
    assert.ok(v.warnings.some((w) => /rests on 60 1m roll-ups kept by the collector.*NOT re-derivable from signed bytes/.test(w)), v.warnings.join('\n'));
    assert.ok(!v.passed.some((p) => /roll-ups? (?!figures only)/.test(p)), v.passed.join('\n'));
    const plain = verifyReport(recent);
    assert.deepEqual(plain.failures, []);
    assert.ok(!plain.warnings.some((w) => /roll-up/.test(w)));
  });

  it('a changed roll-up figure fails, even re-signed, unless the derived figures are changed with it', () => {
    const t = JSON.parse(JSON.stringify(pruned)) as Report;
    t.hosts[0]!.input.rollups!.rows[0]!.cpuPct = 1;
    const { signature: _s, ...unsigned } = t;
    const resigned = signReport({ ...unsigned, signer: signerOf(keys, 'collector') }, keys);
    const v = verifyReport(resigned);
    assert.ok(v.failures.some((f) => /rollups\.cpuPct/.test(f)), v.failures.join('\n'));
    // A scan report may not carry roll-ups at all.
    const scan = JSON.parse(JSON.stringify(pruned)) as Report;
    scan.kind = 'scan';
    assert.ok(verifyReport(scan).failures.some((f) => /only a collector report may carry roll-ups/.test(f)));
  });

  it('the HTML page shows the roll-up section and verifies; `assay verify` prints the WARN', async () => {
    const html = renderHtml(pruned);
    assert.match(html, /data-testid="rollups"/);
    assert.match(html, /Not re-derivable: roll-ups only/);
    const fromHtml = verifyReportBytes(Buffer.from(html));
    assert.deepEqual(fromHtml.failures, []);
    const file = join(tmp.dir, 'pruned.html');
    writeFileSync(file, html);
    const out = await runAssay(['verify', file]);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /^ {2}WARN {2}old-host: .* rests on 60 1m roll-ups .*NOT re-derivable from signed bytes/m);
    assert.match(out.stdout, /^ {2}ok {4}old-host: every figure recomputed from 3600 signed samples .*roll-up figures only as sums over the embedded roll-ups: see WARN/m);
    // The headline does not say a bare PASS over figures the signatures cannot vouch for.
    const warns = out.stdout.split('\n').filter((l) => l.startsWith('  WARN  ')).length;
    assert.ok(warns >= 1);
    assert.match(out.stdout, new RegExp(`^PASS with ${warns} warnings?: `, 'm'));
    assert.doesNotMatch(out.stdout, /^PASS: /m);
    // --strict: an auditor who accepts only attested figures gets a failure.
    const strict = await runAssay(['verify', file, '--strict']);
    assert.equal(strict.code, 1, strict.stdout + strict.stderr);
    assert.match(strict.stdout, new RegExp(`^FAIL \\(--strict: ${warns} warnings?\\): `, 'm'));
    const strictJson = await runAssay(['verify', file, '--strict', '--json']);
    assert.equal(strictJson.code, 1);
    assert.equal((JSON.parse(strictJson.stdout) as { ok: boolean }).ok, false);
  });

});
