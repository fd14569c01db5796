// How verdicts are kept (verdict-codec.ts): form 1 (a preset dictionary) for new rows, and every
// older form still read back exactly, through the store's reads too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import type { Verdict } from '../../collector/engine/types.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { VERDICT_FORM_1, decodeVerdict, encodeVerdict } from '../../collector/store/verdict-codec.js';
import { VERDICT_DICTIONARY_1 } from '../../collector/store/verdict-dictionary.js';
import { sha256 } from '../../proto/chain.js';
import { tempDir } from '../helpers/env.js';

const verdict = (tsMs: number): Verdict => ({
  class: 'ai-training',
  confidence: 0.82,
  scores: { 'ai-training': 0.82, 'ai-inference': 0.1, 'chain-validation': 0, 'storage-proving': 0, 'pow-mining': 0, general: 0.05, idle: 0 },
  parts: [{ class: 'ai-training', share: 0.97, processes: [{ pid: 4242, name: 'python3' }] }],
  evidence: [
    { signal: 'host.load', value: 97.2, supports: 'general', weight: 0, detail: `host CPU mean 97.2% (p95 99%, CV 0.02) on 8 cores at ${tsMs}` },
    { signal: 'proc.share', value: 0.97, supports: 'ai-training', weight: 0, detail: "python3 (pid 4242) holds 97% of the host's busy CPU/GPU and scores ai-training 0.82", process: { pid: 4242, name: 'python3' } },
  ],
  window: { fromMs: tsMs - 120_000, toMs: tsMs, samples: 120 },
  unavailable: ['gpu', 'power.rapl'],
  rulesVersion: '2026.12.2',
});

test('the form-1 dictionary is frozen: rows stored with it inflate only with exactly these bytes', () => {
  assert.equal(sha256(Buffer.from(VERDICT_DICTIONARY_1, 'utf8')).toString('hex'), 'da8b801474a4b1d2f992a70a06ebb37d4e6eecf69d16d3009ee1ef3376a2ba5d');
});

test('a verdict is stored in form 1, smaller than form 0, and reads back equal; forms 0 and text still read', () => {
  const v = verdict(1_795_000_000_000);
  const json = JSON.stringify(v);
  const form1 = encodeVerdict(v);
  const form0 = deflateRawSync(Buffer.from(json), { level: 9 });
  assert.equal(form1[0], VERDICT_FORM_1);
  assert.notEqual(form0[0]! & 0b110, 0b110, 'no raw deflate stream starts with block type 3');
  assert.ok(form1.length < form0.length * 0.8, `form 1 ${form1.length} B, form 0 ${form0.length} B`);
  assert.deepEqual(decodeVerdict(form1), v);
  assert.deepEqual(decodeVerdict(form0), v);
  assert.deepEqual(decodeVerdict(json), v);
  // A damaged row is an error, not a wrong verdict.
  assert.throws(() => decodeVerdict(Buffer.concat([form1.subarray(0, 10), Buffer.alloc(10)])));
});

test('a store holding rows of every form reads them all back, in time order', async () => {
  const tmp = tempDir('assay-verdict-codec-');
  const store = new SqliteStore(join(tmp.dir, 'a.db'));
  try {
    const t0 = 1_795_000_000_000;
    await store.upsertHost({ agentId: 'v1', hostname: 'v1', agentVersion: '0' }, t0);
    const ins = store.db.prepare('INSERT INTO verdicts (host_id, ts_ms, class, confidence, verdict) VALUES (?, ?, ?, ?, ?)');
    ins.run('v1', t0 + 1000, 'ai-training', 0.82, JSON.stringify(verdict(t0 + 1000)));
    ins.run('v1', t0 + 2000, 'ai-training', 0.82, deflateRawSync(Buffer.from(JSON.stringify(verdict(t0 + 2000))), { level: 9 }));
    await store.putVerdict('v1', t0 + 3000, verdict(t0 + 3000));
    const stored = store.db.prepare('SELECT verdict FROM verdicts WHERE ts_ms = ?').get(t0 + 3000) as { verdict: Buffer };
    assert.equal(stored.verdict[0], VERDICT_FORM_1);
    const back = await store.verdicts('v1', t0, t0 + 10_000, 10);
    assert.deepEqual(back, [1000, 2000, 3000].map((d) => ({ tsMs: t0 + d, verdict: verdict(t0 + d) })));
    assert.deepEqual(await store.verdictBefore('v1', t0 + 2500), { tsMs: t0 + 2000, verdict: verdict(t0 + 2000) });
  } finally {
    await store.close();
    tmp.cleanup();
  }
});
