// TLS for the collector: a given certificate and key, or a self-signed pair generated once and
// kept beside the database (agents pin its SHA-256 fingerprint instead of trusting a CA).
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import selfsigned from 'selfsigned';
import { tightenFile } from '../proto/private-files.js';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 fingerprint as agents pin it: `sha256:AB:CD:...`. */
  fingerprint: string;
}

export function fingerprintOf(certPem: string): string {
  return 'sha256:' + new X509Certificate(certPem).fingerprint256;
}

export function loadTls(certFile: string, keyFile: string): TlsMaterial {
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(certFile, 'utf8');
    key = readFileSync(keyFile, 'utf8');
    return { cert, key, fingerprint: fingerprintOf(cert) };
  } catch (err) {
    throw new Error(`TLS certificate ${certFile} / key ${keyFile}: ${(err as Error).message}`);
  }
}

/** Reads the self-signed pair beside the database, generating it on first use. */
export async function selfSignedTls(dbPath: string, names: string[]): Promise<TlsMaterial & { certFile: string }> {
  const dir = dirname(dbPath);
  const certFile = join(dir, 'tls-cert.pem');
  const keyFile = join(dir, 'tls-key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) {
    tightenFile(keyFile);
    return { ...loadTls(certFile, keyFile), certFile };
  }
  mkdirSync(dir, { recursive: true });
  const altNames = [...new Set(['localhost', '127.0.0.1', '::1', hostname(), ...names])].map((n) => (/^[\d.]+$|:/.test(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n }));
  const pems = await selfsigned.generate([{ name: 'commonName', value: `assay-collector ${hostname()}` }], {
    notAfterDate: new Date(Date.now() + 3650 * 86_400_000),
    keyType: 'ec',
    curve: 'P-256',
    extensions: [{ name: 'subjectAltName', altNames }],
  });
  writeFileSync(keyFile, pems.private, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(certFile, pems.cert);
  return { cert: pems.cert, key: pems.private, fingerprint: fingerprintOf(pems.cert), certFile };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|\[::1\])$/i;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}
