// A WebSocket upgrade the collector refuses (an unknown path, /live without a token or from
// another origin, /ingest with an Origin) is answered with a raw HTTP refusal on a socket no HTTP
// code watches any more. Found from outside: a client that reset such a socket (RST, e.g. closing
// with the answer unread) ended the collector process with an unhandled 'error' event, and a
// client that never closed one kept it open for ever, outside every per-address cap (the pre-auth
// slot is handed over at the upgrade). Both against a real collector process on 127.0.0.1.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/env.js';
import { startCollectorProcess } from '../helpers/proc.js';
import { rawRequest } from '../helpers/rawhttp.js';

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

function upgradeRequest(port: number, path: string, extra: Record<string, string> = {}): string {
  const headers: Record<string, string> = {
    host: `127.0.0.1:${port}`,
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    ...extra,
  };
  return `GET ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

/** Opens a socket, sends `request`, and tracks what comes back and when the collector closes it. */
function held(port: number, request: string): Promise<{ sock: Socket; answer: () => string; closedAt: Promise<number> }> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen: the client does not answer the collector's FIN with its own (as a careless
    // or hostile client, or one with the answer unread, does not), so the socket stays the
    // collector's to close.
    const sock = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let answer = '';
    sock.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    const closedAt = new Promise<number>((r) => sock.on('close', () => r(Date.now())));
    sock.on('error', () => undefined);
    sock.once('connect', () => {
      sock.write(request);
      resolve({ sock, answer: () => answer, closedAt });
    });
    sock.once('error', reject);
  });
}

const within = <T>(p: Promise<T>, ms: number, dflt: T): Promise<T> => Promise.race([p, new Promise<T>((r) => setTimeout(() => r(dflt), ms).unref())]);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('refused WebSocket upgrades', () => {
  it('a client that resets a refused upgrade (unknown path, /live without a token, /ingest with an Origin) does not end the collector', async () => {
    const { dir, cleanup } = tempDir('upgrade-reset');
    const c = await startCollectorProcess(['--port', '0', '--db', join(dir, 'assay.db'), '--require-tokens']);
    try {
      const viewer = readFileSync(join(dir, 'viewer-token'), 'utf8').trim();
      const refusals: Array<[string, Record<string, string>, RegExp]> = [
        ['/nope', {}, /^HTTP\/1\.1 404 /],
        ['/live', {}, /^HTTP\/1\.1 401 /],
        ['/live', { origin: 'http://evil.example' }, /^HTTP\/1\.1 403 /],
        ['/ingest', { origin: 'http://evil.example' }, /^HTTP\/1\.1 403 /],
        ['/%69ngest', {}, /^HTTP\/1\.1 404 /],
      ];
      for (const [path, extra, status] of refusals) {
        const h = await held(c.port, upgradeRequest(c.port, path, extra));
        for (let i = 0; i < 50 && !h.answer(); i++) await sleep(20);
        assert.match(h.answer(), status, `upgrade ${path} ${JSON.stringify(extra)}`);
        h.sock.resetAndDestroy(); // RST: what a client that closes with the answer unread sends
        await sleep(300);
        assert.equal(c.exited(), null, `the collector lives on after a reset refused upgrade of ${path}:\n${c.stderr()}`);
        const health = await rawRequest(`http://127.0.0.1:${c.port}`, 'GET', '/healthz');
        assert.equal(health.status, 200, `the collector still answers after ${path}`);
      }
      const ok = await rawRequest(`http://127.0.0.1:${c.port}`, 'GET', '/api/hosts', { authorization: `Bearer ${viewer}` });
      assert.equal(ok.status, 200);
    } finally {
      await stop(c.child);
      cleanup();
    }
  });

  it('a refused upgrade the client never closes is closed by the collector, and counts against the per-address cap while it lasts', async () => {
    const { dir, cleanup } = tempDir('upgrade-held');
    const c = await startCollectorProcess(['--port', '0', '--db', join(dir, 'assay.db'), '--max-preauth-per-address', '4', '--idle-timeout', '1s']);
    const socks: Socket[] = [];
    try {
      const t0 = Date.now();
      const opened = [];
      // Ten refused upgrades from one address, none ever closed or reset by the client.
      for (let i = 0; i < 10; i++) {
        const h = await held(c.port, upgradeRequest(c.port, '/nope'));
        socks.push(h.sock);
        opened.push(h);
        await sleep(20);
      }
      // The collector's half is gone once a byte written to it is answered with a reset (the next
      // write then fails with EPIPE and the socket closes): 4 s is twice the 2 s close grace.
      await sleep(4_000);
      for (const s of socks) if (!s.destroyed) s.write('x');
      await sleep(300);
      for (const s of socks) if (!s.destroyed) s.write('y');
      const closed = await Promise.all(opened.map((h) => within(h.closedAt, 3_000, -1)));
      const answered = opened.filter((h) => /^HTTP\/1\.1 404 /.test(h.answer())).length;
      assert.ok(closed.every((t) => t > 0), `every refused upgrade is closed by the collector (still open after ${Date.now() - t0} ms: ${closed.filter((t) => t < 0).length} of 10)`);
      assert.ok(answered >= 1 && answered <= 4, `at most the per-address cap (4) of them held at once, so at most 4 answered (${answered})`);
      assert.equal((await rawRequest(`http://127.0.0.1:${c.port}`, 'GET', '/healthz')).status, 200, 'and the address gets in again once they are gone');
    } finally {
      for (const s of socks) s.destroy();
      await stop(c.child);
      cleanup();
    }
  });
});
