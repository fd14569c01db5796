import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { storedSampleCount } from '../../collector/store/sample-figures.js';
import { randomBytes } from 'node:crypto';
import { generateAgentKeys, helloSigningBytes, signBytes } from '../../proto/chain.js';
import { CloseCode, assay, encodeAgentMessage, encodeSample } from '../../proto/codec.js';
import { encodePayload, payloadSampleBytes } from '../../proto/payload.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { tempDir, waitFor } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { RawAgent, type Closed } from '../helpers/rawagent.js';

const SECRET = 'test-enroll-secret-0123456789';
let collector: RunningCollector;
let tmp: ReturnType<typeof tempDir>;
let ingestUrl: string;
let dbPath: string;

const samplesAt = (startMs: number, n: number) => Array.from({ length: n }, (_, i) => fullSample(startMs + i * 1000, 100 + i));
const query = <T>(sql: string, ...args: unknown[]): T[] => {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare(sql).all(...args) as T[];
  } finally {
    db.close();
  }
};
const countRows = (agentId: string): number => {
  const db = new Database(dbPath, { readonly: true });
  try {
    return storedSampleCount(db, agentId);
  } finally {
    db.close();
  }
};
const closedWithin = (a: RawAgent, ms = 5000): Promise<Closed | null> => Promise.race([a.closed, new Promise<null>((r) => setTimeout(() => r(null), ms))]);

/** An enrolled agent with `n` batches of 2 samples committed. */
async function enrolled(id: string, n = 0): Promise<RawAgent> {
  const a = await RawAgent.connect(ingestUrl);
  await a.hello(fullHello(id), SECRET);
  for (let i = 0; i < n; i++) await a.batch(1 + i * 2, samplesAt(Date.now() - 60_000 + i * 2000, 2));
  return a;
}

before(async () => {
  tmp = tempDir();
  dbPath = join(tmp.dir, 'assay.db');
  collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath, enrollSecret: SECRET, limits: { maxFrameBytes: 256 * 1024, maxBatchSamples: 50, helloTimeoutMs: 1500 } });
  ingestUrl = collector.url.replace('http', 'ws') + '/ingest';
});

after(async () => {
  await collector.close();
  tmp.cleanup();
});

test('a batch is stored, then acked; a resend of the chain head is acked as duplicates and stored once', async () => {
  const a = await RawAgent.connect(ingestUrl);
  const welcome = await a.hello(fullHello('good-1'), SECRET);
  assert.equal(welcome.lastSeq, 0);
  assert.equal(welcome.chainHead!.length, 0);
  const b1 = a.build(1, samplesAt(Date.now() - 10_000, 5));
  a.sendBatch(b1);
  const ack = await a.ack();
  assert.deepEqual({ lastSeq: ack.lastSeq, accepted: ack.accepted, duplicates: ack.duplicates }, { lastSeq: 5, accepted: 5, duplicates: 0 });
  assert.deepEqual(Buffer.from(ack.chainHead!), b1.hash, 'ack names the committed batch');
  assert.equal(countRows('good-1'), 5, 'acked samples are in the database file');
  // Exact bytes the agent signed are what is stored: the batch's payload, once, and from it the
  // very samples the agent took.
  const stored = query<{ payload: Buffer; encoding: number }>('SELECT payload, encoding FROM batches WHERE host_id = ? AND hash = ?', 'good-1', b1.hash)[0]!;
  assert.deepEqual(Buffer.from(stored.payload), Buffer.from(b1.payload));
  assert.equal(stored.encoding, assay.v1.BatchEncoding.BATCH_ENCODING_CHAINED_VALUES);
  assert.deepEqual(Buffer.from(payloadSampleBytes(stored.encoding, stored.payload)[2]!), Buffer.from(b1.samples[2]!));
  a.sendBatch(b1); // the ack was "lost": the agent resends the same bytes
  const again = await a.ack();
  assert.deepEqual({ accepted: again.accepted, duplicates: again.duplicates }, { accepted: 0, duplicates: 5 });
  assert.equal((await a.batch(6, samplesAt(Date.now() - 5_000, 2))).lastSeq, 7);
  assert.equal(countRows('good-1'), 7);
  a.close();
  // A reconnecting agent learns where to resume; it needs no enrollment proof any more.
  const b = await RawAgent.connect(ingestUrl);
  b.keys = a.keys;
  const w = await b.hello(fullHello('good-1'));
  assert.equal(w.lastSeq, 7);
  assert.deepEqual(Buffer.from(w.chainHead!), Buffer.from(a.head));
  b.close();
});

test('bad frames close only their connection with a clear reason; stored data and other agents are unaffected', async () => {
  const good = await enrolled('good-2', 1);
  const withBadName = (): Uint8Array => {
    const bytes = Buffer.from(encodeSample({ tsMs: Date.now(), processes: [{ pid: 1, name: 'AA' }] }));
    const at = bytes.indexOf(Buffer.from([0x02, 0x41, 0x41]));
    bytes[at + 1] = 0xff;
    bytes[at + 2] = 0xfe;
    return bytes;
  };
  const cases: Array<{ name: string; act: (a: RawAgent) => Promise<void> | void; code: number; reason: RegExp }> = [
    { name: 'garbage bytes', act: (a) => a.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f])), code: CloseCode.malformed, reason: /malformed/ },
    { name: 'truncated frame', act: (a) => a.send(encodeAgentMessage({ hello: a.signedHello(fullHello('x'), SECRET) }).subarray(0, 20)), code: CloseCode.malformed, reason: /malformed/ },
    { name: 'text frame', act: (a) => a.send('hello'), code: CloseCode.unexpectedMessage, reason: /text frames/ },
    { name: 'batch before hello', act: (a) => a.sendBatch(a.build(1, samplesAt(Date.now(), 1))), code: CloseCode.unexpectedMessage, reason: /before hello/ },
    { name: 'unknown message', act: (a) => a.send(assay.v1.AgentMessage.encode({ schemaVersion: 2 }).finish()), code: CloseCode.unexpectedMessage, reason: /no known message/ },
    { name: 'wrong schema version', act: (a) => a.send(assay.v1.AgentMessage.encode({ schemaVersion: 1, hello: fullHello('x') }).finish()), code: CloseCode.schemaVersion, reason: /schema_version 1/ },
    { name: 'bad agent id', act: (a) => a.send(encodeAgentMessage({ hello: a.signedHello(fullHello('bad id with spaces'), SECRET) })), code: CloseCode.invalid, reason: /agent_id/ },
    { name: 'agent clock an hour off', act: (a) => a.send(encodeAgentMessage({ hello: { ...a.signedHello(fullHello('skew-1'), SECRET), timeMs: Date.now() + 3_600_000 } })), code: CloseCode.invalid, reason: /off the collector's clock/ },
    {
      name: 'oversized frame (a 10 MB cmdline, v2 samples)',
      act: async (a) => {
        await a.hello(fullHello('big-1'), SECRET);
        const s = fullSample();
        s.processes![0]!.signature!.cmdline = 'x'.repeat(10 * 1024 * 1024);
        a.sendBatch(a.build(1, [s], { encoding: assay.v1.BatchEncoding.BATCH_ENCODING_SAMPLES }));
      },
      code: CloseCode.tooBig,
      reason: /.*/,
    },
    {
      // The same 10 MB deflates to 11 KB, well under the frame limit: a zip bomb, refused by the
      // bound on inflation (4 x the 256 KiB frame limit) before it is ever in memory whole.
      name: 'zip bomb (a 10 MB cmdline in an 11 KB signed payload)',
      act: async (a) => {
        await a.hello(fullHello('bomb-1'), SECRET);
        const s = fullSample();
        s.processes![0]!.signature!.cmdline = 'x'.repeat(10 * 1024 * 1024);
        a.sendBatch(a.build(1, [s]));
      },
      code: CloseCode.invalid,
      reason: /payload inflates to more than 1048576 bytes/,
    },
    {
      name: 'oversized field within the frame limit',
      act: async (a) => {
        await a.hello(fullHello('field-1'), SECRET);
        const s = fullSample();
        s.processes![0]!.signature!.cmdline = 'y'.repeat(100 * 1024);
        a.sendBatch(a.build(1, [s]));
      },
      code: CloseCode.invalid,
      reason: /cmdline is 102400 characters/,
    },
    {
      name: 'batch over the sample limit',
      act: async (a) => {
        await a.hello(fullHello('many-1'), SECRET);
        a.sendBatch(a.build(1, samplesAt(Date.now(), 51).map((s) => ({ tsMs: s.tsMs, cpu: s.cpu }))));
      },
      code: CloseCode.invalid,
      reason: /exceeds the limit of 50/,
    },
    { name: 'no hello in time', act: () => undefined, code: CloseCode.helloTimeout, reason: /no hello/ },
  ];
  for (const c of cases) {
    const bad = await RawAgent.connect(ingestUrl);
    await c.act(bad);
    const closed = await closedWithin(bad);
    assert.ok(closed, `${c.name}: connection was not closed`);
    assert.equal(closed.code, c.code, `${c.name}: close code (${closed.reason})`);
    assert.match(closed.reason, c.reason, `${c.name}: close reason`);
  }
  // Non-UTF-8 text inside a correctly signed sample.
  const u = await RawAgent.connect(ingestUrl);
  await u.hello(fullHello('utf8-1'), SECRET);
  const { sealBatch } = await import('../../agent/batch.js');
  const raw = withBadName();
  const sealed = sealBatch({ agentId: 'utf8-1', seqs: [1], samples: [raw], prevHash: new Uint8Array(), sealedMs: Date.now() }, (h) => signBytes(u.keys, h));
  u.sendBatch({ ...sealed, samples: [raw] });
  const uc = await closedWithin(u);
  assert.equal(uc?.code, CloseCode.invalid);
  assert.match(uc!.reason, /not valid UTF-8/);

  // Nothing from the bad frames was stored.
  for (const id of ['big-1', 'field-1', 'utf8-1', 'many-1']) assert.equal(countRows(id), 0, `${id} stored nothing`);
  // The good agent kept its data and keeps streaming on its still-open connection.
  assert.equal(countRows('good-2'), 2);
  assert.equal((await good.batch(3, samplesAt(Date.now() - 1_000, 2))).lastSeq, 4);
  assert.equal(countRows('good-2'), 4);
  good.close();

  const metrics = await (await fetch(collector.url + '/metrics')).text();
  for (const reason of ['malformed', 'text_frame', 'batch_before_hello', 'unknown_message', 'schema_version', 'bad_hello', 'clock_skew', 'frame_too_large', 'oversized_field', 'bad_utf8', 'batch_too_large', 'hello_timeout']) {
    assert.match(metrics, new RegExp(`assay_ingest_rejects_total\\{reason="${reason}"\\} [1-9]`), `metrics count reject ${reason}`);
  }
});

test('forged, replayed, spliced, reordered and tampered batches, unknown and revoked agents are refused and recorded', async () => {
  const expectRefused = async (a: RawAgent, code: number, reason: RegExp, what: string): Promise<void> => {
    const c = await closedWithin(a);
    assert.ok(c, `${what}: connection not closed`);
    assert.equal(c.code, code, `${what}: close code (${c.reason})`);
    assert.match(c.reason, reason, `${what}: reason`);
  };
  // Unknown agent: no proof, or a proof made with the wrong secret.
  let a = await RawAgent.connect(ingestUrl);
  a.send(encodeAgentMessage({ hello: a.signedHello(fullHello('stranger-1')) }));
  await expectRefused(a, CloseCode.forbidden, /not enrolled/, 'no enrollment proof');
  a = await RawAgent.connect(ingestUrl);
  a.send(encodeAgentMessage({ hello: a.signedHello(fullHello('stranger-2'), 'wrong-secret-wrong-secret') }));
  await expectRefused(a, CloseCode.forbidden, /not enrolled/, 'wrong secret');

  // A hello recorded on one connection does not authenticate another (challenge nonce).
  const victim = await enrolled('victim-1', 2);
  victim.close();
  a = await RawAgent.connect(ingestUrl);
  a.keys = victim.keys;
  // Signed over another connection's challenge, as a recorded hello would be.
  const replayedHello = { ...a.signedHello(fullHello('victim-1')), nonceSignature: signBytes(victim.keys, helloSigningBytes(randomBytes(32), 'victim-1', victim.keys.publicKey)) };
  a.send(encodeAgentMessage({ hello: replayedHello }));
  await expectRefused(a, CloseCode.forbidden, /hello signature/, 'replayed hello');

  // Someone else's key for an enrolled id.
  a = await RawAgent.connect(ingestUrl);
  a.send(encodeAgentMessage({ hello: a.signedHello(fullHello('victim-1'), SECRET) }));
  await expectRefused(a, CloseCode.forbidden, /different key/, 'key mismatch');

  const rowsBefore = countRows('victim-1');
  const resume = async (): Promise<RawAgent> => {
    const r = await RawAgent.connect(ingestUrl);
    r.keys = victim.keys;
    await r.hello(fullHello('victim-1'));
    return r;
  };
  // Forged: a batch signed with another key.
  a = await resume();
  a.sendBatch(a.build(10, samplesAt(Date.now(), 1), { keys: generateAgentKeys() }));
  await expectRefused(a, CloseCode.forbidden, /signature does not verify/, 'forged batch');
  // Tampered: one sample changed after signing (a v2 batch of samples, and a schema-3 payload).
  a = await resume();
  const t = a.build(10, samplesAt(Date.now(), 2), { encoding: assay.v1.BatchEncoding.BATCH_ENCODING_SAMPLES });
  t.samples[1] = encodeSample({ ...fullSample(Date.now()), cpu: { totalPct: 1 } });
  a.sendBatch(t);
  await expectRefused(a, CloseCode.integrity, /digest/, 'tampered sample');
  a = await resume();
  const tp = a.build(10, samplesAt(Date.now(), 2));
  tp.payload = encodePayload([t.samples[0]!, t.samples[1]!]);
  a.sendBatch(tp);
  await expectRefused(a, CloseCode.integrity, /digest/, 'tampered payload');
  // Spliced: prev_hash that is not the chain head.
  a = await resume();
  a.sendBatch(a.build(10, samplesAt(Date.now(), 1), { prevHash: Buffer.alloc(32, 7) }));
  await expectRefused(a, CloseCode.integrity, /hash chain/, 'spliced batch');
  // Reordered: batch n+2 before batch n+1.
  a = await resume();
  a.build(10, samplesAt(Date.now(), 1));
  const later = a.build(11, samplesAt(Date.now(), 1));
  a.sendBatch(later);
  await expectRefused(a, CloseCode.integrity, /hash chain/, 'reordered batch');
  // Replayed: an older batch of the chain sent again.
  a = await resume();
  const b1 = a.build(10, samplesAt(Date.now() - 3000, 1));
  a.sendBatch(b1);
  await a.ack();
  a.sendBatch(a.build(11, samplesAt(Date.now() - 2000, 1)));
  await a.ack();
  a.sendBatch(b1);
  await expectRefused(a, CloseCode.integrity, /already committed/, 'replayed batch');
  assert.equal(countRows('victim-1'), rowsBefore + 2, 'only the two genuine batches were stored');

  // Revoked: refused at the next batch of a live connection, and at every hello after.
  a = await resume();
  await collector.store.revokeAgent('victim-1', Date.now());
  a.sendBatch(a.build(12, samplesAt(Date.now(), 1)));
  await expectRefused(a, CloseCode.forbidden, /revoked/, 'revoked, connected');
  a = await RawAgent.connect(ingestUrl);
  a.keys = victim.keys;
  a.send(encodeAgentMessage({ hello: a.signedHello(fullHello('victim-1')) }));
  await expectRefused(a, CloseCode.forbidden, /revoked/, 'revoked, reconnecting');
  assert.equal(countRows('victim-1'), rowsBefore + 2);

  const events = await collector.store.securityEvents(100);
  for (const reason of ['unknown_agent', 'bad_hello_signature', 'key_mismatch', 'bad_signature', 'digest_mismatch', 'chain_break', 'replayed', 'revoked']) {
    assert.ok(events.some((e) => e.reason === reason), `security event recorded: ${reason}`);
  }
});

test('the API serves hosts, samples and verdicts of stored data', async () => {
  const a = await RawAgent.connect(ingestUrl);
  await a.hello(fullHello('api-1'), SECRET);
  const t0 = Date.now() - 30_000;
  await a.batch(1, samplesAt(t0, 20));
  a.close();
  const hosts = (await (await fetch(collector.url + '/api/hosts')).json()) as { hosts: Array<{ id: string; hostname: string; trend: { cpuPct: number[] } }> };
  const h = hosts.hosts.find((x) => x.id === 'api-1');
  assert.ok(h, 'host listed');
  assert.equal(h.hostname, 'gpu-node-07');
  assert.ok(h.trend.cpuPct.length > 0 && h.trend.cpuPct.every((v) => Math.abs(v - 87.5) < 1e-6));
  const detail = await waitFor(async () => {
    const d = (await (await fetch(collector.url + '/api/hosts/api-1')).json()) as { verdict: { class: string; evidence: unknown[] } | null; inventory: { cpuModel: string } };
    return d.verdict ? d : null;
  }, 10_000, 'a verdict');
  assert.equal(detail.inventory.cpuModel, 'AMD EPYC 7763 64-Core Processor');
  assert.ok(detail.verdict!.evidence.length > 0, 'verdict has evidence');
  const samples = (await (await fetch(`${collector.url}/api/hosts/api-1/samples?from=${t0}&to=${t0 + 9_500}`)).json()) as { samples: Array<{ seq: number; cpuPct: number; powerWatts: number; gpuUtilPct: number }> };
  assert.deepEqual(samples.samples.map((s) => s.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(samples.samples[0]!.gpuUtilPct, 97);
  assert.ok(Math.abs(samples.samples[0]!.powerWatts - (210.5 + 612.5)) < 1e-3, 'power sums RAPL package and GPU board power');
  const verdicts = (await (await fetch(`${collector.url}/api/hosts/api-1/verdicts?from=0`)).json()) as { verdicts: Array<{ class: string }> };
  assert.ok(verdicts.verdicts.length >= 1);
  assert.equal((await fetch(collector.url + '/api/hosts/nope')).status, 404);
  assert.equal((await fetch(collector.url + '/api/hosts/api-1/samples?from=abc')).status, 400);
});
