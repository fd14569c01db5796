// The fleet API on a real collector over a generated fleet in a real SQLite file: paging,
// sorting, class/state filters, search (with LIKE's wildcards taken literally), the class-change
// feed's order and filters, clear errors for bad queries, and migration 7 deriving class changes
// from verdicts stored before it.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCollector } from '../../collector/server.js';
import { applyMigration, sqliteMigrations } from '../../collector/store/migrations.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { defaultFleetSpec, generateFleet, verdictOf, type GeneratedHost } from '../helpers/fleet.js';
import { tempDir } from '../helpers/env.js';

interface Page {
  total: number;
  hosts: Array<{ id: string; hostname: string; class: string | null; state: string; online: boolean; ageMs: number; nonAi: boolean }>;
  counts: { total: number; online: number; offline: number; classes: Record<string, number>; nonAi: number };
}
interface Changes {
  total: number;
  changes: Array<{ hostId: string; hostname: string; tsMs: number; fromClass: string | null; toClass: string; nonAi: boolean; fromNonAi: boolean }>;
}

describe('fleet API', () => {
  const tmp = tempDir('assay-fleet-api-');
  let fleet: GeneratedHost[];
  let c: Awaited<ReturnType<typeof startCollector>>;
  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(c.url + path);
    return { status: res.status, body: (await res.json()) as T };
  };

  before(async () => {
    fleet = await generateFleet(join(tmp.dir, 'assay.db'), { ...defaultFleetSpec(Date.now()), hosts: 300 });
    c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: 'fleet-api-enroll-secret', onlineWithinMs: 3600_000 });
  });
  after(async () => {
    await c?.close();
    tmp.cleanup();
  });

  it('pages through every host exactly once in the order asked for', async () => {
    const ids: string[] = [];
    for (let offset = 0; offset < 300; offset += 70) {
      const { status, body } = await get<Page>(`/api/fleet?sort=hostname&limit=70&offset=${offset}`);
      assert.equal(status, 200);
      assert.equal(body.total, 300);
      ids.push(...body.hosts.map((h) => h.id));
    }
    const byName = [...fleet].sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.id < b.id ? -1 : 1));
    assert.deepEqual(ids, byName.map((h) => h.id));
    const desc = await get<Page>('/api/fleet?sort=lastSeen&order=desc&limit=200');
    const seen = desc.body.hosts.map((h) => h.ageMs);
    assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'newest data first');
    const def = await get<Page>('/api/fleet');
    assert.equal(def.body.hosts.length, 50, 'a page of 50 by default');
  });

  it('filters by class and state, counts offline hosts apart, searches literally', async () => {
    const online = fleet.filter((h) => h.online);
    const { body } = await get<Page>('/api/fleet?class=storage-proving,pending&state=online&limit=200');
    const want = online.filter((h) => h.class === 'storage-proving' || h.class === null);
    assert.equal(body.total, want.length);
    assert.deepEqual(body.hosts.map((h) => h.id).sort(), want.map((h) => h.id).sort());
    assert.ok(body.hosts.every((h) => h.state === 'online' && h.online));
    assert.equal(body.counts.offline, fleet.length - online.length);
    assert.equal(body.counts.classes['storage-proving'], online.filter((h) => h.class === 'storage-proving').length, 'offline hosts do not count in their class');
    assert.equal(body.counts.nonAi, online.filter((h) => ['pow-mining', 'chain-validation', 'storage-proving', 'mixed'].includes(h.class ?? '')).length);
    const off = await get<Page>('/api/fleet?state=offline&limit=200');
    assert.equal(off.body.total, fleet.length - online.length);
    assert.ok(off.body.hosts.every((h) => h.state === 'offline' && h.ageMs >= 2 * 3600_000));
    const q = await get<Page>('/api/fleet?q=IAD3-01&limit=200');
    assert.deepEqual(q.body.hosts.map((h) => h.id).sort(), fleet.filter((h) => h.hostname.includes('iad3-01')).map((h) => h.id).sort());
    for (const wild of ['%', '_', '\\']) assert.equal((await get<Page>(`/api/fleet?q=${encodeURIComponent(wild)}`)).body.total, 0, `${wild} is taken literally`);
    assert.equal((await get<Page>(`/api/fleet?q=${encodeURIComponent(fleet[7]!.id)}`)).body.hosts[0]?.id, fleet[7]!.id, 'search by id');
  });

  it('serves the class-change feed non-AI first, filtered by class and host', async () => {
    const all = await get<Changes>('/api/class-changes?limit=200');
    const classified = fleet.filter((h) => h.class !== null);
    // Every classified host's first verdict, plus one earlier class for every 5th host.
    assert.equal(all.body.total, classified.length + fleet.filter((h, n) => h.class !== null && n % 5 === 0).length);
    const flags = all.body.changes.map((x) => x.nonAi || x.fromNonAi);
    assert.ok(flags.indexOf(false) === -1 || flags.lastIndexOf(true) < flags.indexOf(false), 'non-AI changes come first');
    const byTime = await get<Changes>('/api/class-changes?order=time&limit=200');
    const ts = byTime.body.changes.map((x) => x.tsMs);
    assert.deepEqual(ts, [...ts].sort((a, b) => b - a));
    const pow = await get<Changes>('/api/class-changes?class=pow-mining&q=sfo1&limit=200');
    assert.ok(pow.body.total > 0);
    assert.ok(pow.body.changes.every((x) => (x.toClass === 'pow-mining' || x.fromClass === 'pow-mining') && x.hostname.includes('sfo1')));
  });

  it('refuses bad queries with a clear error', async () => {
    for (const [path, msg] of [
      ['/api/fleet?sort=cpu', /sort must be one of hostname, class, lastSeen, confidence, state/],
      ['/api/fleet?limit=0', /limit must be an integer from 1 to 200/],
      ['/api/fleet?limit=201', /limit must be an integer from 1 to 200/],
      ['/api/fleet?offset=-1', /offset must be an integer/],
      ['/api/fleet?class=bitcoin', /unknown class "bitcoin"/],
      ['/api/fleet?state=stale', /state must be online or offline/],
      ['/api/fleet?order=up', /order must be asc or desc/],
      [`/api/fleet?q=${'x'.repeat(201)}`, /q must be at most 200 characters/],
      ['/api/class-changes?order=random', /order must be nonAiFirst or time/],
    ] as const) {
      const { status, body } = await get<{ error: string }>(path);
      assert.equal(status, 400, path);
      assert.match(body.error, msg, path);
    }
  });
});

describe('migration 7', () => {
  it('derives class changes and the non-AI flag from verdicts stored before it', async () => {
    const tmp = tempDir('assay-mig7-');
    try {
      const path = join(tmp.dir, 'old.db');
      const db = new Database(path);
      db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)');
      for (const m of sqliteMigrations.filter((x) => x.version < 7)) {
        applyMigration(db, m);
        db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 0);
      }
      db.prepare("INSERT INTO hosts (id, hostname, agent_version, first_seen_ms, last_seen_ms, verdict_class, verdict_confidence) VALUES ('h', 'h', 'v', 0, 0, 'mixed', 0.6)").run();
      const put = db.prepare('INSERT INTO verdicts (host_id, ts_ms, class, confidence, verdict) VALUES (?, ?, ?, ?, ?)');
      for (const [ts, cls] of [[1000, 'ai-training'], [2000, 'ai-training'], [3000, 'pow-mining'], [4000, 'pow-mining'], [5000, 'mixed']] as const) put.run('h', ts, cls, 0.6, JSON.stringify(verdictOf(cls, ts, 0.6)));
      db.close();
      const store = new SqliteStore(path);
      try {
        const r = await store.classChanges({ order: 'time', limit: 10, offset: 0 });
        assert.deepEqual(
          r.changes.map((x) => [x.tsMs, x.fromClass, x.toClass, x.nonAi, x.fromNonAi]),
          [
            [5000, 'pow-mining', 'mixed', true, true], // mixed with a pow-mining part is non-AI work
            [3000, 'ai-training', 'pow-mining', true, false],
            [1000, null, 'ai-training', false, false],
          ],
        );
        assert.equal((await store.getHost('h'))?.verdictNonAi, true);
      } finally {
        await store.close();
      }
    } finally {
      tmp.cleanup();
    }
  });
});
