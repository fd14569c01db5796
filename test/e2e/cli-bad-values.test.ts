// Flag values a careless operator gives, each with a clear error before anything runs:
//  - a timeout or interval beyond what a Node timer holds (about 24.8 days): `--idle-timeout 30d`
//    started a collector that dropped every connection 1 ms after it opened (Node fires an
//    overflowing timer at once), so no agent and no browser ever reached it;
//  - a sampling interval of a few milliseconds, which only got the agent refused by the
//    collector's rate limit;
//  - config-file values that are empty, mappings or lists (`db:`), which went on as they were and
//    failed far away: "Cannot read properties of null (reading 'trim')", naming no option;
//  - `--public-host https://assay.example:7300` (a URL, not a name), which never matched a Host
//    header, so browsers were told to "add it with --public-host";
//  - the same value for the viewer and the admin token, which made every viewer an admin;
//  - `agents rotate-secret` with a mistyped --db, which wrote a fresh secret into a new folder and
//    said "new enrollment secret written" while the collector's real secret stayed valid.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { startCollector } from '../../collector/server.js';
import { tempDir, waitFor } from '../helpers/env.js';
import { runAssay, spawnAssay } from '../helpers/proc.js';

describe('durations that become timers', () => {
  it('--idle-timeout / --hello-timeout over 24 days are refused from a flag, the environment and a config file', async () => {
    const tmp = tempDir();
    try {
      const base = ['collector', '--port', '0', '--db', join(tmp.dir, 'assay.db')];
      const config = join(tmp.dir, 'c.yaml');
      writeFileSync(config, 'idleTimeout: 25d\n');
      for (const [args, env] of [
        [[...base, '--idle-timeout', '30d'], {}],
        [base, { ASSAY_HELLO_TIMEOUT: '30d' }],
        [[...base, '--config', config], {}],
      ] as Array<[string[], Record<string, string>]>) {
        const r = await runAssay(args, env, 20_000);
        assert.equal(r.code, 1, `${args.join(' ')} ${JSON.stringify(env)}: ${r.stderr}`);
        assert.match(r.stderr, /must be at most 24d \(2147483647 ms, the longest timer Node keeps/, r.stderr);
      }
      assert.equal(existsSync(join(tmp.dir, 'assay.db')), false, 'nothing was opened');
    } finally {
      tmp.cleanup();
    }
  });

  it('at the limit (24d) the collector answers HTTP and /ingest instead of dropping the connections', async () => {
    const tmp = tempDir();
    const c = spawnAssay(['collector', '--port', '0', '--db', join(tmp.dir, 'assay.db'), '--idle-timeout', '24d', '--hello-timeout', '24d']);
    try {
      const url = await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(c.output())?.[1], 20_000, 'the collector to listen');
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      // An /ingest socket gets its challenge and stays open past the first second.
      const ws = new WebSocket(`${url.replace('http', 'ws')}/ingest`);
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      ws.on('error', () => undefined);
      const first = await new Promise<Buffer>((resolve, reject) => {
        ws.once('message', (d: Buffer) => resolve(d));
        setTimeout(() => reject(new Error('no challenge within 5 s')), 5000);
      });
      assert.ok(first.length > 0, 'a challenge frame');
      const early = await Promise.race([closed, new Promise<null>((r) => setTimeout(() => r(null), 1000))]);
      assert.equal(early, null, 'the socket is still open after 1 s');
      ws.terminate();
    } finally {
      await c.stop();
      tmp.cleanup();
    }
  });

  it('agent, scan and record intervals: below 100 ms or above 24 days refused, naming the flag', async () => {
    for (const args of [
      ['agent', '--interval', '1ms'],
      ['agent', '--batch-interval', '30d'],
      ['agent', '--interval', '99999999999999999999999'],
      ['scan', '--interval', '10ms'],
      ['record', '--label', 'idle', '--interval', '30d', '--out', '/tmp/never-written.ndjson'],
      ['start', '--interval', '5ms', '--port', '0'],
    ]) {
      const r = await runAssay(args, {}, 20_000);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^assay: option '${args.find((a) => a.endsWith('interval'))}[^']*' argument '[^']+' is invalid\\. (must be at least 100 ms|must be at most 24d|.* is too long)`, 'm'), r.stderr);
    }
  });
});

describe('config file values', () => {
  it('an empty value, a mapping, or a list where one value belongs stops startup naming the file and the option', async () => {
    const tmp = tempDir();
    try {
      const config = join(tmp.dir, 'assay.yaml');
      for (const [text, want] of [
        ['db:\n', /^assay: config file .*assay\.yaml: db: no value \(write db: <value>, or leave the line out\)$/m],
        ['host:\n', /^assay: config file .*assay\.yaml: host: no value/m],
        ['dataDir: {path: /x}\n', /^assay: config file .*assay\.yaml: dataDir: expected one value, not a mapping$/m],
        ['rules: [a.yaml, b.yaml]\n', /^assay: config file .*assay\.yaml: rules: expected one value, not a list$/m],
      ] as Array<[string, RegExp]>) {
        writeFileSync(config, text);
        const r = await runAssay(['collector', '--port', '0', '--config', config], {}, 20_000, tmp.dir);
        assert.equal(r.code, 1, `${text}: ${r.stderr}`);
        assert.match(r.stderr, want, text);
      }
      assert.equal(existsSync(join(tmp.dir, 'data')), false, 'nothing was created');
    } finally {
      tmp.cleanup();
    }
  });

  it('a comma-list option may be a YAML list', async () => {
    const tmp = tempDir();
    const config = join(tmp.dir, 'assay.yaml');
    writeFileSync(config, 'publicHost: [a.example, b.example]\n');
    const c = spawnAssay(['collector', '--port', '0', '--db', join(tmp.dir, 'assay.db'), '--config', config]);
    try {
      const url = await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(c.output())?.[1], 20_000, 'the collector to listen');
      const { rawRequest } = await import('../helpers/rawhttp.js');
      for (const host of ['a.example', 'b.example']) assert.equal((await rawRequest(url, 'GET', '/healthz', { host })).status, 200, host);
      assert.equal((await rawRequest(url, 'GET', '/healthz', { host: 'c.example' })).status, 403);
    } finally {
      await c.stop();
      tmp.cleanup();
    }
  });
});

describe('collector names and tokens', () => {
  it('--public-host takes host names and addresses only; one token for both roles is refused', async () => {
    const tmp = tempDir();
    try {
      const base = ['collector', '--port', '0', '--db', join(tmp.dir, 'assay.db')];
      for (const [args, env, want] of [
        [[...base, '--public-host', 'ok.example,https://assay.example:7300'], {}, /^assay: option '--public-host <names>' argument .* is invalid\. "https:\/\/assay\.example:7300" is not a host name or IP address \(no scheme, port or path/m],
        [base, { ASSAY_PUBLIC_HOST: 'assay example' }, /"assay example" is not a host name or IP address/],
        [[...base, '--require-tokens'], { ASSAY_VIEWER_TOKEN: 'the-same-token-0001', ASSAY_ADMIN_TOKEN: 'the-same-token-0001' }, /^assay: the viewer token and the admin token are the same: viewers could revoke agents/m],
      ] as Array<[string[], Record<string, string>, RegExp]>) {
        const r = await runAssay(args, env, 20_000);
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, want);
      }
      await assert.rejects(startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'x.db'), requireTokens: true, viewerToken: 'same-token-000000001', adminToken: 'same-token-000000001' }), /the viewer token and the admin token are the same/);
      const ok = spawnAssay([...base, '--public-host', 'assay.example,10.0.0.7,::1']);
      try {
        await waitFor(() => /listening on/.test(ok.output()), 20_000, 'names and addresses are taken');
      } finally {
        await ok.stop();
      }
    } finally {
      tmp.cleanup();
    }
  });
});

describe('TLS flags', () => {
  it('half a certificate pair, or a certificate with --tls-self-signed, stops startup naming the flags', async () => {
    const tmp = tempDir();
    try {
      const base = ['collector', '--port', '0', '--db', join(tmp.dir, 'assay.db')];
      const cert = join(tmp.dir, 'c.pem');
      writeFileSync(cert, 'not read: the flags are checked first\n');
      for (const [args, want] of [
        [[...base, '--tls-cert', cert], /^assay: --tls-cert needs --tls-key/m],
        [[...base, '--tls-key', cert], /^assay: --tls-key needs --tls-cert/m],
        [[...base, '--tls-cert', cert, '--tls-key', cert, '--tls-self-signed'], /^assay: --tls-self-signed and --tls-cert exclude each other/m],
      ] as Array<[string[], RegExp]>) {
        const r = await runAssay(args, {}, 20_000);
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, want);
      }
      assert.equal(existsSync(join(tmp.dir, 'assay.db')), false, 'nothing was opened');
    } finally {
      tmp.cleanup();
    }
  });
});

describe('agents rotate-secret', () => {
  it('a mistyped --db is refused: no new folder, no new secret, the real one untouched', async () => {
    const tmp = tempDir();
    try {
      const db = join(tmp.dir, 'assay.db');
      const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: db });
      await c.close();
      const real = readFileSync(join(tmp.dir, 'enroll-secret'), 'utf8');
      const typo = join(tmp.dir, 'dta', 'assay.db');
      const r = await runAssay(['agents', 'rotate-secret', '--db', typo], {}, 20_000);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /^assay: no enrollment secret at .*dta\/enroll-secret to rotate: give the --db \(and --data-dir\) the collector runs with/m);
      assert.doesNotMatch(r.stdout, /written/);
      assert.equal(existsSync(join(tmp.dir, 'dta')), false);
      assert.equal(readFileSync(join(tmp.dir, 'enroll-secret'), 'utf8'), real);
      const ok = await runAssay(['agents', 'rotate-secret', '--db', db], {}, 20_000);
      assert.equal(ok.code, 0, ok.stderr);
      assert.notEqual(readFileSync(join(tmp.dir, 'enroll-secret'), 'utf8'), real, 'the right --db rotates');
    } finally {
      tmp.cleanup();
    }
  });
});

describe('assay scan: its signing key and output files', () => {
  it('a --key that is not an Ed25519 private key, or --json and --html naming one file, stops before the scan', async () => {
    const tmp = tempDir();
    try {
      const notPem = join(tmp.dir, 'token.txt');
      writeFileSync(notPem, 'not-a-key-at-all-0123456789\n');
      const same = join(tmp.dir, 'scan.out');
      for (const [args, want] of [
        // Before: "assay: error:1E08010C:DECODER routines::unsupported", naming neither flag nor file.
        [['--key', notPem], new RegExp(`^assay: --key ${notPem.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not an Ed25519 private key in PEM form`)],
        // Before: both written to one path, the HTML over the JSON, and "wrote" said twice.
        [['--json', same, '--html', same], /^assay: --json and --html name the same file/],
      ] as Array<[string[], RegExp]>) {
        const started = Date.now();
        const r = await runAssay(['scan', '--duration', '30s', ...args], {}, 20_000);
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}${r.stdout}`);
        assert.match(r.stderr, want);
        assert.ok(Date.now() - started < 15_000, 'refused before the 30 s scan');
        assert.equal(existsSync(same), false, 'nothing written');
      }
    } finally {
      tmp.cleanup();
    }
  });
});

describe('JSON reports in files named as web pages', () => {
  // verify refuses a JSON report in a .html/.htm/.xhtml/.shtml file: a browser opens it as a page
  // and renders markup from an agent's hostname or process names. The commands wrote such files:
  // `report --out r.htm` (only `.html` meant HTML) and `--format json --out r.html`, `scan --json s.html`.
  it('report --out x.htm writes HTML; --format json or scan --json to a page name is refused before any work', async () => {
    const tmp = tempDir();
    try {
      const db = join(tmp.dir, 'assay.db');
      const secret = 'page-name-secret-0123456789';
      const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: db, enrollSecret: secret });
      const { RawAgent } = await import('../helpers/rawagent.js');
      const { fullHello } = await import('../helpers/messages.js');
      const a = await RawAgent.connect(c.url.replace('http', 'ws') + '/ingest');
      await a.hello({ ...fullHello('page-agent'), hostname: '<img src=x onerror=alert(1)>' }, secret);
      a.close();
      await c.close();

      const htm = join(tmp.dir, 'r.HTM');
      const r = await runAssay(['report', '--db', db, '--host', 'page-agent', '--out', htm]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(readFileSync(htm, 'utf8'), /^<!doctype html>/, 'an .HTM name gets the HTML report');
      assert.equal((await runAssay(['verify', htm])).code, 0);

      for (const args of [
        ['report', '--db', db, '--host', 'page-agent', '--format', 'json', '--out', join(tmp.dir, 'r.html')],
        ['report', '--db', db, '--host', 'page-agent', '--format', 'json', '--out', join(tmp.dir, 'r.xhtml')],
        ['scan', '--duration', '30s', '--json', join(tmp.dir, 's.shtml')],
      ]) {
        const started = Date.now();
        const x = await runAssay(args, {}, 20_000);
        assert.equal(x.code, 1, `${args.join(' ')}: ${x.stderr}`);
        assert.match(x.stderr, /^assay: .* is named as a web page: a browser would open the JSON report as a page/, x.stderr);
        assert.ok(Date.now() - started < 15_000, 'refused before any work');
        assert.equal(existsSync(args.at(-1)!), false, 'nothing written');
      }
    } finally {
      tmp.cleanup();
    }
  });
});
