// The enrollment secret: generated once, kept beside the database with mode 0600, never logged.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function enrollSecretPath(dbPath: string): string {
  return join(dirname(dbPath === ':memory:' ? './data/assay.db' : dbPath), 'enroll-secret');
}

export function loadOrCreateSecret(file: string): string {
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length < 16) throw new Error(`${file}: enrollment secret must be at least 16 characters`);
    return secret;
  }
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return secret;
}
