// Secrets kept beside the database (enrollment secret, API tokens): generated once, mode 0600,
// never logged. The enrollment secret can be rotated; a running collector picks up the new one.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tightenFile } from '../proto/private-files.js';
import { dirname, join } from 'node:path';
import { checkSecret } from './auth.js';
import { filesAnchor, privateDir } from './dbfile.js';

/** A file beside the database (`:memory:` and postgres:// databases keep theirs under ./data; see filesAnchor). */
export function besideDb(dbPath: string, name: string): string {
  return join(dirname(filesAnchor(dbPath)), name);
}

export function enrollSecretPath(dbPath: string): string {
  return besideDb(dbPath, 'enroll-secret');
}

const fresh = (): string => randomBytes(32).toString('base64url');

export function readSecret(file: string): string {
  const secret = readFileSync(file, 'utf8').trim();
  checkSecret(file, secret);
  // An older or hand-made file may be readable by others: make it private.
  tightenFile(file);
  return secret;
}

export function loadOrCreateSecret(file: string): string {
  if (existsSync(file)) return readSecret(file);
  privateDir(dirname(file));
  const secret = fresh();
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return secret;
}

/** Replaces the secret in `file` with a new one (atomically: a reader sees the old or the new). */
export function rotateSecret(file: string): void {
  privateDir(dirname(file));
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, fresh() + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
