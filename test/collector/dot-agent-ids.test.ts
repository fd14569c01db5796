// An agent id is a path segment of every per-host URL (`/api/hosts/<id>/…`, `#/hosts/<id>`), and
// `.` and `..` are the two segments a URL parser removes: the dashboard's fetch of
// `/api/hosts/${encodeURIComponent('..')}` asks for `/api/`, and of its report for `/api/report`.
// Found from outside: an agent whose `agent-id` file said `..` (the operator of an audited host
// can write it) enrolled, and its host page, charts and report could not be opened from the
// dashboard. Such ids are now refused at the hello; ids that merely contain dots still work.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCollector } from '../../collector/server.js';
import { CloseCode, encodeAgentMessage } from '../../proto/codec.js';
import { tempDir } from '../helpers/env.js';
import { fullHello } from '../helpers/messages.js';
import { RawAgent } from '../helpers/rawagent.js';

const SECRET = 'dot-ids-enroll-secret-01234567';

test('agent ids . and .. are refused at the hello; ids with dots in them enroll and are reachable by their URL', async () => {
  const tmp = tempDir('dot-ids');
  const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET });
  try {
    const url = c.url.replace('http', 'ws') + '/ingest';
    // The premise: a URL parser (the browser's, Node's fetch) drops these segments.
    assert.equal(new URL(`${c.url}/api/hosts/${encodeURIComponent('..')}/report`).pathname, '/api/report');
    assert.equal(new URL(`${c.url}/api/hosts/${encodeURIComponent('.')}`).pathname, '/api/hosts/');
    for (const id of ['.', '..']) {
      const a = await RawAgent.connect(url);
      a.ws.send(encodeAgentMessage({ hello: a.signedHello(fullHello(id), SECRET) }));
      const closed = await Promise.race([a.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
      assert.equal(closed?.code, CloseCode.invalid, `agent id ${JSON.stringify(id)} is refused (${JSON.stringify(closed)})`);
      assert.match(closed!.reason, /agent_id/);
      assert.equal(await c.store.getHost(id), null, `no host ${JSON.stringify(id)} stored`);
    }
    for (const id of ['...', '.hidden', 'a..b']) {
      const a = await RawAgent.connect(url);
      await a.hello(fullHello(id), SECRET);
      const r = await fetch(`${c.url}/api/hosts/${encodeURIComponent(id)}`);
      assert.equal(r.status, 200, `host ${id} reachable by its URL`);
      assert.equal(((await r.json()) as { id: string }).id, id);
      a.close();
    }
  } finally {
    await c.close();
    tmp.cleanup();
  }
});
