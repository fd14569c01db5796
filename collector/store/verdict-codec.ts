// How a verdict is kept in the verdicts table: its JSON deflated (raw deflate, no header). A
// stored verdict is mostly evidence text repeated in shape from one minute to the next, and
// deflates about 5x (measured by bench/storage-bytes.ts). Reading also accepts plain JSON text,
// as rows written before the compact form (and the PostgreSQL store, whose TOAST compresses large
// values itself) hold it.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Verdict } from '../engine/types.js';

/** Largest verdict JSON accepted back from the database (a corrupt row is an error, not an OOM). */
const MAX_VERDICT_JSON_BYTES = 16 * 1024 * 1024;

export const encodeVerdictJson = (json: string): Buffer => deflateRawSync(Buffer.from(json, 'utf8'), { level: 9 });

export const encodeVerdict = (v: Verdict): Buffer => encodeVerdictJson(JSON.stringify(v));

/** A stored verdict back: deflated JSON (a Buffer) or JSON text. */
export function decodeVerdict(stored: Buffer | Uint8Array | string): Verdict {
  const text = typeof stored === 'string' ? stored : inflateRawSync(stored, { maxOutputLength: MAX_VERDICT_JSON_BYTES }).toString('utf8');
  return JSON.parse(text) as Verdict;
}
