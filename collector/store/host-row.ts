// The hosts table's row as both stores read it (SQLite and PostgreSQL share the column names and
// types: migrations.ts / postgres-migrations.ts), and the record the Store interface returns.
import { assay } from '../../proto/codec.js';
import type { HostRecord } from './store.js';

export interface HostRow {
  id: string;
  hostname: string;
  agent_version: string;
  inventory: Buffer | null;
  first_seen_ms: number;
  last_seen_ms: number;
  last_seq: number;
  verdict_class: string | null;
  verdict_confidence: number | null;
  verdict_non_ai: number;
  public_key: Buffer | null;
  enrolled_ms: number | null;
  revoked_ms: number | null;
  chain_head: Buffer | null;
}

export function hostFromRow(r: HostRow): HostRecord {
  return {
    id: r.id,
    hostname: r.hostname,
    agentVersion: r.agent_version,
    inventory: r.inventory ? assay.v1.Inventory.decode(r.inventory) : null,
    firstSeenMs: r.first_seen_ms,
    lastSeenMs: r.last_seen_ms,
    lastSeq: r.last_seq,
    verdictClass: r.verdict_class,
    verdictConfidence: r.verdict_confidence,
    verdictNonAi: r.verdict_non_ai === 1,
    publicKey: r.public_key,
    enrolledMs: r.enrolled_ms,
    revokedMs: r.revoked_ms,
    chainHead: r.chain_head,
  };
}
