// `--db` values the collector cannot use stop startup with an error naming them, and nothing is
// touched first. Before: a directory given as --db (`--db /var/lib`) was chmod 0700 and a text
// file 0600 (as root, `--db /etc/passwd` would have locked every user out of it), and an
// admin token and enrollment secret were written beside them, before SQLite said "unable to
// open database file" / "file is not a database".
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startCollector } from '../../collector/server.js';
import { tempDir } from '../helpers/env.js';
import { runAssay } from '../helpers/proc.js';

const SECRET = 'db-refusals-enroll-secret';
const mode = (p: string): number => statSync(p).mode & 0o777;

describe('--db values that are not a SQLite database', () => {
  it('a directory: refused by name, its mode kept, nothing written in it or beside it', async () => {
    const tmp = tempDir();
    try {
      const dir = join(tmp.dir, 'shared');
      mkdirSync(dir, { mode: 0o755 });
      chmodSync(dir, 0o755);
      await assert.rejects(startCollector({ host: '127.0.0.1', port: 0, dbPath: dir, enrollSecret: SECRET }), new RegExp(`--db ${dir} is a directory: give a database file in it, such as ${join(dir, 'assay.db')}`));
      assert.equal(mode(dir), 0o755, 'the directory keeps its mode');
      assert.deepEqual(readdirSync(dir), []);
      assert.deepEqual(readdirSync(tmp.dir), ['shared'], 'no tokens or secrets beside it');
    } finally {
      tmp.cleanup();
    }
  });

  it('a text file: refused by name, its mode and bytes kept, no secrets beside it; the CLI says the same', async () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'notes.txt');
      writeFileSync(file, 'not a database\n', { mode: 0o644 });
      chmodSync(file, 0o644);
      await assert.rejects(startCollector({ host: '127.0.0.1', port: 0, dbPath: file, enrollSecret: SECRET }), /is not a database: a SQLite file starts with "SQLite format 3" \(the file was left as it is\)/);
      for (const args of [['collector', '--port', '0'], ['agents', 'revoke', 'x'], ['agents', 'list'], ['report', '--host', 'x']]) {
        const r = await runAssay([...args, '--db', file], {}, 20_000);
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /^assay: --db .*notes\.txt is not a database: a SQLite file/m, args.join(' '));
      }
      assert.equal(mode(file), 0o644, 'the file keeps its mode');
      assert.equal(readFileSync(file, 'utf8'), 'not a database\n');
      assert.deepEqual(readdirSync(tmp.dir), ['notes.txt'], 'no tokens or secrets beside it');
    } finally {
      tmp.cleanup();
    }
  });

  it('a path under a file, and a flag taken for the value (--db --require-tokens), are refused before any file is made', async () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'plain');
      writeFileSync(file, 'x');
      await assert.rejects(startCollector({ host: '127.0.0.1', port: 0, dbPath: join(file, 'assay.db'), enrollSecret: SECRET }), /--db .*plain\/assay\.db: a part of its folder .*plain is a file, not a directory/);
      const r = await runAssay(['collector', '--db', '--require-tokens', '--port', '0'], {}, 20_000, tmp.dir);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^assay: --db "--require-tokens" looks like an option, not a database file/m);
      assert.deepEqual(readdirSync(tmp.dir), ['plain']);
    } finally {
      tmp.cleanup();
    }
  });

  it('an empty file and an existing SQLite database are still opened', async () => {
    const tmp = tempDir();
    try {
      const empty = join(tmp.dir, 'empty.db');
      writeFileSync(empty, '');
      const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: empty, enrollSecret: SECRET });
      await c.close();
      assert.equal(readFileSync(empty).subarray(0, 15).toString('latin1'), 'SQLite format 3');
      const again = await startCollector({ host: '127.0.0.1', port: 0, dbPath: empty, enrollSecret: SECRET });
      await again.close();
    } finally {
      tmp.cleanup();
    }
  });
});
