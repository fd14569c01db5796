// Signature references (ProcessSignature.same_as) over a real collector: resolved at ingest, so
// the classifier, the stored process rows and the API see the signature as if sent in full; a
// reference the collector cannot resolve is stored as signed, counted on /metrics, and the
// connection closed after the ack, so the agent reconnects and sends signatures in full.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { signatureDigest } from '../../agent/signature-refs.js';
import type { CompactWindow } from '../../collector/compact-window.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { CloseCode, type ISample } from '../../proto/codec.js';
import { tempDir, waitFor } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { RawAgent, type Closed } from '../helpers/rawagent.js';

const SECRET = 'test-enroll-secret-0123456789';
let collector: RunningCollector;
let tmp: ReturnType<typeof tempDir>;
let ingestUrl: string;

const closedWithin = (a: RawAgent, ms = 5000): Promise<Closed | null> => Promise.race([a.closed, new Promise<null>((r) => setTimeout(() => r(null), ms))]);
const metric = async (): Promise<number> => Number(/assay_signature_refs_unresolved_total (\d+)/.exec(await (await fetch(collector.url + '/metrics')).text())?.[1]);

before(async () => {
  tmp = tempDir();
  collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET });
  ingestUrl = collector.url.replace('http', 'ws') + '/ingest';
});

after(async () => {
  await collector.close();
  tmp.cleanup();
});

test('a reference is resolved at ingest: the classifier, the process rows and the API see the full signature', async () => {
  const t0 = Date.now() - 30_000;
  const a = await RawAgent.connect(ingestUrl);
  await a.hello(fullHello('sigref-a'), SECRET);
  // Five samples of one training process; its signature in full in the first.
  const first = Array.from({ length: 5 }, (_, i) => fullSample(t0 + i * 1000, 100));
  for (const s of first.slice(1)) delete s.processes![0]!.signature;
  assert.equal((await a.batch(1, first)).lastSeq, 5);
  const digest = signatureDigest(first[0]!.processes![0]!.signature!);
  // The host's window is built from the first batch before the second arrives: the second then
  // reaches the classifier only through the decode of its payload after the ack.
  await waitFor(() => collector.classifier.windowSize('sigref-a') === 5, 10_000, 'the first batch classified');
  // A new process (another pid) with the same signature, sent by reference, in the next batch.
  const second: ISample[] = Array.from({ length: 5 }, (_, i) => {
    const s = fullSample(t0 + (5 + i) * 1000, 100);
    s.processes!.push({ ...s.processes![0]!, pid: 300, signature: i === 0 ? { sameAs: digest } : null });
    delete s.processes![0]!.signature;
    return s;
  });
  const ack = await a.batch(6, second);
  assert.equal(ack.lastSeq, 10);
  assert.equal(await closedWithin(a, 300), null, 'every reference resolved: the connection stays open');
  assert.equal(await metric(), 0);
  // The stored process row is the signature it names.
  const rows = await collector.store.signaturesOf('sigref-a', ['300:123456789']);
  assert.equal(rows.get('300:123456789')!.cmdline, first[0]!.processes![0]!.signature!.cmdline);
  // Decoded back from the stored payload (what the API and a restart's window rebuild read).
  const back = await collector.store.samples('sigref-a', t0 + 5000, t0 + 5000, 10);
  assert.deepEqual(back[0]!.sample.processes!.find((p) => p.pid === 300)!.signature!.libs, first[0]!.processes![0]!.signature!.libs);
  // The classifier was handed the resolved signature (its window, fed off the ack path).
  await waitFor(() => collector.classifier.windowSize('sigref-a') === 10, 10_000, 'both batches classified');
  // What the window carries for the new process is the signature itself, not an empty one (the
  // carried signature overlays the stored row in the engine's view).
  const held = (collector.classifier as unknown as { hosts: Map<string, { window: CompactWindow }> }).hosts.get('sigref-a')!;
  const carried = held.window.samples().carried.get('300:123456789')!;
  assert.equal(carried.cmdline, first[0]!.processes![0]!.signature!.cmdline);
  assert.deepEqual(carried.libs, first[0]!.processes![0]!.signature!.libs);
  a.close();
});

test('a reference naming nothing stored is kept as signed, counted, and the agent is asked to reconnect', async () => {
  const t0 = Date.now() - 20_000;
  const a = await RawAgent.connect(ingestUrl);
  await a.hello(fullHello('sigref-b'), SECRET);
  const samples = Array.from({ length: 3 }, (_, i) => fullSample(t0 + i * 1000, 100 + i));
  samples[1]!.processes![0]!.signature = { sameAs: Buffer.alloc(32, 9) };
  const ack = await a.batch(1, samples);
  assert.equal(ack.lastSeq, 3, 'acked: the batch is stored as signed');
  const closed = await closedWithin(a);
  assert.equal(closed?.code, CloseCode.normal);
  assert.match(closed!.reason, /unresolved signature references/);
  assert.equal(await metric(), 1);
  assert.equal(collector.metrics.signatureRefsUnresolved, 1);
  const back = await collector.store.samples('sigref-b', t0, t0 + 3000, 10);
  assert.equal(back.length, 3);
  assert.equal(back[1]!.sample.processes![0]!.signature ?? null, null, 'that process has no signature');
  assert.equal(back[0]!.sample.processes![0]!.signature!.exe, '/usr/bin/python3.11');
  // The agent reconnects; its chain and sequence go on.
  const again = await RawAgent.connect(ingestUrl);
  again.keys = a.keys;
  again.head = a.head;
  const welcome = await again.hello(fullHello('sigref-b'));
  assert.equal(welcome.lastSeq, 3);
  assert.equal((await again.batch(4, [fullSample(t0 + 4000, 200)])).lastSeq, 4);
  again.close();
});

test('a reference that is not 32 bytes is refused as malformed, with nothing of the batch stored', async () => {
  const t0 = Date.now() - 10_000;
  for (const [i, field] of (['sameAs', 'envNamesAs', 'libsAs'] as const).entries()) {
    const id = `sigref-len-${i}`;
    const a = await RawAgent.connect(ingestUrl);
    await a.hello(fullHello(id), SECRET);
    assert.equal((await a.batch(1, [fullSample(t0, 100)])).lastSeq, 1);
    const samples = Array.from({ length: 3 }, (_, j) => fullSample(t0 + (1 + j) * 1000, 100));
    samples[2]!.processes![0]!.signature = { ...(field === 'sameAs' ? {} : samples[2]!.processes![0]!.signature), [field]: Buffer.alloc(31, 7) };
    a.sendBatch(a.build(2, samples));
    const closed = await closedWithin(a);
    assert.equal(closed?.code, CloseCode.invalid, `${field}: ${JSON.stringify(closed)}`);
    assert.match(closed!.reason, new RegExp(`sample 4: process \\d+ signature\\.${field} is 31 bytes, not a 32-byte SHA-256`));
    assert.equal((await collector.store.getHost(id))!.lastSeq, 1, 'the batch before stays, nothing of this one is stored');
  }
  assert.equal(collector.metrics.signatureRefsUnresolved, 1, 'counted as malformed, not as unresolved (the 1 is the test above)');
});
