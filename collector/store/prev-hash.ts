// A batch row's prev_hash column, in both stores: empty when the signed header carries the same
// link (it always does for agents' batches; 32 B a batch saved), else the link itself. The header
// stays exactly as signed; the column is derived from it, never the reverse.
import { assay } from '../../proto/codec.js';

/** The prev_hash a signed header carries (null: not a header that decodes). */
export function headerPrevHash(header: Uint8Array): Buffer | null {
  try {
    return Buffer.from(assay.v1.BatchHeader.decode(header).prevHash ?? []);
  } catch {
    return null;
  }
}

/** What the prev_hash column stores for a batch. */
export function storedPrevHash(header: Uint8Array, prevHash: Uint8Array): Buffer {
  return Buffer.compare(headerPrevHash(header) ?? Buffer.alloc(0), Buffer.from(prevHash)) === 0 ? Buffer.alloc(0) : Buffer.from(prevHash);
}

/** A row's link back: its column, or (empty column) the header's own. */
export function prevHashOf(column: Buffer, header: Uint8Array): Buffer {
  return column.length ? column : (headerPrevHash(header) ?? column);
}
