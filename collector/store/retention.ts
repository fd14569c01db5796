// Retention: what is deleted when, in small steps that never hold the database for long.
//
//   raw signed batches and per-sample rows   kept for the attestation window (rawMs, default 35 d);
//                                             a batch goes with its samples, so every batch kept
//                                             still has every sample it signed; the batches the
//                                             oldest kept one chains to (encoding 4, back to its
//                                             keyframe) are kept, so every batch kept decodes
//   verdicts older than the raw window        thinned: every class change is kept, plus the first
//                                             `verdictsPerHour` refreshes of each hour (with their
//                                             evidence); all go after rollupMs
//   roll-ups (1 min, 1 h), gaps               kept for rollupMs (default 400 d); gaps also at most
//                                             maxGapsPerHost per host (the newest)
//   security events                           last seen within securityEventsMs (and the row cap
//                                             of security-events.ts)
//   process signatures                        a process first seen before the day the raw window
//                                             starts in and not running in the host's newest
//                                             batch (swept at most once per signatureSweepMs per
//                                             host, and once a day); a signature
//                                             blob once no process row uses it (migration 10)
//
// The work is a generator of small deletes (each at most the rows left in the step's budget);
// one step runs deletes inside one transaction until `stepRows` rows are gone, then commits.
// The runner waits `stepPauseMs` between steps, so ingest's transactions interleave with a
// large prune instead of waiting behind it.
import type Database from 'better-sqlite3';
import { assay } from '../../proto/codec.js';
import { parseDurationMs } from '../../proto/duration.js';
import { decodePayload, VERIFY_MAX_INFLATED_BYTES } from '../../proto/payload.js';
import { processKey } from '../engine/types.js';
import { ROLLUP_RESOLUTIONS, type Rollups } from './rollups.js';
import type { SampleFigures } from './sample-figures.js';
import type { PayloadSegments } from './payload-segments.js';
import { REFERENCE_LIFETIME_MS } from '../signature-refs.js';
import { KEEP_COLUMNS, keepBatchOf, keepFromSync, priorNeededSync, type KeepBatch, type KeepRow } from './chain-read.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export interface RetentionOptions {
  /** Raw signed batches and per-sample rows (the attestation window). */
  rawMs: number;
  /** Roll-ups, thinned verdicts, gaps. */
  rollupMs: number;
  /** Refreshes kept per hour for verdicts past the raw window (class changes are always kept). */
  verdictsPerHour: number;
  maxGapsPerHost: number;
  securityEventsMs: number;
  /**
   * How often one host's process signatures are swept (a sweep reads all of the host's rows, a
   * few hundred thousand on a busy host, in small slices).
   */
  signatureSweepMs: number;
  /**
   * SQLite: payloads of batches received longer ago than this move into 64 KB segments
   * (payload-segments.ts); a host quiet for 6 times this has its last partial segment made too.
   */
  compactAfterMs: number;
  /** Most rows one step (one transaction) deletes. */
  stepRows: number;
  /** Pause between steps, so other transactions run. */
  stepPauseMs: number;
  /** How often a retention round starts. */
  everyMs: number;
}

export const defaultRetentionOptions: RetentionOptions = {
  rawMs: 35 * DAY_MS,
  rollupMs: 400 * DAY_MS,
  verdictsPerHour: 4,
  maxGapsPerHost: 10_000,
  securityEventsMs: 30 * DAY_MS,
  signatureSweepMs: DAY_MS,
  compactAfterMs: 10 * 60_000,
  stepRows: 500,
  stepPauseMs: 20,
  everyMs: 10 * 60_000,
};

/** Checks the windows make sense (raw within roll-ups) and returns the full options. */
export function retentionOptions(partial: Partial<RetentionOptions> = {}): RetentionOptions {
  const o = { ...defaultRetentionOptions, ...partial };
  for (const [k, v] of Object.entries(o)) if (!Number.isFinite(v) || v < 0) throw new Error(`retention ${k} must be a non-negative number, not ${v}`);
  if (o.rawMs < HOUR_MS) throw new Error(`raw retention ${o.rawMs} ms is under an hour: reports need the signed batches`);
  if (o.rollupMs < o.rawMs) throw new Error(`roll-up retention (${o.rollupMs} ms) must be at least the raw retention (${o.rawMs} ms)`);
  if (o.stepRows < 1) throw new Error('retention stepRows must be at least 1');
  return o;
}

/** `35d`, `400d`, `12h`… (proto/duration.ts), for flags and config. */
export const parseRetention = (text: string): number => parseDurationMs(text);

/** Rows deleted, by table (`samples`: rows of chart figures; SQLite packs a batch's samples in one, sample-figures.ts). */
export type Deleted = Record<
  | 'samples' | 'batches' | 'verdicts' | 'rollup_1m' | 'rollup_1h' | 'gaps' | 'security_event_windows' | 'process_signatures' | 'signature_blobs'
  | 'payload_segments',
  number
>;
export const noneDeleted = (): Deleted => ({
  samples: 0, batches: 0, verdicts: 0, rollup_1m: 0, rollup_1h: 0, gaps: 0, security_event_windows: 0, process_signatures: 0, signature_blobs: 0, payload_segments: 0,
});

/** Process signature rows one slice of a sweep reads (a slice that deletes nothing still counts as an op of a step). */
const SIGNATURE_SLICE = 250;

/**
 * The processes running in a host's newest sample, as `${pid}:${startTimeTicks}` (null: it cannot
 * be read). `prior`: what a chained batch decodes against (chain-read.ts priorNeeded; undefined:
 * its prior is gone, so the batch cannot be read).
 */
export function runningProcesses(batch: { header: Uint8Array; encoding: number; payload: Uint8Array } | undefined, prior: Uint8Array | null | undefined = null): Set<string> | null {
  if (!batch) return new Set();
  if (prior === undefined) return null;
  try {
    const samples = decodePayload(batch.encoding, batch.payload, VERIFY_MAX_INFLATED_BYTES, undefined, Infinity, prior);
    const seqs = assay.v1.BatchHeader.decode(batch.header).seqs ?? [];
    if (samples.length !== seqs.length) return null;
    return new Set((samples.at(-1)?.processes ?? []).map((p) => processKey(p.pid ?? 0, Number(p.startTimeTicks ?? 0))));
  } catch {
    return null;
  }
}

export interface RetentionStepResult {
  deleted: Deleted;
  /** True when this step finished the round (nothing left past any window at its clock). */
  done: boolean;
}

/** One small delete: the table and how many rows it removed. */
type Op = [keyof Deleted, number, number?];

/** Most cheap checks (deletes that find nothing) one step makes, so a step over 10,000 idle hosts stays short. */
const MAX_OPS_PER_STEP = 200;

/** A batch row as retention reads it for a chain walk (its payload in the row or in a segment). */
interface WalkRow extends KeepRow {
  segment_id: number | null;
  segment_offset: number | null;
  segment_length: number | null;
}
const WALK_COLUMNS = `${KEEP_COLUMNS}, segment_id, segment_offset, segment_length`;

export class SqliteRetention {
  private round: Generator<Op, void, void> | null = null;
  private budget = 0;
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly rollups: Rollups,
    private readonly figures: SampleFigures,
    private readonly segments: PayloadSegments,
  ) {
    this.s = {
      hosts: db.prepare<[], { id: string; last_seq: number }>('SELECT id, last_seq FROM hosts ORDER BY id'),
      anyBatchBefore: db.prepare<[string, number], { n: number }>('SELECT 1 AS n FROM batches WHERE host_key = (SELECT host_key FROM rollup_hosts WHERE host_id = ?) AND last_seq < ? AND samples > 0 LIMIT 1'),
      // The oldest batch kept: the one holding the first sample at or after the cutoff, or the next one.
      oldestKept: db.prepare<[string, number], { id: number; first_seq: number }>(
        'SELECT rowid AS id, first_seq FROM batches WHERE host_key = (SELECT host_key FROM rollup_hosts WHERE host_id = ?) AND last_seq >= ? AND samples > 0 ORDER BY last_seq LIMIT 1',
      ),
      batchByRowid: db.prepare<[number], WalkRow>(`SELECT ${WALK_COLUMNS} FROM batches WHERE rowid = ?`),
      batchByHash: db.prepare<[Uint8Array, string, Uint8Array], WalkRow>(
        `SELECT ${WALK_COLUMNS} FROM batches INDEXED BY batches_by_hash_prefix WHERE substr(hash, 1, 8) = substr(?, 1, 8) AND host_id = ? AND hash = ?`,
      ),
      markPruned: db.prepare('UPDATE rollup_hosts SET raw_pruned_ms = MAX(raw_pruned_ms, ?) WHERE host_id = ?'),
      // Batches with samples go with their samples; a batch without samples (gaps only) by when it arrived.
      batches: db.prepare(
        `DELETE FROM batches WHERE rowid IN (SELECT rowid FROM batches WHERE host_key = (SELECT host_key FROM rollup_hosts WHERE host_id = ?)
           AND ((samples > 0 AND last_seq < ?) OR (samples = 0 AND received_ms < ?)) LIMIT ?)`,
      ),
      thinState: db.prepare<[string], { verdicts_thinned_ms: number }>('SELECT verdicts_thinned_ms FROM rollup_hosts WHERE host_id = ?'),
      classBefore: db.prepare<[string, number], { class: string }>('SELECT class FROM verdicts WHERE host_id = ? AND ts_ms < ? ORDER BY ts_ms DESC LIMIT 1'),
      verdictsIn: db.prepare<[string, number, number, number], { ts_ms: number; class: string }>(
        'SELECT ts_ms, class FROM verdicts WHERE host_id = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms LIMIT ?',
      ),
      deleteVerdict: db.prepare('DELETE FROM verdicts WHERE host_id = ? AND ts_ms = ?'),
      setThinned: db.prepare('UPDATE rollup_hosts SET verdicts_thinned_ms = ? WHERE host_id = ?'),
      oldVerdicts: db.prepare('DELETE FROM verdicts WHERE host_id = ? AND ts_ms IN (SELECT ts_ms FROM verdicts WHERE host_id = ? AND ts_ms < ? ORDER BY ts_ms LIMIT ?)'),
      rollups: ROLLUP_RESOLUTIONS.map((r) => ({
        table: r.table,
        widthMs: r.widthMs,
        stmt: db.prepare(`DELETE FROM ${r.table} WHERE host_key = ? AND bucket IN (SELECT bucket FROM ${r.table} WHERE host_key = ? AND bucket < ? ORDER BY bucket LIMIT ?)`),
      })),
      oldGaps: db.prepare('DELETE FROM gaps WHERE rowid IN (SELECT rowid FROM gaps WHERE to_ms < ? LIMIT ?)'),
      extraGaps: db.prepare('DELETE FROM gaps WHERE rowid IN (SELECT rowid FROM gaps WHERE host_id = ? ORDER BY from_ms DESC, rowid DESC LIMIT ? OFFSET ?)'),
      sweepState: db.prepare<[string], { host_key: number; swept_ms: number }>(
        'SELECT k.host_key, COALESCE(w.swept_ms, 0) AS swept_ms FROM rollup_hosts k LEFT JOIN signature_sweeps w ON w.host_key = k.host_key WHERE k.host_id = ?',
      ),
      newestBatch: db.prepare<[string], { header: Buffer; encoding: number; payload: Buffer; segment_id: number | null; segment_offset: number | null; segment_length: number | null }>(
        'SELECT header, encoding, payload, segment_id, segment_offset, segment_length FROM batches WHERE host_key = (SELECT host_key FROM rollup_hosts WHERE host_id = ?) AND samples > 0 ORDER BY last_seq DESC LIMIT 1',
      ),
      signatureSlice: db.prepare<[number, number, number, number], { pid: number; start_time_ticks: number; signature_id: number; first_seen_day: number }>(
        `SELECT pid, start_time_ticks, signature_id, first_seen_day FROM process_signatures
         WHERE host_key = ? AND (pid, start_time_ticks) > (?, ?) ORDER BY pid, start_time_ticks LIMIT ?`,
      ),
      deleteSignature: db.prepare('DELETE FROM process_signatures WHERE host_key = ? AND pid = ? AND start_time_ticks = ?'),
      touchBlob: db.prepare('UPDATE signature_blobs SET last_used_ms = MAX(last_used_ms, ?) WHERE id = ?'),
      setSwept: db.prepare('INSERT INTO signature_sweeps (host_key, swept_ms) VALUES (?, ?) ON CONFLICT(host_key) DO UPDATE SET swept_ms = excluded.swept_ms'),
      // Every host's rows were swept up to at least this (a host not swept yet: 0, nothing goes).
      sweptUpTo: db.prepare<[], { ms: number | null }>(
        'SELECT MIN(COALESCE(w.swept_ms, 0)) AS ms FROM rollup_hosts k LEFT JOIN signature_sweeps w ON w.host_key = k.host_key',
      ),
      unusedBlobs: db.prepare('DELETE FROM signature_blobs WHERE id IN (SELECT id FROM signature_blobs WHERE last_used_ms < ? ORDER BY last_used_ms LIMIT ?)'),
      oldEvents: db.prepare(
        `DELETE FROM security_event_windows WHERE (reason, subject, window_start_ms) IN (
           SELECT reason, subject, window_start_ms FROM security_event_windows WHERE last_ms < ? ORDER BY last_ms LIMIT ?)`,
      ),
    };
  }

  /**
   * One step: deletes at most opts.stepRows rows in one transaction. A round (every window
   * applied at `nowMs` to every host) spans as many steps as it needs; `done` ends it, and the
   * next call starts a new round.
   */
  step(opts: RetentionOptions, nowMs: number): RetentionStepResult {
    const deleted = noneDeleted();
    if (!this.db.open) return { deleted, done: true };
    let done = false;
    const step = this.db.transaction(() => {
      this.round ??= this.work(opts, nowMs);
      this.budget = opts.stepRows;
      for (let ops = 0; this.budget > 0 && ops < MAX_OPS_PER_STEP; ops++) {
        const r = this.round.next();
        if (r.done) {
          done = true;
          this.round = null;
          break;
        }
        const [table, n, cost] = r.value;
        deleted[table] += n;
        this.budget -= cost ?? n;
      }
    });
    try {
      step();
    } catch (err) {
      // Rolled back: a segment read in this step may not exist, and its id may be given again.
      this.segments.forget();
      this.round = null;
      throw err;
    }
    return { deleted, done };
  }

  /** Deletes until `fn` removes fewer rows than it was allowed (nothing of that kind is left). */
  private *drain(table: keyof Deleted, fn: (limit: number) => number): Generator<Op, void, void> {
    for (;;) {
      const limit = Math.max(1, this.budget);
      const n = fn(limit);
      yield [table, n];
      if (n < limit) return;
    }
  }

  private *work(opts: RetentionOptions, nowMs: number): Generator<Op, void, void> {
    const rawCutoff = nowMs - opts.rawMs;
    const rollupCutoff = nowMs - opts.rollupMs;
    // Hosts as the round began; hosts enrolled since have nothing this old.
    const hosts = this.s.hosts.all();
    for (const h of hosts) {
      yield* this.pruneRaw(h.id, h.last_seq, rawCutoff);
      // Older payloads into segments; moving counts against the step's budget, not as deletions.
      for (let more = true; more; ) {
        const moved = this.segments.compact(h.id, nowMs - opts.compactAfterMs, nowMs - 6 * opts.compactAfterMs, Math.max(1, this.budget));
        more = moved > 0;
        yield ['payload_segments', 0, moved];
      }
      // Older chart-figure rows merged (sample-figures.ts mergeOlder), counted like the moves above.
      const hostKey = this.rollups.hostKey(h.id);
      for (let more = true; more; ) {
        const read = this.figures.mergeOlder(hostKey, nowMs - opts.compactAfterMs, Math.max(2, this.budget));
        more = read > 0;
        yield ['samples', 0, read];
      }
      yield* this.thinVerdicts(h.id, Math.floor(rawCutoff / HOUR_MS) * HOUR_MS, opts.verdictsPerHour);
      yield* this.drain('verdicts', (limit) => this.s.oldVerdicts.run(h.id, h.id, rollupCutoff, limit).changes);
      const key = this.rollups.hostKey(h.id);
      for (const r of this.s.rollups) yield* this.drain(r.table, (limit) => r.stmt.run(key, key, Math.floor(rollupCutoff / r.widthMs), limit).changes);
      yield* this.drain('gaps', (limit) => this.s.extraGaps.run(h.id, limit, opts.maxGapsPerHost).changes);
      // Never a signature an agent may still refer to (signature-refs.ts), even under a short raw
      // window; a blob named by a kept batch was marked used when that batch came (sqlite.ts).
      yield* this.pruneSignatures(h.id, Math.min(rawCutoff, nowMs - REFERENCE_LIFETIME_MS), opts.signatureSweepMs);
    }
    // After every host's sweep: a blob last used before all of them is used by no row.
    const swept = this.s.sweptUpTo.get()?.ms ?? 0;
    if (swept > 0) yield* this.drain('signature_blobs', (limit) => this.s.unusedBlobs.run(swept, limit).changes);
    yield* this.drain('gaps', (limit) => this.s.oldGaps.run(rollupCutoff, limit).changes);
    yield* this.drain('security_event_windows', (limit) => this.s.oldEvents.run(nowMs - opts.securityEventsMs, limit).changes);
  }

  /** A batch of the host by hash, its payload read (null: not stored). */
  private walkBatch(hostId: string, hash: Uint8Array): KeepBatch | null {
    const r = this.s.batchByHash.get(hash, hostId, hash);
    return r ? this.keepBatch(r) : null;
  }

  private keepBatch(r: WalkRow): KeepBatch {
    return keepBatchOf(r, this.segments.payloadOf(r));
  }

  /**
   * The host's raw rows before the window: the batches all of whose samples come before (by
   * sequence) the first sample timestamped at or after the cutoff, with those samples, except the
   * batches the oldest kept one still chains to (BATCH_ENCODING_CHAINED: it decodes against the
   * last sample of the batch before it, and that one against its own, back to a keyframe: at most
   * CHAIN_MAX_BATCHES batches, chain-read.ts keepFromSync). The kept part is one unbroken piece of
   * the chain, every kept batch has all its samples, and every kept batch decodes.
   */
  private *pruneRaw(hostId: string, lastSeq: number, cutoffMs: number): Generator<Op, void, void> {
    const key = this.rollups.hostKey(hostId);
    const first = this.figures.firstFrom(key, cutoffMs)?.seq ?? lastSeq + 1;
    const oldest = this.s.oldestKept.get(hostId, first);
    // A batch that straddles the cutoff is kept whole, with its older samples.
    let keepFrom = Math.min(first, oldest?.first_seq ?? first);
    const anyBefore = (): boolean => this.figures.anyBefore(key, keepFrom) || !!this.s.anyBatchBefore.get(hostId, keepFrom);
    let any = anyBefore();
    // Walked only when something would go (a few indexed reads of the batches just before).
    const row = oldest && any ? this.s.batchByRowid.get(oldest.id) : undefined;
    if (row) {
      const chained = keepFromSync(this.keepBatch(row), (hash) => this.walkBatch(hostId, hash));
      if (chained < keepFrom) {
        keepFrom = chained;
        any = anyBefore();
      }
    }
    if (!any) {
      // Gap-only batches older than the window may still be there.
      yield* this.drain('batches', (limit) => this.s.batches.run(hostId, keepFrom, cutoffMs, limit).changes);
      yield* this.drain('payload_segments', (limit) => this.segments.deleteBefore(hostId, keepFrom, limit));
      return;
    }
    // Said before anything is deleted, in the same transaction: a report never sees rows missing
    // without being told.
    this.s.markPruned.run(cutoffMs, hostId);
    // Rows of packed figures (sample-figures.ts): one per batch, or a few for a long one.
    yield* this.drain('samples', (limit) => this.figures.deleteBefore(key, keepFrom, limit));
    yield* this.drain('batches', (limit) => this.s.batches.run(hostId, keepFrom, cutoffMs, limit).changes);
    // A segment goes with the last batch it holds.
    yield* this.drain('payload_segments', (limit) => this.segments.deleteBefore(hostId, keepFrom, limit));
  }

  /**
   * The host's process signature rows first seen before `cutoffMs`: deleted unless the process
   * runs in the host's newest batch (then its blob is marked used at the cutoff, so the blob
   * sweep keeps it). A sweep reads every row of the host, in slices of SIGNATURE_SLICE (keyset,
   * so rows added between steps are simply met or not: any row added now is newer than the
   * cutoff); it runs when the last one is at least `everyMs` old.
   */
  private *pruneSignatures(hostId: string, windowCutoffMs: number, everyMs: number): Generator<Op, void, void> {
    // Rows know the day a process was first seen, not the millisecond (migration 13): the cutoff is
    // the start of its day, so a row goes a day late at most, and the sweep below runs exactly as
    // it would with that cutoff (its blob bookkeeping included). Sweeps run at most once a day.
    const cutoffMs = Math.floor(windowCutoffMs / DAY_MS) * DAY_MS;
    const cutoffDay = cutoffMs / DAY_MS;
    this.rollups.hostKey(hostId);
    const st = this.s.sweepState.get(hostId)!;
    if (cutoffMs - st.swept_ms < everyMs) return;
    const row = this.s.newestBatch.get(hostId);
    const newest = row && { ...row, payload: this.segments.payloadOf(row) };
    // A chained newest batch decodes against the batch before it (read back to its keyframe).
    const prior = newest ? priorNeededSync(newest, (hash) => this.walkBatch(hostId, hash)) : null;
    const running = runningProcesses(newest, prior);
    if (!running) return; // unreadable newest batch: keep everything, try again next round
    let after: [number, number] = [-Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];
    for (;;) {
      // No more rows read than the step may still delete, so a step stays within stepRows.
      const slice = Math.max(1, Math.min(SIGNATURE_SLICE, this.budget));
      const rows = this.s.signatureSlice.all(st.host_key, after[0], after[1], slice);
      let n = 0;
      for (const r of rows) {
        if (r.first_seen_day >= cutoffDay) continue;
        if (running.has(processKey(r.pid, r.start_time_ticks))) this.s.touchBlob.run(cutoffMs, r.signature_id);
        else n += this.s.deleteSignature.run(st.host_key, r.pid, r.start_time_ticks).changes;
      }
      if (rows.length < slice) {
        this.s.setSwept.run(st.host_key, cutoffMs);
        yield ['process_signatures', n];
        return;
      }
      after = [rows.at(-1)!.pid, rows.at(-1)!.start_time_ticks];
      yield ['process_signatures', n];
    }
  }

  /** Verdicts in [thinned-so-far, cutoff), whole hours at a time. */
  private *thinVerdicts(hostId: string, cutoffMs: number, perHour: number): Generator<Op, void, void> {
    this.rollups.hostKey(hostId);
    let from = this.s.thinState.get(hostId)?.verdicts_thinned_ms ?? 0;
    // At most 10,000 verdicts are read at once; an hour holds far fewer (one per evaluation at most).
    const chunk = 10_000;
    for (let i = 0; from < cutoffMs && i < 1_000_000; i++) {
      const rows = this.s.verdictsIn.all(hostId, from, cutoffMs, chunk);
      if (rows.length === 0) {
        this.s.setThinned.run(cutoffMs, hostId);
        return;
      }
      // A full chunk ends at the last whole hour in it (the next pass starts there).
      let end = cutoffMs;
      if (rows.length === chunk) {
        end = Math.floor(rows.at(-1)!.ts_ms / HOUR_MS) * HOUR_MS;
        if (end <= from) end = rows.at(-1)!.ts_ms + 1; // one hour with more than a chunk: cut inside it
      }
      let prevClass = this.s.classBefore.get(hostId, from)?.class ?? null;
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
      // Deletes in budget-sized slices; the bookkeeping moves on once the slice set is done.
      for (let at = 0; at < drop.length; ) {
        const n = Math.min(Math.max(1, this.budget), drop.length - at);
        for (const ts of drop.slice(at, at + n)) this.s.deleteVerdict.run(hostId, ts);
        at += n;
        if (at >= drop.length) this.s.setThinned.run(end, hostId);
        yield ['verdicts', n];
      }
      if (drop.length === 0) {
        this.s.setThinned.run(end, hostId);
        yield ['verdicts', 0];
      }
      from = end;
    }
  }
}

/** Runs retention rounds on a timer, a step at a time with pauses between. */
export class RetentionRunner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<Deleted> | null = null;
  private stopped = false;

  constructor(
    private readonly stepFn: (opts: RetentionOptions, nowMs: number) => Promise<RetentionStepResult>,
    readonly opts: RetentionOptions,
    private readonly onRound: (deleted: Deleted, steps: number, ms: number) => void = () => {},
    private readonly onError: (err: Error) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      // A failed round is reported and retried at the next tick; it never ends the process.
      void this.runRound()
        .catch((err: Error) => this.onError(err))
        .finally(() => {
          if (this.stopped) return;
          this.timer = setTimeout(tick, this.opts.everyMs);
          this.timer.unref();
        });
    };
    this.timer = setTimeout(tick, Math.min(this.opts.everyMs, 60_000));
    this.timer.unref();
  }

  /** One whole round at the clock's time now (or `nowMs`), in steps; resolves with what it deleted. */
  runRound(nowMs = this.now()): Promise<Deleted> {
    this.running ??= (async () => {
      const t0 = Date.now();
      const total = noneDeleted();
      let steps = 0;
      // Bounded: a round that needs more steps than this finishes in the next one.
      for (; steps < 1_000_000 && !this.stopped; steps++) {
        const r = await this.stepFn(this.opts, nowMs);
        for (const k of Object.keys(total) as Array<keyof Deleted>) total[k] += r.deleted[k];
        if (r.done) break;
        await new Promise((res) => setTimeout(res, this.opts.stepPauseMs));
      }
      this.onRound(total, steps + 1, Date.now() - t0);
      return total;
    })().finally(() => (this.running = null));
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => {});
  }
}
