// Process signatures sent by reference (agent/signature-refs.ts): ProcessSignature.same_as is the
// SHA-256 of the canonical bytes of a signature the agent sent earlier, the digest stores keep
// signatures by (signature_blobs.digest in both stores); env_names_as / libs_as name, the same way, the signature
// whose list a signature otherwise sent in full has. Stores resolve references at ingest and
// whenever they decode stored payloads, so the engine, the API, the dashboard and reports see
// full signatures. A reference nothing resolves leaves its process without a signature (counted
// at ingest).
import { createHash } from 'node:crypto';
import { assay, type IProcess, type IProcessSignature, type ISample } from '../proto/codec.js';
import { signatureBytes } from './store/store.js';

/**
 * How long after a signature's last full send or use an agent may still refer to it: the agent's
 * SIGNATURE_RESEND_MS (agent/probes/processes.ts; a test holds the two equal). Retention keeps
 * signatures at least this long after their last use, even under a raw window shorter than it.
 */
export const REFERENCE_LIFETIME_MS = 24 * 3600_000;

/** Length of a reference (SHA-256). */
export const REFERENCE_BYTES = 32;

const LISTS = [
  ['envNames', 'envNamesAs'],
  ['libs', 'libsAs'],
] as const;

/** The digest a signature sent as a whole reference names, or null. */
export function referenceOf(sig: IProcessSignature | null | undefined): Uint8Array | null {
  const d = sig?.sameAs;
  return d && d.length > 0 ? d : null;
}

/** Whether a signature names other signatures (whole, or its lists) and must be resolved. */
export function needsResolving(sig: IProcessSignature | null | undefined): boolean {
  return !!sig && (!!sig.sameAs?.length || !!sig.envNamesAs?.length || !!sig.libsAs?.length);
}

export const digestHex = (d: Uint8Array): string => Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex');

/** SHA-256 of a full signature's canonical bytes (the bytes it came in, when ingest kept them). */
export function fullDigest(sig: IProcessSignature): Buffer {
  return createHash('sha256').update(signatureBytes(sig)).digest();
}

/** Every digest the samples' signatures name (hex -> digest), in order of first mention. */
export function referencedDigests(samples: Iterable<ISample>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const s of samples) {
    for (const p of s.processes ?? []) {
      const sig = p.signature;
      if (!needsResolving(sig)) continue;
      for (const d of [sig!.sameAs, sig!.envNamesAs, sig!.libsAs]) if (d && d.length) out.set(digestHex(d), d);
    }
  }
  return out;
}

/**
 * The signature as if sent in full (undefined when a digest it names is unknown): a whole
 * reference is the signature it names; list references are replaced by the named signatures'
 * lists, in a new message holding the fields that were sent (so its encoding, and digest, is the
 * one the agent computed over the signature with its lists written out).
 */
export function resolveSignature(sig: IProcessSignature, lookup: (hex: string) => IProcessSignature | undefined): IProcessSignature | undefined {
  const ref = referenceOf(sig);
  if (ref) return ref.length === REFERENCE_BYTES ? lookup(digestHex(ref)) : undefined;
  if (!needsResolving(sig)) return sig;
  const props: Record<string, unknown> = {};
  for (const k of Object.keys(sig)) if (k !== 'envNamesAs' && k !== 'libsAs' && k !== 'sameAs') props[k] = (sig as Record<string, unknown>)[k];
  for (const [field, asField] of LISTS) {
    const d = sig[asField];
    if (!d || d.length === 0) continue;
    const from = d.length === REFERENCE_BYTES ? lookup(digestHex(d)) : undefined;
    if (!from) return undefined;
    props[field] = [...(from[field] ?? [])];
  }
  return assay.v1.ProcessSignature.create(props as IProcessSignature);
}

/**
 * Replaces every signature that names others by the signature `lookup` resolves it to; a process
 * whose signature cannot be resolved is left without one. Returns how many were left unresolved.
 */
export function resolveReferences(samples: Iterable<ISample>, lookup: (hex: string) => IProcessSignature | undefined): number {
  let unresolved = 0;
  for (const s of samples) {
    for (const p of s.processes ?? []) {
      if (!needsResolving(p.signature)) continue;
      const sig = resolveSignature(p.signature!, lookup);
      if (sig) p.signature = sig;
      else {
        p.signature = null;
        unresolved++;
      }
    }
  }
  return unresolved;
}

/** One process's signature in a batch, resolved, with its canonical bytes and digest. */
export interface ResolvedSignature {
  process: IProcess;
  signature: IProcessSignature;
  bytes: Uint8Array;
  digest: Uint8Array;
}

/**
 * A batch's signatures in order, resolved as ingest stores them: a digest is looked up among the
 * signatures earlier in the batch, then `stored`. `resolved` holds every named digest that was
 * found (what a later decode of the batch needs); processes whose signature could not be
 * resolved are left out and counted. The samples are not changed.
 */
export function resolveBatch(samples: Iterable<ISample>, stored: (digest: Uint8Array, hex: string) => IProcessSignature | undefined): { signatures: ResolvedSignature[]; resolved: Map<string, IProcessSignature>; unresolved: number } {
  const byDigest = new Map<string, IProcessSignature>();
  const resolved = new Map<string, IProcessSignature>();
  const signatures: ResolvedSignature[] = [];
  let unresolved = 0;
  const lookup = (hex: string): IProcessSignature | undefined => {
    const sig = byDigest.get(hex) ?? stored(Buffer.from(hex, 'hex'), hex);
    if (sig) resolved.set(hex, sig);
    return sig;
  };
  for (const s of samples) {
    for (const p of s.processes ?? []) {
      if (!p.signature) continue;
      const ref = referenceOf(p.signature);
      const full = needsResolving(p.signature) ? resolveSignature(p.signature, lookup) : p.signature;
      if (!full) {
        unresolved++;
        continue;
      }
      const bytes = signatureBytes(full);
      const digest = ref ?? createHash('sha256').update(bytes).digest();
      byDigest.set(digestHex(digest), full);
      signatures.push({ process: p, signature: full, bytes, digest });
    }
  }
  return { signatures, resolved, unresolved };
}
