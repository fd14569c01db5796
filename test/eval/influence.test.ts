// test/corpus/influence.yaml (which rules keys each corpus trace influenced): the real file parses
// and names only traces that exist; malformed entries are refused naming the trace; keys that no
// longer resolve in the rules are reported as stale.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseInfluence, staleKeys, loadInfluence } from '../../bench/eval-influence.js';
import { corpusTraceRefs } from '../../bench/eval-run.js';
import { defaultRulesPath } from '../../collector/engine/index.js';
import { repoRoot } from '../helpers/env.js';

describe('eval: rules influence data', () => {
  it('the corpus influence file parses and names only corpus traces', () => {
    const influence = loadInfluence(repoRoot);
    const traces = new Set(corpusTraceRefs(repoRoot).map((t) => t.name));
    assert.ok(influence.traces.size >= 15, `entries for the recorded corpus (${influence.traces.size})`);
    for (const name of influence.traces.keys()) assert.ok(traces.has(name), `${name} in influence.yaml is not a corpus trace`);
  });

  it('refuses malformed entries naming the trace', () => {
    const bad: [string, RegExp][] = [
      ['nope: 1', /expected a "traces" mapping/],
      ['traces:\n  a.trace.ndjson: 3', /a\.trace\.ndjson: expected a list/],
      ['traces:\n  a.trace.ndjson:\n    - key: thresholds.io\n', /a\.trace\.ndjson\[0\]: reason must be one non-empty line/],
      ['traces:\n  a.trace.ndjson:\n    - { key: "not a key!", reason: r }\n', /a\.trace\.ndjson\[0\]: key must be a dotted rules path/],
      ['traces:\n  a.trace.ndjson:\n    - { key: a.b, reason: r, commit: zz }\n', /commit must be a git hash/],
      ['traces:\n  a.trace.ndjson:\n    - { key: a.b, reason: r, weight: 2 }\n', /unknown field weight/],
      ['traces: [\n', /not valid YAML/],
    ];
    for (const [text, re] of bad) assert.throws(() => parseInfluence('influence.yaml', text), re, text);
    const ok = parseInfluence('f', 'traces:\n  a.trace.ndjson: []\n  b.trace.ndjson:\n    - { key: thresholds.io.heavyWriteBytesPerSec, reason: moved, commit: 8db94a5 }\n');
    assert.deepEqual(ok.traces.get('a.trace.ndjson'), []);
    assert.deepEqual(ok.traces.get('b.trace.ndjson'), [{ key: 'thresholds.io.heavyWriteBytesPerSec', reason: 'moved', commit: '8db94a5' }]);
  });

  it('reports keys that name nothing in the rules', () => {
    const rulesText = readFileSync(defaultRulesPath, 'utf8');
    const influence = parseInfluence('f', 'traces:\n  a.trace.ndjson:\n    - { key: thresholds.io.heavyWriteBytesPerSec, reason: r }\n    - { key: behaviour.no-such-behaviour, reason: r }\n');
    assert.deepEqual(staleKeys(influence, rulesText), ['behaviour.no-such-behaviour']);
  });
});
