// `assay report` and `assay verify` as real processes, and GET /api/hosts/:id/report.
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCollector } from '../../collector/server.js';
import { signReport, signerOf } from '../../collector/report/sign.js';
import type { Report } from '../../collector/report/types.js';
import { verifyReportBytes } from '../../collector/report/verify-file.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { generateAgentKeys } from '../../proto/chain.js';
import { tempDir } from '../helpers/env.js';
import { runAssay } from '../helpers/proc.js';
import { S, T0, gappyHost, steadyHost } from './stored-period.js';

describe('assay report / verify on the command line, and the report route', () => {
  const tmp = tempDir('assay-report-cli-');
  const db = join(tmp.dir, 'assay.db');

  before(async () => {
    const store = new SqliteStore(db);
    await gappyHost(store);
    await steadyHost(store, 'trainer', 'ai-training', 600);
    await store.close();
  });
  after(() => tmp.cleanup());

  it('--host takes a hostname as well as an id; an unknown name lists the known hosts', async () => {
    const out = join(tmp.dir, 'byname.json');
    const r = await runAssay(['report', '--db', db, '--host', 'trainer.example', '--from', String(T0), '--to', String(T0 + 600 * S), '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
    assert.deepEqual(report.hosts.map((h) => h.input.identity.id), ['trainer']);
    const bad = await runAssay(['report', '--db', db, '--host', 'vm', '--from', String(T0), '--to', String(T0 + 600 * S)]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^assay: unknown host vm: known hosts: .*trainer\.example \(trainer\)/m);
  });

  it('writes JSON and HTML reports (ISO or Unix ms times) that verify; a changed figure fails with exit 1', async () => {
    const json = join(tmp.dir, 'r.json');
    const html = join(tmp.dir, 'r.html');
    const from = new Date(T0).toISOString();
    const r1 = await runAssay(['report', '--db', db, '--host', 'gappy', '--host', 'trainer', '--from', from, '--to', String(T0 + 600 * S), '--out', json]);
    assert.equal(r1.code, 0, r1.stderr);
    assert.match(r1.stderr, /^Non-AI work found: [0-9.]+ % AI, [0-9.]+ % non-AI, [0-9.]+ % doubtful non-AI, [0-9.]+ % idle\/general, coverage [0-9.]+ % \(hosts gappy, trainer, /m);
    assert.match(r1.stderr, /signed by collector key SHA256:/);
    assert.equal(statSync(join(tmp.dir, 'collector-key.pem')).mode & 0o777, 0o600);
    const r2 = await runAssay(['report', '--db', db, '--host', 'trainer', '--from', String(T0), '--to', String(T0 + 600 * S), '--out', html]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, /^AI-only: 100\.0 % AI, 0\.0 % non-AI, 0\.0 % doubtful non-AI, 0\.0 % idle\/general, coverage 100\.0 %/m);
    assert.match(readFileSync(html, 'utf8'), /^<!doctype html>/);

    const v1 = await runAssay(['verify', json]);
    assert.equal(v1.code, 0, v1.stdout);
    assert.match(v1.stdout, /^PASS/);
    const v2 = await runAssay(['verify', html]);
    assert.equal(v2.code, 0, v2.stdout);
    assert.match(v2.stdout, /ok {4}the HTML is byte for byte what the renderer makes/);
    assert.match(v1.stdout, /WARN {2}gappy: verdicts not re-derived: /);
    const page = readFileSync(html, 'utf8');
    const signer = /collector signature by (SHA256:\S+)/.exec(v2.stdout)![1]!;
    writeFileSync(html, page.replace(/Coverage: [0-9.]+ %/, 'Coverage: 100 %'));
    const v2b = await runAssay(['verify', html, '--key', signer]);
    assert.equal(v2b.code, 1, v2b.stdout);
    assert.match(v2b.stdout, /FAIL {2}the HTML is not what the renderer makes of its embedded report/);

    // A statement switched to "ai-only" and re-signed with another key: only the statement check catches it.
    const genuine = JSON.parse(readFileSync(json, 'utf8')) as Report;
    const forged: Report = JSON.parse(JSON.stringify(genuine));
    forged.statement = { ...forged.statement, verdict: 'ai-only', headline: forged.statement.headline.replace('Non-AI work found', 'AI-only'), reasons: [] };
    const { signature: _s, ...unsigned } = forged;
    const other = generateAgentKeys();
    const forgedFile = join(tmp.dir, 'forged.json');
    writeFileSync(forgedFile, JSON.stringify(signReport({ ...unsigned, signer: signerOf(other, 'collector') }, other)));
    const vf = await runAssay(['verify', forgedFile]);
    assert.equal(vf.code, 1, vf.stdout);
    assert.match(vf.stdout, /ok {4}collector signature by SHA256:/);
    assert.match(vf.stdout, /FAIL {2}statement does not follow from the data: statement\.headline: report says "AI-only: /);
    assert.match(vf.stdout, /FAIL {2}statement does not follow from the data: statement\.verdict: report says "ai-only", data gives "non-ai-found"/);
    assert.match(vf.stdout, /^statement: .*\(NOT verified\)$/m);
    assert.match(v1.stdout, /ok {4}statement follows from the data: Non-AI work found: /);

    const report = JSON.parse(readFileSync(json, 'utf8')) as { hosts: Array<{ derived: { coverage: { ratio: number } } }> };
    report.hosts[0]!.derived.coverage.ratio = 1;
    writeFileSync(json, JSON.stringify(report));
    const v3 = await runAssay(['verify', json]);
    assert.equal(v3.code, 1);
    assert.match(v3.stdout, /^FAIL/);
    assert.match(v3.stdout, /report signature does not verify/);
    assert.match(v3.stdout, /coverage\.ratio: report says 1, data gives 0\.866/);
  });

  it('GET /api/hosts/:id/report serves the signed JSON and the HTML page', async () => {
    const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: db, enrollSecret: 'report-route-test-secret' });
    try {
      const q = `from=${T0}&to=${new Date(T0 + 600 * S).toISOString()}`;
      const j = await fetch(`${c.url}/api/hosts/gappy/report?${q}`);
      assert.equal(j.status, 200);
      const body = (await j.json()) as { format: string; hosts: unknown[]; signer: { fingerprint: string } };
      assert.equal(body.format, 'assay-report/6');
      const h = await fetch(`${c.url}/api/hosts/gappy/report?${q}&format=html`);
      assert.equal(h.status, 200);
      assert.match(h.headers.get('content-type') ?? '', /text\/html/);
      const page = await h.text();
      assert.match(page, /id="assay-report"/);
      const checked = verifyReportBytes(Buffer.from(page, 'utf8'));
      assert.deepEqual(checked.failures, [], 'the HTML served by the route is exactly the rendering of its report');
      assert.equal((await fetch(`${c.url}/api/hosts/nobody/report`)).status, 404);
      assert.equal((await fetch(`${c.url}/api/hosts/gappy/report?from=yesterday-ish`)).status, 400);
    } finally {
      await c.close();
    }
  });
});
