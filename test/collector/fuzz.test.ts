// Thousands of random, mutated and truncated frames against a live collector (bounded in count
// and time, all on 127.0.0.1): it stays up, stores nothing from them, and a good agent keeps
// streaming throughout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { storedSeqs } from '../../collector/store/sample-figures.js';
import { startAgent } from '../../agent/agent.js';
import { startCollector } from '../../collector/server.js';
import { encodeAgentMessage } from '../../proto/codec.js';
import { signedBatchMessage } from '../../agent/batch.js';
import { tempDir, waitFor } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { RawAgent } from '../helpers/rawagent.js';
import { rng } from '../engine/build-window.js';

const SECRET = 'fuzz-test-enroll-secret';
const MAX_FRAMES = 3000;
const MAX_MS = 60_000;

function mutate(bytes: Uint8Array, rnd: () => number): Uint8Array {
  const out = Array.from(bytes);
  const edits = 1 + Math.floor(rnd() * 6);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rnd() * Math.max(1, out.length));
    const op = rnd();
    if (op < 0.6) out[at] = (out[at] ?? 0) ^ (1 << Math.floor(rnd() * 8));
    else if (op < 0.8) out.splice(at, 1);
    else out.splice(at, 0, Math.floor(rnd() * 256));
  }
  return Uint8Array.from(out);
}

test('fuzzed frames: the collector stays up, stores nothing from them, good agents keep streaming', async (t) => {
  const seed = Number(process.env.ASSAY_FUZZ_SEED ?? 20261124);
  const rnd = rng(seed); // seeded, so a failure can be replayed
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const dbPath = join(tmp.dir, 'assay.db');
  const collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath, enrollSecret: SECRET, limits: { helloTimeoutMs: 2000, maxBatchSamples: 100 } });
  t.after(() => collector.close());
  const url = collector.url.replace('http', 'ws') + '/ingest';
  const good = await startAgent({ collectorUrl: url, intervalMs: 100, batchIntervalMs: 200, stateDir: join(tmp.dir, 'good'), enrollSecret: SECRET });
  t.after(() => good.stop());
  await waitFor(() => good.link.ackedSeq >= 5, 15_000, 'good agent streaming');
  const ackedBefore = good.link.ackedSeq;

  let frames = 0;
  const started = Date.now();
  while (frames < MAX_FRAMES && Date.now() - started < MAX_MS) {
    const a = await RawAgent.connect(url);
    const kind = rnd();
    const id = `fuzz-${Math.floor(rnd() * 1e9)}`;
    const helloFrame = encodeAgentMessage({ hello: a.signedHello(fullHello(id), SECRET) });
    if (kind < 0.5) {
      // Garbage or a mutated/truncated hello as the first frame.
      for (let i = 0; i < 1 + Math.floor(rnd() * 4) && frames < MAX_FRAMES; i++, frames++) {
        const r = rnd();
        if (r < 0.3) a.send(Uint8Array.from({ length: Math.floor(rnd() * 2000) }, () => Math.floor(rnd() * 256)));
        else if (r < 0.6) a.send(helloFrame.subarray(0, Math.floor(rnd() * helloFrame.length)));
        else a.send(mutate(helloFrame, rnd));
      }
    } else {
      // A mutated signed batch from an agent that has just enrolled.
      a.send(helloFrame);
      frames++;
      const ok = await a.next(3000).then((m) => m.body === 'welcome').catch(() => false);
      if (ok) {
        const b = a.build(1, [fullSample(Date.now(), 1), fullSample(Date.now() + 1, 2)]);
        const frame = encodeAgentMessage({ batch: signedBatchMessage(b) });
        for (let i = 0; i < 1 + Math.floor(rnd() * 3) && frames < MAX_FRAMES; i++, frames++) {
          a.send(rnd() < 0.2 ? frame.subarray(0, Math.floor(rnd() * frame.length)) : mutate(frame, rnd));
        }
      }
    }
    await Promise.race([a.closed, new Promise((r) => setTimeout(r, 50))]);
    a.ws.terminate();
  }
  assert.ok(frames >= 1000, `sent ${frames} fuzz frames (seed ${seed})`);

  assert.ok((await fetch(collector.url + '/healthz')).ok, 'collector still answers');
  await waitFor(() => good.link.ackedSeq > ackedBefore + 20, 15_000, 'good agent still streaming');
  const db = new Database(dbPath, { readonly: true });
  t.after(() => db.close());
  const fuzzRows = db.prepare("SELECT COALESCE(SUM(f.n), 0) AS n FROM sample_figures f JOIN rollup_hosts k ON k.host_key = f.host_key WHERE k.host_id LIKE 'fuzz-%'").get() as { n: number };
  assert.equal(fuzzRows.n, 0, `nothing stored from fuzzed frames (seed ${seed})`);
  const goodSeqs = storedSeqs(db, good.agentId);
  assert.deepEqual(goodSeqs, Array.from({ length: goodSeqs.length }, (_, i) => i + 1), 'the good agent lost nothing');
  const metrics = await (await fetch(collector.url + '/metrics')).text();
  assert.match(metrics, /assay_ingest_rejects_total\{reason="malformed"\} [1-9]/);
});
