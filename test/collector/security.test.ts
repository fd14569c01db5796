// Transport security: wss with a pinned self-signed certificate, plain ws refused off loopback,
// and token-protected API / live feed with viewer and admin roles.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { startAgent } from '../../agent/agent.js';
import { startCollector } from '../../collector/server.js';
import { tempDir, waitFor } from '../helpers/env.js';
import WebSocket from 'ws';

const SECRET = 'security-test-enroll-secret';

test('wss with a self-signed certificate: a pinned agent streams, a wrong pin or no pin gets nothing through', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET, tls: { selfSigned: true } });
  t.after(() => collector.close());
  assert.match(collector.url, /^https:/);
  assert.match(collector.tlsFingerprint!, /^sha256:([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  const url = collector.url.replace('https', 'wss') + '/ingest';
  const pinned = await startAgent({ collectorUrl: url, intervalMs: 200, batchIntervalMs: 200, stateDir: join(tmp.dir, 'a1'), enrollSecret: SECRET, pin: collector.tlsFingerprint! });
  t.after(() => pinned.stop());
  const wrong = await startAgent({ collectorUrl: url, intervalMs: 200, batchIntervalMs: 200, stateDir: join(tmp.dir, 'a2'), enrollSecret: SECRET, pin: 'sha256:' + '00:'.repeat(31) + '00' });
  t.after(() => wrong.stop());
  const unpinned = await startAgent({ collectorUrl: url, intervalMs: 200, batchIntervalMs: 200, stateDir: join(tmp.dir, 'a3'), enrollSecret: SECRET });
  t.after(() => unpinned.stop());
  await waitFor(() => pinned.link.ackedSeq >= 3, 15_000, 'pinned agent acked');
  assert.equal(wrong.link.ackedSeq, 0, 'wrong pin: nothing delivered');
  assert.equal(unpinned.link.ackedSeq, 0, 'self-signed without a pin: nothing delivered');
  const hosts = await collector.store.listHosts();
  assert.deepEqual(hosts.map((h) => h.id), [pinned.agentId], 'only the pinned agent ever reached the collector');
});

test('plain ws is refused off loopback on both sides unless forced', async () => {
  const tmp = tempDir();
  try {
    await assert.rejects(startCollector({ host: '0.0.0.0', port: 0, dbPath: join(tmp.dir, 'x.db'), enrollSecret: SECRET }), /refusing to take agents over plain ws/);
    await assert.rejects(startAgent({ collectorUrl: 'ws://192.0.2.10:7300/ingest', intervalMs: 1000, stateDir: join(tmp.dir, 'a') }), /refusing plain ws:\/\/ to 192\.0\.2\.10/);
  } finally {
    tmp.cleanup();
  }
});

test('API tokens: no token 401, viewer reads, live needs a token; loopback default stays open', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET, requireTokens: true, viewerToken: 'viewer-token-123456', adminToken: 'admin-token-1234567' });
  t.after(() => c.close());
  assert.equal((await fetch(c.url + '/api/hosts')).status, 401);
  assert.equal((await fetch(c.url + '/metrics')).status, 401);
  assert.equal((await fetch(c.url + '/api/hosts', { headers: { authorization: 'Bearer wrong-token-000000' } })).status, 401);
  assert.equal((await fetch(c.url + '/api/hosts', { headers: { authorization: 'Bearer viewer-token-123456' } })).status, 200);
  assert.equal((await fetch(c.url + '/api/hosts', { headers: { authorization: 'Bearer admin-token-1234567' } })).status, 200);
  assert.equal((await fetch(c.url + '/')).status, 200, 'the dashboard shell itself carries no data');
  const revoke = (token: string) => fetch(c.url + '/api/agents/nobody/revoke', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
  assert.equal((await revoke('viewer-token-123456')).status, 403, 'viewers cannot change anything');
  assert.equal((await revoke('admin-token-1234567')).status, 404, 'admins reach the route (no such agent here)');
  const liveStatus = (q: string) =>
    new Promise<string>((resolve) => {
      const ws = new WebSocket(c.url.replace('http', 'ws') + '/live' + q);
      ws.on('open', () => (ws.close(), resolve('open')));
      ws.on('error', (e) => resolve(e.message));
    });
  assert.match(await liveStatus(''), /401/);
  assert.equal(await liveStatus('?token=viewer-token-123456'), 'open');

  const open = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'open.db'), enrollSecret: SECRET });
  t.after(() => open.close());
  assert.equal((await fetch(open.url + '/api/hosts')).status, 200, 'loopback without --require-tokens needs none');
});
