// Group commit for the PostgreSQL store (the contract is in commit-queue.ts). Hellos, batches
// and verdicts of many agents commit in one transaction, written with one multi-row statement per
// table for the whole group, so a group costs about ten round trips whatever its size:
//   BEGIN; lock every host of the group (one SELECT … ORDER BY id FOR UPDATE: the same order in
//   every collector, so two collectors' groups never deadlock on each other); the hellos' upsert;
//   which of the group's batch hashes are already stored (one probe); then, decided in memory in
//   arrival order against the locked rows (sequence, duplicate, replay, hash-chain and revocation
//   checks, each batch seeing the ones before it in the group), one INSERT per table: samples,
//   roll-ups, process signatures (each distinct content once, in signature_blobs, by digest),
//   gaps, verdicts and class changes, batches with the hosts' new heads; COMMIT. Outcomes are
//   returned only after COMMIT, so nothing is acked that is not durable.
// Isolation: a write refused by its checks writes nothing (it is left out of the statements). A
// write that makes a statement fail (a value PostgreSQL refuses) fails the whole fast path: the
// group is rolled back and run again one write at a time, each in its own savepoint, so only that
// write is refused. A deadlock or serialization failure (another writer on the same database)
// rolls the group back and runs it again, a bounded number of times; then every write of the
// group is refused with the error (none of it is durable).
import { storedPrevHash } from './prev-hash.js';
import type pg from 'pg';
import { assay, type IHello, type IProcessSignature, type ISample } from '../../proto/codec.js';
import { processKey, type Verdict } from '../engine/types.js';
import type { Outcome } from './commit-queue.js';
import { hostFromRow, type HostRow } from './host-row.js';
import type { PgRollups } from './postgres-rollups.js';
import { DAY_MS } from './postgres-partitions.js';
import { figureRows, insertFigures, storedOf } from './postgres-figures.js';
import { createHash } from 'node:crypto';
import { needsResolving, referencedDigests, resolveBatch, REFERENCE_BYTES } from '../signature-refs.js';
import { decodeSignatureBlob, encodeSignatureBlob } from './signature-blob.js';
import { encodeVerdict } from './verdict-codec.js';
import { keepSignatureBytes, signatureBytes, summarize, type AppendResult, type HostRecord, type IncomingBatch, type SampleSummary } from './store.js';

/** A hello, ready to write: the host's columns. */
export interface HelloWrite {
  kind: 'hello';
  id: string;
  hostname: string;
  agentVersion: string;
  inventory: Buffer | null;
  publicKey: Buffer | null;
  nowMs: number;
  hello: IHello;
}

/** A batch, converted and checked for what PostgreSQL would refuse before it joins a group. */
export interface BatchWrite {
  kind: 'batch';
  hostId: string;
  nowMs: number;
  hash: Buffer;
  prevHash: Buffer;
  header: Buffer;
  signature: Buffer;
  encoding: number;
  payload: Buffer;
  seqs: number[];
  sums: SampleSummary[];
  /** Each process signature once per batch (the first seen): pid, start ticks, signature, and for one sent in full its canonical bytes and SHA-256 (null for a reference). */
  sigs: Array<[number, number, IProcessSignature, Uint8Array | null, Buffer | null]>;
  /**
   * Digests (hex) the batch's signatures name (ProcessSignature.same_as, env_names_as, libs_as),
   * looked up among the stored signatures in the group's transaction; with the samples, to
   * resolve them in order (collector/signature-refs.ts resolveBatch). Empty: nothing to resolve.
   */
  named: Map<string, Uint8Array>;
  samples: ISample[];
  gaps: IncomingBatch['gaps'];
}

export interface VerdictWrite {
  kind: 'verdict';
  hostId: string;
  tsMs: number;
  class: string;
  confidence: number;
  nonAi: number;
  /** The verdict's JSON deflated with the frozen dictionary (verdict-codec.ts form 1). */
  deflated: Buffer;
}

export type PgWrite = HelloWrite | BatchWrite | VerdictWrite;

/**
 * How stale a content's last_used_ms may be before a use raises it. A popular content (sshd, a
 * job started on every host) is used by many groups of many collectors at once: raising it on each
 * use would lock its row in each of their transactions, one after the other. Raised at most once
 * per this, it is locked about once an hour; retention keeps a content this much longer in turn
 * (postgres-retention.ts), so every guarantee of last_used_ms holds as if it were exact.
 */
export const SIGNATURE_USE_SLACK_MS = 3_600_000;

/**
 * The contents sent in full in these batches that signature_blobs lacks, inserted before their
 * group's transaction, each in a statement of its own that commits at once (ON CONFLICT DO
 * NOTHING: another collector's copy wins): a new content shared by several hosts (a job started on
 * all of them) would otherwise hold every group that needs it until the first one commits. A
 * batch refused after this leaves a content no row uses, collected by retention.
 */
export async function insertNewContents(c: Pick<pg.Pool, 'query'>, writes: readonly PgWrite[]): Promise<void> {
  const wanted = new Map<string, { digest: Buffer; bytes: Uint8Array; ms: number }>();
  for (const w of writes) {
    if (w.kind !== 'batch') continue;
    for (const [, , , bytes, digest] of w.sigs) if (bytes && digest) wanted.set(digest.toString('hex'), { digest, bytes, ms: w.nowMs });
  }
  if (!wanted.size) return;
  const known = await c.query<{ digest: Buffer }>('SELECT digest FROM signature_blobs WHERE digest = ANY($1::bytea[])', [[...wanted.values()].map((x) => x.digest)]);
  for (const r of known.rows) wanted.delete(r.digest.toString('hex'));
  if (!wanted.size) return;
  const add = [...wanted.values()].sort((a, b) => Buffer.compare(a.digest, b.digest));
  await c.query(
    'INSERT INTO signature_blobs (digest, last_used_ms, signature) SELECT * FROM unnest($1::bytea[], $2::bigint[], $3::bytea[]) ON CONFLICT DO NOTHING',
    [add.map((x) => x.digest), add.map((x) => x.ms), add.map((x) => encodeSignatureBlob(x.bytes))],
  );
}



const bytea = (b: Uint8Array, what: string): Buffer => {
  if (!(b instanceof Uint8Array)) throw new TypeError(`${what} is not bytes`);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
};

const BIGINT_SUMMARY = ['seq', 'tsMs', 'memUsedBytes', 'memTotalBytes', 'gpuMemUsedBytes'] as const;
const FLOAT_SUMMARY = ['cpuPct', 'load1', 'gpuUtilPct', 'powerWatts', 'diskReadBytesPerSec', 'diskWriteBytesPerSec', 'netRxBytesPerSec', 'netTxBytesPerSec'] as const;

/**
 * A batch as the group writes it. Throws (the caller refuses the batch, nothing written) for
 * what a statement would refuse: non-bytes, figures that are not finite numbers, integers beyond
 * 2^53, so one bad batch does not cost its group the fast path.
 */
export function prepareBatch(hostId: string, batch: IncomingBatch, nowMs: number): BatchWrite {
  const sums = batch.samples.map((s) => {
    const x = summarize(s.seq, s.sample);
    for (const k of BIGINT_SUMMARY) {
      const v = x[k];
      if (v === null && (k === 'gpuMemUsedBytes')) continue;
      if (typeof v !== 'number' || !Number.isFinite(v) || !Number.isSafeInteger(Math.trunc(v))) throw new TypeError(`sample ${s.seq}: ${k} is not a number`);
      (x as unknown as Record<string, number>)[k] = Math.trunc(v);
    }
    for (const k of FLOAT_SUMMARY) {
      const v = x[k];
      if (v === null && (k === 'gpuUtilPct' || k === 'powerWatts')) continue;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`sample ${s.seq}: ${k} is not a number`);
    }
    return x;
  });
  const sigs = new Map<string, [number, number, IProcessSignature, Uint8Array | null, Buffer | null]>();
  const named = referencedDigests(batch.samples.map((s) => s.sample));
  for (const { sample } of batch.samples) {
    for (const p of sample.processes ?? []) {
      if (!p.signature) continue;
      const pid = Number(p.pid ?? 0);
      const ticks = Number(p.startTimeTicks ?? 0);
      if (!Number.isSafeInteger(pid) || !Number.isSafeInteger(ticks)) throw new TypeError(`process ${String(p.pid)}: pid or start time is not an integer`);
      const key = processKey(pid, ticks);
      if (sigs.has(key)) continue;
      // Hashed here, before the batch joins a group (outside any transaction).
      const bytes = needsResolving(p.signature) ? null : signatureBytes(p.signature);
      sigs.set(key, [pid, ticks, p.signature, bytes, bytes && createHash('sha256').update(bytes).digest()]);
    }
  }
  for (const g of batch.gaps) {
    for (const v of [g.fromSeq, g.toSeq, g.fromMs, g.toMs, g.samples]) if (!Number.isSafeInteger(v)) throw new TypeError('gap bounds are not integers');
  }
  const seqs = batch.samples.map((s) => s.seq);
  if (!seqs.every((q) => Number.isSafeInteger(q))) throw new TypeError('sequence numbers are not integers');
  return {
    kind: 'batch',
    hostId,
    nowMs,
    hash: bytea(batch.hash, 'batch hash'),
    prevHash: bytea(batch.prevHash, 'prev_hash'),
    header: bytea(batch.header, 'header'),
    signature: bytea(batch.signature, 'signature'),
    encoding: batch.encoding,
    payload: bytea(batch.payload, 'payload'),
    seqs,
    sums,
    sigs: [...sigs.values()],
    named,
    samples: named.size ? batch.samples.map((s) => s.sample) : [],
    gaps: batch.gaps,
  };
}

export function prepareHello(hello: IHello, nowMs: number): HelloWrite {
  return {
    kind: 'hello',
    id: hello.agentId ?? '',
    hostname: hello.hostname ?? '',
    agentVersion: hello.agentVersion ?? '',
    inventory: hello.inventory ? Buffer.from(assay.v1.Inventory.encode(hello.inventory).finish()) : null,
    publicKey: hello.publicKey?.length ? Buffer.from(hello.publicKey) : null,
    nowMs,
    hello,
  };
}

export function prepareVerdict(hostId: string, tsMs: number, verdict: Verdict, nonAi: boolean): VerdictWrite {
  if (!Number.isSafeInteger(tsMs)) throw new TypeError('verdict time is not an integer');
  if (!Number.isFinite(verdict.confidence)) throw new TypeError('verdict confidence is not a number');
  // Deflated here, before the verdict joins a group (outside any transaction).
  return { kind: 'verdict', hostId, tsMs, class: verdict.class, confidence: verdict.confidence, nonAi: nonAi ? 1 : 0, deflated: encodeVerdict(verdict) };
}

/** What the group knows of a host, as of the write being decided (the locked row, then the group's own writes). */
interface HostState {
  /** The row as locked (or as the hello's upsert returned it). */
  row: HostRow;
  /** False until the row exists at this point of the group (a batch before the host's first hello is refused). */
  exists: boolean;
  lastSeq: number;
  head: Buffer;
  lastSeenMs: number;
  verdictClass: string | null;
  verdictConfidence: number | null;
  verdictNonAi: number;
  /** Columns to write back at the end of the group. */
  dirty: boolean;
}

const stateOf = (row: HostRow, exists: boolean): HostState => ({
  row,
  exists,
  lastSeq: row.last_seq,
  head: row.chain_head ?? Buffer.alloc(0),
  lastSeenMs: row.last_seen_ms,
  verdictClass: row.verdict_class,
  verdictConfidence: row.verdict_confidence,
  verdictNonAi: row.verdict_non_ai,
  dirty: false,
});

/**
 * A pid as process_signatures keeps it (migration 17): an INTEGER, 4 bytes where a BIGINT took 8
 * (and 4 more of alignment). Pids are uint32 on the wire (Linux's never exceed 2^22); those from
 * 2^31 up are kept as their two's-complement negative, so every uint32 round-trips.
 */
export const pidColumn = (pid: number): number => (pid >= 2 ** 31 ? pid - 2 ** 32 : pid);
/** The pid a process_signatures row holds (pidColumn's inverse). */
export const pidOfColumn = (v: number): number => (v < 0 ? v + 2 ** 32 : v);

export const hashKey = (hostId: string, hash: Buffer): string => `${hostId}\u0000${hash.toString('hex')}`;

/** PostgreSQL errors after which running the group again may succeed: deadlock, serialization failure. */
export const RETRYABLE = new Set(['40P01', '40001']);

export interface GroupContext {
  rollups: PgRollups;
  /** Most class changes kept; pruned every maxClassChanges/100 changes. */
  maxClassChanges: number;
  /** Count of class changes since the last prune (the store's, carried across groups). */
  changes: { sincePrune: number };
}

/** What one run of the writes produced (applied to the store's caches only after COMMIT). */
export interface Applied {
  outcomes: Outcome<unknown>[];
  /** Roll-up host keys learned in this transaction. */
  newKeys: Map<string, number>;
  enrolled: boolean;
}

type Q = Pick<pg.PoolClient, 'query' | 'escapeLiteral'>;

/**
 * Opens the group's transaction and locks its hosts, in one round trip (a simple query: the ids
 * as quoted literals), by id: the same order in every collector. With `skipLocked`, waits for no
 * row: `busy` names the hosts that exist but are held by another transaction (their writes are
 * refused by the caller). `lockTimeoutMs` bounds every lock wait of the transaction.
 */
export async function beginAndLock(c: Q, ids: Iterable<string>, lockTimeoutMs: number, skipLocked = false): Promise<{ states: Map<string, HostState>; busy: Set<string> }> {
  const wanted = [...new Set(ids)].sort();
  const list = wanted.map((id) => c.escapeLiteral(id)).join(', ');
  const results = (await c.query(
    `BEGIN; SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))};
     SELECT * FROM hosts WHERE id = ANY(ARRAY[${list}]::text[]) ORDER BY id FOR UPDATE${skipLocked ? ' SKIP LOCKED' : ''}`,
  )) as unknown as Array<pg.QueryResult<HostRow>>;
  const rows = results.at(-1)!.rows;
  const states = new Map(rows.map((row) => [row.id, stateOf(row, true)]));
  const busy = new Set<string>();
  if (skipLocked && states.size < wanted.length) {
    const existing = await c.query<{ id: string }>('SELECT id FROM hosts WHERE id = ANY($1::text[])', [wanted.filter((id) => !states.has(id))]);
    for (const { id } of existing.rows) busy.add(id);
  }
  return { states, busy };
}

/** Parameters of one statement: `param(v)` adds one and returns its placeholder. */
function paramList(): { params: unknown[]; param: (v: unknown) => string } {
  const params: unknown[] = [];
  return { params, param: (v) => `$${params.push(v)}` };
}

/**
 * Runs `writes` inside the caller's open transaction, hosts locked: decides each against `states`
 * (mutated as the writes are accepted) and `accepted` (batch hashes stored by earlier writes of
 * the group; the accepted ones are added), then writes the accepted ones. Round trips: the
 * hellos' upsert (if any); one statement inserting the samples and probing which processes'
 * signatures are stored and which refused batches were stored before; the roll-up keys of hosts
 * new to this collector (if any); one statement with every other table's insert and the hosts'
 * update. A statement error propagates (the caller rolls back or returns to its savepoint, and
 * must then discard `states` and `accepted`).
 */
export async function applyWrites(c: Q, ctx: GroupContext, writes: readonly PgWrite[], states: Map<string, HostState>, accepted: Set<string>): Promise<Applied> {
  const outcomes: Outcome<unknown>[] = new Array(writes.length);
  let enrolled = false;

  // Hellos first, one upsert (by id, the last hello of a host winning): the rows exist before any
  // statement that refers to them. A host another collector created meanwhile comes back locked.
  const hellos = new Map<string, HelloWrite>();
  for (const w of writes) if (w.kind === 'hello') hellos.set(w.id, w);
  const upserted = new Map<string, HostRow & { inserted: boolean }>();
  if (hellos.size) {
    const hs = [...hellos.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const r = await c.query<HostRow & { inserted: boolean }>(
      `INSERT INTO hosts (id, hostname, agent_version, inventory, first_seen_ms, last_seen_ms, public_key, enrolled_ms)
       SELECT u.id, u.hostname, u.agent_version, u.inventory, u.now, u.now, u.public_key, u.now
       FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::bigint[], $6::bytea[]) WITH ORDINALITY AS u(id, hostname, agent_version, inventory, now, public_key, ord)
       ORDER BY u.ord
       ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname, agent_version = excluded.agent_version,
         inventory = excluded.inventory, last_seen_ms = excluded.last_seen_ms
       RETURNING *, (xmax = 0) AS inserted`,
      [hs.map((h) => h.id), hs.map((h) => h.hostname), hs.map((h) => h.agentVersion), hs.map((h) => h.inventory), hs.map((h) => h.nowMs), hs.map((h) => h.publicKey)],
    );
    for (const row of r.rows) {
      upserted.set(row.id, row);
      if (row.inserted) enrolled = true;
    }
  }

  // Decide every write in arrival order, gathering the rows to insert.
  const sigRows = new Map<string, [string, number, number, IProcessSignature, number, Buffer | null]>();
  const gapRows: Array<[string, BatchWrite['gaps'][number], Buffer]> = [];
  const batchRows: BatchWrite[] = [];
  const batchAt = new Map<number, { w: BatchWrite; lastSeq: number; prevLast: number }>();
  const verdictRows = new Map<string, VerdictWrite>();
  const changeRows: Array<[string, number, string | null, string, number, number, number]> = [];
  /** Refused batches that do not extend the head: 'replayed' if stored before, else 'chain_break' (either way nothing changes). */
  const unlinked: Array<{ i: number; w: BatchWrite; none: Omit<AppendResult, 'status'> }> = [];
  for (const [i, w] of writes.entries()) {
    if (w.kind === 'hello') {
      const row = upserted.get(w.id)!;
      let st = states.get(w.id);
      if (!st || !st.exists) {
        // New here (or created by another collector since the lock): as the upsert left it.
        st = stateOf(row, true);
        states.set(w.id, st);
      }
      st.lastSeenMs = w.nowMs;
      st.dirty = true;
      const rec = hostFromRow(row);
      outcomes[i] = {
        ok: true,
        value: {
          ...rec,
          hostname: w.hostname,
          agentVersion: w.agentVersion,
          inventory: w.hello.inventory ? assay.v1.Inventory.decode(w.inventory!) : null,
          lastSeenMs: w.nowMs,
          lastSeq: st.lastSeq,
          chainHead: st.head.length ? st.head : null,
          verdictClass: st.verdictClass,
          verdictConfidence: st.verdictConfidence,
          verdictNonAi: st.verdictNonAi === 1,
        } satisfies HostRecord,
      };
      continue;
    }
    const st = states.get(w.hostId);
    if (!st || !st.exists) {
      outcomes[i] = { ok: false, error: new Error(`unknown host ${w.hostId}`) };
      continue;
    }
    if (w.kind === 'verdict') {
      verdictRows.set(`${w.hostId}\u0000${w.tsMs}`, w);
      if (st.verdictClass !== w.class) changeRows.push([w.hostId, w.tsMs, st.verdictClass, w.class, w.confidence, w.nonAi, st.verdictNonAi]);
      st.verdictClass = w.class;
      st.verdictConfidence = w.confidence;
      st.verdictNonAi = w.nonAi;
      st.dirty = true;
      outcomes[i] = { ok: true, value: undefined };
      continue;
    }
    const none = { accepted: 0, duplicates: 0, lastSeq: st.lastSeq, storedSeqs: [] as number[] };
    const refuse = (r: AppendResult): void => void (outcomes[i] = { ok: true, value: r });
    // Under the row lock a revocation also takes: no batch lands after `assay agents revoke` committed.
    if (st.row.revoked_ms !== null) refuse({ ...none, status: 'revoked' });
    else if (st.head.length && st.head.equals(w.hash)) refuse({ ...none, status: 'duplicate', duplicates: w.seqs.length });
    else if (accepted.has(hashKey(w.hostId, w.hash))) refuse({ ...none, status: 'replayed' });
    // The first batch a collector sees from an agent may continue a chain begun elsewhere. A batch
    // that extends the head (or an empty chain) cannot have been stored before (the head would be
    // it or after it), so only the ones that do not are looked up among the stored batches.
    else if (st.head.length && !st.head.equals(w.prevHash)) unlinked.push({ i, w, none });
    else if (w.seqs.length && w.seqs[0]! <= st.lastSeq) refuse({ ...none, status: 'seq_regression' });
    else {
      for (const [pid, ticks, sig, , digest] of w.sigs) {
        const k = `${w.hostId}\u0000${pid}:${ticks}`;
        if (!sigRows.has(k)) sigRows.set(k, [w.hostId, pid, ticks, sig, w.nowMs, digest]);
      }
      for (const g of w.gaps) gapRows.push([w.hostId, g, w.hash]);
      batchRows.push(w);
      accepted.add(hashKey(w.hostId, w.hash));
      st.head = w.hash;
      const prevLast = st.lastSeq;
      st.lastSeq = Math.max(st.lastSeq, 0, ...w.seqs);
      st.lastSeenMs = w.nowMs;
      st.dirty = true;
      batchAt.set(i, { w, lastSeq: st.lastSeq, prevLast });
    }
  }

  // One statement: which of the new processes' signatures are stored already, which unlinked
  // batches were stored before, the contents the batches use.
  // The hosts' integer keys (sample rows, process rows and roll-ups are keyed by them): cached, or
  // learned in this transaction for a host's first batch here (remembered after COMMIT).
  const { keyOf, learned: newKeys } = batchRows.length ? await ctx.rollups.keysFor(c, batchRows.map((w) => w.hostId)) : { keyOf: new Map<string, number>(), learned: new Map<string, number>() };

  // The samples each accepted batch stores, idempotent by (host, seq) as in SQLite: a seq above the
  // host's last before its batch is new (the last seq only goes up, and counts this group's
  // batches); one the batch repeats, or one at or below that last (ingest never sends those: the
  // first seq is checked and seqs ascend), is stored only if no row holds it yet (one read).
  const maybe: Array<[number, number]> = [];
  for (const { w, prevLast } of batchAt.values()) for (const q of w.seqs) if (q <= prevLast) maybe.push([keyOf.get(w.hostId)!, q]);
  const storedBefore = await storedOf(c, maybe);
  const storedBy = new Map<number, Set<number>>();
  const newFigures: ReturnType<typeof figureRows> = [];
  const inGroup = new Set<string>();
  for (const [i, { w, prevLast }] of batchAt) {
    const key = keyOf.get(w.hostId)!;
    const got = new Set<number>();
    const sums: SampleSummary[] = [];
    w.seqs.forEach((q, j) => {
      const id = `${key}:${q}`;
      if (got.has(q) || inGroup.has(id) || (q <= prevLast && storedBefore.has(id))) return;
      got.add(q);
      inGroup.add(id);
      sums.push(w.sums[j]!);
    });
    storedBy.set(i, got);
    newFigures.push(...figureRows(key, sums));
  }

  const probe = paramList();
  const branches: string[] = [];
  const sigKeys = [...sigRows.values()];
  if (sigKeys.length) {
    // A process's signature is stored once (the first seen): most of a batch's processes are
    // already there, so their keys are probed and only new processes' signatures encoded and sent.
    branches.push(`SELECT 'p' AS k, u.h AS h, u.o AS a, u.t AS b, NULL::bytea AS sig FROM unnest(${probe.param(sigKeys.map((r) => r[0]))}::text[], ${probe.param(sigKeys.map((r) => keyOf.get(r[0])))}::int[],
         ${probe.param(sigKeys.map((r) => pidColumn(r[1])))}::int[], ${probe.param(sigKeys.map((r) => r[2]))}::bigint[], ${probe.param(sigKeys.map((r) => r[1]))}::bigint[]) AS u(h, hk, p, t, o)
       WHERE EXISTS (SELECT 1 FROM process_signatures s WHERE s.host_key = u.hk AND s.pid = u.p AND s.start_time_ticks = u.t)`);
  }
  if (unlinked.length) {
    branches.push(`SELECT 'r' AS k, NULL::text AS h, u.o AS a, NULL::bigint AS b, NULL::bytea AS sig FROM unnest(${probe.param(unlinked.map((x) => x.w.hostId))}::text[], ${probe.param(unlinked.map((x) => x.w.hash))}::bytea[])
         WITH ORDINALITY AS u(h, x, o)
       CROSS JOIN LATERAL (SELECT 1 FROM batches b WHERE b.host_id = u.h AND b.hash = u.x LIMIT 1) e`);
  }
  // Digests the accepted batches' signatures name: the stored content with that digest (shared
  // by every host: the digest fixes the content), by signature_blobs' primary key; and when each
  // content the batches use (named, or sent in full) was last used.
  const lookups = new Map<string, Uint8Array>();
  for (const w of batchRows) for (const [hex, d] of w.named) if (d.length === REFERENCE_BYTES) lookups.set(hex, d);
  const full = new Map<string, Buffer>();
  for (const w of batchRows) for (const [, , , , d] of w.sigs) if (d) full.set(d.toString('hex'), d);
  if (lookups.size || full.size) {
    const all = [...new Map([...lookups, ...full].map(([hex, d]) => [hex, Buffer.from(d)])).values()];
    branches.push(`SELECT 'd' AS k, encode(s.digest, 'hex') AS h, s.last_used_ms AS a, s.id AS b,
         CASE WHEN s.digest = ANY(${probe.param([...lookups.values()].map((d) => Buffer.from(d)))}::bytea[]) THEN s.signature END AS sig
       FROM signature_blobs s WHERE s.digest = ANY(${probe.param(all)}::bytea[])`);
  }
  const lastUsed = new Map<string, number>();
  /** The stored contents' ids (process rows name a content by it: migration 17), by digest (hex). */
  const blobIds = new Map<string, number>();
  const stored = new Map<string, IProcessSignature>();
  /** The stored contents of `stored`, as kept (written back as they are when a batch uses them). */
  const storedBlobs = new Map<string, Buffer>();
  /** Processes of the accepted batches whose row is stored already (their contents are only marked used). */
  const existing: Array<[string, number, number, IProcessSignature, number, Buffer | null]> = [];
  if (branches.length) {
    const r = await c.query<{ k: string; h: string | null; a: number; b: number | null; sig: Buffer | null }>(branches.join('\nUNION ALL\n'), probe.params);
    const replayed = new Set<number>();
    for (const x of r.rows) {
      if (x.k === 'p') {
        const k = `${x.h}\u0000${x.a}:${x.b}`;
        const row = sigRows.get(k);
        if (row) existing.push(row);
        sigRows.delete(k);
      } else if (x.k === 'd') {
        lastUsed.set(x.h!, x.a);
        blobIds.set(x.h!, x.b!);
        if (!x.sig) continue;
        const bytes = decodeSignatureBlob(x.sig);
        const sig = assay.v1.ProcessSignature.decode(bytes);
        keepSignatureBytes(sig, bytes);
        stored.set(x.h!, sig);
        storedBlobs.set(x.h!, x.sig);
      }
      else replayed.add(x.a - 1);
    }
    unlinked.forEach((u, j) => (outcomes[u.i] = { ok: true, value: { ...u.none, status: replayed.has(j) ? 'replayed' : 'chain_break' } satisfies AppendResult }));
  }
  // The contents the accepted batches use, by digest (hex), with the latest use and, for one a new
  // process's row names, its bytes. last_used_ms only goes up (retention relies on it).
  const blobs = new Map<string, { digest: Buffer; ms: number; blob?: () => Buffer }>();
  const use = (digest: Buffer, ms: number, blob?: () => Buffer): void => {
    const hex = digest.toString('hex');
    const had = blobs.get(hex);
    if (!had) blobs.set(hex, { digest, ms, ...(blob ? { blob } : {}) });
    else {
      had.ms = Math.max(had.ms, ms);
      had.blob ??= blob;
    }
  };
  const perHost = new Map<string, SampleSummary[]>();
  for (const [i, { w, lastSeq }] of batchAt) {
    const got = storedBy.get(i) ?? new Set<number>();
    const storedSeqs = w.seqs.filter((q) => got.has(q));
    const list = perHost.get(w.hostId) ?? [];
    list.push(...w.sums.filter((s) => got.has(s.seq)));
    perHost.set(w.hostId, list);
    // The batch's references resolved (within it, or to a stored signature); the others counted.
    // A new process's row holds the signature as if sent in full (none: no row).
    let signatures = new Map<string, IProcessSignature>();
    let unresolved = 0;
    if (w.named.size) {
      const res = resolveBatch(w.samples, (_d, hex) => stored.get(hex));
      ({ resolved: signatures, unresolved } = res);
      const byProcess = new Map<string, IProcessSignature>();
      for (const r of res.signatures) {
        const k = `${w.hostId}\u0000${Number(r.process.pid ?? 0)}:${Number(r.process.startTimeTicks ?? 0)}`;
        if (!byProcess.has(k)) byProcess.set(k, r.signature);
      }
      for (const [k, row] of sigRows) {
        if (row[0] !== w.hostId || !needsResolving(row[3])) continue;
        const sig = byProcess.get(k);
        if (sig) row[3] = sig;
        else sigRows.delete(k);
      }
      // Every content the batch named is used by it (a later read of the batch resolves it again).
      for (const hex of signatures.keys()) use(Buffer.from(hex, 'hex'), w.nowMs);
    }
    outcomes[i] = {
      ok: true,
      value: {
        status: 'stored', accepted: storedSeqs.length, duplicates: w.seqs.length - storedSeqs.length, lastSeq, storedSeqs,
        ...(signatures.size ? { signatures } : {}), ...(unresolved ? { unresolvedSignatures: unresolved } : {}),
      } satisfies AppendResult,
    };
  }

  // A new process's row names its content by id (its digest's row). The content is stored already
  // (a reference's, or one sent in full: insertNewContents); one whose row may be gone meanwhile
  // (last used long ago) or that no statement has stored yet (lists written out) goes with it, and
  // the row takes the id that statement returns, so the row never names a content that is not there.
  const newProcesses = [...sigRows.values()].map((r) => {
    const sent = r[5] && !needsResolving(r[3]);
    const bytes = signatureBytes(r[3]);
    const digest = sent ? r[5]! : createHash('sha256').update(bytes).digest();
    const hex = digest.toString('hex');
    use(digest, r[4], () => storedBlobs.get(hex) ?? (lastUsed.has(hex) ? Buffer.from(bytes) : encodeSignatureBlob(bytes)));
    return { hostKey: keyOf.get(r[0])!, pid: pidColumn(r[1]), ticks: r[2], digest, id: blobIds.get(hex) ?? null, day: Math.floor(r[4] / DAY_MS) };
  });
  // A stored process sent with its signature in full again (the agent's daily resend): its content is used.
  for (const r of existing) if (r[5] && !needsResolving(r[3])) use(r[5], r[4]);


  // One statement for everything else: roll-ups, new signatures, gaps, verdicts, class changes,
  // batches (bytes as binary parameters, not hex in arrays), then the hosts' new state.
  const out = paramList();
  const parts: string[] = ctx.rollups.groupParts(perHost, keyOf, out.param);
  if (newFigures.length) parts.push(insertFigures(newFigures, out.param));
  /** The part writing contents (its RETURNING gives their ids), if any. */
  let writtenPart: string | null = null;
  if (blobs.size) {
    // In digest order, so two collectors writing the same contents lock their rows in one order.
    // A content used within SIGNATURE_USE_SLACK_MS of this use is left alone (not locked).
    const all = [...blobs]
      .filter(([hex, b]) => !(lastUsed.get(hex)! >= b.ms - SIGNATURE_USE_SLACK_MS))
      .map(([, b]) => b)
      .sort((a, b) => Buffer.compare(a.digest, b.digest));
    const written = all.filter((b) => b.blob).map((b) => ({ ...b, blob: b.blob!() }));
    const marked = all.filter((b) => !b.blob);
    // Race-safe: a content another collector inserts meanwhile is waited for, then only marked used
    // (always updated, so RETURNING gives every written content's id, the row's as it now stands:
    // a content deleted and stored again since the probe has a new one).
    if (written.length) {
      writtenPart = `w${parts.length}`;
      parts.push(`INSERT INTO signature_blobs (digest, last_used_ms, signature)
         SELECT * FROM unnest(${out.param(written.map((b) => b.digest))}::bytea[], ${out.param(written.map((b) => b.ms))}::bigint[], ${out.param(written.map((b) => b.blob))}::bytea[])
         ON CONFLICT (digest) DO UPDATE SET last_used_ms = GREATEST(signature_blobs.last_used_ms, excluded.last_used_ms)
         RETURNING digest, id`);
    }
    if (marked.length) {
      parts.push(`UPDATE signature_blobs s SET last_used_ms = u.ms
         FROM unnest(${out.param(marked.map((b) => b.digest))}::bytea[], ${out.param(marked.map((b) => b.ms))}::bigint[]) AS u(d, ms)
         WHERE s.digest = u.d AND s.last_used_ms < u.ms`);
    }
  }
  if (newProcesses.length) {
    const p = newProcesses;
    const written = writtenPart ? `(SELECT w.id FROM ${writtenPart} w WHERE w.digest = u.d)` : 'NULL::bigint';
    parts.push(`INSERT INTO process_signatures (start_time_ticks, signature_id, host_key, pid, first_seen_day)
       SELECT u.t, COALESCE(${written}, u.id), u.k, u.p, u.day FROM unnest(${out.param(p.map((r) => r.ticks))}::bigint[], ${out.param(p.map((r) => r.hostKey))}::int[],
         ${out.param(p.map((r) => r.pid))}::int[], ${out.param(p.map((r) => r.day))}::int[], ${out.param(p.map((r) => r.digest))}::bytea[], ${out.param(p.map((r) => r.id))}::bigint[])
         AS u(t, k, p, day, d, id) ON CONFLICT DO NOTHING`);
  }
  if (gapRows.length) {
    const g = (f: (x: (typeof gapRows)[number]) => unknown, type: string): string => `${out.param(gapRows.map(f))}::${type}[]`;
    parts.push(`INSERT INTO gaps (host_id, from_seq, to_seq, from_ms, to_ms, cause, samples, batch_hash)
       SELECT * FROM unnest(${[g((x) => x[0], 'text'), g((x) => x[1].fromSeq, 'bigint'), g((x) => x[1].toSeq, 'bigint'), g((x) => x[1].fromMs, 'bigint'), g((x) => x[1].toMs, 'bigint'), g((x) => x[1].cause, 'text'), g((x) => x[1].samples, 'bigint'), g((x) => x[2], 'bytea')].join(', ')})`);
  }
  if (verdictRows.size) {
    const vs = [...verdictRows.values()];
    parts.push(`INSERT INTO verdicts (host_id, ts_ms, class, confidence, verdict_deflated)
       SELECT * FROM unnest(${out.param(vs.map((v) => v.hostId))}::text[], ${out.param(vs.map((v) => v.tsMs))}::bigint[], ${out.param(vs.map((v) => v.class))}::text[],
         ${out.param(vs.map((v) => v.confidence))}::float8[], ${out.param(vs.map((v) => v.deflated))}::bytea[])
       ON CONFLICT (host_id, ts_ms) DO UPDATE SET class = excluded.class, confidence = excluded.confidence, verdict = NULL, verdict_deflated = excluded.verdict_deflated`);
  }
  if (changeRows.length) {
    const types = ['text', 'bigint', 'text', 'text', 'float8', 'int', 'int'];
    parts.push(`INSERT INTO class_changes (host_id, ts_ms, from_class, to_class, confidence, non_ai, from_non_ai)
       SELECT u.host_id, u.ts_ms, u.from_class, u.to_class, u.confidence, u.non_ai, u.from_non_ai
       FROM unnest(${types.map((t, k) => `${out.param(changeRows.map((r) => r[k]))}::${t}[]`).join(', ')}) WITH ORDINALITY
         AS u(host_id, ts_ms, from_class, to_class, confidence, non_ai, from_non_ai, ord) ORDER BY u.ord`);
  }
  // A statement takes at most 65,535 parameters: batch rows past the first chunk go in their own statements.
  const CHUNK = 4000;
  const batchValues = (chunk: BatchWrite[], param: (v: unknown) => string): string =>
    `INSERT INTO batches (host_id, hash, prev_hash, header, signature, first_seq, last_seq, samples, received_ms, encoding, payload) VALUES ${chunk
      .map((b) => {
        const maxSeq = Math.max(0, ...b.seqs);
        return `(${[b.hostId, b.hash, storedPrevHash(b.header, b.prevHash), b.header, b.signature, b.seqs[0] ?? maxSeq, b.seqs.at(-1) ?? maxSeq, b.seqs.length, b.nowMs, b.encoding, b.payload].map(param).join(', ')})`;
      })
      .join(', ')}`;
  if (batchRows.length) parts.push(batchValues(batchRows.slice(0, CHUNK), out.param));
  const dirty = [...states.values()].filter((s) => s.dirty && s.exists);
  let main = 'SELECT 1';
  if (dirty.length) {
    const d = (f: (s: HostState) => unknown, type: string): string => `${out.param(dirty.map(f))}::${type}[]`;
    main = `UPDATE hosts h SET chain_head = u.head, last_seq = GREATEST(h.last_seq, u.last_seq), last_seen_ms = u.seen,
        verdict_class = u.vc, verdict_confidence = u.vconf, verdict_non_ai = u.vnai
      FROM unnest(${[d((s) => s.row.id, 'text'), d((s) => (s.head.length ? s.head : null), 'bytea'), d((s) => s.lastSeq, 'bigint'), d((s) => s.lastSeenMs, 'bigint'), d((s) => s.verdictClass, 'text'), d((s) => s.verdictConfidence, 'float8'), d((s) => s.verdictNonAi, 'int')].join(', ')})
        AS u(id, head, last_seq, seen, vc, vconf, vnai)
      WHERE h.id = u.id`;
  }
  if (parts.length || dirty.length) await c.query(parts.length ? `WITH ${parts.map((x, k) => `w${k} AS (${x})`).join(',\n')} ${main}` : main, out.params);
  for (let from = CHUNK; from < batchRows.length; from += CHUNK) {
    const more = paramList();
    await c.query(batchValues(batchRows.slice(from, from + CHUNK), more.param), more.params);
  }
  if (changeRows.length) {
    ctx.changes.sincePrune += changeRows.length;
    if (ctx.changes.sincePrune >= Math.max(1, Math.floor(ctx.maxClassChanges / 100))) {
      ctx.changes.sincePrune = 0;
      await c.query('DELETE FROM class_changes WHERE id <= (SELECT MAX(id) FROM class_changes) - $1', [ctx.maxClassChanges]);
    }
  }
  return { outcomes, newKeys, enrolled };
}
