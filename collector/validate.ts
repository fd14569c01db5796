// Field-level checks on decoded samples: protobuf decoding accepts fields of any size, so the
// collector bounds what it stores. (Invalid UTF-8 is refused by the decoder itself: codec.ts.)
import { WireError, CloseCode, type ISample } from '../proto/codec.js';
import { REFERENCE_BYTES } from './signature-refs.js';

export const FIELD_LIMITS = {
  /** Longest string field (command lines are the longest legitimate ones). */
  maxStringBytes: 64 * 1024,
  /** Most entries in any list (processes, sockets, libraries, ...). */
  maxListLength: 20_000,
};

const bad = (reason: string, msg: string) => new WireError(CloseCode.invalid, reason, msg);

/** Walks every field of a decoded sample; throws on oversized or non-UTF-8 text, huge lists. */
export function validateSample(sample: ISample, seq: number): void {
  if (!sample.tsMs || sample.tsMs <= 0) throw bad('bad_sample', `sample ${seq} has no timestamp`);
  checkReferences(sample, seq);
  // The common case, a sample within limits, is checked without building paths; the walk that
  // names the offending field runs only when something is over (it was a tenth of ingest's time).
  if (fits(sample)) return;
  const walk = (v: unknown, path: string): void => {
    if (typeof v === 'string') {
      if (v.length > FIELD_LIMITS.maxStringBytes) throw bad('oversized_field', `sample ${seq}: ${path} is ${v.length} characters (limit ${FIELD_LIMITS.maxStringBytes})`);
    } else if (Array.isArray(v)) {
      if (v.length > FIELD_LIMITS.maxListLength) throw bad('oversized_field', `sample ${seq}: ${path} has ${v.length} entries (limit ${FIELD_LIMITS.maxListLength})`);
      v.forEach((x, i) => walk(x, `${path}[${i}]`));
    } else if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
      for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
    }
  };
  walk(sample, '');
}

function fits(v: unknown): boolean {
  if (typeof v === 'string') return v.length <= FIELD_LIMITS.maxStringBytes;
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return true;
  if (Array.isArray(v)) {
    if (v.length > FIELD_LIMITS.maxListLength) return false;
    for (const x of v) if (!fits(x)) return false;
    return true;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!fits(o[k])) return false;
  return true;
}

/**
 * A signature reference (same_as, env_names_as, libs_as) is a SHA-256: 32 bytes or absent. Any
 * other length names nothing and never came from an agent; it was counted as unresolved and
 * stored, and now is refused like any other malformed field.
 */
function checkReferences(sample: ISample, seq: number): void {
  for (const p of sample.processes ?? []) {
    const sig = p.signature;
    if (!sig) continue;
    for (const field of ['sameAs', 'envNamesAs', 'libsAs'] as const) {
      const d = sig[field];
      if (d && d.length !== 0 && d.length !== REFERENCE_BYTES) {
        throw bad('bad_reference', `sample ${seq}: process ${p.pid ?? 0} signature.${field} is ${d.length} bytes, not a ${REFERENCE_BYTES}-byte SHA-256`);
      }
    }
  }
}
