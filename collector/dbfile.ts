// Opening the collector's database: a SQLite file path or a postgres:// URL, nothing else.
// SQLite: a private data directory (0700 when we create it), private files (0600: they hold
// every host's command lines), a write probe so a read-only database stops startup instead of
// failing every agent later, and errors that name the file. PostgreSQL: connect, migrate and
// create partitions before anything listens, with errors that name the URL (password hidden).
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { privateDbFile } from '../proto/private-files.js';
import { SqliteStore } from './store/sqlite.js';
import { defaultGroupCommit, type GroupCommitOptions, type GroupCommitStats } from './store/commit-queue.js';
import { PostgresStore, isPostgresUrl, redactUrl } from './store/postgres.js';
import type { Store } from './store/store.js';

/** What the collector and the CLI need of either store. */
export type CollectorStore = Store & {
  /** Agents that ever enrolled, revoked ones included (for --max-enrollments). */
  countEnrolled(): number;
  /** The group-commit queue (both stores have one). */
  commits?: { stats: GroupCommitStats };
};

export { isPostgresUrl, redactUrl };

/** Refuses --db values that are neither a SQLite file path nor a postgres:// URL. */
export function checkDbPath(dbPath: string): void {
  if (dbPath === ':memory:') return;
  if (dbPath.trim() === '') throw new Error('--db must name a SQLite database file or a postgres:// URL');
  if (isPostgresUrl(dbPath)) {
    let u: URL;
    try {
      u = new URL(dbPath);
    } catch {
      throw new Error(`--db ${JSON.stringify(redactUrl(dbPath))} is not a valid URL; write postgres://user[:password]@host[:port]/database`);
    }
    if (!u.hostname && !u.searchParams.get('host')) throw new Error(`--db ${JSON.stringify(redactUrl(dbPath))} names no host; write postgres://user@host:5432/database`);
    if (u.pathname.length <= 1) throw new Error(`--db ${JSON.stringify(redactUrl(dbPath))} names no database; write postgres://user@host:5432/database`);
    return;
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(dbPath)) {
    throw new Error(`--db ${JSON.stringify(redactUrl(dbPath))} looks like a URL the collector cannot use: give a SQLite file path such as ./data/assay.db, or postgres://user@host:5432/database`);
  }
  // `--db --require-tokens` makes "--require-tokens" the database: a flag taken for a value, not a file name.
  if (dbPath.startsWith('-')) throw new Error(`--db ${JSON.stringify(dbPath)} looks like an option, not a database file (write ./${dbPath} if that is its name)`);
  checkSqliteFile(dbPath);
}

/** The first 16 bytes of every SQLite database file. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * An existing --db must be a SQLite database (or an empty file) before anything touches it:
 * the collector makes its database private (chmod) and writes its secrets beside it, so a
 * directory or someone else's file given by mistake (`--db /var/lib`, `--db notes.txt`) would
 * otherwise lose its mode, and get an enrollment secret and tokens next to it, before SQLite refused it.
 */
function checkSqliteFile(dbPath: string): void {
  let size: number;
  try {
    const st = statSync(dbPath);
    if (st.isDirectory()) throw new Error(`--db ${dbPath} is a directory: give a database file in it, such as ${join(dbPath, 'assay.db')}`);
    if (!st.isFile()) throw new Error(`--db ${dbPath} is not a regular file`);
    size = st.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return; // a new database
    if (code === 'ENOTDIR') throw new Error(`--db ${dbPath}: a part of its folder ${dirname(dbPath)} is a file, not a directory`);
    throw err;
  }
  if (size === 0) return; // SQLite takes an empty file as a new database
  const head = Buffer.alloc(SQLITE_HEADER.length);
  let fd: number;
  try {
    fd = openSync(dbPath, 'r');
  } catch (err) {
    throw new Error(`--db ${dbPath} cannot be read: ${(err as Error).message}`);
  }
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!head.equals(SQLITE_HEADER)) throw new Error(`--db ${dbPath} is not a database: a SQLite file starts with "SQLite format 3" (the file was left as it is)`);
}

/**
 * A path whose folder holds the collector's files (secrets, tokens, keys, TLS): `--data-dir`
 * when given, else the SQLite file's folder, else ./data (a postgres:// URL or :memory:).
 */
export function filesAnchor(dbPath: string, dataDir?: string): string {
  if (dataDir) return join(dataDir, 'assay.db');
  return dbPath === ':memory:' || isPostgresUrl(dbPath) ? './data/assay.db' : dbPath;
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
export async function openStore(dbPath: string, opts: { write: boolean; mustExist?: boolean; groupCommit?: Partial<GroupCommitOptions> } = { write: true }): Promise<CollectorStore> {
  checkDbPath(dbPath);
  if (isPostgresUrl(dbPath)) {
    try {
      return await PostgresStore.open(dbPath, opts.groupCommit ? { groupCommit: { ...defaultGroupCommit, ...opts.groupCommit } } : {});
    } catch (err) {
      throw new Error(`database ${redactUrl(dbPath)}: ${describe(err)}`);
    }
  }
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

/** A connection error's text (an AggregateError, one per address tried, has no message of its own). */
function describe(err: unknown): string {
  if (err instanceof AggregateError && !err.message) return err.errors.map((e: Error) => e.message).join('; ');
  return (err as Error).message || String(err);
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
