// Issue 11: the statement must mean what it says. Each verdict of the statement over a stored
// period, the headline's numbers, and confidence on both sides: a short doubtful blip is listed
// apart and leaves "ai-only"; doubtful time over the threshold is "cannot-say"; the same time at
// confidence over the threshold is "non-ai-found".
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildReport, type ReportOptions } from '../../collector/report/build.js';
import { renderHtml } from '../../collector/report/render-html.js';
import type { Report } from '../../collector/report/types.js';
import { verifyReport } from '../../collector/report/verify.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { generateAgentKeys } from '../../proto/chain.js';
import { tempDir } from '../helpers/env.js';
import { S, T0, commit, enroll, range, scriptedHost, verdict } from './stored-period.js';

const keys = generateAgentKeys();

describe('the statement: a verdict with its numbers', () => {
  const tmp = tempDir('assay-statement-');
  let store: SqliteStore;
  const report = async (hostIds: string[], seconds: number, thresholds?: ReportOptions['thresholds']): Promise<Report> => {
    const r = await buildReport(store, { hostIds, fromMs: T0, toMs: T0 + seconds * S, keys, ...(thresholds ? { thresholds } : {}) });
    assert.deepEqual(verifyReport(JSON.parse(JSON.stringify(r))).failures, [], 'every report here verifies');
    return r;
  };

  before(async () => {
    store = new SqliteStore(join(tmp.dir, 'assay.db'));
    await scriptedHost(store, 'trainer', 600, [[0, 'ai-training', 0.8]]);
    await scriptedHost(store, 'quiet', 600, [[0, 'idle', 0.8], [570, 'general', 0.8]]);
    await scriptedHost(store, 'miner', 600, [[0, 'pow-mining', 0.8]]);
    await scriptedHost(store, 'blip', 2000, [[0, 'ai-training', 0.8], [1000, 'storage-proving', 0.16], [1016, 'ai-training', 0.8]]);
    await scriptedHost(store, 'doubt', 2000, [[0, 'ai-training', 0.8], [1000, 'storage-proving', 0.16], [1200, 'ai-training', 0.8]]);
    const holey = await enroll(store, 'holey');
    await commit(store, holey, range(1, 500, (s) => T0 + (s - 1) * S));
    await store.putVerdict('holey', T0, verdict('ai-training', T0));
  });
  after(async () => {
    await store.close();
    tmp.cleanup();
  });

  it('ai-only: AI work present, no non-AI work, full coverage; the headline says the numbers', async () => {
    const r = await report(['trainer'], 600);
    assert.equal(r.statement.verdict, 'ai-only');
    assert.equal(r.statement.headline, 'AI-only: 100.0 % AI, 0.0 % non-AI, 0.0 % doubtful non-AI, 0.0 % idle/general, coverage 100.0 %');
    assert.match(r.statement.text, /^AI-only: .* \(host trainer, 2027-01-15T08:00:00\.000Z to 2027-01-15T08:10:00\.000Z\)$/);
    assert.deepEqual(r.statement.reasons, []);
  });

  it('a machine 95 % idle and 5 % general is "no non-AI work, but no AI work either", never AI-only', async () => {
    const r = await report(['quiet'], 600);
    assert.equal(r.statement.verdict, 'no-non-ai-no-ai');
    assert.equal(r.statement.headline, 'No non-AI work, but no AI work either: 0.0 % AI, 0.0 % non-AI, 0.0 % doubtful non-AI, 100.0 % idle/general, coverage 100.0 %');
    assert.deepEqual(r.hosts[0]!.derived.classes.map((c) => [c.class, c.timeShare]), [['idle', 0.95], ['general', 0.05]]);
    assert.ok(r.statement.reasons.some((x) => /no AI work in the covered time/.test(x)));
    const html = renderHtml(r);
    assert.match(html, /class="statement neutral" data-testid="statement" data-verdict="no-non-ai-no-ai"/);
    assert.doesNotMatch(html, /class="statement ok"/);
  });

  it('non-ai-found: confident non-AI work over the threshold', async () => {
    const r = await report(['miner'], 600);
    assert.equal(r.statement.verdict, 'non-ai-found');
    assert.equal(r.statement.headline, 'Non-AI work found: 0.0 % AI, 100.0 % non-AI, 0.0 % doubtful non-AI, 0.0 % idle/general, coverage 100.0 %');
  });

  it('insufficient-coverage: "not enough coverage to say", even for a host that only trained', async () => {
    const r = await report(['holey'], 600);
    assert.equal(r.statement.verdict, 'insufficient-coverage');
    assert.equal(r.statement.headline, 'Not enough coverage to say: 100.0 % AI, 0.0 % non-AI, 0.0 % doubtful non-AI, 0.0 % idle/general, coverage 83.3 %');
    assert.ok(r.statement.reasons.some((x) => /coverage 83\.33 % is below the 99\.00 % threshold/.test(x)));
  });

  it('a 16 s storage-proving blip at 16 % confidence during training is listed apart, with its evidence, and the answer stays ai-only', async () => {
    const r = await report(['blip'], 2000);
    const d = r.hosts[0]!.derived;
    assert.equal(r.statement.verdict, 'ai-only', r.statement.reasons.join('; '));
    assert.equal(d.nonAi.share, 0);
    assert.equal(d.nonAi.doubtfulShare, 16 / 2000);
    assert.equal(r.statement.headline, 'AI-only: 99.2 % AI, 0.0 % non-AI, 0.8 % doubtful non-AI, 0.0 % idle/general, coverage 100.0 %');
    assert.equal(d.nonAi.runs.length, 1);
    const run = d.nonAi.runs[0]!;
    assert.deepEqual([run.class, run.doubtful, run.fromMs - T0, run.toMs - T0, run.highestConfidence], ['storage-proving', true, 1_000_000, 1_016_000, 0.16]);
    assert.deepEqual(run.evidence.map((e) => e.detail), ['behaves like storage-proving']);
    assert.ok(r.statement.notes.some((n) => /1 doubtful non-AI stretch \(confidence below 30\.00 %, 0\.80 % of the covered time\) reported apart, within the thresholds; longest: storage-proving for 16 s/.test(n)), r.statement.notes.join('\n'));
    const html = renderHtml(r);
    assert.match(html, /Doubtful non-AI time \(confidence below 30 %\), reported apart<\/h3><table>.*storage-proving.*behaves like storage-proving/s);
    assert.match(html, /non-AI verdicts below 30 % confidence are doubtful/);
  });

  it('the same blip over a stricter share limit: cannot-say while doubtful, non-ai-found once confident', async () => {
    const strict = await report(['blip'], 2000, { maxNonAiShare: 0.005 });
    assert.equal(strict.statement.verdict, 'cannot-say');
    assert.ok(strict.statement.reasons.some((x) => /non-AI work held 0\.80 % of the covered time counting 0\.80 % at confidence below 30\.00 %/.test(x)), strict.statement.reasons.join('\n'));
    const trusting = await report(['blip'], 2000, { maxNonAiShare: 0.005, minConfidence: 0.1 });
    assert.equal(trusting.statement.verdict, 'non-ai-found');
    assert.equal(trusting.hosts[0]!.derived.nonAi.share, 16 / 2000);
    assert.equal(trusting.hosts[0]!.derived.nonAi.runs[0]!.doubtful, false);
    const trustingLax = await report(['blip'], 2000, { minConfidence: 0.1 });
    assert.equal(trustingLax.statement.verdict, 'ai-only', 'confident non-AI work within the thresholds');
    assert.equal(trustingLax.statement.headline, 'AI-only: 99.2 % AI, 0.8 % non-AI, 0.0 % doubtful non-AI, 0.0 % idle/general, coverage 100.0 %');
  });

  it('a large doubtful stretch is cannot-say, never ai-only; a doubtful stretch over the run limit too', async () => {
    const r = await report(['doubt'], 2000);
    assert.equal(r.statement.verdict, 'cannot-say');
    assert.match(r.statement.headline, /^Cannot say \(doubtful non-AI work above the threshold\): 90\.0 % AI, 0\.0 % non-AI, 10\.0 % doubtful non-AI, /);
    assert.ok(r.statement.reasons.some((x) => /counting 10\.00 % at confidence below 30\.00 %/.test(x)));
    assert.match(renderHtml(r), /class="statement unsure" data-testid="statement" data-verdict="cannot-say"/);
    const byRun = await report(['doubt'], 2000, { maxNonAiShare: 0.5, maxNonAiRunMs: 120_000 });
    assert.equal(byRun.statement.verdict, 'cannot-say');
    assert.ok(byRun.statement.reasons.some((x) => /non-AI verdicts held for 3\.3 min in one stretch, partly at confidence below 30\.00 %/.test(x)), byRun.statement.reasons.join('\n'));
    const confident = await report(['doubt'], 2000, { minConfidence: 0.1 });
    assert.equal(confident.statement.verdict, 'non-ai-found');
  });

  it('a group: ai-only when every host is ai-only or idle and one did AI work (named in the notes); the worst host decides otherwise', async () => {
    const g = await report(['trainer', 'quiet'], 600);
    assert.equal(g.statement.verdict, 'ai-only');
    assert.equal(g.statement.headline, 'AI-only: 50.0 % AI, 0.0 % non-AI, 0.0 % doubtful non-AI, 50.0 % idle/general, coverage 100.0 %');
    assert.ok(g.statement.notes.includes('quiet: no AI work in the period'));
    const bad = await report(['trainer', 'holey', 'miner'], 600);
    assert.equal(bad.statement.verdict, 'non-ai-found');
    assert.ok(bad.statement.reasons.some((x) => x.startsWith('holey: coverage')));
    const unsure = await report(['trainer', 'holey'], 600);
    assert.equal(unsure.statement.verdict, 'insufficient-coverage');
    assert.equal(unsure.statement.shares.coverage, 1100 / 1200);
  });

  it('a headline never rounds something to nothing, nor part to all', async () => {
    const { headlinePct } = await import('../../collector/report/statement.js');
    assert.equal(headlinePct(0), '0.0 %');
    assert.equal(headlinePct(0.0004), '< 0.1 %');
    assert.equal(headlinePct(0.9996), '> 99.9 %');
    assert.equal(headlinePct(1), '100.0 %');
    assert.equal(headlinePct(0.972), '97.2 %');
  });
});
