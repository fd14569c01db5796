// Process signatures a collector report's batches send by reference (ProcessSignature.same_as):
// the report carries their bytes (HostInput.signatures, digest hex -> base64), so it decodes and
// verifies offline. A digest is SHA-256 of the bytes, so an entry whose bytes do not hash to its
// key is refused: decoding leaves it unused (the process shows without a signature) and
// `assay verify` fails the report.
import { createHash } from 'node:crypto';
import { assay, type IProcessSignature, type ISample } from '../../proto/codec.js';
import { resolveReferences } from '../signature-refs.js';
import type { HostInput } from './types.js';

const DIGEST_HEX = /^[0-9a-f]{64}$/;

/** One embedded entry: its signature when the bytes hash to the key and decode; else why not. */
function entry(hex: string, b64: unknown): { sig: IProcessSignature } | { problem: string } {
  if (!DIGEST_HEX.test(hex)) return { problem: `key ${JSON.stringify(hex.slice(0, 80))} is not a SHA-256 digest in hex` };
  if (typeof b64 !== 'string') return { problem: `${hex}: bytes are not base64 text` };
  const bytes = Buffer.from(b64, 'base64');
  if (createHash('sha256').update(bytes).digest('hex') !== hex) return { problem: `${hex}: the embedded signature bytes do not hash to the digest that names them (altered)` };
  try {
    return { sig: assay.v1.ProcessSignature.decode(bytes) };
  } catch (err) {
    return { problem: `${hex}: the embedded signature does not decode (${(err as Error).message})` };
  }
}

/** Replaces the references in `samples` by the input's embedded signatures whose bytes match their digest. */
export function resolveEmbedded(input: HostInput, samples: ISample[]): void {
  const table = input.signatures;
  if (!table || typeof table !== 'object') {
    resolveReferences(samples, () => undefined);
    return;
  }
  const cache = new Map<string, IProcessSignature | undefined>();
  resolveReferences(samples, (hex) => {
    if (!cache.has(hex)) {
      const e = Object.prototype.hasOwnProperty.call(table, hex) ? entry(hex, table[hex]) : null;
      cache.set(hex, e && 'sig' in e ? e.sig : undefined);
    }
    return cache.get(hex);
  });
}

/**
 * What `assay verify` says of the embedded signatures: problems (an entry that does not hash to
 * its key or does not decode) and warnings (references with no entry: their processes are shown
 * without a signature). `named`: the digests (hex) the input's batches name.
 */
export function checkEmbeddedSignatures(input: HostInput, named: ReadonlySet<string>): { problems: string[]; warnings: string[]; checked: number } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const table = input.signatures;
  let checked = 0;
  if (table !== undefined) {
    if (!table || typeof table !== 'object' || Array.isArray(table)) return { problems: ['signatures is not a table of digest -> bytes'], warnings, checked };
    for (const [hex, b64] of Object.entries(table)) {
      const e = entry(hex, b64);
      if ('problem' in e) problems.push(`referenced process signature ${e.problem}`);
      else checked++;
    }
  }
  const missing = [...named].filter((hex) => !table || !Object.prototype.hasOwnProperty.call(table, hex));
  if (missing.length) warnings.push(`${missing.length} process signature reference(s) have no embedded signature (the collector could not resolve them): those processes are shown without one`);
  return { problems, warnings, checked };
}
