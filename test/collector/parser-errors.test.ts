// "Every response carries" the security headers — including the answers to requests the HTTP
// parser refuses before any route or hook runs. Those came from fastify's client-error handler
// (431 for oversized headers, 400 for garbage or conflicting lengths) and from Node itself (400
// for a request without Host) with none of them: no CSP, no nosniff, no X-Frame-Options.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCollector } from '../../collector/server.js';
import { tempDir } from '../helpers/env.js';

/** Writes `bytes` to 127.0.0.1:port and returns everything read until the collector closes (at most 5 s). */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.write(bytes));
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => resolve(out));
    setTimeout(() => s.destroy(), 5000);
  });
}

test('requests the HTTP parser refuses are answered with the security headers and a JSON reason', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: 'parser-errors-secret-01' });
  t.after(() => c.close());
  const cases: Array<[string, string, number]> = [
    ['headers over the limit', `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['not HTTP', 'HELLO THERE\r\n\r\n', 400],
    ['an unknown HTTP version', 'GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n', 400],
    ['two Content-Lengths', 'POST /api/agents/x/revoke HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}', 400],
    ['Transfer-Encoding with Content-Length', 'POST /api/agents/x/revoke HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n', 400],
    ['no Host header', 'GET /api/hosts HTTP/1.1\r\nConnection: close\r\n\r\n', 403],
  ];
  for (const [what, bytes, status] of cases) {
    const answer = await raw(c.port, bytes);
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    assert.match(head, new RegExp(`^HTTP/1\\.1 ${status} `), `${what}: ${JSON.stringify(answer.slice(0, 120))}`);
    const h = head.toLowerCase();
    assert.match(h, /\r\ncontent-security-policy: [^\r]*frame-ancestors 'none'/, `${what}: CSP`);
    assert.match(h, /\r\nx-content-type-options: nosniff\r\n/, `${what}: nosniff`);
    assert.match(h, /\r\nx-frame-options: deny\r\n/, `${what}: X-Frame-Options`);
    assert.match(h, /\r\nreferrer-policy: no-referrer\r\n/, `${what}: Referrer-Policy`);
    assert.ok(typeof (JSON.parse(body) as { error?: unknown }).error === 'string', `${what}: a JSON reason (${body})`);
  }
  // And the collector still answers normal requests.
  assert.equal((await fetch(`${c.url}/healthz`)).status, 200);
});
