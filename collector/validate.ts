// Field-level checks on decoded samples: protobuf decoding accepts fields of any size, so the
// collector bounds what it stores. (Invalid UTF-8 is refused by the decoder itself: codec.ts.)
import { WireError, CloseCode, type ISample } from '../proto/codec.js';

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
