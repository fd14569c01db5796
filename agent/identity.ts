// The agent's stable identity, kept in its state directory across restarts: a random id and an
// Ed25519 key pair (private key file mode 0600) that signs every batch.
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateAgentKeys, keysFromPem, type AgentKeys } from '../proto/chain.js';
import { tightenFile } from '../proto/private-files.js';

const ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface AgentIdentity extends AgentKeys {
  agentId: string;
}

function writePrivate(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
}

/** Reads `agent-id` and `agent.key` from the state dir, creating them on first start. */
export function loadOrCreateIdentity(stateDir: string): AgentIdentity {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const idFile = join(stateDir, 'agent-id');
  const keyFile = join(stateDir, 'agent.key');
  let agentId: string;
  if (existsSync(idFile)) {
    tightenFile(idFile);
    agentId = readFileSync(idFile, 'utf8').trim();
    if (!ID.test(agentId)) throw new Error(`${idFile} is corrupt: expected 1-128 characters of [A-Za-z0-9._:-]`);
  } else {
    agentId = randomUUID();
    writePrivate(idFile, agentId + '\n');
  }
  let keys: AgentKeys;
  if (existsSync(keyFile)) {
    tightenFile(keyFile);
    try {
      keys = keysFromPem(readFileSync(keyFile, 'utf8'));
    } catch (err) {
      throw new Error(`${keyFile} is not a usable Ed25519 private key: ${(err as Error).message}`);
    }
  } else {
    keys = generateAgentKeys();
    writePrivate(keyFile, keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
  }
  return { agentId, ...keys };
}
