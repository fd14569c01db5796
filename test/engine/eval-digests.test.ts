// Evaluation cost work (features-process.ts, features-series.ts, stats.ts, ...) changes no
// result: every corpus trace (real and synthetic) and the bench's server-host trace, fed to the
// Classifier's compact window and evaluated window by window as the Classifier does (every
// everyMs of sample time), gives features and verdicts whose digests equal those recorded with the
// engine before that work (test/engine/eval-digests.json). The digest is SHA-256 of a JSON
// rendering that keeps what JSON would lose (-0, NaN, +-Infinity, undefined properties), so it
// tells apart what assert.deepEqual tells apart for these plain objects.
// Re-record (only when a rules or engine change is meant to change results):
//   ASSAY_RECORD_EVAL_DIGESTS=1 node --test dist/test/engine/eval-digests.test.js
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { corpusDirs, traceFiles } from '../../bench/corpus-files.js';
import { sentSamples } from '../../bench/agents-pregen.js';
import { CompactWindow } from '../../collector/compact-window.js';
import { defaultClassifierOptions } from '../../collector/classifier-options.js';
import { defaultRulesPath, evaluate, featureOptions, features, IdentityMemo, loadRulesFile } from '../../collector/engine/index.js';
import type { IInventory, ISample } from '../../proto/codec.js';
import { readTrace } from '../../proto/trace.js';
import { repoRoot } from '../helpers/env.js';

const rules = loadRulesFile(defaultRulesPath);
const dirs = corpusDirs(repoRoot);
const benchTrace = join(repoRoot, 'bench', 'data', 'server-host.trace.ndjson.gz');
const files = [...traceFiles(dirs.real), ...traceFiles(dirs.synthetic), benchTrace];
const digestsFile = join(repoRoot, 'test', 'engine', 'eval-digests.json');
const record = process.env.ASSAY_RECORD_EVAL_DIGESTS === '1';

function canonical(x: unknown): string {
  return JSON.stringify(x, (_key, v: unknown) => {
    if (typeof v === 'number' && (Object.is(v, -0) || !Number.isFinite(v))) return `#num:${Object.is(v, -0) ? '-0' : String(v)}`;
    if (v instanceof Map) return { '#map': [...v] };
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(o)) out[k] = o[k] === undefined ? '#undefined' : o[k];
      return out;
    }
    return v;
  });
}
const digest = (x: unknown): string => createHash('sha256').update(canonical(x)).digest('hex').slice(0, 24);

async function load(file: string): Promise<{ samples: ISample[]; inventory: IInventory | null }> {
  if (file.endsWith('.gz')) return { samples: sentSamples(file), inventory: null };
  const t = await readTrace(file);
  return { samples: t.samples, inventory: t.header.inventory ?? null };
}

describe('evaluation results', () => {
  it('equal those recorded before the evaluation cost work, on every corpus trace, window by window', async () => {
    assert.ok(files.length > 10, 'corpus traces not found');
    const got: Record<string, string[]> = {};
    const memo = new IdentityMemo();
    const opts = featureOptions(rules);
    let evaluations = 0;
    for (const file of files) {
      const { samples, inventory } = await load(file);
      const window = new CompactWindow(defaultClassifierOptions.windowMs, rules.history.horizons);
      window.inventory = inventory;
      const out: string[] = (got[basename(file)] = []);
      let lastEval = 0;
      for (const s of samples) {
        window.add([s]);
        const ts = s.tsMs ?? 0;
        if (ts - lastEval < defaultClassifierOptions.everyMs) continue;
        lastEval = ts;
        const view = window.view(window.samples());
        out.push(`${digest(features(view, opts))} ${digest(evaluate(view, rules, memo))}`);
        evaluations++;
      }
    }
    assert.ok(evaluations > 200, `only ${evaluations} evaluations`);
    if (record) writeFileSync(digestsFile, JSON.stringify(got, null, 1) + '\n');
    const want = JSON.parse(readFileSync(digestsFile, 'utf8')) as Record<string, string[]>;
    assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), 'the traces evaluated are those recorded');
    for (const [name, list] of Object.entries(want)) {
      const g = got[name]!;
      assert.equal(g.length, list.length, `${name}: evaluations`);
      list.forEach((d, i) => assert.equal(g[i], d, `${name}: evaluation ${i} (features digest, verdict digest)`));
    }
  });
});
