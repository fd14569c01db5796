// Numbered schema migrations for the SQLite store. Append only: never edit a shipped step.
import { nonAiSql } from '../non-ai.js';
import type Database from 'better-sqlite3';
import { assay } from '../../proto/codec.js';
import { sha256 } from '../../proto/chain.js';
import { frameSamples } from '../../proto/payload.js';
import { encodeVerdictJson } from './verdict-codec.js';
import { SampleFigures } from './sample-figures.js';
import type { SampleSummary } from './store.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** A data step run after `sql` in the same transaction (what SQL alone cannot do), then `after`. */
  run?: (db: Database.Database) => void;
  after?: string;
}

/**
 * Migration 4's data step: each stored (v2) batch gets its payload, the framed concatenation of
 * its samples' stored bytes in its header's sequence order: exactly what samples_digest hashes, so
 * the batch stays verifiable with the per-sample bytes gone. A sample missing from the store is
 * left out (the batch then no longer verifies, which is the truth).
 */
function migrateToV4(db: Database.Database): void {
  payloadsFromSampleRows(db);
  signaturesByContent(db);
}

/** Migration 4's data step for process signatures: each distinct signature stored once. */
function signaturesByContent(db: Database.Database): void {
  const blob = db.prepare<[Buffer, Buffer], { id: number }>(
    'INSERT INTO signature_blobs (digest, signature) VALUES (?, ?) ON CONFLICT(digest) DO UPDATE SET digest = excluded.digest RETURNING id',
  );
  const ins = db.prepare(
    `INSERT OR IGNORE INTO process_signatures_v4 (host_id, pid, start_time_ticks, name, signature_id, first_seen_ms)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  // In pages (keyset), so a large table is never in memory whole.
  type Row = { host_id: string; pid: number; start_time_ticks: number; name: string; signature: Buffer; first_seen_ms: number };
  const page = db.prepare<[string, number, number], Row>(
    'SELECT * FROM process_signatures WHERE (host_id, pid, start_time_ticks) > (?, ?, ?) ORDER BY host_id, pid, start_time_ticks LIMIT 2000',
  );
  let after: [string, number, number] = ['', -1, -1];
  for (let rows = page.all(...after); rows.length; rows = page.all(...after)) {
    for (const r of rows) {
      const id = blob.get(sha256(r.signature), r.signature)!.id;
      ins.run(r.host_id, r.pid, r.start_time_ticks, r.name, id, r.first_seen_ms);
    }
    const last = rows.at(-1)!;
    after = [last.host_id, last.pid, last.start_time_ticks];
  }
}

function payloadsFromSampleRows(db: Database.Database): void {
  const batches = db.prepare<[number], { id: number; host_id: string; header: Buffer }>('SELECT id, host_id, header FROM batches_v4 WHERE id > ? ORDER BY id LIMIT 2000');
  const data = db.prepare<[string, number], { data: Buffer }>('SELECT data FROM samples WHERE host_id = ? AND seq = ?');
  const set = db.prepare<[Buffer, number]>('UPDATE batches_v4 SET payload = ? WHERE id = ?');
  for (let page = batches.all(0); page.length; page = batches.all(page.at(-1)!.id)) for (const b of page) {
    const seqs = assay.v1.BatchHeader.decode(b.header).seqs ?? [];
    const bytes: Buffer[] = [];
    for (const seq of seqs) {
      const row = data.get(b.host_id, Number(seq));
      if (row) bytes.push(row.data);
    }
    set.run(frameSamples(bytes), b.id);
  }
}

/**
 * Migration 9's data step: each stored verdict's JSON text deflated into the new rowid table, a
 * page of rows at a time (keyset), so a large table is never in memory whole.
 */
function compactVerdicts(db: Database.Database): void {
  type Row = { host_id: string; ts_ms: number; class: string; confidence: number; verdict: string | Buffer };
  const page = db.prepare<[string, number], Row>('SELECT * FROM verdicts WHERE (host_id, ts_ms) > (?, ?) ORDER BY host_id, ts_ms LIMIT 2000');
  const ins = db.prepare('INSERT INTO verdicts_v9 (host_id, ts_ms, class, confidence, verdict) VALUES (?, ?, ?, ?, ?)');
  let after: [string, number] = ['', -Number.MAX_SAFE_INTEGER];
  for (let rows = page.all(...after); rows.length; rows = page.all(...after)) {
    for (const r of rows) ins.run(r.host_id, r.ts_ms, r.class, r.confidence, typeof r.verdict === 'string' ? encodeVerdictJson(r.verdict) : r.verdict);
    const last = rows.at(-1)!;
    after = [last.host_id, last.ts_ms];
  }
}

/**
 * Migration 9's data step for the chart figures: each host's per-sample rows, in seq order, packed
 * into rows that never cross one of its batches (a run starts at each batch's first seq).
 */
function packSampleRows(db: Database.Database): void {
  const figures = new SampleFigures(db);
  const hosts = db.prepare<[], { host_id: string; host_key: number }>('SELECT host_id, host_key FROM rollup_hosts ORDER BY host_key').all();
  const starts = db.prepare<[string], { first_seq: number }>('SELECT first_seq FROM batches WHERE host_id = ? AND samples > 0');
  type Row = { seq: number; ts_ms: number; cpu_pct: number; load1: number; mem_used_bytes: number; mem_total_bytes: number; gpu_util_pct: number | null;
    gpu_mem_used_bytes: number | null; power_watts: number | null; disk_read_bps: number; disk_write_bps: number; net_rx_bps: number; net_tx_bps: number };
  const page = db.prepare<[string, number], Row>('SELECT * FROM samples WHERE host_id = ? AND seq > ? ORDER BY seq LIMIT 5000');
  for (const h of hosts) {
    const batchStarts = new Set(starts.all(h.host_id).map((r) => r.first_seq));
    let run: SampleSummary[] = [];
    const flush = (): void => {
      if (run.length) figures.add(h.host_key, run);
      run = [];
    };
    for (let rows = page.all(h.host_id, -Number.MAX_SAFE_INTEGER); rows.length; rows = page.all(h.host_id, rows.at(-1)!.seq)) {
      for (const r of rows) {
        if (batchStarts.has(r.seq)) flush();
        run.push({
          seq: r.seq, tsMs: r.ts_ms, cpuPct: r.cpu_pct, load1: r.load1, memUsedBytes: r.mem_used_bytes, memTotalBytes: r.mem_total_bytes,
          gpuUtilPct: r.gpu_util_pct, gpuMemUsedBytes: r.gpu_mem_used_bytes, powerWatts: r.power_watts, diskReadBytesPerSec: r.disk_read_bps,
          diskWriteBytesPerSec: r.disk_write_bps, netRxBytesPerSec: r.net_rx_bps, netTxBytesPerSec: r.net_tx_bps,
        });
      }
    }
    flush();
  }
}

function migrateToV9(db: Database.Database): void {
  compactVerdicts(db);
  packSampleRows(db);
}

/** Runs one migration's steps (sql, the data step, after) on a database, without bookkeeping. */
export function applyMigration(db: Database.Database, m: Migration): void {
  db.exec(m.sql);
  m.run?.(db);
  if (m.after) db.exec(m.after);
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
  // Schema 3 batch encoding (issue 10): a batch's signed bytes are stored once, as its payload
  // (compressed by the agent; v2 batches: the framed samples), and the per-sample rows keep only
  // the chart figures: samples.data and samples.received_ms go (a report takes the batch's
  // received_ms).
  // Process signatures are stored once per distinct content (signature_blobs, a rowid table):
  // a host starting short-lived jobs (curl, sleep) twice a second sent ~170,000 identical
  // signatures a day, each a ~1 KB row that overflowed its WITHOUT ROWID page (~390 MB a day on
  // the recorded server-like host); process_signatures keeps (host_id, pid, start) -> signature id.
  // batches becomes a rowid table: its rows now hold a payload of a few KB, which a WITHOUT
  // ROWID table would push to overflow pages. Existing v2 rows' bytes move into their batch's
  // payload (payloadsFromSampleRows).
  {
    version: 4,
    name: 'batch payloads, lean sample rows',
    sql: `
      CREATE TABLE batches_v4 (
        id INTEGER PRIMARY KEY,
        host_id TEXT NOT NULL REFERENCES hosts(id),
        hash BLOB NOT NULL,
        prev_hash BLOB NOT NULL,
        header BLOB NOT NULL,
        signature BLOB NOT NULL,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        samples INTEGER NOT NULL,
        received_ms INTEGER NOT NULL,
        encoding INTEGER NOT NULL,
        payload BLOB NOT NULL
      );
      INSERT INTO batches_v4 (host_id, hash, prev_hash, header, signature, first_seq, last_seq, samples, received_ms, encoding, payload)
        SELECT host_id, hash, prev_hash, header, signature, first_seq, last_seq, samples, received_ms, 0, X'' FROM batches ORDER BY host_id, last_seq, received_ms;
      CREATE TABLE samples_v4 (
        host_id TEXT NOT NULL REFERENCES hosts(id),
        seq INTEGER NOT NULL,
        ts_ms INTEGER NOT NULL,
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
        PRIMARY KEY (host_id, seq)
      ) WITHOUT ROWID;
      INSERT OR IGNORE INTO samples_v4 (host_id, ts_ms, seq, cpu_pct, load1, mem_used_bytes, mem_total_bytes, gpu_util_pct, gpu_mem_used_bytes,
          power_watts, disk_read_bps, disk_write_bps, net_rx_bps, net_tx_bps)
        SELECT s.host_id, s.ts_ms, s.seq, s.cpu_pct, s.load1, s.mem_used_bytes, s.mem_total_bytes, s.gpu_util_pct, s.gpu_mem_used_bytes,
          s.power_watts, s.disk_read_bps, s.disk_write_bps, s.net_rx_bps, s.net_tx_bps
        FROM samples s;
      CREATE TABLE signature_blobs (
        id INTEGER PRIMARY KEY,
        digest BLOB NOT NULL UNIQUE,
        signature BLOB NOT NULL
      );
      CREATE TABLE process_signatures_v4 (
        host_id TEXT NOT NULL REFERENCES hosts(id),
        pid INTEGER NOT NULL,
        start_time_ticks INTEGER NOT NULL,
        name TEXT NOT NULL,
        signature_id INTEGER NOT NULL REFERENCES signature_blobs(id),
        first_seen_ms INTEGER NOT NULL,
        PRIMARY KEY (host_id, pid, start_time_ticks)
      ) WITHOUT ROWID;
    `,
    run: migrateToV4,
    after: `
      DROP TABLE process_signatures;
      ALTER TABLE process_signatures_v4 RENAME TO process_signatures;
      DROP TABLE samples;
      ALTER TABLE samples_v4 RENAME TO samples;
      CREATE INDEX samples_by_time ON samples(host_id, ts_ms);
      DROP TABLE batches;
      ALTER TABLE batches_v4 RENAME TO batches;
      CREATE UNIQUE INDEX batches_by_hash ON batches(host_id, hash);
      CREATE INDEX batches_by_seq ON batches(host_id, last_seq);
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
  // Compact verdicts and chart figures (issue 10). A verdict's JSON (~5 KB with its evidence, stored at least once a
  // minute per host) is kept deflated (verdict-codec.ts, ~1 KB), in a rowid table: as a WITHOUT
  // ROWID row of over ~1 KB it went to an overflow page of its own (10 MB per host-day measured,
  // now ~2 MB). (host_id, ts_ms) stays unique through an index, so INSERT OR REPLACE still
  // replaces a verdict stored twice for the same time. Migrations after this one that need the
  // JSON in SQL must decode it in a data step (json_extract cannot read it any more).
  //
  // The chart figures are packed, one row per run of a batch's samples (sample-figures.ts: ~30 B a
  // sample instead of ~160 B for a per-sample row keyed by the host id text, plus its time index;
  // 13.8 MB per host-day measured, now ~3 MB). Rows are keyed by the host's integer key.
  {
    version: 9,
    name: 'compact verdicts, packed sample figures',
    sql: `
      INSERT OR IGNORE INTO rollup_hosts (host_id) SELECT id FROM hosts ORDER BY rowid;
      CREATE TABLE sample_figures (
        host_key INTEGER NOT NULL,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        ts_first INTEGER NOT NULL,
        ts_min INTEGER NOT NULL,
        ts_max INTEGER NOT NULL,
        n INTEGER NOT NULL,
        figures BLOB NOT NULL,
        PRIMARY KEY (host_key, first_seq)
      ) WITHOUT ROWID;
      CREATE INDEX sample_figures_by_time ON sample_figures(host_key, ts_min);
      CREATE TABLE verdicts_v9 (
        id INTEGER PRIMARY KEY,
        host_id TEXT NOT NULL REFERENCES hosts(id),
        ts_ms INTEGER NOT NULL,
        class TEXT NOT NULL,
        confidence REAL NOT NULL,
        verdict BLOB NOT NULL
      );
    `,
    run: migrateToV9,
    after: `
      DROP TABLE samples;
      DROP TABLE verdicts;
      ALTER TABLE verdicts_v9 RENAME TO verdicts;
      CREATE UNIQUE INDEX verdicts_by_time ON verdicts(host_id, ts_ms);
    `,
  },
  // Lean process signatures and their garbage collection (issue 10). A host starting short-lived
  // jobs twice a second adds ~190,000 process rows a day; each row keyed by the 36-character host
  // id and carrying the process name (in its signature already) cost ~70 B (13 MB per host-day
  // measured). Rows are now keyed by the host's integer key (rollup_hosts.host_key): ~20 B.
  // Rows and blobs are deleted by retention (retention.ts pruneSignatures): a process first seen
  // before the raw window and not running in the host's newest batch goes, and a blob goes once no
  // row uses it. That is tracked without an index on signature_id (which would cost as much as
  // the rows): signature_blobs.last_used_ms is raised whenever a row is added for it (and by the
  // sweep for an old process still running), and signature_sweeps says up to when each host's
  // rows were swept (no row: never); a blob last used before every host's sweep is used by no row.
  // For the same reason signature_id has no foreign key (deleting a blob would scan every row).
  // Payload segments (payload-segments.ts): retention moves the payloads of batches older than a
  // few minutes into 64 KB segments, as a batch row of a few KB wastes about 1 KB of page space on
  // average; batches gain where their bytes are, and an index of the batches still to move
  // (partial: it holds only those). Existing batches are moved by retention, in its small steps.
  // Batches are found by hash through the hash's first 8 bytes alone (a SHA-256 prefix; lookups
  // compare host and whole hash on the row): the (host id text, hash) index cost 85 B a batch,
  // this one ~20 B. Uniqueness per host was already checked before every insert (appendBatch).
  {
    version: 10,
    name: 'lean process signatures, signature garbage collection, payload segments',
    sql: `
      CREATE TABLE signature_sweeps (
        host_key INTEGER PRIMARY KEY,
        swept_ms INTEGER NOT NULL
      );
      ALTER TABLE signature_blobs ADD COLUMN last_used_ms INTEGER NOT NULL DEFAULT 0;
      INSERT OR IGNORE INTO rollup_hosts (host_id) SELECT id FROM hosts ORDER BY rowid;
      CREATE TABLE process_signatures_v10 (
        host_key INTEGER NOT NULL,
        pid INTEGER NOT NULL,
        start_time_ticks INTEGER NOT NULL,
        signature_id INTEGER NOT NULL,
        first_seen_ms INTEGER NOT NULL,
        PRIMARY KEY (host_key, pid, start_time_ticks)
      ) WITHOUT ROWID;
      INSERT INTO process_signatures_v10 (host_key, pid, start_time_ticks, signature_id, first_seen_ms)
        SELECT k.host_key, p.pid, p.start_time_ticks, p.signature_id, p.first_seen_ms
        FROM process_signatures p JOIN rollup_hosts k ON k.host_id = p.host_id;
      UPDATE signature_blobs SET last_used_ms = m.last_ms
        FROM (SELECT signature_id, MAX(first_seen_ms) AS last_ms FROM process_signatures GROUP BY signature_id) AS m
        WHERE m.signature_id = signature_blobs.id;
      DROP TABLE process_signatures;
      ALTER TABLE process_signatures_v10 RENAME TO process_signatures;
      CREATE INDEX signature_blobs_by_use ON signature_blobs(last_used_ms);
      CREATE TABLE payload_segments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        host_id TEXT NOT NULL REFERENCES hosts(id),
        last_seq INTEGER NOT NULL,
        bytes BLOB NOT NULL
      );
      CREATE INDEX payload_segments_by_seq ON payload_segments(host_id, last_seq);
      ALTER TABLE batches ADD COLUMN segment_id INTEGER;
      ALTER TABLE batches ADD COLUMN segment_offset INTEGER;
      ALTER TABLE batches ADD COLUMN segment_length INTEGER;
      CREATE INDEX batches_unsegmented ON batches(host_id, last_seq) WHERE segment_id IS NULL;
      DROP INDEX batches_by_hash;
      CREATE INDEX batches_by_hash_prefix ON batches(substr(hash, 1, 8));
    `,
  },
  // Process signatures sent by reference (ProcessSignature.same_as) resolve through
  // signature_blobs' unique digest index: nothing to add here. Recorded so both stores carry the
  // same numbered history (postgres-migrations.ts 11 indexes its rows by digest).
  {
    version: 11,
    name: 'signature references by digest',
    sql: `SELECT 1;`,
  },
  // Batches found by the host's integer key (issue 10). Every batch read and retention's deletes
  // go through (host, last_seq); keyed by the 36-character host id text, that index cost 55 B a
  // batch (0.95 MB per host-day at one 5-sample batch every 5 s, bench/storage-bytes.ts), keyed by
  // rollup_hosts.host_key ~20 B. The host_id column stays (reads of the file by tools and tests
  // select by it); host_key is filled for every existing row before the indexes are rebuilt.
  {
    version: 12,
    name: 'batches indexed by host key',
    sql: `
      INSERT OR IGNORE INTO rollup_hosts (host_id) SELECT id FROM hosts ORDER BY rowid;
      ALTER TABLE batches ADD COLUMN host_key INTEGER;
      UPDATE batches SET host_key = (SELECT k.host_key FROM rollup_hosts k WHERE k.host_id = batches.host_id);
      DROP INDEX batches_by_seq;
      DROP INDEX batches_unsegmented;
      CREATE INDEX batches_by_key_seq ON batches(host_key, last_seq);
      CREATE INDEX batches_unsegmented ON batches(host_key, last_seq) WHERE segment_id IS NULL;
    `,
  },
  // Process signature rows keep the day a process was first seen, not the millisecond (issue 10).
  // Only retention reads it (a row first seen before the raw window goes), and a day is 2 bytes
  // where a millisecond time is 6: with the record header's byte, 4 B of a ~24 B row, on a host
  // adding ~185,000 rows a day (short-lived jobs). Retention cuts at the start of the window's
  // first day (retention.ts pruneSignatures), so a row may stay a day longer, never less.
  {
    version: 13,
    name: 'process signatures keep their first day',
    sql: `
      CREATE TABLE process_signatures_v13 (
        host_key INTEGER NOT NULL,
        pid INTEGER NOT NULL,
        start_time_ticks INTEGER NOT NULL,
        signature_id INTEGER NOT NULL,
        first_seen_day INTEGER NOT NULL,
        PRIMARY KEY (host_key, pid, start_time_ticks)
      ) WITHOUT ROWID;
      INSERT INTO process_signatures_v13 (host_key, pid, start_time_ticks, signature_id, first_seen_day)
        SELECT host_key, pid, start_time_ticks, signature_id, first_seen_ms / 86400000 FROM process_signatures;
      DROP TABLE process_signatures;
      ALTER TABLE process_signatures_v13 RENAME TO process_signatures;
    `,
  },
  // Chart-figure rows merged by retention (sample-figures.ts mergeOlder): a row per 5-sample batch
  // spent ~95 B on its key columns, record header and index entry, as much as its figures; merged
  // rows hold ~25 samples. rollup_hosts records up to which row each host's rows were merged.
  // The table becomes a rowid table: a WITHOUT ROWID table keeps whole rows in its interior pages
  // too, and merged rows of ~900 B left its pages about half empty (measured: merged rows took more
  // bytes than the small ones they replaced); a rowid table's interior pages hold only rowids,
  // and a merged row, written with a new rowid, goes to the end of the table. (host_key,
  // first_seq) stays unique through an index; the time index carries first_seq, as the primary
  // key's suffix gave it before, so reads in (ts_min, first_seq) order need no sort.
  {
    version: 14,
    name: 'merged chart-figure rows',
    sql: `
      ALTER TABLE rollup_hosts ADD COLUMN figures_merged_seq INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE sample_figures_v14 (
        id INTEGER PRIMARY KEY,
        host_key INTEGER NOT NULL,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        ts_first INTEGER NOT NULL,
        ts_min INTEGER NOT NULL,
        ts_max INTEGER NOT NULL,
        n INTEGER NOT NULL,
        figures BLOB NOT NULL
      );
      INSERT INTO sample_figures_v14 (host_key, first_seq, last_seq, ts_first, ts_min, ts_max, n, figures)
        SELECT host_key, first_seq, last_seq, ts_first, ts_min, ts_max, n, figures FROM sample_figures ORDER BY host_key, first_seq;
      DROP TABLE sample_figures;
      ALTER TABLE sample_figures_v14 RENAME TO sample_figures;
      CREATE UNIQUE INDEX sample_figures_by_seq ON sample_figures(host_key, first_seq);
      CREATE INDEX sample_figures_by_time ON sample_figures(host_key, ts_min, first_seq);
    `,
  },
  // PostgreSQL moves its process signatures to one shared row per distinct content, keyed by
  // digest (postgres-migrations.ts 15): SQLite has stored them that way since migration 4 (and
  // with last_used_ms since 10). Recorded so both stores carry the same numbered history.
  {
    version: 15,
    name: 'process signature contents shared by digest',
    sql: `SELECT 1;`,
  },
  // PostgreSQL's process rows move to the host's integer key and first-seen day (postgres-migrations.ts
  // 17), as SQLite's did in 10 and 13. Recorded so both stores carry the same numbered history.
  {
    version: 17,
    name: 'process rows by host key and first day, packed chart figures',
    sql: `SELECT 1;`,
  },
];
