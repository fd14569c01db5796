// `assay report --host X` takes an id or a hostname, and agents choose both. An enrolled agent
// whose id is another host's hostname (id "gpu-node-07.example", hostname anything) took the
// report meant for the machine people call gpu-node-07.example: an id always won, silently.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Report } from '../../collector/report/types.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { tempDir } from '../helpers/env.js';
import { runAssay } from '../helpers/proc.js';
import { S, T0, steadyHost } from './stored-period.js';

describe('assay report --host: a name that is one agent\'s id and another\'s hostname', () => {
  const tmp = tempDir('assay-report-names-');
  const db = join(tmp.dir, 'assay.db');
  const period = ['--from', String(T0), '--to', String(T0 + 120 * S)];

  before(async () => {
    const store = new SqliteStore(db);
    await steadyHost(store, 'gpu-node-07', 'ai-training', 120); // hostname gpu-node-07.example
    await steadyHost(store, 'gpu-node-07.example', 'pow-mining', 120); // an impostor's chosen id
    await steadyHost(store, 'plain', 'idle', 120);
    await store.close();
  });
  after(() => tmp.cleanup());

  it('is refused, naming both agents; each id alone still works', async () => {
    const r = await runAssay(['report', '--db', db, '--host', 'gpu-node-07.example', ...period], {}, 60_000);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^assay: gpu-node-07\.example is the id of one agent and the hostname of gpu-node-07: pass the id of the one you mean$/m);
    for (const id of ['gpu-node-07', 'plain']) {
      const out = join(tmp.dir, `${id}.json`);
      const ok = await runAssay(['report', '--db', db, '--host', id, ...period, '--out', out], {}, 60_000);
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual((JSON.parse(readFileSync(out, 'utf8')) as Report).hosts.map((h) => h.input.identity.id), [id]);
    }
    const byName = join(tmp.dir, 'byname.json');
    const named = await runAssay(['report', '--db', db, '--host', 'plain.example', ...period, '--out', byName], {}, 60_000);
    assert.equal(named.code, 0, named.stderr);
    assert.deepEqual((JSON.parse(readFileSync(byName, 'utf8')) as Report).hosts.map((h) => h.input.identity.id), ['plain']);
  });
});
