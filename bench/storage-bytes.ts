// Bytes per host-day in the collector's store (issue 10: <= 40 MB at 1 Hz, raw signed samples
// included). A simulated day of one host: the recorded trace looped with its timestamps shifted
// (86,400 samples at 1 Hz), sealed every 5 samples by the agent's own code (quantized as the
// agent sends them, agent/batch.ts sealBatch: columnar, chained as agent/spool.ts chains, signed), decoded
// as ingest decodes them, and committed one batch at a time to a real SqliteStore file, with a
// verdict stored once a minute as the classifier persists them (the trace's own replayed
// verdicts), and retention run every 10 minutes as the collector runs it. Prints bytes per table with its indexes (dbstat; rows and bytes per row), what is
// not payload, and the file's size after the day. Not a timed test.
//
//   node dist/bench/storage-bytes.js [--trace FILE] [--hours 24] [--batch 5] [--keep] [--full-signatures] [--recorded-sockets] [--encoding N] [--postgres]
//
// --postgres: the same day into a PostgresStore on a throwaway cluster (test/helpers/postgres.ts,
// Debian's server binaries), bytes per table from pg_total_relation_size (heap, TOAST and indexes,
// summed over a partitioned table's partitions), after VACUUM. Slower: use --hours 1 or 2.
//
// Process signatures go as the agent sends them since 2026-12-07 (a repeat by reference,
// agent/signature-refs.ts); --full-signatures sends every one in full, as agents did before.
// --hours scales a shorter run up to a day (figures say so). --keep leaves the database file.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sealBatch } from '../agent/batch.js';
import { quantizeSample } from '../agent/quantize.js';
import { generateAgentKeys, signBytes } from '../proto/chain.js';
import { encodeSample, type IProcess, type ISample } from '../proto/codec.js';
import { AGENT_BATCH_ENCODING, CHAIN_MAX_BATCHES, decodePayload, payloadChained, payloadInflateLimit, type BatchEncodingValue } from '../proto/payload.js';
import { SqliteStore } from '../collector/store/sqlite.js';
import { PostgresStore } from '../collector/store/postgres.js';
import type { Store } from '../collector/store/store.js';
import { startPostgres, type PgCluster } from '../test/helpers/postgres.js';
import { retentionOptions } from '../collector/store/retention.js';
import { replay } from '../collector/replay.js';
import { defaultRulesPath, loadRulesFile } from '../collector/engine/rules/load.js';
import { asSentSockets, readTraceSamples } from './payload-sizes.js';
import { SentSignatures, withReferences } from '../agent/signature-refs.js';

const DAY_SAMPLES = 86_400;

function flag(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : dflt;
}

/**
 * The trace looped to `n` samples 1 s apart, as one long run of the same host would look. A
 * process alive across the loop boundary (in the trace's last sample) is the same process on
 * every repeat: its signature, sent once, is not sent again. Every other process is a new one on
 * each repeat (short-lived jobs, curl, sleep: a new start time, so a new process to the
 * collector), with its signature, as the agent would send it.
 */
function loop(trace: ISample[], n: number, t0: number): ISample[] {
  const key = (p: IProcess): string => `${p.pid}:${p.startTimeTicks}`;
  const lastKeys = new Set((trace.at(-1)!.processes ?? []).map(key));
  const ticksPerLoop = (trace.length * 100); // USER_HZ 100: the trace's duration in clock ticks
  const out: ISample[] = [];
  for (let i = 0; i < n; i++) {
    const rep = Math.floor(i / trace.length);
    const src = trace[i % trace.length]!;
    if (rep === 0) {
      out.push({ ...src, tsMs: t0 + i * 1000 });
      continue;
    }
    const processes = (src.processes ?? []).map((p) => {
      if (lastKeys.has(key(p))) return i % trace.length === 0 ? { ...p, signature: null } : p;
      return { ...p, startTimeTicks: Number(p.startTimeTicks ?? 0) + rep * ticksPerLoop };
    });
    out.push({ ...src, tsMs: t0 + i * 1000, processes });
  }
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const traceFile = flag(args, '--trace', 'bench/data/server-host.trace.ndjson.gz');
  const hours = Number(flag(args, '--hours', '24'));
  const batchSize = Number(flag(args, '--batch', '5'));
  // --encoding N: seal batches in encoding N (default: what the agent signs, AGENT_BATCH_ENCODING).
  const encoding = args.includes('--encoding') ? (Number(flag(args, '--encoding', '')) as BatchEncodingValue) : undefined;
  const n = Math.round((hours / 24) * DAY_SAMPLES);
  const scale = DAY_SAMPLES / n;
  // As the agent sends them: quantized (agent/quantize.ts), and with its socket selection
  // (agent/probes/sockets.ts omitUnowned: unowned sockets neither listening nor ESTABLISHED are
  // counted, not listed; the recorded trace predates it). Until 2026-12-08 this bench left the
  // trace's ~200 socket rows per sample in (203 against 24 sent), and stored 618 B a sample of
  // payload where the agent signs ~450 for the same day. --recorded-sockets: as before.
  const recordedSockets = args.includes('--recorded-sockets');
  const trace = readTraceSamples(traceFile).map((s) => (recordedSockets ? quantizeSample(s) : asSentSockets(quantizeSample(s))));
  const t0 = Date.UTC(2026, 11, 1);
  // As the agent streaming to a collector sends them: a new process's signature identical to one
  // sent in full in the last day goes as a reference (agent/signature-refs.ts, since 2026-12-07).
  const sent = new SentSignatures();
  const samples = args.includes('--full-signatures') ? loop(trace, n, t0) : withReferences(loop(trace, n, t0), sent);

  // The verdicts the collector would store: the trace replayed through the engine, persisted
  // once a minute (ClassifierOptions.persistEveryMs), looped like the samples.
  const steps = replay(trace, loadRulesFile(defaultRulesPath));
  const verdicts = steps.filter((_, i) => i % 12 === 0).map((s) => s.verdict);

  const dir = mkdtempSync(join(tmpdir(), 'assay-storage-bytes-'));
  const dbFile = join(dir, 'assay.db');
  const pgMode = args.includes('--postgres');
  let cluster: PgCluster | null = null;
  let store: Store;
  if (pgMode) {
    cluster = await startPostgres();
    store = await PostgresStore.open(await cluster.createDatabase('assay_bytes'), { maintainEveryMs: 0 });
  } else store = new SqliteStore(dbFile);
  const keys = generateAgentKeys();
  const agentId = randomUUID();
  await store.upsertHost({ agentId, hostname: 'server-host', agentVersion: '0.1.0', publicKey: keys.publicKey, inventory: { cpuModel: 'recorded', cpuLogicalCores: 2 } }, t0);
  let prevHash: Uint8Array = new Uint8Array();
  let lastSample: Uint8Array | null = null;
  let run = 0;
  let payloadBytes = 0;
  let protobufBytes = 0;
  let batches = 0;
  let unresolved = 0;
  let nextVerdict = 0;
  // Retention runs as the collector runs it (every everyMs, in steps): within a day it deletes
  // nothing, but it moves older payloads into segments (payload-segments.ts).
  const retention = retentionOptions();
  let nextRetention = t0 + retention.everyMs;
  let retentionSteps = 0;
  const started = Date.now();
  for (let i = 0; i < n; i += batchSize) {
    const chunk = samples.slice(i, i + batchSize);
    const bytes = chunk.map(encodeSample);
    protobufBytes += bytes.reduce((a, b) => a + b.length, 0);
    const seqs = chunk.map((_, j) => i + j + 1);
    const sealedMs = chunk.at(-1)!.tsMs! + 200;
    // Chained as the agent's spool chains (agent/spool.ts): against the last sample of the batch
    // before, a keyframe every CHAIN_MAX_BATCHES (encoding 4, the default; ignored by the others).
    const prior = lastSample && run < CHAIN_MAX_BATCHES ? lastSample : null;
    const sealed = sealBatch({ agentId, seqs, samples: bytes, prevHash, sealedMs, prior, ...(encoding !== undefined ? { encoding } : {}) }, (h) => signBytes(keys, h));
    const chained = payloadChained(sealed.encoding, sealed.payload);
    run = chained ? run + 1 : 1;
    lastSample = bytes.at(-1)!;
    payloadBytes += sealed.payload.length;
    // As ingest does: decode what was signed (with its prior), then hand the store the payload and the samples.
    const decoded = decodePayload(sealed.encoding, sealed.payload, payloadInflateLimit(4 * 1024 * 1024), undefined, Infinity, chained ? prior : null);
    const res = await store.appendBatch(
      agentId,
      { hash: sealed.hash, prevHash, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples: decoded.map((sample, j) => ({ seq: seqs[j]!, sample })), gaps: [] },
      sealedMs + 50,
    );
    if (res.status !== 'stored') throw new Error(`batch ${batches + 1} not stored: ${res.status}`);
    unresolved += res.unresolvedSignatures ?? 0;
    prevHash = sealed.hash;
    batches++;
    if (sealedMs >= nextRetention) {
      for (let done = false; !done; retentionSteps++) done = (await store.retentionStep(retention, sealedMs)).done;
      nextRetention += retention.everyMs;
    }
    while (nextVerdict * 60_000 <= sealedMs - t0) {
      const v = verdicts[nextVerdict % verdicts.length]!;
      await store.putVerdict(agentId, t0 + nextVerdict * 60_000, { ...v, window: { ...v.window, toMs: t0 + nextVerdict * 60_000 } });
      nextVerdict++;
    }
  }
  const elapsedS = (Date.now() - started) / 1000;
  if (pgMode) {
    await postgresBytes(store as PostgresStore, { traceFile, trace: trace.length, n, hours, batchSize, elapsedS, scale, payloadBytes, protobufBytes, batches, verdicts: nextVerdict });
    await store.close();
    await cluster!.stop();
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  const sqlite = store as SqliteStore;
  sqlite.db.pragma('wal_checkpoint(TRUNCATE)');
  // Pages in use per table and per index (dbstat), and per table with its indexes.
  const owner = new Map((sqlite.db.prepare("SELECT name, tbl_name FROM sqlite_schema WHERE type IN ('table', 'index')").all() as Array<{ name: string; tbl_name: string }>).map((r) => [r.name, r.tbl_name]));
  const perName = sqlite.db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all() as Array<{ name: string; bytes: number }>;
  const perTable = new Map<string, { bytes: number; parts: Array<{ name: string; bytes: number }> }>();
  for (const r of perName) {
    const t = owner.get(r.name) ?? r.name;
    const e = perTable.get(t) ?? { bytes: 0, parts: [] };
    e.bytes += r.bytes;
    e.parts.push(r);
    perTable.set(t, e);
  }
  const rows = (t: string): number | null => {
    try {
      return t.startsWith('sqlite_') ? null : (sqlite.db.prepare(`SELECT COUNT(*) AS n FROM "${t}"`).get() as { n: number }).n;
    } catch {
      return null;
    }
  };
  const tables = [...perTable.entries()].map(([table, e]) => ({ table, ...e, rows: rows(table) })).sort((a, b) => b.bytes - a.bytes);
  const totalBytes = tables.reduce((a, t) => a + t.bytes, 0);
  await store.close();
  const fileBytes = statSync(dbFile).size;
  const mb = (x: number): string => `${((x * scale) / 1e6).toFixed(2).padStart(8)} MB`;
  console.log(`storage per host-day: trace ${traceFile} (${trace.length} samples) looped to ${n} samples at 1 Hz (${hours} h${scale !== 1 ? `, figures scaled x${scale.toFixed(2)} to a day` : ''}), batches of ${batchSize}; ${elapsedS.toFixed(0)} s; loadavg ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`samples ${n}, batches ${batches}, verdicts ${nextVerdict}; retention every ${retention.everyMs / 60_000} min (${retentionSteps} steps)`);
  console.log(args.includes('--full-signatures') ? 'process signatures all in full (--full-signatures: agents before 2026-12-07)' : `process signatures: ${sent.full} in full, ${sent.references} by reference (${unresolved} unresolved)`);
  console.log(`batch encoding ${encoding ?? AGENT_BATCH_ENCODING}; sockets ${recordedSockets ? 'as recorded (--recorded-sockets)' : 'as the agent selects them (omitUnowned)'}`);
  console.log(`protobuf per sample ${(protobufBytes / n).toFixed(0)} B; signed payload per sample ${(payloadBytes / n).toFixed(0)} B (${(protobufBytes / payloadBytes).toFixed(1)}x smaller)`);
  console.log('per table with its indexes (dbstat, pages in use), per host-day:');
  for (const t of tables) {
    if (t.bytes <= 4096 * 2 && t.rows !== null && t.rows <= 1) continue; // empty tables: a page or two each, in the total
    const per = t.rows ? ` ${(t.bytes / t.rows).toFixed(0).padStart(6)} B/row` : '';
    console.log(`  ${t.table.padEnd(26)} ${mb(t.bytes)}  ${String(t.rows ?? '').padStart(7)} rows${per}`);
    if (t.parts.length > 1) for (const p of t.parts) console.log(`    ${p.name.padEnd(34)} ${mb(p.bytes)}`);
  }
  // Payloads live in their batch rows until retention moves them into segments (payload-segments.ts).
  const batchBytes = (perTable.get('batches')?.bytes ?? 0) + (perTable.get('payload_segments')?.bytes ?? 0);
  console.log(`payloads alone ${mb(payloadBytes)}; batches and payload segments beyond the payloads (headers, signatures, hashes, page space, indexes) ${mb(batchBytes - payloadBytes)}`);
  console.log(`everything but the payloads ${mb(totalBytes - payloadBytes)} (tables ${mb(totalBytes)} in all)`);
  console.log(`database file after the day: ${mb(fileBytes)} per host-day (target 40 MB)`);
  if (args.includes('--keep')) console.log(`kept ${dbFile}`);
  else rmSync(dir, { recursive: true, force: true });
}

/**
 * Bytes per table of the PostgreSQL store (heap, TOAST, indexes; partitions summed), after VACUUM,
 * each table's parts beneath it: its heap (main fork with free space and visibility maps), its
 * TOAST table with the TOAST index, and each index by name (a partitioned index's partitions summed).
 */
async function postgresBytes(store: PostgresStore, r: { traceFile: string; trace: number; n: number; hours: number; batchSize: number; elapsedS: number; scale: number; payloadBytes: number; protobufBytes: number; batches: number; verdicts: number }): Promise<void> {
  await store.pool.query('VACUUM');
  const rows = (await store.pool.query<{ table: string; bytes: string; heap: string; toast: string; rows: string; partitions: string }>(
    `SELECT COALESCE(p.relname, c.relname) AS table, SUM(pg_total_relation_size(c.oid)) AS bytes, SUM(pg_table_size(c.oid) - COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0)) AS heap,
       SUM(COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0)) AS toast, SUM(GREATEST(c.reltuples, 0))::bigint AS rows, COUNT(*) AS partitions
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
     LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class p ON p.oid = i.inhparent
     WHERE c.relkind = 'r' GROUP BY 1 ORDER BY 2 DESC`,
  )).rows;
  // Each index of a table, a partition's index counted under its partitioned parent's name.
  const indexes = (await store.pool.query<{ table: string; index: string; bytes: string }>(
    `SELECT COALESCE(pt.relname, t.relname) AS table, COALESCE(pi.relname, ic.relname) AS index, SUM(pg_relation_size(ic.oid)) AS bytes
     FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
     LEFT JOIN pg_inherits ti ON ti.inhrelid = t.oid LEFT JOIN pg_class pt ON pt.oid = ti.inhparent
     LEFT JOIN pg_inherits ii ON ii.inhrelid = ic.oid LEFT JOIN pg_class pi ON pi.oid = ii.inhparent
     WHERE t.relkind = 'r' GROUP BY 1, 2 ORDER BY 3 DESC`,
  )).rows;
  const mb = (x: number): string => `${((x * r.scale) / 1e6).toFixed(2).padStart(8)} MB`;
  console.log(`storage per host-day, PostgreSQL: trace ${r.traceFile} (${r.trace} samples) looped to ${r.n} samples at 1 Hz (${r.hours} h${r.scale !== 1 ? `, figures scaled x${r.scale.toFixed(2)} to a day` : ''}), batches of ${r.batchSize}; ${r.elapsedS.toFixed(0)} s; loadavg ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`batches ${r.batches}, verdicts ${r.verdicts}; signed payload per sample ${(r.payloadBytes / r.n).toFixed(0)} B`);
  console.log('per table (heap, TOAST and indexes; partitions summed), per host-day:');
  let total = 0;
  for (const t of rows) {
    const bytes = Number(t.bytes);
    total += bytes;
    if (bytes <= 64 * 1024) continue; // empty tables: a few pages each, in the total
    const n = Number(t.rows);
    const per = n > 0 ? ` ${(bytes / n).toFixed(0).padStart(6)} B/row` : '';
    console.log(`  ${t.table.padEnd(26)} ${mb(bytes)}  ${String(n).padStart(8)} rows${per}${Number(t.partitions) > 1 ? ` (${t.partitions} partitions)` : ''}`);
    console.log(`    ${'heap'.padEnd(34)} ${mb(Number(t.heap))}`);
    if (Number(t.toast) > 0) console.log(`    ${'TOAST'.padEnd(34)} ${mb(Number(t.toast))}`);
    for (const x of indexes.filter((i) => i.table === t.table)) console.log(`    ${x.index.padEnd(34)} ${mb(Number(x.bytes))}`);
  }
  console.log(`payloads alone ${mb(r.payloadBytes)}; everything but the payloads ${mb(total - r.payloadBytes)}; tables ${mb(total)} in all (heap, TOAST, indexes)`);
}

await main();
