// Migrations 9 to 13 on a database that version 8 left: verdicts as JSON text in a WITHOUT
// ROWID table, one chart-figure row per sample keyed by the host id, process signatures keyed by
// the host id with their name. After them every read answers exactly what it answered before
// (charts as the per-sample SQL computed them), and retention collects the signatures and blobs
// of processes gone before the raw window, and nothing a running process still needs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sealBatch } from '../../agent/batch.js';
import type { Verdict } from '../../collector/engine/types.js';
import { applyMigration, sqliteMigrations } from '../../collector/store/migrations.js';
import { retentionOptions } from '../../collector/store/retention.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { summarize } from '../../collector/store/store.js';
import { generateAgentKeys, sha256, signBytes } from '../../proto/chain.js';
import { assay, encodeSample, type ISample } from '../../proto/codec.js';
import { BatchEncoding } from '../../proto/payload.js';
import { tempDir } from '../helpers/env.js';
import { fullSample } from '../helpers/messages.js';

// 30 s before a day starts: process signature rows keep the day they were first seen (migration 13)
// and retention cuts them at the start of a day, so the day boundary falls inside the raw window
// retention is run with below.
const T0 = 20_776 * 86_400_000 - 30_000;
const D = 86_400_000;

const verdictAt = (tsMs: number, cls: Verdict['class']): Verdict => ({
  class: cls,
  confidence: 0.8,
  scores: { 'ai-training': 0.8, 'ai-inference': 0, 'chain-validation': 0, 'storage-proving': 0, 'pow-mining': 0.1, general: 0, idle: 0 },
  parts: [],
  evidence: [{ signal: 'lib.ai', value: 'libcudnn.so.9', supports: 'ai-training', weight: 0.5, detail: `maps cuDNN at ${tsMs}` }],
  window: { fromMs: tsMs - 60_000, toMs: tsMs, samples: 60 },
  unavailable: [],
  rulesVersion: 'test',
});

/** Varied figures (fractions, float32 values, GPU on some samples only), as real samples have. */
function sampleAt(seq: number, tsMs: number): ISample {
  const s = fullSample(tsMs, 3000 + (seq % 3));
  s.cpu!.totalPct = Math.fround(10 + ((seq * 7.3) % 90));
  s.load!.load1 = Math.fround(seq / 7);
  s.memory!.usedBytes = 1_000_000_000 + seq * 4096;
  if (seq % 4 === 0) s.gpus = [];
  s.disks![0]!.readBytesPerSec = seq * 1000.25;
  return s;
}

// The chart query of the per-sample rows as version 8's store ran it.
const OLD_SUMMARIES = `SELECT MAX(seq) AS seq, MAX(ts_ms) AS ts_ms, AVG(cpu_pct) AS cpu_pct, AVG(load1) AS load1,
    CAST(AVG(mem_used_bytes) AS INTEGER) AS mem_used_bytes, MAX(mem_total_bytes) AS mem_total_bytes,
    AVG(gpu_util_pct) AS gpu_util_pct, CAST(AVG(gpu_mem_used_bytes) AS INTEGER) AS gpu_mem_used_bytes,
    AVG(power_watts) AS power_watts, AVG(disk_read_bps) AS disk_read_bps, AVG(disk_write_bps) AS disk_write_bps,
    AVG(net_rx_bps) AS net_rx_bps, AVG(net_tx_bps) AS net_tx_bps
  FROM samples WHERE host_id = ? AND ts_ms >= ? AND ts_ms <= ?
  GROUP BY (ts_ms - CAST(? AS INTEGER)) / CAST(? AS INTEGER) ORDER BY ts_ms LIMIT ?`;

test('migrations 9 and 10 keep every read the same on version-8 data; retention then collects gone processes and unused blobs', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const path = join(tmp.dir, 'assay.db');
  const keys = generateAgentKeys();
  const id = 'old-agent';
  const old = new Database(path);
  old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)');
  for (const m of sqliteMigrations.filter((x) => x.version <= 8)) {
    applyMigration(old, m);
    old.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
  }
  old.prepare(`INSERT INTO hosts (id, hostname, agent_version, first_seen_ms, last_seen_ms, public_key, enrolled_ms) VALUES (?, 'old-host', '0.1.0', ?, ?, ?, ?)`).run(id, T0, T0, keys.publicKey, T0);
  old.prepare("INSERT INTO rollup_hosts (host_id) VALUES (?)").run(id);
  // 12 batches of 5 samples, 1 s apart, each sample's figures in its own row (version 8's form).
  const insSample = old.prepare(`INSERT INTO samples (host_id, seq, ts_ms, cpu_pct, load1, mem_used_bytes, mem_total_bytes, gpu_util_pct, gpu_mem_used_bytes, power_watts,
    disk_read_bps, disk_write_bps, net_rx_bps, net_tx_bps) VALUES (@hostId, @seq, @tsMs, @cpuPct, @load1, @memUsedBytes, @memTotalBytes, @gpuUtilPct, @gpuMemUsedBytes, @powerWatts,
    @diskReadBytesPerSec, @diskWriteBytesPerSec, @netRxBytesPerSec, @netTxBytesPerSec)`);
  const insBatch = old.prepare(`INSERT INTO batches (host_id, hash, prev_hash, header, signature, first_seq, last_seq, samples, received_ms, encoding, payload)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  let head: Uint8Array = new Uint8Array();
  for (let b = 0; b < 12; b++) {
    const seqs = [1, 2, 3, 4, 5].map((i) => b * 5 + i);
    const samples = seqs.map((seq) => sampleAt(seq, T0 + seq * 1000));
    const sealed = sealBatch({ agentId: id, seqs, samples: samples.map(encodeSample), prevHash: head, sealedMs: T0 + seqs.at(-1)! * 1000 }, (h) => signBytes(keys, h));
    seqs.forEach((seq, i) => insSample.run({ hostId: id, ...summarize(seq, samples[i]!) }));
    insBatch.run(id, sealed.hash, head, sealed.header, sealed.signature, seqs[0], seqs.at(-1), 5, T0 + seqs.at(-1)! * 1000 + 300, sealed.encoding, sealed.payload);
    head = sealed.hash;
  }
  old.prepare('UPDATE hosts SET chain_head = ?, last_seq = 60 WHERE id = ?').run(head, id);
  // Verdicts as JSON text.
  const insVerdict = old.prepare('INSERT INTO verdicts (host_id, ts_ms, class, confidence, verdict) VALUES (?, ?, ?, ?, ?)');
  const verdicts = [verdictAt(T0 + 20_000, 'ai-training'), verdictAt(T0 + 40_000, 'general'), verdictAt(T0 + 60_000, 'general')];
  for (const v of verdicts) insVerdict.run(id, v.window.toMs, v.class, v.confidence, JSON.stringify(v));
  // Process signatures: pids 3000-3002 (the same content; only 3000 runs in the newest sample,
  // sampleAt's pid goes round), and 20 short-lived jobs gone since, two contents between them.
  const blob = old.prepare('INSERT INTO signature_blobs (digest, signature) VALUES (?, ?) RETURNING id');
  const sigOf = (cmd: string): Buffer => Buffer.from(assay.v1.ProcessSignature.encode({ ...fullSample(T0).processes![0]!.signature!, cmdline: cmd }).finish());
  const running = sigOf('python3 train.py');
  const curl = sigOf('curl http://example');
  const sleep = sigOf('sleep 1');
  const ids = new Map([running, curl, sleep].map((b) => [b, (blob.get(sha256(b), b) as { id: number }).id]));
  const insSig = old.prepare('INSERT INTO process_signatures (host_id, pid, start_time_ticks, name, signature_id, first_seen_ms) VALUES (?, ?, ?, ?, ?, ?)');
  for (let pid = 3000; pid < 3003; pid++) insSig.run(id, pid, 123_456_789, 'python3', ids.get(running), T0);
  for (let i = 0; i < 20; i++) insSig.run(id, 5000 + i, 9000 + i, i % 2 ? 'curl' : 'sleep', ids.get(i % 2 ? curl : sleep), T0 + i * 1000);

  // What version 8 answered.
  const charts = [
    [T0, T0 + 70_000, 500],
    [T0 + 3000, T0 + 40_500, 7],
    [T0 + 1, T0 + 59_999, 13],
  ] as const;
  const chartsBefore = charts.map(([from, to, limit]) => old.prepare(OLD_SUMMARIES).all(id, from, to, from, Math.max(1, Math.ceil((to - from + 1) / limit)), limit));
  const rangeBefore = old.prepare('SELECT MIN(seq) AS min_seq, MAX(seq) AS max_seq FROM samples WHERE host_id = ? AND ts_ms >= ? AND ts_ms <= ?').get(id, T0 + 7000, T0 + 33_000);
  const seqsBefore = (old.prepare('SELECT seq FROM samples WHERE host_id = ? AND ts_ms >= ? AND ts_ms <= ? ORDER BY ts_ms, seq LIMIT 100').all(id, T0 + 12_000, T0 + 31_000) as Array<{ seq: number }>).map((r) => r.seq);
  old.close();

  const store = new SqliteStore(path);
  t.after(() => store.close());
  assert.deepEqual((store.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as Array<{ version: number }>).map((r) => r.version), sqliteMigrations.map((m) => m.version).sort((a, b) => a - b));
  assert.equal((store.db.prepare("SELECT COUNT(*) AS n FROM sqlite_schema WHERE name = 'samples'").get() as { n: number }).n, 0, 'the per-sample rows are gone');
  assert.equal((store.db.prepare('SELECT COUNT(*) AS n FROM sample_figures').get() as { n: number }).n, 12, 'one packed row per batch');

  // Charts, seq ranges and sample lookups answer exactly as before.
  for (const [i, [from, to, limit]] of charts.entries()) {
    const now = (await store.sampleSummaries(id, from, to, limit)).map((s) => ({
      seq: s.seq, ts_ms: s.tsMs, cpu_pct: s.cpuPct, load1: s.load1, mem_used_bytes: s.memUsedBytes, mem_total_bytes: s.memTotalBytes, gpu_util_pct: s.gpuUtilPct,
      gpu_mem_used_bytes: s.gpuMemUsedBytes, power_watts: s.powerWatts, disk_read_bps: s.diskReadBytesPerSec, disk_write_bps: s.diskWriteBytesPerSec,
      net_rx_bps: s.netRxBytesPerSec, net_tx_bps: s.netTxBytesPerSec,
    }));
    assert.deepEqual(now, chartsBefore[i], `chart ${i}`);
  }
  const r = rangeBefore as { min_seq: number; max_seq: number };
  assert.deepEqual(await store.seqRange(id, T0 + 7000, T0 + 33_000), { minSeq: r.min_seq, maxSeq: r.max_seq });
  assert.deepEqual((await store.samples(id, T0 + 12_000, T0 + 31_000, 100)).map((x) => x.seq), seqsBefore);

  // Verdicts read back whole; the JSON is stored deflated.
  assert.deepEqual((await store.verdicts(id, 0, T0 + D, 10)).map((v) => v.verdict), verdicts);
  assert.deepEqual((await store.verdictBefore(id, T0 + 50_000))?.verdict, verdicts[1]);
  assert.deepEqual((await store.verdictClasses(id, 0, T0 + D, 10)).map((v) => v.class), ['ai-training', 'general', 'general']);
  const stored = store.db.prepare('SELECT verdict FROM verdicts LIMIT 1').get() as { verdict: unknown };
  assert.ok(Buffer.isBuffer(stored.verdict) && stored.verdict.length < JSON.stringify(verdicts[0]).length);

  // Signatures: every process still there, keyed as before; blobs know when they were last used.
  const sigs = await store.signatures(id);
  assert.equal(sigs.size, 23);
  assert.deepEqual(store.db.prepare('SELECT DISTINCT first_seen_day AS d FROM process_signatures').all(), [{ d: 20_775 }], 'rows keep their first day (migration 13)');
  assert.equal(sigs.get('5003:9003')!.cmdline, 'curl http://example');
  assert.equal((await store.signaturesOf(id, ['3001:123456789'])).get('3001:123456789')!.cmdline, 'python3 train.py');
  const lastUsed = (b: Buffer): number => (store.db.prepare('SELECT last_used_ms FROM signature_blobs WHERE digest = ?').get(sha256(b)) as { last_used_ms: number }).last_used_ms;
  assert.equal(lastUsed(curl), T0 + 19_000);
  assert.equal(lastUsed(sleep), T0 + 18_000);

  // Retention with the raw window ending after every first sighting: the jobs and the python
  // processes gone go, the one running in the newest sample stays (with its blob), and the two
  // blobs no row uses any more go.
  const opts = retentionOptions({ rawMs: D, stepRows: 7 });
  let steps = 0;
  let signatureRows = 0;
  let blobs = 0;
  for (let done = false; !done && steps < 1000; steps++) {
    const res = await store.retentionStep(opts, T0 + D + 30_000);
    assert.ok(Object.values(res.deleted).reduce((a, b) => a + b, 0) <= 7, 'bounded steps');
    signatureRows += res.deleted.process_signatures;
    blobs += res.deleted.signature_blobs;
    done = res.done;
  }
  assert.equal(signatureRows, 22);
  assert.equal(blobs, 2);
  assert.deepEqual([...(await store.signatures(id)).keys()].sort(), ['3000:123456789']);
  assert.deepEqual((store.db.prepare('SELECT digest FROM signature_blobs').all() as Array<{ digest: Buffer }>).map((x) => x.digest), [sha256(running)]);
  // A new process using a collected content stores it again.
  const s = sampleAt(61, T0 + D + 40_000);
  s.processes = [{ ...s.processes![0]!, pid: 7000, startTimeTicks: 1, signature: assay.v1.ProcessSignature.decode(curl) }];
  const sealed = sealBatch({ agentId: id, seqs: [61], samples: [encodeSample(s)], prevHash: head, sealedMs: T0 + D + 40_000, encoding: BatchEncoding.BATCH_ENCODING_DEFLATE }, (h) => signBytes(keys, h));
  const res = await store.appendBatch(id, { hash: sealed.hash, prevHash: head, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples: [{ seq: 61, sample: s }], gaps: [] }, T0 + D + 40_100);
  assert.equal(res.status, 'stored');
  assert.equal((await store.signaturesOf(id, ['7000:1'])).get('7000:1')!.cmdline, 'curl http://example');
});
