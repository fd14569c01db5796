// Signing reports: Ed25519 over the canonical JSON of the report without its `signature`.
// The collector's key is generated once beside the database (collector-key.pem, mode 0600);
// a scan signs with a key of its own.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fingerprint, generateAgentKeys, keysFromPem, signBytes, verifySignature, type AgentKeys } from '../../proto/chain.js';
import { tightenFile } from '../../proto/private-files.js';
import { besideDb } from '../secret.js';
import { canonicalize } from './canonical.js';
import type { Report, Signer, UnsignedReport } from './types.js';

export function collectorKeyPath(dbPath: string): string {
  return besideDb(dbPath, 'collector-key.pem');
}

export function loadOrCreateKey(file: string): AgentKeys {
  if (existsSync(file)) {
    tightenFile(file);
    return keysFromPem(readFileSync(file, 'utf8'));
  }
  mkdirSync(dirname(file), { recursive: true });
  const keys = generateAgentKeys();
  writeFileSync(file, keys.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return keys;
}

export function signerOf(keys: AgentKeys, role: Signer['role']): Signer {
  return { role, publicKey: keys.publicKey.toString('hex'), fingerprint: fingerprint(keys.publicKey) };
}

export function signingBytes(report: UnsignedReport | Report): Buffer {
  const { signature: _omit, ...rest } = report as Report;
  return Buffer.from(canonicalize(rest), 'utf8');
}

export function signReport(unsigned: UnsignedReport, keys: AgentKeys): Report {
  return { ...unsigned, signature: signBytes(keys, signingBytes(unsigned)).toString('base64') };
}

export function reportSignatureValid(report: Report): boolean {
  if (typeof report.signature !== 'string' || typeof report.signer?.publicKey !== 'string') return false;
  const key = Buffer.from(report.signer.publicKey, 'hex');
  if (fingerprint(key) !== report.signer.fingerprint) return false;
  return verifySignature(key, signingBytes(report), Buffer.from(report.signature, 'base64'));
}
