// Process signatures sent by reference (proto ProcessSignature.same_as, agent/signature-refs.ts):
// a reference is the SHA-256 of the canonical bytes of a signature the agent sent in full earlier,
// the digest stores keep signatures by (SQLite signature_blobs.digest; PostgreSQL an index on
// sha256(process_signatures.signature)). Stores resolve references at ingest and whenever they
// decode stored payloads, so the engine, the API, the dashboard and reports see full signatures.
// A reference nothing resolves leaves its process without a signature (counted at ingest).
import { createHash } from 'node:crypto';
import type { IProcessSignature, ISample } from '../proto/codec.js';
import { signatureBytes } from './store/store.js';

/**
 * How long after a signature's last full send or use an agent may still refer to it: the agent's
 * SIGNATURE_RESEND_MS (agent/probes/processes.ts; a test holds the two equal). Retention keeps
 * signatures at least this long after their last use, even under a raw window shorter than it.
 */
export const REFERENCE_LIFETIME_MS = 24 * 3600_000;

/** Length of a reference (SHA-256). */
export const REFERENCE_BYTES = 32;

/** The digest a signature sent as a reference names, or null for a signature sent in full. */
export function referenceOf(sig: IProcessSignature | null | undefined): Uint8Array | null {
  const d = sig?.sameAs;
  return d && d.length > 0 ? d : null;
}

export const digestHex = (d: Uint8Array): string => Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex');

/** SHA-256 of a full signature's canonical bytes (the bytes it came in, when ingest kept them). */
export function fullDigest(sig: IProcessSignature): Buffer {
  return createHash('sha256').update(signatureBytes(sig)).digest();
}

/** Every digest the samples reference (hex -> digest), in order of first reference. */
export function referencedDigests(samples: Iterable<ISample>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const s of samples) {
    for (const p of s.processes ?? []) {
      const d = referenceOf(p.signature);
      if (d) out.set(digestHex(d), d);
    }
  }
  return out;
}

/**
 * Replaces every reference in the samples by the signature `lookup` gives for its digest (hex);
 * a process whose reference it cannot resolve is left without a signature. Returns how many
 * references were left unresolved.
 */
export function resolveReferences(samples: Iterable<ISample>, lookup: (hex: string) => IProcessSignature | undefined): number {
  let unresolved = 0;
  for (const s of samples) {
    for (const p of s.processes ?? []) {
      const d = referenceOf(p.signature);
      if (!d) continue;
      const sig = d.length === REFERENCE_BYTES ? lookup(digestHex(d)) : undefined;
      if (sig) p.signature = sig;
      else {
        p.signature = null;
        unresolved++;
      }
    }
  }
  return unresolved;
}
