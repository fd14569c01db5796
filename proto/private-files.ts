// Private files for the agent and the collector: keys, secrets and SQLite databases (and their
// -wal/-shm, which SQLite creates with the database file's mode) readable by their owner only.
import { chmodSync, closeSync, existsSync, openSync, statSync } from 'node:fs';

const SIDE_FILES = ['', '-wal', '-shm', '-journal'];

/**
 * Strips group and other bits from an existing file (owner bits stay, so 0444 stays read-only).
 * A file another user owns (a reading command run by someone else) is left for its owner's next start.
 */
export function tightenFile(file: string): void {
  const mode = statSync(file).mode & 0o777;
  if (!(mode & 0o077)) return;
  try {
    chmodSync(file, mode & 0o700);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
  }
}

/** Creates `dbPath` empty with mode 0600 if missing; strips group and other bits from it and its side files (owner bits stay, so 0444 stays read-only). */
export function privateDbFile(dbPath: string): void {
  if (!existsSync(dbPath)) closeSync(openSync(dbPath, 'a', 0o600));
  for (const suffix of SIDE_FILES) {
    const f = dbPath + suffix;
    if (existsSync(f)) tightenFile(f);
  }
}
