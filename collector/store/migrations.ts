// Numbered schema migrations for the SQLite store. Append only: never edit a shipped step.
import { nonAiSql } from '../non-ai.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const sqliteMigrations: Migration[] = [
  {
    version: 1,
    name: 'hosts, samples, process signatures, verdicts',
    sql: `
      CREATE TABLE hosts (
        id TEXT PRIMARY KEY,
        hostname TEXT NOT NULL,
        agent_version TEXT NOT NULL,
        inventory BLOB,
        first_seen_ms INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL,
        last_seq INTEGER NOT NULL DEFAULT 0,
        verdict_class TEXT,
        verdict_confidence REAL
      );
      CREATE TABLE samples (
        host_id TEXT NOT NULL REFERENCES hosts(id),
        seq INTEGER NOT NULL,
        ts_ms INTEGER NOT NULL,
        received_ms INTEGER NOT NULL,
        cpu_pct REAL NOT NULL,
        load1 REAL NOT NULL,
        mem_used_bytes INTEGER NOT NULL,
        mem_total_bytes INTEGER NOT NULL,
        gpu_util_pct REAL,
        gpu_mem_used_bytes INTEGER,
        power_watts REAL,
        disk_read_bps REAL NOT NULL,
        disk_write_bps REAL NOT NULL,
        net_rx_bps REAL NOT NULL,
        net_tx_bps REAL NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (host_id, seq)
      ) WITHOUT ROWID;
      CREATE INDEX samples_by_time ON samples(host_id, ts_ms);
      CREATE TABLE process_signatures (
        host_id TEXT NOT NULL REFERENCES hosts(id),
        pid INTEGER NOT NULL,
        start_time_ticks INTEGER NOT NULL,
        name TEXT NOT NULL,
        signature BLOB NOT NULL,
        first_seen_ms INTEGER NOT NULL,
        PRIMARY KEY (host_id, pid, start_time_ticks)
      ) WITHOUT ROWID;
      CREATE TABLE verdicts (
        host_id TEXT NOT NULL REFERENCES hosts(id),
        ts_ms INTEGER NOT NULL,
        class TEXT NOT NULL,
        confidence REAL NOT NULL,
        verdict TEXT NOT NULL,
        PRIMARY KEY (host_id, ts_ms)
      ) WITHOUT ROWID;
    `,
  },
  // v2 protocol: agent keys and revocation, the per-agent hash chain of signed batches, gaps the
  // agents declared, and a log of refused attempts (forgery, replay, splice, unknown agents).
  {
    version: 2,
    name: 'agent identity, batch chain, gaps, security events',
    sql: `
      ALTER TABLE hosts ADD COLUMN public_key BLOB;
      ALTER TABLE hosts ADD COLUMN enrolled_ms INTEGER;
      ALTER TABLE hosts ADD COLUMN revoked_ms INTEGER;
      ALTER TABLE hosts ADD COLUMN chain_head BLOB;
      CREATE TABLE batches (
        host_id TEXT NOT NULL REFERENCES hosts(id),
        hash BLOB NOT NULL,
        prev_hash BLOB NOT NULL,
        header BLOB NOT NULL,
        signature BLOB NOT NULL,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        samples INTEGER NOT NULL,
        received_ms INTEGER NOT NULL,
        PRIMARY KEY (host_id, hash)
      ) WITHOUT ROWID;
      CREATE INDEX batches_by_seq ON batches(host_id, last_seq);
      CREATE TABLE gaps (
        host_id TEXT NOT NULL REFERENCES hosts(id),
        from_seq INTEGER NOT NULL,
        to_seq INTEGER NOT NULL,
        from_ms INTEGER NOT NULL,
        to_ms INTEGER NOT NULL,
        cause TEXT NOT NULL,
        samples INTEGER NOT NULL,
        batch_hash BLOB NOT NULL
      );
      CREATE INDEX gaps_by_time ON gaps(host_id, from_ms);
      CREATE TABLE security_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts_ms INTEGER NOT NULL,
        host_id TEXT,
        peer TEXT NOT NULL,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL
      );
    `,
  },
  // Security events aggregated: one row per (reason, subject, minute window) with a count and
  // first/last seen, instead of one synced row per refused attempt (a flood wrote thousands).
  // Older rows are folded into the same form.
  {
    version: 3,
    name: 'aggregated security events',
    sql: `
      CREATE TABLE security_event_windows (
        reason TEXT NOT NULL,
        subject TEXT NOT NULL,
        window_start_ms INTEGER NOT NULL,
        count INTEGER NOT NULL,
        first_ms INTEGER NOT NULL,
        last_ms INTEGER NOT NULL,
        host_id TEXT,
        peer TEXT NOT NULL,
        detail TEXT NOT NULL,
        PRIMARY KEY (reason, subject, window_start_ms)
      ) WITHOUT ROWID;
      CREATE INDEX security_event_windows_by_last ON security_event_windows(last_ms);
      INSERT INTO security_event_windows (reason, subject, window_start_ms, count, first_ms, last_ms, host_id, peer, detail)
        SELECT reason, COALESCE(host_id, peer), (ts_ms / 60000) * 60000, COUNT(*), MIN(ts_ms), MAX(ts_ms), MAX(host_id), MAX(peer), MAX(detail)
        FROM security_events GROUP BY reason, COALESCE(host_id, peer), ts_ms / 60000;
      DROP TABLE security_events;
    `,
  },
  // Roll-ups and retention (issue 10). Raw signed batches and per-sample rows are kept for an
  // attestation window; what charts and old reports need is kept longer as 1-minute and 1-hour
  // roll-ups of every chart series. Hosts get a compact integer key (rollup_hosts), which also
  // holds each host's retention bookkeeping: raw_pruned_ms (raw batches and samples of this host
  // timestamped before it are deleted, bar one batch straddling it; 0 = nothing pruned) and
  // verdicts_thinned_ms (verdicts before it are thinned to class changes plus a few per hour).
  // A roll-up row holds sums, not averages, so one batch adds to it with one upsert:
  // average = sum / n (gpu and power over their own counts, as those series are absent on some
  // samples). `bucket` = floor(ts_ms / width).
  // Existing samples are rolled up here once.
  {
    version: 5,
    name: 'roll-ups and retention bookkeeping',
    sql: `
      CREATE TABLE rollup_hosts (
        host_key INTEGER PRIMARY KEY,
        host_id TEXT NOT NULL UNIQUE REFERENCES hosts(id),
        raw_pruned_ms INTEGER NOT NULL DEFAULT 0,
        verdicts_thinned_ms INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE rollup_1m (
        host_key INTEGER NOT NULL,
        bucket INTEGER NOT NULL,
        n INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        last_ts_ms INTEGER NOT NULL,
        cpu_pct REAL NOT NULL,
        cpu_pct_max REAL NOT NULL,
        load1 REAL NOT NULL,
        mem_used_bytes INTEGER NOT NULL,
        mem_total_bytes INTEGER NOT NULL,
        gpu_n INTEGER NOT NULL,
        gpu_util_pct REAL NOT NULL,
        gpu_util_pct_max REAL,
        gpu_mem_used_bytes INTEGER NOT NULL,
        power_n INTEGER NOT NULL,
        power_watts REAL NOT NULL,
        power_watts_max REAL,
        disk_read_bps REAL NOT NULL,
        disk_write_bps REAL NOT NULL,
        net_rx_bps REAL NOT NULL,
        net_tx_bps REAL NOT NULL,
        PRIMARY KEY (host_key, bucket)
      ) WITHOUT ROWID;
      CREATE TABLE rollup_1h (
        host_key INTEGER NOT NULL,
        bucket INTEGER NOT NULL,
        n INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        last_ts_ms INTEGER NOT NULL,
        cpu_pct REAL NOT NULL,
        cpu_pct_max REAL NOT NULL,
        load1 REAL NOT NULL,
        mem_used_bytes INTEGER NOT NULL,
        mem_total_bytes INTEGER NOT NULL,
        gpu_n INTEGER NOT NULL,
        gpu_util_pct REAL NOT NULL,
        gpu_util_pct_max REAL,
        gpu_mem_used_bytes INTEGER NOT NULL,
        power_n INTEGER NOT NULL,
        power_watts REAL NOT NULL,
        power_watts_max REAL,
        disk_read_bps REAL NOT NULL,
        disk_write_bps REAL NOT NULL,
        net_rx_bps REAL NOT NULL,
        net_tx_bps REAL NOT NULL,
        PRIMARY KEY (host_key, bucket)
      ) WITHOUT ROWID;
      CREATE INDEX gaps_by_end ON gaps(to_ms);
      INSERT INTO rollup_hosts (host_id) SELECT id FROM hosts ORDER BY rowid;
      INSERT INTO rollup_1m
        SELECT k.host_key, s.ts_ms / 60000, COUNT(*), MAX(s.seq), MAX(s.ts_ms), SUM(s.cpu_pct), MAX(s.cpu_pct), SUM(s.load1),
          SUM(s.mem_used_bytes), MAX(s.mem_total_bytes), COUNT(s.gpu_util_pct), TOTAL(s.gpu_util_pct), MAX(s.gpu_util_pct),
          TOTAL(s.gpu_mem_used_bytes), COUNT(s.power_watts), TOTAL(s.power_watts), MAX(s.power_watts),
          SUM(s.disk_read_bps), SUM(s.disk_write_bps), SUM(s.net_rx_bps), SUM(s.net_tx_bps)
        FROM samples s JOIN rollup_hosts k ON k.host_id = s.host_id GROUP BY k.host_key, s.ts_ms / 60000;
      INSERT INTO rollup_1h
        SELECT k.host_key, s.ts_ms / 3600000, COUNT(*), MAX(s.seq), MAX(s.ts_ms), SUM(s.cpu_pct), MAX(s.cpu_pct), SUM(s.load1),
          SUM(s.mem_used_bytes), MAX(s.mem_total_bytes), COUNT(s.gpu_util_pct), TOTAL(s.gpu_util_pct), MAX(s.gpu_util_pct),
          TOTAL(s.gpu_mem_used_bytes), COUNT(s.power_watts), TOTAL(s.power_watts), MAX(s.power_watts),
          SUM(s.disk_read_bps), SUM(s.disk_write_bps), SUM(s.net_rx_bps), SUM(s.net_tx_bps)
        FROM samples s JOIN rollup_hosts k ON k.host_id = s.host_id GROUP BY k.host_key, s.ts_ms / 3600000;
    `,
  },
  // Fleet view (issue 11): every change of a host's published class as its own row (the
  // fleet-wide feed and the webhook read these, not the whole verdict history), whether the
  // current verdict holds non-AI work (for the per-host alerting gauge), and an index for the
  // feed by time. Written only when a verdict is stored (a class change or the periodic
  // refresh), never per batch, so ingest stays as cheap as before; hosts gets no new index
  // (a 5,000-row scan is cheaper than indexing last_seen_ms, which every batch updates).
  // Existing history is derived from the stored verdicts.
  {
    version: 7,
    name: 'class changes, non-AI flag on hosts',
    sql: `
      ALTER TABLE hosts ADD COLUMN verdict_non_ai INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE class_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        host_id TEXT NOT NULL REFERENCES hosts(id),
        ts_ms INTEGER NOT NULL,
        from_class TEXT,
        to_class TEXT NOT NULL,
        confidence REAL NOT NULL,
        non_ai INTEGER NOT NULL,
        from_non_ai INTEGER NOT NULL
      );
      CREATE INDEX class_changes_by_time ON class_changes(ts_ms);
      CREATE INDEX class_changes_non_ai_first ON class_changes((non_ai OR from_non_ai), ts_ms);
      CREATE INDEX class_changes_to ON class_changes(to_class);
      CREATE INDEX class_changes_from ON class_changes(from_class);
      CREATE INDEX class_changes_by_host ON class_changes(host_id, ts_ms);
      INSERT INTO class_changes (host_id, ts_ms, from_class, to_class, confidence, non_ai, from_non_ai)
        SELECT host_id, ts_ms, prev_class, class, confidence, non_ai, COALESCE(prev_non_ai, 0)
        FROM (SELECT host_id, ts_ms, class, confidence, non_ai,
                LAG(class) OVER w AS prev_class, LAG(non_ai) OVER w AS prev_non_ai
              FROM (SELECT host_id, ts_ms, class, confidence, ${nonAiSql('class', 'verdict')} AS non_ai FROM verdicts)
              WINDOW w AS (PARTITION BY host_id ORDER BY ts_ms))
        WHERE prev_class IS NULL OR prev_class <> class
        ORDER BY ts_ms;
      UPDATE hosts SET verdict_non_ai = COALESCE((SELECT ${nonAiSql('v.class', 'v.verdict')} FROM verdicts v WHERE v.host_id = hosts.id ORDER BY v.ts_ms DESC LIMIT 1), 0);
    `,
  },
  // Leases: one collector at a time makes a host's verdicts when several share a database
  // (PostgreSQL, postgres-migrations.ts has the same step); a single SQLite collector always
  // holds them. Number 8: 4-7 are reserved for other issue-10 steps.
  {
    version: 8,
    name: "leases: one collector at a time makes a host's verdicts",
    sql: `
      CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_ms INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
];
