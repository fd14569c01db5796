// Report periods given out of range are a clear 400 (API) or error (CLI), before any work:
// `GET /api/hosts/:id/report?to=9999999999999999` built the whole report and then answered 500
// "Invalid time value" (and logged an api_error); dates before 1970 gave signed reports over
// periods of negative milliseconds.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCollector } from '../../collector/server.js';
import { tempDir } from '../helpers/env.js';
import { runAssay } from '../helpers/proc.js';
import { rawRequest } from '../helpers/rawhttp.js';

test('out-of-range report times: 400 naming the parameter from the API, an error from the CLI', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const db = join(tmp.dir, 'assay.db');
  const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: db, enrollSecret: 'period-bounds-secret-1' });
  t.after(() => c.close());
  await c.store.upsertHost({ agentId: 'h1', hostname: 'h1.example', publicKey: new Uint8Array(32).fill(9) }, Date.now());
  for (const [q, want] of [
    ['from=0&to=9999999999999999', /^to: "9999999999999999" is outside 1970-01-01 … 9999-12-31$/],
    ['to=99999999999999999999999', /^to: .* is outside 1970-01-01/],
    ['from=1900-01-01&to=1900-01-02', /^to: "1900-01-02" is outside 1970-01-01/],
    ['from=1900-01-01', /^from: "1900-01-01" is outside 1970-01-01/],
  ] as Array<[string, RegExp]>) {
    const t0 = Date.now();
    const r = await rawRequest(c.url, 'GET', `/api/hosts/h1/report?${q}`);
    assert.equal(r.status, 400, `${q}: ${r.status} ${r.body}`);
    assert.match((JSON.parse(r.body) as { error: string }).error, want, q);
    assert.ok(Date.now() - t0 < 2000, `${q}: refused before building anything`);
  }
  // to=0 alone: the default 24 h before it would start before 1970; it starts at 0 instead.
  const zero = await rawRequest(c.url, 'GET', '/api/hosts/h1/report?to=1000');
  assert.equal(zero.status, 200, zero.body.slice(0, 200));
  assert.deepEqual((JSON.parse(zero.body) as { period: unknown }).period, { fromMs: 0, toMs: 1000 });
  await c.close();
  const cli = await runAssay(['report', '--db', db, '--host', 'h1', '--to', '99999999999999999'], {}, 30_000);
  assert.equal(cli.code, 1, cli.stderr);
  assert.match(cli.stderr, /^assay: to: "99999999999999999" is outside 1970-01-01 … 9999-12-31$/m);
});
