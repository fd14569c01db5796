// Issue 11: time before an agent's enrollment is "before enrollment", not an agent_down gap, and
// does not count against coverage; but only where the report's chain segment starts at the
// agent's chain start, so a collector cannot pass an outage off as "before enrollment".
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildReport } from '../../collector/report/build.js';
import { deriveHost } from '../../collector/report/derive.js';
import { renderHtml } from '../../collector/report/render-html.js';
import type { Report } from '../../collector/report/types.js';
import { verifyReport } from '../../collector/report/verify.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { generateAgentKeys } from '../../proto/chain.js';
import { tempDir } from '../helpers/env.js';
import { S, T0, lateHost } from './stored-period.js';

const keys = generateAgentKeys();
const copy = (r: Report): Report => JSON.parse(JSON.stringify(r)) as Report;

describe('a stored period that starts before the agent was enrolled', () => {
  const tmp = tempDir('assay-enrollment-');
  let store: SqliteStore;
  let late: Report;

  before(async () => {
    store = new SqliteStore(join(tmp.dir, 'assay.db'));
    await lateHost(store, 'late', 300, 300); // enrolled and sampling from T0 + 300 s
    await lateHost(store, 'slow', 200, 300); // enrolled at T0 + 200 s, first sample at T0 + 300 s
    late = await buildReport(store, { hostIds: ['late'], fromMs: T0, toMs: T0 + 600 * S, keys });
  });
  after(async () => {
    await store.close();
    tmp.cleanup();
  });

  it('the 5 min before enrollment are neither covered nor a gap: coverage 100 % of the 5 min since', () => {
    const c = late.hosts[0]!.derived.coverage;
    assert.deepEqual(c.beforeEnrollment, { fromMs: T0, toMs: T0 + 300 * S, durationMs: 300 * S });
    assert.deepEqual(c.gaps, []);
    assert.equal(c.periodMs, 300 * S);
    assert.equal(c.ratio, 1);
    assert.equal(late.statement.verdict, 'ai-only', late.statement.reasons.join('; '));
    assert.match(late.statement.headline, /coverage 100\.0 %$/);
    assert.ok(late.statement.notes.some((n) => n === "late: the 5.0 min before the agent's enrollment (until 2027-01-15T08:05:00.000Z) are not counted"), late.statement.notes.join('\n'));
    assert.deepEqual(verifyReport(copy(late)).failures, []);
  });

  it('the report says so: coverage heading, a "before enrollment" note, and a hatched segment with its legend', () => {
    const html = renderHtml(late);
    assert.match(html, /<h3>Coverage: 100\.00 % of 5\.0 min since the agent's enrollment \(300 samples\)<\/h3>/);
    assert.match(html, /data-testid="before-enrollment">Before enrollment: 2027-01-15T08:00:00Z to 2027-01-15T08:05:00Z \(5\.0 min\)/);
    assert.match(html, /<p class="muted">No gaps\.<\/p>/);
    assert.match(html, /<div data-seg="before-enrollment" title="before enrollment [^"]*" style="width:50\.000%;background:repeating-linear-gradient/);
    assert.match(html, /<span data-legend="before-enrollment">.*before enrollment<\/span><span data-legend="ai-training">/);
  });

  it('between enrollment and the first sample the agent was down: that is a gap, from the enrollment', async () => {
    const r = await buildReport(store, { hostIds: ['slow'], fromMs: T0, toMs: T0 + 600 * S, keys });
    const c = r.hosts[0]!.derived.coverage;
    assert.deepEqual(c.beforeEnrollment, { fromMs: T0, toMs: T0 + 200 * S, durationMs: 200 * S });
    assert.deepEqual(c.gaps.map((g) => [g.cause, g.fromMs - T0, g.toMs - T0, g.detail]), [['agent_down', 200 * S, 300 * S, "no samples from the agent's enrollment"]]);
    assert.equal(c.ratio, 300 / 400);
    assert.equal(r.statement.verdict, 'insufficient-coverage');
  });

  it('no "before enrollment" where the chain segment does not start at the chain start, whatever enrolledMs says', async () => {
    const mid = await buildReport(store, { hostIds: ['late'], fromMs: T0 + 450 * S, toMs: T0 + 600 * S, keys });
    const h = mid.hosts[0]!;
    assert.notEqual(h.derived.chain!.startsAfter, '');
    assert.equal(h.derived.coverage.beforeEnrollment, null);
    // A collector claiming a later enrollment changes nothing here ...
    const claimed = { ...h.input, enrolledMs: T0 + 500 * S };
    assert.deepEqual(deriveHost(claimed, mid.period, mid.thresholds), h.derived);
    // ... nor where the chain starts in the report: monitoring began with the first sample at the latest.
    const whole = late.hosts[0]!;
    assert.deepEqual(deriveHost({ ...whole.input, enrolledMs: T0 + 500 * S }, late.period, late.thresholds).coverage, whole.derived.coverage);
    // An earlier claim only counts against the collector's own coverage.
    const earlier = deriveHost({ ...whole.input, enrolledMs: T0 + 100 * S }, late.period, late.thresholds).coverage;
    assert.equal(earlier.beforeEnrollment!.toMs, T0 + 100 * S);
    assert.equal(earlier.ratio, 300 / 500);
  });

  it('a forged "before enrollment" figure fails verify', () => {
    const t = copy(late);
    t.hosts[0]!.derived.coverage.beforeEnrollment = { fromMs: T0, toMs: T0 + 400 * S, durationMs: 400 * S };
    const r = verifyReport(t);
    assert.equal(r.ok, false);
    assert.ok(r.failures.some((f) => /coverage\.beforeEnrollment/.test(f)), r.failures.join('\n'));
  });
});
