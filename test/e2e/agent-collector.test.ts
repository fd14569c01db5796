// End to end on 127.0.0.1: a collector process, an agent process sampling this machine, the
// samples in the SQLite file, the host and its verdict through the API.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { storedSeqs } from '../../collector/store/sample-figures.js';
import { assay } from '../../proto/codec.js';
import { decodePayload, payloadChained } from '../../proto/payload.js';
import { priorOfSync, type ChainBatch } from '../../collector/store/chain.js';
import { CLASSES } from '../../collector/engine/types.js';
import { freePort, tempDir, waitFor } from '../helpers/env.js';
import { runAssay, spawnAssay } from '../helpers/proc.js';

test('agent process → protobuf/WebSocket → collector process → SQLite → verdict via the API', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const port = await freePort();
  const dbPath = join(tmp.dir, 'assay.db');
  const collector = spawnAssay(['collector', '--port', String(port), '--db', dbPath]);
  t.after(() => collector.stop());
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(base + '/healthz')).ok, 20_000, 'collector up');

  // The collector created its enrollment secret beside the database on first start.
  const agent = spawnAssay([
    'agent',
    ...['--collector', `ws://127.0.0.1:${port}/ingest`, '--interval', '500ms', '--batch-interval', '1'],
    ...['--state-dir', join(tmp.dir, 'agent'), '--enroll-secret-file', join(tmp.dir, 'enroll-secret')],
  ]);
  t.after(() => agent.stop());

  const host = await waitFor(
    async () => {
      const r = (await (await fetch(base + '/api/hosts')).json()) as { hosts: Array<{ id: string; class: string | null; confidence: number | null }> };
      return r.hosts.find((h) => h.class !== null);
    },
    30_000,
    'a classified host',
  );
  assert.ok((CLASSES as readonly string[]).includes(host.class!), `class ${host.class} is one of the eight`);
  assert.ok(host.confidence! >= 0 && host.confidence! <= 1);

  const detail = (await (await fetch(`${base}/api/hosts/${host.id}`)).json()) as {
    inventory: { cpuLogicalCores: number; memoryTotalBytes: number };
    verdict: { class: string; evidence: Array<{ signal: string; supports: string }>; scores: Record<string, number> };
  };
  assert.ok(detail.inventory.cpuLogicalCores >= 1, 'inventory reported cores');
  assert.ok(detail.inventory.memoryTotalBytes > 0, 'inventory reported memory');
  assert.equal(detail.verdict.class, host.class);
  assert.ok(detail.verdict.evidence.length > 0, 'verdict carries evidence');

  await waitFor(
    async () => ((await (await fetch(`${base}/api/hosts/${host.id}/samples`)).json()) as { samples: unknown[] }).samples.length >= 4,
    20_000,
    'four samples stored',
  );
  assert.equal(await agent.stop('SIGTERM'), 0, `agent exits cleanly on SIGTERM:\n${agent.output()}`);
  const db = new Database(dbPath, { readonly: true });
  t.after(() => db.close());
  const rows = storedSeqs(db, host.id).map((seq) => ({ seq }));
  assert.ok(rows.length >= 4, `at least 4 samples stored, got ${rows.length}`);
  assert.deepEqual(
    rows.map((r) => r.seq),
    rows.map((_, i) => rows[0]!.seq + i),
    'sequence numbers are contiguous: nothing lost or duplicated',
  );
  // The agent's batches are schema-3 payloads (chained value-coded columnar, encoding 5); the last sample decoded from the newest one, with its prior read back by prev_hash.
  const newest = db.prepare('SELECT header, encoding, payload FROM batches WHERE host_id = ? AND samples > 0 ORDER BY last_seq DESC LIMIT 1').get(host.id) as { header: Buffer; encoding: number; payload: Buffer };
  assert.equal(newest.encoding, assay.v1.BatchEncoding.BATCH_ENCODING_CHAINED_VALUES);
  const newestHeader = assay.v1.BatchHeader.decode(newest.header);
  assert.equal(newestHeader.seqs!.at(-1), rows.at(-1)!.seq);
  const byHash = db.prepare('SELECT header, encoding, payload FROM batches WHERE host_id = ? AND hash = ?');
  const prior = payloadChained(newest.encoding, newest.payload) ? priorOfSync(newestHeader.prevHash!, (h) => byHash.get(host.id, h) as ChainBatch | undefined) : null;
  const last = decodePayload(newest.encoding, newest.payload, 64 << 20, undefined, Infinity, prior).at(-1)!;
  assert.ok((last.cpu?.perCorePct ?? []).length >= 1, 'real per-core CPU readings');
  assert.ok((last.memory?.totalBytes ?? 0) > 0, 'real memory readings');
  assert.ok((last.processes ?? []).length > 0, 'real process signatures');
  const sigs = db.prepare('SELECT COUNT(*) AS n FROM process_signatures p JOIN rollup_hosts k ON k.host_key = p.host_key WHERE k.host_id = ?').get(host.id) as { n: number };
  assert.ok(sigs.n > 0, 'process signatures stored');
  const verdicts = db.prepare('SELECT COUNT(*) AS n FROM verdicts WHERE host_id = ?').get(host.id) as { n: number };
  assert.ok(verdicts.n >= 1, 'verdict history stored');
  assert.equal(await collector.stop('SIGTERM'), 0, `collector exits cleanly:\n${collector.output()}`);
});

test('CLI help explains every flag, and bad flags, config and rules stop startup with a clear message', async (t) => {
  const help = await runAssay(['--help']);
  assert.equal(help.code, 0);
  for (const cmd of ['collector', 'agent', 'start', 'rules']) assert.match(help.stdout, new RegExp(`\\b${cmd}\\b`));
  const ch = await runAssay(['collector', '--help']);
  for (const flag of ['--port', '--host', '--db', '--rules', '--max-frame-bytes', '--config']) assert.ok(ch.stdout.includes(flag), `collector --help lists ${flag}`);
  const ah = await runAssay(['agent', '--help']);
  for (const flag of ['--collector', '--interval', '--state-dir', '--batch-interval', '--proc-root']) assert.ok(ah.stdout.includes(flag), `agent --help lists ${flag}`);

  const badPort = await runAssay(['collector', '--port', '99999']);
  assert.equal(badPort.code, 1);
  assert.match(badPort.stderr, /port must be an integer/);
  const badUrl = await runAssay(['agent', '--collector', 'http://x']);
  assert.notEqual(badUrl.code, 0);
  assert.match(badUrl.stderr, /ws:\/\/ or wss:\/\//);

  const tmp = tempDir();
  t.after(tmp.cleanup);
  const { writeFileSync } = await import('node:fs');
  const cfg = join(tmp.dir, 'bad.yaml');
  writeFileSync(cfg, 'prot: 7300\n');
  const badCfg = await runAssay(['collector', '--config', cfg, '--db', join(tmp.dir, 'a.db')]);
  assert.equal(badCfg.code, 1);
  assert.match(badCfg.stderr, /unknown option "prot"/);
  const rules = join(tmp.dir, 'rules.yaml');
  writeFileSync(rules, 'version: 1\nthis is: [not closed\n');
  const badRules = await runAssay(['collector', '--rules', rules, '--port', '0', '--db', join(tmp.dir, 'b.db')]);
  assert.equal(badRules.code, 1);
  assert.match(badRules.stderr, /rules\.yaml/);
});

test('`assay start` (what npm start runs) serves the dashboard and classifies this machine', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const app = spawnAssay(['start', '--port', '0', '--db', join(tmp.dir, 'assay.db'), '--state-dir', join(tmp.dir, 'agent')]);
  t.after(() => app.stop());
  const base = await waitFor(() => /dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(app.output())?.[1], 20_000, 'the printed dashboard URL');
  const page = await fetch(base + '/');
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<html/i);
  await waitFor(
    async () => ((await (await fetch(base + '/api/hosts')).json()) as { hosts: Array<{ class: string | null }> }).hosts.some((h) => h.class !== null),
    30_000,
    'the local agent classified',
  );
  assert.equal(await app.stop('SIGTERM'), 0, app.output());
});
