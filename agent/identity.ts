// The agent's stable identity, kept in its state directory across restarts.
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Reads `agent-id` from the state dir, creating a random one (mode 0600) on first start. */
export function loadOrCreateAgentId(stateDir: string): string {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = join(stateDir, 'agent-id');
  if (existsSync(file)) {
    const id = readFileSync(file, 'utf8').trim();
    if (!ID.test(id)) throw new Error(`${file} is corrupt: expected 1-128 characters of [A-Za-z0-9._:-]`);
    return id;
  }
  const id = randomUUID();
  writeFileSync(file, id + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return id;
}
