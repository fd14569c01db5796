// Opening the collector's database file: a path SQLite can use (not a URL), a private data
// directory (0700 when we create it), private files (0600: they hold every host's command
// lines), a write probe so a read-only database stops startup instead of failing every agent
// later, and errors that name the file.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { privateDbFile } from '../proto/private-files.js';
import { SqliteStore } from './store/sqlite.js';
import type { GroupCommitOptions } from './store/commit-queue.js';

/** Refuses --db values that are not a file path for SQLite (postgres://…, file:…, sqlite:…). */
export function checkDbPath(dbPath: string): void {
  if (dbPath === ':memory:') return;
  if (dbPath.trim() === '') throw new Error('--db must name a SQLite database file');
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(dbPath)) {
    throw new Error(`--db ${JSON.stringify(dbPath)} looks like a URL; the collector stores into a SQLite file: give a file path such as ./data/assay.db`);
  }
}

/** Creates a directory for private files with mode 0700 (an existing one is left as it is). */
export function privateDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * Opens the database. With `write` (the collector, `agents revoke`), a database that cannot be
 * written stops here with an error naming the file. Without it (reading commands), or with
 * `mustExist`, a missing file is an error rather than a new empty database.
 */
export function openStore(dbPath: string, opts: { write: boolean; mustExist?: boolean; groupCommit?: Partial<GroupCommitOptions> } = { write: true }): SqliteStore {
  checkDbPath(dbPath);
  if (dbPath !== ':memory:' && (!opts.write || opts.mustExist) && !existsSync(dbPath)) throw new Error(`no database at ${dbPath}`);
  if (dbPath !== ':memory:') {
    privateDir(dirname(dbPath));
    // SQLite gives -wal and -shm the database file's mode, so create it private up front.
    if (opts.write) privateDbFile(dbPath);
  }
  let store: SqliteStore;
  try {
    store = new SqliteStore(dbPath, opts.groupCommit ? { groupCommit: opts.groupCommit } : {});
  } catch (err) {
    throw new Error(`database ${dbPath}: ${(err as Error).message}`);
  }
  try {
    if (opts.write) writeProbe(store);
    if (opts.write && dbPath !== ':memory:') privateDbFile(dbPath);
  } catch (err) {
    store.db.close();
    throw new Error(`database ${dbPath} cannot be written (${(err as Error).message}): check the file's and its directory's permissions and the file system`);
  }
  return store;
}

/** A real page write inside a transaction that is rolled back: fails on read-only files, directories and mounts. */
function writeProbe(store: SqliteStore): void {
  const db = store.db;
  const version = db.pragma('user_version', { simple: true }) as number;
  db.exec('BEGIN IMMEDIATE');
  try {
    db.pragma(`user_version = ${Number(version)}`);
  } finally {
    if (db.inTransaction) db.exec('ROLLBACK');
  }
}
