// The ack path reads only what the stored rows need (collector/ingest/light-sample.ts) and leaves
// the full decode to classification, off the ack path. Checked here over real WebSockets and a real
// SQLite file: it still refuses what the full decoder would refuse (text that is not UTF-8 deep in
// a socket or process entry, delta runs pointing outside the lists), so nothing undecodable is
// ever acked; the rows it writes are the same as from full samples; and under a flood every host
// gets a verdict within a bounded time while classification stays coalesced (at most one turn
// per host per interval), with every acked sample in the database.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { summarize } from '../../collector/store/store.js';
import { storedSampleCount } from '../../collector/store/sample-figures.js';
import { signBytes } from '../../proto/chain.js';
import { CloseCode, assay, encodeSample, type ISample } from '../../proto/codec.js';
import { sealBatch } from '../../agent/batch.js';
import { tempDir } from '../helpers/env.js';
import { fullHello, fullSample, varint } from '../helpers/messages.js';
import { RawAgent, type Closed } from '../helpers/rawagent.js';

const SECRET = 'test-enroll-secret-0123456789';
let collector: RunningCollector;
let tmp: ReturnType<typeof tempDir>;
let url: string;
let read: Database.Database;
const EVERY_MS = 1000;

const closedWithin = (a: RawAgent, ms = 5000): Promise<Closed | null> => Promise.race([a.closed, new Promise<null>((r) => setTimeout(() => r(null), ms))]);
const rows = (id: string): number => storedSampleCount(read, id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  tmp = tempDir();
  const dbPath = join(tmp.dir, 'assay.db');
  collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath, enrollSecret: SECRET, classifier: { everyMs: EVERY_MS } });
  url = collector.url.replace('http', 'ws') + '/ingest';
  read = new Database(dbPath, { readonly: true });
});

after(async () => {
  read.close();
  await collector.close();
  tmp.cleanup();
});

/** `bytes` with the first occurrence of `text` (a length-prefixed string) made invalid UTF-8. */
function corrupt(bytes: Uint8Array, text: string): Uint8Array {
  const out = Buffer.from(bytes);
  const at = out.indexOf(Buffer.concat([Buffer.from([text.length]), Buffer.from(text)]));
  assert.ok(at >= 0, `${text} found in the encoded sample`);
  out[at + 1] = 0xff;
  out[at + 2] = 0xfe;
  return out;
}

/** Sends a correctly signed schema-3 batch of these exact sample bytes; returns how the connection ended. */
async function sendRaw(id: string, samples: Uint8Array[]): Promise<Closed | null> {
  const a = await RawAgent.connect(url);
  await a.hello(fullHello(id), SECRET);
  const sealed = sealBatch({ agentId: id, seqs: samples.map((_, i) => i + 1), samples, prevHash: new Uint8Array(), sealedMs: Date.now() }, (h) => signBytes(a.keys, h));
  a.sendBatch({ ...sealed, samples });
  return closedWithin(a);
}

test('text that is not UTF-8 in a socket or a process state, and delta runs outside the lists, are refused before the ack; nothing is stored', async () => {
  const now = Date.now();
  const badSocket = corrupt(encodeSample(fullSample(now)), 'ESTABLISHED');
  const s = fullSample(now);
  s.processes![0]!.state = 'RR';
  const badState = corrupt(encodeSample(s), 'RR');
  // A second sample copying 5 processes from a first one that has 1.
  const first = encodeSample(fullSample(now - 1000));
  const runs = encodeSample({ ...fullSample(now), processes: [], processRuns: [1, 5] });
  for (const [id, samples, reason] of [
    ['utf8-socket', [badSocket], /not valid UTF-8/],
    ['utf8-state', [badState], /not valid UTF-8/],
    ['runs-out', [first, runs], /beyond the 1 of the sample before/],
  ] as const) {
    const closed = await sendRaw(id, [...samples]);
    assert.ok(closed, `${id}: connection closed`);
    assert.equal(closed.code, CloseCode.invalid, `${id}: ${closed.reason}`);
    assert.match(closed.reason, reason, id);
    assert.equal(rows(id), 0, `${id}: nothing stored`);
  }
});

test('bytes the generated decoder refuses are refused before the ack even where the ack path skips the field: tag 0, an over-long tag, a group closed by another field, packed runs running past their length; nothing is stored', async () => {
  const now = Date.now();
  const full = Buffer.from(encodeSample(fullSample(now)));
  const bare = Buffer.from(encodeSample({ tsMs: now }));
  const proc = Buffer.concat([Buffer.from(assay.v1.Process.encode({ pid: 7, name: 'x' }).finish()), Buffer.from([0x00, 0x00])]);
  for (const [id, samples] of [
    // Field number 0 (tag byte 0x00), after the sample's fields and inside a process entry.
    ['tag0-sample', [Buffer.concat([full, Buffer.from([0x00, 0x00])])]],
    ['tag0-process', [Buffer.concat([bare, Buffer.from([0x4a, proc.length]), proc])]],
    // A tag varint of 6 bytes, and one above 2^32.
    ['tag-long', [Buffer.concat([full, Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00])])]],
    ['tag-big', [Buffer.concat([full, Buffer.from([0xf8, 0xff, 0xff, 0xff, 0x7f, 0x00])])]],
    // Group of field 31 closed by field 29's end tag.
    ['group-end', [Buffer.concat([full, Buffer.from([0xfb, 0x01, 0xec, 0x01])])]],
    // process_runs packed in 2 bytes whose second varint ends one byte after them: runs (0, 0).
    ['runs-spill', [full, Buffer.concat([bare, Buffer.from([0x7a, 0x02, 0x00, 0x80, 0x00])])]],
  ] as const) {
    assert.throws(() => samples.forEach((b) => assay.v1.Sample.decode(b)), `${id}: the generated decoder refuses it`);
    const closed = await sendRaw(id, [...samples]);
    assert.ok(closed, `${id}: connection closed before an ack`);
    assert.equal(closed.code, CloseCode.malformed, `${id}: ${closed.reason}`);
    assert.equal(rows(id), 0, `${id}: nothing stored`);
  }
});

test('the rows written from the ack path\'s reading are those of the full samples: figures, and each signature once', async () => {
  const a = await RawAgent.connect(url);
  await a.hello(fullHello('rows-1'), SECRET);
  const t0 = Date.now() - 30_000;
  const samples: ISample[] = Array.from({ length: 6 }, (_, i) => fullSample(t0 + i * 1000, 500 + (i % 2)));
  await a.batch(1, samples);
  // Read back through the store (chart figures are packed one row per batch: sample-figures.ts).
  const got = await collector.store.sampleSummaries('rows-1', t0 - 1000, t0 + 10_000, 100);
  assert.equal(got.length, 6);
  samples.forEach((s, i) => {
    const want = summarize(i + 1, assay.v1.Sample.decode(encodeSample(s)));
    assert.equal(got[i]!.seq, i + 1);
    assert.equal(got[i]!.tsMs, want.tsMs);
    assert.ok(Math.abs(got[i]!.cpuPct - want.cpuPct) < 1e-3);
    assert.equal(got[i]!.memUsedBytes, want.memUsedBytes);
    assert.ok(Math.abs(got[i]!.gpuUtilPct! - want.gpuUtilPct!) < 1e-3);
    assert.ok(Math.abs(got[i]!.powerWatts! - want.powerWatts!) < 1e-3);
    assert.equal(got[i]!.diskReadBytesPerSec, want.diskReadBytesPerSec);
    assert.equal(got[i]!.netTxBytesPerSec, want.netTxBytesPerSec);
  });
  // Two processes (pids 500 and 501) with signatures: one row each, decodable as sent.
  const sigs = await collector.store.signatures('rows-1');
  assert.deepEqual([...sigs.keys()].map((k) => k.split(':')[0]).sort(), ['500', '501']);
  for (const sig of sigs.values()) assert.deepEqual(sig.cmdline, samples[0]!.processes![0]!.signature!.cmdline);
  a.close();
});

test('a message field sent in two parts is merged as the generated decoder merges it: the chart figures and the stored signature are those of the full decode', async () => {
  const id = 'merged-1';
  const now = Date.now() - 5_000;
  const s = fullSample(now, 900);
  const sig = s.processes![0]!.signature!;
  const whole = assay.v1.Sample.encode({ ...s, cpu: null, processes: [] }).finish();
  // cpu as two field-2 entries (total in the first, user and system in the second), and process
  // 900's signature as two field-14 entries (cmdline and exe in the first, the rest in the second).
  const cpuA = assay.v1.Cpu.encode({ totalPct: 61.5 }).finish();
  const cpuB = assay.v1.Cpu.encode({ userPct: 40, systemPct: 21.5 }).finish();
  const sigA = assay.v1.ProcessSignature.encode({ cmdline: sig.cmdline, exe: sig.exe }).finish();
  const sigB = assay.v1.ProcessSignature.encode({ ...sig, cmdline: null, exe: null }).finish();
  const procHead = assay.v1.Process.encode({ ...s.processes![0]!, signature: null }).finish();
  const ld = (field: number, b: Uint8Array): Buffer => Buffer.concat([Buffer.from([(field << 3) | 2]), varint(b.length), Buffer.from(b)]);
  const proc = Buffer.concat([Buffer.from(procHead), ld(14, sigA), ld(14, sigB)]);
  const bytes = Buffer.concat([Buffer.from(whole), ld(2, cpuA), ld(2, cpuB), ld(9, proc)]);
  const full = assay.v1.Sample.decode(bytes);
  assert.equal(full.cpu!.totalPct, 61.5, 'the full decoder merges the two cpu entries');
  assert.equal(full.processes[0]!.signature!.cmdline, sig.cmdline, 'and the two signature entries');
  const a = await RawAgent.connect(url);
  await a.hello(fullHello(id), SECRET);
  const sealed = sealBatch({ agentId: id, seqs: [1], samples: [bytes], prevHash: new Uint8Array(), sealedMs: Date.now() }, (h) => signBytes(a.keys, h));
  a.sendBatch({ ...sealed, samples: [bytes] });
  assert.equal((await a.ack()).lastSeq, 1);
  const got = await collector.store.sampleSummaries(id, now - 1000, now + 1000, 10);
  assert.equal(got.length, 1);
  assert.ok(Math.abs(got[0]!.cpuPct - summarize(1, full).cpuPct) < 1e-3, `chart CPU ${got[0]!.cpuPct}, the full decode ${summarize(1, full).cpuPct}`);
  const stored = (await collector.store.signatures(id)).get(`900:${full.processes[0]!.startTimeTicks}`);
  assert.ok(stored, 'the signature is stored');
  assert.deepEqual(Buffer.from(assay.v1.ProcessSignature.encode(stored).finish()), Buffer.from(assay.v1.ProcessSignature.encode(full.processes[0]!.signature!).finish()), 'the stored signature is the merged one');
  a.close();
});

test('a flood from 30 agents: acks keep coming, every host gets a verdict within a bounded time, at most one classification turn per host per interval, every acked sample stored', async () => {
  const agents = await Promise.all(
    Array.from({ length: 30 }, async (_, i) => {
      const a = await RawAgent.connect(url);
      await a.hello(fullHello(`flood-${i}`), SECRET);
      return a;
    }),
  );
  const turns0 = collector.metrics.classify!.turns();
  const t0 = Date.now();
  const base = Date.now() - 150_000;
  let acked = 0;
  let worstAck = 0;
  // Each agent sends 25 batches of 4 samples back to back (bounded in count and, below, in time).
  await Promise.all(
    agents.map(async (a) => {
      for (let k = 0; k < 25 && Date.now() - t0 < 60_000; k++) {
        const sent = Date.now();
        const ack = await a.batch(1 + k * 4, Array.from({ length: 4 }, (_, i) => fullSample(base + (k * 4 + i) * 1000)));
        worstAck = Math.max(worstAck, Date.now() - sent);
        acked += ack.accepted ?? 0;
      }
    }),
  );
  const sentFor = Date.now() - t0;
  assert.equal(acked, 30 * 25 * 4);
  // Every host gets a verdict, at the latest a few intervals after its last batch (bounded wait).
  const deadline = Date.now() + 15_000;
  const pending = () => agents.filter((a) => collector.fleet.get(a.agentId)?.class == null).length;
  while (pending() > 0 && Date.now() < deadline) await sleep(50);
  assert.equal(pending(), 0, 'every host that sent has a verdict');
  const waited = Date.now() - t0 - sentFor;
  assert.ok(waited < 10_000, `verdicts came ${waited} ms after the flood`);
  // Coalesced: one turn per host at once, then at most one per interval (plus the last one after the flood).
  const turns = collector.metrics.classify!.turns() - turns0;
  const elapsed = Date.now() - t0;
  assert.ok(turns <= 30 * (Math.ceil(elapsed / EVERY_MS) + 2), `${turns} turns for 30 hosts in ${elapsed} ms`);
  assert.ok(turns < 30 * 25, `batches were coalesced (${turns} turns for ${30 * 25} batches)`);
  // Nothing acked is missing.
  for (const a of agents) assert.equal(rows(a.agentId), 100, `${a.agentId}: every acked sample stored`);
  assert.ok(worstAck < 10_000, `slowest ack ${worstAck} ms`);
  for (const a of agents) a.close();
});
