// Issue 9, findings 2–4: forgeries that `assay verify` used to pass. Every report here is built
// and verified by the same code in the same run, so the verdicts are whatever the engine gives
// today; the tests only ever switch them to something else.
//   2. a hand-edited HTML report (markup changed; or the genuine JSON hidden in a comment and a
//      forged block after it) must fail: the page must be exactly the rendering of its one report;
//   3. a scan report whose verdicts were switched, figures re-derived and re-signed must fail:
//      verify re-runs the engine over the samples at the rules the report carries;
//   4. a chain re-signed with a new agent key, with the genuine fingerprint left in place, must
//      fail: fingerprints are computed from the key, never read from the file.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { scanReport } from '../../agent/scan/scan.js';
import { defaultRulesPath, loadRulesFile, type Rules } from '../../collector/engine/index.js';
import { assembleReport, buildReport } from '../../collector/report/build.js';
import { EMBED_ID, embedJson, parseReportText } from '../../collector/report/load.js';
import { renderHtml } from '../../collector/report/render-html.js';
import { embeddedRules } from '../../collector/report/rules-id.js';
import { signReport, signerOf } from '../../collector/report/sign.js';
import type { Report } from '../../collector/report/types.js';
import { verifyReportBytes } from '../../collector/report/verify-file.js';
import { verifyReport } from '../../collector/report/verify.js';
import { fingerprint, generateAgentKeys, signBytes } from '../../proto/chain.js';
import { encodeSample } from '../../proto/codec.js';
import { readTrace } from '../../proto/trace.js';
import { repoRoot } from '../helpers/env.js';
import { S, T0, useGappyReport } from './stored-period.js';

const collectorKeys = generateAgentKeys();
const copy = (r: Report): Report => JSON.parse(JSON.stringify(r)) as Report;
const resign = (r: Report, keys = generateAgentKeys()): Report => {
  const { signature: _s, ...unsigned } = r;
  return signReport({ ...unsigned, signer: signerOf(keys, r.kind) }, keys);
};
const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
const OPEN = `<script type="application/json" id="${EMBED_ID}">`;

describe('issue 9: forged reports fail verify', () => {
  const gappy = useGappyReport('assay-forgery-', collectorKeys);
  let report: Report;
  before(() => {
    report = gappy.current();
  });

  describe('HTML reports (finding 2)', () => {
    it('the renderer is deterministic: the same report in any key order gives the same bytes', () => {
      const html = renderHtml(report);
      const reversed = JSON.parse(JSON.stringify(report), function (this: unknown, _k, v: unknown) {
        return v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v;
      }) as Report;
      assert.notEqual(JSON.stringify(reversed), JSON.stringify(report));
      assert.equal(renderHtml(reversed), html);
      assert.equal(renderHtml(JSON.parse(JSON.stringify(report)) as Report), html);
    });

    it('(c) the untouched HTML passes, byte for byte', () => {
      const r = verifyReportBytes(bytes(renderHtml(report)), { expectKey: report.signer.fingerprint });
      assert.deepEqual(r.failures, []);
      assert.ok(r.ok);
      assert.ok(r.passed.some((p) => /byte for byte what the renderer makes/.test(p)), r.passed.join('\n'));
    });

    it('(a) only the visible markup changed to "AI-only holds" / "Coverage 100 %" fails', () => {
      const html = renderHtml(report);
      assert.equal(report.statement.verdict, 'non-ai-found');
      const cut = html.indexOf(OPEN);
      const markup = html
        .slice(0, cut)
        .replaceAll(report.statement.headline, 'AI-only: 100.0 % AI')
        .replace(/class="statement bad"/, 'class="statement ok"')
        .replace(/Coverage: [0-9.]+ %/, 'Coverage: 100.00 %');
      assert.notEqual(markup, html.slice(0, cut));
      const forged = markup + html.slice(cut);
      // The embedded JSON is untouched, so checking it alone passes: that was the hole.
      assert.ok(verifyReport(parseReportText(forged)).ok);
      const r = verifyReportBytes(bytes(forged), { expectKey: report.signer.fingerprint });
      assert.equal(r.ok, false);
      assert.ok(r.failures.some((f) => /not what the renderer makes of its embedded report.*byte \d+/.test(f)), r.failures.join('\n'));
    });

    it('(b) the genuine JSON kept in an HTML comment and a forged block after it fails', () => {
      const forgedReport = copy(report);
      forgedReport.hosts[0]!.derived.statement.verdict = 'ai-only';
      forgedReport.statement = { ...forgedReport.statement, verdict: 'ai-only', headline: 'AI-only', text: 'AI-only', reasons: [] };
      const page = renderHtml(resign(forgedReport));
      const cut = page.indexOf(OPEN);
      const genuine = `<!-- ${OPEN}${embedJson(report)}</script> -->\n`;
      for (const forged of [page.slice(0, cut) + genuine + page.slice(cut), page.replace('<body>', `<body>${genuine}`)]) {
        const r = verifyReportBytes(bytes(forged), { expectKey: report.signer.fingerprint });
        assert.equal(r.ok, false);
        assert.ok(r.failures.some((f) => /2 embedded report blocks/.test(f)), r.failures.join('\n'));
      }
      // One block only, but a comment added anywhere: not the renderer's page either.
      const commented = renderHtml(report).replace('<main>', '<main><!-- reviewed: all fine -->');
      const r = verifyReportBytes(bytes(commented));
      assert.equal(r.ok, false);
      assert.ok(r.failures.some((f) => /not what the renderer makes/.test(f)));
    });
  });

  describe('agent fingerprints (finding 4)', () => {
    it('a chain re-signed with a new agent key, the genuine fingerprint left in place, fails and the stored fingerprint is never printed as checked', () => {
      const genuineFp = report.hosts[0]!.input.identity.fingerprint!;
      assert.equal(genuineFp, fingerprint(Buffer.from(report.hosts[0]!.input.identity.publicKey!, 'hex')));
      const thief = generateAgentKeys();
      const t = copy(report);
      const input = t.hosts[0]!.input;
      input.identity.publicKey = thief.publicKey.toString('hex');
      for (const b of input.batches!) b.signature = signBytes(thief, Buffer.from(b.header, 'base64')).toString('base64');
      for (const forged of [resign(t, collectorKeys), resign(t)]) {
        const r = verifyReport(forged);
        assert.equal(r.ok, false);
        assert.ok(r.failures.some((f) => f.includes(`identity.fingerprint "${genuineFp}" is not the fingerprint of the embedded agent key (${fingerprint(thief.publicKey)})`)), r.failures.join('\n'));
        assert.ok(!r.passed.some((p) => p.includes(genuineFp)), r.passed.join('\n'));
      }
      // With the fingerprint updated too, the chain verifies, and what verify prints is the new key's.
      input.identity.fingerprint = fingerprint(thief.publicKey);
      const honest = verifyReport(resign(t, collectorKeys));
      assert.deepEqual(honest.failures, []);
      assert.ok(honest.passed.some((p) => p.includes(`signed by agent key ${fingerprint(thief.publicKey)}`)));
    });

    it('the signer fingerprint printed is computed from the signer key', () => {
      const t = copy(report);
      t.signer.fingerprint = fingerprint(generateAgentKeys().publicKey);
      const r = verifyReport(t);
      assert.equal(r.ok, false);
      assert.equal(r.signer, fingerprint(collectorKeys.publicKey));
      assert.ok(r.failures.some((f) => /signer\.fingerprint .* is not the fingerprint of the signer key/.test(f)));
    });
  });

  describe('collector reports name their rules (finding 3)', () => {
    it('a genuine report says plainly that its verdicts were not re-derived, and why', () => {
      const r = verifyReport(copy(report));
      assert.deepEqual(r.failures, []);
      assert.ok(r.warnings.some((w) => /gappy: verdicts not re-derived: the rules that made them \(version test\) are not identified by a hash/.test(w)), r.warnings.join('\n'));
    });

    it('with known rules, the hash is stated; unknown rules are named; a verdict naming other rules fails', async () => {
      const bundled = loadRulesFile(defaultRulesPath);
      const testRules: Rules = { ...bundled, version: 'test' };
      const named = await buildReport(gappy.store(), { hostIds: ['gappy'], fromMs: T0, toMs: T0 + 600 * S, keys: collectorKeys, rules: testRules });
      assert.match(named.rules.sha256 ?? '', /^[0-9a-f]{64}$/);
      const r = verifyReport(copy(named));
      assert.deepEqual(r.failures, []);
      assert.ok(r.warnings.some((w) => w.includes(`verdicts not re-derived: rules ${named.rules.sha256} not available`)), r.warnings.join('\n'));
      const t = copy(named);
      t.hosts[0]!.input.verdicts[1]!.verdict.rulesVersion = 'other';
      const bad = verifyReport(resign(t, collectorKeys));
      assert.equal(bad.ok, false);
      assert.ok(bad.failures.some((f) => /verdict 2 at .* names rules other, but the report says its verdicts were made with rules test/.test(f)), bad.failures.join('\n'));
    });
  });
});

describe('scan reports: verdicts re-derived from the samples (finding 3)', () => {
  let scan: Report;
  let rules: Rules;
  let traceBytes: Uint8Array[];
  let inventory: Awaited<ReturnType<typeof readTrace>>['header']['inventory'];

  before(async () => {
    const trace = await readTrace(join(repoRoot, 'test', 'corpus', 'ai-training-pytorch-cpu.trace.ndjson'));
    rules = loadRulesFile(defaultRulesPath);
    traceBytes = trace.samples.map((s) => encodeSample(s));
    inventory = trace.header.inventory;
    scan = scanReport(traceBytes, inventory ?? null, rules, { thresholds: undefined, keys: generateAgentKeys(), intervalMs: trace.header.intervalMs, nowMs: T0, host: 'scanned' });
  });

  it('a genuine scan passes: every verdict re-derived with the rules it carries', () => {
    const r = verifyReport(copy(scan));
    assert.deepEqual(r.failures, []);
    assert.ok(r.passed.some((p) => new RegExp(`all ${scan.hosts[0]!.input.verdicts.length} verdicts re-derived from the 120 samples with the embedded rules ${rules.version}`).test(p)), r.passed.join('\n'));
    assert.deepEqual(r.warnings, []);
    assert.equal(scan.rules.version, rules.version);
    assert.ok(scan.hosts[0]!.input.verdicts.length > 3);
  });

  it('every verdict switched to pow-mining, figures re-derived, re-signed with a fresh scan key, fails naming the first', () => {
    const t = copy(scan);
    const verdicts = t.hosts[0]!.input.verdicts;
    const first = verdicts.findIndex((v) => v.verdict.class !== 'pow-mining');
    assert.ok(first >= 0, 'the engine called the training trace something other than pow-mining at least once');
    for (const v of verdicts) v.verdict.class = 'pow-mining';
    const forged = assembleReport('scan', [t.hosts[0]!.input], t.period, t.thresholds, t.rules, generateAgentKeys(), t.generatedMs);
    assert.notDeepEqual(forged.hosts[0]!.derived.classes, scan.hosts[0]!.derived.classes);
    const r = verifyReport(forged);
    assert.equal(r.ok, false);
    assert.deepEqual(r.failures.filter((f) => !/verdicts do not follow/.test(f)), [], 'signature and figures hold: only the verdict check catches it');
    const want = `verdict ${first + 1}/${verdicts.length} at ${new Date(verdicts[first]!.tsMs).toISOString().replace('.000Z', 'Z')}: report says pow-mining, engine gives ${scan.hosts[0]!.input.verdicts[first]!.verdict.class}`;
    assert.ok(r.failures.some((f) => f.includes(want)), `${want}\n${r.failures.join('\n')}`);
  });

  it('a dropped or added verdict, rules that do not match their hash, or no rules at all fail', () => {
    const dropped = copy(scan);
    dropped.hosts[0]!.input.verdicts.pop();
    const r1 = verifyReport(resign(dropped));
    assert.ok(r1.failures.some((f) => /the report holds \d+ verdicts, the engine gives \d+/.test(f)), r1.failures.join('\n'));

    const otherRules = copy(scan);
    otherRules.rules.data = embeddedRules({ ...rules, stability: { ...rules.stability, confirmMs: rules.stability.confirmMs + 1000 } }).data!;
    const r2 = verifyReport(resign(otherRules));
    assert.ok(r2.failures.some((f) => /verdicts cannot be re-derived: the embedded rules hash to [0-9a-f]{64}, not to the stated/.test(f)), r2.failures.join('\n'));

    const none = copy(scan);
    delete none.rules.data;
    const r3 = verifyReport(resign(none));
    assert.ok(r3.failures.some((f) => /verdicts cannot be re-derived: the report does not carry its rules/.test(f)), r3.failures.join('\n'));
  });

  it('a scan made with other rules verifies against those rules, and verify says they are not this build\'s', () => {
    const other: Rules = { ...rules, version: '2099.1.1' };
    const made = scanReport(traceBytes, inventory ?? null, other, { thresholds: undefined, keys: generateAgentKeys(), intervalMs: 1000, nowMs: T0, host: 'scanned' });
    const r = verifyReport(made);
    assert.deepEqual(r.failures, []);
    assert.ok(r.warnings.some((w) => /the scan used rules 2099.1.1 .*not this build's rules/.test(w)), r.warnings.join('\n'));
  });
});
