// Retention for the PostgreSQL store: the same windows and rules as retention.ts, in the same
// small steps (one short transaction of at most stepRows deleted rows), plus whole partitions:
// a day of samples or batches that ends a full day before the raw window starts, and a day of
// verdicts a full day before the roll-up window, is detached concurrently and dropped instead of
// deleted row by row (hosts are marked pruned first, so a report is never short of rows without
// being told). The margin of a day keeps the rule that a batch straddling the cutoff is kept
// whole: only a batch spanning more than a day could lose samples to a dropped partition.
//
// Chained batches (BATCH_ENCODING_CHAINED: a batch decodes against the last sample of the batch
// before it, back to a keyframe the agent seals at least every CHAIN_MAX_BATCHES = 12 batches):
// the row-by-row steps keep every batch the oldest kept one chains to, as SQLite does
// (chain-read.ts keepFrom). A dropped partition is a whole day of batches by received_ms and is not
// walked. At its edge, the batches after the dropped day up to the host's next keyframe (fewer than
// CHAIN_MAX_BATCHES) may chain to a batch of that day: they stay stored and signed, but no longer
// decode; reads leave their samples out and count them (PostgresStore.chainReads, /metrics
// assay_store_batches_without_prior_total), as a sample whose batch is gone is left out. Only a
// chain that took more than the day's margin to arrive meets this (an agent cut off for over a day
// between two batches of one chain, or sending every 2 hours or less often): the steps have already
// deleted every batch older than the window down to the keyframe the oldest kept batch needs, and a
// partition is dropped only a full day after the window passed it.
import type pg from 'pg';
import { processKey } from '../engine/types.js';
import { ROLLUP_RESOLUTIONS } from './rollups.js';
import type { PgRollups } from './postgres-rollups.js';
import * as figures from './postgres-figures.js';
import { DAY_MS, type Partitions } from './postgres-partitions.js';
import { noneDeleted, runningProcesses, type Deleted, type RetentionOptions, type RetentionStepResult } from './retention.js';
import { REFERENCE_LIFETIME_MS } from '../signature-refs.js';
import { SIGNATURE_USE_SLACK_MS, pidOfColumn } from './postgres-group.js';
import { KEEP_COLUMNS, keepBatchOf, keepFrom as chainKeepFrom, priorNeeded, type KeepBatch, type KeepRow } from './chain-read.js';
import type { ChainBatch } from './chain.js';

const HOUR_MS = 3_600_000;
const MAX_OPS_PER_STEP = 200;

type Op = [keyof Deleted, number];

/** A batch row as retention reads it for a chain walk. */
type WalkRow = KeepRow;
const WALK_COLUMNS = KEEP_COLUMNS;
const keepBatch = (r: WalkRow): KeepBatch => keepBatchOf(r);

export class PgRetention {
  private round: AsyncGenerator<Op, void, void> | null = null;
  private budget = 0;
  /** The client of the step under way (each step is one transaction). */
  private c!: pg.PoolClient;

  constructor(
    private readonly pool: pg.Pool,
    private readonly rollups: PgRollups,
    /** null: no partition drops, every row goes through the steps. */
    private readonly partitions: Partitions | null,
  ) {}

  private async n(sql: string, params: unknown[]): Promise<number> {
    return (await this.c.query(sql, params)).rowCount ?? 0;
  }

  async step(opts: RetentionOptions, nowMs: number): Promise<RetentionStepResult> {
    const deleted = noneDeleted();
    // Whole days first, outside any transaction (a concurrent detach cannot run in one).
    if (!this.round && this.partitions) await this.dropWholeDays(this.partitions, opts, nowMs);
    let done = false;
    this.c = await this.pool.connect();
    try {
      await this.c.query('BEGIN');
      this.round ??= this.work(opts, nowMs);
      this.budget = opts.stepRows;
      for (let ops = 0; this.budget > 0 && ops < MAX_OPS_PER_STEP; ops++) {
        const r = await this.round.next();
        if (r.done) {
          done = true;
          this.round = null;
          break;
        }
        const [table, n] = r.value;
        deleted[table] += n;
        this.budget -= n;
      }
      await this.c.query('COMMIT');
    } catch (err) {
      await this.c.query('ROLLBACK').catch(() => undefined);
      this.round = null;
      throw err;
    } finally {
      this.c.release();
    }
    return { deleted, done };
  }

  private async dropWholeDays(partitions: Partitions, opts: RetentionOptions, nowMs: number): Promise<void> {
    const rawEnd = nowMs - opts.rawMs - DAY_MS;
    const rawDays = partitions.days('samples').filter((d) => d + DAY_MS <= rawEnd);
    if (rawDays.length) {
      const end = rawDays.at(-1)! + DAY_MS;
      // Said before anything is deleted: these hosts' raw rows begin no earlier than `end` from now on.
      // A row lies in the partition of its first sample's day and may reach up to RUN_SPAN_MS past
      // it (postgres-figures.ts): a host's mark covers its last sample going, not just the day.
      await this.pool.query(
        `UPDATE rollup_hosts k SET raw_pruned_ms = GREATEST(k.raw_pruned_ms, m.ms)
         FROM (SELECT host_key, GREATEST(MAX(ts_max) + 1, $1) AS ms FROM samples WHERE ts_first < $1 GROUP BY host_key) AS m
         WHERE k.host_key = m.host_key`,
        [end],
      );
      await partitions.dropBefore('samples', end);
    }
    await partitions.dropBefore('batches', rawEnd);
    await partitions.dropBefore('verdicts', nowMs - opts.rollupMs - DAY_MS);
  }

  private async *drain(table: keyof Deleted, fn: (limit: number) => Promise<number>): AsyncGenerator<Op, void, void> {
    for (;;) {
      const limit = Math.max(1, this.budget);
      const n = await fn(limit);
      yield [table, n];
      if (n < limit) return;
    }
  }

  private async *work(opts: RetentionOptions, nowMs: number): AsyncGenerator<Op, void, void> {
    const rawCutoff = nowMs - opts.rawMs;
    const rollupCutoff = nowMs - opts.rollupMs;
    const hosts = (await this.c.query<{ id: string; last_seq: number }>('SELECT id, last_seq FROM hosts ORDER BY id')).rows;
    for (const h of hosts) {
      yield* this.pruneRaw(h.id, h.last_seq, rawCutoff);
      yield* this.thinVerdicts(h.id, Math.floor(rawCutoff / HOUR_MS) * HOUR_MS, opts.verdictsPerHour);
      yield* this.drain('verdicts', (limit) =>
        this.n('DELETE FROM verdicts WHERE host_id = $1 AND ts_ms IN (SELECT ts_ms FROM verdicts WHERE host_id = $1 AND ts_ms < $2 ORDER BY ts_ms LIMIT $3)', [h.id, rollupCutoff, limit]),
      );
      const key = await this.rollups.hostKey(this.c, h.id);
      for (const r of ROLLUP_RESOLUTIONS) {
        yield* this.drain(r.table, (limit) =>
          this.n(`DELETE FROM ${r.table} WHERE host_key = $1 AND bucket IN (SELECT bucket FROM ${r.table} WHERE host_key = $1 AND bucket < $2 ORDER BY bucket LIMIT $3)`, [
            key,
            Math.floor(rollupCutoff / r.widthMs),
            limit,
          ]),
        );
      }
      yield* this.drain('gaps', (limit) =>
        this.n('DELETE FROM gaps WHERE ctid IN (SELECT ctid FROM gaps WHERE host_id = $1 ORDER BY from_ms DESC, ctid DESC LIMIT $2 OFFSET $3)', [h.id, limit, opts.maxGapsPerHost]),
      );
      // As retention.ts: never a signature an agent may still refer to (signature-refs.ts), even
      // under a short raw window; a content named by a kept batch was marked used when that batch
      // came (postgres-group.ts).
      yield* this.pruneSignatures(h.id, Math.min(rawCutoff, nowMs - REFERENCE_LIFETIME_MS), opts.signatureSweepMs);
    }
    // After every host's sweep: a content last used before all of them is used by no row (every
    // row's content was marked used when the row was added, or by its host's sweep since; ingest
    // marks a use only when the content is SIGNATURE_USE_SLACK_MS stale, so that much less). A host
    // not yet swept (no rollup_hosts row, or 0) holds every content back. The delete checks
    // last_used_ms again on the row it deletes, so a content a concurrent ingest has just marked
    // used (and committed) is kept.
    const swept = (await this.c.query<{ ms: number | null }>(
      'SELECT MIN(COALESCE(k.signatures_pruned_ms, 0)) AS ms FROM hosts h LEFT JOIN rollup_hosts k ON k.host_id = h.id',
    )).rows[0]?.ms ?? 0;
    if (swept > 0) {
      yield* this.drain('signature_blobs', (limit) =>
        this.n(
          `DELETE FROM signature_blobs WHERE last_used_ms < $1 AND digest IN (
             SELECT digest FROM signature_blobs WHERE last_used_ms < $1 ORDER BY last_used_ms LIMIT $2)`,
          [swept - SIGNATURE_USE_SLACK_MS, limit],
        ),
      );
    }
    yield* this.drain('gaps', (limit) => this.n('DELETE FROM gaps WHERE ctid IN (SELECT ctid FROM gaps WHERE to_ms < $1 LIMIT $2)', [rollupCutoff, limit]));
    yield* this.drain('security_event_windows', (limit) =>
      this.n(
        `DELETE FROM security_event_windows WHERE (reason, subject, window_start_ms) IN (
           SELECT reason, subject, window_start_ms FROM security_event_windows WHERE last_ms < $1 ORDER BY last_ms LIMIT $2)`,
        [nowMs - opts.securityEventsMs, limit],
      ),
    );
  }

  /** A batch of the host by hash, as a chain walk reads it (null: not stored). */
  private async walkBatch(hostId: string, hash: Uint8Array): Promise<KeepBatch | null> {
    const r = (await this.c.query<WalkRow>(`SELECT ${WALK_COLUMNS} FROM batches WHERE host_id = $1 AND hash = $2 LIMIT 1`, [hostId, Buffer.from(hash)])).rows[0];
    return r ? keepBatch(r) : null;
  }

  /**
   * As retention.ts: the batches wholly before the first sample at or after the cutoff, with their
   * samples, except those the oldest kept batch chains to (back to its keyframe).
   */
  private async *pruneRaw(hostId: string, lastSeq: number, cutoffMs: number): AsyncGenerator<Op, void, void> {
    const key = await this.rollups.hostKey(this.c, hostId);
    const first = (await figures.firstFrom(this.c, key, cutoffMs))?.seq ?? lastSeq + 1;
    // The oldest batch kept: the one holding `first` (a straddling batch is kept whole), or the next one.
    const oldest = (await this.c.query<{ hash: Buffer; first_seq: number }>('SELECT hash, first_seq FROM batches WHERE host_id = $1 AND last_seq >= $2 AND samples > 0 ORDER BY last_seq LIMIT 1', [hostId, first])).rows[0];
    let keepFrom = Math.min(first, oldest?.first_seq ?? first);
    const deleteBatches = (limit: number): Promise<number> =>
      this.n(
        `DELETE FROM batches WHERE host_id = $1 AND (hash, received_ms) IN (SELECT hash, received_ms FROM batches WHERE host_id = $1
           AND ((samples > 0 AND last_seq < $2) OR (samples = 0 AND received_ms < $3)) LIMIT $4)`,
        [hostId, keepFrom, cutoffMs, limit],
      );
    const anyBefore = async (): Promise<boolean> =>
      (await figures.anyBefore(this.c, key, keepFrom)) || !!(await this.c.query('SELECT 1 FROM batches WHERE host_id = $1 AND last_seq < $2 AND samples > 0 LIMIT 1', [hostId, keepFrom])).rowCount;
    // Walked only when something would go: the batches the oldest kept one chains to, back to its keyframe (a few indexed reads).
    let any = await anyBefore();
    const row = oldest && any ? await this.walkBatch(hostId, oldest.hash) : null;
    if (row) {
      const chained = await chainKeepFrom(row, (hash) => this.walkBatch(hostId, hash));
      if (chained < keepFrom) {
        keepFrom = chained;
        any = await anyBefore();
      }
    }
    if (!any) {
      yield* this.drain('batches', deleteBatches);
      return;
    }
    await this.c.query('UPDATE rollup_hosts SET raw_pruned_ms = GREATEST(raw_pruned_ms, $1) WHERE host_id = $2', [cutoffMs, hostId]);
    // Rows of packed figures (postgres-figures.ts): one per batch, or a few for a long one.
    yield* this.drain('samples', (limit) => figures.deleteBefore(this.c, key, keepFrom, limit));
    yield* this.drain('batches', deleteBatches);
  }

  /**
   * As retention.ts: the host's process signatures first seen before the cutoff whose process does
   * not run in its newest batch, read in keyset slices of the primary key; at most once per `everyMs`.
   * A running process's content is marked used at the cutoff, so the content sweep keeps it.
   */
  private async *pruneSignatures(hostId: string, windowCutoffMs: number, everyMs: number): AsyncGenerator<Op, void, void> {
    // Rows know the day a process was first seen, not the millisecond (migration 17, as SQLite's
    // 13): the cutoff is the start of its day, so a row goes a day late at most, and the sweep
    // below runs exactly as it would with that cutoff (its content bookkeeping included).
    const cutoffMs = Math.floor(windowCutoffMs / DAY_MS) * DAY_MS;
    const cutoffDay = cutoffMs / DAY_MS;
    const hostKey = await this.rollups.hostKey(this.c, hostId);
    const swept = (await this.c.query<{ ms: number }>('SELECT signatures_pruned_ms AS ms FROM rollup_hosts WHERE host_id = $1', [hostId])).rows[0]?.ms ?? 0;
    if (cutoffMs - swept < everyMs) return;
    const newest = (await this.c.query<{ header: Buffer; encoding: number; payload: Buffer }>(
      'SELECT header, encoding, payload FROM batches WHERE host_id = $1 AND samples > 0 ORDER BY last_seq DESC LIMIT 1',
      [hostId],
    )).rows[0];
    // A chained newest batch decodes against the batch before it (read back to its keyframe).
    const prior = newest ? await priorNeeded(newest, async (hash): Promise<ChainBatch | null> => this.walkBatch(hostId, hash)) : null;
    const running = runningProcesses(newest, prior);
    if (!running) return;
    // Keyset over the primary key's (start, pid) order, pids as stored (pidColumn).
    let after: [number, number] = [-Number.MAX_SAFE_INTEGER, -(2 ** 31)];
    for (;;) {
      // No more rows read than the step may still delete, so a step stays within stepRows.
      const slice = Math.max(1, Math.min(250, this.budget));
      const rows = (await this.c.query<{ pid: number; start_time_ticks: number; first_seen_day: number; signature_id: number }>(
        `SELECT pid, start_time_ticks, first_seen_day, signature_id FROM process_signatures WHERE host_key = $1 AND (start_time_ticks, pid) > ($2::bigint, $3::int)
         ORDER BY start_time_ticks, pid LIMIT $4`,
        [hostKey, after[0], after[1], slice],
      )).rows;
      const old = rows.filter((r) => r.first_seen_day < cutoffDay);
      const runs = (r: (typeof rows)[number]): boolean => running.has(processKey(pidOfColumn(r.pid), r.start_time_ticks));
      const gone = old.filter((r) => !runs(r));
      const kept = [...new Set(old.filter(runs).map((r) => r.signature_id))];
      if (kept.length) {
        await this.c.query('UPDATE signature_blobs SET last_used_ms = $1 WHERE id = ANY($2::bigint[]) AND last_used_ms < $1', [
          cutoffMs,
          kept.sort((a, b) => a - b),
        ]);
      }
      const n = gone.length
        ? await this.n('DELETE FROM process_signatures WHERE host_key = $1 AND (pid, start_time_ticks) IN (SELECT * FROM unnest($2::int[], $3::bigint[]))', [
            hostKey,
            gone.map((r) => r.pid),
            gone.map((r) => r.start_time_ticks),
          ])
        : 0;
      if (rows.length < slice) {
        await this.c.query('UPDATE rollup_hosts SET signatures_pruned_ms = $1 WHERE host_id = $2', [cutoffMs, hostId]);
        yield ['process_signatures', n];
        return;
      }
      after = [rows.at(-1)!.start_time_ticks, rows.at(-1)!.pid];
      yield ['process_signatures', n];
    }
  }

  /** As retention.ts: verdicts in [thinned-so-far, cutoff), whole hours at a time. */
  private async *thinVerdicts(hostId: string, cutoffMs: number, perHour: number): AsyncGenerator<Op, void, void> {
    await this.rollups.hostKey(this.c, hostId);
    const setThinned = (ms: number) => this.c.query('UPDATE rollup_hosts SET verdicts_thinned_ms = $1 WHERE host_id = $2', [ms, hostId]);
    let from = (await this.c.query<{ verdicts_thinned_ms: number }>('SELECT verdicts_thinned_ms FROM rollup_hosts WHERE host_id = $1', [hostId])).rows[0]?.verdicts_thinned_ms ?? 0;
    const chunk = 10_000;
    for (let i = 0; from < cutoffMs && i < 1_000_000; i++) {
      const rows = (await this.c.query<{ ts_ms: number; class: string }>('SELECT ts_ms, class FROM verdicts WHERE host_id = $1 AND ts_ms >= $2 AND ts_ms < $3 ORDER BY ts_ms LIMIT $4', [hostId, from, cutoffMs, chunk])).rows;
      if (rows.length === 0) {
        await setThinned(cutoffMs);
        return;
      }
      let end = cutoffMs;
      if (rows.length === chunk) {
        end = Math.floor(rows.at(-1)!.ts_ms / HOUR_MS) * HOUR_MS;
        if (end <= from) end = rows.at(-1)!.ts_ms + 1;
      }
      let prevClass = (await this.c.query<{ class: string }>('SELECT class FROM verdicts WHERE host_id = $1 AND ts_ms < $2 ORDER BY ts_ms DESC LIMIT 1', [hostId, from])).rows[0]?.class ?? null;
      let hour = -1;
      let kept = 0;
      const drop: number[] = [];
      for (const r of rows) {
        if (r.ts_ms >= end) break;
        const h = Math.floor(r.ts_ms / HOUR_MS);
        if (h !== hour) {
          hour = h;
          kept = 0;
        }
        if (r.class !== prevClass) prevClass = r.class;
        else if (kept < perHour) kept++;
        else drop.push(r.ts_ms);
      }
      for (let at = 0; at < drop.length; ) {
        const n = Math.min(Math.max(1, this.budget), drop.length - at);
        await this.c.query('DELETE FROM verdicts WHERE host_id = $1 AND ts_ms = ANY($2::bigint[])', [hostId, drop.slice(at, at + n)]);
        at += n;
        if (at >= drop.length) await setThinned(end);
        yield ['verdicts', n];
      }
      if (drop.length === 0) {
        await setThinned(end);
        yield ['verdicts', 0];
      }
      from = end;
    }
  }
}
