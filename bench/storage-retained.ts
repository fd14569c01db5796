// Bytes per host-day kept after raw retention. Simulates one host-day at 1 Hz through the real
// store (real signed 5-sample batches, real roll-up maintenance, the real classifier storing its
// verdicts with evidence), from a recorded trace (test/corpus/*.trace.ndjson) replayed with new
// timestamps (the classifier evaluates once a minute here, see below); then runs retention with the clock 36 days later (raw window 35 d) and measures what
// stays, per table (SQLite's dbstat: pages each table and its indexes use), before and after.
// Not a test: prints figures.
//   npm run build && node dist/bench/storage-retained.js [--hours 24] [--trace test/corpus/<name>.trace.ndjson]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sealBatch } from '../agent/batch.js';
import { Classifier, defaultClassifierOptions } from '../collector/classifier.js';
import { defaultRulesPath, loadRulesFile } from '../collector/engine/index.js';
import { noneDeleted, retentionOptions, type Deleted } from '../collector/store/retention.js';
import { SqliteStore } from '../collector/store/sqlite.js';
import { generateAgentKeys, signBytes } from '../proto/chain.js';
import { encodeSample, type ISample } from '../proto/codec.js';
import { readTrace } from '../proto/trace.js';

const { values } = parseArgs({
  options: {
    hours: { type: 'string', default: '24' },
    trace: { type: 'string', default: 'test/corpus/ai-training-pytorch-cpu.trace.ndjson' },
  },
});
const hours = Math.min(Math.max(Number(values.hours), 0.1), 48);
const D = 86_400_000;
const BATCH = 5;

const { header, samples: traced } = await readTrace(values.trace!);
if (traced.length === 0) throw new Error(`${values.trace}: no samples`);
const dir = mkdtempSync(join(tmpdir(), 'assay-retained-'));
const dbPath = join(dir, 'assay.db');
const store = new SqliteStore(dbPath);

/** Bytes of the pages each table uses, its indexes included (dbstat), largest first. */
function tableBytes(): Array<{ table: string; bytes: number; rows: number | null }> {
  const owner = new Map((store.db.prepare("SELECT name, tbl_name FROM sqlite_schema WHERE type IN ('table', 'index')").all() as Array<{ name: string; tbl_name: string }>).map((r) => [r.name, r.tbl_name]));
  const by = new Map<string, number>();
  for (const r of store.db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all() as Array<{ name: string; bytes: number }>) {
    const t = owner.get(r.name) ?? r.name;
    by.set(t, (by.get(t) ?? 0) + r.bytes);
  }
  return [...by.entries()]
    .map(([table, bytes]) => {
      let rows: number | null = null;
      try {
        if (!table.startsWith('sqlite_')) rows = (store.db.prepare(`SELECT COUNT(*) AS n FROM "${table}"`).get() as { n: number }).n;
      } catch {
        rows = null;
      }
      return { table, bytes, rows };
    })
    .sort((a, b) => b.bytes - a.bytes);
}

const fmt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${(n / 1e3).toFixed(1)} kB`);
/**
 * Prints the tables; returns bytes per host-day. A run shorter than a day scales only what it
 * added to an empty database (every table starts at one page), so short runs are not inflated.
 */
function print(title: string, t: ReturnType<typeof tableBytes>, perDay: number, emptyBytes: number): number {
  const total = t.reduce((a, r) => a + r.bytes, 0);
  const day = emptyBytes + (total - emptyBytes) * perDay;
  console.log(`\n${title}`);
  for (const r of t) if (r.bytes > 0) console.log(`  ${r.table.padEnd(26)} ${fmt(r.bytes).padStart(10)}  ${String(r.rows ?? '').padStart(8)} rows`);
  console.log(`  ${'total'.padEnd(26)} ${fmt(total).padStart(10)}   = ${fmt(day)} per host-day${perDay === 1 ? '' : ` (empty database ${fmt(emptyBytes)} + the rest x ${perDay.toFixed(1)})`}`);
  return day;
}

try {
  store.db.pragma('synchronous = OFF'); // the bench measures bytes, not fsyncs
  const emptyBytes = tableBytes().reduce((a, r) => a + r.bytes, 0);
  const keys = generateAgentKeys();
  const agentId = 'bench-host';
  const start = Math.floor((Date.now() - 2 * D) / 3_600_000) * 3_600_000;
  await store.upsertHost({ agentId, hostname: header.hostname ?? 'bench', agentVersion: '0.1.0', publicKey: keys.publicKey, inventory: header.inventory ?? null }, start);
  // Verdicts are stored on every class change and at least once a minute (persistEveryMs); the
  // bench evaluates once a minute instead of every 5 s to fit a day into minutes on 2 cores, so it
  // stores as many refreshes and somewhat fewer short-lived class changes than a live collector.
  const classifier = new Classifier(store, () => rules, { ...defaultClassifierOptions, everyMs: 60_000 });
  const rules = loadRulesFile(defaultRulesPath);
  const n = Math.round(hours * 3600);
  let head: Uint8Array = new Uint8Array();
  const t0 = Date.now();
  for (let i = 0; i < n; i += BATCH) {
    const batch: Array<{ seq: number; sample: ISample; bytes: Uint8Array }> = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) {
      const sample: ISample = { ...traced[j % traced.length]!, tsMs: start + j * 1000 };
      batch.push({ seq: j + 1, sample, bytes: encodeSample(sample) });
    }
    const last = batch.at(-1)!.sample.tsMs!;
    const sealed = sealBatch({ agentId, seqs: batch.map((b) => b.seq), samples: batch.map((b) => b.bytes), prevHash: head, sealedMs: last }, (h) => signBytes(keys, h));
    const res = await store.appendBatch(agentId, { hash: sealed.hash, prevHash: head, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples: batch, gaps: [] }, last + 300);
    if (res.status !== 'stored') throw new Error(`batch ${i / BATCH}: ${res.status}`);
    head = sealed.hash;
    await classifier.add(agentId, batch.map((b) => b.sample));
  }
  const fillMs = Date.now() - t0;
  const perDay = 24 / hours;
  console.log(`storage-retained: ${n} samples (${hours} h at 1 Hz) from ${values.trace} (${traced.length} recorded samples, replayed), ${Math.ceil(n / BATCH)} signed batches; filled in ${(fillMs / 1000).toFixed(1)} s`);
  const before = print('before retention (raw window):', tableBytes(), perDay, emptyBytes);

  const opts = retentionOptions();
  const now = start + n * 1000 + 36 * D;
  const total: Deleted = noneDeleted();
  let steps = 0;
  const r0 = Date.now();
  for (let done = false; !done && steps < 1_000_000; steps++) {
    const r = await store.retentionStep(opts, now);
    for (const k of Object.keys(total) as Array<keyof Deleted>) total[k] += r.deleted[k];
    done = r.done;
  }
  console.log(`\nretention at +36 d (raw ${opts.rawMs / D} d, roll-ups ${opts.rollupMs / D} d, ${opts.verdictsPerHour} verdict refreshes/h kept): ${steps} steps of <= ${opts.stepRows} rows in ${Date.now() - r0} ms; deleted ${JSON.stringify(total)}`);
  store.db.exec('VACUUM');
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  const after = print('after retention (what is kept for up to 400 days):', tableBytes(), perDay, emptyBytes);
  console.log(`\nfile after VACUUM: ${fmt(statSync(dbPath).size)} (includes the schema and empty tables)`);
  console.log(`RESULT bytes per host-day: raw ${fmt(before)}, after raw retention ${fmt(after)} (target <= 2 MB: ${after <= 2e6 ? 'met' : 'NOT met'})`);
  if (hours < 24) console.log('note: a run shorter than 24 h overstates: process signatures (per process, not per day) and part-filled pages are scaled up with the rest; the figure is the default 24 h run');
  console.log(`loadavg ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
