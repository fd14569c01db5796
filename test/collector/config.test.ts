// Configuration that must stop startup, or must mean what it says: strict booleans from the
// environment and config files, tokens and secrets with a minimum length, --db values that are
// not a SQLite file, malformed and read-only databases (named in the error), and terminal
// escapes in agent data printed by `assay agents list`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startCollector } from '../../collector/server.js';
import { parseBool } from '../../proto/bool.js';
import { termSafe } from '../../proto/term.js';
import { cliPath, freePort, tempDir } from '../helpers/env.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI; resolves when it exits, or (with `untilListening`) once it says it is
 * listening, then stops it. Bounded: killed after 20 s.
 */
function cli(args: string[], opts: { env?: Record<string, string>; untilListening?: boolean; uid?: number; gid?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, ASSAY_LOG_LEVEL: 'silent', ...opts.env };
    for (const k of Object.keys(env)) if (k.startsWith('ASSAY_') && !(opts.env && k in opts.env) && k !== 'ASSAY_LOG_LEVEL') delete env[k];
    const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid! } : {}) });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      if (opts.untilListening && /listening on/.test(stderr)) child.kill('SIGTERM');
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('strict booleans', () => {
  it('parseBool takes true/false/1/0/yes/no/on/off in any case and refuses the rest by name', () => {
    for (const v of ['true', 'TRUE', '1', 'yes', 'On', ' on ', true, 1]) assert.equal(parseBool('x', v), true, String(v));
    for (const v of ['false', 'False', '0', 'no', 'NO', 'off', false, 0]) assert.equal(parseBool('x', v), false, String(v));
    for (const v of ['maybe', '', '2', 'y', 'n', 'enable', null, {}, 2]) assert.throws(() => parseBool('ASSAY_ALLOW_PLAIN', v), /ASSAY_ALLOW_PLAIN: .* is not a boolean/, String(v));
  });

  it('ASSAY_ALLOW_PLAIN=false / =0 and config allowPlain: no keep plain ws:// off; =maybe stops startup naming it', async () => {
    const tmp = tempDir();
    try {
      const base = ['collector', '--host', '0.0.0.0', '--port', '0', '--db', join(tmp.dir, 'assay.db')];
      for (const value of ['false', '0', 'off', 'NO']) {
        const r = await cli(base, { env: { ASSAY_ALLOW_PLAIN: value } });
        assert.equal(r.code, 1, `ASSAY_ALLOW_PLAIN=${value}: ${r.stderr}`);
        assert.match(r.stderr, /refusing to take agents over plain ws:\/\//, `ASSAY_ALLOW_PLAIN=${value} must mean off`);
      }
      const config = join(tmp.dir, 'assay.yaml');
      writeFileSync(config, 'allowPlain: no\n');
      const fromFile = await cli([...base, '--config', config]);
      assert.equal(fromFile.code, 1);
      assert.match(fromFile.stderr, /refusing to take agents over plain ws:\/\//, 'allowPlain: no must mean off');
      writeFileSync(config, 'allowPlain: perhaps\n');
      const badFile = await cli([...base, '--config', config]);
      assert.equal(badFile.code, 1);
      assert.match(badFile.stderr, /allowPlain.*"perhaps" is not a boolean/);
      const maybe = await cli(base, { env: { ASSAY_ALLOW_PLAIN: 'maybe' } });
      assert.equal(maybe.code, 1);
      assert.match(maybe.stderr, /ASSAY_ALLOW_PLAIN.*"maybe" is not a boolean/);
      // Positive control: a true value really turns it on (the collector starts).
      const on = await cli(base, { env: { ASSAY_ALLOW_PLAIN: 'yes' }, untilListening: true });
      assert.match(on.stderr, /listening on http:\/\/0\.0\.0\.0:/, on.stderr);
      const req = await cli(['collector', '--port', '0', '--db', join(tmp.dir, 'r.db')], { env: { ASSAY_REQUIRE_TOKENS: 'sure' } });
      assert.match(req.stderr, /ASSAY_REQUIRE_TOKENS.*"sure" is not a boolean/);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('secrets, tokens and --db values that stop startup', () => {
  it('tokens and secrets shorter than 16 characters are refused, naming which', async () => {
    const tmp = tempDir();
    try {
      const db = join(tmp.dir, 'assay.db');
      await assert.rejects(startCollector({ host: '127.0.0.1', port: 0, dbPath: db, enrollSecret: 'short' }), /enrollment secret must be at least 16 characters/);
      await assert.rejects(startCollector({ host: '127.0.0.1', port: 0, dbPath: db, enrollSecret: 'x'.repeat(16), adminToken: 'abc' }), /admin token must be at least 16/);
      await assert.rejects(startCollector({ host: '127.0.0.1', port: 0, dbPath: db, enrollSecret: 'x'.repeat(16), requireTokens: true, viewerToken: 'v'.repeat(15) }), /viewer token must be at least 16/);
      const r = await cli(['collector', '--port', '0', '--db', db], { env: { ASSAY_ADMIN_TOKEN: 'tiny' } });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /admin token must be at least 16 characters/);
      writeFileSync(join(tmp.dir, 'enroll-secret'), 'too-short\n', { mode: 0o600 });
      await assert.rejects(startCollector({ host: '127.0.0.1', port: 0, dbPath: db }), /enroll-secret must be at least 16 characters/);
    } finally {
      tmp.cleanup();
    }
  });

  it('--db: a URL other than postgres:// stops startup with a clear error and creates nothing', async () => {
    const tmp = tempDir();
    try {
      for (const db of ['sqlite:./x.db', 'file:assay.db?mode=ro', 'mysql://u@localhost/assay']) {
        const r = await cli(['collector', '--port', '0', '--db', db, '--data-dir', join(tmp.dir, 'd')], {});
        assert.equal(r.code, 1, db);
        assert.match(r.stderr, /looks like a URL the collector cannot use: give a SQLite file path such as \.\/data\/assay\.db, or postgres:\/\/user@host:5432\/database/, db);
      }
      assert.equal(existsSync('sqlite:.'), false);
      assert.equal(existsSync('mysql:'), false);
    } finally {
      tmp.cleanup();
    }
  });

  it('--db postgres://… that cannot be reached or is malformed stops startup with an error naming it (password hidden), and creates no postgres: folder', async () => {
    const tmp = tempDir();
    try {
      const port = await freePort();
      const r = await cli(['collector', '--port', '0', '--db', `postgres://assay:hunter2-secret@127.0.0.1:${port}/assay`, '--data-dir', join(tmp.dir, 'd')], {});
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`database postgres://assay:\\*\\*\\*@127\\.0\\.0\\.1:${port}/assay: .*ECONNREFUSED`));
      assert.doesNotMatch(r.stderr, /hunter2/, 'the password is not printed');
      const noDb = await cli(['collector', '--port', '0', '--db', 'postgres://assay@127.0.0.1:5432', '--data-dir', join(tmp.dir, 'd')], {});
      assert.equal(noDb.code, 1);
      assert.match(noDb.stderr, /names no database; write postgres:\/\/user@host:5432\/database/);
      assert.equal(existsSync('postgres:'), false, 'no folder named postgres: was created');
    } finally {
      tmp.cleanup();
    }
  });

  it('a malformed database file is named in the error, for the collector and for `assay agents list`', async () => {
    const tmp = tempDir();
    try {
      const db = join(tmp.dir, 'assay.db');
      writeFileSync(db, 'this is not a SQLite database, it is a text file that is long enough to have a header'.repeat(20));
      await assert.rejects(startCollector({ host: '127.0.0.1', port: 0, dbPath: db, enrollSecret: 'x'.repeat(16) }), (err: Error) => err.message.includes(db) && /not a database/.test(err.message));
      const r = await cli(['agents', 'list', '--db', db]);
      assert.equal(r.code, 1);
      assert.ok(r.stderr.includes(db) && /not a database/.test(r.stderr), r.stderr);
      const missing = await cli(['agents', 'list', '--db', join(tmp.dir, 'nope.db')]);
      assert.match(missing.stderr, /no database at .*nope\.db/);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('read-only database', () => {
  // Root ignores file modes, so under root the collector runs as nobody (65534), for whom the
  // modes hold; as any other user it runs as that user.
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? { uid: 65534, gid: 65534 } : {};
  const own = (path: string): void => {
    if (asRoot) chownSync(path, 65534, 65534);
  };

  async function seededDb(): Promise<{ dir: string; db: string; cleanup: () => void }> {
    const tmp = tempDir();
    chmodSync(tmp.dir, 0o755);
    const dir = join(tmp.dir, 'data');
    const db = join(dir, 'assay.db');
    const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: db });
    await c.close();
    for (const f of ['', '/assay.db', '/enroll-secret', '/admin-token']) own(dir + f);
    return { dir, db, cleanup: tmp.cleanup };
  }

  it('a database file without write permission stops startup, naming the file', async () => {
    const { db, cleanup } = await seededDb();
    try {
      chmodSync(db, 0o444);
      const r = await cli(['collector', '--port', '0', '--db', db], { ...user, untilListening: true });
      assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
      assert.ok(r.stderr.includes(`database ${db} cannot be written`), r.stderr);
      assert.doesNotMatch(r.stderr, /listening on/);
      // Control: the same file (and the -wal/-shm SQLite made from its mode), writable, starts.
      for (const f of [db, `${db}-wal`, `${db}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
      const ok = await cli(['collector', '--port', '0', '--db', db], { ...user, untilListening: true });
      assert.match(ok.stderr, /listening on/, ok.stderr);
    } finally {
      cleanup();
    }
  });

  it('a database in a folder without write permission stops startup, naming the file', async () => {
    const { dir, db, cleanup } = await seededDb();
    try {
      chmodSync(dir, 0o555);
      const r = await cli(['collector', '--port', '0', '--db', db], { ...user, untilListening: true });
      assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
      assert.ok(r.stderr.includes(db), r.stderr);
      assert.doesNotMatch(r.stderr, /listening on/);
    } finally {
      chmodSync(dir, 0o755);
      cleanup();
    }
  });
});

describe('terminal output', () => {
  it('termSafe shows control characters and bidi overrides as escapes, keeps newlines, tabs and text', () => {
    assert.equal(termSafe('a\x1b[2J\x1b]0;owned\x07b'), 'a\\x1b[2J\\x1b]0;owned\\x07b');
    assert.equal(termSafe('x\x9by\x7fz\u202eq'), 'x\\x9by\\x7fz\\u202eq');
    assert.equal(termSafe('line\n\ttab é 中'), 'line\n\ttab é 中');
  });

  it('`assay agents list` prints hostile hostnames without a single raw control character', async () => {
    const tmp = tempDir();
    try {
      const db = join(tmp.dir, 'assay.db');
      const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: db, enrollSecret: 'x'.repeat(16) });
      await c.store.upsertHost({ agentId: 'evil-1', hostname: 'host\x1b[2J\x1b[31mRED\x1b]0;title\x07\r\u202egnp.exe', publicKey: new Uint8Array(32).fill(1) }, Date.now());
      await c.close();
      const r = await cli(['agents', 'list', '--db', db]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes('evil-1'), r.stdout);
      assert.match(r.stdout, /^ID +HOSTNAME +KEY +LAST SEEN +SEQ +STATUS$/m, 'a header row');
      assert.ok(r.stdout.includes('host\\x1b[2J\\x1b[31mRED'), r.stdout);
      assert.doesNotMatch(r.stdout.replace(/\n/g, ''), /[\x00-\x1f\x7f-\x9f\u202e]/, 'no raw control character reached the terminal');
      const json = await cli(['agents', 'list', '--db', db, '--json']);
      assert.equal(JSON.parse(json.stdout)[0].hostname, 'host\x1b[2J\x1b[31mRED\x1b]0;title\x07\r\u202egnp.exe', 'JSON keeps the exact value (escaped by JSON)');
    } finally {
      tmp.cleanup();
    }
  });
});

describe('enrollment secret', () => {
  it('`assay agents rotate-secret` writes a new 0600 secret beside the database', async () => {
    const tmp = tempDir();
    try {
      const db = join(tmp.dir, 'assay.db');
      const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: db });
      await c.close();
      const before = readFileSync(join(tmp.dir, 'enroll-secret'), 'utf8');
      const r = await cli(['agents', 'rotate-secret', '--db', db]);
      assert.equal(r.code, 0, r.stderr);
      const after = readFileSync(join(tmp.dir, 'enroll-secret'), 'utf8');
      assert.notEqual(after, before);
      assert.ok(!r.stdout.includes(after.trim()), 'the secret itself is not printed');
      assert.equal(statSync(join(tmp.dir, 'enroll-secret')).mode & 0o777, 0o600);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('retention flags', () => {
  it('--raw-retention / --rollup-retention take durations from flags, env and the config file; nonsense stops startup', async () => {
    const tmp = tempDir();
    try {
      const base = ['collector', '--port', '0', '--db', join(tmp.dir, 'assay.db')];
      const inverted = await cli([...base, '--raw-retention', '40d', '--rollup-retention', '30d']);
      assert.equal(inverted.code, 1);
      assert.match(inverted.stderr, /roll-up retention .* must be at least the raw retention/);
      const bad = await cli(base, { env: { ASSAY_RAW_RETENTION: '35 days' } });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /invalid duration "35 days"/);
      const short = await cli([...base, '--raw-retention', '10m']);
      assert.equal(short.code, 1);
      assert.match(short.stderr, /under an hour/);
      const config = join(tmp.dir, 'assay.yaml');
      writeFileSync(config, 'rawRetention: 7d\nrollupRetention: 90d\n');
      const fromFile = await cli([...base, '--config', config, '--log-level', 'info'], { env: { ASSAY_LOG_LEVEL: 'info' }, untilListening: true });
      assert.match(fromFile.stderr, /listening on/, fromFile.stderr);
      assert.match(fromFile.stderr, /"rawRetentionMs":604800000/);
      assert.match(fromFile.stderr, /"rollupRetentionMs":7776000000/);
    } finally {
      tmp.cleanup();
    }
  });
});
