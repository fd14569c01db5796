// Private files: the collector's data folder 0700, the database and its -wal/-shm, keys,
// tokens and secrets 0600 (they hold every host's command lines and the keys to the fleet);
// the agent's spool likewise. Plus the enrollment secret's rotation and the enrollment cap,
// with real agents.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startAgent } from '../../agent/agent.js';
import { Spool } from '../../agent/spool.js';
import { rotateSecret } from '../../collector/secret.js';
import { startCollector } from '../../collector/server.js';
import { tempDir, waitFor } from '../helpers/env.js';

const mode = (path: string): number => statSync(path).mode & 0o777;
const octal = (m: number): string => '0' + m.toString(8);

describe('file modes', () => {
  it('collector: data folder 0700; database, -wal, -shm, keys, tokens and secrets 0600', async () => {
    const tmp = tempDir();
    const prev = process.umask(0o022); // the common default, which would make files 0644
    try {
      const dir = join(tmp.dir, 'data');
      const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(dir, 'assay.db'), tls: { selfSigned: true }, requireTokens: true });
      try {
        await c.store.upsertHost({ agentId: 'a1', hostname: 'h', publicKey: new Uint8Array(32).fill(2) }, Date.now());
        assert.equal(octal(mode(dir)), '0700', 'data folder');
        const files = ['assay.db', 'assay.db-wal', 'assay.db-shm', 'enroll-secret', 'viewer-token', 'admin-token', 'tls-key.pem'];
        for (const f of files) {
          assert.ok(existsSync(join(dir, f)), `${f} exists`);
          assert.equal(octal(mode(join(dir, f))), '0600', f);
        }
      } finally {
        await c.close();
      }
    } finally {
      process.umask(prev);
      tmp.cleanup();
    }
  });

  it('an existing world-readable database and secret are made private; an existing folder is left as it is', async () => {
    const tmp = tempDir();
    const prev = process.umask(0o022);
    try {
      const dir = join(tmp.dir, 'existing');
      mkdirSync(dir, { mode: 0o755 });
      const first = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(dir, 'assay.db') });
      await first.close();
      chmodSync(join(dir, 'assay.db'), 0o644);
      chmodSync(join(dir, 'enroll-secret'), 0o644);
      const again = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(dir, 'assay.db') });
      await again.close();
      assert.equal(octal(mode(join(dir, 'assay.db'))), '0600');
      assert.equal(octal(mode(join(dir, 'enroll-secret'))), '0600');
      assert.equal(octal(mode(dir)), '0755', 'a folder the user made is not changed');
    } finally {
      process.umask(prev);
      tmp.cleanup();
    }
  });

  it('agent: state folder 0700, spool.db and its -wal/-shm 0600', async () => {
    const tmp = tempDir();
    const prev = process.umask(0o022);
    try {
      const dir = join(tmp.dir, 'agent');
      const spool = new Spool(dir);
      try {
        assert.equal(octal(mode(dir)), '0700');
        for (const f of ['spool.db', 'spool.db-wal', 'spool.db-shm']) {
          if (f !== 'spool.db' && !existsSync(join(dir, f))) continue;
          assert.equal(octal(mode(join(dir, f))), '0600', f);
        }
        assert.ok(existsSync(join(dir, 'spool.db-wal')), 'WAL file present (and checked above)');
      } finally {
        spool.close();
      }
    } finally {
      process.umask(prev);
      tmp.cleanup();
    }
  });
});

describe('enrollment', () => {
  const agentAt = (url: string, dir: string, secret: string) => startAgent({ collectorUrl: url, intervalMs: 200, batchIntervalMs: 200, stateDir: dir, enrollSecret: secret });

  it('a rotated secret applies to a running collector: the old one enrolls nobody, the new one does, enrolled agents stay', async () => {
    const tmp = tempDir();
    const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db') });
    const agents: Array<{ stop(): Promise<void> }> = [];
    try {
      const url = c.url.replace('http', 'ws') + '/ingest';
      const file = join(tmp.dir, 'enroll-secret');
      const oldSecret = readFileSync(file, 'utf8').trim();
      const first = await agentAt(url, join(tmp.dir, 'a1'), oldSecret);
      agents.push(first);
      await waitFor(() => first.link.ackedSeq >= 1, 15_000, 'first agent enrolled with the old secret');
      rotateSecret(file);
      const newSecret = readFileSync(file, 'utf8').trim();
      assert.notEqual(newSecret, oldSecret);
      // The collector polls the file every 2 s.
      await new Promise((r) => setTimeout(r, 4500));
      const late = await agentAt(url, join(tmp.dir, 'a2'), oldSecret);
      agents.push(late);
      const fresh = await agentAt(url, join(tmp.dir, 'a3'), newSecret);
      agents.push(fresh);
      await waitFor(() => fresh.link.ackedSeq >= 1, 15_000, 'agent with the new secret enrolled');
      const before = first.link.ackedSeq;
      await waitFor(() => first.link.ackedSeq > before, 10_000, 'the enrolled agent keeps streaming');
      const events = await c.store.securityEvents(100);
      assert.ok(events.some((e) => e.reason === 'unknown_agent' && e.hostId === null), 'the old secret was refused');
      assert.equal(late.link.ackedSeq, 0);
      assert.deepEqual((await c.store.listHosts()).map((h) => h.id).sort(), [first.agentId, fresh.agentId].sort());
    } finally {
      for (const a of agents) await a.stop();
      await c.close();
      tmp.cleanup();
    }
  });

  it('--max-enrollments: once the cap is reached new agents are refused, enrolled ones keep streaming', async () => {
    const tmp = tempDir();
    const secret = 'cap-test-enroll-secret';
    const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: secret, maxEnrollments: 1 });
    const agents: Array<{ stop(): Promise<void> }> = [];
    try {
      const url = c.url.replace('http', 'ws') + '/ingest';
      const first = await agentAt(url, join(tmp.dir, 'a1'), secret);
      agents.push(first);
      await waitFor(() => first.link.ackedSeq >= 1, 15_000, 'first agent enrolled');
      const second = await agentAt(url, join(tmp.dir, 'a2'), secret);
      agents.push(second);
      await waitFor(async () => (await c.store.securityEvents(100)).some((e) => e.reason === 'unknown_agent'), 10_000, 'the second agent refused');
      const before = first.link.ackedSeq;
      await waitFor(() => first.link.ackedSeq > before, 10_000, 'the enrolled agent keeps streaming');
      assert.equal(second.link.ackedSeq, 0);
      assert.deepEqual((await c.store.listHosts()).map((h) => h.id), [first.agentId]);
    } finally {
      for (const a of agents) await a.stop();
      await c.close();
      tmp.cleanup();
    }
  });
});
