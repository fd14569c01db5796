// Migration 4 on a database that version 3 left (per-sample bytes in samples.data): every stored
// batch gets its payload from those bytes, stays verifiable in a report, and the chain goes on
// with schema-3 batches.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sealBatch } from '../../agent/batch.js';
import { buildReport } from '../../collector/report/build.js';
import { verifyReport } from '../../collector/report/verify.js';
import { sqliteMigrations } from '../../collector/store/migrations.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { summarize } from '../../collector/store/store.js';
import { generateAgentKeys, signBytes } from '../../proto/chain.js';
import { assay, encodeSample } from '../../proto/codec.js';
import { BatchEncoding, frameSamples } from '../../proto/payload.js';
import { tempDir } from '../helpers/env.js';
import { fullSample } from '../helpers/messages.js';

const T0 = 1_795_000_000_000;

test('migration 4 moves v2 sample bytes into their batch payloads; old batches stay verifiable and the chain goes on', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const path = join(tmp.dir, 'assay.db');
  const keys = generateAgentKeys();
  const agentId = 'old-agent';
  // The database as version 3 left it, written the way version 3's store wrote it.
  const old = new Database(path);
  old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)');
  for (const m of sqliteMigrations.filter((x) => x.version <= 3)) {
    old.exec(m.sql);
    old.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
  }
  old.prepare(`INSERT INTO hosts (id, hostname, agent_version, inventory, first_seen_ms, last_seen_ms, public_key, enrolled_ms) VALUES (?, 'old-host', '0.1.0', NULL, ?, ?, ?, ?)`).run(agentId, T0, T0, keys.publicKey, T0);
  old.prepare(`INSERT INTO hosts (id, hostname, agent_version, inventory, first_seen_ms, last_seen_ms) VALUES ('other', 'other', '0.1.0', NULL, ?, ?)`).run(T0, T0);
  const insSample = old.prepare(`INSERT INTO samples (host_id, seq, ts_ms, received_ms, cpu_pct, load1, mem_used_bytes, mem_total_bytes, gpu_util_pct, gpu_mem_used_bytes, power_watts,
    disk_read_bps, disk_write_bps, net_rx_bps, net_tx_bps, data) VALUES (@hostId, @seq, @tsMs, @receivedMs, @cpuPct, @load1, @memUsedBytes, @memTotalBytes, @gpuUtilPct, @gpuMemUsedBytes, @powerWatts,
    @diskReadBytesPerSec, @diskWriteBytesPerSec, @netRxBytesPerSec, @netTxBytesPerSec, @data)`);
  const insBatch = old.prepare('INSERT INTO batches (host_id, hash, prev_hash, header, signature, first_seq, last_seq, samples, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  let head: Uint8Array = new Uint8Array();
  const framedBySeq = new Map<number, Buffer>();
  for (let b = 0; b < 4; b++) {
    const seqs = [1, 2, 3, 4, 5].map((i) => b * 5 + i);
    const samples = seqs.map((seq) => fullSample(T0 + seq * 1000, 1000 + seq));
    const bytes = samples.map(encodeSample);
    const sealed = sealBatch({ agentId, seqs, samples: bytes, prevHash: head, sealedMs: T0 + seqs.at(-1)! * 1000, encoding: BatchEncoding.BATCH_ENCODING_SAMPLES }, (h) => signBytes(keys, h));
    seqs.forEach((seq, i) => {
      insSample.run({ hostId: agentId, receivedMs: T0 + 30_000, ...summarize(seq, samples[i]!), data: Buffer.from(bytes[i]!) });
      framedBySeq.set(seq, frameSamples([bytes[i]!]));
    });
    insBatch.run(agentId, sealed.hash, head, sealed.header, sealed.signature, seqs[0], seqs.at(-1), 5, T0 + seqs.at(-1)! * 1000 + 300);
    head = sealed.hash;
  }
  old.prepare('UPDATE hosts SET chain_head = ?, last_seq = 20 WHERE id = ?').run(head, agentId);
  // Process signatures as version 3 kept them: one blob per process, the same content many times.
  const sig = assay.v1.ProcessSignature.encode(fullSample(T0).processes![0]!.signature!).finish();
  const insSig = old.prepare('INSERT INTO process_signatures (host_id, pid, start_time_ticks, name, signature, first_seen_ms) VALUES (?, ?, ?, ?, ?, ?)');
  for (let pid = 100; pid < 110; pid++) insSig.run(agentId, pid, 5000 + pid, 'curl', Buffer.from(sig), T0);
  const summariesBefore = old.prepare('SELECT seq, ts_ms, cpu_pct, mem_used_bytes, net_rx_bps FROM samples WHERE host_id = ? ORDER BY seq').all(agentId);
  old.close();

  const store = new SqliteStore(path);
  t.after(() => store.close());
  assert.deepEqual((store.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as Array<{ version: number }>).map((r) => r.version), sqliteMigrations.map((m) => m.version).sort((a, b) => a - b));
  const cols = (table: string): string[] => (store.db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);
  assert.ok(!cols('samples').includes('data') && !cols('samples').includes('received_ms'), `samples columns: ${cols('samples').join(', ')}`);
  assert.ok(cols('batches').includes('payload') && cols('batches').includes('encoding'));
  // Each batch's payload is the framed concatenation of its samples' old bytes.
  const rows = store.db.prepare('SELECT first_seq, encoding, payload FROM batches WHERE host_id = ? ORDER BY last_seq').all(agentId) as Array<{ first_seq: number; encoding: number; payload: Buffer }>;
  assert.equal(rows.length, 4);
  for (const r of rows) {
    assert.equal(r.encoding, BatchEncoding.BATCH_ENCODING_SAMPLES);
    const want = Buffer.concat([0, 1, 2, 3, 4].map((i) => framedBySeq.get(r.first_seq + i)!));
    assert.ok(r.payload.equals(want), `payload of the batch from seq ${r.first_seq}`);
  }
  // Chart figures survived.
  const after = store.figures
    .inRange(store.figures.keyOf(agentId)!, 0, Number.MAX_SAFE_INTEGER)
    .map((s) => ({ seq: s.seq, ts_ms: s.tsMs, cpu_pct: s.cpuPct, mem_used_bytes: s.memUsedBytes, net_rx_bps: s.netRxBytesPerSec }));
  assert.deepEqual(after, summariesBefore);
  assert.equal((await store.samples(agentId, T0, T0 + 100_000, 100)).length, 20, 'full samples decode from the migrated payloads');
  // Signatures: every process kept, the identical content stored once.
  const sigs = await store.signatures(agentId);
  assert.equal(sigs.size, 10);
  assert.ok(Buffer.from(assay.v1.ProcessSignature.encode(sigs.get('105:5105')!).finish()).equals(Buffer.from(sig)));
  assert.equal((store.db.prepare('SELECT COUNT(*) AS n FROM signature_blobs').get() as { n: number }).n, 1);

  // The chain continues with schema-3 batches after the migration.
  const seqs = [21, 22, 23];
  const samples = seqs.map((seq) => fullSample(T0 + seq * 1000, 1000 + seq));
  // A schema-3 batch as the first schema-3 agents sealed it (raw deflate; brotli reports are verified in test/report).
  const sealed = sealBatch({ agentId, seqs, samples: samples.map(encodeSample), prevHash: head, sealedMs: T0 + 23_000, encoding: BatchEncoding.BATCH_ENCODING_DEFLATE }, (h) => signBytes(keys, h));
  const res = await store.appendBatch(agentId, { hash: sealed.hash, prevHash: head, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples: seqs.map((seq, i) => ({ seq, sample: samples[i]! })), gaps: [] }, T0 + 23_500);
  assert.equal(res.status, 'stored');

  // A report over old and new batches verifies: v2 batches embed their samples, v3 their payload.
  const report = await buildReport(store, { hostIds: [agentId], fromMs: T0, toMs: T0 + 24_000, keys: generateAgentKeys(), nowMs: T0 + 60_000 });
  const batches = report.hosts[0]!.input.batches!;
  assert.equal(batches.length, 5);
  assert.ok(batches.slice(0, 4).every((b) => typeof b.samples === 'string' && b.payload === undefined));
  assert.ok(typeof batches[4]!.payload === 'string' && batches[4]!.samples === undefined);
  assert.equal(assay.v1.BatchHeader.decode(Buffer.from(batches[4]!.header, 'base64')).encoding, BatchEncoding.BATCH_ENCODING_DEFLATE);
  const v = verifyReport(JSON.parse(JSON.stringify(report)));
  assert.deepEqual(v.failures, []);
  assert.equal(report.hosts[0]!.derived.samples, 23);
});
