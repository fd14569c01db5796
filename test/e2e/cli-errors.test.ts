// Issue 11, first hour: every CLI error starts with "assay:" and is not followed by the whole
// usage text; listings have a header row; read-only commands create nothing.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/env.js';
import { runAssay } from '../helpers/proc.js';

describe('command-line errors', () => {
  for (const args of [['scan', '--duration', 'abc'], ['report'], ['bogus'], ['agent', '--interval', 'x']]) {
    it(`assay ${args.join(' ')}: one "assay:" line and a pointer to --help, no usage dump`, async () => {
      const r = await runAssay(args, {}, 20_000);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^assay: \S/, r.stderr);
      assert.doesNotMatch(r.stderr, /^error:/m);
      assert.doesNotMatch(r.stderr, /Usage: /);
      assert.match(r.stderr, /--help/);
    });
  }

  it('agents list on a missing database says so and creates nothing', async () => {
    const tmp = tempDir('assay-cli-ro-');
    try {
      const db = join(tmp.dir, 'data', 'assay.db');
      const r = await runAssay(['agents', 'list', '--db', db], {}, 20_000);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^assay: no database at /m);
      assert.equal(existsSync(join(tmp.dir, 'data')), false);
      assert.deepEqual(readdirSync(tmp.dir), []);
    } finally {
      tmp.cleanup();
    }
  });
});
