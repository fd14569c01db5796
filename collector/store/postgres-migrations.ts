// Numbered schema migrations for the PostgreSQL store: the same steps as migrations.ts (same
// version and name), in PostgreSQL's dialect. Append only: never edit a shipped step.
//
// The big, time-ordered tables are partitioned by day (declarative range partitioning on a
// millisecond column): samples by ts_ms, batches by received_ms, verdicts by ts_ms. Day
// partitions are created ahead by the store (postgres-partitions.ts) and dropped whole for
// retention. A primary key of a partitioned table must contain its partition key, so the keys
// below carry it; (host, seq) and (host, hash) stay unique because appendBatch checks sequence
// and chain under the host's row lock before it inserts anything (batches have no primary key
// since migration 17: nothing relied on it).
import type pg from 'pg';
import { nonAiPgSql } from '../non-ai.js';
import type { Migration } from './migrations.js';
import { packSampleRows } from './postgres-figures.js';

/** A step: its SQL, then a data step where SQL alone cannot do it (same transaction), then `after`. */
export interface PgMigration extends Omit<Migration, 'run'> {
  run?: (c: pg.ClientBase) => Promise<void>;
}

export const postgresMigrations: PgMigration[] = [
  {
    version: 1,
    name: 'hosts, samples, process signatures, verdicts',
    sql: `
      CREATE TABLE hosts (
        id TEXT PRIMARY KEY,
        hostname TEXT NOT NULL,
        agent_version TEXT NOT NULL,
        inventory BYTEA,
        first_seen_ms BIGINT NOT NULL,
        last_seen_ms BIGINT NOT NULL,
        last_seq BIGINT NOT NULL DEFAULT 0,
        verdict_class TEXT,
        verdict_confidence DOUBLE PRECISION
      );
      CREATE TABLE samples (
        host_id TEXT NOT NULL REFERENCES hosts(id),
        seq BIGINT NOT NULL,
        ts_ms BIGINT NOT NULL,
        received_ms BIGINT NOT NULL,
        cpu_pct DOUBLE PRECISION NOT NULL,
        load1 DOUBLE PRECISION NOT NULL,
        mem_used_bytes BIGINT NOT NULL,
        mem_total_bytes BIGINT NOT NULL,
        gpu_util_pct DOUBLE PRECISION,
        gpu_mem_used_bytes BIGINT,
        power_watts DOUBLE PRECISION,
        disk_read_bps DOUBLE PRECISION NOT NULL,
        disk_write_bps DOUBLE PRECISION NOT NULL,
        net_rx_bps DOUBLE PRECISION NOT NULL,
        net_tx_bps DOUBLE PRECISION NOT NULL,
        data BYTEA NOT NULL,
        PRIMARY KEY (host_id, seq, ts_ms)
      ) PARTITION BY RANGE (ts_ms);
      CREATE INDEX samples_by_time ON samples(host_id, ts_ms);
      CREATE TABLE process_signatures (
        host_id TEXT NOT NULL REFERENCES hosts(id),
        pid BIGINT NOT NULL,
        start_time_ticks BIGINT NOT NULL,
        name TEXT NOT NULL,
        signature BYTEA NOT NULL,
        first_seen_ms BIGINT NOT NULL,
        PRIMARY KEY (host_id, pid, start_time_ticks)
      );
      CREATE TABLE verdicts (
        host_id TEXT NOT NULL REFERENCES hosts(id),
        ts_ms BIGINT NOT NULL,
        class TEXT NOT NULL,
        confidence DOUBLE PRECISION NOT NULL,
        verdict TEXT NOT NULL,
        PRIMARY KEY (host_id, ts_ms)
      ) PARTITION BY RANGE (ts_ms);
    `,
  },
  {
    version: 2,
    name: 'agent identity, batch chain, gaps, security events',
    sql: `
      ALTER TABLE hosts ADD COLUMN public_key BYTEA;
      ALTER TABLE hosts ADD COLUMN enrolled_ms BIGINT;
      ALTER TABLE hosts ADD COLUMN revoked_ms BIGINT;
      ALTER TABLE hosts ADD COLUMN chain_head BYTEA;
      CREATE TABLE batches (
        host_id TEXT NOT NULL REFERENCES hosts(id),
        hash BYTEA NOT NULL,
        prev_hash BYTEA NOT NULL,
        header BYTEA NOT NULL,
        signature BYTEA NOT NULL,
        first_seq BIGINT NOT NULL,
        last_seq BIGINT NOT NULL,
        samples BIGINT NOT NULL,
        received_ms BIGINT NOT NULL,
        PRIMARY KEY (host_id, hash, received_ms)
      ) PARTITION BY RANGE (received_ms);
      CREATE INDEX batches_by_seq ON batches(host_id, last_seq);
      CREATE TABLE gaps (
        host_id TEXT NOT NULL REFERENCES hosts(id),
        from_seq BIGINT NOT NULL,
        to_seq BIGINT NOT NULL,
        from_ms BIGINT NOT NULL,
        to_ms BIGINT NOT NULL,
        cause TEXT NOT NULL,
        samples BIGINT NOT NULL,
        batch_hash BYTEA NOT NULL
      );
      CREATE INDEX gaps_by_time ON gaps(host_id, from_ms);
      CREATE TABLE security_events (
        id BIGSERIAL PRIMARY KEY,
        ts_ms BIGINT NOT NULL,
        host_id TEXT,
        peer TEXT NOT NULL,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'aggregated security events',
    sql: `
      CREATE TABLE security_event_windows (
        reason TEXT NOT NULL,
        subject TEXT NOT NULL,
        window_start_ms BIGINT NOT NULL,
        count BIGINT NOT NULL,
        first_ms BIGINT NOT NULL,
        last_ms BIGINT NOT NULL,
        host_id TEXT,
        peer TEXT NOT NULL,
        detail TEXT NOT NULL,
        PRIMARY KEY (reason, subject, window_start_ms)
      );
      CREATE INDEX security_event_windows_by_last ON security_event_windows(last_ms);
      INSERT INTO security_event_windows (reason, subject, window_start_ms, count, first_ms, last_ms, host_id, peer, detail)
        SELECT reason, COALESCE(host_id, peer), (ts_ms / 60000) * 60000, COUNT(*), MIN(ts_ms), MAX(ts_ms), MAX(host_id), MAX(peer), MAX(detail)
        FROM security_events GROUP BY reason, COALESCE(host_id, peer), ts_ms / 60000;
      DROP TABLE security_events;
    `,
  },
  // Schema 3 (issue 10): each batch keeps the payload its agent signed (encoding 1: deflate of
  // the framed, delta-encoded samples; 0: a schema-2 batch, the framed samples as sent), so the
  // store and reports hold exactly the signed bytes; sample rows keep only chart figures.
  // Existing rows' bytes become their batch's payload (4-byte big-endian length, then the bytes:
  // the framing samples_digest covers). Process signatures stay one row per process here.
  {
    version: 4,
    name: 'batch payloads, lean sample rows',
    sql: `
      ALTER TABLE batches ADD COLUMN encoding INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE batches ADD COLUMN payload BYTEA;
      UPDATE batches b SET payload = COALESCE((
        SELECT string_agg(int4send(length(s.data)) || s.data, ''::bytea ORDER BY s.seq)
        FROM samples s WHERE s.host_id = b.host_id AND s.seq >= b.first_seq AND s.seq <= b.last_seq AND b.samples > 0), ''::bytea);
      ALTER TABLE batches ALTER COLUMN payload SET NOT NULL;
      ALTER TABLE samples DROP COLUMN data;
    `,
  },
  {
    version: 5,
    name: 'roll-ups and retention bookkeeping',
    sql: `
      CREATE TABLE rollup_hosts (
        host_key BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        host_id TEXT NOT NULL UNIQUE REFERENCES hosts(id),
        raw_pruned_ms BIGINT NOT NULL DEFAULT 0,
        verdicts_thinned_ms BIGINT NOT NULL DEFAULT 0
      );
      CREATE TABLE rollup_1m (
        host_key BIGINT NOT NULL,
        bucket BIGINT NOT NULL,
        n BIGINT NOT NULL,
        last_seq BIGINT NOT NULL,
        last_ts_ms BIGINT NOT NULL,
        cpu_pct DOUBLE PRECISION NOT NULL,
        cpu_pct_max DOUBLE PRECISION NOT NULL,
        load1 DOUBLE PRECISION NOT NULL,
        mem_used_bytes BIGINT NOT NULL,
        mem_total_bytes BIGINT NOT NULL,
        gpu_n BIGINT NOT NULL,
        gpu_util_pct DOUBLE PRECISION NOT NULL,
        gpu_util_pct_max DOUBLE PRECISION,
        gpu_mem_used_bytes BIGINT NOT NULL,
        power_n BIGINT NOT NULL,
        power_watts DOUBLE PRECISION NOT NULL,
        power_watts_max DOUBLE PRECISION,
        disk_read_bps DOUBLE PRECISION NOT NULL,
        disk_write_bps DOUBLE PRECISION NOT NULL,
        net_rx_bps DOUBLE PRECISION NOT NULL,
        net_tx_bps DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (host_key, bucket)
      );
      CREATE TABLE rollup_1h (
        host_key BIGINT NOT NULL,
        bucket BIGINT NOT NULL,
        n BIGINT NOT NULL,
        last_seq BIGINT NOT NULL,
        last_ts_ms BIGINT NOT NULL,
        cpu_pct DOUBLE PRECISION NOT NULL,
        cpu_pct_max DOUBLE PRECISION NOT NULL,
        load1 DOUBLE PRECISION NOT NULL,
        mem_used_bytes BIGINT NOT NULL,
        mem_total_bytes BIGINT NOT NULL,
        gpu_n BIGINT NOT NULL,
        gpu_util_pct DOUBLE PRECISION NOT NULL,
        gpu_util_pct_max DOUBLE PRECISION,
        gpu_mem_used_bytes BIGINT NOT NULL,
        power_n BIGINT NOT NULL,
        power_watts DOUBLE PRECISION NOT NULL,
        power_watts_max DOUBLE PRECISION,
        disk_read_bps DOUBLE PRECISION NOT NULL,
        disk_write_bps DOUBLE PRECISION NOT NULL,
        net_rx_bps DOUBLE PRECISION NOT NULL,
        net_tx_bps DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (host_key, bucket)
      );
      CREATE INDEX gaps_by_end ON gaps(to_ms);
      INSERT INTO rollup_hosts (host_id) SELECT id FROM hosts ORDER BY first_seen_ms, id;
      INSERT INTO rollup_1m
        SELECT k.host_key, s.ts_ms / 60000, COUNT(*), MAX(s.seq), MAX(s.ts_ms), SUM(s.cpu_pct), MAX(s.cpu_pct), SUM(s.load1),
          SUM(s.mem_used_bytes), MAX(s.mem_total_bytes), COUNT(s.gpu_util_pct), COALESCE(SUM(s.gpu_util_pct), 0), MAX(s.gpu_util_pct),
          COALESCE(SUM(s.gpu_mem_used_bytes), 0), COUNT(s.power_watts), COALESCE(SUM(s.power_watts), 0), MAX(s.power_watts),
          SUM(s.disk_read_bps), SUM(s.disk_write_bps), SUM(s.net_rx_bps), SUM(s.net_tx_bps)
        FROM samples s JOIN rollup_hosts k ON k.host_id = s.host_id GROUP BY k.host_key, s.ts_ms / 60000;
      INSERT INTO rollup_1h
        SELECT k.host_key, s.ts_ms / 3600000, COUNT(*), MAX(s.seq), MAX(s.ts_ms), SUM(s.cpu_pct), MAX(s.cpu_pct), SUM(s.load1),
          SUM(s.mem_used_bytes), MAX(s.mem_total_bytes), COUNT(s.gpu_util_pct), COALESCE(SUM(s.gpu_util_pct), 0), MAX(s.gpu_util_pct),
          COALESCE(SUM(s.gpu_mem_used_bytes), 0), COUNT(s.power_watts), COALESCE(SUM(s.power_watts), 0), MAX(s.power_watts),
          SUM(s.disk_read_bps), SUM(s.disk_write_bps), SUM(s.net_rx_bps), SUM(s.net_tx_bps)
        FROM samples s JOIN rollup_hosts k ON k.host_id = s.host_id GROUP BY k.host_key, s.ts_ms / 3600000;
    `,
  },
  {
    version: 7,
    name: 'class changes, non-AI flag on hosts',
    sql: `
      ALTER TABLE hosts ADD COLUMN verdict_non_ai INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE class_changes (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        host_id TEXT NOT NULL REFERENCES hosts(id),
        ts_ms BIGINT NOT NULL,
        from_class TEXT,
        to_class TEXT NOT NULL,
        confidence DOUBLE PRECISION NOT NULL,
        non_ai INTEGER NOT NULL,
        from_non_ai INTEGER NOT NULL
      );
      CREATE INDEX class_changes_by_time ON class_changes(ts_ms);
      CREATE INDEX class_changes_non_ai_first ON class_changes((non_ai = 1 OR from_non_ai = 1), ts_ms);
      CREATE INDEX class_changes_to ON class_changes(to_class);
      CREATE INDEX class_changes_from ON class_changes(from_class);
      CREATE INDEX class_changes_by_host ON class_changes(host_id, ts_ms);
      INSERT INTO class_changes (host_id, ts_ms, from_class, to_class, confidence, non_ai, from_non_ai)
        SELECT host_id, ts_ms, prev_class, class, confidence, non_ai, COALESCE(prev_non_ai, 0)
        FROM (SELECT host_id, ts_ms, class, confidence, non_ai,
                LAG(class) OVER w AS prev_class, LAG(non_ai) OVER w AS prev_non_ai
              FROM (SELECT host_id, ts_ms, class, confidence, ${nonAiPgSql('class', 'verdict')} AS non_ai FROM verdicts) AS v
              WINDOW w AS (PARTITION BY host_id ORDER BY ts_ms)) AS c
        WHERE prev_class IS NULL OR prev_class <> class
        ORDER BY ts_ms;
      UPDATE hosts SET verdict_non_ai = COALESCE((SELECT ${nonAiPgSql('v.class', 'v.verdict')} FROM verdicts v WHERE v.host_id = hosts.id ORDER BY v.ts_ms DESC LIMIT 1), 0);
    `,
  },
  {
    version: 8,
    name: "leases: one collector at a time makes a host's verdicts",
    sql: `
      CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_ms BIGINT NOT NULL
      );
    `,
  },
  // SQLite keeps a verdict's JSON deflated and packs the chart figures from here on (migrations.ts
  // 9). PostgreSQL already stores a large text value compressed out of line (TOAST), so its
  // verdicts stay as they are, and its per-sample rows (partitioned by day, dropped whole) too:
  // the step is recorded so both stores carry the same numbered history.
  {
    version: 9,
    name: 'compact verdicts, packed sample figures',
    sql: `SELECT 1;`,
  },
  // As migrations.ts 10: retention deletes a process signature first seen before the raw window
  // whose process no longer runs (postgres-retention.ts pruneSignatures); rollup_hosts records up
  // to when each host was swept. PostgreSQL keeps each signature in its row (no shared blobs), so
  // there is no blob to collect; and it stores a large payload out of line in full TOAST chunks,
  // so it needs no payload segments.
  {
    version: 10,
    name: 'lean process signatures, signature garbage collection, payload segments',
    sql: `
      ALTER TABLE rollup_hosts ADD COLUMN signatures_pruned_ms BIGINT NOT NULL DEFAULT 0;
    `,
  },
  // Process signatures sent by reference (ProcessSignature.same_as: SHA-256 of the signature's
  // canonical bytes): SQLite finds them through signature_blobs' digest index; here each
  // signature lives in its process's row, so the rows are indexed by that digest (a hash index:
  // equality only, about 20 B a row rather than a B-tree's 50).
  {
    version: 11,
    name: 'signature references by digest',
    sql: `
      CREATE INDEX process_signatures_by_digest ON process_signatures USING hash (sha256(signature));
    `,
  },
  // SQLite's batches move to an index on the host's integer key, and its process signature rows to
  // the day they were first seen (migrations.ts 12, 13). Here the process rows make that move in
  // 17; this store's batches are still keyed by the host id text (partitions, the group commit's
  // bulk statements). Recorded so both stores carry the same numbered history.
  {
    version: 12,
    name: 'batches indexed by host key',
    sql: `SELECT 1;`,
  },
  {
    version: 13,
    name: 'process signatures keep their first day',
    sql: `SELECT 1;`,
  },
  // SQLite merges its packed chart-figure rows (migrations.ts 14); here the figures are packed a
  // batch's run a row in 17, still in day partitions dropped whole, and not merged.
  {
    version: 14,
    name: 'merged chart-figure rows',
    sql: `SELECT 1;`,
  },
  // Process signatures by content, as SQLite keeps them (migrations.ts 4 and 10): a row per
  // process held its whole signature (~1.4 KB: under the ~2 KB at which PostgreSQL compresses a
  // row, so stored as is), ~245 MB per host-day on the recorded server-like host whose short-lived
  // jobs start ~185,000 processes a day with a few hundred distinct signatures. Now each distinct
  // content is stored once in signature_blobs, keyed by its SHA-256 (the digest references name,
  // so the primary key replaces migration 11's index on sha256(signature)), deflated when that is
  // smaller (signature-blob.ts; the rows converted here keep their bytes as they are, which read
  // the same), and process_signatures keeps (host, pid, start) -> digest. The process name (in
  // the signature already, and read by nothing) is dropped. The fixed-width columns come first,
  // so a row carries no alignment padding.
  // last_used_ms is raised whenever a batch uses the content (a new process's row, a full copy
  // or a reference: postgres-group.ts), and by retention's sweep for a process still running;
  // retention deletes a content last used before every host's latest sweep
  // (postgres-retention.ts), as SQLite does. A content converted here was last used when its
  // newest process was first seen, and every host is swept again before any content goes (the
  // sweep marks the contents of running processes used; the old sweeps did not).
  {
    version: 15,
    name: 'process signature contents shared by digest',
    sql: `
      CREATE TABLE signature_blobs (
        digest BYTEA PRIMARY KEY,
        last_used_ms BIGINT NOT NULL,
        signature BYTEA NOT NULL
      );
      INSERT INTO signature_blobs (digest, last_used_ms, signature)
        SELECT DISTINCT ON (s.d) s.d, s.first_seen_ms, s.signature
        FROM (SELECT sha256(signature) AS d, first_seen_ms, signature FROM process_signatures) AS s
        ORDER BY s.d, s.first_seen_ms DESC;
      CREATE INDEX signature_blobs_by_use ON signature_blobs(last_used_ms);
      CREATE TABLE process_signatures_v15 (
        pid BIGINT NOT NULL,
        start_time_ticks BIGINT NOT NULL,
        first_seen_ms BIGINT NOT NULL,
        host_id TEXT NOT NULL REFERENCES hosts(id),
        digest BYTEA NOT NULL,
        PRIMARY KEY (host_id, pid, start_time_ticks)
      );
      INSERT INTO process_signatures_v15 (pid, start_time_ticks, first_seen_ms, host_id, digest)
        SELECT pid, start_time_ticks, first_seen_ms, host_id, sha256(signature) FROM process_signatures
        ORDER BY host_id, pid, start_time_ticks;
      DROP TABLE process_signatures;
      ALTER TABLE process_signatures_v15 RENAME TO process_signatures;
      ALTER INDEX process_signatures_v15_pkey RENAME TO process_signatures_pkey;
      ALTER TABLE process_signatures RENAME CONSTRAINT process_signatures_v15_host_id_fkey TO process_signatures_host_id_fkey;
      UPDATE rollup_hosts SET signatures_pruned_ms = 0;
    `,
  },
  // Bytes per host-day (issue 10), measured by `node dist/bench/storage-bytes.js --postgres`.
  // Process rows as SQLite keeps them since its migrations 10 and 13: keyed by the host's integer
  // key (rollup_hosts.host_key) instead of the 36-character host id (in the row and again in its
  // primary key), with the day the process was first seen instead of the millisecond (only
  // retention reads it: a row first seen before the raw window goes; it now goes up to a day
  // later, never sooner), the pid as an INTEGER (pidColumn in postgres-group.ts: a uint32 from
  // 2^31 up is kept as its negative), and the content by signature_blobs' new integer id instead
  // of its 32-byte digest (a BIGINT: ids are never reused, and every insert that meets a stored
  // content spends one). A row naming a digest no content has (none: a row's content is kept
  // while the row is) read nothing before and is not carried over. Fixed-width columns widest
  // first, so no row carries alignment padding: ~60 B of heap a row, from ~130; the primary key
  // (host key, start, pid), ~36 B a row from ~115: new processes start later, so its entries go to
  // the right of the index and its pages fill, where pids in the middle split them half empty.
  //
  // Batches lose their primary key (host id text, hash, received_ms: ~140 B a batch): nothing
  // relies on it (appendBatch checks hash and chain under the host's row lock before it inserts,
  // as the note at the top says), and a batch is found by hash through a hash index on the hash
  // alone (~30 B a batch; lookups compare the host on the row), as SQLite's migration 10 did.
  //
  // Verdicts are stored deflated with the frozen dictionary of typical verdicts, as SQLite stores
  // them (verdict-codec.ts form 1, its migrations 9 and 12-14): ~590 B where TOAST's own pglz kept
  // ~1,660 B a row of the ~5 KB JSON. New rows fill verdict_deflated and leave verdict NULL; rows
  // stored before keep their JSON text and read as they did (not rewritten: nothing is gained by
  // it that retention does not bring). A later step that needs a verdict's JSON in SQL must read
  // both columns and inflate the new one in a data step.
  //
  // The chart figures packed as SQLite packs them (its migration 9, sample-figures.ts; the
  // PostgreSQL side in postgres-figures.ts): one row per run of a batch's samples, keyed by the
  // host key, instead of one ~315 B row per sample. `samples` stays the day-partitioned table
  // (now on its rows' first sample time, ts_first); the per-sample table and its partitions are
  // renamed out of the way, packed by the data step (a run never crosses a batch), and dropped.
  {
    version: 17,
    name: 'process rows by host key and first day, packed chart figures',
    sql: `
      INSERT INTO rollup_hosts (host_id) SELECT id FROM hosts ORDER BY first_seen_ms, id ON CONFLICT (host_id) DO NOTHING;
      ALTER TABLE signature_blobs ADD COLUMN id BIGINT GENERATED BY DEFAULT AS IDENTITY;
      CREATE UNIQUE INDEX signature_blobs_by_id ON signature_blobs(id);
      CREATE TABLE process_signatures_v17 (
        start_time_ticks BIGINT NOT NULL,
        signature_id BIGINT NOT NULL,
        host_key INTEGER NOT NULL,
        pid INTEGER NOT NULL,
        first_seen_day INTEGER NOT NULL,
        PRIMARY KEY (host_key, start_time_ticks, pid)
      );
      INSERT INTO process_signatures_v17 (start_time_ticks, signature_id, host_key, pid, first_seen_day)
        SELECT p.start_time_ticks, b.id, k.host_key, (CASE WHEN p.pid >= 2147483648 THEN p.pid - 4294967296 ELSE p.pid END)::integer,
          floor(p.first_seen_ms / 86400000.0)::integer
        FROM process_signatures p JOIN rollup_hosts k ON k.host_id = p.host_id JOIN signature_blobs b ON b.digest = p.digest
        ORDER BY k.host_key, p.start_time_ticks, 4;
      DROP TABLE process_signatures;
      ALTER TABLE process_signatures_v17 RENAME TO process_signatures;
      ALTER INDEX process_signatures_v17_pkey RENAME TO process_signatures_pkey;
      DO $$ DECLARE r record; BEGIN
        FOR r IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'samples'::regclass LOOP
          EXECUTE format('ALTER TABLE %I RENAME TO %I', r.relname, 'v16_' || r.relname);
        END LOOP;
      END $$;
      ALTER TABLE samples RENAME TO samples_v16;
      ALTER INDEX samples_by_time RENAME TO samples_v16_by_time;
      CREATE TABLE samples (
        first_seq BIGINT NOT NULL,
        last_seq BIGINT NOT NULL,
        ts_first BIGINT NOT NULL,
        ts_min BIGINT NOT NULL,
        ts_max BIGINT NOT NULL,
        host_key INTEGER NOT NULL,
        n INTEGER NOT NULL,
        figures BYTEA NOT NULL
      ) PARTITION BY RANGE (ts_first);
      CREATE INDEX samples_by_seq ON samples(host_key, first_seq);
      CREATE INDEX samples_by_time ON samples(host_key, ts_min);
      ALTER TABLE batches DROP CONSTRAINT batches_pkey;
      CREATE INDEX batches_by_hash ON batches USING hash (hash);
      ALTER TABLE verdicts ADD COLUMN verdict_deflated BYTEA;
      ALTER TABLE verdicts ALTER COLUMN verdict DROP NOT NULL;
    `,
    run: packSampleRows,
    after: `
      DROP TABLE samples_v16;
    `,
  },
];

/** The day-partitioned tables and the column each is partitioned on. */
export const partitionedTables = [
  { table: 'samples', column: 'ts_first' },
  { table: 'batches', column: 'received_ms' },
  { table: 'verdicts', column: 'ts_ms' },
] as const;

export type PartitionedTable = (typeof partitionedTables)[number]['table'];
