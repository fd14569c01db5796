// The corpus regression test must FAIL, never skip or pass, when it finds no traces (a checkout
// without the corpus, or a wrong working directory): run it against an empty repository root.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot, tempDir } from '../helpers/env.js';

const tmp = tempDir('assay-corpus-empty-');
after(() => tmp.cleanup());

describe('corpus test without traces', () => {
  it('fails and says the corpus is missing', () => {
    mkdirSync(join(tmp.dir, 'test', 'corpus', 'synthetic'), { recursive: true });
    // NODE_TEST_CONTEXT would make the child report to this runner instead of printing TAP.
    const { NODE_TEST_CONTEXT: _ctx, ...env } = process.env;
    const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', join(repoRoot, 'dist', 'test', 'corpus', 'corpus.test.js')], { env: { ...env, ASSAY_REPO_ROOT: tmp.dir }, encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stdout, /no \*\.trace\.ndjson in .*test\/corpus: the corpus is missing/);
    assert.match(r.stdout, /# fail 2/);
    assert.match(r.stdout, /# skipped 0/);
  });
});
