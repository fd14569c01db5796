// Pre-authentication limits of the ingest state machine, against a real collector on 127.0.0.1:
// idle TCP connections time out, connections stalled mid-frame before hello are terminated,
// frames before hello are small, one address holds a bounded number of unauthenticated
// connections, and a legitimate agent (from 127.0.0.2) enrolls and streams throughout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { CloseCode, assay, encodeAgentMessage } from '../../proto/codec.js';
import { signedBatchMessage } from '../../agent/batch.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import type { IngestLimits } from '../../collector/ingest.js';
import { tempDir, waitFor } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { RawAgent } from '../helpers/rawagent.js';
import { idleSocket, stalledFrame, type HeldSocket } from '../helpers/stalled.js';

const SECRET = 'states-test-enroll-secret-0123';

/** A collector with these limits; `held` sockets are destroyed before it is closed (a collector that never times them out would otherwise keep close() waiting). */
async function collectorWith(t: { after(fn: () => unknown): void }, limits: Partial<IngestLimits>): Promise<{ c: RunningCollector; url: string; held: HeldSocket[] }> {
  const tmp = tempDir();
  const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET, limits });
  const held: HeldSocket[] = [];
  t.after(async () => {
    for (const h of held) h.socket.destroy();
    await c.close();
    tmp.cleanup();
  });
  return { c, url: c.url.replace('http', 'ws') + '/ingest', held };
}

/** Enrolls a fresh agent from 127.0.0.2 and streams `batches` batches; returns the last seq acked. */
async function legitimateAgent(url: string, id: string, batches: number): Promise<number> {
  const a = await RawAgent.connect(url, '127.0.0.2');
  await a.hello(fullHello(id), SECRET);
  let last = 0;
  for (let i = 0; i < batches; i++) last = (await a.batch(1 + i * 2, [fullSample(Date.now() - 10_000 + i * 2000), fullSample(Date.now() - 9_000 + i * 2000)])).lastSeq!;
  a.close();
  return last;
}

/** How long each socket stayed open, or null for those still open after `ms`. */
const closedWithin = (held: HeldSocket[], ms: number): Promise<Array<number | null>> =>
  Promise.all(held.map((h) => Promise.race([h.closed, new Promise<null>((r) => setTimeout(() => r(null), ms))])));

test('200 idle TCP connections are closed after the idle timeout; an agent enrolls and streams meanwhile', async (t) => {
  const { c, url, held } = await collectorWith(t, { idleTimeoutMs: 1000, maxPreAuthPerAddress: 256 });
  for (let i = 0; i < 200; i++) held.push(await idleSocket(c.port));
  assert.equal(await legitimateAgent(url, 'legit-idle', 3), 6, 'the agent streamed while 200 idle sockets were open');
  const open = await closedWithin(held, 4000);
  assert.equal(open.filter((ms) => ms === null).length, 0, 'every idle socket was closed within 4 s');
  assert.ok(open.every((ms) => ms! >= 900), `closed by the timeout, not at once (shortest ${Math.min(...(open as number[]))} ms)`);
  const metrics = await (await fetch(c.url + '/metrics')).text();
  assert.match(metrics, /assay_ingest_rejects_total\{reason="idle_timeout"\} (1\d\d|200)\b/);
});

test('40 connections stalled mid-frame before hello are closed and terminated; an agent streams meanwhile', async (t) => {
  const { c, url, held } = await collectorWith(t, { helloTimeoutMs: 1000, closeGraceMs: 300, maxPreAuthPerAddress: 64 });
  for (let i = 0; i < 40; i++) {
    const s = await stalledFrame(c.port, 12_000, 6_000);
    assert.ok(s.upgraded, 'upgraded to a WebSocket');
    held.push(s);
  }
  assert.equal(await legitimateAgent(url, 'legit-stalled', 3), 6);
  // They never answer the close frame: only terminate() ends them (ws alone waits 30 s).
  const open = await closedWithin(held, 4000);
  assert.equal(open.filter((ms) => ms === null).length, 0, 'every stalled connection was gone within 4 s');
  const metrics = await (await fetch(c.url + '/metrics')).text();
  assert.match(metrics, /assay_ingest_rejects_total\{reason="hello_timeout"\} 40\b/);
});

test('before hello a frame may be 64 KiB at most; after hello the full frame limit applies', async (t) => {
  const { c, url } = await collectorWith(t, { maxFrameBytes: 1024 * 1024, preHelloMaxFrameBytes: 64 * 1024 });
  const early = await RawAgent.connect(url);
  early.send(new Uint8Array(100 * 1024));
  const closed = await Promise.race([early.closed, new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
  assert.equal(closed?.code, CloseCode.tooBig, 'a 100 KiB frame before hello is refused as too big');
  // The same size after authentication is an ordinary batch.
  const a = await RawAgent.connect(url);
  await a.hello(fullHello('big-after-hello'), SECRET);
  const big = [fullSample(Date.now() - 1000), fullSample(Date.now() - 500)];
  for (const s of big) s.processes![0]!.signature!.cmdline = 'z'.repeat(50 * 1024);
  // A v2 batch: its samples travel uncompressed (a payload would shrink the repeated 'z's).
  const b = a.build(1, big, { encoding: assay.v1.BatchEncoding.BATCH_ENCODING_SAMPLES });
  const frame = encodeAgentMessage({ batch: signedBatchMessage(b) });
  assert.ok(frame.length > 64 * 1024, `batch frame is ${frame.length} bytes`);
  a.sendBatch(b);
  assert.equal((await a.ack()).lastSeq, 2);
  a.close();
  const metrics = await (await fetch(c.url + '/metrics')).text();
  assert.match(metrics, /assay_ingest_rejects_total\{reason="frame_too_large"\} 1\b/);
});

test('one address holds at most maxPreAuthPerAddress unauthenticated connections; others are unaffected', async (t) => {
  const { c, url, held } = await collectorWith(t, { maxPreAuthPerAddress: 8, helloTimeoutMs: 10_000, idleTimeoutMs: 10_000 });
  const waiting: RawAgent[] = [];
  t.after(() => waiting.forEach((w) => w.ws.terminate()));
  for (let i = 0; i < 8; i++) waiting.push(await RawAgent.connect(url));
  // The ninth from the same address: refused at the TCP level, WebSocket or plain.
  await assert.rejects(RawAgent.connect(url), 'a ninth WebSocket from 127.0.0.1 is refused');
  const extra = await idleSocket(c.port);
  held.push(extra);
  assert.notEqual(await closedWithin([extra], 2000).then((r) => r[0]), null, 'a ninth idle socket is closed at once');
  // Another address is not affected.
  assert.equal(await legitimateAgent(url, 'other-address', 1), 2);
  // Saying hello frees the slot.
  await waiting[0]!.hello(fullHello('slot-freed'), SECRET);
  const again = await RawAgent.connect(url);
  again.close();
  for (const w of waiting) w.close();
  // Once they are gone the address may connect again (here: to read the metrics).
  const metrics = await waitFor(() => fetch(c.url + '/metrics').then((r) => r.text()), 5000, 'slots freed');
  assert.match(metrics, /assay_ingest_rejects_total\{reason="preauth_cap"\} [2-9]\b/);
});
