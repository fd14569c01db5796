// `assay verify`: a good report passes (JSON and HTML); every kind of tampering fails, whether
// the file is left with the collector's signature or re-signed with another key.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { assembleReport } from '../../collector/report/build.js';
import { brotliCompressSync, constants } from 'node:zlib';
import { packSamples } from '../../collector/report/framing.js';
import { frameSamples, payloadSampleBytes } from '../../proto/payload.js';
import { assay } from '../../proto/codec.js';
import { parseReportText } from '../../collector/report/load.js';
import { renderHtml } from '../../collector/report/render-html.js';
import { signReport, signerOf } from '../../collector/report/sign.js';
import type { Report } from '../../collector/report/types.js';
import { verifyReport } from '../../collector/report/verify.js';
import { generateAgentKeys } from '../../proto/chain.js';
import { S, T0, useGappyReport } from './stored-period.js';

const collectorKeys = generateAgentKeys();
const attackerKeys = generateAgentKeys();
const copy = (r: Report): Report => JSON.parse(JSON.stringify(r)) as Report;
/** How a batch's payload is encoded (its signed header says; the fixture seals with the agent's default). */
const headerEncoding = (b: { header: string }): number => assay.v1.BatchHeader.decode(Buffer.from(b.header, 'base64')).encoding ?? 0;

/** The report changed by `mutate`; re-signed by another key when `resign`. */
function tampered(r: Report, mutate: (r: Report) => void, resign: boolean): Report {
  const t = copy(r);
  mutate(t);
  if (!resign) return t;
  const { signature: _s, ...unsigned } = t;
  return signReport({ ...unsigned, signer: signerOf(attackerKeys, 'collector') }, attackerKeys);
}

const TAMPERING: Array<[string, (r: Report) => void, RegExp]> = [
  ['a coverage figure', (r) => (r.hosts[0]!.derived.coverage.ratio = 0.995), /coverage\.ratio/],
  ['an energy figure', (r) => (r.hosts[0]!.derived.energy.totalKwh! *= 0.5), /energy\.totalKwh/],
  ['a class share', (r) => (r.hosts[0]!.derived.classes[1]!.timeShare = 0), /classes/],
  ['a gap cause', (r) => (r.hosts[0]!.derived.coverage.gaps[0]!.cause = 'spool_thinned'), /gaps/],
  [
    'a payload byte',
    (r) => {
      const b = r.hosts[0]!.input.batches![4]!;
      const payload = Buffer.from(b.payload!, 'base64');
      payload[payload.length - 1]! ^= 1;
      b.payload = payload.toString('base64');
    },
    /payload does not match the signed digest/,
  ],
  [
    'a payload swapped for the same samples compressed anew',
    (r) => {
      const b = r.hosts[0]!.input.batches![4]!;
      // The same samples, other bytes: framed and compressed by brotli at another quality.
      const samples = payloadSampleBytes(headerEncoding(b), Buffer.from(b.payload!, 'base64'));
      b.payload = brotliCompressSync(frameSamples(samples), { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } }).toString('base64');
    },
    /payload does not match the signed digest/,
  ],
  [
    'a payload replaced by its samples',
    (r) => {
      const b = r.hosts[0]!.input.batches![4]!;
      b.samples = packSamples(payloadSampleBytes(headerEncoding(b), Buffer.from(b.payload!, 'base64')));
      delete b.payload;
    },
    /samples, but the signed header says encoding [1-9]/,
  ],
  ['a verdict class', (r) => (r.hosts[0]!.input.verdicts[1]!.verdict.class = 'ai-training'), /figure does not follow/],
  ['the statement', (r) => ((r.statement.verdict = 'ai-only'), (r.statement.reasons = [])), /statement does not follow/],
  ['the statement headline', (r) => (r.statement.headline = r.statement.headline.replace('Non-AI work found', 'AI-only')), /statement does not follow.*headline/],
  ['a host statement', (r) => (r.hosts[0]!.derived.statement.verdict = 'ai-only'), /statement\.verdict/],
  ['a statement share', (r) => (r.hosts[0]!.derived.statement.shares.nonAi = 0), /statement\.shares\.nonAi/],
  ['the doubtful share', (r) => (r.hosts[0]!.derived.nonAi.doubtfulShare = 0.5), /nonAi\.doubtfulShare/],
  ['a non-AI stretch marked doubtful', (r) => (r.hosts[0]!.derived.nonAi.runs[0]!.doubtful = true), /runs/],
  ['the confidence threshold', (r) => (r.thresholds.minConfidence = 0.95), /statement|nonAi/],
  ['the time before enrollment', (r) => (r.hosts[0]!.derived.coverage.beforeEnrollment = { fromMs: T0, toMs: T0 + 300 * S, durationMs: 300 * S }), /coverage\.beforeEnrollment/],
  ['a removed batch', (r) => r.hosts[0]!.input.batches!.splice(5, 1), /does not link/],
  ['reordered batches', (r) => r.hosts[0]!.input.batches!.reverse(), /does not link|go back/],
  ['a threshold', (r) => (r.thresholds.minCoverage = 0.5), /statement/],
];

describe('assay verify', () => {
  const gappy = useGappyReport('assay-verify-', collectorKeys);
  let report: Report;
  before(() => {
    report = gappy.current();
  });

  it('a good report passes, as JSON and as HTML, and names its signer', () => {
    const r = verifyReport(JSON.parse(JSON.stringify(report)));
    assert.deepEqual(r.failures, []);
    assert.ok(r.ok);
    assert.ok(r.passed.some((p) => /11 batches signed by agent key SHA256:/.test(p)));
    const fromHtml = verifyReport(parseReportText(renderHtml(report)), { expectKey: report.signer.fingerprint });
    assert.deepEqual(fromHtml.failures, []);
  });

  for (const [what, mutate, why] of TAMPERING) {
    it(`changing ${what} fails, signed or re-signed`, () => {
      const naive = verifyReport(tampered(report, mutate, false));
      assert.equal(naive.ok, false);
      assert.ok(naive.failures.some((f) => /report signature does not verify/.test(f)), naive.failures.join('\n'));
      const resigned = verifyReport(tampered(report, mutate, true));
      assert.equal(resigned.ok, false, `${what} re-signed passed`);
      assert.ok(!resigned.failures.some((f) => /report signature/.test(f)), 'the re-signed report carries a valid signature');
      assert.ok(resigned.failures.some((f) => why.test(f)), `${what}: ${resigned.failures.join('\n')}`);
    });
  }

  it('a report rebuilt from other data and re-signed verifies only against its own key, so --key catches it', () => {
    const t = copy(report);
    t.hosts[0]!.input.verdicts[1]!.verdict.class = 'ai-training';
    t.hosts[0]!.input.verdicts[1]!.verdict.parts = [];
    const forged = assembleReport('collector', [t.hosts[0]!.input], t.period, t.thresholds, t.rules, attackerKeys, t.generatedMs);
    assert.equal(verifyReport(forged).ok, true);
    const pinned = verifyReport(forged, { expectKey: report.signer.fingerprint });
    assert.equal(pinned.ok, false);
    assert.ok(pinned.failures.some((f) => /not by the expected key/.test(f)));
  });

  it('a forged agent signature fails even in a report re-signed by the collector', () => {
    const t = copy(report);
    t.hosts[0]!.input.batches![2]!.signature = Buffer.alloc(64, 7).toString('base64');
    const { signature: _s, ...unsigned } = t;
    const r = verifyReport(signReport(unsigned, collectorKeys));
    assert.equal(r.ok, false);
    assert.ok(r.failures.some((f) => /batch 3\/11: agent signature does not verify/.test(f)));
  });

  it('garbage is refused with a reason', () => {
    assert.equal(verifyReport({ hello: 1 }).ok, false);
    assert.throws(() => parseReportText('<html>nothing</html>'), /neither a JSON report/);
  });
});
