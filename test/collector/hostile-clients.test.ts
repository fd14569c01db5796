// A second round of outside attacks on a collector started as the README says (`assay collector`,
// a real process on 127.0.0.1), each one a weakness that the first hardening round left open:
//   - a token with as many characters as the real one but more UTF-8 bytes (crashed the process);
//   - browser pages opening /ingest (agents send no Origin; a rebinding page sends its own);
//   - the per-address cap counted a connection only until its first request, so one address
//     held any number of keep-alive connections; and no cap bounded all addresses together
//     (127.0.0.2…127.0.0.250, or an IPv6 /64, each got its own 32);
//   - the security-event log kept its newest rows, so strangers from many addresses (one row
//     per address and minute) evicted the events about enrolled agents (a key mismatch), and
//     a hello refused for an enrolled agent's id was recorded under the address, not the agent;
//   - /live sockets were the one kind of connection without any bound;
//   - world-readable private keys from an earlier run or a careless copy (TLS key, report signing
//     key, agent key) stayed world-readable, though the README says existing ones are tightened.
import assert from 'node:assert/strict';
import { chmodSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startCollector } from '../../collector/server.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { tempDir, waitFor } from '../helpers/env.js';
import { fullHello } from '../helpers/messages.js';
import { RawAgent } from '../helpers/rawagent.js';
import { idleSocket } from '../helpers/stalled.js';
import { encodeAgentMessage } from '../../proto/codec.js';
import { spawnAssay, type Spawned } from '../helpers/proc.js';
import { rawRequest, upgradeHeaders } from '../helpers/rawhttp.js';

/** `assay collector --port 0 --db DIR/assay.db [extra]`; resolves with its URL once it listens. */
async function collectorProcess(extra: string[] = []): Promise<{ url: string; proc: Spawned; done: () => Promise<void> }> {
  const tmp = tempDir();
  const proc = spawnAssay(['collector', '--port', '0', '--db', join(tmp.dir, 'assay.db'), '--log-level', 'warn', ...extra]);
  const url = await waitFor(() => /listening on (http\S+) /.exec(proc.output())?.[1], 20_000, 'collector to listen');
  return { url, proc, done: async () => (await proc.stop(), tmp.cleanup()) };
}

/** One request whose header bytes are written as latin1, so a header may carry bytes 0x80-0xff. */
function latin1Request(url: string, head: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: Number(u.port) });
    let out = '';
    s.setTimeout(5000, () => s.destroy());
    s.on('connect', () => s.write(Buffer.from(head, 'latin1')));
    s.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (out.includes('\r\n\r\n')) s.destroy();
    });
    s.on('error', reject);
    s.on('close', () => resolve(out.split('\r\n')[0] ?? ''));
  });
}

// Generated tokens are 43 characters (32 random bytes, base64url); the lengths around it too.
const LENGTHS = [16, 24, 32, 42, 43, 44, 64];

describe('token comparison with non-ASCII tokens', () => {
  for (const extra of [[], ['--require-tokens']]) {
    it(`a token of the right length in characters but not in bytes is refused, and the collector lives on (${extra.join(' ') || 'open loopback'})`, async () => {
      const { url, proc, done } = await collectorProcess(extra);
      try {
        for (const n of LENGTHS) {
          // The /live sub-protocol carries base64url(UTF-8): 'é' is one character and two bytes.
          const proto = `assay.live, assay.bearer.${Buffer.from('é'.repeat(n)).toString('base64url')}`;
          const live = await rawRequest(url, 'GET', '/live', upgradeHeaders({ 'sec-websocket-protocol': proto }));
          assert.equal(live.status, extra.length ? 401 : 101, `/live with a ${n}-character non-ASCII token`);
          // Header bytes 0x80-0xff arrive as one latin1 character each, and are two bytes in UTF-8.
          const bearer = `Authorization: Bearer ${'\u00e9'.repeat(n)}\r\n`;
          const api = await latin1Request(url, `GET /api/hosts HTTP/1.1\r\nHost: 127.0.0.1\r\n${bearer}Connection: close\r\n\r\n`);
          assert.match(api, extra.length ? /^HTTP\/1\.1 401 / : /^HTTP\/1\.1 200 /, `/api/hosts with a ${n}-character latin1 token`);
          const revoke = await latin1Request(url, `POST /api/agents/x/revoke HTTP/1.1\r\nHost: 127.0.0.1\r\n${bearer}Content-Type: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
          assert.match(revoke, /^HTTP\/1\.1 401 /, `revoke with a ${n}-character latin1 token`);
        }
        assert.equal(proc.child.exitCode, null, `the collector exited: ${proc.output().slice(-600)}`);
        assert.equal((await rawRequest(url, 'GET', '/healthz')).status, 200);
      } finally {
        await done();
      }
    });
  }
});

describe('/ingest is for agents, not browsers', () => {
  it('an upgrade with any Origin is refused (a DNS-rebinding page sends Host and Origin of its own name); agents send none', async () => {
    const { url, done } = await collectorProcess();
    try {
      const port = new URL(url).port;
      // The rebinding page: its own name in Host and Origin, so the two match each other.
      const rebinding = { host: `rebind.example:${port}`, origin: `http://rebind.example:${port}` };
      for (const headers of [rebinding, { origin: url }, { origin: 'null' }]) {
        const r = await rawRequest(url, 'GET', '/ingest', upgradeHeaders(headers));
        assert.equal(r.status, 403, `Origin ${headers.origin}`);
      }
      // An agent (no Origin) reaches it by any name.
      assert.equal((await rawRequest(url, 'GET', '/ingest', upgradeHeaders({ host: `collector.example:${port}` }))).status, 101);
    } finally {
      await done();
    }
  });
});

/** A keep-alive connection from `from` that got an answer to one GET /healthz (null: refused). */
function answeredKeepAlive(port: number, from: string): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, localAddress: from });
    s.setTimeout(3000, () => s.destroy());
    s.on('error', () => undefined);
    s.once('connect', () => s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    s.once('data', (d: Buffer) => resolve(d.toString('latin1').startsWith('HTTP/1.1 200') ? s : (s.destroy(), null)));
    s.once('close', () => resolve(null));
  });
}

describe('connection caps', () => {
  const limits = { maxPreAuthPerAddress: 4, maxPreAuthTotal: 8, idleTimeoutMs: 4000 };

  it('an address holds at most maxPreAuthPerAddress HTTP connections, keep-alive ones included', async () => {
    const tmp = tempDir();
    const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: 'hostile-clients-secret-0001', limits });
    const held: Socket[] = [];
    try {
      let answered = 0;
      for (let i = 0; i < 12; i++) {
        const s = await answeredKeepAlive(c.port, '127.0.0.21');
        if (s) (answered++, held.push(s));
      }
      assert.equal(answered, 4, 'keep-alive connections after their first request still count against the address');
      // Another address is not affected, and the address gets its slots back once it lets go.
      assert.ok(await answeredKeepAlive(c.port, '127.0.0.22').then((s) => (s?.destroy(), s !== null)), 'another address');
      for (const s of held.splice(0)) s.destroy();
      await waitFor(async () => {
        const s = await answeredKeepAlive(c.port, '127.0.0.21');
        s?.destroy();
        return s !== null;
      }, 5000, 'the address to get a slot back');
    } finally {
      for (const s of held) s.destroy();
      await c.close();
      tmp.cleanup();
    }
  });

  it('all addresses together hold at most maxPreAuthTotal unauthenticated connections', async () => {
    const tmp = tempDir();
    const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: 'hostile-clients-secret-0001', limits });
    const held: Array<Awaited<ReturnType<typeof idleSocket>>> = [];
    try {
      // 5 addresses × 4 idle sockets: each address is within its own cap, 20 > the total of 8.
      for (let a = 0; a < 5; a++) for (let i = 0; i < 4; i++) held.push(await idleSocket(c.port, `127.0.0.${31 + a}`));
      await new Promise((r) => setTimeout(r, 300));
      const open = held.filter((h) => !h.socket.destroyed && h.socket.readyState === 'open').length;
      assert.equal(open, 8);
      assert.ok(c.metrics.rejects.get('preauth_cap')! >= 12, 'refusals are counted');
    } finally {
      for (const h of held) h.socket.destroy();
      await c.close();
      tmp.cleanup();
    }
  });
});

describe('security events under a flood from many addresses', () => {
  it('rows about enrolled agents outlive anonymous ones when the row cap is reached', async () => {
    const tmp = tempDir();
    const store = new SqliteStore(join(tmp.dir, 'assay.db'), { securityEvents: { windowMs: 60_000, retentionMs: 3_600_000, maxRows: 5, flushMs: 10, maxPending: 1000 } });
    try {
      const base = 29_916_667 * 60_000;
      await store.recordSecurityEvent({ tsMs: base, hostId: 'victim', peer: '10.9.9.9:4000', reason: 'key_mismatch', detail: 'someone has the id' });
      // Later, strangers from 20 addresses: 20 anonymous rows, far over the cap of 5.
      for (let i = 0; i < 20; i++) await store.recordSecurityEvent({ tsMs: base + 1000 + i, hostId: null, peer: `127.0.3.${i}:1`, reason: 'unknown_agent', detail: 'x' });
      const rows = await store.securityEvents(100);
      assert.equal(rows.length, 5, 'the cap holds');
      assert.ok(rows.some((r) => r.subject === 'victim' && r.reason === 'key_mismatch'), 'the enrolled agent\'s event is kept');
      assert.deepEqual(rows.filter((r) => r.hostId === null).map((r) => r.subject).sort(), ['127.0.3.16', '127.0.3.17', '127.0.3.18', '127.0.3.19'], 'the newest anonymous rows fill the rest');
      // Rows about agents alone still obey the cap (oldest go first).
      for (let i = 0; i < 6; i++) await store.recordSecurityEvent({ tsMs: base + 5000 + i, hostId: `h${i}`, peer: '10.0.0.1:1', reason: 'bad_signature', detail: 'y' });
      const after = await store.securityEvents(100);
      assert.deepEqual(after.map((r) => r.subject).sort(), ['h1', 'h2', 'h3', 'h4', 'h5']);
    } finally {
      await store.close();
      tmp.cleanup();
    }
  });
});

describe('security events name the enrolled agent a refused hello claimed to be', () => {
  it('key mismatch, bad hello signature and revoked: recorded with the agent id, so they count as the agent\'s', async () => {
    const tmp = tempDir();
    const secret = 'hostile-clients-secret-0001';
    const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: secret });
    try {
      const url = c.url.replace('http', 'ws') + '/ingest';
      const victim = await RawAgent.connect(url);
      await victim.hello(fullHello('victim-agent'), secret);
      victim.close();
      const intruder = await RawAgent.connect(url, '127.0.0.61');
      intruder.send(encodeAgentMessage({ hello: intruder.signedHello(fullHello('victim-agent'), secret) }));
      assert.equal((await intruder.closed).code, 4403);
      const forger = await RawAgent.connect(url, '127.0.0.62');
      forger.keys = victim.keys;
      forger.send(encodeAgentMessage({ hello: { ...forger.signedHello(fullHello('victim-agent')), nonceSignature: new Uint8Array(64) } }));
      assert.equal((await forger.closed).code, 4403);
      const stranger = await RawAgent.connect(url, '127.0.0.63');
      stranger.send(encodeAgentMessage({ hello: stranger.signedHello(fullHello('nobody-agent'), 'a-wrong-secret-a-wrong-secret') }));
      assert.equal((await stranger.closed).code, 4403);
      const events = await waitFor(async () => {
        const e = await c.store.securityEvents(100);
        return e.length >= 3 ? e : null;
      }, 5000, 'three security events');
      const by = (reason: string) => events.find((e) => e.reason === reason);
      assert.equal(by('key_mismatch')?.hostId, 'victim-agent');
      assert.equal(by('bad_hello_signature')?.hostId, 'victim-agent');
      assert.equal(by('unknown_agent')?.hostId, null, 'an id nobody enrolled stays anonymous');
      assert.equal(by('unknown_agent')?.subject, '127.0.0.63');
    } finally {
      await c.close();
      tmp.cleanup();
    }
  });
});

describe('existing private keys are made private', () => {
  it('a 0644 TLS key, report signing key and agent key are 0600 after the next start', async () => {
    const tmp = tempDir();
    const prev = process.umask(0o022);
    const mode = (f: string): string => '0' + (statSync(f).mode & 0o777).toString(8);
    try {
      const { loadOrCreateIdentity } = await import('../../agent/identity.js');
      const { collectorKeyPath, loadOrCreateKey } = await import('../../collector/report/sign.js');
      const dbPath = join(tmp.dir, 'data', 'assay.db');
      const stateDir = join(tmp.dir, 'agent');
      const first = await startCollector({ host: '127.0.0.1', port: 0, dbPath, tls: { selfSigned: true } });
      await first.close();
      loadOrCreateKey(collectorKeyPath(dbPath));
      loadOrCreateIdentity(stateDir);
      const files = [join(tmp.dir, 'data', 'tls-key.pem'), collectorKeyPath(dbPath), join(stateDir, 'agent.key'), join(stateDir, 'agent-id')];
      for (const f of files) chmodSync(f, 0o644);
      const again = await startCollector({ host: '127.0.0.1', port: 0, dbPath, tls: { selfSigned: true } });
      await again.close();
      loadOrCreateKey(collectorKeyPath(dbPath));
      loadOrCreateIdentity(stateDir);
      assert.deepEqual(files.map(mode), files.map(() => '0600'), files.join(', '));
    } finally {
      process.umask(prev);
      tmp.cleanup();
    }
  });
});

describe('/live is bounded', () => {
  it('at most maxLiveClients dashboards at once; the next is told to come back (503), and gets in once one leaves', async () => {
    const tmp = tempDir();
    const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: 'hostile-clients-secret-0001', limits: { maxLiveClients: 3 } });
    const { default: WebSocket } = await import('ws');
    const open = (): Promise<{ ws: InstanceType<typeof WebSocket>; status: number }> =>
      new Promise((resolve) => {
        const ws = new WebSocket(c.url.replace('http', 'ws') + '/live', ['assay.live']);
        ws.on('open', () => resolve({ ws, status: 101 }));
        ws.on('unexpected-response', (_req, res) => resolve({ ws, status: res.statusCode ?? 0 }));
        ws.on('error', () => undefined);
      });
    const held: Array<InstanceType<typeof WebSocket>> = [];
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await open();
        statuses.push(r.status);
        if (r.status === 101) held.push(r.ws);
      }
      assert.deepEqual(statuses, [101, 101, 101, 503, 503, 503]);
      held.shift()!.close();
      await waitFor(async () => {
        const r = await open();
        if (r.status === 101) held.push(r.ws);
        return r.status === 101;
      }, 5000, 'a slot after one dashboard left');
    } finally {
      for (const ws of held) ws.terminate();
      await c.close();
      tmp.cleanup();
    }
  });
});
