// Route protection is decided on the routed path: every route of the declared table, spelled
// every way an attacker might (percent-encoded, %2F, doubled slashes, trailing dot or slash,
// other case, dot segments, through the static prefix, ?token= in the query), gets 401/403/404
// and never data, with --require-tokens on loopback and on a TLS collector bound off loopback.
// Plus: admin routes need the admin token on loopback, cross-origin and wrong-Host requests
// are refused, and every response carries the security headers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROUTES } from '../../collector/routes.js';
import { verdictOf } from '../helpers/fleet.js';
import { startCollector, type CollectorOptions } from '../../collector/server.js';
import { tempDir } from '../helpers/env.js';
import { rawRequest, upgradeHeaders, type RawResponse } from '../helpers/rawhttp.js';

const SECRET = 'routes-auth-enroll-secret';
const VIEWER = 'viewer-token-routes-0001';
const ADMIN = 'admin-token-routes-000001';
const VICTIM = 'victim-agent-7f3a';

const hex = (c: string): string => '%' + c.charCodeAt(0).toString(16).padStart(2, '0');

/** Every non-canonical spelling of `path` we try. */
export function spellings(path: string): string[] {
  const segs = path.split('/').slice(1);
  const out = new Set<string>();
  segs.forEach((s, i) => {
    if (!s) return;
    for (const h of [hex(s[0]!), hex(s[0]!).toUpperCase()]) {
      const copy = [...segs];
      copy[i] = h + s.slice(1);
      out.add('/' + copy.join('/'));
    }
  });
  out.add('/' + segs.map((s) => [...s].map(hex).join('')).join('/'));
  if (segs.length > 1) {
    out.add('/' + segs.join('%2F'));
    out.add('/' + segs.join('%2f'));
    out.add('/' + segs.join('//'));
    out.add('/' + segs[0] + '/./' + segs.slice(1).join('/'));
    out.add('/' + segs[0] + '/x/../' + segs.slice(1).join('/'));
  }
  out.add('/' + path);
  out.add('/%2F' + path.slice(1));
  out.add(path + '/');
  out.add(path + '.');
  out.add(path + '%2e');
  out.add(path + '/.');
  out.add(path + '%00');
  out.add(path.toUpperCase());
  out.add('/' + path[1]!.toUpperCase() + path.slice(2));
  out.add('/assets/..' + path);
  out.add('/assets/%2e%2e' + path);
  out.add(path + '?token=' + VIEWER);
  out.add(path + '?token=' + ADMIN);
  out.delete(path);
  return [...out];
}

/** Fleet data a refused answer must never contain. */
function assertNoData(r: RawResponse, what: string): void {
  assert.ok([401, 403, 404].includes(r.status), `${what}: status ${r.status} (${r.body.slice(0, 120)})`);
  for (const marker of [VICTIM, 'victim-hostname', 'assay_', '"hosts"', 'revoked']) {
    assert.ok(!r.body.includes(marker), `${what}: answer contains "${marker}": ${r.body.slice(0, 200)}`);
  }
}

async function collectorWithVictim(opts: Partial<CollectorOptions>): Promise<{ c: Awaited<ReturnType<typeof startCollector>>; dir: string; done: () => Promise<void> }> {
  const tmp = tempDir();
  const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET, ...opts });
  await c.store.upsertHost({ agentId: VICTIM, hostname: 'victim-hostname', publicKey: new Uint8Array(32).fill(7) }, Date.now());
  // A verdict, so the class-change feed has the victim in it too (its positive control).
  await c.store.putVerdict(VICTIM, Date.now(), verdictOf('pow-mining', Date.now(), 0.9));
  await c.fleet.reconcile(c.store, Date.now()); // written behind the collector's back: into its fleet summary now, not in 30 s
  return { c, dir: tmp.dir, done: async () => (await c.close(), tmp.cleanup()) };
}

const protectedRoutes = ROUTES.filter((r) => r.role === 'viewer' || r.role === 'admin');
const concrete = (example: string): string => example.replace('HOST', VICTIM);

async function tryEverySpelling(base: string, token: string | null): Promise<number> {
  let tried = 0;
  // A viewer token may read viewer routes however it spells them; it is tried on admin routes.
  for (const route of protectedRoutes.filter((r) => token !== VIEWER || r.role === 'admin')) {
    for (const path of spellings(concrete(route.example))) {
      const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      if (route.websocket) {
        if (path.startsWith(route.url + '?token=')) continue; // /live takes ?token= by design (see below)
        const r = await rawRequest(base, 'GET', path, upgradeHeaders(auth));
        assert.notEqual(r.status, 101, `upgrade ${path} was accepted`);
        assertNoData(r, `upgrade ${path}`);
      } else {
        for (const method of ['GET', 'HEAD', 'POST'] as const) {
          if (method === 'HEAD') continue; // HEAD shares GET's route and answers without a body
          const r = await rawRequest(base, method, path, { ...auth, 'content-type': 'application/json' });
          assertNoData(r, `${method} ${path} (${token ?? 'no token'})`);
        }
      }
      tried++;
    }
  }
  return tried;
}

describe('route protection on the routed path', () => {
  it('the table covers every route: declared roles, and positive controls that return data', async () => {
    const { c, done } = await collectorWithVictim({ requireTokens: true, viewerToken: VIEWER, adminToken: ADMIN });
    try {
      for (const route of ROUTES.filter((r) => !r.websocket && r.method === 'GET' && r.role === 'viewer')) {
        const r = await rawRequest(c.url, 'GET', concrete(route.example), { authorization: `Bearer ${VIEWER}` });
        assert.equal(r.status, 200, `${route.url} with the viewer token`);
        if (route.url !== '/metrics') assert.ok(r.body.includes(VICTIM), `${route.url}: the control answer carries data, so the no-data checks can fail`);
        assertNoData(await rawRequest(c.url, 'GET', concrete(route.example)), `${route.url} without a token`);
      }
    } finally {
      await done();
    }
  });

  it('--require-tokens on loopback: no spelling of any protected route gives data without a token or with the viewer token on admin routes', async () => {
    const { c, done } = await collectorWithVictim({ requireTokens: true, viewerToken: VIEWER, adminToken: ADMIN });
    try {
      const tried = await tryEverySpelling(c.url, null);
      assert.ok(tried >= protectedRoutes.length * 20, `tried ${tried} spellings`);
      await tryEverySpelling(c.url, VIEWER);
      assert.equal((await c.store.getHost(VICTIM))?.revokedMs, null, 'the victim was never revoked');
    } finally {
      await done();
    }
  });

  it('TLS collector bound off loopback (0.0.0.0, reached on 127.0.0.1): the same', async () => {
    const { c, done } = await collectorWithVictim({ host: '0.0.0.0', tls: { selfSigned: true }, viewerToken: VIEWER, adminToken: ADMIN });
    try {
      const base = `https://127.0.0.1:${c.port}`;
      assert.equal((await rawRequest(base, 'GET', '/api/hosts', { authorization: `Bearer ${VIEWER}` })).status, 200);
      // The scheme is case-insensitive (RFC 9110); the token itself is not.
      assert.equal((await rawRequest(base, 'GET', '/api/hosts', { authorization: `bearer ${VIEWER}` })).status, 200);
      assert.equal((await rawRequest(base, 'GET', '/api/hosts', { authorization: `BEARER  ${VIEWER}` })).status, 200);
      assert.equal((await rawRequest(base, 'GET', '/api/hosts', { authorization: `Bearer ${VIEWER.toUpperCase() === VIEWER ? VIEWER.toLowerCase() : VIEWER.toUpperCase()}` })).status, 401);
      assert.equal((await rawRequest(base, 'GET', '/api/hosts', { authorization: `Bearer${VIEWER}` })).status, 401);
      await tryEverySpelling(base, null);
      await tryEverySpelling(base, VIEWER);
      assert.equal((await c.store.getHost(VICTIM))?.revokedMs, null, 'the victim was never revoked');
    } finally {
      await done();
    }
  });

  it('POST /api/agents/:id/revoke: no encoded spelling reaches it, and it needs the admin token even on an open loopback collector', async () => {
    const { c, dir, done } = await collectorWithVictim({});
    try {
      const json = { 'content-type': 'application/json' };
      for (const path of spellings(`/api/agents/${VICTIM}/revoke`)) assertNoData(await rawRequest(c.url, 'POST', path, json), `POST ${path}`);
      const plain = await rawRequest(c.url, 'POST', `/api/agents/${VICTIM}/revoke`, json);
      assert.equal(plain.status, 401, 'no admin token on loopback: refused');
      assert.equal((await rawRequest(c.url, 'GET', '/api/hosts')).status, 200, 'viewer routes stay open on loopback');
      const adminToken = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
      for (const path of spellings(`/api/agents/${VICTIM}/revoke`)) {
        const r = await rawRequest(c.url, 'POST', path, { ...json, origin: 'http://evil.example' , authorization: `Bearer ${adminToken}` });
        assert.ok([403, 404].includes(r.status), `POST ${path} from another origin: ${r.status}`);
      }
      assert.equal((await c.store.getHost(VICTIM))?.revokedMs, null, 'still not revoked');
      const ok = await rawRequest(c.url, 'POST', `/api/agents/${VICTIM}/revoke`, { ...json, authorization: `Bearer ${adminToken}` });
      assert.equal(ok.status, 200, ok.body);
      assert.ok((await c.store.getHost(VICTIM))?.revokedMs, 'the admin token revokes');
    } finally {
      await done();
    }
  });
});

describe('browser-facing checks', () => {
  it('refuses other origins, other Host names and non-JSON posts; /live checks Origin and Host', async () => {
    const { c, dir, done } = await collectorWithVictim({});
    try {
      const admin = { authorization: `Bearer ${readFileSync(join(dir, 'admin-token'), 'utf8').trim()}` };
      const revoke = `/api/agents/${VICTIM}/revoke`;
      assert.equal((await rawRequest(c.url, 'POST', revoke, { ...admin, 'content-type': 'text/plain' }, '{}')).status, 415);
      assert.equal((await rawRequest(c.url, 'POST', revoke, { ...admin, 'content-type': 'application/x-www-form-urlencoded' }, 'a=b')).status, 415);
      assert.equal((await rawRequest(c.url, 'POST', revoke, { ...admin })).status, 415, 'no content type');
      for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${c.port + 1}`, `https://127.0.0.1:${c.port}`]) {
        assert.equal((await rawRequest(c.url, 'POST', revoke, { ...admin, 'content-type': 'application/json', origin })).status, 403, `Origin ${origin}`);
        const live = await rawRequest(c.url, 'GET', '/live', upgradeHeaders({ origin }));
        assert.equal(live.status, 403, `/live from ${origin}`);
      }
      for (const host of ['evil.example', `evil.example:${c.port}`, `127.0.0.1.evil.example:${c.port}`, 'localhost@evil.example']) {
        assertNoData(await rawRequest(c.url, 'GET', '/api/hosts', { host }), `Host ${host}`);
        assert.equal((await rawRequest(c.url, 'GET', '/live', upgradeHeaders({ host }))).status, 403, `/live with Host ${host}`);
      }
      for (const host of [`localhost:${c.port}`, `127.0.0.1:${c.port}`]) assert.equal((await rawRequest(c.url, 'GET', '/api/hosts', { host })).status, 200, `Host ${host}`);
      assert.equal((await rawRequest(c.url, 'GET', '/live', upgradeHeaders({ origin: c.url }))).status, 101, 'same-origin /live opens');
      assert.equal((await c.store.getHost(VICTIM))?.revokedMs, null);
    } finally {
      await done();
    }
  });

  it('--public-host adds names to the Host allow-list; a wildcard bind answers to this machine\'s addresses', async () => {
    const { c, done } = await collectorWithVictim({ publicHosts: ['Assay.Example', '::1'] });
    try {
      assert.equal((await rawRequest(c.url, 'GET', '/api/hosts', { host: `assay.example:${c.port}` })).status, 200);
      assert.equal((await rawRequest(c.url, 'GET', '/api/hosts', { host: `[::1]:${c.port}` })).status, 200);
      assertNoData(await rawRequest(c.url, 'GET', '/api/hosts', { host: `other.example:${c.port}` }), 'a name not listed');
    } finally {
      await done();
    }
    const { siteConfig } = await import('../../collector/site.js');
    const { networkInterfaces } = await import('node:os');
    const wildcard = siteConfig('0.0.0.0');
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4') assert.ok(wildcard.allowedHosts.has(a.address), a.address);
    assert.ok(!siteConfig('127.0.0.1').allowedHosts.has('evil.example'));
  });

  it('only /live takes ?token=; the dashboard sub-protocol carries a token without putting it in the URL', async () => {
    const { c, done } = await collectorWithVictim({ requireTokens: true, viewerToken: VIEWER, adminToken: ADMIN });
    try {
      assert.equal((await rawRequest(c.url, 'GET', `/api/hosts?token=${VIEWER}`)).status, 401);
      assert.equal((await rawRequest(c.url, 'GET', `/live?token=${VIEWER}`, upgradeHeaders())).status, 101);
      const proto = (t: string): Record<string, string> => ({ 'sec-websocket-protocol': `assay.live, assay.bearer.${Buffer.from(t).toString('base64url')}` });
      const ok = await rawRequest(c.url, 'GET', '/live', upgradeHeaders(proto(VIEWER)));
      assert.equal(ok.status, 101);
      assert.equal(ok.headers['sec-websocket-protocol'], 'assay.live', 'the token is not echoed back');
      assert.equal((await rawRequest(c.url, 'GET', '/live', upgradeHeaders(proto('not-the-token-000000')))).status, 401);
    } finally {
      await done();
    }
  });

  it('every response carries CSP, nosniff and frame-ancestors none: pages, static files, errors, 404s, refusals', async () => {
    const { c, done } = await collectorWithVictim({ requireTokens: true, viewerToken: VIEWER, adminToken: ADMIN });
    try {
      const answers: Array<[string, RawResponse]> = [
        ['/', await rawRequest(c.url, 'GET', '/')],
        ['/assets/app.js', await rawRequest(c.url, 'GET', '/assets/app.js')],
        ['/vendor/uplot/uPlot.min.css', await rawRequest(c.url, 'GET', '/vendor/uplot/uPlot.min.css')],
        ['/healthz', await rawRequest(c.url, 'GET', '/healthz')],
        ['401', await rawRequest(c.url, 'GET', '/api/hosts')],
        ['400', await rawRequest(c.url, 'GET', '/api/hosts/x/samples?from=-1', { authorization: `Bearer ${VIEWER}` })],
        ['404', await rawRequest(c.url, 'GET', '/nothing-here')],
        ['bad URL', await rawRequest(c.url, 'GET', '/%')],
        ['traversal', await rawRequest(c.url, 'GET', '/assets/../package.json')],
        ['403 host', await rawRequest(c.url, 'GET', '/', { host: 'evil.example' })],
        ['upgrade 401', await rawRequest(c.url, 'GET', '/live', upgradeHeaders())],
        ['upgrade 404', await rawRequest(c.url, 'GET', '/%6Cive', upgradeHeaders())],
      ];
      for (const [what, r] of answers) {
        assert.ok(r.status > 0, what);
        assert.match(r.headers['content-security-policy'] ?? '', /frame-ancestors 'none'/, `${what}: CSP`);
        assert.equal(r.headers['x-content-type-options'], 'nosniff', `${what}: nosniff`);
        assert.equal(r.headers['x-frame-options'], 'DENY', `${what}: X-Frame-Options`);
      }
      assert.match(answers[0]![1].headers['content-security-policy']!, /default-src 'self'/);
      assert.equal(answers[1]![1].status, 200);
      assert.equal(answers[7]![1].status, 400);
    } finally {
      await done();
    }
  });

  it('an undeclared route stops startup', async () => {
    const { assertDeclared } = await import('../../collector/routes.js');
    assert.throws(() => assertDeclared('GET', '/api/secret-new-route'), /no declared role/);
    assert.throws(() => assertDeclared(['GET', 'DELETE'], '/api/hosts/:id'), /DELETE \/api\/hosts\/:id has no declared role/);
    assert.doesNotThrow(() => assertDeclared(['GET', 'HEAD'], '/assets/*'));
  });
});
