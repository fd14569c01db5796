// Process signature rows keep the day a process was first seen (migration 13): retention cuts at
// the start of the raw window's first day, so a row goes at most a day late and never early, its
// signature blob stays while any row uses it, and a process still running keeps its row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { retentionOptions } from '../../collector/store/retention.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { sealBatch } from '../../agent/batch.js';
import { generateAgentKeys, signBytes } from '../../proto/chain.js';
import { encodeSample } from '../../proto/codec.js';
import { BatchEncoding } from '../../proto/payload.js';
import { tempDir } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';

const D = 86_400_000;
const H = 3_600_000;
const DAY0 = 20_776 * D;

test('signature rows go a day late at most, never early; a running process and its blob stay', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const store = new SqliteStore(join(tmp.dir, 'a.db'));
  t.after(() => store.close());
  await store.upsertHost(fullHello('d1'), DAY0);
  const keys = generateAgentKeys();
  let head: Uint8Array = new Uint8Array();
  let seq = 0;
  // One process per batch: 100 at 02:00 of day 0 (ends), 200 at 20:00 of day 0 (ends), 300 at
  // 10:00 of day 1 (runs on in every later batch), each with a signature of its own.
  const add = async (tsMs: number, pids: number[]): Promise<void> => {
    const s = fullSample(tsMs, pids[0]!);
    s.processes = pids.map((pid) => ({ ...s.processes![0]!, pid, signature: { ...s.processes![0]!.signature!, cmdline: `job ${pid}` } }));
    const samples = [{ seq: ++seq, sample: s }];
    // A real header: retention reads the newest batch for the processes still running.
    const sealed = sealBatch({ agentId: 'd1', seqs: [seq], samples: [encodeSample(s)], prevHash: head, sealedMs: tsMs, encoding: BatchEncoding.BATCH_ENCODING_DEFLATE }, (h) => signBytes(keys, h));
    const res = await store.appendBatch('d1', { hash: sealed.hash, prevHash: head, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples, gaps: [] }, tsMs + 100);
    assert.equal(res.status, 'stored');
    head = sealed.hash;
  };
  await add(DAY0 + 2 * H, [100]);
  await add(DAY0 + 20 * H, [200]);
  await add(DAY0 + D + 10 * H, [300]);
  const procs = ['100:123456789', '200:123456789', '300:123456789'];
  const present = async (): Promise<string[]> => [...(await store.signaturesOf('d1', procs)).keys()].sort();
  const round = async (nowMs: number, rawMs: number): Promise<void> => {
    await add(nowMs - 1000, [300]);
    for (let done = false, i = 0; !done && i < 1000; i++) done = (await store.retentionStep(retentionOptions({ rawMs, signatureSweepMs: H }), nowMs)).done;
  };
  // Raw window starting at 12:00 of day 0: 100 was first seen before it, but on the same day: kept.
  await round(DAY0 + 12 * H + 2 * D, 2 * D);
  assert.deepEqual(await present(), procs);
  // Starting at 06:00 of day 1: every row of day 0 goes (200 a day late at most); 300 runs on.
  await round(DAY0 + D + 6 * H + 2 * D, 2 * D);
  assert.deepEqual(await present(), ['300:123456789']);
  // Blobs: only the running process's is still used; the others went with their rows.
  for (let i = 0; i < 3; i++) await round(DAY0 + (4 + i) * D, 2 * D);
  const blobs = (store.db.prepare('SELECT signature FROM signature_blobs').all() as Array<{ signature: Buffer }>).length;
  assert.equal(blobs, 1);
  assert.equal((await store.signaturesOf('d1', ['300:123456789'])).get('300:123456789')!.cmdline, 'job 300');
});
