// The cryptography both sides agree on: agent keys, the hello proof, enrollment proofs, and the
// per-agent hash chain of signed batches. Kept beside the wire contract because the collector,
// the agent and `assay verify` must compute exactly the same bytes.
import { KeyObject, createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign, timingSafeEqual, verify } from 'node:crypto';

const HELLO_CONTEXT = Buffer.from('assay-hello-v2\0');
const ENROLL_CONTEXT = Buffer.from('assay-enroll-v2\0');

export function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** SHA-256 over each sample's length (4 bytes, big-endian) and bytes: unambiguous framing. */
export function samplesDigest(samples: readonly Uint8Array[]): Buffer {
  const h = createHash('sha256');
  const len = Buffer.alloc(4);
  for (const s of samples) {
    len.writeUInt32BE(s.length, 0);
    h.update(len);
    h.update(s);
  }
  return h.digest();
}

/** A batch's identity in the chain: the hash of its header bytes as signed. */
export function batchHash(header: Uint8Array): Buffer {
  return sha256(header);
}

export function helloSigningBytes(nonce: Uint8Array, agentId: string, publicKey: Uint8Array): Buffer {
  return Buffer.concat([HELLO_CONTEXT, nonce, Buffer.from(agentId, 'utf8'), publicKey]);
}

export function enrollProof(secret: string, agentId: string, publicKey: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(ENROLL_CONTEXT).update(agentId, 'utf8').update(publicKey).digest();
}

export function safeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface AgentKeys {
  privateKey: KeyObject;
  /** Ed25519 public key, 32 raw bytes (what travels and is stored). */
  publicKey: Buffer;
}

export function generateAgentKeys(): AgentKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: rawPublicKey(publicKey) };
}

export function keysFromPem(pem: string): AgentKeys {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`expected an Ed25519 key, got ${privateKey.asymmetricKeyType}`);
  return { privateKey, publicKey: rawPublicKey(createPublicKey(privateKey)) };
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url');
}

export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new Error(`an Ed25519 public key has 32 bytes, got ${raw.length}`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

export function signBytes(keys: AgentKeys, data: Uint8Array): Buffer {
  return sign(null, data, keys.privateKey);
}

/** Ed25519 verification that never throws: malformed keys or signatures are simply invalid. */
export function verifySignature(publicKeyRaw: Uint8Array | KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    const key = publicKeyRaw instanceof KeyObject ? publicKeyRaw : publicKeyFromRaw(publicKeyRaw);
    return signature.length === 64 && verify(null, data, key, signature);
  } catch {
    return false;
  }
}

/** Short printable form of a public key (for `assay agents list` and logs). */
export function fingerprint(publicKeyRaw: Uint8Array): string {
  return 'SHA256:' + sha256(publicKeyRaw).toString('base64').replace(/=+$/, '');
}
