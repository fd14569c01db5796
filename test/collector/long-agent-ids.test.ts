// Ingest accepts agent ids of up to 128 characters of [A-Za-z0-9._:-]. Every API route that takes
// an id must answer for all of them: with fastify's default parameter limit (100 characters) a
// 101-128 character id got a 400 from /api/hosts/:id… and POST /api/agents/:id/revoke, so an
// agent that picked such an id could not be looked at, reported on or revoked through the API.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCollector } from '../../collector/server.js';
import { tempDir } from '../helpers/env.js';
import { RawAgent } from '../helpers/rawagent.js';
import { rawRequest } from '../helpers/rawhttp.js';

const SECRET = 'long-ids-enroll-secret-01';

test('an agent with a 128-character id (colons included) is served by every id route and can be revoked through the API', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET });
  t.after(() => c.close());
  const ids = ['a'.repeat(128), `${'x:'.repeat(63)}yz`];
  for (const id of ids) {
    assert.equal(id.length, 128);
    const agent = await RawAgent.connect(c.url.replace('http', 'ws') + '/ingest');
    await agent.hello({ agentId: id, hostname: 'long-id-host', agentVersion: 't' }, SECRET);
    agent.close();
    assert.ok(await c.store.getHost(id), 'the collector enrolled it');
    // Spelled as the dashboard spells it (encodeURIComponent: each `:` is %3A).
    const p = encodeURIComponent(id);
    for (const path of [`/api/hosts/${p}`, `/api/hosts/${p}/samples`, `/api/hosts/${p}/verdicts`, `/api/hosts/${p}/processes`, `/api/hosts/${p}/report`]) {
      const r = await rawRequest(c.url, 'GET', path);
      assert.equal(r.status, 200, `GET ${path.slice(0, 40)}…: ${r.status} ${r.body.slice(0, 120)}`);
    }
    const admin = readFileSync(join(tmp.dir, 'admin-token'), 'utf8').trim();
    const r = await rawRequest(c.url, 'POST', `/api/agents/${p}/revoke`, { authorization: `Bearer ${admin}`, 'content-type': 'application/json' });
    assert.equal(r.status, 200, r.body);
    assert.ok((await c.store.getHost(id))?.revokedMs, 'revoked');
  }
  // Still bounded: a parameter far beyond any agent id is refused without reaching a handler.
  assert.equal((await rawRequest(c.url, 'GET', `/api/hosts/${'b'.repeat(1000)}`)).status, 400);
});
