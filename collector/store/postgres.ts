// PostgreSQL store (`--db postgres://…`), for fleets one SQLite file cannot hold and for several
// collectors sharing one database. Same interface and behaviour as the SQLite store (the shared
// suite in test/store/ runs against both), with:
// - day partitions for samples, batches and verdicts (postgres-partitions.ts), created ahead and
//   dropped whole for retention;
// - group commit (postgres-group.ts): hellos, batches and verdicts of many agents go through a
//   commit queue (commit-queue.ts) and commit together, one transaction per group whose sequence
//   and hash-chain checks run under the hosts' row locks (SELECT … ORDER BY id FOR UPDATE), so two
//   collectors racing on one agent's batches never store a batch twice or fork the chain: the
//   second waits for the first, then sees its commit;
// - bulk inserts: the group's samples, roll-ups, process signatures, gaps, verdicts and batches
//   are each one multi-row INSERT, about ten round trips per group whatever its size;
// - process signatures as in SQLite: each distinct content once (signature_blobs, by SHA-256,
//   deflated when smaller: signature-blob.ts), process rows naming it by digest (migration 15).
import { prevHashOf } from './prev-hash.js';
import pg from 'pg';
import { assay, type IHello, type IProcessSignature, type ISample } from '../../proto/codec.js';
import { processKey, type Verdict } from '../engine/types.js';
import { verdictIsNonAi } from '../non-ai.js';
import { CommitQueue, defaultGroupCommit, type GroupCommitOptions, type GroupCommitStats, type Outcome } from './commit-queue.js';
import { hostFromRow, type HostRow } from './host-row.js';
import { applyWrites, beginAndLock, hashKey, pidColumn, pidOfColumn, insertNewContents, prepareBatch, prepareHello, prepareVerdict, RETRYABLE, type Applied, type GroupContext, type PgWrite } from './postgres-group.js';
import { postgresMigrations, type PartitionedTable } from './postgres-migrations.js';
import { Partitions, DAY_MS } from './postgres-partitions.js';
import { PgRetention } from './postgres-retention.js';
import { PgRollups } from './postgres-rollups.js';
import * as figures from './postgres-figures.js';
import type { RetentionOptions, RetentionStepResult } from './retention.js';
import { chartSource, rollupResolution, type RollupRow } from './rollups.js';
import { defaultSecurityEventOptions, foldEvent, windowFromRow, type SecurityEventOptions, type SecurityEventRow } from './security-events.js';
import { type AppendResult, type ClassChange, type ClassChangeQuery, type GapRecord, type HostCount, type HostQuery, type HostRecord, type HostSort, type IncomingBatch, type Lease, type RetentionState, type SampleSummary, type SecurityEvent, type SecurityEventWindow, type Store, type StoredBatch, type StoredVerdict, type VerdictClass } from './store.js';
import { REFERENCE_BYTES, digestHex, referencedDigests, resolveReferences } from '../signature-refs.js';
import { decodeSignatureBlob } from './signature-blob.js';
import { decodeVerdict } from './verdict-codec.js';
import { ChainReader, batchesToRead, noChainReads, type ChainReadStats } from './chain-read.js';
import type { ChainBatch } from './chain.js';

export interface PostgresStoreOptions {
  /** Most connections this store opens (its pool; bounded). */
  maxConnections: number;
  /** Day partitions are kept created this many days ahead of today. */
  partitionsAheadDays: number;
  /**
   * Retention drops whole day partitions past the windows (with a day's margin) before its
   * row-by-row steps; off, every row goes through the bounded steps as in SQLite.
   */
  retentionDropsPartitions: boolean;
  /** Most class changes kept (the feed's history); older rows are deleted in steps. */
  maxClassChanges: number;
  /** How often the store runs `maintain()` on its own (0: never; call it yourself). */
  maintainEveryMs: number;
  securityEvents: SecurityEventOptions;
  /** Group commit bounds (commit-queue.ts), per queue; weight is one unit per sample or KiB (at least one per write). */
  groupCommit: GroupCommitOptions;
  /** Commit queues, each with one group in flight on its own connection; hosts are spread over them by id (at most maxConnections - 2). */
  groupShards: number;
  /** Most times a group is run again after a deadlock or serialization failure before its writes are refused. */
  groupAttempts: number;
  /**
   * Longest a group waits for a host row another transaction holds (another collector's group,
   * `agents revoke`): past it the group's writes are refused (their agents resend), so a
   * connection that died holding locks cannot stall this collector's ingest for long.
   */
  groupLockTimeoutMs: number;
}

export const defaultPostgresOptions: PostgresStoreOptions = {
  maxConnections: 10,
  partitionsAheadDays: 2,
  retentionDropsPartitions: true,
  maxClassChanges: 100_000,
  maintainEveryMs: 3600_000,
  securityEvents: defaultSecurityEventOptions,
  groupCommit: defaultGroupCommit,
  groupShards: 4,
  groupAttempts: 4,
  groupLockTimeoutMs: 10_000,
};

/** True for the --db values this store takes. */
export const isPostgresUrl = (db: string): boolean => /^postgres(ql)?:\/\//i.test(db);

/** The URL with any password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

interface BatchRow {
  hash: Buffer;
  prev_hash: Buffer;
  header: Buffer;
  signature: Buffer;
  first_seq: number;
  last_seq: number;
  samples: number;
  received_ms: number;
  encoding: number;
  payload: Buffer;
}

const batchFromRow = (r: BatchRow): StoredBatch => ({
  hash: r.hash,
  // An empty column: the link is the header's own (prev-hash.ts; rows stored before keep theirs).
  prevHash: prevHashOf(r.prev_hash, r.header),
  header: r.header,
  signature: r.signature,
  firstSeq: r.first_seq,
  lastSeq: r.last_seq,
  samples: r.samples,
  receivedMs: r.received_ms,
  encoding: r.encoding,
  payload: r.payload,
});

/** A verdict row: deflated with the frozen dictionary since migration 17 (verdict-codec.ts), JSON text before. */
interface VerdictRow {
  ts_ms: number;
  verdict: string | null;
  verdict_deflated: Buffer | null;
}

const verdictOfRow = (r: VerdictRow): StoredVerdict => ({ tsMs: r.ts_ms, verdict: decodeVerdict(r.verdict_deflated ?? r.verdict ?? '') });

const BATCH_COLUMNS = 'hash, prev_hash, header, signature, first_seq, last_seq, samples, received_ms, encoding, payload';

/** BIGINT (and COUNT) as a JS number: every value stored here (ms, seq, bytes) is below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === pg.types.builtins.INT8) {
      return (v: string): number => {
        const n = Number(v);
        if (!Number.isSafeInteger(n)) throw new Error(`BIGINT ${v} is beyond 2^53`);
        return n;
      };
    }
    return pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};

const bytea = (b: Uint8Array, what: string): Buffer => {
  if (!(b instanceof Uint8Array)) throw new TypeError(`${what} is not bytes`);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
};

/** A LIKE pattern's own wildcards and escape character taken literally. */
const likeEscape = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Advisory lock held while migrating: collectors starting together migrate one at a time. */
const MIGRATE_LOCK = 0x6d696772; // 'migr'

/** Postgres "no partition of relation … found for row" (a partition dropped by another collector). */
const NO_PARTITION = '23514';

/** lock_not_available: a row lock not granted within the group's lock_timeout. */
const LOCK_TIMEOUT = '55P03';

/**
 * Whether a failed statement may be one write's doing (a value refused, a constraint): then the
 * group is run again one write at a time. Not for a lost connection, the server shutting down or
 * out of resources (SQLSTATE classes 08, 53, 57, 58), a deadlock or serialization failure (the
 * group runs again whole), a lock timeout (the group runs again without the hosts held) or a
 * missing partition.
 */
function oneWriteMayCause(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return false;
  return !RETRYABLE.has(code) && code !== NO_PARTITION && code !== LOCK_TIMEOUT && !['08', '53', '57', '58'].includes(code.slice(0, 2));
}

export class PostgresStore implements Store {
  readonly pool: pg.Pool;
  readonly partitions: Partitions;
  readonly rollups: PgRollups;
  private readonly retention: PgRetention;
  private readonly opts: PostgresStoreOptions;
  private readonly pending = new Map<string, SecurityEventRow>();
  private securityTimer: NodeJS.Timeout | null = null;
  private securityFlush: Promise<void> = Promise.resolve();
  private newestEventMs = 0;
  private maintainTimer: NodeJS.Timeout | null = null;
  private enrolled = 0;
  private readonly changes = { sincePrune: 0 };
  private closed = false;
  /**
   * Every write of ingest (hellos, batches, verdicts) goes through one of these queues, committed
   * in groups; a host's writes always through the same one (so in arrival order). The queues'
   * groups commit concurrently, each on its own connection: their hosts never overlap, so they
   * never wait on each other's row locks, and a slow round trip or commit of one group does not
   * hold up the others.
   */
  private readonly shards: CommitQueue[];
  /** The queues' figures together (metrics, tests). */
  readonly commits: { readonly stats: GroupCommitStats; drain(): Promise<void> };
  /** Groups run again after a deadlock or serialization failure, and groups whose fast path failed and ran one write at a time. */
  readonly groupStats = { retries: 0, isolated: 0 };
  /** Chained batches reads left out for want of their prior (chain-read.ts). */
  readonly chainReads: ChainReadStats = noChainReads();
  /**
   * Fault injection for tests: awaited inside each group's transaction after its writes, before
   * COMMIT; throwing rolls the whole attempt back as a failed commit would (an error with a
   * deadlock's SQLSTATE, 40P01, makes the group run again).
   */
  readonly hooks: { beforeCommit?: (writes: number, attempt: number) => void | Promise<void> } = {};

  private constructor(url: string, opts: PostgresStoreOptions) {
    this.opts = opts;
    this.pool = new pg.Pool({ connectionString: url, max: opts.maxConnections, types, application_name: 'assay-collector' });
    // An idle connection the server drops (restart, failover) must not end the collector.
    this.pool.on('error', () => undefined);
    this.partitions = new Partitions(this.pool);
    this.rollups = new PgRollups(this.pool);
    this.retention = new PgRetention(this.pool, this.rollups, opts.retentionDropsPartitions ? this.partitions : null);
    const n = Math.max(1, Math.min(Math.floor(opts.groupShards), opts.maxConnections - 2));
    this.shards = Array.from({ length: n }, () => new CommitQueue((works) => this.runGroup(works), opts.groupCommit));
    const shards = this.shards;
    const sum = (k: 'groups' | 'writes' | 'failedGroups'): number => shards.reduce((a, q) => a + q.stats[k], 0);
    this.commits = {
      stats: {
        get groups() { return sum('groups'); },
        get writes() { return sum('writes'); },
        get failedGroups() { return sum('failedGroups'); },
        get largestGroup() { return Math.max(...shards.map((q) => q.stats.largestGroup)); },
      },
      drain: async () => void (await Promise.all(shards.map((q) => q.drain()))),
    };
  }

  /** Connects, migrates (one collector at a time), creates today's partitions and those ahead. */
  static async open(url: string, options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
    const store = new PostgresStore(url, {
      ...defaultPostgresOptions,
      ...options,
      securityEvents: { ...defaultPostgresOptions.securityEvents, ...options.securityEvents },
      groupCommit: { ...defaultPostgresOptions.groupCommit, ...options.groupCommit },
    });
    try {
      await store.migrate();
      await store.partitions.load();
      await store.maintain(Date.now());
      await store.refreshEnrolled();
    } catch (err) {
      await store.pool.end().catch(() => undefined);
      throw err;
    }
    if (store.opts.maintainEveryMs > 0) {
      store.maintainTimer = setInterval(() => void store.maintain(Date.now()).catch(() => undefined), store.opts.maintainEveryMs);
      store.maintainTimer.unref();
    }
    return store;
  }

  /** Applies pending numbered migrations, each in its own transaction, under an advisory lock. */
  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
      try {
        await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)');
        const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
        for (const m of postgresMigrations) {
          if (applied.has(m.version)) continue;
          await client.query('BEGIN');
          try {
            await client.query(m.sql);
            await m.run?.(client);
            if (m.after) await client.query(m.after);
            await client.query('INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK');
            throw new Error(`migration ${m.version} (${m.name}): ${(err as Error).message}`);
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]);
      }
    } finally {
      client.release();
    }
  }

  /** Creates partitions ahead (retention drops old ones: retentionStep). Safe to run from several collectors. */
  async maintain(nowMs: number): Promise<void> {
    await this.partitions.createAhead(nowMs, this.opts.partitionsAheadDays);
  }

  /** Runs `fn` in one transaction on one connection. */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>, begin: 'BEGIN' | 'fn begins' = 'BEGIN'): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      if (begin === 'BEGIN') await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      // A connection that cannot even roll back is broken: destroyed, not returned to the pool.
      broken = await client.query('ROLLBACK').then(
        () => undefined,
        (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
      );
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** Queued for the next group commit; resolves with the host's row once the group is committed. */
  async upsertHost(hello: IHello, nowMs: number): Promise<HostRecord> {
    const w = prepareHello(hello, nowMs);
    return this.queueOf(w.id).submit(() => w) as unknown as Promise<HostRecord>;
  }

  /** Queued for the next group commit; resolves once the group is committed (fsync'd by the server). */
  async appendBatch(hostId: string, batch: IncomingBatch, nowMs: number): Promise<AppendResult> {
    // What PostgreSQL would refuse is refused here, before the batch joins a group.
    const w = prepareBatch(hostId, batch, nowMs);
    // Weight as in SQLite: one unit per sample or per KiB of the batch's bytes, whichever is more.
    return this.queueOf(hostId).submit(() => w, Math.max(1, w.seqs.length, Math.ceil((w.header.length + w.payload.length) / 1024))) as unknown as Promise<AppendResult>;
  }

  /** The host's commit queue (FNV-1a of its id). */
  private queueOf(hostId: string): CommitQueue {
    if (this.shards.length === 1) return this.shards[0]!;
    let h = 0x811c9dc5;
    for (let i = 0; i < hostId.length; i++) h = Math.imul(h ^ hostId.charCodeAt(i), 0x01000193);
    return this.shards[(h >>> 0) % this.shards.length]!;
  }

  /** The commit queues' runGroup (contract in commit-queue.ts; how, in postgres-group.ts). */
  private async runGroup(works: Array<() => unknown>): Promise<Outcome<unknown>[]> {
    const outcomes: Outcome<unknown>[] = new Array(works.length);
    const at: number[] = [];
    const writes: PgWrite[] = [];
    works.forEach((work, i) => {
      try {
        writes.push(work() as PgWrite);
        at.push(i);
      } catch (error) {
        outcomes[i] = { ok: false, error };
      }
    });
    if (writes.length === 0) return outcomes;
    for (let attempt = 1; ; attempt++) {
      try {
        // Partitions are made outside the group's transaction: DDL there would wait on, and hold
        // up, other collectors' inserts while this one holds host locks.
        await this.ensurePartitions(writes);
        // New signature contents likewise, each committed at once (postgres-group.ts).
        await insertNewContents(this.pool, writes);
        const applied = await this.commitWrites(writes, attempt);
        this.rollups.remember(applied.newKeys);
        if (applied.enrolled) await this.refreshEnrolled().catch(() => undefined);
        applied.outcomes.forEach((o, j) => (outcomes[at[j]!] = o));
        return outcomes;
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (attempt >= this.opts.groupAttempts) throw err;
        if (code === NO_PARTITION) {
          // Another collector dropped (retention) or this one never knew a partition: learn and run again.
          await this.partitions.load();
          continue;
        }
        if (!RETRYABLE.has(code)) throw err;
        this.groupStats.retries++;
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * attempt));
      }
    }
  }

  private async ensurePartitions(writes: readonly PgWrite[]): Promise<void> {
    const samples: number[] = [];
    const batches: number[] = [];
    const verdicts: number[] = [];
    for (const w of writes) {
      if (w.kind === 'batch') {
        for (const s of w.sums) samples.push(s.tsMs);
        batches.push(w.nowMs);
      } else if (w.kind === 'verdict') verdicts.push(w.tsMs);
    }
    if (samples.length) await this.partitions.ensure('samples', samples);
    if (batches.length) await this.partitions.ensure('batches', batches);
    if (verdicts.length) await this.partitions.ensure('verdicts', verdicts);
  }

  /**
   * One attempt: the whole group with one statement per table. If a host row stays held by
   * another transaction past the lock timeout, the group runs again without waiting for any row
   * (SKIP LOCKED): the writes of the hosts still held are refused, the others commit. If a
   * statement fails for a reason one write can cause (a value PostgreSQL refuses), the group runs
   * again one write at a time, each in its own savepoint, so only the writes that fail are refused.
   */
  private async commitWrites(writes: readonly PgWrite[], attempt: number): Promise<Applied> {
    let skipLocked = false;
    try {
      return await this.runWrites(writes, attempt, false, false);
    } catch (err) {
      if ((err as { code?: string }).code === LOCK_TIMEOUT) {
        skipLocked = true;
        try {
          return await this.runWrites(writes, attempt, true, false);
        } catch (again) {
          if (!oneWriteMayCause(again) && (again as { code?: string }).code !== LOCK_TIMEOUT) throw again;
        }
      } else if (!oneWriteMayCause(err)) throw err;
    }
    this.groupStats.isolated++;
    return this.runWrites(writes, attempt, skipLocked, true);
  }

  private runWrites(writes: readonly PgWrite[], attempt: number, skipLocked: boolean, oneByOne: boolean): Promise<Applied> {
    const ctx: GroupContext = { rollups: this.rollups, maxClassChanges: this.opts.maxClassChanges, changes: this.changes };
    const hostIds = writes.map((w) => (w.kind === 'hello' ? w.id : w.hostId));
    return this.tx(async (c) => {
      // BEGIN, the lock timeout and the hosts' row locks in one round trip.
      const { states, busy } = await beginAndLock(c, hostIds, this.opts.groupLockTimeoutMs, skipLocked);
      const out: Applied = { outcomes: new Array(writes.length), newKeys: new Map(), enrolled: false };
      const live: number[] = [];
      hostIds.forEach((id, i) => {
        if (busy.has(id)) out.outcomes[i] = { ok: false, error: new Error(`host ${id} is held by another transaction past the lock timeout; resend`) };
        else live.push(i);
      });
      const liveWrites = live.map((i) => writes[i]!);
      // Batch hashes stored by earlier writes of this group.
      const stored = new Set<string>();
      if (!oneByOne) {
        const a = await applyWrites(c, ctx, liveWrites, states, stored);
        a.outcomes.forEach((o, j) => (out.outcomes[live[j]!] = o));
        out.newKeys = a.newKeys;
        out.enrolled = a.enrolled;
      } else {
        for (const i of live) {
          const w = writes[i]!;
          const id = hostIds[i]!;
          const mine = new Map(states.has(id) ? [[id, { ...states.get(id)! }]] : []);
          const key = w.kind === 'batch' ? hashKey(w.hostId, w.hash) : null;
          const known = key !== null && stored.has(key);
          await c.query('SAVEPOINT group_write');
          try {
            const a = await applyWrites(c, ctx, [w], mine, stored);
            await c.query('RELEASE SAVEPOINT group_write');
            if (mine.has(id)) states.set(id, mine.get(id)!);
            for (const [h, k] of a.newKeys) out.newKeys.set(h, k);
            out.enrolled ||= a.enrolled;
            out.outcomes[i] = a.outcomes[0]!;
          } catch (err) {
            if (!oneWriteMayCause(err) && (err as { code?: string }).code !== LOCK_TIMEOUT) throw err;
            await c.query('ROLLBACK TO SAVEPOINT group_write');
            if (key !== null && !known) stored.delete(key);
            out.outcomes[i] = { ok: false, error: err };
          }
        }
      }
      await this.hooks.beforeCommit?.(writes.length, attempt);
      return out;
    }, 'fn begins');
  }

  async revokeAgent(id: string, nowMs: number): Promise<boolean> {
    return ((await this.pool.query('UPDATE hosts SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL', [nowMs, id])).rowCount ?? 0) > 0;
  }

  /** Counted in memory per (reason, subject, window), written in one statement per flush. */
  async recordSecurityEvent(e: SecurityEvent): Promise<void> {
    foldEvent(this.pending, e, this.opts.securityEvents.windowMs);
    this.newestEventMs = Math.max(this.newestEventMs, e.tsMs);
    if (this.pending.size >= this.opts.securityEvents.maxPending) await this.flushSecurityEvents();
    else if (!this.securityTimer) {
      this.securityTimer = setTimeout(() => void this.flushSecurityEvents().catch(() => undefined), this.opts.securityEvents.flushMs);
      this.securityTimer.unref();
    }
  }

  /** Writes the pending rows, then applies the age and row caps (one flush at a time). */
  flushSecurityEvents(): Promise<void> {
    if (this.securityTimer) clearTimeout(this.securityTimer);
    this.securityTimer = null;
    const rows = [...this.pending.values()];
    this.pending.clear();
    const o = this.opts.securityEvents;
    const newest = this.newestEventMs;
    this.securityFlush = this.securityFlush.catch(() => undefined).then(async () => {
      if (rows.length === 0) return;
      await this.tx(async (c) => {
        await c.query(
          `INSERT INTO security_event_windows (reason, subject, window_start_ms, count, first_ms, last_ms, host_id, peer, detail)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::text[])
           ON CONFLICT (reason, subject, window_start_ms) DO UPDATE SET count = security_event_windows.count + excluded.count,
             first_ms = LEAST(security_event_windows.first_ms, excluded.first_ms), last_ms = GREATEST(security_event_windows.last_ms, excluded.last_ms),
             host_id = COALESCE(excluded.host_id, security_event_windows.host_id), peer = excluded.peer, detail = excluded.detail`,
          [
            rows.map((r) => r.reason),
            rows.map((r) => r.subject),
            rows.map((r) => r.window_start_ms),
            rows.map((r) => r.count),
            rows.map((r) => r.first_ms),
            rows.map((r) => r.last_ms),
            rows.map((r) => r.host_id),
            rows.map((r) => r.peer),
            rows.map((r) => r.detail),
          ],
        );
        await c.query('DELETE FROM security_event_windows WHERE last_ms < $1', [newest - o.retentionMs]);
        // Over the cap, anonymous rows (by address) go first, oldest first (as in SQLite).
        await c.query(
          `DELETE FROM security_event_windows WHERE (reason, subject, window_start_ms) IN (
             SELECT reason, subject, window_start_ms FROM security_event_windows ORDER BY host_id IS NOT NULL, last_ms
             LIMIT GREATEST(0, (SELECT COUNT(*) FROM security_event_windows) - $1))`,
          [o.maxRows],
        );
      });
    });
    return this.securityFlush;
  }

  async securityEvents(limit: number): Promise<SecurityEventWindow[]> {
    await this.flushSecurityEvents();
    const r = await this.pool.query<SecurityEventRow>('SELECT * FROM security_event_windows ORDER BY last_ms DESC, reason LIMIT $1', [limit]);
    return r.rows.map(windowFromRow);
  }

  async gaps(hostId: string, fromMs: number, toMs: number): Promise<GapRecord[]> {
    const r = await this.pool.query<{ from_seq: number; to_seq: number; from_ms: number; to_ms: number; cause: string; samples: number }>(
      'SELECT from_seq, to_seq, from_ms, to_ms, cause, samples FROM gaps WHERE host_id = $1 AND to_ms >= $2 AND from_ms <= $3 ORDER BY from_ms',
      [hostId, fromMs, toMs],
    );
    return r.rows.map((g) => ({ fromSeq: g.from_seq, toSeq: g.to_seq, fromMs: g.from_ms, toMs: g.to_ms, cause: g.cause, samples: g.samples }));
  }

  async listHosts(): Promise<HostRecord[]> {
    return (await this.pool.query<HostRow>('SELECT * FROM hosts ORDER BY hostname, id')).rows.map(hostFromRow);
  }

  async getHost(id: string): Promise<HostRecord | null> {
    const r = (await this.pool.query<HostRow>('SELECT * FROM hosts WHERE id = $1', [id])).rows[0];
    return r ? hostFromRow(r) : null;
  }

  async sampleSummaries(hostId: string, fromMs: number, toMs: number, limit: number): Promise<SampleSummary[]> {
    const bucketMs = Math.max(1, Math.ceil((toMs - fromMs + 1) / Math.max(1, limit)));
    const source = chartSource(bucketMs, fromMs, await this.rollups.rawPrunedMs(hostId));
    if (source !== 'raw') return this.rollups.summaries(hostId, source, fromMs, toMs, bucketMs, limit);
    // Equal time buckets over the range, from the packed rows (postgres-figures.ts), as SQLite reads its own.
    const key = await this.rollups.keyIfAny(hostId);
    return key === null ? [] : figures.summaries(this.pool, key, fromMs, toMs, bucketMs, limit);
  }

  async rollupRows(hostId: string, resolution: '1m' | '1h', fromMs: number, toMs: number, limit: number): Promise<RollupRow[]> {
    return this.rollups.rows(hostId, rollupResolution(resolution), fromMs, toMs, limit);
  }

  async retentionState(hostId: string): Promise<RetentionState> {
    return { rawPrunedMs: await this.rollups.rawPrunedMs(hostId) };
  }

  /** One bounded step (retention.ts's rules); at a round's start, whole days past the windows are dropped as partitions. */
  async retentionStep(opts: RetentionOptions, nowMs: number): Promise<RetentionStepResult> {
    return this.retention.step(opts, nowMs);
  }

  /** Decoded from the batches' signed payloads (the sample rows hold only chart figures). */
  async samples(hostId: string, fromMs: number, toMs: number, limit: number): Promise<Array<{ seq: number; sample: ISample }>> {
    const key = await this.rollups.keyIfAny(hostId);
    const seqs = key === null ? [] : (await figures.inRange(this.pool, key, fromMs, toMs)).slice(0, limit).map((r) => r.seq);
    if (seqs.length === 0) return [];
    const wanted = new Set(seqs);
    const bySeq = new Map<number, ISample>();
    // Without their payloads first: only the batches holding a wanted seq and those just before
    // them are read (chain-read.ts batchesToRead); a batch with samples is one per last_seq.
    const overlapping = await this.pool.query<{ first_seq: number; last_seq: number }>(
      'SELECT first_seq, last_seq FROM batches WHERE host_id = $1 AND last_seq >= $2 AND first_seq <= $3 AND samples > 0 ORDER BY last_seq',
      [hostId, Math.min(...seqs), Math.max(...seqs)],
    );
    const read = batchesToRead(overlapping.rows, [...wanted].sort((a, b) => a - b));
    const batches = await this.pool.query<{ hash: Buffer; header: Buffer; encoding: number; payload: Buffer }>(
      'SELECT hash, header, encoding, payload FROM batches WHERE host_id = $1 AND last_seq = ANY($2::bigint[]) AND samples > 0 ORDER BY last_seq',
      [hostId, overlapping.rows.filter((_, i) => read[i]).map((r) => r.last_seq)],
    );
    // In chain order: each batch hands its last sample to the next (a chained batch's prior); only
    // the first chained one walks back, by hash. A batch whose prior is gone (a dropped day
    // partition, postgres-retention.ts) is left out (counted).
    const chain = new ChainReader(this.chainReads);
    for (const b of batches.rows) {
      const { seqs: batchSeqs, samples: decoded } = await chain.read(b, (hash) => this.chainBatch(hostId, hash));
      if (!decoded) continue;
      batchSeqs.forEach((seq, i) => {
        if (wanted.has(seq) && decoded[i]) bySeq.set(seq, decoded[i]!);
      });
    }
    // References resolved as at ingest (the stored signature with that digest).
    const blobs = await this.signatureBlobs([...referencedDigests(bySeq.values()).values()]);
    resolveReferences(bySeq.values(), (hex) => (blobs.has(hex) ? assay.v1.ProcessSignature.decode(blobs.get(hex)!) : undefined));
    // In the rows' order (time, then seq); a sample whose batch is gone is left out.
    return seqs.flatMap((seq) => (bySeq.has(seq) ? [{ seq, sample: bySeq.get(seq)! }] : []));
  }

  /** A stored batch of the host by hash, as a chain walk reads it (chain.ts). */
  private async chainBatch(hostId: string, hash: Uint8Array): Promise<ChainBatch | null> {
    const r = (await this.pool.query<ChainBatch>('SELECT header, encoding, payload FROM batches WHERE host_id = $1 AND hash = $2 LIMIT 1', [hostId, bytea(hash, 'hash')])).rows[0];
    return r ?? null;
  }

  /** By signature_blobs' primary key (migration 15): one row per digest asked for, the canonical bytes. */
  async signatureBlobs(digests: readonly Uint8Array[]): Promise<Map<string, Uint8Array>> {
    const wanted = [...new Map(digests.filter((d) => d.length === REFERENCE_BYTES).map((d) => [digestHex(d), Buffer.from(d)])).values()];
    if (wanted.length === 0) return new Map();
    const r = await this.pool.query<{ digest: Buffer; signature: Buffer }>('SELECT digest, signature FROM signature_blobs WHERE digest = ANY($1::bytea[])', [wanted]);
    return new Map(r.rows.map((x) => [x.digest.toString('hex'), decodeSignatureBlob(x.signature)]));
  }

  async signatures(hostId: string): Promise<Map<string, IProcessSignature>> {
    const r = await this.pool.query<{ pid: number; start_time_ticks: number; signature: Buffer }>(
      `SELECT p.pid, p.start_time_ticks, b.signature FROM rollup_hosts k JOIN process_signatures p ON p.host_key = k.host_key
       JOIN signature_blobs b ON b.id = p.signature_id WHERE k.host_id = $1`,
      [hostId],
    );
    return new Map(r.rows.map((x) => [processKey(pidOfColumn(x.pid), x.start_time_ticks), assay.v1.ProcessSignature.decode(decodeSignatureBlob(x.signature))]));
  }

  /** Only the processes asked for: one indexed lookup of (host, pid, start) pairs. */
  async signaturesOf(hostId: string, keys: readonly string[]): Promise<Map<string, IProcessSignature>> {
    // A pid outside uint32 names no process (none is stored: pids are uint32 on the wire).
    const pairs = [...new Set(keys)].map((k) => k.split(':').map(Number)).filter(([pid, ticks]) => Number.isSafeInteger(pid) && Number.isSafeInteger(ticks) && pid! >= 0 && pid! < 2 ** 32);
    if (pairs.length === 0) return new Map();
    const r = await this.pool.query<{ pid: number; start_time_ticks: number; signature: Buffer }>(
      `SELECT p.pid, p.start_time_ticks, b.signature FROM rollup_hosts h JOIN process_signatures p ON p.host_key = h.host_key
       JOIN unnest($2::int[], $3::bigint[]) AS k(pid, ticks) ON p.pid = k.pid AND p.start_time_ticks = k.ticks
       JOIN signature_blobs b ON b.id = p.signature_id
       WHERE h.host_id = $1`,
      [hostId, pairs.map((x) => pidColumn(x[0]!)), pairs.map((x) => x[1])],
    );
    return new Map(r.rows.map((x) => [processKey(pidOfColumn(x.pid), x.start_time_ticks), assay.v1.ProcessSignature.decode(decodeSignatureBlob(x.signature))]));
  }

  /** Queued for the next group commit (the class change, if any, decided under the host's row lock). */
  async putVerdict(hostId: string, tsMs: number, verdict: Verdict): Promise<void> {
    const w = prepareVerdict(hostId, tsMs, verdict, verdictIsNonAi(verdict));
    // Urgent: a verdict goes ahead of the batches waiting in its queue (as in SQLite), so a flood
    // of batches does not hold the fleet's verdicts back.
    await this.queueOf(hostId).submit(() => w, 1, true);
  }

  async queryHosts(q: HostQuery): Promise<{ total: number; hosts: HostRecord[] }> {
    const classes = q.classes ? q.classes.filter((c) => c !== 'pending') : null;
    const params = [classes, q.classes?.includes('pending') ?? false, q.state ?? null, q.onlineSinceMs, q.search ? `%${likeEscape(q.search)}%` : null];
    const where = `WHERE ($1::text[] IS NULL OR verdict_class = ANY($1::text[]) OR ($2 AND verdict_class IS NULL))
      AND ($3::text IS NULL OR ($3::text = 'online') = (last_seen_ms >= $4))
      AND ($5::text IS NULL OR hostname ILIKE $5 ESCAPE '\\' OR id ILIKE $5 ESCAPE '\\')`;
    const dir = q.desc ? 'DESC' : 'ASC';
    const order: Record<HostSort, string> = {
      hostname: `hostname ${dir}, id ${dir}`,
      class: `verdict_class IS NULL ${dir}, verdict_class ${dir}, hostname, id`,
      lastSeen: `last_seen_ms ${dir}, hostname, id`,
      confidence: `verdict_confidence IS NULL ${dir}, verdict_confidence ${dir}, hostname, id`,
      state: `last_seen_ms >= $4 ${q.desc ? 'ASC' : 'DESC'}, hostname, id`,
    };
    const [count, page] = await Promise.all([
      this.pool.query<{ n: number }>(`SELECT COUNT(*) AS n FROM hosts ${where}`, params),
      this.pool.query<HostRow>(`SELECT * FROM hosts ${where} ORDER BY ${order[q.sort]} LIMIT $6 OFFSET $7`, [...params, q.limit, q.offset]),
    ]);
    return { total: count.rows[0]!.n, hosts: page.rows.map(hostFromRow) };
  }

  async nonAiHosts(): Promise<Set<string>> {
    return new Set((await this.pool.query<{ id: string }>('SELECT id FROM hosts WHERE verdict_non_ai = 1')).rows.map((r) => r.id));
  }

  async hostCounts(onlineSinceMs: number): Promise<HostCount[]> {
    const r = await this.pool.query<{ verdict_class: string | null; online: boolean; n: number; non_ai: number | null }>(
      'SELECT verdict_class, last_seen_ms >= $1 AS online, COUNT(*) AS n, SUM(verdict_non_ai) AS non_ai FROM hosts GROUP BY 1, 2',
      [onlineSinceMs],
    );
    return r.rows.map((x) => ({ class: x.verdict_class, online: x.online, hosts: x.n, nonAi: x.non_ai ?? 0 }));
  }

  async classChanges(q: ClassChangeQuery): Promise<{ total: number; changes: ClassChange[] }> {
    const params = [q.classes ?? null, q.search ? `%${likeEscape(q.search)}%` : null];
    const where = `WHERE ($1::text[] IS NULL OR c.to_class = ANY($1::text[]) OR c.from_class = ANY($1::text[]))
      AND ($2::text IS NULL OR h.hostname ILIKE $2 ESCAPE '\\' OR c.host_id ILIKE $2 ESCAPE '\\')`;
    const order = q.order === 'nonAiFirst' ? '(c.non_ai = 1 OR c.from_non_ai = 1) DESC, c.ts_ms DESC, c.id DESC' : 'c.ts_ms DESC, c.id DESC';
    const [count, page] = await Promise.all([
      this.pool.query<{ n: number }>(`SELECT COUNT(*) AS n FROM class_changes c JOIN hosts h ON h.id = c.host_id ${where}`, params),
      this.pool.query<{ id: number; host_id: string; hostname: string; ts_ms: number; from_class: string | null; to_class: string; confidence: number; non_ai: number; from_non_ai: number }>(
        `SELECT c.*, h.hostname FROM class_changes c JOIN hosts h ON h.id = c.host_id ${where} ORDER BY ${order} LIMIT $3 OFFSET $4`,
        [...params, q.limit, q.offset],
      ),
    ]);
    return {
      total: count.rows[0]!.n,
      changes: page.rows.map((r) => ({ id: r.id, hostId: r.host_id, hostname: r.hostname, tsMs: r.ts_ms, fromClass: r.from_class, toClass: r.to_class, confidence: r.confidence, nonAi: r.non_ai === 1, fromNonAi: r.from_non_ai === 1 })),
    };
  }

  async verdicts(hostId: string, fromMs: number, toMs: number, limit: number): Promise<StoredVerdict[]> {
    const r = await this.pool.query<VerdictRow>('SELECT ts_ms, verdict, verdict_deflated FROM verdicts WHERE host_id = $1 AND ts_ms >= $2 AND ts_ms <= $3 ORDER BY ts_ms LIMIT $4', [
      hostId,
      fromMs,
      Math.min(toMs, Number.MAX_SAFE_INTEGER),
      limit,
    ]);
    return r.rows.map(verdictOfRow);
  }

  async verdictClasses(hostId: string, fromMs: number, toMs: number, limit: number): Promise<VerdictClass[]> {
    const r = await this.pool.query<{ ts_ms: number; class: string; confidence: number }>(
      'SELECT ts_ms, class, confidence FROM verdicts WHERE host_id = $1 AND ts_ms >= $2 AND ts_ms <= $3 ORDER BY ts_ms DESC LIMIT $4',
      [hostId, fromMs, Math.min(toMs, Number.MAX_SAFE_INTEGER), limit],
    );
    return r.rows.reverse().map((x) => ({ tsMs: x.ts_ms, class: x.class, confidence: x.confidence }));
  }

  async verdictBefore(hostId: string, tsMs: number): Promise<StoredVerdict | null> {
    const r = (await this.pool.query<VerdictRow>('SELECT ts_ms, verdict, verdict_deflated FROM verdicts WHERE host_id = $1 AND ts_ms < $2 ORDER BY ts_ms DESC LIMIT 1', [hostId, tsMs])).rows[0];
    return r ? verdictOfRow(r) : null;
  }

  async seqRange(hostId: string, fromMs: number, toMs: number): Promise<{ minSeq: number; maxSeq: number } | null> {
    const key = await this.rollups.keyIfAny(hostId);
    return key === null ? null : figures.seqRange(this.pool, key, fromMs, toMs);
  }

  async batchContaining(hostId: string, seq: number): Promise<StoredBatch | null> {
    const r = (await this.pool.query<BatchRow>(`SELECT ${BATCH_COLUMNS} FROM batches WHERE host_id = $1 AND last_seq >= $2 AND first_seq <= $2 AND samples > 0 ORDER BY last_seq LIMIT 1`, [hostId, seq])).rows[0];
    return r ? batchFromRow(r) : null;
  }

  async batchByHash(hostId: string, hash: Uint8Array): Promise<StoredBatch | null> {
    const r = (await this.pool.query<BatchRow>(`SELECT ${BATCH_COLUMNS} FROM batches WHERE host_id = $1 AND hash = $2 LIMIT 1`, [hostId, bytea(hash, 'hash')])).rows[0];
    return r ? batchFromRow(r) : null;
  }


  async acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease> {
    // The database's clock, so collectors whose clocks differ still agree on expiry.
    const r = await this.pool.query<{ holder: string; expires_ms: number; held: boolean }>(
      `WITH now AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms),
       won AS (
         INSERT INTO leases (name, holder, expires_ms) SELECT $1, $2, ms + $3 FROM now
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms
         WHERE leases.holder = excluded.holder OR leases.expires_ms <= (SELECT ms FROM now)
         RETURNING holder, expires_ms)
       SELECT holder, expires_ms, true AS held FROM won
       UNION ALL SELECT holder, expires_ms, false FROM leases WHERE name = $1 AND NOT EXISTS (SELECT 1 FROM won)`,
      [name, holder, ttlMs],
    );
    const row = r.rows[0]!;
    return { held: row.held, holder: row.holder, expiresMs: row.expires_ms };
  }

  async releaseLeases(holder: string): Promise<void> {
    await this.pool.query('DELETE FROM leases WHERE holder = $1', [holder]);
  }

  /** Agents that ever enrolled (for --max-enrollments): as of this store's last enrollment or maintenance. */
  countEnrolled(): number {
    return this.enrolled;
  }

  private async refreshEnrolled(): Promise<void> {
    this.enrolled = (await this.pool.query<{ n: number }>('SELECT COUNT(*) AS n FROM hosts WHERE enrolled_ms IS NOT NULL')).rows[0]!.n;
  }

  /** Days of `table` that have a partition (oldest first). */
  partitionDays(table: PartitionedTable): number[] {
    return this.partitions.days(table);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.maintainTimer) clearInterval(this.maintainTimer);
    await this.commits.drain();
    await this.flushSecurityEvents().catch(() => undefined);
    await this.pool.end();
  }
}

export { DAY_MS };
