// Scoring (bench/eval-score.ts): first correct vs correct for good, benign alarms at any time
// (AI labels are benign too), and which evasions count (real traces only).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TraceTruth } from '../../bench/eval-classify.js';
import { countsAsEvasion, scoreTrace } from '../../bench/eval-score.js';
import type { ReplayStep } from '../../collector/replay.js';

const truth = (over: Partial<TraceTruth>): TraceTruth => ({ file: 'f', label: 'pow-mining', expectParts: undefined, provenance: 'real', evasion: null, description: '', ...over });
const steps = (classes: string[]): ReplayStep[] =>
  classes.map((c, i) => {
    const verdict = { class: c, confidence: 0.5, parts: [], evidence: [], window: { samples: 5 * (i + 1) } } as unknown as ReplayStep['verdict'];
    return { tsMs: 1000 + i * 5000, verdict, raw: verdict, changed: false };
  });

describe('eval: scoring', () => {
  it('separates the first correct verdict from the moment it stays correct', () => {
    const s = scoreTrace(truth({}), 1000, steps(['general', 'pow-mining', 'general', 'pow-mining', 'pow-mining']));
    assert.equal(s.firstCorrectSec, 5);
    assert.equal(s.timeToCorrectSec, 15);
    assert.equal(s.stayedCorrect, false);
    assert.equal(s.finalCorrect, true);
    const never = scoreTrace(truth({}), 1000, steps(['general', 'general']));
    assert.deepEqual([never.firstCorrectSec, never.timeToCorrectSec, never.stayedCorrect, never.finalCorrect], [null, null, false, false]);
  });

  it('records every alarm class a benign trace was ever published as, AI labels included', () => {
    const s = scoreTrace(truth({ label: 'ai-training' }), 1000, steps(['chain-validation', 'pow-mining', 'ai-training']));
    assert.deepEqual(s.alarms, ['chain-validation', 'pow-mining']);
    assert.equal(s.finalCorrect, true);
    assert.deepEqual(scoreTrace(truth({ label: 'pow-mining' }), 1000, steps(['pow-mining'])).alarms, []);
  });

  it('counts evasions on real traces only', () => {
    assert.equal(countsAsEvasion({ evasion: 'renamed-python3', provenance: 'real' }), true);
    assert.equal(countsAsEvasion({ evasion: 'renamed-python3', provenance: 'real-gpu' }), true);
    assert.equal(countsAsEvasion({ evasion: 'renamed-python3', provenance: 'synthetic' }), false);
    assert.equal(countsAsEvasion({ evasion: 'x', provenance: 'emulated' }), false);
    assert.equal(countsAsEvasion({ evasion: null, provenance: 'real' }), false);
  });
});
