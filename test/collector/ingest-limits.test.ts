// Enrollment floods and the security-event log: failed enrollments are throttled per address
// before any crypto, every attempt is counted into a few aggregated rows (not one synced row
// each), rows are bounded in age and number, and enrolled agents keep streaming throughout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CloseCode, encodeAgentMessage } from '../../proto/codec.js';
import { startCollector } from '../../collector/server.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { tempDir } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { RawAgent } from '../helpers/rawagent.js';

const SECRET = 'limits-test-enroll-secret-01234';

test('300 wrong-secret enrollments: throttled per address, a bounded number of rows with the right total, enrolled agents unaffected', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const dbPath = join(tmp.dir, 'assay.db');
  const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath, enrollSecret: SECRET, limits: { maxPreAuthPerAddress: 400 } });
  t.after(() => c.close());
  const url = c.url.replace('http', 'ws') + '/ingest';
  const good = await RawAgent.connect(url);
  await good.hello(fullHello('legit-flood'), SECRET);
  let seq = 1;
  const codes = new Map<number, number>();
  const t0 = Date.now();
  for (let i = 0; i < 300 && Date.now() - t0 < 60_000; i++) {
    const a = await RawAgent.connect(url);
    a.send(encodeAgentMessage({ hello: a.signedHello(fullHello(`intruder-${i}`), 'a-wrong-secret-a-wrong-secret') }));
    const closed = await a.closed;
    codes.set(closed.code, (codes.get(closed.code) ?? 0) + 1);
    // The enrolled agent keeps streaming during the flood.
    if (i % 50 === 0) {
      assert.equal((await good.batch(seq, [fullSample(Date.now() - 1000)])).lastSeq, seq);
      seq++;
    }
  }
  assert.equal([...codes.values()].reduce((x, y) => x + y, 0), 300, 'all 300 attempts finished in time');
  assert.equal(codes.get(CloseCode.forbidden), 10, 'the burst of 10 failures was checked in full');
  assert.equal(codes.get(CloseCode.rateLimited), 290, 'the rest refused before any signature or proof check');
  // A second enrolled agent from the same address can still reconnect (throttling is for enrollment).
  const again = await RawAgent.connect(url);
  again.keys = good.keys;
  assert.equal((await again.hello(fullHello('legit-flood'))).lastSeq, seq - 1);
  again.close();
  good.close();

  const events = (await c.store.securityEvents(1000)).filter((e) => e.subject === '127.0.0.1');
  assert.ok(events.length <= 4, `aggregated: ${events.length} rows for 300 attempts (minute windows of 2 reasons)`);
  const total = (reason: string): number => events.filter((e) => e.reason === reason).reduce((n, e) => n + e.count, 0);
  assert.equal(total('unknown_agent'), 10);
  assert.equal(total('enroll_throttled'), 290);
  assert.ok(events.every((e) => e.firstMs <= e.lastMs && e.lastMs >= t0));
  await c.close();
  const db = new Database(dbPath, { readonly: true });
  t.after(() => db.close());
  const rows = db.prepare('SELECT COUNT(*) AS n, SUM(count) AS total FROM security_event_windows').get() as { n: number; total: number };
  assert.ok(rows.n <= 4, `${rows.n} rows on disk`);
  assert.equal(rows.total, 300, 'every attempt counted on disk');
});

test('security events: per-window counts, retention by age and by number of rows', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const store = new SqliteStore(join(tmp.dir, 'assay.db'), { securityEvents: { windowMs: 60_000, retentionMs: 3_600_000, maxRows: 5, flushMs: 50, maxPending: 1000 } });
  t.after(() => store.close());
  const base = 29_916_667 * 60_000; // the start of a minute window
  for (let i = 0; i < 50; i++) await store.recordSecurityEvent({ tsMs: base + i * 1000, hostId: null, peer: `10.0.0.1:${40000 + i}`, reason: 'unknown_agent', detail: `try ${i}` });
  let rows = await store.securityEvents(100);
  assert.deepEqual(rows.map((r) => [r.subject, r.count]), [['10.0.0.1', 50]], 'one address, one window, counted');
  assert.equal(rows[0]!.firstMs, base);
  assert.equal(rows[0]!.lastMs, base + 49_000);
  assert.equal(rows[0]!.detail, 'try 49');
  // Ten addresses later on: only the 5 most recently seen rows are kept.
  for (let i = 0; i < 10; i++) await store.recordSecurityEvent({ tsMs: base + 120_000 + i, hostId: null, peer: `10.0.1.${i}:1`, reason: 'unknown_agent', detail: 'x' });
  rows = await store.securityEvents(100);
  assert.equal(rows.length, 5);
  assert.deepEqual(rows.map((r) => r.subject).sort(), ['10.0.1.5', '10.0.1.6', '10.0.1.7', '10.0.1.8', '10.0.1.9']);
  // Two hours later everything older than the retention is gone; the timer flushes by itself.
  await store.recordSecurityEvent({ tsMs: base + 7_200_000, hostId: 'h1', peer: '[::1]:5', reason: 'chain_break', detail: 'y' });
  await new Promise((r) => setTimeout(r, 200));
  const db = new Database(join(tmp.dir, 'assay.db'), { readonly: true });
  t.after(() => db.close());
  assert.deepEqual(db.prepare('SELECT reason, subject, count FROM security_event_windows').all(), [{ reason: 'chain_break', subject: 'h1', count: 1 }]);
});

test('migration 3 folds per-attempt security events into aggregated rows', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const path = join(tmp.dir, 'assay.db');
  // A database as version 2 left it, with 3 attempts by one agent in one minute and one in the next.
  const { sqliteMigrations } = await import('../../collector/store/migrations.js');
  const old = new Database(path);
  old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)');
  for (const m of sqliteMigrations.filter((x) => x.version <= 2)) {
    old.exec(m.sql);
    old.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
  }
  const ins = old.prepare('INSERT INTO security_events (ts_ms, host_id, peer, reason, detail) VALUES (?, ?, ?, ?, ?)');
  for (const ts of [60_000, 61_000, 119_000, 120_000]) ins.run(ts, 'h1', '10.0.0.2:9', 'bad_signature', `at ${ts}`);
  old.close();
  const store = new SqliteStore(path);
  t.after(() => store.close());
  const rows = await store.securityEvents(10);
  assert.deepEqual(rows.map((r) => [r.reason, r.subject, r.windowStartMs, r.count, r.firstMs, r.lastMs]), [
    ['bad_signature', 'h1', 120_000, 1, 120_000, 120_000],
    ['bad_signature', 'h1', 60_000, 3, 60_000, 119_000],
  ]);
});
