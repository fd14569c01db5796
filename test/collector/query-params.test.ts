// Query parameters the way a careless user or an attacker writes them. Before: `from=%20` and
// `from=0x10` were read as numbers (Number(' ') is 0), `from=foo 1` as 2001-01-01 and
// `from=2025-02-30` as March 2 (a signed report over a period nobody asked for), a parameter
// given twice reached `.split`/`.trim` on an array and answered 500 with V8's message, a 500
// answered with the internal message, and a URL the router could not parse was echoed back.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCollector } from '../../collector/server.js';
import { parseTime } from '../../collector/report/period.js';
import { tempDir } from '../helpers/env.js';
import { rawRequest } from '../helpers/rawhttp.js';

test('range, limit and time parameters: 400 naming the parameter for every sloppy spelling', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: 'query-params-secret-01' });
  t.after(() => c.close());
  await c.store.upsertHost({ agentId: 'h1', hostname: 'h1.example', publicKey: new Uint8Array(32).fill(9) }, Date.now());
  const refused: Array<[string, RegExp]> = [
    ['/api/hosts/h1/samples?from=%20', /^from: expected Unix milliseconds or an ISO date/],
    ['/api/hosts/h1/samples?from=0x10', /^from: expected Unix milliseconds/],
    ['/api/hosts/h1/samples?to=1e3', /^to: expected Unix milliseconds/],
    ['/api/hosts/h1/samples?from=foo%201', /^from: expected Unix milliseconds/],
    ['/api/hosts/h1/samples?from=1&from=2', /^query parameter from must be given once$/],
    ['/api/hosts/h1/samples?limit=-1', /^query parameter limit must be an integer from 1 to 5000$/],
    ['/api/hosts/h1/samples?limit=1.5', /limit must be an integer/],
    ['/api/hosts/h1/samples?limit=%2B5', /limit must be an integer/],
    ['/api/hosts/h1/samples?limit=5001', /limit must be an integer from 1 to 5000/],
    ['/api/hosts/h1/verdicts?brief=1&limit=20161', /limit must be an integer from 1 to 20160/],
    ['/api/hosts/h1/verdicts?limit=0', /limit must be an integer from 1/],
    // brief given twice was an array, not '1': whole verdicts (megabytes of evidence) came back.
    ['/api/hosts/h1/verdicts?brief=1&brief=1', /^query parameter brief must be given once$/],
    ['/api/hosts/h1/verdicts?brief=yes', /^query parameter brief must be 1, true, 0 or false$/],
    ['/api/hosts/h1/verdicts?from=2000&to=1000', /^from must not be after to$/],
    ['/api/hosts/h1/report?from=2025-02-30', /^from: "2025-02-30" is not a date on the calendar$/],
    ['/api/hosts/h1/report?from=2025-01-31T12:00', /^from: "2025-01-31T12:00" has a time but no time zone/],
    ['/api/hosts/h1/report?to=Mon%205', /^to: expected Unix milliseconds or an ISO date/],
    ['/api/hosts/h1/report?to=1&to=2', /^query parameter to must be given once$/],
    ['/api/fleet?class=ai_training&class=pow_mining', /^query parameter class must be given once$/],
    ['/api/fleet?q=a&q=b', /^query parameter q must be given once$/],
    ['/api/fleet?offset=%20', /offset must be an integer/],
    ['/api/fleet?limit=0x10', /limit must be an integer from 1 to 200/],
    ['/api/class-changes?q=a&q=b', /^query parameter q must be given once$/],
    ['/api/class-changes?class=a&class=b', /^query parameter class must be given once$/],
  ];
  for (const [path, want] of refused) {
    const r = await rawRequest(c.url, 'GET', path);
    assert.equal(r.status, 400, `${path}: ${r.status} ${r.body}`);
    assert.match((JSON.parse(r.body) as { error: string }).error, want, path);
  }
  // What is meant is still read: Unix ms, an ISO date with a zone, limits in range.
  const ok = await rawRequest(c.url, 'GET', '/api/hosts/h1/samples?from=1000&to=2025-01-31T12:00%2B01:00&limit=5000');
  assert.equal(ok.status, 200, ok.body);
  assert.deepEqual(
    (({ fromMs, toMs }) => ({ fromMs, toMs }))(JSON.parse(ok.body) as { fromMs: number; toMs: number }),
    { fromMs: 1000, toMs: Date.UTC(2025, 0, 31, 11, 0) },
  );
  const brief = await rawRequest(c.url, 'GET', '/api/hosts/h1/verdicts?brief=1&limit=20160');
  assert.equal(brief.status, 200, brief.body);
  const report = await rawRequest(c.url, 'GET', '/api/hosts/h1/report?from=2024-02-29&to=2024-03-01');
  assert.equal(report.status, 200, report.body.slice(0, 200));
  assert.deepEqual((JSON.parse(report.body) as { period: unknown }).period, { fromMs: Date.UTC(2024, 1, 29), toMs: Date.UTC(2024, 2, 1) });
});

test('parseTime: the calendar, zones and offsets, and the input echoed only in short', () => {
  assert.equal(parseTime('2025-01-31'), Date.UTC(2025, 0, 31));
  assert.equal(parseTime('2025-01-31T12:00Z'), Date.UTC(2025, 0, 31, 12));
  assert.equal(parseTime('2025-01-31 12:00:05.25Z'), Date.UTC(2025, 0, 31, 12, 0, 5, 250));
  assert.equal(parseTime('2025-01-31T12:00-0230'), Date.UTC(2025, 0, 31, 14, 30));
  assert.equal(parseTime(' 1738324800000 '), 1738324800000);
  assert.equal(parseTime('2000-02-29'), Date.UTC(2000, 1, 29));
  assert.throws(() => parseTime('1900-02-29'), /not a date on the calendar/);
  assert.throws(() => parseTime('2023-02-29'), /not a date on the calendar/);
  assert.throws(() => parseTime('2025-01-31T24:00Z'), /not a date on the calendar/);
  assert.throws(() => parseTime('2025-01-31T12:00+24:00'), /impossible time zone offset/);
  assert.throws(() => parseTime('x'.repeat(5000), 'from'), (e: Error) => e.message.length < 200 && /^from: expected/.test(e.message));
});

test('a 500 says which request failed, not why; a URL the router cannot parse is not echoed', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: 'query-params-secret-02' });
  t.after(() => c.close());
  await c.store.upsertHost({ agentId: 'h1', hostname: 'h1.example', publicKey: new Uint8Array(32).fill(9) }, Date.now());
  const bad = await rawRequest(c.url, 'GET', '/api/hosts/%E0%A4%A<script>');
  assert.equal(bad.status, 400, bad.body);
  assert.equal((JSON.parse(bad.body) as { error: string }).error, 'malformed URL: a percent sign must start a valid escape');
  assert.ok(!bad.body.includes('script') && !bad.body.includes('%E0'), bad.body);
  // Break the store under the API: every read now throws a better-sqlite3 error.
  const store = c.store as unknown as { samples: (...a: unknown[]) => unknown };
  store.samples = () => {
    throw new Error('SqliteError: disk I/O error at /var/lib/secret/assay.db');
  };
  const r = await rawRequest(c.url, 'GET', '/api/hosts/h1/processes');
  assert.equal(r.status, 500, r.body);
  const { error } = JSON.parse(r.body) as { error: string };
  assert.match(error, /^internal error \(request req-[0-9a-z]+; the collector's log has the reason\)$/);
  assert.ok(!r.body.includes('secret') && !r.body.includes('Sqlite'), r.body);
});
