// How a verdict is kept in the verdicts table (SQLite): its JSON deflated (raw deflate).
//
//   form 1 (from 2026-12-07): the byte 0x06, then the JSON deflated with a preset dictionary of
//          typical verdicts (verdict-dictionary.ts, frozen). A stored verdict is mostly field
//          names, class names and evidence phrasing that every verdict shares, which the
//          dictionary holds: ~590 B instead of ~1,020 B a verdict on the recorded server host
//          (bench/storage-bytes.ts), whose verdicts the dictionary was not made from.
//   form 0: the JSON deflated without a dictionary (rows written before form 1).
//   text:   plain JSON (rows written before migration 9, and the PostgreSQL store, whose TOAST
//           compresses large values itself).
//
// 0x06 never starts a form-0 row: its low three bits say "not the last block, block type 3", and
// block type 3 is reserved in RFC 1951, so no raw deflate stream starts with it.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Verdict } from '../engine/types.js';
import { VERDICT_DICTIONARY_1 } from './verdict-dictionary.js';

/** Largest verdict JSON accepted back from the database (a corrupt row is an error, not an OOM). */
const MAX_VERDICT_JSON_BYTES = 16 * 1024 * 1024;

/** The first byte of a form-1 row. */
export const VERDICT_FORM_1 = 0x06;
const dictionary1 = Buffer.from(VERDICT_DICTIONARY_1, 'utf8');

export const encodeVerdictJson = (json: string): Buffer =>
  Buffer.concat([Buffer.of(VERDICT_FORM_1), deflateRawSync(Buffer.from(json, 'utf8'), { level: 9, dictionary: dictionary1 })]);

export const encodeVerdict = (v: Verdict): Buffer => encodeVerdictJson(JSON.stringify(v));

/** A stored verdict's JSON text: form 1, form 0 (a Buffer) or JSON text. */
export function verdictJson(stored: Buffer | Uint8Array | string): string {
  if (typeof stored === 'string') return stored;
  const b = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  const inflated = b[0] === VERDICT_FORM_1
    ? inflateRawSync(b.subarray(1), { maxOutputLength: MAX_VERDICT_JSON_BYTES, dictionary: dictionary1 })
    : inflateRawSync(b, { maxOutputLength: MAX_VERDICT_JSON_BYTES });
  return inflated.toString('utf8');
}

/** A stored verdict back. */
export function decodeVerdict(stored: Buffer | Uint8Array | string): Verdict {
  return JSON.parse(verdictJson(stored)) as Verdict;
}
