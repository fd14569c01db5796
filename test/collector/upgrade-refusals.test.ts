// A WebSocket upgrade the collector refuses (an unknown path, /live without a token or from
// another origin, /ingest with an Origin) is answered with a raw HTTP refusal on a socket no HTTP
// code watches any more. Found from outside: a client that reset such a socket (RST, e.g. closing
// with the answer unread) ended the collector process with an unhandled 'error' event. Against a
// real collector process on 127.0.0.1.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cliPath, tempDir } from '../helpers/env.js';
import { rawRequest } from '../helpers/rawhttp.js';

function startCli(args: string[]): Promise<{ child: ChildProcess; port: number; exited: () => number | null; stderr: () => string }> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('ASSAY_')) delete env[k];
    const child = spawn(process.execPath, [cliPath, 'collector', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let exitCode: number | null = null;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no listening line within 20 s:\n${err}`));
    }, 20_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), exited: () => exitCode, stderr: () => err });
      }
    });
    child.on('exit', (code, signal) => {
      exitCode = code ?? (signal ? 128 : -1);
      clearTimeout(timer);
      reject(new Error(`collector exited ${code}:\n${err}`));
    });
  });
}

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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('refused WebSocket upgrades', () => {
  it('a client that resets a refused upgrade (unknown path, /live without a token, /ingest with an Origin) does not end the collector', async () => {
    const { dir, cleanup } = tempDir('upgrade-reset');
    const c = await startCli(['--port', '0', '--db', join(dir, 'assay.db'), '--require-tokens']);
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
});
