// A collector report without a rules hash (the rules were reloaded within its period) lists the
// versions its verdicts name. Found from outside: verify never compared the two, so a report
// re-signed with another key could say "rules 2026.12.2" over verdicts of other rules and still
// pass (with only the usual "not re-derived" warning). Now each verdict's version must be listed.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { signReport, signerOf } from '../../collector/report/sign.js';
import type { Report } from '../../collector/report/types.js';
import { verifyReport } from '../../collector/report/verify.js';
import { generateAgentKeys } from '../../proto/chain.js';
import { useGappyReport } from './stored-period.js';

const attacker = generateAgentKeys();
const resigned = (r: Report, mutate: (r: Report) => void): Report => {
  const t = JSON.parse(JSON.stringify(r)) as Report;
  mutate(t);
  const { signature: _s, ...unsigned } = t;
  return signReport({ ...unsigned, signer: signerOf(attacker, 'collector') }, attacker);
};

describe('the rules a collector report names without a hash', () => {
  const gappy = useGappyReport('assay-rules-claim-', generateAgentKeys());
  let report: Report;
  before(() => {
    report = gappy.current();
  });

  it('the premise: no hash, and the version its verdicts name', () => {
    assert.equal(report.rules.sha256, null);
    assert.ok(report.hosts[0]!.input.verdicts.every((v) => v.verdict.rulesVersion === report.rules.version));
    const r = verifyReport(JSON.parse(JSON.stringify(report)));
    assert.deepEqual(r.failures, []);
  });

  it('another version claimed over the same verdicts fails, even re-signed', () => {
    for (const claim of ['2026.12.2', `${report.rules.version}x`, '']) {
      const r = verifyReport(resigned(report, (t) => (t.rules.version = claim)));
      assert.equal(r.ok, false, `rules.version ${JSON.stringify(claim)} passed`);
      assert.ok(r.failures.some((f) => /verdict 1 at .* names rules test, but the report says its verdicts were made with rules/.test(f)), r.failures.join('\n'));
    }
  });

  it('a list of versions passes when it names every verdict\'s version', () => {
    const r = verifyReport(resigned(report, (t) => (t.rules.version = `2026.12.1, ${report.rules.version}`)));
    assert.deepEqual(r.failures, []);
  });
});
